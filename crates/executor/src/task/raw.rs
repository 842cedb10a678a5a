//! The task cell: one heap allocation holding the header, the scheduler and
//! the stage, and the type-erased functions (the vtable) that the handles call.

use std::{
    any::Any,
    cell::Cell as StdCell,
    future::Future,
    mem::{self, ManuallyDrop},
    panic::{self, AssertUnwindSafe, Location},
    pin::Pin,
    ptr::NonNull,
    task::{Context, Poll, Waker},
};

use super::{
    JoinError, JoinHandle, PanicPayload, Runnable, Schedule, Task, TaskBuilder, TaskId,
    state::{ABORTED, AWAITER, CANCELLED, HANDLE, PANICKED, State, ToIdle, ToRunning},
    waker,
};
use crate::loom::{AtomicU32, Ordering, UnsafeCell, thread_local};

/// The part of the cell that does not depend on the future's or the
/// scheduler's type; every handle points at it.
///
/// Who may touch which field:
/// - `state`, `owner_key`, `polls`: atomics, anyone holding a reference
///   (`polls` is written only by the owner of `RUNNING`);
/// - `vtable`, `id`, `location`, `name`: immutable after spawn;
/// - `awaiter`: as the `AWAITER` bit says (see `state.rs`).
#[repr(C)]
pub(super) struct Header {
    /// Flags and reference count.
    pub(super) state: State,
    /// The functions that know the cell's concrete type.
    pub(super) vtable: &'static Vtable,
    /// Where the scheduler keeps the task in its registry (`u32::MAX`: not
    /// set). 32 bits, paired with `polls` in one word: every byte of the
    /// header is paid once per task.
    pub(super) owner_key: AtomicU32,
    /// How many times the future was polled, saturating at `u32::MAX`.
    pub(super) polls: AtomicU32,
    /// Process-wide unique id.
    pub(super) id: TaskId,
    /// Where the task was spawned.
    pub(super) location: &'static Location<'static>,
    /// The name given at spawn; `None` means "Task-{id}", made on demand.
    /// Boxed twice so that the header pays one word, not two, for it.
    #[expect(
        clippy::box_collection,
        reason = "a thin pointer: most tasks have no name, and each pays for this field"
    )]
    pub(super) name: Option<Box<String>>,
    /// The waker of whoever awaits the `JoinHandle`.
    pub(super) awaiter: UnsafeCell<Option<Waker>>,
}

/// The type-erased operations of one concrete cell type.
///
/// Every function takes a pointer to the header of a live cell of the type
/// that made the vtable, and its caller must hold a reference to the task
/// (unless the function's own notes say the reference is consumed).
pub(super) struct Vtable {
    /// Hands a Runnable to the scheduler. The caller has set `SCHEDULED` and
    /// added the Runnable's reference, and holds another one of its own for
    /// the duration of the call (the scheduler borrows from the cell).
    pub(super) schedule: unsafe fn(NonNull<Header>),
    /// Runs the task once; consumes the Runnable's reference.
    pub(super) run: unsafe fn(NonNull<Header>),
    /// Disposes of a Runnable that was not run; consumes its reference.
    pub(super) drop_runnable: unsafe fn(NonNull<Header>),
    /// `Task::shutdown`.
    pub(super) shutdown: unsafe fn(NonNull<Header>),
    /// Moves the output out of a complete task's stage into `*dst`, which is
    /// an `Option<Result<F::Output, JoinError>>` holding `None`; leaves it
    /// `None` if the output was already taken. The caller must own the output
    /// (the `JoinHandle` of a complete task).
    pub(super) read_output: unsafe fn(NonNull<Header>, *mut ()),
    /// Reports a panic that nobody will retrieve, through the scheduler.
    pub(super) unretrieved_panic: unsafe fn(NonNull<Header>, &str),
    /// Frees the cell; the caller dropped the last reference.
    pub(super) dealloc: unsafe fn(NonNull<Header>),
}

/// The future, then its output.
enum Stage<F: Future> {
    /// Not complete: the future (pinned: it never moves out of the cell).
    Running(F),
    /// Complete, the output not yet taken.
    Finished(Result<F::Output, JoinError>),
    /// The future is dropped and the output taken (or being written).
    Consumed,
}

