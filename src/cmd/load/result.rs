//! The engine's outcome as a run file (SPEC section 5 plus documented extensions): histograms
//! embedded losslessly, one scope per action and `all`. The SLO block is filled in by the
//! caller once the run is built (the gate reads the run, not the engine).
//!
//! A shard's run file describes its own part (SPEC section 10): its share of the offered rate
//! (`target_rps` = the run's / N), of the connections or users, its own counts; the `shard`
//! object says which part of which run it is, so that `napkin merge` adds the parts up.

use std::collections::BTreeMap;

use anyhow::Context;
use estimator::Scenario;
use loadgen::{ActionTotals, Outcome, RunPlan};
use reports::{
    ErrorCounts, RunResult, ScopeResult, ShardInfo, SloOutcome, TimelinePoint, TlsSummary,
    RUN_FORMAT,
};

use super::settings::{Model, Settings};

/// Builds the run result (without SLO checks).
pub fn to_run(
    scenario: &Scenario,
    settings: &Settings,
    plan: &RunPlan,
    outcome: &Outcome,
) -> anyhow::Result<RunResult> {
    let mut actions = BTreeMap::new();
    for a in &outcome.actions {
        actions.insert(a.info.name.clone(), scope(&a.info.name, &a.totals)?);
    }
    let shape = Shape::of(settings);
    let mut all = scope("all", &outcome.all)?;
    all.set_connect(&outcome.connections.connect)
        .context("encoding the connect histogram")?;
    let shard = settings.shard;
    let mut run = RunResult {
        format: RUN_FORMAT.to_string(),
        scenario: scenario.name.clone(),
        target: plan.target.url.clone(),
        model: shape.model.to_string(),
        arrivals: shape.arrivals.to_string(),
        target_rps: shape.target_rps,
        started_at: humantime::format_rfc3339_millis(outcome.started_at).to_string(),
        duration_s: outcome.measured.as_secs_f64(),
        requests: outcome.all.requests,
        achieved_rps: outcome.achieved_rps(),
        dropped: outcome.dropped,
        saturated: false,
        send_lag_us: (!outcome.send_lag.is_empty())
            .then(|| reports::histogram::stats(&outcome.send_lag)),
        connections_busy: busy_share(&shape, plan, outcome),
        protocol: plan.transport.protocol.name().to_string(),
        tls: outcome.connections.tls.as_ref().map(|t| TlsSummary {
            version: t.version.clone(),
            cipher: t.cipher.clone(),
            alpn: t.alpn.clone(),
            resumed: outcome.connections.resumed,
        }),
        insecure: plan.transport.tls.as_ref().is_some_and(|t| t.insecure()),
        connections_opened: outcome.connections.opened,
        interrupted: outcome.interrupted,
        errors: errors(&outcome.all.errors),
        all,
        actions,
        timeline: outcome
            .timeline
            .iter()
            .map(|p| timeline_point(p, &outcome.actions))
            .collect(),
        slo: SloOutcome::default(),
        settings: run_settings(settings, &shape, plan, outcome),
        shard: settings.run_id.as_ref().map(|run_id| ShardInfo {
            index: Some(shard.index()),
            count: shard.count(),
            run_id: run_id.clone(),
            ..ShardInfo::default()
        }),
    };
    run.saturated = reports::saturation::is_saturated(&run);
    Ok(run)
}

/// The load model's fields of a run file: a shard's part of the rate, connections or users.
struct Shape {
    model: &'static str,
    arrivals: &'static str,
    target_rps: Option<f64>,
    connections: Option<u32>,
    concurrency: Option<u32>,
}

