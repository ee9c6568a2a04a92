//! AST -> Runtime. Runs after the checks passed, so every name it looks up
//! exists; it resolves names to indexes, applies HAProxy's default values,
//! expands port ranges, and merges same-name ACL lines.
use super::*;
use crate::http::reply::{ErrorPages, Message};
use crate::http::rules::ReplySpec;
use cfg_parser::acl::{compile_expression, PREDEFINED_ACLS};
use cfg_parser::addr::{wildcard_ip, Address, Host, Port};
use cfg_parser::ast::{self, AclRef, Condition, Config, Proxy, ProxyKind};
use cfg_parser::resolve::resolve_host;
use std::net::IpAddr;
use std::sync::Arc;

/// HAProxy's defaults for what a config leaves unset.
const DEFAULT_RETRIES: u32 = 3;
const DEFAULT_INTER_MS: u64 = 2000;
const DEFAULT_RISE: u32 = 2;
const DEFAULT_FALL: u32 = 3;
const DEFAULT_WEIGHT: u32 = 1;
const DEFAULT_BUFSIZE: usize = 16384;
const DEFAULT_MAXREWRITE: usize = 1024;
const DEFAULT_STATS_TIMEOUT_MS: u64 = 10_000;
const DEFAULT_STATS_MAXCONN: u32 = 10;
/// The ids of the proxies (`iid` in the statistics, which tools read):
/// the `id` set, else the next free one from 1, as 2.6 numbers them — from
/// 2 when there is a stats socket, whose internal proxy takes 1.
/// Disabled proxies take theirs too; the ids of the others are returned.
fn proxy_ids(cfg: &Config) -> Vec<u32> {
    let taken: Vec<u32> = cfg.proxies.iter().filter_map(|p| p.custom_id).collect();
    let mut next = if cfg.global.stats_sockets.is_empty() {
        1
    } else {
        2
    };
    let mut out = Vec::new();
    for p in &cfg.proxies {
        let id = p.custom_id.unwrap_or_else(|| {
            while taken.contains(&next) {
                next += 1;
            }
            next += 1;
            next - 1
        });
        if !p.disabled {
            out.push(id);
        }
    }
    out
}

/// Compiles a configuration that passed `cfg_parser::check`.
pub fn compile(cfg: &Config) -> Runtime {
    let mut unrunnable = Vec::new();
    let global_logs = super::log::global_targets(&cfg.global.logs, &mut unrunnable);
    let sections = http_errors_sections(cfg, &mut unrunnable);
    let proxies: Vec<&Proxy> = cfg.proxies.iter().filter(|p| !p.disabled).collect();
    let ids = proxy_ids(cfg);
    // Backends first, so frontends can point at them by index.
    let mut backends = Vec::new();
    let mut backend_of: Vec<Option<BackendId>> = Vec::new();
    for (i, p) in proxies.iter().enumerate() {
        if p.kind == ProxyKind::Frontend {
            backend_of.push(None);
            continue;
        }
        backend_of.push(Some(BackendId(backends.len())));
        let defaults = p
            .defaults_from
            .as_ref()
            .and_then(|span| cfg.defaults.iter().find(|d| &d.span == span));
        let mut b = compile_backend(p, defaults, ids[i], &sections, &cfg.global, &mut unrunnable);
        // A listen section's log lines are reported with its frontend part.
        let mut seen = Vec::new();
        b.log_targets = super::log::proxy_targets(p, &global_logs, &mut seen);
        if p.kind == ProxyKind::Backend {
            unrunnable.extend(seen);
        }
        backends.push(b);
    }
    let find_backend = |name: &str| -> Option<BackendId> {
        proxies
            .iter()
            .zip(&backend_of)
            .find(|(p, b)| p.name == name && b.is_some())
            .and_then(|(_, b)| *b)
    };
    let mut frontends = Vec::new();
    let mut listeners = Vec::new();
    for (i, p) in proxies.iter().enumerate() {
        if p.kind == ProxyKind::Backend {
            continue;
        }
        let fid = FrontendId(frontends.len());
        for b in &p.binds {
            for a in &b.addrs {
                for addr in listen_addrs(a) {
                    listeners.push(Listener {
                        addr,
                        frontend: fid,
                        params: b.params.clone(),
                        span: b.span.clone(),
                    });
                }
            }
        }
        let mut acls = AclTable::new(p, &mut unrunnable);
        let mut switching = Vec::new();
        for ub in &p.use_backends {
            let target = match find_backend(&ub.backend) {
                Some(id) => BackendTarget::Static(id),
                None => match dynamic_target(&ub.backend) {
                    Ok(pieces) => BackendTarget::Dynamic(pieces),
                    Err(what) => {
                        acls.unrunnable.push((ub.span.clone(), what));
                        continue;
                    }
                },
            };
            switching.push(SwitchingRule {
                target,
                cond: ub.cond.as_ref().map(|c| acls.cond(c)),
            });
        }
        // A listen section serves its own servers unless told otherwise.
        let default_backend = match &p.default_backend {
            Some((name, _)) => find_backend(name),
            None if p.kind == ProxyKind::Listen => backend_of[i],
            None => None,
        };
        let (tcp, http) = tcp_rules(p, &mut acls, &sections);
        // A 1.5 `reqsetbe` names a backend that must exist.
        for r in &http.request_tail {
            if let crate::http::rules::HttpAction::Legacy(f) = &r.action {
                if let crate::http::legacy::Kind::SetBackend(name) = &f.kind {
                    if find_backend(name).is_none() {
                        acls.unrunnable.push((
                            p.span.clone(),
                            format!("'reqsetbe' to unknown backend '{name}'"),
                        ));
                    }
                }
            }
        }
        let stats = stats_page(p, &mut acls, &cfg.global, &sections);
        let monitor_uri = p
            .monitor_uri
            .clone()
            .filter(|_| p.effective_mode() == ast::Mode::Http);
        let monitor_fail = p.monitor_fail.iter().map(|(c, _)| acls.cond(c)).collect();
        frontends.push(Frontend {
            name: p.name.clone(),
            fid,
            id: ids[i],
            mode: p.effective_mode(),
            maxconn: p.maxconn,
            timeouts: timeouts(p),
            options: options(p),
            acls: acls.table,
            switching,
            default_backend,
            rules: p.rules.clone(),
            tcp,
            http,
            log: super::log::proxy_log(p, &global_logs, acls.unrunnable),
            error_pages: error_pages(p, &sections, acls.unrunnable),
            stats,
            monitor_uri,
            monitor_fail,
            span: p.span.clone(),
        });
    }
    // `track`: the server each tracking server follows (checked already).
    for (p, b) in proxies.iter().zip(&backend_of) {
        let Some(b) = b else { continue };
        for (j, s) in p.servers.iter().enumerate() {
            let Some(target) = cfg_parser::check::track_of(s) else {
                continue;
            };
            let found = cfg_parser::check::track_target(cfg, p, target)
                .ok()
                .and_then(|(tp, ti)| {
                    let pos = proxies.iter().position(|x| std::ptr::eq(*x, tp))?;
                    Some((backend_of[pos]?, ti))
                });
            match found {
                Some(t) => backends[b.0].servers[j].track = Some(t),
                None => unrunnable.push((s.span.clone(), format!("'track {target}'"))),
            }
        }
    }
    let mut global = global(&cfg.global, &mut unrunnable);
    for s in &global.stats_sockets {
        if let Some(what) = crate::stats::socket::unrunnable(s) {
            unrunnable.push((s.span.clone(), what));
        }
    }
    global.log_targets = global_logs;
    global.effective_maxconn = global.maxconn.filter(|m| *m > 0).unwrap_or_else(|| {
        default_global_maxconn(global.nbthread, listeners.len(), global.stats_sockets.len())
    });
    default_fullconn(&frontends, &mut backends, &global);
    Runtime {
        userlists: cfg
            .userlists
            .iter()
            .map(crate::http::auth::Userlist::compile)
            .collect(),
        unrunnable,
        global,
        listeners,
        frontends,
        backends,
    }
}

