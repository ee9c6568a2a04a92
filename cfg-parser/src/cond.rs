//! `.if` conditions and `-cc`: `expr := term ("||" term)*`,
//! `term := factor ("&&" factor)*`, `factor := "!"* ("(" expr ")" | integer | predicate)`.
//!
//! Predicates: `defined(VAR)`, `feature(NAME)`, `streq(a,b)`, `strneq(a,b)`,
//! `version_atleast(V)`, `version_before(V)`. An integer is true when non-zero;
//! an empty expression is false.

/// What a predicate needs to know about the build and the environment.
pub trait CondContext {
    fn env_defined(&self, name: &str) -> bool;
    /// Names of the features this build supports (as in `-vv`'s Feature list).
    fn has_feature(&self, name: &str) -> bool;
    /// The HAProxy configuration-language version we implement.
    fn version(&self) -> &str;
}

/// A condition that does not parse: the message (without location) and the
/// 0-based byte offset in the expression where it went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CondError {
    pub message: String,
    pub offset: usize,
}

/// Evaluates `expr`.
pub fn eval(expr: &str, ctx: &dyn CondContext) -> Result<bool, CondError> {
    let mut p = Parser {
        s: expr.as_bytes(),
        expr,
        pos: 0,
        ctx,
    };
    p.skip_ws();
    if p.pos == p.s.len() {
        return Ok(false);
    }
    let v = p.expr()?;
    p.skip_ws();
    if p.pos < p.s.len() {
        return Err(CondError {
            message: format!(
                "unexpected character '{}' at the end of conditional expression '{expr}'",
                p.s[p.pos] as char
            ),
            offset: p.pos,
        });
    }
    Ok(v)
}

struct Parser<'a> {
    s: &'a [u8],
    expr: &'a str,
    pos: usize,
    ctx: &'a dyn CondContext,
}

const PREDICATES: &[(&str, usize)] = &[
    ("defined", 1),
    ("feature", 1),
    ("streq", 2),
    ("strneq", 2),
    ("version_atleast", 1),
    ("version_before", 1),
];

impl<'a> Parser<'a> {
    fn skip_ws(&mut self) {
        while self
            .s
            .get(self.pos)
            .is_some_and(|b| *b == b' ' || *b == b'\t')
        {
            self.pos += 1;
        }
    }

    fn eat(&mut self, tok: &str) -> bool {
        self.skip_ws();
        if self.s[self.pos..].starts_with(tok.as_bytes()) {
            self.pos += tok.len();
            true
        } else {
            false
        }
    }

    fn expr(&mut self) -> Result<bool, CondError> {
        let mut v = self.term()?;
        while self.eat("||") {
            let r = self.term()?;
            v = v || r;
        }
        Ok(v)
    }

    fn term(&mut self) -> Result<bool, CondError> {
        let mut v = self.factor()?;
        while self.eat("&&") {
            let r = self.factor()?;
            v = v && r;
        }
        Ok(v)
    }

