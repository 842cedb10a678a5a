//! Unix-domain sockets: [`UnixStream`], [`UnixListener`] and [`UnixDatagram`].

use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::os::unix::net::{self, SocketAddr};
use std::path::Path;
use std::task::{Context, Poll, ready};

use socket2::{Domain, SockAddr, Socket, Type};

use super::options::UnixListenOptions;
use super::stream::{self, Stream, stream_api};
use crate::io::Async;

/// A Unix-domain stream connection registered with a reactor.
///
/// The Unix counterpart of [`TcpStream`](super::TcpStream), with the same reading and
/// writing methods and the same `futures_io` impls (for `UnixStream` and
/// `&UnixStream`). All methods take `&self`.
///
/// ```
/// # use std::future::Future;
/// # fn block_on<F: Future>(r: &tulip_reactor::Reactor, f: F) -> F::Output {
/// #     let mut f = std::pin::pin!(f);
/// #     let cx = &mut std::task::Context::from_waker(std::task::Waker::noop());
/// #     loop {
/// #         if let std::task::Poll::Ready(v) = f.as_mut().poll(cx) { return v; }
/// #         r.park(None, || true).unwrap();
/// #     }
/// # }
/// use tulip_reactor::Reactor;
/// use tulip_reactor::net::UnixStream;
///
/// let reactor = Reactor::new()?;
/// let _guard = reactor.enter();
/// let (a, b) = UnixStream::pair()?;
/// let got = block_on(&reactor, async {
///     a.write_all(b"over the pair").await?;
///     let mut buf = [0; 13];
///     let n = b.read(&mut buf).await?;
///     Ok::<_, std::io::Error>(buf[..n].to_vec())
/// })?;
/// assert_eq!(got, b"over the pair");
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct UnixStream {
    inner: Stream<net::UnixStream>,
}

impl UnixStream {
    /// Connects to the socket bound at `path`, registering the stream with the current
    /// reactor.
    ///
    /// # Errors
    ///
    /// [`io::ErrorKind::NotFound`] if nothing is bound there,
    /// [`io::ErrorKind::ConnectionRefused`] if nobody listens,
    /// [`io::ErrorKind::InvalidInput`] for a path too long for a socket address,
    /// [`io::ErrorKind::WouldBlock`] if the listener's backlog is full (Linux does
    /// not queue Unix connects), or the error of registering (no current reactor
    /// included).
    ///
    /// On Linux, a path whose first byte is NUL names an address in the abstract
    /// namespace (see [`UnixListener::bind_with`]).
    ///
    /// ```
    /// # use std::future::Future;
    /// # fn block_on<F: Future>(r: &tulip_reactor::Reactor, f: F) -> F::Output {
    /// #     let mut f = std::pin::pin!(f);
    /// #     let cx = &mut std::task::Context::from_waker(std::task::Waker::noop());
    /// #     loop {
    /// #         if let std::task::Poll::Ready(v) = f.as_mut().poll(cx) { return v; }
    /// #         r.park(None, || true).unwrap();
    /// #     }
    /// # }
    /// use tulip_reactor::Reactor;
    /// use tulip_reactor::net::{UnixListener, UnixStream};
    ///
    /// let reactor = Reactor::new()?;
    /// let _guard = reactor.enter();
    /// let path = std::env::temp_dir().join(format!("tulip-doc-connect-{}.sock", std::process::id()));
    /// let _ = std::fs::remove_file(&path);
    /// let listener = UnixListener::bind(&path)?;
    /// let stream = block_on(&reactor, UnixStream::connect(&path))?;
    /// assert_eq!(stream.peer_addr()?.as_pathname(), Some(path.as_path()));
    /// std::fs::remove_file(&path)?;
    /// # drop(listener);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn connect(path: impl AsRef<Path>) -> io::Result<UnixStream> {
        let addr = SockAddr::unix(path)?;
        let socket = Socket::new(Domain::UNIX, Type::STREAM.nonblocking(), None)?;
        let io = stream::connect(socket, &addr).await?;
        Ok(UnixStream {
            inner: Stream::from_async(io),
        })
    }

    /// A pair of connected streams (`socketpair(2)`), registered with the current
    /// reactor.
    ///
    /// # Errors
    ///
    /// The error of `socketpair` or of the registration (no current reactor included).
    ///
    /// ```
    /// use tulip_reactor::Reactor;
    /// use tulip_reactor::net::UnixStream;
    ///
    /// let reactor = Reactor::new()?;
    /// let _guard = reactor.enter();
    /// let (a, b) = UnixStream::pair()?;
    /// # let _ = (a, b);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = net::UnixStream::pair()?;
        Ok((UnixStream::from_std(a)?, UnixStream::from_std(b)?))
    }
}

