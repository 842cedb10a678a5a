//! Signal handlers on the loop (asyncio's `add_signal_handler` /
//! `remove_signal_handler`) and streams of signal arrivals ([`signal`]).
//!
//! A signal is never handled in signal context by user code: the process-wide
//! handler this module installs only writes one byte per arrival to a socket
//! per subscriber, and the subscriber's loop reads those bytes through its
//! reactor and runs the callback (or wakes the stream's task) on the loop's
//! thread, as asyncio does with its self-pipe.
//!
//! ```
//! use std::time::Duration;
//! use tulip_process::signal::signal;
//!
//! tulip_executor::run(async {
//!     let mut window_changes = signal(libc::SIGWINCH)?;
//!     // SAFETY (of the FFI call): kill with our own pid has no memory effects.
//!     unsafe { libc::kill(libc::getpid(), libc::SIGWINCH) };
//!     let arrived = tulip_executor::timeout(Duration::from_secs(10), window_changes.recv()).await;
//!     assert_eq!(arrived, Ok(Some(())));
//!     Ok::<(), Box<dyn std::error::Error>>(())
//! })??;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Design
//!
//! Handle types: a [`Signals`] is one subscription: a `Registration` in the
//! process-wide table (below) that owns the *write* end of a Unix socket pair,
//! and the *read* end registered with the current reactor. A handler set with
//! [`add_signal_handler`] is a [`Signals`] driven by a task on the loop that
//! calls the callback once per arrival; a thread-local table maps (loop,
//! signal) to that task so that a second `add_signal_handler` replaces the
//! first and [`remove_signal_handler`] finds it.
//!
//! Process-wide state, one `Slot` per signal number:
//! - `head`: a singly linked list of `Node`s, each holding the write end's
//!   descriptor (`fd`, or `-1` for a free node). Nodes are allocated once and
//!   never freed (they are reused), so the signal handler can walk the list
//!   without any lock and without ever meeting freed memory. Only the
//!   registration path (under `REGISTRY`'s mutex) pushes nodes or changes
//!   `fd`; the handler only reads.
//! - `in_flight`: how many executions of the signal handler are walking the
//!   list right now. A registration that clears its node's `fd` waits until
//!   this drops to zero before closing the descriptor, so a handler that read
//!   the old number never writes to a descriptor that was closed and reused
//!   by an unrelated `open` (all accesses are `SeqCst`: a handler that read the
//!   old `fd` incremented `in_flight` before the clear, so the waiter sees it).
//! - Under `REGISTRY`'s mutex (never touched by the handler): the number of
//!   live registrations and the disposition that was in place before this
//!   module installed its handler.
//!
//! The handler (`on_signal`) is async-signal-safe: it saves `errno`, does
//! lock-free atomic operations and `write(2)`s of one byte to non-blocking
//! sockets (a full socket drops the byte: arrivals then coalesce, as the OS
//! itself coalesces pending standard signals), and restores `errno`.
//!
//! # Why not `signal-hook-registry`
//!
//! `signal_hook_registry::unregister` removes the action but leaves the
//! library's handler installed for good (its documentation says so): a program
//! that removed its last SIGINT handler would then *ignore* Ctrl-C. Restoring
//! the old disposition behind its back with `sigaction` is not correct either:
//! the registry would still believe its handler installed and would not
//! reinstall it on the next registration, and other users of the registry in
//! the process (the `ctrlc` or `signal-hook` crates) would silently lose
//! their signals. Restoring correctly requires owning the disposition, so this
//! module installs its own handler with `sigaction` and keeps the previous
//! action: when the last subscription to a signal in the process goes away,
//! the previous action comes back (`SIG_DFL` for a program that never set
//! one, as asyncio restores).
//!
//! Semantics, as asyncio's: the handler *replaces* the previous disposition
//! while installed (the previous handler is not chained). If some other code
//! replaced this module's handler meanwhile, removing the last subscription
//! leaves that other handler in place. `SA_RESTART` is set (asyncio's
//! `siginterrupt(sig, False)`), so blocking system calls of other threads are
//! restarted rather than failing with `EINTR`.

use std::cell::RefCell;
use std::fmt;
use std::future::poll_fn;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::pin::Pin;
use std::ptr;
use std::rc::{Rc, Weak};
use std::sync::atomic::{AtomicI32, AtomicPtr, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};

