//! A backend's compiled health check: the rule list its checks run
//! (connect, send, expect), built from `option httpchk|tcp-check|...`,
//! `http-check` and `tcp-check` lines the way HAProxy 2.6 builds it, and
//! the agent check of each server. What this build cannot run is returned
//! as an error naming it; the start-up refuses it.
use super::status::Status;
use cfg_parser::ast::{Directive, Proxy};
use std::net::IpAddr;

/// Which family of ruleset a check runs: it decides the wording of the
/// messages (a plain `tcp-check` names the failing step, a protocol check
/// does not).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// No check option: a connection is the whole check.
    L4,
    /// `option tcp-check` with the user's rules.
    TcpCheck,
    /// `option httpchk`.
    Http,
    /// `option mysql-check|pgsql-check|redis-check|smtpchk|ssl-hello-chk|ldap-check`.
    Proto,
}

#[derive(Clone, Debug)]
pub struct CheckSpec {
    pub family: Family,
    pub rules: Vec<Rule>,
    /// `http-check disable-on-404`.
    pub disable_on_404: bool,
    /// `http-check send-state`: HTTP checks tell the server its state.
    pub send_state: bool,
}

impl Default for CheckSpec {
    fn default() -> Self {
        CheckSpec {
            family: Family::L4,
            rules: vec![Rule::implicit_connect()],
            disable_on_404: false,
            send_state: false,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Rule {
    /// The step number messages give (`at step N of tcp-check`): the
    /// rule's place among the written lines, from 1; 0 for the implicit
    /// first connection.
    pub step: u32,
    /// `comment <msg>`, or the text of a preceding `tcp-check comment` line.
    pub comment: Option<String>,
    pub action: Action,
}

impl Rule {
    fn implicit_connect() -> Rule {
        Rule {
            step: 0,
            comment: None,
            action: Action::Connect(Connect {
                implicit: true,
                default: true,
                ..Connect::default()
            }),
        }
    }
}

#[derive(Clone, Debug)]
pub enum Action {
    Connect(Connect),
    Send(Vec<u8>),
    SendHttp(HttpRequest),
    /// `ssl-hello-chk`'s ClientHello (it carries the current time).
    SendSslHello,
    Expect(Expect),
    /// A `comment` line: a step that does nothing.
    Comment,
}

#[derive(Clone, Debug, Default)]
pub struct Connect {
    pub port: Option<u16>,
    pub addr: Option<IpAddr>,
    pub send_proxy: bool,
    /// `linger`: close cleanly instead of with a reset.
    pub linger: bool,
    /// `default`: the server's check settings (port, addr, PROXY header).
    pub default: bool,
    /// Added because the rules did not start with a connection.
    pub implicit: bool,
}

/// The request an HTTP check sends.
#[derive(Clone, Debug)]
pub struct HttpRequest {
    pub method: String,
    pub uri: String,
    pub version: String,
    /// (name, value) as written; names are sent lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Default for HttpRequest {
    fn default() -> Self {
        HttpRequest {
            method: "OPTIONS".into(),
            uri: "/".into(),
            version: "HTTP/1.0".into(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }
}

impl HttpRequest {
    /// The bytes on the wire, as HAProxy 2.6's HTTP/1 encoder writes them:
    /// header names lower-cased, `content-length` and `connection` managed
    /// by the encoder (the configured ones are dropped), `connection: close`
    /// for HTTP/1.1 unless a Connection header was configured.
    pub fn encode(&self) -> Vec<u8> {
        self.encode_with(None)
    }

    /// The request with one more header after the configured ones
    /// (`x-haproxy-server-state` of `send-state`).
    pub fn encode_with(&self, extra: Option<&str>) -> Vec<u8> {
        let mut out = format!("{} {} {}\r\n", self.method, self.uri, self.version).into_bytes();
        let mut has_connection = false;
        for (n, v) in &self.headers {
            let lower = n.to_ascii_lowercase();
            match lower.as_str() {
                "content-length" | "transfer-encoding" => continue,
                "connection" => {
                    has_connection = true;
                    continue;
                }
                _ => {}
            }
            out.extend_from_slice(format!("{lower}: {v}\r\n").as_bytes());
        }
        if let Some(h) = extra {
            out.extend_from_slice(h.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        let m = self.method.to_ascii_uppercase();
        if !self.body.is_empty() || m == "POST" || m == "PUT" {
            out.extend_from_slice(format!("content-length: {}\r\n", self.body.len()).as_bytes());
        }
        if self.version.eq_ignore_ascii_case("HTTP/1.1") && !has_connection {
            out.extend_from_slice(b"connection: close\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&self.body);
        out
    }
}

#[derive(Clone, Debug)]
pub struct Expect {
    pub matcher: Matcher,
    pub negate: bool,
    /// `min-recv`: bytes needed before judging (None: judge what is there).
    pub min_recv: Option<usize>,
    pub ok_status: Option<Status>,
    pub error_status: Option<Status>,
    pub tout_status: Option<Status>,
    pub on_success: Option<Info>,
    pub on_error: Option<Info>,
    /// The check's code is the number starting the reply (`smtpchk`).
    pub code_from_reply: bool,
}

impl Expect {
    pub fn new(matcher: Matcher) -> Expect {
        Expect {
            matcher,
            negate: false,
            min_recv: None,
            ok_status: None,
            error_status: None,
            tout_status: None,
            on_success: None,
            on_error: None,
            code_from_reply: false,
        }
    }
}

/// A header name or value pattern and its matching method (`-m str|beg|end|sub|reg`).
#[derive(Clone, Debug)]
pub enum Pattern {
    Str(String),
    Beg(String),
    End(String),
    Sub(String),
    Reg(regex::Regex),
}

impl Pattern {
    /// `nocase`: a name pattern (header names compare without case).
    fn new(method: &str, text: String, nocase: bool) -> Option<Pattern> {
        Some(match method {
            "str" => Pattern::Str(text),
            "beg" => Pattern::Beg(text),
            "end" => Pattern::End(text),
            "sub" => Pattern::Sub(text),
            "reg" => Pattern::Reg(
                regex::RegexBuilder::new(&text)
                    .case_insensitive(nocase)
                    .build()
                    .ok()?,
            ),
            _ => return None,
        })
    }

    /// Matches `s`; header names compare without case.
    pub fn matches(&self, s: &str, nocase: bool) -> bool {
        if let Pattern::Reg(r) = self {
            return r.is_match(s);
        }
        let lower;
        let s = if nocase {
            lower = s.to_ascii_lowercase();
            lower.as_str()
        } else {
            s
        };
        let norm = |p: &str| {
            if nocase {
                p.to_ascii_lowercase()
            } else {
                p.to_string()
            }
        };
        match self {
            Pattern::Str(p) => s == norm(p),
            Pattern::Beg(p) => s.starts_with(&norm(p)),
            Pattern::End(p) => s.ends_with(&norm(p)),
            Pattern::Sub(p) => s.contains(&norm(p)),
            Pattern::Reg(r) => r.is_match(s),
        }
    }
}

/// The info text of `on-success`/`on-error`.
#[derive(Clone, Debug)]
pub enum Info {
    Text(String),
    /// The reply from byte `from`, up to the first CR, LF or NUL, leading
    /// spaces removed when `ltrim`.
    Payload {
        from: usize,
        ltrim: bool,
    },
}

impl Info {
    pub fn payload(from: usize, ltrim: bool) -> Info {
        Info::Payload { from, ltrim }
    }

    pub fn render(&self, reply: &[u8]) -> String {
        match self {
            Info::Text(t) => t.clone(),
            Info::Payload { from, ltrim } => {
                let mut b = reply.get(*from..).unwrap_or_default();
                if *ltrim {
                    while b.first() == Some(&b' ') {
                        b = &b[1..];
                    }
                }
                let end = b
                    .iter()
                    .position(|c| matches!(c, b'\r' | b'\n' | 0))
                    .unwrap_or(b.len());
                String::from_utf8_lossy(&b[..end]).into_owned()
            }
        }
    }
}

#[derive(Clone, Debug)]
pub enum Matcher {
    String(Vec<u8>),
    Rstring(regex::bytes::Regex),
    Binary(Vec<u8>),
    /// Matched on the hexadecimal (upper-case) form of the data.
    Rbinary(regex::Regex),
    /// HTTP status in one of these ranges (inclusive).
    HttpStatus(Vec<(u16, u16)>),
    HttpRstatus(regex::Regex),
    HttpBody(Vec<u8>),
    HttpRbody(regex::bytes::Regex),
    /// A response header by name (case-insensitive), and optionally its
    /// value: each comma-separated element (`hdr`) or the whole (`fhdr`).
    HttpHeader {
        full: bool,
        name: Pattern,
        value: Option<Pattern>,
    },
    /// A protocol's own verdict (mysql handshake, LDAP bind answer...).
    Custom(Custom),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Custom {
    MysqlHandshake,
    MysqlOk,
    LdapBind,
    /// The implicit expect of an HTTP check: a 2xx or 3xx status.
    HttpDefault,
}

/// The agent check of a server (`agent-check`).
#[derive(Clone, Debug)]
pub struct AgentSpec {
    pub addr: Option<IpAddr>,
    pub port: u16,
    pub inter_ms: u64,
    pub send: Vec<u8>,
}

/// The words of a directive after `skip` of them.
fn args(d: &Directive, skip: usize) -> Vec<String> {
    d.rest(skip).map(str::to_string).collect()
}

/// The check option in force for a proxy (the last one written, in its
/// defaults section then in itself), with its arguments and whether the
/// proxy wrote it itself.
fn check_option(p: &Proxy, defaults: Option<&Proxy>) -> Option<(String, Vec<String>, bool)> {
    const KINDS: &[&str] = &[
        "httpchk",
        "tcp-check",
        "mysql-check",
        "pgsql-check",
        "redis-check",
        "smtpchk",
        "ssl-hello-chk",
        "ldap-check",
        "spop-check",
        "external-check",
    ];
    let mut cur: Option<(String, Vec<String>, bool)> = None;
    let sources = defaults
        .into_iter()
        .map(|d| (d, false))
        .chain(std::iter::once((p, true)));
    for (src, own) in sources {
        for d in &src.directives {
            match (d.word(0), d.word(1)) {
                ("option", k) if KINDS.contains(&k) => {
                    cur = Some((k.to_string(), args(d, 2), own));
                }
                ("no", "option") if cur.as_ref().is_some_and(|c| c.0 == d.word(2)) => cur = None,
                _ => {}
            }
        }
    }
    cur
}

/// Whether a flag-like `http-check` line (`disable-on-404`, `send-state`)
/// is in force: written in the proxy or in its defaults.
fn http_check_flag(p: &Proxy, defaults: Option<&Proxy>, flag: &str) -> bool {
    defaults
        .into_iter()
        .chain(std::iter::once(p))
        .flat_map(|s| &s.directives)
        .any(|d| d.word(0) == "http-check" && d.word(1) == flag)
}

/// The rule lines (`tcp-check ...` or `http-check ...` other than the
/// flags) of a section.
fn rule_lines<'a>(p: &'a Proxy, kw: &str) -> Vec<&'a Directive> {
    p.directives
        .iter()
        .filter(|d| d.word(0) == kw && !matches!(d.word(1), "disable-on-404" | "send-state"))
        .collect()
}

/// Compiles the health check of backend `p` (whose defaults section is
/// `defaults`). Err names what this build cannot run.
pub fn compile(p: &Proxy, defaults: Option<&Proxy>) -> Result<CheckSpec, String> {
    let send_state = http_check_flag(p, defaults, "send-state");
    let disable_on_404 = http_check_flag(p, defaults, "disable-on-404");
    let Some((kind, opt_args, own)) = check_option(p, defaults) else {
        return Ok(CheckSpec {
            disable_on_404,
            send_state,
            ..CheckSpec::default()
        });
    };
    let mut spec = match kind.as_str() {
        "tcp-check" => {
            // The proxy's own rules, else its defaults'.
            let mut lines = rule_lines(p, "tcp-check");
            if lines.is_empty() {
                if let Some(d) = defaults {
                    lines = rule_lines(d, "tcp-check");
                }
            }
            CheckSpec {
                family: Family::TcpCheck,
                rules: tcp_rules(&lines)?,
                disable_on_404,
                send_state,
            }
        }
        "httpchk" => {
            // As 2.6: a proxy with http-check rules of its own uses them
            // alone (a request line inherited from its defaults' `option
            // httpchk` is not merged in); without any, the defaults' rules.
            let own_lines = rule_lines(p, "http-check");
            let (base, lines) = if own {
                (Some(option_request(&opt_args)?), own_lines)
            } else if !own_lines.is_empty() {
                (None, own_lines)
            } else {
                let d_lines = defaults.map(|d| rule_lines(d, "http-check"));
                (
                    Some(option_request(&opt_args)?),
                    d_lines.unwrap_or_default(),
                )
            };
            CheckSpec {
                family: Family::Http,
                rules: http_rules(base, &lines)?,
                disable_on_404,
                send_state,
            }
        }
        "mysql-check" | "pgsql-check" | "redis-check" | "smtpchk" | "ssl-hello-chk"
        | "ldap-check" => CheckSpec {
            family: Family::Proto,
            rules: super::proto::ruleset(&kind, &opt_args)?,
            disable_on_404,
            send_state,
        },
        other => return Err(format!("'option {other}'")),
    };
    number_steps(&mut spec.rules);
    Ok(spec)
}

/// Gives the rules their step numbers and lets `comment` lines name the
/// rule that follows them.
fn number_steps(rules: &mut [Rule]) {
    let mut step = 0;
    let mut pending: Option<String> = None;
    for r in rules.iter_mut() {
        if matches!(&r.action, Action::Connect(c) if c.implicit) {
            r.step = 0;
            continue;
        }
        step += 1;
        r.step = step;
        if matches!(r.action, Action::Comment) {
            pending = r.comment.clone();
        } else if r.comment.is_none() {
            r.comment = pending.take();
        } else {
            pending = None;
        }
    }
}

/// `option httpchk [<method>] [<uri>] [<version>]` (one word: the URI).
/// Headers hidden after the version (`HTTP/1.1\r\nHost:\ www`) are
/// honoured as 2.6 does.
fn option_request(words: &[String]) -> Result<HttpRequest, String> {
    let mut r = HttpRequest::default();
    match words {
        [] => {}
        [uri] => r.uri = uri.clone(),
        [meth, uri] => {
            r.method = meth.clone();
            r.uri = uri.clone();
        }
        [meth, uri, ver, ..] => {
            r.method = meth.clone();
            r.uri = uri.clone();
            let mut parts = ver.split("\r\n");
            r.version = parts.next().unwrap_or("").to_string();
            for line in parts {
                if line.is_empty() {
                    continue;
                }
                let Some((n, v)) = line.split_once(':') else {
                    return Err(format!("'option httpchk' header line '{line}'"));
                };
                r.headers.push((n.trim().to_string(), v.trim().to_string()));
            }
        }
    }
    Ok(r)
}

/// A value that would need log-format evaluation (`%[...]`, `%v`...).
fn is_logformat(v: &str) -> bool {
    v.contains('%')
}

/// `http-check connect|send|expect|comment` lines on top of the request
/// `base` from `option httpchk`, completed as 2.6 does: a first
/// connection when the rules do not start with one, the option's request
/// merged into the first `send` (or sent first when there is none), and a
/// final 2xx/3xx expect after a send without one.
fn http_rules(base: Option<HttpRequest>, lines: &[&Directive]) -> Result<Vec<Rule>, String> {
    let mut rules = Vec::new();
    let mut base = base;
    for d in lines {
        let sub = d.word(1);
        let mut comment = None;
        let action = match sub {
            "comment" => {
                comment = Some(d.word(2).to_string());
                Action::Comment
            }
            "connect" => Action::Connect(connect_opts(d, &mut comment, "http-check")?),
            "send" => {
                let mut req = base.take().unwrap_or_default();
                let w = args(d, 2);
                let mut i = 0;
                while i < w.len() {
                    let v = w.get(i + 1).cloned().unwrap_or_default();
                    match w[i].as_str() {
                        "meth" => req.method = v,
                        "uri" => req.uri = v,
                        "uri-lf" if !is_logformat(&v) => req.uri = v,
                        "ver" => req.version = v,
                        "hdr" => {
                            let value = w.get(i + 2).cloned().unwrap_or_default();
                            if is_logformat(&value) {
                                return Err(format!(
                                    "'http-check send' header value '{value}' (log-format)"
                                ));
                            }
                            req.headers.push((v, value));
                            i += 1;
                        }
                        "body" => req.body = v.into_bytes(),
                        "body-lf" if !is_logformat(&v) => req.body = v.into_bytes(),
                        "comment" => comment = Some(v),
                        other => return Err(format!("'http-check send' option '{other}'")),
                    }
                    i += 2;
                }
                Action::SendHttp(req)
            }
            "expect" => Action::Expect(expect(d, true, &mut comment)?),
            other => return Err(format!("'http-check {other}'")),
        };
        rules.push(Rule {
            step: 0,
            comment,
            action,
        });
    }
    // The option's request, when no `http-check send` took it, goes first.
    if let Some(req) = base {
        let at = rules
            .iter()
            .position(|r| !matches!(r.action, Action::Comment))
            .map_or(rules.len(), |i| {
                i + usize::from(matches!(rules[i].action, Action::Connect(_)))
            });
        rules.insert(
            at,
            Rule {
                step: 0,
                comment: None,
                action: Action::SendHttp(req),
            },
        );
    }
    let needs_expect = rules
        .iter()
        .rev()
        .find(|r| matches!(r.action, Action::SendHttp(_) | Action::Expect(_)))
        .is_some_and(|r| matches!(r.action, Action::SendHttp(_)));
    if needs_expect {
        rules.push(Rule {
            step: 0,
            comment: None,
            action: Action::Expect(Expect::new(Matcher::Custom(Custom::HttpDefault))),
        });
    }
    prepend_connect(&mut rules);
    Ok(rules)
}

/// An implicit first connection unless the first real rule is one.
pub(super) fn prepend_connect(rules: &mut Vec<Rule>) {
    let first = rules.iter().find(|r| !matches!(r.action, Action::Comment));
    if !matches!(first.map(|r| &r.action), Some(Action::Connect(_))) {
        rules.insert(0, Rule::implicit_connect());
    }
}

/// `tcp-check connect|send|send-binary|expect|comment` lines.
fn tcp_rules(lines: &[&Directive]) -> Result<Vec<Rule>, String> {
    let mut rules = Vec::new();
    for d in lines {
        let mut comment = None;
        let trailing_comment = |d: &Directive, from: usize, comment: &mut Option<String>| {
            let w = args(d, from);
            match w.as_slice() {
                [] => Ok(()),
                [c, v] if c == "comment" => {
                    *comment = Some(v.clone());
                    Ok(())
                }
                _ => Err(format!("'tcp-check {}' option '{}'", d.word(1), w[0])),
            }
        };
        let action = match d.word(1) {
            "comment" => {
                comment = Some(d.word(2).to_string());
                Action::Comment
            }
            "connect" => Action::Connect(connect_opts(d, &mut comment, "tcp-check")?),
            "send" => {
                trailing_comment(d, 3, &mut comment)?;
                Action::Send(d.word(2).as_bytes().to_vec())
            }
            "send-binary" => {
                trailing_comment(d, 3, &mut comment)?;
                Action::Send(
                    unhex(d.word(2))
                        .ok_or_else(|| format!("'tcp-check send-binary {}'", d.word(2)))?,
                )
            }
            "expect" => Action::Expect(expect(d, false, &mut comment)?),
            other => return Err(format!("'tcp-check {other}'")),
        };
        rules.push(Rule {
            step: 0,
            comment,
            action,
        });
    }
    prepend_connect(&mut rules);
    Ok(rules)
}

/// `connect [default] [port N] [addr IP] [send-proxy] [linger] [comment C]`.
fn connect_opts(d: &Directive, comment: &mut Option<String>, kw: &str) -> Result<Connect, String> {
    let w = args(d, 2);
    let mut c = Connect::default();
    let mut i = 0;
    while i < w.len() {
        let v = w.get(i + 1).cloned().unwrap_or_default();
        match w[i].as_str() {
            "default" => c.default = true,
            "send-proxy" => c.send_proxy = true,
            "linger" => c.linger = true,
            "port" => {
                c.port = Some(
                    v.parse()
                        .ok()
                        .filter(|p| *p > 0)
                        .ok_or_else(|| format!("'{kw} connect port {v}' (an expression)"))?,
                );
                i += 1;
            }
            "addr" => {
                c.addr = Some(
                    v.parse()
                        .map_err(|_| format!("'{kw} connect addr {v}' (a name)"))?,
                );
                i += 1;
            }
            "comment" => {
                *comment = Some(v);
                i += 1;
            }
            other => return Err(format!("'{kw} connect {other}'")),
        }
        i += 1;
    }
    Ok(c)
}

/// Hex digits to bytes.
pub fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// `expect [min-recv N] [comment C] [ok-status S] [error-status S]
/// [tout-status S] [on-success T] [on-error T] [!] <match> <pattern>`.
fn expect(d: &Directive, http: bool, comment: &mut Option<String>) -> Result<Expect, String> {
    let kw = if http { "http-check" } else { "tcp-check" };
    let w = args(d, 2);
    let mut e = Expect::new(Matcher::String(Vec::new()));
    let mut i = 0;
    let status =
        |v: &str| Status::from_name(v).ok_or_else(|| format!("'{kw} expect' status '{v}'"));
    let mut matched = false;
    while let Some(word) = w.get(i) {
        let v = w.get(i + 1).cloned().unwrap_or_default();
        match word.as_str() {
            "min-recv" => {
                let n: i64 = v
                    .parse()
                    .map_err(|_| format!("'{kw} expect min-recv {v}'"))?;
                e.min_recv = usize::try_from(n).ok();
            }
            "comment" => *comment = Some(v),
            "ok-status" => e.ok_status = Some(status(&v)?),
            "error-status" => e.error_status = Some(status(&v)?),
            "tout-status" => e.tout_status = Some(status(&v)?),
            "on-success" if !is_logformat(&v) => e.on_success = Some(Info::Text(v)),
            "on-error" if !is_logformat(&v) => e.on_error = Some(Info::Text(v)),
            "!" => {
                e.negate = true;
                i += 1;
                continue;
            }
            m if !matched => {
                let (neg, m) = match m.strip_prefix('!') {
                    Some(rest) => (true, rest),
                    None => (false, m),
                };
                e.negate |= neg;
                matched = true;
                if http && (m == "hdr" || m == "fhdr") {
                    let (hm, used) = header_matcher(m == "fhdr", &w[i + 1..])?;
                    e.matcher = hm;
                    i += 1 + used;
                    continue;
                }
                e.matcher = matcher(kw, m, &v, http)?;
            }
            other => return Err(format!("'{kw} expect' option '{other}'")),
        }
        i += 2;
    }
    if !matched {
        return Err(format!("'{kw} expect' without a pattern"));
    }
    Ok(e)
}

/// `hdr|fhdr name [-m meth] <name> [value [-m meth] <value>]`: the
/// matcher and how many words it took.
fn header_matcher(full: bool, w: &[String]) -> Result<(Matcher, usize), String> {
    let what = if full { "fhdr" } else { "hdr" };
    let mut i = 0;
    let pattern = |i: &mut usize, part: &str| -> Result<Pattern, String> {
        match w.get(*i).map(String::as_str) {
            Some(p) if p == part => {}
            Some(p) if p == format!("{part}-lf") => {
                return Err(format!("'http-check expect {what} {p}' (log-format)"))
            }
            _ => return Err(format!("'http-check expect {what}' without '{part}'")),
        }
        *i += 1;
        let mut method = "str";
        if w.get(*i).map(String::as_str) == Some("-m") {
            method = w.get(*i + 1).map_or("", String::as_str);
            *i += 2;
        }
        let text = w
            .get(*i)
            .cloned()
            .ok_or_else(|| format!("'http-check expect {what} {part}' without a pattern"))?;
        *i += 1;
        Pattern::new(method, text, part == "name")
            .ok_or_else(|| format!("'http-check expect {what} {part} -m {method}'"))
    };
    let name = pattern(&mut i, "name")?;
    let value = match w.get(i).map(String::as_str) {
        Some("value" | "value-lf") => Some(pattern(&mut i, "value")?),
        _ => None,
    };
    Ok((Matcher::HttpHeader { full, name, value }, i))
}

fn matcher(kw: &str, m: &str, pat: &str, http: bool) -> Result<Matcher, String> {
    let bad = |what: &str| format!("'{kw} expect {m} {pat}' ({what})");
    let bytes_re = |p: &str| {
        regex::bytes::Regex::new(p)
            .map_err(|_| bad("a regular expression this build cannot compile"))
    };
    Ok(match (m, http) {
        ("string", false) => Matcher::String(pat.as_bytes().to_vec()),
        ("rstring", false) => Matcher::Rstring(bytes_re(pat)?),
        ("binary", false) => Matcher::Binary(unhex(pat).ok_or_else(|| bad("hex digits"))?),
        ("rbinary", false) => Matcher::Rbinary(
            regex::Regex::new(pat)
                .map_err(|_| bad("a regular expression this build cannot compile"))?,
        ),
        ("status", true) => {
            Matcher::HttpStatus(status_ranges(pat).ok_or_else(|| bad("status codes"))?)
        }
        ("rstatus", true) => Matcher::HttpRstatus(
            regex::Regex::new(pat)
                .map_err(|_| bad("a regular expression this build cannot compile"))?,
        ),
        ("string", true) => Matcher::HttpBody(pat.as_bytes().to_vec()),
        ("rstring", true) => Matcher::HttpRbody(bytes_re(pat)?),
        _ => return Err(format!("'{kw} expect {m}'")),
    })
}

/// `200,301-399`: codes and inclusive ranges.
fn status_ranges(s: &str) -> Option<Vec<(u16, u16)>> {
    s.split(',')
        .map(|part| match part.split_once('-') {
            Some((a, b)) => Some((a.trim().parse().ok()?, b.trim().parse().ok()?)),
            None => {
                let c = part.trim().parse().ok()?;
                Some((c, c))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_encoded_as_2_6_sends_them() {
        let r = HttpRequest::default();
        assert_eq!(r.encode(), b"OPTIONS / HTTP/1.0\r\n\r\n");
        let r = option_request(&[
            "GET".into(),
            "/health".into(),
            "HTTP/1.1\r\nHost: www".into(),
        ])
        .expect("request");
        assert_eq!(
            r.encode(),
            b"GET /health HTTP/1.1\r\nhost: www\r\nconnection: close\r\n\r\n"
        );
        let r = HttpRequest {
            method: "POST".into(),
            ..HttpRequest::default()
        };
        assert_eq!(r.encode(), b"POST / HTTP/1.0\r\ncontent-length: 0\r\n\r\n");
        let r = HttpRequest {
            method: "DELETE".into(),
            version: "HTTP/1.1".into(),
            headers: vec![
                ("Connection".into(), "keep-alive".into()),
                ("content-length".into(), "5".into()),
            ],
            ..HttpRequest::default()
        };
        assert_eq!(r.encode(), b"DELETE / HTTP/1.1\r\n\r\n");
        let r = HttpRequest {
            version: "HTTP/1.1".into(),
            headers: vec![("X-A".into(), "b".into()), ("Host".into(), "h".into())],
            body: b"xy".to_vec(),
            ..HttpRequest::default()
        };
        assert_eq!(
            r.encode(),
            b"OPTIONS / HTTP/1.1\r\nx-a: b\r\nhost: h\r\ncontent-length: 2\r\nconnection: close\r\n\r\nxy"
        );
    }

    #[test]
    fn status_lists_and_ranges() {
        assert_eq!(
            status_ranges("200,300-310"),
            Some(vec![(200, 200), (300, 310)])
        );
        assert_eq!(status_ranges("2x"), None);
        assert_eq!(unhex("50494e47"), Some(b"PING".to_vec()));
        assert_eq!(unhex("5"), None);
    }
}
