//! Unit tests of the raw task with counting futures, wakers and a test
//! scheduler that collects Runnables: exact poll, wake and drop counts, and
//! the drop / cancel / panic combinations.

use std::{
    collections::VecDeque,
    future::Future,
    panic::{self, AssertUnwindSafe},
    pin::Pin,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst},
    },
    task::{Context, Poll, Wake, Waker},
    thread,
};

use super::*;

// ---------------------------------------------------------------- harness

/// Collects Runnables; counts schedules, releases and unretrieved panics.
/// With `here` set it also takes Runnables through `schedule_here`, as the
/// event loop does on its own thread.
#[derive(Default)]
struct TestSched {
    queue: Mutex<VecDeque<Runnable>>,
    scheduled: AtomicUsize,
    here: AtomicBool,
    scheduled_here: AtomicUsize,
    released: Mutex<Vec<TaskId>>,
    unretrieved: Mutex<Vec<String>>,
}

impl Schedule for TestSched {
    fn schedule(&self, task: Runnable) {
        self.scheduled.fetch_add(1, SeqCst);
        self.queue.lock().unwrap().push_back(task);
    }

    fn schedule_here(&self, task: Runnable) -> Result<(), Runnable> {
        if !self.here.load(SeqCst) {
            return Err(task);
        }
        self.scheduled_here.fetch_add(1, SeqCst);
        self.queue.lock().unwrap().push_back(task);
        Ok(())
    }

    fn release(&self, task: &Task) {
        assert!(task.is_finished());
        self.released.lock().unwrap().push(task.id());
    }

    fn unretrieved_panic(&self, task: &Task, message: &str) {
        self.unretrieved
            .lock()
            .unwrap()
            .push(format!("{}: {message}", task.name()));
    }
}

impl TestSched {
    fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    fn pop(&self) -> Option<Runnable> {
        self.queue.lock().unwrap().pop_front()
    }

    fn queued(&self) -> usize {
        self.queue.lock().unwrap().len()
    }

    /// Runs queued Runnables until none is left; returns how many ran.
    fn run_all(&self) -> usize {
        let mut n = 0;
        while let Some(r) = self.pop() {
            r.run_and_reschedule();
            n += 1;
        }
        n
    }

    fn scheduled(&self) -> usize {
        self.scheduled.load(SeqCst)
    }

    fn released(&self) -> usize {
        self.released.lock().unwrap().len()
    }

    fn unretrieved(&self) -> Vec<String> {
        self.unretrieved.lock().unwrap().clone()
    }
}

/// Asserts that every task cell has been freed: each holds the scheduler.
fn assert_all_freed(sched: Arc<TestSched>) {
    assert_eq!(sched.queued(), 0);
    assert_eq!(Arc::strong_count(&sched), 1, "a task cell was leaked");
}

#[derive(Default)]
struct Counts {
    polls: AtomicUsize,
    future_drops: AtomicUsize,
    output_drops: AtomicUsize,
}

impl Counts {
    fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }
    fn polls(&self) -> usize {
        self.polls.load(SeqCst)
    }
    fn future_drops(&self) -> usize {
        self.future_drops.load(SeqCst)
    }
    fn output_drops(&self) -> usize {
        self.output_drops.load(SeqCst)
    }
}

/// An output that counts its drops.
struct Output(Arc<Counts>, u32);

impl Drop for Output {
    fn drop(&mut self) {
        self.0.output_drops.fetch_add(1, SeqCst);
    }
}

/// A future driven by a closure, counting polls and drops.
struct CountingFuture<F> {
    counts: Arc<Counts>,
    poll: F,
}

impl<T, F> Future for CountingFuture<F>
where
    F: FnMut(&mut Context<'_>) -> Poll<T> + Unpin,
{
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        self.counts.polls.fetch_add(1, SeqCst);
        (self.poll)(cx)
    }
}

impl<F> Drop for CountingFuture<F> {
    fn drop(&mut self) {
        self.counts.future_drops.fetch_add(1, SeqCst);
    }
}

fn counting<T, F>(counts: &Arc<Counts>, poll: F) -> CountingFuture<F>
where
    F: FnMut(&mut Context<'_>) -> Poll<T> + Unpin,
{
    CountingFuture {
        counts: counts.clone(),
        poll,
    }
}

/// A future that finishes at its first poll with a counted output.
fn ready(counts: &Arc<Counts>, value: u32) -> impl Future<Output = Output> + Send + 'static {
    let out = counts.clone();
    counting(counts, move |_| Poll::Ready(Output(out.clone(), value)))
}

/// A future that stays pending, keeping the last waker in `slot`.
fn pending_with_slot(
    counts: &Arc<Counts>,
    slot: &Arc<Mutex<Option<Waker>>>,
) -> impl Future<Output = Output> + Send + 'static {
    let slot = slot.clone();
    counting(counts, move |cx: &mut Context<'_>| {
        *slot.lock().unwrap() = Some(cx.waker().clone());
        Poll::Pending
    })
}

/// A waker that counts its wakes.
#[derive(Default)]
struct WakeCounter {
    wakes: AtomicUsize,
}

impl Wake for WakeCounter {
    fn wake(self: Arc<Self>) {
        self.wakes.fetch_add(1, SeqCst);
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.wakes.fetch_add(1, SeqCst);
    }
}

fn wake_counter() -> (Arc<WakeCounter>, Waker) {
    let counter = Arc::new(WakeCounter::default());
    let waker = Waker::from(counter.clone());
    (counter, waker)
}

fn poll_handle<T>(handle: &mut JoinHandle<T>, waker: &Waker) -> Poll<Result<T, JoinError>> {
    Pin::new(handle).poll(&mut Context::from_waker(waker))
}

