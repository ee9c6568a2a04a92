//! TCP mode (layer 4): route the connection to a backend, pick a server,
//! connect, and relay bytes both ways (see `relay`).
pub mod pipes;
pub mod proxy_proto;
pub mod relay;
pub mod rules;
pub mod tls;

use crate::acl::FetchCtx;
use crate::log::txn::TxnLog;
use crate::model::{Backend, Frontend, FrontendId};
use crate::worker::Shared;
use relay::{RelayCfg, Timeouts};
use rules::Outcome;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpStream;
use tokio::time::Instant;

/// The start of every connection, whatever the mode: `tcp-request
/// connection` rules on the peer's addresses, then the PROXY header when
/// the `bind` has `accept-proxy` or a rule said `expect-proxy layer4`, then
/// `tcp-request session` rules on the addresses it carried. None: the
/// connection is rejected or its header is bad. Otherwise the addresses to
/// use and the bytes read past the header.
pub async fn handshake(
    sh: &Shared,
    fe: &Frontend,
    sock: &TcpStream,
    (src, dst): (SocketAddr, SocketAddr),
    (accept_proxy, listener, accepted): (bool, &str, std::time::SystemTime),
    vars: &crate::vars::Vars,
) -> Option<(SocketAddr, SocketAddr, Vec<u8>)> {
    let nbsrv = |name: &str| sh.nbsrv(name);
    let expect = {
        let mut ctx = FetchCtx::new(src, dst, None, &nbsrv);
        ctx.vars = Some(vars);
        match rules::evaluate(&fe.tcp.connection, 0, &fe.acls, &ctx) {
            Outcome::Reject => {
                sh.stats.fe[fe.fid.0].inc(crate::stats::counters::C::DeniedConn);
                return None;
            }
            o => o == Outcome::ExpectProxy,
        }
    };
    let (mut src, mut dst, mut rest) = (src, dst, Vec::new());
    if accept_proxy || expect {
        let (hdr, buf) = match read_proxy_header(sock, crate::connect::ms(fe.timeouts.client)).await
        {
            Ok(h) => h,
            Err(e) => {
                crate::log::txn::session_error(fe, (src, dst), listener, accepted, e);
                return None;
            }
        };
        if let Some((s, d)) = hdr.addrs {
            (src, dst) = (s, d);
        }
        rest = buf[hdr.len..].to_vec();
    }
    if !fe.tcp.session.is_empty() {
        let mut ctx = FetchCtx::new(src, dst, None, &nbsrv);
        ctx.vars = Some(vars);
        if rules::evaluate(&fe.tcp.session, 0, &fe.acls, &ctx) == Outcome::Reject {
            sh.stats.fe[fe.fid.0].inc(crate::stats::counters::C::DeniedSess);
            return None;
        }
    }
    Some((src, dst, rest))
}

/// Reads until a complete PROXY header (v1 or v2) is in; the error says
/// why not, as 2.6 names it in logs.
async fn read_proxy_header(
    sock: &TcpStream,
    to: Option<std::time::Duration>,
) -> Result<(proxy_proto::Header, Vec<u8>), crate::log::ConnError> {
    use crate::log::ConnError;
    // A v2 header is at most 16 + 65535 bytes; in practice a few hundred.
    const LIMIT: usize = 16 + 65535;
    let deadline = to.map(|d| Instant::now() + d);
    let mut buf = Vec::new();
    loop {
        match proxy_proto::parse(&buf) {
            Ok(h) => return Ok((h, buf)),
            Err(proxy_proto::ParseError::Invalid) => {
                let signature = buf.starts_with(b"PROXY ") || buf.starts_with(proxy_proto::V2_SIG);
                return Err(if signature {
                    ConnError::ProxyBadHeader
                } else {
                    ConnError::ProxyNotHeader
                });
            }
            Err(proxy_proto::ParseError::Incomplete) => {}
        }
        let limit = LIMIT.min(buf.len() + 4096);
        let more = read_more(sock, &mut buf, limit);
        let n = match deadline {
            Some(d) => match tokio::time::timeout_at(d, more).await {
                Ok(r) => r.map_err(|_| ConnError::ProxyAbort)?,
                Err(_) => return Err(ConnError::ProxyTimeout),
            },
            None => more.await.map_err(|_| ConnError::ProxyAbort)?,
        };
        if n == 0 {
            return Err(if buf.is_empty() {
                ConnError::ProxyEmpty
            } else {
                ConnError::ProxyTruncated
            });
        }
    }
}

