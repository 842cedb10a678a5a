//! TCP: [`TcpStream`], [`TcpListener`] and their options.

use std::fmt;
use std::io;
use std::net::{self, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use socket2::{Domain, Protocol, SockAddr, SockRef, Socket, TcpKeepalive, Type};

use super::options::{ConnectOptions, ListenOptions};
use super::stream::{self, Stream, stream_api};
use crate::io::Async;

/// A TCP connection registered with a reactor.
///
/// Created by [`connect`](TcpStream::connect), by [`TcpListener::accept`] or from a
/// standard stream with [`from_std`](TcpStream::from_std). All methods take `&self`:
/// share the stream (for instance in an `Arc`) between a reader and a writer task.
/// Dropping it closes the connection.
///
/// Besides its own `async` methods it implements [`futures_io::AsyncRead`] and
/// [`futures_io::AsyncWrite`], for `TcpStream` and for `&TcpStream`; `poll_flush` does
/// nothing (there is no buffer) and `poll_close` shuts the write half down.
pub struct TcpStream {
    inner: Stream<net::TcpStream>,
}

/// A non-blocking, close-on-exec TCP socket for `addr`'s family.
fn tcp_socket(addr: &SocketAddr) -> io::Result<Socket> {
    Socket::new(
        Domain::for_address(*addr),
        Type::STREAM.nonblocking(),
        Some(Protocol::TCP),
    )
}

impl TcpStream {
    /// Connects to `addr` with the default [`ConnectOptions`] (`TCP_NODELAY` on).
    ///
    /// The connect is non-blocking: the socket is registered with the current reactor
    /// and the future waits until the connection is established or fails.
    ///
    /// # Errors
    ///
    /// The connection's error ([`io::ErrorKind::ConnectionRefused`] when nothing
    /// listens, a timeout from the system, ...), or the error of creating or
    /// registering the socket (no current reactor included).
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
    /// use tulip_reactor::net::TcpStream;
    ///
    /// let reactor = Reactor::new()?;
    /// let _guard = reactor.enter();
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let stream = block_on(&reactor, TcpStream::connect(listener.local_addr()?))?;
    /// assert_eq!(stream.peer_addr()?, listener.local_addr()?);
    /// assert!(stream.nodelay()?);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
        TcpStream::connect_with(addr, &ConnectOptions::new()).await
    }

    /// Connects to `addr` after applying `options` to the socket.
    ///
    /// # Errors
    ///
    /// As [`connect`](TcpStream::connect), plus the error of applying an option (for
    /// instance binding to a local address that is in use).
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
    /// use tulip_reactor::net::{ConnectOptions, TcpStream};
    ///
    /// let reactor = Reactor::new()?;
    /// let _guard = reactor.enter();
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let options = ConnectOptions::new().nodelay(false);
    /// let stream = block_on(&reactor, TcpStream::connect_with(listener.local_addr()?, &options))?;
    /// assert!(!stream.nodelay()?);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn connect_with(addr: SocketAddr, options: &ConnectOptions) -> io::Result<TcpStream> {
        let socket = tcp_socket(&addr)?;
        options.apply(&socket)?;
        let io = stream::connect(socket, &SockAddr::from(addr)).await?;
        Ok(TcpStream {
            inner: Stream::from_async(io),
        })
    }

    /// Reads into `buf` without removing the data from the socket's queue, waiting
    /// until at least one byte (or EOF) is available.
    ///
    /// # Errors
    ///
    /// The error of `recv(2)` with `MSG_PEEK`.
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
    /// use std::io::Write;
    /// use tulip_reactor::Reactor;
    /// use tulip_reactor::net::TcpStream;
    ///
    /// let reactor = Reactor::new()?;
    /// let _guard = reactor.enter();
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let stream = TcpStream::from_std(std::net::TcpStream::connect(listener.local_addr()?)?)?;
    /// listener.accept()?.0.write_all(b"x")?;
    /// let mut buf = [0; 1];
    /// block_on(&reactor, stream.peek(&mut buf))?;
    /// block_on(&reactor, stream.read(&mut buf))?; // still there
    /// assert_eq!(&buf, b"x");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.as_async().read_with(|s| s.peek(buf)).await
    }

    /// Polls a peek into `buf` (see [`peek`](TcpStream::peek)); on `Pending`, `cx`'s
    /// waker takes the single read slot.
    ///
    /// # Errors
    ///
    /// As [`peek`](TcpStream::peek).
    ///
    /// ```
    /// use std::task::{Context, Waker};
    /// use tulip_reactor::Reactor;
    /// use tulip_reactor::net::TcpStream;
    ///
    /// let reactor = Reactor::new()?;
    /// let _guard = reactor.enter();
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let stream = TcpStream::from_std(std::net::TcpStream::connect(listener.local_addr()?)?)?;
    /// let cx = &mut Context::from_waker(Waker::noop());
    /// assert!(stream.poll_peek(cx, &mut [0; 8]).is_pending());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn poll_peek(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.inner.as_async().poll_read_with(cx, |s| s.peek(buf))
    }

    /// Sets `TCP_NODELAY` (on disables Nagle's algorithm: small writes go out at once).
    ///
    /// # Errors
    ///
    /// The error of `setsockopt(2)`.
    ///
    /// ```
    /// use tulip_reactor::Reactor;
    /// use tulip_reactor::net::TcpStream;
    ///
    /// let reactor = Reactor::new()?;
    /// let _guard = reactor.enter();
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let stream = TcpStream::from_std(std::net::TcpStream::connect(listener.local_addr()?)?)?;
    /// stream.set_nodelay(true)?;
    /// assert!(stream.nodelay()?);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.inner.get_ref().set_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
    ///
    /// # Errors
    ///
    /// The error of `getsockopt(2)`.
    ///
    /// ```
    /// use tulip_reactor::Reactor;
    /// use tulip_reactor::net::TcpStream;
    ///
    /// let reactor = Reactor::new()?;
    /// let _guard = reactor.enter();
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let std_stream = std::net::TcpStream::connect(listener.local_addr()?)?;
    /// std_stream.set_nodelay(false)?;
    /// assert!(!TcpStream::from_std(std_stream)?.nodelay()?);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn nodelay(&self) -> io::Result<bool> {
        self.inner.get_ref().nodelay()
    }

    /// Enables `SO_KEEPALIVE` with `idle` as the time before the first probe
    /// (`TCP_KEEPIDLE`), or disables it with `None`.
    ///
    /// # Errors
    ///
    /// The error of `setsockopt(2)` (a zero `idle` is invalid).
    ///
    /// ```
    /// use std::time::Duration;
    /// use tulip_reactor::Reactor;
    /// use tulip_reactor::net::TcpStream;
    ///
    /// let reactor = Reactor::new()?;
    /// let _guard = reactor.enter();
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let stream = TcpStream::from_std(std::net::TcpStream::connect(listener.local_addr()?)?)?;
    /// stream.set_keepalive(Some(Duration::from_secs(60)))?;
    /// assert!(stream.keepalive()?);
    /// stream.set_keepalive(None)?;
    /// assert!(!stream.keepalive()?);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_keepalive(&self, idle: Option<Duration>) -> io::Result<()> {
        let socket = self.inner.socket();
        match idle {
            Some(idle) => socket.set_tcp_keepalive(&TcpKeepalive::new().with_time(idle)),
            None => socket.set_keepalive(false),
        }
    }

    /// Whether `SO_KEEPALIVE` is set.
    ///
    /// # Errors
    ///
    /// The error of `getsockopt(2)`.
    ///
    /// ```
    /// use tulip_reactor::Reactor;
    /// use tulip_reactor::net::TcpStream;
    ///
    /// let reactor = Reactor::new()?;
    /// let _guard = reactor.enter();
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let stream = TcpStream::from_std(std::net::TcpStream::connect(listener.local_addr()?)?)?;
    /// assert!(!stream.keepalive()?);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn keepalive(&self) -> io::Result<bool> {
        self.inner.socket().keepalive()
    }

    /// Sets `SO_LINGER`. `Some(Duration::ZERO)` makes dropping the stream reset the
    /// connection (RST) instead of closing it gracefully: asyncio's `transport.abort()`.
    ///
    /// # Errors
    ///
    /// The error of `setsockopt(2)`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tulip_reactor::Reactor;
    /// use tulip_reactor::net::TcpStream;
    ///
    /// let reactor = Reactor::new()?;
    /// let _guard = reactor.enter();
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let stream = TcpStream::from_std(std::net::TcpStream::connect(listener.local_addr()?)?)?;
    /// stream.set_linger(Some(Duration::ZERO))?;
    /// assert_eq!(stream.linger()?, Some(Duration::ZERO));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_linger(&self, linger: Option<Duration>) -> io::Result<()> {
        self.inner.socket().set_linger(linger)
    }

    /// The `SO_LINGER` setting.
    ///
    /// # Errors
    ///
    /// The error of `getsockopt(2)`.
    ///
    /// ```
    /// use tulip_reactor::Reactor;
    /// use tulip_reactor::net::TcpStream;
    ///
    /// let reactor = Reactor::new()?;
    /// let _guard = reactor.enter();
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let stream = TcpStream::from_std(std::net::TcpStream::connect(listener.local_addr()?)?)?;
    /// assert_eq!(stream.linger()?, None);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn linger(&self) -> io::Result<Option<Duration>> {
        self.inner.socket().linger()
    }

    /// The size of the send buffer (`SO_SNDBUF`), as the kernel reports it.
    ///
    /// # Errors
    ///
    /// The error of `getsockopt(2)`.
    ///
    /// ```
    /// use tulip_reactor::Reactor;
    /// use tulip_reactor::net::TcpStream;
    ///
    /// let reactor = Reactor::new()?;
    /// let _guard = reactor.enter();
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let stream = TcpStream::from_std(std::net::TcpStream::connect(listener.local_addr()?)?)?;
    /// assert!(stream.send_buffer_size()? > 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn send_buffer_size(&self) -> io::Result<usize> {
        self.inner.socket().send_buffer_size()
    }

    /// Sets `SO_SNDBUF` (Linux doubles the value, within `net.core.wmem_max`).
    ///
    /// # Errors
    ///
    /// The error of `setsockopt(2)`.
    ///
    /// ```
    /// use tulip_reactor::Reactor;
    /// use tulip_reactor::net::TcpStream;
    ///
    /// let reactor = Reactor::new()?;
    /// let _guard = reactor.enter();
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let stream = TcpStream::from_std(std::net::TcpStream::connect(listener.local_addr()?)?)?;
    /// stream.set_send_buffer_size(64 * 1024)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_send_buffer_size(&self, size: usize) -> io::Result<()> {
        self.inner.socket().set_send_buffer_size(size)
    }

    /// The size of the receive buffer (`SO_RCVBUF`), as the kernel reports it.
    ///
    /// # Errors
    ///
    /// The error of `getsockopt(2)`.
    ///
    /// ```
    /// use tulip_reactor::Reactor;
    /// use tulip_reactor::net::TcpStream;
    ///
    /// let reactor = Reactor::new()?;
    /// let _guard = reactor.enter();
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let stream = TcpStream::from_std(std::net::TcpStream::connect(listener.local_addr()?)?)?;
    /// assert!(stream.recv_buffer_size()? > 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn recv_buffer_size(&self) -> io::Result<usize> {
        self.inner.socket().recv_buffer_size()
    }

    /// Sets `SO_RCVBUF` (Linux doubles the value, within `net.core.rmem_max`).
    ///
    /// # Errors
    ///
    /// The error of `setsockopt(2)`.
    ///
    /// ```
    /// use tulip_reactor::Reactor;
    /// use tulip_reactor::net::TcpStream;
    ///
    /// let reactor = Reactor::new()?;
    /// let _guard = reactor.enter();
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let stream = TcpStream::from_std(std::net::TcpStream::connect(listener.local_addr()?)?)?;
    /// stream.set_recv_buffer_size(64 * 1024)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_recv_buffer_size(&self, size: usize) -> io::Result<()> {
        self.inner.socket().set_recv_buffer_size(size)
    }
}

