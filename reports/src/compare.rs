//! Regression check of a new run against a baseline (`napkin compare`): per scope (`all` and
//! each action) the p50/p90/p99/p99.9 latency, error rate and throughput, with deltas and a
//! verdict.
//!
//! Rules (documented in docs/reports.md): a latency percentile regresses when it grows by more
//! than `max_regression` (relative) AND by more than `min_delta_us` (absolute, so that 40 us ->
//! 50 us is not a +25% failure); the error rate regresses when it grows by more than
//! `max_regression` relative AND more than `min_error_delta` absolute; throughput (successful
//! requests per second: (requests - errors) / duration_s, so failed attempts never count as
//! throughput) regresses when it drops by more than `max_regression`. A latency percentile p is
//! only gated when both runs
//! recorded at least `min_tail_samples / (1 - p)` latencies in the scope (so that at least that
//! many samples lie beyond it); otherwise its verdict is `too_few_samples` and it does not fail
//! (the p99.9 of 2,000 requests is decided by 2 of them; a scope with no latency at all is
//! never gated on latency). A scope of the baseline missing from
//! the new run fails; a scope only in the new run is reported and does not fail.

use serde::Serialize;

use crate::error::ReportError;
use crate::run::{RunResult, ScopeResult};
use crate::summary::{latency_histogram, Ladder};

/// Tolerances of a comparison.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Tolerance {
    /// Relative tolerance, e.g. 0.10 for 10%.
    pub max_regression: f64,
    /// Latency changes at most this large (microseconds) never fail.
    pub min_delta_us: f64,
    /// Error-rate changes at most this large (a fraction) never fail.
    pub min_error_delta: f64,
    /// Samples needed beyond a percentile for it to be gated (0 gates every percentile).
    pub min_tail_samples: u64,
}

impl Default for Tolerance {
    fn default() -> Self {
        Tolerance {
            max_regression: 0.10,
            min_delta_us: 1_000.0,
            min_error_delta: 0.001,
            min_tail_samples: 10,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Within tolerance.
    Ok,
    /// Better beyond tolerance.
    Improved,
    /// Worse beyond tolerance: the comparison fails.
    Regressed,
    /// In the baseline but not in the new run: the comparison fails.
    Missing,
    /// Only in the new run.
    New,
    /// A percentile with too few samples beyond it in either run to be gated.
    TooFewSamples,
}

impl Verdict {
    pub fn fails(self) -> bool {
        matches!(self, Verdict::Regressed | Verdict::Missing)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Improved => "improved",
            Verdict::Regressed => "REGRESSED",
            Verdict::Missing => "MISSING",
            Verdict::New => "new",
            Verdict::TooFewSamples => "too few samples",
        }
    }
}

/// One metric of one scope.
#[derive(Debug, Clone, Serialize)]
pub struct MetricDelta {
    /// p50 p90 p99 p999 (microseconds), error_rate (fraction), rps (successful requests/s).
    pub metric: &'static str,
    pub base: f64,
    pub new: f64,
    /// new - base.
    pub delta: f64,
    /// (new - base) / base; null when base is 0.
    pub change: Option<f64>,
    pub verdict: Verdict,
}

/// All metrics of one scope.
#[derive(Debug, Clone, Serialize)]
pub struct ScopeComparison {
    pub scope: String,
    pub verdict: Verdict,
    pub metrics: Vec<MetricDelta>,
}

/// The whole comparison.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub base_scenario: String,
    pub new_scenario: String,
    pub tolerance: Tolerance,
    pub pass: bool,
    pub scopes: Vec<ScopeComparison>,
}

/// The values compared for one scope.
struct Values {
    ladder: Ladder,
    /// Latencies recorded (the histogram's count).
    samples: u64,
    error_rate: f64,
    /// Successful requests per second.
    rps: f64,
}

fn values(run: &RunResult, name: &str, scope: &ScopeResult) -> Result<Values, ReportError> {
    let h = latency_histogram(name, scope)?;
    Ok(Values {
        ladder: Ladder::of(&h),
        samples: h.len(),
        error_rate: if scope.requests == 0 {
            0.0
        } else {
            scope.errors as f64 / scope.requests as f64
        },
        rps: if run.duration_s > 0.0 {
            scope.requests.saturating_sub(scope.errors) as f64 / run.duration_s
        } else {
            0.0
        },
    })
}

