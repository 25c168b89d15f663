//! `napkin capacity` end to end against a server of known capacity (one request at a time,
//! 4 ms each: 250/s): the search ends within the bounds the capacity and the SLO imply and
//! within a bounded number of steps; a target that fails even `--from` exits 1; an
//! unreachable one exits 3 at once; bad input exits 2; the sweep fits the scalability law;
//! `napkin fit` reads CSV.

mod load_support;

use std::time::Duration;

use load_support::{napkin_cmd as napkin, read_json, wait_for, Http};

/// One action, 8 connections, SLO p99 <= 100 ms and error rate <= 1%.
fn scenario(dir: &tempfile::TempDir, slo: bool) -> String {
    let slo = if slo {
        "  slo:\n    all: {p99: 100ms, error_rate: 1%}\n"
    } else {
        ""
    };
    let text = format!(
        "name: serial\nactions:\n  - name: read\n    per_second: 1\n    request: {{method: GET, \
         path: /r}}\nload:\n  connections: 8\n  timeout: 2s\n{slo}"
    );
    let path = dir.path().join("serial.yaml");
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

const SHORT: [&str; 6] = ["--step", "1s", "--warmup", "300ms", "--precision", "10%"];

#[test]
fn the_search_finds_the_capacity_a_serial_server_implies() {
    let server = Http::serial(Duration::from_millis(4));
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(&dir, true);
    let out = dir.path().join("capacity.json");
    let mut args = vec!["capacity", &file, "--target"];
    let url = server.url();
    args.push(&url);
    args.extend([
        "--from",
        "60",
        "--to",
        "5000",
        "--out",
        out.to_str().unwrap(),
    ]);
    args.extend(SHORT);
    let (code, text) = napkin(&args);
    assert_eq!(code, 0, "{text}");
    let c = read_json(&out);
    assert_eq!(c["format"], "napkin-capacity/1");
    let max = c["max_rps"].as_f64().unwrap();
    // At most 250/s can be served; above ~255/s the achieved rate falls 2% short (saturated).
    // Below capacity a 4 ms service time meets a 100 ms p99 with room to spare.
    assert!((125.0..=256.0).contains(&max), "max_rps {max}\n{text}");
    let steps = c["steps"].as_array().unwrap();
    assert!(steps.len() <= 16, "{} steps", steps.len());
    let last = steps.last().unwrap();
    assert_eq!(last["phase"], "confirm");
    assert_eq!(last["pass"], true);
    assert_eq!(last["offered_rps"].as_f64(), Some(max));
    assert!(steps.iter().any(|s| s["pass"] == false));
    assert_eq!(c["bottleneck"], "target", "{text}");
    assert!(
        c["limited_by"].as_str().unwrap().contains(" at "),
        "{}",
        c["limited_by"]
    );
    assert!(text.contains("max_rps:"), "{text}");
    // Every failed step above capacity was saturated or over the SLO, never passed.
    for s in steps {
        if s["offered_rps"].as_f64().unwrap() > 262.0 {
            assert_eq!(s["pass"], false, "{s}");
        }
    }
    // The result renders as a report, with its knee charts in HTML.
    let (code, html) = napkin(&["report", out.to_str().unwrap(), "--format", "html"]);
    assert_eq!(code, 0, "{html}");
    assert!(html.contains("Latency against offered rate"));
    assert!(html.contains("knee"));
    assert!(html.contains("Achieved against offered rate"));
}

#[test]
fn a_target_that_fails_even_from_exits_1() {
    let server = Http::serial(Duration::from_millis(4));
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(&dir, true);
    let url = server.url();
    let mut args = vec!["capacity", &file, "--target", &url, "--from", "600"];
    args.extend(SHORT);
    let (code, text) = napkin(&args);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("no step met the SLO"), "{text}");
}

#[test]
fn an_unreachable_target_exits_3_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(&dir, true);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let (code, text) = napkin(&["capacity", &file, "--target", &url]);
    assert_eq!(code, 3, "{text}");
    assert!(text.contains("unreachable"), "{text}");
    assert!(text.contains("nothing was searched"), "{text}");
}

