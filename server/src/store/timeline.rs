//! Timeline reads: a user's own tweets, and the home timeline built by push (read the pushed
//! list), pull (merge the followees' recent tweets) or hybrid (both, merged). Ids are assigned
//! in posting order, so "newest first" is "largest id first" and `before` is an id bound.

use super::ops::view;
use super::{internal_id, visible_home, Store, StoreError, TweetView, HOME_CAP};
use crate::config::Strategy;

/// One page of a timeline, newest first; `next` is the `before` value of the following page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub tweets: Vec<TweetView>,
    pub next: Option<u64>,
    /// Authors whose tweets were merged at read time for this page.
    pub authors_merged: usize,
}

/// A page as tweet ids, before the tweets are looked up (the API renders straight from ids).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PageIds {
    pub(crate) ids: Vec<u32>,
    pub(crate) next: Option<u64>,
    pub(crate) authors_merged: usize,
}

/// The newest `take` ids of an ascending list that are strictly below `before`, newest first.
pub(crate) fn newest_below(
    ids: &[u32],
    before: u32,
    take: usize,
) -> impl Iterator<Item = u32> + '_ {
    // The first page (no `before`) is the common case: skip the binary search and its misses.
    let end = match ids.last() {
        Some(&newest) if newest < before => ids.len(),
        _ => ids.partition_point(|&id| id < before),
    };
    ids[end.saturating_sub(take)..end].iter().rev().copied()
}

/// Clamps a wire `before` to the internal id space (absent means "from the newest").
fn before_bound(before: Option<u64>) -> u32 {
    match before {
        None => u32::MAX,
        Some(b) => u32::try_from(b).unwrap_or(u32::MAX),
    }
}

impl Store {
    /// The user's own tweets, newest first.
    pub fn user_timeline(
        &self,
        user_id: u64,
        before: Option<u64>,
        limit: usize,
    ) -> Result<Page, StoreError> {
        Ok(self.views(self.user_ids(user_id, before, limit)?))
    }

    /// The user's home timeline (tweets of the users they follow), newest first.
    pub fn home_timeline(
        &self,
        user_id: u64,
        before: Option<u64>,
        limit: usize,
    ) -> Result<Page, StoreError> {
        Ok(self.views(self.home_ids(user_id, before, limit)?))
    }

    /// [`Store::user_timeline`] as ids.
    pub(crate) fn user_ids(
        &self,
        user_id: u64,
        before: Option<u64>,
        limit: usize,
    ) -> Result<PageIds, StoreError> {
        let uid = internal_id(user_id).ok_or(StoreError::UnknownUser(user_id))?;
        let bound = before_bound(before);
        let ids: Vec<u32> = self
            .with_user(uid, |u| newest_below(&u.tweets, bound, limit + 1).collect())
            .ok_or(StoreError::UnknownUser(user_id))?;
        Ok(self.page(ids, limit, 0))
    }

    /// [`Store::home_timeline`] as ids.
    pub(crate) fn home_ids(
        &self,
        user_id: u64,
        before: Option<u64>,
        limit: usize,
    ) -> Result<PageIds, StoreError> {
        self.home_page(user_id, before, limit, None)
    }

