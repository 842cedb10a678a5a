//! asyncio's semantics of gather, wait, shield and as_completed, pinned on a
//! virtual-time loop: exact outputs, orders, interleavings, instants and
//! drop counts.

use std::cell::{Cell, RefCell};
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use futures_core::{FusedStream, Stream};
use tulip_executor::combinators::{AsCompleted, GatherAll, Shield, TryGather, Wait, shield_local};
use tulip_executor::{
    EventLoop, JoinHandle, ReturnWhen, as_completed, gather, gather_all, shield, sleep,
    sleep_until, spawn_local, timeout, try_gather, wait, yield_now,
};

fn virtual_loop() -> EventLoop {
    EventLoop::builder().virtual_time().build().unwrap()
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// Counts its drops.
struct DropGuard(Rc<Cell<usize>>);

impl Drop for DropGuard {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

/// Counts its drops, and is `Send` (for `shield`, which spawns with `spawn`).
struct SendDropGuard(Arc<AtomicUsize>);

impl Drop for SendDropGuard {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

type Log = Rc<RefCell<Vec<String>>>;

fn log() -> Log {
    Rc::new(RefCell::new(Vec::new()))
}

fn push(log: &Log, line: impl Into<String>) {
    log.borrow_mut().push(line.into());
}

/// Seconds since `start` on the running loop's clock.
fn elapsed(start: Instant) -> Duration {
    tulip_executor::Handle::current().unwrap().time() - start
}

fn now() -> Instant {
    tulip_executor::Handle::current().unwrap().time()
}

/// Counts how many times the inner future is polled.
struct CountPolls<F> {
    inner: Pin<Box<F>>,
    polls: Rc<Cell<usize>>,
}

impl<F: Future> Future for CountPolls<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.polls.set(self.polls.get() + 1);
        self.inner.as_mut().poll(cx)
    }
}

// ---------------------------------------------------------------- gather!

async fn factorial(name: &'static str, number: u64, log: Log) -> u64 {
    let mut f = 1;
    for i in 2..=number {
        push(&log, format!("Task {name}: Compute factorial({i})..."));
        sleep(secs(1)).await;
        f *= i;
    }
    push(&log, format!("Task {name}: factorial({number}) = {f}"));
    f
}

#[test]
fn gather_interleaves_as_asyncio_prints_the_factorial_program() {
    let event_loop = virtual_loop();
    let start = event_loop.time();
    let lines = log();
    let results = event_loop
        .run_until_complete({
            let lines = lines.clone();
            async move {
                gather!(
                    factorial("A", 2, lines.clone()),
                    factorial("B", 3, lines.clone()),
                    factorial("C", 4, lines.clone())
                )
                .await
            }
        })
        .unwrap();
    assert_eq!(results, (2, 6, 24));
    assert_eq!(
        *lines.borrow(),
        [
            "Task A: Compute factorial(2)...",
            "Task B: Compute factorial(2)...",
            "Task C: Compute factorial(2)...",
            "Task A: factorial(2) = 2",
            "Task B: Compute factorial(3)...",
            "Task C: Compute factorial(3)...",
            "Task B: factorial(3) = 6",
            "Task C: Compute factorial(4)...",
            "Task C: factorial(4) = 24",
        ]
    );
    assert_eq!(event_loop.time() - start, secs(3));
}

#[test]
fn gather_polls_every_future_in_argument_order_on_each_poll() {
    async fn steps(name: &'static str, count: usize, log: Log) -> &'static str {
        for i in 0..count {
            push(&log, format!("{name}{i}"));
            yield_now().await;
        }
        name
    }
    let event_loop = virtual_loop();
    let lines = log();
    let names = event_loop
        .run_until_complete({
            let lines = lines.clone();
            async move {
                gather!(
                    steps("a", 3, lines.clone()),
                    steps("b", 1, lines.clone()),
                    steps("c", 2, lines)
                )
                .await
            }
        })
        .unwrap();
    assert_eq!(names, ("a", "b", "c"));
    assert_eq!(*lines.borrow(), ["a0", "b0", "c0", "a1", "c1", "a2"]);
}

#[test]
fn gather_gives_heterogeneous_outputs_in_argument_order() {
    let event_loop = virtual_loop();
    let start = event_loop.time();
    let outputs = event_loop
        .run_until_complete(async {
            gather!(
                async {
                    sleep(secs(3)).await;
                    7_u8
                },
                async {
                    sleep(secs(1)).await;
                    String::from("text")
                },
                async { vec![1, 2] },
                spawn_local(async {
                    sleep(secs(2)).await;
                    'x'
                }),
            )
            .await
        })
        .unwrap();
    assert_eq!(outputs.0, 7);
    assert_eq!(outputs.1, "text");
    assert_eq!(outputs.2, [1, 2]);
    assert_eq!(outputs.3.unwrap(), 'x');
    assert_eq!(event_loop.time() - start, secs(3));
}

#[test]
fn gather_takes_zero_one_and_twelve_futures() {
    let event_loop = virtual_loop();
    event_loop
        .run_until_complete(async {
            let () = gather!().await;
            assert_eq!(gather!(async { 1 }).await, (1,));
            assert_eq!(gather!(async { 1 },).await, (1,));
            let twelve = gather!(
                async { 1 },
                async { 2 },
                async { 3 },
                async { 4 },
                async { 5 },
                async { 6 },
                async { 7 },
                async { 8 },
                async { 9 },
                async { 10 },
                async { 11 },
                async { "twelve" },
            )
            .await;
            assert_eq!(twelve, (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, "twelve"));
        })
        .unwrap();
}

#[test]
fn gather_drops_each_future_when_it_finishes_and_the_rest_when_dropped() {
    let event_loop = virtual_loop();
    let start = event_loop.time();
    let drops = Rc::new(Cell::new(0));
    let (outcome, drops_at_two) = event_loop
        .run_until_complete({
            let drops = drops.clone();
            async move {
                let sleeper = |delay: u64, guard: DropGuard| async move {
                    let _guard = guard;
                    sleep(secs(delay)).await;
                };
                let probe = drops.clone();
                let mut drops_at_two = None;
                let outcome = timeout(secs(3), async {
                    gather!(
                        sleeper(1, DropGuard(drops.clone())),
                        sleeper(10, DropGuard(drops.clone())),
                        sleeper(20, DropGuard(drops.clone())),
                        async {
                            sleep(secs(2)).await;
                            drops_at_two = Some(probe.get());
                        }
                    )
                    .await
                })
                .await;
                (outcome, drops_at_two)
            }
        })
        .unwrap();
    // The first future was dropped as soon as it finished, at one second.
    assert_eq!(drops_at_two, Some(1));
    // The timeout dropped the gather, and with it the two still running.
    assert!(outcome.is_err());
    assert_eq!(drops.get(), 3);
    assert_eq!(event_loop.time() - start, secs(3));
}

// ---------------------------------------------------------------- gather_all

#[test]
fn gather_all_gives_outputs_in_input_order_whatever_the_completion_order() {
    let event_loop = virtual_loop();
    let start = event_loop.time();
    let outputs = event_loop
        .run_until_complete(gather_all((1..=5_u64).map(|i| async move {
            sleep(secs(6 - i)).await;
            i * 100
        })))
        .unwrap();
    assert_eq!(outputs, [100, 200, 300, 400, 500]);
    assert_eq!(event_loop.time() - start, secs(5));
}

#[test]
fn gather_all_of_nothing_is_an_empty_vec_at_once() {
    let event_loop = virtual_loop();
    let start = event_loop.time();
    let outputs = event_loop
        .run_until_complete(gather_all(Vec::<std::future::Ready<u8>>::new()))
        .unwrap();
    assert!(outputs.is_empty());
    assert_eq!(event_loop.time(), start);
}

#[test]
fn gather_all_keeps_errors_as_values_like_return_exceptions() {
    let event_loop = virtual_loop();
    let results = event_loop
        .run_until_complete(gather_all([3_u64, 1, 2].map(|delay| async move {
            sleep(secs(delay)).await;
            if delay == 1 {
                Err(format!("failed after {delay}"))
            } else {
                Ok(delay)
            }
        })))
        .unwrap();
    assert_eq!(results, [Ok(3), Err("failed after 1".to_owned()), Ok(2)]);
}

#[test]
fn gather_all_polls_only_the_futures_that_were_woken() {
    let event_loop = virtual_loop();
    let counters: Vec<Rc<Cell<usize>>> = (0..50).map(|_| Rc::new(Cell::new(0))).collect();
    let futures: Vec<_> = counters
        .iter()
        .enumerate()
        .map(|(i, polls)| CountPolls {
            inner: Box::pin(async move {
                sleep(Duration::from_millis(10 * (i as u64 + 1))).await;
                i
            }),
            polls: polls.clone(),
        })
        .collect();
    let outputs = event_loop.run_until_complete(gather_all(futures)).unwrap();
    assert_eq!(outputs, (0..50).collect::<Vec<_>>());
    // Once to start the sleep, once when it ends: never for another's wake-up.
    for polls in &counters {
        assert_eq!(polls.get(), 2);
    }
}

#[test]
fn dropping_gather_all_drops_the_unfinished_futures() {
    let event_loop = virtual_loop();
    let drops = Rc::new(Cell::new(0));
    let outcome = event_loop
        .run_until_complete({
            let drops = drops.clone();
            async move {
                let futures = (1..=4_u64).map(|i| {
                    let guard = DropGuard(drops.clone());
                    async move {
                        let _guard = guard;
                        sleep(secs(i * 10)).await;
                    }
                });
                timeout(secs(25), gather_all(futures)).await
            }
        })
        .unwrap();
    assert!(outcome.is_err());
    assert_eq!(drops.get(), 4);
}

// ---------------------------------------------------------------- try_gather

#[test]
fn try_gather_gives_every_value_in_input_order() {
    let event_loop = virtual_loop();
    let values = event_loop
        .run_until_complete(try_gather([2_u64, 1, 3].map(|delay| async move {
            sleep(secs(delay)).await;
            Ok::<_, String>(delay * 2)
        })))
        .unwrap();
    assert_eq!(values, Ok(vec![4, 2, 6]));
}

#[test]
fn try_gather_returns_the_first_error_in_time_and_drops_the_rest() {
    let event_loop = virtual_loop();
    let start = event_loop.time();
    let drops = Rc::new(Cell::new(0));
    let (outcome, drops_after) = event_loop
        .run_until_complete({
            let drops = drops.clone();
            async move {
                let plan: [(u64, Result<u32, &str>); 4] =
                    [(3, Ok(1)), (1, Err("b")), (2, Err("c")), (10, Ok(4))];
                let futures = plan.map(|(delay, result)| {
                    let guard = DropGuard(drops.clone());
                    async move {
                        let _guard = guard;
                        sleep(secs(delay)).await;
                        result
                    }
                });
                let outcome = try_gather(futures).await;
                (outcome, drops.get())
            }
        })
        .unwrap();
    assert_eq!(outcome, Err("b"));
    // All four were dropped by the time the error came out: the failed one
    // when it finished, the other three by try_gather.
    assert_eq!(drops_after, 4);
    assert_eq!(event_loop.time() - start, secs(1));
}

#[test]
fn try_gather_takes_the_first_in_input_order_among_simultaneous_errors() {
    let event_loop = virtual_loop();
    let outcome = event_loop
        .run_until_complete(async {
            let deadline = now() + secs(1);
            // "z" registers its timer first and "y" last, so "z" wakes first;
            // "x" fails later.
            try_gather(
                [("x", 0), ("y", 3), ("z", 1)].map(|(name, yields)| async move {
                    for _ in 0..yields {
                        yield_now().await;
                    }
                    if name == "x" {
                        sleep_until(deadline + secs(1)).await;
                    } else {
                        sleep_until(deadline).await;
                    }
                    Err::<(), _>(name)
                }),
            )
            .await
        })
        .unwrap();
    assert_eq!(outcome, Err("y"));
}

// ---------------------------------------------------------------- wait

/// Spawns a task that sleeps `delay` seconds and gives it.
fn sleeper(delay: u64) -> JoinHandle<u64> {
    spawn_local(async move {
        sleep(secs(delay)).await;
        delay
    })
}

async fn outputs(handles: Vec<JoinHandle<u64>>) -> Vec<u64> {
    let mut outputs = Vec::new();
    for handle in handles {
        assert!(handle.is_finished());
        outputs.push(handle.await.unwrap());
    }
    outputs
}

#[test]
fn wait_all_completed_returns_every_handle_done_with_its_output_intact() {
    let event_loop = virtual_loop();
    event_loop
        .run_until_complete(async {
            let start = now();
            let (done, pending) =
                wait([3, 1, 2].map(sleeper), None, ReturnWhen::AllCompleted).await;
            assert_eq!(elapsed(start), secs(3));
            assert!(pending.is_empty());
            assert_eq!(outputs(done).await, [3, 1, 2]);
        })
        .unwrap();
}

#[test]
fn wait_first_completed_returns_at_the_first_end_and_leaves_the_rest_running() {
    let event_loop = virtual_loop();
    event_loop
        .run_until_complete(async {
            let start = now();
            let (done, pending) =
                wait([4, 2, 6, 2].map(sleeper), None, ReturnWhen::FirstCompleted).await;
            assert_eq!(elapsed(start), secs(2));
            // Both that ended at two seconds, in input order.
            assert_eq!(outputs(done).await, [2, 2]);
            assert_eq!(pending.len(), 2);
            assert!(pending.iter().all(|handle| !handle.is_finished()));
            let (done, pending) = wait(pending, None, ReturnWhen::AllCompleted).await;
            assert_eq!(elapsed(start), secs(6));
            assert!(pending.is_empty());
            assert_eq!(outputs(done).await, [4, 6]);
        })
        .unwrap();
}

#[test]
fn wait_first_completed_with_a_finished_task_returns_at_once() {
    let event_loop = virtual_loop();
    event_loop
        .run_until_complete(async {
            let quick = sleeper(0);
            let slow = sleeper(9);
            sleep(secs(1)).await;
            let start = now();
            let (done, pending) = wait([slow, quick], None, ReturnWhen::FirstCompleted).await;
            assert_eq!(elapsed(start), Duration::ZERO);
            assert_eq!(outputs(done).await, [0]);
            assert_eq!(pending.len(), 1);
        })
        .unwrap();
}

#[test]
fn wait_first_exception_returns_when_a_task_panics() {
    let event_loop = virtual_loop();
    event_loop
        .run_until_complete(async {
            let start = now();
            let handles = vec![
                sleeper(1),
                spawn_local(async {
                    sleep(secs(2)).await;
                    panic!("task two failed");
                }),
                sleeper(5),
            ];
            let (done, pending) = wait(handles, None, ReturnWhen::FirstException).await;
            assert_eq!(elapsed(start), secs(2));
            assert_eq!(done.len(), 2);
            assert_eq!(pending.len(), 1);
            assert!(done[1].is_panicked());
            let mut done = done.into_iter();
            assert_eq!(done.next().unwrap().await.unwrap(), 1);
            let error = done.next().unwrap().await.unwrap_err();
            assert_eq!(error.panic_message(), Some("task two failed"));
            assert_eq!(
                outputs(wait(pending, None, ReturnWhen::AllCompleted).await.0).await,
                [5]
            );
        })
        .unwrap();
}

#[test]
fn wait_first_exception_ignores_cancellation_and_acts_as_all_completed_without_panics() {
    let event_loop = virtual_loop();
    event_loop
        .run_until_complete(async {
            let start = now();
            let doomed = sleeper(100);
            let canceller = {
                let doomed = doomed.task();
                spawn_local(async move {
                    sleep(secs(1)).await;
                    doomed.cancel();
                })
            };
            let (done, pending) = wait(
                [sleeper(3), doomed, sleeper(2)],
                None,
                ReturnWhen::FirstException,
            )
            .await;
            // The cancellation at one second did not end the wait.
            assert_eq!(elapsed(start), secs(3));
            assert!(pending.is_empty());
            assert!(done[1].is_cancelled());
            assert!(!done.iter().any(JoinHandle::is_panicked));
            let mut done = done.into_iter();
            assert_eq!(done.next().unwrap().await.unwrap(), 3);
            assert!(done.next().unwrap().await.unwrap_err().is_cancelled());
            assert_eq!(done.next().unwrap().await.unwrap(), 2);
            canceller.await.unwrap();
        })
        .unwrap();
}

#[test]
fn wait_with_a_timeout_returns_what_is_done_and_cancels_nothing() {
    let event_loop = virtual_loop();
    event_loop
        .run_until_complete(async {
            let start = now();
            let (done, pending) = wait(
                [10, 1, 5].map(sleeper),
                Some(secs(3)),
                ReturnWhen::AllCompleted,
            )
            .await;
            assert_eq!(elapsed(start), secs(3));
            assert_eq!(outputs(done).await, [1]);
            assert_eq!(pending.len(), 2);
            // Still running, and they finish on their own schedule.
            let mut pending = pending.into_iter();
            assert_eq!(pending.next().unwrap().await.unwrap(), 10);
            assert_eq!(elapsed(start), secs(10));
            assert_eq!(pending.next().unwrap().await.unwrap(), 5);
        })
        .unwrap();
}

#[test]
fn wait_with_a_timeout_for_each_return_when() {
    let event_loop = virtual_loop();
    event_loop
        .run_until_complete(async {
            for return_when in [
                ReturnWhen::FirstCompleted,
                ReturnWhen::FirstException,
                ReturnWhen::AllCompleted,
            ] {
                let start = now();
                let (done, pending) = wait([7, 8].map(sleeper), Some(secs(2)), return_when).await;
                assert_eq!(elapsed(start), secs(2), "{return_when:?}");
                assert!(done.is_empty(), "{return_when:?}");
                assert_eq!(pending.len(), 2, "{return_when:?}");
                for handle in pending {
                    handle.cancel();
                }
            }
        })
        .unwrap();
}

#[test]
fn wait_finishing_before_the_timeout_returns_early() {
    let event_loop = virtual_loop();
    event_loop
        .run_until_complete(async {
            let start = now();
            let (done, pending) = wait(
                [1, 2].map(sleeper),
                Some(secs(60)),
                ReturnWhen::AllCompleted,
            )
            .await;
            assert_eq!(elapsed(start), secs(2));
            assert!(pending.is_empty());
            assert_eq!(outputs(done).await, [1, 2]);
        })
        .unwrap();
}

#[test]
fn wait_on_nothing_returns_at_once() {
    let event_loop = virtual_loop();
    for return_when in [
        ReturnWhen::FirstCompleted,
        ReturnWhen::FirstException,
        ReturnWhen::AllCompleted,
    ] {
        let (done, pending) = event_loop
            .run_until_complete(wait(
                Vec::<JoinHandle<()>>::new(),
                Some(secs(5)),
                return_when,
            ))
            .unwrap();
        assert!(done.is_empty() && pending.is_empty());
    }
}

// ---------------------------------------------------------------- shield

#[test]
fn shield_keeps_the_inner_task_running_when_a_timeout_drops_it() {
    let event_loop = virtual_loop();
    let start = event_loop.time();
    let finished_at = Arc::new(Mutex::new(None));
    let drops = Arc::new(AtomicUsize::new(0));
    let (outcome, drops_at_timeout) = event_loop
        .run_until_complete({
            let finished_at = finished_at.clone();
            let drops = drops.clone();
            async move {
                let guard = SendDropGuard(drops.clone());
                let inner = async move {
                    let _guard = guard;
                    sleep(secs(5)).await;
                    *finished_at.lock().unwrap() = Some(now());
                };
                let outcome = timeout(secs(1), shield(inner)).await;
                let drops_at_timeout = drops.load(Ordering::SeqCst);
                sleep(secs(10)).await;
                (outcome, drops_at_timeout)
            }
        })
        .unwrap();
    assert!(outcome.is_err());
    assert_eq!(drops_at_timeout, 0);
    assert_eq!(*finished_at.lock().unwrap(), Some(start + secs(5)));
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn shield_local_keeps_a_not_send_inner_task_running_when_a_timeout_drops_it() {
    let event_loop = virtual_loop();
    let start = event_loop.time();
    let finished_at = Rc::new(Cell::new(None));
    let drops = Rc::new(Cell::new(0));
    let (outcome, drops_at_timeout) = event_loop
        .run_until_complete({
            let finished_at = finished_at.clone();
            let drops = drops.clone();
            async move {
                let guard = DropGuard(drops.clone());
                let inner = async move {
                    let _guard = guard;
                    sleep(secs(5)).await;
                    finished_at.set(Some(now()));
                };
                let outcome = timeout(secs(1), shield_local(inner)).await;
                let drops_at_timeout = drops.get();
                sleep(secs(10)).await;
                (outcome, drops_at_timeout)
            }
        })
        .unwrap();
    assert!(outcome.is_err());
    assert_eq!(drops_at_timeout, 0);
    assert_eq!(finished_at.get(), Some(start + secs(5)));
    assert_eq!(drops.get(), 1);
}

#[test]
fn shield_protects_the_inner_task_from_the_cancellation_of_the_outer_one() {
    let event_loop = virtual_loop();
    let saved = Arc::new(AtomicBool::new(false));
    event_loop
        .run_until_complete({
            let saved = saved.clone();
            async move {
                let outer = spawn_local(async move {
                    shield(async move {
                        sleep(secs(3)).await;
                        saved.store(true, Ordering::SeqCst);
                        "saved"
                    })
                    .await
                });
                sleep(secs(1)).await;
                assert!(outer.cancel());
                assert!(outer.await.unwrap_err().is_cancelled());
                sleep(secs(5)).await;
            }
        })
        .unwrap();
    assert!(saved.load(Ordering::SeqCst));
}

#[test]
fn shield_gives_the_inner_result() {
    let event_loop = virtual_loop();
    event_loop
        .run_until_complete(async {
            let value = shield(async {
                sleep(secs(1)).await;
                41 + 1
            })
            .await;
            assert_eq!(value.unwrap(), 42);
            let error = shield(async { panic!("inner panic") }).await.unwrap_err();
            assert!(error.is_panic());
            assert_eq!(error.panic_message(), Some("inner panic"));
        })
        .unwrap();
}

#[test]
fn shield_outside_a_running_loop_panics() {
    let outcome = std::panic::catch_unwind(|| shield(async {}).into_handle().detach());
    assert!(outcome.is_err());
    let outcome = std::panic::catch_unwind(|| shield_local(async {}).into_handle().detach());
    assert!(outcome.is_err());
}

// ---------------------------------------------------------------- as_completed

#[test]
fn as_completed_yields_in_completion_order_at_completion_time() {
    let event_loop = virtual_loop();
    let arrivals = event_loop
        .run_until_complete(async {
            let start = now();
            let mut finished = as_completed([3_u64, 1, 2].map(|delay| async move {
                sleep(secs(delay)).await;
                delay
            }));
            let mut arrivals = Vec::new();
            while let Some(delay) = finished.next().await {
                arrivals.push((delay, elapsed(start).as_secs()));
            }
            arrivals
        })
        .unwrap();
    assert_eq!(arrivals, [(1, 1), (2, 2), (3, 3)]);
}

#[test]
fn as_completed_gives_simultaneous_completions_in_input_order() {
    let event_loop = virtual_loop();
    let order = event_loop
        .run_until_complete(async {
            let deadline = now() + secs(1);
            // The later in the input, the earlier the timer is registered, so
            // the timers fire (and wake) in reverse input order.
            let mut finished = as_completed((0..4_usize).map(|index| async move {
                for _ in index..4 {
                    yield_now().await;
                }
                sleep_until(deadline).await;
                index
            }));
            let mut order = Vec::new();
            while let Some(index) = finished.next().await {
                order.push((index, now() == deadline));
            }
            order
        })
        .unwrap();
    assert_eq!(order, [(0, true), (1, true), (2, true), (3, true)]);
}

#[test]
fn as_completed_orders_by_completion_time_first() {
    let event_loop = virtual_loop();
    let order = event_loop
        .run_until_complete(async {
            let mut finished = as_completed([2_u64, 1, 2, 1].into_iter().enumerate().map(
                |(index, delay)| async move {
                    sleep(secs(delay)).await;
                    index
                },
            ));
            let mut order = Vec::new();
            while let Some(index) = finished.next().await {
                order.push(index);
            }
            order
        })
        .unwrap();
    assert_eq!(order, [1, 3, 0, 2]);
}

#[test]
fn as_completed_is_a_fused_stream_with_an_exact_size() {
    let event_loop = virtual_loop();
    event_loop
        .run_until_complete(async {
            let mut finished = as_completed([2_u64, 1].map(|delay| async move {
                sleep(secs(delay)).await;
                delay
            }));
            assert_eq!(finished.size_hint(), (2, Some(2)));
            let first = poll_fn(|cx| Pin::new(&mut finished).poll_next(cx)).await;
            assert_eq!(first, Some(1));
            assert_eq!(finished.len(), 1);
            assert!(!finished.is_terminated());
            assert_eq!(finished.next().await, Some(2));
            assert!(finished.is_terminated());
            assert!(finished.is_empty());
            assert_eq!(
                poll_fn(|cx| Pin::new(&mut finished).poll_next(cx)).await,
                None
            );
        })
        .unwrap();
}

#[test]
fn dropping_as_completed_drops_the_unfinished_futures() {
    let event_loop = virtual_loop();
    let drops = Rc::new(Cell::new(0));
    let drops_after = event_loop
        .run_until_complete({
            let drops = drops.clone();
            async move {
                let mut finished = as_completed((1..=3_u64).map(|delay| {
                    let guard = DropGuard(drops.clone());
                    async move {
                        let _guard = guard;
                        sleep(secs(delay)).await;
                        delay
                    }
                }));
                assert_eq!(finished.next().await, Some(1));
                assert_eq!(drops.get(), 1);
                drop(finished);
                drops.get()
            }
        })
        .unwrap();
    assert_eq!(drops_after, 3);
}

#[test]
fn as_completed_works_outside_a_loop() {
    let mut finished = as_completed([std::future::ready('a'), std::future::ready('b')]);
    let mut cx = Context::from_waker(Waker::noop());
    assert_eq!(
        Pin::new(&mut finished).poll_next(&mut cx),
        Poll::Ready(Some('a'))
    );
    assert_eq!(
        Pin::new(&mut finished).poll_next(&mut cx),
        Poll::Ready(Some('b'))
    );
    assert_eq!(
        Pin::new(&mut finished).poll_next(&mut cx),
        Poll::Ready(None)
    );
}

// ---------------------------------------------------------------- auto traits

fn is_send<T: Send>() {}
fn is_sync<T: Sync>() {}
fn is_unpin<T: Unpin>() {}

#[test]
fn send_sync_unpin() {
    type Boxed = Pin<Box<dyn Future<Output = u8> + Send>>;
    is_send::<GatherAll<Boxed>>();
    is_unpin::<GatherAll<Boxed>>();
    is_send::<TryGather<Pin<Box<dyn Future<Output = Result<u8, String>> + Send>>>>();
    is_unpin::<TryGather<Pin<Box<dyn Future<Output = Result<u8, String>> + Send>>>>();
    is_send::<AsCompleted<Boxed>>();
    is_unpin::<AsCompleted<Boxed>>();
    is_send::<Wait<u8>>();
    is_unpin::<Wait<u8>>();
    is_send::<Shield<u8>>();
    is_unpin::<Shield<u8>>();
    is_send::<ReturnWhen>();
    is_sync::<ReturnWhen>();
}
