//! Crash test of `napkin serve --data-dir` (issue 12): the real binary, concurrent writers
//! (tweets, likes, follows), `kill -9` at a random moment, restart, and a check that every
//! acknowledged write is there and nothing unacknowledged is half there. Both --fsync modes.
//!
//! Rounds per mode: NAPKIN_CRASH_ROUNDS (default 3, so 6 kills; the full run is 20).

mod serve_support;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serve_support::{serve, Http};

const USERS: u64 = 40;
const WRITERS: usize = 4;

/// What the writers asked for and what the server acknowledged, across rounds.
#[derive(Default)]
struct Ledger {
    /// Acknowledged tweets: id -> (author, text).
    tweets: HashMap<u64, (u64, String)>,
    /// Every text ever sent, acknowledged or not: text -> author.
    sent_texts: HashMap<String, u64>,
    /// Likes per tweet: acknowledged likers, and every liker asked for.
    likes_acked: HashMap<u64, HashSet<u64>>,
    likes_sent: HashMap<u64, HashSet<u64>>,
    /// Acknowledged follows (there are no unfollows, so each must be present).
    follows: HashSet<(u64, u64)>,
}

fn rounds() -> usize {
    std::env::var("NAPKIN_CRASH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
}

/// One writer: random writes until the server dies (or 5,000 writes, or 10 s).
fn writer(addr: std::net::SocketAddr, ledger: Arc<Mutex<Ledger>>, seed: u64, tag: String) {
    let mut rng = StdRng::seed_from_u64(seed);
    let Ok(mut http) = Http::connect(addr) else {
        return;
    };
    let started = Instant::now();
    for i in 0..5_000 {
        if started.elapsed() > Duration::from_secs(10) {
            return;
        }
        let user = rng.random_range(1..=USERS);
        match rng.random_range(0..20) {
            0..=11 => {
                let text = format!("{tag}-{i}");
                ledger.lock().unwrap().sent_texts.insert(text.clone(), user);
                let body = serde_json::json!({"user_id": user, "text": text}).to_string();
                let Ok((status, reply)) = http.send("POST", "/tweets", &body) else {
                    return;
                };
                assert_eq!(status, 201, "{reply}");
                let id = serde_json::from_str::<serde_json::Value>(&reply).unwrap()["id"]
                    .as_u64()
                    .unwrap();
                ledger.lock().unwrap().tweets.insert(id, (user, text));
            }
            12..=16 => {
                let tweet = rng.random_range(1..=USERS * 2);
                let mut l = ledger.lock().unwrap();
                l.likes_sent.entry(tweet).or_default().insert(user);
                drop(l);
                let path = format!("/tweets/{tweet}/likes/{user}");
                let Ok((status, reply)) = http.send("PUT", &path, "") else {
                    return;
                };
                assert_eq!(status, 204, "{reply}");
                let mut l = ledger.lock().unwrap();
                l.likes_acked.entry(tweet).or_default().insert(user);
            }
            _ => {
                let target = rng.random_range(1..=USERS);
                if target == user {
                    continue;
                }
                let path = format!("/users/{user}/follows/{target}");
                let Ok((status, reply)) = http.send("PUT", &path, "") else {
                    return;
                };
                assert_eq!(status, 204, "{reply}");
                ledger.lock().unwrap().follows.insert((user, target));
            }
        }
    }
}

/// Every acknowledged write is present; every present write was sent, once, whole.
fn verify(http: &mut Http, ledger: &Ledger, context: &str) {
    for (id, (user, text)) in &ledger.tweets {
        let (status, t) = http.get(&format!("/tweets/{id}"));
        assert_eq!(status, 200, "{context}: acknowledged tweet {id} is missing");
        assert_eq!(
            (t["user_id"].as_u64(), t["text"].as_str()),
            (Some(*user), Some(text.as_str())),
            "{context}: tweet {id}"
        );
    }
    let mut seen = HashSet::new();
    for user in 1..=USERS {
        let mut before = String::new();
        loop {
            let (status, page) = http.get(&format!("/users/{user}/tweets?limit=200{before}"));
            assert_eq!(status, 200, "{context}");
            for t in page["tweets"].as_array().unwrap() {
                let text = t["text"].as_str().unwrap();
                if let Some(author) = ledger.sent_texts.get(text) {
                    assert_eq!(*author, user, "{context}: {text:?} under the wrong author");
                    assert!(
                        seen.insert(text.to_owned()),
                        "{context}: {text:?} stored twice"
                    );
                    let id = t["id"].as_u64().unwrap();
                    let (status, by_id) = http.get(&format!("/tweets/{id}"));
                    assert_eq!(
                        (status, by_id["text"].as_str()),
                        (200, Some(text)),
                        "{context}"
                    );
                }
            }
            match page["next"].as_u64() {
                Some(n) => before = format!("&before={n}"),
                None => break,
            }
        }
    }
    for (tweet, acked) in &ledger.likes_acked {
        let (_, t) = http.get(&format!("/tweets/{tweet}"));
        let likes = t["likes"].as_u64().unwrap() as usize;
        let sent = ledger.likes_sent[tweet].len();
        assert!(
            likes >= acked.len() && likes <= sent,
            "{context}: tweet {tweet} has {likes} likes; acknowledged {}, sent {sent}",
            acked.len()
        );
    }
    for &(f, t) in &ledger.follows {
        // Pull: f's home timeline holds t's newest tweet whenever f follows t.
        let (_, own) = http.get(&format!("/users/{t}/tweets?limit=1"));
        let newest = own["tweets"][0]["id"].as_u64().unwrap();
        let (_, home) = http.get(&format!(
            "/users/{f}/timeline?limit=1&before={}",
            newest + 1
        ));
        assert_eq!(
            home["tweets"][0]["id"].as_u64(),
            Some(newest),
            "{context}: acknowledged follow {f} -> {t} is missing"
        );
    }
}

fn crash_rounds(fsync: &str) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("store").display().to_string();
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let mut rng = StdRng::seed_from_u64(if fsync == "always" { 1 } else { 2 });
    let base = ["--data-dir", &data, "--fsync", fsync, "--timeline", "pull"];
    for round in 0..rounds() {
        let mut args = base.to_vec();
        if round == 0 {
            args.extend([
                "--seed-users",
                "40",
                "--seed-follows",
                "4",
                "--seed-tweets",
                "2",
            ]);
        }
        let server = serve(&args);
        verify(
            &mut server.client(),
            &ledger.lock().unwrap(),
            &format!("{fsync} round {round}"),
        );
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let (addr, ledger) = (server.addr, ledger.clone());
                let (seed, tag) = (rng.random(), format!("{fsync}-r{round}-w{w}"));
                std::thread::spawn(move || writer(addr, ledger, seed, tag))
            })
            .collect();
        std::thread::sleep(Duration::from_millis(rng.random_range(20..250)));
        server.kill9();
        for w in writers {
            w.join().expect("a writer failed");
        }
    }
    let server = serve(&base);
    let l = ledger.lock().unwrap();
    verify(
        &mut server.client(),
        &l,
        &format!("{fsync} after the last kill"),
    );
    assert!(
        l.tweets.len() > 10 && !l.likes_acked.is_empty() && !l.follows.is_empty(),
        "too few acknowledged writes to mean anything"
    );
    eprintln!(
        "{fsync}: {} kills, {} tweets, {} follows acknowledged",
        rounds(),
        l.tweets.len(),
        l.follows.len()
    );
    server.stop();
}

#[test]
fn kill_9_loses_no_acknowledged_write_with_fsync_always() {
    crash_rounds("always");
}

#[test]
fn kill_9_loses_no_acknowledged_write_with_fsync_batch() {
    crash_rounds("batch");
}
