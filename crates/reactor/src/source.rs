//! One registered I/O source: its readiness and the wakers waiting on it.
//!
//! Design. `state` packs the readiness bits (low 8 bits: `READABLE`, `WRITABLE`,
//! `READ_CLOSED`, `WRITE_CLOSED`, `ERROR`) with a tick (the upper 56 bits) that counts the
//! events delivered to this source. Events only ever *set* bits and bump the tick (mio is
//! edge-triggered: an event means "something changed"). Bits are cleared only by an I/O
//! operation that observed `WouldBlock`, and only if the tick it read before trying is
//! still current: an event that raced the operation keeps its readiness, so it is never
//! lost. Read-closed and error count as readable (a reader must keep reading until it
//! gets 0 or the error), write-closed and error count as writable.
//!
//! Wakers live under `wakers`, one [`Direction`] each for reading and writing: a single
//! `slot` for the `poll_*` methods (the latest poller wins) and a `waiters` slab for the
//! futures, so that every task awaiting the same direction is woken. The readiness
//! check → register under the lock → re-check sequence pairs with dispatch's
//! set-bits → lock → take-wakers, so a waker is either seen by dispatch or the re-check
//! sees the bits. The reactor's `io_waiters` counts wakers stored here and not yet woken.

use std::os::fd::RawFd;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};

use slab::Slab;

use crate::reactor::lock;

const READABLE: u64 = 1;
const WRITABLE: u64 = 1 << 1;
const READ_CLOSED: u64 = 1 << 2;
const WRITE_CLOSED: u64 = 1 << 3;
const ERROR: u64 = 1 << 4;
/// Not readiness: a short read proved the receive queue empty (until the next event).
const READ_DRAINED: u64 = 1 << 5;
/// Not readiness: a short write proved the send buffer full (until the next event).
const WRITE_DRAINED: u64 = 1 << 6;
/// Urgent (out-of-band) data was reported and no read has reached `WouldBlock` since:
/// a read may stop short at the urgent mark with data behind it, so a short read
/// proves nothing while it is set.
const URGENT: u64 = 1 << 7;
const TICK_SHIFT: u32 = 8;
const BITS_MASK: u64 = (1 << TICK_SHIFT) - 1;

/// Which half of a source an operation waits on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Interest {
    Read,
    Write,
}

impl Interest {
    /// The readiness bits that let this direction proceed.
    fn mask(self) -> u64 {
        match self {
            Interest::Read => READABLE | READ_CLOSED | ERROR,
            Interest::Write => WRITABLE | WRITE_CLOSED | ERROR,
        }
    }

    fn index(self) -> usize {
        match self {
            Interest::Read => 0,
            Interest::Write => 1,
        }
    }
}

/// The readiness bits a mio event carries.
pub(crate) fn bits_of(event: &mio::event::Event) -> u64 {
    let mut bits = 0;
    if event.is_readable() {
        bits |= READABLE;
    }
    if event.is_writable() {
        bits |= WRITABLE;
    }
    if event.is_read_closed() {
        bits |= READ_CLOSED;
    }
    if event.is_write_closed() {
        bits |= WRITE_CLOSED;
    }
    if event.is_error() {
        bits |= ERROR;
    }
    if event.is_priority() {
        bits |= URGENT;
    }
    bits
}

#[derive(Default)]
struct Direction {
    /// The waker of the latest `poll_*` caller that found the source not ready.
    slot: Option<Waker>,
    /// One entry per pending future; `None` once woken (the future keeps its key).
    waiters: Slab<Option<Waker>>,
}

impl Direction {
    /// Moves every stored waker into `out`; returns how many.
    fn take_into(&mut self, out: &mut Vec<Waker>) -> usize {
        let before = out.len();
        out.extend(self.slot.take());
        for (_, waiter) in self.waiters.iter_mut() {
            out.extend(waiter.take());
        }
        out.len() - before
    }
}

