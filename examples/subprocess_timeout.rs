//! Subprocesses: a child killed after a timeout (`asyncio.wait_for` on
//! `proc.wait()`, `proc.kill`).
//!
//! `sleep 10` is started and given 100 ms to finish; `wait_for` gives up on
//! waiting (the child itself runs on, its `returncode` still `None`), the
//! program kills it with `SIGKILL`, and waiting again gives the return code
//! `-9`: minus the signal that ended the child, as asyncio reports it. The
//! Python counterpart:
//!
//! ```python
//! async def main():
//!     child = await asyncio.create_subprocess_exec('sleep', '10')
//!     print(f'started sleep 10, returncode {child.returncode}')
//!     try:
//!         code = await asyncio.wait_for(child.wait(), timeout=0.1)
//!         print(f'sleep 10 exited with {code}')
//!     except asyncio.TimeoutError:
//!         print(f'timeout! sleep 10 still running, returncode {child.returncode}')
//!     child.kill()
//!     print('sent SIGKILL')
//!     code = await child.wait()
//!     print(f'[sleep 10 exited with {code}]')
//!     print(f'returncode {child.returncode}')
//!
//! asyncio.run(main())
//! ```
//!
//! The lines are what it prints. A child is a real process, so the loop runs
//! on the real clock; the timeout is short, so the example takes about
//! 100 ms, and it prints no times, so its output is the same on every run.
//! Python's `None` is Rust's `None` here: `returncode()` is an `Option`.

// The tour and the snapshot tests include this file as a module too.
#[path = "common/mod.rs"]
mod common;

use std::error::Error;
use std::io::{self, Write};
use std::time::Duration;

use common::{Transcript, say};
use tulip::process::create_subprocess_exec;

/// How long the child is given before it is killed.
const PATIENCE: Duration = Duration::from_millis(100);

/// Python's `str()` of a return code that may not be known yet: `-9` or
/// `None`.
fn py_code(code: Option<i32>) -> String {
    code.map_or_else(|| "None".to_owned(), |code| code.to_string())
}

/// `main`: starts `sleep 10`, gives up waiting after [`PATIENCE`], kills it.
async fn kill_after_timeout(out: Transcript) -> io::Result<()> {
    let child = create_subprocess_exec("sleep", ["10"]).await?;
    say!(
        out,
        "started sleep 10, returncode {}",
        py_code(child.returncode())
    );
    match tulip::wait_for(child.wait(), Some(PATIENCE)).await {
        Ok(code) => say!(out, "sleep 10 exited with {}", code?),
        Err(tulip::TimeoutError) => say!(
            out,
            "timeout! sleep 10 still running, returncode {}",
            py_code(child.returncode())
        ),
    }
    child.kill()?;
    say!(out, "sent SIGKILL");
    let code = child.wait().await?;
    say!(out, "[sleep 10 exited with {code}]");
    say!(out, "returncode {}", py_code(child.returncode()));
    Ok(())
}

/// Runs the example, printing to `out`.
pub(crate) fn run(out: &mut dyn Write) -> Result<(), Box<dyn Error>> {
    let transcript = Transcript::new();
    let event_loop = tulip::EventLoop::new()?;
    event_loop.run_until_complete(kill_after_timeout(transcript.clone()))??;
    Ok(transcript.write_to(out)?)
}

/// Runs the example alone, printing to stdout.
fn main() -> Result<(), Box<dyn Error>> {
    run(&mut io::stdout().lock())
}
