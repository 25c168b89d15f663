//! The engine against real servers on loopback: request counts, the coordinated-omission
//! experiment, the closed model's bound on requests in flight, dead targets, interruption.

mod common;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::fixed::a_and_b;
use common::{refused_addr, BadServer, TestServer};
use loadgen::{
    Constant, Interval, IntervalSink, LoadShape, NoSink, Outcome, RunPlan, StopHandle, Target,
};

fn open(url: &str, rate: f64, connections: usize, secs: f64) -> RunPlan {
    RunPlan {
        transport: loadgen::Transport::plain(),
        target: Target::parse(url).unwrap(),
        shape: LoadShape::Open {
            schedule: Arc::new(Constant { rate }),
            connections,
        },
        measured: Duration::from_secs_f64(secs),
        warmup: Duration::ZERO,
        timeout: Duration::from_secs(2),
        threads: 2,
        seed: 1,
        shard: loadgen::Shard::WHOLE,
        start_at: None,
    }
}

fn closed(url: &str, users: usize, secs: f64) -> RunPlan {
    RunPlan {
        transport: loadgen::Transport::plain(),
        shape: LoadShape::Closed {
            users,
            think: Duration::ZERO,
        },
        ..open(url, 1.0, 1, secs)
    }
}

fn run(plan: &RunPlan) -> Outcome {
    loadgen::run(plan, a_and_b(), &mut NoSink, &StopHandle::new()).unwrap()
}

#[test]
fn open_model_sends_rate_times_duration_and_excludes_warmup() {
    let server = TestServer::start();
    let mut plan = open(&server.url(), 200.0, 4, 1.5);
    plan.warmup = Duration::from_millis(500);
    let out = run(&plan);
    // Offsets k/200 in [0.5 s, 2 s): exactly 300 measured, 400 sent.
    assert_eq!(out.offered, Some(300));
    assert_eq!(out.all.requests, 300, "{:?}", out.all.errors);
    assert_eq!(out.all.errors.total(), 0);
    assert_eq!(out.dropped, 0);
    assert_eq!(server.requests(), 400);
    let by_action: u64 = out.actions.iter().map(|a| a.totals.requests).sum();
    assert_eq!(by_action, 300);
    let a_share = out.actions[0].totals.requests as f64 / 300.0;
    assert!((0.6..0.9).contains(&a_share), "mix share of a: {a_share}");
    assert_eq!(out.all.latency.len(), 300);
    // Achieved counts responses within the window: about the window's 300 (a warm-up
    // request answered just after the warm-up counts, one still in flight at the end not).
    assert!(
        out.responses_in_window <= 304,
        "{}",
        out.responses_in_window
    );
    assert!(
        out.responses_in_window >= 250,
        "{}",
        out.responses_in_window
    );
    assert_eq!(out.achieved_rps(), out.responses_in_window as f64 / 1.5);
    assert!(!out.interrupted);
    assert!(out.send_lag.len() == 300);
}

#[test]
fn a_frozen_server_shows_in_corrected_latency_not_in_service_time() {
    // The wrk2 experiment: 500/s for 3 s over 4 connections; the server freezes for 1 s when
    // its 500th request arrives (placed by count, so a slow machine moves it, not breaks it).
    let server = TestServer::start();
    server.state.freeze_after.store(500, Ordering::SeqCst);
    server.state.freeze_for_ms.store(1_000, Ordering::SeqCst);
    let out = run(&open(&server.url(), 500.0, 4, 3.0));
    assert_eq!(out.all.errors.total(), 0, "{:?}", out.all.errors);
    let frozen = server
        .state
        .freeze
        .lock()
        .unwrap()
        .expect("the server froze");
    let freeze_us = (frozen.1 - frozen.0).as_micros() as u64;
    let lat = &out.all.latency;
    // About a third of the requests were due during the freeze: their corrected latency is
    // spread from the whole freeze down to 0, so p99 reflects it ...
    assert!(
        lat.value_at_quantile(0.99) > freeze_us * 8 / 10,
        "corrected p99 {} us",
        lat.value_at_quantile(0.99)
    );
    assert!(
        lat.max() >= freeze_us * 9 / 10,
        "corrected max {}",
        lat.max()
    );
    let stalled = lat.count_between(freeze_us / 10, u64::MAX);
    assert!(
        stalled * 5 > out.all.requests,
        "{stalled} of {}",
        out.all.requests
    );
    // ... while from the actual send only the 4 requests in flight when it froze (one per
    // connection) saw it: the rest were sent after it ended.
    let svc_stalled = out.all.service.count_between(freeze_us / 2, u64::MAX);
    assert!((1..=4).contains(&svc_stalled), "{svc_stalled}");
    assert!(out.late > 300, "late sends {}", out.late);
}

