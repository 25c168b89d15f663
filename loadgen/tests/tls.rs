//! TLS and HTTP/2 in the engine against real servers on loopback (rustls in the test, with
//! certificates made in the test): the verification paths and their reasons, mutual TLS, the
//! handshake histogram, session resumption on reconnect, the HTTP/2 stream limit per
//! connection, and HTTP/1.1 and HTTP/2 runs counting the same requests.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::fixed::a_and_b;
use common::tls::{Ca, Identity, Options, Server, Stats};
use loadgen::{
    ClientTls, Constant, LoadShape, NoSink, Outcome, ProbeError, Protocol, ResolveOverride,
    RunPlan, StopHandle, Target, TlsFailure, TlsOptions, Transport,
};

/// TLS trusting `ca` (PEM) only, or verifying nothing.
fn client(
    ca: Option<&str>,
    identity: Option<&Identity>,
    http2: bool,
    dir: &tempfile::TempDir,
) -> ClientTls {
    let identity = identity.map(|id| id.write(dir.path(), "client"));
    let opts = TlsOptions {
        ca_pem: ca.map(|c| c.as_bytes().to_vec()).into_iter().collect(),
        insecure: ca.is_none(),
        identity,
        ..TlsOptions::default()
    };
    ClientTls::new(&opts, http2).unwrap()
}

fn transport(tls: Option<ClientTls>, protocol: Protocol, keepalive: bool) -> Transport {
    Transport {
        protocol,
        keepalive,
        tls,
        resolve: vec![],
    }
}

fn open(url: &str, rate: f64, connections: usize, secs: f64, transport: Transport) -> RunPlan {
    RunPlan {
        transport,
        target: Target::parse(url).unwrap(),
        shape: LoadShape::Open {
            schedule: Arc::new(Constant { rate }),
            connections,
        },
        measured: Duration::from_secs_f64(secs),
        warmup: Duration::ZERO,
        timeout: Duration::from_secs(2),
        threads: 1,
        seed: 7,
        shard: loadgen::Shard::WHOLE,
        start_at: None,
    }
}

fn closed(url: &str, users: usize, secs: f64, transport: Transport) -> RunPlan {
    RunPlan {
        shape: LoadShape::Closed {
            users,
            think: Duration::ZERO,
        },
        ..open(url, 1.0, 1, secs, transport)
    }
}

/// The plan most tests verify with: 100/s on one kept-alive connection for 0.3 s (30
/// requests) to `server` over TLS.
fn short_tls_run(server: &Server, tls: ClientTls, protocol: Protocol) -> RunPlan {
    open(
        &server.url(true),
        100.0,
        1,
        0.3,
        transport(Some(tls), protocol, true),
    )
}

fn run(plan: &RunPlan) -> Outcome {
    loadgen::run(plan, a_and_b(), &mut NoSink, &StopHandle::new()).unwrap()
}

fn tls_server(identity: Identity) -> Server {
    Server::start(Options {
        identity: Some(identity),
        ..Options::default()
    })
}

/// The probe's reason, and every request of a short run failing with the same one.
fn assert_fails_with(plan: &RunPlan, reason: TlsFailure) {
    match loadgen::probe(plan) {
        Err(ProbeError::Tls { reason: r, .. }) => assert_eq!(r, reason),
        other => panic!("probe: expected {reason:?}, got {other:?}"),
    }
    let out = run(plan);
    assert!(out.all.requests > 0);
    assert_eq!(out.all.successes(), 0);
    assert_eq!(
        out.all.errors.tls.get(&reason).copied(),
        Some(out.all.requests),
        "{:?}",
        out.all.errors
    );
    assert_eq!(out.connections.opened, 0, "no handshake completed");
}

