//! The validated scenario model: what the rest of napkin sees after a scenario file has been
//! parsed and checked. Every value here is already in base units (bytes, seconds, fractions,
//! plain counts); no strings with units survive past the parser.
//!
//! These types are the contract between `estimator` and its users (`loadgen`, `reports`, the
//! `napkin` binary). Add fields freely; do not change the meaning of existing ones.

use std::path::PathBuf;
use std::time::Duration;

pub use http::header::{HeaderName, HeaderValue};
pub use http::Method;

pub use crate::template::{Segment, Template};

/// A whole scenario file, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    pub name: String,
    pub description: Option<String>,
    /// The file it came from, when it came from a file.
    pub source: Option<PathBuf>,
    /// `users.daily_active`; required when any action uses `per_user_per_day`.
    pub daily_active_users: Option<f64>,
    /// Peak rate = average x peak_factor (default 1).
    pub peak_factor: f64,
    pub storage: StoragePolicy,
    pub cache: CachePolicy,
    pub capacity: Capacity,
    /// `regions:`; empty when not given (then one region holds all traffic).
    pub regions: Vec<Region>,
    pub actions: Vec<Action>,
    pub load: LoadSpec,
}

/// `storage:` block.
#[derive(Debug, Clone, PartialEq)]
pub struct StoragePolicy {
    /// Horizon for total storage (default 365 days).
    pub retention: Duration,
    /// Copies kept (default 1).
    pub replication: f64,
    /// Usable fraction of raw capacity, in (0, 1] (default 1).
    pub max_fill: f64,
}

/// `cache:` block. Either, both or neither may be set; when both are, the cache is their sum.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CachePolicy {
    /// cache = hot_fraction x daily egress bytes of read actions.
    pub hot_fraction: Option<f64>,
    /// cache = bytes stored during this window.
    pub recent: Option<Duration>,
}

/// `capacity:` block: per-server capacities used to derive server counts, and how the app
/// tier is planned from them (docs/scenario.md, "Fleet plan").
#[derive(Debug, Clone, PartialEq)]
pub struct Capacity {
    pub rps_per_server: Option<f64>,
    pub storage_per_server: Option<u64>,
    pub memory_per_server: Option<u64>,
    /// App servers are planned to run at most this share of `rps_per_server`, in (0, 1]
    /// (default 1).
    pub utilization: f64,
    /// N+k: spare app servers per region (default 0).
    pub redundancy: u32,
}

impl Default for Capacity {
    fn default() -> Self {
        Capacity {
            rps_per_server: None,
            storage_per_server: None,
            memory_per_server: None,
            utilization: 1.0,
            redundancy: 0,
        }
    }
}

/// One entry of `regions:`: a share of the peak traffic, planned on its own app servers.
#[derive(Debug, Clone, PartialEq)]
pub struct Region {
    pub name: String,
    /// Share of the traffic, in (0, 1]; the shares of all regions add up to 1.
    pub share: f64,
    /// Overrides `capacity.redundancy` for this region.
    pub redundancy: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ActionKind {
    Read,
    Write,
}

impl ActionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::Read => "read",
            ActionKind::Write => "write",
        }
    }
}

/// One entry of `actions:`.
#[derive(Debug, Clone, PartialEq)]
pub struct Action {
    pub name: String,
    pub kind: ActionKind,
    pub rate: Rate,
    /// Bytes in per request.
    pub ingress: Payload,
    /// Bytes out per request.
    pub egress: Payload,
    /// Bytes persisted per request.
    pub stored: Payload,
    /// How `napkin load` issues this action; `None` when the action has no `request:` block.
    pub request: Option<RequestSpec>,
}

/// Exactly one rate per action.
#[derive(Debug, Clone, PartialEq)]
pub enum Rate {
    PerUserPerDay(f64),
    PerDay(f64),
    PerMonth(f64),
    PerSecond(f64),
    /// factor x the requests/day of action `to` (resolved in any order; cycles are rejected).
    Relative {
        to: String,
        factor: f64,
    },
}

/// A payload: one size, or a list of components. Mean bytes per request =
/// sum(bytes x count x fraction).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Payload {
    pub components: Vec<Component>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Component {
    pub name: String,
    pub bytes: u64,
    pub count: f64,
    pub fraction: f64,
}

impl Payload {
    /// Mean bytes per request.
    pub fn mean_bytes(&self) -> f64 {
        self.components
            .iter()
            .map(|c| c.bytes as f64 * c.count * c.fraction)
            .fold(0.0, |a, b| a + b) // not `sum()`: an empty f64 sum is -0.0
    }
}

/// `request:` block of an action, validated and compiled: the load generator only renders it.
/// Templates (`{{user}}`, `{{text 140}}`, ...) are compiled [`Template`]s whose names are
/// resolved to indices into [`LoadSpec::keys`] and [`LoadSpec::pools`].
#[derive(Debug, Clone, PartialEq)]
pub struct RequestSpec {
    /// HTTP method, upper-case as written (`get` becomes `GET`).
    pub method: Method,
    /// Path and query, starting with `/`.
    pub path: Template,
    /// Header name (lower-case) and value, in file order.
    pub headers: Vec<(HeaderName, HeaderPart)>,
    pub body: Option<Template>,
    /// Response fields to remember, in file order.
    pub capture: Vec<Capture>,
    /// Statuses counted as success; empty means any 2xx.
    pub expect: Vec<u16>,
}

