//! Renders a [`Comparison`] as a terminal table, Markdown (a pull-request comment: the verdict,
//! the changed metrics, then every metric folded away) or JSON.

use comfy_table::{presets, CellAlignment, ContentArrangement, Table};

use crate::compare::{Comparison, Design, MetricDelta, ScopeComparison, Verdict};
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

/// The metric as people read it (the JSON keeps the machine name).
fn label(metric: &str) -> &str {
    match metric {
        "p999" => "p99.9",
        "error_rate" => "error rate",
        "ok_rps" => "successful req/s",
        m => m,
    }
}

fn value(metric: &str, v: f64) -> String {
    match metric {
        "error_rate" => fmt_pct(v),
        "ok_rps" => fmt_rps(v),
        _ => fmt_us(v),
    }
}

fn delta(m: &MetricDelta) -> String {
    let abs = match m.metric {
        "error_rate" => format!("{:+.2}pp", m.delta * 100.0),
        "ok_rps" => format!("{:+.1}/s", m.delta),
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

/// `p=0.003 (8+8 intervals)`, `p<0.001 (5+5 runs)` (the adjusted p-value), or `-` without a
/// test.
fn p_cell(m: &MetricDelta) -> String {
    match &m.significance {
        None => "-".into(),
        Some(s) if s.p_adjusted < 0.001 => format!("p<0.001 ({})", s.sizes()),
        Some(s) => format!("p={:.3} ({})", s.p_adjusted, s.sizes()),
    }
}

fn metric_row(scope: &str, m: &MetricDelta) -> Vec<String> {
    vec![
        scope.to_string(),
        label(m.metric).to_string(),
        value(m.metric, m.base),
        value(m.metric, m.new),
        delta(m),
        p_cell(m),
        m.verdict.as_str().to_string(),
    ]
}

fn scope_row(s: &ScopeComparison) -> Vec<String> {
    let mut row = vec![s.scope.clone()];
    row.extend(std::iter::repeat_n("-".to_string(), 5));
    row.push(s.verdict.as_str().into());
    row
}

/// Every metric (`changed_only`: only the failing, improved, missing and new ones).
fn rows(c: &Comparison, changed_only: bool) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for s in &c.scopes {
        if s.metrics.is_empty() {
            rows.push(scope_row(s));
        }
        for m in &s.metrics {
            let changed = !matches!(m.verdict, Verdict::Unchanged | Verdict::TooFewSamples);
            if changed || !changed_only {
                rows.push(metric_row(&s.scope, m));
            }
        }
    }
    rows
}

const HEADER: [&str; 7] = [
    "scope", "metric", "base", "new", "delta", "p (n)", "verdict",
];

/// The method in one line: samples, test, alpha, adjustment.
fn method(c: &Comparison) -> String {
    match c.tests {
        0 => format!(
            "{}; no metric had enough samples to be tested, so none can regress",
            design(c)
        ),
        1 => format!("{}; one metric tested", design(c)),
        n => format!(
            "{}; p-values adjusted for the {n} metrics tested (Hochberg), so alpha bounds \
             the chance of any false alarm",
            design(c)
        ),
    }
}

fn design(c: &Comparison) -> String {
    let alpha = c.tolerance.alpha;
    match c.design {
        Design::Intervals => format!(
            "1 run per side; samples: the runs' 1 s intervals (an action's error rate and \
             successful req/s: its request counts); Mann–Whitney U (Fisher's exact, binomial \
             for counts), two-sided, alpha {alpha}"
        ),
        Design::Runs => format!(
            "{} base and {} new runs; samples: one value per run; Mann–Whitney U, two-sided, \
             alpha {alpha}; base/new are medians over the runs",
            c.base_runs, c.new_runs
        ),
        Design::Paired => format!(
            "{} interleaved rounds (A = base, B = new); samples: per-round differences B - A \
             (of logarithms for latency and req/s); Wilcoxon signed-rank, two-sided, alpha \
             {alpha}; base/new are medians over the rounds",
            c.base_runs
        ),
    }
}

fn rule(c: &Comparison) -> String {
    let t = &c.tolerance;
    format!(
        "a metric regresses when its change is significant (p < {}) AND beyond {:.1}% AND \
         beyond {} (latency) or {} (error rate); `~`: no significant change beyond tolerance; \
         a percentile p is gated with at least {} / (1 - p) samples in every run",
        t.alpha,
        t.max_regression * 100.0,
        fmt_us(t.min_delta_us),
        fmt_pct(t.min_error_delta),
        t.min_tail_samples
    )
}

fn verdict_line(c: &Comparison) -> String {
    let metric_failed = c.scopes.iter().any(|s| s.verdict.fails());
    match (c.pass, metric_failed) {
        (true, _) => "PASS".into(),
        (false, true) => "FAIL: significant regression beyond tolerance".into(),
        (false, false) => "FAIL: the new runs were saturated where the base was not".into(),
    }
}

/// The saturated runs of each side in words, when there are any.
fn saturation_line(c: &Comparison) -> Option<String> {
    let s = &c.saturated;
    (s.base + s.new > 0).then(|| {
        format!(
            "saturated runs: base {} of {}, new {} of {} -> {}{}",
            s.base,
            c.base_runs,
            s.new,
            c.new_runs,
            s.verdict.as_str(),
            if s.verdict == Verdict::Regressed {
                " (the new runs could not carry the load the base carried; their percentiles \
                 cover only the requests that got through)"
            } else {
                ""
            }
        )
    })
}

fn footer(c: &Comparison) -> String {
    let mut out = String::new();
    for w in &c.warnings {
        out.push_str(&format!("warning: {w}\n"));
    }
    if let Some(line) = saturation_line(c) {
        out.push_str(&line);
        out.push('\n');
    }
    out.push_str("successful req/s (ok_rps): (requests - errors) / duration\n");
    out.push_str(&format!("method: {}\n", method(c)));
    out.push_str(&format!("rule: {}\n", rule(c)));
    out.push_str(&format!("verdict: {}\n", verdict_line(c)));
    out
}

/// The headline of the Markdown comment: verdict and counts.
fn headline(c: &Comparison) -> String {
    let count = |v: Verdict| {
        c.scopes
            .iter()
            .flat_map(|s| s.metrics.iter().map(|m| m.verdict))
            .chain(
                c.scopes
                    .iter()
                    .filter(|s| s.metrics.is_empty())
                    .map(|s| s.verdict),
            )
            .filter(|x| *x == v)
            .count()
    };
    let (regressed, missing, improved) = (
        count(Verdict::Regressed),
        count(Verdict::Missing),
        count(Verdict::Improved),
    );
    let mut parts = Vec::new();
    if regressed > 0 {
        parts.push(format!("{regressed} regressed"));
    }
    if missing > 0 {
        parts.push(format!("{missing} missing"));
    }
    if improved > 0 {
        parts.push(format!("{improved} improved"));
    }
    if c.saturated.verdict == Verdict::Regressed {
        parts.push("new runs saturated".to_string());
    }
    let mark = if c.pass { "✅ PASS" } else { "❌ FAIL" };
    if parts.is_empty() {
        format!("{mark}: no significant change")
    } else {
        format!("{mark}: {}", parts.join(", "))
    }
}

fn markdown(c: &Comparison) -> String {
    let header = HEADER.map(String::from);
    let mut out = format!(
        "### napkin compare: {} — {}\n\n",
        c.new_scenario,
        headline(c)
    );
    for w in &c.warnings {
        out.push_str(&format!("> **warning:** {w}\n\n"));
    }
    if let Some(line) = saturation_line(c) {
        out.push_str(&format!("> **{line}**\n\n"));
    }
    let changed = rows(c, true);
    if !changed.is_empty() {
        out.push_str(&md_table(&header, &changed));
        out.push('\n');
    }
    let all = rows(c, false);
    out.push_str(&format!(
        "<details><summary>All metrics ({})</summary>\n\n",
        all.len()
    ));
    out.push_str(&md_table(&header, &all));
    out.push_str("\n</details>\n\n");
    out.push_str(&format!(
        "Method: {}. Rule: {}. Successful req/s (`ok_rps`) = (requests - errors) / duration.\n",
        method(c),
        rule(c)
    ));
    out
}

/// Renders `c` in `format`.
pub fn render_comparison(c: &Comparison, format: CompareFormat) -> Result<String, ReportError> {
    match format {
        CompareFormat::Json => {
            let mut text = serde_json::to_string_pretty(c)
                .map_err(|e| ReportError::Invalid(format!("cannot encode comparison: {e}")))?;
            text.push('\n');
            Ok(text)
        }
        CompareFormat::Markdown => Ok(markdown(c)),
        CompareFormat::Table => {
            let mut t = Table::new();
            t.load_preset(presets::UTF8_FULL_CONDENSED)
                .set_content_arrangement(ContentArrangement::Disabled)
                .set_header(HEADER.to_vec());
            for r in rows(c, false) {
                t.add_row(r);
            }
            for i in 2..6 {
                if let Some(col) = t.column_mut(i) {
                    col.set_cell_alignment(CellAlignment::Right);
                }
            }
            Ok(format!("{t}\n{}", footer(c)))
        }
    }
}
