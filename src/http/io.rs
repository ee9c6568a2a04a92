//! A connection with its read buffer, and the deadlines HAProxy's timeouts
//! become. The buffer never grows past `tune.bufsize`: bodies stream through.
use super::parse::{chunk_size, BodyKind, HeadError};
use bytes::{Buf, BytesMut};
use std::io;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{timeout, Instant};

pub use crate::connect::ms;

pub struct Conn {
    pub io: TcpStream,
    pub buf: BytesMut,
    /// Bytes read from the socket since the connection opened.
    pub bytes_in: u64,
    /// When the first byte of the last head read arrived (`TR` in logs).
    pub head_start: Option<Instant>,
    /// The size of the last head read, on the wire.
    pub head_len: usize,
}

/// A head parser: the head and its length, or None while incomplete.
pub type HeadParser<T> = fn(&[u8]) -> Result<Option<(T, usize)>, HeadError>;

/// What reading a message head gave.
pub enum HeadRead<T> {
    Head(T),
    /// The peer closed; `partial` when some bytes of a head had arrived.
    Closed {
        partial: bool,
    },
    Timeout {
        partial: bool,
    },
    /// The head does not fit in the buffer.
    TooLarge,
    Bad(HeadError),
    Io,
}

/// Why a body could not be moved.
#[derive(Debug, PartialEq, Eq)]
pub enum BodyError {
    /// The source closed before the end of the body.
    SrcClosed,
    SrcTimeout,
    /// Writing to the destination failed or timed out.
    Dst,
    /// A malformed chunk size or chunk end.
    BadChunk,
}

impl Conn {
    pub fn new(io: TcpStream, cap: usize) -> Conn {
        Conn {
            io,
            buf: BytesMut::with_capacity(cap),
            bytes_in: 0,
            head_start: None,
            head_len: 0,
        }
    }

    /// Reads more bytes into the buffer (at most up to `limit` buffered).
    /// Ok(0) means end of stream.
    async fn fill(&mut self, limit: usize, deadline: Option<Instant>) -> io::Result<usize> {
        if self.buf.len() >= limit {
            return Err(io::Error::other("buffer full"));
        }
        self.buf
            .reserve(limit.saturating_sub(self.buf.len()).clamp(1, 16384));
        // Data is often already there: read it without arming a timer.
        match self.io.try_read_buf(&mut self.buf) {
            Ok(n) => {
                self.bytes_in += n as u64;
                return Ok(n);
            }
            Err(e) if e.kind() != io::ErrorKind::WouldBlock => return Err(e),
            Err(_) => {}
        }
        let read = self.io.read_buf(&mut self.buf);
        let n = match deadline {
            Some(d) => tokio::time::timeout_at(d, read)
                .await
                .map_err(|_| io::Error::from(io::ErrorKind::TimedOut))??,
            None => read.await?,
        };
        self.bytes_in += n as u64;
        Ok(n)
    }

    /// Reads until `n` bytes are buffered (at most `limit`), the peer
    /// closes, or `deadline`: false when they did not all arrive.
    pub async fn buffer(&mut self, n: usize, limit: usize, deadline: Option<Instant>) -> bool {
        while self.buf.len() < n.min(limit) {
            match self.fill(limit, deadline).await {
                Ok(0) | Err(_) => return false,
                Ok(_) => {}
            }
        }
        true
    }

