//! Tests of `StreamReader` and `StreamWriter` over loopback TCP and Unix sockets.

use std::future::{Future, poll_fn};
use std::io::{self, BufRead, Read, Write};
use std::pin::{Pin, pin};
use std::task::Poll;
use std::time::Duration;

use futures_core::Stream;
use futures_io::{AsyncBufRead, AsyncRead, AsyncWrite};
use tulip_executor::yield_now;
use tulip_reactor::net::{TcpListener, TcpStream, UnixStream};
use tulip_streams::{
    IncompleteRead, LimitOverrun, StreamError, StreamOptions, StreamReader, StreamWriter,
    WriteError, from_tcp_stream, from_unix_stream,
};

mod common;

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

/// Runs `future` on a fresh runtime of the kind `TULIP_TEST_RUNTIME` chooses.
fn run<F>(future: F) -> TestResult
where
    F: Future<Output = TestResult> + 'static,
{
    common::block_on(future)?
}

/// Two connected loopback TCP streams.
async fn tcp_pair() -> io::Result<(TcpStream, TcpStream)> {
    let listener = TcpListener::bind("127.0.0.1:0".parse().map_err(io::Error::other)?)?;
    let client = TcpStream::connect(listener.local_addr()?).await?;
    let (server, _) = listener.accept().await?;
    Ok((client, server))
}

/// Streams over one end of a TCP pair, and the raw other end.
async fn streams_and_peer(
    options: StreamOptions,
) -> io::Result<(StreamReader, StreamWriter, TcpStream)> {
    let (a, b) = tcp_pair().await?;
    let (reader, writer) = from_tcp_stream(a, options);
    Ok((reader, writer, b))
}

/// Polls `future` for a few loop iterations; `None` if it did not finish (it is then
/// dropped).
async fn poll_briefly<F: Future>(future: F, rounds: usize) -> Option<F::Output> {
    let mut future = pin!(future);
    for _ in 0..rounds {
        if let Poll::Ready(out) = poll_fn(|cx| Poll::Ready(future.as_mut().poll(cx))).await {
            return Some(out);
        }
        yield_now().await;
    }
    None
}

/// Resets the connection: `SO_LINGER` 0, then close.
fn reset(stream: TcpStream) -> io::Result<()> {
    stream.set_linger(Some(Duration::ZERO))?;
    drop(stream);
    Ok(())
}

#[test]
fn read_n_semantics() -> TestResult {
    run(async {
        let (mut reader, _writer, peer) = streams_and_peer(StreamOptions::new()).await?;
        peer.write_all(b"abcdef").await?;
        assert_eq!(reader.read(0).await?, b"");
        assert_eq!(reader.read(2).await?, b"ab");
        assert_eq!(reader.read(100).await?, b"cdef");
        peer.write_all(b"tail").await?;
        peer.shutdown(std::net::Shutdown::Write)?;
        assert!(!reader.at_eof());
        assert_eq!(reader.read_to_end().await?, b"tail");
        assert!(reader.at_eof());
        assert_eq!(reader.read(10).await?, b"");
        assert_eq!(reader.read_to_end().await?, b"");
        Ok(())
    })
}

#[test]
fn readuntil_with_separator_split_across_reads() -> TestResult {
    run(async {
        let (mut reader, _writer, peer) = streams_and_peer(StreamOptions::new()).await?;
        let sender = tulip_executor::spawn(async move {
            peer.write_all(b"first\r").await?;
            tulip_executor::sleep(Duration::from_millis(20)).await;
            peer.write_all(b"\nsecond\r").await?;
            tulip_executor::sleep(Duration::from_millis(20)).await;
            peer.write_all(b"\n").await?;
            Ok::<_, io::Error>(peer)
        });
        assert_eq!(reader.readuntil(b"\r\n").await?, b"first\r\n");
        assert_eq!(reader.readuntil(b"\r\n").await?, b"second\r\n");
        let _peer = sender.await??;
        Ok(())
    })
}

