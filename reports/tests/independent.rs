//! The embedded histograms decode with an independent HdrHistogram implementation (Python's
//! `hdrhistogram` package, module `hdrh`) and agree with the percentiles run.json reports.
//! With env CI set, a missing python3/hdrh fails the test instead of skipping it.

use std::process::Command;

use reports::fixture::sample_run;

const SCRIPT: &str = r#"
import json, sys
from hdrh.histogram import HdrHistogram
out = {}
for line in sys.stdin:
    name, b64 = line.split()
    h = HdrHistogram.decode(b64)
    out[name] = {"count": h.get_total_count(), "min": h.get_min_value(), "max": h.get_max_value(),
                 "mean": h.get_mean_value(),
                 "p50": h.get_value_at_percentile(50), "p90": h.get_value_at_percentile(90),
                 "p99": h.get_value_at_percentile(99), "p999": h.get_value_at_percentile(99.9)}
print(json.dumps(out))
"#;

fn python_hdrh_available() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import hdrh.histogram"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok && std::env::var_os("CI").is_some() {
        panic!("python3 with the `hdrhistogram` package is required when CI is set (pip install hdrhistogram)");
    }
    ok
}

fn close(a: f64, b: f64) -> bool {
    // Within HdrHistogram's 3-significant-digit resolution.
    (a - b).abs() <= b.abs() * 0.001 + 1.0
}

#[test]
fn python_hdrh_agrees_with_reported_percentiles() {
    if !python_hdrh_available() {
        eprintln!("skipping: python3 -c 'import hdrh' failed");
        return;
    }
    let run = sample_run();
    let mut input = format!("all {}\n", run.all.histogram);
    for (name, scope) in &run.actions {
        input.push_str(&format!("{name} {}\n", scope.histogram));
    }
    let mut child = Command::new("python3")
        .args(["-c", SCRIPT])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let decoded: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let scopes =
        std::iter::once(("all", &run.all)).chain(run.actions.iter().map(|(n, s)| (n.as_str(), s)));
    let mut seen = 0;
    for (name, scope) in scopes {
        let d = &decoded[name];
        let l = &scope.latency_us;
        assert_eq!(d["count"].as_u64().unwrap(), scope.requests, "{name}");
        for (key, ours) in [
            ("min", l.min as f64),
            ("max", l.max as f64),
            ("mean", l.mean),
            ("p50", l.p50 as f64),
            ("p90", l.p90 as f64),
            ("p99", l.p99 as f64),
            ("p999", l.p999 as f64),
        ] {
            let theirs = d[key].as_f64().unwrap();
            assert!(
                close(theirs, ours),
                "{name} {key}: hdrh {theirs} vs run.json {ours}"
            );
        }
        seen += 1;
    }
    assert_eq!(seen, 3);
}
