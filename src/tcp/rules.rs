//! `tcp-request connection|session|content` rules: what each action does,
//! and content inspection, which waits for client bytes (up to `tcp-request
//! inspect-delay`) while a condition cannot be decided yet, as HAProxy's
//! three-valued ACLs say.
use crate::acl::{eval_cond_verdict, FetchCtx, Verdict};
use crate::model::{Acl, Cond};
use crate::sample::Piece;

/// What a rule does when its condition holds.
#[derive(Clone, Debug)]
pub enum TcpAction {
    /// Stop evaluating this rule set; the stream goes on.
    Accept,
    /// Close the connection.
    Reject,
    /// `expect-proxy layer4`: the connection starts with a PROXY header.
    ExpectProxy,
    /// `set-var(name) <expr>`: the sample, typed, when there is one.
    SetVar { name: String, expr: Piece },
    /// `set-var-fmt(name) <fmt>`: a string.
    SetVarFmt { name: String, fmt: Vec<Piece> },
    /// `unset-var(name)`.
    UnsetVar { name: String },
    /// `capture <sample> len N`: its only effect is on logs (warned about
    /// until logging exists).
    Capture,
}

#[derive(Clone, Debug)]
pub struct TcpRule {
    pub action: TcpAction,
    pub cond: Option<Cond>,
}

/// A proxy's tcp rules.
#[derive(Clone, Debug, Default)]
pub struct TcpRules {
    /// `tcp-request inspect-delay`, in milliseconds (0: decide at once).
    pub inspect_delay: u64,
    /// `tcp-request connection` and `tcp-request session` rules (the
    /// latter run right after, once a PROXY header was read).
    pub connection: Vec<TcpRule>,
    pub session: Vec<TcpRule>,
    pub content: Vec<TcpRule>,
    /// `tcp-response inspect-delay` and `tcp-response content` rules.
    pub response_inspect_delay: u64,
    pub response: Vec<TcpRule>,
}

/// Where evaluating a rule set got to.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Go on with the stream (an `accept`, or no rule matched).
    Continue,
    /// A matching `reject`: close the connection.
    Reject,
    /// A matching `expect-proxy layer4`, then the rules after it.
    ExpectProxy,
    /// Rule `next` could not decide with the bytes at hand: read more and
    /// evaluate again from it.
    NeedMore { next: usize },
}

/// Evaluates `rules` from rule `from`. With `ctx.partial` unset every
/// condition is decided on what is there.
pub fn evaluate(rules: &[TcpRule], from: usize, acls: &[Acl], ctx: &FetchCtx) -> Outcome {
    let mut expect_proxy = false;
    for (i, r) in rules.iter().enumerate().skip(from) {
        match eval_cond_verdict(r.cond.as_ref(), acls, ctx) {
            Verdict::Miss => return Outcome::NeedMore { next: i },
            Verdict::Fail => continue,
            Verdict::Pass => {}
        }
        match &r.action {
            TcpAction::Accept => break,
            TcpAction::Reject => return Outcome::Reject,
            TcpAction::ExpectProxy => expect_proxy = true,
            TcpAction::SetVar { name, expr } => {
                if let (
                    Some(vars),
                    Piece::Expr {
                        fetch, args, convs, ..
                    },
                ) = (ctx.vars, expr)
                {
                    let value = crate::acl::fetch(fetch, args, ctx)
                        .into_iter()
                        .next()
                        .and_then(|s| crate::sample::convert(s, convs));
                    if let Some(v) = value {
                        crate::vars::store(name, vars).set(name, v);
                    }
                }
            }
            TcpAction::SetVarFmt { name, fmt } => {
                if let Some(vars) = ctx.vars {
                    let text = crate::sample::eval_logformat(fmt, ctx);
                    crate::vars::store(name, vars)
                        .set(name, crate::acl::Sample::Str(text.into_bytes()));
                }
            }
            TcpAction::UnsetVar { name } => {
                if let Some(vars) = ctx.vars {
                    crate::vars::store(name, vars).unset(name);
                }
            }
            TcpAction::Capture => {}
        }
    }
    if expect_proxy {
        Outcome::ExpectProxy
    } else {
        Outcome::Continue
    }
}

/// Compiles one rule's action words (after `connection`/`content`); the
/// error names what this build cannot run yet.
pub fn action(words: &[String]) -> Result<TcpAction, String> {
    let first = words.first().map(String::as_str).unwrap_or("");
    let arg = words.get(1).map(String::as_str).unwrap_or("");
    // `set-var(txn.x)`: the name; conditions (`,ifexists`...) are not run yet.
    let var = |prefix: &str| {
        let inner = first
            .strip_prefix(prefix)?
            .strip_prefix('(')?
            .strip_suffix(')')?;
        (!inner.contains(',')).then(|| inner.to_string())
    };
    let unsupported = || Err(format!("the tcp action '{first}'"));
    match first {
        "accept" => Ok(TcpAction::Accept),
        "reject" => Ok(TcpAction::Reject),
        "expect-proxy" => Ok(TcpAction::ExpectProxy),
        "capture" => Ok(TcpAction::Capture),
        "" => Err("an empty tcp rule".into()),
        _ if first.starts_with("set-var-fmt(") => match var("set-var-fmt") {
            Some(name) => {
                let parts = cfg_parser::logformat::parse_logformat(arg)
                    .map_err(|e| format!("'{first}' ({e})"))?;
                let fmt = crate::sample::compile_logformat(&parts)?;
                Ok(TcpAction::SetVarFmt { name, fmt })
            }
            None => unsupported(),
        },
        _ if first.starts_with("set-var(") => match var("set-var") {
            Some(name) => {
                let e = cfg_parser::logformat::parse_sample_expr(arg)
                    .map_err(|e| format!("'{first}' ({e})"))?;
                let mut pieces =
                    crate::sample::compile_logformat(&[cfg_parser::logformat::Part::Sample(e)])?;
                let expr = pieces.pop().ok_or_else(|| format!("'{first}'"))?;
                Ok(TcpAction::SetVar { name, expr })
            }
            None => unsupported(),
        },
        _ if first.starts_with("unset-var(") => match var("unset-var") {
            Some(name) => Ok(TcpAction::UnsetVar { name }),
            None => unsupported(),
        },
        _ => unsupported(),
    }
}
