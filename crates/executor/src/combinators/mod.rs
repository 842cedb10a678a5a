//! asyncio's task combinators: run futures and tasks concurrently and
//! combine their results.
//!
//! | asyncio | tulip |
//! |---|---|
//! | `await gather(a, b, c)` | [`gather!(a, b, c)`](crate::gather!)`.await`: a tuple, any future types |
//! | `await gather(*aws)` | [`gather_all(aws)`](gather_all)`.await`: a `Vec` |
//! | `gather(*aws, return_exceptions=True)` | [`gather_all`] over futures giving `Result`s |
//! | `gather(*aws, return_exceptions=False)` | [`try_gather`]: the first `Err`, the rest dropped |
//! | `done, pending = await wait(tasks, timeout=, return_when=)` | [`wait`]`(handles, timeout, `[`ReturnWhen`]`)` |
//! | `await shield(aw)` | [`shield(future)`](shield)`.await`; [`shield_local`] for `!Send` futures |
//! | `for aw in as_completed(aws)` | `while let Some(x) = `[`as_completed(futures)`](as_completed)`.next().await` |
//! | `async with TaskGroup() as tg` | [`TaskGroup::new()`](TaskGroup::new), [`spawn`](TaskGroup::spawn) (or [`spawn_local`](TaskGroup::spawn_local)), [`join`](TaskGroup::join) |
//! | `wait_for`, `timeout` | [`crate::time`] |
//!
//! # Cancellation
//!
//! asyncio cancels a task by raising `CancelledError` inside it; a Rust
//! future is cancelled by being dropped. So the combinators that poll futures
//! inside the awaiting task ([`gather!`](crate::gather!), [`gather_all`],
//! [`try_gather`], [`as_completed`]) cancel the futures they hold when they
//! are dropped, where asyncio's versions (which wrap each coroutine in a
//! task) may leave them running. Pass [`JoinHandle`](crate::JoinHandle)s of
//! spawned tasks instead to keep them running: dropping a handle detaches
//! its task. [`wait`] takes handles and never cancels; [`shield`] and
//! [`TaskGroup`] spawn tasks.
//!
//! # Implementation
//!
//! Everything runs in the task that awaits the combinator; [`shield`] and
//! [`TaskGroup`] spawn their tasks on the running loop or multi-thread
//! runtime (their `_local` variants, for `!Send` futures, on the loop only). [`gather!`](crate::gather!)
//! (crate::gather!) polls each of its (at most twelve) futures on every poll;
//! the combinators over any number of futures or handles give each one its
//! own waker and poll only those that were woken, in input order.

mod as_completed;
mod gather;
mod ready;
mod shield;
mod task_group;
mod wait;

pub use as_completed::{AsCompleted, as_completed};
pub use gather::{GatherAll, TryGather, gather_all, try_gather};
pub use shield::{Shield, shield, shield_local};
pub use task_group::{
    ChildFailure, GroupJoin, GroupSpawnError, GroupSpawner, TaskGroup, TaskGroupError,
};
pub use wait::{ReturnWhen, Wait, wait};

/// What the [`gather!`](crate::gather!) macro expands to; not a public API.
#[doc(hidden)]
pub mod __private {
    pub use super::gather::{
        Gather1, Gather2, Gather3, Gather4, Gather5, Gather6, Gather7, Gather8, Gather9, Gather10,
        Gather11, Gather12, MaybeDone,
    };
    pub use core::future::{IntoFuture, ready};
}
