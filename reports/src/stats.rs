//! The significance tests of `napkin compare` and `napkin ab`, computed as scipy.stats computes
//! them (checked against scipy in `reports/tests/stats_scipy.rs`), all two-sided:
//!
//! - [`mann_whitney_u`]: two independent samples (per-interval values of two runs, or per-run
//!   values of two sets of runs);
//! - [`wilcoxon_signed_rank`]: paired differences (rounds of `napkin ab`);
//! - [`fisher_exact`]: two proportions from counts (an action's error rate in two runs);
//! - [`binomial_test`]: one count against a proportion (an action's successful requests in two
//!   runs, as the conditional test of two Poisson rates).
//!
//! Rank tests use mid-ranks for ties. Their exact null distribution (every split, or every
//! sign pattern, equally likely) is counted by dynamic programming over doubled ranks, so it
//! stays exact with ties; large samples use the normal approximation with the tie correction
//! (and, for Mann–Whitney, the continuity correction), as scipy does.

use serde::Serialize;
use statrs::distribution::{Binomial, Discrete, DiscreteCDF, Normal};
use statrs::function::factorial::ln_binomial;

/// How a p-value was computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// From the exact permutation distribution of the statistic.
    Exact,
    /// From the normal approximation.
    Asymptotic,
}

/// A test's statistic and two-sided p-value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TestResult {
    /// Mann–Whitney: U of the first sample. Wilcoxon: the smaller of the positive and
    /// negative rank sums.
    pub statistic: f64,
    pub p_value: f64,
    pub method: Method,
    /// Which way the data lean: +1 when the second sample (Mann–Whitney) or the differences
    /// (Wilcoxon) tend to be larger, -1 when smaller, 0 when balanced.
    pub direction: i8,
}

fn sign(x: f64) -> i8 {
    if x > 0.0 {
        1
    } else if x < 0.0 {
        -1
    } else {
        0
    }
}

/// Work (items x smaller sample x doubled rank sums) up to which the exact Mann–Whitney
/// distribution is counted: about 20 values per side, or 10 against 40; milliseconds.
const EXACT_MWU_WORK: f64 = 2e6;
/// Pairs up to which the exact Wilcoxon distribution is used (scipy's `auto` bound).
const EXACT_WILCOXON_N: usize = 50;
/// scipy's relative tolerance for "as likely as the observed table/count".
const RERR: f64 = 1.0 + 1e-7;

/// Mid-ranks (1-based) of `values` and the sizes of their tie groups.
fn midranks(values: &[f64]) -> (Vec<f64>, Vec<usize>) {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut ties = Vec::new();
    let mut i = 0;
    while i < order.len() {
        let mut j = i + 1;
        while j < order.len() && values[order[j]] == values[order[i]] {
            j += 1;
        }
        let rank = (i + 1 + j) as f64 / 2.0;
        for &k in &order[i..j] {
            ranks[k] = rank;
        }
        ties.push(j - i);
        i = j;
    }
    (ranks, ties)
}

fn tie_term(ties: &[usize]) -> f64 {
    ties.iter().map(|&t| (t as f64).powi(3) - t as f64).sum()
}

fn normal_sf(z: f64) -> f64 {
    use statrs::distribution::ContinuousCDF;
    Normal::new(0.0, 1.0).expect("standard normal").sf(z)
}

/// Two-sided p-value from the two one-sided tails, as scipy's permutation tests combine them.
fn two_sided(less: f64, greater: f64) -> f64 {
    (2.0 * less.min(greater)).clamp(0.0, 1.0)
}

/// Mann–Whitney U test of `x` against `y` (two-sided). None when a sample is empty.
///
/// Exact (permutation distribution of the rank sum, ties included) when it is cheap to count,
/// i.e. up to about 20 values per side (or 10 against 40); otherwise scipy's asymptotic
/// method (normal approximation, tie and continuity corrections).
pub fn mann_whitney_u(x: &[f64], y: &[f64]) -> Option<TestResult> {
    let (n1, n2) = (x.len(), y.len());
    if n1 == 0 || n2 == 0 {
        return None;
    }
    let pooled: Vec<f64> = x.iter().chain(y).copied().collect();
    let (ranks, ties) = midranks(&pooled);
    let r1: f64 = ranks[..n1].iter().sum();
    let u1 = r1 - (n1 * (n1 + 1)) as f64 / 2.0;
    let n = (n1 + n2) as f64;
    let k = n1.min(n2);
    let work = n * k as f64 * (n * (n + 1.0));
    if work <= EXACT_MWU_WORK {
        // The rank sum (doubled, so mid-ranks are integers) of the smaller sample.
        let doubled: Vec<usize> = ranks.iter().map(|r| (r * 2.0).round() as usize).collect();
        let observed: usize = if n1 <= n2 {
            doubled[..n1].iter().sum()
        } else {
            doubled[n1..].iter().sum()
        };
        let dist = subset_sum_distribution(&doubled, k);
        let total: f64 = dist.iter().sum();
        let less: f64 = dist[..=observed].iter().sum::<f64>() / total;
        let greater: f64 = dist[observed..].iter().sum::<f64>() / total;
        return Some(TestResult {
            statistic: u1,
            p_value: two_sided(less, greater),
            method: Method::Exact,
            direction: sign((n1 * n2) as f64 / 2.0 - u1),
        });
    }
    let (f1, f2) = (n1 as f64, n2 as f64);
    let u = u1.max(f1 * f2 - u1);
    let mu = f1 * f2 / 2.0;
    let var = f1 * f2 / 12.0 * ((n + 1.0) - tie_term(&ties) / (n * (n - 1.0)));
    let p_value = if var <= 0.0 {
        1.0
    } else {
        (2.0 * normal_sf((u - mu - 0.5) / var.sqrt())).clamp(0.0, 1.0)
    };
    Some(TestResult {
        statistic: u1,
        p_value,
        method: Method::Asymptotic,
        direction: sign(mu - u1),
    })
}

