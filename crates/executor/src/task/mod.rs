//! Tasks: a future, its output, and the handles that reach them.
//!
//! Spawn tasks with [`spawn`](crate::spawn()), [`spawn_local`](crate::spawn_local())
//! or a task [`Builder`]; each gives a [`JoinHandle`] to await the task's
//! output or cancel it, and [`Task`] references serve introspection. The rest
//! of this page describes how tasks are built, for those who work on them.
//!
//! # Design
//!
//! A task is **one heap allocation**, a `#[repr(C)]` cell (`raw.rs`):
//!
//! ```text
//! Cell<F, S> ─┬─ Header     state word · vtable · owner key + poll count ·
//!             │             id · meta (spawn location + name) · awaiter
//!             ├─ S          the scheduler (usually an Arc of the loop)
//!             └─ Stage<F>   union { future: F, output: Option<Result<F::Output, JoinError>> }
//! ```
//!
//! The header comes first, so every handle is a `NonNull<Header>`, and the
//! header's vtable holds the functions that know `F` and `S`.
//!
//! Every byte of the cell is paid once per task, so the header is six words
//! (a unit test holds it there) and the stage carries no tag:
//! - The stage is a `union`: the future and its output share their bytes,
//!   and the state word says which is live: `future` until `COMPLETE`, then
//!   `output` (`None` once taken). Only the completing thread, inside
//!   `finish`, sees neither (between dropping the future and writing the
//!   output), and `dealloc` drops whichever the word names.
//! - `meta` is one tagged pointer: to the `&'static Location` of an unnamed
//!   task, or to a box holding a named task's location and name.
//! - The awaiter slot (`waker.rs`'s `Awaiter`) is an `Option<Waker>` in one
//!   word: a waker of ours (a task awaiting a task) is kept as its tagged
//!   header pointer, any other waker is boxed.
//!
//! ## Handles
//!
//! Each handle holds one reference, counted in the state word:
//! - `Runnable` (crate-private): the right to poll the task once. At most
//!   one exists per task while the task is not complete; it is what the
//!   scheduler queues. Dropping it unrun cancels the task.
//! - [`Waker`](std::task::Waker): `Send + Sync`; waking an idle task creates
//!   its Runnable and hands it to `Schedule::schedule`. Waking a task that
//!   is already scheduled is one atomic `fetch_or`.
//! - [`JoinHandle`]: the output's owner; at most one; `.await` it.
//! - [`Task`]: introspection (asyncio's `Task` object) and cancellation; the
//!   scheduler keeps one in its registry of live tasks until
//!   `Schedule::release`.
//!
//! ## The state word (`state.rs`)
//!
//! Eight flag bits below the reference count, each documented at its
//! constant: `SCHEDULED` (a Runnable exists, or: woken during its poll),
//! `RUNNING` (the stage is owned by whoever set it), `COMPLETE` (the future is
//! gone; set once), `CANCELLED` (drop the future at the next scheduling
//! point), `HANDLE` (the JoinHandle is alive), `AWAITER` (the awaiter slot
//! holds a waker and belongs to the task side), and the outcome, set with
//! `COMPLETE`: `PANICKED` or `ABORTED` (completed as cancelled). Every transition is one
//! read-modify-write returning a `#[must_use]` enum of what the caller must
//! do next.
//!
//! ## Who may touch which field
//!
//! - The **stage** belongs to whoever set `RUNNING` (a running Runnable, or a
//!   cancel path dropping the future). Once `COMPLETE` is set, the output
//!   belongs to the `JoinHandle` if `HANDLE` was set at that moment, otherwise
//!   to the thread that completed the task, which drops it at once (and
//!   reports a panic in it through `Schedule::unretrieved_panic`).
//! - The **awaiter slot** belongs to the `JoinHandle` while `AWAITER` is
//!   clear, to the task side while it is set; the handle may clear the bit
//!   only before completion, and whoever completes the task with the bit set
//!   takes the waker and wakes it.
//! - The **scheduler** and the immutable header fields may be read by anyone
//!   holding a reference. Calls into the scheduler are always made while the
//!   caller holds a reference of its own, besides the one it hands over.
//!
//! ## Completion
//!
//! A task completes exactly once, on the thread that dropped its future: with
//! its output, with a panic caught from its poll or its destructor, or
//! cancelled. Completion stores the result, sets `COMPLETE`, wakes the
//! awaiter, and calls `Schedule::release`. Panics never unwind out of this
//! module into the loop; a panic from dropping user values is caught too.

