//! Logging end to end: the proxy sends its lines to a UDP socket (and a
//! unix datagram socket) this test binds; the same configuration and the
//! same traffic go through the real HAProxy 2.6, and the lines must match
//! once dates, pids, ports and timer values are masked (a timer's `-1`,
//! "never reached", is kept).
mod common;
use common::{oracle, Backend, Behaviour, Proxy};
use std::io::{Read, Write};
use std::net::{TcpStream, UdpSocket};
use std::os::unix::net::UnixDatagram;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Collects the datagrams a socket receives.
struct Sink {
    lines: Arc<Mutex<Vec<String>>>,
}

impl Sink {
    fn udp() -> (Sink, String) {
        let s = UdpSocket::bind("127.0.0.1:0").expect("bind udp");
        let addr = s.local_addr().expect("addr").to_string();
        s.set_read_timeout(Some(Duration::from_millis(100))).ok();
        let lines: Arc<Mutex<Vec<String>>> = Arc::default();
        let l = lines.clone();
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 70000];
            loop {
                match s.recv(&mut buf) {
                    Ok(n) => l
                        .lock()
                        .unwrap()
                        .push(String::from_utf8_lossy(&buf[..n]).into_owned()),
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                    Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
                    Err(_) => return,
                }
                if Arc::strong_count(&l) == 1 {
                    return;
                }
            }
        });
        (Sink { lines }, addr)
    }

    fn unix(path: &std::path::Path) -> Sink {
        let _ = std::fs::remove_file(path);
        let s = UnixDatagram::bind(path).expect("bind unix");
        s.set_read_timeout(Some(Duration::from_millis(100))).ok();
        let lines: Arc<Mutex<Vec<String>>> = Arc::default();
        let l = lines.clone();
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 70000];
            loop {
                if let Ok(n) = s.recv(&mut buf) {
                    l.lock()
                        .unwrap()
                        .push(String::from_utf8_lossy(&buf[..n]).into_owned());
                }
                if Arc::strong_count(&l) == 1 {
                    return;
                }
            }
        });
        Sink { lines }
    }

    /// Waits until `n` lines arrived in all (or two seconds).
    fn wait(&self, n: usize) {
        let end = Instant::now() + Duration::from_secs(2);
        while self.lines.lock().unwrap().len() < n && Instant::now() < end {
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Waits until `n` lines arrived (or two seconds), then returns them.
    fn take(&self, n: usize) -> Vec<String> {
        let end = Instant::now() + Duration::from_secs(2);
        while self.lines.lock().unwrap().len() < n && Instant::now() < end {
            std::thread::sleep(Duration::from_millis(10));
        }
        std::mem::take(&mut *self.lines.lock().unwrap())
    }
}

/// Sends `req` on a fresh connection and reads until the proxy closes.
fn exchange(px: &Proxy, req: &[u8]) -> Vec<u8> {
    let mut s = TcpStream::connect(px.addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(3))).ok();
    s.write_all(req).expect("send");
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    out
}

