//! Sockets over loopback: TCP, UDP and Unix streams, listeners and datagrams, driven by
//! the tiny `block_on` of `common` (no executor).

mod common;

use std::future::{Future, poll_fn};
use std::io::{self, IoSlice, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Poll;
use std::thread;
use std::time::Duration;

use common::{block_on, join};
use futures_io::{AsyncRead, AsyncWrite};
use tulip_reactor::net::{
    ConnectOptions, ListenOptions, TcpListener, TcpStream, UdpSocket, UnixDatagram, UnixListener,
    UnixStream,
};
use tulip_reactor::{NoReactor, Reactor};

fn localhost() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

/// Awaits every future concurrently; outputs in input order.
async fn join_all<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut futures: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    poll_fn(|cx| {
        for (fut, out) in futures.iter_mut().zip(outputs.iter_mut()) {
            if out.is_none()
                && let Poll::Ready(v) = fut.as_mut().poll(cx)
            {
                *out = Some(v);
            }
        }
        if outputs.iter().all(Option::is_some) {
            Poll::Ready(outputs.iter_mut().map(|o| o.take().unwrap()).collect())
        } else {
            Poll::Pending
        }
    })
    .await
}

/// Returns `Pending` once (waking itself), like a task yielding to the loop.
async fn yield_now() {
    let mut yielded = false;
    poll_fn(|cx| {
        if yielded {
            Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
    .await
}

/// Reads until EOF, through `futures_io::AsyncRead` on a shared reference (so TCP and
/// Unix streams alike, and the trait impls, are exercised).
async fn read_to_end<S>(stream: &S) -> io::Result<Vec<u8>>
where
    for<'a> &'a S: AsyncRead,
{
    let mut reader = stream;
    let mut out = Vec::new();
    let mut buf = [0; 4096];
    loop {
        match poll_fn(|cx| Pin::new(&mut reader).poll_read(cx, &mut buf)).await? {
            0 => return Ok(out),
            n => out.extend_from_slice(&buf[..n]),
        }
    }
}

/// Echoes until EOF, then closes the write half (through the `futures_io` traits).
async fn echo<S>(stream: &S) -> io::Result<usize>
where
    for<'a> &'a S: AsyncRead + AsyncWrite,
{
    let mut both = stream;
    let mut buf = [0; 4096];
    let mut total = 0;
    loop {
        match poll_fn(|cx| Pin::new(&mut both).poll_read(cx, &mut buf)).await? {
            0 => break,
            n => {
                write_all_generic(&mut both, &buf[..n]).await?;
                total += n;
            }
        }
    }
    poll_fn(|cx| Pin::new(&mut both).poll_close(cx)).await?;
    Ok(total)
}

fn echo_round_trip(reactor: &Arc<Reactor>, listener: TcpListener) {
    let addr = listener.local_addr().unwrap();
    let (client, served) = block_on(reactor, async {
        join(
            async {
                let client = TcpStream::connect(addr).await?;
                assert_eq!(client.peer_addr()?, addr);
                client.write_all(b"hello, tulip").await?;
                client.shutdown(Shutdown::Write)?;
                read_to_end(&client).await
            },
            async {
                let (server, peer) = listener.accept().await?;
                assert_eq!(peer, server.peer_addr()?);
                assert_eq!(server.local_addr()?, addr);
                echo(&server).await
            },
        )
        .await
    });
    assert_eq!(client.unwrap(), b"hello, tulip");
    assert_eq!(served.unwrap(), 12);
}

#[test]
fn tcp_connect_accept_echo_over_ipv4() {
    let reactor = Reactor::new().unwrap();
    let _guard = reactor.enter();
    let listener = TcpListener::bind(localhost()).unwrap();
    echo_round_trip(&reactor, listener);
}

#[test]
fn tcp_connect_accept_echo_over_ipv6_when_available() {
    let reactor = Reactor::new().unwrap();
    let _guard = reactor.enter();
    let listener = match TcpListener::bind("[::1]:0".parse().unwrap()) {
        Ok(listener) => listener,
        Err(error) => {
            println!("note: no IPv6 loopback on this machine ({error}); IPv6 echo not tested");
            return;
        }
    };
    echo_round_trip(&reactor, listener);
}

#[test]
fn connecting_where_nobody_listens_is_refused() {
    let reactor = Reactor::new().unwrap();
    let _guard = reactor.enter();
    let addr = TcpListener::bind(localhost())
        .unwrap()
        .local_addr()
        .unwrap();
    let error = block_on(&reactor, TcpStream::connect(addr)).unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::ConnectionRefused);
}

#[test]
fn without_a_current_reactor_constructors_fail_with_no_reactor() {
    fn is_no_reactor(error: io::Error) -> bool {
        error
            .into_inner()
            .is_some_and(|inner| inner.downcast::<NoReactor>().is_ok())
    }
    let listening = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut connect = std::pin::pin!(TcpStream::connect(listening.local_addr().unwrap()));
    let cx = &mut std::task::Context::from_waker(std::task::Waker::noop());
    match connect.as_mut().poll(cx) {
        Poll::Ready(Err(error)) => assert!(is_no_reactor(error)),
        other => panic!("expected an error, got {other:?}"),
    }
    assert!(is_no_reactor(TcpListener::bind(localhost()).unwrap_err()));
    assert!(is_no_reactor(UdpSocket::bind(localhost()).unwrap_err()));
    assert!(is_no_reactor(UnixStream::pair().unwrap_err()));
    assert!(is_no_reactor(UnixDatagram::unbound().unwrap_err()));
}

#[test]
fn half_close_lets_the_peer_read_eof_and_still_reply() {
    let reactor = Reactor::new().unwrap();
    let _guard = reactor.enter();
    let listener = TcpListener::bind(localhost()).unwrap();
    let addr = listener.local_addr().unwrap();
    let (client, server) = block_on(&reactor, async {
        join(
            async {
                let client = TcpStream::connect(addr).await?;
                client.write_all(b"request").await?;
                client.shutdown(Shutdown::Write)?;
                read_to_end(&client).await
            },
            async {
                let (server, _) = listener.accept().await?;
                let request = read_to_end(&server).await?; // EOF after the half-close
                server.write_all(b"reply to ").await?;
                server.write_all(&request).await?;
                Ok::<_, io::Error>(request)
            },
        )
        .await
    });
    assert_eq!(server.unwrap(), b"request");
    assert_eq!(client.unwrap(), b"reply to request");
}

fn is_reset(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe
    )
}

/// Connects a client and accepts it, then resets the connection from the server side.
fn reset_connection(reactor: &Arc<Reactor>, listener: &TcpListener) -> TcpStream {
    block_on(reactor, async {
        let (client, accepted) = join(
            TcpStream::connect(listener.local_addr()?),
            listener.accept(),
        )
        .await;
        let (server, _) = accepted?;
        server.set_linger(Some(Duration::ZERO))?;
        drop(server); // RST
        client
    })
    .unwrap()
}

#[test]
fn a_peer_reset_surfaces_on_read_and_on_write() {
    let reactor = Reactor::new().unwrap();
    let _guard = reactor.enter();
    let listener = TcpListener::bind(localhost()).unwrap();

    // Read first: the reset, then the write fails too.
    let client = reset_connection(&reactor, &listener);
    let error = block_on(&reactor, client.read(&mut [0; 16])).unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::ConnectionReset);
    let error = block_on(&reactor, client.write(b"after")).unwrap_err();
    assert!(is_reset(&error), "{error:?}");

    // Write first, never reading.
    let client = reset_connection(&reactor, &listener);
    let error = block_on(&reactor, async {
        for _ in 0..10_000 {
            client.write(b"x").await?;
        }
        Ok::<(), io::Error>(())
    })
    .unwrap_err();
    assert!(is_reset(&error), "{error:?}");
}

