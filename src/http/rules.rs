//! `http-request`, `http-response` and `http-after-response` rules, the
//! `redirect` keyword and HAProxy 1.5's regex rules: the actions, evaluated
//! in order with their conditions — frontend rules before backend ones for
//! requests, the reverse for responses, as HAProxy does.
//!
//! A rewrite whose value would carry CR, LF or NUL is never written:
//! haproxy-rs treats it as 2.6 treats a failed rewrite in its default
//! `strict-mode`, answering the proxy's 500 page in place of the request
//! (or of the response). This is a deliberate difference: 2.6 writes such
//! a value (it can only come from literal text in the configuration, as
//! fetched values have their control bytes %-encoded), which splits the
//! line and injects headers.
use super::legacy;
use super::parse::{Header, RequestHead, ResponseHead};
use super::reply::{self, check_value, Body, Dynamic, Message, Reply};
use crate::acl::{eval_cond, FetchCtx};
use crate::model::{Acl, Cond};
use crate::sample::{eval_fmt_http, Piece};
use std::sync::Arc;

#[derive(Clone, Debug)]
pub enum HttpAction {
    /// `capture <sample> len N | id N`: the value goes to capture slot
    /// `slot` (shown by `%hr`/`%hs`), cut to `len` bytes.
    Capture {
        expr: Piece,
        slot: usize,
        len: usize,
    },
    /// `set-log-level <level>|silent`: the level of this stream's line
    /// (None: silent, no line).
    SetLogLevel(Option<crate::log::Level>),
    /// `set-header`/`add-header <name> <fmt>`; `upper` keeps the case the
    /// name was written with (only 1.5 rules look at it).
    SetHeader {
        name: String,
        upper: u64,
        value: Vec<Piece>,
    },
    AddHeader {
        name: String,
        upper: u64,
        value: Vec<Piece>,
    },
    /// `del-header <name> [-m str|beg|end|sub|reg]`.
    DelHeader(NameMatch),
    Allow,
    /// `deny`, `tarpit` (held `timeout tarpit` first), `return`.
    Reply {
        reply: Reply,
        tarpit: bool,
        /// `return`: answered locally (logged `LR`), not denied (`PR`).
        local: bool,
    },
    Redirect(Box<Redirect>),
    /// `set-path|set-pathq|set-query|set-uri <fmt>`.
    SetUriPart {
        part: UriPart,
        value: Vec<Piece>,
    },
    SetMethod {
        value: Vec<Piece>,
    },
    /// `replace-header|replace-value <name> <regex> <fmt>`: every value (or
    /// every comma-separated value) matching the regex is rewritten.
    ReplaceHeader {
        name: String,
        re: regex::bytes::Regex,
        with: Vec<Piece>,
        each_value: bool,
    },
    /// `replace-path|replace-pathq|replace-uri <regex> <fmt>`.
    ReplaceUriPart {
        part: UriPart,
        re: regex::Regex,
        with: Vec<Piece>,
    },
    /// `set-status <code> [reason <text>]` (responses).
    SetStatus {
        status: u16,
        reason: Option<String>,
    },
    /// `set-var(name) <expr>`, `set-var-fmt(name) <fmt>`, `unset-var(name)`.
    Var(crate::tcp::rules::TcpAction),
    /// `auth [realm <realm>]`: a 401 asking for basic credentials.
    Auth {
        realm: Option<String>,
    },
    /// A HAProxy 1.5 regex rule (`reqrep`, `rspdel`, ...).
    Legacy(Box<legacy::Filter>),
    /// `use-service <name>`: the request is answered by a built-in service.
    UseService(Service),
}

/// The services `use-service` can hand a request to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    /// `prometheus-exporter`: the counters in Prometheus' text format.
    Prometheus,
}

/// How `del-header` compares names: exact (case-insensitive), prefix,
/// suffix or substring (case-insensitive), or a regex on the lower-cased
/// name, as 2.6 does.
#[derive(Clone, Debug)]
pub enum NameMatch {
    Str(String),
    Beg(String),
    End(String),
    Sub(String),
    Reg(regex::Regex),
}

impl NameMatch {
    fn matches(&self, name: &str) -> bool {
        match self {
            NameMatch::Str(n) => name == n,
            NameMatch::Beg(n) => name.starts_with(n.as_str()),
            NameMatch::End(n) => name.ends_with(n.as_str()),
            NameMatch::Sub(n) => name.contains(n.as_str()),
            NameMatch::Reg(re) => re.is_match(name),
        }
    }
}

/// Which part of the request line a rule sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UriPart {
    Path,
    PathQuery,
    Query,
    Uri,
}

