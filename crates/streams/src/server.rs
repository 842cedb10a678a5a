//! Serving: accept loops over listening sockets and the [`Server`] handle, shaped like
//! asyncio's `Server` (`close`, `wait_closed`, `serve_forever`, `close_clients`,
//! `abort_clients`), handing each accepted raw socket to a handler task
//! ([`serve_tcp`], [`serve_unix`]).

use socket2::SockRef;
use std::collections::HashMap;
use std::fmt;
use std::future::{Future, poll_fn};
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::os::unix::net::SocketAddr as UnixSocketAddr;
use std::path::{Path, PathBuf};
use std::pin::pin;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::task::{Context, Poll};
use std::time::Duration;

use tulip_executor::{Handle, SpawnError, Task, sleep, yield_now};
use tulip_reactor::net::{ListenOptions, TcpListener, TcpStream, UnixListener, UnixStream};
use tulip_sync::Event;

use crate::connect::lookup_host;
use crate::handler_task::HandlerTask;
use crate::transport::{Connection, StreamAddr};

/// The first pause of an accept loop after a resource error (`EMFILE`, `ENFILE`,
/// `ENOBUFS`, `ENOMEM`); it doubles on each further error, up to [`MAX_BACKOFF`].
const MIN_BACKOFF: Duration = Duration::from_millis(100);
/// The longest pause of an accept loop after a resource error.
const MAX_BACKOFF: Duration = Duration::from_secs(1);
/// Accepts in a row after which an accept loop lets other tasks run.
const ACCEPT_BURST: u32 = 64;

/// Options of [`serve_tcp`] and [`serve_unix`].
///
/// The defaults are asyncio's `start_server`: a backlog of 100, `SO_REUSEADDR` on,
/// `SO_REUSEPORT` off, and serving starts at once. The socket options apply to TCP
/// listeners; a Unix listener always has a backlog of 100.
///
/// ```
/// use tulip_streams::ServeOptions;
///
/// let options = ServeOptions::new().backlog(1024).reuse_port(true).start_serving(false);
/// # let _ = options;
/// ```
#[derive(Debug, Clone)]
pub struct ServeOptions {
    listen: ListenOptions,
    start_serving: bool,
}

impl ServeOptions {
    /// The defaults: backlog 100, `SO_REUSEADDR` on, serving at once.
    pub fn new() -> ServeOptions {
        ServeOptions {
            listen: ListenOptions::new(),
            start_serving: true,
        }
    }

    /// The listen backlog of TCP listeners (asyncio's `backlog`).
    pub fn backlog(mut self, backlog: u32) -> ServeOptions {
        self.listen = self.listen.backlog(backlog);
        self
    }

    /// Whether TCP listeners set `SO_REUSEADDR` (asyncio's `reuse_address`); on by
    /// default.
    pub fn reuse_address(mut self, reuse: bool) -> ServeOptions {
        self.listen = self.listen.reuse_address(reuse);
        self
    }

    /// Whether TCP listeners set `SO_REUSEPORT` (asyncio's `reuse_port`); off by
    /// default.
    pub fn reuse_port(mut self, reuse: bool) -> ServeOptions {
        self.listen = self.listen.reuse_port(reuse);
        self
    }

    /// All the TCP listeners' socket options at once (replacing the backlog and reuse
    /// settings above).
    pub fn listen_options(mut self, options: ListenOptions) -> ServeOptions {
        self.listen = options;
        self
    }

    /// asyncio's `start_serving`: whether to accept connections at once (the
    /// default), or only after [`Server::start_serving`] or
    /// [`Server::serve_forever`].
    pub fn start_serving(mut self, start: bool) -> ServeOptions {
        self.start_serving = start;
        self
    }
}

impl Default for ServeOptions {
    fn default() -> ServeOptions {
        ServeOptions::new()
    }
}

/// What a connection handler may return: `()`, or a `Result<(), E>` whose error is
/// logged (through `tracing`, at `WARN`) and otherwise ignored.
pub trait HandlerOutput: 'static {
    /// The handler's error, if it failed.
    fn into_error(self) -> Option<Box<dyn fmt::Display>>;
}

impl HandlerOutput for () {
    fn into_error(self) -> Option<Box<dyn fmt::Display>> {
        None
    }
}

impl<E: fmt::Display + 'static> HandlerOutput for Result<(), E> {
    fn into_error(self) -> Option<Box<dyn fmt::Display>> {
        self.err()
            .map(|error| Box::new(error) as Box<dyn fmt::Display>)
    }
}

/// Misuse of a [`Server`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The server is closed: it cannot serve again.
    #[error("the server is closed")]
    Closed,
    /// [`Server::serve_forever`] is already running for this server.
    #[error("serve_forever is already running for this server")]
    AlreadyServingForever,
    /// The accept loops could not be spawned on the server's event loop.
    #[error("could not start the accept loops: {0}")]
    Spawn(#[from] SpawnError),
}