#[test]
fn a_hundred_concurrent_connections_get_their_own_bytes_back() {
    const CONNECTIONS: usize = 100;
    let reactor = Reactor::new().unwrap();
    let _guard = reactor.enter();
    let listener = TcpListener::bind(localhost()).unwrap();
    let addr = listener.local_addr().unwrap();
    let (server, clients) = block_on(&reactor, async {
        let server = async {
            let mut accepted = Vec::new();
            for _ in 0..CONNECTIONS {
                accepted.push(listener.accept().await?.0);
            }
            let echoed = join_all(accepted.iter().map(echo).collect()).await;
            echoed.into_iter().sum::<io::Result<usize>>()
        };
        let clients = join_all(
            (0..CONNECTIONS)
                .map(|i| async move {
                    let message = format!("connection {i} says hello").repeat(i + 1);
                    let client = TcpStream::connect(addr).await?;
                    client.write_all(message.as_bytes()).await?;
                    client.shutdown(Shutdown::Write)?;
                    let back = read_to_end(&client).await?;
                    Ok::<bool, io::Error>(back == message.as_bytes())
                })
                .collect(),
        );
        join(server, clients).await
    });
    server.unwrap();
    let clients: Vec<bool> = clients.into_iter().map(Result::unwrap).collect();
    assert_eq!(clients.len(), CONNECTIONS);
    assert!(clients.iter().all(|same| *same));
}

