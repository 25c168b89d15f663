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
const TICKS: u32 = 5;
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

/// The percentile distribution of `h` with values divided by `scale`.
pub fn percentile_distribution(h: &Histogram<u64>, scale: f64) -> String {
    let mut out = format!(
        "{:>12} {:>12} {:>12} {:>12}\n\n",
        "Value", "Percentile", "TotalCount", "1/(1-Percentile)"
    );
    let mut total = 0u64;
    if !h.is_empty() {
        for v in h.iter_quantiles(TICKS) {
            total += v.count_since_last_iteration();
            let q = v.quantile_iterated_to();
            let value = v.value_iterated_to() as f64 / scale;
            if q < 1.0 {
                out.push_str(&format!(
                    "{value:12.3} {q:12.6} {total:12} {:12.2}\n",
                    1.0 / (1.0 - q)
                ));
            } else {
                out.push_str(&format!("{value:12.3} {q:12.6} {total:12} {:>12}\n", "inf"));
            }
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
