//! Diagnostics: what went wrong, where, and how HAProxy words the location.
use crate::source::Span;

/// Message level, printed as HAProxy's bracketed prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Diag,
    Notice,
    Warning,
    Alert,
}

impl Severity {
    pub fn tag(self) -> &'static str {
        match self {
            Severity::Diag => "[DIAG]",
            Severity::Notice => "[NOTICE]",
            Severity::Warning => "[WARNING]",
            Severity::Alert => "[ALERT]",
        }
    }
}

/// HAProxy prints the location of a config message in several shapes; which
/// one depends on the code that found the problem, and scripts match on them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Loc {
    /// No location: `msg` (post-parse checks).
    None,
    /// `parsing [f:l] : msg` (most keyword errors).
    Parsing(Span),
    /// `parsing [f:l]: msg` (lexer, `.if`, `.notice`, out of section).
    ParsingTight(Span),
    /// `Parsing [f:l]: msg` (duplicate proxy names).
    ParsingCap(Span),
    /// `[f:l] : msg` (server lines).
    Bracket(Span),
    /// `[f:l] : parsing [f:l] : msg` (capability errors of some keywords).
    BracketParsing(Span),
}

impl Loc {
    pub fn span(&self) -> Option<&Span> {
        match self {
            Loc::None => None,
            Loc::Parsing(s)
            | Loc::ParsingTight(s)
            | Loc::ParsingCap(s)
            | Loc::Bracket(s)
            | Loc::BracketParsing(s) => Some(s),
        }
    }
}

/// How serious a message is for the outcome, as HAProxy's ERR_* bits.
/// An ALERT is not always fatal (`'maxconn' already specified. Continuing.`),
/// and an abort stops reading at the end of the current file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Informational: changes nothing.
    Info,
    /// Counts as a warning (`Warnings were found.`, fatal with `-dW`).
    Warn,
    /// An alert that does not fail the configuration.
    NonFatal,
    /// Fails the configuration; parsing continues to show more errors.
    Fatal,
    /// Fails the configuration; nothing after the current file is read.
    Abort,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub outcome: Outcome,
    pub loc: Loc,
    /// The message text; may hold several lines (continuations are written
    /// with their own prefix, e.g. `   | `).
    pub message: String,
}

impl Diagnostic {
    pub fn alert(loc: Loc, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Alert,
            outcome: Outcome::Fatal,
            loc,
            message: message.into(),
        }
    }
    pub fn abort(loc: Loc, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Alert,
            outcome: Outcome::Abort,
            loc,
            message: message.into(),
        }
    }
    /// An ALERT that HAProxy prints but does not count as an error.
    pub fn alert_nonfatal(loc: Loc, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Alert,
            outcome: Outcome::NonFatal,
            loc,
            message: message.into(),
        }
    }
    pub fn warning(loc: Loc, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            outcome: Outcome::Warn,
            loc,
            message: message.into(),
        }
    }
    pub fn notice(loc: Loc, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Notice,
            outcome: Outcome::Info,
            loc,
            message: message.into(),
        }
    }
    pub fn diag(loc: Loc, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Diag,
            outcome: Outcome::Info,
            loc,
            message: message.into(),
        }
    }

    pub fn is_fatal(&self) -> bool {
        matches!(self.outcome, Outcome::Fatal | Outcome::Abort)
    }

    /// The text after `config : `, location included.
    pub fn body(&self) -> String {
        match &self.loc {
            Loc::None => self.message.clone(),
            Loc::Parsing(s) => format!("parsing [{s}] : {}", self.message),
            Loc::ParsingTight(s) => format!("parsing [{s}]: {}", self.message),
            Loc::ParsingCap(s) => format!("Parsing [{s}]: {}", self.message),
            Loc::Bracket(s) => format!("[{s}] : {}", self.message),
            Loc::BracketParsing(s) => format!("[{s}] : parsing [{s}] : {}", self.message),
        }
    }

    /// The full line(s) as HAProxy writes them to stderr for a config message.
    pub fn render(&self, pid: u32) -> String {
        format!(
            "{:<10} ({pid}) : config : {}",
            self.severity.tag(),
            self.body()
        )
    }
}

/// The diagnostics of a run, in the order HAProxy would print them.
#[derive(Debug, Default, Clone)]
pub struct Diagnostics {
    pub list: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn push(&mut self, d: Diagnostic) {
        self.list.push(d);
    }
    pub fn has_fatal(&self) -> bool {
        self.list.iter().any(Diagnostic::is_fatal)
    }
    pub fn has_abort(&self) -> bool {
        self.list.iter().any(|d| d.outcome == Outcome::Abort)
    }
    pub fn has_warnings(&self) -> bool {
        self.list.iter().any(|d| d.outcome == Outcome::Warn)
    }
}
