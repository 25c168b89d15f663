//! `napkin report | compare | check | merge` through the real binary: exit codes (SPEC section
//! 2), files written atomically, bad input refused with a clear message and no output file.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use reports::fixture::{sample_run, unreachable_run};
use reports::RunResult;

fn napkin(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_napkin"))
        .args(args)
        .output()
        .expect("run napkin")
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exit code")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn write_run(dir: &Path, name: &str, run: &RunResult) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string_pretty(run).unwrap()).unwrap();
    path
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Files in `dir` (to show that nothing partial was left behind).
fn files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn report_every_format_to_stdout_and_file() {
    let dir = tempfile::tempdir().unwrap();
    let run = write_run(dir.path(), "run.json", &sample_run());
    for format in ["table", "markdown", "json", "html", "hgrm"] {
        let o = napkin(&["report", s(&run), "--format", format]);
        assert_eq!(code(&o), 0, "{format}: {}", stderr(&o));
        let out = dir.path().join(format!("out.{format}"));
        let o2 = napkin(&["report", s(&run), "--format", format, "-o", s(&out)]);
        assert_eq!(code(&o2), 0, "{}", stderr(&o2));
        assert!(o2.stdout.is_empty());
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            stdout(&o),
            "{format}"
        );
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("out.json")).unwrap())
            .unwrap();
    assert_eq!(json["scopes"][0]["name"], "all");
    assert_eq!(json["scopes"][0]["requests"], 5000);
    let o = napkin(&[
        "report",
        s(&run),
        "--format",
        "hgrm",
        "--action",
        "post_tweet",
    ]);
    assert!(
        stdout(&o).contains("Total count    =         1000]"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn report_bad_flags_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let run = write_run(dir.path(), "run.json", &sample_run());
    let o = napkin(&["report", s(&run), "--format", "pdf"]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("table, markdown, json, html, hgrm"),
        "{}",
        stderr(&o)
    );
    let out = dir.path().join("x.txt");
    let o = napkin(&["report", s(&run), "--action", "nope", "-o", s(&out)]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("post_tweet, view_timeline"),
        "{}",
        stderr(&o)
    );
    assert!(!out.exists());
}

#[test]
fn bad_run_files_exit_2_with_a_clear_message_and_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let good = serde_json::to_string(&sample_run()).unwrap();
    let truncated = dir.path().join("truncated.json");
    std::fs::write(&truncated, &good[..good.len() / 2]).unwrap();
    let text = dir.path().join("text.json");
    std::fs::write(&text, "this is not json").unwrap();
    let mut future = sample_run();
    future.format = "napkin-run/9".into();
    let future = write_run(dir.path(), "future.json", &future);
    let missing = dir.path().join("missing.json");
    let cases: [(&Path, &str); 4] = [
        (&missing, "No such file"),
        (&truncated, "not a valid napkin run result"),
        (&text, "not JSON, so not a napkin run file"),
        (&future, "unsupported run format \"napkin-run/9\""),
    ];
    let before = files(dir.path());
    for (bad, expected) in cases {
        let out = dir.path().join("out.file");
        let out_s = s(&out);
        let junit = dir.path().join("junit.xml");
        let commands: Vec<Vec<&str>> = vec![
            vec!["report", s(bad), "-o", out_s],
            vec!["report", s(bad), "--format", "html", "-o", out_s],
            vec!["compare", s(bad), s(bad)],
            vec!["check", s(bad), "--junit", s(&junit)],
            vec!["merge", s(bad), "-o", out_s],
        ];
        for args in commands {
            let o = napkin(&args);
            assert_eq!(code(&o), 2, "{args:?}: {}", stderr(&o));
            let err = stderr(&o);
            assert!(
                err.contains(expected) && err.contains(s(bad)),
                "{args:?}: {err}"
            );
            assert!(!err.contains("panicked"), "{err}");
        }
        assert_eq!(files(dir.path()), before, "no output file after {bad:?}");
    }
}

#[test]
fn merging_nothing_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("merged.json");
    let o = napkin(&["merge", "-o", s(&out)]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("RUN.json"), "{}", stderr(&o));
    assert!(!out.exists());
}

