//! Pipes on the reactor: [`PipeReader`] and [`PipeWriter`], the ends of an anonymous
//! pipe (or of a child process's standard streams), read and written without
//! blocking the loop.
//!
//! A read that returns fewer bytes than asked for emptied the pipe, so the next read
//! waits for an event instead of a system call that would say `WouldBlock`; a short
//! write likewise means the pipe is full. A writer whose reader has gone gets `EPIPE`
//! (`io::ErrorKind::BrokenPipe`), provided `SIGPIPE` is ignored, as Rust programs do
//! at startup (and `tulip-process` makes sure of before it spawns).

use std::fs::File;
use std::io::{self, IoSlice};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::io::{Async, poll_append};

/// Makes an anonymous pipe, both ends non-blocking and close-on-exec, registered with
/// the current reactor.
///
/// # Errors
///
/// The error of `pipe2`, or of the registration (for instance without a current
/// reactor).
///
/// ```
/// use tulip_reactor::Reactor;
/// use tulip_reactor::pipe::pipe;
///
/// let reactor = Reactor::new()?;
/// let _guard = reactor.enter();
/// let (reader, writer) = pipe()?;
/// let cx = &mut std::task::Context::from_waker(std::task::Waker::noop());
/// assert!(writer.poll_write(cx, b"hi").is_ready());
/// let mut buf = [0; 2];
/// assert!(matches!(reader.poll_read(cx, &mut buf), std::task::Poll::Ready(Ok(2))));
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn pipe() -> io::Result<(PipeReader, PipeWriter)> {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors `pipe2` writes.
    let result = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) };
    if result < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `pipe2` succeeded, so both descriptors are open and owned by nobody else.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    Ok((
        PipeReader::from_owned_fd(read)?,
        PipeWriter::from_owned_fd(write)?,
    ))
}

/// The reading end of a pipe.
#[derive(Debug)]
pub struct PipeReader {
    io: Async<File>,
}

impl PipeReader {
    /// Takes `fd` (the reading end of a pipe, such as a child's `stdout`), makes it
    /// non-blocking and registers it with the current reactor.
    ///
    /// # Errors
    ///
    /// The error of `fcntl` or of the registration.
    pub fn from_owned_fd(fd: OwnedFd) -> io::Result<PipeReader> {
        Ok(PipeReader {
            io: Async::new(File::from(fd))?,
        })
    }

    /// Reads into `buf`; 0 at end of file (every writer closed).
    ///
    /// # Errors
    ///
    /// The error of `read(2)`.
    pub async fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        std::future::poll_fn(|cx| self.poll_read(cx, buf)).await
    }

    /// Polls a read into `buf`; on `Pending`, `cx`'s waker takes the read slot.
    ///
    /// # Errors
    ///
    /// The error of `read(2)`.
    pub fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        let len = buf.len();
        self.io
            .poll_read_stream(cx, len, |file| Ok(rustix::io::read(file, &mut *buf)?))
    }

    /// Polls a read into `buf`'s spare capacity, appending what was read (the memory
    /// is not zeroed first); `Ok(0)` at end of file, or if `buf` has no spare capacity.
    ///
    /// # Errors
    ///
    /// The error of `read(2)`.
    pub fn poll_read_buf(
        &self,
        cx: &mut Context<'_>,
        buf: &mut Vec<u8>,
    ) -> Poll<io::Result<usize>> {
        poll_append(buf, |spare| {
            let room = spare.len();
            self.io.poll_read_stream(cx, room, |file| {
                let (filled, _) = rustix::io::read(file, &mut *spare)?;
                Ok(filled.len())
            })
        })
    }

    /// Ready unless a short read emptied the pipe since its last event (then waits for
    /// the next one, through the read slot).
    pub fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<()> {
        self.io.poll_read_ready(cx)
    }

    /// The descriptor, deregistered from the reactor (and left non-blocking).
    ///
    /// # Errors
    ///
    /// The error of the deregistration.
    pub fn into_owned_fd(self) -> io::Result<OwnedFd> {
        Ok(self.io.into_inner()?.into())
    }
}

/// The writing end of a pipe.
#[derive(Debug)]
pub struct PipeWriter {
    io: Async<File>,
}

impl PipeWriter {
    /// Takes `fd` (the writing end of a pipe, such as a child's `stdin`), makes it
    /// non-blocking and registers it with the current reactor.
    ///
    /// # Errors
    ///
    /// The error of `fcntl` or of the registration.
    pub fn from_owned_fd(fd: OwnedFd) -> io::Result<PipeWriter> {
        Ok(PipeWriter {
            io: Async::new(File::from(fd))?,
        })
    }

