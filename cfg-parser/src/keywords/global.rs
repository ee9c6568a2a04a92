//! The `global` section's keywords.
use super::{did_you_mean, log::parse_log, support_diag, Cx, Keyword, Support};
use crate::addr::{parse_address, AddrRules};
use crate::ast::{Directive, Global, StatsSocket};
use crate::diag::{Diagnostic, Loc};
use crate::values::{atol, parse_time_ms, parse_u32};

type Kw = Keyword<Global>;
type R = Result<(), Diagnostic>;

const ALL: super::Caps = super::Caps::ALL;
const TLS: Support = Support::NoEffect("TLS");
const LUA: Support = Support::Unsupported("Lua");

/// Applies one line of a `global` section.
pub fn apply(g: &mut Global, d: &Directive, diags: &mut Vec<Diagnostic>) {
    let name = d.word(0);
    let Some(kw) = super::lookup(GLOBAL_KEYWORDS, name)
        .or_else(|| {
            name.starts_with("tune.")
                .then(|| super::lookup(GLOBAL_KEYWORDS, "tune.*"))
                .flatten()
        })
        .filter(|k| k.name != "tune.*" || TUNE_KEYWORDS.contains(&name))
    else {
        let hint = did_you_mean(
            name,
            GLOBAL_KEYWORDS
                .iter()
                .map(|k| k.name)
                .filter(|n| *n != "tune.*")
                .chain(TUNE_KEYWORDS.iter().copied())
                .chain(super::proxy::SECTION_NAMES.iter().copied()),
        );
        diags.push(Diagnostic::alert(
            Loc::Parsing(d.span.clone()),
            format!("unknown keyword '{name}' in 'global' section{hint}"),
        ));
        return;
    };
    let mut cx = Cx { d, diags };
    if let Err(e) = (kw.apply)(g, &mut cx) {
        diags.push(e);
        return;
    }
    if let Some(diag) = support_diag(kw.support, name, d) {
        diags.push(diag);
    }
    g.directives.push(d.clone());
}

/// Keywords HAProxy accepts only once: the repeat is an ALERT that does not
/// fail the configuration, and the first value stays.
fn once(g: &mut Global, cx: &mut Cx, key: &'static str, label: &str) -> bool {
    if g.seen.contains_key(key) {
        cx.push(Diagnostic::alert_nonfatal(
            Loc::Parsing(cx.d.span.clone()),
            format!("{label} already specified. Continuing."),
        ));
        return false;
    }
    g.seen.insert(key, cx.d.span.clone());
    true
}

fn int_arg(cx: &Cx) -> Result<u32, Diagnostic> {
    let kw = cx.word(0);
    if cx.nwords() < 2 {
        return Err(cx.alert(format!("'{kw}' expects an integer argument.")));
    }
    cx.max_args(1)?;
    Ok(atol(cx.word(1)).clamp(0, u32::MAX as i64) as u32)
}

fn maxconn(g: &mut Global, cx: &mut Cx) -> R {
    let v = int_arg(cx)?;
    if once(g, cx, "maxconn", "'maxconn'") {
        g.maxconn = Some(v);
    }
    Ok(())
}

fn nbthread(g: &mut Global, cx: &mut Cx) -> R {
    cx.max_args(1)?;
    match parse_u32(cx.word(1)) {
        Some(n) if (1..=64).contains(&n) => {
            g.nbthread = Some(n);
            Ok(())
        }
        Some(n) => Err(cx.alert(format!(
            "'nbthread' value must be between 1 and 64 (was {n})."
        ))),
        None => Err(cx.alert(format!(
            "'nbthread' passed a missing or unparsable integer value in '{}'",
            cx.word(1)
        ))),
    }
}

fn flag(_: &mut Global, cx: &mut Cx) -> R {
    cx.max_args(0)
}

fn daemon(g: &mut Global, cx: &mut Cx) -> R {
    cx.max_args(0)?;
    g.daemon = true;
    Ok(())
}

fn master_worker(g: &mut Global, cx: &mut Cx) -> R {
    cx.max_args(1)?;
    // HAProxy 2.6 ignores any other word here.
    g.master_worker = true;
    Ok(())
}

fn pidfile(g: &mut Global, cx: &mut Cx) -> R {
    if cx.nwords() < 2 {
        return Err(cx.alert("'pidfile' expects a file name as an argument."));
    }
    cx.max_args(1)?;
    if once(g, cx, "pidfile", "'pidfile'") {
        g.pidfile = Some(cx.word(1).into());
    }
    Ok(())
}

