//! `/metrics` of the durable tier: cache hits, misses, evictions, bytes and entries per object
//! kind; bytes written to the store per kind (row bytes) and by the process to disk; commit
//! and read latency histograms and writes per commit (group commit at work).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use super::cache::{Caches, KindStats};

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct KindLabels {
    kind: &'static str,
}

fn kind(kind: &'static str) -> KindLabels {
    KindLabels { kind }
}

/// Every metric of the tier; clones share the same values.
#[derive(Debug, Clone)]
pub(crate) struct TierStats {
    hits: Family<KindLabels, Counter>,
    misses: Family<KindLabels, Counter>,
    evictions: Family<KindLabels, Counter>,
    cached_bytes: Family<KindLabels, Gauge>,
    cached_entries: Family<KindLabels, Gauge>,
    capacity: Family<KindLabels, Gauge>,
    pub(crate) row_bytes: Family<KindLabels, Counter>,
    pub(crate) disk_bytes: Counter,
    pub(crate) commit_seconds: Histogram,
    pub(crate) commit_writes: Histogram,
    pub(crate) commit_failures: Counter,
    pub(crate) read_seconds: Histogram,
}

impl Default for TierStats {
    fn default() -> Self {
        TierStats {
            hits: Family::default(),
            misses: Family::default(),
            evictions: Family::default(),
            cached_bytes: Family::default(),
            cached_entries: Family::default(),
            capacity: Family::default(),
            row_bytes: Family::default(),
            disk_bytes: Counter::default(),
            // 10 us .. ~5 s.
            commit_seconds: Histogram::new(exponential_buckets(0.000_01, 2.0, 20)),
            commit_writes: Histogram::new(exponential_buckets(1.0, 2.0, 13)),
            commit_failures: Counter::default(),
            read_seconds: Histogram::new(exponential_buckets(0.000_001, 2.0, 23)),
        }
    }
}

impl TierStats {
    /// The counters of one cache kind (`tweet` or `timeline`).
    pub(crate) fn kind(&self, name: &'static str) -> KindStats {
        KindStats {
            hits: self.hits.get_or_create(&kind(name)).clone(),
            misses: self.misses.get_or_create(&kind(name)).clone(),
            evictions: self.evictions.get_or_create(&kind(name)).clone(),
        }
    }

    /// Row bytes written, by object kind (`user`, `follow`, `tweet`, `like`).
    pub(crate) fn wrote(&self, name: &'static str, bytes: u64) {
        self.row_bytes.get_or_create(&kind(name)).inc_by(bytes);
    }

    /// Reads the caches' sizes into the gauges (at scrape time).
    pub(crate) fn refresh(&self, caches: &Caches) {
        let [tweets, timelines] = caches.usage();
        let kinds = [
            ("tweet", tweets, caches.tweet_capacity),
            ("timeline", timelines, caches.timeline_capacity),
        ];
        for (name, (bytes, entries), capacity) in kinds {
            self.cached_bytes
                .get_or_create(&kind(name))
                .set(bytes as i64);
            self.cached_entries
                .get_or_create(&kind(name))
                .set(entries as i64);
            self.capacity
                .get_or_create(&kind(name))
                .set(capacity as i64);
        }
    }

    pub(crate) fn register(&self, r: &mut Registry) {
        r.register("cache_hits", "Cache hits by object kind", self.hits.clone());
        r.register(
            "cache_misses",
            "Cache misses by object kind",
            self.misses.clone(),
        );
        r.register(
            "cache_evictions",
            "Entries evicted by object kind",
            self.evictions.clone(),
        );
        r.register(
            "cache_bytes",
            "Bytes cached by object kind",
            self.cached_bytes.clone(),
        );
        r.register(
            "cache_entries",
            "Entries cached by object kind",
            self.cached_entries.clone(),
        );
        r.register(
            "cache_capacity_bytes",
            "Cache budget by object kind",
            self.capacity.clone(),
        );
        r.register(
            "store_row_bytes_written",
            "Bytes of rows written to the durable store by object kind (ids as 8 bytes)",
            self.row_bytes.clone(),
        );
        r.register(
            "store_disk_bytes_written",
            "Bytes the server process wrote to disk (/proc/self/io write_bytes)",
            self.disk_bytes.clone(),
        );
        r.register(
            "store_commit_duration_seconds",
            "Durable commit latency (write, fsync), per commit",
            self.commit_seconds.clone(),
        );
        r.register(
            "store_commit_writes",
            "Writes per durable commit (above 1: group commit)",
            self.commit_writes.clone(),
        );
        r.register(
            "store_commit_failures",
            "Commits that failed (disk full, I/O error): their writes answered 503",
            self.commit_failures.clone(),
        );
        r.register(
            "store_read_duration_seconds",
            "Durable store read latency (a cache miss), per read",
            self.read_seconds.clone(),
        );
    }
}

/// Bytes this process has caused to be written to storage (Linux `/proc/self/io`), if known.
pub(crate) fn disk_bytes_written() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/io").ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("write_bytes:")?.trim().parse().ok())
}