#[test]
fn readuntil_is_cancel_safe() -> TestResult {
    run(async {
        let (mut reader, _writer, peer) = streams_and_peer(StreamOptions::new()).await?;
        peer.write_all(b"partial da").await?;
        // Reads the partial data into the buffer, then is dropped.
        assert!(poll_briefly(reader.readuntil(b"\n"), 5).await.is_none());
        peer.write_all(b"ta\nnext\n").await?;
        assert_eq!(reader.readuntil(b"\n").await?, b"partial data\n");
        assert_eq!(reader.readline().await?, b"next\n");
        Ok(())
    })
}

#[test]
fn readexactly_is_cancel_safe() -> TestResult {
    run(async {
        let (mut reader, _writer, peer) = streams_and_peer(StreamOptions::new()).await?;
        peer.write_all(b"0123").await?;
        assert!(poll_briefly(reader.readexactly(8), 5).await.is_none());
        assert!(poll_briefly(reader.read_to_end(), 5).await.is_none());
        peer.write_all(b"4567").await?;
        assert_eq!(reader.readexactly(8).await?, b"01234567");
        Ok(())
    })
}

#[test]
fn readexactly_at_eof_returns_the_partial_bytes() -> TestResult {
    run(async {
        let (mut reader, _writer, peer) = streams_and_peer(StreamOptions::new()).await?;
        peer.write_all(b"abc").await?;
        drop(peer);
        match reader.readexactly(5).await {
            Err(StreamError::IncompleteRead(IncompleteRead { partial, expected })) => {
                assert_eq!(partial, b"abc");
                assert_eq!(expected, Some(5));
            }
            other => panic!("expected IncompleteRead, got {other:?}"),
        }
        assert!(reader.at_eof());
        assert_eq!(reader.readexactly(0).await?, b"");
        Ok(())
    })
}

#[test]
fn readuntil_at_eof_is_incomplete_without_expected() -> TestResult {
    run(async {
        let (mut reader, _writer, peer) = streams_and_peer(StreamOptions::new()).await?;
        peer.write_all(b"no separator\r").await?;
        drop(peer);
        match reader.readuntil(b"\r\n").await {
            Err(StreamError::IncompleteRead(e)) => {
                assert_eq!(e.partial, b"no separator\r");
                assert_eq!(e.expected, None);
            }
            other => panic!("expected IncompleteRead, got {other:?}"),
        }
        assert!(reader.at_eof());
        Ok(())
    })
}

#[test]
fn limit_overrun_leaves_data_readable() -> TestResult {
    run(async {
        let options = StreamOptions::new().limit(8);
        let (mut reader, _writer, peer) = streams_and_peer(options).await?;
        assert_eq!(reader.limit(), 8);
        // Separator found past the limit.
        peer.write_all(b"0123456789abcdef\nrest").await?;
        match reader.readuntil(b"\n").await {
            Err(StreamError::LimitOverrun(LimitOverrun {
                consumed,
                separator_found,
            })) => {
                assert_eq!(consumed, 16);
                assert!(separator_found);
            }
            other => panic!("expected LimitOverrun, got {other:?}"),
        }
        assert_eq!(reader.readexactly(17).await?, b"0123456789abcdef\n");
        // Exactly the limit is fine.
        peer.write_all(b"6789\nabcdefghijklmnopqrstuvwxyz").await?;
        assert_eq!(reader.readuntil(b"\n").await?, b"rest6789\n");
        // No separator within the limit.
        match reader.readuntil(b"\n").await {
            Err(StreamError::LimitOverrun(e)) => assert!(!e.separator_found && e.consumed > 8),
            other => panic!("expected LimitOverrun, got {other:?}"),
        }
        peer.shutdown(std::net::Shutdown::Write)?;
        assert_eq!(reader.read_to_end().await?, b"abcdefghijklmnopqrstuvwxyz");
        Ok(())
    })
}