/// `redirect location|prefix|scheme <to> [code N] [options]`.
#[derive(Clone, Debug)]
pub struct Redirect {
    kind: RedirectKind,
    to: Vec<Piece>,
    code: u16,
    drop_query: bool,
    append_slash: bool,
    ignore_empty: bool,
    /// The `set-cookie`/`clear-cookie` header value (the last option wins).
    cookie: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RedirectKind {
    Location,
    Prefix,
    Scheme,
}

#[derive(Clone, Debug)]
pub struct HttpRule {
    pub action: HttpAction,
    pub cond: Option<Cond>,
}

/// A proxy's http rules.
#[derive(Clone, Debug, Default)]
pub struct HttpRules {
    /// `http-request` rules (1.5's `block` and `monitor-net` first); an
    /// `allow` ends them.
    pub request: Vec<HttpRule>,
    /// What runs after them even past an `allow`: 1.5's request filters,
    /// then its `reqadd` lines, then the `redirect` rules.
    pub request_tail: Vec<HttpRule>,
    pub response: Vec<HttpRule>,
    /// 1.5's response filters, then its `rspadd` lines.
    pub response_tail: Vec<HttpRule>,
    /// `http-after-response`: also on the responses HAProxy generates.
    pub after: Vec<HttpRule>,
}

/// What the rules decided instead of forwarding.
#[derive(Debug)]
pub enum Verdict {
    /// Answer with this reply (`deny`, `return`, a failed rewrite), after
    /// the `timeout tarpit` delay for `tarpit`.
    Reply {
        reply: Reply,
        tarpit: bool,
        /// A `return` (logged `LR`), not a denial (`PR`).
        local: bool,
    },
    /// Answer with this redirect: status, `Location`, `Set-Cookie`.
    Redirect {
        code: u16,
        location: Vec<u8>,
        cookie: Option<String>,
    },
    /// Ask for credentials (`auth`) in this realm.
    Auth(String),
    /// Hand the request to a service (`use-service`).
    Service(Service),
}

impl Verdict {
    fn page(code: u16) -> Verdict {
        Verdict::Reply {
            reply: Reply::ErrorPage(code),
            tarpit: false,
            local: false,
        }
    }
}

/// A compiled `http-errors` section: name and pages.
pub type Section = (String, Vec<(u16, Arc<Message>)>);
/// The compiled `http-errors` sections.
pub type Sections = [Section];

/// How `action` reads the words of a rule.
pub struct Compile<'a> {
    /// `http-response`/`http-after-response` rather than `http-request`.
    pub response: bool,
    /// The `redirect` keyword: its destination is literal text.
    pub literal_redirect: bool,
    pub sections: &'a Sections,
}

/// Compiles an action (the words after `http-request`/`http-response`, or
/// after `redirect`); Err names what this build cannot run yet.
pub fn action(words: &[String], how: &Compile) -> Result<HttpAction, String> {
    let w = |i: usize| words.get(i).map(String::as_str).unwrap_or("");
    let not_yet = |what: &str| Err(format!("the http action '{what}'"));
    match w(0) {
        "set-header" | "add-header" => {
            let (name, upper, value) = (
                w(1).to_ascii_lowercase(),
                super::parse::upper_bits(w(1)),
                fmt(w(2))?,
            );
            Ok(if w(0) == "set-header" {
                HttpAction::SetHeader { name, upper, value }
            } else {
                HttpAction::AddHeader { name, upper, value }
            })
        }
        "del-header" => {
            let name = w(1).to_ascii_lowercase();
            Ok(HttpAction::DelHeader(match (w(2), w(3)) {
                ("-m", "beg") => NameMatch::Beg(name),
                ("-m", "end") => NameMatch::End(name),
                ("-m", "sub") => NameMatch::Sub(name),
                ("-m", "reg") => NameMatch::Reg(
                    regex::Regex::new(w(1)).map_err(|e| format!("regex '{}' ({e})", w(1)))?,
                ),
                _ => NameMatch::Str(name),
            }))
        }
        "allow" => Ok(HttpAction::Allow),
        "set-log-level" => match w(1) {
            "silent" => Ok(HttpAction::SetLogLevel(None)),
            l => crate::log::Level::from_name(l)
                .map(|l| HttpAction::SetLogLevel(Some(l)))
                .ok_or_else(|| format!("the log level '{l}'")),
        },
        "auth" if !how.response => Ok(HttpAction::Auth {
            realm: (w(1) == "realm").then(|| w(2).to_string()),
        }),
        kw @ ("deny" | "tarpit" | "return") => {
            let default = match kw {
                "return" => 200,
                "tarpit" => 500,
                _ if how.response => 502,
                _ => 403,
            };
            Ok(HttpAction::Reply {
                reply: reply(&words[1..], default, kw != "return", how.sections)?.into_reply(),
                tarpit: kw == "tarpit",
                local: kw == "return",
            })
        }
        "redirect" => redirect(&words[1..], how.literal_redirect).map(HttpAction::Redirect),
        part @ ("set-path" | "set-pathq" | "set-query" | "set-uri") => Ok(HttpAction::SetUriPart {
            part: uri_part(part),
            value: fmt(w(1))?,
        }),
        "set-method" => Ok(HttpAction::SetMethod { value: fmt(w(1))? }),
        kw @ ("replace-header" | "replace-value") => Ok(HttpAction::ReplaceHeader {
            name: w(1).to_ascii_lowercase(),
            re: regex::bytes::Regex::new(w(2)).map_err(|e| format!("regex '{}' ({e})", w(2)))?,
            with: fmt(&backrefs(w(3)))?,
            each_value: kw == "replace-value",
        }),
        part @ ("replace-path" | "replace-pathq" | "replace-uri") => {
            Ok(HttpAction::ReplaceUriPart {
                part: uri_part(part),
                re: regex::Regex::new(w(1)).map_err(|e| format!("regex '{}' ({e})", w(1)))?,
                with: fmt(&backrefs(w(2)))?,
            })
        }
        "set-status" if how.response => Ok(HttpAction::SetStatus {
            status: w(1).parse().map_err(|_| format!("set-status '{}'", w(1)))?,
            reason: (w(2) == "reason").then(|| w(3).to_string()),
        }),
        "use-service" if !how.response && w(1) == "prometheus-exporter" => {
            Ok(HttpAction::UseService(Service::Prometheus))
        }
        v if v.starts_with("set-var") || v.starts_with("unset-var") => {
            crate::tcp::rules::action(words).map(HttpAction::Var)
        }
        v if v.starts_with("legacy-") => legacy::compile(&v["legacy-".len()..], &words[1..])
            .map(|f| HttpAction::Legacy(Box::new(f))),
        other => not_yet(other),
    }
}