fn chroot(g: &mut Global, cx: &mut Cx) -> R {
    if cx.nwords() < 2 {
        return Err(cx.alert("'chroot' expects a directory as an argument."));
    }
    cx.max_args(1)?;
    if once(g, cx, "chroot", "'chroot'") {
        g.chroot = Some(cx.word(1).into());
    }
    Ok(())
}

/// Looks a user or group name up in the system databases, as HAProxy does
/// while parsing (so a config naming a missing user fails `-c`).
fn lookup_id(name: &str, group: bool) -> bool {
    let Ok(c) = std::ffi::CString::new(name) else {
        return false;
    };
    // SAFETY: getpwnam/getgrnam read the NUL-terminated string we own and
    // return a pointer into static storage, only tested for NULL here.
    unsafe {
        if group {
            !libc::getgrnam(c.as_ptr()).is_null()
        } else {
            !libc::getpwnam(c.as_ptr()).is_null()
        }
    }
}

fn user(g: &mut Global, cx: &mut Cx) -> R {
    cx.max_args(1)?;
    if !lookup_id(cx.word(1), false) {
        return Err(cx.alert(format!(
            "cannot find user id for '{}' (0:Success)",
            cx.word(1)
        )));
    }
    if once(g, cx, "uid", "user/uid") {
        g.user = Some(cx.word(1).into());
    }
    Ok(())
}

fn group(g: &mut Global, cx: &mut Cx) -> R {
    cx.max_args(1)?;
    if !lookup_id(cx.word(1), true) {
        return Err(cx.alert(format!(
            "cannot find group id for '{}' (0:Success)",
            cx.word(1)
        )));
    }
    if once(g, cx, "gid", "group/gid") {
        g.group = Some(cx.word(1).into());
    }
    Ok(())
}

fn uid(g: &mut Global, cx: &mut Cx) -> R {
    let v = int_arg(cx)?;
    if once(g, cx, "uid", "user/uid") {
        g.uid = Some(v);
    }
    Ok(())
}

fn gid(g: &mut Global, cx: &mut Cx) -> R {
    let v = int_arg(cx)?;
    if once(g, cx, "gid", "group/gid") {
        g.gid = Some(v);
    }
    Ok(())
}

fn log(g: &mut Global, cx: &mut Cx) -> R {
    let t = parse_log(cx, true)?;
    g.logs.push(t);
    Ok(())
}

fn log_tag(g: &mut Global, cx: &mut Cx) -> R {
    if cx.nwords() < 2 {
        return Err(cx.alert("'log-tag' expects a tag for use in syslog."));
    }
    g.log_tag = Some(cx.word(1).into());
    Ok(())
}

fn hard_stop_after(g: &mut Global, cx: &mut Cx) -> R {
    if cx.nwords() < 2 {
        return Err(cx.alert("'hard-stop-after' expects <time> as argument.\n"));
    }
    match parse_time_ms(cx.word(1)) {
        Ok(ms) => {
            g.hard_stop_after = Some(ms);
            Ok(())
        }
        Err(crate::values::TimeError::BadChar(c)) => Err(cx.alert(format!(
            "unexpected character '{c}' in argument to <hard-stop-after>.\n"
        ))),
        Err(_) => Err(cx.alert("timer overflow in argument to <hard-stop-after>.\n")),
    }
}

/// `stats socket|timeout|maxconn|bind-process ...`
fn stats(g: &mut Global, cx: &mut Cx) -> R {
    match cx.word(1) {
        "socket" => {
            if cx.nwords() < 3 {
                return Err(cx.alert("'stats socket' in global section expects an address or a path to a UNIX socket"));
            }
            let rules = AddrRules {
                port_required: true,
                ..AddrRules::default()
            };
            let addr = parse_address(cx.word(2), rules)
                .map_err(|e| cx.alert(format!("'stats socket' : {e}")))?;
            g.stats_sockets.push(StatsSocket {
                addr,
                params: cx.d.rest(3).map(String::from).collect(),
                span: cx.d.span.clone(),
            });
            Ok(())
        }
        "timeout" => match parse_time_ms(cx.word(2)) {
            Ok(ms) => {
                g.stats_timeout = Some(ms);
                Ok(())
            }
            Err(crate::values::TimeError::BadChar(c)) => {
                Err(cx.alert(format!("'stats timeout' : unexpected character '{c}'")))
            }
            Err(_) => Err(cx.alert("'stats timeout' expects a positive value")),
        },
        "maxconn" => {
            g.stats_maxconn = Some(atol(cx.word(2)).max(0) as u32);
            Ok(())
        }
        "bind-process" => Ok(()),
        w => Err(cx.alert(format!(
            "'stats' only supports 'socket', 'maxconn', 'bind-process' and 'timeout' (got '{w}')"
        ))),
    }
}

