//! The task's state word: flag bits below a reference count, and every
//! transition between states as one atomic read-modify-write.
//!
//! Each transition returns a `#[must_use]` enum that tells the caller what it
//! now owns and must do; nothing else in the task module writes the word.

use crate::loom::{AtomicUsize, Ordering};

use super::TaskState;

/// The task has been woken and a [`Runnable`](super::Runnable) for it exists
/// (or is being created by whoever set the bit).
///
/// While the task is neither running nor complete, the bit and the Runnable
/// go together: whoever sets it creates exactly one Runnable, and running or
/// dropping that Runnable clears it. While the task is running, the bit means
/// "woken during its own poll": the runner turns its Runnable into the next
/// one after the poll instead of going idle. Once the task is complete the bit
/// means nothing (late wakes may still set it).
pub(super) const SCHEDULED: usize = 1 << 0;

/// Someone owns the stage (the future): a Runnable being run, or a cancel
/// path (`Runnable` dropped unrun, `Task::shutdown`) dropping the future.
///
/// Only the thread that set this bit may touch the stage until it clears it
/// again (going idle) or trades it for [`COMPLETE`].
pub(super) const RUNNING: usize = 1 << 1;

/// The future is gone: the stage holds the output, or nothing once the
/// output was taken. Set together with clearing [`RUNNING`], never cleared.
///
/// From then on the stage belongs to the `JoinHandle` if [`HANDLE`] was set
/// at that moment, else to the thread that completed the task, which drops
/// the output at once.
pub(super) const COMPLETE: usize = 1 << 2;

/// Cancellation was requested: the next scheduling point drops the future
/// and completes the task as cancelled instead of polling it.
pub(super) const CANCELLED: usize = 1 << 3;

/// The task's `JoinHandle` is alive. The handle also holds one reference.
pub(super) const HANDLE: usize = 1 << 4;

/// The header's `awaiter` slot holds the waker of whoever awaits the
/// `JoinHandle`.
///
/// Clear: the slot belongs to the `JoinHandle` (it is empty outside the
/// handle's own poll). Set: the slot belongs to the task side; the thread
/// that sets [`COMPLETE`] while this bit is set takes the waker and wakes it.
/// The handle may clear the bit again (to replace or drop its waker) only
/// while the task is not complete, so the bit is frozen from completion on.
pub(super) const AWAITER: usize = 1 << 5;

/// The task completed with a panic (from its poll or its future's
/// destructor). Set together with [`COMPLETE`], never cleared: it describes
/// the outcome even after the output was taken.
pub(super) const PANICKED: usize = 1 << 6;

/// The task completed as cancelled: its future was dropped before it gave
/// an output. Set together with [`COMPLETE`], never cleared. (Unlike
/// [`CANCELLED`], which is only the request.)
pub(super) const ABORTED: usize = 1 << 7;

/// Where the reference count starts.
const REF_SHIFT: u32 = 8;

/// One reference, counted above the flags: each `Runnable`, `Waker`, `Task`
/// and the `JoinHandle` holds one. The last one to go frees the cell.
pub(super) const REF_ONE: usize = 1 << REF_SHIFT;

/// More references than this and we abort, as `Arc` does, rather than risk
/// the count overflowing into a use after free.
const MAX_REFS: usize = (isize::MAX as usize) >> REF_SHIFT;

/// A copy of the state word.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) struct Snapshot(usize);

impl Snapshot {
    /// Whether any of `bits` is set.
    #[inline]
    pub(super) fn has(self, bits: usize) -> bool {
        self.0 & bits != 0
    }

    /// The reference count.
    #[inline]
    pub(super) fn refs(self) -> usize {
        self.0 / REF_ONE
    }

    /// What introspection reports.
    pub(super) fn task_state(self) -> TaskState {
        if self.has(COMPLETE) {
            TaskState::Finished
        } else if self.has(RUNNING) {
            TaskState::Running
        } else if self.has(SCHEDULED) {
            TaskState::Scheduled
        } else {
            TaskState::Waiting
        }
    }
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names = [
            (SCHEDULED, "SCHEDULED"),
            (RUNNING, "RUNNING"),
            (COMPLETE, "COMPLETE"),
            (CANCELLED, "CANCELLED"),
            (HANDLE, "HANDLE"),
            (AWAITER, "AWAITER"),
            (PANICKED, "PANICKED"),
            (ABORTED, "ABORTED"),
        ];
        let mut set = f.debug_set();
        for (bit, name) in names {
            if self.has(bit) {
                set.entry(&format_args!("{name}"));
            }
        }
        set.entry(&format_args!("refs={}", self.refs()));
        set.finish()
    }
}

