//! Shared harness of the end-to-end tests: loopback backends that record
//! what they receive, the proxy under test started on a listening socket the
//! test opened itself (passed as `fd@3`, so no port can be taken twice), and
//! a small HTTP/1 client that reads raw responses.
#![allow(dead_code)]
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What a backend answers.
#[derive(Clone)]
pub enum Behaviour {
    /// 200 with a body: the backend's name, a newline, then the request head
    /// exactly as received.
    Echo,
    /// Closes the connection without answering.
    Close,
    /// Waits this long before answering like Echo.
    Slow(Duration),
    /// Answers like Echo, then closes the connection without saying so (as a
    /// server whose keep-alive timeout expired).
    OneShot,
    /// Answers an `Upgrade: websocket` request with 101, then echoes bytes.
    UpgradeEcho,
}

/// A loopback HTTP/1.1 server on port 0 that counts connections and requests
/// and keeps the heads it received.
pub struct Backend {
    pub addr: SocketAddr,
    pub name: String,
    pub connections: Arc<AtomicUsize>,
    pub requests: Arc<AtomicUsize>,
    pub heads: Arc<Mutex<Vec<String>>>,
    pub bodies: Arc<Mutex<Vec<Vec<u8>>>>,
    /// Requests being handled right now, and the most ever at once.
    pub inflight: Arc<AtomicUsize>,
    pub max_inflight: Arc<AtomicUsize>,
}

impl Backend {
    pub fn http(name: &str) -> Backend {
        Backend::start(name, Behaviour::Echo)
    }

    pub fn start(name: &str, behaviour: Behaviour) -> Backend {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind backend");
        let b = Backend {
            addr: l.local_addr().expect("addr"),
            name: name.into(),
            connections: Arc::default(),
            requests: Arc::default(),
            heads: Arc::default(),
            bodies: Arc::default(),
            inflight: Arc::default(),
            max_inflight: Arc::default(),
        };
        let (n, c, r, h, bo) = (
            b.name.clone(),
            b.connections.clone(),
            b.requests.clone(),
            b.heads.clone(),
            b.bodies.clone(),
        );
        let (inf, maxi) = (b.inflight.clone(), b.max_inflight.clone());
        std::thread::spawn(move || {
            for s in l.incoming().flatten() {
                c.fetch_add(1, Ordering::SeqCst);
                let (n, r, h, bo, be) = (
                    n.clone(),
                    r.clone(),
                    h.clone(),
                    bo.clone(),
                    behaviour.clone(),
                );
                let (inf, maxi) = (inf.clone(), maxi.clone());
                std::thread::spawn(move || serve_backend(s, &n, &r, &h, &bo, be, &inf, &maxi));
            }
        });
        b
    }

    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
    pub fn last_head(&self) -> String {
        self.heads
            .lock()
            .unwrap()
            .last()
            .cloned()
            .unwrap_or_default()
    }
}

