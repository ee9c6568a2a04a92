//! The stats socket's commands: 2.6's command set, its answers and error
//! texts, its levels (user < operator < admin), and its suggestions when a
//! command is unknown. `execute` runs one command and returns the exact
//! bytes to send back (an answer ends with an empty line).
use super::counters::now_ms;
use super::fields::{self, Filter};
use crate::worker::Shared;
use std::fmt::Write as _;
use std::sync::atomic::Ordering;

/// A CLI session's access level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    User,
    Operator,
    Admin,
}

impl Level {
    pub fn from_word(w: &str) -> Option<Level> {
        match w {
            "user" => Some(Level::User),
            "operator" => Some(Level::Operator),
            "admin" => Some(Level::Admin),
            _ => None,
        }
    }
    fn name(self) -> &'static str {
        match self {
            Level::User => "user",
            Level::Operator => "operator",
            Level::Admin => "admin",
        }
    }
}

/// The state of one CLI connection.
#[derive(Debug)]
pub struct CliState {
    pub level: Level,
    /// Interactive mode: a `> ` prompt after each answer, the connection
    /// stays open.
    pub prompt: bool,
    pub quit: bool,
    /// `set timeout cli` (ms).
    pub timeout_ms: u64,
}

/// The commands of 2.6 with a usage line, in its order, as `help` lists
/// them (`help`, `prompt` and `quit` follow).
static USAGE: &[(&str, &str)] = &[
    ("abort ssl ca-file <cafile>", "abort a transaction for a CA file"),
    ("abort ssl cert <certfile>", "abort a transaction for a certificate file"),
    ("abort ssl crl-file <crlfile>", "abort a transaction for a CRL file"),
    ("add acl [@<ver>] <acl> <pattern>", "add an acl entry"),
    ("add map [@<ver>] <map> <key> <val>", "add a map entry (payload supported instead of key/val)"),
    ("add server <bk>/<srv>", "create a new server"),
    ("add ssl crt-list <list> <cert> [opts]*", "add to crt-list file <list> a line <cert> or a payload"),
    ("clear acl [@<ver>] <acl>", "clear the contents of this acl"),
    ("clear counters [all]", "clear max statistics counters (or all counters)"),
    ("clear map [@<ver>] <map>", "clear the contents of this map"),
    ("clear table <table> [<filter>]*", "remove an entry from a table (filter: data/key)"),
    ("commit acl @<ver> <acl>", "commit the ACL at this version"),
    ("commit map @<ver> <map>", "commit the map at this version"),
    ("commit ssl ca-file <cafile>", "commit a CA file"),
    ("commit ssl cert <certfile>", "commit a certificate file"),
    ("commit ssl crl-file <crlfile>", "commit a CRL file"),
    ("del acl <acl> [<key>|#<ref>]", "delete acl entries matching <key>"),
    ("del map <map> [<key>|#<ref>]", "delete map entries matching <key>"),
    ("del server <bk>/<srv>", "remove a dynamically added server"),
    ("del ssl ca-file <cafile>", "delete an unused CA file"),
    ("del ssl cert <certfile>", "delete an unused certificate file"),
    ("del ssl crl-file <crlfile>", "delete an unused CRL file"),
    ("del ssl crt-list <list> <cert[:line]>", "delete a line <cert> from crt-list file <list>"),
    ("disable agent", "disable agent checks"),
    ("disable dynamic-cookie backend <bk>", "disable dynamic cookies on a specific backend"),
    ("disable frontend <frontend>", "temporarily disable specific frontend"),
    ("disable health", "disable health checks"),
    ("disable server (DEPRECATED)", "disable a server for maintenance (use 'set server' instead)"),
    ("enable agent", "enable agent checks"),
    ("enable dynamic-cookie backend <bk>", "enable dynamic cookies on a specific backend"),
    ("enable frontend <frontend>", "re-enable specific frontend"),
    ("enable health", "enable health checks"),
    ("enable server  (DEPRECATED)", "enable a disabled server (use 'set server' instead)"),
    ("get acl <acl> <value>", "report the patterns matching a sample for an ACL"),
    ("get map <acl> <value>", "report the keys and values matching a sample for a map"),
    ("get var <name>", "retrieve contents of a process-wide variable"),
    ("get weight <bk>/<srv>", "report a server's current weight"),
    ("new ssl ca-file <cafile>", "create a new CA file to be used in a crt-list"),
    ("new ssl cert <certfile>", "create a new certificate file to be used in a crt-list or a directory"),
    ("new ssl crlfile <crlfile>", "create a new CRL file to be used in a crt-list"),
    ("operator", "lower the level of the current CLI session to operator"),
    ("prepare acl <acl>", "prepare a new version for atomic ACL replacement"),
    ("prepare map <acl>", "prepare a new version for atomic map replacement"),
    ("set dynamic-cookie-key backend <bk> <k>", "change a backend secret key for dynamic cookies"),
    ("set map <map> [<key>|#<ref>] <value>", "modify a map entry"),
    ("set maxconn frontend <frontend> <value>", "change a frontend's maxconn setting"),
    ("set maxconn global <value>", "change the per-process maxconn setting"),
    ("set maxconn server <bk>/<srv>", "change a server's maxconn setting"),
    ("set profiling <what> {auto|on|off}", "enable/disable resource profiling (tasks,memory)"),
    ("set rate-limit <setting> <value>", "change a rate limiting value"),
    ("set server <bk>/<srv> [opts]", "change a server's state, weight, address or ssl"),
    ("set severity-output [none|number|string]", "set presence of severity level in feedback information"),
    ("set ssl ca-file <cafile> <payload>", "replace a CA file"),
    ("set ssl cert <certfile> <payload>", "replace a certificate file"),
    ("set ssl crl-file <crlfile> <payload>", "replace a CRL file"),
    ("set ssl ocsp-response <resp|payload>", "update a certificate's OCSP Response from a base64-encode DER"),
    ("set ssl tls-key [id|file] <key>", "set the next TLS key for the <id> or <file> listener to <key>"),
    ("set table <table> key <k> [data.* <v>]*", "update or create a table entry's data"),
    ("set timeout [cli] <delay>", "change a timeout setting"),
    ("set weight <bk>/<srv>  (DEPRECATED)", "change a server's weight (use 'set server' instead)"),
    ("show acl [@<ver>] <acl>]", "report available acls or dump an acl's contents"),
    ("show activity", "show per-thread activity stats (for support/developers)"),
    ("show backend", "list backends in the current running config"),
    ("show cache", "show cache status"),
    ("show cli level", "display the level of the current CLI session"),
    ("show cli sockets", "dump list of cli sockets"),
    ("show env [var]", "dump environment variables known to the process"),
    ("show errors [<px>] [request|response]", "report last request and/or response errors for each proxy"),
    ("show events [<sink>] [-w] [-n]", "show event sink state"),
    ("show fd [num]", "dump list of file descriptors in use or a specific one"),
    ("show info [desc|json|typed|float]*", "report information about the running process"),
    ("show libs", "show loaded object files and libraries"),
    ("show map [@ver] [map]", "report available maps or dump a map's contents"),
    ("show peers [dict|-] [section]", "dump some information about all the peers or this peers section"),
    ("show pools", "report information about the memory pools usage"),
    ("show profiling [<what>|<#lines>|byaddr]*", "show profiling state (all,status,tasks,memory)"),
    ("show resolvers [id]", "dumps counters from all resolvers section and associated name servers"),
    ("show schema json", "report schema used for stats"),
    ("show servers conn [<backend>]", "dump server connections status (all or for a single backend)"),
    ("show servers state [<backend>]", "dump volatile server information (all or for a single backend)"),
    ("show sess [id]", "report the list of current sessions or dump this exact session"),
    ("show ssl ca-file [<cafile>[:<index>]]", "display the SSL CA files used in memory, or the details of a <cafile>, or a single certificate of index <index> of a CA file <cafile>"),
    ("show ssl cert [<certfile>]", "display the SSL certificates used in memory, or the details of a file"),
    ("show ssl crl-file [<crlfile[:<index>>]]", "display the SSL CRL files used in memory, or the details of a <crlfile>, or a single CRL of index <index> of CRL file <crlfile>"),
    ("show ssl crt-list [-n] [<list>]", "show the list of crt-lists or the content of a crt-list file <list>"),
    ("show ssl ocsp-response [id]", "display the IDs of the OCSP responses used in memory, or the details of a single OCSP response"),
    ("show ssl providers", "show loaded SSL providers"),
    ("show startup-logs", "report logs emitted during HAProxy startup"),
    ("show stat [desc|json|no-maint|typed|up]*", "report counters for each proxy and server"),
    ("show table <table> [<filter>]*", "report table usage stats or dump this table's contents (filter: data/key)"),
    ("show tasks", "show running tasks"),
    ("show threads", "show some threads debugging information"),
    ("show tls-keys [id|*]", "show tls keys references or dump tls ticket keys when id specified"),
    ("show trace [<module>]", "show live tracing state"),
    ("show version", "show version of the current process"),
    ("shutdown frontend <frontend>", "stop a specific frontend"),
    ("shutdown session [id]", "kill a specific session"),
    ("shutdown sessions server <bk>/<srv>", "kill sessions on a server"),
    ("trace [<module>|0] [cmd [args...]]", "manage live tracing (empty to list, 0 to stop all)"),
    ("user", "lower the level of the current CLI session to user"),
];

