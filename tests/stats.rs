//! Statistics end to end: the stats socket (its commands, answers, levels,
//! interactive mode), the counters it reports after real traffic, and the
//! operator's changes (drain, maintenance, weights) steering traffic. Where
//! the real HAProxy 2.6 is installed, the same configuration and commands
//! go through it and the answers must match, timers and dates masked.
mod common;
use common::{oracle, Backend, Proxy};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The scratch directory `Proxy::start*` will use for test `name`.
fn dir_of(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("e2e-{name}-{}", std::process::id()))
}

/// Sends `line` (a newline is added) on the stats socket at `path`, waiting
/// up to 10 s for it to exist; returns everything read until the close.
fn cli(path: &Path, line: &str) -> String {
    let start = Instant::now();
    let mut s = loop {
        match UnixStream::connect(path) {
            Ok(s) => break s,
            Err(e) => {
                assert!(
                    start.elapsed() < Duration::from_secs(10),
                    "stats socket {} never came: {e}",
                    path.display()
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    };
    s.set_read_timeout(Some(Duration::from_secs(5))).ok();
    s.write_all(format!("{line}\n").as_bytes()).expect("send");
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// One request on a new connection; the status code.
fn get(addr: std::net::SocketAddr, path: &str) -> u16 {
    request(
        addr,
        &format!("GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"),
    )
}

fn request(addr: std::net::SocketAddr, raw: &str) -> u16 {
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5))).ok();
    s.write_all(raw.as_bytes()).expect("send");
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out)
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

/// The CSV of `show stat`, as (row name -> field -> value).
fn stat(path: &Path) -> Vec<(String, Vec<(String, String)>)> {
    let out = cli(path, "show stat");
    let mut lines = out.lines();
    let hdr: Vec<String> = lines
        .next()
        .unwrap_or_default()
        .trim_start_matches("# ")
        .split(',')
        .map(String::from)
        .collect();
    lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            let name = format!("{}/{}", f[0], f[1]);
            let kv = hdr
                .iter()
                .cloned()
                .zip(f.iter().map(|s| s.to_string()))
                .collect();
            (name, kv)
        })
        .collect()
}

fn field(rows: &[(String, Vec<(String, String)>)], row: &str, name: &str) -> String {
    rows.iter()
        .find(|(r, _)| r == row)
        .and_then(|(_, f)| f.iter().find(|(k, _)| k == name))
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| panic!("no {row}.{name}"))
}