use libc::c_int;
use tulip_executor::task::Builder;
use tulip_executor::{Handle, JoinHandle, SpawnError};
use tulip_reactor::{Async, Reactor};

/// One more than the largest signal number this module accepts (Linux's
/// `_NSIG`: signals 1 to 64). Numbers in range that the OS rejects give
/// [`SignalError::InvalidSignal`] too.
const NSIG: usize = 65;

/// Signals that cannot be caught (`SIGKILL`, `SIGSTOP`) or that are raised by
/// faults and cannot be handled by writing a byte and returning (`SIGSEGV`,
/// `SIGBUS`, `SIGILL`, `SIGFPE`: the faulting instruction would run again).
const FORBIDDEN: [c_int; 6] = [
    libc::SIGKILL,
    libc::SIGSTOP,
    libc::SIGSEGV,
    libc::SIGBUS,
    libc::SIGILL,
    libc::SIGFPE,
];

/// Why a signal could not be subscribed to, or a handler set or removed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignalError {
    /// The number is not a signal of this platform.
    #[error("{0} is not a valid signal number")]
    InvalidSignal(i32),
    /// The signal cannot be caught (`SIGKILL`, `SIGSTOP`) or is raised by a
    /// fault and cannot be handled on the loop (`SIGSEGV`, `SIGBUS`, `SIGILL`,
    /// `SIGFPE`).
    #[error("signal {0} cannot be handled")]
    Forbidden(i32),
    /// No tulip event loop (for handlers) or reactor (for streams) runs on
    /// this thread.
    #[error("no running event loop on this thread")]
    NoRunningLoop,
    /// The running loop is closing and accepts no new handler task.
    #[error("the event loop is closing")]
    LoopClosed,
    /// A signal handler (a `!Send` callback) was added on a multi-thread
    /// runtime, which runs only `Send` work.
    #[error(
        "signal handlers need an event loop; on a multi-thread runtime, await the stream \
         of tulip_process::signal::signal in a task instead"
    )]
    NeedsEventLoop,
    /// Creating the socket pair, registering it or installing the handler
    /// failed.
    #[error("signal handling I/O failed: {0}")]
    Io(#[from] io::Error),
}

/// A stream of arrivals of one signal, delivered on the loop whose reactor was
/// current when it was made; made by [`signal`].
///
/// Each arrival of the signal yields one item: [`recv`](Signals::recv)
/// returns `Some(())` once per delivery (deliveries coalesce only where the
/// OS coalesces them, i.e. a standard signal sent again while still pending,
/// or if more than the socket's buffer, about 200 000 arrivals, wait unread).
/// Every `Signals` for a signal gets every arrival, whatever loop or thread it
/// belongs to. Arrivals are buffered from the moment [`signal`] returns, even
/// while nobody awaits.
///
/// Dropping it unsubscribes; when it was the last subscription to its signal
/// in the process, the signal's previous disposition is restored.
#[must_use = "a Signals buffers arrivals until dropped; dropping it unsubscribes"]
pub struct Signals {
    // Field order matters: the registration (and with it the write end) is
    // dropped before the read end, so the handler never writes to a socket
    // whose peer is gone.
    registration: Registration,
    reader: Async<UnixStream>,
    /// Arrivals read from the socket but not yet returned.
    pending: usize,
    /// Set after reading the socket failed; the stream has ended.
    ended: bool,
}