/// Compares `new` against `base`.
pub fn compare(
    base: &RunResult,
    new: &RunResult,
    tol: Tolerance,
) -> Result<Comparison, ReportError> {
    let mut names: Vec<&str> = vec!["all"];
    names.extend(base.actions.keys().map(String::as_str));
    for n in new.actions.keys() {
        if !base.actions.contains_key(n) {
            names.push(n);
        }
    }
    let mut scopes = Vec::new();
    for name in names {
        let b = crate::slo::scope_of(base, name);
        let n = crate::slo::scope_of(new, name);
        let cmp = match (b, n) {
            (Some(b), Some(n)) => {
                let metrics = metrics(&values(base, name, b)?, &values(new, name, n)?, tol);
                let verdict = scope_verdict(&metrics);
                ScopeComparison {
                    scope: name.to_string(),
                    verdict,
                    metrics,
                }
            }
            (Some(_), None) => ScopeComparison {
                scope: name.to_string(),
                verdict: Verdict::Missing,
                metrics: Vec::new(),
            },
            _ => ScopeComparison {
                scope: name.to_string(),
                verdict: Verdict::New,
                metrics: Vec::new(),
            },
        };
        scopes.push(cmp);
    }
    Ok(Comparison {
        base_scenario: base.scenario.clone(),
        new_scenario: new.scenario.clone(),
        tolerance: tol,
        pass: !scopes.iter().any(|s| s.verdict.fails()),
        scopes,
    })
}

fn scope_verdict(metrics: &[MetricDelta]) -> Verdict {
    if metrics.iter().any(|m| m.verdict.fails()) {
        Verdict::Regressed
    } else if metrics.iter().any(|m| m.verdict == Verdict::Improved) {
        Verdict::Improved
    } else {
        Verdict::Ok
    }
}

fn metrics(b: &Values, n: &Values, tol: Tolerance) -> Vec<MetricDelta> {
    let samples = b.samples.min(n.samples) as f64;
    let lat = |metric, quantile: f64, base: u64, new: u64| {
        let mut m = higher_is_worse(
            metric,
            base as f64,
            new as f64,
            tol.max_regression,
            tol.min_delta_us,
        );
        let needed = tol.min_tail_samples as f64 / (1.0 - quantile);
        if samples == 0.0 || samples < needed.round() {
            m.verdict = Verdict::TooFewSamples;
        }
        m
    };
    vec![
        lat("p50", 0.5, b.ladder.p50, n.ladder.p50),
        lat("p90", 0.9, b.ladder.p90, n.ladder.p90),
        lat("p99", 0.99, b.ladder.p99, n.ladder.p99),
        lat("p999", 0.999, b.ladder.p999, n.ladder.p999),
        higher_is_worse(
            "error_rate",
            b.error_rate,
            n.error_rate,
            tol.max_regression,
            tol.min_error_delta,
        ),
        throughput(b.rps, n.rps, tol.max_regression),
    ]
}

fn change(base: f64, new: f64) -> Option<f64> {
    (base != 0.0).then(|| (new - base) / base)
}

/// A metric where growth is bad: regressed when it grew beyond both the relative and the
/// absolute tolerance; improved when it shrank beyond both.
fn higher_is_worse(metric: &'static str, base: f64, new: f64, rel: f64, abs: f64) -> MetricDelta {
    let delta = new - base;
    let verdict = if delta > abs && new > base * (1.0 + rel) {
        Verdict::Regressed
    } else if -delta > abs && new < base * (1.0 - rel) {
        Verdict::Improved
    } else {
        Verdict::Ok
    };
    MetricDelta {
        metric,
        base,
        new,
        delta,
        change: change(base, new),
        verdict,
    }
}

/// Throughput (successful requests/s): regressed when it dropped by more than `rel`.
fn throughput(base: f64, new: f64, rel: f64) -> MetricDelta {
    let verdict = if new < base * (1.0 - rel) {
        Verdict::Regressed
    } else if new > base * (1.0 + rel) {
        Verdict::Improved
    } else {
        Verdict::Ok
    };
    MetricDelta {
        metric: "rps",
        base,
        new,
        delta: new - base,
        change: change(base, new),
        verdict,
    }
}
