//! [`Transport`]: asyncio's stream transport (a TCP or Unix-domain connection), the
//! state it shares with its driver, and the write path.

use std::collections::VecDeque;
use std::fmt;
use std::io::{self, IoSlice};
use std::net::Shutdown;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use tulip_reactor::net::{TcpStream, UnixStream};
use tulip_streams::{ClientControl, ExtraInfo, StreamAddr};

use crate::error::TransportError;
use crate::flow::{DriverWake, WaterMarks};

/// The most slices handed to one vectored send (`sendmsg` refuses more than `IOV_MAX`).
const MAX_IOVECS: usize = 64;

/// A stream connection's transport (asyncio's `Transport`), as its protocol sees it.
///
/// Cheap to clone (an `Arc` inside), `Send` and `Sync`, and usable inside the protocol's
/// callbacks: what a callback asks for (a write, a close, pausing reading) takes effect
/// at once, and what it causes in turn (`pause_writing`, `connection_lost`) is called
/// back after the callback returns, never from inside it.
///
/// Writing never blocks and never loses data: [`write`](Transport::write) sends what the
/// socket takes at once and buffers the rest, which the transport sends in order as the
/// socket accepts it. Above the high-water mark the protocol's `pause_writing` is
/// called, and `resume_writing` once the buffer is down to the low-water mark.
/// [`close`](Transport::close) sends what is buffered, then closes;
/// [`abort`](Transport::abort) drops it and closes at once. Either way the protocol's
/// `connection_lost` follows. Writes after a close (or after `write_eof`, where
/// asyncio raises) are ignored with a warning: they cannot be sent.
///
/// The socket is shut down when the connection ends (reset, for a server's
/// `abort_clients`); its descriptor is released when the last clone of the transport
/// is dropped.
#[derive(Clone)]
pub struct Transport {
    pub(crate) shared: Arc<Shared>,
}

impl Transport {
    /// Writes `data` without waiting: what the socket does not take at once is buffered
    /// and sent in order. Ignored (with a warning) after
    /// [`close`](Transport::close), [`abort`](Transport::abort),
    /// [`write_eof`](Transport::write_eof) or the end of the connection.
    pub fn write(&self, data: &[u8]) {
        self.shared.write(&[data]);
    }

