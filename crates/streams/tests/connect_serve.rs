//! Tests of connecting (`lookup_host`, Happy Eyeballs) and serving (`Server`), on
//! loopback only. Every test is bounded by a timeout; none asserts on timing.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tulip_executor::{timeout, yield_now};
use tulip_reactor::net::{ListenOptions, TcpListener, TcpStream, UnixStream};
use tulip_streams::{
    ClientControl, ConnectConfig, ConnectError, ServeError, ServeOptions, Server, connect_tcp,
    connect_tcp_addrs, connect_unix, lookup_host, serve_tcp, serve_tcp_controlled, serve_unix,
};
use tulip_sync::Event;

mod common;

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

/// Runs `future` on a fresh runtime of the kind `TULIP_TEST_RUNTIME` chooses,
/// failing after `limit`.
fn run_within<F>(limit: Duration, future: F) -> TestResult
where
    F: Future<Output = TestResult> + 'static,
{
    common::block_on(async move {
        timeout(limit, future)
            .await
            .map_err(|_| "the test timed out")?
    })?
}

fn run<F>(future: F) -> TestResult
where
    F: Future<Output = TestResult> + 'static,
{
    run_within(Duration::from_secs(30), future)
}

/// A loopback address nothing listens on (bound for a moment, then closed).
fn closed_addr() -> io::Result<SocketAddr> {
    std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()
}

/// The first TCP address of a server.
fn tcp_addr(server: &Server) -> SocketAddr {
    server.local_addrs()[0].as_inet().expect("a TCP server")
}

/// Echoes what it reads until EOF.
async fn echo(stream: TcpStream, _peer: SocketAddr) -> io::Result<()> {
    let mut buf = [0; 4096];
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        stream.write_all(&buf[..n]).await?;
    }
}

/// Writes `message` and reads back as many bytes.
async fn round_trip(stream: &TcpStream, message: &[u8]) -> io::Result<Vec<u8>> {
    stream.write_all(message).await?;
    let mut got = vec![0; message.len()];
    let mut filled = 0;
    while filled < got.len() {
        let n = stream.read(&mut got[filled..]).await?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        filled += n;
    }
    Ok(got)
}

#[test]
fn lookup_host_resolves_localhost_on_the_blocking_pool() -> TestResult {
    common::block_on_with(Some(1), async {
        // Occupy the pool's only thread until told to go.
        let (go, wait) = std::sync::mpsc::channel::<()>();
        let blocker = tulip_executor::spawn_blocking(move || wait.recv().ok());
        let lookup = tulip_executor::spawn(async { lookup_host("localhost", 4321).await });
        for _ in 0..20 {
            yield_now().await;
        }
        // The loop runs while the lookup waits for the pool: it is not done inline.
        assert!(!lookup.is_finished());
        // An IP literal needs no pool.
        let literal = lookup_host("127.0.0.1", 4321).await?;
        assert_eq!(literal, ["127.0.0.1:4321".parse::<SocketAddr>()?]);
        let v6 = lookup_host("[::1]", 1).await?;
        assert_eq!(v6, ["[::1]:1".parse::<SocketAddr>()?]);
        go.send(())?;
        blocker.await?;
        let addrs = timeout(Duration::from_secs(30), lookup)
            .await
            .map_err(|_| "timed out")???;
        assert!(!addrs.is_empty());
        assert!(
            addrs
                .iter()
                .all(|addr| addr.port() == 4321 && addr.ip().is_loopback())
        );
        Ok::<_, Box<dyn std::error::Error>>(())
    })??;
    Ok(())
}

#[test]
fn lookup_host_fails_for_an_unknown_name() -> TestResult {
    run(async {
        let result = lookup_host("no-such-host.invalid", 80).await;
        assert!(result.is_err());
        Ok(())
    })
}

#[test]
fn connect_tries_the_next_address_when_one_is_refused() -> TestResult {
    run(async {
        let listener = TcpListener::bind("127.0.0.1:0".parse()?)?;
        let open = listener.local_addr()?;
        let addrs = [closed_addr()?, open];
        for config in [
            ConnectConfig::new(),
            ConnectConfig::new().happy_eyeballs_delay(None),
        ] {
            let stream = connect_tcp_addrs(&addrs, &config).await?;
            assert_eq!(stream.peer_addr()?, open);
        }
        // By name: "localhost" may list ::1 (refused) before 127.0.0.1.
        let stream = connect_tcp("localhost", open.port(), &ConnectConfig::new()).await?;
        assert_eq!(stream.peer_addr()?, open);
        Ok(())
    })
}

