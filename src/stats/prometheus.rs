//! `http-request use-service prometheus-exporter`: the process, frontend,
//! backend and server counters in Prometheus' text exposition format,
//! under the metric names of HAProxy 2.6's exporter.
//!
//! Every family is built from what `show info` and the CSV report (see
//! [`super::info::values`] and [`super::fields::rows`]), so the three
//! views never disagree. A family prints its `# HELP` and `# TYPE` lines
//! then one line per object; a family without any line is left out, as
//! are the HTTP families of TCP proxies. An empty CSV field is `NaN`.
use super::check::server_check;
use super::fields::{rows, Filter, Kind, Row, V};
use crate::worker::Shared;
use cfg_parser::ast::Mode;
use std::fmt::Write as _;

const GLOBAL: u8 = 1;
const FRONTEND: u8 = 2;
const BACKEND: u8 = 4;
const SERVER: u8 = 8;

/// What a scrape asks for (`?scope=...&no-maint`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Query {
    /// Bit mask of the scopes to print.
    pub scopes: u8,
    /// Leave out the servers in maintenance.
    pub no_maint: bool,
}

/// Reads the query string of `uri`: `scope=global|frontend|backend|server|*`
/// (repeatable; the first one replaces "everything", an empty one clears
/// what came before) and `no-maint`; other parameters are ignored. None
/// for an unknown scope (a 400).
pub fn parse_query(uri: &str) -> Option<Query> {
    let mut q = Query {
        scopes: GLOBAL | FRONTEND | BACKEND | SERVER,
        no_maint: false,
    };
    let Some((_, query)) = uri.split_once('?') else {
        return Some(q);
    };
    let mut first_scope = true;
    for param in query.split('&') {
        if let Some(v) = param.strip_prefix("scope=") {
            if first_scope {
                q.scopes = 0;
                first_scope = false;
            }
            q.scopes = match super::page::url_decode(v).as_str() {
                "" => 0,
                "*" => GLOBAL | FRONTEND | BACKEND | SERVER,
                "global" => q.scopes | GLOBAL,
                "frontend" => q.scopes | FRONTEND,
                "backend" => q.scopes | BACKEND,
                "server" => q.scopes | SERVER,
                _ => return None,
            };
        } else if param == "no-maint" {
            q.no_maint = true;
        }
    }
    Some(q)
}

/// The head of the answer: the lines without the blank one that ends it.
pub fn head(closing: bool) -> Vec<u8> {
    let mut h = b"HTTP/1.1 200 OK\r\ncache-control: no-cache\r\n\
content-type: text/plain; version=0.0.4\r\ntransfer-encoding: chunked\r\n"
        .to_vec();
    if closing {
        h.extend_from_slice(b"connection: close\r\n");
    }
    h
}

/// `text` as a chunked body: chunks of whole lines, at most about 16 kB,
/// then the last (empty) chunk.
pub fn chunked(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + text.len() / 1000 + 16);
    let mut rest = text;
    while !rest.is_empty() {
        let mut end = rest.len().min(16 * 1024);
        if end < rest.len() {
            end = rest[..end].rfind('\n').map_or(end, |i| i + 1);
            while !rest.is_char_boundary(end) {
                end += 1;
            }
        }
        let (chunk, tail) = rest.split_at(end);
        let _ = write!(out_str(&mut out), "{:X}\r\n", chunk.len());
        out.extend_from_slice(chunk.as_bytes());
        out.extend_from_slice(b"\r\n");
        rest = tail;
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

/// A `fmt::Write` view of a byte buffer.
fn out_str(out: &mut Vec<u8>) -> impl std::fmt::Write + '_ {
    struct W<'a>(&'a mut Vec<u8>);
    impl std::fmt::Write for W<'_> {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            self.0.extend_from_slice(s.as_bytes());
            Ok(())
        }
    }
    W(out)
}

