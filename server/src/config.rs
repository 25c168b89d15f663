//! Server configuration: what `napkin serve` flags and in-process callers (tests, `napkin load`)
//! set. Parsed values only; [`Config::validate`] rejects combinations the server cannot honour.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use crate::ServerError;

/// How the home timeline is built (SPEC section 6, issue 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Strategy {
    /// Fan-out on write into each follower's bounded home timeline.
    Push,
    /// Merge the followees' recent tweets at read time.
    Pull,
    /// Push for authors below the celebrity threshold, pull for those at or above it.
    Hybrid,
}

impl Strategy {
    /// The lowercase name used on the command line and in metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::Push => "push",
            Strategy::Pull => "pull",
            Strategy::Hybrid => "hybrid",
        }
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Strategy {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "push" => Ok(Strategy::Push),
            "pull" => Ok(Strategy::Pull),
            "hybrid" => Ok(Strategy::Hybrid),
            other => Err(format!(
                "unknown timeline strategy {other:?}; use push, pull or hybrid"
            )),
        }
    }
}

/// When a write is made durable (`--fsync`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fsync {
    /// Every write is its own transaction, synced before its answer.
    Always,
    /// Writes that queue while a commit is being synced share the next commit (group commit);
    /// each is still answered only once its commit is durable.
    Batch,
}

impl Fsync {
    /// The lowercase name used on the command line and in logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Fsync::Always => "always",
            Fsync::Batch => "batch",
        }
    }
}

/// Cache budget with `--data-dir` and no `--cache-size`.
pub const DEFAULT_CACHE_BYTES: u64 = 256 * 1024 * 1024;

/// The durable tier (`--data-dir`): where the store lives and how writes and reads are served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageConfig {
    /// Directory of the store; created if missing, refused if it holds other files.
    pub dir: PathBuf,
    /// When writes are durable.
    pub fsync: Fsync,
    /// Bytes of the in-memory cache of tweets and home timelines in front of the store.
    pub cache_bytes: u64,
    /// The seed values were asked for explicitly: a store that already holds data is then
    /// refused instead of served (seeding never writes into a non-empty store).
    pub seed_given: bool,
}

impl StorageConfig {
    /// A store in `dir` with batch commits, the default cache, seeding only a new store.
    pub fn new(dir: impl Into<PathBuf>) -> StorageConfig {
        StorageConfig {
            dir: dir.into(),
            fsync: Fsync::Batch,
            cache_bytes: DEFAULT_CACHE_BYTES,
            seed_given: false,
        }
    }
}

/// Everything the server needs to start. [`Config::default`] is a small, fast-seeding server.
#[derive(Debug, Clone)]
pub struct Config {
    /// Home timeline strategy.
    pub timeline: Strategy,
    /// Followers at which an author counts as a celebrity (hybrid: pulled, not pushed).
    pub celebrity_threshold: u32,
    /// Number of lock shards for users and tweets (>= 1).
    pub shards: usize,
    /// Users to seed, with ids 1..=seed_users.
    pub seed_users: u32,
    /// Distinct followees per seeded user (clamped to seed_users - 1).
    pub seed_follows: u32,
    /// Tweets per seeded user.
    pub seed_tweets: u32,
    /// Seed of the random graph: the same seed gives the same graph.
    pub seed: u64,
    /// Zipf exponent of followee popularity (id 1 is the most followed).
    pub seed_zipf_exponent: f64,
    /// Largest accepted request body in bytes (413 above).
    pub max_body_bytes: usize,
    /// Time allowed to receive a request's headers before the connection is closed.
    pub header_read_timeout: Duration,
    /// Open connections at most; further clients wait in the listen backlog.
    pub max_connections: usize,
    /// Longest wait for in-flight requests after shutdown is requested.
    pub drain_timeout: Duration,
    /// The durable tier; `None` keeps everything in memory (the default).
    pub storage: Option<StorageConfig>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            timeline: Strategy::Push,
            celebrity_threshold: 10_000,
            shards: 16,
            seed_users: 10_000,
            seed_follows: 50,
            seed_tweets: 10,
            seed: 42,
            seed_zipf_exponent: 1.0,
            max_body_bytes: 64 * 1024,
            header_read_timeout: Duration::from_secs(10),
            max_connections: 4096,
            drain_timeout: Duration::from_secs(10),
            storage: None,
        }
    }
}

/// The largest seeded graph accepted: home timelines are bounded, but follows are not.
const MAX_SEED_FOLLOWS_TOTAL: u64 = 200_000_000;
const MAX_SEED_TWEETS_TOTAL: u64 = 100_000_000;

impl Config {
    /// Checks the values the server cannot run with, naming the field and the fix.
    pub fn validate(&self) -> Result<(), ServerError> {
        let bad = |msg: String| Err(ServerError::Config(msg));
        if self.shards == 0 || self.shards > 4096 {
            return bad(format!("shards is {}; use 1 to 4096", self.shards));
        }
        if self.max_connections == 0 {
            return bad("max connections is 0; use at least 1".into());
        }
        if self.max_body_bytes == 0 {
            return bad("max body bytes is 0; use at least 1".into());
        }
        if self.header_read_timeout.is_zero() {
            return bad("header read timeout is 0; use a positive duration".into());
        }
        if !(self.seed_zipf_exponent.is_finite() && self.seed_zipf_exponent > 0.0) {
            return bad(format!(
                "seed zipf exponent is {}; use a positive number such as 1.0",
                self.seed_zipf_exponent
            ));
        }
        if let Some(storage) = &self.storage {
            if storage.cache_bytes == 0 {
                return bad("cache size is 0 bytes; give a positive size such as 64MiB".into());
            }
        }
        let users = u64::from(self.seed_users);
        let follows = users * u64::from(self.effective_seed_follows());
        if follows > MAX_SEED_FOLLOWS_TOTAL {
            return bad(format!(
                "seed users x follows is {follows}; at most {MAX_SEED_FOLLOWS_TOTAL} fit in memory"
            ));
        }
        let tweets = users * u64::from(self.seed_tweets);
        if tweets > MAX_SEED_TWEETS_TOTAL {
            return bad(format!(
                "seed users x tweets is {tweets}; at most {MAX_SEED_TWEETS_TOTAL} fit in memory"
            ));
        }
        Ok(())
    }

    /// Followees per seeded user after clamping to the other users that exist.
    pub fn effective_seed_follows(&self) -> u32 {
        self.seed_follows.min(self.seed_users.saturating_sub(1))
    }
}
