//! What `napkin compare` compares: the gated metrics, each run's value of them (the figures
//! run.json and `napkin report` show) and the per-interval samples of one run (its own
//! variation over time, the yardstick of a one-run-per-side comparison).
//!
//! Samples of a run, from its timeline:
//! - a latency percentile p: the p-quantile of each block of consecutive seconds, a block being
//!   the shortest run of seconds holding at least 1 / (1 - p) latencies (so at least one lies
//!   beyond p: one second each at 500 req/s for p99, several for p99.9); a short remainder
//!   joins the last block;
//! - error rate and successful requests/s (`all` only: the timeline counts requests and errors
//!   for all actions together): each second's errors / requests and (requests - errors) /
//!   the second's length (the last second of an interrupted run is shorter).

use std::cell::OnceCell;

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::error::ReportError;
use crate::histogram::new_histogram;
use crate::run::{RunResult, ScopeResult};
use crate::summary::{decode_or_empty, latency_histogram};

/// A gated metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    P50,
    P90,
    P99,
    P999,
    /// errors / requests.
    ErrorRate,
    /// Successful requests per second: (requests - errors) / duration_s.
    OkRps,
}

impl Metric {
    pub const ALL: [Metric; 6] = [
        Metric::P50,
        Metric::P90,
        Metric::P99,
        Metric::P999,
        Metric::ErrorRate,
        Metric::OkRps,
    ];

    /// The name in files and tables: p50 p90 p99 p999 error_rate ok_rps.
    pub fn name(self) -> &'static str {
        match self {
            Metric::P50 => "p50",
            Metric::P90 => "p90",
            Metric::P99 => "p99",
            Metric::P999 => "p999",
            Metric::ErrorRate => "error_rate",
            Metric::OkRps => "ok_rps",
        }
    }

    /// The quantile of a latency metric.
    pub fn quantile(self) -> Option<f64> {
        match self {
            Metric::P50 => Some(0.5),
            Metric::P90 => Some(0.9),
            Metric::P99 => Some(0.99),
            Metric::P999 => Some(0.999),
            Metric::ErrorRate | Metric::OkRps => None,
        }
    }

    /// Growth is bad (latency, errors); for throughput a drop is.
    pub fn higher_is_worse(self) -> bool {
        self != Metric::OkRps
    }
}

/// One scope of one run, decoded once.
#[derive(Debug)]
pub struct ScopeData<'a> {
    pub run: &'a RunResult,
    pub name: &'a str,
    pub scope: &'a ScopeResult,
    /// Latencies recorded in the scope.
    pub latencies: u64,
    /// The scope's per-second latency histograms, decoded on first use (None: the run has
    /// none).
    intervals: OnceCell<Option<Vec<Histogram<u64>>>>,
}

impl<'a> ScopeData<'a> {
    pub fn of(run: &'a RunResult, name: &'a str) -> Result<Option<ScopeData<'a>>, ReportError> {
        let Some(scope) = crate::slo::scope_of(run, name) else {
            return Ok(None);
        };
        let latencies = latency_histogram(name, scope)?.len();
        Ok(Some(ScopeData {
            run,
            name,
            scope,
            latencies,
            intervals: OnceCell::new(),
        }))
    }

    /// The run's value of `metric` (run.json's percentiles); None for a latency metric of a
    /// scope without latencies.
    pub fn value(&self, metric: Metric) -> Option<f64> {
        let l = &self.scope.latency_us;
        let latency = |v: u64| (self.latencies > 0).then_some(v as f64);
        match metric {
            Metric::P50 => latency(l.p50),
            Metric::P90 => latency(l.p90),
            Metric::P99 => latency(l.p99),
            Metric::P999 => latency(l.p999),
            Metric::ErrorRate => Some(if self.scope.requests == 0 {
                0.0
            } else {
                self.scope.errors as f64 / self.scope.requests as f64
            }),
            Metric::OkRps => Some(if self.run.duration_s > 0.0 {
                self.scope.requests.saturating_sub(self.scope.errors) as f64 / self.run.duration_s
            } else {
                0.0
            }),
        }
    }

    /// Per-interval samples of `metric` (see the module doc); None when the run has none for
    /// it: a latency metric of a run without per-interval histograms (an older version), or
    /// error rate and throughput of an action.
    pub fn interval_samples(&self, metric: Metric) -> Result<Option<Vec<f64>>, ReportError> {
        let timeline = &self.run.timeline;
        match metric.quantile() {
            Some(q) => Ok(self
                .interval_histograms()?
                .map(|hists| block_quantiles(hists, q))),
            None if self.name != "all" || timeline.is_empty() => Ok(None),
            None => Ok(Some(
                timeline
                    .iter()
                    .filter_map(|p| {
                        let ok = p.requests.saturating_sub(p.errors) as f64;
                        if metric == Metric::ErrorRate {
                            (p.requests > 0).then(|| p.errors as f64 / p.requests as f64)
                        } else {
                            let start = p.t_s.saturating_sub(1) as f64;
                            let length = (p.t_s as f64).min(self.run.duration_s) - start;
                            (length > 0.0).then(|| ok / length)
                        }
                    })
                    .collect(),
            )),
        }
    }
}

