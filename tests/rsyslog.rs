//! The packaged rsyslog snippet (packaging/rsyslog-haproxy.conf) with a real
//! rsyslogd: its UDP input and its `local2` rule put our `option httplog`
//! lines in the log file, and nothing of another facility.
mod common;
use common::Proxy;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Kills the rsyslogd this test started (by its PID) when dropped.
struct Rsyslogd(std::process::Child);

impl Drop for Rsyslogd {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn rsyslogd() -> Option<String> {
    ["/usr/sbin/rsyslogd", "/sbin/rsyslogd"]
        .iter()
        .find(|p| std::path::Path::new(p).exists())
        .map(|p| p.to_string())
}

#[test]
fn packaged_rsyslog_snippet_receives_the_lines() {
    let Some(bin) = rsyslogd() else {
        println!("SKIP ***** rsyslogd is not installed (apt-get install -y rsyslog): the packaged snippet was not tested *****");
        assert!(
            std::env::var("REQUIRE_ALL").as_deref() != Ok("1"),
            "REQUIRE_ALL=1 and no rsyslogd"
        );
        return;
    };
    let dir = common::scratch("rsyslog");
    // A UDP port for rsyslog: one the kernel just gave us.
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .expect("udp port")
        .port();
    let file = dir.join("haproxy.log");
    let snippet = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/packaging/rsyslog-haproxy.conf"
    ))
    .expect("snippet");
    assert!(snippet.contains("port=\"514\"") && snippet.contains("/var/log/haproxy.log"));
    // The snippet as installed, with a test port and file.
    let conf = format!(
        "global(workDirectory=\"{}\")\n{}",
        dir.display(),
        snippet
            .replace("port=\"514\"", &format!("port=\"{port}\""))
            .replace("/var/log/haproxy.log", &file.display().to_string())
    );
    let conf_path = dir.join("rsyslog.conf");
    std::fs::write(&conf_path, conf).expect("write rsyslog.conf");
    let child = Command::new(bin)
        .arg("-n")
        .arg("-f")
        .arg(&conf_path)
        .arg("-i")
        .arg(dir.join("rsyslogd.pid"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start rsyslogd");
    let _rs = Rsyslogd(child);
    let cfg = format!(
        "global\n log 127.0.0.1:{port} local2\n log 127.0.0.1:{port} local3\ndefaults\n log global\n mode http\n option httplog\n\
         timeout connect 2s\n timeout client 5s\n timeout server 5s\n\
         frontend f\n bind {{fe}}\n http-request return status 200 content-type text/plain string ok\n"
    );
    let px = Proxy::start("rsyslog-proxy", &cfg);
    // rsyslogd may still be starting: ask until a line lands in the file.
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut text = String::new();
    while Instant::now() < deadline {
        let r = px.get("/rsyslog-e2e", "x");
        assert_eq!(r.status, 200);
        std::thread::sleep(Duration::from_millis(200));
        text = std::fs::read_to_string(&file).unwrap_or_default();
        if text.contains("\"GET /rsyslog-e2e HTTP/1.1\"") {
            break;
        }
    }
    let lines: Vec<&str> = text.lines().collect();
    assert!(!lines.is_empty(), "nothing reached {}", file.display());
    // Each request sent one local2 and one local3 datagram; only the local2
    // ones are in the file, parsed as syslog lines of program haproxy.
    let first = lines[0];
    assert!(first.contains(" haproxy["), "{first}");
    assert!(
        first.contains(" f f/<NOSRV> ") && first.contains(" 200 ") && first.contains(" LR-- "),
        "{first}"
    );
    let requests = text.matches("GET /rsyslog-e2e").count();
    assert_eq!(requests, lines.len(), "{text}");
}