#[test]
fn bad_input_exits_2_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(&dir, true);
    let bare = scenario_without_slo(&dir);
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--from", "0"], "--from must be more than 0"),
        (
            vec!["--from", "500", "--to", "100"],
            "--to 100 is below --from 500",
        ),
        (vec!["--precision", "0"], "outside (0, 50%]"),
        (vec!["--precision", "60%"], "outside (0, 50%]"),
        (vec!["--sweep-concurrency", "1,2"], "at least 3"),
        (vec!["--sweep-concurrency", "0,1,2"], "0 users"),
        (vec!["--sweep-concurrency", "1,2,2,4"], "twice"),
    ];
    for (extra, want) in cases {
        let mut args = vec!["capacity", file.as_str(), "--target", "http://127.0.0.1:1"];
        args.extend(extra.iter().copied());
        let (code, text) = napkin(&args);
        assert_eq!(code, 2, "{extra:?}: {text}");
        assert!(text.contains(want), "{extra:?}: want {want:?} in {text}");
    }
    let (code, text) = napkin(&["capacity", &bare, "--target", "http://127.0.0.1:1"]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("add `load.slo`"), "{text}");
    assert!(text.contains("--slo"), "{text}");
}

fn scenario_without_slo(dir: &tempfile::TempDir) -> String {
    let path = dir.path().join("bare.yaml");
    let text = std::fs::read_to_string(scenario(dir, false)).unwrap();
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn the_sweep_runs_closed_steps_and_fits_the_law() {
    let server = Http::serial(Duration::from_millis(2));
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(&dir, true);
    let out = dir.path().join("sweep.json");
    let url = server.url();
    let args = [
        "capacity",
        &file,
        "--target",
        &url,
        "--sweep-concurrency",
        "1,2,4,8",
        "--step",
        "700ms",
        "--warmup",
        "200ms",
        "--out",
        out.to_str().unwrap(),
    ];
    let (code, text) = napkin(&args);
    assert_eq!(code, 0, "{text}");
    let c = read_json(&out);
    assert_eq!(c["model"], "closed");
    let users: Vec<u64> = c["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["concurrency"].as_u64().unwrap())
        .collect();
    assert_eq!(users, vec![1, 2, 4, 8]);
    let usl = &c["usl"];
    assert_eq!(usl["model"], "usl");
    assert_eq!(usl["points"], 4);
    // One request at a time, 2 ms each: throughput cannot grow with users (it stays near
    // 1 / service), which the law calls contention near 1: X(N) -> lambda / sigma.
    let (lambda, sigma) = (
        usl["lambda"].as_f64().unwrap(),
        usl["sigma"].as_f64().unwrap(),
    );
    assert!(lambda <= 550.0, "{usl}");
    assert!(sigma > 0.5, "{usl}");
    let steps = c["steps"].as_array().unwrap();
    let at_8 = steps[3]["ok_rps"].as_f64().unwrap();
    assert!(at_8 <= 520.0, "{}", steps[3]);
    let (kappa, n) = (usl["kappa"].as_f64().unwrap(), 8.0);
    let modelled = lambda * n / (1.0 + sigma * (n - 1.0) + kappa * n * (n - 1.0));
    assert!(
        (modelled - at_8).abs() <= 0.2 * at_8,
        "model {modelled} vs {at_8}"
    );
    assert!(text.contains("USL: sigma"), "{text}");
}

#[test]
fn fit_reads_csv_and_reports_the_law() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("m.csv");
    // X(N) = 1000 N / (1 + 0.05 (N - 1) + 0.001 N (N - 1)).
    let mut text = String::from("concurrency,throughput\n");
    for n in [1.0f64, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0] {
        let x = 1000.0 * n / (1.0 + 0.05 * (n - 1.0) + 0.001 * n * (n - 1.0));
        text.push_str(&format!("{n},{x}\n"));
    }
    std::fs::write(&csv, text).unwrap();
    let (code, out) = napkin(&["fit", csv.to_str().unwrap(), "--format", "json"]);
    assert_eq!(code, 0, "{out}");
    let fit: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(
        (fit["sigma"].as_f64().unwrap() - 0.05).abs() < 1e-6,
        "{fit}"
    );
    assert!(
        (fit["kappa"].as_f64().unwrap() - 0.001).abs() < 1e-8,
        "{fit}"
    );
    let n_max = fit["n_max"].as_f64().unwrap();
    assert!((n_max - (0.95f64 / 0.001).sqrt()).abs() < 1e-3, "{fit}");
    for (bad, want) in [
        ("1,100\n2,x\n3,300\n", ":2:"),
        ("1,100\n2,-1\n3,300\n", ":2:"),
        ("n,x\n1,1\n2,2\n", "at least 3 rows"),
        ("1\n2\n3\n", "one column"),
    ] {
        std::fs::write(&csv, bad).unwrap();
        let (code, out) = napkin(&["fit", csv.to_str().unwrap()]);
        assert_eq!(code, 2, "{bad:?}: {out}");
        assert!(
            out.contains(want) && out.contains("m.csv"),
            "{bad:?}: {out}"
        );
    }
}

/// A keep-alive server that answers its first `limit` requests with 200, then closes every
/// connection it reads a request on without answering (a target that died mid-search).
fn dying_server(limit: u64) -> String {
    use std::io::{BufRead, BufReader, Write};
    use std::sync::atomic::{AtomicU64, Ordering};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let served = std::sync::Arc::new(AtomicU64::new(0));
    std::thread::spawn(move || {
        for stream in listener.incoming().take(100_000) {
            let Ok(stream) = stream else { return };
            let served = served.clone();
            std::thread::spawn(move || {
                let mut out = stream.try_clone().unwrap();
                let mut reader = BufReader::new(stream);
                let mut line = String::new();
                loop {
                    loop {
                        line.clear();
                        match reader.read_line(&mut line) {
                            Ok(0) | Err(_) => return,
                            Ok(_) if line == "\r\n" => break,
                            Ok(_) => {}
                        }
                    }
                    if served.fetch_add(1, Ordering::SeqCst) >= limit {
                        return; // closes the connection unanswered
                    }
                    let ok = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}";
                    if out.write_all(ok).is_err() {
                        return;
                    }
                }
            });
        }
    });
    url
}

