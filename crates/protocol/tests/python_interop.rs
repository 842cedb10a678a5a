//! Interop with CPython's asyncio: seed 000's Python echo client against a tulip
//! protocol server, and a tulip protocol client against seed 000's Python echo server.
//!
//! The Python programs are `tests/python/echo_client.py` and
//! `tests/python/echo_server.py`: the seed's, changed only to take their address from
//! argv (the server binds port 0 and prints `PORT <n>` first) and to exit on their own.
//! Each side's transcript is checked: the Python one from its `logging` lines on
//! stderr (`%(name)s: %(message)s`), the tulip one from what its protocol recorded.
//!
//! `python3` is looked up on `PATH`. Without it these tests fail, saying so: they are
//! part of what tulip promises, not an optional extra. Every wait has a deadline, and a
//! Python process still running when its test ends is killed.

use std::io::{self, BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use tulip_executor::timeout;
use tulip_protocol::{BaseProtocol, Protocol, Transport, create_connection, create_server};
use tulip_sync::Event;

#[path = "../../streams/tests/common/mod.rs"]
mod common;

/// The only host the tests use.
const HOST: &str = "127.0.0.1";

/// What seed 000's client sends, one write each, and expects back.
const MESSAGES: [&[u8]; 3] = [b"This is the message. ", b"It will be sent ", b"in parts."];

/// The longest any step may take: far more than a healthy run needs (well under a
/// second), so that only a hang trips it.
const PATIENCE: Duration = Duration::from_secs(10);

/// The messages joined: what the echo must carry back.
fn whole_message() -> Vec<u8> {
    MESSAGES.concat()
}

// ---------------------------------------------------------------------------------
// Running the Python programs.

/// A Python program of `tests/python`, running; killed if dropped while it still runs.
struct Python {
    script: &'static str,
    child: Child,
    /// Kept open so that the server sees its stdin close only when the test is gone.
    _stdin: Option<ChildStdin>,
    stdout: Receiver<String>,
    stderr: Receiver<String>,
}

/// How a Python program ended, and its output by lines.
struct Finished {
    status: ExitStatus,
    stdout: Vec<String>,
    stderr: Vec<String>,
}

impl Python {
    /// Starts `python3 tests/python/<script> <args>`, failing the test with a clear
    /// message if `python3` is not on `PATH`.
    fn start(script: &'static str, args: &[&str]) -> Python {
        let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests", "python", script]
            .iter()
            .collect();
        let spawned = Command::new("python3")
            .arg(&path)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn();
        let mut child = match spawned {
            Ok(child) => child,
            Err(error) if error.kind() == io::ErrorKind::NotFound => panic!(
                "python3 was not found on PATH: the Python interop tests need CPython 3 \
                 to run seed 000's programs (install python3 and run again)"
            ),
            Err(error) => panic!("could not start python3 {}: {error}", path.display()),
        };
        let stdin = child.stdin.take();
        let stdout = lines_of(child.stdout.take().expect("stdout is piped"));
        let stderr = lines_of(child.stderr.take().expect("stderr is piped"));
        Python {
            script,
            child,
            _stdin: stdin,
            stdout,
            stderr,
        }
    }

    /// The first line the program prints on stdout, waiting until `deadline`.
    fn first_stdout_line(&mut self, deadline: Instant) -> String {
        let wait = deadline.saturating_duration_since(Instant::now());
        match self.stdout.recv_timeout(wait) {
            Ok(line) => line,
            Err(error) => {
                let stderr = self.kill_and_drain_stderr();
                panic!(
                    "{} printed no first line ({error:?}); its stderr:\n{}",
                    self.script,
                    stderr.join("\n")
                )
            }
        }
    }

    /// Waits until the program exits, at most until `deadline` (then it is killed and
    /// the test fails, showing its stderr), and returns its output.
    fn finish(mut self, deadline: Instant) -> Finished {
        let status = loop {
            match self.child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(5)),
                Ok(None) => {
                    let stderr = self.kill_and_drain_stderr();
                    panic!(
                        "{} did not exit in time; its stderr:\n{}",
                        self.script,
                        stderr.join("\n")
                    );
                }
                Err(error) => panic!("could not wait for {}: {error}", self.script),
            }
        };
        Finished {
            status,
            stdout: drain(&self.stdout),
            stderr: drain(&self.stderr),
        }
    }

    /// Kills the program and returns what it wrote to stderr.
    fn kill_and_drain_stderr(&mut self) -> Vec<String> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        drain(&self.stderr)
    }
}

