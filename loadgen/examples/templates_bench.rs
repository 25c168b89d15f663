//! Benchmark: what do compiled templates cost? Runs the load engine (closed model, max
//! throughput) with the Twitter-like scenario's templated requests and with the same requests
//! made fixed (templates replaced by constants), alternating, in one process, and prints the
//! req/s of each pair, the medians and the ratio. Also times rendering alone (ns/request).
//!
//! `cargo run --release -p loadgen --example templates_bench -- [--target URL] [--pairs N]
//! [--secs S] [--users U]`. Without `--target` it starts a minimal responder on loopback so the
//! client's own cost dominates (the strictest setting). `bench/templates.sh` runs both that and
//! the reference server, pinned to separate cores.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use estimator::*;
use http_body_util::Full;
use hyper_util::rt::TokioIo;
use loadgen::traffic::ScenarioSource;
use loadgen::{FixedFactory, LoadShape, NoSink, RunPlan, SourceFactory, StopHandle, Target};

/// The request blocks of scenarios/twitter.yaml, with per-user-per-day rates as weights.
fn twitter() -> Scenario {
    let req = |method: &str, path: &str, body: Option<&str>, capture: bool| RequestSpec {
        method: method.into(),
        path: path.into(),
        headers: if body.is_some() {
            vec![("content-type".into(), "application/json".into())]
        } else {
            Vec::new()
        },
        body: body.map(str::to_owned),
        capture: if capture {
            vec![("tweet".into(), "id".into())]
        } else {
            Vec::new()
        },
        expect: Vec::new(),
        locations: BTreeMap::new(),
    };
    let action = |name: &str, per_day: f64, request: RequestSpec| Action {
        name: name.into(),
        kind: ActionKind::Read,
        rate: Rate::PerDay(per_day),
        ingress: Payload::default(),
        egress: Payload::default(),
        stored: Payload::default(),
        request: Some(request),
    };
    let body = r#"{"user_id": {{user}}, "text": "{{text 140}}"}"#;
    Scenario {
        name: "twitter".into(),
        description: None,
        source: None,
        daily_active_users: None,
        peak_factor: 1.0,
        storage: StoragePolicy {
            retention: Duration::from_secs(86_400),
            replication: 1.0,
            max_fill: 1.0,
        },
        cache: CachePolicy::default(),
        capacity: Capacity::default(),
        actions: vec![
            action("post_tweet", 0.5, req("POST", "/tweets", Some(body), true)),
            action(
                "like_tweet",
                1.0,
                req("PUT", "/tweets/{{tweet}}/likes/{{user}}", None, false),
            ),
            action(
                "view_home_timeline",
                7.0,
                req("GET", "/users/{{user}}/timeline?limit=20", None, false),
            ),
            action(
                "view_user_timeline",
                3.0,
                req("GET", "/users/{{user}}/tweets?limit=20", None, false),
            ),
            action(
                "follow",
                0.2,
                req("PUT", "/users/{{user}}/follows/{{user}}", None, false),
            ),
        ],
        load: LoadSpec {
            keys: vec![KeySpace {
                name: "user".into(),
                count: 10_000,
                distribution: KeyDistribution::Zipf { exponent: 1.0 },
            }],
            ..LoadSpec::default()
        },
    }
}

fn per_day(scenario: &Scenario) -> impl Fn(&str) -> Option<f64> + '_ {
    move |name| {
        scenario
            .actions
            .iter()
            .find(|a| a.name == name)
            .and_then(|a| match a.rate {
                Rate::PerDay(d) => Some(d),
                _ => None,
            })
    }
}

/// The same scenario with every template replaced by a constant of similar size.
fn fixed(scenario: &Scenario) -> FixedFactory {
    let text = "a".repeat(70);
    let replace = |s: &str| {
        s.replace("{{user}}", "500")
            .replace("{{tweet}}", "1")
            .replace("{{text 140}}", &text)
    };
    let mut copy = scenario.clone();
    for action in &mut copy.actions {
        if let Some(r) = &mut action.request {
            r.path = replace(&r.path);
            r.body = r.body.as_deref().map(replace);
        }
    }
    let weights = per_day(scenario);
    FixedFactory::from_scenario(&copy, |a| weights(&a.name)).expect("fixed requests are valid")
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
                let service = hyper::service::service_fn(|_req| async {
                    Ok::<_, hyper::Error>(hyper::Response::new(Full::new(Bytes::from_static(
                        b"{\"id\": 1}",
                    ))))
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

fn measure(target: &str, factory: Arc<dyn SourceFactory>, users: usize, secs: f64) -> f64 {
    let plan = RunPlan {
        target: Target::parse(target).expect("target URL"),
        shape: LoadShape::Closed {
            users,
            think: Duration::ZERO,
        },
        duration: Duration::from_secs_f64(secs),
        warmup: Duration::from_millis(300),
        timeout: Duration::from_secs(5),
        threads: 1,
        seed: 1,
    };
    let outcome = loadgen::run(&plan, factory, &mut NoSink, &StopHandle::new()).expect("run");
    let errors = outcome.all.errors.total();
    if errors > 0 {
        eprintln!("  ({errors} errors of {} requests)", outcome.all.requests);
    }
    outcome.achieved_rps()
}

/// ns per `next_request` of one lane, rendering only.
fn render_ns(factory: &dyn SourceFactory) -> f64 {
    let mut lane = factory.lane(0, 1, 1);
    // Fill the tweet pool as responses would.
    for id in 1..=1024u32 {
        lane.on_response(0, 201, format!("{{\"id\": {id}}}").as_bytes());
    }
    let n = 1_000_000;
    let start = Instant::now();
    let mut bytes = 0usize;
    for _ in 0..n {
        let r = lane.next_request();
        bytes += r.path.len() + r.body.len();
    }
    std::hint::black_box(bytes);
    start.elapsed().as_nanos() as f64 / n as f64
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
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

    let scenario = twitter();
    let templated: Arc<dyn SourceFactory> =
        Arc::new(ScenarioSource::new(&scenario, per_day(&scenario)).expect("twitter templates"));
    let fixed: Arc<dyn SourceFactory> = Arc::new(fixed(&scenario));

    println!(
        "render only: templates {:.0} ns/request, fixed {:.0} ns/request",
        render_ns(templated.as_ref()),
        render_ns(fixed.as_ref())
    );
    println!("engine, closed model, {users} users, 1 thread, {secs} s per run, target {target}");
    let (mut t, mut f) = (Vec::new(), Vec::new());
    for pair in 1..=pairs {
        // Alternate the order so drift does not favour one side.
        let (a, b) = if pair % 2 == 1 {
            let a = measure(&target, templated.clone(), users, secs);
            (a, measure(&target, fixed.clone(), users, secs))
        } else {
            let b = measure(&target, fixed.clone(), users, secs);
            (measure(&target, templated.clone(), users, secs), b)
        };
        println!(
            "pair {pair}: templates {a:.0} req/s, fixed {b:.0} req/s, ratio {:.3}",
            a / b
        );
        t.push(a);
        f.push(b);
    }
    let (mt, mf) = (median(&mut t), median(&mut f));
    println!("median: templates {mt:.0} req/s, fixed {mf:.0} req/s, ratio {:.3} (templates cost {:.1}% of throughput)", mt / mf, (1.0 - mt / mf) * 100.0);
}
