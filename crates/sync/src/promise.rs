//! `Promise`: asyncio's `Future`, a value that is set once and awaited by any
//! number of tasks.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::error::{InvalidStateError, PromiseError};
use crate::state_lock::StateLock;
use crate::waiters::{WaiterKey, WaiterList, WakeList};

/// asyncio's `Future` (what `loop.create_future()` returns): a result that is
/// set once, by whoever holds the promise, and awaited by any number of tasks.
///
/// It is the bridge from callbacks to `async` code: a protocol's
/// `connection_lost` calls [`set_result`](Promise::set_result), and `main`
/// awaits the promise. Rust's `Future` is the trait every `async` value
/// implements, hence the other name.
///
/// - Clones are the same promise (an `Arc` inside), as passing asyncio's
///   future around passes one object.
/// - Awaiting gives each waiter a clone of the result, or
///   [`PromiseError::Cancelled`] once the promise is
///   [`cancel`](Promise::cancel)led. So awaiting needs `T: Clone`: wrap
///   other values in an `Arc`. The clone is made under the promise's lock
///   (so that `Promise<T>` is `Sync` for any `T: Send`): a `Clone` must not
///   touch the promise itself, and a large value is better behind an `Arc`.
/// - `promise.await` gives the handle up; `promise.wait().await` or
///   `(&promise).await` keep it.
/// - There is no `set_exception`: make the result a `Result`.
/// - Dropping a waiting task leaves the promise as it is. asyncio cancels the
///   awaited future when the task awaiting it is cancelled; here only
///   [`cancel`](Promise::cancel) does.
/// - There are no done-callbacks: spawn a task that awaits the promise.
///
/// ```
/// use tulip_sync::Promise;
///
/// # tulip_executor::EventLoop::new().unwrap().run_until_complete(async {
/// let done = Promise::new(); // asyncio: loop.create_future()
/// let waiter = tulip_executor::spawn({
///     let done = done.clone();
///     async move { done.await }
/// });
/// tulip_executor::yield_now().await; // the waiter is now waiting
/// done.set_result("closed").unwrap();
/// assert_eq!(waiter.await.unwrap(), Ok("closed"));
/// // A second result is refused, and handed back.
/// assert_eq!(done.set_result("again").unwrap_err().into_inner(), "again");
/// # }).unwrap();
/// ```
#[doc(alias = "Future")]
#[doc(alias = "create_future")]
pub struct Promise<T> {
    state: Arc<StateLock<State<T>>>,
}

/// The future of awaiting a [`Promise`] ([`Promise::wait`]).
#[must_use = "futures do nothing unless polled"]
pub struct PromiseWait<T> {
    state: Arc<StateLock<State<T>>>,
    key: Option<WaiterKey>,
}

struct State<T> {
    outcome: Outcome<T>,
    waiters: WaiterList<(), ()>,
}

enum Outcome<T> {
    Pending,
    Resolved(T),
    Cancelled,
}

impl<T> Promise<T> {
    /// A promise with no result yet.
    pub fn new() -> Self {
        Promise {
            state: Arc::new(StateLock::new(State {
                outcome: Outcome::Pending,
                waiters: WaiterList::new(),
            })),
        }
    }

    /// Sets the result and wakes every waiting task.
    ///
    /// # Errors
    ///
    /// [`InvalidStateError`], holding `value`, if the promise already has a
    /// result or was cancelled (asyncio's `InvalidStateError`).
    pub fn set_result(&self, value: T) -> Result<(), InvalidStateError<T>> {
        self.finish(value, Outcome::Resolved)
            .map_err(InvalidStateError::new)
    }

    /// Cancels the promise if it has no result yet; waiting tasks get
    /// [`PromiseError::Cancelled`]. Returns whether it was cancelled by this
    /// call (false once it is done), as asyncio's `cancel`.
    pub fn cancel(&self) -> bool {
        self.finish((), |()| Outcome::Cancelled).is_ok()
    }

    /// Whether the promise has a result or was cancelled.
    pub fn done(&self) -> bool {
        !matches!(self.state.lock().outcome, Outcome::Pending)
    }

