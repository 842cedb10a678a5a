//! asyncio, all of it, in Rust.
//!
//! tulip gives Rust programmers Python's asyncio: an event loop with
//! `call_soon` and `call_later`, tasks and their combinators ([`gather!`],
//! [`wait`], [`wait_for`], [`timeout`], [`shield`], [`as_completed`],
//! [`TaskGroup`]), synchronisation primitives and queues, streams, protocols
//! and transports, subprocesses and signals — under asyncio's names and with
//! its semantics, in idiomatic Rust (`Result`s, guards, builders, `Drop`).
//! Where asyncio runs one loop per thread, tulip also has a multi-thread
//! [`Runtime`] whose work-stealing workers share one reactor.
//!
//! ```
//! use std::time::Duration;
//!
//! async fn compute(x: u64, y: u64) -> u64 {
//!     tulip::sleep(Duration::from_millis(1)).await;
//!     x + y
//! }
//!
//! let sum = tulip::run(async {
//!     let (a, b) = tulip::gather!(compute(1, 2), compute(3, 4)).await;
//!     a + b
//! })?;
//! assert_eq!(sum, 10);
//! # Ok::<(), tulip::RunError>(())
//! ```
//!
//! # The crates
//!
//! This crate is the facade: it re-exports the tulip crates, each under a
//! module of its own, and the names a program reaches for most at the top
//! level ([`run`], [`spawn`], [`sleep`], [`gather!`], [`timeout`], ...) and in
//! the [`prelude`]. Each crate can also be used on its own.
//!
//! | module | crate | what it holds | asyncio |
//! |---|---|---|---|
//! | [`task`], [`time`], [`combinators`], [`runtime`] and the top level | [`tulip_executor`] | the [`EventLoop`], the multi-thread [`Runtime`], tasks, the blocking pool, timeouts, the combinators | the event loop, `asyncio.run`, tasks, `gather`, `wait`, `TaskGroup` |
//! | [`sync`] | [`tulip_sync`] | `Lock`, `Event`, `Condition`, `Semaphore`, `BoundedSemaphore`, `Barrier`, the queues, `Promise`; they work under any runtime | `asyncio.Lock` ... `asyncio.Queue`, `asyncio.Future` |
//! | [`streams`] | [`tulip_streams`] | `open_connection`, `start_server`, `StreamReader`, `StreamWriter`, `Server` | streams |
//! | [`protocol`] | [`tulip_protocol`] | `Protocol`, `BufferedProtocol`, `DatagramProtocol`, their transports, `create_server`, `create_connection`, `create_datagram_endpoint` | protocols and transports |
//! | [`process`] | [`tulip_process`] | `create_subprocess_exec`/`_shell`, `Command`, `Process`, signal handlers | subprocesses, `add_signal_handler` |
//! | [`net`], [`reactor`] | [`tulip_reactor`] | the reactor on mio, timers, clocks, TCP, UDP and Unix sockets, pipes | the selector under the loop |
//! | [`main`], [`test`] | [`tulip_macros`] | `#[tulip::main]`, `#[tulip::test]` | `asyncio.run(main())` |
//!
//! The repository's `docs/guide.md` puts every asyncio API beside its tulip
//! counterpart, and `cargo run --release --example tour` runs the programs
//! tulip grew from, one after another.
//!
//! # Cargo features
//!
//! Every crate is on by default; leave out what a program does not use with
//! `default-features = false` and a list of these. The event loop, tasks,
//! combinators, time and sockets (`tulip-executor`, `tulip-reactor`) are
//! always in.
//!
//! | feature | brings in |
//! |---|---|
//! | `sync` | [`sync`] and its names at the top level |
//! | `streams` | [`streams`] and its top-level functions |
//! | `protocol` | [`protocol`] (and `streams`, whose `Server` it returns) |
//! | `process` | [`process`] (and `streams`, whose reader and writer it hands out) |
//! | `macros` | [`main`] and [`test`] (and the proc-macro build they need) |

#[doc(inline)]
pub use tulip_executor::{
    AbortOnDropHandle, AsCompleted, BuildError, Builder, CallbackHandle, ChildFailure,
    ConcurrentFuture, EventLoop, ExceptionContext, ExceptionHandler, GroupSpawnError, GroupSpawner,
    Handle, JoinError, JoinHandle, NoRunningLoop, PanicPayload, ReturnWhen, RunError, Runtime,
    SpawnError, Task, TaskGroup, TaskGroupError, TaskId, TaskState, ThreadsafeError,
    ThreadsafeHandle, Timeout, TimeoutError, TimerHandle, all_tasks, as_completed, current_task,
    default_exception_handler, gather, gather_all, run, shield, shield_local, sleep, sleep_until,
    spawn, spawn_blocking, spawn_local, timeout, timeout_at, to_thread, try_gather, wait, wait_for,
    yield_now,
};

