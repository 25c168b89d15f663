//! One lane: a loop of "wait for the next intended send time, send, record". The open and the
//! closed model differ only in their [`Pacer`] (where the intended time comes from); the loop,
//! the connection handling and the latency correction are shared. Latency is always measured
//! from the intended time; in the closed model that is the actual send, so the two are equal.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

use tokio::sync::{watch, Notify};

use crate::conn::{Endpoint, LaneConn, Reply};
use crate::record::{ErrorKind, Recorder};
use crate::schedule::Schedule;
use crate::source::{RequestSource, Verdict};
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
}

/// Where a lane's intended send times come from.
pub(crate) enum Pacer {
    /// Open model: the schedule says when; the lane waits for it on the worker's timer.
    Open(Box<dyn Schedule>, Option<Rc<PreciseTimer>>),
    /// Closed model: right after the previous response (plus think time).
    Closed { think: Duration, first: bool },
}

impl Pacer {
    /// Waits until the next intended send time and returns it, with whether the lane was
    /// early for it (had to wait, so any lag is the timer's); `None` once the run is over.
    ///
    /// A backlog is not sent after the window: an open-model request the lane only reaches
    /// at or after the window's end, because it was queued behind earlier ones, is dropped
    /// (the worker counts it from the schedule), not sent late into the grace period. A
    /// request the lane was idle and waiting for is still sent when the timer wakes a little
    /// after the end: that is timer jitter, not a backlog.
    async fn next(&mut self, clock: &Clock) -> Option<(Instant, bool)> {
        match self {
            Pacer::Open(schedule, timer) => {
                let t = clock.start + schedule.next_offset();
                if t >= clock.end {
                    return None;
                }
                let waited = Instant::now() < t;
                match timer {
                    Some(timer) => timer.sleep_until(t).await,
                    None => spin_until(t).await,
                }
                (waited || Instant::now() < clock.end).then_some((t, waited))
            }
            Pacer::Closed { think, first } => {
                if *first {
                    // Users start together at the start of the run, not as the worker
                    // threads come up: no request is sent before the schedule's offset 0.
                    tokio::time::sleep_until(clock.start.into()).await;
                } else if !think.is_zero() {
                    tokio::time::sleep(*think).await;
                }
                *first = false;
                let now = Instant::now();
                (now < clock.end).then_some((now, false))
            }
        }
    }

    fn is_open(&self) -> bool {
        matches!(self, Pacer::Open(..))
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
}

/// A lane's running counts that outlive its task.
#[derive(Debug, Default)]
pub(crate) struct LaneTally {
    /// Schedule entries sent, warm-up included (open model): the worker finds the entries
    /// never sent, the dropped requests, from here.
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
        while let Some((intended, waited)) = self.pacer.next(&self.clock).await {
            if self.stop.borrow().is_some() {
                return;
            }
            let (req, want_body) = {
                let mut source = self.source.borrow_mut();
                let req = source.next_request();
                let want = source.wants_body(req.action);
                (req, want)
            };
            let action = req.action;
            let sent = Instant::now();
            self.tally.sends.set(self.tally.sends.get() + 1);
            self.tally.busy_since.set(Some(sent));
            // Closed model: the request is intended when it is sent (latency == service).
            let intended = if open { intended } else { sent };
            let measured = intended >= self.clock.measure_from;
            self.recorder.borrow_mut().begin(action, measured);
            // Service time starts here, so it includes (re)connecting when the connection
            // has to be opened first: that is part of what a user waits for.
            let result = self.conn.exchange(&self.endpoint, req, want_body).await;
            let done = Instant::now();
            self.tally.busy_since.set(None);
            {
                let mut rec = self.recorder.borrow_mut();
                rec.end(action, measured);
                rec.busy += overlap(sent, done, self.clock.measure_from, self.window_end());
                if measured && open {
                    rec.sent(sent - intended, waited);
                }
            }
            self.done.notify_one();
            let failed = self.record(action, intended, sent, done, result);
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

    /// Records one outcome (unless it belongs to the warm-up); returns the failure, if any.
    fn record(
        &self,
        action: usize,
        intended: Instant,
        sent: Instant,
        done: Instant,
        result: Result<Reply, ErrorKind>,
    ) -> Option<ErrorKind> {
        let measured = intended >= self.clock.measure_from;
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
                    if done < self.window_end() {
                        rec.responses_in_window += 1;
                    }
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
