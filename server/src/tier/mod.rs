//! The durable tier (`--data-dir`, SPEC section 11): users, follows, tweets and likes live in
//! an embedded store (SQLite, [`db`]) written by one group-committing writer ([`writer`]);
//! the follow graph, each user's tweet ids and like counts are in-memory indexes rebuilt from
//! the store at start ([`load`]); tweets and pushed home timelines are served from a bounded
//! cache ([`cache`]) and read or rebuilt on a miss.
//!
//! Durability promise: a write is answered 2xx only after the commit that holds it is
//! durable; it becomes visible to readers at the same moment. Home timelines are derived
//! data: never stored, rebuilt from the follow graph and the tweets on first read.

mod cache;
mod datadir;
pub(crate) mod db;
mod likes;
mod load;
mod stats;
mod writer;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use parking_lot::Mutex;
use rusqlite::Connection;

use crate::config::{Config, StorageConfig};
use crate::render;
use crate::seed::SeedReport;
use crate::store::{sorted_insert, FanoutCounters, PageIds, Store, StoreError};
use crate::ServerError;

pub use cache::TIMELINE_BYTES;
pub(crate) use stats::TierStats;

use cache::{Caches, Timeline, TweetHead};
use datadir::DataDir;
use db::Write;
use likes::LikeCounts;
use writer::{Done, Request, Writer};

/// What the writer thread and the request handlers share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) store: Arc<Store>,
    likes: LikeCounts,
    caches: Caches,
    pub(crate) stats: TierStats,
}

impl Shared {
    /// Makes one committed write visible in memory (writer thread, in commit order).
    fn apply(&self, w: &Write, changed: bool) -> Done {
        let store = &self.store;
        match w {
            Write::User { id, name } => {
                store.apply_user(*id, name);
                Done::User(*id)
            }
            Write::Follow { follower, followee } => {
                if changed {
                    store.link(*follower, *followee, false);
                    self.invalidate_timeline(*follower);
                }
                Done::Changed(changed)
            }
            Write::Unfollow { follower, followee } => {
                if changed {
                    store.unlink(*follower, *followee, false);
                    self.invalidate_timeline(*follower);
                }
                Done::Changed(changed)
            }
            Write::Tweet {
                id,
                author,
                created_ms,
                ..
            } => {
                self.likes.ensure(*id);
                store.apply_tweet(*id, *author);
                Done::Tweet {
                    id: *id,
                    created_ms: *created_ms,
                }
            }
            Write::Like { tweet, .. } => {
                if changed {
                    self.likes.add(*tweet, 1);
                }
                Done::Changed(changed)
            }
        }
    }

    /// A follow or unfollow changes which tweets a home timeline holds: drop the cached one,
    /// the next read rebuilds it from the graph.
    fn invalidate_timeline(&self, uid: u32) {
        if let Some(t) = &self.caches.timelines {
            t.remove(&uid);
        }
    }
}

/// The durable tier of one server. Dropping it finishes queued writes, closes the store and
/// releases the directory lock.
#[derive(Debug)]
pub(crate) struct Tier {
    shared: Arc<Shared>,
    writer: Writer,
    readers: Mutex<Vec<Connection>>,
    db_path: PathBuf,
    // Declared last: released after the writer has closed the store.
    _dir: DataDir,
}

/// Opens (or creates and seeds) the store of `storage`; returns the in-memory indexes, what
/// was loaded and the tier.
pub(crate) fn open(
    config: &Config,
    storage: &StorageConfig,
    counters: FanoutCounters,
) -> Result<(Arc<Store>, SeedReport, Tier), ServerError> {
    let started = Instant::now();
    let dir = DataDir::open(&storage.dir)?;
    let db_path = dir.db_path();
    let (mut conn, is_new) = db::open_writer(&db_path)?;
    if is_new {
        load::seed_new(&mut conn, &db_path, config)?;
    } else if storage.seed_given {
        return Err(ServerError::DataDir(format!(
            "--data-dir {} already holds a store; seeding is refused so that nothing in it is \
             overwritten. Drop the --seed-* flags to serve it, or give an empty --data-dir",
            dir.path().display()
        )));
    }
    let (store, likes, report) = load::load(&conn, &db_path, config, counters, started)?;
    let store = Arc::new(store);
    let stats = TierStats::default();
    let timelines = config.timeline != crate::Strategy::Pull;
    let caches = Caches::new(
        storage.cache_bytes,
        timelines,
        stats.kind("tweet"),
        stats.kind("timeline"),
    );
    let shared = Arc::new(Shared {
        store: store.clone(),
        likes,
        caches,
        stats,
    });
    tracing::info!(
        dir = %dir.path().display(),
        fsync = storage.fsync.as_str(),
        cache_bytes = storage.cache_bytes,
        new = is_new,
        "durable store open"
    );
    let writer = Writer::start(conn, shared.clone(), storage.fsync);
    let tier = Tier {
        shared,
        writer,
        readers: Mutex::new(Vec::new()),
        db_path,
        _dir: dir,
    };
    Ok((store, report, tier))
}