/// `capture <sample> len N | id N`: the slot it fills among the proxy's
/// capture slots, in declaration order.
fn capture_action(
    p: &Proxy,
    r: &cfg_parser::ast::Rule,
) -> Result<crate::http::rules::HttpAction, String> {
    let (req, res) = super::log::capture_slots(p);
    let slots = if r.keyword == "http-request" {
        req
    } else {
        res
    };
    let (slot, len) = super::log::rule_slot(&slots, &r.words, r.span.line)
        .ok_or_else(|| "a capture slot it does not declare".to_string())?;
    let text = r.words.get(1).map(String::as_str).unwrap_or("");
    let expr = cfg_parser::logformat::parse_sample_expr(text)
        .map(cfg_parser::logformat::Part::Sample)
        .and_then(|part| crate::sample::compile_logformat(&[part]))?;
    let expr = expr.into_iter().next().ok_or("an empty sample")?;
    Ok(crate::http::rules::HttpAction::Capture { expr, slot, len })
}

/// HAProxy's default `fullconn` for the backends without one: a tenth,
/// rounded up and at least 1, of the summed `maxconn` of the frontends that
/// may send it requests. A frontend counts once for a backend, through its
/// `default_backend` (a `listen` without one counts for itself) or its
/// `use_backend` rules naming the backend; rules with a dynamic name are not
/// counted. A frontend without `maxconn` counts the global one.
fn default_fullconn(frontends: &[Frontend], backends: &mut [Backend], global: &GlobalSettings) {
    let global_maxconn = global.effective_maxconn;
    let mut total = vec![0u64; backends.len()];
    for fe in frontends {
        let maxconn = u64::from(fe.maxconn.filter(|m| *m > 0).unwrap_or(global_maxconn));
        let mut reached: Vec<BackendId> = fe.default_backend.into_iter().collect();
        for rule in &fe.switching {
            if let BackendTarget::Static(b) = rule.target {
                if !reached.contains(&b) {
                    reached.push(b);
                }
            }
        }
        for b in reached {
            total[b.0] += maxconn;
        }
    }
    for (be, total) in backends.iter_mut().zip(total) {
        if be.fullconn.is_none() {
            be.fullconn = Some(total.div_ceil(10).clamp(1, u64::from(u32::MAX)) as u32);
        }
    }
}

/// HAProxy's `maxconn` when the global section sets none: what the open
/// files limit allows at two descriptors per connection, after the
/// descriptors HAProxy sets apart: 10, one per listener, one per stats
/// socket and 10 more when there is one, 3 per thread (its poller and
/// wake-up pipe) — fitted on 2.6 with 0 to 4 sockets and 1 or 2 threads;
/// never below 100.
fn default_global_maxconn(nbthread: Option<u32>, listeners: usize, sockets: usize) -> u32 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit with a valid struct.
    unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) };
    let threads = nbthread.map_or_else(
        || std::thread::available_parallelism().map_or(1, |n| n.get() as u64),
        u64::from,
    );
    let cli = if sockets > 0 { 10 } else { 0 };
    let reserved = 10 + listeners as u64 + sockets as u64 + cli + 3 * threads;
    let maxconn = (lim.rlim_cur.min(u64::from(u32::MAX))).saturating_sub(reserved) / 2;
    maxconn.max(100) as u32
}