/// What `Runnable::run` may do.
#[must_use]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ToRunning {
    /// We own the stage: poll the future.
    Poll,
    /// We own the stage but cancellation was requested: drop the future and
    /// complete the task as cancelled.
    Cancel,
    /// The task is complete, or its stage is owned by a cancel path right
    /// now that will complete it: only drop the Runnable's reference.
    Skip,
}

/// What the runner does after a poll returned `Pending`.
#[must_use]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ToIdle {
    /// The task is idle and the Runnable's reference is gone: touch nothing.
    Idle,
    /// The task was woken during the poll: `RUNNING` is cleared and
    /// `SCHEDULED` kept; the runner's Runnable, with its reference, is the
    /// task's Runnable again and must be queued.
    Reschedule,
    /// Still running: cancellation was requested during the poll, or nothing
    /// else holds a reference so the task could never be woken again. Drop
    /// the future and complete the task as cancelled.
    Cancel,
}

/// What a wake must do.
#[must_use]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Wake {
    /// We set `SCHEDULED` on an idle task: create the Runnable (with a new
    /// reference) and hand it to the scheduler.
    Schedule,
    /// Already scheduled, running (the runner reschedules), or complete.
    Nothing,
}

/// What `cancel` did.
#[must_use]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Cancel {
    /// Already complete or already cancelled.
    Refused,
    /// Flag set; a Runnable exists or the task is running, so the next
    /// scheduling point sees it.
    Requested,
    /// Flag and `SCHEDULED` set on an idle task, and one reference added:
    /// create the Runnable and schedule it so the loop drops the future.
    Schedule,
}

/// What `Task::shutdown` must do.
#[must_use]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Shutdown {
    /// Already complete.
    Nothing,
    /// Running: the flag is set and the runner completes it after the poll.
    Deferred,
    /// We own the stage: drop the future and complete the task as cancelled.
    DropFuture,
}

/// What dropping the `JoinHandle` must do.
#[must_use]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum DropHandle {
    /// The task is complete and the output is ours: take and drop it, then
    /// call [`State::drop_handle_after_complete`]. Nothing changed yet.
    DropOutput,
    /// `HANDLE` and `AWAITER` are cleared: the awaiter slot is ours, empty it,
    /// then drop the handle's reference.
    TakeWaker,
    /// `HANDLE` cleared and the handle's reference dropped; others remain.
    Done,
    /// As `Done`, and it was the last reference: free the cell.
    Dealloc,
}

/// The atomic state word of one task.
pub(super) struct State(AtomicUsize);

impl State {
    /// A freshly spawned task: scheduled (the first Runnable), with a
    /// `JoinHandle`, and three references (Runnable, JoinHandle, Task).
    pub(super) fn new() -> Self {
        Self(AtomicUsize::new(SCHEDULED | HANDLE | (3 * REF_ONE)))
    }

    /// The current state (`Acquire`: pairs with the `Release` half of every
    /// transition, so a seen `COMPLETE` makes the output visible).
    #[inline]
    pub(super) fn load(&self) -> Snapshot {
        Snapshot(self.0.load(Ordering::Acquire))
    }

    /// Applies `f` in a compare-and-swap loop. `f` returns the new word, or
    /// `None` to leave it unchanged; the previous word is returned either way,
    /// with whether the store happened.
    #[inline]
    fn update(&self, mut f: impl FnMut(Snapshot) -> Option<usize>) -> (Snapshot, bool) {
        let mut current = self.0.load(Ordering::Acquire);
        loop {
            let Some(next) = f(Snapshot(current)) else {
                return (Snapshot(current), false);
            };
            match self
                .0
                .compare_exchange_weak(current, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return (Snapshot(current), true),
                Err(actual) => current = actual,
            }
        }
    }

    /// Adds a reference. The caller must already hold one.
    #[inline]
    pub(super) fn ref_inc(&self) {
        // Relaxed, as `Arc::clone`: the caller's own reference keeps the cell
        // alive, and handing the new one to another thread synchronises.
        let prev = self.0.fetch_add(REF_ONE, Ordering::Relaxed);
        if Snapshot(prev).refs() > MAX_REFS {
            std::process::abort();
        }
    }

    /// Drops a reference; `true` if it was the last, and the caller must
    /// free the cell (and may not touch it otherwise).
    #[inline]
    #[must_use]
    pub(super) fn ref_dec(&self) -> bool {
        let prev = self.0.fetch_sub(REF_ONE, Ordering::AcqRel);
        debug_assert!(Snapshot(prev).refs() >= 1, "{:?}", Snapshot(prev));
        Snapshot(prev).refs() == 1
    }

