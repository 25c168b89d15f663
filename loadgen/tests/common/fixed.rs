//! [`FixedFactory`], test support: the simplest request source, for engine tests that need
//! traffic without a scenario. Each action is one fixed request, and every draw picks an action
//! by its weight. `napkin load` uses the scenario's traffic (`loadgen::traffic`); the engine
//! does not care which source it is given.

use bytes::Bytes;
use hyper::header::{HeaderName, HeaderValue};
use hyper::Method;
use rand::distr::weighted::WeightedIndex;
use rand::distr::Distribution;
use rand::rngs::SmallRng;
use rand::SeedableRng;

use loadgen::source::{ActionInfo, PreparedRequest, RequestSource, SourceFactory, Verdict};

/// Why a list of fixed actions cannot be a source.
#[derive(Debug, PartialEq, Eq)]
pub enum FixedError {
    /// The list is empty.
    NoRequests,
    /// Every weight is 0.
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
/// from the arrival schedules' lane streams ([`loadgen::arrivals::lane_rng`]), which mix the
/// same seed with the same multiplier.
pub fn lane_seed(seed: u64, index: usize) -> u64 {
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
