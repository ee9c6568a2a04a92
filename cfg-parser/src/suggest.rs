//! "did you mean" suggestions for unknown keywords, with HAProxy's word-fingerprint similarity.
//!
//! Each byte of a word is mapped to a class: letters (case-insensitive) get
//! one class each (1..=26), all digits share class 27, and every other byte
//! shares class 28, which is also used for the word's start and end. The
//! fingerprint is a 32x32 table: cell `32*from + to` counts the transitions
//! between consecutive classes (start -> first byte, ..., last byte -> end),
//! and row 0 (cell `to`) flags which classes occur at all. The distance is
//! the sum of absolute cell differences. A best match is only proposed when
//! its distance is at most twice the length of the typed word and at most
//! twice the length of the proposal; on ties the earliest candidate wins.

/// Number of cells in a fingerprint (32 source classes x 32 target classes).
const CELLS: usize = 32 * 32;
/// Class shared by non-alphanumeric bytes and by the word boundaries.
const EDGE: usize = 28;
/// Class shared by all ASCII digits.
const DIGIT: usize = 27;

/// Transition-count signature of a word (HAProxy's 1024-byte fingerprint).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fingerprint([u8; CELLS]);

/// Maps one byte to its character class.
fn class_of(b: u8) -> usize {
    match b.to_ascii_lowercase() {
        c @ b'a'..=b'z' => (c - b'a') as usize + 1,
        b'0'..=b'9' => DIGIT,
        _ => EDGE,
    }
}

/// Builds the fingerprint of `word` (bytes, case-insensitive).
pub fn fingerprint(word: &str) -> Fingerprint {
    let mut cells = [0u8; CELLS];
    let mut prev = EDGE;
    for b in word.bytes() {
        let cur = class_of(b);
        cells[cur] = 1; // presence row
        cells[32 * prev + cur] = cells[32 * prev + cur].wrapping_add(1);
        prev = cur;
    }
    cells[32 * prev + EDGE] = cells[32 * prev + EDGE].wrapping_add(1);
    Fingerprint(cells)
}

/// Sum over all cells of the absolute difference between two fingerprints.
pub fn distance(a: &Fingerprint, b: &Fingerprint) -> u32 {
    a.0.iter()
        .zip(b.0.iter())
        .map(|(&x, &y)| (x as i32 - y as i32).unsigned_abs())
        .sum()
}

/// The closest candidate, or None when none is close enough (HAProxy's threshold).
///
/// Candidates are scanned in order and only a strictly smaller distance
/// replaces the current best, so the first of several equally close
/// candidates is returned. The best one is rejected when its distance exceeds
/// twice the byte length of `word` or twice its own byte length.
pub fn suggest<'a, I: IntoIterator<Item = &'a str>>(word: &str, candidates: I) -> Option<&'a str> {
    suggest_action(word, candidates.into_iter().map(|c| (c, false)))
}

/// `suggest` for rule actions, where each candidate says whether it is a
/// prefix keyword (an action written with an argument in parentheses or a
/// numeric suffix, `set-var(txn.x)`, `track-sc0`). 2.6's `action_suggest`
/// is more tolerant when the best candidate is one: the limit is three
/// times the lengths instead of twice (`add` -> `add-acl` at 7 <= 9).
pub fn suggest_action<'a, I: IntoIterator<Item = (&'a str, bool)>>(
    word: &str,
    candidates: I,
) -> Option<&'a str> {
    let target = fingerprint(word);
    let mut best: Option<(u32, &'a str, bool)> = None;
    for (cand, prefix) in candidates {
        let d = distance(&target, &fingerprint(cand));
        if best.is_none_or(|(bd, _, _)| d < bd) {
            best = Some((d, cand, prefix));
        }
    }
    let (d, cand, prefix) = best?;
    let factor = if prefix { 3 } else { 2 };
    let limit = |s: &str| factor * s.len() as u64;
    if d as u64 > limit(word) || d as u64 > limit(cand) {
        None
    } else {
        Some(cand)
    }
}

