//! The configuration as written: sections, directives and typed settings,
//! every node with its Span. Defaults are already copied into proxies (as
//! HAProxy does when a proxy section starts); names are not resolved yet.
use crate::acl::AclExpr;
use crate::addr::Address;
use crate::lexer::Word;
use crate::source::Span;
use std::collections::BTreeMap;

/// One config line after lexing: its words and where it is.
#[derive(Clone, Debug)]
pub struct Directive {
    pub words: Vec<Word>,
    pub span: Span,
}

impl Directive {
    pub fn word(&self, i: usize) -> &str {
        self.words.get(i).map(|w| w.text.as_str()).unwrap_or("")
    }
    pub fn len(&self) -> usize {
        self.words.len()
    }
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }
    /// The words from `i` on, as strings.
    pub fn rest(&self, i: usize) -> impl Iterator<Item = &str> {
        self.words.iter().skip(i).map(|w| w.text.as_str())
    }
}

#[derive(Clone, Debug, Default)]
pub struct Config {
    pub global: Global,
    /// `defaults` sections in file order (named or anonymous).
    pub defaults: Vec<Proxy>,
    /// `frontend`, `backend` and `listen` sections in file order.
    pub proxies: Vec<Proxy>,
    pub userlists: Vec<Userlist>,
    pub http_errors: Vec<HttpErrors>,
    /// Sections this build only records (their use is refused elsewhere).
    pub other_sections: Vec<OtherSection>,
}

/// `global`: several sections merge into one.
#[derive(Clone, Debug, Default)]
pub struct Global {
    pub maxconn: Option<u32>,
    pub nbthread: Option<u32>,
    pub daemon: bool,
    pub master_worker: bool,
    pub pidfile: Option<String>,
    pub user: Option<String>,
    pub group: Option<String>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub chroot: Option<String>,
    pub hard_stop_after: Option<u64>,
    /// `grace`: how long a soft-stopping process keeps serving (ms).
    pub grace: Option<u64>,
    pub zero_warning: bool,
    pub nosplice: bool,
    pub maxpipes: Option<u32>,
    pub logs: Vec<LogTarget>,
    pub log_tag: Option<String>,
    pub stats_sockets: Vec<StatsSocket>,
    pub stats_timeout: Option<u64>,
    pub stats_maxconn: Option<u32>,
    pub tune: BTreeMap<String, (String, Span)>,
    /// Keywords of the section as written, for settings without a field yet.
    pub directives: Vec<Directive>,
    /// Where each once-only keyword was first set.
    pub seen: BTreeMap<&'static str, Span>,
}

#[derive(Clone, Debug)]
pub struct StatsSocket {
    pub addr: Address,
    pub params: Vec<String>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum LogTarget {
    /// `log global`
    Global(Span),
    /// `log <addr> [len N] [format F] [sample R:S] <facility> [level [minlevel]]`
    Target {
        addr: String,
        words: Vec<String>,
        span: Span,
    },
}

/// Where a traffic log line's format comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Custom(String),
    /// `option httplog`
    Http,
    /// `option httplog clf`
    HttpClf,
    /// `option tcplog`
    Tcp,
}

/// `capture request|response header <name> len <n>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Capture {
    pub response: bool,
    /// Lower-cased.
    pub name: String,
    pub len: usize,
    /// Where it was declared: slots are numbered in declaration order.
    pub line: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProxyKind {
    Defaults,
    Frontend,
    Backend,
    Listen,
}

