//! Running and judging capacity steps. A step is one `napkin load` run of the session at one
//! rate (or concurrency); it passes when every SLO check passes and it is not saturated
//! (SPEC section 8; a saturated run also fails its SLO gate, see `reports::slo`). Each step
//! prints one live line on stderr; a failed step names its bottleneck.

use std::io::Write;

use estimator::SloSpec;
use loadgen::{NoSink, StopHandle};
use reports::capacity::{CapacityResult, CapacityStep, StepLatency};
use reports::saturation::capacity_bottleneck;
use reports::slo::{describe_slo, fmt_metric};
use reports::units::{fmt_count, fmt_rps, fmt_us};
use reports::RunResult;

use super::search::{search, Bounds, Found, Phase};
use crate::cmd::load::session::Session;
use crate::cmd::load::settings::Settings;
use crate::exit;

/// Runs steps against a session and keeps them.
pub struct Stepper<'a> {
    session: &'a Session,
    settings: &'a Settings,
    spec: &'a SloSpec,
    stop: &'a StopHandle,
    pub steps: Vec<CapacityStep>,
    /// Why the steps ended before the search did (interrupted, or the target stopped
    /// answering), if they did.
    pub ended_early: Option<EndedEarly>,
}

/// Why a search ended before it was done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndedEarly {
    Interrupted,
    /// A step got no successful response: there is no capacity to measure.
    TargetDown(String),
}

impl EndedEarly {
    pub fn describe(&self) -> String {
        match self {
            EndedEarly::Interrupted => {
                "interrupted (Ctrl-C or SIGTERM): the step under way was discarded".into()
            }
            EndedEarly::TargetDown(why) => why.clone(),
        }
    }
}

impl<'a> Stepper<'a> {
    pub fn new(
        session: &'a Session,
        settings: &'a Settings,
        spec: &'a SloSpec,
        stop: &'a StopHandle,
    ) -> Stepper<'a> {
        Stepper {
            session,
            settings,
            spec,
            stop,
            steps: Vec::new(),
            ended_early: None,
        }
    }

    /// The base settings (every step derives its own from them).
    pub fn settings(&self) -> &Settings {
        self.settings
    }

    /// A result with the session's header fields and the SLO.
    pub fn blank(&self, model: &str) -> CapacityResult {
        super::blank_result(self.session, model, describe_slo(self.spec))
    }

    /// Runs one step with `settings`; `None` when the steps must end: the step was
    /// interrupted (not a measurement), or it got no successful response at all (the target
    /// is down or refuses everything: there is no capacity to search); see `ended_early`.
    pub fn run(
        &mut self,
        settings: &Settings,
        phase: &str,
    ) -> anyhow::Result<Option<&CapacityStep>> {
        if self.ended_early.is_some() {
            return Ok(None);
        }
        let ran = self.session.run(settings, &mut NoSink, self.stop)?;
        if ran.outcome.interrupted {
            self.ended_early = Some(EndedEarly::Interrupted);
            return Ok(None);
        }
        let mut run = ran.run;
        if ran.outcome.all.successes() == 0 {
            self.ended_early = Some(EndedEarly::TargetDown(format!(
                "step {}: {}",
                self.steps.len() + 1,
                crate::cmd::load::display::nothing_succeeded(&run)
            )));
            return Ok(None);
        }
        run.slo = reports::slo::evaluate(&run, self.spec);
        let step = to_step(&run, self.spec, phase);
        let _ = writeln!(
            std::io::stderr(),
            "{}",
            live_line(self.steps.len() + 1, &step)
        );
        self.steps.push(step);
        Ok(self.steps.last())
    }
}

/// The capacity step of a judged run.
fn to_step(run: &RunResult, spec: &SloSpec, phase: &str) -> CapacityStep {
    let pass = run.slo.pass && !run.saturated;
    let l = &run.all.latency_us;
    let ok = run.requests.saturating_sub(run.errors.total);
    CapacityStep {
        offered_rps: run.target_rps.unwrap_or(run.achieved_rps),
        achieved_rps: run.achieved_rps,
        pass,
        saturated: run.saturated,
        dropped: run.dropped,
        errors: run.errors.total,
        latency_us: StepLatency {
            p50: l.p50,
            p90: l.p90,
            p99: l.p99,
            p999: l.p999,
            max: l.max,
        },
        checks: run.slo.checks.clone(),
        concurrency: run.settings.concurrency,
        ok_rps: if run.duration_s > 0.0 {
            ok as f64 / run.duration_s
        } else {
            0.0
        },
        requests: run.requests,
        service_p99_us: run.all.service_us.p99,
        phase: phase.to_string(),
        bottleneck: (!pass).then(|| capacity_bottleneck(run, spec).as_str().to_string()),
        note: (!pass).then(|| connections_note(run)).flatten(),
    }
}

