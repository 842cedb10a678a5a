//! Subprocesses: running a shell command and collecting its output
//! (`create_subprocess_shell`, `communicate`).
//!
//! Seed 002's "Subprocesses" example: `ls /zzz` runs in the shell with its
//! stdout and stderr piped, `communicate()` reads both to their ends and waits
//! for the exit, and the return code and whatever came out are printed.
//!
//! ```python
//! async def run(cmd):
//!     proc = await asyncio.create_subprocess_shell(
//!         cmd,
//!         stdout=asyncio.subprocess.PIPE,
//!         stderr=asyncio.subprocess.PIPE)
//!
//!     stdout, stderr = await proc.communicate()
//!
//!     print(f'[{cmd!r} exited with {proc.returncode}]')
//!     if stdout:
//!         print(f'[stdout]\n{stdout.decode()}')
//!     if stderr:
//!         print(f'[stderr]\n{stderr.decode()}')
//!
//! asyncio.run(run('ls /zzz'))
//! ```
//!
//! `/zzz` does not exist, so `ls` prints nothing on stdout, complains on
//! stderr and exits with 2 (GNU `ls`'s "serious trouble"). Both the return
//! code and the message are `ls`'s own; the lines are what Python prints with
//! GNU coreutils. The child runs with `LC_ALL=C`, so that its message is in
//! English with ASCII quotes whatever the locale of the machine (the Python
//! program inherits the locale; under `C` or `C.UTF-8` the two agree). As in
//! Python, the decoded output keeps its own final newline and `print` adds
//! one: a blank line ends the transcript.

// The tour and the snapshot tests include this file as a module too.
#[path = "common/mod.rs"]
mod common;

use std::error::Error;
use std::io::{self, Write};

use common::{Transcript, py_str, say};
use tulip::process::{Stdio, create_subprocess_shell};

/// Seed 002's `run(cmd)`: runs `cmd` in the shell and prints how it went.
async fn run_cmd(out: Transcript, cmd: &str) -> io::Result<()> {
    let mut proc = create_subprocess_shell(cmd)
        .env("LC_ALL", "C")
        .stdout(Stdio::Piped)
        .stderr(Stdio::Piped)
        .await?;

    let (stdout, stderr) = proc.communicate(None).await?;

    // `communicate` has waited for the exit, so the code is known.
    let code = proc
        .returncode()
        .ok_or_else(|| io::Error::other("communicate returned before the exit"))?;
    say!(out, "[{} exited with {code}]", py_str(cmd));
    if !stdout.is_empty() {
        say!(out, "[stdout]\n{}", String::from_utf8_lossy(&stdout));
    }
    if !stderr.is_empty() {
        say!(out, "[stderr]\n{}", String::from_utf8_lossy(&stderr));
    }
    Ok(())
}

/// Runs the example, printing to `out`.
pub(crate) fn run(out: &mut dyn Write) -> Result<(), Box<dyn Error>> {
    let transcript = Transcript::new();
    let event_loop = tulip::EventLoop::new()?;
    event_loop.run_until_complete(run_cmd(transcript.clone(), "ls /zzz"))??;
    Ok(transcript.write_to(out)?)
}

/// Runs the example alone, printing to stdout.
fn main() -> Result<(), Box<dyn Error>> {
    run(&mut io::stdout().lock())
}
