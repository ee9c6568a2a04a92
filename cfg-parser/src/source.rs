//! Where a piece of configuration came from: file name (as given) and line.
use std::fmt;
use std::sync::Arc;

/// A place in the configuration. HAProxy reports lines only, so do we; the
/// file name is kept exactly as the user typed it on the command line.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Span {
    pub file: Arc<str>,
    pub line: u32,
}

impl Span {
    pub fn new(file: &Arc<str>, line: u32) -> Span {
        Span {
            file: file.clone(),
            line,
        }
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

impl fmt::Debug for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}
