//! Open-model arrival processes beyond [`Constant`]: Poisson arrivals and the piecewise-linear
//! rate profile of `load.stages` (SPEC section 3), with uniform or Poisson arrivals.
//!
//! A rate profile r(t) is handled through its cumulative integral Λ(t) = ∫₀ᵗ r: the k-th
//! arrival of a unit-rate process at "work" u is sent at Λ⁻¹(u). Uniform arrivals use u = 1, 2,
//! 3, ...; Poisson arrivals use the partial sums of unit exponentials, which by the
//! time-rescaling theorem gives a non-homogeneous Poisson process of intensity r(t). Lane `i` of
//! `n` takes every n-th unit of work (uniform) or an independent process at 1/n of the
//! intensity (Poisson; the superposition of the lanes is Poisson at the full intensity).
//!
//! After the last stage the rate holds at the last stage's rate.

use std::sync::Arc;
use std::time::Duration;

use estimator::{Arrivals, LoadSpec, Stage};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::schedule::{Constant, Schedule, ScheduleSpec};

/// Why an arrival schedule could not be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ArrivalError {
    #[error("the rate must be a positive number of requests/s, got {0}; set `load.rate`, `load.scale`, `load.stages` or pass --rate R")]
    BadRate(f64),
    #[error("`load.stages` has zero total duration; give each stage a positive `duration`, e.g. `{{duration: 10s, rate: 500}}`")]
    ZeroStages,
    #[error("`load.stages[{index}].rate` must be a finite number >= 0, got {rate}")]
    BadStageRate { index: usize, rate: f64 },
    #[error("every rate in `load.stages` is 0, so no request would ever be sent; give at least one stage a positive `rate`")]
    SilentStages,
    #[error("no rate given: set `load.rate`, `load.scale` or `load.stages` in the scenario, or pass --rate R or --scale F")]
    NoRate,
}

/// Poisson arrivals at a constant total `rate` (exponential inter-arrival times).
#[derive(Debug, Clone, Copy)]
pub struct Poisson {
    pub rate: f64,
    pub seed: u64,
}

impl ScheduleSpec for Poisson {
    fn lane(&self, index: usize, lanes: usize) -> Box<dyn Schedule> {
        let lanes = lanes.max(1) as f64;
        Box::new(PoissonLane {
            mean_gap_s: lanes / self.rate,
            next_s: 0.0,
            rng: lane_rng(self.seed, index),
        })
    }

    fn rate_at(&self, _t: Duration) -> f64 {
        self.rate
    }
}

struct PoissonLane {
    mean_gap_s: f64,
    next_s: f64,
    rng: SmallRng,
}

impl Schedule for PoissonLane {
    fn next_offset(&mut self) -> Duration {
        self.next_s += self.mean_gap_s * unit_exponential(&mut self.rng);
        Duration::from_secs_f64(self.next_s)
    }
}

/// A unit-mean exponential draw by inversion.
fn unit_exponential(rng: &mut SmallRng) -> f64 {
    // 1 - u is in (0, 1], so the logarithm is finite.
    let u: f64 = rng.random();
    -(1.0 - u).ln()
}

/// An independent, reproducible generator for lane `index` of a run seeded with `seed`.
pub fn lane_rng(seed: u64, index: usize) -> SmallRng {
    let mixed = seed
        ^ (index as u64)
            .wrapping_add(1)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15);
    SmallRng::seed_from_u64(mixed)
}

/// The piecewise-linear profile of `load.stages`, starting from 0/s.
#[derive(Debug, Clone)]
pub struct Stages {
    /// (start time s, start rate, end rate, duration s, cumulative work at start).
    segments: Vec<Segment>,
    total_s: f64,
    total_work: f64,
    last_rate: f64,
    arrivals: Arrivals,
    seed: u64,
}

#[derive(Debug, Clone, Copy)]
struct Segment {
    start_s: f64,
    r0: f64,
    r1: f64,
    len_s: f64,
    work0: f64,
}

impl Segment {
    fn work(&self) -> f64 {
        (self.r0 + self.r1) / 2.0 * self.len_s
    }

