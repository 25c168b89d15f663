//! `napkin compare` (not built yet).

use std::io::Write;

/// Arguments of `napkin compare`.
#[derive(Debug, clap::Args)]
pub struct CompareArgs {}

pub fn run(_args: CompareArgs, _out: &mut dyn Write) -> anyhow::Result<u8> {
    anyhow::bail!("napkin compare is not built yet")
}
