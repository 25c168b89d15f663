//! The `load:` and `request:` blocks as the load generator sees them, and SLO files for
//! `napkin check --slo`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use estimator::*;

fn scenario(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios")
        .join(name)
}

#[test]
fn twitter_load_block_is_the_short_demo() {
    let s = load_file(&scenario("twitter.yaml"), &[]).unwrap();
    let l = &s.load;
    assert_eq!(l.target, None);
    assert_eq!(
        l.keys,
        vec![KeySpace {
            name: "user".into(),
            count: 10_000,
            distribution: KeyDistribution::Zipf { exponent: 1.0 }
        }]
    );
    assert_eq!(l.model, Some(LoadModel::Rate(500.0)));
    assert_eq!(l.arrivals, Arrivals::Uniform);
    assert_eq!(l.duration, Duration::from_secs(10));
    assert_eq!(l.warmup, Duration::from_secs(2));
    assert_eq!(l.connections, 16);
    assert_eq!(l.timeout, Duration::from_secs(5));
    assert_eq!(
        l.slo,
        SloSpec {
            scopes: vec![SloScope {
                scope: "all".into(),
                thresholds: vec![
                    Threshold {
                        metric: SloMetric::P99,
                        limit: 100_000.0
                    },
                    Threshold {
                        metric: SloMetric::ErrorRate,
                        limit: 0.01
                    },
                ]
            }]
        }
    );
}

#[test]
fn twitter_requests_match_the_reference_api() {
    let s = load_file(&scenario("twitter.yaml"), &[]).unwrap();
    let req = |i: usize| s.actions[i].request.clone().unwrap();
    let post = req(0);
    assert_eq!(post.method, Method::POST);
    assert_eq!(post.path.text(), "/tweets");
    assert_eq!(
        post.headers,
        vec![(
            HeaderName::from_static("content-type"),
            HeaderPart::Fixed(HeaderValue::from_static("application/json"))
        )]
    );
    assert_eq!(
        post.body.as_ref().map(Template::text),
        Some(r#"{"user_id": {{user}}, "text": "{{text 140}}"}"#)
    );
    assert_eq!(
        post.body.as_ref().unwrap().segments()[1..4],
        [
            Segment::Key(0),
            Segment::Literal(20, 31),
            Segment::Text(140)
        ]
    );
    assert_eq!(
        post.body.as_ref().unwrap().literal(20, 31),
        br#", "text": ""#
    );
    assert_eq!(s.load.pools, vec!["tweet".to_string()]);
    assert_eq!(
        post.capture,
        vec![Capture {
            pool: 0,
            field: vec!["id".into()]
        }]
    );
    assert_eq!(post.expect, vec![201]);
    assert_eq!(req(1).path.text(), "/users/{{user}}/timeline?limit=20");
    assert!(req(1).expect.is_empty());
    assert_eq!(req(2).path.text(), "/users/{{user}}/tweets?limit=20");
    assert_eq!(
        (req(3).method, req(3).expect.as_slice()),
        (Method::PUT, &[204u16][..])
    );
    assert_eq!(req(3).path.text(), "/tweets/{{tweet}}/likes/{{user}}");
    assert_eq!(req(3).pools_drawn(), vec![0]);
    assert_eq!(req(4).path.text(), "/users/{{user}}/follows/{{user}}");
    assert!(req(4).pools_drawn().is_empty());
}

/// The 1-based line of the first line of `text` that contains `needle`, and the column
/// where `value` starts on it.
fn line_col(text: &str, needle: &str, value: &str) -> (usize, usize) {
    let (i, line) = text
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains(needle))
        .expect("needle in the file");
    (i + 1, line.find(value).expect("value on the line") + 1)
}

