//! The one mutex every primitive keeps its state behind.
//!
//! Critical sections are a few instructions long and never run user code
//! (wakers are woken and user values dropped after unlocking), so a plain
//! mutex beats anything cleverer here, and poisoning cannot leave the state
//! half-updated: a poisoned lock is simply taken over.

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
