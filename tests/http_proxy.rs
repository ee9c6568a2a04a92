//! End-to-end: the built binary proxying HTTP between a test client and
//! loopback backends. Read each test as backends -> config -> client -> asserts.
mod common;
use common::{Backend, Behaviour, Proxy};
use std::time::Duration;

const DEFAULTS: &str =
    "defaults\n mode http\n timeout connect 2s\n timeout client 5s\n timeout server 5s\n";

#[test]
fn use_backend_routes_on_host_acl() {
    let api = Backend::http("api");
    let web = Backend::http("web");
    let px = Proxy::start(
        "route-host",
        &format!(
            "{DEFAULTS}frontend fe\n bind {{fe}}\n acl is_api hdr(host) -i api.test\n use_backend be_api if is_api\n default_backend be_web\n\
             backend be_api\n server a {}\nbackend be_web\n server w {}\n",
            api.addr, web.addr
        ),
    );
    assert!(px.get("/", "API.test").text().starts_with("api\n"));
    assert!(px.get("/", "www.test").text().starts_with("web\n"));
    assert_eq!((api.requests(), web.requests()), (1, 1));
}

#[test]
fn routing_on_path_method_and_source() {
    let a = Backend::http("static");
    let b = Backend::http("post");
    let c = Backend::http("local");
    let px = Proxy::start(
        "route-misc",
        &format!(
            "{DEFAULTS}frontend fe\n bind {{fe}}\n acl st path_beg /static /img\n use_backend s if st\n use_backend p if METH_POST\n\
             use_backend l if {{ src 127.0.0.0/8 }} !{{ path_end .php }}\n\
             backend s\n server a {}\nbackend p\n server b {}\nbackend l\n server c {}\n",
            a.addr, b.addr, c.addr
        ),
    );
    assert!(px.get("/static/x.css", "h").text().starts_with("static\n"));
    let mut cl = px.connect();
    cl.send(b"POST /form HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc");
    let r = cl.response().expect("response");
    assert!(r.text().starts_with("post\n"));
    assert_eq!(r.header("x-body-len").as_deref(), Some("3"));
    assert!(px.get("/index.html", "h").text().starts_with("local\n"));
    assert_eq!(
        px.get("/index.php", "h").status,
        503,
        "no rule matched and no default_backend"
    );
}

#[test]
fn roundrobin_follows_haproxys_order_for_the_same_weights() {
    let (s1, s2, s3) = (
        Backend::http("s1"),
        Backend::http("s2"),
        Backend::http("s3"),
    );
    let px = Proxy::start(
        "rr",
        &format!(
            "{DEFAULTS}listen app\n bind {{fe}}\n balance roundrobin\n server s1 {} weight 1\n server s2 {} weight 2\n server s3 {} weight 3\n",
            s1.addr, s2.addr, s3.addr
        ),
    );
    let order: Vec<String> = (0..12)
        .map(|_| {
            px.get("/", "h")
                .text()
                .lines()
                .next()
                .unwrap_or("")
                .to_string()
        })
        .collect();
    // The sequence HAProxy 2.6.12 gives for weights 1, 2, 3 (measured).
    assert_eq!(order.join(" "), "s3 s2 s3 s1 s3 s2 s3 s2 s3 s1 s3 s2");
}

#[test]
fn static_rr_follows_haproxys_map() {
    let (s1, s2, s3) = (
        Backend::http("s1"),
        Backend::http("s2"),
        Backend::http("s3"),
    );
    let px = Proxy::start(
        "static-rr",
        &format!(
            "{DEFAULTS}listen app\n bind {{fe}}\n balance static-rr\n server s1 {} weight 5\n server s2 {} weight 3\n server s3 {} weight 2\n",
            s1.addr, s2.addr, s3.addr
        ),
    );
    let order: Vec<String> = (0..10)
        .map(|_| {
            px.get("/", "h")
                .text()
                .lines()
                .next()
                .unwrap_or("")
                .to_string()
        })
        .collect();
    // HAProxy 2.6.12's map for weights 5, 3, 2: 0010201012.
    assert_eq!(order.join(" "), "s1 s1 s2 s1 s3 s1 s2 s1 s2 s3");
}

#[test]
fn headers_reach_the_server_lower_cased_and_hop_by_hop_rewritten() {
    let be = Backend::http("be");
    let px = Proxy::start(
        "headers",
        &format!(
            "{DEFAULTS}listen app\n bind {{fe}}\n option forwardfor\n server s {}\n",
            be.addr
        ),
    );
    let mut cl = px.connect();
    cl.send(b"GET /a HTTP/1.1\r\nHost: x\r\nX-Mixed-Case: Value\r\n\r\n");
    let r = cl.response().expect("first");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type").as_deref(), Some("text/plain"));
    assert!(
        r.head.contains("content-type: text/plain\r\n"),
        "response names are lower-cased: {}",
        r.head
    );
    let head = be.last_head();
    assert_eq!(
        head,
        "GET /a HTTP/1.1\r\nhost: x\r\nx-mixed-case: Value\r\nx-forwarded-for: 127.0.0.1\r\n"
    );
    // An HTTP/1.0 client: the server sees `connection: keep-alive` added,
    // the client gets `connection: close`.
    let mut c10 = px.connect();
    c10.send(b"GET /c HTTP/1.0\r\nHost: x\r\n\r\n");
    let r = c10.response().expect("1.0 response");
    assert!(r.head.starts_with("HTTP/1.1 200 OK\r\n"));
    assert_eq!(r.header("connection").as_deref(), Some("close"));
    assert!(
        be.last_head()
            .ends_with("x-forwarded-for: 127.0.0.1\r\nconnection: keep-alive\r\n"),
        "{}",
        be.last_head()
    );
}