fn builder() -> TaskBuilder {
    TaskBuilder::new(None, Location::caller())
}

fn spawn_test<F>(future: F, sched: &Arc<TestSched>) -> (Runnable, JoinHandle<F::Output>, Task)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    spawn(future, sched.clone(), builder())
}

// ------------------------------------------------------------ static checks

#[allow(dead_code)]
fn assert_send_sync_unpin() {
    fn send<T: Send>() {}
    fn sync<T: Sync>() {}
    fn unpin<T: Unpin>() {}
    send::<JoinHandle<u32>>();
    sync::<JoinHandle<u32>>();
    unpin::<JoinHandle<u32>>();
    // Unpin whatever the output.
    unpin::<JoinHandle<std::marker::PhantomPinned>>();
    send::<AbortOnDropHandle<u32>>();
    sync::<AbortOnDropHandle<u32>>();
    unpin::<AbortOnDropHandle<u32>>();
    send::<Task>();
    sync::<Task>();
    unpin::<Task>();
    send::<Runnable>();
    send::<JoinError>();
    sync::<JoinError>();
    send::<TaskId>();
    sync::<TaskId>();
    send::<TaskState>();
}

// ---------------------------------------------------------------- lifecycle

#[test]
fn ready_at_first_poll() {
    let sched = TestSched::new();
    let counts = Counts::new();
    let (runnable, mut handle, task) = spawn_test(ready(&counts, 7), &sched);
    assert_eq!(task.state(), TaskState::Scheduled);
    assert_eq!(runnable.id(), task.id());
    runnable.run_and_reschedule();
    assert_eq!(counts.polls(), 1);
    assert_eq!(counts.future_drops(), 1);
    assert_eq!(counts.output_drops(), 0);
    assert_eq!(sched.released(), 1);
    assert!(task.is_finished() && handle.is_finished());
    assert!(!handle.is_panicked() && !handle.is_cancelled());
    assert_eq!(task.state(), TaskState::Finished);
    assert_eq!(task.poll_count(), 1);

    let (wakes, waker) = wake_counter();
    let Poll::Ready(Ok(out)) = poll_handle(&mut handle, &waker) else {
        panic!("not ready")
    };
    assert_eq!(out.1, 7);
    assert_eq!(wakes.wakes.load(SeqCst), 0);
    drop(out);
    assert_eq!(counts.output_drops(), 1);
    // Polled again: never panics.
    match poll_handle(&mut handle, &waker) {
        Poll::Ready(Err(JoinError::OutputTaken { id })) => assert_eq!(id, task.id()),
        other => panic!("unexpected {:?}", other.map(|r| r.map(|o| o.1))),
    }
    drop((handle, task));
    assert_eq!(counts.output_drops(), 1);
    assert_eq!(sched.scheduled(), 0);
    assert!(sched.unretrieved().is_empty());
    assert_all_freed(sched);
}

/// A task awaiting another task's handle: the awaiter slot keeps the
/// awaiting task's own waker (the one-word form, with its reference), keeps
/// it when polled again, and the completion wakes that task.
#[test]
fn task_awaiting_a_task_keeps_its_waker_in_one_word() {
    let sched = TestSched::new();
    let counts = Counts::new();
    let slot = Arc::new(Mutex::new(None));
    let (inner_runnable, inner_handle, inner_task) =
        spawn_test(pending_with_slot(&counts, &slot), &sched);
    let mut inner_handle = Some(inner_handle);
    let polls = Arc::new(AtomicUsize::new(0));
    let outer_polls = polls.clone();
    let outer = std::future::poll_fn(move |cx| {
        outer_polls.fetch_add(1, SeqCst);
        let handle = inner_handle.as_mut().unwrap();
        if let Poll::Ready(result) = Pin::new(&mut *handle).poll(cx) {
            inner_handle = None;
            return Poll::Ready(result.map(|output| output.1).unwrap_err().is_cancelled());
        }
        // Polled again with the same waker: kept.
        assert!(Pin::new(handle).poll(cx).is_pending());
        Poll::Pending
    });
    let (outer_runnable, mut outer_handle, outer_task) = spawn_test(outer, &sched);
    outer_runnable.run_and_reschedule();
    inner_runnable.run_and_reschedule();
    assert_eq!(polls.load(SeqCst), 1);
    // The outer task's `Task`, its handle, and the waker in the slot.
    assert_eq!(outer_task.header().state.load().refs(), 3);

    // Cancelling the inner task completes it and wakes the outer one.
    assert!(inner_task.cancel());
    assert_eq!(sched.run_all(), 2);
    assert_eq!(polls.load(SeqCst), 2);
    assert!(outer_task.is_finished());
    let (_, waker) = wake_counter();
    assert!(matches!(
        poll_handle(&mut outer_handle, &waker),
        Poll::Ready(Ok(true))
    ));
    drop(slot.lock().unwrap().take());
    drop((outer_handle, outer_task, inner_task));
    assert_all_freed(sched);
}

