//! Server selection: the balance algorithms run against a backend's live
//! state (which servers are usable, their current load).
pub mod hash;

use crate::model::{Backend, Server};
use cfg_parser::ast::Balance;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Mutex;

/// A server's live state, shared by all threads.
#[derive(Debug)]
pub struct ServerState {
    /// Connections currently using the server.
    pub active: AtomicU32,
    /// Usable (not disabled, not marked down by health checks).
    pub up: AtomicBool,
}

/// A backend's live state.
#[derive(Debug)]
pub struct BackendState {
    pub servers: Vec<ServerState>,
    rr: Mutex<SmoothRr>,
    /// Woken each time a server slot frees: requests waiting because every
    /// server is at its `maxconn` wait here (HAProxy's backend queue).
    queue: tokio::sync::Notify,
}

/// A place on a server (one of its `maxconn`), released on drop.
pub struct Slot<'a> {
    state: &'a BackendState,
    pub server: usize,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.state.servers[self.server]
            .active
            .fetch_sub(1, Ordering::AcqRel);
        self.state.queue.notify_one();
    }
}

/// Weighted round robin state: each pick adds every usable server's weight
/// to its credit and takes the one with the most, which then pays the total.
#[derive(Debug, Default)]
struct SmoothRr {
    credit: Vec<i64>,
}

impl BackendState {
    pub fn new(be: &Backend) -> BackendState {
        BackendState {
            servers: be
                .servers
                .iter()
                .map(|s| ServerState {
                    active: AtomicU32::new(0),
                    up: AtomicBool::new(!s.disabled),
                })
                .collect(),
            rr: Mutex::new(SmoothRr {
                credit: vec![0; be.servers.len()],
            }),
            queue: tokio::sync::Notify::new(),
        }
    }

    /// Usable servers: the active ones, or the backups when no active one is
    /// usable (all backups with `option allbackups`, else the first).
    /// Server `i` is at its `maxconn`.
    fn full(&self, be: &Backend, i: usize) -> bool {
        be.servers[i]
            .maxconn
            .is_some_and(|m| self.servers[i].active.load(Ordering::Acquire) >= m)
    }

