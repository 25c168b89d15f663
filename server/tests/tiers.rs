//! The durable tier in-process: a clean restart serves the same timelines, the cache keeps its
//! byte bound and counts every read as a hit or a miss, a store that holds data refuses to be
//! seeded again, and a second server cannot open a store in use.

mod common;

use common::{durable, metric_value, small, start, Client};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use server::{App, Config, ServerError, Strategy, TIMELINE_BYTES};

const USERS: u64 = 120;

fn seeded(strategy: Strategy) -> Config {
    Config {
        seed_users: USERS as u32,
        seed_follows: 8,
        seed_tweets: 3,
        celebrity_threshold: 20,
        ..small(strategy)
    }
}

/// Random posts, likes, follows and unfollows, as a load test would send them.
async fn churn(c: &mut Client, ops: usize, seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    for i in 0..ops {
        let (a, b) = (rng.random_range(1..=USERS), rng.random_range(1..=USERS));
        let status = match rng.random_range(0..10) {
            0..=4 => {
                let body = serde_json::json!({"user_id": a, "text": format!("churn {i}")});
                c.post("/tweets", &body.to_string()).await.status
            }
            5 => {
                c.put(&format!("/tweets/{}/likes/{b}", rng.random_range(1..=300)))
                    .await
                    .status
            }
            6..=8 if a != b => c.put(&format!("/users/{a}/follows/{b}")).await.status,
            _ if a != b => c.delete(&format!("/users/{a}/follows/{b}")).await.status,
            _ => 204,
        };
        assert!(matches!(status, 201 | 204), "op {i}: {status}");
    }
}

