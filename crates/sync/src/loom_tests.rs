//! Loom models of every primitive: each explores all interleavings of two or
//! three threads racing on one primitive. Run with `cargo xtask loom`
//! (`--cfg loom`).
//!
//! Besides the assertions, loom checks for lost wake-ups: a thread parked in
//! this file's `block_on` whose waker is never woken is reported as a
//! deadlock. Counters updated inside critical sections use `Relaxed` loads
//! and stores on purpose: loom lets a relaxed load see any store not ordered
//! before it, so an exact final count also proves that handing a lock or a
//! permit over establishes happens-before, not only mutual exclusion.

use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::task::{Context, Poll, Wake, Waker};

use loom::sync::Arc;
use loom::sync::atomic::{
    AtomicBool, AtomicUsize,
    Ordering::{Relaxed, SeqCst},
};
use loom::thread;

use crate::{
    Barrier, BoundedSemaphore, BrokenBarrier, Condition, Event, GetNowaitError, Lock, Queue,
    QueueShutDown, ReleaseError, Semaphore,
};

/// Runs `body` under loom, exploring every interleaving (no preemption
/// bound unless `LOOM_MAX_PREEMPTIONS` sets one): the primitives keep all
/// their state behind one mutex, so even the three-thread models finish in
/// seconds (the largest, about 130,000 executions, in under ten).
fn model(body: impl Fn() + Sync + Send + 'static) {
    loom::model(body);
}

/// Wakes a thread blocked in [`block_on`], through loom's park/unpark.
struct Unpark(thread::Thread);

impl Wake for Unpark {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.unpark();
    }
}

/// Drives `future` to completion on this loom thread, parking while it is
/// pending; a wake-up that never comes is a deadlock loom reports.
/// (`loom::future::block_on` needs loom's `futures` feature, which the
/// workspace does not enable.)
fn block_on<F: Future>(future: F) -> F::Output {
    let waker = Waker::from(std::sync::Arc::new(Unpark(thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        thread::park();
    }
}

/// Polls `future` once, with a waker that does nothing.
fn poll_once<F: Future>(future: Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(Waker::noop()))
}

/// Runs `future`, raising `pending` once it has returned `Pending`: from then
/// on it is queued on its primitive.
async fn signal_pending<F: Future>(future: F, pending: &AtomicBool) -> F::Output {
    let mut future = pin!(future);
    poll_fn(|cx| {
        let poll = future.as_mut().poll(cx);
        if poll.is_pending() {
            pending.store(true, SeqCst);
        }
        poll
    })
    .await
}

/// Spins (yielding to loom's scheduler) until `flag` is raised.
fn wait_until(flag: &AtomicBool) {
    while !flag.load(SeqCst) {
        thread::yield_now();
    }
}

/// A critical section: nobody else inside, and a relaxed read-modify-write
/// of `count` that loses updates unless entries are ordered. All relaxed:
/// the swap still sees the latest value (a read-modify-write always does),
/// and nothing here orders one section before the next, so only the
/// primitive under test can.
fn critical_section(inside: &AtomicBool, count: &AtomicUsize) {
    assert!(!inside.swap(true, Relaxed), "two holders at once");
    let seen = count.load(Relaxed);
    count.store(seen + 1, Relaxed);
    inside.store(false, Relaxed);
}

#[derive(Default)]
struct Section {
    inside: AtomicBool,
    count: AtomicUsize,
}

impl Section {
    fn enter(&self) {
        critical_section(&self.inside, &self.count);
    }

    fn count(&self) -> usize {
        self.count.load(SeqCst)
    }
}

// ---------------------------------------------------------------- Lock

#[test]
fn loom_lock_three_threads_mutual_exclusion() {
    model(|| {
        let lock = Arc::new(Lock::new(()));
        let section = Arc::new(Section::default());
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let (lock, section) = (lock.clone(), section.clone());
                thread::spawn(move || {
                    let _guard = block_on(lock.lock());
                    section.enter();
                })
            })
            .collect();
        {
            let _guard = block_on(lock.lock());
            section.enter();
        }
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(section.count(), 3);
        assert!(!lock.locked());
    });
}

