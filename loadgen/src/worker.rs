//! A worker: one OS thread with a current-thread tokio runtime driving its share of the lanes.
//! It records into its own [`Recorder`] (no sharing), hands off one interval per second to the
//! collector, and returns its totals when its lanes are done (and the planned end has come),
//! when the run is stopped and its in-flight requests are done (or the grace is over), or when
//! the hard deadline passes (a dead target never holds a run past its duration plus a short
//! grace). Measured requests without an outcome at that point are counted as `unfinished`;
//! open-model requests intended in the window but never sent are counted as `dropped`, in the
//! second they were due.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use hdrhistogram::Histogram;
use tokio::sync::{watch, Notify};
use tokio::task::LocalSet;

use crate::conn::{Conn, ConnectLog, Endpoint, LaneConn};
use crate::dispatch::Dispatcher;
use crate::http2::H2Conn;
use crate::lane::{overlap, Clock, Lane, LaneTally, Pacer};
use crate::plan::LoadShape;
use crate::record::{ActionTotals, Connections, IntervalData, Recorder};
use crate::schedule::ScheduleSpec;
use crate::shard::{Shard, ShardSchedule};
use crate::source::{RequestSource, SourceFactory};
use crate::timer::PreciseTimer;

/// After the last intended send (or a stop), in-flight requests get at most this long (or
/// the timeout, if shorter) to complete.
pub(crate) const GRACE: Duration = Duration::from_secs(1);

/// What every worker shares.
pub(crate) struct Shared {
    pub clock: Clock,
    pub endpoint: Endpoint,
    pub shape: LoadShape,
    pub factory: Arc<dyn SourceFactory>,
    /// Which part of the run this process carries out.
    pub shard: Shard,
    /// This shard's lanes (its share of the connections or users).
    pub lanes: usize,
    /// The run's lanes over all shards.
    pub total_lanes: usize,
    /// HTTP/2: lanes per connection (lane i is on connection i / streams); `None` for
    /// HTTP/1.1, where every lane has its own connection.
    pub h2_streams: Option<usize>,
    pub seed: u64,
    /// When the run was stopped, if it was.
    pub stop: watch::Receiver<Option<Instant>>,
}

/// Messages from workers to the collector.
pub(crate) enum Msg {
    Interval {
        worker: usize,
        index: u64,
        length_s: f64,
        data: IntervalData,
    },
    Done {
        worker: usize,
        result: Box<WorkerResult>,
    },
    Failed {
        worker: usize,
        error: String,
    },
}

/// A worker's totals.
pub(crate) struct WorkerResult {
    pub actions: Vec<ActionTotals>,
    pub send_lag: Histogram<u64>,
    pub timer_lag: Histogram<u64>,
    pub late: u64,
    /// Of those, sends whose lane was idle and waiting (the generator's own lateness).
    pub late_idle: u64,
    pub deferred: u64,
    /// Open model: requests this worker's lanes were offered in the measured window.
    pub offered: Option<u64>,
    /// Open model: offered requests never sent, by the second of the window they were due in.
    pub dropped: Vec<u64>,
    /// Measured responses received before the window's end.
    pub responses_in_window: u64,
    /// Lane time within the window spent waiting on the target.
    pub busy: Duration,
    /// When the stop signal ended this worker early, if it did.
    pub stopped_at: Option<Instant>,
    /// The earliest-intended first send of the worker's lanes: (intended, wall clock).
    pub first_send: Option<(Instant, SystemTime)>,
    /// Connections opened in the measured window.
    pub connections: Connections,
}

