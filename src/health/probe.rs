//! Runs one check: the rules of a `CheckSpec` against one server (connect,
//! send, expect), within HAProxy's check timeouts, and words the outcome
//! the way 2.6 does (status, code, info text, duration).
use super::proto::{self, CustomVerdict};
use super::spec::{Action, CheckSpec, Connect, Custom, Expect, Family, Matcher, Rule};
use super::status::{Outcome, Status};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::time::Instant;

/// Where and how a server is checked.
#[derive(Clone, Debug)]
pub struct Target {
    /// The check address (`addr`, else the server's).
    pub ip: IpAddr,
    /// The check port (`port`, else the server's); 0 when it has none.
    pub port: u16,
    pub source: Option<SocketAddr>,
    /// The PROXY header the server's checks send (`check-send-proxy`, or
    /// the server's own `send-proxy[-v2]` without `port`/`addr`).
    pub proxy: Option<ProxyVersion>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProxyVersion {
    V1,
    V2,
}

/// The timeouts of one check, in milliseconds (0 = unset).
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// `inter`: the whole check's limit without `timeout check`.
    pub inter: u64,
    pub connect: u64,
    /// `timeout check`: the limit once connected.
    pub check: u64,
    /// The most bytes a reply is read to (`tune.bufsize`).
    pub bufsize: usize,
}

/// What the server's state means for the verdict: a 404 only stops a
/// server with `disable-on-404` when it is not down already.
#[derive(Clone, Debug, Default)]
pub struct Context {
    pub server_stopped: bool,
    /// `send-state`: the `x-haproxy-server-state` header line to send.
    pub state_header: Option<String>,
}

/// Runs the check; the outcome's duration is filled in.
pub async fn run(spec: &CheckSpec, t: &Target, lim: &Limits, cx: Context) -> Outcome {
    let start = Instant::now();
    let mut run = Run {
        spec,
        t,
        lim,
        cx,
        deadline: start + Duration::from_millis(lim.inter.max(1)),
        conn: None,
        buf: Vec::new(),
        eof: false,
        code: 0,
    };
    let mut out = run.rules().await;
    out.duration_ms = Some(start.elapsed().as_millis() as u64);
    out
}

struct Run<'a> {
    spec: &'a CheckSpec,
    t: &'a Target,
    lim: &'a Limits,
    cx: Context,
    /// When the check times out.
    deadline: Instant,
    conn: Option<Conn>,
    /// What the server sent since the last send.
    buf: Vec<u8>,
    eof: bool,
    /// The layer 7 code (HTTP status, SMTP reply code).
    code: i32,
}

/// A check connection: a plain socket until something is to be sent or
/// read (a connect-only check never involves the event loop when the
/// answer is immediate, as on loopback), then a tokio stream.
enum Conn {
    Raw(socket2::Socket),
    Io(TcpStream),
}

/// Whether a connecting socket already has its answer (writable or in
/// error), without waiting.
fn ready_now(sock: &socket2::Socket) -> bool {
    use std::os::fd::AsRawFd;
    let mut p = libc::pollfd {
        fd: sock.as_raw_fd(),
        events: libc::POLLOUT,
        revents: 0,
    };
    // SAFETY: poll(2) on one pollfd for the socket `sock` owns, which
    // stays open for the call; a zero timeout never blocks.
    let n = unsafe { libc::poll(&mut p, 1, 0) };
    n == 1 && p.revents != 0
}

/// Why reading or writing stopped.
enum IoStop {
    Timeout,
    Error(std::io::Error),
}

