//! Kernel pipes for splice(2), pooled and bounded by `maxpipes`: a pipe is
//! two file descriptors, so an unbounded number of them would exhaust the
//! open-files limit under load.
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

/// One pipe; given back to the pool on drop when it is empty.
pub struct Pipe {
    /// (read end, write end); only `None` while being dropped.
    fds: Option<(OwnedFd, OwnedFd)>,
    /// Bytes held in the pipe (spliced in, not yet out).
    pub len: usize,
}

impl Pipe {
    fn new(r: OwnedFd, w: OwnedFd) -> Pipe {
        Pipe {
            fds: Some((r, w)),
            len: 0,
        }
    }
    pub fn read_fd(&self) -> RawFd {
        self.fds.as_ref().map_or(-1, |(r, _)| r.as_raw_fd())
    }
    pub fn write_fd(&self) -> RawFd {
        self.fds.as_ref().map_or(-1, |(_, w)| w.as_raw_fd())
    }
}

struct Pool {
    idle: Mutex<Vec<(OwnedFd, OwnedFd)>>,
    /// Pipes in existence, idle or in use.
    count: AtomicUsize,
    max: usize,
    /// `tune.pipesize` (0: the kernel's default).
    size: usize,
}

static POOL: OnceLock<Pool> = OnceLock::new();

/// Sets the pool's limits; the first call wins (one configuration per
/// worker process).
pub fn init(max: usize, size: usize) {
    let _ = POOL.set(Pool {
        idle: Mutex::new(Vec::new()),
        count: AtomicUsize::new(0),
        max,
        size,
    });
}

/// Pipes that exist now (for leak tests and stats).
pub fn in_existence() -> usize {
    POOL.get().map_or(0, |p| p.count.load(Ordering::Relaxed))
}

/// Pipes: the limit, those in use, those idle in the pool (`show info`).
pub fn usage() -> (usize, usize, usize) {
    POOL.get().map_or((0, 0, 0), |p| {
        let idle = p.idle.lock().map_or(0, |i| i.len());
        let count = p.count.load(Ordering::Relaxed);
        (p.max, count.saturating_sub(idle), idle)
    })
}

/// A pipe from the pool, or a new one; None when `maxpipes` are in use or
/// the system refuses (the caller then copies through a buffer).
pub fn get() -> Option<Pipe> {
    let pool = POOL.get()?;
    if let Some((r, w)) = pool.idle.lock().ok()?.pop() {
        return Some(Pipe::new(r, w));
    }
    if pool.count.fetch_add(1, Ordering::AcqRel) >= pool.max {
        pool.count.fetch_sub(1, Ordering::AcqRel);
        return None;
    }
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 writes.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC) } != 0 {
        pool.count.fetch_sub(1, Ordering::AcqRel);
        return None;
    }
    // SAFETY: pipe2 succeeded, so both descriptors are open and ours.
    let (r, w) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    if pool.size > 0 {
        // SAFETY: plain fcntl on a descriptor we own; failure keeps the default size.
        unsafe { libc::fcntl(w.as_raw_fd(), libc::F_SETPIPE_SZ, pool.size as libc::c_int) };
    }
    Some(Pipe::new(r, w))
}

impl Drop for Pipe {
    fn drop(&mut self) {
        let (Some(pool), Some(fds)) = (POOL.get(), self.fds.take()) else {
            return;
        };
        // A pipe with bytes left in it would hand them to the next stream:
        // it is closed instead of pooled.
        if self.len == 0 {
            if let Ok(mut idle) = pool.idle.lock() {
                idle.push(fds);
                return;
            }
        }
        drop(fds);
        pool.count.fetch_sub(1, Ordering::AcqRel);
    }
}
