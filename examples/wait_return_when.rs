//! `asyncio.wait` with each `return_when`: FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED.
//!
//! Seed 002's "Waiting Primitives" section describes `done, pending = await
//! asyncio.wait(aws, return_when=...)` and its three conditions without a
//! program; this one runs three jobs under each of them. Its Python
//! counterpart:
//!
//! ```python
//! async def job(name, delay, fail=False):
//!     await asyncio.sleep(delay)
//!     if fail:
//!         print(f"{name}: raising after {delay}s")
//!         raise RuntimeError(f"{name} failed")
//!     print(f"{name}: done after {delay}s")
//!     return name
//!
//! def names(tasks):
//!     return sorted(t.get_name() for t in tasks)
//!
//! async def scenario(return_when, specs):
//!     loop = asyncio.get_running_loop()
//!     start = loop.time()
//!     print(f"-- return_when={return_when}")
//!     tasks = [asyncio.create_task(job(n, d, f), name=n) for n, d, f in specs]
//!     done, pending = await asyncio.wait(tasks, return_when=return_when)
//!     print(f"wait returned at t={loop.time() - start:.0f}: done={names(done)} pending={names(pending)}")
//!     for t in sorted(done, key=lambda t: t.get_name()):
//!         if t.exception() is not None:
//!             print(f"  {t.get_name()} raised: {t.exception()}")
//!         else:
//!             print(f"  {t.get_name()} returned: {t.result()}")
//!     for t in pending:
//!         t.cancel()
//!     await asyncio.wait(pending) if pending else None
//!
//! async def main():
//!     await scenario(asyncio.FIRST_COMPLETED, [("fast", 1, False), ("medium", 2, False), ("slow", 3, False)])
//!     await scenario(asyncio.FIRST_EXCEPTION, [("fast", 1, False), ("failing", 2, True), ("slow", 3, False)])
//!     await scenario(asyncio.ALL_COMPLETED, [("fast", 1, False), ("medium", 2, False), ("slow", 3, False)])
//! ```
//!
//! A Rust panic is the closest thing to an exception escaping a task, and it
//! is what `ReturnWhen::FirstException` watches for (a task returning an
//! `Err` value has finished normally). So `failing` panics on purpose; the
//! example silences the panic hook for that one panic, which would otherwise
//! print a message to stderr, and restores it afterwards.
//!
//! asyncio gives `done` and `pending` as sets; tulip gives `Vec`s in input
//! order. Both programs print the names sorted.

// The tour and the snapshot tests include this file as a module too.
#[path = "common/mod.rs"]
mod common;

use std::error::Error;
use std::io::{self, Write};
use std::panic::{self, PanicHookInfo};
use std::sync::Arc;
use std::thread::{self, ThreadId};
use std::time::Duration;

use common::{Elapsed, Transcript, py_list, py_str, say};
use tulip::{JoinHandle, ReturnWhen};

