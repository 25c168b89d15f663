//! Runs a [`RunPlan`]: spawns the worker threads, collects their per-second intervals into the
//! timeline and an [`IntervalSink`] (streamed, never all kept), and merges their totals into
//! an [`Outcome`]. A [`StopHandle`] ends the run early (Ctrl-C in the CLI, a test's token).
//! The plan's shard says which part of the run this process carries out (the whole run is
//! shard 0 of 1), and its `start_at` when the schedule starts on the wall clock.

use std::collections::BTreeMap;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use hdrhistogram::Histogram;
use tokio::sync::watch;

use crate::conn::Endpoint;
use crate::lane::Clock;
use crate::plan::{PlanError, RunPlan};
use crate::record::{new_histogram, ActionTotals, Connections, IntervalData};
use crate::source::{ActionInfo, SourceFactory};
use crate::target::TargetError;
use crate::transport::Protocol;
use crate::worker::{run_worker, Msg, Shared, WorkerResult};

/// Ends a run early from any thread. Cheap to clone.
#[derive(Debug, Clone)]
pub struct StopHandle {
    /// When `stop` was first called.
    tx: Arc<watch::Sender<Option<Instant>>>,
}

impl StopHandle {
    pub fn new() -> StopHandle {
        StopHandle {
            tx: Arc::new(watch::channel(None).0),
        }
    }

    /// Asks the run to stop now: no new request is sent, the ones in flight get the grace
    /// period to finish; results so far are kept and marked interrupted.
    pub fn stop(&self) {
        let now = Instant::now();
        self.tx
            .send_if_modified(|s| s.is_none() && s.replace(now).is_none());
    }

    pub fn is_stopped(&self) -> bool {
        self.tx.borrow().is_some()
    }
}

impl Default for StopHandle {
    fn default() -> Self {
        StopHandle::new()
    }
}

/// One finished interval (normally one second) of the measured window, all workers merged.
#[derive(Debug)]
pub struct Interval<'a> {
    /// 0 for the first measured second.
    pub index: u64,
    /// Seconds from the start of the measured window.
    pub start_offset_s: f64,
    pub length_s: f64,
    /// Wall-clock start of the measured window (offset 0).
    pub started_at: SystemTime,
    pub requests: u64,
    pub errors: u64,
    /// Latency (from intended send) of all actions.
    pub all: &'a Histogram<u64>,
    pub actions: &'a [ActionInfo],
    /// Latency per action, in the order of `actions`.
    pub latency: &'a [Histogram<u64>],
}

/// Receives each interval as soon as every worker has reported it (live progress, `--hlog`).
pub trait IntervalSink {
    fn interval(&mut self, interval: &Interval<'_>) -> Result<(), String>;
}

/// A sink that ignores intervals.
#[derive(Debug, Default)]
pub struct NoSink;

impl IntervalSink for NoSink {
    fn interval(&mut self, _interval: &Interval<'_>) -> Result<(), String> {
        Ok(())
    }
}

/// One second of the timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelinePoint {
    /// Seconds since the start of the measured window at the end of this interval.
    pub t_s: u64,
    pub length_s: f64,
    /// Requests whose outcome (response, failure, or none by the cutoff) came in this second.
    pub requests: u64,
    pub errors: u64,
    /// Open model: requests due in this second that were never sent.
    pub dropped: u64,
    pub p50_us: u64,
    pub p99_us: u64,
    /// This interval's latency histograms (from intended send), kept for per-interval
    /// statistics (`napkin compare` uses intervals as samples). Encoded as HdrHistogram V2
    /// deflate, a few hundred bytes each, so the timeline of a long run stays small (a decoded
    /// histogram with napkin's bounds takes 139 KB).
    pub histograms: IntervalHistograms,
}

/// HdrHistogram V2-deflate encodings of one interval's latency histograms; empty when the
/// interval recorded no latency.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct IntervalHistograms {
    /// All actions merged.
    pub all: Vec<u8>,
    /// Per action, in the order of the source factory's actions.
    pub actions: Vec<Vec<u8>>,
}

impl IntervalHistograms {
    fn encode(all: &Histogram<u64>, actions: &[Histogram<u64>]) -> IntervalHistograms {
        use hdrhistogram::serialization::{Serializer, V2DeflateSerializer};
        let mut serializer = V2DeflateSerializer::new();
        let mut encode = |h: &Histogram<u64>| {
            let mut buf = Vec::new();
            if !h.is_empty() && serializer.serialize(h, &mut buf).is_err() {
                buf.clear();
            }
            buf
        };
        IntervalHistograms {
            all: encode(all),
            actions: actions.iter().map(&mut encode).collect(),
        }
    }
}

