//! The connection's HTTP/1.1 framing against canned responses from a raw TCP server: chunked
//! bodies with trailers, interim 1xx responses, HTTP/1.0 close-delimited bodies, 204, a body
//! larger than one read. Each response body is checked by a request source that wants it.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use loadgen::{
    ActionInfo, Constant, LoadShape, NoSink, PreparedRequest, RequestId, RequestSource, RunPlan,
    Shard, SourceFactory, StopHandle, Target, Verdict,
};

/// Reads one request head (the test requests carry no body: it ends with an empty line);
/// false when the connection closed.
fn read_head(reader: &mut BufReader<std::net::TcpStream>, line: &mut String) -> bool {
    loop {
        line.clear();
        match reader.read_line(line) {
            Ok(0) | Err(_) => return false,
            Ok(_) if line == "\r\n" => return true,
            Ok(_) => {}
        }
    }
}

/// Answers every request with `response`; closes after each one when `close`.
fn canned(response: Vec<u8>, close: bool) -> (String, Arc<AtomicU64>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let count = Arc::new(AtomicU64::new(0));
    let seen = count.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(1_000) {
            let Ok(stream) = stream else { return };
            let (response, seen) = (response.clone(), seen.clone());
            std::thread::spawn(move || {
                let mut out = stream.try_clone().unwrap();
                let mut reader = BufReader::new(stream);
                let mut line = String::new();
                loop {
                    if !read_head(&mut reader, &mut line) {
                        return;
                    }
                    seen.fetch_add(1, Ordering::SeqCst);
                    if out.write_all(&response).is_err() || close {
                        return;
                    }
                }
            });
        }
    });
    (url, count)
}

/// One GET action whose response body must equal `expected`.
struct Expect {
    infos: Vec<ActionInfo>,
    expected: Bytes,
}

struct ExpectLane(Bytes);

impl RequestSource for ExpectLane {
    fn next_request(&mut self, _id: RequestId) -> PreparedRequest {
        PreparedRequest {
            action: 0,
            method: hyper::Method::GET,
            path: "/x?y=1".into(),
            headers: vec![],
            body: Bytes::new(),
        }
    }

    fn on_response(&mut self, _action: usize, status: u16, body: &[u8]) -> Verdict {
        if (200..300).contains(&status) && body == self.0.as_ref() {
            Verdict::Success
        } else {
            Verdict::CaptureMissing
        }
    }

    fn wants_body(&self, _action: usize) -> bool {
        true
    }
}

impl SourceFactory for Expect {
    fn actions(&self) -> &[ActionInfo] {
        &self.infos
    }

    fn lane(&self, _index: usize, _lanes: usize, _seed: u64) -> Box<dyn RequestSource> {
        Box::new(ExpectLane(self.expected.clone()))
    }
}

/// An open-model plan: `rate`/s over `connections` for `secs`, no warm-up, 2 s timeout.
fn open_plan(url: &str, rate: f64, connections: usize, secs: u64) -> RunPlan {
    RunPlan {
        transport: loadgen::Transport::plain(),
        target: Target::parse(url).unwrap(),
        shape: LoadShape::Open {
            schedule: Arc::new(Constant { rate }),
            connections,
        },
        measured: Duration::from_secs(secs),
        warmup: Duration::ZERO,
        timeout: Duration::from_secs(2),
        threads: 1,
        seed: 1,
        shard: Shard::WHOLE,
        start_at: None,
    }
}

fn one_action() -> Vec<ActionInfo> {
    vec![ActionInfo {
        name: "x".into(),
        weight: 1.0,
    }]
}

/// 50 requests over 2 connections; all must succeed with the expected body.
fn check(response: &[u8], close: bool, expected: &[u8]) {
    let (url, seen) = canned(response.to_vec(), close);
    let plan = open_plan(&url, 50.0, 2, 1);
    let factory = Arc::new(Expect {
        infos: one_action(),
        expected: Bytes::copy_from_slice(expected),
    });
    let out = loadgen::run(&plan, factory, &mut NoSink, &StopHandle::new()).unwrap();
    assert_eq!(out.all.requests, 50);
    assert_eq!(out.all.errors.total(), 0, "{:?}", out.all.errors);
    assert_eq!(seen.load(Ordering::SeqCst), 50);
}

