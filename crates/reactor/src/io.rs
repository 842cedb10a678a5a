//! [`Async`]: an I/O handle registered with a reactor, and its readiness futures.
//!
//! The handle owns its I/O object and a [`Source`] shared with the reactor (which finds
//! it from event tokens). Operations are optimistic: they try the system call first and
//! wait for readiness only after `WouldBlock`, clearing the readiness they had observed
//! (see the protocol in `source.rs`). Waiting goes through one of two kinds of waker
//! registration: the `poll_*` methods use one slot per direction (the latest poller
//! wins), the `async` methods a [`Waiter`] that is withdrawn when its future is dropped.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::task::{Context, Poll, ready};

use crate::coop;
use crate::reactor::Reactor;
use crate::source::{Interest, Source};

/// An I/O object (a socket, a pipe, any file descriptor) registered with a reactor,
/// with async readiness.
///
/// `Async::new` puts the descriptor in non-blocking mode and registers it
/// (edge-triggered, for reading and writing). Dropping the handle deregisters it and
/// closes the object. `Async<T>` is `Send`/`Sync` when `T` is, and may be used from any
/// thread.
///
/// ```
/// use std::io::{Read, Write};
/// use std::os::unix::net::UnixStream;
/// use tulip_reactor::{Async, Reactor};
/// # fn block_on<F: std::future::Future>(r: &Reactor, f: F) -> F::Output {
/// #     let mut f = std::pin::pin!(f);
/// #     let cx = &mut std::task::Context::from_waker(std::task::Waker::noop());
/// #     loop {
/// #         if let std::task::Poll::Ready(v) = f.as_mut().poll(cx) { return v; }
/// #         r.park(None, || true).unwrap();
/// #     }
/// # }
///
/// let reactor = Reactor::new()?;
/// let _guard = reactor.enter();
/// let (a, b) = UnixStream::pair()?;
/// let (a, b) = (Async::new(a)?, Async::new(b)?);
/// block_on(&reactor, async {
///     b.write_with(|mut s| s.write(b"ping")).await?;
///     let mut buf = [0; 4];
///     let n = a.read_with(|mut s| s.read(&mut buf)).await?;
///     assert_eq!(&buf[..n], b"ping");
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Async<T: AsFd> {
    source: Arc<Source>,
    reactor: Arc<Reactor>,
    /// `None` only inside `into_inner` and `drop`.
    io: Option<T>,
}

