//! The reference Twitter-like server of SPEC section 6, on hyper 1.x.
//!
//! A realistic target for load tests: users, follows, tweets, likes and timelines in a sharded
//! in-memory store, with the home timeline built by fan-out on write (`push`), merge on read
//! (`pull`) or both (`hybrid`), so the trade-off can be switched and measured (`/metrics`).
//!
//! # Entry points
//! - [`run`]: seed the store from a [`Config`], serve until `shutdown` resolves, drain, return.
//! - [`App::new`] then [`serve`]: seed first (to time it, or read [`App::seed_report`]), then
//!   serve a shared [`App`]; the caller keeps an `Arc<App>` to inspect the store and metrics
//!   (e.g. [`Metrics::in_flight_requests`]) while it runs.
//! - [`serve_with_tls`]: the same over HTTPS ([`ServerTls`]: PEM files or self-signed).
//!
//! Every connection speaks HTTP/1.1 or HTTP/2 (hyper-util's auto builder): over TLS as ALPN
//! chose, over plain TCP by the client's first bytes (HTTP/2 prior knowledge).
//!
//! ```no_run
//! # async fn demo() -> Result<(), server::ServerError> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let config = server::Config { seed_users: 100, ..server::Config::default() };
//! let (tx, rx) = tokio::sync::oneshot::channel::<()>();
//! let task = tokio::spawn(server::run(listener, config, async { let _ = rx.await; }));
//! // ... send requests ...
//! let _ = tx.send(());
//! task.await.expect("server task")?;
//! # Ok(()) }
//! ```

mod api;
mod app;
mod config;
mod metrics;
mod render;
pub mod seed;
pub mod store;
mod tier;
mod time;
mod tls;

use std::future::Future;
use std::sync::Arc;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

pub use api::{DEFAULT_LIMIT, MAX_LIMIT, MAX_NAME_CHARS, MAX_TWEET_CHARS};
pub use app::App;
pub use config::{Config, Fsync, StorageConfig, Strategy, DEFAULT_CACHE_BYTES};
pub use metrics::Metrics;
pub use seed::SeedReport;
pub use store::{Store, HOME_CAP};
pub use tier::TIMELINE_BYTES;
pub use tls::ServerTls;

/// Largest request head (request line and headers) accepted, in bytes.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// Why the server could not start or run.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// A configuration value the server cannot run with.
    #[error("invalid server configuration: {0}")]
    Config(String),
    /// A socket error (binding, reading the local address).
    #[error("server I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// Seeding was interrupted (its thread panicked or was cancelled).
    #[error("seeding failed: {0}")]
    Seed(String),
    /// The `--data-dir` cannot be used as given (a file, unwritable, locked, foreign,
    /// incompatible or corrupt): bad input, nothing in it was changed.
    #[error("{0}")]
    DataDir(String),
    /// The durable store failed while starting (an I/O error reading or writing it).
    #[error("durable store error: {0}")]
    Store(String),
}

/// Seeds a store from `config`, then serves it on `listener` until `shutdown` resolves, then
/// drains in-flight requests and returns.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServerError> {
    let app = tokio::task::spawn_blocking(move || App::new(config))
        .await
        .map_err(|e| ServerError::Seed(e.to_string()))??;
    serve(listener, Arc::new(app), shutdown).await
}

/// Serves `app` on `listener` until `shutdown` resolves: then stops accepting, lets in-flight
/// requests finish (up to the configured drain timeout) and returns.
pub async fn serve(
    listener: TcpListener,
    app: Arc<App>,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServerError> {
    serve_with_tls(listener, app, None, shutdown).await
}

/// The connection builder: HTTP/1.1 (header read timeout, head size limit, half-close kept
/// open so requests sent before a client's shutdown(SHUT_WR) are answered) and HTTP/2.
fn builder(config: &Config) -> auto::Builder<TokioExecutor> {
    let mut http = auto::Builder::new(TokioExecutor::new());
    http.http1()
        .timer(TokioTimer::new())
        .header_read_timeout(config.header_read_timeout)
        .max_buf_size(MAX_HEADER_BYTES.max(8192))
        .half_close(true);
    http.http2().timer(TokioTimer::new());
    http
}

/// [`serve`], over TLS when `tls` is given (the handshake must complete within the header
/// read timeout).
pub async fn serve_with_tls(
    listener: TcpListener,
    app: Arc<App>,
    tls: Option<ServerTls>,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServerError> {
    let http = builder(&app.config);
    let limit = Arc::new(Semaphore::new(app.config.max_connections));
    let graceful = GracefulShutdown::new();
    let local = listener.local_addr()?;
    tracing::info!(addr = %local, tls = tls.is_some(), "listening");
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            () = &mut shutdown => break,
            permit = limit.clone().acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let svc_app = app.clone();
        let service = service_fn(move |req| api::handle(svc_app.clone(), req));
        let (http, watcher, tls) = (http.clone(), graceful.watcher(), tls.clone());
        let conn_app = app.clone();
        conn_app.metrics.connections.inc();
        conn_app.metrics.connections_total.inc();
        tokio::spawn(async move {
            let served = match tls {
                None => {
                    let conn = http.serve_connection(TokioIo::new(stream), service);
                    watcher.watch(conn).await
                }
                Some(tls) => {
                    let handshake = tls.acceptor().accept(stream);
                    match tokio::time::timeout(conn_app.config.header_read_timeout, handshake).await
                    {
                        Ok(Ok(stream)) => {
                            let conn = http.serve_connection(TokioIo::new(stream), service);
                            watcher.watch(conn).await
                        }
                        Ok(Err(e)) => Err(e.into()),
                        Err(_) => Err("TLS handshake timed out".into()),
                    }
                }
            };
            if let Err(e) = served {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
            conn_app.metrics.connections.dec();
            drop(permit);
        });
    }
    drop(listener);
    tracing::info!("shutting down: draining in-flight requests");
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("drained"),
        () = tokio::time::sleep(app.config.drain_timeout) => {
            tracing::warn!(timeout = ?app.config.drain_timeout, "drain timed out; closing remaining connections");
        }
    }
    Ok(())
}
