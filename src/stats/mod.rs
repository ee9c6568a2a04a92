//! Statistics: the counters the data path feeds, the operator's run-time
//! changes, and what reads them — the CSV/typed/JSON reports, `show info`,
//! the stats socket, the HTML stats page and the Prometheus exporter.
pub mod admin;
pub mod check;
pub mod cli;
pub mod counters;
pub mod errors;
pub mod fields;
pub mod html;
pub mod info;
pub mod page;
pub mod prometheus;
pub mod sess;
pub mod socket;

use crate::log::txn::TxnLog;
use crate::model::{BackendId, Runtime};
use crate::worker::Shared;
use counters::{now_ms, Counters, C, M};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, AtomicU64, Ordering};

/// The live statistics of a worker.
pub struct Stats {
    pub fe: Vec<Counters>,
    pub be: Vec<Counters>,
    /// Per backend, per server.
    pub srv: Vec<Vec<Counters>>,
    /// The process as a whole (`show info`).
    pub global: Counters,
    pub fe_admin: Vec<admin::FrontendAdmin>,
    /// Backend state changes: UP or DOWN, since when (`now_ms`), time
    /// spent DOWN, transitions to DOWN.
    pub be_state: Vec<BackendState>,
    pub sessions: sess::Registry,
    /// The last invalid request of each frontend (`show errors`).
    pub errors: Vec<errors::Errors>,
    /// When the worker started.
    pub started: std::time::SystemTime,
    pub started_ms: u64,
    /// The global `maxconn`, changed by `set maxconn global`.
    pub maxconn: admin::Limit,
    pub hard_maxconn: u32,
    /// `set rate-limit ... global` values (connections, sessions).
    pub conn_rate_limit: AtomicU32,
    pub sess_rate_limit: AtomicU32,
    /// Bytes sent to clients per second (`BytesOutRate`).
    pub bytes_out_rate: counters::FreqCtr,
    /// Listening sockets (`Listeners` in `show info`).
    pub listeners: AtomicU32,
    pub threads: u32,
}

#[derive(Debug)]
pub struct BackendState {
    pub up: AtomicBool,
    pub since: AtomicU64,
    pub down_ms: AtomicU64,
    pub downs: AtomicU64,
    down_since: AtomicI64,
}

impl Stats {
    pub fn new(rt: &Runtime, threads: usize) -> Stats {
        counters::set_shards(threads);
        let now = now_ms();
        Stats {
            fe: rt.frontends.iter().map(|_| Counters::new()).collect(),
            be: rt.backends.iter().map(|_| Counters::new()).collect(),
            srv: rt
                .backends
                .iter()
                .map(|b| b.servers.iter().map(|_| Counters::new()).collect())
                .collect(),
            global: Counters::new(),
            fe_admin: rt
                .frontends
                .iter()
                .map(|f| {
                    admin::FrontendAdmin::new(f.maxconn.unwrap_or(rt.global.effective_maxconn))
                })
                .collect(),
            be_state: rt
                .backends
                .iter()
                .map(|b| BackendState {
                    up: AtomicBool::new(
                        b.servers.is_empty()
                            || b.servers.iter().any(|s| !s.disabled && s.weight > 0),
                    ),
                    since: AtomicU64::new(now),
                    down_ms: AtomicU64::new(0),
                    downs: AtomicU64::new(0),
                    down_since: AtomicI64::new(-1),
                })
                .collect(),
            sessions: sess::Registry::new(threads),
            errors: rt.frontends.iter().map(|_| Default::default()).collect(),
            started: std::time::SystemTime::now(),
            started_ms: now,
            maxconn: admin::Limit::new(rt.global.effective_maxconn),
            hard_maxconn: rt.global.effective_maxconn,
            conn_rate_limit: AtomicU32::new(0),
            sess_rate_limit: AtomicU32::new(0),
            bytes_out_rate: counters::FreqCtr::default(),
            listeners: AtomicU32::new(0),
            threads: threads as u32,
        }
    }

    /// `clear counters [all]`.
    pub fn clear(&self, all: bool) {
        for c in self
            .fe
            .iter()
            .chain(&self.be)
            .chain(self.srv.iter().flatten())
            .chain(std::iter::once(&self.global))
        {
            c.clear(all);
        }
    }
}

/// A connection was accepted on frontend `fe`; `cur` connections are open
/// on it now.
pub fn accepted(sh: &Shared, fe: usize, cur: u32) {
    let now = now_ms();
    let c = &sh.stats.fe[fe];
    c.session(now);
    c.inc(C::ConnTot);
    let r = c.conn_rate.inc(now);
    c.max(M::ConnRate, u64::from(r));
    c.max(M::Sess, u64::from(cur));
    let g = &sh.stats.global;
    g.inc(C::ConnTot);
    let r = g.conn_rate.inc(now);
    g.max(M::ConnRate, u64::from(r));
    let r = g.sess_rate.inc(now);
    g.max(M::SessRate, u64::from(r));
    if sh.rt.frontends[fe].mode == cfg_parser::ast::Mode::Http {
        c.inc(C::H1Conns);
    }
}