#[test]
fn a_certificate_from_a_trusted_ca_verifies_and_the_session_is_reported() {
    let ca = Ca::new("test CA");
    let server = tls_server(ca.server(&["localhost", "127.0.0.1"], false));
    let dir = tempfile::tempdir().unwrap();
    let tls = client(Some(&ca.cert_pem), None, false, &dir);
    let plan = open(
        &server.url(true),
        200.0,
        2,
        0.5,
        transport(Some(tls), Protocol::Http1, true),
    );
    let probe = loadgen::probe(&plan).unwrap();
    assert!(probe.reached);
    let out = run(&plan);
    assert_eq!(out.all.requests, 100, "{:?}", out.all.errors);
    assert_eq!(out.all.successes(), 100);
    let info = out.connections.tls.expect("tls info");
    assert_eq!(info.version, "TLSv1.3");
    assert_eq!(info.alpn.as_deref(), Some("http/1.1"));
    assert!(info.cipher.starts_with("TLS_"), "{}", info.cipher);
    assert_eq!(out.connections.opened, 2, "two kept-alive connections");
    assert_eq!(out.connections.connect.len(), 2);
}

#[test]
fn an_unknown_issuer_a_wrong_name_and_an_expired_certificate_fail_with_their_reason() {
    let ca = Ca::new("test CA");
    let dir = tempfile::tempdir().unwrap();
    let other_ca = Ca::new("another CA");
    let cases = [
        (
            ca.server(&["127.0.0.1"], false),
            &other_ca.cert_pem,
            TlsFailure::UnknownIssuer,
        ),
        (
            ca.server(&["other.example"], false),
            &ca.cert_pem,
            TlsFailure::NameMismatch,
        ),
        (
            ca.server(&["127.0.0.1"], true),
            &ca.cert_pem,
            TlsFailure::Expired,
        ),
    ];
    for (identity, trusted, reason) in cases {
        let server = tls_server(identity);
        let tls = client(Some(trusted), None, false, &dir);
        let plan = short_tls_run(&server, tls, Protocol::Http1);
        assert_fails_with(&plan, reason);
    }
}

#[test]
fn insecure_accepts_any_certificate_and_resolve_reaches_a_named_host() {
    let ca = Ca::new("test CA");
    let server = tls_server(ca.server(&["service.test"], true));
    let dir = tempfile::tempdir().unwrap();
    // Expired and for another name: only --insecure gets through.
    let tls = client(None, None, false, &dir);
    let plan = short_tls_run(&server, tls, Protocol::Http1);
    assert!(loadgen::probe(&plan).is_ok());
    assert_eq!(run(&plan).all.successes(), 30);

    // The right name through --resolve: verified against service.test, sent to 127.0.0.1.
    let server = tls_server(ca.server(&["service.test"], false));
    let tls = client(Some(&ca.cert_pem), None, false, &dir);
    let url = format!("https://service.test:{}", server.addr.port());
    let mut t = transport(Some(tls), Protocol::Http1, true);
    t.resolve =
        vec![
            ResolveOverride::parse(&format!("service.test:{}:127.0.0.1", server.addr.port()))
                .unwrap(),
        ];
    let plan = open(&url, 100.0, 1, 0.3, t);
    assert!(loadgen::probe(&plan).unwrap().reached);
    let out = run(&plan);
    assert_eq!(out.all.successes(), 30, "{:?}", out.all.errors);
}