impl<T: AsFd> Async<T> {
    /// Registers `io` with the current reactor.
    ///
    /// # Errors
    ///
    /// Without a current reactor, an error of kind [`io::ErrorKind::Other`] wrapping
    /// [`NoReactor`](crate::NoReactor); otherwise the error of `fcntl` or of the
    /// registration.
    ///
    /// ```
    /// use std::os::unix::net::UnixStream;
    /// use tulip_reactor::{Async, Reactor};
    ///
    /// let (a, _b) = UnixStream::pair()?;
    /// let reactor = Reactor::new()?;
    /// let _guard = reactor.enter();
    /// let a = Async::new(a)?;
    /// assert_eq!(reactor.registered_sources(), 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new(io: T) -> io::Result<Async<T>> {
        let reactor = Reactor::current().map_err(io::Error::other)?;
        Async::with_reactor(io, &reactor)
    }

    /// Registers `io` with `reactor`.
    ///
    /// # Errors
    ///
    /// The error of `fcntl` or of the registration.
    ///
    /// ```
    /// use std::os::unix::net::UnixStream;
    /// use tulip_reactor::{Async, Reactor};
    ///
    /// let reactor = Reactor::new()?;
    /// let (a, _b) = UnixStream::pair()?;
    /// let a = Async::with_reactor(a, &reactor)?;
    /// assert_eq!(reactor.registered_sources(), 1);
    /// drop(a);
    /// assert_eq!(reactor.registered_sources(), 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn with_reactor(io: T, reactor: &Arc<Reactor>) -> io::Result<Async<T>> {
        set_nonblocking(io.as_fd())?;
        Async::register_nonblocking(io, reactor)
    }

    /// Registers `io`, which the caller made non-blocking itself (a socket created or
    /// accepted with `SOCK_NONBLOCK`), with `reactor`: saves the `fcntl` calls.
    pub(crate) fn register_nonblocking(io: T, reactor: &Arc<Reactor>) -> io::Result<Async<T>> {
        let source = reactor.register(io.as_fd().as_raw_fd())?;
        Ok(Async {
            source,
            reactor: Arc::clone(reactor),
            io: Some(io),
        })
    }

    /// The I/O object.
    ///
    /// ```
    /// use std::os::unix::net::UnixStream;
    /// use tulip_reactor::{Async, Reactor};
    ///
    /// let reactor = Reactor::new()?;
    /// let (a, _b) = UnixStream::pair()?;
    /// let a = Async::with_reactor(a, &reactor)?;
    /// assert!(a.get_ref().peer_addr().is_ok());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn get_ref(&self) -> &T {
        self.io
            .as_ref()
            .expect("Async::io is present until into_inner or drop")
    }

    /// The reactor this handle is registered with.
    ///
    /// ```
    /// use std::os::unix::net::UnixStream;
    /// use std::sync::Arc;
    /// use tulip_reactor::{Async, Reactor};
    ///
    /// let reactor = Reactor::new()?;
    /// let a = Async::with_reactor(UnixStream::pair()?.0, &reactor)?;
    /// assert!(Arc::ptr_eq(a.reactor(), &reactor));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn reactor(&self) -> &Arc<Reactor> {
        &self.reactor
    }

    /// Deregisters the object and gives it back (still in non-blocking mode).
    ///
    /// # Errors
    ///
    /// If deregistration fails; the object is then closed.
    ///
    /// ```
    /// use std::os::unix::net::UnixStream;
    /// use tulip_reactor::{Async, Reactor};
    ///
    /// let reactor = Reactor::new()?;
    /// let a = Async::with_reactor(UnixStream::pair()?.0, &reactor)?;
    /// let _stream: UnixStream = a.into_inner()?;
    /// assert_eq!(reactor.registered_sources(), 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn into_inner(mut self) -> io::Result<T> {
        let io = self.io.take();
        self.reactor.deregister(&self.source)?;
        io.ok_or_else(|| io::Error::other("Async::into_inner: the I/O object is gone"))
    }

    /// Ready once the object is readable (or read-closed, or in error); otherwise
    /// registers `cx`'s waker in the single read slot, replacing the previous poller's.
    ///
    /// Readiness is a hint: it stays set until an operation through
    /// [`poll_read_with`](Async::poll_read_with) or [`read_with`](Async::read_with)
    /// observes `WouldBlock`.
    ///
    /// ```
    /// use std::io::Write;
    /// use std::os::unix::net::UnixStream;
    /// use std::task::{Context, Waker};
    /// use tulip_reactor::{Async, Reactor};
    ///
    /// let reactor = Reactor::new()?;
    /// let (a, mut b) = UnixStream::pair()?;
    /// let a = Async::with_reactor(a, &reactor)?;
    /// let cx = &mut Context::from_waker(Waker::noop());
    /// b.write_all(b"x")?;
    /// while a.poll_readable(cx).is_pending() {
    ///     reactor.park(None, || true)?;
    /// }
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn poll_readable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.source
            .poll_slot(Interest::Read, cx, self.io_waiters())
            .map(Ok)
    }

    /// Ready once the object is writable (or write-closed, or in error); otherwise
    /// registers `cx`'s waker in the single write slot, replacing the previous poller's.
    ///
    /// ```
    /// use std::os::unix::net::UnixStream;
    /// use std::task::{Context, Waker};
    /// use tulip_reactor::{Async, Reactor};
    ///
    /// let reactor = Reactor::new()?;
    /// let a = Async::with_reactor(UnixStream::pair()?.0, &reactor)?;
    /// let cx = &mut Context::from_waker(Waker::noop());
    /// while a.poll_writable(cx).is_pending() {
    ///     reactor.park(None, || true)?;
    /// }
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn poll_writable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.source
            .poll_slot(Interest::Write, cx, self.io_waiters())
            .map(Ok)
    }

    /// Waits until the object is readable (or read-closed, or in error). Every task
    /// awaiting this is woken by the event; dropping the future withdraws its waker.
    ///
    /// ```
    /// use std::io::Write;
    /// use std::os::unix::net::UnixStream;
    /// use tulip_reactor::{Async, Reactor};
    /// # fn block_on<F: std::future::Future>(r: &Reactor, f: F) -> F::Output {
    /// #     let mut f = std::pin::pin!(f);
    /// #     let cx = &mut std::task::Context::from_waker(std::task::Waker::noop());
    /// #     loop {
    /// #         if let std::task::Poll::Ready(v) = f.as_mut().poll(cx) { return v; }
    /// #         r.park(None, || true).unwrap();
    /// #     }
    /// # }
    ///
    /// let reactor = Reactor::new()?;
    /// let (a, mut b) = UnixStream::pair()?;
    /// let a = Async::with_reactor(a, &reactor)?;
    /// b.write_all(b"x")?;
    /// block_on(&reactor, a.readable())?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn readable(&self) -> io::Result<()> {
        let mut waiter = Waiter::new(&self.source, self.io_waiters(), Interest::Read);
        poll_fn(|cx| waiter.poll(cx)).await;
        Ok(())
    }

    /// Waits until the object is writable (or write-closed, or in error). Every task
    /// awaiting this is woken by the event; dropping the future withdraws its waker.
    ///
    /// ```
    /// use std::os::unix::net::UnixStream;
    /// use tulip_reactor::{Async, Reactor};
    /// # fn block_on<F: std::future::Future>(r: &Reactor, f: F) -> F::Output {
    /// #     let mut f = std::pin::pin!(f);
    /// #     let cx = &mut std::task::Context::from_waker(std::task::Waker::noop());
    /// #     loop {
    /// #         if let std::task::Poll::Ready(v) = f.as_mut().poll(cx) { return v; }
    /// #         r.park(None, || true).unwrap();
    /// #     }
    /// # }
    ///
    /// let reactor = Reactor::new()?;
    /// let a = Async::with_reactor(UnixStream::pair()?.0, &reactor)?;
    /// block_on(&reactor, a.writable())?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn writable(&self) -> io::Result<()> {
        let mut waiter = Waiter::new(&self.source, self.io_waiters(), Interest::Write);
        poll_fn(|cx| waiter.poll(cx)).await;
        Ok(())
    }

    /// Runs `op` until it stops returning `WouldBlock`. After a `WouldBlock` it clears
    /// the read readiness (unless an event arrived meanwhile) and waits, through the
    /// single read slot, for the next readable event. Spends one unit of the
    /// [`coop`] budget first.
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use std::os::unix::net::UnixStream;
    /// use std::task::{Context, Waker};
    /// use tulip_reactor::{Async, Reactor};
    ///
    /// let reactor = Reactor::new()?;
    /// let (a, mut b) = UnixStream::pair()?;
    /// let a = Async::with_reactor(a, &reactor)?;
    /// let cx = &mut Context::from_waker(Waker::noop());
    /// let mut buf = [0; 8];
    /// assert!(a.poll_read_with(cx, |mut s| s.read(&mut buf)).is_pending());
    /// b.write_all(b"hello")?;
    /// let n = loop {
    ///     if let std::task::Poll::Ready(n) = a.poll_read_with(cx, |mut s| s.read(&mut buf)) {
    ///         break n?;
    ///     }
    ///     reactor.park(None, || true)?;
    /// };
    /// assert_eq!(&buf[..n], b"hello");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn poll_read_with<R>(
        &self,
        cx: &mut Context<'_>,
        op: impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.poll_with(Interest::Read, cx, op, |_| false)
    }

    /// Runs `op` until it stops returning `WouldBlock`. After a `WouldBlock` it clears
    /// the write readiness (unless an event arrived meanwhile) and waits, through the
    /// single write slot, for the next writable event. Spends one unit of the
    /// [`coop`] budget first.
    ///
    /// ```
    /// use std::io::Write;
    /// use std::os::unix::net::UnixStream;
    /// use std::task::{Context, Poll, Waker};
    /// use tulip_reactor::{Async, Reactor};
    ///
    /// let reactor = Reactor::new()?;
    /// let (a, _b) = UnixStream::pair()?;
    /// let a = Async::with_reactor(a, &reactor)?;
    /// let cx = &mut Context::from_waker(Waker::noop());
    /// let polled = a.poll_write_with(cx, |mut s| s.write(b"hi"));
    /// assert!(matches!(polled, Poll::Ready(Ok(2))));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn poll_write_with<R>(
        &self,
        cx: &mut Context<'_>,
        op: impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.poll_with(Interest::Write, cx, op, |_| false)
    }

    /// Ready when a read may find data: before the first event (nothing is known yet)
    /// or while the read readiness is set; otherwise (a `WouldBlock` or a short read
    /// since the last event) waits for the next event through the single read slot.
    /// Readiness is exact after the first event: bits are cleared only when the queue
    /// was seen empty, and every arrival brings an event.
    pub(crate) fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<()> {
        if !self.source.has_events() && !self.source.is_drained(Interest::Read) {
            return Poll::Ready(());
        }
        self.source.poll_slot(Interest::Read, cx, self.io_waiters())
    }

    /// A byte-stream read into a buffer of `len` bytes (`op`, as for
    /// [`poll_read_with`](Async::poll_read_with)). A read that returns fewer bytes than
    /// asked for emptied the socket's receive queue, so the read readiness is cleared at
    /// once (unless an event arrived meanwhile): the next read waits for the next event
    /// instead of making a system call that would return `WouldBlock`. Read-closed and
    /// error stay set, so a FIN behind the data is still read as a 0.
    ///
    /// Only for byte streams: on a datagram socket a short read says nothing about the
    /// queue.
    pub(crate) fn poll_read_stream(
        &self,
        cx: &mut Context<'_>,
        len: usize,
        op: impl FnMut(&T) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        self.poll_with(Interest::Read, cx, op, |&n| short(n, len))
    }

    /// A byte-stream write of `len` bytes: as [`poll_read_stream`](Async::poll_read_stream)
    /// for writes, a write that takes fewer bytes than offered filled the send buffer,
    /// so the write readiness is cleared at once.
    pub(crate) fn poll_write_stream(
        &self,
        cx: &mut Context<'_>,
        len: usize,
        op: impl FnMut(&T) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        self.poll_with(Interest::Write, cx, op, |&n| short(n, len))
    }

    /// Runs `op` until it stops returning `WouldBlock`, clearing the readiness it
    /// observed on `WouldBlock` and, on a result that `drained` says emptied the queue
    /// (a short read or write), marking the direction drained; on a drained direction,
    /// waits for the next event before running `op`.
    fn poll_with<R>(
        &self,
        interest: Interest,
        cx: &mut Context<'_>,
        mut op: impl FnMut(&T) -> io::Result<R>,
        drained: impl Fn(&R) -> bool,
    ) -> Poll<io::Result<R>> {
        ready!(coop::poll_proceed(cx));
        loop {
            let tick = self.source.tick();
            if self.source.is_drained(interest) {
                // A short transfer emptied the queue: wait for an event instead of a
                // system call that would only say `WouldBlock`.
                ready!(self.source.poll_slot(interest, cx, self.io_waiters()));
            }
            match op(self.get_ref()) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.source.clear(interest, tick);
                    ready!(self.source.poll_slot(interest, cx, self.io_waiters()));
                }
                Ok(value) => {
                    if drained(&value) {
                        self.source.mark_drained(interest, tick);
                    }
                    return Poll::Ready(Ok(value));
                }
                result => return Poll::Ready(result),
            }
        }
    }

    /// Runs `op` until it stops returning `WouldBlock`, awaiting readability in
    /// between (clearing the readiness it observed, unless an event arrived meanwhile).
    /// Each attempt spends one unit of the [`coop`] budget. Cancel-safe: dropping the
    /// future withdraws its waker.
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use std::os::unix::net::UnixStream;
    /// use tulip_reactor::{Async, Reactor};
    /// # fn block_on<F: std::future::Future>(r: &Reactor, f: F) -> F::Output {
    /// #     let mut f = std::pin::pin!(f);
    /// #     let cx = &mut std::task::Context::from_waker(std::task::Waker::noop());
    /// #     loop {
    /// #         if let std::task::Poll::Ready(v) = f.as_mut().poll(cx) { return v; }
    /// #         r.park(None, || true).unwrap();
    /// #     }
    /// # }
    ///
    /// let reactor = Reactor::new()?;
    /// let (a, mut b) = UnixStream::pair()?;
    /// let a = Async::with_reactor(a, &reactor)?;
    /// b.write_all(b"abc")?;
    /// drop(b);
    /// let mut all = Vec::new();
    /// block_on(&reactor, a.read_with(|mut s| s.read_to_end(&mut all)))?;
    /// assert_eq!(all, b"abc");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn read_with<R>(&self, op: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        self.op_with(Interest::Read, op, |_| false).await
    }

    /// Runs `op` until it stops returning `WouldBlock`, awaiting writability in
    /// between (clearing the readiness it observed, unless an event arrived meanwhile).
    /// Each attempt spends one unit of the [`coop`] budget. Cancel-safe: dropping the
    /// future withdraws its waker.
    ///
    /// ```
    /// use std::io::Write;
    /// use std::os::unix::net::UnixStream;
    /// use tulip_reactor::{Async, Reactor};
    /// # fn block_on<F: std::future::Future>(r: &Reactor, f: F) -> F::Output {
    /// #     let mut f = std::pin::pin!(f);
    /// #     let cx = &mut std::task::Context::from_waker(std::task::Waker::noop());
    /// #     loop {
    /// #         if let std::task::Poll::Ready(v) = f.as_mut().poll(cx) { return v; }
    /// #         r.park(None, || true).unwrap();
    /// #     }
    /// # }
    ///
    /// let reactor = Reactor::new()?;
    /// let (a, _b) = UnixStream::pair()?;
    /// let a = Async::with_reactor(a, &reactor)?;
    /// let n = block_on(&reactor, a.write_with(|mut s| s.write(b"hello")))?;
    /// assert_eq!(n, 5);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn write_with<R>(&self, op: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        self.op_with(Interest::Write, op, |_| false).await
    }

    async fn op_with<R>(
        &self,
        interest: Interest,
        mut op: impl FnMut(&T) -> io::Result<R>,
        drained: impl Fn(&R) -> bool,
    ) -> io::Result<R> {
        let mut waiter = Waiter::new(&self.source, self.io_waiters(), interest);
        loop {
            poll_fn(coop::poll_proceed).await;
            let tick = self.source.tick();
            if self.source.is_drained(interest) {
                poll_fn(|cx| waiter.poll(cx)).await;
            }
            match op(self.get_ref()) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.source.clear(interest, tick);
                    poll_fn(|cx| waiter.poll(cx)).await;
                }
                Ok(value) => {
                    if drained(&value) {
                        self.source.mark_drained(interest, tick);
                    }
                    return Ok(value);
                }
                result => return result,
            }
        }
    }

    /// [`read_with`](Async::read_with) for a byte-stream read into `len` bytes, clearing
    /// the read readiness after a short read (see
    /// [`poll_read_stream`](Async::poll_read_stream)).
    pub(crate) async fn read_stream(
        &self,
        len: usize,
        op: impl FnMut(&T) -> io::Result<usize>,
    ) -> io::Result<usize> {
        self.op_with(Interest::Read, op, |&n| short(n, len)).await
    }

    /// [`write_with`](Async::write_with) for a byte-stream write of `len` bytes,
    /// clearing the write readiness after a short write.
    pub(crate) async fn write_stream(
        &self,
        len: usize,
        op: impl FnMut(&T) -> io::Result<usize>,
    ) -> io::Result<usize> {
        self.op_with(Interest::Write, op, |&n| short(n, len)).await
    }

    fn io_waiters(&self) -> &AtomicUsize {
        self.reactor.io_waiters()
    }
}

