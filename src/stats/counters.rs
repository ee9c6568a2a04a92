//! Traffic counters of one frontend, backend or server. The data path adds
//! to the shard of its own thread (no lock, no shared cache line between
//! threads); readers sum the shards. Maxima, rates and time averages are
//! shared atomics updated without locks.
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};

/// The summed counters, by position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(usize)]
pub enum C {
    /// Sessions (`stot`): connections on a frontend, streams on a backend,
    /// connection attempts on a server.
    Sess,
    BytesIn,
    BytesOut,
    DeniedReq,
    DeniedResp,
    /// Bad or incomplete requests (`ereq`).
    FailedReq,
    /// Connections that could not be made (`econ`).
    FailedConn,
    /// Responses that failed (`eresp`).
    FailedResp,
    Retries,
    Redispatches,
    Hrsp1xx,
    Hrsp2xx,
    Hrsp3xx,
    Hrsp4xx,
    Hrsp5xx,
    HrspOther,
    ReqTot,
    CliAbrt,
    SrvAbrt,
    /// Requests answered by the proxy itself (redirect, return, auth, stats).
    Intercepted,
    DeniedConn,
    DeniedSess,
    /// Connections opened to servers (`connect`) and reused (`reuse`).
    Connect,
    Reuse,
    /// Times a server was picked by the balancing algorithm (`lbtot`).
    LbTot,
    /// Connections accepted (`conn_tot`).
    ConnTot,
    FailedRewrite,
    InternalErr,
    /// The HTTP/1 connection layer's own counts (`h1_*`).
    H1Conns,
    H1Streams,
    H1BytesIn,
    H1BytesOut,
    /// Transitions to DOWN (`chkdown`).
    Down,
    /// HTTP requests being processed now (`h1_open_streams`): a gauge, up
    /// on one thread's shard and down on another's, never cleared.
    H1OpenStreams,
}

const N: usize = C::H1OpenStreams as usize + 1;

/// Counters kept as maxima.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(usize)]
pub enum M {
    Sess,
    Queue,
    SessRate,
    ReqRate,
    ConnRate,
    QTime,
    CTime,
    RTime,
    TTime,
}
const NM: usize = M::TTime as usize + 1;

#[repr(align(64))]
struct Shard([AtomicU64; N]);

/// How many shards counters have (the worker's thread count, set once at
/// start; 1 until then).
static SHARDS: AtomicUsize = AtomicUsize::new(1);
static NEXT_SHARD: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static MY_SHARD: usize = NEXT_SHARD.fetch_add(1, Ordering::Relaxed);
}

/// This thread's shard number (not reduced).
pub fn my_shard() -> usize {
    MY_SHARD.with(|s| *s)
}

/// Sets the number of shards counters made from now on will have.
pub fn set_shards(n: usize) {
    SHARDS.store(n.clamp(1, 64), Ordering::Relaxed);
}

/// Milliseconds since the process started counting (a monotonic clock).
pub fn now_ms() -> u64 {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    START
        .get_or_init(std::time::Instant::now)
        .elapsed()
        .as_millis() as u64
}

/// Events per second, as HAProxy's frequency counters: the events of the
/// current second plus those of the previous one, weighted by the part of
/// the second still to come.
#[derive(Debug, Default)]
pub struct FreqCtr {
    /// Second (high 32 bits) and count in it (low 32 bits).
    cur: AtomicU64,
    prev: AtomicU64,
}

impl FreqCtr {
    /// Counts one event; returns the rate including it.
    pub fn inc(&self, now: u64) -> u32 {
        self.add(now, 1)
    }

    /// Counts `n` events (a second holds at most 2^32 - 1 of them).
    pub fn add(&self, now: u64, n: u64) -> u32 {
        let sec = now / 1000;
        let n = n.min(0xffff_ffff);
        loop {
            let v = self.cur.load(Ordering::Relaxed);
            let (s, c) = (v >> 32, v & 0xffff_ffff);
            if s == sec {
                let next = (sec << 32) | (c + n).min(0xffff_ffff);
                if self
                    .cur
                    .compare_exchange_weak(v, next, Ordering::Relaxed, Ordering::Relaxed)
                    .is_ok()
                {
                    break;
                }
            } else if self
                .cur
                .compare_exchange_weak(v, (sec << 32) | n, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
            {
                self.prev
                    .store(if s + 1 == sec { c } else { 0 }, Ordering::Relaxed);
                break;
            }
        }
        self.read(now)
    }

    /// The rate at `now`.
    pub fn read(&self, now: u64) -> u32 {
        let sec = now / 1000;
        let v = self.cur.load(Ordering::Relaxed);
        let (s, c) = (v >> 32, v & 0xffff_ffff);
        let (curr, past) = if s == sec {
            (c, self.prev.load(Ordering::Relaxed))
        } else if s + 1 == sec {
            (0, c)
        } else {
            (0, 0)
        };
        let left = 1000 - now % 1000;
        (curr + past * left / 1000) as u32
    }
}

/// A sliding average over the last `WINDOW` samples (a plain mean until
/// that many were taken), as HAProxy's time averages.
#[derive(Debug, Default)]
pub struct Swrate {
    sum: AtomicU64,
    samples: AtomicU64,
}

const WINDOW: u64 = 512;

impl Swrate {
    pub fn add(&self, v: u64) {
        let n = self.samples.fetch_add(1, Ordering::Relaxed) + 1;
        let _ = self
            .sum
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |s| {
                Some(if n <= WINDOW {
                    s + v
                } else {
                    s - s.div_ceil(WINDOW) + v
                })
            });
    }
    pub fn avg(&self) -> u64 {
        let n = self.samples.load(Ordering::Relaxed).min(WINDOW);
        if n == 0 {
            return 0;
        }
        self.sum.load(Ordering::Relaxed).div_ceil(n)
    }
    fn clear(&self) {
        self.sum.store(0, Ordering::Relaxed);
        self.samples.store(0, Ordering::Relaxed);
    }
}