#[test]
fn handle_awaits_then_is_woken_once() {
    let sched = TestSched::new();
    let counts = Counts::new();
    let slot = Arc::new(Mutex::new(None));
    let (runnable, mut handle, task) = spawn_test(pending_with_slot(&counts, &slot), &sched);
    let (wakes, waker) = wake_counter();
    assert!(poll_handle(&mut handle, &waker).is_pending());
    // Polled again with the same waker: kept, not duplicated.
    assert!(poll_handle(&mut handle, &waker).is_pending());
    // Ours, `waker`, and the one clone in the slot.
    assert_eq!(Arc::strong_count(&wakes), 3);

    runnable.run_and_reschedule();
    assert_eq!(task.state(), TaskState::Waiting);
    assert_eq!(counts.polls(), 1);
    assert_eq!(wakes.wakes.load(SeqCst), 0);

    // Cancel through the Task: the idle task is scheduled once.
    assert!(task.cancel());
    assert!(!task.cancel());
    assert_eq!(sched.queued(), 1);
    assert_eq!(counts.future_drops(), 0);
    assert_eq!(sched.run_all(), 1);
    assert_eq!(counts.polls(), 1, "a cancelled task is not polled");
    assert!(task.is_cancelled() && handle.is_cancelled() && !task.is_panicked());
    assert_eq!(counts.future_drops(), 1);
    assert_eq!(wakes.wakes.load(SeqCst), 1);
    // The completer took the waker out of the slot.
    assert_eq!(Arc::strong_count(&wakes), 2);
    match poll_handle(&mut handle, &waker) {
        Poll::Ready(Err(e)) => {
            assert!(e.is_cancelled());
            assert_eq!(e.to_string(), format!("task {} was cancelled", task.id()));
        }
        _ => panic!("expected cancelled"),
    }
    // The future kept a waker: waking it now does nothing.
    let stored = slot.lock().unwrap().take().unwrap();
    stored.wake_by_ref();
    stored.wake();
    assert_eq!(sched.queued(), 0);
    drop((handle, task));
    assert_eq!(sched.released(), 1);
    assert_all_freed(sched);
}

#[test]
fn handle_repolled_with_another_waker_wakes_only_the_new_one() {
    let sched = TestSched::new();
    let counts = Counts::new();
    let (runnable, mut handle, task) = spawn_test(ready(&counts, 1), &sched);
    let (first, first_waker) = wake_counter();
    let (second, second_waker) = wake_counter();
    assert!(poll_handle(&mut handle, &first_waker).is_pending());
    assert!(poll_handle(&mut handle, &second_waker).is_pending());
    assert_eq!(Arc::strong_count(&first), 2, "first waker still referenced");
    drop(first_waker);
    assert_eq!(Arc::strong_count(&first), 1);
    runnable.run_and_reschedule();
    assert_eq!(first.wakes.load(SeqCst), 0);
    assert_eq!(second.wakes.load(SeqCst), 1);
    assert!(matches!(
        poll_handle(&mut handle, &second_waker),
        Poll::Ready(Ok(_))
    ));
    drop((handle, task));
    assert_eq!(counts.output_drops(), 1);
    assert_all_freed(sched);
}

#[test]
fn a_consumed_wake_hands_its_reference_to_the_runnable_when_queued_here() {
    let sched = TestSched::new();
    sched.here.store(true, SeqCst);
    let counts = Counts::new();
    let slot = Arc::new(Mutex::new(None));
    let (runnable, handle, task) = spawn_test(pending_with_slot(&counts, &slot), &sched);
    runnable.run_and_reschedule();
    let waker = slot.lock().unwrap().take().unwrap();
    // By value, idle: queued through `schedule_here`, not `schedule`.
    let consumed = waker.clone();
    consumed.wake();
    assert_eq!(
        (sched.scheduled_here.load(SeqCst), sched.scheduled()),
        (1, 0)
    );
    // Already scheduled: a second consumed wake only drops its reference.
    let consumed = waker.clone();
    consumed.wake();
    assert_eq!(sched.queued(), 1);
    assert_eq!(sched.run_all(), 1);
    assert_eq!(counts.polls(), 2);
    // Refused here: the wake falls back to `schedule`, keeping the count.
    sched.here.store(false, SeqCst);
    drop(slot.lock().unwrap().take());
    waker.wake();
    assert_eq!(
        (sched.scheduled_here.load(SeqCst), sched.scheduled()),
        (1, 1)
    );
    assert_eq!(sched.run_all(), 1);
    drop(handle);
    task.shutdown();
    assert_eq!(counts.future_drops(), 1);
    drop(task);
    drop(slot);
    assert_all_freed(sched);
}

#[test]
fn wake_while_idle_schedules_exactly_once() {
    let sched = TestSched::new();
    let counts = Counts::new();
    let slot = Arc::new(Mutex::new(None));
    let (runnable, handle, task) = spawn_test(pending_with_slot(&counts, &slot), &sched);
    runnable.run_and_reschedule();
    let waker = slot.lock().unwrap().clone().unwrap();
    waker.wake_by_ref();
    assert_eq!(task.state(), TaskState::Scheduled);
    waker.wake_by_ref();
    let clone = waker.clone();
    clone.wake();
    assert_eq!(sched.scheduled(), 1);
    assert_eq!(sched.queued(), 1);
    assert_eq!(sched.run_all(), 1);
    assert_eq!(counts.polls(), 2);
    // By value this time.
    waker.wake();
    assert_eq!(sched.scheduled(), 2);
    assert_eq!(sched.run_all(), 1);
    assert_eq!(counts.polls(), 3);
    drop(handle);
    task.shutdown();
    assert_eq!(counts.future_drops(), 1);
    assert_eq!(sched.released(), 1);
    drop(task);
    drop(slot);
    assert_all_freed(sched);
}