#[test]
fn readline_overrun_drops_the_line_as_asyncio_does() -> TestResult {
    run(async {
        let (mut reader, _writer, peer) = streams_and_peer(StreamOptions::new().limit(4)).await?;
        peer.write_all(b"far too long\nok\n").await?;
        assert!(matches!(
            reader.readline().await,
            Err(StreamError::LimitOverrun(LimitOverrun {
                separator_found: true,
                ..
            }))
        ));
        assert_eq!(reader.readline().await?, b"ok\n");
        // Without a newline, the whole buffer is dropped.
        peer.write_all(b"0123456789").await?;
        assert!(matches!(
            reader.readline().await,
            Err(StreamError::LimitOverrun(_))
        ));
        peer.write_all(b"new\n").await?;
        drop(peer);
        assert_eq!(reader.readline().await?, b"new\n");
        assert_eq!(reader.readline().await?, b"");
        Ok(())
    })
}

#[test]
fn readline_returns_the_partial_line_at_eof() -> TestResult {
    run(async {
        let (mut reader, _writer, peer) = streams_and_peer(StreamOptions::new()).await?;
        peer.write_all(b"one\ntwo").await?;
        drop(peer);
        assert_eq!(reader.readline().await?, b"one\n");
        assert_eq!(reader.readline().await?, b"two");
        assert_eq!(reader.readline().await?, b"");
        assert!(reader.at_eof());
        Ok(())
    })
}

#[test]
fn readuntil_with_several_separators() -> TestResult {
    run(async {
        let (mut reader, _writer, peer) = streams_and_peer(StreamOptions::new()).await?;
        peer.write_all(b"a;b,c long-sep d|end").await?;
        drop(peer);
        // The shortest result wins, whatever the order of the separators.
        assert_eq!(reader.readuntil_any(&[b",", b";"]).await?, b"a;");
        assert_eq!(reader.readuntil_any(&[b"long-sep", b","]).await?, b"b,");
        assert_eq!(
            reader.readuntil_any(&[b"long-sep", b"|"]).await?,
            b"c long-sep"
        );
        assert!(matches!(
            reader.readuntil_any(&[]).await,
            Err(StreamError::EmptySeparator)
        ));
        assert!(matches!(
            reader.readuntil_any(&[b"|", b""]).await,
            Err(StreamError::EmptySeparator)
        ));
        assert!(matches!(
            reader.readuntil(b"").await,
            Err(StreamError::EmptySeparator)
        ));
        assert_eq!(reader.readuntil_any(&[b"|", b"d|"]).await?, b" d|");
        assert_eq!(reader.read_to_end().await?, b"end");
        Ok(())
    })
}

#[test]
fn several_separators_on_a_tie_the_shorter_matches() -> TestResult {
    run(async {
        let (mut reader, _writer, peer) = streams_and_peer(StreamOptions::new().limit(3)).await?;
        peer.write_all(b"abc\r\n").await?;
        // "\r\n" starts at 3 (not past the limit), "\n" at 4 (past it): both end at 5,
        // and the shorter one decides the limit check, as in asyncio 3.13.
        assert!(matches!(
            reader.readuntil_any(&[b"\r\n", b"\n"]).await,
            Err(StreamError::LimitOverrun(LimitOverrun { consumed: 4, .. }))
        ));
        assert_eq!(reader.readuntil(b"\r\n").await?, b"abc\r\n");
        Ok(())
    })
}

#[test]
fn stream_of_lines() -> TestResult {
    run(async {
        let (mut reader, _writer, peer) = streams_and_peer(StreamOptions::new()).await?;
        peer.write_all(b"a\nbb\nccc").await?;
        drop(peer);
        let mut lines = Vec::new();
        while let Some(line) = poll_fn(|cx| Pin::new(&mut reader).poll_next(cx)).await {
            lines.push(line?);
        }
        assert_eq!(lines, [&b"a\n"[..], b"bb\n", b"ccc"]);
        Ok(())
    })
}

