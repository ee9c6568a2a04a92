//! The compiled runtime model: the checked AST turned into plain structures
//! the data path executes. Everything refers to everything else by index
//! (`BackendId(3)`), never by name; names are resolved once, here.
//! `Runtime` is immutable and shared with `Arc` by the workers.
mod compile;
pub mod log;

pub use compile::compile;

use cfg_parser::acl::AclExpr;
use cfg_parser::ast::{Balance, Mode, Rule, StatsSocket};
use cfg_parser::source::Span;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FrontendId(pub usize);
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BackendId(pub usize);
/// Index into the ACL table of the proxy that owns the condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AclId(pub usize);

#[derive(Debug)]
pub struct Runtime {
    /// What this build cannot run yet, found while compiling (a converter
    /// without a runtime, ...): the start-up refuses these.
    pub unrunnable: Vec<(Span, String)>,
    pub global: GlobalSettings,
    pub listeners: Vec<Listener>,
    pub frontends: Vec<Frontend>,
    pub backends: Vec<Backend>,
    /// `userlist` sections.
    pub userlists: Vec<crate::http::auth::Userlist>,
}

impl Runtime {
    /// The global process flags (`daemon`, `master-worker`).
    pub fn global_flags(&self) -> &GlobalSettings {
        &self.global
    }
    pub fn backend(&self, id: BackendId) -> &Backend {
        &self.backends[id.0]
    }
    pub fn frontend(&self, id: FrontendId) -> &Frontend {
        &self.frontends[id.0]
    }
}

#[derive(Debug, Default)]
pub struct GlobalSettings {
    pub maxconn: Option<u32>,
    /// Worker threads; `None` means one per CPU, as HAProxy 2.x.
    pub nbthread: Option<u32>,
    pub daemon: bool,
    pub master_worker: bool,
    pub pidfile: Option<String>,
    pub chroot: Option<String>,
    pub user: Option<String>,
    pub group: Option<String>,
    /// `uid` / `gid` (numeric forms of `user` / `group`).
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    /// `ulimit-n`.
    pub ulimit_n: Option<u64>,
    /// `cpu-map` lines.
    pub cpu_map: Vec<crate::cpumap::Entry>,
    pub hard_stop_after_ms: Option<u64>,
    /// `grace`: a soft stop waits this long, still serving, before it
    /// closes the listeners.
    pub grace_ms: Option<u64>,
    pub nosplice: bool,
    pub maxpipes: Option<u32>,
    /// `tune.pipesize` in bytes (0: the kernel's default).
    pub pipesize: usize,
    pub bufsize: usize,
    pub maxrewrite: usize,
    /// The global `log` lines, compiled (`log global` shares them).
    pub log_targets: crate::log::Targets,
    pub log_tag: Option<String>,
    /// `log-send-hostname [name]`: Some(None) for the machine's name.
    pub log_send_hostname: Option<Option<String>>,
    /// `spread-checks`: random jitter of check intervals, in percent.
    pub spread_checks: u32,
    /// `node` (the host name without one).
    pub node: String,
    pub stats_sockets: Vec<StatsSocket>,
    pub stats_timeout_ms: u64,
    /// `stats maxconn` (HAProxy's default 10).
    pub stats_maxconn: u32,
    /// The `maxconn` in force: the global one, else what the open files
    /// limit allows.
    pub effective_maxconn: u32,
    /// `description`.
    pub description: Option<String>,
    /// `h1-case-adjust <from> <to>`: (lower-case name, name as sent).
    pub case_map: Vec<(String, String)>,
}

/// Where a listener accepts connections.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ListenAddr {
    Inet(SocketAddr),
    Unix(PathBuf),
    /// Linux abstract namespace socket.
    Abns(String),
    /// A socket inherited from the parent, by fd number.
    Fd(i32),
}

/// One listening socket (a `bind` line with a port range gives several).
#[derive(Clone, Debug)]
pub struct Listener {
    pub addr: ListenAddr,
    pub frontend: FrontendId,
    /// The bind line's parameters as written (`accept-proxy`, `maxconn N` ...).
    pub params: Vec<String>,
    pub span: Span,
}

impl Listener {
    /// The value of parameter `name` (the word after it), if given.
    pub fn param(&self, name: &str) -> Option<&str> {
        let i = self.params.iter().position(|p| p == name)?;
        self.params.get(i + 1).map(String::as_str)
    }
    pub fn has(&self, flag: &str) -> bool {
        self.params.iter().any(|p| p == flag)
    }
}

/// `timeout` values in milliseconds, defaults applied (0 = none).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timeouts {
    pub client: u64,
    pub server: u64,
    pub connect: u64,
    pub check: u64,
    pub queue: u64,
    pub http_request: u64,
    pub http_keep_alive: u64,
    pub tunnel: u64,
    pub tarpit: u64,
    pub client_fin: u64,
    pub server_fin: u64,
}

