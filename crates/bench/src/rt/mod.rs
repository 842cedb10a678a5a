//! The runtimes under comparison, each behind the one trait [`Rt`].
//!
//! A workload is written once, generic over `R: Rt`, and the harness
//! monomorphises it for every runtime. Everything a workload may touch
//! that differs between runtimes (spawning, yielding, sleeping, the
//! bounded queue, the async lock, the event) goes through this trait, so
//! the generated code is the code a user of that runtime would write by
//! hand, with that runtime's own primitives.

use std::future::Future;
use std::io;
use std::ops::DerefMut;
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
    /// The runtime's own async mutual-exclusion lock around a `T`.
    type Lock<T: Send + Sync + 'static>: AsyncLock<T>;
    /// The runtime's own "wait until something happens" primitive.
    type Event: AsyncEvent;

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

    /// A new unlocked [`Rt::Lock`] holding `value`.
    fn new_lock<T: Send + Sync + 'static>(value: T) -> Self::Lock<T> {
        AsyncLock::new(value)
    }

    /// A new [`Rt::Event`] that nothing has signalled.
    fn new_event() -> Self::Event {
        AsyncEvent::new()
    }

    /// Spawns `program` (no arguments, standard streams inherited) with the
    /// runtime's own subprocess API and waits for it to exit: its exit code
    /// (see [`exit_code`]).
    fn spawn_wait(program: &'static str) -> impl Future<Output = io::Result<i32>> + Send;

    /// Spawns `program` with piped stdin and stdout, writes `input` to its
    /// stdin and closes it while reading its stdout to the end (both at
    /// once, so that neither pipe can fill up and stall the child), then
    /// waits for it to exit: what it wrote to stdout and its exit code.
    fn communicate<'a>(
        program: &'static str,
        input: &'a [u8],
    ) -> impl Future<Output = io::Result<(Vec<u8>, i32)>> + Send + 'a;
}

/// A child's exit code as asyncio's `returncode` gives it (and tulip's
/// `Process` does): the code it exited with, or minus the signal that
/// killed it.
pub(crate) fn exit_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt as _;
    status
        .code()
        .or_else(|| status.signal().map(|signal| -signal))
        .unwrap_or(i32::MIN)
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

/// An async lock: at most one [`AsyncLock::Guard`] exists at a time.
pub(crate) trait AsyncLock<T>: Send + Sync + 'static {
    /// Proof of holding the lock; dropping it releases the lock. `Send`,
    /// so that a task may hold it across an `await`.
    type Guard<'a>: DerefMut<Target = T> + Send
    where
        Self: 'a;

    /// A new unlocked lock holding `value`.
    fn new(value: T) -> Self;

    /// Waits until the lock is free and takes it.
    fn lock(&self) -> impl Future<Output = Self::Guard<'_>> + Send + '_;
}

/// An event tasks can wait on (the workloads only need the waiting side).
pub(crate) trait AsyncEvent: Send + Sync + 'static {
    /// A new event, not signalled.
    fn new() -> Self;

    /// Waits until the event is signalled.
    fn wait(&self) -> impl Future<Output = ()> + Send + '_;
}

/// The runtimes the harness knows, in table order: tulip first (its loop's
/// streams, its multi-thread runtime, then its protocols), then its peers
/// (the Rust ones, then the Python ones), then the floor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum RuntimeId {
    /// tulip's single-threaded event loop.
    Tulip,
    /// tulip's multi-thread runtime (`tulip_executor::Runtime`) with 2
    /// workers: another tulip column, never a peer, compared with the
    /// multi-thread peers ([`PeerGroup::MultiThread`]).
    TulipMt,
    /// tulip's protocol-based echo server (`tulip_protocol::create_server`
    /// with an echo `Protocol`) on the same loop: network workloads only,
    /// another tulip column, never a peer.
    TulipProtocol,
    /// tokio's `current_thread` runtime.
    TokioCt,
    /// tokio's `multi_thread` runtime with 2 workers.
    TokioMt,
    /// smol: an `Executor` driven by `block_on(ex.run(..))` on the calling thread.
    Smol,
    /// smol: one `Executor` run by 2 threads, each `block_on(ex.run(..))`;
    /// a peer of tulip_mt only ([`PeerGroup::MultiThread`]).
    SmolMt,
    /// CPython's asyncio (`python3`), network workloads only.
    Asyncio,
    /// asyncio on uvloop's event loop (`python3` with `uvloop` installed),
    /// network workloads only.
    Uvloop,
    /// A hand-written echo server on one `mio::Poll`: no runtime, no
    /// tasks. The floor of the network workloads, not a peer.
    MioRaw,
}

