//! The loop's iteration order and its callbacks, pinned to asyncio's.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use tulip_executor::{EventLoop, RunError, SpawnError, sleep, spawn_local, yield_now};

type Log = Rc<RefCell<Vec<String>>>;

fn log() -> Log {
    Rc::new(RefCell::new(Vec::new()))
}

fn push(log: &Log, entry: impl Into<String>) {
    log.borrow_mut().push(entry.into());
}

fn virtual_loop() -> EventLoop {
    EventLoop::builder()
        .virtual_time()
        .build()
        .expect("reactor")
}

#[test]
fn call_soon_is_fifo() {
    let event_loop = EventLoop::new().unwrap();
    let order = log();
    for i in 0..10 {
        let order = order.clone();
        event_loop
            .call_soon(move || push(&order, i.to_string()))
            .unwrap();
    }
    event_loop.run_until_complete(async {}).unwrap();
    let expected: Vec<String> = (0..10).map(|i| i.to_string()).collect();
    assert_eq!(*order.borrow(), expected);
}

#[test]
fn call_later_orders_by_deadline_then_insertion() {
    let event_loop = virtual_loop();
    let order = log();
    let start = event_loop.time();
    for (name, delay) in [
        ("c3", 3),
        ("a1", 1),
        ("b2", 2),
        ("a1-second", 1),
        ("b2-second", 2),
    ] {
        let order = order.clone();
        event_loop
            .call_at(start + Duration::from_secs(delay), move || {
                push(&order, name)
            })
            .unwrap();
    }
    event_loop
        .run_until_complete(sleep(Duration::from_secs(4)))
        .unwrap();
    assert_eq!(
        *order.borrow(),
        ["a1", "a1-second", "b2", "b2-second", "c3"]
    );
}

#[test]
fn what_a_callback_schedules_runs_in_the_next_iteration() {
    let event_loop = EventLoop::new().unwrap();
    let order = log();
    let handle = event_loop.handle();
    {
        let order = order.clone();
        event_loop
            .call_soon(move || {
                push(&order, "first");
                let inner = order.clone();
                // Scheduled from inside the batch: must run after "second",
                // which was already queued when this iteration began.
                handle
                    .call_soon(move || push(&inner, "scheduled by first"))
                    .unwrap();
            })
            .unwrap();
    }
    {
        let order = order.clone();
        event_loop
            .call_soon(move || push(&order, "second"))
            .unwrap();
    }
    event_loop.run_until_complete(async {}).unwrap();
    assert_eq!(*order.borrow(), ["first", "second", "scheduled by first"]);
}

#[test]
fn stop_ends_run_forever_after_the_current_batch() {
    let event_loop = EventLoop::new().unwrap();
    let order = log();
    let handle = event_loop.handle();
    {
        let order = order.clone();
        let handle = handle.clone();
        event_loop
            .call_soon(move || {
                push(&order, "stopper");
                handle.stop();
                let late = order.clone();
                handle.call_soon(move || push(&late, "next run")).unwrap();
            })
            .unwrap();
    }
    {
        let order = order.clone();
        event_loop
            .call_soon(move || push(&order, "same batch"))
            .unwrap();
    }
    event_loop.run_forever().unwrap();
    assert_eq!(*order.borrow(), ["stopper", "same batch"]);
    // What was scheduled during the stopped iteration runs on the next run.
    event_loop.run_until_complete(async {}).unwrap();
    assert_eq!(*order.borrow(), ["stopper", "same batch", "next run"]);
}

