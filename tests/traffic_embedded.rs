//! The embedded reference server: seeded to match the scenario's `user` key space, serving on
//! a free loopback port, stopped cleanly.

use std::io::{Read, Write};
use std::net::TcpStream;

use estimator::{KeyDistribution, KeySpace, LoadSpec};
use napkin::cmd::load::embedded::{EmbeddedServer, SeedPlan, DEFAULT_USERS, FOLLOWS_PER_USER};

/// Status code of `GET path` over a fresh connection.
fn get_status(url: &str, path: &str) -> u16 {
    let addr = url.strip_prefix("http://").unwrap();
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response.split(' ').nth(1).unwrap().parse().unwrap()
}

fn load_with_users(count: u64) -> LoadSpec {
    LoadSpec {
        keys: vec![KeySpace {
            name: "user".into(),
            count,
            distribution: KeyDistribution::Zipf { exponent: 0.9 },
        }],
        ..LoadSpec::default()
    }
}

fn scenario(load: LoadSpec) -> estimator::Scenario {
    estimator::Scenario {
        name: "t".into(),
        description: None,
        source: None,
        daily_active_users: None,
        peak_factor: 1.0,
        storage: estimator::StoragePolicy {
            retention: std::time::Duration::from_secs(86_400),
            replication: 1.0,
            max_fill: 1.0,
        },
        cache: Default::default(),
        capacity: Default::default(),
        regions: Vec::new(),
        actions: Vec::new(),
        load,
    }
}

#[test]
fn seed_plan_follows_the_user_key_space() {
    let plan = SeedPlan::for_scenario(&scenario(load_with_users(250))).unwrap();
    assert_eq!(
        (plan.users, plan.follows, plan.zipf_exponent),
        (250, FOLLOWS_PER_USER, 0.9)
    );
    let plan = SeedPlan::for_scenario(&scenario(LoadSpec::default())).unwrap();
    assert_eq!(plan.users, DEFAULT_USERS);
    let err = SeedPlan::for_scenario(&scenario(load_with_users(1 << 40))).unwrap_err();
    assert!(err.to_string().contains("--target"), "{err}");
}

#[test]
fn serves_exactly_the_seeded_users_and_stops() {
    let plan = SeedPlan::for_scenario(&scenario(load_with_users(300))).unwrap();
    let server = EmbeddedServer::start(plan).unwrap();
    let url = server.url().to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert_eq!(get_status(&url, "/healthz"), 200);
    assert_eq!(get_status(&url, "/users/1/timeline?limit=20"), 200);
    assert_eq!(get_status(&url, "/users/300/tweets?limit=20"), 200);
    assert_eq!(get_status(&url, "/users/301/tweets?limit=20"), 404);
    server.stop().unwrap();
    let addr = url.strip_prefix("http://").unwrap();
    assert!(
        TcpStream::connect(addr).is_err(),
        "still listening after stop"
    );
}
