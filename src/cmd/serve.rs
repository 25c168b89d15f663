//! `napkin serve` (not built yet).

use std::io::Write;

/// Arguments of `napkin serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {}

pub fn run(_args: ServeArgs, _out: &mut dyn Write) -> anyhow::Result<u8> {
    anyhow::bail!("napkin serve is not built yet")
}
