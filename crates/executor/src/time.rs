//! Waiting on the loop's clock: [`sleep`], [`yield_now`], and deadlines on
//! other futures: [`timeout`], [`wait_for`] and the reschedulable
//! [`Timeout`] scope (asyncio's `asyncio.timeout`).
//!
//! Every deadline is on the running loop's clock, which is virtual on a
//! virtual-time loop: there, a sleep of an hour completes as soon as nothing
//! else can happen first.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use pin_project_lite::pin_project;
use tulip_reactor::{Reactor, Timer};

use crate::event_loop::shared::lock;
use crate::util::deadline_after;

/// The running loop's clock now, if a loop is running on this thread.
fn loop_now() -> Option<Instant> {
    Reactor::with_current(|reactor| reactor.now()).ok()
}

/// Waits until `duration` has passed on the loop's clock (asyncio's `sleep`).
///
/// ```
/// use std::time::Duration;
///
/// let event_loop = tulip_executor::EventLoop::builder().virtual_time().build()?;
/// let start = event_loop.time();
/// event_loop.run_until_complete(tulip_executor::sleep(Duration::from_secs(5)))?;
/// assert_eq!(event_loop.time() - start, Duration::from_secs(5));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn sleep(duration: Duration) -> Sleep {
    Sleep {
        timer: Timer::after(duration),
        suspended: false,
        yield_only: duration.is_zero(),
    }
}

/// Waits until the loop's clock reaches `deadline`.
///
/// ```
/// use std::time::Duration;
///
/// let event_loop = tulip_executor::EventLoop::builder().virtual_time().build()?;
/// let deadline = event_loop.time() + Duration::from_secs(2);
/// event_loop.run_until_complete(tulip_executor::sleep_until(deadline))?;
/// assert_eq!(event_loop.time(), deadline);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        timer: Timer::at(deadline),
        suspended: false,
        yield_only: false,
    }
}

/// The future of [`sleep`] and [`sleep_until`]. Dropping it cancels the timer.
///
/// Like every asyncio sleep, it suspends the task at least once, even for a
/// zero or past deadline: `sleep(Duration::ZERO)` is asyncio's `sleep(0)`,
/// which lets every other ready task run first.
#[derive(Debug)]
#[must_use = "a Sleep does nothing unless awaited"]
pub struct Sleep {
    timer: Timer,
    suspended: bool,
    /// `sleep(Duration::ZERO)`: asyncio's `sleep(0)`, a plain yield.
    yield_only: bool,
}

impl Sleep {
    /// When the sleep ends.
    pub fn deadline(&self) -> Instant {
        self.timer.deadline()
    }

    /// Moves the end of the sleep to `deadline`, earlier or later.
    pub fn reset(&mut self, deadline: Instant) {
        self.timer.reset(deadline);
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.suspended {
            return Pin::new(&mut self.timer).poll(cx);
        }
        // The first poll always suspends, as asyncio's sleeps do: a zero
        // sleep yields, any other arms its timer without reading the clock
        // (a deadline already due fires in the next iteration, when
        // asyncio's call_later-based sleep would resume too).
        self.suspended = true;
        if self.yield_only {
            cx.waker().wake_by_ref();
        } else {
            self.timer.register(cx);
        }
        Poll::Pending
    }
}

/// Lets every other ready task and callback run once before this task
/// continues (asyncio's `await asyncio.sleep(0)`; `sleep(Duration::ZERO)`
/// does the same).
///
/// ```
/// let event_loop = tulip_executor::EventLoop::new()?;
/// event_loop.run_until_complete(async {
///     let other = tulip_executor::spawn(async { 7 });
///     tulip_executor::yield_now().await;
///     assert!(other.is_finished());
/// })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

/// The future of [`yield_now`].
#[derive(Debug)]
#[must_use = "yield_now does nothing unless awaited"]
pub struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// A deadline passed before the future completed (asyncio's `TimeoutError`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the deadline passed before the operation completed")]
pub struct TimeoutError;

/// Runs `future` for at most `duration`; on time-out the future is dropped
/// (cancelled) and the result is [`TimeoutError`].
///
/// Each poll polls the future first, so a future that is ready gives its
/// value even if the deadline has passed meanwhile: a result is never
/// thrown away. That matches asyncio when the work was woken before the
/// deadline fell due. When both fall due in the same loop iteration (a
/// sleep as long as the timeout, on virtual time), the work wins here,
/// while asyncio's timeout wins if its timer was armed first.
///
/// ```
/// use std::time::Duration;
/// use tulip_executor::{sleep, timeout};
///
/// let event_loop = tulip_executor::EventLoop::builder().virtual_time().build()?;
/// let slow = event_loop.run_until_complete(timeout(Duration::from_secs(1), sleep(Duration::from_secs(3600))))?;
/// assert!(slow.is_err());
/// let quick = event_loop.run_until_complete(timeout(Duration::from_secs(1), async { 5 }))?;
/// assert_eq!(quick, Ok(5));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn timeout<F: Future>(duration: Duration, future: F) -> WithTimeout<F> {
    Timeout::after(duration).run(future)
}

/// Runs `future` until the loop's clock reaches `deadline` at most.
pub fn timeout_at<F: Future>(deadline: Instant, future: F) -> WithTimeout<F> {
    Timeout::at(Some(deadline)).run(future)
}

/// asyncio's `wait_for`: [`timeout`] where `None` means no limit. A future
/// that is ready at once gives its value even with a zero timeout.
///
/// ```
/// use std::time::Duration;
///
/// let event_loop = tulip_executor::EventLoop::new()?;
/// let ready = event_loop.run_until_complete(tulip_executor::wait_for(async { 1 }, Some(Duration::ZERO)))?;
/// assert_eq!(ready, Ok(1));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn wait_for<F: Future>(future: F, timeout: Option<Duration>) -> WithTimeout<F> {
    match timeout {
        Some(duration) => Timeout::after(duration).run(future),
        None => Timeout::at(None).run(future),
    }
}