impl From<ServeError> for io::Error {
    fn from(error: ServeError) -> io::Error {
        io::Error::other(error)
    }
}

/// A server: listening sockets, the accept loops over them, and the connections they
/// accepted (asyncio's `Server`). Made by [`serve_tcp`] and [`serve_unix`].
///
/// The handle is cheap to clone (an `Arc` inside), `Send` and `Sync`: any task, on
/// any thread, may close the server. Each accepted connection runs its handler in a
/// task of its own; a handler that fails or panics is logged through `tracing` and
/// the server goes on. Dropping every handle does not stop the server: [`close`] it.
///
/// To reach live connections ([`close_clients`], [`abort_clients`]), a server of raw
/// sockets ([`serve_tcp`], [`serve_unix`]) keeps a duplicate of each connection's
/// descriptor until its handler returns; so a connection whose handler drops the
/// stream stays open until the handler returns (shut the stream down to end it
/// earlier), and each connection uses two descriptors. A server of streams
/// (`start_server`) reaches the connection its streams share instead, with no second
/// descriptor.
///
/// [`close`]: Server::close
/// [`close_clients`]: Server::close_clients
/// [`abort_clients`]: Server::abort_clients
///
/// ```
/// use tulip_reactor::net::TcpStream;
/// use tulip_streams::{ServeOptions, serve_tcp};
///
/// tulip_executor::EventLoop::new()?.run_until_complete(async {
///     // An echo server: each connection gets back what it sends.
///     let server = serve_tcp(
///         |stream: TcpStream, _peer| async move {
///             let mut buf = [0; 1024];
///             loop {
///                 let n = stream.read(&mut buf).await?;
///                 if n == 0 {
///                     return Ok::<_, std::io::Error>(());
///                 }
///                 stream.write_all(&buf[..n]).await?;
///             }
///         },
///         "127.0.0.1",
///         0,
///         ServeOptions::new(),
///     )
///     .await?;
///     let addr = server.local_addrs()[0].as_inet().unwrap();
///     let client = TcpStream::connect(addr).await?;
///     client.write_all(b"ping").await?;
///     let mut buf = [0; 4];
///     client.read(&mut buf).await?;
///     assert_eq!(&buf, b"ping");
///     drop(client);
///     server.close();
///     server.wait_closed().await; // the handler saw EOF and returned
///     Ok::<_, Box<dyn std::error::Error>>(())
/// })??;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Server {
    inner: Arc<Inner>,
}

/// Spawns a server's accept loops on its loop.
type StartFn = dyn Fn(&Arc<Inner>) -> Result<(), SpawnError> + Send + Sync;

/// What a [`Server`] handle shares with its accept loops and connections.
struct Inner {
    state: Mutex<State>,
    /// Set by `close`: the accept loops end.
    closed: Event,
    /// Set once closed with no connection left: `wait_closed` returns.
    finished: Event,
    /// The addresses of the listening sockets, as bound.
    addrs: Vec<StreamAddr>,
    /// The loop the accept loops run on.
    handle: Handle,
    /// Spawns one accept loop per listening socket.
    start: Box<StartFn>,
    /// A Unix server's socket file with its device and inode, removed on close if it
    /// is still that file.
    unix_path: Option<(PathBuf, u64, u64)>,
}

struct State {
    closed: bool,
    serving: bool,
    serving_forever: bool,
    /// The listening sockets (taken, and so closed, by `close`).
    listeners: Vec<Arc<dyn ListenerSlot>>,
    /// The live connections, by id.
    conns: HashMap<u64, Conn>,
    next_id: u64,
}

/// A live connection, as the server sees it.
struct Conn {
    /// How to reach the socket (`None` if it cannot be reached, or once aborted).
    client: Option<ClientHandle>,
    /// The handler's task (set right after the spawn).
    task: Option<Task>,
    /// Whether it is a TCP connection (`SO_LINGER` applies).
    tcp: bool,
    /// `abort_clients` wanted its task cancelled (it may come before the task
    /// is recorded, on a multi-thread runtime).
    aborted: bool,
}

/// How the server reaches a live connection's socket for
/// [`close_clients`](Server::close_clients) and [`abort_clients`](Server::abort_clients).
pub(crate) enum ClientHandle {
    /// A duplicate of the descriptor: the handler owns the raw socket.
    Fd(OwnedFd),
    /// The connection the handler's reader and writer share.
    Streams(Weak<Connection>),
    /// A connection that closes and aborts itself ([`serve_tcp_controlled`]).
    Controlled(Weak<dyn ClientControl>),
}

impl ClientHandle {
    /// A duplicate of `socket`'s descriptor, or `None` (logged) if `dup` fails.
    fn dup(socket: &impl AsFd, peer: &dyn fmt::Debug) -> Option<ClientHandle> {
        match socket.as_fd().try_clone_to_owned() {
            Ok(fd) => Some(ClientHandle::Fd(fd)),
            Err(error) => {
                tracing::warn!(
                    ?peer,
                    %error,
                    "could not duplicate a connection's descriptor: close_clients and abort_clients will not reach it"
                );
                None
            }
        }
    }