    /// The offset τ into this segment where `w` units of work (0 <= w <= work()) have accrued.
    fn invert(&self, w: f64) -> f64 {
        let slope = (self.r1 - self.r0) / self.len_s;
        if slope.abs() < 1e-12 {
            return if self.r0 > 0.0 { w / self.r0 } else { 0.0 };
        }
        // r0 τ + slope τ²/2 = w  =>  τ = (-r0 + sqrt(r0² + 2 slope w)) / slope
        let disc = (self.r0 * self.r0 + 2.0 * slope * w).max(0.0);
        ((disc.sqrt() - self.r0) / slope).clamp(0.0, self.len_s)
    }
}

impl Stages {
    /// Builds the profile; `arrivals` picks uniform or Poisson arrivals, `seed` the latter's
    /// randomness.
    pub fn new(stages: &[Stage], arrivals: Arrivals, seed: u64) -> Result<Self, ArrivalError> {
        let mut segments = Vec::with_capacity(stages.len());
        let (mut t, mut work, mut prev) = (0.0, 0.0, 0.0);
        for (index, stage) in stages.iter().enumerate() {
            if !stage.rate.is_finite() || stage.rate < 0.0 {
                return Err(ArrivalError::BadStageRate {
                    index,
                    rate: stage.rate,
                });
            }
            let len_s = stage.duration.as_secs_f64();
            if len_s > 0.0 {
                let seg = Segment {
                    start_s: t,
                    r0: prev,
                    r1: stage.rate,
                    len_s,
                    work0: work,
                };
                work += seg.work();
                t += len_s;
                segments.push(seg);
            }
            prev = stage.rate;
        }
        if segments.is_empty() {
            return Err(ArrivalError::ZeroStages);
        }
        if work <= 0.0 && prev <= 0.0 {
            return Err(ArrivalError::SilentStages);
        }
        Ok(Stages {
            segments,
            total_s: t,
            total_work: work,
            last_rate: prev,
            arrivals,
            seed,
        })
    }

    /// Total length of the profile.
    pub fn duration(&self) -> Duration {
        Duration::from_secs_f64(self.total_s)
    }

    /// Requests the profile offers over its whole length: the integral of the rate.
    pub fn total_requests(&self) -> f64 {
        self.total_work
    }

    /// The highest rate of the profile.
    pub fn peak_rate(&self) -> f64 {
        self.segments.iter().map(|s| s.r1).fold(0.0, f64::max)
    }

    /// The time at which `w` units of work have accrued, searching from segment `*cursor`
    /// (cursors only move forward because work is non-decreasing per lane).
    fn invert(&self, w: f64, cursor: &mut usize) -> f64 {
        while *cursor < self.segments.len() {
            let seg = &self.segments[*cursor];
            if w <= seg.work0 + seg.work() {
                return seg.start_s + seg.invert(w - seg.work0);
            }
            *cursor += 1;
        }
        if self.last_rate <= 0.0 {
            // The profile ended at 0/s: nothing more is ever due.
            return f64::from(u32::MAX);
        }
        self.total_s + (w - self.total_work) / self.last_rate
    }
}

impl ScheduleSpec for Stages {
    fn lane(&self, index: usize, lanes: usize) -> Box<dyn Schedule> {
        let lanes = lanes.max(1);
        Box::new(StagesLane {
            profile: self.clone(),
            cursor: 0,
            lanes: lanes as f64,
            work: match self.arrivals {
                Arrivals::Uniform => index as f64 + 1.0,
                Arrivals::Poisson => 0.0,
            },
            rng: lane_rng(self.seed, index),
        })
    }

    fn rate_at(&self, t: Duration) -> f64 {
        let t = t.as_secs_f64();
        for seg in &self.segments {
            if t < seg.start_s + seg.len_s {
                return seg.r0 + (seg.r1 - seg.r0) * (t - seg.start_s) / seg.len_s;
            }
        }
        self.last_rate
    }
}

