//! The statistics fields, as 2.6 names, orders and tags them, and the rows
//! they make: one per frontend, server and backend, in the order of the
//! configuration. CSV (`show stat`, `<uri>;csv`), typed and JSON forms.
use super::check::{server_check, CheckView};
use super::counters::{now_ms, Counters, C, M};
use crate::worker::Shared;
use cfg_parser::ast::{Balance, Mode};
use std::fmt::Write as _;
use std::sync::atomic::Ordering;

/// A field's value type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum T {
    Str,
    U32,
    U64,
    S32,
}

impl T {
    fn name(self) -> &'static str {
        match self {
            T::Str => "str",
            T::U32 => "u32",
            T::U64 => "u64",
            T::S32 => "s32",
        }
    }
}

/// One column: its name, its tags (origin, nature, scope) and type.
pub struct Field {
    pub name: &'static str,
    pub tags: &'static str,
    pub ty: T,
}

const fn f(name: &'static str, tags: &'static str, ty: T) -> Field {
    Field { name, tags, ty }
}

/// The fields of 2.6, in order; the CSV puts a `-` column (the start of the
/// module fields) before `ssl_sess`.
pub static FIELDS: &[Field] = &[
    f("pxname", "KNS", T::Str),
    f("svname", "KNS", T::Str),
    f("qcur", "MGP", T::U32),
    f("qmax", "MMP", T::U32),
    f("scur", "MGP", T::U32),
    f("smax", "MMP", T::U32),
    f("slim", "CLP", T::U32),
    f("stot", "MCP", T::U64),
    f("bin", "MCP", T::U64),
    f("bout", "MCP", T::U64),
    f("dreq", "MCP", T::U64),
    f("dresp", "MCP", T::U64),
    f("ereq", "MCP", T::U64),
    f("econ", "MCP", T::U64),
    f("eresp", "MCP", T::U64),
    f("wretr", "MCP", T::U64),
    f("wredis", "MCP", T::U64),
    f("status", "SGP", T::Str),
    f("weight", "MaP", T::U32),
    f("act", "SGP", T::U32),
    f("bck", "SGP", T::U32),
    f("chkfail", "MCP", T::U64),
    f("chkdown", "MCP", T::U64),
    f("lastchg", "MAP", T::U32),
    f("downtime", "MCP", T::U32),
    f("qlimit", "CGS", T::U32),
    f("pid", "KGP", T::U32),
    f("iid", "KGS", T::U32),
    f("sid", "KGS", T::U32),
    f("throttle", "MaP", T::U32),
    f("lbtot", "MCP", T::U64),
    f("tracked", "CNS", T::Str),
    f("type", "CGS", T::U32),
    f("rate", "MRP", T::U32),
    f("rate_lim", "CLP", T::U32),
    f("rate_max", "MMP", T::U32),
    f("check_status", "MOP", T::Str),
    f("check_code", "MOP", T::U32),
    f("check_duration", "MDP", T::U64),
    f("hrsp_1xx", "MCP", T::U64),
    f("hrsp_2xx", "MCP", T::U64),
    f("hrsp_3xx", "MCP", T::U64),
    f("hrsp_4xx", "MCP", T::U64),
    f("hrsp_5xx", "MCP", T::U64),
    f("hrsp_other", "MCP", T::U64),
    f("hanafail", "MCP", T::U64),
    f("req_rate", "MRP", T::U32),
    f("req_rate_max", "MMP", T::U32),
    f("req_tot", "MCP", T::U64),
    f("cli_abrt", "MCP", T::U64),
    f("srv_abrt", "MCP", T::U64),
    f("comp_in", "MCP", T::U64),
    f("comp_out", "MCP", T::U64),
    f("comp_byp", "MCP", T::U64),
    f("comp_rsp", "MCP", T::U64),
    f("lastsess", "MAP", T::S32),
    f("last_chk", "MOP", T::Str),
    f("last_agt", "MOP", T::Str),
    f("qtime", "MaP", T::U32),
    f("ctime", "MaP", T::U32),
    f("rtime", "MaP", T::U32),
    f("ttime", "MaP", T::U32),
    f("agent_status", "MOP", T::Str),
    f("agent_code", "MOP", T::U32),
    f("agent_duration", "MDP", T::U64),
    f("check_desc", "MOP", T::Str),
    f("agent_desc", "MOP", T::Str),
    f("check_rise", "CGS", T::U32),
    f("check_fall", "CGS", T::U32),
    f("check_health", "CGS", T::U32),
    f("agent_rise", "CGS", T::U32),
    f("agent_fall", "CGS", T::U32),
    f("agent_health", "CGS", T::U32),
    f("addr", "CGS", T::Str),
    f("cookie", "CNS", T::Str),
    f("mode", "CGS", T::Str),
    f("algo", "CGS", T::Str),
    f("conn_rate", "MRP", T::U32),
    f("conn_rate_max", "MMP", T::U32),
    f("conn_tot", "MCP", T::U64),
    f("intercepted", "MCP", T::U64),
    f("dcon", "MCP", T::U64),
    f("dses", "MCP", T::U64),
    f("wrew", "MCP", T::U64),
    f("connect", "MCP", T::U64),
    f("reuse", "MCP", T::U64),
    f("cache_lookups", "MCP", T::U64),
    f("cache_hits", "MCP", T::U64),
    f("srv_icur", "MGP", T::U32),
    f("src_ilim", "CLP", T::U32),
    f("qtime_max", "MMP", T::U32),
    f("ctime_max", "MMP", T::U32),
    f("rtime_max", "MMP", T::U32),
    f("ttime_max", "MMP", T::U32),
    f("eint", "MCP", T::U64),
    f("idle_conn_cur", "MGP", T::U32),
    f("safe_conn_cur", "MGP", T::U32),
    f("used_conn_cur", "MGP", T::U32),
    f("need_conn_est", "MGP", T::U32),
    f("uweight", "MaP", T::U32),
    f("agg_server_status", "MGP", T::U32),
    f("agg_server_check_status", "MGP", T::U32),
    f("agg_check_status", "MGP", T::U32),
    f("ssl_sess", "MCP", T::U64),
    f("ssl_reused_sess", "MCP", T::U64),
    f("ssl_failed_handshake", "MCP", T::U64),
    f("h2_headers_rcvd", "MCP", T::U64),
    f("h2_data_rcvd", "MCP", T::U64),
    f("h2_settings_rcvd", "MCP", T::U64),
    f("h2_rst_stream_rcvd", "MCP", T::U64),
    f("h2_goaway_rcvd", "MCP", T::U64),
    f("h2_detected_conn_protocol_errors", "MCP", T::U64),
    f("h2_detected_strm_protocol_errors", "MCP", T::U64),
    f("h2_rst_stream_resp", "MCP", T::U64),
    f("h2_goaway_resp", "MCP", T::U64),
    f("h2_open_connections", "MGP", T::U64),
    f("h2_backend_open_streams", "MGP", T::U64),
    f("h2_total_connections", "MCP", T::U64),
    f("h2_backend_total_streams", "MCP", T::U64),
    f("h1_open_connections", "MGP", T::U64),
    f("h1_open_streams", "MGP", T::U64),
    f("h1_total_connections", "MCP", T::U64),
    f("h1_total_streams", "MCP", T::U64),
    f("h1_bytes_in", "MCP", T::U64),
    f("h1_bytes_out", "MCP", T::U64),
    f("h1_spliced_bytes_in", "MCP", T::U64),
    f("h1_spliced_bytes_out", "MCP", T::U64),
];

