//! The blocking pool: threads for work that would block the loop
//! (asyncio's default executor behind `run_in_executor` and `to_thread`).
//!
//! Each job is a task whose future calls the function once, scheduled onto
//! this pool instead of a loop, so a job gets a [`JoinHandle`] like any task
//! and a job cancelled before it starts never runs. Threads start on demand
//! up to `max_threads`, and an idle thread exits after `keep_alive`.

use std::collections::VecDeque;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::task::{Context, Poll};
use std::thread;
use std::time::{Duration, Instant};

use tulip_reactor::Reactor;

use crate::event_loop::context;
use crate::event_loop::shared::lock;
use crate::task::{self, JoinError, JoinHandle, Runnable, Schedule, Task, TaskBuilder};

/// Runs the blocking function `function` on the running loop's blocking pool
/// and returns a handle to its result; the loop keeps running meanwhile.
///
/// ```
/// let event_loop = tulip_executor::EventLoop::new()?;
/// let length = event_loop.run_until_complete(async {
///     tulip_executor::spawn_blocking(|| std::fs::read_dir(".").map(|entries| entries.count()))
///         .await
/// })??;
/// assert!(length.is_ok());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Panics
/// Outside a running loop; [`Handle::spawn_blocking`](crate::Handle::spawn_blocking)
/// returns an error instead.
#[track_caller]
pub fn spawn_blocking<R>(function: impl FnOnce() -> R + Send + 'static) -> JoinHandle<R>
where
    R: Send + 'static,
{
    let location = Location::caller();
    if let Some(inner) = context::current() {
        return spawn_blocking_on(&inner.shared.blocking, function, location);
    }
    match crate::runtime::context::current() {
        Some(shared) => spawn_blocking_on(&shared.blocking, function, location),
        None => panic!("tulip::spawn_blocking: no running event loop on this thread"),
    }
}

/// asyncio's `to_thread`: runs `function` on the running loop's blocking
/// pool when first awaited, and waits for its result.
///
/// ```
/// let event_loop = tulip_executor::EventLoop::new()?;
/// let value = event_loop.run_until_complete(tulip_executor::to_thread(|| 2 + 2))?;
/// assert_eq!(value?, 4);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Panics
/// When first polled outside a running loop.
pub async fn to_thread<R>(function: impl FnOnce() -> R + Send + 'static) -> Result<R, JoinError>
where
    R: Send + 'static,
{
    spawn_blocking(function).await
}

pub(crate) fn spawn_blocking_on<R>(
    pool: &BlockingPool,
    function: impl FnOnce() -> R + Send + 'static,
    location: &'static Location<'static>,
) -> JoinHandle<R>
where
    R: Send + 'static,
{
    pool.shared.in_flight.fetch_add(1, Ordering::SeqCst);
    let job = BlockingJob(Some(function));
    let (runnable, handle, _task) =
        task::spawn(job, pool.shared.clone(), TaskBuilder::new(None, location));
    pool.shared.schedule(runnable);
    handle
}

/// The pool's settings.
#[derive(Debug, Clone)]
pub(crate) struct PoolConfig {
    pub(crate) max_threads: usize,
    pub(crate) keep_alive: Duration,
}

impl Default for PoolConfig {
    fn default() -> PoolConfig {
        let cores = thread::available_parallelism().map_or(1, |n| n.get());
        PoolConfig {
            max_threads: (cores + 4).min(32),
            keep_alive: Duration::from_secs(10),
        }
    }
}

/// A loop's blocking pool.
pub(crate) struct BlockingPool {
    shared: Arc<PoolShared>,
}

struct PoolShared {
    config: PoolConfig,
    /// The owning loop's reactor, told when the pool falls idle: a loop on
    /// virtual time waits in real time while jobs run, and may jump once
    /// none is left.
    reactor: Option<Arc<Reactor>>,
    state: Mutex<PoolState>,
    work_available: Condvar,
    thread_exited: Condvar,
    /// Jobs queued or running: the loop's virtual clock waits for them.
    in_flight: AtomicUsize,
}

#[derive(Default)]
struct PoolState {
    queue: VecDeque<Runnable>,
    threads: usize,
    idle: usize,
    shutdown: bool,
    next_thread_id: usize,
}

impl BlockingPool {
    pub(crate) fn new(config: PoolConfig, reactor: Option<Arc<Reactor>>) -> BlockingPool {
        BlockingPool {
            shared: Arc::new(PoolShared {
                config,
                reactor,
                state: Mutex::new(PoolState::default()),
                work_available: Condvar::new(),
                thread_exited: Condvar::new(),
                in_flight: AtomicUsize::new(0),
            }),
        }
    }

    /// Jobs queued or running.
    pub(crate) fn in_flight(&self) -> usize {
        self.shared.in_flight.load(Ordering::SeqCst)
    }

    /// Threads alive now (running or idle).
    #[cfg(test)]
    pub(crate) fn threads(&self) -> usize {
        lock(&self.shared.state).threads
    }

    /// Stops accepting work, cancels queued jobs, and waits up to `timeout`
    /// (`None`: as long as it takes) for running jobs to finish and their
    /// threads to exit. Returns whether every thread exited.
    pub(crate) fn shutdown(&self, timeout: Option<Duration>) -> bool {
        let queued = {
            let mut state = lock(&self.shared.state);
            state.shutdown = true;
            std::mem::take(&mut state.queue)
        };
        self.shared.work_available.notify_all();
        // Dropping a job's Runnable cancels it: its handle resolves Cancelled.
        drop(queued);
        let deadline = timeout.map(|timeout| Instant::now() + timeout);
        let mut state = lock(&self.shared.state);
        while state.threads > 0 {
            let wait = match deadline {
                None => Duration::from_secs(3600),
                Some(deadline) => match deadline.checked_duration_since(Instant::now()) {
                    Some(left) if !left.is_zero() => left,
                    _ => return false,
                },
            };
            state = self
                .shared
                .thread_exited
                .wait_timeout(state, wait)
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .0;
        }
        true
    }
}

impl Schedule for Arc<PoolShared> {
    fn schedule(&self, job: Runnable) {
        let mut state = lock(&self.state);
        if state.shutdown {
            drop(state);
            drop(job);
            return;
        }
        state.queue.push_back(job);
        // A burst must not wait on one idle thread: start another whenever
        // the queue holds more jobs than there are idle threads to take them.
        let wake_idle = state.idle > 0;
        let start = (state.queue.len() > state.idle && state.threads < self.config.max_threads)
            .then(|| {
                state.threads += 1;
                state.next_thread_id += 1;
                state.next_thread_id
            });
        drop(state);
        if wake_idle {
            self.work_available.notify_one();
        }
        if let Some(id) = start {
            self.start_thread(id);
        }
    }

    fn release(&self, _job: &Task) {
        // SeqCst pairs with the loop's park: either the loop re-reads the
        // count after marking itself parked, or this notify finds it parked.
        if self.in_flight.fetch_sub(1, Ordering::SeqCst) == 1
            && let Some(reactor) = &self.reactor
        {
            reactor.notify();
        }
    }
}

impl PoolShared {
    fn start_thread(self: &Arc<Self>, id: usize) {
        let pool = self.clone();
        let started = thread::Builder::new()
            .name(format!("tulip-blocking-{id}"))
            .spawn(move || pool.work());
        if let Err(error) = started {
            tracing::error!(target: "tulip::blocking", "could not start a blocking-pool thread: {error}");
            let mut state = lock(&self.state);
            state.threads -= 1;
            if state.threads == 0 {
                // Nobody is left to run the queue: cancel it rather than strand it.
                let queued = std::mem::take(&mut state.queue);
                drop(state);
                drop(queued);
            }
        }
    }

    /// A pool thread: run jobs until idle for `keep_alive` or shut down.
    fn work(self: Arc<Self>) {
        let mut state = lock(&self.state);
        loop {
            if let Some(job) = state.queue.pop_front() {
                drop(state);
                if let Some(again) = job.run() {
                    // A blocking job runs to completion in one poll; should
                    // one ever be woken during it, it queues like any wake.
                    self.schedule(again);
                }
                state = lock(&self.state);
                continue;
            }
            if state.shutdown {
                break;
            }
            state.idle += 1;
            let (next, timeout) = self
                .work_available
                .wait_timeout(state, self.config.keep_alive)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            state = next;
            state.idle -= 1;
            if timeout.timed_out() && state.queue.is_empty() {
                break;
            }
        }
        state.threads -= 1;
        drop(state);
        self.thread_exited.notify_all();
    }
}

/// The future of a blocking job: calls the function on its one poll.
struct BlockingJob<F>(Option<F>);

impl<F> Unpin for BlockingJob<F> {}

impl<F, R> Future for BlockingJob<F>
where
    F: FnOnce() -> R,
{
    type Output = R;

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<R> {
        match self.0.take() {
            Some(function) => Poll::Ready(function()),
            // The task cell never polls a future again after Ready.
            None => Poll::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn never_exceeds_its_thread_bound() {
        let pool = BlockingPool::new(
            PoolConfig {
                max_threads: 3,
                keep_alive: Duration::from_secs(10),
            },
            None,
        );
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..40)
            .map(|_| {
                let running = running.clone();
                let peak = peak.clone();
                spawn_blocking_on(
                    &pool,
                    move || {
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        peak.fetch_max(now, Ordering::SeqCst);
                        thread::yield_now();
                        running.fetch_sub(1, Ordering::SeqCst);
                    },
                    Location::caller(),
                )
            })
            .collect();
        assert!(pool.threads() <= 3);
        for handle in handles {
            assert!(crate::threadsafe::block_on_handle(handle, None).is_ok());
        }
        assert!(peak.load(Ordering::SeqCst) <= 3);
        assert!(peak.load(Ordering::SeqCst) >= 1);
        assert!(pool.shutdown(None));
        assert_eq!(pool.threads(), 0);
        assert_eq!(pool.in_flight(), 0);
    }

    #[test]
    fn a_burst_of_jobs_starts_threads_even_with_an_idle_one() {
        let pool = BlockingPool::new(
            PoolConfig {
                max_threads: 4,
                keep_alive: Duration::from_secs(10),
            },
            None,
        );
        // One thread, now idle.
        let first = spawn_blocking_on(&pool, || (), Location::caller());
        assert!(crate::threadsafe::block_on_handle(first, None).is_ok());
        // Four jobs that can only finish together: they need four threads.
        let barrier = Arc::new(std::sync::Barrier::new(4));
        let jobs: Vec<_> = (0..4)
            .map(|_| {
                let barrier = barrier.clone();
                spawn_blocking_on(
                    &pool,
                    move || barrier.wait().is_leader(),
                    Location::caller(),
                )
            })
            .collect();
        let leaders = jobs
            .into_iter()
            .map(|job| {
                crate::threadsafe::block_on_handle(job, None)
                    .unwrap()
                    .unwrap()
            })
            .filter(|&leader| leader)
            .count();
        assert_eq!(leaders, 1);
        assert!(pool.shutdown(None));
    }

    #[test]
    fn queued_jobs_are_cancelled_at_shutdown() {
        let pool = BlockingPool::new(
            PoolConfig {
                max_threads: 1,
                keep_alive: Duration::from_secs(10),
            },
            None,
        );
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let (started_tx, started) = std::sync::mpsc::channel::<()>();
        let first = spawn_blocking_on(
            &pool,
            move || {
                started_tx.send(()).unwrap();
                wait.recv().is_ok()
            },
            Location::caller(),
        );
        let ran = Arc::new(AtomicUsize::new(0));
        let counter = ran.clone();
        let second = spawn_blocking_on(
            &pool,
            move || {
                counter.fetch_add(1, Ordering::SeqCst);
            },
            Location::caller(),
        );
        started.recv().unwrap();
        // The second job waits in the queue behind the first, on the one thread.
        assert!(!pool.shutdown(Some(Duration::ZERO)));
        release.send(()).unwrap();
        assert!(pool.shutdown(None));
        assert!(matches!(
            crate::threadsafe::block_on_handle(first, None),
            Ok(Ok(true))
        ));
        let second = crate::threadsafe::block_on_handle(second, None).expect("no timeout");
        assert!(second.is_err_and(|error| error.is_cancelled()));
        assert_eq!(ran.load(Ordering::SeqCst), 0);
    }
}
