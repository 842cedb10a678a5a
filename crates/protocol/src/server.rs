//! `create_server` and `create_unix_server`: a [`Server`] whose connections are driven
//! by protocols.

use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::{Arc, Weak};

use tulip_streams::{
    ClientControl, ServeOptions, Server, serve_tcp_controlled, serve_unix_controlled,
};

use crate::cell::ProtocolCell;
use crate::driver::{Driver, StreamProtocol};
use crate::transport::Shared;

/// Serves TCP connections on `host`'s addresses at `port`, each driven by a protocol
/// that `protocol_factory` makes (asyncio's `loop.create_server`).
///
/// The returned [`Server`] is tulip-streams' own: `serve_forever`, `close`,
/// `wait_closed`, `local_addrs`, `close_clients` (each transport closes after sending
/// its buffer) and `abort_clients` (each transport is reset, and its protocol still
/// hears `connection_lost`). `host` is resolved as `start_server` does (`""` for all
/// interfaces; port 0 picks a free port). Each connection runs as a task of its own on
/// the loop that calls this; a factory or protocol that panics is logged and ends only
/// its connection.
///
/// # Errors
///
/// Resolving `host` or binding failed, or no loop is running.
///
/// ```
/// use tulip_protocol::{BaseProtocol, Protocol, Transport, create_server};
///
/// #[derive(Default)]
/// struct Echo(Option<Transport>);
///
/// impl BaseProtocol for Echo {
///     type Transport = Transport;
///     fn connection_made(&mut self, transport: &Transport) {
///         self.0 = Some(transport.clone());
///     }
/// }
///
/// impl Protocol for Echo {
///     fn data_received(&mut self, data: &[u8]) {
///         self.0.as_ref().map(|t| t.write(data));
///     }
/// }
///
/// tulip_executor::EventLoop::new()?.run_until_complete(async {
///     let server = create_server(Echo::default, "127.0.0.1", 0).await?;
///     let addr = server.local_addrs()[0].as_inet().unwrap();
///     let client = tulip_reactor::net::TcpStream::connect(addr).await?;
///     client.write_all(b"ping").await?;
///     let mut buf = [0; 4];
///     client.read(&mut buf).await?;
///     assert_eq!(&buf, b"ping");
///     server.close();
///     Ok::<_, std::io::Error>(())
/// })??;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub async fn create_server<F, P, K>(
    protocol_factory: F,
    host: &str,
    port: u16,
) -> io::Result<Server>
where
    F: Fn() -> P + Send + Sync + 'static,
    P: StreamProtocol<K> + Send,
    K: 'static,
{
    create_server_with(protocol_factory, host, port, ServeOptions::new()).await
}

/// [`create_server`] with options (backlog, `reuse_address`, `reuse_port`,
/// `start_serving`).
///
/// # Errors
///
/// As [`create_server`].
pub async fn create_server_with<F, P, K>(
    protocol_factory: F,
    host: &str,
    port: u16,
    options: ServeOptions,
) -> io::Result<Server>
where
    F: Fn() -> P + Send + Sync + 'static,
    P: StreamProtocol<K> + Send,
    K: 'static,
{
    let handler = move |stream, peer| {
        connection::<F, P, K>(&protocol_factory, Shared::new_tcp(stream, Some(peer)))
    };
    serve_tcp_controlled(handler, host, port, options).await
}

/// Serves the Unix-domain socket `path`, each connection driven by a protocol that
/// `protocol_factory` makes (asyncio's `loop.create_unix_server`). A stale socket
/// file at `path` is replaced; [`Server::close`] removes it.
///
/// # Errors
///
/// Binding failed, or no loop is running.
pub async fn create_unix_server<F, P, K>(
    protocol_factory: F,
    path: impl AsRef<Path>,
) -> io::Result<Server>
where
    F: Fn() -> P + Send + Sync + 'static,
    P: StreamProtocol<K> + Send,
    K: 'static,
{
    let handler = move |stream, peer| {
        connection::<F, P, K>(&protocol_factory, Shared::new_unix(stream, Some(peer)))
    };
    serve_unix_controlled(handler, path, ServeOptions::new()).await
}

/// One accepted connection: its protocol (from the factory, whose panic is caught),
/// the task that drives it, and the server's way to close or abort it.
fn connection<F, P, K>(
    protocol_factory: &F,
    shared: Arc<Shared>,
) -> (
    impl Future<Output = ()> + use<F, P, K>,
    Weak<dyn ClientControl>,
)
where
    F: Fn() -> P,
    P: StreamProtocol<K> + Send,
    K: 'static,
{
    let control = Arc::downgrade(&shared) as Weak<dyn ClientControl>;
    let driver = match catch_unwind(AssertUnwindSafe(protocol_factory)) {
        Ok(protocol) => Some(Driver::<P, K>::new(shared, ProtocolCell::new(protocol))),
        Err(_) => {
            tracing::error!(peer = ?shared.peer(), "the protocol factory panicked: connection closed");
            shared.shut_down();
            None
        }
    };
    let run = async move {
        if let Some(driver) = driver {
            driver.await;
        }
    };
    (run, control)
}
