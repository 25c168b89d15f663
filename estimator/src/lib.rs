//! Scenario model, units and capacity-estimate maths for napkin.
//!
//! A scenario file is read in two steps: YAML into raw structs, then validation into the domain
//! types of [`model`], which carry base units only. [`estimate()`] turns a scenario into numbers.
//!
//! Entry points: [`load_file`] / [`parse_str`] (with `--set` [`Override`]s), [`load_slo_file`],
//! [`estimate()`]. Every failure is a [`ScenarioError`] naming `file:line:column`, the field path
//! and the fix.

mod error;
pub mod estimate;
pub mod fleet;
pub mod hotkeys;
pub mod human;
mod locate;
pub mod model;
mod overrides;
mod raw;
pub mod template;
pub mod units;
pub mod usl;
mod validate;
mod validate_fleet;
mod validate_load;
mod validate_request;
mod values;

use std::path::Path;

use yaml_serde::Value;

pub use error::ScenarioError;
pub use estimate::{estimate, ActionEstimate, CapacitySource, Estimate, Servers, Totals};
pub use model::*;
pub use overrides::Override;

use error::Problem;
use locate::Locator;

/// Reads and validates a scenario file, applying `overrides` first.
pub fn load_file(path: &Path, overrides: &[Override]) -> Result<Scenario, ScenarioError> {
    let origin = path.display().to_string();
    let text = read(path)?;
    let mut s = parse_str(&text, &origin, overrides)?;
    s.source = Some(path.to_path_buf());
    Ok(s)
}

/// Parses and validates scenario text; `origin` names it in errors (usually the file path).
pub fn parse_str(
    text: &str,
    origin: &str,
    overrides: &[Override],
) -> Result<Scenario, ScenarioError> {
    let mut root = parse_yaml(text, origin)?;
    let mut set = Vec::with_capacity(overrides.len());
    for o in overrides {
        set.push((o.apply(&mut root)?, o.text()));
    }
    let result = document(&root, "a scenario with `name:` and `actions:`").and_then(|()| {
        let raw: raw::RawScenario = values::typed(root, "")?;
        validate::scenario(raw)
    });
    result.map_err(|p| locate_problem(p, origin, text, &set))
}

/// Reads SLO thresholds for `napkin check --slo FILE`: a scenario file (its `load.slo`) or a
/// YAML file with only a top-level `slo:` block (scopes are then not checked against actions).
pub fn load_slo_file(path: &Path) -> Result<SloSpec, ScenarioError> {
    let origin = path.display().to_string();
    let text = read(path)?;
    let root = parse_yaml(&text, &origin)?;
    if root.get("actions").is_some() || root.get("name").is_some() {
        return Ok(parse_str(&text, &origin, &[])?.load.slo);
    }
    document(&root, "a scenario, or a file with a top-level `slo:` block")
        .and_then(|()| {
            let raw: raw::RawSloFile = values::typed(root, "")?;
            validate_load::slo(raw.slo, "slo", None)
        })
        .map_err(|p| locate_problem(p, &origin, &text, &[]))
}

fn read(path: &Path) -> Result<String, ScenarioError> {
    std::fs::read_to_string(path).map_err(|e| {
        ScenarioError::at(
            &path.display().to_string(),
            None,
            None,
            format!("cannot read the file: {e}; check the path"),
        )
    })
}

/// YAML text -> value tree (anchors and aliases resolved, `<<` merge keys applied).
fn parse_yaml(text: &str, origin: &str) -> Result<Value, ScenarioError> {
    let mut root: Value = yaml_serde::from_str(text).map_err(|e| {
        let pos = e.location().map(|l| (l.line(), l.column()));
        let mut msg = e.to_string();
        if let Some((l, c)) = pos {
            let suffix = format!(" at line {l} column {c}");
            if let Some(i) = msg.find(&suffix) {
                msg.replace_range(i..i + suffix.len(), "");
            }
        }
        ScenarioError::at(
            origin,
            pos,
            None,
            format!("malformed YAML: {msg}; check indentation, quotes and brackets here"),
        )
    })?;
    root.apply_merge().map_err(|e| {
        ScenarioError::at(origin, None, None, format!("bad YAML merge key (<<): {e}"))
    })?;
    Ok(root)
}

/// The document must be a mapping.
fn document(root: &Value, what: &str) -> Result<(), Problem> {
    match root {
        Value::Mapping(_) => Ok(()),
        Value::Null => Err(Problem::new("", format!("the file is empty; write {what}"))),
        other => Err(Problem::new(
            "",
            format!("expected {what}, found {}", values::describe(other)),
        )),
    }
}

/// Places a problem at the `--set` flag that supplied its value, else at `file:line:column` of
/// `text`. Only a failing scenario pays for the second read of its text that finds positions.
fn locate_problem(p: Problem, origin: &str, text: &str, set: &[(String, &str)]) -> ScenarioError {
    let field = (!p.path.is_empty()).then(|| p.path.clone());
    if let Some((_, flag)) = set.iter().find(|(c, _)| overrides::within(&p.path, c)) {
        return ScenarioError::set_flag(flag, field, p.message);
    }
    let pos = Locator::new(text).find(&p.path, p.at_key);
    ScenarioError::at(origin, pos, field, p.message)
}
