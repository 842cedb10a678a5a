//! `asyncio.Semaphore` limiting HTTP requests: thirty requests, never more
//! than ten in flight, against a small HTTP server of the same loop.
//!
//! Seed 004's listing 11.7: a semaphore of ten permits around each request,
//! so that a thousand requests to an API that allows ten at a time never
//! run more than ten at once.
//!
//! ```python
//! async def get_url(url: str,
//!                   session: ClientSession,
//!                   semaphore: Semaphore):
//!     print('Waiting to acquire semaphore...')
//!     async with semaphore:
//!         print('Acquired semaphore, requesting...')
//!         response = await session.get(url)
//!         print('Finished requesting')
//!         return response.status
//!
//! async def main():
//!     semaphore = Semaphore(10)
//!     async with ClientSession() as session:
//!         tasks = [get_url('https://www.example.com', session, semaphore)
//!                  for _ in range(1000)]
//!         await asyncio.gather(*tasks)
//!
//! asyncio.run(main())
//! ```
//!
//! The listing needs aiohttp and the network, and what it prints depends on
//! when each response arrives (the seed says so). This port keeps its idea
//! and makes it self-contained and deterministic:
//!
//! - The server is a tiny HTTP/1.1 server of the same loop, on 127.0.0.1
//!   port 0, written with `start_server`: it reads a request's head (up to
//!   the blank line), answers `200 OK` with a short body naming the path,
//!   and closes. The client speaks HTTP over `open_connection` (one request
//!   per connection, `Connection: close`) in place of aiohttp.
//! - Thirty requests (`/0` to `/29`), not a thousand to example.com.
//! - Instead of the three lines per request, whose interleaving depends on
//!   the network, it prints what does not: each request's status line and
//!   body, in request order (`gather` keeps it), the statuses (what the
//!   listing's `gather` returns), and the most requests that were in flight
//!   at once, counted inside the semaphore: ten, never more.
//!
//! The Python counterpart used for comparison is the listing with these
//! changes (the same server and client written with asyncio's streams); it
//! prints the same lines.

// The tour and the snapshot tests include this file as a module too.
#[path = "common/mod.rs"]
mod common;

use std::cell::Cell;
use std::error::Error;
use std::io::{self, Write};

use common::{Transcript, py_list, py_str, say};
use tulip::StreamReader;
use tulip::StreamWriter;
use tulip::sync::Semaphore;

/// What a task of the example can fail with.
type TaskError = Box<dyn Error + Send + Sync>;

/// How many requests the client makes.
const REQUESTS: usize = 30;

/// How many of them may be in flight at once (the vendor's limit).
const LIMIT: usize = 10;

/// The server's handler of one connection: one request, one response.
async fn handle_http(mut reader: StreamReader, writer: StreamWriter) -> Result<(), TaskError> {
    let head = reader.readuntil(b"\r\n\r\n").await?;
    let head = String::from_utf8(head)?;
    // The request line: `GET /path HTTP/1.1`.
    let path = head
        .split(' ')
        .nth(1)
        .ok_or("a request line names a path")?;
    let body = format!("Hello, {path}!\n");
    let response = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    writer.write(response.as_bytes())?;
    writer.drain().await?;
    writer.close();
    writer.wait_closed().await?;
    Ok(())
}

/// Requests counted inside the semaphore: how many now, and the most yet.
#[derive(Default)]
struct InFlight {
    now: Cell<usize>,
    most: Cell<usize>,
}

/// One request, inside the semaphore: returns the response's status line
/// and body.
async fn get_url(
    port: u16,
    path: &str,
    semaphore: &Semaphore,
    in_flight: &InFlight,
) -> Result<(String, String), TaskError> {
    let _permit = semaphore.acquire().await;
    in_flight.now.set(in_flight.now.get() + 1);
    in_flight
        .most
        .set(in_flight.most.get().max(in_flight.now.get()));

    let (mut reader, writer) = tulip::open_connection("127.0.0.1", port).await?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    writer.write(request.as_bytes())?;
    let status_line = String::from_utf8(reader.readline().await?)?;
    let response = String::from_utf8(reader.read_to_end().await?)?;
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .ok_or("a response has a blank line after its head")?;
    writer.close();
    writer.wait_closed().await?;

    in_flight.now.set(in_flight.now.get() - 1);
    Ok((status_line.trim_end_matches("\r\n").to_owned(), body))
}

/// The status code of a status line: `200` of `HTTP/1.1 200 OK`.
fn status_code(status_line: &str) -> &str {
    status_line.split(' ').nth(1).unwrap_or("?")
}

/// The server, then the listing's `main` against it.
async fn main_task(out: Transcript) -> Result<(), TaskError> {
    let server = tulip::start_server(handle_http, "127.0.0.1", 0).await?;
    let port = server.local_addrs()[0]
        .as_inet()
        .ok_or("a TCP server has an IP address")?
        .port();

    let semaphore = Semaphore::new(LIMIT);
    let in_flight = InFlight::default();
    let paths: Vec<String> = (0..REQUESTS).map(|n| format!("/{n}")).collect();
    let results = tulip::gather_all(
        paths
            .iter()
            .map(|path| get_url(port, path, &semaphore, &in_flight)),
    )
    .await;

    let mut statuses = Vec::new();
    for (path, result) in paths.iter().zip(results) {
        let (status_line, body) = result?;
        say!(
            out,
            "GET {path}: {status_line}, {}",
            py_str(&body.escape_debug().to_string())
        );
        statuses.push(status_code(&status_line).to_owned());
    }
    say!(out, "statuses: {}", py_list(statuses));
    say!(
        out,
        "most requests in flight at once: {}",
        in_flight.most.get()
    );

    server.close();
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