    /// Writes each of `chunks` in order, as one [`write`](Transport::write) (asyncio's
    /// `writelines`).
    pub fn writelines<I>(&self, chunks: I)
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        let chunks: Vec<I::Item> = chunks.into_iter().collect();
        let slices: Vec<&[u8]> = chunks.iter().map(AsRef::as_ref).collect();
        self.shared.write(&slices);
    }

    /// Ends the write half once the buffer is sent: the peer reads EOF and can still
    /// answer. Later writes are ignored with a warning. Does nothing if already done,
    /// or once closing.
    pub fn write_eof(&self) {
        let mut st = self.shared.lock();
        if st.is_closing() || st.eof_requested {
            return;
        }
        st.eof_requested = true;
        st.driver.wake();
    }

    /// Whether [`write_eof`](Transport::write_eof) is supported (it is, for TCP and
    /// Unix-domain sockets).
    pub fn can_write_eof(&self) -> bool {
        true
    }

    /// Closes the transport (asyncio's `close`): reading stops at once, what is
    /// buffered is sent, then the connection is closed and the protocol's
    /// `connection_lost(None)` called. Closing again does nothing.
    pub fn close(&self) {
        self.shared.request_close();
    }

    /// Aborts the transport (asyncio's `abort`): the buffer is dropped, the connection
    /// shut down at once, and the protocol's `connection_lost(None)` called.
    pub fn abort(&self) {
        self.shared.request_abort();
    }

    /// Whether the transport is closing or closed: after
    /// [`close`](Transport::close) or [`abort`](Transport::abort), or once the
    /// connection ended.
    pub fn is_closing(&self) -> bool {
        self.shared.lock().is_closing()
    }

    /// Stops reading: no `data_received` until
    /// [`resume_reading`](Transport::resume_reading). Takes effect at once, also
    /// inside a callback.
    pub fn pause_reading(&self) {
        self.shared.lock().reading_paused = true;
    }

    /// Reads again after [`pause_reading`](Transport::pause_reading).
    pub fn resume_reading(&self) {
        let mut st = self.shared.lock();
        if st.reading_paused {
            st.reading_paused = false;
            st.driver.wake();
        }
    }

    /// Whether the transport reads: not paused, and not closing.
    pub fn is_reading(&self) -> bool {
        let st = self.shared.lock();
        !st.reading_paused && !st.is_closing()
    }

    /// Sets the write buffer's high- and low-water marks (asyncio's
    /// `set_write_buffer_limits`): `pause_writing` once the buffer is above `high`,
    /// `resume_writing` once it is back to `low` or below.
    ///
    /// # Errors
    ///
    /// [`TransportError::InvalidLimits`] if `low > high`.
    pub fn set_write_buffer_limits(&self, high: usize, low: usize) -> Result<(), TransportError> {
        let mut st = self.shared.lock();
        let buffered = st.buf.len();
        st.marks.set(high, low, buffered)?;
        st.driver.wake();
        Ok(())
    }

    /// The write buffer's `(high, low)` water marks.
    pub fn get_write_buffer_limits(&self) -> (usize, usize) {
        self.shared.lock().marks.get()
    }

    /// Whether the write buffer is above its high-water mark (and not yet back to the
    /// low one): what `pause_writing` announces, known at once. The protocol's
    /// `pause_writing` is called after the current callback returns, so a producer
    /// that writes in a loop inside a callback checks this instead:
    /// `while !transport.is_writing_paused() { transport.write(chunk) }`, then goes on
    /// in `resume_writing`.
    pub fn is_writing_paused(&self) -> bool {
        self.shared.lock().marks.over_high
    }

    /// The number of bytes buffered, not yet sent (asyncio's `get_write_buffer_size`).
    pub fn get_write_buffer_size(&self) -> usize {
        self.shared.lock().buf.len()
    }

    /// The remote address (asyncio's `get_extra_info("peername")`), as known when the
    /// connection was made.
    pub fn peername(&self) -> Option<StreamAddr> {
        self.shared.peer()
    }

    /// The local address (asyncio's `get_extra_info("sockname")`).
    pub fn sockname(&self) -> Option<StreamAddr> {
        self.shared.io.local_addr()
    }

    /// asyncio's `get_extra_info(name)`: `"peername"` and `"sockname"` give the
    /// addresses, `"socket"` the socket's descriptor (owned by the transport: do not
    /// close it); any other name gives `None`.
    pub fn get_extra_info(&self, name: &str) -> Option<ExtraInfo> {
        match name {
            "peername" => self.peername().map(ExtraInfo::Addr),
            "sockname" => self.sockname().map(ExtraInfo::Addr),
            "socket" => Some(ExtraInfo::Socket(self.shared.io.raw_fd())),
            _ => None,
        }
    }
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.shared.lock();
        f.debug_struct("Transport")
            .field("peer", &self.shared.peer)
            .field("buffered", &st.buf.len())
            .field("closing", &st.is_closing())
            .field("reading", &!st.reading_paused)
            .finish()
    }
}

/// The socket under a transport (public only to the sealed receiving trait).
#[derive(Debug)]
pub enum Io {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Io {
    /// Ready unless a short read emptied the socket since its last event (TCP).
    pub(crate) fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<()> {
        match self {
            Io::Tcp(s) => s.poll_read_ready(cx),
            Io::Unix(s) => s.poll_read_ready(cx),
        }
    }

    pub(crate) fn poll_read(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        match self {
            Io::Tcp(s) => s.poll_read(cx, buf),
            Io::Unix(s) => s.poll_read(cx, buf),
        }
    }

    fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self {
            Io::Tcp(s) => s.poll_write(cx, buf),
            Io::Unix(s) => s.poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self {
            Io::Tcp(s) => s.poll_write_vectored(cx, bufs),
            Io::Unix(s) => s.poll_write_vectored(cx, bufs),
        }
    }

    fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        match self {
            Io::Tcp(s) => s.shutdown(how),
            Io::Unix(s) => s.shutdown(how),
        }
    }