fn nbproc(_: &mut Global, cx: &mut Cx) -> R {
    // HAProxy 2.5+ refuses `nbproc`; configs from 1.5 still carry it. One
    // process with threads replaces it, so we accept it with a warning.
    cx.warn(format!(
        "'nbproc {}' is a HAProxy 1.x setting: this build runs one process with threads (see 'nbthread'); ignored.",
        cx.word(1)
    ));
    Ok(())
}

fn debug(_: &mut Global, cx: &mut Cx) -> R {
    cx.max_args(0)?;
    // HAProxy 1.5's `debug` = foreground with traces, i.e. the `-d` flag.
    cx.warn("'debug' is a HAProxy 1.x setting: use the '-d' command line flag instead; ignored.");
    Ok(())
}

fn one_word(_: &mut Global, cx: &mut Cx) -> R {
    if cx.nwords() < 2 {
        return Err(cx.alert(format!("'{}' expects an argument.", cx.word(0))));
    }
    cx.max_args(1)
}

fn any(_: &mut Global, _: &mut Cx) -> R {
    Ok(())
}

fn setenv(_: &mut Global, cx: &mut Cx) -> R {
    let kw = cx.word(0);
    let want = if kw == "unsetenv" || kw == "resetenv" {
        1
    } else {
        3
    };
    if cx.nwords() < want {
        return Err(Diagnostic::alert(
            Loc::ParsingTight(cx.d.span.clone()),
            format!("'{kw}' expects a name and a value."),
        ));
    }
    // These change the environment seen by the lines that follow, as in
    // HAProxy, so they run while the configuration is read.
    match kw {
        "setenv" => std::env::set_var(cx.word(1), cx.word(2)),
        "presetenv" if std::env::var_os(cx.word(1)).is_none() => {
            std::env::set_var(cx.word(1), cx.word(2))
        }
        "unsetenv" => {
            for n in cx.d.rest(1) {
                std::env::remove_var(n);
            }
        }
        _ => {}
    }
    Ok(())
}

fn tune(g: &mut Global, cx: &mut Cx) -> R {
    let kw = cx.word(0);
    if kw == "tune.chksize" {
        return Err(cx.alert(
            "option 'tune.chksize' is not supported any more (tune.bufsize is used instead).",
        ));
    }
    if cx.nwords() < 2 {
        return Err(cx.alert(format!("'{kw}' expects an integer argument.")));
    }
    let v = cx.word(1);
    match kw {
        "tune.bufsize" if crate::values::atol(v) <= 0 => {
            return Err(cx.alert(format!("'{kw}' expects a positive integer argument.")))
        }
        "tune.http.maxhdr" if !(1..=32767).contains(&crate::values::atol(v)) => {
            return Err(cx.alert(format!(
                "'{kw}' expects a numeric value between 1 and 32767"
            )))
        }
        _ => {}
    }
    g.tune.insert(kw.into(), (v.into(), cx.d.span.clone()));
    Ok(())
}

fn maxpipes(g: &mut Global, cx: &mut Cx) -> R {
    g.maxpipes = Some(int_arg(cx)?);
    Ok(())
}

fn nosplice(g: &mut Global, cx: &mut Cx) -> R {
    cx.max_args(0)?;
    g.nosplice = true;
    Ok(())
}

fn zero_warning(g: &mut Global, cx: &mut Cx) -> R {
    cx.max_args(0)?;
    g.zero_warning = true;
    Ok(())
}

fn node(_: &mut Global, cx: &mut Cx) -> R {
    let v = cx.word(1);
    if v.is_empty()
        || !v
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
    {
        return Err(Diagnostic::alert(
            Loc::ParsingTight(cx.d.span.clone()),
            "'node' requires valid node name - non-empty string with digits(0-9), letters(A-Z, a-z), dot(.), hyphen(-) or underscode(_).",
        ));
    }
    Ok(())
}