/// One action's results.
#[derive(Debug, Clone)]
pub struct ActionOutcome {
    pub info: ActionInfo,
    pub totals: ActionTotals,
}

/// What a run measured.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// In the order of the source factory's actions.
    pub actions: Vec<ActionOutcome>,
    /// All actions merged.
    pub all: ActionTotals,
    /// Wall-clock start of the measured window (after warm-up).
    pub started_at: SystemTime,
    /// Length of the measured window (shorter than planned when interrupted).
    pub measured: Duration,
    pub interrupted: bool,
    pub timeline: Vec<TimelinePoint>,
    /// Open model: actual minus intended send time, microseconds (empty when closed).
    pub send_lag: Histogram<u64>,
    /// Open model: the send lag of requests whose connection was idle before their intended
    /// time: the generator's own timing error, without waits behind earlier responses.
    pub timer_lag: Histogram<u64>,
    /// Open model: requests sent more than 1 ms after their intended time.
    pub late: u64,
    /// Open model: of those, sends whose connection was idle and waiting for them: the
    /// generator's own lateness (the rest waited behind earlier responses).
    pub late_idle: u64,
    /// Open model: requests the schedule offered in the measured window
    /// (= `all.requests` + `dropped`).
    pub offered: Option<u64>,
    /// Open model: offered requests that were never sent: still queued behind earlier
    /// requests when the window closed (the target or the generator could not keep up). Not
    /// in `all.requests`; counted in the timeline in the second they were due.
    pub dropped: u64,
    /// Requests sent in the window without an outcome when the run ended (in flight at the
    /// cutoff): `all.errors.unfinished`, also counted in `all.requests`.
    pub unfinished: u64,
    /// Responses (any status) received within the measured window.
    pub responses_in_window: u64,
    /// Lane time within the window spent waiting on the target, summed over lanes (a
    /// request in flight at the cutoff counts until the window's end).
    pub busy: Duration,
    pub deferred: u64,
    /// Connections opened in the measured window, their connect (+ TLS handshake) times, and
    /// what TLS negotiated.
    pub connections: Connections,
    /// The first error the interval sink returned (later intervals were not given to it).
    pub sink_error: Option<String>,
    /// How late the run's first request went out against its intended wall-clock time
    /// (negative: early), read from this machine's wall clock: the shard's start lag when
    /// shards start together (`--start-at`). `None` when nothing was sent.
    pub start_lag: Option<SignedDuration>,
}

/// A duration that may be negative: microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct SignedDuration {
    pub micros: i64,
}

/// The lag of the earliest-intended first send of all workers: wall clock at the send minus
/// its intended wall-clock time (`wall_start` + its offset from `start`).
fn start_lag(
    results: &[WorkerResult],
    start: Instant,
    wall_start: SystemTime,
) -> Option<SignedDuration> {
    let (intended, at) = results
        .iter()
        .filter_map(|r| r.first_send)
        .min_by_key(|(intended, _)| *intended)?;
    let due = wall_start + intended.saturating_duration_since(start);
    let micros = match at.duration_since(due) {
        Ok(late) => late.as_micros() as i64,
        Err(early) => -(early.duration().as_micros() as i64),
    };
    Some(SignedDuration { micros })
}

impl Outcome {
    /// Responses received within the measured window per second of it (what wrk2 reports):
    /// responses during the end-of-run grace count in latency, never here.
    pub fn achieved_rps(&self) -> f64 {
        let s = self.measured.as_secs_f64();
        if s > 0.0 {
            self.responses_in_window as f64 / s
        } else {
            0.0
        }
    }
}

/// A run that could not start.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error(transparent)]
    Target(#[from] TargetError),
    #[error("load generator worker failed: {0}")]
    Worker(String),
}

