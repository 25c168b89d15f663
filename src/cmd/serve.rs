//! `napkin serve`: run the reference Twitter-like server (the `server` crate) until SIGINT or
//! SIGTERM, then drain in-flight requests and exit 0. Prints `listening on http://ADDR` (or
//! `https://` with `--tls-cert/--tls-key` or `--self-signed`) once seeded and ready, with the
//! real port when `--addr` asks for port 0; a self-signed certificate's PEM file is named on
//! the line before.

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use server::{App, Config, Fsync, ServerError, ServerTls, StorageConfig, Strategy};

use crate::exit::RunFailed;

/// Home timeline strategy (see docs/server.md).
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum TimelineArg {
    /// Fan-out on write into bounded home timelines (newest 800).
    Push,
    /// Merge followees' recent tweets at read time.
    Pull,
    /// Push below --celebrity-threshold followers, pull at or above it.
    Hybrid,
}

impl From<TimelineArg> for Strategy {
    fn from(t: TimelineArg) -> Strategy {
        match t {
            TimelineArg::Push => Strategy::Push,
            TimelineArg::Pull => Strategy::Pull,
            TimelineArg::Hybrid => Strategy::Hybrid,
        }
    }
}

/// When writes are durable (see docs/server.md).
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum FsyncArg {
    /// Each write is its own commit, synced before its answer.
    Always,
    /// Writes that arrive while a commit is syncing share the next commit (group commit).
    Batch,
}

impl From<FsyncArg> for Fsync {
    fn from(f: FsyncArg) -> Fsync {
        match f {
            FsyncArg::Always => Fsync::Always,
            FsyncArg::Batch => Fsync::Batch,
        }
    }
}

/// Arguments of `napkin serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on, HOST:PORT (a name such as `localhost` is resolved; port 0 picks
    /// a free port, printed at startup).
    #[arg(long, default_value = "127.0.0.1:8080", value_parser = parse_listen_addr)]
    pub addr: SocketAddr,
    /// Home timeline strategy.
    #[arg(long, value_enum, default_value = "push")]
    pub timeline: TimelineArg,
    /// Followers at which an author is pulled instead of pushed (hybrid).
    #[arg(long, default_value_t = Config::default().celebrity_threshold)]
    pub celebrity_threshold: u32,
    /// Lock shards of the in-memory store.
    #[arg(long, default_value_t = Config::default().shards)]
    pub shards: usize,
    /// Users to seed (ids 1..=N) [default: 10000]. With --data-dir, only a new store is
    /// seeded; giving a --seed-* flag for a store that holds data is refused.
    #[arg(long)]
    pub seed_users: Option<u32>,
    /// Followees per seeded user, chosen by Zipf popularity (id 1 most followed) [default: 50].
    #[arg(long)]
    pub seed_follows: Option<u32>,
    /// Tweets per seeded user [default: 10].
    #[arg(long)]
    pub seed_tweets: Option<u32>,
    /// Random seed of the generated graph [default: 42].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Keep users, follows, tweets and likes in a durable store in DIR (created if missing);
    /// a restart serves everything acknowledged before it. Without it, all is in memory.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// When writes are durable (with --data-dir) [default: batch].
    #[arg(long, value_enum, requires = "data_dir")]
    pub fsync: Option<FsyncArg>,
    /// Bytes of the cache of tweets and home timelines in front of the store, e.g. 64MiB
    /// (with --data-dir) [default: 256MiB].
    #[arg(long, value_name = "BYTES", value_parser = parse_cache_size, requires = "data_dir")]
    pub cache_size: Option<u64>,
    /// Log filter: error, warn, info, debug, trace (or a tracing filter like `server=debug`).
    #[arg(long, default_value = "info")]
    pub log_level: String,
    /// Largest request body in bytes (413 above).
    #[arg(long, default_value_t = Config::default().max_body_bytes)]
    pub max_body: usize,
    /// Open connections at most (further clients wait in the listen backlog).
    #[arg(long, default_value_t = Config::default().max_connections)]
    pub max_connections: usize,
    /// Serve HTTPS with this certificate chain (PEM); needs --tls-key.
    #[arg(
        long,
        value_name = "FILE",
        requires = "tls_key",
        conflicts_with = "self_signed"
    )]
    pub tls_cert: Option<PathBuf>,
    /// Private key (PEM) of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Serve HTTPS with a certificate generated at start for 127.0.0.1, ::1 and localhost; its
    /// PEM is written to --cert-out (default: a file in the temp directory, named at startup)
    /// for clients' --cacert.
    #[arg(long)]
    pub self_signed: bool,
    /// Where --self-signed writes its certificate (PEM).
    #[arg(long, value_name = "FILE", requires = "self_signed")]
    pub cert_out: Option<PathBuf>,
}

impl ServeArgs {
    fn config(&self) -> Config {
        let d = Config::default();
        let seed_given = self.seed_users.is_some()
            || self.seed_follows.is_some()
            || self.seed_tweets.is_some()
            || self.seed.is_some();
        let storage = self.data_dir.as_ref().map(|dir| StorageConfig {
            dir: dir.clone(),
            fsync: self.fsync.map_or(Fsync::Batch, Fsync::from),
            cache_bytes: self.cache_size.unwrap_or(server::DEFAULT_CACHE_BYTES),
            seed_given,
        });
        Config {
            timeline: self.timeline.into(),
            celebrity_threshold: self.celebrity_threshold,
            shards: self.shards,
            seed_users: self.seed_users.unwrap_or(d.seed_users),
            seed_follows: self.seed_follows.unwrap_or(d.seed_follows),
            seed_tweets: self.seed_tweets.unwrap_or(d.seed_tweets),
            seed: self.seed.unwrap_or(d.seed),
            max_body_bytes: self.max_body,
            max_connections: self.max_connections,
            storage,
            ..d
        }
    }
}

