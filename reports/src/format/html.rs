//! `--format html`: one self-contained page (inline CSS and SVG, no script, no external URL):
//! summary and percentile tables, SLO checks, errors, the run's settings, and charts of the
//! latency percentile distribution, p50/p99 and throughput over time, and errors over time.

use std::fmt::Write as _;

use super::charts::{percentile_chart, time_chart};
use super::{headline, Exporter, View};
use crate::error::ReportError;
use crate::run::RunResult;
use crate::slo::describe;
use crate::summary::{error_breakdown, latency_histogram, Summary, LADDER_LABELS, SUMMARY_HEADERS};
use crate::units::{fmt_count, fmt_pct, fmt_rps};

pub struct Html;

pub(crate) const STYLE: &str = "body{font-family:sans-serif;margin:2em;color:#222;max-width:960px}\
table{border-collapse:collapse;margin:.5em 0 1.5em}th,td{border:1px solid #ccc;padding:.25em .6em}\
td.n{text-align:right;font-variant-numeric:tabular-nums}th{background:#f3f3f3}\
.pass{color:#1a7f37}.fail{color:#cf222e;font-weight:bold}figure{margin:1em 0}";

/// Escapes text for HTML element content and attribute values.
pub(crate) fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub(crate) fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    table_aligned(header, rows, true)
}

/// A table; with `numeric`, every column but the first is right-aligned.
fn table_aligned(header: &[&str], rows: &[Vec<String>], numeric: bool) -> String {
    let mut out = String::from("<table><tr>");
    for h in header {
        let _ = write!(out, "<th>{}</th>", esc(h));
    }
    out.push_str("</tr>\n");
    for r in rows {
        out.push_str("<tr>");
        for (i, c) in r.iter().enumerate() {
            let class = if i == 0 || !numeric {
                ""
            } else {
                " class=\"n\""
            };
            let _ = write!(out, "<td{class}>{}</td>", esc(c));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
    out
}

impl Exporter for Html {
    fn render(&self, run: &RunResult, view: &View) -> Result<String, ReportError> {
        let s = Summary::of(run, view.action.as_deref())?;
        let title = format!("napkin run: {}", s.scenario);
        let mut out = format!(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <title>{}</title><style>{STYLE}</style></head><body>\n<h1>{}</h1>\n\
             <p>Target <code>{}</code>, started {}.<br>{}.</p>\n",
            esc(&title),
            esc(&title),
            esc(&s.target),
            esc(&s.started_at),
            esc(&headline(&s))
        );
        out.push_str(&slo_section(&s));
        out.push_str("<h2>Summary</h2>\n");
        out.push_str(&summary_tables(&s));
        out.push_str(&charts(run, &s)?);
        out.push_str(&errors_and_settings(&s));
        out.push_str("</body></html>\n");
        Ok(out)
    }
}

fn slo_section(s: &Summary) -> String {
    if s.slo.checks.is_empty() {
        return String::new();
    }
    let (class, verdict) = if s.slo.pass {
        ("pass", "pass")
    } else {
        ("fail", "FAIL")
    };
    let mut out = format!("<h2>SLO: <span class=\"{class}\">{verdict}</span></h2>\n<ul>\n");
    for c in &s.slo.checks {
        let class = if c.pass { "pass" } else { "fail" };
        let _ = writeln!(out, "<li class=\"{class}\">{}</li>", esc(&describe(c)));
    }
    out.push_str("</ul>\n");
    out
}

fn summary_tables(s: &Summary) -> String {
    let rows: Vec<Vec<String>> = s.scopes.iter().map(|sc| sc.summary_cells()).collect();
    let mut out = table(&SUMMARY_HEADERS, &rows);
    out.push_str("<h3>Latency from intended send time (coordinated-omission corrected)</h3>\n");
    let ladder = |service: bool| -> Vec<Vec<String>> {
        s.scopes
            .iter()
            .map(|sc| {
                let l = if service {
                    &sc.service_us
                } else {
                    &sc.latency_us
                };
                std::iter::once(sc.name.clone())
                    .chain(l.step_cells())
                    .collect()
            })
            .collect()
    };
    let header: Vec<&str> = std::iter::once("scope").chain(LADDER_LABELS).collect();
    out.push_str(&table(&header, &ladder(false)));
    out.push_str("<h3>Service time from actual send</h3>\n");
    out.push_str(&table(&header, &ladder(true)));
    out
}

fn charts(run: &RunResult, s: &Summary) -> Result<String, ReportError> {
    let mut hists = Vec::new();
    for sc in &s.scopes {
        let scope = crate::slo::scope_of(run, &sc.name).unwrap_or(&run.all);
        hists.push((sc.name.clone(), latency_histogram(&sc.name, scope)?));
    }
    let t = |f: fn(&crate::run::TimelinePoint) -> f64| -> Vec<(f64, f64)> {
        s.timeline.iter().map(|p| (p.t_s as f64, f(p))).collect()
    };
    let latency = [
        ("p50".to_string(), t(|p| p.p50_us as f64 / 1000.0)),
        ("p99".to_string(), t(|p| p.p99_us as f64 / 1000.0)),
    ];
    let figures = [
        percentile_chart(&hists)?,
        time_chart("Latency over time (all)", "latency (ms)", &latency)?,
        time_chart(
            "Throughput over time (all)",
            "requests/s",
            &[("requests".to_string(), t(|p| p.requests as f64))],
        )?,
        time_chart(
            "Errors over time (all)",
            "errors/s",
            &[("errors".to_string(), t(|p| p.errors as f64))],
        )?,
    ];
    let mut out = String::from("<h2>Charts</h2>\n");
    for svg in figures {
        let _ = writeln!(out, "<figure>{svg}</figure>");
    }
    Ok(out)
}

fn errors_and_settings(s: &Summary) -> String {
    let mut out = String::new();
    let kinds = error_breakdown(&s.errors);
    if !kinds.is_empty() {
        out.push_str("<h2>Errors</h2>\n");
        let rows: Vec<Vec<String>> = kinds
            .iter()
            .map(|(k, v)| vec![k.clone(), fmt_count(*v)])
            .collect();
        out.push_str(&table(&["kind", "count"], &rows));
    }
    let st = &s.settings;
    let opt = |v: Option<String>| v.unwrap_or_else(|| "-".to_string());
    let mut rows = vec![
        vec!["scenario".into(), s.scenario.clone()],
        vec!["scenario file".into(), opt(st.scenario_file.clone())],
        vec!["target".into(), s.target.clone()],
        vec!["model".into(), s.model.clone()],
        vec!["arrivals".into(), s.arrivals.clone()],
        vec!["target rate".into(), opt(s.target_rps.map(fmt_rps))],
        vec!["duration".into(), format!("{:.1} s", s.duration_s)],
        vec!["warm-up".into(), format!("{:.1} s", st.warmup_s)],
        vec!["timeout".into(), format!("{:.1} s", st.timeout_s)],
        vec![
            "connections".into(),
            opt(st.connections.map(|c| c.to_string())),
        ],
        vec![
            "concurrency".into(),
            opt(st.concurrency.map(|c| c.to_string())),
        ],
        vec!["seed".into(), opt(st.seed.map(|c| c.to_string()))],
        vec!["late sends (> 1 ms)".into(), fmt_count(st.late)],
        vec!["deferred turns".into(), fmt_count(st.deferred)],
    ];
    for (action, share) in &st.mix {
        rows.push(vec![format!("mix: {action}"), fmt_pct(*share)]);
    }
    out.push_str("<h2>Settings</h2>\n");
    out.push_str(&table_aligned(&["setting", "value"], &rows, false));
    out
}
