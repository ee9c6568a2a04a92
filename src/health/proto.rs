//! The protocol checks (`option mysql-check`, `pgsql-check`, `redis-check`,
//! `smtpchk`, `ssl-hello-chk`, `ldap-check`): the rule lists HAProxy 2.6
//! runs for them (same steps, so messages name the same step numbers), the
//! bytes they send, and the verdicts of the protocol-specific steps.
use super::spec::{Action, Connect, Custom, Expect, Info, Matcher, Rule};
use super::status::Status;

fn rule(action: Action) -> Rule {
    Rule {
        step: 0,
        comment: None,
        action,
    }
}

fn connect_default_linger() -> Rule {
    rule(Action::Connect(Connect {
        default: true,
        linger: true,
        ..Connect::default()
    }))
}

fn expect(matcher: Matcher) -> Expect {
    Expect::new(matcher)
}

fn re(p: &str) -> regex::bytes::Regex {
    // The patterns are constants of this file.
    regex::bytes::Regex::new(p).unwrap_or_else(|_| unreachable!("constant regex {p}"))
}

/// The rules of a protocol check option and its arguments.
pub fn ruleset(kind: &str, args: &[String]) -> Result<Vec<Rule>, String> {
    let mut rules = Vec::new();
    match kind {
        "redis-check" => {
            rules.push(rule(Action::Send(b"*1\r\n$4\r\nPING\r\n".to_vec())));
            let mut e = expect(Matcher::String(b"+PONG\r\n".to_vec()));
            e.error_status = Some(Status::L7Sts);
            e.on_error = Some(Info::payload(0, false));
            e.on_success = Some(Info::Text("Redis server is ok".into()));
            rules.push(rule(Action::Expect(e)));
        }
        "ssl-hello-chk" => {
            rules.push(rule(Action::SendSslHello));
            let mut e = expect(Matcher::Rbinary(
                regex::Regex::new("^1[56]").unwrap_or_else(|_| unreachable!()),
            ));
            e.min_recv = Some(5);
            e.ok_status = Some(Status::L6Ok);
            e.error_status = Some(Status::L6Rsp);
            e.tout_status = Some(Status::L6Tout);
            rules.push(rule(Action::Expect(e)));
        }
        "ldap-check" => {
            rules.push(rule(Action::Send(
                b"\x30\x0c\x02\x01\x01\x60\x07\x02\x01\x03\x04\x00\x80\x00".to_vec(),
            )));
            let mut e = expect(Matcher::Rbinary(
                regex::Regex::new("^30").unwrap_or_else(|_| unreachable!()),
            ));
            e.min_recv = Some(14);
            e.on_error = Some(Info::Text("Not LDAPv3 protocol".into()));
            rules.push(rule(Action::Expect(e)));
            rules.push(rule(Action::Expect(expect(Matcher::Custom(
                Custom::LdapBind,
            )))));
        }
        "smtpchk" => {
            // `option smtpchk [HELO|EHLO <domain>]`; anything else is HELO localhost.
            let cmd = match args {
                [verb, domain, ..] if verb == "HELO" || verb == "EHLO" => {
                    format!("{verb} {domain}")
                }
                _ => "HELO localhost".to_string(),
            };
            rules.push(connect_default_linger());
            let mut e = expect(Matcher::Rstring(re("^[0-9]{3}[ \r]")));
            e.min_recv = Some(4);
            e.error_status = Some(Status::L7Rsp);
            e.on_error = Some(Info::payload(0, false));
            rules.push(rule(Action::Expect(e)));
            let reply = |pattern: &str, success: bool| {
                let mut e = expect(Matcher::Rstring(re(pattern)));
                e.min_recv = Some(4);
                e.error_status = Some(Status::L7Sts);
                e.on_error = Some(Info::payload(4, true));
                if success {
                    e.on_success = Some(Info::payload(4, true));
                }
                e.code_from_reply = true;
                rule(Action::Expect(e))
            };
            rules.push(reply("^2[0-9]{2}[ \r]", false));
            rules.push(rule(Action::Send(format!("{cmd}\r\n").into_bytes())));
            rules.push(reply("^2[0-9]{2}[- \r]", true));
            rules.push(rule(Action::Send(b"QUIT\r\n".to_vec())));
            rules.push(reply("^2[0-9]{2}[- \r]", true));
        }
        "pgsql-check" => {
            let user = match args {
                [kw, user, ..] if kw == "user" => user,
                _ => return Err("'option pgsql-check' without 'user <name>'".into()),
            };
            rules.push(connect_default_linger());
            let mut msg = Vec::new();
            msg.extend_from_slice(&0x0003_0000u32.to_be_bytes());
            msg.extend_from_slice(b"user\0");
            msg.extend_from_slice(user.as_bytes());
            msg.extend_from_slice(b"\0\0");
            let mut pkt = ((msg.len() + 4) as u32).to_be_bytes().to_vec();
            pkt.extend_from_slice(&msg);
            rules.push(rule(Action::Send(pkt)));
            let mut e = expect(Matcher::Rstring(re("^E")));
            e.negate = true;
            e.min_recv = Some(5);
            e.error_status = Some(Status::L7Rsp);
            e.on_error = Some(Info::payload(6, false));
            rules.push(rule(Action::Expect(e)));
            let mut e = expect(Matcher::Rbinary(
                regex::Regex::new("^52000000(08|0A|0C)000000(00|02|03|04|05|06|07|09|0A)")
                    .unwrap_or_else(|_| unreachable!()),
            ));
            e.min_recv = Some(9);
            e.error_status = Some(Status::L7Sts);
            e.on_success = Some(Info::Text("PostgreSQL server is ok".into()));
            e.on_error = Some(Info::Text("PostgreSQL unknown error".into()));
            rules.push(rule(Action::Expect(e)));
        }
        "mysql-check" => {
            rules.push(connect_default_linger());
            let user = match args {
                [] => None,
                [kw, user, rest @ ..] if kw == "user" && rest.len() <= 1 => {
                    Some((user, rest.first().map(String::as_str) != Some("pre-41")))
                }
                _ => return Err(format!("'option mysql-check {}'", args.join(" "))),
            };
            if let Some((user, post41)) = user {
                rules.push(rule(Action::Send(mysql_login(user, post41))));
                rules.push(rule(Action::Expect(expect(Matcher::Custom(
                    Custom::MysqlHandshake,
                )))));
                rules.push(rule(Action::Expect(expect(Matcher::Custom(
                    Custom::MysqlOk,
                )))));
            } else {
                rules.push(rule(Action::Expect(expect(Matcher::Custom(
                    Custom::MysqlHandshake,
                )))));
            }
        }
        other => return Err(format!("'option {other}'")),
    }
    super::spec::prepend_connect(&mut rules);
    Ok(rules)
}

