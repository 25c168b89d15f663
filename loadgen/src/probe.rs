//! One connection to the target before a run, opened the way the run opens them
//! ([`crate::transport::open`]), so that a run whose every connection would fail its TLS
//! handshake, or that asks for HTTP/2 from a server without it, fails at once with one clear
//! message instead of a run full of errors. Sends no request: over HTTP/2 it exchanges a PING,
//! over TLS it waits briefly for the server's verdict on a client certificate it asked for.
//!
//! A target that cannot be reached (refused, timed out) is not an error here: the run goes on
//! and counts connect errors, as it always has (the target may come up meanwhile).

use std::time::Duration;

use crate::plan::RunPlan;
use crate::record::ErrorKind;
use crate::tls::{TlsFailure, TlsInfo};
use crate::transport::{Protocol, Stream, TlsTarget};

/// What the probe saw.
#[derive(Debug, Clone, Default)]
pub struct ProbeReport {
    /// A connection was opened (and its handshake completed).
    pub reached: bool,
    /// What TLS negotiated on it.
    pub tls: Option<TlsInfo>,
}

/// Why the run cannot be carried out.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProbeError {
    #[error("TLS handshake with {url} failed: {}{}", reason.explain(), detail_suffix(detail))]
    Tls {
        url: String,
        reason: TlsFailure,
        detail: String,
    },
    #[error(
        "{url} does not speak HTTP/2 with prior knowledge (over http://): drop --http2, or use \
         https:// if the server offers h2 through TLS (ALPN)"
    )]
    NoPriorKnowledge { url: String },
}

fn detail_suffix(detail: &str) -> String {
    if detail.is_empty() {
        String::new()
    } else {
        format!(" ({detail})")
    }
}

/// How long the probe waits for a server's answer after the handshake (a PING's PONG, or a
/// client certificate alert): at most this, or the run's timeout when shorter.
const WAIT: Duration = Duration::from_secs(1);

/// Opens one connection to `plan`'s target and checks TLS and HTTP/2 on it.
pub fn probe(plan: &RunPlan) -> Result<ProbeReport, ProbeError> {
    let Ok(addrs) = plan.addresses() else {
        return Ok(ProbeReport::default());
    };
    // Its own session cache: the run's first connections must not resume the probe's session.
    let mut transport = plan.transport.clone();
    transport.tls = transport.tls.map(|t| t.without_shared_sessions());
    let Ok(tls) = crate::transport::tls_target(&transport, &plan.target.host) else {
        return Ok(ProbeReport::default());
    };
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return Ok(ProbeReport::default());
    };
    let url = plan.target.url.clone();
    let http2 = matches!(plan.transport.protocol, Protocol::Http2 { .. });
    let wait = WAIT.min(plan.timeout);
    rt.block_on(async move {
        let opened = tokio::time::timeout(
            plan.timeout,
            crate::transport::open_explained(addrs[0], tls.as_ref()),
        )
        .await;
        let opened = match opened {
            Ok(Ok(o)) => o,
            Ok(Err((ErrorKind::Tls(reason), why))) => {
                let mut e = tls_failed(&url, tls.as_ref(), reason);
                if let ProbeError::Tls { detail, .. } = &mut e {
                    if detail.is_empty() && reason == TlsFailure::Handshake {
                        *detail = why;
                    }
                }
                return Err(e);
            }
            Ok(Err(_)) | Err(_) => return Ok(ProbeReport::default()),
        };
        let report = ProbeReport {
            reached: true,
            tls: opened.tls.clone(),
        };
        let failure = match (&opened.tls, http2) {
            (Some(info), true) if info.alpn.as_deref() != Some("h2") => {
                Some(ErrorKind::Tls(TlsFailure::NoH2))
            }
            (_, true) => ping(opened.stream, tls.as_ref(), wait).await,
            (Some(_), false) => cert_verdict(opened.stream, tls.as_ref(), wait).await,
            (None, false) => None,
        };
        match failure {
            None => Ok(report),
            Some(ErrorKind::Tls(reason)) => Err(tls_failed(&url, tls.as_ref(), reason)),
            Some(_) if tls.is_none() => Err(ProbeError::NoPriorKnowledge { url }),
            // A TLS connection that broke for another reason: the run will tell.
            Some(_) => Ok(report),
        }
    })
}

fn tls_failed(url: &str, tls: Option<&TlsTarget>, reason: TlsFailure) -> ProbeError {
    let detail = match (reason, tls) {
        (TlsFailure::NameMismatch, Some(t)) => {
            format!("the name checked was {:?}", t.name.to_str())
        }
        _ => String::new(),
    };
    ProbeError::Tls {
        url: url.to_string(),
        reason,
        detail,
    }
}

/// HTTP/2 preface and a PING: `None` when the server answers (or is merely slow), the failure
/// when the connection ends first (a TLS alert, or no HTTP/2 at all).
async fn ping(stream: Stream, tls: Option<&TlsTarget>, wait: Duration) -> Option<ErrorKind> {
    let Ok((_send, mut conn)) = h2::client::handshake(stream).await else {
        return Some(ErrorKind::Io);
    };
    let mut pings = conn.ping_pong()?;
    let ended = tokio::time::timeout(wait, async {
        tokio::select! {
            ended = &mut conn => Some(ended.err()),
            pong = pings.ping(h2::Ping::opaque()) => pong.err().map(Some),
        }
    })
    .await;
    // Answered, or still waiting at the deadline: HTTP/2 it is.
    let Ok(Some(error)) = ended else {
        return None;
    };
    Some(crate::http2::failure_of(tls, error.as_ref()))
}

/// A server that asked for a client certificate may refuse the one it got (or its absence)
/// only after the client's side of the handshake is done (TLS 1.3): read briefly for its
/// alert.
async fn cert_verdict(
    mut stream: Stream,
    tls: Option<&TlsTarget>,
    wait: Duration,
) -> Option<ErrorKind> {
    use tokio::io::AsyncReadExt;
    if !tls.is_some_and(|t| t.client.asked_for_cert()) {
        return None;
    }
    let mut byte = [0u8; 1];
    match tokio::time::timeout(wait, stream.read(&mut byte)).await {
        Ok(Err(e)) => crate::transport::tls_failure(tls, &e),
        _ => None,
    }
}
