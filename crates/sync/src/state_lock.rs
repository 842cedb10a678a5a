//! The one mutex every primitive keeps its state behind.
//!
//! Critical sections are a few instructions long and run no user code:
//! wakers are woken or dropped, and user values dropped, after unlocking.
//! Three things are the exception: cloning a waker to store it, a
//! [`PriorityQueue`](crate::PriorityQueue)'s `Ord`, which must not panic or
//! touch the queue it is in, and cloning a [`Promise`](crate::Promise)'s
//! result for a waiter, which must not touch the promise (the clone is
//! serialised so that `Promise<T>` is `Sync` for any `T: Send`). So a plain mutex beats anything cleverer here,
//! and a poisoned lock (only a panicking `Ord` can poison one) is taken
//! over: the queue counts an item before handing it to the heap, which
//! keeps it even when a comparison panics.

use std::sync::PoisonError;

#[cfg(loom)]
use loom::sync::{Mutex, MutexGuard};
#[cfg(not(loom))]
use std::sync::{Mutex, MutexGuard};

/// A mutex around one primitive's state.
pub(crate) struct StateLock<S>(Mutex<S>);

impl<S> StateLock<S> {
    /// Wraps `state`.
    pub(crate) fn new(state: S) -> Self {
        StateLock(Mutex::new(state))
    }

    /// Locks the state.
    pub(crate) fn lock(&self) -> MutexGuard<'_, S> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
