//! `napkin load`: runs a scenario's traffic against a target and gates on its SLOs.
//!
//! The steps are separate so that each can be extended on its own: [`settings`] merges the
//! command line over the scenario's `load:` block and validates it (exit 2 on bad input),
//! [`source_for`] / [`schedule_for`] pick what to send and when, [`session`] aims the traffic
//! at a target (starting the [`embedded`] server when none is given) and runs it through
//! `loadgen::run`, [`result`] turns the outcome into a run file (SPEC section 5), [`display`]
//! shows progress and the final summary, [`output`] checks output paths up front and keeps a
//! closed stdout (`| head`) from failing the run, [`distributed`] reads the flags of a sharded
//! run. `napkin capacity` reuses the session.

pub mod display;
pub mod distributed;
pub mod embedded;
pub mod output;
pub mod result;
pub mod session;
pub mod settings;
pub mod transport;

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use loadgen::{ScheduleSpec, SourceFactory, StopHandle};
use reports::RunResult;

use crate::exit;
use output::{Destination, Outputs};
use session::{Ran, Session};
use settings::{Model, Settings};

/// Arguments of `napkin load`. `Default` is "nothing given" (other commands build these to run
/// load through the same pipeline).
#[derive(Debug, Clone, Default, clap::Args)]
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
    /// Write the run result (JSON, SPEC section 5) here, atomically; `-` writes it to stdout
    /// and nothing else there (the summary goes to stderr), e.g. for collecting results from
    /// container logs.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Write an HdrHistogram interval log (one line per action per second) here; `-` for
    /// stdout (then the summary goes to stderr).
    #[arg(long, value_name = "FILE")]
    pub hlog: Option<PathBuf>,
    /// Generator threads (default: one per core).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Run shard I of an N-way distributed run (0 <= I < N): request k of the schedule is
    /// shard k mod N's; connections and users are divided, the rate is the whole run's. Give
    /// every shard the same flags but I (docs/distributed.md).
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Start the run (its warm-up) at this wall-clock time, RFC 3339, e.g.
    /// 2026-12-01T12:00:00Z: shards given the same time start together (clocks synchronised
    /// by NTP). It may have passed by at most the warm-up.
    #[arg(long, value_name = "TIME")]
    pub start_at: Option<String>,
    /// Id of the distributed run, recorded in each shard's result so `napkin merge` can tell
    /// runs apart (default: scenario-seedS-Nshards-STARTTIME).
    #[arg(long, value_name = "ID", requires = "shard")]
    pub run_id: Option<String>,
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
/// neither fails the command nor changes its exit code. When an output goes to stdout
/// (`--out -`), `out` carries that output alone and people's text goes to stderr.
pub fn run_with_stop(args: LoadArgs, out: &mut dyn Write, stop: &StopHandle) -> anyhow::Result<u8> {
    let outputs = Outputs::check(args.out.as_deref(), args.hlog.as_deref())?;
    if outputs.takes_stdout() {
        let mut stderr = std::io::stderr();
        let human = &mut output::Tolerant::new(&mut stderr);
        run_load(&args, &outputs, human, out, stop)
    } else {
        let mut nowhere = std::io::sink();
        let human = &mut output::Tolerant::new(out);
        run_load(&args, &outputs, human, &mut nowhere, stop)
    }
}

/// [`run_with_stop`] once the outputs are known: `out` is for people, `stdout` for an output
/// sent to standard output.
fn run_load(
    args: &LoadArgs,
    outputs: &Outputs,
    out: &mut dyn Write,
    stdout: &mut dyn Write,
    stop: &StopHandle,
) -> anyhow::Result<u8> {
    let (session, settings) = Session::open(args)?;
    writeln!(
        out,
        "{}",
        display::banner(
            &session.scenario.name,
            &settings,
            &session.plan(&settings)?,
            session.factory.actions(),
            &session.probe
        )
    )?;
    if let Some(line) = distributed::announcement(&settings, std::time::SystemTime::now()) {
        writeln!(out, "{line}")?;
        out.flush()?;
    }
    let mut live = display::Live::start(outputs.hlog.as_ref().map(Destination::path))?;
    let ran = session.run(&settings, &mut live, stop);
    let finished = live.finish();
    let slo = session.scenario.load.slo.clone();
    session.close()?;
    let Ran { mut run, outcome } = ran?;
    let hlog_error = hlog_error(args, finished, &outcome);
    if outcome.deferred > 0 {
        output::note(format_args!(
            "deferred {} draws: their action's capture pool was still empty, so another action went",
            outcome.deferred
        ));
    }
    run.slo = reports::slo::evaluate(&run, &slo);
    write_run(&run, outputs.run.as_ref(), stdout)?;
    display::summary(out, &run, &outcome)?;
    match &outputs.run {
        Some(Destination::File(path)) => writeln!(out, "run result written to {}", path.display())?,
        Some(Destination::Stdout) => writeln!(out, "run result written to stdout")?,
        None => {}
    }
    if let Some(e) = hlog_error {
        return Err(e);
    }
    if outcome.all.successes() == 0 {
        return Err(exit::RunFailed(display::nothing_succeeded(&run)).into());
    }
    Ok(gate(&run, &settings, out)?)
}

/// The exit code of a run that was carried out: 1 when its SLO failed. A shard of a
/// distributed run does not gate on its own (its min_rps, say, is a part of the run's): the
/// run is gated once, by `napkin check` on the merged result.
fn gate(run: &RunResult, settings: &Settings, out: &mut dyn Write) -> std::io::Result<u8> {
    if run.slo.pass {
        return Ok(exit::OK);
    }
    if !settings.shard.is_whole() {
        writeln!(
            out,
            "(these SLO checks cover shard {} alone; the run is gated by `napkin check` on the \
             merged result, so this shard exits 0)",
            settings.shard
        )?;
        return Ok(exit::OK);
    }
    Ok(exit::GATE_FAILED)
}

/// Writes the run result to its file (atomically) or to standard output (whole, at once).
fn write_run(
    run: &RunResult,
    to: Option<&Destination>,
    stdout: &mut dyn Write,
) -> anyhow::Result<()> {
    let Some(to) = to else { return Ok(()) };
    let mut json = serde_json::to_vec_pretty(run).context("serialising the run result")?;
    json.push(b'\n');
    match to {
        Destination::File(path) => reports::io::write_atomic(path, &json)?,
        Destination::Stdout => {
            stdout
                .write_all(&json)
                .and_then(|()| stdout.flush())
                .context("writing the run result to stdout")?;
        }
    }
    Ok(())
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
pub(crate) struct StopSignals {
    done: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl StopSignals {
    pub(crate) fn install(stop: StopHandle) -> Option<StopSignals> {
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
