//! End-to-end: the process model. `-W` (master-worker), `-D` (daemon),
//! `-Ws` (systemd notify), reloads on SIGUSR2, the stop signals, and a
//! reload under load that must not fail a single request.
mod common;
use common::{Backend, Behaviour, Proxy};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_haproxy");

fn cfg(backend: SocketAddr) -> String {
    format!(
        "defaults\n mode http\n timeout connect 2s\n timeout client 10s\n timeout server 10s\n timeout http-keep-alive 10s\n\
         frontend fe\n bind {{fe}}\n default_backend be\nbackend be\n server s {backend}\n"
    )
}

/// Rewrites the proxy's configuration file (what a reload reads).
fn rewrite(px: &Proxy, text: &str) {
    std::fs::write(px.dir.join("haproxy.cfg"), text.replace("{fe}", "fd@3")).expect("cfg");
}

/// One GET on a new connection: (status, first body line), None on failure.
fn get(addr: SocketAddr) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(15))).ok();
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    let status = out.split_whitespace().nth(1)?.parse().ok()?;
    let body = out.split("\r\n\r\n").nth(1)?.lines().next()?.to_string();
    Some((status, body))
}

/// Waits until the proxy answers with `want` as first body line.
fn wait_for(addr: SocketAddr, want: &str) -> bool {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        if get(addr).is_some_and(|(st, b)| st == 200 && b == want) {
            return true;
        }
        thread::sleep(Duration::from_millis(50));
    }
    false
}

/// Children of `pid` that are still running (not zombies).
fn children(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid ...
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
            continue;
        };
        let f: Vec<&str> = rest.split_whitespace().collect();
        if f.get(1).and_then(|p| p.parse::<u32>().ok()) == Some(pid) && f.first() != Some(&"Z") {
            if let Ok(p) = e.file_name().to_string_lossy().parse() {
                out.push(p);
            }
        }
    }
    out
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            !s.rsplit_once(')')
                .is_some_and(|(_, r)| r.trim_start().starts_with('Z'))
        })
        .unwrap_or(false)
}

fn wait_gone(pid: u32) -> bool {
    let start = Instant::now();
    while alive(pid) {
        if start.elapsed() > Duration::from_secs(10) {
            return false;
        }
        thread::sleep(Duration::from_millis(20));
    }
    true
}

fn pidfile(px: &Proxy) -> std::path::PathBuf {
    px.dir.join("haproxy.pid")
}

fn start_w(name: &str, text: &str, extra: &[&str]) -> Proxy {
    let dir = common::scratch(name);
    let pid = dir.join("haproxy.pid");
    let pid = pid.to_str().expect("path");
    let mut args = vec!["-W", "-p", pid];
    args.extend_from_slice(extra);
    Proxy::start_with(BIN, name, text, &args, &[])
}

#[test]
fn reload_changes_routing_while_the_old_worker_finishes_in_flight() {
    let slow = Backend::start("slow", Behaviour::Slow(Duration::from_secs(3)));
    let fresh = Backend::http("fresh");
    let mut px = start_w("mw-reload", &cfg(slow.addr), &[]);
    let addr = px.addr;
    // The first worker, and the pidfile naming the master.
    let start = Instant::now();
    while children(px.pid()).is_empty() && start.elapsed() < Duration::from_secs(10) {
        thread::sleep(Duration::from_millis(20));
    }
    let first = children(px.pid());
    assert_eq!(first.len(), 1, "one worker");
    // The master writes it around the time it starts the worker: wait.
    let start = Instant::now();
    let pid_text = loop {
        match std::fs::read_to_string(pidfile(&px)) {
            Ok(t) if !t.is_empty() => break t,
            _ if start.elapsed() > Duration::from_secs(10) => panic!("no pidfile"),
            _ => thread::sleep(Duration::from_millis(20)),
        }
    };
    assert_eq!(
        pid_text,
        format!("{}\n", px.pid()),
        "the pidfile names the master"
    );
    // A request in flight across the reload.
    let inflight = thread::spawn(move || get(addr));
    thread::sleep(Duration::from_millis(500));
    rewrite(&px, &cfg(fresh.addr));
    px.signal(libc::SIGUSR2);
    assert!(
        wait_for(addr, "fresh"),
        "the new configuration takes effect"
    );
    assert_eq!(
        inflight.join().expect("thread"),
        Some((200, "slow".into())),
        "the old worker finished the request"
    );
    assert!(wait_gone(first[0]), "the old worker exits once done");
    let now = children(px.pid());
    assert_eq!(now.len(), 1);
    assert_ne!(now[0], first[0]);
    px.signal(libc::SIGTERM);
    let (code, err) = px.wait_exit(Duration::from_secs(10)).expect("master exits");
    assert_eq!(code, 0, "{err}");
    for want in [
        "Reloading HAProxy",
        "Loading success.",
        &format!("Former worker ({}) exited with code 0 (Exit)", first[0]),
        &format!(
            "Current worker ({}) exited with code 143 (Terminated)",
            now[0]
        ),
        "All workers exited. Exiting... (0)",
        "Proxy fe stopped (cumulated conns: FE: ",
    ] {
        assert!(err.contains(want), "missing {want:?} in:\n{err}");
    }
    assert!(!alive(now[0]), "no worker left behind");
}

