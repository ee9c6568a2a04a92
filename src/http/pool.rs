//! Idle server connections shared between client connections, as HAProxy's
//! `http-reuse safe` (its default): a connection that finished a response
//! cleanly waits here, and a later request to the same server may take it
//! (never the first request of a client connection, which gets its own).
use super::io::Conn;
use std::sync::Mutex;

/// At most this many idle connections are kept per server.
const MAX_IDLE_PER_SERVER: usize = 64;

/// How a backend shares its idle server connections (`http-reuse`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reuse {
    /// Only the client connection that opened it reuses a connection.
    Never,
    /// Shared, but the first request of a client connection opens its own.
    Safe,
    /// Shared, even for first requests.
    Always,
}

impl Reuse {
    pub fn from_word(w: &str) -> Reuse {
        match w {
            "never" => Reuse::Never,
            "aggressive" | "always" => Reuse::Always,
            _ => Reuse::Safe,
        }
    }
}

/// One backend's idle connections, per server.
pub struct IdlePool {
    servers: Vec<Mutex<Vec<Conn>>>,
}

impl IdlePool {
    pub fn new(servers: usize) -> IdlePool {
        IdlePool {
            servers: (0..servers).map(|_| Mutex::new(Vec::new())).collect(),
        }
    }

    /// The most recently parked connection to `server` that is still open.
    pub fn take(&self, server: usize) -> Option<Conn> {
        let mut idle = self
            .servers
            .get(server)?
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        while let Some(c) = idle.pop() {
            if still_open(&c) {
                return Some(c);
            }
        }
        None
    }

    /// Idle connections parked for `server` (`srv_icur`).
    pub fn idle_for(&self, server: usize) -> usize {
        self.servers
            .get(server)
            .map_or(0, |s| s.lock().unwrap_or_else(|e| e.into_inner()).len())
    }

    /// Idle connections parked for all servers.
    pub fn idle(&self) -> usize {
        (0..self.servers.len()).map(|s| self.idle_for(s)).sum()
    }

    /// Parks a connection that can carry another request.
    pub fn put(&self, server: usize, conn: Conn) {
        if let Some(slot) = self.servers.get(server) {
            let mut idle = slot.lock().unwrap_or_else(|e| e.into_inner());
            if idle.len() < MAX_IDLE_PER_SERVER && conn.buf.is_empty() {
                idle.push(conn);
            }
        }
    }
}

/// An idle connection must have nothing to read: a close or stray bytes
/// from the server mean it cannot be used.
fn still_open(c: &Conn) -> bool {
    let mut probe = [0u8; 1];
    matches!(c.io.try_read(&mut probe), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
}
