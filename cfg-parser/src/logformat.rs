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
}

/// A sample expression: a fetch and its converters, as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SampleExpr {
    pub fetch: String,
    pub fetch_args: Vec<String>,
    pub converters: Vec<(String, Vec<String>)>,
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
    })
}

/// Parses a log-format string; errors are HAProxy's words after
/// "failed to parse ...".
pub fn parse_logformat(s: &str) -> Result<Vec<Part>, String> {
    parse_logformat_at(s, &[])
}

/// [`parse_logformat`] for a string evaluated at the rule stages `cols`
/// (columns of `samples::FetchInfo::usable`): a fetch that gives nothing
/// at all of them is refused, as 2.6 does. No columns: no such check.
pub fn parse_logformat_at(s: &str, cols: &[usize]) -> Result<Vec<Part>, String> {
    let mut parts = Vec::new();
    let mut lit = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('%') {
        lit.push_str(&rest[..i]);
        rest = &rest[i + 1..];
        let mut flags = String::new();
        if let Some(r) = rest.strip_prefix('{') {
            let end = r
                .find('}')
                .ok_or_else(|| "missing '}' after '%{'.".to_string())?;
            flags = r[..end].to_string();
            rest = &r[end + 1..];
        }
        if let Some(r) = rest.strip_prefix('[') {
            let end = r
                .find(']')
                .ok_or_else(|| format!("failed to parse sample expression <{r}> : missing ']'."))?;
            let expr = parse_sample_expr(&r[..end])
                .map_err(|e| format!("failed to parse sample expression <{r}> : {e}"))?;
            if let Some(src) = samples::unusable_source(&expr.fetch, cols) {
                return Err(format!(
                    "sample fetch <{r}> may not be reliably used here because it needs '{src}' which is not available here"
                ));
            }
            if !lit.is_empty() {
                parts.push(Part::Lit(std::mem::take(&mut lit)));
            }
            parts.push(Part::Sample(expr));
            rest = &r[end + 1..];
        } else if let Some(r) = rest.strip_prefix('%') {
            lit.push('%');
            rest = r;
        } else {
            let n = rest
                .find(|c: char| !c.is_ascii_alphanumeric())
                .unwrap_or(rest.len());
            if !lit.is_empty() {
                parts.push(Part::Lit(std::mem::take(&mut lit)));
            }
            parts.push(Part::Var {
                name: rest[..n].to_string(),
                flags,
            });
            rest = &rest[n..];
        }
    }
    lit.push_str(rest);
    if !lit.is_empty() {
        parts.push(Part::Lit(lit));
    }
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
