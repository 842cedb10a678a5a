//! Loom models of the task state machine: every interleaving of two threads
//! racing on one task. Run with `cargo xtask loom` (`--cfg loom`).
//!
//! Loom checks, besides the assertions: that the stage and the awaiter slot
//! are never accessed concurrently (its `UnsafeCell` tracks every access),
//! that no loom object leaks (each cell holds a loom `Arc` to the scheduler),
//! and that no wake-up is lost.

use std::{
    collections::VecDeque,
    future::Future,
    panic::Location,
    pin::Pin,
    task::{Context, Poll, Wake, Waker},
};

use loom::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst},
    },
    thread,
};

use super::*;

/// A scheduler that queues Runnables; a loom `Arc`, so a leaked cell is
/// reported by loom.
#[derive(Clone)]
struct Sched(Arc<Inner>);

struct Inner {
    queue: Mutex<VecDeque<Runnable>>,
    released: AtomicUsize,
}

impl Schedule for Sched {
    fn schedule(&self, task: Runnable) {
        self.0.queue.lock().unwrap().push_back(task);
    }

    fn release(&self, _task: &Task) {
        self.0.released.fetch_add(1, SeqCst);
    }

    fn unretrieved_panic(&self, _task: &Task, _message: &str) {}
}

impl Sched {
    fn new() -> Self {
        Self(Arc::new(Inner {
            queue: Mutex::new(VecDeque::new()),
            released: AtomicUsize::new(0),
        }))
    }

    fn pop(&self) -> Option<Runnable> {
        self.0.queue.lock().unwrap().pop_front()
    }

    fn run_all(&self) -> usize {
        let mut n = 0;
        while let Some(r) = self.pop() {
            r.run_and_reschedule();
            n += 1;
        }
        n
    }

    fn released(&self) -> usize {
        self.0.released.load(SeqCst)
    }
}

#[derive(Default)]
struct Counts {
    polls: AtomicUsize,
    future_drops: AtomicUsize,
    output_drops: AtomicUsize,
}

/// Pending `pendings` times (keeping its latest waker in `slot`), then ready.
struct Yield {
    pendings: usize,
    counts: Arc<Counts>,
    slot: Arc<Mutex<Option<Waker>>>,
}

/// Counted output.
struct Output(Arc<Counts>);

impl Drop for Output {
    fn drop(&mut self) {
        self.0.output_drops.fetch_add(1, SeqCst);
    }
}

impl Future for Yield {
    type Output = Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Output> {
        self.counts.polls.fetch_add(1, SeqCst);
        if self.pendings == 0 {
            return Poll::Ready(Output(self.counts.clone()));
        }
        self.pendings -= 1;
        *self.slot.lock().unwrap() = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl Drop for Yield {
    fn drop(&mut self) {
        self.counts.future_drops.fetch_add(1, SeqCst);
    }
}

struct Setup {
    sched: Sched,
    counts: Arc<Counts>,
    slot: Arc<Mutex<Option<Waker>>>,
}

fn setup(pendings: usize) -> (Setup, Runnable, JoinHandle<Output>, Task) {
    let sched = Sched::new();
    let counts = Arc::new(Counts::default());
    let slot = Arc::new(Mutex::new(None));
    let future = Yield {
        pendings,
        counts: counts.clone(),
        slot: slot.clone(),
    };
    let (runnable, handle, task) = spawn(
        future,
        sched.clone(),
        TaskBuilder::new(None, Location::caller()),
    );
    (
        Setup {
            sched,
            counts,
            slot,
        },
        runnable,
        handle,
        task,
    )
}

impl Setup {
    fn take_waker(&self) -> Waker {
        self.slot.lock().unwrap().take().unwrap()
    }

    /// Runs the task to completion, waking it whenever it goes idle.
    fn drive(&self, task: &Task) {
        loop {
            self.sched.run_all();
            if task.is_finished() {
                return;
            }
            let waker = self.slot.lock().unwrap().clone().unwrap();
            waker.wake();
        }
    }
}

/// A waker that records being woken, in a loom atomic.
struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.store(true, SeqCst);
    }
}

fn flag_waker() -> (std::sync::Arc<Flag>, Waker) {
    let flag = std::sync::Arc::new(Flag(AtomicBool::new(false)));
    let waker = Waker::from(flag.clone());
    (flag, waker)
}

