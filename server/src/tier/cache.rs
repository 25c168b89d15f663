//! The bounded in-memory cache in front of the durable store, one quick_cache per object kind
//! (`tweet`: rendered tweets; `timeline`: pushed home timelines, with push and hybrid). Both
//! are bounded in bytes; quick_cache's policy (a CLOCK-Pro/S3-FIFO relative that keeps hot
//! entries and lets one-hit wonders through) is made for skewed, Zipf-like traffic. Counters
//! per kind feed `/metrics`: hits, misses, evictions; bytes and entries are read from the cache.

use std::sync::Arc;

use parking_lot::Mutex;
use prometheus_client::metrics::counter::Counter;
use quick_cache::sync::Cache;
use quick_cache::{DefaultHashBuilder, Lifecycle, Weighter};

use crate::store::HOME_CAP;

/// Bytes charged per entry on top of its payload: the key, the `Arc`, the cache's slot.
pub(crate) const ENTRY_OVERHEAD: u64 = 64;
/// Bytes charged per cached home timeline: its full [`HOME_CAP`] ids, so fan-out never
/// grows a cached timeline past what it was charged.
pub const TIMELINE_BYTES: u64 = ENTRY_OVERHEAD + 4 * HOME_CAP as u64;

/// A cached tweet: its JSON up to the like count (`{"id":..,"text":..,"likes":`), which never
/// changes; the like count is added at render time.
pub(crate) type TweetHead = Arc<str>;
/// A cached pushed home timeline, ascending ids, newest [`HOME_CAP`].
pub(crate) type Timeline = Arc<Mutex<Vec<u32>>>;

/// Hit, miss and eviction counters of one kind (handles into the `/metrics` families).
#[derive(Debug, Clone, Default)]
pub(crate) struct KindStats {
    pub(crate) hits: Counter,
    pub(crate) misses: Counter,
    pub(crate) evictions: Counter,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct CountEvictions(Counter);

impl<K, V> Lifecycle<K, V> for CountEvictions {
    type RequestState = ();

    fn begin_request(&self) {}

    fn on_evict(&self, _state: &mut (), _key: K, _val: V) {
        self.0.inc();
    }
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct TweetWeight;

impl Weighter<u32, TweetHead> for TweetWeight {
    fn weight(&self, _key: &u32, val: &TweetHead) -> u64 {
        ENTRY_OVERHEAD + val.len() as u64
    }
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct TimelineWeight;

impl Weighter<u32, Timeline> for TimelineWeight {
    fn weight(&self, _key: &u32, _val: &Timeline) -> u64 {
        TIMELINE_BYTES
    }
}

type Kind<V, W> = Cache<u32, V, W, DefaultHashBuilder, CountEvictions>;

fn new_kind<V: Clone, W: Weighter<u32, V> + Clone>(
    bytes: u64,
    typical: u64,
    weigher: W,
    stats: &KindStats,
) -> Kind<V, W> {
    let items = (bytes / typical).clamp(16, 1 << 24) as usize;
    Cache::with(
        items,
        bytes,
        weigher,
        DefaultHashBuilder::default(),
        CountEvictions(stats.evictions.clone()),
    )
}

/// Both kinds with their counters.
pub(crate) struct Caches {
    pub(crate) tweets: Kind<TweetHead, TweetWeight>,
    pub(crate) timelines: Option<Kind<Timeline, TimelineWeight>>,
    pub(crate) tweet_stats: KindStats,
    pub(crate) timeline_stats: KindStats,
    pub(crate) tweet_capacity: u64,
    pub(crate) timeline_capacity: u64,
}

impl std::fmt::Debug for Caches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Caches")
            .field("tweet_bytes", &self.tweets.weight())
            .field(
                "timeline_bytes",
                &self.timelines.as_ref().map(|t| t.weight()),
            )
            .finish()
    }
}

impl Caches {
    /// `bytes` in all; with `timelines` (push, hybrid) half of it holds home timelines.
    pub(crate) fn new(
        bytes: u64,
        timelines: bool,
        tweet_stats: KindStats,
        timeline_stats: KindStats,
    ) -> Caches {
        let timeline_capacity = if timelines { bytes / 2 } else { 0 };
        let tweet_capacity = bytes - timeline_capacity;
        let tweets = new_kind(
            tweet_capacity,
            ENTRY_OVERHEAD + 200,
            TweetWeight,
            &tweet_stats,
        );
        let timelines = timelines.then(|| {
            new_kind(
                timeline_capacity,
                TIMELINE_BYTES,
                TimelineWeight,
                &timeline_stats,
            )
        });
        Caches {
            tweets,
            timelines,
            tweet_stats,
            timeline_stats,
            tweet_capacity,
            timeline_capacity,
        }
    }

    /// (bytes cached, entries) of the tweet kind and of the timeline kind.
    pub(crate) fn usage(&self) -> [(u64, u64); 2] {
        let timelines = self
            .timelines
            .as_ref()
            .map_or((0, 0), |t| (t.weight(), t.len() as u64));
        [(self.tweets.weight(), self.tweets.len() as u64), timelines]
    }
}

impl KindStats {
    pub(crate) fn hit(&self, n: u64) {
        if n > 0 {
            self.hits.inc_by(n);
        }
    }

    pub(crate) fn miss(&self, n: u64) {
        if n > 0 {
            self.misses.inc_by(n);
        }
    }
}
