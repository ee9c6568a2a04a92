//! Host name resolution at configuration time (binds at parse time,
//! servers at start-up, as HAProxy does with `init-addr last,libc`).
use std::net::{IpAddr, ToSocketAddrs};

/// The first address the system resolver gives for `host`, if any.
pub fn resolve_host(host: &str) -> Option<IpAddr> {
    (host, 0u16).to_socket_addrs().ok()?.next().map(|a| a.ip())
}
