//! Listening sockets: bound with socket2 as HAProxy binds them
//! (SO_REUSEADDR, SO_REUSEPORT unless `noreuseport`/`-dR`, non-blocking).
use crate::model::{ListenAddr, Listener};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use std::io;
use std::os::fd::FromRawFd;

/// HAProxy's default listen backlog when `backlog` and `maxconn` say nothing.
const DEFAULT_BACKLOG: i32 = 1024;

/// Why a listener could not be opened, in HAProxy's words.
#[derive(Debug)]
pub struct BindError {
    pub addr: String,
    pub reason: String,
}

impl BindError {
    /// HAProxy's start-up alert for this listener.
    pub fn alert(&self, rt: &crate::model::Runtime, l: &Listener) -> String {
        let fe = rt.frontend(l.frontend);
        let who = if rt.backends.iter().any(|b| b.name == fe.name) {
            "proxy"
        } else {
            "frontend"
        };
        format!(
            "Binding [{}] for {who} {}: cannot bind socket ({}) for [{}]",
            l.span, fe.name, self.reason, self.addr
        )
    }
}

/// A listener's identity across reloads: the master hands a socket to the
/// new worker for every `bind` address that is still configured.
pub fn key(addr: &ListenAddr) -> String {
    match addr {
        ListenAddr::Inet(sa) => sa.to_string(),
        ListenAddr::Unix(p) => format!("unix@{}", p.display()),
        ListenAddr::Abns(n) => format!("abns@{n}"),
        ListenAddr::Fd(fd) => format!("fd@{fd}"),
    }
}

/// Takes a listening socket inherited from the master.
pub fn adopt(fd: std::os::fd::OwnedFd) -> io::Result<std::net::TcpListener> {
    let l = std::net::TcpListener::from(fd);
    l.set_nonblocking(true)?;
    Ok(l)
}

/// Opens one listener's socket.
pub fn bind(l: &Listener, reuseport: bool) -> Result<std::net::TcpListener, BindError> {
    let fail = |e: io::Error, addr: String| BindError {
        addr,
        reason: cfg_parser::keywords::proxy::io_reason(&e),
    };
    let backlog = l
        .param("backlog")
        .and_then(|b| b.parse().ok())
        .unwrap_or(DEFAULT_BACKLOG);
    match &l.addr {
        ListenAddr::Inet(sa) => {
            let s = Socket::new(Domain::for_address(*sa), Type::STREAM, Some(Protocol::TCP))
                .map_err(|e| fail(e, sa.to_string()))?;
            s.set_reuse_address(true)
                .map_err(|e| fail(e, sa.to_string()))?;
            if reuseport {
                s.set_reuse_port(true)
                    .map_err(|e| fail(e, sa.to_string()))?;
            }
            if sa.is_ipv6() {
                let _ = s.set_only_v6(l.has("v6only"));
            }
            if l.has("transparent") {
                // Accepting for foreign addresses needs CAP_NET_ADMIN.
                let (level, opt) = if sa.is_ipv6() {
                    (libc::SOL_IPV6, libc::IPV6_TRANSPARENT)
                } else {
                    (libc::SOL_IP, libc::IP_TRANSPARENT)
                };
                setsockopt_int(&s, level, opt, 1).map_err(|_| BindError {
                    addr: sa.to_string(),
                    reason: "cannot make listening socket transparent".into(),
                })?;
            }
            if l.has("defer-accept") {
                // Wake the accept only once the client has sent data.
                setsockopt_int(&s, libc::IPPROTO_TCP, libc::TCP_DEFER_ACCEPT, 1)
                    .map_err(|e| fail(e, sa.to_string()))?;
            }
            s.set_nonblocking(true)
                .map_err(|e| fail(e, sa.to_string()))?;
            s.bind(&SockAddr::from(*sa))
                .map_err(|e| fail(e, sa.to_string()))?;
            s.listen(backlog).map_err(|e| fail(e, sa.to_string()))?;
            Ok(s.into())
        }
        ListenAddr::Unix(path) => {
            let _ = std::fs::remove_file(path);
            let l = std::os::unix::net::UnixListener::bind(path)
                .map_err(|e| fail(e, path.display().to_string()))?;
            // Unix listeners come with the stats socket issue; refuse clearly.
            drop(l);
            Err(BindError {
                addr: path.display().to_string(),
                reason: "unix listeners are not supported by this build yet".into(),
            })
        }
        ListenAddr::Abns(n) => Err(BindError {
            addr: format!("abns@{n}"),
            reason: "abstract sockets are not supported by this build yet".into(),
        }),
        ListenAddr::Fd(fd) => {
            // SAFETY: the configuration names fd `fd` as a listening socket
            // inherited from our parent (checked to be a socket while
            // parsing); we take ownership of it here, once.
            let l = unsafe { std::net::TcpListener::from_raw_fd(*fd) };
            l.set_nonblocking(true)
                .map_err(|e| fail(e, format!("fd@{fd}")))?;
            Ok(l)
        }
    }
}

fn setsockopt_int(
    s: &Socket,
    level: libc::c_int,
    opt: libc::c_int,
    v: libc::c_int,
) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: setsockopt with a pointer to a live c_int and its size.
    let r = unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            level,
            opt,
            &v as *const libc::c_int as *const libc::c_void,
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}
