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
    task::{Context, Poll},
};

use super::{
    JoinError, JoinHandle, PanicPayload, Runnable, Schedule, Task, TaskBuilder, TaskId,
    state::{ABORTED, AWAITER, CANCELLED, COMPLETE, HANDLE, PANICKED, State, ToIdle, ToRunning},
    waker::{self, Awaiter},
};
use crate::loom::{AtomicU32, Ordering, UnsafeCell, thread_local};

/// The part of the cell that does not depend on the future's or the
/// scheduler's type; every handle points at it.
///
/// Who may touch which field:
/// - `state`, `owner_key`, `polls`: atomics, anyone holding a reference
///   (`polls` is written only by the owner of `RUNNING`);
/// - `vtable`, `id`, `meta`: immutable after spawn;
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
    /// Where the task was spawned, and the name given at spawn, in one word.
    pub(super) meta: Meta,
    /// The waker of whoever awaits the `JoinHandle`.
    pub(super) awaiter: UnsafeCell<Awaiter>,
}

/// The spawn location and the optional name of a task in one word, since
/// every task pays for it and most have no name: a tagged pointer, either to
/// the `&'static Location` itself (low bit clear: no name, which means
/// "Task-{id}", made on demand) or to a boxed [`Named`] (low bit set). Both
/// pointees are aligned to 8, so the low bit is free.
pub(super) struct Meta(*mut ());

/// What a named task's [`Meta`] points at.
struct Named {
    location: &'static Location<'static>,
    name: String,
}

/// The tag bit of [`Meta`].
const NAMED: usize = 1;

