//! Protocols and transports: an echo server and client written as
//! protocols (`loop.create_server`, `loop.create_connection`).
//!
//! Seed 000 ("用 Protocol 抽象类实现异步 I/O", PyMOTW's
//! `asyncio_echo_server_protocol.py` and `asyncio_echo_client_protocol.py`),
//! each program logging through `logging` to stderr:
//!
//! ```python
//! SERVER_ADDRESS = ('localhost', 10000)
//! logging.basicConfig(
//!     level=logging.DEBUG,
//!     format='%(name)s: %(message)s',
//!     stream=sys.stderr,
//! )
//! log = logging.getLogger('main')
//! event_loop = asyncio.get_event_loop()
//!
//! class EchoServer(asyncio.Protocol):
//!
//!     def connection_made(self, transport):
//!         self.transport = transport
//!         self.address = transport.get_extra_info('peername')
//!         self.log = logging.getLogger('EchoServer_{}_{}'.format(*self.address))
//!         self.log.debug('connection accepted')
//!
//!     def data_received(self, data):
//!         self.log.debug('received {!r}'.format(data))
//!         self.transport.write(data)
//!         self.log.debug('sent {!r}'.format(data))
//!
//!     def eof_received(self):
//!         self.log.debug('received EOF')
//!         if self.transport.can_write_eof():
//!             self.transport.write_eof()
//!
//!     def connection_lost(self, error):
//!         if error:
//!             self.log.error(f'ERROR: {error}')
//!         else:
//!             self.log.debug('closing')
//!         super().connection_lost(error)
//!
//! factory = event_loop.create_server(EchoServer, *SERVER_ADDRESS)
//! server = event_loop.run_until_complete(factory)
//! log.debug('starting up on {} port {}'.format(*SERVER_ADDRESS))
//! try:
//!     event_loop.run_forever()
//! finally:
//!     log.debug('closing server')
//!     server.close()
//!     event_loop.run_until_complete(server.wait_closed())
//!     log.debug('closing event loop')
//!     event_loop.close()
//! ```
//!
//! ```python
//! MESSAGES = [
//!     b'This is the message. ',
//!     b'It will be sent ',
//!     b'in parts.',
//! ]
//! # (the same address, logging set-up and event loop)
//!
//! class EchoClient(asyncio.Protocol):
//!
//!     def __init__(self, messages, future):
//!         super().__init__()
//!         self.messages = messages
//!         self.log = logging.getLogger('EchoClient')
//!         self.f = future
//!
//!     def connection_made(self, transport):
//!         self.transport = transport
//!         self.address = transport.get_extra_info('peername')
//!         self.log.debug('connecting to {} port {}'.format(*self.address))
//!         for msg in self.messages:
//!             transport.write(msg)
//!             self.log.debug(f'sending {msg!r}')
//!         if transport.can_write_eof():
//!             transport.write_eof()
//!
//!     def data_received(self, data):
//!         self.log.debug(f'received {data!r}')
//!
//!     def eof_received(self):
//!         self.log.debug('received EOF')
//!         self.transport.close()
//!         if not self.f.done():
//!             self.f.set_result(True)
//!
//!     def connection_lost(self, exc):
//!         self.log.debug('server closed connection')
//!         self.transport.close()
//!         if not self.f.done():
//!             self.f.set_result(True)
//!         super().connection_lost(exc)
//!
//! client_completed = asyncio.Future()
//! client_factory = functools.partial(
//!     EchoClient,
//!     messages=MESSAGES,
//!     future=client_completed,
//! )
//! factory_coroutine = event_loop.create_connection(
//!     client_factory,
//!     *SERVER_ADDRESS,
//! )
//! log.debug('waiting for client to complete')
//! try:
//!     event_loop.run_until_complete(factory_coroutine)
//!     event_loop.run_until_complete(client_completed)
//! finally:
//!     log.debug('closing event loop')
//!     event_loop.close()
//! ```
//!
//! `logging` becomes `tracing`, as in `echo_logging`: each log line is a
//! `tracing` event whose message starts with the logger's name, and the
//! example installs a subscriber that writes bare messages.
//!
//! The differences, each also in what Python prints:
//!
//! - The seed runs the two programs side by side, the server until Ctrl-C.
//!   Here they share one loop and the example stops by itself: the server
//!   starts as in the seed, the client runs to its end where the server
//!   would `run_forever`, then the server's `finally:` block runs. The
//!   client's `main: closing event loop` and the server's are one line.
//! - The server binds 127.0.0.1 port 0, not `localhost` port 10000, so
//!   that it never meets a busy port; ports vary from run to run, so they
//!   are printed as `PORT` (the server's logger is
//!   `EchoServer_127.0.0.1_PORT`).
//! - The client's future is completed in `connection_lost` only (the seed
//!   also completes it in `eof_received`, where it closes the transport): a
//!   `tulip::Promise` (asyncio's future) that `main` awaits. asyncio happens to call
//!   `connection_lost` before `run_until_complete` returns (the close is
//!   scheduled before the future's done-callback); waiting for
//!   `connection_lost` itself makes that order certain.
//! - asyncio's own `asyncio: Using selector: EpollSelector` line has no
//!   counterpart: only the example's own events are logged.
//! - Two lines come at other places than when Python runs both programs in
//!   one process. asyncio's `create_connection` calls `connection_made` a
//!   few loop iterations after the socket connected, long enough for the
//!   server to accept first, so Python logs `connection accepted` right
//!   after `main: waiting for client to complete`; tulip's calls it as soon
//!   as the socket is connected, so the client's `connecting` and `sending`
//!   lines come first. And asyncio calls the server's `connection_lost`
//!   (`closing`) one iteration after its `eof_received`, by which time the
//!   client has logged the echo, so Python logs `closing` between the
//!   client's `received` and `received EOF`; tulip's server runs its
//!   `connection_lost` before the client's transport gets to read, so
//!   `closing` comes right after `received EOF`. Both orders are
//!   correct: the server and the client are independent.
//!
//! The server receives the three messages as one chunk, as in the seed's
//! first run: the client writes them all in `connection_made`, before the
//! server reads. Otherwise Python prints these lines in this order, ports
//! aside.

