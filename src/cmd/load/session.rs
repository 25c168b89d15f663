//! A load session: a scenario's traffic aimed at one target, ready to run one or more load runs
//! through the engine. `napkin load` runs one; `napkin capacity` runs a series of steps against
//! the same target (and the same embedded server, started once). Every command that runs load
//! goes through here, so settings -> engine -> run result is one pipeline.

use std::sync::Arc;

use estimator::Scenario;
use loadgen::{
    IntervalSink, Outcome, ProbeReport, RunPlan, SourceFactory, StopHandle, Target, Transport,
};
use reports::RunResult;

use super::embedded::{self, EmbeddedServer};
use super::settings::{self, Settings};
use super::{result, schedule_for, source_for, LoadArgs};
use crate::exit;

/// The scenario, its compiled traffic and the target every run of the session goes to, with
/// the transport (TLS, HTTP/2, keep-alive, `--resolve`) and what the probe of the target found.
pub struct Session {
    pub scenario: Scenario,
    pub factory: Arc<dyn SourceFactory>,
    pub target: Target,
    pub transport: Transport,
    /// One connection opened before any run: reached or not, and what TLS negotiated.
    pub probe: ProbeReport,
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
    /// schedule), then starts the embedded server when no target is given, fails fast (exit
    /// 3) when the target's host does not resolve, and probes the target with one connection
    /// (a TLS or HTTP/2 failure is exit 3 with its reason and fix, before anything is sent).
    pub fn open(args: &LoadArgs) -> anyhow::Result<(Session, Settings)> {
        let scenario = estimator::load_file(&args.scenario, &[])?;
        let factory = source_for(&scenario)?;
        let settings = Settings::resolve(args, &scenario)?;
        settings::check_slo_scopes(&scenario.load.slo, factory.actions())?;
        let schedule = schedule_for(&settings)?;
        let (target, embedded) = embedded::start_target(&settings, &scenario)?;
        let transport = settings
            .transport
            .build(&target, embedded.as_ref().and_then(|e| e.certificate_pem()))?;
        let plan = settings.plan(&target, schedule, transport.clone())?;
        resolve_target(&plan)?;
        let probe = loadgen::probe(&plan).map_err(|e| {
            exit::RunFailed(format!("{e} (nothing was sent, no files were written)"))
        })?;
        let session = Session {
            scenario,
            factory,
            target,
            transport,
            probe,
            embedded,
        };
        Ok((session, settings))
    }

    /// The engine's plan of `settings` against the session's target and transport.
    pub fn plan(&self, settings: &Settings) -> anyhow::Result<RunPlan> {
        settings.plan(
            &self.target,
            schedule_for(settings)?,
            self.transport.clone(),
        )
    }

    /// Runs `settings` against the session's target, streaming intervals to `sink`.
    pub fn run(
        &self,
        settings: &Settings,
        sink: &mut dyn IntervalSink,
        stop: &StopHandle,
    ) -> anyhow::Result<Ran> {
        let plan = self.plan(settings)?;
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

/// Fails fast (exit 3) when the target's host name does not resolve (and no `--resolve` entry
/// gives its address): every request would be a connect error, so there is no point in
/// running for the whole duration.
fn resolve_target(plan: &RunPlan) -> anyhow::Result<()> {
    match plan.addresses() {
        Ok(_) => Ok(()),
        Err(loadgen::TargetError::Resolve { host, reason }) => Err(exit::RunFailed(format!(
            "cannot resolve host {host} of target {}: {reason}; check the host name in --target \
             or load.target (nothing was sent, no files were written)",
            plan.target.url
        ))
        .into()),
        Err(e) => Err(e.into()),
    }
}
