//! Property: random method/path/query/body combinations never get a 5xx, every error is a JSON
//! `{"error": ...}`, and the server keeps answering.

mod common;

use std::cell::RefCell;

use common::{small, start};
use proptest::prelude::*;
use proptest::test_runner::{Config as PropConfig, TestRunner};
use server::{Config, Strategy as Timeline};

fn method() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS",
    ])
    .prop_map(str::to_owned)
}

fn path() -> impl Strategy<Value = String> {
    let segment = prop::sample::select(vec![
        "users",
        "tweets",
        "follows",
        "likes",
        "timeline",
        "healthz",
        "metrics",
        "1",
        "2",
        "0",
        "999",
        "abc",
        "-1",
        "%20",
        "18446744073709551616",
        "4294967296",
        "",
    ]);
    let query = prop::option::of(prop::sample::select(vec![
        "limit=1",
        "limit=0",
        "limit=500",
        "before=3",
        "before=x",
        "limit=2&before=2",
        "&&=",
        "limit",
    ]));
    (prop::collection::vec(segment, 0..5), query).prop_map(|(segs, q)| {
        let mut p = format!("/{}", segs.join("/"));
        if let Some(q) = q {
            p.push('?');
            p.push_str(q);
        }
        p
    })
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..64),
        Just(br#"{"name": "x"}"#.to_vec()),
        Just(br#"{"user_id": 1, "text": "hi"}"#.to_vec()),
        (any::<u64>(), "[ -~]{0,300}").prop_map(|(id, text)| {
            serde_json::json!({"user_id": id % 5, "text": text})
                .to_string()
                .into_bytes()
        }),
        "[ -~]{0,40}".prop_map(String::into_bytes),
    ]
}

#[test]
fn random_requests_never_get_a_5xx() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let config = Config {
        seed_users: 3,
        seed_follows: 2,
        seed_tweets: 2,
        ..small(Timeline::Hybrid)
    };
    let srv = rt.block_on(start(config));
    let client = RefCell::new(rt.block_on(srv.client()));
    let mut runner = TestRunner::new(PropConfig {
        cases: 300,
        failure_persistence: None,
        ..PropConfig::default()
    });
    runner
        .run(&(method(), path(), body()), |(m, p, b)| {
            let r = rt.block_on(client.borrow_mut().send_bytes(&m, &p, b));
            prop_assert!(r.status < 500, "{m} {p}: {} {}", r.status, r.text);
            if r.status >= 400 && m != "HEAD" {
                prop_assert!(r.json["error"].is_string(), "{m} {p}: {}", r.text);
            }
            Ok(())
        })
        .unwrap();
    let r = rt.block_on(client.borrow_mut().get("/healthz"));
    assert_eq!(r.status, 200);
    rt.block_on(srv.stop());
}
