//! The text of every error a user of tulip can meet, pinned by snapshots.
//!
//! One snapshot per crate, `tests/snapshots/error_messages__<crate>.snap`,
//! reads as a catalogue: one `Type::Variant: message` line per way to fail.
//! Each error is obtained the way a user meets it, through the `tulip`
//! facade, wherever the public API can trigger it deterministically. Three
//! variants wrap an operating-system failure that no test can cause on
//! demand, and are constructed instead (their variants are public):
//! `RunError::Io`, `BuildError::Io` and `SignalError::Io`. No variant is out
//! of reach. A changed message fails its snapshot: review the new text, and
//! accept it if it still reads well.
//!
//! What varies from run to run is replaced before snapshotting: task ids by
//! `[id]`, loopback ports by `[port]`, and the operating system's wording of
//! an error (`Connection refused (os error 111)`) by `[os error]`; the line
//! names the error's kind instead where it matters.

use std::cell::RefCell;
use std::fmt::Display;
use std::future::{Future, pending};
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::pin::pin;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use tulip::net::{TcpListener, TcpStream};
use tulip::process::signal::{SignalError, add_signal_handler, signal};
use tulip::process::{Command, Stdio};
use tulip::protocol::{
    BaseProtocol, BufferedProtocol, DatagramEndpoint, DatagramProtocol, DatagramTransport,
    ProtocolFailure, Transport, create_connection, create_datagram_endpoint,
};
use tulip::reactor::{Clock, Reactor};
use tulip::streams::{
    ConnectConfig, ServeOptions, StreamError, StreamOptions, StreamReader, StreamWriter,
    WriteError, connect_tcp_addrs, open_connection_with, start_server_with,
};
use tulip::sync::{LockGuard, PutNowaitError};
use tulip::{
    Barrier, BoundedSemaphore, BuildError, Condition, Event, EventLoop, Lock, Promise, Queue,
    RunError, Runtime, Semaphore, TaskGroup,
};

/// `SIGWINCH`, 28 on Linux and macOS alike; ignored by default, so a
/// handler installed for it for a moment disturbs nothing.
const SIGWINCH: i32 = 28;

/// `SIGKILL`, which no program can catch.
const SIGKILL: i32 = 9;

/// How long a test waits for a callback it caused, at most: a bound against
/// hanging, never a measure.
const PATIENCE: Duration = Duration::from_secs(10);

/// The lines of one snapshot, each `what: message`.
#[derive(Default)]
struct Catalogue {
    lines: Vec<String>,
}

impl Catalogue {
    /// Adds the message of `error` under the name `what`.
    fn add(&mut self, what: impl Display, error: &dyn Display) {
        self.lines.push(format!("{what}: {error}"));
    }

    /// Adds every line of `other`, after these.
    fn extend(&mut self, other: Catalogue) {
        self.lines.extend(other.lines);
    }

    /// The snapshot's text, with what varies between runs replaced.
    fn text(&self) -> String {
        let text = self.lines.join("\n");
        let text = scrub_number_after(&text, "task ", "[id]");
        let text = scrub_number_after(&text, "127.0.0.1:", "[port]");
        scrub_os_errors(&text)
    }
}

/// The error of `result`, which must have failed; unlike `unwrap_err`, it
/// needs no `Debug` of the success type.
#[track_caller]
fn error_of<T, E>(result: Result<T, E>) -> E {
    match result {
        Ok(_) => panic!("expected an error, got a success"),
        Err(error) => error,
    }
}

/// `text` with each run of digits that follows `prefix` replaced by
/// `placeholder`.
fn scrub_number_after(text: &str, prefix: &str, placeholder: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(prefix) {
        let after = at + prefix.len();
        out.push_str(&rest[..after]);
        let digits = rest[after..]
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len() - after);
        if digits > 0 {
            out.push_str(placeholder);
        }
        rest = &rest[after + digits..];
    }
    out.push_str(rest);
    out
}

