//! `napkin check`: re-evaluates SLO thresholds on a saved run, from the run's own recorded
//! checks or from `--slo FILE` (a scenario, or YAML with a top-level `slo:` block); optionally
//! writes JUnit XML (one testcase per threshold). Exit 1 when a threshold fails.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;

/// Arguments of `napkin check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Run result written by `napkin load --out` or `napkin merge`.
    pub run: PathBuf,
    /// Thresholds to check instead of the run's own: a scenario file (its `load.slo`) or a
    /// YAML file with a top-level `slo:` block.
    #[arg(long, value_name = "FILE")]
    pub slo: Option<PathBuf>,
    /// Also write the results as JUnit XML to FILE (atomically).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
}

pub fn run(args: CheckArgs, out: &mut dyn Write) -> anyhow::Result<u8> {
    let run = reports::io::read_run(&args.run)?;
    let spec = match &args.slo {
        Some(file) => estimator::load_slo_file(file)?,
        None => reports::slo::spec_from_checks(&run.slo.checks)
            .with_context(|| format!("{}: slo.checks", args.run.display()))?,
    };
    if spec.scopes.is_empty() {
        anyhow::bail!(
            "no SLO thresholds to check: {} records none; pass --slo FILE (a scenario or a file with a top-level `slo:` block)",
            match &args.slo {
                Some(f) => f.display().to_string(),
                None => args.run.display().to_string(),
            }
        );
    }
    let outcome = reports::slo::evaluate(&run, &spec);
    if let Some(shard) = &run.shard {
        // Say which part of a distributed run is gated, above all when it is not all of it.
        writeln!(out, "{}", reports::shards::describe_line(shard))?;
    }
    if let Some(path) = &args.junit {
        let xml = reports::junit::junit_xml(&run.scenario, &outcome)?;
        reports::io::write_atomic(path, xml.as_bytes())?;
    }
    for c in &outcome.checks {
        writeln!(out, "{}", reports::slo::describe(c))?;
    }
    let failed = outcome.checks.iter().filter(|c| !c.pass).count();
    writeln!(
        out,
        "SLO: {} ({} of {} checks failed)",
        if outcome.pass { "pass" } else { "FAIL" },
        failed,
        outcome.checks.len()
    )?;
    Ok(if outcome.pass {
        crate::exit::OK
    } else {
        crate::exit::GATE_FAILED
    })
}