/// Runs worker `id` with lanes `lanes` on the current thread until it is done.
pub(crate) fn run_worker(id: usize, lanes: Vec<usize>, shared: Arc<Shared>, tx: Sender<Msg>) {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return failed(id, &tx, format!("could not start a runtime: {e}")),
    };
    let actions = shared.factory.actions().len();
    let recorder = Rc::new(RefCell::new(Recorder::new(actions)));
    let ticks = Rc::new(Cell::new(0u64));
    let local = LocalSet::new();
    let done = Rc::new(Notify::new());
    let mut sources = Vec::with_capacity(lanes.len());
    let mut handles = Vec::with_capacity(lanes.len());
    let tallies: Vec<Rc<LaneTally>> = lanes.iter().map(|_| Rc::default()).collect();
    let endpoint = Rc::new(shared.endpoint.clone());
    let pacing = Pacing::new(&shared, &lanes, &rt);
    if let Some(t) = &pacing.timer {
        local.spawn_local(t.clone().drive());
    }
    let log = ConnectLog {
        recorder: recorder.clone(),
        measure_from: shared.clock.measure_from,
    };
    let mut h2_conns: std::collections::HashMap<usize, Rc<H2Conn>> = Default::default();
    for (&i, tally) in lanes.iter().zip(&tallies) {
        let global = global_lane(&shared, i);
        let conn = lane_conn(&shared, i, &log, &mut h2_conns);
        let source: Rc<RefCell<Box<dyn RequestSource>>> = Rc::new(RefCell::new(
            shared.factory.lane(global, shared.total_lanes, shared.seed),
        ));
        sources.push(source.clone());
        let lane = Lane {
            clock: shared.clock,
            endpoint: endpoint.clone(),
            conn,
            recorder: recorder.clone(),
            source,
            pacer: pacing.pacer(&shared, i),
            stop: shared.stop.clone(),
            done: done.clone(),
            tally: tally.clone(),
            seed: shared.seed,
        };
        handles.push(local.spawn_local(lane.run()));
    }
    drop(h2_conns);
    local.spawn_local(ticker(
        id,
        shared.clock,
        shared.stop.clone(),
        recorder.clone(),
        ticks.clone(),
        tx.clone(),
    ));

    let stopped_at = local.block_on(&rt, wait(&shared, handles, recorder.clone(), done));
    {
        // Dropping the lanes closes their connections, which needs the runtime's context.
        let _guard = rt.enter();
        drop(local);
        drop(pacing);
    }
    let deferred = sources.iter().map(|s| s.borrow().deferred()).sum();
    drop(sources);
    let rec = Rc::try_unwrap(recorder)
        .map(RefCell::into_inner)
        .unwrap_or_else(|rc| std::mem::replace(&mut *rc.borrow_mut(), Recorder::new(actions)));
    let end = End {
        stopped_at,
        deferred,
        ticks: ticks.get(),
        sends: tallies.iter().map(|t| t.sends.get()).collect(),
        busy_since: tallies.iter().filter_map(|t| t.busy_since.get()).collect(),
    };
    finish(id, &shared, &lanes, rec, end, &tx);
}

/// What paces the worker's lanes: in the open model, its timer and its part of the schedule.
struct Pacing {
    timer: Option<Rc<PreciseTimer>>,
    dispatcher: Option<Rc<RefCell<Dispatcher>>>,
}

impl Pacing {
    fn new(shared: &Shared, lanes: &[usize], rt: &tokio::runtime::Runtime) -> Pacing {
        match &shared.shape {
            LoadShape::Open { schedule, .. } => {
                let timer = {
                    let _guard = rt.enter();
                    PreciseTimer::new().ok()
                };
                let dispatcher =
                    Dispatcher::new(schedule.as_ref(), shared.shard, shared.lanes, lanes);
                Pacing {
                    timer,
                    dispatcher: Some(Rc::new(RefCell::new(dispatcher))),
                }
            }
            LoadShape::Closed { .. } => Pacing {
                timer: None,
                dispatcher: None,
            },
        }
    }

    /// The pacer of the shard's lane `lane`.
    fn pacer(&self, shared: &Shared, lane: usize) -> Pacer {
        match (&shared.shape, &self.dispatcher) {
            (LoadShape::Open { .. }, Some(dispatcher)) => Pacer::Open {
                dispatcher: dispatcher.clone(),
                lane,
                timer: self.timer.clone(),
            },
            (LoadShape::Closed { think, .. }, _) => Pacer::Closed {
                think: *think,
                user: shared.shard.global_lane(lane),
                users: shared.total_lanes as u64,
                sent: 0,
            },
            (LoadShape::Open { .. }, None) => unreachable!("open runs have a dispatcher"),
        }
    }
}

/// Tells the collector that worker `id` could not run.
fn failed(id: usize, tx: &Sender<Msg>, error: String) {
    let _ = tx.send(Msg::Failed { worker: id, error });
}