#[test]
fn connect_with_a_local_address() -> TestResult {
    run(async {
        let listener = TcpListener::bind("127.0.0.1:0".parse()?)?;
        let config = ConnectConfig::new().local_addr("127.0.0.1:0".parse()?);
        let stream = connect_tcp("127.0.0.1", listener.local_addr()?.port(), &config).await?;
        assert!(stream.local_addr()?.ip().is_loopback());
        // An IPv6 target has no local address of its family: that attempt fails.
        let error = connect_tcp_addrs(&["[::1]:9".parse()?], &config)
            .await
            .expect_err("no IPv6 local address");
        assert_eq!(
            error.attempts()[0].1.kind(),
            io::ErrorKind::AddrNotAvailable
        );
        Ok(())
    })
}

#[test]
fn when_every_attempt_fails_the_error_lists_them_all() -> TestResult {
    run(async {
        let (a, b) = (closed_addr()?, closed_addr()?);
        let error = connect_tcp_addrs(&[a, b], &ConnectConfig::new())
            .await
            .expect_err("nothing listens");
        let tried: Vec<SocketAddr> = error.attempts().iter().map(|(addr, _)| *addr).collect();
        assert_eq!(tried, [a, b]);
        assert!(
            error
                .attempts()
                .iter()
                .all(|(_, e)| e.kind() == io::ErrorKind::ConnectionRefused)
        );
        let message = error.to_string();
        assert!(message.contains(&a.to_string()) && message.contains(&b.to_string()));

        let error = connect_tcp_addrs(&[], &ConnectConfig::new())
            .await
            .expect_err("no address");
        assert!(error.attempts().is_empty());

        // Through connect_tcp: an io::Error of the common kind, ConnectError inside.
        let error = connect_tcp("127.0.0.1", a.port(), &ConnectConfig::new())
            .await
            .expect_err("nothing listens");
        assert_eq!(error.kind(), io::ErrorKind::ConnectionRefused);
        let inner = error
            .get_ref()
            .and_then(|e| e.downcast_ref::<ConnectError>());
        assert_eq!(inner.map(|e| e.attempts().len()), Some(1));
        Ok(())
    })
}

#[test]
fn an_address_that_never_answers_does_not_stall_the_connection() -> TestResult {
    run(async {
        // A listener whose accept queue is full drops further SYNs: connecting to it
        // hangs, as to a dead address.
        let stalled =
            TcpListener::bind_with("127.0.0.1:0".parse()?, &ListenOptions::new().backlog(0))?;
        let stalled_addr = stalled.local_addr()?;
        let mut fillers = Vec::new();
        let mut full = false;
        for _ in 0..16 {
            match std::net::TcpStream::connect_timeout(&stalled_addr, Duration::from_millis(200)) {
                Ok(stream) => fillers.push(stream),
                Err(_) => {
                    full = true;
                    break;
                }
            }
        }
        if !full {
            println!("note: could not fill a loopback accept queue; test skipped");
            return Ok(());
        }
        let open = TcpListener::bind("127.0.0.1:0".parse()?)?;
        let config = ConnectConfig::new().happy_eyeballs_delay(Some(Duration::from_millis(50)));
        let stream = connect_tcp_addrs(&[stalled_addr, open.local_addr()?], &config).await?;
        assert_eq!(stream.peer_addr()?, open.local_addr()?);
        drop(fillers);
        Ok(())
    })
}

/// Raises the soft limit on open files to at least `wanted` if the hard limit allows.
fn raise_fd_limit(wanted: u64) -> bool {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid rlimit to fill.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return false;
    }
    if limit.rlim_cur >= wanted {
        return true;
    }
    if limit.rlim_max < wanted {
        return false;
    }
    limit.rlim_cur = limit.rlim_max;
    // SAFETY: `limit` is a valid rlimit within the hard limit.
    unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) == 0 }
}