/// Polls until `row.name` reads `want` (counters are fed when a stream
/// ends, just after its last byte went out).
fn wait_field(path: &Path, row: &str, name: &str, want: &str) {
    let start = Instant::now();
    loop {
        let v = field(&stat(path), row, name);
        if v == want {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "{row}.{name} is {v}, expected {want}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Fields not compared: those that depend on timing (ages, rates,
/// times), on how many idle server connections each keeps (2.6 keeps as
/// many as it estimates it needs, haproxy-rs every reusable one), and the
/// HTTP/1 layer's byte counts (on the wire in 2.6, including its error
/// pages; haproxy-rs approximates them from the streams).
const TIMING: &[&str] = &[
    "lastchg",
    "lastsess",
    "downtime",
    "rate",
    "rate_max",
    "conn_rate",
    "conn_rate_max",
    "req_rate",
    "req_rate_max",
    "qtime",
    "ctime",
    "rtime",
    "ttime",
    "qtime_max",
    "ctime_max",
    "rtime_max",
    "ttime_max",
    "srv_icur",
    "idle_conn_cur",
    "safe_conn_cur",
    "need_conn_est",
    "h1_open_connections",
    "h1_bytes_in",
    "h1_bytes_out",
];

/// An answer with what depends on time or on the process masked.
fn mask(cmd: &str, out: &str) -> String {
    let mut lines: Vec<String> = out.split('\n').map(String::from).collect();
    if cmd.starts_with("show stat") && !cmd.contains("typed") && !cmd.contains("json") {
        let hdr: Vec<String> = lines[0]
            .trim_start_matches("# ")
            .split(',')
            .map(String::from)
            .collect();
        for l in lines.iter_mut().skip(1) {
            let f: Vec<String> = l
                .split(',')
                .zip(&hdr)
                .map(|(v, h)| {
                    if TIMING.contains(&h.as_str()) && !v.is_empty() {
                        "*".to_string()
                    } else {
                        v.to_string()
                    }
                })
                .collect();
            if f.len() > 2 {
                *l = f.join(",");
            }
        }
    }
    if cmd.starts_with("show stat") && cmd.contains("typed") {
        for l in lines.iter_mut() {
            let parts: Vec<&str> = l.splitn(5, '.').collect();
            if parts.len() == 5
                && TIMING
                    .iter()
                    .any(|t| parts[4].starts_with(&format!("{t}.1:")))
            {
                let cut = l.rfind(':').unwrap_or(l.len());
                *l = format!("{}:*", &l[..cut]);
            }
        }
    }
    if cmd.starts_with("show stat") && cmd.contains("json") {
        let masked: Vec<String> = out
            .split("{\"objType\"")
            .map(|chunk| {
                let timed = TIMING
                    .iter()
                    .any(|t| chunk.contains(&format!("\"name\":\"{t}\"}}")));
                match (timed, chunk.rfind("\"value\":{\"type\"")) {
                    (true, Some(i)) => {
                        let j = chunk[i..].find('}').map_or(chunk.len(), |j| i + j + 1);
                        format!("{}\"value\":*{}", &chunk[..i], &chunk[j..])
                    }
                    _ => chunk.to_string(),
                }
            })
            .collect();
        return masked.join("{\"objType\"");
    }
    if cmd.starts_with("show servers state") {
        for l in lines.iter_mut() {
            let mut f: Vec<&str> = l.split(' ').collect();
            if f.len() > 20 && !l.starts_with('#') {
                f[9] = "*";
                *l = f.join(" ");
            }
        }
    }
    if cmd.starts_with("show errors") {
        // 2.6 adds its parser's internal state; the request, its frontend
        // and its source are compared (dates and ports masked).
        lines.retain(|l| {
            l.starts_with("Total")
                || l.starts_with('[')
                || l.starts_with("  backend")
                || l.get(2..7)
                    .is_some_and(|d| d.bytes().all(|b| b.is_ascii_digit()))
        });
        for l in lines.iter_mut() {
            if let (Some(a), Some(b)) = (l.find('['), l.find(']')) {
                *l = format!("{}[*]{}", &l[..a], &l[b + 1..]);
            }
            if let Some(i) = l.find(", src ") {
                *l = l[..i].to_string();
            }
        }
    }
    lines.join("\n")
}

/// The differences between two answers: field by field for CSV rows.
fn explain(theirs: &str, ours: &str) -> String {
    let (a, o): (Vec<&str>, Vec<&str>) = (theirs.split('\n').collect(), ours.split('\n').collect());
    let hdr: Vec<&str> = a[0].trim_start_matches("# ").split(',').collect();
    let mut out = String::new();
    for i in 0..a.len().max(o.len()) {
        let (x, y) = (
            a.get(i).copied().unwrap_or("<none>"),
            o.get(i).copied().unwrap_or("<none>"),
        );
        if x == y {
            continue;
        }
        let (xf, yf): (Vec<&str>, Vec<&str>) = (x.split(',').collect(), y.split(',').collect());
        if a[0].starts_with("# pxname") && xf.len() == hdr.len() && yf.len() == hdr.len() {
            let d: Vec<String> = (0..hdr.len())
                .filter(|j| xf[*j] != yf[*j])
                .map(|j| format!("{}: 2.6 {:?} ours {:?}", hdr[j], xf[j], yf[j]))
                .collect();
            out.push_str(&format!("  {}/{}: {}\n", xf[0], xf[1], d.join("; ")));
        } else {
            out.push_str(&format!("  2.6:  {x}\n  ours: {y}\n"));
        }
    }
    out
}

const SOCKETS_CFG: &str = "global
    nbthread 1
    stats socket {dir}/admin.sock mode 600 level admin
    stats socket {dir}/user.sock level user
    stats socket {dir}/op.sock level operator
    stats timeout 30s
defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
frontend fe
    bind {fe}
    http-request deny if { path /deny }
    http-request redirect location /elsewhere if { path /redirect }
    default_backend be
backend be
    balance roundrobin
    server s1 {s1}
    server s2 {s2} weight 50
    server s3 {s3} backup
    server s4 {s4} disabled maxconn 30
backend tbe
    mode tcp
    server t1 {s1}
";

fn sockets_cfg(dir: &Path, b: &[&Backend]) -> String {
    SOCKETS_CFG
        .replace("{dir}", &dir.display().to_string())
        .replace("{s1}", &b[0].addr.to_string())
        .replace("{s2}", &b[1].addr.to_string())
        .replace("{s3}", &b[2].addr.to_string())
        .replace("{s4}", &b[3].addr.to_string())
}

/// The commands whose answers are compared with 2.6, in order (some change
/// the state the next ones report).
const COMMANDS: &[&str] = &[
    "show stat",
    "show stat typed",
    "show stat json",
    "show stat -1 4 -1",
    "show stat be 4 -1",
    "show stat 3 2 -1",
    "show stat up",
    "show stat no-maint",
    "show servers state",
    "show servers state be",
    "show servers state nosuch",
    "show backend",
    "show cli level",
    "help",
    "help show servers",
    "bogus command",
    "show foo",
    "showstat",
    "set",
    "",
    "get weight be/s2",
    "get weight be",
    "get weight nosuch/s1",
    "disable server be/s1",
    "show servers state be",
    "show stat -1 4 -1",
    "enable server be/s1",
    "set server be/s1 state drain",
    "show stat -1 4 -1",
    "set server be/s1 state maint",
    "set server be/s1 state ready",
    "set server be/s1 state foo",
    "set server be/s1",
    "set server be/nosuch state ready",
    "set server nosuch/s1 state ready",
    "set server be/s4 state ready",
    "show servers state be",
    "set server be/s4 state maint",
    "set server be/s1 weight 10",
    "get weight be/s1",
    "set weight be/s2 50%",
    "get weight be/s2",
    "set weight be/s1 300",
    "set server be/s1 weight abc",
    "set server be/s1 weight",
    "set weight be/s1 1",
    "set server be/s1 addr 127.0.0.1 port 1",
    "set server be/s1 addr 127.0.0.1",
    "set server be/s1 addr 127.0.0.2",
    "set server be/s1 addr nowhere",
    "set server be/s1 health up",
    "set server be/s1 health foo",
    "set server be/s1 check-port 80",
    "set server be/s1 agent up",
    "disable health be/s1",
    "enable health be/s1",
    "enable agent be/s1",
    "disable frontend fe",
    "disable frontend fe",
    "show stat 2 1 -1",
    "enable frontend fe",
    "enable frontend fe",
    "disable frontend nosuch",
    "disable frontend",
    "set maxconn frontend fe 100",
    "set maxconn frontend nosuch 3",
    "set maxconn global",
    "set maxconn global 100000000",
    "show stat 2 1 -1",
    "shutdown sessions server be/s2",
    "shutdown session",
    "shutdown session 0x1234",
    "show errors nosuch",
    "show errors",
    "set timeout cli 5",
    "set timeout foo 5",
    "show env NO_SUCH_VARIABLE",
    "clear counters",
    "clear counters all",
    "show stat",
];

#[test]
fn stats_socket_answers_as_2_6() {
    let b: Vec<Backend> = ["s1", "s2", "s3", "s4"]
        .iter()
        .map(|n| Backend::http(n))
        .collect();
    let br: Vec<&Backend> = b.iter().collect();
    let ours_dir = dir_of("stats-sock-ours");
    let ours = Proxy::start("stats-sock-ours", &sockets_cfg(&ours_dir, &br));
    let sock = ours_dir.join("admin.sock");
    // Traffic first: the counters are compared too.
    let drive = |px: &Proxy, sock: &Path| {
        for p in ["/a", "/b", "/deny", "/redirect", "/c"] {
            get(px.addr, p);
        }
        request(px.addr, "GARBAGE\r\n\r\n");
        wait_field(sock, "fe/FRONTEND", "req_tot", "6");
        wait_field(sock, "be/BACKEND", "stot", "3");
    };
    drive(&ours, &sock);
    let Some(bin) = oracle() else {
        // Without 2.6, still check a few answers we know.
        assert_eq!(cli(&sock, "get weight be/s2"), "50 (initial 50)\n\n");
        assert_eq!(
            cli(&sock, "disable server s1"),
            "Require 'backend/server'.\n\n"
        );
        return;
    };
    let theirs_dir = dir_of("stats-sock-2.6");
    let theirs = Proxy::start_binary(&bin, "stats-sock-2.6", &sockets_cfg(&theirs_dir, &br));
    let their_sock = theirs_dir.join("admin.sock");
    drive(&theirs, &their_sock);
    let mut diffs = Vec::new();
    for cmd in COMMANDS {
        let a = mask(cmd, &cli(&their_sock, cmd));
        let o = mask(cmd, &cli(&sock, cmd));
        if a != o {
            diffs.push(format!("=== {cmd:?}\n{}", explain(&a, &o)));
        }
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
    drop(theirs);
}

/// Sends raw bytes on the stats socket and reads what comes back until the
/// socket closes or stays silent for `quiet`.
fn cli_raw(path: &Path, data: &[u8], quiet: Duration) -> Vec<u8> {
    cli(path, "show version"); // waits for the socket
    let mut s = UnixStream::connect(path).expect("connect");
    s.write_all(data).expect("send");
    s.set_read_timeout(Some(quiet)).ok();
    let mut out = Vec::new();
    let mut buf = [0u8; 65536];
    loop {
        match s.read(&mut buf) {
            Ok(0) => {
                out.extend_from_slice(b"<EOF>");
                break;
            }
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(_) => break,
        }
    }
    out
}

#[test]
fn counters_follow_the_traffic() {
    let (s1, s2) = (Backend::http("s1"), Backend::http("s2"));
    let dir = dir_of("stats-counters");
    let cfg = format!(
        "global\n    stats socket {d}/admin.sock level admin\n\
         defaults\n    mode http\n    timeout connect 2s\n    timeout client 5s\n    timeout server 5s\n\
         frontend fe\n    bind {{fe}}\n    http-request deny if {{ path /deny }}\n    http-request return status 204 if {{ path /ret }}\n    default_backend be\n\
         backend be\n    server s1 {a}\n    server s2 {b}\n    server s3 127.0.0.1:1 disabled\n",
        d = dir.display(),
        a = s1.addr,
        b = s2.addr
    );
    let px = Proxy::start("stats-counters", &cfg);
    let sock = dir.join("admin.sock");
    for p in ["/1", "/2", "/3", "/4", "/deny", "/ret"] {
        get(px.addr, p);
    }
    request(px.addr, "NOT HTTP\r\n\r\n");
    wait_field(&sock, "fe/FRONTEND", "req_tot", "7");
    wait_field(&sock, "be/BACKEND", "stot", "4");
    let rows = stat(&sock);
    let f = |row: &str, name: &str| field(&rows, row, name);
    assert_eq!(f("fe/FRONTEND", "stot"), "7");
    assert_eq!(f("fe/FRONTEND", "conn_tot"), "7");
    assert_eq!(f("fe/FRONTEND", "hrsp_2xx"), "5");
    assert_eq!(f("fe/FRONTEND", "hrsp_4xx"), "2");
    assert_eq!(f("fe/FRONTEND", "dreq"), "1");
    assert_eq!(f("fe/FRONTEND", "ereq"), "1");
    assert_eq!(f("fe/FRONTEND", "intercepted"), "1");
    assert_eq!(f("be/BACKEND", "hrsp_2xx"), "4");
    assert_eq!(f("be/BACKEND", "lbtot"), "4");
    // Round robin: two each.
    assert_eq!(
        (f("be/s1", "stot"), f("be/s2", "stot")),
        ("2".into(), "2".into())
    );
    assert_eq!((s1.requests(), s2.requests()), (2, 2));
    assert_eq!(f("be/s3", "status"), "MAINT");
    assert_eq!(f("be/BACKEND", "act"), "2");
    // The bytes the clients received and sent (2.6 counts a request head
    // without its separators): the backend's share is a part of the
    // frontend's.
    let fe_out: u64 = f("fe/FRONTEND", "bout").parse().unwrap();
    let be_out: u64 = f("be/BACKEND", "bout").parse().unwrap();
    assert!(be_out > 0 && fe_out > be_out, "{fe_out} {be_out}");
    // `clear counters all` starts them again.
    assert_eq!(cli(&sock, "clear counters all"), "\n");
    assert_eq!(field(&stat(&sock), "fe/FRONTEND", "req_tot"), "0");
}

#[test]
fn drain_maint_and_weights_steer_new_traffic() {
    let (s1, s2) = (Backend::http("s1"), Backend::http("s2"));
    let dir = dir_of("stats-steer");
    let cfg = format!(
        "global\n    stats socket {d}/admin.sock level admin\n\
         defaults\n    mode http\n    timeout connect 2s\n    timeout client 5s\n    timeout server 5s\n\
         frontend fe\n    bind {{fe}}\n    default_backend be\n\
         backend be\n    cookie SRV insert indirect nocache\n    server s1 {a} cookie c1\n    server s2 {b} cookie c2\n",
        d = dir.display(),
        a = s1.addr,
        b = s2.addr
    );
    let px = Proxy::start("stats-steer", &cfg);
    let sock = dir.join("admin.sock");
    let sticky = |n: usize| {
        for _ in 0..n {
            request(
                px.addr,
                "GET / HTTP/1.1\r\nHost: t\r\nCookie: SRV=c1\r\nConnection: close\r\n\r\n",
            );
        }
    };
    let plain = |n: usize| {
        for i in 0..n {
            get(px.addr, &format!("/{i}"));
        }
    };
    // Drain: new traffic avoids s1, persistent clients still reach it.
    assert_eq!(cli(&sock, "set server be/s1 state drain"), "\n");
    plain(6);
    assert_eq!((s1.requests(), s2.requests()), (0, 6));
    sticky(2);
    assert_eq!(
        s1.requests(),
        2,
        "a draining server keeps its persistent clients"
    );
    // Maintenance: not even those.
    assert_eq!(cli(&sock, "set server be/s1 state maint"), "\n");
    sticky(2);
    plain(2);
    assert_eq!((s1.requests(), s2.requests()), (2, 10));
    // Ready with weights 3:1.
    assert_eq!(cli(&sock, "set server be/s1 state ready"), "\n");
    assert_eq!(cli(&sock, "set weight be/s1 3"), "\n");
    plain(8);
    assert_eq!((s1.requests() - 2, s2.requests() - 10), (6, 2));
    // Weight 0 takes a server out.
    assert_eq!(cli(&sock, "set server be/s2 weight 0"), "\n");
    plain(3);
    assert_eq!(s2.requests(), 12);
    assert_eq!(cli(&sock, "get weight be/s2"), "0 (initial 1)\n\n");
    // Both out: the backend is DOWN and answers 503.
    assert_eq!(cli(&sock, "disable server be/s1"), "\n");
    assert_eq!(get(px.addr, "/x"), 503);
    assert_eq!(field(&stat(&sock), "be/BACKEND", "status"), "DOWN");
}

#[test]
fn levels_are_enforced() {
    let b = Backend::http("s1");
    let dir = dir_of("stats-levels");
    let cfg = format!(
        "global\n    stats socket {d}/user.sock level user\n    stats socket {d}/op.sock level operator\n    stats socket {d}/admin.sock\n\
         defaults\n    mode http\n    timeout connect 2s\n    timeout client 5s\n    timeout server 5s\n\
         frontend fe\n    bind {{fe}}\n    default_backend be\nbackend be\n    server s1 {a}\n",
        d = dir.display(),
        a = b.addr
    );
    let _px = Proxy::start("stats-levels", &cfg);
    let (user, op, dflt) = (
        dir.join("user.sock"),
        dir.join("op.sock"),
        dir.join("admin.sock"),
    );
    const DENIED: &str = "Permission denied\n\n";
    for cmd in [
        "disable server be/s1",
        "set server be/s1 state drain",
        "set weight be/s1 2",
        "clear counters",
        "show sess",
        "operator",
    ] {
        assert_eq!(cli(&user, cmd), DENIED, "user: {cmd}");
    }
    assert_eq!(cli(&user, "get weight be/s1"), "1 (initial 1)\n\n");
    assert!(cli(&user, "show stat").starts_with("# pxname,"));
    assert_eq!(cli(&op, "clear counters"), "\n");
    assert_eq!(cli(&op, "clear counters all"), DENIED);
    assert_eq!(cli(&op, "set server be/s1 state maint"), DENIED);
    // Without `level`, a socket is a user one, as in 2.6.
    assert_eq!(cli(&dflt, "show cli level"), "user\n\n");
    assert_eq!(cli(&dflt, "disable server be/s1"), DENIED);
    // A session may lower its level, never raise it.
    assert_eq!(
        String::from_utf8_lossy(&cli_raw(
            &op,
            b"user; clear counters; show cli level\n",
            Duration::from_secs(2)
        )),
        "\nPermission denied\n\nuser\n\n<EOF>"
    );
}

#[test]
fn prompt_mode_and_command_lists_as_2_6() {
    let b = Backend::http("s1");
    let cfg_for = |dir: &Path| {
        format!(
            "global\n    stats socket {d}/admin.sock level admin\n\
             defaults\n    mode http\n    timeout connect 2s\n    timeout client 5s\n    timeout server 5s\n\
             frontend fe\n    bind {{fe}}\n    default_backend be\nbackend be\n    server s1 {a}\n",
            d = dir.display(),
            a = b.addr
        )
    };
    let dir = dir_of("stats-prompt");
    let _px = Proxy::start("stats-prompt", &cfg_for(&dir));
    let ours = dir.join("admin.sock");
    let inputs: &[&[u8]] = &[
        b"show backend\nget weight be/s1\n",
        b"show backend;get weight be/s1 ; show cli level\n",
        b"prompt\nshow backend\nget weight be/s1\n",
        b"prompt\nprompt\nshow backend\n",
        b"get weight be/s1\r\n",
        b"get weight be/s1\\;x\n",
        b"quit\n",
    ];
    let quiet = Duration::from_millis(700);
    let got: Vec<Vec<u8>> = inputs.iter().map(|i| cli_raw(&ours, i, quiet)).collect();
    assert_eq!(
        String::from_utf8_lossy(&got[2]),
        "\n> # name\nbe\n\n> 1 (initial 1)\n\n> ",
        "interactive mode keeps the connection and prompts"
    );
    let Some(bin) = oracle() else { return };
    let tdir = dir_of("stats-prompt-2.6");
    let _theirs = Proxy::start_binary(&bin, "stats-prompt-2.6", &cfg_for(&tdir));
    let theirs = tdir.join("admin.sock");
    for (i, input) in inputs.iter().enumerate() {
        assert_eq!(
            String::from_utf8_lossy(&cli_raw(&theirs, input, quiet)),
            String::from_utf8_lossy(&got[i]),
            "input {:?}",
            String::from_utf8_lossy(input)
        );
    }
}

#[test]
fn shutdown_sessions_and_show_sess() {
    let b = Backend::http("s1");
    let dir = dir_of("stats-sess");
    let cfg = format!(
        "global\n    stats socket {d}/admin.sock level admin\n\
         defaults\n    mode tcp\n    timeout connect 2s\n    timeout client 30s\n    timeout server 30s\n\
         frontend fe\n    bind {{fe}}\n    default_backend be\nbackend be\n    server s1 {a}\n",
        d = dir.display(),
        a = b.addr
    );
    let px = Proxy::start("stats-sess", &cfg);
    let sock = dir.join("admin.sock");
    cli(&sock, "show version");
    // A TCP session held open to s1.
    let mut c = std::net::TcpStream::connect(px.addr).expect("connect");
    c.write_all(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        .expect("send");
    c.set_read_timeout(Some(Duration::from_secs(5))).ok();
    let mut buf = [0u8; 4096];
    assert!(c.read(&mut buf).unwrap_or(0) > 0, "the backend answered");
    let sess = cli(&sock, "show sess");
    assert!(
        sess.lines().any(|l| l.contains("fe=fe be=be srv=s1")),
        "show sess lists the session on s1:\n{sess}"
    );
    assert!(sess.contains("fe=GLOBAL"), "and the CLI one:\n{sess}");
    assert_eq!(cli(&sock, "shutdown sessions server be/s1"), "\n");
    // The session is cut: the client sees the close.
    c.set_read_timeout(Some(Duration::from_secs(5))).ok();
    let mut rest = Vec::new();
    let closed = c.read_to_end(&mut rest).is_ok();
    assert!(closed, "the connection was closed");
    let start = Instant::now();
    while cli(&sock, "show sess").contains("srv=s1") {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "session still listed"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn disabled_frontend_stops_accepting_until_enabled() {
    let b = Backend::http("s1");
    let dir = dir_of("stats-fe");
    let cfg = format!(
        "global\n    stats socket {d}/admin.sock level admin\n\
         defaults\n    mode http\n    timeout connect 2s\n    timeout client 5s\n    timeout server 5s\n\
         frontend fe\n    bind {{fe}}\n    default_backend be\nbackend be\n    server s1 {a}\n",
        d = dir.display(),
        a = b.addr
    );
    let px = Proxy::start("stats-fe", &cfg);
    let sock = dir.join("admin.sock");
    assert_eq!(get(px.addr, "/"), 200);
    assert_eq!(cli(&sock, "disable frontend fe"), "\n");
    assert_eq!(field(&stat(&sock), "fe/FRONTEND", "status"), "PAUSED");
    // The connection waits in the kernel's queue, unanswered.
    let mut c = std::net::TcpStream::connect(px.addr).expect("connect");
    c.write_all(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .expect("send");
    c.set_read_timeout(Some(Duration::from_millis(500))).ok();
    let mut buf = [0u8; 64];
    assert!(c.read(&mut buf).is_err(), "no answer while disabled");
    assert_eq!(cli(&sock, "enable frontend fe"), "\n");
    c.set_read_timeout(Some(Duration::from_secs(5))).ok();
    let mut out = Vec::new();
    let _ = c.read_to_end(&mut out);
    assert!(out.starts_with(b"HTTP/1.1 200"), "served once enabled");
}

/// The processes holding a listening socket bound at `path` (a worker
/// binds a temporary name beside it, then renames it to `path`).
fn holders(path: &Path) -> Vec<u32> {
    let table = std::fs::read_to_string("/proc/net/unix").unwrap_or_default();
    let want = path.display().to_string();
    let inodes: Vec<String> = table
        .lines()
        .filter(|l| {
            l.split_whitespace()
                .last()
                .is_some_and(|p| p.starts_with(&want))
        })
        .filter_map(|l| l.split_whitespace().nth(6).map(|i| format!("socket:[{i}]")))
        .collect();
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let fds = std::fs::read_dir(e.path().join("fd"))
            .into_iter()
            .flatten()
            .flatten();
        if fds.into_iter().any(|fd| {
            std::fs::read_link(fd.path())
                .is_ok_and(|l| inodes.contains(&l.to_string_lossy().into_owned()))
        }) {
            out.push(pid);
        }
    }
    out
}

#[test]
fn master_worker_socket_lives_in_the_worker_across_reloads() {
    let (a, b) = (Backend::http("a"), Backend::http("b"));
    let name = "stats-mw";
    let dir = dir_of(name);
    let cfg = |srv: &str, extra: &str| {
        format!(
            "global\n    stats socket {d}/admin.sock mode 600 level admin\n\
             defaults\n    mode http\n    timeout connect 2s\n    timeout client 5s\n    timeout server 5s\n\
             frontend fe\n    bind {{fe}}\n    default_backend be\nbackend be\n    server s1 {srv}\n{extra}",
            d = dir.display()
        )
    };
    let px = Proxy::start_with(
        env!("CARGO_BIN_EXE_haproxy"),
        name,
        &cfg(&a.addr.to_string(), ""),
        &["-W"],
        &[],
    );
    let sock = dir.join("admin.sock");
    assert_eq!(cli(&sock, "show backend"), "# name\nbe\n\n");
    let mode = std::fs::metadata(&sock).map(|m| {
        use std::os::unix::fs::PermissionsExt;
        m.permissions().mode() & 0o777
    });
    assert_eq!(mode.ok(), Some(0o600), "the socket's mode");
    let first = holders(&sock);
    assert!(
        !first.is_empty() && !first.contains(&px.pid()),
        "a worker holds the socket, not the master {}: {first:?}",
        px.pid()
    );
    // Reload with another backend list: the new worker answers at once.
    std::fs::write(
        px.dir.join("haproxy.cfg"),
        cfg(
            &b.addr.to_string(),
            "backend other\n    server s2 127.0.0.1:1\n",
        )
        .replace("{fe}", "fd@3"),
    )
    .expect("cfg");
    px.signal(libc::SIGUSR2);
    let start = Instant::now();
    while cli(&sock, "show backend") != "# name\nbe\nother\n\n" {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the new worker never answered"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // The old worker lets go of its socket when it stops.
    let start = Instant::now();
    let second = loop {
        let h = holders(&sock);
        if h.iter().all(|p| !first.contains(p)) || start.elapsed() > Duration::from_secs(10) {
            break h;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        !second.is_empty()
            && !second.contains(&px.pid())
            && second.iter().all(|p| !first.contains(p)),
        "the new worker holds the socket: {first:?} then {second:?}"
    );
    // And it serves: the counters are the new worker's.
    assert_eq!(get(px.addr, "/"), 200);
    wait_field(&sock, "be/s1", "stot", "1");
}

/// Waits until something listens at `addr`.
fn wait_port(addr: std::net::SocketAddr) {
    let start = Instant::now();
    while std::net::TcpStream::connect(addr).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{addr} never listened"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// An HTTP exchange on a new connection: the whole response.
fn http_raw(addr: std::net::SocketAddr, raw: &str) -> String {
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5))).ok();
    s.write_all(raw.as_bytes()).expect("send");
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// A POST of the stats page's admin form.
fn post_form(addr: std::net::SocketAddr, uri: &str, auth: &str, body: &str) -> String {
    http_raw(
        addr,
        &format!(
            "POST {uri} HTTP/1.1\r\nHost: t\r\n{auth}Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    )
}

/// A chunked body put back together.
fn dechunk(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    while let Some((size, after)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || after.len() < n {
            break;
        }
        out.push_str(&after[..n]);
        rest = after[n..].strip_prefix("\r\n").unwrap_or(&after[n..]);
    }
    out
}

/// The skeleton of an HTML page: its tags with their class, without the
/// tooltips' contents and the digit-grouping spans (they follow values).
fn skeleton(html: &str) -> Vec<String> {
    let body = &html[html.find("<body>").unwrap_or(0)..];
    let mut text = String::new();
    let mut rest = body;
    while let Some(i) = rest.find("<div class=tips>") {
        text.push_str(&rest[..i]);
        rest = &rest[i..];
        let end = rest.find("</div>").map_or(rest.len(), |j| j + 6);
        rest = &rest[end..];
    }
    text.push_str(rest);
    let mut out = Vec::new();
    for part in text.split('<').skip(1) {
        let tag = part.split('>').next().unwrap_or("");
        let name: String = tag.chars().take_while(|c| *c != ' ').collect();
        if name == "span" || name == "/span" {
            continue;
        }
        let class = tag
            .split("class=")
            .nth(1)
            .map(|c| {
                c.trim_start_matches('"')
                    .split(['"', ' '])
                    .next()
                    .unwrap_or("")
            })
            .unwrap_or("");
        let span = tag
            .split_whitespace()
            .filter(|w| {
                w.starts_with("colspan") || w.starts_with("rowspan") || w.starts_with("type=")
            })
            .collect::<Vec<_>>()
            .join(" ");
        out.push(format!("{name}.{class} {span}"));
    }
    out
}

const PAGE_CFG: &str = "global
    nbthread 1
    node node1
    description the description
defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
frontend fe
    bind {fe}
    use_backend be_stats if { path_beg /be-stats }
    default_backend be
backend be
    cookie SRV insert
    server s1 {s1} cookie a
    server s2 {s2} weight 50
    server s3 {s1} backup
    server s4 {s2} disabled
backend be_stats
    stats enable
    stats uri /be-stats
listen stats
    bind {page}
    stats enable
    stats uri /st
    stats admin if TRUE
    stats show-legends
    stats show-node
    stats show-desc
    stats auth a:b
    stats auth c:d
    stats realm My\\ Realm
    stats refresh 5s
listen rules
    bind {rules}
    stats enable
    stats uri /
    stats http-request auth if { path_beg /auth }
    stats http-request deny if { path_beg /deny }
    stats http-request allow
";

#[test]
fn stats_page_answers_as_2_6() {
    let (s1, s2) = (Backend::http("s1"), Backend::http("s2"));
    // Two more listening sockets per proxy, bound by this test and handed
    // over as fd@4 and fd@5 are not possible here: the page and the rules
    // listen on ports this test picks, one set per proxy.
    let ports = |n| {
        (0..n)
            .map(|_| {
                let l = std::net::TcpListener::bind("127.0.0.1:0").expect("probe");
                l.local_addr().expect("addr").port()
            })
            .collect::<Vec<u16>>()
    };
    let p = ports(4);
    let cfg = |page: u16, rules: u16| {
        PAGE_CFG
            .replace("{s1}", &s1.addr.to_string())
            .replace("{s2}", &s2.addr.to_string())
            .replace("{page}", &format!("127.0.0.1:{page}"))
            .replace("{rules}", &format!("127.0.0.1:{rules}"))
    };
    let ours = Proxy::start("stats-page-ours", &cfg(p[0], p[1]));
    let at = |port: u16| std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let auth = "Authorization: Basic YTpi\r\n";
    let requests: Vec<(u16, String)> = vec![
        (
            0,
            "GET /st HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".into(),
        ),
        (
            0,
            "GET /st HTTP/1.1\r\nHost: t\r\nAuthorization: Basic YTp4\r\nConnection: close\r\n\r\n"
                .into(),
        ),
        (
            0,
            format!("GET /st;csv HTTP/1.1\r\nHost: t\r\n{auth}Connection: close\r\n\r\n"),
        ),
        (
            0,
            format!("GET /st;csv;norefresh HTTP/1.1\r\nHost: t\r\n{auth}Connection: close\r\n\r\n"),
        ),
        (0, format!("GET /st;csv HTTP/1.0\r\n{auth}\r\n")),
        (
            0,
            format!("HEAD /st HTTP/1.1\r\nHost: t\r\n{auth}Connection: close\r\n\r\n"),
        ),
        (
            0,
            format!(
                "GET /st;csv;up&scope=be HTTP/1.1\r\nHost: t\r\n{auth}Connection: close\r\n\r\n"
            ),
        ),
        (
            1,
            "GET /auth HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".into(),
        ),
        (
            1,
            "GET /deny HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".into(),
        ),
        (
            1,
            "PUT / HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".into(),
        ),
        (
            1,
            "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".into(),
        ),
    ];
    let forms = [
        "s=s1&action=maint&b=%232",
        "s=s1&action=bogus&b=%232",
        "action=ready&b=%232",
        "s=nosuch&action=ready&b=%232",
        "s=s1&s=nosuch&action=ready&b=%232",
        "s=s1&s=s4&action=drain&b=%232",
        "s=s1&action=ready&b=%2399",
        "s=s1&action=dhlth&b=%232",
    ];
    let run = |px: &Proxy, page: u16, rules: u16| -> Vec<String> {
        wait_port(at(page));
        wait_port(at(rules));
        let mut out = Vec::new();
        let port = |i: u16| if i == 0 { page } else { rules };
        for (i, r) in &requests {
            out.push(http_raw(at(port(*i)), r));
        }
        for f in forms {
            out.push(post_form(at(page), "/st", auth, f));
        }
        out.push(http_raw(
            px.addr,
            "GET /be-stats;csv HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        ));
        out.push(http_raw(
            at(page),
            &format!("GET /st HTTP/1.1\r\nHost: t\r\n{auth}Connection: close\r\n\r\n"),
        ));
        out
    };
    let got = run(&ours, p[0], p[1]);
    // What does not need 2.6: the admin form drained s1 and s4.
    let csv = http_raw(
        at(p[0]),
        &format!("GET /st;csv HTTP/1.1\r\nHost: t\r\n{auth}Connection: close\r\n\r\n"),
    );
    assert!(
        csv.contains("\nbe,s1,")
            && csv
                .lines()
                .any(|l| l.starts_with("be,s1,") && l.contains(",DRAIN,")),
        "{csv}"
    );
    assert!(
        got[0].starts_with("HTTP/1.1 401 Unauthorized\r\n")
            && got[0].contains("realm=\"My Realm\"")
    );
    let Some(bin) = oracle() else { return };
    let theirs = Proxy::start_binary(&bin, "stats-page-2.6", &cfg(p[2], p[3]));
    let want = run(&theirs, p[2], p[3]);
    if let Ok(d) = std::env::var("STATS_DUMP") {
        for (i, (o, t)) in got.iter().zip(&want).enumerate() {
            let _ = std::fs::write(format!("{d}/ours-{i}"), o);
            let _ = std::fs::write(format!("{d}/theirs-{i}"), t);
        }
    }
    let masked = |resp: &str| -> String {
        let (head, body) = resp.split_once("\r\n\r\n").unwrap_or((resp, ""));
        let mut body = if head.contains("transfer-encoding: chunked") {
            dechunk(body)
        } else {
            body.to_string()
        };
        if body.contains("# pxname") {
            // The counters of the page's own requests differ in timing:
            // the CSV keeps its shape and the fields outside `mask`.
            let csv: String = body
                .lines()
                .filter(|l| l.starts_with("# ") || l.contains(','))
                .collect::<Vec<_>>()
                .join("\n");
            body = mask("show stat", &csv)
                .lines()
                .map(|l| {
                    let f: Vec<&str> = l.split(',').collect();
                    // The proxies answering pages count their bytes as
                    // 2.6 does not (its replies' internal size).
                    if f.len() > 10 && matches!(f[0], "stats" | "fe" | "be_stats" | "rules") {
                        format!("{},{},{}", f[0], f[1], f.len())
                    } else {
                        l.to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join("\n");
        } else if body.contains("<html><head>") {
            body = skeleton(&body).join("\n");
        }
        format!("{head}\r\n\r\n{body}")
    };
    let mut diffs = Vec::new();
    for (i, (o, t)) in got.iter().zip(&want).enumerate() {
        let (mo, mt) = (masked(o), masked(t));
        if mo != mt {
            // The first differing line, with some context.
            let (lo, lt): (Vec<&str>, Vec<&str>) = (mo.lines().collect(), mt.lines().collect());
            let at = (0..lo.len().max(lt.len()))
                .find(|k| lo.get(*k) != lt.get(*k))
                .unwrap_or(0);
            let from = at.saturating_sub(5);
            diffs.push(format!(
                "=== exchange {i}, line {at}\n--- 2.6:\n{}\n--- ours:\n{}",
                lt[from.min(lt.len())..(at + 5).min(lt.len())].join("\n"),
                lo[from.min(lo.len())..(at + 5).min(lo.len())].join("\n")
            ));
        }
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}

#[test]
fn stats_page_admin_form_steers_traffic() {
    let (s1, s2) = (Backend::http("s1"), Backend::http("s2"));
    let cfg = format!(
        "defaults\n    mode http\n    timeout connect 2s\n    timeout client 5s\n    timeout server 5s\n\
         frontend fe\n    bind {{fe}}\n    stats enable\n    stats uri /admin\n    stats admin if {{ src 127.0.0.1 }}\n    default_backend be\n\
         backend be\n    server s1 {a}\n    server s2 {b}\n",
        a = s1.addr,
        b = s2.addr
    );
    let px = Proxy::start("stats-page-admin", &cfg);
    let page = http_raw(
        px.addr,
        "GET /admin HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    );
    assert!(page.starts_with("HTTP/1.1 200 OK\r\n"), "{page}");
    // No stats socket: the frontend is proxy #1, the backend #2.
    assert!(
        page.contains("<form method=\"post\">") && page.contains("name=\"b\" value=\"#2\""),
        "the admin form"
    );
    let r = post_form(px.addr, "/admin", "", "s=s1&action=maint&b=%232");
    assert!(r.contains("\r\nlocation: /admin;st=DONE\r\n"), "{r}");
    for i in 0..4 {
        assert_eq!(get(px.addr, &format!("/{i}")), 200);
    }
    assert_eq!(
        (s1.requests(), s2.requests()),
        (0, 4),
        "s1 is in maintenance"
    );
    let page = http_raw(
        px.addr,
        "GET /admin;st=DONE HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    );
    assert!(
        page.contains("<tr class=\"maintain\">"),
        "the page shows s1 in maintenance"
    );
    let csv = http_raw(
        px.addr,
        "GET /admin;csv HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    );
    let s1_row = csv.lines().find(|l| l.starts_with("be,s1,")).unwrap_or("");
    assert_eq!(s1_row.split(',').nth(17), Some("MAINT"), "{csv}");
    let r = post_form(px.addr, "/admin", "", "s=s1&action=ready&b=%232");
    assert!(r.contains(";st=DONE"), "{r}");
    get(px.addr, "/again");
    get(px.addr, "/again");
    assert_eq!(s1.requests(), 1, "s1 is back");
}

/// A headless browser on this machine, if any.
fn browser() -> Option<String> {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find(|b| {
            std::process::Command::new(b)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .map(|b| b.to_string())
}

/// Runs the headless browser on `url` with `args`; its stdout.
fn run_browser(bin: &str, args: &[&str], url: &str) -> String {
    let profile = scratch_dir("stats-chromium-profile");
    let out = std::process::Command::new(bin)
        .args(["--headless", "--no-sandbox", "--disable-gpu"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(url)
        .stderr(std::process::Stdio::null())
        .output()
        .expect("run the browser");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn scratch_dir(name: &str) -> PathBuf {
    let d = dir_of(name);
    let _ = std::fs::create_dir_all(&d);
    d
}

#[test]
fn stats_page_renders_in_chromium() {
    let Some(bin) = browser() else {
        println!("SKIP ***** no headless browser (apt-get install -y chromium): the stats page was not rendered *****");
        assert!(
            std::env::var("REQUIRE_ALL").as_deref() != Ok("1"),
            "REQUIRE_ALL=1 and no chromium"
        );
        return;
    };
    let (s1, s2) = (Backend::http("s1"), Backend::http("s2"));
    let cfg = format!(
        "defaults\n    mode http\n    timeout connect 2s\n    timeout client 5s\n    timeout server 5s\n\
         frontend fe\n    bind {{fe}}\n    stats enable\n    stats uri /stats\n    stats admin if TRUE\n    stats show-legends\n    default_backend be\n\
         backend be\n    server up {a}\n    server maint {b} disabled\n    server drained {a}\n    server spare {b} backup\n",
        a = s1.addr,
        b = s2.addr
    );
    let px = Proxy::start("stats-chromium", &cfg);
    let r = post_form(px.addr, "/stats", "", "s=drained&action=drain&b=%232");
    assert!(r.contains(";st=DONE"), "{r}");
    let url = format!("http://{}/stats", px.addr);
    // The page as the browser built it.
    let dom = run_browser(&bin, &["--dump-dom"], &url);
    assert!(
        dom.contains("<title>Statistics Report for HAProxy</title>"),
        "{dom}"
    );
    assert_eq!(
        dom.matches("<table class=\"tbl\"").count(),
        4,
        "a name table and a stats table per proxy"
    );
    for class in [
        "frontend",
        "backend",
        "active_no_check",
        "maintain",
        "active_draining",
        "backup_no_check",
    ] {
        assert!(
            dom.contains(&format!("<tr class=\"{class}\">")),
            "a row of class {class}"
        );
    }
    assert!(dom.contains("<select name=\"action\">"), "the admin form");
    // A screenshot, kept in the test's directory.
    let shot = scratch_dir("stats-chromium").join("stats.png");
    let _ = std::fs::remove_file(&shot);
    let arg = format!("--screenshot={}", shot.display());
    run_browser(&bin, &["--window-size=1400,900", &arg], &url);
    let png = std::fs::read(&shot).expect("the screenshot");
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 10_000,
        "a real image"
    );
    println!("stats page screenshot: {}", shot.display());
}

const PROMEX_CFG: &str = "global
    nbthread 1
    stats socket {dir}/admin.sock level admin
defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
frontend fe
    bind {fe}
    http-request use-service prometheus-exporter if { path /metrics }
    http-request deny if { path /deny }
    default_backend be
backend be
    server s1 {s1} maxconn 5 weight 3
    server s2 {s1} disabled
    server s3 {s1} backup
listen tl
    mode tcp
    bind {tl}
    server t1 {s1}
";

/// The values that follow timing (rates, times, ages), the build, memory
/// and what this build keeps differently (idle server connections, pipes,
/// tasks, bytes of the HTTP/1 layer): masked before comparing with 2.6.
fn promex_mask(text: &str) -> String {
    let volatile = [
        "haproxy_process_",
        "_seconds",
        "_rate",
        "bytes_in_total",
        "bytes_out_total",
        "idle_connections",
        "need_connections",
    ];
    text.lines()
        .filter(|l| !l.starts_with("# HELP "))
        .map(|l| match l.rsplit_once(' ') {
            Some((name, _)) if !l.starts_with('#') && volatile.iter().any(|v| name.contains(v)) => {
                // (The version label too.)
                let name = if name.starts_with("haproxy_process_build_info") {
                    "haproxy_process_build_info"
                } else {
                    name
                };
                format!("{name} X")
            }
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The value of one metric line (`name{labels}`) in an exposition.
fn metric(text: &str, series: &str) -> String {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .unwrap_or("absent")
        .to_string()
}

#[test]
fn prometheus_metrics_as_2_6() {
    let s1 = Backend::http("s1");
    let probe = || {
        std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("probe")
    };
    let cfg = |dir: &Path, tl: std::net::SocketAddr| {
        PROMEX_CFG
            .replace("{dir}", &dir.display().to_string())
            .replace("{s1}", &s1.addr.to_string())
            .replace("{tl}", &tl.to_string())
    };
    // The same traffic through either proxy, then its metrics: the whole
    // exposition and the servers not in maintenance.
    let drive = |px: &Proxy, sock: &Path, tl: std::net::SocketAddr| -> Vec<String> {
        // (`tl` listens once `fe` does: no probe, it would be a session.)
        let mut out = Vec::new();
        assert_eq!(get(px.addr, "/x"), 200);
        assert_eq!(get(px.addr, "/deny"), 403);
        out.push(http_raw(
            px.addr,
            "GET /metrics?scope=bogus HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        ));
        out.push(http_raw(
            px.addr,
            "HEAD /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        ));
        // (This path makes the server close: the only end a TCP relay sees.)
        let through = http_raw(tl, "GET /close-delimited HTTP/1.1\r\nHost: t\r\n\r\n");
        assert!(through.starts_with("HTTP/1.1 200"), "{through}");
        assert_eq!(cli(sock, "set server be/s3 state drain"), "\n");
        wait_field(sock, "tl/t1", "stot", "1");
        out.push(http_raw(
            px.addr,
            "GET /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        ));
        out.push(http_raw(
            px.addr,
            "GET /metrics?no-maint&scope=server&scope=backend HTTP/1.0\r\n\r\n",
        ));
        out
    };
    let (ours_dir, ours_tl) = (dir_of("promex-ours"), probe());
    let ours = Proxy::start("promex-ours", &cfg(&ours_dir, ours_tl));
    let got = drive(&ours, &ours_dir.join("admin.sock"), ours_tl);
    let body = |resp: &str| dechunk(resp.split_once("\r\n\r\n").map_or("", |(_, b)| b));
    // What holds without 2.6: the answers' heads and the counters of the
    // traffic above.
    assert!(
        got[0].starts_with("HTTP/1.1 400 Bad request\r\n"),
        "{}",
        got[0]
    );
    assert_eq!(
        got[1],
        "HTTP/1.1 200 OK\r\ncache-control: no-cache\r\ncontent-type: text/plain; version=0.0.4\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n"
    );
    let all = body(&got[2]);
    assert!(all.ends_with("\n") && got[2].ends_with("\r\n0\r\n\r\n"));
    for (series, want) in [
        ("haproxy_process_nbthread", "1"),
        ("haproxy_frontend_http_requests_total{proxy=\"fe\"}", "5"),
        ("haproxy_frontend_requests_denied_total{proxy=\"fe\"}", "1"),
        (
            "haproxy_frontend_intercepted_requests_total{proxy=\"fe\"}",
            "3",
        ),
        (
            "haproxy_frontend_http_responses_total{proxy=\"fe\",code=\"2xx\"}",
            "2",
        ),
        (
            "haproxy_frontend_http_responses_total{proxy=\"fe\",code=\"4xx\"}",
            "2",
        ),
        ("haproxy_frontend_sessions_total{proxy=\"tl\"}", "1"),
        (
            "haproxy_frontend_intercepted_requests_total{proxy=\"tl\"}",
            "absent",
        ),
        ("haproxy_backend_sessions_total{proxy=\"be\"}", "1"),
        (
            "haproxy_backend_http_responses_total{proxy=\"be\",code=\"2xx\"}",
            "1",
        ),
        (
            "haproxy_backend_http_requests_total{proxy=\"tl\"}",
            "absent",
        ),
        (
            "haproxy_server_sessions_total{proxy=\"be\",server=\"s1\"}",
            "1",
        ),
        (
            "haproxy_server_limit_sessions{proxy=\"be\",server=\"s1\"}",
            "5",
        ),
        (
            "haproxy_server_limit_sessions{proxy=\"be\",server=\"s3\"}",
            "NaN",
        ),
        ("haproxy_server_uweight{proxy=\"be\",server=\"s1\"}", "3"),
        (
            "haproxy_server_status{proxy=\"be\",server=\"s2\",state=\"MAINT\"}",
            "1",
        ),
        (
            "haproxy_server_status{proxy=\"be\",server=\"s3\",state=\"DRAIN\"}",
            "1",
        ),
        (
            "haproxy_server_status{proxy=\"be\",server=\"s3\",state=\"UP\"}",
            "0",
        ),
        (
            "haproxy_backend_agg_server_status{proxy=\"be\",state=\"UP\"}",
            "1",
        ),
        (
            "haproxy_backend_agg_server_status{proxy=\"be\",state=\"DRAIN\"}",
            "1",
        ),
        (
            "haproxy_server_sessions_total{proxy=\"tl\",server=\"t1\"}",
            "1",
        ),
    ] {
        assert_eq!(metric(&all, series), want, "{series} in\n{all}");
    }
    let no_maint = body(&got[3]);
    assert!(no_maint.contains("server=\"s3\"") && !no_maint.contains("server=\"s2\""));
    assert!(!no_maint.contains("haproxy_process_") && !no_maint.contains("haproxy_frontend_"));
    let Some(bin) = oracle() else { return };
    let (theirs_dir, theirs_tl) = (dir_of("promex-2.6"), probe());
    let theirs = Proxy::start_binary(&bin, "promex-2.6", &cfg(&theirs_dir, theirs_tl));
    let want = drive(&theirs, &theirs_dir.join("admin.sock"), theirs_tl);
    let masked = |resp: &str| {
        let (head, _) = resp.split_once("\r\n\r\n").unwrap_or((resp, ""));
        let head = if head.starts_with("HTTP/1.1 200") {
            head.to_string()
        } else {
            // The 400 page is compared whole.
            resp.to_string()
        };
        format!("{head}\n{}", promex_mask(&body(resp)))
    };
    for (i, (o, t)) in got.iter().zip(&want).enumerate() {
        let (mo, mt) = (masked(o), masked(t));
        assert!(mo == mt, "exchange {i}:\n{}", explain(&mt, &mo));
    }
}

const MONITOR_CFG: &str = "global
    nbthread 1
    grace 1s
    stats socket {dir}/admin.sock level admin
defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
frontend fe
    bind {fe}
    monitor-uri /health
    monitor fail if { nbsrv(be) lt 1 } || { stopping }
    http-request deny if { path /health }
    http-request return status 503 content-type text/plain string bye if { path /st } { stopping }
    default_backend be
backend be
    server s1 {s1}
";

#[test]
fn monitor_uri_and_grace_as_2_6() {
    let s1 = Backend::http("s1");
    let cfg = |dir: &Path| {
        MONITOR_CFG
            .replace("{dir}", &dir.display().to_string())
            .replace("{s1}", &s1.addr.to_string())
    };
    let close = "Host: t\r\nConnection: close\r\n\r\n";
    // The monitor's answers, the counters they leave, then a soft stop:
    // its grace period answers 503 (`stopping`) before the process goes.
    let drive = |px: &mut Proxy, sock: &Path| -> Vec<String> {
        let mut out = vec![
            http_raw(px.addr, &format!("GET /health HTTP/1.1\r\n{close}")),
            http_raw(px.addr, &format!("HEAD /health HTTP/1.1\r\n{close}")),
            http_raw(px.addr, &format!("GET http://t/health HTTP/1.1\r\n{close}")),
            http_raw(px.addr, "GET /health HTTP/1.0\r\n\r\n"),
            http_raw(
                px.addr,
                &format!("GET /health HTTP/1.1\r\nHost: t\r\n\r\nGET /health HTTP/1.1\r\n{close}"),
            ),
        ];
        // Not the monitor URI: the rules and the server see these.
        for path in ["/health?x=1", "/other"] {
            let r = http_raw(px.addr, &format!("GET {path} HTTP/1.1\r\n{close}"));
            out.push(r.lines().next().unwrap_or("").to_string());
        }
        assert_eq!(cli(sock, "disable server be/s1"), "\n");
        out.push(http_raw(
            px.addr,
            &format!("GET /health HTTP/1.1\r\n{close}"),
        ));
        assert_eq!(cli(sock, "enable server be/s1"), "\n");
        wait_field(sock, "fe/FRONTEND", "req_tot", "9");
        let rows = stat(sock);
        for name in [
            "stot",
            "req_tot",
            "intercepted",
            "dreq",
            "ereq",
            "hrsp_2xx",
            "hrsp_4xx",
            "hrsp_5xx",
        ] {
            out.push(format!("{name}={}", field(&rows, "fe/FRONTEND", name)));
        }
        px.signal(libc::SIGUSR1);
        std::thread::sleep(Duration::from_millis(300));
        out.push(http_raw(
            px.addr,
            &format!("GET /health HTTP/1.1\r\n{close}"),
        ));
        out.push(http_raw(px.addr, &format!("GET /st HTTP/1.1\r\n{close}")));
        let (code, err) = px.wait_exit(Duration::from_secs(10)).expect("soft stop");
        out.push(format!("exit {code}"));
        // The notices of the soft stop (pids masked).
        for l in err.lines().filter(|l| l.starts_with("[NOTICE]")) {
            out.push(l.split_once(") : ").map_or(l, |(_, m)| m).to_string());
        }
        out
    };
    let ours_dir = dir_of("monitor-ours");
    let mut ours = Proxy::start("monitor-ours", &cfg(&ours_dir));
    let got = drive(&mut ours, &ours_dir.join("admin.sock"));
    let ok = "HTTP/1.1 200 OK\r\ncontent-length: 58\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nconnection: close\r\n";
    assert_eq!(
        got[0],
        format!("{ok}\r\n<html><body><h1>200 OK</h1>\nService ready.\n</body></html>\n")
    );
    assert_eq!(got[1], format!("{ok}\r\n"), "HEAD: no body");
    assert!(got[2].starts_with(ok) && got[3].contains("connection: close\r\n"));
    assert_eq!(got[4].matches("Service ready.").count(), 2, "{}", got[4]);
    assert_eq!(got[5], "HTTP/1.1 403 Forbidden");
    assert_eq!(got[6], "HTTP/1.1 200 OK");
    assert!(got[7].starts_with("HTTP/1.1 503 Service Unavailable\r\n"));
    assert_eq!(
        got[8..16].join(" "),
        "stot=8 req_tot=9 intercepted=7 dreq=1 ereq=0 hrsp_2xx=7 hrsp_4xx=1 hrsp_5xx=1"
    );
    assert!(
        got[16].starts_with("HTTP/1.1 503 Service Unavailable\r\n"),
        "{}",
        got[16]
    );
    assert!(
        got[17].starts_with("HTTP/1.1 503 Service Unavailable\r\n") && got[17].ends_with("bye")
    );
    assert_eq!(
        got[18..].join("\n"),
        "exit 0\nScheduling a soft-stop in 1000 ms.\nGrace period expired, proceeding with soft-stop now."
    );
    let Some(bin) = oracle() else { return };
    let theirs_dir = dir_of("monitor-2.6");
    let mut theirs = Proxy::start_binary(&bin, "monitor-2.6", &cfg(&theirs_dir));
    let want = drive(&mut theirs, &theirs_dir.join("admin.sock"));
    assert_eq!(got, want);
}