    /// The home timeline page with the pushed entries taken from `pushed` (an ascending list
    /// kept outside the user, as the durable tier's timeline cache does) instead of the user's
    /// own pushed list.
    pub(crate) fn home_page(
        &self,
        user_id: u64,
        before: Option<u64>,
        limit: usize,
        pushed: Option<&[u32]>,
    ) -> Result<PageIds, StoreError> {
        let uid = internal_id(user_id).ok_or(StoreError::UnknownUser(user_id))?;
        let bound = before_bound(before);
        let take = limit + 1;
        let (mut ids, followees) = self
            .with_user(uid, |u| {
                let pushed: Vec<u32> = match self.strategy {
                    Strategy::Pull => Vec::new(),
                    _ => {
                        newest_below(pushed.unwrap_or(visible_home(&u.home)), bound, take).collect()
                    }
                };
                let pulled = match self.strategy {
                    Strategy::Push => Vec::new(),
                    _ => u.followees.clone(),
                };
                (pushed, pulled)
            })
            .ok_or(StoreError::UnknownUser(user_id))?;
        let authors = match self.strategy {
            Strategy::Push => Vec::new(),
            Strategy::Pull => followees,
            Strategy::Hybrid => self.celebrities_among(&followees),
        };
        if !authors.is_empty() {
            let pulled = self.pull_recent(&authors, bound, take);
            self.counters.tweets_pulled.inc_by(pulled.len() as u64);
            ids.extend(pulled);
            ids.sort_unstable_by(|a, b| b.cmp(a));
            ids.dedup();
            ids.truncate(take);
        }
        self.counters.timeline_reads.inc();
        self.counters.authors_merged.inc_by(authors.len() as u64);
        Ok(self.page(ids, limit, authors.len()))
    }

    /// A pushed home timeline rebuilt from the follow graph: the newest [`HOME_CAP`] tweets of
    /// the followees whose tweets are pushed (all for push; non-celebrities for hybrid),
    /// ascending. None if the user does not exist.
    pub(crate) fn rebuild_home(&self, uid: u32) -> Option<Vec<u32>> {
        let followees = self.with_user(uid, |u| u.followees.clone())?;
        let authors: Vec<u32> = match self.strategy {
            Strategy::Pull => return Some(Vec::new()),
            Strategy::Push => followees,
            Strategy::Hybrid => {
                let celebs = self.celebrities.read();
                followees
                    .into_iter()
                    .filter(|a| celebs.binary_search(a).is_err())
                    .collect()
            }
        };
        let mut ids = self.pull_recent(&authors, u32::MAX, HOME_CAP);
        ids.sort_unstable();
        ids.dedup();
        let excess = ids.len().saturating_sub(HOME_CAP);
        ids.drain(..excess);
        Some(ids)
    }

    /// The sticky celebrities among sorted `followees` (a sorted-list intersection).
    fn celebrities_among(&self, followees: &[u32]) -> Vec<u32> {
        let celebs = self.celebrities.read();
        let (small, large) = if celebs.len() < followees.len() {
            (&celebs[..], followees)
        } else {
            (followees, &celebs[..])
        };
        small
            .iter()
            .copied()
            .filter(|id| large.binary_search(id).is_ok())
            .collect()
    }

    /// Up to `take` newest ids below `bound` from each author, one read lock per shard.
    fn pull_recent(&self, authors: &[u32], bound: u32, take: usize) -> Vec<u32> {
        let n = self.shard_count();
        let shard_of = |a: u32| (a as usize - 1) % n;
        let mut sorted = authors.to_vec();
        sorted.sort_unstable_by_key(|&a| shard_of(a));
        let mut out = Vec::with_capacity(authors.len() * take.min(32));
        for group in sorted.chunk_by(|&a, &b| shard_of(a) == shard_of(b)) {
            let guard = self.users[shard_of(group[0])].0.read();
            for &a in group {
                if let Some(Some(user)) = guard.get((a as usize - 1) / n) {
                    out.extend(newest_below(&user.tweets, bound, take));
                }
            }
        }
        out
    }

    /// Turns up to limit+1 ids (newest first) into a page with its `next` cursor.
    fn page(&self, mut ids: Vec<u32>, limit: usize, authors_merged: usize) -> PageIds {
        let next = if ids.len() > limit {
            ids.truncate(limit);
            ids.last().map(|&id| u64::from(id))
        } else {
            None
        };
        PageIds {
            ids,
            next,
            authors_merged,
        }
    }

    /// Looks the tweets of a page up.
    fn views(&self, page: PageIds) -> Page {
        let snapshot = self.tweets.snapshot();
        let tweets = page
            .ids
            .into_iter()
            .filter_map(|id| Some(view(id, snapshot.get(id)?)))
            .collect();
        Page {
            tweets,
            next: page.next,
            authors_merged: page.authors_merged,
        }
    }
}
