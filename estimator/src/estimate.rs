//! The estimate maths: per-action request rates and bandwidth, totals, storage over retention,
//! cache size and server counts. [`Estimate`] serializes to exactly the JSON of SPEC section 4,
//! in base units (bytes, per second, per day).

use std::collections::HashMap;

use serde::{Serialize, Serializer};

use crate::fleet::RegionPlan;
use crate::model::{ActionKind, Rate, Scenario};
use crate::units::DAY_S;

/// `napkin estimate --format json` for one scenario.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Estimate {
    pub scenario: String,
    /// In file order.
    pub actions: Vec<ActionEstimate>,
    pub totals: Totals,
    pub servers: Servers,
    /// The app servers per region, when the scenario has `regions` and `rps_per_server`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub regions: Vec<RegionPlan>,
    /// Where `rps_per_server` came from when it was measured (`napkin estimate --capacity`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capacity_source: Option<CapacitySource>,
}

/// A measured capacity (`napkin capacity --out`) that replaced `capacity.rps_per_server`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CapacitySource {
    /// The capacity file.
    pub file: String,
    /// Its `max_rps`: the rate one server sustained within the SLO.
    pub max_rps: f64,
    /// The SLO it was measured against.
    pub slo: String,
    /// When it was measured (RFC 3339), if the file says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub measured_at: Option<String>,
    /// The scenario the capacity was measured with.
    pub scenario: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActionEstimate {
    pub name: String,
    #[serde(serialize_with = "kind_str")]
    pub kind: ActionKind,
    pub requests_per_day: f64,
    pub avg_rps: f64,
    pub peak_rps: f64,
    /// Average bytes/s in (requests x mean ingress bytes).
    pub ingress_bytes_per_sec: f64,
    /// Average bytes/s out.
    pub egress_bytes_per_sec: f64,
    pub stored_bytes_per_day: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Totals {
    pub requests_per_day: f64,
    pub avg_rps: f64,
    pub peak_rps: f64,
    /// Average requests/s of read actions.
    pub read_rps: f64,
    /// Average requests/s of write actions.
    pub write_rps: f64,
    pub ingress_bytes_per_sec: f64,
    pub egress_bytes_per_sec: f64,
    pub peak_ingress_bytes_per_sec: f64,
    pub peak_egress_bytes_per_sec: f64,
    pub stored_bytes_per_day: f64,
    /// stored per day x retention days x replication / max_fill.
    pub storage_bytes: f64,
    /// hot_fraction x daily read egress + bytes stored during `recent`.
    pub cache_bytes: f64,
}

/// Server counts; only the kinds whose capacity is given.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Servers {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache: Option<u64>,
}

fn kind_str<S: Serializer>(k: &ActionKind, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(k.as_str())
}

/// Requests per day of every action, in file order. Relative rates resolve in any order; an
/// unknown or cyclic reference (impossible after validation) counts as 0.
pub fn requests_per_day(s: &Scenario) -> Vec<f64> {
    let by_name: HashMap<&str, usize> = s
        .actions
        .iter()
        .enumerate()
        .map(|(i, a)| (a.name.as_str(), i))
        .collect();
    let mut memo: Vec<Option<f64>> = vec![None; s.actions.len()];
    (0..s.actions.len())
        .map(|i| resolve(s, i, &by_name, &mut memo, 0))
        .collect()
}

fn resolve(
    s: &Scenario,
    i: usize,
    by_name: &HashMap<&str, usize>,
    memo: &mut Vec<Option<f64>>,
    depth: usize,
) -> f64 {
    if let Some(x) = memo[i] {
        return x;
    }
    let x = match &s.actions[i].rate {
        Rate::PerUserPerDay(r) => r * s.daily_active_users.unwrap_or(0.0),
        Rate::PerDay(r) => *r,
        Rate::PerMonth(r) => r / 30.0,
        Rate::PerSecond(r) => r * DAY_S,
        Rate::Relative { to, factor } => match by_name.get(to.as_str()) {
            Some(&j) if depth < s.actions.len() => factor * resolve(s, j, by_name, memo, depth + 1),
            _ => 0.0,
        },
    };
    memo[i] = Some(x);
    x
}

/// Servers needed for `load` at `per_server` each, rounded up (see [`crate::fleet::servers`]).
fn servers(load: f64, per_server: Option<f64>) -> Option<u64> {
    per_server.map(|c| crate::fleet::servers(load, c))
}

