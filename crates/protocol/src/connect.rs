//! `create_connection` and its kin: a client connection driven by a protocol.

use std::io;
use std::path::Path;
use std::sync::Arc;

use tulip_reactor::net::TcpStream;
use tulip_streams::{ConnectConfig, connect_tcp, connect_unix};

use crate::cell::{ProtocolCell, ProtocolRef};
use crate::driver::{Driver, StreamProtocol};
use crate::transport::{Shared, Transport};

/// Connects to `host` at `port` and drives the connection with the protocol
/// `protocol_factory` makes (asyncio's `loop.create_connection`); returns once the
/// protocol's `connection_made` has run.
///
/// `host` is resolved off the loop and its addresses tried with Happy Eyeballs, as
/// `open_connection` does. The connection runs as a task on the current loop; the
/// returned [`ProtocolRef`] lends the protocol between its callbacks.
///
/// # Errors
///
/// Resolving or connecting failed (every address's error, see
/// [`tulip_streams::ConnectError`]), or no loop is running.
///
/// ```
/// use tulip_protocol::{BaseProtocol, Protocol, Transport, create_connection, create_server};
///
/// /// Collects what it receives until the server closes.
/// #[derive(Default)]
/// struct Collect(Vec<u8>);
///
/// impl BaseProtocol for Collect {
///     type Transport = Transport;
/// }
///
/// impl Protocol for Collect {
///     fn data_received(&mut self, data: &[u8]) {
///         self.0.extend_from_slice(data);
///     }
/// }
///
/// /// Greets and closes.
/// struct Greet;
///
/// impl BaseProtocol for Greet {
///     type Transport = Transport;
///     fn connection_made(&mut self, transport: &Transport) {
///         transport.write(b"hello");
///         transport.close();
///     }
/// }
///
/// impl Protocol for Greet {}
///
/// tulip_executor::EventLoop::new()?.run_until_complete(async {
///     let server = create_server(|| Greet, "127.0.0.1", 0).await?;
///     let port = server.local_addrs()[0].as_inet().unwrap().port();
///     let (transport, protocol) = create_connection(Collect::default, "127.0.0.1", port).await?;
///     while !transport.is_closing() {
///         tulip_executor::sleep(std::time::Duration::from_millis(1)).await;
///     }
///     assert_eq!(protocol.with(|p| p.0.clone())?, b"hello");
///     server.close();
///     Ok::<_, Box<dyn std::error::Error>>(())
/// })??;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub async fn create_connection<F, P, K>(
    protocol_factory: F,
    host: &str,
    port: u16,
) -> io::Result<(Transport, ProtocolRef<P>)>
where
    F: FnOnce() -> P,
    P: StreamProtocol<K> + Send,
    K: 'static,
{
    create_connection_with(protocol_factory, host, port, &ConnectConfig::new()).await
}

/// [`create_connection`] with the connection's settings (Happy Eyeballs delay,
/// interleaving, local address, socket options).
///
/// # Errors
///
/// As [`create_connection`].
pub async fn create_connection_with<F, P, K>(
    protocol_factory: F,
    host: &str,
    port: u16,
    config: &ConnectConfig,
) -> io::Result<(Transport, ProtocolRef<P>)>
where
    F: FnOnce() -> P,
    P: StreamProtocol<K> + Send,
    K: 'static,
{
    let stream = connect_tcp(host, port, config).await?;
    attach(Shared::new_tcp(stream, None), protocol_factory())
}

/// Connects to the Unix-domain socket `path` and drives the connection with the
/// protocol `protocol_factory` makes (asyncio's `loop.create_unix_connection`).
///
/// # Errors
///
/// Connecting failed, or no loop is running.
pub async fn create_unix_connection<F, P, K>(
    protocol_factory: F,
    path: impl AsRef<Path>,
) -> io::Result<(Transport, ProtocolRef<P>)>
where
    F: FnOnce() -> P,
    P: StreamProtocol<K> + Send,
    K: 'static,
{
    let stream = connect_unix(path).await?;
    attach(Shared::new_unix(stream, None), protocol_factory())
}

/// Drives a TCP connection made by other means (an `accept` of your own, say) with
/// `protocol` (asyncio's `loop.connect_accepted_socket`).
///
/// # Errors
///
/// No loop is running.
pub fn connect_accepted_socket<P, K>(
    protocol: P,
    stream: TcpStream,
) -> io::Result<(Transport, ProtocolRef<P>)>
where
    P: StreamProtocol<K> + Send,
    K: 'static,
{
    attach(Shared::new_tcp(stream, None), protocol)
}

/// Calls `connection_made` and spawns the connection's driver on the current loop.
fn attach<P, K>(shared: Arc<Shared>, protocol: P) -> io::Result<(Transport, ProtocolRef<P>)>
where
    P: StreamProtocol<K> + Send,
    K: 'static,
{
    let cell = ProtocolCell::new(protocol);
    let mut driver = Driver::<P, K>::new(shared.clone(), cell.clone());
    driver.make();
    let task = tulip_executor::task::Builder::new()
        .spawn(driver)
        .map_err(io::Error::other)?;
    task.detach();
    Ok((Transport { shared }, ProtocolRef::new(cell)))
}
