//! The engine against real servers on loopback: request counts, the coordinated-omission
//! experiment, the closed model's bound on requests in flight, dead targets, interruption.

mod common;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::fixed::{FixedAction, FixedFactory};
use common::{refused_addr, BadServer, TestServer};
use loadgen::{
    Constant, Interval, IntervalSink, LoadShape, NoSink, Outcome, RunPlan, StopHandle, Target,
};

fn factory() -> Arc<FixedFactory> {
    let get = |name: &str, weight: f64| FixedAction {
        name: name.into(),
        weight,
        method: hyper::Method::GET,
        path: format!("/{name}"),
        headers: vec![],
        body: bytes::Bytes::new(),
        expect: vec![],
    };
    Arc::new(FixedFactory::new(vec![get("a", 3.0), get("b", 1.0)]).unwrap())
}

fn open(url: &str, rate: f64, connections: usize, secs: f64) -> RunPlan {
    RunPlan {
        target: Target::parse(url).unwrap(),
        shape: LoadShape::Open {
            schedule: Arc::new(Constant { rate }),
            connections,
        },
        duration: Duration::from_secs_f64(secs),
        warmup: Duration::ZERO,
        timeout: Duration::from_secs(2),
        threads: 2,
        seed: 1,
    }
}

fn closed(url: &str, users: usize, secs: f64) -> RunPlan {
    RunPlan {
        shape: LoadShape::Closed {
            users,
            think: Duration::ZERO,
        },
        ..open(url, 1.0, 1, secs)
    }
}

fn run(plan: &RunPlan) -> Outcome {
    loadgen::run(plan, factory(), &mut NoSink, &StopHandle::new()).unwrap()
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
    assert_eq!(out.unsent, 0);
    assert_eq!(server.requests(), 400);
    let by_action: u64 = out.actions.iter().map(|a| a.totals.requests).sum();
    assert_eq!(by_action, 300);
    let a_share = out.actions[0].totals.requests as f64 / 300.0;
    assert!((0.6..0.9).contains(&a_share), "mix share of a: {a_share}");
    assert_eq!(out.all.latency.len(), 300);
    assert!(
        (out.achieved_rps() - 200.0).abs() < 1.0,
        "{}",
        out.achieved_rps()
    );
    assert!(!out.interrupted);
    assert!(out.send_lag.len() == 300);
}

#[test]
fn a_frozen_server_shows_in_corrected_latency_not_in_service_time() {
    // The wrk2 experiment: 500/s for 3 s; the server freezes for 1 s after 1 s.
    let server = TestServer::start();
    let plan = open(&server.url(), 500.0, 4, 3.0);
    let start = Instant::now();
    *server.state.freeze.lock().unwrap() = Some((
        start + Duration::from_secs(1),
        start + Duration::from_secs(2),
    ));
    let out = run(&plan);
    assert_eq!(out.all.errors.total(), 0);
    assert!(out.all.requests >= 1490, "{}", out.all.requests);
    let lat_p99 = out.all.latency.value_at_quantile(0.99);
    let lat_p50 = out.all.latency.value_at_quantile(0.50);
    let svc_p99 = out.all.service.value_at_quantile(0.99);
    // About a third of the requests were due during the freeze: their latency is spread from
    // ~1 s down to 0, so the corrected p99 is near 1 s ...
    assert!(lat_p99 > 800_000, "corrected p99 {lat_p99} us");
    assert!(lat_p50 < 300_000, "corrected p50 {lat_p50} us");
    let stalled = out.all.latency.count_between(100_000, 60_000_000) as f64;
    assert!(stalled / out.all.requests as f64 > 0.2, "{stalled}");
    // ... while only the 4 requests in flight when it froze saw it from their actual send.
    assert!(svc_p99 < 100_000, "service p99 {svc_p99} us");
    assert!(out.all.service.max() > 800_000);
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

fn assert_ends_on_time(plan: &RunPlan) -> Outcome {
    let t = Instant::now();
    let out = run(plan);
    let took = t.elapsed();
    assert!(took < Duration::from_secs(4), "took {took:?}");
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

#[test]
fn stop_handle_interrupts_and_keeps_results() {
    let server = TestServer::start();
    let plan = open(&server.url(), 200.0, 2, 10.0);
    let stop = StopHandle::new();
    let trigger = stop.clone();
    let t = Instant::now();
    let stopper = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(600));
        trigger.stop();
    });
    let out = loadgen::run(&plan, factory(), &mut NoSink, &stop).unwrap();
    stopper.join().unwrap();
    assert!(t.elapsed() < Duration::from_secs(3));
    assert!(out.interrupted);
    let m = out.measured.as_secs_f64();
    assert!((0.5..1.5).contains(&m), "measured {m}");
    assert!(out.all.requests > 50, "{}", out.all.requests);
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
    let out = loadgen::run(&plan, factory(), &mut sink, &StopHandle::new()).unwrap();
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
    assert!(
        (95..=105).contains(&out.timeline[0].requests),
        "{:?}",
        out.timeline
    );
}