/// Serves one client connection of a `mode tcp` frontend.
#[allow(clippy::too_many_arguments)]
pub async fn serve(
    sh: Arc<Shared>,
    fe_id: FrontendId,
    sock: TcpStream,
    src: SocketAddr,
    dst: SocketAddr,
    initial: Vec<u8>,
    vars: crate::vars::Vars,
    mut txn: TxnLog,
) {
    session(&sh, fe_id, sock, (src, dst), initial, &vars, &mut txn).await;
    crate::log::txn::emit(&sh, sh.rt.frontend(fe_id), &txn, (src, dst), &vars);
}

/// The session itself; `txn` says how far it went and how it ended.
async fn session(
    sh: &Arc<Shared>,
    fe_id: FrontendId,
    sock: TcpStream,
    (src, dst): (SocketAddr, SocketAddr),
    initial: Vec<u8>,
    vars: &crate::vars::Vars,
    txn: &mut TxnLog,
) {
    let sh = sh.clone();
    let fe = sh.rt.frontend(fe_id);
    socket_options(
        &sock,
        fe.options.has("tcpka") || fe.options.has("clitcpka"),
        fe.options.has("nolinger"),
    );
    let bufsize = sh.rt.global.bufsize;
    // Client bytes read so far (after a PROXY header, while inspecting);
    // they go to the server first.
    let mut buf = initial;
    txn.bytes_in = buf.len() as u64;
    let (fe_rules, addrs) = (&fe.tcp, (src, dst));
    if !inspect(
        &sh,
        &sock,
        &fe_rules.content,
        fe_rules.inspect_delay,
        Side::Request,
        &fe.acls,
        addrs,
        &mut buf,
        vars,
    )
    .await
    {
        txn.bytes_in = buf.len() as u64;
        txn.end(b'P', b'R');
        txn.denied = 1;
        return;
    }
    let nbsrv = |name: &str| sh.nbsrv(name);
    let route = {
        let mut ctx = FetchCtx::new(src, dst, None, &nbsrv);
        ctx.payload = &buf;
        ctx.vars = Some(vars);
        sh.route(fe, &ctx)
    };
    // No backend: HAProxy closes the connection (there is no error page in TCP).
    let Some(be_id) = route else {
        txn.bytes_in = buf.len() as u64;
        txn.end(b'S', b'C');
        return;
    };
    let be = sh.rt.backend(be_id);
    txn.set_backend(be_id);
    sh.be_conns[be_id.0].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let _be_cur = crate::worker::Gauge::new(&sh.be_cur[be_id.0]);
    crate::stats::backend_assigned(&sh, be_id);
    if !inspect(
        &sh,
        &sock,
        &be.tcp.content,
        be.tcp.inspect_delay,
        Side::Request,
        &be.acls,
        addrs,
        &mut buf,
        vars,
    )
    .await
    {
        txn.bytes_in = buf.len() as u64;
        txn.end(b'P', b'R');
        txn.denied = 2;
        return;
    }
    txn.bytes_in = buf.len() as u64;
    let state = &sh.backends[be_id.0];
    let key = match &be.hash_expr {
        Some(e) => {
            let mut ctx = FetchCtx::new(src, dst, None, &nbsrv);
            ctx.payload = &buf;
            ctx.vars = Some(vars);
            crate::balance::hash::expr_hash(e, &ctx)
        }
        None => crate::balance::hash::tcp_request_hash(&be.balance, &be.uri_opts, src.ip(), &buf),
    };
    let queue_ms = if be.timeouts.queue > 0 {
        be.timeouts.queue
    } else {
        be.timeouts.connect
    };
    let deadline = crate::connect::ms(queue_ms).map(|d| Instant::now() + d);
    txn.queue_start = Some(Instant::now());
    let Some(mut slot) = state.acquire(be, key, None, deadline).await else {
        txn.end(b's', b'Q');
        return;
    };
    txn.queue_done = Some(Instant::now());
    txn.set_server(slot.server);
    crate::stats::server_assigned(&sh, be_id, slot.server, true);
    let connected =
        crate::connect::connect_with_retries(&sh, be_id, &mut slot, addrs, &mut txn.retries).await;
    txn.set_server(slot.server);
    let Some(srv) = connected else {
        txn.end(b'S', b'C');
        return;
    };
    txn.connect_done = Some(Instant::now());
    txn.srv_addr = srv.peer_addr().ok();
    crate::log::txn::emit_early(&sh, fe, txn, addrs, vars);
    socket_options(
        &srv,
        be.options.has("tcpka") || be.options.has("srvtcpka"),
        be.options.has("nolinger"),
    );
    // The server's first bytes, when `tcp-response content` rules look at them.
    let mut answer = Vec::new();
    let t = &be.tcp;
    if !inspect(
        &sh,
        &srv,
        &t.response,
        t.response_inspect_delay,
        Side::Response,
        &be.acls,
        addrs,
        &mut answer,
        vars,
    )
    .await
    {
        txn.end(b'P', b'D');
        return;
    }
    let cfg = relay_cfg(&sh, fe, be);
    debug_assert!(buf.len() <= bufsize);
    // `on-marked-down shutdown-sessions` (and friends) close the session.
    let relayed = async { Some(relay::relay(&sock, &srv, (&buf, &answer), &cfg).await) };
    let ended = crate::health::unless_shut(&sh, be_id, slot.server, relayed, None).await;
    // A session closed by the server's state change is logged as killed.
    let Some((end, up, down)) = ended else {
        txn.end(b'K', b'D');
        drop(slot);
        return;
    };
    txn.bytes_in = up;
    txn.bytes_out = down;
    match end {
        relay::End::Closed => {}
        relay::End::Timeout(relay::Side::Client) => txn.end(b'c', b'D'),
        relay::End::Timeout(relay::Side::Server) => txn.end(b's', b'D'),
        relay::End::Error(relay::Side::Client) => txn.end(b'C', b'D'),
        relay::End::Error(relay::Side::Server) => txn.end(b'S', b'D'),
    }
    drop(slot);
}

