//! `--set KEY=VALUE` overrides for what-if questions. An override is applied to the YAML value
//! tree before validation, so an overridden value is checked exactly like one written in the
//! file. Keys are dotted paths: `users.daily_active`, `storage.retention`,
//! `actions.post_tweet.per_user_per_day` (an action by name) or `actions[0].per_day` (by index).

use yaml_serde::{Mapping, Value};

use crate::error::{index, join, ScenarioError};
use crate::locate::{parse_path, Seg};

/// One `--set KEY=VALUE`.
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    /// The key as written, e.g. `users.daily_active`.
    pub key: String,
    /// The value, read as a YAML scalar (`400M` is a string, `2` a number).
    pub value: Value,
    text: String,
    segs: Vec<Seg>,
}

impl Override {
    /// Parses `KEY=VALUE`, e.g. `users.daily_active=400M`.
    pub fn parse(text: &str) -> Result<Override, ScenarioError> {
        let err = |msg: &str| ScenarioError::set_flag(text, None, msg);
        let Some((key, raw)) = text.split_once('=') else {
            return Err(err(
                "expected KEY=VALUE, e.g. --set users.daily_active=400M",
            ));
        };
        let key = key.trim();
        let raw = raw.trim();
        let segs = parse_path(key).filter(|s| !s.is_empty()).ok_or_else(|| {
            err("the key is not a field path; write dotted keys like storage.retention, actions.post_tweet.per_day or actions[0].per_day")
        })?;
        if raw.is_empty() {
            return Err(err(
                "the value is empty; write a value after `=`, e.g. users.daily_active=400M",
            ));
        }
        let value = match yaml_serde::from_str::<Value>(raw) {
            Ok(v @ (Value::String(_) | Value::Number(_) | Value::Bool(_))) => v,
            _ => Value::String(raw.to_string()),
        };
        Ok(Override {
            key: key.to_string(),
            value,
            text: text.to_string(),
            segs,
        })
    }

    /// The flag as given, `KEY=VALUE`.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Sets the value in `root`, creating missing blocks; returns the canonical field path
    /// (`actions[0].per_day`) it landed on.
    pub(crate) fn apply(&self, root: &mut Value) -> Result<String, ScenarioError> {
        let mut cur = root;
        let mut canon = String::new();
        for (i, seg) in self.segs.iter().enumerate() {
            let last = i + 1 == self.segs.len();
            if cur.is_null() && matches!(seg, Seg::Key(_)) {
                *cur = Value::Mapping(Mapping::new());
            }
            let here = canon.clone();
            let fail = |msg: String| ScenarioError::set_flag(&self.text, Some(here.clone()), msg);
            cur = match (cur, seg) {
                (Value::Mapping(map), Seg::Key(k)) => {
                    canon = join(&canon, k);
                    let key = Value::String(k.clone());
                    if !map.contains_key(&key) {
                        map.insert(key.clone(), Value::Null);
                    }
                    map.get_mut(&key)
                        .ok_or_else(|| fail(format!("cannot set `{k}`")))?
                }
                (Value::Sequence(items), Seg::Key(name)) => {
                    let found = items.iter().position(|it| {
                        it.get("name").and_then(Value::as_str) == Some(name.as_str())
                    });
                    let Some(n) = found else {
                        let names: Vec<&str> = items
                            .iter()
                            .filter_map(|it| it.get("name").and_then(Value::as_str))
                            .collect();
                        return Err(fail(format!(
                            "no entry named `{name}`; use one of: {}",
                            names.join(", ")
                        )));
                    };
                    canon = index(&canon, n);
                    &mut items[n]
                }
                (Value::Sequence(items), Seg::Index(n)) => {
                    let len = items.len();
                    canon = index(&canon, *n);
                    items.get_mut(*n).ok_or_else(|| {
                        fail(format!(
                            "index {n} is out of range; the list has {len} entries"
                        ))
                    })?
                }
                (_, Seg::Index(n)) => {
                    return Err(fail(format!(
                        "there is no list here to take entry [{n}] of"
                    )))
                }
                (other, Seg::Key(k)) => {
                    return Err(fail(format!(
                        "is a single value, not a block; cannot set `{k}` inside it (found {})",
                        crate::values::describe(other)
                    )))
                }
            };
            if last {
                *cur = self.value.clone();
            }
        }
        Ok(canon)
    }
}

/// Whether `path` is `set` or lies inside it.
pub(crate) fn within(path: &str, set: &str) -> bool {
    path == set
        || path
            .strip_prefix(set)
            .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Value {
        yaml_serde::from_str("users: {daily_active: 1M}\ncache:\nactions:\n  - {name: a, per_day: 1}\n  - {name: b, per_day: 2}\n").unwrap()
    }

    #[test]
    fn parses_key_and_scalar_value() {
        let o = Override::parse("users.daily_active=400M").unwrap();
        assert_eq!(o.key, "users.daily_active");
        assert_eq!(o.value, Value::String("400M".into()));
        assert_eq!(
            Override::parse("peak_factor=3").unwrap().value,
            Value::from(3)
        );
        let o = Override::parse("actions[0].request.path=/u/{{user}}").unwrap();
        assert_eq!(o.value, Value::String("/u/{{user}}".into()));
    }

    #[test]
    fn rejects_malformed_flags() {
        for bad in ["users.daily_active", "=3", "a..b=1", "a=", "a[x]=1"] {
            let e = Override::parse(bad).unwrap_err();
            assert!(e.to_string().starts_with(&format!("--set {bad}: ")), "{e}");
        }
    }

    #[test]
    fn applies_by_key_name_and_index() {
        let mut v = doc();
        let p = Override::parse("users.daily_active=400M")
            .unwrap()
            .apply(&mut v)
            .unwrap();
        assert_eq!(p, "users.daily_active");
        assert_eq!(v["users"]["daily_active"], Value::String("400M".into()));
        let p = Override::parse("actions.b.per_day=5")
            .unwrap()
            .apply(&mut v)
            .unwrap();
        assert_eq!(p, "actions[1].per_day");
        assert_eq!(v["actions"][1]["per_day"], Value::from(5));
        let p = Override::parse("actions[0].per_day=7")
            .unwrap()
            .apply(&mut v)
            .unwrap();
        assert_eq!(p, "actions[0].per_day");
        // An empty block and a missing block are both created.
        Override::parse("cache.hot_fraction=0.2")
            .unwrap()
            .apply(&mut v)
            .unwrap();
        Override::parse("storage.retention=5y")
            .unwrap()
            .apply(&mut v)
            .unwrap();
        assert_eq!(v["storage"]["retention"], Value::String("5y".into()));
    }

    #[test]
    fn apply_errors_name_the_flag() {
        let mut v = doc();
        let e = Override::parse("actions.zzz.per_day=1")
            .unwrap()
            .apply(&mut v)
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "--set actions.zzz.per_day=1: actions: no entry named `zzz`; use one of: a, b"
        );
        let e = Override::parse("actions[9].per_day=1")
            .unwrap()
            .apply(&mut v)
            .unwrap_err();
        assert!(e.to_string().contains("out of range"), "{e}");
        let e = Override::parse("users.daily_active.x=1")
            .unwrap()
            .apply(&mut v)
            .unwrap_err();
        assert!(e.to_string().contains("not a block"), "{e}");
    }

    #[test]
    fn within_matches_the_path_and_its_children() {
        assert!(within("users.daily_active", "users.daily_active"));
        assert!(within("actions[0].per_day", "actions[0]"));
        assert!(!within("actions[01]", "actions[0]"));
        assert!(!within("users.daily_active_x", "users.daily_active"));
    }
}
