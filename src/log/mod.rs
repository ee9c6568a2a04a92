//! Log targets (`log <addr> ... <facility> [level [minlevel]]`) and sending:
//! a line is framed in the target's syslog format and sent without ever
//! blocking the data path; a full or missing receiver drops the line and
//! counts it.
pub mod format;
pub mod record;
pub mod time;
pub mod txn;

use cfg_parser::addr::{parse_address, AddrRules, Address, Host, Port};
use std::io::Write;
use std::net::{SocketAddr, UdpSocket};
use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

/// Why a connection failed before it became a stream (`fc_err`,
/// `fc_err_str`): 2.6's codes and words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnError {
    ProxyEmpty,
    ProxyAbort,
    ProxyTimeout,
    ProxyTruncated,
    ProxyNotHeader,
    ProxyBadHeader,
}

impl ConnError {
    pub fn code(self) -> u32 {
        match self {
            ConnError::ProxyEmpty => 11,
            ConnError::ProxyAbort => 12,
            ConnError::ProxyTimeout => 13,
            ConnError::ProxyTruncated => 14,
            ConnError::ProxyNotHeader => 15,
            ConnError::ProxyBadHeader => 16,
        }
    }

    pub fn text(self) -> &'static str {
        match self {
            ConnError::ProxyEmpty => "Connection closed while waiting for PROXY protocol header",
            ConnError::ProxyAbort => "Connection error while waiting for PROXY protocol header",
            ConnError::ProxyTimeout => "Timeout while waiting for PROXY protocol header",
            ConnError::ProxyTruncated => "Truncated PROXY protocol header received",
            ConnError::ProxyNotHeader => {
                "Received something which does not look like a PROXY protocol header"
            }
            ConnError::ProxyBadHeader => "Received an invalid PROXY protocol header",
        }
    }
}

/// Syslog severities, most severe first (their numeric value is the index).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Emerg = 0,
    Alert,
    Crit,
    Err,
    Warning,
    Notice,
    Info,
    Debug,
}

impl Level {
    pub fn from_name(s: &str) -> Option<Level> {
        use Level::*;
        Some(match s {
            "emerg" => Emerg,
            "alert" => Alert,
            "crit" => Crit,
            "err" => Err,
            "warning" => Warning,
            "notice" => Notice,
            "info" => Info,
            "debug" => Debug,
            _ => return None,
        })
    }
}

/// How a line is framed for its receiver (`format ...` on the `log` line).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// RFC 3164 without the host name (the default).
    Local,
    Rfc3164,
    Rfc5424,
    Priority,
    Short,
    Timed,
    Iso,
    Raw,
}

/// Where lines go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Dest {
    Udp(SocketAddr),
    Unix(PathBuf),
    /// `stdout`, `stderr`, `fd@N`.
    Fd(i32),
}

/// One compiled `log` line.
#[derive(Debug)]
pub struct Target {
    pub dest: Dest,
    pub framing: Framing,
    /// Longest line sent, the final newline aside (`len`, 1024).
    pub maxlen: usize,
    pub facility: u8,
    /// Lines less severe than this are not sent.
    pub level: Level,
    /// Lines more severe than this are sent at this level.
    pub minlevel: Level,
    /// `sample <ranges>:<size>`: which lines of each period go here.
    pub sample: Option<Sample>,
    /// Lines seen, for `sample`.
    seen: AtomicU64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    pub ranges: Vec<(u64, u64)>,
    pub size: u64,
}

/// Lines dropped because the receiver was full, absent or too slow.
pub static DROPPED: AtomicU64 = AtomicU64::new(0);

/// Process-wide identity written in headers: tag, host name, pid.
#[derive(Debug, Clone)]
pub struct Identity {
    pub tag: String,
    /// `log-send-hostname [name]`: Some(name) when set.
    pub send_hostname: Option<String>,
    /// The machine's name, for `format rfc3164` without log-send-hostname.
    pub pid: u32,
}

static IDENTITY: OnceLock<Identity> = OnceLock::new();

