//! End-to-end: the built binary in TCP mode (layer 4) between a test client
//! and loopback TCP servers. Read each test as servers -> config -> client
//! -> asserts.
mod common;
use common::Proxy;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

const DEFAULTS: &str =
    "defaults\n mode tcp\n timeout connect 2s\n timeout client 10s\n timeout server 10s\n";

/// What a test server does with each connection.
#[derive(Clone, Copy)]
enum Role {
    /// Sends back what it reads; on the client's FIN it sends its own.
    Echo,
    /// Sends its name and closes.
    Greet,
    /// Reads until the client's FIN, then answers with `n` bytes of a
    /// known pattern and closes (needs the half-close passed on).
    AnswerAfterFin(usize),
    /// Reads and never answers.
    Silent,
}

struct Server {
    addr: SocketAddr,
    conns: Arc<AtomicUsize>,
}

impl Server {
    fn start(name: &'static str, role: Role) -> Server {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind server");
        let addr = l.local_addr().expect("addr");
        let conns = Arc::new(AtomicUsize::new(0));
        let c = conns.clone();
        thread::spawn(move || {
            for s in l.incoming() {
                let Ok(mut s) = s else { continue };
                c.fetch_add(1, Ordering::SeqCst);
                thread::spawn(move || serve(&mut s, name, role));
            }
        });
        Server { addr, conns }
    }
    fn connections(&self) -> usize {
        self.conns.load(Ordering::SeqCst)
    }
}

fn serve(s: &mut TcpStream, name: &str, role: Role) {
    let mut buf = vec![0u8; 256 * 1024];
    match role {
        Role::Echo => loop {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => {
                    let _ = s.shutdown(Shutdown::Write);
                    return;
                }
                Ok(n) => {
                    if s.write_all(&buf[..n]).is_err() {
                        return;
                    }
                }
            }
        },
        Role::Greet => {
            let _ = s.write_all(name.as_bytes());
        }
        Role::AnswerAfterFin(n) => {
            let mut got = 0usize;
            while let Ok(k) = s.read(&mut buf) {
                if k == 0 {
                    break;
                }
                got += k;
            }
            let mut out = format!("got {got}\n").into_bytes();
            out.extend(pattern(0, n));
            let _ = s.write_all(&out);
        }
        Role::Silent => while matches!(s.read(&mut buf), Ok(k) if k > 0) {},
    }
}

/// Deterministic bytes: position `off`.. of an endless pseudo-random stream.
fn pattern(off: usize, n: usize) -> Vec<u8> {
    (off..off + n)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect()
}

fn connect(px: &Proxy) -> TcpStream {
    let s = TcpStream::connect(px.addr).expect("connect proxy");
    s.set_read_timeout(Some(Duration::from_secs(20))).ok();
    s
}

fn read_all(s: &mut TcpStream) -> Vec<u8> {
    let mut v = Vec::new();
    let _ = s.read_to_end(&mut v);
    v
}

/// Sends `total` bytes through an echo server and checks every byte that
/// comes back, streaming (both directions busy at once).
fn echo_transfer(px: &Proxy, total: usize) {
    let mut s = connect(px);
    let mut w = s.try_clone().expect("clone");
    let writer = thread::spawn(move || {
        let chunk = 1 << 20;
        let block = pattern(0, chunk);
        let mut sent = 0;
        while sent < total {
            let n = chunk.min(total - sent);
            w.write_all(&block[..n]).expect("send");
            sent += n;
        }
        w.shutdown(Shutdown::Write).expect("shutdown");
    });
    let chunk = 1 << 20;
    let block = pattern(0, chunk);
    let mut buf = vec![0u8; chunk];
    let mut got = 0usize;
    loop {
        let n = s.read(&mut buf).expect("read echo");
        if n == 0 {
            break;
        }
        // Slice comparisons (memcmp): a per-byte loop is slow in debug builds.
        let mut off = 0;
        while off < n {
            let p = (got + off) % chunk;
            let m = (chunk - p).min(n - off);
            assert!(
                buf[off..off + m] == block[p..p + m],
                "bytes differ after the round trip near offset {}",
                got + off
            );
            off += m;
        }
        got += n;
    }
    writer.join().expect("writer");
    assert_eq!(got, total, "every byte came back, then the FIN");
}

