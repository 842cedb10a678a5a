//! The driver of a stream transport: the task that reads the socket into the protocol,
//! sends the write buffer, and calls the protocol back as asyncio's loop would.

use std::future::Future;
use std::io;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::cell::{Panicked, ProtocolCell};
use crate::error::ProtocolFailure;
use crate::flow::tell_writing;
use crate::protocol::{BaseProtocol, BufferedProtocol, Protocol};
use crate::scratch::{READ_SIZE, with_scratch};
use crate::transport::{Io, Shared, Transport};

/// The kinds of stream protocol, as the marker of [`StreamProtocol`].
pub mod kind {
    /// A [`Protocol`](crate::Protocol): the transport reads into its own buffer and
    /// lends the bytes to `data_received`.
    #[derive(Debug)]
    pub enum Plain {}

    /// A [`BufferedProtocol`](crate::BufferedProtocol): the transport reads into the
    /// protocol's buffer.
    #[derive(Debug)]
    pub enum Buffered {}
}

/// A stream protocol of either kind: implemented for every [`Protocol`] (with the
/// marker [`kind::Plain`]) and every [`BufferedProtocol`] ([`kind::Buffered`]). The
/// functions that take a protocol factory infer the marker; a type that implements both
/// traits must name it.
pub trait StreamProtocol<K>: BaseProtocol<Transport = Transport> + sealed::Receive<K> {}

impl<P: Protocol> StreamProtocol<kind::Plain> for P {}
impl<P: BufferedProtocol> StreamProtocol<kind::Buffered> for P {}

mod sealed {
    use super::{Io, ReadOutcome};
    use std::task::Context;

    /// How a kind of protocol receives: one read from the socket, handed over.
    pub trait Receive<K> {
        /// Reads once into the protocol and tells it.
        fn receive(&mut self, io: &Io, cx: &mut Context<'_>) -> ReadOutcome;
        /// The protocol's `eof_received`.
        fn eof(&mut self) -> bool;
        /// The receiving callback's name, for the logs.
        const CALLBACK: &'static str;
    }
}

/// What one read came to.
pub enum ReadOutcome {
    /// Bytes were read and handed to the protocol.
    Data,
    /// End of file.
    Eof,
    /// Nothing to read yet (the driver is woken when there is).
    Pending,
    /// A signal interrupted the read: try again.
    Interrupted,
    /// The read failed, or the protocol did something it must not.
    Failed(io::Error),
}

impl<P: Protocol> sealed::Receive<kind::Plain> for P {
    const CALLBACK: &'static str = "data_received";

    fn receive(&mut self, io: &Io, cx: &mut Context<'_>) -> ReadOutcome {
        with_scratch(|buf| match io.poll_read(cx, buf) {
            Poll::Ready(Ok(0)) => ReadOutcome::Eof,
            Poll::Ready(Ok(n)) => {
                self.data_received(&buf[..n]);
                ReadOutcome::Data
            }
            Poll::Ready(Err(e)) => ReadOutcome::from_error(e),
            Poll::Pending => ReadOutcome::Pending,
        })
    }

    fn eof(&mut self) -> bool {
        Protocol::eof_received(self)
    }
}

impl<P: BufferedProtocol> sealed::Receive<kind::Buffered> for P {
    const CALLBACK: &'static str = "get_buffer or buffer_updated";

    fn receive(&mut self, io: &Io, cx: &mut Context<'_>) -> ReadOutcome {
        let buf = self.get_buffer(READ_SIZE);
        if buf.is_empty() {
            return ReadOutcome::Failed(ProtocolFailure::EmptyBuffer.into_io());
        }
        match io.poll_read(cx, buf) {
            Poll::Ready(Ok(0)) => ReadOutcome::Eof,
            Poll::Ready(Ok(n)) => {
                self.buffer_updated(n);
                ReadOutcome::Data
            }
            Poll::Ready(Err(e)) => ReadOutcome::from_error(e),
            Poll::Pending => ReadOutcome::Pending,
        }
    }

    fn eof(&mut self) -> bool {
        BufferedProtocol::eof_received(self)
    }
}

impl ReadOutcome {
    fn from_error(error: io::Error) -> ReadOutcome {
        match error.kind() {
            io::ErrorKind::WouldBlock => ReadOutcome::Pending,
            io::ErrorKind::Interrupted => ReadOutcome::Interrupted,
            _ => ReadOutcome::Failed(error),
        }
    }
}

/// Reads in one run of the driver before it lets other tasks run.
const READS_PER_RUN: u32 = 16;

/// The task of one stream connection: calls `connection_made`, then reads, writes and
/// calls back until the connection ends, then calls `connection_lost`.
pub(crate) struct Driver<P: BaseProtocol, K> {
    transport: Transport,
    cell: Arc<ProtocolCell<P>>,
    /// `connection_made` was called.
    made: bool,
    /// The read side ended (EOF received).
    eof: bool,
    /// What the protocol was last told: `pause_writing` (true) or `resume_writing`.
    writing_paused: bool,
    /// The end was seen; `connection_lost` comes at the next run, so that it is never
    /// called right after (as if from inside) the callback that closed the transport.
    ending: bool,
    /// `connection_lost` was called.
    done: bool,
    kind: PhantomData<fn() -> K>,
}

impl<P: StreamProtocol<K>, K> Driver<P, K> {
    /// A driver for a connection whose protocol has yet to hear `connection_made`.
    pub(crate) fn new(shared: Arc<Shared>, cell: Arc<ProtocolCell<P>>) -> Driver<P, K> {
        Driver {
            transport: Transport { shared },
            cell,
            made: false,
            eof: false,
            writing_paused: false,
            ending: false,
            done: false,
            kind: PhantomData,
        }
    }

