//! Cookie persistence (`cookie NAME insert|rewrite|prefix ...` with server
//! `cookie VALUE`): a request carrying a server's cookie goes back to that
//! server; responses get the cookie set or rewritten.
use super::parse::{Header, RequestHead, ResponseHead};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CookieMode {
    Insert,
    Rewrite,
    Prefix,
}

/// A backend's compiled `cookie` line.
#[derive(Clone, Debug)]
pub struct CookieCfg {
    pub name: String,
    pub mode: CookieMode,
    pub indirect: bool,
    pub postonly: bool,
    pub httponly: bool,
    pub secure: bool,
    pub domains: Vec<String>,
    pub attrs: Vec<String>,
}

impl CookieCfg {
    /// Compiles the words after `cookie`; `Err` names an option this build
    /// cannot run yet.
    pub fn compile(words: &[String]) -> Result<CookieCfg, String> {
        let mut c = CookieCfg {
            name: words.first().cloned().unwrap_or_default(),
            mode: CookieMode::Rewrite,
            indirect: false,
            postonly: false,
            httponly: false,
            secure: false,
            domains: Vec::new(),
            attrs: Vec::new(),
        };
        let mut i = 1;
        while let Some(w) = words.get(i) {
            match w.as_str() {
                "insert" => c.mode = CookieMode::Insert,
                "rewrite" => c.mode = CookieMode::Rewrite,
                "prefix" => c.mode = CookieMode::Prefix,
                "indirect" => c.indirect = true,
                "nocache" => {}
                "postonly" => c.postonly = true,
                "httponly" => c.httponly = true,
                "secure" => c.secure = true,
                "domain" => {
                    c.domains
                        .push(words.get(i + 1).cloned().unwrap_or_default());
                    i += 1;
                }
                "attr" => {
                    c.attrs.push(words.get(i + 1).cloned().unwrap_or_default());
                    i += 1;
                }
                other => return Err(format!("cookie option '{other}'")),
            }
            i += 1;
        }
        Ok(c)
    }

    /// Looks for our cookie in the request: the index of the server it
    /// names (`servers[i]` is server i's `cookie` value). With `indirect` or
    /// `prefix`, the cookie (or its prefix) is taken out of what the server
    /// will see.
    pub fn persist(&self, req: &mut RequestHead, servers: &[Option<&str>]) -> Option<usize> {
        let mut found = None;
        for h in req.headers.iter_mut().filter(|h| h.name == "cookie") {
            let mut kept: Vec<Vec<u8>> = Vec::new();
            let mut changed = false;
            for part in h.value.split(|b| *b == b';') {
                let trimmed = part.trim_ascii();
                let (k, v) = match trimmed.iter().position(|b| *b == b'=') {
                    Some(i) => (&trimmed[..i], &trimmed[i + 1..]),
                    None => (trimmed, &b""[..]),
                };
                if k != self.name.as_bytes() {
                    kept.push(trimmed.to_vec());
                    continue;
                }
                let value = match self.mode {
                    CookieMode::Prefix => v.split(|b| *b == b'~').next().unwrap_or(v),
                    _ => v,
                };
                if found.is_none() {
                    found = servers
                        .iter()
                        .position(|s| s.is_some_and(|c| c.as_bytes() == value));
                }
                match self.mode {
                    CookieMode::Prefix => {
                        // The server gets its own cookie back, without our prefix.
                        let rest = v
                            .iter()
                            .position(|b| *b == b'~')
                            .map_or(&v[..0], |i| &v[i + 1..]);
                        let mut p = k.to_vec();
                        p.push(b'=');
                        p.extend_from_slice(rest);
                        kept.push(p);
                        changed = true;
                    }
                    _ if self.indirect => changed = true,
                    _ => kept.push(trimmed.to_vec()),
                }
            }
            if changed {
                h.value = kept.join(&b"; "[..]);
            }
        }
        req.headers
            .retain(|h| h.name != "cookie" || !h.value.is_empty());
        found
    }

