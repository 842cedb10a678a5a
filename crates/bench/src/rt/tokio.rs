//! tokio, in its two flavours: `current_thread` and `multi_thread` with 2 workers.
//!
//! Both use `tokio::sync`: `mpsc::channel` for the queue, `Mutex` for the
//! lock and `Notify` for the event; and `tokio::process` for subprocesses.

use std::future::Future;
use std::io;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncWriteExt as _;

use super::{AsyncEvent, AsyncLock, QueueRx, QueueTx, Rt, Unwrapped, exit_code};

/// tokio's `current_thread` runtime; the body runs in `Runtime::block_on`,
/// as under `#[tokio::main(flavor = "current_thread")]`.
pub(crate) struct TokioCt;

/// tokio's `multi_thread` runtime with 2 worker threads (one per core here).
///
/// The body is itself spawned onto a worker and `block_on` only waits for
/// it: tasks spawned from a worker go to that worker's local queue, which
/// is how a tokio server spawns (from its accept task) and tokio's fast path.
pub(crate) struct TokioMt;

/// Workers of [`TokioMt`].
const WORKERS: usize = 2;

/// Sending half of `tokio::sync::mpsc::channel`.
pub(crate) struct TokioTx<T>(tokio::sync::mpsc::Sender<T>);

impl<T> Clone for TokioTx<T> {
    fn clone(&self) -> Self {
        TokioTx(self.0.clone())
    }
}

impl<T: Send + 'static> QueueTx<T> for TokioTx<T> {
    async fn send(&self, item: T) -> bool {
        self.0.send(item).await.is_ok()
    }
}

/// Receiving half of `tokio::sync::mpsc::channel`.
pub(crate) struct TokioRx<T>(tokio::sync::mpsc::Receiver<T>);

impl<T: Send + 'static> QueueRx<T> for TokioRx<T> {
    fn recv(&mut self) -> impl Future<Output = Option<T>> + Send + '_ {
        self.0.recv()
    }
}

impl<T: Send + Sync + 'static> AsyncLock<T> for tokio::sync::Mutex<T> {
    type Guard<'a> = tokio::sync::MutexGuard<'a, T>;

    fn new(value: T) -> Self {
        tokio::sync::Mutex::new(value)
    }

    fn lock(&self) -> impl Future<Output = Self::Guard<'_>> + Send + '_ {
        tokio::sync::Mutex::lock(self)
    }
}

impl AsyncEvent for tokio::sync::Notify {
    fn new() -> Self {
        tokio::sync::Notify::new()
    }

    fn wait(&self) -> impl Future<Output = ()> + Send + '_ {
        // `Notified` registers on its first poll.
        self.notified()
    }
}

/// The parts common to both flavours; only `run` differs.
macro_rules! tokio_common {
    () => {
        type Handle<T: Send + 'static> = Unwrapped<tokio::task::JoinHandle<T>>;
        type Tx<T: Send + 'static> = TokioTx<T>;
        type Rx<T: Send + 'static> = TokioRx<T>;
        type Lock<T: Send + Sync + 'static> = tokio::sync::Mutex<T>;
        type Event = tokio::sync::Notify;

        fn spawn<F>(task: F) -> Self::Handle<F::Output>
        where
            F: Future + Send + 'static,
            F::Output: Send + 'static,
        {
            Unwrapped(tokio::spawn(task))
        }

        fn spawn_detached<F>(task: F)
        where
            F: Future<Output = ()> + Send + 'static,
        {
            // Dropping a tokio JoinHandle detaches the task.
            drop(tokio::spawn(task));
        }

        fn yield_now() -> impl Future<Output = ()> + Send {
            tokio::task::yield_now()
        }

        fn sleep(duration: Duration) -> impl Future<Output = ()> + Send {
            tokio::time::sleep(duration)
        }

        fn bounded<T: Send + 'static>(capacity: usize) -> (TokioTx<T>, TokioRx<T>) {
            let (tx, rx) = tokio::sync::mpsc::channel(capacity);
            (TokioTx(tx), TokioRx(rx))
        }

        async fn spawn_wait(program: &'static str) -> io::Result<i32> {
            let mut child = tokio::process::Command::new(program).spawn()?;
            Ok(exit_code(child.wait().await?))
        }

        async fn communicate(program: &'static str, input: &[u8]) -> io::Result<(Vec<u8>, i32)> {
            let mut child = tokio::process::Command::new(program)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()?;
            let mut stdin = child.stdin.take().expect("stdin is piped");
            let feed = async move {
                stdin.write_all(input).await?;
                // Closing stdin is what ends the child's input.
                drop(stdin);
                Ok(())
            };
            // `wait_with_output` reads stdout to its end, then waits; joined
            // with the writer, so both pipes move at once.
            let ((), output) = tokio::try_join!(feed, child.wait_with_output())?;
            Ok((output.stdout, exit_code(output.status)))
        }
    };
}

impl Rt for TokioCt {
    tokio_common!();

    fn run<F>(body: F) -> F::Output
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("build tokio current_thread runtime")
            .block_on(body)
    }
}

impl Rt for TokioMt {
    tokio_common!();

    fn run<F>(body: F) -> F::Output
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(WORKERS)
            .enable_all()
            .build()
            .expect("build tokio multi_thread runtime");
        runtime.block_on(Unwrapped(runtime.spawn(body)))
    }
}
