//! Load generator of the TCP benchmark (tests/bench/tcp-bench.sh), built
//! as a cargo example so it runs optimised:
//!   tcp_bulk serve ADDR                 answers each connection: reads one
//!                                       line "N\n", sends N zero bytes, closes;
//!                                       a line "echo\n" echoes a few bytes
//!   tcp_bulk pull ADDR BYTES STREAMS    pulls BYTES over STREAMS parallel
//!                                       connections; prints "bytes seconds"
//!   tcp_bulk short ADDR SECONDS THREADS short connections (connect, echo 16
//!                                       bytes, close); prints "conns seconds"
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let arg = |i: usize| a.get(i).map(String::as_str).unwrap_or("");
    match arg(1) {
        "serve" => serve(arg(2)),
        "pull" => pull(
            arg(2),
            arg(3).parse().unwrap_or(1 << 30),
            arg(4).parse().unwrap_or(1),
        ),
        "short" => short(
            arg(2),
            arg(3).parse().unwrap_or(5),
            arg(4).parse().unwrap_or(1),
        ),
        _ => eprintln!(
            "usage: tcp_bulk serve ADDR | pull ADDR BYTES STREAMS | short ADDR SECONDS THREADS"
        ),
    }
}

fn serve(addr: &str) {
    let l = TcpListener::bind(addr).expect("bind");
    for s in l.incoming().flatten() {
        std::thread::spawn(move || {
            let mut rd = BufReader::new(s.try_clone().expect("clone"));
            let mut line = String::new();
            if rd.read_line(&mut line).is_err() {
                return;
            }
            let mut w = s;
            if line.trim() == "echo" {
                let mut b = [0u8; 16];
                if rd.read_exact(&mut b).is_ok() {
                    let _ = w.write_all(&b);
                }
                return;
            }
            let mut left: u64 = line.trim().parse().unwrap_or(0);
            let block = vec![0u8; 1 << 20];
            while left > 0 {
                let n = left.min(block.len() as u64) as usize;
                if w.write_all(&block[..n]).is_err() {
                    return;
                }
                left -= n as u64;
            }
        });
    }
}

fn pull(addr: &str, bytes: u64, streams: u64) {
    let start = Instant::now();
    let per = bytes / streams;
    let ts: Vec<_> = (0..streams)
        .map(|_| {
            let addr = addr.to_string();
            std::thread::spawn(move || {
                let mut s = TcpStream::connect(&addr).expect("connect");
                s.write_all(format!("{per}\n").as_bytes()).expect("ask");
                let mut buf = vec![0u8; 1 << 20];
                let mut got = 0u64;
                loop {
                    match s.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => got += n as u64,
                    }
                }
                got
            })
        })
        .collect();
    let got: u64 = ts.into_iter().map(|t| t.join().unwrap_or(0)).sum();
    println!("{got} {:.3}", start.elapsed().as_secs_f64());
}

fn short(addr: &str, secs: u64, threads: u64) {
    let start = Instant::now();
    let end = start + Duration::from_secs(secs);
    let ts: Vec<_> = (0..threads)
        .map(|_| {
            let addr = addr.to_string();
            std::thread::spawn(move || {
                let mut n = 0u64;
                while Instant::now() < end {
                    let Ok(mut s) = TcpStream::connect(&addr) else {
                        continue;
                    };
                    let _ = s.set_nodelay(true);
                    if s.write_all(b"echo\n0123456789abcdef").is_err() {
                        continue;
                    }
                    let mut b = [0u8; 16];
                    if s.read_exact(&mut b).is_ok() {
                        n += 1;
                    }
                }
                n
            })
        })
        .collect();
    let n: u64 = ts.into_iter().map(|t| t.join().unwrap_or(0)).sum();
    println!("{n} {:.3}", start.elapsed().as_secs_f64());
}
