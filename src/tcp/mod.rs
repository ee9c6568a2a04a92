//! TCP mode (layer 4): route the connection to a backend, pick a server,
//! connect, and relay bytes both ways (see `relay`).
pub mod pipes;
pub mod relay;

use crate::acl::FetchCtx;
use crate::model::{Backend, Frontend, FrontendId};
use crate::worker::Shared;
use relay::{RelayCfg, Timeouts};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpStream;
use tokio::time::Instant;

/// Serves one client connection of a `mode tcp` frontend.
pub async fn serve(
    sh: Arc<Shared>,
    fe_id: FrontendId,
    sock: TcpStream,
    src: SocketAddr,
    dst: SocketAddr,
) {
    let fe = sh.rt.frontend(fe_id);
    socket_options(
        &sock,
        fe.options.has("tcpka") || fe.options.has("clitcpka"),
        fe.options.has("nolinger"),
    );
    let nbsrv = |name: &str| sh.nbsrv(name);
    let ctx = FetchCtx {
        src,
        dst,
        req: None,
        nbsrv: &nbsrv,
    };
    // No backend: HAProxy closes the connection (there is no error page in TCP).
    let Some(be_id) = sh.route(fe, &ctx) else {
        return;
    };
    let be = sh.rt.backend(be_id);
    let state = &sh.backends[be_id.0];
    let key =
        crate::balance::hash::request_hash(&be.balance, &be.uri_opts, src.ip(), "", &|_| None);
    let queue_ms = if be.timeouts.queue > 0 {
        be.timeouts.queue
    } else {
        be.timeouts.connect
    };
    let deadline = crate::connect::ms(queue_ms).map(|d| Instant::now() + d);
    let Some(mut slot) = state.acquire(be, key, None, deadline).await else {
        return;
    };
    let Some(srv) = crate::connect::connect_with_retries(&sh, be_id, &mut slot, dst).await else {
        return;
    };
    socket_options(
        &srv,
        be.options.has("tcpka") || be.options.has("srvtcpka"),
        be.options.has("nolinger"),
    );
    let cfg = relay_cfg(&sh, fe, be);
    let _ = relay::relay(&sock, &srv, &[], &cfg).await;
    drop(slot);
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
fn relay_cfg(sh: &Shared, fe: &Frontend, be: &Backend) -> RelayCfg {
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