#[cfg(feature = "sync")]
#[doc(inline)]
pub use tulip_sync::{
    Barrier, BoundedSemaphore, Condition, Event, LifoQueue, Lock, LockGuard, PriorityQueue,
    Promise, Queue, Semaphore, SemaphorePermit,
};

#[cfg(feature = "streams")]
#[doc(inline)]
pub use tulip_streams::{
    Server, StreamReader, StreamWriter, open_connection, open_unix_connection, start_server,
    start_unix_server,
};

/// What most asyncio programs use, for a glob import: `use tulip::prelude::*;`
/// is this crate's `import asyncio`.
///
/// ```
/// use std::time::Duration;
/// use tulip::prelude::*;
///
/// let (first, second) = run(async {
///     let slow = spawn(async {
///         sleep(Duration::from_millis(2)).await;
///         "slow"
///     });
///     let fast = spawn_local(async { "fast" });
///     let both = gather!(slow, fast);
///     timeout(Duration::from_secs(5), both).await
/// })??;
/// assert_eq!((first?, second?), ("slow", "fast"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub mod prelude {
    #[doc(no_inline)]
    pub use crate::{
        EventLoop, Handle, JoinError, JoinHandle, ReturnWhen, Runtime, TaskGroup, TimeoutError,
        as_completed, gather, run, shield, sleep, spawn, spawn_blocking, spawn_local, timeout,
        wait, wait_for, yield_now,
    };

    #[cfg(feature = "sync")]
    #[doc(no_inline)]
    pub use crate::sync::{
        Barrier, BoundedSemaphore, Condition, Event, LifoQueue, Lock, PriorityQueue, Promise,
        Queue, Semaphore,
    };

    #[cfg(feature = "streams")]
    #[doc(no_inline)]
    pub use crate::streams::{
        StreamReader, StreamWriter, open_connection, open_unix_connection, start_server,
        start_unix_server,
    };

    #[cfg(feature = "protocol")]
    #[doc(no_inline)]
    pub use crate::protocol::{
        BufferedProtocol, DatagramProtocol, DatagramTransport, Protocol, Transport,
        create_connection, create_datagram_endpoint, create_server,
    };

    #[cfg(feature = "process")]
    #[doc(no_inline)]
    pub use crate::process::{Command, Stdio, create_subprocess_exec, create_subprocess_shell};
}

/// Tasks: spawning with options, handles, introspection.
pub mod task {
    #[doc(inline)]
    pub use tulip_executor::task::*;
}

/// The loop's clock: sleeping, deadlines, timeouts.
pub mod time {
    #[doc(inline)]
    pub use tulip_executor::time::*;
    #[doc(inline)]
    pub use tulip_reactor::{Clock, Timer};
}

/// The multi-thread runtime: its [`Builder`](runtime::Builder), returned by
/// [`Runtime::multi_thread`].
pub mod runtime {
    #[doc(inline)]
    pub use tulip_executor::runtime::*;
}

/// The task combinators: gather, wait, shield, as_completed, TaskGroup.
pub mod combinators {
    #[doc(inline)]
    pub use tulip_executor::combinators::*;
}

/// Synchronisation primitives and queues: `Lock`, `Event`, `Condition`,
/// `Semaphore`, `BoundedSemaphore`, `Barrier`, `Queue`, `LifoQueue`,
/// `PriorityQueue`, and `Promise` (asyncio's `Future`) (the `tulip-sync`
/// crate, which also works under other runtimes; feature `sync`).
#[cfg(feature = "sync")]
pub mod sync {
    #[doc(inline)]
    pub use tulip_sync::*;
}

/// asyncio's streams: `open_connection`, `start_server`, `StreamReader`,
/// `StreamWriter`, `Server` (the `tulip-streams` crate; feature `streams`).
#[cfg(feature = "streams")]
pub mod streams {
    #[doc(inline)]
    pub use tulip_streams::*;
}

/// Sockets on the reactor: TCP, UDP and Unix (`tulip_reactor::net`).
pub mod net {
    #[doc(inline)]
    pub use tulip_reactor::net::*;
}

/// asyncio's protocols and transports: `Protocol`, `BufferedProtocol`,
/// `DatagramProtocol`, `Transport`, `create_server`, `create_connection`,
/// `create_datagram_endpoint` (the `tulip-protocol` crate; feature
/// `protocol`).
#[cfg(feature = "protocol")]
pub mod protocol {
    #[doc(inline)]
    pub use tulip_protocol::*;
}

