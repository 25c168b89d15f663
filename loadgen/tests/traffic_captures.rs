//! Captures over real HTTP: a small server on loopback hands out tweet ids; every id the traffic
//! later puts in a path is one the server returned. Missing fields are reported, not fatal.

mod traffic_common;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use loadgen::source::{RequestId, SourceFactory, Verdict};
use traffic_common::*;

#[derive(Default)]
struct Seen {
    returned: BTreeSet<u64>,
    liked: Vec<String>,
    next: u64,
}

/// POST /tweets returns `{"id": N}` with scattered N (or no id when the body asks for none);
/// PUT /tweets/ID/likes/U records ID and returns 204.
async fn handle(
    req: Request<Incoming>,
    seen: Arc<Mutex<Seen>>,
) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let path = req.uri().path().to_owned();
    let body = req.into_body().collect().await?.to_bytes();
    let mut seen = seen.lock().unwrap();
    let response = if path == "/tweets" {
        seen.next += 1;
        let id = seen.next * 7919 % 100_003;
        seen.returned.insert(id);
        let json = if body.starts_with(b"{\"noid\"") {
            "{}".to_owned()
        } else {
            format!("{{\"id\": {id}}}")
        };
        Response::builder()
            .status(201)
            .body(Full::new(Bytes::from(json)))
    } else {
        seen.liked
            .push(path.split('/').nth(2).unwrap_or("").to_owned());
        Response::builder()
            .status(204)
            .body(Full::new(Bytes::new()))
    };
    Ok(response.unwrap())
}

async fn serve(seen: Arc<Mutex<Seen>>) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let seen = seen.clone();
            let service = hyper::service::service_fn(move |req| handle(req, seen.clone()));
            tokio::spawn(
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service),
            );
        }
    });
    addr
}

/// Sends `n` requests of one lane one after another over one connection.
async fn drive(source: &dyn SourceFactory, addr: std::net::SocketAddr, n: usize) -> Vec<Verdict> {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let mut lane = source.lane(0, 1, 17);
    let mut verdicts = Vec::new();
    for k in 0..n as u64 {
        let r = lane.next_request(RequestId::new(17, k));
        let mut builder = Request::builder()
            .method(r.method)
            .uri(&r.path)
            .header("host", "test");
        for (k, v) in r.headers {
            builder = builder.header(k, v);
        }
        let response = sender
            .send_request(builder.body(Full::new(r.body)).unwrap())
            .await
            .unwrap();
        let status = response.status().as_u16();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        verdicts.push(lane.on_response(r.action, status, &body));
    }
    verdicts
}

fn tweets_and_likes(post_body: &str) -> estimator::Scenario {
    let mut post = request("POST", "/tweets", Some(post_body));
    post.capture = vec![("tweet".into(), "id".into())];
    post.expect = vec![201];
    scenario(
        vec![
            action("post", 20.0, post),
            action(
                "like",
                80.0,
                request("PUT", "/tweets/{{tweet}}/likes/{{user}}", None),
            ),
        ],
        vec![zipf("user", 100, 1.0)],
    )
}

#[tokio::test]
async fn captured_values_are_only_ever_ones_the_server_returned() {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let addr = serve(seen.clone()).await;
    let source = source(&tweets_and_likes(
        r#"{"user_id": {{user}}, "text": "{{text 20}}"}"#,
    ))
    .unwrap();
    let verdicts = drive(&source, addr, 2000).await;
    assert!(verdicts.iter().all(|v| *v == Verdict::Success));
    let seen = seen.lock().unwrap();
    assert!(seen.returned.len() > 200, "{}", seen.returned.len());
    assert!(seen.liked.len() > 1000, "{}", seen.liked.len());
    for id in &seen.liked {
        assert!(
            seen.returned.contains(&id.parse().unwrap()),
            "liked {id}, never returned"
        );
    }
    // Likes favour recent tweets but reach back into the pool.
    let distinct: BTreeSet<&String> = seen.liked.iter().collect();
    assert!(distinct.len() > 100, "{}", distinct.len());
}

#[tokio::test]
async fn a_missing_capture_field_is_reported_and_the_run_goes_on() {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let addr = serve(seen.clone()).await;
    let source = source(&tweets_and_likes(r#"{"noid": true}"#)).unwrap();
    let verdicts = drive(&source, addr, 200).await;
    // Every request is a post (likes wait for a tweet that never comes), each lacking `id`.
    assert_eq!(verdicts.len(), 200);
    assert!(verdicts.iter().all(|v| *v == Verdict::CaptureMissing));
    assert!(seen.lock().unwrap().liked.is_empty());
}

#[test]
fn statuses_are_judged_against_expect() {
    let source = source(&tweets_and_likes("{}")).unwrap();
    let mut lane = source.lane(0, 1, 0);
    // post expects exactly 201; like accepts any 2xx.
    assert_eq!(
        lane.on_response(0, 200, br#"{"id": 1}"#),
        Verdict::BadStatus
    );
    assert_eq!(lane.on_response(0, 201, br#"{"id": 1}"#), Verdict::Success);
    assert_eq!(
        lane.on_response(0, 201, b"not json"),
        Verdict::CaptureMissing
    );
    assert_eq!(lane.on_response(1, 204, b""), Verdict::Success);
    assert_eq!(lane.on_response(1, 299, b""), Verdict::Success);
    assert_eq!(lane.on_response(1, 404, b""), Verdict::BadStatus);
    assert!(lane.wants_body(0));
    assert!(!lane.wants_body(1));
}
