//! The test-support `FixedFactory` (tests/common/fixed.rs) that engine tests drive: it picks
//! actions by weight, judges statuses by `expect`, and its lane streams are not the arrival
//! schedules' streams of the same seed.

mod common;

use common::fixed::{lane_seed, FixedAction, FixedError, FixedFactory};
use loadgen::source::{SourceFactory, Verdict};
use rand::rngs::SmallRng;
use rand::{RngCore, SeedableRng};

fn action(name: &str, weight: f64, method: hyper::Method) -> FixedAction {
    FixedAction {
        name: name.into(),
        weight,
        method,
        path: format!("/{name}"),
        headers: vec![(
            hyper::header::CONTENT_TYPE,
            hyper::header::HeaderValue::from_static("application/json"),
        )],
        body: bytes::Bytes::from_static(b"{}"),
        expect: vec![201],
    }
}

#[test]
fn picks_actions_by_weight_and_checks_expect() {
    let a = action("a", 3.0, hyper::Method::POST);
    let b = action("b", 1.0, hyper::Method::GET);
    let f = FixedFactory::new(vec![a, b]).unwrap();
    assert_eq!(f.actions()[0].weight, 0.75);
    let mut lane = f.lane(0, 1, 7);
    let n = 20_000;
    let hits = (0..n).filter(|_| lane.next_request().action == 0).count();
    let share = hits as f64 / n as f64;
    assert!((share - 0.75).abs() < 0.02, "{share}");
    let r = lane.next_request();
    assert_eq!(r.headers.len(), 1);
    assert_eq!(lane.on_response(0, 201, b""), Verdict::Success);
    assert_eq!(lane.on_response(0, 200, b""), Verdict::BadStatus);
    assert_eq!(
        FixedFactory::new(vec![]).unwrap_err(),
        FixedError::NoRequests
    );
    let zero = action("z", 0.0, hyper::Method::GET);
    assert_eq!(
        FixedFactory::new(vec![zero]).unwrap_err(),
        FixedError::ZeroWeights
    );
}

#[test]
fn lane_streams_differ_from_the_arrival_streams_of_the_same_seed() {
    for seed in [0, 1, 7, u64::MAX] {
        let arrivals: Vec<u64> = (0..64)
            .map(|j| loadgen::arrivals::lane_rng(seed, j).next_u64())
            .collect();
        for i in 0..64 {
            let first = SmallRng::seed_from_u64(lane_seed(seed, i)).next_u64();
            assert!(!arrivals.contains(&first), "seed {seed}, lane {i}");
        }
    }
}
