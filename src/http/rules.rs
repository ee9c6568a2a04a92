//! `http-request` and `http-response` rules: the actions this build runs
//! (header edits, `allow`, `deny`, `redirect`), evaluated in order with
//! their conditions, frontend rules before backend ones for requests and
//! the reverse for responses, as HAProxy does.
use super::parse::Header;
use crate::acl::{eval_cond, FetchCtx};
use crate::model::{Acl, Cond};
use crate::sample::{eval_logformat, Piece};

#[derive(Clone, Debug)]
pub enum HttpAction {
    SetHeader {
        name: String,
        value: Vec<Piece>,
    },
    AddHeader {
        name: String,
        value: Vec<Piece>,
    },
    /// `del-header <name>` (exact, case-insensitive name).
    DelHeader {
        name: String,
    },
    Allow,
    Deny {
        status: u16,
    },
    Redirect(Redirect),
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
    /// `return [status N] [content-type T] [string S|lf-string F] [hdr N V]...`
    Return(Box<Return>),
    /// `set-var(name) <expr>`, `set-var-fmt(name) <fmt>`, `unset-var(name)`.
    Var(crate::tcp::rules::TcpAction),
    /// `auth [realm <realm>]`: a 401 asking for basic credentials.
    Auth {
        realm: Option<String>,
    },
    /// `use-service <name>`: the request is answered by a built-in service.
    UseService(Service),
}

/// The services `use-service` can hand a request to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    /// `prometheus-exporter`: the counters in Prometheus' text format.
    Prometheus,
}

/// Which part of the request line a rule sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UriPart {
    Path,
    PathQuery,
    Query,
    Uri,
}

/// A `return` reply.
#[derive(Clone, Debug)]
pub struct Return {
    status: u16,
    content_type: Option<String>,
    body: Option<Vec<Piece>>,
    headers: Vec<(String, Vec<Piece>)>,
}

/// `redirect location|prefix|scheme <fmt> [code N]`.
#[derive(Clone, Debug)]
pub struct Redirect {
    kind: RedirectKind,
    to: Vec<Piece>,
    code: u16,
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
    pub request: Vec<HttpRule>,
    pub response: Vec<HttpRule>,
    /// `http-after-response`: also on the responses HAProxy generates.
    pub after: Vec<HttpRule>,
}

/// What the request rules decided.
pub enum Verdict {
    /// Go on (no final action, or `allow`).
    Continue,
    /// Answer with this generated status page (`deny`).
    Deny(u16),
    /// Answer with this redirect (status and Location).
    Redirect(u16, Vec<u8>),
    /// Ask for credentials (`auth`) in this realm.
    Auth(String),
    /// Answer with this reply (`return`): the head's lines without the
    /// blank line (a `connection: close` may follow), and the body.
    Return(Vec<u8>, Vec<u8>),
    /// Hand the request to a service (`use-service`).
    Service(Service),
}

