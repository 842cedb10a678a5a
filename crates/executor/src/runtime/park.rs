//! Putting one worker to sleep and waking it.
//!
//! A worker with nothing to do sleeps in one of two places. The first idle
//! worker drives the reactor: it waits inside `epoll_wait` (through
//! [`Parker::park_driving`]), so that I/O readiness and timers wake it. Every
//! other idle worker waits on its own condition variable ([`Parker::park`]).
//! [`Unparker::unpark`] reaches the worker wherever it sleeps, and a wake-up
//! sent before the worker sleeps is kept, so none is lost:
//!
//! - `notified` is set (SeqCst) before anything else, and a sleeping worker
//!   checks it after announcing where it sleeps;
//! - on the condition variable, the worker checks `notified` under `lock`,
//!   and the waker takes `lock` before it signals, so the signal cannot fall
//!   between the check and the wait;
//! - in the reactor, the worker sets `in_driver` before it checks `notified`
//!   and the waker reads `in_driver` after setting `notified`, each with a
//!   `fence(SeqCst)` between its write and its read (which loom, modelling
//!   SeqCst accesses only as acquire/release, checks through the fences):
//!   either the worker sees the wake-up and does not wait, or the waker sees
//!   `in_driver` and interrupts the reactor (whose own protocol never loses an
//!   interruption: see `Reactor::park`).

use super::sync::{Arc, AtomicBool, Condvar, Mutex, Ordering, fence, lock};

/// The sleeping side; owned by its worker.
pub(crate) struct Parker {
    inner: Arc<Inner>,
}

/// The waking side; shared through the runtime's list of workers.
#[derive(Clone)]
pub(crate) struct Unparker {
    inner: Arc<Inner>,
}

struct Inner {
    /// A wake-up was sent and not yet consumed.
    notified: AtomicBool,
    /// The worker waits inside the reactor: a wake-up must interrupt its poll.
    in_driver: AtomicBool,
    lock: Mutex<()>,
    condvar: Condvar,
}

impl Parker {
    /// A parker and its unparker.
    pub(crate) fn new() -> (Parker, Unparker) {
        let inner = Arc::new(Inner {
            notified: AtomicBool::new(false),
            in_driver: AtomicBool::new(false),
            lock: Mutex::new(()),
            condvar: Condvar::new(),
        });
        (
            Parker {
                inner: inner.clone(),
            },
            Unparker { inner },
        )
    }

    /// Sleeps on the condition variable until unparked; returns at once if a
    /// wake-up is pending, and consumes it.
    pub(crate) fn park(&self) {
        if self.inner.notified.swap(false, Ordering::SeqCst) {
            return;
        }
        let mut guard = lock(&self.inner.lock);
        while !self.inner.notified.swap(false, Ordering::SeqCst) {
            guard = self
                .inner
                .condvar
                .wait(guard)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
    }

    /// Sleeps inside the reactor: `wait` polls it, stopping early once its
    /// argument (is the worker still without a wake-up?) turns false. Returns
    /// at once if a wake-up is pending. Any wake-up is consumed on return;
    /// `wait` may also return for I/O or a timer, which the caller checks.
    pub(crate) fn park_driving<R>(&self, wait: impl FnOnce(&dyn Fn() -> bool) -> R) -> Option<R> {
        self.inner.in_driver.store(true, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        let result = if self.inner.notified.load(Ordering::SeqCst) {
            None
        } else {
            let still_idle = || !self.inner.notified.load(Ordering::SeqCst);
            Some(wait(&still_idle))
        };
        self.inner.in_driver.store(false, Ordering::SeqCst);
        self.inner.notified.store(false, Ordering::SeqCst);
        result
    }
}

impl Unparker {
    /// Wakes the worker, or makes its next park return at once.
    /// `interrupt_driver` interrupts the reactor's poll; it is called only
    /// when the worker may be waiting inside it.
    pub(crate) fn unpark(&self, interrupt_driver: impl FnOnce()) {
        if self.inner.notified.swap(true, Ordering::SeqCst) {
            // Already pending: whoever set it is waking the worker.
            return;
        }
        fence(Ordering::SeqCst);
        if self.inner.in_driver.load(Ordering::SeqCst) {
            interrupt_driver();
        }
        drop(lock(&self.inner.lock));
        self.inner.condvar.notify_one();
    }
}
