//! HTTP/1.x message heads with httparse, and how each message's body is
//! delimited. Header names are lower-cased here, once, because HAProxy 2.6
//! sends them lower-cased in both directions.

/// At most this many headers in a message (HAProxy's `tune.http.maxhdr`).
pub const MAX_HEADERS: usize = 101;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// Lower-cased.
    pub name: String,
    pub value: Vec<u8>,
    /// Which bytes of the name arrived upper-case (bit i for byte i; bytes
    /// past the 64th count as lower-case). Only HAProxy 1.5's regex rules
    /// look at it: they match whole lines as the peer wrote them.
    pub upper: u64,
}

impl Header {
    /// A header whose name is already lower-case.
    pub fn new(name: impl Into<String>, value: impl Into<Vec<u8>>) -> Header {
        Header {
            name: name.into(),
            value: value.into(),
            upper: 0,
        }
    }

    /// A header named as written (`X-Foo`): stored lower-cased, the case
    /// remembered.
    pub fn as_written(name: &str, value: impl Into<Vec<u8>>) -> Header {
        Header {
            name: name.to_ascii_lowercase(),
            value: value.into(),
            upper: upper_bits(name),
        }
    }

    /// The name with the case it was received or written with.
    pub fn written_name(&self) -> String {
        self.name
            .bytes()
            .enumerate()
            .map(|(i, b)| {
                if i < 64 && self.upper & (1 << i) != 0 {
                    b.to_ascii_uppercase() as char
                } else {
                    b as char
                }
            })
            .collect()
    }
}

/// The `upper` bits of a name as written.
pub fn upper_bits(name: &str) -> u64 {
    name.bytes()
        .take(64)
        .enumerate()
        .filter(|(_, b)| b.is_ascii_uppercase())
        .fold(0, |m, (i, _)| m | 1 << i)
}

#[derive(Clone, Debug)]
pub struct RequestHead {
    pub method: String,
    pub uri: String,
    /// Minor version: 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub minor: u8,
    pub headers: Vec<Header>,
}

#[derive(Clone, Debug)]
pub struct ResponseHead {
    pub minor: u8,
    pub status: u16,
    pub reason: String,
    pub headers: Vec<Header>,
}

/// How a message body ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyKind {
    None,
    Length(u64),
    Chunked,
    /// Only for responses: the body runs until the server closes.
    UntilClose,
}

/// Why a message head is refused (HAProxy answers 400 to a client, 502 for
/// a server).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HeadError {
    Invalid,
    TooManyHeaders,
    /// Two different Content-Length values, or one that is not a number.
    BadContentLength,
    /// A Transfer-Encoding whose last coding is not `chunked`.
    BadTransferEncoding,
}

/// Parses a request head from `buf`; `Ok(None)` when it is not complete yet.
/// Returns the head and its length in bytes.
pub fn parse_request(buf: &[u8]) -> Result<Option<(RequestHead, usize)>, HeadError> {
    let mut raw = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut raw);
    let n = match req.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => return Err(HeadError::TooManyHeaders),
        Err(_) => return Err(HeadError::Invalid),
    };
    let head = RequestHead {
        method: req.method.unwrap_or_default().to_string(),
        uri: req.path.unwrap_or_default().to_string(),
        minor: req.version.unwrap_or(1),
        headers: lower_headers(req.headers),
    };
    Ok(Some((head, n)))
}

/// Parses a response head from `buf`; `Ok(None)` when it is not complete yet.
pub fn parse_response(buf: &[u8]) -> Result<Option<(ResponseHead, usize)>, HeadError> {
    let mut raw = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut res = httparse::Response::new(&mut raw);
    let n = match res.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => return Err(HeadError::TooManyHeaders),
        Err(_) => return Err(HeadError::Invalid),
    };
    let head = ResponseHead {
        minor: res.version.unwrap_or(1),
        status: res.code.unwrap_or(0),
        reason: res.reason.unwrap_or_default().to_string(),
        headers: lower_headers(res.headers),
    };
    Ok(Some((head, n)))
}

fn lower_headers(raw: &[httparse::Header]) -> Vec<Header> {
    raw.iter()
        .map(|h| Header::as_written(h.name, h.value))
        .collect()
}

/// The values of header `name` (lower-case), in order.
pub fn values<'h>(headers: &'h [Header], name: &'h str) -> impl Iterator<Item = &'h [u8]> + 'h {
    headers
        .iter()
        .filter(move |h| h.name == name)
        .map(|h| h.value.as_slice())
}

/// Comma-separated tokens of all `name` headers, lower-cased and trimmed.
pub fn tokens(headers: &[Header], name: &str) -> Vec<String> {
    values(headers, name)
        .flat_map(|v| v.split(|b| *b == b','))
        .map(|t| String::from_utf8_lossy(t).trim().to_ascii_lowercase())
        .filter(|t| !t.is_empty())
        .collect()
}

