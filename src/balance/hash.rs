//! The inputs of the hash-based algorithms, hashed as HAProxy 2.6 does:
//! the bytes through the backend's `hash-type` function (sdbm by default,
//! djb2, wt6 or crc32), optionally mixed by the avalanche modifier;
//! `source` folds the address instead. (`none` is a later HAProxy's: 2.6
//! refuses it.)
use cfg_parser::ast::Balance;
use std::net::IpAddr;

/// The hash function of `hash-type <method> <function>`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum HashFn {
    #[default]
    Sdbm,
    Djb2,
    Wt6,
    Crc32,
}

/// `hash-type <method> [<function> [<modifier>]]`, compiled.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HashType {
    /// `consistent` (a tree of server nodes) rather than `map-based`.
    pub consistent: bool,
    pub func: HashFn,
    /// The `avalanche` modifier (implied by a bare `hash-type consistent`).
    pub avalanche: bool,
}

impl HashType {
    /// The words after `hash-type`; None (no line) is map-based sdbm.
    /// Err names what is not understood.
    pub fn from_words(words: Option<&[String]>) -> Result<HashType, String> {
        let Some(words) = words else {
            return Ok(HashType::default());
        };
        let word = |i: usize| words.get(i).map_or("", String::as_str);
        let consistent = match word(0) {
            "map-based" => false,
            "consistent" => true,
            other => return Err(format!("hash method '{other}'")),
        };
        if word(1).is_empty() {
            // A bare `consistent` also mixes the hash.
            return Ok(HashType {
                consistent,
                func: HashFn::Sdbm,
                avalanche: consistent,
            });
        }
        let func = match word(1) {
            "sdbm" => HashFn::Sdbm,
            "djb2" => HashFn::Djb2,
            "wt6" => HashFn::Wt6,
            "crc32" => HashFn::Crc32,
            other => return Err(format!("hash function '{other}'")),
        };
        let avalanche = match word(2) {
            "" => false,
            "avalanche" => true,
            other => return Err(format!("hash modifier '{other}'")),
        };
        // Further words are ignored, as by HAProxy.
        Ok(HashType {
            consistent,
            func,
            avalanche,
        })
    }

    /// The hash of `key` by the function, then the modifier.
    pub fn hash(&self, key: &[u8]) -> u32 {
        let h = match self.func {
            HashFn::Sdbm => sdbm(key),
            HashFn::Djb2 => djb2(key),
            HashFn::Wt6 => wt6(key),
            HashFn::Crc32 => crc32(key),
        };
        if self.avalanche {
            full_hash(h)
        } else {
            h
        }
    }
}

/// `balance hash <expr>` compiled, with the backend's hash type.
#[derive(Debug)]
pub struct HashExpr {
    pub expr: crate::sample::Piece,
    pub hash: HashType,
}

/// `balance uri` options, compiled from the config words.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UriOpts {
    pub len: Option<usize>,
    pub depth: Option<usize>,
    pub whole: bool,
    pub path_only: bool,
    /// The backend's `hash-type` (for every hash-based algorithm, not only
    /// `uri`: this is what the request hashing is given).
    pub hash: HashType,
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
    key.iter().fold(0u32, |h, b| sdbm_step(h, *b))
}

fn sdbm_step(h: u32, b: u8) -> u32 {
    (b as u32)
        .wrapping_add(h << 6)
        .wrapping_add(h << 16)
        .wrapping_sub(h)
}

/// Bernstein's hash: h * 33 + byte, from 5381.
pub fn djb2(key: &[u8]) -> u32 {
    key.iter()
        .fold(5381u32, |h, b| h.wrapping_mul(33).wrapping_add(*b as u32))
}

/// Willy Tarreau's wt6: two 32-bit halves mixed by data-dependent
/// rotations.
pub fn wt6(key: &[u8]) -> u32 {
    let (mut a, mut b) = (0xa53c_965au32, 0x5ca6_953au32);
    let (mut ra, mut rb) = (6u32, 18u32);
    for byte in key {
        let v = *byte as u32;
        let na = !(a ^ v);
        let nb = !(b.wrapping_add(v));
        // A rotation by 0 leaves the word as it is (as x86 does for the
        // C shifts by 32).
        a = nb.rotate_left(ra);
        b = na.rotate_left(rb);
        let t = ((a >> 16) ^ b) & 0xffff;
        ra = t & 0x1f;
        rb = t >> 11;
    }
    a ^ b
}