impl Run<'_> {
    async fn rules(&mut self) -> Outcome {
        let rules = &self.spec.rules;
        for (i, rule) in rules.iter().enumerate() {
            let last = i + 1 == rules.len();
            let step = match &rule.action {
                Action::Comment => Ok(()),
                Action::Connect(c) => self.connect(rule, c).await,
                Action::Send(data) => self.send(rule, data).await,
                Action::SendHttp(req) => {
                    let bytes = req.encode_with(self.cx.state_header.as_deref());
                    self.send(rule, &bytes).await
                }
                Action::SendSslHello => {
                    let now = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |d| d.as_secs() as u32);
                    self.send(rule, &proto::ssl_hello(now)).await
                }
                Action::Expect(e) => match self.expect(rule, e).await {
                    Ok(Some(done)) => return done,
                    Ok(None) if last => return self.passed_on(rule, e),
                    Ok(None) => Ok(()),
                    Err(o) => Err(o),
                },
            };
            if let Err(o) = step {
                return o;
            }
        }
        // Every rule passed; the last one decides the wording.
        match rules.last().map(|r| &r.action) {
            Some(Action::Connect(c)) if c.implicit => Outcome::new(Status::L4Ok, ""),
            Some(Action::Connect(_)) => Outcome::new(Status::L4Ok, "(tcp-check)"),
            _ => {
                let mut o = Outcome::new(Status::L7Ok, "(tcp-check)");
                o.code = self.code;
                o
            }
        }
    }

    /// The outcome when the last rule, an expect, passed.
    fn passed_on(&self, _rule: &Rule, e: &Expect) -> Outcome {
        let desc = match &e.on_success {
            Some(info) => info.render(&self.buf),
            None if self.spec.family == Family::TcpCheck => "(tcp-check)".into(),
            None => String::new(),
        };
        let mut o = Outcome::new(e.ok_status.unwrap_or(Status::L7Ok), desc);
        o.code = self.code;
        o
    }

    /// ` at step N of tcp-check (...)`: only plain tcp-check rulesets
    /// name the failing step.
    fn where_(&self, rule: &Rule) -> String {
        if self.spec.family != Family::TcpCheck {
            return String::new();
        }
        if rule.step == 0 {
            return " at initial connection step of tcp-check".into();
        }
        let mut s = format!(" at step {} of tcp-check", rule.step);
        match &rule.action {
            Action::Connect(c) => match c.port {
                Some(p) => s.push_str(&format!(" (connect port {p})")),
                None => s.push_str(" (connect)"),
            },
            Action::Expect(e) => s.push_str(&match &e.matcher {
                Matcher::String(p) => format!(" (expect string '{}')", String::from_utf8_lossy(p)),
                Matcher::Binary(p) => format!(" (expect binary '{}')", dump_binary(p)),
                Matcher::Rstring(_) => " (expect regex)".into(),
                Matcher::Rbinary(_) => " (expect binary regex)".into(),
                Matcher::HttpStatus(_) => " (expect HTTP status codes)".into(),
                Matcher::HttpRstatus(_) => " (expect HTTP status regex)".into(),
                Matcher::HttpBody(p) => format!(
                    " (expect HTTP body content '{}')",
                    String::from_utf8_lossy(p)
                ),
                Matcher::HttpRbody(_) => " (expect HTTP body regex)".into(),
                Matcher::HttpHeader { .. } => " (expect HTTP header pattern)".into(),
                Matcher::Custom(_) => " (expect custom function)".into(),
            }),
            Action::Send(_) | Action::SendHttp(_) | Action::SendSslHello => s.push_str(" (send)"),
            Action::Comment => {}
        }
        if let Some(c) = &rule.comment {
            s.push_str(&format!(" comment: '{c}'"));
        }
        s
    }

    fn io_failure(&self, rule: &Rule, stop: IoStop, connected: bool) -> Outcome {
        let at = self.where_(rule);
        match stop {
            IoStop::Timeout if !connected => Outcome::new(Status::L4Tout, at),
            IoStop::Timeout => {
                let st = match &rule.action {
                    Action::Expect(e) => e.tout_status.unwrap_or(Status::L7Tout),
                    _ => Status::L7Tout,
                };
                Outcome::new(st, at)
            }
            IoStop::Error(e) if !connected => {
                Outcome::new(Status::L4Con, format!("{}{at}", strerror(&e)))
            }
            IoStop::Error(e) => Outcome::new(Status::SockErr, format!("{}{at}", strerror(&e))),
        }
    }

    async fn connect(&mut self, rule: &Rule, c: &Connect) -> Result<(), Outcome> {
        self.conn = None;
        self.buf.clear();
        self.eof = false;
        let port = c.port.unwrap_or(self.t.port);
        let ip = c.addr.unwrap_or(self.t.ip);
        let target = SocketAddr::new(ip, port);
        // With `timeout check`, connecting is limited by the shorter of
        // `timeout connect` and `inter`.
        let mut limit = self.deadline;
        if self.lim.check > 0 && self.lim.connect > 0 {
            limit = limit.min(Instant::now() + Duration::from_millis(self.lim.connect));
        }
        let started = async {
            let domain = if target.is_ipv4() {
                socket2::Domain::IPV4
            } else {
                socket2::Domain::IPV6
            };
            let sock = socket2::Socket::new(
                domain,
                socket2::Type::STREAM.nonblocking(),
                Some(socket2::Protocol::TCP),
            )?;
            // HAProxy resets check connections unless told to linger.
            if !c.linger {
                sock.set_linger(Some(Duration::ZERO))?;
            }
            if let Some(src) = self.t.source {
                sock.bind(&src.into())?;
            }
            match sock.connect(&target.into()) {
                Ok(()) => return Ok(Conn::Raw(sock)),
                Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
                Err(e) => return Err(e),
            }
            // Loopback and near servers have answered already.
            if ready_now(&sock) {
                return match sock.take_error()? {
                    Some(e) => Err(e),
                    None => Ok(Conn::Raw(sock)),
                };
            }
            let s = TcpStream::from_std(std::net::TcpStream::from(sock))?;
            s.writable().await?;
            match s.take_error()? {
                Some(e) => Err(e),
                None => Ok(Conn::Io(s)),
            }
        };
        let conn = match tokio::time::timeout_at(limit, started).await {
            Err(_) => return Err(self.io_failure(rule, IoStop::Timeout, false)),
            Ok(Err(e)) => return Err(self.io_failure(rule, IoStop::Error(e), false)),
            Ok(Ok(s)) => s,
        };
        if self.lim.check > 0 {
            self.deadline = Instant::now() + Duration::from_millis(self.lim.check);
        }
        let proxy = if c.send_proxy {
            Some(self.t.proxy.unwrap_or(ProxyVersion::V1))
        } else if c.default {
            self.t.proxy
        } else {
            None
        };
        self.conn = Some(conn);
        if let Some(v) = proxy {
            let header = match (v, self.stream(rule)?) {
                (ProxyVersion::V2, _) => PROXY_V2_LOCAL.to_vec(),
                (ProxyVersion::V1, s) => match (s.local_addr(), s.peer_addr()) {
                    (Ok(l), Ok(p)) => crate::tcp::proxy_proto::v1(l, p),
                    _ => b"PROXY UNKNOWN\r\n".to_vec(),
                },
            };
            self.write(rule, &header).await?;
        }
        Ok(())
    }

    /// The connection as a tokio stream (registered with the event loop
    /// on first use).
    fn stream(&mut self, rule: &Rule) -> Result<&TcpStream, Outcome> {
        match self.conn.take() {
            Some(Conn::Raw(sock)) => match TcpStream::from_std(std::net::TcpStream::from(sock)) {
                Ok(s) => self.conn = Some(Conn::Io(s)),
                Err(e) => return Err(self.io_failure(rule, IoStop::Error(e), true)),
            },
            other => self.conn = other,
        }
        match &self.conn {
            Some(Conn::Io(s)) => Ok(s),
            _ => Err(Outcome::new(Status::SockErr, self.where_(rule))),
        }
    }

    async fn write(&mut self, rule: &Rule, mut data: &[u8]) -> Result<(), Outcome> {
        let deadline = self.deadline;
        let s = self.stream(rule)?;
        // Small writes go at once (a PROXY header, then a request).
        let _ = s.set_nodelay(true);
        while !data.is_empty() {
            let step = async {
                s.writable().await?;
                match s.try_write(data) {
                    Ok(n) => Ok(n),
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Ok(0),
                    Err(e) => Err(e),
                }
            };
            match tokio::time::timeout_at(deadline, step).await {
                Err(_) => return Err(self.io_failure(rule, IoStop::Timeout, true)),
                Ok(Err(e)) => return Err(self.io_failure(rule, IoStop::Error(e), true)),
                Ok(Ok(n)) => data = &data[n..],
            }
        }
        Ok(())
    }

    async fn send(&mut self, rule: &Rule, data: &[u8]) -> Result<(), Outcome> {
        // Replies are judged from what follows the last send.
        self.buf.clear();
        self.write(rule, data).await
    }

    /// Reads more of the reply; Ok(false) at its end (or a full buffer).
    async fn read_more(&mut self, rule: &Rule) -> Result<bool, Outcome> {
        if self.eof || self.buf.len() >= self.lim.bufsize {
            return Ok(false);
        }
        let deadline = self.deadline;
        let room = self.lim.bufsize - self.buf.len();
        if self.conn.is_none() {
            self.eof = true;
            return Ok(false);
        }
        let s = self.stream(rule)?;
        let mut chunk = [0u8; 4096];
        let want = room.min(chunk.len());
        let step = async {
            loop {
                s.readable().await?;
                match s.try_read(&mut chunk[..want]) {
                    Ok(n) => return Ok(n),
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
                    Err(e) => return Err(e),
                }
            }
        };
        match tokio::time::timeout_at(deadline, step).await {
            Err(_) => Err(self.io_failure(rule, IoStop::Timeout, true)),
            Ok(Err(e)) => Err(self.io_failure(rule, IoStop::Error(e), true)),
            Ok(Ok(0)) => {
                self.eof = true;
                Ok(false)
            }
            Ok(Ok(n)) => {
                self.buf.extend_from_slice(&chunk[..n]);
                Ok(true)
            }
        }
    }

    /// Ok(None): passed; Ok(Some(outcome)): the check ends here (a
    /// conditional pass); Err: failed.
    async fn expect(&mut self, rule: &Rule, e: &Expect) -> Result<Option<Outcome>, Outcome> {
        loop {
            let done = self.eof || self.buf.len() >= self.lim.bufsize;
            self.record_code(e);
            match self.judge(rule, e, done) {
                Judged::Wait if !done => {
                    self.read_more(rule).await?;
                }
                // Nothing more will come: judge what is there.
                Judged::Wait => {
                    return match self.judge(rule, e, true) {
                        Judged::Wait => Err(self.fail(rule, e, Status::L7Rsp, String::new())),
                        other => self.conclude(rule, e, other),
                    }
                }
                other => return self.conclude(rule, e, other),
            }
        }
    }

    /// The check's code: an HTTP check's response status, or the number
    /// starting the reply (`smtpchk`).
    fn record_code(&mut self, e: &Expect) {
        if self.spec.family == Family::Http {
            if let HeadParse::Head(h) = parse_head(&self.buf) {
                self.code = i32::from(h.status);
            }
        } else if e.code_from_reply {
            self.code = self
                .buf
                .get(..3)
                .and_then(|d| std::str::from_utf8(d).ok())
                .and_then(|d| d.parse().ok())
                .unwrap_or(0);
        }
    }

    fn conclude(&self, rule: &Rule, e: &Expect, j: Judged) -> Result<Option<Outcome>, Outcome> {
        match j {
            Judged::Pass => Ok(None),
            Judged::Final(o) => Ok(Some(o)),
            Judged::Fail(status, desc) => Err(self.fail(rule, e, status, desc)),
            Judged::Wait => Err(self.fail(rule, e, Status::L7Rsp, String::new())),
        }
    }

    /// The failure outcome: `desc` (else `on-error`, else for tcp-check the
    /// generic text), then the rule's comment.
    fn fail(&self, rule: &Rule, e: &Expect, status: Status, desc: String) -> Outcome {
        let mut desc = if !desc.is_empty() {
            desc
        } else if let Some(info) = &e.on_error {
            info.render(&self.buf)
        } else {
            String::new()
        };
        if let Some(c) = &rule.comment {
            desc.push_str(" comment: ");
            desc.push_str(c);
        }
        let mut o = Outcome::new(status, desc);
        o.code = self.code;
        o
    }

    fn judge(&self, rule: &Rule, e: &Expect, done: bool) -> Judged {
        if self.spec.family == Family::Http {
            return self.judge_http(e, done);
        }
        let err = e.error_status.unwrap_or(Status::L7Rsp);
        if self.buf.is_empty() {
            if !done {
                return Judged::Wait;
            }
            let mut d = format!("TCPCHK got an empty response at step {}", rule.step);
            if let Some(c) = &rule.comment {
                d.push_str(&format!(" comment: '{c}'"));
            }
            // Returned as is: no on-error text, no second comment.
            return Judged::Final(Outcome {
                status: err,
                code: self.code,
                desc: d,
                duration_ms: None,
            });
        }
        if let Matcher::Custom(c) = &e.matcher {
            return match proto::judge(*c, &self.buf, done) {
                CustomVerdict::Wait => Judged::Wait,
                CustomVerdict::Pass => Judged::Pass,
                CustomVerdict::Fail { status, code, desc } => Judged::Final(Outcome {
                    status,
                    code,
                    desc,
                    duration_ms: None,
                }),
            };
        }
        let need = match (&e.matcher, e.min_recv) {
            (Matcher::String(p) | Matcher::Binary(p), Some(m)) => m.min(p.len()),
            (_, Some(m)) => m,
            _ => 0,
        };
        if self.buf.len() < need && !done {
            return Judged::Wait;
        }
        let found = match &e.matcher {
            Matcher::String(p) | Matcher::Binary(p) => contains(&self.buf, p),
            Matcher::Rstring(r) => r.is_match(&self.buf),
            Matcher::Rbinary(r) => r.is_match(&hex(&self.buf)),
            _ => false,
        };
        if found != e.negate {
            return Judged::Pass;
        }
        // No match yet: without min-recv, more data may still bring one.
        if !found && !done && e.min_recv.is_none() {
            return Judged::Wait;
        }
        let desc = if e.on_error.is_some() || self.spec.family != Family::TcpCheck {
            String::new()
        } else {
            let what = match &e.matcher {
                Matcher::String(p) => format!(" '{}'", String::from_utf8_lossy(p)),
                Matcher::Binary(_) => " (binary)".into(),
                Matcher::Rstring(_) => " (regex)".into(),
                Matcher::Rbinary(_) => " (binary regex)".into(),
                _ => String::new(),
            };
            let verb = if found {
                "TCPCHK matched unwanted content"
            } else {
                "TCPCHK did not match content"
            };
            format!("{verb}{what} at step {}", rule.step)
        };
        Judged::Fail(err, desc)
    }

    fn judge_http(&self, e: &Expect, done: bool) -> Judged {
        let head = match parse_head(&self.buf) {
            HeadParse::Partial if !done => return Judged::Wait,
            HeadParse::Partial | HeadParse::Bad => {
                return Judged::Fail(Status::L7Rsp, String::new())
            }
            HeadParse::Head(h) => h,
        };
        if self.spec.disable_on_404 && !self.cx.server_stopped && head.status == 404 {
            let mut o = Outcome::new(Status::L7OkC, "");
            o.code = 404;
            return Judged::Final(o);
        }
        let status_fail = || Judged::Fail(Status::L7Sts, head.reason.clone());
        match &e.matcher {
            Matcher::Custom(Custom::HttpDefault) => {
                if (200..400).contains(&head.status) {
                    Judged::Pass
                } else {
                    status_fail()
                }
            }
            Matcher::HttpStatus(ranges) => {
                let m = ranges.iter().any(|(a, b)| (*a..=*b).contains(&head.status));
                if m != e.negate {
                    Judged::Pass
                } else {
                    status_fail()
                }
            }
            Matcher::HttpRstatus(r) => {
                if r.is_match(&head.status.to_string()) != e.negate {
                    Judged::Pass
                } else {
                    status_fail()
                }
            }
            Matcher::HttpHeader { full, name, value } => {
                let m = head.headers.iter().any(|(n, v)| {
                    name.matches(n, true)
                        && value.as_ref().is_none_or(|p| {
                            if *full {
                                p.matches(v, false)
                            } else {
                                v.split(',').any(|e| p.matches(e.trim(), false))
                            }
                        })
                });
                if m != e.negate {
                    Judged::Pass
                } else {
                    status_fail()
                }
            }
            Matcher::HttpBody(_) | Matcher::HttpRbody(_) => {
                let Some(body) = head.body(&self.buf, done) else {
                    return Judged::Wait;
                };
                let m = match &e.matcher {
                    Matcher::HttpBody(p) => contains(&body, p),
                    Matcher::HttpRbody(r) => r.is_match(&body),
                    _ => false,
                };
                if m != e.negate {
                    Judged::Pass
                } else if m {
                    Judged::Fail(Status::L7Rsp, "HTTP check matched unwanted content".into())
                } else {
                    Judged::Fail(Status::L7Rsp, "HTTP content check did not match".into())
                }
            }
            _ => Judged::Fail(Status::L7Rsp, String::new()),
        }
    }
}

