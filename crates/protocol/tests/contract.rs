//! The callback contract of stream protocols, pinned to asyncio's: `connection_made`
//! exactly once and first, `data_received` in order, at most one `eof_received`,
//! `connection_lost` exactly once and last (on close, abort, errors and panics, never
//! from inside another callback), flow control, reading paused, writes after close.

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tulip_executor::{EventLoop, spawn_local, timeout};
use tulip_protocol::{
    BaseProtocol, BufferedProtocol, Protocol, ProtocolBusy, ProtocolFailure, Transport,
    TransportError, create_connection, create_server, create_unix_server,
};
use tulip_reactor::net::TcpStream;
use tulip_sync::Event;

#[path = "../../streams/tests/common/mod.rs"]
mod common;

/// What every test may wait for: long enough never to fire on a healthy run.
const PATIENCE: Duration = Duration::from_secs(10);

/// A log of callbacks, shared by a protocol and its test.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<String>>>);

impl Log {
    fn push(&self, entry: impl Into<String>) {
        self.0.lock().unwrap().push(entry.into());
    }

    fn entries(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

/// What a [`Probe`] does besides logging.
#[derive(Clone, Copy, Default)]
struct Behaviour {
    echo: bool,
    close_on_data: bool,
    keep_open_on_eof: bool,
    panic_on_made: bool,
    panic_on_data: bool,
}

/// A protocol that logs every callback (data as text) and sets `lost` at the end.
struct Probe {
    log: Log,
    lost: Arc<Event>,
    transport: Option<Transport>,
    behaviour: Behaviour,
}

impl Probe {
    fn new(log: &Log, lost: &Arc<Event>, behaviour: Behaviour) -> Probe {
        Probe {
            log: log.clone(),
            lost: lost.clone(),
            transport: None,
            behaviour,
        }
    }
}

impl BaseProtocol for Probe {
    type Transport = Transport;

    fn connection_made(&mut self, transport: &Transport) {
        self.log.push("made");
        self.transport = Some(transport.clone());
        assert!(!self.behaviour.panic_on_made, "made to panic");
    }

    fn connection_lost(&mut self, error: Option<io::Error>) {
        match error {
            None => self.log.push("lost"),
            Some(error) => self.log.push(format!("lost: {error}")),
        }
        self.lost.set();
    }

    fn pause_writing(&mut self) {
        self.log.push("pause_writing");
    }

    fn resume_writing(&mut self) {
        self.log.push("resume_writing");
    }
}

impl Protocol for Probe {
    fn data_received(&mut self, data: &[u8]) {
        self.log
            .push(format!("data {}", String::from_utf8_lossy(data)));
        assert!(!self.behaviour.panic_on_data, "made to panic");
        let transport = self.transport.as_ref().unwrap();
        if self.behaviour.echo {
            transport.write(data);
        }
        if self.behaviour.close_on_data {
            transport.close();
            let log = self.log.clone();
            spawn_local(async move { log.push("a task spawned by data_received") }).detach();
        }
    }

    fn eof_received(&mut self) -> bool {
        self.log.push("eof");
        if let Some(transport) = &self.transport
            && self.behaviour.keep_open_on_eof
        {
            transport.write(b"bye");
            transport.close();
        }
        self.behaviour.keep_open_on_eof
    }
}

/// Runs `test` on a fresh runtime of the kind `TULIP_TEST_RUNTIME` chooses.
fn run<F: Future<Output = ()> + 'static>(test: F) {
    common::block_on(async move {
        timeout(PATIENCE, test).await.expect("the test timed out");
    })
    .unwrap();
}

/// Runs `test` on a fresh event loop, whatever `TULIP_TEST_RUNTIME` says: for what
/// only the loop promises (`spawn_local`, the order of its iterations).
fn run_on_loop<F: Future<Output = ()> + 'static>(test: F) {
    EventLoop::new()
        .unwrap()
        .run_until_complete(async move {
            timeout(PATIENCE, test).await.expect("the test timed out");
        })
        .unwrap();
}

/// Waits until `ready()` on the multi-thread runtime only. There the server's
/// callbacks run on a worker beside the test, so a fixed sleep does not show that
/// they ran (`connection_made` may still be at work): wait for them first. On the
/// loop they run while the test sleeps, and the test checks that they did: this
/// returns at once.
async fn on_the_runtime_wait_until(mut ready: impl FnMut() -> bool) {
    if common::test_runtime() == common::TestRuntime::MultiThread {
        while !ready() {
            tulip_executor::sleep(Duration::from_millis(1)).await;
        }
    }
}

