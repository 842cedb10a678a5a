//! `Condition`: notifications in arrival order, the lock given up while
//! waiting, cancel safety of notifications (CPython's `ConditionTests`).

use std::collections::VecDeque;
use std::sync::Arc;

use tulip_sync::{Condition, Lock};

use super::{Cancelled, Counter, Log, Runtime, assert_pending, ready, settle, until};

/// Spawns `n` tasks that each take the condition's lock and wait once,
/// queued in index order; each logs its index when its wait returns.
async fn spawn_waiters<R: Runtime>(
    condition: &Arc<Condition>,
    log: &Log<usize>,
    n: usize,
) -> Vec<R::Handle<()>> {
    let queued = Counter::new();
    let mut tasks = Vec::new();
    for i in 0..n {
        let (condition, log, arrived) = (Arc::clone(condition), log.clone(), queued.clone());
        tasks.push(R::spawn(async move {
            let guard = condition.lock().await;
            arrived.incr();
            let guard = condition
                .wait(guard)
                .await
                .expect("the condition's own guard");
            log.push(i);
            drop(guard);
        }));
        until::<R>("the task waits", || queued.get() == i + 1).await;
    }
    tasks
}

pub(crate) fn notify_one_wakes_the_longest_waiter<R: Runtime>() {
    R::block_on(async {
        let condition = Arc::new(Condition::new(()));
        let log = Log::new();
        let tasks = spawn_waiters::<R>(&condition, &log, 3).await;
        settle::<R>().await;
        assert!(log.entries().is_empty());
        for woken in 1..=3 {
            assert_eq!(condition.notify(1), 1);
            settle::<R>().await;
            assert_eq!(log.entries(), (0..woken).collect::<Vec<_>>());
        }
        assert_eq!(condition.notify(1), 0, "nobody is left to notify");
        for task in tasks {
            R::output(task).await;
        }
    });
}

pub(crate) fn notify_n_and_notify_all<R: Runtime>() {
    R::block_on(async {
        let condition = Arc::new(Condition::new(()));
        let log = Log::new();
        let tasks = spawn_waiters::<R>(&condition, &log, 5).await;
        assert_eq!(condition.notify(2), 2);
        settle::<R>().await;
        assert_eq!(log.entries(), [0, 1]);
        assert_eq!(condition.notify_all(), 3);
        settle::<R>().await;
        assert_eq!(log.entries(), [0, 1, 2, 3, 4]);
        assert_eq!(condition.notify_all(), 0);
        assert_eq!(condition.notify(4), 0);
        for task in tasks {
            R::output(task).await;
        }
    });
}

pub(crate) fn wait_releases_the_lock_and_takes_it_back<R: Runtime>() {
    R::block_on(async {
        let condition = Arc::new(Condition::new(0_u32));
        let queued = Counter::new();
        let waiter = R::spawn({
            let (condition, queued) = (Arc::clone(&condition), queued.clone());
            async move {
                let mut guard = condition.lock().await;
                *guard = 1;
                queued.incr();
                let mut guard = condition.wait(guard).await.expect("own guard");
                assert!(
                    condition.shared_lock().locked(),
                    "wait returns with the lock held"
                );
                assert_eq!(*guard, 2, "sees what the notifier wrote under the lock");
                *guard = 3;
            }
        });
        until::<R>("the waiter waits", || queued.get() == 1).await;
        assert!(
            !condition.shared_lock().locked(),
            "waiting gave the lock up"
        );
        let mut guard = ready(&mut condition.lock());
        assert_eq!(*guard, 1);
        *guard = 2;
        assert_eq!(condition.notify(1), 1);
        settle::<R>().await;
        assert!(
            !R::is_finished(&waiter),
            "notified, but the lock is still ours"
        );
        drop(guard);
        R::output(waiter).await;
        assert!(!condition.shared_lock().locked());
        assert_eq!(*condition.lock().await, 3);
    });
}