#[test]
fn a_timer_never_fires_before_its_deadline() {
    let event_loop = virtual_loop();
    let fired_at = Rc::new(RefCell::new(Vec::new()));
    let start = event_loop.time();
    for millis in [5u64, 1, 250, 1000, 7] {
        let fired_at = fired_at.clone();
        let handle = event_loop.handle();
        let deadline = start + Duration::from_millis(millis);
        event_loop
            .call_at(deadline, move || {
                fired_at.borrow_mut().push((deadline, handle.time()))
            })
            .unwrap();
    }
    event_loop
        .run_until_complete(sleep(Duration::from_secs(2)))
        .unwrap();
    let fired_at = fired_at.borrow();
    assert_eq!(fired_at.len(), 5);
    for (deadline, now) in fired_at.iter() {
        assert!(now >= deadline, "fired {:?} early", *deadline - *now);
    }
}

#[test]
fn a_cancelled_timer_never_fires() {
    let event_loop = virtual_loop();
    let fired = log();
    let kept = {
        let fired = fired.clone();
        event_loop
            .call_later(Duration::from_secs(1), move || push(&fired, "kept"))
            .unwrap()
    };
    let cancelled = {
        let fired = fired.clone();
        event_loop
            .call_later(Duration::from_secs(1), move || push(&fired, "cancelled"))
            .unwrap()
    };
    assert!(cancelled.cancel());
    assert!(
        !cancelled.cancel(),
        "a second cancel reports nothing pending"
    );
    assert!(cancelled.cancelled());
    event_loop
        .run_until_complete(sleep(Duration::from_secs(5)))
        .unwrap();
    assert_eq!(*fired.borrow(), ["kept"]);
    assert!(
        !kept.cancel(),
        "cancelling a callback that already ran reports false"
    );
}

#[test]
fn a_cancelled_call_soon_never_runs() {
    let event_loop = EventLoop::new().unwrap();
    let fired = log();
    let handle = {
        let fired = fired.clone();
        event_loop
            .call_soon(move || push(&fired, "cancelled"))
            .unwrap()
    };
    assert!(handle.cancel());
    event_loop.run_until_complete(async {}).unwrap();
    assert!(fired.borrow().is_empty());
}

#[test]
fn a_panicking_callback_reaches_the_exception_handler_and_the_loop_goes_on() {
    let event_loop = EventLoop::new().unwrap();
    let reports = log();
    {
        let reports = reports.clone();
        event_loop.set_exception_handler(Some(
            move |context: &tulip_executor::ExceptionContext| {
                push(&reports, context.to_string());
            },
        ));
    }
    event_loop.call_soon(|| panic!("callback failed")).unwrap();
    let after = log();
    {
        let after = after.clone();
        event_loop
            .call_soon(move || push(&after, "still running"))
            .unwrap();
    }
    assert_eq!(event_loop.run_until_complete(async { 5 }).unwrap(), 5);
    assert_eq!(
        *reports.borrow(),
        ["Exception in callback: callback failed"]
    );
    assert_eq!(*after.borrow(), ["still running"]);
}

#[test]
fn get_exception_handler_returns_the_installed_handler_until_it_is_removed() {
    let event_loop = EventLoop::new().unwrap();
    assert!(event_loop.get_exception_handler().is_none());
    let reports = log();
    {
        let reports = reports.clone();
        event_loop.set_exception_handler(Some(
            move |context: &tulip_executor::ExceptionContext| {
                push(&reports, context.to_string());
            },
        ));
    }
    // The handler returned is the one installed: calling it reaches its log.
    let installed = event_loop.get_exception_handler().unwrap();
    installed(&tulip_executor::ExceptionContext::new("called directly"));
    assert_eq!(*reports.borrow(), ["called directly"]);
    event_loop.set_exception_handler(None::<fn(&tulip_executor::ExceptionContext)>);
    assert!(event_loop.get_exception_handler().is_none());
}

#[test]
fn nested_run_until_complete_is_an_error() {
    let event_loop = Rc::new(EventLoop::new().unwrap());
    let inner = event_loop.clone();
    let nested = event_loop
        .run_until_complete(async move { inner.run_until_complete(async {}).map(|_| ()) })
        .unwrap();
    assert!(matches!(nested, Err(RunError::AlreadyRunning)));
    let other = EventLoop::new().unwrap();
    let nested_other = event_loop
        .run_until_complete(async move { other.run_until_complete(async {}).map(|_| ()) })
        .unwrap();
    assert!(matches!(nested_other, Err(RunError::AnotherLoopRunning)));
}

