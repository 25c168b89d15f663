//! How connections are made: plain TCP or TLS over it, HTTP/1.1 or HTTP/2, kept alive or one
//! per request, and where the target's host name points (`--resolve`). [`open`] is the one
//! place a connection is opened (the run's lanes and the pre-run [`crate::probe`] alike); it
//! times TCP connect plus TLS handshake, which the run records as `connect_us`.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use crate::record::ErrorKind;
use crate::tls::{ClientTls, TlsFailure, TlsInfo};

/// The HTTP version spoken on every connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Protocol {
    /// One request at a time per connection (no pipelining).
    #[default]
    Http1,
    /// HTTP/2 (ALPN `h2` over TLS, prior knowledge over plain TCP), `streams` lanes sharing
    /// each connection, each with one request in flight.
    Http2 { streams: usize },
}

impl Protocol {
    /// Lanes per connection: 1 for HTTP/1.1.
    pub fn streams(self) -> usize {
        match self {
            Protocol::Http1 => 1,
            Protocol::Http2 { streams } => streams.max(1),
        }
    }

    /// `http/1.1` or `h2`, as run files name it.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Http1 => "http/1.1",
            Protocol::Http2 { .. } => "h2",
        }
    }
}

/// `--resolve HOST:PORT:ADDR[,ADDR...]` (as curl): connect to ADDR when the target is
/// HOST:PORT, while the URL, `Host`, SNI and certificate name stay HOST.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolveOverride {
    pub host: String,
    pub port: u16,
    pub addrs: Vec<IpAddr>,
}

