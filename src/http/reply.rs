//! The answers a configuration defines instead of forwarding: `errorfile`
//! and `errorloc` pages, `http-error` replies, and the replies of `deny`,
//! `tarpit` and `return` — sent with the bytes HAProxy 2.6 sends.
use super::errors::stream_error;
use crate::acl::FetchCtx;
use crate::sample::{eval_fmt_http, Piece};
use std::sync::Arc;

/// A complete response fixed at start-up: an errorfile, or the redirect an
/// `errorloc` stands for. It is written back as 2.6 does: its own status
/// line and headers (names lower-cased, its `Connection` header dropped),
/// then `connection: close` for an HTTP/1.1 message on a closing
/// connection, or `connection: keep-alive` for an HTTP/1.0 one on a kept
/// one.
#[derive(Debug)]
pub struct Message {
    minor: u8,
    status: u16,
    reason: String,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
    /// Nothing delimits the body (no Content-Length), or the file says
    /// `Connection: close`: the connection closes after it.
    closes: bool,
    /// An empty file: nothing is sent.
    empty: bool,
}

impl Message {
    /// Reads and checks an errorfile.
    pub fn from_file(path: &str) -> Result<Message, String> {
        let raw = std::fs::read(path).map_err(|e| format!("errorfile '{path}' ({e})"))?;
        Message::parse(&raw).ok_or_else(|| format!("errorfile '{path}' (not an HTTP response)"))
    }

    /// A file's bytes as a response, read as 2.6 reads errorfiles (the
    /// configuration check uses the same reading); None when they are not
    /// one. An empty file (`errorfile 408 /dev/null`) is a page that sends
    /// nothing and closes the connection.
    pub fn parse(raw: &[u8]) -> Option<Message> {
        let Some(r) = cfg_parser::errorfile::parse(raw).ok()? else {
            return Some(Message {
                minor: 1,
                status: 0,
                reason: String::new(),
                headers: Vec::new(),
                body: Vec::new(),
                closes: true,
                empty: true,
            });
        };
        let mut m = Message {
            // 1.1 or above is sent as 1.1 (the version is 8 bytes).
            minor: u8::from(r.version[5] > b'1' || (r.version[5] == b'1' && r.version[7] >= b'1')),
            status: std::str::from_utf8(r.status).ok()?.parse().ok()?,
            reason: String::from_utf8_lossy(r.reason).into_owned(),
            headers: Vec::new(),
            body: r.body.to_vec(),
            closes: true,
            empty: false,
        };
        let mut conn_close = false;
        for (name, value) in r.headers {
            let name = String::from_utf8_lossy(name).to_ascii_lowercase();
            match name.as_str() {
                "connection" => {
                    conn_close |= value
                        .split(|b| *b == b',')
                        .any(|t| t.trim_ascii().eq_ignore_ascii_case(b"close"));
                    continue;
                }
                "content-length" => m.closes = false,
                _ => {}
            }
            m.headers.push((name, value.to_vec()));
        }
        m.closes |= conn_close;
        Some(m)
    }

    /// The redirect of `errorloc` (302) and `errorloc303` (303).
    pub fn location(code: u16, url: &str) -> Message {
        Message {
            minor: 1,
            status: code,
            reason: if code == 303 { "See Other" } else { "Found" }.into(),
            headers: vec![
                ("cache-control".into(), b"no-cache".to_vec()),
                ("content-length".into(), b"0".to_vec()),
                ("location".into(), url.as_bytes().to_vec()),
            ],
            body: Vec::new(),
            closes: false,
            empty: false,
        }
    }

    /// Whether this is the page of an empty file.
    pub fn is_empty(&self) -> bool {
        self.empty
    }

