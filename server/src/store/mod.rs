//! The in-memory store: users in lock shards keyed by id (`--shards`), so concurrent requests
//! rarely meet on one lock, and tweets in a write-once table read without locks (`tweets`).
//! Locks are held for a few vector operations and never across an await; work that touches
//! many users (fan-out) re-locks per shard in small batches.
//!
//! Ids are u64 on the wire and u32 inside (4 billion users or tweets is far beyond what fits in
//! memory), which halves the largest structure: the pushed home timelines.

pub(crate) mod ops;
mod timeline;
mod tweets;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::RwLock;
use prometheus_client::metrics::counter::Counter;

use crate::config::Strategy;

pub use timeline::Page;
pub(crate) use timeline::PageIds;
pub use tweets::Tweet;
pub(crate) use tweets::TweetTable;

/// Pushed home timelines keep only the newest entries, as large services do.
pub const HOME_CAP: usize = 800;

/// A pushed home timeline may hold this many ids beyond [`HOME_CAP`] before it is trimmed
/// (amortised trimming); reads see the newest [`HOME_CAP`] only. Small enough that a home
/// allocated for 500 seeded ids and doubled once still never reallocates.
pub(crate) const HOME_SLACK: usize = HOME_CAP / 8;

/// Room a pushed home timeline needs at most: [`HOME_CAP`] + [`HOME_SLACK`] + the insert that
/// triggers a trim. The seed reserves it, so the first fan-outs do not reallocate every home.
pub(crate) const HOME_ROOM: usize = HOME_CAP + HOME_SLACK + 1;

/// The part of a pushed home timeline that reads see: its newest [`HOME_CAP`] ids.
pub(crate) fn visible_home(home: &[u32]) -> &[u32] {
    &home[home.len().saturating_sub(HOME_CAP)..]
}

/// Why a store operation was refused; the API maps each to a status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("unknown user {0}")]
    UnknownUser(u64),
    #[error("unknown tweet {0}")]
    UnknownTweet(u64),
    #[error("a user cannot follow themselves")]
    SelfFollow,
    #[error("the store is full: no more ids")]
    Full,
    /// The durable store could not commit or read (disk full, I/O error): nothing was stored.
    #[error("the store could not {0}; nothing was stored by this request, retry later")]
    Unavailable(String),
}

/// One user: graph edges (sorted ids), own tweets and the pushed home timeline (ascending ids).
#[derive(Debug, Default)]
pub struct User {
    pub(crate) name: Box<str>,
    pub(crate) followees: Vec<u32>,
    pub(crate) followers: Vec<u32>,
    pub(crate) tweets: Vec<u32>,
    pub(crate) home: Vec<u32>,
}

/// Texts of seeded tweets, shared by reference: a [`Text::Seeded`] is an index into this list.
pub const TEXTS: [&str; 8] = [
    "Shipping a new feature today. Capacity planning first, load test second, coffee third.",
    "Latency is a distribution, not a number. Always look at the tail.",
    "Fan-out on write is cheap until a celebrity tweets.",
    "Our p99 dropped after we fixed coordinated omission in the benchmark.",
    "Back-of-the-envelope: 300M users, 20% daily active, 2 tweets a day each.",
    "Read path cached, write path queued, everything measured.",
    "Hello from the reference server!",
    "Zipf says most of you follow the same few accounts.",
];

/// Tweet text: seeded tweets refer to one of [`TEXTS`] (free to copy, no shared
/// reference count to contend on, JSON-escaped once); posted tweets own theirs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Text {
    Seeded(u8),
    Shared(Arc<str>),
}

impl std::ops::Deref for Text {
    type Target = str;

    fn deref(&self) -> &str {
        match self {
            Text::Seeded(i) => TEXTS[usize::from(*i) % TEXTS.len()],
            Text::Shared(s) => s,
        }
    }
}

/// A tweet as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TweetView {
    pub id: u64,
    pub user_id: u64,
    pub text: Text,
    pub created_ms: u64,
    pub likes: u64,
}

/// Counters of the fan-out work, shared with `/metrics`.
#[derive(Debug, Clone, Default)]
pub struct FanoutCounters {
    /// Tweet ids written into home timelines (push on write, backfill on follow, seeding).
    pub entries_written: Counter,
    /// Tweet ids removed from home timelines (unfollow, cap trimming).
    pub entries_removed: Counter,
    /// Home timeline reads.
    pub timeline_reads: Counter,
    /// Authors whose own tweets were merged at read time (pull, hybrid), summed over reads.
    pub authors_merged: Counter,
    /// Candidate tweet ids gathered from authors at read time, summed over reads.
    pub tweets_pulled: Counter,
}

/// A lock on its own cache line, so neighbouring shards do not false-share.
#[repr(align(64))]
#[derive(Debug, Default)]
pub(crate) struct Padded<T>(pub(crate) T);

pub(crate) type Slots<T> = Padded<RwLock<Vec<Option<T>>>>;

