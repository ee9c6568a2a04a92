//! The worker: a tokio runtime with `nbthread` threads, the listeners, and
//! one task per client connection.
use crate::balance::BackendState;
use crate::model::{FrontendId, Runtime};
use cfg_parser::ast::Mode;
use std::io::Write;
use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::Semaphore;

/// What every connection task shares: the immutable model and the live
/// state of the backends.
pub struct Shared {
    pub rt: Runtime,
    pub backends: Vec<BackendState>,
    /// Idle server connections, per backend.
    pub pools: Vec<crate::http::pool::IdlePool>,
    /// Soft stop under way: keep-alive connections close after their next
    /// response.
    pub stopping: AtomicBool,
    /// Connections accepted per frontend and streams sent per backend
    /// ("cumulated conns" of the stop messages).
    pub fe_conns: Vec<AtomicU64>,
    pub be_conns: Vec<AtomicU64>,
    /// Client connections being served now.
    pub active: AtomicUsize,
    /// Connections on each frontend and streams on each backend now
    /// (`%fc`, `%bc`).
    pub fe_cur: Vec<AtomicU32>,
    pub be_cur: Vec<AtomicU32>,
    /// Log lines each frontend sent (`%lc`).
    pub fe_logs: Vec<AtomicU64>,
    /// Servers' health: check state, counters, and the check tasks' control.
    pub health: crate::health::Health,
    /// Traffic counters and the operator's run-time changes.
    pub stats: crate::stats::Stats,
}

/// Counts one user of a gauge while alive.
pub struct Gauge<'a>(&'a AtomicU32);

impl<'a> Gauge<'a> {
    pub fn new(g: &'a AtomicU32) -> Gauge<'a> {
        g.fetch_add(1, Ordering::Relaxed);
        Gauge(g)
    }
}

impl Drop for Gauge<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Shared {
    /// A backend (or listen) by name, for dynamic `use_backend`.
    pub fn backend_by_name(&self, name: &str) -> Option<crate::model::BackendId> {
        self.rt
            .backends
            .iter()
            .position(|b| b.name == name)
            .map(crate::model::BackendId)
    }

    /// The backend a stream goes to: the first `use_backend` rule whose
    /// condition holds, else `default_backend`.
    pub fn route(
        &self,
        fe: &crate::model::Frontend,
        ctx: &crate::acl::FetchCtx,
    ) -> Option<crate::model::BackendId> {
        for rule in &fe.switching {
            if !crate::acl::eval_cond(rule.cond.as_ref(), &fe.acls, ctx) {
                continue;
            }
            match &rule.target {
                crate::model::BackendTarget::Static(id) => return Some(*id),
                // A computed name that is no backend leaves the rule ignored.
                crate::model::BackendTarget::Dynamic(pieces) => {
                    let name = crate::sample::eval_logformat(pieces, ctx);
                    if let Some(id) = self.backend_by_name(&name) {
                        return Some(id);
                    }
                }
            }
        }
        fe.default_backend
    }

    /// Whether an idle connection to this server may serve other clients:
    /// not with `http-reuse never`, nor when a PROXY header on it names
    /// the client it was opened for.
    pub fn shares(&self, be: crate::model::BackendId, server: usize) -> bool {
        let b = self.rt.backend(be);
        let s = &b.servers[server];
        b.reuse != crate::http::pool::Reuse::Never && !s.send_proxy && !s.send_proxy_v2
    }

    /// Usable servers of backend `name` (`nbsrv`).
    pub fn nbsrv(&self, name: &str) -> Option<u32> {
        let i = self.rt.backends.iter().position(|b| b.name == name)?;
        Some(
            self.backends[i]
                .servers
                .iter()
                .filter(|s| s.balanced())
                .count() as u32,
        )
    }
}

/// A listening socket that failed to open, for HAProxy's start-up alert.
pub struct StartError {
    pub message: String,
}

/// Why the worker could not start.
pub enum RunError {
    /// Listening sockets that failed to open.
    Listeners(Vec<StartError>),
    /// Anything else, as HAProxy's start-up alert.
    Fatal(String),
}

/// How the process was started: by a master (inherited sockets, a
/// readiness pipe) or on its own (`-sf`/`-st` old processes to stop).
#[derive(Default)]
pub struct Control {
    /// Listening sockets handed down by the master, by listener key.
    pub inherited: Vec<(String, OwnedFd)>,
    /// Written to once every listener accepts; the master waits for it.
    pub ready: Option<OwnedFd>,
    /// `-sf` / `-st`: old processes to stop softly / at once once ready.
    pub soft_finish: Vec<u32>,
    pub hard_terminate: Vec<u32>,
    /// `-q`: no stop messages.
    pub quiet: bool,
    /// A standalone daemon: stdio goes to /dev/null once listening.
    pub detach: bool,
}

/// What the accept loops do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Listening {
    Running,
    /// SIGTTOU: stop accepting, keep the sockets (SIGTTIN resumes).
    Paused,
    /// Soft stop: close the listeners for good.
    Stopped,
}

