//! UDP: [`UdpSocket`].

use std::fmt;
use std::io;
use std::net::{self, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::task::{Context, Poll};

use socket2::SockRef;

use crate::io::Async;

/// A UDP socket registered with a reactor.
///
/// All methods take `&self`; a sender and a receiver task may share the socket. Each
/// send is one datagram; a receive into a buffer shorter than the datagram keeps the
/// start of it and discards the rest.
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
/// use tulip_reactor::net::UdpSocket;
///
/// let reactor = Reactor::new()?;
/// let _guard = reactor.enter();
/// let a = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
/// let b = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
/// let (n, from) = block_on(&reactor, async {
///     a.send_to(b"datagram", b.local_addr()?).await?;
///     let mut buf = [0; 64];
///     b.recv_from(&mut buf).await
/// })?;
/// assert_eq!((n, from), (8, a.local_addr()?));
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct UdpSocket {
    io: Async<net::UdpSocket>,
}

impl UdpSocket {
    /// Binds a socket to `addr` (port 0 picks a free port) and registers it with the
    /// current reactor.
    ///
    /// # Errors
    ///
    /// The error of `socket` or `bind` ([`io::ErrorKind::AddrInUse`], ...), or of the
    /// registration (no current reactor included).
    ///
    /// ```
    /// use tulip_reactor::Reactor;
    /// use tulip_reactor::net::UdpSocket;
    ///
    /// let reactor = Reactor::new()?;
    /// let _guard = reactor.enter();
    /// let socket = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// assert_ne!(socket.local_addr()?.port(), 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn bind(addr: SocketAddr) -> io::Result<UdpSocket> {
        UdpSocket::from_std(net::UdpSocket::bind(addr)?)
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
    /// use tulip_reactor::net::UdpSocket;
    ///
    /// let reactor = Reactor::new()?;
    /// let _guard = reactor.enter();
    /// let socket = UdpSocket::from_std(std::net::UdpSocket::bind("127.0.0.1:0")?)?;
    /// # let _ = socket;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn from_std(socket: net::UdpSocket) -> io::Result<UdpSocket> {
        Ok(UdpSocket {
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
    /// use tulip_reactor::net::UdpSocket;
    ///
    /// let reactor = Reactor::new()?;
    /// let _guard = reactor.enter();
    /// let socket = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// socket.into_std()?.set_nonblocking(false)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn into_std(self) -> io::Result<net::UdpSocket> {
        self.io.into_inner()
    }

    /// Sets the default destination for [`send`](UdpSocket::send) and the only source
    /// [`recv`](UdpSocket::recv) accepts. Does not wait: UDP has no handshake.
    ///
    /// # Errors
    ///
    /// The error of `connect(2)`.
    ///
    /// ```
    /// use tulip_reactor::Reactor;
    /// use tulip_reactor::net::UdpSocket;
    ///
    /// let reactor = Reactor::new()?;
    /// let _guard = reactor.enter();
    /// let a = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// let b = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// a.connect(b.local_addr()?)?;
    /// assert_eq!(a.peer_addr()?, b.local_addr()?);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn connect(&self, addr: SocketAddr) -> io::Result<()> {
        self.io.get_ref().connect(addr)
    }

    /// Sends `buf` as one datagram to `target`, waiting for room in the send buffer.
    /// Returns the number of bytes sent.
    ///
    /// # Errors
    ///
    /// The error of `sendto(2)` ([`io::ErrorKind::InvalidInput`] for an address of the
    /// wrong family, `EMSGSIZE` for a datagram too large, ...).
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
    /// use tulip_reactor::net::UdpSocket;
    ///
    /// let reactor = Reactor::new()?;
    /// let _guard = reactor.enter();
    /// let a = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// let b = std::net::UdpSocket::bind("127.0.0.1:0")?;
    /// assert_eq!(block_on(&reactor, a.send_to(b"hi", b.local_addr()?))?, 2);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        self.io.write_with(|s| s.send_to(buf, target)).await
    }

    /// Receives one datagram into `buf`, waiting until one arrives. Returns its length
    /// (at most `buf.len()`) and its source.
    ///
    /// # Errors
    ///
    /// The error of `recvfrom(2)` (for instance [`io::ErrorKind::ConnectionRefused`],
    /// reported by ICMP for an earlier send, on a connected socket).
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
    /// use tulip_reactor::net::UdpSocket;
    ///
    /// let reactor = Reactor::new()?;
    /// let _guard = reactor.enter();
    /// let a = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// let b = std::net::UdpSocket::bind("127.0.0.1:0")?;
    /// b.send_to(b"hello", a.local_addr()?)?;
    /// let mut buf = [0; 16];
    /// let (n, from) = block_on(&reactor, a.recv_from(&mut buf))?;
    /// assert_eq!((&buf[..n], from), (&b"hello"[..], b.local_addr()?));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.read_with(|s| s.recv_from(buf)).await
    }

    /// Like [`recv_from`](UdpSocket::recv_from), but leaves the datagram queued.
    ///
    /// # Errors
    ///
    /// The error of `recvfrom(2)` with `MSG_PEEK`.
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
    /// use tulip_reactor::net::UdpSocket;
    ///
    /// let reactor = Reactor::new()?;
    /// let _guard = reactor.enter();
    /// let a = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// let b = std::net::UdpSocket::bind("127.0.0.1:0")?;
    /// b.send_to(b"x", a.local_addr()?)?;
    /// let mut buf = [0; 4];
    /// let peeked = block_on(&reactor, a.peek_from(&mut buf))?;
    /// let received = block_on(&reactor, a.recv_from(&mut buf))?;
    /// assert_eq!(peeked, received);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.read_with(|s| s.peek_from(buf)).await
    }

    /// Sends `buf` as one datagram to the connected peer (see
    /// [`connect`](UdpSocket::connect)).
    ///
    /// # Errors
    ///
    /// The error of `send(2)`; [`io::ErrorKind::NotConnected`] without a peer.
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
    /// use tulip_reactor::net::UdpSocket;
    ///
    /// let reactor = Reactor::new()?;
    /// let _guard = reactor.enter();
    /// let a = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// let b = std::net::UdpSocket::bind("127.0.0.1:0")?;
    /// a.connect(b.local_addr()?)?;
    /// assert_eq!(block_on(&reactor, a.send(b"hey"))?, 3);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.write_with(|s| s.send(buf)).await
    }

    /// Receives one datagram from the connected peer into `buf`.
    ///
    /// # Errors
    ///
    /// The error of `recv(2)`.
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
    /// use tulip_reactor::net::UdpSocket;
    ///
    /// let reactor = Reactor::new()?;
    /// let _guard = reactor.enter();
    /// let a = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// let b = std::net::UdpSocket::bind("127.0.0.1:0")?;
    /// a.connect(b.local_addr()?)?;
    /// b.send_to(b"yo", a.local_addr()?)?;
    /// let mut buf = [0; 8];
    /// assert_eq!(block_on(&reactor, a.recv(&mut buf))?, 2);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.read_with(|s| s.recv(buf)).await
    }

    /// Polls a [`send_to`](UdpSocket::send_to); on `Pending`, `cx`'s waker takes the
    /// socket's single write slot (replacing the previous poller's).
    ///
    /// # Errors
    ///
    /// As [`send_to`](UdpSocket::send_to).
    ///
    /// ```
    /// use std::task::{Context, Poll, Waker};
    /// use tulip_reactor::Reactor;
    /// use tulip_reactor::net::UdpSocket;
    ///
    /// let reactor = Reactor::new()?;
    /// let _guard = reactor.enter();
    /// let a = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// let cx = &mut Context::from_waker(Waker::noop());
    /// let sent = a.poll_send_to(cx, b"ping", a.local_addr()?);
    /// assert!(matches!(sent, Poll::Ready(Ok(4))));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn poll_send_to(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        target: SocketAddr,
    ) -> Poll<io::Result<usize>> {
        self.io.poll_write_with(cx, |s| s.send_to(buf, target))
    }

    /// Polls a [`recv_from`](UdpSocket::recv_from); on `Pending`, `cx`'s waker takes
    /// the socket's single read slot.
    ///
    /// # Errors
    ///
    /// As [`recv_from`](UdpSocket::recv_from).
    ///
    /// ```
    /// use std::task::{Context, Waker};
    /// use tulip_reactor::Reactor;
    /// use tulip_reactor::net::UdpSocket;
    ///
    /// let reactor = Reactor::new()?;
    /// let _guard = reactor.enter();
    /// let a = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// let cx = &mut Context::from_waker(Waker::noop());
    /// assert!(a.poll_recv_from(cx, &mut [0; 8]).is_pending());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        self.io.poll_read_with(cx, |s| s.recv_from(buf))
    }

    /// Polls a [`send`](UdpSocket::send); on `Pending`, `cx`'s waker takes the single
    /// write slot.
    ///
    /// # Errors
    ///
    /// As [`send`](UdpSocket::send).
    ///
    /// ```
    /// use std::task::{Context, Poll, Waker};
    /// use tulip_reactor::Reactor;
    /// use tulip_reactor::net::UdpSocket;
    ///
    /// let reactor = Reactor::new()?;
    /// let _guard = reactor.enter();
    /// let a = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// a.connect(a.local_addr()?)?;
    /// let cx = &mut Context::from_waker(Waker::noop());
    /// assert!(matches!(a.poll_send(cx, b"me"), Poll::Ready(Ok(2))));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.io.poll_write_with(cx, |s| s.send(buf))
    }

    /// Polls a [`recv`](UdpSocket::recv); on `Pending`, `cx`'s waker takes the single
    /// read slot.
    ///
    /// # Errors
    ///
    /// As [`recv`](UdpSocket::recv).
    ///
    /// ```
    /// use std::task::{Context, Waker};
    /// use tulip_reactor::Reactor;
    /// use tulip_reactor::net::UdpSocket;
    ///
    /// let reactor = Reactor::new()?;
    /// let _guard = reactor.enter();
    /// let a = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// a.connect(a.local_addr()?)?;
    /// let cx = &mut Context::from_waker(Waker::noop());
    /// assert!(a.poll_recv(cx, &mut [0; 8]).is_pending());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.io.poll_read_with(cx, |s| s.recv(buf))
    }

    /// The address the socket is bound to.
    ///
    /// # Errors
    ///
    /// The error of `getsockname(2)`.
    ///
    /// ```
    /// use tulip_reactor::Reactor;
    /// use tulip_reactor::net::UdpSocket;
    ///
    /// let reactor = Reactor::new()?;
    /// let _guard = reactor.enter();
    /// let a = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// assert!(a.local_addr()?.ip().is_loopback());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The connected peer's address.
    ///
    /// # Errors
    ///
    /// [`io::ErrorKind::NotConnected`] if the socket is not connected.
    ///
    /// ```
    /// use tulip_reactor::Reactor;
    /// use tulip_reactor::net::UdpSocket;
    ///
    /// let reactor = Reactor::new()?;
    /// let _guard = reactor.enter();
    /// let a = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// assert_eq!(a.peer_addr().unwrap_err().kind(), std::io::ErrorKind::NotConnected);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Sets `SO_BROADCAST` (permission to send to a broadcast address).
    ///
    /// # Errors
    ///
    /// The error of `setsockopt(2)`.
    ///
    /// ```
    /// use tulip_reactor::Reactor;
    /// use tulip_reactor::net::UdpSocket;
    ///
    /// let reactor = Reactor::new()?;
    /// let _guard = reactor.enter();
    /// let a = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// a.set_broadcast(true)?;
    /// assert!(a.broadcast()?);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_broadcast(&self, broadcast: bool) -> io::Result<()> {
        self.io.get_ref().set_broadcast(broadcast)
    }

    /// Whether `SO_BROADCAST` is set.
    ///
    /// # Errors
    ///
    /// The error of `getsockopt(2)`.
    ///
    /// ```
    /// use tulip_reactor::Reactor;
    /// use tulip_reactor::net::UdpSocket;
    ///
    /// let reactor = Reactor::new()?;
    /// let _guard = reactor.enter();
    /// let a = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// assert!(!a.broadcast()?);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn broadcast(&self) -> io::Result<bool> {
        self.io.get_ref().broadcast()
    }

    /// The size of the send buffer (`SO_SNDBUF`), as the kernel reports it.
    ///
    /// # Errors
    ///
    /// The error of `getsockopt(2)`.
    ///
    /// ```
    /// use tulip_reactor::Reactor;
    /// use tulip_reactor::net::UdpSocket;
    ///
    /// let reactor = Reactor::new()?;
    /// let _guard = reactor.enter();
    /// let a = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// assert!(a.send_buffer_size()? > 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn send_buffer_size(&self) -> io::Result<usize> {
        SockRef::from(self.io.get_ref()).send_buffer_size()
    }

    /// Sets `SO_SNDBUF` (Linux doubles the value, within `net.core.wmem_max`).
    ///
    /// # Errors
    ///
    /// The error of `setsockopt(2)`.
    ///
    /// ```
    /// use tulip_reactor::Reactor;
    /// use tulip_reactor::net::UdpSocket;
    ///
    /// let reactor = Reactor::new()?;
    /// let _guard = reactor.enter();
    /// let a = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// a.set_send_buffer_size(64 * 1024)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_send_buffer_size(&self, size: usize) -> io::Result<()> {
        SockRef::from(self.io.get_ref()).set_send_buffer_size(size)
    }

    /// The size of the receive buffer (`SO_RCVBUF`), as the kernel reports it.
    ///
    /// # Errors
    ///
    /// The error of `getsockopt(2)`.
    ///
    /// ```
    /// use tulip_reactor::Reactor;
    /// use tulip_reactor::net::UdpSocket;
    ///
    /// let reactor = Reactor::new()?;
    /// let _guard = reactor.enter();
    /// let a = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// assert!(a.recv_buffer_size()? > 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn recv_buffer_size(&self) -> io::Result<usize> {
        SockRef::from(self.io.get_ref()).recv_buffer_size()
    }

    /// Sets `SO_RCVBUF` (Linux doubles the value, within `net.core.rmem_max`).
    ///
    /// # Errors
    ///
    /// The error of `setsockopt(2)`.
    ///
    /// ```
    /// use tulip_reactor::Reactor;
    /// use tulip_reactor::net::UdpSocket;
    ///
    /// let reactor = Reactor::new()?;
    /// let _guard = reactor.enter();
    /// let a = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// a.set_recv_buffer_size(64 * 1024)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_recv_buffer_size(&self, size: usize) -> io::Result<()> {
        SockRef::from(self.io.get_ref()).set_recv_buffer_size(size)
    }

    /// Takes the pending socket error (`SO_ERROR`), if any, clearing it.
    ///
    /// # Errors
    ///
    /// The error of `getsockopt(2)`.
    ///
    /// ```
    /// use tulip_reactor::Reactor;
    /// use tulip_reactor::net::UdpSocket;
    ///
    /// let reactor = Reactor::new()?;
    /// let _guard = reactor.enter();
    /// let a = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// assert!(a.take_error()?.is_none());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }
}

impl AsFd for UdpSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.as_fd()
    }
}

impl AsRawFd for UdpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.io.as_raw_fd()
    }
}

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("UdpSocket").field(self.io.get_ref()).finish()
    }
}