/// `text` with each error worded by the operating system (from the last
/// `": "` before ` (os error N)` up to its closing parenthesis) replaced by
/// `[os error]`: libc words it, and numbers it, its own way.
fn scrub_os_errors(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(" (os error ") {
        let Some(close) = rest[at..].find(')') else {
            break;
        };
        let start = rest[..at].rfind(": ").map_or(0, |colon| colon + 2);
        out.push_str(&rest[..start]);
        out.push_str("[os error]");
        rest = &rest[at + close + 1..];
    }
    out.push_str(rest);
    out
}

/// Polls `future` once on this thread, outside any loop, as an executor
/// foreign to tulip would.
fn poll_once<F: Future>(future: F) -> Poll<F::Output> {
    pin!(future).poll(&mut Context::from_waker(Waker::noop()))
}

/// An error as the operating system reports it (the text is scrubbed), for
/// the variants that wrap one and that no test can provoke.
fn os_error(errno: i32) -> io::Error {
    io::Error::from_raw_os_error(errno)
}

/// Panics with `message` as a `&'static str` payload; typed as the output of
/// a task, so that the task's future has a plain type.
fn explode<T>(message: &'static str) -> T {
    std::panic::panic_any(message)
}

// ---- executor ----

/// Pins every executor error: of tasks, loops, spawning, runtimes, timeouts and TaskGroups.
#[test]
fn executor_errors() {
    let mut catalogue = Catalogue::default();
    join_errors(&mut catalogue);
    run_errors(&mut catalogue);
    spawn_errors(&mut catalogue);
    build_errors(&mut catalogue);
    time_and_threadsafe_errors(&mut catalogue);
    task_group_errors(&mut catalogue);
    insta::assert_snapshot!("executor", catalogue.text());
}

/// Every way awaiting a task's handle can fail.
fn join_errors(catalogue: &mut Catalogue) {
    let lines = tulip::run(async {
        let mut catalogue = Catalogue::default();
        let cancelled = tulip::spawn(pending::<()>());
        cancelled.cancel();
        catalogue.add("JoinError::Cancelled", &error_of(cancelled.await));

        let str_panic = tulip::spawn(async { explode::<()>("a &str payload") });
        catalogue.add(
            "JoinError::Panicked (&str payload)",
            &error_of(str_panic.await),
        );
        let string_panic = tulip::spawn(async {
            std::panic::panic_any(String::from("a String payload"));
        });
        catalogue.add(
            "JoinError::Panicked (String payload)",
            &error_of(string_panic.await),
        );
        let other_panic = tulip::spawn(async {
            std::panic::panic_any(42_u8);
        });
        catalogue.add(
            "JoinError::Panicked (u8 payload)",
            &error_of(other_panic.await),
        );

        let mut twice = tulip::spawn(async { 7 });
        assert_eq!((&mut twice).await.ok(), Some(7));
        catalogue.add("JoinError::OutputTaken", &error_of((&mut twice).await));
        catalogue
    })
    .unwrap();
    catalogue.extend(lines);
}

/// Every way running an event loop can fail.
fn run_errors(catalogue: &mut Catalogue) {
    let closed = EventLoop::new().unwrap();
    closed.close().unwrap();
    catalogue.add(
        "RunError::Closed",
        &error_of(closed.run_until_complete(async {})),
    );

    let outer = Rc::new(EventLoop::new().unwrap());
    let inner = outer.clone();
    let nested = outer
        .run_until_complete(async move { error_of(inner.run_until_complete(async {})) })
        .unwrap();
    catalogue.add("RunError::AlreadyRunning", &nested);

    let another = EventLoop::new()
        .unwrap()
        .run_until_complete(async {
            let second = EventLoop::new().unwrap();
            error_of(second.run_until_complete(async {}))
        })
        .unwrap();
    catalogue.add("RunError::AnotherLoopRunning", &another);

    let stopped = EventLoop::new().unwrap();
    stopped.stop();
    catalogue.add(
        "RunError::Stopped",
        &error_of(stopped.run_until_complete(pending::<()>())),
    );

    let panicked = EventLoop::new()
        .unwrap()
        .run_until_complete(async { explode::<()>("the main future panicked") });
    catalogue.add("RunError::Task", &error_of(panicked));

    // Constructed: the OS's readiness API (epoll) does not fail on demand.
    catalogue.add("RunError::Io", &RunError::Io(os_error(9)));
}