/// A server of probes on 127.0.0.1, its address, the log and the `lost` event of the
/// connections it serves.
async fn probe_server(
    behaviour: Behaviour,
) -> (tulip_streams::Server, SocketAddr, Log, Arc<Event>) {
    let log = Log::default();
    let lost = Arc::new(Event::new());
    let (l, e) = (log.clone(), lost.clone());
    let server = create_server(move || Probe::new(&l, &e, behaviour), "127.0.0.1", 0)
        .await
        .unwrap();
    let addr = server.local_addrs()[0].as_inet().unwrap();
    (server, addr, log, lost)
}

/// A client connected to `server`'s first address.
async fn connect(server: &tulip_streams::Server) -> TcpStream {
    TcpStream::connect(server.local_addrs()[0].as_inet().unwrap())
        .await
        .unwrap()
}

/// Reads until EOF (or a reset, returned as the error).
async fn read_to_end(stream: &TcpStream) -> io::Result<Vec<u8>> {
    let mut all = Vec::new();
    let mut buf = vec![0; 64 * 1024];
    loop {
        match stream.read(&mut buf).await? {
            0 => return Ok(all),
            n => all.extend_from_slice(&buf[..n]),
        }
    }
}

#[test]
fn callbacks_come_in_order_made_data_eof_lost() {
    run(async {
        let (server, addr, log, lost) = probe_server(Behaviour {
            echo: true,
            ..Behaviour::default()
        })
        .await;
        let client = TcpStream::connect(addr).await.unwrap();
        client.write_all(b"one").await.unwrap();
        let mut buf = [0; 3];
        client.read(&mut buf).await.unwrap();
        assert_eq!(&buf, b"one");
        client.shutdown(std::net::Shutdown::Write).unwrap();
        // eof_received returned false: the transport closes, so the client reads EOF.
        assert_eq!(read_to_end(&client).await.unwrap(), b"");
        lost.wait().await;
        assert_eq!(log.entries(), ["made", "data one", "eof", "lost"]);
        server.close();
        server.wait_closed().await;
    });
}

/// Loop-only: `spawn_local` in `data_received`, and the loop's iterations.
#[test]
fn connection_lost_after_a_close_in_data_received_comes_in_a_later_iteration() {
    run_on_loop(async {
        let (_server, addr, log, lost) = probe_server(Behaviour {
            close_on_data: true,
            ..Behaviour::default()
        })
        .await;
        let client = TcpStream::connect(addr).await.unwrap();
        client.write_all(b"x").await.unwrap();
        lost.wait().await;
        // The task spawned inside data_received ran before connection_lost: the close
        // was carried out after the callback, in a later iteration of the loop.
        assert_eq!(
            log.entries(),
            ["made", "data x", "a task spawned by data_received", "lost"]
        );
        assert_eq!(read_to_end(&client).await.unwrap(), b"");
    });
}

/// Closes its transport in `data_received`, then logs that the callback returns.
struct Closer {
    log: Log,
    lost: Arc<Event>,
    transport: Option<Transport>,
}

impl BaseProtocol for Closer {
    type Transport = Transport;
    fn connection_made(&mut self, transport: &Transport) {
        self.log.push("made");
        self.transport = Some(transport.clone());
    }
    fn connection_lost(&mut self, error: Option<io::Error>) {
        match error {
            None => self.log.push("lost"),
            Some(error) => self.log.push(format!("lost: {error}")),
        }
        self.lost.set();
    }
}

impl Protocol for Closer {
    fn data_received(&mut self, data: &[u8]) {
        self.log
            .push(format!("data {}", String::from_utf8_lossy(data)));
        self.transport.as_ref().unwrap().close();
        self.log.push("data_received returns");
    }
}

/// The part of the test above that every runtime promises: a close inside
/// `data_received` calls `connection_lost` once, after the callback returned.
#[test]
fn connection_lost_after_a_close_in_data_received_comes_after_the_callback() {
    run(async {
        let log = Log::default();
        let lost = Arc::new(Event::new());
        let (l, e) = (log.clone(), lost.clone());
        let server = create_server(
            move || Closer {
                log: l.clone(),
                lost: e.clone(),
                transport: None,
            },
            "127.0.0.1",
            0,
        )
        .await
        .unwrap();
        let client = connect(&server).await;
        client.write_all(b"x").await.unwrap();
        lost.wait().await;
        assert_eq!(read_to_end(&client).await.unwrap(), b"");
        assert_eq!(
            log.entries(),
            ["made", "data x", "data_received returns", "lost"]
        );
    });
}