/// counts[s] = number of `k`-subsets of `items` whose sum is s.
fn subset_sum_distribution(items: &[usize], k: usize) -> Vec<f64> {
    let max_sum: usize = items.iter().sum();
    // ways[j][s]: subsets of size j with sum s, over the items seen so far.
    let mut ways = vec![vec![0.0f64; max_sum + 1]; k + 1];
    ways[0][0] = 1.0;
    let mut reach = 0;
    for &item in items {
        reach += item;
        for j in (1..=k).rev() {
            let (lower, upper) = ways.split_at_mut(j);
            let (from, to) = (&lower[j - 1], &mut upper[0]);
            for s in (item..=reach.min(max_sum)).rev() {
                to[s] += from[s - item];
            }
        }
    }
    ways.pop().expect("k + 1 rows")
}

/// Wilcoxon signed-rank test of paired differences `d` (two-sided; zeros dropped, as scipy's
/// default `zero_method="wilcox"`). None when every difference is zero.
///
/// Exact (every sign pattern equally likely, ties included) up to 50 non-zero differences;
/// beyond, the normal approximation with the tie correction and no continuity correction
/// (scipy's defaults).
pub fn wilcoxon_signed_rank(d: &[f64]) -> Option<TestResult> {
    let nonzero: Vec<f64> = d.iter().copied().filter(|v| *v != 0.0).collect();
    let n = nonzero.len();
    if n == 0 {
        return None;
    }
    let abs: Vec<f64> = nonzero.iter().map(|v| v.abs()).collect();
    let (ranks, ties) = midranks(&abs);
    let r_plus: f64 = ranks
        .iter()
        .zip(&nonzero)
        .filter(|(_, v)| **v > 0.0)
        .map(|(r, _)| r)
        .sum();
    let total = (n * (n + 1)) as f64 / 2.0;
    let statistic = r_plus.min(total - r_plus);
    let direction = sign(r_plus - total / 2.0);
    if n <= EXACT_WILCOXON_N {
        let doubled: Vec<usize> = ranks.iter().map(|r| (r * 2.0).round() as usize).collect();
        let observed = (r_plus * 2.0).round() as usize;
        let dist = sign_sum_distribution(&doubled);
        let all: f64 = dist.iter().sum();
        let less = dist[..=observed].iter().sum::<f64>() / all;
        let greater = dist[observed..].iter().sum::<f64>() / all;
        return Some(TestResult {
            statistic,
            p_value: two_sided(less, greater),
            method: Method::Exact,
            direction,
        });
    }
    let nf = n as f64;
    let mean = nf * (nf + 1.0) / 4.0;
    let var = (nf * (nf + 1.0) * (2.0 * nf + 1.0) - tie_term(&ties) / 2.0) / 24.0;
    let p_value = if var <= 0.0 {
        1.0
    } else {
        (2.0 * normal_sf(((r_plus - mean) / var.sqrt()).abs())).clamp(0.0, 1.0)
    };
    Some(TestResult {
        statistic,
        p_value,
        method: Method::Asymptotic,
        direction,
    })
}

/// counts[s] = number of sign patterns whose positive items sum to s.
fn sign_sum_distribution(items: &[usize]) -> Vec<f64> {
    let max_sum: usize = items.iter().sum();
    let mut ways = vec![0.0f64; max_sum + 1];
    ways[0] = 1.0;
    for &item in items {
        for s in (item..=max_sum).rev() {
            ways[s] += ways[s - item];
        }
    }
    ways
}

