//! `napkin fit FILE.csv`: the Universal Scalability Law fitted to `concurrency,throughput`
//! points measured with any tool (SPEC section 8), printed as the same `usl` object that
//! `napkin capacity --sweep-concurrency` writes. A header line is allowed; every other line
//! must hold two non-negative numbers.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context};
use estimator::usl::{self, Point};

use super::capacity::sweep::warn_about;
use reports::units::fmt_rps;

/// Arguments of `napkin fit`.
#[derive(Debug, clap::Args)]
pub struct FitArgs {
    /// CSV of `concurrency,throughput` rows (a header line is allowed).
    pub csv: PathBuf,
    /// table or json (the `usl` object of SPEC section 8).
    #[arg(long, short = 'f', default_value = "table", value_parser = ["table", "json"])]
    pub format: String,
}

pub fn run(args: FitArgs, out: &mut dyn Write) -> anyhow::Result<u8> {
    let text = std::fs::read_to_string(&args.csv).map_err(|e| {
        anyhow!(
            "{}: cannot read the file: {e}; check the path",
            args.csv.display()
        )
    })?;
    let points = parse_points(&args.csv, &text)?;
    let fit = usl::fit(&points).map_err(|e| anyhow!("{}: {e}", args.csv.display()))?;
    warn_about(&fit, &points);
    if args.format == "json" {
        let mut json = serde_json::to_string_pretty(&fit).context("serialising the fit")?;
        json.push('\n');
        out.write_all(json.as_bytes())?;
        return Ok(crate::exit::OK);
    }
    writeln!(
        out,
        "USL fit of {} points from {}",
        fit.points,
        args.csv.display()
    )?;
    writeln!(out, "  sigma (contention)  {:.6}", fit.sigma)?;
    writeln!(out, "  kappa (coherency)   {:.8}", fit.kappa)?;
    writeln!(out, "  lambda (X at N=1)   {}", fmt_rps(fit.lambda))?;
    match (fit.n_max, fit.x_max) {
        (Some(n), Some(x)) => {
            writeln!(out, "  N_max               {n:.2}")?;
            writeln!(out, "  X_max               {}", fmt_rps(x))?;
        }
        _ => writeln!(
            out,
            "  N_max               none (kappa = 0: throughput approaches lambda / sigma)"
        )?,
    }
    writeln!(out, "  R²                  {:.4}", fit.r_squared)?;
    for b in &fit.bound {
        writeln!(
            out,
            "  {b} is held at its bound 0: the data pulled it below 0 (superlinear scaling or noise)"
        )?;
    }
    Ok(crate::exit::OK)
}

/// Parses `concurrency,throughput` rows; the first line may be a header. Errors name the file
/// and line.
pub fn parse_points(path: &Path, text: &str) -> anyhow::Result<Vec<Point>> {
    let mut points = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = format!("{}:{}", path.display(), i + 1);
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if fields.len() < 2 {
            bail!(
                "{at}: {line:?} has one column; each row is `concurrency,throughput`, e.g. `8,1234.5`"
            );
        }
        let numbers: Vec<Option<f64>> = fields[..2].iter().map(|f| f.parse().ok()).collect();
        let (Some(n), Some(x)) = (numbers[0], numbers[1]) else {
            if points.is_empty() && numbers.iter().all(Option::is_none) {
                continue; // the header line
            }
            bail!("{at}: {line:?} is not two numbers; each row is `concurrency,throughput`, e.g. `8,1234.5`");
        };
        if !(n.is_finite() && x.is_finite()) || n <= 0.0 || x < 0.0 {
            bail!(
                "{at}: concurrency must be > 0 and throughput >= 0 (got {n}, {x}); fix or remove the row"
            );
        }
        points.push(Point {
            concurrency: n,
            throughput: x,
        });
    }
    if points.len() < 3 {
        bail!(
            "{}: {} data row(s); the law has 3 parameters, so give at least 3 rows (6 or more \
             for a fit worth trusting)",
            path.display(),
            points.len()
        );
    }
    Ok(points)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_header_and_errors_with_line_numbers() {
        let p = Path::new("m.csv");
        let ok = parse_points(p, "concurrency,throughput\n1,100\n2, 190\n\n4,350\n").unwrap();
        assert_eq!(ok.len(), 3);
        assert_eq!(ok[1].throughput, 190.0);
        for (text, want) in [
            ("1,100\n2,abc\n4,350\n", "m.csv:2:"),
            ("1,100\n2,-5\n4,350\n", "m.csv:2: concurrency must be > 0"),
            ("1\n2\n3\n", "m.csv:1:"),
            ("n,x\n1,100\n2,200\n", "2 data row(s)"),
        ] {
            let err = parse_points(p, text).unwrap_err().to_string();
            assert!(err.contains(want), "{text:?}: {err}");
        }
    }
}