#[test]
fn wake_during_own_poll_reschedules_exactly_once() {
    let sched = TestSched::new();
    let counts = Counts::new();
    let mut step = 0;
    let out = counts.clone();
    let future = counting(&counts, move |cx: &mut Context<'_>| {
        step += 1;
        if step < 3 {
            // Woken several times, by reference, by value and by a clone.
            cx.waker().wake_by_ref();
            cx.waker().wake_by_ref();
            let clone = cx.waker().clone();
            clone.wake();
            Poll::Pending
        } else {
            Poll::Ready(Output(out.clone(), step))
        }
    });
    let (runnable, mut handle, task) = spawn_test(future, &sched);
    runnable.run_and_reschedule();
    assert_eq!(counts.polls(), 1, "never polled re-entrantly");
    assert_eq!(sched.scheduled(), 1);
    assert_eq!(sched.queued(), 1);
    assert_eq!(task.state(), TaskState::Scheduled);
    assert_eq!(sched.run_all(), 2);
    assert_eq!(counts.polls(), 3);
    assert_eq!(sched.scheduled(), 2);
    let (_, waker) = wake_counter();
    assert!(matches!(
        poll_handle(&mut handle, &waker),
        Poll::Ready(Ok(Output(_, 3)))
    ));
    drop((handle, task));
    assert_eq!(counts.output_drops(), 1);
    assert_all_freed(sched);
}

#[test]
fn wake_from_another_thread() {
    let sched = TestSched::new();
    let counts = Counts::new();
    let slot = Arc::new(Mutex::new(None));
    let (runnable, mut handle, task) = spawn_test(pending_with_slot(&counts, &slot), &sched);
    runnable.run_and_reschedule();
    let waker = slot.lock().unwrap().take().unwrap();
    thread::spawn(move || waker.wake()).join().unwrap();
    assert_eq!(sched.queued(), 1);
    let runnable = sched.pop().unwrap();
    // Cancel before it runs: the run drops the future instead of polling.
    assert!(handle.cancel());
    assert!(!handle.cancel());
    runnable.run_and_reschedule();
    assert_eq!(counts.polls(), 1);
    assert_eq!(counts.future_drops(), 1);
    let (_, waker) = wake_counter();
    assert!(matches!(
        poll_handle(&mut handle, &waker),
        Poll::Ready(Err(JoinError::Cancelled { .. }))
    ));
    drop((handle, task, slot));
    assert_all_freed(sched);
}

#[test]
fn run_on_another_thread_and_await_here() {
    let sched = TestSched::new();
    let counts = Counts::new();
    let (runnable, handle, task) = spawn_test(ready(&counts, 5), &sched);
    let joined = thread::spawn(move || {
        let (_, waker) = wake_counter();
        let mut handle = handle;
        loop {
            if let Poll::Ready(result) = poll_handle(&mut handle, &waker) {
                return result.map(|o| o.1);
            }
            thread::yield_now();
        }
    });
    runnable.run_and_reschedule();
    assert_eq!(joined.join().unwrap().unwrap(), 5);
    drop(task);
    assert_eq!(counts.output_drops(), 1);
    assert_all_freed(sched);
}

// ---------------------------------------------------------------- cancel

#[test]
fn self_cancel_inside_poll_drops_future_after_the_poll() {
    let sched = TestSched::new();
    let counts = Counts::new();
    let seen_state = Arc::new(Mutex::new(None));
    let seen = seen_state.clone();
    let future = counting(&counts, move |_cx: &mut Context<'_>| {
        let me = current().expect("current task inside poll");
        *seen.lock().unwrap() = Some(me.state());
        assert!(me.cancel());
        assert!(!me.cancel());
        Poll::<()>::Pending
    });
    let (runnable, mut handle, task) = spawn_test(future, &sched);
    runnable.run_and_reschedule();
    assert_eq!(*seen_state.lock().unwrap(), Some(TaskState::Running));
    assert_eq!(counts.polls(), 1);
    assert_eq!(counts.future_drops(), 1);
    assert!(task.is_finished());
    assert_eq!(sched.queued(), 0);
    assert_eq!(sched.released(), 1);
    let (_, waker) = wake_counter();
    assert!(matches!(
        poll_handle(&mut handle, &waker),
        Poll::Ready(Err(JoinError::Cancelled { .. }))
    ));
    assert!(current().is_none());
    drop((handle, task));
    assert_all_freed(sched);
}

#[test]
fn cancelled_during_the_poll_that_finishes_drops_the_output() {
    let sched = TestSched::new();
    let counts = Counts::new();
    let out = counts.clone();
    let future = counting(&counts, move |_cx: &mut Context<'_>| {
        assert!(current().unwrap().cancel());
        Poll::Ready(Output(out.clone(), 1))
    });
    let (runnable, mut handle, task) = spawn_test(future, &sched);
    runnable.run_and_reschedule();
    assert_eq!(counts.output_drops(), 1);
    assert_eq!(counts.future_drops(), 1);
    let (_, waker) = wake_counter();
    assert!(matches!(
        poll_handle(&mut handle, &waker),
        Poll::Ready(Err(JoinError::Cancelled { .. }))
    ));
    drop((handle, task));
    assert_eq!(counts.output_drops(), 1);
    assert_all_freed(sched);
}

#[test]
fn cancel_after_completion_returns_false() {
    let sched = TestSched::new();
    let counts = Counts::new();
    let (runnable, mut handle, task) = spawn_test(ready(&counts, 3), &sched);
    runnable.run_and_reschedule();
    assert!(!handle.cancel());
    assert!(!task.cancel());
    let (_, waker) = wake_counter();
    assert!(matches!(
        poll_handle(&mut handle, &waker),
        Poll::Ready(Ok(Output(_, 3)))
    ));
    drop((handle, task));
    assert_all_freed(sched);
}

#[test]
fn cancel_scheduled_task_before_first_run() {
    let sched = TestSched::new();
    let counts = Counts::new();
    let (runnable, mut handle, task) = spawn_test(ready(&counts, 3), &sched);
    assert!(handle.cancel());
    assert_eq!(sched.queued(), 0, "already scheduled: no second Runnable");
    runnable.run_and_reschedule();
    assert_eq!(counts.polls(), 0);
    assert_eq!(counts.future_drops(), 1);
    let (_, waker) = wake_counter();
    assert!(matches!(
        poll_handle(&mut handle, &waker),
        Poll::Ready(Err(JoinError::Cancelled { .. }))
    ));
    drop((handle, task));
    assert_all_freed(sched);
}

