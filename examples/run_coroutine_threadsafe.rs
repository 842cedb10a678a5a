//! `asyncio.run_coroutine_threadsafe`: handing a coroutine to a loop from another thread.
//!
//! Seed 002's "Scheduling From Other Threads" snippet: a plain thread submits
//! `asyncio.sleep(1, result=3)` to a loop running elsewhere and blocks on the
//! `concurrent.futures.Future` it gets back:
//!
//! ```python
//! coro = asyncio.sleep(1, result=3)
//! future = asyncio.run_coroutine_threadsafe(coro, loop)
//! assert future.result(timeout) == 3
//! ```
//!
//! The complete program around it runs the loop with `run_forever` on a
//! thread of its own, as the asyncio docs suggest:
//!
//! ```python
//! def loop_thread(handoff):
//!     loop = asyncio.new_event_loop()
//!     handoff.put(loop)
//!     loop.run_forever()
//!     loop.close()
//!
//! async def sleep_then(delay, result):
//!     print(f"loop thread: sleeping {delay}s, then returning {result}")
//!     await asyncio.sleep(delay)
//!     return result
//!
//! def main():
//!     handoff = queue.Queue()
//!     thread = threading.Thread(target=loop_thread, args=(handoff,))
//!     thread.start()
//!     loop = handoff.get()
//!     start = loop.time()
//!
//!     print("main thread: submitting sleep(1, result=3)")
//!     future = asyncio.run_coroutine_threadsafe(sleep_then(1, 3), loop)
//!     result = future.result(timeout=5)
//!     print(f"main thread: result() gave {result} at t={loop.time() - start:.0f}")
//!
//!     print("main thread: submitting a coroutine that never finishes, then cancelling it")
//!     never = asyncio.run_coroutine_threadsafe(asyncio.Event().wait(), loop)
//!     print(f"main thread: cancel() returned {never.cancel()}")
//!     try:
//!         never.result(timeout=5)
//!     except Exception as e:
//!         print(f"main thread: result() raised {type(e).__name__}")
//!
//!     loop.call_soon_threadsafe(loop.stop)
//!     thread.join()
//!     print("main thread: the loop has stopped")
//! ```
//!
//! The loop runs on virtual time, so its one-second sleep passes at once; the
//! timeouts of `result` are real time on the waiting thread, and generous.
//! Python also prints "Task was destroyed but it is pending!" to stderr at
//! the end: `cancel()` only queues the task's cancellation, and the loop
//! stops before running it. tulip's `result()` returns `Cancelled` only once
//! the loop has dropped the cancelled future, so nothing is left pending.

// The tour and the snapshot tests include this file as a module too.
#[path = "common/mod.rs"]
mod common;

use std::error::Error;
use std::io::{self, Write};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use common::{Elapsed, Transcript, py_bool, say};
use tulip::{Handle, ThreadsafeError, sleep};

/// How long the main thread waits for a result, in real time.
const RESULT_TIMEOUT: Duration = Duration::from_secs(5);

/// `asyncio.sleep(delay, result=result)`, saying what it does.
async fn sleep_then(out: Transcript, delay: u64, result: u64) -> u64 {
    say!(
        out,
        "loop thread: sleeping {delay}s, then returning {result}"
    );
    sleep(Duration::from_secs(delay)).await;
    result
}

/// The main thread's side: submits two coroutines and waits for them.
fn talk_to_loop(handle: &Handle, transcript: &Transcript) -> Result<(), Box<dyn Error>> {
    let clock = Elapsed::start(handle.clone());
    say!(transcript, "main thread: submitting sleep(1, result=3)");
    let future = handle.run_coroutine_threadsafe(sleep_then(transcript.clone(), 1, 3))?;
    let result = future.result(Some(RESULT_TIMEOUT))?;
    say!(
        transcript,
        "main thread: result() gave {result} at t={:.0}",
        clock.secs()
    );

    say!(
        transcript,
        "main thread: submitting a coroutine that never finishes, then cancelling it"
    );
    let never = handle.run_coroutine_threadsafe(std::future::pending::<()>())?;
    say!(
        transcript,
        "main thread: cancel() returned {}",
        py_bool(never.cancel())
    );
    match never.result(Some(RESULT_TIMEOUT)) {
        Err(ThreadsafeError::Task(error)) if error.is_cancelled() => {
            say!(transcript, "main thread: result() raised CancelledError");
        }
        other => say!(transcript, "main thread: unexpected result(): {other:?}"),
    }

    Ok(())
}

/// Runs the example, printing to `out`.
pub(crate) fn run(out: &mut dyn Write) -> Result<(), Box<dyn Error>> {
    let transcript = Transcript::new();
    // The loop is not `Send`: it is made on its own thread, which hands back
    // a `Handle`, the loop's thread-safe face.
    let (handoff, handle_receiver) = mpsc::channel();
    let loop_thread = thread::spawn(move || -> Result<(), tulip::RunError> {
        let event_loop = tulip::EventLoop::builder().virtual_time().build()?;
        // The receiver waits for this handle; it cannot be gone.
        let _ = handoff.send(event_loop.handle());
        event_loop.run_forever()
    });
    let Ok(handle) = handle_receiver.recv() else {
        // The thread ended without handing a handle over: its error says why.
        return Err(match loop_thread.join() {
            Ok(Err(error)) => error.into(),
            _ => "the loop thread ended without making a loop".into(),
        });
    };

    // Whatever happens there, the loop is stopped and its thread joined.
    let talked = talk_to_loop(&handle, &transcript);
    let stopper = handle.clone();
    handle.call_soon_threadsafe(move || stopper.stop())?;
    loop_thread
        .join()
        .map_err(|_| "the loop thread panicked")??;
    talked?;
    say!(transcript, "main thread: the loop has stopped");
    Ok(transcript.write_to(out)?)
}

fn main() -> Result<(), Box<dyn Error>> {
    run(&mut io::stdout().lock())
}
