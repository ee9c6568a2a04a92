//! Rule lines: `http-request`, `http-response`, `http-after-response`,
//! `tcp-request connection|session|content|inspect-delay`,
//! `tcp-response content|inspect-delay`. The action must be one HAProxy 2.6
//! knows for that rule set, and its arguments are checked as 2.6 parses them
//! (counts, keywords, status codes, variable names, sample expressions and
//! log-format strings); the rule engine runs them.
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

/// Whether `action` is one of `table`'s entries. Like 2.6, a `(*)` entry
/// matches any word starting with its name (`set-var`, `set-vars(x)`): the
/// action's own parser then rejects a bad suffix with its own message.
fn known(table: &[&str], action: &str) -> bool {
    table.iter().any(|a| match a.strip_suffix("(*)") {
        Some(prefix) => action.starts_with(prefix),
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

// ---------------------------------------------------------------------------
// Action arguments. Each action has a checker that looks at the words after
// the action name, as 2.6's action parser does, and says how many it used;
// what follows must then be empty or `if`/`unless` (checked by the caller).
// ---------------------------------------------------------------------------

/// What an argument checker sees.
struct Act<'a> {
    /// `http-request`, `tcp-request`, ...
    kw: &'a str,
    /// `connection`/`session`/`content` for tcp rules, `` otherwise.
    set: &'a str,
    /// The action word as written (`set-var(txn.x)`).
    name: &'a str,
    /// The words after the action, condition included.
    args: &'a [String],
    /// `frontend 'fe'`.
    owner: &'a str,
    span: &'a Span,
    /// The "usable in" columns of the stages the rule runs at (see
    /// `samples::FetchInfo`): a fetch must give something at one of them.
    cols: Vec<usize>,
    /// Warnings the action parser prints while the rule stays valid.
    warnings: Vec<Diagnostic>,
}

impl Act<'_> {
    /// The i-th argument, `` past the end (HAProxy's empty `args[]`).
    fn arg(&self, i: usize) -> &str {
        self.args.get(i).map(String::as_str).unwrap_or("")
    }
    fn is_cond(&self, i: usize) -> bool {
        matches!(self.arg(i), "if" | "unless")
    }
    /// The word is missing or starts the condition.
    fn absent(&self, i: usize) -> bool {
        self.arg(i).is_empty() || self.is_cond(i)
    }
    /// Frontend / backend capability of the proxy, from its label.
    fn fe(&self) -> bool {
        !self.owner.starts_with("backend")
    }
    fn be(&self) -> bool {
        !self.owner.starts_with("frontend")
    }
    fn proxy_name(&self) -> &str {
        self.owner
            .split_once('\'')
            .map(|(_, r)| r.trim_end_matches('\''))
            .unwrap_or("")
    }
    /// A log-format argument, checked against the rule's stages.
    fn logformat(&self, s: &str) -> Result<(), String> {
        logformat(s, &self.cols)
    }
    /// A sample expression argument; 2.6 names `shown` when its fetch
    /// gives nothing at the rule's stages.
    fn sample(&self, s: &str, shown: &str) -> Result<(), String> {
        let expr = sample(s)?;
        match crate::samples::unusable_source(&expr.fetch, &self.cols) {
            Some(src) => Err(format!(
                "fetch method '{shown}' extracts information from '{src}', none of which is available here"
            )),
            None => Ok(()),
        }
    }
    fn warn(&mut self, msg: String) {
        self.warnings
            .push(Diagnostic::warning(Loc::Parsing(self.span.clone()), msg));
    }
}

/// Why an action was refused.
enum Fail {
    /// The action parser's message; the rule set wraps it (`error detected
    /// in ... while parsing 'http-request x' rule : MSG.`).
    Msg(String),
    /// A message printed as is after `parsing [f:l] : ` (tcp's own actions).
    Full(String),
}

impl From<String> for Fail {
    fn from(m: String) -> Self {
        Fail::Msg(m)
    }
}

type Check = fn(&mut Act) -> Result<usize, Fail>;

/// Checkers of the http rule sets; a name ending in `(` matches by prefix
/// (listed before any shorter name it starts with).
const HTTP_ARGS: &[(&str, Check)] = &[
    ("add-header", set_header),
    ("set-header", set_header),
    ("del-header", del_header),
    ("replace-header", replace_header),
    ("replace-value", replace_header),
    ("set-method", set_req_line),
    ("set-path", set_req_line),
    ("set-pathq", set_req_line),
    ("set-query", set_req_line),
    ("set-uri", set_req_line),
    ("replace-path", replace_req_line),
    ("replace-pathq", replace_req_line),
    ("replace-uri", replace_req_line),
    ("allow", no_args),
    ("reject", no_args),
    ("deny", deny),
    ("tarpit", deny),
    ("return", return_reply),
    ("redirect", http_redirect),
    ("auth", auth),
    ("capture", http_capture),
    ("set-status", set_status),
    ("set-timeout", set_timeout),
    ("track-sc", http_track_sc),
    ("add-acl", one_arg_file),
    ("del-acl", one_arg_file),
    ("del-map", one_arg_file),
    ("set-map", two_args_file),
    ("use-service", use_service),
];

/// Checkers of the tcp rule sets (2.6's built-in tcp actions word their
/// errors themselves).
const TCP_ARGS: &[(&str, Check)] = &[
    ("accept", no_args),
    ("reject", no_args),
    ("close", no_args),
    ("expect-proxy", expect_layer4),
    ("expect-netscaler-cip", expect_layer4),
    ("capture", tcp_capture),
    ("track-sc", tcp_track_sc),
    ("use-service", use_service),
];

/// Checkers of actions registered for every rule set.
const COMMON_ARGS: &[(&str, Check)] = &[
    ("set-var-fmt", vars),
    ("set-var", vars),
    ("unset-var", vars),
    ("set-log-level", set_log_level),
    ("set-nice", set_nice),
];

/// The checker of `action` (prefix match for the `(...)`/numbered names).
fn checker(tcp: bool, action: &str) -> Option<Check> {
    let own = if tcp { TCP_ARGS } else { HTTP_ARGS };
    let prefixed = [
        "set-var",
        "set-var-fmt",
        "unset-var",
        "track-sc",
        "add-acl",
        "del-acl",
        "del-map",
        "set-map",
    ];
    let hit = |t: &[(&str, Check)]| {
        t.iter()
            .find(|(n, _)| *n == action || (prefixed.contains(n) && action.starts_with(n)))
            .map(|(_, c)| *c)
    };
    hit(own).or_else(|| hit(COMMON_ARGS))
}

/// A log-format argument (`%[req.hdr(x),lower]`), in 2.6's words.
fn logformat(s: &str, cols: &[usize]) -> Result<(), String> {
    crate::logformat::parse_logformat_at(s, cols)
        .map(|_| ())
        .map_err(|e| e.trim_end_matches('.').to_string())
}

/// One sample expression word (`req.hdr(host),lower`).
fn sample(s: &str) -> Result<crate::logformat::SampleExpr, String> {
    if s.is_empty() {
        return Err("missing fetch method".into());
    }
    crate::logformat::parse_sample_expr(s).map_err(|e| e.trim_end_matches('.').to_string())
}

/// A regex argument. Our engine's reason differs from PCRE's text.
fn regex(s: &str) -> Result<(), String> {
    regex::bytes::Regex::new(s).map(|_| ()).map_err(|e| {
        let why = e.to_string();
        let why = why
            .lines()
            .last()
            .unwrap_or("")
            .trim_start_matches("error: ");
        format!("regex '{s}' is invalid (error={why})")
    })
}

fn no_args(_: &mut Act) -> Result<usize, Fail> {
    Ok(0)
}

/// `set-header|add-header <name> <fmt>`
fn set_header(a: &mut Act) -> Result<usize, Fail> {
    if a.arg(0).is_empty() || a.arg(1).is_empty() {
        return Err("expects exactly 2 arguments".to_string().into());
    }
    a.logformat(a.arg(1))?;
    Ok(2)
}

/// `del-header <name> [-m str|beg|end|sub|reg]`
fn del_header(a: &mut Act) -> Result<usize, Fail> {
    if a.arg(0).is_empty() {
        return Err("expects at least 1 argument".to_string().into());
    }
    if a.arg(1) != "-m" {
        return Ok(1);
    }
    match a.arg(2) {
        "" => Err("-m flag expects exactly 1 argument".to_string().into()),
        "str" | "beg" | "end" | "sub" => Ok(3),
        "reg" => regex(a.arg(0)).map(|_| 3).map_err(Fail::Msg),
        m => Err(format!("-m with unsupported matching method '{m}'").into()),
    }
}

/// `replace-header|replace-value <name> <regex> <fmt>`
fn replace_header(a: &mut Act) -> Result<usize, Fail> {
    if (0..3).any(|i| a.arg(i).is_empty()) {
        return Err("expects exactly 3 arguments".to_string().into());
    }
    regex(a.arg(1))?;
    a.logformat(a.arg(2))?;
    Ok(3)
}

/// `set-method|set-path|set-pathq|set-query|set-uri <fmt>`: 2.6 checks the
/// word count itself, so `set-path a b` is refused here and not as a
/// trailing word.
fn set_req_line(a: &mut Act) -> Result<usize, Fail> {
    if a.arg(0).is_empty() || !a.absent(1) {
        return Err("expects exactly 1 argument <format>".to_string().into());
    }
    a.logformat(a.arg(0))?;
    Ok(1)
}

/// `replace-path|replace-pathq|replace-uri <regex> <fmt>`
fn replace_req_line(a: &mut Act) -> Result<usize, Fail> {
    if a.arg(0).is_empty() || a.arg(1).is_empty() || !a.absent(2) {
        return Err(
            "expects exactly 2 arguments <match-regex> and <replace-format>"
                .to_string()
                .into(),
        );
    }
    regex(a.arg(0))?;
    a.logformat(a.arg(1))?;
    Ok(2)
}

/// Status codes 2.6 has a default error page for (`default-errorfiles`,
/// `errorfiles`).
const ERR_CODES: &[u32] = &[
    200, 400, 401, 403, 404, 405, 407, 408, 410, 413, 425, 429, 500, 501, 502, 503, 504,
];

/// 2.6's `http_parse_http_reply()`: `status`, `content-type`, one payload
/// (`errorfiles`, `default-errorfiles`, `errorfile`, `file`, `string`,
/// `lf-file`, `lf-string`) and `hdr` lines. `words` are the reply's words;
/// returns how many it used.
fn http_reply(a: &mut Act, words: &[&str], default_status: u32) -> Result<usize, Fail> {
    #[derive(PartialEq)]
    enum Body {
        Empty,
        Errfiles,
        Errmsg,
        Raw(usize),
        Logfmt,
    }
    let w = |i: usize| words.get(i).copied().unwrap_or("");
    let (mut status, mut ctype, mut body, mut payload_kw, mut hdrs) =
        (default_status, None::<String>, Body::Empty, "", 0);
    let mut i = 0;
    while !w(i).is_empty() {
        let key = w(i);
        let payload = matches!(
            key,
            "errorfiles"
                | "default-errorfiles"
                | "errorfile"
                | "file"
                | "string"
                | "lf-file"
                | "lf-string"
        );
        if payload && body != Body::Empty {
            return Err(
                format!("unexpected '{key}' argument, '{payload_kw}' already defined").into(),
            );
        }
        let need = |what: &str| -> Result<&str, Fail> {
            match w(i + 1) {
                "" => Err(format!("'{key}' expects {what} as argument").into()),
                v => Ok(v),
            }
        };
        match key {
            "status" => {
                let v = need("<status_code>")?;
                status = atol(v) as u32;
                if !(200..=599).contains(&atol(v)) {
                    return Err(format!("Unexpected status code '{}'", atol(v)).into());
                }
                i += 2;
            }
            "content-type" => {
                ctype = Some(need("<ctype>")?.to_string());
                i += 2;
            }
            "errorfiles" => {
                need("<name>")?;
                body = Body::Errfiles;
                i += 2;
            }
            "default-errorfiles" => {
                body = Body::Errfiles;
                i += 1;
            }
            "errorfile" => {
                let f = need("<fmt>")?;
                let raw = std::fs::read(f).map_err(|_| format!("error opening file '{f}'."))?;
                if let Err(p) = crate::errorfile::parse(&raw) {
                    return Err(p.message(f).into());
                }
                body = Body::Errmsg;
                i += 2;
            }
            "file" | "lf-file" => {
                let f = need("<file>")?;
                let text = std::fs::read(f).map_err(|_| format!("error opening file '{f}'"))?;
                body = if key == "file" {
                    Body::Raw(text.len())
                } else {
                    a.logformat(&String::from_utf8_lossy(&text))?;
                    Body::Logfmt
                };
                i += 2;
            }
            "string" | "lf-string" => {
                let v = need(if key == "string" { "<str>" } else { "<fmt>" })?;
                body = if key == "string" {
                    Body::Raw(v.len())
                } else {
                    a.logformat(v)?;
                    Body::Logfmt
                };
                i += 2;
            }
            "hdr" => {
                if w(i + 1).is_empty() || w(i + 2).is_empty() {
                    return Err(format!("'{key}' expects <name> and <value> as arguments").into());
                }
                let name = w(i + 1).to_ascii_lowercase();
                if matches!(
                    name.as_str(),
                    "content-length" | "transfer-encoding" | "content-type"
                ) {
                    a.warn(format!(
                        "header '{}' always ignored by the http reply.",
                        w(i + 1)
                    ));
                } else {
                    a.logformat(w(i + 2))?;
                    hdrs += 1;
                }
                i += 3;
            }
            _ => break,
        }
        if payload {
            payload_kw = key;
        }
    }
    match body {
        Body::Empty => {
            if let Some(c) = ctype {
                a.warn(format!(
                    "content-type '{c}' ignored by the http reply because neither errorfile nor payload defined."
                ));
            }
        }
        Body::Errfiles | Body::Errmsg => {
            if body == Body::Errfiles && !ERR_CODES.contains(&status) {
                return Err(format!(
                    "status code '{status}' not handled by default with '{payload_kw}' argument."
                )
                .into());
            }
            if let Some(c) = ctype {
                a.warn(format!(
                    "content-type '{c}' ignored by the http reply when used with an erorrfile."
                ));
            }
            if hdrs > 0 {
                a.warn(
                    "hdr parameters ignored by the http reply when used with an erorrfile.".into(),
                );
            }
        }
        Body::Raw(len) => {
            if (status == 204 || status == 304) && len > 0 {
                return Err(format!("No body expected for {status} responses").into());
            }
            if ctype.is_none() && len > 0 {
                return Err(
                    "a content type must be defined when non-empty payload is configured"
                        .to_string()
                        .into(),
                );
            }
            if let (Some(c), 0) = (&ctype, len) {
                a.warn(format!(
                    "content-type '{c}' ignored by the http reply when used with an empty payload."
                ));
            }
        }
        Body::Logfmt => {
            if status == 204 || status == 304 {
                return Err(format!("No body expected for {status} responses").into());
            }
            if ctype.is_none() {
                return Err("a content type must be defined with a log-format payload"
                    .to_string()
                    .into());
            }
        }
    }
    Ok(i)
}

/// C's `atol()`: leading digits (with sign), 0 when none.
fn atol(s: &str) -> i64 {
    let s = s.trim_start();
    let (neg, digits) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let n: i64 = digits
        .chars()
        .take_while(char::is_ascii_digit)
        .fold(0i64, |n, c| {
            n.saturating_mul(10).saturating_add(c as i64 - '0' as i64)
        });
    if neg {
        -n
    } else {
        n
    }
}

/// `deny|tarpit [deny_status N] [reply...]`: a lone `deny_status N` keeps
/// the default error pages, as 2.6's legacy form does.
fn deny(a: &mut Act) -> Result<usize, Fail> {
    let default_status = match (a.kw, a.name) {
        ("http-request", "tarpit") => 500,
        ("http-request", _) => 403,
        _ => 502,
    };
    if a.absent(0) {
        return Ok(0);
    }
    if a.arg(0) == "deny_status" && a.absent(2) {
        let st = a.arg(1).to_string();
        http_reply(a, &["status", &st, "default-errorfiles"], default_status)?;
        return Ok(2);
    }
    let mut words: Vec<&str> = a.args.iter().map(String::as_str).collect();
    if words[0] == "deny_status" {
        words[0] = "status";
    }
    http_reply(a, &words, default_status)
}

/// `return [status N] [content-type T] [payload] [hdr N V]...`
fn return_reply(a: &mut Act) -> Result<usize, Fail> {
    let words: Vec<&str> = a.args.iter().map(String::as_str).collect();
    http_reply(a, &words, 200)
}

/// 2.6's `http_parse_redirect_rule()`; `fmt` is set when the destination
/// is a log-format string (`http-request redirect`, not the `redirect`
/// keyword), with the stages it is evaluated at. Stops at `if`/`unless`.
fn redirect_args(args: &[String], fmt: Option<&[usize]>, response: bool) -> Result<usize, String> {
    let w = |i: usize| args.get(i).map(String::as_str).unwrap_or("");
    let (mut i, mut kind, mut dest) = (0, "", "");
    while !w(i).is_empty() {
        let key = w(i);
        match key {
            "location" | "prefix" | "scheme" | "set-cookie" | "clear-cookie" | "code" => {
                if w(i + 1).is_empty() {
                    return Err(format!("missing argument for '{key}'"));
                }
                i += 1;
                if key == "code" {
                    let c = atol(w(i));
                    if !matches!(c, 301 | 302 | 303 | 307 | 308) {
                        return Err(format!(
                            "'code': unsupported HTTP code '{}' (must be one of 301, 302, 303, 307 or 308)",
                            w(i)
                        ));
                    }
                } else if matches!(key, "location" | "prefix" | "scheme") {
                    (kind, dest) = (key, w(i));
                }
            }
            "drop-query" | "append-slash" | "ignore-empty" => {}
            "if" | "unless" => break,
            other => {
                return Err(format!(
                    "expects 'code', 'prefix', 'location', 'scheme', 'set-cookie', 'clear-cookie', 'drop-query', 'ignore-empty' or 'append-slash' (was '{other}')"
                ))
            }
        }
        i += 1;
    }
    if kind.is_empty() {
        return Err("redirection type expected ('prefix', 'location', or 'scheme')".into());
    }
    if response && kind != "location" {
        return Err("response only supports redirect type 'location'".into());
    }
    if let Some(cols) = fmt {
        logformat(dest, cols)?;
    }
    Ok(i)
}

fn http_redirect(a: &mut Act) -> Result<usize, Fail> {
    Ok(redirect_args(
        a.args,
        Some(&a.cols),
        a.kw != "http-request",
    )?)
}

/// `auth [realm R]`
fn auth(a: &mut Act) -> Result<usize, Fail> {
    if a.arg(0) != "realm" {
        return Ok(0);
    }
    if a.arg(1).is_empty() {
        // 2.6's message carries its own ".\n" before the wrapper's ".".
        return Err("missing realm value.\n".to_string().into());
    }
    Ok(2)
}

/// `capture <sample> len N | id N` (http-request), `capture <sample> id N`
/// (http-response).
fn http_capture(a: &mut Act) -> Result<usize, Fail> {
    let req = a.kw == "http-request";
    if (0..3).any(|i| a.absent(i)) {
        return Err(if req {
            "expects <expression> [ 'len' <length> | id <idx> ]"
        } else {
            "expects <expression> id <idx>"
        }
        .to_string()
        .into());
    }
    a.sample(a.arg(0), a.arg(0))?;
    match a.arg(1) {
        "len" if req => {
            if !a.fe() {
                return Err(
                    format!("proxy '{}' has no frontend capability", a.proxy_name()).into(),
                );
            }
            if atol(a.arg(2)) <= 0 {
                return Err("length must be > 0".to_string().into());
            }
        }
        "id" => {
            if a.arg(2).parse::<i64>().is_err() {
                return Err(format!("cannot parse id '{}'", a.arg(2)).into());
            }
        }
        other if req => return Err(format!("expects 'len' or 'id', found '{other}'").into()),
        other => return Err(format!("expects 'id', found '{other}'").into()),
    }
    Ok(3)
}

/// `set-status <code> [reason <text>]`
fn set_status(a: &mut Act) -> Result<usize, Fail> {
    if a.arg(0).is_empty() {
        return Err(
            "expects 1 argument: <status>; or 3 arguments: <status> reason <fmt>"
                .to_string()
                .into(),
        );
    }
    match a.arg(0).parse::<i64>() {
        Ok(100..=999) => {}
        _ => {
            return Err("expects an integer status code between 100 and 999"
                .to_string()
                .into())
        }
    }
    Ok(if a.arg(1) == "reason" && !a.absent(2) {
        3
    } else {
        1
    })
}

/// `set-timeout server|tunnel <time>` (backends only).
fn set_timeout(a: &mut Act) -> Result<usize, Fail> {
    if a.arg(0).is_empty() || a.arg(1).is_empty() {
        return Err("expects exactly 2 arguments".to_string().into());
    }
    if !a.be() {
        return Err(format!("proxy '{}' has no backend capability", a.proxy_name()).into());
    }
    if !matches!(a.arg(0), "server" | "tunnel") {
        return Err(format!(
            "'set-timeout' rule supports 'server'/'tunnel' (got '{}')",
            a.arg(0)
        )
        .into());
    }
    if let Err(crate::values::TimeError::BadChar(c)) = crate::values::parse_time_ms(a.arg(1)) {
        return Err(format!(
            "unexpected character '{c}' in rule 'set-timeout {}'",
            a.arg(0)
        )
        .into());
    }
    Ok(2)
}

/// `track-scN` number: 0..2 (`track-sc` alone is 0, as C's strtol says).
fn track_number(name: &str) -> Result<(), String> {
    let n = &name["track-sc".len()..];
    match n.parse::<u32>() {
        _ if n.is_empty() => Ok(()),
        Ok(0..=2) => Ok(()),
        Ok(v) => Err(format!(
            "{v} track-sc number exceeding 2 (MAX_SESS_STKCTR-1) value"
        )),
        Err(_) => Err(format!("Wrong track-sc number '{n}'")),
    }
}

/// `track-scN <sample> [table T]`
fn http_track_sc(a: &mut Act) -> Result<usize, Fail> {
    track_number(a.name)?;
    a.sample(a.arg(0), a.arg(0))?;
    if a.arg(1) != "table" {
        return Ok(1);
    }
    if a.arg(2).is_empty() {
        return Err("missing table name".to_string().into());
    }
    Ok(3)
}

/// `add-acl(file) <key>`, `del-acl(file) <key>`, `del-map(file) <key>`
fn one_arg_file(a: &mut Act) -> Result<usize, Fail> {
    acl_map_args(a, 1)
}

/// `set-map(file) <key> <value>`
fn two_args_file(a: &mut Act) -> Result<usize, Fail> {
    acl_map_args(a, 2)
}

fn acl_map_args(a: &mut Act, n: usize) -> Result<usize, Fail> {
    let name = a.name;
    let file_ok = name
        .find('(')
        .is_some_and(|i| name.ends_with(')') && i + 2 < name.len());
    if !file_ok || (0..n).any(|i| a.arg(i).is_empty()) {
        return Err(format!("expects exactly {n} arguments").into());
    }
    for i in 0..n {
        a.logformat(a.arg(i))?;
    }
    Ok(n)
}

/// `expect-proxy layer4`, `expect-netscaler-cip layer4`
fn expect_layer4(a: &mut Act) -> Result<usize, Fail> {
    if a.arg(0) != "layer4" {
        return Err(Fail::Full(format!(
            "'{} {} {}' only supports 'layer4' in {} (got '{}')",
            a.kw,
            a.set,
            a.name,
            a.owner,
            a.arg(0)
        )));
    }
    Ok(1)
}

/// tcp `capture <sample> len N`
fn tcp_capture(a: &mut Act) -> Result<usize, Fail> {
    let full = |a: &Act, m: String| Fail::Full(format!("'{} {} {}' : {m}", a.kw, a.set, a.name));
    if a.set == "connection" {
        return Err(Fail::Full(format!(
            "'{} {}' is not allowed in '{} {}' rules in {}",
            a.name,
            a.arg(0),
            a.kw,
            a.set,
            a.owner
        )));
    }
    // 2.6 looks at the proxy before the expression.
    if !a.fe() {
        return Err(full(
            a,
            format!("proxy '{}' has no frontend capability", a.proxy_name()),
        ));
    }
    a.sample(a.arg(0), a.arg(0)).map_err(|m| full(a, m))?;
    let mut used = 1;
    let mut len = 0;
    if a.arg(1) == "len" {
        len = atol(a.arg(2));
        if len <= 0 {
            return Err(full(a, "length must be > 0".into()));
        }
        used = 3;
    }
    if len == 0 {
        return Err(full(a, "a positive 'len' argument is mandatory".into()));
    }
    Ok(used)
}

/// tcp `track-scN <sample> [table T]` (the tcp list only knows 0..2).
fn tcp_track_sc(a: &mut Act) -> Result<usize, Fail> {
    a.sample(a.arg(0), a.arg(0))
        .map_err(|m| Fail::Full(format!("'{} {} {}' : {m}", a.kw, a.set, a.name)))?;
    // 2.6 takes the word after `table` even when it is empty.
    Ok(if a.arg(1) == "table" { 3 } else { 1 })
}

/// Conditions of `set-var(name,cond...)`.
const VAR_CONDS: &[&str] = &[
    "ifexists",
    "ifnotexists",
    "ifempty",
    "ifnotempty",
    "ifset",
    "ifnotset",
    "ifgt",
    "iflt",
];

/// `set-var(scope.name[,cond...]) <sample>`, `set-var-fmt(...) <fmt>`,
/// `unset-var(scope.name)`: 2.6's `parse_store()` and `register_name()`.
fn vars(a: &mut Act) -> Result<usize, Fail> {
    let full = a.name;
    let (rest, kind) = if let Some(r) = full.strip_prefix("set-var-fmt") {
        (r, 2)
    } else if let Some(r) = full.strip_prefix("set-var") {
        (r, 1)
    } else {
        (full.strip_prefix("unset-var").unwrap_or(""), 0)
    };
    let expects =
        "Expects 'set-var(<var-name>)', 'set-var-fmt(<var-name>)' or 'unset-var(<var-name>)'";
    let Some(inner) = rest.strip_prefix('(') else {
        return Err(format!("invalid or incomplete action '{full}'. {expects}").into());
    };
    let Some(inner) = inner.strip_suffix(')') else {
        return Err(format!("incomplete argument after action '{full}'. {expects}").into());
    };
    let var = match inner.split_once(',') {
        Some((v, conds)) => {
            for c in conds.split(',') {
                if !VAR_CONDS.contains(&c) {
                    return Err(format!("unknown condition \"{c}\"").into());
                }
            }
            v
        }
        None => inner,
    };
    if var.is_empty() {
        return Err("Empty variable name cannot be accepted".to_string().into());
    }
    let name = ["proc.", "sess.", "txn.", "req.", "res.", "check."]
        .iter()
        .find_map(|s| var.strip_prefix(s).filter(|n| !n.is_empty()));
    let Some(name) = name else {
        return Err(format!(
            "invalid variable name '{var}'. A variable name must be start by its scope. The scope can be 'proc', 'sess', 'txn', 'req', 'res' or 'check'"
        )
        .into());
    };
    // 2.6 quotes the rest of the action word from the bad character on.
    if let Some(i) = name.find(|c: char| !c.is_ascii_alphanumeric() && c != '_' && c != '.') {
        let at = full.len() - 1 - (name.len() - i) - (inner.len() - var.len());
        return Err(format!("invalid syntax at char '{}'", &full[at..]).into());
    }
    match kind {
        0 => Ok(0),
        1 => {
            a.sample(a.arg(0), a.name)?;
            Ok(1)
        }
        _ => {
            a.logformat(a.arg(0))?;
            Ok(1)
        }
    }
}

/// `set-log-level <level>|silent`
fn set_log_level(a: &mut Act) -> Result<usize, Fail> {
    const LEVELS: &[&str] = &[
        "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug", "silent",
    ];
    if !LEVELS.contains(&a.arg(0)) {
        return Err("expects exactly 1 argument (log level name or 'silent')"
            .to_string()
            .into());
    }
    Ok(1)
}

/// `set-nice <n>` (any text: 2.6 uses atoi and clamps).
fn set_nice(a: &mut Act) -> Result<usize, Fail> {
    if a.arg(0).is_empty() {
        return Err("expects exactly 1 argument (integer value)"
            .to_string()
            .into());
    }
    Ok(1)
}

/// `use-service NAME`: the only service of this build is 2.6's Prometheus
/// exporter, which answers HTTP requests only. 2.6 words the errors with
/// its first two words, which are not the same ones in tcp rules.
fn use_service(a: &mut Act) -> Result<usize, Fail> {
    let tcp = a.kw.starts_with("tcp-");
    let (first, second) = if tcp {
        (a.kw, a.set)
    } else {
        (a.name, a.arg(0))
    };
    let fail = |m: String| if tcp { Fail::Full(m) } else { Fail::Msg(m) };
    if a.arg(0).is_empty() {
        return Err(fail(format!("'{first}' expects a service name.")));
    }
    if a.arg(0) != "prometheus-exporter" {
        return Err(fail(format!("'{second}' unknown service name.")));
    }
    if tcp {
        return Err(Fail::Full(
            "Prometheus exporter service only available on 'http-request' rulesets".into(),
        ));
    }
    Ok(1)
}

/// The "usable in" columns (`haproxy -dKall`) of the stages where a rule
/// of `kw` (`set` for tcp rules) runs, in a proxy with the frontend and/or
/// backend capability.
fn stage_columns(kw: &str, set: &str, fe: bool, be: bool) -> Vec<usize> {
    let (fe_col, be_col) = match (kw, set) {
        ("http-request", _) => (Some(3), Some(7)),
        ("http-response" | "http-after-response", _) => (Some(16), Some(12)),
        ("tcp-request", "connection") => (Some(0), None),
        ("tcp-request", "session") => (Some(1), None),
        ("tcp-request", _) => (Some(2), Some(6)),
        _ => (Some(15), Some(11)),
    };
    let mut cols = Vec::new();
    cols.extend(fe_col.filter(|_| fe));
    cols.extend(be_col.filter(|_| be));
    cols
}

/// Runs the action's checker and the trailing-word check; `set` is the tcp
/// rule set. Errors are returned ready to print, warnings pushed to `diags`.
fn check_action(
    words: &[String],
    at: usize,
    set: &str,
    owner: &str,
    span: &Span,
    diags: &mut Vec<Diagnostic>,
) -> Result<(), Diagnostic> {
    let kw = words[0].as_str();
    let name = words[at].as_str();
    let tcp = kw.starts_with("tcp-");
    let Some(check) = checker(tcp, name) else {
        // Actions without a checker here keep whatever arguments they have.
        return Ok(());
    };
    let mut a = Act {
        kw,
        set,
        name,
        args: &words[at + 1..],
        owner,
        span,
        cols: Vec::new(),
        warnings: Vec::new(),
    };
    a.cols = stage_columns(kw, set, a.fe(), a.be());
    let res = check(&mut a);
    diags.append(&mut a.warnings);
    let loc = Loc::Parsing(span.clone());
    let used = match res {
        Ok(n) => n,
        // http rule errors stop HAProxy from reading the file further.
        Err(Fail::Msg(m)) if !tcp => {
            return Err(Diagnostic::abort(
                loc,
                format!("error detected in {owner} while parsing '{kw} {name}' rule : {m}."),
            ))
        }
        Err(Fail::Full(m)) if !tcp => return Err(Diagnostic::abort(loc, m)),
        Err(Fail::Msg(m) | Fail::Full(m)) => return Err(Diagnostic::alert(loc, m)),
    };
    let next = a.arg(used);
    if next.is_empty() || a.is_cond(used) {
        return Ok(());
    }
    Err(if tcp {
        Diagnostic::alert(
            loc,
            format!("'{kw} {set} {name}' only accepts 'if' or 'unless', in {owner} (got '{next}')"),
        )
    } else {
        Diagnostic::abort(
            Loc::ParsingTight(span.clone()),
            format!("'{kw} {name}' expects either 'if' or 'unless' followed by a condition but found '{next}'."),
        )
    })
}

/// The proxy keyword `redirect location|prefix|scheme <to> [code N]
/// [option]... [if|unless cond]` (`words` without the keyword). Its
/// destination is literal text, unlike `http-request redirect`'s.
pub fn check_redirect(words: &[String], owner: &str, span: &Span) -> Result<(), Diagnostic> {
    redirect_args(words, None, false).map(|_| ()).map_err(|m| {
        Diagnostic::alert(
            Loc::Parsing(span.clone()),
            format!("error detected in {owner} while parsing redirect rule : {m}."),
        )
    })
}

/// Actions after which 2.6 stops evaluating the rule set.
const FINAL: &[&str] = &[
    "allow",
    "deny",
    "tarpit",
    "reject",
    "auth",
    "redirect",
    "return",
    "silent-drop",
    "use-service",
];

/// 2.6 warns when an http rule follows, in the same rule set, a final
/// action without condition. `prev_words` is that previous rule's action
/// and arguments; pass `None` when it has a condition or there is none.
pub fn final_rule_warning(
    kw: &str,
    prev_words: Option<&[String]>,
    span: &Span,
) -> Option<Diagnostic> {
    let first = prev_words?.first()?;
    FINAL.contains(&first.as_str()).then(|| {
        Diagnostic::warning(
            Loc::ParsingTight(span.clone()),
            format!("previous '{kw}' action is final and has no condition attached, further entries are NOOP."),
        )
    })
}

/// Checks a rule line `words` (the keyword first): the action name, then
/// its arguments. `owner` is e.g. `frontend 'fe'`. Errors are returned
/// ready to print; warnings are pushed to `diags`.
pub fn check_rule(
    words: &[String],
    owner: &str,
    span: &Span,
    diags: &mut Vec<Diagnostic>,
) -> Result<(), Diagnostic> {
    let kw = words[0].as_str();
    let arg = |i: usize| words.get(i).map(String::as_str).unwrap_or("");
    let table = match kw {
        "http-request" => HTTP_REQUEST,
        "http-response" => HTTP_RESPONSE,
        "http-after-response" => HTTP_AFTER_RESPONSE,
        _ => return check_tcp_rule(words, owner, span, diags),
    };
    let action = arg(1);
    if known(table, action) {
        return check_action(words, 1, "", owner, span, diags);
    }
    let got = if action.is_empty() {
        "but got '' (missing argument).".to_string()
    } else {
        // `(*)` marks 2.6's prefix actions, which get a looser threshold.
        let names = table
            .iter()
            .map(|a| (a.trim_end_matches("(*)"), a.ends_with("(*)")));
        match crate::suggest::suggest_action(action, names) {
            None => format!("but got '{action}'."),
            Some(best) => format!("but got '{action}'. Did you mean '{best}' maybe ?"),
        }
    };
    // HAProxy stops reading the file after this one.
    Err(Diagnostic::abort(
        Loc::ParsingTight(span.clone()),
        format!("'{kw}' expects {}, {got}", listing(table, false)),
    ))
}

fn check_tcp_rule(
    words: &[String],
    owner: &str,
    span: &Span,
    diags: &mut Vec<Diagnostic>,
) -> Result<(), Diagnostic> {
    let kw = words[0].as_str();
    let arg = |i: usize| words.get(i).map(String::as_str).unwrap_or("");
    let alert = |m: String| Err(Diagnostic::alert(Loc::Parsing(span.clone()), m));
    let (set, table): (&str, &[&str]) = match (kw, arg(1)) {
        (_, "inspect-delay") => {
            let bad = format!("'{kw} inspect-delay' expects a positive delay in milliseconds, in {owner}");
            return match crate::values::parse_time_ms(arg(2)) {
                _ if arg(2).is_empty() => alert(bad),
                Err(crate::values::TimeError::BadChar(c)) => alert(format!("{bad} (unexpected character '{c}')")),
                _ => Ok(()),
            };
        }
        ("tcp-request", set @ ("connection" | "session")) if owner.starts_with("backend") => {
            let name = owner.split('\'').nth(1).unwrap_or("");
            return alert(format!(
                "tcp-request {set} is not allowed because backend {name} is not a frontend"
            ));
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
        return check_action(words, 2, set, owner, span, diags);
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
                check_rule(&w(line), "frontend 'fe'", &span, &mut Vec::new()).is_ok(),
                "{line}"
            );
        }
    }

    #[test]
    fn unknown_actions_get_haproxys_message() {
        let span = Span::new(&"f".into(), 1);
        let e = check_rule(
            &w("http-request add-headr X a"),
            "frontend 'fe'",
            &span,
            &mut Vec::new(),
        )
        .unwrap_err();
        assert!(e
            .message
            .starts_with("'http-request' expects 'wait-for-handshake', 'ot-group',"));
        assert!(
            e.message
                .ends_with("but got 'add-headr'. Did you mean 'add-header' maybe ?"),
            "{}",
            e.message
        );
        let e = check_rule(
            &w("tcp-request content zz"),
            "frontend 'x'",
            &span,
            &mut Vec::new(),
        )
        .unwrap_err();
        assert!(e
            .message
            .contains("'track-sc0' ... 'track-sc2', 'ot-group'"));
        assert!(e.message.ends_with("in frontend 'x' (got 'zz')."));
    }
}