/// The whole allocation. `repr(C)` with the header first, so a pointer to
/// the cell is a pointer to its header and back.
#[repr(C)]
struct Cell<F: Future, S> {
    header: Header,
    scheduler: S,
    /// Owned by whoever holds `RUNNING`, then by the output's owner once
    /// `COMPLETE` is set (see `state.rs`).
    stage: UnsafeCell<Stage<F>>,
}

/// Spawns a task; see [`super::spawn`].
///
/// # Safety
///
/// If `F` or `F::Output` is not `Send`, the caller must ensure that every
/// Runnable of the task is run or dropped, and `Task::shutdown` called, on the
/// calling thread, that the `JoinHandle` stays there if `F::Output` is not
/// `Send`, and that the last reference is not dropped elsewhere before the
/// task completed (the returned `Task` kept until `Schedule::release`).
pub(super) unsafe fn spawn_unchecked<F, S>(
    future: F,
    scheduler: S,
    builder: TaskBuilder,
) -> (Runnable, JoinHandle<F::Output>, Task)
where
    F: Future + 'static,
    S: Schedule,
{
    let ptr = Cell::<F, S>::allocate(future, scheduler, builder);
    // SAFETY: `State::new` counts these three references and sets the
    // `SCHEDULED` and `HANDLE` bits that the Runnable and the handle own.
    unsafe {
        (
            Runnable::from_raw(ptr),
            JoinHandle::from_raw(ptr),
            Task::from_raw(ptr),
        )
    }
}

