//! Callbacks scheduled with `call_soon`, `call_later` and `call_at`, and the
//! handles that cancel them (asyncio's `Handle` and `TimerHandle`).

use std::cell::{Cell, RefCell};
use std::fmt;
use std::rc::{Rc, Weak};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Wake, Waker};
use std::time::Instant;

use tulip_reactor::TimerKey;

use super::context;
use super::inner::LoopInner;
use super::shared::{Remote, Shared};

/// A callback waiting in the loop, shared by the queue and its handle.
pub(crate) struct Callback {
    function: RefCell<Option<Box<dyn FnOnce()>>>,
    cancelled: Cell<bool>,
}

impl Callback {
    pub(crate) fn new(function: impl FnOnce() + 'static) -> Rc<Callback> {
        Rc::new(Callback {
            function: RefCell::new(Some(Box::new(function))),
            cancelled: Cell::new(false),
        })
    }

    /// Takes the function out unless the callback was cancelled.
    pub(crate) fn take(&self) -> Option<Box<dyn FnOnce()>> {
        self.function.borrow_mut().take()
    }

    fn cancel(&self) -> bool {
        let was_pending = !self.cancelled.replace(true) && self.function.borrow().is_some();
        // Drop what the closure captured now, as asyncio clears a cancelled
        // handle's callback; outside the borrow, since drops may re-enter.
        let function = self.function.borrow_mut().take();
        drop(function);
        was_pending
    }

    fn is_cancelled(&self) -> bool {
        self.cancelled.get()
    }
}

/// Cancels a callback scheduled with `call_soon` (asyncio's `Handle`).
///
/// Dropping the handle does not cancel the callback.
pub struct CallbackHandle {
    callback: Rc<Callback>,
}

impl CallbackHandle {
    pub(crate) fn new(callback: Rc<Callback>) -> CallbackHandle {
        CallbackHandle { callback }
    }

    /// Cancels the callback if it has not run yet; returns whether it was still pending.
    pub fn cancel(&self) -> bool {
        self.callback.cancel()
    }

    /// Whether [`cancel`](Self::cancel) was called.
    pub fn cancelled(&self) -> bool {
        self.callback.is_cancelled()
    }
}

impl fmt::Debug for CallbackHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackHandle")
            .field("cancelled", &self.cancelled())
            .finish()
    }
}

/// Cancels a callback scheduled with `call_later` or `call_at` (asyncio's
/// `TimerHandle`). Cancelling also disarms the timer, so a cancelled callback
/// costs nothing afterwards.
///
/// Dropping the handle does not cancel the callback.
pub struct TimerHandle {
    callback: Rc<Callback>,
    when: Instant,
    key: usize,
    owner: Weak<LoopInner>,
}

impl TimerHandle {
    pub(crate) fn new(
        callback: Rc<Callback>,
        when: Instant,
        key: usize,
        owner: Weak<LoopInner>,
    ) -> TimerHandle {
        TimerHandle {
            callback,
            when,
            key,
            owner,
        }
    }

    /// Cancels the callback if it has not run yet; returns whether it was still pending.
    pub fn cancel(&self) -> bool {
        let was_pending = self.callback.cancel();
        if let Some(owner) = self.owner.upgrade() {
            owner.disarm_callback(self.key, &self.callback);
        }
        was_pending
    }

    /// Whether [`cancel`](Self::cancel) was called.
    pub fn cancelled(&self) -> bool {
        self.callback.is_cancelled()
    }

    /// When the callback is due, on the loop's clock (asyncio's `TimerHandle.when()`).
    pub fn when(&self) -> Instant {
        self.when
    }
}

impl fmt::Debug for TimerHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TimerHandle")
            .field("when", &self.when)
            .field("cancelled", &self.cancelled())
            .finish()
    }
}

/// A `call_later` callback armed in the reactor's timer store.
pub(crate) struct ArmedCallback {
    pub(crate) callback: Rc<Callback>,
    pub(crate) timer: TimerKey,
    /// Tells this timer from a later one armed in the same slot.
    pub(crate) sequence: u64,
}

impl ArmedCallback {
    pub(crate) fn is(&self, callback: &Rc<Callback>) -> bool {
        Rc::ptr_eq(&self.callback, callback)
    }
}

/// The waker a `call_later` timer fires: it moves the callback to the ready
/// queue. Timers are fired by the loop's own iteration, on its thread; a wake
/// from anywhere else is forwarded through the remote queue.
pub(crate) struct TimerWaker {
    shared: Arc<Shared>,
    key: usize,
    sequence: u64,
}

impl TimerWaker {
    pub(crate) fn waker(shared: Arc<Shared>, key: usize, sequence: u64) -> Waker {
        Waker::from(Arc::new(TimerWaker {
            shared,
            key,
            sequence,
        }))
    }
}

impl Wake for TimerWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let fired = context::try_local(&self.shared, (), |inner, ()| {
            inner.timer_fired(self.key, self.sequence);
        });
        if fired.is_err() {
            drop(
                self.shared
                    .push_remote(Remote::Timer(self.key, self.sequence)),
            );
        }
    }
}

/// The cancel flag of a `call_soon_threadsafe` callback.
///
/// Dropping the handle does not cancel the callback.
#[derive(Debug, Clone)]
pub struct ThreadsafeHandle {
    cancelled: Arc<AtomicBool>,
}

impl ThreadsafeHandle {
    pub(crate) fn new(cancelled: Arc<AtomicBool>) -> ThreadsafeHandle {
        ThreadsafeHandle { cancelled }
    }

    /// Cancels the callback if the loop has not started it; returns whether
    /// this call cancelled it.
    pub fn cancel(&self) -> bool {
        !self.cancelled.swap(true, Ordering::AcqRel)
    }

    /// Whether [`cancel`](Self::cancel) was called.
    pub fn cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Acquire)
    }
}
