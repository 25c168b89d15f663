//! Every bad-input case of issue 3: each answers a clear JSON error with the right 4xx status
//! (or, below HTTP, a closed connection) and the server keeps serving afterwards.

mod common;

use std::time::Duration;

use common::{small, start, Client, TestServer};
use server::{Config, Strategy};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn server_with_users() -> (TestServer, Client) {
    let config = Config {
        max_body_bytes: 1024,
        header_read_timeout: Duration::from_millis(300),
        ..small(Strategy::Push)
    };
    let srv = start(config).await;
    let mut c = srv.client().await;
    c.user("one").await;
    c.user("two").await;
    c.tweet(1, "hello").await;
    (srv, c)
}

/// Asserts the status and that the body is `{"error": "<non-empty>"}` mentioning `hint`.
async fn expect(c: &mut Client, method: &str, path: &str, body: &str, status: u16, hint: &str) {
    let r = c.send(method, path, body).await;
    assert_eq!(r.status, status, "{method} {path} {body:?}: {}", r.text);
    let msg = r.json["error"]
        .as_str()
        .unwrap_or_else(|| panic!("no JSON error: {}", r.text));
    assert!(r.json.as_object().unwrap().len() == 1, "{}", r.text);
    assert!(
        msg.contains(hint),
        "{method} {path}: {msg:?} lacks {hint:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json_is_400() {
    let (srv, mut c) = server_with_users().await;
    for body in [
        "{\"name\":",
        "not json",
        "",
        "{\"name\": \"a\"} trailing",
        "\u{0}",
    ] {
        expect(&mut c, "POST", "/users", body, 400, "malformed JSON").await;
    }
    expect(
        &mut c,
        "POST",
        "/tweets",
        "{user_id: 1}",
        400,
        "malformed JSON",
    )
    .await;
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_types_and_invalid_fields_are_422() {
    let (srv, mut c) = server_with_users().await;
    let cases = [
        ("/users", r#"{"name": 5}"#, "invalid type"),
        ("/users", r#"[]"#, "invalid"),
        ("/users", r#"{}"#, "missing field `name`"),
        ("/users", r#"{"name": "   "}"#, "name has 3 characters"),
        (
            "/tweets",
            r#"{"user_id": "1", "text": "x"}"#,
            "invalid type",
        ),
        (
            "/tweets",
            r#"{"user_id": -1, "text": "x"}"#,
            "invalid value",
        ),
        (
            "/tweets",
            r#"{"user_id": 1.5, "text": "x"}"#,
            "invalid type",
        ),
        ("/tweets", r#"{"user_id": 1}"#, "missing field `text`"),
        (
            "/tweets",
            r#"{"user_id": 1, "text": ""}"#,
            "text has 0 characters",
        ),
    ];
    for (path, body, hint) in cases {
        expect(&mut c, "POST", path, body, 422, hint).await;
    }
    expect(
        &mut c,
        "PUT",
        "/users/1/follows/1",
        "",
        422,
        "cannot follow themselves",
    )
    .await;
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tweet_text_limit_counts_characters_not_bytes() {
    let (srv, mut c) = server_with_users().await;
    let fits = "é".repeat(280); // 560 bytes, 280 characters
    let body = serde_json::json!({"user_id": 1, "text": fits}).to_string();
    assert_eq!(c.post("/tweets", &body).await.status, 201);
    let over = serde_json::json!({"user_id": 1, "text": "a".repeat(281)}).to_string();
    expect(
        &mut c,
        "POST",
        "/tweets",
        &over,
        422,
        "text has 281 characters",
    )
    .await;
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_ids_are_404() {
    let (srv, mut c) = server_with_users().await;
    let cases = [
        ("GET", "/tweets/999", "", "unknown tweet 999"),
        ("GET", "/tweets/4294967297", "", "unknown tweet"),
        ("PUT", "/tweets/999/likes/1", "", "unknown tweet"),
        ("PUT", "/tweets/1/likes/999", "", "unknown user 999"),
        ("PUT", "/users/1/follows/999", "", "unknown user 999"),
        ("PUT", "/users/999/follows/1", "", "unknown user 999"),
        ("DELETE", "/users/999/follows/1", "", "unknown user 999"),
        ("GET", "/users/999/timeline", "", "unknown user"),
        (
            "GET",
            "/users/18446744073709551615/tweets",
            "",
            "unknown user",
        ),
        (
            "POST",
            "/tweets",
            r#"{"user_id": 999, "text": "x"}"#,
            "unknown user 999",
        ),
    ];
    for (method, path, body, hint) in cases {
        expect(&mut c, method, path, body, 404, hint).await;
    }
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_ids_and_query_values_are_400() {
    let (srv, mut c) = server_with_users().await;
    for path in [
        "/users/abc/timeline",
        "/users/0/timeline",
        "/users/-1/tweets",
        "/users/+1/tweets",
        "/users/1.0/tweets",
        "/tweets/18446744073709551616",
        "/tweets/0x10",
    ] {
        expect(
            &mut c,
            "GET",
            path,
            "",
            400,
            "in the path; use a positive integer",
        )
        .await;
    }
    expect(
        &mut c,
        "PUT",
        "/users/1/follows/x",
        "",
        400,
        "bad target user id",
    )
    .await;
    expect(&mut c, "PUT", "/tweets/1/likes/%31", "", 400, "bad user id").await;
    for q in [
        "limit=0",
        "limit=abc",
        "limit=201",
        "limit=-1",
        "limit=",
        "limit",
    ] {
        expect(
            &mut c,
            "GET",
            &format!("/users/1/timeline?{q}"),
            "",
            400,
            "bad limit",
        )
        .await;
    }
    for q in [
        "before=x",
        "before=",
        "before=-5",
        "before=99999999999999999999999",
    ] {
        expect(
            &mut c,
            "GET",
            &format!("/users/1/tweets?{q}"),
            "",
            400,
            "bad before",
        )
        .await;
    }
    assert_eq!(
        c.get("/users/1/tweets?limit=200&unknown=1").await.status,
        200
    );
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_route_is_404_and_wrong_method_is_405() {
    let (srv, mut c) = server_with_users().await;
    for path in [
        "/",
        "/nope",
        "/users/",
        "/users/1",
        "/users/1/bar",
        "/tweets/1/likes",
        "//users",
    ] {
        expect(&mut c, "GET", path, "", 404, "no route").await;
    }
    let cases = [
        ("DELETE", "/tweets", "POST"),
        ("GET", "/users", "POST"),
        ("POST", "/healthz", "GET"),
        ("PATCH", "/users/1/follows/2", "PUT, DELETE"),
        ("DELETE", "/tweets/1/likes/1", "PUT"),
        ("PUT", "/metrics", "GET"),
    ];
    for (method, path, allow) in cases {
        let r = c.send(method, path, "").await;
        assert_eq!(r.status, 405, "{method} {path}");
        assert_eq!(r.headers["allow"], allow);
        assert!(r.json["error"].as_str().unwrap().contains(allow));
    }
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_body_is_413() {
    let (srv, mut c) = server_with_users().await;
    let big = format!(r#"{{"name": "{}"}}"#, "a".repeat(2000));
    expect(
        &mut c,
        "POST",
        "/users",
        &big,
        413,
        "over the limit of 1024 bytes",
    )
    .await;
    // Chunked, with no Content-Length to refuse up front: the limit applies while reading.
    let mut raw = TcpStream::connect(srv.addr).await.unwrap();
    let chunk = "b".repeat(1500);
    let req = format!(
        "POST /users HTTP/1.1\r\nhost: t\r\ntransfer-encoding: chunked\r\n\r\n{:x}\r\n{chunk}\r\n0\r\n\r\n",
        chunk.len()
    );
    raw.write_all(req.as_bytes()).await.unwrap();
    let reply = read_some(&mut raw).await;
    assert!(reply.starts_with("HTTP/1.1 413"), "{reply}");
    assert!(reply.contains("\"error\""), "{reply}");
    still_up(&srv).await;
    srv.stop().await;
}

/// Reads what the server sends until it closes or 5 s pass.
async fn read_until_close(stream: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut buf)).await;
    assert!(read.is_ok(), "server kept the connection open");
    String::from_utf8_lossy(&buf).into_owned()
}

/// Reads one burst (a response) within 5 s.
async fn read_some(stream: &mut TcpStream) -> String {
    let mut buf = vec![0u8; 64 * 1024];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
        .await
        .expect("a response within 5 s")
        .unwrap();
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

async fn still_up(srv: &TestServer) {
    let mut fresh = srv.client().await;
    assert_eq!(fresh.get("/healthz").await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_bytes_close_the_connection_and_the_server_stays_up() {
    let (srv, _c) = server_with_users().await;
    let garbage: [&[u8]; 4] = [
        b"\x00\xff\xfe garbage \x01\x02\r\n\r\n",
        b"GET /healthz HTTP/9.9\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nbad header line\r\n\r\n",
        b"POST /users HTTP/1.1\r\ncontent-length: nope\r\n\r\n",
    ];
    for bytes in garbage {
        let mut raw = TcpStream::connect(srv.addr).await.unwrap();
        raw.write_all(bytes).await.unwrap();
        let reply = read_until_close(&mut raw).await;
        assert!(
            reply.is_empty() || reply.starts_with("HTTP/1.1 4"),
            "{reply}"
        );
        still_up(&srv).await;
    }
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_headers_close_the_connection_and_the_server_stays_up() {
    let (srv, _c) = server_with_users().await;
    let mut raw = TcpStream::connect(srv.addr).await.unwrap();
    let head = format!(
        "GET /healthz HTTP/1.1\r\nhost: t\r\nx-big: {}\r\n\r\n",
        "a".repeat(100_000)
    );
    // The server may close before reading it all; a write error is fine.
    let _ = raw.write_all(head.as_bytes()).await;
    let reply = read_until_close(&mut raw).await;
    assert!(
        reply.is_empty() || reply.starts_with("HTTP/1.1 431"),
        "{reply}"
    );
    still_up(&srv).await;
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_headers_are_cut_off_by_the_header_read_timeout() {
    let (srv, _c) = server_with_users().await;
    let mut raw = TcpStream::connect(srv.addr).await.unwrap();
    raw.write_all(b"GET /healthz HTTP/1.1\r\nhost: t\r\n")
        .await
        .unwrap();
    // Never finish the head: the server's 300 ms header timeout closes the connection.
    let reply = read_until_close(&mut raw).await;
    assert!(
        reply.is_empty() || reply.starts_with("HTTP/1.1 408"),
        "{reply}"
    );
    still_up(&srv).await;
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_limit_wait_for_a_free_slot() {
    let config = Config {
        max_connections: 2,
        ..small(Strategy::Push)
    };
    let srv = start(config).await;
    let mut first = srv.client().await;
    let mut second = srv.client().await;
    assert_eq!(first.get("/healthz").await.status, 200);
    assert_eq!(second.get("/healthz").await.status, 200);
    assert_eq!(srv.app.metrics().open_connections(), 2);
    let mut third = TcpStream::connect(srv.addr).await.unwrap();
    third
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: t\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 512];
    let early = tokio::time::timeout(Duration::from_millis(300), third.read(&mut buf)).await;
    assert!(
        early.is_err(),
        "a third connection was served over the limit of 2"
    );
    drop(first);
    let reply = read_some(&mut third).await;
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    srv.stop().await;
}
