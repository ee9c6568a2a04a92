//! Second pass over the AST, after every file was read: names resolved
//! (`use_backend`, `default_backend`), cross-proxy checks, server addresses
//! resolved, listeners counted. Runs only when parsing found no fatal error,
//! as in HAProxy.
use crate::addr::{Address, Host};
use crate::ast::{Config, LogTarget, Mode, Proxy, ProxyKind};
use crate::diag::{Diagnostic, Loc};
use crate::resolve::resolve_host;

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
            // HAProxy names the last line that carried a log-format expression.
            let span = p
                .rules
                .iter()
                .rev()
                .find(|r| r.keyword.starts_with("http-"))
                .map(|r| r.span.clone())
                .or_else(|| p.options.get("httplog").map(|o| o.span.clone()));
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
        let wants_log = p.option("httplog") || p.option("tcplog") || p.log_format.is_some();
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
        if p.kind != ProxyKind::Frontend {
            check_tracking(cfg, p, diags);
        }
        if p.kind != ProxyKind::Backend {
            out.listeners += p.binds.iter().map(|b| b.addrs.len()).sum::<usize>();
        }
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
                    format!("failed to parse use_backend rule '{}' : {e}", ub.backend),
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
