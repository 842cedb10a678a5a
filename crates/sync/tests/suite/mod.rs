//! The behavioural suite of tulip-sync, written once and run under every
//! runtime.
//!
//! Each test is a function generic over [`Runtime`]; [`instantiate_suite!`]
//! holds the one list of them and expands it into `#[test]` functions for a
//! given runtime (`tests/under_tulip.rs`, `tests/under_tokio.rs`), so a test
//! cannot be missing under one runtime.
//!
//! Tests order events only by spawning and yielding, never by time:
//! [`until`] yields until a condition holds (typically: a task has counted
//! itself in an [`Counter`] right before the await it parks on, so once the
//! count is seen the task is queued), and [`settle`] yields long enough for
//! every runnable task to run until it blocks, which is how a test checks
//! that something did *not* happen. Futures that a test wants to drop at a
//! precise point are polled by hand with [`poll_now`]. A [`watchdog`] task
//! turns a test whose tasks all block for good (a lost wake-up) into a
//! failure instead of a hang, by counting scheduling rounds.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};

pub(crate) mod barrier;
pub(crate) mod condition;
pub(crate) mod event;
pub(crate) mod lock;
pub(crate) mod promise;
pub(crate) mod queue;
pub(crate) mod semaphore;
mod send_sync;

/// The one list of tests: expands, for the runtime type given (a path from
/// the crate root, such as `crate::Tulip`), into one module per group with
/// one `#[test]` per function of `suite::<group>`. Attributes written before
/// a name (`#[ignore = "..."]`) are carried over.
macro_rules! instantiate_suite {
    ($runtime:ty) => {
        $crate::suite::instantiate_suite! {
            @groups $runtime;
            lock {
                acquisition_is_fifo,
                try_lock_fails_while_waiters_are_queued,
                granted_waiter_dropped_passes_the_lock_on,
                queued_waiter_dropped_is_skipped,
                cancelled_task_passes_the_lock_on,
                guard_protects_data_across_yields,
                locked_follows_the_guard,
                owned_guards_queue_with_the_others_and_move_between_tasks,
            }
            event {
                set_wakes_every_current_waiter_even_if_cleared_at_once,
                wait_after_clear_waits_for_the_next_set,
                wait_on_a_set_event_is_immediate,
                is_set_follows_set_and_clear,
                dropped_waiter_does_not_disturb_the_others,
            }
            condition {
                notify_one_wakes_the_longest_waiter,
                notify_n_and_notify_all,
                wait_releases_the_lock_and_takes_it_back,
                wait_for_checks_the_predicate_after_each_notification,
                notified_waiter_dropped_passes_the_notification_on,
                cancelled_notified_task_passes_the_notification_on,

                waiter_dropped_while_relocking_passes_the_notification_on,
                queued_waiter_dropped_takes_no_notification,
                foreign_guard_is_given_back_still_locked,
                conditions_sharing_one_lock,
            }
            semaphore {
                acquisition_is_fifo,
                acquire_many_holds_back_those_behind_it,
                dropping_a_big_request_unblocks_those_behind_it,
                try_acquire_does_not_barge,
                granted_waiter_dropped_passes_the_permit_on,
                cancelled_tasks_pass_permits_on,
                permit_drop_releases,
                forget_then_release,
                locked_and_available_permits,
                bounded_release_beyond_the_bound_fails_and_changes_nothing,
                bounded_acquire_many_beyond_the_bound_fails_at_once,
            }
            promise {
                every_waiter_gets_the_result_set_after_it_started_waiting,
                waiting_on_a_finished_promise_is_immediate,
                a_second_result_is_refused_and_given_back,
                cancel_fails_every_waiter_and_refuses_a_result,
                dropped_waiters_leave_the_promise_and_the_others_alone,
                a_cancelled_waiting_task_does_not_cancel_the_promise,
                a_result_set_from_another_thread_wakes_the_waiter,
            }
            barrier {
                indices_follow_arrival_order,
                cyclic_reuse_over_two_rounds,
                abort_breaks_waiters_and_later_waits,
                reset_fails_waiters_and_makes_the_barrier_usable,
                n_waiting_parties_and_zero_parties,
                waiter_dropped_before_the_trip_leaves_the_group,
                waiter_dropped_after_the_trip_changes_nothing,
            }
            queue {
                fifo_order,
                lifo_order,
                priority_order,
                put_waits_while_full_and_putters_are_woken_in_order,
                getters_are_served_in_arrival_order,
                put_nowait_when_full_gives_the_item_back,
                get_nowait_when_empty,
                unbounded_queue_is_never_full,
                task_done_too_many_times,
                join_waits_for_task_done_of_every_item,
                shutdown_fails_puts_and_drains_gets,
                shutdown_fails_waiting_getters,
                shutdown_immediate_drops_items_and_releases_join,
                shutdown_immediate_keeps_join_waiting_for_items_got,
                shutdown_and_woken_getters,
                shutdown_fails_woken_putters,
                getter_arriving_after_shutdown_is_not_stranded,
                woken_getter_dropped_leaves_the_item_queued,
                woken_getter_dropped_passes_its_turn_to_the_next_getter,
                woken_getter_takes_the_next_item_when_it_runs,
                cancelled_woken_getter_task_passes_its_turn_on,
                put_dropped_while_waiting_never_enqueues,
                put_dropped_after_wakeup_passes_the_room_on,
                items_are_dropped_exactly_once,
            }
        }
    };
    (@groups $runtime:ty; $(
        $group:ident { $( $(#[$attr:meta])* $test:ident ),* $(,)? }
    )*) => {
        $(
            mod $group {
                $(
                    $(#[$attr])*
                    #[test]
                    fn $test() {
                        $crate::suite::$group::$test::<$runtime>();
                    }
                )*
            }
        )*
    };
}

pub(crate) use instantiate_suite;

/// A task that was cancelled before it produced its output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cancelled;

/// What the suite needs of an async runtime: a single-threaded `block_on`
/// that also runs the tasks spawned inside it, spawning, joining,
/// cancelling, and a yield.
pub(crate) trait Runtime: Sized + 'static {
    /// A spawned task's handle.
    type Handle<T: Send + 'static>: Send + 'static;

    /// Runs `future` to completion, with the tasks it spawns, on this
    /// thread; a panic in `future` propagates.
    fn run<F>(future: F) -> F::Output
    where
        F: Future + 'static,
        F::Output: 'static;

    /// Spawns a task on the runtime `block_on` is running.
    fn spawn<F>(future: F) -> Self::Handle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static;

    /// Waits for the task: its output, or [`Cancelled`]; a panic of the
    /// task propagates.
    fn join<T: Send + 'static>(
        handle: Self::Handle<T>,
    ) -> impl Future<Output = Result<T, Cancelled>> + Send;

    /// Requests the task's cancellation: its future is dropped, unpolled,
    /// at the next scheduling point.
    fn cancel<T: Send + 'static>(handle: &Self::Handle<T>);

    /// Whether the task has finished.
    fn is_finished<T: Send + 'static>(handle: &Self::Handle<T>) -> bool;

    /// Lets the other runnable tasks run once.
    fn yield_now() -> impl Future<Output = ()> + Send;

    /// [`run`](Runtime::run) with a [`watchdog`] task beside `future`, so
    /// that a lost wake-up fails the test instead of hanging it.
    fn block_on<F>(future: F) -> F::Output
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let test = std::thread::current()
            .name()
            .unwrap_or("a tulip-sync test")
            .to_owned();
        Self::run(async move {
            let watchdog = Self::spawn(watchdog::<Self>(test));
            let output = future.await;
            Self::cancel(&watchdog);
            output
        })
    }

    /// Waits for the task's output; panics if it was cancelled.
    fn output<T: Send + 'static>(handle: Self::Handle<T>) -> impl Future<Output = T> + Send {
        let joined = Self::join(handle);
        async move { joined.await.expect("the task was not cancelled") }
    }
}

