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
    let target = fingerprint(word);
    let mut best: Option<(u32, &'a str)> = None;
    for cand in candidates {
        let d = distance(&target, &fingerprint(cand));
        if best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, cand));
        }
    }
    let (d, cand) = best?;
    let limit = |s: &str| 2 * s.len() as u64;
    if d as u64 > limit(word) || d as u64 > limit(cand) {
        None
    } else {
        Some(cand)
    }
}

/// `candidates` in the order HAProxy 2.6 scans them, so that `suggest`
/// resolves ties as 2.6 does: candidates listed in `order` first, by their
/// place there, then the others in their given order.
///
/// 2.6 scans its registered keyword lists in registration order (the link
/// order of its object files, each list in source order), then the
/// section's built-in list of words it still parses by hand. The server,
/// bind and rule-action tables keep that order themselves (each section has
/// one scan in 2.6); `global` and proxy sections mix several of our tables,
/// hence the explicit orders below.
pub fn in_order<'a>(candidates: impl IntoIterator<Item = &'a str>, order: &[&str]) -> Vec<&'a str> {
    let mut v: Vec<&'a str> = candidates.into_iter().collect();
    // A stable sort keeps the given order among words absent from `order`.
    v.sort_by_key(|c| order.iter().position(|o| o == c).unwrap_or(order.len()));
    v
}

/// The order in which 2.6 scans `global` keywords for a suggestion.
#[rustfmt::skip]
pub const GLOBAL_ORDER: &[&str] = &[
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

/// The order in which 2.6 scans proxy keywords (all four proxy kinds).
#[rustfmt::skip]
pub const PROXY_ORDER: &[&str] = &[
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

    // `in_order` puts candidates in 2.6's scan order, unknown words last.
    // Ties as real 2.6.12 resolved them: "id" -> 'uid' (not 'gid'), "unse"
    // -> 'user' (not 'unsetenv'), "back" -> 'backend' (not 'backlog'),
    // "monitor-nt" -> 'monitor-net' (not 'monitor').
    #[test]
    fn in_order_follows_26() {
        assert_eq!(
            in_order(["zz", "gid", "yy", "uid", "ca-base"], GLOBAL_ORDER),
            ["ca-base", "uid", "gid", "zz", "yy"]
        );
        let g = |w: &str, c: &[&'static str]| suggest(w, in_order(c.iter().copied(), GLOBAL_ORDER));
        assert_eq!(g("id", &["gid", "uid"]), Some("uid"));
        assert_eq!(g("unse", &["unsetenv", "user"]), Some("user"));
        let p = |w: &str, c: &[&'static str]| suggest(w, in_order(c.iter().copied(), PROXY_ORDER));
        assert_eq!(p("back", &["backlog", "backend"]), Some("backend"));
        assert_eq!(
            p("monitor-nt", &["monitor", "monitor-net"]),
            Some("monitor-net")
        );
    }
}