/// The CRC-32 of IEEE 802.3 (reflected polynomial 0xedb88320).
pub fn crc32(key: &[u8]) -> u32 {
    !key.iter().fold(!0u32, |mut c, b| {
        c ^= *b as u32;
        for _ in 0..8 {
            c = (c >> 1) ^ if c & 1 != 0 { 0xedb8_8320 } else { 0 };
        }
        c
    })
}

/// Bob Jenkins' 32-bit integer avalanche, then a multiplication by a large
/// prime: the `avalanche` modifier, and the keys of consistent hashing's
/// server nodes.
pub fn full_hash(a: u32) -> u32 {
    let mut a = a;
    a = a.wrapping_add(0x7ed5_5d16).wrapping_add(a << 12);
    a = (a ^ 0xc761_c23c) ^ (a >> 19);
    a = a.wrapping_add(0x1656_67b1).wrapping_add(a << 5);
    a = a.wrapping_add(0xd3a2_646c) ^ (a << 9);
    a = a.wrapping_add(0xfd70_46c5).wrapping_add(a << 3);
    a = (a ^ 0xb55a_4f09) ^ (a >> 16);
    a.wrapping_mul(3_221_225_473)
}

/// `balance source`: the address folded into 32 bits (XOR of its 32-bit
/// words). The hash function of `hash-type` is not used; the avalanche
/// modifier is.
pub fn source(ip: IpAddr, ht: &HashType) -> u32 {
    let bytes: Vec<u8> = match ip {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    };
    let h = bytes.chunks(4).fold(0u32, |h, c| {
        h ^ u32::from_be_bytes([c[0], c[1], c[2], c[3]])
    });
    if ht.avalanche {
        full_hash(h)
    } else {
        h
    }
}

/// `balance uri`: the part of the URI the options select, hashed.
pub fn uri(uri: &str, o: &UriOpts) -> u32 {
    o.hash.hash(uri_part(uri, o))
}

/// The part of the URI `balance uri` hashes.
fn uri_part<'a>(uri: &'a str, o: &UriOpts) -> &'a [u8] {
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
    &s[..end]
}

/// `balance url_param <name>`: the value of the first `<name>=` parameter
/// of the query string (up to the next `&`).
fn url_param<'a>(uri: &'a str, name: &str) -> Option<&'a [u8]> {
    let (_, query) = uri.split_once('?')?;
    query.split('&').find_map(|kv| {
        let kv = kv.as_bytes();
        (kv.len() > name.len() && kv[name.len()] == b'=' && kv.starts_with(name.as_bytes()))
            .then(|| &kv[name.len() + 1..])
    })
}

/// `hdr(<name>) use_domain_only`: the label before the last dot (the
/// domain without its TLD or host part); the whole value when it has no
/// dot. The first byte is never taken for a dot, as in HAProxy's scan.
fn domain_only(v: &[u8]) -> &[u8] {
    let Some(end) = (1..v.len()).rev().find(|&i| v[i] == b'.') else {
        return v;
    };
    let start = (1..end).rev().find(|&p| v[p - 1] == b'.').unwrap_or(0);
    &v[start..end]
}

/// The request's hash for the backend's algorithm, when it has one; None
/// when the hashed input is missing (the algorithm then falls back to
/// round robin).
pub fn request_hash(
    balance: &Balance,
    uri_opts: &UriOpts,
    src: IpAddr,
    uri_text: &str,
    header: &dyn Fn(&str) -> Option<Vec<u8>>,
) -> Option<u32> {
    let ht = &uri_opts.hash;
    match balance {
        Balance::Source => Some(source(src, ht)),
        Balance::Uri { .. } => Some(uri(uri_text, uri_opts)),
        Balance::UrlParam { param, .. } => url_param(uri_text, param).map(|v| ht.hash(v)),
        Balance::Hdr {
            name,
            use_domain_only,
        } => header(name).filter(|v| !v.is_empty()).map(|v| {
            if *use_domain_only {
                ht.hash(domain_only(&v))
            } else {
                ht.hash(&v)
            }
        }),
        _ => None,
    }
}

