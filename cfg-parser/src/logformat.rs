//! Log-format strings (`use_backend be_%[req.hdr(host)]`, `log-format`,
//! header values of rules): literal text and `%[sample,converter...]`
//! expressions, checked against 2.6's fetches and converters.
use crate::samples;

/// A piece of a log-format string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Part {
    Lit(String),
    /// `%[fetch(args),conv(args),...]`
    Sample(SampleExpr),
    /// A `%x` variable (`%ci`, `%ID`, ...), with its `%{...}` flags.
    Var {
        name: String,
        flags: String,
    },
    /// A run of spaces in a string whose spaces are merged (`log-format`).
    Sep,
}

/// A sample expression: a fetch and its converters, as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SampleExpr {
    pub fetch: String,
    pub fetch_args: Vec<String>,
    pub converters: Vec<(String, Vec<String>)>,
    /// `%{+Q}[...]`: the log-format flags written before it.
    pub flags: String,
}

/// Splits `name(a,b)` into the name and its arguments.
fn call(s: &str) -> (String, Vec<String>) {
    match s.find('(') {
        Some(i) => {
            let inner = s[i + 1..].strip_suffix(')').unwrap_or(&s[i + 1..]);
            let args = if inner.is_empty() {
                Vec::new()
            } else {
                inner.split(',').map(String::from).collect()
            };
            (s[..i].to_string(), args)
        }
        None => (s.to_string(), Vec::new()),
    }
}

/// Splits at top-level commas (commas inside parentheses stay).
fn split_top(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

/// Checks a converter's arguments that HAProxy checks while parsing (map
/// files must be readable).
pub fn check_converter_args(name: &str, args: &[String]) -> Result<(), String> {
    if name.starts_with("map") {
        let file = args.first().map(String::as_str).unwrap_or("");
        if std::fs::File::open(file).is_err() {
            return Err(format!(
                "invalid args in converter '{name}' : failed to open pattern file <{file}>."
            ));
        }
    }
    Ok(())
}

/// Parses the inside of `%[...]`.
pub fn parse_sample_expr(text: &str) -> Result<SampleExpr, String> {
    let parts = split_top(text);
    let (fetch, fetch_args) = call(parts[0]);
    if samples::fetch(&fetch).is_none() {
        return Err(format!("unknown fetch method '{fetch}'."));
    }
    let mut converters = Vec::new();
    for c in &parts[1..] {
        let (name, args) = call(c);
        if samples::converter(&name).is_none() {
            return Err(format!("unknown converter '{name}'."));
        }
        check_converter_args(&name, &args)?;
        converters.push((name, args));
    }
    Ok(SampleExpr {
        fetch,
        fetch_args,
        converters,
        flags: String::new(),
    })
}

/// The `%` variables 2.6 knows, and whether each needs `mode http`.
pub const VARIABLES: &[(&str, bool)] = &[
    ("o", false),
    ("B", false),
    ("CC", true),
    ("CS", true),
    ("H", false),
    ("HM", true),
    ("HP", true),
    ("HPO", true),
    ("HQ", true),
    ("HU", true),
    ("HV", true),
    ("ID", false),
    ("ST", false),
    ("T", false),
    ("Ta", true),
    ("Tc", false),
    ("Td", false),
    ("Th", false),
    ("Ti", true),
    ("Tl", false),
    ("Tq", true),
    ("TR", true),
    ("Tr", true),
    ("Ts", false),
    ("Tt", false),
    ("Tu", false),
    ("Tw", false),
    ("U", false),
    ("ac", false),
    ("b", false),
    ("bc", false),
    ("bi", false),
    ("bp", false),
    ("bq", false),
    ("ci", false),
    ("cp", false),
    ("f", false),
    ("fc", false),
    ("fi", false),
    ("fp", false),
    ("ft", false),
    ("hr", false),
    ("hrl", false),
    ("hs", false),
    ("hsl", false),
    ("lc", false),
    ("ms", false),
    ("pid", false),
    ("r", true),
    ("rc", false),
    ("rt", false),
    ("s", false),
    ("sc", false),
    ("si", false),
    ("sp", false),
    ("sq", false),
    ("sslc", false),
    ("sslv", false),
    ("t", false),
    ("tr", true),
    ("trg", true),
    ("trl", true),
    ("ts", false),
    ("tsc", false),
];

/// The "usable in" column of 2.6's frontend log stage: what a log line
/// may fetch when the stream ends.
pub const LOG_END: usize = 18;
/// The column of the frontend's request header stage (the unique id).
pub const REQUEST_HEADERS: usize = 3;

/// Where a log-format string is used, for the checks that depend on it.
#[derive(Clone, Copy, Debug, Default)]
pub struct LfContext<'a> {
    /// `log-format`, `log-format-sd`, `unique-id-format`, `error-log-format`:
    /// runs of spaces there are one separator, dropped after an empty field.
    pub merge_spaces: bool,
    /// The proxy is not in `mode http`: HTTP-only variables are refused.
    pub tcp_only: bool,
    /// Rule stages the string is evaluated at (see [`parse_logformat_at`]).
    pub cols: &'a [usize],
}

