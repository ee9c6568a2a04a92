//! The master process of master-worker mode (`-W`, `-Ws`, `master-worker`).
//!
//! It runs no traffic and no async runtime: it holds the listening sockets,
//! starts each worker by fork + exec of the binary (so an upgraded binary
//! takes effect at the next reload) with the sockets inherited, and waits
//! for signals. A reload re-reads the configuration; a valid one gets a new
//! worker on the same sockets (nothing is refused in between) and the old
//! worker is asked to stop softly; an invalid one changes nothing.
use crate::cli::Options;
use crate::model::Runtime;
use crate::report::Reporter;
use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::time::Duration;

/// Environment of a worker started by the master: its listening sockets
/// (`key=fd;...`) and the pipe it signals readiness on.
pub const ENV_FDS: &str = "HAPROXY_RS_LISTEN_FDS";
pub const ENV_READY: &str = "HAPROXY_RS_READY_FD";

/// How long a new worker may take to load its configuration and listen.
const READY_TIMEOUT: Duration = Duration::from_secs(120);

/// What a worker started by the master inherits: its listening sockets by
/// listener key, and the pipe it signals readiness on.
pub type Inherited = (Vec<(String, OwnedFd)>, Option<OwnedFd>);

/// In a worker started by the master: the inherited sockets and the
/// readiness pipe, taken out of the environment.
pub fn worker_env() -> Option<Inherited> {
    let fds = std::env::var(ENV_FDS).ok()?;
    let ready = std::env::var(ENV_READY).ok();
    std::env::remove_var(ENV_FDS);
    std::env::remove_var(ENV_READY);
    let take = |v: &str| -> Option<OwnedFd> {
        let fd: RawFd = v.parse().ok().filter(|fd| *fd > 2)?;
        // SAFETY: the master put this descriptor in our environment for us
        // to own; it is open (inherited across exec) and nobody else has it.
        Some(unsafe { OwnedFd::from_raw_fd(fd) })
    };
    let list = fds
        .split(';')
        .filter(|e| !e.is_empty())
        .filter_map(|e| {
            let (k, v) = e.rsplit_once('=')?;
            Some((k.to_string(), take(v)?))
        })
        .collect();
    Some((list, ready.as_deref().and_then(take)))
}

/// A worker process.
struct Worker {
    pid: libc::pid_t,
    /// Reloads it has lived through (`show proc`).
    reloads: u32,
    started: std::time::Instant,
}

/// The master's state.
struct Master {
    opts: Options,
    exe: PathBuf,
    args: Vec<String>,
    /// Listening sockets by listener key, kept across reloads.
    held: Vec<(String, OwnedFd)>,
    current: Option<Worker>,
    old: Vec<Worker>,
    out: Reporter,
    notify: Option<Notify>,
    reuseport: bool,
    /// `-D`: workers get /dev/null for stdio.
    detached: bool,
    /// `-S` sockets.
    cli: Vec<std::os::unix::net::UnixListener>,
    reloads: u32,
    failed: u32,
    started: std::time::Instant,
}

/// Runs the master until it exits; returns the exit code. `runtime` is the
/// configuration loaded and checked at start-up; `daemon` detaches.
pub fn run(opts: Options, args: Vec<String>, runtime: Runtime, daemon: bool, out: Reporter) -> i32 {
    // Signals are handled synchronously with sigtimedwait: block them now,
    // before any child exists (workers unblock them before exec).
    let set = master_sigset();
    // SAFETY: changing this thread's signal mask with a valid set.
    unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
    let parent = if daemon { daemonize() } else { None };
    let exe = std::env::current_exe()
        .map(|p| {
            // After an upgrade the running binary is "deleted": the new one
            // at the same path is what reloads must start.
            let s = p.to_string_lossy();
            PathBuf::from(s.trim_end_matches(" (deleted)"))
        })
        .unwrap_or_else(|_| PathBuf::from("/proc/self/exe"));
    let mut m = Master {
        reuseport: !opts.no_reuseport,
        opts,
        exe,
        args,
        held: Vec::new(),
        current: None,
        old: Vec::new(),
        out,
        notify: Notify::from_env(),
        detached: parent.is_some(),
        cli: Vec::new(),
        reloads: 0,
        failed: 0,
        started: std::time::Instant::now(),
    };
    match crate::master_cli::open(&m.opts.master_cli) {
        Ok(l) => m.cli = l,
        Err(msg) => {
            m.out.alert_plain(&msg);
            return 1;
        }
    }
    if let Err(msgs) = m.bind(&runtime) {
        for msg in &msgs {
            m.out.alert_plain(msg);
        }
        m.out.alert_plain(
            "[haproxy.main()] Some protocols failed to start their listeners! Exiting.",
        );
        return 1;
    }
    let worker = match m.spawn() {
        Ok(w) => w,
        Err(code) => return code,
    };
    m.out
        .notice_plain(&format!("New worker ({}) forked", worker.pid));
    m.current = Some(worker);
    if let Some(p) = &m.opts.pidfile {
        let _ = std::fs::write(p, format!("{}\n", std::process::id()));
    }
    if let Some(fd) = parent {
        // The launcher exits 0 now; the master lives on, detached.
        detach_stdio();
        let _ = std::fs::File::from(fd).write_all_ok();
    } else {
        m.out.notice_plain("Loading success.");
    }
    if let Some(n) = &m.notify {
        n.send(&format!("READY=1\nMAINPID={}\n", std::process::id()));
    }
    m.serve(&set)
}