/// asyncio's subprocesses and signals (the `tulip-process` crate; feature
/// `process`).
#[cfg(feature = "process")]
pub mod process {
    #[doc(inline)]
    pub use tulip_process::*;
}

/// The reactor under the loop: I/O readiness, timers and clocks.
pub mod reactor {
    #[doc(inline)]
    pub use tulip_reactor::*;
}

/// Runs `async fn main` on an event loop (asyncio's `asyncio.run(main())`),
/// or with `flavor = "multi_thread"` (and `worker_threads = N`) on the
/// multi-thread [`Runtime`]. A panic in `main` is resumed on the calling
/// thread; `main` may return a `Result`, as a plain `main` may.
///
/// ```
/// #[tulip::main]
/// async fn main() {
///     let answer = tulip::spawn(async { 6 * 7 }).await.unwrap();
///     assert_eq!(answer, 42);
/// }
/// ```
///
/// ```
/// #[tulip::main(flavor = "multi_thread", worker_threads = 2)]
/// async fn main() -> Result<(), tulip::JoinError> {
///     let on_a_worker = tulip::spawn(async { std::thread::current().name().map(str::to_owned) });
///     assert!(on_a_worker.await?.unwrap().starts_with("tulip-worker-"));
///     Ok(())
/// }
/// ```
///
/// Misuse is a compile error that says what to write: a function that is
/// not `async`, one with arguments or generic parameters, an unknown option,
/// `worker_threads` without `flavor = "multi_thread"`.
#[cfg(feature = "macros")]
pub use tulip_macros::main;

/// Runs an `async fn` test on a fresh event loop; `virtual_time` puts the
/// loop on a virtual clock, so that a test of timeouts runs instantly and
/// deterministically; `flavor = "multi_thread"` (and `worker_threads = N`)
/// runs it on the multi-thread [`Runtime`].
///
/// ```
/// # // Doctests do not run `#[test]` functions: this only shows the shape.
/// use std::time::Duration;
///
/// #[tulip::test(virtual_time)]
/// async fn a_slow_reply_times_out() {
///     let slow = tulip::sleep(Duration::from_secs(3600));
///     assert!(tulip::timeout(Duration::from_secs(1), slow).await.is_err());
/// }
/// # fn main() {}
/// ```
#[cfg(feature = "macros")]
pub use tulip_macros::test;

/// What the code generated by [`main`] and [`test`] calls; not an API.
#[doc(hidden)]
#[cfg(feature = "macros")]
pub mod __macro_support {
    use std::future::Future;

    use tulip_executor::{EventLoop, RunError, Runtime};

    /// `#[tulip::main]` and `#[tulip::test]` on the event loop.
    pub fn run_on_loop<F>(virtual_time: bool, future: F) -> F::Output
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let result = if virtual_time {
            EventLoop::builder()
                .virtual_time()
                .build()
                .map_err(RunError::from)
                .and_then(|event_loop| event_loop.run_until_complete(future))
        } else {
            tulip_executor::run(future)
        };
        finish(result)
    }

    /// `#[tulip::main]` and `#[tulip::test]` with `flavor = "multi_thread"`.
    pub fn run_on_runtime<F>(workers: Option<usize>, future: F) -> F::Output
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let mut builder = Runtime::multi_thread();
        if let Some(workers) = workers {
            builder = builder.worker_threads(workers);
        }
        let runtime = builder
            .build()
            .unwrap_or_else(|error| panic!("tulip: {error}"));
        finish(runtime.block_on(future))
    }

    /// The future's value; its panic goes on unwinding here, so that a
    /// test's `#[should_panic(expected = ..)]` sees the original message.
    fn finish<T>(result: Result<T, RunError>) -> T {
        match result {
            Ok(value) => value,
            Err(RunError::Task(error)) if error.is_panic() => match error.into_panic() {
                Ok(payload) => std::panic::resume_unwind(payload),
                Err(error) => panic!("tulip: {error}"),
            },
            Err(error) => panic!("tulip: {error}"),
        }
    }
}

/// The README's example, compiled as a doctest so that it stays true.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeDoctests;

/// The guide's examples, compiled and run as doctests so that it stays true.
#[cfg(all(
    doctest,
    feature = "sync",
    feature = "protocol",
    feature = "process",
    feature = "macros"
))]
#[doc = include_str!("../../../docs/guide.md")]
struct GuideDoctests;