/// Reads everything through `AsyncBufRead` alone.
async fn read_all_buffered<R: AsyncBufRead + Unpin>(mut reader: R) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let n = poll_fn(|cx| {
            Pin::new(&mut reader).poll_fill_buf(cx).map_ok(|buf| {
                out.extend_from_slice(buf);
                buf.len()
            })
        })
        .await?;
        if n == 0 {
            return Ok(out);
        }
        Pin::new(&mut reader).consume(n);
    }
}

/// Writes through `AsyncWrite` alone, then closes.
async fn write_all_generic<W: AsyncWrite + Unpin>(
    mut writer: W,
    mut data: &[u8],
) -> io::Result<()> {
    while !data.is_empty() {
        let n = poll_fn(|cx| Pin::new(&mut writer).poll_write(cx, data)).await?;
        data = &data[n..];
    }
    poll_fn(|cx| Pin::new(&mut writer).poll_flush(cx)).await?;
    poll_fn(|cx| Pin::new(&mut writer).poll_close(cx)).await
}

#[test]
fn futures_io_traits_through_generic_code() -> TestResult {
    run(async {
        let (a, b) = tcp_pair().await?;
        let (mut reader_a, writer_a) = from_tcp_stream(a, StreamOptions::new());
        let (mut reader_b, writer_b) = from_tcp_stream(b, StreamOptions::new());
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 253) as u8).collect();
        write_all_generic(&writer_a, &data).await?;
        assert_eq!(read_all_buffered(&mut reader_b).await?, data);

        // AsyncRead over the same buffer.
        write_all_generic(&writer_b, b"through AsyncRead").await?;
        let mut buf = [0u8; 7];
        let n = poll_fn(|cx| Pin::new(&mut reader_a).poll_read(cx, &mut buf)).await?;
        assert_eq!(&buf[..n], &b"through"[..n]);
        let mut rest = reader_a.read_to_end().await?;
        rest.splice(0..0, buf[..n].iter().copied());
        assert_eq!(rest, b"through AsyncRead");
        Ok(())
    })
}

#[test]
fn half_close_then_read_the_echo_to_eof() -> TestResult {
    run(async {
        let (a, b) = tcp_pair().await?;
        let server = tulip_executor::spawn(async move {
            let (mut reader, writer) = from_tcp_stream(b, StreamOptions::new());
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
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
        });
        let (mut reader, writer) = from_tcp_stream(a, StreamOptions::new());
        assert!(writer.can_write_eof());
        writer.writelines([&b"one\n"[..], b"two\n", b"three"])?;
        writer.write_eof()?;
        assert!(matches!(writer.write(b"more"), Err(WriteError::EofWritten)));
        assert_eq!(reader.read_to_end().await?, b"one\ntwo\nthree");
        assert!(reader.at_eof());
        server.await?.map_err(|e| e.to_string())?;
        Ok(())
    })
}

#[test]
fn writing_after_close_is_an_error() -> TestResult {
    run(async {
        let (_reader, writer, peer) = streams_and_peer(StreamOptions::new()).await?;
        assert!(!writer.is_closing());
        writer.write(b"last words")?;
        writer.close();
        assert!(writer.is_closing());
        assert!(matches!(writer.write(b"x"), Err(WriteError::Closing)));
        assert!(matches!(
            writer.writelines([b"x"]),
            Err(WriteError::Closing)
        ));
        writer.wait_closed().await?;
        writer.wait_closed().await?;
        let mut got = Vec::new();
        let mut buf = [0u8; 64];
        loop {
            match peer.read(&mut buf).await? {
                0 => break,
                n => got.extend_from_slice(&buf[..n]),
            }
        }
        assert_eq!(got, b"last words");
        Ok(())
    })
}

#[test]
fn peername_and_sockname() -> TestResult {
    run(async {
        let (_reader, writer, peer) = streams_and_peer(StreamOptions::new()).await?;
        assert_eq!(
            writer.peername().and_then(|a| a.as_inet()),
            Some(peer.local_addr()?)
        );
        assert_eq!(
            writer.sockname().and_then(|a| a.as_inet()),
            Some(peer.peer_addr()?)
        );
        let (a, _b) = UnixStream::pair()?;
        let (_reader, writer) = from_unix_stream(a, StreamOptions::new());
        let peer = writer.peername().ok_or("no peername")?;
        assert!(peer.as_unix().is_some() && peer.as_inet().is_none());
        assert_eq!(peer.to_string(), "(unnamed)");
        Ok(())
    })
}

