//! Sharded runs end to end (SPEC section 10), through `napkin load --shard I/N --start-at`,
//! `napkin merge`, `check`, `report` and `compare`, against a server that records every request
//! it receives: for uniform, Poisson and staged arrivals the shards together send exactly the
//! requests of the unsharded run (as a multiset, on the wire), the merged counts are the sums
//! of the shards', the shards start at the given instant with their start lag in run.json, and
//! `--out -` writes JSON alone.

mod load_support;

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use load_support::{read_json, Http};
use serde_json::Value;

/// Runs `napkin ARGS...` in-process; returns the exit code and stdout (or the error).
fn napkin(args: &[&str]) -> (u8, String) {
    use clap::Parser;
    let mut argv = vec!["napkin"];
    argv.extend_from_slice(args);
    let cli = match napkin::Cli::try_parse_from(argv) {
        Ok(cli) => cli,
        Err(e) => return (napkin::exit::BAD_INPUT, e.to_string()),
    };
    let mut out = Vec::new();
    match napkin::run(cli, &mut out) {
        Ok(code) => (code, String::from_utf8(out).unwrap()),
        Err(e) => (napkin::exit::code_of(&e), format!("{e:#}")),
    }
}

/// A scenario whose requests draw keys, text, ints and `{{seq}}` (no capture pools, so every
/// request depends on the seed and its number alone), with the given `load:` lines.
fn scenario(dir: &Path, load: &str) -> PathBuf {
    let text = format!(
        r#"name: shards
actions:
  - name: read
    per_second: 60
    request: {{method: GET, path: "/users/{{{{user}}}}/timeline?n={{{{int 1 20}}}}"}}
  - name: post
    per_second: 30
    request:
      method: POST
      path: /tweets
      body: '{{"user_id": {{{{user}}}}, "text": "{{{{text 30}}}}", "seq": {{{{seq}}}}}}'
  - name: item
    per_second: 10
    request: {{method: GET, path: "/items/{{{{item}}}}"}}
load:
  keys:
    user: {{count: 10K, distribution: zipf, exponent: 1.1}}
    item: {{count: 50, distribution: uniform}}
  connections: 5
  warmup: 500ms
  slo:
    all: {{p99: 5s, error_rate: 1%}}
{load}"#
    );
    let path = dir.join("shards.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_millis(t).to_string()
}

/// Runs `n` shards at once with `--start-at` `lead` from now; returns their run files and the
/// start time given.
fn run_shards(
    file: &Path,
    server: &Http,
    dir: &Path,
    n: u32,
    extra: &[&str],
) -> (Vec<PathBuf>, String) {
    let start = rfc3339(SystemTime::now() + Duration::from_millis(1500));
    let outs: Vec<PathBuf> = (0..n)
        .map(|i| dir.join(format!("shard-{i}.json")))
        .collect();
    let threads: Vec<_> = outs
        .iter()
        .enumerate()
        .map(|(i, out)| {
            let mut args: Vec<String> = [
                "load",
                file.to_str().unwrap(),
                "--target",
                &server.url(),
                "--seed",
                "3",
                "--shard",
                &format!("{i}/{n}"),
                "--start-at",
                &start,
                "--out",
                out.to_str().unwrap(),
            ]
            .iter()
            .map(|s| s.to_string())
            .collect();
            args.extend(extra.iter().map(|s| s.to_string()));
            std::thread::spawn(move || {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                napkin(&args)
            })
        })
        .collect();
    for (i, t) in threads.into_iter().enumerate() {
        let (code, text) = t.join().unwrap();
        assert_eq!(code, 0, "shard {i}: {text}");
        assert!(text.contains(&format!("shard {i}/{n} of run ")), "{text}");
    }
    (outs, start)
}

/// Whether a run sent every request it intended (a machine too busy to keep up drops the last
/// ones, which makes the wire comparison inexact by design).
fn complete(run: &Value) -> bool {
    run["dropped"] == 0 && run["errors"]["total"] == 0
}

/// The unsharded run and its 3 shards send the same multiset of requests; returns the run
/// files (unsharded, shards) of the first attempt in which no run dropped a request.
fn exact_on_the_wire(load: &str) -> (tempfile::TempDir, PathBuf, Vec<PathBuf>, String) {
    for _attempt in 0..3 {
        let dir = tempfile::tempdir().unwrap();
        let file = scenario(dir.path(), load);
        let server = Http::start(200);
        let whole = dir.path().join("whole.json");
        let (code, text) = napkin(&[
            "load",
            file.to_str().unwrap(),
            "--target",
            &server.url(),
            "--seed",
            "3",
            "--out",
            whole.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{text}");
        let unsharded = server.received();
        server.clear();
        let (shards, start) = run_shards(&file, &server, dir.path(), 3, &[]);
        let sharded = server.received();
        let runs: Vec<Value> = std::iter::once(&whole)
            .chain(&shards)
            .map(|p| read_json(p))
            .collect();
        if !runs.iter().all(complete) {
            continue;
        }
        assert!(unsharded.len() > 100, "{}", unsharded.len());
        assert_eq!(sharded.len(), unsharded.len(), "{load}: request counts");
        assert_eq!(
            sharded, unsharded,
            "{load}: the requests on the wire differ"
        );
        return (dir, whole, shards, start);
    }
    panic!("every attempt dropped requests (machine too busy?): the wire comparison needs complete runs");
}

#[test]
fn uniform_shards_send_the_unsharded_requests_and_merge_to_its_counts() {
    let (dir, whole, shards, start) =
        exact_on_the_wire("  rate: 150\n  arrivals: uniform\n  duration: 2s\n");
    let whole = read_json(&whole);
    let runs: Vec<Value> = shards.iter().map(|p| read_json(p)).collect();

    // Every shard started at the instant given: same window, its lag recorded.
    for (i, run) in runs.iter().enumerate() {
        assert_eq!(run["shard"]["index"], i as u64);
        assert_eq!(run["shard"]["count"], 3);
        assert_eq!(run["shard"]["run_id"], runs[0]["shard"]["run_id"]);
        assert_eq!(run["settings"]["start_at"], start.as_str());
        assert!(
            run["settings"]["start_lag_us"].is_i64(),
            "{}",
            run["settings"]
        );
        assert_eq!(run["started_at"], runs[0]["started_at"]);
        assert_eq!(run["settings"]["connections"], [2, 2, 1][i]);
    }
    let started = humantime::parse_rfc3339(&start).unwrap() + Duration::from_millis(500);
    assert_eq!(runs[0]["started_at"], rfc3339(started).as_str());

    let merged_path = dir.path().join("merged.json");
    let mut args = vec!["merge"];
    args.extend(shards.iter().map(|p| p.to_str().unwrap()));
    args.extend(["-o", merged_path.to_str().unwrap()]);
    let (code, text) = napkin(&args);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("shards 0, 1, 2 of the 3"), "{text}");
    let merged = read_json(&merged_path);

    // Counts add up exactly, and the offered count is the unsharded run's.
    let sum =
        |f: &dyn Fn(&Value) -> &Value| -> u64 { runs.iter().map(|r| f(r).as_u64().unwrap()).sum() };
    assert_eq!(merged["requests"].as_u64(), Some(sum(&|r| &r["requests"])));
    assert_eq!(merged["dropped"].as_u64(), Some(sum(&|r| &r["dropped"])));
    assert_eq!(
        merged["errors"]["total"].as_u64(),
        Some(sum(&|r| &r["errors"]["total"]))
    );
    assert_eq!(
        merged["settings"]["late"].as_u64(),
        Some(sum(&|r| &r["settings"]["late"]))
    );
    assert_eq!(
        merged["settings"]["offered"].as_u64(),
        Some(sum(&|r| &r["settings"]["offered"]))
    );
    assert_eq!(merged["settings"]["offered"], whole["settings"]["offered"]);
    assert_eq!(merged["requests"], whole["requests"]);
    assert_eq!(merged["settings"]["connections"], 5);
    for action in ["read", "post", "item"] {
        assert_eq!(
            merged["actions"][action]["requests"].as_u64(),
            Some(sum(&|r| &r["actions"][action]["requests"])),
            "{action}"
        );
        // The unsharded run drew the same mix of the same requests.
        assert_eq!(
            merged["actions"][action]["requests"],
            whole["actions"][action]["requests"]
        );
    }
    let timeline_total: u64 = merged["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["requests"].as_u64().unwrap())
        .sum();
    assert_eq!(timeline_total, merged["requests"].as_u64().unwrap());
    // The start skew is the spread of the shards' lags.
    let lags: Vec<i64> = runs
        .iter()
        .map(|r| r["settings"]["start_lag_us"].as_i64().unwrap())
        .collect();
    let skew = lags.iter().max().unwrap() - lags.iter().min().unwrap();
    assert_eq!(merged["shard"]["start_skew_us"].as_i64(), Some(skew));
    assert_eq!(merged["shard"]["merged"].as_array().unwrap().len(), 3);
    assert!(merged["shard"].get("partial").is_none());

    // The merged file is a normal run: check (with JUnit), report and compare take it.
    let junit = dir.path().join("junit.xml");
    let (code, text) = napkin(&[
        "check",
        merged_path.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("shards 0, 1, 2 of the 3"), "{text}");
    assert!(std::fs::read_to_string(&junit)
        .unwrap()
        .contains("<testsuite"));
    let (code, text) = napkin(&["report", merged_path.to_str().unwrap()]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("start skew"), "{text}");
    let whole_path = dir.path().join("whole.json");
    let (code, text) = napkin(&[
        "compare",
        whole_path.to_str().unwrap(),
        merged_path.to_str().unwrap(),
    ]);
    assert!(code == 0 || code == 1, "{code}: {text}");
}

#[test]
fn poisson_shards_send_the_unsharded_requests() {
    exact_on_the_wire("  rate: 150\n  arrivals: poisson\n  duration: 2s\n");
}

#[test]
fn staged_shards_send_the_unsharded_requests() {
    exact_on_the_wire(
        "  arrivals: poisson\n  stages:\n    - {duration: 1s, rate: 300}\n    - {duration: 1s, rate: 100}\n",
    );
}

#[test]
fn no_shard_sends_before_the_start_time() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(dir.path(), "  rate: 100\n  duration: 1s\n");
    let server = Http::start(200);
    let (shards, start) = run_shards(&file, &server, dir.path(), 2, &[]);
    let start = humantime::parse_rfc3339(&start).unwrap();
    let seen = server.seen.lock().unwrap();
    assert!(!seen.is_empty());
    let first = seen.iter().map(|(t, _)| *t).min().unwrap();
    assert!(
        first >= start,
        "a request arrived {:?} before the start",
        start.duration_since(first)
    );
    for path in &shards {
        assert!(read_json(path)["settings"]["start_lag_us"].is_i64());
    }
}

#[test]
fn out_dash_writes_the_run_to_stdout_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(dir.path(), "  rate: 50\n  duration: 1s\n");
    let server = Http::start(200);
    let (code, out) = napkin(&[
        "load",
        file.to_str().unwrap(),
        "--target",
        &server.url(),
        "--out",
        "-",
    ]);
    assert_eq!(code, 0, "{out}");
    let run: Value = serde_json::from_str(&out).expect("stdout is one JSON document");
    assert_eq!(run["format"], "napkin-run/1");
    assert!(run["requests"].as_u64().unwrap() > 0);
    assert!(out.ends_with("}\n"));
}

#[test]
fn merging_needs_every_shard_of_one_run_unless_partial_is_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(dir.path(), "  rate: 60\n  duration: 1s\n");
    let server = Http::start(200);
    let (shards, _) = run_shards(&file, &server, dir.path(), 3, &["--run-id", "partial-test"]);
    let merged = dir.path().join("merged.json");
    let out = merged.to_str().unwrap();
    let (a, b, c) = (
        shards[0].to_str().unwrap(),
        shards[1].to_str().unwrap(),
        shards[2].to_str().unwrap(),
    );

    let (code, text) = napkin(&["merge", a, c, "-o", out]);
    assert_eq!(code, 2, "{text}");
    assert!(
        text.contains("shard 1 is missing") && text.contains("--allow-partial"),
        "{text}"
    );
    assert!(!merged.exists());
    let (code, text) = napkin(&["merge", a, b, c, b, "-o", out]);
    assert_eq!(code, 2, "{text}");
    assert!(
        text.contains("shard 1/3 of run partial-test is in both"),
        "{text}"
    );

    // Shards of another run, or of another shard count, are refused even when partial.
    let mut other = read_json(&shards[1]);
    other["shard"]["run_id"] = "another-run".into();
    let other_run = dir.path().join("other-run.json");
    std::fs::write(&other_run, other.to_string()).unwrap();
    let (code, text) = napkin(&[
        "merge",
        a,
        other_run.to_str().unwrap(),
        "-o",
        out,
        "--allow-partial",
    ]);
    assert_eq!(code, 2, "{text}");
    assert!(
        text.contains("different runs") && text.contains("another-run"),
        "{text}"
    );
    other["shard"]["run_id"] = "partial-test".into();
    other["shard"]["count"] = 4.into();
    let other_count = dir.path().join("other-count.json");
    std::fs::write(&other_count, other.to_string()).unwrap();
    let (code, text) = napkin(&[
        "merge",
        a,
        other_count.to_str().unwrap(),
        "-o",
        out,
        "--allow-partial",
    ]);
    assert_eq!(code, 2, "{text}");
    assert!(
        text.contains("shard 1/4") && text.contains("one shard count"),
        "{text}"
    );

    let (code, text) = napkin(&["merge", a, c, "-o", out, "--allow-partial"]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("PARTIAL: shard 1 missing"), "{text}");
    let partial = read_json(&merged);
    assert_eq!(partial["shard"]["partial"], true);
    assert_eq!(partial["shard"]["missing"], serde_json::json!([1]));
    // The partial result takes the missing shard later, and is then whole.
    let whole = dir.path().join("whole.json");
    let (code, text) = napkin(&["merge", out, b, "-o", whole.to_str().unwrap()]);
    assert_eq!(code, 0, "{text}");
    let whole = read_json(&whole);
    assert!(
        whole["shard"].get("partial").is_none(),
        "{}",
        whole["shard"]
    );
    let sum: u64 = shards
        .iter()
        .map(|p| read_json(p)["requests"].as_u64().unwrap())
        .sum();
    assert_eq!(whole["requests"].as_u64(), Some(sum));
}

/// Closed model: users are divided (3 + 2 of 5) and user u of U sends requests numbered
/// u, u + U, u + 2U, ... (`{{seq}}` is the number + 1), whichever shard runs it.
#[test]
fn closed_model_shards_divide_the_users() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("closed.yaml");
    std::fs::write(
        &file,
        "name: closed\nactions:\n  - name: s\n    per_second: 1\n    request: {method: GET, path: '/s/{{seq}}'}\n\
         load:\n  concurrency: 5\n  duration: 1s\n",
    )
    .unwrap();
    let server = Http::start(200);
    let (shards, _) = run_shards(&file, &server, dir.path(), 2, &["--think-time", "20ms"]);
    let users: Vec<u64> = shards
        .iter()
        .map(|p| read_json(p)["settings"]["concurrency"].as_u64().unwrap())
        .collect();
    assert_eq!(users, [3, 2]);
    // Users 0, 2, 4 are shard 0's, 1 and 3 shard 1's: every number u + 5m was sent once.
    let numbers: Vec<u64> = server
        .received()
        .iter()
        .map(|r| {
            r.trim_start_matches("GET /s/")
                .trim()
                .parse::<u64>()
                .unwrap()
                - 1
        })
        .collect();
    let mut per_user = [0u64; 5];
    for n in &numbers {
        per_user[(n % 5) as usize] += 1;
    }
    assert!(per_user.iter().all(|&c| c > 5), "{per_user:?}");
    let unique: std::collections::BTreeSet<u64> = numbers.iter().copied().collect();
    assert_eq!(
        unique.len(),
        numbers.len(),
        "a request number was sent twice"
    );
    for u in 0..5u64 {
        let mine: Vec<u64> = numbers
            .iter()
            .filter(|n| *n % 5 == u)
            .map(|n| n / 5)
            .collect();
        let sent = mine.len() as u64;
        assert_eq!(mine.iter().max(), Some(&(sent - 1)), "user {u}: {mine:?}");
    }
}

