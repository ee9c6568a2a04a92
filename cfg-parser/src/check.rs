//! Second pass over the AST, after every file was read: names resolved
//! (`use_backend`, `default_backend`), cross-proxy checks, server addresses
//! resolved, listeners counted. Runs only when parsing found no fatal error,
//! as in HAProxy.
use crate::addr::{Address, Host};
use crate::ast::{Config, LogFormat, LogTarget, Mode, Proxy, ProxyKind};
use crate::diag::{Diagnostic, Loc};
use crate::resolve::resolve_host;
use crate::source::Span;

/// What the second pass needs from the command line.
#[derive(Clone, Copy, Debug, Default)]
pub struct CheckOptions {
    /// `-dr`: a server whose address does not resolve is disabled (WARNING)
    /// instead of failing the configuration.
    pub ignore_unresolved: bool,
}

/// The result of the checks.
#[derive(Debug, Default)]
pub struct Checked {
    pub diags: Vec<Diagnostic>,
    /// Sockets that would accept connections (binds, stats sockets).
    pub listeners: usize,
    /// Some server address did not resolve: HAProxy then ends with
    /// "Failed to initialize server(s) addr." instead of "Fatal errors found".
    pub unresolved: bool,
}

const TIMEOUT_HINT: &str = "\n   | While not properly invalid, you will certainly encounter various problems\n   | with such a configuration. To fix this, please ensure that all following\n   | timeouts are set to a non-zero value: 'client', 'connect', 'server'.";

/// Whether parsing `r` reads a log-format string (2.6 then remembers its
/// line for a later warning).
fn takes_logformat(r: &crate::ast::Rule) -> bool {
    let action = r.words.first().map(String::as_str).unwrap_or("");
    match action {
        "set-header" | "add-header" | "replace-header" | "replace-value" | "redirect"
        | "early-hint" => true,
        "return" => r
            .words
            .iter()
            .any(|w| matches!(w.as_str(), "hdr" | "lf-string" | "lf-file")),
        a => a.starts_with("set-var-fmt"),
    }
}

/// Parses a proxy's log-format strings as 2.6 does once the section is
/// read: the line format, then `log-format-sd` (2.6 reports it at the line
/// of the line format, or nowhere), `unique-id-format`, `error-log-format`.
fn check_log_formats(p: &Proxy, diags: &mut Vec<Diagnostic>) {
    use crate::logformat::{parse_lf, LfContext};
    // Log lines are built when the stream ends (2.6's "log end" stage);
    // the unique id when the request headers are in.
    let cx = LfContext {
        merge_spaces: true,
        tcp_only: p.effective_mode() != Mode::Http,
        cols: &[crate::logformat::LOG_END],
    };
    let uid_cx = LfContext {
        cols: &[crate::logformat::REQUEST_HEADERS],
        ..cx
    };
    let custom = p.log_format.as_ref().and_then(|(f, span)| match f {
        LogFormat::Custom(t) => Some((t.as_str(), span)),
        _ => None,
    });
    let mut fail = |span: Option<&Span>, what: &str, text: &str| {
        let cx = if what == "unique-id" { uid_cx } else { cx };
        if let Err(e) = parse_lf(text, cx) {
            let msg = format!("failed to parse {what} : {}.", e.trim_end_matches('.'));
            let d = match span {
                Some(s) => Diagnostic::alert(Loc::ParsingCap(s.clone()), msg),
                None => Diagnostic::alert(Loc::None, format!("Parsing [(null):0]: {msg}")),
            };
            diags.push(d);
        }
    };
    if let Some((text, span)) = custom {
        fail(Some(span), "log-format", text);
    }
    if let Some(sd) = &p.log_format_sd {
        fail(p.log_format.as_ref().map(|(_, s)| s), "log-format-sd", sd);
    }
    if let Some((text, span)) = &p.unique_id_format {
        fail(Some(span), "unique-id", text);
    }
    if let Some((text, span)) = &p.error_log_format {
        fail(Some(span), "error-log-format", text);
    }
}