#[test]
fn get_extra_info_by_name_as_asyncio() -> TestResult {
    use std::os::fd::AsRawFd;
    use tulip_streams::ExtraInfo;
    run(async {
        let (_reader, writer, peer) = streams_and_peer(StreamOptions::new()).await?;
        match writer.get_extra_info("peername") {
            Some(ExtraInfo::Addr(addr)) => assert_eq!(addr.as_inet(), Some(peer.local_addr()?)),
            other => panic!("peername gave {other:?}"),
        }
        match writer.get_extra_info("sockname") {
            Some(ExtraInfo::Addr(addr)) => assert_eq!(addr.as_inet(), Some(peer.peer_addr()?)),
            other => panic!("sockname gave {other:?}"),
        }
        // The descriptor is the connection's own: its address is the sockname.
        let Some(ExtraInfo::Socket(fd)) = writer.get_extra_info("socket") else {
            panic!("socket gave nothing");
        };
        assert_ne!(fd, peer.as_raw_fd());
        // SAFETY: borrowed only for this call, while the writer keeps the socket open.
        let socket = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
        let local = socket2::SockRef::from(&socket).local_addr()?.as_socket();
        assert_eq!(local, Some(peer.peer_addr()?));
        for unknown in ["cipher", "peercert", "pipe", "", "PEERNAME"] {
            assert!(writer.get_extra_info(unknown).is_none(), "{unknown}");
        }
        Ok(())
    })
}

#[test]
fn peer_reset_surfaces_on_read_write_and_drain() -> TestResult {
    run(async {
        let (mut reader, writer, peer) = streams_and_peer(StreamOptions::new()).await?;
        reset(peer)?;
        match reader.read(10).await {
            Err(StreamError::Io(e)) => assert_eq!(e.kind(), io::ErrorKind::ConnectionReset),
            other => panic!("expected a reset, got {other:?}"),
        }
        // Every later read that needs data fails the same way.
        assert!(matches!(reader.readline().await, Err(StreamError::Io(_))));
        assert!(reader.exception().is_some());
        assert!(matches!(writer.write(b"x"), Err(WriteError::Io(_))));
        assert!(matches!(writer.drain().await, Err(WriteError::Io(_))));
        Ok(())
    })
}

#[test]
fn peer_reset_surfaces_on_write_and_drain_without_reading() -> TestResult {
    run(async {
        let (_reader, writer, peer) = streams_and_peer(StreamOptions::new()).await?;
        reset(peer)?;
        let mut failed = false;
        for _ in 0..100 {
            if writer.write(b"ping").is_err() || writer.drain().await.is_err() {
                failed = true;
                break;
            }
            yield_now().await;
        }
        assert!(failed, "writing to a reset connection never failed");
        assert!(matches!(writer.write(b"x"), Err(WriteError::Io(_))));
        assert!(matches!(writer.drain().await, Err(WriteError::Io(_))));
        assert!(writer.is_closing());
        writer.close();
        assert!(matches!(writer.wait_closed().await, Err(WriteError::Io(_))));
        Ok(())
    })
}