/// Fisher's exact test (two-sided) of the 2x2 table `[[a, b], [c, d]]`: the probability,
/// given the margins, of a table at most as likely as this one (scipy's `fisher_exact`).
pub fn fisher_exact(a: u64, b: u64, c: u64, d: u64) -> f64 {
    let (row1, col1, total) = (a + b, a + c, a + b + c + d);
    if row1 == 0 || c + d == 0 || col1 == 0 || col1 == total {
        return 1.0;
    }
    // X = a is hypergeometric: col1 "successes" among `total`, `row1` drawn.
    let ln_pmf = |x: u64| {
        ln_binomial(col1, x) + ln_binomial(total - col1, row1 - x) - ln_binomial(total, row1)
    };
    let observed = ln_pmf(a).exp() * RERR;
    let lo = (row1 + col1).saturating_sub(total);
    let hi = row1.min(col1);
    let p: f64 = (lo..=hi)
        .map(|x| ln_pmf(x).exp())
        .filter(|p| *p <= observed)
        .sum();
    p.min(1.0)
}

/// Exact binomial test (two-sided) of `k` successes in `n` trials against probability `p`
/// (scipy's `binomtest`): the probability of an outcome at most as likely as `k`. The pmf is
/// unimodal, so the other tail's boundary is found by binary search and both tails are summed
/// with the CDF.
pub fn binomial_test(k: u64, n: u64, p: f64) -> f64 {
    if n == 0 || !(p > 0.0 && p < 1.0) {
        return 1.0;
    }
    let dist = Binomial::new(p, n).expect("0 < p < 1");
    let d = dist.pmf(k) * RERR;
    let mean = p * n as f64;
    // P(X >= x).
    let at_least = |x: u64| if x == 0 { 1.0 } else { dist.sf(x - 1) };
    let p_value = if (k as f64) == mean {
        1.0
    } else if (k as f64) < mean {
        // Upper tail: from the first x above the mean whose pmf is <= d.
        let from = first_falling_at_most(&dist, d, mean.ceil() as u64, n);
        dist.cdf(k) + if from > n { 0.0 } else { at_least(from) }
    } else {
        // Lower tail: up to the last x below the mean whose pmf is <= d.
        let lower = last_rising_at_most(&dist, d, mean.floor() as u64).map_or(0.0, |x| dist.cdf(x));
        lower + at_least(k)
    };
    p_value.min(1.0)
}

/// The smallest x in [lo, n] with pmf(x) <= d, where the pmf falls with x; n + 1 if none.
fn first_falling_at_most(dist: &Binomial, d: f64, lo: u64, n: u64) -> u64 {
    let (mut lo, mut hi) = (lo, n + 1);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if dist.pmf(mid) <= d {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    lo
}

/// The largest x in [0, hi] with pmf(x) <= d, where the pmf rises with x; None if none.
fn last_rising_at_most(dist: &Binomial, d: f64, hi: u64) -> Option<u64> {
    if dist.pmf(0) > d {
        return None;
    }
    let (mut lo, mut hi) = (0, hi);
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if dist.pmf(mid) <= d {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    Some(lo)
}

/// The smallest two-sided p-value Mann–Whitney can give for samples of `n` and `m` without
/// ties: 2 / C(n + m, n). With a significance level at or below it nothing is significant.
pub fn mwu_min_p(n: usize, m: usize) -> f64 {
    if n == 0 || m == 0 {
        return 1.0;
    }
    (2.0 / ln_binomial((n + m) as u64, n as u64).exp()).min(1.0)
}

/// The smallest two-sided p-value of the Wilcoxon signed-rank test with `n` pairs: 2 / 2^n.
pub fn signed_rank_min_p(n: usize) -> f64 {
    (2.0 / 2f64.powi(n as i32)).min(1.0)
}

/// The fewest runs per side (equal sides) with which Mann–Whitney can give p < `alpha`.
pub fn runs_needed(alpha: f64) -> usize {
    (1..64).find(|&k| mwu_min_p(k, k) < alpha).unwrap_or(64)
}

/// The fewest pairs with which the signed-rank test can give p < `alpha`.
pub fn pairs_needed(alpha: f64) -> usize {
    (1..64)
        .find(|&k| signed_rank_min_p(k) < alpha)
        .unwrap_or(64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smallest_p_values() {
        assert!((mwu_min_p(5, 5) - 2.0 / 252.0).abs() < 1e-12);
        assert_eq!(runs_needed(0.01), 5);
        assert_eq!(runs_needed(0.05), 4);
        assert_eq!(pairs_needed(0.01), 8);
        assert_eq!(pairs_needed(0.05), 6);
        // Fully separated 5 vs 5 reaches exactly the bound.
        let r = mann_whitney_u(&[1., 2., 3., 4., 5.], &[6., 7., 8., 9., 10.]).unwrap();
        assert_eq!(r.method, Method::Exact);
        assert!((r.p_value - 2.0 / 252.0).abs() < 1e-12, "{r:?}");
        assert_eq!(r.statistic, 0.0);
    }

    #[test]
    fn identical_samples_are_not_significant() {
        let r = mann_whitney_u(&[3.0; 20], &[3.0; 30]).unwrap();
        assert_eq!(r.p_value, 1.0);
        assert!(wilcoxon_signed_rank(&[0.0; 5]).is_none());
        assert_eq!(fisher_exact(0, 100, 0, 100), 1.0);
        assert_eq!(binomial_test(50, 100, 0.5), 1.0);
    }
}
