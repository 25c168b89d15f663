//! Scenario errors. Validation works on field paths (`actions[1].per_day`) and produces a
//! [`Problem`]; at the edge a problem is placed at `file:line:column` (or at the `--set` flag
//! that supplied the value) and becomes a [`ScenarioError`], the one error type users see.

use std::fmt;

/// What is wrong with a scenario, where, and how to fix it.
///
/// Displays as `LOCATION: FIELD: MESSAGE`, e.g.
/// `scenarios/x.yaml:12:7: actions[1].per_user_per_day: two rates given (...); keep exactly one
/// of ...`. `LOCATION` is `file:line:column`, a bare file name, or `--set KEY=VALUE` when the
/// value came from an override.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ScenarioError {
    /// The file (or origin name) the scenario came from, or `--set KEY=VALUE` when the value
    /// came from that flag.
    pub origin: String,
    /// 1-based line and column when known.
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// Field path such as `actions[1].per_user_per_day`, when the problem has one.
    pub field: Option<String>,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.location())?;
        if let Some(field) = &self.field {
            write!(f, "{field}: ")?;
        }
        f.write_str(&self.message)
    }
}

impl ScenarioError {
    /// `file:line:column`, `file`, or `--set KEY=VALUE`.
    pub fn location(&self) -> String {
        match (self.line, self.column) {
            (Some(l), Some(c)) => format!("{}:{l}:{c}", self.origin),
            _ => self.origin.clone(),
        }
    }

    /// An error placed at `origin:line:column`.
    pub fn at(
        origin: &str,
        pos: Option<(usize, usize)>,
        field: Option<String>,
        message: impl Into<String>,
    ) -> Self {
        ScenarioError {
            origin: origin.to_string(),
            line: pos.map(|p| p.0),
            column: pos.map(|p| p.1),
            field,
            message: message.into(),
        }
    }

    /// An error about a `--set` flag.
    pub fn set_flag(flag: &str, field: Option<String>, message: impl Into<String>) -> Self {
        ScenarioError {
            origin: format!("--set {flag}"),
            line: None,
            column: None,
            field,
            message: message.into(),
        }
    }
}

/// A validation problem at a field path, before it is placed in the file.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Problem {
    /// Canonical field path (`actions[1].request.path`); empty for the whole document.
    pub path: String,
    pub message: String,
    /// Point at the key rather than at the value (unknown fields).
    pub at_key: bool,
}

impl Problem {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            path: path.into(),
            message: message.into(),
            at_key: false,
        }
    }
}

/// Joins a parent path and a key: `join("actions[0]", "name")` is `actions[0].name`.
pub(crate) fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

/// Appends an index: `index("actions", 2)` is `actions[2]`.
pub(crate) fn index(parent: &str, i: usize) -> String {
    format!("{parent}[{i}]")
}
