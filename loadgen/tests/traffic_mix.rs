//! The action mix follows the estimator's requests/day (chi-square), deferral of actions whose
//! capture pool is empty, and reproducibility by seed.

mod traffic_common;

use loadgen::source::{RequestId, SourceFactory};
use traffic_common::*;

/// Chi-square critical value for 3 degrees of freedom at p = 0.001.
const CHI2_3DF_P001: f64 = 16.27;

fn four_actions() -> estimator::Scenario {
    scenario(
        vec![
            action(
                "home",
                60.0,
                request("GET", "/users/{{user}}/timeline", None),
            ),
            action("own", 25.0, request("GET", "/users/{{user}}/tweets", None)),
            action(
                "post",
                10.0,
                request(
                    "POST",
                    "/tweets",
                    Some(r#"{"user_id": {{user}}, "text": "{{text 40}}"}"#),
                ),
            ),
            action(
                "follow",
                5.0,
                request("PUT", "/users/{{user}}/follows/{{user}}", None),
            ),
        ],
        vec![zipf("user", 1000, 1.0)],
    )
}

fn chi_square(observed: &[u64], weights: &[f64]) -> f64 {
    let n: u64 = observed.iter().sum();
    observed
        .iter()
        .zip(weights)
        .map(|(&o, &w)| {
            let e = n as f64 * w;
            (o as f64 - e).powi(2) / e
        })
        .sum()
}

#[test]
fn observed_mix_matches_the_weights_by_chi_square() {
    let source = source(&four_actions()).unwrap();
    let weights: Vec<f64> = source.actions().iter().map(|a| a.weight).collect();
    assert_eq!(weights, [0.6, 0.25, 0.1, 0.05]);
    let mut counts = [0u64; 4];
    // Four lanes, as the engine would run them, 25K requests each.
    for index in 0..4u64 {
        let mut lane = source.lane(index as usize, 4, 42);
        for m in 0..25_000 {
            counts[lane.next_request(RequestId::new(42, index + 4 * m)).action] += 1;
        }
        assert_eq!(lane.deferred(), 0);
    }
    let chi2 = chi_square(&counts, &weights);
    assert!(chi2 < CHI2_3DF_P001, "chi2 {chi2} for {counts:?}");
    assert_eq!(
        source.describe_mix(),
        "home 60.0%, own 25.0%, post 10.0%, follow 5.0%"
    );
}

#[test]
fn actions_waiting_on_an_empty_pool_give_their_turn_away_and_are_counted() {
    let mut post = request("POST", "/tweets", Some(r#"{"user_id": {{user}}}"#));
    post.capture = vec![("tweet".into(), "id".into())];
    let s = scenario(
        vec![
            action("post", 10.0, post),
            action(
                "like",
                30.0,
                request("PUT", "/tweets/{{tweet}}/likes/{{user}}", None),
            ),
            action(
                "read",
                60.0,
                request("GET", "/users/{{user}}/timeline", None),
            ),
        ],
        vec![uniform("user", 10)],
    );
    let source = source(&s).unwrap();
    let mut lane = source.lane(0, 1, 1);
    let mut counts = [0u64; 3];
    let n = 20_000;
    for k in 0..n {
        counts[lane.next_request(RequestId::new(1, k)).action] += 1;
    }
    // `like` never goes; its 30% turns are redistributed 10:60 to the others.
    assert_eq!(counts[1], 0);
    let deferred = lane.deferred() as f64 / n as f64;
    assert!((deferred - 0.3).abs() < 0.02, "deferred share {deferred}");
    let chi2 = chi_square(&[counts[0], counts[2]], &[1.0 / 7.0, 6.0 / 7.0]);
    assert!(chi2 < 10.83, "chi2 {chi2} (1 df, p = 0.001) for {counts:?}");

    // Once the pool holds a value, `like` goes and draws it.
    assert_eq!(
        lane.on_response(0, 201, br#"{"id": 77}"#),
        loadgen::source::Verdict::Success
    );
    let likes: Vec<String> = (n..n + 200)
        .map(|k| lane.next_request(RequestId::new(1, k)))
        .filter(|r| r.action == 1)
        .map(|r| r.path)
        .collect();
    assert!(!likes.is_empty());
    assert!(
        likes.iter().all(|p| p.starts_with("/tweets/77/likes/")),
        "{likes:?}"
    );
}

fn sequence(seed: u64) -> Vec<(usize, String, Vec<u8>)> {
    let source = source(&four_actions()).unwrap();
    let mut lane = source.lane(1, 3, seed);
    (0..500)
        .map(|k| {
            let r = lane.next_request(RequestId::new(seed, k));
            (r.action, r.path, r.body.to_vec())
        })
        .collect()
}

#[test]
fn the_same_seed_gives_the_same_sequence() {
    assert_eq!(sequence(9), sequence(9));
    assert_ne!(sequence(9), sequence(10));
}

#[test]
fn seq_is_the_requests_number_unique_across_lanes() {
    let s = scenario(
        vec![action(
            "a",
            1.0,
            request("POST", "/x/{{seq}}", Some(r#"{"seq": {{seq}}}"#)),
        )],
        vec![],
    );
    let source = source(&s).unwrap();
    let mut seen = std::collections::BTreeSet::new();
    // Three lanes taking every third request, as the engine stripes them.
    for index in 0..3u64 {
        let mut lane = source.lane(index as usize, 3, 0);
        for m in 0..100 {
            let k = index + 3 * m;
            let r = lane.next_request(RequestId::new(0, k));
            assert_eq!(r.path, format!("/x/{}", k + 1));
            // Every `{{seq}}` of one request is the same number.
            assert_eq!(r.body, format!("{{\"seq\": {}}}", k + 1));
            assert!(seen.insert(r.path));
        }
    }
    assert_eq!(seen.len(), 300);
}

#[test]
fn a_request_is_the_same_whichever_lane_renders_it() {
    let source = source(&four_actions()).unwrap();
    let mut one = source.lane(0, 1, 5);
    let mut other = source.lane(7, 16, 5);
    for k in [0u64, 1, 2, 1000, 123_456_789] {
        let id = RequestId::new(5, k);
        assert_eq!(one.next_request(id), other.next_request(id), "request {k}");
    }
    // ... and a different seed draws differently.
    let mut drawn = |seed| {
        (0..50)
            .map(|k| one.next_request(RequestId::new(seed, k)).path)
            .collect::<Vec<_>>()
    };
    assert_ne!(drawn(5), drawn(6));
}
