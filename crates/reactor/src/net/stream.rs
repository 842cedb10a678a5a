//! The byte-stream logic shared by [`TcpStream`](super::TcpStream) and
//! [`UnixStream`](super::UnixStream): reads, writes, shutdown and the non-blocking
//! connect, written once over [`Async<T>`].
//!
//! Reads go through `recv(2)` and writes through `send(2)`/`sendmsg(2)` with
//! `MSG_NOSIGNAL`, so a write to a reset connection returns `EPIPE` instead of raising
//! `SIGPIPE` (which would kill a process that has not ignored it). Every operation is
//! optimistic (the system call first) and waits only after `WouldBlock`. On TCP a short
//! read (fewer bytes than asked) proves the receive queue empty, unless urgent data was
//! reported (a read stops at its mark), so it clears the plain readable bit at once and
//! the next read waits for an event rather than spending a system call on `WouldBlock`
//! (a short write likewise clears writable, on TCP and Unix streams). Unix stream reads
//! also stop early after descriptors or a change of sender, so there only `WouldBlock`
//! clears readability. Read-closed and error are cleared only by a `WouldBlock`, never
//! by a short read, so a read that stops short of the peer's FIN is followed by another
//! `read` that sees the 0.

use std::io::{self, IoSlice, IoSliceMut, Read};
use std::mem::MaybeUninit;
use std::net::Shutdown;
use std::os::fd::AsFd;
use std::task::{Context, Poll};

use rustix::net::{RecvFlags, SendAncillaryBuffer, SendFlags};
use socket2::{SockAddr, SockRef, Socket};

use crate::io::{Async, poll_append};
use crate::reactor::Reactor;

/// A connected byte stream registered with a reactor.
#[derive(Debug)]
pub(crate) struct Stream<T: AsFd> {
    io: Async<T>,
}

/// What a short read proves about a kind of byte stream.
pub(crate) trait ShortRead {
    /// Whether a read that returns fewer bytes than asked for proves the receive queue
    /// empty. True for TCP (urgent data, which makes a read stop early, is tracked
    /// apart); false for Unix streams, whose reads also stop early after a message
    /// carrying descriptors or, with `SO_PASSCRED`, at a change of sender.
    const DRAINS: bool;
}

impl ShortRead for std::net::TcpStream {
    const DRAINS: bool = true;
}

impl ShortRead for std::os::unix::net::UnixStream {
    const DRAINS: bool = false;
}

/// The most slices one vectored read or write passes on: the system's `IOV_MAX`
/// (std passes no more), so that a transfer filling all of them is not taken for short.
const IOV_MAX: usize = 1024;

