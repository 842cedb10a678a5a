//! Socket options for [`TcpStream::connect_with`](super::TcpStream::connect_with),
//! [`TcpListener::bind_with`](super::TcpListener::bind_with),
//! [`UdpSocket::bind_with`](super::UdpSocket::bind_with) and
//! [`UnixListener::bind_with`](super::UnixListener::bind_with).
//!
//! Each builder holds only options that mean something for its socket type, so none is
//! silently ignored: [`ListenOptions`] is TCP's, [`UnixListenOptions`] carries the
//! backlog alone (`SO_REUSEADDR`, `SO_REUSEPORT` and `IPV6_V6ONLY` do nothing for a
//! Unix path).

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use socket2::{SockAddr, Socket, TcpKeepalive};

/// asyncio's default backlog for `start_server` / `create_server` (and their Unix
/// counterparts).
const DEFAULT_BACKLOG: u32 = 100;

/// A backlog as `listen(2)` takes it (values past `i32::MAX` saturate; the kernel caps
/// it at `net.core.somaxconn` anyway).
fn backlog_arg(backlog: u32) -> i32 {
    i32::try_from(backlog).unwrap_or(i32::MAX)
}

/// Options applied to a socket before it connects, for
/// [`TcpStream::connect_with`](super::TcpStream::connect_with).
///
/// The default is what [`TcpStream::connect`](super::TcpStream::connect) uses:
/// `TCP_NODELAY` on, everything else left to the system.
///
/// ```
/// use std::time::Duration;
/// use tulip_reactor::net::ConnectOptions;
///
/// let options = ConnectOptions::new()
///     .nodelay(false)
///     .keepalive(Some(Duration::from_secs(60)))
///     .recv_buffer_size(1 << 20);
/// # let _ = options;
/// ```
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    nodelay: bool,
    keepalive: Option<Duration>,
    local_addr: Option<SocketAddr>,
    send_buffer_size: Option<usize>,
    recv_buffer_size: Option<usize>,
}

impl ConnectOptions {
    /// The defaults: `TCP_NODELAY` on, no keepalive, no local address, system buffer
    /// sizes.
    ///
    /// ```
    /// let options = tulip_reactor::net::ConnectOptions::new();
    /// # let _ = options;
    /// ```
    pub fn new() -> ConnectOptions {
        ConnectOptions {
            nodelay: true,
            keepalive: None,
            local_addr: None,
            send_buffer_size: None,
            recv_buffer_size: None,
        }
    }

    /// Whether to set `TCP_NODELAY` (disable Nagle's algorithm); on by default.
    ///
    /// ```
    /// let options = tulip_reactor::net::ConnectOptions::new().nodelay(false);
    /// # let _ = options;
    /// ```
    pub fn nodelay(mut self, nodelay: bool) -> ConnectOptions {
        self.nodelay = nodelay;
        self
    }

    /// Enables `SO_KEEPALIVE` with the given idle time before the first probe
    /// (`TCP_KEEPIDLE`), or leaves it off with `None` (the default).
    ///
    /// ```
    /// use std::time::Duration;
    /// let options = tulip_reactor::net::ConnectOptions::new().keepalive(Some(Duration::from_secs(30)));
    /// # let _ = options;
    /// ```
    pub fn keepalive(mut self, idle: Option<Duration>) -> ConnectOptions {
        self.keepalive = idle;
        self
    }

    /// Binds the socket to `addr` before connecting (asyncio's `local_addr`).
    ///
    /// ```
    /// let options = tulip_reactor::net::ConnectOptions::new()
    ///     .local_addr("127.0.0.1:0".parse().unwrap());
    /// # let _ = options;
    /// ```
    pub fn local_addr(mut self, addr: SocketAddr) -> ConnectOptions {
        self.local_addr = Some(addr);
        self
    }

    /// Sets `SO_SNDBUF` before connecting.
    ///
    /// ```
    /// let options = tulip_reactor::net::ConnectOptions::new().send_buffer_size(1 << 20);
    /// # let _ = options;
    /// ```
    pub fn send_buffer_size(mut self, size: usize) -> ConnectOptions {
        self.send_buffer_size = Some(size);
        self
    }

    /// Sets `SO_RCVBUF` before connecting (which lets TCP negotiate a larger window).
    ///
    /// ```
    /// let options = tulip_reactor::net::ConnectOptions::new().recv_buffer_size(1 << 20);
    /// # let _ = options;
    /// ```
    pub fn recv_buffer_size(mut self, size: usize) -> ConnectOptions {
        self.recv_buffer_size = Some(size);
        self
    }

    /// Sets the socket options (and binds the local address), before `connect`.
    pub(super) fn apply(&self, socket: &Socket) -> io::Result<()> {
        socket.set_tcp_nodelay(self.nodelay)?;
        if let Some(idle) = self.keepalive {
            socket.set_tcp_keepalive(&TcpKeepalive::new().with_time(idle))?;
        }
        if let Some(size) = self.send_buffer_size {
            socket.set_send_buffer_size(size)?;
        }
        if let Some(size) = self.recv_buffer_size {
            socket.set_recv_buffer_size(size)?;
        }
        if let Some(addr) = self.local_addr {
            socket.bind(&SockAddr::from(addr))?;
        }
        Ok(())
    }
}