/// Lane `i`'s connection: its own (HTTP/1.1), or a stream of the HTTP/2 connection it shares
/// with the lanes `i / streams` groups together.
fn lane_conn(
    shared: &Shared,
    i: usize,
    log: &ConnectLog,
    h2_conns: &mut std::collections::HashMap<usize, Rc<H2Conn>>,
) -> LaneConn {
    match shared.h2_streams {
        None => LaneConn::H1(Conn::new(log.clone())),
        Some(streams) => {
            let conn = h2_conns
                .entry(i / streams)
                .or_insert_with(|| Rc::new(H2Conn::new(log.clone())));
            LaneConn::H2(crate::http2::H2Lane::new(conn.clone()))
        }
    }
}

/// The run-wide index of this shard's lane `i`: HTTP/2 lanes of the open model are the
/// streams of a connection (lane `i` is stream `i % streams` of connection `i / streams`),
/// and connections are what shards divide; otherwise lanes (connections or users) are.
fn global_lane(shared: &Shared, i: usize) -> usize {
    match (shared.h2_streams, &shared.shape) {
        (Some(streams), LoadShape::Open { .. }) => {
            shared.shard.global_lane(i / streams) as usize * streams + i % streams
        }
        _ => shared.shard.global_lane(i) as usize,
    }
}

/// How a worker's run ended.
struct End {
    stopped_at: Option<Instant>,
    deferred: u64,
    /// Intervals the ticker handed off.
    ticks: u64,
    /// Per lane (in the worker's order): schedule entries sent.
    sends: Vec<u64>,
    /// Send times of the requests still in flight at the cutoff.
    busy_since: Vec<Instant>,
}

/// Counts the unfinished requests, hands off the last interval and the worker's totals.
fn finish(
    id: usize,
    shared: &Shared,
    lanes: &[usize],
    mut rec: Recorder,
    end: End,
    tx: &Sender<Msg>,
) {
    // The measured window ends at the planned end, or earlier when stopped; responses that
    // arrive during the grace period still count in the last interval.
    let clock = shared.clock;
    let exit = end.stopped_at.map_or(clock.end, |t| t.min(clock.end));
    let window = Window {
        from: clock.measure_from - clock.start,
        to: exit.max(clock.measure_from) - clock.start,
    };
    let (offered, dropped) = match &shared.shape {
        LoadShape::Open { schedule, .. } => {
            let part = Part {
                shard: shared.shard,
                lanes: shared.lanes,
                mine: lanes,
            };
            let d = unsent(schedule.as_ref(), &part, &end.sends, window);
            (Some(d.offered), d.by_second)
        }
        LoadShape::Closed { .. } => (None, Vec::new()),
    };
    rec.unfinished();
    for &since in &end.busy_since {
        rec.busy += overlap(since, exit, clock.measure_from, exit);
    }
    if exit > clock.measure_from {
        flush(id, &mut rec, end.ticks, exit - clock.measure_from, tx);
    }
    let _ = tx.send(Msg::Done {
        worker: id,
        result: Box::new(WorkerResult {
            actions: rec.actions,
            send_lag: rec.send_lag,
            timer_lag: rec.timer_lag,
            late: rec.late,
            late_idle: rec.late_idle,
            deferred: end.deferred,
            offered,
            dropped,
            responses_in_window: rec.responses_in_window,
            busy: rec.busy,
            stopped_at: end.stopped_at,
            first_send: rec.first_send,
            connections: rec.connections,
        }),
    });
}

/// Runs the lanes until they are done and the planned end has come, until the hard deadline
/// (planned end + grace), or until a stop: then no new request is sent and the ones in flight
/// get the grace to finish. Returns the stop time, if stopped.
async fn wait(
    shared: &Shared,
    handles: Vec<tokio::task::JoinHandle<()>>,
    recorder: Rc<RefCell<Recorder>>,
    done: Rc<Notify>,
) -> Option<Instant> {
    let grace = GRACE.min(shared.endpoint.timeout);
    let hard_end = shared.clock.end + grace;
    let mut stop = shared.stop.clone();
    let all_done = async {
        for h in handles {
            let _ = h.await;
        }
    };
    tokio::select! {
        _ = all_done => {
            // Out of work early (very low rates): the last interval still ends at the end.
            tokio::select! {
                _ = tokio::time::sleep_until(shared.clock.end.into()) => None,
                at = stopped(&mut stop) => Some(at),
            }
        }
        _ = tokio::time::sleep_until(hard_end.into()) => None,
        at = stopped(&mut stop) => {
            let deadline = (at.max(Instant::now()) + grace).min(hard_end);
            while recorder.borrow().in_flight > 0 {
                tokio::select! {
                    _ = done.notified() => {}
                    _ = tokio::time::sleep_until(deadline.into()) => break,
                }
            }
            Some(at)
        }
    }
}

