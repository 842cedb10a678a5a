//! [`StreamWriter`]: asyncio's writing half of a connection, with its background
//! flusher.

use std::collections::VecDeque;
use std::fmt;
use std::future::poll_fn;
use std::io::{self, IoSlice};
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker, ready};

use tulip_executor::Handle;

use crate::error::WriteError;
use crate::transport::{Connection, ExtraInfo, StreamAddr, clone_error, lock};

/// The default high-water mark of a writer's buffer: 64 KiB, as in asyncio.
pub const DEFAULT_HIGH_WATER: usize = 64 * 1024;
/// The default low-water mark of a writer's buffer: 16 KiB, as in asyncio.
pub const DEFAULT_LOW_WATER: usize = 16 * 1024;

/// The most slices handed to one vectored write.
const MAX_IOVECS: usize = 64;

/// The writing half of a connection (asyncio's `StreamWriter`), made together with its
/// [`StreamReader`](crate::StreamReader).
///
/// [`write`](StreamWriter::write) never waits and never loses data: it sends what the
/// connection takes at once and buffers the rest, which a background task on the event
/// loop sends, in order, as the connection accepts it, whether or not
/// [`drain`](StreamWriter::drain) is awaited (and even after the writer is dropped).
/// `drain` is the flow control: it waits while the buffer is above the high-water mark,
/// until it falls to the low-water mark (asyncio's pause and resume of writing).
///
/// Errors: once sending fails (a reset by the peer, say), the buffered bytes are
/// dropped and the error is returned by the next `write`, `drain` and `wait_closed`;
/// an error the [`StreamReader`](crate::StreamReader) saw is reported by them too.
///
/// Closing: [`write_eof`](StreamWriter::write_eof) ends the write half once the buffer
/// is sent (the peer reads EOF, and can still answer);
/// [`close`](StreamWriter::close) shuts both directions down once the buffer is sent,
/// and [`wait_closed`](StreamWriter::wait_closed) waits for that. The socket itself is
/// released when the reader, the writer and the background task are all gone.
///
/// All methods take `&self`; the writer is `Send + Sync` and can be shared (in an
/// `Arc`) by several tasks. It also implements [`futures_io::AsyncWrite`] (for
/// `StreamWriter` and `&StreamWriter`): `poll_write` waits as `drain` does, then takes
/// the whole slice; `poll_flush` waits until the buffer is sent; `poll_close` is
/// `write_eof` then a flush.
pub struct StreamWriter {
    shared: Arc<Shared>,
}

/// What the writer and its flusher task share.
struct Shared {
    conn: Arc<Connection>,
    /// The loop the writer was made on, if any: where the flusher is spawned when the
    /// writer is used off a running loop.
    handle: Option<Handle>,
    state: Mutex<State>,
    /// Whether `drain` would have to look into the state (paused, or failed): kept by
    /// every unlock, so that the common `drain` (nothing to wait for) takes no lock.
    drain_needs_state: AtomicBool,
}

/// The state, locked; unlocking it records whether `drain` needs to look at it.
struct StateGuard<'a> {
    guard: MutexGuard<'a, State>,
    drain_needs_state: &'a AtomicBool,
}

impl Deref for StateGuard<'_> {
    type Target = State;
    fn deref(&self) -> &State {
        &self.guard
    }
}

impl DerefMut for StateGuard<'_> {
    fn deref_mut(&mut self) -> &mut State {
        &mut self.guard
    }
}

impl Drop for StateGuard<'_> {
    fn drop(&mut self) {
        let needs = self.guard.paused || self.guard.error.is_some();
        if needs != self.drain_needs_state.load(Ordering::Relaxed) {
            self.drain_needs_state.store(needs, Ordering::Release);
        }
    }
}

struct State {
    buf: VecDeque<u8>,
    /// A flusher task owns the connection's write side (it alone polls writes).
    flushing: bool,
    error: Option<io::Error>,
    closing: bool,
    eof_requested: bool,
    /// The write half was shut down (after `write_eof`), or the connection closed.
    eof_sent: bool,
    closed: bool,
    high: usize,
    low: usize,
    /// Above the high-water mark, not yet back to the low one.
    paused: bool,
    waiters: Vec<Waker>,
}

