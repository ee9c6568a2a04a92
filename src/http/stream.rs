//! One client connection in HTTP mode: read a request, pick a backend and a
//! server, forward, relay the response, and loop while both sides keep the
//! connection alive.
use super::io::{ms, write_all, BodyError, Conn, HeadRead};
use super::parse::{self, BodyKind, RequestHead, ResponseHead};
use super::pool::Reuse;
use super::reply::connection_page;
use crate::acl::FetchCtx;
use crate::log::txn::TxnLog;
use crate::model::{BackendId, Frontend, FrontendId};
use crate::worker::Shared;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio::net::TcpStream;
use tokio::time::Instant;

/// A server connection kept between requests of the same client connection.
struct Attached {
    backend: BackendId,
    server: usize,
    conn: Conn,
}

/// How a request ended, for the keep-alive decision.
enum Outcome {
    /// The response went out; the client connection may continue.
    Done { close: bool },
    /// Nothing more can be done on this client connection.
    Close,
}

/// A connection as the accept loop hands it over.
pub struct Accepted {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    /// Bytes read after a PROXY header: the start of the first request.
    pub initial: Vec<u8>,
    pub vars: crate::vars::Vars,
    /// The accept date, and the same instant on the monotonic clock.
    pub at: (std::time::SystemTime, Instant),
    /// The connection in the registry of live streams.
    pub sess: Arc<crate::stats::sess::SessInfo>,
}

/// Serves one client connection until it closes.
pub async fn serve(sh: Arc<Shared>, fe_id: FrontendId, sock: TcpStream, conn: Accepted) {
    let Accepted {
        src,
        dst,
        initial,
        vars,
        at,
        sess,
    } = conn;
    let _ = sock.set_nodelay(true);
    let fe = sh.rt.frontend(fe_id);
    let bufsize = sh.rt.global.bufsize;
    let head_limit = bufsize.saturating_sub(sh.rt.global.maxrewrite).max(1024);
    let mut cli = Conn::new(sock, bufsize);
    // Bytes read after a PROXY header belong to the first request.
    cli.buf.extend_from_slice(&initial);
    let mut attached: Option<Attached> = None;
    let mut first_request = true;
    let mut first = true;
    let mut lg = TxnLog::new(at.0, at.1);
    lg.sess = Some(sess);
    // Logs the stream that just ended (not an idle keep-alive connection
    // that closes) and starts the next one's.
    let done = |lg: &mut TxnLog, cli: &Conn| {
        lg.bytes_in = lg.request_bytes.unwrap_or(cli.bytes_in - lg.bytes_in_from);
        crate::log::txn::emit(&sh, fe, lg, (src, dst), &vars);
        *lg = lg.next(Instant::now(), cli.bytes_in);
    };
    loop {
        let t = &fe.timeouts;
        // HAProxy waits `timeout http-keep-alive` for a next request, and
        // `timeout http-request` for a whole head; both fall back on
        // `timeout client`.
        let wait = [
            if first { 0 } else { t.http_keep_alive },
            t.http_request,
            t.client,
        ]
        .into_iter()
        .find(|v| *v > 0)
        .unwrap_or(0);
        let deadline = ms(wait).map(|d| Instant::now() + d);
        let read = cli
            .read_head(head_limit, deadline, parse::parse_request)
            .await;
        lg.head_start = cli.head_start;
        // Without a format, a connection is logged once its first bytes
        // arrive (in HTTP mode, a connection that sends nothing is not).
        let got_bytes = !matches!(
            read,
            HeadRead::Closed { partial: false }
                | HeadRead::Timeout { partial: false }
                | HeadRead::Io
        );
        if first && got_bytes {
            crate::log::txn::connect_line(fe, src, dst);
        }
        // HAProxy logs a failed request with status and no byte count.
        let fail = |lg: &mut TxnLog, cli: &Conn, status: i32, who: u8| {
            lg.status = status;
            lg.end(who, b'R');
            done(lg, cli);
        };
        let mut req = match read {
            HeadRead::Head(r) => r,
            HeadRead::Closed { partial } | HeadRead::Timeout { partial } if !(first || partial) => {
                return
            }
            HeadRead::Io if !first => return,
            HeadRead::Closed { .. } | HeadRead::Io => return fail(&mut lg, &cli, 400, b'C'),
            HeadRead::Timeout { .. } => {
                // An idle keep-alive connection just closes; a new or partial
                // one gets HAProxy's 408.
                let page = connection_page(&fe.error_pages, 408);
                let _ = write_all(&mut cli.io, &page, ms(t.client)).await;
                return fail(&mut lg, &cli, 408, b'c');
            }
            HeadRead::TooLarge | HeadRead::Bad(_) => {
                sh.stats.errors[fe_id.0].capture(src, &cli.buf);
                let page = connection_page(&fe.error_pages, 400);
                let _ = write_all(&mut cli.io, &page, ms(t.client)).await;
                return fail(&mut lg, &cli, 400, b'P');
            }
        };
        first = false;
        lg.head_done = Some(Instant::now());
        // 2.6 counts a head in its internal form: 4 bytes fewer per header
        // line than on the wire.
        lg.request_bytes = Some((cli.head_len as u64).saturating_sub(4 * req.headers.len() as u64));
        lg.head_request = req.method == "HEAD";
        sh.stats.fe[fe_id.0].inc(crate::stats::counters::C::H1OpenStreams);
        if let Some(s) = &lg.sess {
            s.calls.fetch_add(1, Ordering::Relaxed);
        }
        // What only log lines (and the unique id) read is kept only then.
        if fe.log.logs() || fe.log.unique_id.is_some() {
            lg.request_line = Some(format!("{} {} HTTP/1.{}", req.method, req.uri, req.minor));
            capture(&fe.log.req_caps, &req.headers, &mut lg.req_caps);
            if let Some((name, len)) = &fe.log.capture_cookie {
                lg.cookie_req = capture_cookie(&req.headers, "cookie", name, *len);
            }
        }
        let body = match parse::frame_body(&mut req.headers, true) {
            Ok(b) => b,
            Err(_) => {
                let page = connection_page(&fe.error_pages, 400);
                let _ = write_all(&mut cli.io, &page, ms(t.client)).await;
                return fail(&mut lg, &cli, 400, b'P');
            }
        };
        // `option http-buffer-request`: the whole body (as much as the
        // buffer holds) is in before the rules run; not in time is a 408.
        if fe.options.has("http-buffer-request") {
            if let BodyKind::Length(n) = body {
                let limit = [t.http_request, t.client].into_iter().find(|v| *v > 0);
                let deadline = limit.and_then(ms).map(|d| Instant::now() + d);
                if !cli.buffer(n as usize, bufsize, deadline).await {
                    let none = |_: &str| None;
                    let ctx = FetchCtx::new(src, dst, Some(&req), &none);
                    let page = error_page(fe, None, 408, true, &ctx).0;
                    let _ = write_all(&mut cli.io, &page, ms(t.client)).await;
                    lg.bytes_out = generated_bytes(&page);
                    lg.status = 408;
                    lg.end(b'c', b'R');
                    return done(&mut lg, &cli);
                }
            }
        }
        let outcome = handle_request(
            &sh,
            &vars,
            fe,
            &mut cli,
            &mut attached,
            &mut first_request,
            req,
            body,
            src,
            dst,
            &mut lg,
        )
        .await;
        done(&mut lg, &cli);
        // When the client connection ends, its idle server connection is
        // left for the others.
        if matches!(outcome, Outcome::Close | Outcome::Done { close: true }) {
            if let Some(a) = attached.take() {
                if sh.shares(a.backend, a.server) {
                    sh.pools[a.backend.0].put(a.server, a.conn);
                }
            }
        }
        match outcome {
            Outcome::Done { close: false } => continue,
            Outcome::Done { close: true } | Outcome::Close => return,
        }
    }
}

