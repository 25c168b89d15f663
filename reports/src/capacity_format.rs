//! Renders a capacity result (`napkin report capacity.json`, and the end of `napkin capacity`)
//! as a terminal table, Markdown, JSON or a self-contained HTML page whose charts show where
//! the knee is: latency percentiles against the offered rate with the SLO limit and the found
//! maximum marked, achieved against offered (the plateau), and for a concurrency sweep the
//! measured throughput with the fitted Universal Scalability Law curve and its N_max.

use std::fmt::Write as _;

use comfy_table::{presets, CellAlignment, Table};

use crate::capacity::{CapacityResult, CapacityStep};
use crate::error::ReportError;
use crate::format::charts::{xy_chart, Marker, XyChart};
use crate::format::html::esc;
use crate::format::{md_table, Format};
use crate::units::{fmt_count, fmt_rps, fmt_us};

/// Renders `c` in `format` (`hgrm` is for run files only).
pub fn render_capacity(c: &CapacityResult, format: Format) -> Result<String, ReportError> {
    match format {
        Format::Table => Ok(table(c)),
        Format::Markdown => Ok(markdown(c)),
        Format::Json => serde_json::to_string_pretty(c)
            .map(|mut s| {
                s.push('\n');
                s
            })
            .map_err(|e| ReportError::Invalid(format!("serialising the capacity result: {e}"))),
        Format::Html => html(c),
        Format::Hgrm => Err(ReportError::Invalid(
            "a capacity result has no single histogram: use --format table, markdown, json or \
             html (hgrm renders a run file)"
                .into(),
        )),
    }
}

/// Steps in the order they ran (sweeps: by concurrency).
fn header(c: &CapacityResult) -> Vec<&'static str> {
    if c.model == "closed" {
        vec![
            "step",
            "users",
            "throughput",
            "p50",
            "p99",
            "p99.9",
            "errors",
            "verdict",
        ]
    } else {
        vec![
            "step", "phase", "offered", "achieved", "p50", "p99", "p99.9", "errors", "dropped",
            "verdict",
        ]
    }
}

fn verdict(s: &CapacityStep) -> String {
    if s.pass {
        "pass".into()
    } else if s.saturated && s.checks.iter().all(|c| c.pass || c.metric == "saturated") {
        "FAIL (saturated)".into()
    } else {
        "FAIL".into()
    }
}

fn rows(c: &CapacityResult) -> Vec<Vec<String>> {
    c.steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let l = &s.latency_us;
            let mut row = vec![(i + 1).to_string()];
            if c.model == "closed" {
                row.push(s.concurrency.map(|n| n.to_string()).unwrap_or_default());
                row.push(fmt_rps(s.ok_rps));
            } else {
                row.push(s.phase.clone());
                row.push(fmt_rps(s.offered_rps));
                row.push(fmt_rps(s.achieved_rps));
            }
            row.push(fmt_us(l.p50 as f64));
            row.push(fmt_us(l.p99 as f64));
            row.push(fmt_us(l.p999 as f64));
            row.push(fmt_count(s.errors));
            if c.model != "closed" {
                row.push(fmt_count(s.dropped));
            }
            row.push(verdict(s));
            row
        })
        .collect()
}

/// The closing lines: the result, what limited it, the bottleneck, the fit.
pub fn conclusion(c: &CapacityResult) -> Vec<String> {
    let mut lines = Vec::new();
    match c.max_rps {
        Some(max) if c.model == "closed" => lines.push(format!(
            "max throughput within the SLO: {} (closed model)",
            fmt_rps(max)
        )),
        Some(max) => lines.push(format!("max_rps: {} within the SLO", fmt_rps(max))),
        None => lines.push("max_rps: none: no step met the SLO".into()),
    }
    lines.push(format!("limited by: {}", c.limited_by));
    if let Some(b) = &c.bottleneck {
        lines.push(format!("bottleneck: {b}"));
    }
    if let Some(f) = &c.usl {
        let peak = match (f.n_max, f.x_max) {
            (Some(n), Some(x)) => format!("N_max = {n:.1}, X_max = {}", fmt_rps(x)),
            _ => "no peak (kappa = 0)".to_string(),
        };
        lines.push(format!(
            "USL: sigma = {:.4}, kappa = {:.6}, lambda = {}, {peak}, R² = {:.4} over {} points",
            f.sigma,
            f.kappa,
            fmt_rps(f.lambda),
            f.r_squared,
            f.points
        ));
        if !f.bound.is_empty() {
            lines.push(format!(
                "USL: {} held at its bound 0 (the data pulled it below 0: superlinear scaling or noise)",
                f.bound.join(" and ")
            ));
        }
    }
    lines
}

