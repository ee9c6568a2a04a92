//! The layer-4 relay: bytes move between the client and the server in both
//! directions until both have closed, an error, or an idle timeout. Each
//! direction moves data with splice(2) through a pipe (socket → pipe →
//! socket, never through user space) and falls back to a buffer copy when
//! no pipe is available or splice is disabled. A FIN from one side is
//! passed on as shutdown(SHUT_WR) on the other.
use super::pipes::{self, Pipe};
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;
use tokio::io::Interest;
use tokio::net::TcpStream;
use tokio::time::Instant;

/// The timeouts of a TCP session, in milliseconds (0: none).
#[derive(Clone, Copy, Debug, Default)]
pub struct Timeouts {
    pub client: u64,
    pub server: u64,
    pub tunnel: u64,
    pub client_fin: u64,
    pub server_fin: u64,
}

/// How the relay moves bytes.
#[derive(Clone, Copy, Debug)]
pub struct RelayCfg {
    pub timeouts: Timeouts,
    /// splice(2) client → server and server → client.
    pub splice_request: bool,
    pub splice_response: bool,
    /// Buffer size of the copy fallback (`tune.bufsize`).
    pub bufsize: usize,
}

/// Which side a session end is blamed on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Client,
    Server,
}

/// How a relay ended.
#[derive(Debug, PartialEq, Eq)]
pub enum End {
    /// Both directions reached end of stream.
    Closed,
    /// A side went silent past its timeout.
    Timeout(Side),
    /// A side reset the connection or failed.
    Error(Side),
}

/// Bytes moved and the time of the last move, shared by both directions.
struct Activity {
    start: Instant,
    /// Milliseconds since `start` at the last byte moved.
    last_ms: AtomicU64,
    /// The client sent its FIN / the server sent its FIN.
    client_fin: AtomicBool,
    server_fin: AtomicBool,
    /// Bytes client → server and server → client.
    up: AtomicU64,
    down: AtomicU64,
    /// Woken when a side sends its FIN: the inactivity limit changes.
    fin: tokio::sync::Notify,
}

impl Activity {
    fn touch(&self) {
        let now = self.start.elapsed().as_millis() as u64;
        self.last_ms.store(now, Ordering::Relaxed);
    }
    fn last(&self) -> Instant {
        self.start + Duration::from_millis(self.last_ms.load(Ordering::Relaxed))
    }
    /// The inactivity limit now, and the side it belongs to. Any byte
    /// moved refreshes both sides, as HAProxy does unless
    /// `option independent-streams`; a side that sent its FIN switches to
    /// its `-fin` timeout when one is set, otherwise `timeout tunnel`
    /// replaces both.
    fn limit(&self, t: &Timeouts) -> Option<(Duration, Side)> {
        let fin = |done: &AtomicBool, v: u64| (done.load(Ordering::Relaxed) && v > 0).then_some(v);
        let cfin = fin(&self.client_fin, t.client_fin);
        let sfin = fin(&self.server_fin, t.server_fin);
        let base = |v: u64| if t.tunnel > 0 { t.tunnel } else { v };
        let c = cfin.unwrap_or_else(|| base(t.client));
        let s = sfin.unwrap_or_else(|| base(t.server));
        match (c, s) {
            (0, 0) => None,
            (c, 0) => Some((Duration::from_millis(c), Side::Client)),
            (0, s) => Some((Duration::from_millis(s), Side::Server)),
            (c, s) if c <= s => Some((Duration::from_millis(c), Side::Client)),
            (_, s) => Some((Duration::from_millis(s), Side::Server)),
        }
    }
}

/// Relays between `cli` and `srv` until the session ends. `initial` are
/// bytes already read (content inspection): client bytes for the server,
/// then server bytes for the client; they go first.
pub async fn relay(
    cli: &TcpStream,
    srv: &TcpStream,
    initial: (&[u8], &[u8]),
    cfg: &RelayCfg,
) -> (End, u64, u64) {
    let act = Activity {
        start: Instant::now(),
        last_ms: AtomicU64::new(0),
        client_fin: AtomicBool::new(false),
        server_fin: AtomicBool::new(false),
        up: AtomicU64::new(initial.0.len() as u64),
        down: AtomicU64::new(initial.1.len() as u64),
        fin: tokio::sync::Notify::new(),
    };
    let up = async {
        if write_all(srv, initial.0).await.is_err() {
            return Err(Side::Server);
        }
        pump(
            Side::Client,
            cli,
            srv,
            cfg.splice_request,
            cfg.bufsize,
            &act,
            &act.up,
        )
        .await?;
        act.client_fin.store(true, Ordering::Relaxed);
        act.touch();
        act.fin.notify_one();
        Ok(())
    };
    let down = async {
        if write_all(cli, initial.1).await.is_err() {
            return Err(Side::Client);
        }
        pump(
            Side::Server,
            srv,
            cli,
            cfg.splice_response,
            cfg.bufsize,
            &act,
            &act.down,
        )
        .await?;
        act.server_fin.store(true, Ordering::Relaxed);
        act.touch();
        act.fin.notify_one();
        Ok(())
    };
    // An error on either side ends the session (try_join drops the other).
    let both = async { tokio::try_join!(up, down) };
    tokio::pin!(both);
    let end = loop {
        let Some((limit, side)) = act.limit(&cfg.timeouts) else {
            break match both.as_mut().await {
                Ok(_) => End::Closed,
                Err(s) => End::Error(s),
            };
        };
        tokio::select! {
            r = both.as_mut() => break match r {
                Ok(_) => End::Closed,
                Err(s) => End::Error(s),
            },
            _ = tokio::time::sleep_until(act.last() + limit) => {
                if act.last() + limit <= Instant::now() {
                    break End::Timeout(side);
                }
            }
            // A FIN may shorten the limit (`client-fin`/`server-fin`).
            _ = act.fin.notified() => {}
        }
    };
    (
        end,
        act.up.load(Ordering::Relaxed),
        act.down.load(Ordering::Relaxed),
    )
}