/// Parses a log-format string; errors are HAProxy's words after
/// "failed to parse ..." (without the final period the callers add).
pub fn parse_logformat(s: &str) -> Result<Vec<Part>, String> {
    parse_logformat_at(s, &[])
}

/// [`parse_logformat`] for a string evaluated at the rule stages `cols`
/// (columns of `samples::FetchInfo::usable`): a fetch that gives nothing
/// at all of them is refused, as 2.6 does. No columns: no such check.
pub fn parse_logformat_at(s: &str, cols: &[usize]) -> Result<Vec<Part>, String> {
    parse_lf(
        s,
        LfContext {
            cols,
            ..LfContext::default()
        },
    )
}

/// Characters of a fetch or converter name.
fn is_idchar(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-' | b'+' | b'$' | b':')
}

/// Where a sample expression written after `%[` ends: its name, an
/// optional `(args)`, then `,converter(args)` repeated.
fn sample_end(s: &[u8]) -> usize {
    let mut i = 0;
    loop {
        while i < s.len() && is_idchar(s[i]) {
            i += 1;
        }
        if i < s.len() && s[i] == b'(' {
            // Arguments: up to the closing parenthesis, quotes and
            // backslash-escapes kept inside.
            i += 1;
            let mut quote = None;
            while i < s.len() {
                match (s[i], quote) {
                    (b'\\', _) => i += 1,
                    (b'"' | b'\'', None) => quote = Some(s[i]),
                    (c, Some(q)) if c == q => quote = None,
                    (b')', None) => break,
                    _ => {}
                }
                i += 1;
            }
            if i >= s.len() {
                return s.len();
            }
            i += 1;
        }
        if i < s.len() && s[i] == b',' {
            i += 1;
            continue;
        }
        return i;
    }
}

