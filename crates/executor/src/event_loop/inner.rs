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
use super::exception::{ExceptionContext, ExceptionHandler};
use super::shared::{Remote, Shared};
use crate::task::{Runnable, Task};
use crate::util::drop_quietly;

/// How many operations a task may complete in one poll before the cooperative
/// budget makes it yield (see `tulip_reactor::coop`).
const TASK_BUDGET: u32 = 128;

/// An entry of the ready queue: two words, so that a burst of ready tasks
/// costs little memory (the rare thread-safe callback is boxed).
pub(crate) enum Ready {
    Task(Runnable),
    Callback(Rc<Callback>),
    Threadsafe(Box<ThreadsafeCallback>),
}

/// A `call_soon_threadsafe` callback and its cancel flag.
pub(crate) struct ThreadsafeCallback {
    function: Box<dyn FnOnce() + Send>,
    cancelled: Arc<AtomicBool>,
}

/// Capacity the ready queue keeps after a burst: a queue that grew larger
/// shrinks back once it drains, returning the memory of the burst.
const READY_CAPACITY_KEPT: usize = 1024;

pub(crate) struct LoopInner {
    pub(crate) shared: Arc<Shared>,
    ready: RefCell<VecDeque<Ready>>,
    armed: RefCell<Slab<ArmedCallback>>,
    next_timer_sequence: Cell<u64>,
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
            next_timer_sequence: Cell::new(0),
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
        let sequence = self.next_timer_sequence.get();
        self.next_timer_sequence.set(sequence.wrapping_add(1));
        let waker = TimerWaker::waker(self.shared.clone(), key, sequence);
        let timer = self.shared.reactor.arm_timer(when, &waker);
        entry.insert(ArmedCallback {
            callback: callback.clone(),
            timer,
            sequence,
        });
        TimerHandle::new(callback, when, key, self.this.clone())
    }

    /// A `call_later` timer fired: its callback joins the ready queue. The
    /// sequence number tells a slot reused by a later timer from this one.
    pub(crate) fn timer_fired(&self, key: usize, sequence: u64) {
        let mut armed = self.armed.borrow_mut();
        if armed
            .get(key)
            .is_some_and(|entry| entry.sequence == sequence)
        {
            let entry = armed.remove(key);
            drop(armed);
            self.push_ready(Ready::Callback(entry.callback));
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
        let previous = self.exception_handler.replace(handler);
        drop_quietly(previous);
    }

    /// The handler `set_exception_handler` installed, if any.
    pub(crate) fn exception_handler(&self) -> Option<ExceptionHandler> {
        self.exception_handler.borrow().clone()
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
        // Read what is in flight before what has arrived: work finishing in
        // between has then already published its result (a job wakes its
        // awaiter before it leaves the pool), and the clock cannot jump past it.
        let outside = self.awaits_outside_world();
        if !self.nothing_to_do() {
            // Readiness nobody awaits can stay queued in the kernel: skip the
            // syscall unless some task waits for I/O.
            if reactor.io_awaited() {
                reactor.park(Some(Duration::ZERO), || true)?;
            }
            return Ok(());
        }
        let clock = reactor.clock();
        let Some(deadline) = reactor.next_deadline() else {
            return reactor.park(None, || self.nothing_to_do());
        };
        if clock.is_virtual() && !outside {
            // Nothing can happen before the next timer: jump to it. A
            // deadline beyond the clock's range is never reached.
            if clock.advance_to(deadline).is_err() {
                reactor.park(None, || self.nothing_to_do())?;
            }
            return Ok(());
        }
        let timeout = deadline.saturating_duration_since(reactor.now());
        // On virtual time, stop waiting as soon as the outside world has
        // nothing in flight any more: the clock may jump then.
        let still_idle =
            || self.nothing_to_do() && (!clock.is_virtual() || self.awaits_outside_world());
        let waited_since = Instant::now();
        reactor.park(Some(timeout), still_idle)?;
        if clock.is_virtual()
            && self.nothing_to_do()
            && (!self.awaits_outside_world() || waited_since.elapsed() >= timeout)
        {
            // Nothing came from the outside world while the timer was due:
            // the virtual clock moves on to it.
            let _ = clock.advance_to(deadline);
        }
        Ok(())
    }

    /// Whether nothing is queued, nothing arrived from other threads and no
    /// stop was requested: the loop may sleep.
    fn nothing_to_do(&self) -> bool {
        self.ready.borrow().is_empty() && !self.shared.has_remote() && !self.shared.is_stopping()
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
                    let callback = ThreadsafeCallback {
                        function,
                        cancelled,
                    };
                    self.push_ready(Ready::Threadsafe(Box::new(callback)));
                }
                Remote::Exception(context) => self.call_exception_handler(&context),
                Remote::Timer(key, sequence) => self.timer_fired(key, sequence),
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
        let mut ready = self.ready.borrow_mut();
        if ready.is_empty() && ready.capacity() > READY_CAPACITY_KEPT {
            ready.shrink_to(READY_CAPACITY_KEPT);
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
            Ready::Task(task) => {
                if let Some(again) = coop::with_budget(TASK_BUDGET, || task.run()) {
                    // Woken during its own poll: behind everything ready,
                    // where its wake would have queued it.
                    self.push_ready(Ready::Task(again));
                }
            }
            Ready::Callback(callback) => {
                if let Some(function) = callback.take() {
                    self.run_callback(function);
                }
            }
            Ready::Threadsafe(callback) => {
                // Claim it, so that a later `cancel` reports it too late.
                if !callback.cancelled.swap(true, Ordering::AcqRel) {
                    self.run_callback(callback.function);
                } else {
                    drop_quietly(callback);
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
            Described::Task(task) => report_slow_task(&task, elapsed),
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
            drop_quietly(entry);
        }
        // Dropping a task's Runnable completes it as cancelled; both may run
        // user destructors, which may schedule more: the caller loops.
        for item in ready {
            drop_quietly(item);
        }
        had_work
    }
}

/// Debug mode's report of a task step that ran `elapsed`, longer than the
/// slow-callback threshold (the loop and the multi-thread runtime share it).
pub(crate) fn report_slow_task(task: &Task, elapsed: Duration) {
    let seconds = elapsed.as_secs_f64();
    tracing::warn!(
        target: "tulip::debug",
        task = %task.name(),
        spawned_at = %task.location(),
        "Executing task {} (spawned at {}) took {seconds:.3} seconds",
        task.name(),
        task.location(),
    );
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
