//! Arrival schedules: when each request is *intended* to be sent, as offsets from the start of
//! the run. Latency is measured from these times (coordinated-omission correction, as wrk2
//! does), so a schedule must never depend on when responses arrive.
//!
//! A schedule is one global sequence: request k (k = 0, 1, 2, ...) of the whole run is
//! intended at offset t_k, and t_k never decreases with k. Who sends request k (which shard,
//! which connection) is decided elsewhere ([`crate::shard`]) and never changes t_k, so a run
//! cut into shards intends exactly the requests of the unsharded run.

use std::time::Duration;

/// The intended offsets of a run's requests, asked for in order.
pub trait Schedule: Send {
    /// The intended offset of request `k` of the run. Callers ask for non-decreasing `k`
    /// (sequential generators such as Poisson arrivals advance to it; asking for the same `k`
    /// again gives the same offset). The stop condition (duration, interrupt) is the
    /// engine's job, not the schedule's.
    fn offset(&mut self, k: u64) -> Duration;
}

/// Builds cursors over a run's global schedule.
pub trait ScheduleSpec: Send + Sync {
    /// A cursor over the whole run's schedule, from request 0. Every cursor of a spec gives
    /// the same offsets.
    fn schedule(&self) -> Box<dyn Schedule>;
    /// Total offered rate (requests/s) at offset `t`, for progress display and results.
    fn rate_at(&self, t: Duration) -> f64;
}

/// Constant rate, evenly spaced: request k at `k / rate`.
#[derive(Debug, Clone, Copy)]
pub struct Constant {
    pub rate: f64,
}

struct ConstantSchedule {
    rate: f64,
}

impl Schedule for ConstantSchedule {
    fn offset(&mut self, k: u64) -> Duration {
        Duration::from_secs_f64(k as f64 / self.rate)
    }
}

impl ScheduleSpec for Constant {
    fn schedule(&self) -> Box<dyn Schedule> {
        Box::new(ConstantSchedule { rate: self.rate })
    }

    fn rate_at(&self, _t: Duration) -> f64 {
        self.rate
    }
}

/// The first `count` offsets of `spec`'s schedule (for tests and tools).
pub fn offsets(spec: &dyn ScheduleSpec, count: u64) -> Vec<Duration> {
    let mut s = spec.schedule();
    (0..count).map(|k| s.offset(k)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_offsets_are_k_over_rate() {
        let spec = Constant { rate: 100.0 };
        for (k, t) in offsets(&spec, 250).iter().enumerate() {
            let expected = k as f64 / 100.0;
            assert!((t.as_secs_f64() - expected).abs() < 1e-9, "{k}: {t:?}");
        }
        // Asking again, or skipping ahead, gives the same offsets.
        let mut s = spec.schedule();
        assert_eq!(s.offset(7), s.offset(7));
        assert_eq!(s.offset(200), Duration::from_secs(2));
    }
}
