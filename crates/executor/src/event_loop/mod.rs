//! The event loop: asyncio's loop, one per thread.
//!
//! An [`EventLoop`] owns a reactor (I/O readiness and timers), a ready queue
//! of callbacks and task steps, and its tasks. It is `!Send`: it runs on the
//! thread that made it, and so may run `!Send` futures. Other threads reach it
//! through a [`Handle`].
//!
//! The loop's state is split in two: [`LoopInner`] lives on the loop's thread
//! (the ready queue, the `call_later` callbacks, the exception handler), and
//! [`Shared`] is reachable from anywhere (the reactor, the queue of work from
//! other threads, the registry of live tasks). Wakers and handles hold only
//! `Shared`, so no task keeps the loop-thread half alive.

mod callbacks;
pub(crate) mod context;
mod exception;
pub(crate) mod inner;
pub(crate) mod shared;

use std::future::Future;
use std::io;
use std::panic::Location;
use std::pin::pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use tulip_reactor::{Clock, Reactor};

pub use self::callbacks::{CallbackHandle, ThreadsafeHandle, TimerHandle};
pub use self::exception::{ExceptionContext, ExceptionHandler, default_exception_handler};
pub(crate) use self::inner::LoopInner;
pub(crate) use self::shared::Shared;

use crate::blocking::{BlockingPool, PoolConfig};
use crate::error::{RunError, SpawnError};
use crate::handle::Handle;
use crate::spawn::spawn_on;
use crate::task::{JoinHandle, TaskBuilder};
use crate::util::deadline_after;

/// asyncio's event loop: runs callbacks, tasks and timers on one thread.
///
/// ```
/// use std::time::Duration;
/// use tulip_executor::{EventLoop, sleep, spawn};
///
/// let event_loop = EventLoop::new()?;
/// let answer = event_loop.run_until_complete(async {
///     let worker = spawn(async {
///         sleep(Duration::from_millis(1)).await;
///         21
///     });
///     worker.await.unwrap() * 2
/// })?;
/// assert_eq!(answer, 42);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct EventLoop {
    inner: Rc<LoopInner>,
}

impl EventLoop {
    /// A loop on the real clock, with the default settings.
    ///
    /// # Errors
    /// When the operating system refuses the reactor (e.g. out of file descriptors).
    pub fn new() -> io::Result<EventLoop> {
        EventLoop::builder().build()
    }