/// A log-format argument, compiled.
fn fmt(text: &str) -> Result<Vec<Piece>, String> {
    let parts =
        cfg_parser::logformat::parse_logformat(text).map_err(|e| format!("'{text}' ({e})"))?;
    crate::sample::compile_logformat(&parts)
}

/// What a reply's words (`deny`, `tarpit`, `return`, `http-error`) say.
pub enum ReplySpec {
    Reply(Reply),
    /// `default-errorfiles`: the proxy's page for the status.
    ProxyPage(u16),
    /// `errorfiles <section>` without a page for the status: the proxy's
    /// page too, but an `http-error` leaves the proxy's table as it is.
    SectionMiss(u16),
}

impl ReplySpec {
    pub fn into_reply(self) -> Reply {
        match self {
            ReplySpec::Reply(r) => r,
            ReplySpec::ProxyPage(s) | ReplySpec::SectionMiss(s) => Reply::ErrorPage(s),
        }
    }
}

/// Compiles a reply's words (checked by the parser): `[status|deny_status N]
/// [content-type T] [default-errorfiles | errorfile F | errorfiles S | file F
/// | lf-file F | string S | lf-string S] [hdr N V]...`, up to `if`/`unless`.
/// With `legacy` (deny, tarpit), no words or a lone `deny_status` mean the
/// proxy's page, as in 2.6.
pub fn reply(
    words: &[String],
    default_status: u16,
    legacy: bool,
    sections: &Sections,
) -> Result<ReplySpec, String> {
    let w = |i: usize| words.get(i).map(String::as_str).unwrap_or("");
    let end = |i: usize| matches!(w(i), "" | "if" | "unless");
    if legacy && end(0) {
        return Ok(ReplySpec::ProxyPage(default_status));
    }
    if legacy && w(0) == "deny_status" && end(2) {
        return Ok(ReplySpec::ProxyPage(status_of(w(1))?));
    }
    let mut status = default_status;
    let mut ctype = None;
    let mut headers = Vec::new();
    enum Src {
        None,
        ProxyPage,
        File(String),
        Section(String),
        Body(Body),
    }
    let mut src = Src::None;
    let mut i = 0;
    while !end(i) {
        let v = w(i + 1);
        match w(i) {
            "status" | "deny_status" => status = status_of(v)?,
            "content-type" => ctype = Some(v.to_string()),
            "default-errorfiles" => {
                src = Src::ProxyPage;
                i += 1;
                continue;
            }
            "errorfile" => src = Src::File(v.to_string()),
            "errorfiles" => src = Src::Section(v.to_string()),
            "string" => src = Src::Body(Body::Raw(v.as_bytes().to_vec())),
            "lf-string" => src = Src::Body(Body::Format(fmt(v)?)),
            "file" => {
                src = Src::Body(Body::Raw(
                    std::fs::read(v).map_err(|e| format!("file '{v}' ({e})"))?,
                ))
            }
            "lf-file" => {
                let text = std::fs::read(v).map_err(|e| format!("file '{v}' ({e})"))?;
                src = Src::Body(Body::Format(fmt(&String::from_utf8_lossy(&text))?));
            }
            "hdr" => {
                let name = v.to_ascii_lowercase();
                // 2.6 ignores these (with a warning at parse time).
                if !matches!(
                    name.as_str(),
                    "content-length" | "transfer-encoding" | "content-type"
                ) {
                    headers.push((name, fmt(w(i + 2))?));
                }
                i += 3;
                continue;
            }
            other => return Err(format!("reply option '{other}'")),
        }
        i += 2;
    }
    Ok(match src {
        Src::ProxyPage => ReplySpec::ProxyPage(status),
        Src::File(f) => ReplySpec::Reply(Reply::Message(Arc::new(Message::from_file(&f)?))),
        Src::Section(name) => {
            let (_, pages) = sections
                .iter()
                .find(|(n, _)| *n == name)
                .ok_or_else(|| format!("http-errors section '{name}'"))?;
            match pages.iter().rev().find(|(c, _)| *c == status) {
                Some((_, m)) => ReplySpec::Reply(Reply::Message(m.clone())),
                None => ReplySpec::SectionMiss(status),
            }
        }
        Src::Body(b) => ReplySpec::Reply(Reply::Dynamic(Arc::new(Dynamic {
            status,
            content_type: ctype,
            body: Some(b),
            headers,
        }))),
        Src::None => ReplySpec::Reply(Reply::Dynamic(Arc::new(Dynamic {
            status,
            content_type: None,
            body: None,
            headers,
        }))),
    })
}

