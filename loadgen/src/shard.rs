//! Shards: one run cut into N pieces, run by N processes (machines), that together are exactly
//! the unsharded run (SPEC section 10). Nothing is coordinated at run time; every shard derives
//! its part from the same flags:
//!
//! - **Open model.** Request k of the global schedule ([`crate::schedule`]) belongs to shard
//!   k mod N. Shard I's q-th request (q = k div N) goes to its lane (connection) q mod C_I,
//!   where C_I is the shard's share of the connections; a lane sends its requests in order.
//!   The offsets t_k and the requests' random draws ([`crate::source::RequestId`]) depend on
//!   k alone, so the N shards intend the very requests of the unsharded run.
//! - **Closed model.** User u of the run's U users belongs to shard u mod N.
//! - Connections and users are divided with remainders to the lowest indices: shard I gets
//!   floor(C / N), plus one when I < C mod N.
//!
//! The unsharded run is shard 0 of 1 ([`Shard::WHOLE`]); there is no other code path.

use std::str::FromStr;
use std::time::Duration;

use crate::schedule::{Schedule, ScheduleSpec};

/// Shard `index` of `count` (0 <= index < count).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Shard {
    index: u32,
    count: u32,
}

/// Why a shard cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShardError {
    #[error(
        "the shard count must be at least 1, got 0; e.g. --shard 0/4 runs the first of 4 shards"
    )]
    ZeroCount,
    #[error("shard index {index} is not below the shard count {count}: indices run from 0 to {last}; e.g. --shard {last}/{count} runs the last shard", last = count - 1)]
    IndexTooLarge { index: u32, count: u32 },
    #[error("--shard takes I/N, shard I of N with 0 <= I < N (e.g. 0/4), got {0:?}")]
    Malformed(String),
    #[error("{total} {what} cannot be divided over {count} shards, each needs at least one; raise {what} to {count} or more, or run fewer shards")]
    TooFewLanes {
        what: &'static str,
        total: usize,
        count: u32,
    },
}

impl Shard {
    /// The whole run, unsharded.
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    pub fn new(index: u32, count: u32) -> Result<Shard, ShardError> {
        if count == 0 {
            return Err(ShardError::ZeroCount);
        }
        if index >= count {
            return Err(ShardError::IndexTooLarge { index, count });
        }
        Ok(Shard { index, count })
    }

    pub fn index(&self) -> u32 {
        self.index
    }

    pub fn count(&self) -> u32 {
        self.count
    }

    /// Whether this is the whole run (1 shard).
    pub fn is_whole(&self) -> bool {
        self.count == 1
    }

    /// This shard's part of `total` connections or users: floor(total / N), plus one for the
    /// lowest `total mod N` indices.
    pub fn share(&self, total: usize) -> usize {
        let n = self.count as usize;
        let i = self.index as usize;
        total / n + usize::from(i < total % n)
    }

    /// [`Shard::share`], failing when some shard would get none (`what`: "connections" or
    /// "users", for the message).
    pub fn checked_share(&self, total: usize, what: &'static str) -> Result<usize, ShardError> {
        if total < self.count as usize {
            return Err(ShardError::TooFewLanes {
                what,
                total,
                count: self.count,
            });
        }
        Ok(self.share(total))
    }

    /// Whether request `k` of the global schedule is this shard's.
    pub fn owns(&self, k: u64) -> bool {
        k % u64::from(self.count) == u64::from(self.index)
    }

    /// The run-wide number of this shard's lane `local` (closed model: its user).
    pub fn global_lane(&self, local: usize) -> u64 {
        u64::from(self.index) + u64::from(self.count) * local as u64
    }
}

impl FromStr for Shard {
    type Err = ShardError;

    /// `I/N`, e.g. `0/4`.
    fn from_str(text: &str) -> Result<Shard, ShardError> {
        let malformed = || ShardError::Malformed(text.to_string());
        let (i, n) = text.trim().split_once('/').ok_or_else(malformed)?;
        let number = |s: &str| {
            let s = s.trim();
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(malformed());
            }
            s.parse::<u32>().map_err(|_| malformed())
        };
        Shard::new(number(i)?, number(n)?)
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// One of a shard's open-model requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// Index in the global schedule (the request's number in the run).
    pub k: u64,
    /// Intended offset from the start of the run.
    pub offset: Duration,
    /// The shard's lane (connection) that sends it.
    pub lane: usize,
    /// Its place among that lane's requests (0 = the lane's first).
    pub ordinal: u64,
}