impl<F, S> Cell<F, S>
where
    F: Future + 'static,
    S: Schedule,
{
    /// Checked at compile time for every instantiation.
    const HEADER_FIRST: () = assert!(mem::offset_of!(Self, header) == 0);

    const VTABLE: Vtable = Vtable {
        schedule: Self::schedule,
        run: Self::run,
        drop_runnable: Self::drop_runnable,
        shutdown: Self::shutdown,
        read_output: Self::read_output,
        unretrieved_panic: Self::unretrieved_panic,
        dealloc: Self::dealloc,
    };

    fn allocate(future: F, scheduler: S, builder: TaskBuilder) -> NonNull<Header> {
        #[allow(clippy::let_unit_value)]
        let () = Self::HEADER_FIRST;
        let cell = Box::new(Cell {
            header: Header {
                state: State::new(),
                vtable: &Self::VTABLE,
                owner_key: AtomicU32::new(u32::MAX),
                polls: AtomicU32::new(0),
                id: TaskId::next(),
                location: builder.location,
                name: builder.name.map(Box::new),
                awaiter: UnsafeCell::new(None),
            },
            scheduler,
            stage: UnsafeCell::new(Stage::Running(future)),
        });
        // The header is at offset 0 of the `repr(C)` cell, so the cell's
        // pointer (with its provenance over the whole allocation) is the
        // header's.
        NonNull::from(Box::leak(cell)).cast::<Header>()
    }

    /// # Safety
    ///
    /// `ptr` is the header of a live `Cell<F, S>`, and the caller holds a
    /// reference for as long as it uses the result.
    unsafe fn scheduler<'a>(ptr: NonNull<Header>) -> &'a S {
        // SAFETY: the header is the first field of the cell (`HEADER_FIRST`),
        // the pointer carries the whole allocation's provenance, and the
        // scheduler is never mutated while the cell is alive.
        unsafe { &(*ptr.cast::<Self>().as_ptr()).scheduler }
    }

    /// # Safety
    ///
    /// As [`Self::scheduler`]; accesses through the result must follow the
    /// stage's ownership rules.
    unsafe fn stage<'a>(ptr: NonNull<Header>) -> &'a UnsafeCell<Stage<F>> {
        // SAFETY: as in `scheduler`; this is a shared reference to the
        // `UnsafeCell`, which permits the mutation its owner does.
        unsafe { &(*ptr.cast::<Self>().as_ptr()).stage }
    }

    /// # Safety
    ///
    /// As [`Vtable::schedule`].
    unsafe fn schedule(ptr: NonNull<Header>) {
        // SAFETY: the caller's own reference keeps the cell (and so the
        // scheduler) alive for this call; the Runnable's reference and
        // `SCHEDULED` were set up by the caller.
        unsafe { Self::scheduler(ptr).schedule(Runnable::from_raw(ptr)) }
    }

    /// # Safety
    ///
    /// As [`Vtable::run`].
    unsafe fn run(ptr: NonNull<Header>) {
        // SAFETY: the Runnable's reference keeps the cell alive until we drop
        // it; `header` is not used after that.
        let header = unsafe { ptr.as_ref() };
        match header.state.transition_to_running() {
            ToRunning::Poll => {}
            ToRunning::Cancel => {
                let current = CurrentGuard::enter(ptr);
                // SAFETY: the transition gave us `RUNNING`.
                unsafe { Self::finish(ptr, None) };
                drop(current);
                // SAFETY: the Runnable's reference, dropped once.
                unsafe { drop_ref(ptr) };
                return;
            }
            ToRunning::Skip => {
                // SAFETY: the Runnable's reference, dropped once.
                unsafe { drop_ref(ptr) };
                return;
            }
        }

        let current = CurrentGuard::enter(ptr);
        // Only the owner of `RUNNING` writes the count: no read-modify-write.
        let polls = header.polls.load(Ordering::Relaxed);
        header
            .polls
            .store(polls.saturating_add(1), Ordering::Relaxed);
        // SAFETY: the waker borrows the Runnable's reference, which outlives
        // it; it is never dropped (`ManuallyDrop`), and clones of it take
        // references of their own.
        let waker = ManuallyDrop::new(unsafe { waker::borrowed(ptr) });
        let mut cx = Context::from_waker(&waker);
        // SAFETY: we hold a reference.
        let stage = unsafe { Self::stage(ptr) };
        let polled = stage.with_mut(|stage| {
            // SAFETY: `RUNNING` is ours, so nobody else touches the stage.
            match unsafe { &mut *stage } {
                Stage::Running(future) => {
                    // SAFETY: the future stays in the heap cell until it is
                    // dropped in place (by `finish`): it is never moved.
                    let future = unsafe { Pin::new_unchecked(future) };
                    Some(panic::catch_unwind(AssertUnwindSafe(|| {
                        future.poll(&mut cx)
                    })))
                }
                Stage::Finished(_) | Stage::Consumed => None,
            }
        });
        let output = match polled {
            // A running, incomplete task always holds its future.
            None => None,
            Some(Ok(Poll::Pending)) => {
                drop(current);
                match header.state.transition_to_idle() {
                    // The Runnable's reference is gone: touch nothing.
                    ToIdle::Idle => return,
                    ToIdle::Reschedule => {
                        // SAFETY: the transition kept `SCHEDULED` and added
                        // the new Runnable's reference; ours guards the call.
                        unsafe { Self::schedule(ptr) };
                        // SAFETY: the old Runnable's reference.
                        unsafe { drop_ref(ptr) };
                        return;
                    }
                    ToIdle::Cancel => {
                        let current = CurrentGuard::enter(ptr);
                        // SAFETY: still `RUNNING`, ours.
                        unsafe { Self::finish(ptr, None) };
                        drop(current);
                        // SAFETY: the Runnable's reference.
                        unsafe { drop_ref(ptr) };
                        return;
                    }
                }
            }
            Some(Ok(Poll::Ready(output))) => {
                if header.state.load().has(CANCELLED) {
                    // Cancelled during the poll that finished it: asyncio
                    // cancels the task all the same.
                    drop_quietly(output);
                    None
                } else {
                    Some(Ok(output))
                }
            }
            Some(Err(payload)) => Some(Err(JoinError::Panicked {
                id: header.id,
                payload: PanicPayload(payload),
            })),
        };
        // SAFETY: `RUNNING` is ours.
        unsafe { Self::finish(ptr, output) };
        drop(current);
        // SAFETY: the Runnable's reference.
        unsafe { drop_ref(ptr) };
    }

    /// Drops the future, stores `output` (`None`: cancelled), completes the
    /// task, wakes its awaiter, disposes of an output nobody will take, and
    /// tells the scheduler.
    ///
    /// # Safety
    ///
    /// The caller owns `RUNNING` and holds a reference of its own throughout.
    unsafe fn finish(ptr: NonNull<Header>, output: Option<Result<F::Output, JoinError>>) {
        // SAFETY: the caller holds a reference.
        let header = unsafe { ptr.as_ref() };
        // SAFETY: the caller holds a reference.
        let stage = unsafe { Self::stage(ptr) };
        let id = header.id;

        // SAFETY: `RUNNING` is ours.
        let old = stage.with_mut(|stage| unsafe { mem::replace(&mut *stage, Stage::Consumed) });
        let output = match (panic::catch_unwind(AssertUnwindSafe(|| drop(old))), output) {
            (Ok(()), Some(output)) => output,
            (Ok(()), None) => Err(JoinError::Cancelled { id }),
            // The future's destructor panicked: that is the task's panic,
            // unless its poll already panicked (the first panic wins).
            (Err(payload), Some(Err(err @ JoinError::Panicked { .. }))) => {
                drop_quietly(payload);
                Err(err)
            }
            (Err(payload), output) => {
                drop_quietly(output);
                Err(JoinError::Panicked {
                    id,
                    payload: PanicPayload(payload),
                })
            }
        };
        let outcome = match &output {
            Ok(_) | Err(JoinError::OutputTaken { .. }) => 0,
            Err(JoinError::Panicked { .. }) => PANICKED,
            Err(JoinError::Cancelled { .. }) => ABORTED,
        };
        // SAFETY: still ours; the old value is `Consumed`, nothing to drop.
        stage.with_mut(|stage| unsafe { stage.write(Stage::Finished(output)) });

        let prev = header.state.transition_to_complete(outcome);
        if prev.has(AWAITER) {
            // SAFETY: the bit was set when we completed the task: the slot is
            // ours (the handle may no longer clear the bit).
            let waker = header.awaiter.with_mut(|slot| unsafe { (*slot).take() });
            if let Some(waker) = waker
                && let Err(payload) = panic::catch_unwind(AssertUnwindSafe(|| waker.wake()))
            {
                drop_quietly(payload);
            }
        }
        if !prev.has(HANDLE) {
            // No handle when we completed: nobody can ever take the output.
            // SAFETY: the output is ours (see `COMPLETE`).
            let stage =
                stage.with_mut(|stage| unsafe { mem::replace(&mut *stage, Stage::Consumed) });
            if let Stage::Finished(Err(JoinError::Panicked { payload, .. })) = &stage {
                // SAFETY: we hold a reference.
                unsafe { Self::unretrieved_panic(ptr, payload.message_or_default()) };
            }
            drop_quietly(stage);
        }
        // SAFETY: we hold a reference, so this borrowed `Task` is valid; it is
        // never dropped, so it does not give one back.
        let task = ManuallyDrop::new(unsafe { Task::from_raw(ptr) });
        // SAFETY: we hold a reference.
        unsafe { Self::scheduler(ptr) }.release(&task);
    }

    /// # Safety
    ///
    /// As [`Vtable::drop_runnable`].
    unsafe fn drop_runnable(ptr: NonNull<Header>) {
        // SAFETY: the Runnable's reference keeps the cell alive.
        let header = unsafe { ptr.as_ref() };
        if let ToRunning::Cancel = header.state.transition_to_dropped_runnable() {
            let current = CurrentGuard::enter(ptr);
            // SAFETY: the transition gave us `RUNNING`; we hold a reference.
            unsafe { Self::finish(ptr, None) };
            drop(current);
        }
        // SAFETY: the Runnable's reference, dropped once.
        unsafe { drop_ref(ptr) };
    }

    /// # Safety
    ///
    /// The caller holds a reference (a `Task`).
    unsafe fn shutdown(ptr: NonNull<Header>) {
        // SAFETY: the caller holds a reference.
        let header = unsafe { ptr.as_ref() };
        // Our own reference: `release` may drop the caller's.
        header.state.ref_inc();
        if let super::state::Shutdown::DropFuture = header.state.transition_to_shutdown() {
            let current = CurrentGuard::enter(ptr);
            // SAFETY: the transition gave us `RUNNING`; we hold a reference.
            unsafe { Self::finish(ptr, None) };
            drop(current);
        }
        // SAFETY: the reference taken above.
        unsafe { drop_ref(ptr) };
    }

    /// # Safety
    ///
    /// As [`Vtable::read_output`].
    unsafe fn read_output(ptr: NonNull<Header>, dst: *mut ()) {
        // SAFETY: the caller holds a reference.
        let stage = unsafe { Self::stage(ptr) };
        // SAFETY: the caller owns the output of the complete task.
        let output = stage.with_mut(|stage| unsafe {
            match &*stage {
                Stage::Finished(_) => match mem::replace(&mut *stage, Stage::Consumed) {
                    Stage::Finished(output) => Some(output),
                    Stage::Running(_) | Stage::Consumed => None,
                },
                Stage::Running(_) | Stage::Consumed => None,
            }
        });
        let dst = dst.cast::<Option<Result<F::Output, JoinError>>>();
        // SAFETY: the caller passes a valid `Option` of this type; it holds
        // `None`, so overwriting it drops nothing.
        unsafe { *dst = output };
    }

    /// # Safety
    ///
    /// The caller holds a reference.
    unsafe fn unretrieved_panic(ptr: NonNull<Header>, message: &str) {
        // SAFETY: the caller holds a reference, so the borrowed `Task` is
        // valid; it is never dropped.
        let task = ManuallyDrop::new(unsafe { Task::from_raw(ptr) });
        // SAFETY: the caller holds a reference.
        let scheduler = unsafe { Self::scheduler(ptr) };
        // The report may reach a user's exception handler: never unwind.
        let reported = panic::catch_unwind(AssertUnwindSafe(|| {
            scheduler.unretrieved_panic(&task, message);
        }));
        if let Err(payload) = reported {
            drop_quietly(payload);
        }
    }

    /// # Safety
    ///
    /// As [`Vtable::dealloc`].
    unsafe fn dealloc(ptr: NonNull<Header>) {
        // SAFETY: the last reference is gone, so nobody else can reach the
        // cell, which `allocate` made from a `Box`.
        let cell = unsafe { Box::from_raw(ptr.cast::<Self>().as_ptr()) };
        // The stage still holds the future if the task never completed (a
        // scheduler that let go of it): its destructor may panic.
        drop_quietly(cell);
    }
}