/// The log-format grammar as 2.6 reads it: literal text, `%%`, `%name`,
/// `%{flags}name`, `%[expr]`, `%{flags}[expr]`; with `merge_spaces`,
/// runs of spaces become one separator.
pub fn parse_lf(fmt: &str, cx: LfContext) -> Result<Vec<Part>, String> {
    let b = fmt.as_bytes();
    let mut parts = Vec::new();
    let mut lit = String::new();
    let flush = |lit: &mut String, parts: &mut Vec<Part>| {
        if !lit.is_empty() {
            parts.push(Part::Lit(std::mem::take(lit)));
        }
    };
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b' ' && cx.merge_spaces {
            flush(&mut lit, &mut parts);
            while i < b.len() && b[i] == b' ' {
                i += 1;
            }
            if parts.last() != Some(&Part::Sep) {
                parts.push(Part::Sep);
            }
            continue;
        }
        if c != b'%' {
            // Copy a whole UTF-8 character.
            let len = fmt[i..].chars().next().map_or(1, char::len_utf8);
            lit.push_str(&fmt[i..i + len]);
            i += len;
            continue;
        }
        // After '%'.
        i += 1;
        let Some(&n) = b.get(i) else {
            return Err("truncated line after '%'".into());
        };
        let mut flags = String::new();
        let mut after_flags = false;
        if n == b'%' {
            lit.push('%');
            i += 1;
            continue;
        }
        if n.is_ascii_digit() || n == b' ' || n == b'\t' {
            return Err(format!(
                "unexpected variable name near '{}' at position {i} line : '{fmt}'. Maybe you want to write a single '%', use the syntax '%%'",
                n as char
            ));
        }
        if n == b'{' {
            let start = i + 1;
            let Some(close) = fmt[start..].find('}') else {
                return Err(format!("truncated line after '{}'", &fmt[start..]));
            };
            flags = fmt[start..start + close].to_string();
            i = start + close + 1;
            after_flags = true;
        }
        match b.get(i) {
            Some(b'[') => {
                let start = i + 1;
                let rest = &fmt[start..];
                let end = sample_end(rest.as_bytes());
                let mut expr = parse_sample_expr(&rest[..end])
                    .map_err(|e| format!("failed to parse sample expression <{rest}> : {e}"))?;
                match rest.as_bytes().get(end) {
                    Some(b']') => {}
                    Some(&c) if c.is_ascii_graphic() || c == b' ' => {
                        return Err(format!(
                            "expected ']' after '{}', but found '{}'",
                            &rest[..end],
                            c as char
                        ))
                    }
                    _ => return Err(format!("missing ']' after '{}'", &rest[..end])),
                }
                if let Some(src) = samples::unusable_source(&expr.fetch, cx.cols) {
                    return Err(format!(
                        "sample fetch <{rest}> may not be reliably used here because it needs '{src}' which is not available here"
                    ));
                }
                expr.flags = flags;
                flush(&mut lit, &mut parts);
                parts.push(Part::Sample(expr));
                i = start + end + 1;
            }
            Some(&c) if c.is_ascii_alphabetic() || (after_flags && c.is_ascii_alphanumeric()) => {
                let start = i;
                while i < b.len() && b[i].is_ascii_alphanumeric() {
                    i += 1;
                }
                let name = &fmt[start..i];
                match VARIABLES.iter().find(|(v, _)| *v == name) {
                    None => {
                        return Err(format!(
                            "no such format variable '{name}'. If you wanted to emit the '%' character verbatim, you need to use '%%'"
                        ))
                    }
                    Some((_, true)) if cx.tcp_only => {
                        return Err(format!(
                            "format variable '{name}' is reserved for HTTP mode"
                        ))
                    }
                    Some(_) => {}
                }
                flush(&mut lit, &mut parts);
                parts.push(Part::Var {
                    name: name.to_string(),
                    flags,
                });
            }
            _ if after_flags => {
                return Err(format!(
                    "parse argument modifier without variable name near '%{{{flags}}}'"
                ))
            }
            // 2.6 drops a '%' that starts nothing and keeps what follows.
            _ => {}
        }
    }
    flush(&mut lit, &mut parts);
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expressions_and_literals() {
        let p = parse_logformat("be_%[req.hdr(host),lower]").unwrap();
        assert_eq!(p[0], Part::Lit("be_".into()));
        let Part::Sample(e) = &p[1] else {
            panic!("sample")
        };
        assert_eq!(
            (e.fetch.as_str(), e.fetch_args.as_slice()),
            ("req.hdr", &["host".to_string()][..])
        );
        assert_eq!(e.converters, [("lower".to_string(), vec![])]);
        assert_eq!(
            parse_logformat("100%%").unwrap(),
            [Part::Lit("100%".into())]
        );
        assert!(
            matches!(&parse_logformat("%ci:%cp").unwrap()[0], Part::Var { name, .. } if name == "ci")
        );
    }

    #[test]
    fn errors_in_haproxys_words() {
        assert_eq!(
            parse_logformat("%[foo]").unwrap_err(),
            "failed to parse sample expression <foo]> : unknown fetch method 'foo'."
        );
        assert_eq!(
            parse_logformat("%[req.hdr(host),mapx(/x)]").unwrap_err(),
            "failed to parse sample expression <req.hdr(host),mapx(/x)]> : unknown converter 'mapx'."
        );
        assert_eq!(
            parse_logformat("%[src,map(/nonexistent.map,x)]").unwrap_err(),
            "failed to parse sample expression <src,map(/nonexistent.map,x)]> : invalid args in converter 'map' : failed to open pattern file </nonexistent.map>."
        );
    }
}
