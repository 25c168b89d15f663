//! HTTP/2 connections with the `h2` crate (framing, HPACK, flow control): never hand-written.
//!
//! A connection is shared by `--streams` lanes ([`H2Conn`], one per connection, held by each
//! of its lanes); each lane ([`H2Lane`]) has at most one request in flight, so a connection
//! never carries more than `--streams` streams at once. Whichever lane needs the connection
//! first opens it (TCP, TLS with ALPN `h2` or prior knowledge, the HTTP/2 preface); lanes that
//! need it meanwhile wait for that one opening. A failed connection fails the requests on it;
//! the next request reopens it. Flow-control windows are 2^30 - 1, as h2load and oha set them,
//! and received data is released as it is read.

use std::cell::{Cell, RefCell};

use std::rc::Rc;

use bytes::{Bytes, BytesMut};
use h2::client::SendRequest;
use http::uri::{Authority, PathAndQuery, Scheme};
use hyper::header::{self, HeaderName};
use hyper::Method;

use crate::conn::{ConnectLog, Deadline, Endpoint, Reply};
use crate::record::ErrorKind;
use crate::source::PreparedRequest;
use crate::tls::TlsFailure;

/// Flow-control window (stream and connection): 2^30 - 1, h2load's `-w 30 -W 30`.
const WINDOW: u32 = (1 << 30) - 1;

/// The live connection of an [`H2Conn`].
struct Live {
    /// Bumped on every new connection, so a lane knows its handle is stale.
    id: u64,
    send: SendRequest<Bytes>,
    /// Set by the connection's driver task when the connection ends.
    closed: Rc<Cell<bool>>,
}

/// One HTTP/2 connection, shared by the lanes (streams) on it.
pub(crate) struct H2Conn {
    live: RefCell<Option<Live>>,
    /// Held while (re)connecting, so lanes that find no connection open only one.
    connecting: tokio::sync::Mutex<()>,
    next_id: Cell<u64>,
    next_addr: Cell<usize>,
    log: ConnectLog,
}

impl H2Conn {
    pub fn new(log: ConnectLog) -> H2Conn {
        H2Conn {
            live: RefCell::new(None),
            connecting: tokio::sync::Mutex::new(()),
            next_id: Cell::new(1),
            next_addr: Cell::new(0),
            log,
        }
    }

    fn current(&self) -> Option<(u64, SendRequest<Bytes>)> {
        let live = self.live.borrow();
        let l = live.as_ref().filter(|l| !l.closed.get())?;
        Some((l.id, l.send.clone()))
    }

    /// Forgets connection `id` (failed, or used up without keep-alive).
    fn drop_connection(&self, id: u64) {
        let mut live = self.live.borrow_mut();
        if live.as_ref().is_some_and(|l| l.id == id) {
            *live = None;
        }
    }

    /// The open connection, or a new one (opened by this call or by a lane that was already
    /// opening one); `true` when it is new.
    async fn get(&self, ep: &Endpoint) -> Result<(u64, SendRequest<Bytes>, bool), ErrorKind> {
        if let Some((id, send)) = self.current() {
            return Ok((id, send, false));
        }
        let _opening = self.connecting.lock().await;
        if let Some((id, send)) = self.current() {
            return Ok((id, send, true));
        }
        let addr = ep.addr(self.next_addr.get());
        let opened = match crate::transport::open(addr, ep.tls.as_ref()).await {
            Ok(o) => o,
            Err(kind) => {
                self.next_addr.set(self.next_addr.get().wrapping_add(1));
                return Err(kind);
            }
        };
        if let Some(info) = &opened.tls {
            if info.alpn.as_deref() != Some("h2") {
                return Err(ErrorKind::Tls(TlsFailure::NoH2));
            }
        }
        self.log.opened(&opened);
        let (send, connection) = h2::client::Builder::new()
            .initial_window_size(WINDOW)
            .initial_connection_window_size(WINDOW)
            .enable_push(false)
            .handshake::<_, Bytes>(opened.stream)
            .await
            .map_err(|_| ErrorKind::Connect)?;
        let closed = Rc::new(Cell::new(false));
        let ended = closed.clone();
        tokio::task::spawn_local(async move {
            let _ = connection.await;
            ended.set(true);
        });
        let id = self.next_id.get();
        self.next_id.set(id + 1);
        *self.live.borrow_mut() = Some(Live {
            id,
            send: send.clone(),
            closed,
        });
        Ok((id, send, true))
    }
}

