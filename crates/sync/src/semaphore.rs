//! `Semaphore` and `BoundedSemaphore`: fair counting semaphores.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::error::{AcquireError, ReleaseError, TryAcquireError};
use crate::state_lock::StateLock;
use crate::waiters::{Cancelled, WaiterKey, WaiterList, WakeList};

/// asyncio's `Semaphore`: a count of permits that tasks acquire and release.
///
/// Fair: waiters are served in arrival order, a waiter asking for many
/// permits holds back those behind it until it is satisfied, and
/// [`try_acquire`](Semaphore::try_acquire) never takes permits while anyone
/// is queued. Permits come as [`SemaphorePermit`] guards that give them back
/// on drop; [`SemaphorePermit::forget`] and [`Semaphore::release`] give the
/// asyncio style of pairing `acquire()` and `release()` by hand.
///
/// ```
/// use tulip_sync::Semaphore;
///
/// # tulip_executor::EventLoop::new().unwrap().run_until_complete(async {
/// let semaphore = Semaphore::new(2);
/// let first = semaphore.acquire().await;
/// let _second = semaphore.acquire().await;
/// assert!(semaphore.try_acquire().is_err());
/// drop(first);
/// assert_eq!(semaphore.available_permits(), 1);
/// # }).unwrap();
/// ```
pub struct Semaphore {
    raw: RawSemaphore,
}

/// asyncio's `BoundedSemaphore`: a [`Semaphore`] that refuses to be
/// released above its initial number of permits.
///
/// [`release`](BoundedSemaphore::release) beyond the bound returns
/// [`ReleaseError`] (asyncio raises `ValueError`) and changes nothing. The
/// check sees only the permits that are free: a permit guard still out
/// counts as taken, so a stray `release()` while guards are alive succeeds,
/// and the guards' own releases are then capped at the bound instead (a
/// guard's drop cannot fail).
pub struct BoundedSemaphore {
    raw: RawSemaphore,
}

/// Permits held from a semaphore; dropping the guard releases them.
#[must_use = "dropping the permit releases it at once"]
pub struct SemaphorePermit<'a> {
    raw: &'a RawSemaphore,
    permits: usize,
}

/// The future of [`Semaphore::acquire`]: resolves to one permit.
#[must_use = "futures do nothing unless polled"]
pub struct SemaphoreAcquire<'a> {
    waiter: Waiter<&'a RawSemaphore>,
}

/// The future of [`Semaphore::acquire_many`]: resolves to the permits, or
/// to an error if more were asked for than the semaphore can ever hold.
#[must_use = "futures do nothing unless polled"]
pub struct SemaphoreAcquireMany<'a> {
    waiter: Waiter<&'a RawSemaphore>,
}

/// The acquiring half of the API, the same for [`Semaphore`] and
/// [`BoundedSemaphore`] (both keep their [`RawSemaphore`] in `raw`).
macro_rules! acquire_methods {
    () => {
        /// Waits for one permit.
        pub fn acquire(&self) -> SemaphoreAcquire<'_> {
            SemaphoreAcquire {
                waiter: Waiter::new(&self.raw, 1),
            }
        }

        /// Waits for `n` permits at once. Fails at once, without queueing,
        /// if `n` is more than the semaphore can ever hold (the bound of a
        /// [`BoundedSemaphore`], [`Semaphore::MAX_PERMITS`] otherwise): they
        /// could never all be free.
        pub fn acquire_many(&self, n: usize) -> SemaphoreAcquireMany<'_> {
            SemaphoreAcquireMany {
                waiter: Waiter::new(&self.raw, n),
            }
        }

        /// One permit if it is available now and nobody is queued for one.
        pub fn try_acquire(&self) -> Result<SemaphorePermit<'_>, TryAcquireError> {
            self.raw.try_acquire(1)
        }

        /// `n` permits if they are available now and nobody is queued.
        pub fn try_acquire_many(&self, n: usize) -> Result<SemaphorePermit<'_>, TryAcquireError> {
            self.raw.try_acquire(n)
        }
    };
}

impl Semaphore {
    /// The most permits a semaphore can hold; releases beyond it are capped.
    pub const MAX_PERMITS: usize = usize::MAX >> 4;

    /// A semaphore with `permits` permits (capped at
    /// [`MAX_PERMITS`](Semaphore::MAX_PERMITS)).
    pub fn new(permits: usize) -> Self {
        Semaphore {
            raw: RawSemaphore::new(permits.min(Self::MAX_PERMITS), Self::MAX_PERMITS),
        }
    }

    acquire_methods!();