/// How many yields [`settle`] makes: far more than any chain of wake-ups
/// in the suite is long.
const SETTLE_YIELDS: usize = 64;

/// How many yields [`until`] makes before it gives up.
const UNTIL_LIMIT: usize = 10_000;

/// How many scheduling rounds [`watchdog`] lets pass: far more than any
/// test takes (even one that exhausts [`until`]).
const WATCHDOG_ROUNDS: usize = 200_000;

/// Yields round after round beside a test; if the test is still running
/// after [`WATCHDOG_ROUNDS`] of them, its tasks are all blocked for good (a
/// lost wake-up): ends the test binary with a message, since the blocked
/// test itself can neither fail nor be interrupted. Counts rounds, not
/// time, so it is deterministic and never fires on a slow machine.
async fn watchdog<R: Runtime>(test: String) {
    for _ in 0..WATCHDOG_ROUNDS {
        R::yield_now().await;
    }
    // Straight to stderr: the test harness captures `eprintln!`, and its
    // capture is lost with the process.
    let message =
        format!("{test}: stalled for {WATCHDOG_ROUNDS} scheduling rounds (a lost wake-up?)\n");
    let _ = std::io::Write::write_all(&mut std::io::stderr(), message.as_bytes());
    std::process::exit(101);
}

/// Yields until every task that can run has run until it blocks.
pub(crate) async fn settle<R: Runtime>() {
    for _ in 0..SETTLE_YIELDS {
        R::yield_now().await;
    }
}

