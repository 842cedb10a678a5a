//! The runtimes under comparison, each behind the one trait [`Rt`].
//!
//! A workload is written once, generic over `R: Rt`, and the harness
//! monomorphises it for every runtime. Everything a workload may touch
//! that differs between runtimes (spawning, yielding, sleeping, the
//! bounded queue) goes through this trait, so the generated code is the
//! code a user of that runtime would write by hand.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

pub(crate) mod smol;
pub(crate) mod tokio;
pub(crate) mod tulip;

/// One async runtime, as the workloads see it.
///
/// Every future and handle is `Send` so that the same workload also runs
/// on tokio's multi-threaded scheduler.
pub(crate) trait Rt: 'static {
    /// What [`Rt::spawn`] returns: awaiting it gives the task's output
    /// (a task that panicked or was cancelled fails the measurement).
    type Handle<T: Send + 'static>: Future<Output = T> + Send + 'static;
    /// The sending half of the runtime's bounded queue.
    type Tx<T: Send + 'static>: QueueTx<T>;
    /// The receiving half of the runtime's bounded queue.
    type Rx<T: Send + 'static>: QueueRx<T>;

    /// Builds a fresh runtime, runs `body` to completion on it and drops
    /// the runtime.
    fn run<F>(body: F) -> F::Output
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static;

    /// Spawns `task` on the current runtime (must be called from inside
    /// [`Rt::run`]).
    fn spawn<F>(task: F) -> Self::Handle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static;

    /// Spawns `task` and lets it run on its own: nobody awaits it.
    fn spawn_detached<F>(task: F)
    where
        F: Future<Output = ()> + Send + 'static;

    /// Yields once to the scheduler.
    fn yield_now() -> impl Future<Output = ()> + Send;

    /// Sleeps for `duration` on the runtime's timer.
    fn sleep(duration: Duration) -> impl Future<Output = ()> + Send;

    /// The runtime's own bounded multi-producer queue of `capacity` items.
    fn bounded<T: Send + 'static>(capacity: usize) -> (Self::Tx<T>, Self::Rx<T>);
}

/// The sending half of a bounded queue.
pub(crate) trait QueueTx<T>: Clone + Send + Sync + 'static {
    /// Sends `item`, waiting for room; `false` if the receiver is gone.
    fn send(&self, item: T) -> impl Future<Output = bool> + Send + '_;
}

/// The receiving half of a bounded queue.
pub(crate) trait QueueRx<T>: Send + 'static {
    /// The next item; `None` once every sender is gone and the queue is empty.
    fn recv(&mut self) -> impl Future<Output = Option<T>> + Send + '_;
}

/// The runtimes the harness knows, in table order (tulip first, then its peers).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum RuntimeId {
    /// tulip's single-threaded event loop.
    Tulip,
    /// tokio's `current_thread` runtime.
    TokioCt,
    /// tokio's `multi_thread` runtime with 2 workers.
    TokioMt,
    /// smol: an `Executor` driven by `block_on(ex.run(..))` on the calling thread.
    Smol,
}

impl RuntimeId {
    /// Every runtime, in table order.
    pub(crate) const ALL: [RuntimeId; 4] = [
        RuntimeId::Tulip,
        RuntimeId::TokioCt,
        RuntimeId::TokioMt,
        RuntimeId::Smol,
    ];

    /// The name used on the command line, in the table and in `results.json`.
    pub(crate) const fn name(self) -> &'static str {
        match self {
            RuntimeId::Tulip => "tulip",
            RuntimeId::TokioCt => "tokio_ct",
            RuntimeId::TokioMt => "tokio_mt",
            RuntimeId::Smol => "smol",
        }
    }

    /// The runtime called `name`, if any.
    pub(crate) fn from_name(name: &str) -> Option<RuntimeId> {
        RuntimeId::ALL.into_iter().find(|rt| rt.name() == name)
    }

    /// Whether this runtime is one of tulip's peers.
    pub(crate) const fn is_peer(self) -> bool {
        !matches!(self, RuntimeId::Tulip)
    }
}

/// A runtime's join handle whose output is a `Result`; resolves to the
/// `Ok` value and panics on the error (a failed task fails the run).
pub(crate) struct Unwrapped<H>(pub(crate) H);

impl<H, T, E> Future for Unwrapped<H>
where
    H: Future<Output = Result<T, E>> + Unpin,
    E: std::fmt::Debug,
{
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        match Pin::new(&mut self.0).poll(cx) {
            Poll::Ready(Ok(value)) => Poll::Ready(value),
            Poll::Ready(Err(error)) => panic!("a benchmark task failed: {error:?}"),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// Sending half of an `async_channel` queue (smol's queue; also tulip's
/// until tulip-sync has one).
pub(crate) struct ChannelTx<T>(pub(crate) async_channel::Sender<T>);

impl<T> Clone for ChannelTx<T> {
    fn clone(&self) -> Self {
        ChannelTx(self.0.clone())
    }
}

impl<T: Send + 'static> QueueTx<T> for ChannelTx<T> {
    async fn send(&self, item: T) -> bool {
        self.0.send(item).await.is_ok()
    }
}

/// Receiving half of an `async_channel` queue.
pub(crate) struct ChannelRx<T>(pub(crate) async_channel::Receiver<T>);

impl<T: Send + 'static> QueueRx<T> for ChannelRx<T> {
    async fn recv(&mut self) -> Option<T> {
        self.0.recv().await.ok()
    }
}

/// A bounded `async_channel` queue wrapped for [`Rt::bounded`].
pub(crate) fn async_channel_bounded<T>(capacity: usize) -> (ChannelTx<T>, ChannelRx<T>) {
    let (tx, rx) = async_channel::bounded(capacity);
    (ChannelTx(tx), ChannelRx(rx))
}
