//! Seeding: ids 1..=N exist, followees are distinct and never the user, the graph is
//! deterministic for a seed, and Zipf popularity makes id 1 the most followed.

use server::{App, Config, Strategy};

fn seeded(users: u32, follows: u32, seed: u64) -> App {
    App::new(Config {
        seed_users: users,
        seed_follows: follows,
        seed_tweets: 2,
        seed,
        shards: 3,
        ..Config::default()
    })
    .unwrap()
}

#[test]
fn seeded_graph_has_the_promised_shape() {
    let app = seeded(2000, 20, 1);
    let store = app.store();
    assert_eq!(
        (
            store.user_count(),
            store.tweet_count(),
            store.follow_count()
        ),
        (2000, 4000, 40_000)
    );
    for id in 1..=2000u64 {
        let f = store.followees(id).unwrap();
        assert_eq!(f.len(), 20, "user {id}");
        assert!(f.windows(2).all(|w| w[0] < w[1]), "sorted and distinct");
        assert!(!f.contains(&id) && f.iter().all(|&v| (1..=2000).contains(&v)));
    }
    assert!(store.followees(2001).is_none());
    let report = app.seed_report();
    assert_eq!(
        report.top[0].0, 1,
        "id 1 is the biggest celebrity: {report}"
    );
    let counts: Vec<usize> = (1..=5)
        .map(|id| store.follower_count(id).unwrap())
        .collect();
    assert!(counts.windows(2).all(|w| w[0] >= w[1]), "{counts:?}");
    let p50 = report.percentiles[0].1 as usize;
    assert!(counts[0] > 20 * p50.max(1), "heavy head: {report}");
    // Seeded tweets exist and are readable.
    assert_eq!(store.get_tweet(4000).unwrap().user_id, 2000);
    assert!(store.get_tweet(4001).is_err());
}

#[test]
fn same_seed_same_graph_other_seed_other_graph() {
    let (a, b, c) = (seeded(500, 10, 5), seeded(500, 10, 5), seeded(500, 10, 6));
    let graph = |app: &App| {
        (1..=500)
            .map(|id| app.store().followees(id).unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(graph(&a), graph(&b));
    assert_ne!(graph(&a), graph(&c));
}

#[test]
fn small_and_degenerate_sizes_seed() {
    for (users, follows) in [(0, 50), (1, 50), (2, 50), (10, 9), (10, 50)] {
        let app = seeded(users, follows, 3);
        assert_eq!(app.store().user_count(), u64::from(users));
        for id in 1..=u64::from(users) {
            let want = follows.min(users - 1) as usize;
            assert_eq!(app.store().followees(id).unwrap().len(), want);
        }
    }
}

#[test]
fn hybrid_seeding_marks_celebrities() {
    let app = App::new(Config {
        timeline: Strategy::Hybrid,
        seed_users: 1000,
        seed_follows: 10,
        celebrity_threshold: 100,
        ..Config::default()
    })
    .unwrap();
    let celebs = (1..=1000)
        .filter(|&id| app.store().follower_count(id).unwrap() >= 100)
        .count();
    assert!(celebs > 0);
    assert_eq!(app.store().celebrity_count(), celebs);
    assert_eq!(app.seed_report().celebrities, celebs);
}

#[test]
fn bad_configs_are_refused_with_the_field_named() {
    let cases = [
        (
            Config {
                shards: 0,
                ..Config::default()
            },
            "shards",
        ),
        (
            Config {
                max_connections: 0,
                ..Config::default()
            },
            "max connections",
        ),
        (
            Config {
                seed_zipf_exponent: 0.0,
                ..Config::default()
            },
            "zipf",
        ),
        (
            Config {
                seed_users: 4_000_000,
                seed_follows: 100,
                ..Config::default()
            },
            "seed users x follows",
        ),
    ];
    for (config, field) in cases {
        let err = App::new(config).unwrap_err().to_string();
        assert!(err.contains(field), "{err}");
    }
}
