//! The errors of tulip-sync, one type per way an operation can fail.

use std::fmt;

use thiserror::Error;

use crate::lock::LockGuard;

/// [`Lock::try_lock`](crate::Lock::try_lock) failed: the lock is held, or
/// tasks are queued for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("the lock is held or has tasks queued for it")]
pub struct TryLockError;

/// `try_acquire` failed: not enough permits are free, or tasks are queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("not enough permits are free, or tasks are queued for them")]
pub struct TryAcquireError;

/// `acquire_many` asked for more permits than the semaphore can ever hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("asked for {requested} permits, but the semaphore never holds more than {limit}")]
pub struct AcquireError {
    /// The permits asked for.
    pub requested: usize,
    /// The most the semaphore can hold.
    pub limit: usize,
}

/// [`BoundedSemaphore::release`](crate::BoundedSemaphore::release) would
/// have raised the permits above the bound (asyncio's `ValueError`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("BoundedSemaphore released too many times")]
pub struct ReleaseError;

/// [`Barrier::new`](crate::Barrier::new) was given zero parties.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("a barrier needs at least one party")]
pub struct InvalidParties;

/// The barrier was aborted or reset while waiting, or is broken (asyncio's
/// `BrokenBarrierError`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("the barrier is broken")]
pub struct BrokenBarrier;

/// [`Condition::wait`](crate::Condition::wait) was given the guard of a
/// lock other than the condition's. The guard is given back, still holding
/// its lock.
#[derive(Error)]
#[error("the guard passed to Condition::wait is not of the condition's lock")]
pub struct ForeignGuard<'g, T> {
    guard: LockGuard<'g, T>,
}

impl<'g, T> ForeignGuard<'g, T> {
    pub(crate) fn new(guard: LockGuard<'g, T>) -> Self {
        ForeignGuard { guard }
    }

    /// The guard that was passed in.
    pub fn into_guard(self) -> LockGuard<'g, T> {
        self.guard
    }
}

impl<T> fmt::Debug for ForeignGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ForeignGuard").finish_non_exhaustive()
    }
}

/// The queue is shut down (asyncio's `QueueShutDown`): from `get`, `T` is
/// `()`; from `put`, it is the item that was not put, given back.
#[derive(Clone, Copy, PartialEq, Eq, Error)]
#[error("the queue is shut down")]
pub struct QueueShutDown<T = ()>(pub T);

impl<T> fmt::Debug for QueueShutDown<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("QueueShutDown(..)")
    }
}

/// [`put_nowait`](crate::GenericQueue::put_nowait) failed; the item is given
/// back.
#[derive(Clone, Copy, PartialEq, Eq, Error)]
pub enum PutNowaitError<T> {
    /// The queue is full (asyncio's `QueueFull`).
    #[error("the queue is full")]
    QueueFull(T),
    /// The queue is shut down (asyncio's `QueueShutDown`).
    #[error("the queue is shut down")]
    QueueShutDown(T),
}

impl<T> PutNowaitError<T> {
    /// The item that was not put.
    pub fn into_inner(self) -> T {
        match self {
            PutNowaitError::QueueFull(item) | PutNowaitError::QueueShutDown(item) => item,
        }
    }
}

impl<T> fmt::Debug for PutNowaitError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PutNowaitError::QueueFull(_) => f.write_str("QueueFull(..)"),
            PutNowaitError::QueueShutDown(_) => f.write_str("QueueShutDown(..)"),
        }
    }
}

/// [`get_nowait`](crate::GenericQueue::get_nowait) failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum GetNowaitError {
    /// The queue is empty (asyncio's `QueueEmpty`).
    #[error("the queue is empty")]
    QueueEmpty,
    /// The queue is shut down and empty (asyncio's `QueueShutDown`).
    #[error("the queue is shut down")]
    QueueShutDown,
}

/// [`task_done`](crate::GenericQueue::task_done) was called more times than
/// items were put (asyncio's `ValueError`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("task_done() called too many times")]
pub struct TaskDoneError;

/// [`Promise::set_result`](crate::Promise::set_result) on a promise that
/// already has a result or was cancelled (asyncio's `InvalidStateError`).
/// The value that was not set is given back.
#[derive(Clone, Copy, PartialEq, Eq, Error)]
#[error("the promise is already done: it has a result or was cancelled")]
pub struct InvalidStateError<T>(T);

impl<T> InvalidStateError<T> {
    pub(crate) fn new(value: T) -> Self {
        InvalidStateError(value)
    }

    /// The value that was not set.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for InvalidStateError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InvalidStateError").finish_non_exhaustive()
    }
}

/// Why a [`Promise`](crate::Promise) gave no result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum PromiseError {
    /// [`Promise::result`](crate::Promise::result) was called before the
    /// result was set (asyncio's `InvalidStateError`).
    #[error("the promise has no result yet")]
    NotDone,
    /// The promise was cancelled (asyncio's `CancelledError`).
    #[error("the promise was cancelled")]
    Cancelled,
}