/// Position of `ssl_sess`, the first field of the modules.
pub const MODULES_AT: usize = 103;

/// What a row describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Frontend,
    Backend,
    Server,
}

impl Kind {
    fn letter(self) -> char {
        match self {
            Kind::Frontend => 'F',
            Kind::Backend => 'B',
            Kind::Server => 'S',
        }
    }
    fn json(self) -> &'static str {
        match self {
            Kind::Frontend => "Frontend",
            Kind::Backend => "Backend",
            Kind::Server => "Server",
        }
    }
}

/// A field's value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum V {
    Str(String),
    U32(u32),
    U64(u64),
    S32(i32),
}

impl std::fmt::Display for V {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            V::Str(s) => f.write_str(s),
            V::U32(n) => write!(f, "{n}"),
            V::U64(n) => write!(f, "{n}"),
            V::S32(n) => write!(f, "{n}"),
        }
    }
}

/// One row: what it is, its proxy and server ids, its values by position.
#[derive(Clone, Debug)]
pub struct Row {
    pub kind: Kind,
    pub iid: u32,
    pub sid: u32,
    pub values: Vec<Option<V>>,
    /// Indexes in the runtime: the frontend or backend, and the server.
    pub px: usize,
    pub srv: usize,
}

impl Row {
    fn new(kind: Kind, iid: u32, sid: u32, px: usize, srv: usize) -> Row {
        Row {
            kind,
            iid,
            sid,
            values: vec![None; FIELDS.len()],
            px,
            srv,
        }
    }
    fn set(&mut self, name: &str, v: V) {
        if let Some(i) = FIELDS.iter().position(|f| f.name == name) {
            self.values[i] = Some(v);
        }
    }
    fn u32(&mut self, name: &str, v: u64) {
        self.set(name, V::U32(v.min(u64::from(u32::MAX)) as u32));
    }
    fn u64(&mut self, name: &str, v: u64) {
        self.set(name, V::U64(v));
    }
    fn str(&mut self, name: &str, v: impl Into<String>) {
        self.set(name, V::Str(v.into()));
    }
    /// The value of a field, by name.
    pub fn get(&self, name: &str) -> Option<&V> {
        let i = FIELDS.iter().position(|f| f.name == name)?;
        self.values[i].as_ref()
    }
    /// A numeric field (0 when empty).
    pub fn num(&self, name: &str) -> u64 {
        match self.get(name) {
            Some(V::U32(n)) => u64::from(*n),
            Some(V::U64(n)) => *n,
            Some(V::S32(n)) => (*n).max(0) as u64,
            _ => 0,
        }
    }
    pub fn text(&self, name: &str) -> String {
        self.get(name).map(|v| v.to_string()).unwrap_or_default()
    }
    /// The tags of field `i` in this row (a backend's act, bck, rate and
    /// rate_max are gauges).
    fn tags(&self, i: usize) -> &'static str {
        let f = &FIELDS[i];
        if self.kind == Kind::Backend && matches!(f.name, "act" | "bck" | "rate" | "rate_max") {
            return "MGP";
        }
        f.tags
    }
}

