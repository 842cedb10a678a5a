//! asyncio's top-level functions end to end: `start_server` and
//! `open_connection`, over TCP and Unix sockets, on loopback.

use std::error::Error;

use tulip_streams::{
    ServeOptions, StreamOptions, open_connection, open_unix_connection, start_server,
    start_unix_server,
};

mod common;

type TestResult = Result<(), Box<dyn Error>>;

/// The echo handler of the seeds: lines back until EOF, then close.
async fn echo(
    mut reader: tulip_streams::StreamReader,
    writer: tulip_streams::StreamWriter,
) -> Result<(), Box<dyn Error>> {
    loop {
        let line = reader.readline().await?;
        if line.is_empty() {
            break;
        }
        writer.write(&line)?;
        writer.drain().await?;
    }
    writer.close();
    writer.wait_closed().await?;
    Ok(())
}

/// Adapts [`echo`]'s error for the server (whose handlers report errors by
/// `Display`).
async fn echo_handler(
    reader: tulip_streams::StreamReader,
    writer: tulip_streams::StreamWriter,
) -> Result<(), String> {
    echo(reader, writer)
        .await
        .map_err(|error| error.to_string())
}

#[test]
fn many_clients_of_start_server_get_their_lines_back() -> TestResult {
    const CLIENTS: usize = 200;
    common::block_on(async {
        let server = start_server(echo_handler, "127.0.0.1", 0).await?;
        let port = server.local_addrs()[0]
            .as_inet()
            .ok_or("a TCP server has inet addresses")?
            .port();
        let mut clients = Vec::new();
        for client in 0..CLIENTS {
            clients.push(tulip_executor::spawn(async move {
                let (mut reader, writer) = open_connection("127.0.0.1", port).await?;
                let line = format!("client {client}\n");
                writer.write(line.as_bytes())?;
                writer.write_eof()?;
                let echoed = reader.read_to_end().await?;
                assert_eq!(echoed, line.as_bytes());
                Ok::<_, Box<dyn Error + Send + Sync>>(())
            }));
        }
        for client in clients {
            client.await?.map_err(|error| error.to_string())?;
        }
        server.close();
        server.wait_closed().await;
        Ok::<_, Box<dyn Error>>(())
    })??;
    Ok(())
}

#[test]
fn open_connection_to_a_closed_port_is_refused() -> TestResult {
    common::block_on(async {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        drop(listener);
        let error = match open_connection("127.0.0.1", port).await {
            Ok(_) => return Err("connected to a closed port".into()),
            Err(error) => error,
        };
        assert_eq!(error.kind(), std::io::ErrorKind::ConnectionRefused);
        Ok::<_, Box<dyn Error>>(())
    })??;
    Ok(())
}