#[test]
fn chunked_bodies_with_trailers() {
    let r = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n4\r\nab{}\r\n3;ext=1\r\n123\r\n0\r\nx-trailer: 1\r\n\r\n";
    check(r, false, b"ab{}123");
}

#[test]
fn interim_responses_are_skipped() {
    let r = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\ncontent-length: 5\r\n\r\nhello";
    check(r, false, b"hello");
}

#[test]
fn close_delimited_http10_bodies() {
    check(
        b"HTTP/1.0 200 OK\r\ncontent-type: text/plain\r\n\r\nhello",
        true,
        b"hello",
    );
}

#[test]
fn no_content_keeps_the_connection() {
    check(b"HTTP/1.1 204 No Content\r\n\r\n", false, b"");
}

#[test]
fn bodies_larger_than_one_read() {
    let body = vec![b'z'; 200_000];
    let mut r = format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", body.len()).into_bytes();
    r.extend_from_slice(&body);
    check(&r, false, &body);
}

/// Answers the first request of every connection, then closes the connection on reading the
/// second without answering it: the second request on a kept-alive connection goes stale.
fn one_answer_per_connection() -> (String, Arc<AtomicU64>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let count = Arc::new(AtomicU64::new(0));
    let seen = count.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(1_000) {
            let Ok(stream) = stream else { return };
            let seen = seen.clone();
            std::thread::spawn(move || {
                let mut out = stream.try_clone().unwrap();
                let mut reader = BufReader::new(stream);
                let mut line = String::new();
                for answered in [true, false] {
                    if !read_head(&mut reader, &mut line) {
                        return;
                    }
                    seen.fetch_add(1, Ordering::SeqCst);
                    if answered {
                        let ok = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
                        if out.write_all(ok).is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    (url, count)
}

struct MethodSource {
    infos: Vec<ActionInfo>,
    method: hyper::Method,
}

struct MethodLane(hyper::Method);

impl RequestSource for MethodLane {
    fn next_request(&mut self, _id: RequestId) -> PreparedRequest {
        PreparedRequest {
            action: 0,
            method: self.0.clone(),
            path: "/x".into(),
            headers: vec![],
            body: Bytes::new(),
        }
    }

    fn on_response(&mut self, _action: usize, status: u16, _body: &[u8]) -> Verdict {
        if (200..300).contains(&status) {
            Verdict::Success
        } else {
            Verdict::BadStatus
        }
    }
}

impl SourceFactory for MethodSource {
    fn actions(&self) -> &[ActionInfo] {
        &self.infos
    }

    fn lane(&self, _index: usize, _lanes: usize, _seed: u64) -> Box<dyn RequestSource> {
        Box::new(MethodLane(self.method.clone()))
    }
}

/// 20 requests, one at a time on one connection, against [`one_answer_per_connection`].
fn run_against_stale(method: hyper::Method) -> (loadgen::Outcome, u64) {
    let (url, seen) = one_answer_per_connection();
    let plan = open_plan(&url, 20.0, 1, 1);
    let factory = Arc::new(MethodSource {
        infos: one_action(),
        method,
    });
    let out = loadgen::run(&plan, factory, &mut NoSink, &StopHandle::new()).unwrap();
    let seen = seen.load(Ordering::SeqCst);
    (out, seen)
}

#[test]
fn stale_keep_alive_retries_idempotent_requests_once() {
    let (out, seen) = run_against_stale(hyper::Method::GET);
    assert_eq!(out.all.requests, 20);
    assert_eq!(out.all.errors.total(), 0, "{:?}", out.all.errors);
    // Every request after a connection's first went stale once and was sent again.
    assert!(seen >= 38, "server saw {seen} requests");
}

#[test]
fn stale_keep_alive_never_sends_a_post_twice() {
    let (out, seen) = run_against_stale(hyper::Method::POST);
    assert_eq!(out.all.requests, 20);
    assert_eq!(seen, 20, "each POST reached the server exactly once");
    // Connections alternate: answered, then stale (an io error), then a fresh one.
    assert_eq!(out.all.errors.total(), 10, "{:?}", out.all.errors);
}

#[test]
fn a_connection_the_server_closed_while_idle_is_replaced_before_a_post() {
    // The server answers once per connection and closes it without saying so; requests come
    // 667 ms apart, so every reuse finds the connection closed while idle.
    let (url, seen) = canned(
        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok".to_vec(),
        true,
    );
    let plan = open_plan(&url, 1.5, 1, 3);
    let factory = Arc::new(MethodSource {
        infos: one_action(),
        method: hyper::Method::POST,
    });
    let out = loadgen::run(&plan, factory, &mut NoSink, &StopHandle::new()).unwrap();
    assert_eq!(out.all.requests, 5);
    assert_eq!(out.all.errors.total(), 0, "{:?}", out.all.errors);
    assert_eq!(seen.load(Ordering::SeqCst), 5);
}

/// Like [`canned`], but every response goes out in `piece`-byte writes on a TCP_NODELAY
/// socket, so the client reads the head in pieces (their sizes vary with timing: a variety
/// is the point).
fn canned_in_pieces(response: Vec<u8>, piece: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().take(1_000) {
            let Ok(stream) = stream else { return };
            let response = response.clone();
            std::thread::spawn(move || {
                stream.set_nodelay(true).unwrap();
                let mut out = stream.try_clone().unwrap();
                let mut reader = BufReader::new(stream);
                let mut line = String::new();
                while read_head(&mut reader, &mut line) {
                    for part in response.chunks(piece) {
                        if out.write_all(part).is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    url
}

/// A 200 response with `n` extra headers of `value` and the body `ok`.
fn many_headers(n: usize, value: &str) -> Vec<u8> {
    let mut r = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n".to_vec();
    for i in 0..n {
        r.extend_from_slice(format!("set-cookie: c{i}={value}\r\n").as_bytes());
    }
    r.extend_from_slice(b"\r\nok");
    r
}

#[test]
fn responses_with_hundreds_of_headers_succeed() {
    // curl and wrk accept these; cookies, tracing and CDN headers add up.
    check(&many_headers(65, "v"), false, b"ok");
    check(&many_headers(1_000, "session"), false, b"ok");
}

/// 20 requests over 4 connections against `url`: (requests sent, io errors, other errors).
/// Requests still queued when the window closes are dropped; the ones sent must add up.
fn twenty_against(url: &str) -> (u64, u64, u64) {
    let plan = open_plan(url, 20.0, 4, 1);
    let factory = Arc::new(Expect {
        infos: one_action(),
        expected: Bytes::from_static(b"ok"),
    });
    let out = loadgen::run(&plan, factory, &mut NoSink, &StopHandle::new()).unwrap();
    assert_eq!(out.all.requests + out.dropped, 20);
    let e = &out.all.errors;
    (out.all.requests, e.io, e.total() - e.io)
}

#[test]
fn the_response_head_limit_applies_however_the_head_arrives() {
    // A 100 KB Set-Cookie (under the 1 MiB head limit) always succeeds; a head over the limit
    // always fails, whether it arrives in one write or in many small ones.
    let under = many_headers(1, &"c".repeat(100_000));
    let over = many_headers(2, &"c".repeat(600_000));
    for piece in [usize::MAX, 16_384, 4_000] {
        let (requests, io, other) = twenty_against(&canned_in_pieces(under.clone(), piece));
        assert_eq!((io, other), (0, 0), "100 KB header in {piece}-byte writes");
        assert!(requests > 10, "{requests}");
        let (requests, io, other) = twenty_against(&canned_in_pieces(over.clone(), piece));
        assert_eq!(
            (io, other),
            (requests, 0),
            "1.2 MB head in {piece}-byte writes"
        );
        assert!(requests > 10, "{requests}");
    }
}

#[test]
fn a_free_ephemeral_port_is_a_connect_error_and_stays_free() {
    // Nothing listens on the port; with thousands of connects the kernel may pick the port
    // itself as the source port (TCP simultaneous open connects the socket to itself). Every
    // failure must be a connect error, never io, and the port must stay bindable.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let plan = open_plan(&format!("http://{port}"), 3_000.0, 8, 1);
    let factory = Arc::new(Expect {
        infos: one_action(),
        expected: Bytes::from_static(b"ok"),
    });
    let out = loadgen::run(&plan, factory, &mut NoSink, &StopHandle::new()).unwrap();
    let e = &out.all.errors;
    assert!(out.all.requests > 1_000, "{}", out.all.requests);
    assert_eq!(e.io, 0, "{e:?}");
    assert_eq!(e.connect + e.unfinished, out.all.requests, "{e:?}");
    let again = TcpListener::bind(port);
    assert!(again.is_ok(), "port {port} busy after the run: {again:?}");
}