#[test]
fn keep_alive_on_both_sides_reuses_the_server_connection() {
    let be = Backend::http("be");
    let px = Proxy::start(
        "keepalive",
        &format!(
            "{DEFAULTS}listen app\n bind {{fe}}\n server s {}\n",
            be.addr
        ),
    );
    let mut cl = px.connect();
    for i in 0..3 {
        cl.send(format!("GET /{i} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes());
        assert_eq!(cl.response().expect("response").status, 200);
    }
    assert_eq!((be.requests(), be.connections()), (3, 1));
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let be = Backend::http("be");
    let px = Proxy::start(
        "pipeline",
        &format!(
            "{DEFAULTS}listen app\n bind {{fe}}\n server s {}\n",
            be.addr
        ),
    );
    let mut cl = px.connect();
    cl.send(b"GET /one HTTP/1.1\r\nHost: x\r\n\r\nGET /two HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(cl.response().expect("one").text().contains("GET /one "));
    assert!(cl.response().expect("two").text().contains("GET /two "));
}

#[test]
fn chunked_body_is_forwarded_and_content_length_dropped_with_te() {
    let be = Backend::http("be");
    let px = Proxy::start(
        "chunked",
        &format!(
            "{DEFAULTS}listen app\n bind {{fe}}\n server s {}\n",
            be.addr
        ),
    );
    let mut cl = px.connect();
    cl.send(b"POST /u HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
    let r = cl.response().expect("response");
    assert_eq!(r.header("x-body-len").as_deref(), Some("11"));
    assert_eq!(
        be.bodies
            .lock()
            .unwrap()
            .last()
            .cloned()
            .unwrap_or_default(),
        b"hello world"
    );
    assert!(
        !be.last_head().contains("content-length"),
        "{}",
        be.last_head()
    );
}

#[test]
fn no_server_gives_haproxys_503_and_keeps_the_connection() {
    let px = Proxy::start(
        "503",
        &format!("{DEFAULTS}frontend fe\n bind {{fe}}\n default_backend empty\nbackend empty\n"),
    );
    let mut cl = px.connect();
    for _ in 0..2 {
        cl.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        let r = cl.response().expect("503");
        assert_eq!(
            String::from_utf8_lossy(&r.raw),
            "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 107\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n"
        );
    }
}

#[test]
fn garbage_gets_haproxys_400_and_close() {
    let be = Backend::http("be");
    let px = Proxy::start(
        "400",
        &format!(
            "{DEFAULTS}listen app\n bind {{fe}}\n server s {}\n",
            be.addr
        ),
    );
    for bad in [
        &b"garbage\r\n\r\n"[..],
        b"GET / HTTP/1.1\r\nBad Header: x\r\n\r\n",
        b"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
    ] {
        let mut cl = px.connect();
        cl.send(bad);
        let r = cl.response().expect("400");
        assert_eq!(
            String::from_utf8_lossy(&r.raw),
            "HTTP/1.1 400 Bad request\r\nContent-length: 90\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n<html><body><h1>400 Bad request</h1>\nYour browser sent an invalid request.\n</body></html>\n"
        );
        assert!(cl.closed());
    }
    assert_eq!(be.requests(), 0, "nothing malformed reached the server");
}

#[test]
fn server_errors_give_502_and_504() {
    let closer = Backend::start("closer", Behaviour::Close);
    let slow = Backend::start("slow", Behaviour::Slow(Duration::from_millis(1500)));
    let px = Proxy::start(
        "5xx",
        &format!(
            "defaults\n mode http\n timeout connect 2s\n timeout client 5s\n timeout server 300ms\n\
             frontend fe\n bind {{fe}}\n use_backend slow if {{ path_beg /slow }}\n default_backend closer\n\
             backend closer\n server c {}\nbackend slow\n server s {}\n",
            closer.addr, slow.addr
        ),
    );
    let r = px.get("/", "x");
    assert_eq!(r.status, 502);
    assert!(r
        .text()
        .contains("The server returned an invalid or incomplete response."));
    let r = px.get("/slow", "x");
    assert_eq!(r.status, 504);
    assert!(r.text().contains("The server didn't respond in time."));
}

#[test]
fn idle_client_gets_408_after_timeout_http_request() {
    let be = Backend::http("be");
    let px = Proxy::start(
        "408",
        &format!("defaults\n mode http\n timeout connect 2s\n timeout client 5s\n timeout server 5s\n timeout http-request 300ms\nlisten app\n bind {{fe}}\n server s {}\n", be.addr),
    );
    let mut cl = px.connect();
    cl.send(b"GET / HTTP/1.1\r\nHost:");
    let r = cl.response().expect("408");
    assert_eq!(r.status, 408);
    assert_eq!(r.header("Connection").as_deref(), Some("close"));
    assert!(cl.closed());
}

#[test]
fn dead_server_is_retried_then_redispatched() {
    // A port nobody listens on: bound then closed.
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let live = Backend::http("live");
    let px = Proxy::start(
        "redispatch",
        &format!("{DEFAULTS}listen app\n bind {{fe}}\n balance first\n retries 2\n option redispatch\n server dead {dead}\n server live {} \n", live.addr),
    );
    let r = px.get("/", "x");
    assert_eq!(r.status, 200);
    assert!(r.text().starts_with("live\n"));
}

#[test]
fn configs_this_build_cannot_run_are_refused_with_the_reason() {
    let (code, err) = Proxy::run_to_exit(
        "refuse-tcp-rule",
        "listen l\n mode tcp\n bind 127.0.0.1:1\n tcp-request content silent-drop\n server s 127.0.0.1:1\n",
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("'tcp-request content' with the tcp action 'silent-drop' is not built yet"),
        "{err}"
    );
    let (code, err) = Proxy::run_to_exit(
        "refuse-rule",
        &format!("{DEFAULTS}frontend fe\n bind 127.0.0.1:1\n http-request set-nice 10\n"),
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("parsing [")
            && err.contains("'http-request' with the http action 'set-nice' is not built yet"),
        "{err}"
    );
}

#[test]
fn dynamic_use_backend_through_a_host_map() {
    let a = Backend::http("site-a");
    let b = Backend::http("site-b");
    let d = Backend::http("default");
    let dir = common::scratch("map-files");
    let map = dir.join("hosts.map");
    std::fs::write(
        &map,
        "# host backend\na.example.com be_a\nb.example.com   be_b\nc.example.com   be_missing\n",
    )
    .unwrap();
    let px = Proxy::start(
        "dyn-map",
        &format!(
            "{DEFAULTS}frontend fe\n bind {{fe}}\n use_backend %[req.hdr(host),lower,map({},be_default)]\n\
             backend be_a\n server a {}\nbackend be_b\n server b {}\nbackend be_default\n server d {}\n",
            map.display(),
            a.addr,
            b.addr,
            d.addr
        ),
    );
    assert!(px.get("/", "A.Example.com").text().starts_with("site-a\n"));
    assert!(px.get("/", "b.example.com").text().starts_with("site-b\n"));
    assert!(px.get("/", "other.test").text().starts_with("default\n"));
    // The map names a backend that does not exist: the rule is ignored, and
    // there is no default_backend.
    assert_eq!(px.get("/", "c.example.com").status, 503);
}

#[test]
fn a_reused_server_connection_closed_meanwhile_is_replaced() {
    let be = Backend::start("oneshot", Behaviour::OneShot);
    let px = Proxy::start(
        "stale",
        &format!(
            "{DEFAULTS}listen app\n bind {{fe}}\n server s {}\n",
            be.addr
        ),
    );
    let mut cl = px.connect();
    for i in 0..3 {
        cl.send(format!("GET /{i} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes());
        // Give the server's close time to arrive before the next request.
        let r = cl.response().expect("response");
        assert_eq!(r.status, 200, "request {i}");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!((be.requests(), be.connections()), (3, 3));
}

#[test]
fn expect_100_continue_is_relayed_before_the_body() {
    let be = Backend::http("be");
    let px = Proxy::start(
        "expect",
        &format!(
            "{DEFAULTS}listen app\n bind {{fe}}\n server s {}\n",
            be.addr
        ),
    );
    let mut cl = px.connect();
    cl.send(b"PUT /up HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
    // The interim answer must come before we send the body.
    let interim = common::read_head(&mut cl.rd).expect("interim");
    assert!(
        interim.starts_with("HTTP/1.1 100 Continue\r\n"),
        "{interim}"
    );
    cl.send(b"data");
    let r = cl.response().expect("final");
    assert_eq!(
        (r.status, r.header("x-body-len").as_deref()),
        (200, Some("4"))
    );
}

#[test]
fn errorfile_replaces_the_builtin_page_as_haproxy_rewrites_it() {
    let dir = common::scratch("errorfile-src");
    let page = dir.join("503.http");
    std::fs::write(
        &page,
        "HTTP/1.0 503 Service Unavailable\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n<h1>down for maintenance</h1>\n",
    )
    .unwrap();
    let px = Proxy::start(
        "errorfile",
        &format!("{DEFAULTS} errorfile 503 {}\nfrontend fe\n bind {{fe}}\n default_backend empty\nbackend empty\n", page.display()),
    );
    let mut cl = px.connect();
    cl.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    let r = cl.response().expect("503");
    assert_eq!(
        String::from_utf8_lossy(&r.raw),
        "HTTP/1.0 503 Service Unavailable\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<h1>down for maintenance</h1>\n"
    );
    assert!(
        cl.closed(),
        "without a content-length the page ends with the connection"
    );
}

#[test]
fn websocket_upgrade_switches_to_a_tunnel() {
    let be = Backend::start("ws", Behaviour::UpgradeEcho);
    let px = Proxy::start(
        "websocket",
        &format!(
            "{DEFAULTS} timeout tunnel 5s\nlisten app\n bind {{fe}}\n server s {}\n",
            be.addr
        ),
    );
    let mut cl = px.connect();
    cl.send(b"GET /chat HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n");
    let head = common::read_head(&mut cl.rd).expect("101");
    assert!(
        head.starts_with("HTTP/1.1 101 Switching Protocols\r\n"),
        "{head}"
    );
    assert!(
        be.last_head().contains("connection: upgrade\r\n")
            && be.last_head().contains("upgrade: websocket\r\n")
    );
    for msg in [&b"ping"[..], b"frame with more bytes", &[0u8, 255, 10, 13]] {
        cl.send(msg);
        let mut got = vec![0u8; msg.len()];
        std::io::Read::read_exact(&mut cl.rd, &mut got).expect("echo");
        assert_eq!(got, msg);
    }
}

#[test]
fn large_bodies_stream_intact_both_ways() {
    let be = Backend::http("be");
    let px = Proxy::start(
        "large",
        &format!(
            "{DEFAULTS}listen app\n bind {{fe}}\n server s {}\n",
            be.addr
        ),
    );
    const SIZE: usize = 100 << 20;
    let data: Vec<u8> = (0..SIZE).map(|i| (i * 13 + 5) as u8).collect();
    // Upload: 100 MB with Content-Length, written while the proxy streams it.
    let mut cl = px.connect();
    cl.send(format!("POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: {SIZE}\r\n\r\n").as_bytes());
    cl.send(&data);
    let r = cl.response().expect("upload response");
    assert_eq!(
        r.header("x-body-len")
            .map(|v| v.parse::<usize>().unwrap_or(0)),
        Some(SIZE)
    );
    let kept = be
        .bodies
        .lock()
        .unwrap()
        .last()
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        String::from_utf8_lossy(&kept),
        common::checksum(&data).to_string()
    );
    // Download: 100 MB from the server.
    cl.send(format!("GET /big/{SIZE} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes());
    let r = cl.response().expect("download");
    assert_eq!(r.body.len(), SIZE);
    assert!(r
        .body
        .iter()
        .enumerate()
        .all(|(i, b)| *b == ((i * 7 + 3) as u8 % 251)));
}

/// Sends `n` requests at once, each on its own connection; returns the statuses.
fn concurrent_gets(px: &Proxy, n: usize) -> Vec<u16> {
    let addr = px.addr;
    let handles: Vec<_> = (0..n)
        .map(|i| {
            std::thread::spawn(move || {
                use std::io::{BufReader, Write};
                let mut s = std::net::TcpStream::connect(addr).expect("connect");
                s.set_read_timeout(Some(Duration::from_secs(10))).ok();
                s.write_all(
                    format!("GET /{i} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
                )
                .unwrap();
                let mut rd = BufReader::new(s);
                common::read_head(&mut rd)
                    .and_then(|h| h.split_whitespace().nth(1)?.parse().ok())
                    .unwrap_or(0)
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap_or(0)).collect()
}

#[test]
fn server_maxconn_queues_excess_requests() {
    let be = Backend::start("slow", Behaviour::Slow(Duration::from_millis(300)));
    let px = Proxy::start(
        "maxconn-queue",
        &format!(
            "{DEFAULTS} timeout queue 10s\nlisten app\n bind {{fe}}\n server s {} maxconn 1\n",
            be.addr
        ),
    );
    let statuses = concurrent_gets(&px, 3);
    assert_eq!(statuses, [200, 200, 200]);
    assert_eq!(
        be.max_inflight.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "never more than maxconn at once"
    );
}

#[test]
fn queue_timeout_gives_503() {
    let be = Backend::start("slow", Behaviour::Slow(Duration::from_millis(1500)));
    let px = Proxy::start(
        "queue-timeout",
        &format!(
            "{DEFAULTS} timeout queue 200ms\nlisten app\n bind {{fe}}\n server s {} maxconn 1\n",
            be.addr
        ),
    );
    let mut statuses = concurrent_gets(&px, 2);
    statuses.sort();
    assert_eq!(
        statuses,
        [200, 503],
        "one is served, the other leaves the queue after 200 ms"
    );
}

#[test]
fn idle_server_connections_are_shared_between_clients_as_http_reuse_safe() {
    let s1 = Backend::http("s1");
    let s2 = Backend::http("s2");
    let px = Proxy::start(
        "reuse-safe",
        &format!(
            "{DEFAULTS}listen app\n bind {{fe}}\n server s1 {}\n server s2 {}\n",
            s1.addr, s2.addr
        ),
    );
    let get = |cl: &mut common::Client, close: bool| {
        let c = if close { "Connection: close\r\n" } else { "" };
        cl.send(format!("GET / HTTP/1.1\r\nHost: x\r\n{c}\r\n").as_bytes());
        cl.response()
            .expect("response")
            .text()
            .lines()
            .next()
            .unwrap_or("")
            .to_string()
    };
    // Client A: s1 then s2, then leaves; both server connections go idle.
    let mut a = px.connect();
    assert_eq!(get(&mut a, false), "s1");
    assert_eq!(get(&mut a, true), "s2");
    assert!(a.closed());
    // Client B: its first request never takes a shared connection; its
    // second one may, and takes A's connection to s2.
    let mut b = px.connect();
    assert_eq!(get(&mut b, false), "s1");
    assert_eq!(get(&mut b, false), "s2");
    assert_eq!((s1.connections(), s2.connections()), (2, 1));
}

#[test]
fn http_reuse_always_shares_even_first_requests() {
    let be = Backend::http("be");
    let px = Proxy::start(
        "reuse-always",
        &format!(
            "{DEFAULTS}listen app\n bind {{fe}}\n http-reuse always\n server s {}\n",
            be.addr
        ),
    );
    for _ in 0..3 {
        assert_eq!(px.get("/", "x").status, 200);
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!((be.requests(), be.connections()), (3, 1));
}

#[test]
fn slow_clients_do_not_hold_the_proxy() {
    let be = Backend::http("be");
    let px = Proxy::start(
        "slowloris",
        &format!(
            "global\n nbthread 1\ndefaults\n mode http\n timeout connect 2s\n timeout client 5s\n timeout server 5s\n timeout http-request 2s\n\
             listen app\n bind {{fe}}\n server s {}\n",
            be.addr
        ),
    );
    // 300 clients each send a few bytes of a head and then stall.
    let slow: Vec<std::net::TcpStream> = (0..300)
        .map(|_| {
            let mut s = std::net::TcpStream::connect(px.addr).expect("connect");
            std::io::Write::write_all(&mut s, b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                .expect("partial");
            s
        })
        .collect();
    // A normal client is still served at once, on the one worker thread.
    let r = px.get("/", "x");
    assert_eq!(r.status, 200);
    // Then every stalled client gets its 408 when timeout http-request ends.
    for mut s in slow.into_iter().take(5) {
        s.set_read_timeout(Some(Duration::from_secs(5))).ok();
        let mut buf = [0u8; 32];
        let n = std::io::Read::read(&mut s, &mut buf).unwrap_or(0);
        assert!(
            buf[..n].starts_with(b"HTTP/1.1 408"),
            "{:?}",
            String::from_utf8_lossy(&buf[..n])
        );
    }
    assert_eq!(be.requests(), 1);
}

#[test]
fn forwardfor_except_and_header_name() {
    let be = Backend::http("be");
    let px = Proxy::start(
        "xff-except",
        &format!(
            "{DEFAULTS}frontend named\n bind {{fe}}\n option forwardfor except 10.0.0.0/8 header X-Client\n default_backend b1\n\
             backend b1\n server s {}\n",
            be.addr
        ),
    );
    px.get("/", "x");
    assert!(
        be.last_head().contains("x-client: 127.0.0.1\r\n"),
        "{}",
        be.last_head()
    );
    let px2 = Proxy::start(
        "xff-except-local",
        &format!("{DEFAULTS}listen app\n bind {{fe}}\n option forwardfor except 127.0.0.0/8\n server s {}\n", be.addr),
    );
    px2.get("/", "x");
    assert!(
        !be.last_head().contains("x-forwarded-for"),
        "loopback clients are excepted: {}",
        be.last_head()
    );
}

#[test]
fn accept_proxy_gives_the_original_client_to_acls_and_forwardfor() {
    let inside = Backend::http("inside");
    let outside = Backend::http("outside");
    let px = Proxy::start(
        "http-accept-proxy",
        &format!(
            "{DEFAULTS}frontend fe\n bind {{fe}} accept-proxy\n option forwardfor\n\
             use_backend in if {{ src 192.0.2.0/24 }}\n default_backend out\n\
             backend in\n server i {}\nbackend out\n server o {}\n",
            inside.addr, outside.addr
        ),
    );
    let mut c = px.connect();
    c.send(b"PROXY TCP4 192.0.2.9 198.51.100.1 4000 80\r\nGET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
    let r = c.response().expect("response");
    assert!(r.text().starts_with("inside\n"));
    assert!(
        inside
            .last_head()
            .contains("x-forwarded-for: 192.0.2.9\r\n"),
        "{}",
        inside.last_head()
    );
    let mut c = px.connect();
    c.send(b"PROXY TCP4 10.9.9.9 198.51.100.1 4000 80\r\nGET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
    assert!(c
        .response()
        .expect("response")
        .text()
        .starts_with("outside\n"));
    // A request without the header is not served.
    let mut c = px.connect();
    c.send(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    assert!(c.response().is_none());
}

#[test]
fn retry_on_empty_response_goes_again_then_redispatches() {
    let broken = Backend::start("broken", Behaviour::Close);
    let good = Backend::http("good");
    let cfg = |retry_on: &str| {
        format!(
            "{DEFAULTS}listen app\n bind {{fe}}\n balance first\n retries 2\n option redispatch\n {retry_on}\n\
             server broken {}\n server good {}\n",
            broken.addr, good.addr
        )
    };
    let px = Proxy::start("retry-on", &cfg("retry-on empty-response"));
    let r = px.get("/", "x");
    assert_eq!(r.status, 200);
    assert!(r.text().starts_with("good\n"));
    assert_eq!(
        broken.connections(),
        2,
        "the first try and one retry on the same server"
    );
    // Without it, HAProxy's default (conn-failure only): the empty answer is a 502.
    let px = Proxy::start("retry-on-default", &cfg(""));
    assert_eq!(px.get("/", "x").status, 502);
}

/// The most requests a slow server had at once when `n` requests arrive
/// together, for each `n` of `loads` (one proxy, the loads one after the
/// other; every request must be served).
fn peaks_under_loads(
    bin: &str,
    name: &str,
    cfg: &str,
    be: &Backend,
    loads: &[usize],
) -> Vec<usize> {
    use std::sync::atomic::Ordering::SeqCst;
    let px = Proxy::start_binary(bin, name, cfg);
    loads
        .iter()
        .map(|n| {
            be.max_inflight.store(0, SeqCst);
            let statuses = concurrent_gets(&px, *n);
            assert!(statuses.iter().all(|s| *s == 200), "{name}: {statuses:?}");
            be.max_inflight.load(SeqCst)
        })
        .collect()
}

/// With `minconn 2 maxconn 10` and `fullconn 20`, a server's limit is
/// `max(2, 10 * beconn / 20)` until the backend holds 20 requests, then 10
/// (beconn counts the requests served and those queued). Requests arriving
/// at once: the first 2 are served, the rest queue (roundrobin queues a new
/// request behind a non-empty queue); the first release lets the queue in
/// up to the limit for the load then: 2 for 3 requests, 4 for 10, 9 for 20.
/// HAProxy decides that release while the leaving request still counts, so
/// it may let one more in (5 for 10, 10 for 20), depending on timing.
#[test]
fn server_minconn_limit_follows_the_backend_load() {
    let be = Backend::start("slow", Behaviour::Slow(Duration::from_millis(600)));
    let cfg = format!(
        "{DEFAULTS} timeout queue 20s\n timeout server 20s\n timeout client 20s\nlisten app\n bind {{fe}}\n fullconn 20\n\
         server s {} minconn 2 maxconn 10\n",
        be.addr
    );
    let loads = [3, 10, 20];
    let ours = peaks_under_loads(env!("CARGO_BIN_EXE_haproxy"), "minconn", &cfg, &be, &loads);
    assert_eq!(
        ours,
        [2, 4, 9],
        "places taken at once for {loads:?} requests"
    );
    if let Some(real) = common::oracle() {
        let theirs = peaks_under_loads(&real, "minconn-real", &cfg, &be, &loads);
        assert!(
            ours.iter()
                .zip(&theirs)
                .all(|(o, t)| *t == *o || *t == *o + 1),
            "the real HAProxy gives the same places (or one more): {ours:?} {theirs:?}"
        );
    }
}

/// Without `fullconn`, HAProxy uses a tenth of the summed `maxconn` of the
/// frontends that can reach the backend: the `listen` itself (100) and a
/// frontend whose `use_backend` names it (100) make 20, as above; the
/// `listen` alone makes 10, where 3 requests get 3 places and 10 get 10.
#[test]
fn default_fullconn_sums_the_frontends_reaching_the_backend() {
    let be = Backend::start("slow", Behaviour::Slow(Duration::from_millis(600)));
    let listen = format!(
        "{DEFAULTS} timeout queue 20s\n timeout server 20s\n timeout client 20s\nlisten app\n bind {{fe}}\n maxconn 100\n\
         server s {} minconn 2 maxconn 10\n",
        be.addr
    );
    // A frontend without `bind` still counts (HAProxy warns about it).
    let with_other = format!(
        "{listen}frontend other\n maxconn 100\n use_backend app if TRUE\n use_backend app\n"
    );
    let loads = [3, 10];
    let bin = env!("CARGO_BIN_EXE_haproxy");
    let alone = peaks_under_loads(bin, "fullconn-alone", &listen, &be, &loads);
    let two = peaks_under_loads(bin, "fullconn-two", &with_other, &be, &loads);
    assert_eq!(alone, [3, 10], "fullconn 10");
    assert_eq!(two, [2, 4], "fullconn 20: the other frontend counted once");
    if let Some(real) = common::oracle() {
        let real_alone = peaks_under_loads(&real, "fullconn-alone-real", &listen, &be, &loads);
        let real_two = peaks_under_loads(&real, "fullconn-two-real", &with_other, &be, &loads);
        assert_eq!(alone, real_alone, "as the real HAProxy");
        assert!(
            two.iter()
                .zip(&real_two)
                .all(|(o, t)| *t == *o || *t == *o + 1),
            "as the real HAProxy (which may let one more in): {two:?} {real_two:?}"
        );
    }
}

/// tcp-request content rules run before http-request rules, as in HAProxy:
/// a reject wins over a `return` of the same request.
#[test]
fn tcp_request_content_runs_before_http_request_rules() {
    let px = Proxy::start(
        "tcp-before-http",
        &format!(
            "{DEFAULTS}frontend fe\n bind {{fe}}\n http-request return status 200 content-type text/plain string ok if {{ path /x }}\n\
             tcp-request content reject if {{ path /x }}\n http-request return status 200 content-type text/plain string fine\n"
        ),
    );
    let mut c = px.connect();
    c.send(b"GET /x HTTP/1.1\r\nHost: h\r\n\r\n");
    assert!(c.response().is_none(), "rejected before the return rule");
    assert_eq!(px.get("/y", "h").text(), "fine");
}

/// `http-request tarpit` holds the request for `timeout tarpit` (a
/// backend without one uses `timeout connect`), then answers 500 or the
/// reply it names; the server never sees the request. Requests the rule
/// does not match go through at once.
#[test]
fn tarpit_holds_the_request_then_answers() {
    let web = Backend::http("web");
    let px = Proxy::start(
        "tarpit",
        &format!(
            "defaults\n mode http\n timeout client 5s\n timeout server 5s\n\
             frontend fe\n bind {{fe}}\n timeout tarpit 400ms\n http-request tarpit if {{ path_beg /slow }}\n default_backend be\n\
             backend be\n timeout connect 300ms\n http-request tarpit deny_status 403 if {{ path_beg /be }}\n server w {}\n",
            web.addr
        ),
    );
    let timed = |path: &str| {
        let t = std::time::Instant::now();
        let r = px.get(path, "x");
        (r.status, t.elapsed())
    };
    let (status, took) = timed("/slow");
    assert_eq!(status, 500);
    assert!(took >= Duration::from_millis(400), "{took:?}");
    let (status, took) = timed("/be");
    assert_eq!(status, 403);
    assert!(took >= Duration::from_millis(300), "{took:?}");
    assert_eq!(
        web.requests(),
        0,
        "tarpitted requests never reach the server"
    );
    let (status, took) = timed("/fast");
    assert_eq!(status, 200);
    assert!(took < Duration::from_millis(300), "{took:?}");
    assert_eq!(web.requests(), 1);
}

/// A header rule whose value would carry CR LF is refused, never written:
/// the request gets the 500 page and is not forwarded (a response gets the
/// 500 page in its place); the same rules without the line break work.
/// (2.6 writes such a value and injects a header: a deliberate difference.)
#[test]
fn header_values_with_line_breaks_are_refused() {
    let web = Backend::http("web");
    let px = Proxy::start(
        "crlf",
        &format!(
            "{DEFAULTS}frontend fe\n bind {{fe}}\n http-request set-var(txn.p) path\n\
             http-request set-header X-A \"v\\r\\nInjected: 1\" if {{ path /req }}\n\
             http-request set-header X-A ok\n\
             http-response add-header X-B \"v\\nInjected: 2\" if {{ var(txn.p) -m str /res }}\n\
             reqrep ^(Host:.*) \"\\1\\r\\nX-Legacy: 1\" if {{ path /legacy }}\n\
             default_backend be\nbackend be\n server w {}\n",
            web.addr
        ),
    );
    let r = px.get("/req", "x");
    assert_eq!(r.status, 500);
    assert_eq!(web.requests(), 0, "the request is not forwarded");
    let r = px.get("/legacy", "x");
    assert_eq!(r.status, 500);
    assert_eq!(web.requests(), 0);
    let r = px.get("/res", "x");
    assert_eq!(r.status, 500);
    assert!(!r.head.contains("Injected"), "{}", r.head);
    assert_eq!(
        web.requests(),
        1,
        "the server answered, its response was replaced"
    );
    let r = px.get("/other", "x");
    assert_eq!(r.status, 200);
    assert!(
        web.last_head().contains("x-a: ok\r\n"),
        "{}",
        web.last_head()
    );
}

/// HAProxy 1.5's regex rules run with their 1.5 meaning: whole lines as
/// the client wrote them (request line included), after the http-request
/// rules, `reqadd`/`rspadd` after the other filters, `block` first,
/// `reqallow` exempting from later denials, `reqsetbe` choosing the
/// backend; case-sensitive unless the `i` form.
#[test]
fn legacy_1_5_rules_run_with_their_1_5_meaning() {
    let web = Backend::http("web");
    let api = Backend::http("api");
    let px = Proxy::start(
        "legacy-rules",
        &format!(
            "{DEFAULTS} timeout tarpit 200ms\nfrontend fe\n bind {{fe}}\n\
             http-request set-var(txn.p) path\n\
             reqrep ^([^\\ :]*)\\ /old/(.*) \\1\\ /new/\\2\n\
             reqirep ^host:\\ www\\.(.*) Host:\\ \\1\n\
             reqidel ^X-Debug:.*\n\
             reqdel ^X-Secret:\n\
             reqadd X-Forwarded-Proto:\\ http\n\
             http-request set-header X-Modern 1\n\
             reqallow ^GET\\ /public\n\
             reqideny ^User-Agent:.*sqlmap\n\
             reqtarpit ^User-Agent:.*slowbot\n\
             reqsetbe ^X-Backend:\\ api api\n\
             block if {{ path_beg /blocked }}\n\
             rspidel ^x-body-len:\n\
             rsprep ^Content-Type:\\ text/(.*) Content-Type:\\ text/x-\\1\n\
             rspadd X-Frame-Options:\\ SAMEORIGIN\n\
             rspdeny ^Content-Type if {{ var(txn.p) -m beg /rspdeny }}\n\
             default_backend web\n\
             backend web\n server w {}\nbackend api\n server a {}\n",
            web.addr, api.addr
        ),
    );
    let send = |req: &str| {
        let mut c = px.connect();
        c.send(req.as_bytes());
        c.response().expect("response")
    };
    let r = send("GET /old/page?x=1 HTTP/1.1\r\nHost: www.example.com\r\nX-Debug: 1\r\nx-debug: 2\r\nX-Secret: s\r\nx-secret: lower\r\nConnection: close\r\n\r\n");
    assert_eq!(r.status, 200);
    assert_eq!(
        web.last_head(),
        "GET /new/page?x=1 HTTP/1.1\r\nhost: example.com\r\nx-secret: lower\r\nx-modern: 1\r\nx-forwarded-proto: http\r\n",
        "reqrep on the request line, reqirep/reqidel any case, reqdel only 'X-Secret:', reqadd last"
    );
    assert_eq!(r.header("content-type").as_deref(), Some("text/x-plain"));
    assert_eq!(r.header("x-body-len"), None);
    assert_eq!(r.header("x-frame-options").as_deref(), Some("SAMEORIGIN"));
    // Denials, and reqallow's exemption.
    assert_eq!(
        send("GET /x HTTP/1.1\r\nUser-Agent: SQLMap\r\nConnection: close\r\n\r\n").status,
        403
    );
    assert_eq!(
        send("GET /public HTTP/1.1\r\nUser-Agent: sqlmap\r\nConnection: close\r\n\r\n").status,
        200
    );
    assert_eq!(
        send("GET /blocked HTTP/1.1\r\nConnection: close\r\n\r\n").status,
        403
    );
    let t = std::time::Instant::now();
    assert_eq!(
        send("GET /x HTTP/1.1\r\nUser-Agent: slowbot\r\nConnection: close\r\n\r\n").status,
        500
    );
    assert!(t.elapsed() >= Duration::from_millis(200));
    assert_eq!(
        send("GET /rspdeny HTTP/1.1\r\nConnection: close\r\n\r\n").status,
        502
    );
    // reqsetbe picks the backend; without a match the default one serves.
    let r = send("GET /x HTTP/1.1\r\nX-Backend: api\r\nConnection: close\r\n\r\n");
    assert!(r.text().starts_with("api\n"), "{}", r.text());
    let r = send("GET /x HTTP/1.1\r\nX-Backend: web\r\nConnection: close\r\n\r\n");
    assert!(r.text().starts_with("web\n"), "{}", r.text());
}

/// Error pages in every form, looked up in the backend then the frontend:
/// `errorloc`/`errorloc303` redirect, `errorfiles` imports an http-errors
/// section (whole or some codes), `http-error` builds a page per request,
/// `default-errorfiles` goes back to the built-in page. Requests the
/// rules let through are served.
#[test]
fn error_pages_in_every_form() {
    let web = Backend::http("web");
    let dir = common::scratch("error-pages-files");
    let page = dir.join("503.http");
    std::fs::write(
        &page,
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\ncustom 503\n",
    )
    .unwrap();
    let px = Proxy::start(
        "error-pages",
        &format!(
            "http-errors site\n errorfile 503 {page}\n\
             {DEFAULTS}frontend fe\n bind {{fe}}\n http-error status 403 content-type text/plain string fe-forbidden\n\
             http-request deny if {{ path /deny }}\n\
             use_backend loc if {{ path_beg /loc }}\n use_backend loc303 if {{ path_beg /l303 }}\n\
             use_backend files if {{ path_beg /files }}\n use_backend dyn if {{ path_beg /dyn }}\n\
             use_backend reset if {{ path_beg /reset }}\n default_backend web\n\
             backend web\n server w {web}\n\
             backend loc\n errorloc 503 http://err.example.com/503\n\
             backend loc303\n errorloc303 503 /sorry\n\
             backend files\n errorfiles site 503\n\
             backend dyn\n http-error status 503 content-type text/plain lf-string \"down %[path]\" hdr X-Why none\n\
             http-request deny if {{ path_end /deny }}\n\
             backend reset\n errorfiles site\n http-error status 503 default-errorfiles\n",
            page = page.display(),
            web = web.addr
        ),
    );
    let r = px.get("/loc", "x");
    assert_eq!(
        (r.status, r.header("location").as_deref()),
        (302, Some("http://err.example.com/503"))
    );
    let r = px.get("/l303", "x");
    assert_eq!(
        (r.status, r.header("location").as_deref()),
        (303, Some("/sorry"))
    );
    let r = px.get("/files", "x");
    assert_eq!((r.status, r.text().as_str()), (503, "custom 503\n"));
    let r = px.get("/dyn/x", "x");
    assert_eq!(
        (r.status, r.header("x-why").as_deref(), r.text().as_str()),
        (503, Some("none"), "down /dyn/x")
    );
    // The backend has no 403 page: the frontend's is used.
    let r = px.get("/dyn/deny", "x");
    assert_eq!((r.status, r.text().as_str()), (403, "fe-forbidden"));
    let r = px.get("/deny", "x");
    assert_eq!((r.status, r.text().as_str()), (403, "fe-forbidden"));
    let r = px.get("/reset", "x");
    assert_eq!(r.status, 503);
    assert!(r.text().contains("No server is available"), "{}", r.text());
    assert_eq!(web.requests(), 0);
    let r = px.get("/other", "x");
    assert_eq!(r.status, 200);
    assert_eq!(web.requests(), 1);
}

/// `del-header -m` match methods, `redirect` options, and http-response
/// `set-status`, `replace-value`, `deny`, `return`, `redirect` with
/// response fetches in conditions: what the server gets and what the
/// client gets, rule matching or not.
#[test]
fn header_matches_redirect_options_and_response_rules() {
    let web = Backend::http("web");
    let px = Proxy::start(
        "response-rules",
        &format!(
            "{DEFAULTS}frontend fe\n bind {{fe}}\n http-request set-var(txn.p) path\n\
             http-request del-header x-beg -m beg if {{ path /del }}\n\
             http-request del-header ^x-r -m reg if {{ path /del }}\n\
             redirect prefix https://a.example drop-query append-slash code 301 set-cookie SEEN=1 if {{ path_beg /r/ }}\n\
             http-response add-header X-List \"a, b\"\n\
             http-response set-status 431 if {{ var(txn.p) -m str /431 }} {{ status 200 }}\n\
             http-response set-status 503 reason \"Slow Down\" if {{ var(txn.p) -m str /slow }}\n\
             http-response replace-value X-List ^b$ B if {{ res.hdr_cnt(x-list) eq 2 }}\n\
             http-response deny if {{ var(txn.p) -m str /deny }}\n\
             http-response return status 200 content-type text/plain string replaced if {{ var(txn.p) -m str /ret }}\n\
             http-response redirect location /moved if {{ var(txn.p) -m str /move }}\n\
             default_backend be\nbackend be\n server w {}\n",
            web.addr
        ),
    );
    let mut c = px.connect();
    c.send(b"GET /del HTTP/1.1\r\nHost: x\r\nX-Beg-1: 1\r\nX-BEGIN: 2\r\nx-rr: 3\r\nX-Keep: 4\r\nConnection: close\r\n\r\n");
    assert_eq!(c.response().expect("response").status, 200);
    assert_eq!(
        web.last_head(),
        "GET /del HTTP/1.1\r\nhost: x\r\nx-keep: 4\r\n"
    );
    let r = px.get("/r/page?q=1", "x");
    assert_eq!(
        (
            r.status,
            r.header("location").as_deref(),
            r.header("set-cookie").as_deref()
        ),
        (
            301,
            Some("https://a.example/r/page/"),
            Some("SEEN=1; path=/;")
        )
    );
    let r = px.get("/431", "x");
    assert!(
        r.head
            .starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"),
        "{}",
        r.head
    );
    assert_eq!(r.header("x-list").as_deref(), Some("a,B"));
    let r = px.get("/slow", "x");
    assert!(
        r.head.starts_with("HTTP/1.1 503 Slow Down\r\n"),
        "{}",
        r.head
    );
    assert_eq!(px.get("/deny", "x").status, 502);
    let r = px.get("/ret", "x");
    assert_eq!((r.status, r.text().as_str()), (200, "replaced"));
    let r = px.get("/move", "x");
    assert_eq!(
        (r.status, r.header("location").as_deref()),
        (302, Some("/moved"))
    );
    let r = px.get("/plain", "x");
    assert!(r.head.starts_with("HTTP/1.1 200 OK\r\n"), "{}", r.head);
    assert!(r.text().starts_with("web\n"));
}

/// `errorfile 408 /dev/null`, the classic setting against browsers'
/// pre-connections: an idle partial request is closed without a byte (2.6
/// ignores other custom 400/408 pages there); an empty page for another
/// code closes the same way.
#[test]
fn empty_errorfiles_close_without_a_byte() {
    let px = Proxy::start(
        "empty-errorfile",
        &format!(
            "{DEFAULTS} timeout http-request 300ms\n errorfile 408 /dev/null\n errorfile 503 /dev/null\n\
             frontend fe\n bind {{fe}}\n default_backend none\nbackend none\n"
        ),
    );
    let mut c = px.connect();
    c.send(b"GET / HTTP/1.1\r\nHost: x\r\n");
    assert!(c.closed(), "408: closed");
    let mut c = px.connect();
    c.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(c.closed(), "503: closed");
    // Without the empty page, the built-in 408 is sent.
    let px = Proxy::start(
        "builtin-408",
        &format!("{DEFAULTS} timeout http-request 300ms\nfrontend fe\n bind {{fe}}\n default_backend none\nbackend none\n"),
    );
    let mut c = px.connect();
    c.send(b"GET / HTTP/1.1\r\nHost: x\r\n");
    assert_eq!(c.response().map(|r| r.status), Some(408));
}
