//! `Lock`: FIFO acquisition, no barging, cancel safety, data guarded
//! across suspensions (CPython's `LockTests`).

use std::sync::Arc;

use tulip_sync::{Lock, TryLockError};

use super::{Cancelled, Counter, Log, Runtime, assert_pending, ready, until};

pub(crate) fn acquisition_is_fifo<R: Runtime>() {
    R::block_on(async {
        let lock = Arc::new(Lock::new(()));
        let log = Log::new();
        let queued = Counter::new();
        let held = lock.lock().await;
        let mut tasks = Vec::new();
        for i in 0..5 {
            let (lock, log, arrived) = (Arc::clone(&lock), log.clone(), queued.clone());
            tasks.push(R::spawn(async move {
                arrived.incr();
                let guard = lock.lock().await;
                log.push(i);
                R::yield_now().await;
                drop(guard);
            }));
            until::<R>("the task is queued", || queued.get() == i + 1).await;
        }
        drop(held);
        // Asking again now queues behind all five.
        let again = lock.lock().await;
        log.push(99);
        drop(again);
        for task in tasks {
            R::output(task).await;
        }
        assert_eq!(log.entries(), [0, 1, 2, 3, 4, 99]);
        assert!(!lock.locked());
    });
}

pub(crate) fn try_lock_fails_while_waiters_are_queued<R: Runtime>() {
    R::block_on(async {
        let lock = Arc::new(Lock::new(()));
        let queued = Counter::new();
        let held = lock.try_lock().expect("the lock is free");
        assert_eq!(lock.try_lock().err(), Some(TryLockError));
        let waiter = R::spawn({
            let (lock, queued) = (Arc::clone(&lock), queued.clone());
            async move {
                queued.incr();
                drop(lock.lock().await);
            }
        });
        until::<R>("the waiter is queued", || queued.get() == 1).await;
        drop(held);
        // The lock went straight to the waiter, which has not run yet:
        // nobody can take it in between, neither try_lock nor a new lock().
        // (asyncio's locked() is briefly False here; tulip's lock is held.)
        assert!(lock.locked());
        assert_eq!(lock.try_lock().err(), Some(TryLockError));
        let mut late = lock.lock();
        assert_pending(&mut late);
        drop(late);
        R::output(waiter).await;
        assert!(!lock.locked());
        assert!(lock.try_lock().is_ok());
    });
}

pub(crate) fn granted_waiter_dropped_passes_the_lock_on<R: Runtime>() {
    R::block_on(async {
        let lock = Lock::new(0_u32);
        let mut held = lock.lock().await;
        *held = 1;
        let mut first = lock.lock();
        let mut second = lock.lock();
        let mut third = lock.lock();
        assert_pending(&mut first);
        assert_pending(&mut second);
        assert_pending(&mut third);
        drop(held);
        // Granted to `first`, which is dropped before collecting it.
        drop(first);
        let mut guard = ready(&mut second);
        assert_eq!(*guard, 1);
        *guard = 2;
        assert_pending(&mut third);
        drop(guard);
        // Granted to `third`, dropped too: nobody is left, the lock is free.
        drop(third);
        assert!(!lock.locked());
        assert_eq!(*lock.try_lock().expect("the lock is free"), 2);
    });
}

pub(crate) fn queued_waiter_dropped_is_skipped<R: Runtime>() {
    R::block_on(async {
        let lock = Lock::new(());
        let held = lock.lock().await;
        let mut first = lock.lock();
        let mut second = lock.lock();
        assert_pending(&mut first);
        assert_pending(&mut second);
        drop(first);
        assert!(lock.locked());
        drop(held);
        let guard = ready(&mut second);
        assert!(lock.locked());
        drop(guard);
        assert!(!lock.locked());
    });
}

