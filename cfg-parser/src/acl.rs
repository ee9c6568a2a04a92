//! ACL lines and `if`/`unless` conditions: checked as HAProxy checks them
//! while reading (known fetches, converters and matchers; ACL names defined
//! before use), and compiled into ready-to-match patterns at the same time,
//! since HAProxy reports bad patterns while reading.
use crate::ast::{Acl, AclRef, CondTerm, Condition};
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
                terms: Vec::new(),
            }),
        ),
        None => (words, None),
    }
}

/// How an ACL compares a sample with its patterns (`-m <method>`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Matcher {
    Found,
    Bool,
    Int,
    Ip,
    Bin,
    Len,
    Str,
    Sub,
    Reg,
    Beg,
    End,
    Dir,
    Dom,
}

impl Matcher {
    pub fn from_name(name: &str) -> Option<Matcher> {
        Some(match name {
            "found" => Matcher::Found,
            "bool" => Matcher::Bool,
            "int" => Matcher::Int,
            "ip" => Matcher::Ip,
            "bin" => Matcher::Bin,
            "len" => Matcher::Len,
            "str" => Matcher::Str,
            "sub" => Matcher::Sub,
            "reg" => Matcher::Reg,
            "beg" => Matcher::Beg,
            "end" => Matcher::End,
            "dir" => Matcher::Dir,
            "dom" => Matcher::Dom,
            _ => return None,
        })
    }

    /// The matcher a fetch gets without `-m`, from its output type.
    fn for_output(out: &str) -> Matcher {
        match out {
            "sint" => Matcher::Int,
            "bool" => Matcher::Bool,
            "ipv4" | "ipv6" | "addr" => Matcher::Ip,
            "bin" => Matcher::Bin,
            _ => Matcher::Str,
        }
    }
}

/// An integer pattern: `N`, `lo:hi`, `lo:`, `:hi`, or `eq|ge|gt|le|lt N`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IntRange {
    pub lo: Option<i64>,
    pub hi: Option<i64>,
}

impl IntRange {
    pub fn contains(&self, v: i64) -> bool {
        self.lo.is_none_or(|lo| v >= lo) && self.hi.is_none_or(|hi| v <= hi)
    }
}

/// An address pattern: network and prefix length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpNet {
    pub addr: std::net::IpAddr,
    pub prefix: u8,
}

/// The patterns of one ACL line, parsed for its matcher.
#[derive(Clone, Debug)]
pub enum Patterns {
    /// `found` and `bool` take none.
    None,
    Ints(Vec<IntRange>),
    Ips(Vec<IpNet>),
    /// Strings (lower-cased when the ACL has `-i`).
    Strs(Vec<String>),
    Bins(Vec<Vec<u8>>),
    Regexes(Vec<regex::bytes::Regex>),
}

/// A compiled ACL expression: what to fetch, how to convert, how to match.
#[derive(Clone, Debug)]
pub struct AclExpr {
    pub fetch: String,
    pub fetch_args: Vec<String>,
    pub converters: Vec<(String, Vec<String>)>,
    pub matcher: Matcher,
    /// `-i`: case-insensitive string matching.
    pub icase: bool,
    pub patterns: Patterns,
}

/// Parses `name(args)` arguments against a `-dKall` signature such as
/// `(string[,integer])`; returns the arguments or HAProxy's complaint.
fn parse_args(
    what: &str,
    crit: &str,
    args: Option<&str>,
    signature: &str,
) -> Result<Vec<String>, String> {
    let Some(args) = args else {
        return Ok(Vec::new());
    };
    let Some(inner) = args.strip_prefix('(').and_then(|a| a.strip_suffix(')')) else {
        return Err(format!("{what} : expected ')' in ACL expression '{crit}'."));
    };
    let sig = signature.trim_start_matches('(').trim_end_matches(')');
    let max = if sig.is_empty() {
        0
    } else {
        sig.matches(',').count() + 1
    };
    let list: Vec<String> = if inner.is_empty() {
        Vec::new()
    } else {
        inner.split(',').map(String::from).collect()
    };
    if list.len() > max {
        // HAProxy quotes what follows the last accepted argument.
        let cut = if max == 0 {
            0
        } else {
            inner.match_indices(',').nth(max - 1).map_or(0, |(i, _)| i)
        };
        return Err(format!(
            "{what} : expected ')' before '{})'.",
            &inner[cut..]
        ));
    }
    Ok(list)
}

