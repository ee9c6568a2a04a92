//! The master CLI (`-S <path>`): a unix socket on the master answering
//! `show proc`, `reload`, `help`, `show version` as HAProxy 2.6's does.
//! One command line per connection (commands may be separated by `;`);
//! the answer follows and the connection closes.
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::time::{Duration, Instant};

/// What the master knows for `show proc`.
pub struct Proc {
    pub pid: i32,
    /// Reloads this process has lived through.
    pub reloads: u32,
    pub started: Instant,
}

/// A command's effect on the master.
pub enum Action {
    None,
    Reload,
}

const HELP_ALL: &[(&str, &str)] = &[
    ("@!<pid>", "send a command to the <pid> process"),
    (
        "@<relative pid>",
        "send a command to the <relative pid> process",
    ),
    ("@master", "send a command to the master process"),
    (
        "operator",
        "lower the level of the current CLI session to operator",
    ),
    ("reload", "reload haproxy"),
    (
        "show cli level",
        "display the level of the current CLI session",
    ),
    ("show cli sockets", "dump list of cli sockets"),
    ("show proc", "show processes status"),
    ("show version", "show version of the current process"),
    ("user", "lower the level of the current CLI session to user"),
    ("help [<command>]", "list matching or all commands"),
    ("prompt", "toggle interactive mode with prompt"),
    ("quit", "disconnect"),
];

/// The entries 2.6 offers after an unknown command.
const HELP_UNKNOWN: &[&str] = &[
    "@!<pid>",
    "@master",
    "operator",
    "reload",
    "user",
    "help [<command>]",
    "prompt",
    "quit",
];

fn help_lines(names: &[&str]) -> String {
    HELP_ALL
        .iter()
        .filter(|(n, _)| names.contains(n))
        .map(|(n, d)| format!("  {n:<39} : {d}\n"))
        .collect()
}

/// Opens the `-S` sockets (`path[,options]`; only unix paths here).
pub fn open(specs: &[String]) -> Result<Vec<UnixListener>, String> {
    specs
        .iter()
        .map(|spec| {
            let path = spec.split(',').next().unwrap_or("");
            let path = path.strip_prefix("unix@").unwrap_or(path);
            if path.contains('@') || path.is_empty() {
                return Err(format!(
                    "master CLI '{spec}': only unix socket paths are supported by this build"
                ));
            }
            let _ = std::fs::remove_file(path);
            let l = UnixListener::bind(path)
                .map_err(|e| format!("cannot bind master CLI socket '{path}' ({e})"))?;
            l.set_nonblocking(true).map_err(|e| e.to_string())?;
            Ok(l)
        })
        .collect()
}

fn uptime(since: Instant) -> String {
    let s = since.elapsed().as_secs();
    format!(
        "{}d{:02}h{:02}m{:02}s",
        s / 86400,
        s / 3600 % 24,
        s / 60 % 60,
        s % 60
    )
}

/// `show proc`.
fn show_proc(master: &Proc, failed: u32, current: Option<&Proc>, old: &[Proc]) -> String {
    let v = crate::version::VERSION;
    let row = |a: &str, b: &str, c: &str, d: &str, e: &str| {
        format!("{a:<15} {b:<15} {c:<15} {d:<15} {e:<15}\n")
    };
    let mut out = row("#<PID>", "<type>", "<reloads>", "<uptime>", "<version>");
    out += &row(
        &master.pid.to_string(),
        "master",
        &format!("{} [failed: {failed}]", master.reloads),
        &uptime(master.started),
        v,
    );
    out += "# workers\n";
    if let Some(w) = current {
        out += &row(
            &w.pid.to_string(),
            "worker",
            &w.reloads.to_string(),
            &uptime(w.started),
            v,
        );
    }
    if !old.is_empty() {
        out += "# old workers\n";
        for w in old {
            out += &row(
                &w.pid.to_string(),
                "worker",
                &w.reloads.to_string(),
                &uptime(w.started),
                v,
            );
        }
    }
    out += "# programs\n\n";
    out
}

/// Serves one client: reads its command line, answers, closes.
pub fn serve(
    stream: UnixStream,
    master: &Proc,
    failed: u32,
    current: Option<&Proc>,
    old: &[Proc],
) -> Action {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut line = String::new();
    let mut rd = BufReader::new(&stream);
    let _ = rd.read_line(&mut line);
    let mut w = &stream;
    let mut action = Action::None;
    for cmd in line
        .trim()
        .split(';')
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        let cmd = cmd.strip_prefix("@master").map(str::trim).unwrap_or(cmd);
        let words: Vec<&str> = cmd.split_whitespace().collect();
        let answer = match words.as_slice() {
            ["show", "proc"] => show_proc(master, failed, current, old),
            ["reload"] => {
                action = Action::Reload;
                String::new()
            }
            ["show", "version"] => format!("{}\n", crate::version::VERSION),
            ["help", ..] => format!(
                "The following commands are valid at this level:\n{}",
                help_lines(&HELP_ALL.iter().map(|(n, _)| *n).collect::<Vec<_>>())
            ),
            ["quit"] => break,
            [w, ..] if w.starts_with('@') => {
                "Commands for the workers need their stats socket, which this build does not have yet.\n".into()
            }
            _ => format!(
                "Unknown command, but maybe one of the following ones is a better match:\n{}",
                help_lines(HELP_UNKNOWN)
            ),
        };
        let _ = w.write_all(answer.as_bytes());
    }
    action
}
