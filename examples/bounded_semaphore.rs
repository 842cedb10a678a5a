//! `asyncio.BoundedSemaphore`: releasing more often than acquiring is an error.
//!
//! Seed 004's listing 11.8: a semaphore of two permits, acquired twice and
//! released three times. asyncio's `release()` adds a permit whoever calls
//! it, so the semaphore now has three, and the next round lets three
//! holders in at once.
//!
//! ```python
//! async def acquire(semaphore: Semaphore):
//!     print('Waiting to acquire')
//!     async with semaphore:
//!         print('Acquired')
//!         await asyncio.sleep(5)
//!     print('Releasing')
//!
//! async def release(semaphore: Semaphore):
//!     print('Releasing as a one off!')
//!     semaphore.release()
//!     print('Released as a one off!')
//!
//! async def main():
//!     semaphore = Semaphore(2)
//!
//!     print("Acquiring twice, releasing three times...")
//!     await asyncio.gather(acquire(semaphore),
//!                          acquire(semaphore),
//!                          release(semaphore))
//!
//!     print("Acquiring three times...")
//!     await asyncio.gather(acquire(semaphore),
//!                          acquire(semaphore),
//!                          acquire(semaphore))
//!
//! asyncio.run(main())
//! ```
//!
//! Listing 11.9: a `BoundedSemaphore` refuses a release that would take it
//! above its initial value.
//!
//! ```python
//! async def main():
//!     semaphore = BoundedSemaphore(1)
//!
//!     await semaphore.acquire()
//!     semaphore.release()
//!     semaphore.release()
//!
//! asyncio.run(main())
//! ```
//!
//! Python prints nothing for the second program but a traceback on stderr,
//! whose last line is `ValueError: BoundedSemaphore released too many
//! times`; tulip's `release` returns an error instead of raising, and the
//! port prints that line.
//!
//! In tulip, `acquire` gives a permit that releases itself when dropped,
//! which is `async with semaphore:`. asyncio's bare `acquire()`, to be
//! paired with a `release()` by hand, is `acquire().await.forget()`: the
//! permit stays taken until `release` gives it back.

// The tour and the snapshot tests include this file as a module too.
#[path = "common/mod.rs"]
mod common;

use std::error::Error;
use std::io::{self, Write};
use std::time::Duration;

use common::{Transcript, say};
use tulip::sync::{BoundedSemaphore, ReleaseError, Semaphore};

/// Holds a permit for five seconds.
async fn acquire(out: Transcript, semaphore: &Semaphore) {
    say!(out, "Waiting to acquire");
    {
        let _permit = semaphore.acquire().await;
        say!(out, "Acquired");
        tulip::sleep(Duration::from_secs(5)).await;
    }
    say!(out, "Releasing");
}

/// Releases a permit nobody acquired.
async fn release(out: Transcript, semaphore: &Semaphore) {
    say!(out, "Releasing as a one off!");
    semaphore.release();
    say!(out, "Released as a one off!");
}

/// Listing 11.8's `main`.
async fn over_release(out: Transcript) {
    let semaphore = Semaphore::new(2);

    say!(out, "Acquiring twice, releasing three times...");
    tulip::gather!(
        acquire(out.clone(), &semaphore),
        acquire(out.clone(), &semaphore),
        release(out.clone(), &semaphore),
    )
    .await;

    say!(out, "Acquiring three times...");
    tulip::gather!(
        acquire(out.clone(), &semaphore),
        acquire(out.clone(), &semaphore),
        acquire(out.clone(), &semaphore),
    )
    .await;
}

/// Listing 11.9's `main`: the second release fails.
async fn bounded() -> Result<(), ReleaseError> {
    let semaphore = BoundedSemaphore::new(1);

    semaphore.acquire().await.forget();
    semaphore.release()?;
    semaphore.release()?;
    Ok(())
}

/// Runs the example, printing to `out`.
pub(crate) fn run(out: &mut dyn Write) -> Result<(), Box<dyn Error>> {
    let transcript = Transcript::new();
    // One loop per Python program.
    let event_loop = tulip::EventLoop::builder().virtual_time().build()?;
    event_loop.run_until_complete(over_release(transcript.clone()))?;

    let event_loop = tulip::EventLoop::builder().virtual_time().build()?;
    if let Err(error) = event_loop.run_until_complete(bounded())? {
        // The last line of Python's traceback.
        say!(transcript, "ValueError: {error}");
    }
    Ok(transcript.write_to(out)?)
}

fn main() -> Result<(), Box<dyn Error>> {
    run(&mut io::stdout().lock())
}
