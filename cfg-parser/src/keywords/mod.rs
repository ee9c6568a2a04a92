//! Keyword tables: one static table per section, and the dispatcher that
//! finds a line's keyword, checks where it is allowed, and applies it.
//!
//! To add a keyword: one row in the section's table, one `apply` fn, one
//! golden test.
pub mod bind;
pub mod global;
pub mod log;
pub mod proxy;
pub mod rules;
pub mod sections;
pub mod server;

use crate::ast::{Directive, ProxyKind};
use crate::diag::{Diagnostic, Loc};

/// Which proxy sections allow a keyword (HAProxy's capability matrix).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Caps(u8);

impl Caps {
    pub const DEF: Caps = Caps(1);
    pub const FE: Caps = Caps(2);
    pub const BE: Caps = Caps(4);
    pub const ALL: Caps = Caps(7);
    pub const FE_DEF: Caps = Caps(3);
    pub const BE_DEF: Caps = Caps(5);
    /// frontend, backend, listen but not defaults.
    pub const FE_BE: Caps = Caps(6);

    pub const fn contains(self, other: Caps) -> bool {
        self.0 & other.0 == other.0
    }
}

/// How a keyword stands in this build.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Support {
    /// Parsed into the AST; the model and runtime take it from there.
    Parsed,
    /// A feature this build does not have: an ALERT naming it.
    Unsupported(&'static str),
    /// A setting that only tunes a feature this build does not have: a
    /// WARNING that it has no effect (the Fedora default config sets
    /// `ssl-default-bind-ciphers` without any TLS bind, and must pass).
    NoEffect(&'static str),
}

/// What is wrong when a keyword sits in a proxy that lacks its capability.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CapFail {
    /// `'balance' ignored because frontend 'fe' has no backend capability.`
    WarnIgnored,
    /// `'server' not allowed because frontend 'fe' has no backend capability.`
    Alert,
}

/// The state a keyword's `apply` sees: the line, and where to report.
pub struct Cx<'a> {
    pub d: &'a Directive,
    pub diags: &'a mut Vec<Diagnostic>,
}

impl Cx<'_> {
    pub fn word(&self, i: usize) -> &str {
        self.d.word(i)
    }
    pub fn nwords(&self) -> usize {
        self.d.words.len()
    }
    /// `parsing [f:l] : msg`
    pub fn alert(&self, msg: impl Into<String>) -> Diagnostic {
        Diagnostic::alert(Loc::Parsing(self.d.span.clone()), msg)
    }
    /// `[f:l] : msg` (server lines)
    pub fn alert_bracket(&self, msg: impl Into<String>) -> Diagnostic {
        Diagnostic::alert(Loc::Bracket(self.d.span.clone()), msg)
    }
    pub fn warn(&mut self, msg: impl Into<String>) {
        self.diags
            .push(Diagnostic::warning(Loc::Parsing(self.d.span.clone()), msg));
    }
    pub fn push(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }
    /// HAProxy's check for extra words after a keyword of one word taking
    /// `n` arguments: `'maxconn' cannot handle unexpected argument '20'.`
    pub fn max_args(&self, n: usize) -> Result<(), Diagnostic> {
        self.too_many(n + 1, self.word(0))
    }
    /// The same for a keyword named `name` whose arguments end before word `idx`.
    pub fn too_many(&self, idx: usize, name: &str) -> Result<(), Diagnostic> {
        match self.d.words.get(idx) {
            Some(w) => Err(self.alert(format!(
                "'{name}' cannot handle unexpected argument '{}'.",
                w.text
            ))),
            None => Ok(()),
        }
    }
}

/// A row of a section's keyword table.
pub struct Keyword<D: 'static> {
    pub name: &'static str,
    pub caps: Caps,
    pub cap_fail: CapFail,
    /// HAProxy still parses (and may reject) the arguments of some keywords
    /// it ignores for lack of capability (`http-check`, `tcp-check`).
    pub parse_when_ignored: bool,
    pub support: Support,
    pub apply: fn(&mut D, &mut Cx) -> Result<(), Diagnostic>,
}

impl<D> Keyword<D> {
    pub const fn new(
        name: &'static str,
        caps: Caps,
        apply: fn(&mut D, &mut Cx) -> Result<(), Diagnostic>,
    ) -> Self {
        Keyword {
            name,
            caps,
            cap_fail: CapFail::WarnIgnored,
            parse_when_ignored: false,
            support: Support::Parsed,
            apply,
        }
    }
    pub const fn alert_cap(mut self) -> Self {
        self.cap_fail = CapFail::Alert;
        self
    }
    pub const fn parse_when_ignored(mut self) -> Self {
        self.parse_when_ignored = true;
        self
    }
    pub const fn support(mut self, s: Support) -> Self {
        self.support = s;
        self
    }
}

/// Finds `name` in `table`.
pub fn lookup<'t, D>(table: &'t [Keyword<D>], name: &str) -> Option<&'t Keyword<D>> {
    table.iter().find(|k| k.name == name)
}

/// The "; did you mean 'x' maybe ?" tail for an unknown word, or "".
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    match crate::suggest::suggest(word, candidates) {
        Some(s) => format!("; did you mean '{s}' maybe ?"),
        None => String::new(),
    }
}

/// The capability a proxy kind gives.
pub fn kind_caps(kind: ProxyKind) -> Caps {
    match kind {
        ProxyKind::Defaults => Caps::DEF,
        ProxyKind::Frontend => Caps::FE,
        ProxyKind::Backend => Caps::BE,
        ProxyKind::Listen => Caps::FE_BE,
    }
}

/// Whether a keyword with `caps` may be used in a proxy of `kind`, and if
/// not, the capability it lacks (for the message).
pub fn missing_cap(caps: Caps, kind: ProxyKind) -> Option<&'static str> {
    match kind {
        ProxyKind::Defaults => (!caps.contains(Caps::DEF)).then_some("defaults"),
        ProxyKind::Frontend => (!caps.contains(Caps::FE)).then_some("backend"),
        ProxyKind::Backend => (!caps.contains(Caps::BE)).then_some("frontend"),
        ProxyKind::Listen => {
            (!(caps.contains(Caps::FE) || caps.contains(Caps::BE))).then_some("frontend")
        }
    }
}

/// `'kw' is not supported by this build yet (TLS).` / `... has no effect ...`
pub fn support_diag(support: Support, what: &str, d: &Directive) -> Option<Diagnostic> {
    match support {
        Support::Parsed => None,
        Support::Unsupported(feature) => Some(Diagnostic::alert(
            Loc::Parsing(d.span.clone()),
            format!("'{what}' is not supported by this build of haproxy-rs yet ({feature})."),
        )),
        Support::NoEffect(feature) => Some(Diagnostic::warning(
            Loc::Parsing(d.span.clone()),
            format!(
                "'{what}' has no effect: this build of haproxy-rs has no {feature} support yet."
            ),
        )),
    }
}
