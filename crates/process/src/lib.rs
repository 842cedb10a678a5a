//! asyncio's subprocesses and signals on tulip: `create_subprocess_exec`,
//! `create_subprocess_shell`, `Command`, `Process`, and the loop's signal handlers.
//!
//! A [`Command`] says what to run and where its standard streams go; awaiting it (or
//! [`Command::spawn`]) starts the child as a [`Process`], whose piped streams are
//! tulip-streams' [`StreamWriter`](tulip_streams::StreamWriter) and
//! [`StreamReader`](tulip_streams::StreamReader). The exit is observed through the
//! child's pidfd (Linux 5.3+; `SIGCHLD` otherwise) on the loop, with no thread per
//! child, reaping only this crate's own children; a dropped child is reaped in the
//! background, so no zombie is left.
//!
//! # Example: seed 002's `run('ls /zzz')`
//!
//! ```
//! use tulip_process::{Stdio, create_subprocess_shell};
//!
//! tulip_executor::EventLoop::new()?.run_until_complete(async {
//!     let cmd = "ls /zzz";
//!     let mut proc = create_subprocess_shell(cmd)
//!         .stdout(Stdio::Piped)
//!         .stderr(Stdio::Piped)
//!         .await?;
//!     let (stdout, stderr) = proc.communicate(None).await?;
//!     let code = proc.returncode().unwrap();
//!     println!("[{cmd:?} exited with {code}]");
//!     assert_ne!(code, 0);
//!     assert!(stdout.is_empty());
//!     assert!(String::from_utf8_lossy(&stderr).contains("No such file"));
//!     Ok::<_, Box<dyn std::error::Error>>(())
//! })??;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

// Spawning and running children.
mod command;
mod exit;
mod process;

pub use crate::command::{Command, Stdio, create_subprocess_exec, create_subprocess_shell};
pub use crate::process::Process;

// Signals: handlers and streams of arrivals, delivered on the loop.
pub mod signal;
