//! `napkin report` (not built yet).

use std::io::Write;

/// Arguments of `napkin report`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {}

pub fn run(_args: ReportArgs, _out: &mut dyn Write) -> anyhow::Result<u8> {
    anyhow::bail!("napkin report is not built yet")
}