#[test]
fn future_destructor_runs_before_the_handle_resolves_cancelled() {
    struct Guard(Arc<AtomicBool>);
    impl Drop for Guard {
        fn drop(&mut self) {
            self.0.store(true, SeqCst);
        }
    }
    struct CheckingWaker {
        dropped: Arc<AtomicBool>,
        seen_at_wake: AtomicBool,
    }
    impl Wake for CheckingWaker {
        fn wake(self: Arc<Self>) {
            self.wake_by_ref();
        }
        fn wake_by_ref(self: &Arc<Self>) {
            self.seen_at_wake.store(self.dropped.load(SeqCst), SeqCst);
        }
    }

    let sched = TestSched::new();
    let dropped = Arc::new(AtomicBool::new(false));
    let guard = Guard(dropped.clone());
    let future = async move {
        let _guard = guard;
        std::future::pending::<()>().await;
    };
    let (runnable, mut handle, task) = spawn_test(future, &sched);
    runnable.run_and_reschedule();
    let checker = Arc::new(CheckingWaker {
        dropped: dropped.clone(),
        seen_at_wake: AtomicBool::new(false),
    });
    let waker = Waker::from(checker.clone());
    assert!(poll_handle(&mut handle, &waker).is_pending());
    assert!(handle.cancel());
    assert!(!dropped.load(SeqCst));
    assert!(poll_handle(&mut handle, &waker).is_pending());
    sched.run_all();
    assert!(checker.seen_at_wake.load(SeqCst));
    assert!(matches!(
        poll_handle(&mut handle, &waker),
        Poll::Ready(Err(JoinError::Cancelled { .. }))
    ));
    drop((handle, task));
    assert_all_freed(sched);
}

#[test]
fn abort_on_drop_cancels_and_into_inner_disarms() {
    let sched = TestSched::new();
    let counts = Counts::new();
    let slot = Arc::new(Mutex::new(None));
    let (runnable, handle, task) = spawn_test(pending_with_slot(&counts, &slot), &sched);
    runnable.run_and_reschedule();
    let guard = handle.abort_on_drop();
    assert_eq!(guard.id(), task.id());
    let handle = guard.into_inner();
    assert_eq!(sched.queued(), 0);
    let guard = handle.abort_on_drop();
    drop(guard);
    assert_eq!(sched.queued(), 1);
    sched.run_all();
    assert_eq!(counts.future_drops(), 1);
    assert!(task.is_finished());
    drop((task, slot));
    assert_all_freed(sched);
}

// ---------------------------------------------------------------- drops

#[test]
fn drop_handle_before_completion_detaches() {
    let sched = TestSched::new();
    let counts = Counts::new();
    let slot = Arc::new(Mutex::new(None));
    let out = counts.clone();
    let slot2 = slot.clone();
    let mut polled = false;
    let future = counting(&counts, move |cx: &mut Context<'_>| {
        if polled {
            Poll::Ready(Output(out.clone(), 9))
        } else {
            polled = true;
            *slot2.lock().unwrap() = Some(cx.waker().clone());
            Poll::Pending
        }
    });
    let (runnable, mut handle, task) = spawn_test(future, &sched);
    let (wakes, waker) = wake_counter();
    assert!(poll_handle(&mut handle, &waker).is_pending());
    runnable.run_and_reschedule();
    handle.detach();
    // The registered awaiter waker was released with the handle.
    assert_eq!(Arc::strong_count(&wakes), 2);
    drop(waker);
    assert_eq!(Arc::strong_count(&wakes), 1);
    slot.lock().unwrap().take().unwrap().wake();
    sched.run_all();
    assert_eq!(counts.polls(), 2);
    assert_eq!(counts.output_drops(), 1, "output dropped at completion");
    assert_eq!(counts.future_drops(), 1);
    assert_eq!(sched.released(), 1);
    drop(task);
    assert_all_freed(sched);
}

#[test]
fn drop_handle_after_completion_drops_the_output_once() {
    let sched = TestSched::new();
    let counts = Counts::new();
    let (runnable, handle, task) = spawn_test(ready(&counts, 2), &sched);
    drop(task);
    runnable.run_and_reschedule();
    assert_eq!(counts.output_drops(), 0, "kept for the handle");
    drop(handle);
    assert_eq!(counts.output_drops(), 1);
    assert_all_freed(sched);
}

#[test]
fn drop_runnable_unrun_cancels() {
    let sched = TestSched::new();
    let counts = Counts::new();
    let (runnable, mut handle, task) = spawn_test(ready(&counts, 2), &sched);
    drop(runnable);
    assert_eq!(counts.polls(), 0);
    assert_eq!(counts.future_drops(), 1);
    assert_eq!(sched.released(), 1);
    assert!(task.is_finished());
    let (_, waker) = wake_counter();
    assert!(matches!(
        poll_handle(&mut handle, &waker),
        Poll::Ready(Err(JoinError::Cancelled { .. }))
    ));
    drop((handle, task));
    assert_eq!(counts.output_drops(), 0);
    assert_all_freed(sched);
}

#[test]
fn drop_everything_unrun() {
    let sched = TestSched::new();
    let counts = Counts::new();
    let (runnable, handle, task) = spawn_test(ready(&counts, 2), &sched);
    drop(handle);
    drop(task);
    drop(runnable);
    assert_eq!(counts.future_drops(), 1);
    assert_eq!(sched.released(), 1);
    assert_all_freed(sched);
}

