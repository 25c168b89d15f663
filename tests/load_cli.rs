//! `napkin load` end to end through `napkin::run`: run file, interval log, SLO exit codes,
//! dead targets (exit 3), bad input (exit 2) and an interrupted run.

mod load_support;

use std::time::Duration;

use clap::Parser;
use load_support::{napkin, read_json, scenario, wait_for, Http};
use napkin::cmd::load::LoadArgs;

fn load_args(args: &[&str]) -> LoadArgs {
    let mut argv = vec!["napkin", "load"];
    argv.extend_from_slice(args);
    match napkin::Cli::try_parse_from(argv).unwrap().command {
        napkin::Command::Load(a) => a,
        _ => unreachable!(),
    }
}

#[test]
fn an_open_run_writes_the_run_file_and_interval_log_and_passes_its_slo() {
    let server = Http::start(200);
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(&dir, "  rate: 200\n  duration: 1500ms\n  warmup: 500ms\n  connections: 4\n  slo:\n    all: {p99: 1s, error_rate: 1%}\n    read: {min_rps: 100}\n");
    let out = dir.path().join("run.json");
    let hlog = dir.path().join("run.hlog");
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
    assert!(text.contains("SLO: PASS"), "{text}");
    assert!(text.contains("p99.9"), "{text}");
    let run = read_json(&out);
    assert_eq!(run["format"], "napkin-run/1");
    assert_eq!(run["model"], "open");
    assert_eq!(run["target_rps"], 200.0);
    assert_eq!(run["requests"], 200, "1 s measured at 200/s");
    assert_eq!(run["duration_s"], 1.0);
    assert_eq!(run["interrupted"], false);
    assert_eq!(run["errors"]["total"], 0);
    // 300 sent in total: the warm-up's 100 are not counted.
    assert_eq!(
        server.requests.load(std::sync::atomic::Ordering::SeqCst),
        300
    );
    assert!(run["all"]["histogram"]
        .as_str()
        .unwrap()
        .starts_with("HISTF"));
    let read = run["actions"]["read"]["requests"].as_u64().unwrap();
    let write = run["actions"]["write"]["requests"].as_u64().unwrap();
    assert_eq!(read + write, 200);
    assert!(read > write, "mix 3:1, got {read}:{write}");
    assert!(run["actions"].get("offline").is_none());
    assert_eq!(run["slo"]["pass"], true);
    assert_eq!(run["slo"]["checks"].as_array().unwrap().len(), 3);
    assert_eq!(run["timeline"].as_array().unwrap().len(), 1);
    let log = std::fs::read_to_string(&hlog).unwrap();
    assert!(
        log.starts_with("#[Histogram log format version 1.3]"),
        "{log}"
    );
    assert_eq!(
        log.lines().filter(|l| l.starts_with("Tag=read,")).count(),
        1
    );
    assert_eq!(
        log.lines().filter(|l| l.starts_with("Tag=write,")).count(),
        1
    );
}