/// A named ACL: its lines OR'ed together (HAProxy merges same-name lines).
#[derive(Clone, Debug)]
pub struct Acl {
    pub name: String,
    pub exprs: Vec<AclItem>,
}

/// One ACL line: the expression and its converters, compiled.
#[derive(Clone, Debug)]
pub struct AclItem {
    pub expr: AclExpr,
    pub convs: Vec<crate::sample::Conv>,
}

/// `if`/`unless` compiled: any alternative whose terms all hold.
#[derive(Clone, Debug)]
pub struct Cond {
    pub unless: bool,
    /// (negated, acl) terms; the outer list is OR, the inner AND.
    pub alternatives: Vec<Vec<(bool, AclId)>>,
}

/// Where a `use_backend` rule sends traffic.
#[derive(Clone, Debug)]
pub enum BackendTarget {
    Static(BackendId),
    /// A name computed per request from a log-format expression.
    Dynamic(Vec<crate::sample::Piece>),
}

#[derive(Clone, Debug)]
pub struct SwitchingRule {
    pub target: BackendTarget,
    pub cond: Option<Cond>,
}

/// `option` flags a proxy ends up with (defaults applied, `no option` honoured).
#[derive(Clone, Debug, Default)]
pub struct ProxyOptions {
    pub names: Vec<(String, Vec<String>)>,
    /// `option forwardfor`, compiled.
    pub forwardfor: Option<ForwardFor>,
    /// `option originalto`, compiled (the same shape, on the destination).
    pub originalto: Option<ForwardFor>,
}

/// `option forwardfor [except <net>] [header <name>]`.
#[derive(Clone, Debug)]
pub struct ForwardFor {
    /// Lower-cased header name.
    pub header: String,
    /// Clients in this network get no header (`except`), as an ACL on `src`
    /// (on `dst` for `originalto`).
    pub except: Option<Acl>,
    /// `if-none`: only when the request has no such header.
    pub if_none: bool,
}

impl ProxyOptions {
    pub fn has(&self, name: &str) -> bool {
        self.names.iter().any(|(n, _)| n == name)
    }
    pub fn args(&self, name: &str) -> Option<&[String]> {
        self.names
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, a)| a.as_slice())
    }
}

#[derive(Debug)]
pub struct Frontend {
    pub name: String,
    /// Its own index in `Runtime::frontends`.
    pub fid: FrontendId,
    /// HAProxy's proxy id (`iid` in stats; the first user proxy is 2).
    pub id: u32,
    pub mode: Mode,
    pub maxconn: Option<u32>,
    pub timeouts: Timeouts,
    pub options: ProxyOptions,
    pub acls: Vec<Acl>,
    pub switching: Vec<SwitchingRule>,
    pub default_backend: Option<BackendId>,
    /// Rule lines (`http-request`, `tcp-request`, ...) for the rule engine.
    pub rules: Vec<Rule>,
    /// `tcp-request` rules, compiled.
    pub tcp: crate::tcp::rules::TcpRules,
    /// `http-request` / `http-response` rules, compiled.
    pub http: crate::http::rules::HttpRules,
    pub log: log::ProxyLog,
    /// Error pages by status code (`errorfile`, `errorloc`, `http-error`...).
    pub error_pages: crate::http::reply::ErrorPages,
    /// The statistics page (`stats enable`, ...), when this proxy serves it.
    pub stats: Option<std::sync::Arc<StatsPage>>,
    /// `monitor-uri` (HTTP mode), and the `monitor fail` conditions that
    /// turn its 200 into a 503.
    pub monitor_uri: Option<String>,
    pub monitor_fail: Vec<Cond>,
    pub span: Span,
}

/// A proxy's statistics page, compiled: its conditions refer to the ACL
/// table of the proxy that owns it.
#[derive(Debug)]
pub struct StatsPage {
    /// The URI prefix that asks for the page.
    pub uri: String,
    pub realm: String,
    /// `stats auth` accounts (checked when there are no `stats
    /// http-request` rules).
    pub users: Vec<(String, String)>,
    /// `stats scope`: the proxies shown (all when empty).
    pub scope: Vec<String>,
    pub refresh: Option<u64>,
    pub hide_version: bool,
    pub show_legends: bool,
    /// The node name and description shown (`stats show-node|show-desc`).
    pub node: Option<String>,
    pub desc: Option<String>,
    /// `stats admin if|unless`: any that holds allows changes.
    pub admin: Vec<Cond>,
    /// `stats http-request` rules.
    pub rules: Vec<crate::http::rules::HttpRule>,
}

