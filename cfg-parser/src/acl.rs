//! ACL lines and `if`/`unless` conditions: checked as HAProxy checks them
//! while reading (known fetches, converters and matchers; ACL names defined
//! before use). Compiling them into matchers is the model's job.
use crate::ast::{Acl, Condition};
use crate::samples;

/// The ACLs every proxy has without declaring them.
pub const PREDEFINED_ACLS: &[&str] = &[
    "FALSE",
    "HTTP",
    "HTTP_1.0",
    "HTTP_1.1",
    "HTTP_2.0",
    "HTTP_CONTENT",
    "HTTP_URL_ABS",
    "HTTP_URL_SLASH",
    "HTTP_URL_STAR",
    "LOCALHOST",
    "METH_CONNECT",
    "METH_DELETE",
    "METH_GET",
    "METH_HEAD",
    "METH_OPTIONS",
    "METH_POST",
    "METH_PUT",
    "METH_TRACE",
    "RDP_COOKIE",
    "REQ_CONTENT",
    "TRUE",
    "WAIT_END",
];

pub const MATCHERS: &[&str] = &[
    "found", "bool", "int", "ip", "bin", "len", "str", "sub", "reg", "beg", "end", "dir", "dom",
];

/// Splits a rule's words at `if`/`unless`: (words before, condition).
pub fn split_condition(words: &[String]) -> (&[String], Option<Condition>) {
    match words.iter().position(|w| w == "if" || w == "unless") {
        Some(i) => (
            &words[..i],
            Some(Condition {
                negate: words[i] == "unless",
                words: words[i + 1..].to_vec(),
            }),
        ),
        None => (words, None),
    }
}

/// Checks an ACL expression (`<criterion> [flags] [values]`) and returns
/// HAProxy's complaint, without its "error detected while parsing ..." head.
pub fn check_expression(words: &[String]) -> Result<(), String> {
    let crit = words.first().map(String::as_str).unwrap_or("");
    if crit.is_empty() {
        return Err("missing fetch method in ACL expression ''.".into());
    }
    let mut parts = split_converters(crit).into_iter();
    let first = parts.next().unwrap_or_default();
    let (fname, fargs) = split_args(&first);
    let alias = samples::acl_alias(fname);
    let what = if alias.is_some() {
        format!("ACL keyword '{fname}'")
    } else {
        format!("fetch method '{fname}'")
    };
    if alias.is_none() && samples::fetch(fname).is_none() {
        return Err(format!(
            "unknown fetch method '{fname}' in ACL expression '{crit}'."
        ));
    }
    if let Some(a) = fargs {
        if !a.ends_with(')') {
            return Err(format!("{what} : expected ')' in ACL expression '{crit}'."));
        }
    }
    for conv in parts {
        let (cname, _) = split_args(&conv);
        if samples::converter(cname).is_none() {
            return Err(format!("{what} : unknown converter '{cname}'.."));
        }
    }
    let mut i = 1;
    while let Some(w) = words.get(i) {
        match w.as_str() {
            "-i" | "-n" | "-u" => i += 1,
            "--" => break,
            "-m" => {
                let m = words.get(i + 1).map(String::as_str).unwrap_or("");
                if !MATCHERS.contains(&m) {
                    return Err(format!(
                        "unknown matching method '{m}' when parsing ACL expression."
                    ));
                }
                i += 2;
            }
            "-f" => {
                let f = words.get(i + 1).map(String::as_str).unwrap_or("");
                if std::fs::File::open(f).is_err() {
                    return Err(format!("failed to open pattern file <{f}>."));
                }
                i += 2;
            }
            "-M" => i += 1,
            _ => break,
        }
    }
    Ok(())
}

/// `name(args),conv1(args),conv2` -> pieces, commas inside parentheses kept.
fn split_converters(crit: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut depth = 0;
    for c in crit.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(String::new());
                continue;
            }
            _ => {}
        }
        if let Some(last) = out.last_mut() {
            last.push(c);
        }
    }
    out
}

fn split_args(s: &str) -> (&str, Option<&str>) {
    match s.find('(') {
        Some(i) => (&s[..i], Some(&s[i..])),
        None => (s, None),
    }
}

/// Checks an `acl <name> ...` line's name and expression.
pub fn check_acl_line(name: &str, words: &[String]) -> Result<(), String> {
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "-_.:".contains(*c)))
    {
        return Err(format!(
            "character '{c}' is not permitted in acl name '{name}'."
        ));
    }
    check_expression(words).map_err(|e| format!("error detected while parsing ACL '{name}' : {e}"))
}

/// Checks a condition's terms against the ACLs defined so far; returns the
/// problem in HAProxy's words (`no such ACL : 'x'.` or an anonymous ACL's error).
pub fn check_condition(cond: &Condition, acls: &[Acl]) -> Result<(), String> {
    let mut i = 0;
    let w = &cond.words;
    while i < w.len() {
        let mut term = w[i].as_str();
        if term == "or" || term == "||" || term == "!" {
            i += 1;
            continue;
        }
        if let Some(rest) = term.strip_prefix('!') {
            term = rest;
        }
        if term == "{" {
            let end = w[i + 1..].iter().position(|x| x == "}").map(|p| i + 1 + p);
            let Some(end) = end else {
                return Err("missing closing '}' in condition.".into());
            };
            check_expression(&w[i + 1..end]).map_err(|e| e.trim_end_matches('.').to_string())?;
            i = end + 1;
            continue;
        }
        if !PREDEFINED_ACLS.contains(&term) && !acls.iter().any(|a| a.name == term) {
            return Err(format!("no such ACL : '{term}'"));
        }
        i += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn expressions() {
        assert!(check_expression(&s(&["hdr(host)", "-i", "a.example"])).is_ok());
        assert!(check_expression(&s(&["path_beg", "/static"])).is_ok());
        assert!(check_expression(&s(&["path,lower", "-m", "beg", "/x"])).is_ok());
        assert_eq!(
            check_expression(&s(&["pathx_beg", "/x"])),
            Err("unknown fetch method 'pathx_beg' in ACL expression 'pathx_beg'.".into())
        );
        assert_eq!(
            check_expression(&s(&["path", "-m", "foo", "/x"])),
            Err("unknown matching method 'foo' when parsing ACL expression.".into())
        );
        assert_eq!(
            check_expression(&s(&["path,foo", "/x"])),
            Err("ACL keyword 'path' : unknown converter 'foo'..".into())
        );
    }

    #[test]
    fn conditions() {
        let acls = vec![Acl {
            name: "a".into(),
            words: s(&["path", "/"]),
            span: crate::source::Span::new(&"f".into(), 1),
        }];
        let c = |v: &[&str]| Condition {
            negate: false,
            words: s(v),
        };
        assert!(check_condition(&c(&["a", "!TRUE"]), &acls).is_ok());
        assert!(check_condition(&c(&["{", "path", "/x", "}", "or", "!a"]), &acls).is_ok());
        assert_eq!(
            check_condition(&c(&["b"]), &acls),
            Err("no such ACL : 'b'".into())
        );
    }
}