/// Every way handing work to a loop or runtime can fail.
fn spawn_errors(catalogue: &mut Catalogue) {
    let closed = EventLoop::new().unwrap();
    closed.close().unwrap();
    catalogue.add("SpawnError::Closed", &error_of(closed.spawn(async {})));

    let event_loop = EventLoop::new().unwrap();
    let handle = event_loop.handle();
    let wrong_thread = std::thread::spawn(move || error_of(handle.call_soon(|| {})))
        .join()
        .unwrap();
    catalogue.add("SpawnError::WrongThread", &wrong_thread);

    catalogue.add(
        "SpawnError::NoRunningLoop",
        &error_of(tulip::task::Builder::new().spawn(async {})),
    );

    let runtime = Runtime::multi_thread().worker_threads(1).build().unwrap();
    let needs_loop = runtime
        .block_on(async { error_of(tulip::task::Builder::new().spawn_local(async {})) })
        .unwrap();
    catalogue.add("SpawnError::NeedsEventLoop", &needs_loop);

    catalogue.add("NoRunningLoop", &error_of(tulip::Handle::current()));
}

/// Every way building a multi-thread runtime can fail.
fn build_errors(catalogue: &mut Catalogue) {
    catalogue.add(
        "BuildError::NoWorkers",
        &error_of(Runtime::multi_thread().worker_threads(0).build()),
    );
    catalogue.add(
        "BuildError::TooManyWorkers",
        &error_of(Runtime::multi_thread().worker_threads(65_536).build()),
    );
    // Constructed: the OS does not refuse a thread (EAGAIN) on demand.
    catalogue.add("BuildError::Io", &BuildError::Io(os_error(11)));
}

/// A timeout on virtual time, and the results of a threadsafe submission.
fn time_and_threadsafe_errors(catalogue: &mut Catalogue) {
    let virtual_loop = EventLoop::builder().virtual_time().build().unwrap();
    let slow = tulip::sleep(Duration::from_secs(3600));
    let timed_out = virtual_loop
        .run_until_complete(tulip::timeout(Duration::from_secs(1), slow))
        .unwrap();
    catalogue.add("TimeoutError", &error_of(timed_out));

    let event_loop = EventLoop::new().unwrap();
    let future = event_loop
        .handle()
        .run_coroutine_threadsafe(async { 3 })
        .unwrap();
    // Nothing runs the loop yet: the result cannot be there.
    catalogue.add(
        "ThreadsafeError::Timeout",
        &error_of(future.result(Some(Duration::ZERO))),
    );
    future.cancel();
    event_loop.run_until_complete(tulip::yield_now()).unwrap();
    catalogue.add(
        "ThreadsafeError::Task (cancelled)",
        &error_of(future.result(Some(PATIENCE))),
    );
}

/// Panics with a payload that is not a string when dropped: a child that
/// fails while being cancelled.
struct PanicOnDrop;

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        std::panic::panic_any(7_u8);
    }
}

