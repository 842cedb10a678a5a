//! Each runtime's idiomatic TCP echo server on `127.0.0.1:0`: read up to
//! `read_size` bytes (64 KiB, or 1 KiB for M2), write it all back, until
//! the client closes. tulip has three: its streams on its event loop
//! (`tulip`) and on its multi-thread runtime with 2 workers (`tulip_mt`),
//! and its protocols (`tulip_protocol`, whose transport reads up to
//! asyncio's 256 KiB into one buffer per thread, whatever `read_size` says).
//! tokio's and smol's each run on one thread (`tokio_ct`, `smol`) and on 2
//! (`tokio_mt`, `smol_mt`).
//!
//! Every server reports its address through `bound` once it listens, and
//! runs until `stop` is closed (every sender dropped), then returns. The
//! Python peers run in a `python3` child ([`super::python`]); the floor,
//! `mio_raw`, is in [`super::mio_raw`].

use std::io;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use tulip::{StreamReader, StreamWriter};
use tulip_protocol::{BaseProtocol, Protocol, Transport};

use super::{Target, python};
use crate::rt::{Rt, RuntimeId};

/// How much one read asks for, unless the workload says otherwise.
pub(crate) const READ_SIZE: usize = 64 * 1024;

/// How long a Python server may take to stop once its stdin is closed.
const PYTHON_STOP_GRACE: Duration = Duration::from_secs(5);

/// Runs `runtime`'s echo server, reading up to `read_size` bytes at a
/// time, until `stop` closes. `bound` gets its address and the id of the
/// process whose memory is the server's: this one, or the `python3` child
/// of a Python peer.
pub(crate) fn serve(
    runtime: RuntimeId,
    read_size: usize,
    bound: impl FnOnce(Target) + Send + 'static,
    stop: async_channel::Receiver<()>,
) -> io::Result<()> {
    match runtime {
        RuntimeId::Tulip => serve_tulip(read_size, here(bound), stop),
        RuntimeId::TulipMt => serve_tulip_mt(read_size, here(bound), stop),
        RuntimeId::TulipProtocol => serve_tulip_protocol(here(bound), stop),
        RuntimeId::TokioCt => {
            serve_tokio::<crate::rt::tokio::TokioCt>(read_size, here(bound), stop)
        }
        RuntimeId::TokioMt => {
            serve_tokio::<crate::rt::tokio::TokioMt>(read_size, here(bound), stop)
        }
        RuntimeId::Smol => serve_smol::<crate::rt::smol::Smol>(read_size, here(bound), stop),
        RuntimeId::SmolMt => serve_smol::<crate::rt::smol::SmolMt>(read_size, here(bound), stop),
        RuntimeId::MioRaw => super::mio_raw::serve(read_size, here(bound), stop),
        RuntimeId::Asyncio | RuntimeId::Uvloop => serve_python(runtime, read_size, bound, stop),
    }
}

/// `bound` for a server in this process: the target is this process.
fn here(bound: impl FnOnce(Target) + Send + 'static) -> impl FnOnce(SocketAddr) + Send + 'static {
    move |addr| {
        bound(Target {
            addr,
            server_pid: Some(std::process::id()),
        });
    }
}

/// A Python peer: `python3 -c SCRIPT KIND READ_SIZE` in a child process
/// (unpinned: this is the in-process path of the tests and `--one`; the
/// suite starts the script itself, pinned), stopped by closing its stdin.
fn serve_python(
    runtime: RuntimeId,
    read_size: usize,
    bound: impl FnOnce(Target),
    stop: async_channel::Receiver<()>,
) -> io::Result<()> {
    if let Err(reason) = python::availability(runtime) {
        return Err(io::Error::new(io::ErrorKind::Unsupported, reason));
    }
    let argv = python::server_argv(runtime, read_size)?;
    let mut child = Command::new(&argv[0])
        .args(&argv[1..])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let listening = child
        .stdout
        .take()
        .ok_or_else(|| io::Error::other("the Python server has no stdout"))
        .and_then(|stdout| super::read_listening(stdout).map_err(io::Error::other));
    if let Ok(addr) = listening {
        bound(Target {
            addr,
            server_pid: Some(child.id()),
        });
        let _ = stop.recv_blocking();
    }
    stop_child(&mut child, PYTHON_STOP_GRACE);
    listening.map(|_| ())
}

/// Closes `child`'s stdin, which stops a server, and waits for it to
/// exit; kills it (by its handle) if it has not after `grace`.
pub(crate) fn stop_child(child: &mut Child, grace: Duration) {
    drop(child.stdin.take());
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => return,
            Ok(None) if started.elapsed() < grace => thread::sleep(Duration::from_millis(5)),
            _ => {
                // The child is ours: end it, by its handle.
                let _ = child.kill();
                let _ = child.wait();
                return;
            }
        }
    }
}

/// One tulip connection, as asyncio's streams echo it.
async fn tulip_echo(
    mut reader: StreamReader,
    writer: StreamWriter,
    read_size: usize,
) -> io::Result<()> {
    loop {
        let data = reader.read(read_size).await?;
        if data.is_empty() {
            break;
        }
        writer.write(&data)?;
        writer.drain().await?;
    }
    writer.close();
    Ok(())
}

