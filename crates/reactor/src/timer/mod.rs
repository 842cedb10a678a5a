//! The [`Timer`] future.
//!
//! A timer is lazy: creating one touches nothing. Its first poll before the deadline
//! arms it in the current reactor's [`TimerStore`](store::TimerStore) and remembers that
//! reactor (an `Arc`), so it disarms there when dropped, whichever thread drops it. The
//! reactor's clock is the only judge of completion: `poll` is `Ready` exactly when
//! `reactor.now() >= deadline`.

pub(crate) mod store;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::reactor::Reactor;
pub use store::TimerKey;

/// About 30 years: the deadline of a timer whose duration would overflow `Instant`.
const FAR_FUTURE: Duration = Duration::from_secs(86_400 * 365 * 30);

/// A future that completes once the reactor's clock reaches its deadline.
///
/// It arms itself in the current reactor on its first poll, keeps the stored waker up
/// to date, and disarms on completion or drop (dropping cancels). Polled on a thread
/// without a current reactor, it still completes at its deadline (on the real clock) by
/// waking itself on every poll, and logs a warning once.
///
/// ```
/// use std::future::Future;
/// use std::pin::Pin;
/// use std::task::{Context, Waker};
/// use std::time::Duration;
/// use tulip_reactor::{Clock, Reactor, Timer};
///
/// let reactor = Reactor::with_clock(Clock::virtual_time())?;
/// let _guard = reactor.enter();
/// let mut timer = Timer::after(Duration::from_secs(60));
/// let cx = &mut Context::from_waker(Waker::noop());
/// assert!(Pin::new(&mut timer).poll(cx).is_pending());
/// assert_eq!(reactor.armed_timers(), 1);
/// reactor.clock().advance(Duration::from_secs(60)).unwrap();
/// reactor.fire_timers();
/// assert!(Pin::new(&mut timer).poll(cx).is_ready());
/// assert_eq!(reactor.armed_timers(), 0);
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Timer {
    deadline: Instant,
    /// The duration of a timer made with [`Timer::after`] on a thread with no
    /// current reactor: it counts from the first poll that finds one, on that
    /// reactor's clock (a virtual clock is unrelated to [`Instant::now`]).
    pending_delay: Option<Duration>,
    /// The reactor this timer armed in (kept once set).
    reactor: Option<Arc<Reactor>>,
    /// Set while (as far as we know) armed in `reactor`.
    armed: Option<TimerKey>,
    warned: bool,
}

impl Timer {
    /// A timer that completes at `deadline` (on the reactor's clock).
    ///
    /// ```
    /// use std::time::Instant;
    /// let deadline = Instant::now();
    /// assert_eq!(tulip_reactor::Timer::at(deadline).deadline(), deadline);
    /// ```
    pub fn at(deadline: Instant) -> Timer {
        Timer {
            deadline,
            pending_delay: None,
            reactor: None,
            armed: None,
            warned: false,
        }
    }

