//! A stream's log state while it runs: when each step happened, what was
//! answered, who ended it. The data path marks the steps; at the end it
//! becomes a [`Record`] and, through the frontend's format, a log line.
use super::record::Record;
use super::Level;
use crate::model::{BackendId, Frontend};
use crate::worker::Shared;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::SystemTime;
use tokio::time::Instant;

#[derive(Debug)]
pub struct TxnLog {
    /// When waiting for this request began: the accept, or the end of the
    /// previous request on the connection.
    pub idle_from: Instant,
    /// The connection's accept date (`%t`).
    pub accept: SystemTime,
    pub accept_at: Instant,
    pub head_start: Option<Instant>,
    pub head_done: Option<Instant>,
    pub queue_start: Option<Instant>,
    pub queue_done: Option<Instant>,
    pub connect_done: Option<Instant>,
    pub response_at: Option<Instant>,
    pub status: i32,
    pub bytes_out: u64,
    /// The client connection's byte count when this request began.
    pub bytes_in_from: u64,
    pub bytes_in: u64,
    pub term: [u8; 2],
    pub cookie_flags: [u8; 2],
    pub backend: Option<BackendId>,
    pub server: Option<usize>,
    pub srv_addr: Option<SocketAddr>,
    pub retries: u32,
    pub request_line: Option<String>,
    pub req_caps: Vec<Option<Vec<u8>>>,
    pub res_caps: Vec<Option<Vec<u8>>>,
    pub cookie_req: Option<String>,
    pub cookie_res: Option<String>,
    pub unique_id: Option<String>,
    /// The stream's number in this process (`%rt`, HAProxy's uniq_id).
    pub uniq: u64,
    /// Already logged (`option logasap` logs before the end).
    pub logged: bool,
    /// Left the queue by timing out: 2.6 still counts it in `%bq`.
    pub still_queued: bool,
    /// `set-log-level`: Some(None) for silent.
    pub level: Option<Option<Level>>,
    /// `%U` of a parsed request, counted as 2.6 does (see `head_size`);
    /// None: the bytes read from the connection.
    pub request_bytes: Option<u64>,
    /// For the statistics: denied by a request rule of the frontend (1)
    /// or of the backend (2); answered by the proxy itself (redirect,
    /// return, auth, stats page); on a reused server connection; sent to
    /// another server than first chosen.
    pub denied: u8,
    pub intercepted: bool,
    /// Its request was counted when it started (`req_tot`).
    pub req_counted: bool,
    /// The statistics page answered it for this listen section (the
    /// backend side counts the bytes, as in 2.6).
    pub stats_backend: Option<BackendId>,
    pub reused: bool,
    pub redispatched: bool,
    /// The connection in the registry of live streams (`show sess`).
    pub sess: Option<std::sync::Arc<crate::stats::sess::SessInfo>>,
    /// A `monitor-uri` request: counted, never logged (as in 2.6).
    pub monitor: bool,
    /// A HEAD request: what the proxy answers itself has no body.
    pub head_request: bool,
}

/// Streams started by this process, numbering them from 0.
static STREAMS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

impl TxnLog {
    pub fn new(accept: SystemTime, accept_at: Instant) -> TxnLog {
        TxnLog {
            idle_from: accept_at,
            accept,
            accept_at,
            head_start: None,
            head_done: None,
            queue_start: None,
            queue_done: None,
            connect_done: None,
            response_at: None,
            status: -1,
            bytes_out: 0,
            bytes_in_from: 0,
            bytes_in: 0,
            term: *b"--",
            cookie_flags: *b"--",
            backend: None,
            server: None,
            srv_addr: None,
            retries: 0,
            request_line: None,
            req_caps: Vec::new(),
            res_caps: Vec::new(),
            cookie_req: None,
            cookie_res: None,
            unique_id: None,
            uniq: STREAMS.fetch_add(1, Ordering::Relaxed),
            logged: false,
            still_queued: false,
            level: None,
            request_bytes: None,
            denied: 0,
            intercepted: false,
            monitor: false,
            head_request: false,
            req_counted: false,
            stats_backend: None,
            reused: false,
            redispatched: false,
            sess: None,
        }
    }

    /// The stream goes to this backend.
    pub fn set_backend(&mut self, be: BackendId) {
        self.backend = Some(be);
        if let Some(s) = &self.sess {
            s.target(be.0, crate::stats::sess::NONE);
        }
    }

