//! `napkin report`: renders a saved run as a table, Markdown, JSON summary, self-contained
//! HTML page or HdrHistogram `.hgrm` percentile distribution (docs/reports.md); a capacity
//! result (`napkin capacity --out`) as a table, Markdown, JSON or HTML with the knee charts
//! (docs/capacity.md).

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use reports::format::{render, Format, View};

/// Arguments of `napkin report`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// Run result written by `napkin load --out` or `napkin merge`, or a capacity result
    /// written by `napkin capacity --out`.
    pub run: PathBuf,
    /// table, markdown, json (summary without histograms), html (self-contained page) or
    /// hgrm (HdrHistogram percentile distribution, milliseconds, as wrk2 -L prints).
    #[arg(long, short = 'f', default_value = "table", value_parser = parse_format)]
    pub format: Format,
    /// Write to FILE (atomically) instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Show only this action (and `all`); for hgrm, the histogram printed (default: all).
    #[arg(long, value_name = "NAME")]
    pub action: Option<String>,
}

fn parse_format(s: &str) -> Result<Format, String> {
    Format::parse(s).ok_or_else(|| {
        format!(
            "unknown report format {s:?}; use one of: {}",
            Format::NAMES.join(", ")
        )
    })
}

pub fn run(args: ReportArgs, out: &mut dyn Write) -> anyhow::Result<u8> {
    let raw =
        std::fs::read_to_string(&args.run).map_err(|e| reports::ReportError::read(&args.run, e))?;
    let text = if reports::capacity::is_capacity(&raw) {
        if args.action.is_some() {
            anyhow::bail!("--action applies to run files; a capacity result has no actions");
        }
        let c = reports::capacity::parse_capacity(&args.run, &raw)?;
        reports::capacity_format::render_capacity(&c, args.format)
    } else {
        let run = reports::io::parse_run(&args.run, &raw)?;
        let view = View {
            action: args.action,
        };
        render(&run, args.format, &view)
    }
    .with_context(|| format!("rendering {}", args.run.display()))?;
    match args.output {
        Some(path) => reports::io::write_atomic(&path, text.as_bytes())?,
        None => out.write_all(text.as_bytes())?,
    }
    Ok(crate::exit::OK)
}
