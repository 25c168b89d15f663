//! Support for the gate tests (`napkin compare` on real runs, `napkin ab`): the load tests'
//! server answering every request after a fixed delay (the injected slowdown,
//! `load_support::Http::delayed`), a one-action scenario for it, and the CLI run in-process.

#![allow(dead_code)]

#[path = "../load_support/mod.rs"]
mod load_support;

use std::path::{Path, PathBuf};

pub use load_support::{napkin_cmd as napkin, Http};

/// A scenario with one action (`get`, GET `path`) and the given `load:` lines (each indented
/// by two spaces), written to `dir/name`.
pub fn scenario(dir: &Path, name: &str, path: &str, load: &str) -> PathBuf {
    let text = format!(
        "name: gate\n\
         actions:\n\
         \x20 - name: get\n\
         \x20   per_second: 10\n\
         \x20   request: {{method: GET, path: {path}}}\n\
         load:\n{load}"
    );
    let file = dir.join(name);
    std::fs::write(&file, text).unwrap();
    file
}

pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}