#[test]
fn vectored_writes_arrive_in_order() {
    let reactor = Reactor::new().unwrap();
    let _guard = reactor.enter();
    let listener = TcpListener::bind(localhost()).unwrap();
    let addr = listener.local_addr().unwrap();
    let (sent, received) = block_on(&reactor, async {
        join(
            async {
                let client = TcpStream::connect(addr).await?;
                let parts: [&[u8]; 4] = [b"GET / HTTP/1.1\r\n", b"Host: x\r\n", b"", b"\r\n"];
                let total: usize = parts.iter().map(|p| p.len()).sum();
                let mut written = 0;
                while written < total {
                    // Skip what was written, as a transport's buffer would.
                    let mut skip = written;
                    let bufs: Vec<IoSlice<'_>> = parts
                        .iter()
                        .filter_map(|p| {
                            if skip >= p.len() {
                                skip -= p.len();
                                None
                            } else {
                                let s = IoSlice::new(&p[skip..]);
                                skip = 0;
                                Some(s)
                            }
                        })
                        .collect();
                    written += client.write_vectored(&bufs).await?;
                }
                client.shutdown(Shutdown::Write)?;
                Ok::<_, io::Error>(written)
            },
            async { read_to_end(&listener.accept().await?.0).await },
        )
        .await
    });
    assert_eq!(sent.unwrap(), 27);
    assert_eq!(received.unwrap(), b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
}

#[test]
fn ten_megabytes_reach_a_slow_reader_in_order() {
    const TOTAL: usize = 10 * 1024 * 1024;
    let reactor = Reactor::new().unwrap();
    let _guard = reactor.enter();
    let listener = TcpListener::bind(localhost()).unwrap();
    let addr = listener.local_addr().unwrap();
    let pattern = |i: usize| (i % 251) as u8;
    let (written, read) = block_on(&reactor, async {
        join(
            async {
                let writer = TcpStream::connect(addr).await?;
                let mut chunk = vec![0; 64 * 1024];
                let mut offset = 0;
                while offset < TOTAL {
                    for (j, byte) in chunk.iter_mut().enumerate() {
                        *byte = pattern(offset + j);
                    }
                    writer.write_all(&chunk).await?;
                    offset += chunk.len();
                }
                writer.shutdown(Shutdown::Write)?;
                Ok::<_, io::Error>(offset)
            },
            async {
                let (reader, _) = listener.accept().await?;
                let mut buf = [0; 1024];
                let mut total = 0;
                loop {
                    let n = reader.read(&mut buf).await?;
                    if n == 0 {
                        return Ok::<_, io::Error>(total);
                    }
                    for (j, byte) in buf[..n].iter().enumerate() {
                        assert_eq!(*byte, pattern(total + j), "byte {}", total + j);
                    }
                    total += n;
                    yield_now().await; // a slow reader
                }
            },
        )
        .await
    });
    assert_eq!(written.unwrap(), TOTAL);
    assert_eq!(read.unwrap(), TOTAL);
}

#[test]
fn interoperates_with_blocking_std_peers_on_threads() {
    let reactor = Reactor::new().unwrap();
    let _guard = reactor.enter();

    // Our client, a std echo server on a thread.
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = std_listener.local_addr().unwrap();
    let server = thread::spawn(move || -> io::Result<()> {
        let (mut stream, _) = std_listener.accept()?;
        let mut request = Vec::new();
        stream.read_to_end(&mut request)?;
        stream.write_all(&request)
    });
    let echoed = block_on(&reactor, async {
        let client = TcpStream::connect(addr).await?;
        client.write_all(b"to std and back").await?;
        client.shutdown(Shutdown::Write)?;
        read_to_end(&client).await
    });
    assert_eq!(echoed.unwrap(), b"to std and back");
    server.join().unwrap().unwrap();

    // Our listener, a std client on a thread.
    let listener = TcpListener::bind(localhost()).unwrap();
    let addr = listener.local_addr().unwrap();
    let client = thread::spawn(move || -> io::Result<Vec<u8>> {
        let mut stream = std::net::TcpStream::connect(addr)?;
        stream.write_all(b"from std")?;
        stream.shutdown(Shutdown::Write)?;
        let mut reply = Vec::new();
        stream.read_to_end(&mut reply)?;
        Ok(reply)
    });
    let served = block_on(&reactor, async { echo(&listener.accept().await?.0).await });
    assert_eq!(served.unwrap(), 8);
    assert_eq!(client.join().unwrap().unwrap(), b"from std");
}

#[test]
fn std_conversions_round_trip() {
    let reactor = Reactor::new().unwrap();
    let _guard = reactor.enter();
    let listener = TcpListener::from_std(std::net::TcpListener::bind("127.0.0.1:0").unwrap())
        .unwrap()
        .into_std()
        .unwrap();
    let listener = TcpListener::from_std(listener).unwrap();
    let addr = listener.local_addr().unwrap();
    let std_stream = std::net::TcpStream::connect(addr).unwrap();
    let stream = TcpStream::from_std(std_stream).unwrap();
    let (accepted, _) = block_on(&reactor, listener.accept()).unwrap();
    let mut accepted = accepted.into_std().unwrap();
    accepted.set_nonblocking(false).unwrap();
    accepted.write_all(b"std").unwrap();
    let mut buf = [0; 3];
    let n = block_on(&reactor, stream.peek(&mut buf)).unwrap();
    assert!(n > 0);
    let mut got = Vec::new();
    while got.len() < 3 {
        let n = block_on(&reactor, stream.read(&mut buf)).unwrap();
        got.extend_from_slice(&buf[..n]);
    }
    assert_eq!(got, b"std");
    assert_eq!(reactor.registered_sources(), 2);
}

#[test]
fn nodelay_is_on_by_default_and_options_apply() {
    let reactor = Reactor::new().unwrap();
    let _guard = reactor.enter();
    let listener = TcpListener::bind_with(localhost(), &ListenOptions::new().backlog(8)).unwrap();
    let addr = listener.local_addr().unwrap();
    block_on(&reactor, async {
        let client = TcpStream::connect(addr).await?;
        let (server, _) = listener.accept().await?;
        assert!(client.nodelay()?);
        assert!(server.nodelay()?);
        server.set_nodelay(false)?;
        assert!(!server.nodelay()?);
        client.set_keepalive(Some(Duration::from_secs(120)))?;
        assert!(client.keepalive()?);
        client.set_send_buffer_size(32 * 1024)?;
        assert!(client.send_buffer_size()? >= 32 * 1024);
        assert!(client.take_error()?.is_none());

        let options = ConnectOptions::new()
            .nodelay(false)
            .local_addr(localhost())
            .recv_buffer_size(64 * 1024)
            .keepalive(Some(Duration::from_secs(60)));
        let other = TcpStream::connect_with(addr, &options).await?;
        assert!(!other.nodelay()?);
        assert!(other.keepalive()?);
        assert!(other.recv_buffer_size()? >= 64 * 1024);
        Ok::<(), io::Error>(())
    })
    .unwrap();
}

#[test]
fn bad_addresses_are_errors() {
    let reactor = Reactor::new().unwrap();
    let _guard = reactor.enter();
    // Binding to an address this host does not have.
    let error = TcpListener::bind("192.0.2.1:0".parse().unwrap()).unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::AddrNotAvailable);
    // A second listener on a port in use, without SO_REUSEPORT.
    let first = TcpListener::bind(localhost()).unwrap();
    let error = TcpListener::bind(first.local_addr().unwrap()).unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::AddrInUse);
    // An IPv4 socket sending to an IPv6 address.
    let udp = UdpSocket::bind(localhost()).unwrap();
    let v6: SocketAddr = "[::1]:9".parse().unwrap();
    assert!(block_on(&reactor, udp.send_to(b"x", v6)).is_err());
}

