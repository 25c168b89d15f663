//! TLS for `https://` targets, with rustls (ring provider): the trust store (system roots plus
//! `--cacert` files, or none with `--insecure`), an optional client certificate (mutual TLS),
//! ALPN for the protocol asked for, and the classification of handshake failures into reasons
//! a person can act on (unknown issuer, name mismatch, expired, no client certificate).
//!
//! Built once per run, at the edge: certificate and key files are read and checked here
//! ([`TlsSetupError`] names the file), so the engine only holds a ready [`ClientTls`]. One
//! rustls `ClientConfig` is shared by every connection of the run, so its in-memory session
//! cache lets a reconnect resume the previous session (TLS 1.3 tickets, TLS 1.2 ids).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::ResolvesClientCert;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore};

/// What the run trusts and presents; paths as given on the command line.
#[derive(Debug, Clone, Default)]
pub struct TlsOptions {
    /// PEM files of extra trusted certificates (`--cacert`, several certificates each).
    pub ca_files: Vec<PathBuf>,
    /// Extra trusted certificates in PEM held in memory (the embedded server's own).
    pub ca_pem: Vec<Vec<u8>>,
    /// Trust the operating system's roots too (as every client does by default).
    pub system_roots: bool,
    /// Skip certificate verification (`--insecure`); signatures are still checked.
    pub insecure: bool,
    /// Client certificate chain and key files, PEM (`--cert`, `--key`).
    pub identity: Option<(PathBuf, PathBuf)>,
}

/// A TLS option that cannot be used: which file or flag, and why.
#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    #[error("{flag} {}: cannot read it: {reason}", path.display())]
    Unreadable {
        flag: &'static str,
        path: PathBuf,
        reason: String,
    },
    #[error("{flag} {}: {what}; give a PEM file (-----BEGIN CERTIFICATE----- ...)", path.display())]
    NotPem {
        flag: &'static str,
        path: PathBuf,
        what: String,
    },
    #[error("--key {}: {reason}; give the PEM private key (PKCS#8, PKCS#1 or SEC1) of --cert", path.display())]
    BadKey { path: PathBuf, reason: String },
    #[error(
        "--key {} does not match the certificate in --cert {}: give the key the certificate was issued for",
        key.display(),
        cert.display()
    )]
    KeyMismatch { cert: PathBuf, key: PathBuf },
    #[error("TLS setup failed: {0}")]
    Other(String),
}

/// Why a TLS handshake (or the protocol negotiated in it) failed, as far as the client can
/// tell; the run file counts `tls` errors by this reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TlsFailure {
    /// The certificate chains to no trusted root.
    UnknownIssuer,
    /// The certificate is not valid for the name (or address) of the target.
    NameMismatch,
    /// The certificate has expired or is not valid yet.
    Expired,
    /// The server requires a client certificate and none was given.
    NoClientCert,
    /// The server refused the client certificate that was given.
    ClientCertRejected,
    /// `--http2`: the server did not negotiate HTTP/2.
    NoH2,
    /// Any other handshake failure.
    Handshake,
}

impl TlsFailure {
    /// Key in the run file's `errors.tls_reasons`.
    pub fn slug(self) -> &'static str {
        match self {
            TlsFailure::UnknownIssuer => "unknown_issuer",
            TlsFailure::NameMismatch => "name_mismatch",
            TlsFailure::Expired => "expired",
            TlsFailure::NoClientCert => "no_client_cert",
            TlsFailure::ClientCertRejected => "client_cert_rejected",
            TlsFailure::NoH2 => "no_h2",
            TlsFailure::Handshake => "handshake",
        }
    }

    /// The reason in words and the flag that fixes it.
    pub fn explain(self) -> &'static str {
        match self {
            TlsFailure::UnknownIssuer => {
                "certificate not trusted (unknown issuer): pass the CA that issued it with \
                 --cacert FILE (or skip verification with --insecure)"
            }
            TlsFailure::NameMismatch => {
                "certificate not valid for the target's host (name mismatch): put a name the \
                 certificate was issued for in the URL and reach the address with --resolve \
                 HOST:PORT:ADDR (or skip verification with --insecure)"
            }
            TlsFailure::Expired => {
                "certificate expired or not yet valid: renew the server's certificate (or skip \
                 verification with --insecure)"
            }
            TlsFailure::NoClientCert => {
                "the server requires a client certificate and none was offered: pass --cert \
                 FILE --key FILE"
            }
            TlsFailure::ClientCertRejected => {
                "the server refused the client certificate: check --cert/--key against the \
                 CA the server trusts for clients"
            }
            TlsFailure::NoH2 => {
                "the server did not negotiate HTTP/2 (ALPN h2): drop --http2, or enable \
                 HTTP/2 on the server"
            }
            TlsFailure::Handshake => "TLS handshake failed",
        }
    }

    /// Every reason, for lookups by slug.
    pub const ALL: [TlsFailure; 7] = [
        TlsFailure::UnknownIssuer,
        TlsFailure::NameMismatch,
        TlsFailure::Expired,
        TlsFailure::NoClientCert,
        TlsFailure::ClientCertRejected,
        TlsFailure::NoH2,
        TlsFailure::Handshake,
    ];
}

