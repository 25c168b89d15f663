//! What a run is asked to do, already validated and in base units: the target, the load shape
//! (open: a schedule over connections; closed: users looping), the time window and limits, and
//! which shard of the run this process carries out, from when.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::schedule::ScheduleSpec;
use crate::shard::{Shard, ShardError};
use crate::target::Target;

/// The offered load.
#[derive(Clone)]
pub enum LoadShape {
    /// Open model: every request has an intended send time from `schedule`; the lanes (one
    /// keep-alive connection each) together offer the whole profile. `connections` is the
    /// run's, over all shards.
    Open {
        schedule: Arc<dyn ScheduleSpec>,
        connections: usize,
    },
    /// Closed model: `users` lanes (over all shards) each looping request -> response ->
    /// think time.
    Closed { users: usize, think: Duration },
}

impl std::fmt::Debug for LoadShape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadShape::Open {
                schedule,
                connections,
            } => f
                .debug_struct("Open")
                .field("rate_at_0", &schedule.rate_at(Duration::ZERO))
                .field("connections", connections)
                .finish(),
            LoadShape::Closed { users, think } => f
                .debug_struct("Closed")
                .field("users", users)
                .field("think", think)
                .finish(),
        }
    }
}

impl LoadShape {
    /// Number of lanes (connections or users) of the whole run.
    pub fn lanes(&self) -> usize {
        match self {
            LoadShape::Open { connections, .. } => *connections,
            LoadShape::Closed { users, .. } => *users,
        }
    }
}

/// A validated run plan.
#[derive(Debug, Clone)]
pub struct RunPlan {
    pub target: Target,
    pub shape: LoadShape,
    /// Length of the measured window, after the warm-up.
    pub measured: Duration,
    /// Sent but not recorded; schedules start at offset 0 = start of the warm-up.
    pub warmup: Duration,
    /// Per request, connect included.
    pub timeout: Duration,
    /// Worker OS threads; 0 means one per core. Never more than the number of lanes.
    pub threads: usize,
    /// Seed of the run: arrivals and every request's draws.
    pub seed: u64,
    /// The part of the run this process carries out ([`Shard::WHOLE`] when unsharded).
    pub shard: Shard,
    /// Wall-clock instant of schedule offset 0 (the start of the warm-up), or `None` to start
    /// as soon as the workers are up. It may have passed by at most the warm-up: warm-up
    /// requests already due are then skipped.
    pub start_at: Option<SystemTime>,
}

/// A plan that cannot run.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PlanError {
    #[error("{what} must be at least 1")]
    ZeroLanes { what: &'static str },
    #[error(
        "the measured window must be longer than 0: make the duration longer than the warm-up"
    )]
    ZeroDuration,
    #[error("timeout must be longer than 0")]
    ZeroTimeout,
    #[error(transparent)]
    Shard(#[from] ShardError),
    #[error("the start time passed {late:.1?} ago, more than the warm-up ({warmup:?}): a shard that starts this late would miss measured requests; pick a start time in the future, e.g. --start-at $(date -u -d '+30 sec' +%Y-%m-%dT%H:%M:%SZ)")]
    StartPassed { late: Duration, warmup: Duration },
}

impl RunPlan {
    /// Checks the limits the engine relies on.
    pub fn validate(&self) -> Result<(), PlanError> {
        if self.shape.lanes() == 0 {
            let what = match self.shape {
                LoadShape::Open { .. } => "connections",
                LoadShape::Closed { .. } => "concurrency",
            };
            return Err(PlanError::ZeroLanes { what });
        }
        if self.measured.is_zero() {
            return Err(PlanError::ZeroDuration);
        }
        if self.timeout.is_zero() {
            return Err(PlanError::ZeroTimeout);
        }
        let what = match self.shape {
            LoadShape::Open { .. } => "connections",
            LoadShape::Closed { .. } => "users",
        };
        self.shard.checked_share(self.shape.lanes(), what)?;
        self.start_lateness(SystemTime::now())?;
        Ok(())
    }

    /// How long ago `start_at` passed at `now` (zero when it is ahead or not set); an error
    /// when that is more than the warm-up.
    pub fn start_lateness(&self, now: SystemTime) -> Result<Duration, PlanError> {
        let late = match self.start_at {
            Some(at) => now.duration_since(at).unwrap_or(Duration::ZERO),
            None => Duration::ZERO,
        };
        if late > self.warmup {
            return Err(PlanError::StartPassed {
                late,
                warmup: self.warmup,
            });
        }
        Ok(late)
    }

    /// This shard's lanes: its share of the run's connections or users.
    pub fn shard_lanes(&self) -> usize {
        self.shard.share(self.shape.lanes())
    }

    /// Worker threads actually used.
    pub fn worker_count(&self) -> usize {
        let threads = if self.threads == 0 {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            self.threads
        };
        threads.clamp(1, self.shard_lanes().max(1))
    }
}
