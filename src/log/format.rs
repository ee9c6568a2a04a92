//! The `%` variables of log-format strings and how each is written: flags
//! `+Q` (quote), `+X` (hexadecimal), `+E` (escape `"\]`), `%o` (flags for
//! all that follow), and the separators of `log-format` (a run of spaces
//! written once, not after a field that wrote nothing).
use super::record::Record;
use super::time::Tm;
use std::fmt::Write;
use std::net::{IpAddr, SocketAddr};
use std::time::UNIX_EPOCH;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Flags {
    pub quote: bool,
    pub hex: bool,
    pub escape: bool,
    pub mandatory: bool,
}

impl Flags {
    /// Applies `+Q,-X,...` to `self`; unknown names and unsigned words are
    /// ignored, as 2.6 does.
    pub fn apply(mut self, spec: &str) -> Flags {
        for w in spec.split(',') {
            let (on, name) = match (w.strip_prefix('+'), w.strip_prefix('-')) {
                (Some(n), _) => (true, n),
                (_, Some(n)) => (false, n),
                _ => continue,
            };
            match name {
                "Q" => self.quote = on,
                "X" => self.hex = on,
                "E" => self.escape = on,
                "M" => self.mandatory = on,
                _ => {}
            }
        }
        self
    }
}

/// A compiled `%` variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Var {
    BytesOut,
    CookieReq,
    CookieRes,
    Hostname,
    Method,
    Path,
    PathOnly,
    Query,
    Uri,
    Version,
    UniqueId,
    Status,
    DateGmt,
    Ta,
    Tc,
    Td,
    Th,
    Ti,
    DateLocal,
    Tq,
    TR,
    Tr,
    Ts,
    Tt,
    Tu,
    Tw,
    BytesIn,
    ActConn,
    Backend,
    BeConn,
    BackendIp,
    BackendPort,
    BackendQueue,
    ClientIp,
    ClientPort,
    Frontend,
    FeConn,
    FrontendIp,
    FrontendPort,
    FrontendXprt,
    ReqHeaders,
    ReqHeaderList,
    ResHeaders,
    ResHeaderList,
    LogCounter,
    AcceptMs,
    Pid,
    Request,
    Retries,
    ReqCounter,
    Server,
    SrvConn,
    ServerIp,
    ServerPort,
    ServerQueue,
    Date,
    ReqDate,
    ReqDateGmt,
    ReqDateLocal,
    TermState,
    TermStateCookie,
}

/// The variable named `name` (`o` is handled by the compiler); None for
/// the TLS ones this build has no data for.
pub fn var(name: &str) -> Option<Var> {
    use Var::*;
    Some(match name {
        "B" => BytesOut,
        "CC" => CookieReq,
        "CS" => CookieRes,
        "H" => Hostname,
        "HM" => Method,
        "HP" => Path,
        "HPO" => PathOnly,
        "HQ" => Query,
        "HU" => Uri,
        "HV" => Version,
        "ID" => UniqueId,
        "ST" => Status,
        "T" => DateGmt,
        "Ta" => Ta,
        "Tc" => Tc,
        "Td" => Td,
        "Th" => Th,
        "Ti" => Ti,
        "Tl" => DateLocal,
        "Tq" => Tq,
        "TR" => TR,
        "Tr" => Tr,
        "Ts" => Ts,
        "Tt" => Tt,
        "Tu" => Tu,
        "Tw" => Tw,
        "U" => BytesIn,
        "ac" => ActConn,
        "b" => Backend,
        "bc" => BeConn,
        "bi" => BackendIp,
        "bp" => BackendPort,
        "bq" => BackendQueue,
        "ci" => ClientIp,
        "cp" => ClientPort,
        "f" => Frontend,
        "fc" => FeConn,
        "fi" => FrontendIp,
        "fp" => FrontendPort,
        "ft" => FrontendXprt,
        "hr" => ReqHeaders,
        "hrl" => ReqHeaderList,
        "hs" => ResHeaders,
        "hsl" => ResHeaderList,
        "lc" => LogCounter,
        "ms" => AcceptMs,
        "pid" => Pid,
        "r" => Request,
        "rc" => Retries,
        "rt" => ReqCounter,
        "s" => Server,
        "sc" => SrvConn,
        "si" => ServerIp,
        "sp" => ServerPort,
        "sq" => ServerQueue,
        "t" => Date,
        "tr" => ReqDate,
        "trg" => ReqDateGmt,
        "trl" => ReqDateLocal,
        "ts" => TermState,
        "tsc" => TermStateCookie,
        _ => return None,
    })
}

