//! `napkin capacity`'s arguments, checked once into a [`Plan`] (exit 2 on bad input, before
//! any server is seeded or request sent).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{anyhow, bail};
use estimator::{units, SloSpec};
use reports::format::Format;

use super::search::Bounds;
use crate::cmd::load::LoadArgs;

/// Upper bound on the steps of one search (each is a whole load run).
pub const MAX_STEPS: usize = 40;

/// Arguments of `napkin capacity`.
#[derive(Debug, Clone, clap::Args)]
pub struct CapacityArgs {
    /// Scenario file (YAML): its traffic mix, keys and captures are what each step sends.
    pub scenario: PathBuf,
    /// Base URL of the service under test; without it (and without `load.target`) the
    /// reference server is started in-process.
    #[arg(long, value_name = "URL")]
    pub target: Option<String>,
    /// SLO to hold each step to: a scenario (its `load.slo`) or a YAML file with a top-level
    /// `slo:` block. Default: the scenario's `load.slo`.
    #[arg(long, value_name = "FILE")]
    pub slo: Option<PathBuf>,
    /// First rate of the search, requests/s (e.g. 100, 2K).
    #[arg(long, value_name = "R", default_value = "100")]
    pub from: String,
    /// Highest rate tried; reaching it without failing ends the search.
    #[arg(long, value_name = "R", default_value = "1M")]
    pub to: String,
    /// Measured window of each step.
    #[arg(long, value_name = "D", default_value = "10s")]
    pub step: String,
    /// Warm-up before each step's measured window (sent, not counted).
    #[arg(long, value_name = "D", default_value = "2s")]
    pub warmup: String,
    /// Bisection stops when the first failing rate is within this of the last passing one
    /// (relative, in (0, 50%]).
    #[arg(long, value_name = "P", default_value = "2%")]
    pub precision: String,
    /// Instead of a rate search: closed-model steps at these concurrencies (e.g.
    /// 1,2,4,8,16,32), then a Universal Scalability Law fit.
    #[arg(long, value_name = "LIST")]
    pub sweep_concurrency: Option<String>,
    /// Write the capacity result (JSON) here, atomically.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// table, markdown, json or html.
    #[arg(long, short = 'f', default_value = "table", value_parser = parse_format)]
    pub format: Format,
    /// Open model: keep-alive connections of each step (default: load.connections).
    #[arg(long, value_name = "C")]
    pub connections: Option<u32>,
    /// Per request, connect included (default: load.timeout).
    #[arg(long, value_name = "D")]
    pub timeout: Option<String>,
    /// Seed of every random choice of the traffic.
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Generator threads (default: one per core).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
}

fn parse_format(s: &str) -> Result<Format, String> {
    match Format::parse(s) {
        Some(Format::Hgrm) | None => Err(format!(
            "unknown capacity format {s:?}; use one of: table, markdown, json, html"
        )),
        Some(f) => Ok(f),
    }
}

/// The validated search.
#[derive(Debug, Clone)]
pub struct Plan {
    pub bounds: Bounds,
    pub step: Duration,
    pub warmup: Duration,
    /// Closed-model concurrencies, ascending; `None` for a rate search.
    pub sweep: Option<Vec<u32>>,
    /// Where the SLO comes from, for messages.
    pub slo_origin: String,
}

impl Plan {
    pub fn from_args(args: &CapacityArgs) -> anyhow::Result<Plan> {
        let from = rate("--from", &args.from)?;
        let to = rate("--to", &args.to)?;
        if to < from {
            bail!(
                "--to {} is below --from {}: the search goes from --from up to --to; raise --to \
                 or lower --from",
                args.to,
                args.from
            );
        }
        let precision = units::ratio(args.precision.trim(), "write e.g. 2% or 0.02")
            .map_err(|e| anyhow!("--precision: {e}"))?;
        if !(precision > 0.0 && precision <= 0.5) {
            bail!(
                "--precision {} is outside (0, 50%]: it is how close the last passing and the \
                 first failing rate must be; use e.g. 2%",
                args.precision
            );
        }
        let step = duration("--step", &args.step)?;
        let warmup = units::duration(args.warmup.trim()).map_err(|e| anyhow!("--warmup: {e}"))?;
        let sweep = args
            .sweep_concurrency
            .as_deref()
            .map(sweep_list)
            .transpose()?;
        Ok(Plan {
            bounds: Bounds {
                from,
                to,
                precision,
                max_steps: MAX_STEPS,
            },
            step,
            warmup,
            sweep,
            slo_origin: match &args.slo {
                Some(f) => f.display().to_string(),
                None => format!("{}: load.slo", args.scenario.display()),
            },
        })
    }

