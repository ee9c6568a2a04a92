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
    /// The balancer may pick it: UP (or starting), not in maintenance or
    /// drain, with a weight (HAProxy's "usable"; health checks set it).
    pub up: AtomicBool,
    /// A request bound to it by persistence may still go there: it is not
    /// DOWN nor in maintenance (draining and stopping servers keep their
    /// persistent clients).
    pub persist: AtomicBool,
    /// The effective weight the balancer uses, on HAProxy's scale (16 per
    /// unit of configured weight); lower while warming up (`slowstart`) or
    /// after an agent's weight change.
    pub eweight: AtomicU32,
    /// The effective weight health checks decided (slow start, agent),
    /// before the operator's weight (`admin`) scales it into `eweight`.
    pub heweight: AtomicU32,
    /// Woken to close the connections using this server
    /// (`on-marked-down shutdown-sessions` and friends).
    pub kill: tokio::sync::Notify,
    /// The operator's state: maintenance, drain, weight, address.
    pub admin: crate::stats::admin::ServerAdmin,
    /// When its load last changed: leastconn breaks ties in favour of the
    /// server whose load changed least recently, as HAProxy's tree does
    /// (a server re-inserted at a key goes after those already there).
    pub requeued: AtomicU64,
    /// `maxconn` (0: unlimited; an agent may change it) and `minconn`
    /// (`maxconn` without one), as the config compiled them.
    maxconn: AtomicU32,
    minconn: u32,
    /// The part of its limits a warming-up server may use, in percent.
    ramp: AtomicU32,
}

impl ServerState {
    fn maxconn(&self) -> Option<u32> {
        Some(self.maxconn.load(Ordering::Relaxed)).filter(|m| *m > 0)
    }
}

/// HAProxy's BE_WEIGHT_SCALE: effective weight per unit of weight.
pub const WEIGHT_SCALE: u32 = 16;

/// A backend's live state.
#[derive(Debug)]
pub struct BackendState {
    pub servers: Vec<ServerState>,
    /// The rotation of roundrobin/static-rr, and the weight map of the hash
    /// algorithms, in HAProxy's exact order.
    order: Mutex<Order>,
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
    /// Up for health checks and not in maintenance: it may take traffic
    /// (a draining server only from persistent clients).
    pub fn usable(&self) -> bool {
        self.up.load(Ordering::Acquire) && !self.admin.maint()
    }

    /// Usable with a weight the balancer may pick it for.
    pub fn balanced(&self) -> bool {
        self.usable() && self.effective() > 0
    }

