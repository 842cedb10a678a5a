//! The errors of the streams: what asyncio raises as `IncompleteReadError`,
//! `LimitOverrunError`, `ValueError` and `ConnectionError`, as typed values.

use std::io;

/// EOF came before a read could complete (asyncio's `IncompleteReadError`).
///
/// The bytes read so far are in [`partial`](IncompleteRead::partial) and no longer in
/// the reader's buffer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct IncompleteRead {
    /// The bytes read before EOF (for `readuntil`, they may end with part of the
    /// separator).
    pub partial: Vec<u8>,
    /// The number of bytes the read wanted (`readexactly`), or `None` when it waited
    /// for a separator (`readuntil`).
    pub expected: Option<usize>,
}

/// asyncio's wording when the read wanted a count; plain words when it
/// waited for a separator (asyncio prints `None` there).
impl std::fmt::Display for IncompleteRead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let read = self.partial.len();
        match self.expected {
            Some(expected) => write!(
                f,
                "{read} bytes read on a total of {expected} expected bytes"
            ),
            None => write!(f, "{read} bytes read before EOF, without the separator"),
        }
    }
}

/// A line or chunk is longer than the reader's limit (asyncio's `LimitOverrunError`).
///
/// After `readuntil`, the data is still in the buffer and can be read again (with
/// `read`, say); `readline` removes it first, as asyncio's `readline` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{}", if *.separator_found {
    "the separator was found, but the chunk is longer than the limit"
} else {
    "the separator was not found, and the chunk exceeds the limit"
})]
pub struct LimitOverrun {
    /// How many bytes of the buffer were examined: the offset of the separator when it
    /// was found, else the number of bytes known to hold no separator.
    pub consumed: usize,
    /// Whether a separator was found (beyond the limit).
    pub separator_found: bool,
}

/// The error of a [`StreamReader`](crate::StreamReader) operation.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    /// The connection failed (a reset by the peer, say). The same error is returned by
    /// every later read that needs more data than the buffer holds.
    #[error(transparent)]
    Io(#[from] io::Error),
    /// EOF came first; see [`IncompleteRead`].
    #[error(transparent)]
    IncompleteRead(#[from] IncompleteRead),
    /// The limit was exceeded; see [`LimitOverrun`].
    #[error(transparent)]
    LimitOverrun(#[from] LimitOverrun),
    /// `readuntil` was given an empty separator or no separator at all (asyncio's
    /// `ValueError`).
    #[error("separator should be at least one byte")]
    EmptySeparator,
}

impl From<StreamError> for io::Error {
    /// An I/O error as itself; `IncompleteRead` as `UnexpectedEof`, `LimitOverrun` and
    /// `EmptySeparator` as `InvalidData` and `InvalidInput`.
    fn from(error: StreamError) -> io::Error {
        match error {
            StreamError::Io(e) => e,
            StreamError::IncompleteRead(e) => io::Error::new(io::ErrorKind::UnexpectedEof, e),
            StreamError::LimitOverrun(e) => io::Error::new(io::ErrorKind::InvalidData, e),
            StreamError::EmptySeparator => {
                io::Error::new(io::ErrorKind::InvalidInput, StreamError::EmptySeparator)
            }
        }
    }
}

/// The error of a [`StreamWriter`](crate::StreamWriter) operation.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The writer was closed ([`close`](crate::StreamWriter::close)): nothing more can
    /// be written.
    #[error("the stream writer is closing")]
    Closing,
    /// [`write_eof`](crate::StreamWriter::write_eof) was called: nothing more can be
    /// written.
    #[error("cannot write after write_eof()")]
    EofWritten,
    /// The connection failed (a reset by the peer, say); bytes still buffered are
    /// dropped. The same error is returned by every later write, drain and
    /// `wait_closed`.
    #[error(transparent)]
    Io(#[from] io::Error),
    /// Buffered bytes could not be sent because no event loop is running to send them
    /// (the writer was used outside a loop and the loop it was made on is gone).
    #[error("no running event loop to send the buffered data")]
    NoRunningLoop,
    /// [`set_write_buffer_limits`](crate::StreamWriter::set_write_buffer_limits) was
    /// given a low-water mark above the high-water mark.
    #[error("the low-water mark ({low}) is above the high-water mark ({high})")]
    InvalidLimits {
        /// The high-water mark given.
        high: usize,
        /// The low-water mark given.
        low: usize,
    },
}

impl From<WriteError> for io::Error {
    /// An I/O error as itself; closing and EOF errors as `BrokenPipe`, the others as
    /// `Other` and `InvalidInput`.
    fn from(error: WriteError) -> io::Error {
        match error {
            WriteError::Io(e) => e,
            e @ (WriteError::Closing | WriteError::EofWritten) => {
                io::Error::new(io::ErrorKind::BrokenPipe, e)
            }
            e @ WriteError::NoRunningLoop => io::Error::other(e),
            e @ WriteError::InvalidLimits { .. } => io::Error::new(io::ErrorKind::InvalidInput, e),
        }
    }
}