#[test]
fn a_target_that_dies_mid_search_ends_it_with_exit_3_and_the_steps_so_far() {
    // Step 1 (100/s for 1.3 s) gets its answers; then the target answers nothing: step 2
    // has no successful response and the search must end there, not bisect on for minutes.
    let url = dying_server(140);
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(&dir, true);
    let out = dir.path().join("capacity.json");
    let mut args = vec!["capacity", &file, "--target", &url, "--from", "100"];
    args.extend(["--out", out.to_str().unwrap()]);
    args.extend(SHORT);
    let (code, text) = napkin(&args);
    assert_eq!(code, 3, "{text}");
    assert!(text.contains("the search did not finish"), "{text}");
    let c = read_json(&out);
    let why = c["ended_early"].as_str().unwrap();
    assert!(why.contains("no request succeeded"), "{why}");
    assert!(c["steps"].as_array().unwrap().len() <= 2, "{}", c["steps"]);
}

#[test]
fn sigterm_ends_a_search_with_exit_3_and_the_steps_so_far() {
    use std::io::{BufRead, BufReader};
    let server = Http::start(200);
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(&dir, true);
    let out = dir.path().join("capacity.json");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_napkin"))
        .args(["capacity", &file, "--target", &server.url(), "--from", "50"])
        .args(["--step", "30s", "--warmup", "0s", "--out"])
        .arg(&out)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Signal handlers are in place once the first step runs (the server sees requests).
    let seen = server.requests.clone();
    wait_for("the first step's requests", Duration::from_secs(60), || {
        seen.load(std::sync::atomic::Ordering::SeqCst) >= 20
    });
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let mut stderr = String::new();
    for line in BufReader::new(child.stderr.take().unwrap()).lines() {
        stderr.push_str(&line.unwrap());
        stderr.push('\n');
    }
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    let c = read_json(&out);
    assert!(c["ended_early"].as_str().unwrap().contains("interrupted"));
    assert_eq!(
        c["steps"].as_array().unwrap().len(),
        0,
        "the cut-off step is discarded"
    );
}
