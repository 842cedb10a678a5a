//! What stream and datagram transports share with their drivers: the write buffer's
//! water marks, and the way a transport wakes its driver.

use std::task::{Context, Waker};

use crate::cell::{Panicked, ProtocolCell};
use crate::error::TransportError;
use crate::protocol::BaseProtocol;

/// The default high-water mark of a transport's write buffer: 64 KiB, as in asyncio.
pub const DEFAULT_HIGH_WATER: usize = 64 * 1024;
/// The default low-water mark of a transport's write buffer: 16 KiB, as in asyncio.
pub const DEFAULT_LOW_WATER: usize = 16 * 1024;

/// A write buffer's water marks, and whether the protocol is to be paused.
pub(crate) struct WaterMarks {
    high: usize,
    low: usize,
    /// The buffer went above the high-water mark and has not yet fallen to the low
    /// one: the driver tells the protocol `pause_writing`.
    pub(crate) over_high: bool,
}

impl WaterMarks {
    pub(crate) fn new() -> WaterMarks {
        WaterMarks {
            high: DEFAULT_HIGH_WATER,
            low: DEFAULT_LOW_WATER,
            over_high: false,
        }
    }

    /// Follows the buffer's size: above `high` pauses, at `low` or below resumes.
    pub(crate) fn update(&mut self, buffered: usize) {
        if buffered > self.high {
            self.over_high = true;
        } else if buffered <= self.low {
            self.over_high = false;
        }
    }

    /// `set_write_buffer_limits`.
    pub(crate) fn set(
        &mut self,
        high: usize,
        low: usize,
        buffered: usize,
    ) -> Result<(), TransportError> {
        if low > high {
            return Err(TransportError::InvalidLimits { high, low });
        }
        self.high = high;
        self.low = low;
        self.update(buffered);
        Ok(())
    }

    /// `(high, low)`.
    pub(crate) fn get(&self) -> (usize, usize) {
        (self.high, self.low)
    }
}

/// How a transport wakes its driver: only while the driver waits, since a running
/// driver looks at the state again before it waits.
#[derive(Default)]
pub(crate) struct DriverWake {
    running: bool,
    waker: Option<Waker>,
}

impl DriverWake {
    /// Something changed that the driver must act on.
    pub(crate) fn wake(&self) {
        if !self.running
            && let Some(waker) = &self.waker
        {
            waker.wake_by_ref();
        }
    }

    /// The driver looks at the state (and acts) until it waits or stops.
    pub(crate) fn start(&mut self) {
        self.running = true;
    }

    /// The driver waits: changes wake it through `cx`.
    pub(crate) fn wait(&mut self, cx: &Context<'_>) {
        self.running = false;
        if !self.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            self.waker = Some(cx.waker().clone());
        }
    }

    /// The driver waits; with `again` (it stopped at its budget, not for lack of
    /// work) it wakes itself first, so that it runs again after the others.
    pub(crate) fn park(&mut self, cx: &Context<'_>, again: bool) {
        self.wait(cx);
        if again {
            cx.waker().wake_by_ref();
        }
    }

    /// The driver yields, having woken itself.
    pub(crate) fn pause(&mut self) {
        self.running = false;
    }

    /// The driver is gone.
    pub(crate) fn stop(&mut self) {
        self.running = false;
        self.waker = None;
    }
}

/// Tells the protocol that writing is paused (`pause_writing`) or may resume
/// (`resume_writing`).
pub(crate) fn tell_writing<P: BaseProtocol>(
    cell: &ProtocolCell<P>,
    paused: bool,
) -> Result<(), Panicked> {
    if paused {
        cell.call(BaseProtocol::pause_writing)
    } else {
        cell.call(BaseProtocol::resume_writing)
    }
}