    /// A timer that completes `duration` after the current reactor's
    /// [`now`](Reactor::now). Made on a thread without a current reactor, the
    /// duration counts from the timer's first poll inside one (until then
    /// [`deadline`](Self::deadline) reports it from [`Instant::now`]). A
    /// duration too large for `Instant` means about 30 years.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tulip_reactor::{Clock, Reactor, Timer};
    ///
    /// let reactor = Reactor::with_clock(Clock::virtual_time())?;
    /// let _guard = reactor.enter();
    /// let timer = Timer::after(Duration::from_millis(5));
    /// assert_eq!(timer.deadline() - reactor.now(), Duration::from_millis(5));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn after(duration: Duration) -> Timer {
        match Reactor::with_current(|r| r.now()) {
            Ok(now) => Timer::at(add_saturating(now, duration)),
            Err(_) => {
                let mut timer = Timer::at(add_saturating(Instant::now(), duration));
                timer.pending_delay = Some(duration);
                timer
            }
        }
    }

    /// The instant at which this timer completes.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// let at = Instant::now() + Duration::from_secs(1);
    /// assert_eq!(tulip_reactor::Timer::at(at).deadline(), at);
    /// ```
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Reschedules the timer to `deadline` (asyncio's `Timeout.reschedule`), earlier or
    /// later, also after it already completed: it is then pending again until the new
    /// deadline. An armed timer moves in place and goes after every timer already armed
    /// at the same deadline.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tulip_reactor::{Clock, Reactor, Timer};
    ///
    /// let reactor = Reactor::with_clock(Clock::virtual_time())?;
    /// let _guard = reactor.enter();
    /// let mut timer = Timer::after(Duration::from_secs(1));
    /// timer.reset(reactor.now() + Duration::from_secs(3));
    /// assert_eq!(timer.deadline() - reactor.now(), Duration::from_secs(3));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn reset(&mut self, deadline: Instant) {
        self.deadline = deadline;
        self.pending_delay = None;
        if let (Some(reactor), Some(id)) = (&self.reactor, self.armed) {
            self.armed = reactor.reset_timer(id, deadline);
        }
    }

    /// Arms the timer to wake `cx`'s waker once the clock reaches the
    /// deadline, without first reading the clock: a timer that is already
    /// due fires at the reactor's next [`fire_timers`](Reactor::fire_timers).
    /// For callers that suspend anyway (asyncio's sleeps always do), it saves
    /// the clock read of a [`poll`](Future::poll). Without a current reactor
    /// it wakes `cx` at once, so that the caller polls again.
    ///
    /// ```
    /// use std::task::{Context, Waker};
    /// use std::time::Duration;
    /// use tulip_reactor::{Clock, Reactor, Timer};
    ///
    /// let reactor = Reactor::with_clock(Clock::virtual_time())?;
    /// let _guard = reactor.enter();
    /// let mut timer = Timer::after(Duration::from_secs(1));
    /// timer.register(&Context::from_waker(Waker::noop()));
    /// assert_eq!(reactor.armed_timers(), 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn register(&mut self, cx: &Context<'_>) {
        if let Some(reactor) = &self.reactor {
            arm_in(reactor, self.deadline, &mut self.armed, cx);
            return;
        }
        let registered = Reactor::with_current(|reactor| {
            if let Some(delay) = self.pending_delay.take() {
                self.deadline = add_saturating(reactor.now(), delay);
            }
            arm_in(reactor, self.deadline, &mut self.armed, cx);
            self.reactor = Some(Arc::clone(reactor));
        });
        if registered.is_err() {
            cx.waker().wake_by_ref();
        }
    }

    /// Whether the clock has reached the deadline: the clock of the reactor this timer
    /// armed in, else the current reactor's, else the real clock.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use tulip_reactor::Timer;
    ///
    /// assert!(Timer::at(Instant::now()).is_elapsed());
    /// assert!(!Timer::after(Duration::from_secs(3600)).is_elapsed());
    /// ```
    pub fn is_elapsed(&self) -> bool {
        let now = match &self.reactor {
            Some(reactor) => reactor.now(),
            None => Reactor::with_current(|r| r.now()).unwrap_or_else(|_| Instant::now()),
        };
        now >= self.deadline
    }
}

fn add_saturating(now: Instant, duration: Duration) -> Instant {
    now.checked_add(duration)
        .or_else(|| now.checked_add(FAR_FUTURE))
        .unwrap_or(now)
}

/// Polls a timer against `reactor`, arming it there if needed.
fn poll_in(
    reactor: &Reactor,
    deadline: Instant,
    armed: &mut Option<TimerKey>,
    cx: &mut Context<'_>,
) -> Poll<()> {
    if reactor.now() >= deadline {
        if let Some(id) = armed.take() {
            reactor.disarm_timer(id);
        }
        return Poll::Ready(());
    }
    arm_in(reactor, deadline, armed, cx);
    Poll::Pending
}

/// Arms (or re-arms with `cx`'s waker) a timer in `reactor`.
fn arm_in(reactor: &Reactor, deadline: Instant, armed: &mut Option<TimerKey>, cx: &Context<'_>) {
    *armed = Some(match *armed {
        Some(id) => reactor.refresh_timer(id, deadline, cx.waker()),
        None => reactor.arm_timer(deadline, cx.waker()),
    });
}

impl Future for Timer {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if let Some(reactor) = &this.reactor {
            return poll_in(reactor, this.deadline, &mut this.armed, cx);
        }
        let polled = Reactor::with_current(|reactor| {
            if let Some(delay) = this.pending_delay.take() {
                this.deadline = add_saturating(reactor.now(), delay);
            }
            let poll = poll_in(reactor, this.deadline, &mut this.armed, cx);
            if this.armed.is_some() {
                this.reactor = Some(Arc::clone(reactor));
            }
            poll
        });
        match polled {
            Ok(poll) => poll,
            Err(_) => {
                if Instant::now() >= this.deadline {
                    return Poll::Ready(());
                }
                if !this.warned {
                    this.warned = true;
                    tracing::warn!(
                        "tulip Timer polled outside a tulip runtime: it completes at its \
                         deadline only by waking itself on every poll"
                    );
                }
                cx.waker().wake_by_ref();
                Poll::Pending
            }
        }
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        if let (Some(reactor), Some(id)) = (&self.reactor, self.armed) {
            reactor.disarm_timer(id);
        }
    }
}

impl fmt::Debug for Timer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timer")
            .field("deadline", &self.deadline)
            .field("armed", &self.armed.is_some())
            .finish_non_exhaustive()
    }
}
