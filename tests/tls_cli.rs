//! `napkin load` and `napkin serve` over HTTPS, mutual TLS and HTTP/2 (issue 10), against real
//! servers on loopback: `napkin serve --self-signed` and with given certificates (the binary,
//! as a user runs it), an in-test rustls server (expired or wrong-name certificates, client
//! certificates required, no h2), and the embedded server with `--embedded-tls`. Bad input
//! exits 2 naming the flag or file; a run whose handshakes all fail exits 3 with one line.

mod load_support;
#[path = "../loadgen/tests/common/tls.rs"]
mod tls_support;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use load_support::{napkin, read_json};
use tls_support::{Ca, Options, Server};

/// A scenario of one `GET /healthz` action (what every server here answers, or 404 for the
/// in-test server's any-path 200).
fn healthz(dir: &Path) -> PathBuf {
    let path = dir.join("healthz.yaml");
    std::fs::write(
        &path,
        "name: healthz\nactions:\n  - name: healthz\n    per_second: 1\n    request: {method: GET, path: /healthz, expect: [200]}\n",
    )
    .unwrap();
    path
}

/// `napkin serve ARGS` as a child process; returns it and the URL of its `listening on` line
/// (the lines before it are returned too).
struct Serve {
    child: Child,
    url: String,
    startup: Vec<String>,
}

impl Serve {
    fn start(args: &[&str]) -> Serve {
        let child = Command::new(env!("CARGO_BIN_EXE_napkin"))
            .args(["serve", "--addr", "127.0.0.1:0", "--seed-users", "50"])
            .args(["--log-level", "warn"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Owned from here on, so that it is killed and waited for whatever happens.
        let mut serve = Serve {
            child,
            url: String::new(),
            startup: Vec::new(),
        };
        let mut lines = BufReader::new(serve.child.stdout.take().unwrap()).lines();
        // Bounded: the server prints at most a few lines before it listens.
        for _ in 0..10 {
            let line = lines.next().expect("a startup line").unwrap();
            if let Some(url) = line.strip_prefix("listening on ") {
                serve.url = url.to_string();
                return serve;
            }
            serve.startup.push(line);
        }
        panic!("no `listening on` line: {:?}", serve.startup);
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn napkin_serve_self_signed_is_trusted_through_its_certificate_file_over_h1_and_h2() {
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("served.pem");
    let serve = Serve::start(&["--self-signed", "--cert-out", s(&cert)]);
    assert!(serve.url.starts_with("https://127.0.0.1:"), "{}", serve.url);
    assert!(
        serve
            .startup
            .iter()
            .any(|l| l.contains(s(&cert)) && l.contains("--cacert")),
        "the startup log names the certificate file: {:?}",
        serve.startup
    );
    let scenario = healthz(dir.path());
    let out = dir.path().join("run.json");
    let base = [
        s(&scenario),
        "--target",
        &serve.url,
        "--rate",
        "100",
        "--duration",
        "1s",
    ];

    // Untrusted: one line, exit 3, no run file.
    let (code, text) = napkin(&[&base[..], &["--out", s(&out)]].concat());
    assert_eq!(code, 3, "{text}");
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(
        text.contains("unknown issuer") && text.contains("--cacert"),
        "{text}"
    );
    assert!(!out.exists());

    for (extra, protocol) in [
        (&[][..], "http/1.1"),
        (&["--http2", "--streams", "2"][..], "h2"),
    ] {
        let args = [&base[..], &["--cacert", s(&cert), "--out", s(&out)], extra].concat();
        let (code, text) = napkin(&args);
        assert_eq!(code, 0, "{text}");
        let run = read_json(&out);
        assert_eq!(run["protocol"], protocol);
        assert_eq!(run["tls"]["version"], "TLSv1.3");
        assert_eq!(run["tls"]["alpn"], protocol);
        assert_eq!(run["insecure"], false);
        assert_eq!(run["requests"], 100);
        assert_eq!(run["errors"]["total"], 0);
        let opened = run["connections_opened"].as_u64().unwrap();
        assert!(opened >= 1, "{run}");
        assert!(
            run["all"]["connect_us"]["p50"].as_u64().unwrap() > 0,
            "{run}"
        );
        assert!(text.contains("connections opened"), "{text}");
    }

    // localhost is in the certificate too; --insecure trusts without it and says so.
    let port = serve.url.rsplit(':').next().unwrap();
    let by_name = format!("https://localhost:{port}");
    let args = [
        s(&scenario),
        "--target",
        &by_name,
        "--cacert",
        s(&cert),
        "--rate",
        "50",
        "--duration",
        "1s",
    ];
    assert_eq!(napkin(&args).0, 0);
    let args = [&base[..], &["--insecure", "--out", s(&out)]].concat();
    let (code, text) = napkin(&args);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("NOT verified (--insecure)"), "{text}");
    assert_eq!(read_json(&out)["insecure"], true);
}

#[test]
fn napkin_serve_with_given_certificates_and_bad_ones() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("napkin test CA");
    let (cert, key) = ca.server(&["127.0.0.1"], false).write(dir.path(), "server");
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, &ca.cert_pem).unwrap();
    let serve = Serve::start(&["--tls-cert", s(&cert), "--tls-key", s(&key)]);
    let scenario = healthz(dir.path());
    let args = [
        s(&scenario),
        "--target",
        &serve.url,
        "--cacert",
        s(&ca_file),
        "--rate",
        "100",
        "--duration",
        "1s",
    ];
    let (code, text) = napkin(&args);
    assert_eq!(code, 0, "{text}");

    // A missing file and a key of another certificate: exit 2, naming the file.
    let (_, other_key) = ca.server(&["127.0.0.1"], false).write(dir.path(), "other");
    let missing = dir.path().join("missing.pem");
    for (cert, key, says) in [
        (&missing, &key, s(&missing).to_string()),
        (&cert, &other_key, "does not match".to_string()),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_napkin"))
            .args(["serve", "--addr", "127.0.0.1:0", "--seed-users", "10"])
            .args(["--tls-cert", s(cert), "--tls-key", s(key)])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains(&says), "{err}");
    }
}