#[test]
fn unix_server_and_connection() -> TestResult {
    let dir = std::env::temp_dir().join(format!("tulip-streams-api-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("echo.sock");
    common::block_on({
        let path = path.clone();
        async move {
            let server = start_unix_server(
                echo_handler,
                &path,
                ServeOptions::new(),
                StreamOptions::new(),
            )
            .await?;
            let (mut reader, writer) = open_unix_connection(&path, StreamOptions::new()).await?;
            writer.write(b"over a unix socket\n")?;
            assert_eq!(reader.readline().await?, b"over a unix socket\n");
            writer.write_eof()?;
            assert_eq!(reader.read_to_end().await?, b"");
            server.close();
            server.wait_closed().await;
            Ok::<_, Box<dyn Error>>(())
        }
    })??;
    assert!(!path.exists(), "closing the server removes its socket file");
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

/// Starts the echo server and one client whose first line has come back.
async fn server_with_one_client() -> Result<
    (
        tulip_streams::Server,
        tulip_streams::StreamReader,
        tulip_streams::StreamWriter,
    ),
    Box<dyn Error>,
> {
    let server = start_server(echo_handler, "127.0.0.1", 0).await?;
    let port = server.local_addrs()[0]
        .as_inet()
        .ok_or("a TCP server has inet addresses")?
        .port();
    let (mut reader, writer) = open_connection("127.0.0.1", port).await?;
    writer.write(b"hi\n")?;
    assert_eq!(reader.readline().await?, b"hi\n");
    Ok((server, reader, writer))
}

#[test]
fn close_clients_of_start_server_ends_live_connections() -> TestResult {
    common::block_on(async {
        let (server, mut reader, _writer) = server_with_one_client().await?;
        server.close();
        server.close_clients();
        assert_eq!(reader.read_to_end().await?, b"", "the client reads EOF");
        server.wait_closed().await; // the handler saw EOF too and returned
        Ok(())
    })?
}

#[test]
fn abort_clients_of_start_server_resets_live_connections() -> TestResult {
    common::block_on(async {
        let (server, mut reader, _writer) = server_with_one_client().await?;
        server.abort_clients();
        match reader.read_to_end().await {
            Err(tulip_streams::StreamError::Io(error)) => {
                assert_eq!(error.kind(), std::io::ErrorKind::ConnectionReset);
            }
            other => panic!("expected a reset, got {other:?}"),
        }
        server.close();
        server.wait_closed().await;
        Ok(())
    })?
}

#[test]
fn a_start_server_connection_uses_one_descriptor() -> TestResult {
    /// How many of the process's descriptors refer to a socket open more than once
    /// (other tests run alongside, but none of them duplicates a descriptor).
    fn sockets_open_twice() -> Result<usize, Box<dyn Error>> {
        let mut seen = std::collections::HashMap::new();
        for entry in std::fs::read_dir("/proc/self/fd")? {
            // A descriptor closed meanwhile has no link any more: skip it.
            if let Ok(target) = std::fs::read_link(entry?.path()) {
                let target = target.to_string_lossy().into_owned();
                if target.starts_with("socket:") {
                    *seen.entry(target).or_insert(0_usize) += 1;
                }
            }
        }
        Ok(seen.values().filter(|&&count| count > 1).count())
    }
    common::block_on(async {
        let (server, _reader, _writer) = server_with_one_client().await?;
        // The handler runs, waiting for its next line: the server keeps no duplicate.
        assert_eq!(sockets_open_twice()?, 0);
        server.close();
        server.close_clients();
        server.wait_closed().await;
        Ok(())
    })?
}

#[test]
fn abort_clients_resets_a_connection_whose_writer_still_has_unsent_bytes() -> TestResult {
    /// More than the socket buffers of both ends can hold.
    const UNSENT: usize = 32 << 20;
    common::block_on(async {
        let handler = |_reader: tulip_streams::StreamReader,
                       writer: tulip_streams::StreamWriter| async move {
            writer
                .write(&vec![b'z'; UNSENT])
                .map_err(|e| e.to_string())?;
            // Never drained: the flusher goes on sending in the background while
            // the handler waits for ever.
            std::future::pending::<()>().await;
            Ok::<(), String>(())
        };
        let server = start_server(handler, "127.0.0.1", 0).await?;
        let port = server.local_addrs()[0]
            .as_inet()
            .ok_or("a TCP server has inet addresses")?
            .port();
        let (mut reader, _writer) = open_connection("127.0.0.1", port).await?;
        // The first bytes are in: the handler runs, the rest waits in its buffer.
        reader.readexactly(1).await?;
        server.abort_clients();
        let mut received = 1;
        let error = loop {
            match reader.read(1 << 20).await {
                Ok(data) if data.is_empty() => panic!("EOF instead of a reset"),
                Ok(data) => received += data.len(),
                Err(error) => break error,
            }
        };
        match error {
            tulip_streams::StreamError::Io(error) => {
                assert_eq!(error.kind(), std::io::ErrorKind::ConnectionReset);
            }
            other => panic!("expected a reset, got {other:?}"),
        }
        assert!(received < UNSENT, "the unsent bytes were dropped, not sent");
        server.close();
        server.wait_closed().await;
        Ok(())
    })?
}
