//! Deterministic, constructed runs for tests, snapshots and docs: built from histograms with
//! fixed values, so report, compare, check and merge are tested without a load engine.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;

use crate::histogram::{encode, new_histogram};
use crate::run::{
    ErrorCounts, RunResult, ScopeResult, Settings, SloOutcome, TimelinePoint, RUN_FORMAT,
};

/// One action of a constructed run.
#[derive(Debug, Clone)]
pub struct ActionSpec {
    pub name: String,
    /// Latency (from intended send) of every request, microseconds.
    pub latency: Histogram<u64>,
    pub errors: ErrorCounts,
}

/// A histogram of `n` values spread from `base_us` up a long tail (value i of n is
/// `base / (1 - 0.999 i / n)`), the shape latency usually has.
pub fn tail_histogram(n: u64, base_us: u64) -> Histogram<u64> {
    let mut h = new_histogram();
    for i in 0..n {
        let q = i as f64 / n as f64;
        let v = (base_us as f64 / (1.0 - 0.999 * q)).round() as u64;
        h.record(v.clamp(1, crate::histogram::HIGHEST_US)).unwrap();
    }
    h
}

/// Error counts of `n` responses with `status`.
pub fn status_errors(status: &str, n: u64) -> ErrorCounts {
    ErrorCounts {
        total: n,
        status: BTreeMap::from([(status.to_string(), n)]),
        ..ErrorCounts::default()
    }
}

fn quantile(h: &Histogram<u64>, q: f64) -> u64 {
    if h.is_empty() {
        0
    } else {
        h.value_at_quantile(q)
    }
}

/// Second `t`'s (1-based) part of `total` spread evenly over `seconds`: the remainder goes one
/// each to the first seconds, so the parts add up to `total`.
pub fn share(total: u64, seconds: u64, t: u64) -> u64 {
    let seconds = seconds.max(1);
    total / seconds + u64::from(t <= total % seconds)
}

/// `h`'s values dealt round-robin (in value order) into `parts` histograms, so that every part
/// has (nearly) the same distribution.
pub fn spread_over(h: &Histogram<u64>, parts: u64) -> Vec<Histogram<u64>> {
    let mut out: Vec<Histogram<u64>> = (0..parts.max(1)).map(|_| new_histogram()).collect();
    let mut k = 0usize;
    for v in h.iter_recorded() {
        for _ in 0..v.count_at_value() {
            let n = out.len();
            out[k % n].record(v.value_iterated_to()).unwrap();
            k += 1;
        }
    }
    out
}

/// A run of `actions` over `duration_s` seconds; `all` is the sum of the actions, the service
/// histograms equal the latency ones (as in the closed model), the timeline spreads requests
/// evenly over the seconds ([`share`]; each second's histograms get every `duration_s`-th value, so the
/// seconds have the same distribution) and the run carries no SLO checks.
pub fn build_run(scenario: &str, duration_s: u64, actions: &[ActionSpec]) -> RunResult {
    let mut all = new_histogram();
    let mut all_errors = ErrorCounts::default();
    let mut scopes = BTreeMap::new();
    for a in actions {
        all.add(&a.latency).unwrap();
        all_errors.add(&a.errors);
        let scope =
            ScopeResult::from_histograms(&a.latency, &a.latency, a.latency.len(), a.errors.clone())
                .unwrap();
        scopes.insert(a.name.clone(), scope);
    }
    let requests = all.len();
    let all_scope = ScopeResult::from_histograms(&all, &all, requests, all_errors.clone()).unwrap();
    let spread: Vec<(&str, Vec<Histogram<u64>>)> = actions
        .iter()
        .map(|a| (a.name.as_str(), spread_over(&a.latency, duration_s)))
        .collect();
    let timeline = (1..=duration_s)
        .map(|t| {
            let i = (t - 1) as usize;
            let mut all = new_histogram();
            let mut action_histograms = BTreeMap::new();
            for (name, parts) in &spread {
                all.add(&parts[i]).unwrap();
                if !parts[i].is_empty() {
                    action_histograms.insert(name.to_string(), encode(&parts[i]).unwrap());
                }
            }
            TimelinePoint {
                t_s: t,
                requests: share(requests, duration_s, t),
                errors: share(all_errors.total, duration_s, t),
                dropped: 0,
                p50_us: quantile(&all, 0.5),
                p99_us: quantile(&all, 0.99),
                histogram: if all.is_empty() {
                    String::new()
                } else {
                    encode(&all).unwrap()
                },
                action_histograms,
            }
        })
        .collect();
    RunResult {
        format: RUN_FORMAT.to_string(),
        scenario: scenario.to_string(),
        target: "http://127.0.0.1:8080".to_string(),
        model: "open".to_string(),
        arrivals: "uniform".to_string(),
        target_rps: Some(requests as f64 / duration_s as f64),
        started_at: "2026-01-02T03:04:05Z".to_string(),
        duration_s: duration_s as f64,
        requests,
        achieved_rps: requests as f64 / duration_s as f64,
        dropped: 0,
        saturated: false,
        send_lag_us: None,
        connections_busy: None,
        protocol: "http/1.1".to_string(),
        tls: None,
        insecure: false,
        connections_opened: 0,
        interrupted: false,
        errors: all_errors,
        all: all_scope,
        actions: scopes,
        timeline,
        slo: SloOutcome {
            pass: true,
            checks: Vec::new(),
        },
        settings: Settings {
            scenario_file: Some(format!("scenarios/{scenario}.yaml")),
            connections: Some(64),
            warmup_s: 5.0,
            timeout_s: 5.0,
            seed: Some(42),
            ..Settings::default()
        },
        shard: None,
    }
}

