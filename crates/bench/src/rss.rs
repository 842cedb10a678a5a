//! Resident set size of this process.

use std::fs;

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

/// The size of a memory page in bytes.
fn page_size() -> u64 {
    // SAFETY: sysconf has no preconditions; _SC_PAGESIZE is a valid name.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    u64::try_from(size).expect("sysconf(_SC_PAGESIZE) failed")
}