/// Which rows a report holds.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Only this proxy id.
    pub iid: Option<u32>,
    /// Bit mask of object types (1 frontend, 2 backend, 4 server); None all.
    pub types: Option<u32>,
    /// Only this server id (server rows).
    pub sid: Option<u32>,
    /// Hide servers that are not UP (`up`), or in maintenance (`no-maint`).
    pub hide_down: bool,
    pub hide_maint: bool,
    /// Only these proxies (`stats scope`), by name.
    pub scope: Option<Vec<String>>,
    /// Addresses, cookies and algorithms are shown (the socket always, the
    /// page with `stats show-legends`).
    pub legends: bool,
}

/// The CSV header line (with its leading `# ` and trailing comma).
pub fn csv_header() -> String {
    let mut out = String::from("# ");
    for (i, f) in FIELDS.iter().enumerate() {
        if i == MODULES_AT {
            out.push_str("-,");
        }
        out.push_str(f.name);
        out.push(',');
    }
    out.push('\n');
    out
}

/// One row as a CSV line.
pub fn csv_row(r: &Row, out: &mut String) {
    for (i, v) in r.values.iter().enumerate() {
        if i == MODULES_AT {
            out.push_str("-,");
        }
        if let Some(v) = v {
            let _ = write!(out, "{v}");
        }
        out.push(',');
    }
    out.push('\n');
}

/// The whole CSV report.
pub fn csv(rows: &[Row]) -> String {
    let mut out = csv_header();
    for r in rows {
        csv_row(r, &mut out);
    }
    out
}

/// The typed form: one `K.iid.sid.pos.name.1:tags:type:value` line per
/// field that has a value.
pub fn typed(rows: &[Row]) -> String {
    let mut out = String::new();
    for r in rows {
        for (i, v) in r.values.iter().enumerate() {
            let Some(v) = v else { continue };
            let f = &FIELDS[i];
            let _ = writeln!(
                out,
                "{}.{}.{}.{}.{}.1:{}:{}:{}",
                r.kind.letter(),
                r.iid,
                r.sid,
                i,
                f.name,
                r.tags(i),
                f.ty.name(),
                v
            );
        }
    }
    out
}

/// Tag letters as the JSON forms spell them.
pub fn json_tags(tags: &str) -> String {
    let b = tags.as_bytes();
    let origin = match b.first() {
        Some(b'M') => "Metric",
        Some(b'S') => "Status",
        Some(b'K') => "Key",
        Some(b'C') => "Config",
        Some(b'P') => "Product",
        _ => "Unknown",
    };
    let nature = match b.get(1) {
        Some(b'G') => "Gauge",
        Some(b'L') => "Limit",
        Some(b'M') => "Max",
        Some(b'R') => "Rate",
        Some(b'C') => "Counter",
        Some(b'D') => "Duration",
        Some(b'A') => "Age",
        Some(b'T') => "Time",
        Some(b'N') => "Name",
        Some(b'O') => "Output",
        Some(b'a') => "Avg",
        _ => "Unknown",
    };
    let scope = match b.get(2) {
        Some(b'P') => "Process",
        Some(b'S') => "Service",
        Some(b's') => "System",
        _ => "Unknown",
    };
    format!("\"tags\":{{\"origin\":\"{origin}\",\"nature\":\"{nature}\",\"scope\":\"{scope}\"}}")
}

