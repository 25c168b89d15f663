//! Hot-key shares of Zipf key spaces: what fraction of requests the hottest 1%, 10% and 20%
//! of keys receive (the curve behind the 80/20 rule), and the hit ratio of a cache that holds
//! the hottest k keys, with k the scenario's `cache:` size scaled to the key space. This is
//! the estimate that `bench/cache.sh` measures against the reference server's cache.
//!
//! Under Zipf(s) over n keys, P(key = i) = i^-s / H(n, s), with H the generalized harmonic
//! number, so the hottest k keys receive H(k, s) / H(n, s) of the requests. H is summed
//! exactly up to [`EXACT`] terms and by Euler–Maclaurin beyond (error below 1e-12 relative),
//! so key spaces of billions cost microseconds.

use crate::estimate::Estimate;
use crate::model::{KeyDistribution, Scenario};
use crate::units::DAY_S;

/// Terms of H summed one by one before the Euler–Maclaurin tail.
const EXACT: u64 = 1000;

/// The hot-key figures of one Zipf key space of a scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct HotKeys {
    /// The key space's name under `load.keys`.
    pub name: String,
    pub keys: u64,
    pub exponent: f64,
    /// Share of requests to the hottest 1%, 10% and 20% of keys.
    pub top_1: f64,
    pub top_10: f64,
    pub top_20: f64,
    /// The cache as a share of the data set (see [`cache_fraction`]), if the scenario has one.
    pub cache_fraction: Option<f64>,
    /// Keys a cache of that share holds: round(fraction x keys).
    pub cache_keys: Option<u64>,
    /// Predicted hit ratio of a cache holding the hottest `cache_keys` keys.
    pub hit_ratio: Option<f64>,
}

/// H(k, s) = sum of i^-s for i in 1..=k.
pub fn harmonic(k: u64, s: f64) -> f64 {
    let exact = k.min(EXACT);
    let head: f64 = (1..=exact).map(|i| (i as f64).powf(-s)).sum();
    if k <= EXACT {
        return head;
    }
    // Euler–Maclaurin for i in (EXACT, k]: integral plus end corrections.
    let (a, b) = (EXACT as f64, k as f64);
    let f = |x: f64| x.powf(-s);
    let df = |x: f64| -s * x.powf(-s - 1.0);
    let integral = if (s - 1.0).abs() < 1e-12 {
        (b / a).ln()
    } else {
        (b.powf(1.0 - s) - a.powf(1.0 - s)) / (1.0 - s)
    };
    head + integral + (f(b) - f(a)) / 2.0 + (df(b) - df(a)) / 12.0
}

/// Share of requests that the hottest `k` of `n` keys receive under Zipf(`s`).
pub fn zipf_share(n: u64, s: f64, k: u64) -> f64 {
    if n == 0 {
        return 0.0;
    }
    harmonic(k.min(n), s) / harmonic(n, s)
}

/// The hottest `fraction` of `n` keys, rounded to whole keys.
fn top_keys(n: u64, fraction: f64) -> u64 {
    ((n as f64 * fraction).round() as u64).min(n)
}

/// The cache as a share of the data set its keys address: cache bytes over the bytes stored
/// during retention (one copy), or, when the scenario stores nothing, over a day of read
/// egress (so `hot_fraction` alone is its own share). None without a cache; at most 1.
pub fn cache_fraction(s: &Scenario, e: &Estimate) -> Option<f64> {
    if e.totals.cache_bytes <= 0.0 {
        return None;
    }
    let retention_days = s.storage.retention.as_secs_f64() / DAY_S;
    let stored = e.totals.stored_bytes_per_day * retention_days;
    let read_per_day: f64 = e
        .actions
        .iter()
        .filter(|a| a.kind == crate::model::ActionKind::Read)
        .map(|a| a.egress_bytes_per_sec * DAY_S)
        .sum();
    let data_set = if stored > 0.0 { stored } else { read_per_day };
    (data_set > 0.0).then(|| (e.totals.cache_bytes / data_set).min(1.0))
}

/// The hot-key figures of every Zipf key space of the scenario's `load.keys`, in file order.
pub fn hot_keys(s: &Scenario, e: &Estimate) -> Vec<HotKeys> {
    let fraction = cache_fraction(s, e);
    s.load
        .keys
        .iter()
        .filter_map(|k| match k.distribution {
            KeyDistribution::Zipf { exponent } => Some((k, exponent)),
            KeyDistribution::Uniform => None,
        })
        .map(|(k, exp)| {
            let share = |f: f64| zipf_share(k.count, exp, top_keys(k.count, f));
            let cache_keys = fraction.map(|f| top_keys(k.count, f));
            HotKeys {
                name: k.name.clone(),
                keys: k.count,
                exponent: exp,
                top_1: share(0.01),
                top_10: share(0.10),
                top_20: share(0.20),
                cache_fraction: fraction,
                cache_keys,
                hit_ratio: cache_keys.map(|c| zipf_share(k.count, exp, c)),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn direct(k: u64, s: f64) -> f64 {
        (1..=k).map(|i| (i as f64).powf(-s)).sum()
    }

    #[test]
    fn the_tail_formula_agrees_with_direct_summation() {
        for s in [0.5, 0.8, 1.0, 1.2, 2.0] {
            for k in [1, 999, 1000, 1001, 5_000, 123_457, 2_000_000] {
                let (fast, slow) = (harmonic(k, s), direct(k, s));
                assert!(
                    ((fast - slow) / slow).abs() < 1e-10,
                    "H({k}, {s}): {fast} vs {slow}"
                );
            }
        }
    }

    #[test]
    fn shares_match_hand_computed_values() {
        // H(2000)/H(10000) for s = 1: the 80/20 rule's curve.
        let s20 = zipf_share(10_000, 1.0, 2_000);
        assert!((s20 - 0.835_58).abs() < 1e-4, "{s20}");
        assert_eq!(zipf_share(100, 1.0, 100), 1.0);
        assert_eq!(zipf_share(100, 1.0, 0), 0.0);
        assert_eq!(zipf_share(0, 1.0, 5), 0.0);
        // Key 1 alone under s = 2 over many keys: 1 / zeta(2) = 6 / pi^2.
        let one = zipf_share(10_000_000, 2.0, 1);
        assert!(
            (one - 6.0 / std::f64::consts::PI.powi(2)).abs() < 1e-6,
            "{one}"
        );
    }

    #[test]
    fn the_twitter_scenario_caches_3_days_of_5_years() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../scenarios/twitter.yaml"
        ))
        .unwrap();
        let s = crate::parse_str(&text, "twitter.yaml", &[]).unwrap();
        let e = crate::estimate(&s);
        let hot = hot_keys(&s, &e);
        assert_eq!(hot.len(), 1);
        let h = &hot[0];
        assert_eq!((h.name.as_str(), h.keys, h.exponent), ("user", 10_000, 1.0));
        let f = h.cache_fraction.unwrap();
        assert!((f - 3.0 / (5.0 * 365.0)).abs() < 1e-4, "{f}");
        assert_eq!(h.cache_keys, Some(16));
        let expect = direct(16, 1.0) / direct(10_000, 1.0);
        assert!((h.hit_ratio.unwrap() - expect).abs() < 1e-12);
        assert!(h.top_1 < h.top_10 && h.top_10 < h.top_20 && h.top_20 < 1.0);
    }
}
