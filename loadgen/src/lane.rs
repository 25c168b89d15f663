//! One lane: a loop of "wait for the next intended send time, send, record". The open and the
//! closed model differ only in their [`Pacer`] (where the intended time comes from); the loop,
//! the connection handling and the latency correction are shared. Latency is always measured
//! from the intended time; in the closed model that is the actual send, so the two are equal.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::{watch, Notify};

use crate::conn::{Endpoint, LaneConn, Reply};
use crate::dispatch::Dispatcher;
use crate::record::{ErrorKind, Recorder};
use crate::source::{RequestId, RequestSource, Verdict};
use crate::timer::PreciseTimer;

/// Without a precise timer (timerfd unavailable): how long before an intended send time the
/// lane stops sleeping on tokio's 1 ms granular timer and yields in a loop instead.
const SPIN: Duration = Duration::from_micros(1_100);

/// Pause after a failed connect (or TLS handshake) in the closed model, so a dead target is
/// not hammered in a tight loop (the open model is paced by its schedule already).
const CONNECT_BACKOFF: Duration = Duration::from_millis(50);

/// Times shared by every lane of a run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    /// Offset 0 of every schedule.
    pub start: Instant,
    /// Requests intended before this are warm-up: sent, not recorded.
    pub measure_from: Instant,
    /// No request is intended at or after this.
    pub end: Instant,
    /// When the engine set off: a warm-up request intended before this (a run whose
    /// `start_at` had already passed) is skipped, not sent late in a burst.
    pub launched: Instant,
}

/// A lane's next request: when it is intended, and which request of the run it is.
pub(crate) struct Turn {
    /// The intended send time (closed model: the send; the first one is the run's start).
    pub intended: Instant,
    /// The lane was idle and had to wait for `intended` (so any lag is the timer's).
    pub waited: bool,
    /// The request's number in the run ([`RequestId::number`]).
    pub number: u64,
}

/// Where a lane's intended send times come from.
pub(crate) enum Pacer {
    /// Open model: lane `lane` of the worker's [`Dispatcher`] takes its requests of the global
    /// schedule and waits for each on the worker's timer.
    Open {
        dispatcher: Rc<RefCell<Dispatcher>>,
        lane: usize,
        timer: Option<Rc<PreciseTimer>>,
    },
    /// Closed model: right after the previous response (plus think time). `user` of `users`
    /// is the lane's run-wide user; `sent` counts its requests so far.
    Closed {
        think: Duration,
        user: u64,
        users: u64,
        sent: u64,
    },
}

impl Pacer {
    /// Waits until the next intended send time and returns the turn; `None` once the run is
    /// over. Open-model warm-up requests already past when the engine set off are skipped
    /// (counted in `taken`, never sent).
    ///
    /// A backlog is not sent after the window: an open-model request the lane only reaches
    /// at or after the window's end, because it was queued behind earlier ones, is dropped
    /// (the worker counts it from the schedule), not sent late into the grace period. A
    /// request the lane was idle and waiting for is still sent when the timer wakes a little
    /// after the end: that is timer jitter, not a backlog.
    async fn next(&mut self, clock: &Clock, taken: &Cell<u64>) -> Option<Turn> {
        match self {
            Pacer::Open {
                dispatcher,
                lane,
                timer,
            } => {
                let (k, t) = loop {
                    let (k, offset) = dispatcher.borrow_mut().next(*lane);
                    let t = clock.start + offset;
                    if t < clock.launched && t < clock.measure_from {
                        taken.set(taken.get() + 1);
                        continue;
                    }
                    break (k, t);
                };
                if t >= clock.end {
                    return None;
                }
                let waited = Instant::now() < t;
                match timer {
                    Some(timer) => timer.sleep_until(t).await,
                    None => spin_until(t).await,
                }
                (waited || Instant::now() < clock.end).then_some(Turn {
                    intended: t,
                    waited,
                    number: k,
                })
            }
            Pacer::Closed {
                think,
                user,
                users,
                sent,
            } => {
                let intended = if *sent == 0 {
                    // Users start together at the start of the run, not as the worker
                    // threads come up: no request is sent before the schedule's offset 0.
                    tokio::time::sleep_until(clock.start.into()).await;
                    clock.start
                } else {
                    if !think.is_zero() {
                        tokio::time::sleep(*think).await;
                    }
                    Instant::now()
                };
                let number = *user + *sent * *users;
                *sent += 1;
                (Instant::now() < clock.end).then_some(Turn {
                    intended,
                    waited: false,
                    number,
                })
            }
        }
    }

    fn is_open(&self) -> bool {
        matches!(self, Pacer::Open { .. })
    }
}

/// Sleeps on tokio's timer until shortly before `t`, then yields until `t` has come.
async fn spin_until(t: Instant) {
    let now = Instant::now();
    if t > now + SPIN {
        tokio::time::sleep_until((t - SPIN).into()).await;
    }
    while Instant::now() < t {
        tokio::task::yield_now().await;
    }
}

