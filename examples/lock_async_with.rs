//! `async with lock:`: one holder at a time, served in arrival order.
//!
//! Seed 004's listing 11.4: coroutines `a` and `b` share a lock; `a` gets
//! it first and holds it over a two-second `delay`, and `b` waits until `a`
//! leaves the critical section.
//!
//! ```python
//! async def delay(delay_seconds: int) -> int:  # the book's util.delay
//!     print(f'sleeping for {delay_seconds} second(s)')
//!     await asyncio.sleep(delay_seconds)
//!     print(f'finished sleeping for {delay_seconds} second(s)')
//!     return delay_seconds
//!
//! async def a(lock: Lock):
//!     print('Coroutine a waiting to acquire the lock')
//!     async with lock:
//!         print('Coroutine a is in the critical section')
//!         await delay(2)
//!     print('Coroutine a released the lock')
//!
//! async def b(lock: Lock):
//!     print('Coroutine b waiting to acquire the lock')
//!     async with lock:
//!         print('Coroutine b is in the critical section')
//!         await delay(2)
//!     print('Coroutine b released the lock')
//!
//! async def main():
//!     lock = Lock()
//!     await asyncio.gather(a(lock), b(lock))
//!
//! asyncio.run(main())
//! ```
//!
//! The listing imports `delay` from the book's `util` module, which the seed
//! does not show; the function above is the book's, and prints the lines the
//! seed's output shows.
//!
//! Seed 002's Lock example: four competitors ask for the lock at once and
//! each holds it for `n` seconds. The lock is fair: they get it in the order
//! they asked.
//!
//! ```python
//! async def lock_competitor(n, lock):
//!     print(f"competitor{n} try to get lock")
//!     async with lock:
//!         print(f"competitor{n} get the lock")
//!         print(f"competitor sleep for {n} seconds...")
//!         await asyncio.sleep(n)
//!         print(f"competitor{n} wake up!")
//!     print(f"competitor{n} give up the lock")
//!
//! async def main():
//!     lock = asyncio.Lock()
//!     await asyncio.gather(*[lock_competitor(n, lock) for n in range(1, 5)])
//!
//! asyncio.run(main())
//! ```
//!
//! In tulip, `lock.lock().await` gives a guard and the lock is held until
//! the guard is dropped: `async with lock:` is a block that owns the guard.
//! `gather` of the coroutines becomes `tulip::gather!` and
//! `tulip::gather_all`, which run them inside the awaiting task, so they can
//! borrow the lock.

// The tour and the snapshot tests include this file as a module too.
#[path = "common/mod.rs"]
mod common;

use std::error::Error;
use std::io::{self, Write};
use std::time::Duration;

use common::{Transcript, say};
use tulip::sync::Lock;

/// The book's `util.delay`: sleeps, saying so before and after.
async fn delay(out: &Transcript, delay_seconds: u64) -> u64 {
    say!(out, "sleeping for {delay_seconds} second(s)");
    tulip::sleep(Duration::from_secs(delay_seconds)).await;
    say!(out, "finished sleeping for {delay_seconds} second(s)");
    delay_seconds
}

/// Listing 11.4's `a` and `b`, which differ only in their name.
async fn coroutine(out: Transcript, name: &str, lock: &Lock) {
    say!(out, "Coroutine {name} waiting to acquire the lock");
    {
        let _guard = lock.lock().await;
        say!(out, "Coroutine {name} is in the critical section");
        delay(&out, 2).await;
    }
    say!(out, "Coroutine {name} released the lock");
}

/// Listing 11.4's `main`.
async fn two_coroutines(out: Transcript) {
    let lock = Lock::new(());
    tulip::gather!(
        coroutine(out.clone(), "a", &lock),
        coroutine(out.clone(), "b", &lock),
    )
    .await;
}

/// Seed 002's competitor: holds the lock for `n` seconds.
async fn lock_competitor(out: Transcript, n: u64, lock: &Lock) {
    say!(out, "competitor{n} try to get lock");
    {
        let _guard = lock.lock().await;
        say!(out, "competitor{n} get the lock");
        say!(out, "competitor sleep for {n} seconds...");
        tulip::sleep(Duration::from_secs(n)).await;
        say!(out, "competitor{n} wake up!");
    }
    say!(out, "competitor{n} give up the lock");
}

/// Seed 002's `main`.
async fn four_competitors(out: Transcript) {
    let lock = Lock::new(());
    tulip::gather_all((1..5).map(|n| lock_competitor(out.clone(), n, &lock))).await;
}

/// Runs the example, printing to `out`.
pub(crate) fn run(out: &mut dyn Write) -> Result<(), Box<dyn Error>> {
    let transcript = Transcript::new();
    // One loop per Python program.
    let event_loop = tulip::EventLoop::builder().virtual_time().build()?;
    event_loop.run_until_complete(two_coroutines(transcript.clone()))?;

    let event_loop = tulip::EventLoop::builder().virtual_time().build()?;
    event_loop.run_until_complete(four_competitors(transcript.clone()))?;
    Ok(transcript.write_to(out)?)
}

fn main() -> Result<(), Box<dyn Error>> {
    run(&mut io::stdout().lock())
}
