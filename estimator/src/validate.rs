//! Raw scenario -> validated [`Scenario`]: top-level policies, actions, payloads and rates
//! (including the order-free resolution of `relative` rates and cycle detection). The `load:`
//! block is checked in [`crate::validate_load`], the `request:` blocks in
//! [`crate::validate_request`].

use std::collections::HashMap;
use std::time::Duration;

use yaml_serde::Value;

use crate::error::{index, join, Problem};
use crate::model::*;
use crate::raw::{RawAction, RawComponent, RawScenario};
use crate::units::DAY_S;
use crate::validate_fleet;
use crate::validate_load;
use crate::validate_request::{self, CheckedRequest};
use crate::values::{self, check_identifier, typed};

const RATE_KEYS: &str = "per_user_per_day, per_day, per_month, per_second, relative";

/// Validates a whole scenario.
pub(crate) fn scenario(raw: RawScenario) -> Result<Scenario, Problem> {
    if raw.name.trim().is_empty() {
        return Err(Problem::new("name", "is empty; give the scenario a name"));
    }
    let daily_active_users = match raw.users.as_ref().and_then(|u| u.daily_active.as_ref()) {
        Some(v) => Some(values::count(v, "users.daily_active")?),
        None => None,
    };
    let peak_factor = match &raw.peak_factor {
        Some(v) => values::ratio_at_least(
            v,
            "peak_factor",
            1.0,
            "the peak rate is average x peak_factor, so it is at least 1",
        )?,
        None => 1.0,
    };
    let storage = storage(&raw)?;
    let cache = cache(&raw)?;
    let capacity = validate_fleet::capacity(&raw)?;
    let regions = validate_fleet::regions(&raw)?;
    if raw.actions.is_empty() {
        return Err(Problem::new(
            "actions",
            "is empty; list at least one action with a name and a rate",
        ));
    }
    let mut actions = Vec::with_capacity(raw.actions.len());
    let mut requests = Vec::with_capacity(raw.actions.len());
    for (i, a) in raw.actions.into_iter().enumerate() {
        let (action, request) = action(a, &index("actions", i), daily_active_users)?;
        actions.push(action);
        requests.push(request);
    }
    check_names(&actions)?;
    check_relative(&actions)?;
    let names: Vec<&str> = actions.iter().map(|a| a.name.as_str()).collect();
    let mut load = match raw.load {
        Some(l) => validate_load::load(l, "load", Some(&names))?,
        None => LoadSpec::default(),
    };
    // Templates name key spaces and capture pools: compiled once all of them are known.
    validate_request::compile(&mut actions, requests, &mut load)?;
    Ok(Scenario {
        name: raw.name,
        description: raw.description,
        source: None,
        daily_active_users,
        peak_factor,
        storage,
        cache,
        capacity,
        regions,
        actions,
        load,
    })
}

fn storage(raw: &RawScenario) -> Result<StoragePolicy, Problem> {
    let mut s = StoragePolicy {
        retention: Duration::from_secs(365 * DAY_S as u64),
        replication: 1.0,
        max_fill: 1.0,
    };
    let Some(r) = &raw.storage else { return Ok(s) };
    if let Some(v) = &r.retention {
        s.retention = values::duration(v, "storage.retention")?;
    }
    if let Some(v) = &r.replication {
        let why = "it counts the copies kept, so it is at least 1";
        s.replication = values::ratio_at_least(v, "storage.replication", 1.0, why)?;
    }
    if let Some(v) = &r.max_fill {
        s.max_fill = values::fraction(v, "storage.max_fill")?;
        if s.max_fill == 0.0 {
            return Err(Problem::new(
                "storage.max_fill",
                "is 0, so nothing could be stored; use the usable fraction of raw capacity, e.g. 0.7",
            ));
        }
    }
    Ok(s)
}

fn cache(raw: &RawScenario) -> Result<CachePolicy, Problem> {
    let mut c = CachePolicy::default();
    let Some(r) = &raw.cache else { return Ok(c) };
    if let Some(v) = &r.hot_fraction {
        c.hot_fraction = Some(values::fraction(v, "cache.hot_fraction")?);
    }
    if let Some(v) = &r.recent {
        c.recent = Some(values::duration(v, "cache.recent")?);
    }
    Ok(c)
}

/// An action, and its checked `request:` block (compiled into it later, see [`scenario`]).
fn action(
    raw: RawAction,
    path: &str,
    dau: Option<f64>,
) -> Result<(Action, Option<CheckedRequest>), Problem> {
    let name_path = join(path, "name");
    check_identifier(&raw.name, &name_path, "action name")?;
    if raw.name == "all" {
        return Err(Problem::new(
            name_path,
            "`all` is reserved for SLOs over every action; choose another name",
        ));
    }
    let rate = rate(&raw, path, dau)?;
    let ingress = payload(raw.ingress, &join(path, "ingress"), "ingress")?;
    let egress = payload(raw.egress, &join(path, "egress"), "egress")?;
    let stored = payload(raw.stored, &join(path, "stored"), "stored")?;
    let kind = match raw.kind.as_deref() {
        Some("read") => ActionKind::Read,
        Some("write") => ActionKind::Write,
        Some(other) => {
            return Err(Problem::new(
                join(path, "kind"),
                format!("`{other}` is not a kind; use read or write"),
            ))
        }
        None if stored.mean_bytes() > 0.0 => ActionKind::Write,
        None => ActionKind::Read,
    };
    let request = match raw.request {
        Some(r) => Some(validate_request::check(r, &join(path, "request"))?),
        None => None,
    };
    let action = Action {
        name: raw.name,
        kind,
        rate,
        ingress,
        egress,
        stored,
        request: None,
    };
    Ok((action, request))
}

