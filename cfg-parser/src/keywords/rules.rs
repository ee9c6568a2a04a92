//! Rule lines: `http-request`, `http-response`, `http-after-response`,
//! `tcp-request connection|session|content|inspect-delay`,
//! `tcp-response content|inspect-delay`. The action must be one HAProxy 2.6
//! knows for that rule set; the rule engine checks and runs the arguments.
use super::did_you_mean;
use crate::diag::{Diagnostic, Loc};
use crate::source::Span;

/// Actions in HAProxy 2.6's registration order (its error message lists
/// them so); a `(*)` suffix means the name takes an argument in parentheses
/// or a numeric suffix (`set-var(txn.x)`, `sc-inc-gpc0(1)`, `track-sc0`).
pub const HTTP_REQUEST: &[&str] = &[
    "wait-for-handshake",
    "ot-group",
    "set-log-level",
    "set-nice",
    "use-service",
    "sc-inc-gpc(*)",
    "sc-inc-gpc0(*)",
    "sc-inc-gpc1(*)",
    "sc-set-gpt(*)",
    "sc-set-gpt0(*)",
    "send-spoe-group",
    "do-resolve(*)",
    "cache-use",
    "add-acl(*)",
    "add-header",
    "allow",
    "auth",
    "capture",
    "del-acl(*)",
    "del-header",
    "del-map(*)",
    "deny",
    "disable-l7-retry",
    "early-hint",
    "normalize-uri",
    "redirect",
    "reject",
    "replace-header",
    "replace-path",
    "replace-pathq",
    "replace-uri",
    "replace-value",
    "return",
    "set-header",
    "set-map(*)",
    "set-method",
    "set-path",
    "set-pathq",
    "set-query",
    "set-uri",
    "strict-mode",
    "tarpit",
    "track-sc(*)",
    "set-timeout",
    "wait-for-body",
    "set-var-fmt(*)",
    "set-var(*)",
    "unset-var(*)",
    "set-dst",
    "set-dst-port",
    "set-mark",
    "set-src",
    "set-src-port",
    "set-tos",
    "silent-drop",
    "set-priority-class",
    "set-priority-offset",
];

pub const HTTP_RESPONSE: &[&str] = &[
    "ot-group",
    "set-log-level",
    "set-nice",
    "sc-inc-gpc(*)",
    "sc-inc-gpc0(*)",
    "sc-inc-gpc1(*)",
    "sc-set-gpt(*)",
    "sc-set-gpt0(*)",
    "send-spoe-group",
    "cache-store",
    "add-acl(*)",
    "add-header",
    "allow",
    "capture",
    "del-acl(*)",
    "del-header",
    "del-map(*)",
    "deny",
    "redirect",
    "replace-header",
    "replace-value",
    "return",
    "set-header",
    "set-map(*)",
    "set-status",
    "strict-mode",
    "track-sc(*)",
    "wait-for-body",
    "set-var-fmt(*)",
    "set-var(*)",
    "unset-var(*)",
    "set-mark",
    "set-tos",
    "silent-drop",
];

pub const HTTP_AFTER_RESPONSE: &[&str] = &[
    "ot-group",
    "add-header",
    "allow",
    "capture",
    "del-header",
    "replace-header",
    "replace-value",
    "set-header",
    "set-status",
    "strict-mode",
    "set-var-fmt(*)",
    "set-var(*)",
    "unset-var(*)",
];

const TCP_CONNECTION: &[&str] = &[
    "accept",
    "reject",
    "capture",
    "expect-proxy",
    "expect-netscaler-cip",
    "track-sc0",
    "track-sc1",
    "track-sc2",
    "sc-inc-gpc(*)",
    "sc-inc-gpc0(*)",
    "sc-inc-gpc1(*)",
    "sc-set-gpt(*)",
    "sc-set-gpt0(*)",
    "set-var-fmt(*)",
    "set-var(*)",
    "unset-var(*)",
    "set-dst",
    "set-dst-port",
    "set-mark",
    "set-src",
    "set-src-port",
    "set-tos",
    "silent-drop",
];

const TCP_CONTENT: &[&str] = &[
    "accept",
    "reject",
    "capture",
    "expect-proxy",
    "expect-netscaler-cip",
    "track-sc0",
    "track-sc1",
    "track-sc2",
    "ot-group",
    "set-log-level",
    "set-nice",
    "switch-mode",
    "use-service",
    "sc-inc-gpc(*)",
    "sc-inc-gpc0(*)",
    "sc-inc-gpc1(*)",
    "sc-set-gpt(*)",
    "sc-set-gpt0(*)",
    "send-spoe-group",
    "do-resolve(*)",
    "set-var-fmt(*)",
    "set-var(*)",
    "unset-var(*)",
    "set-src",
    "set-src-port",
    "set-dst",
    "set-dst-port",
    "set-mark",
    "set-tos",
    "silent-drop",
    "set-priority-class",
    "set-priority-offset",
];

const TCP_RESPONSE: &[&str] = &[
    "accept",
    "close",
    "reject",
    "ot-group",
    "set-log-level",
    "set-nice",
    "sc-inc-gpc(*)",
    "sc-inc-gpc0(*)",
    "sc-inc-gpc1(*)",
    "sc-set-gpt(*)",
    "sc-set-gpt0(*)",
    "send-spoe-group",
    "set-var-fmt(*)",
    "set-var(*)",
    "unset-var(*)",
    "set-mark",
    "set-tos",
    "silent-drop",
];