    /// Adjusts the response from the server whose cookie value is
    /// `server_cookie`; `persisted` when the request already named it.
    pub fn respond(
        &self,
        res: &mut ResponseHead,
        method: &str,
        server_cookie: Option<&str>,
        persisted: bool,
    ) {
        let Some(value) = server_cookie else { return };
        match self.mode {
            CookieMode::Insert => {
                if persisted || (self.postonly && method != "POST") {
                    return;
                }
                let mut c = format!("{}={value}; path=/", self.name);
                for d in &self.domains {
                    c.push_str(&format!("; domain={d}"));
                }
                if self.httponly {
                    c.push_str("; HttpOnly");
                }
                if self.secure {
                    c.push_str("; Secure");
                }
                for a in &self.attrs {
                    c.push_str(&format!("; {a}"));
                }
                res.headers.push(Header::new("set-cookie", c));
            }
            CookieMode::Rewrite | CookieMode::Prefix => {
                for h in res.headers.iter_mut().filter(|h| h.name == "set-cookie") {
                    let name_eq = format!("{}=", self.name);
                    if !h.value.starts_with(name_eq.as_bytes()) {
                        continue;
                    }
                    let rest = &h.value[name_eq.len()..];
                    let end = rest.iter().position(|b| *b == b';').unwrap_or(rest.len());
                    let mut v = name_eq.into_bytes();
                    v.extend_from_slice(value.as_bytes());
                    if self.mode == CookieMode::Prefix {
                        v.push(b'~');
                        v.extend_from_slice(&rest[..end]);
                    }
                    v.extend_from_slice(&rest[end..]);
                    h.value = v;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::parse::{parse_request, parse_response};

    fn cfg(words: &str) -> CookieCfg {
        CookieCfg::compile(&words.split(' ').map(String::from).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn insert_indirect_persists_and_hides_the_cookie() {
        let c = cfg("SRV insert indirect nocache httponly");
        let (mut req, _) = parse_request(b"GET / HTTP/1.1\r\nCookie: a=1; SRV=c2; b=2\r\n\r\n")
            .unwrap()
            .unwrap();
        assert_eq!(c.persist(&mut req, &[Some("c1"), Some("c2")]), Some(1));
        assert_eq!(req.headers[0].value, b"a=1; b=2");
        let (mut res, _) = parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
            .unwrap()
            .unwrap();
        c.respond(&mut res, "GET", Some("c1"), false);
        assert_eq!(
            res.headers.last().unwrap().value,
            b"SRV=c1; path=/; HttpOnly"
        );
    }

    #[test]
    fn prefix_and_rewrite() {
        let c = cfg("JSESSIONID prefix");
        let (mut req, _) = parse_request(b"GET / HTTP/1.1\r\nCookie: JSESSIONID=s2~abc\r\n\r\n")
            .unwrap()
            .unwrap();
        assert_eq!(c.persist(&mut req, &[Some("s1"), Some("s2")]), Some(1));
        assert_eq!(req.headers[0].value, b"JSESSIONID=abc");
        let (mut res, _) =
            parse_response(b"HTTP/1.1 200 OK\r\nSet-Cookie: JSESSIONID=xyz; Path=/\r\n\r\n")
                .unwrap()
                .unwrap();
        c.respond(&mut res, "GET", Some("s1"), false);
        assert_eq!(res.headers[0].value, b"JSESSIONID=s1~xyz; Path=/");
        let r = cfg("SRV rewrite");
        let (mut res, _) =
            parse_response(b"HTTP/1.1 200 OK\r\nSet-Cookie: SRV=tbd; Path=/\r\n\r\n")
                .unwrap()
                .unwrap();
        r.respond(&mut res, "GET", Some("s9"), false);
        assert_eq!(res.headers[0].value, b"SRV=s9; Path=/");
    }
}