/// The order in which 2.6 registers its commands (by source file, then
/// within each file), inferred from its suggestions: when two commands are
/// equally close to an unknown one, the earlier one is offered. Commands
/// not listed (TLS ones) come last, in `USAGE` order.
static REGISTRATION: &[&str] = &[
    "show sess",
    "shutdown session",
    "shutdown sessions server",
    "clear counters",
    "show info",
    "show stat",
    "show schema json",
    "disable agent",
    "disable health",
    "disable server",
    "enable agent",
    "enable health",
    "enable server",
    "set maxconn server",
    "set server",
    "get weight",
    "set weight",
    "add server",
    "del server",
    "clear table",
    "set table",
    "show table",
    "show peers",
    "show resolvers",
    "set maxconn global",
    "set rate-limit",
    "set severity-output",
    "set timeout",
    "show env",
    "show cli sockets",
    "show cli level",
    "show fd",
    "show activity",
    "show version",
    "operator",
    "user",
    "show servers conn",
    "show servers state",
    "show backend",
    "shutdown frontend",
    "set dynamic-cookie-key backend",
    "enable dynamic-cookie backend",
    "disable dynamic-cookie backend",
    "set maxconn frontend",
    "show errors",
    "disable frontend",
    "enable frontend",
    "show cache",
    "get var",
    "show threads",
    "show libs",
    "show events",
    "add acl",
    "add map",
    "clear acl",
    "clear map",
    "commit acl",
    "commit map",
    "del acl",
    "del map",
    "get acl",
    "get map",
    "prepare acl",
    "prepare map",
    "set map",
    "show acl",
    "show map",
    "show pools",
    "trace",
    "show trace",
    "set profiling",
    "show profiling",
    "show tasks",
    "show startup-logs",
];

