//! The network workloads (N1–N3): one echo server per runtime
//! ([`servers`]) and one load generator used unchanged against all of them
//! ([`loadgen`]), each in its own process.
//!
//! The parent starts the server child (`--serve RUNTIME`, pinned to CPU 0),
//! which prints `LISTENING <addr>` once it listens, then the load
//! generator child (`--loadgen ID ADDR`, pinned to CPU 1), which prints
//! `RESULT <value>`; then it closes the server's stdin, which stops it.

use std::io::{self, BufRead, Write};
use std::net::SocketAddr;
use std::sync::mpsc;
use std::thread;

use crate::rt::RuntimeId;
use crate::workloads::{Entry, Measure, Scale, Unit};

pub(crate) mod loadgen;
pub(crate) mod servers;

/// The prefix of the server child's one line of output.
pub(crate) const LISTENING_PREFIX: &str = "LISTENING ";

/// N1 echo_rr.
pub(crate) const N1: Entry = Entry {
    id: "N1",
    name: "echo_rr",
    unit: Unit::higher("req/s"),
    note: Some(
        "N1–N3: each runtime's echo server (read up to 64 KiB, write it back) in one process, \
         pinned to CPU 0, and one load generator (blocking std threads) in another, pinned to \
         CPU 1 (unpinned, with a warning, where taskset is missing); the tulip column is \
         asyncio's streams API (start_server, StreamReader.read, StreamWriter.write + drain), \
         tokio's and smol's are their TcpListener with read/write_all and TCP_NODELAY set as \
         tulip sets it; N1 runs 10 s, N2 5 s",
    ),
    measure: Measure::Network(loadgen::echo_rr),
};

/// N2 echo_stream.
pub(crate) const N2: Entry = Entry {
    id: "N2",
    name: "echo_stream",
    unit: Unit::higher("MB/s"),
    note: None,
    measure: Measure::Network(loadgen::echo_stream),
};

/// N3 connect_rate.
pub(crate) const N3: Entry = Entry {
    id: "N3",
    name: "connect_rate",
    unit: Unit::higher("conn/s"),
    note: None,
    measure: Measure::Network(loadgen::connect_rate),
};

/// Child mode `--serve RUNTIME`: runs `runtime`'s echo server, prints
/// `LISTENING <addr>` once it listens, and stops when stdin closes.
pub(crate) fn run_server(runtime: RuntimeId) -> io::Result<()> {
    let (stop_tx, stop_rx) = async_channel::bounded::<()>(1);
    // The parent closes our stdin to stop us; a watcher thread turns that
    // into the closing of `stop`.
    thread::spawn(move || {
        let _ = io::copy(&mut io::stdin().lock(), &mut io::sink());
        drop(stop_tx);
    });
    servers::serve(
        runtime,
        |addr| {
            let mut stdout = io::stdout().lock();
            let _ = writeln!(stdout, "{LISTENING_PREFIX}{addr}");
            let _ = stdout.flush();
        },
        stop_rx,
    )
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

/// Runs `runtime`'s echo server on a thread of this process and `load`
/// against it (tests, and `--one` on a network workload).
pub(crate) fn measure_in_process(
    load: fn(SocketAddr, Scale) -> io::Result<f64>,
    runtime: RuntimeId,
    scale: Scale,
) -> io::Result<f64> {
    let (stop_tx, stop_rx) = async_channel::bounded::<()>(1);
    let (addr_tx, addr_rx) = mpsc::channel();
    let server = thread::spawn(move || {
        servers::serve(
            runtime,
            move |addr| {
                let _ = addr_tx.send(addr);
            },
            stop_rx,
        )
    });
    let result = match addr_rx.recv() {
        Ok(addr) => load(addr, scale),
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

    /// N1–N3 at tiny size against `runtime`'s server, in this process.
    fn all_complete_on(runtime: RuntimeId) {
        for entry in [&N1, &N2, &N3] {
            let Measure::Network(load) = entry.measure else {
                panic!("{} is a network workload", entry.id);
            };
            let value = measure_in_process(load, runtime, Scale::Tiny)
                .unwrap_or_else(|error| panic!("{} on {}: {error}", entry.id, runtime.name()));
            assert!(
                value.is_finite() && value > 0.0,
                "{} on {} gave {value}",
                entry.id,
                runtime.name()
            );
        }
    }

    #[test]
    fn network_workloads_complete_on_tulip() {
        all_complete_on(RuntimeId::Tulip);
    }

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
    fn listening_line_round_trips() {
        let addr: SocketAddr = "127.0.0.1:4242".parse().unwrap();
        let line = format!("{LISTENING_PREFIX}{addr}\nmore\n");
        assert_eq!(read_listening(line.as_bytes()), Ok(addr));
        assert!(read_listening(&b"garbage\n"[..]).is_err());
        assert!(read_listening(&b""[..]).is_err());
    }
}
