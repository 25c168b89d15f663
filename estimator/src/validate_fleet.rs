//! Validation of what plans the fleet: the `capacity:` block (per-server capacities, the
//! utilization app servers are planned at, the N+k redundancy) and `regions:` (shares of the
//! peak traffic that add up to 100%, unique names, per-region redundancy).

use yaml_serde::Value;

use crate::error::{index, join, Problem};
use crate::model::{Capacity, Region};
use crate::raw::RawScenario;
use crate::values::{self, check_identifier};

/// Shares must add up to 100% within this.
pub const SHARE_TOLERANCE: f64 = 0.001;

pub(crate) fn capacity(raw: &RawScenario) -> Result<Capacity, Problem> {
    let mut c = Capacity::default();
    let Some(r) = &raw.capacity else { return Ok(c) };
    if let Some(v) = &r.rps_per_server {
        c.rps_per_server = Some(values::positive_count(v, "capacity.rps_per_server")?);
    }
    let positive_size = |v: &Value, path: &str| -> Result<u64, Problem> {
        match values::size(v, path)? {
            0 => Err(Problem::new(path, "must be above 0, e.g. 4TB")),
            n => Ok(n),
        }
    };
    if let Some(v) = &r.storage_per_server {
        c.storage_per_server = Some(positive_size(v, "capacity.storage_per_server")?);
    }
    if let Some(v) = &r.memory_per_server {
        c.memory_per_server = Some(positive_size(v, "capacity.memory_per_server")?);
    }
    if let Some(v) = &r.utilization {
        c.utilization = values::fraction(v, "capacity.utilization")?;
        if c.utilization == 0.0 {
            return Err(Problem::new(
                "capacity.utilization",
                "is 0, so no server could take any traffic; plan servers to run at e.g. 70%",
            ));
        }
    }
    if let Some(v) = &r.redundancy {
        c.redundancy = redundancy(v, "capacity.redundancy")?;
    }
    Ok(c)
}

fn redundancy(v: &Value, path: &str) -> Result<u32, Problem> {
    let n = values::whole(v, path, 0)?;
    u32::try_from(n).map_err(|_| Problem::new(path, "is too large; N+k spares are a few servers"))
}

pub(crate) fn regions(raw: &RawScenario) -> Result<Vec<Region>, Problem> {
    let Some(list) = &raw.regions else {
        return Ok(Vec::new());
    };
    if list.is_empty() {
        return Err(Problem::new(
            "regions",
            "is empty; list the regions with their shares of the traffic, e.g. \
             `- {name: eu, share: 40%}`, or leave `regions:` out for one region",
        ));
    }
    let mut regions: Vec<Region> = Vec::with_capacity(list.len());
    for (i, r) in list.iter().enumerate() {
        let path = index("regions", i);
        let name_path = join(&path, "name");
        check_identifier(&r.name, &name_path, "region name")?;
        if regions.iter().any(|x| x.name == r.name) {
            return Err(Problem::new(
                &name_path,
                format!(
                    "region `{}` is listed twice; give each region one entry",
                    r.name
                ),
            ));
        }
        let share_path = join(&path, "share");
        // `41.2%` / 100 is 0.41200000000000003 in binary; rounded to 12 digits it prints as
        // written (0.412) in the JSON.
        let share = (values::fraction(&r.share, &share_path)? * 1e12).round() / 1e12;
        if share == 0.0 {
            return Err(Problem::new(
                &share_path,
                "is 0; a region takes a positive share of the traffic (or leave it out)",
            ));
        }
        let redundancy = r
            .redundancy
            .as_ref()
            .map(|v| redundancy(v, &join(&path, "redundancy")))
            .transpose()?;
        regions.push(Region {
            name: r.name.clone(),
            share,
            redundancy,
        });
    }
    let total: f64 = regions.iter().map(|r| r.share).sum();
    if (total - 1.0).abs() > SHARE_TOLERANCE {
        let listed: Vec<String> = regions
            .iter()
            .map(|r| format!("{} {}", r.name, crate::human::percent(r.share)))
            .collect();
        return Err(Problem::new(
            "regions",
            format!(
                "the shares add up to {} ({}); they must add up to 100% (within 0.1%)",
                crate::human::percent(total),
                listed.join(" + ")
            ),
        ));
    }
    Ok(regions)
}
