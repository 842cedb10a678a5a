//! [`StreamReader`]: asyncio's reading half of a connection.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use crate::error::{IncompleteRead, LimitOverrun, StreamError};
use crate::transport::{Connection, clone_error};

/// The default [`limit`](StreamReader::limit) of a reader: 64 KiB, as in asyncio.
pub const DEFAULT_LIMIT: usize = 64 * 1024;

/// The most room a read asks for at once (the buffer may still offer more).
const CHUNK: usize = 64 * 1024;
/// The least room a read asks for: the first allocation of a reader that only ever
/// reads small amounts (an idle connection costs this much).
const MIN_ROOM: usize = 1024;
/// The room asked for by reads that do not know how much they need (`readuntil`,
/// `readline`, `AsyncBufRead`); the buffer doubles when it fills up.
const DEFAULT_ROOM: usize = 8 * 1024;
/// An emptied buffer larger than this gives its memory back.
const KEEP_AT_MOST: usize = 4 * CHUNK;

/// The reading half of a connection (asyncio's `StreamReader`), made together with its
/// [`StreamWriter`](crate::StreamWriter) by [`from_tcp_stream`](crate::from_tcp_stream),
/// [`from_unix_stream`](crate::from_unix_stream) or `open_connection`.
///
/// The reader keeps a buffer. Every read method reads from the connection into the
/// buffer, and takes bytes out of the buffer only when it completes: all of them are
/// **cancel-safe**, a read future dropped part-way loses no bytes, which the next read
/// returns. Bytes are read from the connection only while a read needs them, so a slow
/// consumer makes the peer wait (flow control) rather than the buffer grow.
///
/// The [`limit`](StreamReader::limit) (default [`DEFAULT_LIMIT`]) bounds what
/// [`readuntil`](StreamReader::readuntil) and [`readline`](StreamReader::readline)
/// return (not counting the separator).
///
/// Errors: once the connection fails (a reset by the peer, say), bytes already in the
/// buffer can still be read; a read that needs more returns the error, and so does
/// every later one. EOF is not an error: it ends reads as asyncio's do.
///
/// The reader implements [`futures_io::AsyncBufRead`] and [`futures_io::AsyncRead`]
/// (over the same buffer), and [`futures_core::Stream`] of lines (asyncio's
/// `async for line in reader`).
pub struct StreamReader {
    conn: Arc<Connection>,
    buf: Buffer,
    limit: usize,
    eof: bool,
    error: Option<io::Error>,
    /// The `Stream` of lines ended after an I/O error.
    lines_done: bool,
}

impl StreamReader {
    pub(crate) fn new(conn: Arc<Connection>, limit: usize) -> StreamReader {
        StreamReader {
            conn,
            buf: Buffer::default(),
            limit,
            eof: false,
            error: None,
            lines_done: false,
        }
    }

    /// The connection this reader reads from.
    pub(crate) fn connection(&self) -> &Arc<Connection> {
        &self.conn
    }

    /// The limit of [`readuntil`](StreamReader::readuntil) and
    /// [`readline`](StreamReader::readline): the longest chunk they return, not counting
    /// the separator.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Whether EOF was reached and the buffer is empty (asyncio's `at_eof()`): every
    /// read would now return nothing. EOF is known once a read has seen it.
    pub fn at_eof(&self) -> bool {
        self.eof && self.buf.is_empty()
    }

    /// The error the connection failed with, if any (asyncio's `exception()`).
    pub fn exception(&self) -> Option<io::Error> {
        self.error.as_ref().map(clone_error)
    }

    /// Reads up to `n` bytes (asyncio's `read(n)`): waits until at least one byte is
    /// buffered, then returns at most `n` of them. Returns an empty vector at EOF, and at
    /// once if `n` is 0. To read until EOF, see
    /// [`read_to_end`](StreamReader::read_to_end).
    ///
    /// Cancel-safe.
    ///
    /// # Errors
    ///
    /// [`StreamError::Io`] if the connection failed and the buffer is empty.
    pub async fn read(&mut self, n: usize) -> Result<Vec<u8>, StreamError> {
        poll_fn(|cx| self.poll_read_up_to(cx, n)).await
    }

    /// Reads until EOF and returns all the bytes (asyncio's `read()` or `read(-1)`).
    /// The limit does not apply.
    ///
    /// Cancel-safe: dropped part-way, the bytes read so far stay in the buffer.
    ///
    /// # Errors
    ///
    /// [`StreamError::Io`] if the connection fails before EOF; the bytes read so far stay
    /// in the buffer.
    pub async fn read_to_end(&mut self) -> Result<Vec<u8>, StreamError> {
        poll_fn(|cx| {
            while ready!(self.poll_fill(cx, CHUNK))? != 0 {}
            let n = self.buf.len();
            Poll::Ready(Ok(self.buf.take(n)))
        })
        .await
    }

