//! SLO gates: evaluates a scenario's `slo:` thresholds against a run. Used by `napkin load`
//! right after a run, by `napkin check` on a saved run and by `napkin merge` on the merged run,
//! so all three agree on what passes.
//!
//! Rules: latency metrics (`p50 p90 p99 p999 max mean`) read the scope's `latency_us`
//! (coordinated-omission corrected); `error_rate` is errors / requests of the scope; `min_rps`
//! is the scope's successful requests (requests - errors) / the run's `duration_s`. `min_rps` passes when value >= limit,
//! every other metric when value <= limit. A scope that is not in the run, or that recorded no
//! request, fails its checks with a `reason`; so does a latency metric of a scope whose latency
//! histogram is empty (every request failed before a response, e.g. an unreachable target):
//! a gate must never pass on missing data.
//!
//! A saturated open-model run (see [`crate::saturation`]) also fails its gate: it dropped
//! requests or fell short of the offered rate, so its latencies describe only the requests
//! that got through and cannot vouch for the SLO. When the run has thresholds at all, a
//! check of metric [`SATURATED`] is added after them (only when the run is saturated); it is
//! derived from the run, never read back as a threshold.

use estimator::{SloMetric, SloSpec, Threshold};

use crate::error::ReportError;
use crate::run::{LatencyStats, RunResult, ScopeResult, SloCheck, SloOutcome};
use crate::units::{fmt_pct, fmt_rps, fmt_us};

/// The metric name of the check a saturated run fails.
pub const SATURATED: &str = "saturated";

/// Evaluates every threshold of `spec` against `run`, in spec order, then (when there are
/// thresholds and the run is saturated) the failed saturation check.
pub fn evaluate(run: &RunResult, spec: &SloSpec) -> SloOutcome {
    let mut checks = Vec::new();
    for scope in &spec.scopes {
        let result = scope_of(run, &scope.scope);
        for threshold in &scope.thresholds {
            checks.push(check_one(run, &scope.scope, result, threshold));
        }
    }
    if !checks.is_empty() && run.saturated {
        checks.push(saturation_check(run));
    }
    SloOutcome {
        pass: checks.iter().all(|c| c.pass),
        checks,
    }
}

/// The failed check of a saturated run: value = dropped requests, limit 0.
fn saturation_check(run: &RunResult) -> SloCheck {
    let offered = crate::saturation::offered_rps(run).unwrap_or(0.0);
    let why = if run.dropped > 0 {
        format!("{} offered requests were never sent", run.dropped)
    } else {
        format!(
            "achieved {} of {} offered",
            fmt_rps(run.achieved_rps),
            fmt_rps(offered)
        )
    };
    SloCheck {
        scope: "all".to_string(),
        metric: SATURATED.to_string(),
        limit: 0.0,
        value: run.dropped as f64,
        pass: false,
        reason: Some(format!(
            "the run was saturated ({why}): its latencies cover only the requests that got \
             through; lower the rate or find the capacity with `napkin capacity`"
        )),
    }
}

/// The scope named `name` (`all` or an action) of a run.
pub fn scope_of<'a>(run: &'a RunResult, name: &str) -> Option<&'a ScopeResult> {
    if name == "all" {
        Some(&run.all)
    } else {
        run.actions.get(name)
    }
}

fn check_one(
    run: &RunResult,
    scope: &str,
    result: Option<&ScopeResult>,
    t: &Threshold,
) -> SloCheck {
    let mut check = SloCheck {
        scope: scope.to_string(),
        metric: t.metric.as_str().to_string(),
        limit: t.limit,
        value: 0.0,
        pass: false,
        reason: None,
    };
    let Some(result) = result else {
        let known: Vec<&str> = run.actions.keys().map(String::as_str).collect();
        check.reason = Some(format!(
            "scope {scope:?} is not in the run (its scopes: all, {})",
            known.join(", ")
        ));
        return check;
    };
    if result.requests == 0 {
        check.reason = Some(format!("scope {scope:?} recorded no request"));
        return check;
    }
    if is_latency(t.metric) {
        match crate::summary::latency_histogram(scope, result) {
            Ok(h) if h.is_empty() => {
                check.reason = Some("no responses recorded".to_string());
                return check;
            }
            Ok(_) => {}
            Err(e) => {
                check.reason = Some(e.to_string());
                return check;
            }
        }
    }
    check.value = metric_value(run, result, t.metric);
    check.pass = if t.metric.is_lower_bound() {
        check.value >= t.limit
    } else {
        check.value <= t.limit
    };
    check
}

/// Whether every latency threshold of `spec` holds for the *service* time (from the actual
/// send) of its scope: the target answered within the SLO once a request reached it, so any
/// excess of the corrected latency is time the request waited to be sent. Thresholds that
/// are not latencies, and scopes without data, are ignored.
pub fn service_within(run: &RunResult, spec: &SloSpec) -> bool {
    spec.scopes.iter().all(|scope| {
        let Some(result) = scope_of(run, &scope.scope) else {
            return true;
        };
        scope.thresholds.iter().all(|t| {
            latency_stat(&result.service_us, t.metric).is_none_or(|value| value <= t.limit)
        })
    })
}

