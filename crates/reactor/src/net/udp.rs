//! UDP: [`UdpSocket`].

use std::fmt;
use std::io;
use std::net::{self, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::task::{Context, Poll};

use socket2::{Domain, Protocol, SockAddr, SockRef, Socket, Type};

use super::options::UdpBindOptions;
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
    /// Binds a socket to `addr` (port 0 picks a free port) with the default
    /// [`UdpBindOptions`] and registers it with the current reactor.
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
        UdpSocket::bind_with(addr, &UdpBindOptions::new())
    }

    /// Binds a socket to `addr` (port 0 picks a free port) with `options` set first,
    /// and registers it with the current reactor (asyncio's
    /// `create_datagram_endpoint(local_addr=..., reuse_port=...)`).
    ///
    /// The socket is made non-blocking and close-on-exec from the start.
    ///
    /// # Errors
    ///
    /// The error of `socket`, `setsockopt` or `bind` ([`io::ErrorKind::AddrInUse`] if
    /// the port is taken and not every socket on it set
    /// [`reuse_port`](UdpBindOptions::reuse_port), ...), or of the registration (no
    /// current reactor included).
    ///
    /// ```
    /// use tulip_reactor::Reactor;
    /// use tulip_reactor::net::{UdpBindOptions, UdpSocket};
    ///
    /// let reactor = Reactor::new()?;
    /// let _guard = reactor.enter();
    /// let options = UdpBindOptions::new().reuse_port(true);
    /// let a = UdpSocket::bind_with("127.0.0.1:0".parse().unwrap(), &options)?;
    /// let b = UdpSocket::bind_with(a.local_addr()?, &options)?; // shares the port
    /// assert_eq!(a.local_addr()?, b.local_addr()?);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn bind_with(addr: SocketAddr, options: &UdpBindOptions) -> io::Result<UdpSocket> {
        let socket = Socket::new(
            Domain::for_address(addr),
            Type::DGRAM.nonblocking(),
            Some(Protocol::UDP),
        )?;
        options.apply(&socket)?;
        socket.bind(&SockAddr::from(addr))?;
        Ok(UdpSocket {
            io: Async::new(net::UdpSocket::from(socket))?,
        })
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

    /// Sets the IPv4 time-to-live (`IP_TTL`) of the datagrams this socket sends to
    /// unicast addresses.
    ///
    /// # Errors
    ///
    /// The error of `setsockopt(2)` ([`io::ErrorKind::InvalidInput`] outside
    /// `1..=255`).
    ///
    /// ```
    /// use tulip_reactor::Reactor;
    /// use tulip_reactor::net::UdpSocket;
    ///
    /// let reactor = Reactor::new()?;
    /// let _guard = reactor.enter();
    /// let socket = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// socket.set_ttl(42)?;
    /// assert_eq!(socket.ttl()?, 42);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }

    /// The IPv4 time-to-live (`IP_TTL`) of unicast datagrams (the system default,
    /// usually 64, until [`set_ttl`](UdpSocket::set_ttl)).
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
    /// let socket = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// assert!(socket.ttl()? > 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
    }

    /// Joins the IPv4 multicast group `multiaddr` on the interface whose address is
    /// `interface` ([`Ipv4Addr::UNSPECIFIED`] lets the system choose by route), so the
    /// socket receives datagrams sent to the group at its port (`IP_ADD_MEMBERSHIP`).
    ///
    /// Bind the socket to the group's port on [`Ipv4Addr::UNSPECIFIED`] (or on the
    /// group address) to receive them; several receivers on one host share the port
    /// with [`UdpBindOptions::reuse_port`].
    ///
    /// # Errors
    ///
    /// The error of `setsockopt(2)`: [`io::ErrorKind::InvalidInput`] if `multiaddr` is
    /// not a multicast address, [`io::ErrorKind::AddrInUse`] if the group is joined
    /// already on that interface, `ENODEV` if `interface` is no local address or, for
    /// an unspecified one, if there is no route to the group.
    ///
    /// ```
    /// use tulip_reactor::Reactor;
    /// use tulip_reactor::net::UdpSocket;
    ///
    /// let reactor = Reactor::new()?;
    /// let _guard = reactor.enter();
    /// use std::net::Ipv4Addr;
    ///
    /// let socket = UdpSocket::bind("0.0.0.0:0".parse().unwrap())?;
    /// let group = Ipv4Addr::new(239, 255, 0, 1);
    /// socket.join_multicast_v4(&group, &Ipv4Addr::LOCALHOST)?;
    /// socket.leave_multicast_v4(&group, &Ipv4Addr::LOCALHOST)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn join_multicast_v4(&self, multiaddr: &Ipv4Addr, interface: &Ipv4Addr) -> io::Result<()> {
        self.io.get_ref().join_multicast_v4(multiaddr, interface)
    }

    /// Leaves an IPv4 multicast group joined with
    /// [`join_multicast_v4`](UdpSocket::join_multicast_v4) (`IP_DROP_MEMBERSHIP`).
    /// Closing the socket leaves every group it joined.
    ///
    /// # Errors
    ///
    /// The error of `setsockopt(2)` ([`io::ErrorKind::AddrNotAvailable`] if the socket
    /// is not a member of the group on that interface).
    ///
    /// See [`join_multicast_v4`](UdpSocket::join_multicast_v4)'s example.
    pub fn leave_multicast_v4(&self, multiaddr: &Ipv4Addr, interface: &Ipv4Addr) -> io::Result<()> {
        self.io.get_ref().leave_multicast_v4(multiaddr, interface)
    }

    /// Joins the IPv6 multicast group `multiaddr` on the interface with index
    /// `interface` (0 lets the system choose by route) (`IPV6_JOIN_GROUP`).
    ///
    /// # Errors
    ///
    /// The error of `setsockopt(2)`: [`io::ErrorKind::InvalidInput`] if `multiaddr` is
    /// not a multicast address, `ENODEV` for an unknown interface index or, with
    /// index 0, no route to the group, [`io::ErrorKind::AddrInUse`] if the group is
    /// joined already on that interface.
    ///
    /// ```
    /// use tulip_reactor::Reactor;
    /// use tulip_reactor::net::UdpSocket;
    ///
    /// let reactor = Reactor::new()?;
    /// let _guard = reactor.enter();
    /// // (Nothing to show on a host without IPv6.)
    /// let Ok(socket) = UdpSocket::bind("[::1]:0".parse().unwrap()) else { return Ok(()) };
    /// use std::net::Ipv6Addr;
    ///
    /// let group = Ipv6Addr::new(0xff15, 0, 0, 0, 0, 0, 0, 0x7475);
    /// if socket.join_multicast_v6(&group, 0).is_ok() {
    ///     socket.leave_multicast_v6(&group, 0)?;
    /// }
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn join_multicast_v6(&self, multiaddr: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.io.get_ref().join_multicast_v6(multiaddr, interface)
    }

    /// Leaves an IPv6 multicast group joined with
    /// [`join_multicast_v6`](UdpSocket::join_multicast_v6) (`IPV6_LEAVE_GROUP`).
    ///
    /// # Errors
    ///
    /// The error of `setsockopt(2)` ([`io::ErrorKind::AddrNotAvailable`] if the socket
    /// is not a member of the group on that interface).
    ///
    /// See [`join_multicast_v6`](UdpSocket::join_multicast_v6)'s example.
    pub fn leave_multicast_v6(&self, multiaddr: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.io.get_ref().leave_multicast_v6(multiaddr, interface)
    }

    /// Sets whether IPv4 multicast datagrams this socket sends are looped back to
    /// receivers on this host (`IP_MULTICAST_LOOP`; on by default).
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
    /// let socket = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// socket.set_multicast_loop_v4(false)?;
    /// assert!(!socket.multicast_loop_v4()?);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_multicast_loop_v4(&self, multicast_loop_v4: bool) -> io::Result<()> {
        self.io.get_ref().set_multicast_loop_v4(multicast_loop_v4)
    }

    /// Whether IPv4 multicast datagrams sent are looped back (`IP_MULTICAST_LOOP`).
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
    /// let socket = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// assert!(socket.multicast_loop_v4()?);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn multicast_loop_v4(&self) -> io::Result<bool> {
        self.io.get_ref().multicast_loop_v4()
    }

    /// Sets the time-to-live of the IPv4 multicast datagrams this socket sends
    /// (`IP_MULTICAST_TTL`; 1 by default, which keeps them on the local network, and 0
    /// on this host).
    ///
    /// # Errors
    ///
    /// The error of `setsockopt(2)` ([`io::ErrorKind::InvalidInput`] above 255).
    ///
    /// ```
    /// use tulip_reactor::Reactor;
    /// use tulip_reactor::net::UdpSocket;
    ///
    /// let reactor = Reactor::new()?;
    /// let _guard = reactor.enter();
    /// let socket = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// socket.set_multicast_ttl_v4(4)?;
    /// assert_eq!(socket.multicast_ttl_v4()?, 4);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_multicast_ttl_v4(&self, multicast_ttl_v4: u32) -> io::Result<()> {
        self.io.get_ref().set_multicast_ttl_v4(multicast_ttl_v4)
    }

    /// The time-to-live of IPv4 multicast datagrams sent (`IP_MULTICAST_TTL`).
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
    /// let socket = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// assert_eq!(socket.multicast_ttl_v4()?, 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn multicast_ttl_v4(&self) -> io::Result<u32> {
        self.io.get_ref().multicast_ttl_v4()
    }

    /// Sets the interface, by its local address, that IPv4 multicast datagrams are
    /// sent from (`IP_MULTICAST_IF`; [`Ipv4Addr::UNSPECIFIED`], the default, lets the
    /// system choose by route). Not in `std`; with [`Ipv4Addr::LOCALHOST`] a group is
    /// reachable on the loopback interface of a host with no multicast route.
    ///
    /// # Errors
    ///
    /// The error of `setsockopt(2)` ([`io::ErrorKind::AddrNotAvailable`] if
    /// `interface` is no local address).
    ///
    /// ```
    /// use tulip_reactor::Reactor;
    /// use tulip_reactor::net::UdpSocket;
    ///
    /// let reactor = Reactor::new()?;
    /// let _guard = reactor.enter();
    /// use std::net::Ipv4Addr;
    ///
    /// let socket = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// socket.set_multicast_if_v4(&Ipv4Addr::LOCALHOST)?;
    /// assert_eq!(socket.multicast_if_v4()?, Ipv4Addr::LOCALHOST);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_multicast_if_v4(&self, interface: &Ipv4Addr) -> io::Result<()> {
        SockRef::from(self.io.get_ref()).set_multicast_if_v4(interface)
    }

    /// The interface IPv4 multicast datagrams are sent from (`IP_MULTICAST_IF`),
    /// [`Ipv4Addr::UNSPECIFIED`] if the system chooses.
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
    /// use std::net::Ipv4Addr;
    ///
    /// let socket = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// assert_eq!(socket.multicast_if_v4()?, Ipv4Addr::UNSPECIFIED);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn multicast_if_v4(&self) -> io::Result<Ipv4Addr> {
        SockRef::from(self.io.get_ref()).multicast_if_v4()
    }

    /// Sets whether IPv6 multicast datagrams this socket sends are looped back to
    /// receivers on this host (`IPV6_MULTICAST_LOOP`; on by default).
    ///
    /// # Errors
    ///
    /// The error of `setsockopt(2)` (on an IPv4 socket, for instance).
    ///
    /// ```
    /// use tulip_reactor::Reactor;
    /// use tulip_reactor::net::UdpSocket;
    ///
    /// let reactor = Reactor::new()?;
    /// let _guard = reactor.enter();
    /// // (Nothing to show on a host without IPv6.)
    /// let Ok(socket) = UdpSocket::bind("[::1]:0".parse().unwrap()) else { return Ok(()) };
    /// socket.set_multicast_loop_v6(false)?;
    /// assert!(!socket.multicast_loop_v6()?);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_multicast_loop_v6(&self, multicast_loop_v6: bool) -> io::Result<()> {
        self.io.get_ref().set_multicast_loop_v6(multicast_loop_v6)
    }

    /// Whether IPv6 multicast datagrams sent are looped back (`IPV6_MULTICAST_LOOP`).
    ///
    /// # Errors
    ///
    /// The error of `getsockopt(2)` (on an IPv4 socket, for instance).
    ///
    /// ```
    /// use tulip_reactor::Reactor;
    /// use tulip_reactor::net::UdpSocket;
    ///
    /// let reactor = Reactor::new()?;
    /// let _guard = reactor.enter();
    /// // (Nothing to show on a host without IPv6.)
    /// let Ok(socket) = UdpSocket::bind("[::1]:0".parse().unwrap()) else { return Ok(()) };
    /// assert!(socket.multicast_loop_v6()?);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn multicast_loop_v6(&self) -> io::Result<bool> {
        self.io.get_ref().multicast_loop_v6()
    }

    /// Sets the interface, by index, that IPv6 multicast datagrams are sent from
    /// (`IPV6_MULTICAST_IF`; 0, the default, lets the system choose by route). Not in
    /// `std`.
    ///
    /// # Errors
    ///
    /// The error of `setsockopt(2)` (`ENODEV` for an unknown index, or on an IPv4
    /// socket).
    ///
    /// ```
    /// use tulip_reactor::Reactor;
    /// use tulip_reactor::net::UdpSocket;
    ///
    /// let reactor = Reactor::new()?;
    /// let _guard = reactor.enter();
    /// // (Nothing to show on a host without IPv6.)
    /// let Ok(socket) = UdpSocket::bind("[::1]:0".parse().unwrap()) else { return Ok(()) };
    /// socket.set_multicast_if_v6(0)?;
    /// assert_eq!(socket.multicast_if_v6()?, 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_multicast_if_v6(&self, interface: u32) -> io::Result<()> {
        SockRef::from(self.io.get_ref()).set_multicast_if_v6(interface)
    }

    /// The index of the interface IPv6 multicast datagrams are sent from
    /// (`IPV6_MULTICAST_IF`), 0 if the system chooses.
    ///
    /// # Errors
    ///
    /// The error of `getsockopt(2)` (on an IPv4 socket, for instance).
    ///
    /// See [`set_multicast_if_v6`](UdpSocket::set_multicast_if_v6)'s example.
    pub fn multicast_if_v6(&self) -> io::Result<u32> {
        SockRef::from(self.io.get_ref()).multicast_if_v6()
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
