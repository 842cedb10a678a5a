//! smol: one `smol::Executor` driven by `smol::block_on(ex.run(..))` on the
//! calling thread, the setup smol's own docs show for a single-threaded program.

use std::cell::RefCell;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use super::{ChannelRx, ChannelTx, Rt, async_channel_bounded};

/// smol on the calling thread.
pub(crate) struct Smol;

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

impl Rt for Smol {
    type Handle<T: Send + 'static> = smol::Task<T>;
    type Tx<T: Send + 'static> = ChannelTx<T>;
    type Rx<T: Send + 'static> = ChannelRx<T>;

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
        async_channel_bounded(capacity)
    }
}
