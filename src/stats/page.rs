//! The statistics page (`stats enable` in a proxy): a request whose URI
//! starts with `stats uri` is answered by the proxy itself, after the
//! `stats http-request` rules or the `stats auth` accounts, with the HTML
//! page, the CSV (`;csv`), the typed (`;typed`) or JSON (`;json`) forms.
//! A POST from an admin (`stats admin if ...`) changes the servers checked
//! on the page and redirects back with its result (`;st=DONE` ...).
use super::cli::{apply_admin, AdminOp};
use super::fields::{self, Filter};
use crate::acl::{eval_cond, FetchCtx};
use crate::http::parse::RequestHead;
use crate::model::{Acl, StatsPage};
use crate::worker::Shared;
use std::sync::atomic::Ordering;

/// Whether a request asks for this page.
pub fn matches(page: &StatsPage, req: &RequestHead) -> bool {
    req.uri.starts_with(&page.uri) && matches!(req.method.as_str(), "GET" | "HEAD" | "POST")
}

/// What the options after the URI prefix ask for.
#[derive(Debug, Default)]
pub struct Options {
    pub hide_down: bool,
    pub hide_maint: bool,
    pub no_refresh: bool,
    pub format: Format,
    /// `scope=`: only proxies whose name contains this.
    pub scope: Option<String>,
    /// `;st=XXXX`: the result of the last admin action.
    pub status: Option<String>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    #[default]
    Html,
    Csv,
    Typed,
    Json,
    JsonSchema,
}

/// Reads the options in the URI after the prefix (2.6 looks for them
/// anywhere there).
pub fn options(page: &StatsPage, uri: &str) -> Options {
    let rest = uri.get(page.uri.len()..).unwrap_or("");
    let mut o = Options {
        hide_down: rest.contains(";up"),
        hide_maint: rest.contains(";no-maint"),
        no_refresh: rest.contains(";norefresh"),
        ..Default::default()
    };
    o.format = if rest.contains(";json-schema") {
        Format::JsonSchema
    } else if rest.contains(";json") {
        Format::Json
    } else if rest.contains(";typed") {
        Format::Typed
    } else if rest.contains(";csv") {
        Format::Csv
    } else {
        Format::Html
    };
    if let Some(i) = rest.find("scope=") {
        let v = &rest[i + 6..];
        let end = v.find(['&', ';']).unwrap_or(v.len());
        o.scope = Some(url_decode(&v[..end])).filter(|s| !s.is_empty());
    }
    if let Some(i) = rest.find(";st=") {
        let v = &rest[i + 4..];
        o.status = Some(v[..v.len().min(4)].to_string());
    }
    o
}

