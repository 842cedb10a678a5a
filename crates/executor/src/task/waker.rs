//! Wakers: one raw-waker vtable for every task, whose data pointer is the
//! task's header and which holds one reference.

use std::{
    ptr::NonNull,
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
    // SAFETY: the waker is alive until we drop its reference below.
    unsafe {
        wake_by_ref(data);
        drop_ref(header(data));
    }
}

/// # Safety
///
/// `data` comes from a waker of ours being dropped, with its reference.
unsafe fn drop(data: *const ()) {
    // SAFETY: the waker's reference, dropped once.
    unsafe { drop_ref(header(data)) };
}
