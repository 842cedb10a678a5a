//! The combinators on the multi-thread runtime: `TaskGroup` children spread
//! on the workers, `shield`, and gather!/wait/as_completed/timeout/wait_for
//! over tasks spawned there, with the loop's semantics. Orders are forced by
//! gates the tests open, never by timing; real time is used only for
//! timeouts that must expire (tens of milliseconds) and as a guard against
//! hanging (seconds).

use std::future::poll_fn;
use std::mem;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::task::{Poll, Waker};
use std::time::Duration;

use tulip_executor::combinators::{GroupSpawnError, shield_local};
use tulip_executor::{
    JoinHandle, ReturnWhen, Runtime, SpawnError, TaskGroup, as_completed, gather, shield, sleep,
    spawn, timeout, try_gather, wait, wait_for, yield_now,
};

fn runtime() -> Runtime {
    Runtime::multi_thread().worker_threads(2).build().unwrap()
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Fails the test instead of hanging it when `future` never completes (a
/// broken cancellation or wake-up).
async fn within<F: Future>(future: F) -> F::Output {
    timeout(Duration::from_secs(10), future)
        .await
        .expect("hung: did not complete within 10 s")
}

/// A latch that tasks on any thread wait on until the test opens it.
#[derive(Clone, Default)]
struct Gate(Arc<Mutex<(bool, Vec<Waker>)>>);

impl Gate {
    fn open(&self) {
        let wakers = {
            let mut state = self.0.lock().unwrap();
            state.0 = true;
            mem::take(&mut state.1)
        };
        for waker in wakers {
            waker.wake();
        }
    }

    async fn wait(&self) {
        poll_fn(|cx| {
            let mut state = self.0.lock().unwrap();
            if state.0 {
                Poll::Ready(())
            } else {
                state.1.push(cx.waker().clone());
                Poll::Pending
            }
        })
        .await;
    }
}

/// Counts its drops.
struct DropGuard(Arc<AtomicUsize>);

impl Drop for DropGuard {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Yields until `condition` holds.
async fn until(condition: impl Fn() -> bool) {
    while !condition() {
        yield_now().await;
    }
}

// ---------------------------------------------------------------- TaskGroup

#[test]
fn the_group_and_shield_types_can_move_between_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<TaskGroup<String>>();
    send_sync::<tulip_executor::GroupSpawner<String>>();
    send_sync::<tulip_executor::combinators::GroupJoin<String>>();
    send_sync::<tulip_executor::combinators::Shield<String>>();
}

#[test]
fn task_group_children_run_on_both_workers_and_join_gives_their_values() {
    let runtime = runtime();
    let (names, values) = runtime
        .block_on(within(async {
            let group = TaskGroup::<String>::new();
            let barrier = Arc::new(Barrier::new(2));
            let named: Vec<JoinHandle<String>> = (0..2)
                .map(|_| {
                    let barrier = barrier.clone();
                    group.spawn(async move {
                        // Only two children running at once, on two
                        // workers, get past this.
                        barrier.wait();
                        Ok(std::thread::current().name().unwrap().to_owned())
                    })
                })
                .collect::<Result<_, _>>()
                .unwrap();
            let numbered: Vec<JoinHandle<u64>> = (0..20_u64)
                .map(|i| {
                    group.spawn_named(format!("child-{i}"), async move {
                        yield_now().await;
                        Ok(i * i)
                    })
                })
                .collect::<Result<_, _>>()
                .unwrap();
            group.join().await.unwrap();
            let mut names = Vec::new();
            for handle in named {
                assert!(handle.is_finished());
                names.push(handle.await.unwrap());
            }
            let mut values = Vec::new();
            for handle in numbered {
                assert!(handle.is_finished());
                values.push(handle.await.unwrap());
            }
            (names, values)
        }))
        .unwrap();
    assert_ne!(names[0], names[1]);
    assert!(
        names.iter().all(|name| name.starts_with("tulip-worker-")),
        "{names:?}"
    );
    assert_eq!(values, (0..20_u64).map(|i| i * i).collect::<Vec<_>>());
}

#[test]
fn a_failing_child_cancels_its_siblings_on_the_workers_and_join_reports_it() {
    let runtime = runtime();
    let drops = Arc::new(AtomicUsize::new(0));
    let started = Arc::new(AtomicUsize::new(0));
    let never = Gate::default();
    runtime
        .block_on({
            let drops = drops.clone();
            within(async move {
                let group = TaskGroup::<String>::new();
                let siblings: Vec<JoinHandle<()>> = (0..4)
                    .map(|_| {
                        let guard = DropGuard(drops.clone());
                        let started = started.clone();
                        let never = never.clone();
                        group.spawn(async move {
                            let _guard = guard;
                            started.fetch_add(1, Ordering::SeqCst);
                            never.wait().await;
                            Ok(())
                        })
                    })
                    .collect::<Result<_, _>>()
                    .unwrap();
                let failing = group
                    .spawn_named("failing", {
                        let started = started.clone();
                        async move {
                            // Fail while the siblings are running.
                            until(|| started.load(Ordering::SeqCst) == 4).await;
                            Err::<(), _>("disk full".to_owned())
                        }
                    })
                    .unwrap();
                let error = group.join().await.unwrap_err();
                // Every sibling's future was dropped before join returned.
                assert_eq!(drops.load(Ordering::SeqCst), 4);
                assert_eq!(error.errors().collect::<Vec<_>>(), ["disk full"]);
                assert_eq!(error.failures().len(), 1);
                assert_eq!(error.failures()[0].task_id(), failing.id());
                assert_eq!(error.failures()[0].task_name(), "failing");
                for sibling in siblings {
                    assert!(sibling.await.unwrap_err().is_cancelled());
                }
                assert!(failing.await.unwrap_err().is_cancelled());
            })
        })
        .unwrap();
    assert_eq!(drops.load(Ordering::SeqCst), 4);
}

#[test]
fn a_panicking_child_on_a_worker_is_a_failure_and_the_group_refuses_new_children() {
    let runtime = runtime();
    runtime
        .block_on(within(async {
            let group = TaskGroup::<()>::new();
            let never = Gate::default();
            let waiting = group
                .spawn({
                    let never = never.clone();
                    async move {
                        never.wait().await;
                        Ok(())
                    }
                })
                .unwrap();
            group
                .spawn::<(), _>(async { panic!("worker boom") })
                .unwrap()
                .detach();
            until(|| group.is_shutting_down()).await;
            assert_eq!(
                group.spawn(async { Ok(()) }).unwrap_err(),
                GroupSpawnError::ShuttingDown
            );
            let error = group.join().await.unwrap_err();
            assert!(error.failures()[0].is_panic());
            assert_eq!(error.failures()[0].panic_message(), Some("worker boom"));
            assert!(waiting.await.unwrap_err().is_cancelled());
        }))
        .unwrap();
}

#[test]
fn a_group_joined_inside_a_worker_task_waits_for_grandchildren() {
    let runtime = runtime();
    let total = runtime
        .block_on(within(async {
            spawn(async {
                let group = TaskGroup::<()>::new();
                let spawner = group.spawner();
                let gate = Gate::default();
                let parent = group
                    .spawn({
                        let gate = gate.clone();
                        async move {
                            let grandchild = spawner
                                .spawn(async move {
                                    gate.wait().await;
                                    Ok(40)
                                })
                                .unwrap();
                            Ok(grandchild)
                        }
                    })
                    .unwrap();
                let join = spawn(group.join());
                until(|| parent.is_finished()).await;
                // The grandchild still holds the join.
                yield_now().await;
                assert!(!join.is_finished());
                gate.open();
                join.await.unwrap().unwrap();
                let grandchild = parent.await.unwrap();
                assert!(grandchild.is_finished());
                grandchild.await.unwrap() + 2
            })
            .await
            .unwrap()
        }))
        .unwrap();
    assert_eq!(total, 42);
}

#[test]
fn spawn_local_into_a_group_on_the_runtime_needs_an_event_loop() {
    let runtime = runtime();
    let check = || {
        let group = TaskGroup::<()>::new();
        let refused = GroupSpawnError::Spawn(SpawnError::NeedsEventLoop);
        assert_eq!(group.spawn_local(async { Ok(()) }).unwrap_err(), refused);
        assert_eq!(
            group
                .spawn_local_named("local", async { Ok(()) })
                .unwrap_err(),
            refused
        );
        let spawner = group.spawner();
        assert_eq!(spawner.spawn_local(async { Ok(()) }).unwrap_err(), refused);
        assert_eq!(
            spawner
                .spawn_local_named("local", async { Ok(()) })
                .unwrap_err(),
            refused
        );
        // Nothing was counted: the group is still open and joins at once.
        assert!(group.is_empty());
        assert!(!group.is_shutting_down());
        group.spawn(async { Ok(()) }).unwrap().detach();
        group
    };
    runtime
        .block_on(within(async move {
            // Inside block_on, and on a worker.
            check().join().await.unwrap();
            spawn(async move { check().join().await })
                .await
                .unwrap()
                .unwrap();
        }))
        .unwrap();
}

// ---------------------------------------------------------------- shield

#[test]
fn shield_keeps_the_inner_task_running_when_a_timeout_drops_the_wait() {
    let runtime = runtime();
    let drops = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicBool::new(false));
    runtime
        .block_on({
            let drops = drops.clone();
            let done = done.clone();
            within(async move {
                let gate = Gate::default();
                let inner = {
                    let guard = DropGuard(drops.clone());
                    let gate = gate.clone();
                    let done = done.clone();
                    async move {
                        let _guard = guard;
                        gate.wait().await;
                        done.store(true, Ordering::SeqCst);
                    }
                };
                // The gate is shut: the wait can only time out.
                assert!(timeout(ms(20), shield(inner)).await.is_err());
                // Dropping the Shield did not cancel the inner task.
                assert_eq!(drops.load(Ordering::SeqCst), 0);
                assert!(!done.load(Ordering::SeqCst));
                gate.open();
                while drops.load(Ordering::SeqCst) == 0 {
                    sleep(ms(1)).await;
                }
                assert!(done.load(Ordering::SeqCst));
            })
        })
        .unwrap();
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn shield_gives_the_inner_result_on_the_runtime_and_shield_local_panics_there() {
    let runtime = runtime();
    runtime
        .block_on(within(async {
            assert_eq!(shield(async { 41 + 1 }).await.unwrap(), 42);
            let error = shield(async { panic!("inner") }).await.unwrap_err();
            assert_eq!(error.panic_message(), Some("inner"));
            // On a worker too.
            let value = spawn(async { shield(async { 7 }).await.unwrap() }).await;
            assert_eq!(value.unwrap(), 7);
            // `shield_local` spawns `!Send` work, which a runtime refuses.
            let refused = std::panic::catch_unwind(AssertUnwindSafe(|| {
                shield_local(async {}).into_handle().detach();
            }));
            assert!(refused.is_err());
        }))
        .unwrap();
}

// ---------------------------------------------------------------- gather!, wait, as_completed

/// Spawns one task per gate on the runtime; each gives `value` once its
/// gate opens.
fn gated(values: &[u32]) -> (Vec<Gate>, Vec<JoinHandle<u32>>) {
    values
        .iter()
        .map(|&value| {
            let gate = Gate::default();
            let handle = spawn({
                let gate = gate.clone();
                async move {
                    gate.wait().await;
                    value
                }
            });
            (gate, handle)
        })
        .unzip()
}

#[test]
fn gather_gives_the_results_of_runtime_tasks_in_input_order() {
    let runtime = runtime();
    runtime
        .block_on(within(async {
            let (gates, handles) = gated(&[1, 2, 3]);
            // Finish in reverse order.
            let opener = spawn(async move {
                for gate in gates.iter().rev() {
                    gate.open();
                    yield_now().await;
                }
            });
            let [a, b, c]: [JoinHandle<u32>; 3] = handles.try_into().unwrap();
            let (a, b, c) = gather!(a, b, c).await;
            assert_eq!((a.unwrap(), b.unwrap(), c.unwrap()), (1, 2, 3));
            opener.await.unwrap();

            // try_gather over runtime tasks: the values in input order, or
            // the error.
            let outcomes = |results: [Result<u32, &'static str>; 3]| {
                results.map(|result| {
                    let handle = spawn(async move { result });
                    async move { handle.await.unwrap() }
                })
            };
            assert_eq!(
                try_gather(outcomes([Ok(1), Ok(2), Ok(3)])).await,
                Ok(vec![1, 2, 3])
            );
            assert_eq!(
                try_gather(outcomes([Ok(1), Err("bad"), Ok(3)])).await,
                Err("bad")
            );
        }))
        .unwrap();
}

#[test]
fn wait_on_runtime_tasks_honours_return_when_and_its_timeout() {
    let runtime = runtime();
    runtime
        .block_on(within(async {
            let (gates, handles) = gated(&[10, 20, 30]);
            gates[1].open();
            let (done, pending) = wait(handles, None, ReturnWhen::FirstCompleted).await;
            assert_eq!(done.len(), 1);
            assert_eq!(pending.len(), 2);
            assert_eq!(done.into_iter().next().unwrap().await.unwrap(), 20);

            // Both gates shut: the timeout expires, nothing is cancelled.
            let (done, pending) = wait(pending, Some(ms(20)), ReturnWhen::AllCompleted).await;
            assert!(done.is_empty());
            assert_eq!(pending.len(), 2);
            assert!(pending.iter().all(|handle| !handle.is_finished()));

            gates[2].open();
            gates[0].open();
            let (done, pending) = wait(pending, None, ReturnWhen::AllCompleted).await;
            assert!(pending.is_empty());
            let mut outputs = Vec::new();
            for handle in done {
                outputs.push(handle.await.unwrap());
            }
            assert_eq!(outputs, [10, 30]); // input order

            // FirstException: returns at the panic, the other still runs.
            let gate = Gate::default();
            let waiting = spawn({
                let gate = gate.clone();
                async move { gate.wait().await }
            });
            let panicking = spawn(async { panic!("first exception") });
            let (done, pending) =
                wait([waiting, panicking], None, ReturnWhen::FirstException).await;
            assert_eq!((done.len(), pending.len()), (1, 1));
            assert!(done[0].is_panicked());
            gate.open();
            for handle in pending {
                handle.await.unwrap();
            }
        }))
        .unwrap();
}

#[test]
fn as_completed_yields_runtime_tasks_in_completion_order() {
    let runtime = runtime();
    let order = runtime
        .block_on(within(async {
            let (gates, handles) = gated(&[0, 1, 2]);
            let mut finished = as_completed(handles);
            let mut order = Vec::new();
            for index in [2, 0, 1] {
                gates[index].open();
                order.push(finished.next().await.unwrap().unwrap());
            }
            assert!(finished.next().await.is_none());
            order
        }))
        .unwrap();
    assert_eq!(order, [2, 0, 1]);
}

#[test]
fn timeout_and_wait_for_on_runtime_tasks_behave_as_on_the_loop() {
    let runtime = runtime();
    runtime
        .block_on(within(async {
            let (gates, mut handles) = gated(&[5, 6]);
            let second = handles.pop().unwrap();
            let first = handles.pop().unwrap();
            let first_task = first.task();
            // Gate shut: the timeout expires; dropping the handle detaches,
            // it does not cancel.
            assert!(timeout(ms(20), first).await.is_err());
            assert!(wait_for(second, Some(ms(20))).await.is_err());
            assert!(!first_task.is_finished());
            assert!(!first_task.is_cancelled());
            gates[0].open();
            gates[1].open();
            until(|| first_task.is_finished()).await;
            assert!(!first_task.is_cancelled());

            // An open gate: the value comes through, with or without a limit.
            let (gates, mut handles) = gated(&[7, 8]);
            gates[0].open();
            gates[1].open();
            let eight = handles.pop().unwrap();
            let seven = handles.pop().unwrap();
            assert_eq!(
                timeout(Duration::from_secs(5), seven)
                    .await
                    .unwrap()
                    .unwrap(),
                7
            );
            assert_eq!(wait_for(eight, None).await.unwrap().unwrap(), 8);
            assert_eq!(wait_for(async { 1 }, Some(Duration::ZERO)).await, Ok(1));
        }))
        .unwrap();
}
