//! The PROXY protocol (haproxy.org/download/2.6/doc/proxy-protocol.txt):
//! a header in front of a connection's bytes that carries the original
//! client and destination addresses. Version 1 is a text line, version 2
//! a binary block; `accept-proxy` reads either, `send-proxy` and
//! `send-proxy-v2` write them towards servers.
use std::net::{IpAddr, SocketAddr};

/// The 12 bytes every version 2 header starts with.
pub const V2_SIG: &[u8; 12] = b"\r\n\r\n\0\r\nQUIT\n";

/// A v1 header is at most 107 bytes, CRLF included.
const V1_MAX: usize = 107;

/// What a header said.
#[derive(Debug, PartialEq, Eq)]
pub struct Header {
    /// Bytes the header takes at the start of the stream.
    pub len: usize,
    /// The original (source, destination), or None for `UNKNOWN`/`LOCAL`
    /// (keep the connection's own addresses).
    pub addrs: Option<(SocketAddr, SocketAddr)>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum ParseError {
    /// Not complete yet: read more.
    Incomplete,
    /// Not a valid PROXY header.
    Invalid,
}

/// Parses the header at the start of `b`.
pub fn parse(b: &[u8]) -> Result<Header, ParseError> {
    if b.is_empty() {
        return Err(ParseError::Incomplete);
    }
    let n = b.len().min(V2_SIG.len());
    if b[..n] == V2_SIG[..n] {
        return parse_v2(b);
    }
    let n = b.len().min(6);
    if b[..n] == b"PROXY "[..n] {
        return parse_v1(b);
    }
    Err(ParseError::Invalid)
}

fn parse_v1(b: &[u8]) -> Result<Header, ParseError> {
    let Some(end) = b.windows(2).position(|w| w == b"\r\n") else {
        return Err(if b.len() >= V1_MAX {
            ParseError::Invalid
        } else {
            ParseError::Incomplete
        });
    };
    if end + 2 > V1_MAX {
        return Err(ParseError::Invalid);
    }
    let line = std::str::from_utf8(&b[..end]).map_err(|_| ParseError::Invalid)?;
    let f: Vec<&str> = line.split(' ').collect();
    let len = end + 2;
    match f.get(1).copied() {
        Some("UNKNOWN") => Ok(Header { len, addrs: None }),
        Some(proto @ ("TCP4" | "TCP6")) if f.len() == 6 => {
            let ip = |s: &str| s.parse::<IpAddr>().map_err(|_| ParseError::Invalid);
            let port = |s: &str| {
                // Ports are decimal without leading zeros or signs.
                if s.is_empty() || (s.len() > 1 && s.starts_with('0')) {
                    return Err(ParseError::Invalid);
                }
                s.parse::<u16>().map_err(|_| ParseError::Invalid)
            };
            let (src, dst) = (ip(f[2])?, ip(f[3])?);
            if src.is_ipv4() != (proto == "TCP4") || dst.is_ipv4() != (proto == "TCP4") {
                return Err(ParseError::Invalid);
            }
            Ok(Header {
                len,
                addrs: Some((
                    SocketAddr::new(src, port(f[4])?),
                    SocketAddr::new(dst, port(f[5])?),
                )),
            })
        }
        _ => Err(ParseError::Invalid),
    }
}

fn parse_v2(b: &[u8]) -> Result<Header, ParseError> {
    if b.len() < 16 {
        return Err(ParseError::Incomplete);
    }
    let ver_cmd = b[12];
    if ver_cmd >> 4 != 2 {
        return Err(ParseError::Invalid);
    }
    let fam = b[13];
    let body_len = u16::from_be_bytes([b[14], b[15]]) as usize;
    let len = 16 + body_len;
    if b.len() < len {
        return Err(ParseError::Incomplete);
    }
    let body = &b[16..len];
    match ver_cmd & 0x0f {
        // LOCAL: a health check from the proxy itself; addresses unused.
        0 => return Ok(Header { len, addrs: None }),
        1 => {}
        _ => return Err(ParseError::Invalid),
    }
    let addrs = match fam {
        // TCP over IPv4: 4 + 4 + 2 + 2 bytes.
        0x11 if body.len() >= 12 => {
            let ip = |o: usize| IpAddr::from([body[o], body[o + 1], body[o + 2], body[o + 3]]);
            let port = |o: usize| u16::from_be_bytes([body[o], body[o + 1]]);
            Some((
                SocketAddr::new(ip(0), port(8)),
                SocketAddr::new(ip(4), port(10)),
            ))
        }
        // TCP over IPv6: 16 + 16 + 2 + 2 bytes.
        0x21 if body.len() >= 36 => {
            let ip = |o: usize| {
                let mut a = [0u8; 16];
                a.copy_from_slice(&body[o..o + 16]);
                IpAddr::from(a)
            };
            let port = |o: usize| u16::from_be_bytes([body[o], body[o + 1]]);
            Some((
                SocketAddr::new(ip(0), port(32)),
                SocketAddr::new(ip(16), port(34)),
            ))
        }
        0x11 | 0x21 => return Err(ParseError::Invalid),
        // UNSPEC and families without addresses we use (UDP, unix).
        _ => None,
    };
    Ok(Header { len, addrs })
}

/// A v1 header for a connection from `src` to `dst`.
pub fn v1(src: SocketAddr, dst: SocketAddr) -> Vec<u8> {
    let (src, dst) = same_family(src, dst);
    let proto = if src.is_ipv4() { "TCP4" } else { "TCP6" };
    format!(
        "PROXY {proto} {} {} {} {}\r\n",
        src.ip(),
        dst.ip(),
        src.port(),
        dst.port()
    )
    .into_bytes()
}

/// A v2 header (command PROXY, TCP) for a connection from `src` to `dst`.
pub fn v2(src: SocketAddr, dst: SocketAddr) -> Vec<u8> {
    let (src, dst) = same_family(src, dst);
    let mut out = V2_SIG.to_vec();
    out.push(0x21);
    let mut body = Vec::new();
    match (src.ip(), dst.ip()) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            out.push(0x11);
            body.extend(s.octets());
            body.extend(d.octets());
        }
        (s, d) => {
            out.push(0x21);
            body.extend(v6(s).octets());
            body.extend(v6(d).octets());
        }
    }
    body.extend(src.port().to_be_bytes());
    body.extend(dst.port().to_be_bytes());
    out.extend((body.len() as u16).to_be_bytes());
    out.extend(body);
    out
}