    /// Shuts the socket down both ways; fails only if the peer is already gone.
    fn shutdown(&self) {
        match self {
            ClientHandle::Fd(fd) => {
                let _ = SockRef::from(fd).shutdown(std::net::Shutdown::Both);
            }
            ClientHandle::Streams(conn) => {
                if let Some(conn) = conn.upgrade() {
                    let _ = conn.close();
                }
            }
            ClientHandle::Controlled(control) => {
                if let Some(control) = control.upgrade() {
                    control.close();
                }
            }
        }
    }

    /// Whether aborting the connection also cancels its handler's task (a controlled
    /// connection ends its task itself, after telling its owner).
    fn cancel_on_abort(&self) -> bool {
        !matches!(self, ClientHandle::Controlled(_))
    }

    /// Prepares an abort: for TCP, `SO_LINGER` on, 0 s (closing the socket then resets
    /// the connection); for streams, also stops the writer's flusher, which would keep
    /// the socket open while unsent bytes wait for a peer that does not read.
    fn abort(&self, tcp: bool) {
        let result = match self {
            ClientHandle::Fd(fd) if tcp => SockRef::from(fd).set_linger(Some(Duration::ZERO)),
            ClientHandle::Fd(_) => Ok(()),
            ClientHandle::Streams(conn) => match conn.upgrade() {
                Some(conn) => conn.abort(tcp),
                None => Ok(()),
            },
            ClientHandle::Controlled(control) => {
                if let Some(control) = control.upgrade() {
                    control.abort();
                }
                Ok(())
            }
        };
        if let Err(error) = result {
            tracing::debug!(%error, "could not set SO_LINGER to abort a connection");
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Inner {
    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// Removes a finished connection; the last one of a closed server finishes it.
    fn forget(&self, id: u64) {
        let (conn, finished) = {
            let mut state = self.state();
            let conn = state.conns.remove(&id);
            (conn, state.closed && state.conns.is_empty())
        };
        drop(conn);
        if finished {
            self.finished.set();
        }
    }
}

impl Server {
    /// The addresses of the listening sockets (asyncio's `sockets`, as addresses);
    /// empty once the server is closed.
    #[doc(alias = "sockets")]
    pub fn local_addrs(&self) -> Vec<StreamAddr> {
        if self.inner.state().closed {
            Vec::new()
        } else {
            self.inner.addrs.clone()
        }
    }

    /// Whether the server accepts connections: serving started and the server is not
    /// closed.
    pub fn is_serving(&self) -> bool {
        let state = self.inner.state();
        state.serving && !state.closed
    }

    /// Starts accepting connections, for a server made with
    /// [`ServeOptions::start_serving`]`(false)`; does nothing if it already serves.
    /// May be called from any thread.
    ///
    /// # Errors
    ///
    /// [`ServeError::Closed`] if the server is closed, [`ServeError::Spawn`] if its
    /// event loop is closed.
    pub fn start_serving(&self) -> Result<(), ServeError> {
        {
            let mut state = self.inner.state();
            if state.closed {
                return Err(ServeError::Closed);
            }
            if state.serving {
                return Ok(());
            }
            state.serving = true;
        }
        // Spawned without the lock held: an accept loop may run at once.
        if let Err(error) = (self.inner.start)(&self.inner) {
            self.inner.state().serving = false;
            return Err(error.into());
        }
        Ok(())
    }

    /// Serves until the server is closed (by [`close`](Server::close), from another
    /// task), starting to serve first if needed (asyncio's `serve_forever`). Dropping
    /// the future before that (cancelling the task) closes the server, as cancelling
    /// asyncio's `serve_forever` does.
    ///
    /// # Errors
    ///
    /// [`ServeError::Closed`] if the server is already closed,
    /// [`ServeError::AlreadyServingForever`] if another `serve_forever` runs,
    /// [`ServeError::Spawn`] if the accept loops could not start.
    pub async fn serve_forever(&self) -> Result<(), ServeError> {
        {
            let mut state = self.inner.state();
            if state.closed {
                return Err(ServeError::Closed);
            }
            if state.serving_forever {
                return Err(ServeError::AlreadyServingForever);
            }
            state.serving_forever = true;
        }
        let mut guard = ForeverGuard {
            server: self,
            close_on_drop: false,
        };
        self.start_serving()?;
        guard.close_on_drop = true;
        self.inner.closed.wait().await;
        guard.close_on_drop = false;
        Ok(())
    }

    /// Stops serving: closes the listening sockets at once (a new connection is
    /// refused) and ends the accept loops. Connections already accepted go on; see
    /// [`close_clients`](Server::close_clients) and
    /// [`abort_clients`](Server::abort_clients). A Unix server removes its socket
    /// file, if it is still the one it bound (asyncio 3.13's `cleanup_socket`).
    /// Closing again does nothing.
    pub fn close(&self) {
        let (listeners, finished) = {
            let mut state = self.inner.state();
            if state.closed {
                return;
            }
            state.closed = true;
            state.serving = false;
            (std::mem::take(&mut state.listeners), state.conns.is_empty())
        };
        for listener in listeners {
            listener.close();
        }
        if let Some((path, dev, ino)) = &self.inner.unix_path
            && let Ok(meta) = std::fs::symlink_metadata(path)
            && meta.dev() == *dev
            && meta.ino() == *ino
            && let Err(error) = std::fs::remove_file(path)
        {
            tracing::debug!(path = %path.display(), %error, "could not remove the server's socket file");
        }
        self.inner.closed.set();
        if finished {
            self.inner.finished.set();
        }
    }

    /// Waits until the server is closed and every connection handler has returned
    /// (asyncio 3.12's `wait_closed`). Before [`close`](Server::close), it waits for
    /// the close too.
    pub async fn wait_closed(&self) {
        self.inner.finished.wait().await;
    }

    /// Closes every live connection (asyncio 3.13's `close_clients`): shuts each
    /// socket down both ways (`shutdown(SHUT_RDWR)`), so the peer reads EOF after
    /// what was already sent, and the handler's reads return EOF and its writes
    /// fail; the handler then runs to its end. Connections accepted later are not
    /// affected.
    pub fn close_clients(&self) {
        let state = self.inner.state();
        for conn in state.conns.values() {
            if let Some(client) = &conn.client {
                client.shutdown();
            }
        }
    }

    /// Aborts every live connection (asyncio 3.13's `abort_clients`): cancels each
    /// handler task, which drops its future and with it the socket, and for TCP sets
    /// `SO_LINGER` to zero first, so the connection is reset (the peer sees
    /// `ECONNRESET`) rather than closed in order. A socket the handler handed to
    /// another task lives on there, but is reset when that task drops it. A connection
    /// served with [`serve_tcp_controlled`] is aborted through its
    /// [`ClientControl::abort`] instead, and its task is left to end by itself.
    pub fn abort_clients(&self) {
        let (clients, tasks): (Vec<(ClientHandle, bool)>, Vec<Task>) = {
            let mut state = self.inner.state();
            let mut clients = Vec::new();
            let mut tasks = Vec::new();
            for conn in state.conns.values_mut() {
                let cancel = conn
                    .client
                    .as_ref()
                    .is_none_or(ClientHandle::cancel_on_abort);
                if let Some(client) = conn.client.take() {
                    clients.push((client, conn.tcp));
                }
                if cancel {
                    conn.aborted = true;
                    tasks.extend(conn.task.clone());
                }
            }
            (clients, tasks)
        };
        for (client, tcp) in clients {
            client.abort(tcp);
        }
        for task in tasks {
            task.cancel();
        }
    }
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.inner.state();
        f.debug_struct("Server")
            .field("addrs", &self.inner.addrs)
            .field("serving", &(state.serving && !state.closed))
            .field("closed", &state.closed)
            .field("connections", &state.conns.len())
            .finish()
    }
}

/// Closes the server if `serve_forever` is dropped while serving.
struct ForeverGuard<'a> {
    server: &'a Server,
    close_on_drop: bool,
}

impl Drop for ForeverGuard<'_> {
    fn drop(&mut self) {
        self.server.inner.state().serving_forever = false;
        if self.close_on_drop {
            self.server.close();
        }
    }
}

