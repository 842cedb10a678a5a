//! The behavioural suite (`tests/suite`) under tokio's current-thread
//! runtime.

mod suite;

use std::future::Future;
use std::panic;

use tokio::task::{JoinError, JoinHandle};

use suite::{Cancelled, Runtime};

/// tokio's current-thread runtime: a fresh one per test; its `block_on`
/// runs the spawned tasks too.
struct Tokio;

/// A task's result as the suite sees it: a panic of the task resumes here.
fn joined<T>(result: Result<T, JoinError>) -> Result<T, Cancelled> {
    match result {
        Ok(output) => Ok(output),
        Err(error) if error.is_cancelled() => Err(Cancelled),
        Err(error) => panic::resume_unwind(error.into_panic()),
    }
}

impl Runtime for Tokio {
    type Handle<T: Send + 'static> = JoinHandle<T>;

    fn run<F>(future: F) -> F::Output
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a tokio runtime")
            .block_on(future)
    }

    fn spawn<F>(future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        tokio::spawn(future)
    }

    async fn join<T: Send + 'static>(handle: JoinHandle<T>) -> Result<T, Cancelled> {
        joined(handle.await)
    }

    fn cancel<T: Send + 'static>(handle: &JoinHandle<T>) {
        handle.abort();
    }

    fn is_finished<T: Send + 'static>(handle: &JoinHandle<T>) -> bool {
        handle.is_finished()
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        tokio::task::yield_now()
    }
}

suite::instantiate_suite!(crate::Tokio);
