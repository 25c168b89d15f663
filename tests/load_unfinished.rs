//! A server that stalls until after the run's end through `napkin load`: the requests in
//! flight are `unfinished` errors in the run file, the ones queued behind them are `dropped`,
//! the run is saturated, the summary says so, and the SLO gate fails (exit 1) instead of
//! passing on the answered part alone.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use clap::Parser;

/// A keep-alive HTTP/1.1 server on 127.0.0.1:0 that answers 200 until `freeze_at`, then
/// never answers again (the connections stay open, so nothing times out or fails).
fn freezing_server(freeze_at: Instant) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(100) {
            let Ok(stream) = stream else { return };
            std::thread::spawn(move || serve(stream, freeze_at));
        }
    });
    format!("http://{addr}")
}

fn serve(stream: TcpStream, freeze_at: Instant) {
    let mut out = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    loop {
        // The test's scenario sends GETs only (no body): read the head up to the empty line.
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) if line.trim_end().is_empty() => break,
                Ok(_) => {}
            }
        }
        if Instant::now() >= freeze_at {
            // Frozen: hold the connection (bounded; the test ends long before).
            std::thread::sleep(Duration::from_secs(30));
            return;
        }
        let resp = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}";
        if out.write_all(resp.as_bytes()).is_err() {
            return;
        }
    }
}

#[test]
fn requests_stalled_past_the_end_are_unfinished_or_dropped_and_fail_the_gate() {
    let dir = tempfile::tempdir().unwrap();
    // 100/s for 3 s, timeout 10 s (nothing times out); the server freezes after ~1 s.
    let text = "name: stall\n\
                actions:\n\
                \x20 - name: read\n\
                \x20   per_second: 1\n\
                \x20   request: {method: GET, path: /r}\n\
                load:\n\
                \x20 rate: 100\n\
                \x20 duration: 3s\n\
                \x20 connections: 4\n\
                \x20 timeout: 10s\n\
                \x20 slo:\n\
                \x20   all: {error_rate: 5%}\n";
    let file = dir.path().join("stall.yaml");
    std::fs::write(&file, text).unwrap();
    let out = dir.path().join("run.json");
    let url = freezing_server(Instant::now() + Duration::from_millis(1_000));
    let argv = [
        "napkin",
        "load",
        file.to_str().unwrap(),
        "--target",
        &url,
        "--out",
        out.to_str().unwrap(),
    ];
    let cli = napkin::Cli::try_parse_from(argv).unwrap();
    let mut text = Vec::new();
    let code = napkin::run(cli, &mut text).unwrap();
    let text = String::from_utf8(text).unwrap();
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("SLO: FAIL"), "{text}");
    assert!(text.contains("unfinished"), "{text}");
    assert!(text.contains("The target could not keep up"), "{text}");
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    // The 4 requests in flight when it froze (one per connection) never got an outcome;
    // the ~2 s x 100/s due after the freeze queued behind them and were never sent.
    let unfinished = run["errors"]["unfinished"].as_u64().unwrap();
    assert!((1..=4).contains(&unfinished), "{}", run["errors"]);
    assert_eq!(run["errors"]["total"], unfinished);
    let (requests, dropped) = (
        run["requests"].as_u64().unwrap(),
        run["dropped"].as_u64().unwrap(),
    );
    assert_eq!(
        requests + dropped,
        300,
        "every offered request is accounted for"
    );
    assert!((180..=220).contains(&dropped), "dropped {dropped}");
    assert_eq!(run["saturated"], true);
    assert_eq!(run["all"]["requests"], requests);
    assert_eq!(run["settings"]["offered"], 300);
    assert_eq!(run["settings"]["unfinished"], unfinished);
    assert_eq!(
        run["actions"]["read"]["error_kinds"]["unfinished"],
        unfinished
    );
    let dropped_by_second: Vec<u64> = run["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["dropped"].as_u64().unwrap_or(0))
        .collect();
    assert_eq!(dropped_by_second.iter().sum::<u64>(), dropped);
    assert_eq!(dropped_by_second[2], 100, "{dropped_by_second:?}");
    // The error-rate check passes on the answered part; the gate fails on saturation.
    let checks = run["slo"]["checks"].as_array().unwrap();
    assert_eq!(checks[0]["metric"], "error_rate");
    assert_eq!(checks[1]["metric"], "saturated");
    assert_eq!(checks[1]["pass"], false);
    assert_eq!(checks[1]["value"].as_f64(), Some(dropped as f64));
    assert_eq!(run["slo"]["pass"], false);
}