/// A line being written: the text and whether the last thing written was
/// a separator (so that empty fields do not double the spaces).
pub struct Line {
    pub out: String,
    pub last_sep: bool,
}

impl Line {
    pub fn new() -> Line {
        Line {
            out: String::with_capacity(256),
            last_sep: true,
        }
    }

    pub fn sep(&mut self) {
        if !self.last_sep {
            self.out.push(' ');
            self.last_sep = true;
        }
    }

    pub fn lit(&mut self, s: &str) {
        self.out.push_str(s);
        self.last_sep = false;
    }

    /// A string field: `-` when absent (`""` when quoted), quoted and
    /// escaped as the flags say.
    pub fn text(&mut self, s: Option<&[u8]>, f: Flags) {
        match s {
            None => self.out.push_str(if f.quote { "\"\"" } else { "-" }),
            Some(s) => {
                if f.quote {
                    self.out.push('"');
                }
                for &c in s {
                    if f.escape && matches!(c, b'"' | b'\\' | b']') {
                        self.out.push('\\');
                    }
                    push_byte(&mut self.out, c);
                }
                if f.quote {
                    self.out.push('"');
                }
            }
        }
        self.last_sep = false;
    }

    /// A string with bytes outside printable ASCII, and those in `extra`,
    /// written `#XX` (HAProxy's encoding of `%r` and captures).
    fn encoded(&mut self, s: &[u8], extra: &[u8], f: Flags) {
        if f.quote {
            self.out.push('"');
        }
        for &c in s {
            if !(32..127).contains(&c) || extra.contains(&c) {
                let _ = write!(self.out, "#{c:02X}");
            } else {
                if f.escape && matches!(c, b'"' | b'\\' | b']') {
                    self.out.push('\\');
                }
                self.out.push(c as char);
            }
        }
        if f.quote {
            self.out.push('"');
        }
        self.last_sep = false;
    }

    fn num(&mut self, n: i64, f: Flags) {
        if f.hex {
            let _ = write!(self.out, "{:04X}", n as u64 & 0xffff_ffff);
        } else {
            let _ = write!(self.out, "{n}");
        }
        self.last_sep = false;
    }

    fn ip(&mut self, a: Option<IpAddr>, f: Flags) {
        match a {
            None => self.out.push('-'),
            Some(IpAddr::V4(v)) if f.hex => {
                let _ = write!(self.out, "{:08X}", u32::from(v));
            }
            Some(IpAddr::V6(v)) if f.hex => {
                for b in v.octets() {
                    let _ = write!(self.out, "{b:02X}");
                }
            }
            Some(ip) => {
                let _ = write!(self.out, "{}", unmapped(ip));
            }
        }
        self.last_sep = false;
    }

    fn port(&mut self, a: Option<SocketAddr>, f: Flags) {
        match a {
            None => self.out.push('-'),
            Some(a) => self.num(a.port() as i64, f),
        }
        self.last_sep = false;
    }
}

impl Default for Line {
    fn default() -> Line {
        Line::new()
    }
}

/// IPv4 clients of a v6 socket are logged in their v4 form, as HAProxy
/// does.
fn unmapped(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v) => v.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn push_byte(out: &mut String, c: u8) {
    if c.is_ascii() {
        out.push(c as char);
    } else {
        out.push(char::from_u32(c as u32).unwrap_or('?'));
    }
}