/// The lines always offered after a list of commands.
const TAIL: &str = "  help [<command>]                        : list matching or all commands\n  prompt                                  : toggle interactive mode with prompt\n  quit                                    : disconnect\n";

/// The keywords of a usage line (its words before the first argument).
fn keywords(usage: &str) -> Vec<&str> {
    usage
        .split_whitespace()
        .take_while(|w| !w.starts_with(['<', '[', '(', '{', '@', '-']))
        .collect()
}

fn usage_line(usage: &str, desc: &str) -> String {
    format!("  {usage:<40}: {desc}\n")
}

/// HAProxy's word fingerprint: transitions between character classes.
fn fingerprint(fp: &mut [u8; 1024], word: &str) {
    let class = |b: u8| match b.to_ascii_lowercase() {
        c @ b'a'..=b'z' => (c - b'a') as usize + 1,
        b'0'..=b'9' => 27,
        _ => 28,
    };
    let mut from = 28;
    for b in word.bytes() {
        let to = class(b);
        fp[to] = 1;
        fp[32 * from + to] = fp[32 * from + to].wrapping_add(1);
        from = to;
    }
    fp[32 * from + 28] = fp[32 * from + 28].wrapping_add(1);
}

fn distance(a: &[u8; 1024], b: &[u8; 1024]) -> u32 {
    a.iter()
        .zip(b.iter())
        .map(|(x, y)| (i32::from(*x) - i32::from(*y)).unsigned_abs())
        .sum()
}

/// The commands matching `args` as 2.6's help and unknown-command answers
/// choose them: all those whose keywords start with the words given, or,
/// when words remain beyond the longest such match, the five closest by
/// fingerprint (a few dropped when clearly worse than the best).
fn matching(args: &[&str]) -> Vec<usize> {
    let kws: Vec<Vec<&str>> = USAGE.iter().map(|(u, _)| keywords(u)).collect();
    // The number of leading words some command matches exactly.
    let mut length = 0;
    for k in &kws {
        let n = k.iter().zip(args).take_while(|(a, b)| a == b).count();
        length = length.max(n);
    }
    let prefix_ok = |k: &Vec<&str>| k.len() >= length && k[..length] == args[..length];
    if args.len() <= length {
        return (0..USAGE.len()).filter(|i| prefix_ok(&kws[*i])).collect();
    }
    // Fuzzy match on the remaining words.
    let mut word = [0u8; 1024];
    let mut len_args = 0;
    for a in &args[length..] {
        fingerprint(&mut word, a);
        len_args += a.len();
    }
    const MAX: usize = 5;
    let mut best: Vec<(u32, usize)> = Vec::new();
    let rank = |i: usize| {
        let k = kws[i].join(" ");
        REGISTRATION
            .iter()
            .position(|r| *r == k)
            .unwrap_or(REGISTRATION.len() + i)
    };
    let mut order: Vec<usize> = (0..USAGE.len()).collect();
    order.sort_by_key(|i| rank(*i));
    for i in order {
        let k = &kws[i];
        if !prefix_ok(k) || k.len() <= length {
            continue;
        }
        let mut fp = [0u8; 1024];
        let mut total = len_args;
        for w in &k[length..] {
            fingerprint(&mut fp, w);
            total += w.len();
        }
        let d = distance(&word, &fp);
        if d as usize >= 5 * total / 2 {
            continue;
        }
        if best.len() == MAX && d >= best[MAX - 1].0 {
            continue;
        }
        if best.len() == MAX {
            best.pop();
        }
        let at = best
            .iter()
            .position(|(bd, _)| d < *bd)
            .unwrap_or(best.len());
        best.insert(at, (d, i));
    }
    let Some(&(d0, _)) = best.first() else {
        return Vec::new();
    };
    let mut out: Vec<usize> = best
        .into_iter()
        .take_while(|(d, _)| *d <= 5 * d0 / 2)
        .map(|(_, i)| i)
        .collect();
    out.sort_unstable();
    out
}

/// `help [words]`, or the answer to an unknown command.
fn usage_answer(args: &[&str], help: bool) -> String {
    let all = args.is_empty() || args.iter().all(|a| a.is_empty());
    let list: Vec<usize> = if all {
        (0..USAGE.len()).collect()
    } else {
        matching(args)
    };
    let mut out = String::from(if help {
        "The following commands are valid at this level:\n"
    } else if all {
        "Unknown command. Please enter one of the following commands only:\n"
    } else {
        "Unknown command, but maybe one of the following ones is a better match:\n"
    });
    for i in list {
        out.push_str(&usage_line(USAGE[i].0, USAGE[i].1));
    }
    out.push_str(TAIL);
    out
}

/// Splits a command line into commands (at `;`) and words (at blanks);
/// a backslash makes the next character ordinary.
pub fn split_line(line: &str) -> Vec<Vec<String>> {
    let mut cmds = Vec::new();
    let mut words: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                    in_word = true;
                }
            }
            ';' => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
                cmds.push(std::mem::take(&mut words));
            }
            ' ' | '\t' => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    cmds.push(words);
    cmds
}

/// What a command answered: the text before the closing empty line.
fn ok(text: impl Into<String>) -> String {
    let mut t = text.into();
    t.push('\n');
    t
}

/// An answer of one line (then the empty line).
fn msg(text: &str) -> String {
    format!("{text}\n\n")
}

const DENIED: &str = "Permission denied\n\n";
const NOT_BUILT: &str = "This command is not built yet in haproxy-rs.\n\n";