pub(crate) fn wait_for_checks_the_predicate_after_each_notification<R: Runtime>() {
    R::block_on(async {
        let condition = Arc::new(Condition::new(0_u32));
        let checks = Counter::new();
        let waiter = R::spawn({
            let (condition, checks) = (Arc::clone(&condition), checks.clone());
            async move {
                let guard = condition.lock().await;
                let guard = condition
                    .wait_for(guard, |value| {
                        checks.incr();
                        *value >= 3
                    })
                    .await
                    .expect("own guard");
                assert!(condition.shared_lock().locked());
                *guard
            }
        });
        until::<R>("the predicate was checked once", || checks.get() == 1).await;
        for value in 1..=3 {
            *condition.lock().await = value;
            assert_eq!(condition.notify_all(), 1);
            settle::<R>().await;
            assert_eq!(checks.get(), 1 + value as usize);
            assert_eq!(R::is_finished(&waiter), value == 3);
        }
        assert_eq!(R::output(waiter).await, 3);
        // A predicate that already holds returns at once, lock held.
        let guard = condition.lock().await;
        let guard = ready(&mut Box::pin(
            condition.wait_for(guard, |value| *value == 3),
        ))
        .expect("own guard");
        assert_eq!(*guard, 3);
        assert!(condition.shared_lock().locked());
    });
}

pub(crate) fn notified_waiter_dropped_passes_the_notification_on<R: Runtime>() {
    R::block_on(async {
        let condition = Condition::new(());
        let mut first = condition.wait(condition.lock().await);
        assert_pending(&mut first);
        let mut second = condition.wait(condition.lock().await);
        assert_pending(&mut second);
        let mut third = condition.wait(condition.lock().await);
        assert_pending(&mut third);
        assert_eq!(condition.notify(1), 1);
        // Notified, dropped before it ran: the next in line is notified.
        drop(first);
        let guard = ready(&mut second).expect("own guard");
        drop(guard);
        assert_pending(&mut third);
        assert_eq!(condition.notify(1), 1);
        drop(ready(&mut third).expect("own guard"));
    });
}

pub(crate) fn cancelled_notified_task_passes_the_notification_on<R: Runtime>() {
    R::block_on(async {
        let condition = Arc::new(Condition::new(()));
        let log = Log::new();
        let mut tasks = spawn_waiters::<R>(&condition, &log, 3).await;
        let (last, second, first) = (tasks.pop(), tasks.pop(), tasks.pop());
        let (first, second, last) = (first.expect("0"), second.expect("1"), last.expect("2"));
        // `first` is notified and cancelled before it runs (CPython's
        // test_wait_cancel_after_notify).
        assert_eq!(condition.notify(1), 1);
        R::cancel(&first);
        assert_eq!(R::join(first).await, Err(Cancelled));
        R::output(second).await;
        assert_eq!(log.entries(), [1]);
        settle::<R>().await;
        assert!(!R::is_finished(&last), "one notification, one waiter woken");
        assert_eq!(condition.notify(1), 1);
        R::output(last).await;
        assert_eq!(log.entries(), [1, 2]);
    });
}

pub(crate) fn waiter_dropped_while_relocking_passes_the_notification_on<R: Runtime>() {
    R::block_on(async {
        let condition = Condition::new(());
        let mut first = condition.wait(condition.lock().await);
        assert_pending(&mut first);
        let mut second = condition.wait(condition.lock().await);
        assert_pending(&mut second);
        let held = condition.lock().await;
        assert_eq!(condition.notify(1), 1);
        // `first` runs, sees the notification and waits for the lock, which
        // we hold; then it is dropped. asyncio re-takes the lock, then
        // notifies another waiter on the way out (test_wait_cancel_contested,
        // Condition.wait's `except BaseException: self._notify(1)`).
        assert_pending(&mut first);
        drop(first);
        drop(held);
        let guard = ready(&mut second).expect("own guard");
        drop(guard);
    });
}

