//! One worker thread: its run queue, its LIFO slot, and its loop.
//!
//! Each iteration a worker takes the next task (the LIFO slot first right
//! after a poll, then its own queue, then a batch from the global queue),
//! and when it has none, steals half of another worker's queue; when there is
//! nothing to steal either, it sleeps (see `park.rs` and `idle.rs`).
//!
//! Fairness rules:
//! - every [`GLOBAL_QUEUE_INTERVAL`] ticks the global queue comes first, so
//!   that tasks woken from outside are not starved by busy local queues;
//! - every [`EVENT_INTERVAL`] ticks the worker polls the reactor without
//!   blocking and fires due timers, so that I/O and timers are not starved
//!   by a worker that never runs out of tasks;
//! - a task woken by the task running now goes to the LIFO slot and runs
//!   next (a message's receiver runs while the message is hot in the cache),
//!   but at most [`MAX_LIFO_POLLS`] times in a row, after which the slot's
//!   task goes to the back of the queue: two tasks waking each other cannot
//!   keep the others waiting;
//! - a task woken during its own poll (a yield) goes to the back of the queue.

use std::cell::{Cell, RefCell};
use std::ptr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tulip_reactor::coop;

use super::park::Parker;
use super::queue::Local;
use super::shared::Shared;
use crate::task::Runnable;

/// Ticks between two looks at the global queue before the local one.
const GLOBAL_QUEUE_INTERVAL: u32 = 31;
/// Ticks between two non-blocking polls of the reactor.
const EVENT_INTERVAL: u32 = 61;
/// How many tasks in a row may run from the LIFO slot.
const MAX_LIFO_POLLS: u32 = 3;
/// The most tasks taken from the global queue at once.
const MAX_GLOBAL_BATCH: usize = 64;
/// How many operations a task may complete in one poll before the
/// cooperative budget makes it yield, as on the loop.
pub(crate) const TASK_BUDGET: u32 = 128;

/// A worker's state, reachable from its thread while it runs (wakers of
/// tasks use it to queue locally).
pub(crate) struct WorkerContext {
    pub(crate) shared: Arc<Shared>,
    index: usize,
    core: RefCell<Core>,
    /// Set while a task is polled: a task it wakes goes to the LIFO slot.
    in_task: Cell<bool>,
    /// Set while the worker sleeps or drives the reactor: tasks woken then
    /// wake no other worker (this one is about to run them).
    parked: Cell<bool>,
    parker: Parker,
}

struct Core {
    local: Local<Runnable>,
    lifo: Option<Runnable>,
    tick: u32,
    searching: bool,
    rng: XorShift,
}

/// Runs worker `index` until the runtime shuts down.
pub(crate) fn run(shared: Arc<Shared>, index: usize, local: Local<Runnable>, parker: Parker) {
    let cx = WorkerContext {
        core: RefCell::new(Core {
            local,
            lifo: None,
            tick: 0,
            searching: false,
            rng: XorShift::seeded(index),
        }),
        shared,
        index,
        in_task: Cell::new(false),
        parked: Cell::new(false),
        parker,
    };
    let _current = Current::enter(&cx);
    cx.run();
    cx.drain();
}

/// A task woken (not spawned) on this thread: the LIFO slot or the local
/// queue if this is a worker of `shared`, else it is given back.
pub(crate) fn schedule_woken(shared: &Arc<Shared>, task: Runnable) -> Result<(), Runnable> {
    with_own_worker(shared, task, |cx, task| cx.schedule_local(task, true))
}

/// A task just spawned on this thread: polled at once if `eager`, then the
/// back of the local queue if this is a worker of `shared`, else given back.
pub(crate) fn schedule_spawned(
    shared: &Arc<Shared>,
    task: Runnable,
    eager: bool,
) -> Result<(), Runnable> {
    with_own_worker(shared, task, |cx, task| {
        if !eager {
            return cx.schedule_local(task, false);
        }
        // Polled inside the spawner's poll, as the loop's eager tasks are.
        match cx.poll(task) {
            Some(task) => cx.schedule_local(task, false),
            None => Ok(()),
        }
    })
}

fn with_own_worker(
    shared: &Arc<Shared>,
    task: Runnable,
    f: impl FnOnce(&WorkerContext, Runnable) -> Result<(), Runnable>,
) -> Result<(), Runnable> {
    let cx = CURRENT.try_with(Cell::get).unwrap_or(ptr::null());
    if cx.is_null() {
        return Err(task);
    }
    // SAFETY: `CURRENT` is non-null only while `run` is on this thread's
    // stack with the context alive (the `Current` guard clears it first).
    let cx = unsafe { &*cx };
    if !Arc::ptr_eq(&cx.shared, shared) {
        return Err(task);
    }
    f(cx, task)
}

