//! Small helpers shared by the crate's modules.

use std::any::Any;
use std::cell::RefCell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::thread::LocalKey;
use std::time::{Duration, Instant};

/// The text of a panic payload: the `&str` or `String` passed to `panic!`,
/// else a fixed description.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(message) = payload.downcast_ref::<&'static str>() {
        message
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message
    } else {
        "Box<dyn Any>"
    }
}

/// `now + delay`, or a deadline about 30 years away when that overflows
/// `Instant` (`Duration::MAX` means "never" to a user, not a panic).
pub(crate) fn deadline_after(now: Instant, delay: Duration) -> Instant {
    const FAR_FUTURE: Duration = Duration::from_secs(86_400 * 365 * 30);
    now.checked_add(delay)
        .or_else(|| now.checked_add(FAR_FUTURE))
        .unwrap_or(now)
}

/// Drops a value of user code, catching a panic from its destructor (a
/// payload whose own destructor panics is forgotten).
pub(crate) fn drop_quietly<T>(value: T) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(|| drop(value)))
        && let Err(inner) = catch_unwind(AssertUnwindSafe(|| drop(payload)))
    {
        std::mem::forget(inner);
    }
}

/// A thread-local slot set for a scope: [`ScopedSlot::set`] puts a value in
/// and the guard puts the previous one back when dropped (scopes nest). The
/// running loop's and the runtime's "current" slots are two of these.
pub(crate) struct ScopedSlot<T: 'static> {
    key: &'static LocalKey<RefCell<Option<T>>>,
    previous: Option<T>,
}

impl<T: Clone + 'static> ScopedSlot<T> {
    /// What `key` holds now (a clone), if anything; `None` at thread exit.
    pub(crate) fn get(key: &'static LocalKey<RefCell<Option<T>>>) -> Option<T> {
        key.try_with(|slot| slot.borrow().clone()).ok().flatten()
    }

    /// Whether `key` holds a value now.
    pub(crate) fn is_set(key: &'static LocalKey<RefCell<Option<T>>>) -> bool {
        key.try_with(|slot| slot.borrow().is_some())
            .unwrap_or(false)
    }
}

impl<T: 'static> ScopedSlot<T> {
    /// Sets `key` to `value` until the returned guard is dropped. At thread
    /// exit, once the slot is gone, nothing is set and the guard does nothing.
    pub(crate) fn set(key: &'static LocalKey<RefCell<Option<T>>>, value: T) -> ScopedSlot<T> {
        let previous = key
            .try_with(|slot| slot.borrow_mut().replace(value))
            .ok()
            .flatten();
        ScopedSlot { key, previous }
    }
}

impl<T: 'static> Drop for ScopedSlot<T> {
    fn drop(&mut self) {
        let previous = self.previous.take();
        // Swapped outside the borrow, so that dropping our value runs no code
        // while the slot is borrowed.
        let ours = self
            .key
            .try_with(|slot| std::mem::replace(&mut *slot.borrow_mut(), previous))
            .ok()
            .flatten();
        drop(ours);
    }
}