    /// The weight the balancer uses: health's effective weight (slow start,
    /// agent) scaled by the operator's weight over the configured one; 0
    /// while draining or forced NOLB.
    pub fn effective(&self) -> u32 {
        let lb = self.admin.lb_weight();
        if lb == 0 {
            return 0;
        }
        let iw = self.admin.iweight;
        if iw == 0 {
            return lb.min(256) * WEIGHT_SCALE;
        }
        if lb == iw {
            return self.heweight.load(Ordering::Relaxed);
        }
        let h = u64::from(self.heweight.load(Ordering::Relaxed));
        (h * u64::from(lb) / u64::from(iw)).min(u64::from(256 * WEIGHT_SCALE)) as u32
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

impl BackendState {
    pub fn new(be: &Backend) -> BackendState {
        let fullconn = be.fullconn.unwrap_or(0);
        let servers: Vec<ServerState> = be
            .servers
            .iter()
            .enumerate()
            .map(|(i, s)| ServerState {
                active: AtomicU32::new(0),
                // What health checks say; a `disabled` server is kept out by
                // its administrative maintenance (which `enable server` ends).
                up: AtomicBool::new(true),
                persist: AtomicBool::new(true),
                eweight: AtomicU32::new(s.weight.min(256) * WEIGHT_SCALE),
                heweight: AtomicU32::new(s.weight.min(256) * WEIGHT_SCALE),
                kill: tokio::sync::Notify::new(),
                admin: crate::stats::admin::ServerAdmin::new(s.weight, s.disabled),
                requeued: AtomicU64::new(i as u64),
                maxconn: AtomicU32::new(s.maxconn.unwrap_or(0)),
                minconn: s.minconn.or(s.maxconn).unwrap_or(0),
                ramp: AtomicU32::new(100),
            })
            .collect();
        let dynamic = fullconn > 0
            && servers
                .iter()
                .any(|s| s.maxconn().is_some_and(|m| s.minconn < m));
        BackendState {
            servers,
            order: Mutex::new(order_for(be)),
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
        let max = s.maxconn()?;
        let limit = if s.minconn >= max || self.fullconn == 0 || beconn >= self.fullconn {
            max
        } else {
            let ramp = u64::from(beconn) * u64::from(max) / u64::from(self.fullconn);
            (ramp as u32).max(s.minconn)
        };
        // A warming-up server takes its share of the limit (at least 1).
        let pct = s.ramp.load(Ordering::Relaxed);
        if pct < 100 {
            return Some((u64::from(limit) * u64::from(pct) / 100).max(1) as u32);
        }
        Some(limit)
    }

    /// What health checks decided for server `i`: whether the balancer may
    /// pick it, whether persistent requests may still use it, and its
    /// effective weight. Weight changes reach the balancer's order at once.
    pub fn set_server(&self, i: usize, up: bool, persist: bool, eweight: u32) {
        let s = &self.servers[i];
        s.persist.store(persist, Ordering::Release);
        s.heweight.store(eweight, Ordering::Release);
        self.refresh_one(i);
        s.up.store(up, Ordering::Release);
        // A server coming back may take requests waiting in the queue.
        if up {
            self.queue.notify_waiters();
        }
    }

    /// Brings server `i`'s balancer weight in line with health's and the
    /// operator's; a change reaches the balancer's order at once.
    fn refresh_one(&self, i: usize) {
        let s = &self.servers[i];
        let eweight = s.effective();
        let old = s.eweight.swap(eweight, Ordering::AcqRel);
        if old != eweight {
            let mut order = self.order.lock().unwrap_or_else(|e| e.into_inner());
            match &mut *order {
                Order::Dynamic(f) => f.set_eweight(i, eweight),
                Order::Chash(c) => c.set_eweight(i, eweight),
                // Map-based orders are static: only a zero weight counts,
                // through `usable`.
                Order::Map(_) => {}
            }
        }
    }

    /// Applies what the operator changed (weights, drain) since the last
    /// pick.
    fn refresh(&self) {
        for i in 0..self.servers.len() {
            self.refresh_one(i);
        }
    }

    /// A warming-up server's share of its connection limits (percent).
    pub fn set_ramp(&self, i: usize, pct: u32) {
        self.servers[i].ramp.store(pct.min(100), Ordering::Relaxed);
        self.queue.notify_waiters();
    }

    /// An agent's `maxconn:N` (0: unlimited).
    pub fn set_maxconn(&self, i: usize, maxconn: u32) {
        self.servers[i].maxconn.store(maxconn, Ordering::Relaxed);
        self.queue.notify_waiters();
    }

    /// Closes the connections now using server `i`.
    pub fn shutdown_sessions(&self, i: usize) {
        self.servers[i].kill.notify_waiters();
    }

    /// Resolves when the connections using server `i` must close.
    pub async fn killed(&self, i: usize) {
        self.servers[i].kill.notified().await
    }

    /// Whether a request bound to server `i` by persistence may go there.
    pub fn persist_ok(&self, i: usize) -> bool {
        self.servers
            .get(i)
            .is_some_and(|s| s.persist.load(Ordering::Acquire) && !s.admin.maint())
    }

    /// Whether the balancer may pick server `i` (HAProxy's usable servers).
    pub fn usable(&self, i: usize) -> bool {
        self.servers[i].balanced()
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
        (0..be.servers.len()).filter(|i| self.usable(*i)).collect()
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
        let usable = |i: &usize| Some(*i) != exclude && self.usable(*i);
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
                let load =
                    (s.active.load(Ordering::Relaxed) as u64 * 256 * u64::from(WEIGHT_SCALE))
                        / u64::from(s.effective().max(1));
                (load, s.requeued.load(Ordering::Relaxed))
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
        self.refresh();
        let mut order = self.order.lock().unwrap_or_else(|e| e.into_inner());
        // Weighted orders follow weight changes themselves; the static map
        // sees a zero weight as a server gone.
        let map = matches!(*order, Order::Map(_));
        let usable: Vec<bool> = (0..be.servers.len())
            .map(|i| {
                let s = &self.servers[i];
                s.usable() && s.admin.lb_weight() > 0 && (!map || s.effective() > 0)
            })
            .collect();
        for _ in 0..be.servers.len().max(1) * 2 {
            match next(&mut order, &usable) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::admin::{FDRAIN, FMAINT};

    fn server(weight: u32) -> ServerState {
        ServerState {
            active: AtomicU32::new(0),
            up: AtomicBool::new(true),
            persist: AtomicBool::new(true),
            eweight: AtomicU32::new(weight * WEIGHT_SCALE),
            heweight: AtomicU32::new(weight * WEIGHT_SCALE),
            kill: tokio::sync::Notify::new(),
            admin: crate::stats::admin::ServerAdmin::new(weight, false),
            requeued: AtomicU64::new(0),
            maxconn: AtomicU32::new(0),
            minconn: 0,
            ramp: AtomicU32::new(100),
        }
    }

    #[test]
    fn the_balancer_weight_follows_health_and_the_operator() {
        let s = server(10);
        assert_eq!(s.effective(), 160);
        // Slow start (health) halves it; the operator doubles the weight.
        s.heweight.store(80, Ordering::Relaxed);
        assert_eq!(s.effective(), 80);
        s.admin.set_weight(20);
        assert_eq!(s.effective(), 160);
        // Drain: only persistent clients; maintenance: nothing.
        s.admin.update(FDRAIN, 0);
        assert_eq!(s.effective(), 0);
        assert!(s.usable() && !s.balanced());
        s.admin.update(FMAINT, FDRAIN);
        assert!(!s.usable());
        s.admin.update(0, FMAINT);
        assert!(s.balanced());
        // Health says DOWN: whatever the operator set.
        s.up.store(false, Ordering::Relaxed);
        assert!(!s.balanced());
    }
}
