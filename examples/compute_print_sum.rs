//! `loop.run_until_complete`: one coroutine awaiting another.
//!
//! The asyncio docs' first example, quoted at the end of seed 001: `print_sum`
//! awaits `compute`, which sleeps a second before it returns, all on a loop
//! created, run until the coroutine completes, and closed by hand:
//!
//! ```python
//! async def compute(x, y):
//!     print("Compute %s + %s ..." % (x, y))
//!     await asyncio.sleep(1.0)
//!     return x + y
//!
//! async def print_sum(x, y):
//!     result = await compute(x, y)
//!     print("%s + %s = %s" % (x, y, result))
//!
//! loop = asyncio.get_event_loop()
//! loop.run_until_complete(print_sum(1, 2))
//! loop.close()
//! ```
//!
//! The loop runs on virtual time, so the second passes at once; the last line
//! says how long the loop's clock ran.

// The tour and the snapshot tests include this file as a module too.
#[path = "common/mod.rs"]
mod common;

use std::error::Error;
use std::io::{self, Write};
use std::time::Duration;

use common::{Elapsed, Transcript, say};

async fn compute(out: &Transcript, x: u64, y: u64) -> u64 {
    say!(out, "Compute {x} + {y} ...");
    tulip::sleep(Duration::from_secs(1)).await;
    x + y
}

async fn print_sum(out: Transcript, x: u64, y: u64) {
    let result = compute(&out, x, y).await;
    say!(out, "{x} + {y} = {result}");
}

/// Runs the example, printing to `out`.
pub(crate) fn run(out: &mut dyn Write) -> Result<(), Box<dyn Error>> {
    let transcript = Transcript::new();
    let event_loop = tulip::EventLoop::builder().virtual_time().build()?;
    let clock = Elapsed::start(event_loop.handle());
    event_loop.run_until_complete(print_sum(transcript.clone(), 1, 2))?;
    say!(transcript, "(the loop's clock ran {:.1} s)", clock.secs());
    event_loop.close()?;
    Ok(transcript.write_to(out)?)
}

fn main() -> Result<(), Box<dyn Error>> {
    run(&mut io::stdout().lock())
}
