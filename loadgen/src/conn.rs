//! One keep-alive HTTP/1.1 connection over a TCP_NODELAY stream (plain or TLS, see
//! [`crate::transport`]), with a minimal client codec: the request is written from one reused
//! buffer, the response head is parsed with `httparse` from one reused read buffer, and the
//! body is framed by content-length, chunked encoding or connection close. Exactly one request
//! is in flight at a time (no pipelining, as wrk and wrk2 do). Failures are classified and drop
//! the connection; the next request reconnects. Every connection opened is logged
//! ([`ConnectLog`]): TCP connect plus TLS handshake time, resumption, what TLS negotiated.
//!
//! Why not hyper's client: profiling (`bench/load.sh`, callgrind) showed hyper's dispatcher
//! and body channels at ~60% of the generator's user-space instructions per request; the
//! generator's job is to spend as little CPU per request as wrk does.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::rc::Rc;
use std::time::{Duration, Instant};

use bytes::{Buf, Bytes, BytesMut};
use hyper::header::HeaderValue;
use hyper::Method;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::record::{ErrorKind, Recorder};
use crate::source::PreparedRequest;
use crate::transport::{Opened, Stream, TlsTarget};

/// Where and how to connect; shared by every lane of a run.
#[derive(Clone)]
pub(crate) struct Endpoint {
    pub addrs: Vec<SocketAddr>,
    pub host: HeaderValue,
    pub prefix: String,
    pub timeout: Duration,
    /// `https://` targets: the TLS client and the name to verify.
    pub tls: Option<TlsTarget>,
    /// false: `connection: close` on every request, and a new connection for the next.
    pub keepalive: bool,
}

impl Endpoint {
    /// The next address to connect to (round robin over the resolved ones after failures).
    pub fn addr(&self, n: usize) -> SocketAddr {
        self.addrs[n % self.addrs.len()]
    }
}

/// Where a worker's connections record their opening: one `connect_us` sample per connection
/// opened from the measured window on, and what TLS negotiated (warm-up included).
#[derive(Clone)]
pub(crate) struct ConnectLog {
    pub recorder: Rc<RefCell<Recorder>>,
    pub measure_from: Instant,
}

impl ConnectLog {
    pub fn opened(&self, o: &Opened) {
        let measured = o.started >= self.measure_from;
        self.recorder
            .borrow_mut()
            .opened(measured, o.took, o.resumed, o.tls.as_ref());
    }
}

/// Header slots parsed into without allocating; a head with more headers is parsed again
/// with one slot per line it holds, so any header count fits within [`MAX_HEAD`].
const INLINE_HEADERS: usize = 64;
/// Response heads (status line and headers, each interim 1xx head on its own) longer than
/// this are rejected as io errors, however the head is split across reads. Far above what
/// servers send (nginx and most proxies refuse heads over 4-64 KiB), so it only stops a
/// runaway peer from growing the read buffer without end.
pub(crate) const MAX_HEAD: usize = 1024 * 1024;

/// A lane's connection; no stream until first used or after a failure.
pub(crate) struct Conn {
    stream: Option<Stream>,
    log: ConnectLog,
    rbuf: BytesMut,
    wbuf: Vec<u8>,
    next_addr: usize,
    deadline: Deadline,
    /// When the last exchange on `stream` ended.
    last_used: Option<std::time::Instant>,
}

/// A lane's request timeout, re-armed for every request (no timer allocation per request).
#[derive(Default)]
pub(crate) struct Deadline(Option<Pin<Box<tokio::time::Sleep>>>);

impl Deadline {
    /// Runs `exchange` within `timeout`. Running out of time is a timeout once `exchange` has
    /// set `connected` (it has its connection), a connect error before.
    pub(crate) async fn run(
        &mut self,
        timeout: Duration,
        connected: &Cell<bool>,
        exchange: impl Future<Output = Result<Reply, ErrorKind>>,
    ) -> Result<Reply, ErrorKind> {
        let deadline = tokio::time::Instant::now() + timeout;
        let timer = self
            .0
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        timer.as_mut().reset(deadline);
        tokio::select! {
            biased;
            r = exchange => r,
            _ = timer.as_mut() => Err(if connected.get() {
                ErrorKind::Timeout
            } else {
                ErrorKind::Connect
            }),
        }
    }
}

/// A lane's connection: its own HTTP/1.1 connection, or its stream slot on a shared HTTP/2
/// connection.
pub(crate) enum LaneConn {
    H1(Conn),
    H2(crate::http2::H2Lane),
}

