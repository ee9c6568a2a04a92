//! Keywords of `defaults`, `frontend`, `backend` and `listen` sections.
use super::{
    did_you_mean, log::parse_log, missing_cap, support_diag, CapFail, Caps, Cx, Keyword, Support,
};
use crate::acl::{compile_acl_line, compile_condition, split_condition};
use crate::ast::*;
use crate::diag::{Diagnostic, Loc};
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
    let name = d.word(0);
    let Some(kw) = super::lookup(PROXY_KEYWORDS, name) else {
        let hint = did_you_mean(
            name,
            PROXY_KEYWORDS
                .iter()
                .map(|k| k.name)
                .chain(SECTION_NAMES.iter().copied()),
        );
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

/// Section names are suggested too (`backendz` -> `backend`), as HAProxy does.
pub const SECTION_NAMES: &[&str] = &[
    "backend", "defaults", "frontend", "global", "listen", "userlist",
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
        _ if algo.starts_with("rdp-cookie") => Balance::RdpCookie {
            name: paren("rdp-cookie(").unwrap_or_else(|| "mstshash".into()),
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
    ("http-use-htx", ALL, 0),
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

/// `[no] option <name> [args]`
fn option(p: &mut Proxy, cx: &mut Cx) -> R {
    let (neg, at) = if cx.word(0) == "no" {
        (true, 2)
    } else {
        (false, 1)
    };
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
    let Some(&(_, caps, max)) = OPTIONS.iter().find(|(n, _, _)| *n == name) else {
        let names = OPTIONS
            .iter()
            .map(|o| o.0)
            .chain(LEGACY_OPTIONS.iter().map(|o| o.0));
        return Err(match did_you_mean(&name, names) {
            hint if hint.is_empty() => cx.alert(format!("unknown option '{name}'.")),
            hint => cx.alert(format!("unknown option '{name}'{hint}")),
        });
    };
    if let Some(lacks) = missing_cap(caps, p.kind) {
        cx.warn(format!(
            "'{name}' ignored because {} '{}' has no {lacks} capability.",
            p.kind.label(),
            p.name
        ));
        return Ok(());
    }
    let args = words_from(cx, at + 1);
    if neg && !args.is_empty() {
        return Err(cx.alert(format!(
            "'no option {name}' cannot handle unexpected argument '{}'.",
            args[0]
        )));
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

/// `no option ...`, `no log`
fn no(p: &mut Proxy, cx: &mut Cx) -> R {
    match cx.word(1) {
        "option" => option(p, cx),
        "log" => {
            cx.max_args(1)?;
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
    if cx.nwords() < 2 {
        return Err(cx.alert(format!("{} expects an argument.", cx.word(0))));
    }
    cx.max_args(1)?;
    if cx.word(0) == "log-format" {
        p.log_format = Some(cx.word(1).into());
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
    if kw == "redirect" {
        if cx.nwords() < 2 {
            return Err(cx.alert("'redirect' expects 'code', 'prefix', 'location', 'scheme', 'set-cookie', 'clear-cookie', 'drop-query', 'append-slash', or 'ignore-empty' (was '')."));
        }
    } else {
        let owner = format!("{} '{}'", p.kind.label(), p.name);
        super::rules::check_rule(&words_from(cx, 0), &owner, &cx.d.span)?;
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
    p.rules.push(Rule {
        keyword: kw,
        words: action.to_vec(),
        cond,
        span: cx.d.span.clone(),
        translated_from: None,
    });
    Ok(())
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
    if let Err(e) = std::fs::metadata(&path) {
        let _ = e;
        return Err(cx.alert(format!("errorfile : error opening file '{path}'.")));
    }
    p.errorfiles.push((code, path, cx.d.span.clone()));
    Ok(())
}

/// The C library's wording of an I/O error, without Rust's "(os error N)".
pub fn io_reason(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

fn cookie(_: &mut Proxy, cx: &mut Cx) -> R {
    if cx.nwords() < 2 {
        return Err(cx.alert("'cookie' expects <cookie_name> as argument."));
    }
    Ok(())
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

fn stats(_: &mut Proxy, cx: &mut Cx) -> R {
    const SUB: &[&str] = &[
        "admin",
        "auth",
        "bind-process",
        "enable",
        "hide-version",
        "http-request",
        "maxconn",
        "realm",
        "refresh",
        "scope",
        "show-desc",
        "show-legends",
        "show-modules",
        "show-node",
        "socket",
        "timeout",
        "uri",
    ];
    const EXPECTS: &str = "expects 'admin', 'uri', 'realm', 'auth', 'scope', 'enable', 'hide-version', 'show-node', 'show-desc' or 'show-legends'.";
    let sub = cx.word(1);
    let tight = |m: String| Diagnostic::alert(Loc::ParsingTight(cx.d.span.clone()), m);
    if sub.is_empty() {
        return Err(tight(format!("missing keyword in 'stats', {EXPECTS}")));
    }
    if !SUB.contains(&sub) || sub == "bind-process" {
        return Err(tight(format!("unknown stats parameter '{sub}', {EXPECTS}")));
    }
    Ok(())
}

/// `capture cookie <name> len <n>`, `capture request|response header <name> len <n>`
fn capture(_: &mut Proxy, cx: &mut Cx) -> R {
    let len_ok = |i: usize| cx.word(i) == "len" && !cx.word(i + 1).is_empty();
    match cx.word(1) {
        "cookie" if !cx.word(2).is_empty() && len_ok(3) => Ok(()),
        "cookie" => Err(cx.alert("'capture' expects 'cookie' <cookie_name> 'len' <len>.")),
        dir @ ("request" | "response")
            if cx.word(2) == "header" && !cx.word(3).is_empty() && len_ok(4) =>
        {
            let _ = dir;
            Ok(())
        }
        dir @ ("request" | "response") => Err(cx.alert(format!(
            "'capture {dir}' expects 'header' <header_name> 'len' <len>."
        ))),
        _ => Err(cx.alert("'capture' expects 'cookie' or 'request header' or 'response header'.")),
    }
}

fn monitor(_: &mut Proxy, cx: &mut Cx) -> R {
    if cx.word(1) != "fail" {
        return Err(cx.alert("'monitor' only supports 'fail'."));
    }
    if !matches!(cx.word(2), "if" | "unless") {
        return Err(
            cx.alert("'monitor fail' requires either 'if' or 'unless' followed by a condition.")
        );
    }
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

fn tcp_check(_: &mut Proxy, cx: &mut Cx) -> R {
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
    if SUB.contains(&sub) || sub.starts_with("set-var") || sub.starts_with("unset-var") {
        return Ok(());
    }
    Err(cx.alert(format!(
        "'tcp-check' only supports 'comment', 'connect', 'send', 'send-binary', 'expect', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)'. but got '{sub}'"
    )))
}

fn http_check(_: &mut Proxy, cx: &mut Cx) -> R {
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
    if SUB.contains(&sub) || sub.starts_with("set-var") || sub.starts_with("unset-var") {
        return Ok(());
    }
    Err(cx.alert(format!(
        "'http-check' only supports 'disable-on-404', 'send-state', 'comment', 'connect', 'send', 'expect', 'set-var(*)' and 'unset-var(*)'. but got '{sub}'."
    )))
}

const PEERS: Support = Support::Unsupported("stick tables");
const SPOE: Support = Support::Unsupported("filters");

/// The proxy keyword table, in alphabetical order.
pub static PROXY_KEYWORDS: &[Kw] = &[
    Kw::new("acl", FE_BE, acl),
    Kw::new("appsession", BE_DEF, appsession),
    Kw::new("backlog", FE_DEF, one_or_more),
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
    Kw::new("cookie", BE_DEF, cookie),
    Kw::new("declare", FE_BE, any),
    Kw::new("default-server", BE_DEF, default_server),
    Kw::new("default_backend", FE_DEF, default_backend),
    Kw::new("description", FE_BE, any),
    Kw::new("disabled", ALL, disabled),
    Kw::new("dispatch", BE, one_or_more),
    Kw::new("dynamic-cookie-key", BE_DEF, one_or_more),
    Kw::new("email-alert", ALL, any).support(Support::Unsupported("email alerts")),
    Kw::new("enabled", ALL, enabled),
    Kw::new("error-log-format", FE_DEF, log_format),
    Kw::new("errorfile", ALL, errorfile),
    Kw::new("errorfiles", ALL, one_or_more),
    Kw::new("errorloc", ALL, one_or_more),
    Kw::new("errorloc302", ALL, one_or_more),
    Kw::new("errorloc303", ALL, one_or_more),
    Kw::new("external-check", BE_DEF, any).support(Support::Unsupported("external checks")),
    Kw::new("filter", FE_BE, any).support(SPOE),
    Kw::new("force-persist", FE_BE, any),
    Kw::new("fullconn", BE_DEF, fullconn),
    Kw::new("grace", ALL, legacy_grace),
    Kw::new("hash-balance-factor", BE_DEF, one_or_more),
    Kw::new("hash-type", BE_DEF, hash_type),
    Kw::new("http-after-response", FE_BE, rule),
    Kw::new("http-check", BE_DEF, http_check).parse_when_ignored(),
    Kw::new("http-error", ALL, one_or_more),
    Kw::new("http-request", FE_BE, rule),
    Kw::new("http-response", FE_BE, rule),
    Kw::new("http-reuse", BE_DEF, one_or_more),
    Kw::new("http-send-name-header", BE_DEF, any),
    Kw::new("id", FE_BE, one_or_more),
    Kw::new("ignore-persist", FE_BE, any),
    Kw::new("load-server-state-from-file", BE_DEF, one_or_more),
    Kw::new("log", ALL, log),
    Kw::new("log-format", FE_DEF, log_format),
    Kw::new("log-format-sd", FE_DEF, log_format),
    Kw::new("log-tag", ALL, one_or_more),
    Kw::new("max-keep-alive-queue", BE_DEF, one_or_more),
    Kw::new("max-session-srv-conns", FE_DEF, one_or_more),
    Kw::new("maxconn", FE_DEF, maxconn),
    Kw::new("mode", ALL, mode),
    Kw::new("monitor", FE, monitor),
    Kw::new("monitor-net", FE_DEF, legacy_monitor_net),
    Kw::new("monitor-uri", FE_DEF, one_or_more),
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
    Kw::new("retry-on", BE_DEF, one_or_more),
    Kw::new("rspadd", FE_BE, legacy_rule),
    Kw::new("rspdel", FE_BE, legacy_rule),
    Kw::new("rspdeny", FE_BE, legacy_rule),
    Kw::new("rspidel", FE_BE, legacy_rule),
    Kw::new("rspideny", FE_BE, legacy_rule),
    Kw::new("rspirep", FE_BE, legacy_rule),
    Kw::new("rsprep", FE_BE, legacy_rule),
    Kw::new("server", BE, server).alert_cap(),
    Kw::new("server-state-file-name", BE_DEF, any),
    Kw::new("server-template", BE, any).alert_cap(),
    Kw::new("source", BE_DEF, one_or_more),
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
    Kw::new("unique-id-format", FE_DEF, one_or_more),
    Kw::new("unique-id-header", FE_DEF, one_or_more),
    Kw::new("use-fcgi-app", BE, any).support(Support::Unsupported("FastCGI")),
    Kw::new("use-server", BE, one_or_more),
    Kw::new("use_backend", FE, use_backend),
];
