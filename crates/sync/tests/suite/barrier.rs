//! `Barrier`: arrival indices, cyclic reuse, abort and reset, parties that
//! leave (CPython's `BarrierTests`).

use std::sync::Arc;

use tulip_sync::{Barrier, BrokenBarrier, InvalidParties};

use super::{Cancelled, Runtime, assert_pending, ready, until};

/// Spawns a task waiting on `barrier` and waits until it is counted there
/// (`n_waiting` reaches `expected`), so arrival order is spawn order.
async fn spawn_waiter<R: Runtime>(
    barrier: &Arc<Barrier>,
    expected: usize,
) -> R::Handle<Result<usize, BrokenBarrier>> {
    let task = R::spawn({
        let barrier = Arc::clone(barrier);
        async move { barrier.wait().await }
    });
    until::<R>("the task waits", || barrier.n_waiting() == expected).await;
    task
}

pub(crate) fn indices_follow_arrival_order<R: Runtime>() {
    R::block_on(async {
        let barrier = Arc::new(Barrier::new(4).expect("parties > 0"));
        assert_eq!(barrier.parties(), 4);
        let mut tasks = Vec::new();
        for i in 0..3 {
            tasks.push(spawn_waiter::<R>(&barrier, i + 1).await);
        }
        // The last party completes the group without waiting.
        assert_eq!(barrier.wait().await, Ok(3));
        let mut indices = Vec::new();
        for task in tasks {
            indices.push(R::output(task).await);
        }
        assert_eq!(indices, [Ok(0), Ok(1), Ok(2)]);
        assert_eq!(barrier.n_waiting(), 0);
        assert!(!barrier.broken());
    });
}

pub(crate) fn cyclic_reuse_over_two_rounds<R: Runtime>() {
    R::block_on(async {
        let barrier = Arc::new(Barrier::new(2).expect("parties > 0"));
        for _round in 0..2 {
            let first = spawn_waiter::<R>(&barrier, 1).await;
            let second = R::spawn({
                let barrier = Arc::clone(&barrier);
                async move { barrier.wait().await }
            });
            assert_eq!(R::output(first).await, Ok(0));
            assert_eq!(R::output(second).await, Ok(1));
            assert_eq!(barrier.n_waiting(), 0);
            assert!(!barrier.broken());
        }
        // The next group may start before the last one has run.
        let mut a = barrier.wait();
        assert_pending(&mut a);
        assert_eq!(ready(&mut barrier.wait()), Ok(1));
        let mut c = barrier.wait();
        assert_pending(&mut c);
        assert_eq!(barrier.n_waiting(), 1);
        assert_eq!(ready(&mut barrier.wait()), Ok(1));
        assert_eq!(ready(&mut a), Ok(0));
        assert_eq!(ready(&mut c), Ok(0));
    });
}

pub(crate) fn abort_breaks_waiters_and_later_waits<R: Runtime>() {
    R::block_on(async {
        let barrier = Arc::new(Barrier::new(3).expect("parties > 0"));
        let first = spawn_waiter::<R>(&barrier, 1).await;
        let second = spawn_waiter::<R>(&barrier, 2).await;
        barrier.abort();
        assert!(barrier.broken());
        assert_eq!(R::output(first).await, Err(BrokenBarrier));
        assert_eq!(R::output(second).await, Err(BrokenBarrier));
        assert_eq!(barrier.n_waiting(), 0);
        // Broken until reset: later waits fail at once, even a full group.
        for _ in 0..3 {
            assert_eq!(ready(&mut barrier.wait()), Err(BrokenBarrier));
        }
        barrier.abort();
        assert!(barrier.broken());
    });
}

