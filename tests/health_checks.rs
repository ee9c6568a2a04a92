//! Health checks end to end: loopback servers the tests stop, restart and
//! make answer badly; the proxy's state messages on stderr and where the
//! traffic goes. Checks run every 100-200 ms here; the tests poll with
//! generous deadlines and never assert timing precision. Where the real
//! HAProxy 2.6 is installed, the same scenarios run on it too and must
//! give the same transitions and messages (pid and durations aside).
mod common;

use common::{oracle, Proxy, StderrLog};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const LONG: Duration = Duration::from_secs(10);

/// How a test server answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// 200 with its name as the body.
    Up,
    /// This status to every request.
    Status(u16),
    /// This status to traffic, 200 to `/health` (the checks).
    FailTraffic(u16),
    /// Not listening: connections are refused.
    Refuse,
    /// Accepts and reads, never answers.
    Silent,
}

/// An open connection of a test server and its state.
type Conn = (TcpStream, Arc<AtomicUsize>);

/// One request a test server answered.
#[derive(Clone, Debug)]
struct Hit {
    at: Instant,
    path: String,
    status: u16,
    head: String,
}

/// An HTTP/1.1 server on a fixed loopback port that a test can stop
/// (the port then refuses connections), restart and switch between
/// answers; it records every request.
#[derive(Clone)]
struct Srv {
    name: String,
    port: u16,
    mode: Arc<Mutex<Mode>>,
    listener: Arc<Mutex<Option<TcpListener>>>,
    hits: Arc<Mutex<Vec<Hit>>>,
    /// Open connections, each with its state: 0 fresh (no request read
    /// yet), 1 answering, 2 idle after an answer.
    conns: Arc<Mutex<Vec<Conn>>>,
    inflight: Arc<AtomicUsize>,
    delay_ms: Arc<AtomicU64>,
    done: Arc<AtomicBool>,
}

impl Srv {
    fn start(name: &str, mode: Mode) -> Srv {
        let probe = TcpListener::bind("127.0.0.1:0").expect("bind");
        probe.set_nonblocking(true).expect("nonblocking");
        let port = probe.local_addr().expect("addr").port();
        let s = Srv {
            name: name.into(),
            port,
            mode: Arc::new(Mutex::new(mode)),
            listener: Arc::new(Mutex::new(Some(probe))),
            hits: Arc::default(),
            conns: Arc::default(),
            inflight: Arc::default(),
            delay_ms: Arc::default(),
            done: Arc::default(),
        };
        let me = s.clone();
        std::thread::spawn(move || loop {
            if me.done.load(Ordering::SeqCst) {
                return;
            }
            let accepted = {
                let mut l = me.listener.lock().unwrap();
                if me.mode() == Mode::Refuse {
                    *l = None;
                } else if l.is_none() {
                    // Back up on the same port.
                    *l = TcpListener::bind(("127.0.0.1", me.port)).ok();
                    if let Some(l) = l.as_ref() {
                        l.set_nonblocking(true).expect("nonblocking");
                    }
                }
                l.as_ref().and_then(|l| l.accept().ok())
            };
            match accepted {
                Some((c, _)) => me.take(c),
                None => std::thread::sleep(Duration::from_millis(2)),
            }
        });
        s
    }

    /// Serves an accepted connection in a thread of its own.
    fn take(&self, c: TcpStream) {
        let _ = c.set_nonblocking(false);
        let state = Arc::new(AtomicUsize::new(0));
        if let Ok(k) = c.try_clone() {
            self.conns.lock().unwrap().push((k, state.clone()));
        }
        let me = self.clone();
        std::thread::spawn(move || {
            // The clone kept for `kill` would hold the connection open.
            let end = c.try_clone();
            me.serve(c, &state);
            if let Ok(e) = end {
                let _ = e.shutdown(std::net::Shutdown::Both);
            }
        });
    }

    fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn mode(&self) -> Mode {
        *self.mode.lock().unwrap()
    }

    fn set(&self, m: Mode) {
        *self.mode.lock().unwrap() = m;
    }

    /// Stops listening and cuts every open connection, as a crashing
    /// server; returns how many requests were in flight on it: on the
    /// connections being answered, just opened (the request on its way) or
    /// still in the listen queue, and on idle ones a request already sent.
    fn kill(&self) -> usize {
        let mut l = self.listener.lock().unwrap();
        self.set(Mode::Refuse);
        let mut conns = self.conns.lock().unwrap();
        let mut inflight = 0;
        if let Some(l) = l.take() {
            while let Ok((c, _)) = l.accept() {
                inflight += 1;
                let _ = c.shutdown(std::net::Shutdown::Both);
            }
        }
        for (c, state) in conns.drain(..) {
            let mut b = [0u8; 1];
            let _ = c.set_nonblocking(true);
            let idle = state.load(Ordering::SeqCst) == 2;
            let pending = matches!(c.peek(&mut b), Ok(n) if n > 0);
            if !idle || pending {
                inflight += 1;
            }
            let _ = c.shutdown(std::net::Shutdown::Both);
        }
        inflight
    }

    fn hits(&self) -> Vec<Hit> {
        self.hits.lock().unwrap().clone()
    }

    /// Requests other than health checks.
    fn traffic(&self) -> usize {
        self.hits().iter().filter(|h| h.path != "/health").count()
    }

    fn checks(&self) -> usize {
        self.hits().iter().filter(|h| h.path == "/health").count()
    }

