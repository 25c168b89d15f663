//! `napkin ab`: interleaved A/B runs of one scenario against two targets. Round r runs A then
//! B when r is odd (1st, 3rd, ...), B then A when even (A B B A A B ...), so that a machine
//! drifting slower or faster hits both sides alike; every run goes through `napkin load`'s
//! pipeline (`load::run_with_stop`) and is written to `--out-dir`; the rounds are compared
//! paired (Wilcoxon signed-rank on per-round differences, docs/reports.md). Exit 1 when B is
//! significantly worse than A beyond the tolerances.

mod server;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use loadgen::StopHandle;
use reports::compare::compare_paired;
use reports::compare_format::CompareFormat;
use reports::RunResult;

use super::compare::{parse_format, report, GateArgs};
use super::load::{LoadArgs, StopSignals};
use crate::exit::RunFailed;
use server::{free_port, ServerProcess, PORT_PLACEHOLDER};

/// Arguments of `napkin ab`.
#[derive(Debug, clap::Args)]
pub struct AbArgs {
    /// Scenario file (YAML); its `load:` block gives the defaults of the load flags.
    pub scenario: PathBuf,
    /// Base URL of target A (the baseline), e.g. http://127.0.0.1:8080.
    #[arg(long, value_name = "URL")]
    pub a: Option<String>,
    /// Base URL of target B (the candidate).
    #[arg(long, value_name = "URL")]
    pub b: Option<String>,
    /// Command that starts target A (run with `sh -c`; napkin waits until it answers and
    /// stops it at the end). `{port}` in it (and in --a) becomes a free port, also in env
    /// PORT; without --a the target is then http://127.0.0.1:{port}.
    #[arg(long, value_name = "CMD")]
    pub a_cmd: Option<String>,
    /// Command that starts target B (as --a-cmd).
    #[arg(long, value_name = "CMD")]
    pub b_cmd: Option<String>,
    /// Rounds: each runs A and B once, in alternating order. At least 2; for a verdict at
    /// --alpha 0.01 at least 8.
    #[arg(long, value_name = "N")]
    pub rounds: u32,
    /// Directory for the run files (a-01.json, b-01.json, ...) and the commands' logs;
    /// created if missing.
    #[arg(long, value_name = "DIR", default_value = "ab-runs")]
    pub out_dir: PathBuf,
    /// How long to wait for a started target to answer.
    #[arg(long, value_name = "D", default_value = "30s", value_parser = parse_duration)]
    pub ready_timeout: Duration,
    /// Run even when A and B are the same target (an A/A check of the gate's noise).
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub gate: GateArgs,
    /// table, markdown (a pull-request comment) or json.
    #[arg(long, short = 'f', default_value = "table", value_parser = parse_format)]
    pub format: CompareFormat,
    #[command(flatten)]
    pub load: LoadFlags,
}

/// The flags of `napkin load` that shape each run (as in `napkin load`).
#[derive(Debug, Clone, clap::Args)]
pub struct LoadFlags {
    /// Open model: total requests/s across actions (e.g. 2000 or 2K).
    #[arg(long, value_name = "R", conflicts_with = "concurrency")]
    pub rate: Option<String>,
    /// Open model: F x the estimated peak requests/s of the scenario (e.g. 1e-4).
    #[arg(long, value_name = "F", conflicts_with_all = ["rate", "concurrency"])]
    pub scale: Option<String>,
    /// Closed model: N users each looping request -> response.
    #[arg(long, value_name = "N")]
    pub concurrency: Option<u32>,
    /// Seed of round 1; round r uses seed + r - 1, the same for A and B (default 1).
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Each run, warm-up included (e.g. 10s): short runs, many rounds.
    #[arg(long, value_name = "D")]
    pub duration: Option<String>,
    /// Leading part of each run whose requests are sent but not counted.
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
    /// Generator threads (default: one per core).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    estimator::units::duration(s)
}

/// A or B.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    A,
    B,
}

impl Side {
    fn name(self) -> &'static str {
        match self {
            Side::A => "a",
            Side::B => "b",
        }
    }
}

/// The order of the runs: round r (1-based) runs A, B when r is odd and B, A when even.
pub fn schedule(rounds: u32) -> Vec<(u32, Side)> {
    (1..=rounds)
        .flat_map(|r| {
            let (first, second) = if r % 2 == 1 {
                (Side::A, Side::B)
            } else {
                (Side::B, Side::A)
            };
            [(r, first), (r, second)]
        })
        .collect()
}

/// One target: where it answers, and the process serving it when napkin started it.
struct Target {
    url: String,
    process: Option<ServerProcess>,
}