stream_api! {
    type: UnixStream,
    std: net::UnixStream,
    addr: SocketAddr,
    setup: "let (a, b) = UnixStream::pair()?;\n",
}

/// A Unix-domain socket listening for connections, registered with a reactor.
///
/// Binding creates the socket file; dropping the listener does not remove it (as with
/// the standard library), so remove it yourself when done.
pub struct UnixListener {
    io: Async<net::UnixListener>,
}

impl UnixListener {
    /// Binds to `path` and listens with the default [`UnixListenOptions`] (backlog
    /// 100, as asyncio), registering with the current reactor.
    ///
    /// # Errors
    ///
    /// As [`bind_with`](UnixListener::bind_with): [`io::ErrorKind::AddrInUse`] if the
    /// file exists, [`io::ErrorKind::InvalidInput`] for a path too long for a socket
    /// address, or the error of `socket`, `bind`, `listen` or the registration (no
    /// current reactor included).
    ///
    /// ```
    /// use tulip_reactor::Reactor;
    /// use tulip_reactor::net::UnixListener;
    ///
    /// let reactor = Reactor::new()?;
    /// let _guard = reactor.enter();
    /// let path = std::env::temp_dir().join(format!("tulip-doc-bind-{}.sock", std::process::id()));
    /// let _ = std::fs::remove_file(&path);
    /// let listener = UnixListener::bind(&path)?;
    /// assert_eq!(listener.local_addr()?.as_pathname(), Some(path.as_path()));
    /// std::fs::remove_file(&path)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixListener> {
        UnixListener::bind_with(path, &UnixListenOptions::new())
    }

    /// Binds to `path` and listens with `options` (the backlog), registering with the
    /// current reactor.
    ///
    /// The socket is made non-blocking and close-on-exec from the start. On Linux, a
    /// path whose first byte is NUL (`"\0name"`) binds `name` in the abstract
    /// namespace: no file is created, and the name is released when the listener
    /// closes.
    ///
    /// # Errors
    ///
    /// [`io::ErrorKind::AddrInUse`] if the file (or abstract name) is taken,
    /// [`io::ErrorKind::InvalidInput`] for a path too long for a socket address,
    /// [`io::ErrorKind::NotFound`] if the parent directory is missing, or the error of
    /// `socket`, `bind`, `listen` or the registration (no current reactor included).
    ///
    /// ```
    /// # use std::future::Future;
    /// # fn block_on<F: Future>(r: &tulip_reactor::Reactor, f: F) -> F::Output {
    /// #     let mut f = std::pin::pin!(f);
    /// #     let cx = &mut std::task::Context::from_waker(std::task::Waker::noop());
    /// #     loop {
    /// #         if let std::task::Poll::Ready(v) = f.as_mut().poll(cx) { return v; }
    /// #         r.park(None, || true).unwrap();
    /// #     }
    /// # }
    /// use tulip_reactor::Reactor;
    /// use tulip_reactor::net::{UnixListenOptions, UnixListener, UnixStream};
    ///
    /// let reactor = Reactor::new()?;
    /// let _guard = reactor.enter();
    /// let path = std::env::temp_dir().join(format!("tulip-doc-bindw-{}.sock", std::process::id()));
    /// let _ = std::fs::remove_file(&path);
    /// let listener = UnixListener::bind_with(&path, &UnixListenOptions::new().backlog(8))?;
    /// let client = UnixStream::connect(&path);
    /// let (client, accepted) = block_on(&reactor, async {
    ///     let client = client.await?;
    ///     let accepted = listener.accept().await?;
    ///     Ok::<_, std::io::Error>((client, accepted))
    /// })?;
    /// // The path is taken until its file is removed.
    /// let taken = UnixListener::bind_with(&path, &UnixListenOptions::new()).unwrap_err();
    /// assert_eq!(taken.kind(), std::io::ErrorKind::AddrInUse);
    /// std::fs::remove_file(&path)?;
    /// # let _ = (client, accepted);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn bind_with(
        path: impl AsRef<Path>,
        options: &UnixListenOptions,
    ) -> io::Result<UnixListener> {
        let addr = SockAddr::unix(path)?;
        let socket = Socket::new(Domain::UNIX, Type::STREAM.nonblocking(), None)?;
        socket.bind(&addr)?;
        socket.listen(options.backlog_arg())?;
        Ok(UnixListener {
            io: Async::new(net::UnixListener::from(socket))?,
        })
    }

    /// Registers a listening standard socket with the current reactor, putting it in
    /// non-blocking mode.
    ///
    /// # Errors
    ///
    /// Without a current reactor, or if `fcntl` or the registration fails.
    ///
    /// ```
    /// use tulip_reactor::Reactor;
    /// use tulip_reactor::net::UnixListener;
    ///
    /// let reactor = Reactor::new()?;
    /// let _guard = reactor.enter();
    /// let path = std::env::temp_dir().join(format!("tulip-doc-from-{}.sock", std::process::id()));
    /// let _ = std::fs::remove_file(&path);
    /// let listener = UnixListener::from_std(std::os::unix::net::UnixListener::bind(&path)?)?;
    /// std::fs::remove_file(&path)?;
    /// # let _ = listener;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn from_std(listener: net::UnixListener) -> io::Result<UnixListener> {
        Ok(UnixListener {
            io: Async::new(listener)?,
        })
    }

    /// Deregisters the listener and gives back the standard one, still in non-blocking
    /// mode.
    ///
    /// # Errors
    ///
    /// If deregistration fails; the listener is then closed.
    ///
    /// ```
    /// use tulip_reactor::Reactor;
    /// use tulip_reactor::net::UnixListener;
    ///
    /// let reactor = Reactor::new()?;
    /// let _guard = reactor.enter();
    /// let path = std::env::temp_dir().join(format!("tulip-doc-into-{}.sock", std::process::id()));
    /// let _ = std::fs::remove_file(&path);
    /// let listener = UnixListener::bind(&path)?;
    /// listener.into_std()?.set_nonblocking(false)?;
    /// std::fs::remove_file(&path)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn into_std(self) -> io::Result<net::UnixListener> {
        self.io.into_inner()
    }

    /// Waits for a connection and accepts it; the stream is registered with the
    /// listener's reactor. The address is the peer's (usually unnamed).
    ///
    /// # Errors
    ///
    /// The error of `accept4(2)`, returned as it is; on `EMFILE`, `ENFILE`, `ENOBUFS`
    /// or `ENOMEM` an accept loop should back off rather than retry at once (see
    /// [`TcpListener::accept`](super::TcpListener::accept)).
    ///
    /// ```
    /// # use std::future::Future;
    /// # fn block_on<F: Future>(r: &tulip_reactor::Reactor, f: F) -> F::Output {
    /// #     let mut f = std::pin::pin!(f);
    /// #     let cx = &mut std::task::Context::from_waker(std::task::Waker::noop());
    /// #     loop {
    /// #         if let std::task::Poll::Ready(v) = f.as_mut().poll(cx) { return v; }
    /// #         r.park(None, || true).unwrap();
    /// #     }
    /// # }
    /// use tulip_reactor::Reactor;
    /// use tulip_reactor::net::UnixListener;
    ///
    /// let reactor = Reactor::new()?;
    /// let _guard = reactor.enter();
    /// let path = std::env::temp_dir().join(format!("tulip-doc-accept-{}.sock", std::process::id()));
    /// let _ = std::fs::remove_file(&path);
    /// let listener = UnixListener::bind(&path)?;
    /// let _client = std::os::unix::net::UnixStream::connect(&path)?;
    /// let (stream, peer) = block_on(&reactor, listener.accept())?;
    /// assert!(peer.is_unnamed());
    /// std::fs::remove_file(&path)?;
    /// # let _ = stream;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        let accepted = self.io.read_with(|l| l.accept()).await?;
        self.finish_accept(accepted)
    }

    /// Polls an accept (see [`accept`](UnixListener::accept)); on `Pending`, `cx`'s
    /// waker takes the listener's single read slot.
    ///
    /// # Errors
    ///
    /// As [`accept`](UnixListener::accept).
    ///
    /// ```
    /// use std::task::{Context, Waker};
    /// use tulip_reactor::Reactor;
    /// use tulip_reactor::net::UnixListener;
    ///
    /// let reactor = Reactor::new()?;
    /// let _guard = reactor.enter();
    /// let path = std::env::temp_dir().join(format!("tulip-doc-poll-{}.sock", std::process::id()));
    /// let _ = std::fs::remove_file(&path);
    /// let listener = UnixListener::bind(&path)?;
    /// let cx = &mut Context::from_waker(Waker::noop());
    /// assert!(listener.poll_accept(cx).is_pending());
    /// std::fs::remove_file(&path)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(UnixStream, SocketAddr)>> {
        let accepted = ready!(self.io.poll_read_with(cx, |l| l.accept()))?;
        Poll::Ready(self.finish_accept(accepted))
    }

    /// Registers an accepted stream (which `accept` returns in blocking mode) with the
    /// listener's reactor, which makes it non-blocking.
    fn finish_accept(
        &self,
        (stream, addr): (net::UnixStream, SocketAddr),
    ) -> io::Result<(UnixStream, SocketAddr)> {
        let io = Async::with_reactor(stream, self.io.reactor())?;
        Ok((
            UnixStream {
                inner: Stream::from_async(io),
            },
            addr,
        ))
    }

    /// The address the listener is bound to.
    ///
    /// # Errors
    ///
    /// The error of `getsockname(2)`.
    ///
    /// See [`bind`](UnixListener::bind)'s example.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }
}