/// Runs the post-parse checks on `cfg`.
pub fn check_config(cfg: &Config, opts: CheckOptions) -> Checked {
    let mut out = Checked::default();
    let diags = &mut out.diags;
    for p in cfg.proxies.iter().filter(|p| !p.disabled) {
        check_switching(cfg, p, diags);
        if p.kind != ProxyKind::Backend && p.binds.is_empty() {
            diags.push(Diagnostic::warning(
                Loc::None,
                format!(
                    "{} '{}' has no 'bind' directive. Please declare it as a backend if this was intended.",
                    p.kind.label(),
                    p.name
                ),
            ));
        }
        for (i, s) in p.servers.iter().enumerate() {
            if let Some(prev) = p.servers[..i].iter().find(|o| o.name == s.name) {
                diags.push(Diagnostic::alert(
                    Loc::Parsing(s.span.clone()),
                    format!(
                        "{} '{}', another server named '{}' was already defined at line {}, please use distinct names.",
                        p.kind.label(),
                        p.name,
                        s.name,
                        prev.span.line
                    ),
                ));
            }
        }
        let http_only = p.effective_mode() != Mode::Http;
        if http_only && p.kind != ProxyKind::Backend && p.option("httplog") {
            // HAProxy names the last line that parsed a log-format string:
            // the option's, or a later rule's that takes one.
            let opt = p.options.get("httplog").map(|o| o.span.clone());
            let rule = p
                .rules
                .iter()
                .rev()
                .find(|r| takes_logformat(r))
                .map(|r| r.span.clone());
            let span = match (opt, rule) {
                (Some(o), Some(r)) if r.line < o.line => Some(o),
                (o, r) => r.or(o),
            };
            let msg = format!(
                "'option httplog' not usable with {} '{}' (needs 'mode http'). Falling back to 'option tcplog'.",
                p.kind.label(),
                p.name
            );
            diags.push(Diagnostic::warning(
                span.map_or(Loc::None, Loc::Parsing),
                msg,
            ));
        }
        if p.kind != ProxyKind::Backend {
            check_log_formats(p, diags);
        }
        // (`stats http-request` is refused in defaults sections, so these
        // settings are the proxy's own.)
        if p.stats
            .as_ref()
            .is_some_and(|s| !s.rules.is_empty() && (s.realm.is_some() || !s.auth.is_empty()))
        {
            diags.push(Diagnostic::alert(
                Loc::None,
                format!(
                    "proxy '{}': stats 'auth'/'realm' and 'http-request' can't be used at the same time.",
                    p.name
                ),
            ));
        }
        if missing_timeouts(p) {
            diags.push(Diagnostic::warning(
                Loc::None,
                format!(
                    "missing timeouts for {} '{}'.{TIMEOUT_HINT}",
                    p.kind.label(),
                    p.name
                ),
            ));
        }
        let wants_log = p.log_format.is_some();
        let has_address = p.logs.iter().any(|l| match l {
            LogTarget::Global(_) => !cfg.global.logs.is_empty(),
            LogTarget::Target { .. } => true,
        });
        if p.kind != ProxyKind::Backend && wants_log && !has_address {
            diags.push(Diagnostic::warning(
                Loc::None,
                format!(
                    "log format ignored for {} '{}' since it has no log address.",
                    p.kind.label(),
                    p.name
                ),
            ));
        }
        if http_only {
            let who = format!("{} '{}'", p.kind.label(), p.name);
            if p.stats.is_some() {
                diags.push(Diagnostic::warning(
                    Loc::None,
                    format!("'stats' statement ignored for {who} as it requires HTTP mode."),
                ));
            }
            for kw in ["http-request", "http-response", "http-after-response"] {
                if p.rules
                    .iter()
                    .any(|r| r.keyword == kw && r.translated_from.is_none())
                {
                    diags.push(Diagnostic::warning(
                        Loc::None,
                        format!("'{kw}' rules ignored for {who} as they require HTTP mode."),
                    ));
                }
            }
            if p.kind != ProxyKind::Frontend && p.directives.iter().any(|d| d.word(0) == "cookie") {
                diags.push(Diagnostic::warning(
                    Loc::None,
                    format!("cookie will be ignored for {who} (needs 'mode http')."),
                ));
            }
        }
        check_reply_sections(cfg, p, diags);
        if p.kind != ProxyKind::Frontend {
            check_tracking(cfg, p, diags);
        }
        if p.kind != ProxyKind::Backend {
            out.listeners += p.binds.iter().map(|b| b.addrs.len()).sum::<usize>();
        }
    }
    // 2.6 checks the error page lines once every proxy was checked.
    for p in cfg.proxies.iter().filter(|p| !p.disabled) {
        check_error_sections(cfg, p, diags);
    }
    // Then, as 2.6 orders them: the check rules of each proxy, and the
    // servers left without a port to check.
    let backends = || {
        cfg.proxies
            .iter()
            .filter(|p| !p.disabled && p.kind != ProxyKind::Frontend)
    };
    for p in backends() {
        check_rule_options(p, diags);
    }
    for p in backends() {
        check_ports(cfg, p, diags);
    }
    out.listeners += cfg.global.stats_sockets.len();
    if !out.diags.iter().any(Diagnostic::is_fatal) {
        out.unresolved = resolve_servers(cfg, opts, &mut out.diags);
    }
    out
}

