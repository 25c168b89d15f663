//! [`FixedFactory`]: the simplest request source. Each action's `request:` block is sent
//! verbatim (no template rendering), and every draw picks an action by its share of the mix.
//! The scenario traffic source (templates, keys, captures) replaces it in `napkin load`; the
//! engine does not care which one it is given.

use bytes::Bytes;
use hyper::header::{HeaderName, HeaderValue};
use hyper::Method;
use rand::distr::weighted::WeightedIndex;
use rand::distr::Distribution;
use rand::rngs::SmallRng;
use rand::SeedableRng;

use crate::source::{ActionInfo, PreparedRequest, RequestSource, SourceFactory, Verdict};

/// A `request:` block that cannot be sent as it is.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FixedError {
    #[error("no action has a `request:` block; add one (method, path) to at least one action")]
    NoRequests,
    #[error("action `{action}`: {what}")]
    Bad { action: String, what: String },
    #[error("the traffic mix gives every action weight 0; check the actions' rates")]
    ZeroWeights,
}

/// One action's fixed request.
#[derive(Debug, Clone)]
pub struct FixedAction {
    pub name: String,
    /// Relative share; normalised over all actions.
    pub weight: f64,
    pub method: Method,
    pub path: String,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub body: Bytes,
    /// Success statuses; empty means any 2xx.
    pub expect: Vec<u16>,
}

impl FixedAction {
    /// From a scenario action's `request:` block; `weight` is its share of the mix.
    pub fn from_spec(
        name: &str,
        weight: f64,
        spec: &estimator::RequestSpec,
    ) -> Result<FixedAction, FixedError> {
        let bad = |what: String| FixedError::Bad {
            action: name.to_string(),
            what,
        };
        let method = Method::from_bytes(spec.method.as_bytes())
            .map_err(|_| bad(format!("`{}` is not an HTTP method", spec.method)))?;
        if !spec.path.starts_with('/') || spec.path.parse::<hyper::Uri>().is_err() {
            return Err(bad(format!(
                "path `{}` is not a valid request path; it must start with `/` and be a \
                 valid URI path and query",
                spec.path
            )));
        }
        let mut headers = Vec::with_capacity(spec.headers.len());
        for (k, v) in &spec.headers {
            let name = HeaderName::from_bytes(k.as_bytes())
                .map_err(|_| bad(format!("`{k}` is not a valid header name")))?;
            let value = HeaderValue::from_str(v)
                .map_err(|_| bad(format!("header `{k}` has an invalid value `{v}`")))?;
            headers.push((name, value));
        }
        if !(weight.is_finite() && weight >= 0.0) {
            return Err(bad(format!("weight {weight} is not a finite share >= 0")));
        }
        Ok(FixedAction {
            name: name.to_string(),
            weight,
            method,
            path: spec.path.clone(),
            headers,
            body: Bytes::from(spec.body.clone().unwrap_or_default()),
            expect: spec.expect.clone(),
        })
    }

    fn accepts(&self, status: u16) -> bool {
        if self.expect.is_empty() {
            (200..300).contains(&status)
        } else {
            self.expect.contains(&status)
        }
    }
}

/// Distinguishes the request-choice random streams from other per-lane streams of a run.
const FIXED_STREAM: u64 = 0x5EED_F1C5_D0A1_7E11;

/// Fixed requests chosen by weight; one [`RequestSource`] per lane, seeded per lane.
#[derive(Debug)]
pub struct FixedFactory {
    actions: std::sync::Arc<[FixedAction]>,
    infos: Vec<ActionInfo>,
    index: WeightedIndex<f64>,
}

impl FixedFactory {
    pub fn new(actions: Vec<FixedAction>) -> Result<FixedFactory, FixedError> {
        if actions.is_empty() {
            return Err(FixedError::NoRequests);
        }
        let total: f64 = actions.iter().map(|a| a.weight).sum();
        if total <= 0.0 {
            return Err(FixedError::ZeroWeights);
        }
        let index = WeightedIndex::new(actions.iter().map(|a| a.weight))
            .map_err(|_| FixedError::ZeroWeights)?;
        let infos = actions
            .iter()
            .map(|a| ActionInfo {
                name: a.name.clone(),
                weight: a.weight / total,
            })
            .collect();
        Ok(FixedFactory {
            actions: actions.into(),
            infos,
            index,
        })
    }

