//! What the operator changed at run time, through the stats socket or the
//! stats page: a server's maintenance and drain modes, its weight and
//! address, a frontend paused or its connection limit. The balancer and
//! the connection code read it; nothing here blocks the data path.
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, AtomicU64, Ordering};
use std::sync::RwLock;

/// Forced maintenance (`disable server`, `state maint`): HAProxy's FMAINT.
pub const FMAINT: u32 = 0x01;
/// The server was `disabled` in the configuration: CMAINT. It comes with
/// FMAINT and stays set (as in 2.6) once the server is made ready.
pub const CMAINT: u32 = 0x04;
/// Forced drain (`state drain`, weight kept): FDRAIN.
pub const FDRAIN: u32 = 0x08;

/// A server's administrative state.
#[derive(Debug)]
pub struct ServerAdmin {
    flags: AtomicU32,
    /// The weight set by the operator (starts as the configured one).
    uweight: AtomicU32,
    /// The configured weight (`iweight`).
    pub iweight: u32,
    /// When the server's state last changed (`now_ms`).
    pub last_change: AtomicU64,
    /// An address set with `set server ... addr`; read only when
    /// `addr_set` says there is one.
    addr: RwLock<Option<SocketAddr>>,
    addr_set: AtomicBool,
    /// `disable health` / `disable agent`: checks paused.
    pub health_off: AtomicBool,
    /// `set server ... health stopping` (the page's "force NOLB"): up but
    /// taking no new traffic.
    pub nolb: AtomicBool,
    pub agent_off: AtomicBool,
    /// The server went through maintenance once (its check health then
    /// reads 0, as in 2.6).
    pub was_maint: AtomicBool,
    /// Time spent in maintenance so far (ms), and since when it is (-1: not).
    pub down_ms: AtomicU64,
    pub down_since: AtomicI64,
}

impl ServerAdmin {
    pub fn new(weight: u32, disabled: bool) -> ServerAdmin {
        let now = super::counters::now_ms();
        ServerAdmin {
            flags: AtomicU32::new(if disabled { FMAINT | CMAINT } else { 0 }),
            uweight: AtomicU32::new(weight),
            iweight: weight,
            last_change: AtomicU64::new(now),
            addr: RwLock::new(None),
            addr_set: AtomicBool::new(false),
            health_off: AtomicBool::new(false),
            nolb: AtomicBool::new(false),
            agent_off: AtomicBool::new(false),
            was_maint: AtomicBool::new(disabled),
            down_ms: AtomicU64::new(0),
            down_since: AtomicI64::new(if disabled { now as i64 } else { -1 }),
        }
    }

    pub fn flags(&self) -> u32 {
        self.flags.load(Ordering::Relaxed)
    }

    /// In maintenance: no traffic at all.
    pub fn maint(&self) -> bool {
        self.flags() & FMAINT != 0
    }

    /// Draining: no new traffic except persistent clients.
    pub fn drain(&self) -> bool {
        self.flags() & FDRAIN != 0
    }

    /// The operator's weight (`uweight`).
    pub fn weight(&self) -> u32 {
        self.uweight.load(Ordering::Relaxed)
    }

    /// The weight the balancer uses: 0 while draining.
    pub fn lb_weight(&self) -> u32 {
        if self.drain() || self.nolb.load(Ordering::Relaxed) {
            0
        } else {
            self.weight()
        }
    }

    pub fn set_weight(&self, w: u32) {
        self.uweight.store(w, Ordering::Relaxed);
    }

    /// Sets and clears flags; a change of maintenance dates the server.
    pub fn update(&self, set: u32, clear: u32) {
        let old = self
            .flags
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |f| {
                Some((f | set) & !clear)
            })
            .unwrap_or(0);
        let new = (old | set) & !clear;
        if old != new {
            let now = super::counters::now_ms();
            self.last_change.store(now, Ordering::Relaxed);
            let was = old & FMAINT != 0;
            let is = new & FMAINT != 0;
            if is && !was {
                self.down_since.store(now as i64, Ordering::Relaxed);
                self.was_maint.store(true, Ordering::Relaxed);
            } else if was && !is {
                let since = self.down_since.swap(-1, Ordering::Relaxed);
                if since >= 0 {
                    self.down_ms
                        .fetch_add(now.saturating_sub(since as u64), Ordering::Relaxed);
                }
            }
        }
    }

    /// Time spent in maintenance (ms), the current period included.
    pub fn downtime_ms(&self) -> u64 {
        let since = self.down_since.load(Ordering::Relaxed);
        let cur = if since >= 0 {
            super::counters::now_ms().saturating_sub(since as u64)
        } else {
            0
        };
        self.down_ms.load(Ordering::Relaxed) + cur
    }

    /// The address set at run time, if any.
    pub fn addr(&self) -> Option<SocketAddr> {
        if !self.addr_set.load(Ordering::Acquire) {
            return None;
        }
        *self.addr.read().unwrap_or_else(|e| e.into_inner())
    }

    pub fn set_addr(&self, a: SocketAddr) {
        *self.addr.write().unwrap_or_else(|e| e.into_inner()) = Some(a);
        self.addr_set.store(true, Ordering::Release);
    }
}

/// A connection limit that can change at run time (`set maxconn`): a
/// semaphore whose permits follow the limit.
#[derive(Debug)]
pub struct Limit {
    pub slots: std::sync::Arc<tokio::sync::Semaphore>,
    limit: AtomicU32,
}

impl Limit {
    pub fn new(n: u32) -> Limit {
        let n = n.max(1);
        Limit {
            slots: std::sync::Arc::new(tokio::sync::Semaphore::new(n as usize)),
            limit: AtomicU32::new(n),
        }
    }

    pub fn get(&self) -> u32 {
        self.limit.load(Ordering::Relaxed)
    }

    /// Changes the limit: more permits now, or fewer as soon as the
    /// connections holding them end.
    pub fn set(&self, n: u32) {
        let n = n.max(1);
        let old = self.limit.swap(n, Ordering::Relaxed);
        if n > old {
            self.slots.add_permits((n - old) as usize);
        } else if old > n {
            let mut owed = (old - n) as usize;
            owed -= self.slots.forget_permits(owed);
            if owed > 0 {
                let slots = self.slots.clone();
                if let Ok(rt) = tokio::runtime::Handle::try_current() {
                    rt.spawn(async move {
                        if let Ok(p) = slots.acquire_many_owned(owed as u32).await {
                            p.forget();
                        }
                    });
                }
            }
        }
    }
}

/// A frontend's run-time state.
#[derive(Debug)]
pub struct FrontendAdmin {
    /// `disable frontend`: its listeners stop accepting.
    pub paused: tokio::sync::watch::Sender<bool>,
    /// Its `maxconn` (the global one when it sets none), changed by `set
    /// maxconn frontend`.
    pub maxconn: Limit,
}

impl FrontendAdmin {
    pub fn new(maxconn: u32) -> FrontendAdmin {
        FrontendAdmin {
            paused: tokio::sync::watch::channel(false).0,
            maxconn: Limit::new(maxconn),
        }
    }
    pub fn is_paused(&self) -> bool {
        *self.paused.borrow()
    }
}
