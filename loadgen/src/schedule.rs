//! Arrival schedules: when each request is *intended* to be sent, as offsets from the start of
//! the run. Latency is measured from these times (coordinated-omission correction, as wrk2
//! does), so a schedule must never depend on when responses arrive.
//!
//! A run splits its offered load over `n` independent lanes (one per connection in the open
//! model); [`ScheduleSpec::lane`] builds lane `i`'s share so that the lanes together offer the
//! whole profile.

use std::time::Duration;

/// An unbounded sequence of intended send offsets, non-decreasing. The stop condition
/// (duration, interrupt) is the engine's job, not the schedule's.
pub trait Schedule: Send {
    /// The intended offset of the next request.
    fn next_offset(&mut self) -> Duration;
}

/// Builds the per-lane schedules of a run.
pub trait ScheduleSpec: Send + Sync {
    /// Lane `index` of `lanes`: offers 1/lanes of the total profile.
    fn lane(&self, index: usize, lanes: usize) -> Box<dyn Schedule>;
    /// Total offered rate (requests/s) at offset `t`, for progress display and results.
    fn rate_at(&self, t: Duration) -> f64;
}

/// Constant rate, evenly spaced: lane `i` of `n` sends at `(i + k*n) / rate`.
#[derive(Debug, Clone, Copy)]
pub struct Constant {
    pub rate: f64,
}

struct ConstantLane {
    interval_s: f64,
    next_s: f64,
}

impl Schedule for ConstantLane {
    fn next_offset(&mut self) -> Duration {
        let t = self.next_s;
        self.next_s += self.interval_s;
        Duration::from_secs_f64(t)
    }
}

impl ScheduleSpec for Constant {
    fn lane(&self, index: usize, lanes: usize) -> Box<dyn Schedule> {
        let lanes = lanes.max(1) as f64;
        Box::new(ConstantLane {
            interval_s: lanes / self.rate,
            next_s: index as f64 / self.rate,
        })
    }

    fn rate_at(&self, _t: Duration) -> f64 {
        self.rate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_lanes_interleave_to_the_total_rate() {
        let spec = Constant { rate: 100.0 };
        let mut offsets: Vec<Duration> = (0..4)
            .flat_map(|i| {
                let mut lane = spec.lane(i, 4);
                (0..25).map(move |_| lane.next_offset()).collect::<Vec<_>>()
            })
            .collect();
        offsets.sort();
        for (k, t) in offsets.iter().enumerate() {
            let expected = k as f64 / 100.0;
            assert!((t.as_secs_f64() - expected).abs() < 1e-9, "{k}: {t:?}");
        }
    }
}
