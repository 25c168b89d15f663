//! `napkin load`'s outputs under real-world conditions: output paths checked before the run
//! starts, a closed stdout/stderr (`| head`) that must not cost the run file or panic, and a
//! target host that does not resolve (fails fast with exit 3).

mod load_support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::Duration;

use load_support::{napkin, scenario, Http};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn output_paths_in_a_missing_directory_fail_before_anything_is_sent() {
    let server = Http::start(200);
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(&dir, "  rate: 50\n  duration: 1s\n");
    let good = dir.path().join("run.json");
    let missing = dir.path().join("nope");
    for (flag, other) in [("--hlog", "--out"), ("--out", "--hlog")] {
        let bad = missing.join("run.x");
        let (code, text) = napkin(&[
            s(&file),
            "--target",
            &server.url(),
            flag,
            s(&bad),
            other,
            s(&good),
        ]);
        assert_eq!(code, 2, "{flag}: {text}");
        let want = format!(
            "cannot write {}: directory {} does not exist",
            bad.display(),
            missing.display()
        );
        assert!(text.contains(&want), "{flag}: {text}");
        assert!(!bad.exists() && !good.exists(), "{flag}: nothing written");
    }
    // Checked up front: the server never saw a request (the run would send 50/s).
    assert_eq!(server.requests.load(Ordering::SeqCst), 0, "nothing sent");
}

#[test]
fn output_paths_under_a_file_or_naming_a_directory_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(&dir, "  rate: 50\n  duration: 1s\n");
    let under_file = file.join("run.json");
    let (code, text) = napkin(&[
        s(&file),
        "--target",
        "http://127.0.0.1:9",
        "--out",
        s(&under_file),
    ]);
    assert_eq!(code, 2, "{text}");
    assert!(
        text.contains(&format!("{} is not a directory", file.display())),
        "{text}"
    );
    let (code, text) = napkin(&[
        s(&file),
        "--target",
        "http://127.0.0.1:9",
        "--hlog",
        s(dir.path()),
    ]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("it is a directory"), "{text}");
}

#[test]
fn a_host_that_does_not_resolve_fails_fast_with_exit_3_and_no_files() {
    let dir = tempfile::tempdir().unwrap();
    // Only the up-front check words its message "cannot resolve host"; the run never starts.
    let file = scenario(&dir, "  rate: 50\n  duration: 30s\n");
    let out = dir.path().join("run.json");
    let (code, text) = napkin(&[
        s(&file),
        "--target",
        "http://nonexistent.invalid:8080",
        "--out",
        s(&out),
    ]);
    assert_eq!(code, 3, "{text}");
    assert!(
        text.contains("cannot resolve host nonexistent.invalid"),
        "{text}"
    );
    assert!(!out.exists());
}

/// Starts the binary for a 1 s run with stdout and stderr given by the test; the run file and
/// interval log go to `dir`.
fn load_binary(
    dir: &tempfile::TempDir,
    url: &str,
    stdout: Stdio,
    stderr: Stdio,
) -> std::process::Child {
    let file = scenario(dir, "  rate: 100\n  duration: 1s\n  connections: 2\n");
    Command::new(env!("CARGO_BIN_EXE_napkin"))
        .args(["load", s(&file), "--target", url, "--out"])
        .arg(dir.path().join("run.json"))
        .arg("--hlog")
        .arg(dir.path().join("run.hlog"))
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .unwrap()
}

/// Closes the test's read ends of the child's stdout / stderr pipes (right after the start;
/// the summary comes after the 1 s run, so its writes surely hit a closed pipe: EPIPE).
fn close_pipes(child: &mut std::process::Child, stdout: bool, stderr: bool) {
    if stdout {
        drop(child.stdout.take().expect("piped stdout"));
    }
    if stderr {
        drop(child.stderr.take().expect("piped stderr"));
    }
}

#[test]
fn closed_stdout_and_stderr_neither_panic_nor_lose_the_run_file() {
    let server = Http::start(200);
    let dir = tempfile::tempdir().unwrap();
    let mut child = load_binary(&dir, &server.url(), Stdio::piped(), Stdio::piped());
    close_pipes(&mut child, true, true);
    let status = child.wait().unwrap();
    assert_ne!(status.code(), Some(101), "panicked");
    assert_eq!(status.code(), Some(0), "exit code comes from the run");
    let run: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("run.json")).unwrap()).unwrap();
    assert_eq!(run["requests"], 100);
    let hlog = std::fs::read_to_string(dir.path().join("run.hlog")).unwrap();
    assert!(hlog.contains("Tag=read,"), "{hlog}");
}

#[test]
fn a_closed_stdout_is_not_an_error_and_stderr_stays_quiet() {
    let server = Http::start(200);
    let dir = tempfile::tempdir().unwrap();
    let mut child = load_binary(&dir, &server.url(), Stdio::piped(), Stdio::piped());
    close_pipes(&mut child, true, false);
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("Broken pipe"), "{stderr}");
    assert!(dir.path().join("run.json").is_file());
}

#[test]
fn a_failed_run_with_closed_stderr_keeps_exit_3() {
    // Nothing listens on the port: every request is a connect error -> exit 3, whose message
    // goes to a closed stderr.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("http://{addr}");
    let mut child = load_binary(&dir, &url, Stdio::piped(), Stdio::piped());
    close_pipes(&mut child, true, true);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(3));
    assert!(dir.path().join("run.json").is_file());
}

#[test]
fn an_interval_log_that_cannot_be_written_during_the_run_is_an_error_after_the_run_file() {
    let server = Http::start(200);
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(&dir, "  rate: 50\n  duration: 2s\n  warmup: 1s\n");
    let out = dir.path().join("run.json");
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    let hlog = logs.join("run.hlog");
    // The log is created with the first measured second (2 s in); its directory passes the
    // up-front check and disappears once the run is under way (its first request is seen).
    let remove = logs.clone();
    let seen = server.requests.clone();
    let remover = std::thread::spawn(move || {
        let give_up = std::time::Instant::now() + Duration::from_secs(30);
        while seen.load(Ordering::SeqCst) == 0 && std::time::Instant::now() < give_up {
            std::thread::sleep(Duration::from_millis(2));
        }
        std::fs::remove_dir(remove).unwrap();
    });
    let (code, text) = napkin(&[
        s(&file),
        "--target",
        &server.url(),
        "--out",
        s(&out),
        "--hlog",
        s(&hlog),
    ]);
    remover.join().unwrap();
    assert_eq!(code, 2, "{text}");
    assert!(
        text.contains(&format!("writing the interval log {}", hlog.display())),
        "{text}"
    );
    assert!(out.is_file(), "the run file is written first");
    assert!(!hlog.exists());
}
