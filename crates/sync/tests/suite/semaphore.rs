//! `Semaphore` and `BoundedSemaphore`: FIFO, head-of-line `acquire_many`,
//! no barging, cancel safety, typed misuse errors (CPython's
//! `SemaphoreTests`).

use std::sync::Arc;

use tulip_sync::{AcquireError, BoundedSemaphore, ReleaseError, Semaphore, TryAcquireError};

use super::{Cancelled, Counter, Log, Runtime, assert_pending, ready, settle, until};

/// Spawns `n` tasks queued in index order on `semaphore`, each keeping
/// (forgetting) the permit it gets and logging its index.
async fn spawn_acquirers<R: Runtime>(
    semaphore: &Arc<Semaphore>,
    log: &Log<usize>,
    n: usize,
) -> Vec<R::Handle<()>> {
    let queued = Counter::new();
    let mut tasks = Vec::new();
    for i in 0..n {
        let (semaphore, log, arrived) = (Arc::clone(semaphore), log.clone(), queued.clone());
        tasks.push(R::spawn(async move {
            arrived.incr();
            semaphore.acquire().await.forget();
            log.push(i);
        }));
        until::<R>("the task is queued", || queued.get() == i + 1).await;
    }
    tasks
}

pub(crate) fn acquisition_is_fifo<R: Runtime>() {
    R::block_on(async {
        let semaphore = Arc::new(Semaphore::new(0));
        let log = Log::new();
        let tasks = spawn_acquirers::<R>(&semaphore, &log, 4).await;
        settle::<R>().await;
        assert!(log.entries().is_empty());
        semaphore.release();
        settle::<R>().await;
        assert_eq!(log.entries(), [0]);
        semaphore.add_permits(2);
        settle::<R>().await;
        assert_eq!(log.entries(), [0, 1, 2]);
        // Asking now queues behind the last task.
        let mut late = semaphore.acquire();
        assert_pending(&mut late);
        semaphore.release();
        settle::<R>().await;
        assert_eq!(log.entries(), [0, 1, 2, 3]);
        assert_pending(&mut late);
        semaphore.release();
        ready(&mut late).forget();
        for task in tasks {
            R::output(task).await;
        }
        assert_eq!(semaphore.available_permits(), 0);
    });
}

pub(crate) fn acquire_many_holds_back_those_behind_it<R: Runtime>() {
    R::block_on(async {
        let semaphore = Semaphore::new(3);
        let held = semaphore.acquire_many(2).await.expect("within the bound");
        assert_eq!(held.num_permits(), 2);
        let mut big = semaphore.acquire_many(3);
        let mut small = semaphore.acquire();
        assert_pending(&mut big);
        // One permit is free, but the big request is ahead.
        assert_pending(&mut small);
        assert_eq!(semaphore.available_permits(), 1);
        assert!(semaphore.locked());
        drop(held);
        let big = ready(&mut big).expect("within the bound");
        assert_eq!(big.num_permits(), 3);
        assert_eq!(semaphore.available_permits(), 0);
        assert_pending(&mut small);
        drop(big);
        let small = ready(&mut small);
        assert_eq!(small.num_permits(), 1);
        assert_eq!(semaphore.available_permits(), 2);
    });
}

pub(crate) fn dropping_a_big_request_unblocks_those_behind_it<R: Runtime>() {
    R::block_on(async {
        let semaphore = Semaphore::new(3);
        let _held = semaphore.acquire_many(2).await.expect("within the bound");
        let mut big = semaphore.acquire_many(3);
        let mut first = semaphore.acquire();
        let mut second = semaphore.acquire();
        assert_pending(&mut big);
        assert_pending(&mut first);
        assert_pending(&mut second);
        drop(big);
        // The free permit goes to the next in line, and only to it.
        let first = ready(&mut first);
        assert_pending(&mut second);
        assert_eq!(semaphore.available_permits(), 0);
        drop(first);
        drop(ready(&mut second));
    });
}

