//! [`Command`]: what to run and how, shaped like `std::process::Command`, spawned with
//! [`spawn`](Command::spawn) or by awaiting it (asyncio's `create_subprocess_exec`).

use std::ffi::{OsStr, OsString};
use std::future::{IntoFuture, Ready, ready};
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Stdio as StdStdio;

use tulip_reactor::pipe::{PipeReader, PipeWriter};
use tulip_streams::{
    StreamOptions, StreamReader, StreamWriter, from_pipe_reader, from_pipe_writer,
};

use crate::exit::{ExitWatch, kill_and_reap, reap_orphans};
use crate::process::Process;

/// A child's stdin, stdout and stderr as streams, each if piped.
type ChildStreams = (
    Option<StreamWriter>,
    Option<StreamReader>,
    Option<StreamReader>,
);

/// Where a child's standard stream goes (asyncio's `PIPE`, `DEVNULL`, `STDOUT` and
/// `None`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Stdio {
    /// A pipe to this process: [`Process::stdin`], [`Process::stdout`] or
    /// [`Process::stderr`] (asyncio's `PIPE`).
    Piped,
    /// `/dev/null` (asyncio's `DEVNULL`).
    Null,
    /// This process's own stream (asyncio's `None`, the default).
    #[default]
    Inherit,
    /// For stderr only: wherever stdout goes (asyncio's `STDOUT`), so both arrive
    /// interleaved on one stream.
    Stdout,
}

/// A program to run, its arguments and environment, and where its standard streams go
/// (`std::process::Command`'s shape, asyncio's arguments).
///
/// Awaiting a `Command` spawns it (so `create_subprocess_exec(...).stdout(...).await`
/// reads as asyncio's keyword arguments do); [`spawn`](Command::spawn) does the same
/// without `.await`. Either needs a running tulip loop, which the pipes are registered
/// with and which observes the child's exit.
///
/// ```
/// use tulip_process::{Command, Stdio};
///
/// tulip_executor::EventLoop::new()?.run_until_complete(async {
///     let mut child = Command::new("sh")
///         .args(["-c", "echo $GREETING; exit 3"])
///         .env("GREETING", "hello")
///         .stdout(Stdio::Piped)
///         .spawn()?;
///     let line = child.stdout.as_mut().unwrap().readline().await?;
///     assert_eq!(line, b"hello\n");
///     assert_eq!(child.wait().await?, 3);
///     Ok::<_, Box<dyn std::error::Error>>(())
/// })??;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Command {
    program: OsString,
    args: Vec<OsString>,
    env: Vec<(OsString, Option<OsString>)>,
    env_clear: bool,
    current_dir: Option<PathBuf>,
    stdin: Stdio,
    stdout: Stdio,
    stderr: Stdio,
    process_group: Option<i32>,
    kill_on_drop: bool,
    options: StreamOptions,
}

impl Command {
    /// Runs `program` (looked up in `PATH` if it has no `/`), with no arguments yet, the
    /// environment and streams inherited.
    pub fn new(program: impl AsRef<OsStr>) -> Command {
        Command {
            program: program.as_ref().to_owned(),
            args: Vec::new(),
            env: Vec::new(),
            env_clear: false,
            current_dir: None,
            stdin: Stdio::Inherit,
            stdout: Stdio::Inherit,
            stderr: Stdio::Inherit,
            process_group: None,
            kill_on_drop: false,
            options: StreamOptions::new(),
        }
    }

    /// Runs `cmd` with the shell, `/bin/sh -c cmd` (asyncio's
    /// `create_subprocess_shell`). The shell interprets `cmd`: quote what comes from
    /// users.
    pub fn shell(cmd: impl AsRef<OsStr>) -> Command {
        Command::new("/bin/sh").arg("-c").arg(cmd)
    }

