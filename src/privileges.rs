//! What a worker does once its sockets are open and before it serves:
//! `ulimit-n`, `chroot`, then `group`/`gid` and `user`/`uid`, in HAProxy's
//! order and with its start-up alerts.
use crate::model::GlobalSettings;
use std::ffi::CString;

/// Applies the global settings for a worker with `listeners` sockets and
/// `threads` threads; Err is HAProxy's alert text.
pub fn apply(g: &GlobalSettings, listeners: usize, threads: usize) -> Result<(), String> {
    match (g.ulimit_n, g.maxconn) {
        (Some(n), _) => raise_fd_limit(n)?,
        // Without `ulimit-n`, HAProxy raises the limit to what `maxconn`
        // needs: two sockets per connection, two per pipe, the listeners,
        // three per thread and ten spare.
        (None, Some(maxconn)) => {
            let pipes = g.maxpipes.unwrap_or(0) as u64;
            let need = maxconn as u64 * 2 + pipes * 2 + listeners as u64 + threads as u64 * 3 + 10;
            if need > current_fd_limit() {
                raise_fd_limit(need)?;
            }
        }
        (None, None) => {}
    }
    // Names are resolved before the chroot hides /etc.
    let gid = match (&g.group, g.gid) {
        (Some(name), _) => Some(
            group_id(name)
                .ok_or_else(|| format!("[haproxy.main()] Cannot find group '{name}'."))?,
        ),
        (None, gid) => gid,
    };
    let uid = match (&g.user, g.uid) {
        (Some(name), _) => Some(
            user_id(name).ok_or_else(|| format!("[haproxy.main()] Cannot find user '{name}'."))?,
        ),
        (None, uid) => uid,
    };
    if let Some(dir) = &g.chroot {
        let c = CString::new(dir.as_str())
            .map_err(|_| format!("[haproxy.main()] Cannot chroot({dir})."))?;
        // SAFETY: chdir/chroot with a valid C string.
        let ok = unsafe {
            libc::chdir(c.as_ptr()) == 0
                && libc::chroot(c.as_ptr()) == 0
                && libc::chdir(c"/".as_ptr()) == 0
        };
        if !ok {
            return Err(format!("[haproxy.main()] Cannot chroot({dir})."));
        }
    }
    if let Some(gid) = gid {
        // SAFETY: dropping supplementary groups, then setting the group.
        let ok = unsafe { libc::setgroups(1, &gid) == 0 && libc::setgid(gid) == 0 };
        if !ok {
            return Err(format!("[haproxy.main()] Cannot set gid {gid}."));
        }
    }
    if let Some(uid) = uid {
        // SAFETY: setuid with a numeric id.
        if unsafe { libc::setuid(uid) } != 0 {
            return Err(format!("[haproxy.main()] Cannot set uid {uid}."));
        }
    }
    Ok(())
}

fn current_fd_limit() -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit with a valid struct.
    unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) };
    lim.rlim_cur
}

fn raise_fd_limit(n: u64) -> Result<(), String> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit with a valid struct.
    unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) };
    let want = libc::rlimit {
        rlim_cur: n,
        rlim_max: lim.rlim_max.max(n),
    };
    // SAFETY: as above.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &want) } != 0 {
        // Without the right to raise the hard limit, the soft one up to it.
        let capped = libc::rlimit {
            rlim_cur: n.min(lim.rlim_max),
            rlim_max: lim.rlim_max,
        };
        // SAFETY: as above.
        unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &capped) };
        if n > lim.rlim_max {
            return Err(format!(
                "[haproxy.main()] Cannot raise FD limit to {n}, limit is {}.",
                lim.rlim_max
            ));
        }
    }
    Ok(())
}

fn user_id(name: &str) -> Option<u32> {
    let c = CString::new(name).ok()?;
    // SAFETY: getpwnam returns a pointer to static storage or null; we
    // read one field right away, in a single-threaded process.
    unsafe {
        let p = libc::getpwnam(c.as_ptr());
        (!p.is_null()).then(|| (*p).pw_uid)
    }
}

fn group_id(name: &str) -> Option<u32> {
    let c = CString::new(name).ok()?;
    // SAFETY: as for getpwnam.
    unsafe {
        let g = libc::getgrnam(c.as_ptr());
        (!g.is_null()).then(|| (*g).gr_gid)
    }
}
