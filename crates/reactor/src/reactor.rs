//! The reactor: one mio poller, the registered sources, the timer store and the clock.
//!
//! Design.
//!
//! - `poller` (mio `Poll` + event buffer) is locked only by `park`; one thread polls at a
//!   time. `registry` (a clone of the poll's registry) registers and deregisters sources
//!   without that lock, so any thread may create or drop an [`Async`](crate::Async) while
//!   another is parked.
//! - `sources` maps the key half of a mio token to its [`Source`]; the other half of the
//!   token is a generation, so an event for a freed (and maybe reused) slot is ignored.
//! - `timers` is the [`TimerStore`], under one mutex (uncontended on a single loop).
//! - `wake_state` holds two bits: `PARKED` (set by `park` around a non-zero-timeout poll)
//!   and `NOTIFIED` (the OS waker was already signalled during this park). `notify` is a
//!   SeqCst fence then a load: no syscall, no shared write, unless the reactor is parked.
//!   `park` stores `PARKED`, fences, then asks the loop `still_idle()`; the caller of
//!   `notify` published its work before fencing. With a fence on each side, either `park`
//!   sees the work or `notify` sees `PARKED`, so a wake is never lost.
//! - A timer armed as the new earliest one while the reactor is parked signals the OS
//!   waker too: `park` re-reads the earliest deadline under the timer lock after setting
//!   `PARKED`, and the arming thread reads `PARKED` under that same lock, so one of them
//!   sees the other.
//!
//! - Several threads may park at once (a multi-thread runtime sharing one reactor):
//!   one holds `poller` and polls (`polling` set); the others sleep on `side_cv`
//!   (`side_waiters` counts them). `notify` wakes them as it wakes the poller (same
//!   fence-then-load pairing), and the poller wakes them when it stops polling, so one of
//!   them can take over. A side waiter re-reads `polling` after registering, so a
//!   poller that stopped just before is never waited for.
//!
//! Lock order: `poller` → `sources` → a source's waker lock; `timers` alone. Wakers are
//! always woken after every lock is released.

use std::fmt;
use std::io;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering, fence};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError, TryLockError};
use std::task::Waker;
use std::time::{Duration, Instant};

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};
use slab::Slab;

use crate::clock::Clock;
use crate::context::{self, EnterGuard, NoReactor};
use crate::source::{self, Source};
use crate::timer::store::{TimerKey, TimerStore};

/// Set while `park` polls with a non-zero timeout.
const PARKED: u8 = 1;
/// Set once the OS waker has been signalled during the current park.
const NOTIFIED: u8 = 2;

/// Bits of a token that hold the slab key; the rest hold the generation.
const KEY_BITS: u32 = usize::BITS / 2;
const KEY_MASK: usize = (1 << KEY_BITS) - 1;
/// The OS waker's token; no source token can equal it (keys stay below `KEY_MASK`).
const WAKER_TOKEN: Token = Token(usize::MAX);
const EVENTS_CAPACITY: usize = 1024;

/// Locks `mutex`, ignoring poisoning: every critical section here leaves its data
/// consistent even if a waker's destructor panicked inside it.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

struct Poller {
    poll: Poll,
    events: Events,
}

struct Sources {
    slab: Slab<Arc<Source>>,
    generation: usize,
}

/// I/O readiness, timers and the clock of one event loop.
///
/// A `Reactor` is shared as `Arc<Reactor>`; it is `Send + Sync`. The loop that owns it
/// calls [`park`](Reactor::park) and [`fire_timers`](Reactor::fire_timers); any thread may
/// call [`notify`](Reactor::notify), register [`Async`](crate::Async) sources or arm
/// [`Timer`](crate::Timer)s.
///
/// ```
/// use std::time::Duration;
/// use tulip_reactor::{Clock, Reactor};
///
/// let reactor = Reactor::with_clock(Clock::virtual_time())?;
/// assert_eq!(reactor.next_deadline(), None);
/// reactor.park(Some(Duration::ZERO), || true)?; // a non-blocking turn
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Reactor {
    clock: Clock,
    registry: mio::Registry,
    waker: mio::Waker,
    poller: Mutex<Poller>,
    wake_state: AtomicU8,
    /// Set while a thread holds `poller` (polling or about to).
    polling: AtomicBool,
    /// Threads sleeping in `wait_aside`.
    side_waiters: AtomicUsize,
    side: Mutex<()>,
    side_cv: Condvar,
    sources: Mutex<Sources>,
    timers: Mutex<TimerStore>,
    /// How many timers are armed, written under the `timers` lock after each
    /// change: an iteration with nothing armed skips the lock and the clock.
    timers_armed: AtomicUsize,
    /// Wakers currently registered on sources and not yet woken.
    io_waiters: AtomicUsize,
}

