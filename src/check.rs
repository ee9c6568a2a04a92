//! Loading the configuration (files and directories, as `-f` gives them),
//! `-c` (check mode) and `-cc` (evaluate a condition).
use crate::cli::Options;
use crate::report::Reporter;
use cfg_parser::ast::Config;
use cfg_parser::check::{check_config, CheckOptions};
use cfg_parser::cond::{self, CondContext};
use cfg_parser::{parse_files, ParseOptions, SourceFile};
use std::path::Path;

/// Answers `.if` predicates for this build.
struct BuildCond;

impl CondContext for BuildCond {
    fn env_defined(&self, name: &str) -> bool {
        std::env::var_os(name).is_some()
    }
    fn has_feature(&self, name: &str) -> bool {
        crate::features::has_feature(name)
    }
    fn version(&self) -> &str {
        crate::version::HAPROXY_COMPAT
    }
}

/// A configuration that was read and checked.
pub struct Loaded {
    pub config: Config,
    /// The compiled model; `-c` builds it too, so a config that passes `-c`
    /// is one the runtime can run.
    pub runtime: Option<crate::model::Runtime>,
    pub listeners: usize,
    /// No fatal error (warnings allowed unless zero-warning).
    pub ok: bool,
}

/// `-f` paths -> files: a directory gives its `*.cfg` regular files in byte
/// order, hidden files and subdirectories skipped.
fn expand_paths(paths: &[String]) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| {
            format!(
                "Cannot open configuration file/directory {p} : {}",
                cfg_parser::keywords::proxy::io_reason(&e)
            )
        })?;
        if !meta.is_dir() {
            out.push(p.clone());
            continue;
        }
        let rd = std::fs::read_dir(p).map_err(|e| {
            format!(
                "Cannot open configuration file/directory {p} : {}",
                cfg_parser::keywords::proxy::io_reason(&e)
            )
        })?;
        let mut names: Vec<String> = rd
            .filter_map(Result::ok)
            .filter(|e| e.file_type().map(|t| !t.is_dir()).unwrap_or(false))
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| !n.starts_with('.') && n.ends_with(".cfg"))
            .collect();
        names.sort();
        let base = p.trim_end_matches('/');
        out.extend(names.into_iter().map(|n| format!("{base}/{n}")));
    }
    Ok(out)
}

/// Reads, parses and checks the configuration, printing every diagnostic.
/// `None` means the command line itself was unusable (usage printed).
pub fn load(opts: &Options, out: &mut Reporter) -> Option<Loaded> {
    if let Some(dir) = &opts.chdir {
        if let Err(e) = std::env::set_current_dir(dir) {
            out.alert(&format!(
                "Cannot chdir to {dir} : {}",
                cfg_parser::keywords::proxy::io_reason(&e)
            ));
            return None;
        }
    }
    if std::env::var_os("HAPROXY_LOCALPEER").is_none() || opts.localpeer.is_some() {
        let peer = opts.localpeer.clone().unwrap_or_else(hostname);
        std::env::set_var("HAPROXY_LOCALPEER", peer);
    }
    let files = match expand_paths(&opts.cfg_paths) {
        Ok(f) => f,
        Err(msg) => {
            out.alert(&msg);
            return failed(Config::default(), 0);
        }
    };
    if files.is_empty() {
        print!("{}", crate::version::banner());
        eprint!("{}", crate::cli::USAGE);
        return None;
    }
    let mut sources = Vec::new();
    for f in &files {
        match std::fs::read(Path::new(f)) {
            Ok(data) => sources.push(SourceFile {
                name: f.clone(),
                data,
            }),
            Err(e) => {
                out.alert(&format!(
                    "Could not open configuration file {f} : {}",
                    cfg_parser::keywords::proxy::io_reason(&e)
                ));
                return failed(Config::default(), 0);
            }
        }
    }
    let parsed = parse_files(
        &sources,
        &ParseOptions {
            cond: &BuildCond,
            diag_mode: opts.diag_mode,
        },
    );
    out.emit_all(&parsed.diags);
    let fatal = parsed.diags.iter().any(|d| d.is_fatal());
    let aborted = parsed
        .diags
        .iter()
        .any(|d| d.outcome == cfg_parser::Outcome::Abort);
    if aborted {
        return failed(parsed.config, 0);
    }
    if fatal {
        out.alert("Fatal errors found in configuration.");
        return failed(parsed.config, 0);
    }
    let checked = check_config(
        &parsed.config,
        CheckOptions {
            ignore_unresolved: opts.ignore_unresolved,
        },
    );
    out.emit_all(&checked.diags);
    if checked.diags.iter().any(|d| d.is_fatal()) {
        if !checked.unresolved {
            out.alert("Fatal errors found in configuration.");
        }
        return failed(parsed.config, checked.listeners);
    }
    if (opts.zero_warning || parsed.config.global.zero_warning) && out.warnings > 0 {
        out.alert("Some warnings were found and 'zero-warning' is set. Aborting.");
        return failed(parsed.config, checked.listeners);
    }
    Some(Loaded {
        runtime: Some(crate::model::compile(&parsed.config)),
        config: parsed.config,
        listeners: checked.listeners,
        ok: true,
    })
}

/// A configuration that did not pass: nothing to run.
fn failed(config: Config, listeners: usize) -> Option<Loaded> {
    Some(Loaded {
        config,
        runtime: None,
        listeners,
        ok: false,
    })
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// `haproxy -c`: 0 valid, 1 errors, 2 valid but nothing would listen.
pub fn check_mode(opts: &Options) -> i32 {
    let mut out = Reporter::new(opts);
    let Some(loaded) = load(opts, &mut out) else {
        return 1;
    };
    if !loaded.ok {
        return 1;
    }
    let say = |s: &str| {
        if !opts.quiet {
            println!("{s}");
        }
    };
    if out.warnings > 0 {
        say("Warnings were found.");
    }
    if loaded.listeners == 0 {
        say("Configuration file has no error but will not start (no listener) => exit(2).");
        return 2;
    }
    say("Configuration file is valid");
    0
}

/// `haproxy -cc <expr>`: 0 true, 1 false, 2 unparsable.
pub fn eval_condition(expr: &str, opts: &Options) -> i32 {
    match cond::eval(expr, &BuildCond) {
        Ok(true) => 0,
        Ok(false) => 1,
        Err(e) => {
            let mut out = Reporter::new(opts);
            out.alert(&format!("Failed to evaluate condition: {}", e.message));
            2
        }
    }
}