impl Shape {
    fn of(settings: &Settings) -> Shape {
        let shard = settings.shard;
        let part = |total: u32| shard.share(total as usize) as u32;
        match settings.model {
            Model::Open { rate } => Shape {
                model: "open",
                arrivals: match settings.arrivals {
                    estimator::Arrivals::Uniform => "uniform",
                    estimator::Arrivals::Poisson => "poisson",
                },
                target_rps: Some(rate / f64::from(shard.count())),
                connections: Some(part(settings.connections)),
                concurrency: None,
            },
            Model::Closed { users, .. } => Shape {
                model: "closed",
                arrivals: "none",
                target_rps: None,
                connections: None,
                concurrency: Some(part(users)),
            },
        }
    }
}

/// Open model: the share of the window the lanes (connections x HTTP/2 streams, each with one
/// request at a time) spent waiting on the target.
fn busy_share(shape: &Shape, plan: &RunPlan, outcome: &Outcome) -> Option<f64> {
    let streams = plan.transport.protocol.streams() as u32;
    match (shape.connections, outcome.measured.as_secs_f64()) {
        (Some(c), w) if c > 0 && w > 0.0 => {
            Some(outcome.busy.as_secs_f64() / (f64::from(c * streams) * w))
        }
        _ => None,
    }
}

/// The `settings` block: how the run was made, and its counts beyond the SPEC's.
fn run_settings(
    settings: &Settings,
    shape: &Shape,
    plan: &RunPlan,
    outcome: &Outcome,
) -> reports::Settings {
    let http2 = matches!(plan.transport.protocol, loadgen::Protocol::Http2 { .. });
    reports::Settings {
        scenario_file: Some(settings.scenario_file.display().to_string()),
        connections: shape.connections,
        concurrency: shape.concurrency,
        warmup_s: settings.warmup.as_secs_f64(),
        timeout_s: plan.timeout.as_secs_f64(),
        seed: Some(plan.seed),
        late: outcome.late,
        late_idle: (shape.model == "open").then_some(outcome.late_idle),
        deferred: outcome.deferred,
        offered: outcome.offered,
        unsent: 0,
        unfinished: outcome.unfinished,
        mix: outcome
            .actions
            .iter()
            .map(|a| (a.info.name.clone(), a.info.weight))
            .collect(),
        start_at: settings
            .start_at
            .map(|t| humantime::format_rfc3339_millis(t).to_string()),
        start_lag_us: settings
            .start_at
            .and(outcome.start_lag)
            .map(|lag| lag.micros),
        streams: http2.then_some(plan.transport.protocol.streams() as u32),
        no_keepalive: !plan.transport.keepalive,
    }
}

/// A timeline point with its interval histograms (already encoded by the engine) in base64.
fn timeline_point(p: &loadgen::TimelinePoint, actions: &[loadgen::ActionOutcome]) -> TimelinePoint {
    let b64 = |bytes: &[u8]| reports::histogram::base64_of(bytes);
    TimelinePoint {
        t_s: p.t_s,
        requests: p.requests,
        errors: p.errors,
        dropped: p.dropped,
        p50_us: p.p50_us,
        p99_us: p.p99_us,
        histogram: b64(&p.histograms.all),
        action_histograms: actions
            .iter()
            .zip(&p.histograms.actions)
            .filter(|(_, h)| !h.is_empty())
            .map(|(a, h)| (a.info.name.clone(), b64(h)))
            .collect(),
    }
}

fn scope(name: &str, t: &ActionTotals) -> anyhow::Result<ScopeResult> {
    ScopeResult::from_histograms(&t.latency, &t.service, t.requests, errors(&t.errors))
        .with_context(|| format!("encoding the histograms of `{name}`"))
}

fn errors(e: &loadgen::ErrorCounts) -> ErrorCounts {
    ErrorCounts {
        total: e.total(),
        connect: e.connect,
        timeout: e.timeout,
        io: e.io,
        status: e.status.iter().map(|(s, n)| (s.to_string(), *n)).collect(),
        capture: e.capture,
        unfinished: e.unfinished,
        tls: e.tls.values().sum(),
        tls_reasons: e
            .tls
            .iter()
            .map(|(r, n)| (r.slug().to_string(), *n))
            .collect(),
    }
}