#[test]
fn bad_shard_flags_exit_2_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(dir.path(), "  rate: 50\n  duration: 1s\n");
    let file = file.to_str().unwrap();
    let server = Http::start(200);
    let url = server.url();
    let past = rfc3339(SystemTime::now() - Duration::from_secs(3600));
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--shard", "2/2"], "not below the shard count 2"),
        (vec!["--shard", "0/0"], "at least 1"),
        (vec!["--shard", "one/4"], "e.g. 0/4"),
        (vec!["--shard", "1"], "I/N"),
        (vec!["--start-at", "tomorrow"], "not an RFC 3339 time"),
        (vec!["--start-at", "2026-12-01T12:00:00"], "UTC offset"),
        (vec!["--start-at", &past], "more than the warm-up"),
        (vec!["--out", "-", "--hlog", "-"], "standard output"),
        (
            vec!["--out", "-", "--hlog", "/dev/stdout"],
            "standard output",
        ),
        (vec!["--shard", "0/8"], "raise --connections to 8"),
        (vec!["--run-id", "x"], "--shard"),
    ];
    for (flags, expected) in cases {
        let mut args = vec!["load", file, "--target", &url];
        args.extend(&flags);
        let (code, text) = napkin(&args);
        assert_eq!(code, 2, "{flags:?}: {text}");
        assert!(text.contains(expected), "{flags:?}: {text}");
    }
    // A shard needs a target all shards load, not an embedded server of its own.
    let (code, text) = napkin(&["load", file, "--shard", "0/2"]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("--target"), "{text}");
    assert_eq!(server.requests.load(std::sync::atomic::Ordering::SeqCst), 0);
}

