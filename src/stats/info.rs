//! `show info`: the process as 2.6 describes it, field by field, in its
//! plain, typed and JSON forms.
use super::counters::{now_ms, C, M};
use super::fields::{json_tags, json_value, T, V};
use crate::worker::Shared;
use std::fmt::Write as _;
use std::sync::atomic::Ordering;

/// Position, name, tags and type of each field (2.6 skips positions it
/// does not build: 45 and 46, the compression memory).
static INFO: &[(usize, &str, &str, T)] = &[
    (0, "Name", "POS", T::Str),
    (1, "Version", "POS", T::Str),
    (2, "Release_date", "POS", T::Str),
    (3, "Nbthread", "CGS", T::U32),
    (4, "Nbproc", "CGS", T::U32),
    (5, "Process_num", "KGP", T::U32),
    (6, "Pid", "SGP", T::U32),
    (7, "Uptime", "MDP", T::Str),
    (8, "Uptime_sec", "MDP", T::U32),
    (9, "Memmax_MB", "CLP", T::U32),
    (10, "PoolAlloc_MB", "MGP", T::U32),
    (11, "PoolUsed_MB", "MGP", T::U32),
    (12, "PoolFailed", "MCP", T::U32),
    (13, "Ulimit-n", "CLP", T::U32),
    (14, "Maxsock", "CLP", T::U32),
    (15, "Maxconn", "CLP", T::U32),
    (16, "Hard_maxconn", "CLP", T::U32),
    (17, "CurrConns", "MGP", T::U32),
    (18, "CumConns", "MCP", T::U32),
    (19, "CumReq", "MCP", T::U32),
    (20, "MaxSslConns", "MMP", T::U32),
    (21, "CurrSslConns", "MGP", T::U32),
    (22, "CumSslConns", "MCP", T::U32),
    (23, "Maxpipes", "CLP", T::U32),
    (24, "PipesUsed", "MGP", T::U32),
    (25, "PipesFree", "MGP", T::U32),
    (26, "ConnRate", "MRP", T::U32),
    (27, "ConnRateLimit", "CLP", T::U32),
    (28, "MaxConnRate", "MMP", T::U32),
    (29, "SessRate", "MRP", T::U32),
    (30, "SessRateLimit", "CLP", T::U32),
    (31, "MaxSessRate", "MRP", T::U32),
    (32, "SslRate", "MRP", T::U32),
    (33, "SslRateLimit", "CLP", T::U32),
    (34, "MaxSslRate", "MMP", T::U32),
    (35, "SslFrontendKeyRate", "MGP", T::U32),
    (36, "SslFrontendMaxKeyRate", "MMP", T::U32),
    (37, "SslFrontendSessionReuse_pct", "MGP", T::U32),
    (38, "SslBackendKeyRate", "MRP", T::U32),
    (39, "SslBackendMaxKeyRate", "MMP", T::U32),
    (40, "SslCacheLookups", "MCP", T::U32),
    (41, "SslCacheMisses", "MCP", T::U32),
    (42, "CompressBpsIn", "MRP", T::U32),
    (43, "CompressBpsOut", "MRP", T::U32),
    (44, "CompressBpsRateLim", "CLP", T::U32),
    (47, "Tasks", "MGP", T::U32),
    (48, "Run_queue", "MGP", T::U32),
    (49, "Idle_pct", "MaP", T::U32),
    (50, "node", "COS", T::Str),
    (51, "description", "COS", T::Str),
    (52, "Stopping", "MGP", T::U32),
    (53, "Jobs", "MGP", T::U32),
    (54, "Unstoppable Jobs", "MGP", T::U32),
    (55, "Listeners", "MGP", T::U32),
    (56, "ActivePeers", "MGP", T::U32),
    (57, "ConnectedPeers", "MGP", T::U32),
    (58, "DroppedLogs", "MGP", T::U32),
    (59, "BusyPolling", "MGP", T::U32),
    (60, "FailedResolutions", "MGP", T::U32),
    (61, "TotalBytesOut", "MGP", T::U64),
    (62, "TotalSplicdedBytesOut", "MGP", T::U64),
    (63, "BytesOutRate", "MRP", T::U64),
    (64, "DebugCommandsIssued", "MGP", T::U32),
    (65, "CumRecvLogs", "MCP", T::U32),
    (66, "Build info", "POS", T::Str),
    (67, "Memmax_bytes", "CLP", T::U32),
    (68, "PoolAlloc_bytes", "MGP", T::U64),
    (69, "PoolUsed_bytes", "MGP", T::U64),
    (70, "Start_time_sec", "MDP", T::U32),
    (71, "Tainted", "SGP", T::Str),
];

/// `Nd HHhMMmSSs` as 2.6 writes uptimes.
pub fn uptime(secs: u64) -> String {
    format!(
        "{}d {}h{:02}m{:02}s",
        secs / 86400,
        (secs / 3600) % 24,
        (secs / 60) % 60,
        secs % 60
    )
}

/// The open files limit (soft).
pub fn ulimit_n() -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit fills the struct we own.
    unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) };
    lim.rlim_cur
}

