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

/// The README's example, compiled as a doctest so that it stays true.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeDoctests;