pub fn run(args: AbArgs, out: &mut dyn Write) -> anyhow::Result<u8> {
    if args.rounds < 2 {
        anyhow::bail!(
            "--rounds {}: an A/B needs at least 2 rounds (A B, then B A) so that drift cancels; \
             for a verdict at --alpha {} use at least {}",
            args.rounds,
            args.gate.alpha,
            reports::stats::pairs_needed(args.gate.alpha)
        );
    }
    let min_p = reports::stats::signed_rank_min_p(args.rounds as usize);
    if min_p >= args.gate.alpha {
        let _ = writeln!(
            std::io::stderr(),
            "warning: {} rounds cannot give a p-value below {min_p:.3}, so nothing can be \
             significant at --alpha {}; use at least {} rounds for a verdict",
            args.rounds,
            args.gate.alpha,
            reports::stats::pairs_needed(args.gate.alpha)
        );
    }
    let (a_url, a_port) = target_url("a", args.a.as_deref(), args.a_cmd.as_deref())?;
    let (b_url, b_port) = target_url("b", args.b.as_deref(), args.b_cmd.as_deref())?;
    check_distinct(&a_url, &b_url, args.force)?;
    // Bad scenario or flags are reported before any target is started.
    let scenario = estimator::load_file(&args.scenario, &[])?;
    super::load::settings::Settings::resolve(&load_args(&args, &a_url, None, 1), &scenario)?;
    std::fs::create_dir_all(&args.out_dir).with_context(|| {
        format!(
            "cannot create the output directory {}",
            args.out_dir.display()
        )
    })?;
    let a = start(Side::A, a_url, a_port, args.a_cmd.as_deref(), &args)?;
    let b = start(Side::B, b_url, b_port, args.b_cmd.as_deref(), &args)?;
    let pairs = run_rounds(&args, &a.url, &b.url)?;
    drop((a.process, b.process));
    let comparison = compare_paired(&pairs, args.gate.tolerance())?;
    report(&comparison, args.format, out)
}

/// The URL of a target (with `{port}` replaced) and the port picked for its command.
fn target_url(
    side: &str,
    url: Option<&str>,
    cmd: Option<&str>,
) -> anyhow::Result<(String, Option<u16>)> {
    let wants_port = cmd.is_some_and(|c| c.contains(PORT_PLACEHOLDER))
        || url.is_some_and(|u| u.contains(PORT_PLACEHOLDER));
    let port = if wants_port { Some(free_port()?) } else { None };
    let fill = |s: &str| match port {
        Some(p) => s.replace(PORT_PLACEHOLDER, &p.to_string()),
        None => s.to_string(),
    };
    let url = match (url, port) {
        (Some(u), _) => fill(u),
        (None, Some(p)) if cmd.is_some() => format!("http://127.0.0.1:{p}"),
        (None, _) if cmd.is_some() => anyhow::bail!(
            "--{side}-cmd needs --{side} URL (where its server answers), or {PORT_PLACEHOLDER} \
             in the command (napkin then picks a free port and targets http://127.0.0.1:PORT)"
        ),
        (None, _) => anyhow::bail!(
            "no target {}: give --{side} URL, or --{side}-cmd CMD to start it",
            side.to_uppercase()
        ),
    };
    loadgen::Target::parse(&url).with_context(|| format!("--{side}"))?;
    Ok((url, port))
}

/// Refuses A = B (the same scheme, host, port and path) unless `force`, then only warns.
fn check_distinct(a: &str, b: &str, force: bool) -> anyhow::Result<()> {
    let key = |u: &str| -> anyhow::Result<(String, u16, String)> {
        let t = loadgen::Target::parse(u)?;
        Ok((t.host.to_ascii_lowercase(), t.port, t.prefix))
    };
    if key(a)? != key(b)? {
        return Ok(());
    }
    if !force {
        anyhow::bail!(
            "--a and --b are the same target ({a}): an A/B of one target measures only noise; \
             give two different targets, or pass --force for an A/A check of the gate"
        );
    }
    let _ = writeln!(
        std::io::stderr(),
        "warning: A and B are the same target ({a}): this is an A/A check; any regression \
         reported is a false alarm"
    );
    Ok(())
}