#[test]
fn eof_received_true_keeps_the_transport_half_open_for_writing() {
    run(async {
        let (_server, addr, log, lost) = probe_server(Behaviour {
            keep_open_on_eof: true,
            ..Behaviour::default()
        })
        .await;
        let client = TcpStream::connect(addr).await.unwrap();
        client.write_all(b"hi").await.unwrap();
        client.shutdown(std::net::Shutdown::Write).unwrap();
        // Written in eof_received, after the peer's EOF, then closed by the protocol.
        assert_eq!(read_to_end(&client).await.unwrap(), b"bye");
        lost.wait().await;
        assert_eq!(log.entries(), ["made", "data hi", "eof", "lost"]);
    });
}

#[test]
fn a_peer_reset_reaches_connection_lost_as_the_error() {
    run(async {
        let (_server, addr, log, lost) = probe_server(Behaviour::default()).await;
        let client = TcpStream::connect(addr).await.unwrap();
        client.write_all(b"a").await.unwrap();
        while log.entries().len() < 2 {
            tulip_executor::sleep(Duration::from_millis(1)).await;
        }
        client.set_linger(Some(Duration::ZERO)).unwrap();
        drop(client);
        lost.wait().await;
        let entries = log.entries();
        assert_eq!(entries[..2], ["made", "data a"]);
        assert_eq!(entries.len(), 3, "{entries:?}");
        assert!(entries[2].starts_with("lost: "), "{entries:?}");
        assert!(entries[2].contains("reset"), "{entries:?}");
    });
}

/// A protocol whose only job is to tell how the connection ended.
struct LostError {
    error: Arc<Mutex<Option<Option<io::Error>>>>,
    lost: Arc<Event>,
}

impl BaseProtocol for LostError {
    type Transport = Transport;
    fn connection_lost(&mut self, error: Option<io::Error>) {
        *self.error.lock().unwrap() = Some(error);
        self.lost.set();
    }
}

impl Protocol for LostError {}

#[test]
fn a_panic_in_data_received_closes_that_transport_and_the_server_goes_on() {
    run(async {
        let (server, addr, log, lost) = probe_server(Behaviour {
            panic_on_data: true,
            ..Behaviour::default()
        })
        .await;
        let client = TcpStream::connect(addr).await.unwrap();
        client.write_all(b"boom").await.unwrap();
        lost.wait().await;
        let entries = log.entries();
        assert_eq!(entries[..2], ["made", "data boom"]);
        assert_eq!(
            entries[2],
            "lost: the protocol panicked in data_received: made to panic"
        );
        assert_eq!(read_to_end(&client).await.unwrap(), b"");
        // The server still accepts and serves.
        lost.clear();
        let second = TcpStream::connect(addr).await.unwrap();
        second.write_all(b"again").await.unwrap();
        lost.wait().await;
        assert_eq!(log.entries()[3..5], ["made", "data again"]);
        assert!(server.is_serving());
    });
}

#[test]
fn a_panic_in_connection_made_is_reported_to_connection_lost_with_its_failure() {
    run(async {
        let (_server, addr, log, lost) = probe_server(Behaviour {
            panic_on_made: true,
            ..Behaviour::default()
        })
        .await;
        let client = TcpStream::connect(addr).await.unwrap();
        lost.wait().await;
        assert_eq!(
            log.entries(),
            [
                "made",
                "lost: the protocol panicked in connection_made: made to panic"
            ]
        );
        assert_eq!(read_to_end(&client).await.unwrap(), b"");
    });
}