/// A shard's requests in the order of the global schedule, each with its lane: an endless
/// iterator (the engine stops at the end of the run).
pub struct ShardSchedule {
    schedule: Box<dyn Schedule>,
    shard: Shard,
    lanes: usize,
    /// The shard's next request is its q-th.
    q: u64,
}

impl ShardSchedule {
    /// Shard `shard`'s part of `spec`, over its `lanes` lanes (its share of the connections,
    /// at least 1).
    pub fn new(spec: &dyn ScheduleSpec, shard: Shard, lanes: usize) -> ShardSchedule {
        ShardSchedule {
            schedule: spec.schedule(),
            shard,
            lanes: lanes.max(1),
            q: 0,
        }
    }
}

impl Iterator for ShardSchedule {
    type Item = Entry;

    fn next(&mut self) -> Option<Entry> {
        let q = self.q;
        self.q += 1;
        let k = u64::from(self.shard.index) + u64::from(self.shard.count) * q;
        let lanes = self.lanes as u64;
        Some(Entry {
            k,
            offset: self.schedule.offset(k),
            lane: (q % lanes) as usize,
            ordinal: q / lanes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::Constant;

    #[test]
    fn shares_add_up_with_remainders_to_the_lowest_indices() {
        for total in [1usize, 4, 7, 64, 65, 1000] {
            for n in 1..=8u32 {
                let shares: Vec<usize> = (0..n)
                    .map(|i| Shard::new(i, n).unwrap().share(total))
                    .collect();
                assert_eq!(shares.iter().sum::<usize>(), total, "{total} over {n}");
                assert!(shares.windows(2).all(|w| w[0] >= w[1] && w[0] - w[1] <= 1));
            }
        }
        assert_eq!(Shard::new(0, 3).unwrap().share(7), 3);
        assert_eq!(Shard::new(1, 3).unwrap().share(7), 2);
        assert!(Shard::new(2, 3).unwrap().checked_share(2, "users").is_err());
    }

    #[test]
    fn parsing_accepts_i_of_n_and_names_the_fix_otherwise() {
        assert_eq!("2/4".parse::<Shard>().unwrap(), Shard::new(2, 4).unwrap());
        assert_eq!(" 0 / 1 ".parse::<Shard>().unwrap(), Shard::WHOLE);
        assert_eq!(
            "4/4".parse::<Shard>().unwrap_err(),
            ShardError::IndexTooLarge { index: 4, count: 4 }
        );
        assert_eq!("0/0".parse::<Shard>().unwrap_err(), ShardError::ZeroCount);
        for bad in [
            "",
            "1",
            "1/",
            "/4",
            "a/4",
            "-1/4",
            "1/4/2",
            "1.0/4",
            "99999999999/4",
        ] {
            let err = bad.parse::<Shard>().unwrap_err();
            assert_eq!(err, ShardError::Malformed(bad.to_string()), "{bad}");
            assert!(err.to_string().contains("e.g. 0/4"));
        }
    }

    #[test]
    fn the_shards_entries_are_the_global_schedule_striped() {
        let spec = Constant { rate: 10.0 };
        let mut all: Vec<(u64, usize, usize)> = Vec::new();
        for i in 0..3 {
            let shard = Shard::new(i, 3).unwrap();
            let lanes = shard.share(5);
            for e in ShardSchedule::new(&spec, shard, lanes).take(20) {
                assert!(shard.owns(e.k));
                assert_eq!(e.offset, Duration::from_secs_f64(e.k as f64 / 10.0));
                assert_eq!(e.ordinal * lanes as u64 + e.lane as u64, e.k / 3);
                all.push((e.k, i as usize, e.lane));
            }
        }
        all.sort();
        let ks: Vec<u64> = all.iter().map(|e| e.0).collect();
        assert_eq!(ks, (0..60).collect::<Vec<u64>>());
    }
}
