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
    ///
    /// An empty reader holds no memory while it waits: it waits until the socket may
    /// have data before it allocates, and gives an empty buffer back when the read
    /// finds nothing. An idle connection costs no buffer, as in asyncio.
    fn poll_fill(&mut self, cx: &mut Context<'_>, want: usize) -> Poll<io::Result<usize>> {
        if self.eof {
            return Poll::Ready(Ok(0));
        }
        if let Some(error) = &self.error {
            return Poll::Ready(Err(clone_error(error)));
        }
        if self.buf.is_empty() && self.conn.poll_read_ready(cx).is_pending() {
            // Emptied by an earlier read that kept the allocation: give it back too.
            self.buf.release_if_empty();
            return Poll::Pending;
        }
        self.buf.reserve(want);
        loop {
            let polled = self.conn.poll_read_buf(cx, &mut self.buf.data);
            return match polled {
                Poll::Pending => {
                    self.buf.release_if_empty();
                    Poll::Pending
                }
                Poll::Ready(Ok(0)) => {
                    self.eof = true;
                    self.buf.release_if_empty();
                    Poll::Ready(Ok(0))
                }
                Poll::Ready(Ok(n)) => {
                    self.buf.last_fill = n;
                    Poll::Ready(Ok(n))
                }
                Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => continue,
                Poll::Ready(Err(e)) => {
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

/// The reader's buffer: `data[start..]` holds the unread bytes; `data`'s spare
/// capacity is room for the next read, never zeroed (the socket writes it).
#[derive(Default)]
struct Buffer {
    data: Vec<u8>,
    start: usize,
    /// How many bytes the last read from the socket brought: a fresh allocation is
    /// sized by it.
    last_fill: usize,
}

impl Buffer {
    fn as_slice(&self) -> &[u8] {
        &self.data[self.start..]
    }

    fn len(&self) -> usize {
        self.data.len() - self.start
    }

    fn is_empty(&self) -> bool {
        self.start == self.data.len()
    }

    /// Drops the first `n` bytes (at most all of them).
    fn consume(&mut self, n: usize) {
        self.start += n.min(self.len());
        if self.is_empty() {
            self.clear();
        }
    }

    /// Takes out the first `n` bytes (at most all of them). Taking everything hands
    /// the allocation itself over, without a copy (trimmed if mostly unused, so the
    /// caller does not keep a large allocation for a few bytes); the buffer is then
    /// empty and holds no memory.
    fn take(&mut self, n: usize) -> Vec<u8> {
        let n = n.min(self.len());
        if self.start == 0 && n == self.data.len() {
            let mut out = std::mem::take(&mut self.data);
            if out.capacity() > 2 * out.len() {
                out.shrink_to_fit();
            }
            return out;
        }
        let out = self.data[self.start..self.start + n].to_vec();
        self.consume(n);
        out
    }

    fn clear(&mut self) {
        self.start = 0;
        self.data.clear();
        if self.data.capacity() > KEEP_AT_MOST {
            self.data = Vec::new();
        }
    }

    /// Gives the allocation back if nothing is buffered.
    fn release_if_empty(&mut self) {
        if self.is_empty() {
            self.start = 0;
            self.data = Vec::new();
        }
    }

    /// Makes room for a read of at least `want` bytes (within `MIN_ROOM..=CHUNK`):
    /// moves the unread bytes to the front or grows the allocation (by at least its
    /// size: amortised doubling) if needed. Sized by the reads: a reader that reads
    /// 1 KiB at a time holds 1 KiB. A fresh allocation (the last one was handed over
    /// or given back) is at most twice what the last read brought, so that small
    /// messages make small allocations; a read that fills it doubles the next one.
    fn reserve(&mut self, want: usize) {
        let mut want = want.clamp(MIN_ROOM, CHUNK);
        if self.data.capacity() == 0 && self.last_fill > 0 {
            want = want.min(self.last_fill.saturating_mul(2).max(MIN_ROOM));
        }
        if self.room() >= want {
            return;
        }
        if self.start > 0 {
            self.data.drain(..self.start);
            self.start = 0;
        }
        if self.room() < want {
            let more = want.max(self.data.capacity());
            self.data.reserve_exact(more);
        }
    }

    /// The spare capacity: what the next read may fill.
    fn room(&self) -> usize {
        self.data.capacity() - self.data.len()
    }
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::io::Write;
    use std::task::Waker;

    use super::*;

    /// Appends `bytes` as a socket read would.
    fn fill(buf: &mut Buffer, bytes: &[u8]) {
        assert!(buf.room() >= bytes.len());
        buf.data.extend_from_slice(bytes);
    }

    #[test]
    fn the_first_allocation_is_what_the_read_asks_for() {
        let mut buf = Buffer::default();
        buf.reserve(1024);
        assert_eq!(buf.room(), 1024);
        let mut tiny = Buffer::default();
        tiny.reserve(1);
        assert_eq!(tiny.room(), MIN_ROOM, "a floor of MIN_ROOM");
        let mut huge = Buffer::default();
        huge.reserve(10 << 20);
        assert_eq!(huge.room(), CHUNK, "a ceiling of CHUNK");
    }

    #[test]
    fn the_buffer_grows_by_doubling_and_keeps_unread_bytes() {
        let mut buf = Buffer::default();
        buf.reserve(1024);
        fill(&mut buf, &[b'a'; 1000]);
        buf.consume(10);
        // 990 unread bytes and room for 8 KiB more: moved to the front, then grown.
        buf.reserve(DEFAULT_ROOM);
        assert!(buf.room() >= DEFAULT_ROOM);
        assert_eq!(buf.start, 0);
        assert_eq!(buf.as_slice(), &[b'a'; 990][..]);
        let before = buf.data.capacity();
        buf.reserve(buf.room() + 1);
        assert!(
            buf.room() >= before,
            "grew by at least its size (amortised doubling)"
        );
        assert_eq!(buf.as_slice(), &[b'a'; 990][..]);
    }

    #[test]
    fn taking_everything_hands_the_allocation_over() {
        let mut buf = Buffer::default();
        buf.reserve(CHUNK);
        fill(&mut buf, &[7; 100]);
        let out = buf.take(100);
        assert_eq!(out, [7; 100]);
        assert!(
            out.capacity() < CHUNK,
            "trimmed: the caller keeps no 64 KiB for 100 bytes"
        );
        assert_eq!(buf.data.capacity(), 0, "the empty buffer holds no memory");
        assert!(buf.is_empty());
        // Taking a part copies it and keeps the rest.
        buf.reserve(MIN_ROOM);
        fill(&mut buf, b"head tail");
        assert_eq!(buf.take(5), b"head ");
        assert_eq!(buf.as_slice(), b"tail");
        assert_eq!(buf.take(100), b"tail");
        assert!(buf.is_empty());
    }

    #[test]
    fn a_fresh_allocation_is_sized_by_the_last_read() {
        let mut buf = Buffer::default();
        buf.reserve(CHUNK);
        assert_eq!(
            buf.room(),
            CHUNK,
            "nothing known yet: what the read asks for"
        );
        fill(&mut buf, &[1; 3000]);
        buf.last_fill = 3000;
        let out = buf.take(3000);
        assert_eq!(out.len(), 3000);
        buf.reserve(CHUNK);
        assert_eq!(buf.room(), 6000, "twice the last read");
        let room = buf.room();
        fill(&mut buf, &vec![2; room]);
        buf.last_fill = room;
        buf.take(room);
        buf.reserve(CHUNK);
        assert_eq!(buf.room(), 12000, "a full read doubles the next allocation");
        buf.last_fill = 10;
        buf.release_if_empty();
        buf.reserve(CHUNK);
        assert_eq!(buf.room(), MIN_ROOM, "never below MIN_ROOM");
        buf.last_fill = 1 << 20;
        buf.release_if_empty();
        buf.reserve(CHUNK);
        assert_eq!(buf.room(), CHUNK, "never above what the read asks for");
    }

    #[test]
    fn an_empty_buffer_can_give_its_memory_back() {
        let mut buf = Buffer::default();
        buf.reserve(MIN_ROOM);
        buf.release_if_empty();
        assert_eq!(buf.data.capacity(), 0);
        buf.reserve(MIN_ROOM);
        fill(&mut buf, b"x");
        buf.release_if_empty();
        assert_eq!(buf.as_slice(), b"x", "kept: not empty");
    }

    /// Runs `test` on an event loop with a reader over a TCP connection on loopback
    /// (where a short read marks the socket drained) and the other end, a std stream,
    /// as the peer.
    fn with_reader<F: Future<Output = ()> + 'static>(
        test: impl FnOnce(StreamReader, std::net::TcpStream) -> F,
    ) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let peer = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (ours, _) = listener.accept().unwrap();
        let event_loop = tulip_executor::EventLoop::new().unwrap();
        let (reader, writer) = event_loop
            .run_until_complete(async move {
                let ours = tulip_reactor::net::TcpStream::from_std(ours).unwrap();
                crate::from_tcp_stream(ours, crate::StreamOptions::new())
            })
            .unwrap();
        event_loop.run_until_complete(test(reader, peer)).unwrap();
        drop(writer);
    }

    #[test]
    fn an_idle_reader_holds_no_buffer() {
        with_reader(|mut reader, peer| async move {
            (&peer).write_all(b"ping").unwrap();
            assert_eq!(reader.read(1024).await.unwrap(), b"ping");
            let cx = &mut Context::from_waker(Waker::noop());
            // Nothing more to read: the read waits, and holds no memory meanwhile.
            assert!(reader.poll_read_up_to(cx, 1024).is_pending());
            assert_eq!(reader.buf.data.capacity(), 0);
            (&peer).write_all(b"pong").unwrap();
            assert_eq!(reader.read(1024).await.unwrap(), b"pong");
            drop(peer);
            assert_eq!(reader.read(1024).await.unwrap(), b"");
            assert_eq!(reader.buf.data.capacity(), 0);
        });
    }

    #[test]
    fn a_reader_emptied_by_partial_reads_holds_no_buffer_while_idle() {
        with_reader(|mut reader, peer| async move {
            (&peer).write_all(b"one\ntwo\n").unwrap();
            // Two lines from one read: each taken by a copy, the buffer emptied.
            assert_eq!(reader.readline().await.unwrap(), b"one\n");
            assert_eq!(reader.readline().await.unwrap(), b"two\n");
            let cx = &mut Context::from_waker(Waker::noop());
            let mut offset = 0;
            assert!(reader.poll_readline(cx, &mut offset).is_pending());
            assert_eq!(reader.buf.data.capacity(), 0);
            (&peer).write_all(b"three\n").unwrap();
            assert_eq!(reader.readline().await.unwrap(), b"three\n");
        });
    }

    #[test]
    fn an_emptied_huge_buffer_gives_its_memory_back() {
        let mut buf = Buffer::default();
        while buf.data.capacity() <= KEEP_AT_MOST {
            buf.reserve(CHUNK);
            let room = buf.room();
            fill(&mut buf, &vec![1; room]);
        }
        buf.consume(1);
        let n = buf.len();
        buf.consume(n);
        assert_eq!(buf.data.capacity(), 0);
    }
}