    /// Reads exactly `n` bytes (asyncio's `readexactly(n)`).
    ///
    /// Cancel-safe.
    ///
    /// # Errors
    ///
    /// [`StreamError::IncompleteRead`] if EOF comes first, with the bytes that were read
    /// (the buffer is then empty); [`StreamError::Io`] if the connection fails first
    /// (the bytes stay in the buffer).
    pub async fn readexactly(&mut self, n: usize) -> Result<Vec<u8>, StreamError> {
        poll_fn(|cx| {
            loop {
                if self.buf.len() >= n {
                    return Poll::Ready(Ok(self.buf.take(n)));
                }
                if self.eof {
                    let len = self.buf.len();
                    let partial = self.buf.take(len);
                    return Poll::Ready(Err(IncompleteRead {
                        partial,
                        expected: Some(n),
                    }
                    .into()));
                }
                ready!(self.poll_fill(cx, n - self.buf.len()))?;
            }
        })
        .await
    }

    /// Reads up to and including `separator` (asyncio's `readuntil`), and returns the
    /// data with the separator at its end.
    ///
    /// Cancel-safe.
    ///
    /// # Errors
    ///
    /// - [`StreamError::LimitOverrun`] if the data before the separator is longer than
    ///   the [`limit`](StreamReader::limit), or no separator is found within it: the
    ///   data stays in the buffer, where other reads find it.
    /// - [`StreamError::IncompleteRead`] if EOF comes before a separator, with all the
    ///   buffered bytes (the buffer is then empty).
    /// - [`StreamError::EmptySeparator`] if `separator` is empty.
    /// - [`StreamError::Io`] if the connection fails first (the bytes stay buffered).
    pub async fn readuntil(&mut self, separator: &[u8]) -> Result<Vec<u8>, StreamError> {
        self.readuntil_any(&[separator]).await
    }

    /// Reads up to and including the first of several separators (asyncio 3.13's
    /// `readuntil` with a tuple): the data returned is the shortest that ends with one
    /// of `separators`; if two separators end at the same place, the shorter one is the
    /// match. For the limit, the data before the matching separator counts.
    ///
    /// Cancel-safe.
    ///
    /// # Errors
    ///
    /// As [`readuntil`](StreamReader::readuntil); [`StreamError::EmptySeparator`] if
    /// `separators` is empty or holds an empty separator.
    pub async fn readuntil_any(&mut self, separators: &[&[u8]]) -> Result<Vec<u8>, StreamError> {
        let seps = Separators::new(separators)?;
        let mut offset = 0;
        poll_fn(|cx| self.poll_readuntil(cx, &seps, &mut offset)).await
    }

    /// Reads one line, ending with `\n` (asyncio's `readline`). At EOF, returns the
    /// partial line without `\n`, or an empty vector if nothing is left.
    ///
    /// Cancel-safe.
    ///
    /// # Errors
    ///
    /// [`StreamError::LimitOverrun`] if the line is longer than the
    /// [`limit`](StreamReader::limit). Unlike [`readuntil`](StreamReader::readuntil),
    /// and as asyncio does, the data is dropped first: the whole line with its `\n` if
    /// the `\n` was found, else the whole buffer. [`StreamError::Io`] if the connection
    /// fails first.
    pub async fn readline(&mut self) -> Result<Vec<u8>, StreamError> {
        let mut offset = 0;
        poll_fn(|cx| self.poll_readline(cx, &mut offset)).await
    }

    /// Reads from the connection into the buffer, with room for at least `want` bytes
    /// (within `MIN_ROOM..=CHUNK`); `Ok(0)` means EOF.
    fn poll_fill(&mut self, cx: &mut Context<'_>, want: usize) -> Poll<io::Result<usize>> {
        if self.eof {
            return Poll::Ready(Ok(0));
        }
        if let Some(error) = &self.error {
            return Poll::Ready(Err(clone_error(error)));
        }
        loop {
            let spare = self.buf.spare(want);
            return match ready!(self.conn.poll_read(cx, spare)) {
                Ok(0) => {
                    self.eof = true;
                    Poll::Ready(Ok(0))
                }
                Ok(n) => {
                    self.buf.filled(n);
                    Poll::Ready(Ok(n))
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.conn.set_read_error(&e);
                    self.error = Some(clone_error(&e));
                    Poll::Ready(Err(e))
                }
            };
        }
    }

    fn poll_read_up_to(
        &mut self,
        cx: &mut Context<'_>,
        n: usize,
    ) -> Poll<Result<Vec<u8>, StreamError>> {
        if n == 0 {
            return Poll::Ready(Ok(Vec::new()));
        }
        while self.buf.is_empty() {
            if ready!(self.poll_fill(cx, n))? == 0 {
                return Poll::Ready(Ok(Vec::new()));
            }
        }
        let n = n.min(self.buf.len());
        Poll::Ready(Ok(self.buf.take(n)))
    }

