//! A small in-process HTTP/1.1 test server (hyper, 127.0.0.1:0, its own thread and runtime)
//! whose behaviour the tests control: response status, a fixed delay, a freeze window, and
//! counters of requests and of requests in flight. Also targets that misbehave at the TCP
//! level: refusing, closing every connection, never answering.

#![allow(dead_code)]

pub mod fixed;

use std::convert::Infallible;
use std::net::{SocketAddr, TcpListener as StdListener};
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::sync::oneshot;

#[derive(Debug, Default)]
pub struct State {
    pub requests: AtomicU64,
    pub in_flight: AtomicU64,
    pub max_in_flight: AtomicU64,
    /// Status of every response (200 when 0).
    pub status: AtomicU16,
    /// Extra delay per request, microseconds.
    pub delay_us: AtomicU64,
    /// Answer with `connection: close` (the server closes after each response).
    pub close: std::sync::atomic::AtomicBool,
    /// Requests arriving inside this window wait until its end.
    pub freeze: Mutex<Option<(Instant, Instant)>>,
}

pub struct TestServer {
    pub addr: SocketAddr,
    pub state: Arc<State>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TestServer {
    pub fn start() -> TestServer {
        let std_listener = StdListener::bind("127.0.0.1:0").unwrap();
        std_listener.set_nonblocking(true).unwrap();
        let addr = std_listener.local_addr().unwrap();
        let state = Arc::new(State::default());
        let (tx, rx) = oneshot::channel();
        let st = state.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(serve(std_listener, st, rx));
        });
        TestServer {
            addr,
            state,
            shutdown: Some(tx),
            thread: Some(thread),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn requests(&self) -> u64 {
        self.state.requests.load(Ordering::SeqCst)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn serve(listener: StdListener, state: Arc<State>, mut stop: oneshot::Receiver<()>) {
    let listener = tokio::net::TcpListener::from_std(listener).unwrap();
    loop {
        let (stream, _) = tokio::select! {
            r = listener.accept() => r.unwrap(),
            _ = &mut stop => return,
        };
        stream.set_nodelay(true).unwrap();
        let state = state.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |req| handle(req, state.clone()));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}

async fn handle(
    _req: Request<hyper::body::Incoming>,
    state: Arc<State>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    state.requests.fetch_add(1, Ordering::SeqCst);
    let now_in = state.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    state.max_in_flight.fetch_max(now_in, Ordering::SeqCst);
    let freeze = *state.freeze.lock().unwrap();
    let now = Instant::now();
    if let Some((from, to)) = freeze {
        if now >= from && now < to {
            tokio::time::sleep_until(to.into()).await;
        }
    }
    let delay = state.delay_us.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_micros(delay)).await;
    }
    state.in_flight.fetch_sub(1, Ordering::SeqCst);
    let status = match state.status.load(Ordering::SeqCst) {
        0 => 200,
        s => s,
    };
    let mut resp = Response::builder().status(status);
    if state.close.load(Ordering::SeqCst) {
        resp = resp.header("connection", "close");
    }
    let resp = resp
        .body(Full::new(Bytes::from_static(b"{\"id\": 1}")))
        .unwrap();
    Ok(resp)
}

/// An address where nothing listens (connections are refused).
pub fn refused_addr() -> SocketAddr {
    let l = StdListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

/// A TCP server that accepts and immediately closes every connection; `hold` keeps them
/// open without ever answering instead.
pub struct BadServer {
    pub addr: SocketAddr,
    _thread: std::thread::JoinHandle<()>,
}

impl BadServer {
    pub fn start(hold: bool) -> BadServer {
        let l = StdListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let thread = std::thread::spawn(move || {
            let mut held = Vec::new();
            // Bounded: a test never opens this many connections.
            for s in l.incoming().take(10_000) {
                let Ok(s) = s else { return };
                if hold {
                    held.push(s);
                } else {
                    drop(s);
                }
            }
        });
        BadServer {
            addr,
            _thread: thread,
        }
    }
}
