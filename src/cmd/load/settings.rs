//! The settings of one `napkin load` run: command-line flags over the scenario's `load:`
//! block, parsed with the scenario's unit rules and validated here, at the edge (exit 2 with a
//! message naming the flag or field and the fix). The engine only sees a [`loadgen::RunPlan`].

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::{anyhow, bail, Context};
use estimator::units;
use estimator::{Arrivals, LoadModel, Scenario, SloSpec, Stage};
use loadgen::{ActionInfo, LoadShape, RunPlan, ScheduleSpec, Shard, Target};

use super::distributed;
use super::transport::TransportSettings;
use super::LoadArgs;

/// Seed of the request sources when none is given.
pub const DEFAULT_SEED: u64 = 1;

/// The offered load.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Model {
    /// Total requests/s across actions.
    Open {
        rate: f64,
    },
    Closed {
        users: u32,
        think: Duration,
    },
}

/// What the run is aimed at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetChoice {
    /// `--target URL` or `load.target`.
    Url(Target),
    /// Neither given: the reference server, started in-process ([`super::embedded`]).
    Embedded,
}

/// Validated settings of a run.
#[derive(Debug, Clone)]
pub struct Settings {
    pub scenario_file: PathBuf,
    pub target: TargetChoice,
    pub model: Model,
    /// Whole run, warm-up included (`--duration`, `load.duration`): the measured window is
    /// this minus the warm-up ([`Settings::measured`]).
    pub total: Duration,
    pub warmup: Duration,
    pub connections: u32,
    pub timeout: Duration,
    /// 0 = one per core.
    pub threads: usize,
    pub seed: u64,
    /// Open model: uniform or Poisson arrivals (`load.arrivals`).
    pub arrivals: Arrivals,
    /// Open model: the `load.stages` profile when it sets the rate (then `Model::Open`'s rate
    /// is its peak); empty when a rate is given.
    pub stages: Vec<Stage>,
    /// The part of the run this process carries out (`--shard`; whole when not given).
    pub shard: Shard,
    /// `--start-at`: wall-clock start of the run (its warm-up).
    pub start_at: Option<SystemTime>,
    /// `--run-id`, or one derived from the scenario, seed, shard count and start time; set
    /// when `--shard` is given.
    pub run_id: Option<String>,
    /// TLS, HTTP/2, keep-alive and `--resolve` (SPEC section 9).
    pub transport: TransportSettings,
}

impl Settings {
    /// Flags over `scenario.load`, validated.
    pub fn resolve(args: &LoadArgs, scenario: &Scenario) -> anyhow::Result<Settings> {
        let load = &scenario.load;
        let target = match args.target.clone().or_else(|| load.target.clone()) {
            None => TargetChoice::Embedded,
            Some(url) => TargetChoice::Url(Target::parse(&url).with_context(|| {
                if args.target.is_some() {
                    "--target"
                } else {
                    "load.target"
                }
            })?),
        };
        let model = model(
            args,
            scenario,
            flag_or("--think-time", &args.think_time, Duration::ZERO)?,
        )?;
        let stages = staged(args, scenario);
        let default_duration = if stages.is_empty() {
            load.duration
        } else {
            stages.iter().map(|s| s.duration).sum()
        };
        let total = flag_or("--duration", &args.duration, default_duration)?;
        let warmup = flag_or("--warmup", &args.warmup, load.warmup)?;
        let timeout = flag_or("--timeout", &args.timeout, load.timeout)?;
        let connections = args.connections.unwrap_or(load.connections);
        let seed = args.seed.unwrap_or(DEFAULT_SEED);
        let shard = distributed::shard(args)?;
        let start_at = distributed::start_at(args, warmup, SystemTime::now())?;
        let run_id = distributed::run_id(args, &scenario.name, seed, start_at)?;
        let url = match &target {
            TargetChoice::Url(t) => Some(t),
            TargetChoice::Embedded => None,
        };
        let transport = TransportSettings::resolve(args, url)?;
        let s = Settings {
            scenario_file: args.scenario.clone(),
            target,
            model,
            total,
            warmup,
            connections,
            timeout,
            threads: args.threads.unwrap_or(0),
            seed,
            arrivals: load.arrivals,
            stages,
            shard,
            start_at,
            run_id,
            transport,
        };
        s.validate()?;
        Ok(s)
    }

    fn validate(&self) -> anyhow::Result<()> {
        if self.total <= self.warmup {
            bail!(
                "duration {:?} must be longer than warmup {:?}: the warm-up is part of the run and \
                 is not measured; raise --duration or lower --warmup",
                self.total,
                self.warmup
            );
        }
        if self.timeout.is_zero() {
            bail!("timeout must be longer than 0 (e.g. --timeout 5s)");
        }
        if matches!(self.model, Model::Open { .. }) && self.connections == 0 {
            bail!("connections must be at least 1 (e.g. --connections 64)");
        }
        distributed::check_division(self)
    }

    /// The same run at a constant open-model `rate` (a capacity search step).
    pub fn at_rate(&self, rate: f64) -> Settings {
        Settings {
            model: Model::Open { rate },
            stages: Vec::new(),
            ..self.clone()
        }
    }