    fn serve(&self, c: TcpStream, state: &AtomicUsize) {
        let mut rd = BufReader::new(match c.try_clone() {
            Ok(r) => r,
            Err(_) => return,
        });
        let mut w = c;
        loop {
            let mut head = String::new();
            loop {
                let mut line = String::new();
                match rd.read_line(&mut line) {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
                state.store(1, Ordering::SeqCst);
                if line == "\r\n" || line == "\n" {
                    break;
                }
                head.push_str(&line);
            }
            let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
            let close = head.contains("HTTP/1.0")
                || head.to_ascii_lowercase().contains("connection: close");
            self.inflight.fetch_add(1, Ordering::SeqCst);
            let delay = self.delay_ms.load(Ordering::SeqCst);
            if delay > 0 && path != "/health" {
                std::thread::sleep(Duration::from_millis(delay));
            }
            let status = match self.mode() {
                Mode::Up => 200,
                Mode::Status(s) => s,
                Mode::FailTraffic(s) if path != "/health" => s,
                Mode::FailTraffic(_) => 200,
                Mode::Refuse | Mode::Silent => {
                    self.inflight.fetch_sub(1, Ordering::SeqCst);
                    // Holds the connection until it is cut.
                    let mut b = [0u8; 64];
                    while matches!(rd.read(&mut b), Ok(n) if n > 0) {}
                    return;
                }
            };
            self.hits.lock().unwrap().push(Hit {
                at: Instant::now(),
                path,
                status,
                head: head.clone(),
            });
            let body = &self.name;
            let resp = format!(
                "HTTP/1.1 {status} X\r\nContent-Length: {}\r\n{}\r\n{body}",
                body.len(),
                if close { "Connection: close\r\n" } else { "" }
            );
            let ok = w.write_all(resp.as_bytes()).is_ok();
            state.store(2, Ordering::SeqCst);
            self.inflight.fetch_sub(1, Ordering::SeqCst);
            if !ok || close {
                return;
            }
        }
    }
}

impl Drop for Srv {
    fn drop(&mut self) {
        // The last handle (the test's) stops the accept loop.
        if Arc::strong_count(&self.done) <= 2 {
            self.done.store(true, Ordering::SeqCst);
        }
    }
}

/// One request on a new connection: the status and body, None when the
/// proxy failed to answer.
fn try_get(addr: SocketAddr, path: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").as_bytes())
        .ok()?;
    let mut out = Vec::new();
    s.read_to_end(&mut out).ok()?;
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text.split_whitespace().nth(1)?.parse().ok()?;
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    Some((status, body))
}

/// Which servers answered `n` requests (by the bodies).
fn spread(addr: SocketAddr, n: usize) -> Vec<String> {
    (0..n)
        .map(|_| try_get(addr, "/t").map(|(_, b)| b).unwrap_or_default())
        .collect()
}

fn start(bin: &str, name: &str, cfg: &str) -> (Proxy, StderrLog) {
    let mut px = Proxy::start_binary(bin, name, cfg);
    let log = px.stderr_log();
    (px, log)
}

fn ours() -> &'static str {
    env!("CARGO_BIN_EXE_haproxy")
}

const DEFAULTS: &str =
    "defaults\n  mode http\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\n";

/// The state messages (no pid, no durations), sorted.
fn normalized(log: &StderrLog) -> Vec<String> {
    let mut v: Vec<String> = log
        .lines()
        .iter()
        .filter(|l| !l.contains("[NOTICE]"))
        .map(|l| {
            let l = match (l.find('('), l.find(") : ")) {
                (Some(a), Some(b)) if a < b => format!("{}(PID){}", &l[..a], &l[b + 1..]),
                _ => l.clone(),
            };
            let l = match l.find("(connect port ") {
                Some(i) => {
                    let rest = &l[i + 14..];
                    let end = rest.find(')').unwrap_or(0);
                    format!("{}(connect port N{}", &l[..i], &rest[end..])
                }
                None => l,
            };
            match l.find("check duration: ") {
                Some(i) => {
                    let rest = &l[i + 16..];
                    let end = rest.find("ms").unwrap_or(0);
                    format!("{}check duration: Nms{}", &l[..i], &rest[end + 2..])
                }
                None => l,
            }
        })
        .collect();
    v.sort();
    v
}

/// A server UP at start with `fall 3 rise 2`: how many failed checks it
/// took to go DOWN, then how many passed ones to come back UP; and the
/// same for a server failing from its very first check.
fn fall_rise(bin: &str) -> ((usize, usize), usize) {
    let a = Srv::start("a", Mode::Up);
    let b = Srv::start("b", Mode::Status(500));
    let cfg = format!(
        "{DEFAULTS}listen l\n  bind {{fe}}\n  option httpchk GET /health\n  \
         server a {} check inter 150 fall 3 rise 2\n  server b {} check inter 150 fall 3 rise 2\n",
        a.addr(),
        b.addr()
    );
    let (_px, log) = start(bin, "fall-rise", &cfg);
    // `b` fails from its first check.
    assert!(log.wait_for("Server l/b is DOWN", LONG), "{}", log.text());
    let b_down = log
        .timed()
        .iter()
        .find(|(_, l)| l.contains("l/b is DOWN"))
        .map(|(t, _)| *t);
    let fresh = b
        .hits()
        .iter()
        .filter(|h| h.status == 500 && Some(h.at) < b_down)
        .count();
    // `a` passed a few checks: fully UP.
    let t = Instant::now();
    while a.checks() < 3 && t.elapsed() < LONG {
        std::thread::sleep(Duration::from_millis(10));
    }
    a.set(Mode::Status(503));
    assert!(log.wait_for("Server l/a is DOWN", LONG), "{}", log.text());
    let down = log
        .timed()
        .iter()
        .find(|(_, l)| l.contains("l/a is DOWN"))
        .map(|(t, _)| t.to_owned());
    let failed = a
        .hits()
        .iter()
        .filter(|h| h.status == 503 && Some(h.at) < down)
        .count();
    let back = Instant::now();
    a.set(Mode::Up);
    assert!(log.wait_for("Server l/a is UP", LONG), "{}", log.text());
    let up = log
        .timed()
        .iter()
        .find(|(_, l)| l.contains("l/a is UP"))
        .map(|(t, _)| t.to_owned());
    let passed = a
        .hits()
        .iter()
        .filter(|h| h.status == 200 && h.at > back && Some(h.at) < up)
        .count();
    assert!(log.text().contains(
        "Server l/a is DOWN, reason: Layer7 wrong status, code: 503, info: \"X\", check duration: "
    ));
    assert!(log
        .text()
        .contains("Server l/a is UP, reason: Layer7 check passed, code: 200, check duration: "));
    ((failed, passed), fresh)
}