/// Spawning into a TaskGroup refused, and the failures its join reports.
fn task_group_errors(catalogue: &mut Catalogue) {
    catalogue.add(
        "GroupSpawnError::Spawn (no running loop)",
        &error_of(TaskGroup::<()>::new().spawn(async { Ok(()) })),
    );

    let lines = tulip::run(async {
        let mut catalogue = Catalogue::default();
        let group = TaskGroup::<&'static str>::new();
        let spawner = group.spawner();
        // Polled first, it waits; the parser's failure cancels it, and its
        // guard panics as it is dropped: a second failure.
        group
            .spawn_named("cleanup", async {
                let _guard = PanicOnDrop;
                pending::<Result<(), &'static str>>().await
            })
            .unwrap()
            .detach();
        group
            .spawn_named("parser", async { Err::<(), _>("bad input") })
            .unwrap()
            .detach();
        tulip::yield_now().await;
        catalogue.add(
            "GroupSpawnError::ShuttingDown",
            &error_of(group.spawn(async { Ok(()) })),
        );
        let failed = error_of(group.join().await);
        catalogue.add("TaskGroupError (2 failures)", &failed);
        for failure in failed.failures() {
            let cause = if failure.is_panic() { "panic" } else { "error" };
            catalogue.add(format!("ChildFailure ({cause})"), failure);
        }
        catalogue.add(
            "GroupSpawnError::Finished",
            &error_of(spawner.spawn(async { Ok(()) })),
        );

        let group = TaskGroup::<&'static str>::new();
        group
            .spawn_named("worker", async { explode::<Result<(), _>>("boom") })
            .unwrap()
            .detach();
        let failed = error_of(group.join().await);
        catalogue.add("TaskGroupError (1 failure)", &failed);
        catalogue.add("ChildFailure (&str panic)", &failed.failures()[0]);
        catalogue
    })
    .unwrap();
    catalogue.extend(lines);
}

// ---- sync ----

/// Pins every error of the locks, semaphores, barriers, conditions and queues (tulip-sync).
#[tulip::test]
async fn sync_errors() {
    let mut catalogue = Catalogue::default();

    let lock = Lock::new(0);
    let held = lock.try_lock().unwrap();
    catalogue.add("TryLockError", &error_of(lock.try_lock()));
    drop(held);

    let empty = Semaphore::new(0);
    catalogue.add("TryAcquireError", &error_of(empty.try_acquire()));
    let bounded = BoundedSemaphore::new(2);
    catalogue.add(
        "AcquireError (BoundedSemaphore)",
        &error_of(bounded.acquire_many(3).await),
    );
    let unbounded = Semaphore::new(1);
    catalogue.add(
        "AcquireError (Semaphore)",
        &error_of(unbounded.acquire_many(Semaphore::MAX_PERMITS + 1).await),
    );
    catalogue.add("ReleaseError", &error_of(bounded.release()));

    catalogue.add("InvalidParties", &error_of(Barrier::new(0)));
    let barrier = Barrier::new(2).unwrap();
    barrier.abort();
    catalogue.add("BrokenBarrier", &error_of(barrier.wait().await));

    let condition = Condition::new(0);
    let other = Lock::new(0);
    let foreign: LockGuard<'_, i32> = other.lock().await;
    catalogue.add("ForeignGuard", &error_of(condition.wait(foreign).await));

    let queue = Queue::new(1);
    queue.put_nowait(1).unwrap();
    catalogue.add("PutNowaitError::QueueFull", &error_of(queue.put_nowait(2)));
    let empty = Queue::<i32>::new(0);
    catalogue.add("GetNowaitError::QueueEmpty", &error_of(empty.get_nowait()));
    catalogue.add("TaskDoneError", &error_of(empty.task_done()));

    let shut = Queue::<i32>::new(0);
    shut.shutdown(false);
    let refused: PutNowaitError<i32> = error_of(shut.put_nowait(3));
    catalogue.add("PutNowaitError::QueueShutDown", &refused);
    catalogue.add(
        "GetNowaitError::QueueShutDown",
        &error_of(shut.get_nowait()),
    );
    catalogue.add("QueueShutDown<i32> (put)", &error_of(shut.put(4).await));
    catalogue.add("QueueShutDown<()> (get)", &error_of(shut.get().await));

    let promise = Promise::new();
    catalogue.add("PromiseError::NotDone", &error_of(promise.result()));
    promise.set_result(1).unwrap();
    catalogue.add("InvalidStateError<i32>", &error_of(promise.set_result(2)));
    let cancelled = Promise::<i32>::new();
    cancelled.cancel();
    catalogue.add("PromiseError::Cancelled", &error_of(cancelled.await));

    insta::assert_snapshot!("sync", catalogue.text());
}

// ---- streams ----