/// The value of the RDP cookie `name` (any cookie when `name` is empty) in
/// an RDP connection request, read as HAProxy 2.6 does: the line
/// `Cookie: <name>=<value>\r\n` starts right after the 11 bytes of the
/// TPKT and X.224 headers (whose contents are not checked); the keyword and
/// the name are compared without case, spaces after `Cookie:` are skipped.
/// `Need::More` while the request is too short to tell.
pub fn rdp_cookie<'a>(req: &'a [u8], name: &[u8]) -> Result<&'a [u8], crate::tcp::tls::Need> {
    use crate::tcp::tls::Need;
    // At least one byte after the headers and the keyword.
    if req.len() <= 11 + 7 {
        return Err(Need::More);
    }
    let mut d = &req[11..];
    if !d[..7].eq_ignore_ascii_case(b"Cookie:") {
        return Err(Need::Never);
    }
    d = &d[7..];
    while d.first() == Some(&b' ') {
        d = &d[1..];
    }
    if name.is_empty() {
        let Some(eq) = d.iter().position(|&c| matches!(c, b'=' | b'\r' | b'\n')) else {
            return Err(Need::More);
        };
        if d[eq] != b'=' {
            return Err(Need::Never);
        }
        d = &d[eq + 1..];
    } else {
        if d.len() <= name.len() {
            return Err(Need::More);
        }
        if d[name.len()] != b'=' || !d[..name.len()].eq_ignore_ascii_case(name) {
            return Err(Need::Never);
        }
        d = &d[name.len() + 1..];
    }
    let cr = d.iter().position(|&c| c == b'\r').unwrap_or(d.len());
    match d.get(cr + 1) {
        None => Err(Need::More),
        Some(b'\n') => Ok(&d[..cr]),
        Some(_) => Err(Need::Never),
    }
}

/// The request's hash in TCP mode, where the hashed input is the client's
/// bytes: `balance rdp-cookie` hashes the cookie's value (None, for round
/// robin, when the request holds no complete, non-empty cookie); the other
/// algorithms are [`request_hash`]'s, without URI nor headers.
pub fn tcp_request_hash(
    balance: &Balance,
    uri_opts: &UriOpts,
    src: IpAddr,
    payload: &[u8],
) -> Option<u32> {
    match balance {
        Balance::RdpCookie { name } => rdp_cookie(payload, name.as_bytes())
            .ok()
            .filter(|v| !v.is_empty())
            .map(|v| uri_opts.hash.hash(v)),
        _ => request_hash(balance, uri_opts, src, "", &|_| None),
    }
}

