//! Pins the exact requests a seed renders, so a refactor of how `request:` blocks are validated
//! and compiled cannot silently change the traffic `napkin load` sends. The expected sequences
//! in `tests/fixtures/` were rendered by the code before that refactor; a lane's requests depend
//! on its seed, its index and the responses it was told about, all fixed here.
//!
//! On a mismatch the rendered sequence is written next to the test binary's temp dir, so
//! `diff` shows what changed.

use std::fmt::Write as _;
use std::path::Path;

use loadgen::source::{RequestSource, SourceFactory};
use loadgen::traffic::ScenarioSource;

/// Renders `count` requests of one lane, answering each as the reference server would (POST:
/// 201 with a fresh id from `id`, PUT: 204, others: 200), and lists them one per line.
fn render(lane: &mut dyn RequestSource, count: usize, id: &mut dyn FnMut(u64) -> String) -> String {
    let mut out = String::new();
    for n in 0..count as u64 {
        let r = lane.next_request();
        let headers: Vec<String> = r
            .headers
            .iter()
            .map(|(k, v)| format!("{k}={}", String::from_utf8_lossy(v.as_bytes())))
            .collect();
        let (status, body) = match r.method.as_str() {
            "POST" => (201, format!("{{\"id\": {}}}", id(n))),
            "PUT" => (204, String::new()),
            _ => (200, "[]".to_owned()),
        };
        let verdict = lane.on_response(r.action, status, body.as_bytes());
        writeln!(
            out,
            "{} {} {} [{}] {} -> {verdict:?}",
            r.action,
            r.method,
            r.path,
            headers.join(";"),
            String::from_utf8_lossy(&r.body)
        )
        .unwrap();
    }
    writeln!(out, "deferred {}", lane.deferred()).unwrap();
    out
}

fn check(name: &str, rendered: &str) {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let expected = std::fs::read_to_string(&fixture).unwrap_or_default();
    if expected != rendered {
        let actual = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
        std::fs::write(&actual, rendered).unwrap();
        panic!(
            "the rendered requests differ from {}; see `diff {} {}`",
            fixture.display(),
            fixture.display(),
            actual.display()
        );
    }
}

#[test]
fn twitter_requests_for_seed_1_are_unchanged() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/twitter.yaml");
    let scenario = estimator::load_file(&file, &[]).unwrap();
    let source = ScenarioSource::from_scenario(&scenario).unwrap();
    // The scenario's own 16 connections (one lane each); the first and the last lane.
    let mut rendered = String::new();
    for index in [0, 15] {
        let mut lane = source.lane(index, 16, 1);
        rendered += &render(lane.as_mut(), 300, &mut |n| {
            (n * 7919 % 100_003).to_string()
        });
    }
    check("twitter_seed1.txt", &rendered);
}

/// Every kind of segment (key, pool, text, int, seq, literal), in path, header and body, with
/// captured strings that need escaping in each place.
const EVERY_SEGMENT: &str = r#"
name: every_segment
actions:
  - name: post
    per_day: 30
    request:
      method: POST
      path: /items/{{text 12}}?n={{int -5 5}}&s={{seq}}
      headers: {content-type: application/json, x-user: 'u{{user}}-{{int 1 3}}'}
      body: '{"owner": {{owner}}, "note": "{{text 30}}", "seq": {{seq}}}'
      capture: {item: id}
      expect: [201]
  - name: read
    per_day: 50
    request:
      method: GET
      path: /items/{{item}}/by/{{owner}}
      headers: {x-item: '{{item}}'}
  - name: edit
    per_day: 20
    request:
      method: PUT
      path: /items/{{item}}
      body: '{"item": "{{item}}", "v": {{int 0 1000000}}}'
load:
  keys:
    user: {count: 50, distribution: uniform}
    owner: {count: 1000, distribution: zipf, exponent: 1.2}
"#;

#[test]
fn every_segment_kind_for_seed_9_is_unchanged() {
    let scenario = estimator::parse_str(EVERY_SEGMENT, "every_segment.yaml", &[]).unwrap();
    let source = ScenarioSource::from_scenario(&scenario).unwrap();
    let mut lane = source.lane(1, 3, 9);
    // Captured ids are strings with characters each context escapes differently.
    let rendered = render(lane.as_mut(), 200, &mut |n| {
        format!("\"a b/\\\"{n}\\\\\\n\"")
    });
    check("every_segment_seed9.txt", &rendered);
}