/// Pins every StreamError, WriteError, ServeError and ConnectError, over loopback connections.
#[test]
fn streams_errors() {
    let mut catalogue = Catalogue::default();
    catalogue.extend(tulip::run(reader_and_writer_errors()).unwrap());
    catalogue.extend(tulip::run(reset_errors()).unwrap());
    catalogue.add("WriteError::NoRunningLoop", &write_without_a_loop());
    catalogue.extend(tulip::run(serve_errors()).unwrap());
    catalogue.add(
        "ServeError::Spawn (loop closed)",
        &start_serving_after_close(),
    );
    catalogue.extend(tulip::run(connect_errors()).unwrap());
    insta::assert_snapshot!("streams", catalogue.text());
}

/// A loopback connection: the client's streams, made with `options`, and
/// the server's socket.
async fn loopback(options: StreamOptions) -> (StreamReader, StreamWriter, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let port = listener.local_addr().unwrap().port();
    // The kernel completes the handshake before `accept`: connect first.
    let (reader, writer) = open_connection_with("127.0.0.1", port, &ConnectConfig::new(), options)
        .await
        .unwrap();
    let (server, _) = listener.accept().await.unwrap();
    (reader, writer, server)
}

/// The reader's limit and EOF errors, and the writer's misuse errors.
async fn reader_and_writer_errors() -> Catalogue {
    let mut catalogue = Catalogue::default();
    let (mut reader, writer, server) = loopback(StreamOptions::new().limit(4)).await;

    // On loopback a write lands in the peer's buffer at once: each read
    // below sees all of it.
    server.write_all(b"abcdefgh\n").await.unwrap();
    catalogue.add(
        "StreamError::LimitOverrun (separator found)",
        &error_of(reader.readuntil(b"\n").await),
    );
    reader.readexactly(9).await.unwrap();
    server.write_all(b"ijklmnop").await.unwrap();
    catalogue.add(
        "StreamError::LimitOverrun (separator not found)",
        &error_of(reader.readuntil(b"\n").await),
    );
    reader.readexactly(8).await.unwrap();
    catalogue.add(
        "StreamError::EmptySeparator",
        &error_of(reader.readuntil(b"").await),
    );
    server.write_all(b"xy").await.unwrap();
    server.shutdown(Shutdown::Write).unwrap();
    catalogue.add(
        "StreamError::IncompleteRead (readexactly)",
        &error_of(reader.readexactly(5).await),
    );
    catalogue.add(
        "StreamError::IncompleteRead (readuntil)",
        &error_of(reader.readuntil(b"\n").await),
    );

    catalogue.add(
        "WriteError::InvalidLimits",
        &error_of(writer.set_write_buffer_limits(1, 2)),
    );
    writer.write_eof().unwrap();
    catalogue.add("WriteError::EofWritten", &error_of(writer.write(b"late")));
    writer.close();
    catalogue.add("WriteError::Closing", &error_of(writer.write(b"later")));
    catalogue
}

/// The errors of a connection the peer reset.
async fn reset_errors() -> Catalogue {
    let mut catalogue = Catalogue::default();
    let (mut reader, writer, server) = loopback(StreamOptions::new()).await;
    // Closing a socket with unread data resets the connection.
    writer.write(b"never read").unwrap();
    drop(server);
    let read = error_of(reader.read(10).await);
    let kind = match &read {
        StreamError::Io(error) => format!("{:?}", error.kind()),
        other => format!("not an I/O error: {other:?}"),
    };
    catalogue.add(format_args!("StreamError::Io ({kind})"), &read);
    let write = error_of(writer.write(b"more"));
    let kind = match &write {
        WriteError::Io(error) => format!("{:?}", error.kind()),
        other => format!("not an I/O error: {other:?}"),
    };
    catalogue.add(format_args!("WriteError::Io ({kind})"), &write);
    catalogue
}

