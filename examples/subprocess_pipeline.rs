//! Subprocesses: a pipeline of two children joined through the loop
//! (`create_subprocess_exec`, `proc.stdout.readline`, `proc.stdin.write`).
//!
//! Where a shell would run `printf ... | sort`, the program starts both
//! children itself, each with pipes to it rather than to each other, and
//! carries the lines across: it reads `printf`'s stdout a line at a time,
//! writes each line into `sort`'s stdin, and closes that stdin at the end,
//! which is the EOF `sort` waits for before it prints anything. Then it
//! collects `sort`'s output with `communicate()` and prints both return
//! codes. The Python counterpart:
//!
//! ```python
//! import asyncio
//! from asyncio.subprocess import PIPE
//!
//! async def main():
//!     first = await asyncio.create_subprocess_exec(
//!         'printf', 'pear\\nfig\\napple\\nbanana\\n', stdout=PIPE)
//!     second = await asyncio.create_subprocess_exec(
//!         'sort', stdin=PIPE, stdout=PIPE)
//!     while line := await first.stdout.readline():
//!         print(f'printf -> sort: {line!r}')
//!         second.stdin.write(line)
//!         await second.stdin.drain()
//!     second.stdin.close()
//!     await second.stdin.wait_closed()
//!     print(f'[printf exited with {await first.wait()}]')
//!     stdout, _ = await second.communicate()
//!     print(f'[sort exited with {second.returncode}]')
//!     print(f'[stdout]\n{stdout.decode()}')
//!
//! asyncio.run(main())
//! ```
//!
//! The lines are what it prints. Every step waits for the one before, so the
//! order never varies, however the pipes split the bytes: `readline` hands
//! over whole lines, and `sort` prints only after its stdin is closed. Here
//! the stdin is taken out of the `Process` to be closed, so `communicate`
//! has no stdin left to close (asyncio's closes it a second time, harmlessly).
//! `sort` runs with `LC_ALL=C`, so that its order is byte order whatever the
//! locale (for these lowercase words every locale agrees).

// The tour and the snapshot tests include this file as a module too.
#[path = "common/mod.rs"]
mod common;

use std::error::Error;
use std::io::{self, Write};

use common::{Transcript, py_bytes, say};
use tulip::process::{Stdio, create_subprocess_exec};

/// The lines the first child writes, in `printf`'s notation (`\n` is
/// `printf`'s escape, not Rust's).
const LINES: &str = r"pear\nfig\napple\nbanana\n";

/// `main`: runs `printf` and `sort`, carrying the lines from one to the other.
async fn pipeline(out: Transcript) -> Result<(), Box<dyn Error>> {
    let mut first = create_subprocess_exec("printf", [LINES])
        .stdout(Stdio::Piped)
        .await?;
    let mut second = create_subprocess_exec("sort", std::iter::empty::<&str>())
        .env("LC_ALL", "C")
        .stdin(Stdio::Piped)
        .stdout(Stdio::Piped)
        .await?;

    let source = first.stdout.as_mut().ok_or("printf's stdout is piped")?;
    let sink = second.stdin.take().ok_or("sort's stdin is piped")?;
    loop {
        let line = source.readline().await?;
        if line.is_empty() {
            break;
        }
        say!(out, "printf -> sort: {}", py_bytes(&line));
        sink.write(&line)?;
        sink.drain().await?;
    }
    // The EOF that lets `sort` print.
    sink.close();
    sink.wait_closed().await?;
    say!(out, "[printf exited with {}]", first.wait().await?);

    let (stdout, _) = second.communicate(None).await?;
    let code = second
        .returncode()
        .ok_or("communicate returned before the exit")?;
    say!(out, "[sort exited with {code}]");
    say!(out, "[stdout]\n{}", String::from_utf8_lossy(&stdout));
    Ok(())
}

/// Runs the example, printing to `out`.
pub(crate) fn run(out: &mut dyn Write) -> Result<(), Box<dyn Error>> {
    let transcript = Transcript::new();
    let event_loop = tulip::EventLoop::new()?;
    event_loop.run_until_complete(pipeline(transcript.clone()))??;
    Ok(transcript.write_to(out)?)
}

/// Runs the example alone, printing to stdout.
fn main() -> Result<(), Box<dyn Error>> {
    run(&mut io::stdout().lock())
}
