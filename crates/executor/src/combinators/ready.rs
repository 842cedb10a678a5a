//! Which of many children need polling: one waker per child, so that a
//! combinator driving `n` futures inline polls only those that were woken
//! instead of all `n` on every wake-up (which would make `n` staggered
//! completions cost `n²` polls).
//!
//! Each child's waker records its index in a shared list and wakes the
//! parent (the task polling the combinator) once per batch. The parent
//! [`drain`](ReadySet::drain)s the list at the start of its poll, in input
//! order, and polls those children with their own wakers.
//!
//! Wakers must be `Send + Sync`, so the list sits behind a `Mutex`; on the
//! loop's thread it is never contended.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Wake, Waker};

/// The per-child wakers of one combinator and the batch of children to poll.
pub(super) struct ReadySet {
    shared: Arc<Shared>,
    /// One waker per child, made once.
    wakers: Vec<Waker>,
    /// The children to poll in this poll of the parent, sorted.
    batch: Vec<usize>,
    /// How far the parent got through `batch`. Anything past it when the next
    /// `drain` comes was skipped by a panic and is polled again.
    cursor: usize,
}

struct Shared {
    state: Mutex<State>,
}

struct State {
    /// Whether each child is in `woken` already.
    queued: Vec<bool>,
    /// The children woken since the parent last drained, in wake order.
    woken: Vec<usize>,
    /// The parent's waker; taken by the first child wake after a drain.
    parent: Option<Waker>,
}

fn lock(shared: &Shared) -> MutexGuard<'_, State> {
    // A panic while the lock is held leaves the lists consistent (every
    // update is a single push or flag write), so poisoning is ignored.
    shared.state.lock().unwrap_or_else(PoisonError::into_inner)
}

struct ChildWaker {
    index: usize,
    shared: Arc<Shared>,
}

impl Wake for ChildWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let parent = {
            let mut state = lock(&self.shared);
            if state.queued[self.index] {
                None
            } else {
                state.queued[self.index] = true;
                state.woken.push(self.index);
                state.parent.take()
            }
        };
        // Woken outside the lock: the parent may be polled right here.
        if let Some(parent) = parent {
            parent.wake();
        }
    }
}

impl ReadySet {
    /// Wakers for `len` children, every one of them due for a first poll.
    pub(super) fn new(len: usize) -> ReadySet {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                queued: vec![true; len],
                woken: (0..len).collect(),
                parent: None,
            }),
        });
        let wakers = (0..len)
            .map(|index| {
                Waker::from(Arc::new(ChildWaker {
                    index,
                    shared: shared.clone(),
                }))
            })
            .collect();
        ReadySet {
            shared,
            wakers,
            batch: Vec::new(),
            cursor: 0,
        }
    }

    /// Registers the parent's waker and takes the children woken since the
    /// last drain as the batch that [`next`](Self::next) hands out, in input
    /// order.
    pub(super) fn drain(&mut self, cx: &Context<'_>) {
        self.batch.drain(..self.cursor);
        self.cursor = 0;
        {
            let mut state = lock(&self.shared);
            if !state
                .parent
                .as_ref()
                .is_some_and(|parent| parent.will_wake(cx.waker()))
            {
                state.parent = Some(cx.waker().clone());
            }
            let State { queued, woken, .. } = &mut *state;
            for &index in woken.iter() {
                queued[index] = false;
            }
            self.batch.append(woken);
        }
        self.batch.sort_unstable();
        self.batch.dedup();
    }

    /// The next child of the batch to poll.
    pub(super) fn next(&mut self) -> Option<usize> {
        let index = *self.batch.get(self.cursor)?;
        self.cursor += 1;
        Some(index)
    }

    /// The waker to poll child `index` with.
    pub(super) fn waker(&self, index: usize) -> &Waker {
        &self.wakers[index]
    }
}

impl std::fmt::Debug for ReadySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadySet")
            .field("children", &self.wakers.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_drain_gives_every_child_then_only_the_woken_ones_in_order() {
        let mut ready = ReadySet::new(4);
        let cx = Context::from_waker(Waker::noop());
        ready.drain(&cx);
        let mut first = Vec::new();
        while let Some(index) = ready.next() {
            first.push(index);
        }
        assert_eq!(first, [0, 1, 2, 3]);

        ready.waker(3).wake_by_ref();
        ready.waker(1).wake_by_ref();
        ready.waker(3).wake_by_ref();
        ready.drain(&cx);
        let mut second = Vec::new();
        while let Some(index) = ready.next() {
            second.push(index);
        }
        assert_eq!(second, [1, 3]);

        ready.drain(&cx);
        assert_eq!(ready.next(), None);
    }

    #[test]
    fn an_interrupted_batch_is_kept_for_the_next_drain() {
        let mut ready = ReadySet::new(3);
        let cx = Context::from_waker(Waker::noop());
        ready.drain(&cx);
        assert_eq!(ready.next(), Some(0));
        // As if polling child 0 panicked: 1 and 2 were never polled.
        ready.waker(0).wake_by_ref();
        ready.waker(2).wake_by_ref();
        ready.drain(&cx);
        let mut batch = Vec::new();
        while let Some(index) = ready.next() {
            batch.push(index);
        }
        assert_eq!(batch, [0, 1, 2]);
    }
}
