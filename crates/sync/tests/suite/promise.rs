//! `Promise`: asyncio's `Future`, set once and awaited by many (CPython's
//! `test_futures`: result, cancel, InvalidStateError).

use tulip_sync::{Promise, PromiseError};

use super::{Counter, Runtime, assert_pending, ready, settle, until};

/// Spawns a task that counts itself in `queued`, then awaits `promise`.
fn spawn_waiter<R: Runtime, T: Clone + Send + 'static>(
    promise: &Promise<T>,
    queued: &Counter,
) -> R::Handle<Result<T, PromiseError>> {
    let (promise, queued) = (promise.clone(), queued.clone());
    R::spawn(async move {
        queued.incr();
        promise.await
    })
}

pub(crate) fn every_waiter_gets_the_result_set_after_it_started_waiting<R: Runtime>() {
    R::block_on(async {
        let promise = Promise::new();
        let queued = Counter::new();
        let mut waiters = Vec::new();
        for _ in 0..3 {
            waiters.push(spawn_waiter::<R, _>(&promise, &queued));
        }
        until::<R>("the waiters are queued", || queued.get() == 3).await;
        settle::<R>().await;
        assert!(waiters.iter().all(|waiter| !R::is_finished(waiter)));
        assert!(!promise.done());
        promise.set_result(String::from("done")).unwrap();
        assert!(promise.done() && !promise.cancelled());
        for waiter in waiters {
            assert_eq!(R::output(waiter).await, Ok(String::from("done")));
        }
    });
}

pub(crate) fn waiting_on_a_finished_promise_is_immediate<R: Runtime>() {
    R::block_on(async {
        let promise = Promise::new();
        let mut early = promise.wait();
        assert_pending(&mut early);
        assert_eq!(promise.result(), Err(PromiseError::NotDone));
        promise.set_result(7).unwrap();
        assert_eq!(ready(&mut early), Ok(7));
        // Done: every wait returns at once, as many times as asked.
        assert_eq!(ready(&mut promise.wait()), Ok(7));
        assert_eq!((&promise).await, Ok(7));
        assert_eq!(promise.result(), Ok(7));
    });
}

pub(crate) fn a_second_result_is_refused_and_given_back<R: Runtime>() {
    R::block_on(async {
        let promise = Promise::new();
        promise.set_result(vec![1]).unwrap();
        let refused = promise.set_result(vec![2]).unwrap_err();
        assert_eq!(refused.into_inner(), vec![2], "the value comes back");
        assert_eq!(promise.result(), Ok(vec![1]), "the first result stays");
        assert!(!promise.cancel(), "a finished promise cannot be cancelled");
        assert!(!promise.cancelled());
    });
}

pub(crate) fn cancel_fails_every_waiter_and_refuses_a_result<R: Runtime>() {
    R::block_on(async {
        let promise = Promise::<u32>::new();
        let queued = Counter::new();
        let waiter = spawn_waiter::<R, _>(&promise, &queued);
        until::<R>("the waiter is queued", || queued.get() == 1).await;
        let mut hand_polled = promise.wait();
        assert_pending(&mut hand_polled);
        assert!(promise.cancel());
        assert!(!promise.cancel(), "cancelled once");
        assert!(promise.done() && promise.cancelled());
        assert_eq!(ready(&mut hand_polled), Err(PromiseError::Cancelled));
        assert_eq!(R::output(waiter).await, Err(PromiseError::Cancelled));
        assert_eq!(promise.result(), Err(PromiseError::Cancelled));
        assert_eq!(promise.set_result(5).unwrap_err().into_inner(), 5);
        assert_eq!(promise.clone().await, Err(PromiseError::Cancelled));
    });
}

pub(crate) fn dropped_waiters_leave_the_promise_and_the_others_alone<R: Runtime>() {
    R::block_on(async {
        let promise = Promise::new();
        let queued = Counter::new();
        let mut dropped_while_queued = promise.wait();
        assert_pending(&mut dropped_while_queued);
        let task = spawn_waiter::<R, _>(&promise, &queued);
        until::<R>("the task is queued", || queued.get() == 1).await;
        let mut dropped_after_set = promise.wait();
        let mut kept = promise.wait();
        assert_pending(&mut dropped_after_set);
        assert_pending(&mut kept);
        assert!(format!("{promise:?}").contains("waiters: 4"), "{promise:?}");
        drop(dropped_while_queued);
        // Unlinked at once: a dropped wait leaves no node behind.
        assert!(format!("{promise:?}").contains("waiters: 3"), "{promise:?}");
        assert!(
            !promise.done(),
            "dropping a wait does not cancel the promise"
        );
        promise.set_result('x').unwrap();
        assert!(format!("{promise:?}").contains("waiters: 0"), "{promise:?}");
        // Woken but dropped: a promise's wake-up is not exclusive, the
        // others still get the result.
        drop(dropped_after_set);
        assert_eq!(ready(&mut kept), Ok('x'));
        assert_eq!(R::output(task).await, Ok('x'));
    });
}

pub(crate) fn a_cancelled_waiting_task_does_not_cancel_the_promise<R: Runtime>() {
    R::block_on(async {
        let promise = Promise::new();
        let queued = Counter::new();
        let waiter = spawn_waiter::<R, _>(&promise, &queued);
        until::<R>("the waiter is queued", || queued.get() == 1).await;
        R::cancel(&waiter);
        until::<R>("the waiter is cancelled", || R::is_finished(&waiter)).await;
        assert!(!promise.done());
        promise.set_result(1).unwrap();
        assert_eq!(promise.wait().await, Ok(1));
    });
}

pub(crate) fn a_result_set_from_another_thread_wakes_the_waiter<R: Runtime>() {
    R::block_on(async {
        let promise = Promise::new();
        let queued = Counter::new();
        let waiter = spawn_waiter::<R, _>(&promise, &queued);
        until::<R>("the waiter is queued", || queued.get() == 1).await;
        let setter = std::thread::spawn({
            let promise = promise.clone();
            move || promise.set_result(String::from("from a thread"))
        });
        // The loop must not block on the join: the waiter wakes through its
        // waker, from the other thread.
        until::<R>("the setter is done", || setter.is_finished()).await;
        setter.join().unwrap().unwrap();
        assert_eq!(R::output(waiter).await, Ok(String::from("from a thread")));
    });
}
