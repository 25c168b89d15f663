//! `napkin estimate` in-process through `napkin::run`: the three formats of a bundled scenario
//! (insta snapshots), several files side by side, `--set` what-ifs.

use clap::Parser;
use napkin::{exit, run, Cli};

fn estimate(args: &[&str]) -> String {
    let mut argv = vec!["napkin", "estimate"];
    argv.extend_from_slice(args);
    let cli = Cli::try_parse_from(argv).unwrap();
    let mut out = Vec::new();
    let code = run(cli, &mut out).unwrap();
    assert_eq!(code, exit::OK);
    String::from_utf8(out).unwrap()
}

#[test]
fn table_of_twitter() {
    let out = estimate(&["scenarios/twitter.yaml"]);
    // Hand check of the headline figures (see the scenario's comments):
    // post_tweet 200M x 0.5 = 100M/day = 1,157/s avg, 2,315/s peak.
    assert!(
        out.contains("│ post_tweet         ┆ write ┆ 100 M/day ┆  1.2 K/s ┆   2.3 K/s"),
        "{out}"
    );
    insta::assert_snapshot!("estimate_twitter_table", out);
}

#[test]
fn json_of_twitter() {
    let out = estimate(&["scenarios/twitter.yaml", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["scenario"], "twitter");
    assert_eq!(v["actions"][0]["requests_per_day"], 1e8);
    // 3 copies of 4.04 TB/day for 5 years at 70% fill.
    let stored = v["totals"]["stored_bytes_per_day"].as_f64().unwrap();
    let storage = v["totals"]["storage_bytes"].as_f64().unwrap();
    assert!((storage - stored * 1825.0 * 3.0 / 0.7).abs() < 1.0);
    insta::assert_snapshot!("estimate_twitter_json", out);
}

#[test]
fn markdown_of_twitter() {
    let out = estimate(&["scenarios/twitter.yaml", "--format", "markdown"]);
    assert!(out.starts_with("### Actions of twitter"), "{out}");
    assert!(out.contains("| post_tweet "), "{out}");
    insta::assert_snapshot!("estimate_twitter_markdown", out);
}

#[test]
fn several_files_side_by_side() {
    let out = estimate(&["scenarios/twitter.yaml", "scenarios/url-shortener.yaml"]);
    let header = out
        .lines()
        .skip_while(|l| !l.starts_with("Totals"))
        .nth(2)
        .unwrap();
    assert!(
        header.contains("twitter") && header.contains("url-shortener"),
        "{header}"
    );
    assert!(out.contains("Actions of twitter") && out.contains("Actions of url-shortener"));

    let json = estimate(&[
        "scenarios/twitter.yaml",
        "scenarios/url-shortener.yaml",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let names: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["scenario"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["twitter", "url-shortener"]);
}

#[test]
fn set_overrides_a_value() {
    let json = estimate(&[
        "scenarios/twitter.yaml",
        "--format",
        "json",
        "--set",
        "users.daily_active=400M",
        "--set",
        "actions.post_tweet.per_user_per_day=1",
    ]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["actions"][0]["requests_per_day"], 4e8); // 400M x 1
    assert_eq!(v["actions"][1]["requests_per_day"], 4e9); // 400M x 10
    assert_eq!(v["actions"][2]["requests_per_day"], 1e9); // 0.25 x home timeline
}

#[test]
fn every_bundled_scenario_estimates() {
    for f in std::fs::read_dir("scenarios").unwrap() {
        let p = f.unwrap().path();
        let out = estimate(&[p.to_str().unwrap(), "--format", "json"]);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert!(
            v["totals"]["peak_rps"].as_f64().unwrap() > 0.0,
            "{}",
            p.display()
        );
    }
}
