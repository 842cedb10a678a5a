//! Streams: a TCP echo server and client (`open_connection`,
//! `start_server`, `serve_forever`).
//!
//! Seed 002's echo client and server: the client sends `'Hello World!'`,
//! the server reads it, writes it back and closes; the client prints what
//! came back.
//!
//! ```python
//! async def tcp_echo_client(message):
//!     reader, writer = await asyncio.open_connection(
//!         '127.0.0.1', 8888)
//!     print(f'Send: {message!r}')
//!     writer.write(message.encode())
//!     data = await reader.read(100)
//!     print(f'Received: {data.decode()!r}')
//!     print('Close the connection')
//!     writer.close()
//!
//! asyncio.run(tcp_echo_client('Hello World!'))
//! ```
//!
//! ```python
//! async def handle_echo(reader, writer):
//!     data = await reader.read(100)
//!     message = data.decode()
//!     addr = writer.get_extra_info('peername')
//!     print(f"Received {message!r} from {addr!r}")
//!     print(f"Send: {message!r}")
//!     writer.write(data)
//!     await writer.drain()
//!     print("Close the connection")
//!     writer.close()
//!
//! async def main():
//!     server = await asyncio.start_server(
//!         handle_echo, '127.0.0.1', 8888)
//!     addr = server.sockets[0].getsockname()
//!     print(f'Serving on {addr}')
//!     async with server:
//!         await server.serve_forever()
//!
//! asyncio.run(main())
//! ```
//!
//! The seed runs the two programs side by side, the server forever. Here
//! they are tasks of one loop, and the example stops by itself: `main`
//! starts the server on 127.0.0.1, serves it forever in a task, runs the
//! client once, then closes the server and waits until its handler has
//! returned (what leaving `async with server:` does). The server binds port
//! 0 rather than 8888, so that the example never meets a busy port; ports
//! then vary from run to run, and they are printed as `PORT`:
//! `('127.0.0.1', PORT)` where Python prints `('127.0.0.1', 8888)` and
//! `('127.0.0.1', 54412)`. Otherwise the lines are what the Python
//! programs print, run together in one process on loopback, in that order.

// The tour and the snapshot tests include this file as a module too.
#[path = "common/mod.rs"]
mod common;

use std::error::Error;
use std::io::{self, Write};
use std::net::SocketAddr;

use common::{Transcript, py_str, say};
use tulip::{StreamReader, StreamWriter};

/// What a task of the example can fail with.
type TaskError = Box<dyn Error + Send + Sync>;

/// Python's `repr()` of an address tuple, the port left out:
/// `('127.0.0.1', PORT)`.
fn py_addr(addr: Option<SocketAddr>) -> String {
    match addr {
        Some(addr) => format!("('{}', PORT)", addr.ip()),
        None => "None".to_owned(),
    }
}

/// The client: sends the message and prints what comes back.
async fn tcp_echo_client(out: Transcript, message: &str, port: u16) -> Result<(), TaskError> {
    let (mut reader, writer) = tulip::open_connection("127.0.0.1", port).await?;
    say!(out, "Send: {}", py_str(message));
    writer.write(message.as_bytes())?;
    let data = reader.read(100).await?;
    say!(out, "Received: {}", py_str(&String::from_utf8(data)?));
    say!(out, "Close the connection");
    writer.close();
    Ok(())
}

/// The server's handler of one connection: echoes one read back.
async fn handle_echo(
    out: Transcript,
    mut reader: StreamReader,
    writer: StreamWriter,
) -> Result<(), TaskError> {
    let data = reader.read(100).await?;
    let message = String::from_utf8(data.clone())?;
    let addr = writer.peername().and_then(|addr| addr.as_inet());
    say!(out, "Received {} from {}", py_str(&message), py_addr(addr));
    say!(out, "Send: {}", py_str(&message));
    writer.write(&data)?;
    writer.drain().await?;
    say!(out, "Close the connection");
    writer.close();
    Ok(())
}

/// The server's `main`, running the client once while it serves.
async fn main_task(out: Transcript) -> Result<(), TaskError> {
    let handler_out = out.clone();
    let server = tulip::start_server(
        move |reader, writer| handle_echo(handler_out.clone(), reader, writer),
        "127.0.0.1",
        0,
    )
    .await?;
    let addr = server.local_addrs()[0]
        .as_inet()
        .ok_or("a TCP server has an IP address")?;
    say!(out, "Serving on {}", py_addr(Some(addr)));

    let serving = tulip::spawn({
        let server = server.clone();
        async move { server.serve_forever().await }
    });
    tcp_echo_client(out, "Hello World!", addr.port()).await?;

    // Leaving `async with server:`: close, and wait for the handler.
    server.close();
    serving.await??;
    server.wait_closed().await;
    Ok(())
}

/// Runs the example, printing to `out`.
pub(crate) fn run(out: &mut dyn Write) -> Result<(), Box<dyn Error>> {
    let transcript = Transcript::new();
    let event_loop = tulip::EventLoop::new()?;
    event_loop
        .run_until_complete(main_task(transcript.clone()))?
        .map_err(|error| -> Box<dyn Error> { error })?;
    Ok(transcript.write_to(out)?)
}

fn main() -> Result<(), Box<dyn Error>> {
    run(&mut io::stdout().lock())
}
