//! Sockets: TCP, UDP and Unix-domain streams, listeners and datagrams.
//!
//! Each type owns a non-blocking socket registered with a reactor through [`Async`]:
//! operations try the system call first and wait for readiness only after
//! `WouldBlock`. Every method takes `&self`, every type is `Send + Sync`, so one
//! stream may be shared (say in an `Arc`) by a reader task and a writer task, on any
//! thread. Streams implement [`futures_io::AsyncRead`] and [`futures_io::AsyncWrite`],
//! also through a shared reference.
//!
//! Constructors that register a socket (`connect`, `bind`, `from_std`, `pair`) use the
//! current reactor (see [`Reactor::enter`]; an event loop makes its reactor current);
//! without one they fail with an error wrapping [`NoReactor`](crate::NoReactor). Sockets
//! accepted by a listener are registered with the listener's reactor. Bad addresses and
//! paths are `io::Error`s, never panics.
//!
//! As asyncio does, TCP streams have `TCP_NODELAY` on (connected and accepted alike),
//! [`TcpListener::bind`] sets `SO_REUSEADDR` with a backlog of 100, and
//! [`UnixListener::bind`] uses the same backlog. The `_with` constructors take the
//! options: [`ConnectOptions`], [`ListenOptions`], [`UnixListenOptions`] and
//! [`UdpBindOptions`] (`SO_REUSEPORT`, so that several receivers of a multicast group
//! share its port).
//!
//! # Example
//!
//! ```
//! use std::future::Future;
//! use std::pin::pin;
//! use std::task::{Context, Poll, Waker};
//! use tulip_reactor::Reactor;
//! use tulip_reactor::net::{TcpListener, TcpStream};
//!
//! // A minimal event loop for one future (tulip-executor provides the real one).
//! fn block_on<F: Future>(reactor: &Reactor, fut: F) -> F::Output {
//!     let mut fut = pin!(fut);
//!     let cx = &mut Context::from_waker(Waker::noop());
//!     loop {
//!         if let Poll::Ready(out) = fut.as_mut().poll(cx) {
//!             return out;
//!         }
//!         reactor.park(None, || true).unwrap();
//!     }
//! }
//!
//! let reactor = Reactor::new()?;
//! let _guard = reactor.enter();
//! let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap())?;
//! let addr = listener.local_addr()?;
//! let reply = block_on(&reactor, async {
//!     let client = TcpStream::connect(addr).await?;
//!     let (server, _peer) = listener.accept().await?;
//!     client.write_all(b"ping").await?;
//!     let mut buf = [0; 4];
//!     let n = server.read(&mut buf).await?;
//!     server.write_all(&buf[..n]).await?;
//!     let n = client.read(&mut buf).await?;
//!     Ok::<_, std::io::Error>(buf[..n].to_vec())
//! })?;
//! assert_eq!(reply, b"ping");
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! [`Async`]: crate::Async
//! [`Reactor::enter`]: crate::Reactor::enter

mod options;
mod stream;
mod tcp;
mod udp;
mod unix;

pub use options::{ConnectOptions, ListenOptions, UdpBindOptions, UnixListenOptions};
pub use tcp::{TcpListener, TcpStream};
pub use udp::UdpSocket;
pub use unix::{UnixDatagram, UnixListener, UnixStream};
