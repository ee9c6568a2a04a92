//! `server` and `default-server` lines:
//! `server <name> <addr>[:port] [param*]`, `default-server [param*]`.
use super::{did_you_mean, Cx, Support};
use crate::addr::{parse_address, AddrRules};
use crate::ast::{Proxy, Server, ServerParams};
use crate::diag::{Diagnostic, Loc};
use crate::values::{atol, parse_time_ms, TimeError};

/// How many words a parameter takes after its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arity {
    Flag,
    One,
    /// `source <addr> [usesrc <addr>] [interface <name>]`
    Rest,
}

/// A row of the `server` (or `bind`) parameter table.
pub struct Param {
    pub name: &'static str,
    pub arity: Arity,
    pub support: Support,
}

impl Param {
    pub const fn new(name: &'static str, arity: Arity, support: Support) -> Param {
        Param {
            name,
            arity,
            support,
        }
    }
}

type P = Param;
const OK: Support = Support::Parsed;
const TLS: Support = Support::Unsupported("TLS");

const SERVER_RULES: AddrRules = AddrRules {
    port_required: false,
    port_range_ok: false,
    port_offset_ok: true,
    dgram: false,
};

/// Parses a `server` line, starting from the proxy's `default-server`.
pub fn parse_server(p: &Proxy, cx: &mut Cx) -> Result<Server, Diagnostic> {
    if cx.nwords() < 3 {
        return Err(cx.alert_bracket("'server' expects <name> and <addr>[:<port>] as arguments."));
    }
    let name = cx.word(1).to_string();
    let who = format!("'server {}/{name}'", p.name);
    let addr_text = cx.word(2).to_string();
    let addr = parse_address(&addr_text, SERVER_RULES)
        .map_err(|e| cx.alert_bracket(format!("{who} : {e}")))?;
    let mut params = p.default_server.clone();
    apply_params(&mut params, cx, 3, &who, &name, p.effective_mode())?;
    if params.check == Some(true) && params.raw.iter().any(|w| w == "track") {
        return Err(cx.alert_bracket(format!(
            "{who} : unable to enable checks and tracking at the same time!"
        )));
    }
    if params.agent_check == Some(true) && params.agent_port.unwrap_or(0) == 0 {
        return Err(cx.alert_bracket(format!(
            "{who} : server {name} does not have agent port. Agent check has been disabled."
        )));
    }
    Ok(Server {
        name,
        addr,
        addr_text,
        params,
        span: cx.d.span.clone(),
    })
}

/// `default-server [param*]`: the defaults for the following servers.
pub fn parse_default_server(p: &mut Proxy, cx: &mut Cx) -> Result<(), Diagnostic> {
    let mut params = p.default_server.clone();
    apply_params(&mut params, cx, 1, "", "", p.effective_mode())?;
    p.default_server = params;
    Ok(())
}