#[test]
fn mutual_tls_needs_the_client_certificate_and_says_so_without_one() {
    let ca = Ca::new("server CA");
    let clients = Ca::new("client CA");
    let server = Server::start(Options {
        identity: Some(ca.server(&["127.0.0.1"], false)),
        client_ca: Some(clients.cert_pem.clone()),
        ..Options::default()
    });
    let dir = tempfile::tempdir().unwrap();
    for http2 in [false, true] {
        let protocol = if http2 {
            Protocol::Http2 { streams: 2 }
        } else {
            Protocol::Http1
        };
        let tls = client(Some(&ca.cert_pem), None, http2, &dir);
        let plan = short_tls_run(&server, tls, protocol);
        match loadgen::probe(&plan) {
            Err(ProbeError::Tls { reason, .. }) => {
                assert_eq!(reason, TlsFailure::NoClientCert, "h2 {http2}")
            }
            other => panic!("h2 {http2}: {other:?}"),
        }
        let out = run(&plan);
        assert_eq!(out.all.successes(), 0);
        assert_eq!(
            out.all.errors.tls.get(&TlsFailure::NoClientCert).copied(),
            Some(out.all.requests),
            "h2 {http2}: {:?}",
            out.all.errors
        );
    }
    let seen_before = Stats::get(&server.stats.client_certs);
    let me = clients.client("load generator");
    let tls = client(Some(&ca.cert_pem), Some(&me), false, &dir);
    let plan = short_tls_run(&server, tls, Protocol::Http1);
    assert!(loadgen::probe(&plan).is_ok());
    assert_eq!(run(&plan).all.successes(), 30);
    assert_eq!(
        Stats::get(&server.stats.client_certs) - seen_before,
        2,
        "probe + one connection"
    );

    // A client certificate from a CA the server does not trust is refused.
    let stranger = Ca::new("stranger").client("someone");
    let tls = client(Some(&ca.cert_pem), Some(&stranger), false, &dir);
    let plan = short_tls_run(&server, tls, Protocol::Http1);
    assert!(matches!(
        loadgen::probe(&plan),
        Err(ProbeError::Tls {
            reason: TlsFailure::ClientCertRejected,
            ..
        })
    ));
}

#[test]
fn without_keepalive_every_request_opens_a_connection_timed_in_the_histogram_and_resumes() {
    let ca = Ca::new("test CA");
    let server = tls_server(ca.server(&["127.0.0.1"], false));
    let dir = tempfile::tempdir().unwrap();
    let tls = client(Some(&ca.cert_pem), None, false, &dir);
    let plan = open(
        &server.url(true),
        100.0,
        2,
        1.0,
        transport(Some(tls), Protocol::Http1, false),
    );
    let out = run(&plan);
    assert_eq!(out.all.successes(), 100, "{:?}", out.all.errors);
    let c = &out.connections;
    assert_eq!(c.opened, 100, "one connection per request");
    assert_eq!(c.connect.len(), 100, "one connect sample per connection");
    let handshakes = Stats::get(&server.stats.handshakes);
    assert_eq!(handshakes, 100, "the server saw as many handshakes");
    // Every reconnect after a connection of the run received its session tickets resumes;
    // the server agrees on the count.
    assert_eq!(c.resumed, Stats::get(&server.stats.resumed));
    assert!(c.resumed >= 95, "resumed {} of 100", c.resumed);
    // A handshake takes time: the histogram holds real durations, below the timeout.
    assert!(c.connect.min() >= 1 && c.connect.max() < 2_000_000);
}

#[test]
fn keepalive_pays_the_handshake_once_per_connection() {
    let ca = Ca::new("test CA");
    let server = tls_server(ca.server(&["127.0.0.1"], false));
    let dir = tempfile::tempdir().unwrap();
    let tls = client(Some(&ca.cert_pem), None, false, &dir);
    let plan = closed(
        &server.url(true),
        3,
        0.5,
        transport(Some(tls), Protocol::Http1, true),
    );
    let out = run(&plan);
    assert!(out.all.successes() > 30);
    assert_eq!(out.connections.opened, 3);
    assert_eq!(Stats::get(&server.stats.handshakes), 3);
}

