//! Shared builders for the traffic tests: scenarios described in a few lines of Rust and read
//! by the estimator (written out as JSON, which is YAML), so every request the tests send has
//! been validated and compiled by the one validator `napkin load` relies on.
#![allow(dead_code)]

use std::collections::BTreeMap;

use estimator::*;
use loadgen::traffic::ScenarioSource;
use serde_json::{json, Map, Value};

/// An action's `request:` block as it would be written.
#[derive(Debug, Clone)]
pub struct Req {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
    /// (pool, response JSON field)
    pub capture: Vec<(String, String)>,
    pub expect: Vec<u16>,
}

/// An action with a `per_day` rate and, usually, a request.
#[derive(Debug, Clone)]
pub struct Act {
    pub name: String,
    pub per_day: f64,
    pub request: Option<Req>,
}

pub fn request(method: &str, path: &str, body: Option<&str>) -> Req {
    Req {
        method: method.into(),
        path: path.into(),
        headers: Vec::new(),
        body: body.map(str::to_owned),
        capture: Vec::new(),
        expect: Vec::new(),
    }
}

pub fn action(name: &str, per_day: f64, request: Req) -> Act {
    Act {
        name: name.into(),
        per_day,
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

fn pairs(items: &[(String, String)]) -> Value {
    Value::Object(
        items
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect::<Map<_, _>>(),
    )
}

fn request_json(r: &Req) -> Value {
    let mut m = Map::new();
    m.insert("method".into(), json!(r.method));
    m.insert("path".into(), json!(r.path));
    m.insert("headers".into(), pairs(&r.headers));
    if let Some(body) = &r.body {
        m.insert("body".into(), json!(body));
    }
    m.insert("capture".into(), pairs(&r.capture));
    m.insert("expect".into(), json!(r.expect));
    Value::Object(m)
}

fn key_json(k: &KeySpace) -> Value {
    match k.distribution {
        KeyDistribution::Uniform => json!({"count": k.count, "distribution": "uniform"}),
        KeyDistribution::Zipf { exponent } => {
            json!({"count": k.count, "distribution": "zipf", "exponent": exponent})
        }
    }
}

/// The scenario as the estimator reads it, or its error.
pub fn try_scenario(actions: Vec<Act>, keys: Vec<KeySpace>) -> Result<Scenario, ScenarioError> {
    let actions: Vec<Value> = actions
        .iter()
        .map(|a| {
            let mut m = Map::new();
            m.insert("name".into(), json!(a.name));
            m.insert("per_day".into(), json!(a.per_day));
            if let Some(r) = &a.request {
                m.insert("request".into(), request_json(r));
            }
            Value::Object(m)
        })
        .collect();
    let keys: Map<String, Value> = keys.iter().map(|k| (k.name.clone(), key_json(k))).collect();
    let doc = json!({"name": "test", "actions": actions, "load": {"keys": keys}});
    estimator::parse_str(&doc.to_string(), "test.yaml", &[])
}

/// The scenario as the estimator reads it; panics with the estimator's error.
pub fn scenario(actions: Vec<Act>, keys: Vec<KeySpace>) -> Scenario {
    try_scenario(actions, keys).unwrap_or_else(|e| panic!("{e}"))
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
