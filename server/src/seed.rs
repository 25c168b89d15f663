//! Bulk seeding of a synthetic social graph: users 1..=N (the load generator's `user` key
//! space), F distinct followees each drawn by Zipf popularity (id 1 is the biggest celebrity),
//! and T tweets each. Everything is built in plain vectors, in parallel blocks with their own
//! deterministic RNG, then moved into the store's shards once: no per-insert locking.
//!
//! Seeded tweet ids interleave authors (`id = k*N + author`, k = 0..T), so tweet order is
//! round-robin in time and each pushed home timeline is generated already sorted.

use std::fmt;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::Zipf;

use crate::config::{Config, Strategy};
use crate::store::{
    ops::now_ms, FanoutCounters, Store, Text, Tweet, TweetTable, User, HOME_CAP, HOME_ROOM, TEXTS,
};
use crate::ServerError;

/// Users per parallel block; each block has its own RNG so the graph is the same whatever the
/// number of threads.
const BLOCK: usize = 4096;

/// What seeding built, for the startup log and for callers that measure it.
#[derive(Debug, Clone, PartialEq)]
pub struct SeedReport {
    pub users: u64,
    pub follows: u64,
    pub tweets: u64,
    /// Tweet ids written into pushed home timelines.
    pub home_entries: u64,
    /// Authors treated as celebrities (hybrid).
    pub celebrities: usize,
    /// The most followed users: (id, followers), most followed first.
    pub top: Vec<(u64, u32)>,
    /// Follower-count percentiles: (percentile, followers).
    pub percentiles: Vec<(f64, u32)>,
    pub elapsed: Duration,
}

impl fmt::Display for SeedReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "seeded {} users, {} follows, {} tweets, {} home entries, {} celebrities in {:.2?}",
            self.users,
            self.follows,
            self.tweets,
            self.home_entries,
            self.celebrities,
            self.elapsed
        )?;
        let top: Vec<String> = self.top.iter().map(|(id, n)| format!("{id}:{n}")).collect();
        let pct: Vec<String> = self
            .percentiles
            .iter()
            .map(|(p, n)| format!("p{p}={n}"))
            .collect();
        write!(
            f,
            "; followers per user: {}; most followed (id:followers): {}",
            pct.join(" "),
            top.join(" ")
        )
    }
}

/// Builds the seeded store described by `config`.
pub fn build(
    config: &Config,
    counters: FanoutCounters,
) -> Result<(Store, SeedReport), ServerError> {
    config.validate()?;
    let started = Instant::now();
    let n = config.seed_users as usize;
    let f = config.effective_seed_follows() as usize;
    let t = config.seed_tweets as usize;
    let followees = gen_followees(n, f, config.seed, config.seed_zipf_exponent)?;
    let followers = invert(n, &followees);
    let celebrities: Vec<u32> = match config.timeline {
        Strategy::Hybrid => (1..=n as u32)
            .filter(|&id| followers[id as usize - 1].len() >= config.celebrity_threshold as usize)
            .collect(),
        _ => Vec::new(),
    };
    let homes = match config.timeline {
        Strategy::Pull => vec![Vec::new(); n],
        _ => gen_homes(n, t, &followees, &celebrities),
    };
    let home_entries = homes.iter().map(|h| h.len() as u64).sum();
    let report_base = distribution(&followers);
    let shards = config.shards;
    let users = shard_users(n, t, shards, followees, followers, homes);
    let tweets = gen_tweets(n, t, shards);
    let report = SeedReport {
        users: n as u64,
        follows: (n * f) as u64,
        tweets: (n * t) as u64,
        home_entries,
        celebrities: celebrities.len(),
        top: report_base.0,
        percentiles: report_base.1,
        elapsed: started.elapsed(),
    };
    let store = Store::from_parts(
        config.timeline,
        config.celebrity_threshold,
        users,
        tweets,
        (n * t) as u64,
        celebrities,
        counters,
    );
    Ok((store, report))
}

/// Runs `work(block_index, block)` over blocks of `out` on all cores.
fn par_blocks<T: Send>(out: &mut [T], work: impl Fn(usize, &mut [T]) + Sync) {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut lanes: Vec<Vec<(usize, &mut [T])>> = (0..threads).map(|_| Vec::new()).collect();
    for (i, block) in out.chunks_mut(BLOCK).enumerate() {
        lanes[i % threads].push((i, block));
    }
    std::thread::scope(|scope| {
        for lane in lanes {
            let work = &work;
            scope.spawn(move || {
                for (i, block) in lane {
                    work(i, block);
                }
            });
        }
    });
}