/// The whole store: built in bulk by seeding, or empty with [`Store::empty`].
#[derive(Debug)]
pub struct Store {
    pub(crate) strategy: Strategy,
    pub(crate) threshold: u32,
    pub(crate) users: Box<[Slots<User>]>,
    pub(crate) tweets: TweetTable,
    pub(crate) last_user: AtomicU64,
    pub(crate) last_tweet: AtomicU64,
    pub(crate) follows: AtomicU64,
    /// Authors at or over the celebrity threshold, sorted. Sticky: once in, never out, so every
    /// tweet of a celebrity is covered by pull even if it was pushed earlier (duplicates merge).
    pub(crate) celebrities: RwLock<Vec<u32>>,
    pub(crate) counters: FanoutCounters,
}

impl Store {
    /// An empty store with `shards` lock shards (>= 1).
    pub fn empty(
        strategy: Strategy,
        threshold: u32,
        shards: usize,
        counters: FanoutCounters,
    ) -> Store {
        let shards = shards.max(1);
        Store::from_parts(
            strategy,
            threshold,
            (0..shards).map(|_| Vec::new()).collect(),
            TweetTable::seeded(std::iter::empty(), shards),
            0,
            Vec::new(),
            counters,
        )
    }

    /// Assembles a store from pre-sharded slots (seeding builds them in bulk).
    pub(crate) fn from_parts(
        strategy: Strategy,
        threshold: u32,
        users: Vec<Vec<Option<User>>>,
        tweets: TweetTable,
        tweet_count: u64,
        celebrities: Vec<u32>,
        counters: FanoutCounters,
    ) -> Store {
        let (last_user, last_tweet) = (slot_count(&users), tweet_count);
        let follows = users
            .iter()
            .flatten()
            .flatten()
            .map(|u: &User| u.followees.len() as u64)
            .sum();
        Store {
            strategy,
            threshold,
            users: wrap_slots(users),
            tweets,
            last_user: AtomicU64::new(last_user),
            last_tweet: AtomicU64::new(last_tweet),
            follows: AtomicU64::new(follows),
            celebrities: RwLock::new(celebrities),
            counters,
        }
    }

    /// The timeline strategy in use.
    pub fn strategy(&self) -> Strategy {
        self.strategy
    }

    /// Number of lock shards.
    pub fn shard_count(&self) -> usize {
        self.users.len()
    }

    /// Users created so far (ids 1..=count, a few may still be in creation).
    pub fn user_count(&self) -> u64 {
        self.last_user.load(Ordering::Relaxed)
    }

    /// Tweets posted so far.
    pub fn tweet_count(&self) -> u64 {
        self.last_tweet.load(Ordering::Relaxed)
    }

    /// Follow edges.
    pub fn follow_count(&self) -> u64 {
        self.follows.load(Ordering::Relaxed)
    }

    /// Authors currently treated as celebrities (hybrid only; empty otherwise).
    pub fn celebrity_count(&self) -> usize {
        self.celebrities.read().len()
    }

    /// The fan-out counters.
    pub fn counters(&self) -> &FanoutCounters {
        &self.counters
    }

    /// Shard and slot of an id (ids start at 1; callers reject 0 first).
    pub(crate) fn locate(&self, id: u32) -> (usize, usize) {
        let n = self.users.len();
        let i = (id - 1) as usize;
        (i % n, i / n)
    }
}

/// Converts a wire id into the internal one; ids that cannot exist yield `None`.
pub(crate) fn internal_id(id: u64) -> Option<u32> {
    u32::try_from(id).ok().filter(|&v| v > 0)
}

/// Inserts into a sorted vector; false if already present.
pub(crate) fn sorted_insert(v: &mut Vec<u32>, x: u32) -> bool {
    // New tweets carry the largest id so far: appending is the common case, and it touches
    // only the tail of the list (a binary search misses the cache several times).
    if v.last().is_none_or(|&last| last < x) {
        v.push(x);
        return true;
    }
    match v.binary_search(&x) {
        Ok(_) => false,
        Err(pos) => {
            v.insert(pos, x);
            true
        }
    }
}

/// Removes from a sorted vector; false if absent.
pub(crate) fn sorted_remove(v: &mut Vec<u32>, x: u32) -> bool {
    match v.binary_search(&x) {
        Ok(pos) => {
            v.remove(pos);
            true
        }
        Err(_) => false,
    }
}

/// Puts slot `slot` of a shard in place, growing the shard with empty slots if ids raced.
pub(crate) fn put_slot<T>(shard: &mut Vec<Option<T>>, slot: usize, value: T) {
    if shard.len() <= slot {
        shard.resize_with(slot + 1, || None);
    }
    shard[slot] = Some(value);
}

fn slot_count<T>(shards: &[Vec<Option<T>>]) -> u64 {
    shards.iter().map(Vec::len).sum::<usize>() as u64
}

fn wrap_slots<T>(shards: Vec<Vec<Option<T>>>) -> Box<[Slots<T>]> {
    shards.into_iter().map(|s| Padded(RwLock::new(s))).collect()
}
