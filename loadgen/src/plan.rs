//! What a run is asked to do, already validated and in base units: the target, the load shape
//! (open: a schedule over connections; closed: users looping), the transport (TLS, HTTP/2,
//! keep-alive, `--resolve`), the time window and limits.

use std::sync::Arc;
use std::time::Duration;

use crate::schedule::ScheduleSpec;
use crate::target::Target;
use crate::transport::{Protocol, Transport};

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
    /// Number of connections (open model) or users (closed model).
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

    /// Lanes of the run, each with one request in flight at a time: the open model's
    /// connections x HTTP/2 streams per connection, or the closed model's users.
    pub fn lane_count(&self) -> usize {
        match self.shape {
            LoadShape::Open { connections, .. } => connections * self.transport.protocol.streams(),
            LoadShape::Closed { users, .. } => users,
        }
    }

    /// Connections the lanes share: lane `i` is on connection `i / streams` (HTTP/2); with
    /// HTTP/1.1 every lane has its own.
    pub fn connection_count(&self) -> usize {
        self.lane_count()
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