    /// asyncio's `release()`: adds one permit, waking the first waiter if
    /// that satisfies it.
    pub fn release(&self) {
        self.raw.release(1);
    }

    /// Adds `n` permits (the total is capped at
    /// [`MAX_PERMITS`](Semaphore::MAX_PERMITS)).
    pub fn add_permits(&self, n: usize) {
        self.raw.release(n);
    }

    /// Permits available right now.
    pub fn available_permits(&self) -> usize {
        self.raw.available_permits()
    }

    /// asyncio's `locked()`: whether [`acquire`](Semaphore::acquire) would
    /// have to wait.
    pub fn locked(&self) -> bool {
        self.raw.locked()
    }
}

impl BoundedSemaphore {
    /// A semaphore with `permits` permits, which is also its bound (capped at
    /// [`Semaphore::MAX_PERMITS`]).
    pub fn new(permits: usize) -> Self {
        let permits = permits.min(Semaphore::MAX_PERMITS);
        BoundedSemaphore {
            raw: RawSemaphore::new(permits, permits),
        }
    }

    acquire_methods!();

    /// asyncio's `release()`: adds one permit, or fails with
    /// [`ReleaseError`] if that would exceed the bound.
    pub fn release(&self) -> Result<(), ReleaseError> {
        self.raw.release_within_bound(1)
    }

    /// Permits available right now.
    pub fn available_permits(&self) -> usize {
        self.raw.available_permits()
    }

    /// The initial (and greatest) number of permits.
    pub fn bound(&self) -> usize {
        self.raw.bound
    }

    /// asyncio's `locked()`: whether [`acquire`](BoundedSemaphore::acquire)
    /// would have to wait.
    pub fn locked(&self) -> bool {
        self.raw.locked()
    }
}

impl SemaphorePermit<'_> {
    /// How many permits this guard holds.
    pub fn num_permits(&self) -> usize {
        self.permits
    }

    /// Keeps the permits taken: they return only through an explicit
    /// `release`, as in asyncio's `acquire()` / `release()` pairing.
    pub fn forget(mut self) {
        self.permits = 0;
    }
}

impl Drop for SemaphorePermit<'_> {
    fn drop(&mut self) {
        if self.permits > 0 {
            self.raw.release(self.permits);
        }
    }
}

impl<'a> Future for SemaphoreAcquire<'a> {
    type Output = SemaphorePermit<'a>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let waiter = &mut self.get_mut().waiter;
        waiter.poll(cx).map(|()| waiter.permit())
    }
}

impl<'a> Future for SemaphoreAcquireMany<'a> {
    type Output = Result<SemaphorePermit<'a>, AcquireError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let waiter = &mut self.get_mut().waiter;
        // More than the bound could never be free at once: fail rather than
        // wait forever (and never queue, so nobody behind is held back).
        let limit = waiter.handle().bound;
        if waiter.permits > limit {
            return Poll::Ready(Err(AcquireError {
                requested: waiter.permits,
                limit,
            }));
        }
        waiter.poll(cx).map(|()| Ok(waiter.permit()))
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore")
            .field("available_permits", &self.available_permits())
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for BoundedSemaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoundedSemaphore")
            .field("available_permits", &self.available_permits())
            .field("bound", &self.bound())
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for SemaphorePermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphorePermit")
            .field("permits", &self.permits)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for SemaphoreAcquire<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphoreAcquire").finish_non_exhaustive()
    }
}

impl fmt::Debug for SemaphoreAcquireMany<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphoreAcquireMany")
            .field("permits", &self.waiter.permits)
            .finish_non_exhaustive()
    }
}

/// The fair semaphore behind [`Semaphore`], [`BoundedSemaphore`] and
/// [`Lock`](crate::Lock).
pub(crate) struct RawSemaphore {
    state: StateLock<State>,
    /// The most permits it may hold.
    bound: usize,
}

struct State {
    permits: usize,
    /// Each waiter's request and grant is the number of permits it wants.
    waiters: WaiterList<usize, usize>,
}

impl RawSemaphore {
    pub(crate) fn new(permits: usize, bound: usize) -> Self {
        RawSemaphore {
            state: StateLock::new(State {
                permits,
                waiters: WaiterList::new(),
            }),
            bound,
        }
    }