/// Every user's full home and own timelines and first page, and every tweet (with its likes).
async fn snapshot(c: &mut Client, tweets: u64) -> Vec<(Vec<u64>, Vec<u64>, String)> {
    let mut out = Vec::new();
    for user in 1..=USERS {
        let home = c.all_pages(&format!("/users/{user}/timeline"), 50).await;
        let own = c.all_pages(&format!("/users/{user}/tweets"), 50).await;
        let page = c.get(&format!("/users/{user}/timeline?limit=5")).await.text;
        out.push((home, own, page));
    }
    for id in 1..=tweets {
        out.push((
            Vec::new(),
            Vec::new(),
            c.get(&format!("/tweets/{id}")).await.text,
        ));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clean_restart_serves_the_same_timelines() {
    for strategy in [Strategy::Push, Strategy::Hybrid, Strategy::Pull] {
        let dir = tempfile::tempdir().unwrap();
        let config = durable(seeded(strategy), dir.path(), 16 << 20);
        let srv = start(config.clone()).await;
        let mut c = srv.client().await;
        churn(&mut c, 300, 5).await;
        let store = srv.app.store();
        let counts = (store.tweet_count(), store.follow_count());
        let before = snapshot(&mut c, counts.0).await;
        assert!(
            before.iter().any(|t| t.2.contains(r#""likes":1"#)),
            "{strategy}: no likes"
        );
        drop(c);
        let app = srv.app.clone();
        srv.stop().await;
        drop(app);
        // Restart without seeding: the store is served as it was.
        let srv = start(Config {
            seed_users: 0,
            ..config
        })
        .await;
        let store = srv.app.store();
        assert_eq!(
            (store.tweet_count(), store.follow_count()),
            counts,
            "{strategy}"
        );
        let mut c = srv.client().await;
        let after = snapshot(&mut c, counts.0).await;
        for (user, (b, a)) in before.iter().zip(&after).enumerate() {
            assert_eq!(
                b,
                a,
                "{strategy}: item {} (users, then tweets) differs after the restart",
                user + 1
            );
        }
        assert!(
            before.iter().any(|t| !t.0.is_empty()),
            "{strategy}: timelines were empty"
        );
        srv.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cache_keeps_its_byte_bound_and_counts_every_read() {
    let dir = tempfile::tempdir().unwrap();
    // Room for a handful of timelines and tweets: most reads miss, so eviction runs.
    let cache = 16 * TIMELINE_BYTES;
    let srv = start(durable(seeded(Strategy::Push), dir.path(), cache)).await;
    let mut c = srv.client().await;
    let (mut tweet_reads, mut timeline_reads) = (0u64, 0u64);
    let mut rng = StdRng::seed_from_u64(11);
    for _ in 0..400 {
        let user = rng.random_range(1..=USERS);
        if rng.random_bool(0.5) {
            let r = c.get(&format!("/users/{user}/timeline?limit=10")).await;
            assert_eq!(r.status, 200, "{}", r.text);
            timeline_reads += 1;
            tweet_reads += r.json["tweets"].as_array().unwrap().len() as u64;
        } else {
            let r = c
                .get(&format!("/tweets/{}", rng.random_range(1..=360)))
                .await;
            assert_eq!(r.status, 200, "{}", r.text);
            tweet_reads += 1;
        }
        let text = c.get("/metrics").await.text;
        for kind in ["tweet", "timeline"] {
            let bytes = metric_value(&text, &format!("napkin_cache_bytes{{kind=\"{kind}\"}}"));
            let cap = metric_value(
                &text,
                &format!("napkin_cache_capacity_bytes{{kind=\"{kind}\"}}"),
            );
            assert!(
                bytes <= cap,
                "{kind}: {bytes} bytes cached over the bound {cap}"
            );
        }
    }
    let text = c.get("/metrics").await.text;
    let m =
        |name: &str, kind: &str| metric_value(&text, &format!("napkin_{name}{{kind=\"{kind}\"}}"));
    assert_eq!(
        m("cache_hits_total", "tweet") + m("cache_misses_total", "tweet"),
        tweet_reads as f64
    );
    assert_eq!(
        m("cache_hits_total", "timeline") + m("cache_misses_total", "timeline"),
        timeline_reads as f64
    );
    for kind in ["tweet", "timeline"] {
        assert!(
            m("cache_evictions_total", kind) > 0.0,
            "{kind}: nothing was evicted"
        );
        assert!(
            m("cache_hits_total", kind) > 0.0,
            "{kind}: nothing was a hit"
        );
    }
    assert_eq!(
        m("cache_capacity_bytes", "timeline") + m("cache_capacity_bytes", "tweet"),
        cache as f64
    );
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_with_data_is_not_seeded_again_and_not_opened_twice() {
    let dir = tempfile::tempdir().unwrap();
    let config = durable(seeded(Strategy::Push), dir.path(), 1 << 20);
    let first = tokio::task::spawn_blocking({
        let config = config.clone();
        move || App::new(config)
    })
    .await
    .unwrap()
    .unwrap();
    let second = App::new(config.clone()).unwrap_err();
    assert!(
        matches!(&second, ServerError::DataDir(m) if m.contains("LOCK") && m.contains("locked")),
        "{second}"
    );
    drop(first);
    let mut again = config;
    if let Some(s) = again.storage.as_mut() {
        s.seed_given = true;
    }
    let err = App::new(again).unwrap_err();
    assert!(
        matches!(&err, ServerError::DataDir(m) if m.contains("seeding is refused")),
        "{err}"
    );
}

/// Reads interleaved with writes, so posts fan out into cached timelines, follows drop them
/// and a small cache evicts and rebuilds them: every answer equals memory mode's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cached_timelines_follow_writes_like_memory_mode() {
    for strategy in [Strategy::Push, Strategy::Hybrid] {
        let dir = tempfile::tempdir().unwrap();
        let memory = start(seeded(strategy)).await;
        let durable_srv = start(durable(seeded(strategy), dir.path(), 24 * TIMELINE_BYTES)).await;
        let (mut m, mut d) = (memory.client().await, durable_srv.client().await);
        let mut rng = StdRng::seed_from_u64(21);
        for i in 0..600 {
            // Hot readers (low ids) so some timelines stay cached between writes.
            let user = if rng.random_bool(0.7) {
                rng.random_range(1..=15)
            } else {
                rng.random_range(1..=USERS)
            };
            let target = rng.random_range(1..=USERS);
            let (method, path, body) = match rng.random_range(0..10) {
                0..=4 => (
                    "GET",
                    format!("/users/{user}/timeline?limit=30"),
                    String::new(),
                ),
                5..=6 => {
                    let body = serde_json::json!({"user_id": target, "text": format!("t{i}")});
                    ("POST", "/tweets".to_string(), body.to_string())
                }
                7 if user != target => (
                    "PUT",
                    format!("/users/{user}/follows/{target}"),
                    String::new(),
                ),
                8 if user != target => (
                    "DELETE",
                    format!("/users/{user}/follows/{target}"),
                    String::new(),
                ),
                _ => (
                    "GET",
                    format!("/users/{target}/tweets?limit=5"),
                    String::new(),
                ),
            };
            let (a, b) = (
                m.send(method, &path, &body).await,
                d.send(method, &path, &body).await,
            );
            assert_eq!(a.status, b.status, "{strategy} op {i}: {method} {path}");
            if method == "GET" {
                // Everything but created_at (the two servers were seeded at different times).
                let strip = |v: &serde_json::Value| {
                    let mut v = v.clone();
                    for t in v["tweets"].as_array_mut().unwrap() {
                        t.as_object_mut().unwrap().remove("created_at");
                    }
                    v
                };
                assert_eq!(
                    strip(&a.json),
                    strip(&b.json),
                    "{strategy} op {i}: {method} {path}"
                );
            } else if method == "POST" {
                assert_eq!(a.json["id"], b.json["id"], "{strategy} op {i}");
            }
        }
        let text = d.get("/metrics").await.text;
        let m_ = |name: &str| metric_value(&text, &format!("napkin_{name}{{kind=\"timeline\"}}"));
        assert!(
            m_("cache_hits_total") > 0.0 && m_("cache_evictions_total") > 0.0,
            "{strategy}"
        );
        for user in 1..=USERS {
            let path = format!("/users/{user}/timeline");
            assert_eq!(
                m.all_pages(&path, 50).await,
                d.all_pages(&path, 50).await,
                "{strategy}: user {user}"
            );
        }
        memory.stop().await;
        durable_srv.stop().await;
    }
}

/// Concurrent posts, follows and reads against cached timelines: no tweet is lost between a
/// timeline's rebuild and a post's fan-out. What the cache serves afterwards equals what a
/// restart rebuilds from the store.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_fan_out_and_rebuilds_lose_no_tweet() {
    let dir = tempfile::tempdir().unwrap();
    let config = durable(seeded(Strategy::Push), dir.path(), 40 * TIMELINE_BYTES);
    let srv = start(config.clone()).await;
    let mut tasks = Vec::new();
    for client in 0..8u64 {
        let mut c = srv.client().await;
        tasks.push(tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(100 + client);
            for i in 0..150 {
                let (a, b) = (rng.random_range(1..=20), rng.random_range(1..=USERS));
                let status = match rng.random_range(0..10) {
                    0..=3 => {
                        let body =
                            serde_json::json!({"user_id": b, "text": format!("c{client} {i}")});
                        c.post("/tweets", &body.to_string()).await.status
                    }
                    4 if a != b => c.put(&format!("/users/{a}/follows/{b}")).await.status,
                    _ => c.get(&format!("/users/{a}/timeline?limit=5")).await.status,
                };
                assert!(matches!(status, 200 | 201 | 204), "{status}");
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let mut c = srv.client().await;
    let mut served = Vec::new();
    for user in 1..=USERS {
        served.push(c.all_pages(&format!("/users/{user}/timeline"), 100).await);
    }
    srv.stop().await;
    let srv = start(Config {
        seed_users: 0,
        ..config
    })
    .await;
    let mut c = srv.client().await;
    for user in 1..=USERS {
        let rebuilt = c.all_pages(&format!("/users/{user}/timeline"), 100).await;
        assert_eq!(
            served[user as usize - 1],
            rebuilt,
            "user {user}: cached vs rebuilt"
        );
    }
    srv.stop().await;
}