#[test]
fn loom_lock_guarded_value_updates_are_never_lost() {
    model(|| {
        let lock = Arc::new(Lock::new(0_usize));
        let t = {
            let lock = lock.clone();
            thread::spawn(move || {
                for _ in 0..2 {
                    *block_on(lock.lock()) += 1;
                }
            })
        };
        *block_on(lock.lock()) += 1;
        t.join().unwrap();
        assert_eq!(*lock.try_lock().expect("free at the end"), 3);
    });
}

#[test]
fn loom_lock_try_lock_races_lock() {
    model(|| {
        let lock = Arc::new(Lock::new(()));
        let section = Arc::new(Section::default());
        let t = {
            let (lock, section) = (lock.clone(), section.clone());
            thread::spawn(move || {
                let _guard = block_on(lock.lock());
                section.enter();
            })
        };
        let mut entered = 1;
        if let Ok(_guard) = lock.try_lock() {
            section.enter();
            entered += 1;
        }
        t.join().unwrap();
        assert_eq!(section.count(), entered);
        assert!(lock.try_lock().is_ok(), "free at the end");
    });
}

#[test]
fn loom_lock_release_hands_off_to_queued_waiter() {
    model(|| {
        let lock = Arc::new(Lock::new(()));
        let queued = Arc::new(AtomicBool::new(false));
        let waiter_done = Arc::new(AtomicBool::new(false));
        let guard = lock.try_lock().expect("a new lock is free");
        let t = {
            let (lock, queued, waiter_done) = (lock.clone(), queued.clone(), waiter_done.clone());
            thread::spawn(move || {
                let _guard = block_on(signal_pending(lock.lock(), &queued));
                waiter_done.store(true, SeqCst);
            })
        };
        wait_until(&queued);
        drop(guard);
        // The lock went to the queued waiter: nobody barges in before it
        // has had its turn.
        if let Ok(_guard) = lock.try_lock() {
            assert!(
                waiter_done.load(SeqCst),
                "try_lock overtook a queued waiter"
            );
        }
        t.join().unwrap();
        assert!(waiter_done.load(SeqCst));
        assert!(!lock.locked());
    });
}

#[test]
fn loom_lock_dropped_acquire_passes_lock_on() {
    model(|| {
        let lock = Arc::new(Lock::new(()));
        let guard = lock.try_lock().expect("a new lock is free");
        let t = {
            let lock = lock.clone();
            thread::spawn(move || {
                let mut acquire = pin!(lock.lock());
                // Queued (and maybe handed the lock), or served at once if
                // it was free already; dropped either way.
                if let Poll::Ready(guard) = poll_once(acquire.as_mut()) {
                    drop(guard);
                }
            })
        };
        drop(guard);
        // Queued behind the dropped acquisition or not, this gets the lock.
        drop(block_on(lock.lock()));
        t.join().unwrap();
        assert!(!lock.locked());
    });
}

#[test]
fn loom_lock_owned_guard_released_on_another_thread() {
    model(|| {
        // `lock_owned` takes a std `Arc`; loom tracks the lock's state mutex.
        let lock = std::sync::Arc::new(Lock::new(()));
        let section = Arc::new(Section::default());
        let guard = block_on(lock.lock_owned());
        section.enter();
        let t = {
            let section = section.clone();
            // The guard moves to another thread, which releases the lock.
            thread::spawn(move || {
                section.enter();
                drop(guard);
            })
        };
        let _guard = block_on(lock.lock_owned());
        section.enter();
        t.join().unwrap();
        assert_eq!(section.count(), 3);
    });
}

// ---------------------------------------------------------------- Event

#[test]
fn loom_event_set_races_wait() {
    model(|| {
        let event = Arc::new(Event::new());
        let t = {
            let event = event.clone();
            thread::spawn(move || block_on(event.wait()))
        };
        event.set();
        t.join().unwrap();
        assert!(event.is_set());
    });
}

#[test]
fn loom_event_set_then_clear_still_releases_queued_waiter() {
    model(|| {
        let event = Arc::new(Event::new());
        let queued = Arc::new(AtomicBool::new(false));
        let t = {
            let (event, queued) = (event.clone(), queued.clone());
            thread::spawn(move || block_on(signal_pending(event.wait(), &queued)))
        };
        wait_until(&queued);
        event.set();
        event.clear();
        t.join().unwrap();
        assert!(!event.is_set());
    });
}

