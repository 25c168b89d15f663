//! `napkin load`: runs a scenario's traffic against a target and gates on its SLOs.
//!
//! The steps are separate so that each can be extended on its own: [`settings`] merges the
//! command line over the scenario's `load:` block and validates it (exit 2 on bad input),
//! [`source_for`] / [`schedule_for`] pick what to send and when, `loadgen::run` does the work,
//! [`result`] turns the outcome into a run file (SPEC section 5), [`display`] shows progress
//! and the final summary, [`output`] checks output paths up front and keeps a closed stdout
//! (`| head`) from failing the run.

pub mod display;
pub mod embedded;
pub mod output;
pub mod result;
pub mod settings;
pub mod transport;

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use loadgen::{ScheduleSpec, SourceFactory, StopHandle};

use crate::exit;
use settings::{Model, Settings};

/// Arguments of `napkin load`.
#[derive(Debug, Clone, clap::Args)]
pub struct LoadArgs {
    /// Scenario file (YAML); its `load:` block gives the defaults of every flag below.
    pub scenario: PathBuf,
    /// Base URL of the service under test, e.g. http://127.0.0.1:8080.
    #[arg(long, value_name = "URL")]
    pub target: Option<String>,
    /// Open model: total requests/s across actions (e.g. 2000 or 2K).
    #[arg(long, value_name = "R", conflicts_with = "concurrency")]
    pub rate: Option<String>,
    /// Open model: F x the estimated peak requests/s of the scenario (e.g. 1e-4).
    #[arg(long, value_name = "F", conflicts_with_all = ["rate", "concurrency"])]
    pub scale: Option<String>,
    /// Closed model: N users each looping request -> response.
    #[arg(long, value_name = "N")]
    pub concurrency: Option<u32>,
    /// Seed of every random choice (actions, keys, text, Poisson arrivals): the same seed
    /// gives the same request sequence.
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Whole run, warm-up included (e.g. 60s, 5min).
    #[arg(long, value_name = "D")]
    pub duration: Option<String>,
    /// Leading part of the run whose requests are sent but not counted.
    #[arg(long, value_name = "D")]
    pub warmup: Option<String>,
    /// Open model: keep-alive connections the requests are spread over.
    #[arg(long, value_name = "C")]
    pub connections: Option<u32>,
    /// Per request, connect included; slower requests count as timeout errors.
    #[arg(long, value_name = "D")]
    pub timeout: Option<String>,
    /// Closed model: pause of each user between a response and its next request.
    #[arg(long, value_name = "D")]
    pub think_time: Option<String>,
    /// Write the run result (JSON, SPEC section 5) here, atomically.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Write an HdrHistogram interval log (one line per action per second) here.
    #[arg(long, value_name = "FILE")]
    pub hlog: Option<PathBuf>,
    /// Generator threads (default: one per core).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// https:// targets: also trust the certificates in this PEM file (several per file, and
    /// the flag may repeat); the system's roots are always trusted.
    #[arg(long, value_name = "FILE")]
    pub cacert: Vec<PathBuf>,
    /// https:// targets: do not verify the server's certificate (said in the summary and kept
    /// in run.json). Never the default.
    #[arg(long)]
    pub insecure: bool,
    /// https:// targets: present this client certificate (PEM chain) for mutual TLS; needs
    /// --key.
    #[arg(long, value_name = "FILE")]
    pub cert: Option<PathBuf>,
    /// Private key (PEM) of --cert.
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// Connect to ADDR whenever the target is HOST:PORT, as curl does; URL, Host header, SNI
    /// and the certificate's name stay HOST. May repeat.
    #[arg(long, value_name = "HOST:PORT:ADDR")]
    pub resolve: Vec<String>,
    /// A new connection (and TLS handshake) for every request: measures connection setup.
    #[arg(long)]
    pub no_keepalive: bool,
    /// HTTP/2: ALPN h2 over https://, prior knowledge over http://.
    #[arg(long)]
    pub http2: bool,
    /// With --http2: concurrent streams per connection, as h2load's -m (default 1). Each
    /// stream carries one request at a time.
    #[arg(long, value_name = "N")]
    pub streams: Option<u32>,
    /// Without a target: serve the in-process reference server over HTTPS with a generated
    /// self-signed certificate, which the run trusts.
    #[arg(long)]
    pub embedded_tls: bool,
}

/// Runs `napkin load`, stopping early (with results) on Ctrl-C or SIGTERM.
pub fn run(args: LoadArgs, out: &mut dyn Write) -> anyhow::Result<u8> {
    let stop = StopHandle::new();
    let _signals = StopSignals::install(stop.clone());
    run_with_stop(args, out, &stop)
}

