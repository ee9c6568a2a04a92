//! haproxy-rs: a drop-in replacement for HAProxy 2.6.
pub mod check;
pub mod cli;
pub mod features;
pub mod model;
pub mod report;
pub mod version;

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
    if !loaded.ok {
        return 1;
    }
    out.alert_plain(
        "this build of haproxy-rs can check configurations (-c) but cannot run proxies yet: \
         the data path comes with a later release.",
    );
    1
}