/// The proxy's `tcp-request` and http rules, conditions compiled against
/// its ACL table. The http rules land where HAProxy runs them: 1.5's
/// `monitor-net` and `block` before the `http-request` rules; 1.5's
/// request filters, then its `reqadd` lines, then the `redirect` rules
/// after them; 1.5's response filters then `rspadd` after the
/// `http-response` rules.
fn tcp_rules(
    p: &Proxy,
    acls: &mut AclTable,
    sections: &crate::http::rules::Sections,
) -> (crate::tcp::rules::TcpRules, crate::http::rules::HttpRules) {
    use crate::http::rules::{HttpAction, HttpRule};
    use crate::tcp::rules::{action, TcpAction, TcpRule};
    let mut t = crate::tcp::rules::TcpRules::default();
    let mut h = crate::http::rules::HttpRules::default();
    // Request: head (monitor-net, block), http-request; tail: filters,
    // reqadd, redirect. Response: http-response; tail: filters, rspadd.
    let (mut head, mut req_filters, mut reqadd, mut redirects) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut rsp_filters, mut rspadd) = (Vec::new(), Vec::new());
    for r in &p.rules {
        let cond = r.cond.as_ref().map(|c| acls.cond(c));
        let response = match r.keyword.as_str() {
            "tcp-request" => false,
            "tcp-response" => true,
            kw @ ("http-request" | "http-response" | "http-after-response" | "redirect") => {
                let how = crate::http::rules::Compile {
                    response: kw != "http-request" && kw != "redirect",
                    literal_redirect: kw == "redirect",
                    sections,
                };
                let legacy = r.translated_from.as_deref();
                let compiled = match (kw, legacy) {
                    ("redirect", _) => {
                        let mut words = vec!["redirect".to_string()];
                        words.extend(r.words.iter().cloned());
                        crate::http::rules::action(&words, &how)
                    }
                    // 1.5's added line is literal text, never a log-format.
                    (_, Some("reqadd" | "rspadd")) => Ok(HttpAction::AddHeader {
                        name: r.words[1].to_ascii_lowercase(),
                        upper: crate::http::parse::upper_bits(&r.words[1]),
                        value: vec![crate::sample::Piece::Lit(r.words[2].clone())],
                    }),
                    _ if r.words.first().is_some_and(|w| w == "capture") => capture_action(p, r),
                    _ => crate::http::rules::action(&r.words, &how),
                };
                let action = match compiled {
                    // `auth` without a realm uses the proxy's name.
                    Ok(HttpAction::Auth { realm: None }) => HttpAction::Auth {
                        realm: Some(p.name.clone()),
                    },
                    Ok(a) => a,
                    Err(what) => {
                        let who = legacy.unwrap_or(kw);
                        acls.unrunnable
                            .push((r.span.clone(), format!("'{who}' with {what}")));
                        continue;
                    }
                };
                let rule = HttpRule { action, cond };
                let list = match (kw, legacy) {
                    ("redirect", _) => &mut redirects,
                    (_, Some("monitor-net" | "block")) => &mut head,
                    (_, Some("reqadd")) => &mut reqadd,
                    (_, Some("rspadd")) => &mut rspadd,
                    ("http-request", Some(_)) => &mut req_filters,
                    (_, Some(_)) => &mut rsp_filters,
                    ("http-request", None) => &mut h.request,
                    ("http-response", None) => &mut h.response,
                    _ => &mut h.after,
                };
                list.push(rule);
                continue;
            }
            kw => {
                // Other rule sets have no engine yet.
                let what = r.translated_from.as_deref().unwrap_or(kw);
                acls.unrunnable.push((r.span.clone(), format!("'{what}'")));
                continue;
            }
        };
        let set = r.words.first().map(String::as_str).unwrap_or("");
        if set == "inspect-delay" {
            let v = r.words.get(1).map(String::as_str).unwrap_or("");
            let delay = cfg_parser::values::parse_time_ms(v).unwrap_or(0);
            if response {
                t.response_inspect_delay = delay;
            } else {
                t.inspect_delay = delay;
            }
            continue;
        }
        let list = match set {
            _ if response => &mut t.response,
            "connection" => &mut t.connection,
            "session" => &mut t.session,
            _ => &mut t.content,
        };
        match action(&r.words[1.min(r.words.len())..]) {
            // expect-proxy only means something on the client side.
            Ok(TcpAction::ExpectProxy) if response => acls.unrunnable.push((
                r.span.clone(),
                format!("'{} {set}' with the tcp action 'expect-proxy'", r.keyword),
            )),
            Ok(a) => list.push(TcpRule { action: a, cond }),
            Err(what) => acls
                .unrunnable
                .push((r.span.clone(), format!("'{} {set}' with {what}", r.keyword))),
        }
    }
    head.append(&mut h.request);
    h.request = head;
    h.request_tail = req_filters;
    h.request_tail.append(&mut reqadd);
    h.request_tail.append(&mut redirects);
    h.response_tail = rsp_filters;
    h.response_tail.append(&mut rspadd);
    (t, h)
}

/// The `http-errors` sections, their pages loaded once.
fn http_errors_sections(
    cfg: &Config,
    unrunnable: &mut Vec<(Span, String)>,
) -> Vec<crate::http::rules::Section> {
    cfg.http_errors
        .iter()
        .map(|s| {
            let mut pages: Vec<(u16, Arc<Message>)> = Vec::new();
            for (code, path, span) in &s.errorfiles {
                match Message::from_file(path) {
                    Ok(m) => {
                        pages.retain(|(c, _)| c != code);
                        pages.push((*code, Arc::new(m)));
                    }
                    Err(what) => unrunnable.push((span.clone(), what)),
                }
            }
            (s.name.clone(), pages)
        })
        .collect()
}