    /// Calls `connection_made` now (for `create_connection`, which returns after it).
    pub(crate) fn make(&mut self) {
        if !self.made {
            self.made = true;
            let transport = &self.transport;
            let made = self.cell.call(|p| p.connection_made(transport));
            self.check("connection_made", made);
        }
    }

    fn shared(&self) -> &Shared {
        &self.transport.shared
    }

    /// A panic in a callback fails the transport (logged; `connection_lost` gets it).
    fn check<R>(&self, callback: &'static str, result: Result<R, Panicked>) -> Option<R> {
        match result {
            Ok(value) => Some(value),
            Err(Panicked(message)) => {
                tracing::error!(
                    callback,
                    %message,
                    peer = ?self.transport.peername(),
                    "a protocol callback panicked: closing its transport"
                );
                let failure = ProtocolFailure::Panicked { callback, message };
                self.shared().lock().fail(failure.into_io());
                None
            }
        }
    }

    /// Ends the connection: shuts the socket down and calls `connection_lost`.
    fn finish(&mut self) {
        let (error, reset) = {
            let mut st = self.shared().lock();
            st.lost = true;
            st.driver.stop();
            (st.error.take(), st.reset)
        };
        if reset {
            self.shared().reset();
        } else {
            self.shared().shut_down();
        }
        self.done = true;
        let lost = self.cell.call(|p| p.connection_lost(error));
        if let Err(Panicked(message)) = lost {
            tracing::error!(%message, "a protocol panicked in connection_lost");
        }
    }

    /// One run: acts on the state and reads until nothing is left to do.
    fn run(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        self.make();
        let mut reads = 0;
        let mut read_blocked = false;
        loop {
            let mut st = self.transport.shared.lock();
            st.driver.start();
            // Flow control first: a closing transport resumes its protocol before it
            // reports the loss, as asyncio does (an aborted one does not).
            if !st.aborted && st.marks.over_high != self.writing_paused {
                self.writing_paused = st.marks.over_high;
                drop(st);
                let result = tell_writing(&self.cell, self.writing_paused);
                self.check("pause_writing or resume_writing", result);
                continue;
            }
            if st.aborted || (st.closing && st.buf.is_empty()) {
                if self.ending {
                    drop(st);
                    self.finish();
                    return Poll::Ready(());
                }
                self.ending = true;
                st.driver.pause();
                drop(st);
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            if self.transport.shared.poll_flush(&mut st, cx) {
                continue;
            }
            let can_read = !read_blocked && !self.eof && !st.closing && !st.reading_paused;
            if !can_read || reads == READS_PER_RUN {
                // Out of budget while there is more to read: run again after the others.
                st.driver.park(cx, can_read);
                drop(st);
                return Poll::Pending;
            }
            drop(st);
            let io = &self.transport.shared.io;
            // Waits for readiness before lending the protocol: after a short read this
            // costs no system call, and a buffered protocol is asked for memory only
            // when there is something to read.
            if io.poll_read_ready(cx).is_pending() {
                read_blocked = true;
                continue;
            }
            reads += 1;
            let outcome = self.cell.call(|p| p.receive(io, cx));
            match self.check(<P as sealed::Receive<K>>::CALLBACK, outcome) {
                None | Some(ReadOutcome::Interrupted) => {}
                Some(ReadOutcome::Data) => {
                    // Most reads empty the socket: finding out here spares a turn of
                    // the loop (and its lock) before waiting.
                    read_blocked = io.poll_read_ready(cx).is_pending();
                }
                Some(ReadOutcome::Pending) => read_blocked = true,
                Some(ReadOutcome::Failed(error)) => self.transport.shared.lock().fail(error),
                Some(ReadOutcome::Eof) => {
                    self.eof = true;
                    let keep_open = self.cell.call(sealed::Receive::eof);
                    if let Some(false) = self.check("eof_received", keep_open) {
                        self.transport.close();
                    }
                }
            }
        }
    }
}

impl<P: StreamProtocol<K>, K> Future for Driver<P, K> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(());
        }
        this.run(cx)
    }
}

impl<P: BaseProtocol, K> Drop for Driver<P, K> {
    /// A driver dropped before the end (its task cancelled, its loop closed) still
    /// ends the connection and tells the protocol, which may have been told it was made.
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let made = self.made;
        let recorded = {
            let mut st = self.transport.shared.lock();
            st.lost = true;
            st.driver.stop();
            st.buf.clear();
            st.error.take()
        };
        self.transport.shared.shut_down();
        if made {
            let error =
                recorded.unwrap_or_else(|| io::Error::from(io::ErrorKind::ConnectionAborted));
            let lost = self.cell.call(|p| p.connection_lost(Some(error)));
            if let Err(Panicked(message)) = lost {
                tracing::error!(%message, "a protocol panicked in connection_lost");
            }
        }
    }
}
