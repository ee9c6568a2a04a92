//! Server selection: the balance algorithms run against a backend's live
//! state (which servers are usable, their current load).
pub mod chash;
pub mod fwrr;
pub mod hash;

use crate::model::Backend;
use cfg_parser::ast::Balance;
use chash::Chash;
use fwrr::{Fwrr, StaticRr};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Mutex;

/// A server's live state, shared by all threads.
#[derive(Debug)]
pub struct ServerState {
    /// Connections currently using the server.
    pub active: AtomicU32,
    /// Operationally up (health checks would mark it down). Maintenance,
    /// drain and weights are in `admin`; `usable()` combines them.
    pub up: AtomicBool,
    /// The operator's state: maintenance, drain, weight, address.
    pub admin: crate::stats::admin::ServerAdmin,
    /// When its load last changed: leastconn breaks ties in favour of the
    /// server whose load changed least recently, as HAProxy's tree does
    /// (a server re-inserted at a key goes after those already there).
    pub requeued: AtomicU64,
    /// `maxconn` (None: unlimited) and `minconn` (`maxconn` without one),
    /// as the config compiled them.
    maxconn: Option<u32>,
    minconn: u32,
}

/// A backend's live state.
#[derive(Debug)]
pub struct BackendState {
    pub servers: Vec<ServerState>,
    /// The rotation of roundrobin/static-rr, and the weight map of the hash
    /// algorithms, in HAProxy's exact order.
    order: Mutex<Ordered>,
    /// Woken each time a server slot frees: requests waiting because every
    /// server is at its `maxconn` wait here (HAProxy's backend queue).
    queue: tokio::sync::Notify,
    /// Source of `requeued` stamps.
    clock: AtomicU64,
    /// The backend's `fullconn` (set or computed); 0 when unknown, which
    /// makes every limit static.
    fullconn: u32,
    /// Requests inside `acquire` that hold no slot yet (HAProxy's queued
    /// streams, plus the one being placed).
    waiting: AtomicU32,
    /// Those of them waiting for a release (HAProxy's backend queue).
    queued: AtomicU32,
    /// Some server has a dynamic limit (`minconn` below `maxconn`, with a
    /// `fullconn`): its limit follows the backend's load.
    dynamic: bool,
    queued_max: AtomicU32,
}

impl ServerState {
    /// Up and not in maintenance: it may take traffic (a draining server
    /// only from persistent clients).
    pub fn usable(&self) -> bool {
        self.up.load(Ordering::Relaxed) && !self.admin.maint()
    }

    /// Usable with a weight the balancer may pick it for.
    pub fn balanced(&self) -> bool {
        self.usable() && self.admin.lb_weight() > 0
    }
}

impl BackendState {
    /// Requests waiting for a server slot (`%bq`, `qcur`).
    pub fn queued(&self) -> u32 {
        self.queued.load(Ordering::Relaxed)
    }

    /// The most requests that waited at once (`qmax`).
    pub fn queued_max(&self) -> u32 {
        self.queued_max.load(Ordering::Relaxed)
    }

    fn requeue(&self, i: usize) {
        let t = self.clock.fetch_add(1, Ordering::Relaxed);
        self.servers[i].requeued.store(t, Ordering::Relaxed);
    }
}

/// A place on a server (one of its `maxconn`), released on drop.
pub struct Slot<'a> {
    state: &'a BackendState,
    pub server: usize,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let st = self.state;
        st.servers[self.server]
            .active
            .fetch_sub(1, Ordering::AcqRel);
        st.requeue(self.server);
        // As HAProxy's queue processing on a release, let in as many waiters
        // as the servers now have room for: with dynamic limits, arrivals
        // may have raised the limits above what was in use.
        let wake = if st.dynamic {
            st.room()
                .clamp(1, st.waiting.load(Ordering::Acquire).max(1))
        } else {
            1
        };
        for _ in 0..wake {
            st.queue.notify_one();
        }
    }
}

/// Server order state: HAProxy's fast weighted round robin, its weight
/// map (static-rr and map-based hashing), or its ring of server nodes
/// (consistent hashing and random).
#[derive(Debug)]
enum Order {
    Dynamic(Fwrr),
    Map(StaticRr),
    Chash(Chash),
}