impl Default for ConnectOptions {
    fn default() -> ConnectOptions {
        ConnectOptions::new()
    }
}

/// Options for [`TcpListener::bind_with`](super::TcpListener::bind_with).
///
/// The default is what [`TcpListener::bind`](super::TcpListener::bind) uses, and what
/// asyncio's `start_server` does on Unix: `SO_REUSEADDR` on, `SO_REUSEPORT` off, a
/// backlog of 100, and `IPV6_V6ONLY` on for IPv6 addresses.
///
/// ```
/// use tulip_reactor::net::ListenOptions;
///
/// let options = ListenOptions::new().backlog(1024).reuse_port(true);
/// # let _ = options;
/// ```
#[derive(Debug, Clone)]
pub struct ListenOptions {
    backlog: u32,
    reuse_address: bool,
    reuse_port: bool,
    only_v6: bool,
}

impl ListenOptions {
    /// The defaults: backlog 100, `SO_REUSEADDR` on, `SO_REUSEPORT` off,
    /// `IPV6_V6ONLY` on.
    ///
    /// ```
    /// let options = tulip_reactor::net::ListenOptions::new();
    /// # let _ = options;
    /// ```
    pub fn new() -> ListenOptions {
        ListenOptions {
            backlog: DEFAULT_BACKLOG,
            reuse_address: true,
            reuse_port: false,
            only_v6: true,
        }
    }

    /// The length of the queue of established connections not yet accepted (the
    /// kernel caps it at `net.core.somaxconn`).
    ///
    /// ```
    /// let options = tulip_reactor::net::ListenOptions::new().backlog(1024);
    /// # let _ = options;
    /// ```
    pub fn backlog(mut self, backlog: u32) -> ListenOptions {
        self.backlog = backlog;
        self
    }

    /// Whether to set `SO_REUSEADDR` (bind even while old connections on the port sit
    /// in `TIME_WAIT`); on by default.
    ///
    /// ```
    /// let options = tulip_reactor::net::ListenOptions::new().reuse_address(false);
    /// # let _ = options;
    /// ```
    pub fn reuse_address(mut self, reuse: bool) -> ListenOptions {
        self.reuse_address = reuse;
        self
    }

    /// Whether to set `SO_REUSEPORT` (several listeners share the port and the kernel
    /// balances connections between them); off by default.
    ///
    /// ```
    /// let options = tulip_reactor::net::ListenOptions::new().reuse_port(true);
    /// # let _ = options;
    /// ```
    pub fn reuse_port(mut self, reuse: bool) -> ListenOptions {
        self.reuse_port = reuse;
        self
    }

    /// Whether an IPv6 listener accepts IPv6 only (`IPV6_V6ONLY`); on by default, as
    /// in asyncio. Ignored for IPv4 addresses.
    ///
    /// ```
    /// let options = tulip_reactor::net::ListenOptions::new().only_v6(false);
    /// # let _ = options;
    /// ```
    pub fn only_v6(mut self, only_v6: bool) -> ListenOptions {
        self.only_v6 = only_v6;
        self
    }
}

impl ListenOptions {
    /// Sets the socket options, before `bind`.
    pub(super) fn apply(&self, socket: &Socket, addr: &SocketAddr) -> io::Result<()> {
        if self.reuse_address {
            socket.set_reuse_address(true)?;
        }
        if self.reuse_port {
            socket.set_reuse_port(true)?;
        }
        if addr.is_ipv6() {
            socket.set_only_v6(self.only_v6)?;
        }
        Ok(())
    }

    /// The backlog as `listen(2)` takes it.
    pub(super) fn backlog_arg(&self) -> i32 {
        backlog_arg(self.backlog)
    }
}

impl Default for ListenOptions {
    fn default() -> ListenOptions {
        ListenOptions::new()
    }
}

/// Options for [`UnixListener::bind_with`](super::UnixListener::bind_with).
///
/// The default is what [`UnixListener::bind`](super::UnixListener::bind) uses, and
/// what asyncio's `start_unix_server` does: a backlog of 100.
///
/// This is a type of its own rather than [`ListenOptions`] because the address options
/// there (`SO_REUSEADDR`, `SO_REUSEPORT`, `IPV6_V6ONLY`) mean nothing for a Unix path:
/// a bound path stays taken until its file is removed, whatever the options.
///
/// ```
/// use tulip_reactor::net::UnixListenOptions;
///
/// let options = UnixListenOptions::new().backlog(8);
/// # let _ = options;
/// ```
#[derive(Debug, Clone)]
pub struct UnixListenOptions {
    backlog: u32,
}

impl UnixListenOptions {
    /// The defaults: backlog 100.
    ///
    /// ```
    /// let options = tulip_reactor::net::UnixListenOptions::new();
    /// # let _ = options;
    /// ```
    pub fn new() -> UnixListenOptions {
        UnixListenOptions {
            backlog: DEFAULT_BACKLOG,
        }
    }