#[test]
fn a_broken_config_at_reload_keeps_the_old_worker_serving() {
    let a = Backend::http("a");
    let b = Backend::http("b");
    let mut px = start_w("mw-broken", &cfg(a.addr), &[]);
    let addr = px.addr;
    assert!(wait_for(addr, "a"));
    let good = cfg(b.addr);
    rewrite(
        &px,
        &good.replace("default_backend be", "default_backend be\n foobar"),
    );
    px.signal(libc::SIGUSR2);
    thread::sleep(Duration::from_millis(500));
    assert_eq!(
        get(addr),
        Some((200, "a".into())),
        "still the old configuration"
    );
    rewrite(&px, &good);
    px.signal(libc::SIGUSR2);
    assert!(wait_for(addr, "b"), "a later valid reload works");
    px.signal(libc::SIGTERM);
    let (code, err) = px.wait_exit(Duration::from_secs(10)).expect("exit");
    assert_eq!(code, 0);
    assert!(
        err.contains("unknown keyword 'foobar' in 'frontend' section"),
        "{err}"
    );
    assert!(err.contains("Loading failure!"), "{err}");
}

#[test]
fn sigusr1_lets_in_flight_requests_finish() {
    let slow = Backend::start("slow", Behaviour::Slow(Duration::from_secs(2)));
    let mut px = start_w("mw-usr1", &cfg(slow.addr), &[]);
    let addr = px.addr;
    let start = Instant::now();
    while children(px.pid()).is_empty() && start.elapsed() < Duration::from_secs(10) {
        thread::sleep(Duration::from_millis(20));
    }
    let worker = children(px.pid())[0];
    let inflight = thread::spawn(move || get(addr));
    thread::sleep(Duration::from_millis(500));
    px.signal(libc::SIGUSR1);
    assert_eq!(inflight.join().expect("thread"), Some((200, "slow".into())));
    let (code, err) = px.wait_exit(Duration::from_secs(10)).expect("exit");
    assert_eq!(code, 0);
    assert!(
        err.contains(&format!(
            "Current worker ({worker}) exited with code 0 (Exit)"
        )),
        "{err}"
    );
    assert!(err.contains("Exiting Master process..."), "{err}");
    assert!(!alive(worker));
}

#[test]
fn a_worker_killed_stops_the_master_with_its_status() {
    let a = Backend::http("a");
    let mut px = start_w("mw-kill9", &cfg(a.addr), &[]);
    assert!(wait_for(px.addr, "a"));
    let worker = children(px.pid())[0];
    // SAFETY: SIGKILL to the worker this test started.
    unsafe { libc::kill(worker as i32, libc::SIGKILL) };
    let (code, err) = px.wait_exit(Duration::from_secs(10)).expect("exit");
    assert_eq!(code, 137, "{err}");
    assert!(err.contains("exited with code 137 (Killed)"), "{err}");
    assert!(
        err.contains("exit-on-failure: killing every processes with SIGTERM"),
        "{err}"
    );
}

#[test]
fn daemon_master_detaches_and_writes_its_pid() {
    let a = Backend::http("a");
    let mut px = start_w("mw-daemon", &cfg(a.addr), &["-D"]);
    let (code, err) = px
        .wait_exit(Duration::from_secs(10))
        .expect("the launcher exits");
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("New worker ("), "{err}");
    let master: u32 = std::fs::read_to_string(pidfile(&px))
        .expect("pidfile")
        .trim()
        .parse()
        .expect("pid");
    assert!(alive(master));
    // SAFETY: getsid on a pid.
    let sid = unsafe { libc::getsid(master as i32) };
    assert_eq!(sid as u32, master, "the master leads its own session");
    assert!(wait_for(px.addr, "a"), "the daemon serves");
    let workers = children(master);
    // SAFETY: stopping the daemon this test started.
    unsafe { libc::kill(master as i32, libc::SIGTERM) };
    assert!(wait_gone(master));
    assert!(
        workers.iter().all(|w| wait_gone(*w)),
        "no worker left behind"
    );
}