impl Signals {
    /// The signal number this stream receives.
    ///
    /// ```
    /// tulip_executor::run(async {
    ///     let signals = tulip_process::signal::signal(libc::SIGURG)?;
    ///     assert_eq!(signals.signum(), libc::SIGURG);
    ///     Ok::<(), tulip_process::signal::SignalError>(())
    /// })??;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn signum(&self) -> i32 {
        self.registration.signum
    }

    /// Waits for the next arrival: `Some(())` once per delivery of the signal.
    ///
    /// `None` only if reading the internal socket failed, which the stream
    /// logs through `tracing`; the stream has then ended. Cancel-safe: an
    /// arrival is consumed only by a call that returns it.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// tulip_executor::run(async {
    ///     let mut urgent = tulip_process::signal::signal(libc::SIGURG)?;
    ///     for _ in 0..2 {
    ///         // SAFETY (of the FFI call): kill with our own pid has no memory effects.
    ///         unsafe { libc::kill(libc::getpid(), libc::SIGURG) };
    ///         // Wait for each arrival before sending the next: a standard signal
    ///         // sent while still pending is delivered once.
    ///         let arrived = tulip_executor::timeout(Duration::from_secs(10), urgent.recv()).await;
    ///         assert_eq!(arrived, Ok(Some(())));
    ///     }
    ///     Ok::<(), tulip_process::signal::SignalError>(())
    /// })??;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn recv(&mut self) -> Option<()> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Polls for the next arrival: `Ready(Some(()))` once per delivery,
    /// otherwise registers `cx`'s waker (the latest poller's waker wins).
    /// `Ready(None)` only after reading the internal socket failed.
    ///
    /// ```
    /// use std::task::{Context, Poll, Waker};
    ///
    /// tulip_executor::run(async {
    ///     let mut signals = tulip_process::signal::signal(libc::SIGURG)?;
    ///     let cx = &mut Context::from_waker(Waker::noop());
    ///     // Nothing was delivered since the subscription.
    ///     assert_eq!(signals.poll_recv(cx), Poll::Pending);
    ///     Ok::<(), tulip_process::signal::SignalError>(())
    /// })??;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<()>> {
        if self.pending > 0 {
            self.pending -= 1;
            return Poll::Ready(Some(()));
        }
        if self.ended {
            return Poll::Ready(None);
        }
        let mut buf = [0u8; 64];
        match self
            .reader
            .poll_read_with(cx, |mut socket| socket.read(&mut buf))
        {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Ok(n)) if n > 0 => {
                self.pending = n - 1;
                Poll::Ready(Some(()))
            }
            Poll::Ready(result) => {
                // End of file cannot happen while we hold the write end; an
                // error would be a reactor failure.
                let error = result.err().unwrap_or_else(|| {
                    io::Error::new(io::ErrorKind::UnexpectedEof, "signal socket closed")
                });
                tracing::error!(signum = self.signum(), %error, "tulip: reading signal arrivals failed");
                self.ended = true;
                Poll::Ready(None)
            }
        }
    }
}

impl futures_core::Stream for Signals {
    type Item = ();

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<()>> {
        self.get_mut().poll_recv(cx)
    }
}

impl fmt::Debug for Signals {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signals")
            .field("signum", &self.signum())
            .field("pending", &self.pending)
            .finish_non_exhaustive()
    }
}

/// Subscribes to `signum`: returns a stream of its arrivals, delivered on the
/// loop (the reactor) running on this thread. See [`Signals`].
///
/// The first subscription to a signal in the process installs the handler;
/// the disposition in place before comes back when the last one is dropped.
/// Holding a subscription costs two file descriptors and one reactor
/// registration, and nothing while no signal arrives.
///
/// ```
/// use std::time::Duration;
/// use tulip_process::signal::{SignalError, signal};
///
/// tulip_executor::run(async {
///     let mut changes = signal(libc::SIGWINCH)?;
///     // SAFETY (of the FFI call): kill with our own pid has no memory effects.
///     unsafe { libc::kill(libc::getpid(), libc::SIGWINCH) };
///     let arrived = tulip_executor::timeout(Duration::from_secs(10), changes.recv()).await;
///     assert_eq!(arrived, Ok(Some(())));
///     Ok::<(), SignalError>(())
/// })??;
/// assert!(matches!(signal(libc::SIGKILL), Err(SignalError::Forbidden(_))));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`SignalError::InvalidSignal`] for a number that is not a signal,
/// [`SignalError::Forbidden`] for a signal that cannot be handled,
/// [`SignalError::NoRunningLoop`] without a current reactor on this thread,
/// [`SignalError::Io`] if the socket pair, its registration or `sigaction`
/// failed.
pub fn signal(signum: i32) -> Result<Signals, SignalError> {
    let index = check_signal(signum)?;
    let reactor = Reactor::current().map_err(|_| SignalError::NoRunningLoop)?;
    subscribe(index, &reactor)
}

/// Makes a subscription of the valid signal `index` on `reactor`.
fn subscribe(index: usize, reactor: &Arc<Reactor>) -> Result<Signals, SignalError> {
    let (reader, writer) = UnixStream::pair()?;
    writer.set_nonblocking(true)?;
    let reader = Async::with_reactor(reader, reactor)?;
    let registration = Registration::new(index, writer)?;
    Ok(Signals {
        registration,
        reader,
        pending: 0,
        ended: false,
    })
}

