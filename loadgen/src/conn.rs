//! One keep-alive HTTP/1.1 connection (hyper client conn API over a TCP_NODELAY stream) that
//! reconnects on demand and classifies failures. Exactly one request is in flight at a time:
//! HTTP/1.1 without pipelining, as wrk and wrk2 do.

use std::net::SocketAddr;
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

/// A lane's connection; `None` until first used or after a failure.
pub(crate) struct Conn {
    sender: Option<SendRequest<Full<Bytes>>>,
    next_addr: usize,
}

/// A response that arrived: status and body (empty unless asked for).
pub(crate) struct Reply {
    pub status: u16,
    pub body: Bytes,
}

impl Conn {
    pub fn new() -> Conn {
        Conn {
            sender: None,
            next_addr: 0,
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
        let result =
            tokio::time::timeout_at(deadline, self.exchange_inner(ep, request, want_body)).await;
        match result {
            Ok(Ok(reply)) => Ok(reply),
            Ok(Err(kind)) => {
                self.sender = None;
                Err(kind)
            }
            Err(_) => {
                let kind = if self.sender.is_some() {
                    ErrorKind::Timeout
                } else {
                    ErrorKind::Connect
                };
                self.sender = None;
                Err(kind)
            }
        }
    }

    async fn exchange_inner(
        &mut self,
        ep: &Endpoint,
        request: Request<Full<Bytes>>,
        want_body: bool,
    ) -> Result<Reply, ErrorKind> {
        let sender = self.ready_sender(ep).await?;
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
    }

    /// The open connection, ready for a request; reconnects once if the server closed it.
    async fn ready_sender(
        &mut self,
        ep: &Endpoint,
    ) -> Result<&mut SendRequest<Full<Bytes>>, ErrorKind> {
        if let Some(s) = self.sender.as_mut() {
            if s.ready().await.is_err() {
                self.sender = None;
            }
        }
        if self.sender.is_none() {
            let sender = self.connect(ep).await?;
            self.sender = Some(sender);
        }
        let sender = self.sender.as_mut().expect("set above");
        sender.ready().await.map_err(|_| ErrorKind::Io)?;
        Ok(sender)
    }

    async fn connect(&mut self, ep: &Endpoint) -> Result<SendRequest<Full<Bytes>>, ErrorKind> {
        let addr = ep.addrs[self.next_addr % ep.addrs.len()];
        let stream = match TcpStream::connect(addr).await {
            Ok(s) => s,
            Err(_) => {
                self.next_addr = self.next_addr.wrapping_add(1);
                return Err(ErrorKind::Connect);
            }
        };
        stream.set_nodelay(true).map_err(|_| ErrorKind::Connect)?;
        let (sender, conn) = http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|_| ErrorKind::Connect)?;
        tokio::task::spawn_local(async move {
            let _ = conn.await;
        });
        Ok(sender)
    }
}

fn build(ep: &Endpoint, req: PreparedRequest) -> Result<Request<Full<Bytes>>, hyper::http::Error> {
    let uri: Uri = if ep.prefix.is_empty() {
        Uri::try_from(req.path)?
    } else {
        Uri::try_from(format!("{}{}", ep.prefix, req.path))?
    };
    // hyper adds content-length itself for a body of known size.
    let mut builder = Request::builder()
        .method(req.method)
        .uri(uri)
        .header(HOST, ep.host.clone());
    let headers = builder.headers_mut().expect("builder is valid so far");
    for (k, v) in req.headers {
        headers.insert(k, v);
    }
    builder.body(Full::new(req.body))
}
