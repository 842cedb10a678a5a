//! `asyncio.Condition`: `notify(n)` wakes n waiters, `notify_all` wakes the rest.
//!
//! Seed 000's Condition example: five consumers wait on a condition;
//! `manipulate_condition` notifies one of them, then two, then all that are
//! left, 0.1 s apart. Each woken consumer takes the condition's lock back
//! before it goes on.
//!
//! ```python
//! async def consumer(condition, n):
//!     async with condition:
//!         print(f'consumer {n} is waiting')
//!         await condition.wait()
//!         print(f'consumer {n} triggered')
//!     print(f'ending consumer {n}')
//!
//! async def manipulate_condition(condition):
//!     print('starting manipulate_condition')
//!
//!     await asyncio.sleep(0.1)
//!
//!     for i in range(1, 3):
//!         async with condition:
//!             print(f'notifying {i} consumers')
//!             condition.notify(n=i)
//!         await asyncio.sleep(0.1)
//!
//!     async with condition:
//!         print('notifying remaining consumers')
//!         condition.notify_all()
//!
//!     print('ending manipulate_condition')
//!
//! async def main(loop):
//!     condition = asyncio.Condition()
//!
//!     consumers = [consumer(condition, i) for i in range(5)]
//!
//!     loop.create_task(manipulate_condition(condition))
//!
//!     await asyncio.gather(*consumers)
//!
//! event_loop = asyncio.get_event_loop()
//! try:
//!     result = event_loop.run_until_complete(main(event_loop))
//! finally:
//!     event_loop.close()
//! ```
//!
//! The seed takes the lock with `with await condition:`, which Python 3.9
//! removed; the program above uses `async with condition:` instead. The
//! output the seed shows comes from Python 3.6, which started the
//! coroutines given to `gather` in no fixed order (consumer 2 first) and
//! printed `notifying 1 consumers` before any consumer waited. Python 3.11
//! starts them in order and runs them all before `manipulate_condition`
//! wakes from its sleep; this port prints what Python 3.11 prints.
//!
//! The second part is seed 004's listing 11.14: two workers wait on a
//! condition, and every 5 seconds `fire_event` notifies them all; each
//! works for a second holding the lock, so they take turns.
//!
//! ```python
//! async def do_work(condition: Condition):
//!     while True:
//!         print('Waiting for condition lock...')
//!         async with condition:
//!             print('Acquired lock, releasing and waiting for condition...')
//!             await condition.wait()
//!             print('Condition event fired, re-acquiring lock and doing work...')
//!             await asyncio.sleep(1)
//!         print('Work finished, lock released.')
//!
//! async def fire_event(condition: Condition):
//!     while True:
//!         await asyncio.sleep(5)
//!         print('About to notify, acquiring condition lock...')
//!         async with condition:
//!             print('Lock acquired, notifying all workers.')
//!             condition.notify_all()
//!         print('Notification finished, releasing lock.')
//!
//! async def main():
//!     condition = Condition()
//!
//!     asyncio.create_task(fire_event(condition))
//!     await asyncio.gather(do_work(condition), do_work(condition))
//!
//! asyncio.run(main())
//! ```
//!
//! That program runs forever; this port stops it after 14 seconds (on the
//! virtual clock), after two rounds of notifications and a second before the
//! third. Its output is what Python prints in its first 14 seconds. (The
//! output the seed shows for it comes from a variant of the program that
//! names each worker and words some lines differently.)
//!
//! In tulip, `condition.lock()` gives the lock's guard, `condition.wait`
//! takes the guard and gives it back once notified and holding the lock
//! again, and the lock is released when the guard is dropped. asyncio's
//! `gather` runs each coroutine as a task; so does this port, so that
//! everything starts in the same order.

// The tour and the snapshot tests include this file as a module too.
#[path = "common/mod.rs"]
mod common;

use std::error::Error;
use std::io::{self, Write};
use std::sync::Arc;
use std::time::Duration;

use common::{Transcript, say};
use tulip::sync::{Condition, ForeignGuard};

/// What a task gives when `Condition::wait` refuses its guard (which cannot
/// happen here: every guard is of the condition's own lock).
fn foreign(error: ForeignGuard<'_, ()>) -> String {
    error.to_string()
}

