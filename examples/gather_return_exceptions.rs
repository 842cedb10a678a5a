//! `asyncio.gather(..., return_exceptions=True)`: errors as results.
//!
//! Seed 002's example: `coro1()` raises at once while `coro_n(2)` and
//! `coro_n(3)` sleep; with `return_exceptions=True` the exception is one of
//! the results.
//!
//! ```python
//! async def coro1():
//!     raise Exception()
//!
//! async def coro_n(num):
//!     print('coro', num)
//!     await asyncio.sleep(num)
//!     return num
//!
//! async def main():
//!     results = await asyncio.gather(coro1(), coro_n(2), coro_n(3), return_exceptions=True)
//!     print(results)
//!
//!     loop = asyncio.get_running_loop()
//!     start = loop.time()
//!     try:
//!         await asyncio.gather(coro_n(2), coro_n(3), coro1())
//!     except Exception as e:
//!         print(f"gather raised {e!r} after {loop.time() - start:.0f}s")
//! ```
//!
//! In Rust a raised exception is an `Err` value: the coroutines return
//! `Result`s, and `gather!` gives the tuple of them, errors included, which is
//! `return_exceptions=True`. The seed shows the default,
//! `return_exceptions=False`, as a traceback; its counterpart is
//! `tulip::try_gather`, which ends at the first `Err` (the second part).
//!
//! One difference shows there: asyncio makes a task of every coroutine
//! before any runs, so `coro 2` and `coro 3` print even when `coro1()` comes
//! first, while `try_gather` polls its futures in order inside the awaiting
//! task and drops the rest at the first error, before their first poll. The
//! second part therefore lists `coro1()` last, where both print the same
//! lines; and no sleeper is left behind, where asyncio's keep running
//! until `asyncio.run` cancels them.

// The tour and the snapshot tests include this file as a module too.
#[path = "common/mod.rs"]
mod common;

use std::error::Error;
use std::fmt;
use std::future::Future;
use std::io::{self, Write};
use std::pin::Pin;
use std::time::Duration;

use common::{Elapsed, Transcript, py_list, say};

/// Python's bare `Exception()`.
#[derive(Debug)]
struct Exception;

impl fmt::Display for Exception {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Exception()")
    }
}

impl Error for Exception {}

async fn coro1() -> Result<u64, Exception> {
    Err(Exception)
}

async fn coro_n(out: Transcript, num: u64) -> Result<u64, Exception> {
    say!(out, "coro {num}");
    tulip::sleep(Duration::from_secs(num)).await;
    Ok(num)
}

/// A result as the item of a Python list: the value, or the exception's repr.
fn py_item(result: &Result<u64, Exception>) -> String {
    match result {
        Ok(value) => value.to_string(),
        Err(exception) => exception.to_string(),
    }
}

/// `try_gather` takes futures of one type, so the different coroutines are boxed.
type Coroutine = Pin<Box<dyn Future<Output = Result<u64, Exception>>>>;

async fn main_task(out: Transcript, clock: Elapsed) {
    let (first, second, third) =
        tulip::gather!(coro1(), coro_n(out.clone(), 2), coro_n(out.clone(), 3)).await;
    say!(out, "{}", py_list([&first, &second, &third].map(py_item)));

    let start = clock.secs();
    let coroutines: [Coroutine; 3] = [
        Box::pin(coro_n(out.clone(), 2)),
        Box::pin(coro_n(out.clone(), 3)),
        Box::pin(coro1()),
    ];
    match tulip::try_gather(coroutines).await {
        Ok(values) => say!(out, "gather returned {}", py_list(values)),
        Err(exception) => say!(
            out,
            "gather raised {exception} after {:.0}s",
            clock.secs() - start
        ),
    }
}

/// Runs the example, printing to `out`.
pub(crate) fn run(out: &mut dyn Write) -> Result<(), Box<dyn Error>> {
    let transcript = Transcript::new();
    let event_loop = tulip::EventLoop::builder().virtual_time().build()?;
    let clock = Elapsed::start(event_loop.handle());
    event_loop.run_until_complete(main_task(transcript.clone(), clock))?;
    Ok(transcript.write_to(out)?)
}

fn main() -> Result<(), Box<dyn Error>> {
    run(&mut io::stdout().lock())
}
