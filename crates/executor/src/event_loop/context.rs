//! The thread's running loop: one thread-local slot, set while a loop runs.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use super::{LoopInner, Shared};

thread_local! {
    static CURRENT: RefCell<Option<Rc<LoopInner>>> = const { RefCell::new(None) };
}

/// The loop running on this thread, if any. The `Rc` is cloned so that no
/// borrow of the slot is held while the caller runs user code.
pub(crate) fn current() -> Option<Rc<LoopInner>> {
    CURRENT.with(|slot| slot.borrow().clone())
}

/// Whether a loop is running on this thread.
pub(crate) fn is_set() -> bool {
    CURRENT.with(|slot| slot.borrow().is_some())
}

/// Hands `value` to `f` with the running loop's state if this thread is running
/// the loop that owns `shared`; otherwise gives `value` back.
pub(crate) fn try_local<T, R>(
    shared: &Arc<Shared>,
    value: T,
    f: impl FnOnce(&LoopInner, T) -> R,
) -> Result<R, T> {
    let owner = CURRENT.with(|slot| {
        slot.borrow()
            .as_ref()
            .filter(|inner| Arc::ptr_eq(&inner.shared, shared))
            .cloned()
    });
    match owner {
        Some(inner) => Ok(f(&inner, value)),
        None => Err(value),
    }
}

/// Marks `inner` as this thread's running loop until dropped.
pub(crate) struct Entered {
    _reactor: tulip_reactor::EnterGuard,
}

pub(crate) fn enter(inner: &Rc<LoopInner>) -> Entered {
    let reactor = inner.shared.reactor.enter();
    CURRENT.with(|slot| *slot.borrow_mut() = Some(inner.clone()));
    Entered { _reactor: reactor }
}

impl Drop for Entered {
    fn drop(&mut self) {
        // Take the Rc out first so that its drop runs outside the borrow.
        let previous = CURRENT.with(|slot| slot.borrow_mut().take());
        drop(previous);
    }
}
