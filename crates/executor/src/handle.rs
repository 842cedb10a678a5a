//! [`Handle`]: a loop seen from anywhere.

use std::future::Future;
use std::panic::Location;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::blocking::spawn_blocking_on;
use crate::error::{NoRunningLoop, SpawnError};
use crate::event_loop::context;
use crate::event_loop::shared::{Remote, Shared};
use crate::event_loop::{CallbackHandle, ThreadsafeHandle, TimerHandle};
use crate::runtime;
use crate::task::{self, JoinHandle, Schedule, TaskBuilder};
use crate::threadsafe::ConcurrentFuture;
use crate::util::deadline_after;

/// A cheap, clonable, `Send + Sync` reference to an event loop: what other
/// threads use to hand it work, and what [`Handle::current`] (asyncio's
/// `get_running_loop`) gives a task.
///
/// Holding a handle does not keep a closed loop usable: once the loop is
/// closed, every method that hands it work returns [`SpawnError::Closed`].
///
/// ```
/// use std::thread;
///
/// let event_loop = tulip_executor::EventLoop::new()?;
/// let handle = event_loop.handle();
/// let worker = thread::spawn(move || {
///     let future = handle.run_coroutine_threadsafe(async { 6 * 7 }).unwrap();
///     future.result(None)
/// });
/// let event_loop_handle = event_loop.handle();
/// event_loop.run_until_complete(async move {
///     while !worker.is_finished() {
///         tulip_executor::sleep(std::time::Duration::from_millis(1)).await;
///     }
///     assert_eq!(worker.join().unwrap().unwrap(), 42);
///     drop(event_loop_handle);
/// })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Handle {
    flavor: Flavor,
}

/// What a handle reaches: an event loop, or a multi-thread runtime.
#[derive(Clone)]
enum Flavor {
    Loop(Arc<Shared>),
    MultiThread(Arc<runtime::shared::Shared>),
}

impl Handle {
    pub(crate) fn new(shared: Arc<Shared>) -> Handle {
        Handle {
            flavor: Flavor::Loop(shared),
        }
    }

    pub(crate) fn multi_thread(shared: Arc<runtime::shared::Shared>) -> Handle {
        Handle {
            flavor: Flavor::MultiThread(shared),
        }
    }

    /// The handle of the loop running on this thread (asyncio's `get_running_loop()`).
    ///
    /// ```
    /// assert!(tulip_executor::Handle::current().is_err());
    /// let event_loop = tulip_executor::EventLoop::new()?;
    /// event_loop.run_until_complete(async {
    ///     assert!(tulip_executor::Handle::current().is_ok());
    /// })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`NoRunningLoop`] outside a running loop.
    pub fn current() -> Result<Handle, NoRunningLoop> {
        if let Some(inner) = context::current() {
            return Ok(Handle::new(inner.shared.clone()));
        }
        runtime::context::current()
            .map(Handle::multi_thread)
            .ok_or(NoRunningLoop)
    }

    /// Schedules `callback` on the loop from any thread; it runs in one of the
    /// loop's next iterations, after what the loop has already queued.
    ///
    /// On a multi-thread runtime the callback runs as a task of its own.
    ///
    /// # Errors
    /// [`SpawnError::Closed`] once the loop is closed.
    #[track_caller]
    pub fn call_soon_threadsafe(
        &self,
        callback: impl FnOnce() + Send + 'static,
    ) -> Result<ThreadsafeHandle, SpawnError> {
        let cancelled = Arc::new(AtomicBool::new(false));
        match &self.flavor {
            Flavor::Loop(shared) => {
                let work = Remote::Callback(Box::new(callback), cancelled.clone());
                shared.push_remote(work).map_err(|_| SpawnError::Closed)?;
            }
            Flavor::MultiThread(shared) => {
                let claim = cancelled.clone();
                let run = async move {
                    // Claimed, so that a later `cancel` reports it too late.
                    if !claim.swap(true, Ordering::AcqRel) {
                        callback();
                    }
                };
                let builder = TaskBuilder::new(None, Location::caller());
                shared.spawn(run, builder, false)?.detach();
            }
        }
        Ok(ThreadsafeHandle::new(cancelled))
    }

    /// Schedules `callback` for the next iteration; only on the loop's thread
    /// while it runs (the callback need not be `Send`). See
    /// [`EventLoop::call_soon`](crate::EventLoop::call_soon).
    ///
    /// # Errors
    /// [`SpawnError::WrongThread`] off the running loop's thread;
    /// [`SpawnError::NeedsEventLoop`] on a multi-thread runtime.
    pub fn call_soon(
        &self,
        callback: impl FnOnce() + 'static,
    ) -> Result<CallbackHandle, SpawnError> {
        self.on_loop_thread(callback, |inner, callback| {
            CallbackHandle::new(inner.call_soon(callback))
        })
    }

    /// Schedules `callback` to run `delay` from now; only on the loop's thread
    /// while it runs. See [`EventLoop::call_later`](crate::EventLoop::call_later).
    ///
    /// # Errors
    /// [`SpawnError::WrongThread`] off the running loop's thread;
    /// [`SpawnError::NeedsEventLoop`] on a multi-thread runtime.
    pub fn call_later(
        &self,
        delay: Duration,
        callback: impl FnOnce() + 'static,
    ) -> Result<TimerHandle, SpawnError> {
        self.call_at(deadline_after(self.time(), delay), callback)
    }