#[test]
fn a_thousand_concurrent_clients_get_their_bytes_back() -> TestResult {
    const CLIENTS: usize = 1000;
    // Per client: its socket, the server's, and the server's duplicate.
    if !raise_fd_limit(3 * CLIENTS as u64 + 256) {
        println!("note: the open-file hard limit is too low for {CLIENTS} clients; test skipped");
        return Ok(());
    }
    run_within(Duration::from_secs(120), async {
        let options = ServeOptions::new().backlog(1024);
        let server = serve_tcp(echo, "127.0.0.1", 0, options).await?;
        let addr = tcp_addr(&server);
        let clients: Vec<_> = (0..CLIENTS)
            .map(|i| {
                tulip_executor::spawn(async move {
                    let stream = TcpStream::connect(addr).await?;
                    let message = format!("client {i:04}").into_bytes();
                    let got = round_trip(&stream, &message).await?;
                    Ok::<_, io::Error>(got == message)
                })
            })
            .collect();
        for client in clients {
            assert!(client.await??, "a client got other bytes back");
        }
        server.close();
        server.wait_closed().await;
        Ok(())
    })
}

#[test]
fn close_stops_accepting_while_live_connections_go_on() -> TestResult {
    run(async {
        let server = serve_tcp(echo, "127.0.0.1", 0, ServeOptions::new()).await?;
        assert!(server.is_serving());
        let addr = tcp_addr(&server);
        let live = TcpStream::connect(addr).await?;
        assert_eq!(round_trip(&live, b"before").await?, b"before");

        server.close();
        assert!(!server.is_serving());
        assert!(server.local_addrs().is_empty());
        let refused = TcpStream::connect(addr).await.expect_err("closed");
        assert_eq!(refused.kind(), io::ErrorKind::ConnectionRefused);
        assert_eq!(round_trip(&live, b"after").await?, b"after");

        drop(live); // the handler reads EOF and returns
        server.wait_closed().await;
        server.close(); // again: nothing happens
        Ok(())
    })
}

#[test]
fn wait_closed_waits_for_the_handlers() -> TestResult {
    run(async {
        let started = Arc::new(Event::new());
        let release = Arc::new(Event::new());
        let handler = {
            let (started, release) = (started.clone(), release.clone());
            move |_stream: TcpStream, _peer| {
                let (started, release) = (started.clone(), release.clone());
                async move {
                    started.set();
                    release.wait().await;
                }
            }
        };
        let server = serve_tcp(handler, "127.0.0.1", 0, ServeOptions::new()).await?;
        let _client = TcpStream::connect(tcp_addr(&server)).await?;
        started.wait().await;
        server.close();
        let waiter = tulip_executor::spawn({
            let server = server.clone();
            async move { server.wait_closed().await }
        });
        for _ in 0..20 {
            yield_now().await;
        }
        assert!(!waiter.is_finished(), "a handler is still running");
        release.set();
        waiter.await?;
        Ok(())
    })
}

#[test]
fn a_panicking_or_failing_handler_does_not_stop_the_server() -> TestResult {
    run(async {
        let handler = |stream: TcpStream, _peer| async move {
            let mut first = [0; 1];
            stream.read(&mut first).await?;
            match &first {
                b"!" => panic!("the handler panics on purpose"),
                b"?" => Err(io::Error::other("the handler fails on purpose")),
                _ => {
                    stream.write_all(&first).await?;
                    Ok(())
                }
            }
        };
        let server = serve_tcp(handler, "127.0.0.1", 0, ServeOptions::new()).await?;
        let addr = tcp_addr(&server);
        for poison in [b"!", b"?"] {
            let client = TcpStream::connect(addr).await?;
            client.write_all(poison).await?;
            let mut buf = [0; 1];
            // The handler is gone: EOF (or a reset).
            assert!(matches!(client.read(&mut buf).await, Ok(0) | Err(_)));
        }
        let client = TcpStream::connect(addr).await?;
        assert_eq!(round_trip(&client, b"x").await?, b"x");
        assert!(server.is_serving());
        server.close();
        server.wait_closed().await;
        Ok(())
    })
}