/// A lane's view of its shared connection: one request in flight at a time.
pub(crate) struct H2Lane {
    conn: Rc<H2Conn>,
    /// This lane's handle on the connection it last used.
    mine: Option<(u64, SendRequest<Bytes>)>,
    /// The target's scheme and authority, parsed on first use.
    base: Option<(Scheme, Authority)>,
    deadline: Deadline,
}

/// The stream failed before any response arrived, in a way that allows a retry on a new
/// connection (the connection was gone, or the server refused the stream unprocessed).
struct Stale;

impl H2Lane {
    pub fn new(conn: Rc<H2Conn>) -> H2Lane {
        H2Lane {
            conn,
            mine: None,
            base: None,
            deadline: Deadline::default(),
        }
    }

    /// Sends `req` on a stream of the shared connection and reads the whole response, within
    /// the endpoint's timeout (opening the connection first if needed).
    pub async fn exchange(
        &mut self,
        ep: &Endpoint,
        req: PreparedRequest,
        want_body: bool,
    ) -> Result<Reply, ErrorKind> {
        let mut deadline = std::mem::take(&mut self.deadline);
        let connected = Cell::new(false);
        let exchange = self.exchange_inner(ep, &req, want_body, &connected);
        let result = deadline.run(ep.timeout, &connected, exchange).await;
        self.deadline = deadline;
        if !ep.keepalive || matches!(result, Err(ErrorKind::Io | ErrorKind::Tls(_))) {
            if let Some((id, _)) = self.mine.take() {
                self.conn.drop_connection(id);
            }
        }
        result
    }

    async fn exchange_inner(
        &mut self,
        ep: &Endpoint,
        req: &PreparedRequest,
        want_body: bool,
        connected: &Cell<bool>,
    ) -> Result<Reply, ErrorKind> {
        let retryable = req.method.is_idempotent();
        if self.base.is_none() {
            let scheme = if ep.tls.is_some() {
                Scheme::HTTPS
            } else {
                Scheme::HTTP
            };
            let authority = Authority::try_from(ep.host.as_bytes()).map_err(|_| ErrorKind::Io)?;
            self.base = Some((scheme, authority));
        }
        let base = self.base.clone().expect("just set");
        for attempt in 0..2 {
            let request = build_request(ep, &base, req)?;
            connected.set(false);
            let fresh = self.handle(ep).await?;
            connected.set(true);
            let (_, send) = self.mine.as_mut().expect("just set");
            match round_trip(send, ep, request, &req.body, want_body).await {
                Err(Stale) => {
                    if let Some((id, _)) = self.mine.take() {
                        self.conn.drop_connection(id);
                    }
                    if !(retryable && !fresh && attempt == 0) {
                        return Err(ErrorKind::Io);
                    }
                }
                Ok(r) => return r,
            }
        }
        Err(ErrorKind::Io)
    }

    /// Makes `self.mine` a handle on the connection's current (or a new) connection; `true`
    /// when that connection is new.
    async fn handle(&mut self, ep: &Endpoint) -> Result<bool, ErrorKind> {
        let current = self.conn.live.borrow().as_ref().map(|l| l.id);
        let usable = matches!((&self.mine, current), (Some((mine, _)), Some(cur)) if *mine == cur);
        if usable && self.conn.current().is_some() {
            return Ok(false);
        }
        let (id, send, fresh) = self.conn.get(ep).await?;
        self.mine = Some((id, send));
        Ok(fresh)
    }
}