// The words 2.6 offers as suggestions, in the order it scans them (ties
// go to the first). They are 2.6's own lists, read from its binary: they
// differ from the keywords we parse (we accept words 2.6 would not suggest,
// such as `tune.quic.*` or 1.5's `reqadd`, and 2.6 suggests words it parses
// elsewhere, such as `peers`), so callers use them instead of their tables.
//
// 2.6 scans its registered keyword lists in registration order (the link
// order of its object files, each list in source order), then the section's
// built-in list of words it parses by hand. The server, bind and rule-action
// tables hold 2.6's words in 2.6's order themselves.

/// The words 2.6 suggests for an unknown `global` keyword.
#[rustfmt::skip]
pub const GLOBAL_CANDIDATES: &[&str] = &[
    // Registered keyword lists, in registration order.
    "ca-base", "crt-base", "issuers-chain-path", "maxsslconn", "ssl-default-bind-options",
    "ssl-default-server-options", "ssl-dh-param-file", "ssl-mode-async", "ssl-propquery",
    "ssl-provider", "ssl-provider-path", "ssl-skip-self-issued-ca", "tune.ssl.cachesize",
    "tune.ssl.default-dh-param", "tune.ssl.force-private-cache", "tune.ssl.lifetime",
    "tune.ssl.maxrecord", "tune.ssl.hard-maxrecord", "tune.ssl.ssl-ctx-cache-size",
    "tune.ssl.capture-cipherlist-size", "tune.ssl.capture-buffer-size", "tune.ssl.keylog",
    "ssl-default-bind-ciphers", "ssl-default-server-ciphers", "ssl-default-bind-curves",
    "ssl-default-bind-ciphersuites", "ssl-default-server-ciphersuites", "ssl-load-extra-files",
    "ssl-load-extra-del-ext", "lua-prepend-path", "lua-load", "lua-load-per-thread",
    "tune.lua.session-timeout", "tune.lua.task-timeout", "tune.lua.service-timeout",
    "tune.lua.forced-yield", "tune.lua.maxmem", "tune.h2.header-table-size",
    "tune.h2.initial-window-size", "tune.h2.max-concurrent-streams", "tune.h2.max-frame-size",
    "h1-accept-payload-with-any-method", "h1-case-adjust", "h1-case-adjust-file",
    "tune.idle-pool.shared", "tune.pool-high-fd-ratio", "tune.pool-low-fd-ratio", "default-path",
    "tune.peers.max-updates-at-once", "stats", "pp2-never-send-local", "grace", "hard-stop-after",
    "close-spread-time", "httpclient.resolvers.id", "httpclient.resolvers.prefer",
    "httpclient.ssl.verify", "httpclient.ssl.ca-file", "tune.listener.multi-queue", "set-var",
    "set-var-fmt", "tune.vars.global-max-size", "tune.vars.proc-max-size",
    "tune.vars.sess-max-size", "tune.vars.txn-max-size", "tune.vars.reqres-max-size",
    "tune.vars.check-max-size", "tune.sched.low-latency", "tune.fail-alloc", "no-memory-trimming",
    "mworker-max-reloads", "tune.fd.edge-triggered", "profiling.tasks", "nbthread", "thread-group",
    "thread-groups",
    // Then the section's built-in list (cfgparse-global.c).
    "global", "daemon", "master-worker", "noepoll", "nokqueue", "noevports", "nopoll",
    "busy-polling", "set-dumpable", "insecure-fork-wanted", "insecure-setuid-wanted", "nosplice",
    "nogetaddrinfo", "noreuseport", "quiet", "zero-warning", "tune.runqueue-depth",
    "tune.maxpollevents", "tune.maxaccept", "tune.recv_enough", "tune.buffers.limit",
    "tune.buffers.reserve", "tune.bufsize", "tune.maxrewrite", "tune.idletimer",
    "tune.rcvbuf.client", "tune.rcvbuf.server", "tune.sndbuf.client", "tune.sndbuf.server",
    "tune.pipesize", "tune.http.cookielen", "tune.http.logurilen", "tune.http.maxhdr",
    "tune.comp.maxlevel", "tune.pattern.cache-size", "uid", "gid", "external-check", "user",
    "group", "nbproc", "maxconn", "ssl-server-verify", "maxconnrate", "maxsessrate", "maxsslrate",
    "maxcomprate", "maxpipes", "maxzlibmem", "maxcompcpuusage", "ulimit-n", "chroot",
    "description", "node", "pidfile", "unix-bind", "log", "log-send-hostname", "server-state-base",
    "server-state-file", "log-tag", "spread-checks", "max-spread-checks", "cpu-map", "setenv",
    "presetenv", "unsetenv", "resetenv", "strict-limits", "localpeer", "numa-cpu-mapping",
    "defaults", "listen", "frontend", "backend", "peers", "resolvers", "cluster-secret",
];

