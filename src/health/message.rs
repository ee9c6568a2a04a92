//! Where server state messages go. Every message of the health checks
//! (server UP/DOWN, drain, maintenance, "no server available") leaves
//! through `emit`: to the backend's log targets at the level 2.6 uses, and
//! to stderr with HAProxy's prefix.
use crate::model::BackendId;
use crate::worker::Shared;
use std::io::Write;

/// Syslog severities: the logger's.
pub use crate::log::Level;

/// One message, in its two forms: 2.6 words a few of them differently on
/// stderr and in the logs (`backend 'be'` with quotes on stderr).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// The syslog severity 2.6 sends it with.
    pub level: Level,
    /// The stderr prefix 2.6 prints (`[WARNING]` or `[ALERT]`).
    pub stderr_alert: bool,
    /// The stderr text (no prefix, no final newline).
    pub text: String,
    /// The log text.
    pub log: String,
}

impl Message {
    /// A server message: the same text on both sides, `[WARNING]` on stderr.
    pub fn server(level: Level, text: String) -> Message {
        Message {
            level,
            stderr_alert: false,
            log: text.clone(),
            text,
        }
    }

    /// `backend X has no server available!` (emerg in the logs, an ALERT
    /// with the name quoted on stderr). A `listen` section is a "proxy".
    pub fn no_server(kind: &str, name: &str) -> Message {
        Message {
            level: Level::Emerg,
            stderr_alert: true,
            text: format!("{kind} '{name}' has no server available!"),
            log: format!("{kind} {name} has no server available!"),
        }
    }
}

/// Sends a message about backend `be`. Quiet processes (`-q`) print
/// nothing on stderr, as 2.6's runtime warnings.
pub fn emit(sh: &Shared, be: BackendId, msg: &Message) {
    crate::log::send(&sh.rt.backend(be).log_targets, msg.level, &msg.log);
    if sh.health.quiet {
        return;
    }
    let prefix = if msg.stderr_alert {
        "[ALERT]"
    } else {
        "[WARNING]"
    };
    let _ = writeln!(
        std::io::stderr().lock(),
        "{prefix:<10} ({}) : {}",
        std::process::id(),
        msg.text
    );
}
