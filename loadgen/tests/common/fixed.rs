//! [`FixedFactory`], test support: the simplest request source, for engine tests that need
//! traffic without a scenario. Each action is one fixed request, and every draw picks an action
//! by its weight. `napkin load` uses the scenario's traffic (`loadgen::traffic`); the engine
//! does not care which source it is given.

use bytes::Bytes;
use hyper::header::{HeaderName, HeaderValue};
use hyper::Method;
use rand::distr::weighted::WeightedIndex;
use rand::distr::Distribution;

use loadgen::source::{
    ActionInfo, PreparedRequest, RequestId, RequestSource, SourceFactory, Verdict,
};

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

/// Fixed requests chosen by weight, each request's pick drawn from its own
/// [`RequestId::rng`] (so request n is the same in every lane and shard).
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

    fn lane(&self, _index: usize, _lanes: usize, _seed: u64) -> Box<dyn RequestSource> {
        Box::new(FixedSource {
            actions: self.actions.clone(),
            index: self.index.clone(),
            single: self.actions.len() == 1,
        })
    }
}

struct FixedSource {
    actions: std::sync::Arc<[FixedAction]>,
    index: WeightedIndex<f64>,
    single: bool,
}

impl RequestSource for FixedSource {
    fn next_request(&mut self, id: RequestId) -> PreparedRequest {
        let i = if self.single {
            0
        } else {
            self.index.sample(&mut id.rng())
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

/// The engine and TLS tests' traffic: GET `/a` three times as often as GET `/b`.
pub fn a_and_b() -> std::sync::Arc<FixedFactory> {
    let get = |name: &str, weight: f64| FixedAction {
        name: name.into(),
        weight,
        method: Method::GET,
        path: format!("/{name}"),
        headers: vec![],
        body: Bytes::new(),
        expect: vec![],
    };
    std::sync::Arc::new(FixedFactory::new(vec![get("a", 3.0), get("b", 1.0)]).unwrap())
}
