//! `Lock<T>`: asyncio's Lock, and an async mutex when it guards data.

use std::cell::UnsafeCell;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::error::TryLockError;
use crate::semaphore::{RawSemaphore, SemaphoreRef, Waiter};

/// A fair async lock: asyncio's `Lock` as `Lock::new(())`, an async mutex
/// around `T` otherwise.
///
/// Tasks get the lock in the order they asked for it: releasing it hands it
/// straight to the first waiter, and [`try_lock`](Lock::try_lock) fails
/// while anyone is queued, so nobody barges in. The lock is held for as long
/// as the [`LockGuard`] lives (asyncio's `async with lock:`).
///
/// ```
/// use std::sync::Arc;
/// use tulip_sync::Lock;
///
/// # tulip_executor::EventLoop::new().unwrap().run_until_complete(async {
/// let counter = Arc::new(Lock::new(0));
/// let mut tasks = Vec::new();
/// for _ in 0..10 {
///     let counter = Arc::clone(&counter);
///     tasks.push(tulip_executor::spawn(async move {
///         let mut value = counter.lock().await;
///         let read = *value;
///         tulip_executor::yield_now().await; // held across a suspension
///         *value = read + 1;
///     }));
/// }
/// for task in tasks {
///     task.await.unwrap();
/// }
/// assert_eq!(*counter.lock().await, 10);
/// # }).unwrap();
/// ```
pub struct Lock<T = ()> {
    raw: RawSemaphore,
    value: UnsafeCell<T>,
}

// SAFETY: the lock hands out access to `value` to one guard at a time (the
// semaphore has one permit), so sharing the lock between threads shares `T`
// only by moving access between them, which `T: Send` allows; this is the
// same bound as `std::sync::Mutex`.
unsafe impl<T: Send> Sync for Lock<T> {}

/// Proof that the lock is held: derefs to the guarded value; dropping it
/// releases the lock to the next waiter.
#[must_use = "dropping the guard releases the lock at once"]
pub struct LockGuard<'a, T> {
    lock: &'a Lock<T>,
    // Shared references to the guard give `&T` to whoever holds them, so the
    // guard is `Sync` only when `T` is.
    _value: PhantomData<&'a mut T>,
}

/// The future of [`Lock::lock`]: resolves to the guard.
#[must_use = "futures do nothing unless polled"]
pub struct LockAcquire<'a, T> {
    lock: &'a Lock<T>,
    waiter: Waiter<&'a RawSemaphore>,
}

/// A guard that owns a reference to its lock: `'static`, so it can move
/// into a spawned task or a callback (asyncio's `lock.release()` called from
/// elsewhere), from [`Lock::lock_owned`].
#[must_use = "dropping the guard releases the lock at once"]
pub struct OwnedLockGuard<T> {
    lock: Arc<Lock<T>>,
    // As for `LockGuard`: `Sync` only when `T` is.
    _value: PhantomData<T>,
}

/// The future of [`Lock::lock_owned`]: resolves to an [`OwnedLockGuard`].
#[must_use = "futures do nothing unless polled"]
pub struct LockAcquireOwned<T> {
    waiter: Waiter<Arc<Lock<T>>>,
}

impl<T> Lock<T> {
    /// A lock, not held, guarding `value`.
    pub fn new(value: T) -> Self {
        Lock {
            raw: RawSemaphore::new(1, 1),
            value: UnsafeCell::new(value),
        }
    }