fn apply_params(
    sp: &mut ServerParams,
    cx: &mut Cx,
    start: usize,
    who: &str,
    srv: &str,
    mode: crate::ast::Mode,
) -> Result<(), Diagnostic> {
    let mut i = start;
    // `[f:l] : 'server be/s1' : msg..` (HAProxy doubles the final dot here)
    let fail = |cx: &Cx, msg: String| {
        if who.is_empty() {
            cx.alert_bracket(msg)
        } else {
            cx.alert_bracket(format!("{who} : {msg}."))
        }
    };
    while i < cx.nwords() {
        let kw = cx.word(i).to_string();
        let Some(param) = SERVER_PARAMS.iter().find(|k| k.name == kw) else {
            let names = SERVER_PARAMS.iter().map(|k| k.name);
            let mut hint = did_you_mean(
                &kw,
                names.chain(crate::suggest::SERVER_EXTRA.iter().copied()),
            );
            if hint.is_empty() {
                hint.push('.');
            }
            if who.is_empty() {
                return Err(cx.alert_bracket(format!(
                    "unknown keyword '{kw}'{hint} Hint: no address was expected for this server."
                )));
            }
            return Err(cx.alert_bracket(format!("{who} : unknown keyword '{kw}'{hint}")));
        };
        if let Some(d) = super::support_diag(param.support, &kw, cx.d) {
            return Err(Diagnostic {
                loc: Loc::Bracket(cx.d.span.clone()),
                ..d
            });
        }
        let val = cx.word(i + 1).to_string();
        let time = |cx: &mut Cx, label: &str| -> Result<u64, Diagnostic> {
            match parse_time_ms(&val) {
                Ok(v) => Ok(v),
                // 2.6 takes `2sx` as 2s and only warns.
                Err(TimeError::BadChar(_)) if crate::values::time_with_trailing(&val).is_some() => {
                    let (v, warning) = crate::values::time_with_trailing(&val).unwrap_or_default();
                    let span = cx.d.span.clone();
                    cx.push(Diagnostic::warning(Loc::Bracket(span), format!("{who} : {warning}")));
                    Ok(v)
                }
                Err(TimeError::BadChar(c)) => {
                    Err(fail(cx, format!("unexpected character '{c}' in '{label}' argument of server {srv}.")))
                }
                Err(TimeError::Empty) => Err(fail(cx, format!("'{kw}' expects <time> as argument."))),
                Err(TimeError::Overflow) => Err(fail(cx, format!("timer overflow in argument <{val}> to <{kw}> of server {srv}, maximum value is 2147483647 ms (~24.8 days)."))),
            }
        };
        let count = |cx: &Cx| -> Result<u32, Diagnostic> {
            let n = atol(&val);
            if n <= 0 {
                return Err(fail(cx, format!("'{kw}' has to be > 0.")));
            }
            Ok(n as u32)
        };
        // 2.6 refuses a zero check interval (with two final dots).
        if matches!(
            kw.as_str(),
            "inter" | "fastinter" | "downinter" | "agent-inter"
        ) && parse_time_ms(&val) == Ok(0)
        {
            let name = if who.is_empty() {
                "default-server"
            } else {
                srv
            };
            let msg = format!("invalid value 0 for argument '{kw}' of server {name}.");
            return Err(if who.is_empty() {
                cx.alert_bracket(format!("{msg}."))
            } else {
                fail(cx, msg)
            });
        }
        match kw.as_str() {
            "check" => sp.check = Some(true),
            "no-check" => sp.check = Some(false),
            "backup" => sp.backup = Some(true),
            "no-backup" => sp.backup = Some(false),
            "disabled" => sp.disabled = Some(true),
            "enabled" => sp.disabled = Some(false),
            "send-proxy" => sp.send_proxy = Some(true),
            "no-send-proxy" => sp.send_proxy = Some(false),
            "send-proxy-v2" => sp.send_proxy_v2 = Some(true),
            "no-send-proxy-v2" => sp.send_proxy_v2 = Some(false),
            "agent-check" => sp.agent_check = Some(true),
            "no-agent-check" => sp.agent_check = Some(false),
            "weight" => {
                let w = atol(&val);
                if !(0..=256).contains(&w) {
                    return Err(fail(
                        cx,
                        format!("weight of server {srv} is not within 0 and 256 ({w})."),
                    ));
                }
                sp.weight = Some(w as u32);
            }
            // HAProxy 2.6 names 'agent-inter' in the error of all three.
            "inter" => sp.inter = Some(time(cx, "agent-inter")?),
            "fastinter" => sp.fastinter = Some(time(cx, "agent-inter")?),
            "downinter" => sp.downinter = Some(time(cx, "agent-inter")?),
            "agent-inter" => sp.agent_inter = Some(time(cx, "agent-inter")?),
            "slowstart" => sp.slowstart = Some(time(cx, "slowstart")?),
            "rise" => sp.rise = Some(count(cx)?),
            "fall" => sp.fall = Some(count(cx)?),
            "maxconn" => sp.maxconn = Some(atol(&val).max(0) as u32),
            "maxqueue" => sp.maxqueue = Some(atol(&val).max(0) as u32),
            "minconn" => sp.minconn = Some(atol(&val).max(0) as u32),
            "port" => sp.port = Some(atol(&val).clamp(0, 65535) as u16),
            "agent-port" => sp.agent_port = Some(atol(&val).clamp(0, 65535) as u16),
            "addr" => sp.addr = Some(val.clone()),
            "cookie" => sp.cookie = Some(val.clone()),
            "init-addr" => sp.init_addr = Some(val.clone()),
            "on-marked-down" if val != "shutdown-sessions" => {
                return Err(fail(
                    cx,
                    format!("'on-marked-down' expects 'shutdown-sessions' but got '{val}'"),
                ))
            }
            "on-marked-down" => sp.on_marked_down = Some(val.clone()),
            "on-marked-up" if val != "shutdown-backup-sessions" => {
                return Err(fail(
                    cx,
                    format!("'on-marked-up' expects 'shutdown-backup-sessions' but got '{val}'"),
                ))
            }
            "on-marked-up" => sp.on_marked_up = Some(val.clone()),
            "on-error" if !["fastinter", "fail-check", "sudden-death", "mark-down"].contains(&val.as_str()) => {
                return Err(fail(cx, format!("'on-error' expects one of 'fastinter', 'fail-check', 'sudden-death' or 'mark-down' but got '{val}'")))
            }
            "on-error" => sp.on_error = Some(val.clone()),
            "error-limit" if atol(&val) <= 0 => {
                return Err(fail(cx, "error-limit has to be > 0.".into()))
            }
            "observe" if !["none", "layer4", "layer7"].contains(&val.as_str()) => {
                return Err(fail(cx, format!("'observe' expects one of 'none', 'layer4', 'layer7' but got '{val}'")))
            }
            // An alert that does not fail the configuration: the server
            // is kept, not observed. 2.6 ends this one with two dots.
            "observe" if val == "layer7" && mode != crate::ast::Mode::Http => {
                let msg = if who.is_empty() {
                    "'layer7' can only be used in http proxies..".to_string()
                } else {
                    format!("{who} : 'layer7' can only be used in http proxies..")
                };
                let span = cx.d.span.clone();
                cx.push(Diagnostic::alert_nonfatal(Loc::Bracket(span), msg));
                i += 2;
                continue;
            }
            "source" => {
                if val.is_empty() {
                    return Err(fail(cx, "'source' expects <addr>[:<port>[-<port>]], and optionally 'usesrc' <addr>, and 'interface' <name> as argument.".into()));
                }
                sp.source = Some(val.clone());
            }
            _ => {}
        }
        sp.raw.push(kw.clone());
        let mut used = match param.arity {
            Arity::Flag => 1,
            Arity::One => 2,
            Arity::Rest => 2,
        };
        if param.arity == Arity::Rest {
            while matches!(cx.word(i + used), "usesrc" | "interface") {
                used += 2;
            }
        }
        if used > 1 {
            sp.raw
                .extend(cx.d.rest(i + 1).take(used - 1).map(String::from));
        }
        i += used;
    }
    Ok(())
}

