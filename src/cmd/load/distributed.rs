//! The flags of a distributed run (docs/distributed.md, SPEC section 10), read and checked at
//! the edge: `--shard I/N` (which part of the run this process carries out), `--start-at TIME`
//! (RFC 3339: when every shard starts) and `--run-id` (what ties the shards' results together
//! for `napkin merge`). The engine only sees a [`loadgen::Shard`] and a start instant.

use std::time::{Duration, SystemTime};

use anyhow::{anyhow, bail};
use loadgen::Shard;

use super::settings::{Model, Settings, TargetChoice};
use super::LoadArgs;

/// A start time further ahead than this is taken for a typo (a shard would sit idle for days).
pub const MAX_START_AHEAD: Duration = Duration::from_secs(24 * 3600);

/// Longest `--run-id` accepted.
const MAX_RUN_ID: usize = 200;

/// `--shard I/N`, or the whole run.
pub fn shard(args: &LoadArgs) -> anyhow::Result<Shard> {
    match &args.shard {
        None => Ok(Shard::WHOLE),
        Some(text) => text.parse().map_err(|e| anyhow!("--shard: {e}")),
    }
}

/// `--start-at TIME`: RFC 3339 (`2026-12-01T12:00:00Z`, `2026-12-01T13:00:00+01:00`). It may
/// have passed by at most the warm-up (the shard then skips the warm-up requests already due)
/// and lie at most [`MAX_START_AHEAD`] ahead of `now`.
pub fn start_at(
    args: &LoadArgs,
    warmup: Duration,
    now: SystemTime,
) -> anyhow::Result<Option<SystemTime>> {
    let Some(text) = &args.start_at else {
        return Ok(None);
    };
    let example = "e.g. 2026-12-01T12:00:00Z or 2026-12-01T13:00:00+01:00; in a shell, \
                   $(date -u -d '+1 min' +%Y-%m-%dT%H:%M:%SZ) is a minute from now";
    let at: SystemTime = text
        .trim()
        .parse::<jiff::Timestamp>()
        .map_err(|e| {
            anyhow!(
                "--start-at: {text:?} is not an RFC 3339 time with a UTC offset ({e}); {example}"
            )
        })?
        .into();
    match now.duration_since(at) {
        Ok(late) if late > warmup => bail!(
            "--start-at {text} passed {:.1} s ago, more than the warm-up ({:.1} s): a shard \
             starting this late would miss measured requests; pick a time in the future \
             ({example})",
            late.as_secs_f64(),
            warmup.as_secs_f64()
        ),
        Ok(_) => Ok(Some(at)),
        Err(ahead) if ahead.duration() > MAX_START_AHEAD => bail!(
            "--start-at {text} is {:.1} h away, more than 24 h: check the date ({example})",
            ahead.duration().as_secs_f64() / 3600.0
        ),
        Err(_) => Ok(Some(at)),
    }
}

/// `--run-id`, or (sharded runs) one derived from the scenario, seed, shard count and start
/// time, e.g. `twitter-seed1-4shards-20261201T120000Z`; `None` when not sharded.
pub fn run_id(
    args: &LoadArgs,
    scenario: &str,
    seed: u64,
    start_at: Option<SystemTime>,
) -> anyhow::Result<Option<String>> {
    if let Some(id) = &args.run_id {
        if id.is_empty()
            || id.len() > MAX_RUN_ID
            || id.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            bail!(
                "--run-id {id:?}: give 1 to {MAX_RUN_ID} characters without spaces, e.g. \
                 checkout-peak-2026-12-01"
            );
        }
        return Ok(Some(id.clone()));
    }
    let Some(shard) = &args.shard else {
        return Ok(None);
    };
    let count = shard.parse::<Shard>().map(|s| s.count()).unwrap_or(0);
    let name: String = scenario
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let mut id = format!("{name}-seed{seed}-{count}shards");
    if let Some(at) = start_at {
        let stamp: String = humantime::format_rfc3339_seconds(at)
            .to_string()
            .chars()
            .filter(|c| !matches!(c, '-' | ':'))
            .collect();
        id = format!("{id}-{stamp}");
    }
    Ok(Some(id))
}