#[test]
fn closed_model_never_exceeds_its_users_in_flight() {
    let server = TestServer::start();
    server.state.delay_us.store(2_000, Ordering::SeqCst);
    let out = run(&closed(&server.url(), 3, 1.0));
    let max = server.state.max_in_flight.load(Ordering::SeqCst);
    assert!((1..=3).contains(&max), "max in flight {max}");
    assert!(out.all.requests > 30, "{}", out.all.requests);
    assert_eq!(out.all.errors.total(), 0);
    assert!(
        out.all.latency == out.all.service,
        "closed: latency must equal service"
    );
    assert_eq!(out.offered, None);
    assert!(out.send_lag.is_empty());
}

#[test]
fn statuses_outside_expect_are_errors_by_code() {
    let server = TestServer::start();
    server.state.status.store(503, Ordering::SeqCst);
    let out = run(&open(&server.url(), 100.0, 2, 1.0));
    assert_eq!(out.all.requests, 100);
    assert_eq!(out.all.errors.status.get(&503), Some(&100));
    assert_eq!(out.all.successes(), 0);
}

#[test]
fn connections_closed_after_a_response_are_reopened_without_errors() {
    let server = TestServer::start();
    server.state.close.store(true, Ordering::SeqCst);
    let out = run(&open(&server.url(), 100.0, 2, 1.0));
    assert_eq!(out.all.requests, 100);
    assert_eq!(out.all.errors.total(), 0, "{:?}", out.all.errors);
    assert_eq!(server.requests(), 100);
}

/// Runs a plan against a target that never succeeds. The run must end by itself at its
/// planned end plus the grace (the bound checked is a generous hang guard, not a speed test).
fn assert_ends_on_time(plan: &RunPlan) -> Outcome {
    let t = Instant::now();
    let out = run(plan);
    let took = t.elapsed();
    assert!(
        took < plan.measured * 10 + Duration::from_secs(10),
        "took {took:?}"
    );
    assert_eq!(out.measured, plan.measured);
    assert_eq!(out.all.successes(), 0);
    out
}

#[test]
fn a_refusing_target_ends_on_time_with_connect_errors() {
    let url = format!("http://{}", refused_addr());
    let out = assert_ends_on_time(&open(&url, 100.0, 4, 1.0));
    assert_eq!(out.all.requests, 100);
    assert_eq!(out.all.errors.connect, 100);
    let out = assert_ends_on_time(&closed(&url, 4, 1.0));
    assert!(out.all.errors.connect >= 4, "{:?}", out.all.errors);
    assert_eq!(out.all.errors.total(), out.all.requests);
}

#[test]
fn a_target_that_closes_connections_gives_io_errors() {
    let bad = BadServer::start(false);
    let out = assert_ends_on_time(&open(&format!("http://{}", bad.addr), 50.0, 2, 1.0));
    assert_eq!(out.all.requests, 50);
    assert!(out.all.errors.io > 0, "{:?}", out.all.errors);
    assert_eq!(out.all.errors.total(), 50);
}