/// `balance hash <expr>`: the expression's sample, as the binary HAProxy
/// hashes (addresses in network order, integers as 8 big-endian bytes),
/// through the backend's hash type.
pub fn expr_hash(expr: &HashExpr, ctx: &crate::acl::FetchCtx) -> Option<u32> {
    use crate::acl::Sample;
    let crate::sample::Piece::Expr {
        fetch, args, convs, ..
    } = &expr.expr
    else {
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
    Some(expr.hash.hash(&bin))
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

    /// Values HAProxy 2.6's converters of the same names return (`sdbm`,
    /// `djb2`, `wt6`, `crc32`, and with `(1)` the avalanche modifier).
    #[test]
    fn hash_functions_match_haproxy() {
        assert_eq!(sdbm(b"hello"), 684_824_882);
        assert_eq!(full_hash(sdbm(b"hello")), 2_061_535_398);
        assert_eq!(sdbm(b"\xe9\xff"), 15_284_822);
        assert_eq!(djb2(b"hello"), 261_238_937);
        assert_eq!(djb2(b""), 5381);
        assert_eq!(djb2(b"\xe9\xff"), 5_867_853);
        assert_eq!(wt6(b"hello"), 3_538_347_703);
        assert_eq!(full_hash(wt6(b"hello")), 140_457_739);
        assert_eq!(wt6(b"/p3/q21/r"), 1_797_763_941);
        assert_eq!(wt6(b""), 4_187_620_192);
        assert_eq!(wt6(b"\xe9\xff"), 3_988_370_829);
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        assert_eq!(crc32(b""), 0);
        assert_eq!(full_hash(crc32(b"/p3/q21/r")), 985_791_919);
    }

    #[test]
    fn hash_type_words() {
        let ht = |w: &[&str]| {
            HashType::from_words(Some(&w.iter().map(|s| s.to_string()).collect::<Vec<_>>()))
        };
        assert_eq!(HashType::from_words(None), Ok(HashType::default()));
        let bare = ht(&["consistent"]).unwrap();
        assert!(bare.consistent && bare.avalanche && bare.func == HashFn::Sdbm);
        let plain = ht(&["consistent", "sdbm"]).unwrap();
        assert!(plain.consistent && !plain.avalanche);
        let m = ht(&["map-based", "crc32", "avalanche"]).unwrap();
        assert!(!m.consistent && m.avalanche && m.func == HashFn::Crc32);
        assert_eq!(m.hash(b"/p3/q21/r"), 985_791_919);
        assert!(!ht(&["map-based"]).unwrap().avalanche);
        // 2.6 has no `none` function, and only the `avalanche` modifier.
        assert!(ht(&["consistent", "none"]).is_err());
        assert!(ht(&["consistent", "sdbm", "x"]).is_err());
        assert!(ht(&["avalanche"]).is_err());
    }

    #[test]
    fn header_domain_only_keeps_the_label_before_the_tld() {
        assert_eq!(domain_only(b"www.example.com"), b"example");
        assert_eq!(domain_only(b"example.com"), b"example");
        assert_eq!(domain_only(b"localhost"), b"localhost");
        assert_eq!(domain_only(b"a.b.c.d"), b"c");
    }

    #[test]
    fn url_param_needs_its_equal_sign() {
        assert_eq!(url_param("/x?a=1&id=7&id=8", "id"), Some(&b"7"[..]));
        assert_eq!(url_param("/x?id&id=2", "id"), Some(&b"2"[..]));
        assert_eq!(url_param("/x?xid=1", "id"), None);
        assert_eq!(url_param("/x?id=", "id"), Some(&b""[..]));
        assert_eq!(url_param("/x", "id"), None);
    }

    /// An RDP connection request: TPKT, X.224 connection request, cookie.
    fn rdp(cookie: &[u8]) -> Vec<u8> {
        let mut v = vec![0x03, 0x00, 0x00, 0x00, 0x00, 0xe0, 0, 0, 0, 0, 0];
        v.extend_from_slice(cookie);
        let n = v.len();
        v[2..4].copy_from_slice(&(n as u16).to_be_bytes());
        v[4] = (n - 5) as u8;
        v
    }

    #[test]
    fn rdp_cookie_is_read_after_the_headers() {
        use crate::tcp::tls::Need;
        let r = rdp(b"Cookie: mstshash=user1\r\n");
        assert_eq!(rdp_cookie(&r, b"mstshash"), Ok(&b"user1"[..]));
        assert_eq!(rdp_cookie(&r, b"MSTSHASH"), Ok(&b"user1"[..]));
        assert_eq!(rdp_cookie(&r, b""), Ok(&b"user1"[..]));
        assert_eq!(rdp_cookie(&r, b"other"), Err(Need::Never));
        assert_eq!(rdp_cookie(&rdp(b"cookie:x=\r\n"), b"x"), Ok(&b""[..]));
        // Every cut of the request is incomplete.
        for n in 0..r.len() {
            assert_eq!(rdp_cookie(&r[..n], b"mstshash"), Err(Need::More), "{n}");
        }
        assert_eq!(
            rdp_cookie(&rdp(b"Cookie: a\r\n=1\r\n"), b""),
            Err(Need::Never)
        );
        assert_eq!(rdp_cookie(&rdp(b"Cookie: a=1\rX"), b"a"), Err(Need::Never));
        assert_eq!(
            rdp_cookie(&rdp(b"Cookies: a=1\r\n"), b"a"),
            Err(Need::Never)
        );
        let ht = UriOpts::default();
        let b = Balance::RdpCookie {
            name: "mstshash".into(),
        };
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        assert_eq!(tcp_request_hash(&b, &ht, ip, &r), Some(sdbm(b"user1")));
        assert_eq!(tcp_request_hash(&b, &ht, ip, &r[..20]), None);
    }

    #[test]
    fn source_folds_the_address() {
        assert_eq!(
            source("10.0.0.1".parse().unwrap(), &HashType::default()),
            0x0a00_0001
        );
    }
}