/// A sharded run needs a target every shard can reach, and a connection or user per shard.
pub fn check_division(s: &Settings) -> anyhow::Result<()> {
    if s.shard.is_whole() {
        return Ok(());
    }
    if s.target == TargetChoice::Embedded {
        bail!(
            "--shard {} needs a target that every shard loads: pass --target URL (or set \
             load.target); without one each shard would start its own reference server",
            s.shard
        );
    }
    let (total, flag) = match s.model {
        Model::Open { .. } => (s.connections as usize, "--connections"),
        Model::Closed { users, .. } => (users as usize, "--concurrency"),
    };
    if total < s.shard.count() as usize {
        bail!(
            "{flag} {total} cannot be divided over {} shards: each shard needs at least one \
             (connections and users are divided between the shards, the rate is the whole \
             run's); raise {flag} to {} or more",
            s.shard.count(),
            s.shard.count()
        );
    }
    Ok(())
}

/// The line a shard prints before it waits: which shard, which run, when it starts.
pub fn announcement(s: &Settings, now: SystemTime) -> Option<String> {
    let when = s.start_at.map(|at| {
        let wait = at.duration_since(now).unwrap_or(Duration::ZERO);
        format!(
            "starts at {} (in {:.1} s, by this machine's clock)",
            humantime::format_rfc3339_millis(at),
            wait.as_secs_f64()
        )
    });
    match (&s.run_id, when) {
        (Some(id), Some(when)) => Some(format!("shard {} of run {id}: {when}", s.shard)),
        (Some(id), None) => Some(format!(
            "shard {} of run {id}: starts now (no --start-at: shards start as they are launched)",
            s.shard
        )),
        (None, Some(when)) => Some(format!("run {when}")),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn args(extra: &[&str]) -> LoadArgs {
        #[derive(Parser)]
        struct Wrap {
            #[command(flatten)]
            load: LoadArgs,
        }
        let mut argv = vec!["napkin", "s.yaml"];
        argv.extend_from_slice(extra);
        Wrap::parse_from(argv).load
    }

    #[test]
    fn start_times_parse_with_offsets_and_are_checked_against_now() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let warmup = Duration::from_secs(5);
        let at = |t: &str| start_at(&args(&["--start-at", t]), warmup, now);
        // 1_800_000_000 s = 2027-01-15T08:00:00Z.
        let utc = at("2027-01-15T08:00:10Z").unwrap().unwrap();
        assert_eq!(utc, now + Duration::from_secs(10));
        assert_eq!(at("2027-01-15T09:00:10+01:00").unwrap(), Some(utc));
        // Past, within the warm-up: allowed; beyond it: an error naming both.
        assert!(at("2027-01-15T07:59:57Z").unwrap().is_some());
        let late = at("2027-01-15T07:59:50Z").unwrap_err().to_string();
        assert!(
            late.contains("10.0 s ago") && late.contains("warm-up (5.0 s)"),
            "{late}"
        );
        let far = at("2027-01-17T08:00:00Z").unwrap_err().to_string();
        assert!(far.contains("48.0 h away"), "{far}");
        for bad in [
            "2027-01-15 08:00",
            "2027-01-15T08:00:10",
            "tomorrow",
            "1800000000",
        ] {
            let e = at(bad).unwrap_err().to_string();
            assert!(
                e.contains("not an RFC 3339 time") && e.contains("e.g."),
                "{e}"
            );
        }
    }

    #[test]
    fn run_ids_are_derived_from_scenario_seed_count_and_start() {
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let a = args(&["--shard", "1/4"]);
        assert_eq!(
            run_id(&a, "my shop", 7, Some(at)).unwrap().unwrap(),
            "my-shop-seed7-4shards-20270115T080000Z"
        );
        assert_eq!(
            run_id(&a, "twitter", 1, None).unwrap().unwrap(),
            "twitter-seed1-4shards"
        );
        assert_eq!(run_id(&args(&[]), "twitter", 1, None).unwrap(), None);
        let given = args(&["--shard", "0/2", "--run-id", "peak-1"]);
        assert_eq!(run_id(&given, "x", 1, None).unwrap().unwrap(), "peak-1");
        let bad = args(&["--shard", "0/2", "--run-id", "a b"]);
        assert!(run_id(&bad, "x", 1, None).is_err());
    }
}