/// `%XX` and `+` decoded (form values and the scope).
pub fn url_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = |c: u8| (c as char).to_digit(16);
                match (hex(b[i + 1]), hex(b[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What the page answers.
pub struct Answer {
    /// The whole response, head and body.
    pub bytes: Vec<u8>,
    pub status: i32,
    /// The proxy answered by its own rules (deny): counted as denied, not
    /// intercepted.
    pub denied: bool,
}

/// Answers a request `matches` accepted. `acls` is the ACL table of the
/// proxy that owns the page; `body` the POST body (None when absent or too
/// large). `close`: the connection closes after the response.
pub fn answer(
    sh: &Shared,
    page: &StatsPage,
    acls: &[Acl],
    req: &RequestHead,
    ctx: &FetchCtx,
    body: Option<&[u8]>,
    close: bool,
) -> Answer {
    // Access: the `stats http-request` rules, else the `stats auth` list.
    if !page.rules.is_empty() {
        for r in &page.rules {
            if !eval_cond(r.cond.as_ref(), acls, ctx) {
                continue;
            }
            match &r.action {
                crate::http::rules::HttpAction::Reply {
                    reply: crate::http::reply::Reply::ErrorPage(status),
                    ..
                } => {
                    return Answer {
                        bytes: crate::http::errors::stream_error(*status, close),
                        status: i32::from(*status),
                        denied: true,
                    }
                }
                crate::http::rules::HttpAction::Auth { realm } => {
                    let realm = realm.as_deref().unwrap_or(&page.realm);
                    return Answer {
                        bytes: crate::http::auth::challenge(realm, close),
                        status: 401,
                        denied: false,
                    };
                }
                _ => break,
            }
        }
    } else if !page.users.is_empty() {
        let ok = crate::http::auth::basic(&req.headers)
            .is_some_and(|(u, p)| page.users.iter().any(|(uu, pp)| *uu == u && *pp == p));
        if !ok {
            return Answer {
                bytes: crate::http::auth::challenge(&page.realm, close),
                status: 401,
                denied: false,
            };
        }
    }
    let admin = page.admin.iter().any(|c| eval_cond(Some(c), acls, ctx));
    if req.method == "POST" {
        let st = if !admin {
            "DENY"
        } else {
            match body {
                None => "EXCD",
                Some(b) => post(sh, b),
            }
        };
        let conn = if close { "connection: close\r\n" } else { "" };
        let head = format!(
            "HTTP/1.1 303 See Other\r\ncache-control: no-cache\r\ncontent-type: text/plain\r\ncontent-length: 0\r\nlocation: {};st={st}\r\n{conn}\r\n",
            page.uri
        );
        return Answer {
            bytes: head.into_bytes(),
            status: 303,
            denied: false,
        };
    }
    let o = options(page, &req.uri);
    let mut filter = Filter {
        hide_down: o.hide_down,
        hide_maint: o.hide_maint,
        legends: page.show_legends,
        ..Default::default()
    };
    if !page.scope.is_empty() {
        filter.scope = Some(page.scope.clone());
    }
    let rows: Vec<fields::Row> = fields::rows(sh, &filter)
        .into_iter()
        .filter(|r| {
            o.scope
                .as_ref()
                .is_none_or(|s| r.text("pxname").contains(s.as_str()))
        })
        .collect();
    let (ctype, body) = match o.format {
        Format::Csv => ("text/plain", fields::csv(&rows)),
        Format::Typed => ("text/plain", fields::typed(&rows)),
        Format::Json => ("application/json", fields::json(&rows)),
        Format::JsonSchema => (
            "application/json",
            "{\"error\":\"the JSON schema is not built yet in haproxy-rs\"}\n".to_string(),
        ),
        Format::Html => ("text/html", super::html::render(sh, page, &o, &rows, admin)),
    };
    let mut head =
        format!("HTTP/1.1 200 OK\r\ncache-control: no-cache\r\ncontent-type: {ctype}\r\n");
    if let (Some(r), false) = (page.refresh, o.no_refresh) {
        head.push_str(&format!("refresh: {r}\r\n"));
    }
    let http10 = req.minor == 0;
    let mut out = head.into_bytes();
    if req.method == "HEAD" {
        if close {
            out.extend_from_slice(b"connection: close\r\n");
        }
        out.extend_from_slice(b"\r\n");
    } else {
        // 2.6 names the close before the chunking for an HTTP/1.0 client.
        if close && http10 {
            out.extend_from_slice(b"connection: close\r\n");
        }
        out.extend_from_slice(b"transfer-encoding: chunked\r\n");
        if close && !http10 {
            out.extend_from_slice(b"connection: close\r\n");
        }
        out.extend_from_slice(b"\r\n");
        for chunk in body.as_bytes().chunks(16000) {
            out.extend_from_slice(format!("{:X}\r\n", chunk.len()).as_bytes());
            out.extend_from_slice(chunk);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"0\r\n\r\n");
    }
    Answer {
        bytes: out,
        status: 200,
        denied: false,
    }
}

/// The admin form's POST body: `s=<server>` (several), `action=<what>`,
/// `b=#<backend id>`. Returns 2.6's result code.
fn post(sh: &Shared, body: &[u8]) -> &'static str {
    let text = String::from_utf8_lossy(body);
    let mut servers = Vec::new();
    let mut action = String::new();
    let mut backend = String::new();
    for kv in text.split('&') {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        let v = url_decode(v);
        match k {
            "s" => servers.push(v),
            "action" => action = v,
            "b" => backend = v,
            _ => {}
        }
    }
    let be = backend
        .strip_prefix('#')
        .and_then(|id| id.parse::<u32>().ok())
        .and_then(|id| sh.rt.backends.iter().position(|b| b.id == id))
        .or_else(|| sh.rt.backends.iter().position(|b| b.name == backend));
    let known = [
        "ready", "drain", "maint", "dhlth", "ehlth", "hrunn", "hnolb", "hdown", "dagent", "eagent",
        "arunn", "adown", "shutdown",
    ];
    if servers.is_empty() {
        return "NONE";
    }
    let Some(b) = be.filter(|_| known.contains(&action.as_str())) else {
        return "ERRP";
    };
    let mut done = 0;
    let mut unknown = 0;
    for name in &servers {
        let Some(s) = sh.rt.backends[b]
            .servers
            .iter()
            .position(|x| x.name == *name)
        else {
            unknown += 1;
            continue;
        };
        if server_action(sh, b, s, &action) {
            done += 1;
        }
    }
    match (done, unknown) {
        (0, u) if u == servers.len() => "ERRP",
        (_, u) if u > 0 => "PART",
        (0, _) => "NONE",
        _ => "DONE",
    }
}

/// One action of the admin form on one server; false when it changed
/// nothing.
fn server_action(sh: &Shared, b: usize, s: usize, action: &str) -> bool {
    let srv = &sh.rt.backends[b].servers[s];
    let st = &sh.backends[b].servers[s];
    match action {
        "ready" => apply_admin(sh, b, s, AdminOp::Ready),
        "drain" => apply_admin(sh, b, s, AdminOp::Drain),
        "maint" => apply_admin(sh, b, s, AdminOp::Maint),
        "dhlth" | "ehlth" if !srv.check => return false,
        "dhlth" => st.admin.health_off.store(true, Ordering::Relaxed),
        "ehlth" => st.admin.health_off.store(false, Ordering::Relaxed),
        "hrunn" | "hnolb" | "hdown" => super::cli::force_health(sh, b, s, &action[1..]),
        "dagent" | "eagent" | "arunn" | "adown" if !srv.agent_check => return false,
        "dagent" => st.admin.agent_off.store(true, Ordering::Relaxed),
        "eagent" => st.admin.agent_off.store(false, Ordering::Relaxed),
        "shutdown" => sh.stats.sessions.kill_server(b, s),
        _ => return false,
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_values_decode() {
        assert_eq!(url_decode("%233"), "#3");
        assert_eq!(url_decode("a+b%2Fc"), "a b/c");
        assert_eq!(url_decode("50%"), "50%");
    }
}
