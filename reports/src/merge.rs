//! Exact merge of runs made by several generator processes at the same time (`napkin merge`).
//!
//! - Histograms (latency and service, per scope) are decoded, added and re-encoded, so every
//!   percentile of the merged run is exactly what one process recording everything would give.
//! - Requests and errors (every kind and status) are summed.
//! - The measured window is the union of the inputs' windows: from the earliest `started_at`
//!   to the latest end; `achieved_rps` = requests / that window; `target_rps` is the sum.
//! - Timelines are aligned by wall-clock second (each input's points are shifted by its start
//!   offset, rounded to the second) and summed. Their per-interval histograms are added, so
//!   the merged p50/p99 of a second are exact; when an input has no per-interval histograms
//!   (a run of an older version), the merged point holds the maximum of the inputs' p50/p99,
//!   an upper bound of the true percentile, and no histograms.
//! - SLO checks are re-evaluated on the merged run from the first input's recorded thresholds.
//! - Runs of different scenarios are refused unless forced.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use hdrhistogram::Histogram;

use crate::error::ReportError;
use crate::histogram::new_histogram;
use crate::run::{ErrorCounts, RunResult, ScopeResult, TimelinePoint};
use crate::summary::decode_or_empty;

/// A run and the file it came from (for messages).
#[derive(Debug, Clone)]
pub struct Input {
    pub path: PathBuf,
    pub run: RunResult,
}

fn parse_time(input: &Input) -> Result<SystemTime, ReportError> {
    humantime::parse_rfc3339_weak(&input.run.started_at).map_err(|e| {
        ReportError::Invalid(format!(
            "{}: started_at {:?} is not an RFC 3339 time: {e}",
            input.path.display(),
            input.run.started_at
        ))
    })
}

/// Merges `inputs` (at least one). With `force`, runs of different scenarios are merged too.
pub fn merge(inputs: &[Input], force: bool) -> Result<RunResult, ReportError> {
    let first = inputs.first().ok_or_else(|| {
        ReportError::Invalid("nothing to merge: give one or more run files".into())
    })?;
    if !force {
        if let Some(other) = inputs.iter().find(|i| i.run.scenario != first.run.scenario) {
            return Err(ReportError::Invalid(format!(
                "{} is scenario {:?} but {} is scenario {:?}; merge runs of one scenario, or pass --force",
                other.path.display(),
                other.run.scenario,
                first.path.display(),
                first.run.scenario
            )));
        }
    }
    let starts: Vec<SystemTime> = inputs.iter().map(parse_time).collect::<Result<_, _>>()?;
    let start = *starts.iter().min().expect("at least one input");
    let end = inputs
        .iter()
        .zip(&starts)
        .map(|(i, s)| *s + Duration::from_secs_f64(i.run.duration_s.max(0.0)))
        .max()
        .expect("at least one input");
    // To the microsecond, so that 3.506 s does not print as 3.5060000000000002.
    let window = end.duration_since(start).unwrap_or_default();
    let duration_s = window.as_micros() as f64 / 1e6;

    let mut merged = first.run.clone();
    merged.started_at = humantime::format_rfc3339_millis(start).to_string();
    merged.duration_s = duration_s;
    merged.requests = inputs.iter().map(|i| i.run.requests).sum();
    merged.achieved_rps = if duration_s > 0.0 {
        merged.requests as f64 / duration_s
    } else {
        0.0
    };
    merged.interrupted = inputs.iter().any(|i| i.run.interrupted);
    merged.target_rps = inputs.iter().map(|i| i.run.target_rps).sum();
    merged.target = join_distinct(inputs.iter().map(|i| i.run.target.as_str()));
    merged.scenario = join_distinct(inputs.iter().map(|i| i.run.scenario.as_str()));
    merged.errors = ErrorCounts::default();
    for i in inputs {
        merged.errors.add(&i.run.errors);
    }
    merged.all = merge_scope("all", inputs.iter().map(|i| (i, Some(&i.run.all))))?;
    let names: std::collections::BTreeSet<&String> =
        inputs.iter().flat_map(|i| i.run.actions.keys()).collect();
    merged.actions = BTreeMap::new();
    for name in names {
        let scope = merge_scope(name, inputs.iter().map(|i| (i, i.run.actions.get(name))))?;
        merged.actions.insert(name.clone(), scope);
    }
    merged.timeline = merge_timelines(inputs, &starts, start)?;
    merge_settings(&mut merged, inputs);
    let spec = crate::slo::spec_from_checks(&first.run.slo.checks)?;
    merged.slo = crate::slo::evaluate(&merged, &spec);
    Ok(merged)
}

fn join_distinct<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let mut seen: Vec<&str> = Vec::new();
    for s in items {
        if !seen.contains(&s) {
            seen.push(s);
        }
    }
    seen.join(", ")
}