#[test]
fn a_handler_that_panics_before_making_its_future_does_not_stop_the_server() -> TestResult {
    use std::sync::atomic::{AtomicBool, Ordering};
    run(async {
        let panicked = std::sync::Arc::new(AtomicBool::new(false));
        let handler = {
            let panicked = panicked.clone();
            move |stream: TcpStream, peer: SocketAddr| {
                if !panicked.swap(true, Ordering::SeqCst) {
                    panic!("the handler panics on purpose, before any future");
                }
                echo(stream, peer)
            }
        };
        let server = serve_tcp(handler, "127.0.0.1", 0, ServeOptions::new()).await?;
        let addr = tcp_addr(&server);
        let first = TcpStream::connect(addr).await?;
        let mut buf = [0; 1];
        // The first handler panicked: its stream was dropped, the client reads EOF.
        assert!(matches!(first.read(&mut buf).await, Ok(0) | Err(_)));
        assert!(panicked.load(Ordering::SeqCst));
        let second = TcpStream::connect(addr).await?;
        assert_eq!(round_trip(&second, b"y").await?, b"y");
        server.close();
        drop(second);
        server.wait_closed().await;
        Ok(())
    })
}

#[test]
fn close_clients_ends_live_connections() -> TestResult {
    run(async {
        let server = serve_tcp(echo, "127.0.0.1", 0, ServeOptions::new()).await?;
        let client = TcpStream::connect(tcp_addr(&server)).await?;
        assert_eq!(round_trip(&client, b"hi").await?, b"hi");
        server.close();
        server.close_clients();
        let mut buf = [0; 8];
        assert_eq!(client.read(&mut buf).await?, 0, "the client reads EOF");
        server.wait_closed().await; // the handler read EOF too and returned
        Ok(())
    })
}

#[test]
fn abort_clients_resets_live_connections() -> TestResult {
    run(async {
        let server = serve_tcp(echo, "127.0.0.1", 0, ServeOptions::new()).await?;
        let client = TcpStream::connect(tcp_addr(&server)).await?;
        assert_eq!(round_trip(&client, b"hi").await?, b"hi");
        server.abort_clients();
        let mut buf = [0; 8];
        let error = client.read(&mut buf).await.expect_err("reset");
        assert_eq!(error.kind(), io::ErrorKind::ConnectionReset);
        server.close();
        server.wait_closed().await;
        Ok(())
    })
}

#[test]
fn start_serving_later_and_serve_forever_until_closed() -> TestResult {
    run(async {
        let options = ServeOptions::new().start_serving(false);
        let server = serve_tcp(echo, "127.0.0.1", 0, options).await?;
        assert!(!server.is_serving());
        let forever = tulip_executor::spawn({
            let server = server.clone();
            async move { server.serve_forever().await }
        });
        let client = TcpStream::connect(tcp_addr(&server)).await?;
        assert_eq!(round_trip(&client, b"later").await?, b"later");
        assert!(server.is_serving());
        assert!(matches!(
            server.serve_forever().await,
            Err(ServeError::AlreadyServingForever)
        ));

        // Closing from another task, on another thread, ends serve_forever.
        let closer = server.clone();
        std::thread::spawn(move || closer.close())
            .join()
            .map_err(|_| "close panicked")?;
        forever.await??;
        assert!(matches!(
            server.serve_forever().await,
            Err(ServeError::Closed)
        ));
        assert!(matches!(server.start_serving(), Err(ServeError::Closed)));
        drop(client);
        server.wait_closed().await;
        Ok(())
    })
}

#[test]
fn cancelling_serve_forever_closes_the_server() -> TestResult {
    run(async {
        let server = serve_tcp(echo, "127.0.0.1", 0, ServeOptions::new()).await?;
        let started = Arc::new(Event::new());
        let forever = tulip_executor::spawn({
            let (server, started) = (server.clone(), started.clone());
            async move {
                started.set();
                server.serve_forever().await
            }
        });
        yield_now().await;
        // On the loop the task has started after one yield. On the multi-thread
        // runtime a worker may not have picked it up yet, and a task cancelled before
        // it starts never runs `serve_forever` (as in asyncio): wait until it does.
        if common::test_runtime() == common::TestRuntime::MultiThread {
            started.wait().await;
        }
        forever.cancel();
        assert!(forever.await.is_err());
        assert!(!server.is_serving());
        server.wait_closed().await;
        Ok(())
    })
}

