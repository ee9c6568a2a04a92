//! Socket addresses as HAProxy writes them in `bind`, `server`, `log` and
//! `stats socket`: `host:port`, `[v6]:port`, `*:port`, `:port`, port ranges,
//! `/path`, and the `family@` prefixes (`ipv4@`, `ipv6@`, `tcp@`, `udp@`,
//! `unix@`, `abns@`, `fd@N`, `sockpair@N`, ...).
use nom::branch::alt;
use nom::bytes::complete::{tag, take_while1};
use nom::character::complete::digit1;
use nom::combinator::{all_consuming, map_res, opt};
use nom::sequence::{preceded, separated_pair};
use nom::IResult;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Stream,
    Dgram,
}

/// Which address family a `family@` prefix forces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    Any,
    V4,
    V6,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Host {
    /// `*`, empty, `0.0.0.0` or `::` when written so.
    Wildcard,
    Ip(IpAddr),
    /// A name, resolved at start-up (servers) or right away (binds).
    Name(String),
}

/// The port part: none, one port, a range (binds), or an offset from the
/// client's destination port (`+N` / `-N`, servers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Port {
    None,
    One(u16),
    Range(u16, u16),
    Offset(i32),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Address {
    Inet {
        host: Host,
        port: Port,
        family: Family,
        transport: Transport,
    },
    Unix {
        path: String,
        transport: Transport,
    },
    Abns(String),
    /// A socket inherited from the parent, by number.
    Fd(i32),
    /// One end of a socketpair inherited from the parent, by number.
    SockPair(i32),
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Inet { host, port, .. } => {
                match host {
                    Host::Wildcard => write!(f, "*")?,
                    Host::Ip(IpAddr::V6(a)) => write!(f, "[{a}]")?,
                    Host::Ip(a) => write!(f, "{a}")?,
                    Host::Name(n) => write!(f, "{n}")?,
                }
                match port {
                    Port::None => Ok(()),
                    Port::One(p) => write!(f, ":{p}"),
                    Port::Range(a, b) => write!(f, ":{a}-{b}"),
                    Port::Offset(o) => write!(f, ":{o:+}"),
                }
            }
            Address::Unix { path, .. } => write!(f, "unix@{path}"),
            Address::Abns(n) => write!(f, "abns@{n}"),
            Address::Fd(n) => write!(f, "fd@{n}"),
            Address::SockPair(n) => write!(f, "sockpair@{n}"),
        }
    }
}

/// What the caller accepts; the same text means different things in a
/// `bind` line (ranges allowed, port required) and a `server` line.
#[derive(Clone, Copy, Debug, Default)]
pub struct AddrRules {
    pub port_required: bool,
    pub port_range_ok: bool,
    pub port_offset_ok: bool,
    pub dgram: bool,
}

/// Why an address was refused, with HAProxy's words (after `'bind' : `).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AddrError {
    InvalidPort(String),
    InvalidPortRange(String),
    MissingPort(String),
    InvalidAddress { host: String, full: String },
    BadFd(String),
    UnknownFamily(String),
}

impl fmt::Display for AddrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AddrError::InvalidPort(p) => write!(f, "invalid port '{p}'"),
            AddrError::InvalidPortRange(p) => write!(f, "invalid port range '{p}'"),
            AddrError::MissingPort(a) => write!(f, "missing port specification in '{a}'"),
            AddrError::InvalidAddress { host, full } => {
                write!(f, "invalid address: '{host}' in '{full}'")
            }
            AddrError::BadFd(s) => write!(f, "file descriptor '{s}' is not a valid integer"),
            AddrError::UnknownFamily(s) => write!(f, "unknown address family '{s}'"),
        }
    }
}

fn port_num(s: &str) -> IResult<&str, u32> {
    map_res(digit1, str::parse::<u32>)(s)
}

/// `<port>` or `<low>-<high>`
fn port_spec(s: &str) -> IResult<&str, (u32, Option<u32>)> {
    let (s, lo) = port_num(s)?;
    let (s, hi) = opt(preceded(tag("-"), port_num))(s)?;
    Ok((s, (lo, hi)))
}

