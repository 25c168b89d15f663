//! Merge semantics on constructed runs: self-merge doubles counts and keeps percentiles,
//! disjoint runs add exactly, timelines align by wall-clock second, scenarios must match.

use std::path::PathBuf;

use reports::fixture::{build_run, sample_run, tail_histogram, ActionSpec};
use reports::histogram::decode;
use reports::merge::{merge, Input};
use reports::run::ErrorCounts;

fn input(name: &str, run: reports::RunResult) -> Input {
    Input {
        path: PathBuf::from(name),
        run,
    }
}

#[test]
fn merging_a_run_with_itself_doubles_counts_and_keeps_percentiles() {
    let run = sample_run();
    let m = merge(
        &[input("a.json", run.clone()), input("b.json", run.clone())],
        false,
    )
    .unwrap();
    assert_eq!(m.requests, 2 * run.requests);
    assert_eq!(m.all.requests, 2 * run.all.requests);
    assert_eq!(m.errors.total, 2 * run.errors.total);
    assert_eq!(m.errors.status["503"], 2 * run.errors.status["503"]);
    assert_eq!(m.errors.timeout, 2 * run.errors.timeout);
    assert_eq!(m.duration_s, run.duration_s);
    assert_eq!(m.achieved_rps, 2.0 * run.achieved_rps);
    assert_eq!(m.target_rps, run.target_rps.map(|t| 2.0 * t));
    for (name, scope) in &run.actions {
        let ms = &m.actions[name];
        assert_eq!(ms.requests, 2 * scope.requests);
        assert_eq!(ms.errors, 2 * scope.errors);
        assert_eq!(ms.latency_us.p50, scope.latency_us.p50);
        assert_eq!(ms.latency_us.p99, scope.latency_us.p99);
        assert_eq!(ms.latency_us.p999, scope.latency_us.p999);
        assert_eq!(ms.latency_us.max, scope.latency_us.max);
        assert_eq!(decode(&ms.histogram).unwrap().len(), 2 * scope.requests);
        assert_eq!(
            decode(&ms.service_histogram).unwrap().len(),
            2 * scope.requests
        );
    }
    assert_eq!(m.timeline.len(), run.timeline.len());
    for (a, b) in m.timeline.iter().zip(&run.timeline) {
        assert_eq!(
            (a.t_s, a.requests, a.errors, a.p99_us),
            (b.t_s, 2 * b.requests, 2 * b.errors, b.p99_us)
        );
    }
    // SLOs re-evaluated: same verdicts (rates and percentiles unchanged).
    assert_eq!(m.slo.checks.len(), 3);
    assert_eq!(m.slo.pass, run.slo.pass);
    assert_eq!(
        m.slo.checks.iter().map(|c| c.pass).collect::<Vec<_>>(),
        run.slo.checks.iter().map(|c| c.pass).collect::<Vec<_>>()
    );
}

#[test]
fn merge_is_exact_for_different_runs() {
    let one = |base, n| ActionSpec {
        name: "post_tweet".into(),
        latency: tail_histogram(n, base),
        errors: ErrorCounts::default(),
    };
    let a = build_run("twitter", 10, &[one(500, 1000)]);
    let b = build_run("twitter", 10, &[one(5000, 3000)]);
    let m = merge(&[input("a", a), input("b", b)], false).unwrap();
    let mut expected = tail_histogram(1000, 500);
    expected.add(tail_histogram(3000, 5000)).unwrap();
    let got = decode(&m.actions["post_tweet"].histogram).unwrap();
    assert_eq!(got, expected);
    assert_eq!(
        m.actions["post_tweet"].latency_us,
        reports::histogram::stats(&expected)
    );
    assert_eq!(m.all.latency_us.p99, expected.value_at_quantile(0.99));
}

