//! Validation of the `load:` block `napkin load` uses (target, key spaces, load model, stages,
//! timings, SLOs). Estimate ignores it, but a scenario with a bad load block is still rejected
//! up front so the load generator never sees one. Each action's `request:` is checked in
//! [`crate::validate_request`].

use std::time::Duration;

use yaml_serde::{Mapping, Value};

use crate::error::{index, join, Problem};
use crate::model::*;
use crate::raw::{RawKey, RawLoad};
use crate::values::{self, check_identifier, typed};

/// Validates `load:`. `actions` is the list of action names SLO scopes may use (`None`: any).
pub(crate) fn load(
    mut raw: RawLoad,
    path: &str,
    actions: Option<&[&str]>,
) -> Result<LoadSpec, Problem> {
    let mut l = LoadSpec::default();
    if let Some(t) = &raw.target {
        l.target = Some(target(t, &join(path, "target"))?);
    }
    if let Some(keys) = raw.keys.take() {
        l.keys = key_spaces(keys, &join(path, "keys"))?;
    }
    l.model = model(&raw, path)?;
    if let Some(a) = raw.arrivals.as_deref() {
        l.arrivals = match a {
            "uniform" => Arrivals::Uniform,
            "poisson" => Arrivals::Poisson,
            other => {
                return Err(Problem::new(
                    join(path, "arrivals"),
                    format!("`{other}` is not an arrival process; use uniform or poisson"),
                ))
            }
        };
    }
    if let Some(stages) = raw.stages {
        l.stages = self::stages(stages, &join(path, "stages"))?;
        if matches!(l.model, Some(LoadModel::Concurrency(_))) {
            return Err(Problem::new(
                join(path, "stages"),
                "stages set a rate profile, which the closed model (concurrency) has no use for; \
                 remove stages or concurrency",
            ));
        }
        l.duration = l.stages.iter().map(|s| s.duration).sum();
    }
    if let Some(v) = &raw.duration {
        l.duration = values::positive_duration(v, &join(path, "duration"))?;
    }
    if let Some(v) = &raw.warmup {
        l.warmup = values::duration(v, &join(path, "warmup"))?;
    }
    if l.warmup >= l.duration {
        return Err(Problem::new(
            join(path, "warmup"),
            format!(
                "warm-up ({:?}) is not shorter than the duration ({:?}); shorten warmup or lengthen duration",
                l.warmup, l.duration
            ),
        ));
    }
    if let Some(v) = &raw.connections {
        l.connections =
            values::whole(v, &join(path, "connections"), 1)?.min(u32::MAX as u64) as u32;
    }
    if let Some(v) = &raw.timeout {
        l.timeout = values::positive_duration(v, &join(path, "timeout"))?;
    }
    if let Some(slo) = raw.slo {
        l.slo = self::slo(slo, &join(path, "slo"), actions)?;
    }
    Ok(l)
}

fn target(t: &str, path: &str) -> Result<String, Problem> {
    let rest = t.strip_prefix("http://").unwrap_or("");
    if rest.is_empty() || rest.starts_with('/') {
        return Err(Problem::new(
            path,
            format!("`{t}` is not an http:// URL; write e.g. http://127.0.0.1:8080, or omit target to start the reference server"),
        ));
    }
    Ok(t.trim_end_matches('/').to_string())
}

fn model(raw: &RawLoad, path: &str) -> Result<Option<LoadModel>, Problem> {
    let given: Vec<&str> = [
        ("rate", raw.rate.is_some()),
        ("scale", raw.scale.is_some()),
        ("concurrency", raw.concurrency.is_some()),
    ]
    .into_iter()
    .filter_map(|(k, set)| set.then_some(k))
    .collect();
    if let [a, b, ..] = given.as_slice() {
        return Err(Problem::new(
            join(path, a),
            format!(
                "two load models given ({a} and {b}); keep at most one of rate, scale, concurrency"
            ),
        ));
    }
    if let Some(v) = &raw.rate {
        return Ok(Some(LoadModel::Rate(values::positive_count(
            v,
            &join(path, "rate"),
        )?)));
    }
    if let Some(v) = &raw.scale {
        let p = join(path, "scale");
        let x = values::ratio_at_least(v, &p, 0.0, "it is a fraction of the peak rate")?;
        if x == 0.0 {
            return Err(Problem::new(p, "must be above 0, e.g. 1e-4"));
        }
        return Ok(Some(LoadModel::Scale(x)));
    }
    if let Some(v) = &raw.concurrency {
        let n = values::whole(v, &join(path, "concurrency"), 1)?;
        return Ok(Some(LoadModel::Concurrency(n.min(u32::MAX as u64) as u32)));
    }
    Ok(None)
}

