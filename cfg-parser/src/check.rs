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
        if p.kind != ProxyKind::Backend {
            out.listeners += p.binds.iter().map(|b| b.addrs.len()).sum::<usize>();
        }
    }
    out.listeners += cfg.global.stats_sockets.len();
    if !out.diags.iter().any(Diagnostic::is_fatal) {
        out.unresolved = resolve_servers(cfg, opts, &mut out.diags);
    }
    out
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
