//! The behavioural suite (`tests/suite`) under tulip's event loop.

mod suite;

use std::future::Future;
use std::panic;

use tulip_executor::{JoinError, JoinHandle, RunError};

use suite::{Cancelled, Runtime};

/// tulip's event loop: a fresh loop per test, closed at the end as
/// `asyncio.run` does.
struct Tulip;

/// A task's result as the suite sees it: a panic of the task resumes here.
fn joined<T>(result: Result<T, JoinError>) -> Result<T, Cancelled> {
    match result {
        Ok(output) => Ok(output),
        Err(error) if error.is_cancelled() => Err(Cancelled),
        Err(error) => match error.into_panic() {
            Ok(payload) => panic::resume_unwind(payload),
            Err(error) => panic!("the task failed: {error}"),
        },
    }
}

impl Runtime for Tulip {
    type Handle<T: Send + 'static> = JoinHandle<T>;

    fn run<F>(future: F) -> F::Output
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        match tulip_executor::run(future) {
            Ok(output) => output,
            Err(RunError::Task(error)) => match joined(Err::<(), _>(error)) {
                Ok(()) | Err(Cancelled) => panic!("the test's main task was cancelled"),
            },
            Err(error) => panic!("the event loop failed: {error}"),
        }
    }

    fn spawn<F>(future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        tulip_executor::spawn(future)
    }

    async fn join<T: Send + 'static>(handle: JoinHandle<T>) -> Result<T, Cancelled> {
        joined(handle.await)
    }

    fn cancel<T: Send + 'static>(handle: &JoinHandle<T>) {
        handle.cancel();
    }

    fn is_finished<T: Send + 'static>(handle: &JoinHandle<T>) -> bool {
        handle.is_finished()
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        tulip_executor::yield_now()
    }
}

suite::instantiate_suite!(crate::Tulip);