mod error;
mod join;
mod raw;
mod state;
mod waker;

#[cfg(all(test, not(loom)))]
mod tests;

#[cfg(all(test, loom))]
mod loom_tests;

use std::{
    fmt,
    future::Future,
    hash::{Hash, Hasher},
    mem::ManuallyDrop,
    panic::Location,
    ptr::NonNull,
    sync::{
        Arc,
        atomic::{AtomicU64 as StdAtomicU64, Ordering as StdOrdering},
    },
};

pub use crate::spawn::Builder;
pub use error::{JoinError, PanicPayload};
pub use join::{AbortOnDropHandle, JoinHandle};

use crate::loom::Ordering;
use raw::Header;
use state::{ABORTED, COMPLETE, Cancel, PANICKED};

/// What a task needs from whoever runs it.
pub(crate) trait Schedule: Send + Sync + 'static {
    /// The task was woken (from any thread) while neither scheduled nor
    /// running: run `task` eventually, or drop it (which cancels the task).
    fn schedule(&self, task: Runnable);

    /// Queues `task` on a run queue that only the calling thread runs, if
    /// this scheduler has one here, and then touches neither the task nor
    /// itself again; otherwise gives the task back. Nothing can run (and so
    /// free) the task before the caller returns to that queue, which lets a
    /// consumed waker hand its own reference to the Runnable.
    fn schedule_here(&self, task: Runnable) -> Result<(), Runnable> {
        Err(task)
    }

    /// The task completed (output stored, cancelled, or panicked). Called
    /// exactly once, on the thread that completed it, so that the scheduler
    /// can drop the task from its registry.
    fn release(&self, task: &Task);

    /// The task panicked and nobody retrieved the panic: its `JoinHandle` was
    /// dropped, before or after completion, without taking the output.
    fn unretrieved_panic(&self, task: &Task, message: &str) {
        tracing::error!(
            target: "tulip::task",
            task = %task.name(),
            id = task.id().as_u64(),
            location = %task.location(),
            "Task exception was never retrieved: {message}"
        );
    }
}

impl<S: Schedule> Schedule for Arc<S> {
    fn schedule(&self, task: Runnable) {
        (**self).schedule(task);
    }

    fn schedule_here(&self, task: Runnable) -> Result<(), Runnable> {
        (**self).schedule_here(task)
    }

    fn release(&self, task: &Task) {
        (**self).release(task);
    }

    fn unretrieved_panic(&self, task: &Task, message: &str) {
        (**self).unretrieved_panic(task, message);
    }
}

/// How to spawn a task: its name and where it was spawned from.
#[derive(Debug, Clone)]
pub(crate) struct TaskBuilder {
    /// The task's name; `None` gives `Task-{id}` (made only when asked for).
    pub(crate) name: Option<String>,
    /// Where the task was spawned, for introspection and debug reports.
    pub(crate) location: &'static Location<'static>,
}

impl TaskBuilder {
    /// A task named `name` (`None`: `Task-{id}`), spawned at `location`.
    pub(crate) fn new(name: Option<String>, location: &'static Location<'static>) -> Self {
        Self { name, location }
    }
}

