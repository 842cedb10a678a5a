//! `Barrier`: parties waiting for each other (asyncio 3.11).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::error::{BrokenBarrier, InvalidParties};
use crate::state_lock::StateLock;
use crate::waiters::{Cancelled, WaiterKey, WaiterList, WakeList};

/// asyncio's `Barrier`: [`wait`](Barrier::wait) returns once `parties` tasks
/// are waiting, giving each its arrival index (`0` for the first,
/// `parties - 1` for the one that completed the group).
///
/// The barrier then starts over for the next group. [`abort`](Barrier::abort)
/// breaks it: waiting and later [`wait`](Barrier::wait)s fail with
/// [`BrokenBarrier`] until [`reset`](Barrier::reset), which also fails the
/// current waiters and returns the barrier to its empty state. A waiter that
/// is dropped before the group is complete leaves it, and another task has
/// to take its place.
///
/// A group is released at once, in arrival order, when its last party
/// arrives: the next group can start forming before the released tasks
/// have run (asyncio makes new arrivals wait until they have), and an
/// `abort` or `reset` after the release does not reach them (asyncio fails
/// the released tasks that have not run yet).
///
/// ```
/// use std::sync::Arc;
/// use tulip_sync::Barrier;
///
/// # tulip_executor::EventLoop::new().unwrap().run_until_complete(async {
/// let barrier = Arc::new(Barrier::new(3)?);
/// let mut tasks = Vec::new();
/// for _ in 0..3 {
///     let barrier = Arc::clone(&barrier);
///     tasks.push(tulip_executor::spawn(async move { barrier.wait().await }));
/// }
/// let mut indices = Vec::new();
/// for task in tasks {
///     indices.push(task.await.unwrap()?);
/// }
/// assert_eq!(indices, [0, 1, 2]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap().unwrap();
/// ```
pub struct Barrier {
    parties: usize,
    state: StateLock<State>,
}

/// The future of [`Barrier::wait`]: the arrival index, or [`BrokenBarrier`].
#[must_use = "futures do nothing unless polled"]
pub struct BarrierWait<'a> {
    barrier: &'a Barrier,
    key: Option<WaiterKey>,
}

struct State {
    broken: bool,
    /// The parties of the current group that are waiting, in arrival order;
    /// each is granted its index when the group completes.
    waiters: WaiterList<(), Result<usize, BrokenBarrier>>,
}

impl Barrier {
    /// A barrier for groups of `parties` tasks; `0` is an error, as asyncio
    /// raises `ValueError`.
    pub fn new(parties: usize) -> Result<Self, InvalidParties> {
        if parties == 0 {
            return Err(InvalidParties);
        }
        Ok(Barrier {
            parties,
            state: StateLock::new(State {
                broken: false,
                waiters: WaiterList::new(),
            }),
        })
    }

    /// Waits until the group is complete; returns this task's arrival index.
    pub fn wait(&self) -> BarrierWait<'_> {
        BarrierWait {
            barrier: self,
            key: None,
        }
    }

    /// Breaks the barrier: current and later waiters get [`BrokenBarrier`]
    /// until [`reset`](Barrier::reset).
    pub fn abort(&self) {
        self.fail_waiters(true);
    }

    /// Returns the barrier to its empty, unbroken state; the tasks waiting
    /// now get [`BrokenBarrier`].
    pub fn reset(&self) {
        self.fail_waiters(false);
    }

    /// How many tasks make a group.
    pub fn parties(&self) -> usize {
        self.parties
    }

    /// How many tasks of the current group are waiting.
    pub fn n_waiting(&self) -> usize {
        self.state.lock().waiters.len()
    }

    /// Whether the barrier is broken.
    pub fn broken(&self) -> bool {
        self.state.lock().broken
    }

    fn fail_waiters(&self, broken: bool) {
        let mut wakers = WakeList::new();
        {
            let mut state = self.state.lock();
            state.broken = broken;
            state
                .waiters
                .grant_all(|()| Err(BrokenBarrier), &mut wakers);
        }
        wakers.wake_all();
    }
}

impl Future for BarrierWait<'_> {
    type Output = Result<usize, BrokenBarrier>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let barrier = this.barrier;
        let mut wakers = WakeList::new();
        let poll = {
            let mut state = barrier.state.lock();
            match this.key.take() {
                None if state.broken => Poll::Ready(Err(BrokenBarrier)),
                None if state.waiters.len() + 1 == barrier.parties => {
                    // The last party: release the group, in arrival order.
                    let mut index = 0;
                    state.waiters.grant_all(
                        |()| {
                            index += 1;
                            Ok(index - 1)
                        },
                        &mut wakers,
                    );
                    Poll::Ready(Ok(barrier.parties - 1))
                }
                None => {
                    this.key = Some(state.waiters.push_back((), cx.waker()));
                    Poll::Pending
                }
                Some(key) => match state.waiters.poll_grant(key, cx.waker(), &mut wakers) {
                    Ok(result) => Poll::Ready(result),
                    Err(key) => {
                        this.key = Some(key);
                        Poll::Pending
                    }
                },
            }
        };
        wakers.wake_all();
        poll
    }
}

impl Drop for BarrierWait<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            // A party that leaves before the group is complete no longer
            // counts; one released but not yet run has nothing to pass on.
            let mut wakers = WakeList::new();
            let _: Cancelled<(), _> = self.barrier.state.lock().waiters.cancel(key, &mut wakers);
            wakers.wake_all();
        }
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.lock();
        f.debug_struct("Barrier")
            .field("parties", &self.parties)
            .field("n_waiting", &state.waiters.len())
            .field("broken", &state.broken)
            .finish()
    }
}

impl fmt::Debug for BarrierWait<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BarrierWait").finish_non_exhaustive()
    }
}
