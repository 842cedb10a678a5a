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
}

/// There is no running event loop on this thread (asyncio's
/// `RuntimeError: no running event loop`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("no running event loop on this thread")]
pub struct NoRunningLoop;