/// A job: its name, how many seconds it takes, and whether it then fails.
type Job = (&'static str, u64, bool);

/// The end of the message of the deliberate panic.
const FAILED: &str = " failed";

async fn job(out: Transcript, name: &'static str, delay: u64, fail: bool) -> &'static str {
    tulip::sleep(Duration::from_secs(delay)).await;
    if fail {
        say!(out, "{name}: raising after {delay}s");
        panic!("{name}{FAILED}");
    }
    say!(out, "{name}: done after {delay}s");
    name
}

/// asyncio's name of a `return_when` condition.
fn asyncio_name(return_when: ReturnWhen) -> &'static str {
    match return_when {
        ReturnWhen::FirstCompleted => "FIRST_COMPLETED",
        ReturnWhen::FirstException => "FIRST_EXCEPTION",
        ReturnWhen::AllCompleted => "ALL_COMPLETED",
    }
}

/// The tasks' names, sorted, as a Python list.
fn names<T>(tasks: &[JoinHandle<T>]) -> String {
    let mut names: Vec<String> = tasks.iter().map(JoinHandle::name).collect();
    names.sort();
    py_list(names.iter().map(|name| py_str(name)))
}

/// Spawns the jobs, waits for them until `return_when` holds, reports, and
/// cancels what is still pending.
async fn scenario(
    out: Transcript,
    clock: Elapsed,
    return_when: ReturnWhen,
    jobs: [Job; 3],
) -> Result<(), Box<dyn Error>> {
    let start = clock.secs();
    say!(out, "-- return_when={}", asyncio_name(return_when));
    let mut tasks = Vec::new();
    for (name, delay, fail) in jobs {
        let task = tulip::task::Builder::new().name(name);
        tasks.push(task.spawn(job(out.clone(), name, delay, fail))?);
    }
    let (mut done, pending) = tulip::wait(tasks, None, return_when).await;
    say!(
        out,
        "wait returned at t={:.0}: done={} pending={}",
        clock.secs() - start,
        names(&done),
        names(&pending)
    );
    done.sort_by_key(JoinHandle::name);
    for task in done {
        let name = task.name();
        // Finished: awaiting gives the result (or the panic) at once.
        match task.await {
            Ok(value) => say!(out, "  {name} returned: {value}"),
            Err(error) => match error.panic_message() {
                Some(message) => say!(out, "  {name} raised: {message}"),
                None => say!(out, "  {name} ended: {error}"),
            },
        }
    }
    for task in &pending {
        task.cancel();
    }
    // Cancelled tasks end at their next scheduling point; wait for that.
    let _ = tulip::wait(pending, None, ReturnWhen::AllCompleted).await;
    Ok(())
}

async fn main_task(out: Transcript, clock: Elapsed) -> Result<(), Box<dyn Error>> {
    let steady = [("fast", 1, false), ("medium", 2, false), ("slow", 3, false)];
    let failing = [("fast", 1, false), ("failing", 2, true), ("slow", 3, false)];
    scenario(
        out.clone(),
        clock.clone(),
        ReturnWhen::FirstCompleted,
        steady,
    )
    .await?;
    scenario(
        out.clone(),
        clock.clone(),
        ReturnWhen::FirstException,
        failing,
    )
    .await?;
    scenario(out, clock, ReturnWhen::AllCompleted, steady).await
}

/// The panic hook as it was, shareable between the quiet hook and the restore.
type Hook = Arc<dyn Fn(&PanicHookInfo<'_>) + Send + Sync>;

/// Keeps the panic hook quiet about this thread's panics whose message ends
/// with `suffix`, passing every other panic on; restores the hook when dropped.
struct QuietPanics {
    previous: Hook,
}

impl QuietPanics {
    fn install(suffix: &'static str) -> QuietPanics {
        let previous: Hook = Arc::from(panic::take_hook());
        let fallback = previous.clone();
        let quiet_thread: ThreadId = thread::current().id();
        panic::set_hook(Box::new(move |info| {
            let deliberate = thread::current().id() == quiet_thread
                && info
                    .payload_as_str()
                    .is_some_and(|message| message.ends_with(suffix));
            if !deliberate {
                fallback(info);
            }
        }));
        QuietPanics { previous }
    }
}

impl Drop for QuietPanics {
    fn drop(&mut self) {
        // The hook cannot be changed while this thread panics; leave it then.
        if !thread::panicking() {
            let previous = self.previous.clone();
            panic::set_hook(Box::new(move |info| previous(info)));
        }
    }
}

/// Runs the example, printing to `out`.
pub(crate) fn run(out: &mut dyn Write) -> Result<(), Box<dyn Error>> {
    let transcript = Transcript::new();
    let event_loop = tulip::EventLoop::builder().virtual_time().build()?;
    let clock = Elapsed::start(event_loop.handle());
    {
        let _quiet = QuietPanics::install(FAILED);
        event_loop.run_until_complete(main_task(transcript.clone(), clock))??;
    }
    Ok(transcript.write_to(out)?)
}

fn main() -> Result<(), Box<dyn Error>> {
    run(&mut io::stdout().lock())
}
