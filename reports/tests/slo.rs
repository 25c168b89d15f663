//! SLO evaluation on constructed runs: every metric, both bound directions, missing scopes.

use estimator::{SloMetric, SloScope, SloSpec, Threshold};
use reports::fixture::sample_run;
use reports::slo::{evaluate, spec_from_checks};

fn spec(scope: &str, t: &[(SloMetric, f64)]) -> SloSpec {
    SloSpec {
        scopes: vec![SloScope {
            scope: scope.into(),
            thresholds: t
                .iter()
                .map(|&(metric, limit)| Threshold { metric, limit })
                .collect(),
        }],
    }
}

#[test]
fn latency_metrics_read_the_scope_latency() {
    let run = sample_run();
    let p99 = run.actions["post_tweet"].latency_us.p99 as f64;
    let out = evaluate(&run, &spec("post_tweet", &[(SloMetric::P99, p99)]));
    assert!(out.pass, "{out:?}");
    assert_eq!(out.checks[0].value, p99);
    let out = evaluate(&run, &spec("post_tweet", &[(SloMetric::P99, p99 - 1.0)]));
    assert!(!out.pass);
    assert_eq!(out.checks[0].metric, "p99");
    assert!(out.checks[0].reason.is_none());
}

#[test]
fn every_metric_has_its_value() {
    let run = sample_run();
    let all = &run.all;
    let cases = [
        (SloMetric::P50, all.latency_us.p50 as f64),
        (SloMetric::P90, all.latency_us.p90 as f64),
        (SloMetric::P999, all.latency_us.p999 as f64),
        (SloMetric::Max, all.latency_us.max as f64),
        (SloMetric::Mean, all.latency_us.mean),
        (SloMetric::ErrorRate, 7.0 / 5_000.0),
        (SloMetric::MinRps, 4_993.0 / 10.0),
    ];
    for (metric, expected) in cases {
        let out = evaluate(&run, &spec("all", &[(metric, 1.0)]));
        let v = out.checks[0].value;
        assert!((v - expected).abs() < 1e-9, "{metric:?}: {v} != {expected}");
    }
}

#[test]
fn min_rps_is_a_lower_bound() {
    let run = sample_run();
    // 5,000 requests, 7 errors, 10 s: 499.3 successful requests/s.
    assert!(evaluate(&run, &spec("all", &[(SloMetric::MinRps, 499.3)])).pass);
    assert!(!evaluate(&run, &spec("all", &[(SloMetric::MinRps, 499.4)])).pass);
    assert!(evaluate(&run, &spec("all", &[(SloMetric::ErrorRate, 0.0014)])).pass);
    assert!(!evaluate(&run, &spec("all", &[(SloMetric::ErrorRate, 0.0013)])).pass);
}

#[test]
fn missing_scope_fails_with_a_reason() {
    let run = sample_run();
    let out = evaluate(&run, &spec("like_tweet", &[(SloMetric::P99, 1e12)]));
    assert!(!out.pass);
    let reason = out.checks[0].reason.as_deref().unwrap();
    assert!(
        reason.contains("like_tweet") && reason.contains("post_tweet"),
        "{reason}"
    );
}

#[test]
fn empty_spec_passes_and_checks_rebuild_the_spec() {
    let run = sample_run();
    assert!(evaluate(&run, &SloSpec::default()).pass);
    let original = SloSpec {
        scopes: vec![
            SloScope {
                scope: "all".into(),
                thresholds: vec![
                    Threshold {
                        metric: SloMetric::P99,
                        limit: 50_000.0,
                    },
                    Threshold {
                        metric: SloMetric::ErrorRate,
                        limit: 0.001,
                    },
                ],
            },
            SloScope {
                scope: "view_timeline".into(),
                thresholds: vec![Threshold {
                    metric: SloMetric::P50,
                    limit: 30_000.0,
                }],
            },
        ],
    };
    let out = evaluate(&run, &original);
    assert_eq!(out.checks.len(), 3);
    assert_eq!(spec_from_checks(&out.checks).unwrap(), original);
}

#[test]
fn latency_gates_fail_when_no_response_was_recorded() {
    // Every attempt failed to connect: the latency histograms are empty and latency_us is 0.
    let run = reports::fixture::unreachable_run(1_000, 10);
    let latency = [
        SloMetric::P50,
        SloMetric::P90,
        SloMetric::P99,
        SloMetric::P999,
        SloMetric::Max,
        SloMetric::Mean,
    ];
    for scope in ["all", "view_timeline"] {
        for metric in latency {
            let out = evaluate(&run, &spec(scope, &[(metric, 50_000.0)]));
            assert!(!out.pass, "{scope} {metric:?}: {out:?}");
            assert!(!out.checks[0].pass);
            assert_eq!(
                out.checks[0].reason.as_deref(),
                Some("no responses recorded"),
                "{scope} {metric:?}"
            );
        }
    }
    // The error rate is data: 100% errors is a value, not missing data.
    let out = evaluate(&run, &spec("all", &[(SloMetric::ErrorRate, 1.0)]));
    assert!(out.pass, "{out:?}");
    assert_eq!(out.checks[0].value, 1.0);
    assert!(out.checks[0].reason.is_none());
    let line =
        reports::slo::describe(&evaluate(&run, &spec("all", &[(SloMetric::P99, 1e6)])).checks[0]);
    assert!(line.contains("FAIL: no responses recorded"), "{line}");
}

#[test]
fn min_rps_counts_only_successful_requests() {
    // Every attempt a refused connection, offered at 100/s: no throughput at all.
    let run = reports::fixture::unreachable_run(1_000, 10);
    let out = evaluate(&run, &spec("all", &[(SloMetric::MinRps, 1.0)]));
    assert_eq!(out.checks[0].value, 0.0);
    assert!(!out.pass);
}