/// Spawns a `Send` future.
///
/// Returns the first Runnable (schedule it, or run it at once for an eager
/// start), the `JoinHandle`, and a `Task` for the scheduler's registry.
pub(crate) fn spawn<F, S>(
    future: F,
    scheduler: S,
    builder: TaskBuilder,
) -> (Runnable, JoinHandle<F::Output>, Task)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule,
{
    // SAFETY: the future and its output are `Send`, so any thread may poll or
    // drop them.
    unsafe { raw::spawn_unchecked(future, scheduler, builder) }
}

/// Spawns a future that may not be `Send`.
///
/// # Safety
///
/// The future and its output must only be polled and dropped on the calling
/// thread. The caller guarantees that every Runnable of this task is run or
/// dropped there, that [`Task::shutdown`] is called there, that the
/// `JoinHandle` stays there if the output is not `Send` (its type system does
/// this), and that the last reference to a task that has not completed is
/// not dropped on another thread (keep the returned `Task` until
/// [`Schedule::release`], as the loop's registry does).
pub(crate) unsafe fn spawn_local<F, S>(
    future: F,
    scheduler: S,
    builder: TaskBuilder,
) -> (Runnable, JoinHandle<F::Output>, Task)
where
    F: Future + 'static,
    F::Output: 'static,
    S: Schedule,
{
    // SAFETY: forwarded to our caller.
    unsafe { raw::spawn_unchecked(future, scheduler, builder) }
}

/// The task being polled on this thread, if any (asyncio's `current_task()`).
pub(crate) fn current() -> Option<Task> {
    raw::current()
}

/// A scheduled task: the right to poll it once.
///
/// It owns the task's `SCHEDULED` state and one reference. It is `Send` so the
/// loop can pass it through a cross-thread queue; for a local task the loop
/// guarantees it is only run or dropped on the task's thread.
pub(crate) struct Runnable {
    ptr: NonNull<Header>,
}

// SAFETY: a Runnable of a `Send` task may run anywhere; for local tasks the
// caller of `spawn_local` promised to run or drop it on the task's thread.
unsafe impl Send for Runnable {}

impl Runnable {
    /// # Safety
    ///
    /// The caller hands over one reference and the `SCHEDULED` bit.
    unsafe fn from_raw(ptr: NonNull<Header>) -> Self {
        Self { ptr }
    }

    fn header(&self) -> &Header {
        // SAFETY: our reference keeps the cell alive while `self` is borrowed.
        unsafe { self.ptr.as_ref() }
    }

    /// Polls the task once, catching a panic.
    ///
    /// The task is the thread's [`current`] task during the poll, and the poll
    /// is counted. If cancellation was requested before or during the poll,
    /// the future is dropped right after (at this scheduling point) and the
    /// task completes as cancelled. If it is complete already (shut down
    /// while queued), this does nothing.
    ///
    /// If the task was woken during its own poll (a `yield_now`), the
    /// Runnable comes back, to be queued behind what is ready, as
    /// [`Schedule::schedule`] would: handing it back saves that wake a
    /// scheduler call and a pair of reference-count updates.
    #[must_use = "a Runnable that comes back must be queued again"]
    pub(crate) fn run(self) -> Option<Runnable> {
        let this = ManuallyDrop::new(self);
        // SAFETY: the Runnable's reference and `SCHEDULED` pass to `run`,
        // which consumes them unless it returns `true`: then they are ours
        // again, and `this` is given back instead of leaked.
        let again = unsafe { (this.header().vtable.run)(this.ptr) };
        again.then(|| ManuallyDrop::into_inner(this))
    }

    /// [`Runnable::run`], handing a Runnable that comes back to the task's
    /// scheduler (for tests of the task module, which drive their own).
    #[cfg(any(test, loom))]
    pub(crate) fn run_and_reschedule(self) {
        if let Some(again) = self.run() {
            again.reschedule();
        }
    }

