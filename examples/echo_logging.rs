//! Streams with logging: an echo server and a client that sends its
//! message in parts, half-closes (`write_eof`) and reads until EOF.
//!
//! Seed 003 (PyMOTW's `asyncio_echo_server_coroutine.py` and
//! `asyncio_echo_client_coroutine.py`), each program logging through
//! `logging` to stderr:
//!
//! ```python
//! # asyncio_echo_server_coroutine.py
//! SERVER_ADDRESS = ('localhost', 10000)
//! logging.basicConfig(
//!     level=logging.DEBUG,
//!     format='%(name)s: %(messages)s',
//!     stream=sys.stderr,
//! )
//! log = logging.getLogger('main')
//!
//! event_loop = asyncio.get_event_loop()
//!
//! async def echo(reader, writer):
//!     address = writer.get_extra_info('peername')
//!     log = logging.getLogger('echo_{}_{}'.format(*address))
//!     log.debug('connection accepted')
//!     while True:
//!         data = await reader.read(128)
//!         if data:
//!             log.debug('received {!r}'.format(data))
//!             writer.write(data)
//!             await writer.drain()
//!             log.debug('sent {!r}'.format(data))
//!         else:
//!             log.debug('closing')
//!             writer.close()
//!             return
//!
//! factory = asyncio.start_server(echo, *SERVER_ADDRESS)
//! server = event_loop.run_until_complete(factory)
//! log.debug('starting up on {} port {}'.format(*SERVER_ADDRESS))
//!
//! try:
//!     event_loop.run_forever()
//! except KeyboradInterrupt:
//!     pass
//! finally:
//!     log.debug('closing server')
//!     server.close()
//!     event_loop.run_until_complete(server.wait_closed())
//!     log.debug('closing event loop')
//!     event_loop.close()
//! ```
//!
//! ```python
//! # asyncio_echo_client_coroutine.py
//! MESSAGES = [
//!     b'This is the message. ',
//!     b'It will be sent '
//!     b'in parts.'
//! ]
//! SERVER_ADDRESS = ('localhost', 10000)
//! # (the same logging set-up, with format='%(name)s: %(message)s')
//!
//! async def echo_client(address, messages):
//!     log = logging.getLogger('echo_client')
//!     log.debug('connection to {} port {}'.format(*address))
//!     reader, writer = await asyncio.open_connection(*address)
//!     for msg in messages:
//!         writer.write(msg)
//!         log.debug('sending {!r}'.format(msg))
//!     if writer.can_write_eof():
//!         writer.write_eof()
//!     await writer.drain()
//!     log.debug('waiting for response')
//!     while True:
//!         data = await reader.read(128)
//!         if data:
//!             log.debug('received {!r}'.format(data))
//!         else:
//!             log.debug('closing')
//!             writer.close()
//!             return
//!
//! try:
//!     event_loop.run_until_complete(
//!         echo_client(SERVER_ADDRESS, MESSAGES)
//!     )
//! finally:
//!     log.debug('closing event loop')
//!     event_loop.close()
//! ```
//!
//! `logging` becomes `tracing`: each log line is a `tracing::debug!` event,
//! and the example installs a `tracing_subscriber` fmt subscriber that
//! writes bare messages (`common::log_to`); the logger's name, which
//! `'%(name)s: '` puts first, is written into the message.
//!
//! The differences, each also in what Python prints:
//!
//! - The seed runs the two programs side by side, the server until Ctrl-C.
//!   Here they share one loop and the example stops by itself: the server
//!   starts as in the seed, the client runs to its end where the server
//!   would `run_forever`, then the server's `finally:` block runs.
//! - The server binds 127.0.0.1 port 0, not `localhost` port 10000, so
//!   that it never meets a busy port; ports vary from run to run, so they
//!   are printed as `PORT` (`starting up on 127.0.0.1 port PORT`, and the
//!   server's logger is `echo_127.0.0.1_PORT`).
//! - asyncio's own `asyncio: Using selector: EpollSelector` line has no
//!   counterpart: only the example's own events are logged.
//! - The server's format, `'%(name)s: %(messages)s'`, is a typo: Python
//!   prints a `--- Logging error ---` traceback (`KeyError: 'messages'`)
//!   instead of every server line. The port prints the lines meant, as the
//!   seed's own output shows them.
//! - `MESSAGES` holds two messages, not three: the missing comma joins
//!   `b'It will be sent '` and `b'in parts.'` into one (the seed's output,
//!   taken from PyMOTW where the comma is there, shows three `sending`
//!   lines; Python runs the code as written). Likewise the client logs
//!   `connection to`, as its code says, where the seed's output shows
//!   `connecting to`.
//!
//! - One line comes at another place. Run together in one process on
//!   loopback (both loggers on one stream), Python logs the server's
//!   `connection accepted` right after `echo_client: connection to ...`;
//!   here it comes after `echo_client: waiting for response`. asyncio's
//!   `open_connection` returns only a few loop iterations after the
//!   socket connected (once the protocol's `connection_made` has run),
//!   long enough for the server to accept and start its handler first;
//!   tulip's returns as soon as the socket is connected, and the client
//!   logs its three lines before it first waits (for the echo), which is
//!   when the server's handler gets to run. Both orders are correct: the
//!   two programs are independent.
//!
//! Otherwise Python prints these lines in this order, ports aside.

