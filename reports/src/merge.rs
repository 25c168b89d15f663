//! Exact merge of runs made by several generator processes at the same time (`napkin merge`).
//!
//! - Histograms (latency and service, per scope) are decoded, added and re-encoded, so every
//!   percentile of the merged run is exactly what one process recording everything would give.
//! - Requests and errors (every kind and status) are summed.
//! - The measured window is the union of the inputs' windows: from the earliest `started_at`
//!   to the latest end; `achieved_rps` = the inputs' responses within their windows / that
//!   window; `target_rps` is the sum. Requests, dropped requests and every setting count add
//!   up (`settings.offered` only when every input has one); `saturated` is decided again on
//!   the merged numbers; `send_lag_us` is the element-wise maximum (an upper bound).
//! - Timelines are aligned by wall-clock second (each input's points are shifted by its start
//!   offset, rounded to the second) and summed. Their per-interval histograms are added, so
//!   the merged p50/p99 of a second are exact; when an input has no per-interval histograms
//!   (a run of an older version), the merged point holds the maximum of the inputs' p50/p99,
//!   an upper bound of the true percentile, and no histograms.
//! - Connections: `connections_opened` and TLS resumptions add up; `all.connect_us` is merged
//!   exactly from its histogram; `protocol` is the inputs' (listed when they differ), `tls`
//!   the first input's negotiated version, cipher and ALPN; `insecure` when any input was.
//! - SLO checks are re-evaluated on the merged run from the first input's recorded thresholds.
//! - Runs of different scenarios are refused unless forced.
//! - Shard results (SPEC section 10) merge only with the other shards of their run, each once,
//!   all of them unless `allow_partial` ([`crate::shards`]); the merged run's `shard` object
//!   lists the shards it holds, the missing ones, and the spread of their start lags.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use hdrhistogram::Histogram;

use crate::error::ReportError;
use crate::histogram::new_histogram;
use crate::run::{
    ErrorCounts, LatencyStats, RunResult, ScopeResult, Settings, SloOutcome, TimelinePoint,
    TlsSummary,
};
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

/// How `merge` treats its inputs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// Merge runs of different scenarios too.
    pub force: bool,
    /// Merge the shards of a run even if some are missing (the result is marked partial).
    pub allow_partial: bool,
}

/// Merges `inputs` (at least one). With `force`, runs of different scenarios are merged too.
pub fn merge(inputs: &[Input], force: bool) -> Result<RunResult, ReportError> {
    merge_with(
        inputs,
        &Options {
            force,
            allow_partial: false,
        },
    )
}

/// Merges `inputs` (at least one) as `options` say.
pub fn merge_with(inputs: &[Input], options: &Options) -> Result<RunResult, ReportError> {
    let first = inputs.first().ok_or_else(|| {
        ReportError::Invalid("nothing to merge: give one or more run files".into())
    })?;
    let shard = crate::shards::check(inputs, options.allow_partial)?;
    if !options.force {
        one_scenario(inputs, first)?;
    }
    let starts: Vec<SystemTime> = inputs.iter().map(parse_time).collect::<Result<_, _>>()?;
    let (start, duration_s) = union_window(inputs, &starts);
    let responses: f64 = inputs
        .iter()
        .map(|i| i.run.achieved_rps * i.run.duration_s)
        .sum();
    let mut errors = ErrorCounts::default();
    for i in inputs {
        errors.add(&i.run.errors);
    }
    let names: std::collections::BTreeSet<&String> =
        inputs.iter().flat_map(|i| i.run.actions.keys()).collect();
    let mut actions = BTreeMap::new();
    for name in names {
        let scope = merge_scope(name, inputs.iter().map(|i| (i, i.run.actions.get(name))))?;
        actions.insert(name.clone(), scope);
    }
    // Field by field, so that a field added to the run file does not compile until it is
    // merged here too.
    let RunResult {
        format,
        model,
        arrivals,
        slo: first_slo,
        ..
    } = &first.run;
    let mut merged = RunResult {
        format: format.clone(),
        scenario: join_distinct(inputs.iter().map(|i| i.run.scenario.as_str())),
        target: join_distinct(inputs.iter().map(|i| i.run.target.as_str())),
        model: model.clone(),
        arrivals: arrivals.clone(),
        target_rps: inputs.iter().map(|i| i.run.target_rps).sum(),
        started_at: humantime::format_rfc3339_millis(start).to_string(),
        duration_s,
        requests: inputs.iter().map(|i| i.run.requests).sum(),
        achieved_rps: if duration_s > 0.0 {
            responses / duration_s
        } else {
            0.0
        },
        dropped: inputs.iter().map(|i| i.run.dropped).sum(),
        saturated: false,
        send_lag_us: upper_bound(inputs.iter().map(|i| i.run.send_lag_us)),
        connections_busy: busy_share(inputs),
        protocol: join_distinct(inputs.iter().map(|i| i.run.protocol.as_str())),
        tls: merge_tls(inputs),
        insecure: inputs.iter().any(|i| i.run.insecure),
        connections_opened: inputs.iter().map(|i| i.run.connections_opened).sum(),
        interrupted: inputs.iter().any(|i| i.run.interrupted),
        errors,
        all: merge_scope("all", inputs.iter().map(|i| (i, Some(&i.run.all))))?,
        actions,
        timeline: merge_timelines(inputs, &starts, start)?,
        slo: SloOutcome::default(),
        settings: merge_settings(inputs),
        shard,
    };
    merged.saturated = crate::saturation::is_saturated(&merged);
    let spec = crate::slo::spec_from_checks(&first_slo.checks)?;
    merged.slo = crate::slo::evaluate(&merged, &spec);
    Ok(merged)
}