fn rate(raw: &RawAction, path: &str, dau: Option<f64>) -> Result<Rate, Problem> {
    let given: Vec<&str> = [
        ("per_user_per_day", raw.per_user_per_day.is_some()),
        ("per_day", raw.per_day.is_some()),
        ("per_month", raw.per_month.is_some()),
        ("per_second", raw.per_second.is_some()),
        ("relative", raw.relative.is_some()),
    ]
    .into_iter()
    .filter_map(|(k, set)| set.then_some(k))
    .collect();
    match given.as_slice() {
        [] => {
            return Err(Problem::new(
                path,
                format!("no rate given; add exactly one of {RATE_KEYS} (e.g. per_day: 1M)"),
            ))
        }
        [_] => {}
        [a, b, ..] => {
            return Err(Problem::new(
                join(path, a),
                format!("two rates given ({a} and {b}); keep exactly one of {RATE_KEYS}"),
            ))
        }
    }
    if let Some(v) = &raw.per_user_per_day {
        let p = join(path, "per_user_per_day");
        let x = values::count(v, &p)?;
        if dau.is_none() {
            return Err(Problem::new(
                p,
                "a per-user rate needs users.daily_active; add `users: {daily_active: 100M}` \
                 at the top level, or use per_day instead",
            ));
        }
        return Ok(Rate::PerUserPerDay(x));
    }
    if let Some(v) = &raw.per_day {
        return Ok(Rate::PerDay(values::count(v, &join(path, "per_day"))?));
    }
    if let Some(v) = &raw.per_month {
        return Ok(Rate::PerMonth(values::count(v, &join(path, "per_month"))?));
    }
    if let Some(v) = &raw.per_second {
        return Ok(Rate::PerSecond(values::count(
            v,
            &join(path, "per_second"),
        )?));
    }
    let Some(rel) = raw.relative.as_ref() else {
        return Err(Problem::new(path, "no rate given"));
    };
    let factor = values::count(&rel.factor, &join(path, "relative.factor"))?;
    Ok(Rate::Relative {
        to: rel.to.clone(),
        factor,
    })
}

/// A payload: a size, a list of components, or one component mapping.
fn payload(v: Option<Value>, path: &str, field: &str) -> Result<Payload, Problem> {
    let (items, listed) = match v {
        None | Some(Value::Null) => return Ok(Payload::default()),
        Some(Value::Sequence(items)) => (items, true),
        Some(m @ Value::Mapping(_)) => (vec![m], false),
        Some(scalar) => {
            let bytes = values::size(&scalar, path)?;
            return Ok(Payload {
                components: vec![Component {
                    name: field.to_string(),
                    bytes,
                    count: 1.0,
                    fraction: 1.0,
                }],
            });
        }
    };
    let mut components = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let p = if listed {
            index(path, i)
        } else {
            path.to_string()
        };
        components.push(component(item, &p, field, i)?);
    }
    Ok(Payload { components })
}

fn component(item: Value, path: &str, field: &str, i: usize) -> Result<Component, Problem> {
    if !matches!(item, Value::Mapping(_)) {
        return Err(Problem::new(
            path,
            format!(
                "expected a component {{name, bytes, count, fraction}}, found {}",
                values::describe(&item)
            ),
        ));
    }
    let raw: RawComponent = typed(item, path)?;
    let bytes = values::size(&raw.bytes, &join(path, "bytes"))?;
    let count = match &raw.count {
        Some(v) => values::count(v, &join(path, "count"))?,
        None => 1.0,
    };
    let fraction = match &raw.fraction {
        Some(v) => values::fraction(v, &join(path, "fraction"))?,
        None => 1.0,
    };
    Ok(Component {
        name: raw.name.unwrap_or_else(|| format!("{field}[{i}]")),
        bytes,
        count,
        fraction,
    })
}

fn check_names(actions: &[Action]) -> Result<(), Problem> {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, a) in actions.iter().enumerate() {
        if let Some(first) = seen.insert(&a.name, i) {
            return Err(Problem::new(
                join(&index("actions", i), "name"),
                format!(
                    "duplicate action name `{}` (also actions[{first}]); action names must be unique",
                    a.name
                ),
            ));
        }
    }
    Ok(())
}

/// Every `relative.to` names an action, and following them never comes back to the start.
fn check_relative(actions: &[Action]) -> Result<(), Problem> {
    let by_name: HashMap<&str, usize> = actions
        .iter()
        .enumerate()
        .map(|(i, a)| (a.name.as_str(), i))
        .collect();
    let names: Vec<&str> = actions.iter().map(|a| a.name.as_str()).collect();
    for (i, a) in actions.iter().enumerate() {
        if let Rate::Relative { to, .. } = &a.rate {
            if !by_name.contains_key(to.as_str()) {
                return Err(Problem::new(
                    format!("actions[{i}].relative.to"),
                    format!("no action named `{to}`; use one of: {}", names.join(", ")),
                ));
            }
        }
    }
    for (i, a) in actions.iter().enumerate() {
        let mut chain = vec![a.name.as_str()];
        let mut cur = i;
        while let Rate::Relative { to, .. } = &actions[cur].rate {
            cur = by_name[to.as_str()];
            chain.push(&actions[cur].name);
            if cur == i {
                return Err(Problem::new(
                    format!("actions[{i}].relative.to"),
                    format!(
                        "relative rates form a cycle ({}); give one of these actions an absolute \
                         rate (per_user_per_day, per_day, per_month or per_second)",
                        chain.join(" -> ")
                    ),
                ));
            }
            if chain.len() > actions.len() {
                break; // a cycle that does not pass through `i`; reported from its own members
            }
        }
    }
    Ok(())
}