/// A listening socket an accept loop can use.
pub(crate) trait Listen: Send + Sync + 'static {
    /// The accepted stream.
    type Stream: AsFd + Send + 'static;
    /// The peer's address.
    type Addr: fmt::Debug + Clone + Send + 'static;
    /// Whether it is TCP (`SO_LINGER` applies to its connections).
    const TCP: bool;
    /// Polls an accept.
    fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(Self::Stream, Self::Addr)>>;
}

/// What a server does with each accepted connection of an `L`: [`prepare`] it (on the
/// accept loop; it must not panic) and [`call`] the handler with it (in the
/// connection's task, where a panic is caught and logged).
///
/// [`prepare`]: Accept::prepare
/// [`call`]: Accept::call
pub(crate) trait Accept<L: Listen>: Send + Sync + 'static {
    /// What the handler is called with.
    type Input: Send + 'static;
    /// The handler's future.
    type Fut: Future<Output: HandlerOutput> + Send + 'static;
    /// Turns the accepted stream into the handler's input, and says how the server can
    /// reach the connection; `None` drops the connection (the user's code that makes
    /// the input panicked, which is logged: the accept loop goes on).
    fn prepare(
        &self,
        stream: L::Stream,
        peer: L::Addr,
    ) -> Option<(Self::Input, Option<ClientHandle>)>;
    /// Calls the handler.
    fn call(&self, input: Self::Input) -> Self::Fut;
}