#[test]
fn down_after_fall_failures_up_after_rise_passes() {
    let (counts, fresh) = fall_rise(ours());
    assert_eq!(
        counts,
        (3, 2),
        "failed checks before DOWN, passed before UP"
    );
    assert_eq!(fresh, 1, "a fresh server goes DOWN at its first failure");
    if let Some(bin) = oracle() {
        assert_eq!(
            fall_rise(&bin),
            (counts, fresh),
            "HAProxy 2.6 counts the same"
        );
    }
}

#[test]
fn traffic_leaves_a_down_server_and_comes_back() {
    let a = Srv::start("a", Mode::Up);
    let b = Srv::start("b", Mode::Up);
    let cfg = format!(
        "{DEFAULTS}listen l\n  bind {{fe}}\n  server a {} check inter 100 fall 2 rise 2\n  \
         server b {} check inter 100 fall 2 rise 2\n",
        a.addr(),
        b.addr()
    );
    let (px, log) = start(ours(), "traffic", &cfg);
    let before = spread(px.addr, 10);
    assert!(before.contains(&"a".to_string()) && before.contains(&"b".to_string()));
    b.set(Mode::Refuse);
    assert!(log.wait_for("Server l/b is DOWN", LONG), "{}", log.text());
    assert!(log.text().contains(
        "Server l/b is DOWN, reason: Layer4 connection problem, info: \"Connection refused\", check duration: "
    ));
    assert!(log.text().contains(". 1 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue."));
    assert_eq!(
        spread(px.addr, 10),
        vec!["a"; 10],
        "no traffic to a DOWN server"
    );
    b.set(Mode::Up);
    assert!(log.wait_for("Server l/b is UP", LONG), "{}", log.text());
    assert!(log
        .text()
        .contains("Server l/b is UP, reason: Layer4 check passed, check duration: "));
    assert!(log.text().contains(
        ". 2 active and 0 backup servers online. 0 sessions requeued, 0 total in queue."
    ));
    assert!(spread(px.addr, 10).contains(&"b".to_string()));
    // Both gone: the backend says so.
    a.set(Mode::Refuse);
    b.set(Mode::Refuse);
    assert!(log.wait_for("[ALERT]", LONG), "{}", log.text());
    assert!(log.text().contains("proxy 'l' has no server available!"));
    assert_eq!(try_get(px.addr, "/t").map(|r| r.0), Some(503));
}