    /// Hands the Runnable to its task's scheduler.
    #[cfg(any(test, loom))]
    fn reschedule(self) {
        let this = ManuallyDrop::new(self);
        // The scheduler borrows from the cell: hold a reference of our own
        // across the call, besides the Runnable's, which it takes over.
        this.header().state.ref_inc();
        // SAFETY: `SCHEDULED` is set and the Runnable's reference passes to
        // the scheduler; we hold another one for the call, dropped once.
        unsafe {
            (this.header().vtable.schedule)(this.ptr);
            raw::drop_ref(this.ptr);
        }
    }

    /// A counted reference to the task.
    pub(crate) fn task(&self) -> Task {
        self.header().state.ref_inc();
        // SAFETY: we just added the reference the `Task` takes over.
        unsafe { Task::from_raw(self.ptr) }
    }

    /// The task's id.
    pub(crate) fn id(&self) -> TaskId {
        self.header().id
    }
}

impl Drop for Runnable {
    /// Dropping a Runnable without running it drops the future (unless the
    /// task is complete) and completes the task as cancelled.
    fn drop(&mut self) {
        // SAFETY: our reference passes to `drop_runnable`, which consumes it.
        unsafe { (self.header().vtable.drop_runnable)(self.ptr) }
    }
}

impl fmt::Debug for Runnable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runnable").field("id", &self.id()).finish()
    }
}

/// A task's id: unique in the process, numbered from 1 in spawn order.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct TaskId(u64);

impl TaskId {
    fn next() -> Self {
        // Not part of the modelled state machine: a plain std atomic.
        static NEXT: StdAtomicU64 = StdAtomicU64::new(1);
        Self(NEXT.fetch_add(1, StdOrdering::Relaxed))
    }

    /// The number.
    pub fn as_u64(self) -> u64 {
        self.0
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// Where a task is in its life, as [`Task::state`] reports it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum TaskState {
    /// Woken and waiting in the loop's ready queue to be polled.
    Scheduled,
    /// Being polled right now (or its future being dropped).
    Running,
    /// Idle: waiting for a waker to fire (asyncio's pending task).
    Waiting,
    /// Done: it gave an output, panicked, or was cancelled, and its future
    /// has been dropped (asyncio's `Task.done()`).
    Finished,
}

/// A reference to a task, for introspection and cancellation (asyncio's
/// `Task` object, without the result).
///
/// Cheap to clone; it keeps the task's header alive, not its output.
/// Equality and hashing follow the task's identity.
pub struct Task {
    ptr: NonNull<Header>,
}

// SAFETY: a `Task` touches only the header (atomics and immutable fields) and
// the scheduler, which is `Send + Sync`; `shutdown`, which drops the future,
// is crate-private and the loop calls it on the task's thread.
unsafe impl Send for Task {}
// SAFETY: as for `Send`: every `&self` method is thread-safe.
unsafe impl Sync for Task {}

impl Task {
    /// # Safety
    ///
    /// The caller hands over one reference (or, for a borrowed `Task` in
    /// `ManuallyDrop`, lends one that outlives it).
    unsafe fn from_raw(ptr: NonNull<Header>) -> Self {
        Self { ptr }
    }

    fn header(&self) -> &Header {
        // SAFETY: our reference keeps the cell alive while `self` is borrowed.
        unsafe { self.ptr.as_ref() }
    }

    /// The task's id.
    pub fn id(&self) -> TaskId {
        self.header().id
    }

    /// The task's name: the one given at spawn, else `Task-{id}`.
    pub fn name(&self) -> String {
        name_of(self.header())
    }

    /// Where the task was spawned.
    pub fn location(&self) -> &'static Location<'static> {
        self.header().meta.location()
    }

    /// How many times the task's future has been polled (the count stops
    /// at `u32::MAX`).
    pub fn poll_count(&self) -> u64 {
        u64::from(self.header().polls.load(Ordering::Relaxed))
    }

    /// Where the task is in its life.
    pub fn state(&self) -> TaskState {
        self.header().state.load().task_state()
    }

    /// Whether the task has finished (output, panic or cancelled).
    pub fn is_finished(&self) -> bool {
        self.header().state.load().has(COMPLETE)
    }