/// [`serve_tcp`]'s and [`serve_unix`]'s handler: the raw stream and the peer's address,
/// reached through a duplicate descriptor.
struct RawHandler<H>(H);

impl<L, H, Fut> Accept<L> for RawHandler<H>
where
    L: Listen,
    H: Fn(L::Stream, L::Addr) -> Fut + Send + Sync + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: HandlerOutput,
{
    type Input = (L::Stream, L::Addr);
    type Fut = Fut;

    fn prepare(
        &self,
        stream: L::Stream,
        peer: L::Addr,
    ) -> Option<(Self::Input, Option<ClientHandle>)> {
        let client = ClientHandle::dup(&stream, &peer);
        Some(((stream, peer), client))
    }

    fn call(&self, (stream, peer): Self::Input) -> Fut {
        (self.0)(stream, peer)
    }
}

/// A served connection that a [`Server`] closes and aborts through the connection
/// itself, for servers made with [`serve_tcp_controlled`] and
/// [`serve_unix_controlled`]: tulip-protocol's transports are served this way, so that
/// `close_clients` flushes their buffers and `abort_clients` still ends with the
/// protocol's `connection_lost`.
pub trait ClientControl: Send + Sync + 'static {
    /// [`Server::close_clients`]: closes the connection in order (what is buffered is
    /// sent first).
    fn close(&self);
    /// [`Server::abort_clients`]: drops what is buffered and closes the connection at
    /// once (for TCP, with a reset). The server does not cancel the handler's task: the
    /// connection must make it end.
    fn abort(&self);
}

/// [`serve_tcp_controlled`]'s and [`serve_unix_controlled`]'s handler: the raw stream
/// and the peer's address, reached through the [`ClientControl`] the handler returns.
struct ControlledHandler<H>(H);

impl<L, H, Fut> Accept<L> for ControlledHandler<H>
where
    L: Listen,
    H: Fn(L::Stream, L::Addr) -> (Fut, Weak<dyn ClientControl>) + Send + Sync + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: HandlerOutput,
{
    type Input = Fut;
    type Fut = Fut;

    fn prepare(&self, stream: L::Stream, peer: L::Addr) -> Option<(Fut, Option<ClientHandle>)> {
        let shown_peer = peer.clone();
        // The handler runs on the accept loop: its panic must not end the loop.
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (self.0)(stream, peer))) {
            Ok((fut, control)) => Some((fut, Some(ClientHandle::Controlled(control)))),
            Err(_) => {
                tracing::error!(
                    peer = ?shown_peer,
                    "a connection handler panicked: connection dropped"
                );
                None
            }
        }
    }

    fn call(&self, fut: Fut) -> Fut {
        fut
    }
}

impl Listen for TcpListener {
    type Stream = TcpStream;
    type Addr = SocketAddr;
    const TCP: bool = true;
    fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        TcpListener::poll_accept(self, cx)
    }
}

impl Listen for UnixListener {
    type Stream = UnixStream;
    type Addr = UnixSocketAddr;
    const TCP: bool = false;
    fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(UnixStream, UnixSocketAddr)>> {
        UnixListener::poll_accept(self, cx)
    }
}

/// A listening socket shared by its accept loop and the server, which closes it.
struct Slot<L> {
    listener: Mutex<Option<L>>,
}

/// A listening socket the server can close, whatever its kind.
trait ListenerSlot: Send + Sync {
    fn close(&self);
}

impl<L: Listen> ListenerSlot for Slot<L> {
    fn close(&self) {
        let listener = lock(&self.listener).take();
        drop(listener);
    }
}

/// How an accept loop reacts to an error of `accept`.
enum AcceptError {
    /// About one connection only (it is gone): accept again at once.
    Connection,
    /// The process or system is out of a resource, or something unknown: pause.
    Resource,
}

fn classify(error: &io::Error) -> AcceptError {
    match error.raw_os_error() {
        Some(
            libc::ECONNABORTED
            | libc::ECONNRESET
            | libc::EPROTO
            | libc::EPERM
            | libc::EINTR
            | libc::ENETDOWN
            | libc::ENETUNREACH
            | libc::ENOPROTOOPT
            | libc::EHOSTDOWN
            | libc::EHOSTUNREACH
            | libc::ENONET
            | libc::EOPNOTSUPP,
        ) => AcceptError::Connection,
        _ => AcceptError::Resource,
    }
}