/// One request on `send`, response read whole. `Ok(Err(..))`: the request failed after the
/// server may have seen it.
async fn round_trip(
    send: &mut SendRequest<Bytes>,
    ep: &Endpoint,
    request: http::Request<()>,
    body: &Bytes,
    want_body: bool,
) -> Result<Result<Reply, ErrorKind>, Stale> {
    if std::future::poll_fn(|cx| send.poll_ready(cx))
        .await
        .is_err()
    {
        return Err(Stale);
    }
    let (response, mut stream) = send
        .send_request(request, body.is_empty())
        .map_err(|_| Stale)?;
    if !body.is_empty() && stream.send_data(body.clone(), true).is_err() {
        return Err(Stale);
    }
    let response = match response.await {
        Ok(r) => r,
        Err(e) if e.reason() == Some(h2::Reason::REFUSED_STREAM) => return Err(Stale),
        Err(e) => return Ok(Err(failure(ep, &e))),
    };
    let status = response.status().as_u16();
    let mut recv = response.into_body();
    let mut kept = BytesMut::new();
    while let Some(chunk) = recv.data().await {
        let chunk = match chunk {
            Ok(c) => c,
            Err(e) => return Ok(Err(failure(ep, &e))),
        };
        let _ = recv.flow_control().release_capacity(chunk.len());
        if want_body {
            kept.extend_from_slice(&chunk);
        }
    }
    Ok(Ok(Reply {
        status,
        body: kept.freeze(),
    }))
}

/// An h2 error as an error kind: a TLS alert is `tls`, anything else `io`.
fn failure(ep: &Endpoint, e: &h2::Error) -> ErrorKind {
    failure_of(ep.tls.as_ref(), Some(e))
}

/// The kind of an HTTP/2 connection's failure (`None`: it closed without an error): a TLS
/// alert is `tls`; so is a broken TLS connection whose server asked for a client certificate
/// the run does not have (the server's verdict may reach h2 only as a closed connection);
/// anything else `io`.
pub(crate) fn failure_of(
    tls: Option<&crate::transport::TlsTarget>,
    e: Option<&h2::Error>,
) -> ErrorKind {
    let io = e.and_then(h2::Error::get_io);
    if let Some(kind) = io.and_then(|io| crate::transport::tls_failure(tls, io)) {
        return kind;
    }
    match tls {
        Some(t) if t.client.asked_without_identity() => ErrorKind::Tls(TlsFailure::NoClientCert),
        _ => ErrorKind::Io,
    }
}

/// Headers HTTP/2 forbids (connection-specific); the scenario's own are dropped from h2
/// requests.
fn connection_specific(name: &HeaderName) -> bool {
    name == header::CONNECTION
        || name == header::TRANSFER_ENCODING
        || name == header::UPGRADE
        || name.as_str() == "keep-alive"
        || name.as_str() == "proxy-connection"
}

/// The HTTP/2 request of `req`: `:authority` from the target (or the request's own `host`),
/// the headers, and a `content-length` as the HTTP/1.1 codec adds it. `base` is the
/// target's scheme and authority, parsed once per lane.
fn build_request(
    ep: &Endpoint,
    base: &(Scheme, Authority),
    req: &PreparedRequest,
) -> Result<http::Request<()>, ErrorKind> {
    let path = req.path.as_bytes();
    if path.first() != Some(&b'/') || path.iter().any(|&b| b <= b' ' || b == 0x7f) {
        return Err(ErrorKind::Io);
    }
    let authority = match req.headers.iter().find(|(k, _)| k == header::HOST) {
        Some((_, v)) => Authority::try_from(v.as_bytes()).map_err(|_| ErrorKind::Io)?,
        None => base.1.clone(),
    };
    let path_and_query = if ep.prefix.is_empty() {
        PathAndQuery::try_from(req.path.as_str())
    } else {
        PathAndQuery::try_from(format!("{}{}", ep.prefix, req.path))
    }
    .map_err(|_| ErrorKind::Io)?;
    let mut parts = http::uri::Parts::default();
    parts.scheme = Some(base.0.clone());
    parts.authority = Some(authority);
    parts.path_and_query = Some(path_and_query);
    let uri = http::Uri::from_parts(parts).map_err(|_| ErrorKind::Io)?;
    let mut builder = http::Request::builder().method(req.method.clone()).uri(uri);
    let mut has_length = false;
    for (k, v) in &req.headers {
        if k == header::HOST || connection_specific(k) {
            continue;
        }
        has_length |= k == header::CONTENT_LENGTH;
        builder = builder.header(k, v);
    }
    let carries_body = matches!(req.method, Method::POST | Method::PUT | Method::PATCH);
    if (!req.body.is_empty() || carries_body) && !has_length {
        builder = builder.header(header::CONTENT_LENGTH, req.body.len());
    }
    builder.body(()).map_err(|_| ErrorKind::Io)
}