    /// Whether the task finished by panicking (asyncio: `task.exception()`
    /// is set). Stays true after the panic was taken from the handle.
    pub fn is_panicked(&self) -> bool {
        self.header().state.load().has(PANICKED)
    }

    /// Whether the task finished as cancelled: its future was dropped before
    /// it gave an output (asyncio's `Task.cancelled()`).
    pub fn is_cancelled(&self) -> bool {
        self.header().state.load().has(ABORTED)
    }

    /// Requests cancellation; the same as [`JoinHandle::cancel`].
    pub fn cancel(&self) -> bool {
        // SAFETY: we hold a reference.
        unsafe { cancel(self.ptr) }
    }

    /// The loop closes: if the task is idle or queued, drop its future now
    /// and complete it as cancelled (a queued Runnable then does nothing when
    /// run or dropped); if it is running, cancel it so that the runner
    /// completes it after the poll. Idempotent.
    ///
    /// Must be called on the task's thread for a local task.
    pub(crate) fn shutdown(&self) {
        // SAFETY: we hold a reference.
        unsafe { (self.header().vtable.shutdown)(self.ptr) }
    }

    /// The slot the scheduler uses to find the task in its registry;
    /// `usize::MAX` until set.
    pub(crate) fn owner_key(&self) -> usize {
        match self.header().owner_key.load(crate::loom::Ordering::Relaxed) {
            u32::MAX => usize::MAX,
            key => key as usize,
        }
    }

    /// Sets [`owner_key`](Self::owner_key). Keys are registry slots, far
    /// below `u32::MAX`; a larger one is stored as "not set", which makes
    /// the scheduler's identity check miss rather than mistake the task.
    pub(crate) fn set_owner_key(&self, key: usize) {
        let key = u32::try_from(key).unwrap_or(u32::MAX);
        self.header()
            .owner_key
            .store(key, crate::loom::Ordering::Relaxed);
    }

    /// Whether both refer to the same task.
    pub(crate) fn ptr_eq(&self, other: &Task) -> bool {
        self.ptr == other.ptr
    }
}

impl Clone for Task {
    fn clone(&self) -> Self {
        self.header().state.ref_inc();
        // SAFETY: we just added the reference the clone takes over.
        unsafe { Task::from_raw(self.ptr) }
    }
}

impl Drop for Task {
    fn drop(&mut self) {
        // SAFETY: our reference, dropped once.
        unsafe { raw::drop_ref(self.ptr) }
    }
}

impl PartialEq for Task {
    fn eq(&self, other: &Self) -> bool {
        self.ptr_eq(other)
    }
}

impl Eq for Task {}

impl Hash for Task {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.id().hash(state);
    }
}

impl fmt::Debug for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let header = self.header();
        let mut s = f.debug_struct("Task");
        s.field("id", &header.id);
        match header.meta.name() {
            Some(name) => s.field("name", &name),
            None => s.field("name", &format_args!("Task-{}", header.id)),
        };
        s.field("state", &header.state.load().task_state())
            .field("location", &format_args!("{}", header.meta.location()))
            .finish()
    }
}

/// The name of a task: given, or `Task-{id}`.
fn name_of(header: &Header) -> String {
    match header.meta.name() {
        Some(name) => name.to_owned(),
        None => format!("Task-{}", header.id),
    }
}

/// Requests cancellation.
///
/// # Safety
///
/// The caller holds a reference.
unsafe fn cancel(ptr: NonNull<Header>) -> bool {
    // SAFETY: the caller holds a reference.
    let header = unsafe { ptr.as_ref() };
    match header.state.transition_to_cancelled() {
        Cancel::Refused => false,
        Cancel::Requested => true,
        Cancel::Schedule => {
            // SAFETY: the transition set `SCHEDULED` and added the Runnable's
            // reference; the caller's guards the call.
            unsafe { (header.vtable.schedule)(ptr) };
            true
        }
    }
}
