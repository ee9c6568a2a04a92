//! What this build can run. A configuration passes `-c` if HAProxy 2.6
//! would accept it; running it needs every directive it uses to have a
//! runtime. Directives without one are refused with an ALERT naming them
//! (nothing is silently ignored); the few that only affect what is observed
//! (health checks, some log options) get a WARNING instead, so that
//! existing configs start and say what they lack.
use cfg_parser::ast::{Config, Directive, Proxy};
use cfg_parser::diag::{Diagnostic, Loc};

/// Proxy keywords whose runtime exists.
const PROXY_RUNNABLE: &[&str] = &[
    "acl",
    "backlog",
    "balance",
    "bind",
    "default-server",
    "default_backend",
    "description",
    "disabled",
    "enabled",
    "errorfile",
    "cookie",
    "http-reuse",
    "fullconn",
    "id",
    "maxconn",
    "mode",
    "monitor",
    "monitor-uri",
    "retries",
    "retry-on",
    "server",
    "stats",
    "timeout",
    "use_backend",
    // Logging.
    "capture",
    "log",
    "log-format",
    "log-format-sd",
    "log-tag",
    "unique-id-format",
    "unique-id-header",
    // Actions without a runtime are refused when the rules are compiled.
    "tcp-request",
    "tcp-response",
    "http-request",
    "http-response",
    "http-after-response",
    // 1.5 forms translated into runnable ones.
    "clitimeout",
    "contimeout",
    "srvtimeout",
    "redispatch",
    "redisp",
];

/// Options whose runtime exists.
const OPTIONS_RUNNABLE: &[&str] = &[
    "allbackups",
    "h1-case-adjust-bogus-client",
    "h1-case-adjust-bogus-server",
    "forwardfor",
    "http-keep-alive",
    "http-server-close",
    "httpclose",
    "redispatch",
    "dontlog-normal",
    "dontlognull",
    "httplog",
    "log-separate-errors",
    "tcplog",
    // TCP mode: splice is always on unless `nosplice`/`-dS`, so these keep
    // their meaning.
    "splice-auto",
    "splice-request",
    "splice-response",
    "tcpka",
    "clitcpka",
    "srvtcpka",
    "nolinger",
    // What haproxy-rs always does on soft stop (an idle keep-alive
    // connection is closed after its next response, never under a client).
    "idle-close-on-response",
];

/// Keywords that only change what is observed: warned, not refused.
const OBSERVABILITY: &[(&str, &str)] = &[("error-log-format", "the error log format")];
const OBSERVABILITY_OPTIONS: &[&str] = &["log-health-checks", "logasap"];

/// Server parameters with a runtime (`check` and friends are warned about).
const SERVER_RUNNABLE: &[&str] = &[
    "backup",
    "cookie",
    "disabled",
    "enabled",
    "maxconn",
    "minconn",
    "weight",
    "send-proxy",
    "send-proxy-v2",
    "source",
];
const SERVER_CHECK_PARAMS: &[&str] = &[
    "check",
    "inter",
    "fastinter",
    "downinter",
    "rise",
    "fall",
    "port",
    "addr",
];

/// Global keywords with a runtime or without runtime effect here.
const GLOBAL_RUNNABLE: &[&str] = &[
    "chroot",
    "h1-case-adjust",
    "daemon",
    "description",
    "group",
    "log",
    "log-tag",
    "log-send-hostname",
    "maxconn",
    "nbthread",
    "node",
    "pidfile",
    "quiet",
    "stats",
    "tune.bufsize",
    "tune.maxrewrite",
    "uid",
    "gid",
    "user",
    "zero-warning",
    "noreuseport",
    "nbproc",
    "debug",
    "master-worker",
    "hard-stop-after",
    "grace",
    "ulimit-n",
    "nosplice",
    "cpu-map",
    "maxpipes",
    "tune.pipesize",
    "ssl-default-bind-ciphers",
    "ssl-default-bind-ciphersuites",
    "ssl-default-bind-options",
    "ssl-default-server-ciphers",
    "ssl-default-server-ciphersuites",
    "ssl-default-server-options",
    "ssl-dh-param-file",
    "ca-base",
    "crt-base",
    "setenv",
    "presetenv",
    "unsetenv",
    "resetenv",
];

/// The ALERT for something this build cannot run yet.
pub fn not_built(span: &cfg_parser::source::Span, what: &str) -> Diagnostic {
    Diagnostic::alert(
        Loc::Parsing(span.clone()),
        format!("{what} is not built yet in haproxy-rs: this configuration passes '-c' but cannot run yet."),
    )
}

