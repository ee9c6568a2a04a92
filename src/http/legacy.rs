//! HAProxy 1.5's regex rules, which 2.x removed and haproxy-rs still runs
//! with their 1.5 meaning: `reqrep`, `reqdel`, `reqallow`, `reqdeny`,
//! `reqtarpit`, `reqsetbe` (and their case-insensitive `reqi*` forms),
//! `rsprep`, `rspdel`, `rspdeny` (and `rspi*`).
//!
//! As in 1.5, a rule's regex is searched in whole lines: the request line
//! (`GET /path HTTP/1.1`) or the status line (`HTTP/1.1 200 OK`) first, then
//! each header line as `Name: value` — the name with the case the peer (or
//! the rule that added it) wrote, one space after the colon. A replacement
//! replaces the whole line with its template, where `\N` is the Nth group;
//! `\xHH` a byte and `\c` the character c. `reqdel`/`rspdel` only remove
//! header lines. A match of an allow, deny, tarpit or backend rule on the
//! request line settles that rule without looking at the headers, and so
//! does a rewrite of the request line.
//!
//! What 1.5 would have sent blindly is checked here: a rewritten line that
//! is not a header line, or carries CR, LF or NUL, fails the rewrite (a 500,
//! see `rules.rs`); a request line that no longer parses is a bad request
//! (400, as in 1.5), a status line a bad response (502).
use super::parse::{Header, RequestHead, ResponseHead};
use regex::bytes::{Captures, Regex, RegexBuilder};

#[derive(Clone, Debug)]
pub enum Kind {
    /// `reqrep`/`rsprep <regex> <template>`.
    Replace(Vec<u8>),
    /// `reqdel`/`rspdel`.
    Remove,
    /// `reqallow`: later allow, deny and tarpit rules are skipped.
    Allow,
    /// `reqdeny` (403) / `rspdeny` (502).
    Deny,
    /// `reqtarpit`.
    Tarpit,
    /// `reqsetbe <regex> <backend>`: the frontend's rules pick the backend.
    SetBackend(String),
}

#[derive(Clone, Debug)]
pub struct Filter {
    pub kind: Kind,
    re: Regex,
    pub response: bool,
}

/// What applying a filter decided.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Nothing,
    Allow,
    Deny,
    Tarpit,
    SetBackend(String),
    /// A rewritten line cannot be sent (not a header line, or CR/LF/NUL).
    Unsafe,
    /// The rewritten request or status line no longer parses.
    BadLine,
}

/// Compiles `legacy-<keyword> <args>` (the form the parser keeps).
pub fn compile(keyword: &str, args: &[String]) -> Result<Filter, String> {
    let response = keyword.starts_with("rsp");
    let rest = &keyword[3.min(keyword.len())..];
    // `reqirep` but not `reqidel`'s sibling `reqdel`: an `i` before a
    // known verb marks the case-insensitive form.
    let (icase, verb) = match rest.strip_prefix('i') {
        Some(v) if matches!(v, "rep" | "del" | "allow" | "deny" | "tarpit" | "setbe") => (true, v),
        _ => (false, rest),
    };
    let arg = |i: usize| args.get(i).map(String::as_str).unwrap_or("");
    let kind = match verb {
        "rep" => Kind::Replace(arg(1).as_bytes().to_vec()),
        "del" => Kind::Remove,
        "allow" if !response => Kind::Allow,
        "deny" => Kind::Deny,
        "tarpit" if !response => Kind::Tarpit,
        "setbe" if !response => Kind::SetBackend(arg(1).to_string()),
        _ => return Err(format!("'{keyword}'")),
    };
    let re = RegexBuilder::new(arg(0))
        .case_insensitive(icase)
        .unicode(false)
        .build()
        .map_err(|e| format!("'{keyword}' regex '{}' ({e})", arg(0)))?;
    Ok(Filter { kind, re, response })
}