/// Where a family takes its values.
#[derive(Clone, Copy)]
enum Src {
    /// A `show info` field.
    Info(&'static str),
    /// Not measured by this build: `NaN`.
    NaN,
    /// `build_info{version="..."} 1`.
    Build,
    /// A CSV field, as is.
    Field(&'static str),
    /// A CSV field in milliseconds, printed in seconds.
    Secs(&'static str),
    /// The proxy's or server's state, one line per state.
    State,
    /// The status classes (`hrsp_1xx` ... `hrsp_other`), by `code`.
    Codes,
    /// How many of a backend's servers are in each server state.
    AggServers,
    /// How many of a backend's checked servers ended their last check
    /// with each result.
    AggChecks,
    /// A checked server's last check result, one line per result.
    CheckStatus,
    CheckCode,
    CheckDuration,
}

/// One family: name after `haproxy_<scope>_`, type, help, source.
type Fam = (&'static str, bool, &'static str, Src);

const COUNTER: bool = true;
const GAUGE: bool = false;

const PROCESS: &[Fam] = &[
    ("nbthread", GAUGE, "Threads started", Src::Info("Nbthread")),
    (
        "nbproc",
        GAUGE,
        "Worker processes started (always 1)",
        Src::Info("Nbproc"),
    ),
    (
        "relative_process_id",
        GAUGE,
        "This worker's number (always 1)",
        Src::Info("Process_num"),
    ),
    (
        "uptime_seconds",
        GAUGE,
        "Seconds since this worker started",
        Src::Info("Uptime_sec"),
    ),
    (
        "pool_failures_total",
        COUNTER,
        "Memory pool allocations that failed",
        Src::Info("PoolFailed"),
    ),
    (
        "max_fds",
        GAUGE,
        "Limit on file descriptors of the process",
        Src::Info("Ulimit-n"),
    ),
    (
        "max_sockets",
        GAUGE,
        "Limit on sockets of the process",
        Src::Info("Maxsock"),
    ),
    (
        "max_connections",
        GAUGE,
        "Limit on concurrent connections (maxconn)",
        Src::Info("Maxconn"),
    ),
    (
        "hard_max_connections",
        GAUGE,
        "Configured limit on concurrent connections",
        Src::Info("Hard_maxconn"),
    ),
    (
        "current_connections",
        GAUGE,
        "Connections open now",
        Src::Info("CurrConns"),
    ),
    (
        "connections_total",
        COUNTER,
        "Connections accepted",
        Src::Info("CumConns"),
    ),
    (
        "requests_total",
        COUNTER,
        "HTTP requests received",
        Src::Info("CumReq"),
    ),
    (
        "max_ssl_connections",
        GAUGE,
        "Limit on concurrent TLS connections",
        Src::Info("MaxSslConns"),
    ),
    (
        "current_ssl_connections",
        GAUGE,
        "TLS connections open now",
        Src::Info("CurrSslConns"),
    ),
    (
        "ssl_connections_total",
        COUNTER,
        "TLS connections opened",
        Src::Info("CumSslConns"),
    ),
    (
        "max_pipes",
        GAUGE,
        "Limit on kernel pipes (maxpipes)",
        Src::Info("Maxpipes"),
    ),
    (
        "pipes_used_total",
        COUNTER,
        "Kernel pipes in use",
        Src::Info("PipesUsed"),
    ),
    (
        "pipes_free_total",
        COUNTER,
        "Kernel pipes allocated and free",
        Src::Info("PipesFree"),
    ),
    (
        "current_connection_rate",
        GAUGE,
        "Connections accepted over the last second",
        Src::Info("ConnRate"),
    ),
    (
        "limit_connection_rate",
        GAUGE,
        "Limit on accepted connections per second",
        Src::Info("ConnRateLimit"),
    ),
    (
        "max_connection_rate",
        GAUGE,
        "Highest connection rate seen",
        Src::Info("MaxConnRate"),
    ),
    (
        "current_session_rate",
        GAUGE,
        "Sessions created over the last second",
        Src::Info("SessRate"),
    ),
    (
        "limit_session_rate",
        GAUGE,
        "Limit on sessions per second",
        Src::Info("SessRateLimit"),
    ),
    (
        "max_session_rate",
        GAUGE,
        "Highest session rate seen",
        Src::Info("MaxSessRate"),
    ),
    (
        "current_ssl_rate",
        GAUGE,
        "TLS sessions over the last second",
        Src::Info("SslRate"),
    ),
    (
        "limit_ssl_rate",
        GAUGE,
        "Limit on TLS sessions per second",
        Src::Info("SslRateLimit"),
    ),
    (
        "max_ssl_rate",
        GAUGE,
        "Highest TLS session rate seen",
        Src::Info("MaxSslRate"),
    ),
    (
        "current_frontend_ssl_key_rate",
        GAUGE,
        "Client-side TLS key computations over the last second",
        Src::Info("SslFrontendKeyRate"),
    ),
    (
        "max_frontend_ssl_key_rate",
        GAUGE,
        "Highest client-side TLS key computation rate seen",
        Src::Info("SslFrontendMaxKeyRate"),
    ),
    (
        "frontend_ssl_reuse",
        GAUGE,
        "Percentage of client-side TLS sessions resumed",
        Src::Info("SslFrontendSessionReuse_pct"),
    ),
    (
        "current_backend_ssl_key_rate",
        GAUGE,
        "Server-side TLS key computations over the last second",
        Src::Info("SslBackendKeyRate"),
    ),
    (
        "max_backend_ssl_key_rate",
        GAUGE,
        "Highest server-side TLS key computation rate seen",
        Src::Info("SslBackendMaxKeyRate"),
    ),
    (
        "ssl_cache_lookups_total",
        COUNTER,
        "TLS session cache lookups",
        Src::Info("SslCacheLookups"),
    ),
    (
        "ssl_cache_misses_total",
        COUNTER,
        "TLS session cache misses",
        Src::Info("SslCacheMisses"),
    ),
    (
        "http_comp_bytes_in_total",
        COUNTER,
        "Bytes given to the HTTP compressor",
        Src::Info("CompressBpsIn"),
    ),
    (
        "http_comp_bytes_out_total",
        COUNTER,
        "Bytes produced by the HTTP compressor",
        Src::Info("CompressBpsOut"),
    ),
    (
        "limit_http_comp",
        GAUGE,
        "Limit on compressed bytes per second",
        Src::Info("CompressBpsRateLim"),
    ),
    (
        "current_zlib_memory",
        GAUGE,
        "Memory used by zlib",
        Src::NaN,
    ),
    (
        "max_zlib_memory",
        GAUGE,
        "Limit on the memory used by zlib",
        Src::NaN,
    ),
    (
        "current_tasks",
        GAUGE,
        "Tasks of the process",
        Src::Info("Tasks"),
    ),
    (
        "current_run_queue",
        GAUGE,
        "Tasks waiting to run",
        Src::Info("Run_queue"),
    ),
    (
        "idle_time_percent",
        GAUGE,
        "Percentage of time spent idle",
        Src::Info("Idle_pct"),
    ),
    (
        "stopping",
        GAUGE,
        "1 while the worker is stopping",
        Src::Info("Stopping"),
    ),
    (
        "jobs",
        GAUGE,
        "Active jobs (listeners, connections, ...)",
        Src::Info("Jobs"),
    ),
    (
        "unstoppable_jobs",
        GAUGE,
        "Jobs that keep the worker from stopping",
        Src::Info("Unstoppable Jobs"),
    ),
    (
        "listeners",
        GAUGE,
        "Listening sockets",
        Src::Info("Listeners"),
    ),
    (
        "active_peers",
        GAUGE,
        "Peers configured",
        Src::Info("ActivePeers"),
    ),
    (
        "connected_peers",
        GAUGE,
        "Peers connected",
        Src::Info("ConnectedPeers"),
    ),
    (
        "dropped_logs_total",
        COUNTER,
        "Log messages dropped",
        Src::Info("DroppedLogs"),
    ),
    (
        "busy_polling_enabled",
        GAUGE,
        "1 when busy polling is on",
        Src::Info("BusyPolling"),
    ),
    (
        "failed_resolutions",
        COUNTER,
        "DNS resolutions that failed",
        Src::Info("FailedResolutions"),
    ),
    (
        "bytes_out_total",
        COUNTER,
        "Bytes sent to clients",
        Src::Info("TotalBytesOut"),
    ),
    (
        "spliced_bytes_out_total",
        COUNTER,
        "Bytes sent to clients through splicing",
        Src::Info("TotalSplicdedBytesOut"),
    ),
    (
        "bytes_out_rate",
        GAUGE,
        "Bytes sent to clients over the last second",
        Src::Info("BytesOutRate"),
    ),
    (
        "recv_logs_total",
        COUNTER,
        "Log messages received by log forwarders",
        Src::Info("CumRecvLogs"),
    ),
    ("build_info", GAUGE, "Version of the build", Src::Build),
    (
        "max_memory_bytes",
        GAUGE,
        "Limit on memory (bytes)",
        Src::Info("Memmax_bytes"),
    ),
    (
        "pool_allocated_bytes",
        GAUGE,
        "Bytes allocated in memory pools",
        Src::Info("PoolAlloc_bytes"),
    ),
    (
        "pool_used_bytes",
        GAUGE,
        "Bytes used in memory pools",
        Src::Info("PoolUsed_bytes"),
    ),
    (
        "start_time_seconds",
        GAUGE,
        "When the worker started (UNIX time)",
        Src::Info("Start_time_sec"),
    ),
];

const FRONTENDS: &[Fam] = &[
    (
        "current_sessions",
        GAUGE,
        "Sessions open now",
        Src::Field("scur"),
    ),
    (
        "max_sessions",
        GAUGE,
        "Highest number of open sessions seen",
        Src::Field("smax"),
    ),
    (
        "limit_sessions",
        GAUGE,
        "Limit on open sessions (maxconn)",
        Src::Field("slim"),
    ),
    (
        "sessions_total",
        COUNTER,
        "Sessions created",
        Src::Field("stot"),
    ),
    (
        "bytes_in_total",
        COUNTER,
        "Request bytes",
        Src::Field("bin"),
    ),
    (
        "bytes_out_total",
        COUNTER,
        "Response bytes",
        Src::Field("bout"),
    ),
    (
        "requests_denied_total",
        COUNTER,
        "Requests denied by rules",
        Src::Field("dreq"),
    ),
    (
        "responses_denied_total",
        COUNTER,
        "Responses denied by rules",
        Src::Field("dresp"),
    ),
    (
        "request_errors_total",
        COUNTER,
        "Invalid or aborted requests",
        Src::Field("ereq"),
    ),
    ("status", GAUGE, "State of the proxy, by state", Src::State),
    (
        "limit_session_rate",
        GAUGE,
        "Limit on new sessions per second",
        Src::Field("rate_lim"),
    ),
    (
        "max_session_rate",
        GAUGE,
        "Highest session rate seen",
        Src::Field("rate_max"),
    ),
    (
        "http_responses_total",
        COUNTER,
        "HTTP responses by status class",
        Src::Codes,
    ),
    (
        "http_requests_rate_max",
        GAUGE,
        "Highest HTTP request rate seen",
        Src::Field("req_rate_max"),
    ),
    (
        "http_requests_total",
        COUNTER,
        "HTTP requests",
        Src::Field("req_tot"),
    ),
    (
        "http_comp_bytes_in_total",
        COUNTER,
        "Bytes given to the HTTP compressor",
        Src::Field("comp_in"),
    ),
    (
        "http_comp_bytes_out_total",
        COUNTER,
        "Bytes produced by the HTTP compressor",
        Src::Field("comp_out"),
    ),
    (
        "http_comp_bytes_bypassed_total",
        COUNTER,
        "Response bytes not compressed",
        Src::Field("comp_byp"),
    ),
    (
        "http_comp_responses_total",
        COUNTER,
        "HTTP responses compressed",
        Src::Field("comp_rsp"),
    ),
    (
        "connections_rate_max",
        GAUGE,
        "Highest connection rate seen",
        Src::Field("conn_rate_max"),
    ),
    (
        "connections_total",
        COUNTER,
        "Connections accepted",
        Src::Field("conn_tot"),
    ),
    (
        "intercepted_requests_total",
        COUNTER,
        "Requests answered by the proxy itself",
        Src::Field("intercepted"),
    ),
    (
        "denied_connections_total",
        COUNTER,
        "Connections refused by tcp-request connection rules",
        Src::Field("dcon"),
    ),
    (
        "denied_sessions_total",
        COUNTER,
        "Sessions refused by tcp-request session rules",
        Src::Field("dses"),
    ),
    (
        "failed_header_rewriting_total",
        COUNTER,
        "Header rewrites that failed",
        Src::Field("wrew"),
    ),
    (
        "http_cache_lookups_total",
        COUNTER,
        "HTTP cache lookups",
        Src::Field("cache_lookups"),
    ),
    (
        "http_cache_hits_total",
        COUNTER,
        "HTTP cache hits",
        Src::Field("cache_hits"),
    ),
    (
        "internal_errors_total",
        COUNTER,
        "Internal errors",
        Src::Field("eint"),
    ),
];

const BACKENDS: &[Fam] = &[
    (
        "current_queue",
        GAUGE,
        "Requests waiting in the queue",
        Src::Field("qcur"),
    ),
    ("max_queue", GAUGE, "Longest queue seen", Src::Field("qmax")),
    (
        "current_sessions",
        GAUGE,
        "Sessions open now",
        Src::Field("scur"),
    ),
    (
        "max_sessions",
        GAUGE,
        "Highest number of open sessions seen",
        Src::Field("smax"),
    ),
    (
        "limit_sessions",
        GAUGE,
        "Limit on open sessions (fullconn)",
        Src::Field("slim"),
    ),
    (
        "sessions_total",
        COUNTER,
        "Sessions handled",
        Src::Field("stot"),
    ),
    (
        "bytes_in_total",
        COUNTER,
        "Request bytes",
        Src::Field("bin"),
    ),
    (
        "bytes_out_total",
        COUNTER,
        "Response bytes",
        Src::Field("bout"),
    ),
    (
        "requests_denied_total",
        COUNTER,
        "Requests denied by rules",
        Src::Field("dreq"),
    ),
    (
        "responses_denied_total",
        COUNTER,
        "Responses denied by rules",
        Src::Field("dresp"),
    ),
    (
        "connection_errors_total",
        COUNTER,
        "Connections to servers that failed",
        Src::Field("econ"),
    ),
    (
        "response_errors_total",
        COUNTER,
        "Invalid or aborted responses",
        Src::Field("eresp"),
    ),
    (
        "retry_warnings_total",
        COUNTER,
        "Connection retries",
        Src::Field("wretr"),
    ),
    (
        "redispatch_warnings_total",
        COUNTER,
        "Redispatches to another server",
        Src::Field("wredis"),
    ),
    (
        "status",
        GAUGE,
        "State of the backend, by state",
        Src::State,
    ),
    (
        "weight",
        GAUGE,
        "Sum of the effective weights of the usable servers",
        Src::Field("weight"),
    ),
    (
        "active_servers",
        GAUGE,
        "Usable active servers",
        Src::Field("act"),
    ),
    (
        "backup_servers",
        GAUGE,
        "Usable backup servers",
        Src::Field("bck"),
    ),
    (
        "check_up_down_total",
        COUNTER,
        "Transitions to DOWN",
        Src::Field("chkdown"),
    ),
    (
        "check_last_change_seconds",
        GAUGE,
        "Seconds since the last state change",
        Src::Field("lastchg"),
    ),
    (
        "downtime_seconds_total",
        COUNTER,
        "Seconds spent DOWN",
        Src::Field("downtime"),
    ),
    (
        "loadbalanced_total",
        COUNTER,
        "Times a server was picked by the balancer",
        Src::Field("lbtot"),
    ),
    (
        "max_session_rate",
        GAUGE,
        "Highest session rate seen",
        Src::Field("rate_max"),
    ),
    (
        "http_responses_total",
        COUNTER,
        "HTTP responses by status class",
        Src::Codes,
    ),
    (
        "http_requests_total",
        COUNTER,
        "HTTP requests",
        Src::Field("req_tot"),
    ),
    (
        "client_aborts_total",
        COUNTER,
        "Transfers aborted by the client",
        Src::Field("cli_abrt"),
    ),
    (
        "server_aborts_total",
        COUNTER,
        "Transfers aborted by the server",
        Src::Field("srv_abrt"),
    ),
    (
        "http_comp_bytes_in_total",
        COUNTER,
        "Bytes given to the HTTP compressor",
        Src::Field("comp_in"),
    ),
    (
        "http_comp_bytes_out_total",
        COUNTER,
        "Bytes produced by the HTTP compressor",
        Src::Field("comp_out"),
    ),
    (
        "http_comp_bytes_bypassed_total",
        COUNTER,
        "Response bytes not compressed",
        Src::Field("comp_byp"),
    ),
    (
        "http_comp_responses_total",
        COUNTER,
        "HTTP responses compressed",
        Src::Field("comp_rsp"),
    ),
    (
        "last_session_seconds",
        GAUGE,
        "Seconds since the last session (-1: none yet)",
        Src::Field("lastsess"),
    ),
    (
        "queue_time_average_seconds",
        GAUGE,
        "Average time in the queue (recent sessions)",
        Src::Secs("qtime"),
    ),
    (
        "connect_time_average_seconds",
        GAUGE,
        "Average time to connect (recent sessions)",
        Src::Secs("ctime"),
    ),
    (
        "response_time_average_seconds",
        GAUGE,
        "Average time to the response (recent sessions)",
        Src::Secs("rtime"),
    ),
    (
        "total_time_average_seconds",
        GAUGE,
        "Average session time (recent sessions)",
        Src::Secs("ttime"),
    ),
    (
        "failed_header_rewriting_total",
        COUNTER,
        "Header rewrites that failed",
        Src::Field("wrew"),
    ),
    (
        "connection_attempts_total",
        COUNTER,
        "Connections attempted to servers",
        Src::Field("connect"),
    ),
    (
        "connection_reuses_total",
        COUNTER,
        "Server connections reused",
        Src::Field("reuse"),
    ),
    (
        "http_cache_lookups_total",
        COUNTER,
        "HTTP cache lookups",
        Src::Field("cache_lookups"),
    ),
    (
        "http_cache_hits_total",
        COUNTER,
        "HTTP cache hits",
        Src::Field("cache_hits"),
    ),
    (
        "max_queue_time_seconds",
        GAUGE,
        "Longest time in the queue seen",
        Src::Secs("qtime_max"),
    ),
    (
        "max_connect_time_seconds",
        GAUGE,
        "Longest time to connect seen",
        Src::Secs("ctime_max"),
    ),
    (
        "max_response_time_seconds",
        GAUGE,
        "Longest time to a response seen",
        Src::Secs("rtime_max"),
    ),
    (
        "max_total_time_seconds",
        GAUGE,
        "Longest session seen",
        Src::Secs("ttime_max"),
    ),
    (
        "internal_errors_total",
        COUNTER,
        "Internal errors",
        Src::Field("eint"),
    ),
    (
        "uweight",
        GAUGE,
        "Sum of the configured weights of the usable servers",
        Src::Field("uweight"),
    ),
    (
        "agg_server_status",
        GAUGE,
        "Servers in each state",
        Src::AggServers,
    ),
    (
        "agg_server_check_status",
        GAUGE,
        "Servers in each state (older name)",
        Src::AggServers,
    ),
    (
        "agg_check_status",
        GAUGE,
        "Checked servers by result of their last check",
        Src::AggChecks,
    ),
];

const SERVERS: &[Fam] = &[
    (
        "current_queue",
        GAUGE,
        "Requests waiting for this server",
        Src::Field("qcur"),
    ),
    ("max_queue", GAUGE, "Longest queue seen", Src::Field("qmax")),
    (
        "current_sessions",
        GAUGE,
        "Sessions open now",
        Src::Field("scur"),
    ),
    (
        "max_sessions",
        GAUGE,
        "Highest number of open sessions seen",
        Src::Field("smax"),
    ),
    (
        "limit_sessions",
        GAUGE,
        "Limit on open sessions (maxconn)",
        Src::Field("slim"),
    ),
    (
        "sessions_total",
        COUNTER,
        "Sessions handled",
        Src::Field("stot"),
    ),
    (
        "bytes_in_total",
        COUNTER,
        "Request bytes",
        Src::Field("bin"),
    ),
    (
        "bytes_out_total",
        COUNTER,
        "Response bytes",
        Src::Field("bout"),
    ),
    (
        "responses_denied_total",
        COUNTER,
        "Responses denied by rules",
        Src::Field("dresp"),
    ),
    (
        "connection_errors_total",
        COUNTER,
        "Connections that failed",
        Src::Field("econ"),
    ),
    (
        "response_errors_total",
        COUNTER,
        "Invalid or aborted responses",
        Src::Field("eresp"),
    ),
    (
        "retry_warnings_total",
        COUNTER,
        "Connection retries",
        Src::Field("wretr"),
    ),
    (
        "redispatch_warnings_total",
        COUNTER,
        "Redispatches away from this server",
        Src::Field("wredis"),
    ),
    ("status", GAUGE, "State of the server, by state", Src::State),
    ("weight", GAUGE, "Effective weight", Src::Field("weight")),
    (
        "check_failures_total",
        COUNTER,
        "Health checks that failed",
        Src::Field("chkfail"),
    ),
    (
        "check_up_down_total",
        COUNTER,
        "Transitions to DOWN",
        Src::Field("chkdown"),
    ),
    (
        "check_last_change_seconds",
        GAUGE,
        "Seconds since the last state change",
        Src::Field("lastchg"),
    ),
    (
        "downtime_seconds_total",
        COUNTER,
        "Seconds spent DOWN",
        Src::Field("downtime"),
    ),
    (
        "queue_limit",
        GAUGE,
        "Limit on the queue (maxqueue)",
        Src::Field("qlimit"),
    ),
    (
        "current_throttle",
        GAUGE,
        "Slow-start throttle (percent)",
        Src::Field("throttle"),
    ),
    (
        "loadbalanced_total",
        COUNTER,
        "Times the balancer picked this server",
        Src::Field("lbtot"),
    ),
    (
        "max_session_rate",
        GAUGE,
        "Highest session rate seen",
        Src::Field("rate_max"),
    ),
    (
        "check_status",
        GAUGE,
        "Result of the last health check, by result",
        Src::CheckStatus,
    ),
    (
        "check_code",
        GAUGE,
        "Layer 5-7 code of the last health check",
        Src::CheckCode,
    ),
    (
        "check_duration_seconds",
        GAUGE,
        "Duration of the last health check",
        Src::CheckDuration,
    ),
    (
        "http_responses_total",
        COUNTER,
        "HTTP responses by status class",
        Src::Codes,
    ),
    (
        "client_aborts_total",
        COUNTER,
        "Transfers aborted by the client",
        Src::Field("cli_abrt"),
    ),
    (
        "server_aborts_total",
        COUNTER,
        "Transfers aborted by the server",
        Src::Field("srv_abrt"),
    ),
    (
        "last_session_seconds",
        GAUGE,
        "Seconds since the last session (-1: none yet)",
        Src::Field("lastsess"),
    ),
    (
        "queue_time_average_seconds",
        GAUGE,
        "Average time in the queue (recent sessions)",
        Src::Secs("qtime"),
    ),
    (
        "connect_time_average_seconds",
        GAUGE,
        "Average time to connect (recent sessions)",
        Src::Secs("ctime"),
    ),
    (
        "response_time_average_seconds",
        GAUGE,
        "Average time to the response (recent sessions)",
        Src::Secs("rtime"),
    ),
    (
        "total_time_average_seconds",
        GAUGE,
        "Average session time (recent sessions)",
        Src::Secs("ttime"),
    ),
    (
        "failed_header_rewriting_total",
        COUNTER,
        "Header rewrites that failed",
        Src::Field("wrew"),
    ),
    (
        "connection_attempts_total",
        COUNTER,
        "Connections attempted",
        Src::Field("connect"),
    ),
    (
        "connection_reuses_total",
        COUNTER,
        "Connections reused",
        Src::Field("reuse"),
    ),
    (
        "idle_connections_current",
        GAUGE,
        "Idle connections kept",
        Src::Field("srv_icur"),
    ),
    (
        "idle_connections_limit",
        GAUGE,
        "Limit on idle connections",
        Src::Field("src_ilim"),
    ),
    (
        "max_queue_time_seconds",
        GAUGE,
        "Longest time in the queue seen",
        Src::Secs("qtime_max"),
    ),
    (
        "max_connect_time_seconds",
        GAUGE,
        "Longest time to connect seen",
        Src::Secs("ctime_max"),
    ),
    (
        "max_response_time_seconds",
        GAUGE,
        "Longest time to a response seen",
        Src::Secs("rtime_max"),
    ),
    (
        "max_total_time_seconds",
        GAUGE,
        "Longest session seen",
        Src::Secs("ttime_max"),
    ),
    (
        "internal_errors_total",
        COUNTER,
        "Internal errors",
        Src::Field("eint"),
    ),
    (
        "unsafe_idle_connections_current",
        GAUGE,
        "Idle connections not known safe to share",
        Src::Field("idle_conn_cur"),
    ),
    (
        "safe_idle_connections_current",
        GAUGE,
        "Idle connections safe to share",
        Src::Field("safe_conn_cur"),
    ),
    (
        "used_connections_current",
        GAUGE,
        "Connections in use",
        Src::Field("used_conn_cur"),
    ),
    (
        "need_connections_current",
        GAUGE,
        "Connections estimated to be needed",
        Src::Field("need_conn_est"),
    ),
    ("uweight", GAUGE, "Configured weight", Src::Field("uweight")),
];

const SERVER_STATES: [&str; 5] = ["DOWN", "UP", "MAINT", "DRAIN", "NOLB"];
const CHECK_RESULTS: [&str; 16] = [
    "HANA", "SOCKERR", "L4OK", "L4TOUT", "L4CON", "L6OK", "L6TOUT", "L6RSP", "L7TOUT", "L7RSP",
    "L7OK", "L7OKC", "L7STS", "PROCERR", "PROCTOUT", "PROCOK",
];
const CODES: [(&str, &str); 6] = [
    ("1xx", "hrsp_1xx"),
    ("2xx", "hrsp_2xx"),
    ("3xx", "hrsp_3xx"),
    ("4xx", "hrsp_4xx"),
    ("5xx", "hrsp_5xx"),
    ("other", "hrsp_other"),
];

/// The exposition text of what `q` asks for.
pub fn render(sh: &Shared, q: Query) -> String {
    let mut out = String::new();
    if q.scopes & GLOBAL != 0 {
        process(sh, &mut out);
    }
    if q.scopes & (FRONTEND | BACKEND | SERVER) == 0 {
        return out;
    }
    let all = rows(sh, &Filter::default());
    let kind = |k: Kind| all.iter().filter(move |r| r.kind == k);
    if q.scopes & FRONTEND != 0 {
        let fes: Vec<Obj> = kind(Kind::Frontend)
            .map(|r| Obj::new(r, sh.rt.frontends[r.px].mode))
            .collect();
        families(sh, "frontend", FRONTENDS, &fes, &mut out);
    }
    if q.scopes & BACKEND != 0 {
        let bes: Vec<Obj> = kind(Kind::Backend)
            .map(|r| Obj::new(r, sh.rt.backends[r.px].mode))
            .collect();
        families(sh, "backend", BACKENDS, &bes, &mut out);
    }
    if q.scopes & SERVER != 0 {
        let srvs: Vec<Obj> = kind(Kind::Server)
            .filter(|r| !(q.no_maint && sh.backends[r.px].servers[r.srv].admin.maint()))
            .map(|r| Obj::new(r, sh.rt.backends[r.px].mode))
            .collect();
        families(sh, "server", SERVERS, &srvs, &mut out);
    }
    out
}

fn process(sh: &Shared, out: &mut String) {
    let info = super::info::values(sh);
    for &(name, counter, help, src) in PROCESS {
        let value = match src {
            Src::Info(field) => match info.iter().find(|i| i.1 == field) {
                Some((.., v)) => number(v),
                None => "NaN".into(),
            },
            Src::Build => {
                header(out, "process", name, counter, help);
                let _ = writeln!(
                    out,
                    "haproxy_process_{name}{{version=\"{}\"}} 1",
                    crate::version::VERSION
                );
                continue;
            }
            _ => "NaN".into(),
        };
        header(out, "process", name, counter, help);
        let _ = writeln!(out, "haproxy_process_{name} {value}");
    }
}

/// A proxy or server row with what its lines need.
struct Obj<'a> {
    row: &'a Row,
    http: bool,
    labels: String,
}

impl<'a> Obj<'a> {
    fn new(row: &'a Row, mode: Mode) -> Obj<'a> {
        let px = row.text("pxname");
        let labels = match row.kind {
            Kind::Server => format!(
                "proxy=\"{}\",server=\"{}\"",
                escape(&px),
                escape(&row.text("svname"))
            ),
            _ => format!("proxy=\"{}\"", escape(&px)),
        };
        Obj {
            row,
            http: mode == Mode::Http,
            labels,
        }
    }
}

/// A label value with `\`, `"` and new lines escaped.
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn header(out: &mut String, scope: &str, name: &str, counter: bool, help: &str) {
    let ty = if counter { "counter" } else { "gauge" };
    let _ = writeln!(out, "# HELP haproxy_{scope}_{name} {help}");
    let _ = writeln!(out, "# TYPE haproxy_{scope}_{name} {ty}");
}

fn number(v: &V) -> String {
    match v {
        V::Str(s) if s.is_empty() => "NaN".into(),
        V::Str(s) => s.clone(),
        other => other.to_string(),
    }
}

fn field(row: &Row, name: &str) -> String {
    row.get(name).map_or_else(|| "NaN".into(), number)
}

fn seconds(row: &Row, name: &str) -> String {
    match row.get(name) {
        None => "NaN".into(),
        Some(_) => format!("{:.6}", row.num(name) as f64 / 1000.0),
    }
}

/// The state of a proxy or server among `DOWN`, `UP` (and, for servers,
/// `MAINT`, `DRAIN`, `NOLB`).
fn state(sh: &Shared, row: &Row) -> &'static str {
    match row.kind {
        // A frontend is UP while it runs (paused ones included).
        Kind::Frontend => "UP",
        Kind::Backend if row.text("status").starts_with("UP") => "UP",
        Kind::Backend => "DOWN",
        Kind::Server => server_state(sh, row.px, row.srv),
    }
}

/// A server's state: maintenance first, then DOWN, then stopping (NOLB,
/// even when drained), then DRAIN.
fn server_state(sh: &Shared, b: usize, s: usize) -> &'static str {
    let st = &sh.backends[b].servers[s];
    if st.admin.maint() {
        "MAINT"
    } else if !server_check(sh, b, s).up {
        "DOWN"
    } else if st.admin.nolb.load(std::sync::atomic::Ordering::Relaxed) {
        "NOLB"
    } else if st.admin.drain() {
        "DRAIN"
    } else {
        "UP"
    }
}

/// The last check result of a server whose checks run, without the
/// "in progress" mark.
fn check_result(sh: &Shared, b: usize, s: usize) -> Option<String> {
    let chk = server_check(sh, b, s);
    if !chk.enabled {
        return None;
    }
    Some(
        chk.status
            .as_deref()
            .unwrap_or("")
            .trim_start_matches("* ")
            .to_string(),
    )
}

fn families(sh: &Shared, scope: &str, fams: &[Fam], objs: &[Obj], out: &mut String) {
    for &(name, counter, help, src) in fams {
        let http_only = name.contains("http_") || name == "intercepted_requests_total";
        let objs: Vec<&Obj> = objs.iter().filter(|o| o.http || !http_only).collect();
        let mut lines = String::new();
        let mut line = |labels: &str, value: &str| {
            let _ = writeln!(lines, "haproxy_{scope}_{name}{{{labels}}} {value}");
        };
        match src {
            Src::Field(f) => {
                for o in &objs {
                    line(&o.labels, &field(o.row, f));
                }
            }
            Src::Secs(f) => {
                for o in &objs {
                    line(&o.labels, &seconds(o.row, f));
                }
            }
            Src::State => {
                let states: &[&str] = if scope == "server" {
                    &SERVER_STATES
                } else {
                    &SERVER_STATES[..2]
                };
                for o in &objs {
                    let now = state(sh, o.row);
                    for s in states {
                        let labels = format!("{},state=\"{s}\"", o.labels);
                        line(&labels, if now == *s { "1" } else { "0" });
                    }
                }
            }
            Src::Codes => {
                for (code, f) in CODES {
                    for o in &objs {
                        let labels = format!("{},code=\"{code}\"", o.labels);
                        line(&labels, &field(o.row, f));
                    }
                }
            }
            Src::AggServers => {
                for o in &objs {
                    let b = o.row.px;
                    let mut counts = [0u32; 5];
                    for s in 0..sh.rt.backends[b].servers.len() {
                        let st = server_state(sh, b, s);
                        if let Some(i) = SERVER_STATES.iter().position(|x| *x == st) {
                            counts[i] += 1;
                        }
                    }
                    for (i, s) in SERVER_STATES.iter().enumerate() {
                        let labels = format!("{},state=\"{s}\"", o.labels);
                        line(&labels, &counts[i].to_string());
                    }
                }
            }
            Src::AggChecks => {
                for o in &objs {
                    let b = o.row.px;
                    let mut counts = [0u32; 16];
                    for s in 0..sh.rt.backends[b].servers.len() {
                        if let Some(r) = check_result(sh, b, s) {
                            if let Some(i) = CHECK_RESULTS.iter().position(|x| *x == r) {
                                counts[i] += 1;
                            }
                        }
                    }
                    for (i, s) in CHECK_RESULTS.iter().enumerate() {
                        let labels = format!("{},state=\"{s}\"", o.labels);
                        line(&labels, &counts[i].to_string());
                    }
                }
            }
            Src::CheckStatus => {
                for o in &objs {
                    let Some(r) = check_result(sh, o.row.px, o.row.srv) else {
                        continue;
                    };
                    for s in CHECK_RESULTS {
                        let labels = format!("{},state=\"{s}\"", o.labels);
                        line(&labels, if r == s { "1" } else { "0" });
                    }
                }
            }
            Src::CheckCode => {
                for o in &objs {
                    if check_result(sh, o.row.px, o.row.srv).is_some() {
                        line(&o.labels, &o.row.num("check_code").to_string());
                    }
                }
            }
            Src::CheckDuration => {
                for o in &objs {
                    if check_result(sh, o.row.px, o.row.srv).is_some() {
                        line(&o.labels, &seconds(o.row, "check_duration"));
                    }
                }
            }
            Src::Info(_) | Src::NaN | Src::Build => {}
        }
        if !lines.is_empty() {
            header(out, scope, name, counter, help);
            out.push_str(&lines);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_as_2_6_reads_them() {
        let all = GLOBAL | FRONTEND | BACKEND | SERVER;
        let q = |u: &str| parse_query(u).map(|q| (q.scopes, q.no_maint));
        assert_eq!(q("/metrics"), Some((all, false)));
        assert_eq!(q("/metrics?scope=frontend"), Some((FRONTEND, false)));
        assert_eq!(
            q("/metrics?scope=server&scope=backend"),
            Some((SERVER | BACKEND, false))
        );
        assert_eq!(q("/metrics?scope="), Some((0, false)));
        assert_eq!(q("/metrics?scope=frontend&scope="), Some((0, false)));
        assert_eq!(q("/metrics?scope=&scope=frontend"), Some((FRONTEND, false)));
        assert_eq!(q("/metrics?scope=*"), Some((all, false)));
        assert_eq!(q("/metrics?scope=%67lobal&x=y"), Some((GLOBAL, false)));
        assert_eq!(q("/metrics?no-maint&scope=server"), Some((SERVER, true)));
        assert_eq!(q("/metrics?scope=bogus"), None);
    }

    #[test]
    fn chunks_of_whole_lines() {
        let text = "a\n".repeat(10_000);
        let body = chunked(&text);
        assert!(body.starts_with(b"4000\r\na\n"));
        assert!(body.ends_with(b"\r\n0\r\n\r\n"));
        assert_eq!(chunked(""), b"0\r\n\r\n");
    }
}