/// Checks `signum` and returns its index in [`SLOTS`].
fn check_signal(signum: i32) -> Result<usize, SignalError> {
    if FORBIDDEN.contains(&signum) {
        return Err(SignalError::Forbidden(signum));
    }
    match usize::try_from(signum) {
        Ok(index) if (1..NSIG).contains(&index) && query(signum).is_ok() => Ok(index),
        _ => Err(SignalError::InvalidSignal(signum)),
    }
}

/// The action installed for `signum`; fails with `EINVAL` for a number the OS
/// does not accept (glibc, for one, keeps 32 and 33 for itself).
fn query(signum: c_int) -> io::Result<libc::sigaction> {
    // SAFETY: `sigaction` is a plain C struct for which all-zeroes is valid.
    let mut current: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: a null new action only queries; `current` is valid for writing.
    if unsafe { libc::sigaction(signum, ptr::null(), &raw mut current) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(current)
}

// ---------------------------------------------------------------------------
// Handlers on the loop.

/// A handler set on one loop for one signal.
struct HandlerEntry {
    /// The loop it was set on.
    event_loop: Handle,
    signum: i32,
    /// The handler task's subscription; the task owns the only strong count,
    /// so a loop that closes (dropping its tasks) also unsubscribes.
    signals: Weak<RefCell<Option<Signals>>>,
    task: JoinHandle<()>,
}

impl HandlerEntry {
    /// Whether the handler is still installed (its task has not been dropped).
    fn is_live(&self) -> bool {
        self.signals
            .upgrade()
            .is_some_and(|signals| signals.borrow().is_some())
    }

    /// Unsubscribes now (restoring the disposition if it was the last
    /// subscription) and cancels the task. Call without borrowing [`HANDLERS`]:
    /// cancelling may drop the task's future, hence the user's callback.
    fn remove(self) {
        if let Some(signals) = self.signals.upgrade() {
            let taken = signals.borrow_mut().take();
            drop(taken);
        }
        self.task.cancel();
    }
}

thread_local! {
    /// The handlers set on the loops of this thread.
    static HANDLERS: RefCell<Vec<HandlerEntry>> = const { RefCell::new(Vec::new()) };
}

/// Takes the entries for (`event_loop`, `signum`) out of [`HANDLERS`], dropping
/// dead entries on the way.
fn take_handlers(event_loop: &Handle, signum: i32) -> Vec<HandlerEntry> {
    HANDLERS.with(|handlers| {
        let mut handlers = handlers.borrow_mut();
        let (taken, kept) = std::mem::take(&mut *handlers)
            .into_iter()
            .filter(|entry| entry.is_live() && !entry.event_loop.is_closed())
            .partition(|entry| entry.event_loop == *event_loop && entry.signum == signum);
        *handlers = kept;
        taken
    })
}

/// Sets `callback` as the handler of `signum` on the loop running on this
/// thread (asyncio's `loop.add_signal_handler`): the loop calls it once per
/// arrival of the signal, on the loop's thread, never in signal context.
///
/// A handler already set for `signum` on this loop is replaced. A callback
/// that panics is reported through `tracing` and stays installed, as asyncio
/// reports a handler's exception and keeps the handler. The handler lives
/// until [`remove_signal_handler`] or until the loop closes.
///
/// ```
/// use std::rc::Rc;
/// use std::time::Duration;
/// use tulip_process::signal::{add_signal_handler, remove_signal_handler};
/// use tulip_sync::Event;
///
/// tulip_executor::run(async {
///     let urgent = Rc::new(Event::new());
///     let set = urgent.clone();
///     add_signal_handler(libc::SIGURG, move || set.set())?;
///     // SAFETY (of the FFI call): kill with our own pid has no memory effects.
///     unsafe { libc::kill(libc::getpid(), libc::SIGURG) };
///     let waited = tulip_executor::timeout(Duration::from_secs(10), urgent.wait()).await;
///     assert!(waited.is_ok());
///     assert!(remove_signal_handler(libc::SIGURG)?);
///     Ok::<(), tulip_process::signal::SignalError>(())
/// })??;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`SignalError::InvalidSignal`], [`SignalError::Forbidden`] as for
/// [`signal`]; [`SignalError::NoRunningLoop`] outside a running loop;
/// [`SignalError::NeedsEventLoop`] on a multi-thread runtime;
/// [`SignalError::LoopClosed`] while the loop is closing;
/// [`SignalError::Io`] if subscribing failed. On error, a handler already set
/// stays set.
pub fn add_signal_handler(
    signum: i32,
    callback: impl FnMut() + 'static,
) -> Result<(), SignalError> {
    let index = check_signal(signum)?;
    let event_loop = Handle::current().map_err(|_| SignalError::NoRunningLoop)?;
    if event_loop.is_multi_thread() {
        return Err(SignalError::NeedsEventLoop);
    }
    let reactor = Reactor::current().map_err(|_| SignalError::NoRunningLoop)?;
    // Subscribe before removing the handler being replaced: the count of
    // subscriptions never drops to zero, so the disposition does not flap.
    let signals = Rc::new(RefCell::new(Some(subscribe(index, &reactor)?)));
    let weak = Rc::downgrade(&signals);
    let task = Builder::new()
        .name(format!("signal handler for signal {signum}"))
        .spawn_local(run_handler(signum, signals, callback))
        .map_err(|error| match error {
            SpawnError::Closed => SignalError::LoopClosed,
            SpawnError::NeedsEventLoop => SignalError::NeedsEventLoop,
            _ => SignalError::NoRunningLoop,
        })?;
    let replaced = take_handlers(&event_loop, signum);
    HANDLERS.with(|handlers| {
        handlers.borrow_mut().push(HandlerEntry {
            event_loop,
            signum,
            signals: weak,
            task,
        });
    });
    for entry in replaced {
        entry.remove();
    }
    Ok(())
}

/// The handler task: one call of `callback` per arrival, until the
/// subscription is taken away by [`remove_signal_handler`] or a replacement.
async fn run_handler(
    signum: i32,
    signals: Rc<RefCell<Option<Signals>>>,
    mut callback: impl FnMut(),
) {
    loop {
        // Borrow only while polling: the callback may remove or replace this
        // handler, which takes the subscription out of the cell.
        let arrived = poll_fn(|cx| match signals.borrow_mut().as_mut() {
            Some(signals) => signals.poll_recv(cx),
            None => Poll::Ready(None),
        })
        .await;
        if arrived.is_none() {
            return;
        }
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(&mut callback));
        if let Err(payload) = outcome {
            let message = payload
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
                .unwrap_or("Box<dyn Any>");
            tracing::error!(signum, panic = message, "tulip: a signal handler panicked");
        }
    }
}

