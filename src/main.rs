//! `haproxy`: main only dispatches.
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    std::process::exit(haproxy_rs::run(args));
}