/// Runs `napkin load`; `stop` ends the run early (tests trigger it instead of a signal).
///
/// Output paths are checked and the target resolved before anything starts; the run file and
/// interval log are written before the summary is printed, and a closed stdout (`| head`)
/// neither fails the command nor changes its exit code.
pub fn run_with_stop(args: LoadArgs, out: &mut dyn Write, stop: &StopHandle) -> anyhow::Result<u8> {
    let out = &mut output::Tolerant::new(out);
    for (flag, path) in [("--out", &args.out), ("--hlog", &args.hlog)] {
        if let Some(path) = path {
            output::check_writable(flag, path)?;
        }
    }
    let scenario = estimator::load_file(&args.scenario, &[])?;
    let factory = source_for(&scenario)?;
    let settings = Settings::resolve(&args, &scenario)?;
    settings::check_slo_scopes(&scenario.load.slo, factory.actions())?;
    let schedule = schedule_for(&settings)?;
    let (target, embedded) = embedded::start_target(&settings, &scenario)?;
    let transport = settings
        .transport
        .build(&target, embedded.as_ref().and_then(|e| e.certificate_pem()))?;
    let plan = settings.plan(&target, schedule, transport)?;
    resolve_target(&plan)?;
    let probe = loadgen::probe(&plan)
        .map_err(|e| exit::RunFailed(format!("{e} (nothing was sent, no files were written)")))?;

    writeln!(
        out,
        "{}",
        display::banner(&scenario.name, &settings, &plan, factory.actions(), &probe)
    )?;
    let mut live = display::Live::start(args.hlog.as_deref())?;
    let outcome = loadgen::run(&plan, factory, &mut live, stop).map_err(|e| match e {
        loadgen::RunError::Plan(p) => anyhow::anyhow!(p),
        other => anyhow::Error::new(exit::RunFailed(other.to_string())),
    })?;
    let hlog_error = hlog_error(&args, live.finish(), &outcome);
    if let Some(server) = embedded {
        server.stop()?;
    }
    if outcome.deferred > 0 {
        output::note(format_args!(
            "deferred {} draws: their action's capture pool was still empty, so another action went",
            outcome.deferred
        ));
    }

    let mut run = result::to_run(&scenario, &settings, &plan, &outcome)?;
    run.slo = reports::slo::evaluate(&run, &scenario.load.slo);
    if let Some(path) = &args.out {
        let json = serde_json::to_vec_pretty(&run).context("serialising the run result")?;
        reports::io::write_atomic(path, &json)?;
    }
    display::summary(out, &run, &outcome)?;
    if let Some(path) = &args.out {
        writeln!(out, "run result written to {}", path.display())?;
    }
    if let Some(e) = hlog_error {
        return Err(e);
    }
    if outcome.all.successes() == 0 {
        return Err(exit::RunFailed(display::nothing_succeeded(&run)).into());
    }
    Ok(if run.slo.pass {
        exit::OK
    } else {
        exit::GATE_FAILED
    })
}

/// Fails fast (exit 3) when the target's host name does not resolve (and no `--resolve` entry
/// gives its address): every request would be a connect error, so there is no point in
/// running for the whole duration.
fn resolve_target(plan: &loadgen::RunPlan) -> anyhow::Result<()> {
    let target = &plan.target;
    match plan.addresses() {
        Ok(_) => Ok(()),
        Err(loadgen::TargetError::Resolve { host, reason }) => Err(exit::RunFailed(format!(
            "cannot resolve host {host} of target {}: {reason}; check the host name in --target \
             or load.target (nothing was sent, no files were written)",
            target.url
        ))
        .into()),
        Err(e) => Err(e.into()),
    }
}

/// The interval log's failure, if any (it is reported after the run file is written).
fn hlog_error(
    args: &LoadArgs,
    finished: anyhow::Result<()>,
    outcome: &loadgen::Outcome,
) -> Option<anyhow::Error> {
    let path = args.hlog.as_deref()?;
    if let Some(e) = &outcome.sink_error {
        return Some(anyhow::anyhow!(
            "writing the interval log {}: {e}",
            path.display()
        ));
    }
    finished
        .err()
        .map(|e| e.context(format!("writing the interval log {}", path.display())))
}

/// What to send: the scenario's traffic (docs/traffic.md): the estimate's mix, compiled
/// templates, key spaces and capture pools.
pub fn source_for(scenario: &estimator::Scenario) -> anyhow::Result<Arc<dyn SourceFactory>> {
    let factory = loadgen::traffic::ScenarioSource::from_scenario(scenario)?;
    Ok(Arc::new(factory))
}

/// When to send (open model): a constant rate or the `load.stages` profile, with uniform or
/// Poisson arrivals.
pub fn schedule_for(settings: &Settings) -> anyhow::Result<Option<Arc<dyn ScheduleSpec>>> {
    match settings.model {
        Model::Open { rate } => {
            let rate = settings.stages.is_empty().then_some(rate);
            let schedule = loadgen::arrivals::build_schedule(
                settings.arrivals,
                &settings.stages,
                rate,
                settings.seed,
            )?;
            Ok(Some(schedule))
        }
        Model::Closed { .. } => Ok(None),
    }
}

/// Stops the run on SIGINT (Ctrl-C) or SIGTERM (what CI runners and Kubernetes send) while
/// alive: the run then ends as if interrupted, with its results written. The handlers are
/// registered before `install` returns, so a signal sent once the banner is printed is never
/// missed. A second signal exits at once (code 130), without results.
struct StopSignals {
    done: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl StopSignals {
    fn install(stop: StopHandle) -> Option<StopSignals> {
        use tokio::signal::unix::{signal, SignalKind};
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .ok()?;
        let (mut int, mut term) = {
            let _ctx = rt.enter();
            (
                signal(SignalKind::interrupt()).ok()?,
                signal(SignalKind::terminate()).ok()?,
            )
        };
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            rt.block_on(async move {
                tokio::pin!(rx);
                for signals in 1.. {
                    tokio::select! {
                        Some(()) = int.recv() => {}
                        Some(()) = term.recv() => {}
                        _ = &mut rx => return,
                    }
                    if signals > 1 {
                        // A second signal during the grace: the user wants out now.
                        output::note(format_args!("second signal: exiting without results"));
                        std::process::exit(130);
                    }
                    stop.stop();
                }
            })
        });
        Some(StopSignals {
            done: Some(tx),
            thread: Some(thread),
        })
    }
}

impl Drop for StopSignals {
    fn drop(&mut self) {
        drop(self.done.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