#[test]
fn timelines_align_by_wall_clock_second() {
    let a = sample_run();
    let mut b = sample_run();
    b.started_at = "2026-01-02T03:04:08Z".into(); // 3 s later, also 10 s long
    let m = merge(&[input("a", a.clone()), input("b", b)], false).unwrap();
    assert_eq!(m.started_at, "2026-01-02T03:04:05.000Z");
    assert_eq!(m.duration_s, 13.0);
    assert_eq!(m.timeline.len(), 13);
    let per = a.timeline[0].requests;
    assert_eq!(m.timeline[2].requests, per); // second 3: only a
    assert_eq!(m.timeline[3].requests, 2 * per); // second 4: a and b's first second
    assert_eq!(m.timeline[12].requests, per); // second 13: only b
    assert_eq!(m.achieved_rps, m.requests as f64 / 13.0);
}

#[test]
fn timeline_histograms_are_added_exactly() {
    let one = |base, n| ActionSpec {
        name: "post_tweet".into(),
        latency: tail_histogram(n, base),
        errors: ErrorCounts::default(),
    };
    let a = build_run("twitter", 10, &[one(500, 1000)]);
    let b = build_run("twitter", 10, &[one(5000, 3000)]);
    let m = merge(&[input("a", a.clone()), input("b", b.clone())], false).unwrap();
    for (i, p) in m.timeline.iter().enumerate() {
        let mut expected = decode(&a.timeline[i].histogram).unwrap();
        expected
            .add(decode(&b.timeline[i].histogram).unwrap())
            .unwrap();
        assert_eq!(decode(&p.histogram).unwrap(), expected);
        assert_eq!(
            decode(&p.action_histograms["post_tweet"]).unwrap(),
            expected
        );
        // Exact percentiles of the second, not the inputs' maximum.
        assert_eq!(p.p99_us, expected.value_at_quantile(0.99));
        assert_eq!(p.p50_us, expected.value_at_quantile(0.5));
        assert!(p.p50_us < b.timeline[i].p50_us);
    }
    // A run of an older version (no per-interval histograms): upper bounds, no histograms.
    let mut old = b.clone();
    for p in &mut old.timeline {
        p.histogram.clear();
        p.action_histograms.clear();
    }
    let m = merge(&[input("a", a.clone()), input("old", old)], false).unwrap();
    for (i, p) in m.timeline.iter().enumerate() {
        assert!(p.histogram.is_empty() && p.action_histograms.is_empty());
        assert_eq!(p.p50_us, a.timeline[i].p50_us.max(b.timeline[i].p50_us));
    }
}

#[test]
fn different_scenarios_need_force() {
    let a = sample_run();
    let mut b = sample_run();
    b.scenario = "chat".into();
    let err = merge(
        &[input("a.json", a.clone()), input("b.json", b.clone())],
        false,
    )
    .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("b.json") && msg.contains("chat") && msg.contains("--force"),
        "{msg}"
    );
    let m = merge(&[input("a.json", a), input("b.json", b)], true).unwrap();
    assert_eq!(m.scenario, "twitter, chat");
}

#[test]
fn merging_nothing_is_an_error() {
    let err = merge(&[], false).unwrap_err();
    assert!(err.to_string().contains("nothing to merge"));
}

