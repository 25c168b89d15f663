//! Key spaces: ids are 1-based, id 1 is the hottest under zipf, and the exponent fitted by
//! maximum likelihood to rendered ids is the configured one; uniform spaces are flat.

mod traffic_common;

use loadgen::source::{RequestId, SourceFactory};
use traffic_common::*;

/// Ids rendered into `/users/{{user}}` by one lane.
fn sample_ids(space: estimator::KeySpace, n: usize, seed: u64) -> Vec<u64> {
    let s = scenario(
        vec![action("a", 1.0, request("GET", "/users/{{user}}", None))],
        vec![space],
    );
    let source = source(&s).unwrap();
    let mut lane = source.lane(0, 1, seed);
    (0..n as u64)
        .map(|k| {
            lane.next_request(RequestId::new(seed, k))
                .path
                .strip_prefix("/users/")
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect()
}

/// Log-likelihood per sample of a Zipf(s) over 1..=n given the mean of ln k.
fn log_likelihood(s: f64, n: u64, mean_ln_k: f64) -> f64 {
    let h: f64 = (1..=n).map(|k| (k as f64).powf(-s)).sum();
    -s * mean_ln_k - h.ln()
}

/// Maximum-likelihood exponent by golden-section search on [0.05, 4] (the likelihood is
/// concave in s).
fn fit_zipf(ids: &[u64], n: u64) -> f64 {
    let mean_ln_k = ids.iter().map(|&k| (k as f64).ln()).sum::<f64>() / ids.len() as f64;
    let phi = (5f64.sqrt() - 1.0) / 2.0;
    let (mut a, mut b) = (0.05, 4.0);
    while b - a > 1e-5 {
        let c = b - phi * (b - a);
        let d = a + phi * (b - a);
        if log_likelihood(c, n, mean_ln_k) > log_likelihood(d, n, mean_ln_k) {
            b = d;
        } else {
            a = c;
        }
    }
    (a + b) / 2.0
}

#[test]
fn fitted_zipf_exponent_is_the_configured_one() {
    for (exponent, seed) in [(1.0, 1), (0.8, 2), (1.3, 3)] {
        let ids = sample_ids(zipf("user", 1000, exponent), 200_000, seed);
        assert!(ids.iter().all(|&k| (1..=1000).contains(&k)));
        let fitted = fit_zipf(&ids, 1000);
        assert!(
            (fitted - exponent).abs() < 0.05,
            "configured {exponent}, fitted {fitted}"
        );
    }
}

#[test]
fn id_one_is_the_hottest() {
    let ids = sample_ids(zipf("user", 100_000, 1.0), 100_000, 4);
    let mut counts = std::collections::BTreeMap::new();
    for k in ids {
        *counts.entry(k).or_insert(0u64) += 1;
    }
    let hottest = counts.iter().max_by_key(|(_, &c)| c).map(|(&k, _)| k);
    assert_eq!(hottest, Some(1));
    // P(1) = 1 / H(100000, 1) = 0.0826.
    let share = counts[&1] as f64 / 100_000.0;
    assert!((share - 0.0826).abs() < 0.005, "{share}");
}

#[test]
fn uniform_keys_are_flat_by_chi_square() {
    let ids = sample_ids(uniform("user", 50), 100_000, 5);
    let mut counts = [0u64; 51];
    for k in ids {
        counts[k as usize] += 1;
    }
    assert_eq!(counts[0], 0);
    let e = 100_000.0 / 50.0;
    let chi2: f64 = counts[1..]
        .iter()
        .map(|&o| (o as f64 - e).powi(2) / e)
        .sum();
    // 49 degrees of freedom, p = 0.001.
    assert!(chi2 < 85.35, "chi2 {chi2}");
}