/// A value as JSON: `{"type":"u32","value":0}`.
pub fn json_value(ty: T, v: &V) -> String {
    match v {
        V::Str(s) => format!(
            "{{\"type\":\"{}\",\"value\":\"{}\"}}",
            ty.name(),
            json_escape(s)
        ),
        other => format!("{{\"type\":\"{}\",\"value\":{other}}}", ty.name()),
    }
}

pub fn json_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// The JSON form: an array of rows, each an array of fields.
pub fn json(rows: &[Row]) -> String {
    let mut out = String::from("[");
    for (n, r) in rows.iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        out.push('[');
        let mut first = true;
        for (i, v) in r.values.iter().enumerate() {
            let Some(v) = v else { continue };
            if !first {
                out.push(',');
            }
            first = false;
            let f = &FIELDS[i];
            let _ = write!(
                out,
                "{{\"objType\":\"{}\",\"proxyId\":{},\"id\":{},\"field\":{{\"pos\":{},\"name\":\"{}\"}},\"processNum\":1,{},\"value\":{}}}",
                r.kind.json(),
                r.iid,
                r.sid,
                i,
                f.name,
                json_tags(r.tags(i)),
                json_value(f.ty, v)
            );
        }
        out.push(']');
    }
    out.push_str("]\n");
    out
}

/// Seconds between `then` and now (`now_ms` values).
fn secs_since(now: u64, then: u64) -> u64 {
    now.saturating_sub(then) / 1000
}

/// A server's status word, as the CSV and the page show it.
pub fn server_status(sh: &Shared, be: usize, srv: usize, chk: &CheckView) -> String {
    let st = &sh.backends[be].servers[srv];
    if st.admin.maint() {
        return "MAINT".into();
    }
    let drain = st.admin.drain();
    let nolb = st.admin.nolb.load(Ordering::Relaxed);
    if !chk.enabled {
        // A stopping server (`health stopping`) is NOLB even when drained.
        return if !chk.up {
            "DOWN"
        } else if nolb {
            "NOLB"
        } else if drain {
            "DRAIN"
        } else {
            "no check"
        }
        .into();
    }
    let (rise, fall, h) = (chk.rise, chk.fall, chk.health);
    if !chk.up {
        return if h == 0 {
            "DOWN".into()
        } else {
            format!("DOWN {h}/{rise}")
        };
    }
    let word = if nolb {
        "NOLB"
    } else if drain {
        "DRAIN"
    } else {
        "UP"
    };
    let top = rise + fall - 1;
    if h < top {
        format!("{word} {}/{fall}", h + 1 - rise)
    } else {
        word.into()
    }
}

/// The rows of the report, in configuration order.
pub fn rows(sh: &Shared, filter: &Filter) -> Vec<Row> {
    let now = now_ms();
    let rt = &sh.rt;
    let mut proxies: Vec<(u32, Option<usize>, Option<usize>)> = Vec::new();
    for (i, f) in rt.frontends.iter().enumerate() {
        proxies.push((f.id, Some(i), None));
    }
    for (i, b) in rt.backends.iter().enumerate() {
        match proxies.iter_mut().find(|p| p.0 == b.id) {
            Some(p) => p.2 = Some(i),
            None => proxies.push((b.id, None, Some(i))),
        }
    }
    proxies.sort_by_key(|p| p.0);
    let wants = |bit: u32| filter.types.is_none_or(|t| t & bit != 0);
    let mut out = Vec::new();
    for (iid, fe, be) in proxies {
        if filter.iid.is_some_and(|i| i != iid) {
            continue;
        }
        let name = fe
            .map(|i| rt.frontends[i].name.as_str())
            .or(be.map(|i| rt.backends[i].name.as_str()))
            .unwrap_or("");
        if filter
            .scope
            .as_ref()
            .is_some_and(|s| !s.iter().any(|n| n == name))
        {
            continue;
        }
        if let Some(i) = fe.filter(|_| wants(1)) {
            out.push(frontend_row(sh, i, now));
        }
        if let Some(b) = be {
            if wants(4) {
                for s in 0..rt.backends[b].servers.len() {
                    let sid = rt.backends[b].servers[s].id;
                    if filter.sid.is_some_and(|x| x != sid) {
                        continue;
                    }
                    let row = server_row(sh, b, s, now, filter.legends);
                    let st = &sh.backends[b].servers[s];
                    if filter.hide_maint && st.admin.maint() {
                        continue;
                    }
                    if filter.hide_down && !st.usable() {
                        continue;
                    }
                    out.push(row);
                }
            }
            if wants(2) {
                out.push(backend_row(
                    sh,
                    b,
                    now,
                    filter.hide_down || filter.hide_maint,
                    filter.legends,
                ));
            }
        }
    }
    out
}

