//! Reads configuration files line by line, as HAProxy 2.6 does: lexing,
//! `.if`/`.elif`/`.else`/`.endif` blocks, `.notice`/`.warning`/`.alert`/`.diag`,
//! then hands each remaining line to the section builder.
use crate::ast::{Config, Directive};
use crate::builder::Builder;
use crate::cond::{self, CondContext};
use crate::diag::{Diagnostic, Loc, Outcome};
use crate::lexer::{lex_line, Env, ProcessEnv, Word};
use crate::source::Span;
use std::sync::Arc;

/// A configuration file's name (as given) and content.
pub struct SourceFile {
    pub name: String,
    pub data: Vec<u8>,
}

/// What parsing needs from the command line.
pub struct ParseOptions<'a> {
    /// Answers `feature()` and `version_*()` in `.if` conditions.
    pub cond: &'a dyn CondContext,
    /// `-dD`: show `.diag` messages.
    pub diag_mode: bool,
}

/// The result of reading every file: the AST and the messages in the order
/// HAProxy prints them.
pub struct Parsed {
    pub config: Config,
    pub diags: Vec<Diagnostic>,
}

/// The process environment plus the reader's built-ins `.LINE`, `.FILE`
/// and `.SECTION`.
struct LineEnv<'a> {
    line: u32,
    file: &'a str,
    section: &'a str,
}

impl Env for LineEnv<'_> {
    fn get(&self, name: &str) -> Option<String> {
        match name {
            ".LINE" => Some(self.line.to_string()),
            ".FILE" => Some(self.file.to_string()),
            ".SECTION" => Some(self.section.to_string()),
            _ => ProcessEnv.get(name),
        }
    }
}

/// One open `.if` block.
struct Frame {
    /// Lines in the branch being read are used.
    current: bool,
    /// A branch of this block was already taken (or the block is inside a
    /// skipped one), so later branches are skipped.
    taken: bool,
    else_seen: bool,
}

/// Parses `files` in order as one configuration.
pub fn parse_files(files: &[SourceFile], opts: &ParseOptions) -> Parsed {
    let mut b = Builder::default();
    for f in files {
        let before = b.diags.len();
        read_file(&mut b, f, opts);
        let failed = b.diags[before..].iter().any(Diagnostic::is_fatal);
        let aborted = b.diags[before..]
            .iter()
            .any(|d| d.outcome == Outcome::Abort);
        if failed {
            b.diags.push(Diagnostic::alert(
                Loc::None,
                format!("Error(s) found in configuration file : {}", f.name),
            ));
        }
        if aborted {
            break;
        }
    }
    let config = b.finish();
    Parsed {
        config,
        diags: b.diags,
    }
}

/// After this many failed lines HAProxy stops reading a file.
const MAX_FATAL: u32 = 50;

fn read_file(b: &mut Builder, f: &SourceFile, opts: &ParseOptions) {
    let file: Arc<str> = Arc::from(f.name.as_str());
    b.start_file();
    let mut frames: Vec<Frame> = Vec::new();
    let data = &f.data[..];
    let mut lines: Vec<&[u8]> = data.split(|b| *b == b'\n').collect();
    let missing_lf = !data.is_empty() && !data.ends_with(b"\n");
    if !missing_lf {
        lines.pop(); // the empty piece after the final LF
    }
    let nlines = lines.len();
    // Lines that failed (2.6 counts one per line whatever the number of
    // messages, and not `.notice` & co's errors, but two when a refused
    // `no`/`default` prefix comes before a failing keyword); 2.6 gives up on the file
    // when reaching the next line after the 50th, whatever that line holds,
    // and goes on with the next file.
    let mut fatal = 0;
    // The last line read: 2.6 reports an open `.if` there.
    let mut lineno = 0;
    for (i, raw) in lines.into_iter().enumerate() {
        lineno = i as u32 + 1;
        let span = Span::new(&file, lineno);
        if fatal >= MAX_FATAL {
            b.diags.push(Diagnostic::alert(
                Loc::ParsingTight(span),
                format!("too many fatal errors ({fatal}), stopping now."),
            ));
            break; // an open `.if` is still reported
        }
        let before = b.diags.len();
        let mut counted = true;
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        let text = String::from_utf8_lossy(line);
        let section = b.section_name();
        let env = LineEnv {
            line: lineno,
            file: &file,
            section: &section,
        };
        let flow = match lex_line(line, &env) {
            Err(e) => {
                b.diags.push(Diagnostic::alert(
                    Loc::ParsingTight(span.clone()),
                    e.render(&text),
                ));
                Flow::Next
            }
            Ok(words) if words.is_empty() => Flow::Next,
            Ok(words) => {
                let active = frames.iter().all(|f| f.current);
                if words[0].text.starts_with('.') {
                    // 2.6 does not count these (it stops at an unknown one).
                    counted = false;
                    directive(b, &mut frames, words, &text, span.clone(), active, opts)
                } else {
                    if active {
                        b.line(Directive {
                            words,
                            span: span.clone(),
                        });
                    }
                    match b.diags.last() {
                        Some(d) if d.outcome == Outcome::Abort => Flow::Abort,
                        _ => Flow::Next,
                    }
                }
            }
        };
        if flow == Flow::Abort {
            return;
        }
        if counted && b.diags[before..].iter().any(Diagnostic::is_fatal) {
            fatal += 1;
        }
        // A refused `no`/`default` prefix counts on its own.
        fatal += std::mem::take(&mut b.extra_fatal);
        if missing_lf && i + 1 == nlines {
            b.diags.push(Diagnostic::alert(
                Loc::ParsingTight(span),
                format!(
                    "Missing LF on last line, file might have been truncated at position {}.",
                    line.len() + 1
                ),
            ));
        }
        if flow == Flow::Break {
            break;
        }
    }
    if !frames.is_empty() {
        b.diags.push(Diagnostic::abort(
            Loc::ParsingTight(Span::new(&file, lineno)),
            "non-terminated '.if' block.",
        ));
    }
}

