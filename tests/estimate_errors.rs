//! Every bad-input case of `napkin estimate`: exit 2, and a message naming the file position,
//! the field path and the fix. Driven in-process through `napkin::run`.

use std::path::PathBuf;

use clap::Parser;
use napkin::{exit, run, Cli};

/// Writes `text` to a temp scenario file and runs `napkin estimate` on it; returns the exit
/// code and the error message.
fn estimate_err(text: &str, extra: &[&str]) -> (u8, String, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.yaml");
    std::fs::write(&path, text).unwrap();
    let p = path.to_str().unwrap();
    let mut argv = vec!["napkin", "estimate", p];
    argv.extend_from_slice(extra);
    let cli = Cli::try_parse_from(argv).unwrap();
    let mut out = Vec::new();
    let err = run(cli, &mut out).expect_err("bad input must fail");
    assert!(out.is_empty(), "nothing printed on failure");
    (exit::code_of(&err), format!("{err:#}"), path)
}

fn expect(text: &str, pos: &str, field: &str, fix: &str) {
    let (code, msg, path) = estimate_err(text, &[]);
    assert_eq!(code, exit::BAD_INPUT, "{msg}");
    let want = format!("{}:{pos}: {field}", path.display());
    assert!(msg.starts_with(&want), "want prefix `{want}`, got `{msg}`");
    assert!(msg.contains(fix), "want `{fix}` in `{msg}`");
}

#[test]
fn malformed_yaml_has_line_and_column() {
    let (code, msg, path) = estimate_err("name: x\nactions:\n  - name: a\n    per_day: [1\n", &[]);
    assert_eq!(code, exit::BAD_INPUT);
    assert!(
        msg.starts_with(&format!("{}:5:1: malformed YAML", path.display())),
        "{msg}"
    );
    assert!(
        msg.contains("check indentation, quotes and brackets"),
        "{msg}"
    );

    let (_, msg, path) = estimate_err("name: x\n  bad: indent\nactions: []\n", &[]);
    assert!(
        msg.starts_with(&format!("{}:2:6: malformed YAML", path.display())),
        "{msg}"
    );
}

#[test]
fn unknown_field_is_named_with_a_suggestion() {
    expect(
        "name: x\nactions:\n  - name: a\n    per_day: 1\n    egres: 1KB\n",
        "5:5",
        "actions[0].egres: unknown field `egres`",
        "did you mean `egress`?",
    );
    expect(
        "name: x\nfoo: 1\nactions:\n  - {name: a, per_day: 1}\n",
        "2:1",
        "foo: unknown field `foo`",
        "allowed here: name, description",
    );
}

#[test]
fn unknown_unit() {
    expect(
        "name: x\nactions:\n  - name: a\n    per_day: 1\n    egress: 3XB\n",
        "5:13",
        "actions[0].egress: `3XB`: unknown unit `XB` for a size",
        "KB, MB",
    );
    expect(
        "name: x\nactions:\n  - name: a\n    per_day: 12X\n",
        "4:14",
        "actions[0].per_day: `12X`: unknown unit `X` for a count",
        "use K, M, B, G or T",
    );
}

#[test]
fn size_where_a_count_is_expected() {
    expect(
        "name: x\nusers:\n  daily_active: 200MB\nactions:\n  - {name: a, per_day: 1}\n",
        "3:17",
        "users.daily_active: `200MB` is a size but a count is expected here",
        "e.g. 200M",
    );
}

#[test]
fn missing_rate() {
    expect(
        "name: x\nactions:\n  - name: a\n    egress: 1KB\n",
        "3:5",
        "actions[0]: no rate given",
        "add exactly one of per_user_per_day, per_day, per_month, per_second, relative",
    );
}

#[test]
fn two_rates_on_one_action() {
    expect(
        "name: x\nusers: {daily_active: 1M}\nactions:\n  - {name: a, per_day: 1}\n  - name: b\n    per_user_per_day: 1\n    per_day: 2\n",
        "6:23",
        "actions[1].per_user_per_day: two rates given (per_user_per_day and per_day)",
        "keep exactly one of per_user_per_day, per_day, per_month, per_second, relative",
    );
}

