//! Keywords of `defaults`, `frontend`, `backend` and `listen` sections.
use super::{
    did_you_mean, log::parse_log, missing_cap, support_diag, CapFail, Caps, Cx, Keyword, Support,
};
use crate::acl::{compile_acl_line, compile_condition, split_condition};
use crate::addr::{parse_address, AddrError, AddrRules, Address, Host};
use crate::ast::*;
use crate::diag::{Diagnostic, Loc};
use crate::resolve::resolve_host;
use crate::suggest::{OPTION_CANDIDATES, PROXY_CANDIDATES};
use crate::values::{atol, parse_time_ms, TimeError};

type Kw = Keyword<Proxy>;
type R = Result<(), Diagnostic>;

const ALL: Caps = Caps::ALL;
const FE: Caps = Caps::FE;
const BE: Caps = Caps::BE;
const FE_DEF: Caps = Caps::FE_DEF;
const BE_DEF: Caps = Caps::BE_DEF;
const FE_BE: Caps = Caps::FE_BE;

/// Applies one line of a proxy or defaults section.
pub fn apply(p: &mut Proxy, d: &Directive, diags: &mut Vec<Diagnostic>) {
    apply_kwm(p, d, false, diags)
}

/// Applies one line of a proxy or defaults section; `modified`: its first
/// word is a `no`/`default` prefix the builder kept for `option` or `log`.
/// Otherwise `no` and `default` are unknown keywords, as in 2.6.
pub fn apply_kwm(p: &mut Proxy, d: &Directive, modified: bool, diags: &mut Vec<Diagnostic>) {
    let name = d.word(0);
    let entry = match (modified, name) {
        (true, _) => super::lookup(PROXY_KEYWORDS, "no"),
        (false, "no" | "default") => None,
        (false, _) => super::lookup(PROXY_KEYWORDS, name),
    };
    let Some(kw) = entry else {
        // 2.6's own list, not our table (see `crate::suggest`).
        let hint = did_you_mean(name, PROXY_CANDIDATES.iter().copied());
        diags.push(Diagnostic::alert(
            Loc::Parsing(d.span.clone()),
            format!(
                "unknown keyword '{name}' in '{}' section{hint}",
                p.kind.section()
            ),
        ));
        return;
    };
    // 2.6 lets named defaults sections carry ACLs and rules for the proxies
    // that name them with `from`.
    let named_defaults_rule = p.kind == ProxyKind::Defaults
        && !p.name.is_empty()
        && RULES_IN_NAMED_DEFAULTS.contains(&kw.name);
    if let Some(lacks) = missing_cap(kw.caps, p.kind).filter(|_| !named_defaults_rule) {
        diags.push(cap_diag(kw.name, kw.cap_fail, p, lacks, d));
        if kw.parse_when_ignored && p.kind != ProxyKind::Defaults {
            let mut scratch = Proxy::new(p.kind, p.name.clone(), p.span.clone());
            if let Err(e) = (kw.apply)(&mut scratch, &mut Cx { d, diags }) {
                diags.push(e);
            }
        }
        return;
    }
    let mut cx = Cx { d, diags };
    match (kw.apply)(p, &mut cx) {
        Ok(()) => {
            if let Some(diag) = support_diag(kw.support, name, d) {
                diags.push(diag);
            }
            p.directives.push(d.clone());
        }
        Err(e) => diags.push(e),
    }
}

const RULES_IN_NAMED_DEFAULTS: &[&str] = &[
    "acl",
    "http-after-response",
    "http-request",
    "http-response",
    "tcp-request",
    "tcp-response",
];

/// The message for a keyword used where its capability is missing.
fn cap_diag(kw: &str, how: CapFail, p: &Proxy, lacks: &str, d: &Directive) -> Diagnostic {
    if p.kind == ProxyKind::Defaults {
        let msg = format!("'{kw}' not allowed in 'defaults' section.");
        return match kw {
            "server" | "default-server" => Diagnostic::alert(Loc::Bracket(d.span.clone()), msg),
            "tcp-request" | "tcp-response" if p.name.is_empty() => Diagnostic::alert(
                Loc::Parsing(d.span.clone()),
                format!(
                    "{kw} {} is not allowed in anonymous 'defaults' sections",
                    d.word(1)
                ),
            ),
            _ if p.name.is_empty() && RULES_IN_NAMED_DEFAULTS.contains(&kw) => Diagnostic::alert(
                Loc::Parsing(d.span.clone()),
                format!("'{kw}' not allowed in anonymous 'defaults' section."),
            ),
            _ => Diagnostic::alert(Loc::Parsing(d.span.clone()), msg),
        };
    }
    let who = format!("{} '{}'", p.kind.label(), p.name);
    match how {
        CapFail::WarnIgnored => Diagnostic::warning(
            Loc::Parsing(d.span.clone()),
            format!("'{kw}' ignored because {who} has no {lacks} capability."),
        ),
        CapFail::Alert => Diagnostic::alert(
            Loc::BracketParsing(d.span.clone()),
            format!("'{kw}' not allowed because {who} has no {lacks} capability."),
        ),
    }
}

fn words_from(cx: &Cx, i: usize) -> Vec<String> {
    cx.d.rest(i).map(String::from).collect()
}

fn mode(p: &mut Proxy, cx: &mut Cx) -> R {
    cx.max_args(1)?;
    p.mode = Some(match cx.word(1) {
        "http" => Mode::Http,
        "tcp" => Mode::Tcp,
        "health" => {
            return Err(cx.alert("'mode health' doesn't exist anymore. Please use 'http-request return status 200' instead."))
        }
        m => return Err(cx.alert(format!("unknown proxy mode '{m}'."))),
    });
    Ok(())
}

fn maxconn(p: &mut Proxy, cx: &mut Cx) -> R {
    if cx.nwords() < 2 {
        return Err(cx.alert("'maxconn' expects an integer argument."));
    }
    cx.max_args(1)?;
    p.maxconn = Some(atol(cx.word(1)).max(0) as u32);
    Ok(())
}

fn fullconn(p: &mut Proxy, cx: &mut Cx) -> R {
    if cx.nwords() < 2 {
        return Err(cx.alert("'fullconn' expects an integer argument."));
    }
    cx.max_args(1)?;
    p.fullconn = Some(atol(cx.word(1)).max(0) as u32);
    Ok(())
}

fn retries(p: &mut Proxy, cx: &mut Cx) -> R {
    if cx.nwords() < 2 {
        return Err(cx.alert("'retries' expects an integer argument."));
    }
    cx.max_args(1)?;
    p.retries = Some(atol(cx.word(1)).max(0) as u32);
    Ok(())
}

/// `balance <algorithm> [<arguments>]`
fn balance(p: &mut Proxy, cx: &mut Cx) -> R {
    // 2.6 takes a bare `balance` (what `no balance` leaves) and changes nothing.
    if cx.nwords() < 2 {
        return Ok(());
    }
    let algo = cx.word(1);
    let arg = |i: usize| cx.word(i).to_string();
    let paren = |prefix: &str| {
        algo.strip_prefix(prefix)
            .and_then(|r| r.strip_suffix(')'))
            .map(String::from)
    };
    p.balance = Some(match algo {
        "roundrobin" => Balance::RoundRobin,
        "static-rr" => Balance::StaticRr,
        "leastconn" => Balance::LeastConn,
        "first" => Balance::First,
        "source" => Balance::Source,
        "random" => Balance::Random { draws: 2 },
        "uri" => Balance::Uri { args: words_from(cx, 2) },
        "url_param" => {
            if cx.nwords() < 3 {
                return Err(cx.alert("'balance url_param' requires an URL parameter name."));
            }
            Balance::UrlParam { param: arg(2), check_post: None }
        }
        _ if algo.starts_with("random(") => match paren("random(").and_then(|n| n.parse().ok()) {
            Some(n) if n >= 1 => Balance::Random { draws: n },
            _ => return Err(cx.alert("'balance random(<draws>)' expects a positive integer.")),
        },
        _ if algo.starts_with("hdr(") => match paren("hdr(") {
            Some(name) if !name.is_empty() => {
                Balance::Hdr { name, use_domain_only: cx.word(2) == "use_domain_only" }
            }
            _ => return Err(cx.alert("hdr requires an http header field name.")),
        },
        // 2.6 takes the name up to the first `)` and ignores what follows.
        _ if algo.starts_with("rdp-cookie") => match &algo["rdp-cookie".len()..] {
            "" => Balance::RdpCookie { name: "mstshash".into() },
            rest => match rest.strip_prefix('(').and_then(|r| r.split_once(')')) {
                Some((name, _)) if !name.is_empty() => Balance::RdpCookie { name: name.into() },
                _ => return Err(cx.alert("balance rdp-cookie : missing cookie name.")),
            },
        },
        "hash" => Balance::Hash { expr: arg(2) },
        _ => {
            return Err(cx.alert(
                "balance only supports 'roundrobin', 'static-rr', 'leastconn', 'source', 'uri', 'url_param', 'hdr(name)' and 'rdp-cookie(name)' options.",
            ))
        }
    });
    Ok(())
}

fn hash_type(p: &mut Proxy, cx: &mut Cx) -> R {
    match cx.word(1) {
        "map-based" | "consistent" => {}
        _ => {
            return Err(cx.alert(format!(
                "{} '{}' expects 'map-based' or 'consistent' method",
                "hash-type",
                cx.word(1)
            )))
        }
    }
    if !matches!(cx.word(2), "" | "sdbm" | "djb2" | "wt6" | "crc32" | "none") {
        return Err(cx.alert(format!(
            "{} '{}' : unknown hash function '{}'",
            "hash-type",
            cx.word(1),
            cx.word(2)
        )));
    }
    p.hash_type = Some(words_from(cx, 1));
    Ok(())
}

/// The timeouts: name, capability, field.
const TIMEOUTS: &[(&str, Caps)] = &[
    ("client", FE_DEF),
    ("server", BE_DEF),
    ("connect", BE_DEF),
    ("check", BE_DEF),
    ("queue", BE_DEF),
    ("http-keep-alive", ALL),
    ("http-request", ALL),
    ("tunnel", BE_DEF),
    ("tarpit", ALL),
    ("client-fin", FE_DEF),
    ("server-fin", BE_DEF),
];

fn timeout_slot<'p>(t: &'p mut Timeouts, name: &str) -> Option<&'p mut Option<u64>> {
    Some(match name {
        "client" => &mut t.client,
        "server" => &mut t.server,
        "connect" => &mut t.connect,
        "check" => &mut t.check,
        "queue" => &mut t.queue,
        "http-keep-alive" => &mut t.http_keep_alive,
        "http-request" => &mut t.http_request,
        "tunnel" => &mut t.tunnel,
        "tarpit" => &mut t.tarpit,
        "client-fin" => &mut t.client_fin,
        "server-fin" => &mut t.server_fin,
        _ => return None,
    })
}

