//! `show errors`: the last invalid request of each frontend, kept as
//! received (HAProxy keeps more of its parser's internal state; this build
//! reports the request, its source and its date).
use std::fmt::Write as _;
use std::sync::Mutex;

/// One captured invalid request.
#[derive(Clone, Debug)]
pub struct Capture {
    pub when: std::time::SystemTime,
    pub src: std::net::SocketAddr,
    /// Events captured on this frontend before this one.
    pub event: u64,
    pub bytes: Vec<u8>,
}

/// Per frontend: the last invalid request and the number captured.
#[derive(Debug, Default)]
pub struct Errors {
    last: Mutex<Option<Capture>>,
    count: std::sync::atomic::AtomicU64,
}

/// The most of a request kept.
const KEEP: usize = 16384;

impl Errors {
    /// Keeps `bytes`, the invalid request read from `src`.
    pub fn capture(&self, src: std::net::SocketAddr, bytes: &[u8]) {
        let event = self
            .count
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let c = Capture {
            when: std::time::SystemTime::now(),
            src,
            event,
            bytes: bytes[..bytes.len().min(KEEP)].to_vec(),
        };
        *self.last.lock().unwrap_or_else(|e| e.into_inner()) = Some(c);
    }

    pub fn last(&self) -> Option<Capture> {
        self.last.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// The request as 2.6 dumps it: lines cut after each LF (or 64 bytes),
/// each with its offset, control bytes escaped.
pub fn dump(bytes: &[u8], out: &mut String) {
    let mut off = 0;
    while off < bytes.len() {
        let _ = write!(out, "  {off:05}  ");
        let mut n = 0;
        while off < bytes.len() && n < 64 {
            let b = bytes[off];
            off += 1;
            n += 1;
            match b {
                b'\r' => out.push_str("\\r"),
                b'\n' => out.push_str("\\n"),
                b'\t' => out.push_str("\\t"),
                b'\\' => out.push_str("\\\\"),
                0x20..=0x7e => out.push(b as char),
                _ => {
                    let _ = write!(out, "\\x{b:02x}");
                }
            }
            if b == b'\n' {
                break;
            }
        }
        out.push('\n');
    }
}
