//! `napkin ab`: the runs interleave (A B B A A B), every run is written, targets started by
//! commands answer before the first run and are gone after the last, bad input exits 2
//! before anything starts.

mod gate_support;

use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};

use gate_support::{napkin, s, scenario, Http};

/// One-second runs, no warm-up: the rounds, not the runs, are what is tested here.
const SHORT: &str = "  rate: 100\n  duration: 1s\n  warmup: 0s\n  connections: 4\n  timeout: 2s\n";

fn started(dir: &Path, name: &str) -> (SystemTime, String) {
    let run = reports::io::read_run(&dir.join(name)).unwrap();
    let t = humantime::parse_rfc3339_weak(&run.started_at).unwrap();
    (t, run.target)
}

#[test]
fn runs_interleave_and_every_run_is_written() {
    let (a, b) = (Http::delayed(Duration::ZERO), Http::delayed(Duration::ZERO));
    let dir = tempfile::tempdir().unwrap();
    let scen = scenario(dir.path(), "ab.yaml", "/x", SHORT);
    let out = dir.path().join("runs");
    let (code, text) = napkin(&[
        "ab",
        s(&scen),
        "--a",
        &a.url(),
        "--b",
        &b.url(),
        "--rounds",
        "3",
        "--out-dir",
        s(&out),
    ]);
    // Three rounds cannot reach p < 0.01 (2 / 2^3 = 0.25): a pass, with a warning that says
    // how many rounds would.
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("too few rounds") && text.contains("at least 8 rounds"),
        "{text}"
    );
    assert!(text.contains("Wilcoxon signed-rank"), "{text}");
    // The order the runs really started in, from the run files: A B, B A, A B.
    let order = ["a-01", "b-01", "b-02", "a-02", "a-03", "b-03"];
    let runs: Vec<(SystemTime, String)> = order
        .iter()
        .map(|n| started(&out, &format!("{n}.json")))
        .collect();
    for (pair, names) in runs.windows(2).zip(order.windows(2)) {
        assert!(
            pair[0].0 < pair[1].0,
            "{} started after {}",
            names[0],
            names[1]
        );
    }
    for ((_, target), name) in runs.iter().zip(order) {
        let expected = if name.starts_with('a') {
            a.url()
        } else {
            b.url()
        };
        assert_eq!(target, &expected, "{name}");
    }
    // Both targets served their three runs (100 req/s for 1 s each).
    for server in [&a, &b] {
        let n = server.requests.load(Ordering::SeqCst);
        assert!((250..=400).contains(&n), "{n} requests");
    }
}

#[test]
fn targets_started_by_commands_answer_first_and_are_stopped_after() {
    let dir = tempfile::tempdir().unwrap();
    let scen = scenario(dir.path(), "ab.yaml", "/healthz", SHORT);
    let out = dir.path().join("runs");
    let serve = format!(
        "exec {} serve --addr 127.0.0.1:{{port}} --seed-users 10",
        env!("CARGO_BIN_EXE_napkin")
    );
    let o = Command::new(env!("CARGO_BIN_EXE_napkin"))
        .args(["ab", s(&scen), "--a-cmd", &serve, "--b-cmd", &serve])
        .args(["--rounds", "2", "--out-dir", s(&out), "--format", "json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(json["design"], "paired");
    assert_eq!(json["base_runs"], 2);
    assert!(stderr.contains("target A (--a-cmd) answers at http://127.0.0.1:"));
    // Every request of every run succeeded: the targets were up before the first run.
    let mut ports = Vec::new();
    for name in ["a-01", "b-01", "b-02", "a-02"] {
        let run = reports::io::read_run(&out.join(format!("{name}.json"))).unwrap();
        assert!(run.all.requests >= 50, "{name}: {}", run.all.requests);
        assert_eq!(run.all.errors, 0, "{name}");
        ports.push(run.target.rsplit(':').next().unwrap().to_string());
    }
    assert_ne!(ports[0], ports[1], "A and B on different ports");
    assert!(out.join("a-server.log").exists() && out.join("b-server.log").exists());
    // Stopped when ab returned: nothing listens on their ports any more.
    for port in &ports[..2] {
        assert!(
            TcpStream::connect(format!("127.0.0.1:{port}")).is_err(),
            "{port}"
        );
    }
}

#[test]
fn bad_input_exits_2_before_anything_starts() {
    let dir = tempfile::tempdir().unwrap();
    let scen = scenario(dir.path(), "ab.yaml", "/x", SHORT);
    let out = dir.path().join("runs");
    let base = ["ab", s(&scen), "--out-dir", s(&out)];
    let cases: [(&[&str], &str); 5] = [
        (
            &[
                "--a",
                "http://127.0.0.1:9",
                "--b",
                "http://127.0.0.1:10",
                "--rounds",
                "1",
            ],
            "at least 2 rounds",
        ),
        (
            &[
                "--a",
                "http://127.0.0.1:9/",
                "--b",
                "http://127.0.0.1:9",
                "--rounds",
                "4",
            ],
            "same target",
        ),
        (
            &[
                "--a-cmd",
                "true",
                "--b",
                "http://127.0.0.1:10",
                "--rounds",
                "4",
            ],
            "--a-cmd needs --a URL",
        ),
        (&["--b", "http://127.0.0.1:10", "--rounds", "4"], "--a URL"),
        (
            &[
                "--a",
                "http://127.0.0.1:9",
                "--b",
                "http://127.0.0.1:10",
                "--rounds",
                "4",
                "--alpha",
                "0.5",
            ],
            "outside (0, 0.5)",
        ),
    ];
    for (args, needle) in cases {
        let argv: Vec<&str> = base.iter().chain(args).copied().collect();
        let o = Command::new(env!("CARGO_BIN_EXE_napkin"))
            .args(&argv)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!out.exists(), "{args:?} created the output directory");
    }
}

#[test]
fn the_same_target_twice_runs_with_force_and_a_warning() {
    let a = Http::delayed(Duration::ZERO);
    let dir = tempfile::tempdir().unwrap();
    let scen = scenario(dir.path(), "ab.yaml", "/x", SHORT);
    let out = dir.path().join("runs");
    let o = Command::new(env!("CARGO_BIN_EXE_napkin"))
        .args(["ab", s(&scen), "--a", &a.url(), "--b", &a.url(), "--force"])
        .args(["--rounds", "2", "--out-dir", s(&out)])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(
        err.contains("warning: A and B are the same target"),
        "{err}"
    );
    assert!(out.join("b-02.json").exists());
}
