//! `napkin estimate SCENARIO... [--set KEY=VALUE]... [--format table|json|markdown]`: capacity
//! estimates of scenario files. One file prints its own tables (or the SPEC section 4 JSON
//! object); several print their totals side by side (JSON: an array of those objects, in
//! argument order).

mod render;

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use estimator::{Estimate, Override, Scenario};

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
}

pub fn run(args: EstimateArgs, out: &mut dyn Write) -> anyhow::Result<u8> {
    let overrides = args
        .set
        .iter()
        .map(|s| Override::parse(s))
        .collect::<Result<Vec<_>, _>>()?;
    let mut runs: Vec<(Scenario, Estimate)> = Vec::with_capacity(args.scenarios.len());
    for path in &args.scenarios {
        let scenario = estimator::load_file(path, &overrides)?;
        let estimate = estimator::estimate(&scenario);
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
