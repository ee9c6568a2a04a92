//! The `global` section's keywords.
use super::{did_you_mean, log::parse_log, support_diag, Cx, Keyword, Support};
use crate::addr::{parse_address, AddrRules};
use crate::ast::{Directive, Global, StatsSocket};
use crate::diag::{Diagnostic, Loc};
use crate::suggest::GLOBAL_CANDIDATES;
use crate::values::{atol, parse_time_ms, parse_u32, TimeError};

type Kw = Keyword<Global>;
type R = Result<(), Diagnostic>;

const ALL: super::Caps = super::Caps::ALL;
const TLS: Support = Support::NoEffect("TLS");
const LUA: Support = Support::Unsupported("Lua");

/// Applies one line of a `global` section.
pub fn apply(g: &mut Global, d: &Directive, diags: &mut Vec<Diagnostic>) {
    apply_kwm(g, d, false, diags)
}

/// Applies one line of the global section; `modified`: its first word is a
/// `no` prefix the builder kept for a keyword that takes it (`no log`,
/// `no busy-polling`, ...), and the line is stored with it.
pub fn apply_kwm(g: &mut Global, d: &Directive, modified: bool, diags: &mut Vec<Diagnostic>) {
    if modified {
        let bare = Directive {
            words: d.words[1..].to_vec(),
            span: d.span.clone(),
        };
        let cx = Cx { d: &bare, diags };
        let res = if bare.word(0) == "log" {
            if bare.len() > 1 {
                Err(cx.alert("log : 'no log' does not expect arguments"))
            } else {
                g.logs.clear();
                Ok(())
            }
        } else {
            cx.max_args(0)
        };
        match res {
            Ok(()) => g.directives.push(d.clone()),
            Err(e) => diags.push(e),
        }
        return;
    }
    let name = d.word(0);
    let Some(kw) = super::lookup(GLOBAL_KEYWORDS, name)
        .or_else(|| {
            name.starts_with("tune.")
                .then(|| super::lookup(GLOBAL_KEYWORDS, "tune.*"))
                .flatten()
        })
        .filter(|k| k.name != "tune.*" || TUNE_KEYWORDS.contains(&name))
    else {
        // 2.6's own list, not our table (see `crate::suggest`).
        let hint = did_you_mean(name, GLOBAL_CANDIDATES.iter().copied());
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

/// The integer settings HAProxy takes once: it checks the extra words, then
/// the repeat (a value of 0 counts as unset, since it tests the value), then
/// the missing word. `atol` reads the number, so `10k` is 10.
fn once_int(g: &mut Global, cx: &mut Cx, key: &'static str) -> Result<Option<u32>, Diagnostic> {
    cx.max_args(1)?;
    if g.seen.contains_key(key) {
        cx.push(Diagnostic::alert_nonfatal(
            Loc::Parsing(cx.d.span.clone()),
            format!("'{key}' already specified. Continuing."),
        ));
        return Ok(None);
    }
    if cx.word(1).is_empty() {
        return Err(cx.alert(format!("'{key}' expects an integer argument.")));
    }
    let v = atol(cx.word(1));
    if v != 0 {
        g.seen.insert(key, cx.d.span.clone());
    }
    Ok(Some(v.clamp(0, u32::MAX as i64) as u32))
}

/// `maxconnrate`, `maxsessrate`, `ulimit-n`, `fd-hard-limit`, ...: kept in
/// `g.directives` only.
fn once_int_setting(g: &mut Global, cx: &mut Cx) -> R {
    // `g.seen` wants a 'static key: the table's own name for the keyword.
    let key = GLOBAL_KEYWORDS
        .iter()
        .map(|k| k.name)
        .find(|n| *n == cx.word(0))
        .unwrap_or("maxconn");
    once_int(g, cx, key).map(|_| ())
}

/// An integer setting HAProxy may set again; `expects` ends the message
/// for a missing value.
fn int_with(cx: &Cx, expects: &str) -> Result<i64, Diagnostic> {
    cx.max_args(1)?;
    if cx.word(1).is_empty() {
        return Err(cx.alert(format!("'{}' expects {expects}", cx.word(0))));
    }
    Ok(atol(cx.word(1)))
}

fn maxcomprate(_: &mut Global, cx: &mut Cx) -> R {
    int_with(cx, "an integer argument in kb/s.").map(|_| ())
}

fn maxzlibmem(_: &mut Global, cx: &mut Cx) -> R {
    int_with(cx, "an integer argument.").map(|_| ())
}

fn maxcompcpuusage(_: &mut Global, cx: &mut Cx) -> R {
    const EXPECTS: &str = "an integer argument between 0 and 100.";
    // 2.6 keeps `100 - atoi(v)` in an unsigned: anything outside 0..100 wraps.
    if !(0..=100).contains(&(int_with(cx, EXPECTS)? as i32)) {
        return Err(cx.alert(format!("'maxcompcpuusage' expects {EXPECTS}")));
    }
    Ok(())
}

/// 2.6 reports both mistakes through an unset error string: a WARNING
/// holding "(null)", and neither fails the configuration.
fn mworker_max_reloads(_: &mut Global, cx: &mut Cx) -> R {
    if cx.nwords() > 2 {
        cx.push(Diagnostic::alert_nonfatal(
            Loc::Parsing(cx.d.span.clone()),
            format!(
                "'mworker-max-reloads' cannot handle unexpected argument '{}'.",
                cx.word(2)
            ),
        ));
        cx.warn("(null)");
    } else if cx.word(1).is_empty() {
        cx.warn(format!(
            "(null)parsing [{}] : 'mworker-max-reloads' expects an integer argument.\n",
            cx.d.span
        ));
    }
    Ok(())
}

fn maxconn(g: &mut Global, cx: &mut Cx) -> R {
    if let Some(v) = once_int(g, cx, "maxconn")? {
        g.maxconn = Some(v);
    }
    Ok(())
}

/// `spread-checks` words its messages its own way (no quotes on the repeat,
/// no space before the colon), and keeps an out-of-range value.
fn spread_checks(g: &mut Global, cx: &mut Cx) -> R {
    cx.max_args(1)?;
    let tight = |m: &str| Diagnostic::alert(Loc::ParsingTight(cx.d.span.clone()), m);
    if g.seen.contains_key("spread-checks") {
        let mut d = tight("spread-checks already specified. Continuing.");
        d.outcome = crate::diag::Outcome::NonFatal;
        cx.push(d);
        return Ok(());
    }
    if cx.word(1).is_empty() {
        return Err(tight(
            "'spread-checks' expects an integer argument (0..50).",
        ));
    }
    let v = atol(cx.word(1));
    if v != 0 {
        g.seen.insert("spread-checks", cx.d.span.clone());
    }
    if !(0..=50).contains(&v) {
        return Err(tight(
            "'spread-checks' needs a positive value in range 0..50.",
        ));
    }
    Ok(())
}

fn max_spread_checks(_: &mut Global, cx: &mut Cx) -> R {
    cx.max_args(1)?;
    let v = cx.word(1);
    let tight = |m: String| Diagnostic::alert(Loc::ParsingTight(cx.d.span.clone()), m);
    if v.is_empty() {
        return Err(tight(
            "'max-spread-checks' expects an integer argument (0..50).".into(),
        ));
    }
    match parse_time_ms(v) {
        Ok(_) => Ok(()),
        Err(TimeError::Overflow) => Err(tight(format!(
            "timer overflow in argument <{v}> to <max-spread-checks>, maximum value is 2147483647 ms (~24.8 days)."
        ))),
        Err(TimeError::BadChar(c)) => Err(tight(format!(
            "unsupported character '{c}' in 'max-spread-checks' (wants an integer delay)."
        ))),
        Err(TimeError::Empty) => Ok(()),
    }
}

fn nbthread(g: &mut Global, cx: &mut Cx) -> R {
    cx.max_args(1)?;
    match parse_u32(cx.word(1)) {
        Some(n) if (1..=64).contains(&n) => {
            g.nbthread = Some(n);
            Ok(())
        }
        Some(n) => Err(cx.alert(format!(
            "'nbthread' value must be between 1 and 64 (was {n})"
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

/// `hard-stop-after`, `grace`, `close-spread-time`: one time value; 2.6
/// ignores extra words and ends two of its messages with an empty line.
fn time_arg(cx: &Cx) -> Result<Option<u64>, Diagnostic> {
    let (kw, v) = (cx.word(0), cx.word(1));
    if v.is_empty() {
        return Err(cx.alert(format!("'{kw}' expects <time> as argument.\n")));
    }
    if kw == "close-spread-time" && v == "infinite" {
        return Ok(None);
    }
    match parse_time_ms(v) {
        Ok(ms) => Ok(Some(ms)),
        Err(TimeError::BadChar(c)) => Err(cx.alert(format!(
            "unexpected character '{c}' in argument to <{kw}>.\n"
        ))),
        Err(_) => Err(cx.alert(format!(
            "timer overflow in argument '{v}' to '{kw}' (maximum value is 2147483647 ms or ~24.8 days)"
        ))),
    }
}

fn hard_stop_after(g: &mut Global, cx: &mut Cx) -> R {
    g.hard_stop_after = time_arg(cx)?;
    Ok(())
}

fn grace(g: &mut Global, cx: &mut Cx) -> R {
    g.grace = time_arg(cx)?;
    Ok(())
}

fn time_setting(_: &mut Global, cx: &mut Cx) -> R {
    time_arg(cx).map(|_| ())
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
                port_range_ok: true,
                ..AddrRules::default()
            };
            let addr = parse_address(cx.word(2), rules)
                .map_err(|e| cx.alert(format!("'stats socket' : {e}")))?;
            let params = stats_socket_params(cx)?;
            g.stats_sockets.push(StatsSocket {
                addr,
                params,
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
            // 2.6 prints the NUL ending an empty argument, which cuts its line.
            Err(crate::values::TimeError::Empty) => {
                Err(cx.alert("'stats timeout' : unexpected character '"))
            }
            Err(_) => Err(cx.alert("'stats timeout' expects a positive value")),
        },
        "maxconn" => {
            let n = atol(cx.word(2));
            if n <= 0 {
                return Err(cx.alert("'stats maxconn' expects a positive value"));
            }
            g.stats_maxconn = Some(n.min(u32::MAX as i64) as u32);
            Ok(())
        }
        "bind-process" => Ok(()),
        w => Err(cx.alert(format!(
            "'stats' only supports 'socket', 'maxconn', 'bind-process' and 'timeout' (got '{w}')"
        ))),
    }
}

/// The bind parameters after `stats socket <addr>`, checked as 2.6 checks
/// them (its messages quote the inner message: `'stats socket' : '...'`).
fn stats_socket_params(cx: &mut Cx) -> Result<Vec<String>, Diagnostic> {
    use super::bind::BIND_PARAMS;
    use super::server::Arity;
    let wrap = |cx: &Cx, m: String| cx.alert(format!("'stats socket' : '{m}'"));
    let mut out = Vec::new();
    let mut i = 3;
    while i < cx.nwords() {
        let kw = cx.word(i).to_string();
        let Some(param) = BIND_PARAMS.iter().find(|p| p.name == kw) else {
            let hint = match crate::suggest::suggest(&kw, BIND_PARAMS.iter().map(|p| p.name)) {
                Some(s) => format!(" Did you mean '{s}' maybe ?"),
                None => String::new(),
            };
            return Err(cx.alert(format!("'stats socket' : unknown keyword '{kw}'.{hint}")));
        };
        let value = cx.word(i + 1).to_string();
        let has_value = i + 1 < cx.nwords();
        let bad = match kw.as_str() {
            "level" if !has_value => Some("'level' : missing level".to_string()),
            "level" if !matches!(value.as_str(), "user" | "operator" | "admin") => Some(format!(
                "'level' only supports 'user', 'operator', and 'admin' (got '{value}')"
            )),
            "expose-fd" if !has_value => Some("'expose-fd' : missing fd type".to_string()),
            "expose-fd" if value != "listeners" => Some(format!(
                "'expose-fd' only supports 'listeners' (got '{value}')"
            )),
            "severity-output" if !has_value => {
                Some("'severity-output' : missing severity format".to_string())
            }
            "severity-output" if !matches!(value.as_str(), "none" | "number" | "string") => {
                Some(format!(
                    "'severity-output' only supports 'none', 'number', and 'string' (got '{value}')"
                ))
            }
            "mode" if value.is_empty() || !value.bytes().all(|b| (b'0'..=b'7').contains(&b)) => {
                Some(format!(
                    "'mode' : missing or invalid mode '{value}' (octal integer expected)"
                ))
            }
            "user" if !has_value => Some("'user' : missing user name".to_string()),
            "user" if !lookup_id(&value, false) => {
                Some(format!("'user' : unknown user name '{value}'"))
            }
            "group" if !has_value => Some("'group' : missing group name".to_string()),
            "group" if !lookup_id(&value, true) => {
                Some(format!("'group' : unknown group name '{value}'"))
            }
            "name" if !has_value => Some("'name' : missing name".to_string()),
            "id" if !has_value => Some("'id' : expects an integer argument".to_string()),
            "id" if value.parse::<i64>().is_err() => Some(format!(
                "'id' : expects an integer argument, found '{value}'"
            )),
            _ if param.arity != Arity::Flag && !has_value => {
                Some(format!("'{kw}' : missing value"))
            }
            _ => None,
        };
        if let Some(m) = bad {
            return Err(wrap(cx, m));
        }
        if kw == "process" {
            cx.warn(format!(
                "'stats socket' : 'process {value}' on 'bind' lines is deprecated and will be removed in 2.7."
            ));
        }
        out.push(kw);
        if param.arity != Arity::Flag {
            out.push(value);
            i += 1;
        }
        i += 1;
    }
    Ok(out)
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
    if let Some(v) = once_int(g, cx, "maxpipes")? {
        g.maxpipes = Some(v);
    }
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

fn localpeer(_: &mut Global, cx: &mut Cx) -> R {
    cx.max_args(1)?;
    if cx.word(1).is_empty() {
        return Err(cx.alert("'localpeer' expects a name as an argument."));
    }
    Ok(())
}

fn description(_: &mut Global, cx: &mut Cx) -> R {
    if cx.word(1).is_empty() {
        return Err(Diagnostic::alert(
            Loc::ParsingTight(cx.d.span.clone()),
            "'description' expects a string argument.",
        ));
    }
    Ok(())
}

/// The name is optional (the host name by default); extra words are ignored.
fn log_send_hostname(g: &mut Global, cx: &mut Cx) -> R {
    once(g, cx, "log-send-hostname", "'log-send-hostname'");
    Ok(())
}

/// `server-state-base` / `server-state-file`: the repeat is checked before
/// the missing path, and extra words are ignored.
fn server_state(g: &mut Global, cx: &mut Cx) -> R {
    let (key, what) = match cx.word(0) {
        "server-state-base" => (
            "server-state-base",
            "expects one argument: a directory path.",
        ),
        _ => ("server-state-file", "expect one argument: a file path."),
    };
    if g.seen.contains_key(key) {
        once(g, cx, key, &format!("'{key}'"));
        return Ok(());
    }
    if cx.word(1).is_empty() {
        return Err(cx.alert(format!("'{key}' {what}")));
    }
    g.seen.insert(key, cx.d.span.clone());
    Ok(())
}

fn cluster_secret(g: &mut Global, cx: &mut Cx) -> R {
    cx.max_args(1)?;
    if cx.word(1).is_empty() {
        return Err(cx.alert("expects an ASCII string argument."));
    }
    once(g, cx, "cluster-secret", "'cluster-secret'");
    Ok(())
}

fn h1_case_adjust(_: &mut Global, cx: &mut Cx) -> R {
    cx.max_args(2)?;
    if cx.word(2).is_empty() {
        return Err(cx.alert("'h1-case-adjust' expects <from> and <to> as argument."));
    }
    if !cx.word(1).eq_ignore_ascii_case(cx.word(2)) {
        // sic: 2.6's spelling.
        return Err(cx.alert("<from> and <to> must not differ execpt the case"));
    }
    Ok(())
}

fn h1_case_adjust_file(_: &mut Global, cx: &mut Cx) -> R {
    cx.max_args(1)?;
    if cx.word(1).is_empty() {
        return Err(cx.alert("'h1-case-adjust-file' expects <file> as argument."));
    }
    Ok(())
}

fn profiling_tasks(_: &mut Global, cx: &mut Cx) -> R {
    cx.max_args(1)?;
    match cx.word(1) {
        "on" | "auto" | "off" => Ok(()),
        v => Err(cx.alert(format!(
            "'profiling.tasks' expects either 'on', 'auto', or 'off' but got '{v}'."
        ))),
    }
}

/// `set-var proc.<name> <expr>` / `set-var-fmt proc.<name> <format>`
fn set_var(_: &mut Global, cx: &mut Cx) -> R {
    let kw = cx.word(0);
    let what = if kw == "set-var" {
        "a sample expression"
    } else {
        "a format string"
    };
    let (name, arg) = (cx.word(1), cx.word(2));
    if name.is_empty() || arg.is_empty() {
        return Err(cx.alert(format!(
            "'{kw}' requires a process-wide variable name ('proc.<name>') and {what}."
        )));
    }
    let scope = name.split('.').next().unwrap_or("");
    if !name.contains('.') || !["proc", "sess", "txn", "req", "res", "check"].contains(&scope) {
        return Err(cx.alert(format!(
            "invalid variable name '{name}'. A variable name must be start by its scope. The scope can be 'proc', 'sess', 'txn', 'req', 'res' or 'check'"
        )));
    }
    if scope != "proc" {
        return Err(cx.alert(format!(
            "'{kw}': cannot set variable '{name}', only scope 'proc' is permitted in the global section."
        )));
    }
    if kw == "set-var" {
        let fetch = arg.split(['(', ',']).next().unwrap_or("");
        if crate::samples::fetch(fetch).is_none() {
            return Err(cx.alert(format!("unknown fetch method '{fetch}'")));
        }
    }
    Ok(())
}

/// `unix-bind [prefix <p>] [mode <m>] [user <u>] [uid <n>] [group <g>] [gid <n>]`
fn unix_bind(g: &mut Global, cx: &mut Cx) -> R {
    let mut i = 1;
    while !cx.word(i).is_empty() {
        let (opt, val) = (cx.word(i), cx.word(i + 1));
        match opt {
            "prefix" if g.seen.contains_key("unix-bind prefix") => {
                // The repeat is reported, and the line goes on.
                cx.push(Diagnostic::alert_nonfatal(
                    Loc::Parsing(cx.d.span.clone()),
                    "unix-bind 'prefix' already specified. Continuing.",
                ));
            }
            "prefix" if val.is_empty() => {
                return Err(cx.alert("unix_bind 'prefix' expects a path as an argument."));
            }
            "prefix" => {
                g.seen.insert("unix-bind prefix", cx.d.span.clone());
            }
            "user" if !lookup_id(val, false) => {
                return Err(cx.alert(format!("'unix-bind' : '{val}' unknown user.")));
            }
            "group" if !lookup_id(val, true) => {
                return Err(cx.alert(format!("'unix-bind' : '{val}' unknown group.")));
            }
            "mode" | "uid" | "gid" | "user" | "group" => {}
            _ => {
                return Err(cx.alert(
                    "'unix-bind' only supports the 'prefix', 'mode', 'uid', 'gid', 'user' and 'group' options.",
                ))
            }
        }
        i += 2;
    }
    Ok(())
}

/// `default-path { current | config | parent | origin <path> }`: only
/// checked; extra words are ignored as in 2.6.
fn default_path(_: &mut Global, cx: &mut Cx) -> R {
    const MODES: &str = "supported modes include 'current', 'config', 'parent', and 'origin'.";
    match cx.word(1) {
        "current" | "config" | "parent" => Ok(()),
        "origin" if cx.word(2).is_empty() => {
            Err(cx.alert("'default-path origin' expects a directory as an argument."))
        }
        "origin" => {
            let path = cx.word(2);
            // 2.6 enters the directory and back; its message names the
            // directory it went back to and the reason the first step failed.
            match std::fs::read_dir(path) {
                Ok(_) => Ok(()),
                Err(e) => {
                    let cwd = std::env::current_dir()
                        .map(|d| d.display().to_string())
                        .unwrap_or_default();
                    Err(cx.alert(format!(
                        "couldn't set 'default-path' to origin '{path}': Impossible to get back to directory '{cwd}': {}.",
                        super::proxy::io_reason(&e)
                    )))
                }
            }
        }
        "" => Err(cx.alert(format!(
            "missing default-path mode '' for 'default-path', {MODES}"
        ))),
        m => Err(cx.alert(format!(
            "unsupported default-path mode '{m}' for 'default-path', {MODES}"
        ))),
    }
}

/// A thread group or thread set of `cpu-map`, as a 64-bit mask (2.6's
/// `parse_process_number`). The range message ends with an empty line.
fn cpu_map_ids(text: &str) -> Result<u64, String> {
    match text {
        "all" => return Ok(u64::MAX),
        "odd" => return Ok(u64::MAX / 3),
        "even" => return Ok((u64::MAX / 3) << 1),
        _ => {}
    }
    let mut dash = None;
    for (i, b) in text.bytes().enumerate() {
        match b {
            b'-' if dash.is_none() => dash = Some(i),
            b'0'..=b'9' => {}
            _ => return Err(format!("'{text}' is not a valid number/range.")),
        }
    }
    let num = |s: &str| atol(s).clamp(0, u32::MAX as i64) as u32;
    let mut low = num(text);
    let mut high = match dash {
        Some(i) if i + 1 == text.len() => 64,
        Some(i) => num(&text[i + 1..]),
        None => low,
    };
    if high < low {
        std::mem::swap(&mut low, &mut high);
    }
    if low < 1 || high > 64 {
        return Err(format!(
            "'{text}' is not a valid number/range. It supports numbers from 1 to 64.\n"
        ));
    }
    Ok((low..=high).fold(0, |m, n| m | 1u64 << (n - 1)))
}

/// The CPUs of `cpu-map` (2.6's `parse_cpu_set`): words of `<n>`, `<n>-[<m>]`
/// and comma lists; only each word's first character must be a digit.
fn cpu_set(words: &[&str]) -> Result<std::collections::BTreeSet<u32>, String> {
    const SETSIZE: u32 = 1024;
    let mut cpus = std::collections::BTreeSet::new();
    for word in words {
        if !word.starts_with(|c: char| c.is_ascii_digit()) {
            return Err(format!("'{word}' is not a CPU range."));
        }
        for part in word.split(',') {
            let num = |s: &str| atol(s).clamp(0, u32::MAX as i64) as u32;
            let mut low = num(part);
            let mut high = match part.find('-') {
                Some(i) if i + 1 == part.len() => SETSIZE - 1,
                Some(i) => num(&part[i + 1..]),
                None => low,
            };
            if high < low {
                std::mem::swap(&mut low, &mut high);
            }
            if high >= SETSIZE {
                return Err(format!("supports CPU numbers from 0 to {}.", SETSIZE - 1));
            }
            cpus.extend(low..=high);
        }
    }
    Ok(cpus)
}

/// `cpu-map [auto:]<group>[/<threads>] <cpus>...`
fn cpu_map(_: &mut Global, cx: &mut Cx) -> R {
    if cx.word(1).is_empty() || cx.word(2).is_empty() {
        return Err(cx.alert("cpu-map expects a process number  ('all', 'odd', 'even', a number from 1 to 64 or a range),  followed by a list of CPU ranges with numbers from 0 to 63."));
    }
    let fail = |m: String| cx.alert(format!("cpu-map : {m}"));
    let (auto, spec) = match cx.word(1).strip_prefix("auto:") {
        Some(rest) => (true, rest),
        None => (false, cx.word(1)),
    };
    let (group, threads) = match spec.split_once('/') {
        Some((g, t)) => (g, Some(t)),
        None => (spec, None),
    };
    let groups = cpu_map_ids(group).map_err(fail)?;
    let threads = match threads {
        Some(t) => cpu_map_ids(t).map_err(fail)?,
        None => u64::MAX,
    };
    let words: Vec<&str> = cx.d.rest(2).collect();
    let n = cpu_set(&words).map_err(fail)?.len() as u32;
    if auto && groups.count_ones() != n && threads.count_ones() != n {
        return Err(fail(
            "PROC/THREAD range and CPU sets must have the same size to be automatically bound"
                .into(),
        ));
    }
    Ok(())
}

/// `thread-groups <n>`: this build, like the 2.6 it copies, has one group.
fn thread_groups(_: &mut Global, cx: &mut Cx) -> R {
    cx.max_args(1)?;
    match parse_u32(cx.word(1)) {
        Some(1) => Ok(()),
        Some(n) => Err(cx.alert(format!(
            "'thread-groups' value must be between 1 and 1 (was {n})"
        ))),
        None => Err(cx.alert(format!(
            "'thread-groups' passed a missing or unparsable integer value in '{}'",
            cx.word(1)
        ))),
    }
}

/// `thread-group <n> [<threads>]`: this build, like Debian's 2.6, has one
/// thread group.
fn thread_group(_: &mut Global, cx: &mut Cx) -> R {
    let v = cx.word(1);
    match parse_u32(v) {
        None => Err(cx.alert(format!(
            "'thread-group' passed a missing or unparsable integer value in '{v}'"
        ))),
        Some(1) => Ok(()),
        Some(n) => Err(cx.alert(format!(
            "'thread-group' thread-group number must be between 1 and 1 (was {n})"
        ))),
    }
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
    Kw::new("cluster-secret", ALL, cluster_secret),
    Kw::new("chroot", ALL, chroot),
    Kw::new("close-spread-time", ALL, time_setting),
    Kw::new("cpu-map", ALL, cpu_map),
    Kw::new("crt-base", ALL, one_word).support(TLS),
    Kw::new("daemon", ALL, daemon),
    Kw::new("debug", ALL, debug),
    Kw::new("default-path", ALL, default_path),
    Kw::new("description", ALL, description),
    Kw::new("deviceatlas-json-file", ALL, any).support(Support::Unsupported("DeviceAtlas")),
    Kw::new("expose-experimental-directives", ALL, flag),
    Kw::new("external-check", ALL, any).support(Support::Unsupported("external checks")),
    Kw::new("fd-hard-limit", ALL, once_int_setting),
    Kw::new("gid", ALL, gid),
    Kw::new("grace", ALL, grace),
    Kw::new("group", ALL, group),
    Kw::new("h1-accept-payload-with-any-method", ALL, flag),
    Kw::new("h1-case-adjust", ALL, h1_case_adjust),
    Kw::new("h1-case-adjust-file", ALL, h1_case_adjust_file),
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
    Kw::new("localpeer", ALL, localpeer),
    Kw::new("log", ALL, log),
    Kw::new("log-send-hostname", ALL, log_send_hostname),
    Kw::new("log-tag", ALL, log_tag),
    Kw::new("lua-load", ALL, any).support(LUA),
    Kw::new("lua-load-per-thread", ALL, any).support(LUA),
    Kw::new("lua-prepend-path", ALL, any).support(LUA),
    Kw::new("master-worker", ALL, master_worker),
    Kw::new("max-spread-checks", ALL, max_spread_checks),
    Kw::new("maxcompcpuusage", ALL, maxcompcpuusage),
    Kw::new("maxcomprate", ALL, maxcomprate),
    Kw::new("maxconn", ALL, maxconn),
    Kw::new("maxconnrate", ALL, once_int_setting),
    Kw::new("maxpipes", ALL, maxpipes),
    Kw::new("maxsessrate", ALL, once_int_setting),
    Kw::new("maxsslconn", ALL, one_word).support(TLS),
    Kw::new("maxsslrate", ALL, once_int_setting).support(TLS),
    Kw::new("maxzlibmem", ALL, maxzlibmem),
    Kw::new("mworker-max-reloads", ALL, mworker_max_reloads),
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
    Kw::new("profiling.tasks", ALL, profiling_tasks),
    Kw::new("quiet", ALL, flag),
    Kw::new("resetenv", ALL, setenv),
    Kw::new("server-state-base", ALL, server_state),
    Kw::new("server-state-file", ALL, server_state),
    Kw::new("set-dumpable", ALL, flag),
    Kw::new("set-var", ALL, set_var),
    Kw::new("set-var-fmt", ALL, set_var),
    Kw::new("setenv", ALL, setenv),
    Kw::new("spread-checks", ALL, spread_checks),
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
    Kw::new("thread-group", ALL, thread_group),
    Kw::new("thread-groups", ALL, thread_groups),
    Kw::new("tune.*", ALL, tune),
    Kw::new("uid", ALL, uid),
    Kw::new("ulimit-n", ALL, once_int_setting),
    Kw::new("unix-bind", ALL, unix_bind),
    Kw::new("unsetenv", ALL, setenv),
    Kw::new("user", ALL, user),
    Kw::new("wurfl-data-file", ALL, any).support(Support::Unsupported("WURFL")),
    Kw::new("zero-warning", ALL, zero_warning),
];
