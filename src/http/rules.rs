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
}

/// What the request rules decided.
pub enum Verdict {
    /// Go on (no final action, or `allow`).
    Continue,
    /// Answer with this generated status page (`deny`).
    Deny(u16),
    /// Answer with this redirect (status and Location).
    Redirect(u16, Vec<u8>),
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
        other => not_yet(other),
    }
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
    }
}
