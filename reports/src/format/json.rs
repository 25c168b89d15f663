//! `--format json`: the [`Summary`](crate::summary::Summary) (run fields, per-scope ladders
//! with p99.99, timeline, SLO checks, settings) without the encoded histograms.

use super::{Exporter, View};
use crate::error::ReportError;
use crate::run::RunResult;
use crate::summary::Summary;

pub struct Json;

impl Exporter for Json {
    fn render(&self, run: &RunResult, view: &View) -> Result<String, ReportError> {
        let summary = Summary::of(run, view.action.as_deref())?;
        let mut text = serde_json::to_string_pretty(&summary)
            .map_err(|e| ReportError::Invalid(format!("cannot encode summary as JSON: {e}")))?;
        text.push('\n');
        Ok(text)
    }
}