#[test]
fn a_failed_slo_exits_1_and_the_closed_model_is_recorded() {
    let server = Http::start(200);
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(&dir, "  duration: 1s\n  slo:\n    all: {min_rps: 10M}\n");
    let out = dir.path().join("run.json");
    let (code, text) = napkin(&[
        file.to_str().unwrap(),
        "--target",
        &server.url(),
        "--concurrency",
        "2",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("SLO: FAIL"), "{text}");
    let run = read_json(&out);
    assert_eq!(run["model"], "closed");
    assert_eq!(run["target_rps"], serde_json::Value::Null);
    assert_eq!(run["settings"]["concurrency"], 2);
    assert_eq!(run["slo"]["pass"], false);
    assert!(run["requests"].as_u64().unwrap() > 10);
}

#[test]
fn bad_statuses_fail_the_error_rate_gate() {
    let server = Http::start(500);
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(
        &dir,
        "  rate: 50\n  duration: 1s\n  slo:\n    all: {error_rate: 1%}\n",
    );
    let out = dir.path().join("run.json");
    let args = [
        file.to_str().unwrap(),
        "--target",
        &server.url(),
        "--out",
        out.to_str().unwrap(),
    ];
    let (code, text) = napkin(&args);
    // Nothing succeeded: exit 3, yet the run file is written with the errors by status.
    assert_eq!(code, 3, "{text}");
    assert!(text.contains("no request succeeded"), "{text}");
    let run = read_json(&out);
    assert_eq!(run["errors"]["status"]["500"], 50);
}

#[test]
fn an_unreachable_target_ends_on_time_with_exit_3() {
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(&dir, "  rate: 50\n  duration: 1s\n");
    let t = std::time::Instant::now();
    let (code, text) = napkin(&[
        file.to_str().unwrap(),
        "--target",
        &format!("http://{addr}"),
    ]);
    assert!(t.elapsed() < Duration::from_secs(5));
    assert_eq!(code, 3, "{text}");
    assert!(text.contains("50 connect"), "{text}");
}

#[test]
fn a_target_that_closes_every_connection_ends_on_time_with_exit_3() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    // Accepts and immediately closes (bounded: the run opens far fewer connections).
    std::thread::spawn(move || {
        for s in listener.incoming().take(10_000) {
            drop(s);
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(&dir, "  rate: 50\n  duration: 1s\n  connections: 2\n");
    let out = dir.path().join("run.json");
    let t = std::time::Instant::now();
    let (code, text) = napkin(&[
        file.to_str().unwrap(),
        "--target",
        &format!("http://{addr}"),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(t.elapsed() < Duration::from_secs(5));
    assert_eq!(code, 3, "{text}");
    assert!(text.contains("no request succeeded"), "{text}");
    let run = read_json(&out);
    assert_eq!(run["requests"], 50);
    assert_eq!(run["errors"]["total"], 50);
    assert!(
        run["errors"]["io"].as_u64().unwrap() > 0,
        "{}",
        run["errors"]
    );
}

#[test]
fn bad_input_exits_2_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let ok = scenario(&dir, "  rate: 10\n  duration: 1s\n");
    let f = ok.to_str().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&[f, "--target", "not a url"], "not a valid URL"),
        (
            &[f, "--target", "ftp://127.0.0.1:1"],
            "use http:// or https://",
        ),
        (
            &[f, "--target", "http://127.0.0.1:1", "--rate", "0"],
            "more than 0",
        ),
        (
            &[f, "--target", "http://127.0.0.1:1", "--rate=-5"],
            "--rate",
        ),
        (
            &[f, "--target", "http://127.0.0.1:1", "--connections", "0"],
            "connections must be at least 1",
        ),
        (
            &[f, "--target", "http://127.0.0.1:1", "--concurrency", "0"],
            "--concurrency",
        ),
        (
            &[
                f,
                "--target",
                "http://127.0.0.1:1",
                "--duration",
                "1s",
                "--warmup",
                "2s",
            ],
            "must be longer than warmup",
        ),
        (
            &[f, "--target", "http://127.0.0.1:1", "--duration", "10"],
            "--duration",
        ),
        // No target at all is not an error: the reference server starts in-process
        // (tests/traffic_cli.rs).
    ];
    for (args, want) in cases {
        let (code, text) = napkin(args);
        assert_eq!(code, 2, "{args:?}: {text}");
        assert!(text.contains(want), "{args:?}: {text}");
    }
}

#[test]
fn scenario_problems_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let slo = scenario(
        &dir,
        "  rate: 10\n  duration: 1s\n  slo:\n    nosuch: {p99: 1s}\n",
    );
    let (code, text) = napkin(&[slo.to_str().unwrap(), "--target", "http://127.0.0.1:1"]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("nosuch"), "{text}");
    let offline = scenario(
        &dir,
        "  rate: 10\n  duration: 1s\n  slo:\n    offline: {p99: 1s}\n",
    );
    let (code, text) = napkin(&[offline.to_str().unwrap(), "--target", "http://127.0.0.1:1"]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("offline"), "{text}");
    let bare = dir.path().join("bare.yaml");
    std::fs::write(
        &bare,
        "name: bare\nactions:\n  - name: a\n    per_second: 1\n",
    )
    .unwrap();
    let (code, text) = napkin(&[
        bare.to_str().unwrap(),
        "--target",
        "http://127.0.0.1:1",
        "--rate",
        "1",
    ]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("request:"), "{text}");
}

#[test]
fn a_stopped_run_writes_an_interrupted_result() {
    let server = Http::start(200);
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(&dir, "  rate: 100\n  duration: 20s\n");
    let out = dir.path().join("run.json");
    let args = load_args(&[
        file.to_str().unwrap(),
        "--target",
        &server.url(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let stop = loadgen::StopHandle::new();
    let trigger = stop.clone();
    let seen = server.requests.clone();
    let stopper = std::thread::spawn(move || {
        wait_for("50 requests", Duration::from_secs(30), || {
            seen.load(std::sync::atomic::Ordering::SeqCst) >= 50
        });
        trigger.stop();
    });
    let mut text = Vec::new();
    let code = napkin::cmd::load::run_with_stop(args, &mut text, &stop).unwrap();
    stopper.join().unwrap();
    assert_eq!(code, 0);
    let text = String::from_utf8(text).unwrap();
    assert!(text.contains("interrupted"), "{text}");
    let run = read_json(&out);
    assert_eq!(run["interrupted"], true);
    assert!(run["duration_s"].as_f64().unwrap() < 20.0);
    let requests = run["requests"].as_u64().unwrap();
    assert!(requests >= 50, "{requests}");
    assert_eq!(
        requests,
        server.requests.load(std::sync::atomic::Ordering::SeqCst),
        "every request sent before the stop is in the run"
    );
}

/// Starts the real binary on a 30 s run, waits until it has printed its banner (its signal
/// handlers are in place by then) and the server has seen 50 requests, sends `signal`, and
/// checks that it ends like Ctrl-C: interrupted result written, summary printed, exit 0.
fn signal_ends_the_run_with_results(signal: &str) {
    use std::io::{BufRead, BufReader, Read};
    let server = Http::start(200);
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(&dir, "  rate: 100\n  duration: 30s\n");
    let out = dir.path().join("run.json");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_napkin"))
        .args(["load", file.to_str().unwrap(), "--target", &server.url()])
        .arg("--out")
        .arg(&out)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut banner = String::new();
    stdout.read_line(&mut banner).unwrap();
    assert!(banner.starts_with("napkin load:"), "{banner}");
    wait_for("50 requests", Duration::from_secs(30), || {
        server.requests.load(std::sync::atomic::Ordering::SeqCst) >= 50
    });
    let sent = std::process::Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let mut text = String::new();
    stdout.read_to_string(&mut text).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{signal}: {text}");
    assert!(text.contains("interrupted"), "{text}");
    assert!(
        text.contains("SLO") || text.contains("requests in"),
        "{text}"
    );
    let run = read_json(&out);
    assert_eq!(run["interrupted"], true);
    assert!(run["requests"].as_u64().unwrap() >= 50);
}

#[test]
fn sigint_stops_the_binary_with_an_interrupted_result() {
    signal_ends_the_run_with_results("-INT");
}

#[test]
fn sigterm_stops_the_binary_with_an_interrupted_result() {
    // What CI runners and Kubernetes send: it must not lose the run (it exited 143 before).
    signal_ends_the_run_with_results("-TERM");
}