/// The client's wish about the connection after this request.
fn client_wants_close(req: &RequestHead) -> bool {
    let tokens = parse::tokens(&req.headers, "connection");
    if req.minor == 0 {
        !tokens.iter().any(|t| t == "keep-alive")
    } else {
        tokens.iter().any(|t| t == "close")
    }
}

#[allow(clippy::too_many_arguments)]
async fn handle_request(
    sh: &Shared,
    vars: &crate::vars::Vars,
    fe: &Frontend,
    cli: &mut Conn,
    attached: &mut Option<Attached>,
    first_request: &mut bool,
    mut req: RequestHead,
    body: BodyKind,
    src: SocketAddr,
    dst: SocketAddr,
    lg: &mut TxnLog,
) -> Outcome {
    let mut close = client_wants_close(&req) || fe.options.has("httpclose");
    let cto = ms(fe.timeouts.client);
    let nbsrv = |name: &str| sh.nbsrv(name);
    // In HTTP mode `tcp-request content` rules see each request, before
    // the http-request rules as in HAProxy; a reject closes the connection
    // without a response.
    let rejected = |acls, rules, req: &RequestHead| {
        let mut ctx = FetchCtx::new(src, dst, Some(req), &nbsrv);
        ctx.vars = Some(vars);
        ctx.userlists = &sh.rt.userlists;
        crate::tcp::rules::evaluate(rules, 0, acls, &ctx) == crate::tcp::rules::Outcome::Reject
    };
    if rejected(&fe.acls, &fe.tcp.content, &req) {
        lg.end(b'P', b'R');
        lg.denied = 1;
        return Outcome::Close;
    }
    // The connection as fetches see it; the messages are added per use.
    let mut base = FetchCtx::new(src, dst, None, &nbsrv);
    base.vars = Some(vars);
    base.userlists = &sh.rt.userlists;
    crate::stats::request_started(sh, fe.fid.0, lg);
    // `monitor-uri`: answered before any http-request rule.
    if fe
        .monitor_uri
        .as_deref()
        .is_some_and(|m| monitor_matches(m, &req.uri))
    {
        let mut ctx = FetchCtx::new(src, dst, Some(&req), &nbsrv);
        ctx.vars = Some(vars);
        ctx.userlists = &sh.rt.userlists;
        let fail = fe
            .monitor_fail
            .iter()
            .any(|c| crate::acl::eval_cond(Some(c), &fe.acls, &ctx));
        let code = if fail { 503 } else { 200 };
        lg.end(b'L', b'R');
        lg.intercepted = true;
        lg.monitor = true;
        let closing = close || body != BodyKind::None || req.minor == 0;
        let page = error_page(fe, None, code, closing, &ctx);
        return reply(
            cli,
            after_rules(fe, None, &ctx, page),
            &mut close,
            body,
            cto,
            (lg, i32::from(code)),
        )
        .await;
    }
    // `unique-id-format`: made once the request head is in.
    if let Some(fmt) = &fe.log.unique_id {
        let rec = lg.light(fe, (src, dst));
        let mut ctx = base.with_msg(Some(&req), None);
        ctx.record = Some(&rec);
        lg.unique_id = Some(crate::sample::render(fmt, &ctx, Some(&rec), true));
    }
    // What rules may read of the stream (`%ID`, `%f`, `unique-id`, ...).
    let rec = lg.light(fe, (src, dst));
    base.record = Some(&rec);
    // The frontend's http-request rules see and change the request next.
    let mut rule_state = crate::http::rules::RequestState::default();
    crate::sample::take_captures();
    let answer =
        crate::http::rules::run_request(&fe.http, &fe.acls, &mut req, &base, &mut rule_state, true);
    absorb(&mut rule_state, lg, (false, &fe.log.req_caps));
    if let Some(v) = answer {
        let ctx = base.with_msg(Some(&req), None);
        return final_answer(sh, fe, None, cli, v, &mut close, body, &ctx, cto, lg).await;
    }
    // The frontend's statistics page.
    if let Some(page) = fe
        .stats
        .as_deref()
        .filter(|p| crate::stats::page::matches(p, &req))
    {
        let ctx = base.with_msg(Some(&req), None);
        return stats_page(sh, fe, None, page, cli, &req, body, &ctx, close, lg).await;
    }
    let ctx = base.with_msg(Some(&req), None);
    // A 1.5 `reqsetbe` of the frontend chose the backend already.
    let routed = match &rule_state.backend {
        Some(name) => sh.backend_by_name(name),
        None => sh.route(fe, &ctx),
    };
    let Some(be_id) = routed else {
        let page = error_page(fe, None, 503, close || body != BodyKind::None, &ctx);
        lg.end(b'S', b'C');
        return reply(
            cli,
            after_rules(fe, None, &ctx, page),
            &mut close,
            body,
            cto,
            (lg, 503),
        )
        .await;
    };
    let be = sh.rt.backend(be_id);
    lg.set_backend(be_id);
    let _be_cur = crate::worker::Gauge::new(&sh.be_cur[be_id.0]);
    crate::stats::backend_assigned(sh, be_id);
    if rejected(&be.acls, &be.tcp.content, &req) {
        lg.end(b'P', b'R');
        lg.denied = 2;
        return Outcome::Close;
    }
    // Then the backend's (a listen section's rules ran once, above).
    if be.id != fe.id {
        crate::sample::take_captures();
        let answer = crate::http::rules::run_request(
            &be.http,
            &be.acls,
            &mut req,
            &base,
            &mut rule_state,
            false,
        );
        absorb(&mut rule_state, lg, (false, &fe.log.req_caps));
        if let Some(v) = answer {
            let ctx = base.with_msg(Some(&req), None);
            return final_answer(sh, fe, Some(be), cli, v, &mut close, body, &ctx, cto, lg).await;
        }
    }
    // The backend's statistics page (a listen section's was seen above).
    if let Some(page) = be
        .stats
        .as_deref()
        .filter(|p| be.id != fe.id && crate::stats::page::matches(p, &req))
    {
        let mut ctx = FetchCtx::new(src, dst, Some(&req), &nbsrv);
        ctx.vars = Some(vars);
        ctx.userlists = &sh.rt.userlists;
        return stats_page(sh, fe, Some(be), page, cli, &req, body, &ctx, close, lg).await;
    }
    if let (Some(name), Some(id)) = (&fe.log.unique_id_header, &lg.unique_id) {
        req.headers.push(super::parse::Header::as_written(
            name,
            id.as_bytes().to_vec(),
        ));
    }
    sh.be_conns[be_id.0].fetch_add(1, Ordering::Relaxed);
    // A stopping worker answers this request, then closes the connection:
    // never an idle keep-alive connection closed under a client's feet.
    close |= sh.stopping.load(Ordering::Relaxed);
    let state = &sh.backends[be_id.0];
    let upgrade = parse::tokens(&req.headers, "connection")
        .iter()
        .any(|t| t == "upgrade");
    // The server side has its own keep-alive: a closing client does not
    // close it (HAProxy keeps it for reuse), only these options do.
    let server_close = be.options.has("http-server-close")
        || be.options.has("httpclose")
        || fe.options.has("http-server-close");

    // Pick a server and get a connection to it (retries, then redispatch).
    // A request naming a usable server in its persistence cookie goes there.
    let persisted = be.cookie.as_ref().and_then(|c| {
        let values: Vec<Option<&str>> = be.servers.iter().map(|s| s.cookie.as_deref()).collect();
        c.persist(&mut req, &values)
    });
    let persisted = persisted.filter(|i| state.persist_ok(*i));
    let header = |name: &str| {
        parse::values(&req.headers, &name.to_ascii_lowercase())
            .next()
            .map(<[u8]>::to_vec)
    };
    let key = match &be.hash_expr {
        Some(e) => {
            let ctx = FetchCtx::new(src, dst, Some(&req), &nbsrv);
            crate::balance::hash::expr_hash(e, &ctx)
        }
        None => crate::balance::hash::request_hash(
            &be.balance,
            &be.uri_opts,
            src.ip(),
            &req.uri,
            &header,
        ),
    };
    // A server at its maxconn makes the request wait for a slot, up to
    // `timeout queue` (else `timeout connect`), then 503.
    let queue_ms = if be.timeouts.queue > 0 {
        be.timeouts.queue
    } else {
        be.timeouts.connect
    };
    let deadline = ms(queue_ms).map(|d| Instant::now() + d);
    lg.queue_start = Some(Instant::now());
    let Some(mut slot) = state.acquire(be, key, persisted, deadline).await else {
        let ctx = base.with_msg(Some(&req), None);
        let page = error_page(fe, Some(be), 503, close || body != BodyKind::None, &ctx);
        let page = after_rules(fe, Some(be), &ctx, page);
        // Waiting until the deadline is a queue timeout; no server at all
        // is a connection failure.
        if deadline.is_some_and(|d| Instant::now() >= d) {
            lg.end(b's', b'Q');
            // 2.6 logs the time waited, and the request still counted in
            // the queue.
            lg.queue_done = Some(Instant::now());
            lg.still_queued = true;
        } else {
            lg.end(b'S', b'C');
        }
        return reply(cli, page, &mut close, body, cto, (lg, 503)).await;
    };
    lg.queue_done = Some(Instant::now());
    lg.set_server(slot.server);
    crate::stats::server_assigned(sh, be_id, slot.server, persisted != Some(slot.server));
    // The client connection's own idle server connection comes first; then
    // one shared by others, unless this is its first request (`safe`).
    let mut srv_conn = None;
    if let Some(a) = attached.take() {
        if a.backend == be_id && a.server == slot.server {
            srv_conn = Some(a.conn);
        } else if sh.shares(a.backend, a.server) {
            sh.pools[a.backend.0].put(a.server, a.conn);
        }
    }
    let shareable = match be.reuse {
        Reuse::Never => false,
        Reuse::Safe => !*first_request,
        Reuse::Always => true,
    };
    if srv_conn.is_none() && shareable {
        srv_conn = sh.pools[be_id.0].take(slot.server);
    }
    *first_request = false;
    // `retry-on` retries, counted apart from connection retries.
    let mut retried = 0;
    let result = loop {
        let reused = srv_conn.is_some();
        let mut srv = match srv_conn.take() {
            Some(c) => c,
            None => {
                let c = crate::connect::connect_with_retries(
                    sh,
                    be_id,
                    &mut slot,
                    (src, dst),
                    &mut lg.retries,
                )
                .await;
                lg.set_server(slot.server);
                match c {
                    Some(s) => {
                        lg.srv_addr = s.peer_addr().ok();
                        Conn::new(s, sh.rt.global.bufsize)
                    }
                    None => {
                        let ctx = base.with_msg(Some(&req), None);
                        let page =
                            error_page(fe, Some(be), 503, close || body != BodyKind::None, &ctx);
                        let page = after_rules(fe, Some(be), &ctx, page);
                        lg.end(b'S', b'C');
                        return reply(cli, page, &mut close, body, cto, (lg, 503)).await;
                    }
                }
            }
        };
        if reused {
            lg.srv_addr = srv.io.peer_addr().ok();
        }
        lg.reused = reused;
        lg.connect_done = Some(Instant::now());
        let server = slot.server;
        let cookie = (
            be.servers[server].cookie.as_deref(),
            persisted == Some(server),
        );
        let r = exchange(
            sh,
            fe,
            (be_id, server),
            cli,
            &mut srv,
            &req,
            body,
            &base,
            upgrade,
            server_close,
            close,
            reused,
            cookie,
            (body == BodyKind::None && retried < be.retries).then_some(&be.retry_on),
            lg,
        );
        // `on-marked-down shutdown-sessions` (and friends) close the stream.
        let r = crate::health::unless_shut(sh, be_id, server, r, Exchange::Aborted).await;
        // Every other way to abort names its cause: this one was killed.
        if matches!(r, Exchange::Aborted) && lg.term == *b"--" {
            lg.end(b'K', b'D');
        }
        // An idle server connection the server closed meanwhile: a request
        // without a body is sent again on a new connection.
        if matches!(r, Exchange::Stale) && body == BodyKind::None {
            continue;
        }
        if matches!(r, Exchange::Retry) {
            // A new connection; the last retry goes elsewhere with `option
            // redispatch`, as for connection retries.
            retried += 1;
            lg.retries += 1;
            if retried == be.retries && be.options.has("redispatch") {
                if let Some(other) = state.acquire_other(be, slot.server) {
                    slot = other;
                    lg.set_server(slot.server);
                }
            }
            continue;
        }
        break (r, srv);
    };
    let server = slot.server;
    drop(slot);
    let (result, srv) = result;
    match result {
        Exchange::Done {
            client_close,
            server_reusable,
        } => {
            if server_reusable {
                // Kept by this client connection for its next request; shared
                // with the others once that one goes elsewhere or ends.
                *attached = Some(Attached {
                    backend: be_id,
                    server,
                    conn: srv,
                });
            }
            Outcome::Done {
                close: client_close,
            }
        }
        // A rule answered in place of the server's response, which is
        // dropped with its connection.
        Exchange::Answer(v) => {
            let ctx = base.with_msg(Some(&req), None);
            final_answer(
                sh,
                fe,
                Some(be),
                cli,
                v,
                &mut close,
                BodyKind::None,
                &ctx,
                cto,
                lg,
            )
            .await
        }
        Exchange::Error(code) => {
            let ctx = base.with_msg(Some(&req), None);
            let page = after_rules(
                fe,
                Some(be),
                &ctx,
                error_page(fe, Some(be), code, true, &ctx),
            );
            let _ = write_all(&mut cli.io, &page.0, cto).await;
            lg.status = code as i32;
            lg.bytes_out += generated_bytes(&page.0);
            Outcome::Close
        }
        Exchange::Aborted => Outcome::Close,
        // With a body already sent, a stale connection cannot be replayed.
        Exchange::Stale | Exchange::Retry => {
            let ctx = base.with_msg(Some(&req), None);
            let page = after_rules(
                fe,
                Some(be),
                &ctx,
                error_page(fe, Some(be), 502, true, &ctx),
            );
            let _ = write_all(&mut cli.io, &page.0, cto).await;
            lg.status = 502;
            lg.end(b'S', b'H');
            lg.bytes_out += generated_bytes(&page.0);
            Outcome::Close
        }
    }
}