// The tour and the snapshot tests include this file as a module too. This
// example logs through `tracing`, so it leaves `say!` unused.
#[allow(unused_imports, unused_macros)]
#[path = "common/mod.rs"]
mod common;

use std::error::Error;
use std::io::{self, Write};

use common::{Transcript, py_bytes};
use tracing::{debug, error};
use tulip::Promise;
use tulip::protocol::{BaseProtocol, Protocol, Transport, create_connection, create_server};

/// The messages the client sends, one write each.
const MESSAGES: [&[u8]; 3] = [b"This is the message. ", b"It will be sent ", b"in parts."];

/// The server's protocol: one per connection, echoing what it receives and
/// answering EOF with EOF.
#[derive(Default)]
struct EchoServer {
    /// The connection's transport, from `connection_made`.
    transport: Option<Transport>,
    /// The logger's name, `EchoServer_{host}_{port}`, with the port left out.
    log: String,
}

impl BaseProtocol for EchoServer {
    type Transport = Transport;

    fn connection_made(&mut self, transport: &Transport) {
        self.transport = Some(transport.clone());
        let host = transport
            .peername()
            .and_then(|addr| addr.as_inet())
            .map_or_else(|| "?".to_owned(), |addr| addr.ip().to_string());
        self.log = format!("EchoServer_{host}_PORT");
        debug!("{}: connection accepted", self.log);
    }

    fn connection_lost(&mut self, err: Option<io::Error>) {
        match err {
            Some(err) => error!("{}: ERROR: {err}", self.log),
            None => debug!("{}: closing", self.log),
        }
    }
}