    /// Settings for a new loop: virtual time, eager tasks, debug mode, the
    /// blocking pool.
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// Runs the loop until `future` completes and returns its output
    /// (asyncio's `run_until_complete`). The future runs as a task of the
    /// loop, so [`current_task`](crate::current_task) sees it.
    ///
    /// ```
    /// let event_loop = tulip_executor::EventLoop::new()?;
    /// assert_eq!(event_loop.run_until_complete(async { 1 + 1 })?, 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`RunError::Closed`] on a closed loop, [`RunError::AlreadyRunning`]
    /// inside the loop's own run, [`RunError::AnotherLoopRunning`] inside
    /// another loop, [`RunError::Stopped`] if [`stop`](Self::stop) came first,
    /// [`RunError::Task`] if the future panicked or its task was cancelled.
    #[track_caller]
    pub fn run_until_complete<F>(&self, future: F) -> Result<F::Output, RunError>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.check_can_run()?;
        let builder = TaskBuilder::new(None, Location::caller());
        let mut main =
            spawn_on(&self.inner, future, builder, false).map_err(|_| RunError::Closed)?;
        self.run(|| main.is_finished())?;
        if !main.is_finished() {
            return Err(RunError::Stopped);
        }
        let mut context = Context::from_waker(Waker::noop());
        match pin!(&mut main).poll(&mut context) {
            Poll::Ready(output) => output.map_err(RunError::from),
            Poll::Pending => Err(RunError::Stopped),
        }
    }

    /// Runs the loop until [`stop`](Self::stop) is called (asyncio's `run_forever`).
    ///
    /// ```
    /// let event_loop = tulip_executor::EventLoop::new()?;
    /// let handle = event_loop.handle();
    /// event_loop.call_soon(move || handle.stop())?;
    /// event_loop.run_forever()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`run_until_complete`](Self::run_until_complete), but never `Stopped` or `Task`.
    pub fn run_forever(&self) -> Result<(), RunError> {
        self.check_can_run()?;
        self.run(|| false)
    }

    /// Makes a running loop return after the current iteration; called
    /// before the loop runs, the next run performs one iteration and returns.
    pub fn stop(&self) {
        self.inner.shared.request_stop();
    }

    /// Whether the loop is running now.
    pub fn is_running(&self) -> bool {
        self.inner.running.get()
    }

    /// Whether [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        self.inner.shared.is_closed()
    }

    /// Closes the loop: drops every remaining task's future (their handles
    /// resolve to [`JoinError::Cancelled`](crate::JoinError::Cancelled)),
    /// every pending callback, and asks the blocking pool's threads to exit.
    /// Idempotent. Dropping the loop closes it.
    ///
    /// ```
    /// let event_loop = tulip_executor::EventLoop::new()?;
    /// event_loop.close()?;
    /// assert!(event_loop.is_closed());
    /// assert!(event_loop.run_until_complete(async {}).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`RunError::AlreadyRunning`] while the loop runs.
    pub fn close(&self) -> Result<(), RunError> {
        if self.is_running() {
            return Err(RunError::AlreadyRunning);
        }
        if self.is_closed() {
            return Ok(());
        }
        self.inner.closing.set(true);
        {
            // Destructors of task futures may reach for the running loop.
            let _entered = context::enter(&self.inner);
            self.shut_down_tasks();
            self.inner.shared.mark_closed();
            self.shut_down_tasks();
        }
        self.inner.shared.blocking.shutdown(Some(Duration::ZERO));
        Ok(())
    }

    /// The loop's clock now (asyncio's `loop.time()`); on a virtual-time loop,
    /// virtual time.
    pub fn time(&self) -> Instant {
        self.inner.shared.reactor.now()
    }

    /// Schedules `callback` to run in the next iteration, after the callbacks
    /// already scheduled (FIFO).
    ///
    /// ```
    /// use std::cell::RefCell;
    /// use std::rc::Rc;
    ///
    /// let event_loop = tulip_executor::EventLoop::new()?;
    /// let order = Rc::new(RefCell::new(Vec::new()));
    /// for i in 0..3 {
    ///     let order = order.clone();
    ///     event_loop.call_soon(move || order.borrow_mut().push(i))?;
    /// }
    /// event_loop.run_until_complete(async {})?;
    /// assert_eq!(*order.borrow(), [0, 1, 2]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`SpawnError::Closed`] on a closed loop.
    pub fn call_soon(
        &self,
        callback: impl FnOnce() + 'static,
    ) -> Result<CallbackHandle, SpawnError> {
        self.check_open()?;
        Ok(CallbackHandle::new(self.inner.call_soon(callback)))
    }

    /// Schedules `callback` to run `delay` from now on the loop's clock.
    /// Callbacks due at the same time run in the order they were scheduled.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let event_loop = tulip_executor::EventLoop::builder().virtual_time().build()?;
    /// let handle = event_loop.handle();
    /// let start = event_loop.time();
    /// event_loop.call_later(Duration::from_secs(60), move || handle.stop())?;
    /// event_loop.run_forever()?;
    /// assert_eq!(event_loop.time() - start, Duration::from_secs(60));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`SpawnError::Closed`] on a closed loop.
    pub fn call_later(
        &self,
        delay: Duration,
        callback: impl FnOnce() + 'static,
    ) -> Result<TimerHandle, SpawnError> {
        self.call_at(deadline_after(self.time(), delay), callback)
    }

    /// Schedules `callback` to run at `when` on the loop's clock (see [`time`](Self::time)).
    ///
    /// ```
    /// let event_loop = tulip_executor::EventLoop::new()?;
    /// let timer = event_loop.call_at(event_loop.time(), || unreachable!("cancelled"))?;
    /// assert!(timer.cancel());
    /// event_loop.run_until_complete(async {})?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`SpawnError::Closed`] on a closed loop.
    pub fn call_at(
        &self,
        when: Instant,
        callback: impl FnOnce() + 'static,
    ) -> Result<TimerHandle, SpawnError> {
        self.check_open()?;
        Ok(self.inner.call_at(when, callback))
    }

    /// Spawns `future` as a task of this loop (asyncio's `loop.create_task`).
    /// It starts in the next iteration, or at once if the loop is running with
    /// eager tasks. The future need not be `Send`.
    ///
    /// ```
    /// let event_loop = tulip_executor::EventLoop::new()?;
    /// let task = event_loop.spawn(async { "done" })?;
    /// assert_eq!(event_loop.run_until_complete(task)??, "done");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`SpawnError::Closed`] on a closed loop.
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> Result<JoinHandle<F::Output>, SpawnError>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let builder = TaskBuilder::new(None, Location::caller());
        spawn_on(&self.inner, future, builder, self.inner.eager_tasks.get())
    }

    /// A handle to this loop that other threads can use.
    pub fn handle(&self) -> Handle {
        Handle::new(self.inner.shared.clone())
    }

    /// Turns debug mode on or off (asyncio's `loop.set_debug`): in debug mode
    /// every callback or task step that runs longer than
    /// [`slow_callback_duration`](Self::slow_callback_duration) is reported
    /// through `tracing` (target `tulip::debug`) with the task's name and
    /// spawn location.
    pub fn set_debug(&self, enabled: bool) {
        self.inner.debug.set(enabled);
    }

    /// Whether debug mode is on.
    pub fn get_debug(&self) -> bool {
        self.inner.debug.get()
    }

    /// The threshold of debug mode's slow-callback report (default 100 ms).
    pub fn slow_callback_duration(&self) -> Duration {
        self.inner.slow_callback_duration.get()
    }

    /// Sets the threshold of debug mode's slow-callback report.
    pub fn set_slow_callback_duration(&self, threshold: Duration) {
        self.inner.slow_callback_duration.set(threshold);
    }

    /// Sets the handler that receives the loop's error reports (a task's
    /// panic that was never retrieved, a panicking callback), or with `None`
    /// restores [`default_exception_handler`]. The handler runs on the loop's
    /// thread; a panic inside it is reported and goes no further.
    ///
    /// ```
    /// use std::cell::RefCell;
    /// use std::rc::Rc;
    ///
    /// let event_loop = tulip_executor::EventLoop::new()?;
    /// let seen = Rc::new(RefCell::new(Vec::new()));
    /// let log = seen.clone();
    /// event_loop.set_exception_handler(Some(move |context: &tulip_executor::ExceptionContext| {
    ///     log.borrow_mut().push(context.to_string());
    /// }));
    /// event_loop.call_soon(|| panic!("boom"))?;
    /// event_loop.run_until_complete(async {})?;
    /// assert_eq!(*seen.borrow(), ["Exception in callback: boom"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_exception_handler<H>(&self, handler: Option<H>)
    where
        H: Fn(&ExceptionContext) + 'static,
    {
        let handler = handler.map(|handler| Rc::new(handler) as ExceptionHandler);
        self.inner.set_exception_handler(handler);
    }

    /// The handler installed with [`set_exception_handler`](EventLoop::set_exception_handler),
    /// or `None` while the default one is in use (asyncio's
    /// `get_exception_handler`). Keep it to chain to it from a new handler:
    ///
    /// ```
    /// use std::cell::Cell;
    /// use std::rc::Rc;
    ///
    /// let event_loop = tulip_executor::EventLoop::new()?;
    /// assert!(event_loop.get_exception_handler().is_none());
    /// let reports = Rc::new(Cell::new(0));
    /// let counter = reports.clone();
    /// event_loop.set_exception_handler(Some(move |_: &tulip_executor::ExceptionContext| {
    ///     counter.set(counter.get() + 1);
    /// }));
    /// // Wrap the installed handler: count twice as many reports.
    /// let previous = event_loop.get_exception_handler().expect("one is installed");
    /// event_loop.set_exception_handler(Some(move |context: &tulip_executor::ExceptionContext| {
    ///     previous(context);
    ///     previous(context);
    /// }));
    /// event_loop.call_soon(|| panic!("boom"))?;
    /// event_loop.run_until_complete(async {})?;
    /// assert_eq!(reports.get(), 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn get_exception_handler(&self) -> Option<ExceptionHandler> {
        self.inner.exception_handler()
    }

    /// Hands `context` to the loop's exception handler.
    pub fn call_exception_handler(&self, context: &ExceptionContext) {
        self.inner.call_exception_handler(context);
    }

    /// asyncio.run's sequence: run `future`, cancel what is left and let it
    /// unwind, shut the blocking pool down (waiting for running jobs), close.
    pub(crate) fn run_and_close<F>(&self, future: F) -> Result<F::Output, RunError>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let result = self.run_until_complete(future);
        if !self.is_running() && !self.is_closed() {
            self.cancel_remaining_tasks();
            self.wait_for_blocking_jobs();
            if !self
                .inner
                .shared
                .blocking
                .shutdown(Some(BLOCKING_SHUTDOWN_TIMEOUT))
            {
                tracing::warn!(
                    target: "tulip::event_loop",
                    "the blocking pool did not finish its running jobs within {BLOCKING_SHUTDOWN_TIMEOUT:?}"
                );
            }
            let _ = self.close();
        }
        result
    }

    /// Keeps the loop running until the blocking pool has no job left (a job
    /// may need the loop, e.g. through `run_coroutine_threadsafe`), at most
    /// for the shutdown timeout, as asyncio's `shutdown_default_executor`.
    fn wait_for_blocking_jobs(&self) {
        let pool = &self.inner.shared.blocking;
        if pool.in_flight() == 0 {
            return;
        }
        let handle = self.handle();
        let limit = self.inner.call_at(
            deadline_after(self.time(), BLOCKING_SHUTDOWN_TIMEOUT),
            move || handle.stop(),
        );
        // The pool notifies the reactor when its last job finishes.
        let _ = self.run(|| pool.in_flight() == 0);
        limit.cancel();
    }

    /// Cancels every live task and iterates until their futures are dropped.
    fn cancel_remaining_tasks(&self) {
        let shared = &self.inner.shared;
        while shared.live_task_count() > 0 {
            for task in shared.live_tasks() {
                task.cancel();
            }
            // A cancelled task finishes at its next scheduling point, which the
            // cancel itself queues; destructors may spawn more, hence the loop.
            if self.run(|| shared.live_task_count() == 0).is_err() {
                return;
            }
        }
    }

    fn check_open(&self) -> Result<(), SpawnError> {
        if self.is_closed() || self.inner.closing.get() {
            Err(SpawnError::Closed)
        } else {
            Ok(())
        }
    }

    fn check_can_run(&self) -> Result<(), RunError> {
        if self.is_closed() {
            Err(RunError::Closed)
        } else if self.is_running() {
            Err(RunError::AlreadyRunning)
        } else if context::is_set() || crate::runtime::context::is_set() {
            Err(RunError::AnotherLoopRunning)
        } else {
            Ok(())
        }
    }

    /// Iterates until a stop request. Once `done()` holds, the loop stops
    /// itself, so one more iteration runs, as in asyncio, where the finished
    /// future's done callback is what calls `stop()`.
    fn run(&self, done: impl Fn() -> bool) -> Result<(), RunError> {
        let _entered = context::enter(&self.inner);
        let _running = RunningFlag::set(&self.inner);
        loop {
            self.inner.run_once()?;
            if self.inner.shared.take_stop() {
                return Ok(());
            }
            if done() {
                self.inner.shared.request_stop();
            }
        }
    }

    /// Drops the future of every live task and everything queued, until
    /// nothing is left (destructors may wake or spawn more).
    fn shut_down_tasks(&self) {
        loop {
            let tasks = self.inner.shared.live_tasks();
            for task in &tasks {
                task.shutdown();
            }
            let had_work = self.inner.clear_queues();
            self.inner.shared.take_remote();
            if tasks.is_empty() && !had_work && self.inner.shared.live_task_count() == 0 {
                return;
            }
        }
    }
}