#[test]
fn one_gib_round_trip_is_byte_identical_with_splice() {
    let echo = Server::start("echo", Role::Echo);
    let px = Proxy::start(
        "tcp-bulk",
        &format!(
            "{DEFAULTS}listen l\n bind {{fe}}\n server e {}\n",
            echo.addr
        ),
    );
    echo_transfer(&px, 1 << 30);
}

#[test]
fn copy_path_without_splice_is_byte_identical() {
    let echo = Server::start("echo", Role::Echo);
    let px = Proxy::start(
        "tcp-nosplice",
        &format!(
            "global\n nosplice\n{DEFAULTS}listen l\n bind {{fe}}\n server e {}\n",
            echo.addr
        ),
    );
    echo_transfer(&px, 64 << 20);
}

#[test]
fn half_close_is_passed_on_and_the_whole_answer_arrives() {
    let srv = Server::start("fin", Role::AnswerAfterFin(5 << 20));
    let px = Proxy::start(
        "tcp-halfclose",
        &format!(
            "{DEFAULTS}frontend f\n bind {{fe}}\n default_backend b\nbackend b\n server s {}\n",
            srv.addr
        ),
    );
    let mut s = connect(&px);
    s.write_all(b"question").expect("send");
    s.shutdown(Shutdown::Write).expect("shutdown");
    let got = read_all(&mut s);
    let head = b"got 8\n";
    assert!(
        got.starts_with(head),
        "the server saw the FIN after 8 bytes"
    );
    assert_eq!(got.len(), head.len() + (5 << 20));
    assert!(got[head.len()..] == pattern(0, 5 << 20)[..]);
}

#[test]
fn idle_timeout_closes_but_traffic_keeps_the_session() {
    let echo = Server::start("echo", Role::Echo);
    let px = Proxy::start(
        "tcp-timeouts",
        &format!(
            "defaults\n mode tcp\n timeout connect 2s\n timeout client 600ms\n timeout server 10s\n\
             listen l\n bind {{fe}}\n server e {}\n",
            echo.addr
        ),
    );
    let mut s = connect(&px);
    // Traffic every 200 ms for 1.8 s: three times the timeout, never idle.
    for i in 0..9u8 {
        s.write_all(&[i]).expect("send");
        let mut b = [0u8; 1];
        s.read_exact(&mut b).expect("echo while active");
        assert_eq!(b[0], i);
        thread::sleep(Duration::from_millis(200));
    }
    // Then silence: the proxy closes the session.
    let start = Instant::now();
    let mut b = [0u8; 1];
    assert_eq!(s.read(&mut b).ok(), Some(0), "closed by timeout client");
    assert!(start.elapsed() < Duration::from_secs(10));
}

#[test]
fn timeout_tunnel_replaces_client_and_server_timeouts() {
    let srv = Server::start("silent", Role::Silent);
    let px = Proxy::start(
        "tcp-tunnel",
        &format!(
            "defaults\n mode tcp\n timeout connect 2s\n timeout client 300ms\n timeout server 300ms\n timeout tunnel 1500ms\n\
             listen l\n bind {{fe}}\n server s {}\n",
            srv.addr
        ),
    );
    let mut s = connect(&px);
    s.write_all(b"x").expect("send");
    s.set_read_timeout(Some(Duration::from_millis(900))).ok();
    let mut b = [0u8; 1];
    let r = s.read(&mut b);
    assert!(
        matches!(&r, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock || e.kind() == std::io::ErrorKind::TimedOut),
        "still open past timeout client/server: {r:?}"
    );
    s.set_read_timeout(Some(Duration::from_secs(10))).ok();
    assert_eq!(s.read(&mut b).ok(), Some(0), "closed by timeout tunnel");
}

#[test]
fn timeout_client_fin_applies_once_the_client_has_closed() {
    let srv = Server::start("silent", Role::Silent);
    let px = Proxy::start(
        "tcp-clientfin",
        &format!(
            "defaults\n mode tcp\n timeout connect 2s\n timeout client 30s\n timeout server 30s\n timeout client-fin 300ms\n\
             listen l\n bind {{fe}}\n server s {}\n",
            srv.addr
        ),
    );
    let mut s = connect(&px);
    s.write_all(b"bye").expect("send");
    s.shutdown(Shutdown::Write).expect("shutdown");
    let start = Instant::now();
    let mut b = [0u8; 1];
    assert_eq!(s.read(&mut b).ok(), Some(0), "closed by timeout client-fin");
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "well before the 30 s timeouts"
    );
}

