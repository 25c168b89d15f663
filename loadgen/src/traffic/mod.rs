//! The scenario's traffic as a [`SourceFactory`]: each action is chosen with probability
//! proportional to its requests/day from the estimator (so `napkin estimate` and `napkin load`
//! describe the same traffic), its `request:` templates, validated and compiled by the
//! estimator, are rendered per request by [`lane`], ids come from the `load.keys` spaces and
//! captured values from bounded, per-lane capture pools.
//!
//! Only actions with a `request:` block take part. An action whose template draws from a pool
//! that is still empty gives its turn to another action (counted as deferred).

mod keys;
mod lane;
mod pool;

use std::sync::Arc;

use estimator::{Action, Capture, HeaderPart, RequestSpec, Scenario, Segment, Template};
use hyper::header::HeaderName;
use hyper::Method;

pub use keys::KeySampler;
pub use pool::{Pool, POOL_CAPACITY};

use crate::source::{ActionInfo, RequestSource, SourceFactory};

/// Why the scenario's traffic cannot be built. The estimator has checked every `request:`
/// block; what is left are the key spaces and the mix: which actions have traffic and whether
/// the pools they draw from can ever fill.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TrafficError {
    /// Something about one action's traffic.
    #[error("action `{action}`: {message}")]
    Action { action: String, message: String },
    /// A problem with the scenario as a whole.
    #[error("{0}")]
    Scenario(String),
}

/// One action's compiled request and its share of the mix.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub method: Method,
    pub path: Template,
    pub headers: Vec<(HeaderName, HeaderPart)>,
    pub body: Option<Template>,
    pub captures: Vec<Capture>,
    pub expect: Vec<u16>,
    /// Pools the templates draw from; the action waits until all hold a value.
    pub needs: Vec<usize>,
    pub weight: f64,
}

/// Everything lanes share, read-only.
#[derive(Debug)]
pub(crate) struct Shared {
    pub plans: Vec<Plan>,
    pub keys: Vec<KeySampler>,
    pub pools: usize,
    /// Sum of the plans' weights.
    pub total_weight: f64,
}

/// The scenario's traffic mix, templates, key spaces and capture pools.
#[derive(Debug, Clone)]
pub struct ScenarioSource {
    actions: Vec<ActionInfo>,
    shared: Arc<Shared>,
}

