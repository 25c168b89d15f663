//! Snapshot tests of every text format on the constructed sample run, plus the properties the
//! snapshots cannot show: the HTML page is self-contained and its SVGs parse; the hgrm agrees
//! with the histogram.

use reports::fixture::sample_run;
use reports::format::{render, Format, View};

fn view(action: Option<&str>) -> View {
    View {
        action: action.map(String::from),
    }
}

#[test]
fn table_snapshot() {
    insta::assert_snapshot!(render(&sample_run(), Format::Table, &view(None)).unwrap());
}

#[test]
fn markdown_snapshot() {
    insta::assert_snapshot!(render(&sample_run(), Format::Markdown, &view(None)).unwrap());
}

#[test]
fn json_snapshot_has_no_histograms() {
    let text = render(&sample_run(), Format::Json, &view(None)).unwrap();
    assert!(!text.contains("HISTF"));
    insta::assert_snapshot!(text);
}

#[test]
fn hgrm_snapshot() {
    insta::assert_snapshot!(
        render(&sample_run(), Format::Hgrm, &view(Some("post_tweet"))).unwrap()
    );
}

#[test]
fn action_filter_keeps_all_and_that_action() {
    let text = render(&sample_run(), Format::Markdown, &view(Some("post_tweet"))).unwrap();
    assert!(text.contains("`post_tweet`") && text.contains("`all`"));
    assert!(!text.contains("view_timeline"));
    let err = render(&sample_run(), Format::Table, &view(Some("nope"))).unwrap_err();
    assert!(
        err.to_string().contains("post_tweet, view_timeline"),
        "{err}"
    );
}

#[test]
fn html_is_self_contained_and_every_svg_parses() {
    let html = render(&sample_run(), Format::Html, &view(None)).unwrap();
    // No URL other than the SVG namespace (the load target is shown as text, not fetched).
    assert_eq!(
        html.matches("<code>http://127.0.0.1:8080</code>").count(),
        1
    );
    let stripped = html
        .replace("xmlns=\"http://www.w3.org/2000/svg\"", "")
        .replace("<code>http://127.0.0.1:8080</code>", "")
        .replace(">http://127.0.0.1:8080</td>", "");
    for scheme in [
        "http://", "https://", "//", "src=", "href=", "url(", "<script", "<link", "@import",
    ] {
        assert!(
            !stripped.contains(scheme),
            "found {scheme:?} in the HTML report"
        );
    }
    let svgs: Vec<&str> = html
        .match_indices("<svg")
        .map(|(i, _)| {
            let end = html[i..].find("</svg>").expect("closed svg") + i + "</svg>".len();
            &html[i..end]
        })
        .collect();
    assert_eq!(
        svgs.len(),
        4,
        "percentile, latency, throughput and error charts"
    );
    for svg in &svgs {
        let mut reader = quick_xml::Reader::from_str(svg);
        let mut elements = 0;
        loop {
            match reader.read_event() {
                Ok(quick_xml::events::Event::Eof) => break,
                Ok(quick_xml::events::Event::Start(_) | quick_xml::events::Event::Empty(_)) => {
                    elements += 1
                }
                Ok(_) => {}
                Err(e) => panic!("SVG does not parse: {e}\n{svg}"),
            }
        }
        assert!(elements > 10, "a real chart has many elements");
    }
    assert!(html.contains("Latency by percentile") && html.contains("99.9%"));
    assert!(html.contains("post_tweet error_rate = 0.50% (limit &lt;= 0.10%): FAIL"));
    assert!(html.contains("<h2>Settings</h2>") && html.contains("scenarios/twitter.yaml"));
}

#[test]
fn hgrm_agrees_with_the_histogram() {
    let run = sample_run();
    let h = reports::histogram::decode(&run.all.histogram).unwrap();
    let text = render(&run, Format::Hgrm, &view(None)).unwrap();
    let rows: Vec<Vec<f64>> = text
        .lines()
        .skip(2)
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            l.split_whitespace()
                .take(3)
                .map(|x| x.parse().unwrap())
                .collect()
        })
        .collect();
    assert!(rows.len() > 50);
    for r in &rows {
        let (value_ms, q, count) = (r[0], r[1], r[2] as u64);
        let value_us = (value_ms * 1000.0).round() as u64;
        // The count at or below the printed value is the printed total count.
        assert_eq!(h.count_between(0, value_us), count, "row {r:?}");
        assert!(h.value_at_quantile(q) <= value_us, "row {r:?}");
    }
    let last = rows.last().unwrap();
    assert_eq!(last[1], 1.0);
    assert_eq!(last[2] as u64, h.len());
    assert!(text.contains(&format!("Total count    = {:>12}]", h.len())));
}