#[test]
fn a_closed_loop_refuses_work() {
    let event_loop = EventLoop::new().unwrap();
    let handle = event_loop.handle();
    event_loop.close().unwrap();
    event_loop.close().unwrap();
    assert!(event_loop.is_closed());
    assert!(handle.is_closed());
    assert!(matches!(
        event_loop.run_until_complete(async {}),
        Err(RunError::Closed)
    ));
    assert!(matches!(event_loop.run_forever(), Err(RunError::Closed)));
    assert_eq!(event_loop.spawn(async {}).err(), Some(SpawnError::Closed));
    assert_eq!(event_loop.call_soon(|| {}).err(), Some(SpawnError::Closed));
    assert_eq!(
        event_loop.call_later(Duration::ZERO, || {}).err(),
        Some(SpawnError::Closed)
    );
    assert_eq!(handle.spawn(async {}).err(), Some(SpawnError::Closed));
    assert_eq!(
        handle.call_soon_threadsafe(|| {}).err(),
        Some(SpawnError::Closed)
    );
    assert_eq!(
        handle.run_coroutine_threadsafe(async {}).err(),
        Some(SpawnError::Closed)
    );
    assert_eq!(handle.spawn_blocking(|| {}).err(), Some(SpawnError::Closed));
}

#[test]
fn close_while_running_is_an_error() {
    let event_loop = Rc::new(EventLoop::new().unwrap());
    let inner = event_loop.clone();
    let result = event_loop
        .run_until_complete(async move { inner.close() })
        .unwrap();
    assert!(matches!(result, Err(RunError::AlreadyRunning)));
    assert!(!event_loop.is_closed());
}

#[test]
fn stop_before_the_future_completes_is_reported() {
    let event_loop = EventLoop::new().unwrap();
    let handle = event_loop.handle();
    let result = event_loop.run_until_complete(async move {
        handle.stop();
        // Still pending when the iteration ends.
        sleep(Duration::from_secs(3600)).await;
    });
    assert!(matches!(result, Err(RunError::Stopped)));
}

#[test]
fn handle_call_later_works_only_on_the_loop_thread() {
    let event_loop = EventLoop::new().unwrap();
    let handle = event_loop.handle();
    let off_thread = std::thread::spawn(move || handle.call_soon(|| {}).err())
        .join()
        .unwrap();
    assert_eq!(off_thread, Some(SpawnError::WrongThread));
    let handle = event_loop.handle();
    // On the loop's thread but outside its run: not reachable either.
    assert_eq!(handle.call_soon(|| {}).err(), Some(SpawnError::WrongThread));
    let fired = event_loop
        .run_until_complete(async move {
            let fired = Rc::new(Cell::new(false));
            let flag = fired.clone();
            handle
                .call_later(Duration::from_millis(1), move || flag.set(true))
                .unwrap();
            sleep(Duration::from_millis(20)).await;
            fired.get()
        })
        .unwrap();
    assert!(fired);
}

#[test]
fn virtual_time_runs_timer_heavy_programs_identically() {
    fn program() -> Vec<String> {
        let event_loop = virtual_loop();
        let start = event_loop.time();
        let out = log();
        let task_log = out.clone();
        event_loop
            .run_until_complete(async move {
                let mut workers = Vec::new();
                for worker in 0..5u64 {
                    let out = task_log.clone();
                    workers.push(spawn_local(async move {
                        for step in 0..4u64 {
                            sleep(Duration::from_millis(100 * (worker + 1) + step)).await;
                            push(&out, format!("worker {worker} step {step}"));
                        }
                    }));
                }
                for worker in workers {
                    worker.await.unwrap();
                }
            })
            .unwrap();
        let elapsed = event_loop.time() - start;
        let mut lines = out.borrow().clone();
        lines.push(format!("elapsed {elapsed:?}"));
        lines
    }
    let first = program();
    assert_eq!(first.last().unwrap(), "elapsed 2.006s");
    for _ in 0..3 {
        assert_eq!(program(), first);
    }
}

