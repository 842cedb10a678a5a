//! The errors of the event loop and of spawning.

use std::io;

use crate::task::JoinError;

/// Why [`EventLoop::run_until_complete`](crate::EventLoop::run_until_complete) or
/// [`EventLoop::run_forever`](crate::EventLoop::run_forever) did not produce a value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// The loop was closed; a closed loop cannot run again (asyncio: "Event loop is closed").
    #[error("the event loop is closed")]
    Closed,
    /// The loop is already running: `run_until_complete` cannot be nested inside it.
    #[error("this event loop is already running")]
    AlreadyRunning,
    /// Another event loop is running on this thread (one running loop per thread).
    #[error("cannot run an event loop while another loop is running on this thread")]
    AnotherLoopRunning,
    /// [`EventLoop::stop`](crate::EventLoop::stop) was called before the future completed.
    /// The future's task stays on the loop and continues when the loop runs again.
    #[error("the event loop stopped before the future completed")]
    Stopped,
    /// The future's task ended without a value: it panicked or was cancelled.
    #[error(transparent)]
    Task(#[from] JoinError),
    /// The operating system's readiness API failed.
    #[error("the reactor failed: {0}")]
    Io(#[from] io::Error),
}

/// Why a task or callback could not be handed to a loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SpawnError {
    /// The loop is closed and accepts no more work.
    #[error("the event loop is closed")]
    Closed,
    /// The operation needs the loop's own thread while the loop is running there
    /// (`!Send` work and loop-local callbacks), and this is another thread.
    #[error("this operation must run on the event loop's thread, inside the running loop")]
    WrongThread,
    /// No event loop is running on this thread.
    #[error("no running event loop on this thread")]
    NoRunningLoop,
    /// `!Send` work (`spawn_local`, a loop-thread callback) was handed to a
    /// multi-thread runtime, whose tasks may move between threads.
    #[error(
        "spawn_local needs an event loop: this thread belongs to a multi-thread runtime, \
         which runs only Send futures (use spawn, or run !Send work on an EventLoop)"
    )]
    NeedsEventLoop,
}

/// Why [`runtime::Builder::build`](crate::runtime::Builder::build) made no runtime.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// `worker_threads(0)`: a runtime needs at least one worker.
    #[error("a multi-thread runtime needs at least one worker thread")]
    NoWorkers,
    /// More workers than the runtime can count.
    #[error("{requested} worker threads requested; at most {max} are supported")]
    TooManyWorkers {
        /// The number asked for.
        requested: usize,
        /// The most a runtime supports.
        max: usize,
    },
    /// The reactor or a worker thread could not be made.
    #[error("could not start the runtime: {0}")]
    Io(#[from] io::Error),
}

/// There is no running event loop on this thread (asyncio's
/// `RuntimeError: no running event loop`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("no running event loop on this thread")]
pub struct NoRunningLoop;
