//! The streams alive in this worker, for `show sess`, `shutdown session`
//! and `shutdown sessions server`. Each connection registers once, in the
//! shard of the thread that accepted it (an uncontended lock per
//! connection, never per request), and can be told to stop.
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Nothing chosen yet (backend or server).
pub const NONE: usize = usize::MAX;

/// One client connection (a stream, or a keep-alive series of them).
#[derive(Debug)]
pub struct SessInfo {
    pub id: u64,
    /// Its frontend (NONE: the stats socket, shown as `GLOBAL`).
    pub frontend: usize,
    /// `tcpv4`, `tcpv6` or `unix_stream`, and the client's address.
    pub proto: &'static str,
    pub src: String,
    /// When it was accepted (`now_ms`).
    pub started: u64,
    /// Its current backend and server (indexes), NONE until chosen.
    pub backend: AtomicUsize,
    pub server: AtomicUsize,
    /// Requests served so far.
    pub calls: AtomicU64,
    /// Woken by `shutdown session(s)`.
    pub kill: tokio::sync::Notify,
    shard: usize,
}

impl SessInfo {
    /// The stream now uses this backend and server (NONE: none).
    pub fn target(&self, backend: usize, server: usize) {
        self.backend.store(backend, Ordering::Relaxed);
        self.server.store(server, Ordering::Relaxed);
    }
}

/// All registered connections.
#[derive(Debug)]
pub struct Registry {
    shards: Vec<Mutex<HashMap<u64, Arc<SessInfo>>>>,
    next: AtomicU64,
}

/// Removes its connection from the registry when dropped.
pub struct Registered<'a> {
    reg: &'a Registry,
    pub info: Arc<SessInfo>,
}

impl Drop for Registered<'_> {
    fn drop(&mut self) {
        let shard = &self.reg.shards[self.info.shard];
        shard
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.info.id);
    }
}

impl Registry {
    pub fn new(shards: usize) -> Registry {
        Registry {
            shards: (0..shards.max(1))
                .map(|_| Mutex::new(HashMap::new()))
                .collect(),
            next: AtomicU64::new(1),
        }
    }

    pub fn register(&self, frontend: usize, src: Option<SocketAddr>) -> Registered<'_> {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let shard = super::counters::my_shard() % self.shards.len();
        let info = Arc::new(SessInfo {
            id,
            frontend,
            proto: match src {
                Some(SocketAddr::V4(_)) => "tcpv4",
                Some(SocketAddr::V6(_)) => "tcpv6",
                None => "unix_stream",
            },
            src: src.map_or_else(|| "unix".to_string(), |a| a.to_string()),
            started: super::counters::now_ms(),
            backend: AtomicUsize::new(NONE),
            server: AtomicUsize::new(NONE),
            calls: AtomicU64::new(0),
            kill: tokio::sync::Notify::new(),
            shard,
        });
        self.shards[shard]
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, info.clone());
        Registered { reg: self, info }
    }

    /// Every registered connection, oldest first.
    pub fn all(&self) -> Vec<Arc<SessInfo>> {
        let mut v: Vec<Arc<SessInfo>> = self
            .shards
            .iter()
            .flat_map(|s| {
                s.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .values()
                    .cloned()
                    .collect::<Vec<_>>()
            })
            .collect();
        v.sort_by_key(|s| s.id);
        v
    }

    /// Tells connection `id` to stop; false if there is none.
    pub fn kill(&self, id: u64) -> bool {
        match self.all().into_iter().find(|s| s.id == id) {
            Some(s) => {
                s.kill.notify_one();
                true
            }
            None => false,
        }
    }

    /// Tells every connection using server `srv` of backend `be` to stop.
    pub fn kill_server(&self, be: usize, srv: usize) {
        for s in self.all() {
            if s.backend.load(Ordering::Relaxed) == be && s.server.load(Ordering::Relaxed) == srv {
                s.kill.notify_one();
            }
        }
    }
}
