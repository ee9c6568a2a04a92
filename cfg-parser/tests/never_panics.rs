//! Property: reading any bytes as a configuration never panics. Inputs are
//! random mixes of bytes and config fragments (quotes, `$`, `\`, section
//! names, `.if`), from a fixed seed so a failure is reproducible.
use cfg_parser::check::{check_config, CheckOptions};
use cfg_parser::cond::CondContext;
use cfg_parser::{parse_files, ParseOptions, SourceFile};

struct Ctx;
impl CondContext for Ctx {
    fn env_defined(&self, name: &str) -> bool {
        name == "HOME"
    }
    fn has_feature(&self, _: &str) -> bool {
        false
    }
    fn version(&self) -> &str {
        "2.6.0"
    }
}

/// xorshift64*: small, deterministic, no dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const PIECES: &[&str] = &[
    "global\n",
    "defaults\n",
    "defaults d from d\n",
    "frontend fe\n",
    "backend be\n",
    "listen l\n",
    "userlist u\n",
    "peers p\n",
    " bind ",
    " server s ",
    " 127.0.0.1:80",
    "[::1]:",
    "*:",
    "-",
    ",",
    " check",
    " inter ",
    "1x",
    " acl a ",
    " path_beg ",
    "{ ",
    " }",
    " if ",
    " unless ",
    "!",
    " use_backend ",
    " default_backend ",
    " timeout ",
    " client ",
    "\"",
    "'",
    "\\",
    "\\x",
    "$",
    "${",
    "}",
    "[*]",
    "#",
    ".if ",
    ".elif ",
    ".else\n",
    ".endif\n",
    ".notice ",
    ".alert ",
    "defined(",
    "(",
    ")",
    "&&",
    "||",
    " option ",
    " httplog",
    " no ",
    " reqadd ",
    " http-request ",
    " deny",
    " mode http",
    " balance ",
    " hdr(",
    "\n",
    "\r\n",
    "\t",
    " ",
    "\0",
    "\u{00e9}",
    "\u{ff}",
    " log ",
    " local0",
    " stats socket ",
    " from ",
    " maxconn ",
    "99999999999999999999",
];

#[test]
fn random_inputs_never_panic() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..20000 {
        let mut data = Vec::new();
        for _ in 0..rng.below(60) {
            if rng.below(4) == 0 {
                data.push(rng.next() as u8);
            } else {
                data.extend_from_slice(PIECES[rng.below(PIECES.len())].as_bytes());
            }
        }
        let files = [SourceFile {
            name: "fuzz.cfg".into(),
            data,
        }];
        let parsed = parse_files(
            &files,
            &ParseOptions {
                cond: &Ctx,
                diag_mode: true,
            },
        );
        for d in &parsed.diags {
            let _ = d.render(1);
        }
        if !parsed.diags.iter().any(|d| d.is_fatal()) {
            let _ = check_config(&parsed.config, CheckOptions::default());
        }
    }
}