#[test]
fn the_failure_in_connection_lost_is_typed() {
    /// Panics at once.
    struct Bomb(Arc<Mutex<Option<Option<io::Error>>>>, Arc<Event>);
    impl BaseProtocol for Bomb {
        type Transport = Transport;
        fn connection_made(&mut self, _: &Transport) {
            panic!("bomb");
        }
        fn connection_lost(&mut self, error: Option<io::Error>) {
            *self.0.lock().unwrap() = Some(error);
            self.1.set();
        }
    }
    impl Protocol for Bomb {}

    run(async {
        let error = Arc::new(Mutex::new(None));
        let lost = Arc::new(Event::new());
        let (e, l) = (error.clone(), lost.clone());
        let server = create_server(move || Bomb(e.clone(), l.clone()), "127.0.0.1", 0)
            .await
            .unwrap();
        let _client = TcpStream::connect(server.local_addrs()[0].as_inet().unwrap())
            .await
            .unwrap();
        lost.wait().await;
        let error = error.lock().unwrap().take().unwrap().unwrap();
        let failure = error
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<ProtocolFailure>())
            .unwrap();
        assert_eq!(
            failure,
            &ProtocolFailure::Panicked {
                callback: "connection_made",
                message: "bomb".to_owned()
            }
        );
    });
}

#[test]
fn a_panicking_factory_loses_one_connection_not_the_server() {
    run(async {
        let calls = Arc::new(Mutex::new(0));
        let error = Arc::new(Mutex::new(None));
        let lost = Arc::new(Event::new());
        let (c, e, l) = (calls.clone(), error.clone(), lost.clone());
        let server = create_server(
            move || {
                let calls = {
                    let mut calls = c.lock().unwrap();
                    *calls += 1;
                    *calls
                };
                assert!(calls > 1, "the first connection's factory panics");
                LostError {
                    error: e.clone(),
                    lost: l.clone(),
                }
            },
            "127.0.0.1",
            0,
        )
        .await
        .unwrap();
        let addr = server.local_addrs()[0].as_inet().unwrap();
        let first = TcpStream::connect(addr).await.unwrap();
        assert_eq!(read_to_end(&first).await.unwrap(), b"");
        let second = TcpStream::connect(addr).await.unwrap();
        second.shutdown(std::net::Shutdown::Write).unwrap();
        lost.wait().await;
        assert!(error.lock().unwrap().as_ref().unwrap().is_none());
        assert_eq!(*calls.lock().unwrap(), 2);
    });
}

/// Writes `total` bytes in `connection_made` (a pattern, so order is checked), with
/// small water marks, and logs the flow-control callbacks.
struct Flood {
    log: Log,
    total: usize,
    close_after: bool,
}

fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 251) as u8).collect()
}

impl BaseProtocol for Flood {
    type Transport = Transport;
    fn connection_made(&mut self, transport: &Transport) {
        transport
            .set_write_buffer_limits(64 * 1024, 16 * 1024)
            .unwrap();
        let data = pattern(self.total);
        for chunk in data.chunks(100 * 1024) {
            transport.write(chunk);
        }
        self.log.push(format!(
            "made, {} buffered",
            if transport.get_write_buffer_size() > 64 * 1024 {
                "over 64 KiB"
            } else {
                "little"
            }
        ));
        if self.close_after {
            transport.close();
            // Ignored, with a warning: the transport is closing.
            transport.write(b"after close");
        }
    }
    fn pause_writing(&mut self) {
        self.log.push("pause_writing");
    }
    fn resume_writing(&mut self) {
        self.log.push("resume_writing");
    }
    fn connection_lost(&mut self, error: Option<io::Error>) {
        self.log.push(format!("lost {:?}", error.map(|e| e.kind())));
    }
}

impl Protocol for Flood {}

#[test]
fn flow_control_pauses_above_the_high_mark_and_resumes_at_the_low_one() {
    run(async {
        const TOTAL: usize = 32 * 1024 * 1024;
        let log = Log::default();
        let l = log.clone();
        let server = create_server(
            move || Flood {
                log: l.clone(),
                total: TOTAL,
                close_after: true,
            },
            "127.0.0.1",
            0,
        )
        .await
        .unwrap();
        let client = connect(&server).await;
        // Not reading for a while: the server's buffer stays above the mark.
        on_the_runtime_wait_until(|| log.entries().len() >= 2).await;
        tulip_executor::sleep(Duration::from_millis(20)).await;
        assert_eq!(
            log.entries(),
            ["made, over 64 KiB buffered", "pause_writing"]
        );
        // close() sent everything, in order, and nothing written after it.
        let received = read_to_end(&client).await.unwrap();
        assert_eq!(received.len(), TOTAL);
        assert!(received == pattern(TOTAL));
        while log.entries().len() < 4 {
            tulip_executor::sleep(Duration::from_millis(1)).await;
        }
        assert_eq!(
            log.entries(),
            [
                "made, over 64 KiB buffered",
                "pause_writing",
                "resume_writing",
                "lost None"
            ]
        );
    });
}