fn v6(ip: IpAddr) -> std::net::Ipv6Addr {
    match ip {
        IpAddr::V4(a) => a.to_ipv6_mapped(),
        IpAddr::V6(a) => a,
    }
}

/// Both addresses in one family: IPv4 when both are (or map to) IPv4.
fn same_family(src: SocketAddr, dst: SocketAddr) -> (SocketAddr, SocketAddr) {
    let canon = |a: SocketAddr| match a.ip() {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => SocketAddr::new(IpAddr::V4(v4), a.port()),
            None => a,
        },
        _ => a,
    };
    let (s, d) = (canon(src), canon(dst));
    if s.is_ipv4() == d.is_ipv4() {
        (s, d)
    } else {
        (
            SocketAddr::new(IpAddr::V6(v6(s.ip())), s.port()),
            SocketAddr::new(IpAddr::V6(v6(d.ip())), d.port()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_specs_v1_examples() {
        let h = parse(b"PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\nGET /").unwrap();
        assert_eq!(h.len, 56);
        assert_eq!(
            h.addrs,
            Some((
                "255.255.255.255:65535".parse().unwrap(),
                "255.255.255.255:65535".parse().unwrap()
            ))
        );
        let line = b"PROXY TCP6 ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n";
        assert_eq!(
            parse(line),
            Err(ParseError::Invalid),
            "the spec's placeholder is no address"
        );
        let h = parse(b"PROXY TCP6 2001:db8::1 ::1 1234 443\r\n").unwrap();
        assert_eq!(h.addrs.unwrap().0, "[2001:db8::1]:1234".parse().unwrap());
        assert_eq!(parse(b"PROXY UNKNOWN\r\n").unwrap().addrs, None);
        assert_eq!(
            parse(b"PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n")
                .unwrap()
                .addrs,
            None
        );
        assert_eq!(parse(b"PROXY TCP4 1.2.3.4"), Err(ParseError::Incomplete));
        assert_eq!(parse(b"PROX"), Err(ParseError::Incomplete));
        assert_eq!(parse(b"GET / HTTP/1.1\r\n"), Err(ParseError::Invalid));
        assert_eq!(
            parse(b"PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n"),
            Err(ParseError::Invalid)
        );
        assert_eq!(
            parse(b"PROXY TCP4 ::1 5.6.7.8 1 2\r\n"),
            Err(ParseError::Invalid)
        );
    }

    #[test]
    fn v2_round_trips_and_local() {
        let (s, d) = (
            "192.0.2.1:5000".parse().unwrap(),
            "198.51.100.2:443".parse().unwrap(),
        );
        let h = v2(s, d);
        assert_eq!(h.len(), 28);
        assert_eq!(&h[12..16], &[0x21, 0x11, 0x00, 0x0c]);
        let p = parse(&h).unwrap();
        assert_eq!((p.len, p.addrs), (28, Some((s, d))));
        let (s6, d6) = (
            "[2001:db8::1]:1".parse().unwrap(),
            "[2001:db8::2]:2".parse().unwrap(),
        );
        let h = v2(s6, d6);
        assert_eq!(h.len(), 16 + 36);
        assert_eq!(parse(&h).unwrap().addrs, Some((s6, d6)));
        for n in 0..h.len() {
            assert_eq!(parse(&h[..n]), Err(ParseError::Incomplete), "prefix {n}");
        }
        let mut local = V2_SIG.to_vec();
        local.extend([0x20, 0x00, 0x00, 0x00]);
        assert_eq!(
            parse(&local).unwrap(),
            Header {
                len: 16,
                addrs: None
            }
        );
        assert_eq!(parse(&v1(s, d)).unwrap().addrs, Some((s, d)));
        assert_eq!(v1(s, d), b"PROXY TCP4 192.0.2.1 198.51.100.2 5000 443\r\n");
    }
}
