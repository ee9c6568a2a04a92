//! cfg_parser: haproxy.cfg text -> checked AST. No sockets, no processes.
//!
//! Flow: `reader` (lines, `.if` blocks) -> `lexer` (words) -> `builder`
//! (sections) -> `keywords` (one table per section) -> `ast`; then `check`
//! resolves names and runs the cross-section checks.
pub mod acl;
pub mod addr;
pub mod ast;
pub mod builder;
pub mod check;
pub mod cond;
pub mod diag;
pub mod errorfile;
pub mod keywords;
pub mod lexer;
pub mod logformat;
pub mod reader;
pub mod resolve;
pub mod samples;
pub mod source;
pub mod suggest;
pub mod values;

pub use diag::{Diagnostic, Loc, Outcome, Severity};
pub use reader::{parse_files, ParseOptions, Parsed, SourceFile};