/// The order state and the weights it was last given (operators change
/// weights at run time).
#[derive(Debug)]
struct Ordered {
    order: Order,
    weights: Vec<u32>,
}

impl BackendState {
    pub fn new(be: &Backend) -> BackendState {
        let fullconn = be.fullconn.unwrap_or(0);
        let servers: Vec<ServerState> = be
            .servers
            .iter()
            .enumerate()
            .map(|(i, s)| ServerState {
                active: AtomicU32::new(0),
                up: AtomicBool::new(true),
                admin: crate::stats::admin::ServerAdmin::new(s.weight, s.disabled),
                requeued: AtomicU64::new(i as u64),
                maxconn: s.maxconn,
                minconn: s.minconn.or(s.maxconn).unwrap_or(0),
            })
            .collect();
        let dynamic = fullconn > 0
            && servers
                .iter()
                .any(|s| s.maxconn.is_some_and(|m| s.minconn < m));
        BackendState {
            servers,
            order: Mutex::new(Ordered {
                order: order_for(be),
                weights: be.servers.iter().map(|s| s.weight).collect(),
            }),
            queue: tokio::sync::Notify::new(),
            clock: AtomicU64::new(be.servers.len() as u64),
            fullconn,
            waiting: AtomicU32::new(0),
            queued: AtomicU32::new(0),
            dynamic,
            queued_max: AtomicU32::new(0),
        }
    }

    /// HAProxy's `beconn`, the requests the backend holds: those using a
    /// server slot plus those waiting for one in `acquire` (the queue, and
    /// the request being placed). It counts a request from the moment it
    /// asks for a server until its slot is released, where HAProxy counts
    /// a stream from its switch to the backend until it ends; the few
    /// steps in between (the backend's rules) are not load on the servers.
    fn beconn(&self) -> u32 {
        let served: u32 = self
            .servers
            .iter()
            .map(|s| s.active.load(Ordering::Acquire))
            .sum();
        served + self.waiting.load(Ordering::Acquire)
    }

    /// Server `i`'s connection limit when the backend holds `beconn`
    /// requests (None: unlimited). A server with `minconn` below its
    /// `maxconn` is allowed `maxconn * beconn / fullconn` connections, never
    /// fewer than `minconn`, and its whole `maxconn` once the backend
    /// reaches `fullconn`.
    fn limit(&self, i: usize, beconn: u32) -> Option<u32> {
        let s = &self.servers[i];
        let max = s.maxconn?;
        if s.minconn >= max || self.fullconn == 0 || beconn >= self.fullconn {
            return Some(max);
        }
        let ramp = u64::from(beconn) * u64::from(max) / u64::from(self.fullconn);
        Some((ramp as u32).max(s.minconn))
    }

    /// The load `limit` is computed for: `beconn` when some limit follows it.
    fn load(&self) -> u32 {
        if self.dynamic {
            self.beconn()
        } else {
            0
        }
    }

    /// Server `i` is at its limit when the backend holds `beconn` requests.
    fn full_at(&self, i: usize, beconn: u32) -> bool {
        self.limit(i, beconn)
            .is_some_and(|m| self.servers[i].active.load(Ordering::Acquire) >= m)
    }

    /// Places free on the usable servers at the current load (1 when one
    /// is unlimited: waiters re-check anyway).
    fn room(&self) -> u32 {
        let beconn = self.beconn();
        let mut room = 0u32;
        for (i, s) in self.servers.iter().enumerate() {
            if !s.usable() {
                continue;
            }
            match self.limit(i, beconn) {
                Some(m) => room += m.saturating_sub(s.active.load(Ordering::Acquire)),
                None => return 1,
            }
        }
        room
    }