/// A client login packet for `user` without password (4.1 or older
/// format), followed by a QUIT packet, as 2.6 sends before reading the
/// server's greeting.
fn mysql_login(user: &str, post41: bool) -> Vec<u8> {
    let mut payload = Vec::new();
    if post41 {
        payload.extend_from_slice(&[0x00, 0x82, 0x00, 0x00]); // capabilities
        payload.extend_from_slice(&[0x00, 0x80, 0x00, 0x01]); // max packet
        payload.push(0x21); // charset
        payload.extend_from_slice(&[0; 23]);
    } else {
        payload.extend_from_slice(&[0x00, 0x80]); // capabilities
        payload.extend_from_slice(&[0x00, 0x00, 0x01]); // max packet
    }
    payload.extend_from_slice(user.as_bytes());
    payload.push(0);
    payload.push(0); // no password
    let len = payload.len() as u32;
    let mut out = vec![len as u8, (len >> 8) as u8, (len >> 16) as u8, 1];
    out.extend_from_slice(&payload);
    out.extend_from_slice(&[0x01, 0x00, 0x00, 0x00, 0x01]);
    out
}

/// The SSLv3 ClientHello of `ssl-hello-chk`: `now` (seconds since the
/// epoch) goes in the random's first four bytes.
pub fn ssl_hello(now: u32) -> Vec<u8> {
    let mut hello = vec![0x03, 0x00];
    hello.extend_from_slice(&now.to_be_bytes());
    hello.extend_from_slice(b"HAPROXYSSLCHK\nHAPROXYSSLCHK\n");
    hello.push(0); // session id
    let suites: Vec<u16> = (0x01..=0x1b).chain(0x2f..=0x3a).collect();
    hello.extend_from_slice(&((suites.len() * 2) as u16).to_be_bytes());
    for s in suites {
        hello.extend_from_slice(&s.to_be_bytes());
    }
    hello.extend_from_slice(&[0x01, 0x00]); // compression: null
    let mut hs = vec![0x01, 0x00];
    hs.extend_from_slice(&(hello.len() as u16).to_be_bytes());
    hs.extend_from_slice(&hello);
    let mut rec = vec![0x16, 0x03, 0x00];
    rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
    rec.extend_from_slice(&hs);
    rec
}

/// What a protocol-specific step decides on the bytes received so far.
#[derive(Debug, PartialEq, Eq)]
pub enum CustomVerdict {
    /// More bytes are needed (unless the connection ended).
    Wait,
    Pass,
    Fail {
        status: Status,
        code: i32,
        desc: String,
    },
}

/// Judges `buf` (everything received, `eof` when no more will come).
pub fn judge(c: Custom, buf: &[u8], eof: bool) -> CustomVerdict {
    match c {
        Custom::MysqlHandshake => mysql_packet(buf, 0, eof),
        Custom::MysqlOk => {
            // The server's OK follows its greeting in the same buffer.
            let Some(first) = mysql_len(buf, 0) else {
                return CustomVerdict::Wait;
            };
            mysql_packet(buf, 4 + first, eof)
        }
        Custom::LdapBind => ldap_bind(buf),
        Custom::HttpDefault => CustomVerdict::Pass,
    }
}