impl WorkerContext {
    fn run(&self) {
        while !self.shared.is_shutdown() {
            if let Some(task) = self.next_task() {
                self.run_task(task);
                continue;
            }
            if let Some(task) = self.steal() {
                self.run_task(task);
                continue;
            }
            self.park();
        }
    }

    /// The next task of this worker's own: the global queue first now and
    /// then, else the local queue, else a batch from the global queue.
    fn next_task(&self) -> Option<Runnable> {
        let tick = {
            let mut core = self.core.borrow_mut();
            core.tick = core.tick.wrapping_add(1);
            core.tick
        };
        if tick % EVENT_INTERVAL == 0 {
            self.poll_reactor_now();
        }
        if tick % GLOBAL_QUEUE_INTERVAL == 0
            && let Some(task) = self.shared.injector.pop()
        {
            return Some(task);
        }
        let task = self.core.borrow_mut().local.pop();
        task.or_else(|| self.take_global_batch())
    }

    /// Moves a fair share of the global queue to the local one and returns
    /// the first task of it.
    fn take_global_batch(&self) -> Option<Runnable> {
        let injector = &self.shared.injector;
        if injector.is_empty() {
            return None;
        }
        let mut core = self.core.borrow_mut();
        let share = injector.len() / self.shared.workers.len() + 1;
        let room = core.local.remaining_capacity() / 2;
        let mut batch = injector
            .pop_batch(share.min(room).clamp(1, MAX_GLOBAL_BATCH))
            .into_iter();
        let first = batch.next();
        core.local.push_back_batch(batch, injector);
        first
    }

    /// Steals half of another worker's queue (or takes from the global
    /// queue), as a searcher; `None` if this worker may not search or found
    /// nothing.
    fn steal(&self) -> Option<Runnable> {
        let mut core = self.core.borrow_mut();
        if !core.searching {
            if !self.shared.idle.start_searching() {
                return None;
            }
            core.searching = true;
        }
        let workers = &self.shared.workers;
        let start = core.rng.below(workers.len());
        for offset in 0..workers.len() {
            let victim = (start + offset) % workers.len();
            if victim == self.index {
                continue;
            }
            if let Some(task) = workers[victim].stealer.steal_into(&mut core.local) {
                return Some(task);
            }
        }
        drop(core);
        self.take_global_batch()
    }

    /// Runs `task`, then what it woke into the LIFO slot, within limits.
    fn run_task(&self, task: Runnable) {
        self.stop_searching();
        let mut task = task;
        let mut lifo_polls = 0;
        loop {
            if let Some(again) = self.poll(task) {
                // Woken during its own poll: a yield, to the back of the queue.
                self.push_local(again);
            }
            let Some(next) = self.core.borrow_mut().lifo.take() else {
                return;
            };
            if lifo_polls == MAX_LIFO_POLLS {
                self.push_local(next);
                return;
            }
            lifo_polls += 1;
            task = next;
        }
    }

    /// Polls `task` once under the cooperative budget (timed in debug mode);
    /// returns it if it was woken during the poll.
    fn poll(&self, task: Runnable) -> Option<Runnable> {
        let nested = self.in_task.replace(true);
        let debug = self.shared.config.debug;
        let started = debug.then(|| (Instant::now(), task.task()));
        let again = coop::with_budget(TASK_BUDGET, || task.run());
        if let Some((started, task)) = started {
            let elapsed = started.elapsed();
            if elapsed >= self.shared.config.slow_callback_duration {
                crate::event_loop::inner::report_slow_task(&task, elapsed);
            }
        }
        self.in_task.set(nested);
        again
    }

    /// A searcher that found work stops searching; if it was the last one,
    /// another worker wakes to search, since there may be more work.
    fn stop_searching(&self) {
        let mut core = self.core.borrow_mut();
        if !core.searching {
            return;
        }
        core.searching = false;
        drop(core);
        if self.shared.idle.stop_searching() {
            self.shared.notify_parked();
        }
    }

