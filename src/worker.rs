//! The worker: a tokio runtime with `nbthread` threads, the listeners, and
//! one task per client connection.
use crate::balance::BackendState;
use crate::model::{FrontendId, Runtime};
use cfg_parser::ast::Mode;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio::sync::Semaphore;

/// What every connection task shares: the immutable model and the live
/// state of the backends.
pub struct Shared {
    pub rt: Runtime,
    pub backends: Vec<BackendState>,
    /// Idle server connections, per backend.
    pub pools: Vec<crate::http::pool::IdlePool>,
}

impl Shared {
    /// A backend (or listen) by name, for dynamic `use_backend`.
    pub fn backend_by_name(&self, name: &str) -> Option<crate::model::BackendId> {
        self.rt
            .backends
            .iter()
            .position(|b| b.name == name)
            .map(crate::model::BackendId)
    }

    /// The backend a stream goes to: the first `use_backend` rule whose
    /// condition holds, else `default_backend`.
    pub fn route(
        &self,
        fe: &crate::model::Frontend,
        ctx: &crate::acl::FetchCtx,
    ) -> Option<crate::model::BackendId> {
        for rule in &fe.switching {
            if !crate::acl::eval_cond(rule.cond.as_ref(), &fe.acls, ctx) {
                continue;
            }
            match &rule.target {
                crate::model::BackendTarget::Static(id) => return Some(*id),
                // A computed name that is no backend leaves the rule ignored.
                crate::model::BackendTarget::Dynamic(pieces) => {
                    let name = crate::sample::eval_logformat(pieces, ctx);
                    if let Some(id) = self.backend_by_name(&name) {
                        return Some(id);
                    }
                }
            }
        }
        fe.default_backend
    }

    /// Whether an idle connection to this server may serve other clients:
    /// not with `http-reuse never`, nor when a PROXY header on it names
    /// the client it was opened for.
    pub fn shares(&self, be: crate::model::BackendId, server: usize) -> bool {
        let b = self.rt.backend(be);
        let s = &b.servers[server];
        b.reuse != crate::http::pool::Reuse::Never && !s.send_proxy && !s.send_proxy_v2
    }

    /// Usable servers of backend `name` (`nbsrv`).
    pub fn nbsrv(&self, name: &str) -> Option<u32> {
        let i = self.rt.backends.iter().position(|b| b.name == name)?;
        Some(
            self.backends[i]
                .servers
                .iter()
                .filter(|s| s.up.load(Ordering::Relaxed))
                .count() as u32,
        )
    }
}

/// A listening socket that failed to open, for HAProxy's start-up alert.
pub struct StartError {
    pub message: String,
}

/// Binds every listener, then serves until a termination signal.
pub fn run(rt: Runtime, reuseport: bool) -> Result<(), Vec<StartError>> {
    let mut sockets = Vec::new();
    let mut errors = Vec::new();
    for l in &rt.listeners {
        match crate::listener::bind(l, reuseport) {
            Ok(s) => sockets.push((l.frontend, l.has("accept-proxy"), s)),
            Err(e) => {
                let fe = rt.frontend(l.frontend);
                let who = if rt.backends.iter().any(|b| b.name == fe.name) {
                    "proxy"
                } else {
                    "frontend"
                };
                errors.push(StartError {
                    message: format!(
                        "Binding [{}] for {who} {}: cannot bind socket ({}) for [{}]",
                        l.span, fe.name, e.reason, e.addr
                    ),
                });
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let threads = rt.global.nbthread.map(|n| n as usize).unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    // Two pipes per spliced TCP session; HAProxy's default bound is a
    // quarter of maxconn.
    let maxpipes = rt
        .global
        .maxpipes
        .map(|m| m as usize)
        .unwrap_or_else(|| rt.global.maxconn.unwrap_or(4096) as usize / 4);
    crate::tcp::pipes::init(maxpipes, rt.global.pipesize);
    let backends = rt.backends.iter().map(BackendState::new).collect();
    let pools = rt
        .backends
        .iter()
        .map(|b| crate::http::pool::IdlePool::new(b.servers.len()))
        .collect();
    let shared = Arc::new(Shared {
        rt,
        backends,
        pools,
    });
    // One thread: a current-thread runtime, with no cross-thread wake-ups.
    let mut builder = if threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(threads);
        b
    };
    let runtime = builder.enable_all().build().map_err(|e| {
        vec![StartError {
            message: format!("cannot start the worker threads: {e}"),
        }]
    })?;
    runtime.block_on(async move {
        let global_slots = shared
            .rt
            .global
            .maxconn
            .map(|m| Arc::new(Semaphore::new(m.max(1) as usize)));
        for (fe, accept_proxy, sock) in sockets {
            let sh = shared.clone();
            let global = global_slots.clone();
            tokio::spawn(async move {
                if let Ok(l) = tokio::net::TcpListener::from_std(sock) {
                    accept_loop(sh, fe, l, accept_proxy, global).await;
                }
            });
        }
        wait_for_stop().await;
    });
    Ok(())
}

/// Accepts connections for one listener. When `maxconn` (global or the
/// frontend's) is reached it stops accepting: excess connections wait in
/// the kernel's accept queue, as with HAProxy, instead of being refused.
async fn accept_loop(
    sh: Arc<Shared>,
    fe: FrontendId,
    l: tokio::net::TcpListener,
    accept_proxy: bool,
    global: Option<Arc<Semaphore>>,
) {
    let fe_slots = sh
        .rt
        .frontend(fe)
        .maxconn
        .map(|m| Arc::new(Semaphore::new(m.max(1) as usize)));
    loop {
        let g = match &global {
            Some(s) => s.clone().acquire_owned().await.ok(),
            None => None,
        };
        let f = match &fe_slots {
            Some(s) => s.clone().acquire_owned().await.ok(),
            None => None,
        };
        let (sock, src) = match l.accept().await {
            Ok(x) => x,
            Err(_) => {
                // EMFILE and friends: back off briefly rather than spin.
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        let dst = sock.local_addr().unwrap_or(src);
        let sh = sh.clone();
        tokio::spawn(async move {
            let _slots = (g, f);
            // Connection rules, the PROXY header, session rules.
            let Some((src, dst, initial)) =
                crate::tcp::handshake(&sh, sh.rt.frontend(fe), &sock, src, dst, accept_proxy).await
            else {
                return;
            };
            match sh.rt.frontend(fe).mode {
                Mode::Http => {
                    crate::http::stream::serve(sh.clone(), fe, sock, src, dst, initial).await
                }
                Mode::Tcp => crate::tcp::serve(sh.clone(), fe, sock, src, dst, initial).await,
            }
        });
    }
}

/// SIGTERM or SIGINT stop the worker (hard stop, as HAProxy's SIGTERM).
async fn wait_for_stop() {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}