#[test]
fn loom_event_two_waiters_one_set() {
    model(|| {
        let event = Arc::new(Event::new());
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let event = event.clone();
                thread::spawn(move || block_on(event.wait()))
            })
            .collect();
        event.set();
        for t in threads {
            t.join().unwrap();
        }
    });
}

// ---------------------------------------------------------------- Condition

#[test]
fn loom_condition_notify_under_lock_races_wait() {
    model(|| {
        let condition = Arc::new(Condition::new(false));
        let t = {
            let condition = condition.clone();
            thread::spawn(move || {
                block_on(async {
                    let guard = condition.lock().await;
                    let guard = condition.wait_for(guard, |ready| *ready).await.unwrap();
                    assert!(*guard);
                });
            })
        };
        block_on(async {
            let mut guard = condition.lock().await;
            *guard = true;
            condition.notify(1);
        });
        t.join().unwrap();
        assert!(!condition.shared_lock().locked());
    });
}

#[test]
fn loom_condition_notify_after_unlock_races_wait() {
    model(|| {
        let condition = Arc::new(Condition::new(false));
        let t = {
            let condition = condition.clone();
            thread::spawn(move || {
                block_on(async {
                    let guard = condition.lock().await;
                    let guard = condition.wait_for(guard, |ready| *ready).await.unwrap();
                    assert!(*guard);
                });
            })
        };
        *block_on(condition.lock()) = true;
        condition.notify_all();
        t.join().unwrap();
    });
}

#[test]
fn loom_condition_queued_waiter_is_notified() {
    model(|| {
        let condition = Arc::new(Condition::new(0_usize));
        let queued = Arc::new(AtomicBool::new(false));
        let t = {
            let (condition, queued) = (condition.clone(), queued.clone());
            thread::spawn(move || {
                block_on(async {
                    let guard = condition.lock().await;
                    let mut guard = signal_pending(condition.wait(guard), &queued)
                        .await
                        .unwrap();
                    *guard += 1;
                });
            })
        };
        wait_until(&queued);
        // No predicate: the notification itself must reach the waiter.
        assert_eq!(condition.notify(1), 1);
        t.join().unwrap();
        assert_eq!(*block_on(condition.lock()), 1);
    });
}

#[test]
fn loom_condition_dropped_notified_waiter_passes_notification_on() {
    model(|| {
        let condition = Arc::new(Condition::new(()));
        // First in line: a wait polled once, so queued with the lock released.
        let guard = condition.shared_lock().try_lock().unwrap();
        let mut first = Box::pin(condition.wait(guard));
        assert!(poll_once(first.as_mut()).is_pending());

        let queued = Arc::new(AtomicBool::new(false));
        let t = {
            let (condition, queued) = (condition.clone(), queued.clone());
            thread::spawn(move || {
                block_on(async {
                    let guard = condition.lock().await;
                    let _guard = signal_pending(condition.wait(guard), &queued)
                        .await
                        .unwrap();
                });
            })
        };
        wait_until(&queued);
        // The notification goes to `first`, which is dropped before it runs:
        // the second waiter must get it.
        assert_eq!(condition.notify(1), 1);
        drop(first);
        t.join().unwrap();
    });
}

#[test]
fn loom_condition_notify_all_releases_two_waiters() {
    model(|| {
        let condition = Arc::new(Condition::new(false));
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let condition = condition.clone();
                thread::spawn(move || {
                    block_on(async {
                        let guard = condition.lock().await;
                        let guard = condition.wait_for(guard, |ready| *ready).await.unwrap();
                        assert!(*guard);
                    });
                })
            })
            .collect();
        block_on(async {
            let mut guard = condition.lock().await;
            *guard = true;
            condition.notify_all();
        });
        for t in threads {
            t.join().unwrap();
        }
    });
}

// ---------------------------------------------------------------- Semaphore

