//! What a run is asked to do, already validated and in base units: the target, the load shape
//! (open: a schedule over connections; closed: users looping), the transport (TLS, HTTP/2,
//! keep-alive, `--resolve`), the time window and limits, and which shard of the run this
//! process carries out, from when.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::schedule::ScheduleSpec;
use crate::shard::{Shard, ShardError};
use crate::target::Target;
use crate::transport::{Protocol, Transport};

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
    /// Number of connections (open model) or users (closed model) of the whole run.
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
    /// TLS, HTTP version, keep-alive and address overrides ([`Transport::plain`]: HTTP/1.1
    /// over plain TCP, kept alive).
    pub transport: Transport,
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
    #[error("target {url} is https:// but the plan has no TLS settings")]
    NoTls { url: String },
    #[error("target {url} is http:// but the plan has TLS settings; use an https:// URL")]
    TlsOverPlain { url: String },
    #[error("HTTP/2 streams must be at least 1")]
    ZeroStreams,
    #[error(
        "without keep-alive every request opens its own connection, so streams cannot share \
         one: use 1 stream per connection"
    )]
    StreamsWithoutKeepalive,
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
        let url = || self.target.url.clone();
        match (self.target.https, self.transport.tls.is_some()) {
            (true, false) => return Err(PlanError::NoTls { url: url() }),
            (false, true) => return Err(PlanError::TlsOverPlain { url: url() }),
            _ => {}
        }
        if let Protocol::Http2 { streams } = self.transport.protocol {
            if streams == 0 {
                return Err(PlanError::ZeroStreams);
            }
            if streams > 1 && !self.transport.keepalive {
                return Err(PlanError::StreamsWithoutKeepalive);
            }
        }
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

    /// HTTP/2 streams per connection in the open model (each a lane); 1 otherwise. In the
    /// closed model every user is a lane, and users share connections `streams` at a time.
    fn lanes_per_connection(&self) -> usize {
        match self.shape {
            LoadShape::Open { .. } => self.transport.protocol.streams(),
            LoadShape::Closed { .. } => 1,
        }
    }

    /// Lanes of the whole run, each with one request in flight at a time: the open model's
    /// connections x HTTP/2 streams per connection, or the closed model's users.
    pub fn lane_count(&self) -> usize {
        self.shape.lanes() * self.lanes_per_connection()
    }

    /// This shard's lanes: its share of the run's connections (times the streams of each)
    /// or users.
    pub fn shard_lanes(&self) -> usize {
        self.shard.share(self.shape.lanes()) * self.lanes_per_connection()
    }

    /// Connections this shard's lanes share: lane `i` is on connection `i / streams`
    /// (HTTP/2); with HTTP/1.1 every lane has its own.
    pub fn connection_count(&self) -> usize {
        self.shard_lanes()
            .div_ceil(self.transport.protocol.streams())
    }

    /// The addresses to connect to: a matching `--resolve` entry's, else the host's (DNS).
    pub fn addresses(&self) -> Result<Vec<std::net::SocketAddr>, crate::TargetError> {
        let t = &self.target;
        match self
            .transport
            .resolve
            .iter()
            .find(|r| r.matches(&t.host, t.port))
        {
            Some(r) => Ok(r
                .addrs
                .iter()
                .map(|&ip| std::net::SocketAddr::new(ip, t.port))
                .collect()),
            None => t.resolve(),
        }
    }

    /// Worker threads actually used.
    pub fn worker_count(&self) -> usize {
        let threads = if self.threads == 0 {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            self.threads
        };
        threads.clamp(1, self.connection_count().max(1))
    }
}