    /// A Runnable starts running: trades `SCHEDULED` for `RUNNING`.
    pub(super) fn transition_to_running(&self) -> ToRunning {
        let (prev, stored) = self.update(|s| {
            if s.has(COMPLETE | RUNNING) {
                None
            } else {
                Some((s.0 & !SCHEDULED) | RUNNING)
            }
        });
        match (stored, prev.has(CANCELLED)) {
            (false, _) => ToRunning::Skip,
            (true, false) => ToRunning::Poll,
            (true, true) => ToRunning::Cancel,
        }
    }

    /// A Runnable is dropped unrun: takes the stage so the caller drops the
    /// future. Returns `Cancel` or `Skip` as [`Self::transition_to_running`].
    pub(super) fn transition_to_dropped_runnable(&self) -> ToRunning {
        let (_, stored) = self.update(|s| {
            if s.has(COMPLETE | RUNNING) {
                None
            } else {
                Some((s.0 & !SCHEDULED) | RUNNING | CANCELLED)
            }
        });
        if stored {
            ToRunning::Cancel
        } else {
            ToRunning::Skip
        }
    }

    /// The poll returned `Pending`. The runner owns `RUNNING` and one
    /// reference.
    pub(super) fn transition_to_idle(&self) -> ToIdle {
        let mut outcome = ToIdle::Idle;
        let (_, _) = self.update(|s| {
            debug_assert!(s.has(RUNNING) && !s.has(COMPLETE), "{s:?}");
            if s.has(CANCELLED) || (!s.has(SCHEDULED) && s.refs() == 1) {
                outcome = ToIdle::Cancel;
                None
            } else if s.has(SCHEDULED) {
                outcome = ToIdle::Reschedule;
                Some(s.0 & !RUNNING)
            } else {
                outcome = ToIdle::Idle;
                Some((s.0 & !RUNNING) - REF_ONE)
            }
        });
        outcome
    }

    /// The owner of `RUNNING` has stored the output: trades `RUNNING` for
    /// `COMPLETE` and sets the `outcome` bits (`0`, [`PANICKED`] or
    /// [`ABORTED`]) in one atomic operation, and returns the previous word
    /// (its `HANDLE` and `AWAITER` bits say who owns the output and the slot).
    #[must_use]
    pub(super) fn transition_to_complete(&self, outcome: usize) -> Snapshot {
        debug_assert!(outcome & !(PANICKED | ABORTED) == 0);
        // `RUNNING` is set and the others clear, so xor flips them all.
        let bits = RUNNING | COMPLETE | outcome;
        let prev = Snapshot(self.0.fetch_xor(bits, Ordering::AcqRel));
        debug_assert!(!prev.has(PANICKED | ABORTED), "{prev:?}");
        debug_assert!(prev.has(RUNNING) && !prev.has(COMPLETE), "{prev:?}");
        prev
    }

    /// A waker fires. The caller holds a reference (the waker's).
    ///
    /// One atomic operation: setting `SCHEDULED` is harmless when it is
    /// already set, when the task is running (it marks the wake for the
    /// runner) and once the task is complete.
    #[inline]
    pub(super) fn wake(&self) -> Wake {
        let prev = Snapshot(self.0.fetch_or(SCHEDULED, Ordering::AcqRel));
        if prev.has(SCHEDULED | RUNNING | COMPLETE) {
            Wake::Nothing
        } else {
            Wake::Schedule
        }
    }

    /// Requests cancellation. The caller holds a reference.
    pub(super) fn transition_to_cancelled(&self) -> Cancel {
        let mut outcome = Cancel::Refused;
        let (_, _) = self.update(|s| {
            if s.has(COMPLETE | CANCELLED) {
                outcome = Cancel::Refused;
                None
            } else if s.has(RUNNING | SCHEDULED) {
                outcome = Cancel::Requested;
                Some(s.0 | CANCELLED)
            } else {
                outcome = Cancel::Schedule;
                Some((s.0 | CANCELLED | SCHEDULED) + REF_ONE)
            }
        });
        outcome
    }

    /// The loop shuts the task down. The caller holds a reference.
    pub(super) fn transition_to_shutdown(&self) -> Shutdown {
        let mut outcome = Shutdown::Nothing;
        let (_, _) = self.update(|s| {
            if s.has(COMPLETE) {
                outcome = Shutdown::Nothing;
                None
            } else if s.has(RUNNING) {
                outcome = Shutdown::Deferred;
                Some(s.0 | CANCELLED)
            } else {
                outcome = Shutdown::DropFuture;
                Some(s.0 | RUNNING | CANCELLED)
            }
        });
        outcome
    }

    /// The `JoinHandle` stored a waker in the empty slot it owns: hands the
    /// slot to the task side. Fails, changing nothing, if the task completed
    /// meanwhile (the slot is then still the handle's).
    pub(super) fn set_awaiter(&self) -> Result<(), Snapshot> {
        let (prev, stored) = self.update(|s| {
            debug_assert!(!s.has(AWAITER), "{s:?}");
            (!s.has(COMPLETE)).then_some(s.0 | AWAITER)
        });
        if stored { Ok(()) } else { Err(prev) }
    }

