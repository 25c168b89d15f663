//! Where requests come from. The engine asks a [`RequestSource`] for the next request of its
//! lane and tells it every response; a fixed request list and the scenario's traffic mix
//! (templates, key spaces, capture pools) are both sources, so the engine never knows which.
//!
//! Every request has a [`RequestId`]: its number in the whole run and a random stream seeded
//! by the run's seed and that number alone. A source draws everything about request n (action,
//! keys, text) from that stream, so request n is the same whichever lane, worker or shard
//! sends it (SPEC section 10).

use bytes::Bytes;
use rand::rngs::SmallRng;
use rand::SeedableRng;

/// Which request of the run is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestId {
    /// The request's number in the run, unique and the same in every sharding: open model,
    /// its index k in the global schedule; closed model, user u of U's m-th request is
    /// u + m·U.
    pub number: u64,
    seed: u64,
}

/// Distinguishes the per-request streams from the arrival stream of the same seed.
const REQUEST_STREAM: u64 = 0x5EED_7AFF_1C00_0000;

impl RequestId {
    /// Request `number` of a run seeded with `seed`.
    pub fn new(seed: u64, number: u64) -> RequestId {
        RequestId { number, seed }
    }

    /// The request's own random stream: a function of the run's seed and the number only.
    pub fn rng(&self) -> SmallRng {
        // SmallRng's seeding expands the 64 bits with SplitMix64, so neighbouring numbers
        // give unrelated streams.
        SmallRng::seed_from_u64(splitmix(self.seed ^ REQUEST_STREAM) ^ self.number)
    }
}

/// SplitMix64's finaliser: spreads a seed's bits so that seeds 1 and 2 do not give streams
/// that differ only in the number's bits.
fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Static facts about one action, fixed for the whole run.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionInfo {
    pub name: String,
    /// Share of the traffic (0..1); shares of all actions sum to 1.
    pub weight: f64,
}

/// A request ready to go on the wire, relative to the run's target base URL.
#[derive(Debug, Clone, PartialEq)]
pub struct PreparedRequest {
    /// Index into [`SourceFactory::actions`].
    pub action: usize,
    /// Upper-case method, e.g. `GET`.
    pub method: hyper::Method,
    /// Path and query, starting with `/`.
    pub path: String,
    pub headers: Vec<(hyper::header::HeaderName, hyper::header::HeaderValue)>,
    pub body: Bytes,
}

/// What a response meant for the action that sent it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Success,
    /// Status outside the action's `expect` list (any 2xx when the list is empty).
    BadStatus,
    /// Success status, but a field named in `capture` was missing from the JSON body.
    CaptureMissing,
}

/// One lane's requests. Not shared between lanes: no locks on the hot path.
pub trait RequestSource: Send {
    /// Request `id` of the run, drawn from `id.rng()`. Never blocks; an action that cannot
    /// be sent yet (an empty capture pool) gives its turn to another action and is counted
    /// in [`Self::deferred`].
    fn next_request(&mut self, id: RequestId) -> PreparedRequest;
    /// Called once per response, with the full body (captures read it).
    fn on_response(&mut self, action: usize, status: u16, body: &[u8]) -> Verdict;
    /// Draws deferred so far because a capture pool was empty.
    fn deferred(&self) -> u64 {
        0
    }
    /// Whether this action's responses need their body (captures). The engine may skip
    /// buffering bodies when false.
    fn wants_body(&self, _action: usize) -> bool {
        false
    }
}

/// Builds one source per lane (its state, e.g. capture pools, is the lane's own). `index` is
/// the lane's run-wide number of `lanes`; `seed` is the run's (request draws come from each
/// [`RequestId`]).
pub trait SourceFactory: Send + Sync {
    fn actions(&self) -> &[ActionInfo];
    fn lane(&self, index: usize, lanes: usize, seed: u64) -> Box<dyn RequestSource>;
}