/// Everything counted for one frontend, backend or server.
pub struct Counters {
    shards: Box<[Shard]>,
    max: [AtomicU64; NM],
    /// Sessions, requests and connections per second.
    pub sess_rate: FreqCtr,
    pub req_rate: FreqCtr,
    pub conn_rate: FreqCtr,
    /// Queue, connect, response and total times (ms) of successful streams.
    pub qtime: Swrate,
    pub ctime: Swrate,
    pub rtime: Swrate,
    pub ttime: Swrate,
    /// When the last session was assigned (`now_ms`), -1 never.
    pub last_sess: AtomicI64,
}

impl Default for Counters {
    fn default() -> Self {
        Counters::new()
    }
}

impl std::fmt::Debug for Counters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Counters")
    }
}

impl Counters {
    pub fn new() -> Counters {
        let n = SHARDS.load(Ordering::Relaxed);
        Counters {
            shards: (0..n)
                .map(|_| Shard(std::array::from_fn(|_| AtomicU64::new(0))))
                .collect(),
            max: std::array::from_fn(|_| AtomicU64::new(0)),
            sess_rate: FreqCtr::default(),
            req_rate: FreqCtr::default(),
            conn_rate: FreqCtr::default(),
            qtime: Swrate::default(),
            ctime: Swrate::default(),
            rtime: Swrate::default(),
            ttime: Swrate::default(),
            last_sess: AtomicI64::new(-1),
        }
    }

    fn shard(&self) -> &Shard {
        &self.shards[my_shard() % self.shards.len()]
    }

    pub fn add(&self, c: C, n: u64) {
        if n > 0 {
            self.shard().0[c as usize].fetch_add(n, Ordering::Relaxed);
        }
    }

    pub fn inc(&self, c: C) {
        self.add(c, 1);
    }

    /// Takes one off a gauge kept in the shards (their sum wraps back).
    pub fn dec(&self, c: C) {
        self.shard().0[c as usize].fetch_sub(1, Ordering::Relaxed);
    }

    pub fn get(&self, c: C) -> u64 {
        self.shards
            .iter()
            .map(|s| s.0[c as usize].load(Ordering::Relaxed))
            .fold(0u64, u64::wrapping_add)
    }

    /// Raises maximum `m` to `v`.
    pub fn max(&self, m: M, v: u64) {
        let a = &self.max[m as usize];
        if a.load(Ordering::Relaxed) < v {
            a.fetch_max(v, Ordering::Relaxed);
        }
    }

    pub fn get_max(&self, m: M) -> u64 {
        self.max[m as usize].load(Ordering::Relaxed)
    }

    /// `clear counters`: the maxima; `clear counters all`: everything.
    pub fn clear(&self, all: bool) {
        for m in &self.max {
            m.store(0, Ordering::Relaxed);
        }
        if all {
            for s in self.shards.iter() {
                for (i, c) in s.0.iter().enumerate() {
                    if i != C::H1OpenStreams as usize {
                        c.store(0, Ordering::Relaxed);
                    }
                }
            }
            for a in [&self.qtime, &self.ctime, &self.rtime, &self.ttime] {
                a.clear();
            }
            self.last_sess.store(-1, Ordering::Relaxed);
        }
    }

    /// Counts the response status class (`hrsp_*`).
    pub fn status(&self, status: i32) {
        self.inc(match status {
            100..=199 => C::Hrsp1xx,
            200..=299 => C::Hrsp2xx,
            300..=399 => C::Hrsp3xx,
            400..=499 => C::Hrsp4xx,
            500..=599 => C::Hrsp5xx,
            _ => C::HrspOther,
        });
    }

    /// A session starts now: counted, rated, dated.
    pub fn session(&self, now: u64) {
        self.inc(C::Sess);
        let r = self.sess_rate.inc(now);
        self.max(M::SessRate, u64::from(r));
        self.last_sess.store(now as i64, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_sum_and_clear() {
        let c = Counters::new();
        c.add(C::BytesIn, 5);
        std::thread::scope(|s| {
            s.spawn(|| c.add(C::BytesIn, 7));
        });
        assert_eq!(c.get(C::BytesIn), 12);
        c.max(M::Sess, 3);
        c.max(M::Sess, 2);
        assert_eq!(c.get_max(M::Sess), 3);
        c.clear(false);
        assert_eq!((c.get(C::BytesIn), c.get_max(M::Sess)), (12, 0));
        c.clear(true);
        assert_eq!(c.get(C::BytesIn), 0);
    }

    #[test]
    fn rates_decay_over_the_next_second() {
        let f = FreqCtr::default();
        for _ in 0..10 {
            f.inc(5_000);
        }
        assert_eq!(f.read(5_999), 10);
        // Half of the next second gone: half of the previous count remains.
        assert_eq!(f.read(6_500), 5);
        assert_eq!(f.read(8_000), 0);
    }

    #[test]
    fn averages_are_means_then_sliding() {
        let a = Swrate::default();
        a.add(10);
        a.add(20);
        assert_eq!(a.avg(), 15);
        for _ in 0..2000 {
            a.add(100);
        }
        assert_eq!(a.avg(), 100);
    }
}