#[test]
fn waker_outlives_the_task() {
    let sched = TestSched::new();
    let counts = Counts::new();
    let slot = Arc::new(Mutex::new(None));
    let (runnable, handle, task) = spawn_test(pending_with_slot(&counts, &slot), &sched);
    runnable.run_and_reschedule();
    let waker = slot.lock().unwrap().take().unwrap();
    let clone = waker.clone();
    task.shutdown();
    drop((handle, task));
    assert_eq!(counts.future_drops(), 1);
    assert_eq!(Arc::strong_count(&sched), 2, "the wakers keep the cell");
    waker.wake_by_ref();
    waker.wake();
    assert_eq!(sched.queued(), 0);
    let other_thread = thread::spawn(move || clone.wake());
    other_thread.join().unwrap();
    assert_eq!(sched.scheduled(), 0);
    assert_all_freed(sched);
}

#[test]
fn last_reference_at_pending_cancels_the_task() {
    // Nothing keeps a waker, the handle and the Task are gone: the task can
    // never be woken, so the runner completes it instead of leaking it.
    let sched = TestSched::new();
    let counts = Counts::new();
    let future = counting(&counts, |_cx: &mut Context<'_>| Poll::<()>::Pending);
    let (runnable, handle, task) = spawn_test(future, &sched);
    drop((handle, task));
    runnable.run_and_reschedule();
    assert_eq!(counts.polls(), 1);
    assert_eq!(counts.future_drops(), 1);
    assert_eq!(sched.released(), 1);
    assert_all_freed(sched);
}

// ---------------------------------------------------------------- shutdown

#[test]
fn shutdown_idle_task() {
    let sched = TestSched::new();
    let counts = Counts::new();
    let slot = Arc::new(Mutex::new(None));
    let (runnable, mut handle, task) = spawn_test(pending_with_slot(&counts, &slot), &sched);
    runnable.run_and_reschedule();
    task.shutdown();
    assert_eq!(counts.future_drops(), 1);
    assert_eq!(sched.released(), 1);
    task.shutdown();
    assert_eq!(sched.released(), 1, "idempotent");
    // Wakes after shutdown schedule nothing.
    slot.lock().unwrap().take().unwrap().wake();
    assert_eq!(sched.queued(), 0);
    let (_, waker) = wake_counter();
    assert!(matches!(
        poll_handle(&mut handle, &waker),
        Poll::Ready(Err(JoinError::Cancelled { .. }))
    ));
    drop((handle, task));
    assert_all_freed(sched);
}

#[test]
fn shutdown_scheduled_task_then_run_or_drop_its_runnable() {
    for run_it in [true, false] {
        let sched = TestSched::new();
        let counts = Counts::new();
        let (runnable, handle, task) = spawn_test(ready(&counts, 1), &sched);
        task.shutdown();
        assert_eq!(counts.polls(), 0);
        assert_eq!(counts.future_drops(), 1);
        assert_eq!(sched.released(), 1);
        if run_it {
            runnable.run_and_reschedule();
        } else {
            drop(runnable);
        }
        assert_eq!(counts.polls(), 0);
        assert_eq!(counts.future_drops(), 1);
        assert_eq!(sched.released(), 1);
        drop((handle, task));
        assert_eq!(counts.output_drops(), 0);
        assert_all_freed(sched);
    }
}

#[test]
fn shutdown_from_inside_the_poll_is_deferred_to_after_it() {
    let sched = TestSched::new();
    let counts = Counts::new();
    let future = counting(&counts, |_cx: &mut Context<'_>| {
        current().unwrap().shutdown();
        Poll::<()>::Pending
    });
    let (runnable, handle, task) = spawn_test(future, &sched);
    runnable.run_and_reschedule();
    assert_eq!(counts.future_drops(), 1);
    assert_eq!(sched.released(), 1);
    task.shutdown();
    assert_eq!(sched.released(), 1);
    drop((handle, task));
    assert_all_freed(sched);
}

// ---------------------------------------------------------------- panics

#[test]
fn panic_in_poll_reaches_the_handle() {
    let sched = TestSched::new();
    let counts = Counts::new();
    let future = counting(&counts, |_cx: &mut Context<'_>| -> Poll<u32> {
        panic!("boom")
    });
    let (runnable, mut handle, task) = spawn_test(future, &sched);
    runnable.run_and_reschedule();
    assert_eq!(counts.polls(), 1);
    assert_eq!(counts.future_drops(), 1);
    assert_eq!(sched.released(), 1);
    let (_, waker) = wake_counter();
    let Poll::Ready(Err(err)) = poll_handle(&mut handle, &waker) else {
        panic!("expected the panic")
    };
    assert!(err.is_panic() && !err.is_cancelled());
    assert!(handle.is_panicked() && task.is_panicked() && !task.is_cancelled());
    assert_eq!(err.panic_message(), Some("boom"));
    assert_eq!(
        err.to_string(),
        format!("task {} panicked: boom", task.id())
    );
    let payload = err.into_panic().unwrap();
    assert_eq!(*payload.downcast::<&str>().unwrap(), "boom");
    drop((handle, task));
    assert!(sched.unretrieved().is_empty(), "taken through the handle");
    assert_all_freed(sched);
}

#[test]
fn panic_taken_then_error_dropped_counts_as_retrieved() {
    let sched = TestSched::new();
    let counts = Counts::new();
    let future = counting(&counts, |_cx: &mut Context<'_>| -> Poll<()> {
        panic!("{}", String::from("formatted"))
    });
    let (runnable, mut handle, task) = spawn_test(future, &sched);
    runnable.run_and_reschedule();
    let (_, waker) = wake_counter();
    let Poll::Ready(Err(err)) = poll_handle(&mut handle, &waker) else {
        panic!("expected the panic")
    };
    assert_eq!(err.panic_message(), Some("formatted"));
    drop(err);
    drop((handle, task));
    assert!(sched.unretrieved().is_empty());
    assert_all_freed(sched);
}

