//! Health checks and server state: the tasks that check each server (and
//! ask its agent), the rise/fall counting and the UP / going down / DOWN /
//! going up states exactly as HAProxy 2.6 keeps them, what live traffic
//! reports (`observe`), and the effects of a change: the balancer's view,
//! slow start, closed sessions, and HAProxy's messages (all through
//! `message::emit`).
//!
//! Counting, as 2.6: a server starts UP with its health at `rise` (so a
//! fresh server goes DOWN at its first failure); a pass adds one and, once
//! at `rise`, jumps to `rise + fall - 1` (fully UP); a failure takes one
//! off and, below `rise`, drops to 0 (DOWN). Hence `fall` failures take a
//! fully UP server down, and `rise` passes bring a DOWN one back.
pub mod agent;
mod message;
mod probe;
mod proto;
pub mod spec;
pub mod status;

pub use message::{emit, Level, Message};
pub use status::{Outcome, Status};

use crate::model::{Backend, BackendId, Server};
use crate::worker::Shared;
use cfg_parser::ast::Balance;
use status::Verdict;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};
use tokio::time::Instant;

/// `error-limit` when unset.
pub const DEFAULT_ERROR_LIMIT: u32 = 10;
/// Servers checked less often than this do not spread the others' first
/// checks (HAProxy's SRV_CHK_INTER_THRES).
const SPREAD_THRESHOLD_MS: u64 = 1000;

/// `observe layer4|layer7`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Observe {
    Layer4,
    Layer7,
}

/// `on-error`: what enough consecutive live errors do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnError {
    FastInter,
    FailCheck,
    SuddenDeath,
    MarkDown,
}

impl OnError {
    pub fn from_word(w: &str) -> Option<OnError> {
        Some(match w {
            "fastinter" => OnError::FastInter,
            "fail-check" => OnError::FailCheck,
            "sudden-death" => OnError::SuddenDeath,
            "mark-down" => OnError::MarkDown,
            _ => return None,
        })
    }
}

/// What live traffic tells about a server (HAProxy's health analysis
/// statuses). `observe layer4` counts connection results; `layer7` counts
/// HTTP responses and connection failures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    L4Ok,
    L4Err,
    HttpOk,
    /// A 5xx other than 501 and 505.
    HttpStatus,
    HttpHeaders,
    HttpRsp,
    ReadError,
    ReadTimeout,
    BrokenPipe,
}

impl Event {
    fn describe(self) -> &'static str {
        match self {
            Event::L4Ok => "L4 successful connection",
            Event::L4Err => "L4 unsuccessful connection",
            Event::HttpOk => "Correct http response",
            Event::HttpStatus => "Wrong http response",
            Event::HttpHeaders => "Invalid http response (headers)",
            Event::HttpRsp => "Invalid http response",
            Event::ReadError => "Read error (http)",
            Event::ReadTimeout => "Read timeout (http)",
            Event::BrokenPipe => "Close from server (http)",
        }
    }

    /// Some(true): an error; Some(false): a success (resets the count);
    /// None: ignored at this layer.
    fn is_error(self, layer: Observe) -> Option<bool> {
        match (self, layer) {
            (Event::L4Ok, Observe::Layer4) => Some(false),
            (Event::L4Ok, Observe::Layer7) => None,
            (Event::L4Err, _) => Some(true),
            (Event::HttpOk, Observe::Layer7) => Some(false),
            (_, Observe::Layer7) => Some(true),
            (_, Observe::Layer4) => None,
        }
    }

    /// The event for an HTTP response status.
    pub fn for_status(status: u16) -> Event {
        if status >= 100 && (status < 500 || status == 501 || status == 505) {
            Event::HttpOk
        } else {
            Event::HttpStatus
        }
    }
}

/// A server's operational state (HAProxy's `SRV_ST_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Running,
    /// UP and warming up (`slowstart`).
    Starting,
    /// Takes only persistent traffic (`disable-on-404`).
    Stopping,
    Stopped,
}

/// A check's health counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Counter {
    pub health: u32,
    pub rise: u32,
    pub fall: u32,
}

impl Counter {
    fn new(rise: u32, fall: u32) -> Counter {
        Counter {
            health: rise,
            rise,
            fall,
        }
    }
    fn full(&self) -> u32 {
        self.rise + self.fall - 1
    }
    fn up(&self) -> bool {
        self.health >= self.rise
    }
    /// A failed check; true when counted (a server already at 0 is not).
    fn fail(&mut self) -> bool {
        if self.health == 0 {
            return false;
        }
        self.health -= 1;
        if self.health < self.rise {
            self.health = 0;
        }
        true
    }
    fn pass(&mut self) {
        if self.health < self.full() {
            self.health += 1;
            if self.health >= self.rise {
                self.health = self.full();
            }
        }
    }
}

/// What the stats page shows of a server's checks, kept from the start.
#[derive(Clone, Debug)]
pub struct ServerStats {
    /// The last health check and agent check (status, code, info, duration).
    pub check: Option<Outcome>,
    pub agent: Option<Outcome>,
    /// Failed checks (`chkfail`), health analysis trips (`hanafail`) and
    /// UP to DOWN transitions (`chkdown`).
    pub failed_checks: u64,
    pub failed_hana: u64,
    pub down_transitions: u64,
    /// When the state last changed (`lastchg`).
    pub last_change: SystemTime,
    /// Time spent DOWN, ended periods (`downtime`); add `down_since` for
    /// the current one.
    pub downtime: Duration,
    pub down_since: Option<std::time::Instant>,
}

