//! Every configuration keyword HAProxy 2.6 registers (its `-dKall` dump,
//! kept in tests/data/) has a row in our tables, so no keyword of a real
//! config is "unknown" to us while 2.6 knows it.
use cfg_parser::keywords::{
    bind::BIND_PARAMS, global, proxy::PROXY_KEYWORDS, server::SERVER_PARAMS,
};

/// (section, keyword) pairs from the "configuration keywords" part of the dump.
fn registered() -> Vec<(String, String)> {
    let dump = include_str!("data/haproxy-2.6-dKall.txt");
    let mut out = Vec::new();
    let mut in_cfg = false;
    let mut section = String::new();
    for line in dump.lines() {
        if line.starts_with("# List of registered") {
            in_cfg = line.contains("configuration keywords");
            continue;
        }
        if !in_cfg {
            continue;
        }
        if let Some(kw) = line.strip_prefix('\t') {
            out.push((section.clone(), kw.to_string()));
        } else {
            section = line.trim().to_string();
        }
    }
    out
}

#[test]
fn every_registered_keyword_is_in_a_table() {
    let reg = registered();
    assert!(reg.len() > 300, "dump not read: {}", reg.len());
    let mut missing = Vec::new();
    for (section, kw) in &reg {
        let words: Vec<&str> = kw.split_whitespace().collect();
        let known = match (section.as_str(), words.as_slice()) {
            ("global", [k]) => {
                global::GLOBAL_KEYWORDS.iter().any(|r| r.name == *k)
                    || global::TUNE_KEYWORDS.contains(k)
            }
            ("listen", ["bind", "<addr>", "ssl", k, ..])
            | ("listen", ["bind", "<addr>", k, ..]) => BIND_PARAMS.iter().any(|p| p.name == *k),
            ("listen", ["server", "<name>", "<addr>", k, ..]) => {
                SERVER_PARAMS.iter().any(|p| p.name == *k)
            }
            ("listen", [k, ..]) => PROXY_KEYWORDS.iter().any(|r| r.name == *k),
            // userlist, peers, crt-list: whole sections are handled (or refused) by the builder.
            _ => true,
        };
        if !known {
            missing.push(format!("{section}: {kw}"));
        }
    }
    assert!(
        missing.is_empty(),
        "keywords HAProxy 2.6 registers but we do not know:\n{}",
        missing.join("\n")
    );
}

/// The manual's keywords (tests/data/keywords-2.6.tsv, one row per keyword
/// with its section, capabilities and what 2.6 says): every global, proxy
/// and option keyword that 2.6 accepts has a row in our tables.
#[test]
fn every_manual_keyword_is_in_a_table() {
    let tsv = include_str!("data/keywords-2.6.tsv");
    let proxy_options = cfg_parser::keywords::proxy::option_names();
    let mut missing = Vec::new();
    for line in tsv.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let [section, kw, _caps, _args, support, notes] = cols[..] else {
            continue;
        };
        // Keywords 2.6 itself rejects, or that Debian's build does not have.
        if support == "removed"
            || notes.contains("not compiled into this")
            || notes.contains("NOT in 2.6")
        {
            continue;
        }
        let first = kw.split_whitespace().next().unwrap_or("");
        let known = match section {
            "global" => {
                global::GLOBAL_KEYWORDS.iter().any(|r| r.name == first)
                    || global::TUNE_KEYWORDS.contains(&first)
                    || first == "global"
            }
            "proxy" => {
                PROXY_KEYWORDS.iter().any(|r| r.name == first)
                    || ["defaults", "frontend", "backend", "listen"].contains(&first)
            }
            "option" => proxy_options.contains(&kw),
            _ => true,
        };
        if !known {
            missing.push(format!("{section}: {kw}"));
        }
    }
    assert!(
        missing.is_empty(),
        "manual keywords we do not know:\n{}",
        missing.join("\n")
    );
}
