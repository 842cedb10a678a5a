//! Wakers: one raw-waker vtable for every task, whose data pointer is the
//! task's header and which holds one reference.

use std::{
    mem::ManuallyDrop,
    ptr::{self, NonNull},
    task::{RawWaker, RawWakerVTable, Waker},
};

use super::{
    raw::{Header, drop_ref},
    state::Wake,
};

static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake_by_ref, drop);

/// A waker that borrows the caller's reference instead of holding one.
///
/// # Safety
///
/// The caller holds a reference for as long as the waker (not its clones)
/// lives, and never drops it (wrap it in `ManuallyDrop`).
pub(super) unsafe fn borrowed(ptr: NonNull<Header>) -> Waker {
    // SAFETY: the vtable's functions uphold the `RawWaker` contract for a
    // data pointer to a live header with a reference; the caller lends one.
    unsafe { Waker::from_raw(RawWaker::new(ptr.as_ptr().cast_const().cast(), &VTABLE)) }
}

/// # Safety
///
/// `data` is a header pointer made by [`borrowed`] or [`clone`].
unsafe fn header(data: *const ()) -> NonNull<Header> {
    // SAFETY: such pointers are never null.
    unsafe { NonNull::new_unchecked(data.cast_mut().cast::<Header>()) }
}

/// # Safety
///
/// `data` comes from a live waker of ours, which holds a reference.
unsafe fn clone(data: *const ()) -> RawWaker {
    // SAFETY: the waker's reference keeps the cell alive.
    unsafe { header(data).as_ref() }.state.ref_inc();
    RawWaker::new(data, &VTABLE)
}

/// # Safety
///
/// `data` comes from a live waker of ours, which holds a reference.
unsafe fn wake_by_ref(data: *const ()) {
    // SAFETY: per the function's contract.
    let ptr = unsafe { header(data) };
    // SAFETY: the waker's reference keeps the cell alive during the call.
    let header = unsafe { ptr.as_ref() };
    if let Wake::Schedule = header.state.wake() {
        // The Runnable's reference; the waker's guards the scheduler call.
        header.state.ref_inc();
        // SAFETY: we set `SCHEDULED` on an idle task and added the
        // Runnable's reference; we hold the waker's reference.
        unsafe { (header.vtable.schedule)(ptr) };
    }
}

/// # Safety
///
/// `data` comes from a waker of ours being consumed, with its reference.
unsafe fn wake(data: *const ()) {
    // SAFETY: per the function's contract.
    let ptr = unsafe { header(data) };
    // SAFETY: the waker's reference keeps the cell alive until it is handed
    // on or dropped below.
    let header = unsafe { ptr.as_ref() };
    match header.state.wake() {
        Wake::Schedule => {
            // On the thread of the task's own run queue (a wake from the
            // loop), the waker's reference becomes the Runnable's: no
            // reference-count traffic at all.
            // SAFETY: we set `SCHEDULED` on an idle task and hand over the
            // waker's reference.
            if unsafe { (header.vtable.schedule_here)(ptr) } {
                return;
            }
            // Elsewhere the scheduler call needs a reference of our own
            // beside the Runnable's (the waker's), dropped after it.
            header.state.ref_inc();
            // SAFETY: `SCHEDULED` set, the Runnable's reference handed over,
            // ours held for the call and dropped once.
            unsafe {
                (header.vtable.schedule)(ptr);
                drop_ref(ptr);
            }
        }
        // SAFETY: the waker's reference, dropped once.
        Wake::Nothing => unsafe { drop_ref(ptr) },
    }
}

/// # Safety
///
/// `data` comes from a waker of ours being dropped, with its reference.
unsafe fn drop(data: *const ()) {
    // SAFETY: the waker's reference, dropped once.
    unsafe { drop_ref(header(data)) };
}

/// An `Option<Waker>` in one word (the header's awaiter slot: every task pays
/// for it). Null is `None`. A waker of ours, the usual awaiter (a task
/// awaiting a task), is stored as its data pointer, a header, tagged with the
/// low bit: it holds the waker's reference. Any other waker is boxed, and the
/// slot holds the box (untagged: it is aligned to 8, as headers are).
pub(super) struct Awaiter(*mut ());

/// The tag bit of a task waker in an [`Awaiter`].
const TASK: usize = 1;

impl Awaiter {
    /// An empty slot.
    pub(super) const fn none() -> Self {
        const {
            assert!(align_of::<Header>() > TASK);
            assert!(align_of::<Waker>() > TASK);
        }
        Self(ptr::null_mut())
    }

    /// Stores `waker`, dropping the one held before (if any).
    pub(super) fn set(&mut self, waker: Waker) {
        let new = if ptr::eq(waker.vtable(), &VTABLE) {
            // Keep the waker's reference with its data pointer.
            let waker = ManuallyDrop::new(waker);
            waker.data().cast_mut().map_addr(|addr| addr | TASK)
        } else {
            Box::into_raw(Box::new(waker)).cast()
        };
        // The old waker goes after the new one is in: its destructor may
        // panic.
        std::mem::drop(Self(std::mem::replace(&mut self.0, new)));
    }

    /// Takes the waker out, leaving the slot empty.
    pub(super) fn take(&mut self) -> Option<Waker> {
        let slot = std::mem::replace(&mut self.0, ptr::null_mut());
        if slot.is_null() {
            None
        } else if slot.addr() & TASK != 0 {
            let data = slot.map_addr(|addr| addr & !TASK).cast_const();
            // SAFETY: a data pointer of a waker of ours, whose reference the
            // slot kept (`set` forgot the waker): this rebuilds that waker.
            Some(unsafe { Waker::from_raw(RawWaker::new(data, &VTABLE)) })
        } else {
            // SAFETY: an untagged, non-null slot is a `Box<Waker>` made by
            // `set`, taken out once (the slot is now empty).
            Some(*unsafe { Box::from_raw(slot.cast::<Waker>()) })
        }
    }

    /// Whether the stored waker would wake the same task as `other`
    /// ([`Waker::will_wake`]); `false` when the slot is empty.
    pub(super) fn will_wake(&self, other: &Waker) -> bool {
        let slot = self.0;
        if slot.is_null() {
            false
        } else if slot.addr() & TASK != 0 {
            ptr::eq(other.vtable(), &VTABLE)
                && ptr::eq(other.data(), slot.map_addr(|addr| addr & !TASK))
        } else {
            // SAFETY: an untagged, non-null slot is a live `Box<Waker>`.
            unsafe { &*slot.cast::<Waker>() }.will_wake(other)
        }
    }
}

impl Drop for Awaiter {
    fn drop(&mut self) {
        std::mem::drop(self.take());
    }
}
