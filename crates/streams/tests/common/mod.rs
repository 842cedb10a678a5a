//! The runtime the integration tests run on, chosen by `TULIP_TEST_RUNTIME`:
//! unset (or `loop`) for the event loop, `multi_thread` for the multi-thread
//! runtime with two workers. The tests of tulip-protocol and tulip-process
//! include this same file (`#[path]`).
#![allow(dead_code, unreachable_pub)] // each test binary uses a part of it

use std::error::Error;
use std::future::Future;

use tulip_executor::{EventLoop, Runtime};

/// The variable that chooses the runtime.
pub const VAR: &str = "TULIP_TEST_RUNTIME";

/// The multi-thread runtime's worker count in these tests.
pub const WORKERS: usize = 2;

/// Where the tests' futures run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TestRuntime {
    /// The single-thread event loop (the default).
    Loop,
    /// The multi-thread runtime with [`WORKERS`] workers.
    MultiThread,
}

/// The runtime `TULIP_TEST_RUNTIME` names; panics on a value it does not know.
pub fn test_runtime() -> TestRuntime {
    match std::env::var(VAR).as_deref() {
        Err(std::env::VarError::NotPresent) | Ok("" | "loop") => TestRuntime::Loop,
        Ok("multi_thread") => TestRuntime::MultiThread,
        Ok(other) => {
            panic!("{VAR}={other:?} names no runtime: use `loop` (the default) or `multi_thread`")
        }
        Err(error) => panic!("{VAR}: {error}; use `loop` (the default) or `multi_thread`"),
    }
}

/// Runs `future` to completion on a fresh runtime of the chosen kind.
pub fn block_on<F>(future: F) -> Result<F::Output, Box<dyn Error>>
where
    F: Future + 'static,
    F::Output: 'static,
{
    block_on_with(None, future)
}

/// [`block_on`], with a blocking pool of at most `max_blocking_threads`.
pub fn block_on_with<F>(
    max_blocking_threads: Option<usize>,
    future: F,
) -> Result<F::Output, Box<dyn Error>>
where
    F: Future + 'static,
    F::Output: 'static,
{
    match test_runtime() {
        TestRuntime::Loop => {
            let mut builder = EventLoop::builder();
            if let Some(threads) = max_blocking_threads {
                builder = builder.max_blocking_threads(threads);
            }
            Ok(builder.build()?.run_until_complete(future)?)
        }
        TestRuntime::MultiThread => {
            let mut builder = Runtime::multi_thread().worker_threads(WORKERS);
            if let Some(threads) = max_blocking_threads {
                builder = builder.max_blocking_threads(threads);
            }
            Ok(builder.build()?.block_on(future)?)
        }
    }
}

/// A multi-thread runtime as [`block_on`] makes it, whatever `TULIP_TEST_RUNTIME`
/// says: for the tests that pin the runtime's own behaviour.
pub fn multi_thread() -> Runtime {
    Runtime::multi_thread()
        .worker_threads(WORKERS)
        .build()
        .expect("a multi-thread runtime")
}
