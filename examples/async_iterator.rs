//! `async for`: an asynchronous iterator and an asynchronous generator.
//!
//! Seed 001's Ticker, from PEP 525: a number every `delay` seconds, written
//! once as a class with `__anext__` and once as an `async def` with `yield`.
//! The seed shows only the two definitions; this is the program that runs
//! them, printing when each number arrives on the loop's clock:
//!
//! ```python
//! class Ticker:
//!     def __init__(self, delay, to):
//!         self.delay = delay
//!         self.i = 0
//!         self.to = to
//!
//!     def __aiter__(self):
//!         return self
//!
//!     async def __anext__(self):
//!         i = self.i
//!         if i >= self.to:
//!             raise StopAsyncIteration
//!         self.i += 1
//!         if i:
//!             await asyncio.sleep(self.delay)
//!         return i
//!
//! async def ticker(delay, to):
//!     for i in range(to):
//!         yield i
//!         await asyncio.sleep(delay)
//!
//! async def main():
//!     loop = asyncio.get_running_loop()
//!     start = loop.time()
//!     async for i in Ticker(1, 5):
//!         print(f"Ticker: {i} at {loop.time() - start:.0f} s")
//!     print(f"Ticker: done at {loop.time() - start:.0f} s")
//!     start = loop.time()
//!     async for i in ticker(1, 5):
//!         print(f"ticker: {i} at {loop.time() - start:.0f} s")
//!     print(f"ticker: done at {loop.time() - start:.0f} s")
//! ```
//!
//! In Rust an asynchronous iterator is a `Stream` and `async for` is
//! `while let Some(item) = stream.next().await`. The class becomes a struct
//! implementing `Stream` by hand; the generator, which stable Rust does not
//! have, becomes `stream::unfold`, an async block per item. The two differ
//! as in Python: the generator sleeps once more after its last number, when
//! it is asked for the next one, so it is done a second later.
//!
//! The loop runs on virtual time, so the seconds pass at once.

// The tour and the snapshot tests include this file as a module too.
#[path = "common/mod.rs"]
mod common;

use std::error::Error;
use std::future::Future;
use std::io::{self, Write};
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use common::{Elapsed, Transcript, say};
use futures_lite::{Stream, StreamExt, stream};
use tulip::time::Sleep;

/// The asynchronous iterator: `0..to`, waiting `delay` before each number
/// but the first.
struct Ticker {
    delay: Duration,
    i: u64,
    to: u64,
    /// The wait before the next number, once it has begun.
    sleeping: Option<Sleep>,
}

impl Ticker {
    fn new(delay: Duration, to: u64) -> Ticker {
        Ticker {
            delay,
            i: 0,
            to,
            sleeping: None,
        }
    }
}

impl Stream for Ticker {
    type Item = u64;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<u64>> {
        let i = self.i;
        if i >= self.to {
            return Poll::Ready(None);
        }
        if i > 0 {
            let delay = self.delay;
            // Kept across polls, so that a number is never waited for twice.
            let sleeping = self.sleeping.get_or_insert_with(|| tulip::sleep(delay));
            ready!(Pin::new(sleeping).poll(cx));
            self.sleeping = None;
        }
        self.i += 1;
        Poll::Ready(Some(i))
    }
}

/// The asynchronous generator: yields a number, then sleeps before the next.
fn ticker(delay: Duration, to: u64) -> impl Stream<Item = u64> {
    stream::unfold(0, move |i| async move {
        // The sleep after the previous `yield`, which runs when the next
        // number is asked for.
        if i > 0 {
            tulip::sleep(delay).await;
        }
        (i < to).then_some((i, i + 1))
    })
}

async fn count(out: Transcript, clock: Elapsed) {
    let delay = Duration::from_secs(1);
    let mut start = clock.secs();
    let mut numbers = Ticker::new(delay, 5);
    while let Some(i) = numbers.next().await {
        say!(out, "Ticker: {i} at {:.0} s", clock.secs() - start);
    }
    say!(out, "Ticker: done at {:.0} s", clock.secs() - start);

    start = clock.secs();
    let mut numbers = std::pin::pin!(ticker(delay, 5));
    while let Some(i) = numbers.next().await {
        say!(out, "ticker: {i} at {:.0} s", clock.secs() - start);
    }
    say!(out, "ticker: done at {:.0} s", clock.secs() - start);
}

/// Runs the example, printing to `out`.
pub(crate) fn run(out: &mut dyn Write) -> Result<(), Box<dyn Error>> {
    let transcript = Transcript::new();
    let event_loop = tulip::EventLoop::builder().virtual_time().build()?;
    let clock = Elapsed::start(event_loop.handle());
    event_loop.run_until_complete(count(transcript.clone(), clock))?;
    Ok(transcript.write_to(out)?)
}

fn main() -> Result<(), Box<dyn Error>> {
    run(&mut io::stdout().lock())
}