    /// The stream uses this server of its backend (another one than first
    /// chosen is a redispatch).
    pub fn set_server(&mut self, srv: usize) {
        if self.server.is_some_and(|s| s != srv) {
            self.redispatched = true;
        }
        self.server = Some(srv);
        if let (Some(s), Some(be)) = (&self.sess, self.backend) {
            s.target(be.0, srv);
        }
    }

    /// What rules may read of the stream while it runs (`%f`, `%ID`,
    /// `%rt`, the dates, addresses): no timers, no allocation unless a
    /// unique id was made.
    pub fn light<'a>(&self, fe: &'a Frontend, (src, dst): (SocketAddr, SocketAddr)) -> Record<'a> {
        let mut r = Record::new(&fe.name, src, dst, self.accept);
        r.http = fe.mode == cfg_parser::ast::Mode::Http;
        r.unique_id = self.unique_id.clone();
        r.req_counter = self.uniq;
        r.request_line = self.request_line.clone();
        if let Some(s) = self.head_start {
            r.request_date = self.accept + s.saturating_duration_since(self.accept_at);
        }
        r
    }

    /// The state for the next request of the same connection.
    /// A keep-alive connection's next stream starts when the previous one
    /// ends: that is its accept date, as in 2.6.
    pub fn next(&self, now: Instant, bytes_in: u64) -> TxnLog {
        let wall = self.accept + now.saturating_duration_since(self.accept_at);
        let mut t = TxnLog::new(wall, now);
        t.bytes_in_from = bytes_in;
        t.sess = self.sess.clone();
        t
    }

    /// Sets the termination state once: the first failure found is the one
    /// logged.
    pub fn end(&mut self, who: u8, phase: u8) {
        if self.term == *b"--" {
            self.term = [who, phase];
        }
    }

    /// The record of this stream as it stands at `now`.
    pub fn record<'a>(
        &self,
        sh: &'a Shared,
        fe: &'a Frontend,
        (src, dst): (SocketAddr, SocketAddr),
        now: Instant,
    ) -> Record<'a> {
        let ms = |a: Option<Instant>, b: Option<Instant>| match (a, b) {
            (Some(a), Some(b)) => b.saturating_duration_since(a).as_millis() as i64,
            _ => -1,
        };
        // A request that never started counts its whole wait as active.
        let start = self.head_start.unwrap_or(self.idle_from);
        let mut r = Record::new(&fe.name, src, dst, self.accept);
        r.request_date = self.accept + start.saturating_duration_since(self.accept_at);
        r.http = fe.mode == cfg_parser::ast::Mode::Http;
        r.t.idle = ms(Some(self.idle_from), Some(start));
        r.t.request = ms(self.head_start, self.head_done);
        r.t.queue = ms(self.queue_start, self.queue_done);
        r.t.connect = ms(self.queue_done, self.connect_done);
        r.t.response = ms(self.connect_done, self.response_at);
        r.t.active = ms(Some(start), Some(now));
        r.t.total = ms(Some(self.idle_from), Some(now));
        if let Some(b) = self.backend {
            let be = sh.rt.backend(b);
            r.backend = Some(&be.name);
            r.beconn = sh.be_cur[b.0].load(Ordering::Relaxed);
            r.be_queue = sh.backends[b.0].queued() + u32::from(self.still_queued);
            if let Some(s) = self.server {
                r.server = Some(&be.servers[s].name);
                r.srvconn = sh.backends[b.0].servers[s].active.load(Ordering::Relaxed);
            }
        }
        if let Some(i) = sh.rt.frontends.iter().position(|f| std::ptr::eq(f, fe)) {
            r.feconn = sh.fe_cur[i].load(Ordering::Relaxed);
        }
        r.actconn = sh.active.load(Ordering::Relaxed) as u32;
        r.srv_addr = self.srv_addr;
        r.status = self.status;
        r.bytes_out = self.bytes_out;
        r.bytes_in = self.bytes_in;
        r.term = self.term;
        r.cookie_flags = self.cookie_flags;
        r.retries = self.retries;
        r.request_line = self.request_line.clone();
        r.req_caps = self.req_caps.clone();
        r.res_caps = self.res_caps.clone();
        r.cookie_req = self.cookie_req.clone();
        r.cookie_res = self.cookie_res.clone();
        r.unique_id = self.unique_id.clone();
        r.req_counter = self.uniq;
        r
    }
}

/// Sends the traffic log line of a stream, as the frontend's options say:
/// `dontlognull` drops streams that received nothing, `dontlog-normal`
/// those without error, `log-separate-errors` raises errors to `err`.
pub fn emit(
    sh: &Shared,
    fe: &Frontend,
    txn: &TxnLog,
    addrs: (SocketAddr, SocketAddr),
    vars: &crate::vars::Vars,
) {
    crate::stats::stream_end(sh, fe.fid.0, txn);
    if txn.monitor {
        return;
    }
    if !txn.logged {
        write(sh, fe, txn, (addrs, vars), false);
    }
}