    pub(crate) fn try_acquire(&self, n: usize) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        let mut state = self.state.lock();
        if state.waiters.is_empty() && state.permits >= n {
            state.permits -= n;
            Ok(SemaphorePermit {
                raw: self,
                permits: n,
            })
        } else {
            Err(TryAcquireError)
        }
    }

    /// Gives `n` permits back (never above the bound) and serves the queue.
    pub(crate) fn release(&self, n: usize) {
        let mut wakers = WakeList::new();
        {
            let mut state = self.state.lock();
            state.permits = state.permits.saturating_add(n).min(self.bound);
            state.serve(&mut wakers);
        }
        wakers.wake_all();
    }

    /// Gives `n` permits back unless that would exceed the bound.
    fn release_within_bound(&self, n: usize) -> Result<(), ReleaseError> {
        let mut wakers = WakeList::new();
        {
            let mut state = self.state.lock();
            match state.permits.checked_add(n) {
                Some(permits) if permits <= self.bound => state.permits = permits,
                _ => return Err(ReleaseError),
            }
            state.serve(&mut wakers);
        }
        wakers.wake_all();
        Ok(())
    }

    pub(crate) fn available_permits(&self) -> usize {
        self.state.lock().permits
    }

    pub(crate) fn locked(&self) -> bool {
        let state = self.state.lock();
        state.permits == 0 || !state.waiters.is_empty()
    }
}

impl State {
    /// Grants the queue front to back while the permits last; stops at the
    /// first waiter that cannot be satisfied, so nobody overtakes it.
    fn serve(&mut self, wakers: &mut WakeList) {
        while let Some(&wanted) = self.waiters.front() {
            if wanted > self.permits {
                break;
            }
            self.permits -= wanted;
            self.waiters.grant_front(|wanted| wanted, wakers);
        }
    }
}

/// What an acquisition reaches its semaphore through: a borrow, or an
/// owning handle (the `Arc` of [`Lock::lock_owned`](crate::Lock::lock_owned)).
pub(crate) trait SemaphoreRef {
    fn raw(&self) -> &RawSemaphore;
}

impl SemaphoreRef for &RawSemaphore {
    fn raw(&self) -> &RawSemaphore {
        self
    }
}

/// One acquisition in progress: the state machine shared by every future
/// that takes permits (the semaphores' and the lock's).
pub(crate) struct Waiter<H: SemaphoreRef> {
    handle: H,
    permits: usize,
    key: Option<WaiterKey>,
    /// Set once the permits were handed over, so that a poll after
    /// completion cannot take them a second time.
    done: bool,
}

impl<H: SemaphoreRef> Waiter<H> {
    pub(crate) fn new(handle: H, permits: usize) -> Self {
        Waiter {
            handle,
            permits,
            key: None,
            done: false,
        }
    }

    /// The handle to the semaphore.
    pub(crate) fn handle(&self) -> &H {
        &self.handle
    }

    /// Takes the permits now if nobody is queued, else queues (first
    /// poll) or checks for the grant (later polls). Ready once the permits
    /// belong to the caller, who must give them back.
    pub(crate) fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        assert!(
            !self.done,
            "an acquisition future was polled after it completed"
        );
        let mut wakers = WakeList::new();
        let poll = {
            let mut state = self.handle.raw().state.lock();
            match self.key.take() {
                None if state.waiters.is_empty() && state.permits >= self.permits => {
                    state.permits -= self.permits;
                    Poll::Ready(())
                }
                None => {
                    self.key = Some(state.waiters.push_back(self.permits, cx.waker()));
                    Poll::Pending
                }
                Some(key) => match state.waiters.poll_grant(key, cx.waker(), &mut wakers) {
                    Ok(_) => Poll::Ready(()),
                    Err(key) => {
                        self.key = Some(key);
                        Poll::Pending
                    }
                },
            }
        };
        wakers.wake_all();
        self.done = poll.is_ready();
        poll
    }
}

impl<'a> Waiter<&'a RawSemaphore> {
    /// The permits of a completed acquisition, as a guard.
    fn permit(&self) -> SemaphorePermit<'a> {
        SemaphorePermit {
            raw: self.handle,
            permits: self.permits,
        }
    }
}

impl<H: SemaphoreRef> Drop for Waiter<H> {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else {
            return;
        };
        let raw = self.handle.raw();
        let mut wakers = WakeList::new();
        {
            let mut state = raw.state.lock();
            match state.waiters.cancel(key, &mut wakers) {
                // Granted but never collected: the permits go to the next
                // in line (or back to the pool).
                Cancelled::Granted(permits) => {
                    state.permits = state.permits.saturating_add(permits).min(raw.bound);
                }
                // Still queued: leaving may unblock those behind if it
                // wanted more than is free.
                Cancelled::Waiting(_) => {}
            }
            state.serve(&mut wakers);
        }
        wakers.wake_all();
    }
}
