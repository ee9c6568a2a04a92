//! Runs compiled ACLs and conditions against a request: sample fetches,
//! converters, and the matchers of `-m`.
use crate::model::{Acl, AclItem, Cond};
use cfg_parser::acl::{AclExpr, IpNet, Matcher, Patterns};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};

/// What a fetch can see of the stream at this point.
pub struct FetchCtx<'a> {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub req: Option<&'a crate::http::parse::RequestHead>,
    /// The response head, once there is one (`http-response` rules).
    pub res: Option<&'a crate::http::parse::ResponseHead>,
    /// Live server count of a backend by name (`nbsrv`).
    pub nbsrv: &'a (dyn Fn(&str) -> Option<u32> + Sync),
    /// Client bytes received so far (TCP content inspection).
    pub payload: &'a [u8],
    /// Server bytes received so far (`tcp-response content` inspection).
    pub res_payload: &'a [u8],
    /// More client bytes may still arrive (inspection not final): a fetch
    /// that lacks data then says its answer may change.
    pub partial: bool,
    /// Set by a fetch that could not decide with the data at hand.
    pub may_change: AtomicBool,
    /// The stream's variables (`var()`), when it has some.
    pub vars: Option<&'a crate::vars::Vars>,
    /// The `userlist` sections (`http_auth(...)`).
    pub userlists: &'a [crate::http::auth::Userlist],
    /// The stream's log record, for `%` variables in rule arguments.
    pub record: Option<&'a crate::log::record::Record<'a>>,
}

impl<'a> FetchCtx<'a> {
    /// A context without payload (HTTP mode, routing after inspection).
    pub fn new(
        src: SocketAddr,
        dst: SocketAddr,
        req: Option<&'a crate::http::parse::RequestHead>,
        nbsrv: &'a (dyn Fn(&str) -> Option<u32> + Sync),
    ) -> Self {
        FetchCtx {
            src,
            dst,
            req,
            res: None,
            nbsrv,
            payload: &[],
            res_payload: &[],
            partial: false,
            may_change: AtomicBool::new(false),
            vars: None,
            userlists: &[],
            record: None,
        }
    }

    /// The same view of the connection with these message heads (and
    /// nothing of the payloads, which HTTP rules never look at).
    pub fn with_msg<'b>(
        &'b self,
        req: Option<&'b crate::http::parse::RequestHead>,
        res: Option<&'b crate::http::parse::ResponseHead>,
    ) -> FetchCtx<'b>
    where
        'a: 'b,
    {
        FetchCtx {
            src: self.src,
            dst: self.dst,
            req,
            res,
            nbsrv: self.nbsrv,
            payload: &[],
            res_payload: &[],
            partial: false,
            may_change: AtomicBool::new(false),
            vars: self.vars,
            userlists: self.userlists,
            record: self.record,
        }
    }

    /// Records that the answer may change with more data, when it can.
    fn lacking(&self) {
        if self.partial {
            self.may_change.store(true, Ordering::Relaxed);
        }
    }
}

/// A fetched sample.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sample {
    Str(Vec<u8>),
    Int(i64),
    Ip(IpAddr),
    Bool(bool),
}

/// HAProxy's three-valued ACL result: `Miss` is "not decidable yet, wait
/// for more data" (only while inspecting a partial payload).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Fail,
    Miss,
    Pass,
}

impl Verdict {
    fn and(self, o: Verdict) -> Verdict {
        use Verdict::*;
        match (self, o) {
            (Fail, _) | (_, Fail) => Fail,
            (Miss, _) | (_, Miss) => Miss,
            _ => Pass,
        }
    }
    fn or(self, o: Verdict) -> Verdict {
        use Verdict::*;
        match (self, o) {
            (Pass, _) | (_, Pass) => Pass,
            (Miss, _) | (_, Miss) => Miss,
            _ => Fail,
        }
    }
    fn not(self) -> Verdict {
        match self {
            Verdict::Pass => Verdict::Fail,
            Verdict::Fail => Verdict::Pass,
            Verdict::Miss => Verdict::Miss,
        }
    }
}

