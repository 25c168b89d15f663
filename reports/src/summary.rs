//! The numbers every human-facing format shows, computed once from a run: per-scope counts,
//! rates and the percentile ladder (50, 90, 99, 99.9, 99.99, max), which needs the decoded
//! histogram because run.json stores no p99.99. `napkin report --format json` prints this.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::error::ReportError;
use crate::histogram::{decode, stats};
use crate::run::{
    ErrorCounts, RunResult, ScopeResult, Settings, ShardInfo, SloOutcome, TimelinePoint, TlsSummary,
};
use crate::units::fmt_us;

/// Percentiles of the ladder, in percent; `max` follows them.
pub const LADDER: [f64; 5] = [50.0, 90.0, 99.0, 99.9, 99.99];

/// The summary of a run (everything but the encoded histograms).
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub format: String,
    pub scenario: String,
    pub target: String,
    pub model: String,
    pub arrivals: String,
    pub target_rps: Option<f64>,
    pub started_at: String,
    pub duration_s: f64,
    pub requests: u64,
    pub achieved_rps: f64,
    pub dropped: u64,
    pub saturated: bool,
    /// When saturated: which side could not keep up, in words ([`crate::saturation`]).
    pub saturation: Option<String>,
    pub interrupted: bool,
    /// `http/1.1` or `h2`.
    pub protocol: String,
    pub tls: Option<TlsSummary>,
    pub insecure: bool,
    pub connections_opened: u64,
    /// TCP connect plus TLS handshake per connection opened in the window (none in runs
    /// written before it was recorded).
    pub connect_us: Option<Ladder>,
    pub errors: ErrorCounts,
    /// `all` first, then the actions by name.
    pub scopes: Vec<ScopeSummary>,
    pub timeline: Vec<TimelinePoint>,
    pub slo: SloOutcome,
    pub settings: Settings,
    /// Shard runs and merges of shards: which part of which distributed run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardInfo>,
}

/// One scope (`all` or an action).
#[derive(Debug, Clone, Serialize)]
pub struct ScopeSummary {
    pub name: String,
    pub requests: u64,
    pub errors: u64,
    /// errors / requests.
    pub error_rate: f64,
    /// All requests of the scope (errors included) per second of the window; not the
    /// achieved rate (responses within the window) nor compare's successful requests/s.
    pub requests_per_s: f64,
    pub latency_us: Ladder,
    pub service_us: Ladder,
    pub error_kinds: ErrorCounts,
}

/// Column headers of [`ScopeSummary::summary_cells`].
pub const SUMMARY_HEADERS: [&str; 8] = [
    "scope",
    "requests",
    "errors",
    "error rate",
    "req/s",
    "min",
    "mean",
    "stddev",
];

impl ScopeSummary {
    /// The cells of the summary table row (table and html): scope, requests, errors, error
    /// rate, req/s (all requests, errors included), min, mean, stddev.
    pub fn summary_cells(&self) -> Vec<String> {
        let l = &self.latency_us;
        vec![
            self.name.clone(),
            crate::units::fmt_count(self.requests),
            crate::units::fmt_count(self.errors),
            crate::units::fmt_pct(self.error_rate),
            crate::units::fmt_rps(self.requests_per_s),
            l.cell(l.min as f64),
            l.cell(l.mean),
            l.cell(l.stddev),
        ]
    }
}

/// min, mean, stddev and the percentile ladder of one histogram, microseconds.
///
/// min, mean, p50 to p99.9 and max come from [`crate::histogram::stats`], the function that
/// wrote the run's `latency_us`, so every format shows the run file's figures; p99.99 and
/// stddev (not in run files) use the same quantile arithmetic.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Ladder {
    /// Latencies recorded; 0 means no data (the other fields are then 0 and mean nothing).
    pub count: u64,
    pub min: u64,
    pub mean: f64,
    pub stddev: f64,
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p999: u64,
    pub p9999: u64,
    pub max: u64,
}

