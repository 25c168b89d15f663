//! Per-worker recording. Each worker thread owns one [`Recorder`] (no locks, no atomics on the
//! hot path); the run merges them at the end. Memory is constant in the run's duration: a few
//! fixed-size HdrHistograms per action plus one interval buffer that is handed off every second.

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime};

use hdrhistogram::Histogram;

use crate::tls::{TlsFailure, TlsInfo};

/// Lowest and highest trackable value (microseconds) and significant digits: 1 us to 60 s,
/// 3 digits. Larger values are clamped to the top.
pub const LOWEST_US: u64 = 1;
pub const HIGHEST_US: u64 = 60_000_000;
pub const SIGFIG: u8 = 3;

/// An empty histogram with the bounds above.
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(LOWEST_US, HIGHEST_US, SIGFIG).expect("constant bounds are valid")
}

pub(crate) fn micros(d: Duration) -> u64 {
    (d.as_micros() as u64).clamp(LOWEST_US, HIGHEST_US)
}

/// Why a request failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The connection could not be opened (refused, unreachable, connect timed out).
    Connect,
    /// No complete response within `--timeout`.
    Timeout,
    /// The connection broke while sending or receiving.
    Io,
    /// A status outside the action's `expect`.
    Status(u16),
    /// A success status whose body lacked a field named in `capture`.
    Capture,
    /// The TLS handshake failed (or the server refused the session right after it), or
    /// `--http2` met a server that does not negotiate HTTP/2.
    Tls(TlsFailure),
}

/// Error counts by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorCounts {
    pub connect: u64,
    pub timeout: u64,
    pub io: u64,
    pub capture: u64,
    pub status: BTreeMap<u16, u64>,
    /// TLS failures by reason.
    pub tls: BTreeMap<TlsFailure, u64>,
    /// Requests sent in the measured window that had no outcome when the run ended: still in
    /// flight at the cutoff (the end of the grace period).
    pub unfinished: u64,
}

impl ErrorCounts {
    pub fn total(&self) -> u64 {
        self.connect
            + self.timeout
            + self.io
            + self.capture
            + self.unfinished
            + self.status.values().sum::<u64>()
            + self.tls.values().sum::<u64>()
    }

    pub(crate) fn count(&mut self, kind: ErrorKind) {
        match kind {
            ErrorKind::Connect => self.connect += 1,
            ErrorKind::Timeout => self.timeout += 1,
            ErrorKind::Io => self.io += 1,
            ErrorKind::Capture => self.capture += 1,
            ErrorKind::Status(s) => *self.status.entry(s).or_insert(0) += 1,
            ErrorKind::Tls(r) => *self.tls.entry(r).or_insert(0) += 1,
        }
    }

    pub fn add(&mut self, other: &ErrorCounts) {
        self.connect += other.connect;
        self.timeout += other.timeout;
        self.io += other.io;
        self.capture += other.capture;
        self.unfinished += other.unfinished;
        for (s, n) in &other.status {
            *self.status.entry(*s).or_insert(0) += n;
        }
        for (r, n) in &other.tls {
            *self.tls.entry(*r).or_insert(0) += n;
        }
    }
}

/// Everything measured for one action (or for all of them).
#[derive(Debug, Clone)]
pub struct ActionTotals {
    /// Requests with an outcome: responses (any status) plus failed attempts.
    pub requests: u64,
    /// From the intended send time (coordinated-omission corrected), every response.
    pub latency: Histogram<u64>,
    /// From the actual send time, every response.
    pub service: Histogram<u64>,
    pub errors: ErrorCounts,
}

impl ActionTotals {
    pub fn new() -> ActionTotals {
        ActionTotals {
            requests: 0,
            latency: new_histogram(),
            service: new_histogram(),
            errors: ErrorCounts::default(),
        }
    }

    /// Requests that succeeded.
    pub fn successes(&self) -> u64 {
        self.requests.saturating_sub(self.errors.total())
    }

    pub fn add(&mut self, other: &ActionTotals) {
        self.requests += other.requests;
        self.latency.add(&other.latency).expect("same bounds");
        self.service.add(&other.service).expect("same bounds");
        self.errors.add(&other.errors);
    }
}

impl Default for ActionTotals {
    fn default() -> Self {
        ActionTotals::new()
    }
}

/// One second's worth of one worker's measurements.
#[derive(Debug)]
pub(crate) struct IntervalData {
    pub requests: u64,
    pub errors: u64,
    /// Per action: latency from the intended send time.
    pub latency: Vec<Histogram<u64>>,
}

impl IntervalData {
    pub fn new(actions: usize) -> IntervalData {
        IntervalData {
            requests: 0,
            errors: 0,
            latency: (0..actions).map(|_| new_histogram()).collect(),
        }
    }

    pub fn add(&mut self, other: &IntervalData) {
        self.requests += other.requests;
        self.errors += other.errors;
        for (a, b) in self.latency.iter_mut().zip(&other.latency) {
            a.add(b).expect("same bounds");
        }
    }
}