/// Evaluates a condition; `None` means "no condition" and holds.
pub fn eval_cond(cond: Option<&Cond>, acls: &[Acl], ctx: &FetchCtx) -> bool {
    eval_cond_verdict(cond, acls, ctx) == Verdict::Pass
}

/// A condition's verdict, `if`/`unless` applied (`Miss` stays `Miss`).
pub fn eval_cond_verdict(cond: Option<&Cond>, acls: &[Acl], ctx: &FetchCtx) -> Verdict {
    let Some(c) = cond else { return Verdict::Pass };
    let v = c.alternatives.iter().fold(Verdict::Fail, |any, and| {
        let all = and.iter().fold(Verdict::Pass, |all, (neg, id)| {
            let v = acl_verdict(&acls[id.0], ctx);
            all.and(if *neg { v.not() } else { v })
        });
        any.or(all)
    });
    if c.unless {
        v.not()
    } else {
        v
    }
}

/// An ACL holds when any of its lines matches.
pub fn eval_acl(acl: &Acl, ctx: &FetchCtx) -> bool {
    acl_verdict(acl, ctx) == Verdict::Pass
}

fn acl_verdict(acl: &Acl, ctx: &FetchCtx) -> Verdict {
    acl.exprs
        .iter()
        .fold(Verdict::Fail, |v, e| v.or(expr_verdict(e, ctx)))
}

/// A line matches when one of its samples matches; without a match, a
/// fetch that lacked data makes it undecided.
fn expr_verdict(item: &AclItem, ctx: &FetchCtx) -> Verdict {
    let e = &item.expr;
    ctx.may_change.store(false, Ordering::Relaxed);
    let samples = fetch(&e.fetch, &e.fetch_args, ctx);
    let hit = samples
        .into_iter()
        .filter_map(|s| crate::sample::convert(s, &item.convs))
        .any(|s| matches(e, &s));
    if hit {
        Verdict::Pass
    } else if ctx.may_change.load(Ordering::Relaxed) {
        Verdict::Miss
    } else {
        Verdict::Fail
    }
}

