//! The loop-thread half of a loop: the ready queue, the `call_later`
//! callbacks, and one iteration of the loop.
//!
//! One iteration, as in asyncio: (1) poll the reactor, with a zero timeout if
//! anything is ready, else until the next timer deadline, else indefinitely;
//! (2) move what arrived from other threads to the ready queue, then fire the
//! expired timers in deadline order (their wakers push to the ready queue);
//! (3) run exactly the callbacks and task steps that were ready at that
//! point: what they schedule runs in the next iteration.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::{Rc, Weak};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use slab::Slab;
use tulip_reactor::coop;

use super::callbacks::{ArmedCallback, Callback, TimerHandle, TimerWaker};
use super::exception::ExceptionContext;
use super::shared::{Remote, Shared};
use crate::task::{Runnable, Task};

/// How many operations a task may complete in one poll before the cooperative
/// budget makes it yield (see `tulip_reactor::coop`).
const TASK_BUDGET: u32 = 128;

/// An entry of the ready queue.
pub(crate) enum Ready {
    Task(Runnable),
    Callback(Rc<Callback>),
    Threadsafe(Box<dyn FnOnce() + Send>, Arc<AtomicBool>),
}

pub(crate) type ExceptionHandler = Rc<dyn Fn(&ExceptionContext)>;

pub(crate) struct LoopInner {
    pub(crate) shared: Arc<Shared>,
    ready: RefCell<VecDeque<Ready>>,
    armed: RefCell<Slab<ArmedCallback>>,
    pub(crate) running: Cell<bool>,
    /// Set while `close` shuts tasks down: no new local work is accepted.
    pub(crate) closing: Cell<bool>,
    pub(crate) debug: Cell<bool>,
    pub(crate) slow_callback_duration: Cell<Duration>,
    pub(crate) eager_tasks: Cell<bool>,
    exception_handler: RefCell<Option<ExceptionHandler>>,
    /// A handle to itself for `TimerHandle`s.
    this: Weak<LoopInner>,
}

impl LoopInner {
    pub(crate) fn new(shared: Arc<Shared>, eager_tasks: bool) -> Rc<LoopInner> {
        Rc::new_cyclic(|this| LoopInner {
            shared,
            ready: RefCell::new(VecDeque::new()),
            armed: RefCell::new(Slab::new()),
            running: Cell::new(false),
            closing: Cell::new(false),
            debug: Cell::new(false),
            slow_callback_duration: Cell::new(Duration::from_millis(100)),
            eager_tasks: Cell::new(eager_tasks),
            exception_handler: RefCell::new(None),
            this: this.clone(),
        })
    }

    pub(crate) fn push_ready(&self, item: Ready) {
        self.ready.borrow_mut().push_back(item);
    }

    pub(crate) fn call_soon(&self, function: impl FnOnce() + 'static) -> Rc<Callback> {
        let callback = Callback::new(function);
        self.push_ready(Ready::Callback(callback.clone()));
        callback
    }

    /// Arms `function` to run at `when` (in the iteration whose step 2 finds it due).
    pub(crate) fn call_at(&self, when: Instant, function: impl FnOnce() + 'static) -> TimerHandle {
        let callback = Callback::new(function);
        let mut armed = self.armed.borrow_mut();
        let entry = armed.vacant_entry();
        let key = entry.key();
        let waker = TimerWaker::waker(self.shared.clone(), key);
        let timer = self.shared.reactor.arm_timer(when, &waker);
        entry.insert(ArmedCallback {
            callback: callback.clone(),
            timer,
        });
        TimerHandle::new(callback, when, key, self.this.clone())
    }

    /// A `call_later` timer fired: its callback joins the ready queue.
    pub(crate) fn timer_fired(&self, key: usize) {
        let fired = self.armed.borrow_mut().try_remove(key);
        if let Some(armed) = fired {
            self.push_ready(Ready::Callback(armed.callback));
        }
    }

    /// `TimerHandle::cancel`: forget the callback and disarm its timer.
    pub(crate) fn disarm_callback(&self, key: usize, callback: &Rc<Callback>) {
        let mut armed = self.armed.borrow_mut();
        if armed.get(key).is_some_and(|entry| entry.is(callback)) {
            let entry = armed.remove(key);
            self.shared.reactor.disarm_timer(entry.timer);
        }
    }

    pub(crate) fn set_exception_handler(&self, handler: Option<ExceptionHandler>) {
        *self.exception_handler.borrow_mut() = handler;
    }

    /// Hands `context` to the exception handler, or to the default one. A
    /// panic inside the handler is reported through `tracing` and goes no further.
    pub(crate) fn call_exception_handler(&self, context: &ExceptionContext) {
        let handler = self.exception_handler.borrow().clone();
        match handler {
            Some(handler) => {
                if let Err(panic) = catch_unwind(AssertUnwindSafe(|| handler(context))) {
                    tracing::error!(
                        target: "tulip::event_loop",
                        "the exception handler panicked ({}) while handling: {context}",
                        crate::util::panic_message(&*panic)
                    );
                }
            }
            None => context.log(),
        }
    }

    /// One iteration of the loop.
    pub(crate) fn run_once(&self) -> io::Result<()> {
        self.poll_reactor()?;
        self.take_remote();
        self.shared.reactor.fire_timers();
        self.run_ready();
        Ok(())
    }

