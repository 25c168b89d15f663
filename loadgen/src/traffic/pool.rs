//! Capture pools: the most recent values a response field took, for templates such as
//! `{{tweet}}` that must name something the server really created.
//!
//! A pool is a ring of the last [`POOL_CAPACITY`] values. A draw picks the value of age
//! `a = floor(len * u^2)` (0 = newest, `u` uniform on [0, 1)), so P(age < x) = sqrt(x / len):
//! the newest 10% of the pool receive about 32% of the draws, the newest half about 71%, and
//! every held value stays reachable. Recent tweets get liked more, as they do in life.

use rand::Rng;

/// Values a pool holds at most; older values are forgotten.
pub const POOL_CAPACITY: usize = 1024;

/// A bounded ring of captured values (their JSON text: numbers as written, strings unquoted).
#[derive(Debug, Clone, Default)]
pub struct Pool {
    values: Vec<Box<str>>,
    /// Index of the slot the next value goes to once the ring is full.
    next: usize,
}

impl Pool {
    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Remembers `value`, forgetting the oldest one when full.
    pub fn push(&mut self, value: &str) {
        if self.values.len() < POOL_CAPACITY {
            self.values.push(value.into());
        } else {
            self.values[self.next] = value.into();
            self.next = (self.next + 1) % POOL_CAPACITY;
        }
    }

    /// The value of age `age` (0 = newest); `age < len()`.
    fn by_age(&self, age: usize) -> &str {
        let len = self.values.len();
        // The newest value sits just before `next` (or at the end while filling).
        let newest = if len < POOL_CAPACITY {
            len - 1
        } else {
            (self.next + len - 1) % len
        };
        &self.values[(newest + len - age) % len]
    }

    /// A recency-biased draw (see the module doc); `None` when empty.
    pub fn draw<R: Rng + ?Sized>(&self, rng: &mut R) -> Option<&str> {
        if self.values.is_empty() {
            return None;
        }
        let u: f64 = rng.random();
        let age = ((self.values.len() as f64) * u * u) as usize;
        Some(self.by_age(age.min(self.values.len() - 1)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn ring_keeps_the_newest_values() {
        let mut pool = Pool::default();
        for i in 0..(POOL_CAPACITY + 10) {
            pool.push(&i.to_string());
        }
        assert_eq!(pool.len(), POOL_CAPACITY);
        assert_eq!(pool.by_age(0), (POOL_CAPACITY + 9).to_string());
        assert_eq!(pool.by_age(POOL_CAPACITY - 1), "10");
    }

    #[test]
    fn draws_favour_recent_values_as_documented() {
        let mut pool = Pool::default();
        for i in 0..1000 {
            pool.push(&i.to_string());
        }
        let mut rng = rand::rngs::SmallRng::seed_from_u64(7);
        let n = 100_000;
        let newest_tenth = (0..n)
            .filter(|_| pool.draw(&mut rng).unwrap().parse::<u32>().unwrap() >= 900)
            .count();
        // P(age < 100) = sqrt(0.1) = 0.316; 5 sigma is about 0.007.
        let share = newest_tenth as f64 / n as f64;
        assert!((share - 0.316).abs() < 0.01, "{share}");
        assert!(Pool::default().draw(&mut rng).is_none());
    }
}
