//! Regression check of new runs against baseline runs (`napkin compare`, `napkin ab`): per
//! scope (`all` and each action) the p50/p90/p99/p99.9 latency, error rate and successful
//! requests/s, each reported as improved, regressed or `~` (no significant change) with the
//! p-value of a significance test, as Go's benchstat does. The method is documented in
//! docs/reports.md.
//!
//! A metric **regresses** only when all three hold:
//! 1. the change is significant: the test's two-sided p-value is below `alpha`, and the
//!    samples lean the same way as the values;
//! 2. it is larger than `max_regression` relative to the base;
//! 3. it is larger than the absolute floor: `min_delta_us` for latency, `min_error_delta` for
//!    the error rate.
//!
//! (`improved` is the same with the signs reversed, and never fails.) Which samples are
//! tested depends on the [`Design`]: one run per side tests the runs' per-second intervals
//! ([`crate::samples`]); several runs per side test the runs' values (Mann–Whitney); `ab`'s
//! rounds test paired differences (Wilcoxon signed-rank). A latency percentile p is only gated
//! when every run holds at least `min_tail_samples / (1 - p)` latencies in the scope; otherwise
//! its verdict is `too_few_samples`. A scope of the baseline missing from the new runs fails; a
//! scope only in the new runs is reported and does not fail.

use serde::Serialize;

use crate::error::ReportError;
use crate::run::RunResult;
use crate::samples::{has_interval_histograms, Metric, ScopeData};
use crate::stats::{mwu_min_p, pairs_needed, runs_needed, signed_rank_min_p};

mod metric;

pub use metric::Significance;

/// Tolerances and significance level of a comparison.
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
    /// Significance level: a change counts only when its p-value is below this.
    pub alpha: f64,
}

impl Default for Tolerance {
    fn default() -> Self {
        Tolerance {
            max_regression: 0.10,
            min_delta_us: 1_000.0,
            min_error_delta: 0.001,
            min_tail_samples: 10,
            alpha: 0.01,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// `~`: no significant change, or one within tolerance.
    Unchanged,
    /// Significantly better beyond tolerance.
    Improved,
    /// Significantly worse beyond tolerance: the comparison fails.
    Regressed,
    /// In the baseline but not in the new runs: the comparison fails.
    Missing,
    /// Only in the new runs.
    New,
    /// A percentile with too few samples beyond it in some run to be gated.
    TooFewSamples,
}

impl Verdict {
    pub fn fails(self) -> bool {
        matches!(self, Verdict::Regressed | Verdict::Missing)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Unchanged => "~",
            Verdict::Improved => "improved",
            Verdict::Regressed => "REGRESSED",
            Verdict::Missing => "MISSING",
            Verdict::New => "new",
            Verdict::TooFewSamples => "too few samples",
        }
    }
}

/// Which samples the significance test compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Design {
    /// One run per side: the runs' per-second intervals (Mann–Whitney U); an action's error
    /// rate and throughput from its counts (Fisher's exact test, exact binomial test).
    Intervals,
    /// Several runs on a side: one value per run (Mann–Whitney U).
    Runs,
    /// `napkin ab`: one value per run, paired by round (Wilcoxon signed-rank).
    Paired,
}

/// One metric of one scope.
#[derive(Debug, Clone, Serialize)]
pub struct MetricDelta {
    /// p50 p90 p99 p999 (microseconds), error_rate (fraction), ok_rps (successful
    /// requests/s).
    pub metric: &'static str,
    /// The base value: the run's (one run), else the median over the runs.
    pub base: f64,
    pub new: f64,
    /// new - base.
    pub delta: f64,
    /// (new - base) / base; null when base is 0.
    pub change: Option<f64>,
    pub verdict: Verdict,
    /// The significance test; null when none could be made (e.g. a run of an older version
    /// without per-interval histograms: then the verdict follows the tolerances alone).
    pub significance: Option<Significance>,
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
    pub design: Design,
    pub base_runs: usize,
    pub new_runs: usize,
    pub pass: bool,
    /// What limits the comparison (too few runs for `alpha`, runs without per-interval data).
    pub warnings: Vec<String>,
    pub scopes: Vec<ScopeComparison>,
}

/// Compares one new run against one baseline run (per-interval samples).
pub fn compare(
    base: &RunResult,
    new: &RunResult,
    tol: Tolerance,
) -> Result<Comparison, ReportError> {
    compare_runs(std::slice::from_ref(base), std::slice::from_ref(new), tol)
}

/// Compares new runs against baseline runs: one run per side tests per-interval samples,
/// several runs on a side test one value per run.
pub fn compare_runs(
    base: &[RunResult],
    new: &[RunResult],
    tol: Tolerance,
) -> Result<Comparison, ReportError> {
    let design = if base.len() == 1 && new.len() == 1 {
        Design::Intervals
    } else {
        Design::Runs
    };
    build(base, new, design, tol)
}

/// Compares `napkin ab`'s rounds: (A, B) per round, B against A, paired by round.
pub fn compare_paired(
    pairs: &[(RunResult, RunResult)],
    tol: Tolerance,
) -> Result<Comparison, ReportError> {
    let (a, b): (Vec<RunResult>, Vec<RunResult>) = pairs.iter().cloned().unzip();
    build(&a, &b, Design::Paired, tol)
}

