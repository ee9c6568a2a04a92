//! The command line as HAProxy 2.6 answers it: version, usage, check mode
//! exit codes and messages, `-q`, `-dW`, `-cc`, several `-f` and directories.
use std::path::PathBuf;
use std::process::{Command, Output};

fn haproxy(args: &[&str], dir: &std::path::Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_haproxy"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run haproxy")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A fresh directory under target/ for one test's files.
fn scratch(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("scratch dir");
    d
}

const VALID: &str = "global\n  maxconn 100\ndefaults\n  mode http\n  timeout connect 5s\n  timeout client 30s\n  timeout server 30s\nfrontend fe\n  bind 127.0.0.1:18080\n  default_backend be\nbackend be\n  server s1 127.0.0.1:18081\n";

#[test]
fn version_names_haproxy_2_6_and_our_version() {
    let out = haproxy(&["-v"], &scratch("v"));
    assert_eq!(out.status.code(), Some(0));
    let first = text(&out.stdout)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string();
    assert!(
        first.starts_with("HAProxy version 2.6.0-haproxy-rs-"),
        "{first}"
    );
    let vv = text(&haproxy(&["-vv"], &scratch("vv")).stdout);
    let features = vv
        .lines()
        .find(|l| l.starts_with("Feature list : "))
        .expect("Feature list line");
    assert!(
        features.contains("+LINUX_SPLICE") && features.contains("-OPENSSL"),
        "{features}"
    );
}

#[test]
fn bad_command_lines_print_usage_and_exit_1() {
    for args in [&[][..], &["-Z"], &["-c"], &["-f"]] {
        let out = haproxy(args, &scratch("usage"));
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(text(&out.stdout).starts_with("HAProxy version"), "{args:?}");
        assert!(
            text(&out.stderr).starts_with("Usage : haproxy [-f <cfgfile|cfgdir>]*"),
            "{args:?}"
        );
    }
}

#[test]
fn check_mode_verdicts_and_quiet() {
    let d = scratch("verdicts");
    std::fs::write(d.join("valid.cfg"), VALID).unwrap();
    std::fs::write(
        d.join("warn.cfg"),
        VALID.replace("  timeout client 30s\n", ""),
    )
    .unwrap();
    std::fs::write(
        d.join("bad.cfg"),
        VALID.replace("maxconn 100", "maxconnz 100"),
    )
    .unwrap();
    std::fs::write(d.join("nolisten.cfg"), "global\n  maxconn 10\n").unwrap();

    let out = haproxy(&["-c", "-f", "valid.cfg"], &d);
    assert_eq!(
        (out.status.code(), text(&out.stdout)),
        (Some(0), "Configuration file is valid\n".into())
    );
    assert!(out.stderr.is_empty());

    let out = haproxy(&["-c", "-f", "warn.cfg"], &d);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text(&out.stdout),
        "Warnings were found.\nConfiguration file is valid\n"
    );
    assert!(text(&out.stderr).contains("config : missing timeouts for frontend 'fe'."));

    let out = haproxy(&["-c", "-f", "bad.cfg"], &d);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains(
            "config : parsing [bad.cfg:2] : unknown keyword 'maxconnz' in 'global' section"
        ),
        "{err}"
    );
    assert!(
        err.ends_with("config : Fatal errors found in configuration.\n"),
        "{err}"
    );

    let out = haproxy(&["-c", "-f", "nolisten.cfg"], &d);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stdout),
        "Configuration file has no error but will not start (no listener) => exit(2).\n"
    );

    for (f, code) in [
        ("valid.cfg", 0),
        ("warn.cfg", 0),
        ("bad.cfg", 1),
        ("nolisten.cfg", 2),
    ] {
        let out = haproxy(&["-q", "-c", "-f", f], &d);
        assert_eq!(out.status.code(), Some(code), "{f}");
        assert!(
            out.stdout.is_empty() && out.stderr.is_empty(),
            "-q must silence {f}"
        );
    }

    let out = haproxy(&["-c", "-dW", "-f", "warn.cfg"], &d);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(text(&out.stderr)
        .ends_with("config : Some warnings were found and 'zero-warning' is set. Aborting.\n"));
}

#[test]
fn missing_file_is_an_alert_and_exit_1() {
    let out = haproxy(&["-c", "-f", "/nonexistent.cfg"], &scratch("missing"));
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("[NOTICE]   ("), "{err}");
    assert!(err.contains("[ALERT]    ("), "{err}");
    assert!(err.contains("config : Cannot open configuration file/directory /nonexistent.cfg : No such file or directory"), "{err}");
}

#[test]
fn directories_load_cfg_files_in_byte_order() {
    let d = scratch("dirs");
    let conf = d.join("conf.d");
    std::fs::create_dir_all(conf.join("sub")).unwrap();
    for n in [
        "10.cfg",
        "Z.cfg",
        "a.cfg",
        ".hidden.cfg",
        "c.conf",
        "sub/x.cfg",
    ] {
        std::fs::write(conf.join(n), format!(".notice \"file {n}\"\n")).unwrap();
    }
    std::fs::write(d.join("main.cfg"), ".notice \"file main\"\n").unwrap();
    let out = haproxy(&["-c", "-f", "main.cfg", "-f", "conf.d"], &d);
    assert_eq!(out.status.code(), Some(2));
    let notices: Vec<String> = text(&out.stderr)
        .lines()
        .map(|l| l.split(" : config : ").nth(1).unwrap_or("").to_string())
        .collect();
    assert_eq!(
        notices,
        [
            "parsing [main.cfg:1]: 'file main'.",
            "parsing [conf.d/10.cfg:1]: 'file 10.cfg'.",
            "parsing [conf.d/Z.cfg:1]: 'file Z.cfg'.",
            "parsing [conf.d/a.cfg:1]: 'file a.cfg'."
        ]
    );
}

#[test]
fn check_condition_exit_codes() {
    let d = scratch("cc");
    assert_eq!(
        haproxy(&["-cc", "version_atleast(2.4) && !feature(OPENSSL)"], &d)
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        haproxy(&["-cc", "version_before(2.6)"], &d).status.code(),
        Some(1)
    );
    let out = haproxy(&["-cc", "bogus(1)"], &d);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains(
        "config : Failed to evaluate condition: unparsable conditional expression 'bogus(1)'"
    ));
}