/// 1.5's replacement: the template with `\N` groups expanded.
fn expand(template: &[u8], caps: &Captures) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < template.len() {
        let c = template[i];
        if c != b'\\' || i + 1 >= template.len() {
            out.push(c);
            i += 1;
            continue;
        }
        let n = template[i + 1];
        if n.is_ascii_digit() {
            if let Some(m) = caps.get((n - b'0') as usize) {
                out.extend_from_slice(m.as_bytes());
            }
            i += 2;
        } else if n == b'x' && i + 3 < template.len() {
            let hex = std::str::from_utf8(&template[i + 2..i + 4]).unwrap_or("");
            match u8::from_str_radix(hex, 16) {
                Ok(b) => out.push(b),
                Err(_) => out.extend_from_slice(&template[i + 2..i + 4]),
            }
            i += 4;
        } else {
            out.push(n);
            i += 2;
        }
    }
    out
}

/// A header line as a 1.5 rule sees it.
fn header_line(h: &Header) -> Vec<u8> {
    let mut l = h.written_name().into_bytes();
    l.extend_from_slice(b": ");
    l.extend_from_slice(&h.value);
    l
}

/// A rewritten header line back into a header, when it is one.
fn parse_header_line(line: &[u8]) -> Result<Header, Outcome> {
    if super::reply::check_value(line).is_err() {
        return Err(Outcome::Unsafe);
    }
    let colon = line
        .iter()
        .position(|b| *b == b':')
        .ok_or(Outcome::Unsafe)?;
    let name = std::str::from_utf8(&line[..colon]).map_err(|_| Outcome::Unsafe)?;
    let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if name.is_empty() || !name.bytes().all(token) {
        return Err(Outcome::Unsafe);
    }
    Ok(Header::as_written(name, line[colon + 1..].trim_ascii()))
}

/// Applies a request filter whose condition held. `allowed` is the
/// request's `reqallow` state (it is set here); `frontend` says whether
/// the frontend's rules are running, where `reqsetbe` may pick a backend.
pub fn apply_request(
    f: &Filter,
    req: &mut RequestHead,
    allowed: &mut bool,
    frontend: bool,
) -> Outcome {
    if *allowed && matches!(f.kind, Kind::Allow | Kind::Deny | Kind::Tarpit) {
        return Outcome::Nothing;
    }
    let verdict = |f: &Filter, allowed: &mut bool| match &f.kind {
        Kind::Allow => {
            *allowed = true;
            Some(Outcome::Allow)
        }
        Kind::Deny => Some(Outcome::Deny),
        Kind::Tarpit => Some(Outcome::Tarpit),
        Kind::SetBackend(b) if frontend => Some(Outcome::SetBackend(b.clone())),
        _ => None,
    };
    if !matches!(f.kind, Kind::Remove) {
        let line = format!("{} {} HTTP/1.{}", req.method, req.uri, req.minor).into_bytes();
        if let Some(caps) = f.re.captures(&line) {
            if let Kind::Replace(t) = &f.kind {
                let new = expand(t, &caps);
                return match parse_request_line(&new) {
                    Ok((m, u, minor)) => {
                        (req.method, req.uri, req.minor) = (m, u, minor);
                        Outcome::Nothing
                    }
                    Err(o) => o,
                };
            }
            // A backend rule outside the frontend matched: it does nothing
            // more, as in 1.5.
            return verdict(f, allowed).unwrap_or(Outcome::Nothing);
        }
    }
    apply_headers(f, &mut req.headers, &mut |f| verdict(f, allowed))
}

/// Applies a response filter whose condition held.
pub fn apply_response(f: &Filter, res: &mut ResponseHead) -> Outcome {
    if !matches!(f.kind, Kind::Remove) {
        let line = format!("HTTP/1.{} {} {}", res.minor, res.status, res.reason).into_bytes();
        if let Some(caps) = f.re.captures(&line) {
            if let Kind::Replace(t) = &f.kind {
                let new = expand(t, &caps);
                return match parse_status_line(&new) {
                    Ok((minor, status, reason)) => {
                        (res.minor, res.status, res.reason) = (minor, status, reason);
                        Outcome::Nothing
                    }
                    Err(o) => o,
                };
            }
            if matches!(f.kind, Kind::Deny) {
                return Outcome::Deny;
            }
        }
    }
    apply_headers(f, &mut res.headers, &mut |f| {
        matches!(f.kind, Kind::Deny).then_some(Outcome::Deny)
    })
}

