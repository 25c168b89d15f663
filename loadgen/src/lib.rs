//! The load generator: arrival schedules x request sources x a connection engine that measures
//! latency from each request's intended send time (coordinated-omission corrected).
//!
//! [`run`] takes a validated [`RunPlan`] (target, open or closed [`LoadShape`], window), a
//! [`SourceFactory`] (what to send) and an [`IntervalSink`] (per-second histograms, streamed),
//! and returns an [`Outcome`] with HdrHistograms per action. It does not know about run files
//! or reports; the `napkin` binary converts the outcome.

pub mod arrivals;
mod conn;
mod dispatch;
pub mod engine;
mod http2;
mod lane;
pub mod plan;
pub mod probe;
pub mod record;
pub mod schedule;
pub mod shard;
pub mod source;
pub mod target;
mod timer;
pub mod tls;
pub mod traffic;
pub mod transport;
mod worker;

pub use engine::{
    run, ActionOutcome, Interval, IntervalHistograms, IntervalSink, NoSink, Outcome, RunError,
    SignedDuration, StopHandle, TimelinePoint,
};
pub use hdrhistogram::Histogram;
pub use plan::{LoadShape, PlanError, RunPlan};
pub use probe::{probe, ProbeError, ProbeReport};
pub use record::{new_histogram, ActionTotals, Connections, ErrorCounts, ErrorKind};
pub use schedule::{Constant, Schedule, ScheduleSpec};
pub use shard::{Shard, ShardError};
pub use source::{ActionInfo, PreparedRequest, RequestId, RequestSource, SourceFactory, Verdict};
pub use target::{Target, TargetError};
pub use tls::{ClientTls, TlsFailure, TlsInfo, TlsOptions, TlsSetupError};
pub use transport::{Protocol, ResolveOverride, Transport};
