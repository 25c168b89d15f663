//! One metric of one scope: its values on each side, its significance test and its verdict.

use serde::Serialize;

use super::{Design, MetricDelta, Tolerance, Verdict};
use crate::error::ReportError;
use crate::samples::{Metric, ScopeData};
use crate::stats::{
    binomial_test, fisher_exact, mann_whitney_u, mwu_min_p, signed_rank_min_p,
    wilcoxon_signed_rank, TestResult,
};

/// The significance test of one metric.
#[derive(Debug, Clone, Serialize)]
pub struct Significance {
    /// `mann_whitney_u`, `wilcoxon_signed_rank`, `fisher_exact` or `binomial`.
    pub test: &'static str,
    /// Two-sided p-value of this test alone.
    pub p_value: f64,
    /// The p-value adjusted for every metric tested in the comparison (Hochberg):
    /// significant when below alpha.
    pub p_adjusted: f64,
    /// What a sample is: `intervals` (per-second values or blocks of seconds), `runs`,
    /// `rounds` (pairs of `napkin ab`) or `requests` (the count tests).
    pub unit: &'static str,
    pub n_base: u64,
    pub n_new: u64,
    /// The smallest p-value these samples allow (1 when every sample is the same, so that
    /// nothing can differ; 0 for the count tests with something to count).
    pub min_p: f64,
    /// +1 when the new side's samples tend to be larger, -1 smaller.
    #[serde(skip)]
    pub direction: i8,
}

impl Significance {
    /// `8+8 intervals`, `5+5 runs`, `8 rounds`.
    pub fn sizes(&self) -> String {
        if self.unit == "rounds" {
            format!("{} rounds", self.n_base)
        } else {
            format!("{}+{} {}", self.n_base, self.n_new, self.unit)
        }
    }

    /// A rank test's result; `degenerate`: every sample equal (nothing can be significant).
    fn rank(
        test: &'static str,
        unit: &'static str,
        r: TestResult,
        sizes: (usize, usize),
        degenerate: bool,
    ) -> Self {
        let min_p = if degenerate {
            1.0
        } else if unit == "rounds" {
            signed_rank_min_p(sizes.0)
        } else {
            mwu_min_p(sizes.0, sizes.1)
        };
        Significance {
            test,
            p_value: r.p_value,
            p_adjusted: r.p_value,
            unit,
            n_base: sizes.0 as u64,
            n_new: sizes.1 as u64,
            min_p,
            direction: r.direction,
        }
    }
}

/// Mann–Whitney U of two samples as a [`Significance`].
fn mwu(unit: &'static str, x: &[f64], y: &[f64]) -> Option<Significance> {
    let r = mann_whitney_u(x, y)?;
    let first = x.first().or(y.first());
    let degenerate = x.iter().chain(y).all(|v| Some(v) == first);
    Some(Significance::rank(
        "mann_whitney_u",
        unit,
        r,
        (x.len(), y.len()),
        degenerate,
    ))
}

type Side<'s, 'a> = &'s [Option<ScopeData<'a>>];

/// Compares `metric` of one scope between the two sides (runs in the same order; for
/// [`Design::Paired`], round i is `base[i]` against `new[i]`).
pub(super) fn metric(
    metric: Metric,
    base: Side,
    new: Side,
    design: Design,
    tol: Tolerance,
) -> Result<MetricDelta, ReportError> {
    let values =
        |s: Side| -> Vec<f64> { s.iter().flatten().filter_map(|d| d.value(metric)).collect() };
    let (bv, nv) = (values(base), values(new));
    let (b, n) = (median(&bv), median(&nv));
    let mut delta = MetricDelta {
        metric: metric.name(),
        base: b,
        new: n,
        delta: n - b,
        change: (b != 0.0).then(|| (n - b) / b),
        verdict: Verdict::Unchanged,
        significance: None,
    };
    if let Some(q) = metric.quantile() {
        let need = (tol.min_tail_samples as f64 / (1.0 - q)).round();
        let least = base.iter().chain(new).flatten().map(|d| d.latencies).min();
        if least.is_none_or(|l| l == 0 || (l as f64) < need) {
            delta.verdict = Verdict::TooFewSamples;
            return Ok(delta);
        }
    }
    delta.significance = match design {
        Design::Intervals => interval_test(metric, base, new)?,
        Design::Runs => mwu("runs", &bv, &nv),
        Design::Paired => paired_test(metric, base, new),
    };
    Ok(delta)
}

/// Adjusts the p-values of every tested metric for their number (Hochberg's step-up
/// procedure, so that `alpha` bounds the chance that any metric of runs without a real
/// difference is called significant), then gives each metric its verdict. A change seen in
/// one metric alone needs p < alpha / tests; one seen in every metric at once only p < alpha,
/// as a real slowdown usually is. Tests that cannot reach `alpha` even alone (too few
/// samples, or every sample equal) are left out of the count: they can never be significant.
/// Returns the number of tests counted.
pub(super) fn adjust_and_decide(metrics: &mut [&mut MetricDelta], tol: Tolerance) -> usize {
    let mut family: Vec<(usize, f64)> = metrics
        .iter()
        .enumerate()
        .filter(|(_, m)| m.verdict != Verdict::TooFewSamples)
        .filter_map(|(i, m)| m.significance.as_ref().map(|s| (i, s)))
        .filter(|(_, s)| s.min_p < tol.alpha)
        .map(|(i, s)| (i, s.p_value))
        .collect();
    // Largest p first: adjusted p(i) = min over j >= i of (k - j + 1) p(j), ranks ascending.
    family.sort_by(|a, b| b.1.total_cmp(&a.1));
    let k = family.len();
    let mut running: f64 = 1.0;
    for (from_top, (i, p)) in family.into_iter().enumerate() {
        running = running.min((from_top + 1) as f64 * p).min(1.0);
        if let Some(s) = metrics[i].significance.as_mut() {
            s.p_adjusted = running;
        }
    }
    for m in metrics.iter_mut() {
        if m.verdict != Verdict::TooFewSamples {
            let metric = Metric::ALL
                .into_iter()
                .find(|x| x.name() == m.metric)
                .expect("a known metric");
            m.verdict = decide(metric, m.base, m.new, m.significance.as_ref(), tol);
        }
    }
    k
}

