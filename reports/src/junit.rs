//! JUnit XML of SLO checks (`napkin check --junit FILE`), the format CI systems (GitHub Actions
//! reporters, GitLab, Jenkins) show as test results: one `<testcase>` per threshold, a
//! `<failure>` with value vs limit when it fails. Written with quick-xml, so text is escaped.

use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

use crate::error::ReportError;
use crate::run::{SloCheck, SloOutcome};
use crate::slo::{describe, fmt_metric};

fn xml_err(e: impl std::fmt::Display) -> ReportError {
    ReportError::Invalid(format!("cannot write JUnit XML: {e}"))
}

/// The testcase name of a check: `all p99 <= 50.00ms`.
fn case_name(c: &SloCheck) -> String {
    let op = match crate::slo::parse_metric(&c.metric) {
        Some(m) if m.is_lower_bound() => ">=",
        _ => "<=",
    };
    format!(
        "{} {} {op} {}",
        c.scope,
        c.metric,
        fmt_metric(&c.metric, c.limit)
    )
}

/// JUnit XML for the checks of `outcome`; `suite` names the test suite (e.g. the scenario).
pub fn junit_xml(suite: &str, outcome: &SloOutcome) -> Result<String, ReportError> {
    let tests = outcome.checks.len().to_string();
    let failures = outcome
        .checks
        .iter()
        .filter(|c| !c.pass)
        .count()
        .to_string();
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))
        .map_err(xml_err)?;
    let suite_name = format!("napkin slo: {suite}");
    let mut suites = BytesStart::new("testsuites");
    suites.push_attribute(("name", "napkin"));
    suites.push_attribute(("tests", tests.as_str()));
    suites.push_attribute(("failures", failures.as_str()));
    w.write_event(Event::Start(suites)).map_err(xml_err)?;
    let mut s = BytesStart::new("testsuite");
    s.push_attribute(("name", suite_name.as_str()));
    s.push_attribute(("tests", tests.as_str()));
    s.push_attribute(("failures", failures.as_str()));
    s.push_attribute(("errors", "0"));
    w.write_event(Event::Start(s)).map_err(xml_err)?;
    for c in &outcome.checks {
        let mut case = BytesStart::new("testcase");
        let classname = format!("napkin.slo.{}", c.scope);
        let name = case_name(c);
        case.push_attribute(("classname", classname.as_str()));
        case.push_attribute(("name", name.as_str()));
        if c.pass {
            w.write_event(Event::Empty(case)).map_err(xml_err)?;
            continue;
        }
        w.write_event(Event::Start(case)).map_err(xml_err)?;
        let message = describe(c);
        let mut f = BytesStart::new("failure");
        f.push_attribute(("message", message.as_str()));
        f.push_attribute(("type", "slo"));
        w.write_event(Event::Start(f)).map_err(xml_err)?;
        w.write_event(Event::Text(BytesText::new(&message)))
            .map_err(xml_err)?;
        w.write_event(Event::End(BytesEnd::new("failure")))
            .map_err(xml_err)?;
        w.write_event(Event::End(BytesEnd::new("testcase")))
            .map_err(xml_err)?;
    }
    w.write_event(Event::End(BytesEnd::new("testsuite")))
        .map_err(xml_err)?;
    w.write_event(Event::End(BytesEnd::new("testsuites")))
        .map_err(xml_err)?;
    let mut text = String::from_utf8(w.into_inner()).map_err(xml_err)?;
    text.push('\n');
    Ok(text)
}