    /// `offset`: the bytes at the buffer's start known to hold no separator.
    fn poll_readuntil(
        &mut self,
        cx: &mut Context<'_>,
        seps: &Separators<'_>,
        offset: &mut usize,
    ) -> Poll<Result<Vec<u8>, StreamError>> {
        loop {
            let data = self.buf.as_slice();
            if data.len() >= *offset + seps.min_len {
                if let Some((start, end)) = seps.find(data, *offset) {
                    if start > self.limit {
                        return Poll::Ready(Err(LimitOverrun {
                            consumed: start,
                            separator_found: true,
                        }
                        .into()));
                    }
                    return Poll::Ready(Ok(self.buf.take(end)));
                }
                // A separator not found yet must end past the data.
                *offset = (data.len() + 1).saturating_sub(seps.max_len);
                if *offset > self.limit {
                    return Poll::Ready(Err(LimitOverrun {
                        consumed: *offset,
                        separator_found: false,
                    }
                    .into()));
                }
            }
            // A complete separator may have come with the last bytes before EOF: the
            // buffer is searched before EOF is considered.
            if self.eof {
                let len = self.buf.len();
                let partial = self.buf.take(len);
                return Poll::Ready(Err(IncompleteRead {
                    partial,
                    expected: None,
                }
                .into()));
            }
            ready!(self.poll_fill(cx, DEFAULT_ROOM))?;
        }
    }

    fn poll_readline(
        &mut self,
        cx: &mut Context<'_>,
        offset: &mut usize,
    ) -> Poll<Result<Vec<u8>, StreamError>> {
        const NEWLINE: &[u8] = b"\n";
        let seps = Separators {
            seps: &[NEWLINE],
            min_len: 1,
            max_len: 1,
        };
        Poll::Ready(match ready!(self.poll_readuntil(cx, &seps, offset)) {
            Err(StreamError::IncompleteRead(e)) => Ok(e.partial),
            Err(StreamError::LimitOverrun(e)) => {
                if self.buf.as_slice().get(e.consumed) == Some(&b'\n') {
                    self.buf.consume(e.consumed + 1);
                } else {
                    self.buf.clear();
                }
                Err(e.into())
            }
            result => result,
        })
    }
}

impl fmt::Debug for StreamReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamReader")
            .field("buffered", &self.buf.len())
            .field("limit", &self.limit)
            .field("eof", &self.eof)
            .field("error", &self.error)
            .field("peer", &self.conn.peer_addr())
            .finish()
    }
}

impl futures_io::AsyncBufRead for StreamReader {
    /// The buffered bytes, reading from the connection first if there are none; empty
    /// at EOF.
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let this = self.get_mut();
        if this.buf.is_empty() {
            ready!(this.poll_fill(cx, DEFAULT_ROOM))?;
        }
        Poll::Ready(Ok(this.buf.as_slice()))
    }

    /// Removes `amt` bytes (at most all of them) from the buffer.
    fn consume(self: Pin<&mut Self>, amt: usize) {
        self.get_mut().buf.consume(amt);
    }
}

impl futures_io::AsyncRead for StreamReader {
    /// Copies buffered bytes into `buf`, reading from the connection first if there are
    /// none; 0 at EOF.
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        if this.buf.is_empty() {
            ready!(this.poll_fill(cx, buf.len()))?;
        }
        let data = this.buf.as_slice();
        let n = data.len().min(buf.len());
        buf[..n].copy_from_slice(&data[..n]);
        this.buf.consume(n);
        Poll::Ready(Ok(n))
    }
}

impl futures_core::Stream for StreamReader {
    /// A line, as [`readline`](StreamReader::readline) returns it.
    type Item = Result<Vec<u8>, StreamError>;

    /// The next line (asyncio's `async for line in reader`); ends at EOF, and after an
    /// I/O error (which it yields first). A line over the limit is yielded as
    /// [`StreamError::LimitOverrun`] and dropped, and the lines after it follow.
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.lines_done {
            return Poll::Ready(None);
        }
        let mut offset = 0;
        Poll::Ready(match ready!(this.poll_readline(cx, &mut offset)) {
            Ok(line) if line.is_empty() => None,
            Err(StreamError::Io(e)) => {
                this.lines_done = true;
                Some(Err(StreamError::Io(e)))
            }
            item => Some(item),
        })
    }
}

/// Validated separators for `readuntil`.
struct Separators<'a> {
    seps: &'a [&'a [u8]],
    min_len: usize,
    max_len: usize,
}

