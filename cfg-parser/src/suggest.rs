//! "did you mean" suggestions for unknown keywords, with HAProxy's
//! word-fingerprint similarity: a word is summarised by how often each pair
//! of consecutive character classes occurs (word start and end included),
//! and two words are as far apart as the sum of their count differences.

/// Character classes: 0 is unused, 1..=26 letters (case-insensitive),
/// 27 digits, 28 anything else and the word boundaries.
const CLASSES: usize = 32;
const BOUNDARY: usize = 28;

/// Pair counts of a word, indexed by `from * 32 + to`.
pub struct Fingerprint([u8; CLASSES * CLASSES]);

fn class(c: u8) -> usize {
    match c.to_ascii_lowercase() {
        l @ b'a'..=b'z' => (l - b'a' + 1) as usize,
        b'0'..=b'9' => 27,
        _ => BOUNDARY,
    }
}

/// The fingerprint of `word`.
pub fn fingerprint(word: &str) -> Fingerprint {
    let mut fp = [0u8; CLASSES * CLASSES];
    let mut from = BOUNDARY;
    for c in word.bytes().map(class).chain(std::iter::once(BOUNDARY)) {
        let slot = &mut fp[from * CLASSES + c];
        *slot = slot.saturating_add(1);
        from = c;
    }
    Fingerprint(fp)
}

/// Sum of the absolute differences of the pair counts.
pub fn distance(a: &Fingerprint, b: &Fingerprint) -> u32 {
    a.0.iter()
        .zip(b.0.iter())
        .map(|(x, y)| (*x as i32 - *y as i32).unsigned_abs())
        .sum()
}

/// The closest candidate (the first one on ties), or None when it is
/// farther than twice the length of either word, as HAProxy decides.
pub fn suggest<'a, I: IntoIterator<Item = &'a str>>(word: &str, candidates: I) -> Option<&'a str> {
    let fp = fingerprint(word);
    let mut best: Option<(&str, u32)> = None;
    for c in candidates {
        let d = distance(&fp, &fingerprint(c));
        if best.is_none_or(|(_, bd)| d < bd) {
            best = Some((c, d));
        }
    }
    let (c, d) = best?;
    (d as usize <= 2 * word.len() && d as usize <= 2 * c.len()).then_some(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected answers are what HAProxy 2.6 printed for the same typos.
    #[test]
    fn suggests_like_haproxy() {
        let global = [
            "maxconn", "nbthread", "daemon", "pidfile", "nbproc", "node", "user", "uid",
        ];
        assert_eq!(suggest("nbthreadz", global), Some("nbthread"));
        let srv = ["check", "weight", "inter", "tfo", "backup", "rise", "fall"];
        assert_eq!(suggest("chek", srv), Some("check"));
        assert_eq!(suggest("foo", srv), Some("tfo"));
        let bind = ["accept-proxy", "accept-netscaler-cip", "tfo", "v4v6"];
        assert_eq!(suggest("accept-proxi", bind), Some("accept-proxy"));
        let sections = ["backend", "defaults", "frontend", "global", "listen"];
        assert_eq!(suggest("backendz", sections), Some("backend"));
    }

    #[test]
    fn far_words_get_nothing() {
        assert_eq!(
            suggest("foobar", ["bind", "mode", "acl", "use_backend"]),
            None
        );
        assert_eq!(suggest("x", ["maxconn"]), None);
        assert_eq!(suggest("anything", std::iter::empty::<&str>()), None);
    }

    #[test]
    fn distance_is_symmetric_and_zero_on_equal() {
        let (a, b) = (fingerprint("timeout"), fingerprint("tiemout"));
        assert_eq!(distance(&a, &b), distance(&b, &a));
        assert_eq!(distance(&a, &fingerprint("TIMEOUT")), 0);
    }
}