    /// Reads until `parse` finds a complete head within `limit` bytes.
    pub async fn read_head<T>(
        &mut self,
        limit: usize,
        deadline: Option<Instant>,
        parse: HeadParser<T>,
    ) -> HeadRead<T> {
        self.head_start = None;
        loop {
            if !self.buf.is_empty() {
                if self.head_start.is_none() {
                    self.head_start = Some(Instant::now());
                }
                match parse(&self.buf) {
                    Ok(Some((head, n))) => {
                        self.buf.advance(n);
                        self.head_len = n;
                        return HeadRead::Head(head);
                    }
                    Ok(None) if self.buf.len() >= limit => return HeadRead::TooLarge,
                    Ok(None) => {}
                    Err(e) => return HeadRead::Bad(e),
                }
            }
            let partial = !self.buf.is_empty();
            match self.fill(limit, deadline).await {
                Ok(0) => return HeadRead::Closed { partial },
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                    return HeadRead::Timeout { partial }
                }
                Err(_) => return HeadRead::Io,
            }
        }
    }

    /// Reads a body of `n` bytes into memory (at most `limit`); None when
    /// it is larger, the peer leaves or the deadline passes.
    pub async fn read_body(
        &mut self,
        n: usize,
        limit: usize,
        deadline: Option<Instant>,
    ) -> Option<Vec<u8>> {
        if n > limit {
            return None;
        }
        while self.buf.len() < n {
            match self.fill(limit.max(self.buf.len() + 1), deadline).await {
                Ok(0) | Err(_) => return None,
                Ok(_) => {}
            }
        }
        Some(self.buf.split_to(n).to_vec())
    }

    /// Moves a body framed by `kind` to `dst`, streaming through the buffer
    /// (`limit` bytes at most). `rd`/`wr` bound each read and write.
    pub async fn copy_body(
        &mut self,
        dst: &mut TcpStream,
        kind: BodyKind,
        limit: usize,
        rd: Option<Duration>,
        wr: Option<Duration>,
    ) -> Result<u64, BodyError> {
        match kind {
            BodyKind::None => Ok(0),
            BodyKind::Length(n) => self.copy_exact(dst, n, limit, rd, wr).await,
            BodyKind::UntilClose => self.copy_until_close(dst, limit, rd, wr).await,
            BodyKind::Chunked => self.copy_chunked(dst, limit, rd, wr).await,
        }
    }

    async fn more(&mut self, limit: usize, rd: Option<Duration>) -> Result<usize, BodyError> {
        let deadline = rd.map(|d| Instant::now() + d);
        match self.fill(limit, deadline).await {
            Ok(0) => Err(BodyError::SrcClosed),
            Ok(n) => Ok(n),
            Err(e) if e.kind() == io::ErrorKind::TimedOut => Err(BodyError::SrcTimeout),
            Err(_) => Err(BodyError::SrcClosed),
        }
    }

    async fn copy_exact(
        &mut self,
        dst: &mut TcpStream,
        mut n: u64,
        limit: usize,
        rd: Option<Duration>,
        wr: Option<Duration>,
    ) -> Result<u64, BodyError> {
        let total = n;
        while n > 0 {
            if self.buf.is_empty() {
                self.more(limit, rd).await?;
            }
            let take = (self.buf.len() as u64).min(n) as usize;
            write_all(dst, &self.buf[..take], wr).await?;
            self.buf.advance(take);
            n -= take as u64;
        }
        Ok(total)
    }

    async fn copy_until_close(
        &mut self,
        dst: &mut TcpStream,
        limit: usize,
        rd: Option<Duration>,
        wr: Option<Duration>,
    ) -> Result<u64, BodyError> {
        let mut total = 0;
        loop {
            if !self.buf.is_empty() {
                write_all(dst, &self.buf, wr).await?;
                total += self.buf.len() as u64;
                self.buf.clear();
            }
            match self.more(limit, rd).await {
                Ok(_) => {}
                Err(BodyError::SrcClosed) => return Ok(total),
                Err(e) => return Err(e),
            }
        }
    }

    /// A full line (up to LF) from the buffer, without its CRLF.
    async fn line(&mut self, limit: usize, rd: Option<Duration>) -> Result<Vec<u8>, BodyError> {
        loop {
            if let Some(i) = self.buf.iter().position(|b| *b == b'\n') {
                let mut l = self.buf.split_to(i + 1).to_vec();
                l.pop();
                if l.last() == Some(&b'\r') {
                    l.pop();
                }
                return Ok(l);
            }
            if self.buf.len() >= limit {
                return Err(BodyError::BadChunk);
            }
            self.more(limit, rd).await?;
        }
    }

    async fn copy_chunked(
        &mut self,
        dst: &mut TcpStream,
        limit: usize,
        rd: Option<Duration>,
        wr: Option<Duration>,
    ) -> Result<u64, BodyError> {
        let mut total = 0;
        loop {
            let line = self.line(limit, rd).await?;
            let size = chunk_size(&line).ok_or(BodyError::BadChunk)?;
            write_all(dst, format!("{size:x}\r\n").as_bytes(), wr).await?;
            if size == 0 {
                // Trailers, up to the empty line.
                loop {
                    let t = self.line(limit, rd).await?;
                    if t.is_empty() {
                        write_all(dst, b"\r\n", wr).await?;
                        return Ok(total);
                    }
                    let mut t = t;
                    t.extend_from_slice(b"\r\n");
                    write_all(dst, &t, wr).await?;
                }
            }
            total += self.copy_exact(dst, size, limit, rd, wr).await?;
            if !self.line(limit, rd).await?.is_empty() {
                return Err(BodyError::BadChunk);
            }
            write_all(dst, b"\r\n", wr).await?;
        }
    }
}

pub async fn write_all(
    dst: &mut TcpStream,
    data: &[u8],
    wr: Option<Duration>,
) -> Result<(), BodyError> {
    // Most writes fit in the socket buffer at once: no timer needed then.
    let mut data = data;
    while !data.is_empty() {
        match dst.try_write(data) {
            Ok(n) => data = &data[n..],
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
            Err(_) => return Err(BodyError::Dst),
        }
    }
    if data.is_empty() {
        return Ok(());
    }
    let w = dst.write_all(data);
    match wr {
        Some(d) => timeout(d, w)
            .await
            .map_err(|_| BodyError::Dst)?
            .map_err(|_| BodyError::Dst),
        None => w.await.map_err(|_| BodyError::Dst),
    }
}
