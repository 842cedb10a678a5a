//! asyncio's event loop, tasks and task combinators, in Rust.
//!
//! An [`EventLoop`] runs callbacks ([`call_soon`](EventLoop::call_soon),
//! [`call_later`](EventLoop::call_later)), tasks ([`spawn`]) and timers on one
//! thread, with asyncio's iteration order; [`Handle`] reaches it from other
//! threads; the combinators ([`gather!`], [`wait`], [`shield`],
//! [`as_completed`], [`TaskGroup`], [`timeout`]) compose tasks as asyncio's do.
//! Where asyncio has one loop per thread, a multi-thread [`Runtime`] runs
//! `Send` tasks on a pool of work-stealing workers sharing one reactor, with
//! the same tasks, handles and combinators (see [`runtime`]).
//!
//! # Implementation
//!
//! The thread that calls [`EventLoop::run_until_complete`] runs everything of
//! the loop: it polls the reactor (`tulip-reactor`, on mio), fires the expired
//! timers, and runs the ready queue. A task is one allocation holding its
//! state, its future and then its output; its waker pushes the task onto the
//! loop's ready queue directly when woken on the loop's thread, and through a
//! locked queue plus a reactor wake-up (only if the loop is parked) when
//! woken from elsewhere. Blocking work runs on a pool of threads
//! ([`spawn_blocking`]) whose results come back the same way.
//!
//! # Example
//!
//! ```
//! use std::time::Duration;
//! use tulip_executor::{EventLoop, gather, sleep};
//!
//! async fn say_after(delay: Duration, what: &str) -> String {
//!     sleep(delay).await;
//!     what.to_owned()
//! }
//!
//! let event_loop = EventLoop::builder().virtual_time().build()?;
//! let start = event_loop.time();
//! let words = event_loop.run_until_complete(async {
//!     gather!(say_after(Duration::from_secs(1), "hello"), say_after(Duration::from_secs(2), "world")).await
//! })?;
//! assert_eq!(words, ("hello".to_owned(), "world".to_owned()));
//! // Both waited at once: two seconds in all, not three.
//! assert_eq!(event_loop.time() - start, Duration::from_secs(2));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod blocking;
pub mod combinators;
mod error;
mod event_loop;
mod handle;
mod introspect;
mod loom;
mod registry;
pub mod runtime;
mod spawn;
pub mod task;
mod threadsafe;
pub mod time;
mod util;

pub use crate::blocking::{spawn_blocking, to_thread};
pub use crate::combinators::{
    AsCompleted, ChildFailure, GroupSpawnError, GroupSpawner, ReturnWhen, TaskGroup,
    TaskGroupError, as_completed, gather_all, shield, shield_local, try_gather, wait,
};
pub use crate::error::{BuildError, NoRunningLoop, RunError, SpawnError};
pub use crate::event_loop::{
    Builder, CallbackHandle, EventLoop, ExceptionContext, ExceptionHandler, ThreadsafeHandle,
    TimerHandle, default_exception_handler,
};
pub use crate::handle::Handle;
pub use crate::introspect::{all_tasks, current_task};
pub use crate::runtime::Runtime;
pub use crate::spawn::{spawn, spawn_local};
pub use crate::task::{
    AbortOnDropHandle, JoinError, JoinHandle, PanicPayload, Task, TaskId, TaskState,
};
pub use crate::threadsafe::{ConcurrentFuture, ThreadsafeError};
pub use crate::time::{
    Timeout, TimeoutError, sleep, sleep_until, timeout, timeout_at, wait_for, yield_now,
};

/// Runs `future` to completion on a fresh loop, as asyncio's `asyncio.run`:
/// after the future completes, every task still running is cancelled and
/// awaited, the blocking pool is shut down (waiting for running jobs), and
/// the loop is closed.
///
/// ```
/// let total = tulip_executor::run(async {
///     let a = tulip_executor::spawn(async { 1 });
///     let b = tulip_executor::spawn(async { 2 });
///     a.await.unwrap() + b.await.unwrap()
/// })?;
/// assert_eq!(total, 3);
/// # Ok::<(), tulip_executor::RunError>(())
/// ```
///
/// # Errors
/// [`RunError::AnotherLoopRunning`] inside a running loop, [`RunError::Task`]
/// if `future` panicked, [`RunError::Io`] if the reactor could not be made.
pub fn run<F>(future: F) -> Result<F::Output, RunError>
where
    F: std::future::Future + 'static,
    F::Output: 'static,
{
    EventLoop::new()?.run_and_close(future)
}