impl ResolveOverride {
    /// Parses `HOST:PORT:ADDR[,ADDR...]`; an IPv6 address may be in brackets.
    pub fn parse(text: &str) -> Result<ResolveOverride, String> {
        let bad = |why: &str| {
            format!(
                "--resolve {text:?}: {why}; write HOST:PORT:ADDR as curl does, e.g. \
                 example.com:443:127.0.0.1"
            )
        };
        let (host, rest) = text.split_once(':').ok_or_else(|| bad("no port"))?;
        let (port, addrs) = rest.split_once(':').ok_or_else(|| bad("no address"))?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return Err(bad("no host"));
        }
        let port: u16 = port
            .parse()
            .map_err(|_| bad(&format!("port {port:?} is not a number from 0 to 65535")))?;
        let addrs = addrs
            .split(',')
            .map(|a| {
                let a = a.trim().trim_start_matches('[').trim_end_matches(']');
                a.parse::<IpAddr>()
                    .map_err(|_| bad(&format!("{a:?} is not an IP address")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ResolveOverride {
            host: host.to_ascii_lowercase(),
            port,
            addrs,
        })
    }

    /// Whether this entry applies to `host:port`.
    pub fn matches(&self, host: &str, port: u16) -> bool {
        self.port == port && self.host.eq_ignore_ascii_case(host)
    }
}

/// Connection settings of a run beyond the target URL.
#[derive(Debug, Clone, Default)]
pub struct Transport {
    pub protocol: Protocol,
    /// false: a new connection (and handshake) per request (`--no-keepalive`).
    pub keepalive: bool,
    /// Required for `https://` targets.
    pub tls: Option<ClientTls>,
    pub resolve: Vec<ResolveOverride>,
}

impl Transport {
    /// Plain HTTP/1.1 with keep-alive: what a run does without TLS or HTTP/2 options.
    pub fn plain() -> Transport {
        Transport {
            keepalive: true,
            ..Transport::default()
        }
    }
}

/// A TCP stream, or TLS over one.
pub(crate) enum Stream {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl Stream {
    /// Whether the peer closed (or reset) a connection that sat idle: plain streams are read
    /// without blocking (unsolicited bytes also disqualify it); TLS streams are only peeked at,
    /// since their bytes belong to the TLS session (a ticket is no reason to drop it).
    pub fn closed_while_idle(&self) -> bool {
        match self {
            Stream::Plain(s) => !matches!(
                s.try_read(&mut [0u8; 1]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock
            ),
            Stream::Tls(s) => {
                let mut byte = [0u8; 1];
                let mut buf = ReadBuf::new(&mut byte);
                let waker = std::task::Waker::from(Arc::new(NoWake));
                let mut cx = Context::from_waker(&waker);
                matches!(
                    s.get_ref().0.poll_peek(&mut cx, &mut buf),
                    Poll::Ready(Ok(0)) | Poll::Ready(Err(_))
                )
            }
        }
    }
}

/// A waker for one poll whose wake-up nobody waits for.
struct NoWake;

impl std::task::Wake for NoWake {
    fn wake(self: Arc<Self>) {}
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// The TLS side of an endpoint: the client and the name to verify (and send as SNI).
#[derive(Clone)]
pub(crate) struct TlsTarget {
    pub client: ClientTls,
    pub connector: tokio_rustls::TlsConnector,
    pub name: ServerName<'static>,
}

/// A connection just opened.
pub(crate) struct Opened {
    pub stream: Stream,
    /// When connecting started, and how long TCP connect plus TLS handshake took.
    pub started: Instant,
    pub took: Duration,
    /// TLS only: what was negotiated, and whether a previous session was resumed.
    pub tls: Option<TlsInfo>,
    pub resumed: bool,
}

/// Connects to `addr` and, for TLS, completes the handshake. A connection to itself (TCP
/// simultaneous open) and a refused or failed connect are `connect` errors; a failed
/// handshake is a `tls` error with its reason.
pub(crate) async fn open(addr: SocketAddr, tls: Option<&TlsTarget>) -> Result<Opened, ErrorKind> {
    open_explained(addr, tls).await.map_err(|(kind, _)| kind)
}

/// [`open`], with what went wrong in words (the pre-run probe shows it).
pub(crate) async fn open_explained(
    addr: SocketAddr,
    tls: Option<&TlsTarget>,
) -> Result<Opened, (ErrorKind, String)> {
    let started = Instant::now();
    let tcp = TcpStream::connect(addr)
        .await
        .map_err(|e| (ErrorKind::Connect, e.to_string()))?;
    let tcp = crate::conn::usable(tcp).map_err(|k| (k, "connected to itself".to_string()))?;
    let Some(t) = tls else {
        return Ok(Opened {
            stream: Stream::Plain(tcp),
            started,
            took: started.elapsed(),
            tls: None,
            resumed: false,
        });
    };
    let stream = t
        .connector
        .connect(t.name.clone(), tcp)
        .await
        .map_err(|e| (tls_error(&t.client, &e), e.to_string()))?;
    let took = started.elapsed();
    let session = stream.get_ref().1;
    let info = TlsInfo::of(session);
    let resumed = session.handshake_kind() == Some(rustls::HandshakeKind::Resumed);
    Ok(Opened {
        stream: Stream::Tls(Box::new(stream)),
        started,
        took,
        tls: Some(info),
        resumed,
    })
}

/// The error kind of an I/O error on a TLS connection or handshake: `tls` with its reason
/// when TLS failed, else `io` (handshake I/O failures: the peer closed or reset).
pub(crate) fn tls_error(client: &ClientTls, e: &io::Error) -> ErrorKind {
    match crate::tls::rustls_error(e) {
        Some(err) => ErrorKind::Tls(client.classify(err)),
        None => ErrorKind::Tls(TlsFailure::Handshake),
    }
}

/// The failure of an I/O error during an exchange: a TLS alert (a client certificate the
/// server wanted, a certificate it refused) is `tls`, anything else `None` (the caller's kind).
pub(crate) fn tls_failure(tls: Option<&TlsTarget>, e: &io::Error) -> Option<ErrorKind> {
    let t = tls?;
    crate::tls::rustls_error(e).map(|err| ErrorKind::Tls(t.client.classify(err)))
}

/// A TLS target for `host`, when `transport` has TLS.
pub(crate) fn tls_target(transport: &Transport, host: &str) -> Result<Option<TlsTarget>, String> {
    let Some(client) = &transport.tls else {
        return Ok(None);
    };
    Ok(Some(TlsTarget {
        client: client.clone(),
        connector: tokio_rustls::TlsConnector::from(Arc::clone(&client.config)),
        name: crate::tls::server_name(host)?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_entries_parse_as_curl_writes_them() {
        let r = ResolveOverride::parse("Example.com:443:127.0.0.1").unwrap();
        assert_eq!(r.host, "example.com");
        assert_eq!(r.port, 443);
        assert_eq!(r.addrs, vec!["127.0.0.1".parse::<IpAddr>().unwrap()]);
        assert!(r.matches("EXAMPLE.com", 443));
        assert!(!r.matches("example.com", 80));
        let r = ResolveOverride::parse("h:8443:[::1],127.0.0.2").unwrap();
        assert_eq!(r.addrs.len(), 2);
        for bad in [
            "example.com",
            "example.com:443",
            "example.com:x:127.0.0.1",
            "example.com:443:not-an-ip",
            ":443:127.0.0.1",
            "h:70000:127.0.0.1",
        ] {
            let e = ResolveOverride::parse(bad).unwrap_err();
            assert!(
                e.contains("--resolve") && e.contains("HOST:PORT:ADDR"),
                "{bad}: {e}"
            );
        }
    }
}