pub fn run(args: ServeArgs, out: &mut dyn Write) -> anyhow::Result<u8> {
    let filter = tracing_subscriber::EnvFilter::try_new(&args.log_level).with_context(|| {
        format!(
            "bad --log-level {:?}; use error, warn, info, debug or trace",
            args.log_level
        )
    })?;
    // A second init (tests running several commands in one process) keeps the first.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
    let config = args.config();
    config.validate()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(args.addr))
        .map_err(|e| {
            RunFailed(format!(
                "cannot listen on {}: {e}; pick another --addr (port 0 picks a free one)",
                args.addr
            ))
        })?;
    let addr = listener
        .local_addr()
        .context("cannot read the listening address")?;
    let (tls, written) = server_tls(&args, addr.port())?;
    let app = Arc::new(App::new(config).map_err(|e| match e {
        // A store that fails while opening could not be served: exit 3. A data dir that
        // cannot be used as given (locked, a file, foreign, incompatible) is bad input: 2.
        ServerError::Store(_) | ServerError::Io(_) => anyhow::Error::new(RunFailed(e.to_string())),
        other => anyhow::Error::new(other),
    })?);
    if let Some(path) = written {
        writeln!(
            out,
            "self-signed certificate for 127.0.0.1, ::1 and localhost written to {} (clients trust it with --cacert {})",
            path.display(),
            path.display()
        )?;
    }
    let scheme = if tls.is_some() { "https" } else { "http" };
    writeln!(out, "listening on {scheme}://{addr}")?;
    out.flush()?;
    runtime
        .block_on(server::serve_with_tls(
            listener,
            app,
            tls,
            shutdown_signal(),
        ))
        .map_err(|e| RunFailed(e.to_string()))?;
    Ok(crate::exit::OK)
}

/// The TLS settings of the flags: certificate files (bad ones exit 2, naming the file), or a
/// self-signed certificate whose PEM is written (atomically) where the log line says.
fn server_tls(args: &ServeArgs, port: u16) -> anyhow::Result<(Option<ServerTls>, Option<PathBuf>)> {
    if let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) {
        return Ok((Some(ServerTls::from_files(cert, key)?), None));
    }
    if !args.self_signed {
        return Ok((None, None));
    }
    let tls = ServerTls::self_signed()?;
    let path = args
        .cert_out
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join(format!("napkin-serve-{port}-cert.pem")));
    reports::io::write_atomic(&path, tls.certificate_pem().as_bytes())
        .with_context(|| format!("writing the self-signed certificate to {}", path.display()))?;
    Ok((Some(tls), Some(path)))
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot watch SIGTERM; stop with Ctrl-C");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// `--cache-size`: a positive byte size in napkin's units (`64MiB`, `1GB`, `1000000`).
fn parse_cache_size(text: &str) -> Result<u64, String> {
    match estimator::units::size(text)? {
        0 => Err("a cache of 0 bytes holds nothing; give a positive size such as 64MiB".into()),
        n => Ok(n),
    }
}

/// `HOST:PORT` to one socket address: an IP address as is, a name resolved (IPv4 preferred,
/// as `localhost` usually means 127.0.0.1 to the clients that will connect).
fn parse_listen_addr(text: &str) -> Result<SocketAddr, String> {
    use std::net::ToSocketAddrs;
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let addrs: Vec<SocketAddr> = text
        .to_socket_addrs()
        .map_err(|e| format!("{e}; write HOST:PORT, e.g. 127.0.0.1:8080 or localhost:0"))?
        .collect();
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or(addrs.first())
        .copied()
        .ok_or_else(|| {
            format!("{text} resolves to no address; write HOST:PORT, e.g. 127.0.0.1:8080")
        })
}

#[cfg(test)]
mod tests {
    use super::parse_listen_addr;

    #[test]
    fn listen_addresses_accept_ips_and_names() {
        assert_eq!(
            parse_listen_addr("127.0.0.1:0").unwrap().to_string(),
            "127.0.0.1:0"
        );
        let local = parse_listen_addr("localhost:8081").unwrap();
        assert!(local.ip().is_loopback(), "{local}");
        assert_eq!(local.port(), 8081);
        let err = parse_listen_addr("localhost").unwrap_err();
        assert!(err.contains("HOST:PORT"), "{err}");
    }

    #[test]
    fn cache_sizes_are_positive_byte_sizes() {
        use super::parse_cache_size;
        assert_eq!(parse_cache_size("64MiB"), Ok(64 << 20));
        assert_eq!(parse_cache_size("1000"), Ok(1000));
        assert!(parse_cache_size("0").unwrap_err().contains("0 bytes"));
        assert!(parse_cache_size("lots").is_err());
        assert!(parse_cache_size("5s").unwrap_err().contains("duration"));
    }
}