/// Sets the tag and host name once, when the worker (or the standalone
/// process) starts; lines sent before use the defaults.
pub fn set_identity(tag: Option<&str>, send_hostname: Option<Option<&str>>) {
    let send_hostname = send_hostname.map(|h| h.map_or_else(hostname, String::from));
    let _ = IDENTITY.set(Identity {
        tag: tag.unwrap_or("haproxy").to_string(),
        send_hostname,
        pid: std::process::id(),
    });
}

static DEFAULT_IDENTITY: OnceLock<Identity> = OnceLock::new();

fn identity() -> &'static Identity {
    IDENTITY.get().unwrap_or_else(|| {
        DEFAULT_IDENTITY.get_or_init(|| Identity {
            tag: "haproxy".into(),
            send_hostname: None,
            pid: std::process::id(),
        })
    })
}

fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most buf.len() bytes into our buffer.
    let r = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if r != 0 {
        return "localhost".into();
    }
    let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

/// Compiles the words of a `log` line after the address (as the parser
/// checked them). `Err` names what this build cannot send to.
pub fn compile_target(addr: &str, words: &[String]) -> Result<Target, String> {
    let dest = dest_of(addr)?;
    let mut framing = Framing::Local;
    let mut maxlen = 1024;
    let mut sample = None;
    let mut i = 0;
    while i < words.len() {
        let arg = words.get(i + 1).map(String::as_str).unwrap_or("");
        match words[i].as_str() {
            "len" => maxlen = arg.parse().unwrap_or(1024),
            "format" => {
                framing = match arg {
                    "rfc3164" => Framing::Rfc3164,
                    "rfc5424" => Framing::Rfc5424,
                    "priority" => Framing::Priority,
                    "short" => Framing::Short,
                    "timed" => Framing::Timed,
                    "iso" => Framing::Iso,
                    "raw" => Framing::Raw,
                    _ => Framing::Local,
                }
            }
            "sample" => sample = Some(parse_sample(arg)?),
            _ => break,
        }
        i += 2;
    }
    let facility = cfg_parser::keywords::log::FACILITIES
        .iter()
        .position(|f| words.get(i).is_some_and(|w| w == f))
        .unwrap_or(16) as u8;
    let level = words
        .get(i + 1)
        .and_then(|w| Level::from_name(w))
        .unwrap_or(Level::Debug);
    let minlevel = words
        .get(i + 2)
        .and_then(|w| Level::from_name(w))
        .unwrap_or(Level::Emerg);
    Ok(Target {
        dest,
        framing,
        maxlen,
        facility,
        level,
        minlevel,
        sample,
        seen: AtomicU64::new(0),
    })
}

/// `<ranges>:<size>`, ranges as `1,3-5`.
fn parse_sample(s: &str) -> Result<Sample, String> {
    let (ranges, size) = s.rsplit_once(':').unwrap_or((s, ""));
    let size: u64 = size
        .parse()
        .map_err(|_| format!("invalid sample size '{size}'"))?;
    let mut out = Vec::new();
    for r in ranges.split(',') {
        let (a, b) = r.split_once('-').unwrap_or((r, r));
        let (a, b) = (a.parse::<u64>(), b.parse::<u64>());
        match (a, b) {
            (Ok(a), Ok(b)) if a >= 1 && a <= b && b <= size => out.push((a, b)),
            _ => return Err(format!("invalid sample range '{r}'")),
        }
    }
    Ok(Sample { ranges: out, size })
}