/// Sets timeout `name` from `value`, with HAProxy's checks and messages.
fn set_timeout(p: &mut Proxy, cx: &mut Cx, name: &str, value_idx: usize) -> R {
    let Some(&(_, caps)) = TIMEOUTS.iter().find(|(n, _)| *n == name) else {
        return Err(cx.alert(format!(
            "'timeout' supports 'client', 'server', 'connect', 'check', 'queue', 'http-keep-alive', 'http-request', 'tunnel', 'tarpit', 'client-fin' and 'server-fin' (got '{name}')"
        )));
    };
    let value = cx.word(value_idx);
    if value.is_empty() {
        return Err(cx.alert(format!(
            "'timeout {name}' expects an integer value (in milliseconds)"
        )));
    }
    let ms = match parse_time_ms(value) {
        Ok(ms) => ms,
        Err(TimeError::BadChar(_)) if crate::values::time_with_trailing(value).is_some() => {
            let (ms, warning) = crate::values::time_with_trailing(value).unwrap_or_default();
            cx.push(Diagnostic::warning(Loc::None, warning));
            ms
        }
        Err(TimeError::BadChar(c)) => return Err(cx.alert(format!("unexpected character '{c}' in 'timeout {name}'"))),
        Err(_) => {
            return Err(cx.alert(format!(
                "timer overflow in argument '{value}' to 'timeout {name}' (maximum value is 2147483647 ms or ~24.8 days)"
            )))
        }
    };
    cx.too_many(value_idx + 1, &format!("timeout {name}"))?;
    if let Some(lacks) = missing_cap(caps, p.kind) {
        cx.warn(format!(
            "'timeout {name}' will be ignored because {} '{}' has no {lacks} capability",
            p.kind.label(),
            p.name
        ));
        return Ok(());
    }
    if let Some(slot) = timeout_slot(&mut p.timeouts, name) {
        *slot = Some(ms);
    }
    Ok(())
}

fn timeout(p: &mut Proxy, cx: &mut Cx) -> R {
    let name = cx.word(1).to_string();
    set_timeout(p, cx, &name, 2)
}

/// HAProxy 1.5's `clitimeout`, `contimeout`, `srvtimeout`: same values as
/// the `timeout` lines that replaced them.
fn legacy_timeout(p: &mut Proxy, cx: &mut Cx) -> R {
    let (old, name) = match cx.word(0) {
        "clitimeout" => ("clitimeout", "client"),
        "contimeout" => ("contimeout", "connect"),
        _ => ("srvtimeout", "server"),
    };
    set_timeout(p, cx, name, 1)?;
    translated(cx, old, &format!("timeout {name} {}", cx.word(1)));
    Ok(())
}

/// The WARNING for a HAProxy 1.5 keyword we run in its modern form.
fn translated(cx: &mut Cx, old: &str, modern: &str) {
    cx.warn(format!(
        "'{old}' is a HAProxy 1.5 keyword that HAProxy 2.x refuses; haproxy-rs runs it as '{modern}'. Please update the configuration."
    ));
}

/// The modern keyword HAProxy 2.6 names when it refuses a 1.5 regex rule.
fn legacy_hint(kw: &str) -> &'static str {
    match kw {
        "reqrep" => {
            "http-request replace-path', 'http-request replace-uri' or 'http-request replace-header"
        }
        "reqirep" => "http-request replace-header",
        "reqdel" | "reqidel" => "http-request del-header",
        "reqdeny" | "reqideny" => "http-request deny",
        "reqallow" | "reqiallow" => "http-request allow",
        "reqtarpit" | "reqitarpit" => "http-request tarpit",
        "reqsetbe" | "reqisetbe" => "use_backend",
        "rsprep" | "rspirep" => "http-response replace-header",
        "rspdel" | "rspidel" => "http-response del-header",
        _ => "http-response deny",
    }
}

/// Options: name, capabilities, maximum number of arguments.
const OPTIONS: &[(&str, Caps, usize)] = &[
    ("abortonclose", BE_DEF, 0),
    ("accept-invalid-http-request", FE_DEF, 0),
    ("accept-invalid-http-response", BE_DEF, 0),
    ("allbackups", BE_DEF, 0),
    ("checkcache", BE_DEF, 0),
    ("clitcpka", FE_DEF, 0),
    ("contstats", FE_DEF, 0),
    ("disable-h2-upgrade", FE_DEF, 0),
    ("dontlog-normal", FE_DEF, 0),
    ("dontlognull", FE_DEF, 0),
    ("external-check", BE_DEF, 0),
    ("forwardfor", ALL, 4),
    ("h1-case-adjust-bogus-client", FE_DEF, 0),
    ("h1-case-adjust-bogus-server", BE_DEF, 0),
    ("http-buffer-request", ALL, 0),
    ("http-ignore-probes", FE_DEF, 0),
    ("http-keep-alive", ALL, 0),
    ("http-no-delay", ALL, 0),
    ("http-pretend-keepalive", ALL, 0),
    ("http-restrict-req-hdr-names", ALL, 1),
    ("http-server-close", ALL, 0),
    ("http-use-proxy-header", FE_DEF, 0),
    ("httpslog", FE_DEF, 1),
    ("httpchk", BE_DEF, 3),
    ("httpclose", ALL, 0),
    ("httplog", ALL, 1),
    ("idle-close-on-response", FE_DEF, 0),
    ("independent-streams", ALL, 0),
    ("ldap-check", BE_DEF, 0),
    ("log-health-checks", BE_DEF, 0),
    ("log-separate-errors", FE_DEF, 0),
    ("logasap", FE_DEF, 0),
    ("mysql-check", BE_DEF, 3),
    ("nolinger", ALL, 0),
    ("originalto", ALL, 2),
    ("persist", BE_DEF, 0),
    ("pgsql-check", BE_DEF, 2),
    ("prefer-last-server", BE_DEF, 0),
    ("redis-check", BE_DEF, 0),
    ("redispatch", BE_DEF, 1),
    ("smtpchk", BE_DEF, 2),
    ("socket-stats", FE_DEF, 0),
    ("splice-auto", ALL, 0),
    ("splice-request", ALL, 0),
    ("splice-response", ALL, 0),
    ("spop-check", BE_DEF, 0),
    ("srvtcpka", BE_DEF, 0),
    ("ssl-hello-chk", BE_DEF, 0),
    ("tcp-check", BE_DEF, 0),
    ("tcp-smart-accept", FE_DEF, 0),
    ("tcp-smart-connect", BE_DEF, 0),
    ("tcpka", ALL, 0),
    ("tcplog", ALL, 0),
    ("transparent", BE_DEF, 0),
];

/// Every `option` name we know (for tests and tools).
pub fn option_names() -> Vec<&'static str> {
    OPTIONS.iter().map(|o| o.0).collect()
}

/// HAProxy 1.5 options that 2.x removed, and what we run instead.
const LEGACY_OPTIONS: &[(&str, &str)] = &[
    ("forceclose", "httpclose"),
    ("http-tunnel", "http-keep-alive"),
    ("http_proxy", "http_proxy"),
];

/// The options 2.6 lets `no` negate: its `cfg_opts` and `cfg_opts2` tables
/// (the first 33 of its suggestion list), then those it parses by hand that
/// take a `no`.
#[rustfmt::skip]
const NEGATABLE_OPTIONS: &[&str] = &[
    "abortonclose", "allbackups", "checkcache", "clitcpka", "contstats", "dontlognull",
    "http-buffer-request", "http-ignore-probes", "idle-close-on-response", "prefer-last-server",
    "logasap", "nolinger", "persist", "srvtcpka", "transparent", "splice-request",
    "splice-response", "splice-auto", "accept-invalid-http-request",
    "accept-invalid-http-response", "dontlog-normal", "log-separate-errors", "log-health-checks",
    "socket-stats", "tcp-smart-accept", "tcp-smart-connect", "independent-streams",
    "http-use-proxy-header", "http-pretend-keepalive", "http-no-delay",
    "h1-case-adjust-bogus-client", "h1-case-adjust-bogus-server", "disable-h2-upgrade",
    "httpclose", "http-server-close", "http-keep-alive", "redispatch",
];