/// Fetches every value of a sample (several for multi-value headers, which
/// HAProxy's ACLs try one by one).
pub fn fetch(name: &str, args: &[String], ctx: &FetchCtx) -> Vec<Sample> {
    let req = ctx.req;
    let path = || req.map(|r| path_of(&r.uri).to_vec());
    let one = |s: Option<Sample>| s.into_iter().collect::<Vec<_>>();
    match name {
        "always_true" => vec![Sample::Bool(true)],
        "always_false" => vec![Sample::Bool(false)],
        "fc_err" => vec![Sample::Int(
            ctx.record
                .and_then(|r| r.conn_err)
                .map_or(0, |e| e.code() as i64),
        )],
        "fc_err_str" => one(ctx
            .record
            .and_then(|r| r.conn_err)
            .map(|e| Sample::Str(e.text().as_bytes().to_vec()))),
        // No listener or server connection speaks TLS in this build (a
        // `bind ... ssl` is refused at start): these are always false.
        "ssl_fc" | "ssl_bc" => vec![Sample::Bool(false)],
        "unique-id" => one(ctx
            .record
            .and_then(|r| r.unique_id.as_ref())
            .map(|u| Sample::Str(u.as_bytes().to_vec()))),
        "src" => vec![Sample::Ip(ctx.src.ip())],
        "dst" => vec![Sample::Ip(ctx.dst.ip())],
        "src_port" => vec![Sample::Int(ctx.src.port() as i64)],
        "dst_port" => vec![Sample::Int(ctx.dst.port() as i64)],
        "req.proto_http" => vec![Sample::Bool(req.is_some())],
        "wait_end" => vec![Sample::Bool(true)],
        "method" => one(req.map(|r| Sample::Str(r.method.as_bytes().to_vec()))),
        "req.ver" => one(req.map(|r| Sample::Str(format!("1.{}", r.minor).into_bytes()))),
        "path" => one(path().map(Sample::Str)),
        "url" => one(req.map(|r| Sample::Str(r.uri.as_bytes().to_vec()))),
        "query" => one(req.and_then(|r| {
            r.uri
                .split_once('?')
                .map(|(_, q)| Sample::Str(q.as_bytes().to_vec()))
        })),
        "base" => one(req.map(|r| {
            let mut b = host(r).unwrap_or_default();
            b.extend_from_slice(path_of(&r.uri));
            Sample::Str(b)
        })),
        "url_param" | "urlp" => one(req.and_then(|r| {
            let q = r.uri.split_once('?').map(|(_, q)| q)?;
            let want = args.first()?;
            q.split('&').find_map(|kv| {
                let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                (k == want).then(|| Sample::Str(v.as_bytes().to_vec()))
            })
        })),
        "req.hdr" | "hdr" | "req.fhdr" => match (req, args.first()) {
            (Some(r), Some(h)) => {
                occurrence(header_values(&r.headers, h, name != "req.fhdr"), args)
                    .into_iter()
                    .map(Sample::Str)
                    .collect()
            }
            _ => vec![],
        },
        "req.hdr_cnt" | "hdr_cnt" | "req.fhdr_cnt" => match req {
            Some(r) => {
                vec![Sample::Int(
                    header_count(&r.headers, args.first(), name != "req.fhdr_cnt") as i64,
                )]
            }
            _ => vec![],
        },
        "req.hdr_val" | "hdr_val" => match (req, args.first()) {
            (Some(r), Some(h)) => ints(occurrence(header_values(&r.headers, h, true), args)),
            _ => vec![],
        },
        "req.hdr_ip" | "hdr_ip" => match (req, args.first()) {
            (Some(r), Some(h)) => ips(occurrence(header_values(&r.headers, h, true), args)),
            _ => vec![],
        },
        "req.cook" | "cook" => match req {
            Some(r) => cookies(&r.headers, "cookie", args.first().map(String::as_str))
                .into_iter()
                .map(Sample::Str)
                .collect(),
            None => vec![],
        },
        "req.cook_cnt" | "cook_cnt" => vec![Sample::Int(req.map_or(0, |r| {
            cookies(&r.headers, "cookie", args.first().map(String::as_str)).len()
        }) as i64)],
        "req.cook_val" | "cook_val" => match req {
            Some(r) => ints(cookies(
                &r.headers,
                "cookie",
                args.first().map(String::as_str),
            )),
            None => vec![],
        },
        // The response, for http-response rules.
        "status" => one(ctx.res.map(|r| Sample::Int(r.status as i64))),
        "res.ver" => one(ctx
            .res
            .map(|r| Sample::Str(format!("1.{}", r.minor).into_bytes()))),
        "res.hdr" | "shdr" | "res.fhdr" => match (ctx.res, args.first()) {
            (Some(r), Some(h)) => {
                occurrence(header_values(&r.headers, h, name != "res.fhdr"), args)
                    .into_iter()
                    .map(Sample::Str)
                    .collect()
            }
            _ => vec![],
        },
        "res.hdr_cnt" | "shdr_cnt" | "res.fhdr_cnt" => match ctx.res {
            Some(r) => {
                vec![Sample::Int(
                    header_count(&r.headers, args.first(), name != "res.fhdr_cnt") as i64,
                )]
            }
            None => vec![],
        },
        "res.hdr_val" | "shdr_val" => match (ctx.res, args.first()) {
            (Some(r), Some(h)) => ints(occurrence(header_values(&r.headers, h, true), args)),
            _ => vec![],
        },
        "res.hdr_ip" | "shdr_ip" => match (ctx.res, args.first()) {
            (Some(r), Some(h)) => ips(occurrence(header_values(&r.headers, h, true), args)),
            _ => vec![],
        },
        "res.cook" | "scook" => match ctx.res {
            Some(r) => cookies(&r.headers, "set-cookie", args.first().map(String::as_str))
                .into_iter()
                .map(Sample::Str)
                .collect(),
            None => vec![],
        },
        "res.cook_cnt" | "scook_cnt" => match ctx.res {
            Some(r) => vec![Sample::Int(
                cookies(&r.headers, "set-cookie", args.first().map(String::as_str)).len() as i64,
            )],
            None => vec![],
        },
        "res.cook_val" | "scook_val" => match ctx.res {
            Some(r) => ints(cookies(
                &r.headers,
                "set-cookie",
                args.first().map(String::as_str),
            )),
            None => vec![],
        },
        "res.len" => {
            ctx.lacking();
            vec![Sample::Int(ctx.res_payload.len() as i64)]
        }
        "res.payload" => payload(ctx.res_payload, args, ctx),
        "res.ssl_hello_type" | "rep_ssl_hello_type" => {
            match crate::tcp::tls::hello_type(ctx.res_payload) {
                Ok(t) => vec![Sample::Int(t as i64)],
                Err(crate::tcp::tls::Need::More) => {
                    ctx.lacking();
                    vec![]
                }
                Err(crate::tcp::tls::Need::Never) => vec![],
            }
        }
        "req.len" | "req_len" => {
            ctx.lacking();
            vec![Sample::Int(ctx.payload.len() as i64)]
        }
        "req.payload" | "payload" => payload(ctx.payload, args, ctx),
        "req.payload_lv" | "payload_lv" => {
            match crate::tcp::tls::payload_lv(
                ctx.payload,
                int_arg(args, 0),
                int_arg(args, 1),
                args.get(2).map(String::as_str),
            ) {
                Ok(v) => vec![Sample::Str(v.to_vec())],
                Err(crate::tcp::tls::Need::More) => {
                    ctx.lacking();
                    vec![]
                }
                Err(crate::tcp::tls::Need::Never) => vec![],
            }
        }
        "req.ssl_hello_type" | "req_ssl_hello_type" => {
            match crate::tcp::tls::hello_type(ctx.payload) {
                Ok(t) => vec![Sample::Int(t as i64)],
                Err(crate::tcp::tls::Need::More) => {
                    ctx.lacking();
                    vec![]
                }
                Err(crate::tcp::tls::Need::Never) => vec![],
            }
        }
        "req.ssl_sni" | "req_ssl_sni" => match crate::tcp::tls::client_hello_sni(ctx.payload) {
            Ok(name) => vec![Sample::Str(name.to_vec())],
            Err(crate::tcp::tls::Need::More) => {
                ctx.lacking();
                vec![]
            }
            Err(crate::tcp::tls::Need::Never) => vec![],
        },
        "req.rdp_cookie" | "rdp_cookie" | "req.rdp_cookie_cnt" | "rdp_cookie_cnt" => {
            let want = args.first().map_or(&b""[..], |a| a.as_bytes());
            let found = crate::balance::hash::rdp_cookie(ctx.payload, want);
            match (found, name.ends_with("_cnt")) {
                (Ok(v), false) => vec![Sample::Str(v.to_vec())],
                (Ok(_), true) => vec![Sample::Int(1)],
                (Err(crate::tcp::tls::Need::More), _) => {
                    ctx.lacking();
                    vec![]
                }
                (Err(crate::tcp::tls::Need::Never), cnt) => {
                    if cnt {
                        vec![Sample::Int(0)]
                    } else {
                        vec![]
                    }
                }
            }
        }
        "http_auth" | "http_auth_group" => {
            let ul = args
                .first()
                .and_then(|n| ctx.userlists.iter().find(|u| u.name == *n));
            let creds = req.and_then(|r| crate::http::auth::basic(&r.headers));
            let groups = match (ul, &creds) {
                (Some(ul), Some((u, p))) => ul.check(u, p),
                _ => None,
            };
            if name == "http_auth" {
                vec![Sample::Bool(groups.is_some())]
            } else {
                groups
                    .unwrap_or(&[])
                    .iter()
                    .map(|g| Sample::Str(g.clone().into_bytes()))
                    .collect()
            }
        }
        "http_auth_user" | "http_auth_pass" => one(req
            .and_then(|r| crate::http::auth::basic(&r.headers))
            .map(|(u, p)| Sample::Str(if name == "http_auth_user" { u } else { p }.into_bytes()))),
        "http_auth_type" => one(req
            .and_then(|r| crate::http::auth::scheme(&r.headers))
            .map(|t| Sample::Str(t.into_bytes()))),
        // Constants.
        "str" => vec![Sample::Str(
            args.first().cloned().unwrap_or_default().into_bytes(),
        )],
        "int" => vec![Sample::Int(
            args.first()
                .and_then(|a| a.trim().parse().ok())
                .unwrap_or(0),
        )],
        "bool" => vec![Sample::Bool(args.first().is_some_and(|a| a.trim() != "0"))],
        "var" => {
            let name = args.first().map(String::as_str).unwrap_or("");
            let found = match ctx.vars {
                Some(v) => crate::vars::store(name, v).get(name),
                None => crate::vars::process().get(name),
            };
            found.into_iter().collect()
        }
        "stopping" => vec![Sample::Bool(STOPPING.load(Ordering::Relaxed))],
        "nbsrv" => args
            .first()
            .and_then(|b| (ctx.nbsrv)(b))
            .map(|n| vec![Sample::Int(n as i64)])
            .unwrap_or_default(),
        _ => vec![],
    }
}