#[test]
fn a_run_without_requests_renders_in_every_format() {
    let mut run = reports::fixture::build_run("empty", 1, &[]);
    run.timeline.clear();
    for name in Format::NAMES {
        let format = Format::parse(name).unwrap();
        let text = render(&run, format, &view(None)).unwrap();
        assert!(!text.is_empty(), "{name}");
    }
    let hgrm = render(&run, Format::Hgrm, &view(None)).unwrap();
    assert!(hgrm.contains("Total count    =            0]"), "{hgrm}");
}

/// The cells of the row of `scope` in the table's latency ladder.
fn ladder_row(table: &str, scope: &str) -> Vec<String> {
    let ladder = table
        .split("Latency (from intended send time):")
        .nth(1)
        .unwrap();
    let line = ladder
        .lines()
        .find(|l| {
            l.split(['│', '┆'])
                .nth(1)
                .is_some_and(|c| c.trim() == scope)
        })
        .unwrap_or_else(|| panic!("no {scope} row in {ladder}"));
    line.split(['│', '┆'])
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty())
        .collect()
}

#[test]
fn every_format_shows_the_run_files_percentiles() {
    use reports::units::fmt_us;
    let run = sample_run();
    // post_tweet has 1,000 latencies: here value_at_percentile(99.9) (another path) gives a
    // different p99.9 than value_at_quantile(0.999), which wrote run.json's latency_us.p999.
    let pt = &run.actions["post_tweet"];
    let h = reports::histogram::decode(&pt.histogram).unwrap();
    assert_ne!(h.value_at_percentile(99.9), pt.latency_us.p999);
    let table = render(&run, Format::Table, &view(None)).unwrap();
    for (name, scope) in [("all", &run.all), ("post_tweet", pt)] {
        let row = ladder_row(&table, name);
        let l = &scope.latency_us;
        let want: Vec<String> = std::iter::once(name.to_string())
            .chain([l.p50, l.p90, l.p99, l.p999].map(|v| fmt_us(v as f64)))
            .collect();
        assert_eq!(row[..5], want[..], "{table}");
        assert_eq!(row[6], fmt_us(l.max as f64));
    }
    let json: serde_json::Value =
        serde_json::from_str(&render(&run, Format::Json, &view(None)).unwrap()).unwrap();
    let pt_json = &json["scopes"][1];
    assert_eq!(pt_json["name"], "post_tweet");
    assert_eq!(pt_json["latency_us"]["p999"], pt.latency_us.p999);
    assert_eq!(pt_json["service_us"]["p999"], pt.service_us.p999);
    let md = render(&run, Format::Markdown, &view(None)).unwrap();
    assert!(md.contains(&fmt_us(pt.latency_us.p999 as f64)), "{md}");
    let html = render(&run, Format::Html, &view(None)).unwrap();
    assert!(
        html.contains(&format!(
            "<td class=\"n\">{}</td>",
            fmt_us(pt.latency_us.p999 as f64)
        )),
        "{html}"
    );
}

#[test]
fn a_scope_without_latencies_shows_no_percentiles() {
    let run = reports::fixture::unreachable_run(1_000, 10);
    let table = render(&run, Format::Table, &view(None)).unwrap();
    for scope in ["all", "view_timeline"] {
        let row = ladder_row(&table, scope);
        assert_eq!(row[1..], ["-", "-", "-", "-", "-", "-"], "{table}");
    }
    assert!(!table.contains("0us"), "{table}");
    let md = render(&run, Format::Markdown, &view(None)).unwrap();
    assert!(md.contains("| `all` | - | - | - | - | - | - |"), "{md}");
    let html = render(&run, Format::Html, &view(None)).unwrap();
    assert!(!html.contains(">0us<"), "{html}");
}
