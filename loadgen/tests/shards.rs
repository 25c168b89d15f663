//! Shards are exact (SPEC section 10), read from the schedule the engine runs: for uniform,
//! Poisson and staged arrivals, the union over N shards of every intended send time and the
//! request rendered for it equals, as a multiset, what the unsharded run intends, for any N;
//! offered counts in a window add up exactly; connections are divided with remainders to the
//! lowest indices. (tests/shards_cli.rs checks the same on the wire, against a recording
//! server.)

mod traffic_common;

use std::time::Duration;

use estimator::{Arrivals, Stage};
use loadgen::arrivals::build_schedule;
use loadgen::schedule::ScheduleSpec;
use loadgen::shard::{Shard, ShardSchedule};
use loadgen::source::{RequestId, RequestSource, SourceFactory};
use traffic_common::*;

const SEED: u64 = 77;
/// The run's connections: 11 divide evenly over none of the shard counts tried.
const CONNECTIONS: usize = 11;

/// Templates of every kind that does not depend on responses: keys, text, ints, seq.
fn traffic() -> loadgen::traffic::ScenarioSource {
    let s = scenario(
        vec![
            action(
                "read",
                60.0,
                request("GET", "/users/{{user}}/timeline?n={{int 1 20}}", None),
            ),
            action(
                "post",
                30.0,
                request(
                    "POST",
                    "/tweets",
                    Some(r#"{"user_id": {{user}}, "text": "{{text 40}}", "seq": {{seq}}}"#),
                ),
            ),
            action("item", 10.0, request("GET", "/items/{{item}}", None)),
        ],
        vec![zipf("user", 10_000, 1.1), uniform("item", 50)],
    );
    source(&s).unwrap()
}

/// Every request shard `shard` intends before `until`: (offset in ns, rendered request), each
/// rendered by the source of the lane that sends it.
fn intended(
    spec: &dyn ScheduleSpec,
    factory: &dyn SourceFactory,
    shard: Shard,
    until: Duration,
) -> Vec<(u128, String)> {
    let lanes = shard.checked_share(CONNECTIONS, "connections").unwrap();
    let mut sources: Vec<Box<dyn RequestSource>> = (0..lanes)
        .map(|j| factory.lane(shard.global_lane(j) as usize, CONNECTIONS, SEED))
        .collect();
    let mut out = Vec::new();
    let mut per_lane = vec![0u64; lanes];
    for e in ShardSchedule::new(spec, shard, lanes) {
        if e.offset >= until {
            break;
        }
        assert!(shard.owns(e.k));
        // Each lane takes its requests in order.
        assert_eq!(e.ordinal, per_lane[e.lane]);
        per_lane[e.lane] += 1;
        let r = sources[e.lane].next_request(RequestId::new(SEED, e.k));
        let body = String::from_utf8_lossy(&r.body).into_owned();
        out.push((
            e.offset.as_nanos(),
            format!("{} {} {body}", r.method, r.path),
        ));
    }
    out
}

/// The union of `n` shards' intended requests, sorted (a multiset).
fn union(spec: &dyn ScheduleSpec, n: u32, until: Duration) -> Vec<(u128, String)> {
    let factory = traffic();
    let mut all: Vec<(u128, String)> = (0..n)
        .flat_map(|i| intended(spec, &factory, Shard::new(i, n).unwrap(), until))
        .collect();
    all.sort();
    all
}

fn assert_exact(spec: &dyn ScheduleSpec, until: Duration, expect_about: usize) {
    let whole = union(spec, 1, until);
    assert!(
        whole.len().abs_diff(expect_about) <= expect_about / 10,
        "{} requests, expected about {expect_about}",
        whole.len()
    );
    for n in [2, 3, 4, 7] {
        let sharded = union(spec, n, until);
        assert_eq!(sharded.len(), whole.len(), "{n} shards: count");
        if let Some(i) = (0..whole.len()).find(|&i| sharded[i] != whole[i]) {
            panic!(
                "{n} shards differ from the unsharded run at {i}: {:?} vs {:?}",
                sharded[i], whole[i]
            );
        }
    }
}

#[test]
fn uniform_shards_intend_exactly_the_unsharded_requests() {
    let spec = build_schedule(Arrivals::Uniform, &[], Some(500.0), SEED).unwrap();
    assert_exact(spec.as_ref(), Duration::from_secs(4), 2000);
}

#[test]
fn poisson_shards_intend_exactly_the_unsharded_requests() {
    let spec = build_schedule(Arrivals::Poisson, &[], Some(500.0), SEED).unwrap();
    assert_exact(spec.as_ref(), Duration::from_secs(4), 2000);
}

fn ramp() -> Vec<Stage> {
    vec![
        Stage {
            duration: Duration::from_secs(2),
            rate: 600.0,
        },
        Stage {
            duration: Duration::from_secs(2),
            rate: 200.0,
        },
    ]
}

#[test]
fn staged_shards_intend_exactly_the_unsharded_requests() {
    // 0 -> 600/s over 2 s, then down to 200/s over 2 s: 600 + 800 requests.
    let uniform = build_schedule(Arrivals::Uniform, &ramp(), None, SEED).unwrap();
    assert_exact(uniform.as_ref(), Duration::from_secs(4), 1400);
    let poisson = build_schedule(Arrivals::Poisson, &ramp(), None, SEED).unwrap();
    assert_exact(poisson.as_ref(), Duration::from_secs(4), 1400);
}

#[test]
fn offered_counts_in_a_window_add_up_exactly() {
    let window = |e: &loadgen::shard::Entry| {
        e.offset >= Duration::from_millis(1500) && e.offset < Duration::from_millis(3700)
    };
    for (arrivals, stages, rate) in [
        (Arrivals::Uniform, vec![], Some(333.0)),
        (Arrivals::Poisson, vec![], Some(333.0)),
        (Arrivals::Poisson, ramp(), None),
    ] {
        let spec = build_schedule(arrivals, &stages, rate, SEED).unwrap();
        let offered = |shard: Shard| {
            let lanes = shard.share(CONNECTIONS);
            ShardSchedule::new(spec.as_ref(), shard, lanes)
                .take_while(|e| e.offset < Duration::from_secs(4))
                .filter(window)
                .count()
        };
        let whole = offered(Shard::WHOLE);
        for n in [2u32, 3, 5] {
            let parts: Vec<usize> = (0..n).map(|i| offered(Shard::new(i, n).unwrap())).collect();
            assert_eq!(
                parts.iter().sum::<usize>(),
                whole,
                "{arrivals:?}, {n} shards"
            );
            // Striped by k mod N: no shard is more than one request off its share.
            let (min, max) = (parts.iter().min().unwrap(), parts.iter().max().unwrap());
            assert!(max - min <= 1, "{parts:?}");
        }
    }
}

#[test]
fn a_poisson_run_is_one_process_at_the_full_rate() {
    // 10 shards together: one Poisson process of 1000/s (CV of the gaps 1, count ~ 20000).
    let spec = build_schedule(Arrivals::Poisson, &[], Some(1000.0), 5).unwrap();
    let times: Vec<f64> = union(spec.as_ref(), 10, Duration::from_secs(20))
        .iter()
        .map(|(ns, _)| *ns as f64 / 1e9)
        .collect();
    let gaps: Vec<f64> = times.windows(2).map(|w| w[1] - w[0]).collect();
    let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
    let sd = (gaps.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / gaps.len() as f64).sqrt();
    assert!((sd / mean - 1.0).abs() < 0.03, "cv {}", sd / mean);
    // Poisson(20000): sd 141; 5 sd.
    assert!(
        (times.len() as f64 - 20_000.0).abs() < 710.0,
        "{}",
        times.len()
    );
}