    /// The length of the queue of connections not yet accepted (the kernel caps it at
    /// `net.core.somaxconn`). On Linux a connect to a listener whose queue is full fails
    /// at once with [`io::ErrorKind::WouldBlock`] instead of waiting.
    ///
    /// ```
    /// let options = tulip_reactor::net::UnixListenOptions::new().backlog(1024);
    /// # let _ = options;
    /// ```
    pub fn backlog(mut self, backlog: u32) -> UnixListenOptions {
        self.backlog = backlog;
        self
    }

    /// The backlog as `listen(2)` takes it.
    pub(super) fn backlog_arg(&self) -> i32 {
        backlog_arg(self.backlog)
    }
}

impl Default for UnixListenOptions {
    fn default() -> UnixListenOptions {
        UnixListenOptions::new()
    }
}

/// Options applied to a UDP socket before it binds, for
/// [`UdpSocket::bind_with`](super::UdpSocket::bind_with).
///
/// The default is what [`UdpSocket::bind`](super::UdpSocket::bind) uses, and what
/// asyncio's `create_datagram_endpoint` does: `SO_REUSEADDR` and `SO_REUSEPORT` off,
/// system buffer sizes.
///
/// Several receivers of one multicast group share its port with `reuse_port(true)`
/// on every one of them (asyncio's `reuse_port=True`); each then gets its own copy of
/// every datagram sent to the group. For unicast datagrams, Linux instead spreads them
/// across the sockets.
///
/// ```
/// use tulip_reactor::net::UdpBindOptions;
///
/// let options = UdpBindOptions::new().reuse_port(true).recv_buffer_size(1 << 20);
/// # let _ = options;
/// ```
#[derive(Debug, Clone)]
pub struct UdpBindOptions {
    reuse_address: bool,
    reuse_port: bool,
    send_buffer_size: Option<usize>,
    recv_buffer_size: Option<usize>,
}

impl UdpBindOptions {
    /// The defaults: `SO_REUSEADDR` and `SO_REUSEPORT` off, system buffer sizes.
    ///
    /// ```
    /// let options = tulip_reactor::net::UdpBindOptions::new();
    /// # let _ = options;
    /// ```
    pub fn new() -> UdpBindOptions {
        UdpBindOptions {
            reuse_address: false,
            reuse_port: false,
            send_buffer_size: None,
            recv_buffer_size: None,
        }
    }

    /// Whether to set `SO_REUSEADDR`; off by default. On Linux it lets sockets that all
    /// set it share a port (which of them gets a unicast datagram is unspecified); prefer
    /// [`reuse_port`](UdpBindOptions::reuse_port), which also checks that every sharer
    /// runs as the same user. asyncio no longer offers it for UDP, for that reason.
    ///
    /// ```
    /// let options = tulip_reactor::net::UdpBindOptions::new().reuse_address(true);
    /// # let _ = options;
    /// ```
    pub fn reuse_address(mut self, reuse: bool) -> UdpBindOptions {
        self.reuse_address = reuse;
        self
    }

    /// Whether to set `SO_REUSEPORT` (several sockets of the same user bind the same
    /// address and port); off by default. Every socket sharing the port must set it.
    ///
    /// ```
    /// let options = tulip_reactor::net::UdpBindOptions::new().reuse_port(true);
    /// # let _ = options;
    /// ```
    pub fn reuse_port(mut self, reuse: bool) -> UdpBindOptions {
        self.reuse_port = reuse;
        self
    }

    /// Sets `SO_SNDBUF` before binding (Linux doubles the value, within
    /// `net.core.wmem_max`).
    ///
    /// ```
    /// let options = tulip_reactor::net::UdpBindOptions::new().send_buffer_size(1 << 20);
    /// # let _ = options;
    /// ```
    pub fn send_buffer_size(mut self, size: usize) -> UdpBindOptions {
        self.send_buffer_size = Some(size);
        self
    }

    /// Sets `SO_RCVBUF` before binding (Linux doubles the value, within
    /// `net.core.rmem_max`), so that bursts arriving before the first read are not
    /// dropped.
    ///
    /// ```
    /// let options = tulip_reactor::net::UdpBindOptions::new().recv_buffer_size(1 << 20);
    /// # let _ = options;
    /// ```
    pub fn recv_buffer_size(mut self, size: usize) -> UdpBindOptions {
        self.recv_buffer_size = Some(size);
        self
    }

    /// Sets the socket options, before `bind`.
    pub(super) fn apply(&self, socket: &Socket) -> io::Result<()> {
        if self.reuse_address {
            socket.set_reuse_address(true)?;
        }
        if self.reuse_port {
            socket.set_reuse_port(true)?;
        }
        if let Some(size) = self.send_buffer_size {
            socket.set_send_buffer_size(size)?;
        }
        if let Some(size) = self.recv_buffer_size {
            socket.set_recv_buffer_size(size)?;
        }
        Ok(())
    }
}

impl Default for UdpBindOptions {
    fn default() -> UdpBindOptions {
        UdpBindOptions::new()
    }
}
