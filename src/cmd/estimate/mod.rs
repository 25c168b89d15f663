//! `napkin estimate SCENARIO... [--set KEY=VALUE]... [--format table|json|markdown]`: capacity
//! estimates of scenario files. One file prints its own tables (or the SPEC section 4 JSON
//! object); several print their totals side by side (JSON: an array of those objects, in
//! argument order).

mod render;

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use estimator::{CapacitySource, Estimate, Override, Scenario};

/// Output format of `napkin estimate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Tables with human units, for the terminal.
    Table,
    /// SPEC section 4 JSON in base units; an array when several files are given.
    Json,
    /// Markdown tables for design docs.
    Markdown,
}

/// Arguments of `napkin estimate`.
#[derive(Debug, clap::Args)]
pub struct EstimateArgs {
    /// Scenario files (YAML); several print side by side.
    #[arg(required = true, value_name = "SCENARIO")]
    pub scenarios: Vec<PathBuf>,
    /// Override a value for a what-if question, e.g. `users.daily_active=400M` or
    /// `actions.post_tweet.per_user_per_day=2`. Repeatable; applies to every file.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Plan app servers from a measured capacity (`napkin capacity --out capacity.json`): its
    /// `max_rps` replaces `capacity.rps_per_server`.
    #[arg(long, value_name = "FILE")]
    pub capacity: Option<PathBuf>,
}

pub fn run(args: EstimateArgs, out: &mut dyn Write) -> anyhow::Result<u8> {
    let overrides = args
        .set
        .iter()
        .map(|s| Override::parse(s))
        .collect::<Result<Vec<_>, _>>()?;
    let measured = args
        .capacity
        .as_deref()
        .map(measured_capacity)
        .transpose()?;
    let mut runs: Vec<(Scenario, Estimate)> = Vec::with_capacity(args.scenarios.len());
    for path in &args.scenarios {
        let mut scenario = estimator::load_file(path, &overrides)?;
        if let Some(source) = &measured {
            scenario.capacity.rps_per_server = Some(source.max_rps);
            if source.scenario != scenario.name {
                note(&format!(
                    "note: {} was measured with scenario `{}`, not `{}`: its traffic mix may differ",
                    source.file, source.scenario, scenario.name
                ));
            }
        }
        let mut estimate = estimator::estimate(&scenario);
        estimate.capacity_source = measured.clone();
        runs.push((scenario, estimate));
    }
    let text = match args.format {
        Format::Json => {
            let mut s = if let [(_, e)] = runs.as_slice() {
                serde_json::to_string_pretty(e)?
            } else {
                let all: Vec<&Estimate> = runs.iter().map(|(_, e)| e).collect();
                serde_json::to_string_pretty(&all)?
            };
            s.push('\n');
            s
        }
        Format::Table => render::render(&runs, false),
        Format::Markdown => render::render(&runs, true),
    };
    out.write_all(text.as_bytes())
        .context("cannot write the estimate")?;
    Ok(crate::exit::OK)
}

/// The measured capacity of `path`: a `napkin capacity` result with a `max_rps`.
fn measured_capacity(path: &std::path::Path) -> anyhow::Result<CapacitySource> {
    let c =
        reports::capacity::read_capacity(path).map_err(|e| anyhow::anyhow!("--capacity: {e}"))?;
    let Some(max_rps) = c.max_rps.filter(|m| *m > 0.0) else {
        anyhow::bail!(
            "--capacity {}: no step of that search met the SLO ({}), so it holds no capacity to \
             plan from; run `napkin capacity` again from a lower --from",
            path.display(),
            c.limited_by
        );
    };
    if c.bottleneck.as_deref() == Some("generator") {
        note(&format!(
            "warning: {}: the generator, not the target, limited that search ({}); its max_rps \
             ({max_rps:.1}/s) is a lower bound, not the target's capacity",
            path.display(),
            c.limited_by
        ));
    }
    Ok(CapacitySource {
        file: path.display().to_string(),
        max_rps,
        slo: c.slo,
        measured_at: (!c.measured_at.is_empty()).then_some(c.measured_at),
        scenario: c.scenario,
    })
}

/// A line on stderr (never a panic when stderr is closed).
fn note(text: &str) {
    let _ = writeln!(std::io::stderr(), "{text}");
}