#[test]
fn drain_waits_for_the_low_water_mark() -> TestResult {
    run(async {
        let (_reader, writer, peer) = streams_and_peer(StreamOptions::new()).await?;
        assert!(matches!(
            writer.set_write_buffer_limits(10, 20),
            Err(WriteError::InvalidLimits { high: 10, low: 20 })
        ));
        writer.set_write_buffer_limits(4096, 1024)?;
        // Fill the socket buffers and then some: the peer reads nothing yet.
        let chunk = vec![7u8; 64 * 1024];
        let mut sent = 0;
        while writer.write_buffer_size() <= 4096 {
            writer.write(&chunk)?;
            sent += chunk.len();
            assert!(sent < 256 * 1024 * 1024, "the socket never filled");
        }
        assert!(poll_briefly(writer.drain(), 5).await.is_none());
        let reader = tulip_executor::spawn(async move {
            let mut buf = vec![0u8; 64 * 1024];
            let mut total = 0;
            while total < sent {
                total += peer.read(&mut buf).await?;
            }
            Ok::<_, io::Error>(total)
        });
        writer.drain().await?;
        assert!(writer.write_buffer_size() <= 1024 + chunk.len());
        assert_eq!(reader.await??, sent);
        Ok(())
    })
}

#[test]
fn a_writer_that_never_drains_delivers_10_mb_in_order() -> TestResult {
    const TOTAL: usize = 10 * 1024 * 1024;
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let peer = std::thread::spawn(move || -> io::Result<bool> {
        let (mut stream, _) = listener.accept()?;
        let mut data = Vec::with_capacity(TOTAL);
        stream.read_to_end(&mut data)?;
        Ok(data.len() == TOTAL && data.iter().enumerate().all(|(i, &b)| b == (i % 251) as u8))
    });
    run(async move {
        let stream = TcpStream::connect(addr).await?;
        let (_reader, writer) = from_tcp_stream(stream, StreamOptions::new());
        let data: Vec<u8> = (0..TOTAL).map(|i| (i % 251) as u8).collect();
        for chunk in data.chunks(10_007) {
            writer.write(chunk)?;
        }
        writer.close();
        writer.wait_closed().await?;
        Ok(())
    })?;
    assert!(
        peer.join().map_err(|_| "peer panicked")??,
        "data lost or reordered"
    );
    Ok(())
}

#[test]
fn bytes_written_go_out_after_the_writer_is_dropped() -> TestResult {
    run(async {
        let (reader, writer, peer) = streams_and_peer(StreamOptions::new()).await?;
        let data = vec![3u8; 4 * 1024 * 1024];
        writer.write(&data)?;
        drop(writer);
        drop(reader);
        let mut total = 0;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match peer.read(&mut buf).await? {
                0 => break,
                n => {
                    assert!(buf[..n].iter().all(|&b| b == 3));
                    total += n;
                }
            }
        }
        assert_eq!(total, data.len());
        Ok(())
    })
}

#[test]
fn interop_with_std_tcp_peers() -> TestResult {
    // A blocking std server, tulip streams as the client.
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let server = std::thread::spawn(move || -> io::Result<()> {
        let (stream, _) = listener.accept()?;
        let mut out = stream.try_clone()?;
        for line in io::BufReader::new(stream).lines() {
            writeln!(out, "echo: {}", line?)?;
        }
        Ok(())
    });
    run(async move {
        let stream = TcpStream::connect(addr).await?;
        let (mut reader, writer) = from_tcp_stream(stream, StreamOptions::new());
        writer.write(b"hello\nworld\n")?;
        writer.drain().await?;
        assert_eq!(reader.readline().await?, b"echo: hello\n");
        assert_eq!(reader.readline().await?, b"echo: world\n");
        writer.write_eof()?;
        assert_eq!(reader.read_to_end().await?, b"");
        Ok(())
    })?;
    server.join().map_err(|_| "server panicked")??;

    // Tulip streams as the server, a blocking std client.
    run(async {
        let listener = TcpListener::bind("127.0.0.1:0".parse()?)?;
        let addr = listener.local_addr()?;
        let client = std::thread::spawn(move || -> io::Result<Vec<u8>> {
            let mut stream = std::net::TcpStream::connect(addr)?;
            stream.write_all(b"question\n")?;
            stream.shutdown(std::net::Shutdown::Write)?;
            let mut answer = Vec::new();
            stream.read_to_end(&mut answer)?;
            Ok(answer)
        });
        let (stream, _) = listener.accept().await?;
        let (mut reader, writer) = from_tcp_stream(stream, StreamOptions::new());
        let question = reader.readline().await?;
        assert_eq!(question, b"question\n");
        writer.write(b"answer to ")?;
        writer.write(&question)?;
        writer.close();
        writer.wait_closed().await?;
        let answer = tulip_executor::to_thread(move || client.join())
            .await?
            .map_err(|_| "client panicked")??;
        assert_eq!(answer, b"answer to question\n");
        Ok(())
    })
}

