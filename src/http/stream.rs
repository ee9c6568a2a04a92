//! One client connection in HTTP mode: read a request, pick a backend and a
//! server, forward, relay the response, and loop while both sides keep the
//! connection alive.
use super::errors::{connection_error, stream_error};
use super::io::{ms, write_all, BodyError, Conn, HeadRead};
use super::parse::{self, BodyKind, RequestHead, ResponseHead};
use super::pool::Reuse;
use crate::acl::FetchCtx;
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

/// Serves one client connection until it closes.
pub async fn serve(
    sh: Arc<Shared>,
    fe_id: FrontendId,
    sock: TcpStream,
    src: SocketAddr,
    dst: SocketAddr,
    initial: Vec<u8>,
    vars: crate::vars::Vars,
) {
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
        let mut req = match cli
            .read_head(head_limit, deadline, parse::parse_request)
            .await
        {
            HeadRead::Head(r) => r,
            HeadRead::Closed { .. } | HeadRead::Io => return,
            HeadRead::Timeout { partial } => {
                // An idle keep-alive connection just closes; a new or partial
                // one gets HAProxy's 408.
                if first || partial {
                    let _ = write_all(&mut cli.io, &connection_error(408), ms(t.client)).await;
                }
                return;
            }
            HeadRead::TooLarge | HeadRead::Bad(_) => {
                let _ = write_all(&mut cli.io, &connection_error(400), ms(t.client)).await;
                return;
            }
        };
        first = false;
        let body = match parse::frame_body(&mut req.headers, true) {
            Ok(b) => b,
            Err(_) => {
                let _ = write_all(&mut cli.io, &connection_error(400), ms(t.client)).await;
                return;
            }
        };
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
        )
        .await;
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
        return Outcome::Close;
    }
    // The frontend's http-request rules see and change the request next.
    if let Some(v) = request_rules(
        &fe.http.request,
        &fe.acls,
        &mut req,
        (src, dst),
        &nbsrv,
        vars,
        &sh.rt.userlists,
    ) {
        return final_answer(
            (sh, src),
            fe,
            None,
            cli,
            v,
            &mut close,
            body,
            req.minor,
            cto,
        )
        .await;
    }
    let mut ctx = FetchCtx::new(src, dst, Some(&req), &nbsrv);
    ctx.vars = Some(vars);
    ctx.userlists = &sh.rt.userlists;
    let Some(be_id) = sh.route(fe, &ctx) else {
        let page = error_page(fe, None, 503, close || body != BodyKind::None);
        return reply(
            cli,
            after_rules(fe, None, src, sh, page),
            &mut close,
            body,
            cto,
        )
        .await;
    };
    let be = sh.rt.backend(be_id);
    if rejected(&be.acls, &be.tcp.content, &req) {
        return Outcome::Close;
    }
    // Then the backend's (a listen section's rules ran once, above).
    if be.id != fe.id {
        if let Some(v) = request_rules(
            &be.http.request,
            &be.acls,
            &mut req,
            (src, dst),
            &nbsrv,
            vars,
            &sh.rt.userlists,
        ) {
            return final_answer(
                (sh, src),
                fe,
                Some(be),
                cli,
                v,
                &mut close,
                body,
                req.minor,
                cto,
            )
            .await;
        }
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
    let Some(mut slot) = state.acquire(be, key, persisted, deadline).await else {
        let page = error_page(fe, Some(be), 503, close || body != BodyKind::None);
        let page = after_rules(fe, Some(be), src, sh, page);
        return reply(cli, page, &mut close, body, cto).await;
    };
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
                match crate::connect::connect_with_retries(sh, be_id, &mut slot, src, dst).await {
                    Some(s) => Conn::new(s, sh.rt.global.bufsize),
                    None => {
                        let page = error_page(fe, Some(be), 503, close || body != BodyKind::None);
                        let page = after_rules(fe, Some(be), src, sh, page);
                        return reply(cli, page, &mut close, body, cto).await;
                    }
                }
            }
        };
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
            src,
            upgrade,
            server_close,
            close,
            reused,
            cookie,
            (body == BodyKind::None && retried < be.retries).then_some(&be.retry_on),
        );
        // `on-marked-down shutdown-sessions` (and friends) close the stream.
        let r = crate::health::unless_shut(sh, be_id, server, r, Exchange::Aborted).await;
        // An idle server connection the server closed meanwhile: a request
        // without a body is sent again on a new connection.
        if matches!(r, Exchange::Stale) && body == BodyKind::None {
            continue;
        }
        if matches!(r, Exchange::Retry) {
            // A new connection; the last retry goes elsewhere with `option
            // redispatch`, as for connection retries.
            retried += 1;
            if retried == be.retries && be.options.has("redispatch") {
                if let Some(other) = state.acquire_other(be, slot.server) {
                    slot = other;
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
        Exchange::Error(code) => {
            let page = after_rules(fe, Some(be), src, sh, error_page(fe, Some(be), code, true));
            let _ = write_all(&mut cli.io, &page.0, cto).await;
            Outcome::Close
        }
        Exchange::Aborted => Outcome::Close,
        // With a body already sent, a stale connection cannot be replayed.
        Exchange::Stale | Exchange::Retry => {
            let page = after_rules(fe, Some(be), src, sh, error_page(fe, Some(be), 502, true));
            let _ = write_all(&mut cli.io, &page.0, cto).await;
            Outcome::Close
        }
    }
}

/// Runs a rule set on the request; Some when a rule answers it.
fn request_rules(
    rules: &[crate::http::rules::HttpRule],
    acls: &[crate::model::Acl],
    req: &mut RequestHead,
    (src, dst): (SocketAddr, SocketAddr),
    nbsrv: &(dyn Fn(&str) -> Option<u32> + Sync),
    vars: &crate::vars::Vars,
    userlists: &[crate::http::auth::Userlist],
) -> Option<crate::http::rules::Verdict> {
    use crate::http::rules::{apply, step, Step};
    for r in rules {
        let s = {
            let mut ctx = FetchCtx::new(src, dst, Some(req), nbsrv);
            ctx.vars = Some(vars);
            ctx.userlists = userlists;
            step(r, acls, &ctx)
        };
        match s {
            None => {}
            Some(Step::Edit(crate::http::rules::Edit::Uri(u))) => req.uri = u,
            Some(Step::Edit(crate::http::rules::Edit::Method(m))) => req.method = m,
            Some(Step::Edit(e)) => apply(&mut req.headers, e),
            Some(Step::Allow) => break,
            Some(Step::Final(v)) => return Some(v),
        }
    }
    None
}

/// Runs an `http-response` rule set on the response head; Some(status)
/// when a `deny` replaces the response with that error page.
fn response_rules(
    rules: &[crate::http::rules::HttpRule],
    acls: &[crate::model::Acl],
    res: &mut ResponseHead,
    src: SocketAddr,
    sh: &Shared,
) -> Option<u16> {
    use crate::http::rules::{apply, step, Step, Verdict};
    let nbsrv = |name: &str| sh.nbsrv(name);
    for r in rules {
        let s = step(r, acls, &FetchCtx::new(src, src, None, &nbsrv));
        match s {
            None => {}
            Some(Step::Edit(e)) => apply(&mut res.headers, e),
            Some(Step::Allow) => break,
            Some(Step::Final(Verdict::Deny(code))) => return Some(code),
            Some(Step::Final(_)) => return Some(502),
        }
    }
    None
}

/// Answers a request a rule stopped: `deny`'s error page or a redirect.
#[allow(clippy::too_many_arguments)]
async fn final_answer(
    (sh, src): (&Shared, SocketAddr),
    fe: &Frontend,
    be: Option<&crate::model::Backend>,
    cli: &mut Conn,
    v: crate::http::rules::Verdict,
    close: &mut bool,
    body: BodyKind,
    minor: u8,
    cto: Option<std::time::Duration>,
) -> Outcome {
    use crate::http::rules::Verdict;
    let closing = *close || body != BodyKind::None || minor == 0;
    let page = match v {
        Verdict::Deny(code) => error_page(fe, be, code, closing),
        Verdict::Redirect(code, location) => (
            crate::http::rules::redirect_response(code, &location, closing),
            closing,
        ),
        Verdict::Return(mut head, body) => {
            if closing {
                head.extend_from_slice(b"connection: close\r\n");
            }
            head.extend_from_slice(b"\r\n");
            head.extend_from_slice(&body);
            (head, closing)
        }
        Verdict::Auth(realm) => (crate::http::auth::challenge(&realm, closing), closing),
        Verdict::Continue => error_page(fe, be, 500, true),
    };
    reply(cli, after_rules(fe, be, src, sh, page), close, body, cto).await
}

/// Sends a generated response, draining the request body first so the
/// connection stays usable (keep-alive, as HAProxy does for 403/503).
async fn reply(
    cli: &mut Conn,
    page: (Vec<u8>, bool),
    close: &mut bool,
    body: BodyKind,
    cto: Option<std::time::Duration>,
) -> Outcome {
    let (bytes, closes) = page;
    if body != BodyKind::None || closes {
        *close = true;
    }
    if write_all(&mut cli.io, &bytes, cto).await.is_err() {
        return Outcome::Close;
    }
    Outcome::Done { close: *close }
}

/// The page for a generated error: the backend's `errorfile` for that code,
/// else the frontend's, else HAProxy's built-in one. The flag says whether
/// the connection must close after it.
fn error_page(
    fe: &Frontend,
    be: Option<&crate::model::Backend>,
    code: u16,
    close: bool,
) -> (Vec<u8>, bool) {
    let custom = be
        .and_then(|b| b.errorfiles.iter().find(|(c, _)| *c == code))
        .or_else(|| fe.errorfiles.iter().find(|(c, _)| *c == code));
    match custom {
        Some((_, e)) => (e.bytes.clone(), e.closes || close),
        None => (stream_error(code, close), close),
    }
}

/// A generated response with the `http-after-response` rules applied
/// (the backend's, then the frontend's), as 2.6 does for its own answers.
fn after_rules(
    fe: &Frontend,
    be: Option<&crate::model::Backend>,
    src: SocketAddr,
    sh: &Shared,
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
    let nbsrv = |name: &str| sh.nbsrv(name);
    let ctx = FetchCtx::new(src, src, None, &nbsrv);
    (
        crate::http::rules::after_generated(&sets, &acls, &ctx, bytes),
        close,
    )
}

enum Exchange {
    Done {
        client_close: bool,
        server_reusable: bool,
    },
    /// A generated error response is due (502, 504).
    Error(u16),
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
    src: SocketAddr,
    upgrade: bool,
    server_close: bool,
    mut client_close: bool,
    reused: bool,
    (server_cookie, persisted): (Option<&str>, bool),
    retry: Option<&crate::model::RetryOn>,
) -> Exchange {
    let be = sh.rt.backend(be_id);
    let limit = sh.rt.global.bufsize;
    let (cto, sto) = (ms(fe.timeouts.client), ms(be.timeouts.server));
    // `option h1-case-adjust-bogus-client|server`: names as the map says.
    let map = Some(sh.rt.global.case_map.as_slice()).filter(|m| !m.is_empty());
    let cli_case = map.filter(|_| fe.options.has("h1-case-adjust-bogus-client"));
    let srv_case = map.filter(|_| be.options.has("h1-case-adjust-bogus-server"));
    let head = request_head(fe, be, req, src, upgrade, server_close, srv_case);
    if write_all(&mut srv.io, &head, sto).await.is_err() {
        return if reused {
            Exchange::Stale
        } else {
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
                    if write_all(&mut cli.io, &response_head(&res, req, false, cli_case), cto).await.is_err() {
                        return Exchange::Aborted;
                    }
                }
                HeadRead::Head(res) => {
                    // A final answer instead of 100: the body never comes.
                    client_close = true;
                    early = Some(res);
                }
                HeadRead::Timeout { .. } => return Exchange::Error(504),
                _ => return Exchange::Error(502),
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
        Ok(_) => {}
        Err(BodyError::BadChunk) => {
            let _ = write_all(&mut cli.io, &connection_error(400), cto).await;
            return Exchange::Aborted;
        }
        Err(BodyError::Dst) => return Exchange::Error(502),
        Err(_) => return Exchange::Aborted,
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
            HeadRead::Timeout { .. } => return Exchange::Error(504),
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
            _ => return Exchange::Error(502),
        };
        if retry.is_some_and(|r| r.statuses.contains(&res.status)) {
            return Exchange::Retry;
        }
        if (100..200).contains(&res.status) && res.status != 101 {
            let interim = response_head(&res, req, false, cli_case);
            if write_all(&mut cli.io, &interim, cto).await.is_err() {
                return Exchange::Aborted;
            }
            continue;
        }
        break res;
    };
    // http-response rules: the backend's, then the frontend's.
    let fe_same = be.id == fe.id;
    let sets = [(!fe_same).then_some(be), Some(be).filter(|_| fe_same)]
        .into_iter()
        .flatten()
        .map(|b| (&b.http.response, &b.acls))
        .chain((!fe_same).then_some((&fe.http.response, &fe.acls)));
    for (rules, acls) in sets {
        if let Some(code) = response_rules(rules, acls, &mut res, src, sh) {
            return Exchange::Error(code);
        }
    }
    // Then http-after-response rules, in the same order.
    let after = [(!fe_same).then_some(be), Some(be).filter(|_| fe_same)]
        .into_iter()
        .flatten()
        .map(|b| (&b.http.after, &b.acls))
        .chain((!fe_same).then_some((&fe.http.after, &fe.acls)));
    for (rules, acls) in after {
        let _ = response_rules(rules, acls, &mut res, src, sh);
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
            Err(_) => return Exchange::Error(502),
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
    // A small body that already arrived with the head leaves in the same
    // write: one syscall per response instead of two.
    let mut kind = kind;
    if let BodyKind::Length(n) = kind {
        if n as usize <= srv.buf.len() {
            head.extend_from_slice(&srv.buf.split_to(n as usize));
            kind = BodyKind::None;
        }
    }
    if write_all(&mut cli.io, &head, cto).await.is_err() {
        return Exchange::Aborted;
    }
    if res.status == 101 {
        tunnel(cli, srv, fe, be_id, sh).await;
        return Exchange::Done {
            client_close: true,
            server_reusable: false,
        };
    }
    match srv.copy_body(&mut cli.io, kind, limit, sto, cto).await {
        Ok(_) => Exchange::Done {
            client_close,
            server_reusable,
        },
        Err(_) => Exchange::Aborted,
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
    src: SocketAddr,
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
    if let Some(ff) = fe
        .options
        .forwardfor
        .as_ref()
        .or(be.options.forwardfor.as_ref())
    {
        let none = |_: &str| None;
        let ctx = FetchCtx::new(src, src, None, &none);
        if !ff
            .except
            .as_ref()
            .is_some_and(|net| crate::acl::eval_acl(net, &ctx))
        {
            push_header(&mut out, case, &ff.header, src.ip().to_string().as_bytes());
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
    out.extend_from_slice(format!("HTTP/1.1 {} {}\r\n", res.status, res.reason).as_bytes());
    for h in &res.headers {
        if h.name == "connection" && res.status != 101 {
            continue;
        }
        push_header(&mut out, case, &h.name, &h.value);
    }
    if res.status >= 200 {
        if close {
            push_header(&mut out, case, "connection", b"close");
        } else if req.minor == 0 {
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