    fn local_addr(&self) -> Option<StreamAddr> {
        match self {
            Io::Tcp(s) => s.local_addr().ok().map(StreamAddr::Inet),
            Io::Unix(s) => s.local_addr().ok().map(StreamAddr::Unix),
        }
    }

    fn raw_fd(&self) -> RawFd {
        match self {
            Io::Tcp(s) => s.as_raw_fd(),
            Io::Unix(s) => s.as_raw_fd(),
        }
    }

    /// Resets a TCP connection now (the peer sees `ECONNRESET`), whoever still holds
    /// the socket: `connect` to an `AF_UNSPEC` address disconnects it, which from an
    /// established state sends a reset. A Unix-domain connection is shut down instead.
    fn reset_now(&self) {
        let Io::Tcp(s) = self else {
            let _ = self.shutdown(Shutdown::Both);
            return;
        };
        // SAFETY: an all-zero `sockaddr` is a valid value (family AF_UNSPEC, 0).
        let unspec: libc::sockaddr = unsafe { std::mem::zeroed() };
        let len = std::mem::size_of::<libc::sa_family_t>() as libc::socklen_t;
        // SAFETY: `unspec` is a valid sockaddr for `len` bytes (only its family is read),
        // and the descriptor is open for as long as `s` is borrowed.
        let result = unsafe { libc::connect(s.as_raw_fd(), &unspec, len) };
        if result < 0 {
            let error = io::Error::last_os_error();
            tracing::debug!(%error, "could not reset a connection: shutting it down");
            let _ = self.shutdown(Shutdown::Both);
        }
    }
}

/// What a transport's clones share with its driver.
pub(crate) struct Shared {
    pub(crate) io: Io,
    peer: Option<StreamAddr>,
    state: Mutex<State>,
}

/// The transport's state; the driver acts on it between callbacks.
pub(crate) struct State {
    pub(crate) buf: VecDeque<u8>,
    pub(crate) marks: WaterMarks,
    /// `close` was called: no more reading; the end comes once the buffer is sent.
    pub(crate) closing: bool,
    /// `abort` was called, or the connection failed: the end comes at once.
    pub(crate) aborted: bool,
    /// A server's `abort_clients` asked for a reset rather than an orderly end.
    pub(crate) reset: bool,
    /// The error `connection_lost` gets (the first one).
    pub(crate) error: Option<io::Error>,
    pub(crate) eof_requested: bool,
    pub(crate) eof_sent: bool,
    pub(crate) reading_paused: bool,
    /// The connection ended (`connection_lost` is being or was called).
    pub(crate) lost: bool,
    pub(crate) driver: DriverWake,
    /// Writes ignored after the close, counted (the first is logged).
    ignored_writes: u64,
}

impl State {
    pub(crate) fn is_closing(&self) -> bool {
        self.closing || self.aborted || self.lost
    }

    /// The connection failed: it ends at once, `connection_lost` getting `error` (or
    /// the first error already recorded).
    pub(crate) fn fail(&mut self, error: io::Error) {
        if self.error.is_none() {
            self.error = Some(error);
        }
        self.aborted = true;
        self.buf = VecDeque::new();
        self.driver.wake();
    }

    /// Updates the water marks for the buffer's length.
    pub(crate) fn update_pause(&mut self) {
        let buffered = self.buf.len();
        self.marks.update(buffered);
    }
}

impl Shared {
    pub(crate) fn new_tcp(stream: TcpStream, peer: Option<std::net::SocketAddr>) -> Arc<Shared> {
        let peer = peer.or_else(|| stream.peer_addr().ok());
        Shared::new(Io::Tcp(stream), peer.map(StreamAddr::Inet))
    }

    pub(crate) fn new_unix(
        stream: UnixStream,
        peer: Option<std::os::unix::net::SocketAddr>,
    ) -> Arc<Shared> {
        let peer = peer.or_else(|| stream.peer_addr().ok());
        Shared::new(Io::Unix(stream), peer.map(StreamAddr::Unix))
    }

