//! The handles to a task's output.

use std::{
    fmt,
    future::Future,
    marker::PhantomData,
    mem::ManuallyDrop,
    pin::Pin,
    ptr::NonNull,
    task::{Context, Poll},
};

use super::{
    JoinError, Task, TaskId,
    raw::{Header, drop_quietly, drop_ref},
    state::{ABORTED, COMPLETE, DropHandle, PANICKED},
};

/// A handle to a task's output: `.await` it for `Result<T, JoinError>`.
///
/// The task runs whether or not the handle is awaited. Dropping the handle
/// detaches the task (it keeps running, and its output is dropped when it
/// completes); use [`cancel`](Self::cancel) to stop it, or
/// [`abort_on_drop`](Self::abort_on_drop) to tie the task's life to the
/// handle's.
///
/// If the task panicked and the handle is dropped without having given the
/// panic out, the scheduler reports it (asyncio's "Task exception was never
/// retrieved").
///
/// Awaiting the handle again after it gave its result resolves to
/// [`JoinError::OutputTaken`] at once; it never panics.
#[must_use = "dropping a JoinHandle detaches the task; await it, or call .detach() to say so"]
pub struct JoinHandle<T> {
    ptr: NonNull<Header>,
    _output: PhantomData<T>,
}

// SAFETY: the handle moves the output (a `T`) to its owner's thread, so it may
// cross threads when `T: Send`; everything else it touches is the thread-safe
// header.
unsafe impl<T: Send> Send for JoinHandle<T> {}
// SAFETY: `&JoinHandle` reaches only the header (id, name, state, cancel),
// never the output, which needs `&mut` (poll) or ownership (drop).
unsafe impl<T: Send> Sync for JoinHandle<T> {}
// The handle is a pointer; the output is never pinned.
impl<T> Unpin for JoinHandle<T> {}

impl<T> JoinHandle<T> {
    /// # Safety
    ///
    /// `ptr` is a live task whose output is a `T`; the caller hands over one
    /// reference and the `HANDLE` bit.
    pub(super) unsafe fn from_raw(ptr: NonNull<Header>) -> Self {
        Self {
            ptr,
            _output: PhantomData,
        }
    }

    fn header(&self) -> &Header {
        // SAFETY: the handle's reference keeps the cell alive while `self` is
        // borrowed.
        unsafe { self.ptr.as_ref() }
    }

    /// Requests cancellation, as asyncio's `Task.cancel()`.
    ///
    /// The future is dropped at its next scheduling point: if it is waiting,
    /// the task is scheduled so that the loop drops it soon; if it is being
    /// polled, right after that poll. The handle then resolves to
    /// [`JoinError::Cancelled`], and only once the future and everything it
    /// owned have been dropped.
    ///
    /// Returns `false` if the task has already finished or was already
    /// cancelled. A task that finishes on another thread at the same moment
    /// may still give its output although this returned `true`.
    pub fn cancel(&self) -> bool {
        // SAFETY: the handle holds a reference.
        unsafe { super::cancel(self.ptr) }
    }

    /// Whether the task has finished (with an output, a panic, or by being
    /// cancelled): awaiting the handle then resolves at once.
    pub fn is_finished(&self) -> bool {
        self.header().state.load().has(COMPLETE)
    }

    /// Whether the task finished by panicking; the panic is what awaiting
    /// the handle gives (asyncio: `task.exception()` is set).
    pub fn is_panicked(&self) -> bool {
        self.header().state.load().has(PANICKED)
    }

    /// Whether the task finished as cancelled (asyncio's `Task.cancelled()`).
    pub fn is_cancelled(&self) -> bool {
        self.header().state.load().has(ABORTED)
    }

