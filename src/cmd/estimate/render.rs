//! Table and markdown rendering of estimates with human units. Per-action tables come one per
//! scenario; totals and assumptions have one column per scenario so files compare side by side.

use comfy_table::{presets, CellAlignment, Table};
use estimator::{human, Estimate, Scenario};

/// Renders every scenario's actions, then the totals and the assumptions side by side.
pub fn render(runs: &[(Scenario, Estimate)], markdown: bool) -> String {
    let mut s = String::new();
    for (scenario, est) in runs {
        let title = match &scenario.description {
            Some(d) => format!("{}: {d}", scenario.name),
            None => scenario.name.clone(),
        };
        heading(&mut s, &format!("Actions of {title}"), markdown);
        s += &actions(est, markdown).to_string();
        s += "\n\n";
    }
    heading(&mut s, "Totals (averages unless marked peak)", markdown);
    s += &side_by_side(runs, &totals_rows(), markdown).to_string();
    s += "\n\n";
    for (scenario, est) in runs.iter().filter(|(_, e)| !e.regions.is_empty()) {
        heading(
            &mut s,
            &format!("App servers of {} by region (peak)", scenario.name),
            markdown,
        );
        s += &regions(scenario, est, markdown).to_string();
        s += "\n\n";
    }
    heading(&mut s, "Assumptions", markdown);
    s += &side_by_side(runs, &assumption_rows(), markdown).to_string();
    s.push('\n');
    s += &hot_keys(runs, markdown);
    s
}

fn heading(s: &mut String, title: &str, markdown: bool) {
    if markdown {
        s.push_str(&format!("### {title}\n\n"));
    } else {
        s.push_str(&format!("{title}\n"));
    }
}

fn new_table(header: Vec<String>, markdown: bool) -> Table {
    let mut t = Table::new();
    t.load_preset(if markdown {
        presets::ASCII_MARKDOWN
    } else {
        presets::UTF8_FULL_CONDENSED
    });
    t.set_header(header);
    t
}