trait WriteOk {
    fn write_all_ok(self) -> std::io::Result<()>;
}

impl WriteOk for std::fs::File {
    fn write_all_ok(mut self) -> std::io::Result<()> {
        std::io::Write::write_all(&mut self, b"R")
    }
}

impl Master {
    /// Opens the sockets of `rt`'s listeners that are not held yet, and
    /// closes held ones that are no longer configured.
    fn bind(&mut self, rt: &Runtime) -> Result<(), Vec<String>> {
        let mut keep = Vec::new();
        let mut errors = Vec::new();
        for l in &rt.listeners {
            let key = crate::listener::key(&l.addr);
            if keep.iter().any(|(k, _): &(String, OwnedFd)| *k == key) {
                continue;
            }
            if let Some(i) = self.held.iter().position(|(k, _)| *k == key) {
                keep.push(self.held.swap_remove(i));
                continue;
            }
            match crate::listener::bind(l, self.reuseport) {
                Ok(s) => keep.push((key, OwnedFd::from(s))),
                Err(e) => errors.push(e.alert(rt, l)),
            }
        }
        if !errors.is_empty() {
            // Nothing changes: newly opened sockets close, held ones stay.
            self.held.extend(keep.into_iter().filter(|(k, _)| {
                rt.listeners
                    .iter()
                    .any(|l| crate::listener::key(&l.addr) == *k)
            }));
            return Err(errors);
        }
        // Sockets of removed binds close here (the old worker keeps its
        // own copies until it stops).
        self.held = keep;
        Ok(())
    }

