//! Start-up of the durable tier: seed a new store (the same generated graph as memory mode,
//! written in one transaction), then build the in-memory indexes from the store (users, the
//! follow graph both ways, each user's tweet ids, like counts). Home timelines are not built
//! here: they are derived data, rebuilt lazily on first read (`super::Tier::timeline`).

use std::path::Path;
use std::time::Instant;

use rusqlite::Connection;

use super::db::{self, Sink, Write};
use super::likes::LikeCounts;
use crate::config::{Config, Strategy};
use crate::seed::{self, SeedReport};
use crate::store::{FanoutCounters, Store, TweetTable, User};
use crate::ServerError;

/// Writes the graph `config` seeds into a new store, in one transaction.
pub(crate) fn seed_new(
    conn: &mut Connection,
    path: &Path,
    config: &Config,
) -> Result<(), ServerError> {
    // Pull: the generated graph without pushed home timelines, which are not stored.
    let pull = Config {
        timeline: Strategy::Pull,
        ..config.clone()
    };
    let (memory, _) = seed::build(&pull, FanoutCounters::default())?;
    let users = memory.user_count() as u32;
    let user_rows = (1..=users).flat_map(|id| {
        let name = memory.user_name(u64::from(id)).unwrap_or_default();
        let followees = memory.followees(u64::from(id)).unwrap_or_default();
        std::iter::once(Write::User { id, name }).chain(followees.into_iter().map(move |f| {
            Write::Follow {
                follower: id,
                followee: f as u32,
            }
        }))
    });
    let tweets = memory.tweet_count();
    let tweet_rows = (1..=tweets).filter_map(|tid| {
        let t = memory.get_tweet(tid).ok()?;
        Some(Write::Tweet {
            id: t.id as u32,
            author: t.user_id as u32,
            created_ms: t.created_ms,
            text: t.text.to_string(),
        })
    });
    db::seed(conn, path, user_rows.chain(tweet_rows))
}

/// Builds the in-memory indexes while the store streams its tables.
struct Loader {
    users: Vec<Option<User>>,
    tweets: u32,
    likes: LikeCounts,
}

impl Loader {
    fn user_mut(&mut self, id: u32, what: &str) -> Result<&mut User, String> {
        self.users
            .get_mut(id as usize - 1)
            .and_then(Option::as_mut)
            .ok_or(format!("{what} refers to user {id}, which is not stored"))
    }
}

impl Sink for Loader {
    fn user(&mut self, id: u32, name: &str) -> Result<(), String> {
        let i = id as usize - 1;
        if self.users.len() <= i {
            self.users.resize_with(i + 1, || None);
        }
        self.users[i] = Some(User {
            name: name.into(),
            ..User::default()
        });
        Ok(())
    }

    fn follow(&mut self, follower: u32, followee: u32) -> Result<(), String> {
        self.user_mut(followee, "a follow")?
            .followers
            .push(follower);
        self.user_mut(follower, "a follow")?
            .followees
            .push(followee);
        Ok(())
    }

    fn tweet(&mut self, id: u32, author: u32) -> Result<(), String> {
        if id != self.tweets + 1 {
            return Err(format!("tweet ids jump from {} to {id}", self.tweets));
        }
        self.tweets = id;
        self.user_mut(author, "a tweet")?.tweets.push(id);
        Ok(())
    }

    fn likes(&mut self, tweet: u32, count: u32) -> Result<(), String> {
        if tweet > self.tweets {
            return Err(format!("likes of tweet {tweet}, which is not stored"));
        }
        self.likes.add(tweet, count);
        Ok(())
    }
}

/// The store's contents as the durable tier's in-memory indexes, and what was loaded.
pub(crate) fn load(
    conn: &Connection,
    path: &Path,
    config: &Config,
    counters: FanoutCounters,
    started: Instant,
) -> Result<(Store, LikeCounts, SeedReport), ServerError> {
    let mut loader = Loader {
        users: Vec::new(),
        tweets: 0,
        likes: LikeCounts::default(),
    };
    db::load(conn, path, &mut loader)?;
    loader.likes.ensure(loader.tweets);
    let followers: Vec<Vec<u32>> = loader
        .users
        .iter()
        .map(|u| u.as_ref().map(|u| u.followers.clone()).unwrap_or_default())
        .collect();
    let celebrities: Vec<u32> = match config.timeline {
        Strategy::Hybrid => (1..=followers.len() as u32)
            .filter(|&id| followers[id as usize - 1].len() >= config.celebrity_threshold as usize)
            .collect(),
        _ => Vec::new(),
    };
    let (top, percentiles) = seed::distribution(&followers);
    let follows = followers.iter().map(|f| f.len() as u64).sum();
    let shards = config.shards;
    let mut sharded: Vec<Vec<Option<User>>> = (0..shards).map(|_| Vec::new()).collect();
    for (i, user) in loader.users.into_iter().enumerate() {
        sharded[i % shards].push(user);
    }
    let report = SeedReport {
        users: followers.len() as u64,
        follows,
        tweets: u64::from(loader.tweets),
        home_entries: 0,
        celebrities: celebrities.len(),
        top,
        percentiles,
        elapsed: started.elapsed(),
    };
    let store = Store::from_parts(
        config.timeline,
        config.celebrity_threshold,
        sharded,
        TweetTable::seeded(std::iter::empty(), shards),
        u64::from(loader.tweets),
        celebrities,
        counters,
    );
    Ok((store, loader.likes, report))
}
