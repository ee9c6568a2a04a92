//! Property: the HTTP/1 head parsers, the body framing rules and the chunk
//! size parser never panic and never allocate without bound, whatever bytes
//! come in. Inputs mix random bytes with HTTP fragments, from a fixed seed.
use haproxy_rs::http::parse::{chunk_size, frame_body, parse_request, parse_response};

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
    "GET ",
    "POST ",
    "/",
    "/a?b=c",
    " HTTP/1.1",
    " HTTP/1.0",
    " HTTP/2.0",
    "HTTP/1.1 200 OK",
    "HTTP/1.1 100 Continue",
    "\r\n",
    "\n",
    "\r\n\r\n",
    "Host: x",
    "Content-Length: ",
    "Transfer-Encoding: ",
    "chunked",
    "gzip, chunked",
    "Connection: ",
    "close",
    "keep-alive",
    "upgrade",
    ": ",
    ",",
    " ",
    "\t",
    "0",
    "12",
    "-1",
    "99999999999999999999",
    "ffffffffffffffff",
    "\0",
    "\x7f",
    "\u{e9}",
    "Expect: 100-continue",
    "X-Header",
    ";ext=1",
];

#[test]
fn random_heads_and_chunk_lines_never_panic() {
    // FUZZ_ITERS and FUZZ_SEED make longer runs (`FUZZ_ITERS=50000000`).
    let iters: u64 = std::env::var("FUZZ_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let seed: u64 = std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x1234_5678_9abc_def1);
    let mut rng = Rng(seed | 1);
    for _ in 0..iters {
        let mut data = Vec::new();
        for _ in 0..rng.below(40) {
            if rng.below(3) == 0 {
                data.push(rng.next() as u8);
            } else {
                data.extend_from_slice(PIECES[rng.below(PIECES.len())].as_bytes());
            }
        }
        if let Ok(Some((mut req, n))) = parse_request(&data) {
            assert!(n <= data.len());
            let _ = frame_body(&mut req.headers, true);
        }
        if let Ok(Some((mut res, n))) = parse_response(&data) {
            assert!(n <= data.len());
            let _ = frame_body(&mut res.headers, false);
        }
        let _ = chunk_size(&data);
    }
}