impl Protocol for EchoServer {
    fn data_received(&mut self, data: &[u8]) {
        debug!("{}: received {}", self.log, py_bytes(data));
        if let Some(transport) = &self.transport {
            transport.write(data);
        }
        debug!("{}: sent {}", self.log, py_bytes(data));
    }

    fn eof_received(&mut self) -> bool {
        debug!("{}: received EOF", self.log);
        if let Some(transport) = &self.transport
            && transport.can_write_eof()
        {
            transport.write_eof();
        }
        // As Python's `None`: the transport closes once the EOF is sent.
        false
    }
}

/// The client's protocol: sends its messages and EOF, logs the answer, and
/// sets `done` when the connection is lost.
struct EchoClient {
    /// What `connection_made` writes.
    messages: &'static [&'static [u8]],
    /// The seed's future: set once the connection is over.
    done: Promise<()>,
    /// The transport, from `connection_made`.
    transport: Option<Transport>,
}

/// The client's logger.
const CLIENT_LOG: &str = "EchoClient";

impl BaseProtocol for EchoClient {
    type Transport = Transport;

    fn connection_made(&mut self, transport: &Transport) {
        self.transport = Some(transport.clone());
        let host = transport
            .peername()
            .and_then(|addr| addr.as_inet())
            .map_or_else(|| "?".to_owned(), |addr| addr.ip().to_string());
        debug!("{CLIENT_LOG}: connecting to {host} port PORT");
        for msg in self.messages {
            transport.write(msg);
            debug!("{CLIENT_LOG}: sending {}", py_bytes(msg));
        }
        if transport.can_write_eof() {
            transport.write_eof();
        }
    }

    fn connection_lost(&mut self, _err: Option<io::Error>) {
        debug!("{CLIENT_LOG}: server closed connection");
        if let Some(transport) = &self.transport {
            transport.close();
        }
        // `if not self.f.done(): self.f.set_result(True)`: a second result
        // is refused, and nothing else can set this one.
        let _ = self.done.set_result(());
    }
}

impl Protocol for EchoClient {
    fn data_received(&mut self, data: &[u8]) {
        debug!("{CLIENT_LOG}: received {}", py_bytes(data));
    }

    fn eof_received(&mut self) -> bool {
        debug!("{CLIENT_LOG}: received EOF");
        if let Some(transport) = &self.transport {
            transport.close();
        }
        false
    }
}

/// The client's `run_until_complete` calls: connects, then waits until the
/// protocol says the connection is over.
async fn run_client(port: u16) -> io::Result<()> {
    let done = Promise::new();
    let client = EchoClient {
        messages: &MESSAGES,
        done: done.clone(),
        transport: None,
    };
    let (_transport, _protocol) = create_connection(move || client, "127.0.0.1", port).await?;
    done.await.map_err(io::Error::other)
}

/// Runs the example, printing to `out`.
pub(crate) fn run(out: &mut dyn Write) -> Result<(), Box<dyn Error>> {
    let transcript = Transcript::new();
    let _logging = common::log_to(&transcript, module_path!());
    let log = "main";
    let event_loop = tulip::EventLoop::new()?;

    let server =
        event_loop.run_until_complete(create_server(EchoServer::default, "127.0.0.1", 0))??;
    let address = server.local_addrs()[0]
        .as_inet()
        .ok_or("a TCP server has an IP address")?;
    debug!("{log}: starting up on {} port PORT", address.ip());

    // Where the server would run forever, the client runs once.
    debug!("{log}: waiting for client to complete");
    let served = event_loop.run_until_complete(run_client(address.port()));

    // The server's `finally:` block.
    debug!("{log}: closing server");
    server.close();
    event_loop.run_until_complete(async move { server.wait_closed().await })?;
    debug!("{log}: closing event loop");
    event_loop.close()?;
    served??;
    Ok(transcript.write_to(out)?)
}

fn main() -> Result<(), Box<dyn Error>> {
    run(&mut io::stdout().lock())
}
