//! Benchmark: what do compiled templates cost? Runs the load engine (closed model, max
//! throughput) with the scenario's templates rendered live and with the same traffic
//! pre-rendered before the run (fixed requests: 4096 per lane, rendered by the same source with
//! seeded tweet ids 1..=1024 in its pool, replayed in a loop), alternating, in one process. Both
//! sides send the same mix of the same kind of requests, so the server's work is alike and the
//! difference is the rendering. Prints each pair's req/s, the medians and the ratio; also times
//! rendering alone (ns/request).
//!
//! `cargo run --release -p loadgen --example templates_bench -- [--scenario FILE]
//! [--target URL] [--pairs N] [--secs S] [--users U]` (default: scenarios/twitter.yaml). Without
//! `--target` it starts a minimal responder on loopback so the client's own cost dominates (the
//! strict setting). `bench/templates.sh` runs both that and the reference server, pinned to
//! separate cores.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::rt::TokioIo;
use loadgen::traffic::ScenarioSource;
use loadgen::{
    ActionInfo, LoadShape, NoSink, PreparedRequest, RequestId, RequestSource, RunPlan, Shard,
    SourceFactory, StopHandle, Target, Verdict,
};

/// Requests pre-rendered per lane.
const PRERENDERED: usize = 4096;

/// Fills every capture pool of `lane` with ids 1..=1024 (they exist on a seeded server).
fn fill_pools(lane: &mut dyn RequestSource, actions: usize) {
    for action in 0..actions {
        if lane.wants_body(action) {
            for id in 1..=1024u32 {
                lane.on_response(action, 201, format!("{{\"id\": {id}}}").as_bytes());
            }
        }
    }
}

/// Fixed requests: the scenario's traffic rendered before the run, replayed in a loop.
struct Replay {
    source: ScenarioSource,
}

struct ReplayLane {
    requests: Arc<Vec<PreparedRequest>>,
    next: usize,
}

impl SourceFactory for Replay {
    fn actions(&self) -> &[ActionInfo] {
        self.source.actions()
    }

    fn lane(&self, index: usize, lanes: usize, seed: u64) -> Box<dyn RequestSource> {
        let mut lane = self.source.lane(index, lanes, seed);
        fill_pools(lane.as_mut(), self.actions().len());
        let requests = (0..PRERENDERED as u64)
            .map(|m| lane.next_request(RequestId::new(seed, index as u64 + m * lanes as u64)))
            .collect();
        Box::new(ReplayLane {
            requests: Arc::new(requests),
            next: 0,
        })
    }
}

impl RequestSource for ReplayLane {
    fn next_request(&mut self, _id: RequestId) -> PreparedRequest {
        let r = self.requests[self.next].clone();
        self.next = (self.next + 1) % self.requests.len();
        r
    }

    fn on_response(&mut self, _action: usize, status: u16, _body: &[u8]) -> Verdict {
        if (200..300).contains(&status) {
            Verdict::Success
        } else {
            Verdict::BadStatus
        }
    }
}

/// Starts a responder that answers `{"id": 1}` to everything, on its own thread.
fn start_responder() -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let service = hyper::service::service_fn(|req: hyper::Request<_>| async move {
                    // As the reference server answers: 201 with an id, 204, 200 with tweets.
                    let (status, body): (u16, &'static [u8]) = match *req.method() {
                        hyper::Method::POST => (201, b"{\"id\": 1}"),
                        hyper::Method::PUT => (204, b""),
                        _ => (200, b"{\"tweets\": [], \"next\": null}"),
                    };
                    let mut response = hyper::Response::new(Full::new(Bytes::from_static(body)));
                    *response.status_mut() = hyper::StatusCode::from_u16(status).unwrap();
                    Ok::<_, hyper::Error>(response)
                });
                tokio::spawn(
                    hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service),
                );
            }
        });
    });
    format!("http://{}", rx.recv().unwrap())
}

/// CPU time (user + system) of this whole process so far, from /proc/self/stat (Linux; clock
/// ticks of 10 ms).
fn process_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<u64> = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|f| f.parse().ok())
        .collect();
    Duration::from_millis(fields.iter().sum::<u64>() * 10)
}