fn poll_handle<T>(handle: &mut JoinHandle<T>, waker: &Waker) -> Poll<Result<T, JoinError>> {
    Pin::new(handle).poll(&mut Context::from_waker(waker))
}

#[test]
fn loom_wake_vs_run() {
    loom::model(|| {
        let (s, runnable, handle, task) = setup(2);
        runnable.run_and_reschedule(); // poll 1: pending
        let waker = s.take_waker();
        let other = waker.clone();
        waker.wake(); // scheduled
        let runnable = s.sched.pop().unwrap();

        let t = thread::spawn(move || other.wake());
        runnable.run_and_reschedule(); // poll 2: pending, racing with the wake
        t.join().unwrap();

        s.drive(&task);
        assert_eq!(s.counts.polls.load(SeqCst), 3);
        assert_eq!(s.counts.future_drops.load(SeqCst), 1);
        assert_eq!(s.sched.released(), 1);
        drop((handle, task));
        assert_eq!(s.counts.output_drops.load(SeqCst), 1);
    });
}

#[test]
fn loom_wake_vs_complete() {
    loom::model(|| {
        let (s, runnable, handle, task) = setup(1);
        runnable.run_and_reschedule();
        let waker = s.take_waker();
        let other = waker.clone();
        waker.wake_by_ref();
        let runnable = s.sched.pop().unwrap();

        let t = thread::spawn(move || {
            other.wake_by_ref();
            drop(other);
        });
        runnable.run_and_reschedule(); // poll 2: ready, racing with the wake
        t.join().unwrap();

        // Whatever the order, a wake of the running or complete task makes
        // no Runnable.
        assert!(s.sched.pop().is_none());
        assert!(task.is_finished());
        assert_eq!(s.counts.polls.load(SeqCst), 2);
        assert_eq!(s.sched.released(), 1);
        drop((waker, handle, task));
        assert_eq!(s.counts.output_drops.load(SeqCst), 1);
    });
}

#[test]
fn loom_cancel_vs_run() {
    loom::model(|| {
        let (s, runnable, mut handle, task) = setup(usize::MAX);
        let canceller = task.clone();
        let t = thread::spawn(move || assert!(canceller.cancel()));
        runnable.run_and_reschedule(); // poll 1 (or none): pending, racing with the cancel
        t.join().unwrap();
        s.sched.run_all();

        assert!(task.is_finished());
        assert!(s.counts.polls.load(SeqCst) <= 1);
        assert_eq!(s.counts.future_drops.load(SeqCst), 1);
        assert_eq!(s.sched.released(), 1);
        let (_, waker) = flag_waker();
        assert!(matches!(
            poll_handle(&mut handle, &waker),
            Poll::Ready(Err(JoinError::Cancelled { .. }))
        ));
        drop((handle, task));
        drop(s.slot.lock().unwrap().take());
    });
}

#[test]
fn loom_join_handle_drop_vs_completion() {
    loom::model(|| {
        let (s, runnable, handle, task) = setup(0);
        drop(task);
        let t = thread::spawn(move || drop(handle));
        runnable.run_and_reschedule(); // ready at once, racing with the drop
        t.join().unwrap();
        assert_eq!(s.counts.output_drops.load(SeqCst), 1);
        assert_eq!(s.counts.future_drops.load(SeqCst), 1);
        assert_eq!(s.sched.released(), 1);
    });
}

#[test]
fn loom_join_handle_poll_vs_completion() {
    loom::model(|| {
        let (s, runnable, handle, task) = setup(0);
        let t = thread::spawn(move || {
            let mut handle = handle;
            let (flag, waker) = flag_waker();
            let first = poll_handle(&mut handle, &waker);
            (handle, flag, first.is_pending())
        });
        runnable.run_and_reschedule();
        let (mut handle, flag, was_pending) = t.join().unwrap();
        if was_pending {
            assert!(flag.0.load(SeqCst), "the awaiter's wake-up was lost");
            let (_, waker) = flag_waker();
            assert!(matches!(
                poll_handle(&mut handle, &waker),
                Poll::Ready(Ok(_))
            ));
        }
        drop((handle, task));
        assert_eq!(s.counts.output_drops.load(SeqCst), 1);
    });
}

