//! The closed-model concurrency sweep of SPEC section 8: one step per concurrency (users
//! looping request -> response, no think time), its successful throughput as X(N), then the
//! Universal Scalability Law fitted to the points (`estimator::usl`). `max_rps` is the highest
//! throughput of a step that met the SLO.

use estimator::usl::{self, Point, TRUSTED_POINTS};
use reports::capacity::CapacityResult;
use reports::units::fmt_rps;

use super::steps::{failed_check, Stepper};
use crate::cmd::load::output::note;

/// Runs a step per concurrency in `users` (ascending) and fits the law.
pub fn run(stepper: &mut Stepper<'_>, users: &[u32]) -> anyhow::Result<CapacityResult> {
    for &n in users {
        let settings = stepper.settings().closed(n);
        if stepper.run(&settings, "sweep")?.is_none() {
            break;
        }
    }
    let mut result = stepper.blank("closed");
    let steps = std::mem::take(&mut stepper.steps);
    let points: Vec<Point> = steps
        .iter()
        .filter_map(|s| {
            Some(Point {
                concurrency: f64::from(s.concurrency?),
                throughput: s.ok_rps,
            })
        })
        .collect();
    result.max_rps = steps
        .iter()
        .filter(|s| s.pass)
        .map(|s| s.ok_rps)
        .reduce(f64::max);
    let first_fail = steps.iter().find(|s| !s.pass);
    result.limited_by = match first_fail {
        Some(s) => format!(
            "{} at {} users",
            failed_check(s),
            s.concurrency.unwrap_or_default()
        ),
        None if steps.len() < users.len() => "interrupted: the sweep stopped early".into(),
        None => format!(
            "every concurrency up to {} met the SLO",
            users.last().copied().unwrap_or_default()
        ),
    };
    result.bottleneck = first_fail.and_then(|s| s.bottleneck.clone());
    result.usl = match usl::fit(&points) {
        Ok(fit) => {
            warn_about(&fit, &points);
            Some(fit)
        }
        Err(e) => {
            note(format_args!("no scalability fit: {e}"));
            None
        }
    };
    result.steps = steps;
    Ok(result)
}

/// Warns when the fit has too few points to trust, or when its peak lies beyond twice the
/// largest concurrency measured (an extrapolation).
pub fn warn_about(fit: &usl::Fit, points: &[Point]) {
    if points.len() < TRUSTED_POINTS {
        note(format_args!(
            "warning: {} points; a fit of 3 parameters needs {TRUSTED_POINTS} or more to be \
             trusted: measure more concurrencies",
            points.len()
        ));
    }
    let top = points.iter().map(|p| p.concurrency).fold(0.0, f64::max);
    if let (Some(n), Some(x)) = (fit.n_max, fit.x_max) {
        if n > 2.0 * top {
            note(format_args!(
                "warning: N_max = {n:.1} (X_max {}) lies beyond twice the largest measured \
                 concurrency ({top}): that is an extrapolation, not a measurement; measure up to \
                 it before planning on it",
                fmt_rps(x)
            ));
        }
    }
}
