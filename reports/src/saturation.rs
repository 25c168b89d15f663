//! Saturation: whether an open-model run got the load it asked for, and if not, which side
//! could not keep up. A load test is mostly run to find where a target stops keeping up, so
//! this is where a run's numbers most need to be honest and explained in words.
//!
//! - A run is **saturated** (SPEC section 5) when its achieved rate (responses within the
//!   window per second) fell more than [`SHORTFALL`] below the offered rate, or when it
//!   dropped requests (intended but never sent). Closed-model runs are never saturated: they
//!   offer what they get.
//! - Its **bottleneck** is the side that could not keep up. Each connection carries one
//!   request at a time, so the share of the window the connections spent waiting on the
//!   target, `busy` = time from send to outcome within the window, summed over connections /
//!   (connections x window) (`connections_busy` in the run file), tells them apart: a
//!   target that cannot keep up holds every connection (busy near 1) while sends queue behind
//!   it; a generator that cannot keep up sends late although its connections sit idle (busy
//!   low, service time low). [`GENERATOR_BUSY`] is the line between them, and the generator
//!   is only blamed when it actually sent late or dropped requests: at the knee a target can
//!   fall short while every send went out on time. When every connection was busy but each
//!   response was quick, the connections themselves may be the limit: the explanation says so.

use crate::error::ReportError;
use crate::run::RunResult;
use crate::summary::decode_or_empty;
use crate::units::{fmt_count, fmt_pct, fmt_rps, fmt_us};

/// The achieved rate may fall this far below the offered rate before a run is saturated.
pub const SHORTFALL: f64 = 0.02;

/// Below this share of the window spent waiting on the target, a saturated run is the
/// generator's doing.
pub const GENERATOR_BUSY: f64 = 0.5;

/// Which side could not keep up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Bottleneck {
    Target,
    Generator,
}

impl Bottleneck {
    pub fn as_str(self) -> &'static str {
        match self {
            Bottleneck::Target => "target",
            Bottleneck::Generator => "generator",
        }
    }
}

/// Why a saturated run fell short.
#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    pub bottleneck: Bottleneck,
    /// Share of the window the connections spent waiting on the target (0..1+).
    pub busy: f64,
    /// One or two sentences for people.
    pub explanation: String,
}

/// The bottleneck of a capacity step that failed (SPEC section 8): the generator when it could
/// not send on time by itself (its connections were mostly idle, `busy` below
/// [`GENERATOR_BUSY`]) while the target's service times stayed within the SLO's latency
/// limits; otherwise the target.
pub fn capacity_bottleneck(run: &RunResult, spec: &estimator::SloSpec) -> Bottleneck {
    if generator_was_late(run) && crate::slo::service_within(run, spec) {
        Bottleneck::Generator
    } else {
        Bottleneck::Target
    }
}

/// Sends later than 1 ms make up at least this share of the requests before the generator
/// counts as late.
pub const LATE_SHARE: f64 = 0.01;

/// The generator could not send on time by itself: it sent late or dropped requests
/// ([`LATE_SHARE`]) while its connections were mostly idle (`busy` below
/// [`GENERATOR_BUSY`]), so the lateness was not queueing behind the target's responses. A
/// target that falls short at the knee, answering late while every send went out on time,
/// is the target's doing even with idle connections.
fn generator_was_late(run: &RunResult) -> bool {
    let busy = run.connections_busy.unwrap_or(1.0);
    let late = run.settings.late as f64 >= LATE_SHARE * run.requests.max(1) as f64;
    busy < GENERATOR_BUSY && (late || run.dropped > 0)
}

/// The offered rate of an open-model run: offered requests per second of the window (the
/// average of a staged profile), else its target rate.
pub fn offered_rps(run: &RunResult) -> Option<f64> {
    match run.settings.offered {
        Some(n) if run.duration_s > 0.0 => Some(n as f64 / run.duration_s),
        _ => run.target_rps,
    }
}

/// SPEC section 5: open model, and the achieved rate fell more than 2% short or requests
/// were dropped.
pub fn is_saturated(run: &RunResult) -> bool {
    if run.model != "open" {
        return false;
    }
    let short = offered_rps(run).is_some_and(|o| run.achieved_rps < o * (1.0 - SHORTFALL));
    run.dropped > 0 || short
}

/// The bottleneck of a saturated run (`None` when it is not saturated).
pub fn assess(run: &RunResult) -> Result<Option<Assessment>, ReportError> {
    if !run.saturated {
        return Ok(None);
    }
    let service = decode_or_empty("all.service_histogram", &run.all.service_histogram)?;
    let connections = f64::from(run.settings.connections.unwrap_or(1).max(1));
    let busy = match run.connections_busy {
        Some(b) => b,
        // Runs without the measured share: estimate it from the responses' service times.
        None if run.duration_s > 0.0 => {
            service.mean() * service.len() as f64 / 1e6 / (connections * run.duration_s)
        }
        None => 0.0,
    };
    let offered = offered_rps(run).unwrap_or(0.0);
    let shortfall = if run.dropped > 0 {
        format!(
            "{} of {} offered requests were never sent",
            fmt_count(run.dropped),
            fmt_count(run.settings.offered.unwrap_or(run.requests + run.dropped))
        )
    } else {
        format!(
            "achieved {} of {} offered",
            fmt_rps(run.achieved_rps),
            fmt_rps(offered)
        )
    };
    let service_p99 = fmt_us(run.all.service_us.p99 as f64);
    let lag = run
        .send_lag_us
        .map(|l| format!("send lag p99 {}", fmt_us(l.p99 as f64)))
        .unwrap_or_else(|| "sends were late".to_string());
    let (bottleneck, explanation) = if generator_was_late(run) {
        (
            Bottleneck::Generator,
            format!(
                "saturated: {shortfall}. The generator could not keep up: {lag} while service \
                 time p99 stayed {service_p99} and the connections waited on the target only {} \
                 of the time; give it more --threads or cores, or split the load over shards.",
                fmt_pct(busy)
            ),
        )
    } else {
        let per_conn = if service.is_empty() {
            0.0
        } else {
            1e6 / service.mean()
        };
        let ceiling = per_conn * connections;
        let hint = if ceiling > 0.0 && ceiling < offered * 1.1 {
            format!(
                " {} connections at a mean service time of {} carry at most {}: if the target \
                 serves requests in parallel, rerun with more --connections to tell.",
                connections,
                fmt_us(service.mean()),
                fmt_rps(ceiling)
            )
        } else {
            String::new()
        };
        (
            Bottleneck::Target,
            format!(
                "saturated: {shortfall}. The target could not keep up: service time p99 grew \
                 to {service_p99} and the connections were waiting on it {} of the time.{hint}",
                fmt_pct(busy.min(1.0))
            ),
        )
    };
    Ok(Some(Assessment {
        bottleneck,
        busy,
        explanation,
    }))
}