/// `[no|default] option <name> [args]`; the builder hands `default option`
/// over with 2.6's shifted words, the last one twice (`default option x x`).
fn option(p: &mut Proxy, cx: &mut Cx) -> R {
    let (kwm, at) = match cx.word(0) {
        "no" => (Some(false), 2),
        "default" => (Some(true), 2),
        _ => (None, 1),
    };
    let neg = kwm.is_some();
    if cx.nwords() <= at {
        return Err(Diagnostic::alert(
            Loc::ParsingTight(cx.d.span.clone()),
            "'option' expects an option name.",
        ));
    }
    let mut name = cx.word(at).to_string();
    if let Some(&(old, modern)) = LEGACY_OPTIONS.iter().find(|(o, _)| *o == name) {
        if old == "http_proxy" {
            return Err(cx.alert(
                "'option http_proxy' (HAProxy 1.5's forward proxy mode) is not supported by this build of haproxy-rs yet.",
            ));
        }
        translated(cx, &format!("option {old}"), &format!("option {modern}"));
        name = modern.to_string();
    }
    // 2.6's `cfg_opts`/`cfg_opts2` and HTTP modes: extra words are refused
    // first (named without the prefix), then the capability is checked.
    let is_mode = ["httpclose", "http-server-close", "http-keep-alive"].contains(&name.as_str());
    if NEGATABLE_OPTIONS.contains(&name.as_str()) && name != "redispatch" {
        if let Some(extra) = cx.d.words.get(at + 1) {
            return Err(cx.alert(format!(
                "'option {name}' cannot handle unexpected argument '{}'.",
                extra.text
            )));
        }
        if !is_mode {
            if let Some(&(_, caps, _)) = OPTIONS.iter().find(|(n, _, _)| *n == name) {
                if let Some(lacks) = missing_cap(caps, p.kind) {
                    cx.warn(format!(
                        "'{name}' ignored because {} '{}' has no {lacks} capability.",
                        p.kind.label(),
                        p.name
                    ));
                    return Ok(());
                }
            }
        }
    }
    // `default option redispatch` (its argument is not read) and
    // `default option <table option>`: back to the default value.
    if kwm == Some(true) && NEGATABLE_OPTIONS.contains(&name.as_str()) && !is_mode {
        if name == "redispatch" {
            if let Some(lacks) = missing_cap(BE_DEF, p.kind) {
                cx.warn(format!(
                    "'{name}' ignored because {} '{}' has no {lacks} capability.",
                    p.kind.label(),
                    p.name
                ));
                return Ok(());
            }
        }
        p.options.remove(&name);
        return Ok(());
    }
    // 2.6 takes `no` only for its table options and a few it parses by hand
    // (this is checked before it looks for unknown names).
    if neg && !NEGATABLE_OPTIONS.contains(&name.as_str()) {
        return Err(Diagnostic::alert(
            Loc::ParsingTight(cx.d.span.clone()),
            format!("negation/default is not supported for option '{name}'."),
        ));
    }
    let Some(&(_, caps, max)) = OPTIONS.iter().find(|(n, _, _)| *n == name) else {
        // 2.6's option list: we accept a few names it would not suggest.
        return Err(
            match did_you_mean(&name, OPTION_CANDIDATES.iter().copied()) {
                hint if hint.is_empty() => cx.alert(format!("unknown option '{name}'.")),
                hint => cx.alert(format!("unknown option '{name}'{hint}")),
            },
        );
    };
    let mut args = words_from(cx, at + 1);
    if let Some(lacks) = missing_cap(caps, p.kind) {
        cx.warn(format!(
            "'{name}' ignored because {} '{}' has no {lacks} capability.",
            p.kind.label(),
            p.name
        ));
        // 2.6 still reads the arguments of this one.
        if name == "pgsql-check" {
            check_pgsql(cx, &args)?;
        }
        return Ok(());
    }
    if neg {
        // Only `no option redispatch` gets here with words after the name,
        // and 2.6 does not read them.
        args.clear();
    }
    match name.as_str() {
        "httplog" if args.first().is_some_and(|a| a != "clf") => {
            return Err(cx.alert("keyword 'httplog' only supports option 'clf'."))
        }
        "httplog" if p.kind == ProxyKind::Backend => {
            cx.warn(format!(
                "backend '{}' : 'option httplog' directive is ignored in backends.",
                p.name
            ));
            return Ok(());
        }
        "tcplog" if p.kind == ProxyKind::Backend => {
            cx.warn(format!(
                "backend '{}' : 'option tcplog' directive is ignored in backends.",
                p.name
            ));
            return Ok(());
        }
        "forwardfor" => check_forwardfor(cx, &args)?,
        "pgsql-check" => check_pgsql(cx, &args)?,
        "mysql-check" => match args.first().map(String::as_str) {
            None => {}
            Some("user") if args.len() < 2 => {
                return Err(cx.alert("'option mysql-check user' expects <username> as argument."))
            }
            Some("user") => {}
            Some(other) => {
                return Err(cx.alert(format!(
                    "'option mysql-check' only supports optional values: 'user' (got '{other}')."
                )))
            }
        },
        "httpchk" if args.get(2).is_some_and(|v| v.contains("\r\n")) => {
            cx.push(Diagnostic::warning(
                Loc::ParsingTight(cx.d.span.clone()),
                "'option httpchk' : hiding headers or body at the end of the version string is deprecated. Please, consider to use 'http-check send' directive instead.",
            ));
        }
        // 2.6 reads one number and ignores anything after it.
        "redispatch" => {}
        "http-restrict-req-hdr-names" => {
            const WHAT: &str = "option 'http-restrict-req-hdr-names' expects 'preserve', 'reject' or 'delete' option.";
            match args.as_slice() {
                [_, extra, ..] => {
                    return Err(cx.alert(format!(
                        "'option' cannot handle unexpected argument '{extra}'."
                    )))
                }
                [] => return Err(cx.alert(format!("missing parameter. {WHAT}"))),
                [v] if !["preserve", "reject", "delete"].contains(&v.as_str()) => {
                    return Err(cx.alert(format!("invalid parameter '{v}'. {WHAT}")))
                }
                _ => {}
            }
        }
        _ if args.len() > max => {
            return Err(cx.alert(format!(
                "'option {name}' cannot handle unexpected argument '{}'.",
                args[max]
            )))
        }
        _ => {}
    }
    // The HTTP connection modes exclude each other: the last one wins.
    if !neg && ["httpclose", "http-server-close", "http-keep-alive"].contains(&name.as_str()) {
        for other in ["httpclose", "http-server-close", "http-keep-alive"] {
            p.options.remove(other);
        }
    }
    // The traffic log format: the last of these and `log-format` wins.
    if !neg && p.kind != ProxyKind::Backend {
        let span = cx.d.span.clone();
        match name.as_str() {
            "httplog" if args.is_empty() => p.log_format = Some((LogFormat::Http, span)),
            "httplog" => p.log_format = Some((LogFormat::HttpClf, span)),
            "tcplog" => p.log_format = Some((LogFormat::Tcp, span)),
            _ => {}
        }
    } else if neg {
        let off = match name.as_str() {
            "httplog" => [LogFormat::Http, LogFormat::HttpClf].as_slice(),
            "tcplog" => [LogFormat::Tcp].as_slice(),
            _ => &[],
        };
        if p.log_format.as_ref().is_some_and(|(f, _)| off.contains(f)) {
            p.log_format = None;
        }
    }
    p.options.insert(
        name,
        ProxyOption {
            enabled: !neg,
            args,
            span: cx.d.span.clone(),
        },
    );
    Ok(())
}

/// `option pgsql-check user <name>`
fn check_pgsql(cx: &Cx, args: &[String]) -> R {
    match args {
        [_, _, extra, ..] => Err(cx.alert(format!(
            "'option pgsql-check' cannot handle unexpected argument '{extra}'."
        ))),
        [user, _] if user == "user" => Ok(()),
        [_, _] => Err(cx.alert("'option pgsql-check' only supports optional values: 'user'.")),
        _ => Err(cx.alert("'option pgsql-check' expects 'user <username>' as argument.")),
    }
}

/// `option forwardfor [except <net>] [header <name>] [if-none]`
fn check_forwardfor(cx: &Cx, args: &[String]) -> R {
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "except" | "header" => {
                if args.get(i + 1).is_none() {
                    return Err(cx.alert(format!("'option forwardfor' '{}' requires an argument.", args[i])));
                }
                i += 2;
            }
            "if-none" => i += 1,
            other => {
                return Err(cx.alert(format!(
                    "'option forwardfor' only supports optional values 'except', 'header' and 'if-none' (got '{other}')."
                )))
            }
        }
    }
    Ok(())
}

/// `no option ...`, `default option ...`, `no log` (the builder only
/// hands these over).
fn no(p: &mut Proxy, cx: &mut Cx) -> R {
    match cx.word(1) {
        "option" => option(p, cx),
        "log" => {
            if cx.nwords() > 2 {
                return Err(cx.alert("log : 'no log' does not expect arguments"));
            }
            p.no_log = true;
            p.logs.clear();
            Ok(())
        }
        w => Err(cx.alert(format!(
            "'no' only supports 'option' and 'log' (got '{w}')."
        ))),
    }
}

fn log(p: &mut Proxy, cx: &mut Cx) -> R {
    let t = parse_log(cx, false)?;
    p.logs.push(t);
    Ok(())
}

fn log_format(p: &mut Proxy, cx: &mut Cx) -> R {
    if p.kind == ProxyKind::Backend {
        cx.warn(format!(
            "backend '{}' : '{}' directive is ignored in backends.",
            p.name,
            cx.word(0)
        ));
        return Ok(());
    }
    if cx.nwords() < 2 {
        return Err(cx.alert(format!("{} expects an argument.", cx.word(0))));
    }
    cx.max_args(1)?;
    let text = cx.word(1).to_string();
    match cx.word(0) {
        "log-format" => p.log_format = Some((LogFormat::Custom(text), cx.d.span.clone())),
        "log-format-sd" => p.log_format_sd = Some(text),
        _ => p.error_log_format = Some((text, cx.d.span.clone())),
    }
    Ok(())
}

fn bind(p: &mut Proxy, cx: &mut Cx) -> R {
    let b = super::bind::parse_bind(cx, p.kind.section())?;
    p.binds.push(b);
    Ok(())
}

fn server(p: &mut Proxy, cx: &mut Cx) -> R {
    // Duplicate names are reported by the post-parse checks, as in HAProxy.
    let srv = super::server::parse_server(p, cx)?;
    p.servers.push(srv);
    Ok(())
}

fn default_server(p: &mut Proxy, cx: &mut Cx) -> R {
    super::server::parse_default_server(p, cx)
}

fn acl(p: &mut Proxy, cx: &mut Cx) -> R {
    let name = cx.word(1).to_string();
    if name.is_empty() {
        return Err(cx.alert("'acl' expects an ACL name."));
    }
    let words = words_from(cx, 2);
    let expr = compile_acl_line(&name, &words).map_err(|e| cx.alert(e))?;
    p.acls.push(Acl {
        name,
        words,
        expr,
        span: cx.d.span.clone(),
    });
    Ok(())
}

fn use_backend(p: &mut Proxy, cx: &mut Cx) -> R {
    if cx.nwords() < 2 {
        return Err(cx.alert("'use_backend' requires a backend name."));
    }
    let words = words_from(cx, 1);
    let (_, mut cond) = split_condition(&words);
    if let Some(c) = &mut cond {
        compile_condition(c, &p.acls).map_err(|e| {
            cx.alert(format!(
                "error detected while parsing switching rule : {e}."
            ))
        })?;
    }
    if let Some(c) = &cond {
        for w in crate::acl::never_matching(c, &p.acls, crate::acl::Stage::FeUseBackend, None) {
            cx.warn(w);
        }
    }
    p.use_backends.push(UseBackend {
        backend: cx.word(1).into(),
        cond,
        span: cx.d.span.clone(),
    });
    Ok(())
}

fn default_backend(p: &mut Proxy, cx: &mut Cx) -> R {
    if cx.nwords() < 2 {
        return Err(cx.alert("'default_backend' expects a backend name."));
    }
    cx.max_args(1)?;
    p.default_backend = Some((cx.word(1).into(), cx.d.span.clone()));
    Ok(())
}

