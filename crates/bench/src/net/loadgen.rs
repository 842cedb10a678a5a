//! The load generator: plain threads and blocking `std::net` sockets, the
//! same code against every server. Each function returns its figure.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use super::{Target, raise_nofile_limit};
use crate::rss::rss_bytes_of;
use crate::workloads::Scale;

/// A read that waits this long means the server is stuck: fail the run.
const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Connects to `addr` with `TCP_NODELAY` and a read timeout.
fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
    let stream = TcpStream::connect(addr)?;
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(READ_TIMEOUT))?;
    Ok(stream)
}

/// Joins `handles`, turning a panicked thread into an error.
fn join_all<T>(handles: Vec<thread::JoinHandle<io::Result<T>>>) -> io::Result<Vec<T>> {
    handles
        .into_iter()
        .map(|handle| {
            handle
                .join()
                .map_err(|_| io::Error::other("a load generator thread panicked"))?
        })
        .collect()
}

/// N1's shape.
pub(crate) const RR_THREADS: usize = 10;
/// Connections per N1 thread.
pub(crate) const RR_PER_THREAD: usize = 5;
/// N1's request and reply size.
pub(crate) const RR_SIZE: usize = 1024;

/// N1 echo_rr: 10 threads of 5 connections; each thread writes 1 KiB on
/// each of its connections, then reads each echo back (checked), until the
/// time is up. Requests per second.
pub(crate) fn echo_rr(target: &Target, scale: Scale) -> io::Result<f64> {
    let addr = target.addr;
    let duration = scale.pick(Duration::from_secs(10), Duration::from_millis(200));
    let barrier = Arc::new(Barrier::new(RR_THREADS + 1));
    let handles: Vec<_> = (0..RR_THREADS)
        .map(|thread_index| {
            let barrier = Arc::clone(&barrier);
            thread::spawn(move || -> io::Result<u64> {
                let conns: io::Result<Vec<TcpStream>> =
                    (0..RR_PER_THREAD).map(|_| connect(addr)).collect();
                // Wait whether or not connecting worked, so nobody hangs.
                barrier.wait();
                let mut conns = conns?;
                let deadline = Instant::now() + duration;
                let mut request = [0_u8; RR_SIZE];
                let mut reply = [0_u8; RR_SIZE];
                let mut count = 0_u64;
                while Instant::now() < deadline {
                    // Vary the payload so a stale echo would not match.
                    request[0] = count as u8;
                    request[1] = thread_index as u8;
                    for conn in &mut conns {
                        conn.write_all(&request)?;
                    }
                    for conn in &mut conns {
                        conn.read_exact(&mut reply)?;
                        if reply != request {
                            return Err(io::Error::other("N1: the echo differs from the request"));
                        }
                    }
                    count += RR_PER_THREAD as u64;
                }
                Ok(count)
            })
        })
        .collect();
    barrier.wait();
    let start = Instant::now();
    let counts = join_all(handles)?;
    let elapsed = start.elapsed();
    let total: u64 = counts.iter().sum();
    Ok(total as f64 / elapsed.as_secs_f64())
}

/// N2's connections.
pub(crate) const STREAM_CONNS: usize = 4;
/// N2's write size.
pub(crate) const STREAM_CHUNK: usize = 64 * 1024;

/// N2 echo_stream: 4 connections, each with a writer thread streaming
/// 64 KiB writes until the time is up (then half-closing) and a reader
/// thread reading the echo until EOF (byte count checked). MB (10^6 bytes)
/// echoed per second, from the start until the last echo is in.
pub(crate) fn echo_stream(target: &Target, scale: Scale) -> io::Result<f64> {
    let addr = target.addr;
    let duration = scale.pick(Duration::from_secs(5), Duration::from_millis(200));
    let streams: Vec<TcpStream> = (0..STREAM_CONNS)
        .map(|_| connect(addr))
        .collect::<io::Result<_>>()?;
    let barrier = Arc::new(Barrier::new(2 * STREAM_CONNS + 1));
    let mut writers = Vec::new();
    let mut readers = Vec::new();
    for stream in streams {
        let mut write_half = stream.try_clone()?;
        let mut read_half = stream;
        let barrier_w = Arc::clone(&barrier);
        writers.push(thread::spawn(move || -> io::Result<u64> {
            barrier_w.wait();
            let deadline = Instant::now() + duration;
            let chunk = vec![0x5a_u8; STREAM_CHUNK];
            let mut sent = 0_u64;
            while Instant::now() < deadline {
                write_half.write_all(&chunk)?;
                sent += STREAM_CHUNK as u64;
            }
            write_half.shutdown(Shutdown::Write)?;
            Ok(sent)
        }));
        let barrier_r = Arc::clone(&barrier);
        readers.push(thread::spawn(move || -> io::Result<u64> {
            barrier_r.wait();
            let mut buf = vec![0_u8; STREAM_CHUNK];
            let mut received = 0_u64;
            loop {
                match read_half.read(&mut buf)? {
                    0 => return Ok(received),
                    n => received += n as u64,
                }
            }
        }));
    }
    barrier.wait();
    let start = Instant::now();
    let sent: u64 = join_all(writers)?.iter().sum();
    let received: u64 = join_all(readers)?.iter().sum();
    let elapsed = start.elapsed();
    if sent != received {
        return Err(io::Error::other(format!(
            "N2: sent {sent} bytes, {received} came back"
        )));
    }
    Ok(received as f64 / 1e6 / elapsed.as_secs_f64())
}