/// Compiles an ACL expression (`<criterion> [flags] [patterns]`), or returns
/// HAProxy's complaint without its "error detected while parsing ..." head.
pub fn compile_expression(words: &[String]) -> Result<AclExpr, String> {
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
    let fetch_name = alias.map_or(fname, |(f, _)| f);
    let Some(info) = samples::fetch(fetch_name) else {
        return Err(format!(
            "unknown fetch method '{fname}' in ACL expression '{crit}'."
        ));
    };
    let fetch_args = parse_args(&what, crit, fargs, info.args)?;
    let mut converters = Vec::new();
    let mut out_type = info.out;
    for conv in parts {
        let (cname, cargs) = split_args(&conv);
        let Some(c) = samples::converter(cname) else {
            return Err(format!("{what} : unknown converter '{cname}'.."));
        };
        let args = parse_args(&format!("converter '{cname}'"), crit, cargs, c.args)?;
        crate::logformat::check_converter_args(cname, &args)
            .map_err(|e| format!("{what} : {e}."))?;
        out_type = c.out;
        converters.push((cname.to_string(), args));
    }
    let mut matcher = alias
        .and_then(|(_, m)| Matcher::from_name(m))
        .unwrap_or_else(|| Matcher::for_output(out_type));
    let mut icase = false;
    let mut patterns: Vec<String> = Vec::new();
    let mut i = 1;
    while let Some(w) = words.get(i) {
        match w.as_str() {
            "-i" => icase = true,
            "-n" | "-u" => {}
            "--" => {
                i += 1;
                break;
            }
            "-m" => {
                let m = words.get(i + 1).map(String::as_str).unwrap_or("");
                matcher = Matcher::from_name(m).ok_or_else(|| {
                    format!("unknown matching method '{m}' when parsing ACL expression.")
                })?;
                i += 1;
            }
            "-f" => {
                let f = words.get(i + 1).map(String::as_str).unwrap_or("");
                let text = std::fs::read_to_string(f)
                    .map_err(|_| format!("failed to open pattern file <{f}>."))?;
                patterns.extend(
                    text.lines()
                        .map(str::trim)
                        .filter(|l| !l.is_empty() && !l.starts_with('#'))
                        .map(String::from),
                );
                i += 1;
            }
            "-M" => {}
            _ => break,
        }
        i += 1;
    }
    patterns.extend(words[i.min(words.len())..].iter().cloned());
    let patterns = parse_patterns(matcher, icase, &patterns)?;
    Ok(AclExpr {
        fetch: fetch_name.to_string(),
        fetch_args,
        converters,
        matcher,
        icase,
        patterns,
    })
}

/// Checks an ACL expression; see [`compile_expression`].
pub fn check_expression(words: &[String]) -> Result<(), String> {
    compile_expression(words).map(|_| ())
}

fn parse_patterns(m: Matcher, icase: bool, pats: &[String]) -> Result<Patterns, String> {
    Ok(match m {
        Matcher::Found | Matcher::Bool => Patterns::None,
        Matcher::Int | Matcher::Len => Patterns::Ints(parse_ints(pats)?),
        Matcher::Ip => Patterns::Ips(
            pats.iter()
                .map(|p| parse_ipnet(p))
                .collect::<Result<_, _>>()?,
        ),
        Matcher::Reg => Patterns::Regexes(
            pats.iter()
                .map(|p| {
                    regex::bytes::RegexBuilder::new(p)
                        .case_insensitive(icase)
                        .build()
                        .map_err(|e| format!("regex '{p}' is invalid ({}).", regex_reason(&e)))
                })
                .collect::<Result<_, _>>()?,
        ),
        Matcher::Bin => Patterns::Bins(
            pats.iter()
                .map(|p| {
                    parse_hex(p)
                        .ok_or_else(|| format!("'{p}' is not a valid hexadecimal binary string."))
                })
                .collect::<Result<_, _>>()?,
        ),
        _ => Patterns::Strs(
            pats.iter()
                .map(|p| if icase { p.to_lowercase() } else { p.clone() })
                .collect(),
        ),
    })
}

