//! asyncio's top-level stream functions: `open_connection`,
//! `open_unix_connection`, `start_server`, `start_unix_server`.
//!
//! Each one joins a connecting or serving piece (`connect.rs`, `server.rs`)
//! to the reader and writer of a connection (`transport.rs`).

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::os::unix::net::SocketAddr as UnixSocketAddr;
use std::path::Path;
use std::sync::Arc;

use tulip_reactor::net::{TcpListener, TcpStream, UnixListener, UnixStream};

use crate::connect::{ConnectConfig, connect_tcp, connect_unix};
use crate::reader::StreamReader;
use crate::server::{
    Accept, ClientHandle, HandlerOutput, Listen, ServeOptions, Server, serve_tcp_with,
    serve_unix_with,
};
use crate::transport::{
    StreamOptions, from_tcp_stream, from_tcp_stream_to, from_unix_stream, from_unix_stream_to,
};
use crate::writer::StreamWriter;

/// asyncio's `open_connection(host, port)`: connects over TCP (resolving
/// `host` off the loop and racing its addresses with Happy Eyeballs) and
/// returns the connection's reader and writer, with the default options.
///
/// ```
/// use tulip_streams::{open_connection, start_server};
///
/// tulip_executor::EventLoop::new()?.run_until_complete(async {
///     // An echo server: each connection's lines come back until EOF.
///     let server = start_server(
///         |mut reader, writer| async move {
///             while let Ok(line) = reader.readline().await {
///                 if line.is_empty() {
///                     break;
///                 }
///                 writer.write(&line)?;
///                 writer.drain().await?;
///             }
///             writer.close();
///             writer.wait_closed().await
///         },
///         "127.0.0.1",
///         0,
///     )
///     .await?;
///     let port = server.local_addrs()[0].as_inet().expect("a TCP server").port();
///
///     let (mut reader, writer) = open_connection("127.0.0.1", port).await?;
///     writer.write(b"Hello World!\n")?;
///     assert_eq!(reader.readline().await?, b"Hello World!\n");
///     writer.close();
///     writer.wait_closed().await?;
///
///     server.close();
///     server.wait_closed().await;
///     Ok::<_, Box<dyn std::error::Error>>(())
/// })??;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// The error of resolving `host` or, when every address failed, an error
/// carrying each attempt's ([`ConnectError`](crate::ConnectError) inside).
pub async fn open_connection(host: &str, port: u16) -> io::Result<(StreamReader, StreamWriter)> {
    open_connection_with(host, port, &ConnectConfig::new(), StreamOptions::new()).await
}

/// [`open_connection`] with connecting options (Happy Eyeballs delay,
/// interleaving, local address, socket options) and stream options (the
/// reader's `limit`, the writer's buffer limits).
///
/// # Errors
///
/// As [`open_connection`].
pub async fn open_connection_with(
    host: &str,
    port: u16,
    connect: &ConnectConfig,
    streams: StreamOptions,
) -> io::Result<(StreamReader, StreamWriter)> {
    let stream = connect_tcp(host, port, connect).await?;
    Ok(from_tcp_stream(stream, streams))
}

/// asyncio's `open_unix_connection(path)`: connects to the Unix socket at
/// `path` and returns the connection's reader and writer.
///
/// # Errors
///
/// The error of connecting (for example `NotFound` when nothing is bound
/// at `path`).
pub async fn open_unix_connection(
    path: impl AsRef<Path>,
    streams: StreamOptions,
) -> io::Result<(StreamReader, StreamWriter)> {
    let stream = connect_unix(path).await?;
    Ok(from_unix_stream(stream, streams))
}

/// asyncio's `start_server(client_connected_cb, host, port)`: serves TCP on
/// every address `host` resolves to (`""` for all interfaces; port `0`
/// picks one), calling `handler` with each connection's reader and writer
/// in a task of its own. A handler's panic or error is logged and never
/// stops the server. See [`open_connection`] for an example.
///
/// # Errors
///
/// The error of resolving `host` or of binding one of its addresses, or an
/// error outside a running event loop.
pub async fn start_server<H, Fut>(handler: H, host: &str, port: u16) -> io::Result<Server>
where
    H: Fn(StreamReader, StreamWriter) -> Fut + Send + Sync + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: HandlerOutput,
{
    start_server_with(
        handler,
        host,
        port,
        ServeOptions::new(),
        StreamOptions::new(),
    )
    .await
}

/// [`start_server`] with serving options (backlog, address reuse, whether
/// to start serving at once) and the stream options of every connection.
///
/// # Errors
///
/// As [`start_server`].
pub async fn start_server_with<H, Fut>(
    handler: H,
    host: &str,
    port: u16,
    serve: ServeOptions,
    streams: StreamOptions,
) -> io::Result<Server>
where
    H: Fn(StreamReader, StreamWriter) -> Fut + Send + Sync + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: HandlerOutput,
{
    let handler = StreamsHandler { handler, streams };
    serve_tcp_with(handler, host, port, serve).await
}

/// asyncio's `start_unix_server(client_connected_cb, path)`: serves on a
/// Unix socket at `path` (a stale socket file there is replaced; closing
/// the server removes it), calling `handler` with each connection's reader
/// and writer in a task of its own.
///
/// # Errors
///
/// The error of binding `path`, or an error outside a running event loop.
pub async fn start_unix_server<H, Fut>(
    handler: H,
    path: impl AsRef<Path>,
    serve: ServeOptions,
    streams: StreamOptions,
) -> io::Result<Server>
where
    H: Fn(StreamReader, StreamWriter) -> Fut + Send + Sync + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: HandlerOutput,
{
    let handler = StreamsHandler { handler, streams };
    serve_unix_with(handler, path.as_ref(), serve).await
}

/// `start_server`'s and `start_unix_server`'s handler: each connection's reader and
/// writer, made with `streams`; the server reaches the connection they share (no
/// duplicate descriptor).
struct StreamsHandler<H> {
    handler: H,
    streams: StreamOptions,
}

/// A listener whose accepted sockets can be made into streams.
trait StreamsOf: Listen {
    /// The reader and writer over an accepted socket.
    fn streams(
        stream: Self::Stream,
        peer: Self::Addr,
        options: StreamOptions,
    ) -> (StreamReader, StreamWriter);
}

impl StreamsOf for TcpListener {
    fn streams(
        stream: TcpStream,
        peer: SocketAddr,
        options: StreamOptions,
    ) -> (StreamReader, StreamWriter) {
        from_tcp_stream_to(stream, peer, options)
    }
}

impl StreamsOf for UnixListener {
    fn streams(
        stream: UnixStream,
        peer: UnixSocketAddr,
        options: StreamOptions,
    ) -> (StreamReader, StreamWriter) {
        from_unix_stream_to(stream, peer, options)
    }
}

impl<L, H, Fut> Accept<L> for StreamsHandler<H>
where
    L: StreamsOf,
    H: Fn(StreamReader, StreamWriter) -> Fut + Send + Sync + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: HandlerOutput,
{
    type Input = (StreamReader, StreamWriter);
    type Fut = Fut;

    fn prepare(
        &self,
        stream: L::Stream,
        peer: L::Addr,
    ) -> Option<(Self::Input, Option<ClientHandle>)> {
        let (reader, writer) = L::streams(stream, peer, self.streams);
        let client = ClientHandle::Streams(Arc::downgrade(reader.connection()));
        Some(((reader, writer), Some(client)))
    }

    fn call(&self, (reader, writer): Self::Input) -> Fut {
        (self.handler)(reader, writer)
    }
}
