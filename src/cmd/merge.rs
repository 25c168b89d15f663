//! `napkin merge` (not built yet).

use std::io::Write;

/// Arguments of `napkin merge`.
#[derive(Debug, clap::Args)]
pub struct MergeArgs {}

pub fn run(_args: MergeArgs, _out: &mut dyn Write) -> anyhow::Result<u8> {
    anyhow::bail!("napkin merge is not built yet")
}
