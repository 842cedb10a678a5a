//! `asyncio.Event` is a flag, not a queue: a busy worker misses events.
//!
//! Seed 004's listing 11.13: a trigger sets an event every second, for five
//! seconds; two workers wait for it, clear it and work for five seconds.
//! Both start on the first trigger; the next four happen while they work,
//! and all a worker sees when it is done is that the flag is still set.
//!
//! ```python
//! async def trigger_event_periodically(event: Event):
//!     while True:
//!         print('Triggering event!')
//!         event.set()
//!         await asyncio.sleep(1)
//!
//! async def do_work_on_event(event: Event):
//!     while True:
//!         print('Waiting for event...')
//!         await event.wait()
//!         event.clear()
//!         print('Performing work!')
//!         await asyncio.sleep(5)
//!         print('Finished work!')
//!
//! async def main():
//!     event = asyncio.Event()
//!     trigger = asyncio.wait_for(trigger_event_periodically(event), 5.0)
//!
//!     with suppress(asyncio.TimeoutError):
//!         await asyncio.gather(do_work_on_event(event), do_work_on_event(event), trigger)
//!
//! asyncio.run(main())
//! ```
//!
//! At five seconds, the first worker finishes, sees the flag the fourth
//! trigger set, clears it and starts again; the second finds it cleared and
//! waits. Then `wait_for` times out, `gather` raises `TimeoutError`, and
//! `main` suppresses it and returns; the workers are cancelled by
//! `asyncio.run` (here, dropped with the loop) before they print anything
//! more.
//!
//! Python 3.11's `wait_for` runs the coroutine as a task of its own and
//! cancels that task at the deadline, and so does this port. On the virtual
//! clock the deadline falls at the very instant of the trigger's sixth
//! wake-up (Python's real clock puts that wake-up a little later), and
//! `tulip::wait_for` around the coroutine itself would let it run once more
//! first: the inner future is polled before the deadline is checked. As a
//! task, the trigger is cancelled by the timeout, which was scheduled first,
//! before it runs again, and the output is Python's.

// The tour and the snapshot tests include this file as a module too.
#[path = "common/mod.rs"]
mod common;

use std::error::Error;
use std::future::Future;
use std::io::{self, Write};
use std::sync::Arc;
use std::time::Duration;

use common::{Transcript, say};
use tulip::sync::Event;
use tulip::{JoinError, TimeoutError};

/// Sets the event every second, forever.
async fn trigger_event_periodically(out: Transcript, event: Arc<Event>) {
    loop {
        say!(out, "Triggering event!");
        event.set();
        tulip::sleep(Duration::from_secs(1)).await;
    }
}

/// Waits for the event, clears it and works for five seconds, forever.
async fn do_work_on_event(out: Transcript, event: Arc<Event>) {
    loop {
        say!(out, "Waiting for event...");
        event.wait().await;
        event.clear();
        say!(out, "Performing work!");
        tulip::sleep(Duration::from_secs(5)).await;
        say!(out, "Finished work!");
    }
}

/// asyncio 3.11's `wait_for`: runs `future` as a task of its own until it
/// finishes or `timeout` passes, and cancels the task then.
async fn wait_for<F>(
    future: F,
    timeout: Duration,
) -> Result<Result<F::Output, JoinError>, TimeoutError>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let mut task = tulip::spawn(future);
    let outcome = tulip::wait_for(&mut task, Some(timeout)).await;
    if outcome.is_err() {
        task.cancel();
    }
    outcome
}

/// The listing's `main`: two workers, and the trigger under a five-second
/// timeout.
async fn main_task(out: Transcript) -> Result<(), JoinError> {
    let event = Arc::new(Event::new());
    let _workers = [
        tulip::spawn(do_work_on_event(out.clone(), Arc::clone(&event))),
        tulip::spawn(do_work_on_event(out.clone(), Arc::clone(&event))),
    ];
    let trigger = tulip::spawn(wait_for(
        trigger_event_periodically(out.clone(), Arc::clone(&event)),
        Duration::from_secs(5),
    ));
    // The workers never finish: the gather ends when the trigger does, with
    // a TimeoutError, which `main` suppresses.
    if let Ok(finished) = trigger.await? {
        finished?;
    }
    Ok(())
}

/// Runs the example, printing to `out`.
pub(crate) fn run(out: &mut dyn Write) -> Result<(), Box<dyn Error>> {
    let transcript = Transcript::new();
    let event_loop = tulip::EventLoop::builder().virtual_time().build()?;
    event_loop.run_until_complete(main_task(transcript.clone()))??;
    Ok(transcript.write_to(out)?)
}

fn main() -> Result<(), Box<dyn Error>> {
    run(&mut io::stdout().lock())
}
