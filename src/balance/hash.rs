//! The inputs of the hash-based algorithms, hashed as HAProxy does for
//! `hash-type map-based` (its default): sdbm over the bytes, or the folded
//! address for `source`.
use cfg_parser::ast::Balance;
use std::net::IpAddr;

/// `balance uri` options, compiled from the config words.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UriOpts {
    pub len: Option<usize>,
    pub depth: Option<usize>,
    pub whole: bool,
    pub path_only: bool,
}

impl UriOpts {
    pub fn from_words(words: &[String]) -> UriOpts {
        let mut o = UriOpts::default();
        let mut i = 0;
        while let Some(w) = words.get(i) {
            let num = || words.get(i + 1).and_then(|v| v.parse().ok());
            match w.as_str() {
                "len" => {
                    o.len = num();
                    i += 1;
                }
                "depth" => {
                    o.depth = num();
                    i += 1;
                }
                "whole" => o.whole = true,
                "path-only" => o.path_only = true,
                _ => {}
            }
            i += 1;
        }
        o
    }
}

/// The sdbm hash, HAProxy's default hash function.
pub fn sdbm(key: &[u8]) -> u32 {
    key.iter().fold(0u32, |h, b| {
        (*b as u32)
            .wrapping_add(h << 6)
            .wrapping_add(h << 16)
            .wrapping_sub(h)
    })
}

/// `balance source`: the address folded into 32 bits.
pub fn source(ip: IpAddr) -> u32 {
    let bytes: Vec<u8> = match ip {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    };
    bytes.chunks(4).fold(0u32, |h, c| {
        h ^ u32::from_be_bytes([c[0], c[1], c[2], c[3]])
    })
}

/// `balance uri`: the part of the URI the options select.
pub fn uri(uri: &str, o: &UriOpts) -> u32 {
    let mut s = uri.as_bytes();
    if o.path_only {
        if let Some(i) = uri.find("://") {
            let rest = &uri[i + 3..];
            s = rest.find('/').map_or(&b""[..], |p| &rest.as_bytes()[p..]);
        }
    }
    if let Some(l) = o.len {
        s = &s[..s.len().min(l)];
    }
    let mut end = 0;
    let mut slashes = 0;
    while end < s.len() && (o.whole || s[end] != b'?') {
        if s[end] == b'/' {
            slashes += 1;
            if o.depth.is_some_and(|d| slashes == d + 1) {
                break;
            }
        }
        end += 1;
    }
    sdbm(&s[..end])
}

/// The request's hash for the backend's algorithm, when it has one.
pub fn request_hash(
    balance: &Balance,
    uri_opts: &UriOpts,
    src: IpAddr,
    uri_text: &str,
    header: &dyn Fn(&str) -> Option<Vec<u8>>,
) -> Option<u32> {
    match balance {
        Balance::Source => Some(source(src)),
        Balance::Uri { .. } => Some(uri(uri_text, uri_opts)),
        Balance::UrlParam { param, .. } => uri_text.split_once('?').and_then(|(_, q)| {
            q.split('&').find_map(|kv| {
                let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                (k == param).then(|| sdbm(v.as_bytes()))
            })
        }),
        Balance::Hdr {
            name,
            use_domain_only,
        } => header(name).map(|v| {
            if *use_domain_only {
                // The last two labels of the host name.
                let labels: Vec<&[u8]> = v.split(|b| *b == b'.').collect();
                let keep = labels.len().min(2);
                sdbm(&labels[labels.len() - keep..].join(&b"."[..]))
            } else {
                sdbm(&v)
            }
        }),
        _ => None,
    }
}

/// `balance hash <expr>`: the expression's sample, as the binary HAProxy
/// hashes (addresses in network order, integers as 8 big-endian bytes),
/// through sdbm (the default `hash-type map-based`).
pub fn expr_hash(expr: &crate::sample::Piece, ctx: &crate::acl::FetchCtx) -> Option<u32> {
    use crate::acl::Sample;
    let crate::sample::Piece::Expr { fetch, args, convs } = expr else {
        return None;
    };
    let s = crate::acl::fetch(fetch, args, ctx).into_iter().next()?;
    let s = crate::sample::convert(s, convs)?;
    let bin = match s {
        Sample::Str(v) => v,
        Sample::Int(i) => i.to_be_bytes().to_vec(),
        Sample::Ip(IpAddr::V4(a)) => a.octets().to_vec(),
        Sample::Ip(IpAddr::V6(a)) => a.octets().to_vec(),
        Sample::Bool(b) => (b as i64).to_be_bytes().to_vec(),
    };
    Some(sdbm(&bin))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_options_select_the_hashed_part() {
        let plain = UriOpts::default();
        assert_eq!(uri("/a/b?x=1", &plain), sdbm(b"/a/b"));
        assert_eq!(
            uri(
                "/a/b?x=1",
                &UriOpts {
                    whole: true,
                    ..plain
                }
            ),
            sdbm(b"/a/b?x=1")
        );
        assert_eq!(
            uri(
                "/a/b/c",
                &UriOpts {
                    depth: Some(1),
                    ..plain
                }
            ),
            sdbm(b"/a")
        );
        assert_eq!(
            uri(
                "/abcdef",
                &UriOpts {
                    len: Some(3),
                    ..plain
                }
            ),
            sdbm(b"/ab")
        );
        assert_eq!(
            uri(
                "http://h/p?q",
                &UriOpts {
                    path_only: true,
                    ..plain
                }
            ),
            sdbm(b"/p")
        );
    }

    #[test]
    fn source_folds_the_address() {
        assert_eq!(source("10.0.0.1".parse().unwrap()), 0x0a00_0001);
    }
}