#[test]
fn unretrieved_panic_reported_once_handle_dropped_before() {
    let sched = TestSched::new();
    let counts = Counts::new();
    let future = counting(&counts, |_cx: &mut Context<'_>| -> Poll<()> {
        panic!("lost")
    });
    let (runnable, handle, task) = spawn(
        future,
        sched.clone(),
        TaskBuilder::new(Some("worker".into()), Location::caller()),
    );
    assert_eq!(task.name(), "worker");
    drop(handle);
    runnable.run_and_reschedule();
    assert_eq!(sched.unretrieved(), vec!["worker: lost".to_string()]);
    drop(task);
    assert_eq!(sched.unretrieved().len(), 1);
    assert_all_freed(sched);
}

#[test]
fn unretrieved_panic_reported_once_handle_dropped_after() {
    let sched = TestSched::new();
    let counts = Counts::new();
    let future = counting(&counts, |_cx: &mut Context<'_>| -> Poll<()> {
        std::panic::panic_any(17_u32)
    });
    let (runnable, handle, task) = spawn_test(future, &sched);
    runnable.run_and_reschedule();
    assert!(
        sched.unretrieved().is_empty(),
        "the handle may still take it"
    );
    let name = task.name();
    assert_eq!(name, format!("Task-{}", task.id()));
    drop(handle);
    assert_eq!(sched.unretrieved(), vec![format!("{name}: Box<dyn Any>")]);
    drop(task);
    assert_all_freed(sched);
}

#[test]
fn panic_in_future_destructor_is_the_task_panic() {
    struct Bomb;
    impl Drop for Bomb {
        fn drop(&mut self) {
            panic!("bomb");
        }
    }
    let sched = TestSched::new();
    let bomb = Bomb;
    let future = async move {
        let _bomb = bomb;
        7_u32
    };
    let (runnable, mut handle, task) = spawn_test(future, &sched);
    runnable.run_and_reschedule();
    let (_, waker) = wake_counter();
    let Poll::Ready(Err(err)) = poll_handle(&mut handle, &waker) else {
        panic!("expected the destructor's panic")
    };
    assert_eq!(err.panic_message(), Some("bomb"));
    drop((handle, task));
    assert_all_freed(sched);
}

#[test]
fn panic_in_cancelled_future_destructor_and_in_output_destructor_are_caught() {
    struct Bomb;
    impl Drop for Bomb {
        fn drop(&mut self) {
            panic!("bomb");
        }
    }
    // Cancelled future whose destructor panics; no handle: reported.
    let sched = TestSched::new();
    let bomb = Bomb;
    let future = async move {
        let _bomb = bomb;
        std::future::pending::<()>().await;
    };
    let (runnable, handle, task) = spawn_test(future, &sched);
    drop(handle);
    drop(runnable);
    assert_eq!(sched.unretrieved().len(), 1);
    assert_eq!(sched.released(), 1);
    drop(task);
    assert_all_freed(sched);

    // An output whose destructor panics, dropped by the completer and by the
    // handle.
    for keep_handle in [false, true] {
        let sched = TestSched::new();
        let (runnable, handle, task) = spawn_test(async { Bomb }, &sched);
        let handle = if keep_handle {
            Some(handle)
        } else {
            drop(handle);
            None
        };
        runnable.run_and_reschedule();
        drop(handle);
        assert!(task.is_finished());
        drop(task);
        assert!(sched.unretrieved().is_empty());
        assert_all_freed(sched);
    }
}

#[test]
fn loop_never_unwinds_through_run() {
    let sched = TestSched::new();
    let future = async {
        panic!("inside");
    };
    let (runnable, handle, task) = spawn_test(future, &sched);
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| runnable.run_and_reschedule()));
    assert!(outcome.is_ok());
    drop((handle, task));
    assert_eq!(sched.unretrieved().len(), 1);
    assert_all_freed(sched);
}

// ---------------------------------------------------------------- metadata

#[test]
fn ids_names_locations_states() {
    let sched = TestSched::new();
    let counts = Counts::new();
    let (r1, h1, t1) = spawn_test(ready(&counts, 1), &sched);
    let (r2, h2, t2) = spawn_test(ready(&counts, 2), &sched);
    assert!(t1.id() < t2.id());
    assert_ne!(t1, t2);
    assert_eq!(t1, h1.task());
    assert!(t1.ptr_eq(&r1.task()));
    assert_eq!(h1.id(), t1.id());
    assert_eq!(h1.name(), format!("Task-{}", t1.id()));
    assert_eq!(t1.id().to_string(), t1.id().as_u64().to_string());
    assert_eq!(t1.location().file(), file!());
    assert_eq!(t1.owner_key(), usize::MAX);
    t1.set_owner_key(4);
    assert_eq!(t1.owner_key(), 4);
    let debug = format!("{t1:?}");
    assert!(
        debug.contains("Task-") && debug.contains("Scheduled"),
        "{debug}"
    );
    assert!(format!("{h1:?}").contains("JoinHandle"));
    assert!(format!("{r1:?}").contains("Runnable"));
    r1.run_and_reschedule();
    r2.run_and_reschedule();
    assert_eq!(t1.state(), TaskState::Finished);
    drop((h1, h2, t1, t2));
    assert_eq!(counts.output_drops(), 2);
    assert_all_freed(sched);
}

