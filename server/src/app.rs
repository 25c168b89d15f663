//! [`App`]: a seeded (or restored) store with its configuration, metrics and, with
//! `--data-dir`, its durable tier. Every API operation goes through an `App` method, which
//! serves it from memory or through the tier: the HTTP layer never knows which.

use std::sync::Arc;

use crate::config::Config;
use crate::metrics::Metrics;
use crate::render;
use crate::seed::{self, SeedReport};
use crate::store::{self, Store, StoreError};
use crate::tier::{self, Tier};
use crate::ServerError;

/// A seeded store with its configuration and metrics: everything a connection needs.
#[derive(Debug)]
pub struct App {
    pub(crate) config: Config,
    pub(crate) store: Arc<Store>,
    pub(crate) metrics: Metrics,
    seed: SeedReport,
    tier: Option<Tier>,
}

/// A posted tweet as `POST /tweets` answers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Posted {
    pub(crate) id: u64,
    pub(crate) user_id: u64,
    pub(crate) created_ms: u64,
}

impl App {
    /// Validates `config` and seeds the store, or with `config.storage` opens (seeding a new
    /// one) the durable store and loads its indexes. CPU- and I/O-bound: seconds for 100K
    /// users; call it outside an async context or through `spawn_blocking`, as `run` does.
    pub fn new(config: Config) -> Result<App, ServerError> {
        config.validate()?;
        let fanout = store::FanoutCounters::default();
        let (store, seed, tier) = match &config.storage {
            None => {
                let (store, seed) = seed::build(&config, fanout.clone())?;
                (Arc::new(store), seed, None)
            }
            Some(storage) => {
                let (store, seed, tier) = tier::open(&config, storage, fanout.clone())?;
                (store, seed, Some(tier))
            }
        };
        let mut metrics = Metrics::new(&seed, fanout);
        if let Some(t) = &tier {
            metrics.add_tier(t.stats());
        }
        // The report reads "seeded ..."; a durable store may have been loaded, not seeded.
        let summary = match &tier {
            Some(_) => format!(
                "durable store: {}",
                seed.to_string().replacen("seeded", "holds", 1)
            ),
            None => seed.to_string(),
        };
        tracing::info!(
            timeline = %config.timeline,
            shards = config.shards,
            celebrity_threshold = config.celebrity_threshold,
            "{summary}"
        );
        Ok(App {
            config,
            store,
            metrics,
            seed,
            tier,
        })
    }

    /// The configuration the app was built with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The in-memory store. With `--data-dir` it holds the indexes loaded from the durable store
    /// (users, the follow graph, tweet ids, counts), not tweet texts: read tweets through the
    /// API then.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The metrics registry of this app.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// What seeding (or loading the durable store) built and how long it took.
    pub fn seed_report(&self) -> &SeedReport {
        &self.seed
    }

    /// Whether writes go to a durable store (`--data-dir`).
    pub fn is_durable(&self) -> bool {
        self.tier.is_some()
    }

    /// The Prometheus text of `/metrics`, with store sizes and cache gauges read now.
    pub fn metrics_text(&self) -> String {
        if let Some(t) = &self.tier {
            t.refresh_stats();
        }
        self.metrics.render(&self.store)
    }

    pub(crate) async fn create_user(&self, name: &str) -> Result<u64, StoreError> {
        match &self.tier {
            Some(t) => t.create_user(name).await,
            None => self.store.create_user(name),
        }
    }

    pub(crate) async fn follow(
        &self,
        follower: u64,
        target: u64,
        add: bool,
    ) -> Result<(), StoreError> {
        match (&self.tier, add) {
            (Some(t), _) => t.follow(follower, target, add).await,
            (None, true) => self.store.follow(follower, target),
            (None, false) => self.store.unfollow(follower, target),
        }
    }

    pub(crate) async fn post_tweet(&self, user_id: u64, text: &str) -> Result<Posted, StoreError> {
        let (id, created_ms) = match &self.tier {
            Some(t) => {
                let (id, created) = t.post_tweet(user_id, text).await?;
                (u64::from(id), created)
            }
            None => {
                let v = self.store.post_tweet(user_id, text)?;
                (v.id, v.created_ms)
            }
        };
        Ok(Posted {
            id,
            user_id,
            created_ms,
        })
    }

    pub(crate) async fn like(&self, tweet_id: u64, user_id: u64) -> Result<(), StoreError> {
        match &self.tier {
            Some(t) => t.like(tweet_id, user_id).await,
            None => self.store.like(tweet_id, user_id),
        }
    }

    /// The JSON of `GET /tweets/{id}`.
    pub(crate) fn tweet_json(&self, tweet_id: u64) -> Result<Vec<u8>, StoreError> {
        if let Some(t) = &self.tier {
            return t.tweet_json(tweet_id);
        }
        u32::try_from(tweet_id)
            .ok()
            .and_then(|tid| render::single(&self.store, tid))
            .ok_or(StoreError::UnknownTweet(tweet_id))
    }

    /// The JSON of a home (`home`) or own-tweets timeline page.
    pub(crate) fn timeline_json(
        &self,
        user_id: u64,
        before: Option<u64>,
        limit: usize,
        home: bool,
    ) -> Result<Vec<u8>, StoreError> {
        let page = match (&self.tier, home) {
            (Some(t), true) => t.home_ids(user_id, before, limit)?,
            (None, true) => self.store.home_ids(user_id, before, limit)?,
            (_, false) => self.store.user_ids(user_id, before, limit)?,
        };
        if home {
            self.metrics.record_authors(page.authors_merged);
        }
        match &self.tier {
            Some(t) => t.page_json(&page),
            None => Ok(render::page(&self.store, &page)),
        }
    }
}