/// The diagnostics for running `cfg` with this build.
pub fn check_runnable(cfg: &Config) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let not_yet = |d: &Directive, what: String| not_built(&d.span, &what);
    for d in &cfg.global.directives {
        if !GLOBAL_RUNNABLE.contains(&d.word(0)) {
            out.push(not_yet(d, format!("'{}'", d.word(0))));
        }
    }
    // Settings inherited from defaults count as much as a proxy's own.
    for d in &cfg.defaults {
        check_proxy(d, &mut out, &not_yet);
    }
    for p in cfg.proxies.iter().filter(|p| !p.disabled) {
        check_proxy(p, &mut out, &not_yet);
    }
    for o in &cfg.other_sections {
        out.push(Diagnostic::alert(
            Loc::Parsing(o.span.clone()),
            format!("'{}' sections are not built yet in haproxy-rs.", o.kind),
        ));
    }
    out
}

fn check_proxy(
    p: &Proxy,
    out: &mut Vec<Diagnostic>,
    not_yet: &dyn Fn(&Directive, String) -> Diagnostic,
) {
    let mut warned_checks = false;
    let mut warned_logs = false;
    for d in &p.directives {
        let kw = d.word(0);
        if let Some((_, what)) = OBSERVABILITY.iter().find(|(k, _)| *k == kw) {
            if !warned_logs {
                warned_logs = true;
                out.push(Diagnostic::warning(
                    Loc::Parsing(d.span.clone()),
                    format!("{what} is not built yet in haproxy-rs; '{kw}' has no effect."),
                ));
            }
            continue;
        }
        match kw {
            "tcp-request" | "tcp-response" if d.word(2) == "capture" => {
                if !warned_logs {
                    warned_logs = true;
                    out.push(Diagnostic::warning(
                        Loc::Parsing(d.span.clone()),
                        format!("captures are not built yet in haproxy-rs; '{kw} {} capture' has no effect.", d.word(1)),
                    ));
                }
            }
            "option" | "no" => {
                let name = if kw == "no" { d.word(2) } else { d.word(1) };
                if OBSERVABILITY_OPTIONS.contains(&name) {
                    if !warned_logs {
                        warned_logs = true;
                        out.push(Diagnostic::warning(
                            Loc::Parsing(d.span.clone()),
                            format!(
                                "'option {name}' is not built yet in haproxy-rs; it has no effect."
                            ),
                        ));
                    }
                } else if !OPTIONS_RUNNABLE.contains(&name) && kw != "no" {
                    out.push(not_yet(d, format!("'option {name}'")));
                }
            }
            // Hash types and functions this build implements run.
            "hash-type"
                if crate::balance::hash::HashType::from_words(Some(
                    &d.rest(1).map(str::to_string).collect::<Vec<_>>(),
                ))
                .is_ok() => {}
            "hash-type" => out.push(not_yet(
                d,
                format!("'hash-type {}'", d.rest(1).collect::<Vec<_>>().join(" ")),
            )),
            "bind" => {
                if let Some(param) = d.rest(2).find(|w| {
                    !matches!(
                        *w,
                        "backlog"
                            | "v6only"
                            | "v4v6"
                            | "accept-proxy"
                            | "transparent"
                            | "defer-accept"
                    ) && !w.bytes().all(|b| b.is_ascii_digit())
                }) {
                    out.push(not_yet(d, format!("'bind' parameter '{param}'")));
                }
            }
            "server" | "default-server" => {
                let start = if kw == "server" { 3 } else { 1 };
                let mut words = d.rest(start).peekable();
                while let Some(w) = words.next() {
                    let takes_value = !matches!(
                        w,
                        "backup"
                            | "disabled"
                            | "enabled"
                            | "check"
                            | "no-check"
                            | "no-backup"
                            | "send-proxy"
                            | "send-proxy-v2"
                    );
                    if SERVER_CHECK_PARAMS.contains(&w) || w == "no-check" {
                        if !warned_checks {
                            warned_checks = true;
                            out.push(Diagnostic::warning(
                                Loc::Parsing(d.span.clone()),
                                "health checks are not built yet in haproxy-rs: servers are always considered UP.",
                            ));
                        }
                    } else if !SERVER_RUNNABLE.contains(&w) && w != "no-backup" {
                        out.push(not_yet(d, format!("server parameter '{w}'")));
                        break;
                    }
                    if takes_value {
                        words.next();
                    }
                }
            }
            _ if PROXY_RUNNABLE.contains(&kw) => {}
            _ => out.push(not_yet(d, format!("'{kw}'"))),
        }
    }
}