/// `deny`, `tarpit` and `return` replies naming an `http-errors` section
/// that does not exist (an ALERT) or has no page for their status (a
/// WARNING).
fn check_reply_sections(cfg: &Config, p: &Proxy, diags: &mut Vec<Diagnostic>) {
    for r in &p.rules {
        let action = r.words.first().map(String::as_str);
        if !r.keyword.starts_with("http-") || !matches!(action, Some("deny" | "tarpit" | "return"))
        {
            continue;
        }
        let Some(i) = r.words.iter().position(|w| w == "errorfiles") else {
            continue;
        };
        let name = r.words.get(i + 1).map(String::as_str).unwrap_or("");
        let Some(section) = cfg.http_errors.iter().find(|h| h.name == name) else {
            diags.push(Diagnostic::alert(
                Loc::None,
                format!(
                    "Proxy '{}': unknown http-errors section '{name}' referenced by an http reply .",
                    p.name
                ),
            ));
            continue;
        };
        let mut status = match (r.keyword.as_str(), action) {
            (_, Some("return")) => 200,
            (_, Some("tarpit")) => 500,
            ("http-request", _) => 403,
            _ => 502,
        };
        for (j, w) in r.words.iter().enumerate() {
            if w == "status" || w == "deny_status" {
                status = r
                    .words
                    .get(j + 1)
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(status);
            }
        }
        if !section.errorfiles.iter().any(|(c, _, _)| *c == status) {
            diags.push(Diagnostic::warning(
                Loc::None,
                format!(
                    "Proxy '{}': status '{status}' referenced by an http reply not declared in http-errors section '{name}'.",
                    p.name
                ),
            ));
        }
    }
}

/// `errorfiles <section> [codes]` and `http-error ... errorfiles
/// <section>` lines naming a section that does not exist (an ALERT), or
/// codes it has no page for (a WARNING each, in HAProxy's code order).
fn check_error_sections(cfg: &Config, p: &Proxy, diags: &mut Vec<Diagnostic>) {
    for (words, span) in &p.error_lines {
        let (name, codes): (Option<&String>, Vec<u16>) = match words.first().map(String::as_str) {
            Some("errorfiles") => (
                words.get(1),
                words[2.min(words.len())..]
                    .iter()
                    .filter_map(|w| w.parse().ok())
                    .collect(),
            ),
            Some("http-error") => (
                words
                    .iter()
                    .position(|w| w == "errorfiles")
                    .and_then(|i| words.get(i + 1)),
                words
                    .get(2)
                    .and_then(|w| w.parse().ok())
                    .into_iter()
                    .collect(),
            ),
            _ => (None, Vec::new()),
        };
        let Some(name) = name else { continue };
        let Some(section) = cfg.http_errors.iter().find(|h| h.name == *name) else {
            diags.push(Diagnostic::alert(
                Loc::None,
                format!(
                    "proxy '{}': unknown http-errors section '{name}' (at {}:{}).",
                    p.name, span.file, span.line
                ),
            ));
            continue;
        };
        for code in crate::keywords::proxy::ERROR_CODES {
            if codes.contains(code) && !section.errorfiles.iter().any(|(c, _, _)| c == code) {
                diags.push(Diagnostic::warning(
                    Loc::None,
                    format!(
                        "config: proxy '{}' : status '{code}' not declared in http-errors section '{name}' (at {}:{}).",
                        p.name, span.file, span.line
                    ),
                ));
            }
        }
    }
}

/// The server a `track [<backend>/]<server>` names: (proxy, server index).
pub fn track_target<'a>(
    cfg: &'a Config,
    p: &'a Proxy,
    target: &str,
) -> Result<(&'a Proxy, usize), String> {
    let (be, name) = match target.split_once('/') {
        Some((b, n)) => {
            let be = cfg
                .proxies
                .iter()
                .find(|x| x.name == b && x.kind != ProxyKind::Frontend && !x.disabled)
                .ok_or_else(|| format!("unable to find required proxy '{b}' for tracking."))?;
            (be, n)
        }
        None => (p, target),
    };
    let i = be
        .servers
        .iter()
        .position(|s| s.name == name)
        .ok_or_else(|| format!("unable to find required server '{name}' for tracking."))?;
    Ok((be, i))
}