/// Server parameters HAProxy 2.6 knows, in its registration order: the
/// order in which it scans them for a "did you mean" (the first of equally
/// close names wins).
pub static SERVER_PARAMS: &[Param] = &[
    P::new("allow-0rtt", Arity::Flag, TLS),
    P::new("alpn", Arity::One, TLS),
    P::new("ca-file", Arity::One, TLS),
    P::new("check-alpn", Arity::One, TLS),
    P::new("check-sni", Arity::One, TLS),
    P::new("check-ssl", Arity::Flag, TLS),
    P::new("ciphers", Arity::One, TLS),
    P::new("ciphersuites", Arity::One, TLS),
    P::new("crl-file", Arity::One, TLS),
    P::new("crt", Arity::One, TLS),
    P::new("force-sslv3", Arity::Flag, TLS),
    P::new("force-tlsv10", Arity::Flag, TLS),
    P::new("force-tlsv11", Arity::Flag, TLS),
    P::new("force-tlsv12", Arity::Flag, TLS),
    P::new("force-tlsv13", Arity::Flag, TLS),
    P::new("no-check-ssl", Arity::Flag, OK),
    P::new("no-send-proxy-v2-ssl", Arity::Flag, OK),
    P::new("no-send-proxy-v2-ssl-cn", Arity::Flag, OK),
    P::new("no-ssl", Arity::Flag, OK),
    P::new("no-ssl-reuse", Arity::Flag, TLS),
    P::new("no-sslv3", Arity::Flag, TLS),
    P::new("no-tlsv10", Arity::Flag, TLS),
    P::new("no-tlsv11", Arity::Flag, TLS),
    P::new("no-tlsv12", Arity::Flag, TLS),
    P::new("no-tlsv13", Arity::Flag, TLS),
    P::new("no-tls-tickets", Arity::Flag, TLS),
    P::new("npn", Arity::One, TLS),
    P::new("send-proxy-v2-ssl", Arity::Flag, TLS),
    P::new("send-proxy-v2-ssl-cn", Arity::Flag, TLS),
    P::new("sni", Arity::One, TLS),
    P::new("ssl", Arity::Flag, TLS),
    P::new("ssl-min-ver", Arity::One, TLS),
    P::new("ssl-max-ver", Arity::One, TLS),
    P::new("ssl-reuse", Arity::Flag, TLS),
    P::new("tls-tickets", Arity::Flag, TLS),
    P::new("verify", Arity::One, TLS),
    P::new("verifyhost", Arity::One, TLS),
    P::new("backup", Arity::Flag, OK),
    P::new("cookie", Arity::One, OK),
    P::new("disabled", Arity::Flag, OK),
    P::new("enabled", Arity::Flag, OK),
    P::new("error-limit", Arity::One, OK),
    P::new("ws", Arity::One, Support::Unsupported("HTTP/2")),
    P::new("id", Arity::One, OK),
    P::new("init-addr", Arity::One, OK),
    P::new("log-proto", Arity::One, OK),
    P::new("maxconn", Arity::One, OK),
    P::new("maxqueue", Arity::One, OK),
    P::new("max-reuse", Arity::One, OK),
    P::new("minconn", Arity::One, OK),
    P::new(
        "namespace",
        Arity::One,
        Support::Unsupported("network namespaces"),
    ),
    P::new("no-backup", Arity::Flag, OK),
    P::new("no-send-proxy", Arity::Flag, OK),
    P::new("no-send-proxy-v2", Arity::Flag, OK),
    P::new("no-tfo", Arity::Flag, OK),
    P::new(
        "non-stick",
        Arity::Flag,
        Support::Unsupported("stick tables"),
    ),
    P::new("observe", Arity::One, OK),
    P::new("on-error", Arity::One, OK),
    P::new("on-marked-down", Arity::One, OK),
    P::new("on-marked-up", Arity::One, OK),
    P::new("pool-low-conn", Arity::One, OK),
    P::new("pool-max-conn", Arity::One, OK),
    P::new("pool-purge-delay", Arity::One, OK),
    P::new("proto", Arity::One, Support::Unsupported("HTTP/2")),
    P::new("proxy-v2-options", Arity::One, OK),
    P::new("redir", Arity::One, OK),
    P::new(
        "resolve-net",
        Arity::One,
        Support::Unsupported("DNS resolvers"),
    ),
    P::new(
        "resolve-opts",
        Arity::One,
        Support::Unsupported("DNS resolvers"),
    ),
    P::new(
        "resolve-prefer",
        Arity::One,
        Support::Unsupported("DNS resolvers"),
    ),
    P::new(
        "resolvers",
        Arity::One,
        Support::Unsupported("DNS resolvers"),
    ),
    P::new("send-proxy", Arity::Flag, OK),
    P::new("send-proxy-v2", Arity::Flag, OK),
    P::new("slowstart", Arity::One, OK),
    P::new("source", Arity::Rest, OK),
    P::new("stick", Arity::Flag, Support::Unsupported("stick tables")),
    P::new("tfo", Arity::Flag, OK),
    P::new("track", Arity::One, OK),
    P::new("socks4", Arity::One, Support::Unsupported("SOCKS4")),
    P::new("usesrc", Arity::Flag, OK),
    P::new("weight", Arity::One, OK),
    P::new("addr", Arity::One, OK),
    P::new("agent-addr", Arity::One, OK),
    P::new("agent-check", Arity::Flag, OK),
    P::new("agent-inter", Arity::One, OK),
    P::new("agent-port", Arity::One, OK),
    P::new("agent-send", Arity::One, OK),
    P::new("check", Arity::Flag, OK),
    P::new("check-proto", Arity::One, Support::Unsupported("HTTP/2")),
    P::new("check-send-proxy", Arity::Flag, OK),
    P::new(
        "check-via-socks4",
        Arity::Flag,
        Support::Unsupported("SOCKS4"),
    ),
    P::new("no-agent-check", Arity::Flag, OK),
    P::new("no-check", Arity::Flag, OK),
    P::new("no-check-send-proxy", Arity::Flag, OK),
    P::new("rise", Arity::One, OK),
    P::new("fall", Arity::One, OK),
    P::new("inter", Arity::One, OK),
    P::new("fastinter", Arity::One, OK),
    P::new("downinter", Arity::One, OK),
    P::new("port", Arity::One, OK),
    P::new("tcp-ut", Arity::One, OK),
];
