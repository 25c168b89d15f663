//! `napkin compare`: significance-tested regression check of new runs against baseline runs
//! (`BASE.json NEW.json`, or `--base RUN... --new RUN...`); exit 1 when a metric regressed
//! significantly beyond the tolerances (method in docs/reports.md and `reports::compare`).

use std::io::Write;
use std::path::{Path, PathBuf};

use reports::compare::{compare_paired, compare_runs, Comparison, Tolerance};
use reports::compare_format::{render_comparison, CompareFormat};
use reports::RunResult;

/// Arguments of `napkin compare`.
#[derive(Debug, clap::Args)]
pub struct CompareArgs {
    /// BASE.json NEW.json: one baseline run (e.g. committed to the repository) and one new
    /// run; their 1 s intervals are the samples. For several runs per side use --base/--new.
    #[arg(value_name = "RUN")]
    pub runs: Vec<PathBuf>,
    /// Baseline runs; with several runs on a side each run is one sample (benchstat-style).
    #[arg(long, num_args = 1.., value_name = "RUN")]
    pub base: Vec<PathBuf>,
    /// New runs to check against the --base runs.
    #[arg(long, num_args = 1.., value_name = "RUN")]
    pub new: Vec<PathBuf>,
    /// The --base and --new runs are pairs, by position (e.g. the rounds of `napkin ab`:
    /// --base ab-runs/a-*.json --new ab-runs/b-*.json): compared paired, so that what changed
    /// between rounds cancels (Wilcoxon signed-rank).
    #[arg(long)]
    pub paired: bool,
    #[command(flatten)]
    pub gate: GateArgs,
    /// Compare runs of different scenarios (refused otherwise).
    #[arg(long)]
    pub force: bool,
    /// table, markdown (a pull-request comment) or json.
    #[arg(long, short = 'f', default_value = "table", value_parser = parse_format)]
    pub format: CompareFormat,
}

/// The regression rule's flags (`napkin compare` and `napkin ab`).
#[derive(Debug, Clone, clap::Args)]
pub struct GateArgs {
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
    /// A latency percentile p is gated only when every run holds at least N / (1 - p)
    /// samples in the scope (N beyond it): with 10, p99 needs 1,000 requests, p99.9 needs
    /// 10,000. 0 gates every percentile.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub min_tail_samples: u64,
    /// Significance level: a change counts only when its two-sided p-value is below it.
    /// Between 0 and 0.5, e.g. 0.01 or 1%.
    #[arg(long, default_value = "0.01", value_parser = parse_alpha)]
    pub alpha: f64,
}

impl GateArgs {
    pub fn tolerance(&self) -> Tolerance {
        Tolerance {
            max_regression: self.max_regression,
            min_delta_us: self.min_delta,
            min_error_delta: self.min_error_delta,
            min_tail_samples: self.min_tail_samples,
            alpha: self.alpha,
        }
    }
}