/// Everything a lane needs.
pub(crate) struct Lane {
    pub clock: Clock,
    pub endpoint: Rc<Endpoint>,
    /// Its own HTTP/1.1 connection, or its stream on a shared HTTP/2 connection.
    pub conn: LaneConn,
    pub recorder: Rc<RefCell<Recorder>>,
    pub source: Rc<RefCell<Box<dyn RequestSource>>>,
    pub pacer: Pacer,
    /// When the run was stopped, if it was: no new request is sent after that.
    pub stop: watch::Receiver<Option<Instant>>,
    /// Notified after every outcome (the worker waits for in-flight requests on a stop).
    pub done: Rc<Notify>,
    /// What the worker reads of this lane when the run ends, even if the lane is cut off.
    pub tally: Rc<LaneTally>,
    /// The run's seed, for each request's [`RequestId`].
    pub seed: u64,
}

/// A lane's running counts that outlive its task.
#[derive(Debug, Default)]
pub(crate) struct LaneTally {
    /// Schedule entries taken, warm-up included (open model): sent, or skipped as warm-up
    /// already past when the engine set off. The worker finds the entries never sent, the
    /// dropped requests, from here.
    pub sends: Cell<u64>,
    /// When the request now in flight was sent (`None` when the lane is idle).
    pub busy_since: Cell<Option<Instant>>,
}

/// The part of `[from, to]` that lies within `[window_from, window_to]`.
pub(crate) fn overlap(
    from: Instant,
    to: Instant,
    window_from: Instant,
    window_to: Instant,
) -> Duration {
    to.min(window_to)
        .saturating_duration_since(from.max(window_from))
}

impl Lane {
    /// Runs until the pacer says the run is over or the run is stopped (or the task is
    /// dropped, at the cutoff).
    pub async fn run(mut self) {
        let open = self.pacer.is_open();
        let mut first = true;
        while let Some(turn) = self.pacer.next(&self.clock, &self.tally.sends).await {
            if self.stop.borrow().is_some() {
                return;
            }
            let Turn {
                intended, waited, ..
            } = turn;
            let (req, want_body) = {
                let mut source = self.source.borrow_mut();
                let req = source.next_request(RequestId::new(self.seed, turn.number));
                let want = source.wants_body(req.action);
                (req, want)
            };
            let action = req.action;
            let sent = Instant::now();
            if first {
                // How late the run really started (the lane's first send, wall clock).
                first = false;
                self.recorder
                    .borrow_mut()
                    .first_send(intended, SystemTime::now());
            }
            self.tally.sends.set(self.tally.sends.get() + 1);
            self.tally.busy_since.set(Some(sent));
            // Closed model: the request is intended when it is sent (latency == service).
            let intended = if open { intended } else { sent };
            let measured = self.in_window(intended);
            self.recorder.borrow_mut().begin(action, measured);
            // Service time starts here, so it includes (re)connecting when the connection
            // has to be opened first: that is part of what a user waits for.
            let result = self.conn.exchange(&self.endpoint, req, want_body).await;
            let done = Instant::now();
            self.tally.busy_since.set(None);
            // A stop that came just before the intended time but was seen only after the send
            // puts the request outside the window after all: it was not offered, so it is not
            // counted (requests + dropped = offered holds).
            let counted = measured && self.in_window(intended);
            {
                let mut rec = self.recorder.borrow_mut();
                rec.end(action, measured);
                rec.busy += overlap(sent, done, self.clock.measure_from, self.window_end());
                if counted && open {
                    rec.sent(sent - intended, waited);
                }
            }
            self.done.notify_one();
            let failed = self.record(action, (intended, counted), sent, done, result);
            if matches!(failed, Some(ErrorKind::Connect | ErrorKind::Tls(_))) && !open {
                tokio::time::sleep(CONNECT_BACKOFF).await;
            }
        }
    }

    /// The end of the measured window: the planned end, or the stop if it came first.
    fn window_end(&self) -> Instant {
        match *self.stop.borrow() {
            Some(at) => at.min(self.clock.end),
            None => self.clock.end,
        }
    }

    /// Whether a request intended at `intended` belongs to the measured window (after the
    /// warm-up, before the end or the stop).
    fn in_window(&self, intended: Instant) -> bool {
        intended >= self.clock.measure_from && intended < self.window_end()
    }

    /// Records one outcome (unless it belongs to the warm-up, `measured` false); returns the
    /// failure, if any. Every response that arrives within the window counts toward the
    /// achieved rate, whenever its request was intended (a warm-up backlog served in the
    /// window is throughput of the window).
    fn record(
        &self,
        action: usize,
        (intended, measured): (Instant, bool),
        sent: Instant,
        done: Instant,
        result: Result<Reply, ErrorKind>,
    ) -> Option<ErrorKind> {
        let mut rec = self.recorder.borrow_mut();
        match result {
            Ok(reply) => {
                let verdict =
                    self.source
                        .borrow_mut()
                        .on_response(action, reply.status, &reply.body);
                let err = match verdict {
                    Verdict::Success => None,
                    Verdict::BadStatus => Some(ErrorKind::Status(reply.status)),
                    Verdict::CaptureMissing => Some(ErrorKind::Capture),
                };
                if measured {
                    rec.response(action, done - intended, done - sent, err);
                }
                if done >= self.clock.measure_from && done < self.window_end() {
                    rec.responses_in_window += 1;
                }
                None
            }
            Err(kind) => {
                if measured {
                    rec.failure(action, kind);
                }
                Some(kind)
            }
        }
    }
}
