//! One lane's view of the scenario traffic: picks actions by weight, renders their compiled
//! templates, and feeds captured response fields into the lane's own pools. Nothing here is
//! shared mutably between lanes, so the hot path takes no locks.
//!
//! Rendering escapes values for where they land: in a path, bytes outside the URL-unreserved set
//! are percent-encoded; in a body, JSON string specials are escaped (numbers are unaffected); in
//! a header, control characters become spaces. `{{text N}}` is lower-case words separated by
//! spaces (by `-` in a path) of 1..=N characters, uniform, starting with a letter.

use std::sync::Arc;

use bytes::Bytes;
use estimator::{Capture, HeaderPart, Segment, Template};
use hyper::header::HeaderValue;
use rand::rngs::SmallRng;
use rand::Rng;

use super::pool::Pool;
use super::Shared;
use crate::arrivals::lane_rng;
use crate::source::{PreparedRequest, RequestSource, Verdict};

/// Where a rendered value lands, which decides its escaping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Context {
    Path,
    Header,
    Body,
}

pub(crate) struct ScenarioLane {
    shared: Arc<Shared>,
    draws: Draws,
    deferred: u64,
    /// Capacity hints: the longest path and body rendered so far.
    path_hint: usize,
    body_hint: usize,
}

/// The lane's mutable randomness and memory, apart from the shared plans so rendering can
/// borrow both at once.
struct Draws {
    rng: SmallRng,
    pools: Vec<Pool>,
    /// Next `{{seq}}` value; lanes interleave so values are unique across the run.
    seq: u64,
    seq_step: u64,
}

impl ScenarioLane {
    pub fn new(shared: Arc<Shared>, index: usize, lanes: usize, seed: u64) -> ScenarioLane {
        let pools = vec![Pool::default(); shared.pools];
        ScenarioLane {
            shared,
            draws: Draws {
                // A different stream from the same lane's arrival schedule.
                rng: lane_rng(seed ^ 0x5EED_7AFF_1C00_0000, index),
                pools,
                seq: index as u64 + 1,
                seq_step: lanes.max(1) as u64,
            },
            deferred: 0,
            path_hint: 64,
            body_hint: 64,
        }
    }

    fn ready(&self, action: usize) -> bool {
        self.shared.plans[action]
            .needs
            .iter()
            .all(|&p| !self.draws.pools[p].is_empty())
    }

    /// A weighted pick; when the pick must wait for a pool, a weighted pick among the actions
    /// that can go (the build guarantees there is one).
    fn pick(&mut self) -> usize {
        let plans = &self.shared.plans;
        let total = self.shared.total_weight;
        let first = weighted(
            plans.iter().map(|p| p.weight),
            total * self.draws.rng.random::<f64>(),
        );
        if self.ready(first) {
            return first;
        }
        self.deferred += 1;
        let ready: Vec<f64> = (0..plans.len())
            .map(|i| if self.ready(i) { plans[i].weight } else { 0.0 })
            .collect();
        let total: f64 = ready.iter().sum();
        weighted(ready.into_iter(), total * self.draws.rng.random::<f64>())
    }
}

impl Draws {
    fn render(
        &mut self,
        shared: &Shared,
        template: &Template,
        context: Context,
        out: &mut Vec<u8>,
    ) {
        for segment in template.segments() {
            match *segment {
                Segment::Literal(s, e) => out.extend_from_slice(template.literal(s, e)),
                Segment::Key(k) => push_u64(out, shared.keys[k].sample(&mut self.rng)),
                Segment::Pool(p) => {
                    let value = self.pools[p].draw(&mut self.rng).unwrap_or("");
                    push_escaped(out, value.as_bytes(), context);
                }
                Segment::Text(n) => push_text(out, &mut self.rng, n, context),
                Segment::Int(lo, hi) => push_i64(out, self.rng.random_range(lo..=hi)),
                Segment::Seq => {
                    push_u64(out, self.seq);
                    self.seq += self.seq_step;
                }
            }
        }
    }
}

/// The index where the running sum of `weights` passes `x`.
fn weighted(weights: impl Iterator<Item = f64>, x: f64) -> usize {
    let mut sum = 0.0;
    let mut last = 0;
    for (i, w) in weights.enumerate() {
        if w > 0.0 {
            sum += w;
            last = i;
            if x < sum {
                return i;
            }
        }
    }
    last
}

impl RequestSource for ScenarioLane {
    fn next_request(&mut self) -> PreparedRequest {
        let action = self.pick();
        let shared = &*self.shared;
        let plan = &shared.plans[action];
        let mut path = Vec::with_capacity(self.path_hint);
        self.draws
            .render(shared, &plan.path, Context::Path, &mut path);
        self.path_hint = self.path_hint.max(path.len());
        let mut headers = Vec::with_capacity(plan.headers.len());
        for (name, part) in &plan.headers {
            let value = match part {
                HeaderPart::Fixed(v) => v.clone(),
                HeaderPart::Template(t) => {
                    let mut buf = Vec::new();
                    self.draws.render(shared, t, Context::Header, &mut buf);
                    HeaderValue::from_bytes(&buf).unwrap_or(HeaderValue::from_static(""))
                }
            };
            headers.push((name.clone(), value));
        }
        let body = match &plan.body {
            None => Bytes::new(),
            Some(t) => {
                let mut buf = Vec::with_capacity(self.body_hint);
                self.draws.render(shared, t, Context::Body, &mut buf);
                self.body_hint = self.body_hint.max(buf.len());
                Bytes::from(buf)
            }
        };
        PreparedRequest {
            action,
            method: plan.method.clone(),
            // Every rendered byte is ASCII or comes from valid UTF-8 (literals, pool values).
            path: String::from_utf8(path)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
            headers,
            body,
        }
    }