#[test]
fn loom_semaphore_acquire_many_races_acquire() {
    model(|| {
        let semaphore = Arc::new(Semaphore::new(2));
        let in_use = Arc::new(AtomicUsize::new(0));
        let t = {
            let (semaphore, in_use) = (semaphore.clone(), in_use.clone());
            thread::spawn(move || {
                let permit = block_on(semaphore.acquire_many(2)).unwrap();
                assert!(in_use.fetch_add(2, SeqCst) + 2 <= 2, "over-committed");
                in_use.fetch_sub(2, SeqCst);
                drop(permit);
            })
        };
        for _ in 0..2 {
            let permit = block_on(semaphore.acquire());
            assert!(in_use.fetch_add(1, SeqCst) < 2, "over-committed");
            in_use.fetch_sub(1, SeqCst);
            drop(permit);
        }
        t.join().unwrap();
        assert_eq!(semaphore.available_permits(), 2, "permits conserved");
    });
}

#[test]
fn loom_semaphore_releases_race_acquire_many() {
    model(|| {
        let semaphore = Arc::new(Semaphore::new(0));
        let t = {
            let semaphore = semaphore.clone();
            thread::spawn(move || {
                let permit = block_on(semaphore.acquire_many(2)).unwrap();
                assert_eq!(permit.num_permits(), 2);
                permit.forget();
            })
        };
        semaphore.release();
        semaphore.add_permits(1);
        t.join().unwrap();
        assert_eq!(semaphore.available_permits(), 0, "both permits taken once");
        semaphore.release();
        assert_eq!(semaphore.available_permits(), 1);
    });
}

#[test]
fn loom_semaphore_dropped_waiter_loses_no_permit() {
    model(|| {
        let semaphore = Arc::new(Semaphore::new(1));
        let held = semaphore.try_acquire().expect("one permit free");
        let t = {
            let semaphore = semaphore.clone();
            thread::spawn(move || {
                let mut acquire = pin!(semaphore.acquire_many(1));
                // Queued, or served at once if the permit was back already;
                // either way dropped (or released) without being used.
                if let Poll::Ready(permit) = poll_once(acquire.as_mut()) {
                    drop(permit.unwrap());
                }
            })
        };
        drop(held);
        // Behind the dropped waiter or not, this must get the permit.
        let permit = block_on(semaphore.acquire());
        drop(permit);
        t.join().unwrap();
        assert_eq!(semaphore.available_permits(), 1);
    });
}

#[test]
fn loom_semaphore_three_threads_never_over_committed() {
    model(|| {
        let semaphore = Arc::new(Semaphore::new(2));
        let in_use = Arc::new(AtomicUsize::new(0));
        let take = |semaphore: &Semaphore, in_use: &AtomicUsize, n: usize| {
            let permit = block_on(semaphore.acquire_many(n)).unwrap();
            assert!(in_use.fetch_add(n, SeqCst) + n <= 2, "over-committed");
            in_use.fetch_sub(n, SeqCst);
            drop(permit);
        };
        let threads: Vec<_> = [2, 1]
            .into_iter()
            .map(|n| {
                let (semaphore, in_use) = (semaphore.clone(), in_use.clone());
                thread::spawn(move || take(&semaphore, &in_use, n))
            })
            .collect();
        take(&semaphore, &in_use, 1);
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(semaphore.available_permits(), 2, "permits conserved");
    });
}

// ------------------------------------------------------- BoundedSemaphore

#[test]
fn loom_bounded_semaphore_racing_releases_exactly_one_fails() {
    model(|| {
        let semaphore = Arc::new(BoundedSemaphore::new(1));
        semaphore.try_acquire().expect("one permit free").forget();
        let t = {
            let semaphore = semaphore.clone();
            thread::spawn(move || semaphore.release())
        };
        let mine = semaphore.release();
        let theirs = t.join().unwrap();
        assert!(
            matches!(
                (mine, theirs),
                (Ok(()), Err(ReleaseError)) | (Err(ReleaseError), Ok(()))
            ),
            "exactly one release over a bound of one fails: {mine:?}, {theirs:?}"
        );
        assert_eq!(semaphore.available_permits(), 1);
    });
}