/// Answers a request the rules stopped: a reply (after the tarpit delay
/// for `tarpit`), a redirect or an authentication challenge; `ctx` sees the
/// request.
#[allow(clippy::too_many_arguments)]
async fn final_answer(
    sh: &Shared,
    fe: &Frontend,
    be: Option<&crate::model::Backend>,
    cli: &mut Conn,
    v: crate::http::rules::Verdict,
    close: &mut bool,
    body: BodyKind,
    ctx: &FetchCtx<'_>,
    cto: Option<std::time::Duration>,
    lg: &mut TxnLog,
) -> Outcome {
    use crate::http::rules::Verdict;
    let minor = ctx.req.map_or(1, |r| r.minor);
    let closing = *close || body != BodyKind::None || minor == 0;
    if let (Verdict::Service(crate::http::rules::Service::Prometheus), Some(req)) = (&v, ctx.req) {
        return prometheus(sh, fe, be, cli, req, ctx, (close, body, cto), lg).await;
    }
    // Denials are the proxy's doing (`PR`, `PT` for a tarpit); redirects
    // and returns are answered locally (`LR`).
    match &v {
        Verdict::Reply { tarpit: true, .. } => lg.end(b'P', b'T'),
        Verdict::Reply { local: true, .. } | Verdict::Redirect { .. } => lg.end(b'L', b'R'),
        Verdict::Reply { .. } | Verdict::Auth(_) => lg.end(b'P', b'R'),
        Verdict::Service(_) => lg.end(b'L', b'R'),
    }
    // For the statistics: denials (the frontend's rules or the backend's)
    // and what the proxy answered itself.
    match &v {
        Verdict::Reply { local: false, .. } => lg.denied = if be.is_some() { 2 } else { 1 },
        Verdict::Reply { .. } | Verdict::Redirect { .. } | Verdict::Auth(_) => {
            lg.intercepted = true
        }
        Verdict::Service(_) => {}
    }
    let page = match v {
        Verdict::Reply { reply, tarpit, .. } => {
            if tarpit {
                // Held for the `timeout tarpit` of the proxy whose rule
                // fired, then answered.
                let hold = be.map_or(fe.timeouts.tarpit, |b| b.timeouts.tarpit);
                // 2.6 logs the hold as the queue time, and no request time.
                lg.head_done = None;
                lg.queue_start = Some(Instant::now());
                if let Some(d) = ms(hold) {
                    tokio::time::sleep(d).await;
                }
                lg.queue_done = Some(Instant::now());
            }
            crate::http::reply::render(&reply, &pages(fe, be), ctx, closing)
        }
        Verdict::Redirect {
            code,
            location,
            cookie,
        } => (
            crate::http::rules::redirect_response(code, &location, cookie.as_deref(), closing),
            closing,
        ),
        Verdict::Auth(realm) => (crate::http::auth::challenge(&realm, closing), closing),
        Verdict::Service(_) => error_page(fe, be, 500, true, ctx),
    };
    let page = after_rules(fe, be, ctx, page);
    let status = status_of(&page.0);
    reply(cli, page, close, body, cto, (lg, status)).await
}