/// Runs one command; returns the answer's bytes.
pub fn execute(sh: &Shared, st: &mut CliState, words: &[String]) -> String {
    let w: Vec<&str> = words.iter().map(String::as_str).collect();
    let arg = |i: usize| w.get(i).copied().unwrap_or("");
    let need = |l: Level| st.level >= l;
    match (arg(0), arg(1)) {
        ("help", _) => ok(usage_answer(&w[1..], true)),
        ("prompt", _) => {
            st.prompt = !st.prompt;
            ok("")
        }
        ("quit", _) => {
            st.quit = true;
            String::new()
        }
        ("user", "") => {
            st.level = Level::User;
            ok("")
        }
        ("operator", "") if st.level < Level::Operator => DENIED.into(),
        ("operator", "") => {
            st.level = Level::Operator;
            ok("")
        }
        ("show", "cli") if arg(2) == "level" => msg(st.level.name()),
        ("show", "cli") if arg(2) == "sockets" => show_cli_sockets(sh),
        ("show", "info") => {
            let body = if w.contains(&"json") {
                super::info::json(sh)
            } else if w.contains(&"typed") {
                super::info::typed(sh)
            } else {
                super::info::plain(sh)
            };
            ok(body)
        }
        ("show", "stat") => ok(show_stat(sh, &w)),
        ("show", "servers") if arg(2) == "state" => show_servers_state(sh, arg(3)),
        ("show", "servers") if arg(2) == "conn" => show_servers_conn(sh, arg(3)),
        ("show", "backend") => {
            let mut out = String::from("# name\n");
            for b in &sh.rt.backends {
                let _ = writeln!(out, "{}", b.name);
            }
            ok(out)
        }
        ("show", "version") => msg(crate::version::VERSION),
        ("show", "activity") => ok(show_activity(sh)),
        ("show", "pools") => ok(
            "Dumping pools usage. Use SIGQUIT to flush them.\nTotal: 0 pools, 0 bytes allocated, 0 used (~0 by thread caches).\n",
        ),
        ("show", "startup-logs") => ok(""),
        ("show", "sess") if !need(Level::Operator) => DENIED.into(),
        ("show", "sess") => show_sess(sh, arg(2)),
        ("show", "env") if !need(Level::Operator) => DENIED.into(),
        ("show", "env") => show_env(arg(2)),
        ("show", "errors") if !need(Level::Operator) => DENIED.into(),
        ("show", "errors") => show_errors(sh, arg(2), arg(3)),
        ("clear", "counters") if arg(2) == "all" && !need(Level::Admin) => DENIED.into(),
        ("clear", "counters") if !need(Level::Operator) => DENIED.into(),
        ("clear", "counters") => {
            sh.stats.clear(arg(2) == "all");
            ok("")
        }
        ("get", "weight") => get_weight(sh, arg(2)),
        ("disable" | "enable", "server" | "health" | "agent" | "frontend")
        | ("set", "server" | "weight" | "maxconn" | "timeout")
        | ("shutdown", "sessions" | "session" | "frontend")
            if !(need(Level::Admin) || arg(0) == "set" && arg(1) == "timeout") =>
        {
            DENIED.into()
        }
        ("disable", "server") => admin_server(sh, arg(2), AdminOp::Maint),
        ("enable", "server") => admin_server(sh, arg(2), AdminOp::Ready),
        ("disable" | "enable", "health" | "agent") => health_toggle(sh, &w),
        ("set", "server") => set_server(sh, &w),
        ("set", "weight") => set_weight(sh, arg(2), arg(3), false),
        ("disable" | "enable", "frontend") => frontend_toggle(sh, arg(0) == "disable", arg(2)),
        ("shutdown", "sessions") if arg(2) == "server" => match server_by_path(sh, arg(3)) {
            Err(e) => e,
            Ok((b, s)) => {
                sh.stats.sessions.kill_server(b, s);
                ok("")
            }
        },
        ("shutdown", "session") => shutdown_session(sh, arg(2)),
        ("set", "maxconn") => set_maxconn(sh, &w),
        ("set", "timeout") => set_timeout(st, arg(2), arg(3)),
        _ if is_known(&w) => NOT_BUILT.into(),
        _ => ok(usage_answer(&w, false)),
    }
}

/// A command 2.6 has but this build does not run.
fn is_known(w: &[&str]) -> bool {
    USAGE.iter().any(|(u, _)| {
        let k = keywords(u);
        !k.is_empty() && w.len() >= k.len() && k[..] == w[..k.len()]
    })
}

fn show_cli_sockets(sh: &Shared) -> String {
    let mut out = String::from("# socket lvl processes\n");
    for s in &sh.rt.global.stats_sockets {
        let level = s
            .params
            .iter()
            .position(|p| p == "level")
            .and_then(|i| s.params.get(i + 1))
            .map_or("user", String::as_str);
        let addr = match &s.addr {
            cfg_parser::addr::Address::Unix { path, .. } => format!("unix@{path}"),
            other => super::socket::inet_name(other),
        };
        let _ = writeln!(out, "{addr} {level} all");
    }
    ok(out)
}