/// The header pass: rewrites and removals go on through every line; a
/// verdict (`verdict` gives it for this filter) stops at the first match.
fn apply_headers(
    f: &Filter,
    headers: &mut Vec<Header>,
    verdict: &mut dyn FnMut(&Filter) -> Option<Outcome>,
) -> Outcome {
    let mut i = 0;
    while i < headers.len() {
        let line = header_line(&headers[i]);
        let Some(caps) = f.re.captures(&line) else {
            i += 1;
            continue;
        };
        match &f.kind {
            Kind::Replace(t) => match parse_header_line(&expand(t, &caps)) {
                Ok(h) => headers[i] = h,
                Err(o) => return o,
            },
            Kind::Remove => {
                headers.remove(i);
                continue;
            }
            _ => {
                if let Some(o) = verdict(f) {
                    return o;
                }
            }
        }
        i += 1;
    }
    Outcome::Nothing
}

/// `METHOD URI HTTP/1.x`.
fn parse_request_line(line: &[u8]) -> Result<(String, String, u8), Outcome> {
    if super::reply::check_value(line).is_err() {
        return Err(Outcome::Unsafe);
    }
    let text = std::str::from_utf8(line).map_err(|_| Outcome::BadLine)?;
    let parts: Vec<&str> = text.split(' ').collect();
    let [method, uri, version] = parts.as_slice() else {
        return Err(Outcome::BadLine);
    };
    let minor = match *version {
        "HTTP/1.0" => 0,
        "HTTP/1.1" => 1,
        _ => return Err(Outcome::BadLine),
    };
    let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if method.is_empty()
        || !method.bytes().all(token)
        || uri.is_empty()
        || uri.bytes().any(|b| b <= b' ' || b == 0x7f)
    {
        return Err(Outcome::BadLine);
    }
    Ok((method.to_string(), uri.to_string(), minor))
}