fn mode_name(m: Mode) -> &'static str {
    match m {
        Mode::Http => "http",
        Mode::Tcp => "tcp",
    }
}

/// The status classes, request total and rates of an HTTP row.
fn http_counts(r: &mut Row, c: &Counters) {
    for (name, k) in [
        ("hrsp_1xx", C::Hrsp1xx),
        ("hrsp_2xx", C::Hrsp2xx),
        ("hrsp_3xx", C::Hrsp3xx),
        ("hrsp_4xx", C::Hrsp4xx),
        ("hrsp_5xx", C::Hrsp5xx),
        ("hrsp_other", C::HrspOther),
    ] {
        r.u64(name, c.get(k));
    }
}

/// The module fields (SSL, HTTP/2, HTTP/1) of frontends and backends.
fn modules(r: &mut Row, c: &Counters, open_conns: u64, open_streams: u64) {
    for name in ["ssl_sess", "ssl_reused_sess", "ssl_failed_handshake"] {
        r.u64(name, 0);
    }
    for f in &FIELDS[MODULES_AT + 3..] {
        if f.name.starts_with("h2_") {
            r.u64(f.name, 0);
        }
    }
    r.u64("h1_open_connections", open_conns);
    r.u64("h1_open_streams", open_streams);
    r.u64("h1_total_connections", c.get(C::H1Conns));
    r.u64("h1_total_streams", c.get(C::H1Streams));
    r.u64("h1_bytes_in", c.get(C::H1BytesIn));
    r.u64("h1_bytes_out", c.get(C::H1BytesOut));
    r.u64("h1_spliced_bytes_in", 0);
    r.u64("h1_spliced_bytes_out", 0);
}

pub fn frontend_row(sh: &Shared, i: usize, now: u64) -> Row {
    let fe = &sh.rt.frontends[i];
    let c = &sh.stats.fe[i];
    let adm = &sh.stats.fe_admin[i];
    let http = fe.mode == Mode::Http;
    let mut r = Row::new(Kind::Frontend, fe.id, 0, i, 0);
    r.str("pxname", fe.name.clone());
    r.str("svname", "FRONTEND");
    let cur = u64::from(sh.fe_cur[i].load(Ordering::Relaxed));
    r.u32("scur", cur);
    r.u32("smax", c.get_max(M::Sess));
    r.u32("slim", u64::from(adm.maxconn.get()));
    r.u64("stot", c.get(C::Sess));
    r.u64("bin", c.get(C::BytesIn));
    r.u64("bout", c.get(C::BytesOut));
    r.u64("dreq", c.get(C::DeniedReq));
    r.u64("dresp", c.get(C::DeniedResp));
    r.u64("ereq", c.get(C::FailedReq));
    r.str("status", if adm.is_paused() { "PAUSED" } else { "OPEN" });
    r.u32("pid", 1);
    r.u32("iid", u64::from(fe.id));
    r.u32("sid", 0);
    r.u32("type", 0);
    r.u32("rate", u64::from(c.sess_rate.read(now)));
    r.u32("rate_lim", 0);
    r.u32("rate_max", c.get_max(M::SessRate));
    if http {
        http_counts(&mut r, c);
        r.u64("intercepted", c.get(C::Intercepted));
        r.u64("cache_lookups", 0);
        r.u64("cache_hits", 0);
    }
    r.u32("req_rate", u64::from(c.req_rate.read(now)));
    r.u32("req_rate_max", c.get_max(M::ReqRate));
    r.u64("req_tot", c.get(C::ReqTot));
    for name in ["comp_in", "comp_out", "comp_byp", "comp_rsp"] {
        r.u64(name, 0);
    }
    r.str("mode", mode_name(fe.mode));
    r.u32("conn_rate", u64::from(c.conn_rate.read(now)));
    r.u32("conn_rate_max", c.get_max(M::ConnRate));
    r.u64("conn_tot", c.get(C::ConnTot));
    r.u64("dcon", c.get(C::DeniedConn));
    r.u64("dses", c.get(C::DeniedSess));
    r.u64("wrew", c.get(C::FailedRewrite));
    r.u64("eint", c.get(C::InternalErr));
    let open = if http { cur } else { 0 };
    let streams = c.get(C::H1OpenStreams);
    modules(&mut r, c, open, streams);
    r
}