    /// Step 1: wait for I/O, at most until the next timer (a jump of the
    /// virtual clock replaces the wait when nothing else could wake the loop).
    fn poll_reactor(&self) -> io::Result<()> {
        let reactor = &self.shared.reactor;
        let busy = !self.ready.borrow().is_empty()
            || self.shared.has_remote()
            || self.shared.is_stopping();
        let deadline = reactor.next_deadline();
        if busy {
            // Readiness nobody awaits can stay queued in the kernel: skip the
            // syscall unless some task waits for I/O.
            if reactor.io_awaited() {
                reactor.park(Some(Duration::ZERO), || true)?;
            }
            return Ok(());
        }
        let clock = reactor.clock();
        match deadline {
            Some(deadline) if clock.is_virtual() && !self.awaits_outside_world() => {
                // Nothing can happen before the next timer: jump to it.
                let _ = clock.advance_to(deadline);
            }
            Some(deadline) => {
                let timeout = deadline.saturating_duration_since(reactor.now());
                // On virtual time, stop waiting as soon as the outside world
                // has nothing in flight any more: the clock may jump then.
                let still_idle = || {
                    !self.shared.has_remote()
                        && (!clock.is_virtual() || self.awaits_outside_world())
                };
                let waited_since = Instant::now();
                reactor.park(Some(timeout), still_idle)?;
                let nothing_arrived = self.ready.borrow().is_empty() && !self.shared.has_remote();
                if clock.is_virtual()
                    && nothing_arrived
                    && (!self.awaits_outside_world() || waited_since.elapsed() >= timeout)
                {
                    // Nothing came from the outside world while the timer
                    // was due: the virtual clock moves on to it.
                    let _ = clock.advance_to(deadline);
                }
            }
            None => reactor.park(None, || !self.shared.has_remote())?,
        }
        Ok(())
    }

    /// Whether something outside the loop's timers may still wake it: a task
    /// awaiting I/O or a job on the blocking pool.
    fn awaits_outside_world(&self) -> bool {
        self.shared.reactor.io_awaited() || self.shared.blocking.in_flight() > 0
    }

    /// Step 2a: move work handed over by other threads to the ready queue.
    fn take_remote(&self) {
        if !self.shared.has_remote() {
            return;
        }
        for work in self.shared.take_remote() {
            match work {
                Remote::Task(task) => self.push_ready(Ready::Task(task)),
                Remote::Callback(function, cancelled) => {
                    self.push_ready(Ready::Threadsafe(function, cancelled));
                }
                Remote::Exception(context) => self.call_exception_handler(&context),
                Remote::Timer(key) => self.timer_fired(key),
            }
        }
    }

    /// Step 3: run exactly what is ready now.
    fn run_ready(&self) {
        let count = self.ready.borrow().len();
        for _ in 0..count {
            let item = self.ready.borrow_mut().pop_front();
            match item {
                Some(item) => self.run_item(item),
                None => break,
            }
        }
    }

    fn run_item(&self, item: Ready) {
        if self.debug.get() {
            let started = Instant::now();
            let what = describe(&item);
            self.run_item_inner(item);
            self.report_if_slow(started.elapsed(), what);
        } else {
            self.run_item_inner(item);
        }
    }

    fn run_item_inner(&self, item: Ready) {
        match item {
            Ready::Task(task) => run_task(task),
            Ready::Callback(callback) => {
                if let Some(function) = callback.take() {
                    self.run_callback(function);
                }
            }
            Ready::Threadsafe(function, cancelled) => {
                // Claim it, so that a later `cancel` reports it too late.
                if !cancelled.swap(true, Ordering::AcqRel) {
                    self.run_callback(function);
                }
            }
        }
    }

    fn run_callback(&self, function: impl FnOnce()) {
        if let Err(panic) = catch_unwind(AssertUnwindSafe(function)) {
            let message = crate::util::panic_message(&*panic).to_owned();
            drop_quietly(panic);
            self.call_exception_handler(
                &ExceptionContext::new("Exception in callback").with_panic(message),
            );
        }
    }

    fn report_if_slow(&self, elapsed: Duration, what: Described) {
        if elapsed < self.slow_callback_duration.get() {
            return;
        }
        let seconds = elapsed.as_secs_f64();
        match what {
            Described::Task(task) => tracing::warn!(
                target: "tulip::debug",
                task = %task.name(),
                spawned_at = %task.location(),
                "Executing task {} (spawned at {}) took {seconds:.3} seconds",
                task.name(),
                task.location(),
            ),
            Described::Callback => tracing::warn!(
                target: "tulip::debug",
                "Executing a callback took {seconds:.3} seconds"
            ),
        }
    }

    /// Runs a task just spawned, inside `spawn` (asyncio's eager tasks).
    pub(crate) fn run_eagerly(&self, task: Runnable) {
        self.run_item(Ready::Task(task));
    }

    /// Drops every queued item and armed callback (at close).
    pub(crate) fn clear_queues(&self) -> bool {
        let ready = std::mem::take(&mut *self.ready.borrow_mut());
        let armed = std::mem::take(&mut *self.armed.borrow_mut());
        let had_work = !ready.is_empty() || !armed.is_empty();
        for (_, entry) in armed {
            self.shared.reactor.disarm_timer(entry.timer);
        }
        // Dropping a task's Runnable completes it as cancelled; both may run
        // user destructors, which may schedule more: the caller loops.
        drop(ready);
        had_work
    }
}

fn run_task(task: Runnable) {
    coop::with_budget(TASK_BUDGET, || task.run());
}

enum Described {
    Task(Task),
    Callback,
}

fn describe(item: &Ready) -> Described {
    match item {
        Ready::Task(task) => Described::Task(task.task()),
        Ready::Callback(_) | Ready::Threadsafe(..) => Described::Callback,
    }
}

/// Drops a panic payload; a payload whose destructor panics is forgotten.
fn drop_quietly(panic: Box<dyn std::any::Any + Send>) {
    if let Err(inner) = catch_unwind(AssertUnwindSafe(|| drop(panic))) {
        std::mem::forget(inner);
    }
}
