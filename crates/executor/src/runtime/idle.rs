//! Which workers sleep, and which one to wake when work arrives.
//!
//! One atomic word counts the workers that are awake (`unparked`) and, among
//! them, those searching other queues for work (`searching`); a list under a
//! lock names the sleepers. The rules, which keep wake-ups both sufficient
//! and few:
//!
//! - New work wakes a sleeper only if nobody searches (a searcher will find
//!   the work) and somebody sleeps. The woken worker starts as a searcher, so
//!   a burst of new work wakes one worker, not all of them.
//! - At most half the workers search at once: more would only contend.
//! - A worker that stops searching because it found work, and was the last
//!   searcher, wakes another: there may be more work where it found some.
//! - A worker that goes to sleep as the last searcher looks at every queue
//!   once more after it stopped counting as awake, and wakes a worker if any
//!   queue has work. Whoever queued that work read the counts after queuing
//!   it (SeqCst on both sides), so either the queuer saw no searcher and woke
//!   someone, or the last searcher sees the work: work is never stranded.
//!   Both sides write, then `fence(SeqCst)`, then read: the fences make the
//!   pairing explicit, and loom (which models SeqCst accesses only as
//!   acquire/release, but SeqCst fences fully) checks it.

use super::sync::{AtomicUsize, Mutex, Ordering, fence, lock};

/// Bits of the state word below `unparked`, holding `searching`.
const UNPARKED_SHIFT: u32 = 16;
const SEARCHING_MASK: usize = (1 << UNPARKED_SHIFT) - 1;
/// The most workers a runtime may have (the counts share one word).
pub(crate) const MAX_WORKERS: usize = SEARCHING_MASK;

pub(crate) struct Idle {
    /// `unparked << UNPARKED_SHIFT | searching`.
    state: AtomicUsize,
    /// Indices of the sleeping workers. Changed together with the counts,
    /// under this lock, so the two always agree.
    sleepers: Mutex<Vec<usize>>,
    workers: usize,
}

impl Idle {
    /// Every one of `workers` awake, none searching.
    pub(crate) fn new(workers: usize) -> Idle {
        Idle {
            state: AtomicUsize::new(workers << UNPARKED_SHIFT),
            sleepers: Mutex::new(Vec::with_capacity(workers)),
            workers,
        }
    }

    /// The worker to wake for new work, if one should wake; it is counted as
    /// awake and searching from now on.
    pub(crate) fn worker_to_notify(&self) -> Option<usize> {
        if !self.should_wake_one() {
            return None;
        }
        let mut sleepers = lock(&self.sleepers);
        if !self.should_wake_one() {
            return None;
        }
        let index = sleepers.pop()?;
        self.state
            .fetch_add((1 << UNPARKED_SHIFT) | 1, Ordering::SeqCst);
        Some(index)
    }

    /// Makes the calling worker a searcher, unless half the workers already
    /// search; returns whether it became one.
    pub(crate) fn start_searching(&self) -> bool {
        let state = self.state.load(Ordering::SeqCst);
        if 2 * searching(state) >= self.workers {
            return false;
        }
        self.state.fetch_add(1, Ordering::SeqCst);
        true
    }

    /// The calling worker stops searching; returns whether it was the last searcher.
    pub(crate) fn stop_searching(&self) -> bool {
        let previous = self.state.fetch_sub(1, Ordering::SeqCst);
        searching(previous) == 1
    }

    /// Worker `index` goes to sleep (as a searcher or not); returns whether it
    /// was the last searcher, which must then look at every queue once more.
    pub(crate) fn sleep(&self, index: usize, was_searching: bool) -> bool {
        let mut sleepers = lock(&self.sleepers);
        let previous = self.state.fetch_sub(
            (1 << UNPARKED_SHIFT) | usize::from(was_searching),
            Ordering::SeqCst,
        );
        sleepers.push(index);
        // Pairs with the fence in `should_wake_one`: the caller looks at the
        // queues after this.
        fence(Ordering::SeqCst);
        was_searching && searching(previous) == 1
    }

    /// Worker `index` woke by itself (it found work, or is shutting down):
    /// it takes itself off the sleepers and counts as awake again. Returns
    /// `true` if a notifier had taken it off already, in which case it counts
    /// as a searcher.
    pub(crate) fn wake_by_itself(&self, index: usize) -> bool {
        let mut sleepers = lock(&self.sleepers);
        match sleepers.iter().position(|&sleeper| sleeper == index) {
            Some(position) => {
                sleepers.swap_remove(position);
                self.state.fetch_add(1 << UNPARKED_SHIFT, Ordering::SeqCst);
                false
            }
            None => true,
        }
    }

    /// Whether worker `index` is still listed as sleeping (nobody woke it).
    pub(crate) fn is_sleeping(&self, index: usize) -> bool {
        lock(&self.sleepers).contains(&index)
    }

    /// Whether a sleeper should be woken for new work.
    fn should_wake_one(&self) -> bool {
        // The caller queued work before: see the module docs.
        fence(Ordering::SeqCst);
        let state = self.state.load(Ordering::SeqCst);
        searching(state) == 0 && unparked(state) < self.workers
    }
}

fn searching(state: usize) -> usize {
    state & SEARCHING_MASK
}

fn unparked(state: usize) -> usize {
    state >> UNPARKED_SHIFT
}
