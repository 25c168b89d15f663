//! The app tier's fleet plan: per region, `ceil(region peak / (rps_per_server x
//! utilization)) + redundancy` servers (SPEC section 4). Planning for the peak and adding N+k
//! spares per region follows the Google SRE book (chapter 2): N+2 covers one instance down
//! for an update while another fails; a small region may deliberately run N+1 when a global
//! load balancer can shed its overflow to the others.

use serde::Serialize;

use crate::model::{Capacity, Region};

/// One region of the plan (`regions` in the JSON of SPEC section 4).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RegionPlan {
    pub name: String,
    pub share: f64,
    pub peak_rps: f64,
    pub app: u64,
}

/// Servers to carry `load` at `per_server` each, rounded up (0 without load). A relative
/// slack of 1e-9 keeps float noise (2.0000000001 servers) from adding a server.
pub fn servers(load: f64, per_server: f64) -> u64 {
    (load / per_server * (1.0 - 1e-9)).ceil().max(0.0) as u64
}

/// App servers for `peak_rps` of traffic: per region (one region holding everything when
/// `regions` is empty), planned at `rps_per_server x utilization`, plus the region's N+k
/// spares. `None` without `rps_per_server`.
pub fn plan_app(
    peak_rps: f64,
    capacity: &Capacity,
    regions: &[Region],
) -> Option<(u64, Vec<RegionPlan>)> {
    let per_server = capacity.rps_per_server? * capacity.utilization;
    let one = [Region {
        name: "all".to_string(),
        share: 1.0,
        redundancy: None,
    }];
    let list = if regions.is_empty() {
        &one[..]
    } else {
        regions
    };
    let plans: Vec<RegionPlan> = list
        .iter()
        .map(|r| {
            let peak = peak_rps * r.share;
            let spare = r.redundancy.unwrap_or(capacity.redundancy);
            RegionPlan {
                name: r.name.clone(),
                share: r.share,
                peak_rps: peak,
                app: servers(peak, per_server) + u64::from(spare),
            }
        })
        .collect();
    let total = plans.iter().map(|p| p.app).sum();
    Some((
        total,
        if regions.is_empty() {
            Vec::new()
        } else {
            plans
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn capacity(rps: f64, redundancy: u32) -> Capacity {
        Capacity {
            rps_per_server: Some(rps),
            redundancy,
            ..Capacity::default()
        }
    }

    fn region(name: &str, share: f64, redundancy: Option<u32>) -> Region {
        Region {
            name: name.into(),
            share,
            redundancy,
        }
    }

    #[test]
    fn the_sre_book_worked_example() {
        // Google SRE book, chapter 2: 3,470 QPS at peak, one task serves about 100 QPS:
        // 35 tasks, and N+2 = 37.
        let (total, regions) = plan_app(3470.0, &capacity(100.0, 2), &[]).unwrap();
        assert_eq!(total, 37);
        assert!(regions.is_empty());
        // Split by region: N+2 each, but South America deliberately N+1.
        let split = [
            region("north_america", 0.412, None),
            region("europe", 0.403, None),
            region("asia", 0.101, None),
            region("south_america", 0.084, Some(1)),
        ];
        let (total, regions) = plan_app(3470.0, &capacity(100.0, 2), &split).unwrap();
        let apps: Vec<u64> = regions.iter().map(|r| r.app).collect();
        assert_eq!(apps, vec![17, 16, 6, 4]);
        assert_eq!(total, 43);
        assert!((regions[0].peak_rps - 1429.64).abs() < 1e-6);
    }

    #[test]
    fn utilization_plans_headroom() {
        let c = Capacity {
            utilization: 0.7,
            ..capacity(1000.0, 0)
        };
        // 3,500/s at 700/s per server: 5 servers, not 4.
        assert_eq!(plan_app(3500.0, &c, &[]).unwrap().0, 5);
        assert_eq!(plan_app(3500.0, &capacity(1000.0, 0), &[]).unwrap().0, 4);
        assert_eq!(plan_app(3500.0, &Capacity::default(), &[]), None);
    }

    #[test]
    fn servers_round_up_but_ignore_float_noise() {
        assert_eq!(servers(2.0, 1.0), 2);
        assert_eq!(servers(2.000_000_000_1, 1.0), 2);
        assert_eq!(servers(2.01, 1.0), 3);
        assert_eq!(servers(0.0, 10.0), 0);
        assert_eq!(servers(0.3, 10.0), 1);
    }
}