impl Tier {
    fn store(&self) -> &Store {
        &self.shared.store
    }

    /// The metrics of the tier, and a way to refresh its gauges.
    pub(crate) fn stats(&self) -> &TierStats {
        &self.shared.stats
    }

    /// Reads the cache sizes into the gauges.
    pub(crate) fn refresh_stats(&self) {
        self.shared.stats.refresh(&self.shared.caches);
    }

    pub(crate) async fn create_user(&self, name: &str) -> Result<u64, StoreError> {
        match self.writer.submit(Request::User(name.to_owned())).await? {
            Done::User(id) => Ok(u64::from(id)),
            _ => Err(StoreError::Unavailable("create the user".into())),
        }
    }

    pub(crate) async fn follow(
        &self,
        follower: u64,
        target: u64,
        add: bool,
    ) -> Result<(), StoreError> {
        let (f, t) = if add {
            self.store().follow_pair(follower, target)?
        } else {
            let store = self.store();
            (store.existing_user(follower)?, store.existing_user(target)?)
        };
        let request = if add {
            Request::Follow(f, t)
        } else {
            Request::Unfollow(f, t)
        };
        self.writer.submit(request).await.map(|_| ())
    }

    /// Posts a tweet: durable first, then pushed into the cached home timelines of the
    /// author's followers and written through to the tweet cache. Returns (id, created_ms).
    pub(crate) async fn post_tweet(
        &self,
        user_id: u64,
        text: &str,
    ) -> Result<(u32, u64), StoreError> {
        let author = self.store().existing_user(user_id)?;
        let done = self
            .writer
            .submit(Request::Tweet(author, text.to_owned()))
            .await?;
        let Done::Tweet { id, created_ms } = done else {
            return Err(StoreError::Unavailable("post the tweet".into()));
        };
        let head: TweetHead = render::head_of(id, author, created_ms, text).into();
        self.shared.caches.tweets.insert(id, head);
        self.fan_out(author, id);
        Ok((id, created_ms))
    }

    /// Writes tweet `tid` into the cached home timelines of the author's pushed-to followers;
    /// followers whose timeline is not cached get it when theirs is rebuilt.
    fn fan_out(&self, author: u32, tid: u32) {
        let Some(timelines) = &self.shared.caches.timelines else {
            return;
        };
        let store = self.store();
        let mut written = 0u64;
        for f in store.push_targets(author) {
            if let Some(tl) = timelines.peek(&f) {
                let mut ids = tl.lock();
                if sorted_insert(&mut ids, tid) {
                    written += 1;
                    store.trim_home(&mut ids);
                }
            }
        }
        store.counters().entries_written.inc_by(written);
    }

    pub(crate) async fn like(&self, tweet_id: u64, user_id: u64) -> Result<(), StoreError> {
        let tid = self.existing_tweet(tweet_id)?;
        let uid = self.store().existing_user(user_id)?;
        self.writer
            .submit(Request::Like(tid, uid))
            .await
            .map(|_| ())
    }

    fn existing_tweet(&self, tweet_id: u64) -> Result<u32, StoreError> {
        u32::try_from(tweet_id)
            .ok()
            .filter(|&t| t > 0 && u64::from(t) <= self.store().tweet_count())
            .ok_or(StoreError::UnknownTweet(tweet_id))
    }