    /// Takes a slot on server `i` unless it is full.
    fn take(&self, be: &Backend, i: usize) -> Option<Slot<'_>> {
        let now = self.servers[i].active.fetch_add(1, Ordering::AcqRel) + 1;
        let slot = Slot {
            state: self,
            server: i,
        };
        match be.servers[i].maxconn {
            Some(m) if now > m => None, // dropping `slot` gives the place back
            _ => Some(slot),
        }
    }

    /// A slot on the server the algorithm picks among those not full; when
    /// every usable server is full, waits for a slot until `deadline`
    /// (`timeout queue`). None: no server, or the wait expired.
    pub async fn acquire(
        &self,
        be: &Backend,
        key: Option<u32>,
        preferred: Option<usize>,
        deadline: Option<tokio::time::Instant>,
    ) -> Option<Slot<'_>> {
        if let Some(slot) = preferred.and_then(|i| self.take(be, i)) {
            return Some(slot);
        }
        loop {
            let notified = self.queue.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            match self.pick_except(be, key, None) {
                Some(i) => match self.take(be, i) {
                    Some(slot) => return Some(slot),
                    None => continue,
                },
                None if self.candidates_all(be).is_empty() => return None,
                None => match deadline {
                    Some(d) => tokio::time::timeout_at(d, notified).await.ok()?,
                    None => notified.await,
                },
            }
        }
    }

    /// A slot on another server than `exclude`, without waiting (redispatch).
    pub fn acquire_other(&self, be: &Backend, exclude: usize) -> Option<Slot<'_>> {
        self.pick_except(be, None, Some(exclude))
            .and_then(|i| self.take(be, i))
    }

    /// Usable servers, full or not.
    fn candidates_all(&self, be: &Backend) -> Vec<usize> {
        (0..be.servers.len())
            .filter(|i| self.servers[*i].up.load(Ordering::Relaxed) && be.servers[*i].weight > 0)
            .collect()
    }

    fn candidates(&self, be: &Backend, exclude: Option<usize>) -> Vec<usize> {
        let mut c = self.candidates_usable(be, exclude);
        c.retain(|i| !self.full(be, *i));
        c
    }

    fn candidates_usable(&self, be: &Backend, exclude: Option<usize>) -> Vec<usize> {
        let usable = |i: &usize| {
            Some(*i) != exclude
                && self.servers[*i].up.load(Ordering::Relaxed)
                && be.servers[*i].weight > 0
        };
        let primary: Vec<usize> = (0..be.servers.len())
            .filter(|i| !be.servers[*i].backup)
            .filter(usable)
            .collect();
        if !primary.is_empty() {
            return primary;
        }
        let backups: Vec<usize> = (0..be.servers.len())
            .filter(|i| be.servers[*i].backup)
            .filter(usable)
            .collect();
        if be.options.has("allbackups") {
            backups
        } else {
            backups.into_iter().take(1).collect()
        }
    }

    /// Picks a server for a request; `key` is the hashed input for the hash
    /// based algorithms (source address, URI, parameter, header).
    pub fn pick(&self, be: &Backend, key: Option<u32>) -> Option<usize> {
        self.pick_except(be, key, None)
    }

    /// Like `pick`, avoiding server `exclude` (a redispatch after failures).
    pub fn pick_except(
        &self,
        be: &Backend,
        key: Option<u32>,
        exclude: Option<usize>,
    ) -> Option<usize> {
        let cands = self.candidates(be, exclude);
        if cands.is_empty() {
            return None;
        }
        let full = |i: &usize| {
            be.servers[*i]
                .maxconn
                .is_some_and(|m| self.servers[*i].active.load(Ordering::Relaxed) >= m)
        };
        match &be.balance {
            Balance::LeastConn => cands.iter().copied().filter(|i| !full(i)).min_by_key(|i| {
                let s = &be.servers[*i];
                (self.servers[*i].active.load(Ordering::Relaxed) as u64 * 256)
                    / s.weight.max(1) as u64
            }),
            Balance::First => cands.iter().copied().find(|i| !full(i)),
            Balance::Source
            | Balance::Uri { .. }
            | Balance::UrlParam { .. }
            | Balance::Hdr { .. }
            | Balance::Hash { .. }
            | Balance::RdpCookie { .. } => match key {
                Some(h) => Some(weighted_slot(&cands, &be.servers, h)),
                None => self.round_robin(be, &cands),
            },
            Balance::Random { .. } => Some(weighted_slot(&cands, &be.servers, random())),
            Balance::RoundRobin | Balance::StaticRr => self.round_robin(be, &cands),
        }
    }

    fn round_robin(&self, be: &Backend, cands: &[usize]) -> Option<usize> {
        let mut rr = self.rr.lock().unwrap_or_else(|e| e.into_inner());
        let total: i64 = cands.iter().map(|i| be.servers[*i].weight as i64).sum();
        let mut best: Option<usize> = None;
        for &i in cands {
            rr.credit[i] += be.servers[i].weight as i64;
            if best.is_none_or(|b| rr.credit[i] > rr.credit[b]) {
                best = Some(i);
            }
        }
        if let Some(b) = best {
            rr.credit[b] -= total;
        }
        best
    }
}

/// The server owning slot `h % total_weight` in the weighted server table
/// (HAProxy's map-based hashing).
fn weighted_slot(cands: &[usize], servers: &[Server], h: u32) -> usize {
    let total: u64 = cands.iter().map(|i| servers[*i].weight as u64).sum();
    let mut slot = h as u64 % total.max(1);
    for &i in cands {
        let w = servers[i].weight as u64;
        if slot < w {
            return i;
        }
        slot -= w;
    }
    cands[0]
}

fn random() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64),
    );
    h.finish() as u32
}