/// `show stat [<iid> <type> <sid>] [typed|json|up|no-maint|desc]`.
fn show_stat(sh: &Shared, w: &[&str]) -> String {
    let mut filter = Filter {
        legends: true,
        ..Default::default()
    };
    let mut flags_from = 2;
    if w.len() >= 5 {
        flags_from = 5;
        let iid = match sh
            .rt
            .frontends
            .iter()
            .map(|f| (f.name.as_str(), f.id))
            .chain(sh.rt.backends.iter().map(|b| (b.name.as_str(), b.id)))
            .find(|(n, _)| *n == w[2])
        {
            Some((_, id)) => id as i64,
            None => cfg_parser::values::atol(w[2]),
        };
        let ty = cfg_parser::values::atol(w[3]);
        let sid = cfg_parser::values::atol(w[4]);
        if iid != -1 {
            filter.iid = Some(iid.clamp(0, i64::from(u32::MAX)) as u32);
        }
        if ty != -1 {
            filter.types = Some(ty as u32);
        }
        if sid != -1 {
            filter.sid = Some(sid.clamp(0, i64::from(u32::MAX)) as u32);
        }
    }
    let flags = &w[flags_from.min(w.len())..];
    filter.hide_down = flags.contains(&"up");
    filter.hide_maint = flags.contains(&"no-maint");
    let rows = fields::rows(sh, &filter);
    if flags.contains(&"json") {
        fields::json(&rows)
    } else if flags.contains(&"typed") {
        fields::typed(&rows)
    } else {
        fields::csv(&rows)
    }
}

/// `show servers state [<backend>]`.
fn show_servers_state(sh: &Shared, only: &str) -> String {
    let bes: Vec<usize> = if only.is_empty() {
        (0..sh.rt.backends.len()).collect()
    } else {
        match sh.rt.backends.iter().position(|b| b.name == only) {
            Some(i) => vec![i],
            None => return msg("Can't find backend."),
        }
    };
    let mut out = String::from("1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port\n");
    let now = now_ms();
    for b in bes {
        let be = &sh.rt.backends[b];
        for (i, srv) in be.servers.iter().enumerate() {
            let stt = &sh.backends[b].servers[i];
            let chk = super::check::server_check(sh, b, i);
            let adm = &stt.admin;
            let op = if adm.maint() || !chk.up { 0 } else { 2 };
            let (ip, port) = match adm.addr() {
                Some(a) => (a.ip().to_string(), a.port()),
                None => match &srv.addr {
                    crate::model::ServerAddr::Inet { addr, .. } => {
                        (addr.ip().to_string(), addr.port())
                    }
                    _ => ("-".into(), 0),
                },
            };
            let (status, result, check_state) = super::check::state_numbers(&chk, adm.flags());
            let health = if !chk.enabled && adm.was_maint.load(Ordering::Relaxed) {
                0
            } else {
                chk.health
            };
            let agent_state = if chk.agent.is_some() { 22 } else { 0 };
            let _ = writeln!(
                out,
                "{} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {} - {} - 0 {} {} - {}",
                be.id,
                be.name,
                srv.id,
                srv.name,
                ip,
                op,
                adm.flags(),
                adm.weight(),
                adm.iweight,
                now.saturating_sub(adm.last_change.load(Ordering::Relaxed)) / 1000,
                status,
                result,
                health,
                check_state,
                agent_state,
                0,
                0,
                port,
                srv.check_port.unwrap_or(0),
                srv.check_addr.as_deref().unwrap_or("-"),
                if chk.agent.is_some() {
                    srv.agent_port.unwrap_or(0)
                } else {
                    0
                },
            );
        }
    }
    ok(out)
}

/// `show servers conn [<backend>]`.
fn show_servers_conn(sh: &Shared, only: &str) -> String {
    let mut out = String::from("# bkname/svname bkid/svid addr port - purge_delay used_cur used_max need_est unsafe_nb safe_nb idle_lim idle_cur idle_per_thr[");
    let threads = sh.stats.threads.max(1);
    for t in 1..=threads {
        if t > 1 {
            out.push(' ');
        }
        let _ = write!(out, "{t}");
    }
    out.push_str("]\n");
    let bes: Vec<usize> = if only.is_empty() {
        (0..sh.rt.backends.len()).collect()
    } else {
        match sh.rt.backends.iter().position(|b| b.name == only) {
            Some(i) => vec![i],
            None => return msg("Can't find backend."),
        }
    };
    for b in bes {
        let be = &sh.rt.backends[b];
        for (i, srv) in be.servers.iter().enumerate() {
            let addr = fields::server_addr(sh, b, i);
            let (ip, port) = addr.rsplit_once(':').unwrap_or((addr.as_str(), "0"));
            let active = sh.backends[b].servers[i].active.load(Ordering::Relaxed);
            let smax = sh.stats.srv[b][i].get_max(super::counters::M::Sess);
            let idle = sh.pools[b].idle_for(i);
            let need =
                u64::from(active).max(sh.stats.srv[b][i].get(super::counters::C::Sess).min(1));
            let _ = write!(
                out,
                "{}/{} {}/{} {} {} - 5000 {} {} {} {} 0 -1 {}",
                be.name,
                srv.name,
                be.id,
                srv.id,
                ip.trim_start_matches('[').trim_end_matches(']'),
                port,
                active,
                smax,
                need,
                idle,
                idle
            );
            // Idle connections are not kept per thread here: all are
            // reported on the first.
            for t in 0..threads {
                let _ = write!(out, " {}", if t == 0 { idle } else { 0 });
            }
            out.push('\n');
        }
    }
    ok(out)
}

fn show_activity(sh: &Shared) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let accepted: u64 = sh
        .stats
        .fe
        .iter()
        .map(|c| c.get(super::counters::C::ConnTot))
        .sum();
    format!(
        "thread_id: 1 (1..{})\ndate_now: {}.{:06}\naccepted: {}\n",
        sh.stats.threads,
        now.as_secs(),
        now.subsec_micros(),
        accepted
    )
}