/// Binds every listener (or takes them from the master), then serves until
/// a stop signal: SIGUSR1 stops softly (in-flight work finishes, then the
/// process exits 0), SIGTERM/SIGINT at once.
pub fn run(rt: Runtime, reuseport: bool, mut ctl: Control) -> Result<(), RunError> {
    let mut sockets = Vec::new();
    let mut errors = Vec::new();
    for (i, l) in rt.listeners.iter().enumerate() {
        // Its name in logs: `name <n>`, else its number in the frontend.
        let number = rt.listeners[..i]
            .iter()
            .filter(|o| o.frontend == l.frontend)
            .count()
            + 1;
        let name: Arc<str> = l
            .params
            .iter()
            .position(|p| p == "name")
            .and_then(|j| l.params.get(j + 1))
            .map_or_else(|| number.to_string().into(), |n| n.as_str().into());
        let key = crate::listener::key(&l.addr);
        let inherited = ctl
            .inherited
            .iter()
            .position(|(k, _)| *k == key)
            .map(|i| ctl.inherited.swap_remove(i).1);
        let bound = match inherited {
            Some(fd) => crate::listener::adopt(fd).map_err(|e| crate::listener::BindError {
                addr: key.clone(),
                reason: e.to_string(),
            }),
            None => crate::listener::bind(l, reuseport),
        };
        match bound {
            Ok(s) => sockets.push((l.frontend, (l.has("accept-proxy"), name), s)),
            Err(e) => errors.push(StartError {
                message: e.alert(&rt, l),
            }),
        }
    }
    // The stats sockets are each worker's own, bound before privileges
    // are dropped.
    let mut stats_sockets = Vec::new();
    for s in &rt.global.stats_sockets {
        match crate::stats::socket::bind(s, reuseport) {
            Ok(b) => stats_sockets.push((
                b,
                crate::stats::socket::settings(s, rt.global.stats_maxconn),
            )),
            Err(message) => errors.push(StartError { message }),
        }
    }
    if !errors.is_empty() {
        return Err(RunError::Listeners(errors));
    }
    let threads = rt.global.nbthread.map(|n| n as usize).unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    crate::privileges::apply(&rt.global, sockets.len(), threads).map_err(RunError::Fatal)?;
    // Two pipes per spliced TCP session; HAProxy's default bound is a
    // quarter of maxconn.
    let maxpipes = rt
        .global
        .maxpipes
        .map(|m| m as usize)
        .unwrap_or_else(|| rt.global.maxconn.unwrap_or(4096) as usize / 4);
    // Without `tune.pipesize`, pipes are grown to 1 MiB (the kernel's
    // default `pipe-max-size`): four times fewer splice calls per byte than
    // the default 64 KiB, measured at about 0.6x the CPU per GB. Pages are
    // only used while data is in flight, and the kernel's per-user pipe
    // limits keep the default size when exceeded.
    let pipesize = match rt.global.pipesize {
        0 => 1 << 20,
        n => n,
    };
    crate::tcp::pipes::init(maxpipes, pipesize);
    crate::log::set_identity(
        rt.global.log_tag.as_deref(),
        rt.global.log_send_hostname.as_ref().map(|h| h.as_deref()),
    );
    let backends = rt.backends.iter().map(BackendState::new).collect();
    let pools = rt
        .backends
        .iter()
        .map(|b| crate::http::pool::IdlePool::new(b.servers.len()))
        .collect();
    let counters = |n: usize| (0..n).map(|_| AtomicU64::new(0)).collect();
    let stats = crate::stats::Stats::new(&rt, threads);
    stats.listeners.store(
        (sockets.len() + stats_sockets.len()) as u32,
        Ordering::Relaxed,
    );
    let health = crate::health::Health::new(&rt, ctl.quiet);
    let shared = Arc::new(Shared {
        health,
        stats,
        fe_conns: counters(rt.frontends.len()),
        be_conns: counters(rt.backends.len()),
        fe_cur: (0..rt.frontends.len()).map(|_| AtomicU32::new(0)).collect(),
        fe_logs: counters(rt.frontends.len()),
        be_cur: (0..rt.backends.len()).map(|_| AtomicU32::new(0)).collect(),
        rt,
        backends,
        pools,
        stopping: AtomicBool::new(false),
        active: AtomicUsize::new(0),
    });
    // One thread: a current-thread runtime, with no cross-thread wake-ups.
    let cpu_map = shared.rt.global.cpu_map.clone();
    let mut builder = if threads <= 1 {
        if let Some(cpus) = crate::cpumap::cpus_for(&cpu_map, 1, 1) {
            crate::cpumap::bind_current_thread(&cpus);
        }
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(threads);
        // Worker threads take the CPUs `cpu-map` gives their number.
        let started = Arc::new(AtomicUsize::new(0));
        b.on_thread_start(move || {
            let t = started.fetch_add(1, Ordering::Relaxed) + 1;
            if let Some(cpus) = crate::cpumap::cpus_for(&cpu_map, t, threads) {
                crate::cpumap::bind_current_thread(&cpus);
            }
        });
        b
    };
    let runtime = builder
        .enable_all()
        .build()
        .map_err(|e| RunError::Fatal(format!("cannot start the worker threads: {e}")))?;
    runtime.block_on(async move {
        let global_slots = shared.stats.maxconn.slots.clone();
        let (state_tx, state_rx) = tokio::sync::watch::channel(Listening::Running);
        let (cli_stop, cli_stopped) = tokio::sync::watch::channel(false);
        let signals = Signals::new();
        for (fe, accept_proxy, sock) in sockets {
            let sh = shared.clone();
            let global = global_slots.clone();
            let state = state_rx.clone();
            if let Ok(l) = tokio::net::TcpListener::from_std(sock) {
                tokio::spawn(accept_loop(sh, fe, l, accept_proxy, global, state));
            }
        }
        for (bound, set) in stats_sockets {
            tokio::spawn(crate::stats::socket::serve(
                shared.clone(),
                bound,
                set,
                cli_stopped.clone(),
            ));
        }
        // Listening: tell the master, then retire the processes we replace.
        if ctl.detach {
            crate::master::detach_stdio();
        }
        if let Some(fd) = ctl.ready.take() {
            let _ = std::fs::File::from(fd).write_all(b"R");
        }
        for (pids, sig) in [
            (&ctl.soft_finish, libc::SIGUSR1),
            (&ctl.hard_terminate, libc::SIGTERM),
        ] {
            for pid in pids {
                // SAFETY: kill(2) on pids the command line names.
                unsafe { libc::kill(*pid as libc::pid_t, sig) };
            }
        }
        // Health checks run in this worker, as long as it serves.
        crate::health::start(&shared);
        let Some(mut signals) = signals else {
            return std::future::pending().await;
        };
        loop {
            match signals.next().await {
                Signal::Hard(sig) => die(sig),
                Signal::Pause => {
                    let _ = state_tx.send(Listening::Paused);
                }
                Signal::Resume => {
                    let _ = state_tx.send(Listening::Running);
                }
                Signal::Soft => break,
            }
        }
        // `grace`: the process says it is stopping (the `stopping` fetch,
        // for `monitor fail`) and keeps serving a while first.
        crate::acl::STOPPING.store(true, Ordering::SeqCst);
        if let Some(ms) = shared.rt.global.grace_ms {
            let notice = |m: &str| {
                if !ctl.quiet {
                    eprintln!("{:<10} ({}) : {m}", "[NOTICE]", std::process::id());
                }
            };
            notice(&format!("Scheduling a soft-stop in {ms} ms."));
            let end = tokio::time::Instant::now() + std::time::Duration::from_millis(ms);
            loop {
                tokio::select! {
                    _ = tokio::time::sleep_until(end) => break,
                    s = signals.next() => if let Signal::Hard(sig) = s { die(sig) },
                }
            }
            notice("Grace period expired, proceeding with soft-stop now.");
        }
        // Soft stop: no new connections; what is in flight finishes.
        shared.stopping.store(true, Ordering::SeqCst);
        crate::health::stop(&shared);
        let _ = state_tx.send(Listening::Stopped);
        let _ = cli_stop.send(true);
        if !ctl.quiet {
            stop_messages(&shared);
        }
        let hard_stop = shared
            .rt
            .global
            .hard_stop_after_ms
            .map(|ms| tokio::time::Instant::now() + std::time::Duration::from_millis(ms));
        while shared.active.load(Ordering::SeqCst) > 0 {
            if hard_stop.is_some_and(|d| tokio::time::Instant::now() >= d) {
                break;
            }
            tokio::select! {
                _ = tokio::time::sleep(std::time::Duration::from_millis(20)) => {}
                s = signals.next() => if let Signal::Hard(sig) = s { die(sig) },
            }
        }
    });
    // Connections cut by hard-stop-after are not waited for.
    runtime.shutdown_background();
    Ok(())
}