    /// The JSON of one tweet.
    pub(crate) fn tweet_json(&self, tweet_id: u64) -> Result<Vec<u8>, StoreError> {
        let tid = self.existing_tweet(tweet_id)?;
        let heads = self.heads(&[tid])?;
        let likes = self.shared.likes.get(tid);
        Ok(render::single_of(&heads[0], likes))
    }

    /// The JSON of a page of tweet ids.
    pub(crate) fn page_json(&self, page: &PageIds) -> Result<Vec<u8>, StoreError> {
        let heads = self.heads(&page.ids)?;
        let likes = self.shared.likes.get_many(&page.ids);
        Ok(render::page_of(&heads, &likes, page.next))
    }

    /// A home timeline page: pushed entries from the cached (or rebuilt) timeline.
    pub(crate) fn home_ids(
        &self,
        user_id: u64,
        before: Option<u64>,
        limit: usize,
    ) -> Result<PageIds, StoreError> {
        let store = self.store();
        let Some(timeline) = self.timeline(user_id)? else {
            return store.home_ids(user_id, before, limit);
        };
        let pushed = timeline.lock();
        store.home_page(user_id, before, limit, Some(&pushed))
    }

    /// The user's cached pushed home timeline, rebuilt from the graph on a miss; None when the
    /// strategy keeps none (pull).
    fn timeline(&self, user_id: u64) -> Result<Option<Timeline>, StoreError> {
        let Some(timelines) = &self.shared.caches.timelines else {
            return Ok(None);
        };
        let uid = self.store().existing_user(user_id)?;
        let stats = &self.shared.caches.timeline_stats;
        if let Some(t) = timelines.get(&uid) {
            stats.hit(1);
            return Ok(Some(t));
        }
        stats.miss(1);
        // Publish the entry locked, then build it: a tweet posted meanwhile either is in the
        // author's tweets when the rebuild reads them, or its fan-out finds this entry and
        // waits for the lock. Either way it is not lost.
        let entry: Timeline = Arc::default();
        let mut ids = entry.lock();
        timelines.insert(uid, entry.clone());
        *ids = self.store().rebuild_home(uid).unwrap_or_default();
        drop(ids);
        Ok(Some(entry))
    }

    /// Rendered heads of `ids`: from the cache, the misses read from the store.
    fn heads(&self, ids: &[u32]) -> Result<Vec<TweetHead>, StoreError> {
        let cache = &self.shared.caches.tweets;
        let mut out: Vec<Option<TweetHead>> = ids.iter().map(|id| cache.get(id)).collect();
        let misses = out.iter().filter(|h| h.is_none()).count() as u64;
        let stats = &self.shared.caches.tweet_stats;
        stats.hit(ids.len() as u64 - misses);
        stats.miss(misses);
        if misses > 0 {
            self.read_missing(ids, &mut out)?;
        }
        Ok(out.into_iter().flatten().collect())
    }

    fn read_missing(&self, ids: &[u32], out: &mut [Option<TweetHead>]) -> Result<(), StoreError> {
        let read = |conn: &Connection| -> rusqlite::Result<()> {
            for (slot, &tid) in out.iter_mut().zip(ids) {
                if slot.is_some() {
                    continue;
                }
                let started = Instant::now();
                let row = db::read_tweet(conn, tid)?;
                self.shared
                    .stats
                    .read_seconds
                    .observe(started.elapsed().as_secs_f64());
                if let Some((author, created_ms, text)) = row {
                    let head: TweetHead = render::head_of(tid, author, created_ms, &text).into();
                    self.shared.caches.tweets.insert(tid, head.clone());
                    *slot = Some(head);
                }
            }
            Ok(())
        };
        self.with_reader(read)
    }

    /// Runs `f` on a pooled read connection.
    fn with_reader<R>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<R>,
    ) -> Result<R, StoreError> {
        let unavailable =
            |e: rusqlite::Error| StoreError::Unavailable(format!("read the store ({e})"));
        let pooled = self.readers.lock().pop();
        let conn = match pooled {
            Some(c) => c,
            None => db::open_reader(&self.db_path).map_err(unavailable)?,
        };
        let result = f(&conn).map_err(unavailable);
        self.readers.lock().push(conn);
        result
    }
}
