//! Why awaiting a task gave no output.

use std::{any::Any, fmt};

use super::{TaskId, raw::panic_message};

/// Why a [`JoinHandle`](super::JoinHandle) resolved without the task's output.
#[derive(thiserror::Error, Debug)]
#[non_exhaustive]
pub enum JoinError {
    /// The task was cancelled ([`JoinHandle::cancel`](super::JoinHandle::cancel),
    /// [`Task::cancel`](super::Task::cancel), or the loop shutting it down)
    /// and its future has been dropped: asyncio's `CancelledError`.
    #[error("task {id} was cancelled")]
    Cancelled {
        /// The task.
        id: TaskId,
    },
    /// The task panicked while being polled (or while its future was being
    /// dropped); the panic was caught and is carried here.
    #[error("task {id} panicked: {payload}")]
    Panicked {
        /// The task.
        id: TaskId,
        /// What the task panicked with.
        payload: PanicPayload,
    },
    /// The handle was polled again after it had already given the task's
    /// result: the output moved out with that first `Ready`.
    #[error("the output of task {id} was already taken")]
    OutputTaken {
        /// The task.
        id: TaskId,
    },
}

impl JoinError {
    /// The task this error is about.
    pub fn id(&self) -> TaskId {
        match self {
            Self::Cancelled { id } | Self::Panicked { id, .. } | Self::OutputTaken { id } => *id,
        }
    }

    /// Whether the task was cancelled.
    pub fn is_cancelled(&self) -> bool {
        matches!(self, Self::Cancelled { .. })
    }

    /// Whether the task panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self, Self::Panicked { .. })
    }

    /// The panic's payload, to resume it with [`std::panic::resume_unwind`];
    /// the error itself if the task did not panic.
    pub fn into_panic(self) -> Result<Box<dyn Any + Send>, JoinError> {
        match self {
            Self::Panicked { payload, .. } => Ok(payload.into_inner()),
            other => Err(other),
        }
    }

    /// The panic's message, if the task panicked with a string (as `panic!`
    /// does).
    pub fn panic_message(&self) -> Option<&str> {
        match self {
            Self::Panicked { payload, .. } => payload.message(),
            _ => None,
        }
    }
}

/// The payload of a task's panic, as [`std::panic::catch_unwind`] returned it.
pub struct PanicPayload(pub(super) Box<dyn Any + Send>);

// SAFETY: through `&PanicPayload` one can only get the message: that calls
// `type_id` (which reads nothing of the value) and, on a match, hands out a
// `&str` of a `&'static str` or `String` payload, both `Sync`. Everything else
// needs the payload by value.
unsafe impl Sync for PanicPayload {}

impl PanicPayload {
    /// The message, if the payload is a string (`&str` or `String`, as
    /// `panic!` makes).
    pub fn message(&self) -> Option<&str> {
        panic_message(&*self.0)
    }

    /// The payload itself.
    pub fn into_inner(self) -> Box<dyn Any + Send> {
        self.0
    }

    /// The message, or what the standard library prints for other payloads.
    pub(super) fn message_or_default(&self) -> &str {
        self.message().unwrap_or("Box<dyn Any>")
    }
}

impl fmt::Display for PanicPayload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message_or_default())
    }
}

impl fmt::Debug for PanicPayload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.message() {
            Some(message) => f.debug_tuple("PanicPayload").field(&message).finish(),
            None => f.debug_tuple("PanicPayload").finish_non_exhaustive(),
        }
    }
}