    /// Writes some of `buf`, returning how much.
    ///
    /// # Errors
    ///
    /// The error of `write(2)`: `BrokenPipe` once the reader has gone.
    pub async fn write(&self, buf: &[u8]) -> io::Result<usize> {
        std::future::poll_fn(|cx| self.poll_write(cx, buf)).await
    }

    /// Writes all of `buf`.
    ///
    /// # Errors
    ///
    /// As [`write`](PipeWriter::write); `WriteZero` if a write takes nothing.
    pub async fn write_all(&self, mut buf: &[u8]) -> io::Result<()> {
        while !buf.is_empty() {
            match self.write(buf).await? {
                0 => return Err(io::ErrorKind::WriteZero.into()),
                n => buf = &buf[n..],
            }
        }
        Ok(())
    }

    /// Polls a write of `buf`; on `Pending`, `cx`'s waker takes the write slot.
    ///
    /// # Errors
    ///
    /// As [`write`](PipeWriter::write).
    pub fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.io
            .poll_write_stream(cx, buf.len(), |file| Ok(rustix::io::write(file, buf)?))
    }

    /// Polls a vectored write of `bufs`.
    ///
    /// # Errors
    ///
    /// As [`write`](PipeWriter::write).
    pub fn poll_write_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let len = bufs
            .iter()
            .take(1024)
            .map(|b| b.len())
            .fold(0, usize::saturating_add);
        self.io
            .poll_write_stream(cx, len, |file| Ok(rustix::io::writev(file, bufs)?))
    }

    /// The descriptor, deregistered from the reactor (and left non-blocking).
    ///
    /// # Errors
    ///
    /// The error of the deregistration.
    pub fn into_owned_fd(self) -> io::Result<OwnedFd> {
        Ok(self.io.into_inner()?.into())
    }
}

impl AsFd for PipeReader {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.as_fd()
    }
}

impl AsRawFd for PipeReader {
    fn as_raw_fd(&self) -> RawFd {
        self.io.as_raw_fd()
    }
}

impl AsFd for PipeWriter {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.as_fd()
    }
}

impl AsRawFd for PipeWriter {
    fn as_raw_fd(&self) -> RawFd {
        self.io.as_raw_fd()
    }
}

impl futures_io::AsyncRead for PipeReader {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        PipeReader::poll_read(&self, cx, buf)
    }
}

impl futures_io::AsyncWrite for PipeWriter {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        PipeWriter::poll_write(&self, cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        PipeWriter::poll_write_vectored(&self, cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// Nothing to do: a pipe's writing end closes when dropped.
    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use std::task::Waker;

    use super::*;
    use crate::Reactor;

    #[test]
    fn a_short_read_waits_for_the_next_event_and_eof_reads_zero() {
        let reactor = Reactor::new().unwrap();
        let _guard = reactor.enter();
        let (reader, writer) = pipe().unwrap();
        let cx = &mut Context::from_waker(Waker::noop());
        let mut buf = [0; 16];
        assert!(reader.poll_read(cx, &mut buf).is_pending());
        assert!(matches!(writer.poll_write(cx, b"abc"), Poll::Ready(Ok(3))));
        reactor
            .park(Some(std::time::Duration::ZERO), || true)
            .unwrap();
        assert!(matches!(reader.poll_read(cx, &mut buf), Poll::Ready(Ok(3))));
        // The short read emptied the pipe: no system call until an event.
        assert!(reader.poll_read_ready(cx).is_pending());
        drop(writer);
        reactor
            .park(Some(std::time::Duration::ZERO), || true)
            .unwrap();
        let mut vec = Vec::with_capacity(8);
        assert!(matches!(
            reader.poll_read_buf(cx, &mut vec),
            Poll::Ready(Ok(0))
        ));
    }

    #[test]
    fn writing_to_a_pipe_whose_reader_is_gone_is_broken_pipe() {
        // Rust's runtime ignores SIGPIPE before `main`, so the test harness does too.
        let reactor = Reactor::new().unwrap();
        let _guard = reactor.enter();
        let (reader, writer) = pipe().unwrap();
        drop(reader);
        let cx = &mut Context::from_waker(Waker::noop());
        match writer.poll_write(cx, b"x") {
            Poll::Ready(Err(e)) => assert_eq!(e.kind(), io::ErrorKind::BrokenPipe),
            other => panic!("expected EPIPE, got {other:?}"),
        }
    }
}
