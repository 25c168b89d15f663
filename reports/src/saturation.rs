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
/// not send on time by itself ([`generator_was_late`]) while the target's service times
/// stayed within the SLO's latency limits; otherwise the target.
pub fn capacity_bottleneck(run: &RunResult, spec: &estimator::SloSpec) -> Bottleneck {
    let busy = busy_share(run).unwrap_or(1.0);
    if generator_was_late(run, busy) && crate::slo::service_within(run, spec) {
        Bottleneck::Generator
    } else {
        Bottleneck::Target
    }
}

/// The generator's own late sends make up at least this share of the requests (and at least
/// [`LATE_MIN`] of them) before the generator counts as late.
pub const LATE_SHARE: f64 = 0.01;
pub const LATE_MIN: u64 = 10;

/// The generator could not send on time by itself: while its connections were mostly idle
/// (`busy` below [`GENERATOR_BUSY`]), it sent late requests its connection was idle and
/// waiting for ([`LATE_SHARE`], [`LATE_MIN`]), or dropped a backlog. Lateness behind slow
/// responses is queueing at the target, and a target that falls short at the knee while
/// every send went out on time is the target's doing even with idle connections.
fn generator_was_late(run: &RunResult, busy: f64) -> bool {
    let st = &run.settings;
    // Runs written before `late_idle` existed only have every late send.
    let own_late = st.late_idle.unwrap_or(st.late);
    let late = own_late >= LATE_MIN && own_late as f64 >= LATE_SHARE * run.requests as f64;
    busy < GENERATOR_BUSY && (late || backlog(run))
}

/// The share of the window the connections waited on the target: measured, or for runs
/// written before it was, estimated from the responses' service times.
fn busy_share(run: &RunResult) -> Option<f64> {
    if let Some(b) = run.connections_busy {
        return Some(b);
    }
    let service = decode_or_empty("all.service_histogram", &run.all.service_histogram).ok()?;
    let connections = f64::from(run.settings.connections.unwrap_or(1).max(1));
    (run.duration_s > 0.0)
        .then(|| service.mean() * service.len() as f64 / 1e6 / (connections * run.duration_s))
}

/// The offered rate of an open-model run: offered requests per second of the window (the
/// average of a staged profile), else its target rate.
pub fn offered_rps(run: &RunResult) -> Option<f64> {
    match run.settings.offered {
        Some(n) if run.duration_s > 0.0 => Some(n as f64 / run.duration_s),
        _ => run.target_rps,
    }
}

/// The run dropped a backlog: more requests than it has lanes (connections, times HTTP/2
/// streams) *and* more than [`SHORTFALL`] of the offered requests. Dropped requests are the
/// queue waiting for a lane when the window closed. A lane busy at the boundary may be caught
/// one request behind without the run being short of anything; and near the knee a short
/// queue comes and goes (at 6,000/s, 16 connections and a p99 of 40 ms, one window in three
/// closed on ~70 queued requests, 12 ms of traffic) while its waits are in the latency
/// already. More than 2% of the window's requests still queued is the generator falling
/// behind: the same tolerance as the achieved rate's.
fn backlog(run: &RunResult) -> bool {
    let lanes = run.settings.connections.unwrap_or(0) * run.settings.streams.unwrap_or(1);
    let offered = run.settings.offered.unwrap_or(run.requests + run.dropped);
    let tolerated = (offered as f64 * SHORTFALL) as u64;
    run.dropped > u64::from(lanes).max(tolerated)
}

/// Offered requests of the window that had no response (any status) when the run ended:
/// dropped, failed without a response, or unfinished.
fn unanswered(run: &RunResult) -> u64 {
    let answered = crate::summary::latency_histogram("all", &run.all)
        .map(|h| h.len())
        .unwrap_or(run.requests.saturating_sub(run.errors.total));
    let offered = run.settings.offered.unwrap_or(run.requests + run.dropped);
    offered.saturating_sub(answered)
}

/// SPEC section 5, read for what it is meant to catch: an open-model run is saturated when it
/// dropped a backlog of requests ([`backlog`]), or when its achieved rate fell more than
/// [`SHORTFALL`] below the offered rate *and* more than that share of the offered requests
/// was still unanswered when the run ended. The second condition keeps the pipeline out of
/// the verdict: a window without a warm-up starts with nothing in flight, so a slow but
/// healthy target answers its last requests after the window (in the grace period) and its
/// achieved rate falls short by about latency / window without any request waiting.
pub fn is_saturated(run: &RunResult) -> bool {
    if run.model != "open" {
        return false;
    }
    let Some(offered) = offered_rps(run) else {
        return backlog(run);
    };
    let short = run.achieved_rps < offered * (1.0 - SHORTFALL);
    let offered_n = run.settings.offered.unwrap_or(run.requests + run.dropped);
    let unanswered_share = unanswered(run) as f64 / offered_n.max(1) as f64;
    backlog(run) || (short && unanswered_share > SHORTFALL)
}

/// How far the run fell short: requests never sent, or the achieved rate.
fn shortfall_words(run: &RunResult, offered: f64) -> String {
    if run.dropped > 0 {
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
    }
}

/// A saturated run in which no request got any response: the target is not slow but absent.
fn unanswered_words(run: &RunResult, shortfall: &str) -> String {
    let e = &run.errors;
    format!(
        "saturated: {shortfall}. The target answered no request ({} connect, {} timeout, {} io, \
         {} tls errors): it is down, unreachable or refusing connections, not slow.",
        fmt_count(e.connect),
        fmt_count(e.timeout),
        fmt_count(e.io),
        fmt_count(e.tls)
    )
}

/// The bottleneck of a saturated run (`None` when it is not saturated).
pub fn assess(run: &RunResult) -> Result<Option<Assessment>, ReportError> {
    if !run.saturated {
        return Ok(None);
    }
    let service = decode_or_empty("all.service_histogram", &run.all.service_histogram)?;
    let connections = f64::from(run.settings.connections.unwrap_or(1).max(1));
    let busy = busy_share(run).unwrap_or(0.0);
    let offered = offered_rps(run).unwrap_or(0.0);
    let shortfall = shortfall_words(run, offered);
    if service.is_empty() {
        return Ok(Some(Assessment {
            bottleneck: Bottleneck::Target,
            busy,
            explanation: unanswered_words(run, &shortfall),
        }));
    }
    let service_p99 = fmt_us(run.all.service_us.p99 as f64);
    let lag = run
        .send_lag_us
        .map(|l| format!("send lag p99 {}", fmt_us(l.p99 as f64)))
        .unwrap_or_else(|| "sends were late".to_string());
    let (bottleneck, explanation) = if generator_was_late(run, busy) {
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
        let ceiling = 1e6 / service.mean() * connections;
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
