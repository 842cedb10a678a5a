//! Observing a child's exit without a thread per child and without racing other code
//! that reaps: the child's pidfd (Linux 5.3+) becomes readable when it exits, and only
//! then is it reaped, by its own pid (never `waitpid(-1)`). Where the kernel has no
//! pidfd, `SIGCHLD` wakes every waiting child to try its own `waitpid`.
//!
//! A child nobody waits for any more (its `Process` dropped) is reaped in the
//! background: by a task on the loop, or, with no loop left, at the next spawn.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::Mutex;

use tulip_reactor::Async;

/// How a child ended, as asyncio's `returncode`: the exit code, or minus the signal
/// that killed it.
pub(crate) type ReturnCode = i32;

/// The return code of a child something else reaped (asyncio's choice too).
const UNKNOWN_CODE: ReturnCode = 255;

/// Watches one child: its pid, and its pidfd while the kernel has them.
#[derive(Debug)]
pub(crate) struct ExitWatch {
    pid: libc::pid_t,
    /// Readable once the child has exited; `None` without pidfd support.
    pidfd: Option<Async<OwnedFd>>,
    /// The return code once reaped.
    code: Mutex<Option<ReturnCode>>,
}

impl ExitWatch {
    /// Starts watching `pid`, a child of this process not yet reaped.
    pub(crate) fn new(pid: libc::pid_t) -> ExitWatch {
        let pidfd = match pidfd_open(pid) {
            Ok(fd) => match Async::new(fd) {
                Ok(fd) => Some(fd),
                Err(error) => {
                    tracing::debug!(%error, "could not register a pidfd: SIGCHLD will be used");
                    None
                }
            },
            Err(error) => {
                tracing::debug!(%error, "no pidfd for this child: SIGCHLD will be used");
                None
            }
        };
        ExitWatch {
            pid,
            pidfd,
            code: Mutex::new(None),
        }
    }

    pub(crate) fn pid(&self) -> libc::pid_t {
        self.pid
    }

    /// The return code if the child has exited (reaping it then), without waiting.
    ///
    /// # Errors
    ///
    /// `ECHILD` if something else reaped the child.
    pub(crate) fn try_code(&self) -> io::Result<Option<ReturnCode>> {
        let mut code = lock(&self.code);
        if code.is_none() {
            match reap(self.pid) {
                Ok(reaped) => *code = reaped,
                Err(error) if error.raw_os_error() == Some(libc::ECHILD) => {
                    // Reaped by someone else (or SIGCHLD ignored): the status is lost,
                    // and the pid must never be signalled again. asyncio reports 255.
                    tracing::warn!(
                        pid = self.pid,
                        "a child was reaped by someone else: its return code is unknown (255)"
                    );
                    *code = Some(UNKNOWN_CODE);
                }
                Err(error) => return Err(error),
            }
        }
        Ok(*code)
    }

    /// The return code once known, without reaping (for `send_signal`, which must not
    /// signal a pid that may have been reused).
    pub(crate) fn known_code(&self) -> Option<ReturnCode> {
        *lock(&self.code)
    }

    /// Waits for the child to exit and reaps it.
    ///
    /// # Errors
    ///
    /// `ECHILD` if something else reaped the child; the error of listening for
    /// `SIGCHLD` where there is no pidfd.
    pub(crate) async fn wait(&self) -> io::Result<ReturnCode> {
        reap_orphans();
        match &self.pidfd {
            Some(pidfd) => {
                if let Some(code) = self.known_code() {
                    return Ok(code);
                }
                // The pidfd was registered at spawn: it reports an exit that came before
                // this wait too, so no `waitpid` is spent on a child still running.
                loop {
                    // Every waiter is woken (several tasks may wait for one child).
                    pidfd.readable().await?;
                    if let Some(code) = self.try_code()? {
                        return Ok(code);
                    }
                }
            }
            None => {
                // Listening before the first try: a SIGCHLD between the two is not missed.
                let mut sigchld = crate::signal::signal(libc::SIGCHLD).map_err(io::Error::other)?;
                loop {
                    if let Some(code) = self.try_code()? {
                        return Ok(code);
                    }
                    if sigchld.recv().await.is_none() {
                        return Err(io::Error::other("SIGCHLD can no longer be heard"));
                    }
                }
            }
        }
    }

