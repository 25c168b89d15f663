//! `napkin estimate` (not built yet).

use std::io::Write;

/// Arguments of `napkin estimate`.
#[derive(Debug, clap::Args)]
pub struct EstimateArgs {}

pub fn run(_args: EstimateArgs, _out: &mut dyn Write) -> anyhow::Result<u8> {
    anyhow::bail!("napkin estimate is not built yet")
}