/// Template errors in the twitter file point at the template's field: the path, the body and
/// the content-type header value of `post_tweet` (positions found in the file, so that
/// editing the scenario's comments does not break the test).
#[test]
fn twitter_template_errors_point_at_their_field() {
    let file = scenario("twitter.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    let origin = file.display().to_string();
    for (from, to, field, pos) in [
        (
            "path: /tweets\n",
            "path: /tweets/{{nope}}\n",
            "path",
            line_col(&text, "path: /tweets", "/tweets"),
        ),
        (
            "{{user}}, \"text\"",
            "{{usr}}, \"text\"",
            "body",
            line_col(&text, "body: '{\"user_id\"", "'{"),
        ),
        (
            "{content-type: application/json}",
            "{content-type: 'application/{{nope}}'}",
            "headers.content-type",
            line_col(&text, "{content-type: application/json}", "application"),
        ),
    ] {
        assert!(text.contains(from), "{from}");
        let bad = text.replacen(from, to, 1);
        let e = parse_str(&bad, &origin, &[]).unwrap_err();
        assert_eq!(
            e.field.as_deref(),
            Some(format!("actions[0].request.{field}").as_str())
        );
        assert_eq!((e.line, e.column), (Some(pos.0), Some(pos.1)), "{e}");
        assert!(
            e.message
                .starts_with("action `post_tweet`: unknown template name"),
            "{e}"
        );
    }
}

#[test]
fn load_defaults_and_normalisation() {
    let text = "name: t\nactions:\n  - name: a\n    per_day: 1\n    request: {method: get, path: /x, headers: {X-Trace: 1}}\nload:\n  target: http://127.0.0.1:9000/\n  scale: 0.01%\n  arrivals: poisson\n  keys: {item: {count: 1M}}\n  stages: [{duration: 10s, rate: 50}, {duration: 20s, rate: 100}]\n";
    let s = parse_str(text, "t.yaml", &[]).unwrap();
    let r = s.actions[0].request.as_ref().unwrap();
    assert_eq!(r.method, Method::GET);
    assert_eq!(
        r.headers,
        vec![(
            HeaderName::from_static("x-trace"),
            HeaderPart::Fixed(HeaderValue::from_static("1"))
        )]
    );
    let l = &s.load;
    assert_eq!(l.target.as_deref(), Some("http://127.0.0.1:9000"));
    assert_eq!(l.model, Some(LoadModel::Scale(1e-4)));
    assert_eq!(l.arrivals, Arrivals::Poisson);
    assert_eq!(l.keys[0].distribution, KeyDistribution::Uniform);
    assert_eq!(l.stages.len(), 2);
    // Without `duration`, a staged run lasts as long as its stages.
    assert_eq!(l.duration, Duration::from_secs(30));
    assert_eq!(l.connections, 64);

    let none = parse_str("name: t\nactions: [{name: a, per_day: 1}]\n", "t.yaml", &[]).unwrap();
    assert_eq!(none.load, LoadSpec::default());
}

#[test]
fn slo_files_are_scenarios_or_bare_slo_blocks() {
    let from_scenario = load_slo_file(&scenario("twitter.yaml")).unwrap();
    assert_eq!(from_scenario.scopes[0].scope, "all");

    let dir = tempfile_dir();
    let bare = dir.join("slo.yaml");
    std::fs::write(
        &bare,
        "slo:\n  all: {p999: 1s, min_rps: 1K}\n  post_tweet: {mean: 5ms}\n",
    )
    .unwrap();
    let slo = load_slo_file(&bare).unwrap();
    assert_eq!(slo.scopes.len(), 2);
    assert_eq!(
        slo.scopes[0].thresholds,
        vec![
            Threshold {
                metric: SloMetric::P999,
                limit: 1e6
            },
            Threshold {
                metric: SloMetric::MinRps,
                limit: 1000.0
            },
        ]
    );
    assert_eq!(slo.scopes[1].thresholds[0].limit, 5000.0);

    std::fs::write(&bare, "slo:\n  all: {p99: fast}\n").unwrap();
    let e = load_slo_file(&bare).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("slo.all.p99"));
    assert_eq!((e.line, e.column), (Some(2), Some(14)));
    std::fs::write(&bare, "gates: {}\n").unwrap();
    let e = load_slo_file(&bare).unwrap_err();
    assert!(e.to_string().contains("unknown field `gates`"), "{e}");
    let e = load_slo_file(&dir.join("missing.yaml")).unwrap_err();
    assert!(e.to_string().contains("cannot read the file"), "{e}");
}

/// A fresh directory under the target dir (estimator has no tempfile dependency).
fn tempfile_dir() -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("slo-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}