/// Yields until `condition` holds; panics, naming `what`, if it does not
/// within a bounded number of yields.
pub(crate) async fn until<R: Runtime>(what: &str, mut condition: impl FnMut() -> bool) {
    for _ in 0..UNTIL_LIMIT {
        if condition() {
            return;
        }
        R::yield_now().await;
    }
    panic!("never happened: {what}");
}

/// Polls `future` once, by hand, with a waker that does nothing: for
/// futures a test drives itself and drops at a chosen point.
pub(crate) fn poll_now<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    Pin::new(future).poll(&mut Context::from_waker(Waker::noop()))
}

/// The output of a future that must be ready now.
#[track_caller]
pub(crate) fn ready<F: Future + Unpin>(future: &mut F) -> F::Output {
    match poll_now(future) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the future was expected to be ready"),
    }
}

/// Asserts that a future is pending now.
#[track_caller]
pub(crate) fn assert_pending<F: Future + Unpin>(future: &mut F) {
    assert!(
        poll_now(future).is_pending(),
        "the future was expected to be pending"
    );
}

/// A shared counter, e.g. of the tasks that reached their waiting point.
#[derive(Clone, Default)]
pub(crate) struct Counter(Arc<AtomicUsize>);

impl Counter {
    pub(crate) fn new() -> Self {
        Counter::default()
    }

    pub(crate) fn incr(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }

    pub(crate) fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// A shared, ordered record of what the tasks did.
pub(crate) struct Log<T>(Arc<Mutex<Vec<T>>>);

impl<T> Clone for Log<T> {
    fn clone(&self) -> Self {
        Log(Arc::clone(&self.0))
    }
}

impl<T: Clone> Log<T> {
    pub(crate) fn new() -> Self {
        Log(Arc::new(Mutex::new(Vec::new())))
    }

    pub(crate) fn push(&self, entry: T) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(entry);
    }

    /// The entries so far, in order.
    pub(crate) fn entries(&self) -> Vec<T> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// Items that record their drops, to check that every item is dropped
/// exactly once whatever path it took.
#[derive(Clone)]
pub(crate) struct DropLog(Log<u32>);

impl DropLog {
    pub(crate) fn new() -> Self {
        DropLog(Log::new())
    }

    /// A new item with this id.
    pub(crate) fn item(&self, id: u32) -> Tracked {
        Tracked {
            id,
            drops: self.0.clone(),
        }
    }

    /// How many times the item `id` was dropped.
    pub(crate) fn drops_of(&self, id: u32) -> usize {
        self.0
            .entries()
            .iter()
            .filter(|&&dropped| dropped == id)
            .count()
    }

    /// The ids dropped so far, sorted.
    pub(crate) fn dropped(&self) -> Vec<u32> {
        let mut ids = self.0.entries();
        ids.sort_unstable();
        ids
    }
}

/// An item of a [`DropLog`]: records its id there when dropped. Compares by
/// id, so that it fits a priority queue.
pub(crate) struct Tracked {
    pub(crate) id: u32,
    drops: Log<u32>,
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.drops.push(self.id);
    }
}

impl fmt::Debug for Tracked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tracked({})", self.id)
    }
}

impl PartialEq for Tracked {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for Tracked {}

impl PartialOrd for Tracked {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Tracked {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.id.cmp(&other.id)
    }
}
