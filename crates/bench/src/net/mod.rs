//! The network workloads (N1–N3, M2): one echo server per runtime
//! ([`servers`], with tulip's two: streams and protocols; the Python
//! peers in [`python`], the raw mio floor in [`mio_raw`]) and one load
//! generator used unchanged against all of them ([`loadgen`]), each in
//! its own process.
//!
//! The parent starts the server child (`--serve RUNTIME --read-size N`,
//! or `python3 -c SCRIPT KIND N` for a Python peer, pinned to CPU 0),
//! which prints `LISTENING <addr>` once it listens, then the load
//! generator child (`--loadgen ID ADDR --server-pid PID`, pinned to CPU 1),
//! which prints `RESULT <value>`; then it closes the server's stdin, which
//! stops it.

use std::io::{self, BufRead, Write};
use std::net::SocketAddr;
use std::sync::mpsc;
use std::thread;

use crate::rt::RuntimeId;
use crate::workloads::{Entry, Measure, Scale, Unit};

pub(crate) mod loadgen;
pub(crate) mod mio_raw;
pub(crate) mod python;
pub(crate) mod servers;

/// The prefix of the server child's one line of output.
pub(crate) const LISTENING_PREFIX: &str = "LISTENING ";

/// The server a load generator runs against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Target {
    /// Where it listens.
    pub(crate) addr: SocketAddr,
    /// The process whose RSS is the server's (M2 needs it), if known.
    pub(crate) server_pid: Option<u32>,
}

/// How a network workload is run: the server's read size and the load.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Network {
    /// The load generator; returns the workload's figure.
    pub(crate) load: fn(&Target, Scale) -> io::Result<f64>,
    /// How much each of the server's reads asks for.
    pub(crate) read_size: usize,
}

/// N1 echo_rr.
pub(crate) const N1: Entry = Entry {
    id: "N1",
    name: "echo_rr",
    unit: Unit::higher("req/s"),
    note: Some(
        "N1–N3, M2: each runtime's echo server (read up to 64 KiB, 1 KiB for M2, write it \
         back) in one process, pinned to CPU 0, and one load generator (blocking std threads) \
         in another, pinned to CPU 1 (unpinned, with a warning, where taskset is missing); the \
         tulip column is asyncio's streams API (start_server, StreamReader.read, \
         StreamWriter.write + drain), tokio's and smol's are their TcpListener with \
         read/write_all and TCP_NODELAY set as tulip sets it, asyncio and uvloop run the same \
         handler as tulip in python3 (asyncio.start_server); tulip_mt runs tulip's streams \
         server on its multi-thread runtime (2 workers), tokio_mt and smol_mt theirs on 2 \
         threads, every thread of the server process on CPU 0; mio_raw is a hand-written \
         edge-triggered echo server on one mio::Poll, the floor, not a peer; N1 runs 10 s, \
         N2 5 s; N3's client closes each connection with a reset, so that no TIME_WAIT \
         sockets pile up and slow the connects of the runtimes measured next",
    ),
    measure: Measure::Network(Network {
        load: loadgen::echo_rr,
        read_size: servers::READ_SIZE,
    }),
};

/// N2 echo_stream.
pub(crate) const N2: Entry = Entry {
    id: "N2",
    name: "echo_stream",
    unit: Unit::higher("MB/s"),
    note: None,
    measure: Measure::Network(Network {
        load: loadgen::echo_stream,
        read_size: servers::READ_SIZE,
    }),
};

/// N3 connect_rate.
pub(crate) const N3: Entry = Entry {
    id: "N3",
    name: "connect_rate",
    unit: Unit::higher("conn/s"),
    note: None,
    measure: Measure::Network(Network {
        load: loadgen::connect_rate,
        read_size: servers::READ_SIZE,
    }),
};

/// M2 idle_conns.
pub(crate) const M2: Entry = Entry {
    id: "M2",
    name: "idle_conns",
    unit: Unit::lower("bytes/conn"),
    note: Some(
        "M2: 5,000 connections opened one after another, each with one 1-byte echo round trip, \
         then left idle with the server's handler waiting in a 1 KiB read; the figure is the \
         server process's RSS (/proc/PID/statm) after minus before connecting, per connection",
    ),
    measure: Measure::Network(Network {
        load: loadgen::idle_conns,
        read_size: loadgen::IDLE_READ_SIZE,
    }),
};