#[test]
fn relative_to_an_unknown_action() {
    expect(
        "name: x\nactions:\n  - {name: a, per_day: 1}\n  - name: b\n    relative: {to: nope, factor: 2}\n",
        "5:20",
        "actions[1].relative.to: no action named `nope`",
        "use one of: a, b",
    );
}

#[test]
fn relative_cycle() {
    expect(
        "name: x\nactions:\n  - name: a\n    relative: {to: b, factor: 2}\n  - name: b\n    relative: {to: a, factor: 0.5}\n",
        "4:20",
        "actions[0].relative.to: relative rates form a cycle (a -> b -> a)",
        "give one of these actions an absolute rate",
    );
    expect(
        "name: x\nactions:\n  - name: a\n    relative: {to: a, factor: 2}\n",
        "4:20",
        "actions[0].relative.to: relative rates form a cycle (a -> a)",
        "absolute rate",
    );
}

#[test]
fn fraction_outside_zero_to_one() {
    expect(
        "name: x\ncache:\n  hot_fraction: 1.5\nactions:\n  - {name: a, per_day: 1}\n",
        "3:17",
        "cache.hot_fraction: `1.5` is outside [0, 1]",
        "like 0.2, or a percentage like 20%",
    );
    expect(
        "name: x\nactions:\n  - name: a\n    per_day: 1\n    egress:\n      - {bytes: 1KB, fraction: 120%}\n",
        "6:32",
        "actions[0].egress[0].fraction: `120%` is outside [0, 1]",
        "20%",
    );
}

#[test]
fn per_user_rate_without_daily_active_users() {
    expect(
        "name: x\nactions:\n  - name: a\n    per_user_per_day: 3\n",
        "4:23",
        "actions[0].per_user_per_day: a per-user rate needs users.daily_active",
        "add `users: {daily_active: 100M}`",
    );
}

#[test]
fn duplicate_action_names() {
    expect(
        "name: x\nactions:\n  - {name: a, per_day: 1}\n  - {name: a, per_day: 2}\n",
        "4:12",
        "actions[1].name: duplicate action name `a` (also actions[0])",
        "must be unique",
    );
}

#[test]
fn bad_load_and_request_blocks() {
    let base = "name: x\nactions:\n  - name: a\n    per_day: 1\n";
    expect(
        &format!("{base}    request: {{method: GET, path: users}}\n"),
        "5:34",
        "actions[0].request.path: `users` does not start with `/`",
        "e.g. /users/",
    );
    expect(
        &format!("{base}    request: {{method: GET, path: '/u/{{{{usr}}}}'}}\n"),
        "5:34",
        "actions[0].request.path: action `a`: unknown template name `usr` in `{{usr}}`",
        "Add a key space under `load.keys`",
    );
    expect(
        &format!("{base}    request: {{method: GET, path: /, expect: [700]}}\n"),
        "5:46",
        "actions[0].request.expect[0]: `700` is not an HTTP status",
        "100-599",
    );
    expect(
        &format!("{base}load:\n  rate: 10\n  concurrency: 4\n"),
        "6:9",
        "load.rate: two load models given (rate and concurrency)",
        "keep at most one of rate, scale, concurrency",
    );
    expect(
        &format!("{base}load:\n  duration: 10s\n  warmup: 10s\n"),
        "7:11",
        "load.warmup: warm-up (10s) is not shorter than the duration (10s)",
        "shorten warmup",
    );
    expect(
        &format!("{base}load:\n  keys: {{user: {{count: 10, distribution: zipf, exponent: 0}}}}\n"),
        "6:58",
        "load.keys.user.exponent: must be above 0",
        "uniform",
    );
    expect(
        &format!("{base}load:\n  slo: {{b: {{p99: 10ms}}}}\n"),
        "6:9",
        "load.slo.b: `b` is neither `all` nor an action",
        "use all or one of: a",
    );
    expect(
        &format!("{base}load:\n  slo: {{all: {{p98: 10ms}}}}\n"),
        "6:15",
        "load.slo.all.p98: `p98` is not a metric",
        "p50, p90, p99, p999, max, mean, error_rate, min_rps",
    );
    expect(
        &format!("{base}load:\n  stages: [{{duration: 0s, rate: 5}}]\n"),
        "6:11",
        "load.stages: the stages last 0 s in total",
        "give them durations",
    );
    expect(
        &format!("{base}load:\n  arrivals: bursty\n"),
        "6:13",
        "load.arrivals: `bursty` is not an arrival process",
        "uniform or poisson",
    );
}