#[test]
fn an_h2_connection_never_carries_more_streams_than_asked() {
    for tls in [false, true] {
        let ca = Ca::new("test CA");
        let server = Server::start(Options {
            identity: tls.then(|| ca.server(&["127.0.0.1"], false)),
            delay: Duration::from_millis(20),
            ..Options::default()
        });
        let dir = tempfile::tempdir().unwrap();
        let client_tls = tls.then(|| client(Some(&ca.cert_pem), None, true, &dir));
        // 2 connections x 4 streams at 20 ms each carry at most 400/s; 1,000/s is offered,
        // so every stream is kept busy.
        let t = transport(client_tls, Protocol::Http2 { streams: 4 }, true);
        let plan = open(&server.url(tls), 1_000.0, 2, 0.5, t);
        let out = run(&plan);
        let s = &server.stats;
        assert_eq!(
            Stats::get(&s.max_per_connection),
            4,
            "tls {tls}: in flight per connection"
        );
        assert_eq!(Stats::get(&s.connections), 2, "tls {tls}: connections");
        assert_eq!(
            Stats::get(&s.requests),
            Stats::get(&s.h2_requests),
            "all over h2"
        );
        assert!(out.all.successes() > 50, "{:?}", out.all.errors);
        assert_eq!(out.connections.opened, 2);
        if tls {
            assert_eq!(out.connections.tls.unwrap().alpn.as_deref(), Some("h2"));
        }
    }
}

#[test]
fn h1_and_h2_runs_of_the_same_plan_count_the_same_requests() {
    let server = Server::start(Options::default());
    // 8 lanes either way: 8 HTTP/1.1 connections, or 2 HTTP/2 connections x 4 streams, so
    // every lane has the same schedule and the same request sequence.
    let h1 = run(&open(&server.url(false), 400.0, 8, 1.0, Transport::plain()));
    let t = transport(None, Protocol::Http2 { streams: 4 }, true);
    let h2 = run(&open(&server.url(false), 400.0, 2, 1.0, t));
    assert_eq!(h1.offered, Some(400));
    assert_eq!(h2.offered, Some(400));
    for out in [&h1, &h2] {
        assert_eq!(out.all.requests, 400, "{:?}", out.all.errors);
        assert_eq!(out.all.successes(), 400);
        assert_eq!(out.dropped, 0);
    }
    let per_action = |o: &Outcome| {
        o.actions
            .iter()
            .map(|a| a.totals.requests)
            .collect::<Vec<_>>()
    };
    assert_eq!(per_action(&h1), per_action(&h2));
    assert_eq!(h1.connections.opened, 8);
    assert_eq!(h2.connections.opened, 2);
    assert_eq!(Stats::get(&server.stats.h2_requests), 400);
}

#[test]
fn http2_against_a_server_without_it_is_refused_by_the_probe() {
    let ca = Ca::new("test CA");
    let server = Server::start(Options {
        identity: Some(ca.server(&["127.0.0.1"], false)),
        alpn: vec![b"http/1.1".to_vec()],
        ..Options::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let tls = client(Some(&ca.cert_pem), None, true, &dir);
    let plan = short_tls_run(&server, tls, Protocol::Http2 { streams: 1 });
    assert_fails_with(&plan, TlsFailure::NoH2);
}

#[test]
fn closed_model_users_share_h2_connections_streams_at_a_time_and_no_keepalive_reconnects() {
    let server = Server::start(Options {
        delay: Duration::from_millis(5),
        ..Options::default()
    });
    // 6 users at 4 streams per connection: 2 connections (4 + 2 users).
    let t = transport(None, Protocol::Http2 { streams: 4 }, true);
    let out = run(&closed(&server.url(false), 6, 0.5, t));
    assert!(out.all.successes() > 50, "{:?}", out.all.errors);
    assert_eq!(out.connections.opened, 2);
    assert_eq!(Stats::get(&server.stats.connections), 2);
    assert_eq!(Stats::get(&server.stats.max_per_connection), 4);

    // Without keep-alive, every h2 request has a connection of its own.
    let server = Server::start(Options::default());
    let t = transport(None, Protocol::Http2 { streams: 1 }, false);
    let out = run(&open(&server.url(false), 100.0, 2, 0.5, t));
    assert_eq!(out.all.successes(), 50, "{:?}", out.all.errors);
    assert_eq!(out.connections.opened, 50);
    assert_eq!(Stats::get(&server.stats.connections), 50);
    assert_eq!(Stats::get(&server.stats.h2_requests), 50);
}