/// A stream was assigned to backend `be` (its `stot`, rate and `smax`).
pub fn backend_assigned(sh: &Shared, be: BackendId) {
    let now = now_ms();
    let c = &sh.stats.be[be.0];
    c.session(now);
    c.max(M::Sess, u64::from(sh.be_cur[be.0].load(Ordering::Relaxed)));
}

/// Server `srv` of backend `be` was given to a stream; `lb`: chosen by the
/// balancing algorithm (not by persistence).
pub fn server_assigned(sh: &Shared, be: BackendId, srv: usize, lb: bool) {
    let now = now_ms();
    let c = &sh.stats.srv[be.0][srv];
    let r = c.sess_rate.inc(now);
    c.max(M::SessRate, u64::from(r));
    c.last_sess.store(now as i64, Ordering::Relaxed);
    let active = sh.backends[be.0].servers[srv]
        .active
        .load(Ordering::Relaxed);
    c.max(M::Sess, u64::from(active));
    if lb {
        c.inc(C::LbTot);
        sh.stats.be[be.0].inc(C::LbTot);
    }
    let b = &sh.stats.be[be.0];
    b.max(M::Queue, u64::from(sh.backends[be.0].queued_max()));
}

/// An HTTP request passed the frontend's first checks: counted now, as 2.6
/// does (a page answering it reports it).
pub fn request_started(sh: &Shared, fe: usize, txn: &mut TxnLog) {
    let fc = &sh.stats.fe[fe];
    fc.inc(C::ReqTot);
    fc.inc(C::H1Streams);
    let r = fc.req_rate.inc(now_ms());
    fc.max(M::ReqRate, u64::from(r));
    sh.stats.global.inc(C::ReqTot);
    txn.req_counted = true;
}

