//! Writes and point reads of the store: users, follows, tweets, likes, and the push fan-out.

use std::sync::atomic::Ordering;
use std::time::{SystemTime, UNIX_EPOCH};

use super::{
    internal_id, put_slot, sorted_insert, sorted_remove, Store, StoreError, Text, Tweet, TweetView,
    User, HOME_CAP, HOME_SLACK,
};
use crate::config::Strategy;

/// Followers updated per shard lock acquisition during fan-out, to keep lock holds short.
const FANOUT_BATCH: usize = 256;

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl Store {
    /// Creates a user and returns its id.
    pub fn create_user(&self, name: &str) -> Result<u64, StoreError> {
        let id = self.last_user.fetch_add(1, Ordering::Relaxed) + 1;
        let Some(uid) = u32::try_from(id).ok() else {
            self.last_user.fetch_sub(1, Ordering::Relaxed);
            return Err(StoreError::Full);
        };
        let (shard, slot) = self.locate(uid);
        let user = User {
            name: name.into(),
            ..User::default()
        };
        put_slot(&mut self.users[shard].0.write(), slot, user);
        Ok(id)
    }

    /// The internal id of an existing user.
    pub(crate) fn existing_user(&self, id: u64) -> Result<u32, StoreError> {
        let uid = internal_id(id).ok_or(StoreError::UnknownUser(id))?;
        let (shard, slot) = self.locate(uid);
        match self.users[shard].0.read().get(slot) {
            Some(Some(_)) => Ok(uid),
            _ => Err(StoreError::UnknownUser(id)),
        }
    }

    /// Runs `f` on a user under its shard's write lock.
    pub(crate) fn with_user_mut<R>(&self, uid: u32, f: impl FnOnce(&mut User) -> R) -> Option<R> {
        let (shard, slot) = self.locate(uid);
        let mut guard = self.users[shard].0.write();
        guard.get_mut(slot).and_then(Option::as_mut).map(f)
    }

    /// Runs `f` on a user under its shard's read lock.
    pub(crate) fn with_user<R>(&self, uid: u32, f: impl FnOnce(&User) -> R) -> Option<R> {
        let (shard, slot) = self.locate(uid);
        let guard = self.users[shard].0.read();
        guard.get(slot).and_then(Option::as_ref).map(f)
    }

    /// The user's name, if the user exists.
    pub fn user_name(&self, id: u64) -> Option<String> {
        self.with_user(internal_id(id)?, |u| u.name.to_string())
    }

    /// The ids the user follows, ascending.
    pub fn followees(&self, id: u64) -> Option<Vec<u64>> {
        self.with_user(internal_id(id)?, |u| {
            u.followees.iter().map(|&v| u64::from(v)).collect()
        })
    }

    /// How many users follow the user.
    pub fn follower_count(&self, id: u64) -> Option<usize> {
        self.with_user(internal_id(id)?, |u| u.followers.len())
    }

    /// `follower` follows `target`. Idempotent. With push (and hybrid for non-celebrities) the
    /// target's recent tweets are backfilled into the follower's home timeline.
    pub fn follow(&self, follower: u64, target: u64) -> Result<(), StoreError> {
        let (f, t) = self.follow_pair(follower, target)?;
        if let Some(backfill) = self.link(f, t, true) {
            if !backfill.is_empty() {
                self.with_user_mut(f, |u| self.merge_into_home(&mut u.home, &backfill));
            }
        }
        Ok(())
    }

    /// The internal ids of a follow request: both users exist and differ.
    pub(crate) fn follow_pair(&self, follower: u64, target: u64) -> Result<(u32, u32), StoreError> {
        let (f, t) = (self.existing_user(follower)?, self.existing_user(target)?);
        if f == t {
            return Err(StoreError::SelfFollow);
        }
        Ok((f, t))
    }

    /// Adds the edge f -> t (both users exist). None if it was there already; otherwise the
    /// target's newest tweets to backfill into a pushed home timeline (empty unless
    /// `backfill` and the target's tweets are pushed).
    pub(crate) fn link(&self, f: u32, t: u32, backfill: bool) -> Option<Vec<u32>> {
        let added = self.with_user_mut(f, |u| sorted_insert(&mut u.followees, t));
        if added != Some(true) {
            return None;
        }
        self.follows.fetch_add(1, Ordering::Relaxed);
        // Follower edge and tweet snapshot under one lock: a concurrent post either lands in the
        // snapshot or sees the new follower in its fan-out (duplicates merge away).
        let (followers, recent) = self
            .with_user_mut(t, |u| {
                sorted_insert(&mut u.followers, f);
                let start = u.tweets.len().saturating_sub(HOME_CAP);
                let recent = if backfill {
                    u.tweets[start..].to_vec()
                } else {
                    Vec::new()
                };
                (u.followers.len(), recent)
            })
            .unwrap_or_default();
        let celebrity = self.note_celebrity(t, followers);
        Some(if self.pushes_for(celebrity) {
            recent
        } else {
            Vec::new()
        })
    }

    /// `follower` stops following `target`. Idempotent. The target's tweets leave the
    /// follower's pushed home timeline.
    pub fn unfollow(&self, follower: u64, target: u64) -> Result<(), StoreError> {
        let (f, t) = (self.existing_user(follower)?, self.existing_user(target)?);
        let keep_tweets = self.strategy != Strategy::Pull;
        let their_tweets = match self.unlink(f, t, keep_tweets) {
            Some(tweets) if !tweets.is_empty() => tweets,
            _ => return Ok(()),
        };
        let dropped = self
            .with_user_mut(f, |u| {
                let before = u.home.len();
                u.home.retain(|id| their_tweets.binary_search(id).is_err());
                before - u.home.len()
            })
            .unwrap_or(0);
        self.counters.entries_removed.inc_by(dropped as u64);
        Ok(())
    }

    /// Removes the edge f -> t. None if it was not there; otherwise the target's tweet ids
    /// (empty unless `their_tweets`), to take out of a pushed home timeline.
    pub(crate) fn unlink(&self, f: u32, t: u32, their_tweets: bool) -> Option<Vec<u32>> {
        let removed = self.with_user_mut(f, |u| sorted_remove(&mut u.followees, t));
        if removed != Some(true) {
            return None;
        }
        self.follows.fetch_sub(1, Ordering::Relaxed);
        let tweets = self.with_user_mut(t, |u| {
            sorted_remove(&mut u.followers, f);
            if their_tweets {
                u.tweets.clone()
            } else {
                Vec::new()
            }
        });
        Some(tweets.unwrap_or_default())
    }

    /// Makes a committed user visible (durable tier: ids are assigned by the writer).
    pub(crate) fn apply_user(&self, uid: u32, name: &str) {
        let (shard, slot) = self.locate(uid);
        let user = User {
            name: name.into(),
            ..User::default()
        };
        put_slot(&mut self.users[shard].0.write(), slot, user);
        self.last_user.fetch_max(u64::from(uid), Ordering::Relaxed);
    }

    /// Makes a committed tweet visible in its author's tweets (durable tier).
    pub(crate) fn apply_tweet(&self, tid: u32, author: u32) {
        self.with_user_mut(author, |u| sorted_insert(&mut u.tweets, tid));
        self.last_tweet.fetch_max(u64::from(tid), Ordering::Relaxed);
    }

    /// The followers a new tweet of `author` is pushed to (empty when it is pulled).
    pub(crate) fn push_targets(&self, author: u32) -> Vec<u32> {
        let celebrity = self.strategy == Strategy::Hybrid && self.is_celebrity(author);
        if !self.pushes_for(celebrity) {
            return Vec::new();
        }
        self.with_user(author, |u| u.followers.clone())
            .unwrap_or_default()
    }

    /// Whether tweets of an author are pushed: push always, hybrid below the threshold.
    pub(crate) fn pushes_for(&self, celebrity: bool) -> bool {
        match self.strategy {
            Strategy::Push => true,
            Strategy::Pull => false,
            Strategy::Hybrid => !celebrity,
        }
    }

    /// Records `author` as a celebrity once it reaches the threshold (hybrid; sticky).
    pub(crate) fn note_celebrity(&self, author: u32, followers: usize) -> bool {
        if self.strategy != Strategy::Hybrid {
            return false;
        }
        if self.is_celebrity(author) {
            return true;
        }
        if followers < self.threshold as usize {
            return false;
        }
        let mut celebs = self.celebrities.write();
        sorted_insert(&mut celebs, author);
        true
    }

    /// Whether `author` is (sticky) a celebrity.
    pub(crate) fn is_celebrity(&self, author: u32) -> bool {
        self.celebrities.read().binary_search(&author).is_ok()
    }

    /// Merges sorted tweet ids into a home timeline, keeping it sorted, unique and capped.
    fn merge_into_home(&self, home: &mut Vec<u32>, ids: &[u32]) {
        let before = home.len();
        home.extend_from_slice(ids);
        home.sort_unstable();
        home.dedup();
        let written = home.len() - before;
        self.counters.entries_written.inc_by(written as u64);
        self.trim_home(home);
    }

    /// [`Store::trim_home`], but only once the list is [`HOME_SLACK`] past the cap: trimming a
    /// full timeline on every fanned-out tweet moved its whole 800 ids each time (a celebrity's
    /// post, fanned out to most users, then held the shard locks for tens of milliseconds).
    /// Reads see the newest [`HOME_CAP`] ids only ([`visible_home`]), so nothing changes for
    /// them.
    pub(crate) fn trim_home_lazily(&self, home: &mut Vec<u32>) {
        if home.len() > HOME_CAP + HOME_SLACK {
            self.trim_home(home);
        }
    }

    pub(crate) fn trim_home(&self, home: &mut Vec<u32>) {
        if home.len() > HOME_CAP {
            let excess = home.len() - HOME_CAP;
            home.drain(..excess);
            self.counters.entries_removed.inc_by(excess as u64);
        }
    }

    /// Posts a tweet; pushes it to followers' home timelines when the strategy says so.
    pub fn post_tweet(&self, user_id: u64, text: &str) -> Result<TweetView, StoreError> {
        let author = self.existing_user(user_id)?;
        let id = self.last_tweet.fetch_add(1, Ordering::Relaxed) + 1;
        let Some(tid) = u32::try_from(id).ok() else {
            self.last_tweet.fetch_sub(1, Ordering::Relaxed);
            return Err(StoreError::Full);
        };
        let text = Text::Shared(text.into());
        let created_ms = now_ms();
        self.tweets
            .insert(tid, Tweet::new(author, created_ms, text.clone()));
        let celebrity = self.strategy == Strategy::Hybrid && self.is_celebrity(author);
        let push = self.pushes_for(celebrity);
        let followers = self
            .with_user_mut(author, |u| {
                sorted_insert(&mut u.tweets, tid);
                if push {
                    u.followers.clone()
                } else {
                    Vec::new()
                }
            })
            .unwrap_or_default();
        self.fan_out(tid, &followers);
        Ok(TweetView {
            id,
            user_id,
            text,
            created_ms,
            likes: 0,
        })
    }

    /// Writes tweet `tid` into the home timeline of each follower, a batch per shard lock.
    fn fan_out(&self, tid: u32, followers: &[u32]) {
        if followers.is_empty() {
            return;
        }
        let n = self.shard_count();
        let mut by_shard: Vec<Vec<u32>> = vec![Vec::new(); n];
        for &f in followers {
            by_shard[(f as usize - 1) % n].push(f);
        }
        let mut written = 0u64;
        for (shard, members) in by_shard.iter().enumerate() {
            for batch in members.chunks(FANOUT_BATCH) {
                let mut guard = self.users[shard].0.write();
                for &f in batch {
                    let slot = (f as usize - 1) / n;
                    if let Some(Some(user)) = guard.get_mut(slot) {
                        if sorted_insert(&mut user.home, tid) {
                            written += 1;
                            self.trim_home_lazily(&mut user.home);
                        }
                    }
                }
            }
        }
        self.counters.entries_written.inc_by(written);
    }

    /// `user_id` likes tweet `tweet_id`. Idempotent.
    pub fn like(&self, tweet_id: u64, user_id: u64) -> Result<(), StoreError> {
        let unknown = StoreError::UnknownTweet(tweet_id);
        let tid = internal_id(tweet_id).ok_or(unknown.clone())?;
        let uid = self.existing_user(user_id)?;
        if self.tweets.like(tid, uid) {
            Ok(())
        } else {
            Err(unknown)
        }
    }

    /// One tweet by id.
    pub fn get_tweet(&self, tweet_id: u64) -> Result<TweetView, StoreError> {
        let snapshot = self.tweets.snapshot();
        internal_id(tweet_id)
            .and_then(|tid| Some(view(tid, snapshot.get(tid)?)))
            .ok_or(StoreError::UnknownTweet(tweet_id))
    }
}

/// The API view of a stored tweet.
pub(crate) fn view(tid: u32, t: &Tweet) -> TweetView {
    TweetView {
        id: u64::from(tid),
        user_id: u64::from(t.user_id),
        text: t.text.clone(),
        created_ms: t.created_ms,
        likes: u64::from(t.likes.load(Ordering::Relaxed)),
    }
}
