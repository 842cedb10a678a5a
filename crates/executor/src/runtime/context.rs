//! The multi-thread runtime a thread belongs to: set on its workers and on a
//! thread inside `block_on`, so that `spawn`, `Handle::current` and
//! `all_tasks` find the runtime there.

use std::cell::RefCell;
use std::sync::Arc;

use super::shared::Shared;
use crate::util::ScopedSlot;

thread_local! {
    static CURRENT: RefCell<Option<Arc<Shared>>> = const { RefCell::new(None) };
}

/// The runtime this thread belongs to now, if any.
pub(crate) fn current() -> Option<Arc<Shared>> {
    ScopedSlot::get(&CURRENT)
}

/// Whether this thread belongs to a runtime now.
pub(crate) fn is_set() -> bool {
    ScopedSlot::is_set(&CURRENT)
}

/// Makes `shared` (and its reactor) this thread's runtime until dropped.
pub(crate) struct Entered {
    _current: ScopedSlot<Arc<Shared>>,
    _reactor: tulip_reactor::EnterGuard,
}

pub(crate) fn enter(shared: &Arc<Shared>) -> Entered {
    let reactor = shared.reactor.enter();
    Entered {
        _current: ScopedSlot::set(&CURRENT, shared.clone()),
        _reactor: reactor,
    }
}
