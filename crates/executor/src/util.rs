//! Small helpers shared by the crate's modules.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};
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