pub(crate) fn parse_format(s: &str) -> Result<CompareFormat, String> {
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

/// A significance level strictly between 0 and 0.5 (`0.01` or `1%`).
fn parse_alpha(s: &str) -> Result<f64, String> {
    let v = parse_fraction(s)?;
    if v > 0.0 && v < 0.5 {
        Ok(v)
    } else {
        Err(format!(
            "{s:?} is outside (0, 0.5): a significance level is a small probability such as \
             0.01 (1%) or 0.05"
        ))
    }
}

/// A latency floor in microseconds, through the one duration parser (`1ms`, `500us`, `0`).
fn parse_latency_us(s: &str) -> Result<f64, String> {
    estimator::units::duration(s).map(|d| d.as_secs_f64() * 1e6)
}

/// Which runs are compared: BASE NEW, or --base/--new.
fn sides(args: &CompareArgs) -> anyhow::Result<(Vec<PathBuf>, Vec<PathBuf>)> {
    let example = "napkin compare BASE.json NEW.json, or napkin compare --base A.json B.json \
                   --new C.json D.json";
    match (args.runs.len(), args.base.is_empty(), args.new.is_empty()) {
        (2, true, true) => Ok((vec![args.runs[0].clone()], vec![args.runs[1].clone()])),
        (0, false, false) => Ok((args.base.clone(), args.new.clone())),
        (0, false, true) => anyhow::bail!(
            "--base needs --new: give the runs to check with --new RUN... ({example})"
        ),
        (0, true, false) => anyhow::bail!(
            "--new needs --base: give the baseline runs with --base RUN... ({example})"
        ),
        (0, true, true) => anyhow::bail!("nothing to compare; use {example}"),
        (_, true, true) => anyhow::bail!(
            "give exactly two runs (BASE NEW), not {}; for several runs per side use \
             --base RUN... --new RUN...",
            args.runs.len()
        ),
        _ => anyhow::bail!("give either BASE NEW or --base/--new, not both ({example})"),
    }
}

/// Reads run files and refuses a mix of scenarios (on one side or across sides) unless
/// `force`.
pub(crate) fn read_runs(paths: &[&Path], force: bool) -> anyhow::Result<Vec<RunResult>> {
    let runs: Vec<RunResult> = paths
        .iter()
        .map(|p| reports::io::read_run(p))
        .collect::<Result<_, _>>()?;
    if !force {
        check_one_scenario(paths, &runs)?;
    }
    Ok(runs)
}

fn check_one_scenario(paths: &[&Path], runs: &[RunResult]) -> anyhow::Result<()> {
    let (Some(first), Some(first_path)) = (runs.first(), paths.first()) else {
        return Ok(());
    };
    if let Some((path, other)) = paths
        .iter()
        .zip(runs)
        .find(|(_, r)| r.scenario != first.scenario)
    {
        anyhow::bail!(
            "{} is a run of scenario {:?} but {} is of {:?}; compare runs of one scenario, or \
             pass --force",
            path.display(),
            other.scenario,
            first_path.display(),
            first.scenario
        );
    }
    Ok(())
}

/// Writes `comparison` in `format`; the exit code: 1 when it failed. Warnings (too few runs,
/// runs without per-interval data) are in every format and, when stdout is JSON or Markdown
/// (read by machines or pasted into a pull request), also on stderr.
pub(crate) fn report(
    comparison: &Comparison,
    format: CompareFormat,
    out: &mut dyn Write,
) -> anyhow::Result<u8> {
    if format != CompareFormat::Table {
        for w in &comparison.warnings {
            let _ = writeln!(std::io::stderr(), "warning: {w}");
        }
    }
    out.write_all(render_comparison(comparison, format)?.as_bytes())?;
    Ok(if comparison.pass {
        crate::exit::OK
    } else {
        crate::exit::GATE_FAILED
    })
}

pub fn run(args: CompareArgs, out: &mut dyn Write) -> anyhow::Result<u8> {
    let (base, new) = sides(&args)?;
    let paths: Vec<&Path> = base.iter().chain(&new).map(PathBuf::as_path).collect();
    if args.paired && (args.base.is_empty() || base.len() != new.len()) {
        anyhow::bail!(
            "--paired needs --base and --new with as many runs each ({} and {} given): run i \
             of --base is paired with run i of --new",
            base.len(),
            new.len()
        );
    }
    let mut runs = read_runs(&paths, args.force)?;
    let new_runs = runs.split_off(base.len());
    let comparison = if args.paired {
        let pairs: Vec<(RunResult, RunResult)> = runs.into_iter().zip(new_runs).collect();
        compare_paired(&pairs, args.gate.tolerance())?
    } else {
        compare_runs(&runs, &new_runs, args.gate.tolerance())?
    };
    report(&comparison, args.format, out)
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
        assert_eq!(parse_alpha("0.01").unwrap(), 0.01);
        assert_eq!(parse_alpha("5%").unwrap(), 0.05);
        for bad in ["0", "0.5", "0.7", "-0.01", "x"] {
            assert!(parse_alpha(bad).is_err(), "{bad}");
        }
    }
}
