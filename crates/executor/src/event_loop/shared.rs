//! The thread-safe half of a loop: what wakers, [`Handle`](crate::Handle)s and
//! other threads reach. It is the scheduler every task of the loop holds.
//!
//! A wake on the loop's own thread, while the loop runs, pushes straight onto
//! the local ready queue ([`LoopInner::ready`](super::LoopInner)); a wake from
//! anywhere else goes to the `remote` queue and interrupts the reactor, which
//! only costs a syscall when the loop is actually parked.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tulip_reactor::Reactor;

use super::context;
use super::exception::ExceptionContext;
use crate::blocking::BlockingPool;
use crate::registry::Registry;
use crate::task::{Runnable, Schedule, Task};

/// Work handed to the loop from outside its running thread.
pub(crate) enum Remote {
    /// A task woken from another thread.
    Task(Runnable),
    /// `call_soon_threadsafe`.
    Callback(Box<dyn FnOnce() + Send>, Arc<AtomicBool>),
    /// An exception report raised off the loop thread, to go through the loop's handler.
    Exception(ExceptionContext),
    /// A `call_later` timer (slot, sequence) fired by a wake that did not
    /// happen on the loop thread.
    Timer(usize, u64),
}

pub(crate) struct Shared {
    pub(crate) reactor: Arc<Reactor>,
    remote: Mutex<VecDeque<Remote>>,
    /// Mirrors `!remote.is_empty()` so that the loop checks it without the lock.
    remote_pending: AtomicBool,
    /// Every live task of the loop, for `all_tasks` and for shutdown at close.
    registry: Registry,
    closed: AtomicBool,
    stopping: AtomicBool,
    pub(crate) blocking: BlockingPool,
}

impl Shared {
    pub(crate) fn new(reactor: Arc<Reactor>, blocking: BlockingPool) -> Shared {
        Shared {
            reactor,
            remote: Mutex::new(VecDeque::new()),
            remote_pending: AtomicBool::new(false),
            registry: Registry::default(),
            closed: AtomicBool::new(false),
            stopping: AtomicBool::new(false),
            blocking,
        }
    }

    /// Queues work from another thread and interrupts the loop if it is parked.
    /// Returns the work back if the loop is closed.
    pub(crate) fn push_remote(&self, work: Remote) -> Result<(), Remote> {
        {
            let mut remote = lock(&self.remote);
            // Checked under the lock: `close` drains the queue under it too, so
            // nothing pushed after the drain can be stranded.
            if self.is_closed() {
                return Err(work);
            }
            remote.push_back(work);
            self.remote_pending.store(true, Ordering::SeqCst);
        }
        self.reactor.notify();
        Ok(())
    }

    pub(crate) fn has_remote(&self) -> bool {
        self.remote_pending.load(Ordering::SeqCst)
    }

    pub(crate) fn take_remote(&self) -> VecDeque<Remote> {
        let mut remote = lock(&self.remote);
        self.remote_pending.store(false, Ordering::SeqCst);
        std::mem::take(&mut *remote)
    }

    pub(crate) fn register(&self, task: &Task) {
        // The loop's registry never closes: close shuts every task down itself.
        self.registry.register(task);
    }

    pub(crate) fn live_tasks(&self) -> Vec<Task> {
        self.registry.tasks()
    }

    pub(crate) fn live_task_count(&self) -> usize {
        self.registry.len()
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    /// Marks the loop closed; returns whether it already was.
    pub(crate) fn mark_closed(&self) -> bool {
        let _remote = lock(&self.remote);
        self.closed.swap(true, Ordering::SeqCst)
    }

    pub(crate) fn request_stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        self.reactor.notify();
    }

    pub(crate) fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    pub(crate) fn take_stop(&self) -> bool {
        self.stopping.swap(false, Ordering::SeqCst)
    }
}

impl Schedule for Arc<Shared> {
    fn schedule(&self, task: Runnable) {
        if let Err(task) = context::schedule_local(self, task) {
            // Refused only once the loop is closed. Close shuts every local task
            // down on the loop thread before it marks the loop closed, so this
            // task is complete and dropping it here only releases a reference.
            drop(self.push_remote(Remote::Task(task)));
        }
    }

    fn schedule_here(&self, task: Runnable) -> Result<(), Runnable> {
        context::schedule_local(self, task)
    }

    fn release(&self, task: &Task) {
        self.registry.unregister(task);
    }

    fn unretrieved_panic(&self, task: &Task, message: &str) {
        let context = ExceptionContext::unretrieved_panic(task, message);
        let local = context::try_local(self, context, |inner, context| {
            inner.call_exception_handler(&context);
        });
        if let Err(context) = local
            && let Err(Remote::Exception(context)) = self.push_remote(Remote::Exception(context))
        {
            context.log();
        }
    }
}

/// Locks a mutex whose data stays consistent even if a holder panicked
/// (every critical section here is a plain container operation).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
