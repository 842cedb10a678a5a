//! Datagram protocols: a UDP echo server and client
//! (`loop.create_datagram_endpoint`).
//!
//! No seed shows datagrams; this example carries seed 000's protocol echo
//! pair (see `echo_protocol`) over to UDP, in the same logging style. In
//! Python it would read:
//!
//! ```python
//! # Each protocol is given a future (closed, done) that its
//! # connection_lost completes, and the client its list of messages.
//! class UdpEchoServer(asyncio.DatagramProtocol):
//!     def connection_made(self, transport):
//!         self.transport = transport
//!         log.debug('server: listening on {} port {}'.format(
//!             *transport.get_extra_info('sockname')))
//!
//!     def datagram_received(self, data, addr):
//!         log.debug(f'server: received {data!r}')
//!         self.transport.sendto(data, addr)
//!         log.debug(f'server: sent {data!r} back')
//!
//!     def connection_lost(self, exc):
//!         log.debug('server: closed')
//!         self.closed.set_result(True)
//!
//! class UdpEchoClient(asyncio.DatagramProtocol):
//!     def connection_made(self, transport):
//!         self.transport = transport
//!         self.send_next()
//!
//!     def send_next(self):
//!         msg = self.messages.pop(0)
//!         self.transport.sendto(msg)
//!         log.debug(f'client: sending {msg!r}')
//!
//!     def datagram_received(self, data, addr):
//!         log.debug(f'client: received {data!r}')
//!         if self.messages:
//!             self.send_next()
//!         else:
//!             self.transport.close()
//!
//!     def connection_lost(self, exc):
//!         log.debug('client: connection lost')
//!         self.done.set_result(True)
//!
//! server, _ = await loop.create_datagram_endpoint(
//!     UdpEchoServer, local_addr=('127.0.0.1', 0))
//! port = server.get_extra_info('sockname')[1]
//! client, _ = await loop.create_datagram_endpoint(
//!     lambda: UdpEchoClient(MESSAGES, done), remote_addr=('127.0.0.1', port))
//! await done
//! log.debug('main: closing the server')
//! server.close()
//! await closed
//! ```
//!
//! The client sends one datagram at a time and the next only once the echo
//! of the last is back, so the server's and the client's lines alternate in
//! the same order on every run (datagrams sent all at once could be
//! answered while the client is still sending). The server binds 127.0.0.1
//! port 0, so its port varies from run to run and is printed as `PORT`.
//! Each wait has a deadline: on loopback no datagram is lost, but if one
//! were the example would fail rather than hang.

// The tour and the snapshot tests include this file as a module too. This
// example logs through `tracing`, so it leaves `say!` unused.
#[allow(unused_imports, unused_macros)]
#[path = "common/mod.rs"]
mod common;

use std::collections::VecDeque;
use std::error::Error;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use common::{Transcript, py_bytes};
use tracing::debug;
use tulip::Event;
use tulip::protocol::{
    BaseProtocol, DatagramEndpoint, DatagramProtocol, DatagramTransport, create_datagram_endpoint,
};

/// What the example can fail with.
type ExampleError = Box<dyn Error + Send + Sync>;

/// The datagrams the client sends, one at a time.
const MESSAGES: [&[u8]; 3] = [b"ping", b"Hello, UDP!", b"the last datagram"];

/// How long the example waits for the echoes, or for an endpoint to close.
const DEADLINE: Duration = Duration::from_secs(5);

/// The server's protocol: sends every datagram back to its sender.
struct UdpEchoServer {
    /// The endpoint's transport, from `connection_made`.
    transport: Option<DatagramTransport>,
    /// Set once the endpoint is closed.
    closed: Arc<Event>,
}

impl BaseProtocol for UdpEchoServer {
    type Transport = DatagramTransport;

    fn connection_made(&mut self, transport: &DatagramTransport) {
        self.transport = Some(transport.clone());
        let host = transport
            .sockname()
            .map_or_else(|| "?".to_owned(), |addr| addr.ip().to_string());
        debug!("server: listening on {host} port PORT");
    }

    fn connection_lost(&mut self, err: Option<io::Error>) {
        match err {
            Some(err) => debug!("server: closed: {err}"),
            None => debug!("server: closed"),
        }
        self.closed.set();
    }
}