/// The error page tables to look in: the backend's, then the frontend's.
fn pages<'p>(
    fe: &'p Frontend,
    be: Option<&'p crate::model::Backend>,
) -> Vec<&'p crate::http::reply::ErrorPages> {
    be.map(|b| &b.error_pages)
        .into_iter()
        .chain([&fe.error_pages])
        .collect()
}

/// Answers a request `use-service prometheus-exporter` took: the metrics
/// (a 400 for an unknown scope). The request counts as intercepted before
/// the metrics are read, as in 2.6.
#[allow(clippy::too_many_arguments)]
async fn prometheus(
    sh: &Shared,
    fe: &Frontend,
    be: Option<&crate::model::Backend>,
    cli: &mut Conn,
    req: &RequestHead,
    ctx: &FetchCtx<'_>,
    (close, body, cto): (&mut bool, BodyKind, Option<std::time::Duration>),
    lg: &mut TxnLog,
) -> Outcome {
    use crate::stats::prometheus;
    let closing = *close || body != BodyKind::None || req.minor == 0;
    sh.stats.fe[fe.fid.0].inc(crate::stats::counters::C::Intercepted);
    lg.end(b'L', b'R');
    let (page, status) = match prometheus::parse_query(&req.uri) {
        Some(q) => {
            let mut bytes = prometheus::head(closing);
            bytes.extend_from_slice(b"\r\n");
            if req.method != "HEAD" {
                bytes.extend_from_slice(&prometheus::chunked(&prometheus::render(sh, q)));
            }
            ((bytes, closing), 200)
        }
        None => (error_page(fe, be, 400, true, ctx), 400),
    };
    reply(
        cli,
        after_rules(fe, be, ctx, page),
        close,
        body,
        cto,
        (lg, status),
    )
    .await
}

