//! `--format hgrm`: HdrHistogram's percentile distribution text exactly as wrk2 `-L` (the C
//! HdrHistogram `hdr_percentiles_print`, classic format, 5 ticks per half distance) prints it,
//! values in milliseconds with 3 decimals; HdrHistogram's plotter reads it. Prints the `all`
//! latency histogram, or the action named by `--action`.

use hdrhistogram::Histogram;

use super::{Exporter, View};
use crate::error::ReportError;
use crate::run::RunResult;
use crate::summary::latency_histogram;

pub struct Hgrm;

/// Ticks per half distance to 100%, as wrk2 uses.
pub(crate) const TICKS: u32 = 5;
/// Microseconds per printed unit (milliseconds, as wrk2 prints).
const SCALE: f64 = 1000.0;

impl Exporter for Hgrm {
    fn render(&self, run: &RunResult, view: &View) -> Result<String, ReportError> {
        let (name, scope) = match view.action.as_deref() {
            None | Some("all") => ("all", &run.all),
            Some(a) => match run.actions.get(a) {
                Some(s) => (a, s),
                None => return Err(ReportError::Invalid(format!("no action {a:?} in the run"))),
            },
        };
        let h = latency_histogram(name, scope)?;
        Ok(percentile_distribution(&h, SCALE))
    }
}

/// One row of a percentile distribution.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PercentileRow {
    /// Highest value equivalent to the recorded value reached (unscaled).
    pub value: u64,
    /// The percentile level iterated to, as a fraction (0..=1).
    pub quantile: f64,
    /// Values recorded at or below `value`.
    pub total_count: u64,
}

/// The rows of HdrHistogram's percentile distribution, computed exactly as the reference
/// (Java `PercentileIterator`, which the C library and wrk2 share): levels advance by
/// `100 / (ticks x 2^(floor(log2(100 / (100 - level))) + 1))` percent, a level is reached at
/// the first recorded value whose cumulative percentage is at least the level, the last
/// recorded value gives one row and then the 100% row. (The `hdrhistogram` crate's quantile
/// iterator computes the levels in another floating-point order and can pick the next value
/// at exact boundaries, so it is not used here.)
pub fn percentile_rows(h: &Histogram<u64>, ticks: u32) -> Vec<PercentileRow> {
    let mut rows = Vec::new();
    let total = h.len();
    if total == 0 {
        return rows;
    }
    let mut level = 0.0_f64; // percent
    let mut running = 0u64;
    for v in h.iter_recorded() {
        running += v.count_at_value();
        let value = v.value_iterated_to();
        while 100.0 * running as f64 / total as f64 >= level {
            rows.push(PercentileRow {
                value,
                quantile: level / 100.0,
                total_count: running,
            });
            let half_distances = (100.0 / (100.0 - level)).log2().floor();
            let reporting_ticks = f64::from(ticks) * 2f64.powf(half_distances + 1.0);
            level += 100.0 / reporting_ticks;
            if running == total {
                break;
            }
        }
    }
    let max = rows.last().map_or(0, |r| r.value);
    rows.push(PercentileRow {
        value: max,
        quantile: 1.0,
        total_count: total,
    });
    rows
}

/// The percentile distribution of `h` with values divided by `scale`.
pub fn percentile_distribution(h: &Histogram<u64>, scale: f64) -> String {
    let mut out = format!(
        "{:>12} {:>12} {:>12} {:>12}\n\n",
        "Value", "Percentile", "TotalCount", "1/(1-Percentile)"
    );
    for r in percentile_rows(h, TICKS) {
        let (value, q, total) = (r.value as f64 / scale, r.quantile, r.total_count);
        if q < 1.0 {
            out.push_str(&format!(
                "{value:12.3} {q:12.6} {total:12} {:12.2}\n",
                1.0 / (1.0 - q)
            ));
        } else {
            out.push_str(&format!("{value:12.3} {q:12.6} {total:12} {:>12}\n", "inf"));
        }
    }
    let sub_buckets = 2u64.pow((2.0 * 10f64.powi(i32::from(h.sigfig()))).log2().ceil() as u32);
    out.push_str(&format!(
        "#[Mean    = {:12.3}, StdDeviation   = {:12.3}]\n",
        h.mean() / scale,
        h.stdev() / scale
    ));
    out.push_str(&format!(
        "#[Max     = {:12.3}, Total count    = {:12}]\n",
        h.max() as f64 / scale,
        h.len()
    ));
    out.push_str(&format!(
        "#[Buckets = {:12}, SubBuckets     = {:12}]\n",
        h.buckets(),
        sub_buckets
    ));
    out
}
