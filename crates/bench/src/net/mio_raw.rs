//! `mio_raw`, the floor of the network workloads: an echo server written
//! straight on one `mio::Poll`, with no runtime, no tasks and no wakers.
//!
//! One thread owns the poll, the listener and a slab of connections (the
//! slab key is the connection's token). Sources are edge-triggered, so a
//! readiness event means "go until `WouldBlock`": on any event a
//! connection first flushes what it still owes the client, then reads into
//! its buffer and writes back, until a read or a write would block. A
//! write that would block keeps the unsent range of the buffer and adds
//! WRITABLE interest; the connection reads nothing more until that range
//! is gone (the same back-pressure as `write_all` or `drain`). EOF or an
//! error closes the connection.
//!
//! Each connection has its own buffer of the workload's read size, like
//! the tokio and smol servers' `vec![0; READ_SIZE]`, so that M2 (idle
//! connections, 1 KiB each) compares like with like.
//!
//! A read that fills less than the buffer has drained the socket, so the
//! connection waits for the next edge instead of reading again only to
//! get `WouldBlock` (tokio does the same) — unless the event said the peer
//! has closed, which no later edge would repeat: then it reads on to EOF.
//! A connection that stays readable gets [`BUDGET`] reads per turn, then
//! waits for the next turn of the poll, so one busy stream cannot starve
//! the others.

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::ops::Range;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Registry, Token, Waker};
use slab::Slab;

/// The listener's token.
const LISTENER: Token = Token(usize::MAX);
/// The token of the waker that tells the loop to stop.
const STOP: Token = Token(usize::MAX - 1);
/// Reads one connection may do per turn of the poll.
const BUDGET: usize = 32;

/// One accepted connection.
struct Conn {
    /// The socket, registered under its slab key.
    stream: TcpStream,
    /// Where reads land; also holds the unsent part of the last read.
    buf: Box<[u8]>,
    /// The bytes of `buf` read but not yet written back.
    unsent: Range<usize>,
    /// Whether WRITABLE interest is registered (only while `unsent` is
    /// not empty).
    writable_interest: bool,
}

/// What a connection's turn ended with.
enum Turn {
    /// Waiting for the next readiness event.
    Idle,
    /// Out of budget while still readable: give it another turn soon.
    Again,
    /// EOF or an error: close it.
    Close,
}

impl Conn {
    /// Flushes, then echoes until something would block, at most
    /// [`BUDGET`] reads; `read_on`: read until `WouldBlock` even after a
    /// short read (the peer has closed, or no new edge is coming).
    fn turn(&mut self, registry: &Registry, token: Token, read_on: bool) -> Turn {
        self.turn_inner(registry, token, read_on)
            .unwrap_or(Turn::Close)
    }

    /// [`Conn::turn`], with errors as `Err`.
    fn turn_inner(&mut self, registry: &Registry, token: Token, read_on: bool) -> io::Result<Turn> {
        let mut reads = 0;
        // Whether the last read left the socket empty (a short read).
        let mut drained = false;
        loop {
            while !self.unsent.is_empty() {
                match self.stream.write(&self.buf[self.unsent.clone()]) {
                    Ok(0) => return Ok(Turn::Close),
                    Ok(n) => self.unsent.start += n,
                    Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                        if !self.writable_interest {
                            registry.reregister(
                                &mut self.stream,
                                token,
                                Interest::READABLE | Interest::WRITABLE,
                            )?;
                            self.writable_interest = true;
                        }
                        return Ok(Turn::Idle);
                    }
                    Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                    Err(error) => return Err(error),
                }
            }
            if self.writable_interest {
                registry.reregister(&mut self.stream, token, Interest::READABLE)?;
                self.writable_interest = false;
            }
            if drained && !read_on {
                return Ok(Turn::Idle);
            }
            if reads == BUDGET {
                return Ok(Turn::Again);
            }
            match self.stream.read(&mut self.buf) {
                Ok(0) => return Ok(Turn::Close),
                Ok(n) => {
                    reads += 1;
                    drained = n < self.buf.len();
                    self.unsent = 0..n;
                }
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => return Ok(Turn::Idle),
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => return Err(error),
            }
        }
    }
}