/// Waits for the stop signal; returns when it was given.
async fn stopped(stop: &mut watch::Receiver<Option<Instant>>) -> Instant {
    match stop.wait_for(Option::is_some).await {
        Ok(at) => at.expect("checked"),
        Err(_) => std::future::pending().await,
    }
}

/// The worker's last hand-off: the data since the last tick goes into the interval that
/// contains `measured` (the window's end); seconds the ticker did not reach before (it stops
/// at the planned end, and may lag behind it) are handed off empty, so no interval is longer
/// than a second.
fn flush(id: usize, rec: &mut Recorder, ticks: u64, measured: Duration, tx: &Sender<Msg>) {
    let measured = measured.as_secs_f64();
    let mut index = ticks;
    while measured - index as f64 > 1.0 + 1e-9 {
        let empty = IntervalData::new(rec.actions.len());
        let _ = tx.send(Msg::Interval {
            worker: id,
            index,
            length_s: 1.0,
            data: empty,
        });
        index += 1;
    }
    let _ = tx.send(Msg::Interval {
        worker: id,
        index,
        length_s: (measured - index as f64).max(0.0),
        data: rec.take_interval(),
    });
}

/// The measured window as schedule offsets: `[from, to)`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Window {
    pub from: Duration,
    pub to: Duration,
}

/// What the schedule offered a worker's lanes in the window, and what they never sent.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Unsent {
    /// Requests intended in the window.
    pub offered: u64,
    /// Of those, the ones never sent, by second of the window (index 0 = first second).
    pub by_second: Vec<u64>,
}

/// A worker's part of a shard: lanes `mine` of the shard's `lanes`.
pub(crate) struct Part<'a> {
    pub shard: Shard,
    pub lanes: usize,
    pub mine: &'a [usize],
}

/// Replays the shard's schedule for the lanes of `part`, whose lanes took `sends[j]` entries
/// each (the schedule is deterministic, so a lane's n-th entry is the same every time): every
/// entry intended in `window` is offered, and dropped if its lane never took it.
pub(crate) fn unsent(
    spec: &dyn ScheduleSpec,
    part: &Part<'_>,
    sends: &[u64],
    window: Window,
) -> Unsent {
    let mut slot = vec![None; part.lanes];
    for (n, &lane) in part.mine.iter().enumerate() {
        slot[lane] = Some(n);
    }
    let mut out = Unsent::default();
    for e in ShardSchedule::new(spec, part.shard, part.lanes) {
        if e.offset >= window.to {
            break;
        }
        let Some(n) = slot[e.lane] else { continue };
        if e.offset < window.from {
            continue;
        }
        out.offered += 1;
        if e.ordinal >= sends[n] {
            let second = (e.offset - window.from).as_secs() as usize;
            if out.by_second.len() <= second {
                out.by_second.resize(second + 1, 0);
            }
            out.by_second[second] += 1;
        }
    }
    out
}

/// Hands off one interval per measured second, except the last one (the worker flushes that
/// itself when it ends) and none after a stop.
async fn ticker(
    worker: usize,
    clock: Clock,
    stop: watch::Receiver<Option<Instant>>,
    recorder: Rc<RefCell<Recorder>>,
    ticks: Rc<Cell<u64>>,
    tx: Sender<Msg>,
) {
    loop {
        let k = ticks.get();
        let at = clock.measure_from + Duration::from_secs(k + 1);
        if at >= clock.end {
            return;
        }
        tokio::time::sleep_until(at.into()).await;
        if stop.borrow().is_some_and(|s| s < at) {
            // The window ended before this second did: the final flush hands it off.
            return;
        }
        let data = recorder.borrow_mut().take_interval();
        let msg = Msg::Interval {
            worker,
            index: k,
            length_s: 1.0,
            data,
        };
        if tx.send(msg).is_err() {
            return;
        }
        ticks.set(k + 1);
    }
}