/// A server's state as health checks see it.
#[derive(Clone, Debug)]
pub struct ServerHealth {
    pub op: Op,
    /// Administrative states set by the agent (forced) or the config.
    pub maint: bool,
    pub drain: bool,
    pub check: Option<Counter>,
    pub agent: Option<Counter>,
    /// Configured weight, and the weight after agent changes.
    pub iweight: u32,
    pub uweight: u32,
    /// When `op` last changed (slow start counts from there).
    pub last_change: Instant,
    pub stats: ServerStats,
    consecutive_errors: u32,
    /// Health analysis asked for `fastinter` until the next full health.
    fastinter_forced: bool,
    /// Bumped at each state change: a warm-up task of an older state stops.
    generation: u64,
    /// `track`: the server whose state this one follows (`be/srv`, as
    /// messages name it).
    pub via: Option<String>,
}

impl ServerHealth {
    fn new(rt: &crate::model::Runtime, s: &Server) -> ServerHealth {
        ServerHealth {
            via: s
                .track
                .map(|(b, j)| format!("{}/{}", rt.backend(b).name, rt.backend(b).servers[j].name)),
            op: Op::Running,
            maint: s.disabled,
            drain: false,
            check: s.check.then(|| Counter::new(s.rise, s.fall)),
            agent: agent_configured(s).then(|| Counter::new(1, 1)),
            iweight: s.weight,
            uweight: s.weight,
            last_change: Instant::now(),
            stats: ServerStats {
                check: None,
                agent: None,
                failed_checks: 0,
                failed_hana: 0,
                down_transitions: 0,
                last_change: SystemTime::now(),
                downtime: Duration::ZERO,
                down_since: None,
            },
            consecutive_errors: 0,
            fastinter_forced: false,
            generation: 0,
        }
    }

    /// The balancer may pick it (HAProxy's "usable"): UP, not in
    /// maintenance or drain, with a weight.
    fn usable(&self) -> bool {
        matches!(self.op, Op::Running | Op::Starting)
            && !self.maint
            && !self.drain
            && self.uweight > 0
    }

    /// The effective weight on HAProxy's scale: while warming up under a
    /// dynamic algorithm, it grows from 1/16 of the weight each second.
    fn eweight(&self, be: &Backend, s: &Server, now: Instant) -> u32 {
        let scale = crate::balance::WEIGHT_SCALE;
        let ss = slowstart_secs(s);
        if self.op == Op::Starting && ss > 0 && dynamic_weights(be) {
            let elapsed = now.saturating_duration_since(self.last_change).as_secs();
            let w = ((u64::from(scale) * elapsed + ss) / ss).min(u64::from(scale)) as u32;
            return self.uweight.min(256) * w;
        }
        self.uweight.min(256) * scale
    }

    /// A warming-up server's share of its connection limits (percent).
    fn ramp(&self, s: &Server, now: Instant) -> u32 {
        let ss = slowstart_secs(s);
        if self.op != Op::Starting || ss == 0 {
            return 100;
        }
        let elapsed = now.saturating_duration_since(self.last_change).as_secs();
        (100 * elapsed / ss).min(100) as u32
    }
}

fn agent_configured(s: &Server) -> bool {
    s.agent_check && s.agent_port.is_some_and(|p| p > 0)
}

/// `slowstart` in whole seconds (HAProxy rounds it up).
fn slowstart_secs(s: &Server) -> u64 {
    s.slowstart_ms.div_ceil(1000)
}

/// Algorithms whose weights can change at run time (HAProxy's dynamic
/// ones): only they ramp up a warming server's weight.
fn dynamic_weights(be: &Backend) -> bool {
    match be.balance {
        Balance::RoundRobin | Balance::LeastConn | Balance::Random { .. } => true,
        Balance::StaticRr | Balance::First => false,
        _ => be.hash_type.consistent,
    }
}

/// Which of a server's two checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Which {
    Check,
    Agent,
}

/// The live health state of every backend.
pub struct Health {
    backends: Vec<BackendHealth>,
    stop_tx: tokio::sync::watch::Sender<bool>,
    stop_rx: tokio::sync::watch::Receiver<bool>,
    /// `-q`: no runtime messages on stderr.
    pub quiet: bool,
    seed: AtomicU64,
    /// The worker's shared state, for the tasks a change starts (warm-up).
    me: std::sync::OnceLock<std::sync::Weak<Shared>>,
}

struct BackendHealth {
    /// One lock per backend: a state change and its message see
    /// consistent counts of the backend's servers.
    servers: Mutex<Vec<ServerHealth>>,
    /// Wakes a server's check early (health analysis forced `fastinter`).
    wake: Vec<tokio::sync::Notify>,
    /// For each server, the servers that `track` it, latest declared
    /// first (the order 2.6 tells them in).
    trackers: Vec<Vec<(BackendId, usize)>>,
}

impl Health {
    pub fn new(rt: &crate::model::Runtime, quiet: bool) -> Health {
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let mut h = Health {
            backends: rt
                .backends
                .iter()
                .map(|b| BackendHealth {
                    servers: Mutex::new(
                        b.servers.iter().map(|s| ServerHealth::new(rt, s)).collect(),
                    ),
                    trackers: vec![Vec::new(); b.servers.len()],
                    wake: b
                        .servers
                        .iter()
                        .map(|_| tokio::sync::Notify::new())
                        .collect(),
                })
                .collect(),
            stop_tx,
            stop_rx,
            quiet,
            me: std::sync::OnceLock::new(),
            seed: AtomicU64::new(
                SystemTime::now()
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .map_or(1, |d| d.as_nanos() as u64)
                    | 1,
            ),
        };
        for (b, be) in rt.backends.iter().enumerate() {
            for (i, srv) in be.servers.iter().enumerate() {
                if let Some((tb, ti)) = srv.track {
                    h.backends[tb.0].trackers[ti].insert(0, (BackendId(b), i));
                }
            }
        }
        h
    }