impl RequestSpec {
    /// The capture pools the templates draw from (indices into [`LoadSpec::pools`]), sorted,
    /// without repeats: the request can go once every one of them holds a value.
    pub fn pools_drawn(&self) -> Vec<usize> {
        let mut pools: Vec<usize> = self.path.pools().collect();
        pools.extend(self.body.iter().flat_map(Template::pools));
        for (_, part) in &self.headers {
            if let HeaderPart::Template(t) = part {
                pools.extend(t.pools());
            }
        }
        pools.sort_unstable();
        pools.dedup();
        pools
    }
}

/// A header value: fixed (checked once, when the scenario is read) or a template rendered per
/// request.
#[derive(Debug, Clone, PartialEq)]
pub enum HeaderPart {
    Fixed(HeaderValue),
    Template(Template),
}

/// One entry of `capture:`: after a successful response, remember the JSON field at `field`
/// (a dotted path split at the dots: `tweet.id` is `["tweet", "id"]`) in pool `pool`.
#[derive(Debug, Clone, PartialEq)]
pub struct Capture {
    /// Index into [`LoadSpec::pools`].
    pub pool: usize,
    pub field: Vec<String>,
}

/// `load:` block: defaults for `napkin load`; CLI flags override.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadSpec {
    /// Base URL, e.g. `http://127.0.0.1:8080`; `None` means "start the reference server".
    pub target: Option<String>,
    /// Key spaces by name, e.g. `user`.
    pub keys: Vec<KeySpace>,
    /// Capture pool names, in order of their first `capture:` in the actions (not written in
    /// `load:`; the requests' templates and captures refer to pools by index into this list).
    pub pools: Vec<String>,
    /// How the offered load is set; `None` when the block names none.
    pub model: Option<LoadModel>,
    pub arrivals: Arrivals,
    /// Piecewise-linear rate profile from 0/s; empty when not given.
    pub stages: Vec<Stage>,
    pub duration: Duration,
    pub warmup: Duration,
    pub connections: u32,
    pub timeout: Duration,
    pub slo: SloSpec,
}

impl Default for LoadSpec {
    fn default() -> Self {
        LoadSpec {
            target: None,
            keys: Vec::new(),
            pools: Vec::new(),
            model: None,
            arrivals: Arrivals::Uniform,
            stages: Vec::new(),
            duration: Duration::from_secs(30),
            warmup: Duration::ZERO,
            connections: 64,
            timeout: Duration::from_secs(5),
            slo: SloSpec::default(),
        }
    }
}

/// `rate`, `scale` or `concurrency` (at most one).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LoadModel {
    /// Open model: total requests/s across actions.
    Rate(f64),
    /// Open model: fraction of the estimated peak requests/s.
    Scale(f64),
    /// Closed model: users looping request -> response.
    Concurrency(u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Arrivals {
    #[default]
    Uniform,
    Poisson,
}

/// One ramp segment: the rate moves linearly to `rate` over `duration`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stage {
    pub duration: Duration,
    pub rate: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct KeySpace {
    pub name: String,
    /// Ids are 1..=count.
    pub count: u64,
    pub distribution: KeyDistribution,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum KeyDistribution {
    Uniform,
    /// Rank-frequency ~ 1 / k^exponent; id 1 is the hottest. exponent > 0.
    Zipf {
        exponent: f64,
    },
}

/// `slo:` block: thresholds per scope (`all` or an action name), in file order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SloSpec {
    pub scopes: Vec<SloScope>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SloScope {
    /// `all` or an action name.
    pub scope: String,
    pub thresholds: Vec<Threshold>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Threshold {
    pub metric: SloMetric,
    /// Microseconds for latency metrics; a fraction in [0, 1] for `error_rate`; requests/s for
    /// `min_rps`.
    pub limit: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SloMetric {
    P50,
    P90,
    P99,
    P999,
    Max,
    Mean,
    ErrorRate,
    MinRps,
}

impl SloMetric {
    /// Every metric, in the order the docs list them.
    pub const ALL: [SloMetric; 8] = [
        SloMetric::P50,
        SloMetric::P90,
        SloMetric::P99,
        SloMetric::P999,
        SloMetric::Max,
        SloMetric::Mean,
        SloMetric::ErrorRate,
        SloMetric::MinRps,
    ];

    /// The metric whose key (see [`SloMetric::as_str`]) is `key`.
    pub fn parse(key: &str) -> Option<SloMetric> {
        SloMetric::ALL.into_iter().find(|m| m.as_str() == key)
    }

    /// The key used in scenario files and run results.
    pub fn as_str(self) -> &'static str {
        match self {
            SloMetric::P50 => "p50",
            SloMetric::P90 => "p90",
            SloMetric::P99 => "p99",
            SloMetric::P999 => "p999",
            SloMetric::Max => "max",
            SloMetric::Mean => "mean",
            SloMetric::ErrorRate => "error_rate",
            SloMetric::MinRps => "min_rps",
        }
    }

    /// `min_rps` passes when the value is at least the limit; all others when at most.
    pub fn is_lower_bound(self) -> bool {
        matches!(self, SloMetric::MinRps)
    }
}