/// `http-request`, `http-response`, `http-after-response`, `tcp-request`,
/// `tcp-response`, `redirect`, ... : checked for their condition, kept as
/// written for the rule engine.
fn rule(p: &mut Proxy, cx: &mut Cx) -> R {
    let kw = cx.word(0).to_string();
    let owner = format!("{} '{}'", p.kind.label(), p.name);
    if kw == "redirect" {
        super::rules::check_redirect(&words_from(cx, 1), &owner, &cx.d.span)?;
    } else {
        if kw.starts_with("http-") {
            // The last rule of this rule set, when it has no condition.
            let prev = p.rules.iter().rev().find(|r| r.keyword == kw);
            let prev = prev
                .filter(|r| r.cond.is_none())
                .map(|r| r.words.as_slice());
            if let Some(w) = super::rules::final_rule_warning(&kw, prev, &cx.d.span) {
                cx.push(w);
            }
        }
        super::rules::check_rule(&words_from(cx, 0), &owner, &cx.d.span, cx.diags)?;
    }
    let words = words_from(cx, 1);
    let (action, mut cond) = split_condition(&words);
    if let Some(c) = &mut cond {
        compile_condition(c, &p.acls).map_err(|e| match kw.as_str() {
            "http-request" | "http-response" | "http-after-response" => Diagnostic::abort(
                Loc::Parsing(cx.d.span.clone()),
                format!(
                    "error detected while parsing an '{kw} {}' condition : {e}.",
                    cx.word(1)
                ),
            ),
            "redirect" => cx.alert(format!(
                "error detected in {} '{}' while parsing redirect rule : error in condition: {e}.",
                p.kind.label(),
                p.name
            )),
            _ => cx.alert(format!(
                "'{kw} {} {}' : error detected in {} '{}' while parsing '{}' condition : {e}",
                cx.word(1),
                cx.word(2),
                p.kind.label(),
                p.name,
                if c.negate { "unless" } else { "if" }
            )),
        })?;
    }
    if kw == "tcp-request" && p.rules.iter().any(|r| r.keyword == "http-request") {
        cx.warn("a 'tcp-request' rule placed after an 'http-request' rule will still be processed before.");
    }
    if let (Some(c), Some(stage)) = (&cond, rule_stage(p.kind, &kw, cx.word(1))) {
        let within =
            (stage == crate::acl::Stage::FeTcpConnection).then_some("tcp-request connection");
        for w in crate::acl::never_matching(c, &p.acls, stage, within) {
            cx.warn(w);
        }
    }
    p.rules.push(Rule {
        keyword: kw,
        words: action.to_vec(),
        cond,
        span: cx.d.span.clone(),
        translated_from: None,
    });
    Ok(())
}

/// Where a rule's condition is evaluated (a listen section counts as a
/// frontend for request rules, as in 2.6).
fn rule_stage(kind: ProxyKind, kw: &str, sub: &str) -> Option<crate::acl::Stage> {
    use crate::acl::Stage::*;
    let fe = kind != ProxyKind::Backend;
    Some(match (kw, sub) {
        ("http-request", _) => {
            if fe {
                FeHttpRequest
            } else {
                BeHttpRequest
            }
        }
        ("http-response", _) => {
            if kind == ProxyKind::Frontend {
                FeHttpResponse
            } else {
                BeHttpResponse
            }
        }
        ("tcp-request", "connection") => FeTcpConnection,
        ("tcp-request", "content") => {
            if fe {
                FeTcpContent
            } else {
                BeTcpContent
            }
        }
        ("tcp-response", "content") => BeTcpResponse,
        _ => return None,
    })
}

/// HAProxy 1.5's regex header rules (`reqadd`, `reqrep`, `rspdel`, ...).
/// They become rules whose action keeps the 1.5 semantics; the rule engine
/// runs them. `block` is exactly `http-request deny`.
fn legacy_rule(p: &mut Proxy, cx: &mut Cx) -> R {
    let kw = cx.word(0).to_string();
    let words = words_from(cx, 1);
    let (args, mut cond) = split_condition(&words);
    if let Some(c) = &mut cond {
        compile_condition(c, &p.acls).map_err(|e| {
            cx.alert(format!(
                "error detected while parsing a '{kw}' condition : {e}."
            ))
        })?;
    }
    let cond_text = cond
        .as_ref()
        .map(|c| {
            format!(
                " {} {}",
                if c.negate { "unless" } else { "if" },
                c.words.join(" ")
            )
        })
        .unwrap_or_default();
    let (keyword, action, modern): (&str, Vec<String>, String) = match kw.as_str() {
        "block" => (
            "http-request",
            vec!["deny".into()],
            format!("http-request deny{cond_text}"),
        ),
        "reqadd" | "rspadd" => {
            let line = args.first().cloned().unwrap_or_default();
            let Some((name, value)) = line.split_once(':') else {
                return Err(cx.alert(format!("'{kw}' expects <header> as an argument.")));
            };
            let rk = if kw == "reqadd" {
                "http-request"
            } else {
                "http-response"
            };
            let value = value.trim_start().to_string();
            (
                rk,
                vec!["add-header".into(), name.into(), value.clone()],
                format!("{rk} add-header {name} \"{value}\"{cond_text}"),
            )
        }
        "reqpass" | "reqipass" => {
            // In 1.5 a matching reqpass changed nothing at all.
            cx.warn(format!(
                "'{kw}' is a HAProxy 1.5 keyword that HAProxy 2.x refuses; it never changed a request, so haproxy-rs ignores it. Please remove it."
            ));
            return Ok(());
        }
        _ => {
            if args.is_empty() {
                return Err(cx.alert(format!("'{kw}' expects <regex> as an argument.")));
            }
            let rk = if kw.starts_with("req") {
                "http-request"
            } else {
                "http-response"
            };
            let mut action = vec![format!("legacy-{kw}")];
            action.extend(args.iter().cloned());
            cx.warn(format!(
                "'{kw}' is a HAProxy 1.5 keyword that HAProxy 2.x refuses (its modern form is '{}'); haproxy-rs runs it with its HAProxy 1.5 meaning. Please update the configuration.",
                legacy_hint(&kw)
            ));
            p.rules.push(Rule {
                keyword: rk.into(),
                words: action,
                cond,
                span: cx.d.span.clone(),
                translated_from: Some(kw),
            });
            return Ok(());
        }
    };
    translated(cx, &kw, &modern);
    p.rules.push(Rule {
        keyword: keyword.into(),
        words: action,
        cond,
        span: cx.d.span.clone(),
        translated_from: Some(kw),
    });
    Ok(())
}

/// `redispatch` / `redisp` (1.5) = `option redispatch`.
fn legacy_redispatch(p: &mut Proxy, cx: &mut Cx) -> R {
    cx.max_args(0)?;
    translated(cx, cx.word(0).to_string().as_str(), "option redispatch");
    p.options.insert(
        "redispatch".into(),
        ProxyOption {
            enabled: true,
            args: vec![],
            span: cx.d.span.clone(),
        },
    );
    Ok(())
}

/// `monitor-net <net>` (1.5): answers 200 to health probes from that network.
fn legacy_monitor_net(p: &mut Proxy, cx: &mut Cx) -> R {
    if cx.nwords() < 2 {
        return Err(cx.alert("'monitor-net' expects a network address."));
    }
    let net = cx.word(1).to_string();
    let mut cond = Condition {
        negate: false,
        words: vec!["{".into(), "src".into(), net.clone(), "}".into()],
        terms: Vec::new(),
    };
    compile_condition(&mut cond, &[]).map_err(|e| cx.alert(format!("'monitor-net' : {e}.")))?;
    translated(
        cx,
        "monitor-net",
        &format!("http-request return status 200 if {{ src {net} }}"),
    );
    p.rules.push(Rule {
        keyword: "http-request".into(),
        words: vec!["return".into(), "status".into(), "200".into()],
        cond: Some(cond),
        span: cx.d.span.clone(),
        translated_from: Some("monitor-net".into()),
    });
    Ok(())
}

fn legacy_grace(_: &mut Proxy, cx: &mut Cx) -> R {
    cx.warn(
        "'grace' in a proxy is a HAProxy 1.5 setting; the global 'grace' replaces it. Ignored.",
    );
    Ok(())
}

/// The status codes HAProxy has error pages for (`errorfile`, `http-error`).
pub const ERROR_CODES: &[u16] = &[
    200, 400, 401, 403, 404, 405, 407, 408, 410, 413, 425, 429, 500, 501, 502, 503, 504,
];

fn errorfile(p: &mut Proxy, cx: &mut Cx) -> R {
    if cx.nwords() < 3 {
        return Err(cx.alert("'errorfile' expects <status_code> and <file> as arguments."));
    }
    let code: u16 = cx.word(1).parse().unwrap_or(0);
    if !ERROR_CODES.contains(&code) {
        return Err(cx.alert(format!(
            "errorfile : status code '{}' not handled.",
            cx.word(1)
        )));
    }
    let path = cx.word(2).to_string();
    if let Err(m) = crate::errorfile::check_file(&path) {
        return Err(cx.alert(format!("errorfile : {m}")));
    }
    p.errorfiles.push((code, path, cx.d.span.clone()));
    keep_error_line(p, cx);
    Ok(())
}

/// Records an error page line for the runtime, in order.
fn keep_error_line(p: &mut Proxy, cx: &Cx) {
    p.error_lines
        .push((words_from(cx, 0).to_vec(), cx.d.span.clone()));
}

/// The C library's wording of an I/O error, without Rust's "(os error N)".
pub fn io_reason(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// A time in seconds (2.6's `parse_time_err` with `TIME_UNIT_S`): default
/// unit the second, rounded up, at most 2^31-1.
fn parse_time_s(text: &str) -> Result<u64, TimeError> {
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return Err(text
            .chars()
            .next()
            .map_or(TimeError::Empty, TimeError::BadChar));
    }
    let n = text[..digits].bytes().fold(0u128, |a, d| {
        (a * 10 + (d - b'0') as u128).min(u64::MAX as u128)
    });
    // (multiplier, divisor) to seconds
    let (mul, div): (u128, u128) = match &text[digits..] {
        "" | "s" => (1, 1),
        "us" => (1, 1_000_000),
        "ms" => (1, 1000),
        "m" => (60, 1),
        "h" => (3600, 1),
        "d" => (86400, 1),
        rest => {
            let bad = match rest.as_bytes() {
                [b'u', b, ..] if *b != b's' => *b as char,
                [b'u'] => 'u',
                [b's' | b'm' | b'h' | b'd' | b'u', b, ..] => *b as char,
                _ => rest.chars().next().unwrap_or('?'),
            };
            return Err(TimeError::BadChar(bad));
        }
    };
    let secs = (n * mul).div_ceil(div);
    if secs > i32::MAX as u128 {
        return Err(TimeError::Overflow);
    }
    Ok(secs as u64)
}