#[test]
fn bad_tls_input_exits_2_naming_the_flag_or_file() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = healthz(dir.path());
    let ca = Ca::new("napkin test CA");
    let (cert, key) = ca.client("me").write(dir.path(), "client");
    let (_, other_key) = ca.client("you").write(dir.path(), "other");
    let not_pem = dir.path().join("not.pem");
    std::fs::write(&not_pem, "hello, I am no certificate\n").unwrap();
    let missing = dir.path().join("missing.pem");
    let https = "https://127.0.0.1:9";
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["--target", https, "--cacert", s(&missing)],
            s(&missing),
        ),
        (vec!["--target", https, "--cacert", s(&not_pem)], "PEM"),
        (
            vec![
                "--target",
                https,
                "--cert",
                s(&cert),
                "--key",
                s(&other_key),
            ],
            "does not match",
        ),
        (
            vec!["--target", https, "--cert", s(&cert), "--key", s(&not_pem)],
            "--key",
        ),
        (
            vec!["--target", https, "--cert", s(&cert)],
            "--cert needs --key",
        ),
        (
            vec!["--target", https, "--key", s(&key)],
            "--key needs --cert",
        ),
        (
            vec!["--target", https, "--resolve", "example.com:443"],
            "--resolve",
        ),
        (
            vec!["--target", https, "--resolve", "example.com:443:nowhere"],
            "HOST:PORT:ADDR",
        ),
        (
            vec!["--target", https, "--http2", "--streams", "0"],
            "--streams 0",
        ),
        (
            vec!["--target", https, "--streams", "4"],
            "--streams needs --http2",
        ),
        (
            vec!["--target", "http://127.0.0.1:9", "--insecure"],
            "https://",
        ),
        (vec!["--target", https, "--embedded-tls"], "--embedded-tls"),
    ];
    for (flags, says) in cases {
        let args = [
            &[s(&scenario), "--rate", "10", "--duration", "1s"][..],
            &flags,
        ]
        .concat();
        let (code, text) = napkin(&args);
        assert_eq!(code, 2, "{flags:?}: {text}");
        assert!(
            text.contains(says),
            "{flags:?}: expected {says:?} in {text}"
        );
    }
}

/// `napkin load` against `server` trusting `ca`: exit 3 with one line saying `says`.
fn fails_in_one_line(server: &Server, ca: &Ca, extra: &[&str], says: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let scenario = healthz(dir.path());
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, &ca.cert_pem).unwrap();
    let out = dir.path().join("run.json");
    let url = server.url(true);
    let args = [
        &[
            s(&scenario),
            "--target",
            &url,
            "--cacert",
            s(&ca_file),
            "--rate",
            "50",
        ][..],
        &["--duration", "1s", "--out", s(&out)],
        extra,
    ]
    .concat();
    let (code, text) = napkin(&args);
    assert_eq!(code, 3, "{text}");
    assert_eq!(text.lines().count(), 1, "one line: {text}");
    for word in says {
        assert!(text.contains(word), "expected {word:?} in {text}");
    }
    assert!(!out.exists(), "no run file");
}