fn dest_of(addr: &str) -> Result<Dest, String> {
    match addr {
        "stdout" => return Ok(Dest::Fd(1)),
        "stderr" => return Ok(Dest::Fd(2)),
        _ => {}
    }
    if addr.starts_with("ring@") {
        return Err(format!("log target '{addr}' (rings)"));
    }
    let rules = AddrRules {
        dgram: true,
        ..AddrRules::default()
    };
    match parse_address(addr, rules) {
        Ok(Address::Unix { path, .. }) => Ok(Dest::Unix(PathBuf::from(path))),
        Ok(Address::Fd(n)) => Ok(Dest::Fd(n)),
        Ok(Address::Inet {
            host: Host::Ip(ip),
            port,
            ..
        }) => {
            let port = match port {
                Port::One(p) => p,
                _ => 514,
            };
            Ok(Dest::Udp(SocketAddr::new(ip, port)))
        }
        Ok(Address::Inet {
            host: Host::Name(n),
            port,
            ..
        }) => {
            use std::net::ToSocketAddrs;
            let port = match port {
                Port::One(p) => p,
                _ => 514,
            };
            (n.as_str(), port)
                .to_socket_addrs()
                .ok()
                .and_then(|mut a| a.next())
                .map(Dest::Udp)
                .ok_or_else(|| format!("log address '{addr}' (does not resolve)"))
        }
        _ => Err(format!("log address '{addr}'")),
    }
}

/// The sockets lines leave from: one per address family, made on first use
/// in each process (a worker gets its own after fork+exec).
struct Sockets {
    v4: Option<UdpSocket>,
    v6: Option<UdpSocket>,
    unix: Option<UnixDatagram>,
}

static SOCKETS: OnceLock<Sockets> = OnceLock::new();

fn sockets() -> &'static Sockets {
    SOCKETS.get_or_init(|| {
        let udp = |a: &str| {
            UdpSocket::bind(a)
                .and_then(|s| s.set_nonblocking(true).map(|_| s))
                .ok()
        };
        Sockets {
            v4: udp("0.0.0.0:0"),
            v6: udp("[::]:0"),
            unix: UnixDatagram::unbound()
                .and_then(|s| s.set_nonblocking(true).map(|_| s))
                .ok(),
        }
    })
}

impl Target {
    /// Whether this target takes a line of `level`, counting it for
    /// `sample`; returns the level to write in the header.
    fn accepts(&self, level: Level) -> Option<Level> {
        if level > self.level {
            return None;
        }
        if let Some(s) = &self.sample {
            let n = self.seen.fetch_add(1, Ordering::Relaxed) % s.size + 1;
            if !s.ranges.iter().any(|(a, b)| (*a..=*b).contains(&n)) {
                return None;
            }
        }
        Some(level.max(self.minlevel))
    }

    /// Frames `msg` for this target: header, text, truncation to `len`,
    /// final newline.
    pub fn frame(&self, level: Level, msg: &str, now: &time::Now) -> Vec<u8> {
        self.frame_sd(level, msg, None, now)
    }

    /// [`Target::frame`] with RFC 5424 structured data (`log-format-sd`);
    /// other framings ignore it.
    pub fn frame_sd(&self, level: Level, msg: &str, sd: Option<&str>, now: &time::Now) -> Vec<u8> {
        let id = identity();
        let pri = self.facility as u32 * 8 + level as u32;
        let mut out = Vec::with_capacity(msg.len() + 64);
        match self.framing {
            Framing::Local | Framing::Rfc3164 => {
                let host = match (&id.send_hostname, self.framing) {
                    (Some(h), _) => Some(h.as_str()),
                    (None, Framing::Rfc3164) => Some("localhost"),
                    _ => None,
                };
                let _ = write!(out, "<{pri}>{} ", now.syslog());
                if let Some(h) = host {
                    let _ = write!(out, "{h} ");
                }
                let _ = write!(out, "{}[{}]: ", id.tag, id.pid);
            }
            Framing::Rfc5424 => {
                let host = id.send_hostname.as_deref().unwrap_or("-");
                let sd = sd.filter(|s| !s.is_empty()).unwrap_or("-");
                let _ = write!(
                    out,
                    "<{pri}>1 {} {host} {} {} - {sd} ",
                    now.iso(),
                    id.tag,
                    id.pid
                );
            }
            Framing::Priority => {
                let _ = write!(out, "<{pri}>");
            }
            Framing::Short => {
                let _ = write!(out, "<{}>", level as u32);
            }
            Framing::Timed => {
                let _ = write!(out, "<{}>{} ", level as u32, now.iso());
            }
            Framing::Iso => {
                let _ = write!(out, "{} ", now.iso());
            }
            Framing::Raw => {}
        }
        out.extend_from_slice(msg.as_bytes());
        // 2.6 keeps `len` bytes of header and text, then the newline.
        out.truncate(self.maxlen);
        out.push(b'\n');
        out
    }

