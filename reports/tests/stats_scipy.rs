//! The significance tests of `napkin compare` agree with scipy.stats on fixed data: an
//! independent implementation of Mann–Whitney U, Wilcoxon signed-rank, Fisher's exact test
//! and the binomial test. Each case asks scipy for the method napkin used (exact, which with
//! ties is scipy's exact permutation test, or asymptotic). With env CI set, a missing
//! python3/scipy fails the test instead of skipping it.

use std::io::Write;
use std::process::{Command, Stdio};

use reports::stats::{
    binomial_test, fisher_exact, mann_whitney_u, wilcoxon_signed_rank, Method, TestResult,
};
use serde_json::{json, Value};

const SCRIPT: &str = r#"
import json, sys
import numpy as np
from scipy import stats

def method(name):
    return "exact" if name == "exact" else "asymptotic"

out = []
for case in json.load(sys.stdin):
    kind = case["kind"]
    if kind == "mwu":
        ties = len(set(case["x"] + case["y"])) < len(case["x"]) + len(case["y"])
        m = case["method"]
        if m == "exact" and ties:
            m = stats.PermutationMethod(n_resamples=np.inf)
        r = stats.mannwhitneyu(case["x"], case["y"], method=m)
        out.append([float(r.statistic), float(r.pvalue)])
    elif kind == "wilcoxon":
        d = [v for v in case["d"] if v != 0]
        ties = len(set(abs(v) for v in d)) < len(d) or len(d) < len(case["d"])
        m = case["method"]
        if m == "exact" and ties:
            m = stats.PermutationMethod(n_resamples=np.inf)
        r = stats.wilcoxon(case["d"], method=m)
        out.append([float(r.statistic), float(r.pvalue)])
    elif kind == "fisher":
        r = stats.fisher_exact(case["table"])
        out.append([0.0, float(r.pvalue)])
    elif kind == "binom":
        r = stats.binomtest(case["k"], case["n"], case["p"])
        out.append([0.0, float(r.pvalue)])
print(json.dumps(out))
"#;

fn scipy_available() -> bool {
    let ok = Command::new("python3")
        .args([
            "-c",
            "import importlib.util, sys; sys.exit(importlib.util.find_spec('scipy') is None)",
        ])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok && std::env::var_os("CI").is_some() {
        panic!("python3 with scipy is required when CI is set (pip install scipy)");
    }
    ok
}

fn scipy(cases: &[Value]) -> Vec<(f64, f64)> {
    let mut child = Command::new("python3")
        .args(["-c", SCRIPT])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(cases).unwrap().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "scipy script failed");
    let v: Vec<(f64, f64)> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v.len(), cases.len());
    v
}

fn method_name(m: Method) -> &'static str {
    match m {
        Method::Exact => "exact",
        Method::Asymptotic => "asymptotic",
    }
}

/// Latency-like values on the HdrHistogram grid (3 significant digits), so they tie.
fn latencies(n: usize, seed: u64, scale: f64) -> Vec<f64> {
    let mut state = seed;
    (0..n)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let u = (state >> 11) as f64 / (1u64 << 53) as f64;
            let v = scale * (1.0 + 3.0 * u * u);
            (v / 10.0).round() * 10.0
        })
        .collect()
}

fn close(ours: f64, theirs: f64, what: &str) {
    let tol = 1e-9 + 1e-7 * theirs.abs();
    assert!(
        (ours - theirs).abs() <= tol,
        "{what}: napkin {ours} vs scipy {theirs}"
    );
}

