//! `bind <addr>[,<addr>...] [param*]` lines.
use super::server::{Arity, Param};
use super::{did_you_mean, Cx, Support};
use crate::addr::{parse_address, AddrRules, Address, Host};
use crate::ast::Bind;
use crate::diag::Diagnostic;

type P = Param;
const OK: Support = Support::Parsed;
const TLS: Support = Support::Unsupported("TLS");

const BIND_RULES: AddrRules = AddrRules {
    port_required: true,
    port_range_ok: true,
    port_offset_ok: false,
    dgram: false,
};

/// Parses a `bind` line. Host names are resolved right away, as HAProxy does.
pub fn parse_bind(cx: &mut Cx, section: &str) -> Result<Bind, Diagnostic> {
    if cx.nwords() < 2 {
        return Err(cx.alert(
            "'bind' expects {<path>|[addr1]:port1[-end1]}{,[addr]:port[-end]}... as arguments.",
        ));
    }
    let spec = cx.word(1).to_string();
    let mut addrs = Vec::new();
    for one in spec.split(',') {
        let a = parse_address(one, BIND_RULES).map_err(|e| cx.alert(format!("'bind' : {e}")))?;
        if let Address::Inet {
            host: Host::Name(n),
            ..
        } = &a
        {
            if crate::resolve::resolve_host(n).is_none() {
                return Err(cx.alert(format!("'bind' : invalid address: '{n}' in '{one}'")));
            }
        }
        if let Address::Fd(fd) = a {
            check_inherited_fd(fd).map_err(|e| {
                cx.alert(format!(
                    "'bind' : cannot use file descriptor '{fd}' : {}.",
                    crate::keywords::proxy::io_reason(&e)
                ))
            })?;
        }
        addrs.push(a);
    }
    let head = format!("'bind {spec}' in section '{section}'");
    let mut params = Vec::new();
    let mut i = 2;
    while i < cx.nwords() {
        let kw = cx.word(i).to_string();
        let Some(param) = BIND_PARAMS.iter().find(|k| k.name == kw) else {
            let mut hint = did_you_mean(&kw, BIND_PARAMS.iter().map(|k| k.name));
            if hint.is_empty() {
                hint.push('.');
            }
            return Err(cx.alert(format!("{head}: unknown keyword '{kw}'{hint}")));
        };
        if let Some(d) = super::support_diag(param.support, &kw, cx.d) {
            return Err(d);
        }
        params.push(kw.clone());
        if param.arity != Arity::Flag {
            if i + 1 >= cx.nwords() {
                return Err(cx.alert(format!("{head} : '{kw}' : missing value")));
            }
            params.push(cx.word(i + 1).to_string());
            i += 1;
        }
        i += 1;
    }
    Ok(Bind {
        addrs,
        params,
        span: cx.d.span.clone(),
    })
}

/// An `fd@N` bind must name an open socket inherited from the parent.
fn check_inherited_fd(fd: i32) -> Result<(), std::io::Error> {
    let mut ty: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: getsockopt only writes an int into `ty` (whose size is in
    // `len`); an fd that is not open or not a socket just yields an error.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_TYPE,
            (&mut ty as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Bind parameters HAProxy 2.6 knows, in its registration order: the order
/// in which it scans them for a "did you mean" (the first of equally close
/// names wins).
pub static BIND_PARAMS: &[Param] = &[
    P::new("allow-0rtt", Arity::Flag, TLS),
    P::new("alpn", Arity::One, TLS),
    P::new("ca-file", Arity::One, TLS),
    P::new("ca-verify-file", Arity::One, TLS),
    P::new("ca-ignore-err", Arity::One, TLS),
    P::new("ca-sign-file", Arity::One, TLS),
    P::new("ca-sign-pass", Arity::One, TLS),
    P::new("ciphers", Arity::One, TLS),
    P::new("ciphersuites", Arity::One, TLS),
    P::new("crl-file", Arity::One, TLS),
    P::new("crt", Arity::One, TLS),
    P::new("crt-ignore-err", Arity::One, TLS),
    P::new("crt-list", Arity::One, TLS),
    P::new("curves", Arity::One, TLS),
    P::new("ecdhe", Arity::One, TLS),
    P::new("force-sslv3", Arity::Flag, TLS),
    P::new("force-tlsv10", Arity::Flag, TLS),
    P::new("force-tlsv11", Arity::Flag, TLS),
    P::new("force-tlsv12", Arity::Flag, TLS),
    P::new("force-tlsv13", Arity::Flag, TLS),
    P::new("generate-certificates", Arity::Flag, TLS),
    P::new("no-ca-names", Arity::Flag, TLS),
    P::new("no-sslv3", Arity::Flag, TLS),
    P::new("no-tlsv10", Arity::Flag, TLS),
    P::new("no-tlsv11", Arity::Flag, TLS),
    P::new("no-tlsv12", Arity::Flag, TLS),
    P::new("no-tlsv13", Arity::Flag, TLS),
    P::new("no-tls-tickets", Arity::Flag, TLS),
    P::new("ssl", Arity::Flag, TLS),
    P::new("ssl-min-ver", Arity::One, TLS),
    P::new("ssl-max-ver", Arity::One, TLS),
    P::new("strict-sni", Arity::Flag, TLS),
    P::new("tls-ticket-keys", Arity::One, TLS),
    P::new("verify", Arity::One, TLS),
    P::new("npn", Arity::One, TLS),
    P::new("prefer-client-ciphers", Arity::Flag, TLS),
    P::new("level", Arity::One, OK),
    P::new("expose-fd", Arity::One, OK),
    P::new("severity-output", Arity::One, OK),
    P::new(
        "accept-netscaler-cip",
        Arity::One,
        Support::Unsupported("NetScaler CIP"),
    ),
    P::new("accept-proxy", Arity::Flag, OK),
    P::new("backlog", Arity::One, OK),
    P::new("id", Arity::One, OK),
    P::new("maxconn", Arity::One, OK),
    P::new("name", Arity::One, OK),
    P::new("nice", Arity::One, OK),
    P::new("process", Arity::One, OK),
    P::new("proto", Arity::One, Support::Unsupported("HTTP/2")),
    P::new("shards", Arity::One, OK),
    P::new("thread", Arity::One, OK),
    P::new("defer-accept", Arity::Flag, OK),
    P::new("interface", Arity::One, OK),
    P::new("mss", Arity::One, OK),
    P::new("tcp-ut", Arity::One, OK),
    P::new("tfo", Arity::Flag, OK),
    P::new("transparent", Arity::Flag, OK),
    P::new("v4v6", Arity::Flag, OK),
    P::new("v6only", Arity::Flag, OK),
    P::new(
        "namespace",
        Arity::One,
        Support::Unsupported("network namespaces"),
    ),
    P::new("gid", Arity::One, OK),
    P::new("group", Arity::One, OK),
    P::new("mode", Arity::One, OK),
    P::new("uid", Arity::One, OK),
    P::new("user", Arity::One, OK),
];