#[test]
fn udp_send_to_recv_from_connect_and_peek() {
    let reactor = Reactor::new().unwrap();
    let _guard = reactor.enter();
    let a = UdpSocket::bind(localhost()).unwrap();
    let b = UdpSocket::bind(localhost()).unwrap();
    let (a_addr, b_addr) = (a.local_addr().unwrap(), b.local_addr().unwrap());
    block_on(&reactor, async {
        let (received, sent) = join(
            async {
                let mut buf = [0; 64];
                let (n, from) = b.recv_from(&mut buf).await?;
                Ok::<_, io::Error>((buf[..n].to_vec(), from))
            },
            a.send_to(b"first datagram", b_addr),
        )
        .await;
        assert_eq!(sent?, 14);
        assert_eq!(received?, (b"first datagram".to_vec(), a_addr));

        a.connect(b_addr)?;
        b.connect(a_addr)?;
        assert_eq!(a.peer_addr()?, b_addr);
        a.send(b"second").await?;
        let mut buf = [0; 64];
        let (n, from) = b.peek_from(&mut buf).await?;
        assert_eq!((&buf[..n], from), (&b"second"[..], a_addr));
        let n = b.recv(&mut buf).await?;
        assert_eq!(&buf[..n], b"second");

        a.set_broadcast(true)?;
        assert!(a.broadcast()?);
        a.set_recv_buffer_size(64 * 1024)?;
        assert!(a.recv_buffer_size()? >= 64 * 1024);
        Ok::<(), io::Error>(())
    })
    .unwrap();
}