/// HAProxy's name for a balance algorithm.
pub fn algo_name(b: &Balance) -> &'static str {
    match b {
        Balance::RoundRobin => "roundrobin",
        Balance::StaticRr => "static-rr",
        Balance::LeastConn => "leastconn",
        Balance::First => "first",
        Balance::Source => "source",
        Balance::Uri { .. } => "uri",
        Balance::UrlParam { .. } => "url_param",
        Balance::Hdr { .. } => "hdr",
        Balance::RdpCookie { .. } => "rdp-cookie",
        Balance::Random { .. } => "random",
        Balance::Hash { .. } => "hash",
    }
}

/// A backend's usable servers: weight, user weight, active and backup
/// counts (the backups count only when no active server is usable).
pub fn backend_weights(sh: &Shared, b: usize) -> (u64, u64, u64, u64) {
    let be = &sh.rt.backends[b];
    let st = &sh.backends[b];
    let (mut act, mut bck, mut wa, mut wb) = (0, 0, 0u64, 0u64);
    for (i, s) in be.servers.iter().enumerate() {
        if !st.servers[i].balanced() {
            continue;
        }
        let w = u64::from(st.servers[i].admin.weight());
        if s.backup {
            bck += 1;
            wb += w;
        } else {
            act += 1;
            wa += w;
        }
    }
    let w = if act > 0 {
        wa
    } else if be.options.has("allbackups") {
        wb
    } else {
        // Only the first usable backup takes traffic.
        be.servers
            .iter()
            .enumerate()
            .find(|(i, s)| s.backup && st.servers[*i].balanced())
            .map_or(0, |(i, _)| u64::from(st.servers[i].admin.weight()))
    };
    (w, w, act, bck)
}

pub fn backend_row(sh: &Shared, b: usize, now: u64, hide: bool, legends: bool) -> Row {
    super::backend_changed(sh, b);
    let be = &sh.rt.backends[b];
    let c = &sh.stats.be[b];
    let st = &sh.stats.be_state[b];
    let http = be.mode == Mode::Http;
    let mut r = Row::new(Kind::Backend, be.id, 0, b, 0);
    r.str("pxname", be.name.clone());
    r.str("svname", "BACKEND");
    r.u32("qcur", u64::from(sh.backends[b].queued()));
    r.u32("qmax", c.get_max(M::Queue));
    r.u32("scur", u64::from(sh.be_cur[b].load(Ordering::Relaxed)));
    r.u32("smax", c.get_max(M::Sess));
    r.u32("slim", u64::from(be.fullconn.unwrap_or(0)));
    r.u64("stot", c.get(C::Sess));
    r.u64("bin", c.get(C::BytesIn));
    r.u64("bout", c.get(C::BytesOut));
    r.u64("dreq", c.get(C::DeniedReq));
    r.u64("dresp", c.get(C::DeniedResp));
    r.u64("econ", c.get(C::FailedConn));
    r.u64("eresp", c.get(C::FailedResp));
    r.u64("wretr", c.get(C::Retries));
    r.u64("wredis", c.get(C::Redispatches));
    let up = st.up.load(Ordering::Relaxed);
    let mut status = if up { "UP" } else { "DOWN" }.to_string();
    if hide {
        let servers = &sh.backends[b].servers;
        let live = servers.iter().filter(|s| s.usable()).count();
        status = format!("{status} ({live}/{})", servers.len());
    }
    r.str("status", status);
    let (w, uw, act, bck) = backend_weights(sh, b);
    r.u32("weight", w);
    r.u32("act", act);
    r.u32("bck", bck);
    r.u64("chkdown", st.downs.load(Ordering::Relaxed));
    r.u32("lastchg", secs_since(now, st.since.load(Ordering::Relaxed)));
    if !be.servers.is_empty() {
        r.u32("downtime", st.downtime_ms() / 1000);
    }
    r.u32("pid", 1);
    r.u32("iid", u64::from(be.id));
    r.u32("sid", 0);
    r.u64("lbtot", c.get(C::LbTot));
    r.u32("type", 1);
    r.u32("rate", u64::from(c.sess_rate.read(now)));
    r.u32("rate_max", c.get_max(M::SessRate));
    if http {
        http_counts(&mut r, c);
        r.u64("req_tot", c.get(C::ReqTot));
        r.u64("cache_lookups", 0);
        r.u64("cache_hits", 0);
    }
    r.u64("cli_abrt", c.get(C::CliAbrt));
    r.u64("srv_abrt", c.get(C::SrvAbrt));
    for name in ["comp_in", "comp_out", "comp_byp", "comp_rsp"] {
        r.u64(name, 0);
    }
    last_sess(&mut r, c, now);
    times(&mut r, c);
    r.str("mode", mode_name(be.mode));
    if legends {
        if let Some(ck) = &be.cookie {
            r.str("cookie", ck.name.clone());
        }
        r.str("algo", algo_name(&be.balance));
    }
    r.u64("wrew", c.get(C::FailedRewrite));
    r.u64("connect", c.get(C::Connect));
    r.u64("reuse", c.get(C::Reuse));
    r.u64("eint", c.get(C::InternalErr));
    r.u32("uweight", uw);
    r.u32("agg_server_status", 0);
    r.u32("agg_server_check_status", 0);
    r.u32("agg_check_status", 0);
    let idle = sh.pools[b].idle() as u64;
    modules(&mut r, c, idle, 0);
    r
}

