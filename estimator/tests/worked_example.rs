//! The README's worked example (`scenarios/photos.yaml`) against a hand calculation.

use std::path::Path;

use estimator::{estimate, load_file, ActionKind, Override};

fn close(got: f64, want: f64, what: &str) {
    let tol = want.abs() * 1e-9 + 1e-9;
    assert!((got - want).abs() <= tol, "{what}: got {got}, want {want}");
}

fn photos() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/photos.yaml")
}

#[test]
fn photos_matches_the_hand_calculation() {
    let s = load_file(&photos(), &[]).unwrap();
    let e = estimate(&s);

    // upload: 10M users x 0.1/day = 1,000,000 requests/day.
    // Mean upload = 1 KB + 0.5 x 2 MB = 1,000 + 1,000,000 = 1,001,000 B.
    let upload = &e.actions[0];
    assert_eq!(upload.name, "upload");
    assert_eq!(upload.kind, ActionKind::Write); // it stores bytes
    close(upload.requests_per_day, 1_000_000.0, "upload/day");
    close(upload.avg_rps, 1_000_000.0 / 86_400.0, "upload avg"); // 11.574/s
    close(upload.peak_rps, 3.0 * 1_000_000.0 / 86_400.0, "upload peak"); // 34.72/s
    close(
        upload.ingress_bytes_per_sec,
        1_000_000.0 / 86_400.0 * 1_001_000.0,
        "upload in",
    ); // 11.59 MB/s
    close(upload.egress_bytes_per_sec, 0.0, "upload out");
    close(
        upload.stored_bytes_per_day,
        1_001_000.0 * 1_000_000.0,
        "upload stored",
    ); // 1.001 TB

    // view: 100 x upload = 100,000,000/day = 1,157.4/s; each sends 1,001,000 B.
    let view = &e.actions[1];
    assert_eq!(view.kind, ActionKind::Read);
    close(view.requests_per_day, 100_000_000.0, "view/day");
    close(view.avg_rps, 100_000_000.0 / 86_400.0, "view avg");
    close(
        view.egress_bytes_per_sec,
        100_000_000.0 / 86_400.0 * 1_001_000.0,
        "view out",
    ); // 1.159 GB/s

    let t = &e.totals;
    close(t.requests_per_day, 101_000_000.0, "total/day");
    close(t.avg_rps, 101_000_000.0 / 86_400.0, "avg"); // 1,168.98/s
    close(t.peak_rps, 3.0 * 101_000_000.0 / 86_400.0, "peak"); // 3,506.9/s
    close(t.read_rps, 100_000_000.0 / 86_400.0, "read");
    close(t.write_rps, 1_000_000.0 / 86_400.0, "write");
    close(
        t.peak_egress_bytes_per_sec,
        3.0 * 100_000_000.0 / 86_400.0 * 1_001_000.0,
        "peak out",
    ); // 3.48 GB/s
    close(
        t.peak_ingress_bytes_per_sec,
        3.0 * 1_000_000.0 / 86_400.0 * 1_001_000.0,
        "peak in",
    );
    close(t.stored_bytes_per_day, 1.001e12, "stored/day");
    // storage = 1.001 TB/day x 365 d x 3 copies / 0.5 fill = 2,192.19 TB.
    close(t.storage_bytes, 1.001e12 * 365.0 * 3.0 / 0.5, "storage");
    // cache = 10% x (1e8 views x 1,001,000 B) + 1 day x 1.001 TB = 10.01 TB + 1.001 TB.
    close(t.cache_bytes, 0.1 * 1e8 * 1_001_000.0 + 1.001e12, "cache");

    // servers: ceil(3,506.9 / 1,000) = 4; ceil(2,192.19 TB / 10 TB) = 220;
    // ceil(11.011 TB / 100 GB) = 111.
    assert_eq!(e.servers.app, Some(4));
    assert_eq!(e.servers.storage, Some(220));
    assert_eq!(e.servers.cache, Some(111));
}

#[test]
fn overrides_answer_what_if_questions() {
    let set = [Override::parse("users.daily_active=20M").unwrap()];
    let e = estimate(&load_file(&photos(), &set).unwrap());
    // Twice the users: twice every rate, and the relative action follows.
    close(e.actions[0].requests_per_day, 2_000_000.0, "upload/day");
    close(e.actions[1].requests_per_day, 200_000_000.0, "view/day");
}

#[test]
fn servers_only_for_given_capacities_and_json_shape() {
    let text = "name: t\nactions:\n  - {name: a, per_second: 10, egress: 1KB}\n";
    let s = estimator::parse_str(text, "t.yaml", &[]).unwrap();
    let e = estimate(&s);
    let json = serde_json::to_value(&e).unwrap();
    assert_eq!(json["servers"], serde_json::json!({}));
    // Field order as in SPEC section 4 (serde_json::Value sorts keys, so check the text).
    let text = serde_json::to_string(&e).unwrap();
    assert!(
        text.starts_with(r#"{"scenario":"t","actions":[{"name":"a","kind":"read","requests_per_day":864000.0,"avg_rps":10.0,"peak_rps":10.0,"ingress_bytes_per_sec":0.0,"egress_bytes_per_sec":10000.0,"stored_bytes_per_day":0.0}],"totals":{"requests_per_day""#),
        "{text}"
    );
    let mut action_keys: Vec<&str> = json["actions"][0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        action_keys,
        [
            "avg_rps",
            "egress_bytes_per_sec",
            "ingress_bytes_per_sec",
            "kind",
            "name",
            "peak_rps",
            "requests_per_day",
            "stored_bytes_per_day"
        ]
    );
    action_keys.sort_unstable();
    let mut total_keys: Vec<&str> = json["totals"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    total_keys.sort_unstable();
    assert_eq!(
        total_keys,
        [
            "avg_rps",
            "cache_bytes",
            "egress_bytes_per_sec",
            "ingress_bytes_per_sec",
            "peak_egress_bytes_per_sec",
            "peak_ingress_bytes_per_sec",
            "peak_rps",
            "read_rps",
            "requests_per_day",
            "storage_bytes",
            "stored_bytes_per_day",
            "write_rps"
        ]
    );
    assert_eq!(json["actions"][0]["kind"], "read");
    assert_eq!(json["totals"]["requests_per_day"], 864_000.0);
    // Defaults: 1 y retention, 1 copy, full disks, no cache.
    assert_eq!(json["totals"]["storage_bytes"], 0.0);
}

#[test]
fn relative_rates_resolve_in_any_order() {
    let text = "name: t\nactions:\n  - {name: c, relative: {to: b, factor: 2}}\n  - {name: b, relative: {to: a, factor: 3}}\n  - {name: a, per_month: 30}\n";
    let e = estimate(&estimator::parse_str(text, "t.yaml", &[]).unwrap());
    let per_day: Vec<f64> = e.actions.iter().map(|a| a.requests_per_day).collect();
    assert_eq!(per_day, [6.0, 3.0, 1.0]);
}

#[test]
fn anchors_aliases_and_merge_keys() {
    let text = "name: t\nactions:\n  - &base {name: a, per_day: 10, egress: &e 1KB}\n  - <<: *base\n    name: b\n    ingress: *e\n";
    let s = estimator::parse_str(text, "t.yaml", &[]).unwrap();
    assert_eq!(s.actions[1].name, "b");
    assert_eq!(s.actions[1].rate, estimator::Rate::PerDay(10.0));
    assert_eq!(s.actions[1].ingress.mean_bytes(), 1000.0);
    assert_eq!(s.actions[1].egress.mean_bytes(), 1000.0);
}