impl DatagramProtocol for UdpEchoServer {
    fn datagram_received(&mut self, data: &[u8], addr: SocketAddr) {
        debug!("server: received {}", py_bytes(data));
        if let Some(transport) = &self.transport {
            match transport.sendto(data, Some(addr)) {
                Ok(()) => debug!("server: sent {} back", py_bytes(data)),
                Err(err) => debug!("server: could not answer: {err}"),
            }
        }
    }

    fn error_received(&mut self, err: io::Error) {
        debug!("server: error received: {err}");
    }
}

/// The client's protocol: sends its messages one by one, each once the echo
/// of the one before is back, then closes.
struct UdpEchoClient {
    /// What is left to send.
    messages: VecDeque<&'static [u8]>,
    /// The endpoint's transport, from `connection_made`.
    transport: Option<DatagramTransport>,
    /// Set once the endpoint is closed.
    done: Arc<Event>,
}

impl UdpEchoClient {
    /// Sends the next message, or closes the endpoint when none is left.
    fn send_next(&mut self) {
        let Some(transport) = &self.transport else {
            return;
        };
        match self.messages.pop_front() {
            Some(msg) => match transport.sendto(msg, None) {
                Ok(()) => debug!("client: sending {}", py_bytes(msg)),
                Err(err) => {
                    debug!("client: could not send: {err}");
                    transport.close();
                }
            },
            None => transport.close(),
        }
    }
}

impl BaseProtocol for UdpEchoClient {
    type Transport = DatagramTransport;

    fn connection_made(&mut self, transport: &DatagramTransport) {
        self.transport = Some(transport.clone());
        self.send_next();
    }

    fn connection_lost(&mut self, err: Option<io::Error>) {
        match err {
            Some(err) => debug!("client: connection lost: {err}"),
            None => debug!("client: connection lost"),
        }
        self.done.set();
    }
}

impl DatagramProtocol for UdpEchoClient {
    fn datagram_received(&mut self, data: &[u8], _addr: SocketAddr) {
        debug!("client: received {}", py_bytes(data));
        self.send_next();
    }

    fn error_received(&mut self, err: io::Error) {
        debug!("client: error received: {err}");
    }
}

/// Waits for `event`, or fails after [`DEADLINE`] saying what it waited for.
async fn wait(event: &Event, what: &str) -> Result<(), ExampleError> {
    tulip::timeout(DEADLINE, event.wait())
        .await
        .map_err(|_| format!("timed out waiting for {what}").into())
}

/// The example's `main`: the server, the client until it is done, then the
/// server's close.
async fn main_task() -> Result<(), ExampleError> {
    let closed = Arc::new(Event::new());
    let server_protocol = UdpEchoServer {
        transport: None,
        closed: closed.clone(),
    };
    let local = DatagramEndpoint::new().local_addr("127.0.0.1", 0);
    let (server, _) = create_datagram_endpoint(move || server_protocol, local).await?;
    let port = server
        .sockname()
        .ok_or("a bound socket has an address")?
        .port();

    let done = Arc::new(Event::new());
    let client_protocol = UdpEchoClient {
        messages: MESSAGES.into(),
        transport: None,
        done: done.clone(),
    };
    let remote = DatagramEndpoint::new().remote_addr("127.0.0.1", port);
    let (_client, _) = create_datagram_endpoint(move || client_protocol, remote).await?;
    wait(&done, "the client to finish").await?;

    debug!("main: closing the server");
    server.close();
    wait(&closed, "the server to close").await
}

/// Runs the example, printing to `out`.
pub(crate) fn run(out: &mut dyn Write) -> Result<(), Box<dyn Error>> {
    let transcript = Transcript::new();
    let _logging = common::log_to(&transcript, module_path!());
    let event_loop = tulip::EventLoop::new()?;
    event_loop
        .run_until_complete(main_task())?
        .map_err(|error| -> Box<dyn Error> { error })?;
    event_loop.close()?;
    Ok(transcript.write_to(out)?)
}

fn main() -> Result<(), Box<dyn Error>> {
    run(&mut io::stdout().lock())
}