impl AsFd for UnixListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.as_fd()
    }
}

impl AsRawFd for UnixListener {
    fn as_raw_fd(&self) -> RawFd {
        self.io.as_raw_fd()
    }
}

impl fmt::Debug for UnixListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("UnixListener")
            .field(self.io.get_ref())
            .finish()
    }
}

/// A Unix-domain datagram socket registered with a reactor.
///
/// Datagrams are reliable and ordered on a Unix socket; a send waits while the
/// receiver's queue is full.
///
/// ```
/// # use std::future::Future;
/// # fn block_on<F: Future>(r: &tulip_reactor::Reactor, f: F) -> F::Output {
/// #     let mut f = std::pin::pin!(f);
/// #     let cx = &mut std::task::Context::from_waker(std::task::Waker::noop());
/// #     loop {
/// #         if let std::task::Poll::Ready(v) = f.as_mut().poll(cx) { return v; }
/// #         r.park(None, || true).unwrap();
/// #     }
/// # }
/// use tulip_reactor::Reactor;
/// use tulip_reactor::net::UnixDatagram;
///
/// let reactor = Reactor::new()?;
/// let _guard = reactor.enter();
/// let (a, b) = UnixDatagram::pair()?;
/// let n = block_on(&reactor, async {
///     a.send(b"one datagram").await?;
///     let mut buf = [0; 64];
///     b.recv(&mut buf).await
/// })?;
/// assert_eq!(n, 12);
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct UnixDatagram {
    io: Async<net::UnixDatagram>,
}