/// The verdict: significant, leaning the way the values moved, and beyond both tolerances.
/// Without a test (no samples), the tolerances alone decide, as before significance testing.
fn decide(
    metric: Metric,
    base: f64,
    new: f64,
    sig: Option<&Significance>,
    tol: Tolerance,
) -> Verdict {
    let floor = match metric {
        Metric::ErrorRate => tol.min_error_delta,
        Metric::OkRps => 0.0,
        _ => tol.min_delta_us,
    };
    let grew = new - base > floor && new > base * (1.0 + tol.max_regression);
    let shrank = base - new > floor && new < base * (1.0 - tol.max_regression);
    let (worse, better) = if metric.higher_is_worse() {
        (grew, shrank)
    } else {
        (shrank, grew)
    };
    let leans_up = |s: &Significance| s.p_adjusted < tol.alpha && s.direction > 0;
    let leans_down = |s: &Significance| s.p_adjusted < tol.alpha && s.direction < 0;
    let (up, down) = match sig {
        None => (true, true),
        Some(s) => (leans_up(s), leans_down(s)),
    };
    let (worse_way, better_way) = if metric.higher_is_worse() {
        (up, down)
    } else {
        (down, up)
    };
    if worse && worse_way {
        Verdict::Regressed
    } else if better && better_way {
        Verdict::Improved
    } else {
        Verdict::Unchanged
    }
}

/// One run per side: Mann–Whitney on the runs' interval samples; an action's error rate and
/// throughput (no per-action counts in the timeline) by exact tests on the run's counts.
fn interval_test(
    metric: Metric,
    base: Side,
    new: Side,
) -> Result<Option<Significance>, ReportError> {
    let (Some(Some(b)), Some(Some(n))) = (base.first(), new.first()) else {
        return Ok(None);
    };
    if let (Some(bs), Some(ns)) = (b.interval_samples(metric)?, n.interval_samples(metric)?) {
        return Ok(mwu("intervals", &bs, &ns));
    }
    let (be, ne) = (b.scope.errors, n.scope.errors);
    let (bok, nok) = (
        b.scope.requests.saturating_sub(be),
        n.scope.requests.saturating_sub(ne),
    );
    // Nothing to count on either side (no errors, or no successes): nothing can differ.
    let count_test = |test, p_value, direction: f64, nothing: bool| Significance {
        test,
        p_value,
        p_adjusted: p_value,
        unit: "requests",
        n_base: b.scope.requests,
        n_new: n.scope.requests,
        min_p: if nothing { 1.0 } else { 0.0 },
        direction: if direction > 0.0 {
            1
        } else if direction < 0.0 {
            -1
        } else {
            0
        },
    };
    Ok(match metric {
        Metric::ErrorRate if b.scope.requests > 0 && n.scope.requests > 0 => {
            let (br, nr) = (
                be as f64 / b.scope.requests as f64,
                ne as f64 / n.scope.requests as f64,
            );
            Some(count_test(
                "fisher_exact",
                fisher_exact(be, bok, ne, nok),
                nr - br,
                be + ne == 0 || bok + nok == 0,
            ))
        }
        Metric::OkRps if b.run.duration_s > 0.0 && n.run.duration_s > 0.0 => {
            // Given bok + nok successes, bok is binomial with p = base share of the time.
            let (bd, nd) = (b.run.duration_s, n.run.duration_s);
            let p = binomial_test(bok, bok + nok, bd / (bd + nd));
            Some(count_test(
                "binomial",
                p,
                nok as f64 / nd - bok as f64 / bd,
                bok + nok == 0,
            ))
        }
        _ => None,
    })
}

/// `napkin ab`: Wilcoxon signed-rank on the rounds' differences new - base, of the logarithms
/// for latency and throughput (so that a machine slower in one round by some factor cancels),
/// of the values themselves for the error rate or when a value is 0.
fn paired_test(metric: Metric, base: Side, new: Side) -> Option<Significance> {
    let pairs: Vec<(f64, f64)> = base
        .iter()
        .zip(new)
        .filter_map(|(b, n)| Some((b.as_ref()?.value(metric)?, n.as_ref()?.value(metric)?)))
        .collect();
    let logs = metric != Metric::ErrorRate && pairs.iter().all(|(a, b)| *a > 0.0 && *b > 0.0);
    let d: Vec<f64> = pairs
        .iter()
        .map(|(a, b)| if logs { b.ln() - a.ln() } else { b - a })
        .collect();
    if d.is_empty() {
        return None;
    }
    let degenerate = d.iter().all(|v| *v == 0.0);
    let r = wilcoxon_signed_rank(&d).unwrap_or(TestResult {
        statistic: 0.0,
        p_value: 1.0,
        method: crate::stats::Method::Exact,
        direction: 0,
    });
    Some(Significance::rank(
        "wilcoxon_signed_rank",
        "rounds",
        r,
        (d.len(), d.len()),
        degenerate,
    ))
}

/// The median (mean of the middle two for an even count); 0 for no values.
pub fn median(values: &[f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}