/// The first input's negotiated TLS parameters with every input's resumptions; `None` when no
/// input used TLS.
fn merge_tls(inputs: &[Input]) -> Option<TlsSummary> {
    let mut out: Option<TlsSummary> = None;
    for t in inputs.iter().filter_map(|i| i.run.tls.as_ref()) {
        match &mut out {
            None => out = Some(t.clone()),
            Some(o) => o.resumed += t.resumed,
        }
    }
    out
}

/// The inputs' busy shares weighted by their lane-seconds (connections x HTTP/2 streams);
/// `None` unless every input has one (and its connections).
fn busy_share(inputs: &[Input]) -> Option<f64> {
    let (mut busy, mut total) = (0.0, 0.0);
    for i in inputs {
        let share = i.run.connections_busy?;
        let lanes = i.run.settings.connections? * i.run.settings.streams.unwrap_or(1);
        let capacity = f64::from(lanes) * i.run.duration_s;
        busy += share * capacity;
        total += capacity;
    }
    (total > 0.0).then(|| busy / total)
}

/// Refuses inputs of another scenario than the first's.
fn one_scenario(inputs: &[Input], first: &Input) -> Result<(), ReportError> {
    match inputs.iter().find(|i| i.run.scenario != first.run.scenario) {
        Some(other) => Err(ReportError::Invalid(format!(
            "{} is scenario {:?} but {} is scenario {:?}; merge runs of one scenario, or pass --force",
            other.path.display(),
            other.run.scenario,
            first.path.display(),
            first.run.scenario
        ))),
        None => Ok(()),
    }
}

/// The union of the inputs' measured windows: its start and its length in seconds (to the
/// microsecond, so that 3.506 s does not print as 3.5060000000000002).
fn union_window(inputs: &[Input], starts: &[SystemTime]) -> (SystemTime, f64) {
    let start = starts
        .iter()
        .min()
        .copied()
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let end = inputs
        .iter()
        .zip(starts)
        .map(|(i, s)| *s + Duration::from_secs_f64(i.run.duration_s.max(0.0)))
        .max()
        .unwrap_or(start);
    let window = end.duration_since(start).unwrap_or_default();
    (start, window.as_micros() as f64 / 1e6)
}

