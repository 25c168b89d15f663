//! One keep-alive HTTP/1.1 connection (hyper client conn API over a TCP_NODELAY stream) that
//! reconnects on demand and classifies failures. Exactly one request is in flight at a time:
//! HTTP/1.1 without pipelining, as wrk and wrk2 do.

use std::net::SocketAddr;
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{HeaderValue, HOST};
use hyper::{Request, Uri};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::record::ErrorKind;
use crate::source::PreparedRequest;

/// Where and how to connect; shared by every lane of a run.
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    pub addrs: Vec<SocketAddr>,
    pub host: HeaderValue,
    pub prefix: String,
    pub timeout: Duration,
}

type Driver = http1::Connection<TokioIo<TcpStream>, Full<Bytes>>;

/// An open connection: the request handle and hyper's connection future, which the lane
/// drives itself while a request is in flight (no extra task and wake-up per request).
struct Open {
    sender: SendRequest<Full<Bytes>>,
    driver: Pin<Box<Driver>>,
}

/// A lane's connection; `None` until first used or after a failure.
pub(crate) struct Conn {
    open: Option<Open>,
    next_addr: usize,
    /// The request timeout, re-armed for every request (no timer allocation per request).
    timeout: Option<Pin<Box<tokio::time::Sleep>>>,
}

/// A response that arrived: status and body (empty unless asked for).
pub(crate) struct Reply {
    pub status: u16,
    pub body: Bytes,
}

impl Conn {
    pub fn new() -> Conn {
        Conn {
            open: None,
            next_addr: 0,
            timeout: None,
        }
    }

    /// Sends `req` and reads the whole response, within the endpoint's timeout (connecting
    /// first if needed). On any failure the connection is dropped; the next call reconnects.
    pub async fn exchange(
        &mut self,
        ep: &Endpoint,
        req: PreparedRequest,
        want_body: bool,
    ) -> Result<Reply, ErrorKind> {
        let request = build(ep, req).map_err(|_| ErrorKind::Io)?;
        let deadline = tokio::time::Instant::now() + ep.timeout;
        let mut timer = self
            .timeout
            .take()
            .unwrap_or_else(|| Box::pin(tokio::time::sleep_until(deadline)));
        timer.as_mut().reset(deadline);
        let mut connected = false;
        let result = tokio::select! {
            biased;
            r = self.exchange_inner(ep, request, want_body, &mut connected) => Ok(r),
            _ = timer.as_mut() => Err(()),
        };
        self.timeout = Some(timer);
        match result {
            Ok(Ok(reply)) => Ok(reply),
            Ok(Err(kind)) => {
                self.open = None;
                Err(kind)
            }
            Err(_) => {
                self.open = None;
                Err(if connected {
                    ErrorKind::Timeout
                } else {
                    ErrorKind::Connect
                })
            }
        }
    }

    async fn exchange_inner(
        &mut self,
        ep: &Endpoint,
        request: Request<Full<Bytes>>,
        want_body: bool,
        connected: &mut bool,
    ) -> Result<Reply, ErrorKind> {
        self.ready(ep).await?;
        *connected = true;
        let (result, ended) = {
            let Open { sender, driver } = self.open.as_mut().expect("ready");
            let work = async {
                let response = sender
                    .send_request(request)
                    .await
                    .map_err(|_| ErrorKind::Io)?;
                let status = response.status().as_u16();
                let mut body = response.into_body();
                let bytes = if want_body {
                    body.collect().await.map_err(|_| ErrorKind::Io)?.to_bytes()
                } else {
                    while let Some(frame) = body.frame().await {
                        frame.map_err(|_| ErrorKind::Io)?;
                    }
                    Bytes::new()
                };
                Ok(Reply {
                    status,
                    body: bytes,
                })
            };
            tokio::pin!(work);
            tokio::select! {
                biased;
                r = &mut work => (r, false),
                // The connection ended (closed by the server, or an error); a response that was
                // already complete is still delivered, then the connection is dropped.
                _ = driver.as_mut() => (work.await, true),
            }
        };
        if ended {
            self.open = None;
        }
        result
    }

    /// Makes sure an open connection is ready for a request. A kept-alive connection that the
    /// server closed meanwhile is replaced silently; a fresh one that fails is an error.
    async fn ready(&mut self, ep: &Endpoint) -> Result<(), ErrorKind> {
        loop {
            let fresh = self.open.is_none();
            if fresh {
                self.open = Some(self.connect(ep).await?);
            }
            let Open { sender, driver } = self.open.as_mut().expect("set above");
            let ok = tokio::select! {
                biased;
                r = sender.ready() => r.is_ok(),
                _ = driver.as_mut() => false,
            };
            if ok {
                return Ok(());
            }
            self.open = None;
            if fresh {
                return Err(ErrorKind::Io);
            }
        }
    }

    async fn connect(&mut self, ep: &Endpoint) -> Result<Open, ErrorKind> {
        let addr = ep.addrs[self.next_addr % ep.addrs.len()];
        let stream = match TcpStream::connect(addr).await {
            Ok(s) => s,
            Err(_) => {
                self.next_addr = self.next_addr.wrapping_add(1);
                return Err(ErrorKind::Connect);
            }
        };
        stream.set_nodelay(true).map_err(|_| ErrorKind::Connect)?;
        let (sender, driver) = http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|_| ErrorKind::Connect)?;
        Ok(Open {
            sender,
            driver: Box::pin(driver),
        })
    }
}

fn build(ep: &Endpoint, req: PreparedRequest) -> Result<Request<Full<Bytes>>, hyper::http::Error> {
    let uri: Uri = if ep.prefix.is_empty() {
        Uri::try_from(req.path)?
    } else {
        Uri::try_from(format!("{}{}", ep.prefix, req.path))?
    };
    // hyper adds content-length itself for a body of known size.
    let mut request = Request::new(Full::new(req.body));
    *request.method_mut() = req.method;
    *request.uri_mut() = uri;
    let headers = request.headers_mut();
    headers.reserve(req.headers.len() + 1);
    headers.insert(HOST, ep.host.clone());
    for (k, v) in req.headers {
        headers.insert(k, v);
    }
    Ok(request)
}
