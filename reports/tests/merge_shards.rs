//! `merge` of shard results (SPEC section 10): the inputs must be the shards of one run, each
//! once, all of them unless a partial result is allowed; the merged `shard` object lists them
//! with their start lags and the skew; counts add up as for any merge.

use std::path::PathBuf;

use reports::fixture::sample_run;
use reports::merge::{merge_with, Input, Options};
use reports::{RunResult, ShardInfo};

fn shard(index: u32, count: u32, run_id: &str, lag_us: i64) -> Input {
    let mut run: RunResult = sample_run();
    run.settings.start_lag_us = Some(lag_us);
    run.shard = Some(ShardInfo {
        index: Some(index),
        count,
        run_id: run_id.into(),
        ..ShardInfo::default()
    });
    Input {
        path: PathBuf::from(format!("{run_id}-{index}.json")),
        run,
    }
}

fn strict() -> Options {
    Options::default()
}

fn partial() -> Options {
    Options {
        allow_partial: true,
        ..Options::default()
    }
}

fn error(inputs: &[Input], options: &Options) -> String {
    merge_with(inputs, options).unwrap_err().to_string()
}

#[test]
fn all_shards_of_one_run_merge_with_their_skew() {
    let inputs = [
        shard(2, 3, "r", 900),
        shard(0, 3, "r", 100),
        shard(1, 3, "r", 450),
    ];
    let m = merge_with(&inputs, &strict()).unwrap();
    let s = m.shard.unwrap();
    assert_eq!((s.index, s.count, s.run_id.as_str()), (None, 3, "r"));
    let held: Vec<(u32, Option<i64>)> =
        s.merged.iter().map(|m| (m.index, m.start_lag_us)).collect();
    assert_eq!(held, [(0, Some(100)), (1, Some(450)), (2, Some(900))]);
    assert_eq!(s.start_skew_us, Some(800));
    assert!(!s.partial && s.missing.is_empty());
    assert_eq!(m.requests, 3 * sample_run().requests);
    assert_eq!(m.settings.start_lag_us, Some(900));
}

#[test]
fn shards_of_other_runs_or_counts_and_non_shards_are_refused() {
    let e = error(&[shard(0, 2, "a", 0), shard(1, 2, "b", 0)], &partial());
    assert!(
        e.contains("shard 0/2 of run a") && e.contains("shard 1/2 of run b"),
        "{e}"
    );
    assert!(e.contains("different runs"), "{e}");
    let e = error(&[shard(0, 2, "a", 0), shard(1, 3, "a", 0)], &partial());
    assert!(
        e.contains("one shard count") && e.contains("--shard N"),
        "{e}"
    );
    let plain = Input {
        path: PathBuf::from("plain.json"),
        run: sample_run(),
    };
    let e = error(&[shard(0, 2, "a", 0), plain], &partial());
    assert!(e.contains("plain.json is not a shard result"), "{e}");
}

#[test]
fn missing_and_duplicate_shards_are_named() {
    let e = error(&[shard(0, 4, "r", 0), shard(2, 4, "r", 0)], &strict());
    assert!(
        e.contains("shards 1, 3 are missing (given: shards 0, 2)"),
        "{e}"
    );
    assert!(e.contains("--allow-partial"), "{e}");
    let e = error(
        &[
            shard(0, 2, "r", 0),
            shard(1, 2, "r", 0),
            shard(1, 2, "r", 0),
        ],
        &partial(),
    );
    assert!(
        e.contains("shard 1/2 of run r is in both r-1.json and r-1.json"),
        "{e}"
    );
    // Partial allowed: marked, and the missing shards listed.
    let m = merge_with(&[shard(0, 4, "r", 0), shard(2, 4, "r", 0)], &partial()).unwrap();
    let s = m.shard.unwrap();
    assert!(s.partial);
    assert_eq!(s.missing, [1, 3]);
}

#[test]
fn a_merged_result_counts_as_the_shards_it_holds() {
    let first = merge_with(&[shard(0, 3, "r", 5), shard(2, 3, "r", 7)], &partial()).unwrap();
    let first = Input {
        path: PathBuf::from("partial.json"),
        run: first,
    };
    let whole = merge_with(&[first.clone(), shard(1, 3, "r", 9)], &strict()).unwrap();
    let s = whole.shard.unwrap();
    assert!(!s.partial, "{s:?}");
    assert_eq!(s.merged.len(), 3);
    assert_eq!(s.start_skew_us, Some(4));
    assert_eq!(whole.requests, 3 * sample_run().requests);
    let e = error(&[first, shard(2, 3, "r", 0)], &partial());
    assert!(
        e.contains("shard 2/3 of run r is in both partial.json and r-2.json"),
        "{e}"
    );
}

#[test]
fn old_run_files_without_shards_still_load_and_merge() {
    let mut json: serde_json::Value = serde_json::to_value(sample_run()).unwrap();
    let obj = json.as_object_mut().unwrap();
    obj.remove("shard");
    obj["settings"].as_object_mut().unwrap().remove("start_at");
    let run: RunResult = serde_json::from_value(json).unwrap();
    assert_eq!(run.shard, None);
    let input = Input {
        path: PathBuf::from("old.json"),
        run,
    };
    let m = merge_with(&[input.clone(), input], &strict()).unwrap();
    assert_eq!(m.shard, None);
}