#[test]
fn binds_every_address_of_the_host() -> TestResult {
    run(async {
        let server = serve_tcp(echo, "localhost", 0, ServeOptions::new()).await?;
        let addrs = server.local_addrs();
        assert!(!addrs.is_empty());
        let ports: Vec<u16> = addrs
            .iter()
            .filter_map(|a| a.as_inet())
            .map(|a| a.port())
            .collect();
        assert!(ports.iter().all(|&port| port == ports[0]), "{ports:?}");
        for addr in &addrs {
            let client = TcpStream::connect(addr.as_inet().ok_or("inet")?).await?;
            assert_eq!(round_trip(&client, b"any").await?, b"any");
        }
        server.close();

        // "" is every interface.
        let server = serve_tcp(echo, "", 0, ServeOptions::new()).await?;
        let port = tcp_addr(&server).port();
        let client = TcpStream::connect(SocketAddr::from(([127, 0, 0, 1], port))).await?;
        assert_eq!(round_trip(&client, b"all").await?, b"all");
        server.close();
        Ok(())
    })
}

#[test]
fn unix_server_serves_and_cleans_up() -> TestResult {
    run(async {
        let path = std::env::temp_dir().join(format!("tulip-serve-{}.sock", std::process::id()));
        // A stale socket file from an earlier server is replaced.
        let stale = std::os::unix::net::UnixListener::bind(&path);
        drop(stale);
        let served = Arc::new(AtomicBool::new(false));
        let handler = {
            let served = served.clone();
            move |stream: UnixStream, _peer| {
                let served = served.clone();
                async move {
                    let mut buf = [0; 64];
                    loop {
                        let n = stream.read(&mut buf).await?;
                        if n == 0 {
                            served.store(true, Ordering::SeqCst);
                            return Ok::<_, io::Error>(());
                        }
                        stream.write_all(&buf[..n]).await?;
                    }
                }
            }
        };
        let server = serve_unix(handler, &path, ServeOptions::new()).await?;
        let pathname = server.local_addrs()[0]
            .as_unix()
            .and_then(|a| a.as_pathname().map(|p| p.to_path_buf()));
        assert_eq!(pathname.as_deref(), Some(path.as_path()));
        let client = connect_unix(&path).await?;
        client.write_all(b"unix").await?;
        let mut buf = [0; 4];
        let mut filled = 0;
        while filled < 4 {
            filled += client.read(&mut buf[filled..]).await?;
        }
        assert_eq!(&buf, b"unix");
        server.close();
        assert!(!path.exists(), "close removes the socket file");
        assert!(connect_unix(&path).await.is_err());
        drop(client);
        server.wait_closed().await;
        assert!(served.load(Ordering::SeqCst));
        Ok(())
    })
}

/// A connection of `serve_tcp_controlled` that closes and aborts by shutting down.
struct Shut(TcpStream);

impl ClientControl for Shut {
    fn close(&self) {
        let _ = self.0.shutdown(std::net::Shutdown::Both);
    }
    fn abort(&self) {
        let _ = self.0.shutdown(std::net::Shutdown::Both);
    }
}

#[test]
fn a_controlled_handler_that_panics_loses_its_connection_not_the_accept_loop() -> TestResult {
    run(async {
        let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let c = calls.clone();
        let server = serve_tcp_controlled(
            move |stream: TcpStream, _peer| {
                let n = c.fetch_add(1, Ordering::SeqCst);
                assert!(n > 0, "the first connection's handler panics");
                let conn = Arc::new(Shut(stream));
                let control = Arc::downgrade(&conn) as std::sync::Weak<dyn ClientControl>;
                let run = async move {
                    conn.0.write_all(b"served").await?;
                    Ok::<_, io::Error>(())
                };
                (run, control)
            },
            "127.0.0.1",
            0,
            ServeOptions::new(),
        )
        .await?;
        let addr = server.local_addrs()[0].as_inet().ok_or("no address")?;
        let first = TcpStream::connect(addr).await?;
        let mut buf = [0; 6];
        // Dropped by the panicking handler: EOF (or a reset), nothing served.
        assert!(matches!(first.read(&mut buf).await, Ok(0) | Err(_)));
        let second = TcpStream::connect(addr).await?;
        second.read(&mut buf).await?;
        assert_eq!(&buf, b"served");
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        server.close();
        Ok(())
    })
}