/// The share of time the process did not spend on the CPU since it
/// started, per thread (%).
fn idle_pct(up_ms: u64, threads: u64) -> u64 {
    // SAFETY: getrusage fills the struct we own.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let cpu_ms = (ru.ru_utime.tv_sec as u64 + ru.ru_stime.tv_sec as u64) * 1000
        + (ru.ru_utime.tv_usec as u64 + ru.ru_stime.tv_usec as u64) / 1000;
    let total = up_ms.max(1) * threads.max(1);
    100u64.saturating_sub(cpu_ms * 100 / total)
}

/// The values, by position (None: not shown).
pub fn values(sh: &Shared) -> Vec<(usize, &'static str, &'static str, T, V)> {
    let st = &sh.stats;
    let now = now_ms();
    let up_ms = now.saturating_sub(st.started_ms);
    let up = up_ms / 1000;
    let g = &st.global;
    let (maxpipes, pipes_used, pipes_free) = crate::tcp::pipes::usage();
    let active = sh.active.load(Ordering::Relaxed) as u64;
    let listeners = u64::from(st.listeners.load(Ordering::Relaxed));
    let ulimit = ulimit_n();
    let start = st
        .started
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut out = Vec::new();
    for &(pos, name, tags, ty) in INFO {
        let v = match name {
            "Name" => V::Str("HAProxy".into()),
            "Version" | "Build info" => V::Str(crate::version::VERSION.into()),
            "Release_date" => V::Str(crate::version::RELEASE_DATE.into()),
            "Nbthread" => V::U32(st.threads),
            "Nbproc" | "Process_num" => V::U32(1),
            "Pid" => V::U32(std::process::id()),
            "Uptime" => V::Str(uptime(up)),
            "Uptime_sec" => V::U32(up as u32),
            "Ulimit-n" | "Maxsock" => V::U32(ulimit.min(u64::from(u32::MAX)) as u32),
            "Maxconn" => V::U32(st.maxconn.get()),
            "Hard_maxconn" => V::U32(st.hard_maxconn),
            "CurrConns" => V::U32(active as u32),
            "CumConns" => V::U32(g.get(C::ConnTot) as u32),
            "CumReq" => V::U32(g.get(C::ReqTot) as u32),
            "Maxpipes" => V::U32(maxpipes as u32),
            "PipesUsed" => V::U32(pipes_used as u32),
            "PipesFree" => V::U32(pipes_free as u32),
            "ConnRate" => V::U32(g.conn_rate.read(now)),
            "ConnRateLimit" => V::U32(st.conn_rate_limit.load(Ordering::Relaxed)),
            "MaxConnRate" => V::U32(g.get_max(M::ConnRate) as u32),
            "SessRate" => V::U32(g.sess_rate.read(now)),
            "SessRateLimit" => V::U32(st.sess_rate_limit.load(Ordering::Relaxed)),
            "MaxSessRate" => V::U32(g.get_max(M::SessRate) as u32),
            "Tasks" => V::U32((active + listeners) as u32),
            "Idle_pct" => V::U32(idle_pct(up_ms, u64::from(st.threads)) as u32),
            "node" => V::Str(sh.rt.global.node.clone()),
            "description" => match &sh.rt.global.description {
                Some(d) => V::Str(d.clone()),
                None => continue,
            },
            "Stopping" => V::U32(u32::from(sh.stopping.load(Ordering::Relaxed))),
            "Jobs" => V::U32((active + listeners) as u32),
            "Listeners" => V::U32(listeners as u32),
            "DroppedLogs" => V::U32(crate::log::DROPPED.load(Ordering::Relaxed) as u32),
            "TotalBytesOut" => V::U64(g.get(C::BytesOut)),
            "BytesOutRate" => V::U64(u64::from(st.bytes_out_rate.read(now))),
            "Start_time_sec" => V::U32(start as u32),
            "Tainted" => V::Str("0".into()),
            _ => match ty {
                T::U64 => V::U64(0),
                _ => V::U32(0),
            },
        };
        out.push((pos, name, tags, ty, v));
    }
    out
}

/// The plain form: `Name: value` lines.
pub fn plain(sh: &Shared) -> String {
    let mut out = String::new();
    for (_, name, _, _, v) in values(sh) {
        let _ = writeln!(out, "{name}: {v}");
    }
    out
}

pub fn typed(sh: &Shared) -> String {
    let mut out = String::new();
    for (pos, name, tags, ty, v) in values(sh) {
        let _ = writeln!(out, "{pos}.{name}.1:{tags}:{}:{v}", type_name(ty));
    }
    out
}

pub fn json(sh: &Shared) -> String {
    let mut out = String::from("[");
    for (n, (pos, name, tags, ty, v)) in values(sh).into_iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        let _ = write!(
            out,
            "{{\"field\":{{\"pos\":{pos},\"name\":\"{name}\"}},\"processNum\":1,{},\"value\":{}}}",
            json_tags(tags),
            json_value(ty, &v)
        );
    }
    out.push_str("]\n");
    out
}

fn type_name(t: T) -> &'static str {
    match t {
        T::Str => "str",
        T::U32 => "u32",
        T::U64 => "u64",
        T::S32 => "s32",
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn uptime_as_2_6() {
        assert_eq!(super::uptime(31), "0d 0h00m31s");
        assert_eq!(super::uptime(90061), "1d 1h01m01s");
    }
}