// The tour and the snapshot tests include this file as a module too. This
// example logs through `tracing`, so it leaves `say!` unused.
#[allow(unused_imports, unused_macros)]
#[path = "common/mod.rs"]
mod common;

use std::error::Error;
use std::io::{self, Write};

use common::{Transcript, py_bytes};
use tracing::debug;
use tulip::{StreamReader, StreamWriter};

/// What a task of the example can fail with.
type TaskError = Box<dyn Error + Send + Sync>;

/// The messages the client sends: two, as the seed's list is written.
const MESSAGES: [&[u8]; 2] = [b"This is the message. ", b"It will be sent in parts."];

/// The server's handler of one connection: echoes every read until EOF.
async fn echo(mut reader: StreamReader, writer: StreamWriter) -> Result<(), TaskError> {
    let address = writer
        .peername()
        .and_then(|addr| addr.as_inet())
        .ok_or("a TCP connection has a peer address")?;
    // The logger's name, `echo_{host}_{port}`, with the port left out.
    let log = format!("echo_{}_PORT", address.ip());
    debug!("{log}: connection accepted");
    loop {
        let data = reader.read(128).await?;
        if data.is_empty() {
            debug!("{log}: closing");
            writer.close();
            return Ok(());
        }
        debug!("{log}: received {}", py_bytes(&data));
        writer.write(&data)?;
        writer.drain().await?;
        debug!("{log}: sent {}", py_bytes(&data));
    }
}

/// The client: sends the messages, half-closes, and logs what comes back.
async fn echo_client(host: &str, port: u16, messages: &[&[u8]]) -> Result<(), TaskError> {
    let log = "echo_client";
    debug!("{log}: connection to {host} port PORT");
    let (mut reader, writer) = tulip::open_connection(host, port).await?;
    for msg in messages {
        writer.write(msg)?;
        debug!("{log}: sending {}", py_bytes(msg));
    }
    if writer.can_write_eof() {
        writer.write_eof()?;
    }
    writer.drain().await?;
    debug!("{log}: waiting for response");
    loop {
        let data = reader.read(128).await?;
        if data.is_empty() {
            debug!("{log}: closing");
            writer.close();
            return Ok(());
        }
        debug!("{log}: received {}", py_bytes(&data));
    }
}

/// Runs the example, printing to `out`.
pub(crate) fn run(out: &mut dyn Write) -> Result<(), Box<dyn Error>> {
    let transcript = Transcript::new();
    let _logging = common::log_to(&transcript, module_path!());
    let log = "main";
    let event_loop = tulip::EventLoop::new()?;

    let server = event_loop.run_until_complete(tulip::start_server(echo, "127.0.0.1", 0))??;
    let address = server.local_addrs()[0]
        .as_inet()
        .ok_or("a TCP server has an IP address")?;
    debug!("{log}: starting up on {} port PORT", address.ip());

    // Where the server would run forever, the client runs once.
    let served = event_loop
        .run_until_complete(echo_client("127.0.0.1", address.port(), &MESSAGES))
        .map_err(Box::<dyn Error>::from)
        .and_then(|result| result.map_err(|error| -> Box<dyn Error> { error }));

    // The server's `finally:` block.
    debug!("{log}: closing server");
    server.close();
    event_loop.run_until_complete(async move { server.wait_closed().await })?;
    debug!("{log}: closing event loop");
    event_loop.close()?;
    served?;
    Ok(transcript.write_to(out)?)
}

fn main() -> Result<(), Box<dyn Error>> {
    run(&mut io::stdout().lock())
}