fn start(
    side: Side,
    url: String,
    port: Option<u16>,
    cmd: Option<&str>,
    args: &AbArgs,
) -> anyhow::Result<Target> {
    let Some(cmd) = cmd else {
        return Ok(Target { url, process: None });
    };
    let cmd = match port {
        Some(p) => cmd.replace(PORT_PLACEHOLDER, &p.to_string()),
        None => cmd.to_string(),
    };
    let label = format!(
        "target {} (--{}-cmd)",
        side.name().to_uppercase(),
        side.name()
    );
    let log = args.out_dir.join(format!("{}-server.log", side.name()));
    let mut process = ServerProcess::start(&label, &cmd, port, &log)?;
    process.wait_ready(&url, args.ready_timeout)?;
    let _ = writeln!(
        std::io::stderr(),
        "{label} answers at {url} (log: {})",
        log.display()
    );
    Ok(Target {
        url,
        process: Some(process),
    })
}

/// `napkin load`'s arguments for one run.
fn load_args(args: &AbArgs, target: &str, out: Option<PathBuf>, round: u32) -> LoadArgs {
    let f = &args.load;
    LoadArgs {
        scenario: args.scenario.clone(),
        target: Some(target.to_string()),
        rate: f.rate.clone(),
        scale: f.scale.clone(),
        concurrency: f.concurrency,
        seed: Some(
            f.seed
                .unwrap_or(super::load::settings::DEFAULT_SEED)
                .wrapping_add(u64::from(round) - 1),
        ),
        duration: f.duration.clone(),
        warmup: f.warmup.clone(),
        connections: f.connections,
        timeout: f.timeout.clone(),
        think_time: f.think_time.clone(),
        out,
        threads: f.threads,
        ..LoadArgs::default()
    }
}

/// Runs the rounds in [`schedule`] order; returns (A, B) per complete round. Ctrl-C ends the
/// current run early and stops after it.
fn run_rounds(args: &AbArgs, a: &str, b: &str) -> anyhow::Result<Vec<(RunResult, RunResult)>> {
    let stop = StopHandle::new();
    let _signals = StopSignals::install(stop.clone());
    let mut runs: Vec<[Option<RunResult>; 2]> = vec![[None, None]; args.rounds as usize];
    let order = schedule(args.rounds);
    for (i, &(round, side)) in order.iter().enumerate() {
        if stop.is_stopped() {
            break;
        }
        let url = if side == Side::A { a } else { b };
        let path = args
            .out_dir
            .join(format!("{}-{round:02}.json", side.name()));
        let run = one_run(args, url, &path, round, &stop)?;
        let _ = writeln!(
            std::io::stderr(),
            "run {}/{} (round {round}, {}): {} -> {}",
            i + 1,
            order.len(),
            side.name().to_uppercase(),
            brief(&run),
            path.display()
        );
        runs[round as usize - 1][usize::from(side == Side::B)] = Some(run);
    }
    let pairs: Vec<(RunResult, RunResult)> = runs
        .into_iter()
        .filter_map(|[a, b]| Some((a?, b?)))
        .collect();
    if stop.is_stopped() {
        let _ = writeln!(
            std::io::stderr(),
            "interrupted: comparing the {} complete rounds",
            pairs.len()
        );
    }
    if pairs.is_empty() {
        return Err(RunFailed("interrupted before a round was complete".into()).into());
    }
    Ok(pairs)
}

/// One run through `napkin load`'s pipeline; its console output is dropped (ab prints one
/// line per run), its run file is written to `path` and read back.
fn one_run(
    args: &AbArgs,
    url: &str,
    path: &Path,
    round: u32,
    stop: &StopHandle,
) -> anyhow::Result<RunResult> {
    let load = load_args(args, url, Some(path.to_path_buf()), round);
    let mut console = Vec::new();
    super::load::run_with_stop(load, &mut console, stop)
        .with_context(|| format!("round {round}: the run against {url}"))?;
    Ok(reports::io::read_run(path)?)
}

/// `p50 212us, p99 2.10ms, 500.0 successful req/s, 0 errors`.
fn brief(run: &RunResult) -> String {
    let l = &run.all.latency_us;
    let ok = run.all.requests.saturating_sub(run.all.errors) as f64 / run.duration_s.max(1e-9);
    format!(
        "p50 {}, p99 {}, {} successful req/s, {} errors",
        reports::units::fmt_us(l.p50 as f64),
        reports::units::fmt_us(l.p99 as f64),
        reports::units::fmt_rps(ok).trim_end_matches("/s"),
        run.all.errors
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_alternate_their_order() {
        let order: Vec<String> = schedule(4)
            .iter()
            .map(|(r, s)| format!("{}{r}", s.name()))
            .collect();
        assert_eq!(order, ["a1", "b1", "b2", "a2", "a3", "b3", "b4", "a4"]);
    }
}