/// `-1` stays `-1` in sums: a step never reached spoils the total.
fn sum(parts: &[i64]) -> i64 {
    if parts.iter().any(|v| *v < 0) {
        -1
    } else {
        parts.iter().sum()
    }
}

/// Splits the request line into method, URI and version.
fn request_parts<'r>(r: &'r Record) -> Option<(&'r str, &'r str, &'r str)> {
    let line = r.request_line.as_deref()?;
    let mut it = line.splitn(3, ' ');
    Some((it.next()?, it.next().unwrap_or(""), it.next().unwrap_or("")))
}

/// Writes one variable of `r` into `line`.
pub fn write_var(line: &mut Line, v: Var, f: Flags, r: &Record) {
    use Var::*;
    let t = &r.t;
    // A line written before the end says its totals are partial.
    if r.asap && matches!(v, Ta | Tt | Tu | BytesOut) {
        line.out.push('+');
    }
    match v {
        BytesOut => line.num(r.bytes_out as i64, f),
        BytesIn => line.num(r.bytes_in as i64, f),
        CookieReq => line.text(r.cookie_req.as_deref().map(str::as_bytes), f),
        CookieRes => line.text(r.cookie_res.as_deref().map(str::as_bytes), f),
        Hostname => line.text(Some(super::hostname().as_bytes()), f),
        Method | Uri | Path | PathOnly | Query | Version => {
            let Some((m, uri, ver)) = request_parts(r) else {
                line.text(None, f);
                return;
            };
            let path_end = uri.find('?').unwrap_or(uri.len());
            let s = match v {
                Method => m,
                Uri => uri,
                Path => &uri[..path_end],
                Query => &uri[path_end..],
                Version => ver,
                _ => {
                    // Without the scheme and authority of an absolute URI.
                    let p = &uri[..path_end];
                    match p.find("://") {
                        Some(i) => p[i + 3..].find('/').map_or("", |j| &p[i + 3 + j..]),
                        None => p,
                    }
                }
            };
            line.encoded(s.as_bytes(), b"\"#", f);
        }
        UniqueId => line.text(r.unique_id.as_deref().map(str::as_bytes), f),
        Status => line.num(r.status as i64, f),
        DateGmt => line.lit(&Tm::of(r.accept, true).clf()),
        DateLocal => line.lit(&Tm::of(r.accept, false).clf()),
        Ta => line.num(t.active, f),
        Tc => line.num(t.connect, f),
        Td => {
            let tq = sum(&[t.handshake, t.idle, t.request]);
            let busy = sum(&[tq, t.queue, t.connect, t.response]);
            line.num(
                if busy < 0 || t.total < 0 {
                    -1
                } else {
                    t.total - busy
                },
                f,
            )
        }
        Th => line.num(t.handshake, f),
        Ti => line.num(t.idle, f),
        Tq => line.num(sum(&[t.handshake, t.idle, t.request]), f),
        TR => line.num(t.request, f),
        Tr => line.num(t.response, f),
        Ts => {
            let s = r
                .accept
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            if f.hex {
                let _ = write!(line.out, "{s:08X}");
                line.last_sep = false;
            } else {
                line.num(s as i64, f)
            }
        }
        Tt => line.num(t.total, f),
        Tu => line.num(
            if t.total < 0 {
                -1
            } else {
                t.total - t.idle.max(0)
            },
            f,
        ),
        Tw => line.num(t.queue, f),
        ActConn => line.num(r.actconn as i64, f),
        FeConn => line.num(r.feconn as i64, f),
        BeConn => line.num(r.beconn as i64, f),
        SrvConn => line.num(r.srvconn as i64, f),
        Retries => line.num(r.retries as i64, f),
        ServerQueue => line.num(r.srv_queue as i64, f),
        BackendQueue => line.num(r.be_queue as i64, f),
        Backend => line.text(Some(r.backend.unwrap_or(r.frontend).as_bytes()), f),
        Frontend | FrontendXprt => line.text(Some(r.frontend.as_bytes()), f),
        Server => line.text(Some(r.server.unwrap_or("<NOSRV>").as_bytes()), f),
        ClientIp => line.ip(Some(r.src.ip()), f),
        ClientPort => line.port(Some(r.src), f),
        FrontendIp => line.ip(Some(r.dst.ip()), f),
        FrontendPort => line.port(Some(r.dst), f),
        BackendIp => line.ip(r.srv_src.map(|a| a.ip()), f),
        BackendPort => line.port(r.srv_src, f),
        ServerIp => line.ip(r.srv_addr.map(|a| a.ip()), f),
        ServerPort => line.port(r.srv_addr, f),
        ReqHeaders | ResHeaders => {
            let caps = if v == ReqHeaders {
                &r.req_caps
            } else {
                &r.res_caps
            };
            if caps.is_empty() {
                return;
            }
            // The braces and bars are ours: encode only the values.
            if f.quote {
                line.out.push('"');
            }
            line.out.push('{');
            for (i, c) in caps.iter().enumerate() {
                if i > 0 {
                    line.out.push('|');
                }
                if let Some(c) = c {
                    line.encoded(c, b"\"#{|}", Flags::default());
                }
            }
            line.out.push('}');
            if f.quote {
                line.out.push('"');
            }
            line.last_sep = false;
        }
        ReqHeaderList | ResHeaderList => {
            let caps = if v == ReqHeaderList {
                &r.req_caps
            } else {
                &r.res_caps
            };
            for (i, c) in caps.iter().enumerate() {
                if i > 0 {
                    line.out.push(' ');
                }
                match c {
                    Some(c) => line.encoded(c, b"\"#{|}", f),
                    None => line.text(None, f),
                }
            }
        }
        LogCounter => line.num(r.log_counter as i64, f),
        AcceptMs => {
            let ms = r
                .accept
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.subsec_millis());
            let _ = write!(line.out, "{ms:03}");
            line.last_sep = false;
        }
        Pid => line.num(std::process::id() as i64, f),
        Request => match &r.request_line {
            Some(l) => line.encoded(l.as_bytes(), b"\"#", f),
            None => line.encoded(b"<BADREQ>", b"", f),
        },
        ReqCounter => line.num(r.req_counter as i64, f),
        Date => line.lit(&Tm::of(r.accept, false).accept_ms()),
        ReqDate => line.lit(&Tm::of(r.request_date, false).accept_ms()),
        ReqDateGmt => line.lit(&Tm::of(r.request_date, true).clf()),
        ReqDateLocal => line.lit(&Tm::of(r.request_date, false).clf()),
        TermState => line.lit(std::str::from_utf8(&r.term).unwrap_or("--")),
        TermStateCookie => {
            line.lit(std::str::from_utf8(&r.term).unwrap_or("--"));
            line.lit(std::str::from_utf8(&r.cookie_flags).unwrap_or("--"));
        }
    }
}

