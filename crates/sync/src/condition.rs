//! `Condition`: waiting for a notification while holding a lock.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::error::ForeignGuard;
use crate::lock::{Lock, LockAcquire, LockGuard};
use crate::state_lock::StateLock;
use crate::waiters::{Cancelled, WaiterKey, WaiterList, WakeList};

/// asyncio's `Condition`: tasks holding a lock wait to be notified, giving
/// the lock up while they wait.
///
/// A condition is bound to one [`Lock`], its own ([`Condition::new`]) or one
/// shared with other conditions ([`Condition::with_lock`]).
/// [`wait`](Condition::wait) takes the guard, releases the lock, waits for
/// [`notify`](Condition::notify) and gives the guard back once the lock is
/// held again. Notifications go to waiters in arrival order; a notified
/// waiter that is dropped before it runs passes its notification on.
///
/// ```
/// use std::sync::Arc;
/// use tulip_sync::Condition;
///
/// # tulip_executor::EventLoop::new().unwrap().run_until_complete(async {
/// let ready = Arc::new(Condition::new(false));
/// let consumer = tulip_executor::spawn({
///     let ready = Arc::clone(&ready);
///     async move {
///         let guard = ready.lock().await;
///         let guard = ready.wait_for(guard, |ready| *ready).await.unwrap();
///         *guard
///     }
/// });
/// tulip_executor::yield_now().await;
/// *ready.lock().await = true;
/// ready.notify_all();
/// assert!(consumer.await.unwrap());
/// # }).unwrap();
/// ```
pub struct Condition<T = ()> {
    lock: Arc<Lock<T>>,
    waiters: StateLock<WaiterList<(), ()>>,
}

/// The future of [`Condition::wait`]: resolves to the guard, held again.
#[must_use = "futures do nothing unless polled"]
pub struct ConditionWait<'c, 'g, T> {
    condition: &'c Condition<T>,
    stage: Stage<'g, T>,
}

enum Stage<'g, T> {
    /// Not polled yet: still holding the lock.
    Start(LockGuard<'g, T>),
    /// Lock released, queued for a notification.
    Notify {
        key: WaiterKey,
        lock: &'g Lock<T>,
    },
    /// Notified, taking the lock back.
    Relock(LockAcquire<'g, T>),
    Done,
}

impl<T> Condition<T> {
    /// A condition with a lock of its own, guarding `value`.
    pub fn new(value: T) -> Self {
        Condition::with_lock(Arc::new(Lock::new(value)))
    }

    /// A condition bound to `lock`, which other conditions may share.
    pub fn with_lock(lock: Arc<Lock<T>>) -> Self {
        Condition {
            lock,
            waiters: StateLock::new(WaiterList::new()),
        }
    }

    /// The lock this condition is bound to.
    pub fn shared_lock(&self) -> &Arc<Lock<T>> {
        &self.lock
    }

    /// Acquires the condition's lock (asyncio's `async with condition:`).
    pub fn lock(&self) -> LockAcquire<'_, T> {
        self.lock.lock()
    }

    /// Releases the lock held by `guard`, waits to be notified, takes the
    /// lock back and returns the guard.
    ///
    /// Fails with [`ForeignGuard`] (which gives the guard back, still
    /// holding its lock) if `guard` is of another lock than this
    /// condition's; asyncio raises `RuntimeError` there.
    ///
    /// Dropping the future (cancelling the wait) leaves the lock *not*
    /// held, since the guard went with the future; asyncio takes the lock
    /// back before the cancellation propagates.
    pub fn wait<'g>(&self, guard: LockGuard<'g, T>) -> ConditionWait<'_, 'g, T> {
        ConditionWait {
            condition: self,
            stage: Stage::Start(guard),
        }
    }

    /// Waits until `predicate` holds on the guarded value, checking it first
    /// and then after each notification; returns the guard with the lock
    /// held and the predicate true.
    pub async fn wait_for<'g, P>(
        &self,
        mut guard: LockGuard<'g, T>,
        mut predicate: P,
    ) -> Result<LockGuard<'g, T>, ForeignGuard<'g, T>>
    where
        P: FnMut(&mut T) -> bool,
    {
        if !self.is_own(&guard) {
            return Err(ForeignGuard::new(guard));
        }
        while !predicate(&mut guard) {
            guard = self.wait(guard).await?;
        }
        Ok(guard)
    }

    /// Wakes up to `n` waiters, the longest-waiting first; returns how many.
    ///
    /// Unlike asyncio, which raises `RuntimeError` unless the lock is held,
    /// this needs no guard: waiters queue before they release the lock, so
    /// a notification sent without it is never missed, only possibly early.
    pub fn notify(&self, n: usize) -> usize {
        let mut wakers = WakeList::new();
        let mut notified = 0;
        {
            let mut waiters = self.waiters.lock();
            while notified < n && waiters.grant_front(|()| (), &mut wakers) {
                notified += 1;
            }
        }
        wakers.wake_all();
        notified
    }

    /// Wakes every waiter; returns how many.
    pub fn notify_all(&self) -> usize {
        self.notify(usize::MAX)
    }

    fn is_own(&self, guard: &LockGuard<'_, T>) -> bool {
        std::ptr::eq(guard.lock(), Arc::as_ptr(&self.lock))
    }
}