/// Set once the process received its soft-stop signal (the `stopping`
/// fetch), `grace` included.
pub static STOPPING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Fetches this runtime implements; a config naming another one is
/// refused at start-up (never silently evaluated as "no sample").
pub const RUNNABLE_FETCHES: &[&str] = &[
    "always_true",
    "unique-id",
    "ssl_fc",
    "ssl_bc",
    "fc_err",
    "fc_err_str",
    "always_false",
    "src",
    "dst",
    "src_port",
    "dst_port",
    "req.proto_http",
    "wait_end",
    "method",
    "req.ver",
    "path",
    "url",
    "query",
    "base",
    "url_param",
    "urlp",
    "req.hdr",
    "hdr",
    "req.fhdr",
    "req.hdr_cnt",
    "hdr_cnt",
    "req.hdr_val",
    "hdr_val",
    "req.cook",
    "cook",
    "req.cook_cnt",
    "cook_cnt",
    "req.cook_val",
    "cook_val",
    "req.fhdr_cnt",
    "req.hdr_ip",
    "hdr_ip",
    "status",
    "res.ver",
    "res.hdr",
    "shdr",
    "res.fhdr",
    "res.hdr_cnt",
    "shdr_cnt",
    "res.fhdr_cnt",
    "res.hdr_val",
    "shdr_val",
    "res.hdr_ip",
    "shdr_ip",
    "res.cook",
    "scook",
    "res.cook_cnt",
    "scook_cnt",
    "res.cook_val",
    "scook_val",
    "req.len",
    "req_len",
    "req.payload",
    "payload",
    "req.payload_lv",
    "payload_lv",
    "req.ssl_hello_type",
    "req_ssl_hello_type",
    "req.ssl_sni",
    "req_ssl_sni",
    "req.rdp_cookie",
    "rdp_cookie",
    "req.rdp_cookie_cnt",
    "rdp_cookie_cnt",
    "nbsrv",
    "stopping",
    "res.len",
    "res.payload",
    "res.ssl_hello_type",
    "rep_ssl_hello_type",
    "var",
    "str",
    "int",
    "bool",
    "http_auth",
    "http_auth_group",
    "http_auth_user",
    "http_auth_pass",
    "http_auth_type",
];