impl State {
    fn wake_all(&mut self) {
        for waker in self.waiters.drain(..) {
            waker.wake();
        }
    }

    fn add_waiter(&mut self, waker: &Waker) {
        if !self.waiters.iter().any(|w| w.will_wake(waker)) {
            self.waiters.push(waker.clone());
        }
    }

    fn fail(&mut self, error: io::Error) {
        if self.error.is_none() {
            self.error = Some(error);
        }
        self.buf = VecDeque::new();
        self.paused = false;
        self.wake_all();
    }

    fn update_pause(&mut self) {
        if self.buf.len() > self.high {
            self.paused = true;
        } else if self.paused && self.buf.len() <= self.low {
            self.paused = false;
            self.wake_all();
        }
    }

    fn error(&self) -> Option<WriteError> {
        self.error.as_ref().map(|e| WriteError::Io(clone_error(e)))
    }
}

impl StreamWriter {
    pub(crate) fn new(conn: Arc<Connection>, high: usize, low: usize) -> StreamWriter {
        let low = low.min(high);
        StreamWriter {
            shared: Arc::new(Shared {
                conn,
                handle: Handle::current().ok(),
                drain_needs_state: AtomicBool::new(false),
                state: Mutex::new(State {
                    buf: VecDeque::new(),
                    flushing: false,
                    error: None,
                    closing: false,
                    eof_requested: false,
                    eof_sent: false,
                    closed: false,
                    high,
                    low,
                    paused: false,
                    waiters: Vec::new(),
                }),
            }),
        }
    }

    /// Writes `data` (asyncio's `write`) without waiting: what the connection does not
    /// take at once is buffered and sent in the background, in order.
    ///
    /// # Errors
    ///
    /// [`WriteError::Closing`] after [`close`](StreamWriter::close),
    /// [`WriteError::EofWritten`] after [`write_eof`](StreamWriter::write_eof),
    /// [`WriteError::Io`] once the connection has failed (nothing of `data` is then
    /// sent).
    pub fn write(&self, data: &[u8]) -> Result<(), WriteError> {
        self.write_all_of(&[data])
    }