#[test]
fn abort_drops_the_buffer_and_still_calls_connection_lost() {
    /// Floods, then aborts.
    struct Aborter(Log);
    impl BaseProtocol for Aborter {
        type Transport = Transport;
        fn connection_made(&mut self, transport: &Transport) {
            transport.write(&vec![7; 64 * 1024 * 1024]);
            transport.abort();
            assert!(transport.is_closing());
            assert_eq!(transport.get_write_buffer_size(), 0);
        }
        fn connection_lost(&mut self, error: Option<io::Error>) {
            self.0.push(format!("lost {:?}", error.map(|e| e.kind())));
        }
    }
    impl Protocol for Aborter {}

    run(async {
        let log = Log::default();
        let l = log.clone();
        let server = create_server(move || Aborter(l.clone()), "127.0.0.1", 0)
            .await
            .unwrap();
        let client = connect(&server).await;
        // Some of it may have gone before the abort; never all 64 MiB.
        let received = read_to_end(&client).await.unwrap_or_default();
        assert!(received.len() < 64 * 1024 * 1024);
        while log.entries().is_empty() {
            tulip_executor::sleep(Duration::from_millis(1)).await;
        }
        assert_eq!(log.entries(), ["lost None"]);
    });
}

/// Pauses reading in `connection_made`; the test resumes it.
struct Paused {
    log: Log,
    transport: Arc<Mutex<Option<Transport>>>,
}

impl BaseProtocol for Paused {
    type Transport = Transport;
    fn connection_made(&mut self, transport: &Transport) {
        transport.pause_reading();
        assert!(!transport.is_reading());
        *self.transport.lock().unwrap() = Some(transport.clone());
    }
}

impl Protocol for Paused {
    fn data_received(&mut self, data: &[u8]) {
        self.log.push(String::from_utf8_lossy(data));
    }
}

#[test]
fn paused_reading_delivers_nothing_until_resumed_and_loses_nothing() {
    run(async {
        let log = Log::default();
        let slot = Arc::new(Mutex::new(None));
        let (l, s) = (log.clone(), slot.clone());
        let server = create_server(
            move || Paused {
                log: l.clone(),
                transport: s.clone(),
            },
            "127.0.0.1",
            0,
        )
        .await
        .unwrap();
        let client = connect(&server).await;
        client.write_all(b"held back").await.unwrap();
        on_the_runtime_wait_until(|| slot.lock().unwrap().is_some()).await;
        tulip_executor::sleep(Duration::from_millis(20)).await;
        assert!(log.entries().is_empty());
        let transport = slot.lock().unwrap().clone().unwrap();
        transport.resume_reading();
        while log.entries().is_empty() {
            tulip_executor::sleep(Duration::from_millis(1)).await;
        }
        assert_eq!(log.entries().concat(), "held back");
    });
}

/// A buffered protocol with a tiny buffer: many reads, every byte in order.
struct Tiny {
    buf: [u8; 7],
    got: Arc<Mutex<Vec<u8>>>,
    lost: Arc<Event>,
    empty: bool,
    error: Arc<Mutex<Option<io::Error>>>,
}

impl BaseProtocol for Tiny {
    type Transport = Transport;
    fn connection_lost(&mut self, error: Option<io::Error>) {
        *self.error.lock().unwrap() = error;
        self.lost.set();
    }
}

impl BufferedProtocol for Tiny {
    fn get_buffer(&mut self, size_hint: usize) -> &mut [u8] {
        assert!(size_hint > 0);
        if self.empty {
            &mut self.buf[..0]
        } else {
            &mut self.buf
        }
    }
    fn buffer_updated(&mut self, n: usize) {
        self.got.lock().unwrap().extend_from_slice(&self.buf[..n]);
    }
}

async fn tiny_server(
    empty: bool,
) -> (
    SocketAddr,
    Arc<Mutex<Vec<u8>>>,
    Arc<Event>,
    Arc<Mutex<Option<io::Error>>>,
) {
    let got = Arc::new(Mutex::new(Vec::new()));
    let lost = Arc::new(Event::new());
    let error = Arc::new(Mutex::new(None));
    let (g, l, e) = (got.clone(), lost.clone(), error.clone());
    let server = create_server(
        move || Tiny {
            buf: [0; 7],
            got: g.clone(),
            lost: l.clone(),
            empty,
            error: e.clone(),
        },
        "127.0.0.1",
        0,
    )
    .await
    .unwrap();
    (server.local_addrs()[0].as_inet().unwrap(), got, lost, error)
}