/// The standard sample: a 10 s twitter run, post_tweet (1,000 requests from 800 us, 5 x 503)
/// and view_timeline (4,000 requests from 300 us, 2 timeouts), gated on [`sample_slo`].
pub fn sample_run() -> RunResult {
    let timeouts = ErrorCounts {
        total: 2,
        timeout: 2,
        ..ErrorCounts::default()
    };
    let mut run = build_run(
        "twitter",
        10,
        &[
            ActionSpec {
                name: "post_tweet".into(),
                latency: tail_histogram(1_000, 800),
                errors: status_errors("503", 5),
            },
            ActionSpec {
                name: "view_timeline".into(),
                latency: tail_histogram(4_000, 300),
                errors: timeouts,
            },
        ],
    );
    run.slo = crate::slo::evaluate(&run, &sample_slo());
    run
}

/// The SLO of [`sample_run`]: `all` p99 <= 50 ms and error_rate <= 1% (pass), post_tweet
/// error_rate <= 0.1% (fails: 0.5%).
pub fn sample_slo() -> estimator::SloSpec {
    use estimator::{SloMetric, SloScope, SloSpec, Threshold};
    let t = |metric, limit| Threshold { metric, limit };
    SloSpec {
        scopes: vec![
            SloScope {
                scope: "all".into(),
                thresholds: vec![t(SloMetric::P99, 50_000.0), t(SloMetric::ErrorRate, 0.01)],
            },
            SloScope {
                scope: "post_tweet".into(),
                thresholds: vec![t(SloMetric::ErrorRate, 0.001)],
            },
        ],
    }
}

/// A run against an unreachable target: `requests` attempts of one action (`view_timeline`)
/// over `duration_s` seconds, every one a connect error, so no latency was ever recorded.
pub fn unreachable_run(requests: u64, duration_s: u64) -> RunResult {
    let mut run = build_run(
        "twitter",
        duration_s,
        &[ActionSpec {
            name: "view_timeline".into(),
            latency: new_histogram(),
            errors: ErrorCounts::default(),
        }],
    );
    let errors = ErrorCounts {
        total: requests,
        connect: requests,
        ..ErrorCounts::default()
    };
    let scopes = std::iter::once(&mut run.all).chain(run.actions.values_mut());
    for scope in scopes {
        scope.requests = requests;
        scope.errors = requests;
        scope.error_kinds = errors.clone();
    }
    run.requests = requests;
    run.achieved_rps = requests as f64 / duration_s as f64;
    run.target_rps = Some(run.achieved_rps);
    run.errors = errors;
    for p in &mut run.timeline {
        p.requests = share(requests, duration_s, p.t_s);
        p.errors = p.requests;
    }
    run
}
