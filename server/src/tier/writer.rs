//! The single writer: one thread owns the store's write connection, takes writes from a
//! queue, assigns ids (so ids grow in commit order and a failed commit burns none), commits,
//! makes the committed writes visible in memory in commit order, and only then answers.
//!
//! `--fsync always` commits each write on its own. `--fsync batch` commits every write that
//! queued while the previous commit was being synced in one transaction (group commit, at
//! most [`MAX_BATCH`]): a write waits at most for the commit in progress, a few milliseconds,
//! and one fsync is shared by the whole group.

use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use rusqlite::Connection;
use tokio::sync::oneshot;

use super::db::{self, Write};
use super::stats::disk_bytes_written;
use super::Shared;
use crate::config::Fsync;
use crate::store::{ops::now_ms, StoreError};

/// Most writes in one commit.
pub(crate) const MAX_BATCH: usize = 4096;

/// A write as a request asks for it (ids not yet assigned).
#[derive(Debug)]
pub(crate) enum Request {
    User(String),
    Follow(u32, u32),
    Unfollow(u32, u32),
    Tweet(u32, String),
    Like(u32, u32),
}

/// What a committed write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Done {
    User(u32),
    /// A follow, unfollow or like: whether it changed the store.
    Changed(bool),
    Tweet {
        id: u32,
        created_ms: u64,
    },
}

type Reply = oneshot::Sender<Result<Done, StoreError>>;

struct Job {
    request: Request,
    reply: Reply,
}

/// Handle of the writer thread; dropping it finishes the queue and closes the store.
#[derive(Debug)]
pub(crate) struct Writer {
    queue: Option<mpsc::Sender<Job>>,
    thread: Option<JoinHandle<()>>,
}

impl Writer {
    pub(crate) fn start(conn: Connection, shared: Arc<Shared>, fsync: Fsync) -> Writer {
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("napkin-store-writer".into())
            .spawn(move || run(conn, &rx, &shared, fsync))
            .ok();
        Writer {
            queue: Some(tx),
            thread,
        }
    }

    /// Queues a write and waits until it is durable (or failed).
    pub(crate) async fn submit(&self, request: Request) -> Result<Done, StoreError> {
        let gone = || StoreError::Unavailable("reach the store writer (shutting down)".into());
        let (reply, answer) = oneshot::channel();
        let queue = self.queue.as_ref().ok_or_else(gone)?;
        queue.send(Job { request, reply }).map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        drop(self.queue.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Next ids to hand out; advanced only when a commit succeeds.
struct Ids {
    user: u64,
    tweet: u64,
}

fn run(mut conn: Connection, rx: &mpsc::Receiver<Job>, shared: &Shared, fsync: Fsync) {
    let store = &shared.store;
    let mut next = Ids {
        user: store.user_count() + 1,
        tweet: store.tweet_count() + 1,
    };
    let mut disk = disk_bytes_written();
    while let Ok(first) = rx.recv() {
        let mut jobs = vec![first];
        if fsync == Fsync::Batch {
            while jobs.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(job) => jobs.push(job),
                    Err(_) => break,
                }
            }
        }
        commit_group(&mut conn, jobs, &mut next, shared);
        if let (Some(before), Some(now)) = (disk, disk_bytes_written()) {
            shared.stats.disk_bytes.inc_by(now.saturating_sub(before));
            disk = Some(now);
        }
    }
}

/// Assigns ids, commits the group's writes in one transaction, applies and answers them.
fn commit_group(conn: &mut Connection, jobs: Vec<Job>, next: &mut Ids, shared: &Shared) {
    let (mut user, mut tweet) = (next.user, next.tweet);
    let mut writes = Vec::with_capacity(jobs.len());
    let mut accepted = Vec::with_capacity(jobs.len());
    for job in jobs {
        let id = |n: &mut u64| u32::try_from(*n).ok().inspect(|_| *n += 1);
        let write = match job.request {
            Request::User(name) => id(&mut user).map(|id| Write::User { id, name }),
            Request::Follow(follower, followee) => Some(Write::Follow { follower, followee }),
            Request::Unfollow(follower, followee) => Some(Write::Unfollow { follower, followee }),
            Request::Tweet(author, text) => id(&mut tweet).map(|id| Write::Tweet {
                id,
                author,
                created_ms: now_ms(),
                text,
            }),
            Request::Like(tweet, user) => Some(Write::Like { tweet, user }),
        };
        match write {
            Some(w) => {
                writes.push(w);
                accepted.push(job.reply);
            }
            None => {
                let _ = job.reply.send(Err(StoreError::Full));
            }
        }
    }
    if writes.is_empty() {
        return;
    }
    let started = Instant::now();
    let result = db::commit(conn, &writes);
    let stats = &shared.stats;
    stats
        .commit_seconds
        .observe(started.elapsed().as_secs_f64());
    stats.commit_writes.observe(writes.len() as f64);
    match result {
        Ok(changed) => {
            (next.user, next.tweet) = (user, tweet);
            for ((w, changed), reply) in writes.iter().zip(changed).zip(accepted) {
                stats.wrote(w.kind(), w.logical_bytes());
                let _ = reply.send(Ok(shared.apply(w, changed)));
            }
        }
        Err(e) => {
            stats.commit_failures.inc();
            tracing::warn!(error = %e, writes = writes.len(), "store commit failed; answering 503");
            for reply in accepted {
                let _ = reply.send(Err(StoreError::Unavailable(format!(
                    "commit the write ({e})"
                ))));
            }
        }
    }
}
