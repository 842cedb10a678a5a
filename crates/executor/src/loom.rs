//! The one place where the raw task's synchronisation primitives come from.
//!
//! Under `--cfg loom` these are loom's model-checked atomics, cells and
//! thread-locals; otherwise they are the standard library's, wrapped so that
//! both builds expose the same API. Code that goes through this module is
//! identical in both builds, so what loom checks is what ships.
//!
//! The task module and the runtime's run queue use it; the runtime's sleep
//! protocol has its own facade (`runtime/sync.rs`); the rest keeps plain `std`.

#[cfg(loom)]
pub(crate) use loom::{
    cell::UnsafeCell,
    sync::atomic::{AtomicU32, AtomicUsize, Ordering},
    thread_local,
};

#[cfg(not(loom))]
pub(crate) use std::{
    sync::atomic::{AtomicU32, AtomicUsize, Ordering},
    thread_local,
};

/// `std::cell::UnsafeCell` with loom's closure-based API (`with_mut`),
/// so that accesses are scoped the same way in both builds.
#[cfg(not(loom))]
#[derive(Debug)]
pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

#[cfg(not(loom))]
impl<T> UnsafeCell<T> {
    /// Wraps `value`.
    pub(crate) const fn new(value: T) -> Self {
        Self(std::cell::UnsafeCell::new(value))
    }

    /// Runs `f` with a raw pointer for reading and writing the value.
    #[inline(always)]
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}

// Added for the multi-thread run queue (`runtime::queue`): a 64-bit atomic
// for its packed head word, the `Arc` its owner and stealers share, and a
// read-only `UnsafeCell::with` so that loom can tell reads from writes.
#[cfg(loom)]
pub(crate) use loom::sync::{Arc, atomic::AtomicU64};

#[cfg(not(loom))]
pub(crate) use std::sync::{Arc, atomic::AtomicU64};

#[cfg(not(loom))]
impl<T> UnsafeCell<T> {
    /// Runs `f` with a raw pointer for reading the value.
    #[inline]
    pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        f(self.0.get())
    }
}
