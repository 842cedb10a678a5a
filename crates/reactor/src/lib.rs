//! I/O readiness, timers and clocks (real or virtual) for the tulip runtime.
//!
//! # Implementation
//!
//! A [`Reactor`] wraps one mio poller (epoll), a store of armed timers and a [`Clock`].
//! The event loop's thread drives it: it calls [`Reactor::park`] to wait for readiness
//! (which wakes the tasks whose sources became ready) and [`Reactor::fire_timers`] to
//! wake the tasks whose deadlines passed. Any other thread may wake a parked loop with
//! [`Reactor::notify`], and may create, use and drop [`Async`] handles and [`Timer`]s:
//! registrations and timers sit behind short, uncontended locks, and wakers are always
//! woken after those locks are released. Futures find their reactor through
//! [`Reactor::enter`], a thread-local "current reactor"; there is no global reactor and
//! no background thread. The [`coop`] module gives each task poll a budget so that
//! always-ready I/O still yields. The [`net`] module builds TCP, UDP and Unix sockets
//! on [`Async`].
//!
//! # Example
//!
//! ```
//! use std::future::Future;
//! use std::io::{Read, Write};
//! use std::os::unix::net::UnixStream;
//! use std::pin::pin;
//! use std::task::{Context, Poll, Waker};
//! use std::time::Duration;
//! use tulip_reactor::{Async, Reactor, Timer};
//!
//! // A minimal event loop for one future: poll, then wait for timers or I/O.
//! fn block_on<F: Future>(reactor: &Reactor, fut: F) -> F::Output {
//!     let mut fut = pin!(fut);
//!     let cx = &mut Context::from_waker(Waker::noop());
//!     loop {
//!         if let Poll::Ready(out) = fut.as_mut().poll(cx) {
//!             return out;
//!         }
//!         let next = reactor.fire_timers();
//!         let timeout = next.map(|d| d.saturating_duration_since(reactor.now()));
//!         reactor.park(timeout, || true).unwrap();
//!     }
//! }
//!
//! let reactor = Reactor::new()?;
//! let _guard = reactor.enter();
//! let (a, b) = UnixStream::pair()?;
//! let (a, b) = (Async::new(a)?, Async::new(b)?);
//! let echoed = block_on(&reactor, async {
//!     Timer::after(Duration::from_millis(1)).await;
//!     b.write_with(|mut s| s.write(b"hello")).await?;
//!     let mut buf = [0; 5];
//!     a.read_with(|mut s| s.read_exact(&mut buf)).await?;
//!     Ok::<_, std::io::Error>(buf)
//! })?;
//! assert_eq!(&echoed, b"hello");
//! # Ok::<(), std::io::Error>(())
//! ```

mod clock;
mod context;
pub mod coop;
mod io;
pub mod net;
pub mod pipe;
mod reactor;
mod source;
mod timer;

pub use clock::{Clock, ClockError};
pub use context::{EnterGuard, NoReactor};
pub use io::Async;
pub use reactor::Reactor;
pub use timer::{Timer, TimerKey};