#[test]
fn loom_bounded_semaphore_release_to_waiter_is_within_bound() {
    model(|| {
        let semaphore = Arc::new(BoundedSemaphore::new(1));
        semaphore.try_acquire().expect("one permit free").forget();
        let t = {
            let semaphore = semaphore.clone();
            thread::spawn(move || drop(block_on(semaphore.acquire())))
        };
        // The one permit is out: giving it back is within the bound, whether
        // it goes to the pool or straight to the waiter.
        assert_eq!(semaphore.release(), Ok(()));
        t.join().unwrap();
        assert_eq!(semaphore.available_permits(), 1);
        assert_eq!(semaphore.release(), Err(ReleaseError), "now over the bound");
        assert_eq!(semaphore.available_permits(), 1);
    });
}

// ---------------------------------------------------------------- Barrier

#[test]
fn loom_barrier_two_parties_two_threads() {
    model(|| {
        let barrier = Arc::new(Barrier::new(2).unwrap());
        let t = {
            let barrier = barrier.clone();
            thread::spawn(move || block_on(barrier.wait()).unwrap())
        };
        let mine = block_on(barrier.wait()).unwrap();
        let theirs = t.join().unwrap();
        let mut indices = [mine, theirs];
        indices.sort_unstable();
        assert_eq!(indices, [0, 1]);
        assert_eq!(barrier.n_waiting(), 0);
    });
}

#[test]
fn loom_barrier_two_rounds() {
    model(|| {
        let barrier = Arc::new(Barrier::new(2).unwrap());
        let t = {
            let barrier = barrier.clone();
            thread::spawn(move || {
                [
                    block_on(barrier.wait()).unwrap(),
                    block_on(barrier.wait()).unwrap(),
                ]
            })
        };
        let mine = [
            block_on(barrier.wait()).unwrap(),
            block_on(barrier.wait()).unwrap(),
        ];
        let theirs = t.join().unwrap();
        for round in 0..2 {
            let mut indices = [mine[round], theirs[round]];
            indices.sort_unstable();
            assert_eq!(indices, [0, 1], "round {round}");
        }
    });
}

#[test]
fn loom_barrier_three_parties_three_threads() {
    model(|| {
        let barrier = Arc::new(Barrier::new(3).unwrap());
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let barrier = barrier.clone();
                thread::spawn(move || block_on(barrier.wait()).unwrap())
            })
            .collect();
        let mut indices = vec![block_on(barrier.wait()).unwrap()];
        indices.extend(threads.into_iter().map(|t| t.join().unwrap()));
        indices.sort_unstable();
        assert_eq!(indices, [0, 1, 2]);
    });
}

#[test]
fn loom_barrier_abort_races_wait() {
    model(|| {
        let barrier = Arc::new(Barrier::new(2).unwrap());
        let t = {
            let barrier = barrier.clone();
            thread::spawn(move || block_on(barrier.wait()))
        };
        barrier.abort();
        // Queued before the abort or arriving after it: broken either way.
        assert_eq!(t.join().unwrap(), Err(BrokenBarrier));
        assert!(barrier.broken());
        assert_eq!(barrier.n_waiting(), 0);
    });
}

// ---------------------------------------------------------------- Queue

#[test]
fn loom_queue_capacity_one_every_item_once_in_order() {
    model(|| {
        let queue = Arc::new(Queue::new(1));
        let t = {
            let queue = queue.clone();
            thread::spawn(move || {
                for item in 0..3_u32 {
                    block_on(queue.put(item)).unwrap();
                }
            })
        };
        for expected in 0..3_u32 {
            assert_eq!(block_on(queue.get()).unwrap(), expected);
            queue.task_done().unwrap();
        }
        t.join().unwrap();
        assert!(queue.empty());
        assert!(poll_once(pin!(queue.join())).is_ready(), "all done");
    });
}

#[test]
fn loom_queue_dropped_get_loses_no_item() {
    model(|| {
        let queue = Arc::new(Queue::new(1));
        let t = {
            let queue = queue.clone();
            thread::spawn(move || {
                let mut get = pin!(queue.get());
                // Served at once if the item is there; else queued, maybe
                // handed the item, and dropped without collecting it.
                match poll_once(get.as_mut()) {
                    Poll::Ready(item) => Some(item.unwrap()),
                    Poll::Pending => None,
                }
            })
        };
        block_on(queue.put(7_u32)).unwrap();
        let raced = queue.get_nowait().ok();
        let theirs = t.join().unwrap();
        let after = queue.get_nowait().ok();
        let received: Vec<u32> = [raced, theirs, after].into_iter().flatten().collect();
        assert_eq!(received, [7], "the item is received exactly once");
        assert_eq!(queue.get_nowait(), Err(GetNowaitError::QueueEmpty));
    });
}

