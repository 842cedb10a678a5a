//! [`ConcurrentFuture`]: a task's result seen from a plain thread (asyncio's
//! `concurrent.futures.Future` returned by `run_coroutine_threadsafe`).

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use crate::event_loop::shared::lock;
use crate::task::{JoinError, JoinHandle};

/// The result of a future submitted with
/// [`Handle::run_coroutine_threadsafe`](crate::Handle::run_coroutine_threadsafe):
/// a plain thread blocks on it with [`result`](Self::result), async code awaits it.
#[must_use = "dropping a ConcurrentFuture detaches the submitted task"]
#[derive(Debug)]
pub struct ConcurrentFuture<T> {
    // Locked only to poll or inspect, never while a thread waits, so `cancel`
    // and `done` from one thread never wait for `result` on another.
    handle: Mutex<JoinHandle<T>>,
    /// What the task's completion wakes: every thread blocked in `result`.
    signal: Arc<Signal>,
}

/// Why [`ConcurrentFuture::result`] gave no value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ThreadsafeError {
    /// The timeout passed first; the task goes on, and `result` may be called again.
    #[error("timed out waiting for the task's result")]
    Timeout,
    /// The task ended without a value: it panicked or was cancelled.
    #[error(transparent)]
    Task(#[from] JoinError),
}

impl<T> ConcurrentFuture<T> {
    pub(crate) fn new(handle: JoinHandle<T>) -> ConcurrentFuture<T> {
        ConcurrentFuture {
            handle: Mutex::new(handle),
            signal: Arc::new(Signal::default()),
        }
    }

    /// Blocks this thread until the task's output is there, or `timeout`
    /// passes (`None`: no limit). Do not call it on the loop's own thread:
    /// the loop could not run the task meanwhile. Several threads may wait at
    /// once: all are woken at completion, one receives the output and the
    /// others [`JoinError::OutputTaken`].
    ///
    /// ```
    /// use std::time::Duration;
    /// use tulip_executor::{EventLoop, ThreadsafeError};
    ///
    /// let event_loop = EventLoop::new()?;
    /// let handle = event_loop.handle();
    /// // Nothing runs the loop here, so the result cannot come.
    /// let future = handle.run_coroutine_threadsafe(async { 3 })?;
    /// assert!(matches!(future.result(Some(Duration::from_millis(1))), Err(ThreadsafeError::Timeout)));
    /// event_loop.run_until_complete(async {})?;
    /// assert_eq!(future.result(None)?, 3);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`ThreadsafeError::Timeout`] when the timeout passes first,
    /// [`ThreadsafeError::Task`] when the task panicked or was cancelled.
    pub fn result(&self, timeout: Option<Duration>) -> Result<T, ThreadsafeError> {
        let deadline = timeout.map(|timeout| Instant::now() + timeout);
        wait_for_handle(&self.handle, &self.signal, deadline)
    }

    /// Cancels the task (see [`JoinHandle::cancel`]).
    pub fn cancel(&self) -> bool {
        lock(&self.handle).cancel()
    }

    /// Whether the task has finished.
    pub fn done(&self) -> bool {
        lock(&self.handle).is_finished()
    }
}

impl<T> Future for ConcurrentFuture<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let handle = self
            .handle
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner);
        Pin::new(handle).poll(cx)
    }
}

/// Wakes every thread waiting in [`ConcurrentFuture::result`]: a generation
/// counter under a mutex, so a wake between a waiter's poll and its wait is
/// never lost.
#[derive(Debug, Default)]
struct Signal {
    generation: Mutex<u64>,
    changed: Condvar,
}

impl Wake for Signal {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        *lock(&self.generation) += 1;
        self.changed.notify_all();
    }
}

fn wait_for_handle<T>(
    handle: &Mutex<JoinHandle<T>>,
    signal: &Arc<Signal>,
    deadline: Option<Instant>,
) -> Result<T, ThreadsafeError> {
    // One waker for every waiter, so a second waiter does not displace the
    // first from the handle's single awaiter slot.
    let waker = Waker::from(signal.clone());
    let mut context = Context::from_waker(&waker);
    loop {
        let seen = *lock(&signal.generation);
        let polled = Pin::new(&mut *lock(handle)).poll(&mut context);
        if let Poll::Ready(output) = polled {
            return output.map_err(ThreadsafeError::from);
        }
        let mut generation = lock(&signal.generation);
        while *generation == seen {
            generation = match deadline {
                None => signal
                    .changed
                    .wait(generation)
                    .unwrap_or_else(PoisonError::into_inner),
                Some(deadline) => match deadline.checked_duration_since(Instant::now()) {
                    Some(left) if !left.is_zero() => {
                        signal
                            .changed
                            .wait_timeout(generation, left)
                            .unwrap_or_else(PoisonError::into_inner)
                            .0
                    }
                    _ => return Err(ThreadsafeError::Timeout),
                },
            };
        }
    }
}

/// Blocks the calling thread on `handle` (tests of the blocking pool).
#[cfg(test)]
pub(crate) fn block_on_handle<T>(
    handle: JoinHandle<T>,
    timeout: Option<Duration>,
) -> Result<Result<T, JoinError>, ()> {
    let deadline = timeout.map(|timeout| Instant::now() + timeout);
    match wait_for_handle(&Mutex::new(handle), &Arc::new(Signal::default()), deadline) {
        Ok(value) => Ok(Ok(value)),
        Err(ThreadsafeError::Task(error)) => Ok(Err(error)),
        Err(ThreadsafeError::Timeout) => Err(()),
    }
}