#[test]
fn yield_now_lets_every_ready_task_run_once() {
    let event_loop = EventLoop::new().unwrap();
    let order = log();
    let out = order.clone();
    event_loop
        .run_until_complete(async move {
            let mut tasks = Vec::new();
            for name in ["a", "b"] {
                let out = out.clone();
                tasks.push(spawn_local(async move {
                    for round in 0..3 {
                        push(&out, format!("{name}{round}"));
                        yield_now().await;
                    }
                }));
            }
            for task in tasks {
                task.await.unwrap();
            }
        })
        .unwrap();
    assert_eq!(*order.borrow(), ["a0", "b0", "a1", "b1", "a2", "b2"]);
}

#[test]
fn stop_from_another_thread_wakes_a_loop_with_nothing_to_do() {
    let event_loop = EventLoop::new().unwrap();
    let handle = event_loop.handle();
    let stopper = std::thread::spawn(move || {
        // No timer is armed: only the stop request can end the run.
        std::thread::sleep(Duration::from_millis(10));
        handle.stop();
    });
    event_loop.run_forever().unwrap();
    stopper.join().unwrap();
}

#[test]
fn the_running_loop_stays_current_after_another_loop_is_refused_or_dropped() {
    let event_loop = EventLoop::new().unwrap();
    event_loop
        .run_until_complete(async {
            assert!(matches!(
                tulip_executor::run(async {}),
                Err(RunError::AnotherLoopRunning)
            ));
            drop(EventLoop::new().unwrap());
            assert!(tulip_executor::Handle::current().is_ok());
            let task = tulip_executor::task::Builder::new().spawn(async { 1 });
            assert_eq!(task.unwrap().await.unwrap(), 1);
        })
        .unwrap();
}

#[test]
fn the_longest_delays_mean_never_rather_than_a_panic() {
    let event_loop = virtual_loop();
    let fired = log();
    {
        let fired = fired.clone();
        event_loop
            .call_later(Duration::MAX, move || push(&fired, "fired"))
            .unwrap();
    }
    let handle = event_loop.handle();
    let outcome = event_loop
        .run_until_complete(async move {
            handle
                .call_later(Duration::MAX, || unreachable!("never due"))
                .unwrap();
            let value = tulip_executor::wait_for(async { 5 }, Some(Duration::MAX)).await;
            let slept = tulip_executor::timeout(Duration::MAX, sleep(Duration::from_secs(1))).await;
            (value, slept)
        })
        .unwrap();
    assert_eq!(outcome, (Ok(5), Ok(())));
    assert!(fired.borrow().is_empty());
}

#[test]
fn a_panicking_main_future_is_a_task_error_and_the_loop_stays_usable() {
    let event_loop = EventLoop::new().unwrap();
    let outcome = event_loop.run_until_complete(async { panic!("main failed") });
    match outcome {
        Err(RunError::Task(error)) => {
            assert!(error.is_panic());
            assert_eq!(error.panic_message(), Some("main failed"));
        }
        other => panic!("expected RunError::Task, got {other:?}"),
    }
    assert_eq!(event_loop.run_until_complete(async { 3 }).unwrap(), 3);
}

#[test]
fn spawning_with_a_builder_outside_a_loop_is_an_error() {
    let outcome = tulip_executor::task::Builder::new().spawn(async {});
    assert_eq!(outcome.err(), Some(SpawnError::NoRunningLoop));
    let local = tulip_executor::task::Builder::new().spawn_local(async {});
    assert_eq!(local.err(), Some(SpawnError::NoRunningLoop));
}