pub(crate) fn try_acquire_does_not_barge<R: Runtime>() {
    R::block_on(async {
        let semaphore = Semaphore::new(1);
        let permit = semaphore.try_acquire().expect("a permit is free");
        let mut waiter = semaphore.acquire();
        assert_pending(&mut waiter);
        assert_eq!(semaphore.try_acquire().err(), Some(TryAcquireError));
        drop(permit);
        // Handed to the waiter, which has not collected it yet.
        assert_eq!(semaphore.available_permits(), 0);
        assert_eq!(semaphore.try_acquire().err(), Some(TryAcquireError));
        drop(ready(&mut waiter));
        assert!(semaphore.try_acquire().is_ok());

        // Permits are free, but a waiter wants more: still no barging.
        let semaphore = Semaphore::new(3);
        let _held = semaphore.try_acquire_many(2).expect("two are free");
        let mut big = semaphore.acquire_many(2);
        assert_pending(&mut big);
        assert_eq!(semaphore.available_permits(), 1);
        assert_eq!(semaphore.try_acquire().err(), Some(TryAcquireError));
        assert_eq!(semaphore.try_acquire_many(1).err(), Some(TryAcquireError));
        assert_pending(&mut semaphore.acquire());
        drop(big);
        assert!(semaphore.try_acquire().is_ok());
    });
}

pub(crate) fn granted_waiter_dropped_passes_the_permit_on<R: Runtime>() {
    R::block_on(async {
        let semaphore = Semaphore::new(0);
        let mut first = semaphore.acquire();
        let mut second = semaphore.acquire();
        assert_pending(&mut first);
        assert_pending(&mut second);
        semaphore.release();
        // Granted to `first`, dropped before collecting (CPython's
        // test_acquire_hang).
        drop(first);
        assert!(semaphore.locked());
        let permit = ready(&mut second);
        assert_eq!(semaphore.available_permits(), 0);
        permit.forget();
        // With nobody behind, the permit goes back to the pool.
        let mut third = semaphore.acquire();
        assert_pending(&mut third);
        semaphore.release();
        assert_eq!(semaphore.available_permits(), 0);
        drop(third);
        assert_eq!(semaphore.available_permits(), 1);
        assert!(!semaphore.locked());
    });
}

pub(crate) fn cancelled_tasks_pass_permits_on<R: Runtime>() {
    R::block_on(async {
        // CPython's test_acquire_cancel_before_awoken.
        let semaphore = Arc::new(Semaphore::new(0));
        let log = Log::new();
        let mut tasks = spawn_acquirers::<R>(&semaphore, &log, 4).await.into_iter();
        let mut next = || tasks.next().expect("four tasks");
        let (t1, t2, t3, t4) = (next(), next(), next(), next());
        R::cancel(&t1);
        R::cancel(&t2);
        // Granted to t1 before its cancellation is carried out: t1 passes it
        // to t2, which passes it to t3.
        semaphore.release();
        assert_eq!(R::join(t1).await, Err(Cancelled));
        assert_eq!(R::join(t2).await, Err(Cancelled));
        R::output(t3).await;
        settle::<R>().await;
        assert!(!R::is_finished(&t4));
        assert_eq!(log.entries(), [2]);
        assert!(semaphore.locked());
        R::cancel(&t4);
        assert_eq!(R::join(t4).await, Err(Cancelled));
        assert_eq!(semaphore.available_permits(), 0);
        semaphore.release();
        assert!(!semaphore.locked());
    });
}

pub(crate) fn permit_drop_releases<R: Runtime>() {
    R::block_on(async {
        let semaphore = Semaphore::new(2);
        let first = semaphore.acquire().await;
        let second = semaphore.acquire().await;
        assert_eq!(first.num_permits(), 1);
        assert_eq!(semaphore.available_permits(), 0);
        assert!(semaphore.locked());
        drop(first);
        assert_eq!(semaphore.available_permits(), 1);
        assert!(!semaphore.locked());
        drop(second);
        assert_eq!(semaphore.available_permits(), 2);
        let both = semaphore.try_acquire_many(2).expect("two are free");
        assert_eq!(both.num_permits(), 2);
        assert_eq!(semaphore.available_permits(), 0);
        drop(both);
        assert_eq!(semaphore.available_permits(), 2);
    });
}

