//! `napkin capacity`: finds the highest open-model rate a target sustains within its SLO
//! (SPEC section 8), or sweeps closed-model concurrencies and fits the Universal Scalability
//! Law. Every step is a `napkin load` run through the same [`Session`] (scenario mix, keys,
//! captures, one embedded server for the whole search); [`search`] decides the rates,
//! [`steps`] runs and judges each step, [`sweep`] does the concurrency sweep, and the result is
//! a `napkin-capacity/1` file that `napkin report` renders and `napkin estimate --capacity`
//! plans a fleet from.

pub mod args;
pub mod search;
pub mod steps;
pub mod sweep;

use std::io::Write;

use anyhow::Context;
use loadgen::StopHandle;
use reports::capacity::{CapacityResult, CapacitySettings, CAPACITY_FORMAT};
use reports::capacity_format::render_capacity;

use super::load::output;
use super::load::session::Session;
use super::load::StopSignals;
use crate::exit;
pub use args::CapacityArgs;
use args::Plan;
use steps::Stepper;

/// Runs `napkin capacity`.
pub fn run(args: CapacityArgs, out: &mut dyn Write) -> anyhow::Result<u8> {
    let plan = Plan::from_args(&args)?;
    if let Some(path) = &args.out {
        output::check_writable("--out", path)?;
    }
    let spec = plan.slo_spec(&args)?;
    let (session, settings) = Session::open(&plan.load_args(&args))?;
    let result = (|| {
        super::load::settings::check_slo_scopes(&spec, session.factory.actions())
            .map_err(|e| anyhow::anyhow!("{}: {e}", plan.slo_origin))?;
        steps::require_reachable(&session)?;
        let stop = StopHandle::new();
        let _signals = StopSignals::install(stop.clone());
        let mut stepper = Stepper::new(&session, &settings, &spec, &stop);
        let mut capacity = match &plan.sweep {
            Some(users) => sweep::run(&mut stepper, users)?,
            None => steps::rate_search(&mut stepper, plan.bounds)?,
        };
        capacity.settings = CapacitySettings {
            scenario_file: Some(args.scenario.display().to_string()),
            from_rps: plan.sweep.is_none().then_some(plan.bounds.from),
            to_rps: plan.sweep.is_none().then_some(plan.bounds.to),
            precision: plan.sweep.is_none().then_some(plan.bounds.precision),
            step_s: plan.step.as_secs_f64(),
            warmup_s: plan.warmup.as_secs_f64(),
            connections: Some(settings.connections),
            seed: Some(settings.seed),
        };
        Ok::<_, anyhow::Error>(capacity)
    })();
    session.close()?;
    let capacity = result?;
    finish(&args, &capacity, out)
}

/// The header fields every capacity result has.
pub(crate) fn blank_result(session: &Session, model: &str, slo: String) -> CapacityResult {
    CapacityResult {
        format: CAPACITY_FORMAT.to_string(),
        scenario: session.scenario.name.clone(),
        target: session.target.url.clone(),
        model: model.to_string(),
        slo,
        max_rps: None,
        limited_by: String::new(),
        bottleneck: None,
        steps: Vec::new(),
        usl: None,
        ended_early: None,
        measured_at: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        settings: CapacitySettings::default(),
    }
}

/// Writes the file, prints the result, picks the exit code.
fn finish(args: &CapacityArgs, c: &CapacityResult, out: &mut dyn Write) -> anyhow::Result<u8> {
    let out = &mut output::Tolerant::new(out);
    if let Some(path) = &args.out {
        let json = serde_json::to_vec_pretty(c).context("serialising the capacity result")?;
        reports::io::write_atomic(path, &json)?;
    }
    out.write_all(render_capacity(c, args.format)?.as_bytes())?;
    if c.bottleneck.as_deref() == Some("generator") && c.max_rps.is_some() {
        output::note(format_args!(
            "warning: the generator, not the target, could not keep up at the limit: max_rps is \
             a lower bound of the target's capacity, not the capacity itself; give the generator \
             more cores (--threads) or run it on another machine"
        ));
    }
    if let Some(path) = &args.out {
        output::note(format_args!(
            "capacity result written to {}",
            path.display()
        ));
    }
    if let Some(why) = &c.ended_early {
        // The search could not be carried out to its end: not a result to plan on.
        let so_far = c
            .max_rps
            .map(|m| format!(" (the highest rate that passed so far: {m:.1}/s)"))
            .unwrap_or_default();
        return Err(exit::RunFailed(format!("the search did not finish: {why}{so_far}")).into());
    }
    Ok(if c.max_rps.is_some() {
        exit::OK
    } else {
        exit::GATE_FAILED
    })
}
