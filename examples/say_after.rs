//! `await` one coroutine after another vs `asyncio.create_task`.
//!
//! The asyncio docs' "hello world" timing example, quoted in seed 002 ("Run a
//! coroutine"): awaiting `say_after(1, 'hello')` then `say_after(2, 'world')`
//! takes three seconds; spawning both as tasks first takes two, because the
//! tasks wait at the same time.
//!
//! ```python
//! async def say_after(delay, what):
//!     await asyncio.sleep(delay)
//!     print(what)
//!
//! async def main():
//!     print(f"started at {time.strftime('%X')}")
//!     await say_after(1, 'hello')
//!     await say_after(2, 'world')
//!     print(f"finished at {time.strftime('%X')}")
//! ```
//!
//! Python prints the wall-clock time (`started at 17:13:52`); this port runs
//! on virtual time and prints the loop's clock in seconds since the start
//! instead (`started at t=0`, `finished at t=3`), which is the same on every
//! run.

// The tour and the snapshot tests include this file as a module too.
#[path = "common/mod.rs"]
mod common;

use std::error::Error;
use std::io::{self, Write};
use std::time::Duration;

use common::{Elapsed, Transcript, say};

async fn say_after(out: Transcript, delay: u64, what: &str) {
    tulip::sleep(Duration::from_secs(delay)).await;
    say!(out, "{what}");
}

/// One coroutine after the other: 1 s + 2 s.
async fn sequential(out: Transcript, clock: Elapsed) {
    say!(out, "started at t={:.0}", clock.secs());
    say_after(out.clone(), 1, "hello").await;
    say_after(out.clone(), 2, "world").await;
    say!(out, "finished at t={:.0}", clock.secs());
}

/// Both as tasks first, then awaited: they sleep side by side, 2 s in all.
async fn concurrent(out: Transcript, clock: Elapsed) -> Result<(), tulip::JoinError> {
    let task1 = tulip::spawn(say_after(out.clone(), 1, "hello"));
    let task2 = tulip::spawn(say_after(out.clone(), 2, "world"));
    say!(out, "started at t={:.0}", clock.secs());
    task1.await?;
    task2.await?;
    say!(out, "finished at t={:.0}", clock.secs());
    Ok(())
}

/// Runs the example, printing to `out`.
pub(crate) fn run(out: &mut dyn Write) -> Result<(), Box<dyn Error>> {
    let transcript = Transcript::new();
    // Two loops, as the Python program calls `asyncio.run` twice.
    let event_loop = tulip::EventLoop::builder().virtual_time().build()?;
    let clock = Elapsed::start(event_loop.handle());
    event_loop.run_until_complete(sequential(transcript.clone(), clock))?;

    let event_loop = tulip::EventLoop::builder().virtual_time().build()?;
    let clock = Elapsed::start(event_loop.handle());
    event_loop.run_until_complete(concurrent(transcript.clone(), clock))??;
    Ok(transcript.write_to(out)?)
}

fn main() -> Result<(), Box<dyn Error>> {
    run(&mut io::stdout().lock())
}