    fn on_response(&mut self, action: usize, status: u16, body: &[u8]) -> Verdict {
        let plan = &self.shared.plans[action];
        let ok = if plan.expect.is_empty() {
            (200..300).contains(&status)
        } else {
            plan.expect.contains(&status)
        };
        if !ok {
            return Verdict::BadStatus;
        }
        if plan.captures.is_empty() {
            return Verdict::Success;
        }
        let Ok(json) = serde_json::from_slice::<serde_json::Value>(body) else {
            return Verdict::CaptureMissing;
        };
        let mut verdict = Verdict::Success;
        for Capture { pool, field } in &plan.captures {
            match lookup(&json, field) {
                Some(serde_json::Value::String(s)) => self.draws.pools[*pool].push(s),
                Some(v @ (serde_json::Value::Number(_) | serde_json::Value::Bool(_))) => {
                    self.draws.pools[*pool].push(&v.to_string())
                }
                _ => verdict = Verdict::CaptureMissing,
            }
        }
        verdict
    }

    fn deferred(&self) -> u64 {
        self.deferred
    }

    fn wants_body(&self, action: usize) -> bool {
        !self.shared.plans[action].captures.is_empty()
    }
}

/// The value at a dotted field path, e.g. `id` or `tweet.id`.
fn lookup<'a>(json: &'a serde_json::Value, path: &[String]) -> Option<&'a serde_json::Value> {
    path.iter().try_fold(json, |v, key| v.get(key.as_str()))
}

fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

fn push_i64(out: &mut Vec<u8>, n: i64) {
    if n < 0 {
        out.push(b'-');
    }
    push_u64(out, n.unsigned_abs());
}

fn push_escaped(out: &mut Vec<u8>, value: &[u8], context: Context) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in value {
        match context {
            Context::Path if !(b.is_ascii_alphanumeric() || b"-._~".contains(&b)) => {
                out.extend_from_slice(&[b'%', HEX[(b >> 4) as usize], HEX[(b & 15) as usize]]);
            }
            Context::Body if b == b'"' || b == b'\\' => out.extend_from_slice(&[b'\\', b]),
            Context::Body if b < 0x20 => {
                out.extend_from_slice(b"\\u00");
                out.extend_from_slice(&[HEX[(b >> 4) as usize], HEX[(b & 15) as usize]]);
            }
            Context::Header if b < 0x20 || b == 0x7f => out.push(b' '),
            _ => out.push(b),
        }
    }
}

/// Lower-case words: 26 letters and 6 separators map 5 random bits to one character.
fn push_text(out: &mut Vec<u8>, rng: &mut SmallRng, max: u32, context: Context) {
    const BODY: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz      ";
    const PATH: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz------";
    let table = if context == Context::Path { PATH } else { BODY };
    let len = rng.random_range(1..=max) as usize;
    out.reserve(len);
    let first = out.len();
    let mut left = len;
    while left > 0 {
        let mut bits: u64 = rng.random();
        for _ in 0..left.min(12) {
            out.push(table[(bits & 31) as usize]);
            bits >>= 5;
        }
        left -= left.min(12);
    }
    // Never all blank (servers reject blank text): the first character is always a letter.
    if !out[first].is_ascii_lowercase() {
        out[first] = b'a' + rng.random_range(0..26u8);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_never_blank_and_within_its_length() {
        use rand::SeedableRng;
        let mut rng = SmallRng::seed_from_u64(7);
        for max in [1, 2, 5, 140] {
            for _ in 0..2_000 {
                let mut out = Vec::new();
                push_text(&mut out, &mut rng, max, Context::Body);
                assert!((1..=max as usize).contains(&out.len()), "{out:?}");
                assert!(
                    out[0].is_ascii_lowercase(),
                    "{:?}",
                    String::from_utf8_lossy(&out)
                );
            }
        }
    }

    #[test]
    fn numbers_and_escapes_render_as_expected() {
        let mut out = Vec::new();
        push_u64(&mut out, 0);
        out.push(b' ');
        push_i64(&mut out, -1234567890123);
        out.push(b' ');
        push_escaped(&mut out, b"a b/\"", Context::Path);
        out.push(b' ');
        push_escaped(&mut out, b"a\"\\\n", Context::Body);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"0 -1234567890123 a%20b%2F%22 a\"\\\u000A"#
        );
    }

    #[test]
    fn weighted_skips_zero_weights() {
        assert_eq!(weighted([0.0, 1.0, 0.0, 1.0].into_iter(), 0.0), 1);
        assert_eq!(weighted([0.0, 1.0, 0.0, 1.0].into_iter(), 1.5), 3);
        assert_eq!(weighted([0.0, 1.0, 0.0, 1.0].into_iter(), 2.0), 3);
    }
}
