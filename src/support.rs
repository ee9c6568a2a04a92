//! What this build can run. A configuration passes `-c` if HAProxy 2.6
//! would accept it; running it needs every directive it uses to have a
//! runtime. Directives without one are refused with an ALERT naming them
//! (nothing is silently ignored); the few that only affect what is observed
//! (some log options) get a WARNING instead, so that existing configs
//! start and say what they lack.
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
    // Health check rules (what cannot run is refused when compiled).
    "http-check",
    "tcp-check",
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
    "declare",
    "log",
    "log-format",
    "log-format-sd",
    "error-log-format",
    "log-tag",
    "unique-id-format",
    "unique-id-header",
    // Actions without a runtime are refused when the rules are compiled.
    "tcp-request",
    "tcp-response",
    "http-request",
    "http-response",
    "http-after-response",
    "redirect",
    "errorfiles",
    "errorloc",
    "errorloc302",
    "errorloc303",
    "http-error",
    // 1.5 regex rules, run with their 1.5 meaning (`http/legacy.rs`).
    "block",
    "monitor-net",
    "reqadd",
    "reqallow",
    "reqdel",
    "reqdeny",
    "reqiallow",
    "reqidel",
    "reqideny",
    "reqipass",
    "reqirep",
    "reqisetbe",
    "reqitarpit",
    "reqpass",
    "reqrep",
    "reqsetbe",
    "reqtarpit",
    "rspadd",
    "rspdel",
    "rspdeny",
    "rspidel",
    "rspideny",
    "rspirep",
    "rsprep",
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
    "originalto",
    "http-pretend-keepalive",
    "http-buffer-request",
    "http-keep-alive",
    "http-server-close",
    "httpclose",
    "redispatch",
    "dontlog-normal",
    "dontlognull",
    "logasap",
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
    // Health check kinds, and their messages.
    "log-health-checks",
    "httpchk",
    "tcp-check",
    "mysql-check",
    "pgsql-check",
    "redis-check",
    "smtpchk",
    "ssl-hello-chk",
    "ldap-check",
];

/// Keywords that only change what is observed: warned, not refused.
const OBSERVABILITY: &[(&str, &str)] = &[];
const OBSERVABILITY_OPTIONS: &[&str] = &[];

/// Server parameters with a runtime.
const SERVER_RUNNABLE: &[&str] = &[
    "backup",
    "no-backup",
    "cookie",
    "disabled",
    "enabled",
    "maxconn",
    "minconn",
    "weight",
    "send-proxy",
    "no-send-proxy",
    "send-proxy-v2",
    "no-send-proxy-v2",
    "source",
    // Health checks (src/health/).
    "check",
    "no-check",
    "inter",
    "fastinter",
    "downinter",
    "rise",
    "fall",
    "port",
    "addr",
    "check-send-proxy",
    "no-check-send-proxy",
    "slowstart",
    "agent-check",
    "no-agent-check",
    "agent-port",
    "agent-inter",
    "agent-send",
    "agent-addr",
    "observe",
    "error-limit",
    "on-error",
    "on-marked-down",
    "on-marked-up",
    "track",
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
    "spread-checks",
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
                use cfg_parser::keywords::server::{Arity, SERVER_PARAMS};
                let start = if kw == "server" { 3 } else { 1 };
                let mut words = d.rest(start).peekable();
                while let Some(w) = words.next() {
                    if !SERVER_RUNNABLE.contains(&w) {
                        out.push(not_yet(d, format!("server parameter '{w}'")));
                        break;
                    }
                    let arity = SERVER_PARAMS
                        .iter()
                        .find(|p| p.name == w)
                        .map_or(Arity::Flag, |p| p.arity);
                    // `source`'s `usesrc`/`interface` come next as words of
                    // their own, and are refused.
                    if arity != Arity::Flag {
                        words.next();
                    }
                }
            }
            _ if PROXY_RUNNABLE.contains(&kw) => {}
            _ => out.push(not_yet(d, format!("'{kw}'"))),
        }
    }
}