pub(crate) fn forget_then_release<R: Runtime>() {
    R::block_on(async {
        let semaphore = Semaphore::new(1);
        semaphore.acquire().await.forget();
        assert_eq!(semaphore.available_permits(), 0);
        assert!(semaphore.locked());
        semaphore.release();
        assert_eq!(semaphore.available_permits(), 1);
        // asyncio lets release() go above the initial value.
        semaphore.add_permits(2);
        assert_eq!(semaphore.available_permits(), 3);
        semaphore
            .acquire_many(3)
            .await
            .expect("within the bound")
            .forget();
        assert_eq!(semaphore.available_permits(), 0);
        let mut waiter = semaphore.acquire();
        assert_pending(&mut waiter);
        semaphore.release();
        ready(&mut waiter).forget();
        assert_eq!(semaphore.available_permits(), 0);
        // The count is capped, never overflows.
        let huge = Semaphore::new(usize::MAX);
        assert_eq!(huge.available_permits(), Semaphore::MAX_PERMITS);
        huge.add_permits(usize::MAX);
        assert_eq!(huge.available_permits(), Semaphore::MAX_PERMITS);
    });
}

pub(crate) fn locked_and_available_permits<R: Runtime>() {
    R::block_on(async {
        let semaphore = Semaphore::new(0);
        assert!(semaphore.locked());
        assert_eq!(semaphore.available_permits(), 0);
        let semaphore = Semaphore::new(1);
        assert!(!semaphore.locked());
        let permit = semaphore.acquire().await;
        assert!(semaphore.locked());
        drop(permit);
        assert!(!semaphore.locked());
        // Locked while anyone is queued, even with permits free (asyncio
        // 3.13: "value == 0 or any waiter not cancelled").
        let semaphore = Semaphore::new(3);
        let held = semaphore.acquire_many(2).await.expect("within the bound");
        let mut big = semaphore.acquire_many(3);
        assert_pending(&mut big);
        assert_eq!(semaphore.available_permits(), 1);
        assert!(semaphore.locked());
        drop(big);
        assert!(!semaphore.locked());
        drop(held);
        assert_eq!(semaphore.available_permits(), 3);
    });
}

pub(crate) fn bounded_release_beyond_the_bound_fails_and_changes_nothing<R: Runtime>() {
    R::block_on(async {
        let semaphore = BoundedSemaphore::new(2);
        assert_eq!(semaphore.bound(), 2);
        assert_eq!(semaphore.release(), Err(ReleaseError));
        assert_eq!(semaphore.available_permits(), 2);
        semaphore.acquire().await.forget();
        semaphore.acquire().await.forget();
        assert!(semaphore.locked());
        let mut waiter = semaphore.acquire();
        assert_pending(&mut waiter);
        assert_eq!(semaphore.release(), Ok(()));
        // Handed to the waiter.
        ready(&mut waiter).forget();
        assert_eq!(semaphore.release(), Ok(()));
        assert_eq!(semaphore.release(), Ok(()));
        assert_eq!(semaphore.available_permits(), 2);
        assert_eq!(semaphore.release(), Err(ReleaseError));
        assert_eq!(semaphore.available_permits(), 2);
        assert!(!semaphore.locked());
        let both = semaphore.try_acquire_many(2).expect("both are free");
        assert_eq!(both.num_permits(), 2);
    });
}

pub(crate) fn bounded_acquire_many_beyond_the_bound_fails_at_once<R: Runtime>() {
    R::block_on(async {
        let semaphore = BoundedSemaphore::new(2);
        let held = semaphore.acquire().await;
        let error = ready(&mut semaphore.acquire_many(3)).expect_err("beyond the bound");
        assert_eq!(
            error,
            AcquireError {
                requested: 3,
                limit: 2
            }
        );
        // It was never queued: nobody is held back by it.
        let other = semaphore.try_acquire().expect("nobody is queued");
        let mut both = semaphore.acquire_many(2);
        assert_pending(&mut both);
        drop(held);
        assert_pending(&mut both);
        drop(other);
        assert_eq!(ready(&mut both).expect("within the bound").num_permits(), 2);

        let unbounded = Semaphore::new(1);
        let error = ready(&mut unbounded.acquire_many(Semaphore::MAX_PERMITS + 1))
            .expect_err("beyond the most a semaphore holds");
        assert_eq!(error.limit, Semaphore::MAX_PERMITS);
        assert_eq!(unbounded.available_permits(), 1);
    });
}