    /// Adds an argument.
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Command {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    /// Adds arguments.
    pub fn args<I, S>(mut self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|arg| arg.as_ref().to_owned()));
        self
    }

    /// Sets an environment variable.
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Command {
        self.env
            .push((key.as_ref().to_owned(), Some(value.as_ref().to_owned())));
        self
    }

    /// Sets environment variables.
    pub fn envs<I, K, V>(mut self, vars: I) -> Command
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        for (key, value) in vars {
            self = self.env(key, value);
        }
        self
    }

    /// Removes an environment variable.
    pub fn env_remove(mut self, key: impl AsRef<OsStr>) -> Command {
        self.env.push((key.as_ref().to_owned(), None));
        self
    }

    /// Starts from an empty environment (then [`env`](Command::env) adds to it).
    pub fn env_clear(mut self) -> Command {
        self.env_clear = true;
        self.env.clear();
        self
    }

    /// Runs the child in `dir`.
    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Command {
        self.current_dir = Some(dir.as_ref().to_owned());
        self
    }

    /// Where the child's stdin comes from ([`Stdio::Stdout`] is not allowed here).
    pub fn stdin(mut self, stdin: Stdio) -> Command {
        self.stdin = stdin;
        self
    }

    /// Where the child's stdout goes ([`Stdio::Stdout`] is not allowed here).
    pub fn stdout(mut self, stdout: Stdio) -> Command {
        self.stdout = stdout;
        self
    }

    /// Where the child's stderr goes; [`Stdio::Stdout`] merges it into stdout.
    pub fn stderr(mut self, stderr: Stdio) -> Command {
        self.stderr = stderr;
        self
    }

    /// Puts the child in process group `pgid` (0: a new group led by the child), so a
    /// signal to the group reaches it and what it spawns.
    pub fn process_group(mut self, pgid: i32) -> Command {
        self.process_group = Some(pgid);
        self
    }

    /// Kills the child (`SIGKILL`) if its [`Process`] is dropped while it runs. Either
    /// way a dropped child is reaped in the background: no zombie is left.
    pub fn kill_on_drop(mut self, kill: bool) -> Command {
        self.kill_on_drop = kill;
        self
    }

    /// The limit of the stdout and stderr readers and the water marks of the stdin
    /// writer (asyncio's `limit`).
    pub fn stream_options(mut self, options: StreamOptions) -> Command {
        self.options = options;
        self
    }

    /// Spawns the child.
    ///
    /// # Errors
    ///
    /// The error of spawning, naming the program (`NotFound` for a program that does
    /// not exist); `InvalidInput` for [`Stdio::Stdout`] given as stdin or stdout; an
    /// error without a running loop.
    pub fn spawn(&self) -> io::Result<Process> {
        // Checked first: past the fork, a failure would leave a child behind.
        tulip_reactor::Reactor::current().map_err(|error| {
            io::Error::other(format!(
                "could not spawn {}: {error} (spawn on a running tulip loop)",
                Path::new(&self.program).display()
            ))
        })?;
        ignore_sigpipe();
        reap_orphans();
        let mut command = std::process::Command::new(&self.program);
        command.args(&self.args);
        if self.env_clear {
            command.env_clear();
        }
        for (key, value) in &self.env {
            match value {
                Some(value) => command.env(key, value),
                None => command.env_remove(key),
            };
        }
        if let Some(dir) = &self.current_dir {
            command.current_dir(dir);
        }
        if let Some(pgid) = self.process_group {
            command.process_group(pgid);
        }
        command.stdin(std_stdio(self.stdin, "stdin").map_err(|error| self.spawn_error(error))?);
        let merged = self.stderr == Stdio::Stdout;
        let merged_pipe = if merged && self.stdout == Stdio::Piped {
            // One pipe for both: the child gets its writing end twice.
            let (read, write) = raw_pipe()?;
            command.stdout(StdStdio::from(write.try_clone()?));
            command.stderr(StdStdio::from(write));
            Some(read)
        } else {
            command
                .stdout(std_stdio(self.stdout, "stdout").map_err(|error| self.spawn_error(error))?);
            if merged {
                command.stderr(match self.stdout {
                    Stdio::Null => StdStdio::null(),
                    // This process's stdout, as Python does (not its stderr).
                    _ => StdStdio::from(std::io::stdout().as_fd().try_clone_to_owned()?),
                });
            } else {
                command.stderr(
                    std_stdio(self.stderr, "stderr").map_err(|error| self.spawn_error(error))?,
                );
            }
            None
        };
        let mut child = command.spawn().map_err(|error| self.spawn_error(error))?;
        // The parent's copies of the children's ends close here, so that the readers
        // see EOF once the child (and what it spawned) closes its own.
        drop(command);
        let pid = libc::pid_t::try_from(child.id()).map_err(io::Error::other)?;
        let watch = ExitWatch::new(pid);
        match self.streams(&mut child, merged_pipe) {
            Ok((stdin, stdout, stderr)) => Ok(Process::new(
                watch,
                stdin,
                stdout,
                stderr,
                self.kill_on_drop,
            )),
            Err(error) => {
                // The child runs, but its pipes could not join the loop: it must not be
                // left running, nor unreaped.
                kill_and_reap(&watch);
                Err(io::Error::new(
                    error.kind(),
                    format!(
                        "could not set up the pipes of {}: {error}",
                        Path::new(&self.program).display()
                    ),
                ))
            }
        }
    }

    /// The parent's ends of the child's pipes, as streams on the loop.
    fn streams(
        &self,
        child: &mut std::process::Child,
        merged_pipe: Option<OwnedFd>,
    ) -> io::Result<ChildStreams> {
        let stdin = child
            .stdin
            .take()
            .map(|pipe| PipeWriter::from_owned_fd(OwnedFd::from(pipe)))
            .transpose()?
            .map(|pipe| from_pipe_writer(pipe, self.options));
        let stdout = match merged_pipe {
            Some(read) => Some(PipeReader::from_owned_fd(read)?),
            None => child
                .stdout
                .take()
                .map(|pipe| PipeReader::from_owned_fd(OwnedFd::from(pipe)))
                .transpose()?,
        }
        .map(|pipe| from_pipe_reader(pipe, self.options));
        let stderr = child
            .stderr
            .take()
            .map(|pipe| PipeReader::from_owned_fd(OwnedFd::from(pipe)))
            .transpose()?
            .map(|pipe| from_pipe_reader(pipe, self.options));
        Ok((stdin, stdout, stderr))
    }
}