/// Accepts connections on `slot` until the server closes, spawning a handler task for
/// each.
async fn accept_loop<L: Listen, A: Accept<L>>(
    inner: Arc<Inner>,
    slot: Arc<Slot<L>>,
    handler: Arc<A>,
) {
    let mut closed = pin!(inner.closed.wait());
    let mut backoff = MIN_BACKOFF;
    let mut burst = 0;
    loop {
        let accepted = poll_fn(|cx| {
            if closed.as_mut().poll(cx).is_ready() {
                return Poll::Ready(None);
            }
            match lock(&slot.listener).as_ref() {
                None => Poll::Ready(None),
                Some(listener) => listener.poll_accept(cx).map(Some),
            }
        })
        .await;
        match accepted {
            None => return,
            Some(Ok((stream, peer))) => {
                backoff = MIN_BACKOFF;
                spawn_connection::<L, A>(&inner, &handler, stream, peer);
                burst += 1;
                if burst == ACCEPT_BURST {
                    burst = 0;
                    yield_now().await;
                }
            }
            Some(Err(error)) => match classify(&error) {
                AcceptError::Connection => {
                    tracing::debug!(%error, "accept failed for one connection; accepting again");
                }
                AcceptError::Resource => {
                    tracing::error!(
                        %error,
                        retry_in = ?backoff,
                        "accept failed (out of a resource?); pausing the accept loop"
                    );
                    let mut pause = pin!(sleep(backoff));
                    let closed_meanwhile = poll_fn(|cx| {
                        if closed.as_mut().poll(cx).is_ready() {
                            Poll::Ready(true)
                        } else {
                            pause.as_mut().poll(cx).map(|()| false)
                        }
                    })
                    .await;
                    if closed_meanwhile {
                        return;
                    }
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            },
        }
    }
}

/// Registers an accepted connection and runs its handler in a task of its own.
fn spawn_connection<L: Listen, A: Accept<L>>(
    inner: &Arc<Inner>,
    handler: &Arc<A>,
    stream: L::Stream,
    peer: L::Addr,
) {
    let shown_peer = peer.clone();
    let Some((input, client)) = handler.prepare(stream, peer) else {
        return;
    };
    let id = {
        let mut state = inner.state();
        if state.closed {
            // Closed from another thread right after this accept: not served.
            return;
        }
        let id = state.next_id;
        state.next_id += 1;
        state.conns.insert(
            id,
            Conn {
                client,
                task: None,
                tcp: L::TCP,
                aborted: false,
            },
        );
        id
    };
    let guard = ConnGuard {
        inner: inner.clone(),
        id,
    };
    let task = HandlerTask::<L, A>::new(handler.clone(), input, shown_peer, guard);
    let spawned = tulip_executor::task::Builder::new().spawn(task);
    match spawned {
        Ok(handle) => {
            let task = handle.task();
            handle.detach();
            let aborted = match inner.state().conns.get_mut(&id) {
                Some(conn) => {
                    conn.task = Some(task.clone());
                    conn.aborted
                }
                None => false,
            };
            // `abort_clients` ran (on another thread) between the spawn and
            // now, when it could not see the task: cancel it as it would have.
            if aborted {
                task.cancel();
            }
        }
        Err(error) => {
            // The spawn dropped the future and its guard, which forgot the connection.
            tracing::error!(%error, "could not spawn a connection handler");
        }
    }
}

/// Forgets its connection when the handler task ends, however it ends.
pub(crate) struct ConnGuard {
    inner: Arc<Inner>,
    id: u64,
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        self.inner.forget(self.id);
    }
}

/// Makes the server over bound listeners and starts serving if asked.
fn make_server<L: Listen, A: Accept<L>>(
    listeners: Vec<L>,
    addrs: Vec<StreamAddr>,
    unix_path: Option<(PathBuf, u64, u64)>,
    handler: A,
    options: &ServeOptions,
) -> io::Result<Server> {
    let handle = Handle::current().map_err(io::Error::other)?;
    let slots: Vec<Arc<Slot<L>>> = listeners
        .into_iter()
        .map(|listener| {
            Arc::new(Slot {
                listener: Mutex::new(Some(listener)),
            })
        })
        .collect();
    let handler = Arc::new(handler);
    let typed = slots.clone();
    let start = move |inner: &Arc<Inner>| {
        for slot in &typed {
            let accept = accept_loop::<L, A>(inner.clone(), slot.clone(), handler.clone());
            inner.handle.spawn(accept)?.detach();
        }
        Ok(())
    };
    let server = Server {
        inner: Arc::new(Inner {
            state: Mutex::new(State {
                closed: false,
                serving: false,
                serving_forever: false,
                listeners: slots
                    .into_iter()
                    .map(|slot| slot as Arc<dyn ListenerSlot>)
                    .collect(),
                conns: HashMap::new(),
                next_id: 0,
            }),
            closed: Event::new(),
            finished: Event::new(),
            addrs,
            handle,
            start: Box::new(start),
            unix_path,
        }),
    };
    if options.start_serving {
        server.start_serving()?;
    }
    Ok(server)
}

