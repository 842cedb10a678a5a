//! The connection shared by a [`StreamReader`](crate::StreamReader) and its
//! [`StreamWriter`](crate::StreamWriter): the byte stream underneath, behind a small set
//! of methods (poll a read, poll a vectored write, end the write half, close), so that
//! other kinds of byte streams (subprocess pipes, say) can be added as variants without
//! touching the reader or the writer.

use std::fmt;
use std::io::{self, IoSlice};
use std::net::{Shutdown, SocketAddr};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::SocketAddr as UnixSocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use socket2::SockRef;
use tulip_executor::Task;
use tulip_reactor::net::{TcpStream, UnixStream};
use tulip_reactor::pipe::{PipeReader, PipeWriter};

use crate::reader::StreamReader;
use crate::writer::StreamWriter;

/// The address of one end of a stream connection: what asyncio's
/// `get_extra_info("peername")` and `get_extra_info("sockname")` return, typed.
#[derive(Debug, Clone)]
pub enum StreamAddr {
    /// An IPv4 or IPv6 address and port (TCP).
    Inet(SocketAddr),
    /// A Unix-domain socket address (a path, abstract or unnamed).
    Unix(UnixSocketAddr),
}

impl StreamAddr {
    /// The IP address and port, for a TCP connection.
    pub fn as_inet(&self) -> Option<SocketAddr> {
        match self {
            StreamAddr::Inet(addr) => Some(*addr),
            StreamAddr::Unix(_) => None,
        }
    }

    /// The Unix-domain address, for a Unix socket connection.
    pub fn as_unix(&self) -> Option<&UnixSocketAddr> {
        match self {
            StreamAddr::Inet(_) => None,
            StreamAddr::Unix(addr) => Some(addr),
        }
    }
}

impl fmt::Display for StreamAddr {
    /// An IP address as `ip:port`; a Unix address as its path, or `(unnamed)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StreamAddr::Inet(addr) => addr.fmt(f),
            StreamAddr::Unix(addr) => match addr.as_pathname() {
                Some(path) => path.display().fmt(f),
                None => f.write_str("(unnamed)"),
            },
        }
    }
}

/// A value of [`StreamWriter::get_extra_info`](crate::StreamWriter::get_extra_info),
/// typed by what it is.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ExtraInfo {
    /// `"peername"` or `"sockname"`: an address.
    Addr(StreamAddr),
    /// `"socket"`: the socket's descriptor, owned by the connection (do not close it).
    Socket(RawFd),
}

/// A connection's peer address as kept: a Unix address (over 100 bytes, and rare) is
/// boxed, so that every connection does not pay for its room.
#[derive(Debug)]
enum PeerAddr {
    Inet(SocketAddr),
    Unix(Box<UnixSocketAddr>),
}

/// The byte stream under a connection.
#[derive(Debug)]
enum Io {
    Tcp(TcpStream),
    Unix(UnixStream),
    /// The reading end of a pipe (a child's stdout or stderr): a reader only.
    PipeRead(PipeReader),
    /// The writing end of a pipe (a child's stdin): a writer only. Taken out (and so
    /// closed) by `write_eof` or `close`, which is how a pipe's reader sees EOF.
    PipeWrite(Mutex<Option<PipeWriter>>),
}

/// The error of an operation the other end of a pipe would do (never asked by the
/// streams, which only read a reading end and only write a writing end).
fn wrong_end() -> io::Error {
    io::Error::new(io::ErrorKind::Unsupported, "not this end of the pipe")
}

/// The error of a write after the pipe's writing end was closed.
fn pipe_closed() -> io::Error {
    io::Error::from(io::ErrorKind::BrokenPipe)
}

