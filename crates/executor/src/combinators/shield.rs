//! asyncio's `shield`: protect work from the cancellation of whoever awaits it.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::task::{JoinError, JoinHandle};

/// Runs `future` as a task of its own and awaits it, so that cancelling the
/// awaiter does not cancel the work (asyncio's `shield`).
///
/// In Rust a future is cancelled by dropping it: a [`timeout`](crate::timeout)
/// that expires, a `select` that picks another branch, a cancelled task. If
/// the [`Shield`] is dropped that way, the inner task is detached and runs on
/// to completion; only the wait for it ends. If the inner task panics after
/// its `Shield` was dropped, the panic is reported as never retrieved.
///
/// The output is the inner task's result: `Err(JoinError)` if it panicked or
/// was cancelled through other means (the loop shutting down, or a
/// [`Task::cancel`](crate::Task::cancel) from [`all_tasks`](crate::all_tasks)).
///
/// The task is spawned at once, as asyncio's `shield(aw)` wraps its argument
/// in a task when called, with [`spawn`](crate::spawn): on the running loop,
/// or on the multi-thread [`Runtime`](crate::Runtime) this thread belongs to.
/// It starts in the loop's next iteration (at once with eager tasks). For a
/// future that is not `Send`, use [`shield_local`].
///
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicBool, Ordering};
/// use std::time::Duration;
/// use tulip_executor::{EventLoop, shield, sleep, timeout};
///
/// let event_loop = EventLoop::builder().virtual_time().build()?;
/// let saved = Arc::new(AtomicBool::new(false));
/// let flag = saved.clone();
/// event_loop.run_until_complete(async move {
///     let save = async move {
///         sleep(Duration::from_secs(5)).await;
///         flag.store(true, Ordering::Relaxed);
///     };
///     // The wait gives up after a second; the save carries on.
///     assert!(timeout(Duration::from_secs(1), shield(save)).await.is_err());
///     assert!(!saved.load(Ordering::Relaxed));
///     sleep(Duration::from_secs(10)).await;
///     assert!(saved.load(Ordering::Relaxed));
/// })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Panics
/// Outside a running loop or runtime, as [`spawn`](crate::spawn) does
/// (asyncio: "no running event loop"), or if it is closing. To shield work
/// that is already a task, or to get an error instead of a panic, spawn it
/// with [`task::Builder`](crate::task::Builder) and await its
/// [`JoinHandle`](crate::JoinHandle): dropping a handle never cancels the
/// task either.
#[track_caller]
pub fn shield<F>(future: F) -> Shield<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    Shield {
        handle: crate::spawn(future),
    }
}

/// [`shield`] for a future that need not be `Send`: spawned with
/// [`spawn_local`](crate::spawn_local), so on the running event loop only.
///
/// ```
/// use std::cell::Cell;
/// use std::rc::Rc;
/// use std::time::Duration;
/// use tulip_executor::combinators::shield_local;
/// use tulip_executor::{EventLoop, sleep, timeout};
///
/// let event_loop = EventLoop::builder().virtual_time().build()?;
/// let saved = Rc::new(Cell::new(false));
/// let flag = saved.clone();
/// event_loop.run_until_complete(async move {
///     let save = async move {
///         sleep(Duration::from_secs(5)).await;
///         flag.set(true);
///     };
///     // The wait gives up after a second; the save carries on.
///     assert!(timeout(Duration::from_secs(1), shield_local(save)).await.is_err());
///     assert!(!saved.get());
///     sleep(Duration::from_secs(10)).await;
///     assert!(saved.get());
/// })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Panics
/// Outside a running event loop, or if it is closing, as
/// [`spawn_local`](crate::spawn_local) does; and on a multi-thread
/// [`Runtime`](crate::Runtime), which runs only `Send` futures (use
/// [`shield`] there). To get an error instead of a panic, spawn with
/// [`task::Builder::spawn_local`](crate::task::Builder::spawn_local) and
/// await the [`JoinHandle`](crate::JoinHandle).
#[track_caller]
pub fn shield_local<F>(future: F) -> Shield<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    Shield {
        handle: crate::spawn_local(future),
    }
}

/// The future of [`shield`] and [`shield_local`]: the inner task's result. Dropping it detaches
/// the inner task, which runs on.
#[must_use = "the shielded task runs anyway; await the Shield for its result"]
#[derive(Debug)]
pub struct Shield<T> {
    handle: JoinHandle<T>,
}

impl<T> Shield<T> {
    /// Whether the inner task has finished.
    ///
    /// ```
    /// let event_loop = tulip_executor::EventLoop::new()?;
    /// event_loop.run_until_complete(async {
    ///     let shielded = tulip_executor::shield(async { 1 });
    ///     assert!(!shielded.is_finished());
    ///     tulip_executor::yield_now().await;
    ///     assert!(shielded.is_finished());
    ///     assert_eq!(shielded.await.unwrap(), 1);
    /// })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_finished(&self) -> bool {
        self.handle.is_finished()
    }

    /// The inner task's handle, to keep it after giving up the wait (or to
    /// cancel it after all).
    ///
    /// ```
    /// let event_loop = tulip_executor::EventLoop::new()?;
    /// let handle = event_loop.run_until_complete(async {
    ///     tulip_executor::shield(async { "kept" }).into_handle()
    /// })?;
    /// // The task outlived the Shield; its handle still gives the result.
    /// assert_eq!(event_loop.run_until_complete(handle)??, "kept");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn into_handle(self) -> JoinHandle<T> {
        self.handle
    }
}

impl<T> Future for Shield<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.handle).poll(cx)
    }
}
