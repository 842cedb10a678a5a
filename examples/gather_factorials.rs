//! `asyncio.gather`: running tasks concurrently.
//!
//! The asyncio docs' gather example, quoted in seed 002 ("Running Tasks
//! Concurrently"): three factorials computed at once, each sleeping one
//! second per step. The lines interleave exactly as asyncio prints them:
//!
//! ```python
//! async def factorial(name, number):
//!     f = 1
//!     for i in range(2, number + 1):
//!         print(f"Task {name}: Compute factorial({i})...")
//!         await asyncio.sleep(1)
//!         f *= i
//!     print(f"Task {name}: factorial({number}) = {f}")
//!
//! async def main():
//!     await asyncio.gather(factorial("A", 2), factorial("B", 3), factorial("C", 4))
//! ```
//!
//! The loop runs on virtual time, so the three seconds pass at once.

// The tour and the snapshot tests include this file as a module too.
#[path = "common/mod.rs"]
mod common;

use std::error::Error;
use std::io::{self, Write};
use std::time::Duration;

use common::{Transcript, say};

async fn factorial(out: Transcript, name: &str, number: u64) -> u64 {
    let mut f = 1;
    for i in 2..=number {
        say!(out, "Task {name}: Compute factorial({i})...");
        tulip::sleep(Duration::from_secs(1)).await;
        f *= i;
    }
    say!(out, "Task {name}: factorial({number}) = {f}");
    f
}

/// Runs the example, printing to `out`.
pub(crate) fn run(out: &mut dyn Write) -> Result<(), Box<dyn Error>> {
    let transcript = Transcript::new();
    let event_loop = tulip::EventLoop::builder().virtual_time().build()?;
    let printer = transcript.clone();
    event_loop.run_until_complete(async move {
        tulip::gather!(
            factorial(printer.clone(), "A", 2),
            factorial(printer.clone(), "B", 3),
            factorial(printer, "C", 4),
        )
        .await
    })?;
    Ok(transcript.write_to(out)?)
}

fn main() -> Result<(), Box<dyn Error>> {
    run(&mut io::stdout().lock())
}
