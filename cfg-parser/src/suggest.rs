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
}
