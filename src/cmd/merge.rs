//! `napkin merge`: exact merge of runs made by several generator processes at the same time
//! (histograms added, counts summed, timelines aligned by wall-clock second; semantics in
//! docs/reports.md and `reports::merge`). Shard results (`napkin load --shard I/N`) merge
//! only with the other shards of their run, all of them unless `--allow-partial`
//! (docs/distributed.md). Exit 1 when the merged run fails its SLO checks.

use std::io::Write;
use std::path::PathBuf;

use reports::merge::{merge_with, Input, Options};

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
    /// Merge the shards of a distributed run even when some are missing; the result is
    /// marked partial (`shard.partial`, `shard.missing`).
    #[arg(long)]
    pub allow_partial: bool,
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
    let options = Options {
        force: args.force,
        allow_partial: args.allow_partial,
    };
    let merged = merge_with(&inputs, &options)?;
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
    if let Some(shard) = &merged.shard {
        writeln!(out, "{}", reports::shards::describe_line(shard))?;
    }
    Ok(if merged.slo.pass {
        crate::exit::OK
    } else {
        crate::exit::GATE_FAILED
    })
}