impl ProxyKind {
    /// The word HAProxy uses in messages ("proxy" for listen).
    pub fn label(self) -> &'static str {
        match self {
            ProxyKind::Defaults => "defaults",
            ProxyKind::Frontend => "frontend",
            ProxyKind::Backend => "backend",
            ProxyKind::Listen => "proxy",
        }
    }
    pub fn section(self) -> &'static str {
        match self {
            ProxyKind::Defaults => "defaults",
            ProxyKind::Frontend => "frontend",
            ProxyKind::Backend => "backend",
            ProxyKind::Listen => "listen",
        }
    }
    pub fn has_frontend(self) -> bool {
        matches!(
            self,
            ProxyKind::Frontend | ProxyKind::Listen | ProxyKind::Defaults
        )
    }
    pub fn has_backend(self) -> bool {
        matches!(
            self,
            ProxyKind::Backend | ProxyKind::Listen | ProxyKind::Defaults
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Tcp,
    Http,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Balance {
    RoundRobin,
    StaticRr,
    LeastConn,
    First,
    Source,
    Random {
        draws: u32,
    },
    Uri {
        args: Vec<String>,
    },
    UrlParam {
        param: String,
        check_post: Option<u32>,
    },
    Hdr {
        name: String,
        use_domain_only: bool,
    },
    RdpCookie {
        name: String,
    },
    Hash {
        expr: String,
    },
}

/// `timeout` values in milliseconds.
#[derive(Clone, Debug, Default)]
pub struct Timeouts {
    pub client: Option<u64>,
    pub server: Option<u64>,
    pub connect: Option<u64>,
    pub check: Option<u64>,
    pub queue: Option<u64>,
    pub http_keep_alive: Option<u64>,
    pub http_request: Option<u64>,
    pub tunnel: Option<u64>,
    pub tarpit: Option<u64>,
    pub client_fin: Option<u64>,
    pub server_fin: Option<u64>,
}

/// `option <name> [args]` or `no option <name>`.
#[derive(Clone, Debug)]
pub struct ProxyOption {
    pub enabled: bool,
    pub args: Vec<String>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Acl {
    pub name: String,
    /// The criterion and patterns as written.
    pub words: Vec<String>,
    pub expr: AclExpr,
    pub span: Span,
}

/// `if`/`unless` followed by ACL terms.
#[derive(Clone, Debug, Default)]
pub struct Condition {
    /// `unless`
    pub negate: bool,
    /// The terms as written.
    pub words: Vec<String>,
    /// Compiled: alternatives (`or`) of conjunctions of terms.
    pub terms: Vec<Vec<CondTerm>>,
}

#[derive(Clone, Debug)]
pub struct CondTerm {
    pub negate: bool,
    pub acl: AclRef,
}

/// A named ACL (the proxy's lines of that name, or a predefined one), or an
/// anonymous `{ ... }` one.
#[derive(Clone, Debug)]
pub enum AclRef {
    Named(String),
    Anonymous(Box<AclExpr>),
}

#[derive(Clone, Debug)]
pub struct UseBackend {
    pub backend: String,
    pub cond: Option<Condition>,
    pub span: Span,
}

/// A rule line (`http-request ...`, `tcp-request ...`, `redirect ...`...)
/// as written; the rule engine compiles it.
#[derive(Clone, Debug)]
pub struct Rule {
    pub keyword: String,
    pub words: Vec<String>,
    pub cond: Option<Condition>,
    pub span: Span,
    /// Set when the rule was translated from a removed 1.5 keyword.
    pub translated_from: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Bind {
    pub addrs: Vec<Address>,
    pub params: Vec<String>,
    pub span: Span,
}

/// Server parameters (also those of `default-server`).
#[derive(Clone, Debug, Default)]
pub struct ServerParams {
    pub check: Option<bool>,
    pub backup: Option<bool>,
    pub disabled: Option<bool>,
    pub weight: Option<u32>,
    pub maxconn: Option<u32>,
    pub maxqueue: Option<u32>,
    pub minconn: Option<u32>,
    pub inter: Option<u64>,
    pub fastinter: Option<u64>,
    pub downinter: Option<u64>,
    pub rise: Option<u32>,
    pub fall: Option<u32>,
    pub port: Option<u16>,
    pub addr: Option<String>,
    pub slowstart: Option<u64>,
    pub send_proxy: Option<bool>,
    pub send_proxy_v2: Option<bool>,
    pub cookie: Option<String>,
    pub init_addr: Option<String>,
    pub on_marked_down: Option<String>,
    pub on_marked_up: Option<String>,
    pub on_error: Option<String>,
    pub agent_check: Option<bool>,
    pub agent_port: Option<u16>,
    pub agent_inter: Option<u64>,
    pub source: Option<String>,
    /// Every parameter as written, for the ones without a field yet.
    pub raw: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct Server {
    pub name: String,
    pub addr: Address,
    /// The address as written (for messages and late resolution).
    pub addr_text: String,
    pub params: ServerParams,
    pub span: Span,
}

/// A `defaults`, `frontend`, `backend` or `listen` section.
#[derive(Clone, Debug)]
pub struct Proxy {
    pub kind: ProxyKind,
    pub name: String,
    pub span: Span,
    /// The defaults section this proxy inherited from (its span), if any.
    pub defaults_from: Option<Span>,
    pub mode: Option<Mode>,
    pub maxconn: Option<u32>,
    pub fullconn: Option<u32>,
    pub retries: Option<u32>,
    pub balance: Option<Balance>,
    pub hash_type: Option<Vec<String>>,
    pub timeouts: Timeouts,
    pub options: BTreeMap<String, ProxyOption>,
    pub logs: Vec<LogTarget>,
    pub no_log: bool,
    /// The traffic log line's format: the last of `log-format`, `option
    /// httplog [clf]` and `option tcplog`, with where it was set.
    pub log_format: Option<(LogFormat, Span)>,
    pub log_format_sd: Option<String>,
    pub error_log_format: Option<(String, Span)>,
    pub unique_id_format: Option<(String, Span)>,
    pub unique_id_header: Option<String>,
    /// `capture request|response header <name> len <n>`, in order.
    pub captures: Vec<Capture>,
    /// `capture cookie <name> len <n>`.
    pub capture_cookie: Option<(String, usize)>,
    pub default_server: ServerParams,
    pub binds: Vec<Bind>,
    pub servers: Vec<Server>,
    pub acls: Vec<Acl>,
    pub use_backends: Vec<UseBackend>,
    pub default_backend: Option<(String, Span)>,
    pub rules: Vec<Rule>,
    pub errorfiles: Vec<(u16, String, Span)>,
    /// The error page lines (`errorfile`, `errorfiles`, `errorloc`,
    /// `errorloc302`, `errorloc303`, `http-error`) as written, in order,
    /// the inherited defaults' first: a later line for a status code
    /// replaces an earlier one.
    pub error_lines: Vec<(Vec<String>, Span)>,
    /// `cookie <name> [options]`: the words after `cookie`.
    pub cookie: Option<Vec<String>>,
    /// `http-reuse never|safe|aggressive|always`.
    pub http_reuse: Option<String>,
    /// `retry-on <keywords>` as written (inherited from defaults).
    pub retry_on: Option<Vec<String>>,
    /// `id <n>`: the custom proxy id.
    pub custom_id: Option<u32>,
    /// Every line of the section, as written.
    pub directives: Vec<Directive>,
    pub disabled: bool,
    /// The statistics page settings (`stats ...` lines): the defaults
    /// section's until the proxy has `stats` lines of its own.
    pub stats: Option<StatsPage>,
    /// `monitor-uri` (inherited from defaults).
    pub monitor_uri: Option<String>,
    /// `monitor fail` conditions, any of which fails the monitor URI.
    pub monitor_fail: Vec<(Condition, Span)>,
}

/// `stats enable|uri|realm|auth|scope|refresh|admin|http-request|...` of
/// one proxy (or of a defaults section, shared by the proxies that do not
/// set their own, as in 2.6).
#[derive(Clone, Debug)]
pub struct StatsPage {
    /// `stats uri` (2.6's default `/haproxy?stats`).
    pub uri: String,
    /// `stats realm`, backslashes removed.
    pub realm: Option<String>,
    /// `stats auth user:password`, in order.
    pub auth: Vec<(String, String)>,
    /// `stats scope`: the proxies shown (`.` replaced by the proxy's name).
    pub scope: Vec<String>,
    /// `stats refresh`, in seconds.
    pub refresh: Option<u64>,
    pub hide_version: bool,
    pub show_legends: bool,
    pub show_modules: bool,
    /// `stats show-node [name]`: Some(None) for the global node name.
    pub show_node: Option<Option<String>>,
    /// `stats show-desc [text]`: Some(None) for the global description.
    pub show_desc: Option<Option<String>>,
    /// `stats admin if|unless <cond>`, in order.
    pub admin: Vec<Condition>,
    /// `stats http-request <action> [if|unless <cond>]` (keyword `http-request`).
    pub rules: Vec<Rule>,
    /// The line that created these settings.
    pub span: Span,
    /// Settings inherited from a defaults section (a proxy's own `stats`
    /// line starts anew).
    pub inherited: bool,
}

impl StatsPage {
    pub fn new(span: Span) -> StatsPage {
        StatsPage {
            uri: "/haproxy?stats".into(),
            realm: None,
            auth: Vec::new(),
            scope: Vec::new(),
            refresh: None,
            hide_version: false,
            show_legends: false,
            show_modules: false,
            show_node: None,
            show_desc: None,
            admin: Vec::new(),
            rules: Vec::new(),
            span,
            inherited: false,
        }
    }
}

impl Proxy {
    pub fn new(kind: ProxyKind, name: String, span: Span) -> Proxy {
        Proxy {
            kind,
            name,
            span,
            defaults_from: None,
            mode: None,
            maxconn: None,
            fullconn: None,
            retries: None,
            balance: None,
            hash_type: None,
            timeouts: Timeouts::default(),
            options: BTreeMap::new(),
            logs: Vec::new(),
            no_log: false,
            log_format: None,
            log_format_sd: None,
            error_log_format: None,
            unique_id_format: None,
            unique_id_header: None,
            captures: Vec::new(),
            capture_cookie: None,
            default_server: ServerParams::default(),
            binds: Vec::new(),
            servers: Vec::new(),
            acls: Vec::new(),
            use_backends: Vec::new(),
            default_backend: None,
            rules: Vec::new(),
            errorfiles: Vec::new(),
            error_lines: Vec::new(),
            cookie: None,
            http_reuse: None,
            retry_on: None,
            custom_id: None,
            directives: Vec::new(),
            disabled: false,
            stats: None,
            monitor_uri: None,
            monitor_fail: Vec::new(),
        }
    }

    /// A new proxy that starts from `defaults`' inheritable settings.
    pub fn inherit(kind: ProxyKind, name: String, span: Span, defaults: &Proxy) -> Proxy {
        let mut p = defaults.clone();
        p.kind = kind;
        p.name = name;
        p.span = span;
        p.defaults_from = Some(defaults.span.clone());
        p.binds.clear();
        p.servers.clear();
        p.acls.clear();
        p.use_backends.clear();
        p.rules.clear();
        p.directives.clear();
        p.monitor_fail.clear();
        if let Some(s) = &mut p.stats {
            s.inherited = true;
        }
        p
    }

    /// Whether `option <name>` is on (after defaults and `no option`).
    pub fn option(&self, name: &str) -> bool {
        self.options.get(name).is_some_and(|o| o.enabled)
    }

    pub fn effective_mode(&self) -> Mode {
        self.mode.unwrap_or(Mode::Tcp)
    }
}

#[derive(Clone, Debug)]
pub struct Userlist {
    pub name: String,
    pub span: Span,
    pub groups: Vec<(String, Vec<String>, Span)>,
    pub users: Vec<User>,
}

#[derive(Clone, Debug)]
pub struct User {
    pub name: String,
    pub password: String,
    pub insecure: bool,
    pub groups: Vec<String>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct HttpErrors {
    pub name: String,
    pub span: Span,
    pub errorfiles: Vec<(u16, String, Span)>,
}

#[derive(Clone, Debug)]
pub struct OtherSection {
    pub kind: String,
    pub name: String,
    pub span: Span,
    pub directives: Vec<Directive>,
}
