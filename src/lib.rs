//! haproxy-rs: a drop-in replacement for HAProxy 2.6.
pub mod acl;
pub mod balance;
pub mod check;
pub mod cli;
pub mod connect;
pub mod features;
pub mod http;
pub mod listener;
pub mod model;
pub mod report;
pub mod sample;
pub mod support;
pub mod tcp;
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

fn run_with(opts: Options) -> i32 {
    if opts.check_only {
        return check::check_mode(&opts);
    }
    // Load and check exactly as `-c` does; a configuration that does not
    // pass never starts.
    let mut out = report::Reporter::new(&opts);
    let Some(loaded) = check::load(&opts, &mut out) else {
        return 1;
    };
    let (true, Some(mut runtime)) = (loaded.ok, loaded.runtime) else {
        return 1;
    };
    runtime.global.nosplice |= opts.no_splice;
    let mut pending = support::check_runnable(&loaded.config);
    pending.extend(
        runtime
            .unrunnable
            .iter()
            .map(|(span, what)| support::not_built(span, what)),
    );
    out.emit_all(&pending);
    if pending.iter().any(|d| d.is_fatal()) {
        out.alert("Fatal errors found in configuration.");
        return 1;
    }
    if runtime.listeners.is_empty() {
        out.alert_plain(
            "[haproxy.main()] No enabled listener found (check for 'bind' directives) ! Exiting.",
        );
        return 1;
    }
    // `-db`/`-d` keep the process in the foreground whatever `daemon` says.
    let daemon = (opts.daemon || loaded.config.global.daemon) && !opts.foreground;
    if daemon || opts.master_worker || loaded.config.global.master_worker {
        out.alert_plain(
            "daemon and master-worker modes are not built yet in haproxy-rs: run in the foreground (-db) for now.",
        );
        return 1;
    }
    match worker::run(runtime, !opts.no_reuseport) {
        Ok(()) => 0,
        Err(errors) => {
            for e in &errors {
                out.alert_plain(&e.message);
            }
            out.alert_plain(
                "[haproxy.main()] Some protocols failed to start their listeners! Exiting.",
            );
            1
        }
    }
}
