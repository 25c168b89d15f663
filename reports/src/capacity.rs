//! The capacity result (`napkin capacity --out capacity.json`, SPEC section 8): every step of a
//! search for the highest open-model rate that meets an SLO, or of a closed-model concurrency
//! sweep with its Universal Scalability Law fit. `napkin report` renders it and `napkin
//! estimate --capacity` plans a fleet from its `max_rps`.
//!
//! Fields beyond SPEC section 8 are extensions with `#[serde(default)]` (docs/capacity.md).

use std::path::Path;

use estimator::usl::Fit;
use serde::{Deserialize, Serialize};

use crate::error::ReportError;
use crate::run::SloCheck;

/// The value of the `format` field this version writes and reads.
pub const CAPACITY_FORMAT: &str = "napkin-capacity/1";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CapacityResult {
    pub format: String,
    pub scenario: String,
    pub target: String,
    /// `open` (rate search) or `closed` (concurrency sweep).
    pub model: String,
    /// The SLO the steps were held to, e.g. `all p99 <= 50ms, error_rate <= 0.1%`.
    pub slo: String,
    /// The highest rate that met the SLO without saturating (open), or the highest successful
    /// throughput of a passing step (closed); null when no step passed.
    pub max_rps: Option<f64>,
    /// What stopped the search, e.g. `all p99 = 61.2ms > 50ms at 1290/s`.
    pub limited_by: String,
    /// `target` or `generator` (SPEC section 8); null when nothing failed (`--to` reached).
    pub bottleneck: Option<String>,
    pub steps: Vec<CapacityStep>,
    /// The USL fit of a concurrency sweep; null for a rate search.
    pub usl: Option<Fit>,
    /// Extension: RFC 3339 time the search ended.
    #[serde(default)]
    pub measured_at: String,
    /// Extension: how the search was run.
    #[serde(default)]
    pub settings: CapacitySettings,
}

/// One step: one load run at one rate (open) or concurrency (closed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CapacityStep {
    /// Open model: the rate offered; closed: the successful throughput (as achieved).
    pub offered_rps: f64,
    /// Responses within the step's measured window per second.
    pub achieved_rps: f64,
    /// Every SLO check passed and the step was not saturated.
    pub pass: bool,
    pub saturated: bool,
    pub dropped: u64,
    pub errors: u64,
    pub latency_us: StepLatency,
    pub checks: Vec<SloCheck>,
    /// Extension: closed-model sweep: the concurrency of this step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<u32>,
    /// Extension: successful requests per second of the window (the sweep's throughput).
    #[serde(default)]
    pub ok_rps: f64,
    /// Extension: requests sent in the window.
    #[serde(default)]
    pub requests: u64,
    /// Extension: service time (from the actual send) p99, to tell a slow target from a late
    /// generator.
    #[serde(default)]
    pub service_p99_us: u64,
    /// Extension: `grow`, `bisect`, `confirm` (search) or `sweep`.
    #[serde(default)]
    pub phase: String,
    /// Extension: when the step failed, which side could not keep up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bottleneck: Option<String>,
}

/// Latency (from the intended send time) of a step.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct StepLatency {
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
}

/// Extension: the search's settings.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct CapacitySettings {
    pub scenario_file: Option<String>,
    pub from_rps: Option<f64>,
    pub to_rps: Option<f64>,
    /// Relative gap between the last pass and the first fail at which bisection stops.
    pub precision: Option<f64>,
    pub step_s: f64,
    pub warmup_s: f64,
    pub connections: Option<u32>,
    pub seed: Option<u64>,
}

impl CapacityResult {
    /// The step with the highest passing rate (the result), if any.
    pub fn best_step(&self) -> Option<&CapacityStep> {
        self.steps
            .iter()
            .filter(|s| s.pass)
            .max_by(|a, b| a.offered_rps.total_cmp(&b.offered_rps))
    }
}

/// Whether `text` (already read) is a capacity result rather than a run file.
pub fn is_capacity(text: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| v.get("format")?.as_str().map(|f| f == CAPACITY_FORMAT))
        .unwrap_or(false)
}

/// Reads and checks a capacity result.
pub fn read_capacity(path: &Path) -> Result<CapacityResult, ReportError> {
    let text = std::fs::read_to_string(path).map_err(|e| ReportError::read(path, e))?;
    parse_capacity(path, &text)
}

/// [`read_capacity`] on text already read; `path` is only used in messages.
pub fn parse_capacity(path: &Path, text: &str) -> Result<CapacityResult, ReportError> {
    let value = crate::io::versioned(path, text, CAPACITY_FORMAT, "capacity result", |found| {
        ReportError::Invalid(format!(
            "{}: format {found:?} is not a capacity result ({CAPACITY_FORMAT}); capacity \
             results come from `napkin capacity --out`",
            path.display()
        ))
    })?;
    serde_json::from_value(value).map_err(|err| ReportError::Json {
        path: path.into(),
        err,
    })
}