fn status_of(v: &str) -> Result<u16, String> {
    v.parse().map_err(|_| format!("status '{v}'"))
}

/// `location|prefix|scheme <to> [code N] [drop-query] [append-slash]
/// [ignore-empty] [set-cookie N[=V]] [clear-cookie N[=]]`.
fn redirect(words: &[String], literal: bool) -> Result<Box<Redirect>, String> {
    let w = |i: usize| words.get(i).map(String::as_str).unwrap_or("");
    let mut kind = None;
    let mut to = "";
    let mut rd = Redirect {
        kind: RedirectKind::Location,
        to: Vec::new(),
        code: 302,
        drop_query: false,
        append_slash: false,
        ignore_empty: false,
        cookie: None,
    };
    let mut i = 0;
    while !matches!(w(i), "" | "if" | "unless") {
        let v = w(i + 1);
        match w(i) {
            k @ ("location" | "prefix" | "scheme") => {
                kind = Some(match k {
                    "location" => RedirectKind::Location,
                    "prefix" => RedirectKind::Prefix,
                    _ => RedirectKind::Scheme,
                });
                to = v;
            }
            // Read as C's atol(), as the checker does: `301x` is 301.
            "code" => {
                let digits: String = v.chars().take_while(char::is_ascii_digit).collect();
                rd.code = digits.parse().unwrap_or(302);
            }
            // 2.6 writes the value as it is, never as a log-format.
            "set-cookie" => rd.cookie = Some(format!("{v}; path=/;")),
            "clear-cookie" => rd.cookie = Some(format!("{v}; path=/; Max-Age=0;")),
            flag => {
                match flag {
                    "drop-query" => rd.drop_query = true,
                    "append-slash" => rd.append_slash = true,
                    "ignore-empty" => rd.ignore_empty = true,
                    other => return Err(format!("the redirect option '{other}'")),
                }
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    rd.kind = kind.ok_or("a redirect without a type")?;
    rd.to = if literal {
        vec![Piece::Lit(to.to_string())]
    } else {
        fmt(to)?
    };
    Ok(Box::new(rd))
}

fn uri_part(action: &str) -> UriPart {
    match action.rsplit('-').next().unwrap_or("") {
        "path" => UriPart::Path,
        "pathq" => UriPart::PathQuery,
        "query" => UriPart::Query,
        _ => UriPart::Uri,
    }
}

/// HAProxy's `\1` back-references in a replacement, as the regex crate's
/// `${1}`.
fn backrefs(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, chars.peek()) {
            ('\\', Some(d)) if d.is_ascii_digit() => {
                out.push_str(&format!("${{{d}}}"));
                chars.next();
            }
            ('$', _) => out.push_str("$$"),
            _ => out.push(c),
        }
    }
    out
}

/// Splits a request URI into (before the path, path, query with its `?`).
fn split_uri(uri: &str) -> (&str, &str, &str) {
    let start = match uri.find("://") {
        Some(i) => uri[i + 3..].find('/').map_or(uri.len(), |j| i + 3 + j),
        None => 0,
    };
    let (authority, rest) = uri.split_at(start);
    match rest.find('?') {
        Some(q) => (authority, &rest[..q], &rest[q..]),
        None => (authority, rest, ""),
    }
}

/// The request URI with `part` replaced by `value`.
fn with_part(uri: &str, part: UriPart, value: &str) -> String {
    let (auth, path, query) = split_uri(uri);
    match part {
        UriPart::Path => format!("{auth}{value}{query}"),
        UriPart::PathQuery => format!("{auth}{value}"),
        UriPart::Query if value.is_empty() => format!("{auth}{path}"),
        UriPart::Query => format!("{auth}{path}?{value}"),
        UriPart::Uri => value.to_string(),
    }
}

/// The current value of `part` of `uri`.
fn part_of(uri: &str, part: UriPart) -> &str {
    let (auth, path, query) = split_uri(uri);
    match part {
        UriPart::Path => path,
        UriPart::PathQuery => &uri[auth.len()..],
        UriPart::Query => query.strip_prefix('?').unwrap_or(""),
        UriPart::Uri => uri,
    }
}

/// The path and query a redirect carries over: from the first `/` after
/// the authority; `/` when there is none (`*`, `http://host`).
fn redirect_path(uri: &str, drop_query: bool) -> &str {
    let (auth, _, _) = split_uri(uri);
    let rest = &uri[auth.len()..];
    if !rest.starts_with('/') {
        return "/";
    }
    if drop_query {
        rest.split('?').next().unwrap_or(rest)
    } else {
        rest
    }
}

/// What one rule does now.
pub enum Step<'r> {
    Edit(Edit<'r>),
    /// `allow`: stop evaluating this rule set.
    Allow,
    /// A final answer.
    Final(Verdict),
    /// A 1.5 regex rule to apply to the message.
    Legacy(&'r legacy::Filter),
    /// A value for a capture slot.
    Capture(usize, Vec<u8>),
    /// `set-log-level`.
    LogLevel(Option<crate::log::Level>),
}

/// A value that cannot be written: the rewrite fails (the 500 page).
const FAILED_REWRITE: u16 = 500;

/// A value for a message, or the failed rewrite.
fn checked<'r>(v: Vec<u8>) -> Result<Vec<u8>, Step<'r>> {
    check_value(&v)
        .map(|_| v)
        .map_err(|_| Step::Final(Verdict::page(FAILED_REWRITE)))
}

/// A request-line part: no CR/LF/NUL, and no blank either, which would
/// split the request line.
fn checked_line<'r>(v: String) -> Result<String, Step<'r>> {
    if v.bytes().any(|b| b <= b' ' || b == 0x7f) {
        Err(Step::Final(Verdict::page(FAILED_REWRITE)))
    } else {
        Ok(v)
    }
}

/// Evaluates rule `r` against the messages as `ctx` sees them: None when
/// its condition does not hold.
pub fn step<'r>(r: &'r HttpRule, acls: &[Acl], ctx: &FetchCtx) -> Option<Step<'r>> {
    if !eval_cond(r.cond.as_ref(), acls, ctx) {
        return None;
    }
    Some(match action_step(&r.action, acls, ctx) {
        Ok(s) | Err(s) => s,
    })
}