/// Answers a request for the statistics page of `fe` (or of `be`, whose
/// ACLs its conditions use), reading a POST's form first.
#[allow(clippy::too_many_arguments)]
async fn stats_page(
    sh: &Shared,
    fe: &Frontend,
    be: Option<&crate::model::Backend>,
    page: &crate::model::StatsPage,
    cli: &mut Conn,
    req: &RequestHead,
    body: BodyKind,
    ctx: &FetchCtx<'_>,
    mut close: bool,
    lg: &mut TxnLog,
) -> Outcome {
    let cto = ms(fe.timeouts.client);
    let mut remaining = body;
    let form = match body {
        BodyKind::Length(n) if req.method == "POST" => {
            let deadline = cto.map(|d| Instant::now() + d);
            remaining = BodyKind::None;
            let limit = sh.rt.global.bufsize.saturating_sub(sh.rt.global.maxrewrite);
            match cli.read_body(n as usize, limit, deadline).await {
                Some(b) => Some(b),
                None => {
                    close = true;
                    None
                }
            }
        }
        BodyKind::None => Some(Vec::new()),
        _ => None,
    };
    let acls = be.map_or(&fe.acls[..], |b| &b.acls[..]);
    let closing = close || remaining != BodyKind::None || req.minor == 0;
    // Counted first: the page reports the request it answers (a denial
    // takes it back).
    let fc = &sh.stats.fe[fe.fid.0];
    fc.inc(crate::stats::counters::C::Intercepted);
    let a = crate::stats::page::answer(sh, page, acls, req, ctx, form.as_deref(), closing);
    if a.denied {
        fc.dec(crate::stats::counters::C::Intercepted);
        lg.end(b'P', b'R');
        lg.denied = if be.is_some() { 2 } else { 1 };
    } else {
        lg.end(b'L', b'R');
    }
    if be.is_none() {
        lg.stats_backend = sh
            .backend_by_name(&fe.name)
            .filter(|b| sh.rt.backend(*b).id == fe.id);
    }
    reply(
        cli,
        (a.bytes, closing),
        &mut close,
        remaining,
        cto,
        (lg, a.status),
    )
    .await
}

/// Whether a request for `uri` asks for the monitor URI `monitor`: the
/// same URI, or (for a monitor URI that is a path) the same path and
/// query in an absolute URI.
fn monitor_matches(monitor: &str, uri: &str) -> bool {
    if uri == monitor {
        return true;
    }
    if !monitor.starts_with('/') {
        return false;
    }
    let path = match uri.find("://") {
        Some(i) => uri[i + 3..].find('/').map_or("", |j| &uri[i + 3 + j..]),
        None => uri,
    };
    path == monitor
}

/// The status code of a generated response head.
fn status_of(head: &[u8]) -> i32 {
    head.get(9..12)
        .and_then(|c| std::str::from_utf8(c).ok())
        .and_then(|c| c.parse().ok())
        .unwrap_or(-1)
}

/// What 2.6 logs as the size of a response it generates: counted as the
/// ones it forwards.
fn generated_bytes(page: &[u8]) -> u64 {
    logged_head_len(page)
}

/// Sends a generated response, draining the request body first so the
/// connection stays usable (keep-alive, as HAProxy does for 403/503).
async fn reply(
    cli: &mut Conn,
    page: (Vec<u8>, bool),
    close: &mut bool,
    body: BodyKind,
    cto: Option<std::time::Duration>,
    (lg, status): (&mut TxnLog, i32),
) -> Outcome {
    let (mut bytes, closes) = page;
    if body != BodyKind::None || closes {
        *close = true;
    }
    // A HEAD request gets the head alone (and logs its size), as in 2.6.
    if lg.head_request {
        if let Some(i) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
            bytes.truncate(i + 4);
        }
    }
    lg.status = status;
    if write_all(&mut cli.io, &bytes, cto).await.is_err() {
        lg.end(b'C', b'R');
        return Outcome::Close;
    }
    lg.bytes_out += generated_bytes(&bytes);
    Outcome::Done { close: *close }
}

/// The page for a generated error: the backend's page for that code
/// (`errorfile`, `errorloc`, `http-error`), else the frontend's, else
/// HAProxy's built-in one. The flag says whether the connection must close
/// after it.
fn error_page(
    fe: &Frontend,
    be: Option<&crate::model::Backend>,
    code: u16,
    close: bool,
    ctx: &FetchCtx,
) -> (Vec<u8>, bool) {
    let page = crate::http::reply::Reply::ErrorPage(code);
    crate::http::reply::render(&page, &pages(fe, be), ctx, close)
}

