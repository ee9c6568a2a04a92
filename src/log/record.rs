//! What a log line can say about one stream (an HTTP request or a TCP
//! session): names, addresses, dates, timers, counters, termination state,
//! captures. The data path fills one as the stream goes; the log-format
//! engine reads it.
use std::net::SocketAddr;
use std::time::SystemTime;

/// Timers in milliseconds; -1 for a step never reached, as HAProxy logs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timers {
    /// `Th`: handshake (PROXY header, ...).
    pub handshake: i64,
    /// `Ti`: idle before the first byte of the request.
    pub idle: i64,
    /// `TR`: from the first byte to the whole request head.
    pub request: i64,
    /// `Tw`: waiting in queues.
    pub queue: i64,
    /// `Tc`: connecting to the server.
    pub connect: i64,
    /// `Tr`: from the request sent to the response head received.
    pub response: i64,
    /// `Ta`: from the start of the request to the end of the response.
    pub active: i64,
    /// `Tt`: from accept to the end.
    pub total: i64,
}

impl Default for Timers {
    fn default() -> Timers {
        Timers {
            handshake: 0,
            idle: 0,
            request: -1,
            queue: -1,
            connect: -1,
            response: -1,
            active: -1,
            total: -1,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Record<'a> {
    pub frontend: &'a str,
    /// None: the stream never reached a backend (logged as the frontend).
    pub backend: Option<&'a str>,
    /// None: `<NOSRV>`.
    pub server: Option<&'a str>,
    /// Client address (`%ci:%cp`) and the address it reached (`%fi:%fp`).
    pub src: SocketAddr,
    pub dst: SocketAddr,
    /// The server's address and the local one we connected from.
    pub srv_addr: Option<SocketAddr>,
    pub srv_src: Option<SocketAddr>,
    /// `%t`: when the connection was accepted (the session's date).
    pub accept: SystemTime,
    /// `%tr`: when the request started (accept + Th + Ti).
    pub request_date: SystemTime,
    pub t: Timers,
    /// `%ST`; -1 when no response was sent.
    pub status: i32,
    /// `%B`: bytes sent to the client; `%U`: bytes received from it.
    pub bytes_out: u64,
    pub bytes_in: u64,
    /// `%ts`: who ended the stream and in which phase.
    pub term: [u8; 2],
    /// The last two characters of `%tsc` (persistence cookie states).
    pub cookie_flags: [u8; 2],
    pub actconn: u32,
    pub feconn: u32,
    pub beconn: u32,
    pub srvconn: u32,
    pub retries: u32,
    pub srv_queue: u32,
    pub be_queue: u32,
    /// `%r`: the request line as received; None logs `<BADREQ>`.
    pub request_line: Option<String>,
    /// `capture request header` / `capture response header` values.
    pub req_caps: Vec<Option<Vec<u8>>>,
    pub res_caps: Vec<Option<Vec<u8>>>,
    /// `%CC` / `%CS`: captured cookies.
    pub cookie_req: Option<String>,
    pub cookie_res: Option<String>,
    pub unique_id: Option<String>,
    /// `%rt`: the request counter; `%lc`: the frontend's log counter.
    pub req_counter: u64,
    pub log_counter: u64,
    /// The frontend speaks HTTP (`%ft`'s transport, `%r` availability).
    pub http: bool,
    /// Written early (`option logasap`): totals are marked `+`, partial.
    pub asap: bool,
    /// Why the connection failed before a stream (`fc_err`).
    pub conn_err: Option<super::ConnError>,
}

impl<'a> Record<'a> {
    pub fn new(frontend: &'a str, src: SocketAddr, dst: SocketAddr, accept: SystemTime) -> Self {
        Record {
            frontend,
            backend: None,
            server: None,
            src,
            dst,
            srv_addr: None,
            srv_src: None,
            accept,
            request_date: accept,
            t: Timers::default(),
            status: -1,
            bytes_out: 0,
            bytes_in: 0,
            term: *b"--",
            cookie_flags: *b"--",
            actconn: 0,
            feconn: 0,
            beconn: 0,
            srvconn: 0,
            retries: 0,
            srv_queue: 0,
            be_queue: 0,
            request_line: None,
            req_caps: Vec::new(),
            res_caps: Vec::new(),
            cookie_req: None,
            cookie_res: None,
            unique_id: None,
            req_counter: 0,
            log_counter: 0,
            http: false,
            asap: false,
            conn_err: None,
        }
    }
}
