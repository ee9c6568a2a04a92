//! Sample expressions at run time: converters compiled once (map files
//! loaded at start-up), and log-format strings evaluated per request.
use crate::acl::{fetch, FetchCtx, Sample};
use crate::log::format::{Flags, Line, Var};
use cfg_parser::logformat::Part;
use std::sync::Arc;

/// How a `map_*` converter compares the sample with the map's keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapMatch {
    Str,
    Beg,
    End,
    Sub,
    Dom,
    Dir,
    Reg,
    Int,
    Ip,
}

/// A map file's lines: key and value, in file order (first match wins).
#[derive(Debug)]
pub struct MapFile {
    pub entries: Vec<(String, String)>,
    regexes: Vec<Option<regex::bytes::Regex>>,
}

impl MapFile {
    /// Reads `path`: `key value` per line, `#` comments and blank lines skipped.
    pub fn load(path: &str, how: MapMatch) -> Result<MapFile, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|_| format!("failed to open pattern file <{path}>."))?;
        let mut entries = Vec::new();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (k, v) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
            entries.push((k.to_string(), v.trim().to_string()));
        }
        let regexes = entries
            .iter()
            .map(|(k, _)| {
                if how == MapMatch::Reg {
                    regex::bytes::Regex::new(k).ok()
                } else {
                    None
                }
            })
            .collect();
        Ok(MapFile { entries, regexes })
    }

    fn lookup(&self, how: MapMatch, key: &[u8]) -> Option<&str> {
        self.entries.iter().enumerate().find_map(|(i, (k, v))| {
            let kb = k.as_bytes();
            let hit = match how {
                MapMatch::Str => key == kb,
                MapMatch::Beg => key.starts_with(kb),
                MapMatch::End => key.ends_with(kb),
                MapMatch::Sub => key.windows(kb.len().max(1)).any(|w| w == kb),
                MapMatch::Dom | MapMatch::Dir => {
                    let d = if how == MapMatch::Dom { b'.' } else { b'/' };
                    key == kb
                        || key.split(|b| *b == d).any(|p| p == kb)
                        || key.ends_with(&[&[d][..], kb].concat())
                }
                MapMatch::Reg => self.regexes[i].as_ref().is_some_and(|r| r.is_match(key)),
                MapMatch::Int => {
                    std::str::from_utf8(key)
                        .ok()
                        .and_then(|s| s.trim().parse::<i64>().ok())
                        == k.parse().ok()
                }
                MapMatch::Ip => std::str::from_utf8(key).is_ok_and(|s| s == k),
            };
            hit.then_some(v.as_str())
        })
    }
}

/// A compiled converter.
#[derive(Debug, Clone)]
pub enum Conv {
    Lower,
    Upper,
    Length,
    Base64,
    Hex,
    /// `field(index,delimiters[,count])`, index from 1 (negative from the end).
    Field {
        index: i64,
        delims: Vec<u8>,
    },
    /// `word(index,delimiters)`: like field, but runs of delimiters count once.
    Word {
        index: i64,
        delims: Vec<u8>,
    },
    Regsub {
        re: regex::bytes::Regex,
        with: Vec<u8>,
        global: bool,
    },
    Map {
        how: MapMatch,
        map: Arc<MapFile>,
        default: Option<String>,
    },
    /// `capture-req(id)` / `capture-res(id)`: the value also goes to a
    /// capture slot (see [`take_captures`]); it passes on unchanged.
    Capture {
        response: bool,
        id: usize,
    },
}