fn other(s: Side) -> Side {
    match s {
        Side::Client => Side::Server,
        Side::Server => Side::Client,
    }
}

/// One direction: `from` (the `from_side` socket) → `to` until `from`'s end
/// of stream, which is passed on as a shutdown of `to`'s write side. The
/// error names the side that failed.
async fn pump(
    from_side: Side,
    from: &TcpStream,
    to: &TcpStream,
    splice: bool,
    bufsize: usize,
    act: &Activity,
    count: &AtomicU64,
) -> Result<(), Side> {
    let mut pipe = if splice { pipes::get() } else { None };
    let r = match pipe.as_mut() {
        Some(p) => match splice_loop(from, to, p, act, count).await {
            // A socket splice does not support: copy instead.
            Err(Fail::Unsupported) => copy_loop(from, to, bufsize, act, count).await,
            r => r,
        },
        None => copy_loop(from, to, bufsize, act, count).await,
    };
    match r {
        Ok(()) => {
            let _ = socket2::SockRef::from(to).shutdown(std::net::Shutdown::Write);
            Ok(())
        }
        Err(Fail::From) | Err(Fail::Unsupported) => Err(from_side),
        Err(Fail::To) => Err(other(from_side)),
    }
}

enum Fail {
    /// Reading the source failed.
    From,
    /// Writing the destination failed.
    To,
    /// splice(2) cannot be used on these descriptors.
    Unsupported,
}

/// Largest amount asked of one splice call; the pipe's capacity bounds it.
const SPLICE_MAX: usize = 1 << 20;

fn splice(from: RawFd, to: RawFd, len: usize) -> io::Result<usize> {
    // SAFETY: splice on descriptors owned by live objects, null offsets
    // (sockets and pipes have none).
    let n = unsafe {
        libc::splice(
            from,
            std::ptr::null_mut(),
            to,
            std::ptr::null_mut(),
            len,
            libc::SPLICE_F_MOVE | libc::SPLICE_F_NONBLOCK,
        )
    };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

async fn splice_loop(
    from: &TcpStream,
    to: &TcpStream,
    pipe: &mut Pipe,
    act: &Activity,
    count: &AtomicU64,
) -> Result<(), Fail> {
    let (from_fd, to_fd) = (from.as_raw_fd(), to.as_raw_fd());
    let mut moved_any = false;
    loop {
        if pipe.len == 0 {
            from.readable().await.map_err(|_| Fail::From)?;
            match from.try_io(Interest::READABLE, || {
                splice(from_fd, pipe.write_fd(), SPLICE_MAX)
            }) {
                Ok(0) => return Ok(()),
                Ok(n) => {
                    pipe.len = n;
                    moved_any = true;
                    act.touch();
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) if !moved_any && e.raw_os_error() == Some(libc::EINVAL) => {
                    return Err(Fail::Unsupported)
                }
                Err(_) => return Err(Fail::From),
            }
        }
        while pipe.len > 0 {
            to.writable().await.map_err(|_| Fail::To)?;
            match to.try_io(Interest::WRITABLE, || {
                splice(pipe.read_fd(), to_fd, pipe.len)
            }) {
                Ok(n) => {
                    pipe.len -= n;
                    count.fetch_add(n as u64, Ordering::Relaxed);
                    act.touch();
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(_) => return Err(Fail::To),
            }
        }
    }
}

async fn copy_loop(
    from: &TcpStream,
    to: &TcpStream,
    bufsize: usize,
    act: &Activity,
    count: &AtomicU64,
) -> Result<(), Fail> {
    let mut buf = vec![0u8; bufsize.max(1024)];
    loop {
        from.readable().await.map_err(|_| Fail::From)?;
        let n = match from.try_read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(_) => return Err(Fail::From),
        };
        act.touch();
        write_all(to, &buf[..n]).await.map_err(|_| Fail::To)?;
        count.fetch_add(n as u64, Ordering::Relaxed);
        act.touch();
    }
}

async fn write_all(to: &TcpStream, mut data: &[u8]) -> io::Result<()> {
    while !data.is_empty() {
        to.writable().await?;
        match to.try_write(data) {
            Ok(n) => data = &data[n..],
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
