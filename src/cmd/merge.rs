//! `napkin merge`: exact merge of runs made by several generator processes at the same time
//! (histograms added, counts summed, timelines aligned by wall-clock second; semantics in
//! docs/reports.md and `reports::merge`). Exit 1 when the merged run fails its SLO checks.

use std::io::Write;
use std::path::PathBuf;

use reports::merge::{merge, Input};

/// Arguments of `napkin merge`.
#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// Run results to merge (one or more).
    #[arg(required = true, value_name = "RUN.json")]
    pub runs: Vec<PathBuf>,
    /// Where to write the merged run (atomically).
    #[arg(long, short = 'o', value_name = "MERGED.json")]
    pub output: PathBuf,
    /// Merge runs of different scenarios too.
    #[arg(long)]
    pub force: bool,
}

pub fn run(args: MergeArgs, out: &mut dyn Write) -> anyhow::Result<u8> {
    if args.runs.is_empty() {
        anyhow::bail!("nothing to merge: give one or more run files, e.g. napkin merge a.json b.json -o merged.json");
    }
    let inputs = args
        .runs
        .iter()
        .map(|p| {
            Ok(Input {
                path: p.clone(),
                run: reports::io::read_run(p)?,
            })
        })
        .collect::<Result<Vec<_>, reports::ReportError>>()?;
    let merged = merge(&inputs, args.force)?;
    let mut text = serde_json::to_string_pretty(&merged)?;
    text.push('\n');
    reports::io::write_atomic(&args.output, text.as_bytes())?;
    writeln!(
        out,
        "merged {} runs into {}: {} requests, {:.1}/s over {:.1} s{}",
        inputs.len(),
        args.output.display(),
        merged.requests,
        merged.achieved_rps,
        merged.duration_s,
        if merged.slo.checks.is_empty() {
            String::new()
        } else if merged.slo.pass {
            ", SLO pass".to_string()
        } else {
            ", SLO FAIL".to_string()
        }
    )?;
    Ok(if merged.slo.pass {
        crate::exit::OK
    } else {
        crate::exit::GATE_FAILED
    })
}