/// Runs `plan` with requests from `factory`, streaming intervals to `sink`, until the planned
/// end or until `stop` is triggered. Blocks the calling thread (which collects).
pub fn run(
    plan: &RunPlan,
    factory: Arc<dyn SourceFactory>,
    sink: &mut dyn IntervalSink,
    stop: &StopHandle,
) -> Result<Outcome, RunError> {
    plan.validate()?;
    let endpoint = endpoint(plan)?;
    let workers = plan.worker_count();
    let lanes = plan.shard_lanes();
    let streams = plan.transport.protocol.streams();
    let (clock, wall_start) = start_clock(plan)?;
    let shared = Arc::new(Shared {
        clock,
        endpoint,
        shape: plan.shape.clone(),
        factory: factory.clone(),
        shard: plan.shard,
        lanes,
        total_lanes: plan.lane_count(),
        h2_streams: match plan.transport.protocol {
            Protocol::Http1 => None,
            Protocol::Http2 { streams } => Some(streams),
        },
        seed: plan.seed,
        stop: stop.tx.subscribe(),
    });
    let (tx, rx) = mpsc::channel();
    let mut threads = Vec::with_capacity(workers);
    for w in 0..workers {
        // Whole connections per worker: the lanes (streams) of one HTTP/2 connection share
        // it on one thread. With one lane per connection, worker w has lanes w, w + W, ...
        let mine: Vec<usize> = (0..lanes)
            .filter(|i| (i / streams) % workers == w)
            .collect();
        let (shared, tx) = (shared.clone(), tx.clone());
        let spawned = std::thread::Builder::new()
            .name(format!("napkin-load-{w}"))
            .spawn(move || run_worker(w, mine, shared, tx));
        match spawned {
            Ok(handle) => threads.push(handle),
            Err(e) => {
                stop.stop();
                return Err(RunError::Worker(format!("could not start a thread: {e}")));
            }
        }
    }
    drop(tx);
    let started_at = wall_start + plan.warmup;
    let collected = collect(&rx, workers, factory.actions(), started_at, sink);
    for t in threads {
        let _ = t.join();
    }
    let collected = collected?;
    let lag = start_lag(&collected.results, clock.start, wall_start);
    let mut outcome = finish(factory.actions(), clock, started_at, collected);
    outcome.start_lag = lag;
    Ok(outcome)
}

/// Where and how every lane connects: addresses (`--resolve` or DNS), TLS, keep-alive.
fn endpoint(plan: &RunPlan) -> Result<Endpoint, RunError> {
    let addrs = plan.addresses()?;
    let tls =
        crate::transport::tls_target(&plan.transport, &plan.target.host).map_err(|reason| {
            TargetError::Invalid {
                url: plan.target.url.clone(),
                reason,
            }
        })?;
    Ok(Endpoint {
        addrs,
        host: plan.target.authority.clone(),
        prefix: plan.target.prefix.clone(),
        timeout: plan.timeout,
        tls,
        keepalive: plan.transport.keepalive,
    })
}

/// The run's clock, and the wall-clock time of its offset 0: `--start-at` (ahead, or passed
/// by at most the warm-up, whose due requests are then skipped), else 20 ms from now, to let
/// every worker get going.
fn start_clock(plan: &RunPlan) -> Result<(Clock, SystemTime), RunError> {
    let (launched, wall) = (Instant::now(), SystemTime::now());
    let (start, wall_start) = match plan.start_at {
        Some(at) => match at.duration_since(wall) {
            Ok(ahead) => (launched + ahead, at),
            Err(_) => {
                let late = plan.start_lateness(wall)?;
                (launched.checked_sub(late).unwrap_or(launched), at)
            }
        },
        None => (
            launched + Duration::from_millis(20),
            wall + Duration::from_millis(20),
        ),
    };
    let clock = Clock {
        start,
        measure_from: start + plan.warmup,
        end: start + plan.warmup + plan.measured,
        launched,
    };
    Ok((clock, wall_start))
}

/// What the collector gathered.
struct Collected {
    results: Vec<WorkerResult>,
    timeline: Vec<TimelinePoint>,
    sink_error: Option<String>,
}

/// Receives worker messages until every worker is done; emits intervals in order once all
/// workers have reported them.
fn collect(
    rx: &mpsc::Receiver<Msg>,
    workers: usize,
    actions: &[ActionInfo],
    started_at: SystemTime,
    sink: &mut dyn IntervalSink,
) -> Result<Collected, RunError> {
    let mut next_index = vec![0u64; workers];
    let mut done = vec![false; workers];
    let mut pending: BTreeMap<u64, (IntervalData, f64)> = BTreeMap::new();
    let mut out = Collected {
        results: Vec::with_capacity(workers),
        timeline: Vec::new(),
        sink_error: None,
    };
    let mut failure = None;
    while let Ok(msg) = rx.recv() {
        match msg {
            Msg::Interval {
                worker,
                index,
                length_s,
                data,
            } => {
                let slot = pending
                    .entry(index)
                    .or_insert_with(|| (IntervalData::new(actions.len()), 0.0));
                slot.0.add(&data);
                slot.1 = slot.1.max(length_s);
                next_index[worker] = index + 1;
            }
            Msg::Done { worker, result } => {
                done[worker] = true;
                out.results.push(*result);
            }
            Msg::Failed { worker, error } => {
                done[worker] = true;
                failure.get_or_insert(error);
            }
        }
        while let Some((&index, _)) = pending.first_key_value() {
            let complete = (0..workers).all(|w| done[w] || next_index[w] > index);
            if !complete {
                break;
            }
            let (data, length_s) = pending.remove(&index).expect("present");
            emit(index, length_s, &data, actions, started_at, sink, &mut out);
        }
    }
    match failure {
        Some(e) => Err(RunError::Worker(e)),
        None => Ok(out),
    }
}