fn build(
    base: &[RunResult],
    new: &[RunResult],
    design: Design,
    tol: Tolerance,
) -> Result<Comparison, ReportError> {
    let (Some(first_base), Some(first_new)) = (base.first(), new.first()) else {
        return Err(ReportError::Invalid(
            "nothing to compare: give at least one base and one new run".into(),
        ));
    };
    let mut scopes = Vec::new();
    let mut unreachable = Vec::new();
    for name in scope_names(base, new) {
        let b = side(base, &name)?;
        let n = side(new, &name)?;
        let present = |s: &[Option<ScopeData>]| s.iter().any(Option::is_some);
        let cmp = match (present(&b), present(&n)) {
            (true, true) => {
                let mut metrics = Vec::new();
                for metric in Metric::ALL {
                    let m = metric::metric(metric, &b, &n, design, tol)?;
                    if let Some(s) = &m.significance {
                        if m.verdict != Verdict::TooFewSamples && s.min_p >= tol.alpha {
                            unreachable.push(format!("{name} {} ({})", m.metric, s.sizes()));
                        }
                    }
                    metrics.push(m);
                }
                ScopeComparison {
                    verdict: scope_verdict(&metrics),
                    scope: name,
                    metrics,
                }
            }
            (true, false) => ScopeComparison {
                scope: name,
                verdict: Verdict::Missing,
                metrics: Vec::new(),
            },
            _ => ScopeComparison {
                scope: name,
                verdict: Verdict::New,
                metrics: Vec::new(),
            },
        };
        scopes.push(cmp);
    }
    Ok(Comparison {
        base_scenario: first_base.scenario.clone(),
        new_scenario: first_new.scenario.clone(),
        tolerance: tol,
        design,
        base_runs: base.len(),
        new_runs: new.len(),
        pass: !scopes.iter().any(|s| s.verdict.fails()),
        warnings: warnings(base, new, design, tol, &unreachable),
        scopes,
    })
}

/// `all`, the baseline's actions, then actions only in the new runs.
fn scope_names(base: &[RunResult], new: &[RunResult]) -> Vec<String> {
    let mut names = vec!["all".to_string()];
    for run in base.iter().chain(new) {
        for n in run.actions.keys() {
            if !names.contains(n) {
                names.push(n.clone());
            }
        }
    }
    names
}

fn side<'a>(
    runs: &'a [RunResult],
    name: &'a str,
) -> Result<Vec<Option<ScopeData<'a>>>, ReportError> {
    runs.iter().map(|r| ScopeData::of(r, name)).collect()
}

fn scope_verdict(metrics: &[MetricDelta]) -> Verdict {
    if metrics.iter().any(|m| m.verdict.fails()) {
        Verdict::Regressed
    } else if metrics.iter().any(|m| m.verdict == Verdict::Improved) {
        Verdict::Improved
    } else {
        Verdict::Unchanged
    }
}

fn warnings(
    base: &[RunResult],
    new: &[RunResult],
    design: Design,
    tol: Tolerance,
    unreachable: &[String],
) -> Vec<String> {
    let alpha = tol.alpha;
    let mut out = Vec::new();
    let mut scenarios: Vec<&str> = Vec::new();
    for run in base.iter().chain(new) {
        if !scenarios.contains(&run.scenario.as_str()) {
            scenarios.push(&run.scenario);
        }
    }
    if scenarios.len() > 1 {
        out.push(format!(
            "comparing runs of different scenarios ({})",
            scenarios.join(", ")
        ));
    }
    match design {
        Design::Runs if mwu_min_p(base.len(), new.len()) >= alpha => out.push(format!(
            "too few runs for --alpha {alpha}: with {} base and {} new runs the smallest \
             p-value possible is {:.3}, so no change can be significant; give at least {} runs \
             per side (or raise --alpha)",
            base.len(),
            new.len(),
            mwu_min_p(base.len(), new.len()),
            runs_needed(alpha)
        )),
        Design::Paired if signed_rank_min_p(base.len()) >= alpha => out.push(format!(
            "too few rounds for --alpha {alpha}: with {} rounds the smallest p-value possible \
             is {:.3}, so no change can be significant; run at least {} rounds (or raise \
             --alpha)",
            base.len(),
            signed_rank_min_p(base.len()),
            pairs_needed(alpha)
        )),
        Design::Intervals => {
            for (side, run) in [("base", &base[0]), ("new", &new[0])] {
                if !has_interval_histograms(run) {
                    out.push(format!(
                        "the {side} run has no per-interval histograms (written by an older \
                         napkin): its latency percentiles are compared by the tolerances \
                         alone, without a significance test; record it again to test them"
                    ));
                }
            }
            if !unreachable.is_empty() {
                out.push(format!(
                    "too few intervals to reach p < {alpha} for: {}; run longer or at a \
                     higher rate",
                    unreachable.join(", ")
                ));
            }
        }
        _ => {}
    }
    out
}