    /// Takes a slot on server `i` unless it is full.
    fn take(&self, i: usize) -> Option<Slot<'_>> {
        let now = self.servers[i].active.fetch_add(1, Ordering::AcqRel) + 1;
        self.requeue(i);
        let slot = Slot {
            state: self,
            server: i,
        };
        // The caller is counted twice now: in `waiting` (or by the slot it
        // already holds, for a redispatch) and by the place just taken.
        let beconn = self.load().saturating_sub(1);
        match self.limit(i, beconn) {
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
        self.waiting.fetch_add(1, Ordering::AcqRel);
        let _waiting = Waiting(&self.waiting);
        if let Some(slot) = preferred.and_then(|i| self.take(i)) {
            return Some(slot);
        }
        // As HAProxy with first, roundrobin and static-rr: while requests
        // wait in the queue and the servers serve others (a release will
        // let them in), a new request queues behind them rather than take a
        // place first. It matters with dynamic limits, which arrivals raise.
        let mut behind = matches!(
            be.balance,
            Balance::First | Balance::RoundRobin | Balance::StaticRr
        ) && self.queued.load(Ordering::Acquire) > 0
            && self
                .servers
                .iter()
                .any(|s| s.active.load(Ordering::Acquire) > 0);
        loop {
            let notified = self.queue.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let pick = if behind {
                None
            } else {
                self.pick_except(be, key, None)
            };
            behind = false;
            match pick {
                Some(i) => match self.take(i) {
                    Some(slot) => return Some(slot),
                    None => continue,
                },
                None if self.candidates_all(be).is_empty() => return None,
                None => {
                    let q = self.queued.fetch_add(1, Ordering::AcqRel) + 1;
                    self.queued_max.fetch_max(q, Ordering::Relaxed);
                    let _queued = Waiting(&self.queued);
                    match deadline {
                        Some(d) => tokio::time::timeout_at(d, notified).await.ok()?,
                        None => notified.await,
                    }
                }
            }
        }
    }

    /// A slot on another server than `exclude`, without waiting (redispatch).
    pub fn acquire_other(&self, be: &Backend, exclude: usize) -> Option<Slot<'_>> {
        self.pick_except(be, None, Some(exclude))
            .and_then(|i| self.take(i))
    }

    /// Usable servers, full or not.
    fn candidates_all(&self, be: &Backend) -> Vec<usize> {
        (0..be.servers.len())
            .filter(|i| self.servers[*i].balanced())
            .collect()
    }

    /// Usable servers below their limit.
    fn candidates(&self, be: &Backend, exclude: Option<usize>) -> Vec<usize> {
        let mut c = self.candidates_usable(be, exclude);
        let beconn = self.load();
        c.retain(|i| !self.full_at(*i, beconn));
        c
    }

    /// Usable servers: the active ones, or the backups when no active one is
    /// usable (all backups with `option allbackups`, else the first).
    fn candidates_usable(&self, be: &Backend, exclude: Option<usize>) -> Vec<usize> {
        let usable = |i: &usize| Some(*i) != exclude && self.servers[*i].balanced();
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
        // Candidates are below their limit (HAProxy's algorithms skip the
        // saturated servers).
        let cands = self.candidates(be, exclude);
        if cands.is_empty() {
            return None;
        }
        match &be.balance {
            Balance::LeastConn => cands.iter().copied().min_by_key(|i| {
                let s = &self.servers[*i];
                let load = (s.active.load(Ordering::Relaxed) as u64 * 256)
                    / s.admin.lb_weight().max(1) as u64;
                (load, self.servers[*i].requeued.load(Ordering::Relaxed))
            }),
            Balance::First => cands.first().copied(),
            Balance::Source
            | Balance::Uri { .. }
            | Balance::UrlParam { .. }
            | Balance::Hdr { .. }
            | Balance::Hash { .. }
            | Balance::RdpCookie { .. } => {
                let accept = |i: usize| cands.contains(&i);
                match key {
                    Some(h) => self.ordered(be, &cands, |o, usable| match o {
                        Order::Map(m) => m.slot(usable, h),
                        Order::Chash(c) => c.lookup(usable, h, &accept),
                        Order::Dynamic(f) => f.next(usable),
                    }),
                    // No input to hash: round robin over the map, or along
                    // the ring.
                    None => self.ordered(be, &cands, |o, usable| match o {
                        Order::Map(m) => m.next(usable),
                        Order::Chash(c) => c.next(usable, &accept),
                        Order::Dynamic(f) => f.next(usable),
                    }),
                }
            }
            Balance::Random { draws } => {
                let accept = |i: usize| cands.contains(&i);
                let load = |i: usize| u64::from(self.servers[i].active.load(Ordering::Relaxed));
                self.ordered(be, &cands, |o, usable| match o {
                    Order::Chash(c) => c.random(usable, *draws, &load, &accept, &mut random),
                    Order::Map(m) => m.slot(usable, random()),
                    Order::Dynamic(f) => f.next(usable),
                })
            }
            Balance::RoundRobin | Balance::StaticRr => {
                self.ordered(be, &cands, |o, usable| match o {
                    Order::Map(m) => m.next(usable),
                    Order::Chash(c) => c.next(usable, &|_| true),
                    Order::Dynamic(f) => f.next(usable),
                })
            }
        }
    }

    /// Asks the order state for a server until it names a candidate (one
    /// not full and not excluded); the state sees the servers' up/down
    /// flags, as HAProxy's does, so its order stays HAProxy's.
    fn ordered(
        &self,
        be: &Backend,
        cands: &[usize],
        mut next: impl FnMut(&mut Order, &[bool]) -> Option<usize>,
    ) -> Option<usize> {
        let usable: Vec<bool> = (0..be.servers.len())
            .map(|i| self.servers[i].balanced())
            .collect();
        let mut ordered = self.order.lock().unwrap_or_else(|e| e.into_inner());
        ordered.reweigh(be, &self.servers);
        let order = &mut ordered.order;
        for _ in 0..be.servers.len().max(1) * 2 {
            match next(order, &usable) {
                Some(i) if cands.contains(&i) => return Some(i),
                Some(_) => continue,
                None => return None,
            }
        }
        // Every pick landed on a full or excluded server: take a candidate.
        cands.first().copied()
    }
}

