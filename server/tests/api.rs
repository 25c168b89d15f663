//! The SPEC section 6 API end to end over loopback, once per timeline strategy.

mod common;

use common::{small, start};
use server::Strategy;

const STRATEGIES: [Strategy; 3] = [Strategy::Push, Strategy::Pull, Strategy::Hybrid];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_end_to_end_per_strategy() {
    for strategy in STRATEGIES {
        let config = server::Config {
            celebrity_threshold: 2,
            ..small(strategy)
        };
        let srv = start(config).await;
        let mut c = srv.client().await;
        let (alice, bob, carol) = (
            c.user("alice").await,
            c.user("bob").await,
            c.user("carol").await,
        );
        assert_eq!((alice, bob, carol), (1, 2, 3), "{strategy}");

        // Follow is idempotent and answers 204 with no body.
        for _ in 0..2 {
            let r = c.put(&format!("/users/{alice}/follows/{bob}")).await;
            assert_eq!((r.status, r.text.as_str()), (204, ""), "{strategy}");
        }
        assert_eq!(srv.app.store().followees(alice), Some(vec![bob]));
        assert_eq!(srv.app.store().follower_count(bob), Some(1));

        let t1 = c.tweet(bob, "first from bob").await;
        let t2 = c.tweet(carol, "carol, not followed yet").await;
        let t3 = c.tweet(bob, "second from bob — ünïcödé").await;
        assert!(t1 < t2 && t2 < t3);

        let (ids, next) = c.page(&format!("/users/{alice}/timeline")).await;
        assert_eq!((ids, next), (vec![t3, t1], None), "{strategy}");

        // Following carol later backfills her earlier tweet (same for every strategy).
        assert_eq!(
            c.put(&format!("/users/{alice}/follows/{carol}"))
                .await
                .status,
            204
        );
        let r = c.get(&format!("/users/{alice}/timeline?limit=20")).await;
        let ids: Vec<u64> = r.json["tweets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_u64().unwrap())
            .collect();
        assert_eq!(ids, vec![t3, t2, t1], "{strategy}");
        let newest = &r.json["tweets"][0];
        assert_eq!(newest["user_id"], bob);
        assert_eq!(newest["text"], "second from bob — ünïcödé");
        assert_eq!(newest["likes"], 0);
        assert!(newest["created_at"].as_str().unwrap().ends_with('Z'));

        // Unfollow removes bob's tweets; it is idempotent too.
        for _ in 0..2 {
            assert_eq!(
                c.delete(&format!("/users/{alice}/follows/{bob}"))
                    .await
                    .status,
                204
            );
        }
        assert_eq!(
            c.page(&format!("/users/{alice}/timeline")).await.0,
            vec![t2],
            "{strategy}"
        );

        // The user's own tweets.
        assert_eq!(
            c.page(&format!("/users/{bob}/tweets")).await.0,
            vec![t3, t1]
        );
        srv.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn post_and_get_tweet_shapes() {
    let srv = start(small(Strategy::Push)).await;
    let mut c = srv.client().await;
    let u = c.user("dora").await;
    let text = "x".repeat(280);
    let r = c
        .post(
            "/tweets",
            &serde_json::json!({"user_id": u, "text": text}).to_string(),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.headers["content-type"], "application/json");
    let obj = r.json.as_object().unwrap();
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["created_at", "id", "user_id"]);
    let created = obj["created_at"].as_str().unwrap();
    // RFC 3339: 2026-01-02T03:04:05.678Z
    assert_eq!(created.len(), 24, "{created}");
    assert_eq!(&created[10..11], "T");

    let id = obj["id"].as_u64().unwrap();
    let r = c.get(&format!("/tweets/{id}")).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json,
        serde_json::json!({"id": id, "user_id": u, "text": text, "created_at": created, "likes": 0})
    );
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn likes_are_idempotent() {
    let srv = start(small(Strategy::Pull)).await;
    let mut c = srv.client().await;
    let (a, b) = (c.user("a").await, c.user("b").await);
    let t = c.tweet(a, "like me").await;
    for _ in 0..3 {
        assert_eq!(c.put(&format!("/tweets/{t}/likes/{b}")).await.status, 204);
    }
    assert_eq!(c.get(&format!("/tweets/{t}")).await.json["likes"], 1);
    assert_eq!(c.put(&format!("/tweets/{t}/likes/{a}")).await.status, 204);
    assert_eq!(c.get(&format!("/tweets/{t}")).await.json["likes"], 2);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pagination_cursors_walk_every_tweet_once() {
    for strategy in STRATEGIES {
        let srv = start(server::Config {
            celebrity_threshold: 1,
            ..small(strategy)
        })
        .await;
        let mut c = srv.client().await;
        let (reader, a, b) = (c.user("r").await, c.user("a").await, c.user("b").await);
        c.put(&format!("/users/{reader}/follows/{a}")).await;
        c.put(&format!("/users/{reader}/follows/{b}")).await;
        let mut posted = Vec::new();
        for i in 0..23 {
            posted.push(
                c.tweet(if i % 3 == 0 { a } else { b }, &format!("tweet {i}"))
                    .await,
            );
        }
        posted.reverse();
        let home = format!("/users/{reader}/timeline");
        let (first, next) = c.page(&format!("{home}?limit=10")).await;
        assert_eq!(first, posted[..10]);
        assert_eq!(next, Some(posted[9]), "next is the last id of the page");
        let (second, _) = c
            .page(&format!("{home}?limit=10&before={}", posted[9]))
            .await;
        assert_eq!(second, posted[10..20], "before is strictly older");
        assert_eq!(c.all_pages(&home, 10).await, posted, "{strategy}");
        assert_eq!(
            c.all_pages(&home, 23).await,
            posted,
            "exact fit has next null"
        );
        let (last, next) = c.page(&format!("{home}?before={}", posted[22])).await;
        assert_eq!((last, next), (vec![], None));
        let own: Vec<u64> = posted
            .iter()
            .copied()
            .filter(|t| (t - posted[22]) % 3 == 0)
            .collect();
        assert_eq!(c.all_pages(&format!("/users/{a}/tweets"), 2).await, own);
        srv.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_and_metrics() {
    let srv = start(server::Config {
        seed_users: 50,
        seed_follows: 5,
        seed_tweets: 2,
        ..small(Strategy::Push)
    })
    .await;
    let mut c = srv.client().await;
    let r = c.get("/healthz").await;
    assert_eq!((r.status, r.json["status"].as_str()), (200, Some("ok")));
    let r = c.get("/users/7/timeline?limit=5").await;
    let tweets = r.json["tweets"].as_array().unwrap();
    assert!(!tweets.is_empty());
    for t in tweets {
        let text = t["text"].as_str().unwrap();
        assert!(server::store::TEXTS.contains(&text), "{text:?}");
        let id = t["id"].as_u64().unwrap();
        assert_eq!(c.get(&format!("/tweets/{id}")).await.json, *t);
    }
    c.get("/nope").await;
    let r = c.get("/metrics").await;
    assert_eq!(r.status, 200);
    for needle in [
        "napkin_http_requests_total{route=\"/healthz\",status=\"200\"} 1",
        "napkin_http_requests_total{route=\"unmatched\",status=\"404\"} 1",
        "napkin_http_request_duration_seconds_bucket{le=",
        "napkin_store_users 50",
        "napkin_store_tweets 100",
        "napkin_store_follows 250",
        "napkin_seed_home_entries 500",
        "napkin_timeline_reads_total 1",
        "napkin_fanout_entries_written_total 0",
        "napkin_timeline_authors_merged_per_read_count 1",
        "napkin_connections_open 1",
    ] {
        assert!(r.text.contains(needle), "missing {needle} in\n{}", r.text);
    }
    // A push post to a user with followers is fanned out and counted.
    let followers = srv.app.store().follower_count(1).unwrap();
    assert!(followers > 0);
    c.tweet(1, "fan me out").await;
    let r = c.get("/metrics").await;
    assert!(
        r.text.contains(&format!(
            "napkin_fanout_entries_written_total {followers}\n"
        )),
        "{}",
        r.text
    );
    srv.stop().await;
}
