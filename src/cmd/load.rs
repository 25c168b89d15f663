//! `napkin load` (not built yet).

use std::io::Write;

/// Arguments of `napkin load`.
#[derive(Debug, clap::Args)]
pub struct LoadArgs {}

pub fn run(_args: LoadArgs, _out: &mut dyn Write) -> anyhow::Result<u8> {
    anyhow::bail!("napkin load is not built yet")
}