/// A generated response with the `http-after-response` rules applied
/// (the backend's, then the frontend's), as 2.6 does for its own answers.
/// A value those rules cannot write turns it into the 500 page.
fn after_rules(
    fe: &Frontend,
    be: Option<&crate::model::Backend>,
    ctx: &FetchCtx,
    (bytes, close): (Vec<u8>, bool),
) -> (Vec<u8>, bool) {
    let be = be.filter(|b| b.id != fe.id);
    let mut sets: Vec<&[crate::http::rules::HttpRule]> = Vec::new();
    let mut acls: Vec<&[crate::model::Acl]> = Vec::new();
    if let Some(b) = be {
        sets.push(&b.http.after);
        acls.push(&b.acls);
    }
    sets.push(&fe.http.after);
    acls.push(&fe.acls);
    let (mut bytes, close) = match crate::http::rules::after_generated(&sets, &acls, ctx, bytes) {
        Ok(bytes) => (bytes, close),
        Err(_) => error_page(fe, be, 500, close, ctx),
    };
    // The answer to a HEAD request keeps its head only (its length too).
    if ctx.req.is_some_and(|r| r.method == "HEAD") {
        if let Some(end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
            bytes.truncate(end + 4);
        }
    }
    (bytes, close)
}

enum Exchange {
    Done {
        client_close: bool,
        server_reusable: bool,
    },
    /// A generated error response is due (502, 504).
    Error(u16),
    /// A response rule answers instead (`deny`, `return`, `redirect`, a
    /// failed rewrite).
    Answer(crate::http::rules::Verdict),
    /// The client went away or a body broke mid-way: just close.
    Aborted,
    /// A reused server connection was closed before any response byte.
    Stale,
    /// A `retry-on` condition: send the request again.
    Retry,
}