/// What a TLS connection negotiated (SPEC section 9's `tls` object).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsInfo {
    /// `TLSv1.3` or `TLSv1.2`.
    pub version: String,
    /// IANA name, e.g. `TLS_AES_128_GCM_SHA256`.
    pub cipher: String,
    /// `h2`, `http/1.1`, or none.
    pub alpn: Option<String>,
}

impl TlsInfo {
    pub(crate) fn of(conn: &rustls::ClientConnection) -> TlsInfo {
        let version = match conn.protocol_version() {
            Some(rustls::ProtocolVersion::TLSv1_3) => "TLSv1.3".to_string(),
            Some(rustls::ProtocolVersion::TLSv1_2) => "TLSv1.2".to_string(),
            Some(v) => format!("{v:?}"),
            None => "unknown".to_string(),
        };
        let cipher = conn
            .negotiated_cipher_suite()
            .map(|s| {
                let name = s.suite().as_str().map_or_else(
                    || format!("{:?}", s.suite()),
                    |n| n.replacen("TLS13_", "TLS_", 1),
                );
                name
            })
            .unwrap_or_else(|| "unknown".to_string());
        let alpn = conn
            .alpn_protocol()
            .map(|p| String::from_utf8_lossy(p).into_owned());
        TlsInfo {
            version,
            cipher,
            alpn,
        }
    }
}

/// The run's TLS client: one rustls configuration (trust, identity, ALPN, session cache).
#[derive(Clone)]
pub struct ClientTls {
    pub(crate) config: Arc<ClientConfig>,
    insecure: bool,
    has_identity: bool,
    /// Set once a server asked for a client certificate during a handshake.
    asked_for_cert: Arc<AtomicBool>,
}

impl std::fmt::Debug for ClientTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientTls")
            .field("insecure", &self.insecure)
            .field("client_cert", &self.has_identity)
            .finish()
    }
}

/// ALPN protocol names: HTTP/1.1 only, or h2 first with HTTP/1.1 as the fallback (so that a
/// server without h2 still completes the handshake and the run can say so).
fn alpn(http2: bool) -> Vec<Vec<u8>> {
    if http2 {
        vec![b"h2".to_vec(), b"http/1.1".to_vec()]
    } else {
        vec![b"http/1.1".to_vec()]
    }
}

impl ClientTls {
    /// Reads and checks the files of `opts`; `http2` selects the ALPN offer.
    pub fn new(opts: &TlsOptions, http2: bool) -> Result<ClientTls, TlsSetupError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsSetupError::Other(e.to_string()))?;
        let builder = if opts.insecure {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(NoVerification(provider.clone())))
        } else {
            builder.with_root_certificates(roots(opts)?)
        };
        let mut config = match &opts.identity {
            None => builder.with_no_client_auth(),
            Some((cert, key)) => {
                let chain = read_certs("--cert", cert)?;
                let key_der = read_key(key)?;
                builder
                    .with_client_auth_cert(chain, key_der)
                    .map_err(|e| match e {
                        rustls::Error::InconsistentKeys(_) => TlsSetupError::KeyMismatch {
                            cert: cert.clone(),
                            key: key.clone(),
                        },
                        other => TlsSetupError::BadKey {
                            path: key.clone(),
                            reason: other.to_string(),
                        },
                    })?
            }
        };
        let asked_for_cert = Arc::new(AtomicBool::new(false));
        config.client_auth_cert_resolver = Arc::new(Watched {
            inner: config.client_auth_cert_resolver.clone(),
            asked: asked_for_cert.clone(),
        });
        config.alpn_protocols = alpn(http2);
        Ok(ClientTls {
            config: Arc::new(config),
            insecure: opts.insecure,
            has_identity: opts.identity.is_some(),
            asked_for_cert,
        })
    }

    /// The same client with a session cache of its own: a connection made with it (the
    /// pre-run probe) leaves no session for the run's connections to resume.
    pub(crate) fn without_shared_sessions(&self) -> ClientTls {
        let mut config = (*self.config).clone();
        config.resumption = rustls::client::Resumption::default();
        ClientTls {
            config: Arc::new(config),
            ..self.clone()
        }
    }

    /// Whether certificate verification is off (`--insecure`).
    pub fn insecure(&self) -> bool {
        self.insecure
    }

    /// Whether a server asked this client for a certificate (with or without one to give).
    pub(crate) fn asked_for_cert(&self) -> bool {
        self.asked_for_cert.load(Ordering::Relaxed)
    }

    /// Whether a server asked this client for a certificate it did not have.
    pub(crate) fn asked_without_identity(&self) -> bool {
        !self.has_identity && self.asked_for_cert.load(Ordering::Relaxed)
    }

    /// The reason of a failed handshake or of a TLS error on an open connection.
    pub(crate) fn classify(&self, e: &rustls::Error) -> TlsFailure {
        use rustls::AlertDescription as A;
        match e {
            rustls::Error::InvalidCertificate(c) => match c {
                CertificateError::UnknownIssuer => TlsFailure::UnknownIssuer,
                CertificateError::NotValidForName
                | CertificateError::NotValidForNameContext { .. } => TlsFailure::NameMismatch,
                CertificateError::Expired
                | CertificateError::ExpiredContext { .. }
                | CertificateError::NotValidYet
                | CertificateError::NotValidYetContext { .. } => TlsFailure::Expired,
                _ => TlsFailure::Handshake,
            },
            rustls::Error::AlertReceived(A::CertificateRequired) => TlsFailure::NoClientCert,
            rustls::Error::AlertReceived(A::NoApplicationProtocol) => TlsFailure::NoH2,
            rustls::Error::AlertReceived(
                A::HandshakeFailure
                | A::BadCertificate
                | A::UnknownCA
                | A::AccessDenied
                | A::CertificateUnknown
                | A::DecryptError,
            ) => {
                if self.asked_without_identity() {
                    TlsFailure::NoClientCert
                } else if self.has_identity {
                    TlsFailure::ClientCertRejected
                } else {
                    TlsFailure::Handshake
                }
            }
            _ => TlsFailure::Handshake,
        }
    }
}