impl<'a> Separators<'a> {
    fn new(seps: &'a [&'a [u8]]) -> Result<Separators<'a>, StreamError> {
        let min_len = seps.iter().map(|s| s.len()).min().unwrap_or(0);
        let max_len = seps.iter().map(|s| s.len()).max().unwrap_or(0);
        if min_len == 0 {
            return Err(StreamError::EmptySeparator);
        }
        Ok(Separators {
            seps,
            min_len,
            max_len,
        })
    }

    /// The match in `data[offset..]` that ends first (the shorter separator on a tie),
    /// as its start and end.
    fn find(&self, data: &[u8], offset: usize) -> Option<(usize, usize)> {
        let mut best: Option<(usize, usize)> = None;
        for sep in self.seps {
            // The search may stop where the best match so far ends.
            let stop = best.map_or(data.len(), |(_, end)| end);
            let Some(hay) = data.get(offset..stop) else {
                continue;
            };
            if let Some(i) = memchr::memmem::find(hay, sep) {
                let start = offset + i;
                let end = start + sep.len();
                let better = match best {
                    None => true,
                    Some((best_start, best_end)) => {
                        end < best_end || (end == best_end && start > best_start)
                    }
                };
                if better {
                    best = Some((start, end));
                }
            }
        }
        best
    }
}

/// The reader's buffer: `data[start..end]` holds the unread bytes, `data[end..]` is room
/// for the next read (initialised once, so reads need no zeroing).
#[derive(Default)]
struct Buffer {
    data: Vec<u8>,
    start: usize,
    end: usize,
}

impl Buffer {
    fn as_slice(&self) -> &[u8] {
        &self.data[self.start..self.end]
    }

    fn len(&self) -> usize {
        self.end - self.start
    }

    fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// Drops the first `n` bytes (at most all of them).
    fn consume(&mut self, n: usize) {
        self.start += n.min(self.len());
        if self.is_empty() {
            self.clear();
        }
    }

    /// Takes out the first `n` bytes (at most all of them).
    fn take(&mut self, n: usize) -> Vec<u8> {
        let n = n.min(self.len());
        let out = self.data[self.start..self.start + n].to_vec();
        self.consume(n);
        out
    }

    fn clear(&mut self) {
        self.start = 0;
        self.end = 0;
        if self.data.len() > KEEP_AT_MOST {
            self.data = Vec::new();
        }
    }

    /// Room for a read: all the room there is, and at least `want` bytes (within
    /// `MIN_ROOM..=CHUNK`), moving the data to the front or growing the allocation
    /// (at least doubling it) if needed. Sized by the reads: a reader that reads 1 KiB
    /// at a time holds 1 KiB.
    fn spare(&mut self, want: usize) -> &mut [u8] {
        let want = want.clamp(MIN_ROOM, CHUNK);
        if self.data.len() - self.end < want {
            if self.start > 0 {
                self.data.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            }
            if self.data.len() - self.end < want {
                let grown = (self.data.len() * 2).max(self.end + want);
                self.data.resize(grown, 0);
            }
        }
        &mut self.data[self.end..]
    }

    /// Marks `n` bytes of the room as read.
    fn filled(&mut self, n: usize) {
        self.end = (self.end + n).min(self.data.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_allocation_is_what_the_read_asks_for() {
        let mut buf = Buffer::default();
        assert_eq!(buf.spare(1024).len(), 1024);
        let mut tiny = Buffer::default();
        assert_eq!(tiny.spare(1).len(), MIN_ROOM, "a floor of MIN_ROOM");
        let mut huge = Buffer::default();
        assert_eq!(huge.spare(10 << 20).len(), CHUNK, "a ceiling of CHUNK");
    }

    #[test]
    fn the_buffer_grows_by_doubling_and_keeps_unread_bytes() {
        let mut buf = Buffer::default();
        let room = buf.spare(1024);
        room[..1000].fill(b'a');
        buf.filled(1000);
        buf.consume(10);
        // 990 unread bytes and room for 8 KiB more: moved to the front, then grown.
        let room = buf.spare(DEFAULT_ROOM).len();
        assert!(room >= DEFAULT_ROOM);
        assert_eq!(buf.len(), 990);
        assert!(buf.as_slice().iter().all(|&b| b == b'a'));
        let before = buf.data.len();
        let room = buf.spare(buf.data.len() - buf.end + 1).len();
        assert!(buf.data.len() >= 2 * before, "grew by doubling");
        assert_eq!(room, buf.data.len() - 990);
    }

    #[test]
    fn an_emptied_huge_buffer_gives_its_memory_back() {
        let mut buf = Buffer::default();
        while buf.data.len() <= KEEP_AT_MOST {
            let n = buf.spare(CHUNK).len();
            buf.filled(n);
        }
        let n = buf.len();
        buf.consume(n);
        assert_eq!(buf.data.len(), 0);
    }
}
