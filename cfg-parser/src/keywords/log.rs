//! `log` lines, shared by `global` and proxies:
//! `log <addr> [len <n>] [format <f>] [sample <r>:<s>] <facility> [<level> [<minlevel>]]`
use super::Cx;
use crate::ast::LogTarget;
use crate::diag::Diagnostic;

pub const FACILITIES: &[&str] = &[
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "auth2",
    "ftp", "ntp", "audit", "alert", "cron2", "local0", "local1", "local2", "local3", "local4",
    "local5", "local6", "local7",
];
pub const LEVELS: &[&str] = &[
    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
];
const FORMATS: &[&str] = &[
    "local", "rfc3164", "rfc5424", "priority", "short", "timed", "iso", "raw",
];

/// Parses the words after `log`. `in_global` forbids `log global`.
pub fn parse_log(cx: &mut Cx, in_global: bool) -> Result<LogTarget, Diagnostic> {
    let err = |cx: &Cx, m: String| cx.alert(format!("log : {m}"));
    if cx.word(1) == "global" && cx.nwords() == 2 {
        if in_global {
            return Err(err(
                cx,
                "'global' is not supported for a global syslog server".into(),
            ));
        }
        return Ok(LogTarget::Global(cx.d.span.clone()));
    }
    if cx.nwords() < 3 {
        let tail = if in_global { "" } else { "or global" };
        return Err(err(
            cx,
            format!("expects <address> and <facility> {tail} as arguments"),
        ));
    }
    let mut i = 2;
    loop {
        match cx.word(i) {
            "len" => {
                let v = cx.word(i + 1);
                let n: u32 = v.parse().unwrap_or(0);
                if !(80..=65535).contains(&n) {
                    return Err(err(
                        cx,
                        format!("invalid log length '{v}', must be between 80 and 65535"),
                    ));
                }
                i += 2;
            }
            "format" => {
                let v = cx.word(i + 1);
                if !FORMATS.contains(&v) {
                    return Err(err(cx, format!("unknown log format '{v}'")));
                }
                i += 2;
            }
            "sample" => {
                let v = cx.word(i + 1);
                if !v.contains(':') {
                    return Err(err(
                        cx,
                        format!("invalid sample '{v}' (expects <ranges>:<size>)"),
                    ));
                }
                i += 2;
            }
            _ => break,
        }
    }
    let fac = cx.word(i);
    if !FACILITIES.contains(&fac) {
        return Err(err(cx, format!("unknown log facility '{fac}'")));
    }
    for (n, w) in cx.d.rest(i + 1).enumerate() {
        if n >= 2 {
            return Err(err(cx, format!("cannot handle unexpected argument '{w}'")));
        }
        if !LEVELS.contains(&w) {
            let what = if n == 0 {
                "optional log level"
            } else {
                "optional minimum log level"
            };
            return Err(err(cx, format!("unknown {what} '{w}'")));
        }
    }
    Ok(LogTarget::Target {
        addr: cx.word(1).into(),
        words: cx.d.rest(2).map(String::from).collect(),
        span: cx.d.span.clone(),
    })
}