/// The real binary as a Kubernetes pod runs it: a shard with `--out -`, stopped by SIGTERM,
/// writes an interrupted result as the only thing on stdout.
#[test]
fn sigterm_ends_a_shard_with_its_result_alone_on_stdout() {
    use std::io::{BufRead, BufReader, Read};
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(dir.path(), "  rate: 100\n  duration: 30s\n");
    let server = Http::start(200);
    let start = rfc3339(SystemTime::now() + Duration::from_millis(500));
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_napkin"))
        .args(["load", file.to_str().unwrap(), "--target", &server.url()])
        .args(["--shard", "1/2", "--start-at", &start, "--out", "-"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The announcement on stderr comes once the signal handlers are in place.
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    while !line.contains("shard 1/2 of run") {
        line.clear();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "stderr ended");
    }
    // Past the warm-up (25 requests of this shard), well into the measured window.
    let give_up = std::time::Instant::now() + Duration::from_secs(30);
    while server.requests.load(std::sync::atomic::Ordering::SeqCst) < 60 {
        assert!(std::time::Instant::now() < give_up, "no requests");
        std::thread::sleep(Duration::from_millis(5));
    }
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(0), "{rest}");
    let run: Value = serde_json::from_str(&out).expect("stdout is one JSON document");
    assert_eq!(run["interrupted"], true);
    assert_eq!(run["shard"]["index"], 1);
    assert!(run["requests"].as_u64().unwrap() >= 10);
    assert!(rest.contains("interrupted"), "{rest}");
}