impl<T: AsFd + ShortRead> Stream<T>
where
    for<'a> &'a T: Read,
{
    /// Registers `io` with the current reactor.
    pub(crate) fn new(io: T) -> io::Result<Stream<T>> {
        Ok(Stream {
            io: Async::new(io)?,
        })
    }

    /// Wraps an already registered handle.
    pub(crate) fn from_async(io: Async<T>) -> Stream<T> {
        Stream { io }
    }

    pub(crate) fn get_ref(&self) -> &T {
        self.io.get_ref()
    }

    pub(crate) fn as_async(&self) -> &Async<T> {
        &self.io
    }

    pub(crate) fn into_inner(self) -> io::Result<T> {
        self.io.into_inner()
    }

    pub(crate) fn socket(&self) -> SockRef<'_> {
        SockRef::from(self.io.get_ref())
    }

    pub(crate) fn poll_read(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let len = read_len::<T>(buf.len());
        self.io.poll_read_stream(cx, len, |io| {
            Ok(rustix::net::recv(io, &mut *buf, RecvFlags::empty())?.0)
        })
    }

    /// Reads into the spare capacity of `buf` (uninitialised memory: `recv(2)` only
    /// writes it), appending what was read.
    pub(crate) fn poll_read_buf(
        &self,
        cx: &mut Context<'_>,
        buf: &mut Vec<u8>,
    ) -> Poll<io::Result<usize>> {
        poll_append(buf, |spare| {
            let room = spare.len();
            // `recv` writes into `spare` only, and returns how much it wrote.
            self.io
                .poll_read_stream(cx, read_len::<T>(room), |io| recv(io, spare))
        })
    }

    /// Ready unless a short read emptied the socket since its last event (then waits
    /// for the next one, through the read slot).
    pub(crate) fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<()> {
        self.io.poll_read_ready(cx)
    }

    pub(crate) fn poll_read_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        let len = read_len::<T>(total_len(bufs.iter().map(|b| b.len())));
        self.io
            .poll_read_stream(cx, len, |io| Ok(rustix::io::readv(io, bufs)?))
    }

    pub(crate) fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.io.poll_write_stream(cx, buf.len(), |io| send(io, buf))
    }

    pub(crate) fn poll_write_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let len = total_len(bufs.iter().map(|b| b.len()));
        self.io
            .poll_write_stream(cx, len, |io| send_vectored(io, bufs))
    }

    /// `AsyncWrite::poll_close`: shuts the write half down (the peer reads EOF).
    pub(crate) fn poll_close(&self) -> Poll<io::Result<()>> {
        Poll::Ready(self.shutdown(Shutdown::Write))
    }

    pub(crate) async fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        let len = read_len::<T>(buf.len());
        self.io
            .read_stream(len, |io| {
                Ok(rustix::net::recv(io, &mut *buf, RecvFlags::empty())?.0)
            })
            .await
    }

    pub(crate) async fn write(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.write_stream(buf.len(), |io| send(io, buf)).await
    }

    pub(crate) async fn write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        let len = total_len(bufs.iter().map(|b| b.len()));
        self.io
            .write_stream(len, |io| send_vectored(io, bufs))
            .await
    }

    pub(crate) async fn write_all(&self, mut buf: &[u8]) -> io::Result<()> {
        while !buf.is_empty() {
            match self.write(buf).await? {
                0 => return Err(io::ErrorKind::WriteZero.into()),
                n => buf = &buf[n..],
            }
        }
        Ok(())
    }

    pub(crate) fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.socket().shutdown(how)
    }
}

/// The bytes in a set of slices, counting only the first `IOV_MAX` (all that one system
/// call sees), saturating (a short transfer is then never assumed).
fn total_len(lens: impl Iterator<Item = usize>) -> usize {
    lens.take(IOV_MAX).fold(0, usize::saturating_add)
}

/// The length a read of `len` bytes counts as short against: `len` where a short read
/// proves the queue empty, 0 (never short) where it does not.
fn read_len<T: ShortRead>(len: usize) -> usize {
    if T::DRAINS { len } else { 0 }
}

// The hot path's system calls go through rustix, which makes them directly: libc's
// wrappers of recv and send are cancellation points, and entering and leaving that
// mode costs about as much as the rest of the loop's work on an echoed request.

/// `recv(2)` into uninitialised memory; returns how many bytes it wrote, from the start.
fn recv<T: AsFd>(io: &T, spare: &mut [MaybeUninit<u8>]) -> io::Result<usize> {
    let ((filled, _), _) = rustix::net::recv(io, spare, RecvFlags::empty())?;
    Ok(filled.len())
}

fn send<T: AsFd>(io: &T, buf: &[u8]) -> io::Result<usize> {
    Ok(rustix::net::send(io, buf, SendFlags::NOSIGNAL)?)
}

fn send_vectored<T: AsFd>(io: &T, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
    let mut no_control = SendAncillaryBuffer::default();
    Ok(rustix::net::sendmsg(
        io,
        bufs,
        &mut no_control,
        SendFlags::NOSIGNAL,
    )?)
}