thread_local! {
    /// Values `capture-req`/`capture-res` converters saw on this thread
    /// since the last [`take_captures`]: (response, slot, value). The
    /// stream takes them right after the synchronous rule evaluation that
    /// produced them.
    static CAPTURED: std::cell::RefCell<Vec<(bool, usize, Vec<u8>)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// Takes the values capture converters recorded on this thread.
pub fn take_captures() -> Vec<(bool, usize, Vec<u8>)> {
    CAPTURED.with(|c| std::mem::take(&mut *c.borrow_mut()))
}

/// Compiles converter `name(args)`; `None` for a converter this build cannot run yet.
pub fn compile_conv(name: &str, args: &[String]) -> Result<Option<Conv>, String> {
    let delims = |i: usize| {
        args.get(i)
            .map(|d| d.as_bytes().to_vec())
            .unwrap_or_default()
    };
    let index = || args.first().and_then(|a| a.parse().ok()).unwrap_or(1);
    Ok(Some(match name {
        "lower" => Conv::Lower,
        "capture-req" | "capture-res" => Conv::Capture {
            response: name == "capture-res",
            id: args
                .first()
                .and_then(|a| a.parse().ok())
                .ok_or_else(|| format!("converter '{name}' without a capture id"))?,
        },
        "upper" => Conv::Upper,
        "length" => Conv::Length,
        "base64" => Conv::Base64,
        "hex" => Conv::Hex,
        "field" => Conv::Field {
            index: index(),
            delims: delims(1),
        },
        "word" => Conv::Word {
            index: index(),
            delims: delims(1),
        },
        "regsub" => {
            let re = regex::bytes::Regex::new(args.first().map_or("", String::as_str))
                .map_err(|e| e.to_string())?;
            let flags = args.get(2).map_or("", String::as_str);
            Conv::Regsub {
                re,
                with: delims(1),
                global: flags.contains('g'),
            }
        }
        _ if name.starts_with("map") => {
            let how = match name.split('_').nth(1).unwrap_or("str") {
                "str" => MapMatch::Str,
                "beg" => MapMatch::Beg,
                "end" => MapMatch::End,
                "sub" => MapMatch::Sub,
                "dom" => MapMatch::Dom,
                "dir" => MapMatch::Dir,
                "reg" | "regm" => MapMatch::Reg,
                "int" => MapMatch::Int,
                "ip" => MapMatch::Ip,
                _ => return Ok(None),
            };
            let file = args.first().map_or("", String::as_str);
            Conv::Map {
                how,
                map: Arc::new(MapFile::load(file, how)?),
                default: args.get(1).cloned(),
            }
        }
        _ => return Ok(None),
    }))
}

fn bytes_of(s: Sample) -> Vec<u8> {
    match s {
        Sample::Str(v) => v,
        Sample::Int(i) => i.to_string().into_bytes(),
        Sample::Ip(ip) => ip.to_string().into_bytes(),
        Sample::Bool(b) => (b as u8).to_string().into_bytes(),
    }
}

/// Runs converters over a sample; `None` when a converter finds nothing
/// (a map without default and no match).
pub fn convert(mut s: Sample, convs: &[Conv]) -> Option<Sample> {
    for c in convs {
        s = match c {
            Conv::Lower => Sample::Str(bytes_of(s).to_ascii_lowercase()),
            Conv::Capture { response, id } => {
                let v = bytes_of(s.clone());
                CAPTURED.with(|c| c.borrow_mut().push((*response, *id, v)));
                s
            }
            Conv::Upper => Sample::Str(bytes_of(s).to_ascii_uppercase()),
            Conv::Length => Sample::Int(bytes_of(s).len() as i64),
            Conv::Hex => Sample::Str(
                bytes_of(s)
                    .iter()
                    .map(|b| format!("{b:02X}"))
                    .collect::<String>()
                    .into_bytes(),
            ),
            Conv::Base64 => Sample::Str(base64(&bytes_of(s)).into_bytes()),
            Conv::Field { index, delims } => {
                Sample::Str(pick(&bytes_of(s), *index, delims, false)?)
            }
            Conv::Word { index, delims } => Sample::Str(pick(&bytes_of(s), *index, delims, true)?),
            Conv::Regsub { re, with, global } => {
                let v = bytes_of(s);
                let out = if *global {
                    re.replace_all(&v, with.as_slice())
                } else {
                    re.replace(&v, with.as_slice())
                };
                Sample::Str(out.into_owned())
            }
            Conv::Map { how, map, default } => {
                let key = bytes_of(s);
                match map.lookup(*how, &key) {
                    Some(v) => Sample::Str(v.as_bytes().to_vec()),
                    None => Sample::Str(default.clone()?.into_bytes()),
                }
            }
        };
    }
    Some(s)
}

fn pick(v: &[u8], index: i64, delims: &[u8], skip_empty: bool) -> Option<Vec<u8>> {
    let mut parts: Vec<&[u8]> = v.split(|b| delims.contains(b)).collect();
    if skip_empty {
        parts.retain(|p| !p.is_empty());
    }
    let i = if index > 0 {
        index - 1
    } else {
        parts.len() as i64 + index
    };
    parts.get(usize::try_from(i).ok()?).map(|p| p.to_vec())
}

fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for c in data.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for (k, shift) in [18, 12, 6, 0].iter().enumerate() {
            if k <= c.len() {
                out.push(T[(n >> shift & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A compiled log-format string.
#[derive(Debug, Clone)]
pub enum Piece {
    Lit(String),
    /// A run of spaces in `log-format` (merged, skipped after empty fields).
    Sep,
    Expr {
        fetch: String,
        args: Vec<String>,
        convs: Vec<Conv>,
        flags: Flags,
    },
    Var {
        var: Var,
        flags: Flags,
    },
}

/// Compiles log-format parts; `Err` names what this build cannot run yet.
pub fn compile_logformat(parts: &[Part]) -> Result<Vec<Piece>, String> {
    // `%o` sets the flags every later field starts from.
    let mut base = Flags::default();
    let mut out = Vec::with_capacity(parts.len());
    for p in parts {
        match p {
            Part::Lit(s) => out.push(Piece::Lit(s.clone())),
            Part::Sep => out.push(Piece::Sep),
            Part::Var { name, flags } if name == "o" => base = base.apply(flags),
            Part::Var { name, flags } => {
                let var = crate::log::format::var(name)
                    .ok_or_else(|| format!("log-format variable '%{name}'"))?;
                out.push(Piece::Var {
                    var,
                    flags: base.apply(flags),
                });
            }
            Part::Sample(e) => {
                if !crate::acl::RUNNABLE_FETCHES.contains(&e.fetch.as_str()) {
                    return Err(format!("sample fetch '{}'", e.fetch));
                }
                let convs = e
                    .converters
                    .iter()
                    .map(|(n, a)| {
                        compile_conv(n, a).and_then(|c| c.ok_or_else(|| format!("converter '{n}'")))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                out.push(Piece::Expr {
                    fetch: e.fetch.clone(),
                    args: e.fetch_args.clone(),
                    convs,
                    flags: base.apply(&e.flags),
                });
            }
        }
    }
    Ok(out)
}

/// Evaluates a compiled log-format string in a rule: an expression that
/// yields no sample contributes nothing, as in HAProxy; `%` variables read
/// the stream's record when the caller has one.
pub fn eval_logformat(pieces: &[Piece], ctx: &FetchCtx) -> String {
    render(pieces, ctx, ctx.record, false)
}

/// Writes a log-format string. In a log line (`log`), a missing sample is
/// written `-` as 2.6 does; in a rule it is written as nothing.
pub fn render(
    pieces: &[Piece],
    ctx: &FetchCtx,
    rec: Option<&crate::log::record::Record>,
    log: bool,
) -> String {
    let mut line = Line::new();
    for p in pieces {
        match p {
            Piece::Lit(s) => line.lit(s),
            Piece::Sep => line.sep(),
            Piece::Expr {
                fetch: f,
                args,
                convs,
                flags,
            } => {
                // As a sample (not an ACL), a multi-value fetch gives its last value.
                match fetch(f, args, ctx).pop().and_then(|s| convert(s, convs)) {
                    Some(s) => line.text(Some(&bytes_of(s)), *flags),
                    None if log => line.text(None, *flags),
                    None => line.last_sep = false,
                }
            }
            Piece::Var { var, flags } => write_var(&mut line, *var, *flags, ctx, rec),
        }
    }
    line.out
}

/// A `%` variable from the stream's record, or, without one, from what the
/// fetch context knows (the addresses).
fn write_var(
    line: &mut Line,
    var: Var,
    flags: Flags,
    ctx: &FetchCtx,
    rec: Option<&crate::log::record::Record>,
) {
    match rec {
        Some(r) => crate::log::format::write_var(line, var, flags, r),
        None => {
            let r =
                crate::log::record::Record::new("", ctx.src, ctx.dst, std::time::SystemTime::now());
            crate::log::format::write_var(line, var, flags, &r)
        }
    }
}

/// Evaluates a log-format string used in an HTTP message (a header value,
/// a reply body, a redirect's location) as 2.6 does: a sample's control
/// bytes (below 0x20 but TAB, and 0x7F) become `%XX`, so no fetched value
/// can end a header line; other bytes are kept as they are. Literal text
/// is copied unchanged (a CR or LF in it is caught by the caller).
pub fn eval_fmt_http(pieces: &[Piece], ctx: &FetchCtx) -> Vec<u8> {
    let mut out = Vec::new();
    for p in pieces {
        match p {
            Piece::Lit(s) => out.extend_from_slice(s.as_bytes()),
            Piece::Sep => out.push(b' '),
            Piece::Var { var, flags } => {
                let mut line = Line::new();
                write_var(&mut line, *var, *flags, ctx, ctx.record);
                out.extend_from_slice(line.out.as_bytes());
            }
            Piece::Expr {
                fetch: f,
                args,
                convs,
                ..
            } => {
                if let Some(s) = fetch(f, args, ctx).pop().and_then(|s| convert(s, convs)) {
                    for b in bytes_of(s) {
                        if (b < 0x20 && b != b'\t') || b == 0x7f {
                            out.extend_from_slice(format!("%{b:02X}").as_bytes());
                        } else {
                            out.push(b);
                        }
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converters() {
        let s = |v: &str| Sample::Str(v.as_bytes().to_vec());
        assert_eq!(convert(s("AbC"), &[Conv::Lower]), Some(s("abc")));
        assert_eq!(
            convert(
                s("a,b,c"),
                &[Conv::Field {
                    index: 2,
                    delims: b",".to_vec()
                }]
            ),
            Some(s("b"))
        );
        assert_eq!(
            convert(
                s("a,b,c"),
                &[Conv::Field {
                    index: -1,
                    delims: b",".to_vec()
                }]
            ),
            Some(s("c"))
        );
        assert_eq!(
            convert(
                s("a  b"),
                &[Conv::Word {
                    index: 2,
                    delims: b" ".to_vec()
                }]
            ),
            Some(s("b"))
        );
        assert_eq!(convert(s("hi"), &[Conv::Base64]), Some(s("aGk=")));
        assert_eq!(convert(s("hi"), &[Conv::Hex]), Some(s("6869")));
        assert_eq!(convert(s("hello"), &[Conv::Length]), Some(Sample::Int(5)));
    }

    #[test]
    fn maps_with_defaults() {
        let dir = std::env::temp_dir().join(format!("hrs-map-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("hosts.map");
        std::fs::write(&f, "# sites\na.example.com be_a\n\nexample.org   be_org\n").unwrap();
        let path = f.display().to_string();
        let m = compile_conv("map", &[path.clone(), "be_default".into()])
            .unwrap()
            .unwrap();
        let s = |v: &str| Sample::Str(v.as_bytes().to_vec());
        assert_eq!(
            convert(s("a.example.com"), std::slice::from_ref(&m)),
            Some(s("be_a"))
        );
        assert_eq!(convert(s("zzz"), &[m]), Some(s("be_default")));
        let dom = compile_conv("map_dom", std::slice::from_ref(&path))
            .unwrap()
            .unwrap();
        assert_eq!(
            convert(s("www.example.org"), std::slice::from_ref(&dom)),
            Some(s("be_org"))
        );
        assert_eq!(convert(s("zzz"), &[dom]), None);
    }
}