/// The words 2.6 suggests for an unknown keyword in a proxy section (all
/// four proxy kinds).
#[rustfmt::skip]
pub const PROXY_CANDIDATES: &[&str] = &[
    // Registered keyword lists, in registration order.
    "http-check", "tcp-check", "timeout", "clitimeout", "contimeout", "srvtimeout", "rate-limit",
    "max-keep-alive-queue", "declare", "retry-on", "clitcpka-cnt", "srvtcpka-cnt", "clitcpka-idle",
    "srvtcpka-idle", "clitcpka-intvl", "srvtcpka-intvl", "errorloc", "errorloc302", "errorloc303",
    "errorfile", "errorfiles", "http-error", "tcp-request", "tcp-response", "filter",
    "use-fcgi-app", "compression", "external-check",
    // Then the section's built-in list (cfgparse-listen.c).
    "listen", "frontend", "backend", "defaults", "server", "default-server", "server-template",
    "bind", "monitor-net", "monitor-uri", "mode", "id", "description", "disabled", "enabled",
    "bind-process", "acl", "dynamic-cookie-key", "cookie", "email-alert", "persist", "appsession",
    "load-server-state-from-file", "server-state-file-name", "max-session-srv-conns", "capture",
    "retries", "http-request", "http-response", "http-after-response", "http-send-name-header",
    "block", "redirect", "use_backend", "use-server", "force-persist", "ignore-persist",
    "stick-table", "stick", "stats", "option", "default_backend", "http-reuse", "monitor",
    "transparent", "maxconn", "backlog", "fullconn", "dispatch", "balance", "hash-type",
    "hash-balance-factor", "unique-id-format", "unique-id-header", "log-format", "log-format-sd",
    "log-tag", "log", "source", "usesrc", "error-log-format",
];

/// Words 2.6 suggests for an unknown server keyword after its registered
/// ones (`srv_find_best_kw`'s extra list: words it parses by hand or used to).
pub const SERVER_EXTRA: &[&str] = &[
    "ipv4",
    "ipv6",
    "legacy",
    "octet-count",
    "fail-check",
    "sudden-death",
    "mark-down",
];

/// The words 2.6 suggests for an unknown `option`: its `cfg_opts` and
/// `cfg_opts2` tables, then the options it parses by hand.
#[rustfmt::skip]
pub const OPTION_CANDIDATES: &[&str] = &[
    // cfg_opts
    "abortonclose", "allbackups", "checkcache", "clitcpka", "contstats", "dontlognull",
    "http-buffer-request", "http-ignore-probes", "idle-close-on-response", "prefer-last-server",
    "logasap", "nolinger", "persist", "srvtcpka", "transparent",
    // cfg_opts2
    "splice-request", "splice-response", "splice-auto", "accept-invalid-http-request",
    "accept-invalid-http-response", "dontlog-normal", "log-separate-errors", "log-health-checks",
    "socket-stats", "tcp-smart-accept", "tcp-smart-connect", "independent-streams",
    "http-use-proxy-header", "http-pretend-keepalive", "http-no-delay",
    "h1-case-adjust-bogus-client", "h1-case-adjust-bogus-server", "disable-h2-upgrade",
    // Parsed by hand (cfgparse-listen.c's common_options).
    "httpclose", "http-server-close", "http-keep-alive", "redispatch", "httplog", "tcplog", "tcpka",
    "httpchk", "ssl-hello-chk", "smtpchk", "pgsql-check", "redis-check", "mysql-check",
    "ldap-check", "spop-check", "tcp-check", "external-check", "forwardfor", "original-to",
];

#[cfg(test)]
mod tests {
    use super::*;

