//! asyncio, all of it, in Rust.
//!
//! tulip gives Rust programmers asyncio's model: an event loop with
//! `call_soon` and `call_later`, tasks and their combinators (`gather!`,
//! `wait`, `wait_for`, `timeout`, `shield`, `as_completed`, `TaskGroup`),
//! synchronisation primitives and queues (`Lock`, `Event`, `Condition`,
//! `Semaphore`, `Barrier`, `Queue`), and virtual time for testing timeouts,
//! under asyncio's names and with its semantics. This crate is the facade: it re-exports the tulip crates, each
//! of which can also be used on its own.
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

#[doc(inline)]
pub use tulip_executor::{
    AbortOnDropHandle, AsCompleted, BuildError, Builder, CallbackHandle, ChildFailure,
    ConcurrentFuture, EventLoop, ExceptionContext, GroupSpawnError, GroupSpawner, Handle,
    JoinError, JoinHandle, NoRunningLoop, PanicPayload, ReturnWhen, RunError, Runtime, SpawnError,
    Task, TaskGroup, TaskGroupError, TaskId, TaskState, ThreadsafeError, ThreadsafeHandle, Timeout,
    TimeoutError, TimerHandle, all_tasks, as_completed, current_task, default_exception_handler,
    gather, gather_all, run, shield, shield_local, sleep, sleep_until, spawn, spawn_blocking,
    spawn_local, timeout, timeout_at, to_thread, try_gather, wait, wait_for, yield_now,
};

#[doc(inline)]
pub use tulip_sync::{
    Barrier, BoundedSemaphore, Condition, Event, LifoQueue, Lock, LockGuard, PriorityQueue, Queue,
    Semaphore, SemaphorePermit,
};

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

/// The task combinators: gather, wait, shield, as_completed, TaskGroup.
pub mod combinators {
    #[doc(inline)]
    pub use tulip_executor::combinators::*;
}

/// Synchronisation primitives and queues: `Lock`, `Event`, `Condition`,
/// `Semaphore`, `BoundedSemaphore`, `Barrier`, `Queue`, `LifoQueue`,
/// `PriorityQueue` (the `tulip-sync` crate, which also works under other
/// runtimes).
pub mod sync {
    #[doc(inline)]
    pub use tulip_sync::*;
}

/// asyncio's streams: `open_connection`, `start_server`, `StreamReader`,
/// `StreamWriter`, `Server` (the `tulip-streams` crate).
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
/// `create_datagram_endpoint` (the `tulip-protocol` crate).
pub mod protocol {
    #[doc(inline)]
    pub use tulip_protocol::*;
}

/// asyncio's subprocesses and signals (the `tulip-process` crate).
pub mod process {
    #[doc(inline)]
    pub use tulip_process::*;
}

#[doc(inline)]
pub use tulip_streams::{
    Server, StreamReader, StreamWriter, open_connection, open_unix_connection, start_server,
    start_unix_server,
};

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
pub use tulip_macros::test;

/// What the code generated by [`main`] and [`test`] calls; not an API.
#[doc(hidden)]
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