/// `cookie <name> [rewrite|insert|prefix] [indirect] [nocache] [postonly]
/// [preserve] [httponly] [secure] [domain <d>]* [maxidle <t>] [maxlife <t>]
/// [dynamic] [attr <v>]*`
fn cookie(p: &mut Proxy, cx: &mut Cx) -> R {
    if cx.word(1).is_empty() {
        return Err(cx.alert("'cookie' expects <cookie_name> as argument."));
    }
    let tight = |m: String| Diagnostic::alert(Loc::ParsingTight(cx.d.span.clone()), m);
    let mut modes: Vec<String> = Vec::new();
    let mut warnings = Vec::new();
    let mut i = 2;
    while !cx.word(i).is_empty() {
        let (opt, val) = (cx.word(i), cx.word(i + 1));
        match opt {
            "rewrite" | "indirect" | "insert" | "nocache" | "postonly" | "preserve" | "prefix"
            | "httponly" | "secure" | "dynamic" => modes.push(opt.to_string()),
            "domain" => {
                if val.is_empty() {
                    return Err(tight("'domain' expects <domain> as argument.".into()));
                }
                if !val.contains('.') {
                    warnings.push(format!("domain '{val}' contains no embedded dot, this configuration may not work properly (see RFC6265#5.2.3)."));
                }
                if let Some(c) = val
                    .chars()
                    .find(|c| !(c.is_ascii_alphanumeric() || "-_.".contains(*c)))
                {
                    return Err(tight(format!(
                        "character '{c}' is not permitted in domain name '{val}'."
                    )));
                }
                i += 1;
            }
            "maxidle" | "maxlife" => {
                if val.is_empty() {
                    let what = if opt == "maxidle" { "idletime" } else { "lifetime" };
                    return Err(tight(format!(
                        "'{opt}' expects <{what}> in seconds as argument."
                    )));
                }
                match parse_time_s(val) {
                    Ok(_) => {}
                    Err(TimeError::Overflow) => return Err(tight(format!(
                        "timer overflow in argument <{val}> to <{opt}>, maximum value is 2147483647 s (~68 years)."
                    ))),
                    Err(TimeError::BadChar(c)) => return Err(tight(format!(
                        "unexpected character '{c}' in argument to <{opt}>."
                    ))),
                    Err(TimeError::Empty) => {}
                }
                i += 1;
            }
            "attr" => {
                if val.is_empty() {
                    return Err(tight("'attr' expects <value> as argument.".into()));
                }
                if let Some(b) = val.bytes().find(|b| b.is_ascii_control() || *b == b';') {
                    return Err(tight(format!(
                        "character '%x{b:02X}' is not permitted in attribute value."
                    )));
                }
                i += 1;
            }
            _ => return Err(cx.alert("'cookie' supports 'rewrite', 'insert', 'prefix', 'indirect', 'nocache', 'postonly', 'domain', 'maxidle', 'dynamic', 'maxlife' and 'attr' options.")),
        }
        i += 1;
    }
    for w in warnings {
        cx.push(Diagnostic::warning(Loc::ParsingTight(cx.d.span.clone()), w));
    }
    let has = |m: &str| modes.iter().any(|x| x == m);
    // The three checks are all made, each an error of its own.
    let mut errors = Vec::new();
    if has("rewrite") && has("indirect") {
        errors.push("cookie 'rewrite' and 'indirect' modes are incompatible.");
    }
    if ["rewrite", "insert", "prefix"]
        .iter()
        .filter(|m| has(m))
        .count()
        > 1
    {
        errors.push("cookie 'rewrite', 'insert' and 'prefix' modes are incompatible.");
    }
    if has("preserve") && !has("insert") && !has("indirect") {
        errors.push("cookie 'preserve' requires at least 'insert' or 'indirect'.");
    }
    let last = errors.pop();
    for e in errors {
        let d = cx.alert(e);
        cx.push(d);
    }
    match last {
        Some(e) => Err(cx.alert(e)),
        None => {
            p.cookie = Some(words_from(cx, 1));
            Ok(())
        }
    }
}

/// `server-template <prefix> <num | range> <addr>[:port] [params*]`
fn server_template(_: &mut Proxy, cx: &mut Cx) -> R {
    if cx.nwords() < 4 {
        return Err(cx.alert_bracket(
            "'server-template' expects <prefix> <nb | range> <addr>[:<port>] as arguments.",
        ));
    }
    let n = cx.word(2);
    let ok = match n.split_once('-') {
        Some((a, b)) => parse_u32_pos(a)
            .zip(parse_u32_pos(b))
            .is_some_and(|(a, b)| a <= b),
        None => parse_u32_pos(n).is_some(),
    };
    if !ok {
        return Err(cx.alert_bracket(format!("Wrong server-template number or range arg '{n}'.")));
    }
    Ok(())
}

fn parse_u32_pos(s: &str) -> Option<u32> {
    crate::values::parse_u32(s).filter(|n| *n > 0)
}

/// `appsession` (HAProxy 1.4/1.5): 2.6 refuses it and so do we, since
/// cookie persistence replaces it with different semantics.
fn appsession(_: &mut Proxy, cx: &mut Cx) -> R {
    Err(cx.alert("'appsession' is not supported anymore since HAProxy 1.6."))
}

fn disabled(p: &mut Proxy, cx: &mut Cx) -> R {
    cx.max_args(0)?;
    p.disabled = true;
    Ok(())
}

fn enabled(p: &mut Proxy, cx: &mut Cx) -> R {
    cx.max_args(0)?;
    p.disabled = false;
    Ok(())
}

fn any(_: &mut Proxy, _: &mut Cx) -> R {
    Ok(())
}

fn one_or_more(_: &mut Proxy, cx: &mut Cx) -> R {
    if cx.nwords() < 2 {
        return Err(cx.alert(format!("'{}' expects an argument.", cx.word(0))));
    }
    Ok(())
}

/// `stats enable|uri|realm|auth|scope|refresh|hide-version|show-*|admin|http-request ...`
fn stats(p: &mut Proxy, cx: &mut Cx) -> R {
    const SUB: &[&str] = &[
        "admin",
        "auth",
        "enable",
        "hide-version",
        "http-request",
        "realm",
        "refresh",
        "scope",
        "show-desc",
        "show-legends",
        "show-modules",
        "show-node",
        "uri",
    ];
    const EXPECTS: &str = "expects 'admin', 'uri', 'realm', 'auth', 'scope', 'enable', 'hide-version', 'show-node', 'show-desc' or 'show-legends'.";
    let sub = cx.word(1).to_string();
    let tight = |m: String| Diagnostic::alert(Loc::ParsingTight(cx.d.span.clone()), m);
    let defaults = p.kind == ProxyKind::Defaults;
    // A proxy's own `stats` line leaves the settings of its defaults section
    // (2.6 detaches from them before reading the line).
    if p.stats.as_ref().is_some_and(|s| s.inherited) {
        p.stats = None;
    }
    if sub.is_empty() {
        return Err(tight(format!("missing keyword in 'stats', {EXPECTS}")));
    }
    if !SUB.contains(&sub.as_str()) {
        return Err(tight(format!("unknown stats parameter '{sub}', {EXPECTS}")));
    }
    if defaults && sub == "admin" {
        return Err(tight(
            "'stats admin' not allowed in 'defaults' section.".into(),
        ));
    }
    if defaults && sub == "http-request" {
        return Err(tight("'stats' not allowed in 'defaults' section.".into()));
    }
    let span = cx.d.span.clone();
    let page = p.stats.get_or_insert_with(|| StatsPage::new(span));
    let arg = cx.word(2).to_string();
    match sub.as_str() {
        "admin" => {
            if arg != "if" && arg != "unless" {
                return Err(cx.alert(
                    "'stats admin' requires either 'if' or 'unless' followed by a condition.",
                ));
            }
            let mut cond = Condition {
                negate: arg == "unless",
                words: words_from(cx, 3),
                terms: Vec::new(),
            };
            compile_condition(&mut cond, &p.acls).map_err(|e| {
                cx.alert(format!(
                    "error detected while parsing a 'stats admin' rule : {e}."
                ))
            })?;
            page.admin.push(cond);
        }
        "uri" if arg.is_empty() => return Err(cx.alert("'uri' needs an URI prefix.")),
        "uri" => page.uri = arg,
        "realm" if arg.is_empty() => return Err(cx.alert("'realm' needs an realm name.")),
        "realm" => page.realm = Some(arg.replace('\\', "")),
        "auth" if arg.is_empty() => return Err(cx.alert("'auth' needs a user:password account.")),
        "auth" => {
            let (user, pass) = arg.split_once(':').unwrap_or((arg.as_str(), ""));
            page.auth.push((user.to_string(), pass.to_string()));
        }
        "scope" if arg.is_empty() => return Err(cx.alert("'scope' needs a proxy name.")),
        "scope" => page
            .scope
            .push(if arg == "." { p.name.clone() } else { arg }),
        "refresh" => page.refresh = Some(refresh_seconds(&arg).map_err(tight)?),
        "hide-version" => page.hide_version = true,
        "show-legends" => page.show_legends = true,
        "show-modules" => page.show_modules = true,
        "show-node" => {
            let ok = arg
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
            if !ok {
                return Err(tight("'stats show-node' invalid node name - should be a stringwith digits(0-9), letters(A-Z, a-z), hyphen(-) or underscode(_).".into()));
            }
            page.show_node = Some(Some(arg).filter(|a| !a.is_empty()));
        }
        "show-desc" => {
            let text = cx.d.rest(2).collect::<Vec<_>>().join(" ");
            page.show_desc = Some(Some(text).filter(|t| !t.is_empty()));
        }
        "http-request" => {
            // Any unconditional rule makes the following ones dead code.
            if page.rules.last().is_some_and(|r| r.cond.is_none()) {
                cx.push(Diagnostic::warning(
                    Loc::ParsingTight(cx.d.span.clone()),
                    "previous 'stats' action has no condition attached, further entries are NOOP.",
                ));
            }
            let owner = format!("{} '{}'", p.kind.label(), p.name);
            let words = words_from(cx, 1);
            super::rules::check_rule(&words, &owner, &cx.d.span, cx.diags)?;
            let (action, mut cond) = split_condition(&words[1..]);
            if let Some(c) = &mut cond {
                compile_condition(c, &p.acls).map_err(|e| {
                    Diagnostic::abort(
                        Loc::Parsing(cx.d.span.clone()),
                        format!(
                            "error detected while parsing an 'http-request {}' condition : {e}.",
                            cx.word(2)
                        ),
                    )
                })?;
            }
            let Some(page) = p.stats.as_mut() else {
                return Ok(());
            };
            page.rules.push(Rule {
                keyword: "http-request".into(),
                words: action.to_vec(),
                cond,
                span: cx.d.span.clone(),
                translated_from: None,
            });
        }
        // `enable`: the page exists with its defaults.
        _ => {}
    }
    Ok(())
}

/// A `stats refresh` delay in seconds (a unit may follow the number).
fn refresh_seconds(text: &str) -> Result<u64, String> {
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    let bad =
        |c: char| format!("unexpected character '{c}' in argument to stats refresh interval.");
    if digits == 0 {
        // 2.6 prints the NUL that ends an empty argument, cutting its line.
        return Err(match text.chars().next() {
            Some(c) => bad(c),
            None => "unexpected character '".into(),
        });
    }
    let overflow = || {
        format!("timer overflow in argument <{text}> to stats refresh interval, maximum value is 2147483647 s (~68 years).")
    };
    if digits == text.len() {
        let n: u64 = text.parse().map_err(|_| overflow())?;
        return if n > i32::MAX as u64 {
            Err(overflow())
        } else {
            Ok(n)
        };
    }
    match parse_time_ms(text) {
        Ok(ms) => Ok(ms.div_ceil(1000)),
        Err(TimeError::BadChar(c)) => Err(bad(c)),
        Err(_) => Err(overflow()),
    }
}

