//! What the statistics report about a server's health and agent checks.
//!
//! The health checker (`crate::health`) feeds this view through
//! [`server_check`], the one place that turns its state into what the CSV,
//! the HTML page, `show servers state` and the Prometheus metrics print. A
//! server without `check` reports "no check" with empty check columns, as
//! in HAProxy.
use crate::worker::Shared;

/// One server's checks as the statistics show them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckView {
    /// Health checks configured and running (`check`); false: "no check".
    pub enabled: bool,
    /// The server is operationally UP (false: DOWN), maintenance aside.
    pub up: bool,
    /// Consecutive results towards the next transition (HAProxy's
    /// `health`, from 0 to `rise + fall - 1`; UP from `rise` on).
    pub health: u32,
    pub rise: u32,
    pub fall: u32,
    /// Last check status as HAProxy names it (`L4OK`, `L7STS`, `L4CON`,
    /// ...), its code (an HTTP status) and duration in ms.
    pub status: Option<String>,
    pub code: Option<u32>,
    pub duration_ms: Option<u64>,
    /// Human-readable result (`Layer4 check passed`) and extra info.
    pub desc: Option<String>,
    pub info: Option<String>,
    /// Failed checks, UP to DOWN transitions, time spent DOWN (ms).
    pub failed: u64,
    pub downs: u64,
    pub down_ms: u64,
    /// The same for the agent check (`agent-check`), when configured.
    pub agent: Option<AgentView>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AgentView {
    pub status: Option<String>,
    pub code: Option<u32>,
    pub duration_ms: Option<u64>,
    pub desc: Option<String>,
    pub info: Option<String>,
    pub health: u32,
    pub rise: u32,
    pub fall: u32,
}

impl CheckView {
    /// A server without health checks: UP, nothing measured. `health` is
    /// `rise` as in HAProxy.
    pub fn none(rise: u32, fall: u32) -> CheckView {
        CheckView {
            enabled: false,
            up: true,
            health: rise,
            rise,
            fall,
            ..Default::default()
        }
    }
}

/// The check view of server `srv` of backend `be` (indexes): the health
/// checker's snapshot of the server.
pub fn server_check(sh: &Shared, be: usize, srv: usize) -> CheckView {
    let s = &sh.rt.backends[be].servers[srv];
    let mut v = CheckView::none(s.rise, s.fall);
    v.up = sh.backends[be].servers[srv]
        .up
        .load(std::sync::atomic::Ordering::Relaxed);
    let Some(h) = sh.health.server(crate::model::BackendId(be), srv) else {
        return v;
    };
    let outcome = |o: &crate::health::status::Outcome| {
        (
            Some(o.status.name().to_string()),
            (o.status.has_code() && o.code >= 0).then_some(o.code as u32),
            o.duration_ms,
            Some(o.status.description().to_string()),
            Some(o.desc.clone()).filter(|d| !d.is_empty()),
        )
    };
    if let Some(c) = h.check {
        v.enabled = true;
        v.up = h.op != crate::health::Op::Stopped;
        v.health = c.health;
        v.rise = c.rise;
        v.fall = c.fall;
        if let Some(o) = &h.stats.check {
            (v.status, v.code, v.duration_ms, v.desc, v.info) = outcome(o);
        }
        v.failed = h.stats.failed_checks;
        v.downs = h.stats.down_transitions;
        let current = h
            .stats
            .down_since
            .map_or(Default::default(), |d| d.elapsed());
        v.down_ms = (h.stats.downtime + current).as_millis() as u64;
    }
    if let Some(a) = h.agent {
        let mut view = AgentView {
            health: a.health,
            rise: a.rise,
            fall: a.fall,
            ..Default::default()
        };
        if let Some(o) = &h.stats.agent {
            (
                view.status,
                view.code,
                view.duration_ms,
                view.desc,
                view.info,
            ) = outcome(o);
        }
        v.agent = Some(view);
    }
    v
}

/// HAProxy's numbers for a check: status (its `HCHK_STATUS_*` position),
/// result (0 unknown, 2 failed, 3 passed) and state flags (2 configured,
/// 4 enabled, 8 paused), as `show servers state` prints them. `admin` are
/// the server's administrative flags.
pub fn state_numbers(chk: &CheckView, admin: u32) -> (u32, u32, u32) {
    const STATUSES: &[&str] = &[
        "UNK", "INI", "SOCKERR", "CHECKED", "HANA", "SOCKERR", "L4OK", "L4TOUT", "L4CON", "L6OK",
        "L6TOUT", "L6RSP", "L7TOUT", "L7RSP", "L57DATA", "L7OK", "L7OKC", "L7STS", "PROCERR",
        "PROCTOUT", "PROCOK",
    ];
    if !chk.enabled {
        let paused = if admin & super::admin::CMAINT != 0 {
            8
        } else {
            0
        };
        return (1, 0, paused);
    }
    let name = chk.status.as_deref().unwrap_or("INI");
    let status = STATUSES.iter().position(|s| *s == name).unwrap_or(1) as u32;
    let result = if name.ends_with("OK") || name == "L7OKC" {
        3
    } else if status <= 1 {
        0
    } else {
        2
    };
    (status, result, 6)
}
