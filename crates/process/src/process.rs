//! [`Process`]: a running child (asyncio's `Process`).

use std::fmt;
use std::io;

use tulip_streams::{StreamReader, StreamWriter, WriteError};

use crate::exit::{ExitWatch, ReturnCode, kill_and_reap, reap_in_background};

/// A child process (asyncio's `asyncio.subprocess.Process`), made by
/// [`Command::spawn`](crate::Command::spawn).
///
/// Its piped standard streams are a [`StreamWriter`] and [`StreamReader`]s with the
/// whole of tulip-streams' API. [`wait`](Process::wait) and
/// [`communicate`](Process::communicate) observe the exit without a thread, through
/// the child's pidfd. Dropping a `Process` never leaves a zombie: a child still running
/// is reaped in the background (and killed first with
/// [`kill_on_drop`](crate::Command::kill_on_drop)). Unlike asyncio, whose transport
/// kills a child still running when it is closed, a dropped child runs on unless
/// `kill_on_drop` is set (as with `std::process::Child` and tokio).
pub struct Process {
    watch: Option<ExitWatch>,
    /// The child's stdin, if piped (asyncio's `proc.stdin`).
    pub stdin: Option<StreamWriter>,
    /// The child's stdout, if piped (and stderr too with
    /// [`Stdio::Stdout`](crate::Stdio::Stdout)).
    pub stdout: Option<StreamReader>,
    /// The child's stderr, if piped.
    pub stderr: Option<StreamReader>,
    kill_on_drop: bool,
}

impl Process {
    pub(crate) fn new(
        watch: ExitWatch,
        stdin: Option<StreamWriter>,
        stdout: Option<StreamReader>,
        stderr: Option<StreamReader>,
        kill_on_drop: bool,
    ) -> Process {
        Process {
            watch: Some(watch),
            stdin,
            stdout,
            stderr,
            kill_on_drop,
        }
    }

    fn watch(&self) -> &ExitWatch {
        self.watch
            .as_ref()
            .expect("the watch is only taken by drop")
    }

    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.watch().pid().unsigned_abs()
    }

    /// The return code once the child has exited (asyncio's `returncode`): its exit
    /// code, or minus the signal that killed it; `None` while it runs. Asking reaps an
    /// exited child.
    pub fn returncode(&self) -> Option<ReturnCode> {
        self.watch().try_code().ok().flatten()
    }

    /// Waits for the child to exit and returns its return code (asyncio's `wait`).
    /// Several tasks may wait at once. Cancel-safe: dropping the future leaves the
    /// child as it was.
    ///
    /// Waiting with `stdout` or `stderr` piped and unread can deadlock, as in asyncio:
    /// a child blocked on a full pipe never exits. Use
    /// [`communicate`](Process::communicate) then.
    ///
    /// # Errors
    ///
    /// `ECHILD` if something else reaped the child.
    pub async fn wait(&self) -> io::Result<ReturnCode> {
        self.watch().wait().await
    }

    /// Sends `input` (if any) to stdin and closes it, reads stdout and stderr to their
    /// ends, and waits for the exit (asyncio's `communicate`), all at once, so no pipe
    /// fills while another is waited on however much each side carries. Returns
    /// `(stdout, stderr)`, each empty if not piped.
    ///
    /// A child that exits without reading all of `input` is not an error (asyncio
    /// ignores the broken pipe too).
    ///
    /// Cancel-safe for what is read: if the future is dropped (a timeout), what stdout
    /// and stderr brought stays in their readers, and a later `communicate` (after a
    /// `kill`, say) returns it; stdin, taken by the first call, is closed.
    ///
    /// # Errors
    ///
    /// An error reading stdout or stderr, writing stdin (other than a broken pipe), or
    /// waiting.
    pub async fn communicate(&mut self, input: Option<&[u8]>) -> io::Result<(Vec<u8>, Vec<u8>)> {
        // The readers stay in place (borrowed): a cancelled communicate loses nothing
        // they read, and a later one goes on from there.
        let stdin = self.stdin.take();
        let Process { stdout, stderr, .. } = self;
        let feed = async move {
            let Some(stdin) = stdin else { return Ok(()) };
            let sent = match input {
                Some(input) if !input.is_empty() => stdin.write(input),
                _ => Ok(()),
            };
            stdin.close();
            let closed = match sent {
                Ok(()) => stdin.wait_closed().await,
                Err(error) => Err(error),
            };
            match closed {
                // Closed by the caller before: nothing more can be sent (asyncio drops
                // the input too).
                Err(WriteError::Closing) => Ok(()),
                Err(WriteError::Io(error))
                    if matches!(
                        error.kind(),
                        io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
                    ) =>
                {
                    Ok(())
                }
                other => other.map_err(io::Error::from),
            }
        };
        let read_out = async {
            match stdout.as_mut() {
                Some(reader) => reader.read_to_end().await.map_err(io::Error::from),
                None => Ok(Vec::new()),
            }
        };
        let read_err = async {
            match stderr.as_mut() {
                Some(reader) => reader.read_to_end().await.map_err(io::Error::from),
                None => Ok(Vec::new()),
            }
        };
        let (fed, out, err) = tulip_executor::gather!(feed, read_out, read_err).await;
        fed?;
        let (out, err) = (out?, err?);
        self.wait().await?;
        Ok((out, err))
    }

    /// Sends `signal` to the child (asyncio's `send_signal`).
    ///
    /// # Errors
    ///
    /// `ESRCH` (`ProcessLookupError` in asyncio) once the child has exited and been
    /// reaped; the error of `kill(2)`.
    pub fn send_signal(&self, signal: i32) -> io::Result<()> {
        // Reaps it first if it exited, so its pid is never signalled once reusable.
        let _ = self.watch().try_code();
        self.watch().send_signal(signal)
    }

    /// Sends `SIGTERM` (asyncio's `terminate`).
    ///
    /// # Errors
    ///
    /// As [`send_signal`](Process::send_signal).
    pub fn terminate(&self) -> io::Result<()> {
        self.send_signal(libc::SIGTERM)
    }

    /// Sends `SIGKILL` (asyncio's `kill`).
    ///
    /// # Errors
    ///
    /// As [`send_signal`](Process::send_signal).
    pub fn kill(&self) -> io::Result<()> {
        self.send_signal(libc::SIGKILL)
    }
}

impl fmt::Debug for Process {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Process")
            .field("pid", &self.pid())
            .field("returncode", &self.watch().known_code())
            .finish()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let Some(watch) = self.watch.take() else {
            return;
        };
        if self.kill_on_drop && matches!(watch.try_code(), Ok(None)) {
            if tulip_executor::Handle::current().is_ok() {
                let _ = watch.send_signal(libc::SIGKILL);
            } else {
                // No loop to reap it later: it dies now (SIGKILL is prompt).
                kill_and_reap(&watch);
            }
        }
        reap_in_background(watch);
    }
}