/// One connection, shared (in an `Arc`) by the reader, the writer and the writer's
/// background flusher. The underlying stream is closed when the last of them is dropped.
#[derive(Debug)]
pub(crate) struct Connection {
    io: Io,
    /// Known when the connection is made (from `accept` or `getpeername`): a peer that
    /// has gone away can no longer be asked. The local address is asked of the socket
    /// when wanted (it does not change), sparing a system call and its room.
    peer: Option<PeerAddr>,
    /// The first error the reader saw (the writer reports it on `write` and `drain`, as
    /// asyncio's `drain` raises the reader's exception).
    read_error: Mutex<Option<io::Error>>,
    /// Whether `read_error` holds an error: every write checks it, so the common case
    /// (none) takes no lock.
    has_read_error: AtomicBool,
    /// The writer's background flusher while one runs: it holds the connection open
    /// until the buffer is sent, so aborting the connection must stop it too.
    flusher: Mutex<Option<Task>>,
    /// Set by [`abort`](Connection::abort): a flusher running on another thread
    /// (a multi-thread runtime) stops before its next write instead of sending
    /// the rest of the buffer before the cancel lands.
    aborted: AtomicBool,
}

impl Connection {
    /// A TCP connection to `peer`, or to whatever `getpeername` says if `None`.
    pub(crate) fn tcp(stream: TcpStream, peer: Option<SocketAddr>) -> Connection {
        let peer = peer.or_else(|| stream.peer_addr().ok());
        Connection::new(Io::Tcp(stream), peer.map(PeerAddr::Inet))
    }

    /// A Unix-domain connection to `peer`, or to whatever `getpeername` says if `None`.
    pub(crate) fn unix(stream: UnixStream, peer: Option<UnixSocketAddr>) -> Connection {
        let peer = peer.or_else(|| stream.peer_addr().ok());
        Connection::new(
            Io::Unix(stream),
            peer.map(|addr| PeerAddr::Unix(Box::new(addr))),
        )
    }

    fn new(io: Io, peer: Option<PeerAddr>) -> Connection {
        Connection {
            io,
            peer,
            read_error: Mutex::new(None),
            has_read_error: AtomicBool::new(false),
            flusher: Mutex::new(None),
            aborted: AtomicBool::new(false),
        }
    }

    /// Polls a read into `buf`'s spare capacity, appending; only the reader calls it.
    pub(crate) fn poll_read_buf(
        &self,
        cx: &mut Context<'_>,
        buf: &mut Vec<u8>,
    ) -> Poll<io::Result<usize>> {
        match &self.io {
            Io::Tcp(s) => s.poll_read_buf(cx, buf),
            Io::Unix(s) => s.poll_read_buf(cx, buf),
            Io::PipeRead(p) => p.poll_read_buf(cx, buf),
            Io::PipeWrite(_) => Poll::Ready(Err(wrong_end())),
        }
    }

    /// Ready unless a short read emptied the socket since its last event.
    pub(crate) fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<()> {
        match &self.io {
            Io::Tcp(s) => s.poll_read_ready(cx),
            Io::Unix(s) => s.poll_read_ready(cx),
            Io::PipeRead(p) => p.poll_read_ready(cx),
            Io::PipeWrite(_) => Poll::Ready(()),
        }
    }

