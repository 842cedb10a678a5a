//! smol, in two setups: one `smol::Executor` driven by
//! `smol::block_on(ex.run(..))` on the calling thread, the setup smol's own
//! docs show for a single-threaded program ([`Smol`]); and one `Executor`
//! shared by 2 threads that each run `smol::block_on(ex.run(shutdown))`, the
//! multi-threaded setup of `smol::Executor`'s docs (there with
//! `easy-parallel`, here with `std::thread::scope`) ([`SmolMt`]).
//!
//! Its primitives are the ones smol re-exports: `async_channel` (as
//! `smol::channel`) for the queue, `async_lock` (as `smol::lock`) for the
//! lock, `event_listener`, the event both of those are built on, and
//! `async_process` (as `smol::process`) for subprocesses.

use std::cell::RefCell;
use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use async_process::Stdio;
use smol::io::AsyncWriteExt as _;

use super::{AsyncEvent, AsyncLock, QueueRx, QueueTx, Rt, exit_code};

/// smol on the calling thread.
pub(crate) struct Smol;

/// smol's `Executor` on 2 threads (one per core here), the counterpart of
/// tokio's `multi_thread` runtime with 2 workers.
///
/// `Executor::run` on 2 scoped threads, each `smol::block_on(ex.run(
/// shutdown.recv()))`, as `smol::Executor`'s docs do with `easy-parallel`;
/// the body is spawned onto the executor (so it runs on one of the 2, and
/// the tasks it spawns are spawned from a runner, as tokio_mt's and
/// tulip_mt's are from a worker), and the calling thread only waits for it
/// (`smol::block_on(task)`), then closes `shutdown` and joins the threads.
pub(crate) struct SmolMt;

/// Threads running the executor of [`SmolMt`].
pub(crate) const MT_THREADS: usize = 2;

thread_local! {
    /// The executor of the `Smol::run` in progress on this thread; tasks
    /// spawn onto it (smol has no ambient "current executor", so a program
    /// passes its executor around or keeps it in a thread-local like this).
    static EXECUTOR: RefCell<Option<Arc<smol::Executor<'static>>>> =
        const { RefCell::new(None) };
}

/// Spawns on this thread's executor.
fn spawn_here<F>(task: F) -> smol::Task<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    EXECUTOR.with_borrow(|executor| {
        executor
            .as_ref()
            .expect("Smol::spawn outside Smol::run")
            .spawn(task)
    })
}

/// Sending half of an `async_channel::bounded` queue.
pub(crate) struct ChannelTx<T>(async_channel::Sender<T>);

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

/// Receiving half of an `async_channel::bounded` queue.
pub(crate) struct ChannelRx<T>(async_channel::Receiver<T>);

impl<T: Send + 'static> QueueRx<T> for ChannelRx<T> {
    async fn recv(&mut self) -> Option<T> {
        self.0.recv().await.ok()
    }
}

impl<T: Send + Sync + 'static> AsyncLock<T> for smol::lock::Mutex<T> {
    type Guard<'a> = smol::lock::MutexGuard<'a, T>;

    fn new(value: T) -> Self {
        smol::lock::Mutex::new(value)
    }

    fn lock(&self) -> impl Future<Output = Self::Guard<'_>> + Send + '_ {
        smol::lock::Mutex::lock(self)
    }
}

impl AsyncEvent for event_listener::Event {
    fn new() -> Self {
        event_listener::Event::new()
    }

    fn wait(&self) -> impl Future<Output = ()> + Send + '_ {
        // The listener registers here, when it is created; awaiting it
        // waits for a notification.
        self.listen()
    }
}

/// The parts common to both setups; only `run` differs.
macro_rules! smol_common {
    () => {
        type Handle<T: Send + 'static> = smol::Task<T>;
        type Tx<T: Send + 'static> = ChannelTx<T>;
        type Rx<T: Send + 'static> = ChannelRx<T>;
        type Lock<T: Send + Sync + 'static> = smol::lock::Mutex<T>;
        type Event = event_listener::Event;

        fn spawn<F>(task: F) -> smol::Task<F::Output>
        where
            F: Future + Send + 'static,
            F::Output: Send + 'static,
        {
            spawn_here(task)
        }

        fn spawn_detached<F>(task: F)
        where
            F: Future<Output = ()> + Send + 'static,
        {
            // Dropping a smol Task cancels it; detach keeps it running.
            spawn_here(task).detach();
        }

        fn yield_now() -> impl Future<Output = ()> + Send {
            smol::future::yield_now()
        }

        fn sleep(duration: Duration) -> impl Future<Output = ()> + Send {
            // The deadline is taken now, as tokio's and tulip's `sleep` do.
            let timer = smol::Timer::after(duration);
            async move {
                timer.await;
            }
        }

        fn bounded<T: Send + 'static>(capacity: usize) -> (ChannelTx<T>, ChannelRx<T>) {
            let (tx, rx) = async_channel::bounded(capacity);
            (ChannelTx(tx), ChannelRx(rx))
        }

        async fn spawn_wait(program: &'static str) -> io::Result<i32> {
            let mut child = async_process::Command::new(program).spawn()?;
            Ok(exit_code(child.status().await?))
        }

        async fn communicate(program: &'static str, input: &[u8]) -> io::Result<(Vec<u8>, i32)> {
            let mut child = async_process::Command::new(program)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()?;
            let mut stdin = child.stdin.take().expect("stdin is piped");
            let feed = async move {
                stdin.write_all(input).await?;
                stdin.flush().await?;
                // Closing stdin is what ends the child's input.
                drop(stdin);
                Ok(())
            };
            // `output` reads stdout to its end and waits; zipped with the
            // writer, so both pipes move at once.
            let ((), output) = smol::future::try_zip(feed, child.output()).await?;
            Ok((output.stdout, exit_code(output.status)))
        }
    };
}

impl Rt for Smol {
    smol_common!();

    fn run<F>(body: F) -> F::Output
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let executor = Arc::new(smol::Executor::new());
        let previous = EXECUTOR.replace(Some(Arc::clone(&executor)));
        let output = smol::block_on(executor.run(body));
        EXECUTOR.set(previous);
        output
    }
}

impl Rt for SmolMt {
    smol_common!();

    fn run<F>(body: F) -> F::Output
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let executor = Arc::new(smol::Executor::new());
        // Closed (its sender dropped) once the body is done: the runners'
        // `ex.run(shutdown.recv())` then return.
        let (signal, shutdown) = async_channel::bounded::<()>(1);
        std::thread::scope(|scope| {
            for index in 0..MT_THREADS {
                let executor = Arc::clone(&executor);
                let shutdown = shutdown.clone();
                std::thread::Builder::new()
                    .name(format!("smol-mt-{index}"))
                    .spawn_scoped(scope, move || {
                        EXECUTOR.set(Some(Arc::clone(&executor)));
                        let _ = smol::block_on(executor.run(shutdown.recv()));
                        EXECUTOR.set(None);
                    })
                    .expect("start a smol executor thread");
            }
            let previous = EXECUTOR.replace(Some(Arc::clone(&executor)));
            let output = smol::block_on(executor.spawn(body));
            EXECUTOR.set(previous);
            drop(signal);
            output
        })
    }
}