/// `tune.*` names (one row in the table stands for all of them).
pub const TUNE_KEYWORDS: &[&str] = &[
    "tune.buffers.limit",
    "tune.chksize",
    "tune.buffers.reserve",
    "tune.bufsize",
    "tune.comp.maxlevel",
    "tune.fail-alloc",
    "tune.fd.edge-triggered",
    "tune.h2.header-table-size",
    "tune.h2.initial-window-size",
    "tune.h2.max-concurrent-streams",
    "tune.h2.max-frame-size",
    "tune.http.cookielen",
    "tune.http.logurilen",
    "tune.http.maxhdr",
    "tune.idle-pool.shared",
    "tune.idletimer",
    "tune.listener.multi-queue",
    "tune.lua.forced-yield",
    "tune.lua.maxmem",
    "tune.lua.service-timeout",
    "tune.lua.session-timeout",
    "tune.lua.task-timeout",
    "tune.maxaccept",
    "tune.maxpollevents",
    "tune.maxrewrite",
    "tune.memory.hot-size",
    "tune.pattern.cache-size",
    "tune.peers.max-updates-at-once",
    "tune.pipesize",
    "tune.pool-high-fd-ratio",
    "tune.pool-low-fd-ratio",
    "tune.rcvbuf.client",
    "tune.rcvbuf.server",
    "tune.recv_enough",
    "tune.runqueue-depth",
    "tune.sched.low-latency",
    "tune.sndbuf.client",
    "tune.sndbuf.server",
    "tune.ssl.cachesize",
    "tune.ssl.capture-buffer-size",
    "tune.ssl.capture-cipherlist-size",
    "tune.ssl.default-dh-param",
    "tune.ssl.force-private-cache",
    "tune.ssl.hard-maxrecord",
    "tune.ssl.keylog",
    "tune.ssl.lifetime",
    "tune.ssl.maxrecord",
    "tune.ssl.ssl-ctx-cache-size",
    "tune.ssl.ocsp-update.maxdelay",
    "tune.ssl.ocsp-update.mindelay",
    "tune.stick-counters",
    "tune.vars.global-max-size",
    "tune.vars.check-max-size",
    "tune.vars.proc-max-size",
    "tune.vars.reqres-max-size",
    "tune.vars.sess-max-size",
    "tune.vars.txn-max-size",
    "tune.zlib.memlevel",
    "tune.zlib.windowsize",
    "tune.quic.frontend.conn-tx-buffers.limit",
    "tune.quic.frontend.max-idle-timeout",
    "tune.quic.frontend.max-streams-bidi",
    "tune.quic.retry-threshold",
    "tune.quic.socket-owner",
    "tune.quic.max-frame-loss",
    "tune.quic.conn-buf-limit",
];

