//! The shard checks of `napkin merge` (SPEC section 10): shard results merge only with the
//! other shards of the same run, each shard once, all of them unless a partial result is
//! asked for. A merged result may be merged again with the shards it lacks: it counts as the
//! shards it holds.

use std::collections::BTreeMap;

use crate::error::ReportError;
use crate::merge::Input;
use crate::run::{ShardInfo, ShardStart};

/// The `shard` object of the merge of `inputs`, or `None` when no input is a shard result.
/// Errors (bad input) name the files: shards of different runs or shard counts, a shard
/// given twice, shards missing (unless `allow_partial`), shard results mixed with others.
pub fn check(inputs: &[Input], allow_partial: bool) -> Result<Option<ShardInfo>, ReportError> {
    let Some(first) = inputs.iter().find(|i| i.run.shard.is_some()) else {
        return Ok(None);
    };
    let head = first.run.shard.as_ref().expect("found");
    let mut held: BTreeMap<u32, (&Input, ShardStart)> = BTreeMap::new();
    for input in inputs {
        let shard = same_run(input, first, head)?;
        for start in holds(input, shard)? {
            if let Some((other, _)) = held.get(&start.index) {
                return Err(ReportError::Invalid(format!(
                    "shard {}/{} of run {} is in both {} and {}; give each shard's result once",
                    start.index,
                    head.count,
                    head.run_id,
                    other.path.display(),
                    input.path.display()
                )));
            }
            held.insert(start.index, (input, start));
        }
    }
    let missing: Vec<u32> = (0..head.count).filter(|i| !held.contains_key(i)).collect();
    if !missing.is_empty() && !allow_partial {
        return Err(ReportError::Invalid(format!(
            "run {} has {} shards but {} {} missing (given: {}); add the missing results, or \
             pass --allow-partial to merge what is there (the result is then marked partial)",
            head.run_id,
            head.count,
            list("shard", &missing),
            if missing.len() == 1 { "is" } else { "are" },
            list("shard", &held.keys().copied().collect::<Vec<_>>()),
        )));
    }
    let merged: Vec<ShardStart> = held.into_values().map(|(_, s)| s).collect();
    let lags: Vec<i64> = merged.iter().filter_map(|s| s.start_lag_us).collect();
    let skew = match (lags.iter().max(), lags.iter().min()) {
        (Some(max), Some(min)) => Some(max - min),
        _ => None,
    };
    Ok(Some(ShardInfo {
        index: None,
        count: head.count,
        run_id: head.run_id.clone(),
        merged,
        partial: !missing.is_empty(),
        missing,
        start_skew_us: skew,
    }))
}

/// `input`'s shard object, checked against the first shard result's run and shard count.
fn same_run<'a>(
    input: &'a Input,
    first: &Input,
    head: &ShardInfo,
) -> Result<&'a ShardInfo, ReportError> {
    let Some(shard) = &input.run.shard else {
        return Err(ReportError::Invalid(format!(
            "{} is {} but {} is not a shard result; merge the shards of one run only",
            first.path.display(),
            describe(head),
            input.path.display()
        )));
    };
    if shard.run_id != head.run_id {
        return Err(ReportError::Invalid(format!(
            "{} is {} but {} is {}: they belong to different runs; merge the shards of one run \
             (same --run-id, or the same scenario, seed, shard count and --start-at)",
            first.path.display(),
            describe(head),
            input.path.display(),
            describe(shard)
        )));
    }
    if shard.count != head.count {
        return Err(ReportError::Invalid(format!(
            "{} is {} but {} is {}: a run has one shard count; rerun the odd one with the same \
             --shard N",
            first.path.display(),
            describe(head),
            input.path.display(),
            describe(shard)
        )));
    }
    Ok(shard)
}

/// The shards an input holds: its own index, or a merged input's shards.
fn holds(input: &Input, shard: &ShardInfo) -> Result<Vec<ShardStart>, ReportError> {
    let held = match shard.index {
        Some(index) => vec![ShardStart {
            index,
            start_lag_us: input.run.settings.start_lag_us,
        }],
        None => shard.merged.clone(),
    };
    if let Some(bad) = held.iter().find(|s| s.index >= shard.count) {
        return Err(ReportError::Invalid(format!(
            "{}: shard index {} is not below the shard count {}; the file is damaged",
            input.path.display(),
            bad.index,
            shard.count
        )));
    }
    Ok(held)
}

/// One line for people: which shard this is, or which shards a merge holds, their start
/// skew, and what is missing.
pub fn describe_line(s: &ShardInfo) -> String {
    if s.index.is_some() {
        return describe(s);
    }
    let held: Vec<u32> = s.merged.iter().map(|m| m.index).collect();
    let mut line = format!(
        "{} of the {} of run {} merged",
        list("shard", &held),
        s.count,
        s.run_id
    );
    if let Some(skew) = s.start_skew_us {
        line.push_str(&format!(
            "; start skew {} (latest minus earliest shard start, each by its own clock)",
            crate::units::fmt_us(skew as f64)
        ));
    }
    if s.partial {
        line.push_str(&format!(
            "\nPARTIAL: {} missing; counts and rates cover only the shards merged",
            list("shard", &s.missing)
        ));
    }
    line
}

fn describe(s: &ShardInfo) -> String {
    match s.index {
        Some(i) => format!("shard {i}/{} of run {}", s.count, s.run_id),
        None => format!(
            "a merge of {} of the {} shards of run {}",
            s.merged.len(),
            s.count,
            s.run_id
        ),
    }
}

fn list(what: &str, indices: &[u32]) -> String {
    let items: Vec<String> = indices.iter().map(u32::to_string).collect();
    match items.len() {
        0 => format!("no {what}s"),
        1 => format!("{what} {}", items[0]),
        _ => format!("{what}s {}", items.join(", ")),
    }
}