/// A deadline that can move while work runs under it (asyncio's
/// `asyncio.timeout()` context manager and its `Timeout` object).
///
/// Clones share the deadline: hand one to the work so it can
/// [`reschedule`](Self::reschedule) itself.
///
/// ```
/// use std::time::Duration;
/// use tulip_executor::{Timeout, sleep};
///
/// let event_loop = tulip_executor::EventLoop::builder().virtual_time().build()?;
/// let start = event_loop.time();
/// let scope = Timeout::after(Duration::from_secs(1));
/// let inner = scope.clone();
/// let outcome = event_loop.run_until_complete(scope.run(async move {
///     // More time is needed: push the deadline back.
///     inner.reschedule(Some(inner.when().unwrap() + Duration::from_secs(10)));
///     sleep(Duration::from_secs(60)).await;
/// }))?;
/// assert!(outcome.is_err());
/// assert!(scope.expired());
/// assert_eq!(event_loop.time() - start, Duration::from_secs(11));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Timeout {
    state: Arc<Mutex<ScopeState>>,
}

#[derive(Debug)]
struct ScopeState {
    deadline: Option<Instant>,
    /// A delay given outside a running loop: it counts from the first poll,
    /// on the clock of the loop that polls (asyncio computes it on entry).
    delay: Option<Duration>,
    /// Bumped by every reschedule so the running future re-arms its timer.
    version: u64,
    expired: bool,
    waker: Option<Waker>,
}

impl Timeout {
    /// A scope whose deadline is `delay` from now on the running loop's
    /// clock; made outside a running loop, `delay` counts from the first poll
    /// of the work under the scope.
    pub fn after(delay: Duration) -> Timeout {
        match loop_now() {
            Some(now) => Timeout::at(Some(deadline_after(now, delay))),
            None => {
                let scope = Timeout::at(None);
                lock(&scope.state).delay = Some(delay);
                scope
            }
        }
    }

    /// A scope with the deadline `deadline`; `None` never expires until rescheduled.
    pub fn at(deadline: Option<Instant>) -> Timeout {
        Timeout {
            state: Arc::new(Mutex::new(ScopeState {
                deadline,
                delay: None,
                version: 0,
                expired: false,
                waker: None,
            })),
        }
    }

    /// The current deadline (asyncio's `Timeout.when()`); `None` for no
    /// deadline, or for a delay that has not started counting yet.
    pub fn when(&self) -> Option<Instant> {
        lock(&self.state).deadline
    }

    /// Moves the deadline, earlier or later, or removes it with `None`; the
    /// work running under the scope sees the new deadline at once.
    pub fn reschedule(&self, deadline: Option<Instant>) {
        let waker = {
            let mut state = lock(&self.state);
            state.deadline = deadline;
            state.delay = None;
            state.version += 1;
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Whether the deadline passed while work ran under the scope.
    pub fn expired(&self) -> bool {
        lock(&self.state).expired
    }

    /// Starts counting a delay given outside a running loop.
    fn resolve_delay(&self) {
        let mut state = lock(&self.state);
        if let Some(delay) = state.delay.take() {
            let now = loop_now().unwrap_or_else(Instant::now);
            state.deadline = Some(deadline_after(now, delay));
            state.version += 1;
        }
    }

    /// Runs `future` under the scope's deadline.
    pub fn run<F: Future>(&self, future: F) -> WithTimeout<F> {
        WithTimeout {
            future: Some(future),
            scope: self.clone(),
            timer: None,
            armed_version: u64::MAX,
        }
    }
}

pin_project! {
    /// The future of [`timeout`], [`wait_for`] and [`Timeout::run`]: the
    /// inner future's output, or [`TimeoutError`] once the deadline passes
    /// (the inner future is dropped then).
    #[must_use = "futures do nothing unless awaited"]
    pub struct WithTimeout<F> {
        #[pin]
        future: Option<F>,
        scope: Timeout,
        timer: Option<Timer>,
        armed_version: u64,
    }
}

impl<F: Future> Future for WithTimeout<F> {
    type Output = Result<F::Output, TimeoutError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let Some(future) = this.future.as_mut().as_pin_mut() else {
            return Poll::Ready(Err(TimeoutError));
        };
        // The deadline is fixed before the work first runs, as asyncio's
        // `async with timeout(...)` computes it on entry.
        this.scope.resolve_delay();
        if let Poll::Ready(output) = future.poll(cx) {
            this.future.set(None);
            return Poll::Ready(Ok(output));
        }
        {
            let mut state = lock(&this.scope.state);
            if !state
                .waker
                .as_ref()
                .is_some_and(|waker| waker.will_wake(cx.waker()))
            {
                state.waker = Some(cx.waker().clone());
            }
            if state.version != *this.armed_version {
                *this.armed_version = state.version;
                match (state.deadline, this.timer.as_mut()) {
                    (Some(deadline), Some(timer)) => timer.reset(deadline),
                    (Some(deadline), None) => *this.timer = Some(Timer::at(deadline)),
                    (None, _) => *this.timer = None,
                }
            }
        }
        let Some(timer) = this.timer.as_mut() else {
            return Poll::Pending;
        };
        match Pin::new(timer).poll(cx) {
            Poll::Ready(()) => {
                lock(&this.scope.state).expired = true;
                this.future.set(None);
                Poll::Ready(Err(TimeoutError))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}