/// Which bytes a content rule set inspects.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Request,
    Response,
}

/// Runs content rules (`tcp-request content`, or `tcp-response content`
/// on the server's bytes), reading from `sock` into `buf` while a condition
/// cannot be decided, until the inspect delay expires, the buffer is full
/// or the peer closes. False: rejected (or the peer failed).
#[allow(clippy::too_many_arguments)]
async fn inspect(
    sh: &Shared,
    sock: &TcpStream,
    rules: &[rules::TcpRule],
    delay: u64,
    side: Side,
    acls: &[crate::model::Acl],
    (src, dst): (SocketAddr, SocketAddr),
    buf: &mut Vec<u8>,
    vars: &crate::vars::Vars,
) -> bool {
    if rules.is_empty() {
        return true;
    }
    let bufsize = sh.rt.global.bufsize;
    let deadline = crate::connect::ms(delay).map(|d| Instant::now() + d);
    let nbsrv = |name: &str| sh.nbsrv(name);
    let (mut from, mut eof) = (0, false);
    loop {
        let partial = !eof && buf.len() < bufsize && deadline.is_some_and(|d| Instant::now() < d);
        let outcome = {
            let mut ctx = FetchCtx::new(src, dst, None, &nbsrv);
            ctx.vars = Some(vars);
            match side {
                Side::Request => ctx.payload = buf,
                Side::Response => ctx.res_payload = buf,
            }
            ctx.partial = partial;
            rules::evaluate(rules, from, acls, &ctx)
        };
        let next = match outcome {
            Outcome::Continue | Outcome::ExpectProxy => return true,
            Outcome::Reject => return false,
            Outcome::NeedMore { next } => next,
        };
        from = next;
        let Some(d) = deadline else { return true };
        match tokio::time::timeout_at(d, read_more(sock, buf, bufsize)).await {
            Ok(Ok(0)) => eof = true,
            Ok(Ok(_)) | Err(_) => {}
            Ok(Err(_)) => return false,
        }
    }
}

/// Reads what the client sent next into `buf`, up to `limit` bytes in all.
async fn read_more(sock: &TcpStream, buf: &mut Vec<u8>, limit: usize) -> std::io::Result<usize> {
    loop {
        sock.readable().await?;
        let old = buf.len();
        buf.resize(limit.max(old + 1), 0);
        let r = sock.try_read(&mut buf[old..]);
        buf.truncate(old + *r.as_ref().unwrap_or(&0));
        match r {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            r => return r,
        }
    }
}

/// `option tcpka`/`clitcpka`/`srvtcpka` (SO_KEEPALIVE) and `option
/// nolinger` (reset instead of a graceful close).
fn socket_options(s: &TcpStream, keepalive: bool, nolinger: bool) {
    let r = socket2::SockRef::from(s);
    if keepalive {
        let _ = r.set_keepalive(true);
    }
    if nolinger {
        let _ = r.set_linger(Some(std::time::Duration::ZERO));
    }
}

/// The relay's settings: the frontend's client-side timeouts, the
/// backend's server-side ones (`timeout tunnel` is a backend setting), and
/// splice unless `nosplice`/`-dS` turned it off.
pub fn relay_cfg(sh: &Shared, fe: &Frontend, be: &Backend) -> RelayCfg {
    let splice = !sh.rt.global.nosplice;
    RelayCfg {
        timeouts: Timeouts {
            client: fe.timeouts.client,
            server: be.timeouts.server,
            tunnel: be.timeouts.tunnel,
            client_fin: fe.timeouts.client_fin,
            server_fin: be.timeouts.server_fin,
        },
        splice_request: splice,
        splice_response: splice,
        bufsize: sh.rt.global.bufsize,
    }
}