fn parse_port(text: &str, rules: AddrRules) -> Result<Port, AddrError> {
    if text.is_empty() {
        return Ok(Port::None);
    }
    if rules.port_offset_ok && (text.starts_with('+') || text.starts_with('-')) {
        return text[1..]
            .parse::<u16>()
            .map(|n| {
                Port::Offset(if text.starts_with('-') {
                    -(n as i32)
                } else {
                    n as i32
                })
            })
            .map_err(|_| AddrError::InvalidPort(text.into()));
    }
    match all_consuming(port_spec)(text) {
        Ok((_, (lo, None))) if (1..=65535).contains(&lo) || (lo == 0 && !rules.port_required) => {
            Ok(Port::One(lo as u16))
        }
        Ok((_, (lo, Some(hi)))) if rules.port_range_ok => {
            if (1..=65535).contains(&lo) && (1..=65535).contains(&hi) && lo <= hi {
                Ok(Port::Range(lo as u16, hi as u16))
            } else {
                Err(AddrError::InvalidPortRange(text.into()))
            }
        }
        _ => Err(AddrError::InvalidPort(text.into())),
    }
}

/// `[v6]` or `v6` before the last colon
fn split_host_port(s: &str) -> (&str, Option<&str>) {
    fn bracketed(s: &str) -> IResult<&str, (&str, Option<&str>)> {
        let (s, _) = tag("[")(s)?;
        let (s, host) = take_while1(|c| c != ']')(s)?;
        let (s, _) = tag("]")(s)?;
        let (s, port) = opt(preceded(tag(":"), nom::combinator::rest))(s)?;
        Ok((s, (host, port)))
    }
    if let Ok(("", hp)) = bracketed(s) {
        return hp;
    }
    match s.rfind(':') {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    }
}

fn prefix(s: &str) -> IResult<&str, &str> {
    let (rest, (p, _)) = separated_pair(
        alt((
            tag("ipv4"),
            tag("ipv6"),
            tag("ip"),
            tag("tcp4"),
            tag("tcp6"),
            tag("tcp"),
            tag("udp4"),
            tag("udp6"),
            tag("udp"),
            tag("unix"),
            tag("uxst"),
            tag("uxdg"),
            tag("abns"),
            tag("fd"),
            tag("sockpair"),
        )),
        tag("@"),
        nom::combinator::success(()),
    )(s)?;
    Ok((rest, p))
}

/// Parses one address. Host names are kept as names; resolving them is the
/// caller's business (at parse time for binds, at start-up for servers).
pub fn parse_address(text: &str, rules: AddrRules) -> Result<Address, AddrError> {
    let stream = if rules.dgram {
        Transport::Dgram
    } else {
        Transport::Stream
    };
    let (rest, family, transport) = match prefix(text) {
        Ok((rest, p)) => match p {
            "unix" | "uxst" => {
                return Ok(Address::Unix {
                    path: rest.into(),
                    transport: Transport::Stream,
                })
            }
            "uxdg" => {
                return Ok(Address::Unix {
                    path: rest.into(),
                    transport: Transport::Dgram,
                })
            }
            "abns" => return Ok(Address::Abns(rest.into())),
            "fd" | "sockpair" => {
                let n: i32 = rest.parse().map_err(|_| AddrError::BadFd(rest.into()))?;
                return Ok(if p == "fd" {
                    Address::Fd(n)
                } else {
                    Address::SockPair(n)
                });
            }
            "ipv4" => (rest, Family::V4, stream),
            "ipv6" => (rest, Family::V6, stream),
            "ip" => (rest, Family::Any, stream),
            "tcp4" => (rest, Family::V4, Transport::Stream),
            "tcp6" => (rest, Family::V6, Transport::Stream),
            "tcp" => (rest, Family::Any, Transport::Stream),
            "udp4" => (rest, Family::V4, Transport::Dgram),
            "udp6" => (rest, Family::V6, Transport::Dgram),
            _ => (rest, Family::Any, Transport::Dgram),
        },
        Err(_) => {
            if text.starts_with('/') {
                return Ok(Address::Unix {
                    path: text.into(),
                    transport: stream,
                });
            }
            if let Some(i) = text.find('@') {
                if !text[..i].contains(':') && !text[..i].contains('[') {
                    return Err(AddrError::UnknownFamily(text[..i + 1].into()));
                }
            }
            (text, Family::Any, stream)
        }
    };
    let (host_text, port_text) = split_host_port(rest);
    let port = parse_port(port_text.unwrap_or(""), rules)?;
    if port == Port::None && rules.port_required {
        return Err(AddrError::MissingPort(text.into()));
    }
    let host = match host_text {
        "" | "*" => Host::Wildcard,
        h => match h.parse::<IpAddr>() {
            Ok(ip) => Host::Ip(ip),
            Err(_) if looks_numeric(h) => {
                return Err(AddrError::InvalidAddress {
                    host: h.into(),
                    full: text.into(),
                })
            }
            Err(_) => Host::Name(h.into()),
        },
    };
    let family = match (&host, family) {
        (Host::Ip(IpAddr::V4(_)), _) => Family::V4,
        (Host::Ip(IpAddr::V6(_)), _) => Family::V6,
        (_, f) => f,
    };
    Ok(Address::Inet {
        host,
        port,
        family,
        transport,
    })
}

