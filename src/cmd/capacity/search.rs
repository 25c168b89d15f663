//! The rate search of SPEC section 8, apart from running load (the caller's `step` runs one
//! load step at a rate and says whether it passed), so its logic is tested on its own:
//!
//! 1. grow: from `--from`, double the rate until a step fails (or `--to` passes);
//! 2. bisect between the last pass and the first fail until they are within `--precision`
//!    (relative to the pass);
//! 3. confirm: run the last pass once more. If the confirmation fails, the rate is a fail
//!    after all: bisect again below it (each confirmed failure costs one more confirmation).
//!
//! Every path is bounded by `max_steps`.

/// The rate grows by this factor per step until a step fails.
pub const GROWTH: f64 = 2.0;

/// What to search.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bounds {
    pub from: f64,
    pub to: f64,
    /// Stop bisecting when (fail - pass) / pass is at most this.
    pub precision: f64,
    pub max_steps: usize,
}

/// Why a step runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Grow,
    Bisect,
    Confirm,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Grow => "grow",
            Phase::Bisect => "bisect",
            Phase::Confirm => "confirm",
        }
    }
}

/// What the search found.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Found {
    /// The highest rate that passed (and was confirmed, unless `confirmed` is false).
    pub max: Option<f64>,
    /// The lowest rate that failed.
    pub first_fail: Option<f64>,
    pub confirmed: bool,
    /// `--to` passed: the target may sustain more.
    pub reached_to: bool,
    /// The step budget ran out before the search converged.
    pub out_of_steps: bool,
    /// A step was interrupted (Ctrl-C / SIGTERM): the search stopped there.
    pub interrupted: bool,
    pub steps: usize,
}

/// Runs the search; `step(rate, phase)` runs one step and returns whether it passed, or
/// `None` when it was interrupted.
pub fn search(
    b: Bounds,
    step: &mut dyn FnMut(f64, Phase) -> anyhow::Result<Option<bool>>,
) -> anyhow::Result<Found> {
    let mut found = Found::default();
    let mut passes: Vec<f64> = Vec::new();
    let mut run = |rate: f64, phase: Phase, found: &mut Found| -> anyhow::Result<Option<bool>> {
        if found.steps >= b.max_steps {
            found.out_of_steps = true;
            return Ok(None);
        }
        found.steps += 1;
        let verdict = step(rate, phase)?;
        found.interrupted |= verdict.is_none() && !found.out_of_steps;
        Ok(verdict)
    };
    // 1. Grow.
    let mut rate = b.from;
    let fail = loop {
        match run(rate, Phase::Grow, &mut found)? {
            None => return Ok(finish(found, &passes, None)),
            Some(true) => passes.push(rate),
            Some(false) => break rate,
        }
        if rate >= b.to {
            found.reached_to = true;
            return Ok(finish(found, &passes, None));
        }
        rate = (rate * GROWTH).min(b.to);
    };
    let mut hi = fail;
    // 2. Bisect and 3. confirm, again after a failed confirmation.
    loop {
        let Some(mut lo) = best_below(&passes, hi) else {
            return Ok(finish(found, &passes, Some(hi)));
        };
        while (hi - lo) / lo > b.precision {
            let mid = (lo + hi) / 2.0;
            match run(mid, Phase::Bisect, &mut found)? {
                None => return Ok(finish(found, &passes, Some(hi))),
                Some(true) => {
                    passes.push(mid);
                    lo = mid;
                }
                Some(false) => hi = mid,
            }
        }
        match run(lo, Phase::Confirm, &mut found)? {
            None => return Ok(finish(found, &passes, Some(hi))),
            Some(true) => {
                found.confirmed = true;
                return Ok(finish(found, &passes, Some(hi)));
            }
            Some(false) => {
                passes.retain(|&p| p < lo);
                hi = lo;
            }
        }
    }
}

fn best_below(passes: &[f64], hi: f64) -> Option<f64> {
    passes.iter().copied().filter(|&p| p < hi).reduce(f64::max)
}

