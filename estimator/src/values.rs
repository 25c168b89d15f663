//! Typed reads of single YAML values at a field path: a count, size, duration or fraction from a
//! scalar, an identifier, and a raw serde struct from a subtree (with serde's own path appended).
//! Every failure is a [`Problem`] at that path.

use std::time::Duration;

use serde::de::DeserializeOwned;
use yaml_serde::Value;

use crate::error::{join, Problem};
use crate::units;

/// The text of a scalar (numbers as written by yaml_serde), or a problem naming what was found.
pub(crate) fn scalar_text(v: &Value, path: &str, what: &str) -> Result<String, Problem> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Tagged(t) => scalar_text(&t.value, path, what),
        other => Err(Problem::new(
            path,
            format!("expected {what}, found {}", describe(other)),
        )),
    }
}

/// A short name for the kind of a YAML value, for messages.
pub(crate) fn describe(v: &Value) -> &'static str {
    match v {
        Value::Null => "nothing (an empty value)",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

/// Names of actions, key spaces and pools are identifiers, so that `--set actions.NAME.field`,
/// SLO scopes and templates (`{{NAME}}`) can name them.
pub(crate) fn check_identifier(name: &str, path: &str, what: &str) -> Result<(), Problem> {
    let ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(Problem::new(
            path,
            format!(
                "`{name}` is not a valid {what}; use letters, digits, _ and -, e.g. post_tweet"
            ),
        ))
    }
}

fn with_unit<T>(
    v: &Value,
    path: &str,
    what: &str,
    parse: fn(&str) -> Result<T, String>,
) -> Result<T, Problem> {
    let text = scalar_text(v, path, what)?;
    parse(&text).map_err(|m| Problem::new(path, m))
}

pub(crate) fn count(v: &Value, path: &str) -> Result<f64, Problem> {
    with_unit(v, path, "a count like 200M", units::count)
}

/// A count that must be above zero.
pub(crate) fn positive_count(v: &Value, path: &str) -> Result<f64, Problem> {
    let x = count(v, path)?;
    if x > 0.0 {
        Ok(x)
    } else {
        Err(Problem::new(path, "must be above 0"))
    }
}

/// A whole count of at least `min` (connections, concurrency, key-space sizes).
pub(crate) fn whole(v: &Value, path: &str, min: u64) -> Result<u64, Problem> {
    let x = count(v, path)?;
    if x.fract() != 0.0 || x > u32::MAX as f64 * 1e6 {
        return Err(Problem::new(
            path,
            format!(
                "`{}` is not a whole number; write a whole number like 64",
                fmt(x)
            ),
        ));
    }
    if (x as u64) < min {
        return Err(Problem::new(path, format!("must be at least {min}")));
    }
    Ok(x as u64)
}

pub(crate) fn size(v: &Value, path: &str) -> Result<u64, Problem> {
    with_unit(v, path, "a size like 200KB", units::size)
}

pub(crate) fn duration(v: &Value, path: &str) -> Result<Duration, Problem> {
    with_unit(v, path, "a duration like 10s", units::duration)
}

/// A duration that must be above zero.
pub(crate) fn positive_duration(v: &Value, path: &str) -> Result<Duration, Problem> {
    let d = duration(v, path)?;
    if d.is_zero() {
        Err(Problem::new(path, "must be longer than 0; e.g. 10s"))
    } else {
        Ok(d)
    }
}

pub(crate) fn fraction(v: &Value, path: &str) -> Result<f64, Problem> {
    with_unit(v, path, "a fraction like 0.2 or 20%", units::fraction)
}

/// A ratio of at least `min` (peak factor, replication).
pub(crate) fn ratio_at_least(v: &Value, path: &str, min: f64, why: &str) -> Result<f64, Problem> {
    let text = scalar_text(v, path, "a number")?;
    let x =
        units::ratio(&text, "write a plain number like 2").map_err(|m| Problem::new(path, m))?;
    if x < min {
        return Err(Problem::new(
            path,
            format!("`{text}` is below {min}; {why}"),
        ));
    }
    Ok(x)
}

fn fmt(x: f64) -> String {
    format!("{x}")
}

/// Deserializes a subtree into a raw struct; serde's own path is appended to `path`.
pub(crate) fn typed<T: DeserializeOwned>(v: Value, path: &str) -> Result<T, Problem> {
    serde_path_to_error::deserialize(v).map_err(|e| {
        let inner = e.path().to_string();
        let full = if inner == "." || inner.is_empty() {
            path.to_string()
        } else {
            join(path, &inner)
        };
        serde_problem(full, &e.inner().to_string())
    })
}

/// Turns a serde message into one that says how to fix it.
fn serde_problem(path: String, msg: &str) -> Problem {
    let msg = friendly_types(msg);
    if let Some(rest) = msg.strip_prefix("unknown field `") {
        let (name, expected) = rest.split_once('`').unwrap_or((rest, ""));
        let allowed: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
        let hint = match closest(name, &allowed) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!("remove it; allowed here: {}", allowed.join(", ")),
        };
        return Problem {
            path,
            message: format!("unknown field `{name}`; {hint}"),
            at_key: true,
        };
    }
    if let Some(rest) = msg.strip_prefix("missing field `") {
        let name = rest.split('`').next().unwrap_or(rest);
        return Problem::new(path, format!("missing field `{name}`; add `{name}:` here"));
    }
    Problem::new(path, msg)
}

/// serde names our raw structs (`struct RawUsers`); users know them as blocks.
fn friendly_types(msg: &str) -> String {
    match msg.find("struct Raw") {
        Some(i) => {
            let end = msg[i + 7..]
                .find(|c: char| !c.is_alphanumeric())
                .map_or(msg.len(), |j| i + 7 + j);
            format!("{}a mapping (key: value block){}", &msg[..i], &msg[end..])
        }
        None => msg.to_string(),
    }
}

/// The allowed name within edit distance 2 of `name`, if any.
fn closest<'a>(name: &str, allowed: &[&'a str]) -> Option<&'a str> {
    allowed
        .iter()
        .map(|a| (edit_distance(name, a), *a))
        .filter(|(d, _)| *d <= 2 || (*d <= 4 && *d * 3 <= name.len()))
        .min_by_key(|(d, _)| *d)
        .map(|(_, a)| a)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_get_a_suggestion() {
        let p = serde_problem(
            "actions[0].per_usr_per_day".into(),
            "unknown field `per_usr_per_day`, expected one of `name`, `per_user_per_day`, `per_day`",
        );
        assert!(p.at_key);
        assert_eq!(
            p.message,
            "unknown field `per_usr_per_day`; did you mean `per_user_per_day`?"
        );
        let p = serde_problem("x".into(), "unknown field `zzz`, expected `a` or `b`");
        assert_eq!(
            p.message,
            "unknown field `zzz`; remove it; allowed here: a, b"
        );
    }

    #[test]
    fn raw_struct_names_do_not_leak() {
        assert_eq!(
            friendly_types("invalid type: integer `5`, expected struct RawUsers"),
            "invalid type: integer `5`, expected a mapping (key: value block)"
        );
    }

    #[test]
    fn edit_distance_counts_edits() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "ab"), 2);
        assert_eq!(edit_distance("per_dy", "per_day"), 1);
    }
}