/// `payload(off,len)` of `p`: `len` 0 means "everything from `off` on".
fn payload(p: &[u8], args: &[String], ctx: &FetchCtx) -> Vec<Sample> {
    let off = int_arg(args, 0);
    let len = int_arg(args, 1);
    let end = if len == 0 {
        p.len().max(off)
    } else {
        off + len
    };
    if p.len() < end || (len == 0 && p.len() <= off) {
        ctx.lacking();
        return vec![];
    }
    vec![Sample::Str(p[off..end].to_vec())]
}

/// An integer fetch argument (0 when absent or not a number).
fn int_arg(args: &[String], i: usize) -> usize {
    args.get(i).and_then(|a| a.trim().parse().ok()).unwrap_or(0)
}

fn path_of(uri: &str) -> &[u8] {
    // An absolute-form URI's path starts after the authority.
    let u = if let Some(rest) = uri.split_once("://").map(|(_, r)| r) {
        rest.find('/').map_or("", |i| &rest[i..])
    } else {
        uri
    };
    u.split('?').next().unwrap_or("").as_bytes()
}

fn host(r: &crate::http::parse::RequestHead) -> Option<Vec<u8>> {
    r.headers
        .iter()
        .find(|h| h.name == "host")
        .map(|h| h.value.clone())
}