#[test]
fn systemd_notify_ready_and_reloading() {
    let a = Backend::http("a");
    let dir = common::scratch("mw-notify-sock");
    let sock_path = dir.join("notify.sock");
    let sock = std::os::unix::net::UnixDatagram::bind(&sock_path).expect("notify socket");
    sock.set_read_timeout(Some(Duration::from_secs(10))).ok();
    let path = sock_path.to_str().expect("path");
    let px = Proxy::start_with(
        BIN,
        "mw-notify",
        &cfg(a.addr),
        &["-Ws"],
        &[("NOTIFY_SOCKET", path)],
    );
    let recv = || {
        let mut b = [0u8; 512];
        let n = sock.recv(&mut b).expect("notification");
        String::from_utf8_lossy(&b[..n]).into_owned()
    };
    let ready = recv();
    assert!(ready.starts_with("READY=1\n"), "{ready}");
    assert!(ready.contains(&format!("MAINPID={}", px.pid())), "{ready}");
    px.signal(libc::SIGUSR2);
    assert!(recv().starts_with("RELOADING=1"));
    assert!(recv().starts_with("READY=1"));
}

#[test]
fn standalone_daemon_replaced_with_sf() {
    let a = Backend::start("a", Behaviour::Slow(Duration::from_secs(2)));
    let mut first = Proxy::start_with(
        BIN,
        "sa-daemon-1",
        &cfg(a.addr),
        &["-D", "-p", "/dev/null"],
        &[],
    );
    assert_eq!(
        first.wait_exit(Duration::from_secs(10)).map(|r| r.0),
        Some(0)
    );
    let dir = common::scratch("sa-daemon-pids");
    let pf = dir.join("old.pid");
    // The daemon is the process serving; find it through the socket.
    let addr = first.addr;
    let inflight = thread::spawn(move || get(addr));
    thread::sleep(Duration::from_millis(300));
    let old = daemon_serving(addr).expect("the first daemon");
    std::fs::write(&pf, format!("{old}\n")).expect("pid");
    let old_s = old.to_string();
    let mut second = Proxy::start_with(
        BIN,
        "sa-daemon-2",
        &cfg(a.addr),
        &["-D", "-sf", &old_s],
        &[],
    );
    assert_eq!(
        second.wait_exit(Duration::from_secs(10)).map(|r| r.0),
        Some(0)
    );
    assert_eq!(
        inflight.join().expect("thread"),
        Some((200, "a".into())),
        "finished by the old one"
    );
    assert!(wait_gone(old), "the old daemon exits after its request");
    if let Some(new) = daemon_serving(second.addr) {
        // SAFETY: stopping the daemon this test started.
        unsafe { libc::kill(new as i32, libc::SIGTERM) };
        assert!(wait_gone(new));
    }
}

/// The pid of a haproxy process of ours holding a socket bound to `addr`.
fn daemon_serving(addr: SocketAddr) -> Option<u32> {
    let port = format!(":{:04X}", addr.port());
    let table = std::fs::read_to_string("/proc/net/tcp").ok()?;
    let inode = table
        .lines()
        .find(|l| {
            l.split_whitespace()
                .nth(1)
                .is_some_and(|a| a.ends_with(&port))
                && l.split_whitespace().nth(3) == Some("0A")
        })?
        .split_whitespace()
        .nth(9)?
        .to_string();
    let want = format!("socket:[{inode}]");
    for e in std::fs::read_dir("/proc").ok()?.flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let exe = std::fs::read_link(e.path().join("exe")).ok();
        if exe.is_none_or(|x| !x.to_string_lossy().contains("haproxy")) || pid == std::process::id()
        {
            continue;
        }
        let fds = std::fs::read_dir(e.path().join("fd"))
            .into_iter()
            .flatten()
            .flatten();
        if fds
            .filter_map(|f| std::fs::read_link(f.path()).ok())
            .any(|l| l.to_string_lossy() == want)
        {
            return Some(pid);
        }
    }
    None
}

