//! Cooperative budget: a task whose I/O is always ready still yields to its neighbours.
//!
//! The executor runs each task poll inside [`with_budget`]; leaf operations (the
//! `read_with`/`write_with` family of [`Async`](crate::Async)) spend one unit through
//! [`poll_proceed`] before doing I/O. Once the budget is spent they wake the task and
//! return `Pending`, so the task goes to the back of the ready queue. The budget is one
//! thread-local cell; outside `with_budget` operations are unconstrained.

use std::cell::Cell;
use std::task::{Context, Poll};

thread_local! {
    /// Units left for the task being polled on this thread; `None`: unconstrained.
    static BUDGET: Cell<Option<u32>> = const { Cell::new(None) };
}

/// Restores the outer budget, also when `f` panics.
struct Restore(Option<u32>);

impl Drop for Restore {
    fn drop(&mut self) {
        let _ = BUDGET.try_with(|b| b.set(self.0));
    }
}

/// Runs `f` with a fresh budget of `budget` operations for the current task. Nested
/// calls restore the outer budget afterwards.
///
/// ```
/// use std::task::{Context, Waker};
/// use tulip_reactor::coop;
///
/// let cx = &mut Context::from_waker(Waker::noop());
/// coop::with_budget(1, || {
///     assert!(coop::poll_proceed(cx).is_ready());
///     assert!(coop::poll_proceed(cx).is_pending());
/// });
/// assert!(coop::poll_proceed(cx).is_ready()); // unconstrained again
/// ```
pub fn with_budget<R>(budget: u32, f: impl FnOnce() -> R) -> R {
    let outer = BUDGET.try_with(|b| b.replace(Some(budget))).unwrap_or(None);
    let _restore = Restore(outer);
    f()
}

/// Spends one unit of the current task's budget. With budget left: `Ready(())`.
/// Exhausted: wakes `cx`'s waker and returns `Pending`. Outside
/// [`with_budget`]: always `Ready`.
///
/// ```
/// use std::task::{Context, Waker};
/// use tulip_reactor::coop;
///
/// let cx = &mut Context::from_waker(Waker::noop());
/// assert!(coop::poll_proceed(cx).is_ready());
/// ```
pub fn poll_proceed(cx: &mut Context<'_>) -> Poll<()> {
    let left = BUDGET
        .try_with(|b| match b.get() {
            None => true,
            Some(0) => false,
            Some(n) => {
                b.set(Some(n - 1));
                true
            }
        })
        .unwrap_or(true);
    if left {
        Poll::Ready(())
    } else {
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
