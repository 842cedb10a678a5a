//! Sleeping and deadlines on virtual time: exact, instant, deterministic.

use std::cell::Cell;
use std::future::pending;
use std::rc::Rc;
use std::time::Duration;

use tulip_executor::{
    EventLoop, Timeout, TimeoutError, sleep, sleep_until, spawn_local, timeout, timeout_at,
    wait_for, yield_now,
};

fn virtual_loop() -> EventLoop {
    EventLoop::builder()
        .virtual_time()
        .build()
        .expect("reactor")
}

#[test]
fn sleep_advances_virtual_time_exactly() {
    let event_loop = virtual_loop();
    let start = event_loop.time();
    event_loop
        .run_until_complete(async {
            sleep(Duration::from_millis(1500)).await;
            sleep(Duration::from_secs(3600)).await;
        })
        .unwrap();
    assert_eq!(event_loop.time() - start, Duration::from_millis(3_601_500));
}

#[test]
fn sleep_until_a_past_deadline_completes_at_once() {
    let event_loop = virtual_loop();
    let start = event_loop.time();
    event_loop.run_until_complete(sleep_until(start)).unwrap();
    assert_eq!(event_loop.time(), start);
}

#[test]
fn concurrent_sleeps_overlap() {
    let event_loop = virtual_loop();
    let start = event_loop.time();
    event_loop
        .run_until_complete(async {
            let tasks: Vec<_> = (1..=100u64)
                .map(|i| spawn_local(sleep(Duration::from_millis(i))))
                .collect();
            for task in tasks {
                task.await.unwrap();
            }
        })
        .unwrap();
    assert_eq!(event_loop.time() - start, Duration::from_millis(100));
}

#[test]
fn timeout_drops_the_future_at_the_deadline() {
    let event_loop = virtual_loop();
    let start = event_loop.time();
    let dropped = Rc::new(Cell::new(false));
    let flag = dropped.clone();
    let outcome = event_loop
        .run_until_complete(async move {
            let guard = DropFlag(flag);
            timeout(Duration::from_secs(2), async move {
                let _guard = guard;
                pending::<()>().await
            })
            .await
        })
        .unwrap();
    assert_eq!(outcome, Err(TimeoutError));
    assert!(dropped.get());
    assert_eq!(event_loop.time() - start, Duration::from_secs(2));
}

#[test]
fn timeout_returns_the_value_of_a_future_that_beats_it() {
    let event_loop = virtual_loop();
    let start = event_loop.time();
    let outcome = event_loop
        .run_until_complete(timeout_at(start + Duration::from_secs(10), async {
            sleep(Duration::from_secs(3)).await;
            "made it"
        }))
        .unwrap();
    assert_eq!(outcome, Ok("made it"));
    assert_eq!(event_loop.time() - start, Duration::from_secs(3));
}

#[test]
#[cfg_attr(
    miri,
    ignore = "a real 1 ms deadline: under Miri the steps before `set` take longer than that"
)]
fn work_woken_before_the_deadline_keeps_its_result_even_if_polled_after_it() {
    // asyncio: the work's wake-up, queued before the deadline fell due,
    // runs before the timeout's callback, so `wait_for` returns the result.
    // Here the loop is held up past the deadline between the two.
    let event_loop = EventLoop::new().expect("reactor");
    let outcome = event_loop
        .run_until_complete(async {
            let (ready, set) = oneshot_flag();
            let waiter = spawn_local(wait_for(ready, Some(Duration::from_millis(1))));
            yield_now().await; // the waiter is pending on the flag
            set.set();
            std::thread::sleep(Duration::from_millis(20)); // the deadline passes
            waiter.await.expect("the waiter does not panic")
        })
        .unwrap();
    assert_eq!(outcome, Ok("set"));
}