#[derive(Debug)]
pub struct Backend {
    pub name: String,
    pub id: u32,
    pub mode: Mode,
    pub balance: Balance,
    /// `balance uri` options.
    pub uri_opts: crate::balance::hash::UriOpts,
    /// `hash-type` (map-based sdbm without one). Copied into `uri_opts`
    /// and `hash_expr`, which the request hashing is given.
    pub hash_type: crate::balance::hash::HashType,
    /// `balance hash <expr>`, compiled.
    pub hash_expr: Option<crate::balance::hash::HashExpr>,
    pub timeouts: Timeouts,
    pub retries: u32,
    /// `retry-on`: what makes a request go again.
    pub retry_on: RetryOn,
    pub fullconn: Option<u32>,
    pub options: ProxyOptions,
    pub acls: Vec<Acl>,
    pub rules: Vec<Rule>,
    /// `tcp-request content` rules run once the backend is chosen.
    pub tcp: crate::tcp::rules::TcpRules,
    /// `http-request` / `http-response` rules, compiled.
    pub http: crate::http::rules::HttpRules,
    pub servers: Vec<Server>,
    /// What the servers' health checks run.
    pub check: crate::health::spec::CheckSpec,
    /// A `listen` section (messages call it a "proxy").
    pub listen: bool,
    pub cookie: Option<crate::http::cookie::CookieCfg>,
    /// `http-reuse`.
    pub reuse: crate::http::pool::Reuse,
    /// Where server state changes of this backend are logged.
    pub log_targets: crate::log::Targets,
    /// Error pages by status code (`errorfile`, `errorloc`, `http-error`...).
    pub error_pages: crate::http::reply::ErrorPages,
    pub stats: Option<std::sync::Arc<StatsPage>>,
    pub span: Span,
}

/// Where a server is reached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServerAddr {
    /// The port may be 0 (use the client's destination port) or shifted by
    /// `port_offset` (`+N`/`-N`).
    Inet {
        addr: SocketAddr,
        port_offset: Option<i32>,
    },
    Unix(PathBuf),
    Abns(String),
    /// The name did not resolve and `-dr` disabled the server.
    Unresolved(String),
}

#[derive(Debug)]
pub struct Server {
    pub name: String,
    /// Position in its backend, from 1 (`sid` in stats).
    pub id: u32,
    pub addr: ServerAddr,
    pub weight: u32,
    pub maxconn: Option<u32>,
    pub maxqueue: Option<u32>,
    pub minconn: Option<u32>,
    pub backup: bool,
    pub disabled: bool,
    pub check: bool,
    pub check_port: Option<u16>,
    pub check_addr: Option<String>,
    /// `addr` parsed.
    pub check_ip: Option<std::net::IpAddr>,
    /// `check-send-proxy`.
    pub check_send_proxy: bool,
    /// `track`: the server whose state this one follows.
    pub track: Option<(BackendId, usize)>,
    /// `observe layer4|layer7`, `error-limit`, `on-error`.
    pub observe: Option<crate::health::Observe>,
    pub error_limit: u32,
    pub on_error: crate::health::OnError,
    pub inter_ms: u64,
    pub fastinter_ms: u64,
    pub downinter_ms: u64,
    pub rise: u32,
    pub fall: u32,
    pub slowstart_ms: u64,
    pub send_proxy: bool,
    pub send_proxy_v2: bool,
    pub cookie: Option<String>,
    pub agent_check: bool,
    pub agent_port: Option<u16>,
    pub agent_inter_ms: u64,
    /// `agent-send` (bytes) and `agent-addr`.
    pub agent_send: Vec<u8>,
    pub agent_ip: Option<std::net::IpAddr>,
    pub on_marked_down: Option<String>,
    pub on_marked_up: Option<String>,
    pub source: Option<String>,
    /// `source <addr>[:<port>]`: the local address connections leave from.
    pub source_addr: Option<SocketAddr>,
    pub span: Span,
}

/// `retry-on`: the failures after which a request is sent again (up to
/// `retries` times). Requests with a body are never replayed: they stream
/// through and are not kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryOn {
    pub conn_failure: bool,
    pub empty_response: bool,
    pub junk_response: bool,
    pub response_timeout: bool,
    pub statuses: Vec<u16>,
}

impl RetryOn {
    /// From the words after `retry-on`; HAProxy's default is `conn-failure`.
    pub fn from_words(words: Option<&[String]>) -> RetryOn {
        let mut r = RetryOn {
            conn_failure: words.is_none(),
            empty_response: false,
            junk_response: false,
            response_timeout: false,
            statuses: Vec::new(),
        };
        for w in words.unwrap_or_default() {
            match w.as_str() {
                "conn-failure" => r.conn_failure = true,
                "empty-response" => r.empty_response = true,
                "junk-response" => r.junk_response = true,
                "response-timeout" => r.response_timeout = true,
                "all-retryable-errors" => {
                    r.conn_failure = true;
                    r.empty_response = true;
                    r.junk_response = true;
                    r.response_timeout = true;
                    r.statuses.extend([500, 502, 503, 504]);
                }
                code => r.statuses.extend(code.parse::<u16>()),
            }
        }
        r
    }
}