/// `show sess [<id>|all]`: the live connections.
fn show_sess(sh: &Shared, which: &str) -> String {
    let now = now_ms();
    let mut out = String::new();
    let want = parse_sess_id(which);
    for s in sh.stats.sessions.all() {
        if want.is_some_and(|id| id != s.id) {
            continue;
        }
        let fe = sh.rt.frontends.get(s.frontend);
        let be = s.backend.load(Ordering::Relaxed);
        let srv = s.server.load(Ordering::Relaxed);
        let be_name = sh
            .rt
            .backends
            .get(be)
            .map_or("<NONE>".to_string(), |b| b.name.clone());
        let srv_name = sh
            .rt
            .backends
            .get(be)
            .and_then(|b| b.servers.get(srv))
            .map_or("<none>".to_string(), |x| x.name.clone());
        let _ = writeln!(
            out,
            "{:#x}: proto={} src={} fe={} be={be_name} srv={srv_name} age={}s calls={}",
            s.id,
            s.proto,
            s.src,
            fe.map_or("GLOBAL", |f| f.name.as_str()),
            now.saturating_sub(s.started) / 1000,
            s.calls.load(Ordering::Relaxed),
        );
    }
    if want.is_some() && out.is_empty() {
        return msg("Session not found.");
    }
    ok(out)
}

fn parse_sess_id(w: &str) -> Option<u64> {
    if w.is_empty() || w == "all" {
        return None;
    }
    let hex = w.trim_start_matches("0x");
    Some(u64::from_str_radix(hex, 16).unwrap_or(0))
}

fn shutdown_session(sh: &Shared, which: &str) -> String {
    if which.is_empty() {
        return msg("Session pointer expected (use 'show sess').");
    }
    match parse_sess_id(which) {
        Some(id) if sh.stats.sessions.kill(id) => ok(""),
        _ => msg("No such session (use 'show sess')."),
    }
}

fn show_env(var: &str) -> String {
    let mut out = String::new();
    for (k, v) in std::env::vars_os() {
        let (k, v) = (k.to_string_lossy(), v.to_string_lossy());
        if var.is_empty() || k == var {
            let _ = writeln!(out, "{k}={v}");
        }
    }
    if !var.is_empty() && out.is_empty() {
        return msg("Variable not found");
    }
    ok(out)
}

/// `show errors [<px>] [request|response]`: the last invalid request of
/// each frontend (responses are not captured).
fn show_errors(sh: &Shared, px: &str, what: &str) -> String {
    let fes: Vec<usize> = match px {
        "" | "-1" => (0..sh.rt.frontends.len()).collect(),
        name => {
            let by_id = name.parse::<u32>().ok();
            let found: Vec<usize> = (0..sh.rt.frontends.len())
                .filter(|i| {
                    let f = &sh.rt.frontends[*i];
                    f.name == name || by_id == Some(f.id)
                })
                .collect();
            if found.is_empty()
                && !sh
                    .rt
                    .backends
                    .iter()
                    .any(|b| b.name == name || by_id == Some(b.id))
            {
                return msg("No such proxy.");
            }
            found
        }
    };
    let date = |t| crate::log::time::Tm::of(t, false).accept_ms();
    let mut events = String::new();
    let mut n = 0;
    if what != "response" {
        for i in fes {
            let Some(c) = sh.stats.errors[i].last() else {
                continue;
            };
            n += 1;
            let fe = &sh.rt.frontends[i];
            let _ = write!(
                events,
                "\n[{}] frontend {} (#{}): invalid request\n  backend <NONE> (#-1), server <NONE> (#-1), event #{}, src {}\n  len {}\n  \n",
                date(c.when),
                fe.name,
                fe.id,
                c.event,
                c.src,
                c.bytes.len()
            );
            super::errors::dump(&c.bytes, &mut events);
        }
    }
    ok(format!(
        "Total events captured on [{}] : {n}\n{events}",
        date(std::time::SystemTime::now())
    ))
}

/// `<backend>/<server>` to indexes, with 2.6's errors.
fn server_by_path(sh: &Shared, path: &str) -> Result<(usize, usize), String> {
    let Some((be, srv)) = path.split_once('/') else {
        return Err(msg("Require 'backend/server'."));
    };
    let Some(b) = sh.rt.backends.iter().position(|x| x.name == be) else {
        return Err(msg("No such backend."));
    };
    match sh.rt.backends[b].servers.iter().position(|x| x.name == srv) {
        Some(s) => Ok((b, s)),
        None => Err(msg("No such server.")),
    }
}

fn get_weight(sh: &Shared, path: &str) -> String {
    match server_by_path(sh, path) {
        Err(e) => e,
        Ok((b, s)) => {
            let a = &sh.backends[b].servers[s].admin;
            msg(&format!("{} (initial {})", a.weight(), a.iweight))
        }
    }
}

/// A change of a server's administrative state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdminOp {
    Ready,
    Drain,
    Maint,
}

/// Applies `op` to server `s` of backend `b` (the socket's and the page's
/// way to change a server's state).
pub fn apply_admin(sh: &Shared, b: usize, s: usize, op: AdminOp) {
    use super::admin::{FDRAIN, FMAINT};
    let a = &sh.backends[b].servers[s].admin;
    match op {
        AdminOp::Ready => a.update(0, FMAINT | FDRAIN),
        AdminOp::Drain => a.update(FDRAIN, FMAINT),
        AdminOp::Maint => a.update(FMAINT, FDRAIN),
    }
    super::backend_changed(sh, b);
}

fn admin_server(sh: &Shared, path: &str, op: AdminOp) -> String {
    match server_by_path(sh, path) {
        Err(e) => e,
        Ok((b, s)) => {
            apply_admin(sh, b, s, op);
            ok("")
        }
    }
}