fn regex_reason(e: &regex::Error) -> String {
    e.to_string()
        .lines()
        .last()
        .unwrap_or("")
        .trim_start_matches("error: ")
        .to_string()
}

fn parse_hex(p: &str) -> Option<Vec<u8>> {
    if !p.len().is_multiple_of(2) {
        return None;
    }
    (0..p.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(p.get(i..i + 2)?, 16).ok())
        .collect()
}

fn parse_ints(pats: &[String]) -> Result<Vec<IntRange>, String> {
    let mut out = Vec::new();
    let mut op: Option<&str> = None;
    for p in pats {
        if matches!(p.as_str(), "eq" | "ge" | "gt" | "le" | "lt") {
            op = Some(p.as_str());
            continue;
        }
        let num = |t: &str| t.parse::<i64>().ok();
        let r = match op.take() {
            Some(o) => {
                let n = num(p).ok_or_else(|| {
                    format!("'{p}' is neither a number nor a supported operator.")
                })?;
                match o {
                    "eq" => IntRange {
                        lo: Some(n),
                        hi: Some(n),
                    },
                    "ge" => IntRange {
                        lo: Some(n),
                        hi: None,
                    },
                    "gt" => IntRange {
                        lo: Some(n.saturating_add(1)),
                        hi: None,
                    },
                    "le" => IntRange {
                        lo: None,
                        hi: Some(n),
                    },
                    _ => IntRange {
                        lo: None,
                        hi: Some(n.saturating_sub(1)),
                    },
                }
            }
            None => match p.split_once(':') {
                Some((a, b)) => {
                    let bound = |t: &str| -> Result<Option<i64>, String> {
                        if t.is_empty() {
                            Ok(None)
                        } else {
                            num(t)
                                .map(Some)
                                .ok_or_else(|| format!("'{p}' is not a number."))
                        }
                    };
                    IntRange {
                        lo: bound(a)?,
                        hi: bound(b)?,
                    }
                }
                None => {
                    let n = num(p).ok_or_else(|| format!("'{p}' is not a number."))?;
                    IntRange {
                        lo: Some(n),
                        hi: Some(n),
                    }
                }
            },
        };
        out.push(r);
    }
    Ok(out)
}

/// `addr`, `addr/prefix` or `addr/dotted-mask`; a name is resolved.
fn parse_ipnet(p: &str) -> Result<IpNet, String> {
    let bad = || format!("'{p}' is not a valid IPv4 or IPv6 address.");
    let (a, mask) = match p.split_once('/') {
        Some((a, m)) => (a, Some(m)),
        None => (p, None),
    };
    let addr: std::net::IpAddr = match a.parse() {
        Ok(ip) => ip,
        Err(_) if a.bytes().all(|b| b.is_ascii_digit() || b == b'.') => return Err(bad()),
        Err(_) => crate::resolve::resolve_host(a).ok_or_else(bad)?,
    };
    let full = if addr.is_ipv4() { 32 } else { 128 };
    let prefix = match mask {
        None => full,
        Some(m) => match m.parse::<u8>() {
            Ok(n) if n <= full => n,
            Ok(_) => return Err(bad()),
            Err(_) => match m.parse::<std::net::Ipv4Addr>() {
                Ok(dotted) if addr.is_ipv4() => u32::from(dotted).leading_ones() as u8,
                _ => return Err(bad()),
            },
        },
    };
    Ok(IpNet { addr, prefix })
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
pub fn compile_acl_line(name: &str, words: &[String]) -> Result<AclExpr, String> {
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "-_.:".contains(*c)))
    {
        return Err(format!(
            "character '{c}' is not permitted in acl name '{name}'."
        ));
    }
    compile_expression(words)
        .map_err(|e| format!("error detected while parsing ACL '{name}' : {e}"))
}