/// Seed 000's consumer.
async fn consumer(out: Transcript, condition: Arc<Condition>, n: usize) -> Result<(), String> {
    {
        let guard = condition.lock().await;
        say!(out, "consumer {n} is waiting");
        let _guard = condition.wait(guard).await.map_err(foreign)?;
        say!(out, "consumer {n} triggered");
    }
    say!(out, "ending consumer {n}");
    Ok(())
}

/// Seed 000's notifier: one consumer, then two, then all the others.
async fn manipulate_condition(out: Transcript, condition: Arc<Condition>) {
    say!(out, "starting manipulate_condition");

    tulip::sleep(Duration::from_millis(100)).await;

    for i in 1..3 {
        {
            let _guard = condition.lock().await;
            say!(out, "notifying {i} consumers");
            condition.notify(i);
        }
        tulip::sleep(Duration::from_millis(100)).await;
    }

    {
        let _guard = condition.lock().await;
        say!(out, "notifying remaining consumers");
        condition.notify_all();
    }

    say!(out, "ending manipulate_condition");
}

/// Seed 000's `main`.
async fn five_consumers(out: Transcript) -> Result<(), Box<dyn Error>> {
    let condition = Arc::new(Condition::new(()));

    // Python makes the consumer coroutines first but starts them (in
    // `gather`) after `manipulate_condition`'s task is created.
    tulip::spawn(manipulate_condition(out.clone(), Arc::clone(&condition))).detach();

    let consumers: Vec<_> = (0..5)
        .map(|n| tulip::spawn(consumer(out.clone(), Arc::clone(&condition), n)))
        .collect();
    for task in consumers {
        task.await??;
    }
    Ok(())
}

/// Listing 11.14's worker; it only ends if the condition refuses its guard.
async fn do_work(out: Transcript, condition: Arc<Condition>) -> Result<(), String> {
    loop {
        say!(out, "Waiting for condition lock...");
        {
            let guard = condition.lock().await;
            say!(out, "Acquired lock, releasing and waiting for condition...");
            let _guard = condition.wait(guard).await.map_err(foreign)?;
            say!(
                out,
                "Condition event fired, re-acquiring lock and doing work..."
            );
            tulip::sleep(Duration::from_secs(1)).await;
        }
        say!(out, "Work finished, lock released.");
    }
}

/// Listing 11.14's notifier, every 5 seconds.
async fn fire_event(out: Transcript, condition: Arc<Condition>) {
    loop {
        tulip::sleep(Duration::from_secs(5)).await;
        say!(out, "About to notify, acquiring condition lock...");
        {
            let _guard = condition.lock().await;
            say!(out, "Lock acquired, notifying all workers.");
            condition.notify_all();
        }
        say!(out, "Notification finished, releasing lock.");
    }
}

/// How long the port lets listing 11.14 run.
const RUN_FOR: Duration = Duration::from_secs(14);

/// Listing 11.14's `main`, stopped after [`RUN_FOR`].
async fn two_workers(out: Transcript) -> Result<(), Box<dyn Error>> {
    let condition = Arc::new(Condition::new(()));

    tulip::spawn(fire_event(out.clone(), Arc::clone(&condition))).detach();
    let workers = tulip::gather!(
        tulip::spawn(do_work(out.clone(), Arc::clone(&condition))),
        tulip::spawn(do_work(out.clone(), Arc::clone(&condition))),
    );
    // The workers never finish: the time limit ends the run.
    if let Ok((first, second)) = tulip::timeout(RUN_FOR, workers).await {
        first??;
        second??;
    }
    Ok(())
}

/// Runs the example, printing to `out`.
pub(crate) fn run(out: &mut dyn Write) -> Result<(), Box<dyn Error>> {
    let transcript = Transcript::new();
    // One loop per Python program.
    let event_loop = tulip::EventLoop::builder().virtual_time().build()?;
    event_loop.run_until_complete(five_consumers(transcript.clone()))??;

    let event_loop = tulip::EventLoop::builder().virtual_time().build()?;
    event_loop.run_until_complete(two_workers(transcript.clone()))??;
    Ok(transcript.write_to(out)?)
}

fn main() -> Result<(), Box<dyn Error>> {
    run(&mut io::stdout().lock())
}