/// The error of sending a writer's buffer after its loop has closed, from
/// outside any loop.
fn write_without_a_loop() -> WriteError {
    let event_loop = EventLoop::new().unwrap();
    let (writer, server) = event_loop
        .run_until_complete(async {
            let (_reader, writer, server) = loopback(StreamOptions::new()).await;
            // More than the kernel takes while the peer reads nothing: the
            // rest stays in the writer's buffer.
            writer.write(&vec![0; 64 << 20]).unwrap();
            (writer, server)
        })
        .unwrap();
    event_loop.close().unwrap();
    let Poll::Ready(outcome) = poll_once(writer.drain()) else {
        panic!("drain waited instead of failing");
    };
    drop(server);
    error_of(outcome)
}

/// The errors of serving a server that is closed, or already served.
async fn serve_errors() -> Catalogue {
    let mut catalogue = Catalogue::default();
    let server = start_server_with(
        |_reader, _writer| async {},
        "127.0.0.1",
        0,
        ServeOptions::new(),
        StreamOptions::new(),
    )
    .await
    .unwrap();
    let forever = tulip::spawn_local({
        let server = server.clone();
        async move { server.serve_forever().await }
    });
    tulip::yield_now().await;
    catalogue.add(
        "ServeError::AlreadyServingForever",
        &error_of(server.serve_forever().await),
    );
    server.close();
    forever.await.unwrap().unwrap();
    catalogue.add("ServeError::Closed", &error_of(server.start_serving()));
    catalogue
}

/// The error of starting to serve once the server's loop is closed.
fn start_serving_after_close() -> impl Display {
    let event_loop = EventLoop::new().unwrap();
    let server = event_loop
        .run_until_complete(start_server_with(
            |_reader, _writer| async {},
            "127.0.0.1",
            0,
            ServeOptions::new().start_serving(false),
            StreamOptions::new(),
        ))
        .unwrap()
        .unwrap();
    event_loop.close().unwrap();
    error_of(server.start_serving())
}

/// Connecting to no address, to one closed port, and to two.
async fn connect_errors() -> Catalogue {
    let mut catalogue = Catalogue::default();
    // Ports nothing listens on: bound, noted, and closed again.
    let closed = || {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
    };
    let config = ConnectConfig::new();
    catalogue.add(
        "ConnectError (no address)",
        &error_of(connect_tcp_addrs(&[], &config).await),
    );
    let one: [SocketAddr; 1] = [closed()];
    catalogue.add(
        "ConnectError (one address)",
        &error_of(connect_tcp_addrs(&one, &config).await),
    );
    let two: [SocketAddr; 2] = [closed(), closed()];
    catalogue.add(
        "ConnectError (two addresses)",
        &error_of(connect_tcp_addrs(&two, &config).await),
    );
    let opened = error_of(
        open_connection_with("127.0.0.1", one[0].port(), &config, StreamOptions::new()).await,
    );
    let inner_is_connect_error = opened
        .get_ref()
        .is_some_and(|inner| inner.is::<tulip::streams::ConnectError>());
    catalogue.add(
        format_args!(
            "io::Error from open_connection ({:?}, wraps a ConnectError: {inner_is_connect_error})",
            opened.kind()
        ),
        &opened,
    );
    catalogue
}

// ---- protocol ----

