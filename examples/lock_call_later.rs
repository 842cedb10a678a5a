//! `asyncio.Lock`: a lock held by `main`, released by a `call_later` callback.
//!
//! Seed 000's Lock example: `main` takes the lock, schedules a callback to
//! release it 0.1 s later and starts two coroutines that want it; they wait
//! until the callback releases it, then get it one after the other, in the
//! order they asked.
//!
//! ```python
//! def unlock(lock):
//!     print('callback releasing lock')
//!     lock.release()
//!
//! async def coro1(lock):
//!     print('`coro1` waiting for the lock')
//!     async with lock:
//!         print('`coro1` acquired lock')
//!     print('`coro1` released lock')
//!
//! async def coro2(lock):
//!     print('`coro2` waiting for the lock')
//!     await lock.acquire()
//!     try:
//!         print('`coro2` acquired lock')
//!     finally:
//!         print('`coro2` released lock')
//!         lock.release()
//!
//! async def main(loop):
//!     lock = asyncio.Lock()
//!     print('acquiring the lock before starting coroutines')
//!     await lock.acquire()
//!     print(f'lock acquired: {lock.locked()}')
//!
//!     loop.call_later(0.1, functools.partial(unlock, lock))
//!
//!     print('waiting for coroutines')
//!     await asyncio.wait([asyncio.ensure_future(coro1(lock)),
//!                         asyncio.ensure_future(coro2(lock))])
//!
//! event_loop = asyncio.get_event_loop()
//! try:
//!     event_loop.run_until_complete(main(event_loop))
//! finally:
//!     event_loop.close()
//! ```
//!
//! The seed was written for Python 3.6: it takes the lock with
//! `with await lock:` and `await lock`, which Python 3.9 removed, and passes
//! bare coroutines to `asyncio.wait`, which Python 3.11 refuses. The program
//! above is the seed with those three spots modernised; it prints what the
//! seed shows.
//!
//! In tulip the lock is held for as long as its guard lives: `async with
//! lock:` is a block owning the guard, and `lock.release()` is dropping the
//! guard. So `main` hands its guard to the callback, which drops it. A
//! callback scheduled with `call_later` must own everything it uses (it may
//! run after `main` has returned), so `main` takes the lock with
//! `lock_owned`, whose guard holds an `Arc` of the lock rather than a
//! borrow.

// The tour and the snapshot tests include this file as a module too.
#[path = "common/mod.rs"]
mod common;

use std::error::Error;
use std::io::{self, Write};
use std::sync::Arc;
use std::time::Duration;

use common::{Transcript, py_bool, say};
use tulip::sync::{Lock, OwnedLockGuard};
use tulip::{Handle, ReturnWhen};

/// The callback: releases the lock by dropping the guard `main` gave it.
fn unlock(out: &Transcript, guard: OwnedLockGuard<()>) {
    say!(out, "callback releasing lock");
    drop(guard);
}

/// Holds the lock for the length of a block (`async with lock:`).
async fn coro1(out: Transcript, lock: Arc<Lock>) {
    say!(out, "`coro1` waiting for the lock");
    {
        let _guard = lock.lock().await;
        say!(out, "`coro1` acquired lock");
    }
    say!(out, "`coro1` released lock");
}

/// Takes the lock and releases it explicitly (`acquire()` and `release()`).
async fn coro2(out: Transcript, lock: Arc<Lock>) {
    say!(out, "`coro2` waiting for the lock");
    let guard = lock.lock().await;
    say!(out, "`coro2` acquired lock");
    say!(out, "`coro2` released lock");
    drop(guard);
}

/// The seed's `main`: holds the lock until the callback releases it.
async fn main_task(out: Transcript) -> Result<(), Box<dyn Error>> {
    let lock = Arc::new(Lock::new(()));
    say!(out, "acquiring the lock before starting coroutines");
    let guard = lock.lock_owned().await;
    say!(out, "lock acquired: {}", py_bool(lock.locked()));

    let printer = out.clone();
    Handle::current()?.call_later(Duration::from_millis(100), move || {
        unlock(&printer, guard);
    })?;

    say!(out, "waiting for coroutines");
    let tasks = [
        tulip::spawn(coro1(out.clone(), Arc::clone(&lock))),
        tulip::spawn(coro2(out.clone(), Arc::clone(&lock))),
    ];
    let (done, _pending) = tulip::wait(tasks, None, ReturnWhen::AllCompleted).await;
    for task in done {
        task.await?;
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