/// Child mode `--serve RUNTIME`: runs `runtime`'s echo server (reads of
/// `read_size` bytes), prints `LISTENING <addr>` once it listens, and
/// stops when stdin closes.
pub(crate) fn run_server(runtime: RuntimeId, read_size: usize) -> io::Result<()> {
    raise_nofile_limit()?;
    let (stop_tx, stop_rx) = async_channel::bounded::<()>(1);
    // The parent closes our stdin to stop us; a watcher thread turns that
    // into the closing of `stop`.
    thread::spawn(move || {
        let _ = io::copy(&mut io::stdin().lock(), &mut io::sink());
        drop(stop_tx);
    });
    servers::serve(
        runtime,
        read_size,
        |target| {
            let mut stdout = io::stdout().lock();
            let _ = writeln!(stdout, "{LISTENING_PREFIX}{}", target.addr);
            let _ = stdout.flush();
        },
        stop_rx,
    )
}

/// Raises this process's soft `RLIMIT_NOFILE` to its hard limit and
/// returns the new soft limit.
pub(crate) fn raise_nofile_limit() -> io::Result<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid, writable `rlimit` for getrlimit to fill.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(io::Error::last_os_error());
    }
    if limit.rlim_cur < limit.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: limit.rlim_max,
            rlim_max: limit.rlim_max,
        };
        // SAFETY: `raised` is a valid `rlimit` that setrlimit only reads.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } != 0 {
            return Err(io::Error::last_os_error());
        }
        limit = raised;
    }
    Ok(limit.rlim_cur)
}

/// Reads the server's `LISTENING <addr>` line from `output`.
pub(crate) fn read_listening(output: impl io::Read) -> Result<SocketAddr, String> {
    let mut line = String::new();
    io::BufReader::new(output)
        .read_line(&mut line)
        .map_err(|error| format!("cannot read the server's address: {error}"))?;
    line.trim_end()
        .strip_prefix(LISTENING_PREFIX)
        .and_then(|addr| addr.parse().ok())
        .ok_or_else(|| format!("the server printed no address: {line:?}"))
}