impl Meta {
    fn new(location: &'static Location<'static>, name: Option<String>) -> Self {
        const {
            assert!(mem::align_of::<Location<'static>>() > NAMED);
            assert!(mem::align_of::<Named>() > NAMED);
        }
        match name {
            // Never written through: `location` and `name` only read.
            None => Self(NonNull::from(location).as_ptr().cast()),
            Some(name) => {
                let named = Box::into_raw(Box::new(Named { location, name }));
                Self(named.map_addr(|addr| addr | NAMED).cast())
            }
        }
    }

    /// The boxed name and location, if the task has a name.
    fn named(&self) -> Option<&Named> {
        if self.0.addr() & NAMED == 0 {
            return None;
        }
        let named = self.0.map_addr(|addr| addr & !NAMED).cast::<Named>();
        // SAFETY: with the bit set, the untagged pointer is the `Box<Named>`
        // made by `new`, alive until `drop`; it is never written.
        Some(unsafe { &*named })
    }

    /// Where the task was spawned.
    pub(super) fn location(&self) -> &'static Location<'static> {
        match self.named() {
            Some(named) => named.location,
            // SAFETY: with the bit clear, the pointer is the `&'static
            // Location` given to `new`.
            None => unsafe { &*self.0.cast::<Location<'static>>() },
        }
    }

    /// The name given at spawn.
    pub(super) fn name(&self) -> Option<&str> {
        self.named().map(|named| named.name.as_str())
    }
}

impl Drop for Meta {
    fn drop(&mut self) {
        if self.0.addr() & NAMED != 0 {
            let named = self.0.map_addr(|addr| addr & !NAMED).cast::<Named>();
            // SAFETY: the `Box<Named>` made by `new`, freed once, here.
            drop(unsafe { Box::from_raw(named) });
        }
    }
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
    /// [`Schedule::schedule_here`]: the caller has set `SCHEDULED` and hands
    /// over one reference for the Runnable, which is consumed if this returns
    /// `true`; on `false` the reference is still the caller's.
    pub(super) schedule_here: unsafe fn(NonNull<Header>) -> bool,
    /// Runs the task once; consumes the Runnable's reference, except when it
    /// returns `true`: the task was woken during its poll and the caller's
    /// Runnable (reference and `SCHEDULED`) is live again, to be queued.
    pub(super) run: unsafe fn(NonNull<Header>) -> bool,
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

/// The future, then its output, sharing their bytes with no tag of their
/// own: the state word says which field is live. Before `COMPLETE` it is
/// `future` (pinned: it never moves out of the cell); from `COMPLETE` on it
/// is `output`, `None` once the output was taken. Only inside `finish`, by
/// the owner of `RUNNING`, is neither live (between dropping the future and
/// writing the output).
#[repr(C)]
union Stage<F: Future> {
    future: ManuallyDrop<F>,
    output: ManuallyDrop<Option<Result<F::Output, JoinError>>>,
}

/// The whole allocation. `repr(C)` with the header first, so a pointer to
/// the cell is a pointer to its header and back; the header is six words and
/// the stage untagged (see the module docs), since every byte of the cell is
/// paid once per task.
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
        schedule_here: Self::schedule_here,
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
                meta: Meta::new(builder.location, builder.name),
                awaiter: UnsafeCell::new(Awaiter::none()),
            },
            scheduler,
            stage: UnsafeCell::new(Stage {
                future: ManuallyDrop::new(future),
            }),
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
    /// As [`Vtable::schedule_here`].
    unsafe fn schedule_here(ptr: NonNull<Header>) -> bool {
        // SAFETY: the caller hands over `SCHEDULED` and a reference, which
        // the Runnable takes.
        let task = unsafe { Runnable::from_raw(ptr) };
        // SAFETY: the caller's reference keeps the cell alive during the
        // call: the scheduler queues the task where only this thread runs
        // it, so nothing frees the cell before we return.
        match unsafe { Self::scheduler(ptr) }.schedule_here(task) {
            Ok(()) => true,
            Err(task) => {
                // Not queued: the reference goes back to the caller.
                mem::forget(task);
                false
            }
        }
    }

    /// # Safety
    ///
    /// As [`Vtable::run`].
    unsafe fn run(ptr: NonNull<Header>) -> bool {
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
                return false;
            }
            ToRunning::Skip => {
                // SAFETY: the Runnable's reference, dropped once.
                unsafe { drop_ref(ptr) };
                return false;
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
            // SAFETY: `RUNNING` is ours, so nobody else touches the stage,
            // and a running task is not complete: `future` is live. It stays
            // in the heap cell until `finish` drops it in place: never moved.
            let future = unsafe { Pin::new_unchecked(&mut *(*stage).future) };
            panic::catch_unwind(AssertUnwindSafe(|| future.poll(&mut cx)))
        });
        let output = match polled {
            Ok(Poll::Pending) => {
                drop(current);
                match header.state.transition_to_idle() {
                    // The Runnable's reference is gone: touch nothing.
                    ToIdle::Idle => return false,
                    // The Runnable stays alive, for the caller to queue:
                    // no reference changes hands and no scheduler call.
                    ToIdle::Reschedule => return true,
                    ToIdle::Cancel => {
                        let current = CurrentGuard::enter(ptr);
                        // SAFETY: still `RUNNING`, ours.
                        unsafe { Self::finish(ptr, None) };
                        drop(current);
                        // SAFETY: the Runnable's reference.
                        unsafe { drop_ref(ptr) };
                        return false;
                    }
                }
            }
            Ok(Poll::Ready(output)) => {
                if header.state.load().has(CANCELLED) {
                    // Cancelled during the poll that finished it: asyncio
                    // cancels the task all the same.
                    drop_quietly(output);
                    None
                } else {
                    Some(Ok(output))
                }
            }
            Err(payload) => Some(Err(JoinError::Panicked {
                id: header.id,
                payload: PanicPayload(payload),
            })),
        };
        // SAFETY: `RUNNING` is ours.
        unsafe { Self::finish(ptr, output) };
        drop(current);
        // SAFETY: the Runnable's reference.
        unsafe { drop_ref(ptr) };
        false
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

