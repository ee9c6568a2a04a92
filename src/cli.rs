//! HAProxy's command-line options, with its parsing rules.

/// The usage block HAProxy prints on stderr for a bad command line.
pub const USAGE: &str =
    "Usage : haproxy [-f <cfgfile|cfgdir>]* [ -vdVD ] [ -n <maxconn> ] [ -N <maxpconn> ]
        [ -p <pidfile> ] [ -m <max megs> ] [ -C <dir> ] [-- <cfgfile>*]
        -v displays version ; -vv shows known build options.
        -d enters debug mode ; -db only disables background mode.
        -dM[<byte>,help,...] debug memory (default: poison with <byte>/0x50)
        -V enters verbose mode (disables quiet mode)
        -D goes daemon ; -C changes to <dir> before loading files.
        -W master-worker mode.
        -Ws master-worker mode with systemd notify support.
        -q quiet mode : don't display messages
        -c check mode : only check config files and exit
        -cc check condition : evaluate a condition and exit
        -n sets the maximum total # of connections (uses ulimit -n)
        -m limits the usable amount of memory (in MB)
        -N sets the default, per-proxy maximum # of connections (0)
        -L set local peer name (default to hostname)
        -p writes pids of all children to this file
        -de disables epoll() usage even when available
        -dp disables poll() usage even when available
        -dS disables splice usage (broken on old kernels)
        -dG disables getaddrinfo() usage
        -dR disables SO_REUSEPORT usage
        -dL dumps loaded object files after config checks
        -dK{class[,...]} dump registered keywords (use 'help' for list)
        -dr ignores server address resolution failures
        -dV disables SSL verify on servers side
        -dW fails if any warning is emitted
        -dD diagnostic mode : warn about suspicious configuration statements
        -sf/-st [pid ]* finishes/terminates old pids.
        -x <unix_socket> get listening sockets from a unix socket
        -S <bind>[,<bind options>...] new master CLI

";

/// Everything the options ask for.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// `-f` arguments and files after `--`, in order (files or directories).
    pub cfg_paths: Vec<String>,
    pub check_only: bool,
    pub check_condition: Option<String>,
    pub quiet: bool,
    pub verbose: bool,
    pub debug: bool,
    pub foreground: bool,
    pub daemon: bool,
    pub master_worker: bool,
    pub systemd: bool,
    pub master_cli: Vec<String>,
    pub pidfile: Option<String>,
    pub soft_finish: Vec<u32>,
    pub hard_terminate: Vec<u32>,
    pub sockets_from: Option<String>,
    pub maxconn: Option<u32>,
    pub default_maxconn: Option<u32>,
    pub mem_mb: Option<u32>,
    pub localpeer: Option<String>,
    pub chdir: Option<String>,
    pub zero_warning: bool,
    pub ignore_unresolved: bool,
    pub diag_mode: bool,
    pub no_splice: bool,
    pub no_reuseport: bool,
}

pub enum Command {
    Version,
    BuildInfo,
    Run(Box<Options>),
}

/// A command line HAProxy would refuse: print the usage and exit 1.
#[derive(Debug)]
pub struct Usage;

/// Parses the arguments (without argv[0]).
pub fn parse_args(args: &[String]) -> Result<Command, Usage> {
    let mut o = Options::default();
    let mut i = 0;
    let value = |i: &mut usize| -> Result<String, Usage> {
        *i += 1;
        args.get(*i).cloned().ok_or(Usage)
    };
    let number =
        |i: &mut usize| -> Result<u32, Usage> { Ok(value(i)?.trim().parse().unwrap_or(0)) };
    if args.is_empty() {
        return Err(Usage);
    }
    while i < args.len() {
        let a = args[i].as_str();
        match a {
            "--" => {
                o.cfg_paths.extend(args[i + 1..].iter().cloned());
                break;
            }
            "-v" => return Ok(Command::Version),
            "-vv" => return Ok(Command::BuildInfo),
            "-V" => o.verbose = true,
            "-q" => o.quiet = true,
            "-c" => o.check_only = true,
            "-cc" => o.check_condition = Some(value(&mut i)?),
            "-d" => {
                o.debug = true;
                o.foreground = true
            }
            "-db" => o.foreground = true,
            "-D" => o.daemon = true,
            "-W" => o.master_worker = true,
            "-Ws" => {
                o.master_worker = true;
                o.systemd = true
            }
            "-f" => o.cfg_paths.push(value(&mut i)?),
            "-p" => o.pidfile = Some(value(&mut i)?),
            "-S" => o.master_cli.push(value(&mut i)?),
            "-x" => o.sockets_from = Some(value(&mut i)?),
            "-n" => o.maxconn = Some(number(&mut i)?),
            "-N" => o.default_maxconn = Some(number(&mut i)?),
            "-m" => o.mem_mb = Some(number(&mut i)?),
            "-L" => o.localpeer = Some(value(&mut i)?),
            "-C" => o.chdir = Some(value(&mut i)?),
            "-dW" => o.zero_warning = true,
            "-dr" => o.ignore_unresolved = true,
            "-dD" => o.diag_mode = true,
            "-dS" => o.no_splice = true,
            "-dR" => o.no_reuseport = true,
            "-de" | "-dp" | "-dG" | "-dL" | "-dV" => {}
            _ if a.starts_with("-dM") || a.starts_with("-dK") => {}
            "-sf" | "-st" => {
                // The pid list runs up to the next option.
                let list = if a == "-sf" {
                    &mut o.soft_finish
                } else {
                    &mut o.hard_terminate
                };
                while let Some(n) = args.get(i + 1).filter(|s| !s.starts_with('-')) {
                    match n.parse() {
                        Ok(pid) => list.push(pid),
                        Err(_) => return Err(Usage),
                    }
                    i += 1;
                }
            }
            _ => return Err(Usage),
        }
        i += 1;
    }
    if o.cfg_paths.is_empty() && o.check_condition.is_none() {
        return Err(Usage);
    }
    Ok(Command::Run(Box::new(o)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(v: &[&str]) -> Result<Command, Usage> {
        parse_args(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    fn opts(v: &[&str]) -> Options {
        match run(v) {
            Ok(Command::Run(o)) => *o,
            _ => panic!("not a run command: {v:?}"),
        }
    }

    #[test]
    fn files_in_order_with_double_dash() {
        let o = opts(&["-f", "a.cfg", "-c", "-f", "dir", "--", "b.cfg", "c.cfg"]);
        assert_eq!(o.cfg_paths, ["a.cfg", "dir", "b.cfg", "c.cfg"]);
        assert!(o.check_only);
    }

    #[test]
    fn pid_lists_stop_at_next_option() {
        let o = opts(&["-f", "x", "-sf", "12", "34", "-x", "sockpair@3"]);
        assert_eq!(o.soft_finish, [12, 34]);
        assert_eq!(o.sockets_from.as_deref(), Some("sockpair@3"));
    }

    #[test]
    fn systemd_unit_flags_are_accepted() {
        let o = opts(&[
            "-Ws",
            "-f",
            "/etc/haproxy/haproxy.cfg",
            "-c",
            "-q",
            "-S",
            "/run/haproxy-master.sock",
        ]);
        assert!(o.master_worker && o.systemd && o.quiet && o.check_only);
    }

    #[test]
    fn bad_lines_give_usage() {
        assert!(run(&[]).is_err());
        assert!(run(&["-Z"]).is_err());
        assert!(run(&["-c"]).is_err());
        assert!(run(&["-f"]).is_err());
        assert!(matches!(run(&["-vv"]), Ok(Command::BuildInfo)));
    }
}