#[test]
fn balancing_roundrobin_source_and_routing_by_port() {
    let (a, b, c) = (
        Server::start("a", Role::Greet),
        Server::start("b", Role::Greet),
        Server::start("c", Role::Greet),
    );
    let px = Proxy::start(
        "tcp-balance",
        &format!(
            "{DEFAULTS}frontend f\n bind {{fe}}\n use_backend src_hash if {{ src 127.0.0.1 }} {{ dst_port 1 }}\n default_backend rr\n\
             backend rr\n balance roundrobin\n server a {}\n server b {}\n\
             backend src_hash\n balance source\n server b {}\n server c {}\n",
            a.addr, b.addr, b.addr, c.addr
        ),
    );
    let names: Vec<String> = (0..4)
        .map(|_| String::from_utf8(read_all(&mut connect(&px))).expect("utf8"))
        .collect();
    assert_eq!(names, ["a", "b", "a", "b"]);
    assert_eq!(c.connections(), 0, "dst_port 1 never matches");
}

#[test]
fn balance_source_sticks_to_one_server() {
    let (a, b) = (
        Server::start("a", Role::Greet),
        Server::start("b", Role::Greet),
    );
    let px = Proxy::start(
        "tcp-source",
        &format!(
            "{DEFAULTS}listen l\n bind {{fe}}\n balance source\n server a {}\n server b {}\n",
            a.addr, b.addr
        ),
    );
    let first = read_all(&mut connect(&px));
    for _ in 0..5 {
        assert_eq!(read_all(&mut connect(&px)), first);
    }
    assert!(a.connections() == 0 || b.connections() == 0);
}

#[test]
fn dead_server_is_retried_then_redispatched() {
    let live = Server::start("live", Role::Greet);
    // A port nobody listens on: bind, note it, close.
    let dead = TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr");
    let px = Proxy::start(
        "tcp-redispatch",
        &format!(
            "{DEFAULTS}listen l\n bind {{fe}}\n retries 2\n option redispatch\n server dead {dead}\n server live {}\n",
            live.addr
        ),
    );
    for _ in 0..4 {
        assert_eq!(read_all(&mut connect(&px)), b"live");
    }
}

#[test]
fn no_backend_closes_the_connection() {
    let px = Proxy::start(
        "tcp-nobackend",
        &format!("{DEFAULTS}frontend f\n bind {{fe}}\n use_backend b if {{ dst_port 1 }}\nbackend b\n server s 127.0.0.1:1\n"),
    );
    let mut s = connect(&px);
    assert!(read_all(&mut s).is_empty());
}

#[test]
fn ten_thousand_connections_leak_no_descriptor_or_pipe() {
    let echo = Server::start("echo", Role::Echo);
    let px = Proxy::start(
        "tcp-leak",
        &format!(
            "global\n maxpipes 64\n{DEFAULTS}listen l\n bind {{fe}}\n server e {}\n",
            echo.addr
        ),
    );
    // Warm up (runtime threads, pooled pipes), then measure.
    for _ in 0..50 {
        let mut s = connect(&px);
        s.write_all(b"ping").expect("send");
        s.shutdown(Shutdown::Write).expect("fin");
        assert_eq!(read_all(&mut s), b"ping");
    }
    thread::sleep(Duration::from_millis(200));
    let before = px.open_fds();
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let addr = px.addr;
            thread::spawn(move || {
                for i in 0..2500u32 {
                    let mut s = TcpStream::connect(addr).expect("connect");
                    s.set_read_timeout(Some(Duration::from_secs(20))).ok();
                    let msg = i.to_be_bytes();
                    s.write_all(&msg).expect("send");
                    s.shutdown(Shutdown::Write).expect("fin");
                    let mut v = Vec::new();
                    s.read_to_end(&mut v).expect("read");
                    assert_eq!(v, msg);
                }
            })
        })
        .collect();
    for w in workers {
        w.join().expect("client thread");
    }
    thread::sleep(Duration::from_millis(300));
    let after = px.open_fds();
    // Pooled pipes stay open: at most two per concurrent session (4 here),
    // two descriptors each.
    assert!(
        after <= before + 4 * 2 * 2,
        "descriptors grew from {before} to {after} after 10,000 connections"
    );
}