#[test]
fn merge_writes_the_merged_run_and_refuses_other_scenarios() {
    let dir = tempfile::tempdir().unwrap();
    let mut run = sample_run();
    run.slo = Default::default();
    let a = write_run(dir.path(), "a.json", &run);
    let mut other = run.clone();
    other.scenario = "chat".into();
    let b = write_run(dir.path(), "b.json", &other);
    let out = dir.path().join("merged.json");
    let o = napkin(&["merge", s(&a), s(&b), "-o", s(&out)]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("--force"), "{}", stderr(&o));
    assert!(!out.exists());
    let o = napkin(&["merge", s(&a), s(&a), "-o", s(&out)]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let merged = reports::io::read_run(&out).unwrap();
    assert_eq!(merged.requests, 2 * run.requests);
    assert_eq!(merged.all.latency_us, run.all.latency_us);
    let o = napkin(&["merge", s(&a), s(&b), "--force", "-o", s(&out)]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
}

#[test]
fn compare_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let base = sample_run();
    let a = write_run(dir.path(), "base.json", &base);
    let o = napkin(&["compare", s(&a), s(&a)]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains("verdict: PASS"));
    // Same requests over 20 s instead of 10: throughput halves (every second of the timeline
    // holds half the requests of a second of the baseline).
    let mut slow = base.clone();
    slow.duration_s = 20.0;
    slow.timeline = (1..=20)
        .map(|t| reports::TimelinePoint {
            t_s: t,
            requests: reports::fixture::share(base.requests, 20, t),
            errors: reports::fixture::share(base.errors.total, 20, t),
            ..base.timeline[(t as usize - 1) / 2].clone()
        })
        .collect();
    let b = write_run(dir.path(), "new.json", &slow);
    let o = napkin(&["compare", s(&a), s(&b), "--max-regression", "10%"]);
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    assert!(stdout(&o).contains("REGRESSED"));
    let o = napkin(&[
        "compare",
        s(&a),
        s(&b),
        "--max-regression",
        "60%",
        "--format",
        "json",
    ]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    let json: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(json["pass"], true);
    let o = napkin(&["compare", s(&a), s(&b), "--max-regression", "lots"]);
    assert_eq!(code(&o), 2);
}

/// The testcases of a JUnit file: (name, failure message if any), parsed as XML.
fn junit_cases(path: &Path) -> Vec<(String, Option<String>)> {
    use quick_xml::events::Event;
    let text = std::fs::read_to_string(path).unwrap();
    let mut reader = quick_xml::Reader::from_str(&text);
    let mut cases = Vec::new();
    let attr = |e: &quick_xml::events::BytesStart, key: &[u8]| -> Option<String> {
        e.attributes()
            .map(|a| a.unwrap())
            .find(|a| a.key.as_ref() == key)
            .map(|a| a.unescape_value().unwrap().into_owned())
    };
    loop {
        match reader.read_event().unwrap() {
            Event::Eof => break,
            Event::Start(e) | Event::Empty(e) if e.name().as_ref() == b"testcase" => {
                cases.push((attr(&e, b"name").unwrap(), None));
            }
            Event::Start(e) | Event::Empty(e) if e.name().as_ref() == b"failure" => {
                cases.last_mut().unwrap().1 = attr(&e, b"message");
            }
            _ => {}
        }
    }
    cases
}

#[test]
fn check_uses_the_runs_own_thresholds_and_writes_junit() {
    let dir = tempfile::tempdir().unwrap();
    let run = write_run(dir.path(), "run.json", &sample_run());
    let junit = dir.path().join("junit.xml");
    let o = napkin(&["check", s(&run), "--junit", s(&junit)]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stdout(&o).contains("post_tweet error_rate = 0.50% (limit <= 0.10%): FAIL"));
    let cases = junit_cases(&junit);
    assert_eq!(cases.len(), 3);
    assert_eq!(cases[0], ("all p99 <= 50.00ms".to_string(), None));
    let failure = cases[2].1.as_deref().unwrap();
    assert!(
        failure.contains("0.50%") && failure.contains("0.10%"),
        "{failure}"
    );
}

#[test]
fn check_with_an_slo_file() {
    let dir = tempfile::tempdir().unwrap();
    let run = write_run(dir.path(), "run.json", &sample_run());
    let slo = dir.path().join("slo.yaml");
    std::fs::write(
        &slo,
        "slo:\n  all: {p99: 50ms, error_rate: 1%}\n  view_timeline: {p50: 1ms}\n",
    )
    .unwrap();
    let junit = dir.path().join("junit.xml");
    let o = napkin(&["check", s(&run), "--slo", s(&slo), "--junit", s(&junit)]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    let cases = junit_cases(&junit);
    assert_eq!(cases.len(), 3);
    assert!(cases.iter().all(|(_, f)| f.is_none()));
    // A threshold for an action the run lacks fails with a reason.
    std::fs::write(&slo, "slo:\n  like_tweet: {p99: 50ms}\n").unwrap();
    let o = napkin(&["check", s(&run), "--slo", s(&slo), "--junit", s(&junit)]);
    assert_eq!(code(&o), 1);
    assert!(junit_cases(&junit)[0]
        .1
        .as_deref()
        .unwrap()
        .contains("not in the run"));
    // A broken SLO file is bad input; the old JUnit file is left as it was.
    let before = std::fs::read_to_string(&junit).unwrap();
    std::fs::write(&slo, "slo:\n  all: {p99: fast}\n").unwrap();
    let o = napkin(&["check", s(&run), "--slo", s(&slo), "--junit", s(&junit)]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("slo.yaml"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&junit).unwrap(), before);
}

#[test]
fn check_without_thresholds_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let mut run = sample_run();
    run.slo = Default::default();
    let path = write_run(dir.path(), "run.json", &run);
    let o = napkin(&["check", s(&path)]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("--slo"), "{}", stderr(&o));
}

#[test]
fn check_with_a_scenario_file_uses_its_load_slo() {
    let dir = tempfile::tempdir().unwrap();
    let run = write_run(dir.path(), "run.json", &sample_run());
    let scenario = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/twitter.yaml");
    let expected = estimator::load_slo_file(Path::new(scenario)).unwrap();
    let o = napkin(&["check", s(&run), "--slo", scenario]);
    let outcome = reports::slo::evaluate(&sample_run(), &expected);
    assert!(
        outcome.checks.len() >= 2,
        "the bundled scenario gates on SLOs"
    );
    assert_eq!(code(&o), if outcome.pass { 0 } else { 1 }, "{}", stdout(&o));
    let lines = stdout(&o).lines().count();
    assert_eq!(lines, outcome.checks.len() + 1, "{}", stdout(&o));
}

#[test]
fn unreadable_run_files_are_explained_once() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.json");
    let o = napkin(&["report", s(&missing)]);
    assert_eq!(code(&o), 2);
    assert_eq!(
        stderr(&o),
        format!(
            "error: {}: cannot read the file: No such file or directory (os error 2); check the path\n",
            s(&missing)
        )
    );
    // A scenario passed by mistake: said once that it is not a run file, with where they come from.
    let scenario = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/twitter.yaml");
    let o = napkin(&["report", scenario]);
    assert_eq!(code(&o), 2);
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("not JSON, so not a napkin run file"), "{err}");
    assert!(err.contains("napkin load --out"), "{err}");
    assert_eq!(err.matches("line 1 column").count(), 1, "{err}");
    // JSON of something else.
    let other = dir.path().join("other.json");
    std::fs::write(&other, "{\"requests\": 1}").unwrap();
    let o = napkin(&["report", s(&other)]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("JSON but not a napkin run file"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn outputs_into_a_missing_directory_are_refused_plainly() {
    let dir = tempfile::tempdir().unwrap();
    let run = write_run(dir.path(), "run.json", &sample_run());
    let nodir = dir.path().join("nodir");
    let out = nodir.join("out.txt");
    let commands: Vec<Vec<&str>> = vec![
        vec!["report", s(&run), "-o", s(&out)],
        vec!["check", s(&run), "--junit", s(&out)],
        vec!["merge", s(&run), "-o", s(&out)],
    ];
    for args in commands {
        let o = napkin(&args);
        assert_eq!(code(&o), 2, "{args:?}");
        assert_eq!(
            stderr(&o),
            format!(
                "error: cannot write {}: directory {} does not exist; create it (mkdir -p {}) or fix the path\n",
                s(&out),
                s(&nodir),
                s(&nodir)
            ),
            "{args:?}"
        );
    }
    assert!(!nodir.exists());
}

#[test]
fn bare_percentages_above_one_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let a = write_run(dir.path(), "base.json", &sample_run());
    for flag in ["--max-regression", "--min-error-delta"] {
        let o = napkin(&["compare", s(&a), s(&a), flag, "10"]);
        assert_eq!(code(&o), 2, "{flag}: {}", stdout(&o));
        let err = stderr(&o);
        assert!(
            err.contains(flag) && err.contains("10%") && err.contains("0.1"),
            "{err}"
        );
        // The fraction and the percentage are both accepted.
        for ok in ["0.1", "10%", "1"] {
            let o = napkin(&["compare", s(&a), s(&a), flag, ok]);
            assert_eq!(code(&o), 0, "{flag} {ok}: {}", stderr(&o));
        }
    }
}

#[test]
fn an_unreachable_run_fails_latency_gates_and_compare() {
    let dir = tempfile::tempdir().unwrap();
    let unreach = write_run(dir.path(), "unreach.json", &unreachable_run(5_000, 10));
    let slo = dir.path().join("p99.yaml");
    std::fs::write(&slo, "slo:\n  all: {p99: 50ms}\n").unwrap();
    let o = napkin(&["check", s(&unreach), "--slo", s(&slo)]);
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    assert!(
        stdout(&o).contains("all p99 (limit <= 50.00ms): FAIL: no responses recorded"),
        "{}",
        stdout(&o)
    );
    let o = napkin(&["report", s(&unreach)]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(!stdout(&o).contains("0us"), "{}", stdout(&o));
    // 5,000 connect errors in 10 s are no throughput: 0 successful requests/s, a regression.
    let base = write_run(dir.path(), "base.json", &sample_run());
    let o = napkin(&["compare", s(&base), s(&unreach), "--format", "json"]);
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    let json: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let rps = json["scopes"][0]["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["metric"] == "ok_rps")
        .unwrap();
    assert_eq!(rps["new"], 0.0);
    assert_eq!(rps["verdict"], "regressed");
}

#[test]
fn report_shows_the_p999_of_the_run_file() {
    let dir = tempfile::tempdir().unwrap();
    let run = sample_run();
    let path = write_run(dir.path(), "run.json", &run);
    let pt = &run.actions["post_tweet"];
    let h = reports::histogram::decode(&pt.histogram).unwrap();
    // The other computation (value_at_percentile(99.9)) differs for this histogram.
    assert_ne!(h.value_at_percentile(99.9), pt.latency_us.p999);
    let o = napkin(&["report", s(&path)]);
    let out = stdout(&o);
    let row = out
        .split("Latency (from intended send time):")
        .nth(1)
        .unwrap()
        .lines()
        .find(|l| l.contains("post_tweet"))
        .unwrap();
    let cells: Vec<&str> = row
        .split(['│', '┆'])
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(
        cells[4],
        reports::units::fmt_us(pt.latency_us.p999 as f64),
        "{out}"
    );
}

/// A one-action run of 2,000 requests spread from `base_us`, over 10 s.
fn spread_run(base_us: u64) -> RunResult {
    use reports::fixture::{build_run, tail_histogram, ActionSpec};
    build_run(
        "twitter",
        10,
        &[ActionSpec {
            name: "view_timeline".into(),
            latency: tail_histogram(2000, base_us),
            errors: reports::ErrorCounts::default(),
        }],
    )
}

#[test]
fn compare_bad_input_exits_2_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let a = write_run(dir.path(), "a.json", &sample_run());
    let b = write_run(dir.path(), "b.json", &sample_run());
    let mut chat = sample_run();
    chat.scenario = "chat".into();
    let c = write_run(dir.path(), "chat.json", &chat);
    let cases: Vec<(Vec<&str>, &str)> = vec![
        // Different scenarios across sides, and on one side.
        (vec![s(&a), s(&c)], "pass --force"),
        (vec!["--base", s(&a), s(&c), "--new", s(&b)], "pass --force"),
        (vec!["--base", s(&a), s(&b), "--new", s(&c)], "pass --force"),
        // Significance levels outside (0, 0.5).
        (vec![s(&a), s(&b), "--alpha", "0"], "outside (0, 0.5)"),
        (vec![s(&a), s(&b), "--alpha", "0.5"], "outside (0, 0.5)"),
        (vec![s(&a), s(&b), "--alpha", "0.7"], "outside (0, 0.5)"),
        (vec![s(&a), s(&b), "--alpha=-0.01"], "at least 0"),
        // One side only, or a mix of the two forms.
        (vec!["--base", s(&a), s(&b)], "--base needs --new"),
        (vec!["--new", s(&a)], "--new needs --base"),
        (vec![s(&a), s(&b), s(&c)], "exactly two runs"),
        (
            vec![s(&a), s(&b), "--base", s(&a), "--new", s(&b)],
            "not both",
        ),
        (vec![], "nothing to compare"),
        (
            vec!["--paired", "--base", s(&a), s(&b), "--new", s(&a)],
            "--paired needs --base and --new with as many runs each",
        ),
    ];
    for (args, needle) in cases {
        let mut argv = vec!["compare"];
        argv.extend(&args);
        let o = napkin(&argv);
        assert_eq!(code(&o), 2, "{args:?}: {}", stdout(&o));
        assert!(stderr(&o).contains(needle), "{args:?}: {}", stderr(&o));
    }
    // --force compares them, and says so.
    let o = napkin(&["compare", s(&a), s(&c), "--force"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stdout(&o).contains("comparing runs of different scenarios (twitter, chat)"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn several_runs_per_side_are_samples() {
    let dir = tempfile::tempdir().unwrap();
    let paths = |prefix: &str, n: usize, base_us: u64| -> Vec<String> {
        (0..n)
            .map(|i| {
                let p = write_run(
                    dir.path(),
                    &format!("{prefix}{i}.json"),
                    &spread_run(base_us),
                );
                s(&p).to_string()
            })
            .collect()
    };
    let compare = |base: &[String], new: &[String], format: &str| {
        let mut argv = vec!["compare", "--format", format, "--base"];
        argv.extend(base.iter().map(String::as_str));
        argv.push("--new");
        argv.extend(new.iter().map(String::as_str));
        napkin(&argv)
    };
    // Every new run 50% slower than every base run.
    let (base, new) = (paths("base", 5, 2000), paths("new", 5, 3000));
    // 3 runs per side cannot reach p < 0.01 (2 / C(6, 3) = 0.1): a pass, with a warning.
    let o = compare(&base[..3], &new[..3], "json");
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    assert!(
        stderr(&o).contains("too few runs per side for --alpha 0.01")
            && stderr(&o).contains("use at least 5 runs per side"),
        "{}",
        stderr(&o)
    );
    // 5 per side: 2 / C(10, 5) = 0.008 in every latency metric at once: a regression.
    let o = compare(&base, &new, "json");
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    let json: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(json["design"], "runs");
    let p50 = &json["scopes"][0]["metrics"][0];
    assert_eq!(p50["verdict"], "regressed");
    assert_eq!(p50["significance"]["unit"], "runs");
    assert!((p50["significance"]["p_value"].as_f64().unwrap() - 2.0 / 252.0).abs() < 1e-12);
    // The same runs as pairs (base i against new i), as napkin ab compares its rounds: 5
    // rounds cannot go below p = 2 / 2^5, and the output says so.
    let mut argv = vec!["compare", "--paired", "--format", "json", "--base"];
    argv.extend(base.iter().map(String::as_str));
    argv.push("--new");
    argv.extend(new.iter().map(String::as_str));
    let o = napkin(&argv);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    let json: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(json["design"], "paired");
    assert!(stderr(&o).contains("too few rounds"), "{}", stderr(&o));
    // Identical sides: nothing to tell apart.
    let o = compare(&base, &paths("same", 5, 2000), "table");
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    assert!(stdout(&o).contains("verdict: PASS"), "{}", stdout(&o));
}

#[test]
fn a_capacity_result_given_where_a_run_belongs_is_named_as_such() {
    let dir = tempfile::tempdir().unwrap();
    let capacity = dir.path().join("capacity.json");
    std::fs::write(&capacity, r#"{"format": "napkin-capacity/1", "steps": []}"#).unwrap();
    let c = s(&capacity);
    let merged = dir.path().join("merged.json");
    let merge = vec!["merge", c, c, "--output", s(&merged)];
    for args in [vec!["compare", c, c], vec!["check", c], merge] {
        let o = napkin(&args);
        assert_eq!(code(&o), 2, "{args:?}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(
            err.contains("a capacity result (napkin-capacity/1), not a run")
                && err.contains("napkin load --out")
                && !err.contains("re-run"),
            "{args:?}: {err}"
        );
    }
    assert!(!merged.exists());
}