#[test]
fn merging_adds_every_count_of_the_run_and_its_settings() {
    // Two open-model runs that dropped and left requests unfinished: every count adds up,
    // and `settings.unfinished` still equals `errors.unfinished` (docs/load.md's invariant).
    let mut a = sample_run();
    a.errors.unfinished = 3;
    a.errors.total += 3;
    a.settings.unfinished = 3;
    a.settings.offered = Some(a.requests + 400);
    a.dropped = 400;
    a.settings.late = 7;
    a.settings.deferred = 2;
    a.settings.connections = Some(8);
    let mut b = sample_run();
    b.errors.unfinished = 5;
    b.errors.total += 5;
    b.settings.unfinished = 5;
    b.settings.offered = Some(b.requests + 2);
    b.dropped = 2;
    b.settings.late = 1;
    b.settings.connections = Some(4);
    let m = merge(
        &[input("a.json", a.clone()), input("b.json", b.clone())],
        false,
    )
    .unwrap();
    assert_eq!(m.dropped, 402);
    assert_eq!(m.requests, a.requests + b.requests);
    assert_eq!(m.settings.offered, Some(m.requests + 402));
    assert_eq!(m.errors.unfinished, 8);
    assert_eq!(m.settings.unfinished, m.errors.unfinished);
    assert_eq!(m.errors.total, a.errors.total + b.errors.total);
    assert_eq!(m.settings.late, 8);
    assert_eq!(
        m.settings.deferred,
        a.settings.deferred + b.settings.deferred
    );
    assert_eq!(m.settings.connections, Some(12));
    assert!(
        m.saturated,
        "a backlog (more than the connections and 2% of offered) makes the merged run saturated"
    );
}

/// A run over TLS and HTTP/2 with `connect` as its connect histogram.
fn tls_run(
    connect: &hdrhistogram::Histogram<u64>,
    opened: u64,
    resumed: u64,
) -> reports::RunResult {
    let mut run = sample_run();
    run.protocol = "h2".into();
    run.tls = Some(reports::TlsSummary {
        version: "TLSv1.3".into(),
        cipher: "TLS_AES_128_GCM_SHA256".into(),
        alpn: Some("h2".into()),
        resumed,
    });
    run.connections_opened = opened;
    run.all.set_connect(connect).unwrap();
    run.errors.tls = 3;
    run.errors.tls_reasons.insert("expired".into(), 3);
    run.errors.total += 3;
    run.settings.streams = Some(8);
    run
}

#[test]
fn connections_add_up_and_connect_times_merge_exactly() {
    let a_times = tail_histogram(500, 300);
    let b_times = tail_histogram(200, 5_000);
    let a = tls_run(&a_times, 500, 499);
    let mut b = tls_run(&b_times, 200, 150);
    b.insecure = true;
    let m = merge(&[input("a.json", a), input("b.json", b)], false).unwrap();
    let mut both = a_times.clone();
    both.add(&b_times).unwrap();
    let merged = decode(m.all.connect_histogram.as_deref().unwrap()).unwrap();
    assert_eq!(
        merged, both,
        "the merged histogram is the sum, value for value"
    );
    assert_eq!(m.all.connect_us, Some(reports::histogram::stats(&both)));
    assert_eq!(m.connections_opened, 700);
    assert_eq!(m.tls.as_ref().unwrap().resumed, 649);
    assert_eq!(m.tls.as_ref().unwrap().alpn.as_deref(), Some("h2"));
    assert_eq!(m.protocol, "h2");
    assert!(m.insecure, "one input skipped verification");
    assert_eq!(m.errors.tls, 6);
    assert_eq!(m.errors.tls_reasons["expired"], 6);
    assert_eq!(m.settings.streams, Some(8));
    // Actions carry no connect histogram.
    assert!(m.actions.values().all(|s| s.connect_histogram.is_none()));
}

#[test]
fn runs_written_before_tls_load_as_plain_http1() {
    let mut json = serde_json::to_value(sample_run()).unwrap();
    let top = json.as_object_mut().unwrap();
    for field in ["protocol", "tls", "insecure", "connections_opened"] {
        top.remove(field);
    }
    let old: reports::RunResult = serde_json::from_value(json).unwrap();
    assert_eq!(old.protocol, "http/1.1");
    assert_eq!(
        (&old.tls, old.insecure, old.connections_opened),
        (&None, false, 0)
    );
    assert_eq!(old.all.connect_us, None);
    let m = merge(
        &[input("old.json", old.clone()), input("old2.json", old)],
        false,
    )
    .unwrap();
    assert_eq!(m.all.connect_histogram, None);
    assert_eq!(m.protocol, "http/1.1");
}