/// The default formats 2.6 uses for `option httplog`, `option httplog
/// clf` and `option tcplog`.
pub const HTTP_LOG: &str = "%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r";
pub const CLF_LOG: &str = "%{+Q}o %{-Q}ci - - [%trg] %r %ST %B \"\" \"\" %cp %ms %ft %b %s %TR %Tw %Tc %Tr %Ta %tsc %ac %fc %bc %sc %rc %sq %bq %CC %CS %hrl %hsl";
pub const TCP_LOG: &str = "%ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acl::FetchCtx;
    use crate::sample::{compile_logformat, render};
    use std::time::Duration;

    fn line(fmt: &str, r: &Record, merge: bool) -> String {
        let cx = cfg_parser::logformat::LfContext {
            merge_spaces: merge,
            ..Default::default()
        };
        let parts = cfg_parser::logformat::parse_lf(fmt, cx).unwrap();
        let pieces = compile_logformat(&parts).unwrap();
        let none = |_: &str| None;
        let ctx = FetchCtx::new(r.src, r.dst, None, &none);
        render(&pieces, &ctx, Some(r), true)
    }

    fn record() -> Record<'static> {
        // 2026-11-25 08:57:46.116 UTC, as in the capture of 2.6's lines.
        let at = UNIX_EPOCH + Duration::from_millis(1_795_597_066_116);
        let mut r = Record::new(
            "f_httplog",
            "127.0.0.1:37528".parse().unwrap(),
            "127.0.0.1:18101".parse().unwrap(),
            at,
        );
        r.backend = Some("be_http");
        r.server = Some("s1");
        r.t.request = 0;
        r.t.queue = 0;
        r.t.connect = 5;
        r.t.response = 0;
        r.t.active = 5;
        r.t.total = 5;
        r.status = 200;
        r.bytes_out = 144;
        r.term = *b"--";
        (r.actconn, r.feconn, r.beconn) = (1, 1, 0);
        r.request_line = Some("GET /p18101?q=1 HTTP/1.1".into());
        r.http = true;
        r
    }

    #[test]
    fn httplog_tcplog_and_clf_as_2_6_writes_them() {
        if Tm::of(UNIX_EPOCH, false).gmtoff != 0 {
            eprintln!("SKIP: local time zone is not UTC");
            return;
        }
        let r = record();
        assert_eq!(
            line(HTTP_LOG, &r, true),
            "127.0.0.1:37528 [25/Nov/2026:08:57:46.116] f_httplog be_http/s1 0/0/5/0/5 200 144 - - ---- 1/1/0/0/0 0/0 \"GET /p18101?q=1 HTTP/1.1\""
        );
        assert_eq!(
            line(CLF_LOG, &r, true),
            "127.0.0.1 - - [25/Nov/2026:08:57:46 +0000] \"GET /p18101?q=1 HTTP/1.1\" 200 144 \"\" \"\" 37528 116 \"f_httplog\" \"be_http\" \"s1\" 0 0 5 0 5 ---- 1 1 0 0 0 0 0 \"\" \"\" "
        );
        let mut bad = Record::new("f", r.src, r.dst, r.accept);
        bad.status = 400;
        bad.term = *b"CR";
        bad.t.active = 3;
        assert_eq!(
            line(HTTP_LOG, &bad, true),
            "127.0.0.1:37528 [25/Nov/2026:08:57:46.116] f f/<NOSRV> -1/-1/-1/-1/3 400 0 - - CR-- 0/0/0/0/0 0/0 \"<BADREQ>\""
        );
        let mut tcp = record();
        tcp.t.queue = 1;
        tcp.t.connect = 0;
        tcp.t.total = 8;
        tcp.bytes_out = 179;
        assert_eq!(
            line(TCP_LOG, &tcp, true),
            "127.0.0.1:37528 [25/Nov/2026:08:57:46.116] f_httplog be_http/s1 1/0/8 179 -- 1/1/0/0/0 0/0"
        );
    }

    #[test]
    fn flags_and_captures() {
        let mut r = record();
        r.req_caps = vec![Some(b"a|b".to_vec()), None];
        assert_eq!(line("%hr %{+Q}b", &r, true), "{a#7Cb|} \"be_http\"");
        assert_eq!(line("%{+X}ci:%{+X}cp", &r, false), "7F000001:9298");
        assert_eq!(line("%{+Q}o %f %{-Q}b", &r, true), "\"f_httplog\" be_http");
        assert_eq!(line("%{+Q,+E}r", &r, false), "\"GET /p18101?q=1 HTTP/1.1\"");
        assert_eq!(
            line("%HM %HP %HQ %HV", &r, false),
            "GET /p18101 ?q=1 HTTP/1.1"
        );
        // Empty fields do not double the separators of log-format.
        r.req_caps.clear();
        assert_eq!(line("a %hr %hs b", &r, true), "a b");
        assert_eq!(line("a %hr %hs b", &r, false), "a   b");
    }
}