/// The TLS error inside an I/O error from a TLS stream, if that is what it is.
pub(crate) fn rustls_error(e: &std::io::Error) -> Option<&rustls::Error> {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
}

/// The name the certificate must be valid for, and the SNI sent (none for an IP address).
pub(crate) fn server_name(host: &str) -> Result<ServerName<'static>, String> {
    ServerName::try_from(host.to_string())
        .map_err(|e| format!("`{host}` is no valid TLS server name: {e}"))
}

fn roots(opts: &TlsOptions) -> Result<Arc<RootCertStore>, TlsSetupError> {
    let mut store = RootCertStore::empty();
    if opts.system_roots {
        // Unreadable or unparsable system certificates are skipped, as curl and browsers do.
        let found = rustls_native_certs::load_native_certs();
        store.add_parsable_certificates(found.certs);
    }
    for path in &opts.ca_files {
        for cert in read_certs("--cacert", path)? {
            store.add(cert).map_err(|e| TlsSetupError::NotPem {
                flag: "--cacert",
                path: path.clone(),
                what: format!("holds a certificate that cannot be a trust anchor ({e})"),
            })?;
        }
    }
    for pem in &opts.ca_pem {
        for cert in CertificateDer::pem_slice_iter(pem) {
            let cert = cert.map_err(|e| TlsSetupError::Other(e.to_string()))?;
            store
                .add(cert)
                .map_err(|e| TlsSetupError::Other(e.to_string()))?;
        }
    }
    Ok(Arc::new(store))
}

/// Every certificate of a PEM file; at least one.
fn read_certs(
    flag: &'static str,
    path: &Path,
) -> Result<Vec<CertificateDer<'static>>, TlsSetupError> {
    let bytes = std::fs::read(path).map_err(|e| TlsSetupError::Unreadable {
        flag,
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<_, _>>()
        .map_err(|e| TlsSetupError::NotPem {
            flag,
            path: path.to_path_buf(),
            what: format!("is not valid PEM ({e})"),
        })?;
    if certs.is_empty() {
        return Err(TlsSetupError::NotPem {
            flag,
            path: path.to_path_buf(),
            what: "holds no PEM certificate".to_string(),
        });
    }
    Ok(certs)
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsSetupError> {
    let bytes = std::fs::read(path).map_err(|e| TlsSetupError::Unreadable {
        flag: "--key",
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| TlsSetupError::BadKey {
        path: path.to_path_buf(),
        reason: match e {
            rustls::pki_types::pem::Error::NoItemsFound => "holds no PEM private key".to_string(),
            other => format!("is not a valid PEM private key ({other})"),
        },
    })
}

/// The client certificate resolver of the configuration, noting that a server asked.
#[derive(Debug)]
struct Watched {
    inner: Arc<dyn ResolvesClientCert>,
    asked: Arc<AtomicBool>,
}

impl ResolvesClientCert for Watched {
    fn resolve(
        &self,
        root_hint_subjects: &[&[u8]],
        sigschemes: &[rustls::SignatureScheme],
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        self.asked.store(true, Ordering::Relaxed);
        self.inner.resolve(root_hint_subjects, sigschemes)
    }

    fn has_certs(&self) -> bool {
        self.inner.has_certs()
    }
}

/// `--insecure`: accepts any certificate for any name, still checking that the server holds
/// the key of the certificate it sent (the handshake signature).
#[derive(Debug)]
struct NoVerification(Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
