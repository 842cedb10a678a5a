//! The protocol traits: what a transport calls back as its connection lives.
//!
//! As in asyncio, [`BaseProtocol`] holds the callbacks every protocol has (the
//! connection made and lost, writing paused and resumed); [`Protocol`] receives bytes
//! as copies handed to [`data_received`](Protocol::data_received), [`BufferedProtocol`]
//! lends the transport its own memory to read into, and [`DatagramProtocol`] receives
//! whole datagrams with their senders.
//!
//! Every callback has a default that does nothing (or, for `eof_received`, closes the
//! transport), so a protocol implements only what it needs.

use std::io;
use std::net::SocketAddr;

use crate::datagram::DatagramTransport;
use crate::transport::Transport;

/// The callbacks every protocol has (asyncio's `BaseProtocol`).
///
/// The contract, which every transport keeps:
///
/// - [`connection_made`](BaseProtocol::connection_made) is called exactly once, first;
/// - then the receiving callbacks of the protocol's kind, any number of times, and for
///   a stream protocol at most one `eof_received`, after which nothing more is received;
/// - then [`connection_lost`](BaseProtocol::connection_lost) exactly once, last, also
///   after an error or an abort; it is never called from inside another callback of
///   the same protocol (a `close` made in `data_received` is carried out after it
///   returns, in a later iteration of the loop).
///
/// What a callback causes is told after it returns, never from inside it: asyncio calls
/// `pause_writing` from inside the `write` that crossed the high-water mark, but a Rust
/// protocol is already borrowed there, so here it comes right after the callback that
/// wrote (a producer looping inside one callback checks
/// [`Transport::is_writing_paused`](crate::Transport::is_writing_paused) instead).
///
/// Callbacks run on the loop and must not block. A callback that panics closes its
/// transport: the panic is logged and `connection_lost` gets an error; the loop and the
/// server go on.
pub trait BaseProtocol: 'static {
    /// The connection is made; `transport` is its transport (clone it to keep it).
    fn connection_made(&mut self, transport: &Self::Transport) {
        let _ = transport;
    }

    /// The connection is lost or closed: `None` after a `close`, an `abort` or an
    /// orderly end, the error otherwise. The last callback.
    fn connection_lost(&mut self, error: Option<io::Error>) {
        let _ = error;
    }

    /// The transport's write buffer went above its high-water mark: the protocol
    /// should stop writing until [`resume_writing`](BaseProtocol::resume_writing)
    /// (writes are still accepted and buffered). Called after the callback whose write
    /// crossed the mark has returned.
    fn pause_writing(&mut self) {}

    /// The transport's write buffer fell to its low-water mark after a
    /// [`pause_writing`](BaseProtocol::pause_writing).
    fn resume_writing(&mut self) {}

    /// The kind of transport the protocol is driven by: [`Transport`] for stream
    /// protocols, [`DatagramTransport`] for datagram ones. Set it in the impl.
    type Transport;
}

/// A stream protocol that receives copies of the bytes read (asyncio's `Protocol`).
///
/// ```
/// use tulip_protocol::{BaseProtocol, Protocol, Transport};
///
/// /// Sends back whatever it receives.
/// #[derive(Default)]
/// struct Echo {
///     transport: Option<Transport>,
/// }
///
/// impl BaseProtocol for Echo {
///     type Transport = Transport;
///     fn connection_made(&mut self, transport: &Transport) {
///         self.transport = Some(transport.clone());
///     }
/// }
///
/// impl Protocol for Echo {
///     fn data_received(&mut self, data: &[u8]) {
///         if let Some(transport) = &self.transport {
///             transport.write(data);
///         }
///     }
/// }
/// ```
pub trait Protocol: BaseProtocol<Transport = Transport> {
    /// Bytes arrived. The slice is lent for the call only: copy what must be kept.
    fn data_received(&mut self, data: &[u8]) {
        let _ = data;
    }

    /// The peer ended its writing (EOF). Return `false` (the default) to have the
    /// transport closed, `true` to keep it half-open: this side can still write, and
    /// closes it when done.
    fn eof_received(&mut self) -> bool {
        false
    }
}

/// A stream protocol that lends the transport its own memory to read into (asyncio's
/// `BufferedProtocol`), sparing a copy.
///
/// ```
/// use tulip_protocol::{BaseProtocol, BufferedProtocol, Transport};
///
/// /// Counts the bytes received, reading them into one reused buffer.
/// struct Counter {
///     buf: Vec<u8>,
///     total: usize,
/// }
///
/// impl BaseProtocol for Counter {
///     type Transport = Transport;
/// }
///
/// impl BufferedProtocol for Counter {
///     fn get_buffer(&mut self, _size_hint: usize) -> &mut [u8] {
///         &mut self.buf
///     }
///     fn buffer_updated(&mut self, n: usize) {
///         self.total += n;
///     }
/// }
/// ```
pub trait BufferedProtocol: BaseProtocol<Transport = Transport> {
    /// The memory the next read goes into. `size_hint` is how much the transport would
    /// like to read at most; any non-empty slice will do. An empty slice is an error:
    /// the transport is closed and `connection_lost` gets it.
    fn get_buffer(&mut self, size_hint: usize) -> &mut [u8];

    /// The last read put `n` bytes at the start of the slice
    /// [`get_buffer`](BufferedProtocol::get_buffer) returned.
    fn buffer_updated(&mut self, n: usize);

    /// As [`Protocol::eof_received`].
    fn eof_received(&mut self) -> bool {
        false
    }
}

/// A datagram protocol (asyncio's `DatagramProtocol`), driven by a
/// [`DatagramTransport`].
///
/// ```
/// use std::net::SocketAddr;
/// use tulip_protocol::{BaseProtocol, DatagramProtocol, DatagramTransport};
///
/// /// Answers each datagram with the same bytes, to its sender.
/// #[derive(Default)]
/// struct UdpEcho {
///     transport: Option<DatagramTransport>,
/// }
///
/// impl BaseProtocol for UdpEcho {
///     type Transport = DatagramTransport;
///     fn connection_made(&mut self, transport: &DatagramTransport) {
///         self.transport = Some(transport.clone());
///     }
/// }
///
/// impl DatagramProtocol for UdpEcho {
///     fn datagram_received(&mut self, data: &[u8], addr: SocketAddr) {
///         if let Some(transport) = &self.transport {
///             let _ = transport.sendto(data, Some(addr));
///         }
///     }
/// }
/// ```
pub trait DatagramProtocol: BaseProtocol<Transport = DatagramTransport> {
    /// A datagram arrived from `addr`. The slice is lent for the call only.
    fn datagram_received(&mut self, data: &[u8], addr: SocketAddr) {
        let _ = (data, addr);
    }

    /// A send or a receive failed (an ICMP "port unreachable" reported as
    /// `ECONNREFUSED`, say). The transport stays open.
    fn error_received(&mut self, error: io::Error) {
        let _ = error;
    }
}
