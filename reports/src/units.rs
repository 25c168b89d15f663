//! Human formatting of the base units reports print: microseconds as us/ms/s, fractions as
//! percentages, rates as req/s. Machine formats (json, hgrm, hlog) never go through here.

/// `812us`, `1.23ms`, `45.6ms`, `2.50s`.
pub fn fmt_us(us: f64) -> String {
    if !us.is_finite() {
        return "-".to_string();
    }
    let a = us.abs();
    if a < 1_000.0 {
        format!("{}us", round_sig(us, 0))
    } else if a < 1_000_000.0 {
        format!("{:.2}ms", us / 1_000.0)
    } else {
        format!("{:.2}s", us / 1_000_000.0)
    }
}

fn round_sig(v: f64, decimals: usize) -> String {
    format!("{v:.decimals$}")
}

/// `0.10%` (a fraction as a percentage, 2 decimals; tiny values keep 4).
pub fn fmt_pct(fraction: f64) -> String {
    let p = fraction * 100.0;
    if p != 0.0 && p.abs() < 0.01 {
        format!("{p:.4}%")
    } else {
        format!("{p:.2}%")
    }
}

/// `1999.8/s`.
pub fn fmt_rps(rps: f64) -> String {
    format!("{rps:.1}/s")
}

/// A count with thousands separators: `120,000` (the estimator's [`estimator::human::integer`]).
pub fn fmt_count(n: u64) -> String {
    estimator::human::integer(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(fmt_us(812.0), "812us");
        assert_eq!(fmt_us(1_234.0), "1.23ms");
        assert_eq!(fmt_us(2_500_000.0), "2.50s");
        assert_eq!(fmt_pct(0.001), "0.10%");
        assert_eq!(fmt_pct(0.000_01), "0.0010%");
        assert_eq!(fmt_count(120_000), "120,000");
        assert_eq!(fmt_count(12), "12");
    }
}