    /// Polls a write; only the writer calls it (the stream has one write slot).
    pub(crate) fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match &self.io {
            Io::Tcp(s) => s.poll_write(cx, buf),
            Io::Unix(s) => s.poll_write(cx, buf),
            Io::PipeRead(_) => Poll::Ready(Err(wrong_end())),
            Io::PipeWrite(p) => match lock(p).as_ref() {
                Some(p) => p.poll_write(cx, buf),
                None => Poll::Ready(Err(pipe_closed())),
            },
        }
    }

    /// Polls a vectored write; only the writer calls it (the stream has one write slot).
    pub(crate) fn poll_write_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match &self.io {
            Io::Tcp(s) => s.poll_write_vectored(cx, bufs),
            Io::Unix(s) => s.poll_write_vectored(cx, bufs),
            Io::PipeRead(_) => Poll::Ready(Err(wrong_end())),
            Io::PipeWrite(p) => match lock(p).as_ref() {
                Some(p) => p.poll_write_vectored(cx, bufs),
                None => Poll::Ready(Err(pipe_closed())),
            },
        }
    }

    /// Whether [`shutdown_write`](Connection::shutdown_write) is supported.
    pub(crate) fn can_write_eof(&self) -> bool {
        match &self.io {
            Io::Tcp(_) | Io::Unix(_) | Io::PipeWrite(_) => true,
            Io::PipeRead(_) => false,
        }
    }

    /// Ends the write half: the peer reads EOF.
    pub(crate) fn shutdown_write(&self) -> io::Result<()> {
        self.shutdown(Shutdown::Write)
    }

    /// Closes the connection in both directions; the descriptor itself is released
    /// when the last holder of the connection drops it.
    pub(crate) fn close(&self) -> io::Result<()> {
        self.shutdown(Shutdown::Both)
    }

    /// Records the running flusher (`None` once it ends).
    pub(crate) fn set_flusher(&self, task: Option<Task>) {
        *lock(&self.flusher) = task;
    }

    /// Aborts the connection (a server's `abort_clients`): with `reset`, `SO_LINGER` 0,
    /// so that the close sends a reset (TCP); and the writer's flusher cancelled, so
    /// that unsent bytes do not keep the socket open. The socket closes when the last
    /// holder (the handler's task, cancelled by the server) drops it.
    pub(crate) fn abort(&self, reset: bool) -> io::Result<()> {
        let linger = if reset {
            self.set_linger_zero()
        } else {
            Ok(())
        };
        self.aborted.store(true, Ordering::SeqCst);
        let flusher = lock(&self.flusher).take();
        if let Some(flusher) = flusher {
            flusher.cancel();
        }
        linger
    }

    /// Whether [`abort`](Connection::abort) was called: nothing more is sent.
    pub(crate) fn is_aborted(&self) -> bool {
        self.aborted.load(Ordering::SeqCst)
    }

    /// Sets `SO_LINGER` to on, 0 s, so that closing resets the connection.
    fn set_linger_zero(&self) -> io::Result<()> {
        let socket = match &self.io {
            Io::Tcp(s) => SockRef::from(s),
            Io::Unix(s) => SockRef::from(s),
            Io::PipeRead(_) | Io::PipeWrite(_) => return Ok(()),
        };
        socket.set_linger(Some(Duration::ZERO))
    }

    /// Shuts a socket down; a pipe's writing end is closed (its reader reads EOF), a
    /// reading end is left to be closed with the connection.
    fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        match &self.io {
            Io::Tcp(s) => s.shutdown(how),
            Io::Unix(s) => s.shutdown(how),
            Io::PipeRead(_) => Ok(()),
            Io::PipeWrite(p) => {
                drop(lock(p).take());
                Ok(())
            }
        }
    }

    pub(crate) fn peer_addr(&self) -> Option<StreamAddr> {
        self.peer.as_ref().map(|peer| match peer {
            PeerAddr::Inet(addr) => StreamAddr::Inet(*addr),
            PeerAddr::Unix(addr) => StreamAddr::Unix((**addr).clone()),
        })
    }

    pub(crate) fn local_addr(&self) -> Option<StreamAddr> {
        match &self.io {
            Io::Tcp(s) => s.local_addr().ok().map(StreamAddr::Inet),
            Io::Unix(s) => s.local_addr().ok().map(StreamAddr::Unix),
            Io::PipeRead(_) | Io::PipeWrite(_) => None,
        }
    }

    /// The socket's or pipe's descriptor (`None` for a pipe's closed writing end).
    pub(crate) fn raw_fd(&self) -> Option<RawFd> {
        match &self.io {
            Io::Tcp(s) => Some(s.as_raw_fd()),
            Io::Unix(s) => Some(s.as_raw_fd()),
            Io::PipeRead(p) => Some(p.as_raw_fd()),
            Io::PipeWrite(p) => lock(p).as_ref().map(AsRawFd::as_raw_fd),
        }
    }

    /// Records the reader's error (the first one only).
    pub(crate) fn set_read_error(&self, error: &io::Error) {
        let mut slot = lock(&self.read_error);
        if slot.is_none() {
            *slot = Some(clone_error(error));
            self.has_read_error.store(true, Ordering::Release);
        }
    }

    /// A copy of the reader's error, if any.
    pub(crate) fn read_error(&self) -> Option<io::Error> {
        if !self.has_read_error.load(Ordering::Acquire) {
            return None;
        }
        lock(&self.read_error).as_ref().map(clone_error)
    }
}

