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
    /// Metrics tested for significance (the family Hochberg's adjustment counts).
    pub tests: usize,
    pub pass: bool,
    /// What limits the comparison (too few runs for `alpha`, runs without per-interval data).
    pub warnings: Vec<String>,
    /// Saturated runs on each side (docs/load.md, "Saturation").
    pub saturated: Saturated,
    pub scopes: Vec<ScopeComparison>,
}

/// How many runs of each side were saturated, and what that means for the comparison: new
/// runs that saturate where no base run did could not carry the load the base carried, a
/// regression whatever their percentiles say (those cover only what got through).
#[derive(Debug, Clone, Serialize)]
pub struct Saturated {
    pub base: usize,
    pub new: usize,
    pub verdict: Verdict,
}

fn saturated(base: &[RunResult], new: &[RunResult]) -> Saturated {
    let count = |runs: &[RunResult]| runs.iter().filter(|r| r.saturated).count();
    let (b, n) = (count(base), count(new));
    let verdict = match (b, n) {
        (0, n) if n > 0 => Verdict::Regressed,
        (b, 0) if b > 0 => Verdict::Improved,
        _ => Verdict::Unchanged,
    };
    Saturated {
        base: b,
        new: n,
        verdict,
    }
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
    for name in scope_names(base, new) {
        let b = side(base, &name)?;
        let n = side(new, &name)?;
        let present = |s: &[Option<ScopeData>]| s.iter().any(Option::is_some);
        let (verdict, metrics) = match (present(&b), present(&n)) {
            (true, true) => {
                let metrics = Metric::ALL
                    .into_iter()
                    .map(|m| metric::metric(m, &b, &n, design, tol))
                    .collect::<Result<Vec<_>, _>>()?;
                (Verdict::Unchanged, metrics)
            }
            (true, false) => (Verdict::Missing, Vec::new()),
            _ => (Verdict::New, Vec::new()),
        };
        scopes.push(ScopeComparison {
            scope: name,
            verdict,
            metrics,
        });
    }
    let mut all: Vec<&mut MetricDelta> = scopes.iter_mut().flat_map(|s| &mut s.metrics).collect();
    let tests = metric::adjust_and_decide(&mut all, tol);
    for s in &mut scopes {
        if !s.metrics.is_empty() {
            s.verdict = scope_verdict(&s.metrics);
        }
    }
    let saturated = saturated(base, new);
    Ok(Comparison {
        base_scenario: first_base.scenario.clone(),
        new_scenario: first_new.scenario.clone(),
        tolerance: tol,
        design,
        base_runs: base.len(),
        new_runs: new.len(),
        tests,
        pass: !scopes.iter().any(|s| s.verdict.fails()) && !saturated.verdict.fails(),
        warnings: warnings(base, new, design, tol, tests, &scopes),
        saturated,
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
    tests: usize,
    scopes: &[ScopeComparison],
) -> Vec<String> {
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
    if design == Design::Intervals {
        out.extend(interval_warnings(&base[0], &new[0], tol.alpha, scopes));
    } else {
        out.extend(too_few_runs(
            base.len(),
            new.len(),
            design,
            tol.alpha,
            tests,
        ));
    }
    out
}

/// Several runs (or rounds): whether their number allows a significant change at all, and in
/// one metric alone (Hochberg: p < alpha / tests).
fn too_few_runs(nb: usize, nn: usize, design: Design, alpha: f64, tests: usize) -> Option<String> {
    let alone = alpha / tests.max(1) as f64;
    let (min_p, unit, needed, sizes): (f64, &str, fn(f64) -> usize, String) =
        if design == Design::Paired {
            (
                signed_rank_min_p(nb),
                "rounds",
                pairs_needed,
                format!("{nb} rounds"),
            )
        } else {
            (
                mwu_min_p(nb, nn),
                "runs per side",
                runs_needed,
                format!("{nb} base and {nn} new runs"),
            )
        };
    if min_p >= alpha {
        Some(format!(
            "too few {unit} for --alpha {alpha}: with {sizes} the smallest p-value possible is \
             {min_p:.4}, so no change can be significant; use at least {} {unit} (or raise \
             --alpha)",
            needed(alpha)
        ))
    } else if min_p >= alone {
        Some(format!(
            "with {sizes} the smallest p-value possible is {min_p:.4}: a change is significant \
             only when it shows in most of the {tests} metrics tested at once (one metric \
             alone needs p < {alone:.1e}); use at least {} {unit} to catch a change in one \
             metric",
            needed(alone)
        ))
    } else {
        None
    }
}

/// One run per side: runs without per-interval histograms, metrics with too few intervals.
fn interval_warnings(
    base: &RunResult,
    new: &RunResult,
    alpha: f64,
    scopes: &[ScopeComparison],
) -> Vec<String> {
    let mut out = Vec::new();
    for (side, run) in [("base", base), ("new", new)] {
        if !has_interval_histograms(run) {
            out.push(format!(
                "the {side} run has no per-interval histograms (written by an older napkin): \
                 its latency percentiles are compared by the tolerances alone, without a \
                 significance test; record it again to test them"
            ));
        }
    }
    let short: Vec<String> = scopes
        .iter()
        .flat_map(|s| s.metrics.iter().map(move |m| (s, m)))
        .filter(|(_, m)| m.verdict != Verdict::TooFewSamples)
        .filter_map(|(s, m)| Some((s, m, m.significance.as_ref()?)))
        .filter(|(_, _, x)| x.min_p >= alpha && x.min_p < 1.0)
        .map(|(s, m, x)| format!("{} {} ({})", s.scope, m.metric, x.sizes()))
        .collect();
    if !short.is_empty() {
        out.push(format!(
            "too few intervals for any p-value below {alpha}: {}; run longer or at a higher \
             rate",
            short.join(", ")
        ));
    }
    out
}
