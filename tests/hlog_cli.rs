//! The interval log of a real `napkin load --hlog` run, read by HdrHistogram's own Java
//! `HistogramLogProcessor`: with no `-tag` it reads the untagged total lines (all actions),
//! whose counts add up to the run's latency count; with `-tag ACTION` each action's.

mod load_support;

use std::path::Path;
use std::process::Command;

use load_support::{napkin, read_json, scenario, Http};

const JAR: &str = "/usr/share/java/hdrhistogram.jar";

fn java_available() -> bool {
    let ok = Command::new("java").arg("-version").output().is_ok() && Path::new(JAR).exists();
    if !ok && std::env::var_os("CI").is_some() {
        panic!("java and {JAR} are required when CI is set (apt-get install default-jre-headless libhdrhistogram-java)");
    }
    ok
}

/// Interval counts (`Int_Count`, the second CSV column) HistogramLogProcessor reports for
/// `tag` (`None`: no -tag).
fn java_counts(log: &Path, tag: Option<&str>, dir: &Path) -> Vec<u64> {
    let base = dir.join(format!("out_{}", tag.unwrap_or("total")));
    let mut cmd = Command::new("java");
    cmd.args(["-cp", JAR, "org.HdrHistogram.HistogramLogProcessor", "-i"])
        .arg(log)
        .args(["-csv", "-outputValueUnitRatio", "1", "-o"])
        .arg(&base);
    if let Some(tag) = tag {
        cmd.args(["-tag", tag]);
    }
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("Exception"), "{stderr}");
    let csv = std::fs::read_to_string(&base).unwrap();
    csv.lines()
        .filter(|l| !l.starts_with('"') && !l.starts_with('#') && !l.is_empty())
        .map(|l| l.split(',').nth(1).unwrap().trim().parse().unwrap())
        .collect()
}

#[test]
fn hdrhistogram_reads_the_total_without_a_tag_and_each_action_with_one() {
    if !java_available() {
        eprintln!("skipping: java or {JAR} not installed");
        return;
    }
    let server = Http::start(200);
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(&dir, "  rate: 200\n  duration: 2500ms\n  connections: 4\n");
    let (out, hlog) = (dir.path().join("run.json"), dir.path().join("run.hlog"));
    let (code, text) = napkin(&[
        file.to_str().unwrap(),
        "--target",
        &server.url(),
        "--out",
        out.to_str().unwrap(),
        "--hlog",
        hlog.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{text}");
    let run = read_json(&out);
    let latencies = |scope: &serde_json::Value| -> u64 {
        scope["requests"].as_u64().unwrap() - scope["errors"].as_u64().unwrap()
    };
    let total = java_counts(&hlog, None, dir.path());
    assert_eq!(total.len(), 3, "one untagged line per interval: {total:?}");
    assert_eq!(total.iter().sum::<u64>(), latencies(&run["all"]));
    let mut by_action = 0;
    for action in ["read", "write"] {
        let counts = java_counts(&hlog, Some(action), dir.path());
        assert_eq!(counts.len(), 3);
        assert_eq!(
            counts.iter().sum::<u64>(),
            latencies(&run["actions"][action])
        );
        by_action += counts.iter().sum::<u64>();
    }
    assert_eq!(by_action, total.iter().sum::<u64>());
}