/// Achieved req/s and CPU microseconds per request (client and, without --target, responder).
fn measure(target: &str, factory: Arc<dyn SourceFactory>, users: usize, secs: f64) -> (f64, f64) {
    let plan = RunPlan {
        transport: loadgen::Transport::plain(),
        target: Target::parse(target).expect("target URL"),
        shape: LoadShape::Closed {
            users,
            think: Duration::ZERO,
        },
        measured: Duration::from_secs_f64(secs),
        warmup: Duration::ZERO,
        timeout: Duration::from_secs(5),
        threads: 1,
        seed: 1,
        shard: Shard::WHOLE,
        start_at: None,
    };
    let cpu = process_cpu();
    let outcome = loadgen::run(&plan, factory, &mut NoSink, &StopHandle::new()).expect("run");
    let cpu = process_cpu().saturating_sub(cpu);
    let errors = outcome.all.errors.total();
    if errors > 0 {
        eprintln!("  ({errors} errors of {} requests)", outcome.all.requests);
    }
    let cpu_us = cpu.as_secs_f64() * 1e6 / outcome.all.requests.max(1) as f64;
    (outcome.achieved_rps(), cpu_us)
}

/// ns per `next_request` of one lane, rendering only.
fn render_ns(factory: &dyn SourceFactory) -> f64 {
    let mut lane = factory.lane(0, 1, 1);
    fill_pools(lane.as_mut(), factory.actions().len());
    let n = 1_000_000;
    let start = Instant::now();
    let mut bytes = 0usize;
    for k in 0..n {
        let r = lane.next_request(RequestId::new(1, k));
        bytes += r.path.len() + r.body.len();
    }
    std::hint::black_box(bytes);
    start.elapsed().as_nanos() as f64 / n as f64
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let pairs: usize = arg(&args, "--pairs").map_or(3, |s| s.parse().expect("--pairs N"));
    let secs: f64 = arg(&args, "--secs").map_or(3.0, |s| s.parse().expect("--secs S"));
    let users: usize = arg(&args, "--users").map_or(32, |s| s.parse().expect("--users U"));
    let target = arg(&args, "--target").unwrap_or_else(start_responder);

    let file = arg(&args, "--scenario").unwrap_or_else(|| "scenarios/twitter.yaml".into());
    let scenario = estimator::load_file(std::path::Path::new(&file), &[])
        .unwrap_or_else(|e| panic!("{file}: {e}"));
    let templated: Arc<dyn SourceFactory> =
        Arc::new(ScenarioSource::from_scenario(&scenario).expect("scenario templates"));
    let fixed: Arc<dyn SourceFactory> = Arc::new(Replay {
        source: ScenarioSource::from_scenario(&scenario).expect("scenario templates"),
    });

    let (render, clone) = (render_ns(templated.as_ref()), render_ns(fixed.as_ref()));
    println!(
        "per request, source only: templates {render:.0} ns (render), fixed {clone:.0} ns (clone of \
         a pre-rendered request)"
    );
    println!("engine, closed model, {users} users, 1 thread, {secs} s per run, target {target}");
    let (mut ratios, mut cpu_ratios, mut fixed_cpu) = (Vec::new(), Vec::new(), Vec::new());
    for pair in 1..=pairs {
        // Alternate the order so drift does not favour one side.
        let ((a, ca), (b, cb)) = if pair % 2 == 1 {
            let a = measure(&target, templated.clone(), users, secs);
            (a, measure(&target, fixed.clone(), users, secs))
        } else {
            let b = measure(&target, fixed.clone(), users, secs);
            (measure(&target, templated.clone(), users, secs), b)
        };
        println!(
            "pair {pair}: templates {a:.0} req/s ({ca:.2} us CPU/req), fixed {b:.0} req/s \
             ({cb:.2} us CPU/req); throughput ratio {:.3}, CPU ratio {:.3}",
            a / b,
            cb / ca
        );
        ratios.push(a / b);
        cpu_ratios.push(cb / ca);
        fixed_cpu.push(cb);
    }
    let (mr, mc) = (median(&mut ratios), median(&mut cpu_ratios));
    let cpu = median(&mut fixed_cpu);
    println!(
        "rendering adds {:.0} ns to {cpu:.2} us of CPU per fixed request: {:.1}% (noise-free \
         estimate of the cost)",
        render - clone,
        (render - clone) / (cpu * 1e3) * 100.0
    );
    println!(
        "median of {pairs} pairs: throughput ratio templates/fixed {mr:.3} (templates cost {:.1}%); \
         CPU-per-request ratio fixed/templates {mc:.3} (cost {:.1}% of CPU-bound throughput); \
         target < 10%",
        (1.0 - mr) * 100.0,
        (1.0 - mc) * 100.0
    );
}