/// Removes the handler of `signum` set on the loop running on this thread
/// (asyncio's `loop.remove_signal_handler`): `true` if there was one.
///
/// The subscription ends at once: if it was the last one to `signum` in the
/// process, the disposition in place before tulip handled the signal is
/// restored before this returns (`SIG_DFL` in a program that never set one).
///
/// ```
/// use tulip_process::signal::{add_signal_handler, remove_signal_handler};
///
/// tulip_executor::run(async {
///     add_signal_handler(libc::SIGWINCH, || println!("resized"))?;
///     assert!(remove_signal_handler(libc::SIGWINCH)?);
///     assert!(!remove_signal_handler(libc::SIGWINCH)?);
///     Ok::<(), tulip_process::signal::SignalError>(())
/// })??;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`SignalError::InvalidSignal`], [`SignalError::Forbidden`] as for
/// [`signal`]; [`SignalError::NoRunningLoop`] outside a running loop.
pub fn remove_signal_handler(signum: i32) -> Result<bool, SignalError> {
    check_signal(signum)?;
    let event_loop = Handle::current().map_err(|_| SignalError::NoRunningLoop)?;
    let removed = take_handlers(&event_loop, signum);
    let any = !removed.is_empty();
    for entry in removed {
        entry.remove();
    }
    Ok(any)
}

// ---------------------------------------------------------------------------
// The process-wide registry and the signal handler.

/// One subscriber's place in a signal's list. Never freed: see the module docs.
struct Node {
    /// The write end of a subscriber's socket pair, or `-1` while the node is free.
    fd: AtomicI32,
    /// The next node; set before the node is published, never changed after.
    next: AtomicPtr<Node>,
}

/// What the signal handler reads for one signal number.
struct Slot {
    /// The list of subscribers' nodes (null when empty); only grows.
    head: AtomicPtr<Node>,
    /// Executions of the handler for this signal walking the list now.
    in_flight: AtomicUsize,
}

static SLOTS: [Slot; NSIG] = [const {
    Slot {
        head: AtomicPtr::new(ptr::null_mut()),
        in_flight: AtomicUsize::new(0),
    }
}; NSIG];