#[test]
fn a_silent_target_times_out_and_ends_on_time() {
    let bad = BadServer::start(true);
    let mut plan = open(&format!("http://{}", bad.addr), 20.0, 2, 1.0);
    plan.timeout = Duration::from_millis(200);
    let out = assert_ends_on_time(&plan);
    assert!(out.all.errors.timeout > 0, "{:?}", out.all.errors);
    assert_eq!(out.all.errors.total(), out.all.requests);
}

/// Waits (polling, generous budget) until `cond` holds; panics with `what` if it never does.
fn wait_for(what: &str, cond: impl Fn() -> bool) {
    let give_up = Instant::now() + Duration::from_secs(30);
    while !cond() {
        assert!(Instant::now() < give_up, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Runs `plan`, stopping it once the server has seen `after` requests; returns the outcome.
fn run_stopped_after(plan: &RunPlan, server: &TestServer, after: u64) -> Outcome {
    let stop = StopHandle::new();
    let trigger = stop.clone();
    let state = server.state.clone();
    let stopper = std::thread::spawn(move || {
        wait_for("requests", || {
            state.requests.load(Ordering::SeqCst) >= after
        });
        trigger.stop();
    });
    let out = loadgen::run(plan, a_and_b(), &mut NoSink, &stop).unwrap();
    stopper.join().unwrap();
    out
}

#[test]
fn stop_handle_interrupts_and_keeps_results() {
    let server = TestServer::start();
    let plan = open(&server.url(), 200.0, 2, 10.0);
    let out = run_stopped_after(&plan, &server, 100);
    assert!(out.interrupted);
    assert!(out.measured < plan.measured, "{:?}", out.measured);
    // Everything sent before the stop has its outcome; the window ends at the stop.
    assert!(out.all.requests >= 100, "{}", out.all.requests);
    assert_eq!(out.all.requests, server.requests());
    assert_eq!(out.all.errors.total(), 0, "{:?}", out.all.errors);
    let offered = out.offered.unwrap();
    assert_eq!(offered, out.all.requests + out.dropped);
    // Offered up to the stop: 200/s over the measured window, +-1 for the boundaries.
    let expected = 200.0 * out.measured.as_secs_f64();
    assert!(
        (offered as f64 - expected).abs() <= 1.0,
        "{offered} vs {expected}"
    );
}

#[derive(Default)]
struct Collect {
    intervals: Vec<(u64, f64, u64, Vec<u64>)>,
}

impl IntervalSink for Collect {
    fn interval(&mut self, iv: &Interval<'_>) -> Result<(), String> {
        let per_action = iv.latency.iter().map(|h| h.len()).collect();
        assert_eq!(iv.all.len(), iv.requests - iv.errors);
        assert_eq!(iv.actions.len(), 2);
        self.intervals
            .push((iv.index, iv.length_s, iv.requests, per_action));
        Ok(())
    }
}

#[test]
fn intervals_stream_once_per_second_and_add_up() {
    let server = TestServer::start();
    let plan = open(&server.url(), 100.0, 2, 2.5);
    let mut sink = Collect::default();
    let out = loadgen::run(&plan, a_and_b(), &mut sink, &StopHandle::new()).unwrap();
    let idx: Vec<u64> = sink.intervals.iter().map(|i| i.0).collect();
    assert_eq!(idx, vec![0, 1, 2]);
    assert_eq!(sink.intervals[0].1, 1.0);
    assert!(sink.intervals[2].1 >= 0.5, "{:?}", sink.intervals[2]);
    let total: u64 = sink.intervals.iter().map(|i| i.2).sum();
    assert_eq!(total, out.all.requests);
    let per_a: u64 = sink.intervals.iter().map(|i| i.3[0]).sum();
    assert_eq!(per_a, out.actions[0].totals.latency.len());
    assert_eq!(out.timeline.len(), 3);
    assert_eq!(out.timeline[0].t_s, 1);
    // Counted by completion: about the first second's 100 requests.
    assert!(
        (80..=120).contains(&out.timeline[0].requests),
        "{:?}",
        out.timeline
    );
}

#[test]
fn requests_left_without_an_outcome_at_the_end_are_unfinished_or_dropped() {
    // 100/s for 3 s over 4 connections; the server answers 100 requests, then freezes past
    // the end of the run. The timeout (10 s) never fires: the requests in flight when it froze
    // get no response by the cutoff (end + 1 s grace) and are `unfinished` errors; the others
    // intended in the window queue behind them, are never sent, and are `dropped`.
    let server = TestServer::start();
    server.state.freeze_after.store(101, Ordering::SeqCst);
    server.state.freeze_for_ms.store(60_000, Ordering::SeqCst);
    let mut plan = open(&server.url(), 100.0, 4, 3.0);
    plan.timeout = Duration::from_secs(10);
    let mut sink = Collect::default();
    let out = loadgen::run(&plan, a_and_b(), &mut sink, &StopHandle::new()).unwrap();
    assert_eq!(out.offered, Some(300));
    let e = &out.all.errors;
    assert_eq!(e.total(), e.unfinished, "{e:?}");
    assert!((1..=4).contains(&e.unfinished), "{e:?}");
    assert_eq!(out.unfinished, e.unfinished);
    assert_eq!(
        out.all.requests,
        server.requests(),
        "sent = seen by the server"
    );
    assert_eq!(
        out.all.requests + out.dropped,
        300,
        "every offered request is counted"
    );
    assert!(out.dropped >= 190, "{}", out.dropped);
    // Unfinished requests were sent: each has its action.
    let by_action: u64 = out.actions.iter().map(|a| a.totals.errors.unfinished).sum();
    assert_eq!(by_action, e.unfinished);
    // The timeline adds up to the totals; drops are spread over the seconds they were due.
    let total: u64 = sink.intervals.iter().map(|i| i.2).sum();
    assert_eq!(total, out.all.requests);
    let errors: u64 = out.timeline.iter().map(|p| p.errors).sum();
    assert_eq!(errors, e.unfinished);
    let dropped: Vec<u64> = out.timeline.iter().map(|p| p.dropped).collect();
    assert_eq!(dropped.iter().sum::<u64>(), out.dropped);
    assert_eq!(
        dropped[2], 100,
        "every request due in the last second was dropped"
    );
    assert!(dropped[1] >= 90, "{dropped:?}");
    assert!(out.responses_in_window <= 100);
}

#[test]
fn a_stop_lets_in_flight_requests_finish_within_the_grace() {
    // Every response takes 150 ms; a stop after the 7th request must wait for the requests
    // in flight (instead of dropping them) and send nothing new.
    let server = TestServer::start();
    server.state.delay_us.store(150_000, Ordering::SeqCst);
    let plan = open(&server.url(), 10.0, 4, 10.0);
    let out = run_stopped_after(&plan, &server, 7);
    assert!(out.interrupted);
    assert_eq!(out.all.errors.total(), 0, "{:?}", out.all.errors);
    assert!(out.all.requests >= 7, "{}", out.all.requests);
    assert_eq!(
        out.all.requests,
        server.requests(),
        "nothing sent after the stop"
    );
    assert_eq!(
        out.all.latency.len(),
        out.all.requests,
        "all answered in the grace"
    );
}

#[test]
fn a_target_over_its_capacity_saturates_and_achieved_matches_its_count() {
    // A server of known capacity: one request at a time, 5 ms each (200/s). Offered 300/s,
    // the run must drop requests, and its achieved rate must match the responses the server
    // sent within the measured window.
    let server = TestServer::start();
    server.state.serial.store(true, Ordering::SeqCst);
    server.state.delay_us.store(5_000, Ordering::SeqCst);
    let out = run(&open(&server.url(), 300.0, 8, 3.0));
    let from = out.started_at;
    let to = from + out.measured;
    let answered = server.state.answered_at.lock().unwrap().clone();
    let in_window = answered.iter().filter(|t| **t >= from && **t < to).count() as f64;
    let achieved = out.achieved_rps() * out.measured.as_secs_f64();
    assert!(
        (achieved - in_window).abs() <= 0.05 * in_window,
        "achieved {achieved} responses, the server sent {in_window}"
    );
    assert!(out.achieved_rps() <= 205.0, "{}", out.achieved_rps());
    assert!(out.dropped > 50, "dropped {}", out.dropped);
    assert_eq!(out.offered, Some(900));
}

#[test]
fn a_target_well_under_its_capacity_is_not_saturated() {
    let server = TestServer::start();
    server.state.serial.store(true, Ordering::SeqCst);
    server.state.delay_us.store(5_000, Ordering::SeqCst);
    let out = run(&open(&server.url(), 40.0, 4, 3.0));
    assert_eq!(out.dropped, 0);
    assert_eq!(out.offered, Some(120));
    assert_eq!(out.all.latency.len(), 120, "every request answered");
    assert_eq!(out.all.errors.total(), 0);
}

#[test]
fn a_warm_up_backlog_served_in_the_window_counts_as_achieved() {
    // Over capacity (300/s offered, 200/s served) with a 1 s warm-up: the backlog the warm-up
    // built is served inside the measured window, and that is the window's throughput.
    let server = TestServer::start();
    server.state.serial.store(true, Ordering::SeqCst);
    server.state.delay_us.store(5_000, Ordering::SeqCst);
    let mut plan = open(&server.url(), 300.0, 8, 2.0);
    plan.warmup = Duration::from_secs(1);
    let out = run(&plan);
    let (from, to) = (out.started_at, out.started_at + out.measured);
    let answered = server.state.answered_at.lock().unwrap().clone();
    let in_window = answered.iter().filter(|t| **t >= from && **t < to).count() as f64;
    let achieved = out.achieved_rps() * out.measured.as_secs_f64();
    assert!(
        (achieved - in_window).abs() <= 0.05 * in_window,
        "achieved {achieved} responses, the server sent {in_window}"
    );
    assert!(out.dropped > 0);
}

#[test]
fn a_run_that_runs_out_of_work_early_still_ends_its_last_second_on_time() {
    // 1 request per 2 s over 2 lanes for 3.5 s: the lanes are done after the send at 2 s; the
    // last interval must still be [3 s, 3.5 s), not a 1.5 s interval attributed to second 2.
    let server = TestServer::start();
    let plan = open(&server.url(), 0.5, 1, 3.5);
    let mut sink = Collect::default();
    let out = loadgen::run(&plan, a_and_b(), &mut sink, &StopHandle::new()).unwrap();
    let idx: Vec<u64> = sink.intervals.iter().map(|i| i.0).collect();
    assert_eq!(idx, vec![0, 1, 2, 3], "{:?}", sink.intervals);
    assert!(
        sink.intervals.iter().all(|i| i.1 <= 1.0),
        "{:?}",
        sink.intervals
    );
    assert_eq!(out.all.requests, 2);
}

#[test]
fn closed_model_counts_every_request_it_sends_from_the_first() {
    // Users start at the window's start (warm-up 0): every request the server receives is one
    // the run counts, none slips in before the measured window.
    let server = TestServer::start();
    server.state.delay_us.store(1_000, Ordering::SeqCst);
    let out = run(&closed(&server.url(), 4, 1.0));
    assert!(out.all.requests > 40, "{}", out.all.requests);
    assert_eq!(out.all.errors.total(), 0, "{:?}", out.all.errors);
    assert_eq!(server.requests(), out.all.requests);
}

#[test]
fn closed_model_reports_each_users_first_request_to_a_blackhole() {
    // A target that accepts and never answers, with a timeout beyond the run: each of 3
    // users' first request is still in flight at the cutoff, and each must be in the run
    // (as unfinished), not lost before the window.
    let bad = BadServer::start(true);
    let mut plan = closed(&format!("http://{}", bad.addr), 3, 0.5);
    plan.timeout = Duration::from_secs(30);
    let out = run(&plan);
    assert_eq!(out.all.requests, 3, "{:?}", out.all.errors);
    assert_eq!(out.all.errors.unfinished, 3, "{:?}", out.all.errors);
}