/// Compiles an action (the words after `http-request`/`http-response`,
/// `response` for the latter); Err names what this build cannot run yet.
pub fn action(words: &[String], response: bool) -> Result<HttpAction, String> {
    // `deny` answers 403 to a request, 502 in place of a response.
    let deny_default = if response { 502 } else { 403 };
    let w = |i: usize| words.get(i).map(String::as_str).unwrap_or("");
    let fmt = |text: &str| -> Result<Vec<Piece>, String> {
        let parts =
            cfg_parser::logformat::parse_logformat(text).map_err(|e| format!("'{text}' ({e})"))?;
        crate::sample::compile_logformat(&parts)
    };
    let not_yet = |what: &str| Err(format!("the http action '{what}'"));
    match w(0) {
        "set-header" => Ok(HttpAction::SetHeader {
            name: w(1).to_ascii_lowercase(),
            value: fmt(w(2))?,
        }),
        "add-header" => Ok(HttpAction::AddHeader {
            name: w(1).to_ascii_lowercase(),
            value: fmt(w(2))?,
        }),
        // `-m` matching methods are not run yet.
        "del-header" if w(2) != "-m" => Ok(HttpAction::DelHeader {
            name: w(1).to_ascii_lowercase(),
        }),
        "allow" => Ok(HttpAction::Allow),
        "auth" if !response => Ok(HttpAction::Auth {
            realm: (w(1) == "realm").then(|| w(2).to_string()),
        }),
        "deny" => match (w(1), w(2)) {
            ("" | "if" | "unless", _) => Ok(HttpAction::Deny {
                status: deny_default,
            }),
            ("deny_status", code) if matches!(w(3), "" | "if" | "unless") => Ok(HttpAction::Deny {
                status: code.parse().map_err(|_| format!("deny_status '{code}'"))?,
            }),
            _ => not_yet("deny with a custom reply"),
        },
        "redirect" => {
            let (mut kind, mut to, mut code) = (None, "", 302);
            let mut i = 1;
            while !matches!(w(i), "" | "if" | "unless") {
                match w(i) {
                    "location" => kind = Some(RedirectKind::Location),
                    "prefix" => kind = Some(RedirectKind::Prefix),
                    "scheme" => kind = Some(RedirectKind::Scheme),
                    "code" => code = w(i + 1).parse().unwrap_or(302),
                    other => return not_yet(&format!("redirect ... {other}")),
                }
                if w(i) != "code" {
                    to = w(i + 1);
                }
                i += 2;
            }
            let kind = kind.ok_or("a redirect without a type")?;
            Ok(HttpAction::Redirect(Redirect {
                kind,
                to: fmt(to)?,
                code,
            }))
        }
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
        "return" => {
            let mut r = Return {
                status: 200,
                content_type: None,
                body: None,
                headers: Vec::new(),
            };
            let mut i = 1;
            while !matches!(w(i), "" | "if" | "unless") {
                match w(i) {
                    "status" => {
                        r.status = w(i + 1)
                            .parse()
                            .map_err(|_| format!("return status '{}'", w(i + 1)))?
                    }
                    "content-type" => r.content_type = Some(w(i + 1).to_string()),
                    "string" => r.body = Some(vec![Piece::Lit(w(i + 1).to_string())]),
                    "lf-string" => r.body = Some(fmt(w(i + 1))?),
                    "hdr" => {
                        r.headers
                            .push((w(i + 1).to_ascii_lowercase(), fmt(w(i + 2))?));
                        i += 1;
                    }
                    other => return not_yet(&format!("return ... {other}")),
                }
                i += 2;
            }
            Ok(HttpAction::Return(Box::new(r)))
        }
        "use-service" if !response && w(1) == "prometheus-exporter" => {
            Ok(HttpAction::UseService(Service::Prometheus))
        }
        v if v.starts_with("set-var") || v.starts_with("unset-var") => {
            crate::tcp::rules::action(words).map(HttpAction::Var)
        }
        other => not_yet(other),
    }
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

/// HAProxy's `return` reply: status line, the `hdr` lines,
/// `content-length`, `content-type` (the blank line is the caller's), and
/// the body.
fn return_response(r: &Return, ctx: &FetchCtx) -> (Vec<u8>, Vec<u8>) {
    let body = r
        .body
        .as_ref()
        .map(|b| eval_logformat(b, ctx))
        .unwrap_or_default();
    let reason = super::errors::reason(r.status);
    // 2.6 puts the `hdr` lines first.
    let mut out = format!("HTTP/1.1 {} {reason}\r\n", r.status);
    for (n, v) in &r.headers {
        out += &format!("{n}: {}\r\n", eval_logformat(v, ctx));
    }
    out += &format!("content-length: {}\r\n", body.len());
    if let Some(t) = &r.content_type {
        out += &format!("content-type: {t}\r\n");
    }
    (out.into_bytes(), body.into_bytes())
}

/// What one rule does now.
pub enum Step {
    Edit(Edit),
    /// `allow`: stop evaluating this rule set.
    Allow,
    /// A final answer.
    Final(Verdict),
}

/// Evaluates rule `r` against the message as `ctx` sees it: None when its
/// condition does not hold.
pub fn step(r: &HttpRule, acls: &[Acl], ctx: &FetchCtx) -> Option<Step> {
    if !eval_cond(r.cond.as_ref(), acls, ctx) {
        return None;
    }
    Some(match &r.action {
        HttpAction::SetHeader { name, value } => Step::Edit(Edit::Set(
            name.clone(),
            eval_logformat(value, ctx).into_bytes(),
        )),
        HttpAction::AddHeader { name, value } => Step::Edit(Edit::Add(
            name.clone(),
            eval_logformat(value, ctx).into_bytes(),
        )),
        HttpAction::DelHeader { name } => Step::Edit(Edit::Del(name.clone())),
        HttpAction::Allow => Step::Allow,
        HttpAction::Auth { realm } => Step::Final(Verdict::Auth(realm.clone().unwrap_or_default())),
        HttpAction::Deny { status } => Step::Final(Verdict::Deny(*status)),
        HttpAction::Redirect(rd) => {
            let to = eval_logformat(&rd.to, ctx);
            let uri = ctx.req.map_or("", |r| r.uri.as_str());
            let location = match rd.kind {
                RedirectKind::Location => to,
                // `prefix /` keeps the URI as it is.
                RedirectKind::Prefix if to == "/" => uri.to_string(),
                RedirectKind::Prefix => format!("{}{uri}", to.trim_end_matches('/')),
                RedirectKind::Scheme => {
                    let host = ctx
                        .req
                        .and_then(|r| r.headers.iter().find(|h| h.name == "host"))
                        .map(|h| String::from_utf8_lossy(&h.value).into_owned())
                        .unwrap_or_default();
                    format!("{to}://{host}{uri}")
                }
            };
            Step::Final(Verdict::Redirect(rd.code, location.into_bytes()))
        }
        HttpAction::SetUriPart { part, value } => {
            let uri = ctx.req.map_or("", |r| r.uri.as_str());
            Step::Edit(Edit::Uri(with_part(
                uri,
                *part,
                &eval_logformat(value, ctx),
            )))
        }
        HttpAction::SetMethod { value } => Step::Edit(Edit::Method(eval_logformat(value, ctx))),
        HttpAction::ReplaceUriPart { part, re, with } => {
            let uri = ctx.req.map_or("", |r| r.uri.as_str());
            let current = part_of(uri, *part);
            if !re.is_match(current) {
                return Some(Step::Edit(Edit::None));
            }
            // A match replaces the whole part with the expanded format.
            let with = eval_logformat(with, ctx);
            let mut new = String::new();
            if let Some(caps) = re.captures(current) {
                caps.expand(&with, &mut new);
            }
            Step::Edit(Edit::Uri(with_part(uri, *part, &new)))
        }
        HttpAction::ReplaceHeader {
            name,
            re,
            with,
            each_value,
        } => {
            let with = eval_logformat(with, ctx);
            let headers = ctx.req.map(|r| r.headers.as_slice()).unwrap_or(&[]);
            let values = headers
                .iter()
                .filter(|h| h.name == *name)
                .map(|h| {
                    // A match replaces the whole value (or element).
                    let rewrite = |v: &[u8]| -> Option<Vec<u8>> {
                        let caps = re.captures(v)?;
                        let mut out = Vec::new();
                        caps.expand(with.as_bytes(), &mut out);
                        Some(out)
                    };
                    if *each_value {
                        // Elements that match lose their surrounding
                        // blanks; the others are kept as they were.
                        let parts: Vec<Vec<u8>> = h
                            .value
                            .split(|b| *b == b',')
                            .map(|p| rewrite(p.trim_ascii()).unwrap_or_else(|| p.to_vec()))
                            .collect();
                        parts.join(&b","[..])
                    } else {
                        rewrite(&h.value).unwrap_or_else(|| h.value.clone())
                    }
                })
                .collect();
            Step::Edit(Edit::Replace(name.clone(), values))
        }
        HttpAction::Return(r) => {
            let (head, body) = return_response(r, ctx);
            Step::Final(Verdict::Return(head, body))
        }
        HttpAction::UseService(s) => Step::Final(Verdict::Service(*s)),
        HttpAction::Var(a) => {
            let one = [crate::tcp::rules::TcpRule {
                action: a.clone(),
                cond: None,
            }];
            crate::tcp::rules::evaluate(&one, 0, acls, ctx);
            Step::Edit(Edit::None)
        }
    })
}

/// HAProxy's redirect response: temporary codes forbid caching; an
/// HTTP/1.0 client or a closing connection gets `connection: close`.
pub fn redirect_response(code: u16, location: &[u8], close: bool) -> Vec<u8> {
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
    if close {
        out.extend_from_slice(b"connection: close\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// A change to a message's headers.
pub enum Edit {
    Set(String, Vec<u8>),
    Add(String, Vec<u8>),
    Del(String),
    /// Header `name`'s lines replaced by these values (`replace-*`).
    Replace(String, Vec<Vec<u8>>),
    /// A new request URI / method.
    Uri(String),
    Method(String),
    /// Nothing to change (a variable was set).
    None,
}

/// Applies an edit to a header list (names lower-cased, order kept; `set`
/// replaces every occurrence with one line at the end, as HAProxy does).
pub fn apply(headers: &mut Vec<Header>, edit: Edit) {
    match edit {
        Edit::Set(name, value) => {
            headers.retain(|h| h.name != name);
            headers.push(Header { name, value });
        }
        Edit::Add(name, value) => headers.push(Header { name, value }),
        Edit::Del(name) => headers.retain(|h| h.name != name),
        Edit::Replace(name, mut values) => {
            values.reverse();
            for h in headers.iter_mut().filter(|h| h.name == name) {
                if let Some(v) = values.pop() {
                    h.value = v;
                }
            }
        }
        Edit::Uri(_) | Edit::Method(_) | Edit::None => {}
    }
}

/// Runs `http-after-response` rule sets (in order) on a generated
/// response's bytes: header edits land after its headers and before its
/// `connection: close`, as in 2.6.
pub fn after_generated(
    sets: &[&[HttpRule]],
    acls: &[&[Acl]],
    ctx: &FetchCtx,
    bytes: Vec<u8>,
) -> Vec<u8> {
    if sets.iter().all(|s| s.is_empty()) {
        return bytes;
    }
    let Some(end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") else {
        return bytes;
    };
    let head = String::from_utf8_lossy(&bytes[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap_or("").to_string();
    let mut headers: Vec<Header> = lines
        .filter_map(|l| l.split_once(": "))
        .map(|(n, v)| Header {
            name: n.to_string(),
            value: v.as_bytes().to_vec(),
        })
        .collect();
    let close = headers
        .last()
        .is_some_and(|h| h.name == "connection" && h.value == b"close");
    if close {
        headers.pop();
    }
    'sets: for (rules, acls) in sets.iter().zip(acls) {
        for r in rules.iter() {
            match step(r, acls, ctx) {
                Some(Step::Edit(e)) => apply(&mut headers, e),
                Some(Step::Allow) => continue 'sets,
                _ => {}
            }
        }
    }
    let mut out = status.into_bytes();
    out.extend_from_slice(b"\r\n");
    for h in &headers {
        out.extend_from_slice(h.name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(&h.value);
        out.extend_from_slice(b"\r\n");
    }
    if close {
        out.extend_from_slice(b"connection: close\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&bytes[end + 4..]);
    out
}