impl LaneConn {
    /// Sends `req` and reads the whole response (see [`Conn::exchange`]).
    pub async fn exchange(
        &mut self,
        ep: &Endpoint,
        req: PreparedRequest,
        want_body: bool,
    ) -> Result<Reply, ErrorKind> {
        match self {
            LaneConn::H1(c) => c.exchange(ep, req, want_body).await,
            LaneConn::H2(c) => c.exchange(ep, req, want_body).await,
        }
    }
}

/// A kept-alive connection idle for longer than this is checked for a close by the server
/// before it is reused (servers close idle connections; reusing one would fail the request).
const IDLE_CHECK: Duration = Duration::from_millis(500);

/// A response that arrived: status and body (empty unless asked for).
pub(crate) struct Reply {
    pub status: u16,
    pub body: Bytes,
}

/// What the response head says about the body.
struct Head {
    status: u16,
    framing: Framing,
    close: bool,
}

enum Framing {
    Length(u64),
    Chunked,
    UntilClose,
}

impl Conn {
    pub fn new(log: ConnectLog) -> Conn {
        Conn {
            stream: None,
            log,
            rbuf: BytesMut::with_capacity(8 * 1024),
            wbuf: Vec::with_capacity(512),
            next_addr: 0,
            deadline: Deadline::default(),
            last_used: None,
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
        let mut deadline = std::mem::take(&mut self.deadline);
        let connected = Cell::new(false);
        let exchange = self.exchange_inner(ep, &req, want_body, &connected);
        let result = deadline.run(ep.timeout, &connected, exchange).await;
        self.deadline = deadline;
        if result.is_err() {
            self.stream = None;
        }
        self.last_used = Some(std::time::Instant::now());
        result
    }

    /// Drops a kept-alive connection that sat idle and was closed (or sent unsolicited bytes)
    /// meanwhile, so that the next request opens a fresh one instead of failing on it.
    fn drop_if_closed_while_idle(&mut self) {
        let idle = self.last_used.is_some_and(|t| t.elapsed() > IDLE_CHECK);
        let Some(stream) = self.stream.as_ref().filter(|_| idle) else {
            return;
        };
        if stream.closed_while_idle() {
            self.stream = None;
        }
    }

    async fn exchange_inner(
        &mut self,
        ep: &Endpoint,
        req: &PreparedRequest,
        want_body: bool,
        connected: &Cell<bool>,
    ) -> Result<Reply, ErrorKind> {
        encode(&mut self.wbuf, ep, req)?;
        self.drop_if_closed_while_idle();
        let head_only = req.method == Method::HEAD;
        // A kept-alive connection the server closed meanwhile fails before any response
        // byte arrives; an idempotent request is then retried once on a fresh connection
        // (as hyper's pooled client does). A POST is not: the server may have acted on it,
        // so it is counted as an io error instead of being sent twice.
        let retryable = req.method.is_idempotent();
        for attempt in 0..2 {
            let fresh = self.stream.is_none();
            if fresh {
                // A stalled (re)connect, also on the retry, is a connect error.
                connected.set(false);
                self.connect(ep).await?;
            }
            connected.set(true);
            match self.round_trip(ep, head_only, want_body).await {
                Err(Stale) if retryable && !fresh && attempt == 0 => {
                    self.stream = None;
                    continue;
                }
                Err(Stale) => return Err(ErrorKind::Io),
                Ok(r) => return r,
            }
        }
        Err(ErrorKind::Io)
    }

    /// Writes the encoded request and reads the response. `Err(Stale)`: the connection
    /// failed before any response byte arrived.
    async fn round_trip(
        &mut self,
        ep: &Endpoint,
        head_only: bool,
        want_body: bool,
    ) -> Result<Result<Reply, ErrorKind>, Stale> {
        let stream = self.stream.as_mut().expect("connected");
        // A TLS stream holds written records until flushed; a plain one has nothing to flush.
        let written = match stream.write_all(&self.wbuf).await {
            Ok(()) if matches!(stream, Stream::Tls(_)) => stream.flush().await,
            other => other,
        };
        if let Err(e) = written {
            return match crate::transport::tls_failure(ep.tls.as_ref(), &e) {
                Some(kind) => Ok(Err(kind)),
                None => Err(Stale),
            };
        }
        self.rbuf.clear();
        let mut scanned = 0;
        let head = loop {
            match parse_head(&mut self.rbuf, head_only, &mut scanned) {
                Ok(Some(head)) => break head,
                Ok(None) => {}
                Err(kind) => return Ok(Err(kind)),
            }
            let stream = self.stream.as_mut().expect("connected");
            match stream.read_buf(&mut self.rbuf).await {
                // The server's alert about the handshake (TLS 1.3 sends it after the client
                // thinks the handshake is done): a tls error, never retried.
                Err(e) if crate::transport::tls_failure(ep.tls.as_ref(), &e).is_some() => {
                    let kind = crate::transport::tls_failure(ep.tls.as_ref(), &e);
                    return Ok(Err(kind.expect("checked")));
                }
                Ok(0) | Err(_) if self.rbuf.is_empty() => return Err(Stale),
                Ok(0) | Err(_) => return Ok(Err(ErrorKind::Io)),
                Ok(_) => {}
            }
        };
        let body = self.read_body(&head.framing, want_body).await;
        if head.close || !ep.keepalive || matches!(head.framing, Framing::UntilClose) {
            self.stream = None;
        }
        Ok(body.map(|body| Reply {
            status: head.status,
            body,
        }))
    }

    async fn fill(&mut self) -> Result<usize, ErrorKind> {
        let stream = self.stream.as_mut().ok_or(ErrorKind::Io)?;
        stream
            .read_buf(&mut self.rbuf)
            .await
            .map_err(|_| ErrorKind::Io)
    }

    /// Reads the body off the connection; keeps it only when `want_body`.
    async fn read_body(&mut self, framing: &Framing, want_body: bool) -> Result<Bytes, ErrorKind> {
        let mut body = BytesMut::new();
        match *framing {
            Framing::Length(n) => self.take(n, want_body, &mut body).await?,
            Framing::Chunked => loop {
                let size = loop {
                    match httparse::parse_chunk_size(&self.rbuf) {
                        Ok(httparse::Status::Complete((used, size))) => {
                            self.rbuf.advance(used);
                            break size;
                        }
                        Ok(httparse::Status::Partial) => {
                            if self.fill().await? == 0 {
                                return Err(ErrorKind::Io);
                            }
                        }
                        Err(_) => return Err(ErrorKind::Io),
                    }
                };
                if size == 0 {
                    self.skip_trailers().await?;
                    break;
                }
                self.take(size, want_body, &mut body).await?;
                self.take(2, false, &mut body).await?; // CRLF after the chunk
            },
            Framing::UntilClose => loop {
                let n = self.rbuf.len();
                self.take(n as u64, want_body, &mut body).await?;
                if self.fill().await? == 0 {
                    break;
                }
            },
        }
        Ok(body.freeze())
    }

    /// Consumes `n` body bytes, appending them to `body` when `keep`.
    async fn take(&mut self, mut n: u64, keep: bool, body: &mut BytesMut) -> Result<(), ErrorKind> {
        loop {
            let now = (self.rbuf.len() as u64).min(n) as usize;
            if keep {
                body.extend_from_slice(&self.rbuf[..now]);
            }
            self.rbuf.advance(now);
            n -= now as u64;
            if n == 0 {
                return Ok(());
            }
            if self.fill().await? == 0 {
                return Err(ErrorKind::Io);
            }
        }
    }

    /// Trailer lines after the last chunk, up to and including the empty line.
    async fn skip_trailers(&mut self) -> Result<(), ErrorKind> {
        loop {
            if let Some(i) = self.rbuf.windows(2).position(|w| w == b"\r\n") {
                self.rbuf.advance(i + 2);
                if i == 0 {
                    return Ok(());
                }
                continue;
            }
            if self.rbuf.len() > MAX_HEAD || self.fill().await? == 0 {
                return Err(ErrorKind::Io);
            }
        }
    }

    async fn connect(&mut self, ep: &Endpoint) -> Result<(), ErrorKind> {
        match crate::transport::open(ep.addr(self.next_addr), ep.tls.as_ref()).await {
            Ok(opened) => {
                self.log.opened(&opened);
                self.stream = Some(opened.stream);
                Ok(())
            }
            Err(kind) => {
                self.next_addr = self.next_addr.wrapping_add(1);
                Err(kind)
            }
        }
    }
}

/// A freshly connected stream, unless it is connected to itself: a target port in the
/// ephemeral range with nothing listening can be "reached" by TCP simultaneous open when the
/// kernel picks that very port as the source port. Such a stream is a failed connect; it is
/// reset rather than closed, so no TIME-WAIT keeps the port from a server that starts on it.
pub(crate) fn usable(stream: TcpStream) -> Result<TcpStream, ErrorKind> {
    let (local, peer) = (stream.local_addr(), stream.peer_addr());
    if matches!((local, peer), (Ok(l), Ok(p)) if l == p) {
        let _ = stream.set_zero_linger();
        return Err(ErrorKind::Connect);
    }
    stream.set_nodelay(true).map_err(|_| ErrorKind::Connect)?;
    Ok(stream)
}

/// The connection failed before any byte of the response arrived.
struct Stale;

/// Writes the request into `buf`: request line, `host`, the request's headers, a
/// content-length when there is a body (or the method usually carries one), the body.
fn encode(buf: &mut Vec<u8>, ep: &Endpoint, req: &PreparedRequest) -> Result<(), ErrorKind> {
    let path = req.path.as_bytes();
    if path.first() != Some(&b'/') || path.iter().any(|&b| b <= b' ' || b == 0x7f) {
        return Err(ErrorKind::Io);
    }
    buf.clear();
    buf.extend_from_slice(req.method.as_str().as_bytes());
    buf.push(b' ');
    buf.extend_from_slice(ep.prefix.as_bytes());
    buf.extend_from_slice(path);
    buf.extend_from_slice(b" HTTP/1.1\r\n");
    let has = |name: &hyper::header::HeaderName| req.headers.iter().any(|(k, _)| k == name);
    if !has(&hyper::header::HOST) {
        buf.extend_from_slice(b"host: ");
        buf.extend_from_slice(ep.host.as_bytes());
        buf.extend_from_slice(b"\r\n");
    }
    for (k, v) in &req.headers {
        buf.extend_from_slice(k.as_str().as_bytes());
        buf.extend_from_slice(b": ");
        buf.extend_from_slice(v.as_bytes());
        buf.extend_from_slice(b"\r\n");
    }
    if !ep.keepalive && !has(&hyper::header::CONNECTION) {
        buf.extend_from_slice(b"connection: close\r\n");
    }
    let carries_body = matches!(req.method, Method::POST | Method::PUT | Method::PATCH);
    if (!req.body.is_empty() || carries_body) && !has(&hyper::header::CONTENT_LENGTH) {
        buf.extend_from_slice(b"content-length: ");
        buf.extend_from_slice(req.body.len().to_string().as_bytes());
        buf.extend_from_slice(b"\r\n");
    }
    buf.extend_from_slice(b"\r\n");
    buf.extend_from_slice(&req.body);
    Ok(())
}

/// Whether `buf` holds an empty line (`\n\r\n` or `\n\n`) ending after its first `scanned`
/// bytes.
fn holds_end_of_head(buf: &[u8], scanned: usize) -> bool {
    let from = scanned.saturating_sub(2);
    let tail = &buf[from.min(buf.len())..];
    tail.windows(2)
        .enumerate()
        .any(|(i, w)| w == b"\n\n" || (w == b"\n\r" && tail.get(i + 2) == Some(&b'\n')))
}

/// What a complete response head says, read out of `httparse`'s borrowed view.
struct HeadFields {
    /// Bytes of the head, final CRLF included.
    used: usize,
    status: u16,
    http10: bool,
    length: Option<u64>,
    chunked: bool,
    close: bool,
    keep_alive: bool,
}

/// Parses one head into `slots`; `Ok(None)` when more bytes are needed.
fn parse_fields<'b>(
    buf: &'b [u8],
    slots: &mut [httparse::Header<'b>],
) -> Result<Option<HeadFields>, httparse::Error> {
    let mut resp = httparse::Response::new(slots);
    let used = match resp.parse(buf)? {
        httparse::Status::Complete(n) => n,
        httparse::Status::Partial => return Ok(None),
    };
    let mut f = HeadFields {
        used,
        status: resp.code.unwrap_or(0),
        http10: resp.version == Some(0),
        length: None,
        chunked: false,
        close: false,
        keep_alive: false,
    };
    for h in resp.headers.iter() {
        let value = std::str::from_utf8(h.value).unwrap_or("").trim();
        if h.name.eq_ignore_ascii_case("content-length") {
            f.length = Some(
                value
                    .parse::<u64>()
                    .map_err(|_| httparse::Error::HeaderValue)?,
            );
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            f.chunked = value.to_ascii_lowercase().ends_with("chunked");
        } else if h.name.eq_ignore_ascii_case("connection") {
            let v = value.to_ascii_lowercase();
            f.close |= v.contains("close");
            f.keep_alive |= v.contains("keep-alive");
        }
    }
    Ok(Some(f))
}

/// [`parse_fields`] with [`INLINE_HEADERS`] slots on the stack, or, for a head with more
/// headers, one slot per line of `buf` (no head holds more headers than lines).
fn parse_any_count(buf: &[u8]) -> Result<Option<HeadFields>, httparse::Error> {
    let mut inline = [httparse::EMPTY_HEADER; INLINE_HEADERS];
    match parse_fields(buf, &mut inline) {
        Err(httparse::Error::TooManyHeaders) => {
            let lines = buf.iter().filter(|&&b| b == b'\n').count() + 1;
            let mut spill = vec![httparse::EMPTY_HEADER; lines];
            parse_fields(buf, &mut spill)
        }
        other => other,
    }
}

/// Parses a response head from the front of `buf` and consumes it; `None` when more bytes
/// are needed. Interim (1xx) responses are skipped. A head longer than [`MAX_HEAD`] is an
/// error whether it arrived whole or in pieces.
///
/// `scanned` is how much of `buf` is known to hold no end of head (0 on a new response): a
/// head that arrives in many pieces is parsed once it is whole, not once per piece.
fn parse_head(
    buf: &mut BytesMut,
    head_only: bool,
    scanned: &mut usize,
) -> Result<Option<Head>, ErrorKind> {
    loop {
        if buf.is_empty() {
            return Ok(None);
        }
        // The first piece is parsed as it is, so that a reply that is no HTTP at all fails
        // at once; later pieces only once the head is complete.
        if *scanned > 0 && !holds_end_of_head(buf, *scanned) {
            *scanned = buf.len();
            return if buf.len() > MAX_HEAD {
                Err(ErrorKind::Io)
            } else {
                Ok(None)
            };
        }
        *scanned = 0;
        let f = match parse_any_count(buf) {
            Ok(Some(f)) if f.used > MAX_HEAD => return Err(ErrorKind::Io),
            Ok(Some(f)) => f,
            Ok(None) if buf.len() > MAX_HEAD => return Err(ErrorKind::Io),
            Ok(None) => {
                *scanned = buf.len().max(1);
                return Ok(None);
            }
            Err(_) => return Err(ErrorKind::Io),
        };
        buf.advance(f.used);
        if (100..200).contains(&f.status) && f.status != 101 {
            continue;
        }
        let framing = if head_only || f.status == 204 || f.status == 304 {
            Framing::Length(0)
        } else if f.chunked {
            Framing::Chunked
        } else if let Some(n) = f.length {
            Framing::Length(n)
        } else {
            Framing::UntilClose
        };
        return Ok(Some(Head {
            status: f.status,
            framing,
            close: f.close || (f.http10 && !f.keep_alive),
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(prefix: &str) -> Endpoint {
        Endpoint {
            addrs: vec![],
            host: HeaderValue::from_static("h:1"),
            prefix: prefix.into(),
            timeout: Duration::from_secs(1),
            tls: None,
            keepalive: true,
        }
    }

    fn request(method: Method, path: &str, body: &'static str) -> PreparedRequest {
        PreparedRequest {
            action: 0,
            method,
            path: path.into(),
            headers: vec![(
                hyper::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            body: Bytes::from_static(body.as_bytes()),
        }
    }

    #[test]
    fn encodes_request_line_headers_and_body() {
        let mut buf = Vec::new();
        let post = request(Method::POST, "/t?a=1", "{}");
        encode(&mut buf, &endpoint("/api"), &post).unwrap();
        assert_eq!(
            String::from_utf8(buf.clone()).unwrap(),
            "POST /api/t?a=1 HTTP/1.1\r\nhost: h:1\r\ncontent-type: application/json\r\n\
             content-length: 2\r\n\r\n{}"
        );
        encode(&mut buf, &endpoint(""), &request(Method::GET, "/", "")).unwrap();
        assert_eq!(
            String::from_utf8(buf.clone()).unwrap(),
            "GET / HTTP/1.1\r\nhost: h:1\r\ncontent-type: application/json\r\n\r\n"
        );
        let mut close = endpoint("");
        close.keepalive = false;
        encode(&mut buf, &close, &request(Method::GET, "/", "")).unwrap();
        assert_eq!(
            String::from_utf8(buf.clone()).unwrap(),
            "GET / HTTP/1.1\r\nhost: h:1\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n",
            "--no-keepalive asks the server to close too"
        );
        for bad in ["", "x", "/a b", "/a\r\nx: y"] {
            let r = request(Method::GET, bad, "");
            assert_eq!(
                encode(&mut buf, &endpoint(""), &r),
                Err(ErrorKind::Io),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn parses_heads_incrementally_and_frames_bodies() {
        let mut buf = BytesMut::from(&b"HTTP/1.1 200 OK\r\ncontent-le"[..]);
        assert!(parse_head(&mut buf, false, &mut 0).unwrap().is_none());
        buf.extend_from_slice(b"ngth: 3\r\nconnection: close\r\n\r\nabc");
        let head = parse_head(&mut buf, false, &mut 0).unwrap().unwrap();
        assert_eq!(head.status, 200);
        assert!(matches!(head.framing, Framing::Length(3)));
        assert!(head.close);
        assert_eq!(&buf[..], b"abc");
        let mut head_only = BytesMut::from(&b"HTTP/1.1 200 OK\r\ncontent-length: 9\r\n\r\n"[..]);
        let head = parse_head(&mut head_only, true, &mut 0).unwrap().unwrap();
        assert!(matches!(head.framing, Framing::Length(0)));
        let mut junk = BytesMut::from(&b"NOT HTTP\r\n\r\n"[..]);
        assert!(parse_head(&mut junk, false, &mut 0).is_err());
    }

    /// A 200 head with `n` extra headers of `value`, then a 2-byte body.
    fn head_with(n: usize, value: &str) -> Vec<u8> {
        let mut h = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n".to_vec();
        for i in 0..n {
            h.extend_from_slice(format!("x-h{i}: {value}\r\n").as_bytes());
        }
        h.extend_from_slice(b"\r\nok");
        h
    }

    /// Parses `bytes` as they would arrive in reads of `chunk` bytes.
    fn parse_in_pieces(bytes: &[u8], chunk: usize) -> Result<Option<Head>, ErrorKind> {
        let mut buf = BytesMut::new();
        let (mut fed, mut scanned) = (0, 0);
        for piece in bytes.chunks(chunk) {
            buf.extend_from_slice(piece);
            fed += piece.len();
            if let Some(head) = parse_head(&mut buf, false, &mut scanned)? {
                buf.extend_from_slice(&bytes[fed..]);
                assert_eq!(&buf[..], b"ok", "the head is consumed exactly");
                return Ok(Some(head));
            }
        }
        Ok(None)
    }

    #[test]
    fn any_header_count_within_the_head_limit_parses() {
        for n in [0, 63, 64, 65, 500, 5_000] {
            let head = parse_in_pieces(&head_with(n, "v"), usize::MAX).unwrap();
            assert_eq!(head.map(|h| h.status), Some(200), "{n} headers");
            let head = parse_in_pieces(&head_with(n, "v"), 7).unwrap();
            assert_eq!(head.map(|h| h.status), Some(200), "{n} headers in pieces");
        }
    }

    #[test]
    fn the_head_limit_holds_however_the_head_is_split() {
        let big = "c".repeat(100_000);
        let under = head_with(1, &big);
        let over = head_with(1, &"c".repeat(MAX_HEAD));
        for chunk in [usize::MAX, 65_536, 16_384, 4_096, 1_000] {
            let ok = parse_in_pieces(&under, chunk).unwrap();
            assert_eq!(
                ok.map(|h| h.status),
                Some(200),
                "100 KB header, reads of {chunk}"
            );
            assert_eq!(
                parse_in_pieces(&over, chunk).err(),
                Some(ErrorKind::Io),
                "head over the limit, reads of {chunk}"
            );
        }
    }

    #[test]
    fn a_stream_connected_to_itself_is_a_connect_error_and_frees_its_port() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            // A free port in the ephemeral range, then TCP simultaneous open onto it.
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap();
            let socket = tokio::net::TcpSocket::new_v4().unwrap();
            socket.set_reuseaddr(true).unwrap();
            socket.bind(port).unwrap();
            let stream = socket.connect(port).await.unwrap();
            assert_eq!(stream.local_addr().unwrap(), stream.peer_addr().unwrap());
            assert_eq!(usable(stream).err(), Some(ErrorKind::Connect));
            // Reset, not closed: no TIME-WAIT holds the port, a server can bind it at once.
            let listener = std::net::TcpListener::bind(port);
            assert!(listener.is_ok(), "port {port} still busy: {listener:?}");
        });
    }
}