    fn factor(&mut self) -> Result<bool, CondError> {
        self.skip_ws();
        if self.eat("!") {
            return Ok(!self.factor()?);
        }
        let start = self.pos;
        if self.eat("(") {
            let v = self.expr()?;
            if !self.eat(")") {
                return Err(CondError {
                    message: format!(
                        "expected ')' at the end of conditional expression '{}'",
                        self.expr
                    ),
                    offset: self.pos,
                });
            }
            return Ok(v);
        }
        let digits = self.s[start..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if digits > 0 {
            self.pos += digits;
            return Ok(self.expr[start..start + digits].bytes().any(|b| b != b'0'));
        }
        let name_len = self.s[start..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
            .count();
        let name = &self.expr[start..start + name_len];
        let Some(&(_, nargs)) = PREDICATES.iter().find(|(n, _)| *n == name) else {
            return Err(self.unparsable(start));
        };
        if self.s.get(start + name_len) != Some(&b'(') {
            return Err(self.unparsable(start));
        }
        self.pos = start + name_len + 1;
        let args = self.args(name, nargs)?;
        Ok(self.apply(name, &args))
    }

    fn unparsable(&self, at: usize) -> CondError {
        CondError {
            message: format!("unparsable conditional expression '{}'", &self.expr[at..]),
            offset: at,
        }
    }

    /// Reads comma-separated arguments up to `)`.
    fn args(&mut self, pred: &str, nargs: usize) -> Result<Vec<&'a str>, CondError> {
        let expr: &'a str = self.expr;
        let mut args = Vec::new();
        let mut start = self.pos;
        loop {
            match self.s.get(self.pos) {
                None => {
                    return Err(CondError {
                        message: format!(
                            "expected ')' in argument {} of predicate '{pred}' used in conditional expression",
                            args.len() + 1
                        ),
                        offset: self.pos,
                    })
                }
                Some(b',') | Some(b')') => {
                    args.push(&expr[start..self.pos]);
                    let close = self.s[self.pos] == b')';
                    self.pos += 1;
                    start = self.pos;
                    if close {
                        break;
                    }
                }
                Some(_) => self.pos += 1,
            }
        }
        if args.len() < nargs {
            return Err(CondError {
                message: format!(
                    "missing arguments (got {}/{nargs}), type 'string' expected in argument {} of predicate '{pred}' used in conditional expression",
                    args.len(),
                    args.len()
                ),
                offset: self.pos - 1,
            });
        }
        if args.len() > nargs {
            return Err(CondError {
                message: format!(
                    "end of arguments expected at position {}, but got '{}' in predicate '{pred}' used in conditional expression",
                    nargs + 1,
                    args[nargs]
                ),
                offset: self.pos - 1,
            });
        }
        Ok(args)
    }

    fn apply(&self, pred: &str, a: &[&str]) -> bool {
        match pred {
            "defined" => self.ctx.env_defined(a[0]),
            "feature" => self.ctx.has_feature(a[0]),
            "streq" => a[0] == a[1],
            "strneq" => a[0] != a[1],
            "version_atleast" => version_cmp(self.ctx.version(), a[0]) >= 0,
            "version_before" => version_cmp(self.ctx.version(), a[0]) < 0,
            _ => false,
        }
    }
}

/// Compares dotted versions numerically (`2.6` == `2.6.0`); a version that
/// does not parse compares as 0, which makes `version_atleast(abc)` true as
/// in HAProxy 2.6.
fn version_cmp(have: &str, want: &str) -> i32 {
    fn parts(v: &str) -> Vec<u64> {
        let v = v.split(['-', '+']).next().unwrap_or("");
        let mut out = Vec::new();
        for p in v.split('.') {
            match p.parse() {
                Ok(n) => out.push(n),
                Err(_) => return vec![0],
            }
        }
        out
    }
    let (h, w) = (parts(have), parts(want));
    for i in 0..h.len().max(w.len()) {
        let (x, y) = (
            h.get(i).copied().unwrap_or(0),
            w.get(i).copied().unwrap_or(0),
        );
        if x != y {
            return if x > y { 1 } else { -1 };
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Ctx;
    impl CondContext for Ctx {
        fn env_defined(&self, name: &str) -> bool {
            name == "HOME"
        }
        fn has_feature(&self, name: &str) -> bool {
            name == "LINUX_SPLICE"
        }
        fn version(&self) -> &str {
            "2.6.0"
        }
    }

    fn ev(s: &str) -> Result<bool, CondError> {
        eval(s, &Ctx)
    }

    #[test]
    fn literals_and_operators() {
        assert_eq!(ev(""), Ok(false));
        assert_eq!(ev("1"), Ok(true));
        assert_eq!(ev("0"), Ok(false));
        assert_eq!(ev("2"), Ok(true));
        assert_eq!(ev("1 || 0"), Ok(true));
        assert_eq!(ev("(0 || 1) && !0"), Ok(true));
        assert_eq!(ev("!(1)"), Ok(false));
        assert_eq!(ev("1 && 0 || 1"), Ok(true));
    }

    #[test]
    fn predicates() {
        assert_eq!(ev("defined(HOME)"), Ok(true));
        assert_eq!(ev("defined(HOME) && defined(FOO)"), Ok(false));
        assert_eq!(ev("feature(LINUX_SPLICE)"), Ok(true));
        assert_eq!(ev("feature(OPENSSL)"), Ok(false));
        assert_eq!(ev("streq(a,a)"), Ok(true));
        assert_eq!(ev("strneq(a,b)"), Ok(true));
        assert_eq!(ev("version_atleast(2.4)"), Ok(true));
        assert_eq!(ev("version_atleast(2.6)"), Ok(true));
        assert_eq!(ev("version_atleast(2.6.1)"), Ok(false));
        assert_eq!(ev("version_before(2.7)"), Ok(true));
        assert_eq!(ev("version_atleast(abc)"), Ok(true));
    }

    #[test]
    fn errors_match_haproxy_positions() {
        let e = ev("bogus(1)").unwrap_err();
        assert_eq!(
            (e.message.as_str(), e.offset),
            ("unparsable conditional expression 'bogus(1)'", 0)
        );
        let e = ev("defined(HOME").unwrap_err();
        assert_eq!(e.offset + 1, 13);
        assert!(e
            .message
            .starts_with("expected ')' in argument 1 of predicate 'defined'"));
        let e = ev("streq(a)").unwrap_err();
        assert_eq!(e.offset + 1, 8);
        assert_eq!(
            e.message,
            "missing arguments (got 1/2), type 'string' expected in argument 1 of predicate 'streq' used in conditional expression"
        );
        let e = ev("defined(HOME) defined(X)").unwrap_err();
        assert_eq!(e.offset + 1, 15);
        assert_eq!(
            e.message,
            "unexpected character 'd' at the end of conditional expression 'defined(HOME) defined(X)'"
        );
    }
}
