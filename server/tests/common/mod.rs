//! Test harness: start a real server on 127.0.0.1:0 in-process and talk to it with a small
//! hyper client over loopback.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use server::{App, Config, ServerError};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A running server; stop it with [`TestServer::stop`].
pub struct TestServer {
    pub addr: SocketAddr,
    pub app: Arc<App>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), ServerError>>,
}

/// Seeds and starts a server with `config`.
pub async fn start(config: Config) -> TestServer {
    let app = tokio::task::spawn_blocking(move || App::new(config))
        .await
        .unwrap()
        .expect("seeding");
    start_app(Arc::new(app)).await
}

/// A small unseeded-ish config for API tests.
pub fn small(strategy: server::Strategy) -> Config {
    Config {
        timeline: strategy,
        seed_users: 0,
        shards: 4,
        ..Config::default()
    }
}

/// `config` with a durable store in `dir` (batch commits, a cache of `cache_bytes`).
pub fn durable(config: Config, dir: &std::path::Path, cache_bytes: u64) -> Config {
    Config {
        storage: Some(server::StorageConfig {
            cache_bytes,
            ..server::StorageConfig::new(dir)
        }),
        ..config
    }
}

/// The value of one metric line `name{labels} value` (labels written exactly as shown).
pub fn metric_value(text: &str, name_and_labels: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name_and_labels)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no metric {name_and_labels} in:\n{text}"))
}

pub async fn start_app(app: Arc<App>) -> TestServer {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(server::serve(listener, app.clone(), async {
        let _ = rx.await;
    }));
    TestServer {
        addr,
        app,
        stop: Some(tx),
        task,
    }
}

impl TestServer {
    /// Requests shutdown and waits (bounded) for the server to drain and return.
    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .expect("server did not stop within 10 s")
            .unwrap()
            .unwrap();
    }

    /// Requests shutdown without waiting.
    pub fn trigger_stop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }

    /// Waits (bounded) for the server task after [`TestServer::trigger_stop`].
    pub async fn join(self) -> Result<(), ServerError> {
        tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .expect("server did not stop within 10 s")
            .unwrap()
    }

    pub async fn client(&self) -> Client {
        Client::connect(self.addr).await
    }
}

/// A keep-alive HTTP/1.1 connection.
pub struct Client {
    send: SendRequest<Full<Bytes>>,
}

/// A response: status and body (JSON when it parses, else Null) and the raw text.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub json: Value,
    pub text: String,
    pub headers: hyper::HeaderMap,
}

impl Client {
    pub async fn connect(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect(addr).await.unwrap();
        let (send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .unwrap();
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Client { send }
    }

    pub async fn send(&mut self, method: &str, path: &str, body: &str) -> Reply {
        self.send_bytes(method, path, body.as_bytes().to_vec())
            .await
    }

    pub async fn send_bytes(&mut self, method: &str, path: &str, body: Vec<u8>) -> Reply {
        let req = Request::builder()
            .method(Method::from_bytes(method.as_bytes()).unwrap())
            .uri(path)
            .header("host", "test")
            .body(Full::new(Bytes::from(body)))
            .unwrap();
        self.send
            .ready()
            .await
            .expect("connection closed by the server");
        let resp = tokio::time::timeout(Duration::from_secs(10), self.send.send_request(req))
            .await
            .expect("response within 10 s")
            .unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            status,
            json,
            text,
            headers,
        }
    }

    pub async fn get(&mut self, path: &str) -> Reply {
        self.send("GET", path, "").await
    }

    pub async fn post(&mut self, path: &str, body: &str) -> Reply {
        self.send("POST", path, body).await
    }

    pub async fn put(&mut self, path: &str) -> Reply {
        self.send("PUT", path, "").await
    }

    pub async fn delete(&mut self, path: &str) -> Reply {
        self.send("DELETE", path, "").await
    }

    /// Creates a user and returns its id.
    pub async fn user(&mut self, name: &str) -> u64 {
        let r = self
            .post("/users", &format!(r#"{{"name":"{name}"}}"#))
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        r.json["id"].as_u64().unwrap()
    }

    /// Posts a tweet and returns its id.
    pub async fn tweet(&mut self, user: u64, text: &str) -> u64 {
        let body = serde_json::json!({"user_id": user, "text": text}).to_string();
        let r = self.post("/tweets", &body).await;
        assert_eq!(r.status, 201, "{}", r.text);
        r.json["id"].as_u64().unwrap()
    }

    /// The ids of one timeline page and its `next`.
    pub async fn page(&mut self, path: &str) -> (Vec<u64>, Option<u64>) {
        let r = self.get(path).await;
        assert_eq!(r.status, 200, "{path}: {}", r.text);
        let ids = r.json["tweets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_u64().unwrap())
            .collect();
        (ids, r.json["next"].as_u64())
    }

    /// All pages of a timeline, following `next`, with a bounded page count.
    pub async fn all_pages(&mut self, base: &str, limit: usize) -> Vec<u64> {
        let mut out = Vec::new();
        let mut before: Option<u64> = None;
        for _ in 0..10_000 {
            let path = match before {
                Some(b) => format!("{base}?limit={limit}&before={b}"),
                None => format!("{base}?limit={limit}"),
            };
            let (ids, next) = self.page(&path).await;
            out.extend(ids);
            match next {
                Some(n) => before = Some(n),
                None => return out,
            }
        }
        panic!("more than 10000 pages");
    }
}
