//! asyncio's callback layer on tulip: protocols and their transports.
//!
//! A protocol is an object whose methods the transport calls as its connection lives:
//! `connection_made`, then `data_received` for each chunk read, `eof_received` when the
//! peer ends its side, and `connection_lost` last. The transport
//! ([`Transport`], [`DatagramTransport`]) is the protocol's way to act: write, close,
//! pause reading. This is asyncio's lower layer, below streams: no task per read, no
//! buffer per connection, and every callback runs on the loop.
//!
//! - [`Protocol`], [`BufferedProtocol`] and [`DatagramProtocol`] (each with
//!   [`BaseProtocol`]'s callbacks) are implemented by you;
//! - [`create_server`], [`create_unix_server`], [`create_connection`],
//!   [`create_unix_connection`] and [`create_datagram_endpoint`] make the connections
//!   and drive them. The servers are tulip-streams' [`Server`](tulip_streams::Server).
//!
//! # Example: seed 000's echo server and client
//!
//! ```
//! use std::io;
//! use tulip_protocol::{BaseProtocol, Protocol, Transport, create_connection, create_server};
//!
//! /// Sends back what it receives, then closes.
//! #[derive(Default)]
//! struct EchoServer(Option<Transport>);
//!
//! impl BaseProtocol for EchoServer {
//!     type Transport = Transport;
//!     fn connection_made(&mut self, transport: &Transport) {
//!         self.0 = Some(transport.clone());
//!     }
//! }
//!
//! impl Protocol for EchoServer {
//!     fn data_received(&mut self, data: &[u8]) {
//!         if let Some(transport) = &self.0 {
//!             transport.write(data);
//!             transport.close();
//!         }
//!     }
//! }
//!
//! /// Sends a message, gathers the answer, and reports when the connection ends.
//! struct EchoClient {
//!     received: Vec<u8>,
//!     done: std::sync::Arc<tulip_sync::Event>,
//! }
//!
//! impl BaseProtocol for EchoClient {
//!     type Transport = Transport;
//!     fn connection_made(&mut self, transport: &Transport) {
//!         transport.write(b"Hello World!");
//!     }
//!     fn connection_lost(&mut self, _error: Option<io::Error>) {
//!         self.done.set();
//!     }
//! }
//!
//! impl Protocol for EchoClient {
//!     fn data_received(&mut self, data: &[u8]) {
//!         self.received.extend_from_slice(data);
//!     }
//! }
//!
//! tulip_executor::EventLoop::new()?.run_until_complete(async {
//!     let server = create_server(EchoServer::default, "127.0.0.1", 0).await?;
//!     let port = server.local_addrs()[0].as_inet().unwrap().port();
//!     let done = std::sync::Arc::new(tulip_sync::Event::new());
//!     let client = EchoClient { received: Vec::new(), done: done.clone() };
//!     let (_transport, protocol) = create_connection(move || client, "127.0.0.1", port).await?;
//!     done.wait().await;
//!     assert_eq!(protocol.with(|p| p.received.clone())?, b"Hello World!");
//!     server.close();
//!     server.wait_closed().await;
//!     Ok::<_, Box<dyn std::error::Error>>(())
//! })??;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod cell;
mod error;
mod flow;
mod protocol;
mod scratch;

// Stream connections.
mod connect;
mod driver;
mod server;
mod transport;

// Datagrams.
mod datagram;

pub use crate::cell::ProtocolRef;
pub use crate::connect::{
    connect_accepted_socket, create_connection, create_connection_with, create_unix_connection,
};
pub use crate::datagram::{DatagramEndpoint, DatagramTransport, create_datagram_endpoint};
pub use crate::driver::{StreamProtocol, kind};
pub use crate::error::{ProtocolBusy, ProtocolFailure, TransportError};
pub use crate::flow::{DEFAULT_HIGH_WATER, DEFAULT_LOW_WATER};
pub use crate::protocol::{BaseProtocol, BufferedProtocol, DatagramProtocol, Protocol};
pub use crate::server::{create_server, create_server_with, create_unix_server};
pub use crate::transport::Transport;