/// Runs the raw mio echo server (reads of up to `read_size` bytes) on the
/// calling thread until `stop` closes.
pub(crate) fn serve(
    read_size: usize,
    bound: impl FnOnce(SocketAddr),
    stop: async_channel::Receiver<()>,
) -> io::Result<()> {
    let mut poll = Poll::new()?;
    let mut listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))?;
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)?;
    // The stop channel is async; a thread turns its closing into a wake.
    // The loop keeps its own handle on the waker: were the thread's the
    // last, dropping it would close the eventfd, and with it the event.
    let waker = Arc::new(Waker::new(poll.registry(), STOP)?);
    let stop_waker = Arc::clone(&waker);
    thread::spawn(move || {
        let _ = stop.recv_blocking();
        let _ = stop_waker.wake();
    });
    bound(listener.local_addr()?);

    let mut conns: Slab<Conn> = Slab::new();
    let mut events = Events::with_capacity(1024);
    // Connections that ran out of budget while still readable.
    let mut again: Vec<usize> = Vec::new();
    let mut again_next: Vec<usize> = Vec::new();
    loop {
        let timeout = if again.is_empty() {
            None
        } else {
            Some(Duration::ZERO)
        };
        match poll.poll(&mut events, timeout) {
            Ok(()) => {}
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        }
        let registry = poll.registry();
        for event in &events {
            match event.token() {
                // `waker` is still alive here: it lives to the end of `serve`.
                STOP => return Ok(()),
                LISTENER => accept_all(&listener, &mut conns, registry, read_size)?,
                Token(key) => {
                    if !again.contains(&key) {
                        let closed = event.is_read_closed() || event.is_error();
                        serve_turn(&mut conns, registry, key, closed, &mut again_next);
                    }
                }
            }
        }
        for key in again.drain(..) {
            // Still readable, so no edge is coming: read on regardless.
            serve_turn(&mut conns, registry, key, true, &mut again_next);
        }
        std::mem::swap(&mut again, &mut again_next);
    }
}

/// Gives connection `key` (if it still exists) a turn, closing it or
/// queueing it in `again` as the turn says; `read_on` makes it read until
/// `WouldBlock` even after a short read.
fn serve_turn(
    conns: &mut Slab<Conn>,
    registry: &Registry,
    key: usize,
    read_on: bool,
    again: &mut Vec<usize>,
) {
    let Some(conn) = conns.get_mut(key) else {
        return;
    };
    match conn.turn(registry, Token(key), read_on) {
        Turn::Idle => {}
        Turn::Again => again.push(key),
        Turn::Close => {
            let mut conn = conns.remove(key);
            let _ = registry.deregister(&mut conn.stream);
        }
    }
}

/// Accepts every pending connection, with `TCP_NODELAY` on, into `conns`.
fn accept_all(
    listener: &TcpListener,
    conns: &mut Slab<Conn>,
    registry: &Registry,
    read_size: usize,
) -> io::Result<()> {
    loop {
        let mut stream = match listener.accept() {
            Ok((stream, _)) => stream,
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(error)
                if matches!(
                    error.kind(),
                    io::ErrorKind::Interrupted | io::ErrorKind::ConnectionAborted
                ) =>
            {
                continue;
            }
            Err(error) => return Err(error),
        };
        // As tulip (and asyncio) do for every TCP stream.
        let _ = stream.set_nodelay(true);
        let entry = conns.vacant_entry();
        registry.register(&mut stream, Token(entry.key()), Interest::READABLE)?;
        entry.insert(Conn {
            stream,
            buf: vec![0; read_size].into_boxed_slice(),
            unsent: 0..0,
            writable_interest: false,
        });
    }
}