fn emit(
    index: u64,
    length_s: f64,
    data: &IntervalData,
    actions: &[ActionInfo],
    started_at: SystemTime,
    sink: &mut dyn IntervalSink,
    out: &mut Collected,
) {
    let mut all = new_histogram();
    for h in &data.latency {
        all.add(h).expect("same bounds");
    }
    let q = |q: f64| {
        if all.is_empty() {
            0
        } else {
            all.value_at_quantile(q)
        }
    };
    out.timeline.push(TimelinePoint {
        t_s: index + 1,
        length_s,
        requests: data.requests,
        errors: data.errors,
        dropped: 0,
        p50_us: q(0.5),
        p99_us: q(0.99),
        histograms: IntervalHistograms::encode(&all, &data.latency),
    });
    if out.sink_error.is_none() {
        let interval = Interval {
            index,
            start_offset_s: index as f64,
            length_s,
            started_at,
            requests: data.requests,
            errors: data.errors,
            all: &all,
            actions,
            latency: &data.latency,
        };
        if let Err(e) = sink.interval(&interval) {
            out.sink_error = Some(e);
        }
    }
}

/// Merges the workers' totals into the outcome.
fn finish(
    infos: &[ActionInfo],
    clock: Clock,
    started_at: SystemTime,
    collected: Collected,
) -> Outcome {
    let mut actions: Vec<ActionTotals> = infos.iter().map(|_| ActionTotals::new()).collect();
    let mut send_lag = new_histogram();
    let mut timer_lag = new_histogram();
    let (mut late, mut late_idle, mut deferred) = (0, 0, 0);
    let (mut responses_in_window, mut dropped) = (0, 0);
    let mut busy = Duration::ZERO;
    let mut connections = Connections::new();
    let mut offered: Option<u64> = None;
    let mut stopped_at: Option<Instant> = None;
    let mut timeline = collected.timeline;
    for r in &collected.results {
        for (a, b) in actions.iter_mut().zip(&r.actions) {
            a.add(b);
        }
        send_lag.add(&r.send_lag).expect("same bounds");
        timer_lag.add(&r.timer_lag).expect("same bounds");
        late += r.late;
        late_idle += r.late_idle;
        deferred += r.deferred;
        responses_in_window += r.responses_in_window;
        busy += r.busy;
        connections.add(&r.connections);
        if let Some(o) = r.offered {
            offered = Some(offered.unwrap_or(0) + o);
        }
        if let Some(t) = r.stopped_at {
            stopped_at = Some(stopped_at.map_or(t, |s: Instant| s.min(t)));
        }
        // Every second of the window has a point (the flush hands off even empty ones).
        for (point, n) in timeline.iter_mut().zip(&r.dropped) {
            point.dropped += n;
        }
        dropped += r.dropped.iter().sum::<u64>();
    }
    let interrupted = stopped_at.is_some_and(|t| t < clock.end);
    let window_end = stopped_at.unwrap_or(clock.end).min(clock.end);
    let measured = window_end.saturating_duration_since(clock.measure_from);
    let mut all = ActionTotals::new();
    for a in &actions {
        all.add(a);
    }
    Outcome {
        actions: infos
            .iter()
            .cloned()
            .zip(actions)
            .map(|(info, totals)| ActionOutcome { info, totals })
            .collect(),
        dropped,
        unfinished: all.errors.unfinished,
        responses_in_window,
        busy,
        all,
        started_at,
        measured,
        interrupted,
        timeline,
        send_lag,
        timer_lag,
        late,
        late_idle,
        offered,
        deferred,
        connections,
        sink_error: collected.sink_error,
        start_lag: None,
    }
}
