//! One config line -> words, with HAProxy 2.6's quoting, escaping and
//! environment expansion rules.
//!
//! The rules (observed on the real 2.6):
//! - spaces and tabs separate words; `#` outside quotes ends the line, even
//!   in the middle of a word;
//! - `"..."` and `'...'` join into the word around them;
//! - outside single quotes `\` escapes ` `, `\`, `#`, `"`, `'`, and gives
//!   `\t` `\n` `\r` `\xHH`; inside double quotes `\$` is a literal `$`; any
//!   other escape is kept as written;
//! - environment variables are expanded only inside double quotes:
//!   `$NAME`, `${NAME}`, `${NAME-default}`, `${NAME[*]}` (split into words);
//!   an unset variable is empty.

/// A word of a config line after quotes, escapes and expansion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Word {
    pub text: String,
    /// 0-based byte offset of the word's first character in the line.
    pub col: u32,
}

impl Word {
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LexErrorKind {
    UnmatchedQuote,
    UnmatchedBrace,
    ForbiddenFirstChar,
}

/// A line that cannot be split into words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LexError {
    pub kind: LexErrorKind,
    /// 0-based byte offset of the offending character in the raw line.
    pub pos: usize,
    /// How much of the raw line HAProxy echoes after the message.
    pub shown_len: usize,
}

impl LexError {
    /// HAProxy's message: text, position (1-based), the line without its
    /// indentation, and a caret under the culprit.
    pub fn render(&self, line: &str) -> String {
        let what = match self.kind {
            LexErrorKind::UnmatchedQuote => "unmatched quote",
            LexErrorKind::UnmatchedBrace => "unmatched brace in environment variable name",
            LexErrorKind::ForbiddenFirstChar => "forbidden first char in environment variable name",
        };
        let bytes = line.as_bytes();
        let lead = bytes
            .iter()
            .take_while(|b| **b == b' ' || **b == b'\t')
            .count();
        let end = self.shown_len.clamp(lead, bytes.len());
        let shown = String::from_utf8_lossy(&bytes[lead..end]);
        let caret = self.pos.saturating_sub(lead);
        format!(
            "{what} at position {}:\n  {shown}\n  {}^",
            self.pos + 1,
            " ".repeat(caret)
        )
    }
}

/// Where variables come from while a line is lexed. `.LINE`, `.FILE` and
/// `.SECTION` are answered by the reader, the rest by the process environment.
pub trait Env {
    fn get(&self, name: &str) -> Option<String>;
}

/// The process environment, as seen at parse time.
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var_os(name).map(|v| v.to_string_lossy().into_owned())
    }
}

