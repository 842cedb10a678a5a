//! Resident set size of this process or of another one.

use std::{fs, io};

/// This process's resident set size in bytes, from `/proc/self/statm`.
pub(crate) fn rss_bytes() -> u64 {
    let statm = fs::read_to_string("/proc/self/statm").expect("read /proc/self/statm");
    let resident_pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|field| field.parse().ok())
        .expect("parse /proc/self/statm");
    resident_pages * page_size()
}

/// The resident set size of process `pid` in bytes, from
/// `/proc/PID/statm`.
pub(crate) fn rss_bytes_of(pid: u32) -> io::Result<u64> {
    let statm = fs::read_to_string(format!("/proc/{pid}/statm"))?;
    let resident_pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|field| field.parse().ok())
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("cannot parse /proc/{pid}/statm: {statm:?}"),
            )
        })?;
    Ok(resident_pages * page_size())
}

/// The size of a memory page in bytes.
fn page_size() -> u64 {
    // SAFETY: sysconf has no preconditions; _SC_PAGESIZE is a valid name.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    u64::try_from(size).expect("sysconf(_SC_PAGESIZE) failed")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_rss_by_pid_is_plausible() {
        let by_pid = rss_bytes_of(std::process::id()).unwrap();
        assert!(by_pid > 0);
        assert!(rss_bytes_of(u32::MAX).is_err());
    }
}