impl Reactor {
    /// A reactor on the real clock.
    ///
    /// # Errors
    ///
    /// If the OS refuses an epoll instance or an eventfd.
    ///
    /// ```
    /// let reactor = tulip_reactor::Reactor::new()?;
    /// assert!(!reactor.clock().is_virtual());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new() -> io::Result<Arc<Reactor>> {
        Reactor::with_clock(Clock::real())
    }

    /// A reactor on the given clock.
    ///
    /// # Errors
    ///
    /// If the OS refuses an epoll instance or an eventfd.
    ///
    /// ```
    /// use tulip_reactor::{Clock, Reactor};
    ///
    /// let reactor = Reactor::with_clock(Clock::virtual_time())?;
    /// assert!(reactor.clock().is_virtual());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn with_clock(clock: Clock) -> io::Result<Arc<Reactor>> {
        let poll = Poll::new()?;
        let registry = poll.registry().try_clone()?;
        let waker = mio::Waker::new(poll.registry(), WAKER_TOKEN)?;
        Ok(Arc::new(Reactor {
            clock,
            registry,
            waker,
            poller: Mutex::new(Poller {
                poll,
                events: Events::with_capacity(EVENTS_CAPACITY),
            }),
            wake_state: AtomicU8::new(0),
            polling: AtomicBool::new(false),
            side_waiters: AtomicUsize::new(0),
            side: Mutex::new(()),
            side_cv: Condvar::new(),
            sources: Mutex::new(Sources {
                slab: Slab::new(),
                generation: 0,
            }),
            timers: Mutex::new(TimerStore::default()),
            timers_armed: AtomicUsize::new(0),
            io_waiters: AtomicUsize::new(0),
        }))
    }

    /// This reactor's clock.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tulip_reactor::{Clock, Reactor};
    ///
    /// let reactor = Reactor::with_clock(Clock::virtual_time())?;
    /// let t0 = reactor.now();
    /// reactor.clock().advance(Duration::from_secs(1)).unwrap();
    /// assert_eq!(reactor.now() - t0, Duration::from_secs(1));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The current time of this reactor's clock.
    ///
    /// ```
    /// let reactor = tulip_reactor::Reactor::new()?;
    /// assert!(reactor.now() <= std::time::Instant::now());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[inline]
    pub fn now(&self) -> Instant {
        self.clock.now()
    }

    /// Waits for I/O readiness for at most `timeout` (`None`: until an event or a
    /// [`notify`](Reactor::notify)), and wakes the tasks waiting on sources that became
    /// ready (after every lock is released).
    ///
    /// For a non-zero timeout it first marks itself parked, then calls `still_idle()`;
    /// if that returns false (the loop found work, e.g. in its cross-thread queue) it
    /// polls with a zero timeout instead. On a real clock the wait is also cut short at
    /// the earliest armed timer's deadline. `still_idle` is not called for a zero timeout.
    ///
    /// One thread polls at a time. While another thread polls (and so delivers every
    /// event), a zero-timeout `park` returns at once, and a blocking one sleeps aside
    /// (after asking `still_idle()`) until a [`notify`](Reactor::notify), the end of
    /// the other thread's poll, or its timeout. `park` may return early; callers loop.
    ///
    /// # Errors
    ///
    /// The error of the underlying `epoll_wait` (an interrupted wait is not an error: it
    /// returns `Ok` early).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::thread;
    ///
    /// let reactor = tulip_reactor::Reactor::new()?;
    /// let r = Arc::clone(&reactor);
    /// let t = thread::spawn(move || r.park(None, || true));
    /// // Sooner or later the parked thread gets the notification.
    /// while !t.is_finished() {
    ///     reactor.notify();
    ///     thread::yield_now();
    /// }
    /// t.join().unwrap()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn park(
        &self,
        timeout: Option<Duration>,
        still_idle: impl FnOnce() -> bool,
    ) -> io::Result<()> {
        let poller = match self.poller.try_lock() {
            Ok(poller) => poller,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            // Another thread is polling and delivers the events.
            Err(TryLockError::WouldBlock) if timeout == Some(Duration::ZERO) => return Ok(()),
            Err(TryLockError::WouldBlock) => {
                self.wait_aside(timeout, still_idle);
                return Ok(());
            }
        };
        self.polling.store(true, Ordering::SeqCst);
        let result = self.poll_and_dispatch(poller, timeout, still_idle);
        self.polling.store(false, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        if self.side_waiters.load(Ordering::Relaxed) != 0 {
            // Let a thread waiting aside take over polling (or see its wakes).
            let _side = lock(&self.side);
            self.side_cv.notify_all();
        }
        result
    }

    /// Polls with the poller lock held, then wakes the ready sources' wakers after
    /// releasing every lock.
    fn poll_and_dispatch(
        &self,
        mut poller: MutexGuard<'_, Poller>,
        timeout: Option<Duration>,
        still_idle: impl FnOnce() -> bool,
    ) -> io::Result<()> {
        let timeout = if timeout == Some(Duration::ZERO) {
            timeout
        } else {
            self.wake_state.store(PARKED, Ordering::SeqCst);
            fence(Ordering::SeqCst);
            if still_idle() {
                self.clamp_to_timers(timeout)
            } else {
                Some(Duration::ZERO)
            }
        };
        let mut wakers = Vec::new();
        {
            let Poller { poll, events } = &mut *poller;
            let result = poll.poll(events, timeout);
            self.wake_state.store(0, Ordering::Release);
            match result {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(()),
                Err(e) => return Err(e),
            }
            if !events.is_empty() {
                let sources = lock(&self.sources);
                for event in events.iter() {
                    let token = event.token();
                    if token == WAKER_TOKEN {
                        continue;
                    }
                    match sources.slab.get(token.0 & KEY_MASK) {
                        Some(source) if source.token() == token.0 => {
                            source.dispatch(source::bits_of(event), &self.io_waiters, &mut wakers);
                        }
                        _ => {} // a stale event for a freed slot
                    }
                }
            }
        }
        drop(poller);
        for waker in wakers {
            waker.wake();
        }
        Ok(())
    }

    /// A second thread parking while another polls: it cannot poll itself, so it
    /// sleeps on the side condvar until `notify`, the end of the other thread's poll,
    /// or its timeout.
    fn wait_aside(&self, timeout: Option<Duration>, still_idle: impl FnOnce() -> bool) {
        let side = lock(&self.side);
        self.side_waiters.fetch_add(1, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        // If the poller finished meanwhile it may not have seen us: return and retry.
        if self.polling.load(Ordering::Relaxed) && still_idle() {
            let side = match timeout {
                None => self.side_cv.wait(side).map_err(PoisonError::into_inner),
                Some(t) => self
                    .side_cv
                    .wait_timeout(side, t)
                    .map(|(guard, _)| guard)
                    .map_err(|e| e.into_inner().0),
            };
            drop(side);
        } else {
            drop(side);
        }
        self.side_waiters.fetch_sub(1, Ordering::SeqCst);
    }

    /// Shortens `timeout` to the earliest timer deadline (real clock only).
    fn clamp_to_timers(&self, timeout: Option<Duration>) -> Option<Duration> {
        if self.clock.is_virtual() {
            return timeout;
        }
        // Read under the timer lock, never through the `timers_armed` shortcut: the
        // lock pairs this read with a timer armed on another thread (which reads
        // `PARKED` under it), so one of the two sees the other. Through the shortcut,
        // both could miss, and the reactor would sleep past the timer.
        let Some(deadline) = lock(&self.timers).next_deadline() else {
            return timeout;
        };
        let until = deadline.saturating_duration_since(Instant::now());
        Some(timeout.map_or(until, |t| t.min(until)))
    }

    /// Makes a parked (or about-to-park) [`park`](Reactor::park) return promptly.
    /// Callable from any thread.
    ///
    /// Publish the work first (e.g. push to the loop's queue), then call `notify`. The OS
    /// waker is signalled only while the reactor is parked, so waking a busy loop costs
    /// no syscall; a notification is never lost (see the module design).
    ///
    /// ```
    /// let reactor = tulip_reactor::Reactor::new()?;
    /// reactor.notify(); // not parked: nothing to do, and nothing is lost
    /// reactor.park(Some(std::time::Duration::ZERO), || true)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn notify(&self) {
        fence(Ordering::SeqCst);
        if self.wake_state.load(Ordering::Relaxed) & PARKED != 0 {
            self.signal();
        }
        if self.side_waiters.load(Ordering::Relaxed) != 0 {
            let _side = lock(&self.side);
            self.side_cv.notify_all();
        }
    }

    /// Signals the OS waker, once per park.
    fn signal(&self) {
        if self.wake_state.fetch_or(NOTIFIED, Ordering::AcqRel) & NOTIFIED == 0
            && let Err(error) = self.waker.wake()
        {
            tracing::error!(%error, "tulip reactor: signalling the poll waker failed");
        }
    }

    /// Wakes, in (deadline, arming order) order, every armed timer whose deadline is at
    /// or before [`now`](Reactor::now), disarming them; returns the earliest deadline
    /// still armed. The wakers run after the timer lock is released.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tulip_reactor::{Clock, Reactor};
    ///
    /// let reactor = Reactor::with_clock(Clock::virtual_time())?;
    /// assert_eq!(reactor.fire_timers(), None);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn fire_timers(&self) -> Option<Instant> {
        if self.timers_armed.load(Ordering::Acquire) == 0 {
            return None;
        }
        let mut wakers = Vec::new();
        let next = {
            let mut timers = lock(&self.timers);
            timers.pop_expired(self.now(), &mut wakers);
            self.timers_armed.store(timers.len(), Ordering::Release);
            timers.next_deadline()
        };
        for waker in wakers {
            waker.wake();
        }
        next
    }

    /// The earliest armed timer deadline, if any.
    ///
    /// ```
    /// let reactor = tulip_reactor::Reactor::new()?;
    /// assert_eq!(reactor.next_deadline(), None);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn next_deadline(&self) -> Option<Instant> {
        if self.timers_armed.load(Ordering::Acquire) == 0 {
            return None;
        }
        lock(&self.timers).next_deadline()
    }

    /// Number of timers currently armed in this reactor (introspection and tests).
    ///
    /// ```
    /// let reactor = tulip_reactor::Reactor::new()?;
    /// assert_eq!(reactor.armed_timers(), 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn armed_timers(&self) -> usize {
        lock(&self.timers).len()
    }

    /// Number of I/O sources currently registered with this reactor.
    ///
    /// ```
    /// let reactor = tulip_reactor::Reactor::new()?;
    /// assert_eq!(reactor.registered_sources(), 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn registered_sources(&self) -> usize {
        lock(&self.sources).slab.len()
    }

    /// Whether any task is waiting for I/O readiness on a source of this reactor (a
    /// registered waker not yet woken). A virtual clock may only jump when this is false.
    ///
    /// ```
    /// let reactor = tulip_reactor::Reactor::new()?;
    /// assert!(!reactor.io_awaited());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn io_awaited(&self) -> bool {
        self.io_waiters.load(Ordering::SeqCst) != 0
    }

    /// Makes this reactor the current one of this thread until the guard drops, which
    /// restores the previous one. Guards nest.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tulip_reactor::Reactor;
    ///
    /// let reactor = Reactor::new()?;
    /// {
    ///     let _guard = reactor.enter();
    ///     assert!(Arc::ptr_eq(&Reactor::current().unwrap(), &reactor));
    /// }
    /// assert!(Reactor::current().is_err());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn enter(self: &Arc<Self>) -> EnterGuard {
        context::enter(self)
    }

    /// The current reactor of this thread.
    ///
    /// # Errors
    ///
    /// [`NoReactor`] outside [`enter`](Reactor::enter).
    ///
    /// ```
    /// use tulip_reactor::{NoReactor, Reactor};
    ///
    /// assert_eq!(Reactor::current().err(), Some(NoReactor));
    /// ```
    pub fn current() -> Result<Arc<Reactor>, NoReactor> {
        context::with_current(Arc::clone)
    }

    /// Calls `f` with the current reactor of this thread, without cloning the `Arc`.
    ///
    /// # Errors
    ///
    /// [`NoReactor`] outside [`enter`](Reactor::enter).
    ///
    /// ```
    /// use tulip_reactor::Reactor;
    ///
    /// let reactor = Reactor::new()?;
    /// let _guard = reactor.enter();
    /// let virtual_clock = Reactor::with_current(|r| r.clock().is_virtual()).unwrap();
    /// assert!(!virtual_clock);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn with_current<R>(f: impl FnOnce(&Arc<Reactor>) -> R) -> Result<R, NoReactor> {
        context::with_current(f)
    }

    // ---- timers (used by `Timer`) ----

    /// Arms a timer that wakes `waker` once the clock reaches `deadline`,
    /// in (deadline, arming order) order among the timers due together. This
    /// is the low-level form of [`Timer`](crate::Timer), for schedulers that
    /// keep their own timed work (the event loop's `call_later`): the timer is
    /// armed even if `deadline` has already passed, and fires at the next
    /// [`fire_timers`](Self::fire_timers).
    ///
    /// ```
    /// use std::task::Waker;
    /// use std::time::Duration;
    /// use tulip_reactor::{Clock, Reactor};
    ///
    /// let reactor = Reactor::with_clock(Clock::virtual_time())?;
    /// let key = reactor.arm_timer(reactor.now() + Duration::from_secs(1), Waker::noop());
    /// assert_eq!(reactor.armed_timers(), 1);
    /// reactor.disarm_timer(key);
    /// assert_eq!(reactor.armed_timers(), 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn arm_timer(&self, deadline: Instant, waker: &Waker) -> TimerKey {
        let (id, top, parked) = {
            let mut timers = lock(&self.timers);
            let (id, top) = timers.insert(deadline, waker.clone());
            self.timers_armed.store(timers.len(), Ordering::Release);
            (id, top, self.is_parked())
        };
        if top && parked {
            self.signal();
        }
        id
    }

    /// Updates the waker of an armed timer, re-arming it if it is no longer armed.
    pub(crate) fn refresh_timer(&self, id: TimerKey, deadline: Instant, waker: &Waker) -> TimerKey {
        {
            let mut timers = lock(&self.timers);
            if timers.update_waker(id, waker) {
                return id;
            }
        }
        self.arm_timer(deadline, waker)
    }

    /// Moves an armed timer; `None` if it had already fired.
    pub(crate) fn reset_timer(&self, id: TimerKey, deadline: Instant) -> Option<TimerKey> {
        let (moved, parked) = {
            let mut timers = lock(&self.timers);
            (timers.reset(id, deadline), self.is_parked())
        };
        let (id, top) = moved?;
        if top && parked {
            self.signal();
        }
        Some(id)
    }

    /// Disarms a timer armed with [`arm_timer`](Self::arm_timer); a no-op if
    /// it already fired or was disarmed. Its slot is freed at once.
    pub fn disarm_timer(&self, id: TimerKey) {
        let mut timers = lock(&self.timers);
        timers.remove(id);
        self.timers_armed.store(timers.len(), Ordering::Release);
    }

    /// Read under the timer lock by arming threads (see the module design).
    fn is_parked(&self) -> bool {
        self.wake_state.load(Ordering::Relaxed) & PARKED != 0
    }

    // ---- sources (used by `Async`) ----

    /// Registers `fd` (edge-triggered, readable and writable).
    pub(crate) fn register(&self, fd: RawFd) -> io::Result<Arc<Source>> {
        let source = {
            let mut sources = lock(&self.sources);
            let entry = sources.slab.vacant_entry();
            let key = entry.key();
            if key >= KEY_MASK {
                return Err(io::Error::other(
                    "tulip reactor: too many registered I/O sources",
                ));
            }
            let generation = sources.generation;
            sources.generation = generation.wrapping_add(1);
            let token = ((generation & (usize::MAX >> KEY_BITS)) << KEY_BITS) | key;
            let source = Arc::new(Source::new(token, fd));
            sources.slab.insert(Arc::clone(&source));
            source
        };
        // Registered after the slab holds it, so no event can arrive for an unknown token.
        let registered =
            self.registry
                .register(&mut SourceFd(&fd), Token(source.token()), source_interest());
        if let Err(error) = registered {
            self.forget(&source);
            return Err(error);
        }
        Ok(source)
    }

    /// Deregisters a source and frees its slot, dropping its wakers without waking them.
    pub(crate) fn deregister(&self, source: &Source) -> io::Result<()> {
        let result = self.registry.deregister(&mut SourceFd(&source.fd()));
        self.forget(source);
        result
    }

    fn forget(&self, source: &Source) {
        let removed = {
            let mut sources = lock(&self.sources);
            let key = source.token() & KEY_MASK;
            match sources.slab.get(key) {
                Some(s) if s.token() == source.token() => Some(sources.slab.remove(key)),
                _ => None,
            }
        };
        let wakers = source.take_all_wakers(&self.io_waiters);
        drop(removed);
        drop(wakers);
    }

    pub(crate) fn io_waiters(&self) -> &AtomicUsize {
        &self.io_waiters
    }
}

impl fmt::Debug for Reactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reactor")
            .field("clock", &self.clock)
            .field("armed_timers", &self.armed_timers())
            .field("registered_sources", &self.registered_sources())
            .field("io_awaited", &self.io_awaited())
            .finish_non_exhaustive()
    }
}

/// What every source is registered for: reading and writing and, where the system
/// reports it, priority (TCP urgent data), so that a read stopped short at the urgent
/// mark is not taken for an empty queue (see `Source::mark_drained`).
fn source_interest() -> Interest {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let interest = Interest::READABLE | Interest::WRITABLE | Interest::PRIORITY;
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let interest = Interest::READABLE | Interest::WRITABLE;
    interest
}
