//! The tweet table. Tweets are written once and read by every timeline, so they live in
//! fixed-size chunks of write-once cells: a page of 20 tweets takes one shared lock (to see the
//! chunk list) and then reads every tweet without locking, which lets the CPU overlap the cache
//! misses of random tweets. Like counts are atomics; who liked what, needed only to make likes
//! idempotent, lives in sharded sets off the read path.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};

use parking_lot::{Mutex, RwLock, RwLockReadGuard};

use super::{Padded, Text};

/// Tweets per chunk.
const CHUNK: usize = 4096;

/// One tweet.
#[derive(Debug)]
pub struct Tweet {
    pub(crate) user_id: u32,
    pub(crate) created_ms: u64,
    pub(crate) text: Text,
    pub(crate) likes: AtomicU32,
    /// The tweet's JSON up to its like count, rendered on first read and reused: the fields
    /// before `likes` never change (rendered-tweet caches are how large services serve reads).
    pub(crate) rendered: OnceLock<Box<str>>,
}

impl Tweet {
    pub(crate) fn new(user_id: u32, created_ms: u64, text: Text) -> Tweet {
        Tweet {
            user_id,
            created_ms,
            text,
            likes: AtomicU32::new(0),
            rendered: OnceLock::new(),
        }
    }
}

type Chunk = Arc<[OnceLock<Tweet>]>;

/// All tweets by id (ids start at 1).
#[derive(Debug)]
pub(crate) struct TweetTable {
    chunks: RwLock<Vec<Chunk>>,
    likers: Box<[Padded<Mutex<HashSet<u64>>>]>,
}

/// A read view of the table: look tweets up with [`Snapshot::get`] while it lives.
pub(crate) struct Snapshot<'a>(RwLockReadGuard<'a, Vec<Chunk>>);

impl Snapshot<'_> {
    /// The tweet with id `tid`, if stored.
    pub(crate) fn get(&self, tid: u32) -> Option<&Tweet> {
        let i = (tid as usize).checked_sub(1)?;
        self.0.get(i / CHUNK)?[i % CHUNK].get()
    }
}

fn empty_chunk() -> Chunk {
    (0..CHUNK).map(|_| OnceLock::new()).collect()
}

impl TweetTable {
    /// A table holding `tweets` as ids 1, 2, ...; `shards` sizes the likers sets.
    pub(crate) fn seeded(tweets: impl Iterator<Item = Tweet>, shards: usize) -> TweetTable {
        let mut tweets = tweets.peekable();
        let mut chunks = Vec::new();
        while tweets.peek().is_some() {
            let chunk: Chunk = (0..CHUNK)
                .map(|_| tweets.next().map_or_else(OnceLock::new, OnceLock::from))
                .collect();
            chunks.push(chunk);
        }
        TweetTable {
            chunks: RwLock::new(chunks),
            likers: (0..shards.max(1)).map(|_| Padded::default()).collect(),
        }
    }

    pub(crate) fn snapshot(&self) -> Snapshot<'_> {
        Snapshot(self.chunks.read())
    }

    /// Stores tweet `tid` (each id is inserted once).
    pub(crate) fn insert(&self, tid: u32, tweet: Tweet) {
        let i = tid as usize - 1;
        let (c, slot) = (i / CHUNK, i % CHUNK);
        let existing = self.chunks.read().get(c).cloned();
        let chunk = existing.unwrap_or_else(|| {
            let mut chunks = self.chunks.write();
            while chunks.len() <= c {
                chunks.push(empty_chunk());
            }
            chunks[c].clone()
        });
        let _ = chunk[slot].set(tweet);
    }

    /// Records that `uid` likes `tid`; false if there is no such tweet. Idempotent.
    pub(crate) fn like(&self, tid: u32, uid: u32) -> bool {
        let snapshot = self.snapshot();
        let Some(tweet) = snapshot.get(tid) else {
            return false;
        };
        let key = (u64::from(tid) << 32) | u64::from(uid);
        let shard = tid as usize % self.likers.len();
        if self.likers[shard].0.lock().insert(key) {
            tweet.likes.fetch_add(1, Ordering::Relaxed);
        }
        true
    }
}
