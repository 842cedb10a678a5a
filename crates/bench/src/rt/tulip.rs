//! tulip, in its two flavours: its single-threaded event loop
//! (`EventLoop::run_until_complete`) and its multi-thread runtime with 2
//! workers (`tulip_executor::Runtime`), both with tulip-sync's primitives:
//! `tulip::sync::Queue`, `Lock` and `Event`, and tulip-process's
//! subprocesses (`tulip::process`, asyncio's API).

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tulip::process::{Command, Stdio, create_subprocess_exec};
use tulip::sync::{Event, Lock, LockGuard, Queue};

use super::{AsyncEvent, AsyncLock, QueueRx, QueueTx, Rt, Unwrapped};

/// tulip's event loop on the calling thread.
pub(crate) struct Tulip;

/// tulip's multi-thread runtime (`tulip_executor::Runtime::multi_thread()`)
/// with 2 worker threads (one per core here), the counterpart of
/// [`TokioMt`](super::tokio::TokioMt).
///
/// As there, the body is itself spawned onto a worker (`Runtime::spawn`) and
/// `block_on` on the calling thread only waits for its handle: tasks the body
/// spawns are spawned from a worker, which is how a server spawns (from its
/// accept task) and the runtime's fast path (the worker's local queue).
pub(crate) struct TulipMt;

/// Workers of [`TulipMt`].
pub(crate) const MT_WORKERS: usize = 2;

/// A fresh [`TulipMt`] runtime.
pub(crate) fn multi_thread_runtime() -> tulip_executor::Runtime {
    tulip_executor::Runtime::multi_thread()
        .worker_threads(MT_WORKERS)
        .build()
        .expect("build tulip multi-thread runtime")
}

/// What both halves of a [`Tulip::bounded`] queue share.
///
/// asyncio's `Queue` has no notion of senders or receivers: anyone holding
/// it may `put` or `get`. The halves add what the workloads' queue needs —
/// "no more items" once every sender is gone — by counting the live
/// senders; the last one to go shuts the queue down.
struct Shared<T> {
    /// The queue itself.
    queue: Queue<T>,
    /// How many [`QueueSender`]s are alive.
    senders: AtomicUsize,
}

/// Sending half of a `tulip::sync::Queue`: `put`, and a share of the
/// sender count.
pub(crate) struct QueueSender<T>(Arc<Shared<T>>);

impl<T> Clone for QueueSender<T> {
    fn clone(&self) -> Self {
        // Relaxed suffices for an increment made by a sender that is
        // itself alive, as in `Arc::clone`.
        self.0.senders.fetch_add(1, Ordering::Relaxed);
        QueueSender(Arc::clone(&self.0))
    }
}

impl<T> Drop for QueueSender<T> {
    fn drop(&mut self) {
        if self.0.senders.fetch_sub(1, Ordering::AcqRel) == 1 {
            // The last sender: `get` drains what is queued, then returns
            // `Err(QueueShutDown)` (asyncio 3.13's `shutdown(immediate=False)`).
            self.0.queue.shutdown(false);
        }
    }
}

impl<T: Send + 'static> QueueTx<T> for QueueSender<T> {
    async fn send(&self, item: T) -> bool {
        self.0.queue.put(item).await.is_ok()
    }
}

/// Receiving half of a `tulip::sync::Queue`: `get`.
pub(crate) struct QueueReceiver<T>(Arc<Shared<T>>);

impl<T> Drop for QueueReceiver<T> {
    fn drop(&mut self) {
        // Nobody will get again: shut down at once, so that a sender
        // waiting for room gets its item back instead of waiting forever
        // (what tokio's and async_channel's senders do when the receiver
        // is dropped).
        self.0.queue.shutdown(true);
    }
}

impl<T: Send + 'static> QueueRx<T> for QueueReceiver<T> {
    async fn recv(&mut self) -> Option<T> {
        self.0.queue.get().await.ok()
    }
}

impl<T: Send + Sync + 'static> AsyncLock<T> for Lock<T> {
    type Guard<'a> = LockGuard<'a, T>;

    fn new(value: T) -> Self {
        Lock::new(value)
    }

    fn lock(&self) -> impl Future<Output = Self::Guard<'_>> + Send + '_ {
        Lock::lock(self)
    }
}

impl AsyncEvent for Event {
    fn new() -> Self {
        Event::new()
    }

    fn wait(&self) -> impl Future<Output = ()> + Send + '_ {
        Event::wait(self)
    }
}

/// The parts common to both flavours; only `run` differs (the free
/// functions `tulip::spawn`, `yield_now`, `sleep` use the running loop or
/// runtime, and tulip-sync's primitives work on either).
macro_rules! tulip_common {
    () => {
        type Handle<T: Send + 'static> = Unwrapped<tulip::JoinHandle<T>>;
        type Tx<T: Send + 'static> = QueueSender<T>;
        type Rx<T: Send + 'static> = QueueReceiver<T>;
        type Lock<T: Send + Sync + 'static> = Lock<T>;
        type Event = Event;

        fn spawn<F>(task: F) -> Self::Handle<F::Output>
        where
            F: Future + Send + 'static,
            F::Output: Send + 'static,
        {
            Unwrapped(tulip::spawn(task))
        }

        fn spawn_detached<F>(task: F)
        where
            F: Future<Output = ()> + Send + 'static,
        {
            tulip::spawn(task).detach();
        }

        fn yield_now() -> impl Future<Output = ()> + Send {
            tulip::yield_now()
        }

        fn sleep(duration: Duration) -> impl Future<Output = ()> + Send {
            tulip::sleep(duration)
        }

        fn bounded<T: Send + 'static>(capacity: usize) -> (QueueSender<T>, QueueReceiver<T>) {
            // `Queue::new(0)` would be unbounded, as in asyncio.
            assert!(capacity > 0, "a bounded queue needs room for one item");
            let shared = Arc::new(Shared {
                queue: Queue::new(capacity),
                senders: AtomicUsize::new(1),
            });
            (QueueSender(Arc::clone(&shared)), QueueReceiver(shared))
        }

        async fn spawn_wait(program: &'static str) -> io::Result<i32> {
            // asyncio: `proc = await create_subprocess_exec(program)`,
            // `await proc.wait()`.
            let child = Command::new(program).spawn()?;
            child.wait().await
        }

        async fn communicate(program: &'static str, input: &[u8]) -> io::Result<(Vec<u8>, i32)> {
            // asyncio: `create_subprocess_exec(program, stdin=PIPE, stdout=PIPE)`,
            // `stdout, _ = await proc.communicate(input)`, `proc.returncode`.
            let mut child = create_subprocess_exec(program, [] as [&str; 0])
                .stdin(Stdio::Piped)
                .stdout(Stdio::Piped)
                .await?;
            let (stdout, _) = child.communicate(Some(input)).await?;
            let code = child
                .returncode()
                .expect("communicate returns once the child has exited");
            Ok((stdout, code))
        }
    };
}

impl Rt for Tulip {
    tulip_common!();

    fn run<F>(body: F) -> F::Output
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let event_loop = tulip::EventLoop::new().expect("create tulip event loop");
        event_loop
            .run_until_complete(body)
            .expect("run tulip event loop")
    }
}

impl Rt for TulipMt {
    tulip_common!();

    fn run<F>(body: F) -> F::Output
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let runtime = multi_thread_runtime();
        let task = runtime.spawn(body).expect("spawn on tulip runtime");
        runtime
            .block_on(Unwrapped(task))
            .expect("run tulip multi-thread runtime")
    }
}