fn right_align(t: &mut Table, from: usize) {
    let n = t.column_count();
    for i in from..n {
        if let Some(c) = t.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
}

fn actions(est: &Estimate, markdown: bool) -> Table {
    let header = [
        "action",
        "kind",
        "requests",
        "avg rate",
        "peak rate",
        "ingress",
        "egress",
        "stored",
    ];
    let mut t = new_table(header.iter().map(|h| h.to_string()).collect(), markdown);
    for a in &est.actions {
        t.add_row(vec![
            a.name.clone(),
            a.kind.as_str().to_string(),
            human::count_per(a.requests_per_day, "day"),
            human::rate(a.avg_rps),
            human::rate(a.peak_rps),
            human::bytes_per_sec(a.ingress_bytes_per_sec),
            human::bytes_per_sec(a.egress_bytes_per_sec),
            human::bytes_per_day(a.stored_bytes_per_day),
        ]);
    }
    right_align(&mut t, 2);
    t
}

fn regions(scenario: &Scenario, est: &Estimate, markdown: bool) -> Table {
    let header = [
        "region",
        "share",
        "peak rate",
        "app servers",
        "of which spare (N+k)",
    ];
    let mut t = new_table(header.iter().map(|h| h.to_string()).collect(), markdown);
    for r in &est.regions {
        let spare = scenario
            .regions
            .iter()
            .find(|x| x.name == r.name)
            .and_then(|x| x.redundancy)
            .unwrap_or(scenario.capacity.redundancy);
        t.add_row(vec![
            r.name.clone(),
            format!("{:.1}%", r.share * 100.0),
            human::rate(r.peak_rps),
            human::integer(r.app),
            format!("+{spare}"),
        ]);
    }
    right_align(&mut t, 1);
    t
}

/// The rate per app server and where it came from: the scenario, or a measured capacity.
fn rate_per_server(s: &Scenario, e: &Estimate) -> String {
    let Some(rps) = s.capacity.rps_per_server else {
        return "-".to_string();
    };
    match &e.capacity_source {
        None => format!("{} (capacity.rps_per_server)", human::rate(rps)),
        Some(c) => format!(
            "{} measured by napkin capacity ({}, SLO {}{})",
            human::rate(rps),
            c.file,
            c.slo,
            c.measured_at
                .as_deref()
                .map(|t| format!(", {t}"))
                .unwrap_or_default()
        ),
    }
}

/// A row label and how to render it for one scenario.
type Row = (&'static str, fn(&Scenario, &Estimate) -> String);

fn side_by_side(runs: &[(Scenario, Estimate)], rows: &[Row], markdown: bool) -> Table {
    let mut header = vec![String::new()];
    header.extend(runs.iter().map(|(s, _)| s.name.clone()));
    let mut t = new_table(header, markdown);
    for (label, cell) in rows {
        let mut row = vec![label.to_string()];
        row.extend(runs.iter().map(|(s, e)| cell(s, e)));
        t.add_row(row);
    }
    right_align(&mut t, 1);
    t
}

fn or_dash(x: Option<String>) -> String {
    x.unwrap_or_else(|| "-".to_string())
}

fn totals_rows() -> Vec<Row> {
    vec![
        ("requests", |_, e| {
            human::count_per(e.totals.requests_per_day, "day")
        }),
        ("avg rate", |_, e| human::rate(e.totals.avg_rps)),
        ("peak rate", |_, e| human::rate(e.totals.peak_rps)),
        ("read rate", |_, e| human::rate(e.totals.read_rps)),
        ("write rate", |_, e| human::rate(e.totals.write_rps)),
        ("ingress", |_, e| {
            human::bytes_per_sec(e.totals.ingress_bytes_per_sec)
        }),
        ("egress", |_, e| {
            human::bytes_per_sec(e.totals.egress_bytes_per_sec)
        }),
        ("peak ingress", |_, e| {
            human::bytes_per_sec(e.totals.peak_ingress_bytes_per_sec)
        }),
        ("peak egress", |_, e| {
            human::bytes_per_sec(e.totals.peak_egress_bytes_per_sec)
        }),
        ("stored", |_, e| {
            human::bytes_per_day(e.totals.stored_bytes_per_day)
        }),
        ("storage over retention", |_, e| {
            human::bytes(e.totals.storage_bytes)
        }),
        ("cache", |_, e| human::bytes(e.totals.cache_bytes)),
        ("app servers (peak)", |_, e| {
            or_dash(e.servers.app.map(human::integer))
        }),
        ("storage servers", |_, e| {
            or_dash(e.servers.storage.map(human::integer))
        }),
        ("cache servers", |_, e| {
            or_dash(e.servers.cache.map(human::integer))
        }),
    ]
}

fn cache_policy(s: &Scenario) -> String {
    let mut parts = Vec::new();
    if let Some(h) = s.cache.hot_fraction {
        parts.push(format!("{} of daily read egress", human::percent(h)));
    }
    if let Some(r) = s.cache.recent {
        parts.push(format!("{} of stored bytes", human::duration(r)));
    }
    if parts.is_empty() {
        "none".to_string()
    } else {
        parts.join(" + ")
    }
}

fn assumption_rows() -> Vec<Row> {
    vec![
        ("daily active users", |s, _| {
            or_dash(s.daily_active_users.map(human::count))
        }),
        ("peak factor", |s, _| human::factor(s.peak_factor)),
        ("retention", |s, _| human::duration(s.storage.retention)),
        ("replication", |s, _| human::factor(s.storage.replication)),
        ("max fill", |s, _| human::percent(s.storage.max_fill)),
        ("cache policy", |s, _| cache_policy(s)),
        ("rate per app server", rate_per_server),
        ("app utilization", |s, _| {
            human::percent(s.capacity.utilization)
        }),
        ("app redundancy (N+k)", |s, _| {
            format!("+{} per region", s.capacity.redundancy)
        }),
        ("storage per server", |s, _| {
            or_dash(
                s.capacity
                    .storage_per_server
                    .map(|b| human::bytes(b as f64)),
            )
        }),
        ("memory per server", |s, _| {
            or_dash(s.capacity.memory_per_server.map(|b| human::bytes(b as f64)))
        }),
        ("file", |s, _| {
            or_dash(s.source.as_ref().map(|p| p.display().to_string()))
        }),
    ]
}

/// "Hot keys": per Zipf key space of `load.keys`, the share of requests to the hottest keys
/// and the hit ratio of a cache holding the hottest k keys (estimator::hotkeys); empty when
/// no scenario has a Zipf key space.
fn hot_keys(runs: &[(Scenario, Estimate)], markdown: bool) -> String {
    let header = [
        "scenario",
        "key space",
        "keys",
        "zipf exponent",
        "hottest 1%",
        "hottest 10%",
        "hottest 20%",
        "cache holds",
        "predicted hit ratio",
    ];
    let mut t = new_table(header.iter().map(|h| h.to_string()).collect(), markdown);
    for (scenario, est) in runs {
        for h in estimator::hotkeys::hot_keys(scenario, est) {
            let holds = match (h.cache_keys, h.cache_fraction) {
                (Some(k), Some(f)) => format!("{} keys ({})", human::integer(k), human::percent(f)),
                _ => "no cache".to_string(),
            };
            t.add_row(vec![
                scenario.name.clone(),
                h.name,
                human::integer(h.keys),
                format!("{}", h.exponent),
                human::percent(h.top_1),
                human::percent(h.top_10),
                human::percent(h.top_20),
                holds,
                or_dash(h.hit_ratio.map(human::percent)),
            ]);
        }
    }
    if t.row_count() == 0 {
        return String::new();
    }
    right_align(&mut t, 2);
    let mut s = String::from("\n");
    heading(
        &mut s,
        "Hot keys (share of requests to the hottest keys; cache = its share of the stored data)",
        markdown,
    );
    s += &t.to_string();
    s.push('\n');
    s
}