#[test]
fn missing_file() {
    let cli = Cli::try_parse_from(["napkin", "estimate", "no/such/scenario.yaml"]).unwrap();
    let err = run(cli, &mut Vec::new()).unwrap_err();
    assert_eq!(exit::code_of(&err), exit::BAD_INPUT);
    let msg = format!("{err:#}");
    assert!(
        msg.starts_with("no/such/scenario.yaml: cannot read the file"),
        "{msg}"
    );
    assert!(msg.contains("check the path"), "{msg}");
}

#[test]
fn bad_set_flags_name_the_flag() {
    let (code, msg, _) = estimate_err(
        "name: x\nusers: {daily_active: 1M}\nactions:\n  - {name: a, per_day: 1}\n",
        &["--set", "users.daily_active=4X"],
    );
    assert_eq!(code, exit::BAD_INPUT);
    assert!(
        msg.starts_with("--set users.daily_active=4X: users.daily_active: `4X`: unknown unit `X`"),
        "{msg}"
    );
    let (_, msg, _) = estimate_err(
        "name: x\nactions:\n  - {name: a, per_day: 1}\n",
        &["--set", "peak_factor"],
    );
    assert!(
        msg.starts_with("--set peak_factor: expected KEY=VALUE"),
        "{msg}"
    );
    let (_, msg, _) = estimate_err(
        "name: x\nactions:\n  - {name: a, per_day: 1}\n",
        &["--set", "storage.retenton=5y"],
    );
    assert!(
        msg.starts_with("--set storage.retenton=5y: storage.retenton: unknown field `retenton`; did you mean `retention`?"),
        "{msg}"
    );
}

#[test]
fn usage_errors_are_rejected_by_the_parser() {
    // main maps clap errors to exit 2.
    assert!(Cli::try_parse_from(["napkin", "estimate"]).is_err());
    assert!(Cli::try_parse_from(["napkin", "estimate", "x.yaml", "--format", "xml"]).is_err());
}

#[test]
fn region_shares_must_add_up_to_100_percent() {
    expect(
        "name: x\nactions:\n  - {name: a, per_day: 1}\nregions:\n  - {name: eu, share: 60%}\n  - {name: us, share: 37%}\n",
        "5:3",
        "regions: the shares add up to 97% (eu 60% + us 37%)",
        "they must add up to 100% (within 0.1%)",
    );
}

#[test]
fn region_names_are_unique() {
    expect(
        "name: x\nactions:\n  - {name: a, per_day: 1}\nregions:\n  - {name: eu, share: 50%}\n  - {name: eu, share: 50%}\n",
        "6:12",
        "regions[1].name: region `eu` is listed twice",
        "give each region one entry",
    );
}

#[test]
fn utilization_and_redundancy_are_checked() {
    expect(
        "name: x\ncapacity: {rps_per_server: 1K, utilization: 0}\nactions:\n  - {name: a, per_day: 1}\n",
        "2:45",
        "capacity.utilization: is 0",
        "e.g. 70%",
    );
    expect(
        "name: x\ncapacity: {rps_per_server: 1K, redundancy: 1.5}\nactions:\n  - {name: a, per_day: 1}\n",
        "2:44",
        "capacity.redundancy: `1.5` is not a whole number",
        "whole number",
    );
}