fn action_step<'r>(
    action: &'r HttpAction,
    acls: &[Acl],
    ctx: &FetchCtx,
) -> Result<Step<'r>, Step<'r>> {
    let uri = || ctx.req.map_or("", |r| r.uri.as_str());
    Ok(match action {
        HttpAction::SetHeader { name, upper, value } => Step::Edit(Edit::Set(Header {
            name: name.clone(),
            value: checked(eval_fmt_http(value, ctx))?,
            upper: *upper,
        })),
        HttpAction::AddHeader { name, upper, value } => Step::Edit(Edit::Add(Header {
            name: name.clone(),
            value: checked(eval_fmt_http(value, ctx))?,
            upper: *upper,
        })),
        HttpAction::DelHeader(m) => Step::Edit(Edit::Del(m)),
        HttpAction::Allow => Step::Allow,
        HttpAction::Capture { expr, slot, len } => {
            let mut v = crate::sample::eval_logformat(std::slice::from_ref(expr), ctx).into_bytes();
            v.truncate(*len);
            Step::Capture(*slot, v)
        }
        HttpAction::SetLogLevel(l) => Step::LogLevel(*l),
        HttpAction::Auth { realm } => Step::Final(Verdict::Auth(realm.clone().unwrap_or_default())),
        HttpAction::Reply {
            reply,
            tarpit,
            local,
        } => Step::Final(Verdict::Reply {
            reply: reply.clone(),
            tarpit: *tarpit,
            local: *local,
        }),
        HttpAction::Redirect(rd) => {
            let to = eval_fmt_http(&rd.to, ctx);
            if to.is_empty() && rd.ignore_empty {
                return Ok(Step::Edit(Edit::None));
            }
            let mut location = to;
            let path = || redirect_path(uri(), rd.drop_query).as_bytes();
            match rd.kind {
                RedirectKind::Location => {}
                RedirectKind::Prefix => {
                    // `prefix /` keeps the URI as it is.
                    if location == b"/" {
                        location.clear();
                    }
                    location.extend_from_slice(path());
                }
                RedirectKind::Scheme => {
                    let host = ctx
                        .req
                        .and_then(|r| r.headers.iter().find(|h| h.name == "host"))
                        .map(|h| h.value.as_slice())
                        .unwrap_or_default();
                    location.extend_from_slice(b"://");
                    location.extend_from_slice(host);
                    location.extend_from_slice(path());
                }
            }
            if rd.kind != RedirectKind::Location
                && rd.append_slash
                && location.last() != Some(&b'/')
            {
                location.push(b'/');
            }
            Step::Final(Verdict::Redirect {
                code: rd.code,
                location: checked(location)?,
                cookie: rd.cookie.clone(),
            })
        }
        HttpAction::SetUriPart { part, value } => {
            let v = String::from_utf8_lossy(&eval_fmt_http(value, ctx)).into_owned();
            Step::Edit(Edit::Uri(checked_line(with_part(uri(), *part, &v))?))
        }
        HttpAction::SetMethod { value } => Step::Edit(Edit::Method(checked_line(
            String::from_utf8_lossy(&eval_fmt_http(value, ctx)).into_owned(),
        )?)),
        HttpAction::ReplaceUriPart { part, re, with } => {
            let current = part_of(uri(), *part);
            let Some(caps) = re.captures(current) else {
                return Ok(Step::Edit(Edit::None));
            };
            // A match replaces the whole part with the expanded format.
            let with = String::from_utf8_lossy(&eval_fmt_http(with, ctx)).into_owned();
            let mut new = String::new();
            caps.expand(&with, &mut new);
            Step::Edit(Edit::Uri(checked_line(with_part(uri(), *part, &new))?))
        }
        HttpAction::ReplaceHeader {
            name,
            re,
            with,
            each_value,
        } => {
            let with = eval_fmt_http(with, ctx);
            let headers = match (ctx.res, ctx.req) {
                (Some(res), _) => res.headers.as_slice(),
                (None, Some(req)) => req.headers.as_slice(),
                _ => &[],
            };
            let mut values = Vec::new();
            for h in headers.iter().filter(|h| h.name == *name) {
                // A match replaces the whole value (or element).
                let rewrite = |v: &[u8]| -> Option<Vec<u8>> {
                    let caps = re.captures(v)?;
                    let mut out = Vec::new();
                    caps.expand(&with, &mut out);
                    Some(out)
                };
                let v = if *each_value {
                    // Elements that match lose their surrounding blanks;
                    // the others are kept as they were.
                    let parts: Vec<Vec<u8>> = h
                        .value
                        .split(|b| *b == b',')
                        .map(|p| rewrite(p.trim_ascii()).unwrap_or_else(|| p.to_vec()))
                        .collect();
                    parts.join(&b","[..])
                } else {
                    rewrite(&h.value).unwrap_or_else(|| h.value.clone())
                };
                values.push(checked(v)?);
            }
            Step::Edit(Edit::Replace(name, values))
        }
        HttpAction::SetStatus { status, reason } => Step::Edit(Edit::Status(
            *status,
            match reason {
                Some(r) => String::from_utf8(checked(r.clone().into_bytes())?).unwrap_or_default(),
                None => super::reply::http_reason(*status).to_string(),
            },
        )),
        HttpAction::UseService(s) => Step::Final(Verdict::Service(*s)),
        HttpAction::Var(a) => {
            let one = [crate::tcp::rules::TcpRule {
                action: a.clone(),
                cond: None,
            }];
            crate::tcp::rules::evaluate(&one, 0, acls, ctx);
            Step::Edit(Edit::None)
        }
        HttpAction::Legacy(f) => Step::Legacy(f),
    })
}