/// Sends `byte` on `stream` and reads its echo back, checked (`workload` names the
/// workload in the error).
fn echo_one_byte(mut stream: &TcpStream, byte: u8, workload: &str) -> io::Result<()> {
    stream.write_all(&[byte])?;
    let mut echo = [0_u8; 1];
    stream.read_exact(&mut echo)?;
    if echo != [byte] {
        return Err(io::Error::other(format!(
            "{workload}: the echo differs from the byte sent"
        )));
    }
    Ok(())
}

/// N3 connect_rate: `count` sequential connections, each sends 1 byte,
/// reads the echo (checked) and closes (with a reset, leaving no TIME_WAIT
/// behind). Connections per second.
pub(crate) fn connect_rate(target: &Target, scale: Scale) -> io::Result<f64> {
    let count = scale.pick(10_000_u32, 100);
    let start = Instant::now();
    for i in 0..count {
        let stream = connect(target.addr)?;
        echo_one_byte(&stream, i as u8, "N3")?;
        // Close with a reset (SO_LINGER 0): an orderly close would leave each of the
        // 10,000 client sockets in TIME_WAIT for a minute, and tens of thousands of
        // them make every later connect search the port range (the figures of the
        // runtimes measured next then fall by up to 20x, at random).
        socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO))?;
    }
    Ok(f64::from(count) / start.elapsed().as_secs_f64())
}

/// M2's server read size: the 1 KiB buffer per connection.
pub(crate) const IDLE_READ_SIZE: usize = 1024;

/// File descriptors M2 keeps free beyond its connections (stdio, the
/// runtime's own, `/proc` reads).
const SPARE_FDS: u64 = 64;

/// How long M2 lets the server settle after the last round trip before
/// reading its RSS: the last handler gets back to its read.
const IDLE_SETTLE: Duration = Duration::from_millis(100);

/// M2 idle_conns: `count` connections opened one after another (so the
/// listen backlog never overflows), each sending 1 byte and reading the
/// echo (checked) so that its handler is really running and back waiting
/// in its read, then all kept open and idle. Bytes of the server's RSS
/// per connection: (after the last echo − before the first connect) /
/// `count`, read from `/proc/PID/statm` of `target.server_pid`.
pub(crate) fn idle_conns(target: &Target, scale: Scale) -> io::Result<f64> {
    let count = scale.pick(5_000_u32, 50);
    let pid = target
        .server_pid
        .ok_or_else(|| io::Error::other("M2 needs the server's pid (--server-pid)"))?;
    let limit = raise_nofile_limit()?;
    let needed = u64::from(count) + SPARE_FDS;
    if limit < needed {
        return Err(io::Error::other(format!(
            "M2 needs {needed} open files for {count} connections, but RLIMIT_NOFILE's hard \
             limit is {limit}; raise it (ulimit -Hn) and run again"
        )));
    }
    let before = rss_bytes_of(pid)?;
    let mut conns = Vec::with_capacity(count as usize);
    for i in 0..count {
        let stream = connect(target.addr)?;
        echo_one_byte(&stream, i as u8, "M2")?;
        conns.push(stream);
    }
    thread::sleep(scale.pick(IDLE_SETTLE, IDLE_SETTLE / 10));
    let after = rss_bytes_of(pid)?;
    drop(conns);
    Ok((after as f64 - before as f64) / f64::from(count))
}