#[test]
fn current_is_set_only_during_the_poll() {
    let sched = TestSched::new();
    let counts = Counts::new();
    let seen = Arc::new(Mutex::new(None));
    let seen2 = seen.clone();
    let future = counting(&counts, move |_cx: &mut Context<'_>| {
        let me = current().unwrap();
        *seen2.lock().unwrap() = Some((me.id(), me.poll_count(), me.state()));
        Poll::Ready(())
    });
    assert!(current().is_none());
    let (runnable, handle, task) = spawn_test(future, &sched);
    runnable.run_and_reschedule();
    assert_eq!(
        *seen.lock().unwrap(),
        Some((task.id(), 1, TaskState::Running))
    );
    assert!(current().is_none());
    drop((handle, task));
    assert_all_freed(sched);
}

#[test]
fn nested_run_restores_the_outer_current_task() {
    let sched = TestSched::new();
    let inner_sched = TestSched::new();
    let counts = Counts::new();
    let inner = inner_sched.clone();
    let inner_counts = counts.clone();
    let future = counting(&counts, move |_cx: &mut Context<'_>| {
        let outer = current().unwrap();
        let (r, h, t) = spawn(ready(&inner_counts, 1), inner.clone(), builder());
        r.run_and_reschedule();
        assert_eq!(current().unwrap(), outer);
        drop((h, t));
        Poll::Ready(())
    });
    let (runnable, handle, task) = spawn_test(future, &sched);
    runnable.run_and_reschedule();
    assert_eq!(counts.polls(), 2);
    drop((handle, task));
    assert_all_freed(sched);
    assert_all_freed(inner_sched);
}

#[test]
fn local_task_with_non_send_future_and_output() {
    use std::rc::Rc;
    let sched = TestSched::new();
    let shared = Rc::new(5_u32);
    let inner = shared.clone();
    let future = async move { Rc::new(*inner + 1) };
    // SAFETY: everything runs and drops on this thread.
    let (runnable, mut handle, task) = unsafe { spawn_local(future, sched.clone(), builder()) };
    runnable.run_and_reschedule();
    let (_, waker) = wake_counter();
    let Poll::Ready(Ok(out)) = poll_handle(&mut handle, &waker) else {
        panic!("not ready")
    };
    assert_eq!(*out, 6);
    assert_eq!(Rc::strong_count(&shared), 1);
    drop((handle, task));
    assert_all_freed(sched);
}

#[test]
fn many_tasks_many_threads_exact_counts() {
    // Tasks woken from several threads while the test thread runs them.
    let sched = TestSched::new();
    let counts = Counts::new();
    let mut handles = Vec::new();
    let mut wakers = Vec::new();
    for i in 0..32_u32 {
        let out = counts.clone();
        let slot = Arc::new(Mutex::new(None::<Waker>));
        let slot2 = slot.clone();
        let mut polls = 0;
        let future = counting(&counts, move |cx: &mut Context<'_>| {
            polls += 1;
            if polls == 1 {
                *slot2.lock().unwrap() = Some(cx.waker().clone());
                Poll::Pending
            } else {
                Poll::Ready(Output(out.clone(), i))
            }
        });
        let (runnable, handle, task) = spawn_test(future, &sched);
        drop(task);
        runnable.run_and_reschedule();
        wakers.push(slot.lock().unwrap().take().unwrap());
        handles.push(handle);
    }
    let threads: Vec<_> = wakers
        .chunks(8)
        .map(|chunk| {
            let chunk = chunk.to_vec();
            thread::spawn(move || {
                for w in chunk {
                    w.wake_by_ref();
                    w.wake();
                }
            })
        })
        .collect();
    drop(wakers);
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(sched.run_all(), 32);
    let (_, waker) = wake_counter();
    for (i, mut handle) in handles.into_iter().enumerate() {
        match poll_handle(&mut handle, &waker) {
            Poll::Ready(Ok(Output(_, n))) => assert_eq!(n as usize, i),
            _ => panic!("task {i} not done"),
        }
    }
    assert_eq!(counts.polls(), 64);
    assert_eq!(counts.future_drops(), 32);
    assert_eq!(counts.output_drops(), 32);
    assert_eq!(sched.released(), 32);
    assert_all_freed(sched);
}

/// A scheduler that keeps the default `unretrieved_panic` (tracing), or one
/// whose report itself panics.
struct PlainSched {
    queue: Mutex<Vec<Runnable>>,
    report_panics: bool,
    reports: AtomicUsize,
}

impl Schedule for PlainSched {
    fn schedule(&self, task: Runnable) {
        self.queue.lock().unwrap().push(task);
    }

    fn release(&self, _task: &Task) {}

    fn unretrieved_panic(&self, task: &Task, message: &str) {
        self.reports.fetch_add(1, SeqCst);
        if self.report_panics {
            panic!("the exception handler failed");
        }
        // What the default does.
        let default = DefaultReport;
        default.unretrieved_panic(task, message);
    }
}

struct DefaultReport;

impl Schedule for DefaultReport {
    fn schedule(&self, task: Runnable) {
        drop(task);
    }
    fn release(&self, _task: &Task) {}
}

#[test]
fn unretrieved_report_that_panics_is_contained() {
    for report_panics in [false, true] {
        for drop_handle_first in [false, true] {
            let sched = Arc::new(PlainSched {
                queue: Mutex::new(Vec::new()),
                report_panics,
                reports: AtomicUsize::new(0),
            });
            let future = async { panic!("lost") };
            let (runnable, handle, task) = spawn(future, sched.clone(), builder());
            if drop_handle_first {
                drop(handle);
                runnable.run_and_reschedule();
            } else {
                runnable.run_and_reschedule();
                drop(handle);
            }
            assert_eq!(sched.reports.load(SeqCst), 1);
            assert!(task.is_finished());
            drop(task);
            assert!(sched.queue.lock().unwrap().is_empty());
            assert_eq!(Arc::strong_count(&sched), 1);
        }
    }
}