/// Binds `host`'s addresses on `port` and serves TCP connections with `handler`
/// (asyncio's `loop.create_server` / `start_server`, over raw sockets).
///
/// `host` is resolved with [`lookup_host`] and every address it resolves to gets a
/// listening socket, as asyncio does; `""` means all interfaces (`0.0.0.0` and `::`,
/// the latter skipped if the system has no IPv6). With port 0 the first socket picks
/// a free port and the others bind the same port when they can. Each accepted
/// connection calls `handler(stream, peer_address)` and runs the future it returns
/// as a task of its own (the future need not be `Send`: it runs on the loop that
/// runs `serve_tcp`); its output is `()` or a `Result<(), E>` (see
/// [`HandlerOutput`]).
///
/// Call it on a running event loop: the accept loops and handlers run there.
///
/// # Errors
///
/// The error of resolving `host`, of binding any address (naming it; the sockets
/// already bound are closed), or [`io::ErrorKind::Other`] outside a running loop or if
/// serving could not start.
///
/// See [`Server`] for an example.
pub async fn serve_tcp<H, Fut>(
    handler: H,
    host: &str,
    port: u16,
    options: ServeOptions,
) -> io::Result<Server>
where
    H: Fn(TcpStream, SocketAddr) -> Fut + Send + Sync + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: HandlerOutput,
{
    serve_tcp_with(RawHandler(handler), host, port, options).await
}

/// [`serve_tcp`] for connections the server closes and aborts through the connection
/// itself: `handler(stream, peer)` returns the connection's future (run as its task)
/// and its [`ClientControl`], which [`Server::close_clients`] and
/// [`Server::abort_clients`] call. No descriptor is duplicated.
///
/// `handler` is called on the accept loop, so it must not block (it builds the
/// connection; the work belongs in the future). If it panics, the panic is logged and
/// that connection dropped; the server goes on.
///
/// # Errors
///
/// As [`serve_tcp`].
///
/// ```
/// use std::sync::{Arc, Weak};
/// use std::sync::atomic::{AtomicBool, Ordering};
/// use tulip_reactor::net::TcpStream;
/// use tulip_streams::{ClientControl, ServeOptions, serve_tcp_controlled};
///
/// /// A connection that says goodbye when the server closes it.
/// struct Polite {
///     stream: TcpStream,
///     closing: AtomicBool,
/// }
///
/// impl ClientControl for Polite {
///     fn close(&self) {
///         self.closing.store(true, Ordering::Relaxed);
///         let _ = self.stream.shutdown(std::net::Shutdown::Read);
///     }
///     fn abort(&self) {
///         let _ = self.stream.shutdown(std::net::Shutdown::Both);
///     }
/// }
///
/// tulip_executor::EventLoop::new()?.run_until_complete(async {
///     let server = serve_tcp_controlled(
///         |stream: TcpStream, _peer| {
///             let conn = Arc::new(Polite { stream, closing: AtomicBool::new(false) });
///             let control = Arc::downgrade(&conn) as Weak<dyn ClientControl>;
///             let run = async move {
///                 let mut buf = [0; 64];
///                 while conn.stream.read(&mut buf).await? > 0 {}
///                 if conn.closing.load(Ordering::Relaxed) {
///                     conn.stream.write_all(b"goodbye").await?;
///                 }
///                 Ok::<_, std::io::Error>(())
///             };
///             (run, control)
///         },
///         "127.0.0.1",
///         0,
///         ServeOptions::new(),
///     )
///     .await?;
///     let client = TcpStream::connect(server.local_addrs()[0].as_inet().unwrap()).await?;
///     client.write_all(b"hello").await?;
///     tulip_executor::sleep(std::time::Duration::from_millis(10)).await;
///     server.close_clients();
///     let mut buf = [0; 7];
///     client.read(&mut buf).await?;
///     assert_eq!(&buf, b"goodbye");
///     server.close();
///     server.wait_closed().await;
///     Ok::<_, Box<dyn std::error::Error>>(())
/// })??;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub async fn serve_tcp_controlled<H, Fut>(
    handler: H,
    host: &str,
    port: u16,
    options: ServeOptions,
) -> io::Result<Server>
where
    H: Fn(TcpStream, SocketAddr) -> (Fut, Weak<dyn ClientControl>) + Send + Sync + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: HandlerOutput,
{
    serve_tcp_with(ControlledHandler(handler), host, port, options).await
}

