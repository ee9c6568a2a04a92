//! A proxy's logging, compiled: where its lines go (its own `log` lines and
//! `log global`), the line format (`option httplog [clf]`, `option tcplog`,
//! `log-format`, or the legacy "Connect from" line), the options that
//! filter lines, captures and the unique id.
use crate::log::{compile_target, Targets};
use crate::sample::{compile_logformat, Piece};
use cfg_parser::ast::{LogFormat, LogTarget, Mode, Proxy};
use cfg_parser::logformat::{parse_lf, LfContext};
use cfg_parser::source::Span;
use std::sync::Arc;

/// What a frontend logs and how.
#[derive(Debug, Default)]
pub struct ProxyLog {
    pub targets: Targets,
    /// None: without a format option, one line per accepted connection.
    pub format: Option<Vec<Piece>>,
    /// `error-log-format`: lines of streams that ended in error.
    pub error_format: Option<Vec<Piece>>,
    /// `log-format-sd`: the structured data of RFC 5424 lines.
    pub sd: Option<Vec<Piece>>,
    pub dontlognull: bool,
    pub dontlog_normal: bool,
    pub separate_errors: bool,
    pub logasap: bool,
    /// Capture slots, request and response (`%hr`, `%hs`), in the order
    /// they were declared.
    pub req_caps: Vec<Slot>,
    pub res_caps: Vec<Slot>,
    pub capture_cookie: Option<(String, usize)>,
    pub unique_id: Option<Vec<Piece>>,
    pub unique_id_header: Option<String>,
}

impl ProxyLog {
    /// Whether traffic lines are written at all.
    pub fn logs(&self) -> bool {
        self.format.is_some() && !self.targets.is_empty()
    }
}

/// A capture slot: a `capture request|response header` (the header's
/// last value) or one a rule fills (`declare capture`, `http-request
/// capture ... len N`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    pub header: Option<String>,
    pub len: usize,
    line: u32,
}

/// A proxy's capture slots in declaration order: request ones, then
/// response ones.
pub fn capture_slots(p: &Proxy) -> (Vec<Slot>, Vec<Slot>) {
    let (mut req, mut res) = (Vec::new(), Vec::new());
    let mut push = |response: bool, s: Slot| {
        if response {
            res.push(s)
        } else {
            req.push(s)
        }
    };
    for c in &p.captures {
        push(
            c.response,
            Slot {
                header: Some(c.name.clone()),
                len: c.len,
                line: c.line,
            },
        );
    }
    let len_after = |words: &[&str], i: usize| {
        words
            .get(i + 1)
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(0)
    };
    for d in &p.directives {
        let w: Vec<&str> = (0..6).map(|i| d.word(i)).collect();
        if w[0] == "declare" && w[1] == "capture" && w[3] == "len" {
            let len = len_after(&w, 3);
            push(
                w[2] == "response",
                Slot {
                    header: None,
                    len,
                    line: d.span.line,
                },
            );
        }
    }
    for r in &p.rules {
        let w: Vec<&str> = r.words.iter().map(String::as_str).collect();
        if w.first() == Some(&"capture") {
            if let Some(i) = w.iter().position(|x| *x == "len") {
                let slot = Slot {
                    header: None,
                    len: len_after(&w, i),
                    line: r.span.line,
                };
                push(
                    r.keyword != "http-request" && r.keyword != "tcp-request",
                    slot,
                );
            }
        }
    }
    req.sort_by_key(|s| s.line);
    res.sort_by_key(|s| s.line);
    (req, res)
}

/// The slot a `capture` rule at `line` fills: `id N`, or the one its
/// `len N` declared.
pub fn rule_slot(slots: &[Slot], words: &[String], line: u32) -> Option<(usize, usize)> {
    let at = |k: &str| {
        words
            .iter()
            .position(|w| w == k)
            .and_then(|i| words.get(i + 1))
    };
    if let Some(id) = at("id") {
        let i: usize = id.parse().ok()?;
        return slots.get(i).map(|s| (i, s.len));
    }
    let i = slots
        .iter()
        .position(|s| s.header.is_none() && s.line == line)?;
    Some((i, slots[i].len))
}

/// The global section's targets, compiled once and shared by `log global`.
pub fn global_targets(logs: &[LogTarget], unrunnable: &mut Vec<(Span, String)>) -> Targets {
    let mut out = Vec::new();
    for l in logs {
        if let LogTarget::Target { addr, words, span } = l {
            match compile_target(addr, words) {
                Ok(t) => out.push(Arc::new(t)),
                Err(what) => unrunnable.push((span.clone(), what)),
            }
        }
    }
    out
}

/// A proxy's targets: its own lines, `log global` standing for the global
/// ones; `no log` leaves none.
pub fn proxy_targets(p: &Proxy, global: &Targets, unrunnable: &mut Vec<(Span, String)>) -> Targets {
    if p.no_log {
        return Vec::new();
    }
    let mut out = Vec::new();
    for l in &p.logs {
        match l {
            LogTarget::Global(_) => out.extend(global.iter().cloned()),
            LogTarget::Target { addr, words, span } => match compile_target(addr, words) {
                Ok(t) => out.push(Arc::new(t)),
                Err(what) => unrunnable.push((span.clone(), what)),
            },
        }
    }
    out
}

/// Compiles a log-format string the config check already accepted.
fn format(
    text: &str,
    mode: Mode,
    span: &Span,
    unrunnable: &mut Vec<(Span, String)>,
) -> Option<Vec<Piece>> {
    let cx = LfContext {
        merge_spaces: true,
        tcp_only: mode != Mode::Http,
        cols: &[],
    };
    // (The config check already refused fetches the stage cannot give.)
    let compiled = parse_lf(text, cx).and_then(|parts| compile_logformat(&parts));
    match compiled {
        Ok(p) => Some(p),
        Err(what) => {
            unrunnable.push((span.clone(), what));
            None
        }
    }
}

pub fn proxy_log(p: &Proxy, global: &Targets, unrunnable: &mut Vec<(Span, String)>) -> ProxyLog {
    use crate::log::format::{CLF_LOG, HTTP_LOG, TCP_LOG};
    let mode = p.effective_mode();
    let http = mode == Mode::Http;
    let line = p.log_format.as_ref().and_then(|(f, span)| {
        let text = match f {
            LogFormat::Custom(t) => t.as_str(),
            // `option httplog` outside HTTP mode falls back to tcplog.
            LogFormat::Http if http => HTTP_LOG,
            LogFormat::HttpClf if http => CLF_LOG,
            _ => TCP_LOG,
        };
        format(text, mode, span, unrunnable)
    });
    ProxyLog {
        targets: proxy_targets(p, global, unrunnable),
        format: line,
        error_format: p
            .error_log_format
            .as_ref()
            .and_then(|(t, span)| format(t, mode, span, unrunnable)),
        sd: p.log_format_sd.as_ref().and_then(|t| {
            let span = p.log_format.as_ref().map_or(&p.span, |(_, s)| s);
            format(t, mode, span, unrunnable)
        }),
        dontlognull: p.option("dontlognull"),
        dontlog_normal: p.option("dontlog-normal"),
        separate_errors: p.option("log-separate-errors"),
        logasap: p.option("logasap"),
        req_caps: capture_slots(p).0,
        res_caps: capture_slots(p).1,
        capture_cookie: p.capture_cookie.clone(),
        unique_id: p
            .unique_id_format
            .as_ref()
            .and_then(|(t, span)| format(t, mode, span, unrunnable)),
        unique_id_header: p.unique_id_header.clone(),
    }
}