    fn lock(&self, be: BackendId) -> MutexGuard<'_, Vec<ServerHealth>> {
        self.backends[be.0]
            .servers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// A copy of server `srv`'s state and counters (for the stats).
    pub fn server(&self, be: BackendId, srv: usize) -> Option<ServerHealth> {
        self.backends.get(be.0)?;
        self.lock(be).get(srv).cloned()
    }

    /// A random number in [0, 1) (xorshift; only for the check jitter).
    fn random(&self) -> f64 {
        let mut x = self.seed.load(Ordering::Relaxed);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.seed.store(x, Ordering::Relaxed);
        (x >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Starts the check tasks of every checked server. The first checks are
/// spread as HAProxy spreads them: the n-th of N checks starts after
/// n/N of an interval (the shortest interval of at least a second among
/// all checks, or its own when longer or when none is that long).
pub fn start(sh: &Arc<Shared>) {
    let _ = sh.health.me.set(Arc::downgrade(sh));
    let mut tasks = Vec::new();
    for (b, be) in sh.rt.backends.iter().enumerate() {
        let states = sh.health.lock(BackendId(b));
        for (i, s) in be.servers.iter().enumerate() {
            if s.disabled {
                continue;
            }
            if s.check {
                tasks.push((
                    BackendId(b),
                    i,
                    Which::Check,
                    interval(&states[i], s, Which::Check),
                ));
            }
            if agent_configured(s) {
                tasks.push((
                    BackendId(b),
                    i,
                    Which::Agent,
                    interval(&states[i], s, Which::Agent),
                ));
            }
        }
    }
    let n = tasks.len() as u64;
    let min_inter = tasks
        .iter()
        .map(|t| t.3)
        .filter(|i| *i >= SPREAD_THRESHOLD_MS)
        .min();
    for (pos, (be, i, which, own)) in tasks.into_iter().enumerate() {
        let base = match min_inter {
            Some(m) if m >= own => m,
            _ => own,
        };
        let first = Duration::from_millis(base * pos as u64 / n.max(1));
        let sh = sh.clone();
        tokio::spawn(async move { check_loop(sh, be, i, which, first).await });
    }
}

/// Stops every check (the worker is stopping).
pub fn stop(sh: &Shared) {
    let _ = sh.health.stop_tx.send(true);
}

/// The interval before a check's next run (HAProxy's `srv_getinter`):
/// `inter` when fully UP, `downinter` when fully DOWN, `fastinter` in
/// between (and at start); the agent always uses `agent-inter`.
fn interval(st: &ServerHealth, s: &Server, which: Which) -> u64 {
    match (which, st.check) {
        (Which::Agent, _) | (Which::Check, None) => s.agent_inter_ms,
        (Which::Check, Some(c)) => {
            if !st.fastinter_forced && c.health == c.full() {
                s.inter_ms
            } else if st.op == Op::Stopped && c.health == 0 {
                s.downinter_ms
            } else {
                s.fastinter_ms
            }
        }
    }
    .max(1)
}

/// One check of a server, run every interval until the worker stops.
async fn check_loop(sh: Arc<Shared>, be: BackendId, i: usize, which: Which, first: Duration) {
    let mut stop = sh.health.stop_rx.clone();
    let backend = sh.rt.backend(be);
    let server = &backend.servers[i];
    let mut next = Instant::now() + first;
    loop {
        if *stop.borrow() {
            return;
        }
        tokio::select! {
            _ = tokio::time::sleep_until(next) => {}
            _ = stop.changed() => return,
            _ = sh.health.backends[be.0].wake[i].notified(), if which == Which::Check => {
                next = next.min(Instant::now() + Duration::from_millis(server.fastinter_ms.max(1)));
                continue;
            }
        }
        let (paused, stopped, state_header) = {
            let states = sh.health.lock(be);
            let st = &states[i];
            let header = (which == Which::Check && backend.check.send_state)
                .then(|| state_header(&sh, be, i, &states));
            // The operator's maintenance and `disable health|agent` pause
            // checks too.
            let admin = &sh.backends[be.0].servers[i].admin;
            let off = match which {
                Which::Check => &admin.health_off,
                Which::Agent => &admin.agent_off,
            };
            (
                ((st.maint || admin.maint()) && which == Which::Check)
                    || off.load(Ordering::Relaxed),
                st.op == Op::Stopped,
                header,
            )
        };
        // Servers in maintenance are not checked (their agent still is: it
        // may end the maintenance).
        if !paused {
            let run = async {
                match which {
                    Which::Check => {
                        let o = probe::run(
                            &backend.check,
                            &check_target(server, sh.backends[be.0].servers[i].admin.addr()),
                            &limits(&sh, backend, server.inter_ms),
                            probe::Context {
                                server_stopped: stopped,
                                state_header: state_header.clone(),
                            },
                        )
                        .await;
                        on_check(&sh, be, i, o);
                    }
                    Which::Agent => {
                        let target = std::net::SocketAddr::new(
                            server.agent_ip.unwrap_or_else(|| server_ip(server)),
                            server.agent_port.unwrap_or(0),
                        );
                        let lim = limits(&sh, backend, server.agent_inter_ms);
                        let to = if lim.check > 0 { lim.check } else { lim.inter };
                        let r = agent::query(
                            target,
                            server.source_addr,
                            &server.agent_send,
                            Duration::from_millis(to.max(1)),
                        )
                        .await;
                        on_agent(&sh, be, i, r);
                    }
                }
            };
            tokio::select! {
                _ = run => {}
                _ = stop.changed() => return,
            }
        }
        let inter = interval(&sh.health.lock(be)[i], server, which);
        next = Instant::now() + Duration::from_millis(jitter(&sh, inter));
    }
}

/// `http-check send-state`: the server's state as 2.6 tells it, e.g.
/// `x-haproxy-server-state: UP 1/3; address=10.0.0.1; port=80; name=be/s1;
/// node=lb1; weight=1/2; scur=0/3; qcur=0` (`UP 1/3`: UP, one failed check
/// of the three that take it down; `DOWN 1/2`: one passed of the two that
/// bring it up; `NOLB` while stopping; `throttle=N%` while warming up).
fn state_header(sh: &Shared, be: BackendId, i: usize, states: &[ServerHealth]) -> String {
    let backend = sh.rt.backend(be);
    let s = &backend.servers[i];
    let st = &states[i];
    let state = match (st.check, st.op) {
        (None, _) => "no check".to_string(),
        (Some(c), Op::Stopped) if c.health > 0 => format!("DOWN {}/{}", c.health, c.rise),
        (Some(_), Op::Stopped) => "DOWN".to_string(),
        (Some(c), op) => {
            let word = if op == Op::Stopping { "NOLB" } else { "UP" };
            if c.health == c.full() {
                word.to_string()
            } else {
                format!("{word} {}/{}", c.health + 1 - c.rise, c.fall)
            }
        }
    };
    let lb = &sh.backends[be.0];
    let scale = crate::balance::WEIGHT_SCALE;
    let eweight = |j: usize| lb.servers[j].eweight.load(Ordering::Relaxed);
    let total: u32 = (0..backend.servers.len())
        .filter(|j| lb.usable(*j))
        .map(eweight)
        .sum();
    let cur = lb.servers[i].active.load(Ordering::Relaxed);
    let be_cur: u32 = lb
        .servers
        .iter()
        .map(|x| x.active.load(Ordering::Relaxed))
        .sum();
    let (addr, port) = match &s.addr {
        crate::model::ServerAddr::Inet { addr, .. } => {
            (addr.ip().to_string(), addr.port().to_string())
        }
        _ => ("unix".to_string(), String::new()),
    };
    let mut h = format!(
        "x-haproxy-server-state: {state}; address={addr}; port={port}; name={}/{}; node={}; weight={}/{}; scur={cur}/{be_cur}; qcur=0",
        backend.name,
        s.name,
        sh.rt.global.node,
        eweight(i).div_ceil(scale),
        total.div_ceil(scale),
    );
    let ss = slowstart_secs(s);
    if st.op == Op::Starting && ss > 0 {
        let elapsed = st.last_change.elapsed().as_secs();
        if elapsed < ss {
            h.push_str(&format!("; throttle={}%", (100 * elapsed / ss).max(1)));
        }
    }
    h
}

/// `spread-checks`: the interval moved by up to that percentage either way.
fn jitter(sh: &Shared, inter: u64) -> u64 {
    match sh.rt.global.spread_checks {
        0 => inter,
        pct => spread(inter, pct, sh.health.random()),
    }
}

/// `inter` moved by `pct` percent of itself, from -pct (r = 1) to +pct
/// (r = 0).
fn spread(inter: u64, pct: u32, r: f64) -> u64 {
    let rv = (inter * u64::from(pct) / 100) as f64;
    (inter as f64 + rv - 2.0 * rv * r).max(1.0) as u64
}

fn limits(sh: &Shared, be: &Backend, inter: u64) -> probe::Limits {
    probe::Limits {
        inter,
        connect: be.timeouts.connect,
        check: be.timeouts.check,
        bufsize: sh.rt.global.bufsize,
    }
}

fn server_ip(s: &Server) -> std::net::IpAddr {
    match &s.addr {
        crate::model::ServerAddr::Inet { addr, .. } => addr.ip(),
        _ => std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
    }
}

/// Where a server's health checks go, and the PROXY header they send:
/// `check-send-proxy`, or the server's own `send-proxy[-v2]` when neither
/// `port` nor `addr` moves the checks elsewhere.
/// An address set at run time (`set server ... addr`) moves the checks
/// that follow the server's address.
fn check_target(s: &Server, moved: Option<std::net::SocketAddr>) -> probe::Target {
    let port = s.check_port.unwrap_or(match (moved, &s.addr) {
        (Some(m), _) => m.port(),
        (None, crate::model::ServerAddr::Inet { addr, .. }) => addr.port(),
        _ => 0,
    });
    let inherit = s.check_port.is_none() && s.check_addr.is_none();
    let proxy = if s.send_proxy_v2 && (inherit || s.check_send_proxy) {
        Some(probe::ProxyVersion::V2)
    } else if s.check_send_proxy || (s.send_proxy && inherit) {
        Some(probe::ProxyVersion::V1)
    } else {
        None
    };
    probe::Target {
        ip: s
            .check_ip
            .or(moved.map(|m| m.ip()))
            .unwrap_or_else(|| server_ip(s)),
        port,
        source: s.source_addr,
        proxy,
    }
}

/// A change being made to one backend's servers, under its lock; the
/// messages go out in order, then "no server available" if it emptied.
struct Change<'a> {
    sh: &'a Shared,
    be_id: BackendId,
    be: &'a Backend,
    st: MutexGuard<'a, Vec<ServerHealth>>,
    /// Usable servers before the first change the balancer saw (counted
    /// then: most checks change nothing, and a backend may hold
    /// thousands of servers).
    before: Option<usize>,
    /// Servers whose state changed class (DOWN, UP, stopping): their
    /// trackers follow once this change is done.
    pending: Vec<(usize, Op)>,
}

impl<'a> Change<'a> {
    fn begin(sh: &'a Shared, be_id: BackendId) -> Change<'a> {
        let st = sh.health.lock(be_id);
        let be = sh.rt.backend(be_id);
        Change {
            sh,
            be_id,
            be,
            st,
            before: None,
            pending: Vec::new(),
        }
    }

    /// Usable active and backup servers (`N active and N backup servers`).
    fn counts(&self) -> (usize, usize) {
        let mut act = 0;
        let mut bck = 0;
        for (i, s) in self.st.iter().enumerate() {
            if s.usable() {
                if self.be.servers[i].backup {
                    bck += 1;
                } else {
                    act += 1;
                }
            }
        }
        (act, bck)
    }

    fn name(&self, i: usize) -> String {
        let s = &self.be.servers[i];
        let prefix = if s.backup { "Backup " } else { "" };
        format!("{prefix}Server {}/{}", self.be.name, s.name)
    }

    /// `. N active and N backup servers left.[ Running on backup.] N
    /// sessions active, 0 requeued, 0 remaining in queue` (going down), or
    /// the `online` form.
    fn tail(&self, i: usize, down: bool) -> String {
        let (act, bck) = self.counts();
        let rob = if bck > 0 && act == 0 {
            " Running on backup."
        } else {
            ""
        };
        if down {
            let cur = self.sh.backends[self.be_id.0].servers[i]
                .active
                .load(Ordering::Relaxed);
            format!(
                ". {act} active and {bck} backup servers left.{rob} {cur} sessions active, 0 requeued, 0 remaining in queue."
            )
        } else {
            format!(". {act} active and {bck} backup servers online.{rob} 0 sessions requeued, 0 total in queue.")
        }
    }

    fn say(&self, level: Level, text: String) {
        emit(self.sh, self.be_id, &Message::server(level, text));
    }

    /// Tells the balancer what server `i` may now take.
    fn sync(&mut self, i: usize) {
        let now = Instant::now();
        let s = &self.be.servers[i];
        let st = &self.st[i];
        let eweight = st.eweight(self.be, s, now);
        let usable = st.usable() && eweight > 0;
        let persist = !st.maint && st.op != Op::Stopped;
        let lb = &self.sh.backends[self.be_id.0];
        if self.before.is_none() {
            self.before = Some((0..self.be.servers.len()).filter(|j| lb.usable(*j)).count());
        }
        lb.set_ramp(i, st.ramp(s, now));
        lb.set_server(i, usable, persist, eweight);
    }

    fn set_op(&mut self, i: usize, op: Op) {
        let st = &mut self.st[i];
        if st.op == Op::Stopped && op != Op::Stopped {
            if let Some(since) = st.stats.down_since.take() {
                st.stats.downtime += since.elapsed();
            }
        }
        if op == Op::Stopped && st.op != Op::Stopped {
            st.stats.down_transitions += 1;
            st.stats.down_since = Some(std::time::Instant::now());
        }
        let class = |o: Op| match o {
            Op::Running | Op::Starting => 0,
            Op::Stopping => 1,
            Op::Stopped => 2,
        };
        if class(st.op) != class(op) {
            self.pending.push((i, op));
        }
        st.op = op;
        st.last_change = Instant::now();
        st.stats.last_change = SystemTime::now();
        st.generation += 1;
    }

    /// ` via be/srv` for a tracking server, else the check's reason.
    fn reason(&self, i: usize, why: Option<&Outcome>) -> String {
        match &self.st[i].via {
            Some(v) => format!(" via {v}"),
            None => why.map(Outcome::reason).unwrap_or_default(),
        }
    }

    /// The server goes DOWN (HAProxy's `srv_set_stopped`).
    fn stopped(&mut self, i: usize, why: Option<&Outcome>) {
        if self.st[i].op == Op::Stopped {
            return;
        }
        let was_stopping = self.st[i].op == Op::Stopping;
        self.set_op(i, Op::Stopped);
        self.sync(i);
        if self.st[i].maint {
            return;
        }
        if self.be.servers[i].on_marked_down.is_some() {
            self.sh.backends[self.be_id.0].shutdown_sessions(i);
        }
        let reason = self.reason(i, why);
        let text = format!("{} is DOWN{reason}{}", self.name(i), self.tail(i, true));
        let level = if was_stopping {
            Level::Notice
        } else {
            Level::Alert
        };
        self.say(level, text);
        if self.st[i].drain {
            self.say(
                Level::Notice,
                format!("{} remains in forced drain mode.", self.name(i)),
            );
        }
    }

    /// The server comes UP (HAProxy's `srv_set_running`), warming up first
    /// with `slowstart`.
    fn running(&mut self, i: usize, why: Option<&Outcome>) {
        if matches!(self.st[i].op, Op::Running | Op::Starting) {
            return;
        }
        let s = &self.be.servers[i];
        let op = if slowstart_secs(s) > 0 {
            Op::Starting
        } else {
            Op::Running
        };
        self.set_op(i, op);
        self.sync(i);
        if op == Op::Starting {
            self.warm_up(i);
        }
        if self.st[i].maint {
            return;
        }
        if s.on_marked_up.is_some() && !s.backup && self.st[i].uweight > 0 {
            // `shutdown-backup-sessions`: the backups' connections close.
            let lb = &self.sh.backends[self.be_id.0];
            for (j, other) in self.be.servers.iter().enumerate() {
                if other.backup {
                    lb.shutdown_sessions(j);
                }
            }
        }
        let reason = self.reason(i, why);
        let text = format!("{} is UP{reason}{}", self.name(i), self.tail(i, false));
        self.say(Level::Notice, text);
    }

    /// The server stops taking new traffic (`disable-on-404`).
    fn stopping(&mut self, i: usize, why: Option<&Outcome>) {
        if matches!(self.st[i].op, Op::Stopping | Op::Stopped) || self.st[i].maint {
            return;
        }
        self.set_op(i, Op::Stopping);
        self.sync(i);
        let text = format!(
            "{} is stopping{}{}",
            self.name(i),
            self.reason(i, why),
            self.tail(i, false)
        );
        self.say(Level::Notice, text);
    }

    /// Slow start: the weight and limits grow each step until the server
    /// runs at full weight.
    fn warm_up(&self, i: usize) {
        let s = &self.be.servers[i];
        let step = Duration::from_millis((s.slowstart_ms.div_ceil(20)).max(1000));
        let generation = self.st[i].generation;
        let be_id = self.be_id;
        let Some(sh) = self.sh.health.me.get().and_then(std::sync::Weak::upgrade) else {
            return;
        };
        tokio::spawn(async move {
            let mut stop = sh.health.stop_rx.clone();
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(step) => {}
                    _ = stop.changed() => return,
                }
                let mut c = Change::begin(&sh, be_id);
                if c.st[i].generation != generation || c.st[i].op != Op::Starting {
                    return;
                }
                let s = &c.be.servers[i];
                let done = c.st[i].last_change.elapsed().as_secs() >= slowstart_secs(s);
                if done {
                    c.st[i].op = Op::Running;
                }
                c.sync(i);
                // 2.6 announces the end of the warm-up as a second UP.
                if done && !c.st[i].maint {
                    let text = format!(
                        "{} is UP{}{}",
                        c.name(i),
                        c.reason(i, None),
                        c.tail(i, false)
                    );
                    c.say(Level::Notice, text);
                }
                c.finish();
                if done {
                    return;
                }
            }
        });
    }

    /// Ends the change: "no server available" if the backend just lost its
    /// last usable server.
    fn finish(mut self) {
        if let Some(before) = self.before {
            let (act, bck) = self.counts();
            if before > 0 && act + bck == 0 {
                let kind = if self.be.listen { "proxy" } else { "backend" };
                emit(
                    self.sh,
                    self.be_id,
                    &Message::no_server(kind, &self.be.name),
                );
            }
        }
        let pending = std::mem::take(&mut self.pending);
        let (sh, be) = (self.sh, self.be_id);
        // The lock is released before other backends are locked.
        drop(self);
        for (i, op) in pending {
            propagate(sh, be, i, op);
        }
    }
}

/// `track`: the servers tracking server `i` of `be` take its new state,
/// each telling it (`Server b2/t is DOWN via b1/s ...`), and so on down
/// the chain, depth first.
fn propagate(sh: &Shared, be: BackendId, i: usize, op: Op) {
    for &(tb, ti) in &sh.health.backends[be.0].trackers[i] {
        let mut c = Change::begin(sh, tb);
        match op {
            Op::Stopped => c.stopped(ti, None),
            Op::Running | Op::Starting => c.running(ti, None),
            Op::Stopping => c.stopping(ti, None),
        }
        c.finish();
    }
}

/// A health check's result (HAProxy's `set_server_check_status` and the
/// notifications that follow it).
fn on_check(sh: &Shared, be: BackendId, i: usize, o: Outcome) {
    let mut c = Change::begin(sh, be);
    apply_result(&mut c, i, Which::Check, o);
    c.finish();
}

fn apply_result(c: &mut Change<'_>, i: usize, which: Which, o: Outcome) {
    let verdict = o.status.verdict();
    // `option log-health-checks`: each check that changes something is
    // told, and state changes then come without their reason.
    let log_checks = c.be.options.has("log-health-checks");
    let report;
    {
        let st = &mut c.st[i];
        let prev_status = match which {
            Which::Check => st.stats.check.as_ref(),
            Which::Agent => st.stats.agent.as_ref(),
        }
        .map(|p| p.status);
        let counter = match which {
            Which::Check => st.check.as_mut(),
            Which::Agent => st.agent.as_mut(),
        };
        let Some(counter) = counter else { return };
        let health_before = counter.health;
        match verdict {
            // An agent that cannot be reached changes nothing: only what
            // it says counts.
            Verdict::Failed if which == Which::Agent && o.status < Status::L57Data => {}
            Verdict::Failed => {
                if counter.fail() {
                    st.stats.failed_checks += 1;
                }
            }
            Verdict::Passed | Verdict::CondPassed => {
                counter.pass();
                if which == Which::Check && counter.health == counter.full() {
                    st.fastinter_forced = false;
                    st.consecutive_errors = 0;
                }
            }
        }
        report = counter.health != health_before || prev_status != Some(o.status);
        match which {
            Which::Check => st.stats.check = Some(o.clone()),
            Which::Agent => st.stats.agent = Some(o.clone()),
        }
    }
    if log_checks && report {
        let st = &c.st[i];
        if let Some(k) = if which == Which::Check {
            st.check
        } else {
            st.agent
        } {
            let status = if k.up() {
                let word = if st.uweight > 0 { "UP" } else { "DRAIN" };
                format!("{}/{} {word}", k.health + 1 - k.rise, k.fall)
            } else {
                format!("{}/{} DOWN", k.health, k.rise)
            };
            let s = &c.be.servers[i];
            let text = format!(
                "{} check for {}server {}/{} {}{}{}, status: {status}.",
                if which == Which::Check {
                    "Health"
                } else {
                    "Agent"
                },
                if s.backup { "backup " } else { "" },
                c.be.name,
                s.name,
                if verdict == Verdict::CondPassed {
                    "conditionally "
                } else {
                    ""
                },
                if verdict == Verdict::Failed {
                    "failed"
                } else {
                    "succeeded"
                },
                o.reason(),
            );
            c.say(Level::Notice, text);
        }
    }
    let why = (!log_checks).then_some(&o);
    let st = &c.st[i];
    match verdict {
        Verdict::Failed => {
            if which == Which::Agent && o.status != Status::L7Sts {
                return;
            }
            let counter = if which == Which::Check {
                st.check
            } else {
                st.agent
            };
            if counter.is_some_and(|k| k.health == 0) {
                c.stopped(i, why);
            }
        }
        Verdict::CondPassed if which == Which::Check => c.stopping(i, why),
        Verdict::CondPassed | Verdict::Passed => {
            if st.maint {
                return;
            }
            let own = if which == Which::Check {
                st.check
            } else {
                st.agent
            };
            let other = if which == Which::Check {
                st.agent
            } else {
                st.check
            };
            if own.is_some_and(|k| !k.up()) || other.is_some_and(|k| !k.up()) {
                return;
            }
            c.running(i, why);
        }
    }
}

/// An agent's answer (or its absence).
fn on_agent(sh: &Shared, be: BackendId, i: usize, r: Result<agent::Reply, Outcome>) {
    let mut c = Change::begin(sh, be);
    match r {
        Err(o) => apply_result(&mut c, i, Which::Agent, o),
        Ok(reply) => {
            if let Some(a) = reply.admin {
                admin(&mut c, i, a);
            }
            if let Some(pct) = reply.weight_pct {
                let st = &c.st[i];
                let w = (u64::from(st.iweight) * u64::from(pct) / 100).min(256) as u32;
                // Static algorithms only take 0% and 100%.
                if dynamic_weights(c.be) || w == 0 || w == st.iweight {
                    c.st[i].uweight = w;
                    c.sync(i);
                }
            }
            if let Some(m) = reply.maxconn {
                sh.backends[be.0].set_maxconn(i, m);
            }
            if reply.health.is_some() {
                let up = reply.is_up();
                if let Some(k) = c.st[i].agent.as_mut() {
                    k.health = if up { k.full() } else { 0 };
                }
                let mut o = Outcome::new(
                    if up { Status::L7Ok } else { Status::L7Sts },
                    reply.describe(),
                );
                o.duration_ms = Some(0);
                apply_result(&mut c, i, Which::Agent, o);
            }
        }
    }
    c.finish();
}

/// `ready`, `drain` or `maint` from the agent, with 2.6's messages.
fn admin(c: &mut Change<'_>, i: usize, a: agent::Admin) {
    let st = c.st[i].clone();
    match a {
        agent::Admin::Drain if !st.drain => {
            c.st[i].drain = true;
            c.sync(i);
            if !st.maint {
                let text = format!("{} enters drain state{}", c.name(i), c.tail(i, false));
                c.say(Level::Notice, text);
            }
        }
        agent::Admin::Maint if !st.maint => {
            c.st[i].maint = true;
            c.sync(i);
            if c.be.servers[i].on_marked_down.is_some() {
                c.sh.backends[c.be_id.0].shutdown_sessions(i);
            }
            if st.op == Op::Stopped {
                c.say(
                    Level::Notice,
                    format!("{} was DOWN and now enters maintenance.", c.name(i)),
                );
            } else {
                let level = if st.op == Op::Stopping {
                    Level::Notice
                } else {
                    Level::Alert
                };
                let text = format!(
                    "{} is going DOWN for maintenance{}",
                    c.name(i),
                    c.tail(i, true)
                );
                c.say(level, text);
            }
        }
        agent::Admin::Ready if st.maint => {
            c.st[i].maint = false;
            c.st[i].drain = false;
            // Checked again from `rise`: UP unless a check says otherwise.
            if let Some(k) = c.st[i].check.as_mut() {
                k.health = k.rise;
            }
            let ok = c.st[i].check.is_none_or(|k| k.up()) && c.st[i].agent.is_none_or(|k| k.up());
            if ok && c.st[i].op == Op::Stopped {
                let s = &c.be.servers[i];
                let op = if slowstart_secs(s) > 0 {
                    Op::Starting
                } else {
                    Op::Running
                };
                c.set_op(i, op);
                if op == Op::Starting {
                    c.warm_up(i);
                }
            }
            c.sync(i);
            let up = if c.st[i].op == Op::Stopped {
                "DOWN"
            } else {
                "UP"
            };
            c.say(
                Level::Notice,
                format!("{} is {up}/READY (leaving forced maintenance).", c.name(i)),
            );
        }
        agent::Admin::Ready if st.drain => {
            c.st[i].drain = false;
            c.sync(i);
            let up = if c.st[i].op == Op::Stopped {
                "DOWN"
            } else {
                "UP"
            };
            c.say(
                Level::Notice,
                format!("{} is {up} (leaving forced drain).", c.name(i)),
            );
        }
        _ => {}
    }
}

/// What a response head (or its absence) tells health analysis
/// (`observe layer7`); a reused connection closed before answering is not
/// the server's fault.
pub fn observe_head(
    sh: &Shared,
    be: BackendId,
    srv: usize,
    head: &crate::http::io::HeadRead<crate::http::parse::ResponseHead>,
    reused: bool,
) {
    use crate::http::io::HeadRead;
    let ev = match head {
        HeadRead::Head(r) if (100..200).contains(&r.status) && r.status != 101 => return,
        HeadRead::Head(r) => Event::for_status(r.status),
        HeadRead::Timeout { .. } => Event::ReadTimeout,
        HeadRead::Closed { partial: false } | HeadRead::Io if reused => return,
        HeadRead::Closed { partial: false } => Event::BrokenPipe,
        HeadRead::Io => Event::ReadError,
        HeadRead::Closed { partial: true } | HeadRead::Bad(_) | HeadRead::TooLarge => {
            Event::HttpHeaders
        }
    };
    observe(sh, be, srv, ev);
}

/// Runs a stream's exchange with server `srv`, cut short (giving
/// `on_cut`) when health checks close the server's sessions
/// (`on-marked-down shutdown-sessions`, `on-marked-up
/// shutdown-backup-sessions`). Servers no such option can reach run it as
/// is.
pub async fn unless_shut<T>(
    sh: &Shared,
    be: BackendId,
    srv: usize,
    exchange: impl std::future::Future<Output = T>,
    on_cut: T,
) -> T {
    let backend = sh.rt.backend(be);
    let s = &backend.servers[srv];
    let cuttable = s.on_marked_down.is_some()
        || (s.backup && backend.servers.iter().any(|o| o.on_marked_up.is_some()));
    if !cuttable {
        return exchange.await;
    }
    tokio::select! {
        r = exchange => r,
        _ = sh.backends[be.0].killed(srv) => on_cut,
    }
}

/// What the data path reports about a server (`observe`): enough
/// consecutive errors (`error-limit`) trigger `on-error`.
pub fn observe(sh: &Shared, be: BackendId, srv: usize, ev: Event) {
    let s = &sh.rt.backend(be).servers[srv];
    let Some(layer) = s.observe else { return };
    let Some(error) = ev.is_error(layer) else {
        return;
    };
    let mut c = Change::begin(sh, be);
    if !error {
        c.st[srv].consecutive_errors = 0;
        return;
    }
    c.st[srv].consecutive_errors += 1;
    let n = c.st[srv].consecutive_errors;
    if n < s.error_limit {
        return;
    }
    let o = Outcome::new(
        Status::Hana,
        format!(
            "Detected {n} consecutive errors, last one was: {}",
            ev.describe()
        ),
    );
    c.st[srv].fastinter_forced = true;
    if let Some(k) = c.st[srv].check.as_mut() {
        match s.on_error {
            OnError::FastInter => {}
            OnError::SuddenDeath | OnError::FailCheck => {
                if s.on_error == OnError::SuddenDeath && k.health > k.rise {
                    k.health = k.rise + 1;
                }
            }
            OnError::MarkDown => k.health = k.rise,
        }
    }
    if s.on_error != OnError::FastInter {
        apply_result(&mut c, srv, Which::Check, o);
    }
    c.st[srv].consecutive_errors = 0;
    c.st[srv].stats.failed_hana += 1;
    c.finish();
    if s.check {
        sh.health.backends[be.0].wake[srv].notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counting_as_2_6() {
        // rise 2, fall 3: starts at rise (UP); one failure takes it down.
        let mut c = Counter::new(2, 3);
        assert!(c.up());
        c.fail();
        assert_eq!(c.health, 0);
        // Two passes bring it back, fully UP.
        c.pass();
        assert!(!c.up());
        c.pass();
        assert_eq!(c.health, 4);
        // Then it takes `fall` failures.
        c.fail();
        c.fail();
        assert!(c.up());
        c.fail();
        assert_eq!(c.health, 0);
        // A failure while rising starts the rise again.
        c.pass();
        c.fail();
        assert_eq!(c.health, 0);
        assert!(!c.fail(), "a DOWN server's failure is not counted again");
    }

    #[test]
    fn spread_checks_jitter() {
        assert_eq!(spread(1000, 10, 0.0), 1100);
        assert_eq!(spread(1000, 10, 1.0), 900);
        assert_eq!(spread(1000, 10, 0.5), 1000);
        assert_eq!(spread(1000, 50, 0.25), 1250);
    }

    #[test]
    fn live_statuses() {
        assert_eq!(Event::for_status(503), Event::HttpStatus);
        assert_eq!(Event::for_status(501), Event::HttpOk);
        assert_eq!(Event::for_status(404), Event::HttpOk);
        assert_eq!(Event::L4Ok.is_error(Observe::Layer7), None);
        assert_eq!(Event::L4Err.is_error(Observe::Layer7), Some(true));
        assert_eq!(Event::HttpStatus.is_error(Observe::Layer4), None);
    }
}
