//! Writes config diagnostics to stderr as HAProxy does: level, pid,
//! `config :` context, and the two NOTICE banner lines once, just before the
//! first WARNING or ALERT.
use crate::cli::Options;
use cfg_parser::{Diagnostic, Loc, Severity};
use std::io::Write;

pub struct Reporter {
    quiet: bool,
    banner_done: bool,
    pid: u32,
    pub warnings: usize,
}

impl Reporter {
    pub fn new(opts: &Options) -> Reporter {
        Reporter {
            quiet: opts.quiet,
            banner_done: false,
            pid: std::process::id(),
            warnings: 0,
        }
    }

    fn banner(&mut self, err: &mut impl Write) {
        if self.banner_done {
            return;
        }
        self.banner_done = true;
        let exe = std::env::current_exe()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let _ = writeln!(
            err,
            "{:<10} ({}) : haproxy version is {}",
            "[NOTICE]",
            self.pid,
            crate::version::VERSION
        );
        let _ = writeln!(
            err,
            "{:<10} ({}) : path to executable is {exe}",
            "[NOTICE]", self.pid
        );
    }

    /// Prints one config diagnostic (in quiet mode, nothing).
    pub fn emit(&mut self, d: &Diagnostic) {
        if d.severity == Severity::Warning {
            self.warnings += 1;
        }
        if self.quiet {
            return;
        }
        let mut err = std::io::stderr().lock();
        if d.severity >= Severity::Warning {
            self.banner(&mut err);
        }
        let _ = writeln!(err, "{}", d.render(self.pid));
    }

    pub fn emit_all<'a>(&mut self, ds: impl IntoIterator<Item = &'a Diagnostic>) {
        for d in ds {
            self.emit(d);
        }
    }

    /// A `config :` ALERT without location.
    pub fn alert(&mut self, msg: &str) {
        self.emit(&Diagnostic::alert(Loc::None, msg));
    }

    /// A NOTICE of the process (`New worker (N) forked`); no banner.
    pub fn notice_plain(&mut self, msg: &str) {
        if self.quiet {
            return;
        }
        let _ = writeln!(
            std::io::stderr().lock(),
            "{:<10} ({}) : {msg}",
            "[NOTICE]",
            self.pid
        );
    }

    /// A WARNING of the process (not of the configuration).
    pub fn warning_plain(&mut self, msg: &str) {
        if self.quiet {
            return;
        }
        let mut err = std::io::stderr().lock();
        self.banner(&mut err);
        let _ = writeln!(err, "{:<10} ({}) : {msg}", "[WARNING]", self.pid);
    }

    /// An ALERT without the `config :` context (start-up, not parsing).
    pub fn alert_plain(&mut self, msg: &str) {
        if self.quiet {
            return;
        }
        let mut err = std::io::stderr().lock();
        self.banner(&mut err);
        let _ = writeln!(err, "{:<10} ({}) : {msg}", "[ALERT]", self.pid);
    }
}