    /// Every action of `scenario` that has a `request:` block, weighted by `weight(action)`
    /// (the estimator's requests/day for the mix; equal weights when it returns `None`).
    pub fn from_scenario(
        scenario: &estimator::Scenario,
        weight: impl Fn(&estimator::Action) -> Option<f64>,
    ) -> Result<FixedFactory, FixedError> {
        let actions = scenario
            .actions
            .iter()
            .filter_map(|a| a.request.as_ref().map(|r| (a, r)))
            .map(|(a, r)| FixedAction::from_spec(&a.name, weight(a).unwrap_or(1.0), r))
            .collect::<Result<Vec<_>, _>>()?;
        FixedFactory::new(actions)
    }
}

impl SourceFactory for FixedFactory {
    fn actions(&self) -> &[ActionInfo] {
        &self.infos
    }

    fn lane(&self, index: usize, _lanes: usize, seed: u64) -> Box<dyn RequestSource> {
        Box::new(FixedSource {
            actions: self.actions.clone(),
            index: self.index.clone(),
            single: self.actions.len() == 1,
            rng: SmallRng::seed_from_u64(lane_seed(seed, index)),
        })
    }
}

/// The seed of lane `index`'s request choices. [`FIXED_STREAM`] keeps these streams apart
/// from the arrival schedules' lane streams (`arrivals::lane_rng`), which mix the same seed
/// with the same multiplier.
fn lane_seed(seed: u64, index: usize) -> u64 {
    seed ^ FIXED_STREAM ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

struct FixedSource {
    actions: std::sync::Arc<[FixedAction]>,
    index: WeightedIndex<f64>,
    single: bool,
    rng: SmallRng,
}

impl RequestSource for FixedSource {
    fn next_request(&mut self) -> PreparedRequest {
        let i = if self.single {
            0
        } else {
            self.index.sample(&mut self.rng)
        };
        let a = &self.actions[i];
        PreparedRequest {
            action: i,
            method: a.method.clone(),
            path: a.path.clone(),
            headers: a.headers.clone(),
            body: a.body.clone(),
        }
    }

    fn on_response(&mut self, action: usize, status: u16, _body: &[u8]) -> Verdict {
        if self.actions[action].accepts(status) {
            Verdict::Success
        } else {
            Verdict::BadStatus
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(method: &str, path: &str) -> estimator::RequestSpec {
        estimator::RequestSpec {
            method: method.into(),
            path: path.into(),
            headers: vec![("content-type".into(), "application/json".into())],
            body: Some("{}".into()),
            capture: vec![],
            expect: vec![201],
            locations: Default::default(),
        }
    }

    #[test]
    fn picks_actions_by_weight_and_checks_expect() {
        let a = FixedAction::from_spec("a", 3.0, &spec("POST", "/a")).unwrap();
        let b = FixedAction::from_spec("b", 1.0, &spec("GET", "/b")).unwrap();
        let f = FixedFactory::new(vec![a, b]).unwrap();
        assert_eq!(f.actions()[0].weight, 0.75);
        let mut lane = f.lane(0, 1, 7);
        let n = 20_000;
        let hits = (0..n).filter(|_| lane.next_request().action == 0).count();
        let share = hits as f64 / n as f64;
        assert!((share - 0.75).abs() < 0.02, "{share}");
        let r = lane.next_request();
        assert_eq!(r.headers.len(), 1);
        assert_eq!(lane.on_response(0, 201, b""), Verdict::Success);
        assert_eq!(lane.on_response(0, 200, b""), Verdict::BadStatus);
    }

    #[test]
    fn lane_streams_differ_from_the_arrival_streams_of_the_same_seed() {
        use rand::RngCore;
        for seed in [0, 1, 7, u64::MAX] {
            let arrivals: Vec<u64> = (0..64)
                .map(|j| crate::arrivals::lane_rng(seed, j).next_u64())
                .collect();
            for i in 0..64 {
                let first = SmallRng::seed_from_u64(lane_seed(seed, i)).next_u64();
                assert!(!arrivals.contains(&first), "seed {seed}, lane {i}");
            }
        }
    }

    #[test]
    fn rejects_bad_requests_with_the_action_name() {
        let err = FixedAction::from_spec("t", 1.0, &spec("GET", "/a b")).unwrap_err();
        assert!(err.to_string().contains("action `t`"), "{err}");
        assert!(FixedAction::from_spec("t", 1.0, &spec("G ET", "/")).is_err());
        assert_eq!(
            FixedFactory::new(vec![]).unwrap_err(),
            FixedError::NoRequests
        );
    }
}