    /// The bytes to send, and whether the connection closes after them.
    pub fn render(&self, close: bool) -> (Vec<u8>, bool) {
        if self.is_empty() {
            return (Vec::new(), true);
        }
        let close = close || self.closes;
        let mut out =
            format!("HTTP/1.{} {} {}\r\n", self.minor, self.status, self.reason).into_bytes();
        for (n, v) in &self.headers {
            out.extend_from_slice(n.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(v);
            out.extend_from_slice(b"\r\n");
        }
        if close && self.minor == 1 {
            out.extend_from_slice(b"connection: close\r\n");
        } else if !close && self.minor == 0 {
            out.extend_from_slice(b"connection: keep-alive\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&self.body);
        (out, close)
    }
}

/// A reply built per request: status, `hdr` lines, and a payload with its
/// content type (`string`, `lf-string`, `file`, `lf-file`).
#[derive(Debug)]
pub struct Dynamic {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Option<Body>,
    pub headers: Vec<(String, Vec<Piece>)>,
}

#[derive(Debug)]
pub enum Body {
    Raw(Vec<u8>),
    Format(Vec<Piece>),
}

/// A value an HTTP rule would write but must not: it carries CR, LF or
/// NUL, which would end the line and let text become headers of its own.
/// HAProxy 2.6 sends such a value (from literal text in the configuration)
/// as it is; haproxy-rs treats it as a failed rewrite (see `rules.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unsafe;

/// Whether `v` can be written in a header line.
pub fn check_value(v: &[u8]) -> Result<(), Unsafe> {
    if v.iter().any(|b| matches!(b, b'\r' | b'\n' | 0)) {
        Err(Unsafe)
    } else {
        Ok(())
    }
}

impl Dynamic {
    /// HAProxy's layout: status line, the `hdr` lines, `content-length`,
    /// `content-type` (for a non-empty payload), then `connection: close`
    /// when closing.
    fn render(&self, ctx: &FetchCtx, close: bool) -> Result<(Vec<u8>, bool), Unsafe> {
        let body = match &self.body {
            Some(Body::Raw(b)) => b.clone(),
            Some(Body::Format(f)) => eval_fmt_http(f, ctx),
            None => Vec::new(),
        };
        let mut out =
            format!("HTTP/1.1 {} {}\r\n", self.status, http_reason(self.status)).into_bytes();
        for (n, v) in &self.headers {
            let v = eval_fmt_http(v, ctx);
            check_value(&v)?;
            out.extend_from_slice(n.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(&v);
            out.extend_from_slice(b"\r\n");
        }
        // A 204 says nothing of a length; an empty payload has no type.
        if self.status != 204 {
            out.extend_from_slice(format!("content-length: {}\r\n", body.len()).as_bytes());
        }
        if let (Some(t), false) = (&self.content_type, body.is_empty()) {
            check_value(t.as_bytes())?;
            out.extend_from_slice(format!("content-type: {t}\r\n").as_bytes());
        }
        if close {
            out.extend_from_slice(b"connection: close\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&body);
        Ok((out, close))
    }
}

/// What a `deny`, `tarpit`, `return` or `http-error` answers.
#[derive(Clone, Debug)]
pub enum Reply {
    /// The proxy's page for this status: its `errorfile`, `errorloc` or
    /// `http-error` for the code (the backend's, then the frontend's), else
    /// HAProxy's built-in page.
    ErrorPage(u16),
    Message(Arc<Message>),
    Dynamic(Arc<Dynamic>),
}

/// A proxy's pages by status code (`errorfile`, `errorfiles`, `errorloc*`,
/// `http-error`), later lines replacing earlier ones.
pub type ErrorPages = Vec<(u16, Reply)>;

/// Sends `reply`: `pages` are the proxies' tables to look an error page up
/// in (the backend's first). A reply whose values cannot be written
/// becomes the 500 page.
pub fn render(
    reply: &Reply,
    pages: &[&ErrorPages],
    ctx: &FetchCtx,
    close: bool,
) -> (Vec<u8>, bool) {
    let resolved = match reply {
        Reply::ErrorPage(code) => {
            match pages.iter().find_map(|p| p.iter().find(|(c, _)| c == code)) {
                Some((_, r)) => r,
                None => return (stream_error(*code, close), close),
            }
        }
        other => other,
    };
    let rendered = match resolved {
        Reply::Message(m) => Ok(m.render(close)),
        Reply::Dynamic(d) => d.render(ctx, close),
        // Tables never hold this one.
        Reply::ErrorPage(c) => Ok((stream_error(*c, close), close)),
    };
    match rendered {
        Ok(r) => r,
        Err(Unsafe) if !matches!(reply, Reply::ErrorPage(500)) => {
            render(&Reply::ErrorPage(500), pages, ctx, close)
        }
        Err(Unsafe) => (stream_error(500, close), close),
    }
}

/// The page the HTTP/1 connection layer sends for a bad (400) or late
/// (408) request: HAProxy's built-in one — 2.6 ignores a proxy's custom
/// page there, except an empty `errorfile` (`errorfile 408 /dev/null`),
/// after which the connection just closes.
pub fn connection_page(pages: &ErrorPages, code: u16) -> Vec<u8> {
    let silent = pages
        .iter()
        .any(|(c, r)| *c == code && matches!(r, Reply::Message(m) if m.is_empty()));
    if silent {
        Vec::new()
    } else {
        super::errors::connection_error(code)
    }
}

/// The reason phrase 2.6 writes after a status it sets itself (`return`,
/// `set-status`), as observed from 2.6 for every code from 100 to 999:
/// a phrase for the known codes, else one for the code's class.
pub fn http_reason(status: u16) -> &'static str {
    if let Some((_, r)) = REASONS.iter().find(|(c, _)| *c == status) {
        return r;
    }
    match status {
        100..=199 => "Informational",
        200..=299 => "Success",
        300..=399 => "Redirection",
        400..=499 => "Client Error",
        500..=599 => "Server Error",
        _ => "Other",
    }
}

const REASONS: &[(u16, &str)] = &[
    (100, "Continue"),
    (101, "Switching Protocols"),
    (102, "Processing"),
    (200, "OK"),
    (201, "Created"),
    (202, "Accepted"),
    (203, "Non-Authoritative Information"),
    (204, "No Content"),
    (205, "Reset Content"),
    (206, "Partial Content"),
    (207, "Multi-Status"),
    (210, "Content Different"),
    (226, "IM Used"),
    (300, "Multiple Choices"),
    (301, "Moved Permanently"),
    (302, "Moved Temporarily"),
    (303, "See Other"),
    (304, "Not Modified"),
    (305, "Use Proxy"),
    (307, "Temporary Redirect"),
    (308, "Permanent Redirect"),
    (310, "Too many Redirects"),
    (400, "Bad Request"),
    (401, "Unauthorized"),
    (402, "Payment Required"),
    (403, "Forbidden"),
    (404, "Not Found"),
    (405, "Method Not Allowed"),
    (406, "Not Acceptable"),
    (407, "Proxy Authentication Required"),
    (408, "Request Time-out"),
    (409, "Conflict"),
    (410, "Gone"),
    (411, "Length Required"),
    (412, "Precondition Failed"),
    (413, "Request Entity Too Large"),
    (414, "Request-URI Too Long"),
    (415, "Unsupported Media Type"),
    (416, "Requested range unsatisfiable"),
    (417, "Expectation failed"),
    (418, "I'm a teapot"),
    (421, "Misdirected Request"),
    (422, "Unprocessable Content"),
    (423, "Locked"),
    (424, "Method failure"),
    (425, "Too Early"),
    (426, "Upgrade Required"),
    (428, "Precondition Required"),
    (429, "Too Many Requests"),
    (431, "Request Header Fields Too Large"),
    (449, "Retry With"),
    (450, "Blocked by Windows Parental Controls"),
    (451, "Unavailable For Legal Reasons"),
    (456, "Unrecoverable Error"),
    (499, "client has closed connection"),
    (500, "Internal Server Error"),
    (501, "Not Implemented"),
    (502, "Bad Gateway or Proxy Error"),
    (503, "Service Unavailable"),
    (504, "Gateway Time-out"),
    (505, "HTTP Version not supported"),
    (506, "Variant also negotiate"),
    (507, "Insufficient storage"),
    (508, "Loop detected"),
    (509, "Bandwidth Limit Exceeded"),
    (510, "Not extended"),
    (511, "Network authentication required"),
    (520, "Web server is returning an unknown error"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errorfiles_are_written_back_as_2_6_does() {
        // Captured from 2.6: the file's Connection header goes, and the
        // connection's fate is said only where the version needs it.
        let m = Message::parse(
            b"HTTP/1.1 503 Down\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\ndown\n",
        )
        .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&m.render(false).0),
            "HTTP/1.1 503 Down\r\ncontent-type: text/plain\r\ncontent-length: 5\r\n\r\ndown\n"
        );
        assert_eq!(
            String::from_utf8_lossy(&m.render(true).0),
            "HTTP/1.1 503 Down\r\ncontent-type: text/plain\r\ncontent-length: 5\r\nconnection: close\r\n\r\ndown\n"
        );
        let no_length =
            Message::parse(b"HTTP/1.1 503 Down\r\nContent-Type: text/plain\r\n\r\ndown\n").unwrap();
        assert_eq!(
            no_length.render(false),
            (
                b"HTTP/1.1 503 Down\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\ndown\n"
                    .to_vec(),
                true
            )
        );
        let old = Message::parse(b"HTTP/1.0 503 Down\r\nContent-Length: 5\r\n\r\ndown\n").unwrap();
        assert!(String::from_utf8_lossy(&old.render(false).0).contains("connection: keep-alive"));
        assert!(!String::from_utf8_lossy(&old.render(true).0).contains("connection"));
        let asks_close = Message::parse(
            b"HTTP/1.1 503 Down\r\nConnection: close\r\nContent-Length: 5\r\n\r\ndown\n",
        )
        .unwrap();
        assert!(
            asks_close.render(false).1,
            "the file's Connection: close is obeyed"
        );
        assert!(Message::parse(b"not http\r\n\r\n").is_none());
        let empty = Message::parse(b"").unwrap();
        assert_eq!(
            empty.render(false),
            (Vec::new(), true),
            "/dev/null: nothing, then close"
        );
    }

    #[test]
    fn reasons_follow_the_observed_table() {
        assert_eq!(http_reason(201), "Created");
        assert_eq!(http_reason(299), "Success");
        assert_eq!(http_reason(431), "Request Header Fields Too Large");
        assert_eq!(http_reason(302), "Moved Temporarily");
        assert_eq!(http_reason(777), "Other");
    }

    #[test]
    fn values_with_line_breaks_are_refused() {
        assert_eq!(check_value(b"a\r\nb: c"), Err(Unsafe));
        assert_eq!(check_value(b"a\nb"), Err(Unsafe));
        assert_eq!(check_value(b"a\0"), Err(Unsafe));
        assert_eq!(check_value(b"a\tb %0D"), Ok(()));
    }
}