/// A flag a task waits on, set from elsewhere on the same thread.
fn oneshot_flag() -> (impl std::future::Future<Output = &'static str>, Setter) {
    let state = Rc::new((Cell::new(false), Cell::new(None::<std::task::Waker>)));
    let waiting = state.clone();
    let future = std::future::poll_fn(move |cx| {
        if waiting.0.get() {
            std::task::Poll::Ready("set")
        } else {
            waiting.1.set(Some(cx.waker().clone()));
            std::task::Poll::Pending
        }
    });
    (future, Setter(state))
}

/// Sets a [`oneshot_flag`] and wakes its waiter.
struct Setter(Rc<(Cell<bool>, Cell<Option<std::task::Waker>>)>);

impl Setter {
    fn set(&self) {
        self.0.0.set(true);
        if let Some(waker) = self.0.1.take() {
            waker.wake();
        }
    }
}

#[test]
fn wait_for_zero_on_a_ready_future_returns_its_value() {
    let event_loop = virtual_loop();
    assert_eq!(
        event_loop
            .run_until_complete(wait_for(async { 42 }, Some(Duration::ZERO)))
            .unwrap(),
        Ok(42)
    );
    // A future that needs one more step does not make it in zero time.
    let late = event_loop
        .run_until_complete(wait_for(
            async {
                yield_now().await;
                1
            },
            Some(Duration::ZERO),
        ))
        .unwrap();
    assert_eq!(late, Err(TimeoutError));
}

#[test]
fn wait_for_none_waits_as_long_as_it_takes() {
    let event_loop = virtual_loop();
    let start = event_loop.time();
    let value = event_loop
        .run_until_complete(wait_for(
            async {
                sleep(Duration::from_secs(86_400)).await;
                5
            },
            None,
        ))
        .unwrap();
    assert_eq!(value, Ok(5));
    assert_eq!(event_loop.time() - start, Duration::from_secs(86_400));
}

#[test]
fn a_rescheduled_timeout_fires_at_the_new_deadline() {
    for (initial, moved_to) in [(1u64, 7u64), (10, 4)] {
        let event_loop = virtual_loop();
        let start = event_loop.time();
        let scope = Timeout::after(Duration::from_secs(initial));
        let handle = scope.clone();
        let outcome = event_loop
            .run_until_complete(scope.run(async move {
                // Give the scope a chance to arm first, then move it.
                yield_now().await;
                handle.reschedule(Some(start + Duration::from_secs(moved_to)));
                sleep(Duration::from_secs(100)).await;
            }))
            .unwrap();
        assert_eq!(outcome, Err(TimeoutError));
        assert!(scope.expired());
        assert_eq!(event_loop.time() - start, Duration::from_secs(moved_to));
    }
}

#[test]
fn a_timeout_rescheduled_to_never_does_not_fire() {
    let event_loop = virtual_loop();
    let start = event_loop.time();
    let scope = Timeout::after(Duration::from_secs(1));
    let handle = scope.clone();
    let outcome = event_loop
        .run_until_complete(scope.run(async move {
            handle.reschedule(None);
            sleep(Duration::from_secs(50)).await;
            "finished"
        }))
        .unwrap();
    assert_eq!(outcome, Ok("finished"));
    assert!(!scope.expired());
    assert_eq!(scope.when(), None);
    assert_eq!(event_loop.time() - start, Duration::from_secs(50));
}

#[test]
fn a_rescheduled_timeout_from_another_task_is_seen() {
    let event_loop = virtual_loop();
    let start = event_loop.time();
    let scope = Timeout::after(Duration::from_secs(2));
    let extender = scope.clone();
    let outcome = event_loop
        .run_until_complete(async move {
            spawn_local(async move {
                sleep(Duration::from_secs(1)).await;
                extender.reschedule(Some(start + Duration::from_secs(30)));
            })
            .detach();
            scope
                .run(async {
                    sleep(Duration::from_secs(20)).await;
                    "extended"
                })
                .await
        })
        .unwrap();
    assert_eq!(outcome, Ok("extended"));
    assert_eq!(event_loop.time() - start, Duration::from_secs(20));
}

struct DropFlag(Rc<Cell<bool>>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.set(true);
    }
}
