//! The `napkin` command-line interface as a library: [`Cli`] is the parsed command line and
//! [`run`] carries it out, so tests drive the whole CLI in-process. Each subcommand lives in its
//! own module under [`cmd`]; this file only dispatches.

pub mod cmd;
pub mod exit;

use std::io::Write;

use clap::{Parser, Subcommand};

/// Capacity planning and load testing: estimate, serve, load, report.
#[derive(Debug, Parser)]
#[command(name = "napkin", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

// Parsed once per process: the size of the largest variant (`load`'s flags) costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Capacity estimate of one or more scenarios (several print side by side).
    Estimate(cmd::estimate::EstimateArgs),
    /// Run the reference Twitter-like server.
    Serve(cmd::serve::ServeArgs),
    /// Run load against a target and gate on SLOs.
    Load(cmd::load::LoadArgs),
    /// Render a run result.
    Report(cmd::report::ReportArgs),
    /// Regression check of a new run against a baseline.
    Compare(cmd::compare::CompareArgs),
    /// Re-evaluate SLO thresholds on a saved run.
    Check(cmd::check::CheckArgs),
    /// Exact merge of runs from several generator processes.
    Merge(cmd::merge::MergeArgs),
}

/// Carries out a parsed command line, writing its main output to `out`.
///
/// Returns the exit code for a completed command (0, or 1 when a gate failed); an error means
/// bad input (exit 2) or, for [`exit::RunFailed`], a run that could not be carried out (exit 3).
pub fn run(cli: Cli, out: &mut dyn Write) -> anyhow::Result<u8> {
    match cli.command {
        Command::Estimate(args) => cmd::estimate::run(args, out),
        Command::Serve(args) => cmd::serve::run(args, out),
        Command::Load(args) => cmd::load::run(args, out),
        Command::Report(args) => cmd::report::run(args, out),
        Command::Compare(args) => cmd::compare::run(args, out),
        Command::Check(args) => cmd::check::run(args, out),
        Command::Merge(args) => cmd::merge::run(args, out),
    }
}