fn finish(mut found: Found, passes: &[f64], first_fail: Option<f64>) -> Found {
    found.first_fail = first_fail;
    found.max = match first_fail {
        Some(hi) => best_below(passes, hi),
        None => passes.iter().copied().reduce(f64::max),
    };
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bounds(from: f64, to: f64) -> Bounds {
        Bounds {
            from,
            to,
            precision: 0.02,
            max_steps: 40,
        }
    }

    /// A target that passes every rate up to `capacity`; records the steps.
    fn against(b: Bounds, capacity: f64) -> (Found, Vec<(f64, Phase)>) {
        let mut log = Vec::new();
        let found = search(b, &mut |rate, phase| {
            log.push((rate, phase));
            Ok(Some(rate <= capacity))
        })
        .unwrap();
        (found, log)
    }

    #[test]
    fn converges_within_the_precision_and_confirms() {
        for capacity in [150.0, 1234.0, 5_000.0, 77_777.0] {
            let (found, log) = against(bounds(100.0, 1e6), capacity);
            let max = found.max.unwrap();
            let fail = found.first_fail.unwrap();
            assert!(max <= capacity && fail > capacity, "{capacity}: {found:?}");
            assert!((fail - max) / max <= 0.02, "{found:?}");
            assert!(found.confirmed);
            assert_eq!(log.last().unwrap(), &(max, Phase::Confirm));
            // Grow: log2(capacity / 100) + 1 steps; bisect: log2(1 / 0.02) ~ 6; confirm: 1.
            assert!(found.steps <= 20, "{} steps for {capacity}", found.steps);
        }
    }

    #[test]
    fn grows_geometrically_then_bisects() {
        let (_, log) = against(bounds(100.0, 1e6), 1000.0);
        let grow: Vec<f64> = log
            .iter()
            .filter(|s| s.1 == Phase::Grow)
            .map(|s| s.0)
            .collect();
        assert_eq!(grow, vec![100.0, 200.0, 400.0, 800.0, 1600.0]);
        assert!(log
            .iter()
            .filter(|s| s.1 == Phase::Bisect)
            .all(|s| (800.0..1600.0).contains(&s.0)));
    }

    #[test]
    fn a_failing_from_gives_no_result() {
        let (found, log) = against(bounds(100.0, 1e6), 50.0);
        assert_eq!(found.max, None);
        assert_eq!(found.first_fail, Some(100.0));
        assert_eq!(log.len(), 1, "nothing to bisect below --from");
    }

    #[test]
    fn reaching_to_stops_with_to_as_the_result() {
        let (found, log) = against(bounds(100.0, 1000.0), 1e9);
        assert_eq!(found.max, Some(1000.0));
        assert!(found.reached_to);
        assert_eq!(found.first_fail, None);
        assert_eq!(log.last().unwrap().0, 1000.0);
    }

    #[test]
    fn a_failed_confirmation_bisects_again_below() {
        // Flaky at 1000: passes the first time, fails when confirmed.
        let mut seen_1000 = 0;
        let mut log = Vec::new();
        let found = search(bounds(125.0, 1e6), &mut |rate, phase| {
            log.push((rate, phase));
            if rate == 1000.0 {
                seen_1000 += 1;
                return Ok(Some(seen_1000 == 1));
            }
            Ok(Some(rate <= 1010.0))
        })
        .unwrap();
        let max = found.max.unwrap();
        assert!(max < 1000.0, "{found:?}");
        assert!(found.confirmed);
        assert_eq!(found.first_fail, Some(1000.0));
        assert_eq!(log.iter().filter(|s| s.1 == Phase::Confirm).count(), 2);
    }

    #[test]
    fn the_step_budget_bounds_the_search() {
        let mut b = bounds(100.0, 1e12);
        b.max_steps = 5;
        let (found, log) = against(b, 1e11);
        assert_eq!(log.len(), 5);
        assert!(found.out_of_steps);
        assert_eq!(found.max, Some(1600.0));
    }

    #[test]
    fn an_interrupted_step_ends_the_search() {
        let mut n = 0;
        let found = search(bounds(100.0, 1e6), &mut |_, _| {
            n += 1;
            Ok(if n < 3 { Some(true) } else { None })
        })
        .unwrap();
        assert!(found.interrupted);
        assert_eq!(found.max, Some(200.0));
        assert!(!found.confirmed);
    }
}