/// [`serve_tcp`] with any [`Accept`] (`start_server` hands streams to its handler).
pub(crate) async fn serve_tcp_with<A: Accept<TcpListener>>(
    handler: A,
    host: &str,
    port: u16,
    options: ServeOptions,
) -> io::Result<Server> {
    let all_interfaces = host.is_empty();
    let addrs = if all_interfaces {
        vec![
            SocketAddr::from(([0, 0, 0, 0], port)),
            SocketAddr::from(([0u16; 8], port)),
        ]
    } else {
        lookup_host(host, port).await?
    };
    let mut listeners: Vec<TcpListener> = Vec::with_capacity(addrs.len());
    let mut bound: Vec<StreamAddr> = Vec::with_capacity(addrs.len());
    let mut chosen_port = port;
    for mut addr in addrs {
        if port == 0 && chosen_port != 0 {
            addr.set_port(chosen_port);
        }
        let mut result = TcpListener::bind_with(addr, &options.listen);
        if port == 0
            && chosen_port != 0
            && matches!(&result, Err(e) if e.kind() == io::ErrorKind::AddrInUse)
        {
            addr.set_port(0);
            result = TcpListener::bind_with(addr, &options.listen);
        }
        let listener = match result {
            Ok(listener) => listener,
            Err(error)
                if all_interfaces
                    && addr.is_ipv6()
                    && !listeners.is_empty()
                    && (error.kind() == io::ErrorKind::AddrNotAvailable
                        || error.raw_os_error() == Some(libc::EAFNOSUPPORT)) =>
            {
                tracing::debug!(%error, "no IPv6 here: serving on IPv4 only");
                continue;
            }
            Err(error) => {
                return Err(io::Error::new(
                    error.kind(),
                    format!("error while attempting to bind on address {addr}: {error}"),
                ));
            }
        };
        let local = listener.local_addr()?;
        if chosen_port == 0 {
            chosen_port = local.port();
        }
        bound.push(StreamAddr::Inet(local));
        listeners.push(listener);
    }
    make_server(listeners, bound, None, handler, &options)
}

/// Binds the Unix-domain socket `path` and serves its connections with `handler`
/// (asyncio's `loop.create_unix_server` / `start_unix_server`, over raw sockets).
///
/// A socket file already at `path` is removed first (a stale socket of an earlier
/// server, as asyncio does); any other kind of file there makes the bind fail.
/// [`Server::close`] removes the socket file. The handler is called as in
/// [`serve_tcp`], with the peer's (usually unnamed) address; the backlog is 100
/// whatever the options.
///
/// # Errors
///
/// The error of binding (naming the path), or [`io::ErrorKind::Other`] outside a
/// running loop or if serving could not start.
///
/// ```
/// use tulip_reactor::net::UnixStream;
/// use tulip_streams::{ServeOptions, serve_unix};
///
/// tulip_executor::EventLoop::new()?.run_until_complete(async {
///     let path = std::env::temp_dir().join(format!("tulip-doc-serve-{}.sock", std::process::id()));
///     let server = serve_unix(
///         |stream: UnixStream, _peer| async move { stream.write_all(b"hi").await },
///         &path,
///         ServeOptions::new(),
///     )
///     .await?;
///     let client = tulip_streams::connect_unix(&path).await?;
///     let mut buf = [0; 2];
///     client.read(&mut buf).await?;
///     assert_eq!(&buf, b"hi");
///     server.close(); // removes the socket file
///     server.wait_closed().await;
///     assert!(!path.exists());
///     Ok::<_, Box<dyn std::error::Error>>(())
/// })??;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub async fn serve_unix<H, Fut>(
    handler: H,
    path: impl AsRef<Path>,
    options: ServeOptions,
) -> io::Result<Server>
where
    H: Fn(UnixStream, UnixSocketAddr) -> Fut + Send + Sync + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: HandlerOutput,
{
    serve_unix_with(RawHandler(handler), path.as_ref(), options).await
}

/// [`serve_unix`] for connections the server closes and aborts through the
/// connection itself (see [`serve_tcp_controlled`]).
///
/// # Errors
///
/// As [`serve_unix`].
pub async fn serve_unix_controlled<H, Fut>(
    handler: H,
    path: impl AsRef<Path>,
    options: ServeOptions,
) -> io::Result<Server>
where
    H: Fn(UnixStream, UnixSocketAddr) -> (Fut, Weak<dyn ClientControl>) + Send + Sync + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: HandlerOutput,
{
    serve_unix_with(ControlledHandler(handler), path.as_ref(), options).await
}

/// [`serve_unix`] with any [`Accept`] (`start_unix_server` hands streams to its
/// handler).
pub(crate) async fn serve_unix_with<A: Accept<UnixListener>>(
    handler: A,
    path: &Path,
    options: ServeOptions,
) -> io::Result<Server> {
    if let Ok(meta) = std::fs::symlink_metadata(path)
        && meta.file_type().is_socket()
    {
        let _ = std::fs::remove_file(path);
    }
    let listener = UnixListener::bind(path).map_err(|error| {
        io::Error::new(
            error.kind(),
            format!(
                "error while attempting to bind on path {}: {error}",
                path.display()
            ),
        )
    })?;
    let unix_path = std::fs::symlink_metadata(path)
        .ok()
        .map(|meta| (path.to_path_buf(), meta.dev(), meta.ino()));
    let addr = StreamAddr::Unix(listener.local_addr()?);
    make_server(vec![listener], vec![addr], unix_path, handler, &options)
}