/// A worker's recorder.
#[derive(Debug)]
pub(crate) struct Recorder {
    pub actions: Vec<ActionTotals>,
    pub interval: IntervalData,
    /// Actual minus intended send time of open-model requests, microseconds.
    pub send_lag: Histogram<u64>,
    /// The same, only for sends whose lane was idle before the intended time (so the lag is
    /// the timer's and the generator's, not a previous response's).
    pub timer_lag: Histogram<u64>,
    /// Requests sent more than [`LATE`] after their intended time.
    pub late: u64,
    /// Requests in flight (warm-up included).
    pub in_flight: usize,
    /// Per action: measured requests in flight (no outcome yet).
    pub pending: Vec<u64>,
    /// Responses (any status) that arrived within the measured window, whenever their
    /// request was intended: the numerator of the achieved rate. Responses during the grace
    /// period count as requests and in latency, not here.
    pub responses_in_window: u64,
    /// Requests sent more than [`LATE`] after their intended time although their lane was
    /// idle and waiting for them: the generator's own lateness, not queueing behind slow
    /// responses.
    pub late_idle: u64,
    /// Time within the measured window that lanes spent waiting on the target (from send to
    /// outcome), summed over lanes: with one request per connection at a time, busy /
    /// (connections x window) is the share of the window the target held the connections.
    pub busy: Duration,
    /// The earliest-intended first send of the worker's lanes: (intended, wall clock at the
    /// send), for the run's start lag.
    pub first_send: Option<(Instant, SystemTime)>,
    /// The connections opened from the measured window on.
    pub connections: Connections,
}

/// New connections: how many, how long each took to open, what TLS negotiated.
#[derive(Debug, Clone)]
pub struct Connections {
    /// Connections opened (TCP connected and, for TLS, handshake done) in the measured window.
    pub opened: u64,
    /// Of those, TLS connections that resumed an earlier session.
    pub resumed: u64,
    /// TCP connect plus TLS handshake per connection, microseconds.
    pub connect: Histogram<u64>,
    /// What the first TLS connection (warm-up included) negotiated.
    pub tls: Option<TlsInfo>,
}

impl Connections {
    pub fn new() -> Connections {
        Connections {
            opened: 0,
            resumed: 0,
            connect: new_histogram(),
            tls: None,
        }
    }

    pub fn add(&mut self, other: &Connections) {
        self.opened += other.opened;
        self.resumed += other.resumed;
        self.connect.add(&other.connect).expect("same bounds");
        if self.tls.is_none() {
            self.tls.clone_from(&other.tls);
        }
    }
}

impl Default for Connections {
    fn default() -> Self {
        Connections::new()
    }
}

/// A send later than this after its intended time counts as late.
pub const LATE: Duration = Duration::from_millis(1);

impl Recorder {
    pub fn new(actions: usize) -> Recorder {
        Recorder {
            actions: (0..actions).map(|_| ActionTotals::new()).collect(),
            interval: IntervalData::new(actions),
            send_lag: new_histogram(),
            timer_lag: new_histogram(),
            late: 0,
            in_flight: 0,
            pending: vec![0; actions],
            responses_in_window: 0,
            late_idle: 0,
            busy: Duration::ZERO,
            first_send: None,
            connections: Connections::new(),
        }
    }

    /// A lane's first send, intended at `intended`, went out at wall-clock `at`.
    pub fn first_send(&mut self, intended: Instant, at: SystemTime) {
        if !matches!(self.first_send, Some((i, _)) if i <= intended) {
            self.first_send = Some((intended, at));
        }
    }

    /// A connection was opened in `took` (TCP connect plus TLS handshake); `measured`: its
    /// opening started in the measured window.
    pub fn opened(&mut self, measured: bool, took: Duration, resumed: bool, tls: Option<&TlsInfo>) {
        let c = &mut self.connections;
        if c.tls.is_none() {
            c.tls = tls.cloned();
        }
        if measured {
            c.opened += 1;
            c.resumed += u64::from(resumed);
            c.connect.saturating_record(micros(took));
        }
    }

    /// A request of `action` goes out; `measured`: intended in the measured window.
    pub fn begin(&mut self, action: usize, measured: bool) {
        self.in_flight += 1;
        if measured {
            self.pending[action] += 1;
        }
    }

    /// The request begun with the same arguments has its outcome (recorded separately).
    pub fn end(&mut self, action: usize, measured: bool) {
        self.in_flight -= 1;
        if measured {
            self.pending[action] -= 1;
        }
    }

    /// At the cutoff: the measured requests still in flight become `unfinished` errors of
    /// the current interval (the one in which the run ended).
    pub fn unfinished(&mut self) {
        for (a, n) in self
            .actions
            .iter_mut()
            .zip(std::mem::take(&mut self.pending))
        {
            a.requests += n;
            a.errors.unfinished += n;
            self.interval.requests += n;
            self.interval.errors += n;
        }
        self.pending = vec![0; self.actions.len()];
    }

    /// A send `lag` after its intended time (open model only); `waited`: the lane was idle
    /// before the intended time.
    pub fn sent(&mut self, lag: Duration, waited: bool) {
        let us = lag.as_micros() as u64;
        self.send_lag.saturating_record(us);
        if waited {
            self.timer_lag.saturating_record(us);
        }
        if lag > LATE {
            self.late += 1;
            if waited {
                self.late_idle += 1;
            }
        }
    }

    /// A response: `latency` from the intended send, `service` from the actual send.
    pub fn response(
        &mut self,
        action: usize,
        latency: Duration,
        service: Duration,
        err: Option<ErrorKind>,
    ) {
        let a = &mut self.actions[action];
        let lat = micros(latency);
        a.requests += 1;
        a.latency.saturating_record(lat);
        a.service.saturating_record(micros(service));
        self.interval.requests += 1;
        self.interval.latency[action].saturating_record(lat);
        if let Some(kind) = err {
            a.errors.count(kind);
            self.interval.errors += 1;
        }
    }

    /// A request that got no response.
    pub fn failure(&mut self, action: usize, kind: ErrorKind) {
        let a = &mut self.actions[action];
        a.requests += 1;
        a.errors.count(kind);
        self.interval.requests += 1;
        self.interval.errors += 1;
    }

    /// Hands off the current interval and starts a new one.
    pub fn take_interval(&mut self) -> IntervalData {
        let fresh = IntervalData::new(self.actions.len());
        std::mem::replace(&mut self.interval, fresh)
    }
}