/// The capacity estimate of a validated scenario.
pub fn estimate(s: &Scenario) -> Estimate {
    let rpd = requests_per_day(s);
    let actions: Vec<ActionEstimate> = s
        .actions
        .iter()
        .zip(&rpd)
        .map(|(a, &per_day)| {
            let avg = per_day / DAY_S;
            ActionEstimate {
                name: a.name.clone(),
                kind: a.kind,
                requests_per_day: per_day,
                avg_rps: avg,
                peak_rps: avg * s.peak_factor,
                ingress_bytes_per_sec: avg * a.ingress.mean_bytes(),
                egress_bytes_per_sec: avg * a.egress.mean_bytes(),
                stored_bytes_per_day: per_day * a.stored.mean_bytes(),
            }
        })
        .collect();
    let sum = |f: fn(&ActionEstimate) -> f64| actions.iter().map(f).fold(0.0, |x, y| x + y);
    let of_kind = |k: ActionKind| {
        actions
            .iter()
            .filter(|a| a.kind == k)
            .map(|a| a.avg_rps)
            .fold(0.0, |x, y| x + y)
    };
    let ingress = sum(|a| a.ingress_bytes_per_sec);
    let egress = sum(|a| a.egress_bytes_per_sec);
    let stored = sum(|a| a.stored_bytes_per_day);
    let retention_days = s.storage.retention.as_secs_f64() / DAY_S;
    let storage = stored * retention_days * s.storage.replication / s.storage.max_fill;
    let read_egress_per_day = actions
        .iter()
        .filter(|a| a.kind == ActionKind::Read)
        .map(|a| a.egress_bytes_per_sec * DAY_S)
        .fold(0.0, |x, y| x + y);
    let cache = s
        .cache
        .hot_fraction
        .map_or(0.0, |h| h * read_egress_per_day)
        + s.cache
            .recent
            .map_or(0.0, |r| stored * r.as_secs_f64() / DAY_S);
    let avg_rps = sum(|a| a.avg_rps);
    let totals = Totals {
        requests_per_day: sum(|a| a.requests_per_day),
        avg_rps,
        peak_rps: avg_rps * s.peak_factor,
        read_rps: of_kind(ActionKind::Read),
        write_rps: of_kind(ActionKind::Write),
        ingress_bytes_per_sec: ingress,
        egress_bytes_per_sec: egress,
        peak_ingress_bytes_per_sec: ingress * s.peak_factor,
        peak_egress_bytes_per_sec: egress * s.peak_factor,
        stored_bytes_per_day: stored,
        storage_bytes: storage,
        cache_bytes: cache,
    };
    let plan = crate::fleet::plan_app(totals.peak_rps, &s.capacity, &s.regions);
    let servers = Servers {
        app: plan.as_ref().map(|p| p.0),
        storage: servers(storage, s.capacity.storage_per_server.map(|b| b as f64)),
        cache: servers(cache, s.capacity.memory_per_server.map(|b| b as f64)),
    };
    Estimate {
        scenario: s.name.clone(),
        actions,
        totals,
        servers,
        regions: plan.map(|p| p.1).unwrap_or_default(),
        capacity_source: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse_str;

    #[test]
    fn server_counts_round_up_but_ignore_float_noise() {
        assert_eq!(servers(2.0, Some(1.0)), Some(2));
        assert_eq!(servers(2.000_000_000_1, Some(1.0)), Some(2));
        assert_eq!(servers(2.01, Some(1.0)), Some(3));
        assert_eq!(servers(0.0, Some(10.0)), Some(0));
        assert_eq!(servers(0.3, Some(10.0)), Some(1));
        assert_eq!(servers(5.0, None), None);
    }

    #[test]
    fn every_rate_form_converts_to_requests_per_day() {
        let text = "name: t\nusers: {daily_active: 1K}\nactions:\n  - {name: a, per_user_per_day: 2}\n  - {name: b, per_day: 5}\n  - {name: c, per_month: 60}\n  - {name: d, per_second: 0.5}\n  - {name: e, relative: {to: d, factor: 0.1}}\n";
        let s = parse_str(text, "t.yaml", &[]).unwrap();
        assert_eq!(requests_per_day(&s), [2000.0, 5.0, 2.0, 43_200.0, 4320.0]);
    }

    #[test]
    fn empty_payloads_are_positive_zero() {
        let s = parse_str("name: t\nactions: [{name: a, per_day: 1}]\n", "t", &[]).unwrap();
        let e = estimate(&s);
        assert!(e.totals.ingress_bytes_per_sec.is_sign_positive());
        assert!(e.totals.write_rps.is_sign_positive());
        assert_eq!(e.actions[0].kind, ActionKind::Read);
    }
}
