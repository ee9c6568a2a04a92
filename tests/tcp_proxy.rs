//! End-to-end: the built binary in TCP mode (layer 4) between a test client
//! and loopback TCP servers. Read each test as servers -> config -> client
//! -> asserts.
mod common;
use common::Proxy;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
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
    /// Reads until the client's FIN, keeps the bytes, answers "ok".
    Record,
    /// Sends the address the connection came from and closes.
    PeerIp,
    /// Sends "bye" and its FIN, then waits for the proxy to close; records
    /// how many milliseconds that took.
    FinThenWait,
}

struct Server {
    addr: SocketAddr,
    conns: Arc<AtomicUsize>,
    /// What each connection sent (Role::Record).
    got: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl Server {
    fn start(name: &'static str, role: Role) -> Server {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind server");
        let addr = l.local_addr().expect("addr");
        let conns = Arc::new(AtomicUsize::new(0));
        let got = Arc::new(Mutex::new(Vec::new()));
        let (c, g) = (conns.clone(), got.clone());
        thread::spawn(move || {
            for s in l.incoming() {
                let Ok(mut s) = s else { continue };
                c.fetch_add(1, Ordering::SeqCst);
                let g = g.clone();
                thread::spawn(move || {
                    if let Some(bytes) = serve(&mut s, name, role) {
                        g.lock().expect("lock").push(bytes);
                    }
                });
            }
        });
        Server { addr, conns, got }
    }
    fn connections(&self) -> usize {
        self.conns.load(Ordering::SeqCst)
    }
    /// What the connections recorded so far sent, waiting briefly for the
    /// last one to finish.
    fn received(&self, n: usize) -> Vec<Vec<u8>> {
        let start = Instant::now();
        while self.got.lock().expect("lock").len() < n && start.elapsed() < Duration::from_secs(10)
        {
            thread::sleep(Duration::from_millis(10));
        }
        self.got.lock().expect("lock").clone()
    }
}

fn serve(s: &mut TcpStream, name: &str, role: Role) -> Option<Vec<u8>> {
    let mut buf = vec![0u8; 256 * 1024];
    match role {
        Role::Record => {
            let mut v = Vec::new();
            let _ = s.read_to_end(&mut v);
            let _ = s.write_all(b"ok");
            return Some(v);
        }
        Role::Echo => loop {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => {
                    let _ = s.shutdown(Shutdown::Write);
                    return None;
                }
                Ok(n) => {
                    if s.write_all(&buf[..n]).is_err() {
                        return None;
                    }
                }
            }
        },
        Role::Greet => {
            let _ = s.write_all(name.as_bytes());
        }
        Role::FinThenWait => {
            let start = Instant::now();
            let _ = s.write_all(b"bye");
            let _ = s.shutdown(Shutdown::Write);
            while matches!(s.read(&mut buf), Ok(k) if k > 0) {}
            return Some(start.elapsed().as_millis().to_string().into_bytes());
        }
        Role::PeerIp => {
            if let Ok(peer) = s.peer_addr() {
                let _ = s.write_all(peer.ip().to_string().as_bytes());
            }
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
    None
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

/// A TLS 1.2 ClientHello as browsers send it first, naming `sni`: a
/// session id, several cipher suites and extensions around server_name.
fn client_hello(sni: &str) -> Vec<u8> {
    fn ext(ty: u16, body: &[u8]) -> Vec<u8> {
        let mut e = ty.to_be_bytes().to_vec();
        e.extend((body.len() as u16).to_be_bytes());
        e.extend(body);
        e
    }
    let name = sni.as_bytes();
    let mut sn = ((name.len() + 3) as u16).to_be_bytes().to_vec();
    sn.push(0); // host_name
    sn.extend((name.len() as u16).to_be_bytes());
    sn.extend(name);
    let mut exts = Vec::new();
    exts.extend(ext(0xff01, &[0])); // renegotiation_info
    exts.extend(ext(0x0000, &sn)); // server_name
    exts.extend(ext(0x000a, &[0, 4, 0, 0x1d, 0, 0x17])); // supported_groups
    exts.extend(ext(0x0010, b"\x00\x0c\x02h2\x08http/1.1")); // ALPN
    let mut hello = vec![0x03, 0x03];
    hello.extend((0..32).map(|i| i as u8 * 7)); // random
    hello.push(32);
    hello.extend([0xab; 32]); // session id
    let suites = [0x1301u16, 0x1302, 0xc02f, 0xc030, 0x009c];
    hello.extend(((suites.len() * 2) as u16).to_be_bytes());
    for c in suites {
        hello.extend(c.to_be_bytes());
    }
    hello.extend([1, 0]); // compression: null
    hello.extend((exts.len() as u16).to_be_bytes());
    hello.extend(exts);
    let mut hs = vec![0x01];
    hs.extend(&(hello.len() as u32).to_be_bytes()[1..]);
    hs.extend(hello);
    let mut rec = vec![0x16, 0x03, 0x01];
    rec.extend((hs.len() as u16).to_be_bytes());
    rec.extend(hs);
    rec
}

#[test]
fn sni_routing_of_a_tls_client_hello_split_in_two_writes() {
    let (a, b, other) = (
        Server::start("a", Role::Echo),
        Server::start("b", Role::Echo),
        Server::start("other", Role::Echo),
    );
    let px = Proxy::start(
        "tcp-sni",
        &format!(
            "{DEFAULTS}frontend tls\n bind {{fe}}\n tcp-request inspect-delay 5s\n\
             tcp-request content accept if {{ req.ssl_hello_type 1 }}\n\
             use_backend site_a if {{ req.ssl_sni -i a.example.com }}\n\
             use_backend site_b if {{ req_ssl_sni -i b.example.com }}\n default_backend rest\n\
             backend site_a\n server a {}\nbackend site_b\n server b {}\nbackend rest\n server o {}\n",
            a.addr, b.addr, other.addr
        ),
    );
    for (sni, want) in [
        ("B.example.com", &b),
        ("a.example.com", &a),
        ("c.example.com", &other),
    ] {
        let hello = client_hello(sni);
        let mut s = connect(&px);
        // The hello arrives in two parts: the proxy waits for the rest.
        s.write_all(&hello[..20]).expect("part 1");
        thread::sleep(Duration::from_millis(150));
        s.write_all(&hello[20..]).expect("part 2");
        s.shutdown(Shutdown::Write).expect("fin");
        assert_eq!(
            read_all(&mut s),
            hello,
            "the inspected bytes are passed on untouched"
        );
        assert_eq!(want.connections(), 1, "{sni}");
    }
}

#[test]
fn tcp_request_rules_reject_by_source_and_payload() {
    let srv = Server::start("srv", Role::Greet);
    // Connection rules see the peer (127.0.0.1); content rules the bytes.
    let px = Proxy::start(
        "tcp-reject",
        &format!(
            "{DEFAULTS}frontend f\n bind {{fe}}\n tcp-request inspect-delay 2s\n\
             tcp-request content reject if {{ req.payload(0,4) -m bin 44454e59 }}\n\
             tcp-request content accept if {{ req.len ge 4 }}\n default_backend b\n\
             backend b\n server s {}\n",
            srv.addr
        ),
    );
    let mut s = connect(&px);
    s.write_all(b"DENY me").expect("send");
    assert!(read_all(&mut s).is_empty(), "payload rule rejects");
    let mut s = connect(&px);
    s.write_all(b"HELLO").expect("send");
    assert_eq!(read_all(&mut s), b"srv");
    assert_eq!(srv.connections(), 1);

    let px = Proxy::start(
        "tcp-reject-src",
        &format!(
            "{DEFAULTS}frontend f\n bind {{fe}}\n tcp-request connection reject if {{ src 127.0.0.0/8 }}\n default_backend b\n\
             backend b\n server s {}\n",
            srv.addr
        ),
    );
    assert!(read_all(&mut connect(&px)).is_empty());
    let px = Proxy::start(
        "tcp-reject-content-src",
        &format!(
            "{DEFAULTS}frontend f\n bind {{fe}}\n tcp-request content reject if {{ src 127.0.0.1 }}\n default_backend b\n\
             backend b\n server s {}\n",
            srv.addr
        ),
    );
    assert!(read_all(&mut connect(&px)).is_empty());
    assert_eq!(
        srv.connections(),
        1,
        "rejected clients never reach the server"
    );
}

#[test]
fn proxy_protocol_v1_in_and_out() {
    let rec = Server::start("rec", Role::Record);
    let px = Proxy::start(
        "tcp-proxy-v1",
        &format!(
            "{DEFAULTS}frontend f\n bind {{fe}} accept-proxy\n\
             tcp-request session reject if {{ src 203.0.113.66 }}\n default_backend b\n\
             backend b\n server s {} send-proxy\n",
            rec.addr
        ),
    );
    let mut s = connect(&px);
    s.write_all(b"PROXY TCP4 192.0.2.1 198.51.100.7 5555 443\r\nhello")
        .expect("send");
    s.shutdown(Shutdown::Write).expect("fin");
    assert_eq!(read_all(&mut s), b"ok");
    assert_eq!(
        rec.received(1)[0],
        b"PROXY TCP4 192.0.2.1 198.51.100.7 5555 443\r\nhello",
        "the server sees the original client, then the bytes after the header"
    );
    // Session rules see the address the header carried.
    let mut s = connect(&px);
    s.write_all(b"PROXY TCP4 203.0.113.66 198.51.100.7 5555 443\r\nhello")
        .expect("send");
    assert!(read_all(&mut s).is_empty());
    // Something else than a PROXY header: closed.
    let mut s = connect(&px);
    s.write_all(b"GET / HTTP/1.1\r\n\r\n").expect("send");
    assert!(read_all(&mut s).is_empty());
    assert_eq!(rec.connections(), 1);
}

#[test]
fn proxy_protocol_v2_in_and_out() {
    let rec = Server::start("rec", Role::Record);
    let px = Proxy::start(
        "tcp-proxy-v2",
        &format!(
            "{DEFAULTS}listen l\n bind {{fe}} accept-proxy\n server s {} send-proxy-v2\n",
            rec.addr
        ),
    );
    // The spec's layout: signature, version 2 + PROXY, TCP over IPv6,
    // 36 address bytes.
    let mut hdr = b"\r\n\r\n\x00\r\nQUIT\n".to_vec();
    hdr.extend([0x21, 0x21, 0x00, 36]);
    let src: std::net::Ipv6Addr = "2001:db8::1".parse().expect("ip");
    let dst: std::net::Ipv6Addr = "2001:db8::2".parse().expect("ip");
    hdr.extend(src.octets());
    hdr.extend(dst.octets());
    hdr.extend(40000u16.to_be_bytes());
    hdr.extend(8443u16.to_be_bytes());
    let mut s = connect(&px);
    s.write_all(&hdr).expect("header");
    s.write_all(b"payload").expect("payload");
    s.shutdown(Shutdown::Write).expect("fin");
    assert_eq!(read_all(&mut s), b"ok");
    let mut want = hdr.clone();
    want.extend(b"payload");
    assert_eq!(
        rec.received(1)[0],
        want,
        "the same v2 header goes to the server"
    );
}

#[test]
fn source_address_defer_accept_and_transparent_bind() {
    let srv = Server::start("peer", Role::PeerIp);
    let echo = Server::start("echo", Role::Echo);
    // A second listener on a port nobody else uses right now.
    let port = TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let px = Proxy::start(
        "tcp-source",
        &format!(
            "{DEFAULTS}frontend f\n bind {{fe}}\n default_backend b\n\
             backend b\n server s {} source 127.0.0.2\n\
             listen deferred\n bind 127.0.0.1:{port} defer-accept transparent\n server e {}\n",
            srv.addr, echo.addr
        ),
    );
    assert_eq!(
        read_all(&mut connect(&px)),
        b"127.0.0.2",
        "connections leave from the source address"
    );
    // defer-accept: the connection is handed over once data arrives.
    let mut s = (0..50)
        .find_map(|_| {
            TcpStream::connect(("127.0.0.1", port)).ok().or_else(|| {
                thread::sleep(Duration::from_millis(50));
                None
            })
        })
        .expect("deferred listener");
    s.set_read_timeout(Some(Duration::from_secs(10))).ok();
    s.write_all(b"late").expect("send");
    s.shutdown(Shutdown::Write).expect("fin");
    assert_eq!(read_all(&mut s), b"late");
}

#[test]
fn tcp_response_content_rules_inspect_the_servers_first_bytes() {
    let bad = Server::start("BAD-banner", Role::Greet);
    let good = Server::start("good-banner", Role::Greet);
    let cfg = |srv: SocketAddr| {
        format!(
            "{DEFAULTS}listen l\n bind {{fe}}\n tcp-response inspect-delay 2s\n\
             tcp-response content reject if {{ res.payload(0,3) -m str BAD }}\n\
             tcp-response content accept if {{ res.len ge 3 }}\n server s {srv}\n"
        )
    };
    let px = Proxy::start("tcp-response-bad", &cfg(bad.addr));
    assert!(
        read_all(&mut connect(&px)).is_empty(),
        "rejected on the server's banner"
    );
    let px = Proxy::start("tcp-response-good", &cfg(good.addr));
    assert_eq!(
        read_all(&mut connect(&px)),
        b"good-banner",
        "inspected bytes are passed on"
    );
}

#[test]
fn variables_set_by_tcp_rules_route_the_connection() {
    let (a, other) = (
        Server::start("a", Role::Echo),
        Server::start("other", Role::Echo),
    );
    let text = format!(
        "{DEFAULTS}frontend tls\n bind {{fe}}\n tcp-request connection set-var(sess.origin) src\n\
         tcp-request inspect-delay 5s\n\
         tcp-request content set-var(txn.sni) req.ssl_sni,lower if {{ req.ssl_hello_type 1 }}\n\
         tcp-request content set-var-fmt(txn.tag) \"%[var(txn.sni)]@%[var(sess.origin)]\"\n\
         tcp-request content set-var(txn.drop) str(x)\n tcp-request content unset-var(txn.drop)\n\
         tcp-request content capture req.ssl_sni len 50\n\
         tcp-request content reject if {{ var(txn.drop) -m found }}\n\
         use_backend site_a if {{ var(txn.tag) -m str a.example.com@127.0.0.1 }}\n default_backend rest\n\
         backend site_a\n server a {}\nbackend rest\n server o {}\n",
        a.addr, other.addr
    );
    // The configuration is one HAProxy 2.6 accepts as well.
    if let Some(real) = common::oracle() {
        let dir = common::scratch("tcp-vars-check");
        let path = dir.join("c.cfg");
        std::fs::write(&path, text.replace("{fe}", "127.0.0.1:1")).expect("cfg");
        let st = std::process::Command::new(real)
            .args(["-c", "-q", "-f"])
            .arg(&path)
            .status()
            .expect("haproxy -c");
        assert!(st.success());
    }
    let px = Proxy::start("tcp-vars", &text);
    for (sni, want) in [("A.Example.com", &a), ("b.example.com", &other)] {
        let hello = client_hello(sni);
        let mut s = connect(&px);
        s.write_all(&hello).expect("hello");
        s.shutdown(Shutdown::Write).expect("fin");
        assert_eq!(read_all(&mut s), hello);
        assert_eq!(want.connections(), 1, "{sni}");
    }
}

#[test]
fn timeout_server_and_server_fin() {
    // A silent server: `timeout server` closes the session.
    let silent = Server::start("silent", Role::Silent);
    let px = Proxy::start(
        "tcp-timeout-server",
        &format!(
            "defaults\n mode tcp\n timeout connect 2s\n timeout client 30s\n timeout server 300ms\n\
             listen l\n bind {{fe}}\n server s {}\n",
            silent.addr
        ),
    );
    let mut s = connect(&px);
    s.write_all(b"hello?").expect("send");
    let start = Instant::now();
    assert!(read_all(&mut s).is_empty(), "closed by timeout server");
    assert!(start.elapsed() < Duration::from_secs(10));
    // The server half-closes and the client stays silent: `timeout
    // server-fin` ends the session long before the 30 s timeouts.
    let fin = Server::start("fin", Role::FinThenWait);
    let px = Proxy::start(
        "tcp-server-fin",
        &format!(
            "defaults\n mode tcp\n timeout connect 2s\n timeout client 30s\n timeout server 30s\n timeout server-fin 300ms\n\
             listen l\n bind {{fe}}\n server s {}\n",
            fin.addr
        ),
    );
    let mut s = connect(&px);
    let mut got = [0u8; 3];
    s.read_exact(&mut got).expect("bye");
    assert_eq!(&got, b"bye");
    let waited: u64 = String::from_utf8(fin.received(1)[0].clone())
        .expect("utf8")
        .parse()
        .expect("ms");
    assert!(
        waited < 10_000,
        "the server side was closed after {waited} ms"
    );
    drop(s);
}

/// leastconn sends each new connection to the server with the fewest:
/// six held connections over three servers land two on each.
#[test]
fn leastconn_spreads_concurrent_connections() {
    let servers: Vec<Server> = ["a", "b", "c"]
        .into_iter()
        .map(|n| Server::start(n, Role::Silent))
        .collect();
    let lines: String = servers
        .iter()
        .enumerate()
        .map(|(i, s)| format!(" server s{i} {}\n", s.addr))
        .collect();
    let px = Proxy::start(
        "tcp-leastconn",
        &format!("{DEFAULTS}listen l\n bind {{fe}}\n balance leastconn\n{lines}"),
    );
    // One at a time: each connection is placed before the next arrives.
    let total = || servers.iter().map(Server::connections).sum::<usize>();
    let held: Vec<TcpStream> = (0..6)
        .map(|i| {
            let mut s = connect(&px);
            s.write_all(b"x").expect("send");
            let start = Instant::now();
            while total() <= i && start.elapsed() < Duration::from_secs(10) {
                thread::sleep(Duration::from_millis(5));
            }
            s
        })
        .collect();
    let counts: Vec<usize> = servers.iter().map(Server::connections).collect();
    assert_eq!(counts, [2, 2, 2]);
    drop(held);
}

/// An RDP connection request: TPKT header (version 3, total length), X.224
/// connection request (length indicator, code 0xe0, DST-REF, SRC-REF,
/// class), then the routing cookie line.
fn rdp_request(cookie_line: &str) -> Vec<u8> {
    let mut v = vec![0x03, 0x00, 0, 0, 0, 0xe0, 0, 0, 0, 0, 0];
    v.extend_from_slice(cookie_line.as_bytes());
    let len = v.len();
    v[2..4].copy_from_slice(&(len as u16).to_be_bytes());
    v[4] = (len - 5) as u8;
    v
}

/// Which server answers an RDP request sent in two writes (the proxy must
/// wait for the cookie line to end).
fn rdp_server_of(px: &Proxy, cookie_line: &str) -> String {
    let req = rdp_request(cookie_line);
    let mut s = connect(px);
    s.write_all(&req[..req.len() - 6]).expect("part 1");
    thread::sleep(Duration::from_millis(60));
    s.write_all(&req[req.len() - 6..]).expect("part 2");
    String::from_utf8(read_all(&mut s)).expect("utf8")
}

#[test]
fn balance_rdp_cookie_hashes_the_mstshash_cookie() {
    let (a, b, c) = (
        Server::start("a", Role::Greet),
        Server::start("b", Role::Greet),
        Server::start("c", Role::Greet),
    );
    let cfg = format!(
        "{DEFAULTS}listen rdp\n bind {{fe}}\n tcp-request inspect-delay 5s\n\
         tcp-request content accept if RDP_COOKIE\n balance rdp-cookie\n\
         server a {}\n server b {}\n server c {}\n",
        a.addr, b.addr, c.addr
    );
    let cookies: Vec<String> = (1..=10).map(|i| format!("user{i}")).collect();
    // No cookie of that name: decided at once (no wait for the delay),
    // then round robin; then the cookies, twice each.
    let run = |px: &Proxy| -> Vec<String> {
        let mut seen = Vec::new();
        for _ in 0..3 {
            let t = Instant::now();
            seen.push(rdp_server_of(px, "Cookie: other=x\r\n"));
            assert!(
                t.elapsed() < Duration::from_secs(3),
                "no wait without mstshash"
            );
        }
        for _ in 0..2 {
            for u in &cookies {
                seen.push(rdp_server_of(px, &format!("Cookie: mstshash={u}\r\n")));
            }
        }
        seen
    };
    let px = Proxy::start("tcp-rdp", &cfg);
    let ours = run(&px);
    let (fallback, hashed) = ours.split_at(3);
    let mut rr = fallback.to_vec();
    rr.sort();
    assert_eq!(rr, ["a", "b", "c"], "round robin without the cookie");
    assert_eq!(
        hashed[..10],
        hashed[10..],
        "a cookie always reaches one server"
    );
    let mut spread = hashed.to_vec();
    spread.sort();
    spread.dedup();
    assert!(spread.len() > 1, "cookies spread: {hashed:?}");
    drop(px);
    if let Some(bin) = common::oracle() {
        let real = Proxy::start_binary(&bin, "tcp-rdp-oracle", &cfg);
        assert_eq!(run(&real), ours, "server choices of HAProxy 2.6");
    }
}

#[test]
fn rdp_cookie_fetches_route_the_connection() {
    let (a, b, c) = (
        Server::start("a", Role::Greet),
        Server::start("b", Role::Greet),
        Server::start("c", Role::Greet),
    );
    let cfg = format!(
        "{DEFAULTS}frontend f\n bind {{fe}}\n tcp-request inspect-delay 5s\n\
         tcp-request content accept if {{ req_rdp_cookie_cnt gt 0 }}\n\
         use_backend to_b if {{ rdp_cookie(mstshash) -i USER1 }}\n\
         use_backend to_c if {{ req.rdp_cookie bob }}\n default_backend to_a\n\
         backend to_a\n server a {}\nbackend to_b\n server b {}\nbackend to_c\n server c {}\n",
        a.addr, b.addr, c.addr
    );
    let lines = [
        "Cookie: mstshash=user1\r\n",
        "Cookie: mstshash=user2\r\n",
        "Cookie:   msts=bob\r\n",
        "cookie: MSTSHASH=user1\r\n",
        "Cookie: other=user1\r\n",
    ];
    let run = |px: &Proxy| -> Vec<String> { lines.iter().map(|l| rdp_server_of(px, l)).collect() };
    let px = Proxy::start("tcp-rdp-fetch", &cfg);
    let ours = run(&px);
    assert_eq!(ours, ["b", "a", "c", "b", "a"]);
    drop(px);
    if let Some(bin) = common::oracle() {
        let real = Proxy::start_binary(&bin, "tcp-rdp-fetch-oracle", &cfg);
        assert_eq!(run(&real), ours, "routing of HAProxy 2.6");
    }
}