#[allow(clippy::too_many_arguments)]
async fn exchange(
    sh: &Shared,
    fe: &Frontend,
    (be_id, server): (BackendId, usize),
    cli: &mut Conn,
    srv: &mut Conn,
    req: &RequestHead,
    body: BodyKind,
    base: &FetchCtx<'_>,
    upgrade: bool,
    server_close: bool,
    mut client_close: bool,
    reused: bool,
    (server_cookie, persisted): (Option<&str>, bool),
    retry: Option<&crate::model::RetryOn>,
    lg: &mut TxnLog,
) -> Exchange {
    let be = sh.rt.backend(be_id);
    let limit = sh.rt.global.bufsize;
    let (cto, sto) = (ms(fe.timeouts.client), ms(be.timeouts.server));
    // `option h1-case-adjust-bogus-client|server`: names as the map says.
    let map = Some(sh.rt.global.case_map.as_slice()).filter(|m| !m.is_empty());
    let cli_case = map.filter(|_| fe.options.has("h1-case-adjust-bogus-client"));
    let srv_case = map.filter(|_| be.options.has("h1-case-adjust-bogus-server"));
    // `option http-pretend-keepalive`: the server is not told that the
    // connection closes (it is closed after the response all the same).
    let pretend =
        fe.options.has("http-pretend-keepalive") || be.options.has("http-pretend-keepalive");
    let head = request_head(
        fe,
        be,
        req,
        (base.src, base.dst),
        upgrade,
        server_close && !pretend,
        srv_case,
    );
    if write_all(&mut srv.io, &head, sto).await.is_err() {
        return if reused {
            Exchange::Stale
        } else {
            lg.end(b'S', b'H');
            Exchange::Error(502)
        };
    }
    // With `Expect: 100-continue` the client waits for the server's interim
    // 100 (or a final answer) before it sends the body: relay whichever of
    // the two comes first.
    let mut early: Option<ResponseHead> = None;
    let expects = parse::tokens(&req.headers, "expect")
        .iter()
        .any(|t| t == "100-continue");
    if body != BodyKind::None && expects && cli.buf.is_empty() {
        let deadline = sto.map(|d| Instant::now() + d);
        let mut peek_buf = [0u8; 1];
        tokio::select! {
            r = srv.read_head(limit, deadline, parse::parse_response) => match r {
                HeadRead::Head(res) if res.status == 100 => {
                    let interim = response_head(&res, req, false, cli_case);
                    if write_all(&mut cli.io, &interim, cto).await.is_err() {
                        lg.end(b'C', b'H');
                        return Exchange::Aborted;
                    }
                    lg.bytes_out += logged_head_len(&interim);
                }
                HeadRead::Head(res) => {
                    // A final answer instead of 100: the body never comes.
                    client_close = true;
                    early = Some(res);
                }
                HeadRead::Timeout { .. } => {
                    lg.end(b's', b'H');
                    return Exchange::Error(504);
                }
                _ => {
                    lg.end(b'S', b'H');
                    return Exchange::Error(502);
                }
            },
            // A real peek: readiness alone can be stale.
            _ = cli.io.peek(&mut peek_buf) => {}
        }
    }
    let body = if early.is_some() {
        BodyKind::None
    } else {
        body
    };
    match cli.copy_body(&mut srv.io, body, limit, cto, sto).await {
        Ok(n) => {
            if let Some(b) = lg.request_bytes.as_mut() {
                *b += n;
            }
        }
        Err(BodyError::BadChunk) => {
            let _ = write_all(&mut cli.io, &connection_page(&fe.error_pages, 400), cto).await;
            lg.status = 400;
            lg.end(b'P', b'D');
            return Exchange::Aborted;
        }
        Err(BodyError::Dst) => {
            lg.end(b'S', b'D');
            return Exchange::Error(502);
        }
        Err(BodyError::SrcTimeout) => {
            lg.end(b'c', b'D');
            return Exchange::Aborted;
        }
        Err(_) => {
            lg.end(b'C', b'D');
            return Exchange::Aborted;
        }
    }
    // Interim 1xx responses are relayed until the final one.
    let mut res = loop {
        if let Some(res) = early.take() {
            break res;
        }
        let deadline = sto.map(|d| Instant::now() + d);
        let head = srv.read_head(limit, deadline, parse::parse_response).await;
        // What the server did, for `observe layer7`.
        crate::health::observe_head(sh, be_id, server, &head, reused);
        let res = match head {
            HeadRead::Head(r) => r,
            HeadRead::Timeout { .. } if retry.is_some_and(|r| r.response_timeout) => {
                return Exchange::Retry
            }
            HeadRead::Timeout { .. } => {
                lg.end(b's', b'H');
                return Exchange::Error(504);
            }
            HeadRead::Closed { partial: false } | HeadRead::Io if reused => return Exchange::Stale,
            HeadRead::Closed { partial: false } | HeadRead::Io
                if retry.is_some_and(|r| r.empty_response) =>
            {
                return Exchange::Retry
            }
            HeadRead::Closed { partial: true } | HeadRead::Bad(_) | HeadRead::TooLarge
                if retry.is_some_and(|r| r.junk_response) =>
            {
                return Exchange::Retry
            }
            _ => {
                lg.end(b'S', b'H');
                return Exchange::Error(502);
            }
        };
        if retry.is_some_and(|r| r.statuses.contains(&res.status)) {
            return Exchange::Retry;
        }
        if (100..200).contains(&res.status) && res.status != 101 {
            let interim = response_head(&res, req, false, cli_case);
            if write_all(&mut cli.io, &interim, cto).await.is_err() {
                lg.end(b'C', b'H');
                return Exchange::Aborted;
            }
            lg.bytes_out += logged_head_len(&interim);
            continue;
        }
        break res;
    };
    lg.response_at = Some(Instant::now());
    capture(&fe.log.res_caps, &res.headers, &mut lg.res_caps);
    if let Some((name, len)) = &fe.log.capture_cookie {
        lg.cookie_res = capture_cookie(&res.headers, "set-cookie", name, *len);
    }
    // http-response rules: the backend's, then the frontend's.
    let fe_same = be.id == fe.id;
    let sets = [(!fe_same).then_some(be), Some(be).filter(|_| fe_same)]
        .into_iter()
        .flatten()
        .map(|b| (&b.http, &b.acls))
        .chain((!fe_same).then_some((&fe.http, &fe.acls)));
    let ctx = base.with_msg(Some(req), None);
    let mut res_state = crate::http::rules::RequestState::default();
    for (rules, acls) in sets {
        let sets = [&rules.response[..], &rules.response_tail[..]];
        crate::sample::take_captures();
        let answer = crate::http::rules::run_response(&sets, acls, &mut res, &ctx, &mut res_state);
        absorb(&mut res_state, lg, (true, &fe.log.res_caps));
        if let Some(v) = answer {
            lg.end(b'P', b'H');
            // As 2.6: no response time, and the refused response counted
            // in the bytes with the page that replaces it.
            lg.response_at = None;
            let body = match parse::frame_body(&mut res.headers.clone(), false) {
                Ok(BodyKind::Length(n)) => (n as usize).min(srv.buf.len()) as u64,
                _ => 0,
            };
            lg.bytes_out += logged_head_len(&response_head(&res, req, client_close, None)) + body;
            return Exchange::Answer(v);
        }
    }
    // Then http-after-response rules, in the same order.
    let after = [(!fe_same).then_some(be), Some(be).filter(|_| fe_same)]
        .into_iter()
        .flatten()
        .map(|b| (&b.http.after, &b.acls))
        .chain((!fe_same).then_some((&fe.http.after, &fe.acls)));
    for (rules, acls) in after {
        crate::sample::take_captures();
        let answer =
            crate::http::rules::run_response(&[rules], acls, &mut res, &ctx, &mut res_state);
        absorb(&mut res_state, lg, (true, &fe.log.res_caps));
        if let Some(v) = answer {
            return Exchange::Answer(v);
        }
    }
    if let Some(c) = &be.cookie {
        c.respond(&mut res, &req.method, server_cookie, persisted);
    }
    let no_body =
        req.method == "HEAD" || res.status == 204 || res.status == 304 || res.status == 101;
    let kind = if no_body {
        BodyKind::None
    } else {
        match parse::frame_body(&mut res.headers, false) {
            Ok(k) => k,
            Err(_) => {
                lg.end(b'S', b'H');
                return Exchange::Error(502);
            }
        }
    };
    let srv_tokens = parse::tokens(&res.headers, "connection");
    let server_reusable = !server_close
        && kind != BodyKind::UntilClose
        && res.status != 101
        && !srv_tokens.iter().any(|t| t == "close")
        && (res.minor == 1 || srv_tokens.iter().any(|t| t == "keep-alive"));
    if kind == BodyKind::UntilClose {
        client_close = true;
    }
    let mut head = response_head(&res, req, client_close, cli_case);
    let mut logged = logged_head_len(&head);
    if kind == BodyKind::Chunked {
        logged += 1;
    }
    // A small body that already arrived with the head leaves in the same
    // write: one syscall per response instead of two.
    let mut kind = kind;
    if let BodyKind::Length(n) = kind {
        if n as usize <= srv.buf.len() {
            head.extend_from_slice(&srv.buf.split_to(n as usize));
            logged += n;
            kind = BodyKind::None;
        }
    }
    lg.status = res.status as i32;
    if write_all(&mut cli.io, &head, cto).await.is_err() {
        lg.end(b'C', b'D');
        return Exchange::Aborted;
    }
    lg.bytes_out += logged;
    lg.status = res.status as i32;
    if let Some(vars) = base.vars {
        crate::log::txn::emit_early(sh, fe, lg, (base.src, base.dst), vars);
    }
    if res.status == 101 {
        tunnel(cli, srv, fe, be_id, sh).await;
        return Exchange::Done {
            client_close: true,
            server_reusable: false,
        };
    }
    match srv.copy_body(&mut cli.io, kind, limit, sto, cto).await {
        Ok(n) => {
            lg.bytes_out += n;
            Exchange::Done {
                client_close,
                server_reusable,
            }
        }
        Err(e) => {
            match e {
                BodyError::Dst => lg.end(b'C', b'D'),
                BodyError::SrcTimeout => lg.end(b's', b'D'),
                _ => lg.end(b'S', b'D'),
            }
            Exchange::Aborted
        }
    }
}

/// The size 2.6 logs for a response head it forwards: its internal form
/// has no `: ` nor CRLF after each header, 4 bytes fewer per header line
/// than on the wire (the status line and the final CRLF count whole). A
/// chunked body is logged as its data plus one byte.
fn logged_head_len(msg: &[u8]) -> u64 {
    let head = msg
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(msg, |i| &msg[..i + 4]);
    let lines = head.windows(2).filter(|w| w == b"\r\n").count() as u64;
    (msg.len() as u64).saturating_sub(4 * lines.saturating_sub(2))
}