    /// Schedules `callback` to run at `when`; only on the loop's thread while
    /// it runs. See [`EventLoop::call_at`](crate::EventLoop::call_at).
    ///
    /// # Errors
    /// [`SpawnError::WrongThread`] off the running loop's thread;
    /// [`SpawnError::NeedsEventLoop`] on a multi-thread runtime.
    pub fn call_at(
        &self,
        when: Instant,
        callback: impl FnOnce() + 'static,
    ) -> Result<TimerHandle, SpawnError> {
        self.on_loop_thread(callback, |inner, callback| inner.call_at(when, callback))
    }

    /// Spawns a `Send` future on the loop (or the runtime) from any thread.
    ///
    /// # Errors
    /// [`SpawnError::Closed`] once the loop is closed.
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> Result<JoinHandle<F::Output>, SpawnError>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let shared = match &self.flavor {
            Flavor::Loop(shared) => shared,
            Flavor::MultiThread(shared) => {
                let builder = TaskBuilder::new(None, Location::caller());
                return shared.spawn(future, builder, false);
            }
        };
        if shared.is_closed() {
            return Err(SpawnError::Closed);
        }
        let builder = TaskBuilder::new(None, Location::caller());
        let (runnable, handle, task) = task::spawn(future, shared.clone(), builder);
        shared.register(&task);
        // Local push on the loop's running thread, the remote queue elsewhere;
        // a loop closed meanwhile drops the Send future on this thread.
        shared.schedule(runnable);
        Ok(handle)
    }

    /// Submits `future` to the loop from another thread (asyncio's
    /// `run_coroutine_threadsafe`); the returned [`ConcurrentFuture`] can be
    /// waited on by a plain thread, with a timeout, or awaited.
    ///
    /// # Errors
    /// [`SpawnError::Closed`] once the loop is closed.
    #[track_caller]
    pub fn run_coroutine_threadsafe<F>(
        &self,
        future: F,
    ) -> Result<ConcurrentFuture<F::Output>, SpawnError>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.spawn(future).map(ConcurrentFuture::new)
    }

    /// Runs the blocking function `function` on the loop's blocking pool
    /// (asyncio's `run_in_executor(None, ...)`); see
    /// [`spawn_blocking`](crate::spawn_blocking).
    ///
    /// # Errors
    /// [`SpawnError::Closed`] once the loop is closed.
    #[track_caller]
    pub fn spawn_blocking<R>(
        &self,
        function: impl FnOnce() -> R + Send + 'static,
    ) -> Result<JoinHandle<R>, SpawnError>
    where
        R: Send + 'static,
    {
        if self.is_closed() {
            return Err(SpawnError::Closed);
        }
        let pool = match &self.flavor {
            Flavor::Loop(shared) => &shared.blocking,
            Flavor::MultiThread(shared) => &shared.blocking,
        };
        Ok(spawn_blocking_on(pool, function, Location::caller()))
    }

    /// asyncio's name for [`spawn_blocking`](Self::spawn_blocking).
    ///
    /// # Errors
    /// [`SpawnError::Closed`] once the loop is closed.
    #[track_caller]
    pub fn run_in_executor<R>(
        &self,
        function: impl FnOnce() -> R + Send + 'static,
    ) -> Result<JoinHandle<R>, SpawnError>
    where
        R: Send + 'static,
    {
        self.spawn_blocking(function)
    }

    /// Stops the loop after its current iteration (see
    /// [`EventLoop::stop`](crate::EventLoop::stop)); from any thread. On a
    /// multi-thread runtime, makes the running (or the next)
    /// [`block_on`](crate::Runtime::block_on) return
    /// [`RunError::Stopped`](crate::RunError::Stopped); the tasks run on.
    pub fn stop(&self) {
        match &self.flavor {
            Flavor::Loop(shared) => shared.request_stop(),
            Flavor::MultiThread(shared) => shared.request_stop(),
        }
    }

    /// Whether the loop is closed (the runtime shut down).
    pub fn is_closed(&self) -> bool {
        match &self.flavor {
            Flavor::Loop(shared) => shared.is_closed(),
            Flavor::MultiThread(shared) => shared.is_closed(),
        }
    }

    /// The loop's clock now (virtual time on a virtual-time loop).
    pub fn time(&self) -> Instant {
        match &self.flavor {
            Flavor::Loop(shared) => shared.reactor.now(),
            Flavor::MultiThread(shared) => shared.reactor.now(),
        }
    }

    /// Whether this handle reaches a multi-thread runtime (not an event loop).
    pub fn is_multi_thread(&self) -> bool {
        matches!(self.flavor, Flavor::MultiThread(_))
    }

    fn on_loop_thread<C, R>(
        &self,
        callback: C,
        f: impl FnOnce(&crate::event_loop::LoopInner, C) -> R,
    ) -> Result<R, SpawnError> {
        let shared = match &self.flavor {
            Flavor::Loop(shared) => shared,
            Flavor::MultiThread(_) => return Err(SpawnError::NeedsEventLoop),
        };
        context::try_local(shared, callback, |inner, callback| {
            if inner.closing.get() {
                Err(SpawnError::Closed)
            } else {
                Ok(f(inner, callback))
            }
        })
        .unwrap_or(Err(SpawnError::WrongThread))
    }
}

impl std::fmt::Debug for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handle")
            .field("closed", &self.is_closed())
            .finish_non_exhaustive()
    }
}

impl PartialEq for Handle {
    fn eq(&self, other: &Handle) -> bool {
        match (&self.flavor, &other.flavor) {
            (Flavor::Loop(a), Flavor::Loop(b)) => Arc::ptr_eq(a, b),
            (Flavor::MultiThread(a), Flavor::MultiThread(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl Eq for Handle {}