impl IntoFuture for Command {
    type Output = io::Result<Process>;
    type IntoFuture = Ready<io::Result<Process>>;

    /// Spawns the command (spawning does not wait: the future is ready at once).
    fn into_future(self) -> Self::IntoFuture {
        ready(self.spawn())
    }
}

/// asyncio's `create_subprocess_exec(program, *args)`: a [`Command`] to set up
/// further, then await (or [`spawn`](Command::spawn)).
///
/// ```
/// use tulip_process::{Stdio, create_subprocess_exec};
///
/// tulip_executor::EventLoop::new()?.run_until_complete(async {
///     let mut child = create_subprocess_exec("echo", ["hi"]).stdout(Stdio::Piped).await?;
///     let (stdout, _) = child.communicate(None).await?;
///     assert_eq!(stdout, b"hi\n");
///     Ok::<_, Box<dyn std::error::Error>>(())
/// })??;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn create_subprocess_exec<I, S>(program: impl AsRef<OsStr>, args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    Command::new(program).args(args)
}

/// asyncio's `create_subprocess_shell(cmd)`: `/bin/sh -c cmd`, as a [`Command`] to set
/// up further, then await. The shell interprets `cmd`: quote what comes from users.
///
/// ```
/// use tulip_process::{Stdio, create_subprocess_shell};
///
/// tulip_executor::EventLoop::new()?.run_until_complete(async {
///     let mut child = create_subprocess_shell("ls /zzz")
///         .stdout(Stdio::Piped)
///         .stderr(Stdio::Piped)
///         .await?;
///     let (stdout, stderr) = child.communicate(None).await?;
///     assert!(stdout.is_empty());
///     assert!(String::from_utf8_lossy(&stderr).contains("/zzz"));
///     Ok::<_, Box<dyn std::error::Error>>(())
/// })??;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn create_subprocess_shell(cmd: impl AsRef<OsStr>) -> Command {
    Command::shell(cmd)
}

impl Command {
    /// `error`, of the same kind, with the program's name in front, as every
    /// error of [`spawn`](Command::spawn) says which program it was about.
    fn spawn_error(&self, error: io::Error) -> io::Error {
        io::Error::new(
            error.kind(),
            format!(
                "could not spawn {}: {error}",
                Path::new(&self.program).display()
            ),
        )
    }
}

fn std_stdio(stdio: Stdio, which: &str) -> io::Result<StdStdio> {
    match stdio {
        Stdio::Piped => Ok(StdStdio::piped()),
        Stdio::Null => Ok(StdStdio::null()),
        Stdio::Inherit => Ok(StdStdio::inherit()),
        Stdio::Stdout => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("Stdio::Stdout is for stderr only, not {which}"),
        )),
    }
}

/// A blocking, close-on-exec pipe (the child's end must block, as programs expect).
fn raw_pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    use std::os::fd::FromRawFd;
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors `pipe2` writes.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `pipe2` succeeded: both descriptors are open and owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Makes sure `SIGPIPE` does not kill this process when a child closes its stdin
/// early: if it is at its default action, it is ignored from now on (as Rust's and
/// Python's runtimes do at startup); a handler someone installed is left alone.
fn ignore_sigpipe() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: sigaction with a null new action only reads the current one into
        // `current`, a valid, zeroed `sigaction`; signal(2) then sets a plain
        // disposition (SIG_IGN), no handler.
        unsafe {
            let mut current: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(libc::SIGPIPE, std::ptr::null(), &mut current) == 0
                && current.sa_sigaction == libc::SIG_DFL
            {
                libc::signal(libc::SIGPIPE, libc::SIG_IGN);
                tracing::debug!("SIGPIPE was at its default action: now ignored");
            }
        }
    });
}