/// Values of header `name`; `split_commas` treats commas as separators, as
/// `hdr()` does (`fhdr()` does not).
fn header_values(
    headers: &[crate::http::parse::Header],
    name: &str,
    split_commas: bool,
) -> Vec<Vec<u8>> {
    let name = name.to_ascii_lowercase();
    let mut out = Vec::new();
    for h in headers.iter().filter(|h| h.name == name) {
        if split_commas {
            out.extend(
                h.value
                    .split(|b| *b == b',')
                    .map(|v| v.trim_ascii().to_vec()),
            );
        } else {
            out.push(h.value.clone());
        }
    }
    out
}

/// How many values (`split_commas`) or lines header `name` has; every
/// header counts without a name.
fn header_count(
    headers: &[crate::http::parse::Header],
    name: Option<&String>,
    split_commas: bool,
) -> usize {
    match name {
        Some(n) => header_values(headers, n, split_commas).len(),
        None if split_commas => headers
            .iter()
            .map(|h| h.value.split(|b| *b == b',').count())
            .sum(),
        None => headers.len(),
    }
}

/// The `occ` argument of a header fetch: the occ-th value (from 1), or
/// from the end when negative; all of them when absent or 0.
fn occurrence(values: Vec<Vec<u8>>, args: &[String]) -> Vec<Vec<u8>> {
    let occ: i64 = match args.get(1).and_then(|a| a.trim().parse().ok()) {
        Some(o) if o != 0 => o,
        _ => return values,
    };
    let i = if occ > 0 {
        usize::try_from(occ - 1).ok()
    } else {
        values.len().checked_sub(occ.unsigned_abs() as usize)
    };
    i.and_then(|i| values.into_iter().nth(i))
        .into_iter()
        .collect()
}

fn ints(values: Vec<Vec<u8>>) -> Vec<Sample> {
    values
        .iter()
        .filter_map(|v| {
            String::from_utf8_lossy(v)
                .trim()
                .parse()
                .ok()
                .map(Sample::Int)
        })
        .collect()
}

fn ips(values: Vec<Vec<u8>>) -> Vec<Sample> {
    values
        .iter()
        .filter_map(|v| {
            String::from_utf8_lossy(v)
                .trim()
                .parse()
                .ok()
                .map(Sample::Ip)
        })
        .collect()
}

/// Cookie values from the `header` lines (`cookie` or `set-cookie`), as
/// 2.6 reads them: `;` and `,` separate cookies, and a cookie needs an `=`.
/// In `Set-Cookie`, what follows the first `;` of a cookie is its
/// attributes, not cookies — except when no name is asked for, where 2.6
/// counts every `name=value` pair.
fn cookies(
    headers: &[crate::http::parse::Header],
    header: &str,
    name: Option<&str>,
) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let attrs_are_cookies = header == "cookie" || name.is_none();
    for h in headers.iter().filter(|h| h.name == header) {
        for element in h.value.split(|b| *b == b',') {
            let pairs = element.split(|b| *b == b';');
            let pairs: Vec<&[u8]> = if attrs_are_cookies {
                pairs.collect()
            } else {
                pairs.take(1).collect()
            };
            for pair in pairs {
                let pair = pair.trim_ascii();
                let Some(i) = pair.iter().position(|b| *b == b'=') else {
                    continue;
                };
                let (k, v) = (pair[..i].trim_ascii(), pair[i + 1..].trim_ascii());
                if name.is_none_or(|n| n.as_bytes() == k) {
                    out.push(v.to_vec());
                }
            }
        }
    }
    out
}

