//! HTTPS for the reference server: a rustls acceptor (ring provider) from PEM files, or from a
//! certificate generated at start with rcgen (`--self-signed`: valid for 127.0.0.1, ::1 and
//! localhost, its PEM handed back so the caller can publish it for clients' `--cacert`).
//! ALPN offers `h2` and `http/1.1`; the server speaks whichever the client picks. Sessions can
//! be resumed (server-side session cache, TLS 1.3 tickets), as production servers allow.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::ServerSessionMemoryCache;
use rustls::ServerConfig;

use crate::ServerError;

/// Sessions the server remembers for resumption.
const SESSION_CACHE: usize = 16 * 1024;

/// A TLS acceptor and the certificate it presents.
#[derive(Clone)]
pub struct ServerTls {
    acceptor: tokio_rustls::TlsAcceptor,
    cert_pem: String,
}

impl std::fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerTls").finish_non_exhaustive()
    }
}

impl ServerTls {
    /// The certificate chain of `cert` (PEM) and the private key of `key` (PEM).
    pub fn from_files(cert: &Path, key: &Path) -> Result<ServerTls, ServerError> {
        let read = |flag: &str, path: &Path| {
            std::fs::read(path).map_err(|e| {
                ServerError::Config(format!("{flag} {}: cannot read it: {e}", path.display()))
            })
        };
        let cert_pem = read("--tls-cert", cert)?;
        let key_pem = read("--tls-key", key)?;
        ServerTls::from_pem(&cert_pem, &key_pem).map_err(|e| match e {
            PemError::Cert(why) => {
                ServerError::Config(format!("--tls-cert {}: {why}", cert.display()))
            }
            PemError::Key(why) => {
                ServerError::Config(format!("--tls-key {}: {why}", key.display()))
            }
        })
    }

    /// A new self-signed certificate for 127.0.0.1, ::1 and localhost.
    pub fn self_signed() -> Result<ServerTls, ServerError> {
        let names = vec![
            "localhost".to_string(),
            "127.0.0.1".to_string(),
            "::1".to_string(),
        ];
        let generated = rcgen::generate_simple_self_signed(names)
            .map_err(|e| ServerError::Config(format!("cannot generate a certificate: {e}")))?;
        let cert_pem = generated.cert.pem();
        let key_pem = generated.signing_key.serialize_pem();
        ServerTls::from_pem(cert_pem.as_bytes(), key_pem.as_bytes())
            .map_err(|e| ServerError::Config(format!("generated certificate: {e:?}")))
    }

    fn from_pem(cert_pem: &[u8], key_pem: &[u8]) -> Result<ServerTls, PemError> {
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert_pem)
            .collect::<Result<_, _>>()
            .map_err(|e| PemError::Cert(format!("is not valid PEM ({e})")))?;
        if chain.is_empty() {
            return Err(PemError::Cert(
                "holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into(),
            ));
        }
        let key = PrivateKeyDer::from_pem_slice(key_pem)
            .map_err(|e| PemError::Key(format!("holds no usable PEM private key ({e})")))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| PemError::Cert(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| match e {
                rustls::Error::InconsistentKeys(_) => {
                    PemError::Key("does not match the certificate".into())
                }
                other => PemError::Key(other.to_string()),
            })?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        config.session_storage = ServerSessionMemoryCache::new(SESSION_CACHE);
        Ok(ServerTls {
            acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
            cert_pem: String::from_utf8_lossy(cert_pem).into_owned(),
        })
    }

    /// The certificate (chain) presented, PEM: what clients trust with `--cacert`.
    pub fn certificate_pem(&self) -> &str {
        &self.cert_pem
    }

    pub(crate) fn acceptor(&self) -> &tokio_rustls::TlsAcceptor {
        &self.acceptor
    }
}

#[derive(Debug)]
enum PemError {
    Cert(String),
    Key(String),
}

impl std::fmt::Display for PemError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PemError::Cert(w) | PemError::Key(w) => f.write_str(w),
        }
    }
}
