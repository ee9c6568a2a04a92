//! The stats sockets (`stats socket PATH|IP:PORT [params]`): each worker
//! binds its own (the master holds none), before dropping privileges. A
//! UNIX socket is bound under a temporary name and renamed over its path,
//! so a reloaded worker replaces the old one's without a gap; the old
//! worker stops accepting at its soft stop and never removes the path.
use super::cli::{execute, split_line, CliState, Level};
use crate::worker::Shared;
use cfg_parser::addr::{Address, Host, Port};
use cfg_parser::ast::StatsSocket;
use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A bound stats socket, ready for the runtime.
pub enum Bound {
    Unix(std::os::unix::net::UnixListener),
    Tcp(std::net::TcpListener),
}

/// One stats socket's settings, from its parameters.
#[derive(Clone, Debug)]
pub struct Settings {
    pub level: Level,
    pub maxconn: u32,
}

/// Parameters with a runtime here (the others are refused at start).
pub const RUNNABLE_PARAMS: &[&str] = &[
    "level",
    "mode",
    "user",
    "group",
    "uid",
    "gid",
    "expose-fd",
    "maxconn",
    "name",
    "id",
    "process",
    "backlog",
    "thread",
    "nice",
];

fn param<'a>(s: &'a StatsSocket, name: &str) -> Option<&'a str> {
    let i = s.params.iter().position(|p| p == name)?;
    s.params.get(i + 1).map(String::as_str)
}

pub fn settings(s: &StatsSocket, default_maxconn: u32) -> Settings {
    Settings {
        level: param(s, "level")
            .and_then(Level::from_word)
            .unwrap_or(Level::User),
        maxconn: param(s, "maxconn")
            .and_then(|m| m.parse().ok())
            .filter(|m| *m > 0)
            .unwrap_or(default_maxconn),
    }
}

/// `ipv4@127.0.0.1:9999` as `show cli sockets` names an IP socket.
pub fn inet_name(a: &Address) -> String {
    match a {
        Address::Inet {
            host: Host::Ip(ip @ std::net::IpAddr::V6(_)),
            port: Port::One(p),
            ..
        } => format!("ipv6@[{ip}]:{p}"),
        Address::Inet {
            host: Host::Ip(ip),
            port: Port::One(p),
            ..
        } => format!("ipv4@{ip}:{p}"),
        Address::Inet {
            host: Host::Wildcard,
            port: Port::One(p),
            ..
        } => format!("ipv4@0.0.0.0:{p}"),
        other => other.to_string(),
    }
}

/// What this build cannot run in a `stats socket` line, if anything.
pub fn unrunnable(s: &StatsSocket) -> Option<String> {
    match &s.addr {
        Address::Unix { .. } => {}
        Address::Inet {
            host: Host::Ip(_) | Host::Wildcard,
            port: Port::One(_),
            ..
        } => {}
        other => return Some(format!("'stats socket' on '{other}'")),
    }
    let mut it = s.params.iter();
    while let Some(p) = it.next() {
        if !RUNNABLE_PARAMS.contains(&p.as_str()) {
            return Some(format!("'stats socket' parameter '{p}'"));
        }
        it.next();
    }
    None
}

/// Binds one stats socket: the alert text of 2.6 on failure.
pub fn bind(s: &StatsSocket, reuseport: bool) -> Result<Bound, String> {
    let fail = |what: &str, e: std::io::Error, addr: &str| {
        format!(
            "Binding [{}] for frontend GLOBAL: cannot bind {what}({}) [{addr}]",
            s.span,
            cfg_parser::keywords::proxy::io_reason(&e)
        )
    };
    match &s.addr {
        Address::Unix { path, .. } => {
            let tmp = format!("{path}.{}.tmp", std::process::id());
            let _ = std::fs::remove_file(&tmp);
            let l = std::os::unix::net::UnixListener::bind(&tmp)
                .map_err(|e| fail("UNIX socket ", e, path))?;
            let done = (|| -> std::io::Result<()> {
                if let Some(m) = param(s, "mode").and_then(|m| u32::from_str_radix(m, 8).ok()) {
                    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(m))?;
                }
                let uid = param(s, "uid")
                    .and_then(|u| u.parse().ok())
                    .or_else(|| param(s, "user").and_then(user_id));
                let gid = param(s, "gid")
                    .and_then(|g| g.parse().ok())
                    .or_else(|| param(s, "group").and_then(group_id));
                if uid.is_some() || gid.is_some() {
                    std::os::unix::fs::chown(&tmp, uid, gid)?;
                }
                std::fs::rename(&tmp, path)
            })();
            if let Err(e) = done {
                let _ = std::fs::remove_file(&tmp);
                return Err(fail("UNIX socket ", e, path));
            }
            l.set_nonblocking(true)
                .map_err(|e| fail("UNIX socket ", e, path))?;
            Ok(Bound::Unix(l))
        }
        Address::Inet {
            host,
            port: Port::One(port),
            family,
            ..
        } => {
            let ip = match host {
                Host::Ip(ip) => *ip,
                _ => cfg_parser::addr::wildcard_ip(*family),
            };
            let sa = std::net::SocketAddr::new(ip, *port);
            let text = sa.to_string();
            let sock = (|| -> std::io::Result<std::net::TcpListener> {
                use socket2::{Domain, Protocol, SockAddr, Socket, Type};
                let so = Socket::new(Domain::for_address(sa), Type::STREAM, Some(Protocol::TCP))?;
                so.set_reuse_address(true)?;
                if reuseport {
                    so.set_reuse_port(true)?;
                }
                so.set_nonblocking(true)?;
                so.bind(&SockAddr::from(sa))?;
                so.listen(
                    param(s, "backlog")
                        .and_then(|b| b.parse().ok())
                        .unwrap_or(1024),
                )?;
                Ok(so.into())
            })();
            sock.map(Bound::Tcp).map_err(|e| fail("socket ", e, &text))
        }
        other => Err(format!(
            "Binding [{}] for frontend GLOBAL: cannot bind socket (unsupported address) [{other}]",
            s.span
        )),
    }
}