#[test]
fn timeout_check_limits_a_check_once_connected() {
    let s = Srv::start("s", Mode::Silent);
    let cfg = format!(
        "{DEFAULTS}backend b\n  timeout check 300\n  option httpchk\n  server s {} check inter 3s\n\
         listen l\n  bind {{fe}}\n  server x {}\n",
        s.addr(),
        s.addr()
    );
    let (_px, log) = start(ours(), "timeout-check", &cfg);
    assert!(log.wait_for("Server b/s is DOWN", LONG), "{}", log.text());
    let line = log
        .lines()
        .into_iter()
        .find(|l| l.contains("b/s is DOWN"))
        .unwrap_or_default();
    assert!(
        line.contains("reason: Layer7 timeout, check duration: "),
        "{line}"
    );
    let ms: u64 = line
        .split("check duration: ")
        .nth(1)
        .and_then(|r| r.split("ms").next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(u64::MAX);
    // `timeout check`, not `inter` (3 s), ended it.
    assert!(ms < 2000, "{line}");
}

/// Configs whose first check fails in a known way: each expect form of
/// `http-check`, as 2.6 words the failures.
fn expect_forms(bin: &str) -> Vec<String> {
    let ok = Srv::start("ok", Mode::Up);
    let e500 = Srv::start("e", Mode::Status(500));
    let nf = Srv::start("nf", Mode::Status(404));
    let mut cfg = DEFAULTS.to_string();
    let cases = [
        ("default500", "", &e500),
        ("status", "http-check expect status 201-299", &ok),
        ("notstatus", "http-check expect ! status 200", &ok),
        ("rstatus", "http-check expect rstatus ^5", &ok),
        ("string", "http-check expect string nothere", &ok),
        ("notstring", "http-check expect ! string ok", &ok),
        ("rstring", "http-check expect rstring ^o.$", &ok),
        ("notrstring", "http-check expect ! rstring ^o.$", &ok),
        ("comment", "http-check expect comment \"my\\ words\" status 204", &ok),
        ("on404", "http-check disable-on-404", &nf),
        ("sendexpect", "http-check send meth GET uri /x ver HTTP/1.1 hdr Host h\n  http-check expect status 500", &ok),
        ("hdr", "http-check expect hdr name x-none", &ok),
        ("hdrvalue", "http-check expect hdr name -m reg ^CONTENT-len value -m beg 2", &ok),
    ];
    for (name, lines, srv) in &cases {
        cfg.push_str(&format!(
            "backend {name}\n  option httpchk\n  {lines}\n  server s {} check inter 1s\n",
            srv.addr()
        ));
    }
    cfg.push_str(&format!(
        "listen l\n  bind {{fe}}\n  server x {}\n",
        ok.addr()
    ));
    let (_px, log) = start(bin, "expect-forms", &cfg);
    // All but `rstring` and `hdrvalue` fail; `on404` stops.
    assert!(log.wait_for_n("[ALERT]", 11, LONG), "{}", log.text());
    std::thread::sleep(Duration::from_millis(300));
    normalized(&log)
}

#[test]
fn each_http_check_expect_form() {
    let got = expect_forms(ours());
    let want = [
        "Server comment/s is DOWN, reason: Layer7 wrong status, code: 200, info: \"X comment: my words\"",
        "Server default500/s is DOWN, reason: Layer7 wrong status, code: 500, info: \"X\"",
        "Server notstatus/s is DOWN, reason: Layer7 wrong status, code: 200, info: \"X\"",
        "Server notstring/s is DOWN, reason: Layer7 invalid response, info: \"HTTP check matched unwanted content\"",
        "Server on404/s is stopping, reason: Layer7 check conditionally passed, code: 404, check duration: Nms. 0 active and 0 backup servers online. 0 sessions requeued, 0 total in queue.",
        "Server rstatus/s is DOWN, reason: Layer7 wrong status, code: 200, info: \"X\"",
        "Server sendexpect/s is DOWN, reason: Layer7 wrong status, code: 200, info: \"X\"",
        "Server status/s is DOWN, reason: Layer7 wrong status, code: 200, info: \"X\"",
        "Server string/s is DOWN, reason: Layer7 invalid response, info: \"HTTP content check did not match\"",
        "Server hdr/s is DOWN, reason: Layer7 wrong status, code: 200, info: \"X\"",
    ];
    for w in want {
        assert!(got.iter().any(|l| l.contains(w)), "missing {w}\n{got:#?}");
    }
    assert!(!got
        .iter()
        .any(|l| l.contains("rstring/s") && !l.contains("notrstring")));
    assert!(
        got.contains(&"[ALERT]    (PID) : backend 'on404' has no server available!".to_string())
    );
    if let Some(bin) = oracle() {
        assert_eq!(expect_forms(&bin), got, "HAProxy 2.6 words them the same");
    }
}

/// A line server: answers `+PONG` to `PING`, `hello` on connect at port
/// `greet`, and closes after `QUIT`.
fn line_server(greet: Option<&'static str>) -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = l.local_addr().expect("addr");
    std::thread::spawn(move || {
        for c in l.incoming().flatten() {
            std::thread::spawn(move || {
                let mut w = match c.try_clone() {
                    Ok(w) => w,
                    Err(_) => return,
                };
                if let Some(g) = greet {
                    let _ = w.write_all(g.as_bytes());
                }
                let rd = BufReader::new(c);
                for line in rd.lines() {
                    let Ok(line) = line else { return };
                    let reply = match line.trim() {
                        "PING" => "+PONG\r\n",
                        "QUIT" => return,
                        _ => "-ERR unknown\r\n",
                    };
                    if w.write_all(reply.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

fn tcp_sequences(bin: &str) -> Vec<String> {
    let pong = line_server(None);
    let hello = line_server(Some("hello there\r\n"));
    let closed = TcpListener::bind("127.0.0.1:0").expect("bind");
    let closed_port = closed.local_addr().expect("addr").port();
    drop(closed);
    let mut cfg = "defaults\n  mode tcp\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\n  timeout check 500\n".to_string();
    let cases = [
        ("ok", "tcp-check send PING\\r\\n\n  tcp-check expect string +PONG", pong),
        ("nomatch", "tcp-check send PING\\r\\n\n  tcp-check expect string +PANG\n  tcp-check send QUIT\\r\\n", pong),
        ("unwanted", "tcp-check send PING\\r\\n\n  tcp-check expect ! string PONG", pong),
        ("regex", "tcp-check comment first\n  tcp-check send PING\\r\\n\n  tcp-check expect rstring ^-ERR comment \"no\\ error\"", pong),
        ("binary", "tcp-check send-binary 50494e470d0a\n  tcp-check expect binary 2b504f4e47\n  tcp-check send-binary 0a\n  tcp-check expect binary 2d0a7f", pong),
        ("greeting", "tcp-check expect string hello\n  tcp-check send PING\\r\\n\n  tcp-check expect rstring ^\\+PONG", hello),
        ("silent", "tcp-check send NOP\\r\\n\n  tcp-check expect string never", hello),
        ("connect2", &format!("tcp-check connect\n  tcp-check send PING\\r\\n\n  tcp-check expect string +PONG\n  tcp-check connect port {closed_port}"), pong),
    ];
    for (name, lines, addr) in &cases {
        cfg.push_str(&format!(
            "backend {name}\n  option tcp-check\n  {lines}\n  server s {addr} check inter 1s\n"
        ));
    }
    cfg.push_str(&format!("listen l\n  bind {{fe}}\n  server x {pong}\n"));
    let (_px, log) = start(bin, "tcp-sequences", &cfg);
    assert!(log.wait_for_n("[ALERT]", 6, LONG), "{}", log.text());
    std::thread::sleep(Duration::from_millis(300));
    normalized(&log)
}

#[test]
fn tcp_check_sequences() {
    let got = tcp_sequences(ours());
    let want = [
        "Server nomatch/s is DOWN, reason: Layer7 timeout, info: \" at step 2 of tcp-check (expect string '+PANG')\"",
        "Server unwanted/s is DOWN, reason: Layer7 invalid response, info: \"TCPCHK matched unwanted content 'PONG' at step 2\"",
        "Server regex/s is DOWN, reason: Layer7 timeout, info: \" at step 3 of tcp-check (expect regex) comment: 'no error'\"",
        "Server binary/s is DOWN, reason: Layer7 timeout, info: \" at step 4 of tcp-check (expect binary '-<0A><7F>')\"",
        "Server silent/s is DOWN, reason: Layer7 timeout, info: \" at step 2 of tcp-check (expect string 'never')\"",
        "Server connect2/s is DOWN, reason: Layer4 connection problem, info: \"Connection refused at step 4 of tcp-check (connect port N)\"",
    ];
    for w in want {
        assert!(got.iter().any(|l| l.contains(w)), "missing {w}\n{got:#?}");
    }
    assert!(
        !got.iter()
            .any(|l| l.contains("ok/s") || l.contains("greeting/s")),
        "{got:#?}"
    );
    if let Some(bin) = oracle() {
        assert_eq!(tcp_sequences(&bin), got, "HAProxy 2.6 words them the same");
    }
}

/// An agent that answers what the test last set.
fn agent(reply: Arc<Mutex<String>>) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for mut c in l.incoming().flatten() {
            let r = reply.lock().unwrap().clone();
            let _ = c.write_all(r.as_bytes());
        }
    });
    port
}

#[test]
fn agent_drains_and_readies_a_server() {
    let a = Srv::start("a", Mode::Up);
    let b = Srv::start("b", Mode::Up);
    let reply = Arc::new(Mutex::new("up\n".to_string()));
    let port = agent(reply.clone());
    let cfg = format!(
        "{DEFAULTS}listen l\n  bind {{fe}}\n  server a {}\n  server b {} agent-check agent-port {port} agent-inter 100\n",
        a.addr(),
        b.addr()
    );
    let (px, log) = start(ours(), "agent", &cfg);
    *reply.lock().unwrap() = "drain\n".into();
    assert!(log.wait_for("enters drain state", LONG), "{}", log.text());
    assert!(log.text().contains(
        "Server l/b enters drain state. 1 active and 0 backup servers online. 0 sessions requeued, 0 total in queue."
    ));
    let before = b.traffic();
    assert_eq!(
        spread(px.addr, 8),
        vec!["a"; 8],
        "a drained server takes no new traffic"
    );
    assert_eq!(b.traffic(), before);
    *reply.lock().unwrap() = "ready 100%\n".into();
    assert!(log.wait_for("leaving forced drain", LONG), "{}", log.text());
    assert!(log
        .text()
        .contains("Server l/b is UP (leaving forced drain)."));
    assert!(spread(px.addr, 8).contains(&"b".to_string()));
    *reply.lock().unwrap() = "down # maintenance window\n".into();
    assert!(log.wait_for("Server l/b is DOWN", LONG), "{}", log.text());
    assert!(log.text().contains(
        "Server l/b is DOWN, reason: Layer7 wrong status, code: 0, info: \"via agent : down (maintenance window)\""
    ));
    assert_eq!(spread(px.addr, 4), vec!["a"; 4]);
}

#[test]
fn backups_take_over_and_give_back() {
    let a = Srv::start("a", Mode::Up);
    let k = Srv::start("k", Mode::Up);
    let cfg = format!(
        "{DEFAULTS}listen l\n  bind {{fe}}\n  server a {} check inter 100 fall 1 rise 1\n  \
         server k {} check inter 100 fall 1 rise 1 backup\n",
        a.addr(),
        k.addr()
    );
    let (px, log) = start(ours(), "backup", &cfg);
    assert_eq!(
        spread(px.addr, 4),
        vec!["a"; 4],
        "backups idle while a is UP"
    );
    a.set(Mode::Refuse);
    assert!(log.wait_for("Server l/a is DOWN", LONG), "{}", log.text());
    assert!(log
        .text()
        .contains(". 0 active and 1 backup servers left. Running on backup. 0 sessions active"));
    assert_eq!(spread(px.addr, 4), vec!["k"; 4], "the backup takes over");
    a.set(Mode::Up);
    assert!(log.wait_for("Server l/a is UP", LONG), "{}", log.text());
    assert_eq!(spread(px.addr, 4), vec!["a"; 4], "and gives back");
    k.set(Mode::Refuse);
    assert!(
        log.wait_for("Backup Server l/k is DOWN", LONG),
        "{}",
        log.text()
    );
    assert!(log.text().contains(". 1 active and 0 backup servers left."));
}

/// A server coming back with `slowstart 4s`: its share of 32 requests just
/// after, and once warm; and the state messages.
fn slowstart(bin: &str) -> (usize, usize, Vec<String>) {
    let a = Srv::start("a", Mode::Up);
    let b = Srv::start("b", Mode::Up);
    let cfg = format!(
        "{DEFAULTS}listen l\n  bind {{fe}}\n  server a {} check inter 100 fall 1 rise 1\n  \
         server b {} check inter 100 fall 1 rise 1 slowstart 4s\n",
        a.addr(),
        b.addr()
    );
    let (px, log) = start(bin, "slowstart", &cfg);
    // Slow start does not apply when starting: both share at once.
    let first = spread(px.addr, 20);
    assert_eq!(first.iter().filter(|s| *s == "b").count(), 10);
    b.set(Mode::Refuse);
    assert!(log.wait_for("Server l/b is DOWN", LONG), "{}", log.text());
    b.set(Mode::Up);
    assert!(log.wait_for("Server l/b is UP", LONG), "{}", log.text());
    // Just back: 1/16 of its weight.
    // (1/17 of the traffic; 5 of 21 after a second, should the machine
    // be that slow.)
    let early = spread(px.addr, 16);
    let early_b = early.iter().filter(|s| *s == "b").count();
    // Warm: 2.6 says so with a second UP, without a reason.
    assert!(
        log.wait_for_n("Server l/b is UP", 2, LONG),
        "{}",
        log.text()
    );
    let late = spread(px.addr, 32);
    let late_b = late.iter().filter(|s| *s == "b").count();
    let msgs = log
        .lines()
        .iter()
        .filter(|l| l.contains("Server l/"))
        .map(|l| {
            l.split(" : ")
                .nth(1)
                .unwrap_or("")
                .split(", check duration")
                .next()
                .unwrap_or("")
                .to_string()
        })
        .collect();
    (early_b, late_b, msgs)
}

#[test]
fn slowstart_ramps_the_weight_up() {
    let (early_b, late_b, msgs) = slowstart(ours());
    assert!(
        early_b <= 5,
        "b took {early_b} of 16 just after coming back"
    );
    assert!(
        (12..=20).contains(&late_b),
        "b took {late_b} of 32 once warm"
    );
    assert_eq!(
        msgs,
        [
            "Server l/b is DOWN, reason: Layer4 connection problem, info: \"Connection refused\"",
            "Server l/b is UP, reason: Layer4 check passed",
            "Server l/b is UP. 2 active and 0 backup servers online. 0 sessions requeued, 0 total in queue."
        ]
    );
    if let Some(bin) = oracle() {
        let (_, _, theirs) = slowstart(&bin);
        assert_eq!(theirs, msgs, "HAProxy 2.6 says the same");
    }
}

#[test]
fn observe_layer7_marks_a_server_down_on_live_5xx() {
    let good = Srv::start("good", Mode::Up);
    let bad = Srv::start("bad", Mode::FailTraffic(500));
    let cfg = format!(
        "{DEFAULTS}listen l\n  bind {{fe}}\n  retries 0\n  option httpchk GET /health\n  \
         server good {} check inter 5s\n  \
         server bad {} check inter 5s observe layer7 error-limit 3 on-error mark-down\n",
        good.addr(),
        bad.addr()
    );
    let (px, log) = start(ours(), "observe", &cfg);
    let mut statuses = Vec::new();
    for _ in 0..8 {
        statuses.push(try_get(px.addr, "/t").map(|r| r.0));
        if log.count("is DOWN") > 0 {
            break;
        }
    }
    assert!(
        log.wait_for("Server l/bad is DOWN", LONG),
        "{statuses:?} {}",
        log.text()
    );
    assert!(log.text().contains(
        "Server l/bad is DOWN, reason: Health analyze, info: \"Detected 3 consecutive errors, last one was: Wrong http response\". 1 active and 0 backup servers left. 1 sessions active, 0 requeued, 0 remaining in queue."
    ), "{}", log.text());
    assert_eq!(
        statuses.iter().filter(|s| **s == Some(500)).count(),
        3,
        "{statuses:?}"
    );
    assert_eq!(spread(px.addr, 6), vec!["good"; 6]);
}

#[test]
fn a_dying_server_costs_only_its_in_flight_requests() {
    let a = Srv::start("a", Mode::Up);
    let b = Srv::start("b", Mode::Up);
    a.delay_ms.store(20, Ordering::SeqCst);
    b.delay_ms.store(20, Ordering::SeqCst);
    let cfg = format!(
        "{DEFAULTS}listen l\n  bind {{fe}}\n  retries 3\n  option redispatch\n  \
         server a {} check inter 100 fall 1\n  server b {} check inter 100 fall 1\n",
        a.addr(),
        b.addr()
    );
    let (px, log) = start(ours(), "dying", &cfg);
    let stop = Arc::new(AtomicBool::new(false));
    let (ok, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let clients: Vec<_> = (0..4)
        .map(|_| {
            let (stop, ok, failed, addr) = (stop.clone(), ok.clone(), failed.clone(), px.addr);
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    match try_get(addr, "/t") {
                        Some((200, _)) => ok.fetch_add(1, Ordering::SeqCst),
                        other => {
                            eprintln!("failed request: {other:?}");
                            failed.fetch_add(1, Ordering::SeqCst)
                        }
                    };
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(600));
    let served_b = b.traffic();
    let inflight = b.kill();
    assert!(log.wait_for("Server l/b is DOWN", LONG), "{}", log.text());
    std::thread::sleep(Duration::from_millis(600));
    stop.store(true, Ordering::SeqCst);
    for c in clients {
        let _ = c.join();
    }
    let (ok, failed) = (ok.load(Ordering::SeqCst), failed.load(Ordering::SeqCst));
    assert!(
        served_b > 0 && ok > 50,
        "load ran: {ok} ok, b served {served_b}"
    );
    assert!(
        failed <= inflight,
        "{failed} failed requests, {inflight} were in flight on the dying server"
    );
}

#[test]
fn on_marked_down_shuts_the_sessions_down() {
    let s = Srv::start("s", Mode::Up);
    let check = Srv::start("c", Mode::Up);
    let cfg = format!(
        "defaults\n  mode tcp\n  timeout connect 1s\n  timeout client 10s\n  timeout server 10s\n\
         listen cut\n  bind {{fe}}\n  server s {} check port {} inter 100 fall 1 on-marked-down shutdown-sessions\n",
        s.addr(),
        check.port
    );
    let (px, log) = start(ours(), "shutdown-sessions", &cfg);
    let mut c = TcpStream::connect(px.addr).expect("connect");
    c.set_read_timeout(Some(Duration::from_secs(5))).ok();
    c.write_all(b"GET /t HTTP/1.1\r\nHost: t\r\n\r\n")
        .expect("send");
    let mut buf = [0u8; 256];
    let n = c.read(&mut buf).expect("response");
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    check.set(Mode::Refuse);
    assert!(log.wait_for("Server cut/s is DOWN", LONG), "{}", log.text());
    assert!(log.text().contains("1 sessions active"), "{}", log.text());
    // The proxy closed the session (the server itself still holds it).
    let started = Instant::now();
    let closed = loop {
        match c.read(&mut buf) {
            Ok(0) | Err(_) => break true,
            Ok(_) if started.elapsed() > Duration::from_secs(5) => break false,
            Ok(_) => {}
        }
    };
    assert!(closed, "the session outlived its server's DOWN");
}

#[test]
fn sessions_stay_without_on_marked_down() {
    let s = Srv::start("s", Mode::Up);
    let check = Srv::start("c", Mode::Up);
    let cfg = format!(
        "defaults\n  mode tcp\n  timeout connect 1s\n  timeout client 10s\n  timeout server 10s\n\
         listen keep\n  bind {{fe}}\n  server s {} check port {} inter 100 fall 1\n",
        s.addr(),
        check.port
    );
    let (px, log) = start(ours(), "keep-sessions", &cfg);
    let mut c = TcpStream::connect(px.addr).expect("connect");
    c.set_read_timeout(Some(Duration::from_secs(5))).ok();
    // The session reaches its server before the server goes DOWN (on a
    // busy machine the proxy may take a moment to connect).
    let deadline = Instant::now() + LONG;
    while s.conns.lock().unwrap().is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    check.set(Mode::Refuse);
    assert!(
        log.wait_for("Server keep/s is DOWN", LONG),
        "{}",
        log.text()
    );
    std::thread::sleep(Duration::from_millis(300));
    c.write_all(b"GET /t HTTP/1.1\r\nHost: t\r\n\r\n")
        .expect("send");
    let mut buf = [0u8; 256];
    let n = c.read(&mut buf).unwrap_or(0);
    assert!(
        String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"),
        "the session was cut"
    );
}

#[test]
fn first_checks_are_spread_over_the_interval() {
    // Four servers checked every second, none listening: 2.6 starts their
    // checks a quarter of a second apart.
    let ports: Vec<u16> = (0..4)
        .map(|_| {
            let l = TcpListener::bind("127.0.0.1:0").expect("bind");
            l.local_addr().expect("addr").port()
        })
        .collect();
    let mut cfg = format!("{DEFAULTS}backend b\n");
    for (i, p) in ports.iter().enumerate() {
        cfg.push_str(&format!("  server s{i} 127.0.0.1:{p} check inter 1s\n"));
    }
    cfg.push_str(&format!(
        "listen l\n  bind {{fe}}\n  server x 127.0.0.1:{}\n",
        ports[0]
    ));
    let (_px, log) = start(ours(), "spread", &cfg);
    assert!(log.wait_for_n("is DOWN", 4, LONG), "{}", log.text());
    let times: Vec<Instant> = log
        .timed()
        .iter()
        .filter(|(_, l)| l.contains("is DOWN"))
        .map(|(t, _)| *t)
        .collect();
    let order: Vec<String> = log
        .lines()
        .into_iter()
        .filter(|l| l.contains("is DOWN"))
        .map(|l| {
            l.split("Server b/")
                .nth(1)
                .unwrap_or("")
                .chars()
                .take(2)
                .collect()
        })
        .collect();
    assert_eq!(order, ["s0", "s1", "s2", "s3"]);
    let span = times[3].duration_since(times[0]);
    assert!(
        span >= Duration::from_millis(500),
        "all four checked within {span:?}"
    );
}

#[test]
fn what_cannot_run_is_refused_by_name() {
    for (what, cfg_line) in [
        ("'option spop-check'", "option spop-check"),
        (
            "'tcp-check set-var(check.x)'",
            "option tcp-check\n  tcp-check set-var(check.x) int(1)",
        ),
        (
            "'tcp-check connect ssl'",
            "option tcp-check\n  tcp-check connect ssl",
        ),
        (
            "'http-check send' header value",
            "option httpchk\n  http-check send hdr X %[src]",
        ),
    ] {
        let cfg = format!(
            "{DEFAULTS}backend b\n  {cfg_line}\n  server s 127.0.0.1:9 check\nlisten l\n  bind 127.0.0.1:1\n  server x 127.0.0.1:9\n"
        );
        let (code, err) = Proxy::run_to_exit("refused", &cfg);
        assert_eq!(code, 1, "{err}");
        assert!(
            err.contains(what) && err.contains("not built yet"),
            "{what}: {err}"
        );
    }
}

#[test]
fn persistence_to_a_down_server_is_broken() {
    let a = Srv::start("a", Mode::Up);
    let b = Srv::start("b", Mode::Up);
    let cfg = format!(
        "{DEFAULTS}listen l\n  bind {{fe}}\n  cookie SRV insert indirect\n  \
         default-server check inter 100 fall 1 rise 1\n  server a {} cookie ca\n  server b {} cookie cb\n",
        a.addr(),
        b.addr()
    );
    let (px, log) = start(ours(), "persist-down", &cfg);
    let with_cookie = |c: &str| {
        let mut s = TcpStream::connect(px.addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(5))).ok();
        s.write_all(
            format!("GET /t HTTP/1.1\r\nHost: t\r\nCookie: SRV={c}\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .expect("send");
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        out
    };
    assert!(with_cookie("cb").ends_with("\r\nb"), "the cookie picks b");
    b.set(Mode::Refuse);
    assert!(log.wait_for("Server l/b is DOWN", LONG), "{}", log.text());
    let r = with_cookie("cb");
    assert!(
        r.ends_with("\r\na"),
        "a DOWN server's clients go elsewhere: {r}"
    );
    assert!(r.contains("set-cookie: SRV=ca"), "and stick there: {r}");
}

#[test]
fn a_stopping_worker_stops_checking() {
    let s = Srv::start("s", Mode::Up);
    let cfg = format!(
        "defaults\n  mode tcp\n  timeout connect 1s\n  timeout client 10s\n  timeout server 10s\n\
         listen l\n  bind {{fe}}\n  option httpchk GET /health\n  server s {} check inter 100\n",
        s.addr()
    );
    let (mut px, _log) = start(ours(), "stop-checking", &cfg);
    let t = Instant::now();
    while s.checks() < 3 && t.elapsed() < LONG {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(s.checks() >= 3, "checks run");
    // A session keeps the stopping worker alive.
    let mut c = TcpStream::connect(px.addr).expect("connect");
    c.write_all(b"GET /t HTTP/1.1\r\nHost: t\r\n\r\n")
        .expect("send");
    let mut buf = [0u8; 64];
    let _ = c.read(&mut buf);
    px.signal(libc::SIGUSR1);
    std::thread::sleep(Duration::from_millis(300));
    let after_stop = s.checks();
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(s.checks(), after_stop, "no check after the soft stop");
    assert!(
        px.wait_exit(Duration::from_millis(100)).is_none(),
        "still serving its session"
    );
    drop(c);
    assert!(px.wait_exit(LONG).is_some(), "exits once its session ends");
}

/// `http-check send-state` and `option log-health-checks`: the states the
/// server is told while it fails and recovers, and the messages.
fn state_and_log(bin: &str) -> (Vec<String>, Vec<String>) {
    let s = Srv::start("s", Mode::Up);
    let cfg = format!(
        "global\n  node lb1\n{DEFAULTS}listen l\n  bind {{fe}}\n  option httpchk GET /health\n  \
         http-check send-state\n  option log-health-checks\n  server s {} check inter 100 rise 2 fall 2\n",
        s.addr()
    );
    let (_px, log) = start(bin, "send-state", &cfg);
    let t = Instant::now();
    while s.checks() < 3 && t.elapsed() < LONG {
        std::thread::sleep(Duration::from_millis(10));
    }
    s.set(Mode::Status(500));
    assert!(log.wait_for("Server l/s is DOWN", LONG), "{}", log.text());
    s.set(Mode::Up);
    assert!(log.wait_for("Server l/s is UP", LONG), "{}", log.text());
    let mut states: Vec<String> = Vec::new();
    for h in s.hits() {
        let line = h
            .head
            .lines()
            .find(|l| l.starts_with("x-haproxy-server-state: "))
            .unwrap_or("")
            .to_string();
        if states.last() != Some(&line) {
            states.push(line);
        }
    }
    (states, normalized(&log))
}

#[test]
fn send_state_and_log_health_checks() {
    let (states, msgs) = state_and_log(ours());
    let port = states
        .first()
        .and_then(|l| l.split("port=").nth(1))
        .and_then(|p| p.split(';').next())
        .unwrap_or("")
        .to_string();
    let tail = format!("; address=127.0.0.1; port={port}; name=l/s; node=lb1; weight=1/");
    let words: Vec<&str> = states
        .iter()
        .map(|l| {
            l.trim_start_matches("x-haproxy-server-state: ")
                .split(';')
                .next()
                .unwrap_or("")
        })
        .collect();
    assert_eq!(
        words,
        ["UP 1/2", "UP", "UP 1/2", "DOWN", "DOWN 1/2"],
        "{states:#?}"
    );
    assert!(states.iter().all(|l| l.contains(&tail)), "{states:#?}");
    for m in [
        "[WARNING]  (PID) : Health check for server l/s failed, reason: Layer7 wrong status, code: 500, info: \"X\", check duration: Nms, status: 1/2 UP.",
        "[WARNING]  (PID) : Health check for server l/s failed, reason: Layer7 wrong status, code: 500, info: \"X\", check duration: Nms, status: 0/2 DOWN.",
        "[WARNING]  (PID) : Server l/s is DOWN. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.",
        "[WARNING]  (PID) : Health check for server l/s succeeded, reason: Layer7 check passed, code: 200, check duration: Nms, status: 1/2 DOWN.",
        "[WARNING]  (PID) : Server l/s is UP. 1 active and 0 backup servers online. 0 sessions requeued, 0 total in queue.",
    ] {
        assert!(msgs.iter().any(|l| l == m), "missing {m}\n{msgs:#?}");
    }
    if let Some(bin) = oracle() {
        let (theirs_states, theirs_msgs) = state_and_log(&bin);
        let strip = |v: &[String]| -> Vec<String> {
            v.iter()
                .map(|l| l.split("; port=").next().unwrap_or("").to_string())
                .collect()
        };
        assert_eq!(
            strip(&theirs_states),
            strip(&states),
            "HAProxy 2.6 tells the same states"
        );
        assert_eq!(theirs_msgs, msgs, "and logs the same checks");
    }
}

/// `track`: servers following another one's state, in a chain and across
/// backends; the messages of its going down and up again.
fn tracking(bin: &str) -> (Vec<String>, Vec<String>) {
    let a = Srv::start("a", Mode::Up);
    let b = Srv::start("b", Mode::Up);
    let cfg = format!(
        "{DEFAULTS}backend checked\n  server s {a} check inter 100 fall 1 rise 1\n\
         listen l\n  bind {{fe}}\n  server t1 {a} track checked/s\n  server t2 {a} track t1\n  \
         server other {b}\n",
        a = a.addr(),
        b = b.addr()
    );
    let (px, log) = start(bin, "track", &cfg);
    a.set(Mode::Refuse);
    assert!(log.wait_for("Server l/t2 is DOWN", LONG), "{}", log.text());
    let during = spread(px.addr, 4);
    a.set(Mode::Up);
    assert!(log.wait_for("Server l/t2 is UP", LONG), "{}", log.text());
    let msgs = log
        .lines()
        .into_iter()
        .filter(|l| l.contains("Server "))
        .map(|l| {
            let l = l.split(" : ").nth(1).unwrap_or("").to_string();
            match l.find(", check duration") {
                Some(i) => l[..i].to_string(),
                None => l,
            }
        })
        .collect();
    (during, msgs)
}

#[test]
fn tracking_servers_follow_the_tracked_one() {
    let (during, msgs) = tracking(ours());
    assert_eq!(
        during,
        vec!["b"; 4],
        "tracking servers take no traffic while it is DOWN"
    );
    assert_eq!(
        msgs,
        [
            "Server checked/s is DOWN, reason: Layer4 connection problem, info: \"Connection refused\"",
            "Server l/t1 is DOWN via checked/s. 2 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.",
            "Server l/t2 is DOWN via l/t1. 1 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.",
            "Server checked/s is UP, reason: Layer4 check passed",
            "Server l/t1 is UP via checked/s. 2 active and 0 backup servers online. 0 sessions requeued, 0 total in queue.",
            "Server l/t2 is UP via l/t1. 3 active and 0 backup servers online. 0 sessions requeued, 0 total in queue.",
        ]
    );
    if let Some(bin) = oracle() {
        assert_eq!(tracking(&bin).1, msgs, "HAProxy 2.6 says the same");
    }
}