/// Keep-alive and new-connection clients run while the master reloads 20
/// times, 200 ms apart: not one request may fail.
#[test]
fn reloads_under_load_fail_no_request() {
    let a = Backend::http("a");
    let mut px = start_w("mw-load", &cfg(a.addr), &[]);
    let addr = px.addr;
    assert!(wait_for(addr, "a"));
    let stop = Arc::new(AtomicBool::new(false));
    let (ok, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let mut clients = Vec::new();
    for keepalive in [true, true, false, false] {
        let (stop, ok, failed) = (stop.clone(), ok.clone(), failed.clone());
        clients.push(thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                match session(addr, keepalive, &stop) {
                    Ok(n) => ok.fetch_add(n, Ordering::Relaxed),
                    Err(n) => {
                        failed.fetch_add(1, Ordering::Relaxed);
                        ok.fetch_add(n, Ordering::Relaxed)
                    }
                };
            }
        }));
    }
    for _ in 0..20 {
        thread::sleep(Duration::from_millis(200));
        px.signal(libc::SIGUSR2);
    }
    thread::sleep(Duration::from_millis(500));
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().expect("client");
    }
    px.signal(libc::SIGTERM);
    let (_, err) = px.wait_exit(Duration::from_secs(20)).expect("exit");
    assert_eq!(err.matches("Loading success.").count(), 21, "{err}");
    let (ok, failed) = (ok.load(Ordering::Relaxed), failed.load(Ordering::Relaxed));
    assert!(ok > 100, "the clients were busy: {ok}");
    assert_eq!(failed, 0, "{failed} failed requests out of {}", ok + failed);
}

/// One client connection: requests until the proxy says `connection:
/// close` (keep-alive) or one request. Ok(answered) or Err(answered before
/// the failure).
fn session(addr: SocketAddr, keepalive: bool, stop: &AtomicBool) -> Result<usize, usize> {
    let s = TcpStream::connect(addr).map_err(|_| 0usize)?;
    s.set_read_timeout(Some(Duration::from_secs(15))).ok();
    let mut rd = std::io::BufReader::new(s.try_clone().map_err(|_| 0usize)?);
    let mut w = s;
    let mut n = 0;
    loop {
        let req: &[u8] = if keepalive {
            b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
        } else {
            b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        };
        w.write_all(req).map_err(|_| n)?;
        let head = common::read_head(&mut rd).ok_or(n)?;
        if !head.starts_with("HTTP/1.1 200") {
            return Err(n);
        }
        let _ = common::read_body(&mut rd, &head);
        n += 1;
        let closing = head.to_ascii_lowercase().contains("connection: close");
        if !keepalive || closing || stop.load(Ordering::Relaxed) {
            return Ok(n);
        }
    }
}

/// `chroot`, `user`/`group` and `ulimit-n` are applied by the worker once
/// its sockets are open; it still serves.
#[test]
fn worker_drops_privileges_after_binding() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        println!("SKIP ***** not root: privilege dropping not tested *****");
        assert!(
            std::env::var("REQUIRE_ALL").as_deref() != Ok("1"),
            "REQUIRE_ALL=1 and not root"
        );
        return;
    }
    let a = Backend::http("a");
    let jail = common::scratch("mw-jail-root");
    let text = cfg(a.addr).replace(
        "defaults\n",
        &format!(
            "global\n chroot {}\n user nobody\n group nogroup\n ulimit-n 1000\ndefaults\n",
            jail.display()
        ),
    );
    let px = start_w("mw-privileges", &text, &[]);
    assert!(
        wait_for(px.addr, "a"),
        "the worker serves after dropping privileges"
    );
    let worker = children(px.pid())[0];
    let status = std::fs::read_to_string(format!("/proc/{worker}/status")).expect("status");
    assert!(
        status.lines().any(|l| l.starts_with("Uid:\t65534\t65534")),
        "{status}"
    );
    assert!(
        status.lines().any(|l| l.starts_with("Gid:\t65534\t65534")),
        "{status}"
    );
    assert_eq!(
        std::fs::read_link(format!("/proc/{worker}/root")).expect("root"),
        jail
    );
    let limits = std::fs::read_to_string(format!("/proc/{worker}/limits")).expect("limits");
    assert!(
        limits
            .lines()
            .any(|l| l.starts_with("Max open files") && l.contains(" 1000 ")),
        "{limits}"
    );
    // The master keeps its identity: it reloads the configuration.
    let master = std::fs::read_to_string(format!("/proc/{}/status", px.pid())).expect("status");
    assert!(
        master.lines().any(|l| l.starts_with("Uid:\t0\t")),
        "{master}"
    );
}