impl Ladder {
    pub fn of(h: &Histogram<u64>) -> Ladder {
        if h.is_empty() {
            return Ladder::default();
        }
        let st = stats(h);
        Ladder {
            count: h.len(),
            min: st.min,
            mean: st.mean,
            stddev: h.stdev(),
            p50: st.p50,
            p90: st.p90,
            p99: st.p99,
            p999: st.p999,
            p9999: h.value_at_quantile(0.9999),
            max: st.max,
        }
    }

    /// The ladder values in [`LADDER`] order, then max.
    pub fn steps(&self) -> [u64; 6] {
        [
            self.p50, self.p90, self.p99, self.p999, self.p9999, self.max,
        ]
    }

    /// [`Ladder::steps`] for people (`12.30ms`), or `-` for every step when there is no data.
    pub fn step_cells(&self) -> Vec<String> {
        self.steps().iter().map(|&v| self.cell(v as f64)).collect()
    }

    /// One value of this ladder for people, or `-` when there is no data.
    pub fn cell(&self, us: f64) -> String {
        if self.count == 0 {
            "-".to_string()
        } else {
            fmt_us(us)
        }
    }
}

/// Column labels of [`Ladder::steps`].
pub const LADDER_LABELS: [&str; 6] = ["p50", "p90", "p99", "p99.9", "p99.99", "max"];

impl Summary {
    /// Summarizes `run`; with `only`, the scopes are `all` and that action only.
    pub fn of(run: &RunResult, only: Option<&str>) -> Result<Summary, ReportError> {
        let mut scopes = vec![scope_summary(run, "all", &run.all)?];
        for (name, scope) in &run.actions {
            if only.is_none_or(|o| o == name) {
                scopes.push(scope_summary(run, name, scope)?);
            }
        }
        Ok(Summary {
            format: run.format.clone(),
            scenario: run.scenario.clone(),
            target: run.target.clone(),
            model: run.model.clone(),
            arrivals: run.arrivals.clone(),
            target_rps: run.target_rps,
            started_at: run.started_at.clone(),
            duration_s: run.duration_s,
            requests: run.requests,
            achieved_rps: run.achieved_rps,
            dropped: run.dropped,
            saturated: run.saturated,
            saturation: crate::saturation::assess(run)?.map(|a| a.explanation),
            interrupted: run.interrupted,
            protocol: run.protocol.clone(),
            tls: run.tls.clone(),
            insecure: run.insecure,
            connections_opened: run.connections_opened,
            connect_us: match &run.all.connect_histogram {
                Some(text) => Some(Ladder::of(&decode_or_empty("all.connect_histogram", text)?)),
                None => None,
            },
            errors: run.errors.clone(),
            scopes,
            // Without the per-interval histograms (encoded data, not figures).
            timeline: run
                .timeline
                .iter()
                .map(|p| TimelinePoint {
                    histogram: String::new(),
                    action_histograms: BTreeMap::new(),
                    ..p.clone()
                })
                .collect(),
            slo: run.slo.clone(),
            settings: run.settings.clone(),
            shard: run.shard.clone(),
        })
    }
}

/// Checks that `--action NAME` names an action of the run.
pub fn check_action(run: &RunResult, action: Option<&str>) -> Result<(), ReportError> {
    match action {
        Some(a) if a != "all" && !run.actions.contains_key(a) => {
            Err(ReportError::Invalid(format!(
                "--action {a:?} is not an action of this run (its actions: {})",
                run.actions.keys().cloned().collect::<Vec<_>>().join(", ")
            )))
        }
        _ => Ok(()),
    }
}

/// Decodes the latency histogram of a scope (empty when the scope has none).
pub fn latency_histogram(name: &str, scope: &ScopeResult) -> Result<Histogram<u64>, ReportError> {
    decode_or_empty(&format!("{name}.histogram"), &scope.histogram)
}

/// Decodes an encoded histogram, or an empty histogram for an empty string.
pub fn decode_or_empty(what: &str, text: &str) -> Result<Histogram<u64>, ReportError> {
    if text.trim().is_empty() {
        return Ok(crate::histogram::new_histogram());
    }
    decode(text).map_err(|e| ReportError::histogram(what.to_string(), e))
}