stream_api! {
    type: TcpStream,
    std: net::TcpStream,
    addr: SocketAddr,
    setup: "let listener = std::net::TcpListener::bind(\"127.0.0.1:0\")?;
let a = TcpStream::from_std(std::net::TcpStream::connect(listener.local_addr()?)?)?;
let b = TcpStream::from_std(listener.accept()?.0)?;
",
}

/// A TCP socket listening for connections, registered with a reactor.
///
/// Accepted streams are registered with the listener's reactor and have
/// `TCP_NODELAY` on.
pub struct TcpListener {
    io: Async<net::TcpListener>,
}

impl TcpListener {
    /// Binds to `addr` and listens with the default [`ListenOptions`]
    /// (`SO_REUSEADDR`, backlog 100). Port 0 picks a free port: see
    /// [`local_addr`](TcpListener::local_addr).
    ///
    /// # Errors
    ///
    /// The error of `socket`, `bind` ([`io::ErrorKind::AddrInUse`],
    /// [`io::ErrorKind::AddrNotAvailable`], ...) or `listen`, or of the registration
    /// (no current reactor included).
    ///
    /// ```
    /// use tulip_reactor::Reactor;
    /// use tulip_reactor::net::TcpListener;
    ///
    /// let reactor = Reactor::new()?;
    /// let _guard = reactor.enter();
    /// let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap())?;
    /// assert_ne!(listener.local_addr()?.port(), 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
        TcpListener::bind_with(addr, &ListenOptions::new())
    }

    /// Binds to `addr` and listens, with `options`.
    ///
    /// # Errors
    ///
    /// As [`bind`](TcpListener::bind), plus the error of setting an option.
    ///
    /// ```
    /// use tulip_reactor::Reactor;
    /// use tulip_reactor::net::{ListenOptions, TcpListener};
    ///
    /// let reactor = Reactor::new()?;
    /// let _guard = reactor.enter();
    /// let options = ListenOptions::new().reuse_port(true).backlog(16);
    /// let a = TcpListener::bind_with("127.0.0.1:0".parse().unwrap(), &options)?;
    /// let b = TcpListener::bind_with(a.local_addr()?, &options)?; // shares the port
    /// assert_eq!(a.local_addr()?, b.local_addr()?);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn bind_with(addr: SocketAddr, options: &ListenOptions) -> io::Result<TcpListener> {
        let socket = tcp_socket(&addr)?;
        options.apply(&socket, &addr)?;
        socket.bind(&SockAddr::from(addr))?;
        socket.listen(options.backlog_arg())?;
        Ok(TcpListener {
            io: Async::new(net::TcpListener::from(socket))?,
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
    /// use tulip_reactor::net::TcpListener;
    ///
    /// let reactor = Reactor::new()?;
    /// let _guard = reactor.enter();
    /// let listener = TcpListener::from_std(std::net::TcpListener::bind("127.0.0.1:0")?)?;
    /// # let _ = listener;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn from_std(listener: net::TcpListener) -> io::Result<TcpListener> {
        Ok(TcpListener {
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
    /// use tulip_reactor::net::TcpListener;
    ///
    /// let reactor = Reactor::new()?;
    /// let _guard = reactor.enter();
    /// let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap())?;
    /// let std_listener = listener.into_std()?;
    /// std_listener.set_nonblocking(false)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn into_std(self) -> io::Result<net::TcpListener> {
        self.io.into_inner()
    }

    /// Waits for a connection and accepts it (`accept4(2)` with `SOCK_NONBLOCK` and
    /// `SOCK_CLOEXEC`). The stream has `TCP_NODELAY` on and is registered with the
    /// listener's reactor; the address is the peer's.
    ///
    /// # Errors
    ///
    /// The error of `accept4(2)`, returned as it is. Some are about one connection
    /// (`ECONNABORTED`: accept again at once); others mean the process is out of a
    /// resource (`EMFILE`, `ENFILE`, `ENOBUFS`, `ENOMEM`): the pending connection stays
    /// queued and the listener stays readable, so accepting again at once would spin.
    /// An accept loop should back off (sleep a little) on those, as tulip-streams'
    /// server does.
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
    /// use tulip_reactor::net::TcpListener;
    ///
    /// let reactor = Reactor::new()?;
    /// let _guard = reactor.enter();
    /// let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap())?;
    /// let client = std::net::TcpStream::connect(listener.local_addr()?)?;
    /// let (stream, peer) = block_on(&reactor, listener.accept())?;
    /// assert_eq!(peer, client.local_addr()?);
    /// assert!(stream.nodelay()?);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let accepted = self.io.read_with(accept4).await?;
        self.finish_accept(accepted)
    }

    /// Polls an accept (see [`accept`](TcpListener::accept)); on `Pending`, `cx`'s
    /// waker takes the listener's single read slot (replacing the previous poller's).
    ///
    /// # Errors
    ///
    /// As [`accept`](TcpListener::accept).
    ///
    /// ```
    /// use std::task::{Context, Waker};
    /// use tulip_reactor::Reactor;
    /// use tulip_reactor::net::TcpListener;
    ///
    /// let reactor = Reactor::new()?;
    /// let _guard = reactor.enter();
    /// let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap())?;
    /// let cx = &mut Context::from_waker(Waker::noop());
    /// assert!(listener.poll_accept(cx).is_pending()); // nobody connected yet
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        let accepted = ready!(self.io.poll_read_with(cx, accept4))?;
        Poll::Ready(self.finish_accept(accepted))
    }

    fn finish_accept(
        &self,
        (socket, addr): (Socket, SockAddr),
    ) -> io::Result<(TcpStream, SocketAddr)> {
        socket.set_tcp_nodelay(true)?;
        let addr = addr.as_socket().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                "accept returned a non-IP address",
            )
        })?;
        // accept4 made it non-blocking.
        let io = Async::register_nonblocking(net::TcpStream::from(socket), self.io.reactor())?;
        Ok((
            TcpStream {
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
    /// ```
    /// use tulip_reactor::Reactor;
    /// use tulip_reactor::net::TcpListener;
    ///
    /// let reactor = Reactor::new()?;
    /// let _guard = reactor.enter();
    /// let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap())?;
    /// assert!(listener.local_addr()?.ip().is_loopback());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }
}

fn accept4(listener: &net::TcpListener) -> io::Result<(Socket, SockAddr)> {
    SockRef::from(listener).accept4(libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC)
}

impl AsFd for TcpListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.as_fd()
    }
}

impl AsRawFd for TcpListener {
    fn as_raw_fd(&self) -> RawFd {
        self.io.as_raw_fd()
    }
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("TcpListener")
            .field(self.io.get_ref())
            .finish()
    }
}
