//! The golden corpus: every `cfg-parser/tests/golden/NAME.cfg` is checked
//! with `haproxy -c -f NAME.cfg` (run from that directory, as the captures
//! were), and the verdict, stdout and stderr must equal `NAME.expect`, which
//! was captured from the real HAProxy 2.6 — or `NAME.ours` where we differ on
//! purpose (its first line says why). `golden-multi/CASE/` holds multi-file
//! cases: the arguments are in `cmd`, the expected output in `expect`.
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// The same normalisation as tests/compat/normalize.sh: pids and the two
/// banner values do not take part in the comparison.
fn normalize(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let mut l = line.to_string();
        if l.starts_with('[') {
            if let (Some(a), Some(b)) = (l.find('('), l.find(')')) {
                if a < b && l[a + 1..b].bytes().all(|c| c.is_ascii_digit()) && b > a + 1 {
                    l.replace_range(a + 1..b, "PID");
                }
            }
        }
        for key in ["haproxy version is ", "path to executable is "] {
            if let Some(i) = l.find(key) {
                l.truncate(i + key.len());
                l.push_str(if key.starts_with("haproxy") {
                    "VERSION"
                } else {
                    "EXE"
                });
            }
        }
        out.push_str(&l);
        out.push('\n');
    }
    out
}

/// Runs our binary like the capture script ran the real one.
fn run_ours(dir: &Path, args: &[String]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_haproxy"))
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", "/root")
        .env("MULTI", "x y")
        .env("FOO", "bar")
        .output()
        .expect("run haproxy");
    format!(
        "exit: {}\n--- stdout\n{}--- stderr\n{}",
        out.status.code().unwrap_or(-1),
        normalize(&String::from_utf8_lossy(&out.stdout)),
        normalize(&String::from_utf8_lossy(&out.stderr))
    )
}

/// The expected text: `.ours` (minus its `# reason:` line) over `.expect`.
fn expected(expect: &Path, ours: &Path) -> Option<String> {
    if let Ok(t) = std::fs::read_to_string(ours) {
        return Some(
            t.lines()
                .skip_while(|l| l.starts_with("# reason:"))
                .map(|l| format!("{l}\n"))
                .collect(),
        );
    }
    std::fs::read_to_string(expect).ok().map(|t| normalize(&t))
}

fn diff(name: &str, want: &str, got: &str) -> String {
    let mut s = format!("=== {name}\n");
    let (w, g): (Vec<_>, Vec<_>) = (want.lines().collect(), got.lines().collect());
    for i in 0..w.len().max(g.len()) {
        match (w.get(i), g.get(i)) {
            (Some(a), Some(b)) if a == b => {}
            (a, b) => {
                s.push_str(&format!(
                    "  line {}:\n    want: {}\n    got:  {}\n",
                    i + 1,
                    a.unwrap_or(&"<none>"),
                    b.unwrap_or(&"<none>")
                ));
            }
        }
    }
    s
}

#[test]
fn golden_single_file_configs() {
    let dir = root().join("cfg-parser/tests/golden");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("golden dir")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".cfg"))
        .collect();
    names.sort();
    assert!(
        names.len() >= 2,
        "no golden configs found in {}",
        dir.display()
    );
    let mut failures = Vec::new();
    let mut checked = 0;
    for cfg in &names {
        let stem = cfg.trim_end_matches(".cfg");
        let Some(want) = expected(
            &dir.join(format!("{stem}.expect")),
            &dir.join(format!("{stem}.ours")),
        ) else {
            failures.push(format!("=== {stem}: no .expect or .ours file"));
            continue;
        };
        // Debian's error pages come with the haproxy package (the oracle).
        let text = std::fs::read_to_string(dir.join(cfg)).unwrap_or_default();
        if text.contains("/etc/haproxy/errors/") && !Path::new("/etc/haproxy/errors").is_dir() {
            println!("SKIP golden {stem}: needs /etc/haproxy/errors (apt-get install -y haproxy)");
            assert!(
                std::env::var("REQUIRE_ALL").as_deref() != Ok("1"),
                "REQUIRE_ALL=1: {stem} was skipped"
            );
            continue;
        }
        let got = run_ours(&dir, &["-c".into(), "-f".into(), cfg.clone()]);
        checked += 1;
        if want != got {
            failures.push(diff(stem, &want, &got));
        }
    }
    println!(
        "{checked} golden configs checked, {} differ",
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {checked} golden configs differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn golden_multi_file_cases() {
    let dir = root().join("cfg-parser/tests/golden-multi");
    let Ok(rd) = std::fs::read_dir(&dir) else {
        return;
    };
    let mut cases: Vec<PathBuf> = rd
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    let mut failures = Vec::new();
    for case in &cases {
        let cmd = std::fs::read_to_string(case.join("cmd")).expect("cmd file");
        let args: Vec<String> = cmd.split_whitespace().map(String::from).collect();
        let want = expected(&case.join("expect"), &case.join("ours")).expect("expect file");
        let got = run_ours(case, &args);
        if want != got {
            failures.push(diff(&case.display().to_string(), &want, &got));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