#[test]
fn a_buffered_protocol_reads_into_its_own_memory() {
    run(async {
        let (addr, got, lost, error) = tiny_server(false).await;
        let client = TcpStream::connect(addr).await.unwrap();
        let data = pattern(100_000);
        client.write_all(&data).await.unwrap();
        client.shutdown(std::net::Shutdown::Write).unwrap();
        lost.wait().await;
        assert!(*got.lock().unwrap() == data);
        assert!(error.lock().unwrap().is_none());
    });
}

#[test]
fn an_empty_buffer_from_get_buffer_fails_the_transport() {
    run(async {
        let (addr, got, lost, error) = tiny_server(true).await;
        let client = TcpStream::connect(addr).await.unwrap();
        client.write_all(b"data").await.unwrap();
        lost.wait().await;
        assert!(got.lock().unwrap().is_empty());
        let error = error.lock().unwrap().take().unwrap();
        let failure = error.get_ref().unwrap().downcast_ref::<ProtocolFailure>();
        assert_eq!(failure, Some(&ProtocolFailure::EmptyBuffer));
    });
}

#[test]
fn close_clients_closes_and_abort_clients_aborts_every_transport() {
    run(async {
        let (server, addr, log, lost) = probe_server(Behaviour::default()).await;
        let client = TcpStream::connect(addr).await.unwrap();
        while log.entries().is_empty() {
            tulip_executor::sleep(Duration::from_millis(1)).await;
        }
        server.close_clients();
        lost.wait().await;
        assert_eq!(log.entries(), ["made", "lost"]);
        assert_eq!(read_to_end(&client).await.unwrap(), b"");

        lost.clear();
        let client = TcpStream::connect(addr).await.unwrap();
        client.write_all(b"unread by the server").await.unwrap();
        while log.entries().len() < 4 {
            tulip_executor::sleep(Duration::from_millis(1)).await;
        }
        server.abort_clients();
        lost.wait().await;
        assert_eq!(
            log.entries()[2..],
            ["made", "data unread by the server", "lost"]
        );
        // Aborted with a reset, as asyncio's abort_clients.
        let error = read_to_end(&client).await.unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::ConnectionReset);
        server.close();
        server.wait_closed().await;
    });
}

#[test]
fn create_connection_returns_after_connection_made_and_lends_the_protocol() {
    /// Checks that it cannot borrow itself through its own `ProtocolRef`.
    struct Client {
        me: Arc<Mutex<Option<tulip_protocol::ProtocolRef<Client>>>>,
        made: bool,
        busy: Option<Result<(), ProtocolBusy>>,
        ping_when_made: bool,
    }
    impl BaseProtocol for Client {
        type Transport = Transport;
        fn connection_made(&mut self, transport: &Transport) {
            self.made = true;
            if self.ping_when_made {
                transport.write(b"ping");
            }
        }
    }
    impl Protocol for Client {
        fn data_received(&mut self, _: &[u8]) {
            let me = self.me.lock().unwrap().clone().unwrap();
            self.busy = Some(me.with(|_| ()));
        }
    }

    // On the loop the echo of a ping sent in connection_made cannot arrive before
    // this test has stored `me`; on the multi-thread runtime a worker may deliver it
    // at once, so the test pings once `me` is stored.
    let ping_when_made = common::test_runtime() == common::TestRuntime::Loop;
    run(async move {
        let (_server, addr, _log, _lost) = probe_server(Behaviour {
            echo: true,
            ..Behaviour::default()
        })
        .await;
        let me = Arc::new(Mutex::new(None));
        let m = me.clone();
        let (transport, protocol) = create_connection(
            move || Client {
                me: m,
                made: false,
                busy: None,
                ping_when_made,
            },
            "127.0.0.1",
            addr.port(),
        )
        .await
        .unwrap();
        assert!(protocol.with(|p| p.made).unwrap());
        *me.lock().unwrap() = Some(protocol.clone());
        if !ping_when_made {
            transport.write(b"ping");
        }
        while protocol.with(|p| p.busy.is_none()).unwrap() {
            tulip_executor::sleep(Duration::from_millis(1)).await;
        }
        assert_eq!(protocol.with(|p| p.busy).unwrap(), Some(Err(ProtocolBusy)));
        assert_eq!(transport.peername().unwrap().as_inet(), Some(addr));
        transport.close();
        // Dropping the protocol's own reference to itself ends the cycle.
        me.lock().unwrap().take();
    });
}