/// The latency metric `metric` of `stats`; `None` for `error_rate` and `min_rps`.
fn latency_stat(stats: &LatencyStats, metric: SloMetric) -> Option<f64> {
    Some(match metric {
        SloMetric::P50 => stats.p50 as f64,
        SloMetric::P90 => stats.p90 as f64,
        SloMetric::P99 => stats.p99 as f64,
        SloMetric::P999 => stats.p999 as f64,
        SloMetric::Max => stats.max as f64,
        SloMetric::Mean => stats.mean,
        SloMetric::ErrorRate | SloMetric::MinRps => return None,
    })
}

/// Whether `metric` reads the latency histogram (p50 p90 p99 p999 max mean).
pub fn is_latency(metric: SloMetric) -> bool {
    !matches!(metric, SloMetric::ErrorRate | SloMetric::MinRps)
}

/// The value of `metric` for one scope of a run, in the unit of [`Threshold::limit`].
pub fn metric_value(run: &RunResult, scope: &ScopeResult, metric: SloMetric) -> f64 {
    if let Some(value) = latency_stat(&scope.latency_us, metric) {
        return value;
    }
    match metric {
        SloMetric::ErrorRate => ratio(scope.errors, scope.requests),
        // Successful requests only: refused connections fail fast at the offered rate and
        // must not count as throughput.
        SloMetric::MinRps if run.duration_s > 0.0 => {
            scope.requests.saturating_sub(scope.errors) as f64 / run.duration_s
        }
        // No window; or a latency metric, answered above.
        _ => 0.0,
    }
}

fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// Parses a metric key (`p99`, `error_rate`, ...) as written in run files and scenarios.
pub fn parse_metric(key: &str) -> Option<SloMetric> {
    SloMetric::parse(key)
}

/// Rebuilds the thresholds a run was gated on from its recorded checks (scope order kept).
pub fn spec_from_checks(checks: &[SloCheck]) -> Result<SloSpec, ReportError> {
    let mut spec = SloSpec::default();
    for c in checks.iter().filter(|c| c.metric != SATURATED) {
        let metric = parse_metric(&c.metric).ok_or_else(|| {
            ReportError::Invalid(format!(
                "slo check of scope {:?} has unknown metric {:?} (known: {})",
                c.scope,
                c.metric,
                SloMetric::ALL.map(SloMetric::as_str).join(" ")
            ))
        })?;
        let threshold = Threshold {
            metric,
            limit: c.limit,
        };
        match spec.scopes.iter_mut().find(|s| s.scope == c.scope) {
            Some(s) => s.thresholds.push(threshold),
            None => spec.scopes.push(estimator::SloScope {
                scope: c.scope.clone(),
                thresholds: vec![threshold],
            }),
        }
    }
    Ok(spec)
}

/// Formats a value or limit of `metric` for people: `12.30ms`, `0.10%`, `1999.8/s`.
pub fn fmt_metric(metric: &str, v: f64) -> String {
    match parse_metric(metric) {
        Some(SloMetric::ErrorRate) => fmt_pct(v),
        Some(SloMetric::MinRps) => fmt_rps(v),
        _ => fmt_us(v),
    }
}

/// The thresholds of a spec in one line: `all p99 <= 50.00ms, error_rate <= 0.10%;
/// view_timeline p99 <= 30.00ms`.
pub fn describe_slo(spec: &SloSpec) -> String {
    spec.scopes
        .iter()
        .filter(|s| !s.thresholds.is_empty())
        .map(|s| {
            let items: Vec<String> = s
                .thresholds
                .iter()
                .map(|t| {
                    let op = if t.metric.is_lower_bound() {
                        ">="
                    } else {
                        "<="
                    };
                    format!(
                        "{} {op} {}",
                        t.metric.as_str(),
                        fmt_metric(t.metric.as_str(), t.limit)
                    )
                })
                .collect();
            format!("{} {}", s.scope, items.join(", "))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// One line describing a check: `all p99 = 12.30ms (limit <= 50.00ms): pass`.
pub fn describe(c: &SloCheck) -> String {
    let op = match parse_metric(&c.metric) {
        Some(m) if m.is_lower_bound() => ">=",
        _ => "<=",
    };
    let verdict = if c.pass { "pass" } else { "FAIL" };
    if c.metric == SATURATED {
        let reason = c.reason.as_deref().unwrap_or("the run was saturated");
        return format!("{} not saturated: {verdict}: {reason}", c.scope);
    }
    match &c.reason {
        Some(reason) => format!(
            "{} {} (limit {op} {}): {verdict}: {reason}",
            c.scope,
            c.metric,
            fmt_metric(&c.metric, c.limit)
        ),
        None => format!(
            "{} {} = {} (limit {op} {}): {verdict}",
            c.scope,
            c.metric,
            fmt_metric(&c.metric, c.value),
            fmt_metric(&c.metric, c.limit)
        ),
    }
}