/// `disable|enable health|agent <be>/<srv>`: checks are paused or resumed
/// (this build runs none; the state is kept and reported).
fn health_toggle(sh: &Shared, w: &[&str]) -> String {
    let (b, s) = match server_by_path(sh, w.get(2).copied().unwrap_or("")) {
        Err(e) => return e,
        Ok(x) => x,
    };
    let enable = w[0] == "enable";
    let srv = &sh.rt.backends[b].servers[s];
    let a = &sh.backends[b].servers[s].admin;
    if w[1] == "health" {
        if enable && !srv.check {
            return msg("Health check was not configured on this server, cannot enable.");
        }
        a.health_off.store(!enable, Ordering::Relaxed);
    } else {
        if enable && !srv.agent_check {
            return msg("Agent was not configured on this server, cannot enable.");
        }
        a.agent_off.store(!enable, Ordering::Relaxed);
    }
    ok("")
}

/// Forces a server's operational state (`set server ... health`, the
/// page's "force UP/NOLB/DOWN"): `up`/`runn`, `stopping`/`nolb`, `down`.
/// The health checks, when they run, decide again at their next result.
pub fn force_health(sh: &Shared, b: usize, s: usize, what: &str) {
    let st = &sh.backends[b].servers[s];
    let (up, nolb) = match what {
        "up" | "runn" => (true, false),
        "stopping" | "nolb" => (true, true),
        _ => (false, false),
    };
    let was = (
        st.up.load(Ordering::Relaxed),
        st.admin.nolb.load(Ordering::Relaxed),
    );
    st.up.store(up, Ordering::Relaxed);
    st.admin.nolb.store(nolb, Ordering::Relaxed);
    if was != (up, nolb) {
        st.admin.last_change.store(now_ms(), Ordering::Relaxed);
    }
    super::backend_changed(sh, b);
}

/// `set weight <be>/<srv> <w>[%]` (also `set server ... weight`).
fn set_weight(sh: &Shared, path: &str, value: &str, via_server: bool) -> String {
    let (b, s) = match server_by_path(sh, path) {
        Err(e) => return e,
        Ok(x) => x,
    };
    let _ = via_server;
    if value.is_empty() {
        return msg("Require <weight> or <weight%>.");
    }
    let a = &sh.backends[b].servers[s].admin;
    let digits = value
        .bytes()
        .take_while(|c| c.is_ascii_digit() || *c == b'-' || *c == b'+')
        .count();
    if digits == 0 || cfg_parser::values::atol(value) == 0 && !value.starts_with(['0', '-', '+']) {
        return ok("Empty weight string empty or preceded by garbage");
    }
    let n = cfg_parser::values::atol(value);
    let w = if value[digits..].starts_with('%') {
        if n < 0 {
            return msg("Relative weight must be positive.");
        }
        let w = i64::from(a.iweight) * n / 100;
        w.min(256)
    } else {
        if !(0..=256).contains(&n) {
            return msg("Absolute weight can only be between 0 and 256 inclusive.");
        }
        n
    };
    let be = &sh.rt.backends[b];
    let dynamic = matches!(
        be.balance,
        cfg_parser::ast::Balance::RoundRobin
            | cfg_parser::ast::Balance::LeastConn
            | cfg_parser::ast::Balance::First
            | cfg_parser::ast::Balance::Random { .. }
    ) || be.hash_type.consistent;
    if !dynamic && w != 0 && w != i64::from(a.iweight) {
        return msg(
            "Backend is using a static LB algorithm and only accepts weights '0%' and '100%'.",
        );
    }
    a.set_weight(w as u32);
    super::backend_changed(sh, b);
    ok("")
}

/// `set server <be>/<srv> <what> ...`.
fn set_server(sh: &Shared, w: &[&str]) -> String {
    let arg = |i: usize| w.get(i).copied().unwrap_or("");
    let (b, s) = match server_by_path(sh, arg(2)) {
        Err(e) => return e,
        Ok(x) => x,
    };
    let srv = &sh.rt.backends[b].servers[s];
    match arg(3) {
        "state" => match arg(4) {
            "ready" => admin_server(sh, arg(2), AdminOp::Ready),
            "drain" => admin_server(sh, arg(2), AdminOp::Drain),
            "maint" => admin_server(sh, arg(2), AdminOp::Maint),
            _ => msg("'set server <srv> state' expects 'ready', 'drain' and 'maint'."),
        },
        "weight" => set_weight(sh, arg(2), arg(4), true),
        "addr" => set_addr(sh, b, s, arg(4), arg(5), arg(6)),
        "health" => match arg(4) {
            w @ ("up" | "stopping" | "down") => {
                force_health(sh, b, s, w);
                ok("")
            }
            _ => msg("'set server <srv> health' expects 'up', 'stopping', or 'down'."),
        },
        "agent" | "agent-send" if !srv.agent_check => {
            msg("agent checks are not enabled on this server.")
        }
        "agent-addr" | "agent-port" if !srv.agent_check => {
            ok("agent checks are not enabled on this server")
        }
        "check-port" | "check-addr" if !srv.check => {
            ok("health checks are not enabled on this server")
        }
        "fqdn" => msg("set server <b>/<s> fqdn failed because no resolution is configured."),
        "ssl" => msg("'set server <srv> ssl' cannot be set.  default-server should define ssl settings"),
        "agent" | "agent-send" | "agent-addr" | "agent-port" | "check-port" | "check-addr" => {
            NOT_BUILT.into()
        }
        _ => msg("usage: set server <backend>/<server> addr | agent | agent-addr | agent-port | agent-send | check-addr | check-port | fqdn | health | ssl | state | weight"),
    }
}