    /// The same run as a closed model of `users` users without think time (a sweep step).
    pub fn closed(&self, users: u32) -> Settings {
        Settings {
            model: Model::Closed {
                users,
                think: Duration::ZERO,
            },
            stages: Vec::new(),
            ..self.clone()
        }
    }

    /// The measured window: the run minus its warm-up.
    pub fn measured(&self) -> Duration {
        self.total.saturating_sub(self.warmup)
    }

    /// The engine's plan against `target` (the URL given, or the embedded server's);
    /// `schedule` is required for the open model.
    pub fn plan(
        &self,
        target: &Target,
        schedule: Option<Arc<dyn ScheduleSpec>>,
        transport: loadgen::Transport,
    ) -> anyhow::Result<RunPlan> {
        let shape = match (self.model, schedule) {
            (Model::Open { .. }, Some(schedule)) => LoadShape::Open {
                schedule,
                connections: self.connections as usize,
            },
            (Model::Open { .. }, None) => bail!("internal: open model without a schedule"),
            (Model::Closed { users, think }, _) => LoadShape::Closed {
                users: users as usize,
                think,
            },
        };
        let plan = RunPlan {
            transport,
            target: target.clone(),
            shape,
            measured: self.measured(),
            warmup: self.warmup,
            timeout: self.timeout,
            threads: self.threads,
            seed: self.seed,
            shard: self.shard,
            start_at: self.start_at,
        };
        plan.validate()?;
        Ok(plan)
    }
}

fn flag_or(flag: &str, given: &Option<String>, default: Duration) -> anyhow::Result<Duration> {
    match given {
        Some(text) => units::duration(text.trim()).map_err(|e| anyhow!("{flag}: {e}")),
        None => Ok(default),
    }
}

/// `--rate` / `--concurrency`, else `load.rate` / `load.scale` / `load.concurrency`.
fn model(args: &LoadArgs, scenario: &Scenario, think: Duration) -> anyhow::Result<Model> {
    if let Some(users) = args.concurrency {
        if users == 0 {
            bail!("--concurrency must be at least 1");
        }
        return Ok(Model::Closed { users, think });
    }
    if let Some(text) = &args.rate {
        let rate = units::count(text.trim()).map_err(|e| anyhow!("--rate: {e}"))?;
        return open(rate, "--rate");
    }
    if let Some(text) = &args.scale {
        let f = units::count(text.trim()).map_err(|e| anyhow!("--scale: {e}"))?;
        let peak = estimator::estimate(scenario).totals.peak_rps;
        return open(peak * f, "--scale x the estimated peak requests/s");
    }
    if args.concurrency.is_none() && !scenario.load.stages.is_empty() {
        let profile =
            loadgen::arrivals::Stages::new(&scenario.load.stages, scenario.load.arrivals, 0)
                .map_err(|e| anyhow!("{}: {e}", scenario_place(scenario)))?;
        return open(profile.peak_rate(), "the peak of load.stages");
    }
    match scenario.load.model {
        Some(LoadModel::Rate(rate)) => open(rate, "load.rate"),
        Some(LoadModel::Scale(f)) => {
            let peak = estimator::estimate(scenario).totals.peak_rps;
            open(peak * f, "load.scale x the estimated peak requests/s")
        }
        Some(LoadModel::Concurrency(0)) => bail!("load.concurrency must be at least 1"),
        Some(LoadModel::Concurrency(users)) => Ok(Model::Closed { users, think }),
        None => bail!(
            "no load given: pass --rate R (open model) or --concurrency N (closed model), or set \
             `load.rate` or `load.concurrency` in the scenario"
        ),
    }
}

/// The stages that set the rate: `load.stages` unless a flag gives the load.
fn staged(args: &LoadArgs, scenario: &Scenario) -> Vec<Stage> {
    let flag = args.rate.is_some() || args.scale.is_some() || args.concurrency.is_some();
    if flag {
        Vec::new()
    } else {
        scenario.load.stages.clone()
    }
}

/// The scenario file, for messages about its `load:` block.
fn scenario_place(scenario: &Scenario) -> String {
    match &scenario.source {
        Some(path) => format!("{}: load.stages", path.display()),
        None => "load.stages".to_string(),
    }
}

fn open(rate: f64, what: &str) -> anyhow::Result<Model> {
    if !(rate.is_finite() && rate > 0.0) {
        bail!("{what} must be more than 0 requests/s, got {rate}");
    }
    Ok(Model::Open { rate })
}

/// Every SLO scope must be `all` or an action that has a `request:` block.
pub fn check_slo_scopes(slo: &SloSpec, actions: &[ActionInfo]) -> anyhow::Result<()> {
    for scope in &slo.scopes {
        if scope.scope != "all" && !actions.iter().any(|a| a.name == scope.scope) {
            let names: Vec<&str> = actions.iter().map(|a| a.name.as_str()).collect();
            bail!(
                "load.slo.{}: no action `{}` with a `request:` block to check; use `all` or one \
                 of: {}",
                scope.scope,
                scope.scope,
                names.join(", ")
            );
        }
    }
    Ok(())
}