/// Pins every TransportError, ProtocolBusy and ProtocolFailure, over loopback sockets.
#[test]
fn protocol_errors() {
    let catalogue = tulip::run(async {
        let mut catalogue = Catalogue::default();
        let (unconnected, protocol) =
            create_datagram_endpoint(|| Quiet, DatagramEndpoint::new().local_addr("127.0.0.1", 0))
                .await
                .unwrap();
        catalogue.add(
            "TransportError::InvalidLimits",
            &error_of(unconnected.set_write_buffer_limits(1, 2)),
        );
        catalogue.add(
            "TransportError::NoAddress",
            &error_of(unconnected.sendto(b"where to?", None)),
        );
        let port = unconnected.sockname().unwrap().port();
        let (connected, _) = create_datagram_endpoint(
            || Quiet,
            DatagramEndpoint::new().remote_addr("127.0.0.1", port),
        )
        .await
        .unwrap();
        let elsewhere = SocketAddr::from(([127, 0, 0, 1], 9));
        catalogue.add(
            "TransportError::WrongAddress",
            &error_of(connected.sendto(b"astray", Some(elsewhere))),
        );
        let busy = protocol.with(|_| error_of(protocol.with(|_| ()))).unwrap();
        catalogue.add("ProtocolBusy", &busy);
        unconnected.close();
        connected.close();

        let lost = Lost::default();
        let (_transport, _protocol) = create_datagram_endpoint(
            {
                let lost = lost.clone();
                move || PanicsWhenMade(lost)
            },
            DatagramEndpoint::new().local_addr("127.0.0.1", 0),
        )
        .await
        .unwrap();
        catalogue.add("ProtocolFailure::Panicked", &lost.failure().await);

        let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let port = listener.local_addr().unwrap().port();
        let lost = Lost::default();
        let (_transport, _protocol) = create_connection(
            {
                let lost = lost.clone();
                move || EmptyBuffer(lost)
            },
            "127.0.0.1",
            port,
        )
        .await
        .unwrap();
        let (server, _) = listener.accept().await.unwrap();
        server
            .write_all(b"data to read into nothing")
            .await
            .unwrap();
        catalogue.add("ProtocolFailure::EmptyBuffer", &lost.failure().await);
        catalogue
    })
    .unwrap();
    insta::assert_snapshot!("protocol", catalogue.text());
}

/// A datagram protocol that does nothing.
struct Quiet;

impl BaseProtocol for Quiet {
    type Transport = DatagramTransport;
}

impl DatagramProtocol for Quiet {}

/// What a protocol's `connection_lost` was given, and when.
#[derive(Clone, Default)]
struct Lost {
    error: Arc<Mutex<Option<io::Error>>>,
    called: Arc<Event>,
}

impl Lost {
    /// Records the error `connection_lost` was given.
    fn record(&self, error: Option<io::Error>) {
        *self.error.lock().unwrap() = error;
        self.called.set();
    }

    /// Waits for `connection_lost`, and gives the [`ProtocolFailure`] inside
    /// its error.
    async fn failure(&self) -> ProtocolFailure {
        tulip::timeout(PATIENCE, self.called.wait())
            .await
            .expect("connection_lost was not called");
        let error = self.error.lock().unwrap().take();
        let error = error.expect("connection_lost was given no error");
        match error.get_ref().and_then(|inner| inner.downcast_ref()) {
            Some(failure) => ProtocolFailure::clone(failure),
            None => panic!("not a ProtocolFailure: {error:?}"),
        }
    }
}

/// A datagram protocol whose `connection_made` panics.
struct PanicsWhenMade(Lost);

impl BaseProtocol for PanicsWhenMade {
    type Transport = DatagramTransport;

    fn connection_made(&mut self, _transport: &DatagramTransport) {
        panic!("boom");
    }

    fn connection_lost(&mut self, error: Option<io::Error>) {
        self.0.record(error);
    }
}

impl DatagramProtocol for PanicsWhenMade {}

/// A buffered protocol that offers no room to read into.
struct EmptyBuffer(Lost);

impl BaseProtocol for EmptyBuffer {
    type Transport = Transport;

    fn connection_lost(&mut self, error: Option<io::Error>) {
        self.0.record(error);
    }
}

impl BufferedProtocol for EmptyBuffer {
    fn get_buffer(&mut self, _size_hint: usize) -> &mut [u8] {
        &mut []
    }

    fn buffer_updated(&mut self, _n: usize) {}
}

// ---- process ----

