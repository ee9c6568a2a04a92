//! Errorfiles as HAProxy 2.6 reads them: a complete HTTP response (status
//! line, headers, payload) checked when the configuration is loaded. The
//! checker and the runtime share this reading, so a file `-c` accepts is a
//! file the proxy can send. The rules (and the error offsets 2.6 reports)
//! were observed from 2.6 on crafted files.

/// A parsed errorfile; the slices borrow the file's bytes.
#[derive(Debug, PartialEq, Eq)]
pub struct Response<'a> {
    /// The version token: 8 bytes of `A-Z0-9/.` (2.6 checks no more).
    pub version: &'a [u8],
    /// The status digits.
    pub status: &'a [u8],
    pub reason: &'a [u8],
    /// Header names as written, values without surrounding blanks.
    pub headers: Vec<(&'a [u8], &'a [u8])>,
    pub body: &'a [u8],
}

/// Why 2.6 refuses an errorfile.
#[derive(Debug, PartialEq, Eq)]
pub enum Problem {
    /// The head does not parse: the offset of the faulty byte, -2 when the
    /// head is incomplete (2.6's `error offset`).
    Offset(i64),
    /// The payload's length differs from its Content-Length.
    PayloadSize { body: usize, announced: u64 },
    /// A chunked payload.
    Chunked,
    /// A version token that is not 8 bytes long.
    Version(String),
    /// A 1xx status other than 101.
    Interim(u64),
    /// A payload after a 204 or 304.
    UnexpectedPayload,
}

impl Problem {
    /// 2.6's words after the keyword's prefix, for the file `path`.
    pub fn message(&self, path: &str) -> String {
        match self {
            Problem::Offset(o) => format!("'{path}': unable to parse headers (error offset: {o})"),
            Problem::PayloadSize { body, announced } => format!(
                "'{path}': payload size does not match the announced content-length ({body} != {announced})"
            ),
            Problem::Chunked => format!("'{path}': chunk-encoded payload not supported"),
            Problem::UnexpectedPayload => format!("'{path}': message payload not expected"),
            Problem::Version(v) => format!("'{path}': invalid http version ({v})"),
            Problem::Interim(s) => {
                format!("'{path}': invalid http status code for an error message ({s})")
            }
        }
    }
}

fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Reads an errorfile's bytes; `Ok(None)` for an empty file, which 2.6
/// accepts (it then sends nothing).
pub fn parse(raw: &[u8]) -> Result<Option<Response<'_>>, Problem> {
    if raw.is_empty() {
        return Ok(None);
    }
    let incomplete = Problem::Offset(-2);
    let at = |i: usize| raw.get(i).copied();
    let mut i = 0;
    // Empty lines before the status line are skipped.
    while matches!(at(i), Some(b'\r' | b'\n')) {
        i += 1;
    }
    let start = i;
    while at(i)
        .is_some_and(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'/' || b == b'.')
    {
        i += 1;
    }
    match at(i) {
        None => return Err(incomplete),
        Some(b) if is_blank(b) && i > start => {}
        Some(_) => return Err(Problem::Offset(i as i64)),
    }
    let version = &raw[start..i];
    while at(i).is_some_and(is_blank) {
        i += 1;
    }
    let start = i;
    while at(i).is_some_and(|b| b.is_ascii_digit()) {
        i += 1;
    }
    match at(i) {
        None => return Err(incomplete),
        Some(b) if (is_blank(b) || b == b'\r' || b == b'\n') && i > start => {}
        Some(_) => return Err(Problem::Offset(i as i64)),
    }
    let status = &raw[start..i];
    while at(i).is_some_and(is_blank) {
        i += 1;
    }
    let start = i;
    while at(i).is_some_and(|b| b != b'\n') {
        i += 1;
    }
    if at(i).is_none() {
        return Err(incomplete);
    }
    let reason = raw[start..i].strip_suffix(b"\r").unwrap_or(&raw[start..i]);
    i += 1;
    let mut headers = Vec::new();
    let mut length: Option<(u64, usize)> = None;
    let mut chunked = false;
    loop {
        match at(i) {
            None => return Err(incomplete),
            Some(b'\n') => {
                i += 1;
                break;
            }
            Some(b'\r') if at(i + 1) == Some(b'\n') => {
                i += 2;
                break;
            }
            Some(b'\r') if at(i + 1).is_none() => return Err(incomplete),
            _ => {}
        }
        let start = i;
        while at(i).is_some_and(is_token) {
            i += 1;
        }
        match at(i) {
            None => return Err(incomplete),
            Some(b':') if i > start => {}
            Some(_) => return Err(Problem::Offset(i as i64)),
        }
        let name = &raw[start..i];
        i += 1;
        while at(i).is_some_and(is_blank) {
            i += 1;
        }
        let vstart = i;
        while at(i).is_some_and(|b| b != b'\n') {
            i += 1;
        }
        if at(i).is_none() {
            return Err(incomplete);
        }
        let value = raw[vstart..i].trim_ascii_end();
        i += 1;
        if name.eq_ignore_ascii_case(b"content-length") {
            // Comma-separated copies of one length are one length.
            let mut n: Option<u64> = None;
            for part in value.split(|b| *b == b',') {
                let part = part.trim_ascii();
                let v = std::str::from_utf8(part)
                    .ok()
                    .filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
                    .and_then(|p| p.parse::<u64>().ok());
                match (v, n) {
                    (Some(v), None) => n = Some(v),
                    (Some(v), Some(prev)) if v == prev => {}
                    _ => return Err(Problem::Offset(vstart as i64)),
                }
            }
            match (n, length) {
                (Some(v), Some((prev, _))) if v != prev => {
                    return Err(Problem::Offset(vstart as i64))
                }
                (Some(v), _) => length = Some((v, vstart)),
                (None, _) => return Err(Problem::Offset(vstart as i64)),
            }
        }
        chunked |= name.eq_ignore_ascii_case(b"transfer-encoding")
            && value
                .split(|b| *b == b',')
                .any(|t| t.trim_ascii().eq_ignore_ascii_case(b"chunked"));
        headers.push((name, value));
    }
    // Checks of the parsed head, in 2.6's order.
    if version.len() != 8 {
        return Err(Problem::Version(
            String::from_utf8_lossy(version).into_owned(),
        ));
    }
    let code: u64 = std::str::from_utf8(status)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    if code < 200 && (code == 100 || code >= 102) {
        return Err(Problem::Interim(code));
    }
    if chunked {
        return Err(Problem::Chunked);
    }
    let body = &raw[i..];
    if (code == 204 || code == 304) && !body.is_empty() {
        return Err(Problem::UnexpectedPayload);
    }
    if let Some((announced, _)) = length {
        if body.len() as u64 != announced {
            return Err(Problem::PayloadSize {
                body: body.len(),
                announced,
            });
        }
    }
    Ok(Some(Response {
        version,
        status,
        reason,
        headers,
        body,
    }))
}