    /// Queues a task on this worker. A wake from inside a poll goes to the
    /// LIFO slot (displacing its task to the queue); anything else to the
    /// back of the queue. Gives the task back if the core is busy (a drop
    /// inside a queue operation woke it).
    fn schedule_local(&self, task: Runnable, woken: bool) -> Result<(), Runnable> {
        let Ok(mut core) = self.core.try_borrow_mut() else {
            return Err(task);
        };
        let queued = if woken && self.in_task.get() {
            match core.lifo.replace(task) {
                Some(previous) => {
                    core.local.push_back(previous, &self.shared.injector);
                    true
                }
                None => false,
            }
        } else {
            core.local.push_back(task, &self.shared.injector);
            true
        };
        drop(core);
        // A task in the queue (not the slot) may be stolen: wake a worker to
        // steal it, unless this one sleeps and is about to run it itself.
        if queued && !self.parked.get() {
            self.shared.notify_parked();
        }
        Ok(())
    }

    /// Queues this worker's own continuation (a yield, or the LIFO slot's
    /// task past its limit). It wakes another worker only if the queue holds
    /// more than that task: a worker that passes a message back and forth
    /// with itself keeps it, instead of waking a sleeper to steal it.
    fn push_local(&self, task: Runnable) {
        let pushed = match self.core.try_borrow_mut() {
            Ok(mut core) => {
                core.local.push_back(task, &self.shared.injector);
                core.local.len() > 1
            }
            Err(_) => {
                self.shared.inject(task);
                return;
            }
        };
        if pushed {
            self.shared.notify_parked();
        }
    }

    /// Polls the reactor without blocking and fires due timers (their tasks
    /// come to this worker's queue).
    fn poll_reactor_now(&self) {
        let reactor = &self.shared.reactor;
        if reactor.io_awaited()
            && let Err(error) = reactor.park(Some(Duration::ZERO), || true)
        {
            tracing::error!(target: "tulip::runtime", %error, "polling the reactor failed");
        }
        reactor.fire_timers();
    }

    /// Sleeps until there is work (see `idle.rs` for the protocol).
    fn park(&self) {
        let searching = std::mem::replace(&mut self.core.borrow_mut().searching, false);
        if self.shared.idle.sleep(self.index, searching) {
            self.shared.notify_if_work_pending();
        }
        self.parked.set(true);
        loop {
            self.park_once();
            if self.shared.is_shutdown() {
                break;
            }
            if !self.core.borrow().local.is_empty() {
                // I/O or a timer this worker drove woke tasks onto its queue.
                if self.shared.idle.wake_by_itself(self.index) {
                    self.core.borrow_mut().searching = true;
                }
                break;
            }
            if !self.shared.idle.is_sleeping(self.index) {
                // A notifier took it off the sleepers: it wakes as a searcher.
                self.core.borrow_mut().searching = true;
                break;
            }
        }
        self.parked.set(false);
        if self.core.borrow().local.len() > 1 {
            self.shared.notify_parked();
        }
    }

    /// One sleep: inside the reactor if no other worker waits there, else on
    /// this worker's condition variable.
    fn park_once(&self) {
        let shared = &self.shared;
        if !shared.try_take_driver() {
            self.parker.park();
            return;
        }
        let reactor = &shared.reactor;
        let waited = self
            .parker
            .park_driving(|still_idle| reactor.park(None, still_idle));
        shared.release_driver();
        if let Some(Err(error)) = waited {
            tracing::error!(target: "tulip::runtime", %error, "polling the reactor failed");
        }
        reactor.fire_timers();
    }

    /// At shutdown: drops what is still queued here (their tasks complete
    /// as cancelled, on this thread).
    fn drain(&self) {
        loop {
            let next = {
                let mut core = self.core.borrow_mut();
                core.lifo.take().or_else(|| core.local.pop())
            };
            match next {
                Some(task) => crate::util::drop_quietly(task),
                None => break,
            }
        }
    }
}

thread_local! {
    /// The worker running on this thread, if any.
    static CURRENT: Cell<*const WorkerContext> = const { Cell::new(ptr::null()) };
}

/// Makes a worker this thread's current one until dropped.
struct Current;

impl Current {
    fn enter(cx: &WorkerContext) -> Current {
        CURRENT.with(|current| current.set(cx));
        Current
    }
}

impl Drop for Current {
    fn drop(&mut self) {
        let _ = CURRENT.try_with(|current| current.set(ptr::null()));
    }
}

/// A small fast random number generator, for picking whom to steal from.
struct XorShift(u32);

impl XorShift {
    fn seeded(index: usize) -> XorShift {
        // Any non-zero seed; different per worker so they start apart.
        XorShift((index as u32).wrapping_mul(0x9E37_79B9) | 1)
    }

    /// A number below `n` (not zero).
    fn below(&mut self, n: usize) -> usize {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.0 = x;
        (x as usize) % n
    }
}
