//! `--format table`: terminal tables (comfy-table): headline, per-scope summary, percentile
//! ladder, errors by kind and SLO checks.

use comfy_table::{presets, CellAlignment, ContentArrangement, Table as Grid};

use super::{headline, Exporter, View};
use crate::error::ReportError;
use crate::run::RunResult;
use crate::slo::describe;
use crate::summary::{error_breakdown, Summary, LADDER_LABELS, SUMMARY_HEADERS};

pub struct Table;

fn grid(header: Vec<String>) -> Grid {
    let mut g = Grid::new();
    g.load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(header);
    g
}

fn right_align(g: &mut Grid, from: usize) {
    let n = g.column_count();
    for i in from..n {
        if let Some(c) = g.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
}

impl Exporter for Table {
    fn render(&self, run: &RunResult, view: &View) -> Result<String, ReportError> {
        let s = Summary::of(run, view.action.as_deref())?;
        let mut out = format!(
            "napkin run: {} -> {} (started {})\n{}\n\n",
            s.scenario,
            s.target,
            s.started_at,
            headline(&s)
        );

        let mut summary = grid(SUMMARY_HEADERS.map(String::from).to_vec());
        for sc in &s.scopes {
            summary.add_row(sc.summary_cells());
        }
        right_align(&mut summary, 1);
        out.push_str(&format!(
            "{summary}\n\nLatency (from intended send time):\n"
        ));

        let mut ladder = grid(
            std::iter::once("scope".to_string())
                .chain(LADDER_LABELS.iter().map(|l| l.to_string()))
                .collect(),
        );
        for sc in &s.scopes {
            let mut row = vec![sc.name.clone()];
            row.extend(sc.latency_us.step_cells());
            ladder.add_row(row);
        }
        right_align(&mut ladder, 1);
        out.push_str(&format!("{ladder}\n"));

        let kinds = error_breakdown(&s.errors);
        if !kinds.is_empty() {
            let list: Vec<String> = kinds.iter().map(|(k, v)| format!("{k}: {v}")).collect();
            out.push_str(&format!("\nErrors: {}\n", list.join(", ")));
        }
        if !s.slo.checks.is_empty() {
            let verdict = if s.slo.pass { "pass" } else { "FAIL" };
            out.push_str(&format!("\nSLO: {verdict}\n"));
            for c in &s.slo.checks {
                out.push_str(&format!("  {}\n", describe(c)));
            }
        }
        Ok(out)
    }
}
