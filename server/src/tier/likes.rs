//! Like counts of the durable tier, by tweet id: kept in memory (4 bytes a tweet) so a cached
//! tweet never goes stale when it is liked. Who liked what lives only in the store, whose
//! `INSERT OR IGNORE` makes likes idempotent; counts are rebuilt from it at start.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use parking_lot::RwLock;

const CHUNK: usize = 4096;

type Chunk = Arc<[AtomicU32]>;

/// Like counts of tweets 1..; grows as tweets are committed.
#[derive(Debug, Default)]
pub(crate) struct LikeCounts {
    chunks: RwLock<Vec<Chunk>>,
}

fn new_chunk() -> Chunk {
    (0..CHUNK).map(|_| AtomicU32::new(0)).collect()
}

impl LikeCounts {
    fn slot(&self, tid: u32) -> Option<(Chunk, usize)> {
        let i = (tid as usize).checked_sub(1)?;
        let chunk = self.chunks.read().get(i / CHUNK).cloned()?;
        Some((chunk, i % CHUNK))
    }

    /// Makes room for tweet `tid`.
    pub(crate) fn ensure(&self, tid: u32) {
        let need = (tid as usize).div_ceil(CHUNK);
        if self.chunks.read().len() >= need {
            return;
        }
        let mut chunks = self.chunks.write();
        while chunks.len() < need {
            chunks.push(new_chunk());
        }
    }

    /// Adds `n` likes to tweet `tid`.
    pub(crate) fn add(&self, tid: u32, n: u32) {
        self.ensure(tid);
        if let Some((chunk, i)) = self.slot(tid) {
            chunk[i].fetch_add(n, Ordering::Relaxed);
        }
    }

    /// The like count of tweet `tid` (0 for an unknown tweet).
    pub(crate) fn get(&self, tid: u32) -> u32 {
        self.slot(tid)
            .map_or(0, |(chunk, i)| chunk[i].load(Ordering::Relaxed))
    }

    /// Like counts of several tweets under one read lock.
    pub(crate) fn get_many(&self, tids: &[u32]) -> Vec<u32> {
        let chunks = self.chunks.read();
        tids.iter()
            .map(|&tid| {
                let i = (tid as usize).wrapping_sub(1);
                chunks
                    .get(i / CHUNK)
                    .map_or(0, |c| c[i % CHUNK].load(Ordering::Relaxed))
            })
            .collect()
    }
}
