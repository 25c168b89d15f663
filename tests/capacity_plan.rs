//! `napkin estimate` plans the app tier: the Google SRE book's worked example (N+2, and a
//! region on N+1), and `--capacity capacity.json` replacing `capacity.rps_per_server` with a
//! measured `max_rps`, named in the table and the JSON; bad capacity files exit 2.

use clap::Parser;
use napkin::{exit, run, Cli};

fn estimate(args: &[&str]) -> Result<(u8, String), (u8, String)> {
    let mut argv = vec!["napkin", "estimate"];
    argv.extend_from_slice(args);
    let cli = Cli::try_parse_from(argv).unwrap();
    let mut out = Vec::new();
    match run(cli, &mut out) {
        Ok(code) => Ok((code, String::from_utf8(out).unwrap())),
        Err(e) => Err((exit::code_of(&e), format!("{e:#}"))),
    }
}

/// The SRE book's service: 3,470 QPS at peak (1,735 average x 2), 100 QPS per task.
const SRE_BOOK: &str = "name: shakespeare\n\
    peak_factor: 2\n\
    capacity: {rps_per_server: 100, redundancy: 2}\n\
    actions:\n  - {name: search, per_second: 1735}\n";

const REGIONS: &str = "regions:\n\
    \x20 - {name: north_america, share: 41.2%}\n\
    \x20 - {name: europe, share: 40.3%}\n\
    \x20 - {name: asia, share: 10.1%}\n\
    \x20 - {name: south_america, share: 8.4%, redundancy: 1}\n";

fn json_of(dir: &tempfile::TempDir, text: &str, extra: &[&str]) -> serde_json::Value {
    let path = dir.path().join("s.yaml");
    std::fs::write(&path, text).unwrap();
    let mut args = vec![path.to_str().unwrap(), "--format", "json"];
    args.extend_from_slice(extra);
    let (code, out) = estimate(&args).unwrap();
    assert_eq!(code, 0);
    serde_json::from_str(&out).unwrap()
}

#[test]
fn the_sre_book_example_plans_n_plus_2_and_a_region_on_n_plus_1() {
    let dir = tempfile::tempdir().unwrap();
    let one = json_of(&dir, SRE_BOOK, &[]);
    assert_eq!(one["totals"]["peak_rps"], 3470.0);
    assert_eq!(one["servers"]["app"], 37, "35 tasks + 2");
    assert!(one.get("regions").is_none());
    let split = json_of(&dir, &format!("{SRE_BOOK}{REGIONS}"), &[]);
    let regions = split["regions"].as_array().unwrap();
    let apps: Vec<u64> = regions.iter().map(|r| r["app"].as_u64().unwrap()).collect();
    assert_eq!(apps, vec![17, 16, 6, 4], "{regions:?}");
    assert_eq!(split["servers"]["app"], 43);
    assert_eq!(regions[0]["share"], 0.412);
    assert_eq!(regions[0]["peak_rps"].as_f64().unwrap().round(), 1430.0);
}

/// A capacity result as `napkin capacity --out` writes it.
fn capacity_file(dir: &tempfile::TempDir, max_rps: &str, bottleneck: &str) -> String {
    let text = format!(
        r#"{{"format": "napkin-capacity/1", "scenario": "shakespeare", "target": "http://127.0.0.1:1",
  "model": "open", "slo": "all p99 <= 50.00ms", "max_rps": {max_rps},
  "limited_by": "all p99 = 61.20ms > 50.00ms at 210.0/s", "bottleneck": {bottleneck},
  "steps": [], "usl": null, "measured_at": "2026-11-30T12:00:00Z"}}"#
    );
    let path = dir.path().join("capacity.json");
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn a_measured_capacity_replaces_rps_per_server_and_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let cap = capacity_file(&dir, "200.0", "\"target\"");
    let json = json_of(&dir, SRE_BOOK, &["--capacity", &cap]);
    // 3,470 / 200 = 17.35 -> 18, + 2.
    assert_eq!(json["servers"]["app"], 20);
    let source = &json["capacity_source"];
    assert_eq!(source["file"], cap.as_str());
    assert_eq!(source["max_rps"], 200.0);
    assert_eq!(source["slo"], "all p99 <= 50.00ms");
    let path = dir.path().join("s.yaml");
    let (_, table) = estimate(&[path.to_str().unwrap(), "--capacity", &cap]).unwrap();
    for want in [
        "200/s measured by napkin capacity",
        cap.as_str(),
        "SLO all p99 <= 50.00ms",
        "2026-11-30T12:00:00Z",
    ] {
        assert!(table.contains(want), "{want}: {table}");
    }
}

#[test]
fn bad_capacity_files_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.yaml");
    std::fs::write(&path, SRE_BOOK).unwrap();
    let scenario = path.to_str().unwrap();
    let run_file = dir.path().join("run.json");
    std::fs::write(&run_file, r#"{"format": "napkin-run/1"}"#).unwrap();
    let (code, msg) = estimate(&[scenario, "--capacity", run_file.to_str().unwrap()]).unwrap_err();
    assert_eq!(code, exit::BAD_INPUT);
    assert!(msg.contains("is not a capacity result"), "{msg}");
    let none = capacity_file(&dir, "null", "\"target\"");
    let (code, msg) = estimate(&[scenario, "--capacity", &none]).unwrap_err();
    assert_eq!(code, exit::BAD_INPUT);
    assert!(msg.contains("no step of that search met the SLO"), "{msg}");
    let (code, msg) = estimate(&[scenario, "--capacity", "/nonexistent/c.json"]).unwrap_err();
    assert_eq!(code, exit::BAD_INPUT);
    assert!(msg.contains("/nonexistent/c.json"), "{msg}");
}

#[test]
fn a_generator_limited_capacity_warns_that_it_is_not_the_targets() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.yaml");
    std::fs::write(&path, SRE_BOOK).unwrap();
    let cap = capacity_file(&dir, "200.0", "\"generator\"");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_napkin"))
        .args(["estimate", path.to_str().unwrap(), "--capacity", &cap])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("warning"), "{stderr}");
    assert!(stderr.contains("not the target's capacity"), "{stderr}");
}