fn mysql_len(buf: &[u8], at: usize) -> Option<usize> {
    let h = buf.get(at..at + 3)?;
    Some(h[0] as usize | (h[1] as usize) << 8 | (h[2] as usize) << 16)
}

/// One MySQL packet at `at`: an error packet (0xff) fails with its code
/// and text.
fn mysql_packet(buf: &[u8], at: usize, eof: bool) -> CustomVerdict {
    let incomplete = || {
        if eof {
            CustomVerdict::Fail {
                status: Status::L7Rsp,
                code: 0,
                desc: String::new(),
            }
        } else {
            CustomVerdict::Wait
        }
    };
    let Some(len) = mysql_len(buf, at) else {
        return incomplete();
    };
    if buf.len() < at + 4 + len {
        return incomplete();
    }
    if buf.get(at + 4) == Some(&0xff) {
        let code = buf
            .get(at + 5..at + 7)
            .map_or(0, |c| i32::from(c[0]) | i32::from(c[1]) << 8);
        let text = buf.get(at + 7..at + 4 + len).unwrap_or_default();
        return CustomVerdict::Fail {
            status: Status::L7Sts,
            code,
            desc: String::from_utf8_lossy(text).into_owned(),
        };
    }
    CustomVerdict::Pass
}

/// An LDAPv3 BindResponse with resultCode 0.
fn ldap_bind(buf: &[u8]) -> CustomVerdict {
    let not_ldap = || CustomVerdict::Fail {
        status: Status::L7Rsp,
        code: 0,
        desc: "Not LDAPv3 protocol".into(),
    };
    // A BER length: short form, or 0x8N followed by N bytes.
    let skip_len = |at: usize| -> Option<usize> {
        let b = *buf.get(at)?;
        Some(if b & 0x80 != 0 {
            at + 1 + (b & 0x7f) as usize
        } else {
            at + 1
        })
    };
    let Some(p) = skip_len(1) else {
        return not_ldap();
    };
    if buf.get(p..p + 4) != Some(b"\x02\x01\x01\x61") {
        return not_ldap();
    }
    let Some(p) = skip_len(p + 4) else {
        return not_ldap();
    };
    if buf.get(p..p + 2) != Some(b"\x0a\x01") {
        return not_ldap();
    }
    match buf.get(p + 2) {
        Some(0) => CustomVerdict::Pass,
        Some(code) => CustomVerdict::Fail {
            status: Status::L7Sts,
            code: i32::from(*code),
            desc: "See RFC: http://tools.ietf.org/html/rfc4511#section-4.1.9".into(),
        },
        None => not_ldap(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sent_bytes_are_2_6s() {
        assert_eq!(
            mysql_login("alice", false),
            b"\x0c\x00\x00\x01\x00\x80\x00\x00\x01alice\x00\x00\x01\x00\x00\x00\x01"
        );
        let post = mysql_login("alice", true);
        assert_eq!(&post[..4], b"\x27\x00\x00\x01");
        assert_eq!(post.len(), 4 + 39 + 5);
        let h = ssl_hello(0x6b06_f87b);
        assert_eq!(&h[..11], b"\x16\x03\x00\x00\x79\x01\x00\x00\x75\x03\x00");
        assert_eq!(&h[11..15], b"\x6b\x06\xf8\x7b");
        assert_eq!(h.len(), 126);
        assert_eq!(&h[h.len() - 4..], b"\x00\x3a\x01\x00");
    }

    #[test]
    fn verdicts() {
        let ok = b"\x30\x0c\x02\x01\x01\x61\x07\x0a\x01\x00\x04\x00\x04\x00";
        assert_eq!(ldap_bind(ok), CustomVerdict::Pass);
        let mut bad = ok.to_vec();
        bad[9] = 49;
        assert!(matches!(
            ldap_bind(&bad),
            CustomVerdict::Fail { code: 49, .. }
        ));
        assert!(matches!(
            ldap_bind(b"\x30\x00"),
            CustomVerdict::Fail {
                status: Status::L7Rsp,
                ..
            }
        ));
        let greet = b"\x0b\x00\x00\x00\x0a5.7.1-test\x00";
        assert_eq!(mysql_packet(greet, 0, false), CustomVerdict::Pass);
        assert_eq!(mysql_packet(&greet[..6], 0, false), CustomVerdict::Wait);
        let err = b"\x09\x00\x00\x00\xff\x15\x04denied";
        assert_eq!(
            mysql_packet(err, 0, true),
            CustomVerdict::Fail {
                status: Status::L7Sts,
                code: 1045,
                desc: "denied".into()
            }
        );
    }
}