/// Runs `runtime`'s echo server on a thread of this process (a Python
/// peer in an unpinned child) and `network`'s load against it (tests, and
/// `--one` on a network workload).
pub(crate) fn measure_in_process(
    network: Network,
    runtime: RuntimeId,
    scale: Scale,
) -> io::Result<f64> {
    raise_nofile_limit()?;
    let (stop_tx, stop_rx) = async_channel::bounded::<()>(1);
    let (target_tx, target_rx) = mpsc::channel();
    let server = thread::spawn(move || {
        servers::serve(
            runtime,
            network.read_size,
            move |target| {
                let _ = target_tx.send(target);
            },
            stop_rx,
        )
    });
    let result = match target_rx.recv() {
        Ok(target) => (network.load)(&target, scale),
        Err(_) => Err(io::Error::other("the server never listened")),
    };
    drop(stop_tx);
    let served = server
        .join()
        .map_err(|_| io::Error::other("the server panicked"))?;
    served?;
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    /// N1–N3 and M2 at tiny size against `runtime`'s server, in this
    /// process (a Python peer's server in a child). N1–N3 must give a
    /// positive throughput. M2 must complete (50 connections opened, each
    /// echoed once, the server's RSS read twice) with a finite figure;
    /// its sign is not checked: in-process, the server's RSS is this test
    /// process's, where memory freed by earlier tests may absorb 50
    /// connections without the RSS growing.
    fn all_complete_on(runtime: RuntimeId) {
        for entry in [&N1, &N2, &N3, &M2] {
            let Measure::Network(network) = entry.measure else {
                panic!("{} is a network workload", entry.id);
            };
            let value = measure_in_process(network, runtime, Scale::Tiny)
                .unwrap_or_else(|error| panic!("{} on {}: {error}", entry.id, runtime.name()));
            let plausible = if entry.id == "M2" {
                value.is_finite()
            } else {
                value.is_finite() && value > 0.0
            };
            assert!(plausible, "{} on {} gave {value}", entry.id, runtime.name());
        }
    }

    #[test]
    fn network_workloads_complete_on_tulip() {
        all_complete_on(RuntimeId::Tulip);
    }

    #[test]
    fn network_workloads_complete_on_tulip_mt() {
        all_complete_on(RuntimeId::TulipMt);
    }

    #[test]
    fn network_workloads_complete_on_tulip_protocol() {
        all_complete_on(RuntimeId::TulipProtocol);
    }

    /// tulip's echo protocol must echo exactly what it gets, also when its
    /// writes outrun the client: 4 MiB streamed on one connection, the
    /// client starting to read the echo only after a pause, so the
    /// transport's buffer fills; then the client's EOF must close the
    /// connection once everything is sent back.
    #[test]
    fn tulip_protocol_echoes_under_back_pressure_and_closes_on_eof() {
        use std::io::Read;
        let network = Network {
            load: |target, _| {
                let mut stream = std::net::TcpStream::connect(target.addr)?;
                stream.set_read_timeout(Some(std::time::Duration::from_secs(30)))?;
                let sent: Vec<u8> = (0..4 << 20).map(|i: u32| (i % 251) as u8).collect();
                let mut writer = stream.try_clone()?;
                let data = sent.clone();
                let writing = thread::spawn(move || {
                    writer.write_all(&data)?;
                    writer.shutdown(std::net::Shutdown::Write)
                });
                thread::sleep(std::time::Duration::from_millis(50));
                let mut back = Vec::new();
                stream.read_to_end(&mut back)?;
                writing
                    .join()
                    .map_err(|_| io::Error::other("writer panicked"))??;
                assert!(back == sent, "the echo differs");
                Ok(1.0)
            },
            read_size: READ_SIZE_IGNORED,
        };
        assert_eq!(
            measure_in_process(network, RuntimeId::TulipProtocol, Scale::Tiny).unwrap(),
            1.0
        );
    }

    /// The protocol server has no read size; any will do.
    const READ_SIZE_IGNORED: usize = 1;

    #[test]
    fn network_workloads_complete_on_tokio_ct() {
        all_complete_on(RuntimeId::TokioCt);
    }

    #[test]
    fn network_workloads_complete_on_tokio_mt() {
        all_complete_on(RuntimeId::TokioMt);
    }

    #[test]
    fn network_workloads_complete_on_smol() {
        all_complete_on(RuntimeId::Smol);
    }

    #[test]
    fn network_workloads_complete_on_smol_mt() {
        all_complete_on(RuntimeId::SmolMt);
    }

    #[test]
    fn network_workloads_complete_on_mio_raw() {
        all_complete_on(RuntimeId::MioRaw);
    }

    /// The Python peers, where this machine has them: skipped (with a
    /// note) without python3, and uvloop skipped without uvloop.
    #[test]
    fn network_workloads_complete_on_python_peers() {
        for runtime in [RuntimeId::Asyncio, RuntimeId::Uvloop] {
            match python::availability(runtime) {
                Ok(()) => all_complete_on(runtime),
                Err(reason) => eprintln!("skipping {}: {reason}", runtime.name()),
            }
        }
    }

    /// The floor must echo exactly what it gets, also when its writes
    /// would block: 4 MiB streamed on one connection at 1 KiB reads (many
    /// budget turns), the client starting to read the echo only after a
    /// pause, so the server's writes fill the socket and have to wait.
    #[test]
    fn mio_raw_echoes_under_back_pressure() {
        use std::io::Read;
        let network = Network {
            load: |target, _| {
                let mut stream = std::net::TcpStream::connect(target.addr)?;
                let sent: Vec<u8> = (0..4 << 20).map(|i: u32| (i % 251) as u8).collect();
                let mut writer = stream.try_clone()?;
                let data = sent.clone();
                let writing = thread::spawn(move || writer.write_all(&data));
                thread::sleep(std::time::Duration::from_millis(50));
                let mut back = vec![0; sent.len()];
                stream.read_exact(&mut back)?;
                writing
                    .join()
                    .map_err(|_| io::Error::other("writer panicked"))??;
                assert!(back == sent, "the echo differs");
                Ok(1.0)
            },
            read_size: 1024,
        };
        assert_eq!(
            measure_in_process(network, RuntimeId::MioRaw, Scale::Tiny).unwrap(),
            1.0
        );
    }

    #[test]
    fn nofile_limit_is_raised_to_the_hard_limit() {
        let soft = raise_nofile_limit().unwrap();
        assert!(soft >= 64, "{soft}");
    }

    #[test]
    fn listening_line_round_trips() {
        let addr: SocketAddr = "127.0.0.1:4242".parse().unwrap();
        let line = format!("{LISTENING_PREFIX}{addr}\nmore\n");
        assert_eq!(read_listening(line.as_bytes()), Ok(addr));
        assert!(read_listening(&b"garbage\n"[..]).is_err());
        assert!(read_listening(&b""[..]).is_err());
    }
}