/// What only the registration path touches, for one signal number.
#[derive(Clone, Copy)]
struct Disposition {
    /// Live subscriptions.
    subscribers: usize,
    /// The action in place before our handler was installed; `Some` while
    /// `subscribers > 0`.
    previous: Option<libc::sigaction>,
}

static REGISTRY: Mutex<[Disposition; NSIG]> = Mutex::new(
    [Disposition {
        subscribers: 0,
        previous: None,
    }; NSIG],
);

fn registry() -> MutexGuard<'static, [Disposition; NSIG]> {
    // Every update of the table completes before a panic could occur, so a
    // poisoned table is still consistent.
    REGISTRY.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The process-wide signal handler. Async-signal-safe: atomics, `write(2)`,
/// and `errno` saved and restored.
extern "C" fn on_signal(signum: c_int) {
    let errno = errno_location();
    // SAFETY: `errno_location` returns this thread's errno, always valid.
    let saved = unsafe { *errno };
    if let Some(slot) = usize::try_from(signum).ok().and_then(|i| SLOTS.get(i)) {
        slot.in_flight.fetch_add(1, Ordering::SeqCst);
        let mut node = slot.head.load(Ordering::SeqCst);
        // SAFETY: nodes are leaked `Box`es that are never freed (module docs), so
        // any non-null pointer in the list is valid for the life of the process.
        while let Some(current) = unsafe { node.as_ref() } {
            let fd = current.fd.load(Ordering::SeqCst);
            if fd >= 0 {
                let byte = 1u8;
                // SAFETY: `fd` stays open until `in_flight` drops back to zero
                // (module docs); the buffer is one valid byte. A full socket
                // (EAGAIN) drops the byte: the arrival coalesces.
                unsafe { libc::write(fd, (&raw const byte).cast(), 1) };
            }
            node = current.next.load(Ordering::SeqCst);
        }
        slot.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
    // SAFETY: as above.
    unsafe { *errno = saved };
}

/// This thread's `errno`.
fn errno_location() -> *mut c_int {
    #[cfg(any(target_os = "linux", target_os = "emscripten", target_os = "hurd"))]
    // SAFETY: no preconditions; returns the calling thread's errno.
    let location = unsafe { libc::__errno_location() };
    #[cfg(target_os = "android")]
    // SAFETY: no preconditions; returns the calling thread's errno.
    let location = unsafe { libc::__errno() };
    #[cfg(any(target_vendor = "apple", target_os = "freebsd"))]
    // SAFETY: no preconditions; returns the calling thread's errno.
    let location = unsafe { libc::__error() };
    location
}

/// The address of [`on_signal`] as `sigaction` stores it.
fn handler_address() -> libc::sighandler_t {
    on_signal as extern "C" fn(c_int) as libc::sighandler_t
}

/// One subscription in the process-wide registry; owns the write end.
struct Registration {
    signum: i32,
    node: &'static Node,
    /// The write end, published in `node`; owned so that it stays open while
    /// published and closes when the registration drops.
    _writer: UnixStream,
}

impl Registration {
    /// Publishes `writer` in the list of signal `index` (valid, checked) and
    /// installs the handler if it is the first subscription.
    fn new(index: usize, writer: UnixStream) -> Result<Registration, SignalError> {
        let signum = index as c_int;
        let slot = &SLOTS[index];
        let mut registry = registry();
        let node = claim_node(slot, writer.as_raw_fd());
        let disposition = &mut registry[index];
        if disposition.subscribers == 0 {
            match install(signum) {
                Ok(previous) => disposition.previous = Some(previous),
                Err(error) => {
                    release_node(slot, node);
                    return Err(if error.raw_os_error() == Some(libc::EINVAL) {
                        SignalError::InvalidSignal(signum)
                    } else {
                        SignalError::Io(error)
                    });
                }
            }
        }
        disposition.subscribers += 1;
        Ok(Registration {
            signum,
            node,
            _writer: writer,
        })
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let index = self.signum as usize;
        let mut registry = registry();
        release_node(&SLOTS[index], self.node);
        let disposition = &mut registry[index];
        disposition.subscribers -= 1;
        if disposition.subscribers == 0
            && let Some(previous) = disposition.previous.take()
        {
            restore(self.signum, &previous);
        }
        // `self._writer` is closed after this returns: no execution of the
        // handler can still be writing to it.
    }
}

/// Publishes `fd` in a free node of `slot` (or a new one). Under the registry lock.
fn claim_node(slot: &Slot, fd: RawFd) -> &'static Node {
    let mut node = slot.head.load(Ordering::SeqCst);
    // SAFETY: nodes are never freed (module docs).
    while let Some(current) = unsafe { node.as_ref() } {
        // Only the registration path, which holds the lock, writes `fd`.
        if current.fd.load(Ordering::SeqCst) == -1 {
            current.fd.store(fd, Ordering::SeqCst);
            return current;
        }
        node = current.next.load(Ordering::SeqCst);
    }
    let node: &'static Node = Box::leak(Box::new(Node {
        fd: AtomicI32::new(fd),
        next: AtomicPtr::new(slot.head.load(Ordering::SeqCst)),
    }));
    slot.head
        .store(ptr::from_ref(node).cast_mut(), Ordering::SeqCst);
    node
}

