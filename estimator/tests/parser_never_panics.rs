//! Property tests: random text, and bundled scenarios with random edits, never make the parser
//! panic; every failure is a located `ScenarioError`.

use std::path::Path;

use estimator::{estimate, parse_str, Override};
use proptest::prelude::*;

fn bundled() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
}

/// Pieces that make edits likely to hit interesting parser paths.
const TOKENS: &[&str] = &[
    "",
    " ",
    "\n",
    ":",
    "- ",
    "[",
    "]",
    "{",
    "}",
    "&a ",
    "*a",
    "*tweet",
    "<<: *a",
    "0",
    "-1",
    "1e999",
    "NaN",
    "200MB",
    "10K",
    "5y",
    "0.1%",
    "150%",
    "B",
    "KiB",
    "relative: {to: x, factor: 2}",
    "per_day: 1",
    "per_user_per_day: 1",
    "name: a",
    "actions: []",
    "load: {rate: 0}",
    "stages: []",
    "slo: {all: {p99: 1x}}",
    "\t",
    "'",
    "\"",
    "~",
    "!!str ",
    "\u{feff}",
    "é",
    "{{",
    "}}",
    "{{user}}",
    "{{tweet}}",
    "{{text 0}}",
    "{{int 9 1}}",
    "{{é}}",
    "capture: {user: id}",
    "headers: {a(b: x}",
];

#[derive(Debug, Clone)]
enum Edit {
    Delete(usize, usize),
    Insert(usize, usize),
    SwapLines(usize, usize),
    Duplicate(usize, usize),
}

fn edit_strategy() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), 1usize..20).prop_map(|(a, n)| Edit::Delete(a, n)),
        (any::<usize>(), 0..TOKENS.len()).prop_map(|(a, t)| Edit::Insert(a, t)),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Edit::SwapLines(a, b)),
        (any::<usize>(), 1usize..200).prop_map(|(a, n)| Edit::Duplicate(a, n)),
    ]
}

fn at_char_boundary(s: &str, i: usize) -> usize {
    let mut i = i % (s.len() + 1);
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn apply(text: &mut String, e: &Edit) {
    match *e {
        Edit::Delete(a, n) => {
            let a = at_char_boundary(text, a);
            let b = at_char_boundary(text, (a + n).min(text.len()));
            if b > a {
                text.replace_range(a..b, "");
            }
        }
        Edit::Insert(a, t) => {
            let a = at_char_boundary(text, a);
            text.insert_str(a, TOKENS[t]);
        }
        Edit::SwapLines(a, b) => {
            let mut lines: Vec<&str> = text.lines().collect();
            if !lines.is_empty() {
                let (a, b) = (a % lines.len(), b % lines.len());
                lines.swap(a, b);
                *text = lines.join("\n");
            }
        }
        Edit::Duplicate(a, n) => {
            let a = at_char_boundary(text, a);
            let b = at_char_boundary(text, (a + n).min(text.len()));
            let piece = text[a..b].to_string();
            text.insert_str(b, &piece);
        }
    }
}

fn check(text: &str, overrides: &[Override]) {
    match parse_str(text, "fuzz.yaml", overrides) {
        Ok(s) => {
            let e = estimate(&s);
            serde_json::to_string(&e).unwrap();
        }
        Err(err) => {
            let msg = err.to_string();
            assert!(
                msg.starts_with("fuzz.yaml") || msg.starts_with("--set "),
                "error without location: {msg}"
            );
            assert!(!err.message.is_empty());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn random_text_never_panics(text in "\\PC{0,300}") {
        check(&text, &[]);
    }

    #[test]
    fn yaml_shaped_text_never_panics(text in "([a-z_]{1,12}: ?(\\[|\\{|[0-9.]{1,5}[KMBkms%]{0,2}|\\*a|&a)?\n {0,6}(- )?){0,30}") {
        check(&text, &[]);
    }

    #[test]
    fn mutated_scenarios_never_panic(
        file in 0usize..5,
        edits in proptest::collection::vec(edit_strategy(), 1..6),
    ) {
        let files = bundled();
        let mut text = files[file % files.len()].clone();
        for e in &edits {
            apply(&mut text, e);
        }
        check(&text, &[]);
    }

    #[test]
    fn random_overrides_never_panic(
        file in 0usize..5,
        key in "(users|storage|cache|actions|load|capacity|peak_factor|\\[[0-9]\\]|\\.|[a-z_]{1,10}){1,5}",
        value in "\\PC{0,12}",
    ) {
        let files = bundled();
        if let Ok(o) = Override::parse(&format!("{key}={value}")) {
            check(&files[file % files.len()], &[o]);
        }
    }
}

#[test]
fn bundled_scenarios_parse() {
    for text in bundled() {
        parse_str(&text, "bundled.yaml", &[]).unwrap();
    }
}