    /// Waits for the lock, in arrival order.
    pub fn lock(&self) -> LockAcquire<'_, T> {
        LockAcquire {
            lock: self,
            waiter: Waiter::new(&self.raw, 1),
        }
    }

    /// The lock if it is free and nobody is queued for it.
    pub fn try_lock(&self) -> Result<LockGuard<'_, T>, TryLockError> {
        match self.raw.try_acquire(1) {
            Ok(permit) => {
                permit.forget();
                Ok(LockGuard::new(self))
            }
            Err(_) => Err(TryLockError),
        }
    }

    /// Waits for the lock, in arrival order, like [`lock`](Lock::lock),
    /// for a guard that holds an `Arc` of the lock instead of a borrow.
    pub fn lock_owned(self: &Arc<Self>) -> LockAcquireOwned<T> {
        LockAcquireOwned {
            waiter: Waiter::new(Arc::clone(self), 1),
        }
    }

    /// [`try_lock`](Lock::try_lock), for an [`OwnedLockGuard`].
    pub fn try_lock_owned(self: &Arc<Self>) -> Result<OwnedLockGuard<T>, TryLockError> {
        match self.raw.try_acquire(1) {
            Ok(permit) => {
                permit.forget();
                Ok(OwnedLockGuard::new(Arc::clone(self)))
            }
            Err(_) => Err(TryLockError),
        }
    }

    /// Whether the lock is held. A release with tasks queued hands the lock
    /// straight to the first of them, so it stays held (asyncio reports it
    /// free until that task runs, and lets others barge in meanwhile).
    pub fn locked(&self) -> bool {
        self.raw.available_permits() == 0
    }

    /// The guarded value, through exclusive access to the lock (no locking
    /// needed).
    pub fn get_mut(&mut self) -> &mut T {
        self.value.get_mut()
    }

    /// Consumes the lock, returning the guarded value.
    pub fn into_inner(self) -> T {
        self.value.into_inner()
    }
}

impl<T: Default> Default for Lock<T> {
    fn default() -> Self {
        Lock::new(T::default())
    }
}

impl<'a, T> LockGuard<'a, T> {
    fn new(lock: &'a Lock<T>) -> Self {
        LockGuard {
            lock,
            _value: PhantomData,
        }
    }

    /// The lock this guard holds.
    pub(crate) fn lock(&self) -> &'a Lock<T> {
        self.lock
    }
}

impl<T> Deref for LockGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: the guard exists only while it holds the lock's single
        // permit, so no other guard can reach `value` until it is dropped;
        // the returned reference borrows the guard.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T> DerefMut for LockGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`, and the `&mut self` borrow makes this the
        // only reference handed out by the guard while it lives.
        unsafe { &mut *self.lock.value.get() }
    }
}

impl<T> Drop for LockGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.raw.release(1);
    }
}

impl<T> OwnedLockGuard<T> {
    fn new(lock: Arc<Lock<T>>) -> Self {
        OwnedLockGuard {
            lock,
            _value: PhantomData,
        }
    }

    /// The lock this guard holds.
    pub fn lock(&self) -> &Arc<Lock<T>> {
        &self.lock
    }
}

impl<T> Deref for OwnedLockGuard<T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: as for `LockGuard`: the guard holds the lock's only permit.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T> DerefMut for OwnedLockGuard<T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as for `LockGuard`, and `&mut self` makes this the only
        // reference the guard hands out while it lives.
        unsafe { &mut *self.lock.value.get() }
    }
}

impl<T> Drop for OwnedLockGuard<T> {
    fn drop(&mut self) {
        self.lock.raw.release(1);
    }
}

impl<T> SemaphoreRef for Arc<Lock<T>> {
    fn raw(&self) -> &RawSemaphore {
        &self.raw
    }
}

impl<T> Future for LockAcquireOwned<T> {
    type Output = OwnedLockGuard<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let waiter = &mut self.get_mut().waiter;
        waiter
            .poll(cx)
            .map(|()| OwnedLockGuard::new(Arc::clone(waiter.handle())))
    }
}

impl<T: fmt::Debug> fmt::Debug for OwnedLockGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T> fmt::Debug for LockAcquireOwned<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockAcquireOwned").finish_non_exhaustive()
    }
}

impl<'a, T> Future for LockAcquire<'a, T> {
    type Output = LockGuard<'a, T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        this.waiter.poll(cx).map(|()| LockGuard::new(this.lock))
    }
}

impl<T: fmt::Debug> fmt::Debug for Lock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Lock");
        match self.try_lock() {
            Ok(guard) => d.field("value", &*guard),
            Err(_) => d.field("value", &format_args!("<locked>")),
        };
        d.finish_non_exhaustive()
    }
}

impl<T: fmt::Debug> fmt::Debug for LockGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T> fmt::Debug for LockAcquire<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockAcquire").finish_non_exhaustive()
    }
}
