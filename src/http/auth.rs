//! `userlist` sections and HTTP basic authentication: the `http_auth`,
//! `http_auth_group`, `http_auth_user`, `http_auth_pass` and `http_auth_type`
//! fetches and the `http-request auth` reply. Hashed passwords are checked
//! with the system's crypt(3), as HAProxy does (SHA-512, SHA-256, MD5...).
use std::ffi::{CStr, CString};

/// A compiled `userlist`.
#[derive(Clone, Debug)]
pub struct Userlist {
    pub name: String,
    users: Vec<User>,
}

#[derive(Clone, Debug)]
struct User {
    name: String,
    password: String,
    insecure: bool,
    groups: Vec<String>,
}

impl Userlist {
    pub fn compile(u: &cfg_parser::ast::Userlist) -> Userlist {
        let users = u
            .users
            .iter()
            .map(|x| {
                // Groups come from the user line and from `group G users a,b`.
                let mut groups = x.groups.clone();
                for (g, members, _) in &u.groups {
                    if members.contains(&x.name) && !groups.contains(g) {
                        groups.push(g.clone());
                    }
                }
                User {
                    name: x.name.clone(),
                    password: x.password.clone(),
                    insecure: x.insecure,
                    groups,
                }
            })
            .collect();
        Userlist {
            name: u.name.clone(),
            users,
        }
    }

    /// The groups of the user whose credentials are valid, or None.
    pub fn check(&self, user: &str, pass: &str) -> Option<&[String]> {
        let u = self.users.iter().find(|u| u.name == user)?;
        let ok = if u.insecure {
            u.password == pass
        } else {
            crypt(pass, &u.password).is_some_and(|h| h == u.password)
        };
        ok.then_some(u.groups.as_slice())
    }
}

mod sys {
    // glibc moved crypt(3) out to libcrypt (libxcrypt today); musl has it in
    // libc itself, and Rust's static musl target links its own bundled
    // libc.a. Asking for -lcrypt there makes the linker pick the host's
    // glibc-built libcrypt.a, which needs glibc symbols (__snprintf_chk...)
    // and cannot link: for musl, crypt comes from libc alone.
    #[cfg_attr(not(target_env = "musl"), link(name = "crypt"))]
    extern "C" {
        pub fn crypt(key: *const libc::c_char, salt: *const libc::c_char) -> *mut libc::c_char;
    }
}

/// crypt(3) of `pass` with the salt and method of `hash`.
fn crypt(pass: &str, hash: &str) -> Option<String> {
    let (k, s) = (CString::new(pass).ok()?, CString::new(hash).ok()?);
    // SAFETY: crypt with two valid C strings; the result points to static
    // storage we copy at once. Workers check credentials on their runtime
    // threads: a lock keeps calls from overlapping.
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    unsafe {
        let p = sys::crypt(k.as_ptr(), s.as_ptr());
        (!p.is_null()).then(|| CStr::from_ptr(p).to_string_lossy().into_owned())
    }
}

/// The `Authorization: Basic` credentials of a request: (user, password).
pub fn basic(headers: &[super::parse::Header]) -> Option<(String, String)> {
    let h = headers.iter().find(|h| h.name == "authorization")?;
    let v = std::str::from_utf8(&h.value).ok()?.trim();
    let (scheme, b64) = v.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let raw = decode_base64(b64.trim())?;
    let text = String::from_utf8(raw).ok()?;
    let (u, p) = text.split_once(':')?;
    Some((u.to_string(), p.to_string()))
}

/// The authentication scheme of the request (`http_auth_type`).
pub fn scheme(headers: &[super::parse::Header]) -> Option<String> {
    let h = headers.iter().find(|h| h.name == "authorization")?;
    let v = String::from_utf8_lossy(&h.value);
    Some(
        v.trim()
            .split(' ')
            .next()
            .unwrap_or("")
            .to_ascii_lowercase(),
    )
}

fn decode_base64(s: &str) -> Option<Vec<u8>> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let s = s.trim_end_matches('=').as_bytes();
    let mut out = Vec::new();
    for chunk in s.chunks(4) {
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            n |= val(*c)? << (18 - 6 * i);
        }
        let bytes = n.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    Some(out)
}

/// The 401 reply of `http-request auth`: the built-in page with the
/// `www-authenticate` line HAProxy adds.
pub fn challenge(realm: &str, close: bool) -> Vec<u8> {
    let page = super::errors::stream_error(401, false);
    let at = page
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(page.len(), |i| i + 2);
    let mut out = page[..at].to_vec();
    out.extend_from_slice(format!("www-authenticate: Basic realm=\"{realm}\"\r\n").as_bytes());
    // `connection: close` comes after it, as in 2.6.
    if close {
        out.extend_from_slice(b"connection: close\r\n");
    }
    out.extend_from_slice(&page[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_and_crypt() {
        assert_eq!(
            decode_base64("YWxpY2U6c2VjcmV0").as_deref(),
            Some(&b"alice:secret"[..])
        );
        assert_eq!(decode_base64("YQ==").as_deref(), Some(&b"a"[..]));
        let h = "$6$salt$AkOOBO38SQQ8T8Q46KuCONe.8zg41nvCDKDq7pVQd2n2hy8sf8aR3G89VY.57up0eSIa/69odCCcLT4hx7FpW/";
        assert_eq!(crypt("pw", h).as_deref(), Some(h));
    }
}