impl ScenarioSource {
    /// Builds the traffic of `scenario`; `requests_per_day(name)` is the estimator's figure for
    /// each action (the mix weights).
    pub fn new(
        scenario: &Scenario,
        requests_per_day: impl Fn(&str) -> Option<f64>,
    ) -> Result<ScenarioSource, TrafficError> {
        let keys = scenario
            .load
            .keys
            .iter()
            .map(|k| {
                KeySampler::new(k).ok_or_else(|| {
                    TrafficError::Scenario(format!(
                        "`load.keys.{}` needs a count of at least 1 and, for zipf, an exponent > 0",
                        k.name
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let with_request: Vec<(&Action, &RequestSpec)> = scenario
            .actions
            .iter()
            .filter_map(|a| a.request.as_ref().map(|r| (a, r)))
            .collect();
        if with_request.is_empty() {
            return Err(TrafficError::Scenario(format!(
                "scenario `{}` has no action with a `request:` block, so `napkin load` has nothing \
                 to send; add `request: {{method: GET, path: /...}}` to an action",
                scenario.name
            )));
        }
        for (action, request) in &with_request {
            check_indices(action, request, scenario)?;
        }
        let plans: Vec<Plan> = with_request
            .iter()
            .map(|(a, r)| plan(r, requests_per_day(&a.name).unwrap_or(0.0)))
            .collect();
        let names: Vec<&str> = with_request.iter().map(|(a, _)| a.name.as_str()).collect();
        check_pools_fill(&plans, &names, &scenario.load.pools)?;
        let total: f64 = plans.iter().map(|p| p.weight).sum();
        let actions = with_request
            .iter()
            .zip(&plans)
            .map(|((a, _), p)| ActionInfo {
                name: a.name.clone(),
                weight: p.weight / total,
            })
            .collect();
        let shared = Shared {
            plans,
            keys,
            pools: scenario.load.pools.len(),
            total_weight: total,
        };
        Ok(ScenarioSource {
            actions,
            shared: Arc::new(shared),
        })
    }

    /// Builds the traffic of `scenario` with the estimator's requests/day as the mix.
    pub fn from_scenario(scenario: &Scenario) -> Result<ScenarioSource, TrafficError> {
        let per_day = estimator::estimate::requests_per_day(scenario);
        ScenarioSource::new(scenario, |name| {
            let i = scenario.actions.iter().position(|a| a.name == name)?;
            per_day.get(i).copied()
        })
    }

    /// The mix as "name share%" pairs, e.g. `view_timeline 58.3%, post_tweet 4.2%`, largest
    /// share first, for the line printed at the start of a run.
    pub fn describe_mix(&self) -> String {
        let mut mix: Vec<&ActionInfo> = self.actions.iter().collect();
        mix.sort_by(|a, b| b.weight.total_cmp(&a.weight));
        mix.iter()
            .map(|a| format!("{} {:.1}%", a.name, a.weight * 100.0))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl SourceFactory for ScenarioSource {
    fn actions(&self) -> &[ActionInfo] {
        &self.actions
    }

    fn lane(&self, index: usize, lanes: usize, seed: u64) -> Box<dyn RequestSource> {
        Box::new(lane::ScenarioLane::new(
            self.shared.clone(),
            index,
            lanes,
            seed,
        ))
    }
}

/// The key spaces and pools the compiled request refers to exist (the estimator's scenarios
/// always agree; this catches a scenario whose `load.keys` or `load.pools` were changed after
/// it was read).
fn check_indices(
    action: &Action,
    request: &RequestSpec,
    scenario: &Scenario,
) -> Result<(), TrafficError> {
    let (keys, pools) = (scenario.load.keys.len(), scenario.load.pools.len());
    let mut templates: Vec<&Template> = vec![&request.path];
    templates.extend(&request.body);
    for (_, part) in &request.headers {
        if let HeaderPart::Template(t) = part {
            templates.push(t);
        }
    }
    let in_range = templates
        .iter()
        .flat_map(|t| t.segments())
        .all(|s| match s {
            Segment::Key(k) => *k < keys,
            Segment::Pool(p) => *p < pools,
            _ => true,
        })
        && request.capture.iter().all(|c| c.pool < pools);
    if in_range {
        Ok(())
    } else {
        Err(TrafficError::Action {
            action: action.name.clone(),
            message: "the request names a key space or capture pool the scenario does not \
                      have; build the scenario with estimator::parse_str or load_file"
                .into(),
        })
    }
}

/// An action's compiled request, with its weight in the mix.
fn plan(request: &RequestSpec, requests_per_day: f64) -> Plan {
    let weight = if requests_per_day.is_finite() && requests_per_day > 0.0 {
        requests_per_day
    } else {
        0.0
    };
    Plan {
        method: request.method.clone(),
        path: request.path.clone(),
        headers: request.headers.clone(),
        body: request.body.clone(),
        captures: request.capture.clone(),
        expect: request.expect.clone(),
        needs: request.pools_drawn(),
        weight,
    }
}

/// Every pool that is drawn from is filled by some action that can start without it, and some
/// traffic can go before any pool holds a value.
fn check_pools_fill(
    plans: &[Plan],
    actions: &[&str],
    pools: &[String],
) -> Result<(), TrafficError> {
    if plans.iter().all(|p| p.weight == 0.0) {
        return Err(TrafficError::Scenario(
            "every action with a `request:` block has 0 requests/day, so the mix is empty; give \
             at least one of them a positive rate"
                .into(),
        ));
    }
    if !plans.iter().any(|p| p.needs.is_empty() && p.weight > 0.0) {
        return Err(TrafficError::Scenario(
            "every action draws from a capture pool, so nothing can be sent while the pools are \
             empty; add an action with a positive rate whose request uses no pool (e.g. one \
             that captures the ids the others use)"
                .into(),
        ));
    }
    for (plan, action) in plans.iter().zip(actions) {
        for &need in &plan.needs {
            let filled = plans
                .iter()
                .any(|p| p.weight > 0.0 && p.captures.iter().any(|c| c.pool == need));
            if !filled {
                return Err(TrafficError::Action {
                    action: action.to_string(),
                    message: format!(
                        "uses `{{{{{}}}}}` but no action with a positive rate captures into pool `{}`",
                        pools[need], pools[need]
                    ),
                });
            }
        }
    }
    Ok(())
}