/// Pins the io::Error of a failed subprocess spawn (naming the program) and every SignalError.
#[test]
fn process_errors() {
    let mut catalogue = Catalogue::default();

    let no_loop = error_of(Command::new("tulip-no-such-program").spawn());
    catalogue.add(
        format_args!(
            "io::Error from Command::spawn, outside a loop ({:?})",
            no_loop.kind()
        ),
        &no_loop,
    );
    let lines = tulip::run(async {
        let mut catalogue = Catalogue::default();
        let missing = error_of(Command::new("tulip-no-such-program").spawn());
        catalogue.add(
            format_args!(
                "io::Error from Command::spawn, a program that does not exist ({:?})",
                missing.kind()
            ),
            &missing,
        );
        let directory = error_of(Command::new("/").spawn());
        catalogue.add(
            format_args!(
                "io::Error from Command::spawn, a directory ({:?})",
                directory.kind()
            ),
            &directory,
        );
        let misdirected = error_of(Command::new("true").stdin(Stdio::Stdout).spawn());
        catalogue.add(
            format_args!(
                "io::Error from Command::spawn, Stdio::Stdout as stdin ({:?})",
                misdirected.kind()
            ),
            &misdirected,
        );

        catalogue.add("SignalError::InvalidSignal", &error_of(signal(1000)));
        catalogue.add("SignalError::Forbidden", &error_of(signal(SIGKILL)));
        catalogue
    })
    .unwrap();
    catalogue.extend(lines);

    catalogue.add("SignalError::NoRunningLoop", &error_of(signal(SIGWINCH)));
    let runtime = Runtime::multi_thread().worker_threads(1).build().unwrap();
    let on_runtime = runtime
        .block_on(async { error_of(add_signal_handler(SIGWINCH, || {})) })
        .unwrap();
    catalogue.add("SignalError::NeedsEventLoop", &on_runtime);
    catalogue.add("SignalError::LoopClosed", &add_handler_while_closing());
    // Constructed: the socket pair and sigaction do not fail on demand.
    catalogue.add("SignalError::Io", &SignalError::Io(os_error(24)));

    insta::assert_snapshot!("process", catalogue.text());
}

/// Adds a signal handler as it is dropped, and keeps the outcome.
struct AddHandlerOnDrop(Rc<RefCell<Option<Result<(), SignalError>>>>);

impl Drop for AddHandlerOnDrop {
    fn drop(&mut self) {
        *self.0.borrow_mut() = Some(add_signal_handler(SIGWINCH, || {}));
    }
}

/// The error of adding a signal handler from a task's destructor while the
/// loop closes (and drops its tasks).
fn add_handler_while_closing() -> SignalError {
    let outcome = Rc::new(RefCell::new(None));
    let event_loop = EventLoop::new().unwrap();
    let guard = AddHandlerOnDrop(outcome.clone());
    event_loop
        .spawn(async move {
            let _guard = guard;
            pending::<()>().await;
        })
        .unwrap()
        .detach();
    event_loop.run_until_complete(tulip::yield_now()).unwrap();
    event_loop.close().unwrap();
    let outcome = outcome.borrow_mut().take();
    error_of(outcome.expect("the task was not dropped"))
}

// ---- reactor ----

/// Pins the reactor's errors: every ClockError, and NoReactor.
#[test]
fn reactor_errors() {
    let mut catalogue = Catalogue::default();
    catalogue.add(
        "ClockError::Real",
        &error_of(Clock::real().advance(Duration::from_secs(1))),
    );
    catalogue.add(
        "ClockError::Overflow",
        &error_of(Clock::virtual_time().advance(Duration::MAX)),
    );
    catalogue.add("NoReactor", &error_of(Reactor::current()));
    insta::assert_snapshot!("reactor", catalogue.text());
}

/// Pins what the scrubbing helpers replace: task ids, loopback ports and OS error texts only.
#[test]
fn scrubbing_replaces_only_what_varies() {
    let text = "task 12 of 3 task(s): 127.0.0.1:8080: Connection refused (os error 111); \
                127.0.0.1:1: Broken pipe (os error 32)";
    let text = scrub_number_after(text, "task ", "[id]");
    let text = scrub_number_after(&text, "127.0.0.1:", "[port]");
    assert_eq!(
        scrub_os_errors(&text),
        "task [id] of 3 task(s): 127.0.0.1:[port]: [os error]; 127.0.0.1:[port]: [os error]"
    );
}