fn scope_summary(
    run: &RunResult,
    name: &str,
    scope: &ScopeResult,
) -> Result<ScopeSummary, ReportError> {
    let latency = latency_histogram(name, scope)?;
    let service = decode_or_empty(
        &format!("{name}.service_histogram"),
        &scope.service_histogram,
    )?;
    Ok(ScopeSummary {
        name: name.to_string(),
        requests: scope.requests,
        errors: scope.errors,
        error_rate: if scope.requests == 0 {
            0.0
        } else {
            scope.errors as f64 / scope.requests as f64
        },
        requests_per_s: if run.duration_s > 0.0 {
            scope.requests as f64 / run.duration_s
        } else {
            0.0
        },
        latency_us: Ladder::of(&latency),
        service_us: Ladder::of(&service),
        error_kinds: scope.error_kinds.clone(),
    })
}

/// Error counts as `kind -> count`, zero kinds left out: `connect`, `timeout`, `io`,
/// `capture`, `unfinished`, `status 503`.
pub fn error_breakdown(e: &ErrorCounts) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for (k, v) in [
        ("connect", e.connect),
        ("timeout", e.timeout),
        ("io", e.io),
        ("capture", e.capture),
        ("unfinished", e.unfinished),
    ] {
        if v > 0 {
            out.insert(k.to_string(), v);
        }
    }
    for (status, v) in &e.status {
        if *v > 0 {
            out.insert(format!("status {status}"), *v);
        }
    }
    for (reason, v) in &e.tls_reasons {
        if *v > 0 {
            out.insert(format!("tls {}", reason.replace('_', " ")), *v);
        }
    }
    if e.tls > 0 && e.tls_reasons.is_empty() {
        out.insert("tls".to_string(), e.tls);
    }
    out
}

/// One line on the connections of a run: protocol, TLS, how many were opened and how long
/// opening took (TCP connect plus TLS handshake); `None` for a plain HTTP/1.1 run that opened
/// no connection in its window (or was written before connections were recorded).
pub fn connections_line(s: &Summary) -> Option<String> {
    let tls = s.tls.as_ref();
    if s.connections_opened == 0 && tls.is_none() && s.protocol == "http/1.1" && !s.insecure {
        return None;
    }
    let mut parts = vec![match tls {
        Some(t) => format!(
            "{} over {} ({}{})",
            s.protocol,
            t.version,
            t.cipher,
            t.alpn
                .as_deref()
                .map(|a| format!(", ALPN {a}"))
                .unwrap_or_default()
        ),
        None => format!("{} over TCP", s.protocol),
    }];
    let mut opened = format!(
        "{} connections opened",
        crate::units::fmt_count(s.connections_opened)
    );
    if let Some(t) = tls.filter(|t| t.resumed > 0) {
        opened.push_str(&format!(
            " ({} resumed TLS sessions)",
            crate::units::fmt_count(t.resumed)
        ));
    }
    parts.push(opened);
    if let Some(c) = s.connect_us.as_ref().filter(|c| c.count > 0) {
        parts.push(format!(
            "connect{} p50 {}, p99 {}, max {}",
            if tls.is_some() {
                " + TLS handshake"
            } else {
                ""
            },
            fmt_us(c.p50 as f64),
            fmt_us(c.p99 as f64),
            fmt_us(c.max as f64)
        ));
    }
    if s.insecure {
        parts.push("certificates NOT verified (--insecure)".to_string());
    }
    Some(parts.join("; "))
}

#[cfg(test)]
mod breakdown_tests {
    use super::*;

    #[test]
    fn every_error_kind_is_listed_and_zero_kinds_are_not() {
        let mut e = ErrorCounts {
            connect: 1,
            unfinished: 4,
            ..ErrorCounts::default()
        };
        e.status.insert("503".into(), 2);
        let got = error_breakdown(&e);
        let want: Vec<(&str, u64)> = vec![("connect", 1), ("status 503", 2), ("unfinished", 4)];
        assert_eq!(
            got.iter()
                .map(|(k, v)| (k.as_str(), *v))
                .collect::<Vec<_>>(),
            want
        );
    }
}