        let dropped = stage.with_mut(|stage| {
            panic::catch_unwind(AssertUnwindSafe(|| {
                // SAFETY: `RUNNING` is ours, the task not complete: `future`
                // is live. Dropped in place (pinned), once: the output
                // overwrites it below, before anyone else sees the stage.
                unsafe { ManuallyDrop::drop(&mut (*stage).future) };
            }))
        });
        let output = match (dropped, output) {
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
        // SAFETY: still ours; the future is gone, so this overwrites nothing
        // live.
        stage.with_mut(|stage| unsafe {
            stage.write(Stage {
                output: ManuallyDrop::new(Some(output)),
            });
        });

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
            // SAFETY: the output is ours (see `COMPLETE`), and `output` is
            // live: we have just written it.
            let output = stage.with_mut(|stage| unsafe { (*(*stage).output).take() });
            if let Some(Err(JoinError::Panicked { payload, .. })) = &output {
                // SAFETY: we hold a reference.
                unsafe { Self::unretrieved_panic(ptr, payload.message_or_default()) };
            }
            drop_quietly(output);
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
        // SAFETY: the caller owns the output of the complete task, so
        // `output` is live and nobody else touches it.
        let output = stage.with_mut(|stage| unsafe { (*(*stage).output).take() });
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
        let mut cell = unsafe { Box::from_raw(ptr.cast::<Self>().as_ptr()) };
        // The state word says which stage field is live (the last reference
        // was dropped with `AcqRel`, so we see the final word and stage).
        let complete = cell.header.state.load().has(COMPLETE);
        let stage = &mut cell.stage;
        stage.with_mut(|stage| {
            if complete {
                // SAFETY: a complete task's stage holds `output` (maybe
                // `None`), dropped once here; the union itself drops nothing.
                drop_quietly(unsafe { ManuallyDrop::take(&mut (*stage).output) });
            } else {
                // The task never completed (a scheduler that let go of it):
                // the future is still there, and its destructor may panic.
                // SAFETY: an incomplete task's stage holds `future`; nobody
                // else can reach it, and it is dropped in place, once.
                drop_quietly(DropInPlace(unsafe { &mut (*stage).future }));
            }
        });
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

/// Drops a pinned value in place when dropped (so that `drop_quietly` can
/// drop the future without moving it).
struct DropInPlace<'a, F>(&'a mut ManuallyDrop<F>);

impl<F> Drop for DropInPlace<'_, F> {
    fn drop(&mut self) {
        // SAFETY: whoever made this owns the value and never uses it again.
        unsafe { ManuallyDrop::drop(self.0) };
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

#[cfg(all(test, not(loom)))]
mod layout_tests {
    use std::{future::Future, mem::size_of, sync::Arc};

    use super::{Cell, Header, Schedule};
    use crate::task::{Runnable, Task};

    struct Noop;

    impl Schedule for Noop {
        fn schedule(&self, _: Runnable) {}
        fn release(&self, _: &Task) {}
    }

    fn cell_size<F: Future + 'static>(_: &F) -> usize {
        size_of::<Cell<F, Arc<Noop>>>()
    }

    /// Every byte of the cell is paid once per task: the stage costs only
    /// the larger of the future and the output slot, with no tag of its own.
    #[test]
    fn six_word_header_and_untagged_stage() {
        let (a, b) = (Arc::new(0_u8), Arc::new(0_u8));
        // Three words and a state byte, like an idle task holding two `Arc`s
        // and a pending listener.
        let future = async move {
            let pending = Box::pin(std::future::pending::<()>());
            let _keep = (&a, &b);
            pending.await;
        };
        // State word, vtable, owner key and poll count, id, location and
        // name, awaiter: six words.
        assert_eq!(size_of::<Header>(), 48);
        assert_eq!(size_of_val(&future), 32);
        assert_eq!(cell_size(&future), size_of::<Header>() + 8 + 32);
        assert_eq!(
            cell_size(&std::future::ready(())),
            size_of::<Header>() + 8 + 32
        );
    }
}