/// Talks to the master CLI: one command, the whole answer.
fn master_cli(path: &std::path::Path, cmd: &str) -> String {
    let mut s = std::os::unix::net::UnixStream::connect(path).expect("master CLI");
    s.set_read_timeout(Some(Duration::from_secs(10))).ok();
    s.write_all(format!("{cmd}\n").as_bytes()).expect("send");
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

#[test]
fn master_cli_shows_processes_and_reloads() {
    let a = Backend::http("a");
    let b = Backend::http("b");
    let sock = common::scratch("mw-cli-sock").join("master.sock");
    let sock_s = sock.to_str().expect("path").to_string();
    let px = start_w("mw-cli", &cfg(a.addr), &["-S", &sock_s]);
    assert!(wait_for(px.addr, "a"));
    let worker = children(px.pid())[0];
    let proc_ = master_cli(&sock, "show proc");
    let lines: Vec<&str> = proc_.lines().collect();
    assert_eq!(
        lines[0],
        "#<PID>          <type>          <reloads>       <uptime>        <version>      "
    );
    assert!(
        lines[1].starts_with(&format!(
            "{:<15} master          0 [failed: 0]   0d00h00m0",
            px.pid()
        )),
        "{proc_}"
    );
    assert_eq!(lines[2], "# workers");
    assert!(
        lines[3].starts_with(&format!("{worker:<15} worker          0               ")),
        "{proc_}"
    );
    assert!(proc_.ends_with("# programs\n\n"), "{proc_:?}");
    rewrite(&px, &cfg(b.addr));
    assert_eq!(master_cli(&sock, "reload"), "", "reload answers nothing");
    assert!(wait_for(px.addr, "b"), "and reloads");
    let proc_ = master_cli(&sock, "show proc");
    assert!(
        proc_
            .lines()
            .nth(1)
            .is_some_and(|l| l.contains(" 1 [failed: 0] ")),
        "{proc_}"
    );
    assert!(master_cli(&sock, "bogus")
        .starts_with("Unknown command, but maybe one of the following ones is a better match:\n"));
}

/// Without `ulimit-n`, the FD limit `maxconn` needs is HAProxy's formula;
/// above the hard limit, the start-up fails with its alert.
#[test]
fn maxconn_beyond_the_fd_limit_is_refused_at_start() {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit with a valid struct.
    unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) };
    if lim.rlim_max > 1 << 24 {
        println!("SKIP ***** unlimited open files: nothing to exceed *****");
        return;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let maxconn = lim.rlim_max; // twice this is beyond the hard limit
    let (code, err) = Proxy::run_to_exit(
        "maxconn-fd-limit",
        &format!(
            "global\n maxconn {maxconn}\n nbthread 1\ndefaults\n mode http\n timeout client 1s\n timeout server 1s\n timeout connect 1s\n\
             frontend f\n bind 127.0.0.1:{port}\n"
        ),
    );
    assert_eq!(code, 1, "{err}");
    let need = maxconn * 2 + 1 + 3 + 10;
    assert!(
        err.contains(&format!(
            "[haproxy.main()] Cannot raise FD limit to {need}, limit is {}.",
            lim.rlim_max
        )),
        "{err}"
    );
}

/// `cpu-map auto:1/1-2 0-1`: each worker thread runs on its own CPU.
#[test]
fn cpu_map_binds_worker_threads() {
    if std::thread::available_parallelism().map_or(1, |n| n.get()) < 2 {
        println!("SKIP ***** one CPU: cpu-map not tested *****");
        return;
    }
    let a = Backend::http("a");
    let text = cfg(a.addr).replace(
        "defaults\n",
        "global\n nbthread 2\n cpu-map auto:1/1-2 0-1\ndefaults\n",
    );
    let px = Proxy::start("cpu-map", &text);
    assert!(wait_for(px.addr, "a"));
    // Worker threads may still be starting on a busy machine: look until
    // both are there (or a deadline).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let per_thread = loop {
        let found = pinned_workers(px.pid());
        if found.len() >= 2 || std::time::Instant::now() > deadline {
            break found;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert_eq!(per_thread, ["0", "1"]);
}

/// The CPU list of each tokio worker thread of `pid`, sorted.
fn pinned_workers(pid: u32) -> Vec<String> {
    let mut per_thread: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/task"))
        .expect("tasks")
        .flatten()
        .filter(|t| {
            std::fs::read_to_string(t.path().join("comm"))
                .is_ok_and(|c| c.starts_with("tokio-rt-worker"))
        })
        .filter_map(|t| {
            let st = std::fs::read_to_string(t.path().join("status")).ok()?;
            st.lines().find_map(|l| {
                l.strip_prefix("Cpus_allowed_list:")
                    .map(|v| v.trim().to_string())
            })
        })
        .collect();
    per_thread.sort();
    per_thread
}
