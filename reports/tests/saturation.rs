//! Saturation on constructed runs: the SPEC section 5 rule (dropped requests or an achieved
//! rate more than 2% short), which side is blamed, and what every report format shows.

use reports::fixture::sample_run;
use reports::format::{render, Format, View};
use reports::saturation::{assess, is_saturated, Bottleneck};
use reports::RunResult;

/// The sample run (open model, 5,000 requests over 10 s, 16 connections, every request
/// answered) with `dropped` requests never sent, `unanswered` more offered requests left
/// without a response, an achieved rate `short` (a fraction) below the offered rate and the
/// `busy` share of the window spent waiting on the target.
fn run_with(dropped: u64, unanswered: u64, short: f64, busy: f64) -> RunResult {
    let mut run = sample_run();
    let offered = run.requests + dropped + unanswered;
    run.settings.offered = Some(offered);
    run.settings.connections = Some(16);
    run.dropped = dropped;
    run.achieved_rps = offered as f64 / run.duration_s * (1.0 - short);
    run.connections_busy = Some(busy);
    run.saturated = is_saturated(&run);
    run
}

#[test]
fn a_backlog_or_a_real_shortfall_saturates_an_open_run() {
    assert!(!run_with(0, 0, 0.0, 0.1).saturated);
    assert!(
        !run_with(0, 200, 0.019, 0.1).saturated,
        "1.9% short is within the 2%"
    );
    assert!(
        run_with(0, 200, 0.022, 0.1).saturated,
        "2.2% short, 4% unanswered"
    );
    assert!(
        run_with(120, 0, 0.0, 0.1).saturated,
        "dropped more than connections and more than 2% of 5,120 offered"
    );
    // Boundary drops: a connection caught one request behind when the window closed.
    assert!(!run_with(16, 0, 0.0, 0.1).saturated);
    // A short queue at the close: more than the connections, 1.9% of 5,097 offered.
    assert!(!run_with(97, 0, 0.0, 0.1).saturated);
    // Short only by the pipeline: a window without warm-up, a slow target that answered
    // its last requests in the grace; nothing was left unanswered.
    assert!(!run_with(0, 0, 0.06, 0.1).saturated);
    let mut closed = run_with(50, 100, 0.2, 0.9);
    closed.model = "closed".into();
    assert!(
        !is_saturated(&closed),
        "the closed model offers what it gets"
    );
}

#[test]
fn the_side_that_held_the_connections_is_the_bottleneck() {
    assert!(assess(&run_with(0, 0, 0.0, 0.99)).unwrap().is_none());
    let target = assess(&run_with(900, 0, 0.3, 0.98)).unwrap().unwrap();
    assert_eq!(target.bottleneck, Bottleneck::Target);
    assert!(
        target.explanation.contains("The target could not keep up"),
        "{}",
        target.explanation
    );
    assert!(target
        .explanation
        .contains("900 of 5,900 offered requests were never sent"));
    let generator = assess(&run_with(900, 0, 0.3, 0.12)).unwrap().unwrap();
    assert_eq!(generator.bottleneck, Bottleneck::Generator);
    assert!(
        generator
            .explanation
            .contains("The generator could not keep up"),
        "{}",
        generator.explanation
    );
}

#[test]
fn a_target_that_falls_short_while_every_send_was_on_time_is_the_bottleneck() {
    // At the knee: no backlog, no late sends, connections mostly idle, but responses came too
    // slowly for the offered rate: the target's doing, not the generator's.
    let knee = run_with(0, 300, 0.06, 0.2);
    assert!(knee.saturated);
    let a = assess(&knee).unwrap().unwrap();
    assert_eq!(a.bottleneck, Bottleneck::Target, "{}", a.explanation);
    // Sends that were late only behind busy connections do not blame the generator...
    let mut queued = knee.clone();
    queued.settings.late = queued.requests / 20;
    queued.settings.late_idle = Some(0);
    assert_eq!(
        assess(&queued).unwrap().unwrap().bottleneck,
        Bottleneck::Target
    );
    // ... its own late sends, to idle connections, do.
    let mut late = knee.clone();
    late.settings.late = late.requests / 20;
    late.settings.late_idle = Some(late.requests / 20);
    assert_eq!(
        assess(&late).unwrap().unwrap().bottleneck,
        Bottleneck::Generator
    );
}

#[test]
fn every_human_format_says_a_run_was_saturated() {
    let run = run_with(900, 0, 0.3, 0.98);
    for format in [Format::Table, Format::Markdown, Format::Html] {
        let text = render(&run, format, &View::default()).unwrap();
        assert!(text.contains("900 dropped"), "{format:?}: {text}");
        assert!(text.contains("SATURATED"), "{format:?}: {text}");
    }
    let json: serde_json::Value =
        serde_json::from_str(&render(&run, Format::Json, &View::default()).unwrap()).unwrap();
    assert_eq!(json["saturated"], true);
    assert_eq!(json["dropped"], 900);
    assert!(json["saturation"].as_str().unwrap().contains("target"));
}

#[test]
fn runs_written_before_dropped_and_saturated_existed_still_load() {
    let mut value = serde_json::to_value(sample_run()).unwrap();
    let obj = value.as_object_mut().unwrap();
    for field in ["dropped", "saturated", "send_lag_us", "connections_busy"] {
        obj.remove(field);
    }
    obj["settings"]
        .as_object_mut()
        .unwrap()
        .insert("unsent".into(), 3.into());
    let text = serde_json::to_string(&value).unwrap();
    let run = reports::io::parse_run(std::path::Path::new("old.json"), &text).unwrap();
    assert_eq!((run.dropped, run.saturated), (0, false));
    assert_eq!(run.settings.unsent, 3);
}

#[test]
fn a_target_that_answered_nothing_is_called_absent_not_slow() {
    // A target that refuses connections: every request a connect error, no service time.
    let mut run = run_with(900, 0, 0.3, 0.002);
    run.all.service_histogram = String::new();
    run.errors = Default::default();
    run.errors.connect = 5_000;
    let absent = assess(&run).unwrap().unwrap();
    assert_eq!(absent.bottleneck, Bottleneck::Target);
    assert!(
        absent.explanation.contains(
            "The target answered no request (5,000 connect, 0 timeout, 0 io, 0 tls errors)"
        ) && !absent.explanation.contains("could not keep up"),
        "{}",
        absent.explanation
    );
}