    /// Starts a worker on the held sockets and waits until it listens. On
    /// failure, the exit code to report (the worker printed why).
    fn spawn(&mut self) -> Result<Worker, i32> {
        let mut fds = [0; 2];
        // SAFETY: `fds` has room for the two descriptors pipe2 writes.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
            self.out
                .alert_plain("cannot create a pipe to start a worker");
            return Err(1);
        }
        // SAFETY: pipe2 succeeded; both descriptors are ours.
        let (r, w) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        let env_fds: String = self
            .held
            .iter()
            .map(|(k, fd)| format!("{k}={};", fd.as_raw_fd()))
            .collect();
        let inherit: Vec<RawFd> = self
            .held
            .iter()
            .map(|(_, fd)| fd.as_raw_fd())
            .chain([w.as_raw_fd()])
            .collect();
        let mut cmd = std::process::Command::new(&self.exe);
        if self.detached {
            // A daemon's workers keep nothing of the launcher's terminal.
            cmd.stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null());
        }
        cmd.args(&self.args)
            .env(ENV_FDS, env_fds)
            .env(ENV_READY, w.as_raw_fd().to_string());
        // SAFETY: between fork and exec only async-signal-safe calls:
        // fcntl on descriptors we own and sigprocmask.
        unsafe {
            cmd.pre_exec(move || {
                for fd in &inherit {
                    let flags = libc::fcntl(*fd, libc::F_GETFD);
                    libc::fcntl(*fd, libc::F_SETFD, flags & !libc::FD_CLOEXEC);
                }
                let mut empty: libc::sigset_t = std::mem::zeroed();
                libc::sigemptyset(&mut empty);
                libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
                Ok(())
            });
        }
        let child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => {
                self.out.alert_plain(&format!("cannot start a worker: {e}"));
                return Err(1);
            }
        };
        drop(w);
        let pid = child.id() as libc::pid_t;
        // std's Child is not waited through: the master reaps with waitpid.
        std::mem::forget(child);
        if wait_ready(&r, READY_TIMEOUT) {
            return Ok(Worker {
                pid,
                reloads: 0,
                started: std::time::Instant::now(),
            });
        }
        // It exited (its alerts are on stderr) or hung: make sure it is gone.
        // SAFETY: kill/waitpid on the child we just started.
        let status = unsafe {
            libc::kill(pid, libc::SIGKILL);
            let mut st = 0;
            libc::waitpid(pid, &mut st, 0);
            st
        };
        Err(exit_code(status).0.max(1))
    }

    /// The signal and master CLI loop.
    fn serve(&mut self, set: &libc::sigset_t) -> i32 {
        // SAFETY: a signalfd for the blocked set.
        let sfd = unsafe { libc::signalfd(-1, set, libc::SFD_CLOEXEC | libc::SFD_NONBLOCK) };
        if sfd < 0 {
            self.out.alert_plain("cannot create the master's signalfd");
            return 1;
        }
        // SAFETY: signalfd returned a new descriptor that we own.
        let sfd = unsafe { OwnedFd::from_raw_fd(sfd) };
        loop {
            let mut fds: Vec<libc::pollfd> = [sfd.as_raw_fd()]
                .into_iter()
                .chain(self.cli.iter().map(|l| l.as_raw_fd()))
                .map(|fd| libc::pollfd {
                    fd,
                    events: libc::POLLIN,
                    revents: 0,
                })
                .collect();
            // SAFETY: poll on a valid array of pollfds.
            unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, 1000) };
            while let Some(sig) = read_signal(&sfd) {
                match sig {
                    libc::SIGUSR2 | libc::SIGHUP => self.reload(),
                    libc::SIGUSR1 | libc::SIGTERM | libc::SIGINT => return self.stop(sig),
                    libc::SIGTTOU | libc::SIGTTIN => self.signal_all(sig),
                    _ => {}
                }
            }
            if let Some(code) = self.reap() {
                return code;
            }
            for i in 0..self.cli.len() {
                while let Ok((stream, _)) = self.cli[i].accept() {
                    if let crate::master_cli::Action::Reload = self.cli_command(stream) {
                        self.reload();
                    }
                }
            }
        }
    }

    fn cli_command(&self, stream: std::os::unix::net::UnixStream) -> crate::master_cli::Action {
        use crate::master_cli::Proc;
        let p = |w: &Worker| Proc {
            pid: w.pid,
            reloads: w.reloads,
            started: w.started,
        };
        let master = Proc {
            pid: std::process::id() as i32,
            reloads: self.reloads,
            started: self.started,
        };
        let current = self.current.as_ref().map(p);
        let old: Vec<Proc> = self.old.iter().map(p).collect();
        crate::master_cli::serve(stream, &master, self.failed, current.as_ref(), &old)
    }

    /// Reaps exited workers; a current worker that died ends everything
    /// (HAProxy's exit-on-failure), giving the exit code.
    fn reap(&mut self) -> Option<i32> {
        loop {
            let mut st = 0;
            // SAFETY: waitpid on any child, without blocking.
            let pid = unsafe { libc::waitpid(-1, &mut st, libc::WNOHANG) };
            if pid <= 0 {
                return None;
            }
            let (code, why) = exit_code(st);
            if self.current.as_ref().is_some_and(|w| w.pid == pid) {
                self.current = None;
                self.out.alert_plain(&format!(
                    "Current worker ({pid}) exited with code {code} ({why})"
                ));
                self.out
                    .alert_plain("exit-on-failure: killing every processes with SIGTERM");
                self.signal_all(libc::SIGTERM);
                self.wait_all();
                self.out
                    .warning_plain(&format!("All workers exited. Exiting... ({code})"));
                return Some(code);
            }
            self.old.retain(|w| w.pid != pid);
            self.out.warning_plain(&format!(
                "Former worker ({pid}) exited with code {code} ({why})"
            ));
        }
    }

    fn signal_all(&self, sig: libc::c_int) {
        for w in self.current.iter().chain(&self.old) {
            // SAFETY: kill(2) on our own children.
            unsafe { libc::kill(w.pid, sig) };
        }
    }

    /// Waits for every worker to exit, reporting each.
    fn wait_all(&mut self) -> i32 {
        let mut last = 0;
        while self.current.is_some() || !self.old.is_empty() {
            let mut st = 0;
            // SAFETY: blocking waitpid on our children.
            let pid = unsafe { libc::waitpid(-1, &mut st, 0) };
            if pid < 0 {
                break;
            }
            let (code, why) = exit_code(st);
            if self.current.as_ref().is_some_and(|w| w.pid == pid) {
                self.current = None;
                last = code;
                let msg = format!("Current worker ({pid}) exited with code {code} ({why})");
                if code == 0 {
                    self.out.warning_plain(&msg);
                } else {
                    self.out.alert_plain(&msg);
                }
            } else if self.old.iter().any(|w| w.pid == pid) {
                self.old.retain(|w| w.pid != pid);
                self.out.warning_plain(&format!(
                    "Former worker ({pid}) exited with code {code} ({why})"
                ));
            }
        }
        last
    }

    /// SIGUSR1 (soft), SIGTERM or SIGINT: stop the workers, then exit.
    fn stop(&mut self, sig: libc::c_int) -> i32 {
        self.out.warning_plain("Exiting Master process...");
        self.signal_all(sig);
        self.wait_all();
        // HAProxy's master exits 0 on SIGTERM/SIGUSR1, 130 on SIGINT.
        let code = if sig == libc::SIGINT { 130 } else { 0 };
        self.out
            .warning_plain(&format!("All workers exited. Exiting... ({code})"));
        if let Some(p) = &self.opts.pidfile {
            let _ = std::fs::remove_file(p);
        }
        code
    }

    /// SIGUSR2 / SIGHUP: load the configuration again; a valid one gets a
    /// new worker and the old one stops softly, an invalid one changes
    /// nothing.
    fn reload(&mut self) {
        self.out.notice_plain("Reloading HAProxy");
        self.reloads += 1;
        for w in self.current.iter_mut().chain(self.old.iter_mut()) {
            w.reloads += 1;
        }
        if let Some(n) = &self.notify {
            n.send("RELOADING=1\n");
        }
        // A new load prints its own banner before its first warning.
        self.out = Reporter::new(&self.opts);
        let loaded = crate::prepare(&self.opts, &mut self.out);
        let ok = match loaded {
            Ok(rt) => match self.bind(&rt) {
                Ok(()) => true,
                Err(msgs) => {
                    for m in &msgs {
                        self.out.alert_plain(m);
                    }
                    false
                }
            },
            Err(_) => false,
        };
        let spawned = if ok { self.spawn().ok() } else { None };
        match spawned {
            Some(w) => {
                self.out
                    .notice_plain(&format!("New worker ({}) forked", w.pid));
                self.out.notice_plain("Loading success.");
                if let Some(old) = self.current.replace(w) {
                    // SAFETY: kill(2) on our own child.
                    unsafe { libc::kill(old.pid, libc::SIGUSR1) };
                    self.old.push(old);
                }
            }
            None => {
                self.failed += 1;
                self.out.warning_plain("Loading failure!");
            }
        }
        if let Some(n) = &self.notify {
            n.send("READY=1\n");
        }
    }
}