/// HAProxy's `Proxy X stopped (cumulated conns: FE: n, BE: m).` lines, in
/// configuration order, then its internal HTTP client's.
fn stop_messages(sh: &Shared) {
    let mut proxies: Vec<(u32, &str)> = sh
        .rt
        .frontends
        .iter()
        .map(|f| (f.id, f.name.as_str()))
        .chain(sh.rt.backends.iter().map(|b| (b.id, b.name.as_str())))
        .collect();
    proxies.sort();
    proxies.dedup();
    let pid = std::process::id();
    let mut err = std::io::stderr().lock();
    use crate::log::{send, Level};
    for (id, name) in proxies {
        let fe = sh.rt.frontends.iter().position(|f| f.id == id);
        let be = sh.rt.backends.iter().position(|b| b.id == id);
        // The proxy's own log targets (a listen's are the same on both sides).
        let targets = match (fe, be) {
            (Some(i), _) => &sh.rt.frontends[i].log.targets,
            (_, Some(i)) => &sh.rt.backends[i].log_targets,
            _ => &sh.rt.global.log_targets,
        };
        let fe = fe.map_or(0, |i| sh.fe_conns[i].load(Ordering::Relaxed));
        let be = be.map_or(0, |i| sh.be_conns[i].load(Ordering::Relaxed));
        let msg = format!("Proxy {name} stopped (cumulated conns: FE: {fe}, BE: {be}).");
        let _ = writeln!(err, "{:<10} ({pid}) : {msg}", "[WARNING]");
        send(targets, Level::Warning, &msg);
    }
    // 2.6's internal HTTP client proxy logs to the global targets.
    let msg = "Proxy <HTTPCLIENT> stopped (cumulated conns: FE: 0, BE: 0).";
    let _ = writeln!(err, "{:<10} ({pid}) : {msg}", "[WARNING]");
    send(&sh.rt.global.log_targets, Level::Warning, msg);
}