    fn new(io: Io, peer: Option<StreamAddr>) -> Arc<Shared> {
        Arc::new(Shared {
            io,
            peer,
            state: Mutex::new(State {
                buf: VecDeque::new(),
                marks: WaterMarks::new(),
                closing: false,
                aborted: false,
                reset: false,
                error: None,
                eof_requested: false,
                eof_sent: false,
                reading_paused: false,
                lost: false,
                driver: DriverWake::default(),
                ignored_writes: 0,
            }),
        })
    }

    pub(crate) fn peer(&self) -> Option<StreamAddr> {
        self.peer.clone()
    }

    #[inline]
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// `write` and `writelines`: sends at once what the socket takes if nothing is
    /// buffered, and buffers the rest for the driver.
    fn write(&self, chunks: &[&[u8]]) {
        if chunks.iter().all(|chunk| chunk.is_empty()) {
            return;
        }
        let mut st = self.lock();
        if st.is_closing() || st.eof_requested {
            st.ignored_writes += 1;
            if st.ignored_writes == 1 {
                tracing::warn!(
                    peer = ?self.peer,
                    "write on a transport that is closing or has written EOF: ignored"
                );
            }
            return;
        }
        let mut skip = 0;
        if st.buf.is_empty() {
            match self.send_now(chunks) {
                Ok(sent) => skip = sent,
                Err(error) => {
                    st.fail(error);
                    return;
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
            st.driver.wake();
        }
    }

    /// Sends what the socket takes of `chunks` now, without a waker (the driver
    /// registers its own for the rest); returns how many bytes went.
    fn send_now(&self, chunks: &[&[u8]]) -> io::Result<usize> {
        let cx = &mut Context::from_waker(Waker::noop());
        let polled = match chunks {
            [chunk] => self.io.poll_write(cx, chunk),
            _ => {
                let slices: Vec<IoSlice<'_>> = chunks
                    .iter()
                    .filter(|chunk| !chunk.is_empty())
                    .take(MAX_IOVECS)
                    .map(|chunk| IoSlice::new(chunk))
                    .collect();
                self.io.poll_write_vectored(cx, &slices)
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

    /// The driver's flush: sends from the buffer until it is empty or the socket is
    /// full. Returns whether anything happened (bytes sent, or the connection failed).
    pub(crate) fn poll_flush(&self, st: &mut State, cx: &mut Context<'_>) -> bool {
        let mut progressed = false;
        while !st.buf.is_empty() {
            let (a, b) = st.buf.as_slices();
            let slices = [IoSlice::new(a), IoSlice::new(b)];
            match self.io.poll_write_vectored(cx, &slices) {
                Poll::Pending => break,
                Poll::Ready(Ok(0)) => {
                    st.fail(io::ErrorKind::WriteZero.into());
                    return true;
                }
                Poll::Ready(Ok(n)) => {
                    let len = st.buf.len();
                    st.buf.drain(..n.min(len));
                    st.update_pause();
                    progressed = true;
                }
                Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
                Poll::Ready(Err(e)) => {
                    st.fail(e);
                    return true;
                }
            }
        }
        if st.buf.is_empty() && st.eof_requested && !st.eof_sent && !st.aborted {
            st.eof_sent = true;
            progressed = true;
            if let Err(e) = self.io.shutdown(Shutdown::Write) {
                st.fail(e);
            }
        }
        progressed
    }

    /// [`Transport::close`].
    fn request_close(&self) {
        let mut st = self.lock();
        if !st.is_closing() {
            st.closing = true;
            st.driver.wake();
        }
    }

    /// [`Transport::abort`].
    fn request_abort(&self) {
        let mut st = self.lock();
        if !st.lost && !st.aborted {
            st.aborted = true;
            st.buf = VecDeque::new();
            st.driver.wake();
        }
    }

    /// Shuts the connection down both ways, at its end (a reset connection refuses;
    /// it is down already).
    pub(crate) fn shut_down(&self) {
        let _ = self.io.shutdown(Shutdown::Both);
    }

    /// Ends the connection with a reset (TCP), now, whoever else holds the transport.
    pub(crate) fn reset(&self) {
        self.io.reset_now();
    }
}

/// A server's `close_clients` and `abort_clients` reach the transport through this.
impl ClientControl for Shared {
    fn close(&self) {
        self.request_close();
    }

    fn abort(&self) {
        self.lock().reset = true;
        self.request_abort();
    }
}