/// `capture cookie <name> len <n>`, `capture request|response header <name> len <n>`
fn capture(p: &mut Proxy, cx: &mut Cx) -> R {
    let len_ok = |i: usize| cx.word(i) == "len" && !cx.word(i + 1).is_empty();
    let len = |i: usize| cx.word(i).parse::<usize>().unwrap_or(0);
    match cx.word(1) {
        "cookie" if !cx.word(2).is_empty() && len_ok(3) => {
            p.capture_cookie = Some((cx.word(2).to_string(), len(4)));
            Ok(())
        }
        "cookie" => Err(cx.alert("'capture' expects 'cookie' <cookie_name> 'len' <len>.")),
        dir @ ("request" | "response")
            if cx.word(2) == "header" && !cx.word(3).is_empty() && len_ok(4) =>
        {
            p.captures.push(Capture {
                response: dir == "response",
                name: cx.word(3).to_ascii_lowercase(),
                len: len(5),
                line: cx.d.span.line,
            });
            Ok(())
        }
        dir @ ("request" | "response") => Err(cx.alert(format!(
            "'capture {dir}' expects 'header' <header_name> 'len' <len>."
        ))),
        _ => Err(cx.alert("'capture' expects 'cookie' or 'request header' or 'response header'.")),
    }
}

/// `monitor fail if|unless <cond>`: the `monitor-uri` answers 503 while
/// the condition holds.
fn monitor(p: &mut Proxy, cx: &mut Cx) -> R {
    if cx.word(1) != "fail" {
        return Err(cx.alert("'monitor' only supports 'fail'."));
    }
    if !matches!(cx.word(2), "if" | "unless") {
        return Err(
            cx.alert("'monitor fail' requires either 'if' or 'unless' followed by a condition.")
        );
    }
    let mut cond = Condition {
        negate: cx.word(2) == "unless",
        words: words_from(cx, 3),
        terms: Vec::new(),
    };
    compile_condition(&mut cond, &p.acls).map_err(|e| {
        cx.alert(format!(
            "error detected while parsing a 'monitor fail' condition : {e}."
        ))
    })?;
    p.monitor_fail.push((cond, cx.d.span.clone()));
    Ok(())
}

/// `monitor-uri <uri>`: requests for it are answered by the proxy itself.
fn monitor_uri(p: &mut Proxy, cx: &mut Cx) -> R {
    if cx.word(1).is_empty() {
        return Err(cx.alert("'monitor-uri' expects an URI."));
    }
    cx.max_args(1)?;
    p.monitor_uri = Some(cx.word(1).to_string());
    Ok(())
}

fn rate_limit(_: &mut Proxy, cx: &mut Cx) -> R {
    if cx.word(1) != "sessions" {
        return Err(cx.alert(format!(
            "'rate-limit' only supports 'sessions' (got '{}')",
            cx.word(1)
        )));
    }
    if cx.word(2).is_empty() {
        return Err(
            cx.alert("'rate-limit sessions' expects expects an integer value (in sessions/second)")
        );
    }
    Ok(())
}

fn tcp_check(p: &mut Proxy, cx: &mut Cx) -> R {
    const SUB: &[&str] = &[
        "comment",
        "connect",
        "send",
        "send-binary",
        "send-lf",
        "send-binary-lf",
        "expect",
    ];
    let sub = cx.word(1);
    if sub.starts_with("set-var") || sub.starts_with("unset-var") {
        return Ok(());
    }
    if !SUB.contains(&sub) {
        return Err(cx.alert(format!(
            "'tcp-check' only supports 'comment', 'connect', 'send', 'send-binary', 'expect', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)'. but got '{sub}'"
        )));
    }
    check_rule(p, cx, "tcp-check")
}

fn http_check(p: &mut Proxy, cx: &mut Cx) -> R {
    const SUB: &[&str] = &[
        "comment",
        "connect",
        "disable-on-404",
        "expect",
        "send",
        "send-state",
    ];
    let sub = cx.word(1);
    if sub == "expect" && cx.nwords() < 3 {
        return Err(
            cx.alert("'http-check expect' : expects at least a matching pattern as arguments.")
        );
    }
    if sub.starts_with("set-var") || sub.starts_with("unset-var") {
        return Ok(());
    }
    if !SUB.contains(&sub) {
        return Err(cx.alert(format!(
            "'http-check' only supports 'disable-on-404', 'send-state', 'comment', 'connect', 'send', 'expect', 'set-var(*)' and 'unset-var(*)'. but got '{sub}'."
        )));
    }
    check_rule(p, cx, "http-check")
}

/// The checks 2.6 makes when it adds a `tcp-check` / `http-check` rule:
/// its arguments, and its place among the proxy's rules so far (a
/// `connect` comes first; with `http-check`, sends follow connections and
/// expects follow sends).
fn check_rule(p: &Proxy, cx: &mut Cx, kw: &str) -> R {
    let sub = cx.word(1);
    // The proxy's rules so far, without comments and variable actions.
    let prior: Vec<&str> = p
        .directives
        .iter()
        .filter(|d| d.word(0) == kw)
        .map(|d| d.word(1))
        .filter(|w| {
            !matches!(*w, "comment" | "disable-on-404" | "send-state")
                && !w.starts_with("set-var")
                && !w.starts_with("unset-var")
        })
        .collect();
    let step = p
        .directives
        .iter()
        .filter(|d| d.word(0) == kw && !matches!(d.word(1), "disable-on-404" | "send-state"))
        .count()
        + 1;
    let last = prior.last().copied();
    match sub {
        "connect" => {
            if prior.first().is_some_and(|f| *f != "connect") {
                return Err(cx.alert(format!(
                    "'{kw} connect' : first step MUST also be a 'connect', optionally preceded by a 'set-var', an 'unset-var' or a 'comment', when there is a 'connect' step in the tcp-check ruleset."
                )));
            }
            if kw == "http-check" && last.is_some_and(|l| l != "expect") {
                return Err(cx.alert(format!(
                    "'http-check connect' : unable to add http-check connect rule at step {step} (missing expect rule).."
                )));
            }
        }
        "send" if kw == "http-check" && last.is_some_and(|l| l != "connect") => {
            return Err(cx.alert(format!(
                "'http-check send' : unable to add http-check send rule at step {step} (missing connect rule).."
            )));
        }
        "send" if kw == "http-check" => {}
        "send" if cx.word(2).is_empty() => {
            return Err(cx.alert("'tcp-check send' : 'string' expects a send as argument."));
        }
        "send-binary" => {
            let hex = cx.word(2);
            if hex.is_empty()
                || !hex.len().is_multiple_of(2)
                || !hex.bytes().all(|b| b.is_ascii_hexdigit())
            {
                return Err(cx.alert(format!(
                    "'tcp-check send-binary' : '{hex}' invalid binary string (an even number of hex digit is expected).\n."
                )));
            }
        }
        "expect" => {
            if kw == "http-check" && last.is_some_and(|l| l == "connect") {
                return Err(cx.alert(format!(
                    "'http-check expect' : unable to add http-check expect rule at step {step} (missing send rule).."
                )));
            }
            check_expect(cx, kw)?;
        }
        _ => {}
    }
    Ok(())
}

/// `expect [options] [!] <match> <pattern>`: the match names 2.6 knows and
/// their patterns.
fn check_expect(cx: &Cx, kw: &str) -> R {
    let words: Vec<&str> = cx.d.rest(2).collect();
    let http = kw == "http-check";
    let mut i = 0;
    while i < words.len() {
        let w = words[i];
        match w {
            "min-recv" | "comment" | "ok-status" | "tout-status" | "on-success" | "on-error"
            | "status-code" => i += 2,
            "error-status" => {
                let v = words.get(i + 1).copied().unwrap_or("");
                if !["L4CON", "L6RSP", "L7RSP", "L7STS", "L7OKC"].contains(&v) {
                    return Err(cx.alert(format!(
                        "'{kw} expect' : 'error-status' only supports 'L4CON', 'L6RSP', 'L7RSP' or 'L7STS' status (got '{v}').."
                    )));
                }
                i += 2;
            }
            "!" => i += 1,
            m => {
                let m = m.trim_start_matches('!');
                let known: &[&str] = if http {
                    &[
                        "status",
                        "rstatus",
                        "string",
                        "rstring",
                        "string-lf",
                        "hdr",
                        "fhdr",
                    ]
                } else {
                    &[
                        "string",
                        "rstring",
                        "binary",
                        "rbinary",
                        "string-lf",
                        "binary-lf",
                    ]
                };
                if !known.contains(&m) {
                    return Err(cx.alert(if http {
                        format!("'{kw} expect' : 'only supports min-recv, [!]string', '[!]rstring', '[!]string-lf', '[!]status', '[!]rstatus', [!]hdr, [!]fhdr or comment but got '{m}' as argument..")
                    } else {
                        format!("'{kw} expect' : 'only supports min-recv, '[!]binary', '[!]string', '[!]rstring', '[!]string-lf''[!]rbinary', '[!]binary-lf' or comment but got '{m}' as argument..")
                    }));
                }
                let Some(pattern) = words.get(i + 1) else {
                    return Err(cx.alert(format!(
                        "'{kw} expect' : '{m}' expects a <pattern> as argument."
                    )));
                };
                if m == "status" && http {
                    if let Some(c) = pattern
                        .chars()
                        .find(|c| !c.is_ascii_digit() && *c != ',' && *c != '-')
                    {
                        return Err(cx.alert(format!(
                            "'{kw} expect' : invalid character '{c}' in the list of status codes."
                        )));
                    }
                }
                // hdr/fhdr take several words; options may follow a pattern.
                i += 2;
                if matches!(m, "hdr" | "fhdr") {
                    return Ok(());
                }
            }
        }
    }
    Ok(())
}

/// `backlog <n>`: `atol`, so any word is a number.
fn int_setting(_: &mut Proxy, cx: &mut Cx) -> R {
    cx.max_args(1)?;
    if cx.word(1).is_empty() {
        return Err(cx.alert(format!("'{}' expects an integer argument.", cx.word(0))));
    }
    Ok(())
}

/// 2.6 checks no capability and no extra word here.
fn hash_balance_factor(_: &mut Proxy, cx: &mut Cx) -> R {
    if cx.word(1).is_empty() {
        return Err(cx.alert("'hash-balance-factor' expects an integer argument."));
    }
    let v = atol(cx.word(1));
    if v != 0 && v <= 100 {
        return Err(cx.alert("'hash-balance-factor' must be 0 or greater than 100."));
    }
    Ok(())
}

fn http_reuse(p: &mut Proxy, cx: &mut Cx) -> R {
    match cx.word(1) {
        v @ ("never" | "safe" | "aggressive" | "always") => {
            cx.too_many(2, &format!("http-reuse {v}"))?;
            p.http_reuse = Some(v.to_string());
            Ok(())
        }
        _ => Err(cx.alert("'http-reuse' only supports 'never', 'safe', 'aggressive', 'always'.")),
    }
}

