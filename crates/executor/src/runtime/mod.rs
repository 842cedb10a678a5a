//! The multi-thread runtime: tasks spread over every core.
//!
//! asyncio runs one loop per thread; a [`Runtime`] runs `Send` tasks on a
//! pool of worker threads that share one reactor (sockets, pipes, signals,
//! timers) and one blocking pool, with the loop's task semantics: the same
//! [`JoinHandle`]s, cancellation, combinators,
//! [`TaskGroup`](crate::TaskGroup), [`current_task`](crate::current_task) and
//! [`all_tasks`](crate::all_tasks), debug mode's slow-poll report and the
//! report of a panic nobody retrieved. `!Send` work belongs on an
//! [`EventLoop`](crate::EventLoop): [`spawn_local`](crate::spawn_local) on a
//! worker is an error.
//!
//! # Scheduling
//!
//! Each worker has a local run queue (a fixed ring that other workers can
//! steal half of at once) and a LIFO slot for the task woken by the task it
//! runs; a global queue takes tasks spawned or woken from other threads and
//! what overflows a local queue. A worker with nothing to do steals, then
//! sleeps: the first to sleep waits inside the reactor, so that I/O and
//! timers wake it, the others on their own condition variable; new work
//! wakes exactly one sleeper, and only when no worker is already searching.
//! The rules that keep the global queue and I/O from starving are in
//! `worker.rs`; the sleep protocol in `idle.rs` and `park.rs`.
//!
//! # Example
//!
//! ```
//! use tulip_executor::{Runtime, spawn};
//!
//! let runtime = Runtime::multi_thread().worker_threads(2).build()?;
//! let total = runtime.block_on(async {
//!     let tasks: Vec<_> = (0..100_u64).map(|i| spawn(async move { i * i })).collect();
//!     let mut total = 0;
//!     for task in tasks {
//!         total += task.await?;
//!     }
//!     Ok::<_, tulip_executor::JoinError>(total)
//! })??;
//! assert_eq!(total, 328_350);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod block_on;
pub(crate) mod context;
mod idle;
#[cfg(all(test, loom))]
mod loom_tests;
mod park;
mod queue;
pub(crate) mod shared;
mod sync;
mod worker;

use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use tulip_reactor::Reactor;

use self::park::Parker;
use self::shared::{Config, Shared, WorkerRemote};
use crate::blocking::{BlockingPool, PoolConfig};
use crate::error::{BuildError, RunError, SpawnError};
use crate::handle::Handle;
use crate::task::{JoinHandle, TaskBuilder};

/// A multi-thread runtime: `Send` tasks on a pool of worker threads sharing
/// one reactor. Made with [`Runtime::multi_thread`]; see the
/// [module docs](self) for how it schedules.
///
/// Dropping the runtime shuts it down: the workers finish the poll they are
/// in and exit, and every task left is cancelled (its future dropped).
pub struct Runtime {
    shared: Arc<Shared>,
    threads: Vec<thread::JoinHandle<()>>,
    shut_down: bool,
}