impl Drop for Python {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Reads `pipe` line by line on a thread of its own, handing the lines over.
fn lines_of(pipe: impl Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Every line still to come from a pipe whose process has exited (the pipe's end
/// is near; a line that takes longer than the patience is a failure).
fn drain(lines: &Receiver<String>) -> Vec<String> {
    let mut drained = Vec::new();
    loop {
        match lines.recv_timeout(PATIENCE) {
            Ok(line) => drained.push(line),
            Err(RecvTimeoutError::Disconnected) => return drained,
            Err(RecvTimeoutError::Timeout) => panic!("a pipe of an exited process stayed open"),
        }
    }
}

/// The lines of a Python transcript, less asyncio's own (`asyncio: Using selector`).
fn own_lines(stderr: &[String]) -> Vec<&str> {
    stderr
        .iter()
        .map(String::as_str)
        .filter(|line| !line.starts_with("asyncio: "))
        .collect()
}

/// The bytes of Python's `repr()` of `bytes` made of printable ASCII (`b'text'`), or
/// `None` if `repr` is not one.
fn parse_bytes_repr(repr: &str) -> Option<Vec<u8>> {
    let inner = repr.strip_prefix("b'")?.strip_suffix('\'')?;
    assert!(
        !inner.contains(['\\', '\'']),
        "an escape in {repr}, which the test's messages never need"
    );
    Some(inner.as_bytes().to_vec())
}

/// The bytes of `line` when it reads `<logger>: <verb> b'...'`.
fn logged_bytes(line: &str, logger: &str, verb: &str) -> Option<Vec<u8>> {
    let rest = line
        .strip_prefix(logger)?
        .strip_prefix(": ")?
        .strip_prefix(verb)?;
    parse_bytes_repr(rest.strip_prefix(' ')?)
}

// ---------------------------------------------------------------------------------
// Test (a): seed 000's Python client against a tulip protocol server.

/// What a tulip echo server's connection saw.
#[derive(Debug, Default)]
struct Served {
    made: bool,
    received: Vec<u8>,
    eof: bool,
    /// `Some` once `connection_lost` ran: its error, as text.
    lost: Option<Option<String>>,
}

/// Seed 000's `EchoServer` in tulip: echoes what it receives and answers EOF with EOF,
/// recording what it saw.
struct EchoServer {
    transport: Option<Transport>,
    served: Arc<Mutex<Served>>,
    lost: Arc<Event>,
}

impl BaseProtocol for EchoServer {
    type Transport = Transport;

    fn connection_made(&mut self, transport: &Transport) {
        self.transport = Some(transport.clone());
        self.served.lock().unwrap().made = true;
    }

    fn connection_lost(&mut self, error: Option<io::Error>) {
        self.served.lock().unwrap().lost = Some(error.map(|e| e.to_string()));
        self.lost.set();
    }
}

impl Protocol for EchoServer {
    fn data_received(&mut self, data: &[u8]) {
        self.served.lock().unwrap().received.extend_from_slice(data);
        if let Some(transport) = &self.transport {
            transport.write(data);
        }
    }

    fn eof_received(&mut self) -> bool {
        self.served.lock().unwrap().eof = true;
        if let Some(transport) = &self.transport
            && transport.can_write_eof()
        {
            transport.write_eof();
        }
        false
    }
}

/// Runs a tulip echo server on a runtime of its own thread (of the kind
/// `TULIP_TEST_RUNTIME` chooses) until its first connection ends (or the patience
/// runs out); sends the port on `port_tx` once it listens.
fn tulip_server(port_tx: mpsc::Sender<u16>) -> Result<Served, String> {
    let served = Arc::new(Mutex::new(Served::default()));
    let lost = Arc::new(Event::new());
    let factory = {
        let (served, lost) = (served.clone(), lost.clone());
        move || EchoServer {
            transport: None,
            served: served.clone(),
            lost: lost.clone(),
        }
    };
    let outcome = common::block_on(async move {
        let server = create_server(factory, HOST, 0)
            .await
            .map_err(|e| format!("create_server failed: {e}"))?;
        let port = server.local_addrs()[0]
            .as_inet()
            .ok_or("a TCP server has an IP address")?
            .port();
        port_tx.send(port).map_err(|e| e.to_string())?;
        let waited = timeout(PATIENCE, lost.wait()).await;
        server.close();
        server.wait_closed().await;
        waited.map_err(|_| "the server's connection did not end in time".to_owned())
    })
    .map_err(|e| format!("the loop failed: {e}"))?;
    outcome?;
    let served = std::mem::take(&mut *served.lock().unwrap());
    Ok(served)
}

#[test]
fn python_client_against_tulip_server() {
    let deadline = Instant::now() + PATIENCE;
    let (port_tx, port_rx) = mpsc::channel();
    let server = thread::spawn(move || tulip_server(port_tx));
    let port = port_rx
        .recv_timeout(PATIENCE)
        .expect("the tulip server did not start listening");

    let port_arg = port.to_string();
    let client = Python::start("echo_client.py", &[HOST, &port_arg]);
    let finished = client.finish(deadline);
    let served = server
        .join()
        .expect("the tulip server's thread panicked")
        .unwrap_or_else(|error| panic!("the tulip server failed: {error}"));

    let transcript = finished.stderr.join("\n");
    assert!(
        finished.status.success(),
        "echo_client.py failed ({}):\n{transcript}",
        finished.status
    );
    assert!(
        finished.stdout.is_empty(),
        "echo_client.py printed on stdout: {:?}",
        finished.stdout
    );

    // The Python client's transcript, line by line.
    let lines = own_lines(&finished.stderr);
    let mut at = 0;
    let mut expect = |expected: &str| {
        assert_eq!(
            lines.get(at).copied(),
            Some(expected),
            "line {at} of the client's transcript:\n{transcript}"
        );
        at += 1;
    };
    expect("main: waiting for client to complete");
    expect(&format!("EchoClient: connecting to {HOST} port {port}"));
    expect("EchoClient: sending b'This is the message. '");
    expect("EchoClient: sending b'It will be sent '");
    expect("EchoClient: sending b'in parts.'");
    // The echo, in as many pieces as the network made of it.
    let mut echoed = Vec::new();
    while let Some(chunk) = lines
        .get(at)
        .and_then(|line| logged_bytes(line, "EchoClient", "received"))
    {
        assert!(!chunk.is_empty(), "an empty chunk logged:\n{transcript}");
        echoed.extend(chunk);
        at += 1;
    }
    assert_eq!(
        String::from_utf8_lossy(&echoed),
        String::from_utf8_lossy(&whole_message()),
        "the echo the Python client received:\n{transcript}"
    );
    let mut expect = |expected: &str| {
        assert_eq!(
            lines.get(at).copied(),
            Some(expected),
            "line {at} of the client's transcript:\n{transcript}"
        );
        at += 1;
    };
    expect("EchoClient: received EOF");
    expect("EchoClient: server closed connection");
    expect("main: closing event loop");
    assert_eq!(lines.len(), at, "lines after the end:\n{transcript}");

    // And what the tulip server saw.
    assert!(served.made, "connection_made was not called: {served:?}");
    assert_eq!(
        String::from_utf8_lossy(&served.received),
        String::from_utf8_lossy(&whole_message()),
        "what the tulip server received"
    );
    assert!(served.eof, "the tulip server saw no EOF: {served:?}");
    assert_eq!(
        served.lost,
        Some(None),
        "the tulip server's connection_lost"
    );
}

// ---------------------------------------------------------------------------------
// Test (b): a tulip protocol client against seed 000's Python server.

/// What the tulip client saw.
#[derive(Debug, Default)]
struct Heard {
    /// The client's own address, from `connection_made`.
    local: Option<SocketAddr>,
    received: Vec<u8>,
    eof: bool,
    /// `Some` once `connection_lost` ran: its error, as text.
    lost: Option<Option<String>>,
}

/// Seed 000's `EchoClient` in tulip: sends the messages and EOF, records the answer,
/// and sets `lost` at the end.
struct EchoClient {
    transport: Option<Transport>,
    heard: Heard,
    lost: Arc<Event>,
}

impl BaseProtocol for EchoClient {
    type Transport = Transport;

    fn connection_made(&mut self, transport: &Transport) {
        self.transport = Some(transport.clone());
        self.heard.local = transport.sockname().and_then(|addr| addr.as_inet());
        for msg in MESSAGES {
            transport.write(msg);
        }
        if transport.can_write_eof() {
            transport.write_eof();
        }
    }

    fn connection_lost(&mut self, error: Option<io::Error>) {
        self.heard.lost = Some(error.map(|e| e.to_string()));
        self.lost.set();
    }
}

impl Protocol for EchoClient {
    fn data_received(&mut self, data: &[u8]) {
        self.heard.received.extend_from_slice(data);
    }

    fn eof_received(&mut self) -> bool {
        self.heard.eof = true;
        if let Some(transport) = &self.transport {
            transport.close();
        }
        false
    }
}

/// Connects a tulip [`EchoClient`] to `port` and runs it until its connection ends.
fn tulip_client(port: u16) -> Result<Heard, String> {
    let run = async move {
        let lost = Arc::new(Event::new());
        let client = EchoClient {
            transport: None,
            heard: Heard::default(),
            lost: lost.clone(),
        };
        let (_transport, protocol) = create_connection(move || client, HOST, port)
            .await
            .map_err(|e| format!("create_connection failed: {e}"))?;
        lost.wait().await;
        protocol
            .with(|client| std::mem::take(&mut client.heard))
            .map_err(|e| e.to_string())
    };
    common::block_on(timeout(PATIENCE, run))
        .map_err(|e| format!("the loop failed: {e}"))?
        .map_err(|_| "the tulip client's connection did not end in time".to_owned())?
}

#[test]
fn tulip_client_against_python_server() {
    let deadline = Instant::now() + PATIENCE;
    let mut server = Python::start("echo_server.py", &[HOST]);
    let first = server.first_stdout_line(deadline);
    let port: u16 = first
        .strip_prefix("PORT ")
        .and_then(|port| port.parse().ok())
        .unwrap_or_else(|| panic!("echo_server.py's first line is not `PORT <n>`: {first:?}"));

    let heard = tulip_client(port);
    let finished = server.finish(deadline);
    let transcript = finished.stderr.join("\n");
    let heard = heard
        .unwrap_or_else(|error| panic!("the tulip client failed: {error}; server:\n{transcript}"));

    // What the tulip client saw.
    assert_eq!(
        String::from_utf8_lossy(&heard.received),
        String::from_utf8_lossy(&whole_message()),
        "the echo the tulip client received"
    );
    assert!(heard.eof, "the tulip client saw no EOF: {heard:?}");
    assert_eq!(heard.lost, Some(None), "the tulip client's connection_lost");
    let local = heard
        .local
        .expect("the client's transport knows its address");

    // The Python server's transcript, line by line.
    assert!(
        finished.status.success(),
        "echo_server.py failed ({}):\n{transcript}",
        finished.status
    );
    assert!(
        finished.stdout.is_empty(),
        "echo_server.py printed more on stdout: {:?}",
        finished.stdout
    );
    let logger = format!("EchoServer_{}_{}", local.ip(), local.port());
    let lines = own_lines(&finished.stderr);
    let mut at = 0;
    let mut expect = |expected: &str| {
        assert_eq!(
            lines.get(at).copied(),
            Some(expected),
            "line {at} of the server's transcript:\n{transcript}"
        );
        at += 1;
    };
    expect(&format!("main: starting up on {HOST} port {port}"));
    expect(&format!("{logger}: connection accepted"));
    // Each piece received is sent back at once, in as many pieces as the network made.
    let mut received = Vec::new();
    while let Some(chunk) = lines
        .get(at)
        .and_then(|line| logged_bytes(line, &logger, "received"))
    {
        let sent = lines
            .get(at + 1)
            .and_then(|line| logged_bytes(line, &logger, "sent"));
        assert_eq!(
            sent.as_ref(),
            Some(&chunk),
            "line {} should send back what line {at} received:\n{transcript}",
            at + 1
        );
        received.extend(chunk);
        at += 2;
    }
    assert_eq!(
        String::from_utf8_lossy(&received),
        String::from_utf8_lossy(&whole_message()),
        "what the Python server received:\n{transcript}"
    );
    let mut expect = |expected: &str| {
        assert_eq!(
            lines.get(at).copied(),
            Some(expected),
            "line {at} of the server's transcript:\n{transcript}"
        );
        at += 1;
    };
    expect(&format!("{logger}: received EOF"));
    expect(&format!("{logger}: closing"));
    expect("main: closing server");
    expect("main: closing event loop");
    assert_eq!(lines.len(), at, "lines after the end:\n{transcript}");
}

// ---------------------------------------------------------------------------------
// The parsing the transcripts rely on.

#[test]
fn bytes_reprs_parse_and_mismatches_do_not() {
    assert_eq!(
        parse_bytes_repr("b'in parts.'"),
        Some(b"in parts.".to_vec())
    );
    assert_eq!(parse_bytes_repr("EOF"), None);
    assert_eq!(
        logged_bytes("EchoClient: received b'It will '", "EchoClient", "received"),
        Some(b"It will ".to_vec())
    );
    assert_eq!(
        logged_bytes("EchoClient: received EOF", "EchoClient", "received"),
        None
    );
    assert_eq!(
        logged_bytes("EchoServer_x: sent b'a'", "EchoClient", "sent"),
        None
    );
}
