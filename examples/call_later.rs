//! `loop.call_soon`, `loop.call_later` and `loop.call_at`: plain callbacks on the loop.
//!
//! Seed 000 schedules callbacks with `loop.call_later(0.1, ...)` to release a
//! lock and to set an event while coroutines wait for them (those programs
//! come with tulip's synchronisation primitives). This example shows the
//! scheduling itself: callbacks run in the order of their due time, those due
//! at the same time in the order they were scheduled, `call_soon` ones in the
//! loop's next iteration, and a cancelled timer never runs.
//!
//! ```python
//! def report(loop, start, what):
//!     print(f"t={loop.time() - start:.1f}: {what}")
//!
//! async def main():
//!     loop = asyncio.get_running_loop()
//!     start = loop.time()
//!     cb = functools.partial(report, loop, start)
//!     loop.call_later(0.2, cb, "call_later(0.2)")
//!     loop.call_later(0.1, cb, "call_later(0.1)")
//!     loop.call_at(start + 0.3, cb, "call_at(start + 0.3)")
//!     loop.call_soon(cb, "call_soon")
//!     loop.call_later(0.1, cb, "call_later(0.1), scheduled second")
//!     cancelled = loop.call_later(0.15, cb, "never printed: cancelled")
//!     cancelled.cancel()
//!     print("main: callbacks scheduled, sleeping 0.5 s")
//!     await asyncio.sleep(0.5)
//!     report(loop, start, "main: awake")
//! ```
//!
//! The second part is the asyncio docs' `display_date` example: a callback
//! that reschedules itself every second and stops `run_forever` after five
//! seconds.
//!
//! ```python
//! def display_date(start, end_time, loop):
//!     print(f"tick at t={loop.time() - start:.1f}")
//!     if (loop.time() + 1.0) < end_time:
//!         loop.call_later(1, display_date, start, end_time, loop)
//!     else:
//!         loop.stop()
//!
//! loop = asyncio.new_event_loop()
//! start = loop.time()
//! loop.call_soon(display_date, start, start + 5.0, loop)
//! loop.run_forever()
//! print(f"run_forever returned at t={loop.time() - start:.1f}")
//! loop.close()
//! ```
//!
//! The docs print `datetime.datetime.now()` at each tick; this port prints
//! the loop's virtual clock instead, the same on every run.

// The tour and the snapshot tests include this file as a module too.
#[path = "common/mod.rs"]
mod common;

use std::error::Error;
use std::io::{self, Write};
use std::time::{Duration, Instant};

use common::{Elapsed, Transcript, say};
use tulip::Handle;

/// Prints `what` with the loop's clock, as `report` does in Python.
fn report(out: &Transcript, clock: &Elapsed, what: &str) {
    say!(out, "t={:.1}: {what}", clock.secs());
}

/// The callbacks of the first part, scheduled from inside a task.
async fn schedule_callbacks(out: Transcript, clock: Elapsed) -> Result<(), Box<dyn Error>> {
    let handle = Handle::current()?;
    let start = handle.time();
    // Each callback owns what it prints with.
    let callback = |what: &'static str| {
        let (out, clock) = (out.clone(), clock.clone());
        move || report(&out, &clock, what)
    };
    handle.call_later(Duration::from_millis(200), callback("call_later(0.2)"))?;
    handle.call_later(Duration::from_millis(100), callback("call_later(0.1)"))?;
    handle.call_at(
        start + Duration::from_millis(300),
        callback("call_at(start + 0.3)"),
    )?;
    handle.call_soon(callback("call_soon"))?;
    handle.call_later(
        Duration::from_millis(100),
        callback("call_later(0.1), scheduled second"),
    )?;
    let cancelled = handle.call_later(
        Duration::from_millis(150),
        callback("never printed: cancelled"),
    )?;
    cancelled.cancel();
    say!(out, "main: callbacks scheduled, sleeping 0.5 s");
    tulip::sleep(Duration::from_millis(500)).await;
    report(&out, &clock, "main: awake");
    Ok(())
}

/// Prints the time and reschedules itself one second later, until `end`.
fn display_date(out: Transcript, clock: Elapsed, handle: Handle, end: Instant) {
    say!(out, "tick at t={:.1}", clock.secs());
    if handle.time() + Duration::from_secs(1) < end {
        let (printer, next) = (out.clone(), handle.clone());
        let rescheduled = handle.call_later(Duration::from_secs(1), move || {
            display_date(printer, clock, next, end)
        });
        // Only a closed loop or another thread refuses, neither of which is the case here.
        if let Err(error) = rescheduled {
            say!(out, "call_later failed: {error}");
            handle.stop();
        }
    } else {
        handle.stop();
    }
}

/// Runs the example, printing to `out`.
pub(crate) fn run(out: &mut dyn Write) -> Result<(), Box<dyn Error>> {
    let transcript = Transcript::new();
    let event_loop = tulip::EventLoop::builder().virtual_time().build()?;
    let clock = Elapsed::start(event_loop.handle());
    event_loop.run_until_complete(schedule_callbacks(transcript.clone(), clock))??;

    let event_loop = tulip::EventLoop::builder().virtual_time().build()?;
    let handle = event_loop.handle();
    let clock = Elapsed::start(handle.clone());
    let end = handle.time() + Duration::from_secs(5);
    let (printer, ticks) = (transcript.clone(), clock.clone());
    event_loop.call_soon(move || display_date(printer, ticks, handle, end))?;
    event_loop.run_forever()?;
    say!(transcript, "run_forever returned at t={:.1}", clock.secs());
    Ok(transcript.write_to(out)?)
}

fn main() -> Result<(), Box<dyn Error>> {
    run(&mut io::stdout().lock())
}
