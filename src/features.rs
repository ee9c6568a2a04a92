//! Which optional features this build has: `-vv`'s Feature list and the
//! `feature()` predicate of `.if` conditions read the same table.

/// (name, built in). Names follow HAProxy's `USE_*` features so that
/// scripts probing `feature(OPENSSL)` get an honest answer.
pub const FEATURES: &[(&str, bool)] = &[
    ("51DEGREES", false),
    ("ACCEPT4", true),
    ("CPU_AFFINITY", false),
    ("CRYPT_H", false),
    ("DEVICEATLAS", false),
    ("EPOLL", true),
    ("GETADDRINFO", true),
    ("LIBCRYPT", false),
    ("LINUX_SPLICE", true),
    ("LINUX_TPROXY", false),
    ("LUA", false),
    ("NS", false),
    ("OPENSSL", false),
    ("PCRE", false),
    ("PCRE2", false),
    ("POLL", false),
    ("PROMEX", false),
    ("QUIC", false),
    ("SLZ", false),
    ("SYSTEMD", false),
    ("TFO", false),
    ("THREAD", true),
    ("TPROXY", false),
    ("WURFL", false),
    ("ZLIB", false),
];

pub fn has_feature(name: &str) -> bool {
    FEATURES.iter().any(|(n, on)| *on && *n == name)
}

/// `+NAME -NAME ...` as in `haproxy -vv`.
pub fn feature_list() -> String {
    FEATURES
        .iter()
        .map(|(n, on)| format!("{}{n}", if *on { '+' } else { '-' }))
        .collect::<Vec<_>>()
        .join(" ")
}