enum Judged {
    Wait,
    Pass,
    /// Failed: the status and the info text (empty: use `on-error`).
    Fail(Status, String),
    /// The check ends with this outcome (a conditional pass, or a failure
    /// worded in full).
    Final(Outcome),
}

/// The PROXY v2 header of a check: the LOCAL command, no addresses.
const PROXY_V2_LOCAL: &[u8] = b"\r\n\r\n\x00\r\nQUIT\n\x20\x00\x00\x00";

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
}

/// Bytes as 2.6 shows a binary pattern: printable ones as they are,
/// others as `<XX>`, up to the first NUL.
fn dump_binary(b: &[u8]) -> String {
    b.iter()
        .take_while(|c| **c != 0)
        .map(|c| {
            if (0x20..0x7f).contains(c) {
                (*c as char).to_string()
            } else {
                format!("<{c:02X}>")
            }
        })
        .collect()
}

/// Upper-case hexadecimal (what `rbinary` patterns are matched against).
pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02X}")).collect()
}

/// `strerror(errno)` for an I/O error (without Rust's `(os error N)`).
pub fn strerror(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.rfind(" (os error ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

struct Head {
    status: u16,
    reason: String,
    headers: Vec<(String, String)>,
    body_start: usize,
    framing: Framing,
}

enum Framing {
    Length(usize),
    Chunked,
    UntilClose,
}

enum HeadParse {
    Partial,
    Bad,
    Head(Head),
}

fn parse_head(buf: &[u8]) -> HeadParse {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut res = httparse::Response::new(&mut headers);
    let n = match res.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return HeadParse::Partial,
        Err(_) => return HeadParse::Bad,
    };
    let status = res.code.unwrap_or(0);
    let reason = res.reason.unwrap_or("").to_string();
    let mut framing = Framing::UntilClose;
    for h in res.headers.iter() {
        if h.name.eq_ignore_ascii_case("transfer-encoding")
            && String::from_utf8_lossy(h.value)
                .to_ascii_lowercase()
                .contains("chunked")
        {
            framing = Framing::Chunked;
        } else if h.name.eq_ignore_ascii_case("content-length")
            && !matches!(framing, Framing::Chunked)
        {
            match std::str::from_utf8(h.value)
                .ok()
                .and_then(|v| v.trim().parse().ok())
            {
                Some(l) => framing = Framing::Length(l),
                None => return HeadParse::Bad,
            }
        }
    }
    if status == 204 || status == 304 || (100..200).contains(&status) {
        framing = Framing::Length(0);
    }
    HeadParse::Head(Head {
        status,
        reason,
        headers: res
            .headers
            .iter()
            .map(|h| {
                (
                    h.name.to_string(),
                    String::from_utf8_lossy(h.value).into_owned(),
                )
            })
            .collect(),
        body_start: n,
        framing,
    })
}

impl Head {
    /// The body once complete (or when no more will come: what arrived).
    fn body(&self, buf: &[u8], done: bool) -> Option<Vec<u8>> {
        let rest = &buf[self.body_start.min(buf.len())..];
        match self.framing {
            Framing::Length(n) if rest.len() >= n => Some(rest[..n].to_vec()),
            Framing::Length(_) | Framing::UntilClose => done.then(|| rest.to_vec()),
            Framing::Chunked => match dechunk(rest) {
                Some(b) => Some(b),
                None => done.then(|| rest.to_vec()),
            },
        }
    }
}

/// A complete chunked body, decoded; None while incomplete.
fn dechunk(mut b: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let eol = b.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&b[..eol]).ok()?;
        let size_text = size_text.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16).ok()?;
        b = &b[eol + 2..];
        if size == 0 {
            return Some(out);
        }
        if b.len() < size + 2 {
            return None;
        }
        out.extend_from_slice(&b[..size]);
        b = &b[size + 2..];
    }
}