fn merge_scope<'a>(
    name: &str,
    scopes: impl Iterator<Item = (&'a Input, Option<&'a ScopeResult>)>,
) -> Result<ScopeResult, ReportError> {
    let mut latency = new_histogram();
    let mut service = new_histogram();
    let mut requests = 0;
    let mut errors = ErrorCounts::default();
    for (input, scope) in scopes {
        let Some(scope) = scope else { continue };
        let what = |field: &str| format!("{}: {name}.{field}", input.path.display());
        add(
            &mut latency,
            &decode_or_empty(&what("histogram"), &scope.histogram)?,
            &what("histogram"),
        )?;
        add(
            &mut service,
            &decode_or_empty(&what("service_histogram"), &scope.service_histogram)?,
            &what("service_histogram"),
        )?;
        requests += scope.requests;
        let mut kinds = scope.error_kinds.clone();
        // Runs without the per-scope breakdown still carry the scope's error total.
        kinds.total = scope.errors;
        errors.add(&kinds);
    }
    ScopeResult::from_histograms(&latency, &service, requests, errors)
        .map_err(|e| ReportError::histogram(format!("merged {name}"), e))
}

fn add(into: &mut Histogram<u64>, h: &Histogram<u64>, what: &str) -> Result<(), ReportError> {
    into.add(h)
        .map_err(|e| ReportError::Invalid(format!("{what}: cannot add histogram: {e:?}")))
}

fn merge_timelines(
    inputs: &[Input],
    starts: &[SystemTime],
    start: SystemTime,
) -> Result<Vec<TimelinePoint>, ReportError> {
    let mut by_second: BTreeMap<u64, SecondSum> = BTreeMap::new();
    for (input, s) in inputs.iter().zip(starts) {
        let offset = s
            .duration_since(start)
            .unwrap_or_default()
            .as_secs_f64()
            .round() as u64;
        let with_histograms = input.run.timeline.iter().any(|p| !p.histogram.is_empty());
        for p in &input.run.timeline {
            let t_s = p.t_s + offset;
            let e = by_second.entry(t_s).or_insert_with(|| SecondSum {
                point: TimelinePoint {
                    t_s,
                    ..TimelinePoint::default()
                },
                all: new_histogram(),
                actions: BTreeMap::new(),
                exact: true,
            });
            e.point.requests += p.requests;
            e.point.errors += p.errors;
            e.point.p50_us = e.point.p50_us.max(p.p50_us);
            e.point.p99_us = e.point.p99_us.max(p.p99_us);
            e.exact &= with_histograms;
            if with_histograms {
                e.add(input, p)?;
            }
        }
    }
    by_second.into_values().map(SecondSum::finish).collect()
}

/// One merged second: counts summed, histograms added while every input carries them.
struct SecondSum {
    point: TimelinePoint,
    all: Histogram<u64>,
    actions: BTreeMap<String, Histogram<u64>>,
    /// Every input covering this second has per-interval histograms.
    exact: bool,
}

impl SecondSum {
    fn add(&mut self, input: &Input, p: &TimelinePoint) -> Result<(), ReportError> {
        let what =
            |field: &str| format!("{}: timeline[t_s={}].{field}", input.path.display(), p.t_s);
        add(
            &mut self.all,
            &decode_or_empty(&what("histogram"), &p.histogram)?,
            &what("histogram"),
        )?;
        for (name, text) in &p.action_histograms {
            let field = what(&format!("action_histograms.{name}"));
            let h = decode_or_empty(&field, text)?;
            add(
                self.actions
                    .entry(name.clone())
                    .or_insert_with(new_histogram),
                &h,
                &field,
            )?;
        }
        Ok(())
    }

    /// The merged point; with histograms from every input its p50/p99 are exact.
    fn finish(mut self) -> Result<TimelinePoint, ReportError> {
        if !self.exact {
            return Ok(self.point);
        }
        let encode = |h: &Histogram<u64>| -> Result<String, ReportError> {
            if h.is_empty() {
                return Ok(String::new());
            }
            crate::histogram::encode(h).map_err(|e| ReportError::histogram("merged timeline", e))
        };
        if !self.all.is_empty() {
            self.point.p50_us = self.all.value_at_quantile(0.5);
            self.point.p99_us = self.all.value_at_quantile(0.99);
        }
        self.point.histogram = encode(&self.all)?;
        for (name, h) in &self.actions {
            self.point
                .action_histograms
                .insert(name.clone(), encode(h)?);
        }
        Ok(self.point)
    }
}

fn merge_settings(merged: &mut RunResult, inputs: &[Input]) {
    let sum_opt = |f: fn(&RunResult) -> Option<u32>| -> Option<u32> {
        inputs.iter().map(|i| f(&i.run)).sum()
    };
    merged.settings.connections = sum_opt(|r| r.settings.connections);
    merged.settings.concurrency = sum_opt(|r| r.settings.concurrency);
    merged.settings.late = inputs.iter().map(|i| i.run.settings.late).sum();
    merged.settings.deferred = inputs.iter().map(|i| i.run.settings.deferred).sum();
}