fn last_sess(r: &mut Row, c: &Counters, now: u64) {
    let last = c.last_sess.load(Ordering::Relaxed);
    let v = if last < 0 {
        -1
    } else {
        secs_since(now, last as u64).min(i32::MAX as u64) as i32
    };
    r.set("lastsess", V::S32(v));
}

fn times(r: &mut Row, c: &Counters) {
    r.u32("qtime", c.qtime.avg());
    r.u32("ctime", c.ctime.avg());
    r.u32("rtime", c.rtime.avg());
    r.u32("ttime", c.ttime.avg());
    r.u32("qtime_max", c.get_max(M::QTime));
    r.u32("ctime_max", c.get_max(M::CTime));
    r.u32("rtime_max", c.get_max(M::RTime));
    r.u32("ttime_max", c.get_max(M::TTime));
}

/// A server's address as the stats print it (`ip:port`).
pub fn server_addr(sh: &Shared, b: usize, s: usize) -> String {
    if let Some(a) = sh.backends[b].servers[s].admin.addr() {
        return a.to_string();
    }
    match &sh.rt.backends[b].servers[s].addr {
        crate::model::ServerAddr::Inet { addr, .. } => addr.to_string(),
        crate::model::ServerAddr::Unix(p) => format!("unix@{}", p.display()),
        crate::model::ServerAddr::Abns(n) => format!("abns@{n}"),
        crate::model::ServerAddr::Unresolved(t) => t.clone(),
    }
}