/// A server's `track` target as written, if any.
pub fn track_of(s: &crate::ast::Server) -> Option<&str> {
    let raw = &s.params.raw;
    raw.iter()
        .rposition(|w| w == "track")
        .and_then(|i| raw.get(i + 1))
        .map(String::as_str)
}

/// `track`: the tracked server exists, is checked (or tracks another one),
/// the tracking one has no checks of its own, and no chain loops. Servers
/// are resolved in order, so a loop is found at its second link.
fn check_tracking(cfg: &Config, p: &Proxy, diags: &mut Vec<Diagnostic>) {
    for s in &p.servers {
        let Some(target) = track_of(s) else { continue };
        let fail = |msg: String| {
            Diagnostic::alert(
                Loc::Bracket(s.span.clone()),
                format!("'server {}/{}' : {msg}", p.name, s.name),
            )
        };
        let (be, i) = match track_target(cfg, p, target) {
            Ok(t) => t,
            Err(msg) => {
                diags.push(fail(msg));
                continue;
            }
        };
        let t = &be.servers[i];
        let agent = t.params.agent_check == Some(true) && t.params.agent_port.unwrap_or(0) > 0;
        if t.params.check != Some(true) && !agent && track_of(t).is_none() {
            diags.push(fail(format!(
                "unable to use {}/{} for tracking as it does not have any check nor agent enabled.",
                be.name, t.name
            )));
            continue;
        }
        // Follow the chain from the target through the links resolved
        // so far (servers declared before this one).
        let mut cur = (be, i);
        let mut seen = 0;
        let looped = loop {
            let (cp, ci) = cur;
            if std::ptr::eq(cp, p) && std::ptr::eq(&cp.servers[ci], s) {
                break true;
            }
            let declared_before = |x: &Proxy, xi: usize| {
                let xpos = cfg.proxies.iter().position(|q| std::ptr::eq(q, x));
                let ppos = cfg.proxies.iter().position(|q| std::ptr::eq(q, p));
                let me = p.servers.iter().position(|q| std::ptr::eq(q, s));
                (xpos, xi) < (ppos, me.unwrap_or(0))
            };
            if !declared_before(cp, ci) {
                break false;
            }
            let Some(next) = track_of(&cp.servers[ci]).and_then(|n| track_target(cfg, cp, n).ok())
            else {
                break false;
            };
            cur = next;
            seen += 1;
            if seen > 10_000 {
                break false;
            }
        };
        if looped {
            // 2.6 names the loop's end with the tracked server's proxy.
            diags.push(fail(format!(
                "unable to track {}/{} as it belongs to a tracking chain looping back to {}/{}.",
                be.name, t.name, be.name, s.name
            )));
        }
    }
}

/// Health check rules without their option (ignored, with a warning).
fn check_rule_options(p: &Proxy, diags: &mut Vec<Diagnostic>) {
    let who = format!("{} '{}'", p.kind.label(), p.name);
    let has_rules = |kw: &str| {
        p.directives
            .iter()
            .any(|d| d.word(0) == kw && !matches!(d.word(1), "disable-on-404" | "send-state"))
    };
    if has_rules("http-check") && !p.option("httpchk") {
        diags.push(Diagnostic::warning(
            Loc::None,
            format!(
                "{who} uses http-check rules without 'option httpchk', so the rules are ignored."
            ),
        ));
    }
    if has_rules("tcp-check") && !p.option("tcp-check") {
        diags.push(Diagnostic::warning(
            Loc::None,
            format!(
                "{who} uses tcp-check rules without 'option tcp-check', so the rules are ignored."
            ),
        ));
    }
}

