//! What a run is asked to do, already validated and in base units: the target, the load shape
//! (open: a schedule over connections; closed: users looping), the time window and limits.

use std::sync::Arc;
use std::time::Duration;

use crate::schedule::ScheduleSpec;
use crate::target::Target;

/// The offered load.
#[derive(Clone)]
pub enum LoadShape {
    /// Open model: every request has an intended send time from `schedule`; the lanes (one
    /// keep-alive connection each) together offer the whole profile.
    Open {
        schedule: Arc<dyn ScheduleSpec>,
        connections: usize,
    },
    /// Closed model: `users` lanes each looping request -> response -> think time.
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
    /// Number of lanes (connections or users).
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
    /// Seed handed to every lane's request source.
    pub seed: u64,
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
        Ok(())
    }

    /// Worker threads actually used.
    pub fn worker_count(&self) -> usize {
        let threads = if self.threads == 0 {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            self.threads
        };
        threads.clamp(1, self.shape.lanes().max(1))
    }
}