fn as_bytes(s: &Sample) -> Vec<u8> {
    match s {
        Sample::Str(v) => v.clone(),
        Sample::Int(i) => i.to_string().into_bytes(),
        Sample::Ip(ip) => ip.to_string().into_bytes(),
        Sample::Bool(b) => (*b as u8).to_string().into_bytes(),
    }
}

fn matches(e: &AclExpr, s: &Sample) -> bool {
    let text = || {
        let b = as_bytes(s);
        if e.icase {
            b.to_ascii_lowercase()
        } else {
            b
        }
    };
    match (&e.matcher, &e.patterns) {
        (Matcher::Found, _) => true,
        (Matcher::Bool, _) => match s {
            Sample::Bool(b) => *b,
            Sample::Int(i) => *i != 0,
            _ => true,
        },
        (Matcher::Int, Patterns::Ints(r)) => match s {
            Sample::Int(i) => r.iter().any(|r| r.contains(*i)),
            Sample::Str(v) => String::from_utf8_lossy(v)
                .trim()
                .parse::<i64>()
                .is_ok_and(|i| r.iter().any(|r| r.contains(i))),
            _ => false,
        },
        (Matcher::Len, Patterns::Ints(r)) => r.iter().any(|r| r.contains(as_bytes(s).len() as i64)),
        (Matcher::Ip, Patterns::Ips(nets)) => {
            let ip = match s {
                Sample::Ip(ip) => Some(*ip),
                Sample::Str(v) => String::from_utf8_lossy(v).trim().parse().ok(),
                _ => None,
            };
            ip.is_some_and(|ip| nets.iter().any(|n| in_net(ip, n)))
        }
        (Matcher::Reg, Patterns::Regexes(res)) => {
            let t = as_bytes(s);
            res.iter().any(|re| re.is_match(&t))
        }
        (Matcher::Bin, Patterns::Bins(bins)) => bins.iter().any(|b| *b == as_bytes(s)),
        // Exact, prefix and suffix matches on a string sample compare in
        // place (patterns are lower-cased already with -i): no copy.
        (m @ (Matcher::Str | Matcher::Beg | Matcher::End), Patterns::Strs(pats))
            if matches!(s, Sample::Str(_)) =>
        {
            let Sample::Str(t) = s else { return false };
            let eq = |a: &[u8], b: &[u8]| {
                if e.icase {
                    a.eq_ignore_ascii_case(b)
                } else {
                    a == b
                }
            };
            pats.iter().any(|p| {
                let p = p.as_bytes();
                match m {
                    Matcher::Str => t.len() == p.len() && eq(t, p),
                    Matcher::Beg => t.len() >= p.len() && eq(&t[..p.len()], p),
                    _ => t.len() >= p.len() && eq(&t[t.len() - p.len()..], p),
                }
            })
        }
        (m, Patterns::Strs(pats)) => {
            let t = text();
            pats.iter().any(|p| str_match(*m, &t, p.as_bytes()))
        }
        _ => false,
    }
}

fn str_match(m: Matcher, t: &[u8], p: &[u8]) -> bool {
    match m {
        Matcher::Str => t == p,
        Matcher::Beg => t.starts_with(p),
        Matcher::End => t.ends_with(p),
        Matcher::Sub => t.windows(p.len().max(1)).any(|w| w == p) || p.is_empty(),
        Matcher::Dir => delimited(t, p, b'/'),
        Matcher::Dom => delimited(t, p, b'.') || delimited(t, p, b'/') || delimited(t, p, b'?'),
        _ => t == p,
    }
}