    /// The `JoinHandle` takes the slot back to replace its waker. Fails,
    /// changing nothing, if the task completed (the slot is then the
    /// completer's).
    pub(super) fn unset_awaiter(&self) -> Result<(), Snapshot> {
        let (prev, stored) = self.update(|s| {
            debug_assert!(s.has(AWAITER), "{s:?}");
            (!s.has(COMPLETE)).then_some(s.0 & !AWAITER)
        });
        if stored { Ok(()) } else { Err(prev) }
    }

    /// The `JoinHandle` is dropped.
    pub(super) fn drop_handle(&self) -> DropHandle {
        let mut outcome = DropHandle::Done;
        let (_, _) = self.update(|s| {
            debug_assert!(s.has(HANDLE), "{s:?}");
            if s.has(COMPLETE) {
                outcome = DropHandle::DropOutput;
                None
            } else if s.has(AWAITER) {
                outcome = DropHandle::TakeWaker;
                Some(s.0 & !(HANDLE | AWAITER))
            } else {
                outcome = if s.refs() == 1 {
                    DropHandle::Dealloc
                } else {
                    DropHandle::Done
                };
                Some((s.0 & !HANDLE) - REF_ONE)
            }
        });
        outcome
    }

    /// The `JoinHandle` of a complete task has disposed of the output: clears
    /// `HANDLE` and drops its reference in one operation; `true` if it was the
    /// last.
    #[must_use]
    pub(super) fn drop_handle_after_complete(&self) -> bool {
        let prev = Snapshot(self.0.fetch_sub(HANDLE + REF_ONE, Ordering::AcqRel));
        debug_assert!(prev.has(HANDLE | COMPLETE), "{prev:?}");
        prev.refs() == 1
    }
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.load().fmt(f)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn flags_sit_below_the_count() {
        const FLAGS: usize = REF_ONE - 1;
        let all = [
            SCHEDULED, RUNNING, COMPLETE, CANCELLED, HANDLE, AWAITER, PANICKED, ABORTED,
        ];
        for bit in all {
            assert_eq!(bit & FLAGS, bit);
            assert_eq!(bit.count_ones(), 1);
        }
        assert_eq!(all.iter().fold(0, |acc, bit| acc | bit), FLAGS);
    }

    #[test]
    fn lifecycle_of_a_task_that_finishes_in_one_poll() {
        let s = State::new();
        assert_eq!(s.load().refs(), 3);
        assert_eq!(s.transition_to_running(), ToRunning::Poll);
        assert_eq!(s.load().task_state(), TaskState::Running);
        let prev = s.transition_to_complete(0);
        assert!(prev.has(HANDLE) && !prev.has(AWAITER));
        assert_eq!(s.load().task_state(), TaskState::Finished);
        assert!(!s.ref_dec()); // the Runnable
        assert!(!s.ref_dec()); // the Task
        assert!(s.drop_handle_after_complete());
    }

    #[test]
    fn wake_while_running_reschedules_keeping_the_runnables_reference() {
        let s = State::new();
        let refs = s.load().refs();
        assert_eq!(s.transition_to_running(), ToRunning::Poll);
        assert_eq!(s.wake(), Wake::Nothing);
        assert_eq!(s.wake(), Wake::Nothing);
        assert_eq!(s.transition_to_idle(), ToIdle::Reschedule);
        // The runner's Runnable is queued again as it is: no reference
        // added, none dropped.
        assert_eq!(s.load().refs(), refs);
        assert_eq!(s.load().task_state(), TaskState::Scheduled);
    }

    #[test]
    fn idle_task_with_no_other_reference_is_cancelled() {
        let s = State::new();
        assert!(!s.ref_dec()); // Task
        assert!(matches!(s.drop_handle(), DropHandle::Done));
        assert_eq!(s.transition_to_running(), ToRunning::Poll);
        assert_eq!(s.transition_to_idle(), ToIdle::Cancel);
    }

    #[test]
    fn cancel_idle_schedules_once() {
        let s = State::new();
        assert_eq!(s.transition_to_running(), ToRunning::Poll);
        assert_eq!(s.transition_to_idle(), ToIdle::Idle);
        assert_eq!(s.load().refs(), 2);
        assert_eq!(s.transition_to_cancelled(), Cancel::Schedule);
        assert_eq!(s.load().refs(), 3);
        assert_eq!(s.transition_to_cancelled(), Cancel::Refused);
        assert_eq!(s.wake(), Wake::Nothing);
        assert_eq!(s.transition_to_running(), ToRunning::Cancel);
    }
}