/// Reads and checks the errorfile at `path`: Err holds 2.6's complaint
/// after the keyword's prefix (`errorfile : `).
pub fn check_file(path: &str) -> Result<(), String> {
    let raw = std::fs::read(path).map_err(|_| format!("error opening file '{path}'."))?;
    parse(&raw).map(|_| ()).map_err(|p| p.message(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offset(raw: &str) -> Result<(), Problem> {
        parse(raw.as_bytes()).map(|_| ())
    }

    #[test]
    fn offsets_as_2_6_reports_them() {
        // Each case and offset observed from 2.6.
        assert_eq!(
            offset("HTTP/1.1 503 X\r\nBad Header: v\r\n\r\n"),
            Err(Problem::Offset(19))
        );
        assert_eq!(offset("HTTP/1.1 5x3 X\r\n\r\n"), Err(Problem::Offset(10)));
        assert_eq!(
            offset("HTTP/1.1 503 X\r\nA: b\r\nno-colon\r\n\r\n"),
            Err(Problem::Offset(30))
        );
        assert_eq!(
            offset("HTTP/1.1 503 X\r\nA: b\r\n"),
            Err(Problem::Offset(-2))
        );
        assert_eq!(offset("HTTP/1.1 503 X"), Err(Problem::Offset(-2)));
        assert_eq!(offset("garbage\n"), Err(Problem::Offset(0)));
        assert_eq!(offset("hTTP/1.1 503 X\r\n\r\n"), Err(Problem::Offset(0)));
        assert_eq!(offset("HTTP/1.1x 503 X\r\n\r\n"), Err(Problem::Offset(8)));
        assert_eq!(
            offset("HTTP/1.1 503 X\r\n: v\r\n\r\n"),
            Err(Problem::Offset(16))
        );
        assert_eq!(
            offset("HTTP/1.1 503 X\r\nA\x01: v\r\n\r\n"),
            Err(Problem::Offset(17))
        );
        assert_eq!(
            offset("HTTP/1.1 503 X\r\nContent-Length: x\r\n\r\n"),
            Err(Problem::Offset(32))
        );
        assert_eq!(
            offset("HTTP/1.1 503 X\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nab"),
            Err(Problem::Offset(51))
        );
        assert_eq!(
            offset("HTTP/1.1 503 X\r\nContent-Length: 2\r\n\r\nbody"),
            Err(Problem::PayloadSize {
                body: 4,
                announced: 2
            })
        );
        assert_eq!(
            offset("HTTP/1.1 503 X\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
            Err(Problem::Chunked)
        );
        assert_eq!(
            offset("ABC 503 X\r\n\r\n"),
            Err(Problem::Version("ABC".into()))
        );
        assert_eq!(offset("HTTP/1.1 100 X\r\n\r\n"), Err(Problem::Interim(100)));
        assert_eq!(
            offset("HTTP/1.1 204 X\r\nContent-Length: 3\r\n\r\nabc"),
            Err(Problem::UnexpectedPayload)
        );
        for fine in [
            "HTTQ/1.1 503 X\r\n\r\n",
            "HTTP/1.1 101 X\r\n\r\n",
            "HTTP/1.1 250 X\r\n\r\n",
            "HTTP/1.1 503\r\n\r\n",
            "HTTP/1.1  503 X\r\n\r\n",
            "HTTP/1.1 503 X\r\nA:v\r\n\r\n",
            "HTTP/1.1 503 X\nA: v\n\n",
            "HTTP/1.1 503 X\r\nA: v\x01\r\n\r\n",
            "\r\nHTTP/1.1 503 X\r\n\r\n",
            "HTTP/1.1 503 X\r\nContent-Length: 2, 2\r\n\r\nab",
        ] {
            assert_eq!(offset(fine), Ok(()), "{fine:?}");
        }
        assert_eq!(parse(b""), Ok(None));
    }

    #[test]
    fn any_bytes_are_read_without_panicking() {
        // Deterministic pseudo-random files, biased towards HTTP's bytes.
        let alphabet = b"HTTP/1.0 23:\r\n,;Content-Length:chunked\x01\xff";
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for len in 0..2000usize {
            let raw: Vec<u8> = (0..len % 97)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    alphabet[(x % alphabet.len() as u64) as usize]
                })
                .collect();
            let _ = parse(&raw);
        }
    }

    #[test]
    fn parts_of_a_response() {
        let r = parse(b"HTTP/1.0 403 Forbidden\r\nX-Err:  file \r\n\r\nbody\n")
            .unwrap()
            .unwrap();
        assert_eq!(r.version, b"HTTP/1.0");
        assert_eq!(r.status, b"403");
        assert_eq!(r.reason, b"Forbidden");
        assert_eq!(r.headers, vec![(&b"X-Err"[..], &b"file"[..])]);
        assert_eq!(r.body, b"body\n");
    }
}