/// Dies of `sig` as with its default action, so the exit status says which
/// signal (143 for SIGTERM) to the master or the shell.
fn die(sig: libc::c_int) -> ! {
    // SAFETY: restoring the default action and raising the signal in our
    // own process.
    unsafe {
        libc::signal(sig, libc::SIG_DFL);
        libc::raise(sig);
    }
    std::process::exit(128 + sig)
}

/// What a signal asks of the worker.
enum Signal {
    /// SIGTERM / SIGINT: stop now.
    Hard(libc::c_int),
    /// SIGUSR1: stop softly.
    Soft,
    /// SIGTTOU / SIGTTIN: pause / resume the listeners.
    Pause,
    Resume,
}

struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
    usr1: tokio::signal::unix::Signal,
    ttou: tokio::signal::unix::Signal,
    ttin: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> Option<Signals> {
        use tokio::signal::unix::{signal, SignalKind};
        Some(Signals {
            term: signal(SignalKind::terminate()).ok()?,
            int: signal(SignalKind::interrupt()).ok()?,
            usr1: signal(SignalKind::user_defined1()).ok()?,
            ttou: signal(SignalKind::from_raw(libc::SIGTTOU)).ok()?,
            ttin: signal(SignalKind::from_raw(libc::SIGTTIN)).ok()?,
        })
    }

    async fn next(&mut self) -> Signal {
        tokio::select! {
            _ = self.term.recv() => Signal::Hard(libc::SIGTERM),
            _ = self.int.recv() => Signal::Hard(libc::SIGINT),
            _ = self.usr1.recv() => Signal::Soft,
            _ = self.ttou.recv() => Signal::Pause,
            _ = self.ttin.recv() => Signal::Resume,
        }
    }
}

