//! `asyncio.Semaphore`: at most two of four operations at a time.
//!
//! Seed 004's listing 11.6: four operations each hold a semaphore of two
//! permits for two seconds. The first two get a permit at once; the other
//! two wait until those release theirs, two seconds later.
//!
//! ```python
//! async def operation(semaphore: Semaphore):
//!     print('Waiting to acquire semaphore...')
//!     async with semaphore:
//!         print('Semaphore acquired!')
//!         await asyncio.sleep(2)
//!     print('Semaphore released!')
//!
//! async def main():
//!     semaphore = Semaphore(2)
//!     await asyncio.gather(*[operation(semaphore) for _ in range(4)])
//!
//! asyncio.run(main())
//! ```
//!
//! In tulip, `acquire` gives a permit, and dropping the permit releases it:
//! `async with semaphore:` is a block that owns the permit. `gather` of the
//! operations becomes `tulip::gather_all`, which runs them inside the
//! awaiting task, so they can borrow the semaphore. (Seed 004's listing 11.7
//! applies the same idea to HTTP requests with aiohttp; it needs the network
//! and prints nothing deterministic, so it has no port.)

// The tour and the snapshot tests include this file as a module too.
#[path = "common/mod.rs"]
mod common;

use std::error::Error;
use std::io::{self, Write};
use std::time::Duration;

use common::{Transcript, say};
use tulip::sync::Semaphore;

/// Holds a permit for two seconds.
async fn operation(out: Transcript, semaphore: &Semaphore) {
    say!(out, "Waiting to acquire semaphore...");
    {
        let _permit = semaphore.acquire().await;
        say!(out, "Semaphore acquired!");
        tulip::sleep(Duration::from_secs(2)).await;
    }
    say!(out, "Semaphore released!");
}

/// The listing's `main`: four operations, two permits.
async fn main_task(out: Transcript) {
    let semaphore = Semaphore::new(2);
    tulip::gather_all((0..4).map(|_| operation(out.clone(), &semaphore))).await;
}

/// Runs the example, printing to `out`.
pub(crate) fn run(out: &mut dyn Write) -> Result<(), Box<dyn Error>> {
    let transcript = Transcript::new();
    let event_loop = tulip::EventLoop::builder().virtual_time().build()?;
    event_loop.run_until_complete(main_task(transcript.clone()))?;
    Ok(transcript.write_to(out)?)
}

fn main() -> Result<(), Box<dyn Error>> {
    run(&mut io::stdout().lock())
}