#[test]
fn bad_write_buffer_limits_are_refused() {
    run(async {
        let (_server, addr, _log, _lost) = probe_server(Behaviour::default()).await;
        let (transport, _) = create_connection(
            || LostError {
                error: Arc::default(),
                lost: Arc::default(),
            },
            "127.0.0.1",
            addr.port(),
        )
        .await
        .unwrap();
        assert_eq!(
            transport.set_write_buffer_limits(10, 20),
            Err(TransportError::InvalidLimits { high: 10, low: 20 })
        );
        assert_eq!(transport.get_write_buffer_limits(), (64 * 1024, 16 * 1024));
        transport.set_write_buffer_limits(100, 0).unwrap();
        assert_eq!(transport.get_write_buffer_limits(), (100, 0));
    });
}

#[test]
fn writes_after_write_eof_or_close_are_ignored_not_sent() {
    run(async {
        let (_server, addr, log, lost) = probe_server(Behaviour {
            keep_open_on_eof: false,
            ..Behaviour::default()
        })
        .await;
        let (transport, _) = create_connection(
            || LostError {
                error: Arc::default(),
                lost: Arc::default(),
            },
            "127.0.0.1",
            addr.port(),
        )
        .await
        .unwrap();
        transport.write(b"before");
        assert!(transport.can_write_eof());
        transport.write_eof();
        transport.write(b"after eof");
        lost.wait().await;
        transport.write(b"after close");
        assert_eq!(log.entries(), ["made", "data before", "eof", "lost"]);
    });
}

#[test]
fn a_unix_server_drives_protocols_too() {
    run(async {
        let path = std::env::temp_dir().join(format!("tulip-protocol-{}.sock", std::process::id()));
        let log = Log::default();
        let lost = Arc::new(Event::new());
        let (l, e) = (log.clone(), lost.clone());
        let behaviour = Behaviour {
            echo: true,
            ..Behaviour::default()
        };
        let server = create_unix_server(move || Probe::new(&l, &e, behaviour), &path)
            .await
            .unwrap();
        let (transport, protocol) =
            tulip_protocol::create_unix_connection(|| Gather(Vec::new()), &path)
                .await
                .unwrap();
        transport.write(b"over unix");
        transport.write_eof();
        lost.wait().await;
        assert_eq!(log.entries(), ["made", "data over unix", "eof", "lost"]);
        while protocol.with(|p| p.0.len()).unwrap() < 9 {
            tulip_executor::sleep(Duration::from_millis(1)).await;
        }
        assert_eq!(protocol.with(|p| p.0.clone()).unwrap(), b"over unix");
        server.close();
        assert!(!path.exists());
    });
}

/// Gathers what it receives.
struct Gather(Vec<u8>);

impl BaseProtocol for Gather {
    type Transport = Transport;
}

impl Protocol for Gather {
    fn data_received(&mut self, data: &[u8]) {
        self.0.extend_from_slice(data);
    }
}

#[test]
fn a_connection_still_open_when_its_loop_goes_hears_connection_lost_once() {
    let log = Log::default();
    let lost = Arc::new(Event::new());
    {
        let (l, e) = (log.clone(), lost.clone());
        common::block_on(async move {
            let (_server, addr, _, _) = probe_server(Behaviour::default()).await;
            let (_transport, _protocol) = create_connection(
                move || Probe::new(&l, &e, Behaviour::default()),
                "127.0.0.1",
                addr.port(),
            )
            .await
            .unwrap();
        })
        .unwrap();
    }
    assert!(lost.is_set());
    assert_eq!(log.entries(), ["made", "lost: connection aborted"]);
}

/// Writes in a loop inside `connection_made` while the transport is not paused, then
/// the rest in `resume_writing`: asyncio's producer, with the pause known at once.
struct Producer {
    transport: Option<Transport>,
    left: usize,
    log: Log,
}

impl Producer {
    fn produce(&mut self) {
        let transport = self.transport.as_ref().unwrap();
        while self.left > 0 && !transport.is_writing_paused() {
            let n = self.left.min(16 * 1024);
            transport.write(&vec![b'p'; n]);
            self.left -= n;
        }
        if self.left == 0 {
            transport.close();
        }
    }
}