/// The signals the master handles.
fn master_sigset() -> libc::sigset_t {
    // SAFETY: building a sigset with libc's own functions.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for s in [
            libc::SIGHUP,
            libc::SIGUSR1,
            libc::SIGUSR2,
            libc::SIGTERM,
            libc::SIGINT,
            libc::SIGCHLD,
            libc::SIGTTOU,
            libc::SIGTTIN,
            libc::SIGQUIT,
        ] {
            libc::sigaddset(&mut set, s);
        }
        set
    }
}

/// The next signal queued on the signalfd, if any.
fn read_signal(sfd: &OwnedFd) -> Option<libc::c_int> {
    // SAFETY: an all-zero siginfo is a valid value to read into.
    let mut info: libc::signalfd_siginfo = unsafe { std::mem::zeroed() };
    let size = std::mem::size_of::<libc::signalfd_siginfo>();
    // SAFETY: reading one siginfo into a buffer of its size.
    let n = unsafe {
        libc::read(
            sfd.as_raw_fd(),
            &mut info as *mut _ as *mut libc::c_void,
            size,
        )
    };
    (n == size as isize).then_some(info.ssi_signo as libc::c_int)
}

/// Waits until the worker writes its ready byte; false if it closes the
/// pipe first (it exited) or the time runs out.
fn wait_ready(r: &OwnedFd, timeout: Duration) -> bool {
    let mut p = libc::pollfd {
        fd: r.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: poll on one valid pollfd.
    let n = unsafe { libc::poll(&mut p, 1, timeout.as_millis() as libc::c_int) };
    if n <= 0 {
        return false;
    }
    let mut b = [0u8; 1];
    // SAFETY: read into a one-byte buffer from a descriptor we own.
    let n = unsafe { libc::read(r.as_raw_fd(), b.as_mut_ptr() as *mut libc::c_void, 1) };
    n == 1
}

/// A wait status as HAProxy reports it: the exit code (128 + signal for a
/// signal) and its name.
fn exit_code(status: libc::c_int) -> (i32, &'static str) {
    let code = if libc::WIFSIGNALED(status) {
        128 + libc::WTERMSIG(status)
    } else {
        libc::WEXITSTATUS(status)
    };
    let name = match code - 128 {
        libc::SIGHUP => "Hangup",
        libc::SIGINT => "Interrupt",
        libc::SIGQUIT => "Quit",
        libc::SIGILL => "Illegal instruction",
        libc::SIGABRT => "Aborted",
        libc::SIGBUS => "Bus error",
        libc::SIGFPE => "Floating point exception",
        libc::SIGKILL => "Killed",
        libc::SIGUSR1 => "User defined signal 1",
        libc::SIGSEGV => "Segmentation fault",
        libc::SIGUSR2 => "User defined signal 2",
        libc::SIGPIPE => "Broken pipe",
        libc::SIGALRM => "Alarm clock",
        libc::SIGTERM => "Terminated",
        _ => "Exit",
    };
    (code, name)
}

/// `-D`: the launcher forks; the child becomes a session leader and goes
/// on, the launcher waits on a pipe until the child says it runs (exit 0)
/// or closes it without a word (exit 1). Returns the child's end.
pub fn daemonize() -> Option<OwnedFd> {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 writes.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return None;
    }
    // SAFETY: pipe2 succeeded; both descriptors are ours.
    let (r, w) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    // SAFETY: no other thread exists yet (no runtime has started), so the
    // child may go on running Rust code after fork.
    match unsafe { libc::fork() } {
        -1 => None,
        0 => {
            drop(r);
            // SAFETY: setsid in the new child.
            unsafe { libc::setsid() };
            Some(w)
        }
        _ => {
            drop(w);
            let mut b = [0u8; 1];
            let ok = matches!(std::fs::File::from(r).read(&mut b), Ok(1));
            std::process::exit(if ok { 0 } else { 1 })
        }
    }
}

/// Points stdin, stdout and stderr at /dev/null (a detached daemon).
pub fn detach_stdio() {
    if let Ok(null) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
    {
        for fd in 0..3 {
            // SAFETY: dup2 onto the standard descriptors.
            unsafe { libc::dup2(null.as_raw_fd(), fd) };
        }
    }
}

/// systemd's notification socket (`NOTIFY_SOCKET`, with `-Ws`).
struct Notify {
    sock: std::os::unix::net::UnixDatagram,
    addr: std::os::unix::net::SocketAddr,
}

impl Notify {
    fn from_env() -> Option<Notify> {
        let path = std::env::var("NOTIFY_SOCKET").ok()?;
        let sock = std::os::unix::net::UnixDatagram::unbound().ok()?;
        let addr = if let Some(name) = path.strip_prefix('@') {
            use std::os::linux::net::SocketAddrExt;
            std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).ok()?
        } else {
            std::os::unix::net::SocketAddr::from_pathname(&path).ok()?
        };
        Some(Notify { sock, addr })
    }

    fn send(&self, msg: &str) {
        let _ = self.sock.send_to_addr(msg.as_bytes(), &self.addr);
    }
}