/// An address that must name a host now: a name that does not resolve is
/// refused as 2.6 does while parsing.
fn check_addr(text: &str, rules: AddrRules) -> Result<(), String> {
    match parse_address(text, rules) {
        // 2.6 tried to resolve it; that message ends with an empty line.
        Err(e @ AddrError::InvalidAddress { .. }) => Err(format!("{e}\n")),
        Err(e) => Err(e.to_string()),
        Ok(Address::Inet {
            host: Host::Name(h),
            ..
        }) if resolve_host(&h).is_none() => Err(format!("invalid address: '{h}' in '{text}'\n")),
        Ok(_) => Ok(()),
    }
}

/// `source <addr>[:<port>] [usesrc { <addr>[:<port>] | client | clientip |
/// hdr_ip(<hdr>[,<occ>]) }] [interface <name>]`
fn source(_: &mut Proxy, cx: &mut Cx) -> R {
    let addr = cx.word(1);
    if addr.is_empty() {
        return Err(cx.alert("'source' expects <addr>[:<port>], and optionally 'usesrc' <addr>, and 'interface' <name>."));
    }
    check_addr(addr, AddrRules::default())
        .map_err(|e| cx.alert(format!("'source {addr}' : {e}")))?;
    let mut i = 2;
    while !cx.word(i).is_empty() {
        let val = cx.word(i + 1);
        match cx.word(i) {
            "usesrc" if val.is_empty() => {
                return Err(cx.alert(
                    "'usesrc' expects <addr>[:<port>], 'client', or 'clientip' as argument.",
                ))
            }
            "usesrc" if matches!(val, "client" | "clientip") || val.starts_with("hdr_ip(") => {}
            "usesrc" => check_addr(val, AddrRules::default())
                .map_err(|e| cx.alert(format!("'usesrc {val}' : {e}")))?,
            "interface" if val.is_empty() => {
                return Err(cx.alert("'source' : missing interface name."))
            }
            "interface" => {}
            _ => {
                return Err(
                    cx.alert("'source' only supports optional keywords 'interface' and 'usesrc'.")
                )
            }
        }
        i += 2;
    }
    Ok(())
}

fn dispatch(_: &mut Proxy, cx: &mut Cx) -> R {
    cx.max_args(1)?;
    let addr = cx.word(1);
    if addr.is_empty() {
        return Err(cx.alert(
            "'dispatch' : '' resolves to an empty address (environment variable missing?)\n",
        ));
    }
    let rules = AddrRules {
        port_required: true,
        ..AddrRules::default()
    };
    check_addr(addr, rules).map_err(|e| cx.alert(format!("'dispatch' : {e}")))
}

fn errorfiles(p: &mut Proxy, cx: &mut Cx) -> R {
    if cx.word(1).is_empty() {
        return Err(cx.alert("errorfiles : expects <name> as argument."));
    }
    keep_error_line(p, cx);
    Ok(())
}

/// `errorloc`, `errorloc302`, `errorloc303`: the code is read by `atoi`.
fn errorloc(p: &mut Proxy, cx: &mut Cx) -> R {
    let kw = cx.word(0);
    if cx.word(1).is_empty() || cx.word(2).is_empty() {
        return Err(cx.alert(format!(
            "{kw} : expects <status_code> and <url> as arguments.\n"
        )));
    }
    let code = atol(cx.word(1)) as i32;
    if !ERROR_CODES.iter().any(|&c| c as i32 == code) {
        return Err(cx.alert(format!("{kw} : status code '{code}' not handled.")));
    }
    keep_error_line(p, cx);
    Ok(())
}

/// `http-error status <code> [content-type <t>] [errorfile <f> | errorfiles
/// <n> | file <f> | lf-file <f> | string <s> | lf-string <s>] [hdr <n> <v>]*`
/// The payload and content-type consistency checks of 2.6 are not copied.
fn http_error(p: &mut Proxy, cx: &mut Cx) -> R {
    let fail = |m: String| cx.alert(format!("http-error : {m}"));
    if cx.word(1) != "status" {
        return Err(fail("expects at least a <status> as arguments.\n".into()));
    }
    if cx.word(2).is_empty() {
        return Err(fail("'status' expects <status_code> as argument".into()));
    }
    let code = atol(cx.word(2)) as i32;
    if !ERROR_CODES.iter().any(|&c| c as i32 == code) {
        return Err(fail(format!("Unexpected status code '{code}'")));
    }
    let mut body: Option<&str> = None;
    let mut i = 3;
    while !cx.word(i).is_empty() {
        let (opt, val) = (cx.word(i), cx.word(i + 1));
        let what = match opt {
            "content-type" => "<ctype>",
            "errorfile" | "lf-string" => "<fmt>",
            "errorfiles" => "<name>",
            "file" | "lf-file" => "<file>",
            "string" => "<str>",
            "hdr" => {
                if val.is_empty() || cx.word(i + 2).is_empty() {
                    return Err(fail("'hdr' expects <name> and <value> as arguments".into()));
                }
                i += 3;
                continue;
            }
            "default-errorfiles" => {
                if let Some(prev) = body {
                    return Err(fail(format!(
                        "unexpected '{opt}' argument, '{prev}' already defined"
                    )));
                }
                body = Some(opt);
                i += 1;
                continue;
            }
            _ => return Err(fail(format!("unknown keyword '{opt}'."))),
        };
        if val.is_empty() {
            return Err(fail(format!("'{opt}' expects {what} as argument")));
        }
        if opt != "content-type" {
            if let Some(prev) = body {
                return Err(fail(format!(
                    "unexpected '{opt}' argument, '{prev}' already defined"
                )));
            }
            body = Some(opt);
            if opt == "errorfile" {
                if let Err(m) = crate::errorfile::check_file(val) {
                    return Err(fail(m));
                }
            }
        }
        i += 2;
    }
    // A content type goes with a payload, and a payload needs one.
    let ctype = (3..cx.nwords())
        .find(|j| cx.word(*j) == "content-type")
        .map(|j| cx.word(j + 1).to_string());
    let payload_len = |opt: &str| -> usize {
        let at = (3..cx.nwords())
            .find(|j| cx.word(*j) == opt)
            .map(|j| cx.word(j + 1))
            .unwrap_or("");
        match opt {
            "string" | "lf-string" => at.len(),
            _ => std::fs::metadata(at).map_or(0, |m| m.len() as usize),
        }
    };
    let has_hdr = (3..cx.nwords()).any(|j| cx.word(j) == "hdr");
    let mut warnings = Vec::new();
    if matches!(
        body,
        Some("errorfile" | "errorfiles" | "default-errorfiles")
    ) {
        if let Some(ct) = &ctype {
            warnings.push(format!(
                "content-type '{ct}' ignored by the http reply when used with an erorrfile."
            ));
        }
        if has_hdr {
            warnings.push(
                "hdr parameters ignored by the http reply when used with an erorrfile.".into(),
            );
        }
    }
    match (body, ctype) {
        (None, Some(ct)) => cx.warn(format!(
            "content-type '{ct}' ignored by the http reply because neither errorfile nor payload defined."
        )),
        (Some(b @ ("string" | "lf-string" | "file" | "lf-file")), None) if payload_len(b) > 0 => {
            return Err(fail("a content type must be defined when non-empty payload is configured".into()))
        }
        _ => {}
    }
    for w in warnings {
        cx.warn(w);
    }
    keep_error_line(p, cx);
    Ok(())
}

/// `id <n>`: 2.6 words three of these messages without a space before the
/// colon.
fn proxy_id(p: &mut Proxy, cx: &mut Cx) -> R {
    // Uniqueness across proxies is checked by the builder, which sees them all.
    let tight = |m: &str| Diagnostic::alert(Loc::ParsingTight(cx.d.span.clone()), m);
    if p.kind == ProxyKind::Defaults {
        return Err(tight("'id' not allowed in 'defaults' section."));
    }
    cx.max_args(1)?;
    if cx.word(1).is_empty() {
        return Err(tight("'id' expects an integer argument."));
    }
    if atol(cx.word(1)) <= 0 {
        return Err(tight("custom id has to be > 0."));
    }
    p.custom_id = Some(atol(cx.word(1)).min(u32::MAX as i64) as u32);
    Ok(())
}

fn log_tag(_: &mut Proxy, cx: &mut Cx) -> R {
    if cx.word(1).is_empty() {
        return Err(cx.alert("'log-tag' expects a tag for use in syslog."));
    }
    Ok(())
}

fn unique_id(p: &mut Proxy, cx: &mut Cx) -> R {
    let kw = cx.word(0);
    if cx.word(1).is_empty() {
        return Err(cx.alert(format!("{kw} expects an argument.")));
    }
    if kw == "unique-id-format" && !cx.word(2).is_empty() {
        return Err(
            cx.alert("unique-id-format expects only one argument, don't forget to escape spaces!")
        );
    }
    if kw == "unique-id-format" {
        p.unique_id_format = Some((cx.word(1).into(), cx.d.span.clone()));
    } else {
        p.unique_id_header = Some(cx.word(1).into());
    }
    Ok(())
}

/// A registered keyword in 2.6: it reads its value first, then reports the
/// missing capability as a WARNING of its own wording.
fn max_keep_alive_queue(p: &mut Proxy, cx: &mut Cx) -> R {
    let v = cx.word(1);
    if v.is_empty() {
        return Err(
            cx.alert("'max-keep-alive-queue' expects expects an integer value (or -1 to disable)")
        );
    }
    let body = v.strip_prefix(['-', '+']).unwrap_or(v);
    if let Some(c) = body.chars().find(|c| !c.is_ascii_digit()) {
        return Err(cx.alert(format!(
            "'max-keep-alive-queue' : unexpected character '{c}' in integer value '{v}'"
        )));
    }
    if !p.kind.has_backend() {
        cx.warn(format!(
            "max-keep-alive-queue will be ignored because {} '{}' has no backend capability",
            p.kind.label(),
            p.name
        ));
    }
    Ok(())
}

/// `retry-on <keyword>...`
fn retry_on(p: &mut Proxy, cx: &mut Cx) -> R {
    const KEYWORDS: &[&str] = &[
        "conn-failure",
        "empty-response",
        "response-timeout",
        "401",
        "403",
        "404",
        "408",
        "425",
        "500",
        "501",
        "502",
        "503",
        "504",
        "0rtt-rejected",
        "junk-response",
        "all-retryable-errors",
    ];
    if cx.word(1).is_empty() {
        return Err(cx.alert("'retry-on' needs at least one keyword to specify when to retry"));
    }
    if !p.kind.has_backend() {
        return Err(cx.alert("'retry-on' only available in backend or listen section"));
    }
    for (i, w) in cx.d.rest(1).enumerate() {
        if w == "none" {
            if i != 0 || cx.nwords() > 2 {
                return Err(cx.alert("'retry-on' 'none' keyworld only usable alone"));
            }
        } else if !KEYWORDS.contains(&w) {
            return Err(cx.alert(format!("'retry-on': unknown keyword '{w}'")));
        }
    }
    p.retry_on = Some(cx.d.rest(1).map(String::from).collect());
    Ok(())
}