/// A stream ended: its counts go to its frontend, backend and server.
pub fn stream_end(sh: &Shared, fe: usize, txn: &TxnLog) {
    let fc = &sh.stats.fe[fe];
    let http = sh.rt.frontends[fe].mode == cfg_parser::ast::Mode::Http;
    // An HTTP request that never parsed counts no bytes in 2.6.
    // (`request_bytes` is set once a request parsed; `bytes_in` then
    // counts it as 2.6 does.)
    let parsed = txn.request_bytes.is_some();
    let bytes_in = if http && !parsed { 0 } else { txn.bytes_in };
    fc.add(C::BytesIn, bytes_in);
    fc.add(C::BytesOut, txn.bytes_out);
    sh.stats.global.add(C::BytesOut, txn.bytes_out);
    if txn.bytes_out > 0 {
        sh.stats.bytes_out_rate.add(now_ms(), txn.bytes_out);
    }
    let tcp_reject = txn.denied != 0 && txn.status == -1;
    let [who, phase] = txn.term;
    if parsed {
        fc.dec(C::H1OpenStreams);
    }
    if http {
        // A connection that sent nothing made no HTTP/1 stream.
        if !txn.req_counted && (txn.bytes_in > 0 || parsed) {
            fc.inc(C::H1Streams);
        }
        fc.add(C::H1BytesIn, txn.bytes_in);
        fc.add(C::H1BytesOut, txn.bytes_out);
        if !tcp_reject && !txn.req_counted {
            fc.inc(C::ReqTot);
            let now = now_ms();
            let r = fc.req_rate.inc(now);
            fc.max(M::ReqRate, u64::from(r));
            sh.stats.global.inc(C::ReqTot);
        }
        fc.status(txn.status);
        if txn.intercepted {
            fc.inc(C::Intercepted);
        }
        // (A 400 the proxy answers itself, e.g. the exporter's, is not.)
        let bad_req = phase == b'R'
            && who != b'L'
            && matches!(txn.status, 400 | 408)
            && txn.denied == 0
            && !txn.intercepted
            && txn.backend.is_none();
        if bad_req {
            fc.inc(C::FailedReq);
        }
    }
    if txn.denied != 0 {
        fc.inc(C::DeniedReq);
    }
    if let Some(b) = txn.stats_backend {
        // 2.6 counts a listen's stats page on its backend side too, the
        // page's end as a client abort.
        let bc = &sh.stats.be[b.0];
        bc.add(C::BytesIn, bytes_in);
        bc.add(C::BytesOut, txn.bytes_out);
        bc.inc(C::CliAbrt);
        bc.last_sess.store(now_ms() as i64, Ordering::Relaxed);
    }
    let Some(be) = txn.backend else {
        return;
    };
    let bc = &sh.stats.be[be.0];
    bc.add(C::BytesIn, bytes_in);
    bc.add(C::BytesOut, txn.bytes_out);
    if http {
        bc.inc(C::ReqTot);
        bc.status(txn.status);
    }
    if txn.denied == 2 {
        bc.inc(C::DeniedReq);
    }
    let server_side = matches!(who, b'S' | b's');
    let client_side = matches!(who, b'C' | b'c');
    let conn_failed = server_side && matches!(phase, b'C' | b'Q');
    let resp_failed = server_side && phase == b'H';
    let cli_abort = client_side && matches!(phase, b'D' | b'H');
    let srv_abort = server_side && phase == b'D';
    if conn_failed {
        bc.inc(C::FailedConn);
    }
    if resp_failed {
        bc.inc(C::FailedResp);
    }
    if txn.denied == 0 && who == b'P' && phase == b'H' {
        bc.inc(C::DeniedResp);
    }
    if cli_abort {
        bc.inc(C::CliAbrt);
    }
    if srv_abort {
        bc.inc(C::SrvAbrt);
    }
    bc.add(C::Retries, u64::from(txn.retries));
    if txn.redispatched {
        bc.inc(C::Redispatches);
    }
    let Some(srv) = txn.server else {
        return;
    };
    let sc = &sh.stats.srv[be.0][srv];
    sc.add(C::BytesIn, bytes_in);
    sc.add(C::BytesOut, txn.bytes_out);
    // Each connection attempt is a session on the server.
    let attempts = if txn.reused {
        1
    } else {
        1 + u64::from(txn.retries)
    };
    sc.add(C::Sess, attempts);
    if txn.reused {
        sc.inc(C::Reuse);
        bc.inc(C::Reuse);
    } else {
        sc.add(C::Connect, attempts);
        bc.add(C::Connect, attempts);
        if http {
            bc.add(C::H1Conns, attempts);
        }
    }
    if http {
        // The server side of the HTTP/1 layer: what went to and came from
        // the server.
        bc.inc(C::H1Streams);
        bc.add(C::H1BytesIn, txn.bytes_out);
        bc.add(C::H1BytesOut, bytes_in);
        if txn.response_at.is_some() {
            sc.inc(C::ReqTot);
            sc.status(txn.status);
        }
    }
    if conn_failed {
        sc.inc(C::FailedConn);
    }
    if resp_failed {
        sc.inc(C::FailedResp);
    }
    if cli_abort {
        sc.inc(C::CliAbrt);
    }
    if srv_abort {
        sc.inc(C::SrvAbrt);
    }
    sc.add(C::Retries, u64::from(txn.retries));
    if txn.redispatched {
        sc.inc(C::Redispatches);
    }
    // Times of successful streams.
    if who == b'-' && txn.connect_done.is_some() {
        let ms = |a: Option<tokio::time::Instant>, b: Option<tokio::time::Instant>| {
            a.zip(b).map_or(0, |(a, b)| {
                b.saturating_duration_since(a).as_millis() as u64
            })
        };
        let q = ms(txn.queue_start, txn.queue_done);
        let c = ms(txn.queue_done, txn.connect_done);
        let r = ms(txn.connect_done, txn.response_at);
        let t = tokio::time::Instant::now()
            .saturating_duration_since(txn.idle_from)
            .as_millis() as u64;
        for x in [sc, bc] {
            x.qtime.add(q);
            x.ctime.add(c);
            x.max(M::QTime, q);
            x.max(M::CTime, c);
            if http {
                x.rtime.add(r);
                x.max(M::RTime, r);
            }
            x.ttime.add(t);
            x.max(M::TTime, t);
        }
    }
}

/// Recomputes backend `be`'s UP/DOWN state (after a server changed): DOWN
/// when no server can take traffic.
pub fn backend_changed(sh: &Shared, be: usize) {
    let up = backend_usable(sh, be);
    let st = &sh.stats.be_state[be];
    if st.up.swap(up, Ordering::Relaxed) != up {
        let now = now_ms();
        st.since.store(now, Ordering::Relaxed);
        if up {
            let since = st.down_since.swap(-1, Ordering::Relaxed);
            if since >= 0 {
                st.down_ms
                    .fetch_add(now.saturating_sub(since as u64), Ordering::Relaxed);
            }
        } else {
            st.downs.fetch_add(1, Ordering::Relaxed);
            st.down_since.store(now as i64, Ordering::Relaxed);
        }
    }
}

/// Whether backend `be` has a server able to take traffic (a backend
/// without servers counts as UP, as in 2.6).
pub fn backend_usable(sh: &Shared, be: usize) -> bool {
    let servers = &sh.backends[be].servers;
    servers.is_empty()
        || servers
            .iter()
            .any(|s| s.usable() && s.admin.lb_weight() > 0)
}

impl BackendState {
    /// Time spent DOWN (ms), the current period included.
    pub fn downtime_ms(&self) -> u64 {
        let since = self.down_since.load(Ordering::Relaxed);
        let cur = if since >= 0 {
            now_ms().saturating_sub(since as u64)
        } else {
            0
        };
        self.down_ms.load(Ordering::Relaxed) + cur
    }
}