/// A dotted-quad shape that is not a valid IPv4 address must not go to DNS.
fn looks_numeric(h: &str) -> bool {
    h.bytes().all(|b| b.is_ascii_digit() || b == b'.')
}

/// The wildcard address for a family, as binds use it.
pub fn wildcard_ip(family: Family) -> IpAddr {
    match family {
        Family::V6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        _ => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BIND: AddrRules = AddrRules {
        port_required: true,
        port_range_ok: true,
        port_offset_ok: false,
        dgram: false,
    };
    const SERVER: AddrRules = AddrRules {
        port_required: false,
        port_range_ok: false,
        port_offset_ok: true,
        dgram: false,
    };

    fn inet(a: Address) -> (Host, Port, Family) {
        match a {
            Address::Inet {
                host, port, family, ..
            } => (host, port, family),
            other => panic!("not inet: {other:?}"),
        }
    }

    #[test]
    fn ipv4_ipv6_and_wildcards() {
        assert_eq!(
            inet(parse_address("127.0.0.1:80", BIND).unwrap()).1,
            Port::One(80)
        );
        assert_eq!(inet(parse_address("*:80", BIND).unwrap()).0, Host::Wildcard);
        assert_eq!(inet(parse_address(":80", BIND).unwrap()).0, Host::Wildcard);
        let (h, p, f) = inet(parse_address("[::1]:8443", BIND).unwrap());
        assert_eq!(
            (h, p, f),
            (
                Host::Ip("::1".parse().unwrap()),
                Port::One(8443),
                Family::V6
            )
        );
        let (h, p, _) = inet(parse_address(":::80", BIND).unwrap());
        assert_eq!((h, p), (Host::Ip("::".parse().unwrap()), Port::One(80)));
        assert_eq!(inet(parse_address("ipv6@:80", BIND).unwrap()).2, Family::V6);
    }

    #[test]
    fn ports_and_ranges() {
        assert_eq!(
            inet(parse_address("1.2.3.4:8000-8010", BIND).unwrap()).1,
            Port::Range(8000, 8010)
        );
        assert_eq!(
            parse_address("1.2.3.4:80-79", BIND),
            Err(AddrError::InvalidPortRange("80-79".into()))
        );
        assert_eq!(
            parse_address("1.2.3.4:70000", BIND),
            Err(AddrError::InvalidPort("70000".into()))
        );
        assert_eq!(
            parse_address("127.0.0.1", BIND),
            Err(AddrError::MissingPort("127.0.0.1".into()))
        );
        assert_eq!(
            inet(parse_address("127.0.0.1", SERVER).unwrap()).1,
            Port::None
        );
        assert_eq!(
            inet(parse_address("127.0.0.1:+1", SERVER).unwrap()).1,
            Port::Offset(1)
        );
        assert_eq!(
            parse_address("127.0.0.1:99999", SERVER),
            Err(AddrError::InvalidPort("99999".into()))
        );
    }

    #[test]
    fn names_and_bad_numbers() {
        assert_eq!(
            inet(parse_address("web1.example:80", SERVER).unwrap()).0,
            Host::Name("web1.example".into())
        );
        assert_eq!(
            parse_address("999.1.1.1:80", BIND),
            Err(AddrError::InvalidAddress {
                host: "999.1.1.1".into(),
                full: "999.1.1.1:80".into()
            })
        );
    }

    #[test]
    fn prefixed_forms() {
        assert_eq!(
            parse_address("unix@/tmp/s", BIND),
            Ok(Address::Unix {
                path: "/tmp/s".into(),
                transport: Transport::Stream
            })
        );
        assert_eq!(
            parse_address("/var/run/s", BIND),
            Ok(Address::Unix {
                path: "/var/run/s".into(),
                transport: Transport::Stream
            })
        );
        assert_eq!(
            parse_address("abns@foo", BIND),
            Ok(Address::Abns("foo".into()))
        );
        assert_eq!(parse_address("fd@3", BIND), Ok(Address::Fd(3)));
        assert_eq!(parse_address("sockpair@4", BIND), Ok(Address::SockPair(4)));
        assert!(matches!(
            parse_address("udp@127.0.0.1:514", BIND),
            Ok(Address::Inet {
                transport: Transport::Dgram,
                ..
            })
        ));
    }
}
