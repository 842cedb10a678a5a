//! `asyncio.Event`: tasks wait until the flag is set, then all go on.
//!
//! Three programs of the seeds, one after another. Seed 000's: two
//! coroutines wait for an event that a `call_later` callback sets 0.1 s
//! later; unlike a lock, the event lets both go at once.
//!
//! ```python
//! def set_event(event):
//!     print('setting event in callback')
//!     event.set()
//!
//! async def coro1(event):
//!     print('coro1 waiting for event')
//!     await event.wait()
//!     print('coro1 triggered')
//!
//! async def coro2(event):
//!     print('coro2 waiting for event')
//!     await event.wait()
//!     print('coro2 triggered')
//!
//! async def main(loop):
//!     event = asyncio.Event()
//!     print(f'event start state: {event.is_set()}')
//!
//!     loop.call_later(0.1, functools.partial(set_event, event))
//!
//!     await asyncio.gather(coro1(event), coro2(event))
//!     print(f'event end state: {event.is_set()}')
//!
//! event_loop = asyncio.get_event_loop()
//! try:
//!     event_loop.run_until_complete(main(event_loop))
//! finally:
//!     event_loop.close()
//! ```
//!
//! The seed shows `coro2` waiting (and triggered) before `coro1`: Python 3.6
//! scheduled the coroutines given to `gather` in no fixed order. Python 3.11
//! schedules them in argument order, and prints `coro1` first, as this port
//! does.
//!
//! Seed 004's listing 11.10: two workers wait for an event set 5 s later,
//! work for a second, and clear it.
//!
//! ```python
//! def trigger_event(event: Event):
//!     event.set()
//!
//! async def do_work_on_event(event: Event):
//!     print('Waiting for event...')
//!     await event.wait()
//!     print('Performing work!')
//!     await asyncio.sleep(1)
//!     print('Finished work!')
//!     event.clear()
//!
//! async def main():
//!     event = asyncio.Event()
//!     asyncio.get_running_loop().call_later(5.0, functools.partial(trigger_event, event))
//!     await asyncio.gather(do_work_on_event(event), do_work_on_event(event))
//!
//! asyncio.run(main())
//! ```
//!
//! (The output the seed shows for it has a `Triggering event!` line that
//! the program never prints; neither Python nor this port prints it.)
//!
//! Seed 002's: one task waits while `main` sleeps a second and sets the
//! event.
//!
//! ```python
//! async def waiter(event):
//!     print('waiting for it ...')
//!     await event.wait()
//!     print('... got it!')
//!
//! async def main():
//!     event = asyncio.Event()
//!     waiter_task = asyncio.create_task(waiter(event))
//!     await asyncio.sleep(1)
//!     event.set()
//!     await waiter_task
//!
//! asyncio.run(main())
//! ```
//!
//! `gather` of coroutines becomes `tulip::gather!`, which runs them inside
//! the awaiting task; they can borrow the event there, while the callbacks
//! and the spawned task own a reference-counted one.

// The tour and the snapshot tests include this file as a module too.
#[path = "common/mod.rs"]
mod common;

use std::error::Error;
use std::io::{self, Write};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use common::{Transcript, py_bool, say};
use tulip::Handle;
use tulip::sync::Event;

/// Seed 000's callback.
fn set_event(out: &Transcript, event: &Event) {
    say!(out, "setting event in callback");
    event.set();
}

/// Seed 000's `coro1` and `coro2`, which differ only in their name.
async fn coro(out: Transcript, name: &str, event: &Event) {
    say!(out, "{name} waiting for event");
    event.wait().await;
    say!(out, "{name} triggered");
}

/// Seed 000's `main`.
async fn two_coroutines(out: Transcript) -> Result<(), Box<dyn Error>> {
    let event = Rc::new(Event::new());
    say!(out, "event start state: {}", py_bool(event.is_set()));

    let (printer, setter) = (out.clone(), Rc::clone(&event));
    Handle::current()?.call_later(Duration::from_millis(100), move || {
        set_event(&printer, &setter);
    })?;

    tulip::gather!(
        coro(out.clone(), "coro1", &event),
        coro(out.clone(), "coro2", &event),
    )
    .await;
    say!(out, "event end state: {}", py_bool(event.is_set()));
    Ok(())
}

/// Listing 11.10's worker.
async fn do_work_on_event(out: Transcript, event: &Event) {
    say!(out, "Waiting for event...");
    event.wait().await;
    say!(out, "Performing work!");
    tulip::sleep(Duration::from_secs(1)).await;
    say!(out, "Finished work!");
    event.clear();
}

/// Listing 11.10's `main`.
async fn two_workers(out: Transcript) -> Result<(), Box<dyn Error>> {
    let event = Rc::new(Event::new());
    let trigger = Rc::clone(&event);
    Handle::current()?.call_later(Duration::from_secs(5), move || trigger.set())?;
    tulip::gather!(
        do_work_on_event(out.clone(), &event),
        do_work_on_event(out.clone(), &event),
    )
    .await;
    Ok(())
}

/// Seed 002's waiter.
async fn waiter(out: Transcript, event: Arc<Event>) {
    say!(out, "waiting for it ...");
    event.wait().await;
    say!(out, "... got it!");
}

/// Seed 002's `main`.
async fn one_waiter(out: Transcript) -> Result<(), tulip::JoinError> {
    let event = Arc::new(Event::new());
    let waiter_task = tulip::spawn(waiter(out, Arc::clone(&event)));
    tulip::sleep(Duration::from_secs(1)).await;
    event.set();
    waiter_task.await
}

/// Runs the example, printing to `out`.
pub(crate) fn run(out: &mut dyn Write) -> Result<(), Box<dyn Error>> {
    let transcript = Transcript::new();
    // One loop per Python program.
    let event_loop = tulip::EventLoop::builder().virtual_time().build()?;
    event_loop.run_until_complete(two_coroutines(transcript.clone()))??;

    let event_loop = tulip::EventLoop::builder().virtual_time().build()?;
    event_loop.run_until_complete(two_workers(transcript.clone()))??;

    let event_loop = tulip::EventLoop::builder().virtual_time().build()?;
    event_loop.run_until_complete(one_waiter(transcript.clone()))??;
    Ok(transcript.write_to(out)?)
}

fn main() -> Result<(), Box<dyn Error>> {
    run(&mut io::stdout().lock())
}
