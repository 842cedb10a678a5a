//! `asyncio.current_task` and `asyncio.all_tasks`: looking at the running tasks.
//!
//! Seed 002's "Introspection" section names the two functions without a
//! program; this one shows what each returns. Its Python counterpart:
//!
//! ```python
//! def live():
//!     return sorted(t.get_name() for t in asyncio.all_tasks())
//!
//! async def worker(delay):
//!     me = asyncio.current_task()
//!     print(f"{me.get_name()}: sleeping {delay}s")
//!     await asyncio.sleep(delay)
//!     print(f"{me.get_name()}: done, live tasks: {live()}")
//!
//! def callback():
//!     print(f"in a callback, current_task() is {asyncio.current_task()}")
//!
//! async def main():
//!     print(f"main runs as {asyncio.current_task().get_name()}")
//!     asyncio.get_running_loop().call_soon(callback)
//!     first = asyncio.create_task(worker(1), name="worker-1")
//!     second = asyncio.create_task(worker(2), name="worker-2")
//!     print(f"live tasks: {live()}")
//!     await first
//!     print(f"after worker-1: {first.get_name()} is {'done' if first.done() else 'running'}, live tasks: {live()}")
//!     await second
//!     print(f"after worker-2: live tasks: {live()}")
//! ```
//!
//! As in asyncio, a task spawned without a name is called `Task-N`, N
//! counting every task of the process: run alone, the main task is `Task-1`,
//! as in Python; in the `tour`, where other examples spawned tasks before, N
//! is larger.

// The tour and the snapshot tests include this file as a module too.
#[path = "common/mod.rs"]
mod common;

use std::error::Error;
use std::io::{self, Write};
use std::time::Duration;

use common::{Transcript, py_list, py_str, say};
use tulip::NoRunningLoop;

/// The names of the loop's unfinished tasks, sorted, as a Python list.
fn live() -> Result<String, NoRunningLoop> {
    let mut names: Vec<String> = tulip::all_tasks()?.iter().map(|task| task.name()).collect();
    names.sort();
    Ok(py_list(names.iter().map(|name| py_str(name))))
}

/// The running task's name; `None` outside a task.
fn current_name() -> String {
    tulip::current_task().map_or_else(|| "None".to_owned(), |task| task.name())
}

async fn worker(out: Transcript, delay: u64) -> Result<(), NoRunningLoop> {
    let me = current_name();
    say!(out, "{me}: sleeping {delay}s");
    tulip::sleep(Duration::from_secs(delay)).await;
    say!(out, "{me}: done, live tasks: {}", live()?);
    Ok(())
}

async fn main_task(out: Transcript) -> Result<(), Box<dyn Error>> {
    say!(out, "main runs as {}", current_name());
    let printer = out.clone();
    tulip::Handle::current()?.call_soon(move || {
        say!(
            printer,
            "in a callback, current_task() is {}",
            current_name()
        );
    })?;
    let first = tulip::task::Builder::new()
        .name("worker-1")
        .spawn(worker(out.clone(), 1))?;
    let second = tulip::task::Builder::new()
        .name("worker-2")
        .spawn(worker(out.clone(), 2))?;
    say!(out, "live tasks: {}", live()?);
    // A `Task` is a reference for introspection; the handle goes to `await`.
    let first_task = first.task();
    first.await??;
    let state = if first_task.is_finished() {
        "done"
    } else {
        "running"
    };
    say!(
        out,
        "after worker-1: {} is {state}, live tasks: {}",
        first_task.name(),
        live()?
    );
    second.await??;
    say!(out, "after worker-2: live tasks: {}", live()?);
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
