//! Arrival processes: Poisson inter-arrival times have a coefficient of variation near 1 and
//! uniform near 0; a staged ramp offers exactly the integral of its profile. Each is read as
//! the union of `n` shards' parts of the global schedule, as sharded runs send it.

use std::time::Duration;

use estimator::{Arrivals, LoadSpec, Stage};
use loadgen::arrivals::{schedule_for_load, ArrivalError, Poisson, Stages};
use loadgen::schedule::ScheduleSpec;
use loadgen::shard::{Shard, ShardSchedule};

/// The intended times up to `until` of all `shards` shards (4 connections each), merged.
fn merged(spec: &dyn ScheduleSpec, shards: usize, until: f64) -> Vec<f64> {
    let mut all = Vec::new();
    for i in 0..shards as u32 {
        let shard = Shard::new(i, shards as u32).unwrap();
        let mut last = 0.0;
        for e in ShardSchedule::new(spec, shard, 4) {
            let t = e.offset.as_secs_f64();
            assert!(t >= last, "shard {i} went back in time");
            last = t;
            if t >= until {
                break;
            }
            all.push(t);
        }
    }
    all.sort_by(f64::total_cmp);
    all
}

fn cv_of_gaps(times: &[f64]) -> (f64, f64) {
    let gaps: Vec<f64> = times.windows(2).map(|w| w[1] - w[0]).collect();
    let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
    let var = gaps.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / gaps.len() as f64;
    (mean, var.sqrt() / mean)
}

#[test]
fn poisson_gaps_have_cv_near_one_and_the_right_rate() {
    let spec = Poisson {
        rate: 1000.0,
        seed: 3,
    };
    // 8 shards together, 100 s: about 100K arrivals.
    let times = merged(&spec, 8, 100.0);
    let (mean, cv) = cv_of_gaps(&times);
    assert!((cv - 1.0).abs() < 0.02, "cv {cv}");
    assert!((mean - 0.001).abs() < 0.00002, "mean gap {mean}");
    // Count over 100 s: Poisson(100000), sd 316.
    assert!(
        (times.len() as f64 - 100_000.0).abs() < 1600.0,
        "{}",
        times.len()
    );
}

#[test]
fn uniform_gaps_have_cv_near_zero() {
    let spec = schedule_for_load(&LoadSpec::default(), Some(1000.0), 0).unwrap();
    let (mean, cv) = cv_of_gaps(&merged(spec.as_ref(), 8, 10.0));
    assert!(cv < 1e-6, "cv {cv}");
    assert!((mean - 0.001).abs() < 1e-9);
}

fn two_stage_ramp() -> Vec<Stage> {
    vec![
        Stage {
            duration: Duration::from_secs(10),
            rate: 500.0,
        },
        Stage {
            duration: Duration::from_secs(30),
            rate: 2000.0,
        },
    ]
}

#[test]
fn a_two_stage_ramp_sends_the_integral_of_its_profile() {
    // 0 -> 500 over 10 s = 2500, then 500 -> 2000 over 30 s = 37500.
    let profile = Stages::new(&two_stage_ramp(), Arrivals::Uniform, 0).unwrap();
    assert_eq!(profile.total_requests(), 40_000.0);
    assert_eq!(profile.duration(), Duration::from_secs(40));
    for shards in [1, 7, 64] {
        let times = merged(&profile, shards, 40.0 + 1e-9);
        assert!(
            (times.len() as f64 - 40_000.0).abs() <= 1.0,
            "{shards} shards: {}",
            times.len()
        );
        // Request k goes at Λ⁻¹(k + 1), whoever sends it: exact counts.
        let first_stage = times.iter().filter(|&&t| t < 10.0).count() as f64;
        assert!(
            (first_stage - 2500.0).abs() <= 1.0,
            "{shards} shards: {first_stage}"
        );
        // Halfway up the first ramp, a quarter of its requests have gone (Λ(5) = 625).
        let quarter = times.iter().filter(|&&t| t < 5.0).count() as f64;
        assert!((quarter - 625.0).abs() <= 1.0, "{shards} shards: {quarter}");
    }
}

#[test]
fn a_poisson_ramp_sends_the_integral_on_average() {
    let mut load = LoadSpec {
        stages: two_stage_ramp(),
        arrivals: Arrivals::Poisson,
        ..LoadSpec::default()
    };
    let spec = schedule_for_load(&load, None, 11).unwrap();
    let n = merged(spec.as_ref(), 16, 40.0).len() as f64;
    // Poisson(40000): sd 200; 5 sd.
    assert!((n - 40_000.0).abs() < 1000.0, "{n}");
    assert_eq!(spec.rate_at(Duration::from_secs(5)), 250.0);
    // A rate given on the command line overrides the stages.
    load.arrivals = Arrivals::Uniform;
    let flat = schedule_for_load(&load, Some(100.0), 0).unwrap();
    assert_eq!(flat.rate_at(Duration::from_secs(5)), 100.0);
}

#[test]
fn schedules_without_a_usable_rate_are_errors() {
    let load = LoadSpec::default();
    assert_eq!(
        schedule_for_load(&load, None, 0).err(),
        Some(ArrivalError::NoRate)
    );
    assert_eq!(
        schedule_for_load(&load, Some(0.0), 0).err(),
        Some(ArrivalError::BadRate(0.0))
    );
    let zero = LoadSpec {
        stages: vec![Stage {
            duration: Duration::ZERO,
            rate: 100.0,
        }],
        ..LoadSpec::default()
    };
    let err = schedule_for_load(&zero, None, 0).err().unwrap();
    assert_eq!(err, ArrivalError::ZeroStages);
    assert!(err.to_string().contains("zero total duration"));
}
