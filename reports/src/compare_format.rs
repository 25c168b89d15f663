//! Renders a [`Comparison`] as a terminal table, Markdown (for PR comments) or JSON.

use comfy_table::{presets, CellAlignment, ContentArrangement, Table};

use crate::compare::{Comparison, MetricDelta};
use crate::error::ReportError;
use crate::format::md_table;
use crate::units::{fmt_pct, fmt_rps, fmt_us};

/// Output formats of `napkin compare`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareFormat {
    Table,
    Markdown,
    Json,
}

impl CompareFormat {
    pub fn parse(s: &str) -> Option<CompareFormat> {
        Some(match s {
            "table" => CompareFormat::Table,
            "markdown" | "md" => CompareFormat::Markdown,
            "json" => CompareFormat::Json,
            _ => return None,
        })
    }
}

fn value(metric: &str, v: f64) -> String {
    match metric {
        "error_rate" => fmt_pct(v),
        "rps" => fmt_rps(v),
        _ => fmt_us(v),
    }
}

fn delta(m: &MetricDelta) -> String {
    let abs = match m.metric {
        "error_rate" => format!("{:+.2}pp", m.delta * 100.0),
        "rps" => format!("{:+.1}/s", m.delta),
        _ => {
            let s = fmt_us(m.delta);
            if m.delta >= 0.0 {
                format!("+{s}")
            } else {
                s
            }
        }
    };
    match m.change {
        Some(c) => format!("{abs} ({:+.1}%)", c * 100.0),
        None => abs,
    }
}

fn rows(c: &Comparison) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for s in &c.scopes {
        if s.metrics.is_empty() {
            rows.push(vec![
                s.scope.clone(),
                "-".into(),
                "-".into(),
                "-".into(),
                "-".into(),
                s.verdict.as_str().into(),
            ]);
        }
        for m in &s.metrics {
            rows.push(vec![
                s.scope.clone(),
                m.metric.to_string(),
                value(m.metric, m.base),
                value(m.metric, m.new),
                delta(m),
                m.verdict.as_str().to_string(),
            ]);
        }
    }
    rows
}

const HEADER: [&str; 6] = ["scope", "metric", "base", "new", "delta", "verdict"];

fn footer(c: &Comparison) -> String {
    let t = &c.tolerance;
    let verdict = if c.pass {
        "PASS"
    } else {
        "FAIL: regression beyond tolerance"
    };
    format!(
        "rps: successful requests/s ((requests - errors) / duration)\ntolerance: {:.1}% relative; latency changes of at most {} and error-rate changes of at most {} never fail; a percentile p is gated with at least {} / (1 - p) samples\nverdict: {verdict}\n",
        t.max_regression * 100.0,
        fmt_us(t.min_delta_us),
        fmt_pct(t.min_error_delta),
        t.min_tail_samples
    )
}

/// Renders `c` in `format`.
pub fn render_comparison(c: &Comparison, format: CompareFormat) -> Result<String, ReportError> {
    let mut out = String::new();
    if c.base_scenario != c.new_scenario {
        out.push_str(&format!(
            "note: comparing different scenarios ({} vs {})\n",
            c.base_scenario, c.new_scenario
        ));
    }
    match format {
        CompareFormat::Json => {
            let mut text = serde_json::to_string_pretty(c)
                .map_err(|e| ReportError::Invalid(format!("cannot encode comparison: {e}")))?;
            text.push('\n');
            return Ok(text);
        }
        CompareFormat::Markdown => {
            out.push_str(&format!("## napkin compare: {}\n\n", c.new_scenario));
            out.push_str(&md_table(&HEADER.map(String::from), &rows(c)));
            out.push('\n');
            out.push_str(&footer(c).replace('\n', "\n\n"));
        }
        CompareFormat::Table => {
            let mut t = Table::new();
            t.load_preset(presets::UTF8_FULL_CONDENSED)
                .set_content_arrangement(ContentArrangement::Disabled)
                .set_header(HEADER.to_vec());
            for r in rows(c) {
                t.add_row(r);
            }
            for i in 2..5 {
                if let Some(col) = t.column_mut(i) {
                    col.set_cell_alignment(CellAlignment::Right);
                }
            }
            out.push_str(&format!("{t}\n"));
            out.push_str(&footer(c));
        }
    }
    Ok(out)
}
