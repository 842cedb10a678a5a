//! Each runtime's idiomatic TCP echo server on `127.0.0.1:0`: read up to
//! 64 KiB, write it all back, until the client closes.
//!
//! Every server reports its address through `bound` once it listens, and
//! runs until `stop` is closed (every sender dropped), then returns.

use std::io;
use std::net::SocketAddr;

use tulip::{StreamReader, StreamWriter};

use crate::rt::{Rt, RuntimeId};

/// How much one read asks for.
pub(crate) const READ_SIZE: usize = 64 * 1024;

/// Runs `runtime`'s echo server until `stop` closes.
pub(crate) fn serve(
    runtime: RuntimeId,
    bound: impl FnOnce(SocketAddr) + Send + 'static,
    stop: async_channel::Receiver<()>,
) -> io::Result<()> {
    match runtime {
        RuntimeId::Tulip => serve_tulip(bound, stop),
        RuntimeId::TokioCt => serve_tokio::<crate::rt::tokio::TokioCt>(bound, stop),
        RuntimeId::TokioMt => serve_tokio::<crate::rt::tokio::TokioMt>(bound, stop),
        RuntimeId::Smol => serve_smol(bound, stop),
    }
}

/// One tulip connection, as asyncio's streams echo it.
async fn tulip_echo(mut reader: StreamReader, writer: StreamWriter) -> io::Result<()> {
    loop {
        let data = reader.read(READ_SIZE).await?;
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
    bound: impl FnOnce(SocketAddr) + Send + 'static,
    stop: async_channel::Receiver<()>,
) -> io::Result<()> {
    let event_loop = tulip::EventLoop::new()?;
    event_loop
        .run_until_complete(async move {
            let server = tulip::start_server(tulip_echo, "127.0.0.1", 0).await?;
            let addr = server
                .local_addrs()
                .first()
                .and_then(|addr| addr.as_inet())
                .ok_or_else(|| io::Error::other("the server has no IP address"))?;
            bound(addr);
            let _ = stop.recv().await;
            server.close();
            Ok(())
        })
        .map_err(io::Error::other)?
}

/// tokio: `tokio::net::TcpListener`, a task per connection, `read` and
/// `write_all`.
fn serve_tokio<R: Rt>(
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
                    let mut buf = vec![0; READ_SIZE];
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

/// smol: `smol::net::TcpListener`, a task per connection, `read` and
/// `write_all`.
fn serve_smol(
    bound: impl FnOnce(SocketAddr) + Send + 'static,
    stop: async_channel::Receiver<()>,
) -> io::Result<()> {
    use smol::io::{AsyncReadExt, AsyncWriteExt};

    type Smol = crate::rt::smol::Smol;
    Smol::run(async move {
        let listener = smol::net::TcpListener::bind("127.0.0.1:0").await?;
        bound(listener.local_addr()?);
        Smol::spawn_detached(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                // As tulip (and asyncio) do for every TCP stream.
                let _ = stream.set_nodelay(true);
                Smol::spawn_detached(async move {
                    let mut buf = vec![0; READ_SIZE];
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
