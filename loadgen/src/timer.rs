//! A precise per-worker timer for intended send times. tokio's timer wheel has 1 ms
//! granularity, which would put up to 1 ms of send lag on every request; instead each worker
//! arms one Linux `timerfd` (hrtimer precision, tens of microseconds) for the earliest pending
//! send and wakes the lanes whose time has come. No spinning: an idle generator sleeps in
//! epoll like any other tokio task.

use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::future::Future;
use std::io;
use std::os::fd::OwnedFd;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use rustix::time::{
    timerfd_create, timerfd_settime, Itimerspec, TimerfdClockId, TimerfdFlags, TimerfdTimerFlags,
    Timespec,
};
use tokio::io::unix::AsyncFd;

struct Entry {
    at: Instant,
    seq: u64,
    waker: Waker,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

#[derive(Default)]
struct State {
    heap: BinaryHeap<Reverse<Entry>>,
    /// The deadline the timerfd is armed for, if any.
    armed: Option<Instant>,
    seq: u64,
}

/// One worker's timer. Create it inside the worker's runtime and spawn [`PreciseTimer::drive`].
pub(crate) struct PreciseTimer {
    fd: AsyncFd<OwnedFd>,
    state: RefCell<State>,
}

impl PreciseTimer {
    pub fn new() -> io::Result<Rc<PreciseTimer>> {
        let fd = timerfd_create(
            TimerfdClockId::Monotonic,
            TimerfdFlags::NONBLOCK | TimerfdFlags::CLOEXEC,
        )?;
        // `AsyncFd::new` is deprecated because an arbitrary `AsRawFd` may close its descriptor
        // while registered; an `OwnedFd` owned by the `AsyncFd` cannot, and the replacement
        // (`register`) is `unsafe`, which this workspace forbids.
        #[allow(deprecated)]
        let fd = AsyncFd::new(fd)?;
        Ok(Rc::new(PreciseTimer {
            fd,
            state: RefCell::default(),
        }))
    }

    /// Completes at `at` (never before).
    pub fn sleep_until(self: &Rc<Self>, at: Instant) -> SleepUntil {
        SleepUntil {
            timer: self.clone(),
            at,
        }
    }

    fn arm(&self, state: &mut State, at: Instant) {
        // At least 1 ns: an all-zero value would disarm the timer.
        let d = at
            .saturating_duration_since(Instant::now())
            .max(Duration::from_nanos(1));
        let spec = Itimerspec {
            it_interval: Timespec::default(),
            it_value: Timespec {
                tv_sec: d.as_secs() as i64,
                tv_nsec: d.subsec_nanos().into(),
            },
        };
        if timerfd_settime(&self.fd, TimerfdTimerFlags::empty(), &spec).is_ok() {
            state.armed = Some(at);
        }
    }

    /// Wakes sleepers as their times come; runs until the worker ends.
    pub async fn drive(self: Rc<Self>) {
        loop {
            let Ok(mut guard) = self.fd.readable().await else {
                return;
            };
            let mut buf = [0u8; 8];
            let _ = rustix::io::read(self.fd.get_ref(), &mut buf);
            guard.clear_ready();
            let now = Instant::now();
            let mut due = Vec::new();
            {
                let mut st = self.state.borrow_mut();
                st.armed = None;
                while st.heap.peek().is_some_and(|e| e.0.at <= now) {
                    due.push(st.heap.pop().expect("peeked").0.waker);
                }
                if let Some(next) = st.heap.peek().map(|e| e.0.at) {
                    self.arm(&mut st, next);
                }
            }
            for w in due {
                w.wake();
            }
        }
    }
}

/// Future of [`PreciseTimer::sleep_until`].
pub(crate) struct SleepUntil {
    timer: Rc<PreciseTimer>,
    at: Instant,
}

impl Future for SleepUntil {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if Instant::now() >= self.at {
            return Poll::Ready(());
        }
        let mut st = self.timer.state.borrow_mut();
        st.seq += 1;
        let seq = st.seq;
        st.heap.push(Reverse(Entry {
            at: self.at,
            seq,
            waker: cx.waker().clone(),
        }));
        if st.armed.is_none_or(|a| self.at < a) {
            self.timer.arm(&mut st, self.at);
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sleepers_wake_at_or_after_their_time_in_order() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let local = tokio::task::LocalSet::new();
        let woke = Rc::new(RefCell::new(Vec::new()));
        local.block_on(&rt, async {
            let timer = PreciseTimer::new().unwrap();
            tokio::task::spawn_local(timer.clone().drive());
            let start = Instant::now();
            let mut handles = Vec::new();
            // Out of order, some sharing a deadline, all within 30 ms.
            for (i, ms) in [17u64, 3, 29, 3, 11, 0, 23].into_iter().enumerate() {
                let (timer, woke) = (timer.clone(), woke.clone());
                let at = start + Duration::from_millis(ms);
                handles.push(tokio::task::spawn_local(async move {
                    timer.sleep_until(at).await;
                    let now = Instant::now();
                    assert!(now >= at, "sleeper {i} woke early");
                    woke.borrow_mut().push(ms);
                }));
            }
            for h in handles {
                h.await.unwrap();
            }
        });
        let woke = woke.borrow();
        let mut sorted = woke.clone();
        sorted.sort();
        assert_eq!(*woke, sorted);
        assert_eq!(woke.len(), 7);
    }
}