#[test]
fn udp_poll_methods() {
    let reactor = Reactor::new().unwrap();
    let _guard = reactor.enter();
    let a = UdpSocket::bind(localhost()).unwrap();
    let target = a.local_addr().unwrap();
    let received = block_on(&reactor, async {
        poll_fn(|cx| a.poll_send_to(cx, b"to myself", target)).await?;
        let mut buf = [0; 16];
        let (n, from) = poll_fn(|cx| a.poll_recv_from(cx, &mut buf)).await?;
        assert_eq!(from, target);
        Ok::<_, io::Error>(buf[..n].to_vec())
    });
    assert_eq!(received.unwrap(), b"to myself");
}

/// A unique socket path under the temporary directory, removed on drop.
struct TempPath(PathBuf);

impl TempPath {
    fn new(name: &str) -> TempPath {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("tulip-net-{}-{name}-{n}.sock", std::process::id()));
        let _ = std::fs::remove_file(&path);
        TempPath(path)
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn unix_listener_accepts_and_echoes() {
    let reactor = Reactor::new().unwrap();
    let _guard = reactor.enter();
    let path = TempPath::new("echo");
    let listener = UnixListener::bind(&path.0).unwrap();
    assert_eq!(
        listener.local_addr().unwrap().as_pathname(),
        Some(path.0.as_path())
    );
    let (client, server) = block_on(&reactor, async {
        join(
            async {
                let client = UnixStream::connect(&path.0).await?;
                assert_eq!(client.peer_addr()?.as_pathname(), Some(path.0.as_path()));
                client.write_all(b"over a unix socket").await?;
                client.shutdown(Shutdown::Write)?;
                read_to_end(&client).await
            },
            async {
                let (server, peer) = listener.accept().await?;
                assert!(peer.is_unnamed());
                echo(&server).await
            },
        )
        .await
    });
    assert_eq!(client.unwrap(), b"over a unix socket");
    assert_eq!(server.unwrap(), 18);
}

#[test]
fn unix_pair_and_vectored_write() {
    let reactor = Reactor::new().unwrap();
    let _guard = reactor.enter();
    let (a, b) = UnixStream::pair().unwrap();
    let got = block_on(&reactor, async {
        let n = a
            .write_vectored(&[IoSlice::new(b"left "), IoSlice::new(b"right")])
            .await?;
        assert_eq!(n, 10);
        drop(a);
        read_to_end(&b).await
    });
    assert_eq!(got.unwrap(), b"left right");
}

#[test]
fn unix_bad_paths_are_errors() {
    let reactor = Reactor::new().unwrap();
    let _guard = reactor.enter();
    let too_long = std::env::temp_dir().join("x".repeat(200));
    assert!(UnixListener::bind(&too_long).is_err());
    assert!(UnixDatagram::bind(&too_long).is_err());
    assert!(block_on(&reactor, UnixStream::connect(&too_long)).is_err());
    let missing = TempPath::new("missing");
    let error = block_on(&reactor, UnixStream::connect(&missing.0)).unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::NotFound);
    let taken = TempPath::new("taken");
    let _first = UnixListener::bind(&taken.0).unwrap();
    let error = UnixListener::bind(&taken.0).unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::AddrInUse);
}