/// Keeps a request counted in `waiting` while `acquire` runs (or in
/// `queued` while it waits).
struct Waiting<'a>(&'a AtomicU32);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Ordered {
    /// Applies weights the operator changed: roundrobin moves the server
    /// in its trees, consistent hashing rebuilds the ring. The map-based
    /// algorithms only take 0 or the configured weight, which the usable
    /// flags already express.
    fn reweigh(&mut self, be: &Backend, servers: &[ServerState]) {
        for (i, s) in servers.iter().enumerate() {
            let w = s.admin.weight();
            if w == self.weights[i] || w == 0 {
                continue;
            }
            self.weights[i] = w;
            match &mut self.order {
                Order::Dynamic(f) => f.set_weight(i, w),
                Order::Chash(c) => {
                    let usable: Vec<bool> = servers.iter().map(|s| s.balanced()).collect();
                    *c = chash_for(be, &self.weights, &usable);
                }
                Order::Map(_) => {}
            }
        }
    }
}

fn chash_for(be: &Backend, weights: &[u32], usable: &[bool]) -> Chash {
    let puid: Vec<u32> = be.servers.iter().map(|s| s.id).collect();
    let backup: Vec<bool> = be.servers.iter().map(|s| s.backup).collect();
    Chash::new(
        &puid,
        weights,
        &backup,
        usable,
        be.options.has("allbackups"),
    )
}

/// The order state a backend's algorithm needs.
fn order_for(be: &Backend) -> Order {
    let weights: Vec<u32> = be.servers.iter().map(|s| s.weight).collect();
    let backup: Vec<bool> = be.servers.iter().map(|s| s.backup).collect();
    let usable: Vec<bool> = be.servers.iter().map(|s| !s.disabled).collect();
    let allbackups = be.options.has("allbackups");
    let hashing = matches!(
        be.balance,
        Balance::Source
            | Balance::Uri { .. }
            | Balance::UrlParam { .. }
            | Balance::Hdr { .. }
            | Balance::Hash { .. }
            | Balance::RdpCookie { .. }
    );
    if matches!(be.balance, Balance::Random { .. }) || (hashing && be.hash_type.consistent) {
        let puid: Vec<u32> = be.servers.iter().map(|s| s.id).collect();
        return Order::Chash(Chash::new(&puid, &weights, &backup, &usable, allbackups));
    }
    match be.balance {
        Balance::RoundRobin => {
            Order::Dynamic(Fwrr::with_options(&weights, &backup, &usable, allbackups))
        }
        _ => Order::Map(StaticRr::with_options(
            &weights, &backup, &usable, allbackups,
        )),
    }
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
