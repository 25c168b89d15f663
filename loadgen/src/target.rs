//! The target base URL: parsed once at the edge (`http[s]://host:port[/prefix]`) so the engine
//! only sees a socket address, the `Host` header value, an optional path prefix and whether
//! to speak TLS.

use std::net::{SocketAddr, ToSocketAddrs};

use hyper::header::HeaderValue;

/// Why a target URL was rejected or could not be resolved.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TargetError {
    #[error("target `{url}` is not a valid URL: {reason}; expected e.g. http://127.0.0.1:8080")]
    Invalid { url: String, reason: String },
    #[error("target `{url}` uses scheme `{scheme}`; use http:// or https://")]
    Scheme { url: String, scheme: String },
    #[error("target host `{host}` could not be resolved: {reason}")]
    Resolve { host: String, reason: String },
}

/// A parsed `http://` or `https://` base URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The URL as given, for results.
    pub url: String,
    pub host: String,
    pub port: u16,
    /// `https://`: TLS, with SNI and certificate name from `host`.
    pub https: bool,
    /// Path prefix prepended to every request path, without a trailing `/` (often empty).
    pub prefix: String,
    /// Value of the `Host` header.
    pub authority: HeaderValue,
}

impl Target {
    /// Parses and checks a base URL; does not touch the network.
    pub fn parse(url: &str) -> Result<Target, TargetError> {
        let invalid = |reason: &str| TargetError::Invalid {
            url: url.to_string(),
            reason: reason.to_string(),
        };
        let uri: hyper::Uri = url
            .parse()
            .map_err(|e: hyper::http::uri::InvalidUri| invalid(&e.to_string()))?;
        let scheme = uri.scheme_str().ok_or_else(|| invalid("no scheme"))?;
        let https = scheme.eq_ignore_ascii_case("https");
        if !https && !scheme.eq_ignore_ascii_case("http") {
            return Err(TargetError::Scheme {
                url: url.to_string(),
                scheme: scheme.to_string(),
            });
        }
        let authority = uri.authority().ok_or_else(|| invalid("no host"))?;
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']');
        if host.is_empty() {
            return Err(invalid("no host"));
        }
        if uri.query().is_some() {
            return Err(invalid("a base URL cannot carry a query"));
        }
        let prefix = uri.path().trim_end_matches('/').to_string();
        let header = HeaderValue::from_str(authority.as_str()).map_err(|_| invalid("bad host"))?;
        Ok(Target {
            url: url.to_string(),
            host: host.to_string(),
            port: authority.port_u16().unwrap_or(if https { 443 } else { 80 }),
            https,
            prefix,
            authority: header,
        })
    }

    /// The socket addresses of the host (DNS lookup for names).
    pub fn resolve(&self) -> Result<Vec<SocketAddr>, TargetError> {
        let err = |reason: String| TargetError::Resolve {
            host: self.host.clone(),
            reason,
        };
        let addrs: Vec<SocketAddr> = (self.host.as_str(), self.port)
            .to_socket_addrs()
            .map_err(|e| err(e.to_string()))?
            .collect();
        if addrs.is_empty() {
            return Err(err("no addresses".to_string()));
        }
        Ok(addrs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_host_port_and_prefix() {
        let t = Target::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.prefix.as_str()),
            ("127.0.0.1", 8080, "")
        );
        assert_eq!(t.authority, "127.0.0.1:8080");
        let t = Target::parse("http://localhost/api/").unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.prefix.as_str()),
            ("localhost", 80, "/api")
        );
        let t = Target::parse("http://[::1]:9000").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("::1", 9000));
        assert!(!t.https);
        let t = Target::parse("https://example.com/v1").unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.https),
            ("example.com", 443, true)
        );
        assert_eq!(t.authority, "example.com");
    }

    #[test]
    fn rejects_bad_urls() {
        assert!(matches!(
            Target::parse("not a url"),
            Err(TargetError::Invalid { .. })
        ));
        assert!(matches!(
            Target::parse("127.0.0.1:80"),
            Err(TargetError::Invalid { .. }) | Err(TargetError::Scheme { .. })
        ));
        assert!(matches!(
            Target::parse("ftp://x"),
            Err(TargetError::Scheme { .. })
        ));
        assert!(matches!(
            Target::parse("/just/a/path"),
            Err(TargetError::Invalid { .. })
        ));
        assert!(matches!(
            Target::parse("http://h/?q=1"),
            Err(TargetError::Invalid { .. })
        ));
    }
}