/// Accepts connections for one listener. When `maxconn` (global or the
/// frontend's) is reached it stops accepting: excess connections wait in
/// the kernel's accept queue, as with HAProxy, instead of being refused.
async fn accept_loop(
    sh: Arc<Shared>,
    fe: FrontendId,
    l: tokio::net::TcpListener,
    (accept_proxy, listener): (bool, Arc<str>),
    global: Arc<Semaphore>,
    mut state: tokio::sync::watch::Receiver<Listening>,
) {
    // `maxconn` of the frontend (the global one without), and `disable
    // frontend`, both changed at run time from the stats socket.
    let fe_slots = sh.stats.fe_admin[fe.0].maxconn.slots.clone();
    let mut paused = sh.stats.fe_admin[fe.0].paused.subscribe();
    loop {
        if *paused.borrow_and_update() {
            tokio::select! {
                r = paused.changed() => if r.is_err() { return },
                r = state.changed() => if r.is_err() { return },
            }
            continue;
        }
        let now = *state.borrow_and_update();
        match now {
            Listening::Stopped => return,
            Listening::Paused => {
                if state.changed().await.is_err() {
                    return;
                }
                continue;
            }
            Listening::Running => {}
        }
        let next = async {
            let g = global.clone().acquire_owned().await.ok();
            let f = fe_slots.clone().acquire_owned().await.ok();
            (g, f, l.accept().await)
        };
        let (g, f, accepted) = tokio::select! {
            r = next => r,
            // Paused or stopped meanwhile: look again.
            _ = state.changed() => continue,
            _ = paused.changed() => continue,
        };
        let (sock, src) = match accepted {
            Ok(x) => x,
            Err(_) => {
                // EMFILE and friends: back off briefly rather than spin.
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        let dst = sock.local_addr().unwrap_or(src);
        let sh = sh.clone();
        sh.fe_conns[fe.0].fetch_add(1, Ordering::Relaxed);
        sh.active.fetch_add(1, Ordering::SeqCst);
        let accepted_at = (std::time::SystemTime::now(), tokio::time::Instant::now());
        let listener = listener.clone();
        tokio::spawn(async move {
            let _slots = (g, f);
            let _active = Active(&sh.active);
            let _fe_cur = Gauge::new(&sh.fe_cur[fe.0]);
            crate::stats::accepted(&sh, fe.0, sh.fe_cur[fe.0].load(Ordering::Relaxed));
            // Registered for `show sess`; `shutdown session(s)` ends it.
            let reg = sh.stats.sessions.register(fe.0, Some(src));
            let info = reg.info.clone();
            tokio::select! {
                _ = serve_connection(&sh, fe, sock, src, dst, (accept_proxy, listener), accepted_at, info) => {}
                _ = reg.info.kill.notified() => {}
            }
        });
    }
}

/// One accepted connection, from its handshake to its end.
#[allow(clippy::too_many_arguments)]
async fn serve_connection(
    sh: &Arc<Shared>,
    fe: FrontendId,
    sock: tokio::net::TcpStream,
    src: std::net::SocketAddr,
    dst: std::net::SocketAddr,
    (accept_proxy, listener): (bool, Arc<str>),
    accepted_at: (std::time::SystemTime, tokio::time::Instant),
    sess: Arc<crate::stats::sess::SessInfo>,
) {
    let vars = crate::vars::Vars::default();
    // Connection rules, the PROXY header, session rules.
    let fe_ref = sh.rt.frontend(fe);
    let Some((src, dst, initial)) = crate::tcp::handshake(
        sh,
        fe_ref,
        &sock,
        (src, dst),
        (accept_proxy, &listener, accepted_at.0),
        &vars,
    )
    .await
    else {
        return;
    };
    match fe_ref.mode {
        Mode::Http => {
            let conn = crate::http::stream::Accepted {
                src,
                dst,
                initial,
                vars,
                at: accepted_at,
                sess,
            };
            crate::http::stream::serve(sh.clone(), fe, sock, conn).await
        }
        Mode::Tcp => {
            // 2.6 counts every stream in `CumReq`, TCP ones too.
            sh.stats.global.inc(crate::stats::counters::C::ReqTot);
            crate::log::txn::connect_line(fe_ref, src, dst);
            let mut txn = crate::log::txn::TxnLog::new(accepted_at.0, accepted_at.1);
            txn.sess = Some(sess);
            crate::tcp::serve(sh.clone(), fe, sock, src, dst, initial, vars, txn).await
        }
    }
}

/// Counts a connection task as active until it ends (even by panic).
struct Active<'a>(&'a AtomicUsize);

impl Drop for Active<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}