#[allow(clippy::too_many_arguments)]
fn serve_backend(
    s: TcpStream,
    name: &str,
    reqs: &AtomicUsize,
    heads: &Mutex<Vec<String>>,
    bodies: &Mutex<Vec<Vec<u8>>>,
    behaviour: Behaviour,
    inflight: &AtomicUsize,
    max_inflight: &AtomicUsize,
) {
    let mut rd = BufReader::new(s.try_clone().expect("clone"));
    let mut w = s;
    loop {
        let Some(head) = read_head(&mut rd) else {
            return;
        };
        reqs.fetch_add(1, Ordering::SeqCst);
        if header_of(&head, "expect").is_some_and(|e| e.eq_ignore_ascii_case("100-continue")) {
            let _ = w.write_all(b"HTTP/1.1 100 Continue\r\n\r\n");
        }
        let body = read_body(&mut rd, &head);
        heads.lock().unwrap().push(head.clone());
        // Large uploads are kept as their length and checksum only.
        let kept = if body.len() > 1 << 20 {
            checksum(&body).to_string().into_bytes()
        } else {
            body.clone()
        };
        bodies.lock().unwrap().push(kept);
        let now = inflight.fetch_add(1, Ordering::SeqCst) + 1;
        max_inflight.fetch_max(now, Ordering::SeqCst);
        match behaviour {
            Behaviour::Close => {
                inflight.fetch_sub(1, Ordering::SeqCst);
                return;
            }
            Behaviour::Slow(d) => std::thread::sleep(d),
            Behaviour::Echo | Behaviour::OneShot | Behaviour::UpgradeEcho => {}
        }
        // The request is done once the answer is ready to go.
        inflight.fetch_sub(1, Ordering::SeqCst);
        if matches!(behaviour, Behaviour::UpgradeEcho) {
            let _ = w.write_all(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
            let mut buf = [0u8; 4096];
            // The reader may hold bytes the client sent right after the head.
            let pending = rd.buffer().to_vec();
            let _ = w.write_all(&pending);
            rd.consume(pending.len());
            while let Ok(n) = rd.get_mut().read(&mut buf) {
                if n == 0 || w.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
            return;
        }
        if let Some(size) = head
            .split_whitespace()
            .nth(1)
            .and_then(|p| p.strip_prefix("/big/"))
            .and_then(|n| n.parse::<usize>().ok())
        {
            // A large body generated on the fly: byte i is (i * 7 + 3) mod 251.
            let _ = w
                .write_all(format!("HTTP/1.1 200 OK\r\nContent-Length: {size}\r\n\r\n").as_bytes());
            let mut sent = 0;
            let mut chunk = vec![0u8; 65536];
            while sent < size {
                let n = chunk.len().min(size - sent);
                for (k, b) in chunk[..n].iter_mut().enumerate() {
                    *b = ((sent + k) * 7 + 3) as u8 % 251;
                }
                if w.write_all(&chunk[..n]).is_err() {
                    return;
                }
                sent += n;
            }
            continue;
        }
        let payload = format!("{name}\n{head}");
        // The path picks other response shapes, to exercise how the proxy
        // relays each framing.
        let path = head.split_whitespace().nth(1).unwrap_or("/");
        let head_only = head.starts_with("HEAD ");
        let (resp, then_close) = if path.ends_with("/chunked") {
            let r = format!(
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Shape: chunked\r\n\r\n{:x}\r\n{payload}\r\n0\r\n\r\n",
                payload.len()
            );
            (r, false)
        } else if path.ends_with("/close-delimited") {
            (
                format!("HTTP/1.1 200 OK\r\nX-Shape: close\r\n\r\n{payload}"),
                true,
            )
        } else if path.ends_with("/204") {
            (
                "HTTP/1.1 204 No Content\r\nX-Shape: empty\r\n\r\n".to_string(),
                false,
            )
        } else if path.ends_with("/304") {
            (
                "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n".to_string(),
                false,
            )
        } else {
            let r = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Body-Len: {}\r\nContent-Length: {}\r\n\r\n{}",
                body.len(),
                payload.len(),
                if head_only { "" } else { payload.as_str() }
            );
            (r, false)
        };
        if w.write_all(resp.as_bytes()).is_err()
            || then_close
            || matches!(behaviour, Behaviour::OneShot)
        {
            return;
        }
    }
}

/// A simple order-sensitive checksum for large bodies.
pub fn checksum(data: &[u8]) -> u64 {
    data.iter().fold(1469598103934665603u64, |h, b| {
        (h ^ *b as u64).wrapping_mul(1099511628211)
    })
}

/// Reads a message head (up to the blank line); None at end of stream.
pub fn read_head(rd: &mut impl BufRead) -> Option<String> {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if rd.read_line(&mut line).ok()? == 0 {
            return None;
        }
        if line == "\r\n" || line == "\n" {
            return Some(head);
        }
        head.push_str(&line);
    }
}

fn header_of(head: &str, name: &str) -> Option<String> {
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().to_string())
    })
}

/// Reads a body framed by Content-Length or chunked encoding.
pub fn read_body(rd: &mut impl BufRead, head: &str) -> Vec<u8> {
    if header_of(head, "transfer-encoding").is_some_and(|t| t.eq_ignore_ascii_case("chunked")) {
        let mut out = Vec::new();
        loop {
            let mut line = String::new();
            if rd.read_line(&mut line).unwrap_or(0) == 0 {
                return out;
            }
            let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or("0"), 16)
                .unwrap_or(0);
            if size == 0 {
                let _ = read_head(rd);
                return out;
            }
            let mut chunk = vec![0; size + 2];
            if rd.read_exact(&mut chunk).is_err() {
                return out;
            }
            out.extend_from_slice(&chunk[..size]);
        }
    }
    let len: usize = header_of(head, "content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    let _ = rd.read_exact(&mut body);
    body
}