impl ScopeData<'_> {
    fn interval_histograms(&self) -> Result<Option<&Vec<Histogram<u64>>>, ReportError> {
        if self.intervals.get().is_none() {
            let decoded = if has_interval_histograms(self.run) {
                let mut hists = Vec::with_capacity(self.run.timeline.len());
                for p in &self.run.timeline {
                    let text = if self.name == "all" {
                        &p.histogram
                    } else {
                        p.action_histograms
                            .get(self.name)
                            .map_or("", String::as_str)
                    };
                    let what = format!("timeline[t_s={}] {} histogram", p.t_s, self.name);
                    hists.push(decode_or_empty(&what, text)?);
                }
                Some(hists)
            } else {
                None
            };
            let _ = self.intervals.set(decoded);
        }
        Ok(self.intervals.get().and_then(Option::as_ref))
    }
}

/// Whether a run carries per-interval histograms (runs of older versions do not).
pub fn has_interval_histograms(run: &RunResult) -> bool {
    run.timeline.iter().any(|p| !p.histogram.is_empty())
}

/// The q-quantile of each block of consecutive histograms holding at least 1 / (1 - q)
/// values; a remainder too small for a block of its own joins the last block.
pub fn block_quantiles(hists: &[Histogram<u64>], q: f64) -> Vec<f64> {
    let need = (1.0 / (1.0 - q)).round() as u64;
    // Block boundaries from the counts alone; most blocks are one histogram (no merging).
    let mut blocks: Vec<std::ops::Range<usize>> = Vec::new();
    let (mut start, mut count) = (0, 0);
    for (i, h) in hists.iter().enumerate() {
        count += h.len();
        if count >= need {
            blocks.push(start..i + 1);
            (start, count) = (i + 1, 0);
        }
    }
    if count > 0 {
        match blocks.last_mut() {
            Some(last) => last.end = hists.len(),
            None => blocks.push(start..hists.len()),
        }
    }
    blocks
        .into_iter()
        .map(|r| match &hists[r.clone()] {
            [one] => one.value_at_quantile(q) as f64,
            many => {
                let mut merged = new_histogram();
                for h in many {
                    merged.add(h).expect("same bounds");
                }
                merged.value_at_quantile(q) as f64
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hist(values: &[u64]) -> Histogram<u64> {
        let mut h = new_histogram();
        for &v in values {
            h.record(v).unwrap();
        }
        h
    }

    #[test]
    fn blocks_hold_a_value_beyond_the_percentile() {
        // p90 needs 10 values per block: 6 + 6 -> one block, 4 + 8 -> another, 3 left over
        // join the last.
        let hs = [
            hist(&[1; 6]),
            hist(&[2; 6]),
            hist(&[3; 4]),
            hist(&[4; 8]),
            hist(&[100; 3]),
        ];
        let b = block_quantiles(&hs, 0.9);
        assert_eq!(b, vec![2.0, 100.0]);
        // p50 needs 2: every histogram is a block of its own.
        assert_eq!(block_quantiles(&hs, 0.5), vec![1.0, 2.0, 3.0, 4.0, 100.0]);
        assert!(block_quantiles(&[], 0.5).is_empty());
    }
}
