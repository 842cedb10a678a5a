//! asyncio's synchronisation primitives and queues, for any async runtime.
//!
//! [`Lock`], [`Event`], [`Condition`], [`Semaphore`], [`BoundedSemaphore`],
//! [`Barrier`] and the queues [`Queue`], [`LifoQueue`] and [`PriorityQueue`]
//! (with `task_done`, `join` and `shutdown`), under asyncio's names and with
//! its semantics; and [`Promise`], asyncio's `Future` (a result set once and
//! awaited by many). The crate depends on no runtime: its futures only use the
//! [`Waker`](std::task::Waker) they are polled with, so they work the same
//! under tulip's loop, tokio, smol or a hand-made `block_on`, on one thread
//! or many. Everything is `Send + Sync` when the values inside are `Send`.
//!
//! Three promises hold for every primitive:
//! - **Fairness.** Waiters are served in arrival order, and the
//!   `try_`/`_nowait` forms never take what a queued waiter is owed.
//! - **Cancel safety.** Dropping a waiting future loses nothing: a lock,
//!   permit, notification or item granted to it but not yet collected
//!   passes to the next waiter; a dropped `put` never puts its item twice.
//! - **Typed errors.** Misuse that asyncio answers with an exception
//!   (`BoundedSemaphore` released too often, `task_done` called too often,
//!   a broken barrier, a shut-down queue) returns an error; nothing panics
//!   on input a caller can pass.
//!
//! ```
//! use std::sync::Arc;
//! use tulip_sync::{Lock, Queue};
//!
//! // Any runtime will do; here, tulip's event loop.
//! let event_loop = tulip_executor::EventLoop::new()?;
//! let total = event_loop.run_until_complete(async {
//!     let queue = Arc::new(Queue::new(10));
//!     let total = Arc::new(Lock::new(0));
//!     let mut workers = Vec::new();
//!     for _ in 0..3 {
//!         let (queue, total) = (Arc::clone(&queue), Arc::clone(&total));
//!         workers.push(tulip_executor::spawn(async move {
//!             while let Ok(n) = queue.get().await {
//!                 *total.lock().await += n;
//!                 queue.task_done().expect("one task_done per item");
//!             }
//!         }));
//!     }
//!     for n in 1..=100 {
//!         queue.put(n).await.expect("the queue is open");
//!     }
//!     queue.join().await;
//!     queue.shutdown(false);
//!     for worker in workers {
//!         worker.await.expect("workers do not panic");
//!     }
//!     let total = *total.lock().await;
//!     total
//! })?;
//! assert_eq!(total, 5050);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod barrier;
mod condition;
mod error;
mod event;
mod lock;
mod promise;
mod queue;
mod semaphore;
mod state_lock;
mod waiters;

pub use barrier::{Barrier, BarrierWait};
pub use condition::{Condition, ConditionWait};
pub use error::{
    AcquireError, BrokenBarrier, ForeignGuard, GetNowaitError, InvalidParties, InvalidStateError,
    PromiseError, PutNowaitError, QueueShutDown, ReleaseError, TaskDoneError, TryAcquireError,
    TryLockError,
};
pub use event::{Event, EventWait};
pub use lock::{Lock, LockAcquire, LockAcquireOwned, LockGuard, OwnedLockGuard};
pub use promise::{Promise, PromiseWait};
pub use queue::{
    Fifo, GenericQueue, Lifo, LifoQueue, Order, Priority, PriorityQueue, Queue, QueueGet,
    QueueJoin, QueuePut,
};
pub use semaphore::{
    BoundedSemaphore, Semaphore, SemaphoreAcquire, SemaphoreAcquireMany, SemaphorePermit,
};

/// Loom models of every primitive (`cargo xtask loom`).
#[cfg(all(test, loom))]
mod loom_tests;