impl<T: Default> Default for Condition<T> {
    fn default() -> Self {
        Condition::new(T::default())
    }
}

impl<'g, T> Future for ConditionWait<'_, 'g, T> {
    type Output = Result<LockGuard<'g, T>, ForeignGuard<'g, T>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        loop {
            match std::mem::replace(&mut this.stage, Stage::Done) {
                Stage::Start(guard) => {
                    if !this.condition.is_own(&guard) {
                        return Poll::Ready(Err(ForeignGuard::new(guard)));
                    }
                    // Queue before releasing, so that a notify sent by the
                    // next holder of the lock cannot be missed.
                    let key = this.condition.waiters.lock().push_back((), cx.waker());
                    let lock = guard.lock();
                    drop(guard);
                    this.stage = Stage::Notify { key, lock };
                    return Poll::Pending;
                }
                Stage::Notify { key, lock } => {
                    let mut wakers = WakeList::new();
                    let granted =
                        this.condition
                            .waiters
                            .lock()
                            .poll_grant(key, cx.waker(), &mut wakers);
                    wakers.wake_all();
                    match granted {
                        Ok(()) => this.stage = Stage::Relock(lock.lock()),
                        Err(key) => {
                            this.stage = Stage::Notify { key, lock };
                            return Poll::Pending;
                        }
                    }
                }
                Stage::Relock(mut acquire) => match Pin::new(&mut acquire).poll(cx) {
                    Poll::Ready(guard) => return Poll::Ready(Ok(guard)),
                    Poll::Pending => {
                        this.stage = Stage::Relock(acquire);
                        return Poll::Pending;
                    }
                },
                Stage::Done => panic!("a ConditionWait was polled after it completed"),
            }
        }
    }
}

impl<T> Drop for ConditionWait<'_, '_, T> {
    fn drop(&mut self) {
        let notified = match std::mem::replace(&mut self.stage, Stage::Done) {
            Stage::Notify { key, .. } => {
                let mut wakers = WakeList::new();
                let cancelled = self.condition.waiters.lock().cancel(key, &mut wakers);
                wakers.wake_all();
                matches!(cancelled, Cancelled::Granted(()))
            }
            // Notified, and dropped while taking the lock back (which the
            // dropped acquisition passes on).
            Stage::Relock(acquire) => {
                drop(acquire);
                true
            }
            Stage::Start(_) | Stage::Done => false,
        };
        if notified {
            // The notification never reached the caller: it is someone
            // else's now (asyncio 3.13 does the same).
            self.condition.notify(1);
        }
    }
}

impl<T> fmt::Debug for Condition<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condition")
            .field("locked", &self.lock.locked())
            .field("waiters", &self.waiters.lock().len())
            .finish()
    }
}

impl<T> fmt::Debug for ConditionWait<'_, '_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let stage = match self.stage {
            Stage::Start(_) => "start",
            Stage::Notify { .. } => "waiting for a notification",
            Stage::Relock(_) => "taking the lock back",
            Stage::Done => "done",
        };
        f.debug_struct("ConditionWait")
            .field("stage", &stage)
            .finish_non_exhaustive()
    }
}