impl Runtime {
    /// Settings for a multi-thread runtime: worker count (default: the
    /// number of cores), thread names, start and stop hooks, the blocking
    /// pool, debug mode.
    ///
    /// ```
    /// let runtime = tulip_executor::Runtime::multi_thread()
    ///     .worker_threads(2)
    ///     .thread_name("app-worker")
    ///     .build()?;
    /// assert_eq!(runtime.worker_threads(), 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn multi_thread() -> Builder {
        Builder::default()
    }

    /// Runs `future` on the calling thread until it completes, while the
    /// workers run the tasks it spawns; returns its output. The future runs
    /// as a task of the runtime (so [`current_task`](crate::current_task)
    /// sees it) that only this thread polls, so it need not be `Send`.
    ///
    /// ```
    /// let runtime = tulip_executor::Runtime::multi_thread().build()?;
    /// let doubled = runtime.block_on(async {
    ///     tulip_executor::spawn(async { 21 }).await.map(|n| n * 2)
    /// })??;
    /// assert_eq!(doubled, 42);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`RunError::AnotherLoopRunning`] on a thread that already runs a loop
    /// or belongs to a runtime (a worker, or inside another `block_on`);
    /// [`RunError::Closed`] once the runtime is shutting down;
    /// [`RunError::Stopped`] after [`Handle::stop`]; [`RunError::Task`] if
    /// the future panicked or its task was cancelled.
    #[track_caller]
    pub fn block_on<F>(&self, future: F) -> Result<F::Output, RunError>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        block_on::block_on(&self.shared, future, Location::caller())
    }

    /// Spawns a `Send` future on the runtime, from any thread.
    ///
    /// ```
    /// let runtime = tulip_executor::Runtime::multi_thread().build()?;
    /// let task = runtime.spawn(async { "done" })?;
    /// assert_eq!(runtime.block_on(task)??, "done");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`SpawnError::Closed`] once the runtime is shutting down.
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> Result<JoinHandle<F::Output>, SpawnError>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let builder = TaskBuilder::new(None, Location::caller());
        self.shared.spawn(future, builder, false)
    }

    /// A handle to this runtime that any thread can use; inside a task,
    /// [`Handle::current`] gives the same.
    pub fn handle(&self) -> Handle {
        Handle::multi_thread(self.shared.clone())
    }

    /// How many worker threads run tasks.
    pub fn worker_threads(&self) -> usize {
        self.shared.workers.len()
    }

    /// Shuts the runtime down, waiting at most `timeout` for the workers to
    /// finish the poll they are in and for the blocking pool's running jobs;
    /// then cancels every task left. A worker stuck in a poll longer than
    /// that is left behind (its thread detached). Returns whether everything
    /// stopped in time.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let runtime = tulip_executor::Runtime::multi_thread().build()?;
    /// let forever = runtime.spawn(std::future::pending::<()>())?;
    /// assert!(runtime.shutdown_timeout(Duration::from_secs(10)));
    /// assert!(forever.is_finished()); // cancelled
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn shutdown_timeout(mut self, timeout: Duration) -> bool {
        let deadline = crate::util::deadline_after(Instant::now(), timeout);
        self.shut_down(Some(deadline))
    }

    fn shut_down(&mut self, deadline: Option<Instant>) -> bool {
        if std::mem::replace(&mut self.shut_down, true) {
            return true;
        }
        // Futures' destructors may deregister sockets: the reactor is entered.
        let workers_exited = {
            let _reactor = self.shared.reactor.enter();
            self.shared.shut_down(deadline)
        };
        for thread in std::mem::take(&mut self.threads) {
            if workers_exited || thread.is_finished() {
                let _ = thread.join();
            }
        }
        let pool_timeout = deadline.map_or(Duration::ZERO, |deadline| {
            deadline.saturating_duration_since(Instant::now())
        });
        let pool_done = self.shared.blocking.shutdown(Some(pool_timeout));
        workers_exited && pool_done
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.shut_down(None);
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("worker_threads", &self.worker_threads())
            .finish_non_exhaustive()
    }
}

type Hook = Arc<dyn Fn() + Send + Sync>;

/// Settings for a multi-thread [`Runtime`]. It always runs on the real
/// clock: virtual time needs one thread that sees when nothing at all is
/// ready, which is what the [`EventLoop`](crate::EventLoop) is.
///
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicUsize, Ordering};
///
/// let started = Arc::new(AtomicUsize::new(0));
/// let counter = started.clone();
/// let runtime = tulip_executor::Runtime::multi_thread()
///     .worker_threads(3)
///     .on_thread_start(move || {
///         counter.fetch_add(1, Ordering::SeqCst);
///     })
///     .build()?;
/// runtime.block_on(async {})?;
/// drop(runtime); // waits for the workers to exit
/// assert_eq!(started.load(Ordering::SeqCst), 3);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
#[must_use = "a Builder does nothing until .build() is called"]
pub struct Builder {
    workers: Option<usize>,
    thread_name: Arc<dyn Fn(usize) -> String + Send + Sync>,
    on_thread_start: Option<Hook>,
    on_thread_stop: Option<Hook>,
    pool: PoolConfig,
    debug: bool,
    slow_callback_duration: Duration,
    eager_tasks: bool,
}

impl Default for Builder {
    fn default() -> Builder {
        Builder {
            workers: None,
            thread_name: Arc::new(|index| format!("tulip-worker-{index}")),
            on_thread_start: None,
            on_thread_stop: None,
            pool: PoolConfig::default(),
            debug: false,
            slow_callback_duration: Duration::from_millis(100),
            eager_tasks: false,
        }
    }
}

impl Builder {
    /// How many worker threads run tasks (default: the number of cores).
    /// Zero is refused by [`build`](Self::build).
    pub fn worker_threads(mut self, workers: usize) -> Builder {
        self.workers = Some(workers);
        self
    }

    /// Names the worker threads `{name}-{index}` (default `tulip-worker-{index}`).
    pub fn thread_name(mut self, name: impl Into<String>) -> Builder {
        let name = name.into();
        self.thread_name = Arc::new(move |index| format!("{name}-{index}"));
        self
    }

    /// Names each worker thread with `name(index)`.
    pub fn thread_name_fn(
        mut self,
        name: impl Fn(usize) -> String + Send + Sync + 'static,
    ) -> Builder {
        self.thread_name = Arc::new(name);
        self
    }