/// Locks `mutex`, going on with the data if a panicking thread poisoned it (the state
/// kept under these locks stays consistent between statements).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A copy of `error`, to report one stored error on every later operation: exact for
/// an OS error, the kind and message otherwise.
pub(crate) fn clone_error(error: &io::Error) -> io::Error {
    match error.raw_os_error() {
        Some(code) => io::Error::from_raw_os_error(code),
        None => io::Error::new(error.kind(), error.to_string()),
    }
}

/// Settings of the streams made by [`from_tcp_stream`] and [`from_unix_stream`] (and by
/// `open_connection` and `start_server`): the reader's limit and the writer's buffer
/// limits.
///
/// ```
/// let options = tulip_streams::StreamOptions::new()
///     .limit(1024)
///     .write_buffer_limits(256 * 1024, 64 * 1024);
/// assert_eq!(options.get_limit(), 1024);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamOptions {
    limit: usize,
    high: usize,
    low: usize,
}

impl Default for StreamOptions {
    fn default() -> StreamOptions {
        StreamOptions::new()
    }
}

impl StreamOptions {
    /// The defaults: a limit of [`DEFAULT_LIMIT`](crate::DEFAULT_LIMIT) (64 KiB), write
    /// buffer limits of [`DEFAULT_HIGH_WATER`](crate::DEFAULT_HIGH_WATER) (64 KiB) and
    /// [`DEFAULT_LOW_WATER`](crate::DEFAULT_LOW_WATER) (16 KiB).
    pub fn new() -> StreamOptions {
        StreamOptions {
            limit: crate::reader::DEFAULT_LIMIT,
            high: crate::writer::DEFAULT_HIGH_WATER,
            low: crate::writer::DEFAULT_LOW_WATER,
        }
    }

    /// Sets the reader's limit (asyncio's `limit=`): the longest chunk `readuntil` and
    /// `readline` return, separator not counted.
    pub fn limit(mut self, limit: usize) -> StreamOptions {
        self.limit = limit;
        self
    }

    /// Sets the writer's high- and low-water marks (see
    /// [`StreamWriter::set_write_buffer_limits`](crate::StreamWriter::set_write_buffer_limits));
    /// a `low` above `high` is lowered to `high`.
    pub fn write_buffer_limits(mut self, high: usize, low: usize) -> StreamOptions {
        self.high = high;
        self.low = low.min(high);
        self
    }

    /// The reader's limit.
    pub fn get_limit(&self) -> usize {
        self.limit
    }

    /// The writer's high- and low-water marks, as `(high, low)`.
    pub fn get_write_buffer_limits(&self) -> (usize, usize) {
        (self.high, self.low)
    }
}

/// Makes a [`StreamReader`] and a [`StreamWriter`] over a connected TCP stream (what
/// asyncio's `open_connection` returns, for a socket connected by other means).
///
/// Call it on a running event loop (or with one current): the writer sends its buffer
/// from a task on that loop.
///
/// ```
/// use tulip_reactor::net::{TcpListener, TcpStream};
/// use tulip_streams::{StreamOptions, from_tcp_stream};
///
/// let event_loop = tulip_executor::EventLoop::new()?;
/// let line = event_loop.run_until_complete(async {
///     let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap())?;
///     let client = TcpStream::connect(listener.local_addr()?).await?;
///     let (server, _) = listener.accept().await?;
///     let (_, writer) = from_tcp_stream(client, StreamOptions::new());
///     let (mut reader, _) = from_tcp_stream(server, StreamOptions::new());
///     writer.write(b"hello\n")?;
///     Ok::<_, Box<dyn std::error::Error>>(reader.readline().await?)
/// })??;
/// assert_eq!(line, b"hello\n");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn from_tcp_stream(stream: TcpStream, options: StreamOptions) -> (StreamReader, StreamWriter) {
    streams(Connection::tcp(stream, None), options)
}

