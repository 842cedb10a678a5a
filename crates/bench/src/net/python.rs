//! The Python peers of the network workloads: asyncio's streams API on
//! asyncio's own loop or on uvloop's, from `python/echo_server.py`.
//!
//! The script is embedded in the binary and run as `python3 -c SOURCE
//! KIND READ_SIZE`, so the benchmark works from any directory and writes
//! no file. Whether `python3` (and, for uvloop, `import uvloop`) works is
//! checked once per process; a peer that cannot run is reported as
//! unavailable, never as a failure.

use std::io;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use crate::rt::RuntimeId;

/// The Python echo server's source.
pub(crate) const SCRIPT: &str = include_str!("../../python/echo_server.py");

/// The interpreter the Python peers run on.
pub(crate) const PYTHON: &str = "python3";

/// The `KIND` argument of the script for `runtime`, if it is a Python peer.
fn loop_kind(runtime: RuntimeId) -> Option<&'static str> {
    match runtime {
        RuntimeId::Asyncio => Some("asyncio"),
        RuntimeId::Uvloop => Some("uvloop"),
        _ => None,
    }
}

/// Whether `python3 -c code` runs and exits successfully.
fn python_runs(code: &str) -> bool {
    Command::new(PYTHON)
        .args(["-c", code])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// Why `runtime` cannot run here, or `Ok` if it can (always `Ok` for a
/// runtime that is not a Python peer). Checked once per process.
pub(crate) fn availability(runtime: RuntimeId) -> Result<(), &'static str> {
    /// `(python3 runs, uvloop imports)`.
    static FOUND: OnceLock<(bool, bool)> = OnceLock::new();
    let Some(kind) = loop_kind(runtime) else {
        return Ok(());
    };
    let (python, uvloop) = *FOUND.get_or_init(|| {
        let python = python_runs("import asyncio");
        (python, python && python_runs("import uvloop"))
    });
    if !python {
        Err("python3 not found")
    } else if kind == "uvloop" && !uvloop {
        Err("uvloop not installed")
    } else {
        Ok(())
    }
}

/// `python3 -c SCRIPT KIND READ_SIZE`, as the program and its arguments.
pub(crate) fn server_argv(runtime: RuntimeId, read_size: usize) -> io::Result<Vec<String>> {
    let kind = loop_kind(runtime)
        .ok_or_else(|| io::Error::other(format!("{} is not a Python peer", runtime.name())))?;
    Ok(vec![
        PYTHON.to_owned(),
        "-c".to_owned(),
        SCRIPT.to_owned(),
        kind.to_owned(),
        read_size.to_string(),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_python_peers_have_a_command() {
        let argv = server_argv(RuntimeId::Uvloop, 1024).unwrap();
        assert_eq!(argv[0], PYTHON);
        assert_eq!(&argv[3..], ["uvloop", "1024"]);
        assert!(argv[2].contains("asyncio.start_server"));
        assert!(server_argv(RuntimeId::Tulip, 1024).is_err());
        assert_eq!(availability(RuntimeId::MioRaw), Ok(()));
    }
}
