//! `asyncio.wait_for`: giving up on a coroutine after a timeout.
//!
//! Seed 002's "Timeouts" example: `eternity()` sleeps an hour, `wait_for`
//! allows it one second, and the `TimeoutError` is caught.
//!
//! ```python
//! async def eternity():
//!     await asyncio.sleep(3600)
//!     print('yay!')
//!
//! async def main():
//!     try:
//!         await asyncio.wait_for(eternity(), timeout=1.0)
//!     except asyncio.TimeoutError:
//!         print('timeout!')
//! ```
//!
//! `tulip::wait_for` gives `Err(TimeoutError)` where asyncio raises, and drops
//! (cancels) `eternity()`, which therefore never prints `yay!`. The port adds
//! the loop's clock and the other outcome, a coroutine that finishes within
//! its timeout; the whole Python counterpart:
//!
//! ```python
//! async def quick():
//!     await asyncio.sleep(0.5)
//!     return "done in time"
//!
//! async def main():
//!     loop = asyncio.get_running_loop()
//!     start = loop.time()
//!     try:
//!         await asyncio.wait_for(eternity(), timeout=1.0)
//!         print("eternity finished")
//!     except asyncio.TimeoutError:
//!         print('timeout!')
//!     print(f"gave up at t={loop.time() - start:.1f}")
//!     try:
//!         print(f"quick: {await asyncio.wait_for(quick(), timeout=1.0)}")
//!     except asyncio.TimeoutError:
//!         print('quick: timeout!')
//!     print(f"finished at t={loop.time() - start:.1f}")
//! ```

// The tour and the snapshot tests include this file as a module too.
#[path = "common/mod.rs"]
mod common;

use std::error::Error;
use std::io::{self, Write};
use std::time::Duration;

use common::{Elapsed, Transcript, say};

async fn eternity(out: Transcript) {
    tulip::sleep(Duration::from_secs(3600)).await;
    say!(out, "yay!");
}

async fn quick() -> &'static str {
    tulip::sleep(Duration::from_millis(500)).await;
    "done in time"
}

/// Runs the example, printing to `out`.
pub(crate) fn run(out: &mut dyn Write) -> Result<(), Box<dyn Error>> {
    let transcript = Transcript::new();
    let event_loop = tulip::EventLoop::builder().virtual_time().build()?;
    let clock = Elapsed::start(event_loop.handle());
    let printer = transcript.clone();
    event_loop.run_until_complete(async move {
        match tulip::wait_for(eternity(printer.clone()), Some(Duration::from_secs(1))).await {
            Ok(()) => say!(printer, "eternity finished"),
            Err(tulip::TimeoutError) => say!(printer, "timeout!"),
        }
        say!(printer, "gave up at t={:.1}", clock.secs());

        match tulip::wait_for(quick(), Some(Duration::from_secs(1))).await {
            Ok(value) => say!(printer, "quick: {value}"),
            Err(tulip::TimeoutError) => say!(printer, "quick: timeout!"),
        }
        say!(printer, "finished at t={:.1}", clock.secs());
    })?;
    Ok(transcript.write_to(out)?)
}

fn main() -> Result<(), Box<dyn Error>> {
    run(&mut io::stdout().lock())
}
