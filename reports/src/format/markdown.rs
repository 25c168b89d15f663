//! `--format markdown`: the table report as GitHub-flavoured Markdown, for PR comments and
//! design docs.

use super::{headline, Exporter, View};
use crate::error::ReportError;
use crate::run::RunResult;
use crate::slo::describe;
use crate::summary::{error_breakdown, Summary, LADDER_LABELS};
use crate::units::{fmt_count, fmt_pct, fmt_rps};

pub struct Markdown;

/// A Markdown table: first column left-aligned, the others right-aligned.
pub(crate) fn md_table(header: &[String], rows: &[Vec<String>]) -> String {
    let esc = |s: &str| s.replace('|', "\\|");
    let mut out = format!(
        "| {} |\n",
        header
            .iter()
            .map(|h| esc(h))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    let align: Vec<&str> = (0..header.len())
        .map(|i| if i == 0 { "---" } else { "---:" })
        .collect();
    out.push_str(&format!("| {} |\n", align.join(" | ")));
    for r in rows {
        out.push_str(&format!(
            "| {} |\n",
            r.iter().map(|c| esc(c)).collect::<Vec<_>>().join(" | ")
        ));
    }
    out
}

impl Exporter for Markdown {
    fn render(&self, run: &RunResult, view: &View) -> Result<String, ReportError> {
        let s = Summary::of(run, view.action.as_deref())?;
        let mut out = format!(
            "## napkin run: {}\n\nTarget `{}`, started {}.\n{}.\n\n",
            s.scenario,
            s.target,
            s.started_at,
            headline(&s).trim_end_matches('.')
        );
        let header: Vec<String> = ["scope", "requests", "errors", "error rate", "req/s", "mean"]
            .map(String::from)
            .to_vec();
        let rows: Vec<Vec<String>> = s
            .scopes
            .iter()
            .map(|sc| {
                vec![
                    format!("`{}`", sc.name),
                    fmt_count(sc.requests),
                    fmt_count(sc.errors),
                    fmt_pct(sc.error_rate),
                    fmt_rps(sc.requests_per_s),
                    sc.latency_us.cell(sc.latency_us.mean),
                ]
            })
            .collect();
        out.push_str(&md_table(&header, &rows));

        out.push_str("\n### Latency (from intended send time)\n\n");
        let header: Vec<String> = std::iter::once("scope".to_string())
            .chain(LADDER_LABELS.iter().map(|l| l.to_string()))
            .collect();
        let rows: Vec<Vec<String>> = s
            .scopes
            .iter()
            .map(|sc| {
                std::iter::once(format!("`{}`", sc.name))
                    .chain(sc.latency_us.step_cells())
                    .collect()
            })
            .collect();
        out.push_str(&md_table(&header, &rows));

        let kinds = error_breakdown(&s.errors);
        if !kinds.is_empty() {
            let list: Vec<String> = kinds.iter().map(|(k, v)| format!("{k}: {v}")).collect();
            out.push_str(&format!("\nErrors: {}.\n", list.join(", ")));
        }
        if !s.slo.checks.is_empty() {
            let verdict = if s.slo.pass { "pass" } else { "**FAIL**" };
            out.push_str(&format!("\n### SLO: {verdict}\n\n"));
            for c in &s.slo.checks {
                out.push_str(&format!("- {}\n", describe(c)));
            }
        }
        Ok(out)
    }
}
