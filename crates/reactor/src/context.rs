//! The thread's current reactor.
//!
//! Design. One thread-local [`Slot`] holds a raw pointer obtained from
//! [`Arc::into_raw`]; while non-null, the slot *owns* that strong count. Entering a reactor
//! swaps a new owned pointer in and hands the previous one (still owned) to the
//! [`EnterGuard`]; dropping the guard swaps it back and releases the one it took out.
//! Because the slot and the guards always own what they point to, guards dropped out of
//! order leave the wrong reactor current but never a dangling pointer.
//!
//! [`with_current`] lends `&Arc<Reactor>` without touching the reference count. The
//! lent `Arc` is owned by the slot, and something inside the callback might drop a guard
//! and thereby release it, so while any loan is out (`lent > 0`) released `Arc`s are parked
//! in `deferred` and dropped only when the outermost loan ends.

use std::cell::{Cell, RefCell};
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ptr;
use std::sync::Arc;

use crate::reactor::Reactor;

/// There is no current tulip reactor on this thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("no tulip reactor is running on this thread")]
pub struct NoReactor;

struct Slot {
    /// Null, or a pointer from `Arc::into_raw` whose strong count this slot owns.
    ptr: Cell<*const Reactor>,
    /// Number of `with_current` calls in progress on this thread.
    lent: Cell<usize>,
    /// `Arc`s released while a loan was out; dropped when `lent` returns to zero.
    deferred: RefCell<Vec<Arc<Reactor>>>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let ptr = self.ptr.replace(ptr::null());
        if !ptr.is_null() {
            // SAFETY: a non-null `ptr` came from `Arc::into_raw` and the slot owns that
            // count (module design); it is released exactly once, here.
            drop(unsafe { Arc::from_raw(ptr) });
        }
    }
}

thread_local! {
    static CURRENT: Slot = const {
        Slot {
            ptr: Cell::new(ptr::null()),
            lent: Cell::new(0),
            deferred: RefCell::new(Vec::new()),
        }
    };
}

/// Makes a reactor current on this thread until dropped; returned by
/// [`Reactor::enter`].
///
/// Dropping it restores the reactor that was current before (guards nest; drop them in
/// reverse order of creation).
#[must_use = "the reactor is current only while this guard lives; dropping it restores the previous one"]
pub struct EnterGuard {
    /// The previously current pointer (owned, may be null), or `None` if entering
    /// failed because the thread is shutting down.
    prev: Option<*const Reactor>,
    _not_send: PhantomData<*const ()>,
}

impl std::fmt::Debug for EnterGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnterGuard").finish_non_exhaustive()
    }
}

pub(crate) fn enter(reactor: &Arc<Reactor>) -> EnterGuard {
    let raw = Arc::into_raw(reactor.clone());
    match CURRENT.try_with(|slot| slot.ptr.replace(raw)) {
        Ok(prev) => EnterGuard {
            prev: Some(prev),
            _not_send: PhantomData,
        },
        Err(_) => {
            // SAFETY: `raw` came from `Arc::into_raw` just above and was not stored.
            drop(unsafe { Arc::from_raw(raw) });
            EnterGuard {
                prev: None,
                _not_send: PhantomData,
            }
        }
    }
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        let Some(prev) = self.prev else { return };
        let restored = CURRENT.try_with(|slot| {
            let ours = slot.ptr.replace(prev);
            if !ours.is_null() {
                // SAFETY: the slot owned `ours` (from `Arc::into_raw`); we took it out,
                // so this is now its only owner.
                let arc = unsafe { Arc::from_raw(ours) };
                if slot.lent.get() > 0 {
                    slot.deferred.borrow_mut().push(arc);
                } else {
                    drop(arc);
                }
            }
        });
        if restored.is_err() && !prev.is_null() {
            // SAFETY: the guard owned `prev` and could not hand it back to the slot.
            drop(unsafe { Arc::from_raw(prev) });
        }
    }
}

/// Ends one loan of the current reactor, dropping deferred releases after the last.
struct Loan<'a>(&'a Slot);

impl Drop for Loan<'_> {
    fn drop(&mut self) {
        let lent = self.0.lent.get() - 1;
        self.0.lent.set(lent);
        if lent == 0 {
            let deferred = std::mem::take(&mut *self.0.deferred.borrow_mut());
            drop(deferred);
        }
    }
}

pub(crate) fn with_current<R>(f: impl FnOnce(&Arc<Reactor>) -> R) -> Result<R, NoReactor> {
    CURRENT
        .try_with(|slot| {
            let ptr = slot.ptr.get();
            if ptr.is_null() {
                return Err(NoReactor);
            }
            slot.lent.set(slot.lent.get() + 1);
            let _loan = Loan(slot);
            // The count behind `ptr` is owned by the slot, a guard, or `deferred` until
            // `_loan` ends (module design), so the allocation outlives this borrow.
            // SAFETY: `ptr` came from `Arc::into_raw` and outlives the borrow (above);
            // `ManuallyDrop` keeps us from releasing a count we do not own.
            let arc = ManuallyDrop::new(unsafe { Arc::from_raw(ptr) });
            Ok(f(&arc))
        })
        .unwrap_or(Err(NoReactor))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn current_is(reactor: &Arc<Reactor>) -> bool {
        with_current(|r| Arc::ptr_eq(r, reactor)).unwrap_or(false)
    }

    #[test]
    fn guards_nest_and_restore() {
        let (a, b) = (Reactor::new().unwrap(), Reactor::new().unwrap());
        assert_eq!(with_current(|_| ()), Err(NoReactor));
        let ga = enter(&a);
        let gb = enter(&b);
        assert!(current_is(&b));
        drop(gb);
        assert!(current_is(&a));
        drop(ga);
        assert_eq!(with_current(|_| ()), Err(NoReactor));
        assert_eq!(Arc::strong_count(&a), 1);
        assert_eq!(Arc::strong_count(&b), 1);
    }

    #[test]
    fn out_of_order_drops_stay_memory_safe() {
        let (a, b) = (Reactor::new().unwrap(), Reactor::new().unwrap());
        let ga = enter(&a);
        let gb = enter(&b);
        drop(ga);
        drop(gb);
        // Wrong reactor current, but it is owned by the slot, never dangling.
        assert!(current_is(&a));
        let _ = enter(&b); // dropped at once: restores `a`
        assert!(current_is(&a));
    }

    #[test]
    fn guard_dropped_inside_with_current_defers_the_release() {
        let weak;
        {
            let reactor = Reactor::new().unwrap();
            weak = Arc::downgrade(&reactor);
            let guard = enter(&reactor);
            drop(reactor); // the slot now holds the only strong count
            with_current(move |r| {
                drop(guard);
                // `r` must stay valid although its owner was released.
                assert!(!r.clock().is_virtual());
                assert_eq!(with_current(|_| ()), Err(NoReactor));
            })
            .unwrap();
        }
        assert!(weak.upgrade().is_none(), "released after the loan ended");
    }
}
