//! The scenario's traffic as a [`SourceFactory`]: each action is chosen with probability
//! proportional to its requests/day from the estimator (so `napkin estimate` and `napkin load`
//! describe the same traffic), its `request:` templates are compiled once here and rendered per
//! request by [`lane`], ids come from the `load.keys` spaces and captured values from bounded,
//! per-lane capture pools.
//!
//! Only actions with a `request:` block take part. An action whose template draws from a pool
//! that is still empty gives its turn to another action (counted as deferred).

mod keys;
mod lane;
mod pool;
mod template;

use std::collections::BTreeSet;
use std::sync::Arc;

use estimator::{Action, Scenario};
use hyper::header::{HeaderName, HeaderValue};
use hyper::Method;

pub use keys::KeySampler;
pub use pool::{Pool, POOL_CAPACITY};
pub use template::MAX_TEXT;
use template::{Names, Template};

use crate::source::{ActionInfo, RequestSource, SourceFactory};

/// Why the scenario's traffic cannot be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TrafficError {
    /// A template in `request:` is malformed or names something unknown.
    #[error("{location}action `{action}`, field `{field}`: {problem}")]
    Template {
        /// `file:line:column: ` when the parser recorded where the field sits, else empty.
        location: String,
        action: String,
        field: String,
        problem: String,
    },
    /// Something else about one action's `request:` block.
    #[error("{location}action `{action}`: {message}")]
    Action {
        location: String,
        action: String,
        message: String,
    },
    /// A problem with the scenario as a whole.
    #[error("{0}")]
    Scenario(String),
}

/// A header whose value is fixed, or a template rendered per request.
#[derive(Debug, Clone)]
pub(crate) enum HeaderPart {
    Fixed(HeaderValue),
    Template(Template),
}

