//! The read buffer of a thread's transports: `data_received` and `datagram_received`
//! get a slice lent for the call only, so every transport on a thread reads into one
//! buffer, and an idle connection holds none.

use std::cell::Cell;

/// How much one read asks for: asyncio's `max_size` (256 KiB).
pub(crate) const READ_SIZE: usize = 256 * 1024;

thread_local! {
    static SCRATCH: Cell<Option<Box<[u8]>>> = const { Cell::new(None) };
}

/// Runs `f` with the thread's read buffer. A nested call (which only a callback that
/// runs another loop could make) gets a buffer of its own.
pub(crate) fn with_scratch<R>(f: impl FnOnce(&mut [u8]) -> R) -> R {
    let mut buf = SCRATCH
        .try_with(Cell::take)
        .ok()
        .flatten()
        .unwrap_or_else(|| vec![0; READ_SIZE].into_boxed_slice());
    let result = f(&mut buf);
    let _ = SCRATCH.try_with(|slot| slot.set(Some(buf)));
    result
}