    /// Runs `hook` on each worker thread as it starts, before it runs a task.
    pub fn on_thread_start(mut self, hook: impl Fn() + Send + Sync + 'static) -> Builder {
        self.on_thread_start = Some(Arc::new(hook));
        self
    }

    /// Runs `hook` on each worker thread as it stops, after its last task.
    pub fn on_thread_stop(mut self, hook: impl Fn() + Send + Sync + 'static) -> Builder {
        self.on_thread_stop = Some(Arc::new(hook));
        self
    }

    /// The most threads the blocking pool runs at once (default: the number
    /// of cores plus 4, at most 32). At least 1.
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

    /// Debug mode, as the loop's `set_debug`: every task poll longer than
    /// the slow-callback threshold is reported through `tracing` (target
    /// `tulip::debug`) with the task's name and spawn location.
    pub fn debug(mut self, enabled: bool) -> Builder {
        self.debug = enabled;
        self
    }

    /// The threshold of debug mode's report (default 100 ms).
    pub fn slow_callback_duration(mut self, threshold: Duration) -> Builder {
        self.slow_callback_duration = threshold;
        self
    }

    /// Makes `spawn` on a worker poll the new task once at once, as the
    /// loop's eager tasks; it is queued only if it does not finish there.
    pub fn eager_tasks(mut self, eager: bool) -> Builder {
        self.eager_tasks = eager;
        self
    }

    /// Makes the runtime and starts its workers.
    ///
    /// # Errors
    /// [`BuildError::NoWorkers`] for zero workers,
    /// [`BuildError::TooManyWorkers`] beyond 65,535,
    /// [`BuildError::Io`] if the reactor or a thread could not be made.
    pub fn build(self) -> Result<Runtime, BuildError> {
        let workers = self
            .workers
            .unwrap_or_else(|| thread::available_parallelism().map_or(1, |n| n.get()));
        if workers == 0 {
            return Err(BuildError::NoWorkers);
        }
        if workers > idle::MAX_WORKERS {
            return Err(BuildError::TooManyWorkers {
                requested: workers,
                max: idle::MAX_WORKERS,
            });
        }
        let reactor = Reactor::new()?;
        let pool = BlockingPool::new(self.pool.clone(), Some(reactor.clone()));
        let mut locals = Vec::with_capacity(workers);
        let mut remotes = Vec::with_capacity(workers);
        for _ in 0..workers {
            let (local, stealer) = queue::local();
            let (parker, unparker) = Parker::new();
            locals.push((local, parker));
            remotes.push(WorkerRemote { stealer, unparker });
        }
        let config = Config {
            debug: self.debug,
            slow_callback_duration: self.slow_callback_duration,
            eager_tasks: self.eager_tasks,
        };
        let shared = Arc::new(Shared::new(reactor, pool, remotes.into(), config));
        let mut runtime = Runtime {
            shared: shared.clone(),
            threads: Vec::with_capacity(workers),
            shut_down: false,
        };
        for (index, (local, parker)) in locals.into_iter().enumerate() {
            let worker_shared = shared.clone();
            let start = self.on_thread_start.clone();
            let stop = self.on_thread_stop.clone();
            let spawned = thread::Builder::new()
                .name((self.thread_name)(index))
                .spawn(move || {
                    // Counts the worker out however the thread ends.
                    let shared = worker_shared;
                    let _exit = ExitGuard(&shared);
                    let _entered = context::enter(&shared);
                    run_hook(start.as_deref(), "on_thread_start");
                    worker::run(shared.clone(), index, local, parker);
                    run_hook(stop.as_deref(), "on_thread_stop");
                });
            match spawned {
                Ok(thread) => runtime.threads.push(thread),
                Err(error) => {
                    // The workers that started see the shutdown and exit;
                    // the ones never started count as exited.
                    for _ in index..workers {
                        shared.worker_exited();
                    }
                    drop(runtime);
                    return Err(BuildError::Io(error));
                }
            }
        }
        Ok(runtime)
    }
}

/// Runs a thread hook; its panic is reported and goes no further.
fn run_hook(hook: Option<&(dyn Fn() + Send + Sync)>, name: &str) {
    let Some(hook) = hook else { return };
    if let Err(panic) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(hook)) {
        tracing::error!(
            target: "tulip::runtime",
            "the {name} hook panicked: {}",
            crate::util::panic_message(&*panic)
        );
        crate::util::drop_quietly(panic);
    }
}

/// Tells the runtime that a worker thread has ended when dropped.
struct ExitGuard<'a>(&'a Arc<Shared>);

impl Drop for ExitGuard<'_> {
    fn drop(&mut self) {
        self.0.worker_exited();
    }
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("worker_threads", &self.workers)
            .field("debug", &self.debug)
            .field("eager_tasks", &self.eager_tasks)
            .finish_non_exhaustive()
    }
}