/// Compiles a condition's terms (`[!]acl`, `[!]{ expr }`, joined by
/// implicit AND and `or`/`||`) against the ACLs defined so far; returns the
/// problem in HAProxy's words (`no such ACL : 'x'` or an anonymous ACL's error).
pub fn compile_condition(cond: &mut Condition, acls: &[Acl]) -> Result<(), String> {
    let w = &cond.words;
    let mut terms: Vec<Vec<CondTerm>> = vec![Vec::new()];
    let mut negate = false;
    let mut i = 0;
    while i < w.len() {
        let mut term = w[i].as_str();
        match term {
            "or" | "||" => {
                terms.push(Vec::new());
                i += 1;
                continue;
            }
            "!" => {
                negate = !negate;
                i += 1;
                continue;
            }
            _ => {}
        }
        if let Some(rest) = term.strip_prefix('!') {
            negate = !negate;
            term = rest;
        }
        let acl = if term == "{" {
            let Some(end) = w[i + 1..].iter().position(|x| x == "}").map(|p| i + 1 + p) else {
                return Err("missing closing '}' in condition.".into());
            };
            let expr = compile_expression(&w[i + 1..end])
                .map_err(|e| e.trim_end_matches('.').to_string())?;
            i = end;
            AclRef::Anonymous(Box::new(expr))
        } else if PREDEFINED_ACLS.contains(&term) || acls.iter().any(|a| a.name == term) {
            AclRef::Named(term.to_string())
        } else {
            return Err(format!("no such ACL : '{term}'"));
        };
        if let Some(and) = terms.last_mut() {
            and.push(CondTerm { negate, acl });
        }
        negate = false;
        i += 1;
    }
    cond.terms = terms;
    Ok(())
}

/// Where a condition is evaluated: the stages of `haproxy -dKall`'s
/// "usable in" columns, by index, and their names in 2.6's messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    FeTcpConnection = 0,
    FeTcpContent = 2,
    FeHttpRequest = 3,
    FeUseBackend = 5,
    BeTcpContent = 6,
    BeHttpRequest = 7,
    BeTcpResponse = 11,
    BeHttpResponse = 12,
    FeHttpResponse = 16,
}

impl Stage {
    pub fn label(self) -> &'static str {
        match self {
            Stage::FeTcpConnection => "frontend tcp-request connection rule",
            Stage::FeTcpContent => "frontend tcp-request content rule",
            Stage::FeHttpRequest => "frontend http-request header rule",
            Stage::FeUseBackend => "frontend use-backend rule",
            Stage::BeTcpContent => "backend tcp-request content rule",
            Stage::BeHttpRequest => "backend http-request header rule",
            Stage::BeTcpResponse => "backend tcp-response content rule",
            Stage::BeHttpResponse => "backend http-response header rule",
            Stage::FeHttpResponse => "frontend http-response header rule",
        }
    }
}

/// Whether fetch `name` gives anything at `stage`.
fn usable_at(fetch: &str, stage: Stage) -> bool {
    samples::fetch(fetch).is_none_or(|f| f.usable.as_bytes().get(stage as usize) == Some(&b'Y'))
}