#[test]
fn loom_join_handle_repoll_vs_completion() {
    loom::model(|| {
        let (s, runnable, mut handle, task) = setup(0);
        let (first_flag, first) = flag_waker();
        assert!(poll_handle(&mut handle, &first).is_pending());
        let t = thread::spawn(move || {
            let mut handle = handle;
            let (flag, waker) = flag_waker();
            let ready = poll_handle(&mut handle, &waker).is_ready();
            (handle, flag, ready)
        });
        runnable.run_and_reschedule();
        let (mut handle, flag, ready) = t.join().unwrap();
        if !ready {
            // Re-registered before completion: the new waker is woken.
            assert!(flag.0.load(SeqCst), "the awaiter's wake-up was lost");
            assert!(poll_handle(&mut handle, &first).is_ready());
        }
        // The first waker may or may not have been woken, but is not kept.
        let _ = first_flag;
        drop((handle, task));
        assert_eq!(s.counts.output_drops.load(SeqCst), 1);
    });
}

#[test]
fn loom_runnable_drop_vs_wake() {
    loom::model(|| {
        let (s, runnable, mut handle, task) = setup(usize::MAX);
        runnable.run_and_reschedule();
        let waker = s.take_waker();
        let other = waker.clone();
        waker.wake();
        let runnable = s.sched.pop().unwrap();

        let t = thread::spawn(move || other.wake());
        drop(runnable); // cancels, racing with the wake
        t.join().unwrap();

        // A Runnable made by a late wake would find the task complete.
        s.sched.run_all();
        assert!(task.is_finished());
        assert_eq!(s.counts.polls.load(SeqCst), 1);
        assert_eq!(s.counts.future_drops.load(SeqCst), 1);
        assert_eq!(s.sched.released(), 1);
        let (_, w) = flag_waker();
        assert!(matches!(
            poll_handle(&mut handle, &w),
            Poll::Ready(Err(JoinError::Cancelled { .. }))
        ));
        drop((handle, task));
    });
}

#[test]
fn loom_shutdown_vs_wake() {
    loom::model(|| {
        let (s, runnable, handle, task) = setup(usize::MAX);
        runnable.run_and_reschedule();
        let waker = s.take_waker();
        let t = thread::spawn(move || waker.wake());
        task.shutdown(); // racing with the wake
        t.join().unwrap();
        s.sched.run_all();
        assert!(task.is_finished());
        assert_eq!(s.counts.polls.load(SeqCst), 1);
        assert_eq!(s.counts.future_drops.load(SeqCst), 1);
        assert_eq!(s.sched.released(), 1);
        drop((handle, task));
    });
}

#[test]
fn loom_handle_drop_vs_cancel_of_pending_task() {
    loom::model(|| {
        let (s, runnable, mut handle, task) = setup(usize::MAX);
        let (_, waker) = flag_waker();
        assert!(poll_handle(&mut handle, &waker).is_pending());
        runnable.run_and_reschedule();
        let t = thread::spawn(move || drop(handle)); // takes its waker back
        assert!(task.cancel());
        s.sched.run_all(); // completes, racing with the handle's drop
        t.join().unwrap();
        assert_eq!(s.counts.future_drops.load(SeqCst), 1);
        assert_eq!(s.sched.released(), 1);
        drop(task);
        drop(s.slot.lock().unwrap().take());
    });
}

#[test]
fn loom_two_wakes_schedule_exactly_once() {
    loom::model(|| {
        let (s, runnable, handle, task) = setup(1);
        runnable.run_and_reschedule();
        let waker = s.take_waker();
        let other = waker.clone();
        let t = thread::spawn(move || other.wake());
        waker.wake_by_ref(); // racing with the other thread's wake
        t.join().unwrap();
        assert!(s.sched.pop().is_some_and(|r| {
            r.run_and_reschedule();
            true
        }));
        assert!(s.sched.pop().is_none(), "scheduled twice");
        assert!(task.is_finished());
        assert_eq!(s.counts.polls.load(SeqCst), 2);
        drop((waker, handle, task));
        assert_eq!(s.counts.output_drops.load(SeqCst), 1);
    });
}
