//! Key spaces (`load.keys`): 1-based ids drawn uniformly or by Zipf popularity, id 1 hottest.
//! Zipf draws use `rand_distr::Zipf` (rejection-inversion, O(1) per draw for any key count).

use estimator::{KeyDistribution, KeySpace};
use rand::Rng;
use rand_distr::{Distribution, Uniform, Zipf};

/// Draws ids of one key space.
#[derive(Debug, Clone)]
pub enum KeySampler {
    Uniform(Uniform<u64>),
    Zipf(Zipf<f64>),
}

impl KeySampler {
    /// Builds the sampler; `None` for a space the parser should have rejected (count 0, or a
    /// zipf exponent that is not a positive finite number).
    pub fn new(space: &KeySpace) -> Option<KeySampler> {
        if space.count == 0 {
            return None;
        }
        match space.distribution {
            KeyDistribution::Uniform => Uniform::new_inclusive(1, space.count)
                .ok()
                .map(KeySampler::Uniform),
            KeyDistribution::Zipf { exponent } if exponent.is_finite() && exponent > 0.0 => {
                Zipf::new(space.count as f64, exponent)
                    .ok()
                    .map(KeySampler::Zipf)
            }
            KeyDistribution::Zipf { .. } => None,
        }
    }

    /// The next id, in `1..=count`.
    #[inline]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> u64 {
        match self {
            KeySampler::Uniform(u) => u.sample(rng),
            KeySampler::Zipf(z) => z.sample(rng) as u64,
        }
    }
}