/// What kind of thing a [`RuntimeId`] names, which decides the workloads
/// it runs and whether it counts as a peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RuntimeKind {
    /// A Rust runtime behind [`Rt`]: runs every workload.
    Rust,
    /// A Python event loop in a `python3` child: network workloads only.
    Python,
    /// tulip's protocol-based echo server: network workloads only, never a
    /// peer (it is tulip).
    TulipServer,
    /// The raw mio server: network workloads only, never a peer.
    Floor,
}

impl RuntimeId {
    /// Every runtime, in table order.
    pub(crate) const ALL: [RuntimeId; 10] = [
        RuntimeId::Tulip,
        RuntimeId::TulipMt,
        RuntimeId::TulipProtocol,
        RuntimeId::TokioCt,
        RuntimeId::TokioMt,
        RuntimeId::Smol,
        RuntimeId::SmolMt,
        RuntimeId::Asyncio,
        RuntimeId::Uvloop,
        RuntimeId::MioRaw,
    ];

    /// The name used on the command line, in the table and in `results.json`.
    pub(crate) const fn name(self) -> &'static str {
        match self {
            RuntimeId::Tulip => "tulip",
            RuntimeId::TulipMt => "tulip_mt",
            RuntimeId::TulipProtocol => "tulip_protocol",
            RuntimeId::TokioCt => "tokio_ct",
            RuntimeId::TokioMt => "tokio_mt",
            RuntimeId::Smol => "smol",
            RuntimeId::SmolMt => "smol_mt",
            RuntimeId::Asyncio => "asyncio",
            RuntimeId::Uvloop => "uvloop",
            RuntimeId::MioRaw => "mio_raw",
        }
    }

    /// The runtime called `name`, if any.
    pub(crate) fn from_name(name: &str) -> Option<RuntimeId> {
        RuntimeId::ALL.into_iter().find(|rt| rt.name() == name)
    }

    /// Every runtime's name, comma-separated, for messages.
    pub(crate) fn valid_names() -> String {
        RuntimeId::ALL.map(RuntimeId::name).join(", ")
    }

    /// What kind of runtime this is.
    pub(crate) const fn kind(self) -> RuntimeKind {
        match self {
            RuntimeId::Tulip
            | RuntimeId::TulipMt
            | RuntimeId::TokioCt
            | RuntimeId::TokioMt
            | RuntimeId::Smol
            | RuntimeId::SmolMt => RuntimeKind::Rust,
            RuntimeId::Asyncio | RuntimeId::Uvloop => RuntimeKind::Python,
            RuntimeId::TulipProtocol => RuntimeKind::TulipServer,
            RuntimeId::MioRaw => RuntimeKind::Floor,
        }
    }

    /// Whether this runtime is one of tulip's peers (tulip's own columns
    /// and the floor are not), in one group or the other.
    pub(crate) const fn is_peer(self) -> bool {
        !matches!(
            self,
            RuntimeId::Tulip | RuntimeId::TulipMt | RuntimeId::TulipProtocol | RuntimeId::MioRaw
        )
    }

    /// Whether this runtime is a peer in `group`.
    pub(crate) const fn is_peer_in(self, group: PeerGroup) -> bool {
        match group {
            // Every peer but smol_mt, which was added for tulip_mt: the
            // loop's peers as they were before the multi-thread runtime
            // (tokio_mt among them), so that its ratio stays what it was.
            PeerGroup::Loop => self.is_peer() && !matches!(self, RuntimeId::SmolMt),
            PeerGroup::MultiThread => matches!(self, RuntimeId::TokioMt | RuntimeId::SmolMt),
        }
    }
}

/// Which tulip column a ratio is for, and so which peers it is taken
/// against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PeerGroup {
    /// tulip's event loop ([`RuntimeId::Tulip`], and its protocol server)
    /// against tokio_ct, tokio_mt, smol, asyncio and uvloop: the ratio the
    /// table has always had.
    Loop,
    /// tulip's multi-thread runtime ([`RuntimeId::TulipMt`], 2 workers)
    /// against the multi-thread peers with 2 threads: tokio_mt and smol_mt.
    MultiThread,
}