fn user_id(name: &str) -> Option<u32> {
    let c = std::ffi::CString::new(name).ok()?;
    // SAFETY: getpwnam reads our NUL-terminated string and returns a
    // pointer into static storage, read at once.
    unsafe {
        let p = libc::getpwnam(c.as_ptr());
        (!p.is_null()).then(|| (*p).pw_uid)
    }
}

fn group_id(name: &str) -> Option<u32> {
    let c = std::ffi::CString::new(name).ok()?;
    // SAFETY: as in `user_id`, with getgrnam.
    unsafe {
        let p = libc::getgrnam(c.as_ptr());
        (!p.is_null()).then(|| (*p).gr_gid)
    }
}

/// Accepts CLI connections on one stats socket until `stop` says so.
pub async fn serve(
    sh: Arc<Shared>,
    bound: Bound,
    set: Settings,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let slots = Arc::new(tokio::sync::Semaphore::new(set.maxconn.max(1) as usize));
    enum L {
        Unix(tokio::net::UnixListener),
        Tcp(tokio::net::TcpListener),
    }
    let l = match bound {
        Bound::Unix(u) => match tokio::net::UnixListener::from_std(u) {
            Ok(u) => L::Unix(u),
            Err(_) => return,
        },
        Bound::Tcp(t) => match tokio::net::TcpListener::from_std(t) {
            Ok(t) => L::Tcp(t),
            Err(_) => return,
        },
    };
    loop {
        if *stop.borrow_and_update() {
            return;
        }
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => return },
            _ = stop.changed() => continue,
        };
        let accepted = tokio::select! {
            a = async {
                match &l {
                    L::Unix(u) => u.accept().await.map(|(s, _)| Conn::Unix(s)),
                    L::Tcp(t) => t.accept().await.map(|(s, a)| Conn::Tcp(s, a)),
                }
            } => a,
            _ = stop.changed() => continue,
        };
        let Ok(conn) = accepted else {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            continue;
        };
        let sh = sh.clone();
        let level = set.level;
        tokio::spawn(async move {
            let _permit = permit;
            session(sh, conn, level).await;
        });
    }
}

enum Conn {
    Unix(tokio::net::UnixStream),
    Tcp(tokio::net::TcpStream, std::net::SocketAddr),
}

/// One CLI connection: lines in, answers out. Without `prompt`, the
/// connection closes once the lines received so far are answered.
async fn session(sh: Arc<Shared>, conn: Conn, level: Level) {
    type Rd = Box<dyn tokio::io::AsyncRead + Unpin + Send>;
    type Wr = Box<dyn tokio::io::AsyncWrite + Unpin + Send>;
    let (mut rd, mut wr, peer): (Rd, Wr, _) = match conn {
        Conn::Unix(s) => {
            let (r, w) = s.into_split();
            (Box::new(r), Box::new(w), None)
        }
        Conn::Tcp(s, a) => {
            let (r, w) = s.into_split();
            (Box::new(r), Box::new(w), Some(a))
        }
    };
    sh.stats.global.inc(super::counters::C::ConnTot);
    // A CLI session is a stream: 2.6 counts it in `CumReq`.
    sh.stats.global.inc(super::counters::C::ReqTot);
    let reg = sh.stats.sessions.register(super::sess::NONE, peer);
    let mut st = CliState {
        level,
        prompt: false,
        quit: false,
        timeout_ms: sh.rt.global.stats_timeout_ms,
    };
    let mut buf: Vec<u8> = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        while let Some(end) = buf.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buf.drain(..=end).collect();
            let text = String::from_utf8_lossy(&line[..end]);
            let text = text.trim_end_matches('\r');
            let mut out = String::new();
            for words in split_line(text) {
                reg.info
                    .calls
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                out.push_str(&execute(&sh, &mut st, &words));
                if st.quit {
                    break;
                }
            }
            if st.prompt && !st.quit {
                out.push_str("> ");
            }
            if wr.write_all(out.as_bytes()).await.is_err() || st.quit {
                return;
            }
            if !st.prompt && !buf.contains(&b'\n') {
                let _ = wr.shutdown().await;
                return;
            }
        }
        if buf.len() > 1 << 20 {
            return;
        }
        let read = async {
            tokio::select! {
                r = rd.read(&mut chunk) => r,
                // `shutdown session` on this CLI connection.
                _ = reg.info.kill.notified() => Ok(0),
            }
        };
        let n = match crate::connect::ms(st.timeout_ms) {
            Some(d) => match tokio::time::timeout(d, read).await {
                Ok(r) => r,
                Err(_) => return,
            },
            None => read.await,
        };
        match n {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}