#[test]
fn unix_streams_echo_with_half_close() -> TestResult {
    run(async {
        let (a, b) = UnixStream::pair()?;
        let server = tulip_executor::spawn(async move {
            let (mut reader, writer) = from_unix_stream(b, StreamOptions::new());
            let data = reader.read_to_end().await?;
            writer.write(&data)?;
            writer.close();
            writer.wait_closed().await?;
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
        });
        let (mut reader, writer) = from_unix_stream(a, StreamOptions::new());
        let data: Vec<u8> = (0..300_000u32).map(|i| (i % 241) as u8).collect();
        writer.write(&data)?;
        writer.write_eof()?;
        assert_eq!(reader.read_to_end().await?, data);
        server.await?.map_err(|e| e.to_string())?;
        Ok(())
    })
}

#[test]
fn unix_streams_readuntil_limits_and_a_std_peer() -> TestResult {
    let (ours, theirs) = std::os::unix::net::UnixStream::pair()?;
    let peer = std::thread::spawn(move || -> io::Result<()> {
        let mut theirs = theirs;
        theirs.write_all(b"0123456789|short|")?;
        let mut reply = [0u8; 4];
        theirs.read_exact(&mut reply)?;
        theirs.write_all(&reply)?;
        Ok(())
    });
    run(async move {
        let stream = UnixStream::from_std(ours)?;
        let (mut reader, writer) = from_unix_stream(stream, StreamOptions::new().limit(5));
        assert!(matches!(
            reader.readuntil(b"|").await,
            Err(StreamError::LimitOverrun(LimitOverrun { consumed: 10, .. }))
        ));
        assert_eq!(reader.readexactly(11).await?, b"0123456789|");
        assert_eq!(reader.readuntil(b"|").await?, b"short|");
        writer.write(b"pong")?;
        assert_eq!(reader.readexactly(4).await?, b"pong");
        match reader.readexactly(1).await {
            Err(StreamError::IncompleteRead(e)) => assert!(e.partial.is_empty()),
            other => panic!("expected IncompleteRead, got {other:?}"),
        }
        Ok(())
    })?;
    peer.join().map_err(|_| "peer panicked")??;
    Ok(())
}

#[test]
fn streams_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<StreamReader>();
    assert_send_sync::<StreamWriter>();
    assert_send_sync::<StreamError>();
    assert_send_sync::<WriteError>();
}

#[test]
fn error_messages() {
    let e = StreamError::from(IncompleteRead {
        partial: b"ab".to_vec(),
        expected: Some(5),
    });
    assert_eq!(e.to_string(), "2 bytes read on a total of 5 expected bytes");
    let e = LimitOverrun {
        consumed: 3,
        separator_found: false,
    };
    assert_eq!(
        e.to_string(),
        "the separator was not found, and the chunk exceeds the limit"
    );
    let io: io::Error = WriteError::Closing.into();
    assert_eq!(io.kind(), io::ErrorKind::BrokenPipe);
}

#[test]
fn writelines_with_many_chunks() -> TestResult {
    run(async {
        let (_reader, writer, peer) = streams_and_peer(StreamOptions::new()).await?;
        let chunks: Vec<Vec<u8>> = (0..5000u32).map(|i| format!("{i},").into_bytes()).collect();
        writer.writelines(&chunks)?;
        writer.write_eof()?;
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            match peer.read(&mut buf).await? {
                0 => break,
                n => got.extend_from_slice(&buf[..n]),
            }
        }
        assert_eq!(got, chunks.concat());
        Ok(())
    })
}
