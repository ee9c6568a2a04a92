//! Connecting to a backend's servers, shared by HTTP and TCP modes:
//! `retries` attempts, and with `option redispatch` the last one on
//! another server.
use crate::balance::Slot;
use crate::model::{BackendId, ServerAddr};
use crate::worker::Shared;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::time::timeout;

/// Milliseconds as a timeout (0 = none).
pub fn ms(v: u64) -> Option<Duration> {
    (v > 0).then(|| Duration::from_millis(v))
}

/// Connects to the slot's server, retrying `retries` times; with `option
/// redispatch` the last retry takes a slot on another server. `src` and
/// `dst` are the client's addresses (a server without a port takes the
/// destination's; `send-proxy` headers carry both).
pub async fn connect_with_retries<'a>(
    sh: &'a Shared,
    be_id: BackendId,
    slot: &mut Slot<'a>,
    (src, dst): (SocketAddr, SocketAddr),
    tries: &mut u32,
) -> Option<TcpStream> {
    let be = sh.rt.backend(be_id);
    let state = &sh.backends[be_id.0];
    loop {
        let server = &be.servers[slot.server];
        // An address set at run time (`set server ... addr`) wins.
        let moved = state.servers[slot.server]
            .admin
            .addr()
            .map(|addr| ServerAddr::Inet {
                addr,
                port_offset: None,
            });
        let attempt = connect(
            moved.as_ref().unwrap_or(&server.addr),
            dst,
            server.source_addr,
            ms(be.timeouts.connect),
        )
        .await;
        // Connection results, for `observe layer4|layer7`.
        let event = match attempt {
            Some(_) => crate::health::Event::L4Ok,
            None => crate::health::Event::L4Err,
        };
        crate::health::observe(sh, be_id, slot.server, event);
        if let Some(s) = attempt {
            let header = if server.send_proxy_v2 {
                Some(crate::tcp::proxy_proto::v2(src, dst))
            } else if server.send_proxy {
                Some(crate::tcp::proxy_proto::v1(src, dst))
            } else {
                None
            };
            match header {
                None => return Some(s),
                Some(h) => {
                    if write_all(&s, &h).await.is_ok() {
                        return Some(s);
                    }
                }
            }
        }
        // Connection failures are retried only when `retry-on` says so.
        if *tries >= be.retries || !be.retry_on.conn_failure {
            return None;
        }
        *tries += 1;
        if *tries == be.retries && be.options.has("redispatch") {
            if let Some(other) = state.acquire_other(be, slot.server) {
                *slot = other;
            }
        }
    }
}

/// One connection attempt within `to`, from `source` when set.
pub async fn connect(
    addr: &ServerAddr,
    dst: SocketAddr,
    source: Option<SocketAddr>,
    to: Option<Duration>,
) -> Option<TcpStream> {
    let target = match addr {
        ServerAddr::Inet { addr, port_offset } => {
            let mut a = *addr;
            if a.port() == 0 {
                let base = dst.port() as i32 + port_offset.unwrap_or(0);
                a.set_port(base.clamp(0, 65535) as u16);
            }
            a
        }
        _ => return None,
    };
    let c = async {
        match source {
            None => TcpStream::connect(target).await,
            Some(src) => {
                let sock = if target.is_ipv4() {
                    tokio::net::TcpSocket::new_v4()?
                } else {
                    tokio::net::TcpSocket::new_v6()?
                };
                sock.bind(src)?;
                sock.connect(target).await
            }
        }
    };
    let s = match to {
        Some(d) => timeout(d, c).await.ok()?.ok()?,
        None => c.await.ok()?,
    };
    let _ = s.set_nodelay(true);
    Some(s)
}

async fn write_all(s: &TcpStream, mut data: &[u8]) -> std::io::Result<()> {
    while !data.is_empty() {
        s.writable().await?;
        match s.try_write(data) {
            Ok(n) => data = &data[n..],
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