#[test]
fn loom_queue_dropped_get_passes_item_to_next_getter() {
    model(|| {
        let queue = Arc::new(Queue::new(1));
        // Queued first, so the item goes to it, but it is dropped.
        let mut first = Box::pin(queue.get());
        assert!(poll_once(first.as_mut()).is_pending());
        let t = {
            let queue = queue.clone();
            thread::spawn(move || block_on(queue.get()).unwrap())
        };
        queue.put_nowait(7_u32).unwrap();
        drop(first);
        assert_eq!(t.join().unwrap(), 7);
        assert!(queue.empty());
    });
}

#[test]
fn loom_queue_dropped_put_keeps_accounting() {
    model(|| {
        let queue = Arc::new(Queue::new(1));
        queue.put_nowait(0_u32).unwrap();
        let t = {
            let queue = queue.clone();
            thread::spawn(move || {
                let mut put = pin!(queue.put(1));
                // Done at once if there was room; else queued, maybe let in,
                // and dropped: the item is then in the queue or gone.
                poll_once(put.as_mut()).is_ready()
            })
        };
        assert_eq!(queue.get_nowait(), Ok(0));
        queue.task_done().unwrap();
        let put_completed = t.join().unwrap();
        match queue.get_nowait() {
            Ok(item) => {
                assert_eq!(item, 1);
                queue.task_done().unwrap();
            }
            Err(error) => {
                assert_eq!(error, GetNowaitError::QueueEmpty);
                assert!(!put_completed, "a completed put lost its item");
            }
        }
        assert!(queue.empty());
        assert!(
            poll_once(pin!(queue.join())).is_ready(),
            "a dropped put's item still counted as unfinished"
        );
    });
}

#[test]
fn loom_queue_two_producers_one_consumer() {
    model(|| {
        let queue = Arc::new(Queue::new(1));
        let threads: Vec<_> = [1_u32, 2]
            .into_iter()
            .map(|item| {
                let queue = queue.clone();
                thread::spawn(move || block_on(queue.put(item)).unwrap())
            })
            .collect();
        let mut received = [
            block_on(queue.get()).unwrap(),
            block_on(queue.get()).unwrap(),
        ];
        for t in threads {
            t.join().unwrap();
        }
        received.sort_unstable();
        assert_eq!(received, [1, 2]);
        assert!(queue.empty());
    });
}

#[test]
fn loom_queue_shutdown_releases_blocked_getter() {
    model(|| {
        let queue = Arc::new(Queue::<u32>::new(1));
        let t = {
            let queue = queue.clone();
            thread::spawn(move || block_on(queue.get()))
        };
        queue.shutdown(false);
        assert_eq!(t.join().unwrap(), Err(QueueShutDown(())));
    });
}

#[test]
fn loom_queue_shutdown_gives_blocked_put_its_item_back() {
    model(|| {
        let queue = Arc::new(Queue::new(1));
        queue.put_nowait(0_u32).unwrap();
        let t = {
            let queue = queue.clone();
            thread::spawn(move || block_on(queue.put(1)))
        };
        queue.shutdown(false);
        assert_eq!(t.join().unwrap(), Err(QueueShutDown(1)));
        assert_eq!(queue.get_nowait(), Ok(0), "items put before stay");
        assert_eq!(queue.get_nowait(), Err(GetNowaitError::QueueShutDown));
    });
}

#[test]
fn loom_queue_join_races_task_done() {
    model(|| {
        let queue = Arc::new(Queue::new(0));
        queue.put_nowait(0_u32).unwrap();
        let t = {
            let queue = queue.clone();
            thread::spawn(move || block_on(queue.join()))
        };
        assert_eq!(queue.get_nowait(), Ok(0));
        queue.task_done().unwrap();
        t.join().unwrap();
    });
}