#[test]
fn requests_left_without_an_outcome_at_the_end_are_unfinished_errors() {
    // 100/s for 3 s; the server answers for 1 s, then freezes past the end of the run. The
    // timeout (10 s) never fires: the ~200 requests intended in [1 s, 3 s) get no outcome by
    // the cutoff (end + 1 s grace) and must count as `unfinished` errors, not vanish.
    let server = TestServer::start();
    let mut plan = open(&server.url(), 100.0, 4, 3.0);
    plan.timeout = Duration::from_secs(10);
    let start = Instant::now();
    *server.state.freeze.lock().unwrap() = Some((
        start + Duration::from_secs(1),
        start + Duration::from_secs(60),
    ));
    let mut sink = Collect::default();
    let out = loadgen::run(&plan, factory(), &mut sink, &StopHandle::new()).unwrap();
    assert!(
        start.elapsed() < Duration::from_secs(6),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(out.offered, Some(300));
    let e = &out.all.errors;
    assert!((190..=215).contains(&e.unfinished), "{e:?}");
    assert_eq!(e.total(), e.unfinished, "{e:?}");
    assert_eq!(
        out.all.requests, 300,
        "every offered request has an outcome"
    );
    assert_eq!(out.unfinished, e.unfinished);
    // The 4 requests in flight when the cutoff came have an action; the rest were never sent.
    let by_action: u64 = out.actions.iter().map(|a| a.totals.errors.unfinished).sum();
    assert_eq!(by_action + out.unsent, e.unfinished);
    assert!((1..=4).contains(&by_action), "{by_action}");
    // The timeline adds up to the totals (unfinished ones count in the last second).
    let total: u64 = sink.intervals.iter().map(|i| i.2).sum();
    assert_eq!(total, out.all.requests);
    let errors: u64 = out.timeline.iter().map(|p| p.errors).sum();
    assert_eq!(errors, e.unfinished);
}

#[test]
fn a_stop_lets_in_flight_requests_finish_within_the_grace() {
    // Every response takes 150 ms; a stop ~650 ms into the schedule must wait for the
    // requests in flight (instead of dropping them) and send nothing new.
    let server = TestServer::start();
    server.state.delay_us.store(150_000, Ordering::SeqCst);
    let plan = open(&server.url(), 10.0, 4, 10.0);
    let stop = StopHandle::new();
    let trigger = stop.clone();
    let t = Instant::now();
    let stopper = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(670));
        trigger.stop();
    });
    let out = loadgen::run(&plan, factory(), &mut NoSink, &stop).unwrap();
    stopper.join().unwrap();
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    assert!(out.interrupted);
    // Intended at 0, 100, ..., 600 ms: 7, all answered within the grace.
    assert_eq!(out.all.errors.total(), 0, "{:?}", out.all.errors);
    assert_eq!(out.all.requests, 7, "offered {:?}", out.offered);
    assert_eq!(server.requests(), 7);
}

#[test]
fn a_run_that_runs_out_of_work_early_still_ends_its_last_second_on_time() {
    // 1 request per 2 s over 2 lanes for 3.5 s: the lanes are done after the send at 2 s; the
    // last interval must still be [3 s, 3.5 s), not a 1.5 s interval attributed to second 2.
    let server = TestServer::start();
    let plan = open(&server.url(), 0.5, 1, 3.5);
    let mut sink = Collect::default();
    let out = loadgen::run(&plan, factory(), &mut sink, &StopHandle::new()).unwrap();
    let idx: Vec<u64> = sink.intervals.iter().map(|i| i.0).collect();
    assert_eq!(idx, vec![0, 1, 2, 3], "{:?}", sink.intervals);
    assert!(
        sink.intervals.iter().all(|i| i.1 <= 1.0),
        "{:?}",
        sink.intervals
    );
    assert_eq!(out.all.requests, 2);
}