/// Masks what differs between two runs: syslog date and pid, accept dates,
/// client ports, and the timer values (not whether they are -1).
fn mask(line: &str) -> String {
    let rules: &[(&str, &str)] = &[
        (r"^(<\d+>)\w{3} [ \d]\d \d\d:\d\d:\d\d ", "${1}DATE "),
        (r"\[\d+\]: ", "[PID]: "),
        (r"\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d(\.\d{3})?", "DATE"),
        (r"127\.0\.0\.1:\d+", "127.0.0.1:PORT"),
        (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d", "ISO"),
        (r" haproxy \d+ - ", " haproxy PID - "),
        (r"check duration: \d+ms", "check duration: Nms"),
        // clf: client port and accept milliseconds.
        (r#"" "" \d+ \d{3} ""#, r#"" "" PORT MS ""#),
    ];
    let mut s = line.to_string();
    for (pat, with) in rules {
        s = regex::Regex::new(pat)
            .unwrap()
            .replace_all(&s, *with)
            .into_owned();
    }
    // Timers: the first N numbers joined by '/' before a status or a byte
    // count; -1 ("never reached") is kept, other values masked.
    let timers = regex::Regex::new(r"(^|\s)([-+]?\d+(?:/[-+]?\d+){2,4}) ([-+]?\d+ )").unwrap();
    let clf =
        regex::Regex::new(r#"" (-?\d+) (-?\d+) (-?\d+) (-?\d+) (-?\d+) ([-A-Za-z]{4}) "#).unwrap();
    let t = |v: &str| {
        if v == "-1" {
            "-1".to_string()
        } else {
            "T".to_string()
        }
    };
    s = clf
        .replace(&s, |c: &regex::Captures| {
            format!(
                "\" {} {} {} {} {} {} ",
                t(&c[1]),
                t(&c[2]),
                t(&c[3]),
                t(&c[4]),
                t(&c[5]),
                &c[6]
            )
        })
        .into_owned();
    if let Some(c) = timers.captures(&s) {
        let m = c.get(2).unwrap();
        let masked: Vec<&str> = m
            .as_str()
            .split('/')
            .map(|v| match v {
                "-1" => "-1",
                _ if v.starts_with('+') => "+T",
                _ => "T",
            })
            .collect();
        s = format!("{}{}{}", &s[..m.start()], masked.join("/"), &s[m.end()..]);
    }
    s
}

/// Runs `traffic` through `bin` started on `cfg` (`{log}` is the UDP sink's
/// address) and returns the masked lines, the "Proxy stopped" ones aside.
/// The traffic waits for each line it expects (`Sink::wait`), so that both
/// binaries see the same sequence.
fn lines_of(
    bin: &str,
    name: &str,
    cfg: &str,
    expect: usize,
    traffic: &dyn Fn(&Proxy, &Sink),
) -> Vec<String> {
    let (sink, addr) = Sink::udp();
    let px = Proxy::start_binary(bin, name, &cfg.replace("{log}", &addr));
    traffic(&px, &sink);
    let got = sink.take(expect);
    drop(px);
    got.iter()
        .map(|l| mask(l))
        .filter(|l| !l.contains(" stopped (cumulated"))
        .collect()
}

fn backend_cfg(b: &Backend) -> String {
    format!("backend be\n server s1 {}\n", b.addr)
}

const DEFAULTS: &str = "global\n nbthread 1\n log {log} local0\ndefaults\n log global\n mode http\n timeout connect 2s\n timeout client 5s\n timeout server 5s\n timeout http-request 500ms\n";

/// The lines of `cfg` under our binary, compared with 2.6's when it is here.
fn both(name: &str, cfg: &str, expect: usize, traffic: &dyn Fn(&Proxy, &Sink)) -> Vec<String> {
    let ours = lines_of(env!("CARGO_BIN_EXE_haproxy"), name, cfg, expect, traffic);
    if let Some(o) = oracle() {
        let theirs = lines_of(&o, &format!("{name}-oracle"), cfg, expect, traffic);
        assert_eq!(ours, theirs, "{name}: ours (left) vs HAProxy 2.6 (right)");
    }
    ours
}

#[test]
fn httplog_lines_and_termination_states() {
    let b = Backend::http("web");
    let cfg = format!(
        "{DEFAULTS}frontend f\n bind {{fe}}\n option httplog\n http-request deny if {{ path /deny }}\n \
         http-request redirect location /elsewhere if {{ path /redir }}\n use_backend nosrv if {{ path /nosrv }}\n \
         default_backend be\nbackend nosrv\n{}",
        backend_cfg(&b)
    );
    let lines = both("httplog", &cfg, 7, &|px, sink| {
        let reqs: [&[u8]; 5] = [
            b"GET /p?q=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            b"GET /deny HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            b"GET /redir HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            b"GET /nosrv HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            b"garbage\r\n\r\n",
        ];
        for (i, r) in reqs.iter().enumerate() {
            exchange(px, r);
            sink.wait(i + 1);
        }
        // One idle until `timeout http-request`.
        let s = TcpStream::connect(px.addr).expect("connect");
        sink.wait(6);
        drop(s);
        // A null connection: connect, then close.
        drop(TcpStream::connect(px.addr).expect("connect"));
        sink.wait(7);
    });
    assert_eq!(lines.len(), 7, "{lines:#?}");
    assert!(
        lines[0]
            .starts_with("<134>DATE haproxy[PID]: 127.0.0.1:PORT [DATE] f be/s1 T/T/T/T/T 200 "),
        "{}",
        lines[0]
    );
    assert!(
        lines[0].ends_with(" - - ---- 1/1/0/0/0 0/0 \"GET /p?q=1 HTTP/1.1\"\n"),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].contains(" f f/<NOSRV> T/-1/-1/-1/T 403 192 - - PR-- "),
        "{}",
        lines[1]
    );
    assert!(lines[2].contains(" LR-- "), "{}", lines[2]);
    assert!(
        lines[3].contains(" nosrv/<NOSRV> T/-1/-1/-1/T 503 "),
        "{}",
        lines[3]
    );
    assert!(lines[3].contains(" SC-- "), "{}", lines[3]);
    assert!(
        lines[4].contains(" -1/-1/-1/-1/T 400 0 - - PR-- ") && lines[4].ends_with("\"<BADREQ>\"\n"),
        "{}",
        lines[4]
    );
    assert!(lines[5].contains(" 408 0 - - cR-- "), "{}", lines[5]);
    assert!(lines[6].contains(" 400 0 - - CR-- "), "{}", lines[6]);
}

#[test]
fn clf_tcplog_legacy_and_dontlognull() {
    let b = Backend::http("web");
    let clf = format!(
        "{DEFAULTS}frontend f\n bind {{fe}}\n option httplog clf\n default_backend be\n{}",
        backend_cfg(&b)
    );
    let lines = both("clf", &clf, 1, &|px, _| {
        exchange(
            px,
            b"GET /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        );
    });
    assert!(
        lines[0].contains("127.0.0.1 - - [DATE +0000] \"GET /c HTTP/1.1\" 200 "),
        "{}",
        lines[0]
    );
    assert!(
        lines[0].ends_with(" \"f\" \"be\" \"s1\" T T T T T ---- 1 1 0 0 0 0 0 \"\" \"\" \n")
            || lines[0].contains("\"f\" \"be\" \"s1\""),
        "{}",
        lines[0]
    );

    let tcp = format!(
        "{DEFAULTS}frontend f\n mode tcp\n bind {{fe}}\n option tcplog\n option dontlognull\n default_backend be\nbackend be\n mode tcp\n server s1 {}\n",
        b.addr
    );
    let lines = both("tcplog", &tcp, 1, &|px, sink| {
        exchange(
            px,
            b"GET /t HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        );
        sink.wait(1);
        exchange(px, b"");
    });
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(lines[0].contains(" f be/s1 T/T/T "), "{}", lines[0]);
    assert!(lines[0].ends_with(" -- 1/1/0/0/0 0/0\n"), "{}", lines[0]);

    let legacy = format!(
        "{DEFAULTS}frontend f\n bind {{fe}}\n default_backend be\n{}",
        backend_cfg(&b)
    );
    let lines = both("legacy", &legacy, 1, &|px, _| {
        exchange(
            px,
            b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        );
        exchange(px, b"");
    });
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(
        lines[0].ends_with("Connect from 127.0.0.1:PORT to 127.0.0.1:PORT (f/HTTP)\n"),
        "{}",
        lines[0]
    );
}

#[test]
fn formats_levels_and_custom_log_format() {
    let b = Backend::start("slow", Behaviour::Slow(Duration::from_millis(1500)));
    let cfg = format!(
        "{DEFAULTS}frontend f\n bind {{fe}}\n log {{log}} format rfc5424 local1\n log {{log}} format raw local2\n log {{log}} local3 notice\n \
         capture request header Host len 4\n capture request header User-Agent len 20\n \
         log-format \"%ci %{{+Q}}r %ST %hr %[var(txn.none)] %{{+Q}}[src] %HM|%HU|%HP|%HQ|%HV %ft %b %s %ts %{{+X}}ci\"\n \
         default_backend be\n{}",
        backend_cfg(&b)
    );
    let lines = both("custom", &cfg, 3, &|px, sink| {
        // The client gives up before the slow server answers.
        let mut s = TcpStream::connect(px.addr).expect("connect");
        s.write_all(b"GET /abc?d=1 HTTP/1.1\r\nHost: example.org\r\nUser-Agent: t\"q\r\n\r\n")
            .expect("send");
        std::thread::sleep(Duration::from_millis(300));
        drop(s);
        sink.wait(3);
    });
    // rfc5424, raw and the global target; `notice` filters the info line.
    // A client that closed its side still gets the answer (no
    // `abortonclose`): the stream ends normally.
    assert_eq!(lines.len(), 3, "{lines:#?}");
    let body = "127.0.0.1 \"GET /abc?d=1 HTTP/1.1\" 200 {exam|t#22q} - \"127.0.0.1\" GET|/abc?d=1|/abc|?d=1|HTTP/1.1 f be s1 -- 7F000001\n";
    assert!(lines.iter().any(|l| l == body), "{lines:#?}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("<142>1 ") && l.ends_with(body)),
        "{lines:#?}"
    );
}

#[test]
fn unix_socket_target_and_stop_messages() {
    let b = Backend::http("web");
    let dir = common::scratch("log-unix");
    let path = dir.join("log.sock");
    let sink = Sink::unix(&path);
    let cfg = format!(
        "global\n nbthread 1\n log {} local2\n log-tag mytag\ndefaults\n log global\n mode http\n timeout connect 2s\n timeout client 5s\n timeout server 5s\n\
         frontend f\n bind {{fe}}\n option httplog\n default_backend be\n{}",
        path.display(),
        backend_cfg(&b)
    );
    let mut px = Proxy::start("log-unix-proxy", &cfg);
    exchange(
        &px,
        b"GET /u HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    let got = sink.take(1);
    assert_eq!(got.len(), 1, "{got:#?}");
    assert!(got[0].starts_with("<150>"), "{}", got[0]);
    assert!(got[0].contains(" mytag["), "{}", got[0]);
    assert!(got[0].contains("\"GET /u HTTP/1.1\""), "{}", got[0]);
    // A soft stop logs each proxy at `warning` (local2: 16+2 -> 148).
    px.signal(libc::SIGUSR1);
    px.wait_exit(Duration::from_secs(10));
    let got = sink.take(3);
    assert!(
        got.iter().any(|l| l.starts_with("<148>")
            && l.contains("Proxy f stopped (cumulated conns: FE: 1, BE: 0).")),
        "{got:#?}"
    );
    assert!(
        got.iter()
            .any(|l| l.contains("Proxy be stopped (cumulated conns: FE: 0, BE: 1).")),
        "{got:#?}"
    );
}

#[test]
fn unique_id_cookie_capture_and_structured_data() {
    let b = Backend::http("web");
    let cfg = format!(
        "global\n nbthread 1\n log {{log}} format rfc5424 local0\ndefaults\n log global\n mode http\n timeout connect 2s\n timeout client 5s\n timeout server 5s\n\
         frontend f\n bind {{fe}}\n unique-id-format %{{+X}}o\\ %fi_%rt\n unique-id-header X-Req-Id\n capture cookie SESS len 12\n \
         http-request set-header x-id %[unique-id]\n log-format \"%ID %CC %CS %lc %rt %{{+Q}}[unique-id]\"\n log-format-sd \"[x@1 id=\\\"%ID\\\"]\"\n \
         default_backend be\n{}",
        backend_cfg(&b)
    );
    let lines = both("unique-id", &cfg, 2, &|px, sink| {
        let mut s = TcpStream::connect(px.addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(3))).ok();
        let req = b"GET /1 HTTP/1.1\r\nHost: x\r\nCookie: a=1; SESSID=abcdefghijklmnop\r\n\r\n";
        s.write_all(req).expect("send");
        sink.wait(1);
        s.write_all(b"GET /2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .expect("send");
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        sink.wait(2);
    });
    assert_eq!(lines.len(), 2, "{lines:#?}");
    assert!(
        lines[0].ends_with(
            " - [x@1 id=\"7F000001_0000\"] 7F000001_0000 SESSID=abcde - 0 0 \"7F000001_0000\"\n"
        ),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].ends_with(" 7F000001_0001 - - 1 1 \"7F000001_0001\"\n"),
        "{}",
        lines[1]
    );
    let heads = b.heads.lock().unwrap().clone();
    let first = heads
        .iter()
        .find(|h| h.contains("GET /1 "))
        .expect("first request");
    assert!(first.contains("x-id: 7F000001_0000\r\n"), "{first}");
    assert!(first.contains("x-req-id: 7F000001_0000\r\n"), "{first}");
}

#[test]
fn tcp_termination_states() {
    // A port nothing listens on, a server that never answers.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let dead = closed.local_addr().expect("addr");
    drop(closed);
    let b = Backend::start("slow", Behaviour::Slow(Duration::from_secs(10)));
    let cfg = format!(
        "global\n nbthread 1\n log {{log}} local0\ndefaults\n log global\n mode tcp\n option tcplog\n timeout connect 1s\n timeout client 400ms\n timeout server 400ms\n\
         frontend f\n bind {{fe}}\n default_backend be\n\
         backend be\n server s1 {}\n",
        b.addr
    );
    let lines = both("tcp-states", &cfg, 2, &|px, sink| {
        // The server does not answer within `timeout server`.
        exchange(px, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        sink.wait(1);
        // The client sends nothing within `timeout client` (the server
        // is slow too: the first timeout to expire is the client's or the
        // server's, the same in both).
        let s = TcpStream::connect(px.addr).expect("connect");
        sink.wait(2);
        drop(s);
    });
    assert_eq!(lines.len(), 2, "{lines:#?}");
    // With equal client and server timeouts, 2.6 blames the client.
    assert!(lines[0].contains(" f be/s1 T/T/T 0 cD "), "{}", lines[0]);
    assert!(lines[1].contains(" f be/s1 T/T/T 0 cD "), "{}", lines[1]);
    let refused = format!(
        "global\n nbthread 1\n log {{log}} local0\ndefaults\n log global\n mode tcp\n option tcplog\n timeout connect 1s\n timeout client 2s\n timeout server 2s\n\
         frontend f\n bind {{fe}}\n default_backend be\nbackend be\n server s1 {dead}\n"
    );
    let lines = both("tcp-refused", &refused, 1, &|px, sink| {
        exchange(px, b"hello");
        sink.wait(1);
    });
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(lines[0].contains(" f be/s1 T/-1/T 0 SC "), "{}", lines[0]);
}

#[test]
fn logasap_logs_when_the_response_starts() {
    let b = Backend::start("slow", Behaviour::Slow(Duration::from_millis(300)));
    let cfg = format!(
        "{DEFAULTS}frontend f\n bind {{fe}}\n option httplog\n option logasap\n default_backend be\n{}",
        backend_cfg(&b)
    );
    let lines = both("logasap", &cfg, 1, &|px, sink| {
        exchange(
            px,
            b"GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        );
        sink.wait(1);
    });
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(
        lines[0].contains(" f be/s1 T/T/T/T/+T 200 +"),
        "{}",
        lines[0]
    );
}

#[test]
fn http_server_side_termination_states() {
    let closing = Backend::start("close", Behaviour::Close);
    let slow = Backend::start("slow", Behaviour::Slow(Duration::from_millis(1500)));
    let web = Backend::http("web");
    let cfg = format!(
        "{DEFAULTS}frontend f\n bind {{fe}}\n option httplog\n use_backend closing if {{ path /close }}\n \
         use_backend slow if {{ path /slow }}\n use_backend queue if {{ path /queue }}\n default_backend denied\n\
         backend closing\n server s1 {}\nbackend slow\n timeout server 300ms\n server s1 {}\n\
         backend queue\n timeout queue 200ms\n server s1 {} maxconn 1\n\
         backend denied\n http-response deny\n server s1 {}\n",
        closing.addr, slow.addr, slow.addr, web.addr
    );
    let lines = both("server-states", &cfg, 5, &|px, sink| {
        // The server closes without answering: 502, SH.
        exchange(
            px,
            b"GET /close HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        );
        sink.wait(1);
        // The server does not answer within `timeout server`: 504, sH.
        exchange(
            px,
            b"GET /slow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        );
        sink.wait(2);
        // One request holds the only slot; the next waits past `timeout
        // queue`: 503, sQ.
        let mut first = TcpStream::connect(px.addr).expect("connect");
        first
            .write_all(b"GET /queue HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .expect("send");
        std::thread::sleep(Duration::from_millis(100));
        exchange(
            px,
            b"GET /queue HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        );
        sink.wait(3);
        let mut rest = Vec::new();
        let _ = first.read_to_end(&mut rest);
        sink.wait(4);
        // An http-response rule denies the answer: 502, PH.
        exchange(
            px,
            b"GET /deny HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        );
        sink.wait(5);
    });
    assert_eq!(lines.len(), 5, "{lines:#?}");
    assert!(
        lines[0].contains(" closing/s1 ")
            && lines[0].contains(" 502 ")
            && lines[0].contains(" SH-- "),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].contains(" slow/s1 ") && lines[1].contains(" 504 ") && lines[1].contains(" sH-- "),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].contains(" 503 ") && lines[2].contains(" sQ-- "),
        "{}",
        lines[2]
    );
    assert!(
        lines[4].contains(" 502 ") && lines[4].contains(" PH-- "),
        "{}",
        lines[4]
    );
}

#[test]
fn every_framing_as_2_6_writes_it() {
    let b = Backend::http("web");
    let cfg = format!(
        "global\n nbthread 1\n log {{log}} format rfc3164 local0\n log {{log}} format short local1\n log {{log}} format priority local2\n \
         log {{log}} format timed local3\n log {{log}} format iso local4\n log {{log}} len 80 format raw local5\n log {{log}} local6 info info\n\
         defaults\n log global\n mode http\n timeout connect 2s\n timeout client 5s\n timeout server 5s\n\
         frontend f\n bind {{fe}}\n log-format \"%ci %r %ST\"\n default_backend be\n{}",
        backend_cfg(&b)
    );
    let mut lines = both("framings", &cfg, 7, &|px, sink| {
        exchange(px, b"GET /01234567890123456789012345678901234567890123456789012345678901234567890123456789 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        sink.wait(7);
    });
    lines.sort();
    assert_eq!(lines.len(), 7, "{lines:#?}");
    assert!(
        lines.iter().any(
            |l| l.starts_with("<134>DATE localhost haproxy[PID]: 127.0.0.1 GET /0")
                && l.ends_with(" HTTP/1.1 200\n")
        ),
        "{lines:#?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("<14>") || l.starts_with("<6>127.0.0.1 ")),
        "{lines:#?}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("<150>127.0.0.1 ")),
        "{lines:#?}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("ISO 127.0.0.1 ")),
        "{lines:#?}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("<6>ISO 127.0.0.1 ")),
        "{lines:#?}"
    );
    // len 80: the line is cut to 80 bytes, then its newline.
    let cut = "127.0.0.1 GET /01234567890123456789012345678901234567890123456789012345678901234\n";
    assert_eq!(cut.len(), 81);
    assert!(lines.iter().any(|l| l == cut), "{lines:#?}");
}

#[test]
fn reply_termination_states() {
    let b = Backend::http("web");
    let cfg = format!(
        "{DEFAULTS}frontend f\n bind {{fe}}\n option httplog\n timeout tarpit 200ms\n \
         http-request tarpit if {{ path /tarpit }}\n http-request return status 201 content-type text/plain string hi if {{ path /ret }}\n \
         http-request deny deny_status 429 if {{ path /deny }}\n default_backend be\n{}",
        backend_cfg(&b)
    );
    let lines = both("replies", &cfg, 3, &|px, sink| {
        for (i, p) in ["/tarpit", "/ret", "/deny"].iter().enumerate() {
            let req = format!("GET {p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            exchange(px, req.as_bytes());
            sink.wait(i + 1);
        }
    });
    assert_eq!(lines.len(), 3, "{lines:#?}");
    assert!(
        lines[0].contains(" 500 ") && lines[0].contains(" PT-- "),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].contains(" 201 ") && lines[1].contains(" LR-- "),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].contains(" 429 ") && lines[2].contains(" PR-- "),
        "{}",
        lines[2]
    );
}

#[test]
fn capture_rules_and_log_levels() {
    let b = Backend::http("web");
    let cfg = format!(
        "{DEFAULTS}frontend f\n bind {{fe}}\n capture request header Host len 4\n http-request capture path len 5\n \
         declare capture response len 8\n capture response header Content-Length len 3\n \
         http-response capture res.hdr(content-type) id 0\n \
         http-request set-log-level silent if {{ path /quiet }}\n http-request set-log-level err if {{ path /loud }}\n \
         log-format \"%hr %hs %{{+Q}}r %U\"\n default_backend be\n{}",
        backend_cfg(&b)
    );
    let lines = both("capture-rules", &cfg, 2, &|px, sink| {
        for p in ["/quiet", "/abcdefgh", "/loud"] {
            let req = format!("GET {p} HTTP/1.1\r\nHost: example.org\r\nConnection: close\r\n\r\n");
            exchange(px, req.as_bytes());
        }
        sink.wait(2);
    });
    assert_eq!(lines.len(), 2, "{lines:#?}");
    assert!(
        lines[0].starts_with("<134>") && lines[0].contains(" {exam|/abcd} {text/pla|"),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].starts_with("<131>") && lines[1].contains("\"GET /loud HTTP/1.1\""),
        "{}",
        lines[1]
    );
}

#[test]
fn server_state_changes_are_logged_as_2_6_logs_them() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let dead = closed.local_addr().expect("addr");
    drop(closed);
    let cfg = format!(
        "global\n nbthread 1\n log {{log}} local0\ndefaults\n log global\n mode http\n timeout connect 1s\n timeout client 5s\n timeout server 5s\n\
         frontend f\n bind {{fe}}\n default_backend l4\nbackend l4\n server s1 {dead} check inter 200ms fall 2 rise 1\n"
    );
    let lines = both("health-lines", &cfg, 2, &|_, sink| sink.wait(2));
    assert_eq!(lines.len(), 2, "{lines:#?}");
    assert_eq!(
        lines[0],
        "<129>DATE haproxy[PID]: Server l4/s1 is DOWN, reason: Layer4 connection problem, info: \"Connection refused\", check duration: Nms. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.\n"
    );
    assert_eq!(
        lines[1],
        "<128>DATE haproxy[PID]: backend l4 has no server available!\n"
    );
}

#[test]
fn proxy_header_errors_are_logged_as_2_6_logs_them() {
    let b = Backend::http("web");
    for (name, extra) in [
        ("proxy-err-default", ""),
        (
            "proxy-err-format",
            " error-log-format \"ERR %ci %ft %[fc_err] %[fc_err_str]\"\n",
        ),
    ] {
        let cfg = format!(
            "global\n nbthread 1\n log {{log}} local0\ndefaults\n log global\n mode http\n option httplog\n timeout connect 2s\n timeout client 1s\n timeout server 5s\n\
             frontend f\n bind {{fe}} accept-proxy\n{extra} default_backend be\n{}",
            backend_cfg(&b)
        );
        let lines = both(name, &cfg, 4, &|px, sink| {
            exchange(px, b"GET / HTTP/1.1\r\n\r\n");
            sink.wait(1);
            exchange(
                px,
                b"PROXY TCP4 1.2.3.4 5.6.7.8 nope 80\r\nGET / HTTP/1.1\r\n\r\n",
            );
            sink.wait(2);
            let mut s = TcpStream::connect(px.addr).expect("connect");
            s.write_all(b"PROXY TCP4 1.2.3.4").expect("send");
            s.shutdown(std::net::Shutdown::Write).ok();
            let mut rest = Vec::new();
            let _ = s.read_to_end(&mut rest);
            sink.wait(3);
            // Nothing within `timeout client`.
            exchange(px, b"");
            sink.wait(4);
        });
        assert_eq!(lines.len(), 4, "{lines:#?}");
        if extra.is_empty() {
            assert!(
                lines[0].ends_with("127.0.0.1:PORT [DATE] f/1: Received something which does not look like a PROXY protocol header\n"),
                "{}",
                lines[0]
            );
        } else {
            assert!(
                lines[0].contains("ERR 127.0.0.1 f 15 Received something"),
                "{}",
                lines[0]
            );
        }
    }
}

#[test]
fn capture_converters_fill_their_slots() {
    let b = Backend::http("web");
    let cfg = format!(
        "{DEFAULTS}frontend f\n bind {{fe}}\n declare capture request len 8\n declare capture response len 5\n \
         http-request set-var(txn.h) req.hdr(host),lower,capture-req(0)\n \
         http-response set-var(txn.t) res.hdr(content-type),capture-res(0)\n \
         log-format \"%hr %hs %[var(txn.h)]\"\n default_backend be\n{}",
        backend_cfg(&b)
    );
    let lines = both("capture-conv", &cfg, 1, &|px, sink| {
        exchange(
            px,
            b"GET / HTTP/1.1\r\nHost: WWW.Example.ORG\r\nConnection: close\r\n\r\n",
        );
        sink.wait(1);
    });
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(
        lines[0].ends_with(" {www.exam} {text/} www.example.org\n"),
        "{}",
        lines[0]
    );
}