    fn send(&self, line: &[u8]) {
        let s = sockets();
        let sent = match &self.dest {
            Dest::Udp(a @ SocketAddr::V4(_)) => s.v4.as_ref().map(|u| u.send_to(line, a)),
            Dest::Udp(a) => s.v6.as_ref().map(|u| u.send_to(line, a)),
            Dest::Unix(p) => s.unix.as_ref().map(|u| u.send_to(line, p)),
            Dest::Fd(fd) => {
                // SAFETY: writes our buffer to a descriptor the process was
                // given (stdout, stderr or fd@N); a closed one fails with EBADF.
                let r = unsafe { libc::write(*fd, line.as_ptr().cast(), line.len()) };
                Some(if r < 0 {
                    Err(std::io::Error::last_os_error())
                } else {
                    Ok(r as usize)
                })
            }
        };
        if !matches!(sent, Some(Ok(_))) {
            DROPPED.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// A proxy's (or the global section's) targets.
pub type Targets = Vec<Arc<Target>>;

/// Sends `msg` at `level` to every target that takes it.
pub fn send(targets: &[Arc<Target>], level: Level, msg: &str) {
    send_sd(targets, level, msg, None)
}

/// [`send`] with the structured data of RFC 5424 targets.
pub fn send_sd(targets: &[Arc<Target>], level: Level, msg: &str, sd: Option<&str>) {
    if targets.is_empty() {
        return;
    }
    let now = time::Now::get();
    for t in targets {
        if let Some(l) = t.accepts(level) {
            t.send(&t.frame_sd(l, msg, sd, &now));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(words: &[&str]) -> Target {
        let w: Vec<String> = words.iter().map(|s| s.to_string()).collect();
        compile_target("127.0.0.1:514", &w).unwrap()
    }

    #[test]
    fn levels_filter_and_cap() {
        let t = target(&["local6", "notice", "err"]);
        assert_eq!(t.accepts(Level::Info), None);
        assert_eq!(t.accepts(Level::Warning), Some(Level::Warning));
        assert_eq!(t.accepts(Level::Emerg), Some(Level::Err));
        assert_eq!(t.facility, 22);
    }

    #[test]
    fn framings_and_truncation() {
        let now = time::Now::fixed(2026, 11, 5, 8, 7, 6, 123456);
        let pid = std::process::id();
        let t = target(&["local0"]);
        assert_eq!(
            String::from_utf8(t.frame(Level::Info, "hi", &now)).unwrap(),
            format!("<134>Nov  5 08:07:06 haproxy[{pid}]: hi\n")
        );
        let t = target(&["format", "rfc5424", "local1"]);
        assert_eq!(
            String::from_utf8(t.frame(Level::Info, "hi", &now)).unwrap(),
            format!("<142>1 2026-11-05T08:07:06.123456+00:00 - haproxy {pid} - - hi\n")
        );
        let t = target(&["format", "short", "local1"]);
        assert_eq!(t.frame(Level::Info, "hi", &now), b"<6>hi\n");
        let t = target(&["format", "priority", "local3"]);
        assert_eq!(t.frame(Level::Info, "hi", &now), b"<158>hi\n");
        let t = target(&["format", "raw", "len", "80", "local3"]);
        assert_eq!(t.frame(Level::Info, "hi", &now), b"hi\n");
        let t = target(&["len", "80", "format", "raw", "local3"]);
        let long = "x".repeat(200);
        assert_eq!(t.frame(Level::Info, &long, &now).len(), 81);
    }

    #[test]
    fn sampling_takes_the_listed_ranges() {
        let t = target(&["sample", "1,3:4", "local0"]);
        let got: Vec<bool> = (0..8).map(|_| t.accepts(Level::Info).is_some()).collect();
        assert_eq!(got, [true, false, true, false, true, false, true, false]);
    }
}