/// The proxy's error pages by status code, from its `errorfile`,
/// `errorfiles`, `errorloc*` and `http-error` lines in order (a later line
/// for a code replaces an earlier one), files loaded once.
fn error_pages(
    p: &Proxy,
    sections: &crate::http::rules::Sections,
    unrunnable: &mut Vec<(Span, String)>,
) -> ErrorPages {
    use crate::http::reply::Reply;
    let mut out: ErrorPages = Vec::new();
    let set = |out: &mut ErrorPages, code: u16, r: Reply| {
        out.retain(|(c, _)| *c != code);
        out.push((code, r));
    };
    // The status code as 2.6 reads it (`atoi`).
    let code_of = |w: Option<&String>| -> u16 {
        let w = w.map_or("", |w| w.trim_start());
        let digits: String = w.chars().take_while(char::is_ascii_digit).collect();
        digits.parse().unwrap_or(0)
    };
    for (words, span) in &p.error_lines {
        match words.first().map(String::as_str).unwrap_or("") {
            "errorfile" => match Message::from_file(words.get(2).map_or("", String::as_str)) {
                Ok(m) => set(&mut out, code_of(words.get(1)), Reply::Message(Arc::new(m))),
                Err(what) => unrunnable.push((span.clone(), what)),
            },
            kw @ ("errorloc" | "errorloc302" | "errorloc303") => {
                let status = if kw == "errorloc303" { 303 } else { 302 };
                let url = words.get(2).map_or("", String::as_str);
                set(
                    &mut out,
                    code_of(words.get(1)),
                    Reply::Message(Arc::new(Message::location(status, url))),
                );
            }
            "errorfiles" => {
                let name = words.get(1).map_or("", String::as_str);
                let Some((_, pages)) = sections.iter().find(|(n, _)| n == name) else {
                    unrunnable.push((span.clone(), format!("http-errors section '{name}'")));
                    continue;
                };
                let codes: Vec<u16> = words[2..].iter().map(|w| code_of(Some(w))).collect();
                for (code, m) in pages {
                    if codes.is_empty() || codes.contains(code) {
                        set(&mut out, *code, Reply::Message(m.clone()));
                    }
                }
            }
            "http-error" => {
                let code = code_of(words.get(2));
                match crate::http::rules::reply(&words[3.min(words.len())..], code, false, sections)
                {
                    Ok(ReplySpec::Reply(r)) => set(&mut out, code, r),
                    Ok(ReplySpec::ProxyPage(_)) => out.retain(|(c, _)| *c != code),
                    Ok(ReplySpec::SectionMiss(_)) => {}
                    Err(what) => {
                        unrunnable.push((span.clone(), format!("'http-error' with {what}")))
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// A `use_backend` name built from a log-format expression.
fn dynamic_target(text: &str) -> Result<Vec<crate::sample::Piece>, String> {
    let parts = cfg_parser::logformat::parse_logformat(text)
        .map_err(|e| format!("use_backend rule '{text}' ({e})"))?;
    crate::sample::compile_logformat(&parts)
}

/// Compiles an ACL line's converters; a converter without a runtime is
/// recorded as unrunnable.
fn acl_item(expr: &AclExpr, span: &Span, unrunnable: &mut Vec<(Span, String)>) -> AclItem {
    if !crate::acl::RUNNABLE_FETCHES.contains(&expr.fetch.as_str()) {
        unrunnable.push((span.clone(), format!("sample fetch '{}'", expr.fetch)));
    }
    let mut convs = Vec::new();
    for (name, args) in &expr.converters {
        match crate::sample::compile_conv(name, args) {
            Ok(Some(c)) => convs.push(c),
            Ok(None) => unrunnable.push((span.clone(), format!("converter '{name}'"))),
            Err(e) => unrunnable.push((span.clone(), format!("converter '{name}' ({e})"))),
        }
    }
    AclItem {
        expr: expr.clone(),
        convs,
    }
}

/// The `cpu-map` lines; one this build cannot apply is refused.
fn cpu_map(g: &ast::Global, unrunnable: &mut Vec<(Span, String)>) -> Vec<crate::cpumap::Entry> {
    g.directives
        .iter()
        .filter(|d| d.word(0) == "cpu-map")
        .filter_map(|d| {
            let words: Vec<&str> = d.rest(1).collect();
            crate::cpumap::parse(&words)
                .map_err(|e| unrunnable.push((d.span.clone(), format!("'cpu-map' ({e})"))))
                .ok()
        })
        .collect()
}

fn global(g: &ast::Global, unrunnable: &mut Vec<(Span, String)>) -> GlobalSettings {
    let tune = |k: &str, dflt: usize| {
        g.tune
            .get(k)
            .and_then(|(v, _)| v.parse().ok())
            .filter(|v: &usize| *v > 0)
            .unwrap_or(dflt)
    };
    GlobalSettings {
        maxconn: g.maxconn,
        nbthread: g.nbthread,
        daemon: g.daemon,
        master_worker: g.master_worker,
        pidfile: g.pidfile.clone(),
        chroot: g.chroot.clone(),
        user: g.user.clone(),
        group: g.group.clone(),
        uid: g.uid,
        gid: g.gid,
        ulimit_n: g
            .directives
            .iter()
            .rev()
            .find(|d| d.word(0) == "ulimit-n")
            .and_then(|d| d.word(1).parse().ok()),
        cpu_map: cpu_map(g, unrunnable),
        hard_stop_after_ms: g.hard_stop_after,
        grace_ms: g.grace.filter(|ms| *ms > 0),
        nosplice: g.nosplice,
        maxpipes: g.maxpipes,
        pipesize: tune("tune.pipesize", 0),
        bufsize: tune("tune.bufsize", DEFAULT_BUFSIZE),
        maxrewrite: tune("tune.maxrewrite", DEFAULT_MAXREWRITE),
        log_targets: Vec::new(),
        log_tag: g.log_tag.clone(),
        log_send_hostname: g
            .directives
            .iter()
            .rev()
            .find(|d| d.word(0) == "log-send-hostname")
            .map(|d| Some(d.word(1).to_string()).filter(|h| !h.is_empty())),
        node: g
            .directives
            .iter()
            .rev()
            .find(|d| d.word(0) == "node")
            .map(|d| d.word(1).to_string())
            .unwrap_or_else(host_name),
        spread_checks: g
            .directives
            .iter()
            .rev()
            .find(|d| d.word(0) == "spread-checks")
            .and_then(|d| d.word(1).parse().ok())
            .unwrap_or(0)
            .min(50),
        stats_sockets: g.stats_sockets.clone(),
        stats_timeout_ms: g.stats_timeout.unwrap_or(DEFAULT_STATS_TIMEOUT_MS),
        stats_maxconn: g.stats_maxconn.unwrap_or(DEFAULT_STATS_MAXCONN),
        effective_maxconn: 0,
        description: g
            .directives
            .iter()
            .rev()
            .find(|d| d.word(0) == "description")
            .map(|d| d.rest(1).collect::<Vec<_>>().join(" ")),
        case_map: g
            .directives
            .iter()
            .filter(|d| d.word(0) == "h1-case-adjust")
            .map(|d| (d.word(1).to_ascii_lowercase(), d.word(2).to_string()))
            .collect(),
    }
}

/// The machine's name (the default `node`).
pub fn host_name() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most buf.len() bytes into our buffer.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return String::new();
    }
    let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

/// The sockets one bind address stands for (a port range gives one per port).
fn listen_addrs(a: &Address) -> Vec<ListenAddr> {
    match a {
        Address::Inet {
            host, port, family, ..
        } => {
            let ip: IpAddr = match host {
                Host::Wildcard => wildcard_ip(*family),
                Host::Ip(ip) => *ip,
                Host::Name(n) => resolve_host(n).unwrap_or(wildcard_ip(*family)),
            };
            let ports: Vec<u16> = match port {
                Port::One(p) => vec![*p],
                Port::Range(lo, hi) => (*lo..=*hi).collect(),
                Port::None | Port::Offset(_) => vec![],
            };
            ports
                .into_iter()
                .map(|p| ListenAddr::Inet(SocketAddr::new(ip, p)))
                .collect()
        }
        Address::Unix { path, .. } => vec![ListenAddr::Unix(path.into())],
        Address::Abns(n) => vec![ListenAddr::Abns(n.clone())],
        Address::Fd(n) | Address::SockPair(n) => vec![ListenAddr::Fd(*n)],
    }
}

fn timeouts(p: &Proxy) -> Timeouts {
    let t = &p.timeouts;
    Timeouts {
        client: t.client.unwrap_or(0),
        server: t.server.unwrap_or(0),
        connect: t.connect.unwrap_or(0),
        check: t.check.unwrap_or(0),
        queue: t.queue.unwrap_or(0),
        http_request: t.http_request.unwrap_or(0),
        http_keep_alive: t.http_keep_alive.unwrap_or(0),
        // HAProxy: without `timeout tunnel`, a tunnel uses the longer of
        // client and server; `timeout client-fin`/`server-fin` default to them.
        tunnel: t.tunnel.unwrap_or(0),
        // A backend (or listen) without `timeout tarpit` holds tarpitted
        // requests for `timeout connect`; a frontend does not (observed
        // from 2.6).
        tarpit: t
            .tarpit
            .or(t.connect.filter(|_| p.kind != ProxyKind::Frontend))
            .unwrap_or(0),
        client_fin: t.client_fin.unwrap_or(0),
        server_fin: t.server_fin.unwrap_or(0),
    }
}

fn options(p: &Proxy) -> ProxyOptions {
    ProxyOptions {
        names: p
            .options
            .iter()
            .filter(|(_, o)| o.enabled)
            .map(|(n, o)| (n.clone(), o.args.clone()))
            .collect(),
        forwardfor: added_header(p, "forwardfor", "x-forwarded-for", "src"),
        originalto: added_header(p, "originalto", "x-original-to", "dst"),
    }
}

/// `option forwardfor|originalto [except <net>] [header <name>] [if-none]`:
/// the header, and the network (of `addr`, the client's or the
/// destination's address) that gets none.
fn added_header(p: &Proxy, option: &str, default: &str, addr: &str) -> Option<ForwardFor> {
    let o = p.options.get(option).filter(|o| o.enabled)?;
    let after = |kw: &str| {
        o.args
            .iter()
            .position(|a| a == kw)
            .and_then(|i| o.args.get(i + 1))
    };
    Some(ForwardFor {
        header: after("header").map_or(default.to_string(), |h| h.to_ascii_lowercase()),
        // The network was checked while parsing; it cannot fail here.
        except: after("except").and_then(|net| {
            let expr = compile_expression(&[addr.to_string(), net.clone()]).ok()?;
            Some(Acl {
                name: String::new(),
                exprs: vec![AclItem {
                    expr,
                    convs: Vec::new(),
                }],
            })
        }),
        if_none: o.args.iter().any(|a| a == "if-none"),
    })
}

fn compile_backend(
    p: &Proxy,
    defaults: Option<&Proxy>,
    id: u32,
    sections: &crate::http::rules::Sections,
    g: &ast::Global,
    unrunnable: &mut Vec<(Span, String)>,
) -> Backend {
    // The check settings matter only when a server is checked.
    let check = if p.servers.iter().any(|s| s.params.check == Some(true)) {
        crate::health::spec::compile(p, defaults).unwrap_or_else(|what| {
            unrunnable.push((p.span.clone(), format!("health check {what}")));
            Default::default()
        })
    } else {
        Default::default()
    };
    let servers: Vec<Server> = p
        .servers
        .iter()
        .enumerate()
        .map(|(i, s)| compile_server(s, i as u32 + 1, p, unrunnable))
        .collect();
    for (s, ast_s) in servers.iter().zip(&p.servers) {
        if !s.check && !s.agent_check {
            continue;
        }
        match &s.addr {
            ServerAddr::Inet { addr, .. } => {
                let rules_have_port = check.rules.iter().any(|r| {
                    matches!(&r.action, crate::health::spec::Action::Connect(c) if c.port.is_some())
                });
                if s.check && addr.port() == 0 && s.check_port.is_none() && !rules_have_port {
                    unrunnable.push((
                        ast_s.span.clone(),
                        format!("health checks of server '{}' without a port", s.name),
                    ));
                }
            }
            _ => unrunnable.push((
                ast_s.span.clone(),
                format!("health checks of server '{}' (not an IP address)", s.name),
            )),
        }
    }
    let mut acls = AclTable::new(p, unrunnable);
    let (tcp, http) = tcp_rules(p, &mut acls, sections);
    let stats = stats_page(p, &mut acls, g, sections);
    if p.effective_mode() == ast::Mode::Http && !tcp.response.is_empty() {
        acls.unrunnable.push((
            p.span.clone(),
            "'tcp-response content' rules in an HTTP backend".into(),
        ));
    }
    // Refused at start-up when not understood (src/support.rs).
    let hash_type =
        crate::balance::hash::HashType::from_words(p.hash_type.as_deref()).unwrap_or_default();
    let hash_expr = match &p.balance {
        Some(ast::Balance::Hash { expr }) => {
            let part = cfg_parser::logformat::parse_sample_expr(expr)
                .map(cfg_parser::logformat::Part::Sample)
                .and_then(|part| crate::sample::compile_logformat(&[part]));
            match part {
                Ok(mut pieces) => pieces.pop().map(|expr| crate::balance::hash::HashExpr {
                    expr,
                    hash: hash_type,
                }),
                Err(what) => {
                    acls.unrunnable
                        .push((p.span.clone(), format!("'balance hash {expr}' ({what})")));
                    None
                }
            }
        }
        _ => None,
    };
    for s in &p.servers {
        if let Some(src) = s
            .params
            .source
            .as_deref()
            .filter(|v| source_addr(v).is_none())
        {
            acls.unrunnable.push((
                s.span.clone(),
                format!("'source {src}' (a port range or a name)"),
            ));
        }
    }
    Backend {
        name: p.name.clone(),
        id,
        mode: p.effective_mode(),
        balance: p.balance.clone().unwrap_or(ast::Balance::RoundRobin),
        uri_opts: crate::balance::hash::UriOpts {
            hash: hash_type,
            ..match &p.balance {
                Some(ast::Balance::Uri { args }) => crate::balance::hash::UriOpts::from_words(args),
                _ => Default::default(),
            }
        },
        hash_type,
        hash_expr,
        timeouts: timeouts(p),
        retries: p.retries.unwrap_or(DEFAULT_RETRIES),
        retry_on: RetryOn::from_words(p.retry_on.as_deref()),
        // Unset (or 0): computed once the frontends are known.
        fullconn: p.fullconn.filter(|f| *f > 0),
        options: options(p),
        rules: p.rules.clone(),
        tcp,
        http,
        acls: acls.table,
        servers,
        check,
        listen: p.kind == ProxyKind::Listen,
        reuse: p.http_reuse.as_deref().map_or(
            crate::http::pool::Reuse::Safe,
            crate::http::pool::Reuse::from_word,
        ),
        cookie: p
            .cookie
            .as_ref()
            .and_then(|w| match crate::http::cookie::CookieCfg::compile(w) {
                Ok(c) => Some(c),
                Err(what) => {
                    acls.unrunnable.push((p.span.clone(), what));
                    None
                }
            }),
        log_targets: Vec::new(),
        error_pages: error_pages(p, sections, acls.unrunnable),
        stats,
        span: p.span.clone(),
    }
}

/// The statistics page of a proxy in HTTP mode (a TCP proxy ignores its
/// `stats` lines, with 2.6's warning).
fn stats_page(
    p: &Proxy,
    acls: &mut AclTable,
    g: &ast::Global,
    sections: &crate::http::rules::Sections,
) -> Option<std::sync::Arc<StatsPage>> {
    let st = p.stats.as_ref()?;
    if p.effective_mode() != ast::Mode::Http {
        return None;
    }
    let global = |kw: &str| {
        g.directives
            .iter()
            .rev()
            .find(|d| d.word(0) == kw)
            .map(|d| d.rest(1).collect::<Vec<_>>().join(" "))
    };
    let realm = st
        .realm
        .clone()
        .unwrap_or_else(|| "HAProxy Statistics".to_string());
    let mut rules = Vec::new();
    for r in &st.rules {
        let cond = r.cond.as_ref().map(|c| acls.cond(c));
        let how = crate::http::rules::Compile {
            response: false,
            literal_redirect: false,
            sections,
        };
        match crate::http::rules::action(&r.words, &how) {
            Ok(
                a @ (crate::http::rules::HttpAction::Allow
                | crate::http::rules::HttpAction::Reply {
                    reply: crate::http::reply::Reply::ErrorPage(_),
                    tarpit: false,
                    local: false,
                }
                | crate::http::rules::HttpAction::Auth { .. }),
            ) => rules.push(crate::http::rules::HttpRule { action: a, cond }),
            _ => acls.unrunnable.push((
                r.span.clone(),
                format!(
                    "'stats http-request {}'",
                    r.words.first().map_or("", String::as_str)
                ),
            )),
        }
    }
    if st.show_modules {
        acls.unrunnable
            .push((st.span.clone(), "'stats show-modules'".into()));
    }
    Some(std::sync::Arc::new(StatsPage {
        uri: st.uri.clone(),
        realm,
        users: st.auth.clone(),
        scope: st.scope.clone(),
        refresh: st.refresh,
        hide_version: st.hide_version,
        show_legends: st.show_legends,
        node: st.show_node.as_ref().map(|n| {
            n.clone()
                .or_else(|| global("node"))
                .unwrap_or_else(host_name)
        }),
        desc: st
            .show_desc
            .as_ref()
            .and_then(|d| d.clone().or_else(|| global("description"))),
        admin: st.admin.iter().map(|c| acls.cond(c)).collect(),
        rules,
    }))
}

/// The server parameters without an AST field (from `raw`, in order,
/// `default-server` ones first), as (name, values).
fn raw_params(raw: &[String]) -> Vec<(&str, Vec<&str>)> {
    use cfg_parser::keywords::server::{Arity, SERVER_PARAMS};
    let mut out = Vec::new();
    let mut i = 0;
    while i < raw.len() {
        let kw = raw[i].as_str();
        let arity = SERVER_PARAMS
            .iter()
            .find(|p| p.name == kw)
            .map_or(Arity::Flag, |p| p.arity);
        let mut n = match arity {
            Arity::Flag => 0,
            Arity::One | Arity::Rest => 1,
        };
        if arity == Arity::Rest {
            while matches!(
                raw.get(i + 1 + n).map(String::as_str),
                Some("usesrc" | "interface")
            ) {
                n += 2;
            }
        }
        let vals = raw[(i + 1).min(raw.len())..(i + 1 + n).min(raw.len())]
            .iter()
            .map(String::as_str)
            .collect();
        out.push((kw, vals));
        i += 1 + n;
    }
    out
}

/// The health check settings of a server line that have no AST field;
/// values this build cannot run are reported.
struct ServerCheckExtras {
    send_proxy: bool,
    observe: Option<crate::health::Observe>,
    error_limit: u32,
    on_error: crate::health::OnError,
    agent_send: Vec<u8>,
    agent_ip: Option<std::net::IpAddr>,
    check_ip: Option<std::net::IpAddr>,
}

fn check_extras(s: &ast::Server, unrunnable: &mut Vec<(Span, String)>) -> ServerCheckExtras {
    use crate::health::{Observe, OnError};
    let mut x = ServerCheckExtras {
        send_proxy: false,
        observe: None,
        error_limit: crate::health::DEFAULT_ERROR_LIMIT,
        on_error: OnError::FastInter,
        agent_send: Vec::new(),
        agent_ip: None,
        check_ip: None,
    };
    let mut bad = |what: String| unrunnable.push((s.span.clone(), what));
    for (kw, vals) in raw_params(&s.params.raw) {
        let v = vals.first().copied().unwrap_or("");
        match kw {
            "check-send-proxy" => x.send_proxy = true,
            "no-check-send-proxy" => x.send_proxy = false,
            "observe" => {
                x.observe = match v {
                    "layer4" => Some(Observe::Layer4),
                    "layer7" => Some(Observe::Layer7),
                    "none" => None,
                    _ => {
                        bad(format!("server parameter 'observe {v}'"));
                        None
                    }
                }
            }
            "error-limit" => match v.parse::<u32>() {
                Ok(n) if n > 0 => x.error_limit = n,
                _ => bad(format!("server parameter 'error-limit {v}'")),
            },
            "on-error" => match OnError::from_word(v) {
                Some(o) => x.on_error = o,
                None => bad(format!("server parameter 'on-error {v}'")),
            },
            "agent-send" => x.agent_send = v.as_bytes().to_vec(),
            "agent-addr" => match v.parse().ok().or_else(|| resolve_host(v)) {
                Some(ip) => x.agent_ip = Some(ip),
                None => bad(format!("server parameter 'agent-addr {v}' (no address)")),
            },
            "addr" => match v.parse().ok().or_else(|| resolve_host(v)) {
                Some(ip) => x.check_ip = Some(ip),
                None => bad(format!("server parameter 'addr {v}' (no address)")),
            },
            "on-marked-down" if v != "shutdown-sessions" => {
                bad(format!("server parameter 'on-marked-down {v}'"))
            }
            "on-marked-up" if v != "shutdown-backup-sessions" => {
                bad(format!("server parameter 'on-marked-up {v}'"))
            }
            _ => {}
        }
    }
    x
}

fn compile_server(
    s: &ast::Server,
    id: u32,
    p: &Proxy,
    unrunnable: &mut Vec<(Span, String)>,
) -> Server {
    let sp = &s.params;
    let mut extras = check_extras(s, unrunnable);
    // 2.6 ignores `observe layer7` outside HTTP mode (with an alert).
    if p.effective_mode() != ast::Mode::Http
        && extras.observe == Some(crate::health::Observe::Layer7)
    {
        extras.observe = None;
    }
    let addr = match &s.addr {
        Address::Inet { host, port, .. } => {
            let (port, offset) = match port {
                Port::One(p) => (*p, None),
                Port::Offset(o) => (0, Some(*o)),
                _ => (0, None),
            };
            let ip = match host {
                Host::Ip(ip) => Some(*ip),
                Host::Wildcard => Some(wildcard_ip(cfg_parser::addr::Family::V4)),
                Host::Name(n) => resolve_host(n),
            };
            match ip {
                Some(ip) => ServerAddr::Inet {
                    addr: SocketAddr::new(ip, port),
                    port_offset: offset,
                },
                None => ServerAddr::Unresolved(s.addr_text.clone()),
            }
        }
        Address::Unix { path, .. } => ServerAddr::Unix(path.into()),
        Address::Abns(n) => ServerAddr::Abns(n.clone()),
        Address::Fd(_) | Address::SockPair(_) => ServerAddr::Unresolved(s.addr_text.clone()),
    };
    let inter = sp.inter.unwrap_or(DEFAULT_INTER_MS);
    Server {
        name: s.name.clone(),
        id,
        disabled: sp.disabled.unwrap_or(false) || matches!(addr, ServerAddr::Unresolved(_)),
        addr,
        weight: sp.weight.unwrap_or(DEFAULT_WEIGHT),
        // As HAProxy: a `minconn` above `maxconn` (or alone) becomes the
        // maxconn; without one, minconn is maxconn (a static limit).
        maxconn: match (sp.maxconn.unwrap_or(0), sp.minconn.unwrap_or(0)) {
            (max, min) if min > max => Some(min),
            (max, _) => Some(max).filter(|m| *m > 0),
        },
        maxqueue: sp.maxqueue.filter(|m| *m > 0),
        minconn: match (sp.maxconn.unwrap_or(0), sp.minconn.unwrap_or(0)) {
            (max, min) if min > max => Some(min),
            (max, 0) => Some(max).filter(|m| *m > 0),
            (_, min) => Some(min),
        },
        backup: sp.backup.unwrap_or(false),
        check: sp.check.unwrap_or(false),
        check_port: sp.port,
        check_addr: sp.addr.clone(),
        check_ip: extras.check_ip,
        check_send_proxy: extras.send_proxy,
        // Resolved once every backend is compiled.
        track: None,
        observe: extras.observe,
        error_limit: extras.error_limit,
        on_error: extras.on_error,
        inter_ms: inter,
        fastinter_ms: sp.fastinter.unwrap_or(inter),
        downinter_ms: sp.downinter.unwrap_or(inter),
        rise: sp.rise.unwrap_or(DEFAULT_RISE),
        fall: sp.fall.unwrap_or(DEFAULT_FALL),
        slowstart_ms: sp.slowstart.unwrap_or(0),
        send_proxy: sp.send_proxy.unwrap_or(false),
        send_proxy_v2: sp.send_proxy_v2.unwrap_or(false),
        cookie: sp.cookie.clone(),
        agent_check: sp.agent_check.unwrap_or(false),
        agent_port: sp.agent_port,
        agent_inter_ms: sp.agent_inter.unwrap_or(DEFAULT_INTER_MS),
        agent_send: extras.agent_send,
        agent_ip: extras.agent_ip,
        on_marked_down: sp.on_marked_down.clone(),
        on_marked_up: sp.on_marked_up.clone(),
        source: sp.source.clone(),
        source_addr: sp.source.as_deref().and_then(source_addr),
        span: s.span.clone(),
    }
}

/// A proxy's ACL table under construction: named ACLs (same-name lines
/// merged), predefined ones on first use, anonymous ones appended.
struct AclTable<'p> {
    proxy: &'p Proxy,
    table: Vec<Acl>,
    unrunnable: &'p mut Vec<(Span, String)>,
}

impl<'p> AclTable<'p> {
    fn new(proxy: &'p Proxy, unrunnable: &'p mut Vec<(Span, String)>) -> Self {
        let mut table: Vec<Acl> = Vec::new();
        for a in &proxy.acls {
            let item = acl_item(&a.expr, &a.span, unrunnable);
            match table.iter_mut().find(|t| t.name == a.name) {
                Some(t) => t.exprs.push(item),
                None => table.push(Acl {
                    name: a.name.clone(),
                    exprs: vec![item],
                }),
            }
        }
        AclTable {
            proxy,
            table,
            unrunnable,
        }
    }

    fn named(&mut self, name: &str) -> AclId {
        if let Some(i) = self.table.iter().position(|t| t.name == name) {
            return AclId(i);
        }
        let exprs = predefined(name)
            .into_iter()
            .map(|e| AclItem {
                expr: e,
                convs: Vec::new(),
            })
            .collect();
        self.table.push(Acl {
            name: name.to_string(),
            exprs,
        });
        AclId(self.table.len() - 1)
    }

    fn cond(&mut self, c: &Condition) -> Cond {
        // An alternative without terms does not exist for HAProxy (a
        // condition without any term never holds).
        let alternatives = c
            .terms
            .iter()
            .filter(|and| !and.is_empty())
            .map(|and| {
                and.iter()
                    .map(|t| {
                        let id = match &t.acl {
                            AclRef::Named(n) => self.named(n),
                            AclRef::Anonymous(e) => {
                                let item = acl_item(e, &self.proxy.span, self.unrunnable);
                                self.table.push(Acl {
                                    name: String::new(),
                                    exprs: vec![item],
                                });
                                AclId(self.table.len() - 1)
                            }
                        };
                        (t.negate, id)
                    })
                    .collect()
            })
            .collect();
        Cond {
            unless: c.negate,
            alternatives,
        }
    }
}

/// The expressions behind HAProxy's predefined ACLs.
fn predefined(name: &str) -> Option<AclExpr> {
    debug_assert!(PREDEFINED_ACLS.contains(&name));
    let words: &[&str] = match name {
        "TRUE" => &["always_true"],
        "FALSE" => &["always_false"],
        "LOCALHOST" => &["src", "127.0.0.1/8", "::1"],
        "HTTP" => &["req.proto_http"],
        "HTTP_1.0" => &["req.ver", "1.0"],
        "HTTP_1.1" => &["req.ver", "1.1"],
        "HTTP_2.0" => &["req.ver", "2.0"],
        "HTTP_CONTENT" => &["req.hdr_val(content-length)", "gt", "0"],
        "HTTP_URL_ABS" => &["url_reg", "^[^/:]*://"],
        "HTTP_URL_SLASH" => &["url_beg", "/"],
        "HTTP_URL_STAR" => &["url", "*"],
        "METH_CONNECT" => &["method", "CONNECT"],
        "METH_DELETE" => &["method", "DELETE"],
        "METH_GET" => &["method", "GET", "HEAD"],
        "METH_HEAD" => &["method", "HEAD"],
        "METH_OPTIONS" => &["method", "OPTIONS"],
        "METH_POST" => &["method", "POST"],
        "METH_PUT" => &["method", "PUT"],
        "METH_TRACE" => &["method", "TRACE"],
        "RDP_COOKIE" => &["req.rdp_cookie_cnt", "gt", "0"],
        "REQ_CONTENT" => &["req.len", "gt", "0"],
        "WAIT_END" => &["wait_end"],
        _ => return None,
    };
    compile_expression(&words.iter().map(|w| w.to_string()).collect::<Vec<_>>()).ok()
}

/// A `source` address (`1.2.3.4`, `1.2.3.4:5000`, `[::1]:5000`, `::1`); a
/// port range or a name gives None (refused as not runnable).
pub fn source_addr(text: &str) -> Option<std::net::SocketAddr> {
    if let Ok(sa) = text.parse() {
        return Some(sa);
    }
    let ip: IpAddr = text
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()?;
    Some(std::net::SocketAddr::new(ip, 0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use cfg_parser::cond::CondContext;
    use cfg_parser::{parse_files, ParseOptions, SourceFile};

    struct Ctx;
    impl CondContext for Ctx {
        fn env_defined(&self, _: &str) -> bool {
            false
        }
        fn has_feature(&self, _: &str) -> bool {
            false
        }
        fn version(&self) -> &str {
            "2.6.0"
        }
    }

    fn runtime(text: &str) -> Runtime {
        let files = [SourceFile {
            name: "t.cfg".into(),
            data: text.as_bytes().to_vec(),
        }];
        let parsed = parse_files(
            &files,
            &ParseOptions {
                cond: &Ctx,
                diag_mode: false,
            },
        );
        assert!(
            !parsed.diags.iter().any(|d| d.is_fatal()),
            "{:?}",
            parsed.diags
        );
        compile(&parsed.config)
    }

    #[test]
    fn names_become_indexes_and_listen_serves_itself() {
        let rt = runtime(
            "defaults\n mode http\n timeout client 5s\n timeout server 7s\n\
             frontend fe\n bind 127.0.0.1:8000-8002\n acl api path_beg /api\n acl api path_beg /v2\n\
             use_backend be_api if api !{ src 10.0.0.0/8 } or TRUE\n default_backend be_web\n\
             backend be_web\n server w1 127.0.0.1:81\n backend be_api\n retries 5\n server a1 127.0.0.1:82 weight 7 check\n\
             listen l\n bind :9000\n server s 127.0.0.1:83\n",
        );
        assert_eq!(rt.listeners.len(), 4);
        let fe = rt.frontend(FrontendId(0));
        assert_eq!(
            fe.default_backend.map(|b| rt.backend(b).name.as_str()),
            Some("be_web")
        );
        let BackendTarget::Static(api) = fe.switching[0].target else {
            panic!("static target")
        };
        assert_eq!(rt.backend(api).name, "be_api");
        assert_eq!(rt.backend(api).retries, 5);
        assert_eq!(rt.backend(api).servers[0].weight, 7);
        assert_eq!(fe.acls[0].exprs.len(), 2, "same-name ACL lines are merged");
        let cond = fe.switching[0].cond.as_ref().expect("cond");
        assert_eq!(cond.alternatives.len(), 2);
        assert!(cond.alternatives[0][1].0, "the anonymous ACL is negated");
        assert_eq!(fe.timeouts.client, 5000);
        assert_eq!(rt.backend(BackendId(0)).timeouts.server, 7000);
        let l = rt
            .frontends
            .iter()
            .find(|f| f.name == "l")
            .expect("listen frontend");
        assert_eq!(
            l.default_backend.map(|b| rt.backend(b).name.as_str()),
            Some("l")
        );
        assert_eq!(rt.backend(BackendId(0)).servers[0].rise, DEFAULT_RISE);
        assert_eq!(fe.id, 1, "no stats socket: the first proxy is #1");
    }

    #[test]
    fn dynamic_use_backend_stays_a_name() {
        let rt = runtime("frontend fe\n bind :80\n use_backend %[req.hdr(host)]\n");
        assert!(
            matches!(&rt.frontends[0].switching[0].target, BackendTarget::Dynamic(p) if p.len() == 1)
        );
    }

    #[test]
    fn predefined_acls_compile() {
        for name in PREDEFINED_ACLS {
            assert!(predefined(name).is_some(), "{name}");
        }
    }
}