/// Whether `action` is one of `table`'s entries.
fn known(table: &[&str], action: &str) -> bool {
    table.iter().any(|a| match a.strip_suffix("(*)") {
        Some(prefix) => action.starts_with(prefix) && action.len() > prefix.len(),
        None => *a == action,
    })
}

/// HAProxy's list in its message: `'a', 'b', ..., 'z'`. The tcp lists
/// abbreviate the track-sc entries.
fn listing(table: &[&str], tcp: bool) -> String {
    let mut out: Vec<String> = Vec::new();
    for a in table {
        match *a {
            "track-sc0" if tcp => out.push("'track-sc0' ... 'track-sc2'".into()),
            "track-sc1" | "track-sc2" if tcp => {}
            a => out.push(format!("'{a}'")),
        }
    }
    out.join(", ")
}

/// Checks the action word(s) of a rule line `words` (the keyword first).
/// `owner` is e.g. `frontend 'fe'`. Errors are returned ready to print.
pub fn check_rule(words: &[String], owner: &str, span: &Span) -> Result<(), Diagnostic> {
    let kw = words[0].as_str();
    let arg = |i: usize| words.get(i).map(String::as_str).unwrap_or("");
    let table = match kw {
        "http-request" => HTTP_REQUEST,
        "http-response" => HTTP_RESPONSE,
        "http-after-response" => HTTP_AFTER_RESPONSE,
        _ => return check_tcp_rule(words, owner, span),
    };
    let action = arg(1);
    if known(table, action) {
        return Ok(());
    }
    let got = if action.is_empty() {
        "but got '' (missing argument).".to_string()
    } else {
        let names = table.iter().map(|a| a.trim_end_matches("(*)"));
        match did_you_mean(action, names) {
            hint if hint.is_empty() => format!("but got '{action}'."),
            _ => format!(
                "but got '{action}'. Did you mean '{}' maybe ?",
                crate::suggest::suggest(action, table.iter().map(|a| a.trim_end_matches("(*)")))
                    .unwrap_or("")
            ),
        }
    };
    // HAProxy stops reading the file after this one.
    Err(Diagnostic::abort(
        Loc::ParsingTight(span.clone()),
        format!("'{kw}' expects {}, {got}", listing(table, false)),
    ))
}

fn check_tcp_rule(words: &[String], owner: &str, span: &Span) -> Result<(), Diagnostic> {
    let kw = words[0].as_str();
    let arg = |i: usize| words.get(i).map(String::as_str).unwrap_or("");
    let alert = |m: String| Err(Diagnostic::alert(Loc::Parsing(span.clone()), m));
    let (set, table): (&str, &[&str]) = match (kw, arg(1)) {
        (_, "inspect-delay") => {
            if arg(2).is_empty() {
                return alert(format!("'{kw} inspect-delay' expects a timeout value in {owner}."));
            }
            if let Err(crate::values::TimeError::BadChar(c)) = crate::values::parse_time_ms(arg(2)) {
                return alert(format!("'{kw} inspect-delay' : unexpected character '{c}' in {owner}."));
            }
            return Ok(());
        }
        ("tcp-request", "connection") => ("connection", TCP_CONNECTION),
        ("tcp-request", "session") => ("session", TCP_CONNECTION),
        ("tcp-request", "content") => ("content", TCP_CONTENT),
        ("tcp-response", "content") => ("content", TCP_RESPONSE),
        ("tcp-request", other) => {
            return alert(format!(
                "'tcp-request' expects 'inspect-delay', 'connection', or 'content' in {owner} (got '{other}')"
            ))
        }
        (_, other) => {
            return alert(format!("'tcp-response' expects 'inspect-delay' or 'content' in {owner} (got '{other}')"))
        }
    };
    let action = arg(2);
    if known(table, action) {
        return Ok(());
    }
    alert(format!(
        "'{kw} {set}' expects {} in {owner} (got '{action}').",
        listing(table, true)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Vec<String> {
        s.split(' ').map(String::from).collect()
    }

    #[test]
    fn known_actions_pass() {
        let span = Span::new(&"f".into(), 1);
        for line in [
            "http-request set-header X a",
            "http-request set-var(txn.x) str(a)",
            "http-request track-sc0 src",
            "http-response set-status 503",
            "http-after-response del-header server",
            "tcp-request connection track-sc1 src",
            "tcp-request content accept",
            "tcp-request inspect-delay 5s",
            "tcp-response content close",
        ] {
            assert!(
                check_rule(&w(line), "frontend 'fe'", &span).is_ok(),
                "{line}"
            );
        }
    }

    #[test]
    fn unknown_actions_get_haproxys_message() {
        let span = Span::new(&"f".into(), 1);
        let e = check_rule(&w("http-request add-headr X a"), "frontend 'fe'", &span).unwrap_err();
        assert!(e
            .message
            .starts_with("'http-request' expects 'wait-for-handshake', 'ot-group',"));
        assert!(
            e.message
                .ends_with("but got 'add-headr'. Did you mean 'add-header' maybe ?"),
            "{}",
            e.message
        );
        let e = check_rule(&w("tcp-request content zz"), "frontend 'x'", &span).unwrap_err();
        assert!(e
            .message
            .contains("'track-sc0' ... 'track-sc2', 'ot-group'"));
        assert!(e.message.ends_with("in frontend 'x' (got 'zz')."));
    }
}
