//! The agent check (`agent-check`): one TCP exchange with the server's
//! agent, whose one-line answer sets the server's health (`up`, `down`,
//! `fail`, `stopped`), its administrative state (`ready`, `drain`,
//! `maint`), its weight (`75%`) and its `maxconn:N`.
use super::probe::strerror;
use super::status::{Outcome, Status};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::time::Instant;

/// The administrative state an agent asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admin {
    Ready,
    Drain,
    Maint,
}

/// What an agent's answer says; words it does not say leave things as
/// they are.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reply {
    /// The health word as written (`up`, `down`, `fail`, `stopped`).
    pub health: Option<String>,
    pub admin: Option<Admin>,
    /// A weight in percent of the configured one.
    pub weight_pct: Option<u32>,
    pub maxconn: Option<u32>,
    /// The text reported with the health word: what follows a `#`, else
    /// the first word the agent protocol does not know.
    pub msg: Option<String>,
}

impl Reply {
    pub fn is_up(&self) -> bool {
        self.health
            .as_deref()
            .is_some_and(|h| h.eq_ignore_ascii_case("up"))
    }

    /// `via agent : down (reason)`, the info of the state change.
    pub fn describe(&self) -> String {
        let word = self.health.as_deref().unwrap_or("");
        match self.msg.as_deref().filter(|m| !m.is_empty()) {
            Some(m) => format!("via agent : {word} ({m})"),
            None => format!("via agent : {word}"),
        }
    }
}

/// Parses the first line of an agent's answer: words separated by
/// spaces, tabs or commas, until a word starting with `#` (the rest of the
/// line is then the message).
pub fn parse(answer: &[u8]) -> Reply {
    let end = answer
        .iter()
        .position(|b| *b == b'\r' || *b == b'\n')
        .unwrap_or(answer.len());
    let line = String::from_utf8_lossy(&answer[..end]).into_owned();
    let mut r = Reply::default();
    let mut unknown: Option<String> = None;
    let mut rest = line.as_str();
    loop {
        rest = rest.trim_start_matches([' ', '\t', ',']);
        if rest.is_empty() {
            break;
        }
        if let Some(comment) = rest.strip_prefix('#') {
            r.msg = Some(comment.trim_start_matches([' ', '\t']).to_string());
            break;
        }
        let len = rest.find([' ', '\t', ',']).unwrap_or(rest.len());
        let (word, tail) = rest.split_at(len);
        rest = tail;
        let lower = word.to_ascii_lowercase();
        match lower.as_str() {
            "up" | "down" | "fail" | "stopped" => r.health = Some(word.to_string()),
            "ready" => r.admin = Some(Admin::Ready),
            "drain" => r.admin = Some(Admin::Drain),
            "maint" => r.admin = Some(Admin::Maint),
            _ => {
                if let Some(pct) = lower.strip_suffix('%').and_then(|p| p.parse().ok()) {
                    r.weight_pct = Some(pct);
                } else if let Some(n) = lower.strip_prefix("maxconn:").and_then(|n| n.parse().ok())
                {
                    r.maxconn = Some(n);
                } else if unknown.is_none() {
                    unknown = Some(word.to_string());
                }
            }
        }
    }
    if r.msg.is_none() {
        r.msg = unknown;
    }
    r
}

/// One agent exchange: connect, send `send`, read the first line.
/// Err: the agent could not be reached or answered nothing usable (this
/// never changes the server's state).
pub async fn query(
    target: SocketAddr,
    source: Option<SocketAddr>,
    send: &[u8],
    limit: Duration,
) -> Result<Reply, Outcome> {
    let start = Instant::now();
    let deadline = start + limit;
    let done = |mut o: Outcome| {
        o.duration_ms = Some(start.elapsed().as_millis() as u64);
        o
    };
    let connect = async {
        let sock = if target.is_ipv4() {
            tokio::net::TcpSocket::new_v4()?
        } else {
            tokio::net::TcpSocket::new_v6()?
        };
        socket2::SockRef::from(&sock).set_linger(Some(Duration::ZERO))?;
        if let Some(src) = source {
            sock.bind(src)?;
        }
        sock.connect(target).await
    };
    let s = match tokio::time::timeout_at(deadline, connect).await {
        Err(_) => return Err(done(Outcome::new(Status::L4Tout, ""))),
        Ok(Err(e)) => return Err(done(Outcome::new(Status::L4Con, strerror(&e)))),
        Ok(Ok(s)) => s,
    };
    let exchange = async {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut s = s;
        if !send.is_empty() {
            s.write_all(send).await?;
        }
        let mut buf = Vec::new();
        let mut chunk = [0u8; 1024];
        loop {
            let n = s.read(&mut chunk).await?;
            buf.extend_from_slice(&chunk[..n]);
            if n == 0 || buf.contains(&b'\n') || buf.contains(&b'\r') || buf.len() >= 1024 {
                return Ok::<_, std::io::Error>(buf);
            }
        }
    };
    match tokio::time::timeout_at(deadline, exchange).await {
        Err(_) => Err(done(Outcome::new(Status::L7Tout, ""))),
        Ok(Err(e)) => Err(done(Outcome::new(Status::SockErr, strerror(&e)))),
        Ok(Ok(buf)) => {
            let r = parse(&buf);
            if r == Reply::default()
                || (r.health.is_none()
                    && r.admin.is_none()
                    && r.weight_pct.is_none()
                    && r.maxconn.is_none())
            {
                return Err(done(Outcome::new(Status::L7Rsp, "")));
            }
            Ok(r)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(s: &str) -> (Option<String>, Option<String>) {
        let r = parse(s.as_bytes());
        (r.health, r.msg)
    }

    #[test]
    fn words_and_messages_as_2_6_reads_them() {
        // Each case was answered by an agent to HAProxy 2.6 and its
        // message read back.
        let r = parse(b"down 50%\n");
        assert_eq!(r.describe(), "via agent : down");
        assert_eq!(r.weight_pct, Some(50));
        assert_eq!(
            parse(b"fail oops more 20%\n").describe(),
            "via agent : fail (oops)"
        );
        assert_eq!(parse(b"oops down\n").describe(), "via agent : down (oops)");
        assert_eq!(
            parse(b"down # x, y\n").describe(),
            "via agent : down (x, y)"
        );
        assert_eq!(parse(b"down a#b c\n").describe(), "via agent : down (a#b)");
        assert_eq!(
            parse(b"50% stopped # x\n").describe(),
            "via agent : stopped (x)"
        );
        assert_eq!(parse(b"DOWN\n").describe(), "via agent : DOWN");
        assert_eq!(msg("down#x y\n"), (None, Some("down#x".into())));
        let r = parse(b"stopped\tmaint # q\n");
        assert_eq!(r.admin, Some(Admin::Maint));
        let r = parse(b"maxconn:10 25%\r\nup\n");
        assert_eq!(
            (r.maxconn, r.weight_pct, r.health),
            (Some(10), Some(25), None)
        );
        assert_eq!(parse(b"up ready").admin, Some(Admin::Ready));
        assert!(parse(b"up").is_up());
    }
}