    /// Writes each of `chunks` in order (asyncio's `writelines`), as one
    /// [`write`](StreamWriter::write).
    ///
    /// # Errors
    ///
    /// As [`write`](StreamWriter::write).
    pub fn writelines<I>(&self, chunks: I) -> Result<(), WriteError>
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        let chunks: Vec<I::Item> = chunks.into_iter().collect();
        let slices: Vec<&[u8]> = chunks.iter().map(AsRef::as_ref).collect();
        self.write_all_of(&slices)
    }

    fn write_all_of(&self, chunks: &[&[u8]]) -> Result<(), WriteError> {
        let mut st = self.shared.lock();
        if let Some(error) = st.error() {
            return Err(error);
        }
        if let Some(error) = self.shared.conn.read_error() {
            return Err(WriteError::Io(error));
        }
        if st.closing {
            return Err(WriteError::Closing);
        }
        if st.eof_requested {
            return Err(WriteError::EofWritten);
        }
        let mut skip = 0;
        if !st.flushing && st.buf.is_empty() {
            // Nobody else polls the write side: try to send at once.
            match self.send_now(chunks) {
                Ok(sent) => skip = sent,
                Err(e) => {
                    st.fail(clone_error(&e));
                    return Err(WriteError::Io(e));
                }
            }
        }
        let mut buffered = false;
        for chunk in chunks {
            if skip >= chunk.len() {
                skip -= chunk.len();
                continue;
            }
            st.buf.extend(&chunk[skip..]);
            skip = 0;
            buffered = true;
        }
        if buffered {
            st.update_pause();
            self.shared.kick(st);
        }
        Ok(())
    }

    /// Sends what the connection takes of `chunks` at once, without a waker (the
    /// flusher, if the rest needs one, registers its own); returns how many bytes went.
    fn send_now(&self, chunks: &[&[u8]]) -> io::Result<usize> {
        let cx = &mut Context::from_waker(Waker::noop());
        let polled = match chunks {
            [] => return Ok(0),
            // One chunk, the common case: a plain send(2), no slices to build.
            [[]] => return Ok(0),
            [chunk] => self.shared.conn.poll_write(cx, chunk),
            _ => {
                // At most MAX_IOVECS slices: sendmsg refuses more than IOV_MAX.
                let slices: Vec<IoSlice<'_>> = chunks
                    .iter()
                    .filter(|chunk| !chunk.is_empty())
                    .take(MAX_IOVECS)
                    .map(|chunk| IoSlice::new(chunk))
                    .collect();
                if slices.is_empty() {
                    return Ok(0);
                }
                self.shared.conn.poll_write_vectored(cx, &slices)
            }
        };
        match polled {
            Poll::Ready(Ok(n)) => Ok(n),
            Poll::Ready(Err(e))
                if matches!(
                    e.kind(),
                    io::ErrorKind::Interrupted | io::ErrorKind::WouldBlock
                ) =>
            {
                Ok(0)
            }
            Poll::Ready(Err(e)) => Err(e),
            Poll::Pending => Ok(0),
        }
    }

    /// Waits until the buffer can take more (asyncio's `drain`): returns at once unless
    /// the buffer went above the high-water mark, then waits until it is down to the
    /// low-water mark.
    ///
    /// # Errors
    ///
    /// [`WriteError::Io`] if the connection failed (seen by the writer or the reader);
    /// [`WriteError::NoRunningLoop`] if the buffer must be sent but no loop can run the
    /// background task.
    pub async fn drain(&self) -> Result<(), WriteError> {
        if !self.shared.drain_needs_state.load(Ordering::Acquire)
            && self.shared.conn.read_error().is_none()
        {
            // Neither paused nor failed: nothing to wait for.
            return Ok(());
        }
        poll_fn(|cx| self.shared.poll_wait(cx, |st| !st.paused)).await
    }

    /// Whether [`write_eof`](StreamWriter::write_eof) is supported (it is, on sockets).
    pub fn can_write_eof(&self) -> bool {
        self.shared.conn.can_write_eof()
    }

    /// Ends the write half once the buffer is sent (asyncio's `write_eof`): the peer
    /// reads EOF, and can still send; this side can still read. Later writes fail with
    /// [`WriteError::EofWritten`]. Does nothing if already done or closing.
    ///
    /// # Errors
    ///
    /// [`WriteError::Io`] if the connection failed, or ending the write half failed.
    pub fn write_eof(&self) -> Result<(), WriteError> {
        let mut st = self.shared.lock();
        if let Some(error) = st.error() {
            return Err(error);
        }
        if st.closing || st.eof_requested {
            return Ok(());
        }
        st.eof_requested = true;
        self.shared.kick(st);
        match self.shared.lock().error() {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }

    /// Closes the writer (asyncio's `close`): once the buffer is sent, the connection is
    /// shut down in both directions (the peer reads EOF; so does this side's reader).
    /// Later writes fail with [`WriteError::Closing`]. Await
    /// [`wait_closed`](StreamWriter::wait_closed) to know when it is done.
    pub fn close(&self) {
        let mut st = self.shared.lock();
        if st.closing {
            return;
        }
        st.closing = true;
        self.shared.kick(st);
    }

    /// Whether the writer is closed or closing (asyncio's `is_closing`): after
    /// [`close`](StreamWriter::close), or once the connection failed.
    pub fn is_closing(&self) -> bool {
        let st = self.shared.lock();
        st.closing || st.error.is_some()
    }

    /// Waits until the writer is closed (asyncio's `wait_closed`): the buffer sent and
    /// the connection shut down. Before [`close`](StreamWriter::close) is called, waits
    /// for it.
    ///
    /// # Errors
    ///
    /// [`WriteError::Io`] if the connection failed (buffered bytes were then lost);
    /// [`WriteError::NoRunningLoop`] if the buffer must be sent but no loop can run the
    /// background task.
    pub async fn wait_closed(&self) -> Result<(), WriteError> {
        poll_fn(|cx| self.shared.poll_wait(cx, |st| st.closed)).await
    }

    /// Sets the high- and low-water marks of the buffer (asyncio's
    /// `transport.set_write_buffer_limits`): [`drain`](StreamWriter::drain) waits once
    /// the buffer is above `high`, until it is at or below `low`.
    ///
    /// # Errors
    ///
    /// [`WriteError::InvalidLimits`] if `low > high`.
    pub fn set_write_buffer_limits(&self, high: usize, low: usize) -> Result<(), WriteError> {
        if low > high {
            return Err(WriteError::InvalidLimits { high, low });
        }
        let mut st = self.shared.lock();
        st.high = high;
        st.low = low;
        st.update_pause();
        Ok(())
    }

    /// The number of bytes buffered, not yet sent (asyncio's
    /// `transport.get_write_buffer_size`).
    pub fn write_buffer_size(&self) -> usize {
        self.shared.lock().buf.len()
    }

    /// The remote address (asyncio's `get_extra_info("peername")`), as it was when the
    /// streams were made (from `accept`, or asked of the socket then).
    pub fn peername(&self) -> Option<StreamAddr> {
        self.shared.conn.peer_addr()
    }

    /// asyncio's `get_extra_info(name)`: `"peername"` and `"sockname"` give the
    /// addresses (as [`peername`](StreamWriter::peername) and
    /// [`sockname`](StreamWriter::sockname)), `"socket"` the socket's descriptor; any
    /// other name gives `None` (asyncio's default).
    ///
    /// ```
    /// use tulip_reactor::net::UnixStream;
    /// use tulip_streams::{ExtraInfo, StreamOptions, from_unix_stream};
    ///
    /// tulip_executor::EventLoop::new()?.run_until_complete(async {
    ///     let (a, _b) = UnixStream::pair()?;
    ///     let (_reader, writer) = from_unix_stream(a, StreamOptions::new());
    ///     assert!(matches!(writer.get_extra_info("peername"), Some(ExtraInfo::Addr(_))));
    ///     assert!(matches!(writer.get_extra_info("socket"), Some(ExtraInfo::Socket(_))));
    ///     assert!(writer.get_extra_info("cipher").is_none());
    ///     Ok::<_, std::io::Error>(())
    /// })??;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn get_extra_info(&self, name: &str) -> Option<ExtraInfo> {
        match name {
            "peername" => self.peername().map(ExtraInfo::Addr),
            "sockname" => self.sockname().map(ExtraInfo::Addr),
            "socket" => self.shared.conn.raw_fd().map(ExtraInfo::Socket),
            _ => None,
        }
    }

    /// The local address (asyncio's `get_extra_info("sockname")`), asked of the socket
    /// at each call (it does not change while the connection lives).
    pub fn sockname(&self) -> Option<StreamAddr> {
        self.shared.conn.local_addr()
    }

    /// `poll_write` of `AsyncWrite`: waits as `drain` does, then writes all of `buf`.
    fn poll_write_async(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        ready!(self.shared.poll_wait(cx, |st| !st.paused))?;
        self.write(buf)?;
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush_async(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(
            self.shared
                .poll_wait(cx, |st| st.buf.is_empty() && !st.flushing)
        )?;
        Poll::Ready(Ok(()))
    }

    fn poll_close_async(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.write_eof()?;
        ready!(self.shared.poll_wait(cx, |st| st.eof_sent))?;
        Poll::Ready(Ok(()))
    }
}

