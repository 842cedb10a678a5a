//! The crate's errors.

use std::io;
use std::net::SocketAddr;

/// Misuse of a transport: every variant is a mistake of the caller, reported instead of
/// acted on.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportError {
    /// `set_write_buffer_limits` with the low-water mark above the high one.
    #[error("the low-water mark ({low}) is above the high-water mark ({high})")]
    InvalidLimits {
        /// The high-water mark asked for.
        high: usize,
        /// The low-water mark asked for.
        low: usize,
    },
    /// `sendto` without an address on a datagram transport that has no remote address.
    #[error("no address to send to: the transport has no remote address")]
    NoAddress,
    /// `sendto` to an address other than the remote address of a connected datagram
    /// transport.
    #[error("the transport is connected to {remote}; cannot send to {requested}")]
    WrongAddress {
        /// The transport's remote address.
        remote: SocketAddr,
        /// The address asked for.
        requested: SocketAddr,
    },
}

impl From<TransportError> for io::Error {
    fn from(error: TransportError) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidInput, error)
    }
}

/// [`ProtocolRef::with`](crate::ProtocolRef::with) was called from inside one of the
/// protocol's own callbacks, which already holds it.
#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone, Copy)]
#[error("the protocol is busy in one of its own callbacks")]
pub struct ProtocolBusy;

/// Why a transport closed with an error, besides the errors of the socket itself
/// (which `connection_lost` gets as they are). Delivered inside the `io::Error` given
/// to `connection_lost` (find it with `io::Error::get_ref` and `downcast_ref`).
#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone)]
#[non_exhaustive]
pub enum ProtocolFailure {
    /// A callback of the protocol panicked; the transport was closed.
    #[error("the protocol panicked in {callback}: {message}")]
    Panicked {
        /// The callback that panicked.
        callback: &'static str,
        /// The panic's message.
        message: String,
    },
    /// A `BufferedProtocol`'s `get_buffer` returned an empty slice.
    #[error("get_buffer returned an empty buffer")]
    EmptyBuffer,
}

impl ProtocolFailure {
    pub(crate) fn into_io(self) -> io::Error {
        io::Error::other(self)
    }
}