#[test]
fn unix_datagrams_bound_unbound_and_paired() {
    let reactor = Reactor::new().unwrap();
    let _guard = reactor.enter();
    let path = TempPath::new("dgram");
    let server = UnixDatagram::bind(&path.0).unwrap();
    let client_path = TempPath::new("dgram-client");
    let client = UnixDatagram::bind(&client_path.0).unwrap();
    let anonymous = UnixDatagram::unbound().unwrap();
    block_on(&reactor, async {
        client.send_to(b"ping", &path.0).await?;
        let mut buf = [0; 16];
        let (n, from) = server.recv_from(&mut buf).await?;
        assert_eq!(&buf[..n], b"ping");
        assert_eq!(from.as_pathname(), Some(client_path.0.as_path()));
        server.send_to(b"pong", &client_path.0).await?;
        let n = client.recv(&mut buf).await?;
        assert_eq!(&buf[..n], b"pong");

        anonymous.connect(&path.0)?;
        assert_eq!(anonymous.peer_addr()?.as_pathname(), Some(path.0.as_path()));
        anonymous.send(b"connected").await?;
        let (n, from) = server.recv_from(&mut buf).await?;
        assert_eq!(&buf[..n], b"connected");
        assert!(from.is_unnamed());

        let (a, b) = UnixDatagram::pair()?;
        a.send(b"paired").await?;
        let n = b.recv(&mut buf).await?;
        assert_eq!(&buf[..n], b"paired");
        Ok::<(), io::Error>(())
    })
    .unwrap();
}

async fn write_all_generic<W: AsyncWrite + Unpin>(w: &mut W, mut buf: &[u8]) -> io::Result<()> {
    while !buf.is_empty() {
        let n = poll_fn(|cx| Pin::new(&mut *w).poll_write(cx, buf)).await?;
        assert!(n > 0);
        buf = &buf[n..];
    }
    poll_fn(|cx| Pin::new(&mut *w).poll_flush(cx)).await
}

async fn read_exact_generic<R: AsyncRead + Unpin>(r: &mut R, mut buf: &mut [u8]) -> io::Result<()> {
    while !buf.is_empty() {
        let n = poll_fn(|cx| Pin::new(&mut *r).poll_read(cx, buf)).await?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        buf = &mut buf[n..];
    }
    Ok(())
}

/// Sends `message` and reads the echo, through the `futures_io` traits only.
async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    message: &[u8],
) -> io::Result<Vec<u8>> {
    write_all_generic(stream, message).await?;
    let vectored = [IoSlice::new(b"!"), IoSlice::new(b"?")];
    let n = poll_fn(|cx| Pin::new(&mut *stream).poll_write_vectored(cx, &vectored)).await?;
    assert_eq!(n, 2);
    poll_fn(|cx| Pin::new(&mut *stream).poll_close(cx)).await?;
    let mut back = vec![0; message.len() + 2];
    read_exact_generic(stream, &mut back).await?;
    Ok(back)
}

#[test]
fn futures_io_traits_work_through_generic_code() {
    let reactor = Reactor::new().unwrap();
    let _guard = reactor.enter();
    let listener = TcpListener::bind(localhost()).unwrap();
    let addr = listener.local_addr().unwrap();
    let (tcp, _) = block_on(&reactor, async {
        join(
            async {
                let mut client = TcpStream::connect(addr).await?;
                let owned = exchange(&mut client, b"owned tcp").await?;
                Ok::<_, io::Error>(owned)
            },
            async { echo(&listener.accept().await?.0).await },
        )
        .await
    });
    assert_eq!(tcp.unwrap(), b"owned tcp!?");

    // Through `&TcpStream`: the same stream shared by reference.
    let (shared, _) = block_on(&reactor, async {
        join(
            async {
                let client = TcpStream::connect(addr).await?;
                let mut by_ref = &client;
                exchange(&mut by_ref, b"shared tcp").await
            },
            async { echo(&listener.accept().await?.0).await },
        )
        .await
    });
    assert_eq!(shared.unwrap(), b"shared tcp!?");

    // Unix streams, owned and by reference.
    let (mut a, b) = UnixStream::pair().unwrap();
    let (unix, _) = block_on(&reactor, async {
        join(exchange(&mut a, b"unix"), echo(&b)).await
    });
    assert_eq!(unix.unwrap(), b"unix!?");
}