impl Drop for EventLoop {
    fn drop(&mut self) {
        // Not running: `run` borrows the loop for as long as it runs.
        let _ = self.close();
    }
}

impl std::fmt::Debug for EventLoop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventLoop")
            .field("running", &self.is_running())
            .field("closed", &self.is_closed())
            .field("debug", &self.get_debug())
            .finish_non_exhaustive()
    }
}

/// How long `run` waits for the blocking pool's running jobs at the end, as
/// asyncio's `shutdown_default_executor`.
const BLOCKING_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(300);

/// Clears the running flag even if an iteration returns early.
struct RunningFlag<'a>(&'a LoopInner);

impl<'a> RunningFlag<'a> {
    fn set(inner: &'a LoopInner) -> RunningFlag<'a> {
        inner.running.set(true);
        RunningFlag(inner)
    }
}

impl Drop for RunningFlag<'_> {
    fn drop(&mut self) {
        self.0.running.set(false);
    }
}

/// Settings for a new [`EventLoop`].
///
/// ```
/// use std::time::Duration;
/// use tulip_executor::{EventLoop, sleep};
///
/// let event_loop = EventLoop::builder()
///     .virtual_time()
///     .eager_tasks(true)
///     .max_blocking_threads(4)
///     .build()?;
/// let start = event_loop.time();
/// event_loop.run_until_complete(sleep(Duration::from_secs(3600)))?;
/// assert_eq!(event_loop.time() - start, Duration::from_secs(3600));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default)]
#[must_use = "a Builder does nothing until .build() is called"]
pub struct Builder {
    virtual_time: bool,
    eager_tasks: bool,
    debug: bool,
    slow_callback_duration: Option<Duration>,
    pool: PoolConfig,
}