    /// The SLO each step is held to: `--slo FILE`, else the scenario's `load.slo`; one is
    /// required.
    pub fn slo_spec(&self, args: &CapacityArgs) -> anyhow::Result<SloSpec> {
        let spec = match &args.slo {
            Some(file) => estimator::load_slo_file(file)?,
            None => estimator::load_file(&args.scenario, &[])?.load.slo,
        };
        if spec.scopes.iter().all(|s| s.thresholds.is_empty()) {
            bail!(
                "no SLO to hold the steps to: {} has none; add `load.slo` to the scenario (e.g. \
                 `slo: {{all: {{p99: 100ms, error_rate: 1%}}}}`) or pass --slo FILE",
                self.slo_origin
            );
        }
        Ok(spec)
    }

    /// The `napkin load` arguments of the first step; each step then sets its own rate or
    /// concurrency on the settings these resolve to.
    pub fn load_args(&self, args: &CapacityArgs) -> LoadArgs {
        LoadArgs {
            scenario: args.scenario.clone(),
            target: args.target.clone(),
            rate: Some(self.bounds.from.to_string()),
            seed: args.seed,
            duration: Some(format!("{}us", (self.warmup + self.step).as_micros())),
            warmup: Some(format!("{}us", self.warmup.as_micros())),
            connections: args.connections,
            timeout: args.timeout.clone(),
            threads: args.threads,
            ..LoadArgs::default()
        }
    }
}

fn rate(flag: &str, text: &str) -> anyhow::Result<f64> {
    let r = units::count(text.trim()).map_err(|e| anyhow!("{flag}: {e}"))?;
    if !(r.is_finite() && r > 0.0) {
        bail!("{flag} must be more than 0 requests/s, got {text}; e.g. {flag} 100");
    }
    Ok(r)
}

fn duration(flag: &str, text: &str) -> anyhow::Result<Duration> {
    let d = units::duration(text.trim()).map_err(|e| anyhow!("{flag}: {e}"))?;
    if d.is_zero() {
        bail!("{flag} must be longer than 0, e.g. {flag} 10s");
    }
    Ok(d)
}

/// `1,2,4,8` -> ascending distinct concurrencies, at least 3, none 0.
fn sweep_list(text: &str) -> anyhow::Result<Vec<u32>> {
    let mut users = Vec::new();
    for part in text.split(',').map(str::trim) {
        let n: u32 = part.parse().map_err(|_| {
            anyhow!(
                "--sweep-concurrency: {part:?} is not a number of users; write e.g. 1,2,4,8,16,32"
            )
        })?;
        if n == 0 {
            bail!(
                "--sweep-concurrency: 0 users cannot send anything; start at 1, e.g. 1,2,4,8,16,32"
            );
        }
        if users.contains(&n) {
            bail!("--sweep-concurrency: {n} is given twice; list each concurrency once");
        }
        users.push(n);
    }
    if users.len() < 3 {
        bail!(
            "--sweep-concurrency: {} value(s) given; the scalability law has 3 parameters, so \
             give at least 3 (6 or more for a fit worth trusting), e.g. 1,2,4,8,16,32",
            users.len()
        );
    }
    users.sort_unstable();
    Ok(users)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sweep_lists_are_checked_and_sorted() {
        assert_eq!(sweep_list("8, 1,2,4").unwrap(), vec![1, 2, 4, 8]);
        for (bad, why) in [
            ("1,2", "at least 3"),
            ("1,2,2,4", "twice"),
            ("0,1,2", "0 users"),
            ("1,two,3", "not a number"),
        ] {
            let err = sweep_list(bad).unwrap_err().to_string();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }
}