impl PeerGroup {
    /// The tulip column compared with this group's peers.
    pub(crate) const fn tulip(self) -> RuntimeId {
        match self {
            PeerGroup::Loop => RuntimeId::Tulip,
            PeerGroup::MultiThread => RuntimeId::TulipMt,
        }
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    /// Runs `check::<R>` for every runtime.
    macro_rules! on_every_runtime {
        ($check:ident) => {
            $check::<tulip::Tulip>();
            $check::<tulip::TulipMt>();
            $check::<tokio::TokioCt>();
            $check::<tokio::TokioMt>();
            $check::<smol::Smol>();
            $check::<smol::SmolMt>();
        };
    }

    /// The queue ends (`recv` gives `None`) only once every sender is gone
    /// and what they sent has been received.
    fn queue_ends_after_the_last_sender<R: Rt>() {
        R::run(async {
            let (tx, mut rx) = R::bounded::<u32>(2);
            let other = tx.clone();
            assert!(tx.send(1).await);
            drop(tx);
            assert!(other.send(2).await);
            drop(other);
            assert_eq!(rx.recv().await, Some(1));
            assert_eq!(rx.recv().await, Some(2));
            assert_eq!(rx.recv().await, None);
        });
    }

    /// A sender waiting for room gives up once the receiver is gone.
    fn send_fails_without_a_receiver<R: Rt>() {
        R::run(async {
            let (tx, rx) = R::bounded::<u32>(1);
            assert!(tx.send(1).await);
            // Whether it has parked on the full queue by the time `rx` is
            // dropped or not, the send must fail.
            let blocked = R::spawn(async move { tx.send(2).await });
            for _ in 0..10 {
                R::yield_now().await;
            }
            drop(rx);
            assert!(!blocked.await);
        });
    }

    /// The lock admits one holder at a time, also across an `await`.
    fn lock_excludes_across_awaits<R: Rt>() {
        R::run(async {
            let lock = Arc::new(R::new_lock(0_u32));
            let tasks: Vec<_> = (0..10)
                .map(|_| {
                    let lock = Arc::clone(&lock);
                    R::spawn(async move {
                        let mut value = lock.lock().await;
                        let read = *value;
                        R::yield_now().await;
                        *value = read + 1;
                    })
                })
                .collect();
            for task in tasks {
                task.await;
            }
            assert_eq!(*lock.lock().await, 10);
        });
    }

    /// Each group: its tulip column is never a peer, and its peers are
    /// the ones its ratio is meant to be against.
    #[test]
    fn peer_groups() {
        let members = |group| {
            RuntimeId::ALL
                .into_iter()
                .filter(|runtime| runtime.is_peer_in(group))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            members(PeerGroup::Loop),
            [
                RuntimeId::TokioCt,
                RuntimeId::TokioMt,
                RuntimeId::Smol,
                RuntimeId::Asyncio,
                RuntimeId::Uvloop
            ]
        );
        assert_eq!(
            members(PeerGroup::MultiThread),
            [RuntimeId::TokioMt, RuntimeId::SmolMt]
        );
        for group in [PeerGroup::Loop, PeerGroup::MultiThread] {
            assert!(!group.tulip().is_peer());
            assert!(members(group).iter().all(|runtime| runtime.is_peer()));
        }
        assert_eq!(PeerGroup::MultiThread.tulip(), RuntimeId::TulipMt);
        assert_eq!(RuntimeId::from_name("tulip_mt"), Some(RuntimeId::TulipMt));
        assert_eq!(RuntimeId::from_name("smol_mt"), Some(RuntimeId::SmolMt));
    }

    /// The multi-thread columns really run on more than one thread: two
    /// tasks that each wait, spinning, until both have started can only
    /// finish if they run at once.
    fn tasks_run_in_parallel<R: Rt>() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        R::run(async {
            let started = Arc::new(AtomicUsize::new(0));
            let tasks: Vec<_> = (0..2)
                .map(|_| {
                    let started = Arc::clone(&started);
                    R::spawn(async move {
                        started.fetch_add(1, Ordering::SeqCst);
                        let deadline = std::time::Instant::now() + Duration::from_secs(20);
                        // Never yields: only another thread can bump the count.
                        while started.load(Ordering::SeqCst) < 2 {
                            assert!(std::time::Instant::now() < deadline, "no second thread");
                            std::hint::spin_loop();
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await;
            }
        });
    }

    #[test]
    fn multi_thread_columns_run_tasks_in_parallel() {
        tasks_run_in_parallel::<tokio::TokioMt>();
        tasks_run_in_parallel::<tulip::TulipMt>();
        tasks_run_in_parallel::<smol::SmolMt>();
    }

    #[test]
    fn queues_end_after_the_last_sender() {
        on_every_runtime!(queue_ends_after_the_last_sender);
    }

    #[test]
    fn sends_fail_without_a_receiver() {
        on_every_runtime!(send_fails_without_a_receiver);
    }

    #[test]
    fn locks_exclude_across_awaits() {
        on_every_runtime!(lock_excludes_across_awaits);
    }
}