pub(crate) fn queued_waiter_dropped_takes_no_notification<R: Runtime>() {
    R::block_on(async {
        let condition = Condition::new(());
        let mut first = condition.wait(condition.lock().await);
        assert_pending(&mut first);
        let mut second = condition.wait(condition.lock().await);
        assert_pending(&mut second);
        drop(first);
        assert_eq!(condition.notify(1), 1);
        drop(ready(&mut second).expect("own guard"));
        // A wait dropped before its first poll releases the lock it was given.
        drop(condition.wait(condition.lock().await));
        assert!(!condition.shared_lock().locked());
        assert_eq!(condition.notify_all(), 0);
    });
}

pub(crate) fn foreign_guard_is_given_back_still_locked<R: Runtime>() {
    R::block_on(async {
        let condition = Condition::new(0_u32);
        let other = Lock::new(7_u32);
        let guard = other.lock().await;
        let foreign = condition.wait(guard).await.expect_err("a foreign guard");
        let guard = foreign.into_guard();
        assert!(other.locked());
        assert_eq!(*guard, 7);
        let foreign = condition
            .wait_for(guard, |_| true)
            .await
            .expect_err("a foreign guard");
        let guard = foreign.into_guard();
        assert!(other.locked());
        drop(guard);
        assert!(!other.locked());
        // The guard of another condition's lock is foreign too; dropping
        // the error releases that lock.
        let elsewhere = Condition::new(0_u32);
        let foreign = condition
            .wait(elsewhere.lock().await)
            .await
            .expect_err("a foreign guard");
        assert!(elsewhere.shared_lock().locked());
        drop(foreign);
        assert!(!elsewhere.shared_lock().locked());
        // Nothing was queued on the condition, its lock was never taken.
        assert_eq!(condition.notify_all(), 0);
        assert!(!condition.shared_lock().locked());
    });
}

pub(crate) fn conditions_sharing_one_lock<R: Runtime>() {
    R::block_on(async {
        const CAPACITY: usize = 2;
        let lock = Arc::new(Lock::new(VecDeque::new()));
        let not_empty = Arc::new(Condition::with_lock(Arc::clone(&lock)));
        let not_full = Arc::new(Condition::with_lock(Arc::clone(&lock)));
        assert!(Arc::ptr_eq(not_empty.shared_lock(), not_full.shared_lock()));
        assert!(Arc::ptr_eq(not_empty.shared_lock(), &lock));

        // A notification of one condition does not reach the other's waiters.
        let mut waiting = not_empty.wait(lock.lock().await);
        assert_pending(&mut waiting);
        assert_eq!(not_full.notify_all(), 0);
        assert_pending(&mut waiting);
        assert_eq!(not_empty.notify(1), 1);
        drop(ready(&mut waiting).expect("the shared lock's guard"));

        // A bounded buffer: guards taken through either the lock or one
        // condition are accepted by the other condition.
        let consumer = R::spawn({
            let (lock, not_empty, not_full) = (
                Arc::clone(&lock),
                Arc::clone(&not_empty),
                Arc::clone(&not_full),
            );
            async move {
                let mut received = Vec::new();
                for _ in 0..10 {
                    let guard = lock.lock().await;
                    let mut guard = not_empty
                        .wait_for(guard, |queue| !queue.is_empty())
                        .await
                        .expect("the shared lock's guard");
                    received.push(guard.pop_front().expect("not empty"));
                    not_full.notify(1);
                    drop(guard);
                }
                received
            }
        });
        let producer = R::spawn({
            let (not_empty, not_full) = (Arc::clone(&not_empty), Arc::clone(&not_full));
            async move {
                for item in 0..10_u32 {
                    let guard = not_empty.lock().await;
                    let mut guard = not_full
                        .wait_for(guard, |queue| queue.len() < CAPACITY)
                        .await
                        .expect("the shared lock's guard");
                    guard.push_back(item);
                    assert!(guard.len() <= CAPACITY);
                    not_empty.notify(1);
                    drop(guard);
                    R::yield_now().await;
                }
            }
        });
        R::output(producer).await;
        assert_eq!(R::output(consumer).await, (0..10).collect::<Vec<_>>());
        assert!(lock.lock().await.is_empty());
    });
}
