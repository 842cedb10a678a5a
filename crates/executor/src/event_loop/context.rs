//! The thread's running loop: one thread-local slot, set while a loop runs.
//!
//! Every access goes through `try_with`: a waker may fire from a thread-local
//! destructor at thread exit, after this slot is gone, and must then take the
//! remote path instead of panicking.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use super::inner::Ready;
use super::{LoopInner, Shared};
use crate::task::Runnable;
use crate::util::ScopedSlot;

thread_local! {
    static CURRENT: RefCell<Option<Rc<LoopInner>>> = const { RefCell::new(None) };
}

/// The loop running on this thread, if any. The `Rc` is cloned so that no
/// borrow of the slot is held while the caller runs user code.
pub(crate) fn current() -> Option<Rc<LoopInner>> {
    ScopedSlot::get(&CURRENT)
}

/// Whether a loop is running on this thread.
pub(crate) fn is_set() -> bool {
    ScopedSlot::is_set(&CURRENT)
}

/// Hands `value` to `f` with the running loop's state if this thread is running
/// the loop that owns `shared`; otherwise gives `value` back.
pub(crate) fn try_local<T, R>(
    shared: &Arc<Shared>,
    value: T,
    f: impl FnOnce(&LoopInner, T) -> R,
) -> Result<R, T> {
    let owner = CURRENT
        .try_with(|slot| {
            slot.borrow()
                .as_ref()
                .filter(|inner| Arc::ptr_eq(&inner.shared, shared))
                .cloned()
        })
        .ok()
        .flatten();
    match owner {
        Some(inner) => Ok(f(&inner, value)),
        None => Err(value),
    }
}

/// The waker's fast path: pushes `task` onto the ready queue if this thread
/// is running the loop that owns `shared`, else gives it back. No user code
/// runs here, so the slot stays borrowed and no `Rc` is cloned.
pub(crate) fn schedule_local(shared: &Arc<Shared>, task: Runnable) -> Result<(), Runnable> {
    let mut task = Some(task);
    let pushed = CURRENT.try_with(|slot| match slot.borrow().as_deref() {
        Some(inner) if Arc::ptr_eq(&inner.shared, shared) => {
            if let Some(task) = task.take() {
                inner.push_ready(Ready::Task(task));
            }
            true
        }
        _ => false,
    });
    match (pushed, task) {
        (Ok(true), _) | (_, None) => Ok(()),
        (_, Some(task)) => Err(task),
    }
}

/// Marks `inner` as this thread's running loop until dropped, then restores
/// whatever was there before.
pub(crate) struct Entered {
    _current: ScopedSlot<Rc<LoopInner>>,
    _reactor: tulip_reactor::EnterGuard,
}

pub(crate) fn enter(inner: &Rc<LoopInner>) -> Entered {
    let reactor = inner.shared.reactor.enter();
    Entered {
        _current: ScopedSlot::set(&CURRENT, inner.clone()),
        _reactor: reactor,
    }
}