struct StagesLane {
    profile: Stages,
    cursor: usize,
    lanes: f64,
    /// Work (cumulative expected requests of the whole run) of this lane's next arrival.
    work: f64,
    rng: SmallRng,
}

impl Schedule for StagesLane {
    fn next_offset(&mut self) -> Duration {
        let w = match self.profile.arrivals {
            Arrivals::Uniform => {
                let w = self.work;
                self.work += self.lanes;
                w
            }
            Arrivals::Poisson => {
                self.work += self.lanes * unit_exponential(&mut self.rng);
                self.work
            }
        };
        Duration::from_secs_f64(self.profile.invert(w, &mut self.cursor))
    }
}

/// The schedule of an open-model run: a constant `rate` when given (the caller resolves
/// `--rate`, `--scale`, `load.rate`, `load.scale` into it, and it overrides `stages`), otherwise
/// the `stages` profile; uniform or Poisson `arrivals`.
pub fn build_schedule(
    arrivals: Arrivals,
    stages: &[Stage],
    rate: Option<f64>,
    seed: u64,
) -> Result<Arc<dyn ScheduleSpec>, ArrivalError> {
    match rate {
        Some(rate) if !(rate.is_finite() && rate > 0.0) => Err(ArrivalError::BadRate(rate)),
        Some(rate) => Ok(match arrivals {
            Arrivals::Uniform => Arc::new(Constant { rate }),
            Arrivals::Poisson => Arc::new(Poisson { rate, seed }),
        }),
        None if !stages.is_empty() => Ok(Arc::new(Stages::new(stages, arrivals, seed)?)),
        None => Err(ArrivalError::NoRate),
    }
}

/// [`build_schedule`] with the arrivals and stages of a scenario's `load:` block.
pub fn schedule_for_load(
    load: &LoadSpec,
    rate: Option<f64>,
    seed: u64,
) -> Result<Arc<dyn ScheduleSpec>, ArrivalError> {
    build_schedule(load.arrivals, &load.stages, rate, seed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage(secs: f64, rate: f64) -> Stage {
        Stage {
            duration: Duration::from_secs_f64(secs),
            rate,
        }
    }

    #[test]
    fn segment_inversion_matches_the_integral() {
        let p = Stages::new(&[stage(10.0, 100.0)], Arrivals::Uniform, 0).unwrap();
        // Λ(t) = 5 t²  =>  Λ⁻¹(125) = 5 s
        let mut cursor = 0;
        assert!((p.invert(125.0, &mut cursor) - 5.0).abs() < 1e-9);
        assert_eq!(p.total_requests(), 500.0);
        assert!((p.rate_at(Duration::from_secs(5)) - 50.0).abs() < 1e-9);
        assert_eq!(p.rate_at(Duration::from_secs(50)), 100.0);
    }

    #[test]
    fn bad_profiles_are_rejected() {
        let zero = [stage(0.0, 10.0)];
        assert_eq!(
            Stages::new(&zero, Arrivals::Uniform, 0).unwrap_err(),
            ArrivalError::ZeroStages
        );
        assert_eq!(
            Stages::new(&[], Arrivals::Uniform, 0).unwrap_err(),
            ArrivalError::ZeroStages
        );
        assert_eq!(
            Stages::new(&[stage(5.0, 0.0)], Arrivals::Uniform, 0).unwrap_err(),
            ArrivalError::SilentStages
        );
        assert!(matches!(
            Stages::new(&[stage(5.0, -1.0)], Arrivals::Uniform, 0),
            Err(ArrivalError::BadStageRate { index: 0, .. })
        ));
    }

    #[test]
    fn ramp_down_to_zero_sends_nothing_after_the_profile() {
        let p = Stages::new(&[stage(1.0, 10.0), stage(1.0, 0.0)], Arrivals::Uniform, 0).unwrap();
        let mut lane = p.lane(0, 1);
        let times: Vec<f64> = (0..11).map(|_| lane.next_offset().as_secs_f64()).collect();
        assert!(times[..10].iter().all(|&t| t <= 2.0 + 1e-9), "{times:?}");
        assert!(times[10] > 1e6);
    }
}
