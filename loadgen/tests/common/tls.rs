//! TLS test support: certificates made in the test with rcgen (a CA, server certificates for
//! given names, expired ones, client certificates), and an in-test server (rustls through
//! tokio-rustls, hyper-util's auto builder: HTTP/1.1 and HTTP/2) on 127.0.0.1:0 that can
//! require client certificates and counts what it sees: handshakes, resumed handshakes, client
//! certificates, requests, and the most requests in flight on any one connection.
//!
//! Also used by the `napkin` CLI tests (`tests/tls_cli.rs` includes this file).

#![allow(dead_code)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::sync::oneshot;

/// A certificate and its key, PEM.
#[derive(Debug, Clone)]
pub struct Identity {
    pub cert_pem: String,
    pub key_pem: String,
}

impl Identity {
    /// Writes `NAME.crt` and `NAME.key` into `dir`.
    pub fn write(&self, dir: &Path, name: &str) -> (PathBuf, PathBuf) {
        let cert = dir.join(format!("{name}.crt"));
        let key = dir.join(format!("{name}.key"));
        std::fs::write(&cert, &self.cert_pem).unwrap();
        std::fs::write(&key, &self.key_pem).unwrap();
        (cert, key)
    }
}

/// A certificate authority made for one test.
pub struct Ca {
    issuer: Issuer<'static, KeyPair>,
    pub cert_pem: String,
}

impl Ca {
    pub fn new(name: &str) -> Ca {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let cert = params.self_signed(&key).unwrap();
        Ca {
            issuer: Issuer::new(params, key),
            cert_pem: cert.pem(),
        }
    }

    /// A server certificate for `names` (DNS names or IP addresses); `expired`: valid only
    /// in 2020.
    pub fn server(&self, names: &[&str], expired: bool) -> Identity {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(names).unwrap();
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        if expired {
            params.not_before = rcgen::date_time_ymd(2020, 1, 1);
            params.not_after = rcgen::date_time_ymd(2020, 12, 31);
        }
        self.sign(params)
    }

    /// A client certificate (mutual TLS).
    pub fn client(&self, name: &str) -> Identity {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        self.sign(params)
    }

    fn sign(&self, params: CertificateParams) -> Identity {
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        Identity {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }
}

/// What the server counts.
#[derive(Debug, Default)]
pub struct Stats {
    pub connections: AtomicU64,
    pub handshakes: AtomicU64,
    pub resumed: AtomicU64,
    pub client_certs: AtomicU64,
    pub requests: AtomicU64,
    pub h2_requests: AtomicU64,
    /// The most requests in flight at once on one connection.
    pub max_per_connection: AtomicU64,
}

impl Stats {
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::SeqCst)
    }
}

/// How the server is set up.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Serve TLS with this certificate; plain TCP (HTTP/1.1 and HTTP/2 prior knowledge) when
    /// `None`.
    pub identity: Option<Identity>,
    /// Require a client certificate issued by this CA (PEM).
    pub client_ca: Option<String>,
    /// ALPN protocols offered; `h2` and `http/1.1` when empty.
    pub alpn: Vec<Vec<u8>>,
    /// Time each request takes.
    pub delay: Duration,
}

/// A server on 127.0.0.1:0 with its own thread and runtime; stops when dropped.
pub struct Server {
    pub addr: SocketAddr,
    pub stats: Arc<Stats>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    pub fn start(options: Options) -> Server {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let stats = Arc::new(Stats::default());
        let acceptor = options.identity.as_ref().map(|id| acceptor(id, &options));
        let (tx, rx) = oneshot::channel();
        let st = stats.clone();
        let delay = options.delay;
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(serve(listener, acceptor, st, delay, rx));
        });
        Server {
            addr,
            stats,
            shutdown: Some(tx),
            thread: Some(thread),
        }
    }

    /// `https://127.0.0.1:PORT` (or `http://` for a plain server).
    pub fn url(&self, https: bool) -> String {
        let scheme = if https { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn acceptor(id: &Identity, options: &Options) -> tokio_rustls::TlsAcceptor {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let chain: Vec<CertificateDer<'static>> =
        CertificateDer::pem_slice_iter(id.cert_pem.as_bytes())
            .collect::<Result<_, _>>()
            .unwrap();
    let key = PrivateKeyDer::from_pem_slice(id.key_pem.as_bytes()).unwrap();
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap();
    let builder = match &options.client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            for c in CertificateDer::pem_slice_iter(ca.as_bytes()) {
                roots.add(c.unwrap()).unwrap();
            }
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            )
            .build()
            .unwrap();
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder.with_single_cert(chain, key).unwrap();
    config.alpn_protocols = if options.alpn.is_empty() {
        vec![b"h2".to_vec(), b"http/1.1".to_vec()]
    } else {
        options.alpn.clone()
    };
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

async fn serve(
    listener: std::net::TcpListener,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    stats: Arc<Stats>,
    delay: Duration,
    mut stop: oneshot::Receiver<()>,
) {
    let listener = tokio::net::TcpListener::from_std(listener).unwrap();
    loop {
        let (stream, _) = tokio::select! {
            r = listener.accept() => r.unwrap(),
            _ = &mut stop => return,
        };
        stream.set_nodelay(true).unwrap();
        let (stats, acceptor) = (stats.clone(), acceptor.clone());
        tokio::spawn(async move {
            stats.connections.fetch_add(1, Ordering::SeqCst);
            let in_flight = Arc::new(AtomicU64::new(0));
            let svc = {
                let stats = stats.clone();
                service_fn(move |req| handle(req, stats.clone(), in_flight.clone(), delay))
            };
            let http = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            match acceptor {
                None => {
                    let _ = http.serve_connection(TokioIo::new(stream), svc).await;
                }
                Some(acceptor) => {
                    let Ok(tls) = acceptor.accept(stream).await else {
                        return;
                    };
                    let session = tls.get_ref().1;
                    stats.handshakes.fetch_add(1, Ordering::SeqCst);
                    if session.handshake_kind() == Some(rustls::HandshakeKind::Resumed) {
                        stats.resumed.fetch_add(1, Ordering::SeqCst);
                    }
                    if session.peer_certificates().is_some_and(|c| !c.is_empty()) {
                        stats.client_certs.fetch_add(1, Ordering::SeqCst);
                    }
                    let _ = http.serve_connection(TokioIo::new(tls), svc).await;
                }
            }
        });
    }
}

async fn handle(
    req: Request<hyper::body::Incoming>,
    stats: Arc<Stats>,
    in_flight: Arc<AtomicU64>,
    delay: Duration,
) -> Result<Response<Full<Bytes>>, Infallible> {
    stats.requests.fetch_add(1, Ordering::SeqCst);
    if req.version() == hyper::Version::HTTP_2 {
        stats.h2_requests.fetch_add(1, Ordering::SeqCst);
    }
    let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    stats.max_per_connection.fetch_max(now, Ordering::SeqCst);
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    in_flight.fetch_sub(1, Ordering::SeqCst);
    Ok(Response::new(Full::new(Bytes::from_static(b"{\"id\": 1}"))))
}
