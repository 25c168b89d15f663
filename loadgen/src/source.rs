//! Where requests come from. The engine asks a [`RequestSource`] for the next request of its
//! lane and tells it every response; a fixed request list and the scenario's traffic mix
//! (templates, key spaces, capture pools) are both sources, so the engine never knows which.

use bytes::Bytes;

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

/// One lane's stream of requests. Not shared between lanes: no locks on the hot path.
pub trait RequestSource: Send {
    /// The next request to send. Never blocks; an action that cannot be sent yet (an empty
    /// capture pool) gives its turn to another action and is counted in [`Self::deferred`].
    fn next_request(&mut self) -> PreparedRequest;
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

/// Builds one source per lane. `seed` makes a lane's sequence deterministic.
pub trait SourceFactory: Send + Sync {
    fn actions(&self) -> &[ActionInfo];
    fn lane(&self, index: usize, lanes: usize, seed: u64) -> Box<dyn RequestSource>;
}
