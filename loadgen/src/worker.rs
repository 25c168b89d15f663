//! A worker: one OS thread with a current-thread tokio runtime driving its share of the lanes.
//! It records into its own [`Recorder`] (no sharing), hands off one interval per second to the
//! collector, and returns its totals when its lanes are done, the run is stopped, or the hard
//! deadline passes (a dead target never holds a run past its duration plus a short grace).

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use tokio::sync::watch;
use tokio::task::LocalSet;

use crate::conn::Endpoint;
use crate::lane::{Clock, Lane, Pacer};
use crate::plan::LoadShape;
use crate::record::{ActionTotals, IntervalData, Recorder};
use crate::source::{RequestSource, SourceFactory};
use crate::timer::PreciseTimer;

/// After the last intended send, in-flight requests get at most this long (or the timeout,
/// if shorter) to complete.
pub(crate) const GRACE: Duration = Duration::from_secs(1);

/// What every worker shares.
pub(crate) struct Shared {
    pub clock: Clock,
    pub endpoint: Endpoint,
    pub shape: LoadShape,
    pub factory: Arc<dyn SourceFactory>,
    pub lanes: usize,
    pub seed: u64,
    pub stop: watch::Receiver<bool>,
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
    pub deferred: u64,
    /// When the stop signal ended this worker early, if it did.
    pub stopped_at: Option<Instant>,
}

/// Runs worker `id` with lanes `lanes` on the current thread until it is done.
pub(crate) fn run_worker(id: usize, lanes: Vec<usize>, shared: Arc<Shared>, tx: Sender<Msg>) {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let _ = tx.send(Msg::Failed {
                worker: id,
                error: format!("could not start a runtime: {e}"),
            });
            return;
        }
    };
    let actions = shared.factory.actions().len();
    let recorder = Rc::new(RefCell::new(Recorder::new(actions)));
    let ticks = Rc::new(Cell::new(0u64));
    let local = LocalSet::new();
    let mut sources = Vec::with_capacity(lanes.len());
    let mut handles = Vec::with_capacity(lanes.len());
    let endpoint = Rc::new(shared.endpoint.clone());
    let timer = match shared.shape {
        LoadShape::Open { .. } => {
            let _guard = rt.enter();
            PreciseTimer::new().ok()
        }
        LoadShape::Closed { .. } => None,
    };
    if let Some(t) = &timer {
        local.spawn_local(t.clone().drive());
    }
    for &i in &lanes {
        let source: Rc<RefCell<Box<dyn RequestSource>>> = Rc::new(RefCell::new(
            shared.factory.lane(i, shared.lanes, shared.seed),
        ));
        sources.push(source.clone());
        let pacer = match &shared.shape {
            LoadShape::Open { schedule, .. } => {
                Pacer::Open(schedule.lane(i, shared.lanes), timer.clone())
            }
            LoadShape::Closed { think, .. } => Pacer::Closed {
                think: *think,
                first: true,
            },
        };
        let lane = Lane {
            clock: shared.clock,
            endpoint: endpoint.clone(),
            recorder: recorder.clone(),
            source,
            pacer,
        };
        handles.push(local.spawn_local(lane.run()));
    }
    local.spawn_local(ticker(
        id,
        shared.clock,
        recorder.clone(),
        ticks.clone(),
        tx.clone(),
    ));

    let hard_end = shared.clock.end + GRACE.min(shared.endpoint.timeout);
    let mut stop = shared.stop.clone();
    let stopped_at = local.block_on(&rt, async move {
        let all_done = async {
            for h in handles {
                let _ = h.await;
            }
        };
        tokio::select! {
            _ = all_done => None,
            _ = tokio::time::sleep_until(hard_end.into()) => None,
            _ = stop.wait_for(|s| *s) => Some(Instant::now()),
        }
    });
    {
        // Dropping the lanes closes their connections, which needs the runtime's context.
        let _guard = rt.enter();
        drop(local);
        drop(timer);
    }
    // The measured window ends at the planned end, or earlier when stopped; responses that
    // arrive during the grace period still count in the last interval.
    let exit = stopped_at.map_or(shared.clock.end, |t| t.min(shared.clock.end));
    let deferred = sources.iter().map(|s| s.borrow().deferred()).sum();
    drop(sources);
    let mut rec = Rc::try_unwrap(recorder)
        .map(RefCell::into_inner)
        .unwrap_or_else(|rc| std::mem::replace(&mut *rc.borrow_mut(), Recorder::new(actions)));
    if exit > shared.clock.measure_from {
        let index = ticks.get();
        let length_s = (exit - shared.clock.measure_from).as_secs_f64() - index as f64;
        let _ = tx.send(Msg::Interval {
            worker: id,
            index,
            length_s: length_s.max(0.0),
            data: rec.take_interval(),
        });
    }
    let _ = tx.send(Msg::Done {
        worker: id,
        result: Box::new(WorkerResult {
            actions: rec.actions,
            send_lag: rec.send_lag,
            timer_lag: rec.timer_lag,
            late: rec.late,
            deferred,
            stopped_at,
        }),
    });
}

/// Hands off one interval per measured second, except the last one (the worker flushes that
/// itself when it ends, whatever its length).
async fn ticker(
    worker: usize,
    clock: Clock,
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