/// Decides how a message body is framed and normalises the framing headers
/// as HAProxy 2.6 does: with Transfer-Encoding, Content-Length is dropped;
/// several identical Content-Length headers become one; differing ones are
/// an error.
pub fn frame_body(headers: &mut Vec<Header>, is_request: bool) -> Result<BodyKind, HeadError> {
    let te = tokens(headers, "transfer-encoding");
    if !te.is_empty() {
        if te.last().map(String::as_str) != Some("chunked") {
            return Err(HeadError::BadTransferEncoding);
        }
        headers.retain(|h| h.name != "content-length");
        return Ok(BodyKind::Chunked);
    }
    let mut len: Option<u64> = None;
    for v in values(headers, "content-length") {
        for part in v.split(|b| *b == b',') {
            let s = std::str::from_utf8(part)
                .map_err(|_| HeadError::BadContentLength)?
                .trim();
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(HeadError::BadContentLength);
            }
            let n: u64 = s.parse().map_err(|_| HeadError::BadContentLength)?;
            match len {
                Some(prev) if prev != n => return Err(HeadError::BadContentLength),
                _ => len = Some(n),
            }
        }
    }
    if let Some(n) = len {
        // Keep a single, clean Content-Length header in place of the first.
        let first = headers.iter().position(|h| h.name == "content-length");
        let upper = first.map_or(0, |i| headers[i].upper);
        headers.retain(|h| h.name != "content-length");
        if let Some(i) = first {
            let mut h = Header::new("content-length", n.to_string());
            h.upper = upper;
            headers.insert(i.min(headers.len()), h);
        }
        return Ok(BodyKind::Length(n));
    }
    Ok(if is_request {
        BodyKind::None
    } else {
        BodyKind::UntilClose
    })
}

/// Parses a chunk-size line (`1a;ext=1\r\n`): the size, or None when it is
/// malformed. `line` excludes the CRLF.
pub fn chunk_size(line: &[u8]) -> Option<u64> {
    let hex = line.split(|b| *b == b';').next()?;
    let hex = trim(hex);
    if hex.is_empty() || hex.len() > 16 || !hex.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    u64::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()
}

fn trim(s: &[u8]) -> &[u8] {
    let start = s
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t'))
        .unwrap_or(s.len());
    let end = s
        .iter()
        .rposition(|b| !matches!(b, b' ' | b'\t'))
        .map_or(start, |e| e + 1);
    &s[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_heads_and_lowercasing() {
        let (h, n) = parse_request(b"GET /a?b=1 HTTP/1.1\r\nHost: X\r\nX-Foo: Bar\r\n\r\nbody")
            .unwrap()
            .unwrap();
        assert_eq!(
            (h.method.as_str(), h.uri.as_str(), h.minor, n),
            ("GET", "/a?b=1", 1, 44)
        );
        assert_eq!(h.headers[0], Header::as_written("Host", "X"));
        assert_eq!(h.headers[0].name, "host");
        assert_eq!(
            h.headers[1].written_name(),
            "X-Foo",
            "the case is remembered"
        );
        assert!(parse_request(b"GET / HTTP/1.1\r\nHost: x\r\n")
            .unwrap()
            .is_none());
        assert_eq!(
            parse_request(b"garbage\r\n\r\n").unwrap_err(),
            HeadError::Invalid
        );
        assert_eq!(
            parse_request(b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n").unwrap_err(),
            HeadError::Invalid
        );
    }

    #[test]
    fn framing_rules() {
        let h = |list: &[(&str, &str)]| -> Vec<Header> {
            list.iter()
                .map(|(n, v)| Header::new(*n, v.as_bytes()))
                .collect()
        };
        let mut hs = h(&[("content-length", "10"), ("transfer-encoding", "chunked")]);
        assert_eq!(frame_body(&mut hs, true), Ok(BodyKind::Chunked));
        assert!(
            hs.iter().all(|x| x.name != "content-length"),
            "TE wins and CL is dropped"
        );
        let mut hs = h(&[("content-length", "10"), ("content-length", "11")]);
        assert_eq!(frame_body(&mut hs, true), Err(HeadError::BadContentLength));
        let mut hs = h(&[("content-length", "10"), ("content-length", "10")]);
        assert_eq!(frame_body(&mut hs, true), Ok(BodyKind::Length(10)));
        assert_eq!(hs.len(), 1);
        let mut hs = h(&[("content-length", "1x")]);
        assert_eq!(frame_body(&mut hs, true), Err(HeadError::BadContentLength));
        let mut hs = h(&[("transfer-encoding", "chunked, gzip")]);
        assert_eq!(
            frame_body(&mut hs, true),
            Err(HeadError::BadTransferEncoding)
        );
        assert_eq!(frame_body(&mut vec![], true), Ok(BodyKind::None));
        assert_eq!(frame_body(&mut vec![], false), Ok(BodyKind::UntilClose));
    }

    #[test]
    fn chunk_sizes() {
        assert_eq!(chunk_size(b"1a"), Some(26));
        assert_eq!(chunk_size(b"0;ext=1"), Some(0));
        assert_eq!(chunk_size(b"zz"), None);
        assert_eq!(chunk_size(b""), None);
        assert_eq!(chunk_size(b"11111111111111111"), None);
    }
}