#[test]
fn every_handshake_failing_exits_3_with_the_reason_and_the_fix() {
    let ca = Ca::new("napkin test CA");
    let expired = Server::start(Options {
        identity: Some(ca.server(&["127.0.0.1"], true)),
        ..Options::default()
    });
    fails_in_one_line(&expired, &ca, &[], &["expired"]);
    let wrong_name = Server::start(Options {
        identity: Some(ca.server(&["db.internal"], false)),
        ..Options::default()
    });
    fails_in_one_line(&wrong_name, &ca, &[], &["name mismatch", "--resolve"]);
    let clients = Ca::new("client CA");
    let mtls = Server::start(Options {
        identity: Some(ca.server(&["127.0.0.1"], false)),
        client_ca: Some(clients.cert_pem.clone()),
        ..Options::default()
    });
    fails_in_one_line(
        &mtls,
        &ca,
        &[],
        &["client certificate", "--cert FILE --key FILE"],
    );
    let no_h2 = Server::start(Options {
        identity: Some(ca.server(&["127.0.0.1"], false)),
        alpn: vec![b"http/1.1".to_vec()],
        ..Options::default()
    });
    fails_in_one_line(&no_h2, &ca, &["--http2"], &["did not negotiate HTTP/2"]);

    // Mutual TLS with the client certificate: the run goes through, the server saw it.
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = clients.client("load").write(dir.path(), "me");
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, &ca.cert_pem).unwrap();
    let scenario = healthz(dir.path());
    let url = mtls.url(true);
    let args = [
        s(&scenario),
        "--target",
        &url,
        "--cacert",
        s(&ca_file),
        "--cert",
        s(&cert),
        "--key",
        s(&key),
        "--rate",
        "50",
        "--duration",
        "1s",
    ];
    let (code, text) = napkin(&args);
    assert_eq!(code, 0, "{text}");
    assert!(tls_support::Stats::get(&mtls.stats.client_certs) >= 2);
}

#[test]
fn http2_prior_knowledge_against_an_http1_only_server_exits_3() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = healthz(dir.path());
    let h1 = load_support::Http::start(200);
    let url = h1.url();
    let args = [
        s(&scenario),
        "--target",
        &url,
        "--http2",
        "--rate",
        "50",
        "--duration",
        "1s",
    ];
    let (code, text) = napkin(&args);
    assert_eq!(code, 3, "{text}");
    assert!(
        text.contains("does not speak HTTP/2 with prior knowledge"),
        "{text}"
    );
    assert!(text.contains("nothing was sent"), "{text}");
}

/// A scenario with a capture, a template that uses it and an SLO, against the embedded
/// reference server.
fn captured(dir: &Path) -> PathBuf {
    let path = dir.join("captured.yaml");
    std::fs::write(
        &path,
        r#"name: captured
actions:
  - name: post_tweet
    per_second: 1
    request:
      method: POST
      path: /tweets
      headers: {content-type: application/json}
      body: '{"user_id": {{user}}, "text": "{{text 40}}"}'
      capture: {tweet: id}
      expect: [201]
  - name: like_tweet
    per_second: 2
    request: {method: PUT, path: '/tweets/{{tweet}}/likes/{{user}}', expect: [204]}
load:
  keys:
    user: {count: 100, distribution: uniform}
  slo:
    all: {p99: 30s, error_rate: 1%}
"#,
    )
    .unwrap();
    path
}

#[test]
fn the_embedded_server_over_tls_and_h2_runs_captures_templates_slos_and_hlog_like_h1() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = captured(dir.path());
    let mut runs = Vec::new();
    // Same lanes either way (8 connections, or 2 x 4 streams): the same schedule.
    for extra in [
        &["--connections", "8"][..],
        &[
            "--embedded-tls",
            "--http2",
            "--streams",
            "4",
            "--connections",
            "2",
        ][..],
    ] {
        let out = dir.path().join("run.json");
        let hlog = dir.path().join("run.hlog");
        let args = [
            &[
                s(&scenario),
                "--rate",
                "150",
                "--duration",
                "2s",
                "--seed",
                "3",
            ][..],
            &["--out", s(&out), "--hlog", s(&hlog)],
            extra,
        ]
        .concat();
        let (code, text) = napkin(&args);
        assert_eq!(code, 0, "{extra:?}: {text}");
        let run = read_json(&out);
        assert_eq!(run["errors"]["total"], 0, "{extra:?}: {run}");
        assert_eq!(run["slo"]["pass"], true);
        assert!(!run["slo"]["checks"].as_array().unwrap().is_empty());
        let log = std::fs::read_to_string(&hlog).unwrap();
        assert!(log.contains("Tag=like_tweet,"), "{log}");
        let report = Command::new(env!("CARGO_BIN_EXE_napkin"))
            .args(["report", s(&out), "--format", "markdown"])
            .output()
            .unwrap();
        assert!(report.status.success());
        runs.push((run, String::from_utf8(report.stdout).unwrap()));
    }
    let (h1, h2) = (&runs[0].0, &runs[1].0);
    assert_eq!(h2["protocol"], "h2");
    assert_eq!(h2["tls"]["alpn"], "h2");
    assert!(runs[1].1.contains("h2 over TLSv1.3"), "{}", runs[1].1);
    assert_eq!(h1["protocol"], "http/1.1");
    assert_eq!(h1["tls"], serde_json::Value::Null);
    assert_eq!(h1["requests"], 300);
    assert_eq!(h2["requests"], 300);
    assert_eq!(h1["connections_opened"], 8);
    assert_eq!(h2["connections_opened"], 2);
}