    /// Waits for the task to finish without taking its output: `Ready`
    /// once [`is_finished`](Self::is_finished) holds, else `Pending` with
    /// `cx`'s waker registered to be woken at completion (replacing the waker
    /// of an earlier poll). Awaiting the handle afterwards gives the output.
    /// This is what [`wait`](crate::wait) is built on.
    ///
    /// ```
    /// use std::future::poll_fn;
    ///
    /// let event_loop = tulip_executor::EventLoop::new()?;
    /// let output = event_loop.run_until_complete(async {
    ///     let mut task = tulip_executor::spawn(async { 8 });
    ///     poll_fn(|cx| task.poll_finished(cx)).await;
    ///     assert!(task.is_finished());
    ///     task.await
    /// })?;
    /// assert_eq!(output?, 8);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn poll_finished(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        // `&mut self`: the awaiter slot belongs to one poller at a time, and
        // the handle is `Sync`.
        if self.register(cx) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }

    /// The task's id.
    pub fn id(&self) -> TaskId {
        self.header().id
    }

    /// The task's name: the one given at spawn, else `Task-{id}`.
    pub fn name(&self) -> String {
        super::name_of(self.header())
    }

    /// A [`Task`] reference for introspection.
    pub fn task(&self) -> Task {
        self.header().state.ref_inc();
        // SAFETY: we just added the reference the `Task` takes over.
        unsafe { Task::from_raw(self.ptr) }
    }

    /// Drops the handle on purpose: the task keeps running and its output is
    /// dropped when it completes.
    pub fn detach(self) {
        drop(self);
    }

    /// Turns the handle into one that cancels the task when dropped.
    pub fn abort_on_drop(self) -> AbortOnDropHandle<T> {
        AbortOnDropHandle {
            handle: ManuallyDrop::new(self),
        }
    }

    /// Moves the output out of the complete task; `None` once taken.
    ///
    /// The caller has seen `COMPLETE` while holding the handle, so the output
    /// is the handle's.
    fn take_output(&self) -> Option<Result<T, JoinError>> {
        let mut output: Option<Result<T, JoinError>> = None;
        // SAFETY: the handle holds a reference, owns the output of the
        // complete task, and `output` is the `Option` type `read_output`
        // writes, holding `None`.
        unsafe { (self.header().vtable.read_output)(self.ptr, (&raw mut output).cast()) };
        output
    }

    fn take_result(&self) -> Result<T, JoinError> {
        self.take_output()
            .unwrap_or(Err(JoinError::OutputTaken { id: self.id() }))
    }

    /// Registers `cx`'s waker unless the task is complete; `true` if it is.
    fn register(&self, cx: &Context<'_>) -> bool {
        let header = self.header();
        let state = header.state.load();
        if state.has(COMPLETE) {
            return true;
        }
        if state.has(super::state::AWAITER) {
            // The slot is the task side's: take it back to look at it.
            if header.state.unset_awaiter().is_err() {
                return true;
            }
            // SAFETY: with `AWAITER` cleared before completion, the slot is ours.
            header.awaiter.with_mut(|slot| unsafe {
                if !(*slot).will_wake(cx.waker()) {
                    (*slot).set(cx.waker().clone());
                }
            });
        } else {
            let waker = cx.waker().clone();
            let awaiter = &header.awaiter;
            // SAFETY: `AWAITER` is clear, the task not complete: the slot is ours.
            awaiter.with_mut(|slot| unsafe { (*slot).set(waker) });
        }
        if header.state.set_awaiter().is_ok() {
            return false;
        }
        // Completed meanwhile, with the bit clear: the slot is still ours.
        // SAFETY: as above.
        let waker = header.awaiter.with_mut(|slot| unsafe { (*slot).take() });
        drop_quietly(waker);
        true
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if self.register(cx) {
            Poll::Ready(self.take_result())
        } else {
            Poll::Pending
        }
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        let ptr = self.ptr;
        let header = self.header();
        let vtable = header.vtable;
        match header.state.drop_handle() {
            DropHandle::DropOutput => {
                let output = self.take_output();
                if let Some(Err(JoinError::Panicked { payload, .. })) = &output {
                    // SAFETY: we hold a reference.
                    unsafe { (vtable.unretrieved_panic)(ptr, payload.message_or_default()) };
                }
                drop_quietly(output);
                if header.state.drop_handle_after_complete() {
                    // SAFETY: that was the last reference.
                    unsafe { (vtable.dealloc)(ptr) };
                }
            }
            DropHandle::TakeWaker => {
                // SAFETY: the transition cleared `AWAITER` before completion:
                // the slot is ours; our reference is still held.
                let waker = header.awaiter.with_mut(|slot| unsafe { (*slot).take() });
                drop_quietly(waker);
                // SAFETY: the handle's reference, dropped once.
                unsafe { drop_ref(ptr) };
            }
            DropHandle::Done => {}
            DropHandle::Dealloc => {
                // SAFETY: the transition dropped the last reference.
                unsafe { (vtable.dealloc)(ptr) };
            }
        }
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("id", &self.id())
            .field("state", &self.header().state.load().task_state())
            .finish()
    }
}

/// A [`JoinHandle`] that cancels its task when dropped; made by
/// [`JoinHandle::abort_on_drop`]. Awaiting it gives the task's result.
#[must_use = "dropping an AbortOnDropHandle cancels the task"]
pub struct AbortOnDropHandle<T> {
    handle: ManuallyDrop<JoinHandle<T>>,
}

impl<T> AbortOnDropHandle<T> {
    /// Requests cancellation now; see [`JoinHandle::cancel`].
    pub fn cancel(&self) -> bool {
        self.handle.cancel()
    }

    /// Whether the task has finished.
    pub fn is_finished(&self) -> bool {
        self.handle.is_finished()
    }

    /// Whether the task finished by panicking.
    pub fn is_panicked(&self) -> bool {
        self.handle.is_panicked()
    }

    /// Whether the task finished as cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.handle.is_cancelled()
    }

    /// The task's id.
    pub fn id(&self) -> TaskId {
        self.handle.id()
    }

    /// The task's name.
    pub fn name(&self) -> String {
        self.handle.name()
    }

    /// A [`Task`] reference for introspection.
    pub fn task(&self) -> Task {
        self.handle.task()
    }

    /// Disarms the guard: the plain handle, which detaches when dropped.
    pub fn into_inner(self) -> JoinHandle<T> {
        let mut this = ManuallyDrop::new(self);
        // SAFETY: `this` is never dropped, so the handle is moved out once
        // and not cancelled or dropped by `AbortOnDropHandle::drop`.
        unsafe { ManuallyDrop::take(&mut this.handle) }
    }
}

impl<T> Future for AbortOnDropHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut *self.handle).poll(cx)
    }
}

impl<T> Drop for AbortOnDropHandle<T> {
    fn drop(&mut self) {
        self.handle.cancel();
        // SAFETY: dropped exactly once, here; `into_inner` bypasses this.
        unsafe { ManuallyDrop::drop(&mut self.handle) };
    }
}

impl<T> fmt::Debug for AbortOnDropHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("AbortOnDropHandle")
            .field(&*self.handle)
            .finish()
    }
}