/// tulip: `start_server(handler, "127.0.0.1", 0)` on its event loop.
fn serve_tulip(
    read_size: usize,
    bound: impl FnOnce(SocketAddr) + Send + 'static,
    stop: async_channel::Receiver<()>,
) -> io::Result<()> {
    let start = tulip::start_server(
        move |reader, writer| tulip_echo(reader, writer, read_size),
        "127.0.0.1",
        0,
    );
    run_tulip_server(start, bound, stop)
}

/// tulip's multi-thread runtime with 2 workers: the same `start_server`
/// and handler as [`serve_tulip`], the server started from a task on a
/// worker (as `TulipMt::run` runs every body), so its accept loop and
/// every connection's handler run on the 2 workers.
fn serve_tulip_mt(
    read_size: usize,
    bound: impl FnOnce(SocketAddr) + Send + 'static,
    stop: async_channel::Receiver<()>,
) -> io::Result<()> {
    crate::rt::tulip::TulipMt::run(async move {
        let server = tulip::start_server(
            move |reader, writer| tulip_echo(reader, writer, read_size),
            "127.0.0.1",
            0,
        )
        .await?;
        serve_until_stopped(server, bound, stop).await
    })
}

/// Runs a tulip server on a fresh event loop: `start` makes it, `bound` hears its
/// address, and it serves until `stop` closes.
fn run_tulip_server(
    start: impl Future<Output = io::Result<tulip::Server>> + 'static,
    bound: impl FnOnce(SocketAddr) + Send + 'static,
    stop: async_channel::Receiver<()>,
) -> io::Result<()> {
    let event_loop = tulip::EventLoop::new()?;
    event_loop
        .run_until_complete(async move { serve_until_stopped(start.await?, bound, stop).await })
        .map_err(io::Error::other)?
}

/// Reports a started tulip server's address to `bound`, then serves until
/// `stop` closes.
async fn serve_until_stopped(
    server: tulip::Server,
    bound: impl FnOnce(SocketAddr),
    stop: async_channel::Receiver<()>,
) -> io::Result<()> {
    let addr = server
        .local_addrs()
        .first()
        .and_then(|addr| addr.as_inet())
        .ok_or_else(|| io::Error::other("the server has no IP address"))?;
    bound(addr);
    let _ = stop.recv().await;
    server.close();
    Ok(())
}

/// asyncio's echo protocol: what arrives is written back as it comes, and
/// the peer's EOF closes the transport (after it has sent what it holds).
#[derive(Default)]
struct EchoProtocol {
    /// Set by `connection_made`.
    transport: Option<Transport>,
}

impl BaseProtocol for EchoProtocol {
    type Transport = Transport;

    fn connection_made(&mut self, transport: &Transport) {
        self.transport = Some(transport.clone());
    }
}

impl Protocol for EchoProtocol {
    fn data_received(&mut self, data: &[u8]) {
        if let Some(transport) = &self.transport {
            transport.write(data);
        }
    }

    fn eof_received(&mut self) -> bool {
        // Not kept half-open: the transport closes once its buffer is sent.
        false
    }
}

/// tulip's protocols: `tulip_protocol::create_server(EchoProtocol::default,
/// "127.0.0.1", 0)` on tulip's event loop. There is no read size to pass:
/// the transport reads up to 256 KiB (asyncio's `max_size`) into one
/// buffer per thread and lends `data_received` the bytes, so an idle
/// connection holds none.
fn serve_tulip_protocol(
    bound: impl FnOnce(SocketAddr) + Send + 'static,
    stop: async_channel::Receiver<()>,
) -> io::Result<()> {
    let start = tulip_protocol::create_server(EchoProtocol::default, "127.0.0.1", 0);
    run_tulip_server(start, bound, stop)
}

/// tokio: `tokio::net::TcpListener`, a task per connection, `read` and
/// `write_all`.
fn serve_tokio<R: Rt>(
    read_size: usize,
    bound: impl FnOnce(SocketAddr) + Send + 'static,
    stop: async_channel::Receiver<()>,
) -> io::Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    R::run(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        bound(listener.local_addr()?);
        R::spawn_detached(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                // As tulip (and asyncio) do for every TCP stream.
                let _ = stream.set_nodelay(true);
                R::spawn_detached(async move {
                    let mut buf = vec![0; read_size];
                    while let Ok(n) = stream.read(&mut buf).await {
                        if n == 0 || stream.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        let _ = stop.recv().await;
        Ok(())
    })
}

/// smol (`R` is [`Smol`](crate::rt::smol::Smol) or
/// [`SmolMt`](crate::rt::smol::SmolMt)): `smol::net::TcpListener`, a task
/// per connection, `read` and `write_all`.
fn serve_smol<R: Rt>(
    read_size: usize,
    bound: impl FnOnce(SocketAddr) + Send + 'static,
    stop: async_channel::Receiver<()>,
) -> io::Result<()> {
    use smol::io::{AsyncReadExt, AsyncWriteExt};

    R::run(async move {
        let listener = smol::net::TcpListener::bind("127.0.0.1:0").await?;
        bound(listener.local_addr()?);
        R::spawn_detached(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                // As tulip (and asyncio) do for every TCP stream.
                let _ = stream.set_nodelay(true);
                R::spawn_detached(async move {
                    let mut buf = vec![0; read_size];
                    while let Ok(n) = stream.read(&mut buf).await {
                        if n == 0 || stream.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        let _ = stop.recv().await;
        Ok(())
    })
}