fn key_spaces(keys: Mapping, path: &str) -> Result<Vec<KeySpace>, Problem> {
    let mut out = Vec::with_capacity(keys.len());
    for (k, v) in keys {
        let name = values::scalar_text(&k, path, "a key-space name")?;
        let p = join(path, &name);
        check_identifier(&name, &p, "key-space name")?;
        let raw: RawKey = typed(v, &p)?;
        let count = values::whole(&raw.count, &join(&p, "count"), 1)?;
        let distribution = match (raw.distribution.as_deref(), &raw.exponent) {
            (Some("uniform"), None) | (None, None) => KeyDistribution::Uniform,
            (Some("uniform"), Some(_)) => {
                return Err(Problem::new(
                    join(&p, "exponent"),
                    "an exponent only applies to distribution: zipf; remove it or use zipf",
                ))
            }
            (Some("zipf") | None, e) => {
                let exponent = match e {
                    Some(v) => values::count(v, &join(&p, "exponent"))?,
                    None => 1.0,
                };
                if exponent <= 0.0 {
                    return Err(Problem::new(
                        join(&p, "exponent"),
                        "must be above 0 (1.0 is classic Zipf); use distribution: uniform for no skew",
                    ));
                }
                KeyDistribution::Zipf { exponent }
            }
            (Some(other), _) => {
                return Err(Problem::new(
                    join(&p, "distribution"),
                    format!("`{other}` is not a distribution; use uniform or zipf"),
                ))
            }
        };
        out.push(KeySpace {
            name,
            count,
            distribution,
        });
    }
    Ok(out)
}

fn stages(raw: Vec<crate::raw::RawStage>, path: &str) -> Result<Vec<Stage>, Problem> {
    if raw.is_empty() {
        return Err(Problem::new(
            path,
            "is empty; remove it or add entries like {duration: 10s, rate: 500}",
        ));
    }
    let mut out = Vec::with_capacity(raw.len());
    for (i, s) in raw.iter().enumerate() {
        let p = index(path, i);
        out.push(Stage {
            duration: values::duration(&s.duration, &join(&p, "duration"))?,
            rate: values::count(&s.rate, &join(&p, "rate"))?,
        });
    }
    if out.iter().map(|s| s.duration).sum::<Duration>().is_zero() {
        return Err(Problem::new(
            path,
            "the stages last 0 s in total; give them durations, e.g. {duration: 10s, rate: 500}",
        ));
    }
    Ok(out)
}

/// Validates an `slo:` mapping: scope -> {metric: limit}.
pub(crate) fn slo(raw: Mapping, path: &str, actions: Option<&[&str]>) -> Result<SloSpec, Problem> {
    let mut scopes = Vec::with_capacity(raw.len());
    for (k, v) in raw {
        let scope = values::scalar_text(&k, path, "a scope name")?;
        let p = join(path, &scope);
        if let Some(names) = actions {
            if scope != "all" && !names.contains(&scope.as_str()) {
                return Err(Problem {
                    path: p,
                    message: format!(
                        "`{scope}` is neither `all` nor an action; use all or one of: {}",
                        names.join(", ")
                    ),
                    at_key: true,
                });
            }
        }
        let Value::Mapping(limits) = v else {
            return Err(Problem::new(
                p,
                format!(
                    "expected thresholds like {{p99: 50ms, error_rate: 0.1%}}, found {}",
                    values::describe(&v)
                ),
            ));
        };
        let mut thresholds = Vec::with_capacity(limits.len());
        for (mk, mv) in &limits {
            let metric_name = values::scalar_text(mk, &p, "a metric name")?;
            let mp = join(&p, &metric_name);
            let Some(metric) = SloMetric::parse(&metric_name) else {
                let names: Vec<&str> = SloMetric::ALL.iter().map(|m| m.as_str()).collect();
                return Err(Problem {
                    path: mp,
                    message: format!(
                        "`{metric_name}` is not a metric; use one of: {}",
                        names.join(", ")
                    ),
                    at_key: true,
                });
            };
            let limit = match metric {
                SloMetric::ErrorRate => values::fraction(mv, &mp)?,
                SloMetric::MinRps => values::count(mv, &mp)?,
                _ => values::duration(mv, &mp)?.as_secs_f64() * 1e6,
            };
            thresholds.push(Threshold { metric, limit });
        }
        scopes.push(SloScope { scope, thresholds });
    }
    Ok(SloSpec { scopes })
}