fn table(c: &CapacityResult) -> String {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED)
        .set_header(header(c));
    for r in rows(c) {
        t.add_row(r);
    }
    for i in 1..t.column_count() {
        if let Some(col) = t.column_mut(i) {
            col.set_cell_alignment(CellAlignment::Right);
        }
    }
    let mut out = format!(
        "napkin capacity: {} -> {} ({} model{})\nSLO: {}\n{t}\n",
        c.scenario,
        c.target,
        c.model,
        measured(c),
        c.slo
    );
    for line in conclusion(c) {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

fn measured(c: &CapacityResult) -> String {
    if c.measured_at.is_empty() {
        String::new()
    } else {
        format!(", measured {}", c.measured_at)
    }
}

fn markdown(c: &CapacityResult) -> String {
    let header: Vec<String> = header(c).into_iter().map(String::from).collect();
    let mut out = format!(
        "## napkin capacity: {}\n\nTarget `{}`, {} model{}. SLO: `{}`.\n\n",
        c.scenario,
        c.target,
        c.model,
        measured(c),
        c.slo
    );
    out.push_str(&md_table(&header, &rows(c)));
    out.push('\n');
    for line in conclusion(c) {
        let _ = writeln!(out, "- {line}");
    }
    out
}

fn html(c: &CapacityResult) -> Result<String, ReportError> {
    let title = format!("napkin capacity: {}", c.scenario);
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\
         <style>{}</style></head><body>\n<h1>{}</h1>\n<p>Target <code>{}</code>, {} model{}. \
         SLO: <code>{}</code>.</p>\n<ul>\n",
        esc(&title),
        crate::format::html::STYLE,
        esc(&title),
        esc(&c.target),
        esc(&c.model),
        esc(&measured(c)),
        esc(&c.slo)
    );
    for line in conclusion(c) {
        let _ = writeln!(out, "<li>{}</li>", esc(&line));
    }
    out.push_str("</ul>\n<h2>Charts</h2>\n");
    for svg in charts(c)? {
        let _ = writeln!(out, "<figure>{svg}</figure>");
    }
    out.push_str("<h2>Steps</h2>\n");
    let header = header(c);
    out.push_str(&crate::format::html::table(&header, &rows(c)));
    out.push_str("</body></html>\n");
    Ok(out)
}

/// The latency limits of the SLO string's `all` scope, in ms (for the chart's SLO line).
fn latency_limits_ms(c: &CapacityResult) -> Vec<Marker> {
    let Some(step) = c.steps.first() else {
        return Vec::new();
    };
    step.checks
        .iter()
        .filter(|k| k.scope == "all" && ["p50", "p90", "p99", "p999"].contains(&k.metric.as_str()))
        .map(|k| Marker {
            label: format!("SLO {} {}", k.metric, fmt_us(k.limit)),
            at: k.limit / 1000.0,
        })
        .collect()
}

fn charts(c: &CapacityResult) -> Result<Vec<String>, ReportError> {
    let mut steps: Vec<&CapacityStep> = c.steps.iter().collect();
    if c.model == "closed" {
        return sweep_charts(c, &steps);
    }
    steps.sort_by(|a, b| a.offered_rps.total_cmp(&b.offered_rps));
    let line = |f: fn(&CapacityStep) -> f64| -> Vec<(f64, f64)> {
        steps.iter().map(|s| (s.offered_rps, f(s))).collect()
    };
    let knee: Vec<Marker> = c
        .max_rps
        .map(|m| Marker {
            label: format!("knee {}", fmt_rps(m)),
            at: m,
        })
        .into_iter()
        .collect();
    let p99_where = |pass: bool| -> Vec<(f64, f64)> {
        steps
            .iter()
            .filter(|s| s.pass == pass)
            .map(|s| (s.offered_rps, s.latency_us.p99 as f64 / 1000.0))
            .collect()
    };
    let latency = XyChart {
        title: "Latency against offered rate".into(),
        x_desc: "offered (requests/s)".into(),
        y_desc: "latency (ms)".into(),
        lines: vec![
            ("p50".into(), line(|s| s.latency_us.p50 as f64 / 1000.0)),
            ("p99".into(), line(|s| s.latency_us.p99 as f64 / 1000.0)),
            ("p99.9".into(), line(|s| s.latency_us.p999 as f64 / 1000.0)),
        ],
        points: vec![
            ("step passed (p99)".into(), p99_where(true)),
            ("step failed (p99)".into(), p99_where(false)),
        ],
        vertical: knee.clone(),
        horizontal: latency_limits_ms(c),
    };
    let offered: Vec<(f64, f64)> = steps
        .iter()
        .map(|s| (s.offered_rps, s.offered_rps))
        .collect();
    let plateau = XyChart {
        title: "Achieved against offered rate".into(),
        x_desc: "offered (requests/s)".into(),
        y_desc: "achieved (requests/s)".into(),
        lines: vec![
            ("achieved".into(), line(|s| s.achieved_rps)),
            ("offered (achieved = offered)".into(), offered),
        ],
        vertical: knee,
        ..XyChart::default()
    };
    Ok(vec![xy_chart(&latency)?, xy_chart(&plateau)?])
}

fn sweep_charts(c: &CapacityResult, steps: &[&CapacityStep]) -> Result<Vec<String>, ReportError> {
    let measured: Vec<(f64, f64)> = steps
        .iter()
        .filter_map(|s| Some((f64::from(s.concurrency?), s.ok_rps)))
        .collect();
    let top = measured.iter().map(|p| p.0).fold(1.0, f64::max);
    let mut chart = XyChart {
        title: "Throughput against concurrency".into(),
        x_desc: "concurrency (users)".into(),
        y_desc: "throughput (successful requests/s)".into(),
        points: vec![("measured".into(), measured)],
        ..XyChart::default()
    };
    if let Some(f) = &c.usl {
        let end = f.n_max.map_or(top, |n| n.max(top)).min(top * 2.0) * 1.1;
        let curve = (0..=200)
            .map(|i| {
                let n = 1.0 + (end - 1.0) * f64::from(i) / 200.0;
                (n, f.throughput(n))
            })
            .collect();
        chart.lines.push(("USL fit".into(), curve));
        if let Some(n) = f.n_max.filter(|n| *n <= end) {
            chart.vertical.push(Marker {
                label: format!("N_max {n:.1}"),
                at: n,
            });
        }
    }
    Ok(vec![xy_chart(&chart)?])
}
