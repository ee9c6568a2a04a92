//! `tcp-request connection|session|content` rules: what each action does,
//! and content inspection, which waits for client bytes (up to `tcp-request
//! inspect-delay`) while a condition cannot be decided yet, as HAProxy's
//! three-valued ACLs say.
use crate::acl::{eval_cond_verdict, FetchCtx, Verdict};
use crate::model::{Acl, Cond};

/// What a rule does when its condition holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TcpAction {
    /// Stop evaluating this rule set; the stream goes on.
    Accept,
    /// Close the connection.
    Reject,
    /// `expect-proxy layer4`: the connection starts with a PROXY header.
    ExpectProxy,
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
        match r.action {
            TcpAction::Accept => break,
            TcpAction::Reject => return Outcome::Reject,
            TcpAction::ExpectProxy => expect_proxy = true,
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
    match words.first().map(String::as_str) {
        Some("accept") => Ok(TcpAction::Accept),
        Some("reject") => Ok(TcpAction::Reject),
        Some("expect-proxy") => Ok(TcpAction::ExpectProxy),
        Some(other) => Err(format!("the tcp action '{other}'")),
        None => Err("an empty tcp rule".into()),
    }
}