/// `p` appears in `t` as whole delimiter-separated parts.
fn delimited(t: &[u8], p: &[u8], d: u8) -> bool {
    let p = p.strip_prefix(&[d][..]).unwrap_or(p);
    let p = p.strip_suffix(&[d][..]).unwrap_or(p);
    if p.is_empty() {
        return false;
    }
    let parts: Vec<&[u8]> = t.split(|b| *b == d).collect();
    let want: Vec<&[u8]> = p.split(|b| *b == d).collect();
    parts.windows(want.len()).any(|w| w == want.as_slice())
}

fn in_net(ip: IpAddr, n: &IpNet) -> bool {
    match (ip, n.addr) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            let mask = if n.prefix == 0 {
                0
            } else {
                u32::MAX << (32 - n.prefix as u32)
            };
            u32::from(a) & mask == u32::from(b) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            let mask = if n.prefix == 0 {
                0
            } else {
                u128::MAX << (128 - n.prefix as u32)
            };
            u128::from(a) & mask == u128::from(b) & mask
        }
        (IpAddr::V6(a), IpAddr::V4(_)) => a
            .to_ipv4_mapped()
            .is_some_and(|v4| in_net(IpAddr::V4(v4), n)),
        (IpAddr::V4(a), IpAddr::V6(_)) => in_net(IpAddr::V6(a.to_ipv6_mapped()), n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::parse::parse_request;
    use cfg_parser::acl::compile_expression;

    fn check(expr: &[&str], raw: &[u8]) -> bool {
        let e = compile_expression(&expr.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            .expect("expr");
        let (req, _) = parse_request(raw).unwrap().unwrap();
        let nbsrv = |_: &str| Some(2);
        let ctx = FetchCtx::new(
            "10.1.2.3:40000".parse().unwrap(),
            "127.0.0.1:80".parse().unwrap(),
            Some(&req),
            &nbsrv,
        );
        let convs = e
            .converters
            .iter()
            .filter_map(|(n, a)| crate::sample::compile_conv(n, a).ok().flatten())
            .collect();
        expr_verdict(&AclItem { expr: e, convs }, &ctx) == Verdict::Pass
    }

    const REQ: &[u8] = b"GET /api/v1/users?id=7&x=y HTTP/1.1\r\nHost: API.Example.com\r\nCookie: a=1; SRV=s2\r\nX-List: a, b\r\n\r\n";

    #[test]
    fn common_fetches_and_matchers() {
        assert!(check(&["hdr(host)", "-i", "api.example.com"], REQ));
        assert!(!check(&["hdr(host)", "api.example.com"], REQ));
        assert!(check(&["hdr_end(host)", "-i", ".example.com"], REQ));
        assert!(check(&["hdr_dom(host)", "-i", "example.com"], REQ));
        assert!(check(&["path_beg", "/api"], REQ));
        assert!(check(&["path_dir", "v1"], REQ));
        assert!(check(&["path_reg", "^/api/v[0-9]+/"], REQ));
        assert!(check(&["path_len", "gt", "5"], REQ));
        assert!(check(&["url_param(id)", "7"], REQ));
        assert!(check(&["urlp(x)", "y"], REQ));
        assert!(check(&["query", "-m", "sub", "id=7"], REQ));
        assert!(check(&["method", "GET"], REQ));
        assert!(check(&["req.ver", "1.1"], REQ));
        assert!(check(&["src", "10.0.0.0/8"], REQ));
        assert!(!check(&["src", "192.168.0.0/16"], REQ));
        assert!(check(&["dst_port", "80"], REQ));
        assert!(check(&["cook(SRV)", "s2"], REQ));
        assert!(check(&["hdr(x-list)", "b"], REQ));
        assert!(check(&["hdr_cnt(x-list)", "2"], REQ));
        assert!(check(&["hdr(host),lower", "api.example.com"], REQ));
        assert!(check(&["nbsrv(be)", "ge", "1"], REQ));
        assert!(check(&["base", "-m", "beg", "API.Example.com/api"], REQ));
        assert!(!check(&["hdr(x-none)", "-m", "found"], REQ));
    }
}