/// One action's compiled request.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub method: Method,
    pub path: Template,
    pub headers: Vec<(HeaderName, HeaderPart)>,
    pub body: Option<Template>,
    /// (pool index, JSON field path split at dots).
    pub captures: Vec<(usize, Vec<String>)>,
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
        let key_names: Vec<String> = scenario.load.keys.iter().map(|k| k.name.clone()).collect();
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
        let with_request: Vec<&Action> = scenario
            .actions
            .iter()
            .filter(|a| a.request.is_some())
            .collect();
        if with_request.is_empty() {
            return Err(TrafficError::Scenario(format!(
                "scenario `{}` has no action with a `request:` block, so `napkin load` has nothing \
                 to send; add `request: {{method: GET, path: /...}}` to an action",
                scenario.name
            )));
        }
        let pool_names = pool_names(&with_request, &key_names)?;
        let names = Names {
            keys: &key_names,
            pools: &pool_names,
        };
        let mut plans = Vec::with_capacity(with_request.len());
        for action in &with_request {
            let rpd = requests_per_day(&action.name).unwrap_or(0.0);
            plans.push(compile_action(action, &names, &pool_names, rpd)?);
        }
        check_pools_fill(&plans, &with_request, &pool_names)?;
        let total: f64 = plans.iter().map(|p| p.weight).sum();
        let actions = with_request
            .iter()
            .zip(&plans)
            .map(|(a, p)| ActionInfo {
                name: a.name.clone(),
                weight: p.weight / total,
            })
            .collect();
        let shared = Shared {
            plans,
            keys,
            pools: pool_names.len(),
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

/// Pool names in order of first capture; a pool may not shadow a key space.
fn pool_names(actions: &[&Action], keys: &[String]) -> Result<Vec<String>, TrafficError> {
    let mut names: Vec<String> = Vec::new();
    for action in actions {
        let request = action.request.as_ref().expect("filtered on request");
        for (pool, _) in &request.capture {
            if keys.contains(pool) {
                return Err(TrafficError::Action {
                    location: location_of(action, "request.capture"),
                    action: action.name.clone(),
                    message: format!(
                        "capture pool `{pool}` has the name of a key space in `load.keys`; \
                         rename one of them so `{{{{{pool}}}}}` is unambiguous"
                    ),
                });
            }
            if !names.contains(pool) {
                names.push(pool.clone());
            }
        }
    }
    Ok(names)
}

fn compile_action(
    action: &Action,
    names: &Names<'_>,
    pool_names: &[String],
    requests_per_day: f64,
) -> Result<Plan, TrafficError> {
    let request = action.request.as_ref().expect("filtered on request");
    let compile = |field: &str, text: &str| {
        Template::compile(text, names).map_err(|p| TrafficError::Template {
            location: location_of(action, field),
            action: action.name.clone(),
            field: field.to_owned(),
            problem: format!(
                "{p} (at character {} of the value)",
                text[..p.offset].chars().count() + 1
            ),
        })
    };
    let fail = |field: &str, message: String| TrafficError::Action {
        location: location_of(action, field),
        action: action.name.clone(),
        message,
    };
    let method = Method::from_bytes(request.method.as_bytes()).map_err(|_| {
        fail(
            "request.method",
            format!(
                "`{}` is not an HTTP method; use e.g. GET or POST",
                request.method
            ),
        )
    })?;
    if !request.path.starts_with('/') {
        return Err(fail(
            "request.path",
            format!(
                "path `{}` must start with `/`, e.g. `/users/{{{{user}}}}`",
                request.path
            ),
        ));
    }
    let path = compile("request.path", &request.path)?;
    let mut headers = Vec::with_capacity(request.headers.len());
    for (name, value) in &request.headers {
        let field = format!("request.headers.{name}");
        let header = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| fail(&field, format!("`{name}` is not a valid header name")))?;
        let template = compile(&field, value)?;
        let part = if template.is_literal() {
            HeaderValue::from_str(value)
                .map(HeaderPart::Fixed)
                .map_err(|_| {
                    fail(
                        &field,
                        "the value holds characters not allowed in a header".into(),
                    )
                })?
        } else {
            HeaderPart::Template(template)
        };
        headers.push((header, part));
    }
    let body = request
        .body
        .as_deref()
        .map(|b| compile("request.body", b))
        .transpose()?;
    let captures = request
        .capture
        .iter()
        .map(|(pool, field)| {
            let index = pool_names
                .iter()
                .position(|p| p == pool)
                .expect("collected above");
            (index, field.split('.').map(str::to_owned).collect())
        })
        .collect();
    let mut needs: BTreeSet<usize> = path.pools().collect();
    needs.extend(body.iter().flat_map(Template::pools));
    for (_, part) in &headers {
        if let HeaderPart::Template(t) = part {
            needs.extend(t.pools());
        }
    }
    let weight = if requests_per_day.is_finite() && requests_per_day > 0.0 {
        requests_per_day
    } else {
        0.0
    };
    Ok(Plan {
        method,
        path,
        headers,
        body,
        captures,
        expect: request.expect.clone(),
        needs: needs.into_iter().collect(),
        weight,
    })
}

/// Every pool that is drawn from is filled by some action that can start without it, and some
/// traffic can go before any pool holds a value.
fn check_pools_fill(
    plans: &[Plan],
    actions: &[&Action],
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
                .any(|p| p.weight > 0.0 && p.captures.iter().any(|(c, _)| *c == need));
            if !filled {
                return Err(TrafficError::Action {
                    location: String::new(),
                    action: action.name.clone(),
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

/// `file:line:column: ` of an action's field, from the locations the parser recorded.
fn location_of(action: &Action, field: &str) -> String {
    let Some(request) = &action.request else {
        return String::new();
    };
    let short = field.strip_prefix("request.").unwrap_or(field);
    let found = request
        .locations
        .get(field)
        .or_else(|| request.locations.get(short))
        .or_else(|| {
            request
                .locations
                .iter()
                .find(|(k, _)| {
                    k.ends_with(&format!(".{field}")) || k.ends_with(&format!("request.{short}"))
                })
                .map(|(_, v)| v)
        });
    found.map(|l| format!("{l}: ")).unwrap_or_default()
}
