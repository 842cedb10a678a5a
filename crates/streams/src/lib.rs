//! asyncio's streams on tulip: `StreamReader`, `StreamWriter`,
//! `open_connection` and `start_server`.
//!
//! The streams are built on the sockets of `tulip-reactor` and the tasks of
//! `tulip-executor`. [`open_connection`] and [`start_server`] (and their Unix
//! twins) are asyncio's entry points: see [`open_connection`] for an echo
//! server and client. Below them, [`connect_tcp`] (name resolution off the
//! loop, Happy Eyeballs) and [`serve_tcp`] (accept loops that back off on
//! EMFILE) deal in raw sockets.
//!
//! # Streams over a connection
//!
//! A connection gives a [`StreamReader`] and a [`StreamWriter`] ([`from_tcp_stream`],
//! [`from_unix_stream`]). The reader buffers what it reads and offers asyncio's reads:
//! `read(n)`, `read_to_end` (asyncio's `read()`), `readline`, `readuntil` (one or several
//! separators), `readexactly`, all cancel-safe, with a `limit` that makes over-long
//! lines a [`LimitOverrun`] and EOF mid-read an [`IncompleteRead`]. The writer's `write`
//! never waits and never loses data: a task on the loop sends the buffer in order,
//! `drain` waits while the buffer is above its high-water mark, `write_eof`, `close` and
//! `wait_closed` end the connection.
//!
//! ```
//! use tulip_reactor::net::{TcpListener, TcpStream};
//! use tulip_streams::{StreamOptions, from_tcp_stream};
//!
//! tulip_executor::EventLoop::new()?.run_until_complete(async {
//!     let listener = TcpListener::bind("127.0.0.1:0".parse()?)?;
//!     let addr = listener.local_addr()?;
//!     // An echo server for one connection: lines back until EOF, then close.
//!     let server = tulip_executor::spawn(async move {
//!         let (stream, _) = listener.accept().await?;
//!         let (mut reader, writer) = from_tcp_stream(stream, StreamOptions::new());
//!         loop {
//!             let line = reader.readline().await?;
//!             if line.is_empty() {
//!                 break;
//!             }
//!             writer.write(&line)?;
//!             writer.drain().await?;
//!         }
//!         writer.close();
//!         writer.wait_closed().await?;
//!         Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
//!     });
//!
//!     let stream = TcpStream::connect(addr).await?;
//!     let (mut reader, writer) = from_tcp_stream(stream, StreamOptions::new());
//!     writer.write(b"hello\n")?;
//!     assert_eq!(reader.readline().await?, b"hello\n");
//!     writer.writelines([&b"half-"[..], b"close\n"])?;
//!     writer.write_eof()?; // the server reads EOF and closes
//!     assert_eq!(reader.read_to_end().await?, b"half-close\n");
//!     server.await?.map_err(|e| e.to_string())?;
//!     Ok::<_, Box<dyn std::error::Error>>(())
//! })??;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

// Streams over a connection (reading and writing halves).
mod error;
mod reader;
mod transport;
mod writer;

// Connecting (name resolution, Happy Eyeballs) and serving (accept loops).
mod connect;
mod handler_task;
mod server;

// asyncio's top-level functions, joining the two.
mod api;

pub use crate::api::{
    open_connection, open_connection_with, open_unix_connection, start_server, start_server_with,
    start_unix_server,
};

// Re-exports of the streams:
pub use crate::error::{IncompleteRead, LimitOverrun, StreamError, WriteError};
pub use crate::reader::{DEFAULT_LIMIT, StreamReader};
pub use crate::transport::{
    ExtraInfo, StreamAddr, StreamOptions, from_pipe_reader, from_pipe_writer, from_tcp_stream,
    from_unix_stream,
};
pub use crate::writer::{DEFAULT_HIGH_WATER, DEFAULT_LOW_WATER, StreamWriter};

// Re-exports of connecting and serving:
pub use crate::connect::{
    ConnectConfig, ConnectError, DEFAULT_HAPPY_EYEBALLS_DELAY, connect_tcp, connect_tcp_addrs,
    connect_unix, lookup_host,
};
pub use crate::server::{
    ClientControl, HandlerOutput, ServeError, ServeOptions, Server, serve_tcp,
    serve_tcp_controlled, serve_unix, serve_unix_controlled,
};