/// Element-wise maximum of latency summaries: an upper bound of the merged percentiles
/// (exact when one input holds them all); `None` when no input has one.
fn upper_bound(stats: impl Iterator<Item = Option<LatencyStats>>) -> Option<LatencyStats> {
    stats.flatten().reduce(|a, b| LatencyStats {
        min: a.min.min(b.min),
        mean: a.mean.max(b.mean),
        p50: a.p50.max(b.p50),
        p90: a.p90.max(b.p90),
        p99: a.p99.max(b.p99),
        p999: a.p999.max(b.p999),
        max: a.max.max(b.max),
    })
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
    let mut connect: Option<Histogram<u64>> = None;
    let mut requests = 0;
    let mut errors = ErrorCounts::default();
    for (input, scope) in scopes {
        let Some(scope) = scope else { continue };
        let what = |field: &str| format!("{}: {name}.{field}", input.path.display());
        if let Some(text) = &scope.connect_histogram {
            let into = connect.get_or_insert_with(new_histogram);
            let field = what("connect_histogram");
            add(into, &decode_or_empty(&field, text)?, &field)?;
        }
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
    let mut merged = ScopeResult::from_histograms(&latency, &service, requests, errors)
        .map_err(|e| ReportError::histogram(format!("merged {name}"), e))?;
    if let Some(connect) = &connect {
        merged
            .set_connect(connect)
            .map_err(|e| ReportError::histogram(format!("merged {name}.connect_histogram"), e))?;
    }
    Ok(merged)
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
            let TimelinePoint {
                t_s,
                requests,
                errors,
                dropped,
                p50_us,
                p99_us,
                histogram: _,
                action_histograms: _,
            } = p;
            let t_s = t_s + offset;
            let e = by_second.entry(t_s).or_insert_with(|| SecondSum {
                point: TimelinePoint {
                    t_s,
                    ..TimelinePoint::default()
                },
                all: new_histogram(),
                actions: BTreeMap::new(),
                exact: true,
            });
            e.point.requests += requests;
            e.point.errors += errors;
            e.point.dropped += dropped;
            e.point.p50_us = e.point.p50_us.max(*p50_us);
            e.point.p99_us = e.point.p99_us.max(*p99_us);
            // The histograms are added by `SecondSum::add`, while every input has them.
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

/// Counts add up; a setting the inputs share is kept, one they disagree on is dropped
/// (`None`), or for the warm-up and timeout, the longest is kept.
fn merge_settings(inputs: &[Input]) -> Settings {
    let mut out = Settings::default();
    for (n, input) in inputs.iter().enumerate() {
        let Settings {
            scenario_file,
            connections,
            concurrency,
            warmup_s,
            timeout_s,
            seed,
            late,
            late_idle,
            deferred,
            offered,
            unsent,
            unfinished,
            mix,
            start_at,
            start_lag_us,
            streams,
            no_keepalive,
        } = &input.run.settings;
        let first = n == 0;
        out.scenario_file = shared(first, out.scenario_file, scenario_file);
        out.connections = sum_opt(first, out.connections, *connections);
        out.concurrency = sum_opt(first, out.concurrency, *concurrency);
        out.warmup_s = out.warmup_s.max(*warmup_s);
        out.timeout_s = out.timeout_s.max(*timeout_s);
        out.seed = shared(first, out.seed, seed);
        out.late += late;
        out.late_idle = sum_opt(first, out.late_idle, *late_idle);
        out.deferred += deferred;
        out.offered = sum_opt(first, out.offered, *offered);
        out.unsent += unsent;
        out.unfinished += unfinished;
        if first {
            out.mix = mix.clone();
        }
        out.start_at = shared(first, out.start_at, start_at);
        // The latest start: the run was under way everywhere from then on.
        out.start_lag_us = match (first, out.start_lag_us, *start_lag_us) {
            (true, _, lag) => lag,
            (false, Some(a), Some(b)) => Some(a.max(b)),
            (false, a, b) => a.or(b),
        };
        out.streams = shared(first, out.streams, streams);
        out.no_keepalive |= no_keepalive;
    }
    out
}

/// The sum when every input has a value, else `None`.
fn sum_opt<T: std::ops::Add<Output = T>>(first: bool, acc: Option<T>, v: Option<T>) -> Option<T> {
    match (first, acc, v) {
        (true, _, v) => v,
        (false, Some(a), Some(b)) => Some(a + b),
        _ => None,
    }
}

/// The value when every input has the same one, else `None`.
fn shared<T: Clone + PartialEq>(first: bool, acc: Option<T>, v: &Option<T>) -> Option<T> {
    if first {
        v.clone()
    } else if acc.as_ref() == v.as_ref() {
        acc
    } else {
        None
    }
}