/// What the reader does after a line.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Flow {
    Next,
    /// Stop reading this file, still reporting an open `.if` block, and go
    /// on with the next file.
    Break,
    /// Stop reading: nothing after the current file is read.
    Abort,
}

/// Handles a line starting with `.`.
fn directive(
    b: &mut Builder,
    frames: &mut Vec<Frame>,
    words: Vec<Word>,
    text: &str,
    span: Span,
    active: bool,
    opts: &ParseOptions,
) -> Flow {
    let name = words[0].text.as_str();
    let tight = |msg: String| Diagnostic::abort(Loc::ParsingTight(span.clone()), msg);
    match name {
        ".if" | ".elif" => {
            if name == ".elif" {
                match frames.last() {
                    None => {
                        b.diags
                            .push(tight("lone '.elif' with no matching '.if'.".into()));
                        return Flow::Abort;
                    }
                    Some(f) if f.else_seen => {
                        b.diags
                            .push(tight("'.elif' after '.else' is not permitted.".into()));
                        return Flow::Abort;
                    }
                    _ => {}
                }
            }
            let enclosing_active = if name == ".if" {
                active
            } else {
                frames[..frames.len() - 1].iter().all(|f| f.current)
            };
            let already_taken = name == ".elif" && frames.last().is_some_and(|f| f.taken);
            let value = if enclosing_active && !already_taken {
                let expr: Vec<&str> = words[1..].iter().map(|w| w.text.as_str()).collect();
                let expr = expr.join(" ");
                match cond::eval(&expr, opts.cond) {
                    Ok(v) => v,
                    Err(e) => {
                        let lead = text.len() - text.trim_start_matches([' ', '\t']).len();
                        let col = words.get(1).map_or(text.len(), |w| w.col as usize);
                        let caret = (col + e.offset).saturating_sub(lead);
                        b.diags.push(tight(format!(
                            "{} in '{name}' at position {}:\n  {}\n  {}^",
                            e.message,
                            e.offset + 1,
                            &text[lead..],
                            " ".repeat(caret)
                        )));
                        return Flow::Abort;
                    }
                }
            } else {
                false
            };
            if name == ".if" {
                frames.push(Frame {
                    current: value,
                    taken: value || !enclosing_active,
                    else_seen: false,
                });
            } else if let Some(f) = frames.last_mut() {
                f.current = value;
                f.taken |= value;
            }
            Flow::Next
        }
        ".else" => match frames.last_mut() {
            None => {
                b.diags
                    .push(tight("lone '.else' with no matching '.if'.".into()));
                Flow::Abort
            }
            Some(f) if f.else_seen => {
                b.diags
                    .push(tight("'.else' after '.else' is not permitted.".into()));
                Flow::Abort
            }
            Some(f) => {
                f.current = !f.taken;
                f.taken = true;
                f.else_seen = true;
                Flow::Next
            }
        },
        ".endif" => {
            if frames.pop().is_none() {
                b.diags
                    .push(tight("lone '.endif' with no matching '.if'.".into()));
                return Flow::Abort;
            }
            Flow::Next
        }
        _ if !active => Flow::Next,
        ".notice" | ".warning" | ".alert" | ".diag" => {
            if let Some(extra) = words.get(2) {
                b.diags.push(Diagnostic::alert(
                    Loc::ParsingTight(span),
                    format!(
                        "Unexpected argument '{}' for '{name}'. Use quotes if the message should contain spaces.",
                        extra.text
                    ),
                ));
                return Flow::Next;
            }
            let msg = format!("'{}'.", words.get(1).map_or("", |w| w.text.as_str()));
            let loc = Loc::ParsingTight(span);
            match name {
                ".notice" => b.diags.push(Diagnostic::notice(loc, msg)),
                ".warning" => b.diags.push(Diagnostic::warning(loc, msg)),
                ".diag" if opts.diag_mode => b.diags.push(Diagnostic::diag(loc, msg)),
                ".diag" => {}
                _ => {
                    b.diags.push(Diagnostic::abort(loc, msg));
                    return Flow::Abort;
                }
            }
            Flow::Next
        }
        _ => {
            b.diags.push(Diagnostic::alert(
                Loc::ParsingTight(span),
                format!("unknown directive '{name}'."),
            ));
            // 2.6 stops reading the file, but goes on with the next one.
            Flow::Break
        }
    }
}