/// The `global` keyword table, in alphabetical order.
pub static GLOBAL_KEYWORDS: &[Kw] = &[
    Kw::new("51degrees-data-file", ALL, any).support(Support::Unsupported("51Degrees")),
    Kw::new("busy-polling", ALL, flag),
    Kw::new("ca-base", ALL, one_word).support(TLS),
    Kw::new("cluster-secret", ALL, one_word),
    Kw::new("chroot", ALL, chroot),
    Kw::new("close-spread-time", ALL, one_word),
    Kw::new("cpu-map", ALL, any),
    Kw::new("crt-base", ALL, one_word).support(TLS),
    Kw::new("daemon", ALL, daemon),
    Kw::new("debug", ALL, debug),
    Kw::new("default-path", ALL, any),
    Kw::new("description", ALL, any),
    Kw::new("deviceatlas-json-file", ALL, any).support(Support::Unsupported("DeviceAtlas")),
    Kw::new("expose-experimental-directives", ALL, flag),
    Kw::new("external-check", ALL, any).support(Support::Unsupported("external checks")),
    Kw::new("fd-hard-limit", ALL, one_word),
    Kw::new("gid", ALL, gid),
    Kw::new("grace", ALL, one_word),
    Kw::new("group", ALL, group),
    Kw::new("h1-accept-payload-with-any-method", ALL, flag),
    Kw::new("h1-case-adjust", ALL, any),
    Kw::new("h1-case-adjust-file", ALL, one_word),
    Kw::new("h2-workaround-bogus-websocket-clients", ALL, flag)
        .support(Support::NoEffect("HTTP/2")),
    Kw::new("hard-stop-after", ALL, hard_stop_after),
    Kw::new("httpclient.resolvers.id", ALL, one_word).support(Support::NoEffect("DNS resolvers")),
    Kw::new("httpclient.resolvers.prefer", ALL, one_word)
        .support(Support::NoEffect("DNS resolvers")),
    Kw::new("httpclient.ssl.ca-file", ALL, one_word).support(TLS),
    Kw::new("httpclient.ssl.verify", ALL, one_word).support(TLS),
    Kw::new("insecure-fork-wanted", ALL, flag),
    Kw::new("insecure-setuid-wanted", ALL, flag),
    Kw::new("issuers-chain-path", ALL, one_word).support(TLS),
    Kw::new("localpeer", ALL, one_word),
    Kw::new("log", ALL, log),
    Kw::new("log-send-hostname", ALL, any),
    Kw::new("log-tag", ALL, log_tag),
    Kw::new("lua-load", ALL, any).support(LUA),
    Kw::new("lua-load-per-thread", ALL, any).support(LUA),
    Kw::new("lua-prepend-path", ALL, any).support(LUA),
    Kw::new("master-worker", ALL, master_worker),
    Kw::new("max-spread-checks", ALL, one_word),
    Kw::new("maxcompcpuusage", ALL, one_word),
    Kw::new("maxcomprate", ALL, one_word),
    Kw::new("maxconn", ALL, maxconn),
    Kw::new("maxconnrate", ALL, one_word),
    Kw::new("maxpipes", ALL, maxpipes),
    Kw::new("maxsessrate", ALL, one_word),
    Kw::new("maxsslconn", ALL, one_word).support(TLS),
    Kw::new("maxsslrate", ALL, one_word).support(TLS),
    Kw::new("maxzlibmem", ALL, one_word),
    Kw::new("mworker-max-reloads", ALL, one_word),
    Kw::new("nbproc", ALL, nbproc),
    Kw::new("nbthread", ALL, nbthread),
    Kw::new("no-memory-trimming", ALL, flag),
    Kw::new("node", ALL, node),
    Kw::new("noepoll", ALL, flag),
    Kw::new("noevports", ALL, flag),
    Kw::new("nogetaddrinfo", ALL, flag),
    Kw::new("nokqueue", ALL, flag),
    Kw::new("nopoll", ALL, flag),
    Kw::new("noreuseport", ALL, flag),
    Kw::new("nosplice", ALL, nosplice),
    Kw::new("numa-cpu-mapping", ALL, flag),
    Kw::new("pidfile", ALL, pidfile),
    Kw::new("pp2-never-send-local", ALL, flag),
    Kw::new("presetenv", ALL, setenv),
    Kw::new("profiling.tasks", ALL, one_word),
    Kw::new("quiet", ALL, flag),
    Kw::new("resetenv", ALL, setenv),
    Kw::new("server-state-base", ALL, one_word),
    Kw::new("server-state-file", ALL, one_word),
    Kw::new("set-dumpable", ALL, flag),
    Kw::new("set-var", ALL, any),
    Kw::new("set-var-fmt", ALL, any),
    Kw::new("setenv", ALL, setenv),
    Kw::new("spread-checks", ALL, one_word),
    Kw::new("ssl-default-bind-ciphers", ALL, one_word).support(TLS),
    Kw::new("ssl-default-bind-ciphersuites", ALL, one_word).support(TLS),
    Kw::new("ssl-default-bind-curves", ALL, one_word).support(TLS),
    Kw::new("ssl-default-bind-options", ALL, any).support(TLS),
    Kw::new("ssl-default-server-ciphers", ALL, one_word).support(TLS),
    Kw::new("ssl-default-server-ciphersuites", ALL, one_word).support(TLS),
    Kw::new("ssl-default-server-options", ALL, any).support(TLS),
    Kw::new("ssl-dh-param-file", ALL, one_word).support(TLS),
    Kw::new("ssl-engine", ALL, any).support(TLS),
    Kw::new("ssl-load-extra-del-ext", ALL, flag).support(TLS),
    Kw::new("ssl-load-extra-files", ALL, any).support(TLS),
    Kw::new("ssl-mode-async", ALL, flag).support(TLS),
    Kw::new("ssl-propquery", ALL, one_word).support(TLS),
    Kw::new("ssl-provider", ALL, one_word).support(TLS),
    Kw::new("ssl-provider-path", ALL, one_word).support(TLS),
    Kw::new("ssl-server-verify", ALL, one_word).support(TLS),
    Kw::new("ssl-skip-self-issued-ca", ALL, flag).support(TLS),
    Kw::new("stats", ALL, stats),
    Kw::new("strict-limits", ALL, flag),
    Kw::new("thread-group", ALL, any),
    Kw::new("thread-groups", ALL, one_word),
    Kw::new("tune.*", ALL, tune),
    Kw::new("uid", ALL, uid),
    Kw::new("ulimit-n", ALL, one_word),
    Kw::new("unix-bind", ALL, any),
    Kw::new("unsetenv", ALL, setenv),
    Kw::new("user", ALL, user),
    Kw::new("wurfl-data-file", ALL, any).support(Support::Unsupported("WURFL")),
    Kw::new("zero-warning", ALL, zero_warning),
];
