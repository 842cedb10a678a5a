//! A race condition on one thread: a counter read before an `await` and
//! written after it.
//!
//! Seed 004's listing 11.1: a thousand rounds of a hundred tasks that each
//! add one to a shared counter. Incrementing is not atomic, but on asyncio's
//! single thread nothing runs between the read and the write, so every
//! round counts to 100.
//!
//! ```python
//! counter: int = 0
//!
//! async def increment():
//!     global counter
//!     await asyncio.sleep(0.01)
//!     counter = counter + 1
//!
//! async def main():
//!     global counter
//!     for _ in range(1000):
//!         tasks = [asyncio.create_task(increment()) for _ in range(100)]
//!         await asyncio.gather(*tasks)
//!         print(f'Counter is {counter}')
//!         assert counter == 100
//!         counter = 0
//!
//! asyncio.run(main())
//! ```
//!
//! Listing 11.2 moves the `await` between the read and the write. Every task
//! reads 0, sleeps, and writes 1: the first round counts to 1 and the
//! assertion fails.
//!
//! ```python
//! async def increment():
//!     global counter
//!     temp_counter = counter
//!     temp_counter = temp_counter + 1
//!     await asyncio.sleep(0.01)
//!     counter = temp_counter
//! ```
//!
//! The port runs both programs, one after the other: a thousand lines
//! `Counter is 100`, then `Counter is 1`. Python ends the second with an
//! `AssertionError` traceback on stderr; the port prints the traceback's
//! last line, `AssertionError`, as its own last line, and ends normally.
//!
//! The global counter is a `Cell` shared by the tasks of one thread (an
//! `Rc`, and `tulip::spawn_local`): Rust lets such state be changed only
//! from one thread, which is exactly the setting of these races.

// The tour and the snapshot tests include this file as a module too.
#[path = "common/mod.rs"]
mod common;

use std::cell::Cell;
use std::error::Error;
use std::fmt;
use std::future::Future;
use std::io::{self, Write};
use std::rc::Rc;
use std::time::Duration;

use common::{Transcript, say};

/// The rounds of each program.
const ROUNDS: usize = 1000;
/// The tasks of each round, and so the count every round should reach.
const TASKS: u32 = 100;

/// Python's bare `assert` failing.
#[derive(Debug)]
struct AssertionError;

impl fmt::Display for AssertionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AssertionError")
    }
}

impl Error for AssertionError {}

/// The shared counter.
type Counter = Rc<Cell<u32>>;

/// Listing 11.1: sleeps, then reads and writes with nothing in between.
async fn increment(counter: Counter) {
    tulip::sleep(Duration::from_millis(10)).await;
    counter.set(counter.get() + 1);
}

/// Listing 11.2: reads, sleeps, then writes what it read plus one.
async fn increment_racy(counter: Counter) {
    let mut temp_counter = counter.get();
    temp_counter += 1;
    tulip::sleep(Duration::from_millis(10)).await;
    counter.set(temp_counter);
}

/// The listings' `main`, with the increment to run: `Ok(Err(..))` when the
/// assertion fails, as Python's `main` raises.
async fn rounds<F, Fut>(
    out: Transcript,
    increment: F,
) -> Result<Result<(), AssertionError>, tulip::JoinError>
where
    F: Fn(Counter) -> Fut,
    Fut: Future<Output = ()> + 'static,
{
    let counter = Counter::default();
    for _ in 0..ROUNDS {
        let tasks: Vec<_> = (0..TASKS)
            .map(|_| tulip::spawn_local(increment(Rc::clone(&counter))))
            .collect();
        for result in tulip::gather_all(tasks).await {
            result?;
        }
        say!(out, "Counter is {}", counter.get());
        if counter.get() != TASKS {
            return Ok(Err(AssertionError));
        }
        counter.set(0);
    }
    Ok(Ok(()))
}

/// Prints the last line of the traceback Python would end with, if any.
fn report(out: &Transcript, outcome: Result<(), AssertionError>) {
    if let Err(exception) = outcome {
        say!(out, "{exception}");
    }
}

/// Runs the example, printing to `out`.
pub(crate) fn run(out: &mut dyn Write) -> Result<(), Box<dyn Error>> {
    let transcript = Transcript::new();
    // One loop per Python program.
    let event_loop = tulip::EventLoop::builder().virtual_time().build()?;
    let outcome = event_loop.run_until_complete(rounds(transcript.clone(), increment))??;
    report(&transcript, outcome);

    let event_loop = tulip::EventLoop::builder().virtual_time().build()?;
    let outcome = event_loop.run_until_complete(rounds(transcript.clone(), increment_racy))??;
    report(&transcript, outcome);
    Ok(transcript.write_to(out)?)
}

fn main() -> Result<(), Box<dyn Error>> {
    run(&mut io::stdout().lock())
}