/// A registered file descriptor's readiness and wakers.
pub(crate) struct Source {
    token: usize,
    fd: RawFd,
    state: AtomicU64,
    wakers: Mutex<[Direction; 2]>,
}

/// A tick read before an operation, to clear readiness only if nothing arrived since.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tick(u64);

impl Source {
    pub(crate) fn new(token: usize, fd: RawFd) -> Source {
        Source {
            token,
            fd,
            state: AtomicU64::new(0),
            wakers: Mutex::new([Direction::default(), Direction::default()]),
        }
    }

    pub(crate) fn token(&self) -> usize {
        self.token
    }

    pub(crate) fn fd(&self) -> RawFd {
        self.fd
    }

    /// Records an event and moves the wakers it concerns into `out`.
    pub(crate) fn dispatch(&self, bits: u64, io_waiters: &AtomicUsize, out: &mut Vec<Waker>) {
        let mut state = self.state.load(Ordering::Acquire);
        loop {
            // Any event may mean new room or new data: it ends the drained marks.
            let next =
                (state.wrapping_add(1 << TICK_SHIFT) & !(READ_DRAINED | WRITE_DRAINED)) | bits;
            match self
                .state
                .compare_exchange_weak(state, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => break,
                Err(actual) => state = actual,
            }
        }
        let mut taken = 0;
        {
            let mut wakers = lock(&self.wakers);
            for interest in [Interest::Read, Interest::Write] {
                if bits & interest.mask() != 0 {
                    taken += wakers[interest.index()].take_into(out);
                }
            }
        }
        if taken != 0 {
            io_waiters.fetch_sub(taken, Ordering::SeqCst);
        }
    }

    /// The current tick, to pass to [`clear`](Source::clear) after a `WouldBlock`.
    pub(crate) fn tick(&self) -> Tick {
        Tick(self.state.load(Ordering::Acquire) >> TICK_SHIFT)
    }

    /// Whether any event has been delivered since registration (before the first one,
    /// readiness is unknown, not absent).
    pub(crate) fn has_events(&self) -> bool {
        self.state.load(Ordering::Acquire) >> TICK_SHIFT != 0
    }

    pub(crate) fn is_ready(&self, interest: Interest) -> bool {
        self.state.load(Ordering::Acquire) & interest.mask() != 0
    }

    /// Clears `interest`'s readiness unless an event arrived after `tick` was read.
    /// A read's `WouldBlock` also ends the urgent mark: the queue is empty.
    pub(crate) fn clear(&self, interest: Interest, tick: Tick) {
        let cleared = match interest {
            Interest::Read => interest.mask() | URGENT,
            Interest::Write => interest.mask(),
        };
        let mut state = self.state.load(Ordering::Acquire);
        while state >> TICK_SHIFT == tick.0 && state & cleared != 0 {
            let next = state & !(cleared & BITS_MASK);
            match self
                .state
                .compare_exchange_weak(state, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return,
                Err(actual) => state = actual,
            }
        }
    }

    /// After a short read (or write), which proves the receive queue empty (or the send
    /// buffer full): clears the plain readable (or writable) bit and marks the direction
    /// drained, unless an event arrived after `tick` was read. Read-closed and error stay:
    /// a short read proves the queue empty, not the peer still there. The next event of
    /// any kind ends the drained mark (see [`is_drained`](Source::is_drained)).
    pub(crate) fn mark_drained(&self, interest: Interest, tick: Tick) {
        let (ready, drained) = match interest {
            Interest::Read => (READABLE, READ_DRAINED),
            Interest::Write => (WRITABLE, WRITE_DRAINED),
        };
        let mut state = self.state.load(Ordering::Acquire);
        while state >> TICK_SHIFT == tick.0 {
            if interest == Interest::Read && state & URGENT != 0 {
                // Stopped at the urgent mark, perhaps: read on until `WouldBlock`.
                return;
            }
            let next = (state & !ready) | drained;
            match self
                .state
                .compare_exchange_weak(state, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return,
                Err(actual) => state = actual,
            }
        }
    }

