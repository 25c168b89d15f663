//! The test-support `FixedFactory` (tests/common/fixed.rs) that engine tests drive: it picks
//! actions by weight, judges statuses by `expect`, and request n is picked the same in every
//! lane.

mod common;

use common::fixed::{FixedAction, FixedError, FixedFactory};
use loadgen::source::{RequestId, SourceFactory, Verdict};

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
    let hits = (0..n)
        .filter(|&k| lane.next_request(RequestId::new(7, k)).action == 0)
        .count();
    let share = hits as f64 / n as f64;
    assert!((share - 0.75).abs() < 0.02, "{share}");
    let r = lane.next_request(RequestId::new(7, n));
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
fn a_request_is_picked_the_same_in_any_lane() {
    let a = action("a", 1.0, hyper::Method::POST);
    let b = action("b", 1.0, hyper::Method::GET);
    let f = FixedFactory::new(vec![a, b]).unwrap();
    let (mut one, mut other) = (f.lane(0, 1, 3), f.lane(5, 8, 3));
    let picks = |lane: &mut Box<dyn loadgen::source::RequestSource>, seed| {
        (0..200)
            .map(|k| lane.next_request(RequestId::new(seed, k)).action)
            .collect::<Vec<_>>()
    };
    assert_eq!(picks(&mut one, 3), picks(&mut other, 3));
    assert_ne!(picks(&mut one, 3), picks(&mut one, 4));
}
