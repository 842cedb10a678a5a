//! tulip-reactor's sockets driven by the event loop: a task per connection, and one
//! stream shared by a reader task and a writer task.

// Miri cannot run these: the reactor registers sockets for EPOLLPRI too,
// and Miri's epoll supports no such flag ("epoll_ctl: encountered unknown
// unsupported flags 0x2"). The ordinary test run covers them.
#![cfg(not(miri))]

use std::io;
use std::net::{Shutdown, SocketAddr};
use std::sync::Arc;

use tulip_executor::{EventLoop, spawn, yield_now};
use tulip_reactor::net::{TcpListener, TcpStream};

fn localhost() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

/// Echoes until EOF, then closes the write half.
async fn echo(stream: TcpStream) -> io::Result<()> {
    let mut buf = [0; 4096];
    while let n @ 1.. = stream.read(&mut buf).await? {
        stream.write_all(&buf[..n]).await?;
    }
    stream.shutdown(Shutdown::Write)
}

/// Everything `stream` gives until EOF.
async fn read_to_end(stream: &TcpStream) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    let mut buf = [0; 100];
    while let n @ 1.. = stream.read(&mut buf).await? {
        bytes.extend_from_slice(&buf[..n]);
    }
    Ok(bytes)
}

#[test]
fn a_task_per_connection_serves_a_hundred_concurrent_clients() {
    const CONNECTIONS: usize = 100;
    let event_loop = EventLoop::new().unwrap();
    let results = event_loop
        .run_until_complete(async {
            let listener = TcpListener::bind(localhost())?;
            let addr = listener.local_addr()?;
            let server = spawn(async move {
                let mut handlers = Vec::new();
                for _ in 0..CONNECTIONS {
                    let (stream, _) = listener.accept().await?;
                    handlers.push(spawn(echo(stream)));
                }
                for handler in handlers {
                    handler.await.expect("echo task")?;
                }
                Ok::<_, io::Error>(CONNECTIONS)
            });
            let clients: Vec<_> = (0..CONNECTIONS)
                .map(|i| {
                    spawn(async move {
                        let message = format!("client {i} ").repeat(i + 1);
                        let client = TcpStream::connect(addr).await?;
                        client.write_all(message.as_bytes()).await?;
                        client.shutdown(Shutdown::Write)?;
                        let back = read_to_end(&client).await?;
                        Ok::<_, io::Error>(back == message.as_bytes())
                    })
                })
                .collect();
            let mut same = Vec::new();
            for client in clients {
                same.push(client.await.expect("client task")?);
            }
            let served = server.await.expect("server task")?;
            Ok::<_, io::Error>((same, served))
        })
        .unwrap();
    let (same, served) = results.unwrap();
    assert_eq!(same.len(), CONNECTIONS);
    assert!(same.into_iter().all(|s| s));
    assert_eq!(served, CONNECTIONS);
}

#[test]
fn a_reader_task_and_a_writer_task_share_one_stream() {
    const MESSAGES: usize = 500;
    let event_loop = EventLoop::new().unwrap();
    let (sent, received) = event_loop
        .run_until_complete(async {
            let listener = TcpListener::bind(localhost())?;
            let ours = TcpStream::connect(listener.local_addr()?).await?;
            let (theirs, _) = listener.accept().await?;
            let ours = Arc::new(ours);
            let echo = spawn(echo(theirs)); // the far end
            let writer = {
                let ours = Arc::clone(&ours);
                spawn(async move {
                    for i in 0..MESSAGES {
                        ours.write_all(&(i as u32).to_be_bytes()).await?;
                        if i % 50 == 0 {
                            yield_now().await;
                        }
                    }
                    ours.shutdown(Shutdown::Write)?;
                    Ok::<_, io::Error>(MESSAGES)
                })
            };
            let reader = spawn(async move {
                let bytes = read_to_end(&ours).await?;
                let numbers: Vec<u32> = bytes
                    .chunks(4)
                    .map(|c| u32::from_be_bytes(c.try_into().unwrap()))
                    .collect();
                Ok::<_, io::Error>(numbers)
            });
            let sent = writer.await.expect("writer task")?;
            let received = reader.await.expect("reader task")?;
            echo.await.expect("echo task")?;
            Ok::<_, io::Error>((sent, received))
        })
        .unwrap()
        .unwrap();
    assert_eq!(sent, MESSAGES);
    assert_eq!(received, (0..MESSAGES as u32).collect::<Vec<_>>());
}