impl BaseProtocol for Producer {
    type Transport = Transport;
    fn connection_made(&mut self, transport: &Transport) {
        self.transport = Some(transport.clone());
        self.produce();
        // Stopped at the high-water mark, not after everything.
        self.log.push(format!(
            "made, buffered at most 64 KiB + 16 KiB: {}",
            transport.get_write_buffer_size() <= 80 * 1024
        ));
    }
    fn resume_writing(&mut self) {
        self.produce();
    }
}

impl Protocol for Producer {}

#[test]
fn a_producer_sees_the_pause_at_once_and_never_buffers_everything() {
    run(async {
        const TOTAL: usize = 64 * 1024 * 1024;
        let log = Log::default();
        let l = log.clone();
        let server = create_server(
            move || Producer {
                transport: None,
                left: TOTAL,
                log: l.clone(),
            },
            "127.0.0.1",
            0,
        )
        .await
        .unwrap();
        let client = connect(&server).await;
        let received = read_to_end(&client).await.unwrap();
        assert_eq!(received.len(), TOTAL);
        assert_eq!(
            log.entries(),
            ["made, buffered at most 64 KiB + 16 KiB: true"]
        );
    });
}

#[test]
fn abort_clients_resets_even_while_a_transport_clone_lives() {
    /// Keeps its transport where the test can hold on to it.
    struct Kept(Arc<Mutex<Vec<Transport>>>);
    impl BaseProtocol for Kept {
        type Transport = Transport;
        fn connection_made(&mut self, transport: &Transport) {
            self.0.lock().unwrap().push(transport.clone());
        }
    }
    impl Protocol for Kept {}

    run(async {
        let kept = Arc::new(Mutex::new(Vec::new()));
        let k = kept.clone();
        let server = create_server(move || Kept(k.clone()), "127.0.0.1", 0)
            .await
            .unwrap();
        let client = connect(&server).await;
        while kept.lock().unwrap().is_empty() {
            tulip_executor::sleep(Duration::from_millis(1)).await;
        }
        server.abort_clients();
        let error = read_to_end(&client).await.unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::ConnectionReset);
        assert!(kept.lock().unwrap()[0].is_closing());
    });
}

#[test]
fn a_nested_with_is_refused_not_deadlocked() {
    run(async {
        let (_server, addr, _log, _lost) = probe_server(Behaviour::default()).await;
        let (_transport, protocol) =
            create_connection(|| Gather(Vec::new()), "127.0.0.1", addr.port())
                .await
                .unwrap();
        let inner = protocol.with(|_| protocol.with(|_| ())).unwrap();
        assert_eq!(inner, Err(ProtocolBusy));
        // And free again afterwards.
        assert!(protocol.with(|_| ()).is_ok());
    });
}

#[test]
fn writelines_and_write_eof_send_everything_in_order_before_the_eof() {
    run(async {
        let (_server, addr, log, lost) = probe_server(Behaviour::default()).await;
        let (transport, _) = create_connection(|| Gather(Vec::new()), "127.0.0.1", addr.port())
            .await
            .unwrap();
        // More chunks than one vectored send takes, and more bytes than the socket.
        let chunks: Vec<Vec<u8>> = (0..200u8).map(|i| vec![b'a' + i % 26; 40_000]).collect();
        transport.writelines(&chunks);
        transport.write_eof();
        lost.wait().await;
        let received: String = log
            .entries()
            .iter()
            .filter_map(|e| e.strip_prefix("data "))
            .collect();
        assert!(
            received.as_bytes() == chunks.concat(),
            "{} bytes",
            received.len()
        );
        assert_eq!(log.entries().last().unwrap(), "lost");
    });
}

#[test]
fn writes_and_close_from_another_thread_reach_the_peer() {
    run(async {
        let (_server, addr, log, lost) = probe_server(Behaviour::default()).await;
        let (transport, _) = create_connection(|| Gather(Vec::new()), "127.0.0.1", addr.port())
            .await
            .unwrap();
        let writer = std::thread::spawn(move || {
            for i in 0..1000 {
                transport.write(format!("{i:04}").as_bytes());
            }
            transport.close();
        });
        lost.wait().await;
        writer.join().unwrap();
        let received: String = log
            .entries()
            .iter()
            .filter_map(|e| e.strip_prefix("data "))
            .collect();
        let expected: String = (0..1000).map(|i| format!("{i:04}")).collect();
        assert_eq!(received, expected);
    });
}
