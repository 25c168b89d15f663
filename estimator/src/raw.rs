//! The scenario file as written: serde structs that reject unknown fields. Values with units
//! stay as YAML values here; `validate` turns them into base units. Blocks whose order matters
//! (`headers`, `keys`, `slo`) stay as ordered mappings.

use serde::Deserialize;
use yaml_serde::{Mapping, Value};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawScenario {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub users: Option<RawUsers>,
    #[serde(default)]
    pub peak_factor: Option<Value>,
    #[serde(default)]
    pub storage: Option<RawStorage>,
    #[serde(default)]
    pub cache: Option<RawCache>,
    #[serde(default)]
    pub capacity: Option<RawCapacity>,
    #[serde(default)]
    pub regions: Option<Vec<RawRegion>>,
    pub actions: Vec<RawAction>,
    #[serde(default)]
    pub load: Option<RawLoad>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawUsers {
    #[serde(default)]
    pub daily_active: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStorage {
    #[serde(default)]
    pub retention: Option<Value>,
    #[serde(default)]
    pub replication: Option<Value>,
    #[serde(default)]
    pub max_fill: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCache {
    #[serde(default)]
    pub hot_fraction: Option<Value>,
    #[serde(default)]
    pub recent: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCapacity {
    #[serde(default)]
    pub rps_per_server: Option<Value>,
    #[serde(default)]
    pub storage_per_server: Option<Value>,
    #[serde(default)]
    pub memory_per_server: Option<Value>,
    #[serde(default)]
    pub utilization: Option<Value>,
    #[serde(default)]
    pub redundancy: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRegion {
    pub name: String,
    pub share: Value,
    #[serde(default)]
    pub redundancy: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAction {
    pub name: String,
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub per_user_per_day: Option<Value>,
    #[serde(default)]
    pub per_day: Option<Value>,
    #[serde(default)]
    pub per_month: Option<Value>,
    #[serde(default)]
    pub per_second: Option<Value>,
    #[serde(default)]
    pub relative: Option<RawRelative>,
    #[serde(default)]
    pub ingress: Option<Value>,
    #[serde(default)]
    pub egress: Option<Value>,
    #[serde(default)]
    pub stored: Option<Value>,
    #[serde(default)]
    pub request: Option<RawRequest>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRelative {
    pub to: String,
    pub factor: Value,
}

/// One component of a payload list.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawComponent {
    #[serde(default)]
    pub name: Option<String>,
    pub bytes: Value,
    #[serde(default)]
    pub count: Option<Value>,
    #[serde(default)]
    pub fraction: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRequest {
    pub method: String,
    pub path: String,
    #[serde(default)]
    pub headers: Option<Mapping>,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub capture: Option<Mapping>,
    #[serde(default)]
    pub expect: Option<Vec<Value>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLoad {
    #[serde(default)]
    pub target: Option<String>,
    #[serde(default)]
    pub keys: Option<Mapping>,
    #[serde(default)]
    pub rate: Option<Value>,
    #[serde(default)]
    pub scale: Option<Value>,
    #[serde(default)]
    pub concurrency: Option<Value>,
    #[serde(default)]
    pub arrivals: Option<String>,
    #[serde(default)]
    pub stages: Option<Vec<RawStage>>,
    #[serde(default)]
    pub duration: Option<Value>,
    #[serde(default)]
    pub warmup: Option<Value>,
    #[serde(default)]
    pub connections: Option<Value>,
    #[serde(default)]
    pub timeout: Option<Value>,
    #[serde(default)]
    pub slo: Option<Mapping>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawKey {
    pub count: Value,
    #[serde(default)]
    pub distribution: Option<String>,
    #[serde(default)]
    pub exponent: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStage {
    pub duration: Value,
    pub rate: Value,
}

/// A file holding only SLO thresholds (`napkin check --slo FILE`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSloFile {
    pub slo: Mapping,
}