/// 2.6's warnings for condition terms that can never match at `stage`
/// (their fetches give nothing there). `rule` names the rule for the
/// `tcp-request connection` wording.
pub fn never_matching(
    cond: &Condition,
    acls: &[Acl],
    stage: Stage,
    rule: Option<&str>,
) -> Vec<String> {
    let mut out = Vec::new();
    for term in cond.terms.iter().flatten() {
        match &term.acl {
            AclRef::Named(name) => {
                let lines: Vec<&Acl> = acls.iter().filter(|a| &a.name == name).collect();
                if !lines.is_empty() && lines.iter().all(|a| !usable_at(&a.expr.fetch, stage)) {
                    out.push(format!(
                        "acl '{name}' will never match because it only involves keywords that are incompatible with '{}'",
                        stage.label()
                    ));
                }
            }
            AclRef::Anonymous(e) if !usable_at(&e.fetch, stage) => {
                let within = rule.map(|r| format!(" in '{r}'")).unwrap_or_default();
                out.push(format!(
                    "anonymous acl will never match{within} because it uses keyword '{}' which is incompatible with '{}'",
                    e.fetch,
                    stage.label()
                ));
            }
            AclRef::Anonymous(_) => {}
        }
    }
    out
}

/// Checks a condition without keeping the compiled form.
pub fn check_condition(cond: &Condition, acls: &[Acl]) -> Result<(), String> {
    compile_condition(&mut cond.clone(), acls)
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
            expr: compile_expression(&s(&["path", "/"])).unwrap(),
            span: crate::source::Span::new(&"f".into(), 1),
        }];
        let c = |v: &[&str]| Condition {
            negate: false,
            words: s(v),
            terms: Vec::new(),
        };
        assert!(check_condition(&c(&["a", "!TRUE"]), &acls).is_ok());
        assert_eq!(
            check_condition(&c(&["b"]), &acls),
            Err("no such ACL : 'b'".into())
        );
        let mut cond = c(&["!{", "path", "/x", "}", "a", "or", "!", "a"]);
        compile_condition(&mut cond, &acls).unwrap();
        let shape: Vec<Vec<bool>> = cond
            .terms
            .iter()
            .map(|and| and.iter().map(|t| t.negate).collect())
            .collect();
        assert_eq!(shape, [vec![true, false], vec![true]]);
    }

    #[test]
    fn patterns_are_parsed_for_their_matcher() {
        let e = compile_expression(&s(&["dst_port", "gt", "1024", "80:90", "443"])).unwrap();
        assert_eq!(e.matcher, Matcher::Int);
        let Patterns::Ints(r) = e.patterns else {
            panic!("ints")
        };
        assert!(
            r[0].contains(1025) && !r[0].contains(1024) && r[1].contains(85) && r[2].contains(443)
        );
        let e = compile_expression(&s(&["src", "10.0.0.0/8", "192.168.0.0/255.255.0.0", "::1"]))
            .unwrap();
        let Patterns::Ips(n) = e.patterns else {
            panic!("ips")
        };
        assert_eq!((n[0].prefix, n[1].prefix, n[2].prefix), (8, 16, 128));
        let e = compile_expression(&s(&["hdr(host)", "-i", "WWW.Example.com"])).unwrap();
        assert_eq!(
            (e.fetch.as_str(), e.fetch_args.as_slice()),
            ("req.hdr", &["host".to_string()][..])
        );
        let Patterns::Strs(v) = e.patterns else {
            panic!("strs")
        };
        assert_eq!(v, ["www.example.com"]);
        let e = compile_expression(&s(&["hdr_beg(host)", "api."])).unwrap();
        assert_eq!((e.fetch.as_str(), e.matcher), ("req.hdr", Matcher::Beg));
        assert_eq!(
            compile_expression(&s(&["dst_port", "abc"])).unwrap_err(),
            "'abc' is not a number."
        );
        assert_eq!(
            compile_expression(&s(&["src", "300.1.1.1"])).unwrap_err(),
            "'300.1.1.1' is not a valid IPv4 or IPv6 address."
        );
        assert_eq!(
            compile_expression(&s(&["path_beg(x)", "/"])).unwrap_err(),
            "ACL keyword 'path_beg' : expected ')' before 'x)'."
        );
        assert_eq!(
            compile_expression(&s(&["hdr_beg(host,1,2)", "/"])).unwrap_err(),
            "ACL keyword 'hdr_beg' : expected ')' before ',2)'."
        );
        assert!(compile_expression(&s(&["path_reg", "^/(a|b"])).is_err());
    }
}