/// F distinct followees per user (never themselves), sorted, by Zipf popularity.
fn gen_followees(
    n: usize,
    f: usize,
    seed: u64,
    exponent: f64,
) -> Result<Vec<Vec<u32>>, ServerError> {
    let mut out: Vec<Vec<u32>> = vec![Vec::new(); n];
    if f == 0 {
        return Ok(out);
    }
    let zipf = Zipf::new(n as f64, exponent)
        .map_err(|e| ServerError::Config(format!("seed zipf distribution: {e}")))?;
    par_blocks(&mut out, |block, users| {
        let mut rng =
            StdRng::seed_from_u64(seed ^ (block as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let mut marks = vec![0u32; n + 1];
        for (i, list) in users.iter_mut().enumerate() {
            let me = (block * BLOCK + i + 1) as u32;
            marks[me as usize] = me;
            list.reserve_exact(f);
            let mut attempts = 0usize;
            while list.len() < f && attempts < 20 * f + 1000 {
                attempts += 1;
                let v = (rng.sample(zipf) as u32).clamp(1, n as u32);
                if marks[v as usize] != me {
                    marks[v as usize] = me;
                    list.push(v);
                }
            }
            // Dense graphs (F close to N) would take long by rejection: take the rest in order.
            let mut v = 1u32;
            while list.len() < f {
                if marks[v as usize] != me {
                    marks[v as usize] = me;
                    list.push(v);
                }
                v += 1;
            }
            list.sort_unstable();
        }
    });
    Ok(out)
}

/// Follower lists (sorted) from followee lists.
fn invert(n: usize, followees: &[Vec<u32>]) -> Vec<Vec<u32>> {
    let mut indegree = vec![0usize; n];
    for list in followees {
        for &v in list {
            indegree[v as usize - 1] += 1;
        }
    }
    let mut followers: Vec<Vec<u32>> = indegree.iter().map(|&c| Vec::with_capacity(c)).collect();
    for (u, list) in followees.iter().enumerate() {
        for &v in list {
            followers[v as usize - 1].push(u as u32 + 1);
        }
    }
    followers
}

/// Pushed home timelines: the newest HOME_CAP seeded tweets of each user's pushed followees.
fn gen_homes(n: usize, t: usize, followees: &[Vec<u32>], celebrities: &[u32]) -> Vec<Vec<u32>> {
    let mut homes: Vec<Vec<u32>> = vec![Vec::new(); n];
    par_blocks(&mut homes, |block, out| {
        let mut pushed: Vec<u32> = Vec::new();
        for (i, home) in out.iter_mut().enumerate() {
            pushed.clear();
            let list = &followees[block * BLOCK + i];
            pushed.extend(
                list.iter()
                    .filter(|v| celebrities.binary_search(v).is_err()),
            );
            let p = pushed.len();
            let total = p * t;
            if total == 0 {
                continue;
            }
            let skip = total.saturating_sub(HOME_CAP);
            home.reserve_exact(HOME_ROOM.max(total - skip));
            let mut index = skip / p * p;
            for k in skip / p..t {
                for &v in &pushed {
                    if index >= skip {
                        home.push((k * n) as u32 + v);
                    }
                    index += 1;
                }
            }
        }
    });
    homes
}

/// Moves per-user vectors into shards: user id u lives in shard (u-1) % S, slot (u-1) / S.
fn shard_users(
    n: usize,
    t: usize,
    shards: usize,
    followees: Vec<Vec<u32>>,
    followers: Vec<Vec<u32>>,
    homes: Vec<Vec<u32>>,
) -> Vec<Vec<Option<User>>> {
    let mut out: Vec<Vec<Option<User>>> = (0..shards)
        .map(|_| Vec::with_capacity(n / shards + 1))
        .collect();
    let edges = followees.into_iter().zip(followers).zip(homes);
    for (i, ((followees, followers), home)) in edges.enumerate() {
        let id = i as u32 + 1;
        let tweets = (0..t).map(|k| (k * n) as u32 + id).collect();
        out[i % shards].push(Some(User {
            name: format!("user{id}").into(),
            followees,
            followers,
            tweets,
            home,
        }));
    }
    out
}

/// Seeded tweets: tweet id i is by author ((i-1) % N) + 1, posted 1 ms after tweet i-1, the
/// newest just now.
fn gen_tweets(n: usize, t: usize, shards: usize) -> TweetTable {
    let total = n * t;
    let newest_ms = now_ms();
    let tweets = (0..total).map(|i| {
        let created = newest_ms.saturating_sub((total - 1 - i) as u64);
        Tweet::new(
            (i % n) as u32 + 1,
            created,
            Text::Seeded((i % TEXTS.len()) as u8),
        )
    });
    TweetTable::seeded(tweets, shards)
}

pub(crate) type Distribution = (Vec<(u64, u32)>, Vec<(f64, u32)>);

/// The most followed users and follower-count percentiles.
pub(crate) fn distribution(followers: &[Vec<u32>]) -> Distribution {
    let mut counts: Vec<(u32, u64)> = followers
        .iter()
        .enumerate()
        .map(|(i, l)| (l.len() as u32, i as u64 + 1))
        .collect();
    counts.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let top = counts.iter().take(5).map(|&(c, id)| (id, c)).collect();
    let pct = [50.0, 90.0, 99.0, 99.9, 100.0]
        .iter()
        .filter(|_| !counts.is_empty())
        .map(|&p| {
            let rank = ((100.0 - p) / 100.0 * counts.len() as f64) as usize;
            (p, counts[rank.min(counts.len() - 1)].0)
        })
        .collect();
    (top, pct)
}