/// Connects `socket` (non-blocking, not yet registered) to `addr`: starts the
/// connection, registers the socket with the current reactor and, if the connection is
/// in progress, waits until it is writable, then reports the connection's error, if any.
pub(crate) async fn connect<T>(socket: Socket, addr: &SockAddr) -> io::Result<Async<T>>
where
    T: AsFd + From<Socket>,
{
    let in_progress = match socket.connect(addr) {
        Ok(()) => false,
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => true,
        Err(e) => return Err(e),
    };
    let reactor = Reactor::current().map_err(io::Error::other)?;
    let io = Async::register_nonblocking(T::from(socket), &reactor)?;
    if in_progress {
        io.write_with(|io| {
            let socket = SockRef::from(io);
            if let Some(error) = socket.take_error()? {
                return Err(error);
            }
            match socket.peer_addr() {
                Ok(_) => Ok(()),
                // Not connected yet and no error: a spurious wake; wait again.
                Err(e) if e.raw_os_error() == Some(libc::ENOTCONN) => {
                    Err(io::ErrorKind::WouldBlock.into())
                }
                Err(e) => Err(e),
            }
        })
        .await?;
    }
    Ok(io)
}

/// The hidden lines of a doc example that define `block_on` over a reactor.
macro_rules! doc_block_on {
    () => {
        "# use std::future::Future;
# fn block_on<F: Future>(r: &tulip_reactor::Reactor, f: F) -> F::Output {
#     let mut f = std::pin::pin!(f);
#     let cx = &mut std::task::Context::from_waker(std::task::Waker::noop());
#     loop {
#         if let std::task::Poll::Ready(v) = f.as_mut().poll(cx) { return v; }
#         r.park(None, || true).unwrap();
#     }
# }
"
    };
}

/// The start of a doc example for `$ty`: a reactor made current, then `$setup`, which
/// defines two connected streams `a` and `b`.
macro_rules! doc_example {
    ($ty:ident, $setup:literal, $body:expr) => {
        concat!(
            "```\n",
            $crate::net::stream::doc_block_on!(),
            "use tulip_reactor::Reactor;\n",
            "use tulip_reactor::net::",
            stringify!($ty),
            ";\n\n",
            "let reactor = Reactor::new()?;\n",
            "let _guard = reactor.enter();\n",
            $setup,
            $body,
            "# Ok::<(), std::io::Error>(())\n```"
        )
    };
}