/// HAProxy's redirect response: temporary codes forbid caching; an
/// HTTP/1.0 client or a closing connection gets `connection: close`.
pub fn redirect_response(code: u16, location: &[u8], cookie: Option<&str>, close: bool) -> Vec<u8> {
    let reason = match code {
        301 => "Moved Permanently",
        303 => "See Other",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        _ => "Found",
    };
    let mut out =
        format!("HTTP/1.1 {code} {reason}\r\ncontent-length: 0\r\nlocation: ").into_bytes();
    out.extend_from_slice(location);
    out.extend_from_slice(b"\r\n");
    if matches!(code, 302 | 303 | 307) {
        out.extend_from_slice(b"cache-control: no-cache\r\n");
    }
    if let Some(c) = cookie {
        out.extend_from_slice(format!("set-cookie: {c}\r\n").as_bytes());
    }
    if close {
        out.extend_from_slice(b"connection: close\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// A change to a message.
pub enum Edit<'r> {
    /// A header replacing every line of that name, at the end.
    Set(Header),
    Add(Header),
    Del(&'r NameMatch),
    /// Header `name`'s lines replaced by these values (`replace-*`).
    Replace(&'r str, Vec<Vec<u8>>),
    /// A new request URI / method.
    Uri(String),
    Method(String),
    /// A new response status and reason.
    Status(u16, String),
    /// Nothing to change (a variable was set).
    None,
}

/// Applies an edit to a header list (names lower-cased, order kept; `set`
/// replaces every occurrence with one line at the end, as HAProxy does).
pub fn apply(headers: &mut Vec<Header>, edit: Edit) {
    match edit {
        Edit::Set(h) => {
            headers.retain(|x| x.name != h.name);
            headers.push(h);
        }
        Edit::Add(h) => headers.push(h),
        Edit::Del(m) => headers.retain(|h| !m.matches(&h.name)),
        Edit::Replace(name, mut values) => {
            values.reverse();
            for h in headers.iter_mut().filter(|h| h.name == name) {
                if let Some(v) = values.pop() {
                    h.value = v;
                }
            }
        }
        Edit::Uri(_) | Edit::Method(_) | Edit::Status(..) | Edit::None => {}
    }
}

/// The request's state through its rule sets.
#[derive(Debug, Default)]
pub struct RequestState {
    /// A 1.5 `reqallow` matched: later allow, deny and tarpit filters are
    /// skipped (in the backend's rules too).
    pub legacy_allowed: bool,
    /// The backend a 1.5 `reqsetbe` of the frontend picked.
    pub backend: Option<String>,
    /// Values of `capture` rules, by slot; and the `set-log-level` chosen
    /// (Some(None): silent).
    pub captures: Vec<(usize, Vec<u8>)>,
    pub log_level: Option<Option<crate::log::Level>>,
}

/// Runs a proxy's request rules (`frontend` for the frontend's, where a
/// `reqsetbe` may pick the backend); Some when they answer the request.
/// `base` is the connection's view, without the request.
pub fn run_request(
    rules: &HttpRules,
    acls: &[Acl],
    req: &mut RequestHead,
    base: &FetchCtx,
    st: &mut RequestState,
    frontend: bool,
) -> Option<Verdict> {
    for (set, stops_at_allow) in [(&rules.request, true), (&rules.request_tail, false)] {
        for r in set {
            let s = step(r, acls, &base.with_msg(Some(req), None));
            match s {
                None => {}
                Some(Step::Edit(Edit::Uri(u))) => req.uri = u,
                Some(Step::Edit(Edit::Method(m))) => req.method = m,
                Some(Step::Edit(e)) => apply(&mut req.headers, e),
                Some(Step::Allow) if stops_at_allow => break,
                Some(Step::Allow) => {}
                Some(Step::Final(v)) => return Some(v),
                Some(Step::Capture(slot, v)) => st.captures.push((slot, v)),
                Some(Step::LogLevel(l)) => st.log_level = Some(l),
                Some(Step::Legacy(f)) => {
                    let chosen = st.backend.is_some();
                    match legacy::apply_request(f, req, &mut st.legacy_allowed, frontend && !chosen)
                    {
                        legacy::Outcome::Deny => return Some(Verdict::page(403)),
                        legacy::Outcome::Tarpit => {
                            return Some(Verdict::Reply {
                                reply: Reply::ErrorPage(500),
                                tarpit: true,
                                local: false,
                            })
                        }
                        legacy::Outcome::SetBackend(b) => st.backend = Some(b),
                        legacy::Outcome::Unsafe => return Some(Verdict::page(FAILED_REWRITE)),
                        legacy::Outcome::BadLine => return Some(Verdict::page(400)),
                        legacy::Outcome::Allow | legacy::Outcome::Nothing => {}
                    }
                }
            }
        }
    }
    None
}

/// Runs a proxy's response rules on the response head (`http-response`,
/// then 1.5's filters); Some when they replace the response. `base` sees
/// the request.
pub fn run_response(
    rules: &[&[HttpRule]],
    acls: &[Acl],
    res: &mut ResponseHead,
    base: &FetchCtx,
    st: &mut RequestState,
) -> Option<Verdict> {
    for (i, set) in rules.iter().enumerate() {
        for r in set.iter() {
            let s = step(r, acls, &base.with_msg(base.req, Some(res)));
            match s {
                None => {}
                Some(Step::Edit(Edit::Status(code, reason))) => {
                    res.status = code;
                    res.reason = reason;
                }
                Some(Step::Edit(e)) => apply(&mut res.headers, e),
                // `allow` ends the http-response rules, not 1.5's filters.
                Some(Step::Allow) if i == 0 => break,
                Some(Step::Allow) => {}
                Some(Step::Final(v)) => return Some(v),
                Some(Step::Capture(slot, v)) => st.captures.push((slot, v)),
                Some(Step::LogLevel(l)) => st.log_level = Some(l),
                Some(Step::Legacy(f)) => match legacy::apply_response(f, res) {
                    legacy::Outcome::Deny | legacy::Outcome::BadLine => {
                        return Some(Verdict::page(502))
                    }
                    legacy::Outcome::Unsafe => return Some(Verdict::page(FAILED_REWRITE)),
                    _ => {}
                },
            }
        }
    }
    None
}

/// Runs `http-after-response` rule sets (in order) on a generated
/// response's bytes: header edits land after its headers and before its
/// `connection` header, as in 2.6. Err when a value cannot be written.
pub fn after_generated(
    sets: &[&[HttpRule]],
    acls: &[&[Acl]],
    ctx: &FetchCtx,
    bytes: Vec<u8>,
) -> Result<Vec<u8>, reply::Unsafe> {
    if sets.iter().all(|s| s.is_empty()) {
        return Ok(bytes);
    }
    let Some(end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Ok(bytes);
    };
    let Ok(Some((mut res, _))) = super::parse::parse_response(&bytes[..end + 4]) else {
        return Ok(bytes);
    };
    // Header names are kept as sent (lower-case already).
    let conn = res
        .headers
        .last()
        .filter(|h| h.name == "connection")
        .cloned();
    if conn.is_some() {
        res.headers.pop();
    }
    for h in &mut res.headers {
        h.upper = 0;
    }
    'sets: for (rules, acls) in sets.iter().zip(acls) {
        for r in rules.iter() {
            let s = step(r, acls, &ctx.with_msg(ctx.req, Some(&res)));
            match s {
                Some(Step::Edit(Edit::Status(code, reason))) => {
                    res.status = code;
                    res.reason = reason;
                }
                Some(Step::Edit(e)) => apply(&mut res.headers, e),
                Some(Step::Allow) => continue 'sets,
                Some(Step::Final(_)) => return Err(reply::Unsafe),
                _ => {}
            }
        }
    }
    let mut out = format!("HTTP/1.{} {} {}\r\n", res.minor, res.status, res.reason).into_bytes();
    for h in res.headers.iter().chain(conn.as_ref()) {
        out.extend_from_slice(h.name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(&h.value);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&bytes[end + 4..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split(' ').map(str::to_string).collect()
    }

    fn compile(s: &str) -> HttpAction {
        action(
            &words(s),
            &Compile {
                response: false,
                literal_redirect: false,
                sections: &[],
            },
        )
        .expect("action")
    }

    fn location(rule: &str, raw: &[u8]) -> String {
        let req = crate::http::parse::parse_request(raw).unwrap().unwrap().0;
        let none = |_: &str| None;
        let ctx = FetchCtx::new(
            "127.0.0.1:1".parse().unwrap(),
            "127.0.0.1:2".parse().unwrap(),
            Some(&req),
            &none,
        );
        let r = HttpRule {
            action: compile(rule),
            cond: None,
        };
        match step(&r, &[], &ctx) {
            Some(Step::Final(Verdict::Redirect { location, .. })) => {
                String::from_utf8(location).unwrap()
            }
            _ => "(none)".into(),
        }
    }

    #[test]
    fn redirect_locations_as_2_6_builds_them() {
        // Each expectation was observed from 2.6.
        let get = b"GET /dq/x?a=1 HTTP/1.1\r\nHost: h.test\r\n\r\n";
        assert_eq!(
            location("redirect prefix https://a.example drop-query", get),
            "https://a.example/dq/x"
        );
        assert_eq!(
            location("redirect prefix https://a.example/ append-slash", get),
            "https://a.example//dq/x?a=1/"
        );
        assert_eq!(
            location("redirect prefix / drop-query append-slash", get),
            "/dq/x/"
        );
        assert_eq!(
            location("redirect scheme https drop-query", get),
            "https://h.test/dq/x"
        );
        assert_eq!(
            location("redirect location /loc drop-query append-slash", get),
            "/loc"
        );
        assert_eq!(
            location(
                "redirect prefix /pre",
                b"GET http://h.test/abs/x?y HTTP/1.1\r\nHost: h.test\r\n\r\n"
            ),
            "/pre/abs/x?y"
        );
        assert_eq!(
            location(
                "redirect scheme https",
                b"OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n"
            ),
            "https://h/"
        );
        assert_eq!(
            location("redirect scheme https", b"GET /p HTTP/1.1\r\n\r\n"),
            "https:///p"
        );
        assert_eq!(
            location("redirect location %[req.hdr(x-to)] ignore-empty", get),
            "(none)"
        );
    }

    #[test]
    fn redirect_codes_are_read_as_atol() {
        let HttpAction::Redirect(rd) = compile("redirect location /x code 301x") else {
            panic!("redirect")
        };
        assert_eq!(rd.code, 301);
    }

    #[test]
    fn del_header_match_methods() {
        let names = ["x-begone", "x-beg-2", "foo", "a-end", "x-rr"];
        let left = |rule: &str| {
            let HttpAction::DelHeader(m) = compile(rule) else {
                panic!("del-header")
            };
            names.iter().filter(|n| !m.matches(n)).count()
        };
        assert_eq!(left("del-header X-Beg -m beg"), 3);
        assert_eq!(left("del-header oo -m sub"), 4);
        assert_eq!(left("del-header -End -m end"), 4);
        assert_eq!(left("del-header ^x-r -m reg"), 4);
        assert_eq!(
            left("del-header ^X-R -m reg"),
            5,
            "regexes see lower-cased names"
        );
        assert_eq!(left("del-header X-BEGONE"), 4);
    }

    #[test]
    fn values_with_line_breaks_fail_the_rewrite() {
        let req = crate::http::parse::parse_request(b"GET / HTTP/1.1\r\n\r\n")
            .unwrap()
            .unwrap()
            .0;
        let none = |_: &str| None;
        let ctx = FetchCtx::new(
            "127.0.0.1:1".parse().unwrap(),
            "127.0.0.1:2".parse().unwrap(),
            Some(&req),
            &none,
        );
        let r = HttpRule {
            action: compile("set-header X a\r\nInjected: 1"),
            cond: None,
        };
        assert!(matches!(
            step(&r, &[], &ctx),
            Some(Step::Final(Verdict::Reply {
                reply: Reply::ErrorPage(500),
                tarpit: false,
                local: false
            }))
        ));
    }
}
