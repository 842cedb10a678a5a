//! tulip: its single-threaded event loop, `EventLoop::run_until_complete`.

use std::future::Future;
use std::time::Duration;

use super::{ChannelRx, ChannelTx, Rt, Unwrapped, async_channel_bounded};

/// tulip's event loop on the calling thread.
pub(crate) struct Tulip;

impl Rt for Tulip {
    type Handle<T: Send + 'static> = Unwrapped<tulip::JoinHandle<T>>;
    // tulip-sync has no queue yet: until it does, tulip runs the same
    // `async_channel` as smol (see the E4 note).
    type Tx<T: Send + 'static> = ChannelTx<T>;
    type Rx<T: Send + 'static> = ChannelRx<T>;

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

    fn bounded<T: Send + 'static>(capacity: usize) -> (ChannelTx<T>, ChannelRx<T>) {
        async_channel_bounded(capacity)
    }
}