#[test]
fn a_stream_is_usable_from_two_threads_at_once() {
    let reactor = Reactor::new().unwrap();
    let _guard = reactor.enter();
    let (a, b) = UnixStream::pair().unwrap();
    let a = Arc::new(a);
    const ROUNDS: usize = 200;
    // The reader runs on another thread with its own block_on over the same reactor.
    let reader = {
        let (a, reactor) = (Arc::clone(&a), Arc::clone(&reactor));
        thread::spawn(move || {
            block_on(&reactor, async {
                let mut total = 0;
                let mut buf = [0; 64];
                while total < ROUNDS * 4 {
                    total += a.read(&mut buf).await?;
                }
                Ok::<_, io::Error>(total)
            })
        })
    };
    // Meanwhile this thread echoes what it gets back... after writing through `a` too.
    block_on(&reactor, async {
        for _ in 0..ROUNDS {
            a.write_all(b"ping").await?;
            let mut buf = [0; 4];
            let mut got = 0;
            while got < 4 {
                got += b.read(&mut buf[got..]).await?;
            }
            b.write_all(&buf).await?;
        }
        Ok::<(), io::Error>(())
    })
    .unwrap();
    assert_eq!(reader.join().unwrap().unwrap(), ROUNDS * 4);
}

#[test]
fn net_types_are_send_sync_and_their_futures_send() {
    fn send_sync<T: Send + Sync + Unpin>() {}
    send_sync::<TcpStream>();
    send_sync::<TcpListener>();
    send_sync::<UdpSocket>();
    send_sync::<UnixStream>();
    send_sync::<UnixListener>();
    send_sync::<UnixDatagram>();
    send_sync::<ConnectOptions>();
    send_sync::<ListenOptions>();

    fn send<T: Send>(_: &T) {}
    let addr = localhost();
    send(&TcpStream::connect(addr));
    send(&TcpStream::connect_with(addr, &ConnectOptions::new()));
    send(&UnixStream::connect("/nonexistent"));
    let reactor = Reactor::new().unwrap();
    let _guard = reactor.enter();
    let listener = TcpListener::bind(addr).unwrap();
    send(&listener.accept());
    let stream =
        TcpStream::from_std(std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap())
            .unwrap();
    let mut buf = [0; 1];
    send(&stream.read(&mut buf));
    send(&stream.write(b""));
    send(&stream.write_all(b""));
    let udp = UdpSocket::bind(addr).unwrap();
    send(&udp.recv_from(&mut buf));
    send(&udp.send_to(b"", addr));
    let (unix, _) = UnixDatagram::pair().unwrap();
    send(&unix.send_to(b"", "/nonexistent"));
}

/// TCP urgent data makes a read stop at its mark with bytes behind it: that short read
/// must not be taken for an empty queue, or the bytes behind would wait for an event
/// that never comes.
#[test]
fn bytes_behind_urgent_data_are_read_without_a_new_event() {
    use std::task::{Context, Waker};
    let reactor = Reactor::new().unwrap();
    let _guard = reactor.enter();
    let listener = TcpListener::bind(localhost()).unwrap();
    let peer = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (stream, _) = block_on(&reactor, listener.accept()).unwrap();
    // "abc", the urgent byte "!" (out of band), then "def": all in before any read.
    socket2::SockRef::from(&peer)
        .send_out_of_band(b"abc!")
        .unwrap();
    (&peer).write_all(b"def").unwrap();
    let cx = &mut Context::from_waker(Waker::noop());
    while stream.poll_read_ready(cx).is_pending() {
        reactor.park(None, || true).unwrap();
    }
    // Every event of both sends is in.
    reactor.park(Some(Duration::ZERO), || true).unwrap();
    let mut got = Vec::new();
    let mut buf = [0; 64];
    // No more data or event will come: every read must find its bytes at once.
    while got.len() < 6 {
        match stream.poll_read(cx, &mut buf) {
            Poll::Ready(Ok(n)) if n > 0 => got.extend_from_slice(&buf[..n]),
            other => panic!("after {got:?}: {other:?}"),
        }
    }
    assert_eq!(got, b"abcdef");
}