pub(crate) fn cancelled_task_passes_the_lock_on<R: Runtime>() {
    R::block_on(async {
        let lock = Arc::new(Lock::new(()));
        let log = Log::new();
        let queued = Counter::new();
        let held = lock.lock().await;
        let mut tasks = Vec::new();
        for (i, name) in ["a", "b", "c"].into_iter().enumerate() {
            let (lock, log, arrived) = (Arc::clone(&lock), log.clone(), queued.clone());
            tasks.push(R::spawn(async move {
                arrived.incr();
                let _guard = lock.lock().await;
                log.push(name);
            }));
            until::<R>("the task is queued", || queued.get() == i + 1).await;
        }
        let (c, b, a) = (tasks.pop(), tasks.pop(), tasks.pop());
        let (a, b, c) = (a.expect("a"), b.expect("b"), c.expect("c"));
        // `a` is handed the lock and cancelled before it runs; `b` is
        // cancelled while still queued (CPython's test_cancel_release_race
        // and test_finished_waiter_cancelled).
        drop(held);
        R::cancel(&a);
        R::cancel(&b);
        assert_eq!(R::join(a).await, Err(Cancelled));
        assert_eq!(R::join(b).await, Err(Cancelled));
        R::output(c).await;
        assert_eq!(log.entries(), ["c"]);
        assert!(!lock.locked());
    });
}

pub(crate) fn guard_protects_data_across_yields<R: Runtime>() {
    R::block_on(async {
        let lock = Arc::new(Lock::new((0_u32, Vec::new())));
        let mut tasks = Vec::new();
        for task in 0..4 {
            let lock = Arc::clone(&lock);
            tasks.push(R::spawn(async move {
                for _ in 0..5 {
                    let mut guard = lock.lock().await;
                    let read = guard.0;
                    guard.1.push((task, "in"));
                    R::yield_now().await;
                    R::yield_now().await;
                    guard.0 = read + 1;
                    guard.1.push((task, "out"));
                    drop(guard);
                    R::yield_now().await;
                }
            }));
        }
        for task in tasks {
            R::output(task).await;
        }
        let (count, trace) = Arc::try_unwrap(lock)
            .unwrap_or_else(|_| panic!("the tasks are done"))
            .into_inner();
        assert_eq!(count, 20);
        // Every critical section ran alone: "in" and "out" of one task pair up.
        for pair in trace.chunks(2) {
            assert_eq!(pair[0].0, pair[1].0, "interleaved: {trace:?}");
            assert_eq!((pair[0].1, pair[1].1), ("in", "out"));
        }
    });
}

pub(crate) fn locked_follows_the_guard<R: Runtime>() {
    R::block_on(async {
        let mut lock = Lock::new(5_u32);
        assert!(!lock.locked());
        let guard = lock.lock().await;
        assert!(lock.locked());
        assert_eq!(*guard, 5);
        drop(guard);
        assert!(!lock.locked());
        let guard = lock.try_lock().expect("the lock is free");
        assert!(lock.locked());
        drop(guard);
        assert!(!lock.locked());
        *lock.get_mut() += 1;
        assert_eq!(lock.into_inner(), 6);
    });
}

pub(crate) fn owned_guards_queue_with_the_others_and_move_between_tasks<R: Runtime>() {
    R::block_on(async {
        let lock = Arc::new(Lock::new(0_u32));
        let guard = lock.lock_owned().await;
        assert!(Arc::ptr_eq(guard.lock(), &lock));
        assert!(lock.try_lock_owned().is_err());
        let mut waiter = lock.lock();
        assert_pending(&mut waiter);
        // The guard moves into another task, which releases the lock there.
        let releaser = R::spawn(async move {
            let mut guard = guard;
            *guard += 1;
            R::yield_now().await;
            drop(guard);
        });
        R::output(releaser).await;
        let guard = ready(&mut waiter);
        assert_eq!(*guard, 1);

        // Owned and borrowed acquisitions share one FIFO queue, and a
        // granted owned acquisition that is dropped passes the lock on.
        let mut owned = lock.lock_owned();
        let mut dropped = lock.lock_owned();
        let mut borrowed = lock.lock();
        assert_pending(&mut owned);
        assert_pending(&mut dropped);
        assert_pending(&mut borrowed);
        drop(guard);
        assert_eq!(lock.try_lock().err(), Some(TryLockError));
        let mut owned = ready(&mut owned);
        *owned += 1;
        assert_pending(&mut dropped);
        drop(owned);
        drop(dropped);
        let guard = ready(&mut borrowed);
        assert_eq!(*guard, 2);
        drop(guard);
        let owned = lock.try_lock_owned().expect("the lock is free");
        assert!(lock.locked());
        drop(owned);
        assert!(!lock.locked());
    });
}