fn is_space(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

fn hex_val(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// Splits `line` (no trailing newline) into words.
pub fn lex_line(line: &[u8], env: &dyn Env) -> Result<Vec<Word>, LexError> {
    let mut lx = Lexer {
        words: Vec::new(),
        cur: Vec::new(),
        in_word: false,
        start: 0,
    };
    let mut i = 0;
    let mut squote: Option<usize> = None;
    let mut dquote: Option<usize> = None;
    while i < line.len() {
        let c = line[i];
        if squote.is_some() {
            if c == b'\'' {
                squote = None;
            } else {
                lx.cur.push(c);
            }
            i += 1;
            continue;
        }
        match c {
            b'\'' if dquote.is_none() => {
                lx.begin(i);
                squote = Some(i);
                i += 1;
            }
            b'"' => {
                lx.begin(i);
                dquote = if dquote.is_some() { None } else { Some(i) };
                i += 1;
            }
            b'#' if dquote.is_none() => break,
            c if is_space(c) && dquote.is_none() => {
                lx.end();
                i += 1;
            }
            b'\\' => {
                lx.begin(i);
                i += lx.escape(&line[i..], dquote.is_some());
            }
            b'$' if dquote.is_some() => {
                lx.begin(i);
                i = lx.expand(line, i, env)?;
            }
            _ => {
                lx.begin(i);
                lx.cur.push(c);
                i += 1;
            }
        }
    }
    if let Some(q) = squote.or(dquote) {
        return Err(LexError {
            kind: LexErrorKind::UnmatchedQuote,
            pos: q,
            shown_len: line.len(),
        });
    }
    lx.end();
    Ok(lx.words)
}

struct Lexer {
    words: Vec<Word>,
    cur: Vec<u8>,
    in_word: bool,
    start: usize,
}

impl Lexer {
    fn begin(&mut self, at: usize) {
        if !self.in_word {
            self.in_word = true;
            self.start = at;
        }
    }

    fn end(&mut self) {
        if self.in_word {
            let text = match String::from_utf8(std::mem::take(&mut self.cur)) {
                Ok(s) => s,
                Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
            };
            self.words.push(Word {
                text,
                col: self.start as u32,
            });
            self.in_word = false;
        }
    }

    /// Handles the escape at `rest[0] == '\\'`; returns the bytes consumed.
    fn escape(&mut self, rest: &[u8], in_dquote: bool) -> usize {
        let Some(&n) = rest.get(1) else {
            self.cur.push(b'\\');
            return 1;
        };
        match n {
            b' ' | b'\\' | b'#' | b'"' | b'\'' => self.cur.push(n),
            b'$' if in_dquote => self.cur.push(b'$'),
            b't' => self.cur.push(b'\t'),
            b'n' => self.cur.push(b'\n'),
            b'r' => self.cur.push(b'\r'),
            b'x' => {
                if let (Some(h), Some(l)) = (
                    rest.get(2).and_then(|b| hex_val(*b)),
                    rest.get(3).and_then(|b| hex_val(*b)),
                ) {
                    self.cur.push(h << 4 | l);
                    return 4;
                }
                self.cur.extend_from_slice(b"\\x");
            }
            _ => {
                self.cur.push(b'\\');
                self.cur.push(n);
            }
        }
        2
    }

    /// Expands the variable at `line[at] == '$'`; returns where lexing resumes.
    fn expand(&mut self, line: &[u8], at: usize, env: &dyn Env) -> Result<usize, LexError> {
        let braced = line.get(at + 1) == Some(&b'{');
        let name_start = if braced { at + 2 } else { at + 1 };
        let mut j = name_start;
        let builtin = braced
            && [&b".LINE"[..], b".FILE", b".SECTION"].iter().any(|b| {
                line[name_start..].starts_with(b) && line.get(name_start + b.len()) == Some(&b'}')
            });
        let first_ok = line
            .get(j)
            .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_')
            || builtin;
        if !first_ok {
            let close = if braced {
                line[at..].iter().position(|b| *b == b'}').map(|p| at + p)
            } else {
                None
            };
            return Err(LexError {
                kind: LexErrorKind::ForbiddenFirstChar,
                pos: j,
                shown_len: close.unwrap_or(line.len()),
            });
        }
        if builtin {
            j += 1;
        }
        while line
            .get(j)
            .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
        {
            j += 1;
        }
        let name = String::from_utf8_lossy(&line[name_start..j]).into_owned();
        let mut split = false;
        let mut default: Option<&[u8]> = None;
        if braced {
            let unmatched = LexError {
                kind: LexErrorKind::UnmatchedBrace,
                pos: at + 1,
                shown_len: line.len(),
            };
            if line[j..].starts_with(b"[*]") {
                split = true;
                j += 3;
            } else if line.get(j) == Some(&b'-') {
                let close = line[j..]
                    .iter()
                    .position(|b| *b == b'}')
                    .ok_or(unmatched.clone())?;
                default = Some(&line[j + 1..j + close]);
                j += close;
            }
            if line.get(j) != Some(&b'}') {
                return Err(unmatched);
            }
            j += 1;
        }
        let value = match env.get(&name) {
            Some(v) => v.into_bytes(),
            None => default.map(<[u8]>::to_vec).unwrap_or_default(),
        };
        if split {
            let mut parts = value
                .split(|b| is_space(*b))
                .filter(|p| !p.is_empty())
                .peekable();
            while let Some(p) = parts.next() {
                self.begin(at);
                self.cur.extend_from_slice(p);
                if parts.peek().is_some() {
                    self.end();
                }
            }
        } else {
            self.cur.extend_from_slice(&value);
        }
        Ok(j)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct MapEnv(HashMap<&'static str, &'static str>);
    impl Env for MapEnv {
        fn get(&self, name: &str) -> Option<String> {
            self.0.get(name).map(|s| s.to_string())
        }
    }

    fn env() -> MapEnv {
        MapEnv(HashMap::from([
            ("HOME", "/root"),
            ("MULTI", "x y"),
            ("FOO", "bar"),
        ]))
    }

    fn words(line: &str) -> Vec<String> {
        lex_line(line.as_bytes(), &env())
            .unwrap()
            .into_iter()
            .map(|w| w.text)
            .collect()
    }

    #[test]
    fn splits_on_blanks_and_ignores_indent() {
        assert_eq!(
            words("  server  s1\t127.0.0.1:80 check"),
            ["server", "s1", "127.0.0.1:80", "check"]
        );
    }

    #[test]
    fn quotes_join_the_surrounding_word() {
        assert_eq!(words(r#"a"b c"d"#), ["ab cd"]);
        assert_eq!(words("a'b c'd"), ["ab cd"]);
        assert_eq!(words(r#"x "" y"#), ["x", "", "y"]);
    }

    #[test]
    fn comment_ends_line_even_inside_word() {
        assert_eq!(words("hash#inword"), ["hash"]);
        assert_eq!(words("trailing # comment"), ["trailing"]);
        assert_eq!(words(r##""# not" '#x'"##), ["# not", "#x"]);
        assert!(words("   # only a comment").is_empty());
    }

    #[test]
    fn escapes_outside_quotes() {
        assert_eq!(words(r"escaped\#hash"), ["escaped#hash"]);
        assert_eq!(words(r"esc\ space"), ["esc space"]);
        assert_eq!(words(r"esc\\backslash"), [r"esc\backslash"]);
        assert_eq!(words(r#"esc\"dq esc\'sq"#), ["esc\"dq", "esc'sq"]);
        assert_eq!(words(r"esc\x41hex"), ["escAhex"]);
        assert_eq!(words(r"a\tb\nc\rd"), ["a\tb\nc\rd"]);
    }

    #[test]
    fn escapes_inside_double_quotes() {
        assert_eq!(
            words(r#""in dq: \" \\ \# \' \x41 \t|\n| \$ \z""#),
            ["in dq: \" \\ # ' A \t|\n| $ \\z"]
        );
    }

    #[test]
    fn single_quotes_are_literal() {
        assert_eq!(
            words(r#"'in sq: \" \\ \# \x41 \t ${HOME} "dq"'"#),
            [r#"in sq: \" \\ \# \x41 \t ${HOME} "dq""#]
        );
    }

    #[test]
    fn env_expands_only_in_double_quotes() {
        assert_eq!(words("env=${HOME}"), ["env=${HOME}"]);
        assert_eq!(words(r#""env=${HOME}""#), ["env=/root"]);
        assert_eq!(words(r#""env=$HOME""#), ["env=/root"]);
        assert_eq!(words("'env=${HOME}'"), ["env=${HOME}"]);
        assert_eq!(words(r#""[${NOPE}]""#), ["[]"]);
        assert_eq!(words(r#""[${NOPE-dflt}]""#), ["[dflt]"]);
        assert_eq!(words(r#""[${MULTI}]""#), ["[x y]"]);
        assert_eq!(words(r#""[${MULTI[*]}]""#), ["[x", "y]"]);
    }

    #[test]
    fn env_errors_point_at_the_culprit() {
        let e = lex_line(br#".notice "d=[${NOPE:-dflt}]""#, &env()).unwrap_err();
        assert_eq!(e.kind, LexErrorKind::UnmatchedBrace);
        assert_eq!(e.pos, 13);
        let e = lex_line(br#".notice "only dollar $""#, &env()).unwrap_err();
        assert_eq!(e.kind, LexErrorKind::ForbiddenFirstChar);
        assert_eq!(e.pos + 1, 23);
        let line = r#".notice "pid=${.PID} line""#;
        let e = lex_line(line.as_bytes(), &env()).unwrap_err();
        assert_eq!(
            e.render(line),
            "forbidden first char in environment variable name at position 16:\n  .notice \"pid=${.PID\n                 ^"
        );
    }

    #[test]
    fn unmatched_quote_renders_like_haproxy() {
        let line = r#"    http-request set-header X-A "abc"#;
        let e = lex_line(line.as_bytes(), &env()).unwrap_err();
        assert_eq!(
            e.render(line),
            "unmatched quote at position 33:\n  http-request set-header X-A \"abc\n                              ^"
        );
    }

    #[test]
    fn never_panics_on_odd_bytes() {
        for l in [
            &b"\\"[..],
            b"\"$",
            b"\"${",
            b"\"${A",
            b"\"${A-",
            b"\"${A[*",
            b"\\x",
            b"\\x4",
            b"\xff\xfe",
        ] {
            let _ = lex_line(l, &env());
        }
    }
}