/// The proxy under test, killed on drop.
pub struct Proxy {
    pub addr: SocketAddr,
    child: Child,
    pub dir: PathBuf,
}

/// The real HAProxy 2.6 to compare with, or None (after a loud SKIP line;
/// with REQUIRE_ALL=1 a missing oracle fails the test).
pub fn oracle() -> Option<String> {
    let bin = std::env::var("ORACLE").unwrap_or_else(|_| "/usr/sbin/haproxy".into());
    let v = Command::new(&bin)
        .arg("-v")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned());
    match v {
        Some(v) if v.starts_with("HAProxy version 2.6") && !v.contains("haproxy-rs") => Some(bin),
        _ => {
            println!("SKIP ***** the real HAProxy 2.6 is not installed at {bin}: differential test not run *****");
            assert!(
                std::env::var("REQUIRE_ALL").as_deref() != Ok("1"),
                "REQUIRE_ALL=1 and no oracle at {bin}"
            );
            None
        }
    }
}

/// A fresh directory for one test's files.
pub fn scratch(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("e2e-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("scratch");
    d
}

impl Proxy {
    /// Starts `haproxy -db -f cfg` where the config's `{fe}` is replaced by
    /// `fd@3`, a socket this test bound on 127.0.0.1.
    pub fn start(name: &str, cfg: &str) -> Proxy {
        Proxy::start_binary(env!("CARGO_BIN_EXE_haproxy"), name, cfg)
    }

    /// The same with another haproxy binary (the real HAProxy, for the
    /// differential tests).
    pub fn start_binary(bin: &str, name: &str, cfg: &str) -> Proxy {
        Proxy::start_with(bin, name, cfg, &["-db"], &[])
    }

    /// Starts `bin ARGS -f cfg` (the config written to the scratch dir as
    /// haproxy.cfg; `{fe}` becomes fd@3, a socket the test bound), with
    /// extra environment variables.
    pub fn start_with(
        bin: &str,
        name: &str,
        cfg: &str,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Proxy {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind frontend");
        let addr = l.local_addr().expect("addr");
        let dir = scratch(name);
        let path = dir.join("haproxy.cfg");
        std::fs::write(&path, cfg.replace("{fe}", "fd@3")).expect("write cfg");
        let fd = l.as_raw_fd();
        let mut cmd = Command::new(bin);
        cmd.args(args)
            .arg("-f")
            .arg(&path)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // SAFETY: between fork and exec we only call async-signal-safe
        // dup2/fcntl on `fd`, the listener this test owns and keeps open
        // until spawn returns; it becomes the child's fd 3.
        unsafe {
            cmd.pre_exec(move || {
                if fd == 3 {
                    let flags = libc::fcntl(3, libc::F_GETFD);
                    libc::fcntl(3, libc::F_SETFD, flags & !libc::FD_CLOEXEC);
                } else if libc::dup2(fd, 3) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().expect("spawn haproxy");
        drop(l);
        Proxy { addr, child, dir }
    }

    /// Runs the proxy and expects it to exit by itself (a refused config);
    /// one still running after 20 s is killed and fails the test.
    pub fn run_to_exit(name: &str, cfg: &str) -> (i32, String) {
        let dir = scratch(name);
        let path = dir.join("haproxy.cfg");
        std::fs::write(&path, cfg).expect("write cfg");
        let mut child = Command::new(env!("CARGO_BIN_EXE_haproxy"))
            .args(["-db", "-f"])
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run");
        let start = std::time::Instant::now();
        let status = loop {
            if let Some(st) = child.try_wait().expect("wait") {
                break st;
            }
            if start.elapsed() > Duration::from_secs(20) {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{name}: the proxy kept running; this config was expected to be refused");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = e.read_to_string(&mut err);
        }
        (status.code().unwrap_or(-1), err)
    }

    pub fn connect(&self) -> Client {
        let s = TcpStream::connect(self.addr).expect("connect proxy");
        s.set_read_timeout(Some(Duration::from_secs(10))).ok();
        Client {
            rd: BufReader::new(s.try_clone().expect("clone")),
            w: s,
        }
    }

    /// One request on a fresh connection (`Connection: close`).
    pub fn get(&self, path: &str, host: &str) -> Response {
        let mut c = self.connect();
        c.send(
            format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes(),
        );
        c.response().expect("response")
    }
}

/// What the proxy writes on stderr, read as it comes (by a thread), each
/// line with the time it arrived.
#[derive(Clone, Default)]
pub struct StderrLog(Arc<Mutex<Vec<(std::time::Instant, String)>>>);

impl StderrLog {
    /// Every line so far.
    pub fn lines(&self) -> Vec<String> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .map(|(_, l)| l.clone())
            .collect()
    }
    /// The lines so far with their arrival times.
    pub fn timed(&self) -> Vec<(std::time::Instant, String)> {
        self.0.lock().unwrap().clone()
    }
    pub fn text(&self) -> String {
        self.lines().join("\n")
    }
    /// Lines containing `needle`.
    pub fn count(&self, needle: &str) -> usize {
        self.lines().iter().filter(|l| l.contains(needle)).count()
    }
    /// Waits until `n` lines contain `needle`; false after `limit`.
    pub fn wait_for_n(&self, needle: &str, n: usize, limit: Duration) -> bool {
        let start = std::time::Instant::now();
        while start.elapsed() < limit {
            if self.count(needle) >= n {
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        self.count(needle) >= n
    }
    /// Waits until a line contains `needle`; false after `limit`.
    pub fn wait_for(&self, needle: &str, limit: Duration) -> bool {
        self.wait_for_n(needle, 1, limit)
    }
}

impl Proxy {
    /// Starts reading the proxy's stderr as it comes (taken from the
    /// process: `wait_exit` then returns no stderr).
    pub fn stderr_log(&mut self) -> StderrLog {
        let log = StderrLog::default();
        if let Some(e) = self.child.stderr.take() {
            let l = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(e).lines() {
                    let Ok(line) = line else { break };
                    l.0.lock().unwrap().push((std::time::Instant::now(), line));
                }
            });
        }
        log
    }

    /// Waits up to `limit` for the process to exit: its exit code (128 +
    /// signal when killed) and its stderr.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<(i32, String)> {
        let start = std::time::Instant::now();
        loop {
            if let Some(st) = self.child.try_wait().ok().flatten() {
                use std::os::unix::process::ExitStatusExt;
                let code = st.code().unwrap_or_else(|| 128 + st.signal().unwrap_or(0));
                let mut err = String::new();
                if let Some(mut e) = self.child.stderr.take() {
                    let _ = e.read_to_string(&mut err);
                }
                return Some((code, err));
            }
            if start.elapsed() > limit {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    /// Sends `sig` to the process.
    pub fn signal(&self, sig: i32) {
        // SAFETY: kill(2) on the child this harness started.
        unsafe { libc::kill(self.pid() as i32, sig) };
    }
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
    /// Open file descriptors of the proxy process.
    pub fn open_fds(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid()))
            .map(|d| d.count())
            .unwrap_or(0)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        // SIGTERM first: a master stops its workers (SIGKILL would orphan
        // them); then make sure.
        if self.child.try_wait().ok().flatten().is_none() {
            self.signal(libc::SIGTERM);
            let _ = self.wait_exit(Duration::from_secs(5));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub struct Client {
    pub rd: BufReader<TcpStream>,
    pub w: TcpStream,
}

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
    /// The whole response as received.
    pub raw: Vec<u8>,
}

impl Response {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn header(&self, name: &str) -> Option<String> {
        header_of(&self.head, name)
    }
}

impl Client {
    pub fn send(&mut self, data: &[u8]) {
        self.w.write_all(data).expect("send");
    }

    /// Reads one response (Content-Length, chunked, or until close).
    pub fn response(&mut self) -> Option<Response> {
        let head = read_head(&mut self.rd)?;
        let status = head.split_whitespace().nth(1)?.parse().ok()?;
        let body = if header_of(&head, "content-length").is_some()
            || header_of(&head, "transfer-encoding").is_some()
        {
            read_body(&mut self.rd, &head)
        } else {
            let mut b = Vec::new();
            let _ = self.rd.read_to_end(&mut b);
            b
        };
        let mut raw = head.clone().into_bytes();
        raw.extend_from_slice(b"\r\n");
        raw.extend_from_slice(&body);
        Some(Response {
            status,
            head,
            body,
            raw,
        })
    }

    /// Whether the proxy closed the connection (reads EOF within 2 s).
    pub fn closed(&mut self) -> bool {
        self.w.set_read_timeout(Some(Duration::from_secs(2))).ok();
        let mut b = [0u8; 1];
        matches!(self.rd.read(&mut b), Ok(0))
    }
}
