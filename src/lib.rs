//! haproxy-rs: a drop-in replacement for HAProxy 2.6.
pub mod acl;
pub mod balance;
pub mod check;
pub mod cli;
pub mod connect;
pub mod cpumap;
pub mod features;
pub mod health;
pub mod http;
pub mod listener;
pub mod log;
pub mod master;
pub mod master_cli;
pub mod model;
pub mod privileges;
pub mod report;
pub mod sample;
pub mod stats;
pub mod support;
pub mod tcp;
pub mod vars;
pub mod version;
pub mod worker;

use cli::{Command, Options};

/// Runs the command line; returns the process exit code.
pub fn run(args: Vec<String>) -> i32 {
    let opts = match cli::parse_args(&args) {
        Ok(Command::Version) => {
            print!("{}", version::banner());
            return 0;
        }
        Ok(Command::BuildInfo) => {
            print!("{}{}", version::banner(), version::build_info());
            return 0;
        }
        Ok(Command::Run(o)) => *o,
        Err(cli::Usage) => {
            print!("{}", version::banner());
            eprint!("{}", cli::USAGE);
            return 1;
        }
    };
    if let Some(expr) = &opts.check_condition {
        return check::eval_condition(expr, &opts);
    }
    run_with(opts)
}

fn run_with(mut opts: Options) -> i32 {
    if opts.check_only {
        return check::check_mode(&opts);
    }
    // A worker started by the master: its sockets come from the master,
    // which already printed the configuration's warnings.
    let from_master = master::worker_env();
    let quiet = opts.quiet;
    if from_master.is_some() {
        opts.quiet = true;
    }
    let mut out = report::Reporter::new(&opts);
    let Ok(runtime) = prepare(&opts, &mut out) else {
        return 1;
    };
    if let Some(sock) = opts.sockets_from.as_ref().filter(|_| from_master.is_none()) {
        // Without the stats socket's `expose-fd listeners`, the sockets are
        // bound anew; SO_REUSEPORT lets them coexist with the old process's.
        out.warning_plain(&format!(
            "'-x {sock}' is not supported yet by haproxy-rs: the listening sockets are bound anew instead of being taken from the old process."
        ));
    }
    let global = runtime.global_flags();
    let master_worker = opts.master_worker || opts.systemd || global.master_worker;
    // `-db`/`-d` (and `-Ws`, run by systemd) keep the process in the
    // foreground whatever `daemon` says.
    let daemon = (opts.daemon || global.daemon) && !opts.foreground && !opts.systemd;
    let mut ctl = worker::Control {
        soft_finish: opts.soft_finish.clone(),
        hard_terminate: opts.hard_terminate.clone(),
        quiet,
        ..Default::default()
    };
    match from_master {
        Some((inherited, ready)) => {
            ctl.inherited = inherited;
            ctl.ready = ready;
        }
        None if master_worker => {
            let args = std::env::args().skip(1).collect();
            return master::run(opts, args, runtime, daemon, out);
        }
        None if daemon => {
            // Standalone daemon: the launcher exits 0 once we listen; the
            // pidfile holds this (the serving) process.
            ctl.ready = master::daemonize();
            ctl.detach = true;
            if let Some(p) = &opts.pidfile {
                let _ = std::fs::write(p, format!("{}\n", std::process::id()));
            }
        }
        None => {}
    }
    // Start-up failures are printed even when the configuration's
    // warnings were not (a worker of the master).
    let mut out = report::Reporter::new(&Options {
        quiet,
        ..opts.clone()
    });
    match worker::run(runtime, !opts.no_reuseport, ctl) {
        Ok(()) => 0,
        Err(worker::RunError::Listeners(errors)) => {
            for e in &errors {
                out.alert_plain(&e.message);
            }
            out.alert_plain(
                "[haproxy.main()] Some protocols failed to start their listeners! Exiting.",
            );
            1
        }
        Err(worker::RunError::Fatal(msg)) => {
            out.alert_plain(&msg);
            1
        }
    }
}

/// The configuration cannot start; its alerts were printed.
#[derive(Debug)]
pub struct NotStarting;

/// Loads and checks the configuration exactly as `-c` does, then refuses
/// what this build cannot run; a configuration that does not pass never
/// starts.
pub fn prepare(opts: &Options, out: &mut report::Reporter) -> Result<model::Runtime, NotStarting> {
    let loaded = check::load(opts, out).ok_or(NotStarting)?;
    let (true, Some(mut runtime)) = (loaded.ok, loaded.runtime) else {
        return Err(NotStarting);
    };
    runtime.global.nosplice |= opts.no_splice;
    runtime.global.daemon |= loaded.config.global.daemon;
    runtime.global.master_worker |= loaded.config.global.master_worker;
    let mut pending = support::check_runnable(&loaded.config);
    // A listen section is compiled as a frontend and as a backend: the same
    // line may be reported twice.
    let mut seen = Vec::new();
    for (span, what) in &runtime.unrunnable {
        if !seen.contains(&(span, what)) {
            seen.push((span, what));
            pending.push(support::not_built(span, what));
        }
    }
    out.emit_all(&pending);
    if pending.iter().any(|d| d.is_fatal()) {
        out.alert("Fatal errors found in configuration.");
        return Err(NotStarting);
    }
    if runtime.listeners.is_empty() {
        out.alert_plain(
            "[haproxy.main()] No enabled listener found (check for 'bind' directives) ! Exiting.",
        );
        return Err(NotStarting);
    }
    Ok(runtime)
}