/// Frees `node` and waits until no execution of the handler can still write
/// to its old descriptor. Under the registry lock.
fn release_node(slot: &Slot, node: &Node) {
    node.fd.store(-1, Ordering::SeqCst);
    // A handler that read the old descriptor is still counted (module docs). A
    // handler only makes a few non-blocking writes, and a handler that
    // interrupted this thread finished before we resumed, so this is short.
    while slot.in_flight.load(Ordering::SeqCst) != 0 {
        std::thread::yield_now();
    }
}

/// Installs [`on_signal`] for `signum`; returns the action it replaced.
fn install(signum: c_int) -> io::Result<libc::sigaction> {
    // SAFETY: `sigaction` is a plain C struct for which all-zeroes is valid.
    let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
    action.sa_sigaction = handler_address();
    action.sa_flags = libc::SA_RESTART;
    // SAFETY: `sa_mask` is a valid, writable `sigset_t`.
    unsafe { libc::sigemptyset(&raw mut action.sa_mask) };
    // SAFETY: as above, zeroes are a valid `sigaction` to be overwritten.
    let mut previous: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers are valid for the call; `on_signal` is
    // async-signal-safe (see its docs).
    if unsafe { libc::sigaction(signum, &raw const action, &raw mut previous) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(previous)
}

/// Puts `previous` back for `signum` if our handler is still the installed
/// one; leaves a handler someone else installed over ours in place.
fn restore(signum: c_int, previous: &libc::sigaction) {
    let current = match query(signum) {
        Ok(current) => current,
        Err(error) => {
            tracing::error!(signum, %error, "tulip: querying a signal's disposition failed");
            return;
        }
    };
    if current.sa_sigaction != handler_address() {
        tracing::debug!(
            signum,
            "tulip: another handler replaced tulip's; leaving it installed"
        );
        return;
    }
    // SAFETY: `previous` is the action `sigaction` gave us when we installed
    // ours, hence a valid action for this signal; the old-action pointer may
    // be null.
    if unsafe { libc::sigaction(signum, previous, ptr::null_mut()) } != 0 {
        let error = io::Error::last_os_error();
        tracing::error!(signum, %error, "tulip: restoring a signal's disposition failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_checked_before_anything_else() {
        for signum in FORBIDDEN {
            assert!(matches!(
                check_signal(signum),
                Err(SignalError::Forbidden(s)) if s == signum
            ));
        }
        for signum in [0, -1, NSIG as i32, i32::MIN, i32::MAX] {
            assert!(matches!(
                check_signal(signum),
                Err(SignalError::InvalidSignal(s)) if s == signum
            ));
        }
        assert_eq!(
            check_signal(libc::SIGUSR1).ok(),
            Some(libc::SIGUSR1 as usize)
        );
    }

    #[test]
    fn nodes_are_reused() {
        // A slot nobody delivers to: the handler is not installed by these calls.
        let slot = Slot {
            head: AtomicPtr::new(ptr::null_mut()),
            in_flight: AtomicUsize::new(0),
        };
        let _lock = registry();
        let a = claim_node(&slot, 100);
        let b = claim_node(&slot, 101);
        assert!(!ptr::eq(a, b));
        release_node(&slot, a);
        let c = claim_node(&slot, 102);
        assert!(ptr::eq(a, c), "the freed node is reused");
        assert_eq!(c.fd.load(Ordering::SeqCst), 102);
        release_node(&slot, b);
        release_node(&slot, c);
    }
}