/// `HTTP/1.x NNN reason`.
fn parse_status_line(line: &[u8]) -> Result<(u8, u16, String), Outcome> {
    if super::reply::check_value(line).is_err() {
        return Err(Outcome::Unsafe);
    }
    let text = std::str::from_utf8(line).map_err(|_| Outcome::BadLine)?;
    let (version, rest) = text.split_once(' ').ok_or(Outcome::BadLine)?;
    let minor = match version {
        "HTTP/1.0" => 0,
        "HTTP/1.1" => 1,
        _ => return Err(Outcome::BadLine),
    };
    let (code, reason) = rest.split_once(' ').unwrap_or((rest, ""));
    match code.parse::<u16>() {
        Ok(c @ 100..=999) if code.len() == 3 => Ok((minor, c, reason.to_string())),
        _ => Err(Outcome::BadLine),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::parse::{parse_request, parse_response};

    fn filter(kw: &str, args: &[&str]) -> Filter {
        compile(kw, &args.iter().map(|s| s.to_string()).collect::<Vec<_>>()).expect("filter")
    }

    fn req(raw: &[u8]) -> RequestHead {
        parse_request(raw).unwrap().unwrap().0
    }

    #[test]
    fn reqrep_rewrites_the_request_line_as_a_whole() {
        let mut r = req(b"GET /old/a?b HTTP/1.1\r\nHost: x\r\n\r\n");
        let f = filter("reqrep", &[r"^([^ :]*) /old/(.*)", r"\1 /new/\2"]);
        assert_eq!(
            apply_request(&f, &mut r, &mut false, true),
            Outcome::Nothing
        );
        assert_eq!((r.method.as_str(), r.uri.as_str()), ("GET", "/new/a?b"));
    }

    #[test]
    fn reqrep_on_headers_sees_the_names_as_written() {
        let mut r = req(b"GET / HTTP/1.1\r\nHost: www.example.com\r\nhost: lower\r\n\r\n");
        let f = filter("reqrep", &[r"^Host: www\.(.*)", r"Host: \1"]);
        apply_request(&f, &mut r, &mut false, true);
        assert_eq!(r.headers[0].value, b"example.com");
        assert_eq!(r.headers[0].written_name(), "Host");
        assert_eq!(
            r.headers[1].value, b"lower",
            "case-sensitive: 'host' is not 'Host'"
        );
        let fi = filter("reqirep", &["^host: (.*)", r"X-Host: \1"]);
        apply_request(&fi, &mut r, &mut false, true);
        assert_eq!(r.headers[0].name, "x-host");
        assert_eq!(r.headers[1].name, "x-host");
    }

    #[test]
    fn unanchored_matches_replace_the_whole_line() {
        let mut r = req(b"GET / HTTP/1.1\r\nX-A: foo-bar\r\n\r\n");
        apply_request(
            &filter("reqrep", &["foo", "X-B: baz"]),
            &mut r,
            &mut false,
            true,
        );
        assert_eq!(r.headers[0], Header::as_written("X-B", "baz"));
    }

    #[test]
    fn delete_allow_deny_and_tarpit() {
        let mut r = req(b"GET / HTTP/1.1\r\nX-Debug: 1\r\nX-Keep: 1\r\nX-Debug: 2\r\n\r\n");
        apply_request(&filter("reqidel", &["^x-debug:"]), &mut r, &mut false, true);
        assert_eq!(r.headers.len(), 1);
        let mut allowed = false;
        let r2 = &mut req(b"GET /ok HTTP/1.1\r\nUser-Agent: sqlmap\r\n\r\n");
        assert_eq!(
            apply_request(&filter("reqallow", &["^GET /ok"]), r2, &mut allowed, true),
            Outcome::Allow
        );
        assert!(allowed);
        assert_eq!(
            apply_request(
                &filter("reqideny", &["^user-agent:.*sqlmap"]),
                r2,
                &mut allowed,
                true
            ),
            Outcome::Nothing,
            "allowed requests skip deny rules"
        );
        assert_eq!(
            apply_request(&filter("reqideny", &["sqlmap"]), r2, &mut false, true),
            Outcome::Deny
        );
        assert_eq!(
            apply_request(&filter("reqtarpit", &["^GET"]), r2, &mut false, true),
            Outcome::Tarpit
        );
        assert_eq!(
            apply_request(
                &filter("reqsetbe", &["^User-Agent", "bots"]),
                r2,
                &mut false,
                true
            ),
            Outcome::SetBackend("bots".into())
        );
        assert_eq!(
            apply_request(
                &filter("reqsetbe", &["^User-Agent", "bots"]),
                r2,
                &mut false,
                false
            ),
            Outcome::Nothing,
            "only the frontend picks a backend"
        );
    }

    #[test]
    fn unsafe_rewrites_are_refused() {
        let mut r = req(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        let crlf = filter("reqrep", &["^(Host: .*)", "\\1\r\nX-Injected: 1"]);
        assert_eq!(
            apply_request(&crlf, &mut r, &mut false, true),
            Outcome::Unsafe
        );
        let no_colon = filter("reqrep", &["^Host", "garbage"]);
        assert_eq!(
            apply_request(&no_colon, &mut r, &mut false, true),
            Outcome::Unsafe
        );
        let bad_line = filter("reqrep", &["^GET (.*)", "GET"]);
        assert_eq!(
            apply_request(&bad_line, &mut r, &mut false, true),
            Outcome::BadLine
        );
        assert_eq!(r.headers[0].value, b"x", "nothing changed");
    }

    #[test]
    fn response_filters_see_the_status_line_and_headers() {
        let mut res =
            parse_response(b"HTTP/1.1 200 OK\r\nServer: nginx\r\nLocation: http://a/b\r\n\r\n")
                .unwrap()
                .unwrap()
                .0;
        apply_response(&filter("rspidel", &["^server:"]), &mut res);
        apply_response(
            &filter(
                "rsprep",
                &[r"^Location: http://(.*)", r"Location: https://\1"],
            ),
            &mut res,
        );
        apply_response(
            &filter("rsprep", &["^HTTP/1.1 200 OK", "HTTP/1.1 299 Fine"]),
            &mut res,
        );
        assert_eq!((res.status, res.reason.as_str()), (299, "Fine"));
        assert_eq!(
            res.headers,
            vec![Header::as_written("Location", "https://a/b")]
        );
        assert_eq!(
            apply_response(&filter("rspdeny", &["^Location:"]), &mut res),
            Outcome::Deny
        );
    }

    #[test]
    fn templates_expand_groups_hex_and_escapes() {
        let re = Regex::new("(a)(b)?").unwrap();
        let caps = re.captures(b"a").unwrap();
        assert_eq!(expand(br"\1-\2-\x41-\.", &caps), b"a--A-.");
    }
}
