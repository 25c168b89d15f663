//! A worker's part of its shard's open-model schedule, handed out lane by lane.
//!
//! The shard's requests come in global order from one [`ShardSchedule`] per worker (so a
//! sequential generator such as Poisson arrivals runs once per worker, not once per lane); each
//! request goes to its lane's queue. A lane that asks for its next request takes it from its
//! queue, or advances the schedule until one of its own comes up. A queue only holds requests
//! that are due before its lane's next send, i.e. the backlog of a lane that is behind, so
//! memory follows the backlog, not the run's length.

use std::collections::VecDeque;
use std::time::Duration;

use crate::schedule::ScheduleSpec;
use crate::shard::{Shard, ShardSchedule};

pub(crate) struct Dispatcher {
    entries: ShardSchedule,
    /// Shard lane -> index into `queues` (`None`: another worker's lane).
    slot: Vec<Option<usize>>,
    /// Per lane of this worker: (k, offset) of requests taken from the schedule, not yet
    /// handed out.
    queues: Vec<VecDeque<(u64, Duration)>>,
}

impl Dispatcher {
    /// The dispatcher of a worker that runs lanes `mine` of the shard's `lanes`.
    pub fn new(spec: &dyn ScheduleSpec, shard: Shard, lanes: usize, mine: &[usize]) -> Self {
        let mut slot = vec![None; lanes];
        for (n, &lane) in mine.iter().enumerate() {
            slot[lane] = Some(n);
        }
        Dispatcher {
            entries: ShardSchedule::new(spec, shard, lanes),
            slot,
            queues: vec![VecDeque::new(); mine.len()],
        }
    }

    /// The next request of `lane` (one of this worker's): its number k in the run and its
    /// intended offset.
    pub fn next(&mut self, lane: usize) -> (u64, Duration) {
        let own = self.slot[lane].expect("a lane of this worker");
        if let Some(entry) = self.queues[own].pop_front() {
            return entry;
        }
        loop {
            let e = self.entries.next().expect("the schedule is endless");
            if e.lane == lane {
                return (e.k, e.offset);
            }
            if let Some(other) = self.slot[e.lane] {
                self.queues[other].push_back((e.k, e.offset));
            }
        }
    }
}
