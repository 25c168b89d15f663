//! A small in-process HTTP/1.1 test server (hyper, 127.0.0.1:0, its own thread and runtime)
//! whose behaviour the tests control: response status, a fixed delay, a freeze window, and
//! counters of requests and of requests in flight. Also targets that misbehave at the TCP
//! level: refusing, closing every connection, never answering.

#![allow(dead_code)]

pub mod fixed;
pub mod tls;

use std::convert::Infallible;
use std::net::{SocketAddr, TcpListener as StdListener};
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

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
    /// When not 0: the request with this number (1 = the first) starts a freeze of
    /// `freeze_for_ms` (sets `freeze`), so a stall is placed by count, not by the clock.
    pub freeze_after: AtomicU64,
    pub freeze_for_ms: AtomicU64,
    /// Serve one request at a time (the others queue): with `delay_us` a server of known
    /// capacity, 1 / delay requests per second.
    pub serial: AtomicBool,
    serial_lock: tokio::sync::Mutex<()>,
    /// Wall-clock time of every response (tests keep runs short, so this stays small).
    pub answered_at: Mutex<Vec<SystemTime>>,
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
    let n = state.requests.fetch_add(1, Ordering::SeqCst) + 1;
    let now_in = state.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    state.max_in_flight.fetch_max(now_in, Ordering::SeqCst);
    let now = Instant::now();
    if n == state.freeze_after.load(Ordering::SeqCst) {
        let until = now + Duration::from_millis(state.freeze_for_ms.load(Ordering::SeqCst));
        *state.freeze.lock().unwrap() = Some((now, until));
    }
    let freeze = *state.freeze.lock().unwrap();
    if let Some((from, to)) = freeze {
        if now >= from && now < to {
            tokio::time::sleep_until(to.into()).await;
        }
    }
    let delay = Duration::from_micros(state.delay_us.load(Ordering::SeqCst));
    if state.serial.load(Ordering::SeqCst) {
        let _one_at_a_time = state.serial_lock.lock().await;
        spin_for(delay);
    } else if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    state.answered_at.lock().unwrap().push(SystemTime::now());
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

/// Busy-waits for `d`: a serial server's service time must not depend on the timer wheel's
/// granularity (a 2 ms sleep can take 3 ms), or its capacity would not be known.
fn spin_for(d: Duration) {
    let until = Instant::now() + d;
    while Instant::now() < until {
        std::hint::spin_loop();
    }
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