/// `capture cookie <name> len <n>`: the first cookie whose name starts
/// with `name`, from its name to the end of its value (of a `Cookie`
/// header) or of the header (`Set-Cookie`), cut to `len` bytes.
fn capture_cookie(
    headers: &[super::parse::Header],
    header: &str,
    name: &str,
    len: usize,
) -> Option<String> {
    headers
        .iter()
        .filter(|h| h.name == header)
        .find_map(|h| {
            if header == "set-cookie" {
                let v = h.value.trim_ascii_start();
                return v.starts_with(name.as_bytes()).then(|| v.to_vec());
            }
            h.value
                .split(|b| *b == b';')
                .map(<[u8]>::trim_ascii)
                .find(|pair| pair.starts_with(name.as_bytes()))
                .map(<[u8]>::to_vec)
        })
        .map(|mut v| {
            v.truncate(len);
            String::from_utf8_lossy(&v).into_owned()
        })
}

/// Fills the header slots with the last occurrence of each captured
/// header, cut to its length; rule slots start empty.
fn capture(
    slots: &[crate::model::log::Slot],
    headers: &[super::parse::Header],
    out: &mut Vec<Option<Vec<u8>>>,
) {
    if slots.is_empty() {
        return;
    }
    out.clear();
    for c in slots {
        let v = c.header.as_ref().and_then(|name| {
            headers.iter().rev().find(|h| &h.name == name).map(|h| {
                let n = h.value.len().min(c.len);
                h.value[..n].to_vec()
            })
        });
        out.push(v);
    }
}

/// Moves what `capture` and `set-log-level` rules found into the log state.
fn absorb(
    st: &mut crate::http::rules::RequestState,
    lg: &mut TxnLog,
    (response, slots): (bool, &[crate::model::log::Slot]),
) {
    // What `capture-req`/`capture-res` converters recorded meanwhile, cut
    // to their slot's length when the slot is known.
    let converted = crate::sample::take_captures();
    let caps = if response {
        &mut lg.res_caps
    } else {
        &mut lg.req_caps
    };
    for (slot, v) in st.captures.drain(..) {
        if let Some(c) = caps.get_mut(slot) {
            *c = Some(v);
        }
    }
    for (_, slot, mut v) in converted.into_iter().filter(|(r, _, _)| *r == response) {
        if let (Some(c), Some(s)) = (caps.get_mut(slot), slots.get(slot)) {
            v.truncate(s.len);
            *c = Some(v);
        }
    }
    if let Some(l) = st.log_level.take() {
        lg.level = Some(l);
    }
}

/// After a 101, bytes flow both ways untouched, through the TCP relay:
/// `timeout tunnel` (else the client/server timeouts), `client-fin` /
/// `server-fin` once a side has closed, half-close passed on.
async fn tunnel(cli: &mut Conn, srv: &mut Conn, fe: &Frontend, be_id: BackendId, sh: &Shared) {
    let be = sh.rt.backend(be_id);
    let cfg = crate::tcp::relay_cfg(sh, fe, be);
    // Bytes already buffered on either side go first.
    let (up, down) = (cli.buf.split(), srv.buf.split());
    let _ = crate::tcp::relay::relay(&cli.io, &srv.io, (&up, &down), &cfg).await;
}

/// The request head as sent to the server: names lower-cased, order kept,
/// `connection` rewritten, `x-forwarded-for` appended with `option forwardfor`.
fn request_head(
    fe: &Frontend,
    be: &crate::model::Backend,
    req: &RequestHead,
    (src, dst): (SocketAddr, SocketAddr),
    upgrade: bool,
    server_close: bool,
    case: CaseMap,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    out.extend_from_slice(req.method.as_bytes());
    out.push(b' ');
    out.extend_from_slice(req.uri.as_bytes());
    out.extend_from_slice(if req.minor == 0 {
        b" HTTP/1.0\r\n"
    } else {
        b" HTTP/1.1\r\n"
    });
    for h in &req.headers {
        if h.name == "connection" {
            continue;
        }
        push_header(&mut out, case, &h.name, &h.value);
    }
    // `option forwardfor` then `option originalto`, on in either proxy:
    // the backend's header name first, either's `except` and `if-none`, as
    // 2.6 combines them.
    let none = |_: &str| None;
    let ctx = FetchCtx::new(src, dst, None, &none);
    let added = [
        (
            fe.options.forwardfor.as_ref(),
            be.options.forwardfor.as_ref(),
            src,
        ),
        (
            fe.options.originalto.as_ref(),
            be.options.originalto.as_ref(),
            dst,
        ),
    ];
    for (f, b, addr) in added {
        let Some(opt) = b.or(f) else { continue };
        let excepted = [f, b].into_iter().flatten().any(|o| {
            o.except
                .as_ref()
                .is_some_and(|net| crate::acl::eval_acl(net, &ctx))
        });
        let if_none = [f, b].into_iter().flatten().any(|o| o.if_none);
        let present = if_none && req.headers.iter().any(|h| h.name == opt.header);
        if !excepted && !present {
            push_header(
                &mut out,
                case,
                &opt.header,
                addr.ip().to_string().as_bytes(),
            );
        }
    }
    if upgrade {
        push_header(&mut out, case, "connection", b"upgrade");
    } else if server_close {
        push_header(&mut out, case, "connection", b"close");
    } else if req.minor == 0 {
        push_header(&mut out, case, "connection", b"keep-alive");
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// The response head as sent to the client: HTTP/1.1, the server's status
/// and reason, names lower-cased, `connection: close` when we will close.
fn response_head(res: &ResponseHead, req: &RequestHead, close: bool, case: CaseMap) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    // The server's version is kept, as 2.6 does: an HTTP/1.0 answer stays
    // one, closing implicitly and saying so only to keep the connection.
    let v10 = res.minor == 0;
    let version = if v10 { "HTTP/1.0" } else { "HTTP/1.1" };
    out.extend_from_slice(format!("{version} {} {}\r\n", res.status, res.reason).as_bytes());
    for h in &res.headers {
        if h.name == "connection" && res.status != 101 {
            continue;
        }
        push_header(&mut out, case, &h.name, &h.value);
    }
    if res.status >= 200 {
        if close {
            if !v10 {
                push_header(&mut out, case, "connection", b"close");
            }
        } else if req.minor == 0 || v10 {
            push_header(&mut out, case, "connection", b"keep-alive");
        }
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// Header names as sent: lower-cased, unless `h1-case-adjust` maps them.
type CaseMap<'a> = Option<&'a [(String, String)]>;

fn push_header(out: &mut Vec<u8>, case: CaseMap, name: &str, value: &[u8]) {
    let name = case
        .and_then(|m| m.iter().find(|(from, _)| from == name))
        .map_or(name, |(_, to)| to.as_str());
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}