/// `use-server <server> { if | unless } <condition>`
fn use_server(p: &mut Proxy, cx: &mut Cx) -> R {
    if cx.word(1).is_empty() {
        return Err(cx.alert("'use-server' expects a server name."));
    }
    persist_cond(p, cx, 2, "switching rule")
}

/// `force-persist` / `ignore-persist { if | unless } <condition>`
fn persist_rule(p: &mut Proxy, cx: &mut Cx) -> R {
    let what = format!("a '{}' rule", cx.word(0));
    persist_cond(p, cx, 1, &what)
}

/// The mandatory condition of `use-server` and `*-persist`, from word `at`.
fn persist_cond(p: &mut Proxy, cx: &mut Cx, at: usize, what: &str) -> R {
    if !matches!(cx.word(at), "if" | "unless") {
        return Err(cx.alert(format!(
            "'{}' requires either 'if' or 'unless' followed by a condition.",
            cx.word(0)
        )));
    }
    let (_, cond) = split_condition(&words_from(cx, at));
    if let Some(mut c) = cond {
        compile_condition(&mut c, &p.acls)
            .map_err(|e| cx.alert(format!("error detected while parsing {what} : {e}.")))?;
    }
    Ok(())
}

fn load_server_state(_: &mut Proxy, cx: &mut Cx) -> R {
    match cx.word(1) {
        "global" | "local" | "none" => Ok(()),
        v => Err(cx.alert(format!(
            "'load-server-state-from-file' expects 'global', 'local' or 'none'. Got '{v}'"
        ))),
    }
}

fn server_state_file_name(_: &mut Proxy, cx: &mut Cx) -> R {
    cx.max_args(1)
}

fn http_send_name_header(_: &mut Proxy, cx: &mut Cx) -> R {
    if cx.word(1).is_empty() {
        return Err(cx.alert("'http-send-name-header' requires a header string."));
    }
    Ok(())
}

/// `declare capture { request | response } len <n>`: a registered keyword
/// in 2.6, with its own capability messages.
fn declare(p: &mut Proxy, cx: &mut Cx) -> R {
    if p.kind == ProxyKind::Defaults {
        return Err(cx.alert("'declare' not available in default section"));
    }
    if !p.kind.has_frontend() {
        return Err(cx.alert("'declare' only available in frontend or listen section"));
    }
    match cx.word(1) {
        "" => Err(cx.alert(
            "'declare' needs a second keyword that specify the type of declaration ('capture')",
        )),
        "capture" if !matches!(cx.word(2), "request" | "response") => {
            Err(cx.alert("'declare capture' requires a direction ('request' or 'response')"))
        }
        "capture" if cx.word(3) != "len" => {
            Err(cx.alert("'declare capture' requires a capture length ('len')"))
        }
        "capture" if cx.word(4).is_empty() => Err(cx.alert(
            "'declare capture': 'len' requires a numeric value that represents the capture length",
        )),
        "capture" => {
            let v = cx.word(4);
            let body = v.strip_prefix(['-', '+']).unwrap_or(v);
            if body.is_empty() || !body.bytes().all(|b| b.is_ascii_digit()) {
                // sic: 2.6 names the 'len' word, not the value.
                return Err(cx.alert("'declare capture': cannot parse the length 'len'."));
            }
            Ok(())
        }
        t => Err(cx.alert(format!(
            "unknown declaration type '{t}' (supports 'capture')"
        ))),
    }
}

const PEERS: Support = Support::Unsupported("stick tables");
const SPOE: Support = Support::Unsupported("filters");

/// The proxy keyword table, in alphabetical order.
pub static PROXY_KEYWORDS: &[Kw] = &[
    Kw::new("acl", FE_BE, acl),
    Kw::new("appsession", BE_DEF, appsession),
    Kw::new("backlog", FE_DEF, int_setting).parse_when_ignored(),
    Kw::new("balance", BE_DEF, balance),
    Kw::new("bind", FE, bind),
    Kw::new("bind-process", ALL, any),
    Kw::new("block", FE_BE, legacy_rule),
    Kw::new("capture", FE, capture),
    Kw::new("clitimeout", FE_DEF, legacy_timeout),
    Kw::new("clitcpka-cnt", FE_DEF, one_or_more),
    Kw::new("clitcpka-idle", FE_DEF, one_or_more),
    Kw::new("clitcpka-intvl", FE_DEF, one_or_more),
    Kw::new("compression", ALL, any).support(Support::Unsupported("compression")),
    Kw::new("contimeout", BE_DEF, legacy_timeout),
    Kw::new("cookie", BE_DEF, cookie).parse_when_ignored(),
    Kw::new("declare", ALL, declare),
    Kw::new("default-server", BE_DEF, default_server).alert_cap(),
    Kw::new("default_backend", FE_DEF, default_backend),
    Kw::new("description", FE_BE, any),
    Kw::new("disabled", ALL, disabled),
    Kw::new("dispatch", BE, dispatch).parse_when_ignored(),
    Kw::new("dynamic-cookie-key", BE_DEF, one_or_more),
    Kw::new("email-alert", ALL, any).support(Support::Unsupported("email alerts")),
    Kw::new("enabled", ALL, enabled),
    Kw::new("error-log-format", ALL, log_format),
    Kw::new("errorfile", ALL, errorfile),
    Kw::new("errorfiles", ALL, errorfiles),
    Kw::new("errorloc", ALL, errorloc),
    Kw::new("errorloc302", ALL, errorloc),
    Kw::new("errorloc303", ALL, errorloc),
    Kw::new("external-check", BE_DEF, any).support(Support::Unsupported("external checks")),
    Kw::new("filter", FE_BE, any).support(SPOE),
    Kw::new("force-persist", BE, persist_rule).parse_when_ignored(),
    Kw::new("fullconn", BE_DEF, fullconn),
    Kw::new("grace", ALL, legacy_grace),
    Kw::new("hash-balance-factor", ALL, hash_balance_factor),
    Kw::new("hash-type", BE_DEF, hash_type),
    Kw::new("http-after-response", FE_BE, rule),
    Kw::new("http-check", BE_DEF, http_check).parse_when_ignored(),
    Kw::new("http-error", ALL, http_error),
    Kw::new("http-request", FE_BE, rule),
    Kw::new("http-response", FE_BE, rule),
    Kw::new("http-reuse", BE_DEF, http_reuse).parse_when_ignored(),
    Kw::new("http-send-name-header", BE_DEF, http_send_name_header).parse_when_ignored(),
    Kw::new("id", ALL, proxy_id),
    Kw::new("ignore-persist", BE, persist_rule).parse_when_ignored(),
    Kw::new("load-server-state-from-file", BE_DEF, load_server_state).parse_when_ignored(),
    Kw::new("log", ALL, log),
    Kw::new("log-format", ALL, log_format),
    Kw::new("log-format-sd", ALL, log_format),
    Kw::new("log-tag", ALL, log_tag),
    Kw::new("max-keep-alive-queue", ALL, max_keep_alive_queue),
    Kw::new("max-session-srv-conns", FE_DEF, one_or_more),
    Kw::new("maxconn", FE_DEF, maxconn),
    Kw::new("mode", ALL, mode),
    Kw::new("monitor", FE, monitor),
    Kw::new("monitor-net", FE_DEF, legacy_monitor_net),
    Kw::new("monitor-uri", FE_DEF, monitor_uri),
    Kw::new("no", ALL, no),
    Kw::new("option", ALL, option),
    Kw::new("persist", BE_DEF, any),
    Kw::new("rate-limit", FE_DEF, rate_limit),
    Kw::new("redirect", FE_BE, rule),
    Kw::new("redisp", BE_DEF, legacy_redispatch),
    Kw::new("redispatch", BE_DEF, legacy_redispatch),
    Kw::new("reqadd", FE_BE, legacy_rule),
    Kw::new("reqallow", FE_BE, legacy_rule),
    Kw::new("reqdel", FE_BE, legacy_rule),
    Kw::new("reqdeny", FE_BE, legacy_rule),
    Kw::new("reqiallow", FE_BE, legacy_rule),
    Kw::new("reqidel", FE_BE, legacy_rule),
    Kw::new("reqideny", FE_BE, legacy_rule),
    Kw::new("reqipass", FE_BE, legacy_rule),
    Kw::new("reqirep", FE_BE, legacy_rule),
    Kw::new("reqisetbe", FE_BE, legacy_rule),
    Kw::new("reqitarpit", FE_BE, legacy_rule),
    Kw::new("reqpass", FE_BE, legacy_rule),
    Kw::new("reqrep", FE_BE, legacy_rule),
    Kw::new("reqsetbe", FE_BE, legacy_rule),
    Kw::new("reqtarpit", FE_BE, legacy_rule),
    Kw::new("retries", BE_DEF, retries),
    Kw::new("retry-on", ALL, retry_on),
    Kw::new("rspadd", FE_BE, legacy_rule),
    Kw::new("rspdel", FE_BE, legacy_rule),
    Kw::new("rspdeny", FE_BE, legacy_rule),
    Kw::new("rspidel", FE_BE, legacy_rule),
    Kw::new("rspideny", FE_BE, legacy_rule),
    Kw::new("rspirep", FE_BE, legacy_rule),
    Kw::new("rsprep", FE_BE, legacy_rule),
    Kw::new("server", BE, server).alert_cap(),
    Kw::new("server-state-file-name", BE_DEF, server_state_file_name).parse_when_ignored(),
    Kw::new("server-template", BE, server_template).alert_cap(),
    Kw::new("source", BE_DEF, source).parse_when_ignored(),
    Kw::new("srvtcpka-cnt", BE_DEF, one_or_more),
    Kw::new("srvtcpka-idle", BE_DEF, one_or_more),
    Kw::new("srvtcpka-intvl", BE_DEF, one_or_more),
    Kw::new("srvtimeout", BE_DEF, legacy_timeout),
    Kw::new("stats", ALL, stats),
    Kw::new("stick", BE, any).support(PEERS),
    Kw::new("stick-table", FE_BE, any).support(PEERS),
    Kw::new("tcp-check", BE_DEF, tcp_check).parse_when_ignored(),
    Kw::new("tcp-request", FE_BE, rule),
    Kw::new("tcp-response", BE, rule),
    Kw::new("timeout", ALL, timeout),
    Kw::new("transparent", BE_DEF, any).support(Support::Unsupported("transparent proxying")),
    Kw::new("unique-id-format", ALL, unique_id),
    Kw::new("unique-id-header", ALL, unique_id),
    Kw::new("use-fcgi-app", BE, any).support(Support::Unsupported("FastCGI")),
    Kw::new("use-server", BE, use_server).parse_when_ignored(),
    Kw::new("use_backend", FE, use_backend),
];
