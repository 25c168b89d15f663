//! Shared builders for the traffic tests: scenarios made directly from model values.
#![allow(dead_code)]

use std::collections::BTreeMap;

use estimator::*;
use loadgen::traffic::ScenarioSource;

pub fn request(method: &str, path: &str, body: Option<&str>) -> RequestSpec {
    RequestSpec {
        method: method.into(),
        path: path.into(),
        headers: Vec::new(),
        body: body.map(str::to_owned),
        capture: Vec::new(),
        expect: Vec::new(),
        locations: BTreeMap::new(),
    }
}

pub fn action(name: &str, per_day: f64, request: RequestSpec) -> Action {
    Action {
        name: name.into(),
        kind: ActionKind::Read,
        rate: Rate::PerDay(per_day),
        ingress: Payload::default(),
        egress: Payload::default(),
        stored: Payload::default(),
        request: Some(request),
    }
}

pub fn zipf(name: &str, count: u64, exponent: f64) -> KeySpace {
    KeySpace {
        name: name.into(),
        count,
        distribution: KeyDistribution::Zipf { exponent },
    }
}

pub fn uniform(name: &str, count: u64) -> KeySpace {
    KeySpace {
        name: name.into(),
        count,
        distribution: KeyDistribution::Uniform,
    }
}

pub fn scenario(actions: Vec<Action>, keys: Vec<KeySpace>) -> Scenario {
    Scenario {
        name: "test".into(),
        description: None,
        source: None,
        daily_active_users: None,
        peak_factor: 1.0,
        storage: StoragePolicy {
            retention: std::time::Duration::from_secs(86_400),
            replication: 1.0,
            max_fill: 1.0,
        },
        cache: CachePolicy::default(),
        capacity: Capacity::default(),
        actions,
        load: LoadSpec {
            keys,
            ..LoadSpec::default()
        },
    }
}

/// Requests/day straight from each action's `PerDay` rate (what the estimator would say).
pub fn source(scenario: &Scenario) -> Result<ScenarioSource, loadgen::traffic::TrafficError> {
    let rpd: BTreeMap<String, f64> = scenario
        .actions
        .iter()
        .map(|a| match a.rate {
            Rate::PerDay(d) => (a.name.clone(), d),
            _ => panic!("tests use per_day rates"),
        })
        .collect();
    ScenarioSource::new(scenario, |name| rpd.get(name).copied())
}