    /// Sends `signal` to the child, unless it is known to have exited (its pid may
    /// belong to another process by now).
    ///
    /// # Errors
    ///
    /// `ESRCH` once the child has exited; the error of the system call.
    pub(crate) fn send_signal(&self, signal: i32) -> io::Result<()> {
        let code = lock(&self.code);
        if code.is_some() {
            return Err(io::Error::from_raw_os_error(libc::ESRCH));
        }
        let result = match &self.pidfd {
            // SAFETY: pidfd_send_signal takes the pidfd (open while `self` lives), the
            // signal, a null siginfo (as kill(2) would fill it) and no flags.
            Some(pidfd) => unsafe {
                libc::syscall(
                    libc::SYS_pidfd_send_signal,
                    pidfd.as_raw_fd(),
                    signal,
                    std::ptr::null::<libc::siginfo_t>(),
                    0,
                ) as libc::c_int
            },
            // Not reaped by us (and `code` is locked, so not meanwhile), nor by anyone
            // else (that would have shown as ECHILD): the pid cannot have been reused.
            // SAFETY: kill(2) takes plain integers.
            None => unsafe { libc::kill(self.pid, signal) },
        };
        drop(code);
        if result < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

/// `pidfd_open(2)`, non-blocking where the kernel allows (5.10+: it spares the
/// registration its `fcntl`).
fn pidfd_open(pid: libc::pid_t) -> io::Result<OwnedFd> {
    // PIDFD_NONBLOCK is O_NONBLOCK by definition.
    let mut fd = -1;
    for flags in [libc::O_NONBLOCK, 0] {
        // SAFETY: the pidfd_open system call takes a pid and flags, and returns a new
        // descriptor or -1.
        fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, flags) };
        if fd >= 0 || io::Error::last_os_error().raw_os_error() != Some(libc::EINVAL) {
            break;
        }
    }
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    let fd = i32::try_from(fd).map_err(|_| io::Error::other("pidfd out of range"))?;
    // SAFETY: the kernel just returned this descriptor, open and owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `waitpid(pid, WNOHANG)`: the return code if the child exited (now reaped).
fn reap(pid: libc::pid_t) -> io::Result<Option<ReturnCode>> {
    let mut status = 0;
    loop {
        // SAFETY: `status` is a valid place for waitpid to write the status to.
        let result = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if result == 0 {
            return Ok(None);
        }
        if result == pid {
            return Ok(Some(return_code(status)));
        }
        let error = io::Error::last_os_error();
        if error.kind() != io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
}

/// asyncio's `returncode` of a wait status.
fn return_code(status: libc::c_int) -> ReturnCode {
    if libc::WIFSIGNALED(status) {
        -libc::WTERMSIG(status)
    } else {
        libc::WEXITSTATUS(status)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Children dropped while running with no loop to reap them: reaped at the next
/// spawn.
static ORPHANS: Mutex<Vec<libc::pid_t>> = Mutex::new(Vec::new());

/// Reaps `watch`'s child once it exits, without anyone waiting: in a task on the
/// current loop; without one (or if the loop ends first), at a later spawn or wait.
pub(crate) fn reap_in_background(watch: ExitWatch) {
    if matches!(watch.try_code(), Ok(Some(_)) | Err(_)) {
        return;
    }
    let guard = OrphanOnDrop(Some(watch));
    let reaper = async move {
        let mut guard = guard;
        if let Some(watch) = &guard.0 {
            match watch.wait().await {
                Ok(_) => guard.0 = None,
                Err(error) => {
                    tracing::debug!(pid = watch.pid, %error, "could not reap a dropped child");
                }
            }
        }
    };
    if let Ok(handle) = tulip_executor::Handle::current()
        && let Ok(task) = handle.spawn(reaper)
    {
        task.detach();
    }
    // Not spawned: the future, and with it the guard, was dropped: an orphan now.
}

/// Hands a child not yet reaped over to the orphans when dropped: the reaper task's
/// loop ended before the child did.
struct OrphanOnDrop(Option<ExitWatch>);

impl Drop for OrphanOnDrop {
    fn drop(&mut self) {
        if let Some(watch) = self.0.take()
            && watch.known_code().is_none()
        {
            lock(&ORPHANS).push(watch.pid);
        }
    }
}

/// Kills (`SIGKILL`) and reaps a child now, blocking for the moment it takes to die:
/// for a child that cannot be left running (a spawn that failed half-way, a
/// `kill_on_drop` with no loop to reap it later).
pub(crate) fn kill_and_reap(watch: &ExitWatch) {
    if watch.send_signal(libc::SIGKILL).is_ok() {
        let mut status = 0;
        loop {
            // SAFETY: `status` is a valid place for waitpid to write the status to.
            let result = unsafe { libc::waitpid(watch.pid, &mut status, 0) };
            if result >= 0 || io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
                break;
            }
        }
        *lock(&watch.code) = Some(return_code(status));
    }
}

/// Reaps the orphans that have exited since.
pub(crate) fn reap_orphans() {
    lock(&ORPHANS).retain(|&pid| matches!(reap(pid), Ok(None)));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fallback for kernels without pidfd: `SIGCHLD` wakes the wait.
    #[test]
    fn without_a_pidfd_sigchld_wakes_the_wait() {
        let event_loop = tulip_executor::EventLoop::new().unwrap();
        let code = event_loop
            .run_until_complete(async {
                let child = std::process::Command::new("sh")
                    .args(["-c", "sleep 0.05; exit 5"])
                    .spawn()
                    .unwrap();
                let watch = ExitWatch {
                    pid: libc::pid_t::try_from(child.id()).unwrap(),
                    pidfd: None,
                    code: Mutex::new(None),
                };
                let code =
                    tulip_executor::timeout(std::time::Duration::from_secs(10), watch.wait())
                        .await
                        .expect("SIGCHLD never woke the wait");
                // Reaped by the watch, not by std (whose `Child` is forgotten).
                std::mem::forget(child);
                code
            })
            .unwrap();
        assert_eq!(code.unwrap(), 5);
    }
}