/// A future's registration in a source's waiter list; withdrawn on drop.
struct Waiter<'a> {
    source: &'a Source,
    io_waiters: &'a AtomicUsize,
    interest: Interest,
    key: Option<usize>,
}

impl<'a> Waiter<'a> {
    fn new(source: &'a Source, io_waiters: &'a AtomicUsize, interest: Interest) -> Waiter<'a> {
        Waiter {
            source,
            io_waiters,
            interest,
            key: None,
        }
    }

    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        self.source
            .poll_waiter(self.interest, &mut self.key, cx, self.io_waiters)
    }
}

impl Drop for Waiter<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.source
                .remove_waiter(self.interest, key, self.io_waiters);
        }
    }
}

impl<T: AsFd> Drop for Async<T> {
    fn drop(&mut self) {
        if let Some(io) = self.io.take() {
            // Deregister while the descriptor is still open, then close it.
            if let Err(error) = self.reactor.deregister(&self.source) {
                tracing::debug!(%error, "tulip reactor: deregistering a dropped source failed");
            }
            drop(io);
        }
    }
}

impl<T: AsFd> AsFd for Async<T> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.get_ref().as_fd()
    }
}

impl<T: AsFd> AsRawFd for Async<T> {
    fn as_raw_fd(&self) -> RawFd {
        self.source.fd()
    }
}