impl fmt::Debug for StreamWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.shared.lock();
        f.debug_struct("StreamWriter")
            .field("buffered", &st.buf.len())
            .field("closing", &st.closing)
            .field("error", &st.error)
            .field("peer", &self.shared.conn.peer_addr())
            .finish()
    }
}

impl Shared {
    #[inline]
    fn lock(&self) -> StateGuard<'_> {
        StateGuard {
            guard: lock(&self.state),
            drain_needs_state: &self.drain_needs_state,
        }
    }

    /// Gets the buffer sent: starts the flusher if there are bytes and none runs, or,
    /// with nothing left to send, carries out a requested `write_eof` or `close`.
    /// Returns whether a flusher runs (false if it could not be spawned).
    fn kick(self: &Arc<Self>, mut st: StateGuard<'_>) -> bool {
        if st.flushing {
            return true;
        }
        if st.buf.is_empty() {
            self.finish(&mut st);
            return true;
        }
        st.flushing = true;
        drop(st);
        self.spawn_flusher()
    }

    /// With the buffer empty: shuts down what `write_eof` and `close` asked to.
    fn finish(&self, st: &mut State) {
        if st.closing && !st.closed {
            // A reset connection cannot be shut down (ENOTCONN); closing it is done.
            let _ = self.conn.close();
            st.closed = true;
            st.eof_sent = true;
        } else if st.eof_requested && !st.eof_sent {
            st.eof_sent = true;
            if let Err(e) = self.conn.shutdown_write() {
                st.fail(e);
            }
        }
        st.wake_all();
    }

    /// Spawns the flusher (with `flushing` already set), on the running loop or the
    /// loop the writer was made on. On failure the unspawned future's guard clears
    /// `flushing` again.
    fn spawn_flusher(self: &Arc<Self>) -> bool {
        let guard = FlusherGuard {
            shared: self.clone(),
            done: false,
        };
        let task = async move {
            let mut guard = guard;
            // Only one flusher runs at a time: it tells the connection who it is, so
            // that a server's `abort_clients` can stop it (and with it the socket).
            guard
                .shared
                .conn
                .set_flusher(tulip_executor::current_task());
            poll_fn(|cx| guard.shared.poll_flush(cx)).await;
            guard.done = true;
            guard.shared.conn.set_flusher(None);
        };
        let handle = Handle::current().ok().or_else(|| self.handle.clone());
        match handle {
            Some(handle) => handle.spawn(task).is_ok(),
            None => false,
        }
    }

    /// The flusher's work: sends the buffer until it is empty (then clears `flushing`
    /// and carries out `write_eof`/`close`) or the connection fails.
    fn poll_flush(&self, cx: &mut Context<'_>) -> Poll<()> {
        let mut st = self.lock();
        while !st.buf.is_empty() {
            if self.conn.is_aborted() {
                // Aborted from another thread while this flusher runs: what is
                // left is dropped, as asyncio's `abort` drops its buffer.
                st.fail(io::ErrorKind::ConnectionAborted.into());
                break;
            }
            let (a, b) = st.buf.as_slices();
            let slices = [IoSlice::new(a), IoSlice::new(b)];
            match self.conn.poll_write_vectored(cx, &slices) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok(0)) => st.fail(io::ErrorKind::WriteZero.into()),
                Poll::Ready(Ok(n)) => {
                    let len = st.buf.len();
                    st.buf.drain(..n.min(len));
                    st.update_pause();
                }
                Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
                Poll::Ready(Err(e)) => st.fail(e),
            }
        }
        st.flushing = false;
        self.finish(&mut st);
        Poll::Ready(())
    }

    /// Waits until `ready(state)`, or an error; restarts the flusher if the buffer must
    /// be sent and none runs.
    fn poll_wait(
        self: &Arc<Self>,
        cx: &mut Context<'_>,
        ready: impl Fn(&State) -> bool,
    ) -> Poll<Result<(), WriteError>> {
        let mut kicked = false;
        loop {
            let mut st = self.lock();
            if let Some(error) = st.error() {
                return Poll::Ready(Err(error));
            }
            if let Some(error) = self.conn.read_error() {
                return Poll::Ready(Err(WriteError::Io(error)));
            }
            if ready(&st) {
                return Poll::Ready(Ok(()));
            }
            if !st.flushing && !kicked {
                kicked = true;
                if !self.kick(st) {
                    return Poll::Ready(Err(WriteError::NoRunningLoop));
                }
                continue;
            }
            st.add_waiter(cx.waker());
            return Poll::Pending;
        }
    }
}

/// Clears `flushing` if the flusher task is dropped before it finished (its loop
/// closed, or it was never spawned), so that the next write or drain starts another.
struct FlusherGuard {
    shared: Arc<Shared>,
    done: bool,
}

impl Drop for FlusherGuard {
    fn drop(&mut self) {
        if !self.done {
            let mut st = self.shared.lock();
            st.flushing = false;
            st.wake_all();
        }
    }
}

impl futures_io::AsyncWrite for StreamWriter {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_async(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush_async(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_close_async(cx)
    }
}

impl futures_io::AsyncWrite for &StreamWriter {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_async(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush_async(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_close_async(cx)
    }
}