/// When a failed step's connections were busy and could not carry the offered rate at the
/// service time measured, the connections may be the limit, not the target: says so.
fn connections_note(run: &RunResult) -> Option<String> {
    let busy = run.connections_busy?;
    let connections = f64::from(run.settings.connections?);
    let mean_service_s = run.all.service_us.mean / 1e6;
    let offered = run.target_rps?;
    if busy < 0.5 || mean_service_s <= 0.0 {
        return None;
    }
    let ceiling = connections / mean_service_s;
    (ceiling < offered * 1.1).then(|| {
        format!(
            "{connections} connections at a mean service time of {} carry at most {}: if the \
             target serves requests in parallel, rerun with more --connections",
            fmt_us(run.all.service_us.mean),
            fmt_rps(ceiling)
        )
    })
}

/// `step 3 grow: offered 400.0/s, achieved 399.8/s, p50 1.20ms, p99 4.50ms, errors 0 -> pass`
fn live_line(n: usize, s: &CapacityStep) -> String {
    let load = match s.concurrency {
        Some(users) => format!("{users} users, {}", fmt_rps(s.ok_rps)),
        None => format!(
            "offered {}, achieved {}",
            fmt_rps(s.offered_rps),
            fmt_rps(s.achieved_rps)
        ),
    };
    let dropped = if s.dropped > 0 {
        format!(", dropped {}", fmt_count(s.dropped))
    } else {
        String::new()
    };
    let verdict = if s.pass {
        "pass".to_string()
    } else {
        format!(
            "FAIL: {} ({})",
            failed_check(s),
            s.bottleneck.as_deref().unwrap_or("target")
        )
    };
    format!(
        "step {n} {}: {load}, p50 {}, p99 {}, errors {}{dropped} -> {verdict}",
        s.phase,
        fmt_us(s.latency_us.p50 as f64),
        fmt_us(s.latency_us.p99 as f64),
        fmt_count(s.errors),
    )
}

/// The first failed check of a step in words: `all p99 = 61.2ms > 50.00ms`, or `saturated`.
pub fn failed_check(s: &CapacityStep) -> String {
    let Some(c) = s.checks.iter().find(|c| !c.pass) else {
        return if s.saturated {
            "saturated".into()
        } else {
            "failed".into()
        };
    };
    if c.metric == reports::slo::SATURATED {
        return if s.dropped > 0 {
            format!(
                "saturated, {} request{} dropped",
                fmt_count(s.dropped),
                if s.dropped == 1 { "" } else { "s" }
            )
        } else {
            format!(
                "saturated, achieved {} of {} offered",
                fmt_rps(s.achieved_rps),
                fmt_rps(s.offered_rps)
            )
        };
    }
    if let Some(reason) = &c.reason {
        return format!("{} {}: {reason}", c.scope, c.metric);
    }
    let op = if c.metric == "min_rps" { "<" } else { ">" };
    format!(
        "{} {} = {} {op} {}",
        c.scope,
        c.metric,
        fmt_metric(&c.metric, c.value),
        fmt_metric(&c.metric, c.limit)
    )
}

/// Fails fast (exit 3) when the session's probe could not open a connection to the target:
/// a search of refused steps would only measure the refusal.
pub fn require_reachable(session: &Session) -> anyhow::Result<()> {
    if session.probe.reached {
        return Ok(());
    }
    Err(exit::RunFailed(format!(
        "target {} is unreachable: no connection could be opened; start it or fix --target \
         (nothing was searched)",
        session.target.url
    ))
    .into())
}

/// The open-model rate search: grow, bisect, confirm (SPEC section 8).
pub fn rate_search(stepper: &mut Stepper<'_>, bounds: Bounds) -> anyhow::Result<CapacityResult> {
    let found = search(bounds, &mut |rate, phase: Phase| {
        let settings = stepper.settings().at_rate(rate);
        Ok(stepper.run(&settings, phase.as_str())?.map(|s| s.pass))
    })?;
    let mut result = stepper.blank("open");
    result.max_rps = found.max;
    result.limited_by = limited_by(&found, &stepper.steps, bounds);
    result.bottleneck = found
        .first_fail
        .and_then(|r| failing_step(&stepper.steps, r))
        .and_then(|s| s.bottleneck.clone());
    result.steps = std::mem::take(&mut stepper.steps);
    result.ended_early = stepper.ended_early.as_ref().map(EndedEarly::describe);
    Ok(result)
}

/// The last step at `rate` that failed.
fn failing_step(steps: &[CapacityStep], rate: f64) -> Option<&CapacityStep> {
    steps
        .iter()
        .rev()
        .find(|s| !s.pass && s.offered_rps == rate)
}

fn limited_by(found: &Found, steps: &[CapacityStep], bounds: Bounds) -> String {
    let mut text = match found.first_fail.and_then(|r| failing_step(steps, r)) {
        Some(s) => format!(
            "{} at {}{}",
            failed_check(s),
            fmt_rps(s.offered_rps),
            s.note
                .as_deref()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default()
        ),
        None if found.reached_to => format!(
            "--to {} reached: every step met the SLO; raise --to to search higher",
            fmt_rps(bounds.to)
        ),
        None => "no failing step".to_string(),
    };
    if found.interrupted {
        text.push_str(" (the search ended early)");
    } else if found.out_of_steps {
        text.push_str(&format!(
            " (the search ran out of its {} steps before converging)",
            bounds.max_steps
        ));
    } else if found.max.is_some() && !found.confirmed && !found.reached_to {
        text.push_str(" (not confirmed)");
    }
    text
}
