//! `napkin check` (not built yet).

use std::io::Write;

/// Arguments of `napkin check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {}

pub fn run(_args: CheckArgs, _out: &mut dyn Write) -> anyhow::Result<u8> {
    anyhow::bail!("napkin check is not built yet")
}
