//! A load session: a scenario's traffic aimed at one target, ready to run one or more load runs
//! through the engine. `napkin load` runs one; `napkin capacity` runs a series of steps against
//! the same target (and the same embedded server, started once). Every command that runs load
//! goes through here, so settings -> engine -> run result is one pipeline.

use std::sync::Arc;

use estimator::Scenario;
use loadgen::{IntervalSink, Outcome, SourceFactory, StopHandle, Target};
use reports::RunResult;

use super::embedded::{self, EmbeddedServer};
use super::settings::{self, Settings};
use super::{result, schedule_for, source_for, LoadArgs};
use crate::exit;

/// The scenario, its compiled traffic and the target every run of the session goes to.
pub struct Session {
    pub scenario: Scenario,
    pub factory: Arc<dyn SourceFactory>,
    pub target: Target,
    embedded: Option<EmbeddedServer>,
}

/// One run of a session: the run result (SLO not yet evaluated: the caller gates) and the
/// engine's outcome (send lag, timer lag: what the summary shows beyond the run file).
pub struct Ran {
    pub run: RunResult,
    pub outcome: Outcome,
}

impl Session {
    /// Reads and validates everything first (scenario, traffic, settings, SLO scopes, the
    /// schedule), then starts the embedded server when no target is given, and fails fast
    /// (exit 3) when the target's host does not resolve.
    pub fn open(args: &LoadArgs) -> anyhow::Result<(Session, Settings)> {
        let scenario = estimator::load_file(&args.scenario, &[])?;
        let factory = source_for(&scenario)?;
        let settings = Settings::resolve(args, &scenario)?;
        settings::check_slo_scopes(&scenario.load.slo, factory.actions())?;
        schedule_for(&settings)?;
        let (target, embedded) = embedded::start_target(&settings, &scenario)?;
        resolve_target(&target)?;
        let session = Session {
            scenario,
            factory,
            target,
            embedded,
        };
        Ok((session, settings))
    }

    /// Runs `settings` against the session's target, streaming intervals to `sink`.
    pub fn run(
        &self,
        settings: &Settings,
        sink: &mut dyn IntervalSink,
        stop: &StopHandle,
    ) -> anyhow::Result<Ran> {
        let plan = settings.plan(&self.target, schedule_for(settings)?)?;
        let outcome =
            loadgen::run(&plan, self.factory.clone(), sink, stop).map_err(|e| match e {
                loadgen::RunError::Plan(p) => anyhow::anyhow!(p),
                other => anyhow::Error::new(exit::RunFailed(other.to_string())),
            })?;
        let run = result::to_run(&self.scenario, settings, &plan, &outcome)?;
        Ok(Ran { run, outcome })
    }

    /// Stops the embedded server, if one was started (draining it).
    pub fn close(self) -> anyhow::Result<()> {
        match self.embedded {
            Some(server) => server.stop(),
            None => Ok(()),
        }
    }
}

/// Fails fast (exit 3) when the target's host name does not resolve: every request would be a
/// connect error, so there is no point in running for the whole duration.
fn resolve_target(target: &Target) -> anyhow::Result<()> {
    match target.resolve() {
        Ok(_) => Ok(()),
        Err(loadgen::TargetError::Resolve { host, reason }) => Err(exit::RunFailed(format!(
            "cannot resolve host {host} of target {}: {reason}; check the host name in --target \
             or load.target (nothing was sent, no files were written)",
            target.url
        ))
        .into()),
        Err(e) => Err(e.into()),
    }
}