impl<T: AsFd + fmt::Debug> fmt::Debug for Async<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Async")
            .field("io", &self.io)
            .finish_non_exhaustive()
    }
}

/// Puts `fd` in non-blocking mode.
fn set_nonblocking(fd: BorrowedFd<'_>) -> io::Result<()> {
    let raw = fd.as_raw_fd();
    // SAFETY: F_GETFL on a descriptor kept open by the `BorrowedFd`; no pointers involved.
    let flags = unsafe { libc::fcntl(raw, libc::F_GETFL) };
    if flags < 0 {
        return Err(io::Error::last_os_error());
    }
    if flags & libc::O_NONBLOCK == 0 {
        // SAFETY: as above; F_SETFL takes an integer argument.
        let result = unsafe { libc::fcntl(raw, libc::F_SETFL, flags | libc::O_NONBLOCK) };
        if result < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Whether a byte-stream transfer of `n` bytes out of `len` offered stopped short: the
/// receive queue is empty (or the send buffer full). Zero is EOF (or nothing asked), not
/// a short transfer.
/// Reads into `buf`'s spare capacity with `read` (given that uninitialised room; it
/// must return how many bytes it wrote there, from the start), and appends them:
/// `Ok(0)` at once if there is no room. The one place where a read makes a `Vec`
/// longer without zeroing it first.
pub(crate) fn poll_append(
    buf: &mut Vec<u8>,
    read: impl FnOnce(&mut [std::mem::MaybeUninit<u8>]) -> Poll<io::Result<usize>>,
) -> Poll<io::Result<usize>> {
    let filled = buf.len();
    let spare = buf.spare_capacity_mut();
    let room = spare.len();
    if room == 0 {
        return Poll::Ready(Ok(0));
    }
    let n = ready!(read(spare))?.min(room);
    // SAFETY: `read` initialised the first `n` bytes of the spare capacity (its
    // contract; `min` keeps `n` within the room whatever it returned), so `filled + n`
    // bytes from the start of `buf` are initialised, within capacity.
    unsafe { buf.set_len(filled + n) };
    Poll::Ready(Ok(n))
}

fn short(n: usize, len: usize) -> bool {
    n > 0 && n < len
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::Shutdown;
    use std::os::unix::net::UnixStream;
    use std::task::{Context, Poll, Waker};

    use super::*;

    /// Parks `reactor` until `a` is readable.
    fn wait_readable(reactor: &Reactor, a: &Async<UnixStream>) {
        let cx = &mut Context::from_waker(Waker::noop());
        while a.poll_readable(cx).is_pending() {
            reactor.park(None, || true).unwrap();
        }
    }

    fn read_stream(a: &Async<UnixStream>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        let cx = &mut Context::from_waker(Waker::noop());
        let len = buf.len();
        a.poll_read_stream(cx, len, |mut s| s.read(buf))
    }

    #[test]
    fn a_short_read_clears_readable() {
        let reactor = Reactor::new().unwrap();
        let (a, mut b) = UnixStream::pair().unwrap();
        let a = Async::with_reactor(a, &reactor).unwrap();
        b.write_all(b"hello").unwrap();
        wait_readable(&reactor, &a);
        let mut buf = [0; 8];
        assert!(matches!(read_stream(&a, &mut buf), Poll::Ready(Ok(5))));
        let cx = &mut Context::from_waker(Waker::noop());
        assert!(
            a.poll_readable(cx).is_pending(),
            "a short read proves the queue empty"
        );
        assert!(a.source.is_drained(Interest::Read));
        assert!(read_stream(&a, &mut buf).is_pending());
        // New data still wakes the reader.
        b.write_all(b"more").unwrap();
        wait_readable(&reactor, &a);
        assert!(matches!(read_stream(&a, &mut buf), Poll::Ready(Ok(4))));
        assert_eq!(&buf[..4], b"more");
    }

    #[test]
    fn a_full_read_keeps_readable() {
        let reactor = Reactor::new().unwrap();
        let (a, mut b) = UnixStream::pair().unwrap();
        let a = Async::with_reactor(a, &reactor).unwrap();
        b.write_all(b"abcdefgh").unwrap();
        wait_readable(&reactor, &a);
        let mut buf = [0; 4];
        assert!(matches!(read_stream(&a, &mut buf), Poll::Ready(Ok(4))));
        // The queue may hold more: the next read must try.
        assert!(matches!(read_stream(&a, &mut buf), Poll::Ready(Ok(4))));
        assert_eq!(&buf, b"efgh");
    }

    #[test]
    fn a_short_read_before_eof_still_sees_eof() {
        let reactor = Reactor::new().unwrap();
        let (a, mut b) = UnixStream::pair().unwrap();
        let a = Async::with_reactor(a, &reactor).unwrap();
        b.write_all(b"x").unwrap();
        b.shutdown(Shutdown::Write).unwrap();
        // Both the data and the FIN are in before the reactor looks.
        wait_readable(&reactor, &a);
        reactor
            .park(Some(std::time::Duration::ZERO), || true)
            .unwrap();
        let mut buf = [0; 8];
        assert!(matches!(read_stream(&a, &mut buf), Poll::Ready(Ok(1))));
        // Read-closed survives the short read: EOF without another event.
        assert!(matches!(read_stream(&a, &mut buf), Poll::Ready(Ok(0))));
    }

    #[test]
    fn a_short_write_clears_writable() {
        let reactor = Reactor::new().unwrap();
        let (a, mut b) = UnixStream::pair().unwrap();
        let a = Async::with_reactor(a, &reactor).unwrap();
        let cx = &mut Context::from_waker(Waker::noop());
        while a.poll_writable(cx).is_pending() {
            reactor.park(None, || true).unwrap();
        }
        // Far more than the socket buffer: the write is short.
        let big = vec![7_u8; 16 << 20];
        let written = match a.poll_write_stream(cx, big.len(), |mut s| s.write(&big)) {
            Poll::Ready(Ok(n)) => n,
            other => panic!("expected a short write, got {other:?}"),
        };
        assert!(written > 0 && written < big.len());
        assert!(
            a.poll_writable(cx).is_pending(),
            "a short write proves the buffer full"
        );
        // Draining the peer makes it writable again.
        let mut sink = vec![0_u8; written];
        b.read_exact(&mut sink).unwrap();
        while a.poll_writable(cx).is_pending() {
            reactor.park(None, || true).unwrap();
        }
    }
}