impl UnixDatagram {
    /// A socket bound to `path`, registered with the current reactor.
    ///
    /// # Errors
    ///
    /// [`io::ErrorKind::AddrInUse`] if the file exists, [`io::ErrorKind::InvalidInput`]
    /// for a path too long, or the error of `socket`, `bind` or the registration.
    ///
    /// ```
    /// use tulip_reactor::Reactor;
    /// use tulip_reactor::net::UnixDatagram;
    ///
    /// let reactor = Reactor::new()?;
    /// let _guard = reactor.enter();
    /// let path = std::env::temp_dir().join(format!("tulip-doc-dgram-{}.sock", std::process::id()));
    /// let _ = std::fs::remove_file(&path);
    /// let socket = UnixDatagram::bind(&path)?;
    /// assert_eq!(socket.local_addr()?.as_pathname(), Some(path.as_path()));
    /// std::fs::remove_file(&path)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixDatagram> {
        UnixDatagram::from_std(net::UnixDatagram::bind(path)?)
    }

    /// A socket bound to no address (it can send, and receive replies once
    /// connected), registered with the current reactor.
    ///
    /// # Errors
    ///
    /// The error of `socket` or of the registration.
    ///
    /// ```
    /// use tulip_reactor::Reactor;
    /// use tulip_reactor::net::UnixDatagram;
    ///
    /// let reactor = Reactor::new()?;
    /// let _guard = reactor.enter();
    /// let socket = UnixDatagram::unbound()?;
    /// assert!(socket.local_addr()?.is_unnamed());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn unbound() -> io::Result<UnixDatagram> {
        UnixDatagram::from_std(net::UnixDatagram::unbound()?)
    }

    /// A pair of connected sockets (`socketpair(2)`), registered with the current
    /// reactor.
    ///
    /// # Errors
    ///
    /// The error of `socketpair` or of the registration.
    ///
    /// See the [type's example](UnixDatagram).
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        let (a, b) = net::UnixDatagram::pair()?;
        Ok((UnixDatagram::from_std(a)?, UnixDatagram::from_std(b)?))
    }

    /// Registers a standard socket with the current reactor, putting it in non-blocking
    /// mode.
    ///
    /// # Errors
    ///
    /// Without a current reactor, or if `fcntl` or the registration fails.
    ///
    /// ```
    /// use tulip_reactor::Reactor;
    /// use tulip_reactor::net::UnixDatagram;
    ///
    /// let reactor = Reactor::new()?;
    /// let _guard = reactor.enter();
    /// let socket = UnixDatagram::from_std(std::os::unix::net::UnixDatagram::unbound()?)?;
    /// # let _ = socket;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn from_std(socket: net::UnixDatagram) -> io::Result<UnixDatagram> {
        Ok(UnixDatagram {
            io: Async::new(socket)?,
        })
    }

    /// Deregisters the socket and gives back the standard one, still in non-blocking
    /// mode.
    ///
    /// # Errors
    ///
    /// If deregistration fails; the socket is then closed.
    ///
    /// ```
    /// use tulip_reactor::Reactor;
    /// use tulip_reactor::net::UnixDatagram;
    ///
    /// let reactor = Reactor::new()?;
    /// let _guard = reactor.enter();
    /// let socket = UnixDatagram::unbound()?;
    /// socket.into_std()?.set_nonblocking(false)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn into_std(self) -> io::Result<net::UnixDatagram> {
        self.io.into_inner()
    }

    /// Sets the default destination for [`send`](UnixDatagram::send) and the only
    /// source [`recv`](UnixDatagram::recv) accepts.
    ///
    /// # Errors
    ///
    /// [`io::ErrorKind::NotFound`] if nothing is bound at `path`, or the error of
    /// `connect(2)`.
    ///
    /// ```
    /// use tulip_reactor::Reactor;
    /// use tulip_reactor::net::UnixDatagram;
    ///
    /// let reactor = Reactor::new()?;
    /// let _guard = reactor.enter();
    /// let path = std::env::temp_dir().join(format!("tulip-doc-dconn-{}.sock", std::process::id()));
    /// let _ = std::fs::remove_file(&path);
    /// let server = UnixDatagram::bind(&path)?;
    /// let client = UnixDatagram::unbound()?;
    /// client.connect(&path)?;
    /// assert_eq!(client.peer_addr()?.as_pathname(), Some(path.as_path()));
    /// std::fs::remove_file(&path)?;
    /// # drop(server);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn connect(&self, path: impl AsRef<Path>) -> io::Result<()> {
        self.io.get_ref().connect(path)
    }

    /// Sends `buf` as one datagram to the socket bound at `path`, waiting while the
    /// receiver's queue is full.
    ///
    /// # Errors
    ///
    /// The error of `sendto(2)` ([`io::ErrorKind::NotFound`] if nothing is bound at
    /// `path`, `EMSGSIZE` for a datagram too large, ...).
    ///
    /// ```
    /// # use std::future::Future;
    /// # fn block_on<F: Future>(r: &tulip_reactor::Reactor, f: F) -> F::Output {
    /// #     let mut f = std::pin::pin!(f);
    /// #     let cx = &mut std::task::Context::from_waker(std::task::Waker::noop());
    /// #     loop {
    /// #         if let std::task::Poll::Ready(v) = f.as_mut().poll(cx) { return v; }
    /// #         r.park(None, || true).unwrap();
    /// #     }
    /// # }
    /// use tulip_reactor::Reactor;
    /// use tulip_reactor::net::UnixDatagram;
    ///
    /// let reactor = Reactor::new()?;
    /// let _guard = reactor.enter();
    /// let path = std::env::temp_dir().join(format!("tulip-doc-sendto-{}.sock", std::process::id()));
    /// let _ = std::fs::remove_file(&path);
    /// let server = UnixDatagram::bind(&path)?;
    /// let client = UnixDatagram::unbound()?;
    /// block_on(&reactor, client.send_to(b"note", &path))?;
    /// let mut buf = [0; 8];
    /// let (n, _from) = block_on(&reactor, server.recv_from(&mut buf))?;
    /// assert_eq!(&buf[..n], b"note");
    /// std::fs::remove_file(&path)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn send_to(&self, buf: &[u8], path: impl AsRef<Path>) -> io::Result<usize> {
        let path = path.as_ref();
        self.io.write_with(|s| s.send_to(buf, path)).await
    }

    /// Receives one datagram into `buf`, waiting until one arrives. Returns its length
    /// (at most `buf.len()`) and the sender's address.
    ///
    /// # Errors
    ///
    /// The error of `recvfrom(2)`.
    ///
    /// See [`send_to`](UnixDatagram::send_to)'s example.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.read_with(|s| s.recv_from(buf)).await
    }

    /// Sends `buf` as one datagram to the connected peer.
    ///
    /// # Errors
    ///
    /// The error of `send(2)`; [`io::ErrorKind::NotConnected`] without a peer.
    ///
    /// See the [type's example](UnixDatagram).
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.write_with(|s| s.send(buf)).await
    }

    /// Receives one datagram from the connected peer into `buf`.
    ///
    /// # Errors
    ///
    /// The error of `recv(2)`.
    ///
    /// See the [type's example](UnixDatagram).
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.read_with(|s| s.recv(buf)).await
    }

    /// The address the socket is bound to (unnamed if unbound).
    ///
    /// # Errors
    ///
    /// The error of `getsockname(2)`.
    ///
    /// See [`bind`](UnixDatagram::bind)'s example.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The connected peer's address.
    ///
    /// # Errors
    ///
    /// [`io::ErrorKind::NotConnected`] if the socket is not connected.
    ///
    /// See [`connect`](UnixDatagram::connect)'s example.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }
}

impl AsFd for UnixDatagram {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.as_fd()
    }
}

impl AsRawFd for UnixDatagram {
    fn as_raw_fd(&self) -> RawFd {
        self.io.as_raw_fd()
    }
}

impl fmt::Debug for UnixDatagram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("UnixDatagram")
            .field(self.io.get_ref())
            .finish()
    }
}