/// Checked servers with no port to check.
fn check_ports(cfg: &Config, p: &Proxy, diags: &mut Vec<Diagnostic>) {
    let who = format!("{} '{}'", p.kind.label(), p.name);
    // A `tcp-check connect port N` rule (the proxy's, else its defaults')
    // gives the checks a port.
    let defaults = p
        .defaults_from
        .as_ref()
        .and_then(|span| cfg.defaults.iter().find(|d| &d.span == span));
    let connect_port = |s: &Proxy| {
        s.directives.iter().any(|d| {
            matches!(d.word(0), "tcp-check" | "http-check")
                && d.word(1) == "connect"
                && d.rest(2).any(|w| w == "port")
        })
    };
    let rules_port = (p.option("tcp-check") || p.option("httpchk"))
        && (connect_port(p) || defaults.is_some_and(connect_port));
    for s in &p.servers {
        let no_port = matches!(
            &s.addr,
            Address::Inet {
                port: crate::addr::Port::None | crate::addr::Port::Offset(_),
                ..
            }
        );
        if s.params.check == Some(true) && no_port && s.params.port.is_none() && !rules_port {
            diags.push(Diagnostic::alert(
                Loc::None,
                format!(
                    "config: {who}: server '{}' has neither service port nor check port.",
                    s.name
                ),
            ));
        }
    }
}

fn missing_timeouts(p: &Proxy) -> bool {
    let t = &p.timeouts;
    let fe = p.kind != ProxyKind::Backend && t.client.unwrap_or(0) == 0;
    let be = p.kind != ProxyKind::Frontend
        && !p.servers.is_empty()
        && (t.connect.unwrap_or(0) == 0
            || (t.server.unwrap_or(0) == 0
                && (p.effective_mode() == Mode::Http || t.tunnel.unwrap_or(0) == 0)));
    fe || be
}

/// `default_backend` and `use_backend` targets exist and have a compatible mode.
fn check_switching(cfg: &Config, p: &Proxy, diags: &mut Vec<Diagnostic>) {
    let find = |name: &str| {
        cfg.proxies
            .iter()
            .find(|b| b.name == name && b.kind != ProxyKind::Frontend)
    };
    let mut targets: Vec<(&str, &str)> = Vec::new();
    if let Some((name, _)) = &p.default_backend {
        targets.push((name, "default_backend"));
    }
    for ub in &p.use_backends {
        // A name built from a log-format expression is resolved per request.
        if ub.backend.contains('%') {
            if let Err(e) = crate::logformat::parse_logformat(&ub.backend) {
                diags.push(Diagnostic::alert(
                    Loc::ParsingCap(ub.span.clone()),
                    format!(
                        "failed to parse use_backend rule '{}' : {}.",
                        ub.backend,
                        e.trim_end_matches('.')
                    ),
                ));
            }
        } else {
            targets.push((&ub.backend, "use_backend"));
        }
    }
    for (name, what) in targets {
        match find(name) {
            None => diags.push(Diagnostic::alert(
                Loc::None,
                format!(
                    "Proxy '{}': unable to find required {what}: '{name}'.",
                    p.name
                ),
            )),
            Some(be) if p.effective_mode() == Mode::Http && be.effective_mode() == Mode::Tcp => {
                let how = if what == "default_backend" {
                    "as its default backend"
                } else {
                    "in a 'use_backend' rule"
                };
                diags.push(Diagnostic::alert(
                    Loc::None,
                    format!(
                        "http {} '{}' ({}) tries to use incompatible tcp backend '{}' ({}) {how} (see 'mode').",
                        p.kind.label(),
                        p.name,
                        p.span,
                        be.name,
                        be.span
                    ),
                ));
            }
            Some(_) => {}
        }
    }
}

/// Resolves server host names as HAProxy does at start-up (libc resolver);
/// returns whether one failed fatally.
fn resolve_servers(cfg: &Config, opts: CheckOptions, diags: &mut Vec<Diagnostic>) -> bool {
    let mut failed = false;
    for p in cfg.proxies.iter().filter(|p| !p.disabled) {
        for s in &p.servers {
            let Address::Inet {
                host: Host::Name(name),
                ..
            } = &s.addr
            else {
                continue;
            };
            if resolve_host(name).is_some() {
                continue;
            }
            let msg = format!(
                "'server {}/{}' : could not resolve address '{name}'",
                p.name, s.name
            );
            if opts.ignore_unresolved {
                diags.push(Diagnostic::warning(
                    Loc::Bracket(s.span.clone()),
                    format!("{msg}, disabling server."),
                ));
            } else {
                diags.push(Diagnostic::alert(
                    Loc::Bracket(s.span.clone()),
                    format!("{msg}."),
                ));
                failed = true;
            }
        }
    }
    if failed {
        diags.push(Diagnostic::alert(
            Loc::None,
            "Failed to initialize server(s) addr.",
        ));
    }
    failed
}