/// [`from_tcp_stream`] for a stream whose peer is known (from `accept` or `connect`),
/// sparing the `getpeername` call.
pub(crate) fn from_tcp_stream_to(
    stream: TcpStream,
    peer: SocketAddr,
    options: StreamOptions,
) -> (StreamReader, StreamWriter) {
    streams(Connection::tcp(stream, Some(peer)), options)
}

/// Makes a [`StreamReader`] and a [`StreamWriter`] over a connected Unix-domain stream
/// (what asyncio's `open_unix_connection` returns, for a socket connected by other
/// means, such as one end of [`UnixStream::pair`]).
///
/// Call it on a running event loop (or with one current): the writer sends its buffer
/// from a task on that loop.
///
/// ```
/// use tulip_reactor::net::UnixStream;
/// use tulip_streams::{StreamOptions, from_unix_stream};
///
/// let event_loop = tulip_executor::EventLoop::new()?;
/// let data = event_loop.run_until_complete(async {
///     let (a, b) = UnixStream::pair()?;
///     let (_, writer) = from_unix_stream(a, StreamOptions::new());
///     let (mut reader, _) = from_unix_stream(b, StreamOptions::new());
///     writer.write(b"ping")?;
///     writer.close();
///     writer.wait_closed().await?;
///     Ok::<_, Box<dyn std::error::Error>>(reader.read_to_end().await?)
/// })??;
/// assert_eq!(data, b"ping");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn from_unix_stream(
    stream: UnixStream,
    options: StreamOptions,
) -> (StreamReader, StreamWriter) {
    streams(Connection::unix(stream, None), options)
}

/// [`from_unix_stream`] for a stream whose peer is known (from `accept`).
pub(crate) fn from_unix_stream_to(
    stream: UnixStream,
    peer: UnixSocketAddr,
    options: StreamOptions,
) -> (StreamReader, StreamWriter) {
    streams(Connection::unix(stream, Some(peer)), options)
}

/// Makes a [`StreamReader`] over the reading end of a pipe (asyncio's
/// `connect_read_pipe` with a `StreamReaderProtocol`): a child process's stdout, say.
/// Only the reader's limit of `options` applies.
///
/// ```
/// use tulip_reactor::pipe::pipe;
/// use tulip_streams::{StreamOptions, from_pipe_reader, from_pipe_writer};
///
/// tulip_executor::EventLoop::new()?.run_until_complete(async {
///     let (read_end, write_end) = pipe()?;
///     let mut reader = from_pipe_reader(read_end, StreamOptions::new());
///     let writer = from_pipe_writer(write_end, StreamOptions::new());
///     writer.write(b"one\ntwo\n")?;
///     writer.close(); // closes the pipe: the reader sees EOF
///     assert_eq!(reader.readline().await?, b"one\n");
///     assert_eq!(reader.read_to_end().await?, b"two\n");
///     Ok::<_, Box<dyn std::error::Error>>(())
/// })??;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn from_pipe_reader(pipe: PipeReader, options: StreamOptions) -> StreamReader {
    let conn = Connection::new(Io::PipeRead(pipe), None);
    StreamReader::new(Arc::new(conn), options.limit)
}

/// Makes a [`StreamWriter`] over the writing end of a pipe (asyncio's
/// `connect_write_pipe`): a child process's stdin, say. `write_eof` and `close` close
/// the pipe once the buffer is sent, so its reader reads EOF; a write after the
/// reader has gone fails with `BrokenPipe`. Only the write buffer limits of `options`
/// apply. See [`from_pipe_reader`] for an example.
///
/// Call it on a running event loop (or with one current): the writer sends its buffer
/// from a task on that loop.
pub fn from_pipe_writer(pipe: PipeWriter, options: StreamOptions) -> StreamWriter {
    let conn = Connection::new(Io::PipeWrite(Mutex::new(Some(pipe))), None);
    StreamWriter::new(Arc::new(conn), options.high, options.low)
}

fn streams(conn: Connection, options: StreamOptions) -> (StreamReader, StreamWriter) {
    let conn = Arc::new(conn);
    let reader = StreamReader::new(conn.clone(), options.limit);
    let writer = StreamWriter::new(conn, options.high, options.low);
    (reader, writer)
}