/// Drops one reference, freeing the cell if it was the last.
///
/// # Safety
///
/// The caller owns the reference it drops, and does not touch the cell after.
pub(super) unsafe fn drop_ref(ptr: NonNull<Header>) {
    // SAFETY: our reference keeps the cell alive until `ref_dec`; if it was
    // the last one, nobody else can free it, so reading the vtable is fine.
    unsafe {
        let vtable = ptr.as_ref().vtable;
        if ptr.as_ref().state.ref_dec() {
            (vtable.dealloc)(ptr);
        }
    }
}

/// Drops a value of user code, catching a panic from its destructor (and
/// leaking the payload of that panic if dropping it panics as well).
pub(super) fn drop_quietly<T>(value: T) {
    if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(|| drop(value)))
        && let Err(again) = panic::catch_unwind(AssertUnwindSafe(|| drop(payload)))
    {
        mem::forget(again);
    }
}

/// Extracts the message of a panic payload (`&str` or `String`).
pub(super) fn panic_message(payload: &(dyn Any + Send)) -> Option<&str> {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        Some(s)
    } else {
        payload.downcast_ref::<String>().map(String::as_str)
    }
}

#[cfg(not(loom))]
thread_local! {
    /// The task being polled (or dropped) on this thread; a borrowed pointer,
    /// valid while the runner holds its reference.
    static CURRENT: StdCell<Option<NonNull<Header>>> = const { StdCell::new(None) };
}

// loom's macro takes no `const` initialiser.
#[cfg(loom)]
thread_local! {
    /// As above.
    static CURRENT: StdCell<Option<NonNull<Header>>> = StdCell::new(None);
}

/// Sets [`CURRENT`] and restores the previous value on drop (tasks may be
/// run from inside another task's poll).
struct CurrentGuard(Option<NonNull<Header>>);

impl CurrentGuard {
    fn enter(ptr: NonNull<Header>) -> Self {
        Self(CURRENT.try_with(|c| c.replace(Some(ptr))).unwrap_or(None))
    }
}

impl Drop for CurrentGuard {
    fn drop(&mut self) {
        let _ = CURRENT.try_with(|c| c.set(self.0));
    }
}

/// The task being polled on this thread, if any.
pub(super) fn current() -> Option<Task> {
    let ptr = CURRENT.try_with(StdCell::get).ok().flatten()?;
    // SAFETY: `CURRENT` is only set while a runner holds a reference on this
    // thread, so the cell is alive and adding one is allowed.
    unsafe {
        ptr.as_ref().state.ref_inc();
        Some(Task::from_raw(ptr))
    }
}