/// `option logasap`: the line goes as soon as the response starts (HTTP)
/// or the server connection is up (TCP), its totals marked `+`.
pub fn emit_early(
    sh: &Shared,
    fe: &Frontend,
    txn: &mut TxnLog,
    addrs: (SocketAddr, SocketAddr),
    vars: &crate::vars::Vars,
) {
    if fe.log.logasap && !txn.logged {
        write(sh, fe, txn, (addrs, vars), true);
        txn.logged = true;
    }
}

fn write(
    sh: &Shared,
    fe: &Frontend,
    txn: &TxnLog,
    (addrs, vars): ((SocketAddr, SocketAddr), &crate::vars::Vars),
    asap: bool,
) {
    let log = &fe.log;
    let Some(fmt) = log.format.as_ref().filter(|_| log.logs()) else {
        return;
    };
    if log.dontlognull && txn.bytes_in == 0 {
        return;
    }
    let error = txn.term[0] != b'-' || txn.status >= 500;
    if log.dontlog_normal && !error {
        return;
    }
    let level = match txn.level {
        Some(None) => return,
        Some(Some(l)) => l,
        None if error && log.separate_errors => Level::Err,
        None => Level::Info,
    };
    let mut rec = txn.record(sh, fe, addrs, Instant::now());
    rec.asap = asap;
    if let Some(i) = sh.rt.frontends.iter().position(|f| std::ptr::eq(f, fe)) {
        rec.log_counter = sh.fe_logs[i].fetch_add(1, Ordering::Relaxed);
    }
    let none = |_: &str| None;
    let mut ctx = crate::acl::FetchCtx::new(addrs.0, addrs.1, None, &none);
    ctx.record = Some(&rec);
    ctx.vars = Some(vars);
    let line = crate::sample::render(fmt, &ctx, Some(&rec), true);
    let sd = log
        .sd
        .as_ref()
        .map(|f| crate::sample::render(f, &ctx, Some(&rec), true));
    super::send_sd(&log.targets, level, &line, sd.as_deref());
}

/// The line of a frontend without a format option, sent when a connection
/// is accepted: `Connect from <ci>:<cp> to <fi>:<fp> (<frontend>/<mode>)`.
pub fn connect_line(fe: &Frontend, src: SocketAddr, dst: SocketAddr) {
    if fe.log.format.is_some() || fe.log.targets.is_empty() {
        return;
    }
    let mode = match fe.mode {
        cfg_parser::ast::Mode::Http => "HTTP",
        cfg_parser::ast::Mode::Tcp => "TCP",
    };
    let msg = format!(
        "Connect from {} to {} ({}/{mode})",
        show(src),
        show(dst),
        fe.name
    );
    super::send(&fe.log.targets, Level::Info, &msg);
}

fn show(a: SocketAddr) -> String {
    match a {
        SocketAddr::V6(v) => match v.ip().to_ipv4_mapped() {
            Some(ip) => format!("{ip}:{}", v.port()),
            None => format!("{}:{}", v.ip(), v.port()),
        },
        v4 => v4.to_string(),
    }
}

/// A connection that failed before becoming a stream (a bad PROXY header):
/// logged with `error-log-format`, else 2.6's own line
/// `<ci>:<cp> [<date>] <frontend>/<listener>: <reason>`.
pub fn session_error(
    fe: &Frontend,
    (src, dst): (SocketAddr, SocketAddr),
    listener: &str,
    accepted: SystemTime,
    err: super::ConnError,
) {
    let log = &fe.log;
    if log.targets.is_empty() || (log.dontlognull && err == super::ConnError::ProxyEmpty) {
        return;
    }
    let line = match &log.error_format {
        Some(fmt) => {
            let mut rec = Record::new(&fe.name, src, dst, accepted);
            rec.conn_err = Some(err);
            let none = |_: &str| None;
            let mut ctx = crate::acl::FetchCtx::new(src, dst, None, &none);
            ctx.record = Some(&rec);
            crate::sample::render(fmt, &ctx, Some(&rec), true)
        }
        None => format!(
            "{} [{}] {}/{listener}: {}",
            show(src),
            super::time::Tm::of(accepted, false).accept_ms(),
            fe.name,
            err.text()
        ),
    };
    super::send(&log.targets, Level::Info, &line);
}