    // Small samples of the 2.6 keyword tables (tied pairs kept in 2.6's order).
    const GLOBAL: &str = "nbthread thread-groups maxsslconn grace stats global daemon \
        master-worker quiet uid gid user group nbproc maxconn maxconnrate maxsessrate \
        maxsslrate chroot node pidfile log log-tag spread-checks max-spread-checks setenv \
        unsetenv noepoll nopoll tune.bufsize tune.maxrewrite lua-load defaults listen";
    const PROXY: &str = "backend bind mode balance hash-type use_backend use-server \
        default_backend default-server server timeout http-request tcp-request retries \
        cookie option log acl";
    const SERVER: &str = "addr agent-check backup check check-ssl cookie fall id inter \
        fastinter maxconn rise ssl sni tfo verify weight";
    const BIND: &str = "accept-netscaler-cip accept-proxy backlog crt crt-list ssl v4v6 \
        v6only transparent name maxconn interface";

    fn s(word: &str, list: &'static str) -> Option<&'static str> {
        suggest(word, list.split_whitespace())
    }

    #[test]
    fn raw_distances() {
        let d = |a: &str, b: &str| distance(&fingerprint(a), &fingerprint(b));
        assert_eq!(d("nbthread", "NbThread"), 0); // case-insensitive
        assert_eq!(d("chek", "check"), 3); // 'ek'->'ec','ck'
        assert_eq!(d("pidfil", "pidfile"), 4); // 3 transitions + 'e' presence
        assert_eq!(d("ab", "ba"), 6);
        assert_eq!(d("v4onl", "v6only"), 4); // all digits share one class
        assert_eq!(d("-og", "log"), 6); // '-' shares the start/end class
    }

    // Real 2.6.12: "unknown keyword 'X' in 'global' section; did you mean 'Y' maybe ?"
    #[test]
    fn global_typos() {
        assert_eq!(s("nbthreadz", GLOBAL), Some("nbthread"));
        assert_eq!(s("nbthred", GLOBAL), Some("nbthread"));
        assert_eq!(s("maxconnn", GLOBAL), Some("maxconn"));
        assert_eq!(s("deamon", GLOBAL), Some("daemon"));
        assert_eq!(s("pidfil", GLOBAL), Some("pidfile"));
        assert_eq!(s("quiett", GLOBAL), Some("quiet"));
        assert_eq!(s("uid2", GLOBAL), Some("uid"));
        assert_eq!(s("tune.bufsiz", GLOBAL), Some("tune.bufsize"));
        assert_eq!(s("usetenv", GLOBAL), Some("unsetenv"));
    }

    // The presence row and the shared '-'/edge class matter: real HAProxy
    // picks 'log-tag' for "logtag" (4 vs 5 for 'log').
    #[test]
    fn presence_and_separator_class() {
        assert_eq!(s("logtag", GLOBAL), Some("log-tag"));
        assert_eq!(s("set-var-mt", "set-var set-var-fmt"), Some("set-var"));
    }

    // A distance of exactly 2*len(word) is still accepted (real 2.6.12 agreed).
    #[test]
    fn threshold_is_inclusive() {
        assert_eq!(s("-og", GLOBAL), Some("log")); // 6 == 2*3
        assert_eq!(s("chooa", GLOBAL), Some("chroot")); // 10 == 2*5
    }

    // Real 2.6.12 printed "unknown keyword 'X' in 'global' section" (no hint).
    #[test]
    fn global_no_suggestion() {
        assert_eq!(s("foobar", GLOBAL), None); // 'global' at 14 > 12
        assert_eq!(s("lua", GLOBAL), None);
        assert_eq!(s("tune", GLOBAL), None);
        assert_eq!(s("zz", GLOBAL), None);
        assert_eq!(s("x", GLOBAL), None);
        assert_eq!(s("nill", GLOBAL), None); // 'nopoll' at 9 > 2*4
        assert_eq!(s("chhid", GLOBAL), None); // 'uid' at 9 <= 10 but > 2*3
    }

    // Ties keep the earliest candidate: real 2.6.12 said 'uid' for "id"/"aid",
    // 'spread-checks' for "ax-spread-checks", 'maxsessrate' for "maxss-rate".
    #[test]
    fn ties_keep_first() {
        assert_eq!(s("id", GLOBAL), Some("uid"));
        assert_eq!(s("id", "gid uid"), Some("gid"));
        assert_eq!(s("ax-spread-checks", GLOBAL), Some("spread-checks"));
        assert_eq!(s("maxss-rate", GLOBAL), Some("maxsessrate"));
        // 6 for both; 2.6 lists "noepoll" before "nopoll" and said 'noepoll'.
        assert_eq!(s("noeopll", GLOBAL), Some("noepoll"));
    }

    // Real: "unknown keyword 'X' in 'frontend'/'backend' section; did you mean 'Y' maybe ?"
    #[test]
    fn proxy_typos() {
        assert_eq!(s("default_backendd", PROXY), Some("default_backend"));
        assert_eq!(s("use-backend", PROXY), Some("use_backend"));
        assert_eq!(s("blance", PROXY), Some("balance"));
        assert_eq!(s("timout", PROXY), Some("timeout"));
        assert_eq!(s("retires", PROXY), Some("retries"));
        assert_eq!(s("foobar", PROXY), None);
    }

    // Real: "'server b/s1' : unknown keyword 'X'; did you mean 'Y' maybe ?"
    #[test]
    fn server_typos() {
        assert_eq!(s("chek", SERVER), Some("check"));
        assert_eq!(s("weigth", SERVER), Some("weight"));
        assert_eq!(s("inetr", SERVER), Some("inter"));
        assert_eq!(s("fal", SERVER), Some("fall"));
        assert_eq!(s("sni2", SERVER), Some("sni"));
        assert_eq!(s("ssl-verify", SERVER), Some("verify"));
        assert_eq!(s("foo", SERVER), Some("tfo")); // 5 <= 6
        assert_eq!(s("foobar", SERVER), None);
    }

    // Real: "'bind :8080' in section 'frontend': unknown keyword 'X'; did you mean 'Y' maybe ?"
    #[test]
    fn bind_typos() {
        assert_eq!(s("accept-proxi", BIND), Some("accept-proxy"));
        assert_eq!(s("accept-proxy2", BIND), Some("accept-proxy"));
        assert_eq!(s("crt-lst", BIND), Some("crt-list"));
        assert_eq!(s("v4onl", BIND), Some("v6only"));
        assert_eq!(s("foobar", BIND), None);
    }

    #[test]
    fn no_candidates() {
        assert_eq!(suggest("check", std::iter::empty()), None);
    }

    // Ties as real 2.6.12 resolved them: "id" -> 'uid' (not 'gid'), "unse"
    // -> 'user' (not 'unsetenv'), "back" -> 'backend' (not 'backlog'),
    // "monitor-nt" -> 'monitor-net' (not 'monitor'). Words we parse but 2.6
    // does not offer are never suggested: "reqad" gets no hint, "tune.quic"
    // is not matched to 'tune.quic.*'; 2.6's 'usesrc' and 'peers' are.
    // Options: real 2.6.12 said nothing for "forceclos".
    #[test]
    fn candidate_lists_follow_26() {
        let g = |w: &str| suggest(w, GLOBAL_CANDIDATES.iter().copied());
        assert_eq!(g("id"), Some("uid"));
        assert_eq!(g("unse"), Some("user"));
        assert_eq!(g("peer"), Some("peers"));
        assert_eq!(g("resolver"), Some("resolvers"));
        assert_eq!(g("userlis"), Some("user"));
        let p = |w: &str| suggest(w, PROXY_CANDIDATES.iter().copied());
        assert_eq!(p("back"), Some("backend"));
        assert_eq!(p("monitor-nt"), Some("monitor-net"));
        assert_eq!(p("usesr"), Some("usesrc"));
        assert_eq!(p("reqad"), None);
        let o = |w: &str| suggest(w, OPTION_CANDIDATES.iter().copied());
        assert_eq!(o("httpclos"), Some("httpclose"));
        assert_eq!(o("forceclos"), None); // 1.5's forceclose is gone
        assert_eq!(o("http-use-ht"), Some("httpclose"));
    }

    // 2.6's action_suggest: 3x the lengths when the best is a prefix action.
    #[test]
    fn prefix_actions_are_more_tolerant() {
        let acts = [("add-header", false), ("add-acl", true), ("del-acl", true)];
        assert_eq!(suggest_action("add", acts), Some("add-acl")); // 7 <= 9
        assert_eq!(suggest("add", ["add-acl"]), None); // 7 > 6
        assert_eq!(suggest_action("zz", acts), None);
    }
}
