//! `napkin compare`: regression check of a new run against a baseline; exit 1 when a latency
//! percentile or the error rate regresses beyond tolerance, or throughput drops beyond it
//! (rules in docs/reports.md and `reports::compare`).

use std::io::Write;
use std::path::PathBuf;

use reports::compare::{compare, Tolerance};
use reports::compare_format::{render_comparison, CompareFormat};

/// Arguments of `napkin compare`.
#[derive(Debug, clap::Args)]
pub struct CompareArgs {
    /// Baseline run (e.g. committed to the repository).
    pub base: PathBuf,
    /// New run to check against the baseline.
    pub new: PathBuf,
    /// Relative tolerance: `10%` or a fraction `0.1` (a bare number above 1 is refused).
    #[arg(long, default_value = "10%", value_parser = parse_fraction)]
    pub max_regression: f64,
    /// Latency changes up to this absolute size never fail (`1ms`, `500us`, `0`), so that
    /// 40us -> 50us is not a +25% regression.
    #[arg(long, default_value = "1ms", value_parser = parse_latency_us)]
    pub min_delta: f64,
    /// Error-rate changes up to this absolute size never fail (`0.1%` or `0.001`; a bare
    /// number above 1 is refused).
    #[arg(long, default_value = "0.1%", value_parser = parse_fraction)]
    pub min_error_delta: f64,
    /// A latency percentile p is gated only when both runs hold at least N / (1 - p) samples
    /// in the scope (N beyond it): with 10, p99 needs 1,000 requests, p99.9 needs 10,000.
    /// 0 gates every percentile.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub min_tail_samples: u64,
    /// table, markdown or json.
    #[arg(long, short = 'f', default_value = "table", value_parser = parse_format)]
    pub format: CompareFormat,
}

fn parse_format(s: &str) -> Result<CompareFormat, String> {
    CompareFormat::parse(s)
        .ok_or_else(|| format!("unknown compare format {s:?}; use one of: table, markdown, json"))
}

/// `10%` -> 0.1; `0.1` -> 0.1. A bare number above 1 (`10`) is refused: it would be read as
/// 1000%, which is almost surely meant as `10%`.
pub(crate) fn parse_fraction(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let (v, bare) = match t.strip_suffix('%') {
        Some(p) => (p.trim().parse::<f64>().map(|v| v / 100.0), false),
        None => (t.parse::<f64>(), true),
    };
    let v = v.map_err(|_| format!("{s:?} is not a percentage; write e.g. 10% or 0.1"))?;
    if !(v.is_finite() && v >= 0.0) {
        return Err(format!("{s:?} must be a percentage of at least 0"));
    }
    if bare && v > 1.0 {
        return Err(format!(
            "{s:?} is a fraction above 1 ({}%); for {t} percent write {t}% (or {})",
            v * 100.0,
            v / 100.0
        ));
    }
    Ok(v)
}

/// `1ms` -> 1000; `500us` -> 500; `0.5s` -> 500000; `0` -> 0.
fn parse_latency_us(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let (num, scale) = if let Some(n) = t.strip_suffix("us") {
        (n, 1.0)
    } else if let Some(n) = t.strip_suffix("ms") {
        (n, 1_000.0)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1_000_000.0)
    } else if t == "0" {
        ("0", 1.0)
    } else {
        return Err(format!("{s:?} needs a unit: us, ms or s (e.g. 1ms)"));
    };
    let v: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a duration; write e.g. 1ms or 500us"))?;
    if !(v.is_finite() && v >= 0.0) {
        return Err(format!("{s:?} must be at least 0"));
    }
    Ok(v * scale)
}

pub fn run(args: CompareArgs, out: &mut dyn Write) -> anyhow::Result<u8> {
    let base = reports::io::read_run(&args.base)?;
    let new = reports::io::read_run(&args.new)?;
    let tolerance = Tolerance {
        max_regression: args.max_regression,
        min_delta_us: args.min_delta,
        min_error_delta: args.min_error_delta,
        min_tail_samples: args.min_tail_samples,
    };
    let comparison = compare(&base, &new, tolerance)?;
    out.write_all(render_comparison(&comparison, args.format)?.as_bytes())?;
    Ok(if comparison.pass {
        crate::exit::OK
    } else {
        crate::exit::GATE_FAILED
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_tolerances() {
        assert_eq!(parse_fraction("10%").unwrap(), 0.1);
        assert_eq!(parse_fraction("0.25").unwrap(), 0.25);
        assert!(parse_fraction("ten").is_err());
        assert!(parse_fraction("-5%").is_err());
        assert_eq!(parse_fraction("1").unwrap(), 1.0);
        assert_eq!(parse_fraction("150%").unwrap(), 1.5);
        let err = parse_fraction("10").unwrap_err();
        assert!(err.contains("10%") && err.contains("0.1"), "{err}");
        assert_eq!(parse_latency_us("1ms").unwrap(), 1000.0);
        assert_eq!(parse_latency_us("500us").unwrap(), 500.0);
        assert_eq!(parse_latency_us("0.5s").unwrap(), 500_000.0);
        assert_eq!(parse_latency_us("0").unwrap(), 0.0);
        assert!(parse_latency_us("5").is_err());
    }
}
