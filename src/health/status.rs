//! The result of one check, in HAProxy's vocabulary: the status codes the
//! stats page shows (`L4OK`, `L7STS`...), their descriptions in messages,
//! and whether they count as a pass.

/// HAProxy's check statuses, in its order: those from `L57Data` on carry a
/// layer 5-7 code (`code: N` in messages).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    Unknown,
    Init,
    /// Health analysis of live traffic (`observe`).
    Hana,
    SockErr,
    L4Ok,
    L4Tout,
    L4Con,
    L6Ok,
    L6Tout,
    L6Rsp,
    L7Tout,
    L7Rsp,
    L57Data,
    L7Ok,
    /// Conditionally passed (`disable-on-404`): the server is kept but
    /// takes no new traffic.
    L7OkC,
    L7Sts,
}

/// What a status means for the server's health.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Failed,
    Passed,
    CondPassed,
}

impl Status {
    /// The short name (stats `check_status`).
    pub fn name(self) -> &'static str {
        match self {
            Status::Unknown => "UNK",
            Status::Init => "INI",
            Status::Hana => "HANA",
            Status::SockErr => "SOCKERR",
            Status::L4Ok => "L4OK",
            Status::L4Tout => "L4TOUT",
            Status::L4Con => "L4CON",
            Status::L6Ok => "L6OK",
            Status::L6Tout => "L6TOUT",
            Status::L6Rsp => "L6RSP",
            Status::L7Tout => "L7TOUT",
            Status::L7Rsp => "L7RSP",
            Status::L57Data => "L57DATA",
            Status::L7Ok => "L7OK",
            Status::L7OkC => "L7OKC",
            Status::L7Sts => "L7STS",
        }
    }

    /// The wording after `reason:` in messages.
    pub fn description(self) -> &'static str {
        match self {
            Status::Unknown => "Unknown",
            Status::Init => "Initializing",
            Status::Hana => "Health analyze",
            Status::SockErr => "Socket error",
            Status::L4Ok => "Layer4 check passed",
            Status::L4Tout => "Layer4 timeout",
            Status::L4Con => "Layer4 connection problem",
            Status::L6Ok => "Layer6 check passed",
            Status::L6Tout => "Layer6 timeout",
            Status::L6Rsp => "Layer6 invalid response",
            Status::L7Tout => "Layer7 timeout",
            Status::L7Rsp => "Layer7 invalid response",
            Status::L57Data => "",
            Status::L7Ok => "Layer7 check passed",
            Status::L7OkC => "Layer7 check conditionally passed",
            Status::L7Sts => "Layer7 wrong status",
        }
    }

    pub fn verdict(self) -> Verdict {
        match self {
            Status::L4Ok | Status::L6Ok | Status::L7Ok => Verdict::Passed,
            Status::L7OkC => Verdict::CondPassed,
            _ => Verdict::Failed,
        }
    }

    /// Messages show `code: N` for these.
    pub fn has_code(self) -> bool {
        self > Status::L57Data
    }

    /// The names `ok-status`, `error-status` and `tout-status` accept.
    pub fn from_name(s: &str) -> Option<Status> {
        Some(match s {
            "L7OK" => Status::L7Ok,
            "L7OKC" => Status::L7OkC,
            "L6OK" => Status::L6Ok,
            "L4OK" => Status::L4Ok,
            "L7RSP" => Status::L7Rsp,
            "L7STS" => Status::L7Sts,
            "L6RSP" => Status::L6Rsp,
            "L4CON" => Status::L4Con,
            "L7TOUT" => Status::L7Tout,
            "L6TOUT" => Status::L6Tout,
            "L4TOUT" => Status::L4Tout,
            _ => return None,
        })
    }
}

/// One finished check: its status, the layer 7 code, the info text and
/// how long it took.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub status: Status,
    pub code: i32,
    pub desc: String,
    pub duration_ms: Option<u64>,
}

impl Outcome {
    pub fn new(status: Status, desc: impl Into<String>) -> Outcome {
        Outcome {
            status,
            code: 0,
            desc: desc.into(),
            duration_ms: None,
        }
    }

    /// `, reason: ..., code: N, info: "...", check duration: Nms` as
    /// 2.6 appends it to state change messages.
    pub fn reason(&self) -> String {
        let mut s = format!(", reason: {}", self.status.description());
        if self.status.has_code() {
            s.push_str(&format!(", code: {}", self.code));
        }
        if !self.desc.is_empty() {
            s.push_str(", info: \"");
            for c in self.desc.chars() {
                // Non-printable bytes and quotes are escaped as HAProxy's
                // chunk_asciiencode does.
                if c == '"' || (c as u32) < 0x20 || c as u32 == 0x7f {
                    s.push_str(&format!("\\x{:02x}", c as u32));
                } else {
                    s.push(c);
                }
            }
            s.push('"');
        }
        if let Some(d) = self.duration_ms {
            s.push_str(&format!(", check duration: {d}ms"));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_read_as_2_6_writes_them() {
        let mut o = Outcome::new(Status::L4Con, "Connection refused");
        o.duration_ms = Some(0);
        assert_eq!(
            o.reason(),
            ", reason: Layer4 connection problem, info: \"Connection refused\", check duration: 0ms"
        );
        let mut o = Outcome::new(Status::L7Ok, "");
        o.code = 200;
        o.duration_ms = Some(1);
        assert_eq!(
            o.reason(),
            ", reason: Layer7 check passed, code: 200, check duration: 1ms"
        );
        let o = Outcome::new(Status::Hana, "Detected 3 consecutive errors");
        assert_eq!(
            o.reason(),
            ", reason: Health analyze, info: \"Detected 3 consecutive errors\""
        );
        assert_eq!(Status::L7Rsp.verdict(), Verdict::Failed);
        assert!(!Status::L7Rsp.has_code());
        assert!(Status::L7Sts.has_code());
    }
}
