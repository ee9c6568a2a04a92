//! What `-v` and `-vv` print, and the version `.if version_atleast()` sees.

/// The HAProxy configuration language we follow.
pub const HAPROXY_COMPAT: &str = "2.6.0";
/// Our version string, in HAProxy's `<branch>-<suffix>` shape.
pub const VERSION: &str = concat!("2.6.0-haproxy-rs-", env!("CARGO_PKG_VERSION"));
pub const RELEASE_DATE: &str = "2026/11/25";

/// `uname -srvm` as HAProxy prints it on its `Running on:` line.
fn running_on() -> String {
    // SAFETY: uname fills the zeroed struct we own; the fields are
    // NUL-terminated C strings afterwards.
    unsafe {
        let mut u: libc::utsname = std::mem::zeroed();
        if libc::uname(&mut u) != 0 {
            return "unknown".into();
        }
        let f = |s: &[libc::c_char]| {
            std::ffi::CStr::from_ptr(s.as_ptr())
                .to_string_lossy()
                .into_owned()
        };
        format!(
            "{} {} {} {}",
            f(&u.sysname),
            f(&u.release),
            f(&u.version),
            f(&u.machine)
        )
    }
}

/// The four lines of `-v` (also printed before the usage).
pub fn banner() -> String {
    format!(
        "HAProxy version {VERSION} {RELEASE_DATE} - https://haproxy.org/\n\
         Status: haproxy-rs, a Rust implementation of the HAProxy {HAPROXY_COMPAT} configuration language.\n\
         Known bugs: see the haproxy-rs issue tracker\n\
         Running on: {}\n",
        running_on()
    )
}

/// The rest of `-vv`: build options and the feature list tools parse.
pub fn build_info() -> String {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    format!(
        "Build options :\n  TARGET  = linux-rust\n  RUSTC   = rustc\n\n\
         Feature list : {}\n\n\
         Default settings :\n  bufsize = 16384, maxrewrite = 1024, maxpollevents = 200\n\n\
         Built with multi-threading support (MAX_THREADS=64, default={threads}).\n\
         Encrypted password support via crypt(3): no\n\n\
         Available polling systems :\n      epoll : pref=300,  test result OK\n\
         Total: 1 (1 usable), will use epoll.\n\n\
         Available multiplexer protocols :\n\
         (protocols marked as <default> cannot be specified using 'proto' keyword)\n\
         \x20 <default> : mode=HTTP  side=FE|BE  mux=H1    flags=HTX\n\
         \x20 <default> : mode=TCP   side=FE|BE  mux=PASS  flags=\n\n\
         Available services : none\n\
         Available filters : none\n",
        crate::features::feature_list()
    )
}
