//! Prometheus metrics (prometheus-client): requests by route and status, latency by route,
//! store sizes, and the fan-out work that makes push, pull and hybrid differ under load.

use std::sync::atomic::AtomicU64;
use std::time::Duration;

use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use crate::seed::SeedReport;
use crate::store::{FanoutCounters, Store};

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: &'static str,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: &'static str,
}

/// All metrics of one server.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    authors_per_read: Histogram,
    users: Gauge,
    tweets: Gauge,
    follows: Gauge,
    celebrities: Gauge,
    pub(crate) connections: Gauge,
    pub(crate) connections_total: Counter,
    pub(crate) in_flight: Gauge,
    pub(crate) fanout: FanoutCounters,
}

fn latency_histogram() -> Histogram {
    // 10 us .. ~5 s.
    Histogram::new(exponential_buckets(0.000_01, 2.0, 20))
}

impl Metrics {
    /// Registers every metric under the `napkin_` prefix.
    pub fn new(seed: &SeedReport, fanout: FanoutCounters) -> Metrics {
        let mut registry = Registry::with_prefix("napkin");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(
            latency_histogram as fn() -> Histogram,
        );
        let authors_per_read = Histogram::new([
            0.0, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0,
        ]);
        let m = Metrics {
            requests,
            latency: latency.clone(),
            authors_per_read,
            users: Gauge::default(),
            tweets: Gauge::default(),
            follows: Gauge::default(),
            celebrities: Gauge::default(),
            connections: Gauge::default(),
            connections_total: Counter::default(),
            in_flight: Gauge::default(),
            fanout,
            registry: Registry::default(),
        };
        m.register_http(&mut registry, latency);
        m.register_store(&mut registry, seed);
        m.register_fanout(&mut registry);
        Metrics { registry, ..m }
    }

    /// Requests, their latency, connections.
    fn register_http(&self, registry: &mut Registry, latency: Family<RouteLabels, Histogram>) {
        registry.register(
            "http_requests",
            "HTTP requests by route and status",
            self.requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Request latency by route",
            latency,
        );
        registry.register(
            "http_in_flight_requests",
            "Requests being served",
            self.in_flight.clone(),
        );
        registry.register(
            "connections_open",
            "Open client connections",
            self.connections.clone(),
        );
        registry.register(
            "connections_accepted",
            "Accepted client connections",
            self.connections_total.clone(),
        );
    }

    /// What the store holds, and what seeding built.
    fn register_store(&self, registry: &mut Registry, seed: &SeedReport) {
        registry.register("store_users", "Users in the store", self.users.clone());
        registry.register("store_tweets", "Tweets in the store", self.tweets.clone());
        registry.register(
            "store_follows",
            "Follow edges in the store",
            self.follows.clone(),
        );
        registry.register(
            "store_celebrities",
            "Authors pulled at read time (hybrid)",
            self.celebrities.clone(),
        );
        let seeded: Gauge = Gauge::default();
        seeded.set(seed.home_entries as i64);
        registry.register(
            "seed_home_entries",
            "Home timeline entries written by seeding",
            seeded,
        );
        let seconds = Gauge::<f64, AtomicU64>::default();
        seconds.set(seed.elapsed.as_secs_f64());
        registry.register(
            "seed_duration_seconds",
            "Time taken to seed the store",
            seconds,
        );
    }

    /// The timeline strategies' work: fan-out on write and merging on read.
    fn register_fanout(&self, registry: &mut Registry) {
        let f = &self.fanout;
        registry.register(
            "fanout_entries_written",
            "Tweet ids written into home timelines (push, follow backfill)",
            f.entries_written.clone(),
        );
        registry.register(
            "fanout_entries_removed",
            "Tweet ids removed from home timelines (unfollow, 800 cap)",
            f.entries_removed.clone(),
        );
        registry.register(
            "timeline_reads",
            "Home timeline reads",
            f.timeline_reads.clone(),
        );
        registry.register(
            "timeline_authors_merged",
            "Authors merged at read time, summed over reads",
            f.authors_merged.clone(),
        );
        registry.register(
            "timeline_tweets_pulled",
            "Candidate tweets gathered at read time, summed over reads",
            f.tweets_pulled.clone(),
        );
        registry.register(
            "timeline_authors_merged_per_read",
            "Authors merged at read time per home timeline read",
            self.authors_per_read.clone(),
        );
    }

    /// Registers the durable tier's metrics (cache, store).
    pub(crate) fn add_tier(&mut self, stats: &crate::tier::TierStats) {
        stats.register(&mut self.registry);
    }

    /// Counts one answered request.
    pub(crate) fn record(&self, route: &'static str, status: u16, elapsed: Duration) {
        self.requests
            .get_or_create(&RequestLabels { route, status })
            .inc();
        self.latency
            .get_or_create(&RouteLabels { route })
            .observe(elapsed.as_secs_f64());
    }

    /// Records the authors merged by one home timeline read.
    pub(crate) fn record_authors(&self, authors: usize) {
        self.authors_per_read.observe(authors as f64);
    }

    /// The Prometheus text exposition, with store sizes read now.
    pub fn render(&self, store: &Store) -> String {
        self.users.set(store.user_count() as i64);
        self.tweets.set(store.tweet_count() as i64);
        self.follows.set(store.follow_count() as i64);
        self.celebrities.set(store.celebrity_count() as i64);
        let mut out = String::with_capacity(16 * 1024);
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }

    /// Open connections right now.
    pub fn open_connections(&self) -> i64 {
        self.connections.get()
    }

    /// Requests being served right now (a test hook for graceful drain).
    pub fn in_flight_requests(&self) -> i64 {
        self.in_flight.get()
    }

    pub(crate) fn dec_in_flight(&self) {
        self.in_flight.dec();
    }

    pub(crate) fn inc_in_flight(&self) {
        self.in_flight.inc();
    }
}