pub fn server_row(sh: &Shared, b: usize, s: usize, now: u64, legends: bool) -> Row {
    let be = &sh.rt.backends[b];
    let srv = &be.servers[s];
    let st = &sh.backends[b].servers[s];
    let c = &sh.stats.srv[b][s];
    let chk = server_check(sh, b, s);
    let http = be.mode == Mode::Http;
    let mut r = Row::new(Kind::Server, be.id, srv.id, b, s);
    r.str("pxname", be.name.clone());
    r.str("svname", srv.name.clone());
    r.u32("qcur", 0);
    r.u32("qmax", 0);
    r.u32("scur", u64::from(st.active.load(Ordering::Relaxed)));
    r.u32("smax", c.get_max(M::Sess));
    if let Some(m) = srv.maxconn {
        r.u32("slim", u64::from(m));
    }
    r.u64("stot", c.get(C::Sess));
    r.u64("bin", c.get(C::BytesIn));
    r.u64("bout", c.get(C::BytesOut));
    r.u64("dresp", c.get(C::DeniedResp));
    r.u64("econ", c.get(C::FailedConn));
    r.u64("eresp", c.get(C::FailedResp));
    r.u64("wretr", c.get(C::Retries));
    r.u64("wredis", c.get(C::Redispatches));
    r.str("status", server_status(sh, b, s, &chk));
    r.u32("weight", u64::from(st.admin.weight()));
    r.u32("act", u64::from(!srv.backup));
    r.u32("bck", u64::from(srv.backup));
    if chk.enabled {
        r.u64("chkfail", chk.failed);
        r.u64("chkdown", chk.downs);
        r.u32("downtime", (chk.down_ms + st.admin.downtime_ms()) / 1000);
    }
    r.u32(
        "lastchg",
        secs_since(now, st.admin.last_change.load(Ordering::Relaxed)),
    );
    if let Some(q) = srv.maxqueue {
        r.u32("qlimit", u64::from(q));
    }
    r.u32("pid", 1);
    r.u32("iid", u64::from(be.id));
    r.u32("sid", u64::from(srv.id));
    r.u64("lbtot", c.get(C::LbTot));
    r.u32("type", 2);
    r.u32("rate", u64::from(c.sess_rate.read(now)));
    r.u32("rate_max", c.get_max(M::SessRate));
    if chk.enabled {
        if let Some(s) = &chk.status {
            r.str("check_status", s.clone());
        }
        if let Some(code) = chk.code {
            r.u32("check_code", u64::from(code));
        }
        r.u64("check_duration", chk.duration_ms.unwrap_or(0));
        r.u64("hanafail", 0);
        if let Some(i) = &chk.info {
            r.str("last_chk", i.clone());
        }
        if let Some(d) = &chk.desc {
            r.str("check_desc", d.clone());
        }
        r.u32("check_rise", u64::from(chk.rise));
        r.u32("check_fall", u64::from(chk.fall));
        r.u32("check_health", u64::from(chk.health));
    }
    if let Some(a) = &chk.agent {
        if let Some(s) = &a.status {
            r.str("agent_status", s.clone());
        }
        if let Some(code) = a.code {
            r.u32("agent_code", u64::from(code));
        }
        r.u64("agent_duration", a.duration_ms.unwrap_or(0));
        if let Some(i) = &a.info {
            r.str("last_agt", i.clone());
        }
        if let Some(d) = &a.desc {
            r.str("agent_desc", d.clone());
        }
        r.u32("agent_rise", u64::from(a.rise));
        r.u32("agent_fall", u64::from(a.fall));
        r.u32("agent_health", u64::from(a.health));
    }
    if http {
        http_counts(&mut r, c);
        r.u64("req_tot", c.get(C::ReqTot));
    }
    r.u64("cli_abrt", c.get(C::CliAbrt));
    r.u64("srv_abrt", c.get(C::SrvAbrt));
    last_sess(&mut r, c, now);
    times(&mut r, c);
    if legends {
        r.str("addr", server_addr(sh, b, s));
        if let Some(ck) = &srv.cookie {
            r.str("cookie", ck.clone());
        }
    }
    r.str("mode", mode_name(be.mode));
    r.u64("wrew", c.get(C::FailedRewrite));
    r.u64("connect", c.get(C::Connect));
    r.u64("reuse", c.get(C::Reuse));
    let idle = sh.pools[b].idle_for(s) as u64;
    r.u32("srv_icur", idle);
    r.u64("eint", c.get(C::InternalErr));
    // Parked connections served one client: HAProxy's "idle" (not yet
    // known safe to share).
    r.u32("idle_conn_cur", idle);
    r.u32("safe_conn_cur", 0);
    r.u32(
        "used_conn_cur",
        u64::from(st.active.load(Ordering::Relaxed)),
    );
    // 2.6 estimates the connections a server needs from recent use; at
    // least one once it was used.
    let used = u64::from(st.active.load(Ordering::Relaxed));
    r.u32("need_conn_est", used.max(c.get(C::Sess).min(1)));
    r.u32("uweight", u64::from(st.admin.weight()));
    for name in ["ssl_sess", "ssl_reused_sess", "ssl_failed_handshake"] {
        r.u64(name, 0);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_is_2_6s() {
        let want = "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,req_rate,req_rate_max,req_tot,cli_abrt,srv_abrt,comp_in,comp_out,comp_byp,comp_rsp,lastsess,last_chk,last_agt,qtime,ctime,rtime,ttime,agent_status,agent_code,agent_duration,check_desc,agent_desc,check_rise,check_fall,check_health,agent_rise,agent_fall,agent_health,addr,cookie,mode,algo,conn_rate,conn_rate_max,conn_tot,intercepted,dcon,dses,wrew,connect,reuse,cache_lookups,cache_hits,srv_icur,src_ilim,qtime_max,ctime_max,rtime_max,ttime_max,eint,idle_conn_cur,safe_conn_cur,used_conn_cur,need_conn_est,uweight,agg_server_status,agg_server_check_status,agg_check_status,-,ssl_sess,ssl_reused_sess,ssl_failed_handshake,h2_headers_rcvd,h2_data_rcvd,h2_settings_rcvd,h2_rst_stream_rcvd,h2_goaway_rcvd,h2_detected_conn_protocol_errors,h2_detected_strm_protocol_errors,h2_rst_stream_resp,h2_goaway_resp,h2_open_connections,h2_backend_open_streams,h2_total_connections,h2_backend_total_streams,h1_open_connections,h1_open_streams,h1_total_connections,h1_total_streams,h1_bytes_in,h1_bytes_out,h1_spliced_bytes_in,h1_spliced_bytes_out,\n";
        assert_eq!(csv_header(), want);
    }

    #[test]
    fn json_tags_spelled_out() {
        assert_eq!(
            json_tags("KNS"),
            "\"tags\":{\"origin\":\"Key\",\"nature\":\"Name\",\"scope\":\"Service\"}"
        );
        assert_eq!(
            json_value(T::Str, &V::Str("a\"b".into())),
            "{\"type\":\"str\",\"value\":\"a\\\"b\"}"
        );
    }
}
