//! `napkin report` formats: one small exporter per format behind [`Exporter`] (as hyperfine
//! does), all reading the same run and [`View`].

pub(crate) mod charts;
mod hgrm;
pub(crate) mod html;
mod json;
mod markdown;
mod table;

pub(crate) use markdown::md_table;

use crate::error::ReportError;
use crate::run::RunResult;

pub use hgrm::{percentile_distribution, percentile_rows, PercentileRow};

/// What to show of a run.
#[derive(Debug, Clone, Default)]
pub struct View {
    /// Only this action (and `all`); for hgrm the histogram printed (default `all`).
    pub action: Option<String>,
}

/// Renders a run in one format.
pub trait Exporter {
    fn render(&self, run: &RunResult, view: &View) -> Result<String, ReportError>;
}

/// The formats of `napkin report --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Markdown,
    Json,
    Html,
    Hgrm,
}

impl Format {
    pub const NAMES: [&'static str; 5] = ["table", "markdown", "json", "html", "hgrm"];

    pub fn parse(s: &str) -> Option<Format> {
        Some(match s {
            "table" => Format::Table,
            "markdown" | "md" => Format::Markdown,
            "json" => Format::Json,
            "html" => Format::Html,
            "hgrm" => Format::Hgrm,
            _ => return None,
        })
    }

    pub fn exporter(self) -> Box<dyn Exporter> {
        match self {
            Format::Table => Box::new(table::Table),
            Format::Markdown => Box::new(markdown::Markdown),
            Format::Json => Box::new(json::Json),
            Format::Html => Box::new(html::Html),
            Format::Hgrm => Box::new(hgrm::Hgrm),
        }
    }
}

/// Renders `run` in `format`.
pub fn render(run: &RunResult, format: Format, view: &View) -> Result<String, ReportError> {
    crate::summary::check_action(run, view.action.as_deref())?;
    format.exporter().render(run, view)
}

/// The one-line headline every human format starts with.
pub(crate) fn headline(s: &crate::summary::Summary) -> String {
    use crate::units::{fmt_count, fmt_pct, fmt_rps};
    let rate = match s.target_rps {
        Some(t) => format!(
            "target {}, achieved {}",
            fmt_rps(t),
            fmt_rps(s.achieved_rps)
        ),
        None => format!("achieved {}", fmt_rps(s.achieved_rps)),
    };
    let err_rate = if s.requests == 0 {
        0.0
    } else {
        s.errors.total as f64 / s.requests as f64
    };
    let dropped = if s.dropped > 0 {
        format!(", {} dropped", fmt_count(s.dropped))
    } else {
        String::new()
    };
    let mut line = format!(
        "{} model, {} arrivals, {rate}, {:.1} s, {} requests, {} errors ({}){dropped}{}",
        s.model,
        s.arrivals,
        s.duration_s,
        fmt_count(s.requests),
        fmt_count(s.errors.total),
        fmt_pct(err_rate),
        if s.interrupted { ", INTERRUPTED" } else { "" }
    );
    if let Some(words) = &s.saturation {
        line.push('\n');
        line.push_str(&words.replacen("saturated:", "SATURATED:", 1));
    }
    if let Some(shard) = &s.shard {
        line.push('\n');
        line.push_str(&crate::shards::describe_line(shard));
    }
    if let Some(connections) = crate::summary::connections_line(s) {
        line.push('\n');
        line.push_str(&connections);
    }
    line
}
