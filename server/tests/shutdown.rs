//! Graceful shutdown: a request in flight when shutdown is requested still gets its answer,
//! then the server returns and stops accepting connections.

mod common;

use std::time::Duration;

use common::{small, start};
use server::Strategy;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_drains_an_in_flight_request() {
    let mut srv = start(small(Strategy::Push)).await;
    let addr = srv.addr;
    let app = srv.app.clone();
    let mut raw = TcpStream::connect(addr).await.unwrap();
    let body = br#"{"name": "late"}"#;
    let head = format!(
        "POST /users HTTP/1.1\r\nhost: t\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    // Send the head and half the body: the handler is now waiting for the rest.
    raw.write_all(head.as_bytes()).await.unwrap();
    raw.write_all(&body[..5]).await.unwrap();
    let mut waited = 0;
    while app.metrics().in_flight_requests() != 1 {
        assert!(waited < 500, "request never became in flight");
        waited += 1;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    srv.trigger_stop();
    // The listener closes while the request is still open.
    let mut refused = false;
    for _ in 0..500 {
        if TcpStream::connect(addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        refused,
        "new connections were still accepted after shutdown"
    );
    assert_eq!(app.metrics().in_flight_requests(), 1);
    raw.write_all(&body[5..]).await.unwrap();
    let mut reply = String::new();
    tokio::time::timeout(Duration::from_secs(5), raw.read_to_string(&mut reply))
        .await
        .expect("reply and close within 5 s")
        .unwrap();
    assert!(reply.starts_with("HTTP/1.1 201"), "{reply}");
    assert!(reply.ends_with(r#"{"id":1}"#), "{reply}");
    srv.join().await.unwrap();
    assert_eq!(app.store().user_count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_closes_idle_keep_alive_connections() {
    let srv = start(small(Strategy::Pull)).await;
    let mut c = srv.client().await;
    assert_eq!(c.get("/healthz").await.status, 200);
    // The idle connection must not hold the drain up to its timeout.
    let started = std::time::Instant::now();
    srv.stop().await;
    assert!(started.elapsed() < Duration::from_secs(5));
}