pub(crate) fn reset_fails_waiters_and_makes_the_barrier_usable<R: Runtime>() {
    R::block_on(async {
        let barrier = Arc::new(Barrier::new(2).expect("parties > 0"));
        let waiter = spawn_waiter::<R>(&barrier, 1).await;
        barrier.reset();
        assert_eq!(R::output(waiter).await, Err(BrokenBarrier));
        assert!(!barrier.broken());
        assert_eq!(barrier.n_waiting(), 0);
        let mut first = barrier.wait();
        assert_pending(&mut first);
        assert_eq!(ready(&mut barrier.wait()), Ok(1));
        assert_eq!(ready(&mut first), Ok(0));
        // Reset also repairs an aborted barrier.
        barrier.abort();
        barrier.reset();
        assert!(!barrier.broken());
        let waiter = spawn_waiter::<R>(&barrier, 1).await;
        assert_eq!(barrier.wait().await, Ok(1));
        assert_eq!(R::output(waiter).await, Ok(0));
    });
}

pub(crate) fn n_waiting_parties_and_zero_parties<R: Runtime>() {
    R::block_on(async {
        assert_eq!(Barrier::new(0).err(), Some(InvalidParties));
        let alone = Barrier::new(1).expect("parties > 0");
        assert_eq!(alone.wait().await, Ok(0));
        assert_eq!(alone.wait().await, Ok(0));
        assert_eq!(alone.n_waiting(), 0);
        let barrier = Barrier::new(3).expect("parties > 0");
        assert_eq!(barrier.n_waiting(), 0);
        let mut a = barrier.wait();
        assert_eq!(barrier.n_waiting(), 0, "counted once polled");
        assert_pending(&mut a);
        assert_eq!(barrier.n_waiting(), 1);
        let mut b = barrier.wait();
        assert_pending(&mut b);
        assert_pending(&mut a);
        assert_eq!(barrier.n_waiting(), 2);
        assert_eq!(ready(&mut barrier.wait()), Ok(2));
        assert_eq!(barrier.n_waiting(), 0);
        assert_eq!(ready(&mut b), Ok(1));
        assert_eq!(ready(&mut a), Ok(0));
    });
}

pub(crate) fn waiter_dropped_before_the_trip_leaves_the_group<R: Runtime>() {
    R::block_on(async {
        let barrier = Arc::new(Barrier::new(2).expect("parties > 0"));
        let mut left = barrier.wait();
        assert_pending(&mut left);
        assert_eq!(barrier.n_waiting(), 1);
        drop(left);
        assert_eq!(barrier.n_waiting(), 0);
        let mut first = barrier.wait();
        assert_pending(&mut first);
        assert_eq!(ready(&mut barrier.wait()), Ok(1));
        assert_eq!(ready(&mut first), Ok(0));

        // A cancelled task leaves too (CPython's
        // test_filling_tasks_cancel_one). asyncio gives each party the count
        // at its arrival, so there the one that stays keeps 1 and the
        // newcomer gets 1 as well; tulip numbers the parties of the group
        // that trips, 0 to parties - 1.
        let barrier = Arc::new(Barrier::new(3).expect("parties > 0"));
        let cancelled = spawn_waiter::<R>(&barrier, 1).await;
        let stays = spawn_waiter::<R>(&barrier, 2).await;
        R::cancel(&cancelled);
        assert_eq!(R::join(cancelled).await, Err(Cancelled));
        assert_eq!(barrier.n_waiting(), 1);
        let newcomer = spawn_waiter::<R>(&barrier, 2).await;
        assert_eq!(barrier.wait().await, Ok(2));
        assert_eq!(R::output(stays).await, Ok(0));
        assert_eq!(R::output(newcomer).await, Ok(1));
    });
}

pub(crate) fn waiter_dropped_after_the_trip_changes_nothing<R: Runtime>() {
    R::block_on(async {
        let barrier = Barrier::new(2).expect("parties > 0");
        let mut released = barrier.wait();
        assert_pending(&mut released);
        assert_eq!(ready(&mut barrier.wait()), Ok(1));
        drop(released);
        assert_eq!(barrier.n_waiting(), 0);
        assert!(!barrier.broken());
        let mut first = barrier.wait();
        assert_pending(&mut first);
        assert_eq!(barrier.n_waiting(), 1);
        assert_eq!(ready(&mut barrier.wait()), Ok(1));
        assert_eq!(ready(&mut first), Ok(0));
    });
}
