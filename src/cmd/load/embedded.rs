//! The reference server started in-process by `napkin load` (and every command that runs load
//! through it) when the scenario names no target (neither `--target` nor `load.target`), so
//! `napkin load scenarios/twitter.yaml` is a whole demo on a fresh machine. The server gets its own thread and runtime, is seeded to match the
//! scenario's `user` key space before the first request, and is stopped (drained) after the run.
//! With `--embedded-tls` it serves HTTPS with a certificate generated at start, which the run
//! trusts, so the TLS and HTTP/2 path is testable offline.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::Context;
use estimator::{KeyDistribution, Scenario};
use tokio::sync::oneshot;

use super::settings::{Settings, TargetChoice};
use crate::exit;

/// Users seeded when the scenario has no `user` key space.
pub const DEFAULT_USERS: u32 = 1_000;
/// Followees per seeded user: enough for non-trivial home timelines, quick to seed.
pub const FOLLOWS_PER_USER: u32 = 20;
/// Tweets per seeded user.
pub const TWEETS_PER_USER: u32 = 5;

/// What the embedded server is seeded with.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SeedPlan {
    pub users: u32,
    pub follows: u32,
    pub tweets: u32,
    /// Popularity exponent of followees: the `user` key space's zipf exponent, so the hot ids
    /// of the load generator are the server's celebrities.
    pub zipf_exponent: f64,
}

impl SeedPlan {
    /// Users = the `user` key space's count (ids 1..=count on both sides).
    pub fn for_scenario(scenario: &Scenario) -> anyhow::Result<SeedPlan> {
        let space = scenario.load.keys.iter().find(|k| k.name == "user");
        let users = match space {
            None => DEFAULT_USERS,
            Some(k) => u32::try_from(k.count).map_err(|_| {
                anyhow::anyhow!(
                    "`load.keys.user.count` is {}, more users than the embedded reference server \
                     can seed; lower it or pass --target URL of a running server",
                    k.count
                )
            })?,
        };
        let zipf_exponent = match space.map(|k| k.distribution) {
            Some(KeyDistribution::Zipf { exponent }) => exponent,
            _ => 1.0,
        };
        Ok(SeedPlan {
            users,
            follows: FOLLOWS_PER_USER,
            tweets: TWEETS_PER_USER,
            zipf_exponent,
        })
    }
}

/// The target of a run: the URL of the settings, or the reference server started in-process
/// (seeded to the scenario's key space) when they name none. Called once the settings are
/// valid, so bad input is reported before any seeding.
pub fn start_target(
    settings: &Settings,
    scenario: &Scenario,
) -> anyhow::Result<(loadgen::Target, Option<EmbeddedServer>)> {
    match &settings.target {
        TargetChoice::Url(target) => Ok((target.clone(), None)),
        TargetChoice::Embedded => {
            let plan = SeedPlan::for_scenario(scenario)?;
            let tls = settings.transport.embedded_tls;
            let server = EmbeddedServer::start_with(plan, tls)
                .map_err(|e| exit::RunFailed(format!("{e:#}")))?;
            super::output::note(format_args!(
                "no target given: started the reference server in-process at {} ({})",
                server.url(),
                server.seed_report()
            ));
            Ok((loadgen::Target::parse(server.url())?, Some(server)))
        }
    }
}

/// A running in-process reference server; [`EmbeddedServer::stop`] drains and joins it
/// (dropping it stops it too).
#[derive(Debug)]
pub struct EmbeddedServer {
    url: String,
    seed_report: String,
    /// The self-signed certificate it serves, over TLS.
    cert_pem: Option<String>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<Result<(), server::ServerError>>>,
}

impl EmbeddedServer {
    /// Seeds the server (blocking until done) and starts serving on a free loopback port.
    pub fn start(plan: SeedPlan) -> anyhow::Result<EmbeddedServer> {
        EmbeddedServer::start_with(plan, false)
    }

    /// [`EmbeddedServer::start`], over HTTPS with a new self-signed certificate when `tls`.
    pub fn start_with(plan: SeedPlan, tls: bool) -> anyhow::Result<EmbeddedServer> {
        let tls = if tls {
            Some(server::ServerTls::self_signed().context("starting the embedded server's TLS")?)
        } else {
            None
        };
        let cert_pem = tls.as_ref().map(|t| t.certificate_pem().to_string());
        let config = server::Config {
            seed_users: plan.users,
            seed_follows: plan.follows,
            seed_tweets: plan.tweets,
            seed_zipf_exponent: plan.zipf_exponent,
            drain_timeout: Duration::from_secs(1),
            ..server::Config::default()
        };
        let app =
            Arc::new(server::App::new(config).context("starting the embedded reference server")?);
        let seed_report = app.seed_report().to_string();
        let listener = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.set_nonblocking(true).map(|()| l))
            .context("binding the embedded reference server to 127.0.0.1")?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        let url = format!("{scheme}://{}", listener.local_addr()?);
        let (tx, rx) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("napkin-embedded-server".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?;
                runtime.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener)?;
                    server::serve_with_tls(listener, app, tls, async {
                        let _ = rx.await;
                    })
                    .await
                })
            })
            .context("starting the embedded reference server's thread")?;
        Ok(EmbeddedServer {
            url,
            seed_report,
            cert_pem,
            shutdown: Some(tx),
            thread: Some(thread),
        })
    }

    /// Base URL, e.g. `http://127.0.0.1:40123`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The certificate (PEM) it serves over HTTPS; `None` over plain HTTP.
    pub fn certificate_pem(&self) -> Option<&str> {
        self.cert_pem.as_deref()
    }

    /// What seeding built, for the start-of-run message.
    pub fn seed_report(&self) -> &str {
        &self.seed_report
    }

    /// Stops accepting, drains in-flight requests and waits for the server thread.
    pub fn stop(mut self) -> anyhow::Result<()> {
        self.shutdown_and_join()
    }

    fn shutdown_and_join(&mut self) -> anyhow::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        match self.thread.take().map(JoinHandle::join) {
            None => Ok(()),
            Some(Ok(result)) => result.context("embedded reference server"),
            Some(Err(_)) => anyhow::bail!("the embedded reference server's thread panicked"),
        }
    }
}

impl Drop for EmbeddedServer {
    fn drop(&mut self) {
        let _ = self.shutdown_and_join();
    }
}
