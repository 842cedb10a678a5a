//! `asyncio.shield`: protecting work from the cancellation of whoever awaits it.
//!
//! Seed 002's "Shielding From Cancellation": `res = await shield(something())`
//! keeps `something()` running even if the task awaiting it is cancelled,
//! though that task's `await` itself ends with `CancelledError`. This example
//! shows both sides, then `wait_for` giving up on a shielded task that still
//! finishes. Its Python counterpart:
//!
//! ```python
//! async def something():
//!     print("something: working for 2 seconds")
//!     await asyncio.sleep(2)
//!     print("something: finished")
//!     return 42
//!
//! async def waiter():
//!     try:
//!         result = await asyncio.shield(something())
//!         print(f"waiter: got {result}")
//!     except asyncio.CancelledError:
//!         print("waiter: cancelled while awaiting the shield")
//!         raise
//!
//! async def main():
//!     loop = asyncio.get_running_loop()
//!     start = loop.time()
//!
//!     # Cancelling the task that awaits the shield leaves the work running.
//!     outer = asyncio.create_task(waiter())
//!     await asyncio.sleep(1)
//!     print(f"main: cancelling the waiter at t={loop.time() - start:.0f}")
//!     outer.cancel()
//!     try:
//!         await outer
//!     except asyncio.CancelledError:
//!         print("main: the waiter was cancelled")
//!     print(f"main: tasks still running: {len(asyncio.all_tasks())}")
//!     await asyncio.sleep(2)
//!     print(f"main: tasks still running at t={loop.time() - start:.0f}: {len(asyncio.all_tasks())}")
//!
//!     # wait_for gives up on the shield; the work goes on and can still be awaited.
//!     inner = asyncio.create_task(something())
//!     try:
//!         await asyncio.wait_for(asyncio.shield(inner), timeout=1)
//!     except asyncio.TimeoutError:
//!         print(f"main: timeout! at t={loop.time() - start:.0f}, something still running: {not inner.done()}")
//!     result = await inner
//!     print(f"main: something returned {result} at t={loop.time() - start:.0f}")
//! ```
//!
//! In Rust, cancelling a task drops its future, so the waiter's
//! `except CancelledError` becomes a guard whose `Drop` prints. `tulip::shield`
//! spawns the work as a task, as asyncio's `shield` wraps it in one, and
//! dropping the `Shield` detaches that task instead of cancelling it. In the
//! second part `wait_for` awaits the shield through `&mut`, so its time-out
//! drops only the borrow and the shield can be awaited again, as Python awaits
//! `inner`.

// The tour and the snapshot tests include this file as a module too.
#[path = "common/mod.rs"]
mod common;

use std::error::Error;
use std::io::{self, Write};
use std::time::Duration;

use common::{Elapsed, Transcript, py_bool, say};

async fn something(out: Transcript) -> u64 {
    say!(out, "something: working for 2 seconds");
    tulip::sleep(Duration::from_secs(2)).await;
    say!(out, "something: finished");
    42
}

/// Prints a line if dropped before [`disarm`](Self::disarm): Rust's
/// `except CancelledError`, since a cancelled task's future is dropped.
struct OnCancel {
    out: Transcript,
    line: &'static str,
    armed: bool,
}

impl OnCancel {
    fn new(out: Transcript, line: &'static str) -> OnCancel {
        OnCancel {
            out,
            line,
            armed: true,
        }
    }

    fn disarm(mut self) {
        self.armed = false;
    }
}

impl Drop for OnCancel {
    fn drop(&mut self) {
        if self.armed {
            say!(self.out, "{}", self.line);
        }
    }
}

async fn waiter(out: Transcript) {
    let on_cancel = OnCancel::new(out.clone(), "waiter: cancelled while awaiting the shield");
    let result = tulip::shield(something(out.clone())).await;
    on_cancel.disarm();
    match result {
        Ok(value) => say!(out, "waiter: got {value}"),
        Err(error) => say!(out, "waiter: {error}"),
    }
}

async fn main_task(out: Transcript, clock: Elapsed) -> Result<(), Box<dyn Error>> {
    // Cancelling the task that awaits the shield leaves the work running.
    let outer = tulip::spawn(waiter(out.clone()));
    tulip::sleep(Duration::from_secs(1)).await;
    say!(out, "main: cancelling the waiter at t={:.0}", clock.secs());
    outer.cancel();
    match outer.await {
        Err(error) if error.is_cancelled() => say!(out, "main: the waiter was cancelled"),
        Err(error) => return Err(error.into()),
        Ok(()) => say!(out, "main: the waiter finished"),
    }
    say!(
        out,
        "main: tasks still running: {}",
        tulip::all_tasks()?.len()
    );
    tulip::sleep(Duration::from_secs(2)).await;
    say!(
        out,
        "main: tasks still running at t={:.0}: {}",
        clock.secs(),
        tulip::all_tasks()?.len()
    );

    // wait_for gives up on the shield; the work goes on and can still be awaited.
    let mut inner = tulip::shield(something(out.clone()));
    match tulip::wait_for(&mut inner, Some(Duration::from_secs(1))).await {
        Ok(result) => say!(out, "main: something returned {} in time", result?),
        Err(tulip::TimeoutError) => say!(
            out,
            "main: timeout! at t={:.0}, something still running: {}",
            clock.secs(),
            py_bool(!inner.is_finished())
        ),
    }
    let result = inner.await?;
    say!(
        out,
        "main: something returned {result} at t={:.0}",
        clock.secs()
    );
    Ok(())
}

/// Runs the example, printing to `out`.
pub(crate) fn run(out: &mut dyn Write) -> Result<(), Box<dyn Error>> {
    let transcript = Transcript::new();
    let event_loop = tulip::EventLoop::builder().virtual_time().build()?;
    let clock = Elapsed::start(event_loop.handle());
    event_loop.run_until_complete(main_task(transcript.clone(), clock))??;
    Ok(transcript.write_to(out)?)
}

fn main() -> Result<(), Box<dyn Error>> {
    run(&mut io::stdout().lock())
}