/// The API that [`TcpStream`](super::TcpStream) and [`UnixStream`](super::UnixStream)
/// share, written once: for a type with a field `inner: Stream<$std>`, the methods
/// over [`Stream`] (with their docs), the `futures_io` impls for the type and for a
/// shared reference to it, `AsFd`, `AsRawFd` and `Debug`. `$setup` is the doc-example
/// code that defines two connected streams `a` and `b`.
macro_rules! stream_api {
    (type: $ty:ident, std: $std:ty, addr: $addr:ty, setup: $setup:literal $(,)?) => {
        impl $ty {
            #[doc = concat!(
                "Registers a connected standard stream with the current reactor, putting it ",
                "in non-blocking mode. Its socket options are left as they are.\n\n",
                "# Errors\n\n",
                "Without a current reactor, or if `fcntl` or the registration fails.\n\n",
                $crate::net::stream::doc_example!($ty, $setup, concat!(
                    "let std_stream = a.into_std()?;\n",
                    "let a = ", stringify!($ty), "::from_std(std_stream)?;\n",
                    "# let _ = a;\n",
                )),
            )]
            pub fn from_std(stream: $std) -> std::io::Result<$ty> {
                Ok($ty {
                    inner: $crate::net::stream::Stream::new(stream)?,
                })
            }

            #[doc = concat!(
                "Deregisters the stream and gives back the standard one, still in ",
                "non-blocking mode (call `set_nonblocking(false)` on it for blocking use).\n\n",
                "# Errors\n\n",
                "If deregistration fails; the stream is then closed.\n\n",
                $crate::net::stream::doc_example!($ty, $setup,
                    "a.into_std()?.set_nonblocking(false)?;\n"),
            )]
            pub fn into_std(self) -> std::io::Result<$std> {
                self.inner.into_inner()
            }

            #[doc = concat!(
                "Reads into `buf`, waiting until at least one byte (or EOF) is available. ",
                "Returns the number of bytes read; 0 means the peer closed its write half.\n\n",
                "# Errors\n\n",
                "The error of `read(2)`: [`io::ErrorKind::ConnectionReset`]",
                "(std::io::ErrorKind::ConnectionReset) after a peer reset.\n\n",
                $crate::net::stream::doc_example!($ty, $setup,
                    "block_on(&reactor, a.write_all(b\"hi\"))?;
let mut buf = [0; 2];
let n = block_on(&reactor, b.read(&mut buf))?;
assert_eq!(&buf[..n], &b\"hi\"[..n]);
"),
            )]
            pub async fn read(&self, buf: &mut [u8]) -> std::io::Result<usize> {
                self.inner.read(buf).await
            }

            #[doc = concat!(
                "Writes some of `buf`, waiting until the socket accepts at least one byte. ",
                "Returns how many bytes were written.\n\n",
                "# Errors\n\n",
                "The error of `send(2)`: [`io::ErrorKind::BrokenPipe`]",
                "(std::io::ErrorKind::BrokenPipe) or [`io::ErrorKind::ConnectionReset`]",
                "(std::io::ErrorKind::ConnectionReset) once the peer is gone or has reset ",
                "the connection. No `SIGPIPE` is raised (`MSG_NOSIGNAL`).\n\n",
                $crate::net::stream::doc_example!($ty, $setup,
                    "assert_eq!(block_on(&reactor, a.write(b\"hello\"))?, 5);\n"),
            )]
            pub async fn write(&self, buf: &[u8]) -> std::io::Result<usize> {
                self.inner.write(buf).await
            }

            #[doc = concat!(
                "Writes some of `bufs`, in order, with one `sendmsg(2)`, waiting until the ",
                "socket accepts at least one byte. Returns how many bytes were written.\n\n",
                "# Errors\n\n",
                "As [`write`](", stringify!($ty), "::write).\n\n",
                $crate::net::stream::doc_example!($ty, $setup,
                    "use std::io::IoSlice;
let bufs = [IoSlice::new(b\"head \"), IoSlice::new(b\"body\")];
assert_eq!(block_on(&reactor, a.write_vectored(&bufs))?, 9);
"),
            )]
            pub async fn write_vectored(
                &self,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::io::Result<usize> {
                self.inner.write_vectored(bufs).await
            }

            #[doc = concat!(
                "Writes all of `buf`, waiting for the socket as often as needed. If the ",
                "future is dropped midway, a prefix of `buf` may have been written.\n\n",
                "# Errors\n\n",
                "As [`write`](", stringify!($ty), "::write); ",
                "[`io::ErrorKind::WriteZero`](std::io::ErrorKind::WriteZero) if the socket ",
                "accepts no bytes.\n\n",
                $crate::net::stream::doc_example!($ty, $setup,
                    "block_on(&reactor, a.write_all(b\"all of it\"))?;\n"),
            )]
            pub async fn write_all(&self, buf: &[u8]) -> std::io::Result<()> {
                self.inner.write_all(buf).await
            }

            #[doc = concat!(
                "Polls a read into `buf`: the building block of [`read`](",
                stringify!($ty), "::read) and of `AsyncRead`. On `Pending`, `cx`'s waker ",
                "is stored in the stream's single read slot (replacing the previous ",
                "poller's).\n\n",
                "# Errors\n\n",
                "As [`read`](", stringify!($ty), "::read).\n\n",
                $crate::net::stream::doc_example!($ty, $setup,
                    "let cx = &mut std::task::Context::from_waker(std::task::Waker::noop());
assert!(a.poll_read(cx, &mut [0; 8]).is_pending()); // nothing sent yet
"),
            )]
            pub fn poll_read(
                &self,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.inner.poll_read(cx, buf)
            }

            #[doc = concat!(
                "Polls a read into the spare capacity of `buf` (which need not be zeroed ",
                "first), appending the bytes read; `Ok(0)` is EOF, or `buf` had no spare ",
                "capacity. For a reader that allocates its buffer only once data is there ",
                "(see [`poll_read_ready`](", stringify!($ty), "::poll_read_ready)). On ",
                "`Pending`, `cx`'s waker takes the stream's single read slot.\n\n",
                "# Errors\n\n",
                "As [`read`](", stringify!($ty), "::read).\n\n",
                $crate::net::stream::doc_example!($ty, $setup,
                    "use std::task::Poll;
let cx = &mut std::task::Context::from_waker(std::task::Waker::noop());
block_on(&reactor, b.write_all(b\"abc\"))?;
let mut buf = Vec::with_capacity(16);
while let Poll::Pending = a.poll_read_buf(cx, &mut buf) {
    reactor.park(None, || true)?;
}
assert_eq!(buf, b\"abc\");
"),
            )]
            pub fn poll_read_buf(
                &self,
                cx: &mut std::task::Context<'_>,
                buf: &mut Vec<u8>,
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.inner.poll_read_buf(cx, buf)
            }

            #[doc = concat!(
                "Polls whether a read may find data, without reading: `Ready` at once ",
                "unless a short read has emptied the socket since its last event; then ",
                "`cx`'s waker takes the stream's single read slot until the next event ",
                "(data, EOF or an error). Lets a reader hold no buffer while it waits.\n\n",
                $crate::net::stream::doc_example!($ty, $setup,
                    "use std::task::Poll;
let cx = &mut std::task::Context::from_waker(std::task::Waker::noop());
block_on(&reactor, b.write_all(b\"abc\"))?;
// Allocate only once a read may find data.
while a.poll_read_ready(cx).is_pending() {
    reactor.park(None, || true)?;
}
let mut buf = Vec::with_capacity(16);
while let Poll::Pending = a.poll_read_buf(cx, &mut buf) {
    reactor.park(None, || true)?;
}
assert_eq!(buf, b\"abc\");
"),
            )]
            pub fn poll_read_ready(&self, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
                self.inner.poll_read_ready(cx)
            }

            #[doc = concat!(
                "Polls a write of `buf`: the building block of [`write`](",
                stringify!($ty), "::write) and of `AsyncWrite`. On `Pending`, `cx`'s ",
                "waker takes the stream's single write slot.\n\n",
                "# Errors\n\n",
                "As [`write`](", stringify!($ty), "::write).\n\n",
                $crate::net::stream::doc_example!($ty, $setup,
                    "use std::task::Poll;
let cx = &mut std::task::Context::from_waker(std::task::Waker::noop());
assert!(matches!(a.poll_write(cx, b\"abc\"), Poll::Ready(Ok(3))));
"),
            )]
            pub fn poll_write(
                &self,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.inner.poll_write(cx, buf)
            }

            #[doc = concat!(
                "Polls a vectored write of `bufs` (see [`write_vectored`](",
                stringify!($ty), "::write_vectored)); on `Pending`, `cx`'s waker takes ",
                "the single write slot.\n\n",
                "# Errors\n\n",
                "As [`write`](", stringify!($ty), "::write).\n\n",
                $crate::net::stream::doc_example!($ty, $setup,
                    "use std::io::IoSlice;
use std::task::Poll;
let cx = &mut std::task::Context::from_waker(std::task::Waker::noop());
let bufs = [IoSlice::new(b\"a\"), IoSlice::new(b\"bc\")];
assert!(matches!(a.poll_write_vectored(cx, &bufs), Poll::Ready(Ok(3))));
"),
            )]
            pub fn poll_write_vectored(
                &self,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.inner.poll_write_vectored(cx, bufs)
            }

            #[doc = concat!(
                "Shuts down the read half, the write half (the peer reads EOF; asyncio's ",
                "`write_eof`) or both.\n\n",
                "# Errors\n\n",
                "The error of `shutdown(2)` ([`io::ErrorKind::NotConnected`]",
                "(std::io::ErrorKind::NotConnected) after a reset).\n\n",
                $crate::net::stream::doc_example!($ty, $setup,
                    "a.shutdown(std::net::Shutdown::Write)?;
assert_eq!(block_on(&reactor, b.read(&mut [0; 8]))?, 0); // EOF
block_on(&reactor, b.write_all(b\"still open this way\"))?;
"),
            )]
            pub fn shutdown(&self, how: std::net::Shutdown) -> std::io::Result<()> {
                self.inner.shutdown(how)
            }

            #[doc = concat!(
                "The local address of the connection.\n\n",
                "# Errors\n\n",
                "The error of `getsockname(2)`.\n\n",
                $crate::net::stream::doc_example!($ty, $setup,
                    "assert_eq!(format!(\"{:?}\", a.local_addr()?), format!(\"{:?}\", b.peer_addr()?));\n"),
            )]
            pub fn local_addr(&self) -> std::io::Result<$addr> {
                self.inner.get_ref().local_addr()
            }

            #[doc = concat!(
                "The remote address of the connection.\n\n",
                "# Errors\n\n",
                "The error of `getpeername(2)` ([`io::ErrorKind::NotConnected`]",
                "(std::io::ErrorKind::NotConnected) after a reset).\n\n",
                $crate::net::stream::doc_example!($ty, $setup,
                    "assert_eq!(format!(\"{:?}\", a.peer_addr()?), format!(\"{:?}\", b.local_addr()?));\n"),
            )]
            pub fn peer_addr(&self) -> std::io::Result<$addr> {
                self.inner.get_ref().peer_addr()
            }

            #[doc = concat!(
                "Takes the pending socket error (`SO_ERROR`), if any, clearing it.\n\n",
                "# Errors\n\n",
                "The error of `getsockopt(2)`.\n\n",
                $crate::net::stream::doc_example!($ty, $setup,
                    "assert!(a.take_error()?.is_none());\n"),
            )]
            pub fn take_error(&self) -> std::io::Result<Option<std::io::Error>> {
                self.inner.get_ref().take_error()
            }
        }

        $crate::net::stream::stream_api!(@traits $ty);
        $crate::net::stream::stream_api!(@traits &$ty);

        impl std::os::fd::AsFd for $ty {
            fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
                std::os::fd::AsFd::as_fd(self.inner.get_ref())
            }
        }

        impl std::os::fd::AsRawFd for $ty {
            fn as_raw_fd(&self) -> std::os::fd::RawFd {
                std::os::fd::AsRawFd::as_raw_fd(self.inner.get_ref())
            }
        }

        impl std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_tuple(stringify!($ty)).field(self.inner.get_ref()).finish()
            }
        }
    };
    (@traits $ty:ty) => {
        impl futures_io::AsyncRead for $ty {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.inner.poll_read(cx, buf)
            }

            fn poll_read_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &mut [std::io::IoSliceMut<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.inner.poll_read_vectored(cx, bufs)
            }
        }

        impl futures_io::AsyncWrite for $ty {
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.inner.poll_write(cx, buf)
            }

            fn poll_write_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.inner.poll_write_vectored(cx, bufs)
            }

            /// A no-op: the stream keeps no buffer of its own.
            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready(Ok(()))
            }

            /// Shuts the write half down: the peer reads EOF.
            fn poll_close(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                self.inner.poll_close()
            }
        }
    };
}

pub(crate) use {doc_block_on, doc_example, stream_api};