#[test]
fn loom_queue_dropped_put_passes_room_to_next_putter() {
    model(|| {
        let queue = Arc::new(Queue::new(1));
        queue.put_nowait(0_u32).unwrap();
        // Queued first, so the room goes to it, but it is dropped.
        let mut first = Box::pin(queue.put(1));
        assert!(poll_once(first.as_mut()).is_pending());
        let t = {
            let queue = queue.clone();
            thread::spawn(move || block_on(queue.put(2)).unwrap())
        };
        assert_eq!(queue.get_nowait(), Ok(0));
        drop(first);
        t.join().unwrap();
        assert_eq!(
            queue.get_nowait(),
            Ok(2),
            "the dropped put's item never went in"
        );
        assert!(queue.empty());
    });
}

#[test]
fn loom_queue_shutdown_keeps_items_for_getters() {
    model(|| {
        let queue = Arc::new(Queue::new(1));
        let t = {
            let queue = queue.clone();
            thread::spawn(move || block_on(queue.get()))
        };
        queue.put_nowait(7_u32).unwrap();
        queue.shutdown(false);
        // Promised to the getter before the shutdown, or found by it after:
        // an item put before a (non-immediate) shutdown is still got.
        assert_eq!(t.join().unwrap(), Ok(7));
        assert_eq!(queue.get_nowait(), Err(GetNowaitError::QueueShutDown));
    });
}

#[test]
fn loom_queue_immediate_shutdown_races_get() {
    model(|| {
        let queue = Arc::new(Queue::new(1));
        let t = {
            let queue = queue.clone();
            thread::spawn(move || {
                let got = block_on(queue.get());
                if got.is_ok() {
                    queue.task_done().unwrap();
                }
                got
            })
        };
        queue.put_nowait(7_u32).unwrap();
        queue.shutdown(true);
        // Got before the shutdown, or dropped by it: never both, never lost
        // from the accounting.
        let got = t.join().unwrap();
        assert!(matches!(got, Ok(7) | Err(QueueShutDown(()))), "{got:?}");
        assert_eq!(queue.get_nowait(), Err(GetNowaitError::QueueShutDown));
        assert!(poll_once(pin!(queue.join())).is_ready(), "all done");
    });
}

/// A waker that records being woken, in a loom atomic.
struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.store(true, SeqCst);
    }
}

#[test]
fn loom_queue_get_after_shutdown_fails_once_the_last_item_is_taken() {
    model(|| {
        let queue = Arc::new(Queue::new(1));
        // The last item is promised to `first`, which has not run yet when
        // the queue is shut down.
        let mut first = Box::pin(queue.get());
        assert!(poll_once(first.as_mut()).is_pending());
        queue.put_nowait(7_u32).unwrap();
        queue.shutdown(false);
        let first_done = Arc::new(AtomicBool::new(false));
        let t = {
            let (queue, first_done) = (queue.clone(), first_done.clone());
            thread::spawn(move || {
                let flag = std::sync::Arc::new(Flag(AtomicBool::new(false)));
                let waker = Waker::from(flag.clone());
                let mut cx = Context::from_waker(&waker);
                let mut second = pin!(queue.get());
                if let Poll::Ready(got) = second.as_mut().poll(&mut cx) {
                    // Arrived after `first` took the item: shut down, empty.
                    assert_eq!(got, Err(QueueShutDown(())));
                    return;
                }
                // Queued behind an item promised to `first`: once `first`
                // takes it, the queue is shut down and empty, and `second`
                // must be woken to fail, as asyncio's get raises
                // QueueShutDown. Nothing else can wake it: no put succeeds
                // on a shut-down queue.
                wait_until(&first_done);
                assert!(
                    flag.0.load(SeqCst),
                    "lost wakeup: a get queued on a shut-down queue behind \
                     a promised item is never woken once the item is taken"
                );
                assert_eq!(
                    second.as_mut().poll(&mut cx),
                    Poll::Ready(Err(QueueShutDown(())))
                );
            })
        };
        assert_eq!(poll_once(first.as_mut()), Poll::Ready(Ok(7)));
        first_done.store(true, SeqCst);
        t.join().unwrap();
    });
}