impl Builder {
    /// Runs the loop on a virtual clock: whenever nothing is ready, no task
    /// awaits I/O and the blocking pool is idle, time jumps to the next timer,
    /// so timer-heavy programs run instantly and deterministically.
    pub fn virtual_time(mut self) -> Builder {
        self.virtual_time = true;
        self
    }

    /// Makes `spawn` on a running loop poll the new task once at once
    /// (asyncio 3.12's eager task factory); it is queued only if it does not
    /// finish there.
    pub fn eager_tasks(mut self, eager: bool) -> Builder {
        self.eager_tasks = eager;
        self
    }

    /// Starts the loop in debug mode, as [`EventLoop::set_debug`] (asyncio's
    /// `asyncio.run(main(), debug=True)`): every task step or callback longer
    /// than the slow-callback threshold is reported through `tracing` (target
    /// `tulip::debug`) with the task's name and spawn location.
    pub fn debug(mut self, enabled: bool) -> Builder {
        self.debug = enabled;
        self
    }

    /// The threshold of debug mode's report (default 100 ms), as
    /// [`EventLoop::set_slow_callback_duration`].
    pub fn slow_callback_duration(mut self, threshold: Duration) -> Builder {
        self.slow_callback_duration = Some(threshold);
        self
    }

    /// The most threads the blocking pool runs at once (default: the number
    /// of cores plus 4, at most 32, as asyncio's default executor). At least 1.
    pub fn max_blocking_threads(mut self, threads: usize) -> Builder {
        self.pool.max_threads = threads.max(1);
        self
    }

    /// How long an idle blocking-pool thread waits for work before it exits
    /// (default 10 s).
    pub fn blocking_keep_alive(mut self, keep_alive: Duration) -> Builder {
        self.pool.keep_alive = keep_alive;
        self
    }

    /// Makes the loop.
    ///
    /// # Errors
    /// When the operating system refuses the reactor.
    pub fn build(self) -> io::Result<EventLoop> {
        let clock = if self.virtual_time {
            Clock::virtual_time()
        } else {
            Clock::real()
        };
        let reactor: Arc<Reactor> = Reactor::with_clock(clock)?;
        let pool = BlockingPool::new(self.pool, Some(reactor.clone()));
        let shared = Arc::new(Shared::new(reactor, pool));
        let event_loop = EventLoop {
            inner: LoopInner::new(shared, self.eager_tasks),
        };
        event_loop.set_debug(self.debug);
        if let Some(threshold) = self.slow_callback_duration {
            event_loop.set_slow_callback_duration(threshold);
        }
        Ok(event_loop)
    }
}