    /// Whether the promise was cancelled.
    pub fn cancelled(&self) -> bool {
        matches!(self.state.lock().outcome, Outcome::Cancelled)
    }

    /// Moves a pending promise to `outcome(payload)`, waking every waiter;
    /// gives `payload` back if the promise was already done.
    fn finish<P>(&self, payload: P, outcome: impl FnOnce(P) -> Outcome<T>) -> Result<(), P> {
        let mut wakers = WakeList::new();
        {
            let mut state = self.state.lock();
            if !matches!(state.outcome, Outcome::Pending) {
                return Err(payload);
            }
            state.outcome = outcome(payload);
            state.waiters.grant_all(|()| (), &mut wakers);
        }
        wakers.wake_all();
        Ok(())
    }
}

impl<T: Clone> Promise<T> {
    /// Awaits the result (as `promise.await` does); any number of tasks may
    /// wait at once. Cancel-safe: a dropped wait takes nothing from the
    /// others.
    pub fn wait(&self) -> PromiseWait<T> {
        PromiseWait {
            state: Arc::clone(&self.state),
            key: None,
        }
    }

    /// The result, without waiting (asyncio's `result()`).
    ///
    /// # Errors
    ///
    /// [`PromiseError::NotDone`] while there is none yet;
    /// [`PromiseError::Cancelled`] if the promise was cancelled.
    pub fn result(&self) -> Result<T, PromiseError> {
        self.state.lock().outcome.result()
    }
}

impl<T> Outcome<T> {
    fn result(&self) -> Result<T, PromiseError>
    where
        T: Clone,
    {
        match self {
            Outcome::Pending => Err(PromiseError::NotDone),
            Outcome::Resolved(value) => Ok(value.clone()),
            Outcome::Cancelled => Err(PromiseError::Cancelled),
        }
    }
}

impl<T> Clone for Promise<T> {
    fn clone(&self) -> Self {
        Promise {
            state: Arc::clone(&self.state),
        }
    }
}

impl<T> Default for Promise<T> {
    fn default() -> Self {
        Promise::new()
    }
}

impl<T: Clone> IntoFuture for Promise<T> {
    type Output = Result<T, PromiseError>;
    type IntoFuture = PromiseWait<T>;

    /// `promise.await`, asyncio's `await fut`.
    fn into_future(self) -> PromiseWait<T> {
        self.wait()
    }
}

impl<T: Clone> IntoFuture for &Promise<T> {
    type Output = Result<T, PromiseError>;
    type IntoFuture = PromiseWait<T>;

    /// `(&promise).await`, without giving the promise up.
    fn into_future(self) -> PromiseWait<T> {
        self.wait()
    }
}

impl<T: Clone> Future for PromiseWait<T> {
    /// The result, or [`PromiseError::Cancelled`] (never `NotDone`).
    type Output = Result<T, PromiseError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let mut wakers = WakeList::new();
        let poll = {
            let mut state = this.state.lock();
            let done = !matches!(state.outcome, Outcome::Pending);
            let released =
                state
                    .waiters
                    .poll_released(&mut this.key, done, cx.waker(), &mut wakers);
            released.map(|()| state.outcome.result())
        };
        wakers.wake_all();
        poll
    }
}

impl<T> Drop for PromiseWait<T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            // Every waiter is released at once: nothing to pass on.
            let mut wakers = WakeList::new();
            self.state.lock().waiters.cancel(key, &mut wakers);
            wakers.wake_all();
        }
    }
}

impl<T> fmt::Debug for Promise<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.lock();
        let outcome = match state.outcome {
            Outcome::Pending => "pending",
            Outcome::Resolved(_) => "finished",
            Outcome::Cancelled => "cancelled",
        };
        f.debug_struct("Promise")
            .field("state", &outcome)
            .field("waiters", &state.waiters.len())
            .finish()
    }
}

impl<T> fmt::Debug for PromiseWait<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PromiseWait").finish_non_exhaustive()
    }
}
