//! The connection flags of `napkin load` (TLS trust and identity, `--resolve`, HTTP/2 and
//! streams, keep-alive), validated at the edge (exit 2 naming the flag or file) into a
//! [`loadgen::Transport`] once the target is known. SPEC section 9.

use std::path::PathBuf;

use anyhow::bail;
use loadgen::{ClientTls, Protocol, ResolveOverride, Target, TlsOptions, Transport};

use super::LoadArgs;

/// Validated connection settings (files are read when the transport is built).
#[derive(Debug, Clone, Default)]
pub struct TransportSettings {
    pub http2: bool,
    /// Streams per HTTP/2 connection (1 without `--http2`).
    pub streams: u32,
    pub keepalive: bool,
    pub cacert: Vec<PathBuf>,
    pub insecure: bool,
    pub identity: Option<(PathBuf, PathBuf)>,
    pub resolve: Vec<ResolveOverride>,
    /// Serve the embedded reference server over HTTPS.
    pub embedded_tls: bool,
}

impl TransportSettings {
    /// The flags, checked against each other and against the target (`None`: the embedded
    /// server).
    pub fn resolve(args: &LoadArgs, target: Option<&Target>) -> anyhow::Result<TransportSettings> {
        let streams = match (args.streams, args.http2) {
            (Some(0), _) => bail!("--streams 0: give at least 1 concurrent stream per connection"),
            (Some(_), false) => bail!(
                "--streams needs --http2: HTTP/1.1 carries one request at a time per connection \
                 (use --connections for more)"
            ),
            (Some(n), true) => n,
            (None, _) => 1,
        };
        if args.no_keepalive && streams > 1 {
            bail!(
                "--no-keepalive opens a connection per request, so --streams {streams} cannot \
                 share one: drop one of the two"
            );
        }
        let identity = match (&args.cert, &args.key) {
            (Some(c), Some(k)) => Some((c.clone(), k.clone())),
            (Some(_), None) => {
                bail!("--cert needs --key: give the private key of the client certificate")
            }
            (None, Some(_)) => {
                bail!("--key needs --cert: give the client certificate the key belongs to")
            }
            (None, None) => None,
        };
        let resolve = args
            .resolve
            .iter()
            .map(|r| ResolveOverride::parse(r).map_err(anyhow::Error::msg))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let s = TransportSettings {
            http2: args.http2,
            streams,
            keepalive: !args.no_keepalive,
            cacert: args.cacert.clone(),
            insecure: args.insecure,
            identity,
            resolve,
            embedded_tls: args.embedded_tls,
        };
        s.check_target(target)?;
        Ok(s)
    }

    fn check_target(&self, target: Option<&Target>) -> anyhow::Result<()> {
        let tls_flags = !self.cacert.is_empty() || self.insecure || self.identity.is_some();
        match target {
            Some(t) if self.embedded_tls => bail!(
                "--embedded-tls serves the in-process reference server over HTTPS, but the run \
                 has a target ({}); drop --embedded-tls (trust the target's certificate with \
                 --cacert)",
                t.url
            ),
            Some(t) if !t.https && tls_flags => bail!(
                "--cacert, --insecure, --cert and --key apply to https:// targets, and {} is \
                 http://; use https:// or drop them",
                t.url
            ),
            None if tls_flags => bail!(
                "--cacert, --insecure, --cert and --key apply to https:// targets; the \
                 in-process reference server is trusted on its own with --embedded-tls"
            ),
            _ => Ok(()),
        }
    }

    /// The engine's transport to `target`; `embedded_cert` is the embedded server's own
    /// certificate (PEM), trusted on top of the system roots. Certificate and key files are
    /// read here: missing, not PEM or mismatched ones exit 2 naming the file.
    pub fn build(&self, target: &Target, embedded_cert: Option<&str>) -> anyhow::Result<Transport> {
        let tls = if target.https {
            let opts = TlsOptions {
                ca_files: self.cacert.clone(),
                ca_pem: embedded_cert
                    .map(|p| p.as_bytes().to_vec())
                    .into_iter()
                    .collect(),
                system_roots: embedded_cert.is_none(),
                insecure: self.insecure,
                identity: self.identity.clone(),
            };
            Some(ClientTls::new(&opts, self.http2)?)
        } else {
            None
        };
        for r in &self.resolve {
            if !r.matches(&target.host, target.port) {
                super::output::note(format_args!(
                    "--resolve {}:{}: the target is {}:{}; this entry is not used",
                    r.host, r.port, target.host, target.port
                ));
            }
        }
        Ok(Transport {
            protocol: if self.http2 {
                Protocol::Http2 {
                    streams: self.streams as usize,
                }
            } else {
                Protocol::Http1
            },
            keepalive: self.keepalive,
            tls,
            resolve: self.resolve.clone(),
        })
    }
}