/// Fixed rank-test data: (cases for scipy, napkin's results).
fn rank_cases() -> (Vec<Value>, Vec<TestResult>) {
    let mwu_cases: Vec<(Vec<f64>, Vec<f64>)> = vec![
        // Small, no ties: exact.
        (
            vec![1.1, 2.3, 0.7, 4.5, 3.3],
            vec![5.1, 6.0, 2.9, 7.7, 8.1, 3.6],
        ),
        // Fully separated 5 vs 5: the smallest p-value, 2/252.
        (vec![1., 2., 3., 4., 5.], vec![6., 7., 8., 9., 10.]),
        // Small with ties: exact permutation distribution.
        (vec![1., 2., 2., 3., 5.], vec![2., 3., 3., 4., 6., 7.]),
        // 8 vs 8 per-second p99s with ties.
        (latencies(8, 1, 2000.0), latencies(8, 2, 2400.0)),
        // Large with ties: asymptotic (tie and continuity corrections).
        (latencies(60, 3, 250.0), latencies(70, 4, 260.0)),
        (latencies(200, 5, 1000.0), latencies(15, 6, 1500.0)),
    ];
    let wilcoxon_cases: Vec<Vec<f64>> = vec![
        vec![0.12, -0.05, 0.31, 0.08, 0.22, -0.11, 0.19, 0.27, 0.04, 0.15],
        // Ties and a zero: exact permutation distribution.
        vec![1., -2., 2., 3., 0., 4., -1., 5.],
        vec![0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8],
        // 60 pairs: asymptotic.
        latencies(60, 7, 100.0)
            .iter()
            .zip(latencies(60, 8, 110.0))
            .map(|(a, b)| b - a)
            .collect(),
    ];
    let mut cases = Vec::new();
    let mut ours: Vec<TestResult> = Vec::new();
    for (x, y) in &mwu_cases {
        let r = mann_whitney_u(x, y).unwrap();
        cases.push(json!({"kind": "mwu", "x": x, "y": y, "method": method_name(r.method)}));
        ours.push(r);
    }
    for d in &wilcoxon_cases {
        let r = wilcoxon_signed_rank(d).unwrap();
        cases.push(json!({"kind": "wilcoxon", "d": d, "method": method_name(r.method)}));
        ours.push(r);
    }
    // Both methods are exercised.
    assert!(ours.iter().any(|r| r.method == Method::Exact));
    assert!(ours.iter().any(|r| r.method == Method::Asymptotic));
    (cases, ours)
}

/// Fixed count-test data: (cases for scipy, napkin's p-values).
fn count_cases() -> (Vec<Value>, Vec<f64>) {
    let tables: [[u64; 4]; 5] = [
        [3, 1997, 12, 1988],
        [0, 500, 5, 495],
        [40, 960, 40, 960],
        [120, 99_880, 95, 99_905],
        [7, 3, 2, 9],
    ];
    let binoms: [(u64, u64, f64); 6] = [
        (30, 100, 0.5),
        (2000, 3999, 10.0 / 22.0),
        (4000, 8000, 0.5),
        (0, 20, 0.3),
        (20, 20, 0.3),
        (501_234, 1_000_000, 0.5),
    ];
    let mut cases = Vec::new();
    let mut ours = Vec::new();
    for [a, b, c, d] in tables {
        cases.push(json!({"kind": "fisher", "table": [[a, b], [c, d]]}));
        ours.push(fisher_exact(a, b, c, d));
    }
    for (k, n, p) in binoms {
        cases.push(json!({"kind": "binom", "k": k, "n": n, "p": p}));
        ours.push(binomial_test(k, n, p));
    }
    (cases, ours)
}

/// One python process (importing scipy.stats takes seconds) for every case.
#[test]
fn tests_agree_with_scipy() {
    if !scipy_available() {
        eprintln!("skipping: python3 with scipy not found");
        return;
    }
    let (mut cases, ranks) = rank_cases();
    let (counts, count_ps) = count_cases();
    cases.extend(counts);
    let theirs = scipy(&cases);
    let (rank_theirs, count_theirs) = theirs.split_at(ranks.len());
    for (i, (&(stat, p), r)) in rank_theirs.iter().zip(&ranks).enumerate() {
        close(r.statistic, stat, &format!("rank case {i} statistic"));
        close(
            r.p_value,
            p,
            &format!("rank case {i} p-value ({:?})", r.method),
        );
    }
    for (i, (&(_, p), mine)) in count_theirs.iter().zip(&count_ps).enumerate() {
        // The count tests sum many small probabilities; 1e-6 relative is far below alpha.
        let tol = 1e-9 + 1e-6 * p.abs();
        assert!(
            (mine - p).abs() <= tol,
            "count case {i}: napkin {mine} vs scipy {p}"
        );
    }
}