    /// Whether a short transfer drained `interest`'s direction and no event came since:
    /// trying the operation again would only return `WouldBlock`.
    pub(crate) fn is_drained(&self, interest: Interest) -> bool {
        let drained = match interest {
            Interest::Read => READ_DRAINED,
            Interest::Write => WRITE_DRAINED,
        };
        self.state.load(Ordering::Acquire) & drained != 0
    }

    /// Ready if `interest` is ready; otherwise stores `cx`'s waker in the direction's
    /// single slot (replacing another task's) and returns `Pending`.
    pub(crate) fn poll_slot(
        &self,
        interest: Interest,
        cx: &mut Context<'_>,
        io_waiters: &AtomicUsize,
    ) -> Poll<()> {
        if self.is_ready(interest) {
            return Poll::Ready(());
        }
        let mut wakers = lock(&self.wakers);
        let slot = &mut wakers[interest.index()].slot;
        match slot {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            Some(waker) => *waker = cx.waker().clone(),
            None => {
                *slot = Some(cx.waker().clone());
                io_waiters.fetch_add(1, Ordering::SeqCst);
            }
        }
        if self.is_ready(interest) {
            // The event raced us; withdraw the waker instead of leaving it to be woken.
            let stale = slot.take();
            io_waiters.fetch_sub(1, Ordering::SeqCst);
            drop(wakers);
            drop(stale);
            return Poll::Ready(());
        }
        Poll::Pending
    }

    /// Ready if `interest` is ready (withdrawing the waiter `key`, if any); otherwise
    /// stores `cx`'s waker as waiter `key` (allocating it) and returns `Pending`.
    pub(crate) fn poll_waiter(
        &self,
        interest: Interest,
        key: &mut Option<usize>,
        cx: &mut Context<'_>,
        io_waiters: &AtomicUsize,
    ) -> Poll<()> {
        if self.is_ready(interest) {
            if let Some(key) = key.take() {
                self.remove_waiter(interest, key, io_waiters);
            }
            return Poll::Ready(());
        }
        let mut wakers = lock(&self.wakers);
        let waiters = &mut wakers[interest.index()].waiters;
        let k = match *key {
            Some(k) if waiters.contains(k) => k,
            _ => {
                let k = waiters.insert(None);
                *key = Some(k);
                k
            }
        };
        match &mut waiters[k] {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            Some(waker) => *waker = cx.waker().clone(),
            entry @ None => {
                *entry = Some(cx.waker().clone());
                io_waiters.fetch_add(1, Ordering::SeqCst);
            }
        }
        if self.is_ready(interest) {
            let stale = waiters.remove(k);
            *key = None;
            if stale.is_some() {
                io_waiters.fetch_sub(1, Ordering::SeqCst);
            }
            drop(wakers);
            drop(stale);
            return Poll::Ready(());
        }
        Poll::Pending
    }

    /// Withdraws waiter `key` (a future dropped or completed).
    pub(crate) fn remove_waiter(&self, interest: Interest, key: usize, io_waiters: &AtomicUsize) {
        let stale = {
            let mut wakers = lock(&self.wakers);
            wakers[interest.index()].waiters.try_remove(key).flatten()
        };
        if stale.is_some() {
            io_waiters.fetch_sub(1, Ordering::SeqCst);
        }
        drop(stale);
    }

    /// Removes every stored waker (the source is going away); the caller drops them
    /// after releasing its locks, without waking them.
    pub(crate) fn take_all_wakers(&self, io_waiters: &AtomicUsize) -> Vec<Waker> {
        let mut out = Vec::new();
        {
            let mut wakers = lock(&self.wakers);
            for direction in wakers.iter_mut() {
                direction.take_into(&mut out);
                direction.waiters.clear();
            }
        }
        if !out.is_empty() {
            io_waiters.fetch_sub(out.len(), Ordering::SeqCst);
        }
        out
    }
}