/// `set server <be>/<srv> addr <ip> [port <port>]`, answered as 2.6 does.
fn set_addr(sh: &Shared, b: usize, s: usize, ip: &str, kw: &str, port: &str) -> String {
    const BY: &str = " by 'stats socket command'";
    if ip.is_empty() {
        return msg("set server <b>/<s> addr requires an address and optionally a port.");
    }
    let a = &sh.backends[b].servers[s].admin;
    let cur = match a.addr() {
        Some(x) => x,
        None => match &sh.rt.backends[b].servers[s].addr {
            crate::model::ServerAddr::Inet { addr, .. } => *addr,
            _ => return msg(&format!("Invalid addr '{ip}'{BY}")),
        },
    };
    let Ok(new_ip) = ip.parse::<std::net::IpAddr>() else {
        return msg(&format!("Invalid addr '{ip}'{BY}"));
    };
    let mut parts = Vec::new();
    if new_ip == cur.ip() {
        parts.push("no need to change the addr".to_string());
    } else {
        parts.push(format!("IP changed from '{}' to '{new_ip}'", cur.ip()));
    }
    let mut new_port = cur.port();
    if kw == "port" {
        match port.parse::<u16>() {
            Ok(p) if p == cur.port() => parts.push("no need to change the port".into()),
            Ok(p) => {
                parts.push(format!("port changed from '{}' to '{p}'", cur.port()));
                new_port = p;
            }
            Err(_) => parts.push(format!("problem converting port '{port}' to an int")),
        }
    }
    a.set_addr(std::net::SocketAddr::new(new_ip, new_port));
    msg(&format!("{}{BY}", parts.join(", ")))
}

fn frontend_toggle(sh: &Shared, disable: bool, name: &str) -> String {
    if name.is_empty() {
        return msg("A frontend name is expected.");
    }
    let Some(i) = sh.rt.frontends.iter().position(|f| f.name == name) else {
        return msg("No such frontend.");
    };
    let adm = &sh.stats.fe_admin[i];
    if adm.is_paused() == disable {
        return msg(if disable {
            "All sockets are already disabled."
        } else {
            "All sockets are already enabled."
        });
    }
    let _ = adm.paused.send(disable);
    ok("")
}

/// `set maxconn frontend <fe> <n>` and `set maxconn global <n>`.
fn set_maxconn(sh: &Shared, w: &[&str]) -> String {
    let arg = |i: usize| w.get(i).copied().unwrap_or("");
    match arg(2) {
        "frontend" => {
            let Some(i) = sh.rt.frontends.iter().position(|f| f.name == arg(3)) else {
                return msg("No such frontend.");
            };
            if arg(4).is_empty() {
                return msg("Integer value expected.");
            }
            let n = cfg_parser::values::atol(arg(4)).clamp(0, i64::from(u32::MAX)) as u32;
            sh.stats.fe_admin[i].maxconn.set(n);
            ok("")
        }
        "global" => {
            if arg(3).is_empty() {
                return msg("Expects an integer value.");
            }
            let n = cfg_parser::values::atol(arg(3));
            if n < 0 || n > i64::from(sh.stats.hard_maxconn) {
                return msg("Value out of range.");
            }
            sh.stats.maxconn.set(n as u32);
            ok("")
        }
        "server" => NOT_BUILT.into(),
        _ => ok(usage_answer(w, false)),
    }
}

fn set_timeout(st: &mut CliState, what: &str, value: &str) -> String {
    if what != "cli" {
        return msg("'set timeout' only supports 'cli'.");
    }
    if value.is_empty() {
        return msg("Expects an integer value.");
    }
    let ms = if value.bytes().all(|b| b.is_ascii_digit()) {
        value.parse::<u64>().map(|s| s * 1000).ok()
    } else {
        cfg_parser::values::parse_time_ms(value).ok()
    };
    match ms {
        Some(ms) => {
            st.timeout_ms = ms;
            ok("")
        }
        None => msg("Invalid timeout value."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(idx: Vec<usize>) -> Vec<&'static str> {
        idx.into_iter().map(|i| USAGE[i].0).collect()
    }

    #[test]
    fn suggestions_are_2_6s() {
        // Captured from 2.6.12.
        assert_eq!(
            names(matching(&["bogus", "command"])),
            [
                "add map [@<ver>] <map> <key> <val>",
                "commit acl @<ver> <acl>",
                "commit map @<ver> <map>",
                "show backend",
                "user"
            ]
        );
        assert_eq!(
            names(matching(&["show", "foo"])),
            [
                "show env [var]",
                "show fd [num]",
                "show info [desc|json|typed|float]*",
                "show pools",
                "show sess [id]"
            ]
        );
        assert_eq!(
            names(matching(&["showstat"])),
            ["show stat [desc|json|no-maint|typed|up]*"]
        );
        assert_eq!(
            names(matching(&["show", "servers"])),
            [
                "show servers conn [<backend>]",
                "show servers state [<backend>]"
            ]
        );
        assert_eq!(
            names(matching(&["xyzzy"])),
            [
                "add acl [@<ver>] <acl> <pattern>",
                "add map [@<ver>] <map> <key> <val>",
                "del acl <acl> [<key>|#<ref>]",
                "trace [<module>|0] [cmd [args...]]",
                "user"
            ]
        );
    }

    #[test]
    fn lines_split_at_semicolons_and_blanks() {
        assert_eq!(
            split_line("show version ; show  backend;get weight a\\;b/c"),
            vec![
                vec!["show".to_string(), "version".into()],
                vec!["show".into(), "backend".into()],
                vec!["get".into(), "weight".into(), "a;b/c".into()],
            ]
        );
    }
}
