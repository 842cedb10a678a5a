//! asyncio's TaskGroup semantics, pinned on a virtual-time loop: success,
//! a failure cancelling the siblings (their destructors ran), every failure
//! reported, panics, spawning after failure or join, dropping without join.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tulip_executor::combinators::{ChildFailure, GroupSpawnError, GroupSpawner};
use tulip_executor::{
    EventLoop, JoinHandle, SpawnError, TaskGroup, TaskGroupError, sleep, timeout, yield_now,
};

fn virtual_loop() -> EventLoop {
    EventLoop::builder().virtual_time().build().unwrap()
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn now() -> Instant {
    tulip_executor::Handle::current().unwrap().time()
}

/// Counts its drops (`Send`, as children spawned with `spawn` are).
struct DropGuard(Arc<AtomicUsize>);

impl Drop for DropGuard {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Panics when dropped: a child whose cleanup fails.
struct PanicOnDrop(&'static str);

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            panic!("{}", self.0);
        }
    }
}

/// A child that sleeps `delay` seconds, then gives `value`; it holds `guard`.
async fn sleeper<E>(delay: u64, value: u64, guard: DropGuard) -> Result<u64, E> {
    let _guard = guard;
    sleep(secs(delay)).await;
    Ok(value)
}

#[test]
fn a_group_of_successful_children_joins_when_the_last_one_ends() {
    let event_loop = virtual_loop();
    let start = event_loop.time();
    let drops = Arc::new(AtomicUsize::new(0));
    let values = event_loop
        .run_until_complete({
            let drops = drops.clone();
            async move {
                let group = TaskGroup::<String>::new();
                let handles: Vec<JoinHandle<u64>> = [(2, 20), (3, 30), (1, 10)]
                    .into_iter()
                    .map(|(delay, value)| {
                        group
                            .spawn(sleeper(delay, value, DropGuard(drops.clone())))
                            .unwrap()
                    })
                    .collect();
                assert_eq!(group.len(), 3);
                group.join().await.unwrap();
                assert_eq!(drops.load(Ordering::SeqCst), 3);
                let mut values = Vec::new();
                for handle in handles {
                    assert!(handle.is_finished());
                    values.push(handle.await.unwrap());
                }
                values
            }
        })
        .unwrap();
    assert_eq!(values, [20, 30, 10]);
    assert_eq!(event_loop.time() - start, secs(3));
}

#[test]
fn joining_an_empty_group_is_immediate() {
    let event_loop = virtual_loop();
    let start = event_loop.time();
    let outcome = event_loop
        .run_until_complete(TaskGroup::<()>::new().join())
        .unwrap();
    assert!(outcome.is_ok());
    assert_eq!(event_loop.time(), start);
}

#[test]
fn a_failing_child_cancels_its_siblings_and_join_reports_its_error() {
    let event_loop = virtual_loop();
    let start = event_loop.time();
    let drops = Arc::new(AtomicUsize::new(0));
    event_loop
        .run_until_complete({
            let drops = drops.clone();
            async move {
                let group = TaskGroup::<String>::new();
                let first = group
                    .spawn(sleeper(3600, 1, DropGuard(drops.clone())))
                    .unwrap();
                let failing = group
                    .spawn(async {
                        sleep(secs(1)).await;
                        Err::<u64, _>("connection refused".to_owned())
                    })
                    .unwrap();
                let last = group
                    .spawn(sleeper(7200, 2, DropGuard(drops.clone())))
                    .unwrap();
                let error = group.join().await.unwrap_err();
                assert_eq!(now() - start, secs(1));
                // The siblings' futures, and their guards, were dropped before join returned.
                assert_eq!(drops.load(Ordering::SeqCst), 2);
                assert_eq!(error.failures().len(), 1);
                assert_eq!(error.errors().collect::<Vec<_>>(), ["connection refused"]);
                assert_eq!(error.failures()[0].task_id(), failing.id());
                assert!(!error.failures()[0].is_panic());
                assert_eq!(error.to_string(), "1 child task of a TaskGroup failed");
                for handle in [first, last] {
                    assert!(handle.await.unwrap_err().is_cancelled());
                }
                // The failed child's error lives in the group's error; its handle says cancelled.
                assert!(failing.await.unwrap_err().is_cancelled());
            }
        })
        .unwrap();
}

#[test]
fn every_failure_is_reported_in_order() {
    let event_loop = virtual_loop();
    let error = event_loop
        .run_until_complete(async {
            let group = TaskGroup::<&'static str>::new();
            let first = group
                .spawn_named("first", async {
                    sleep(secs(1)).await;
                    Err::<(), _>("first failed")
                })
                .unwrap();
            let second = group
                .spawn_named("second", async {
                    // Its cleanup fails when the group cancels it.
                    let _cleanup = PanicOnDrop("cleanup of second failed");
                    sleep(secs(60)).await;
                    Ok(())
                })
                .unwrap();
            let third = group
                .spawn_named("third", async {
                    let _cleanup = PanicOnDrop("cleanup of third failed");
                    sleep(secs(60)).await;
                    Ok(())
                })
                .unwrap();
            let ids = [first.id(), second.id(), third.id()];
            let error = group.join().await.unwrap_err();
            for handle in [first, second, third] {
                assert!(handle.await.unwrap_err().is_cancelled());
            }
            (ids, error)
        })
        .unwrap();
    let (ids, error) = error;
    let failures: &[ChildFailure<&str>] = error.failures();
    assert_eq!(failures.len(), 3);
    assert_eq!(
        failures
            .iter()
            .map(ChildFailure::task_id)
            .collect::<Vec<_>>(),
        ids
    );
    assert_eq!(
        failures
            .iter()
            .map(ChildFailure::task_name)
            .collect::<Vec<_>>(),
        ["first", "second", "third"]
    );
    assert_eq!(failures[0].error(), Some(&"first failed"));
    assert_eq!(
        failures[1].panic_message(),
        Some("cleanup of second failed")
    );
    assert_eq!(failures[2].panic_message(), Some("cleanup of third failed"));
    assert_eq!(
        failures[1].to_string(),
        "second panicked: cleanup of second failed"
    );
    assert_eq!(failures[0].to_string(), "first failed: first failed");
    assert_eq!(error.to_string(), "3 child tasks of a TaskGroup failed");
}

#[test]
fn a_panicking_child_is_a_failure_of_the_group() {
    let event_loop = virtual_loop();
    let start = event_loop.time();
    let drops = Arc::new(AtomicUsize::new(0));
    let error = event_loop
        .run_until_complete({
            let drops = drops.clone();
            async move {
                let group = TaskGroup::<String>::new();
                let sibling = group
                    .spawn(sleeper(100, 1, DropGuard(drops.clone())))
                    .unwrap();
                let panicking = group
                    .spawn(async {
                        sleep(secs(2)).await;
                        if true {
                            panic!("kaput");
                        }
                        Ok(())
                    })
                    .unwrap();
                let error = group.join().await.unwrap_err();
                assert!(sibling.await.unwrap_err().is_cancelled());
                assert!(panicking.await.unwrap_err().is_cancelled());
                error
            }
        })
        .unwrap();
    assert_eq!(event_loop.time() - start, secs(2));
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    let failure = error.into_failures().pop().unwrap();
    assert!(failure.is_panic());
    assert_eq!(failure.error(), None);
    assert_eq!(failure.panic_message(), Some("kaput"));
    let payload = failure.into_panic().ok().unwrap();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"kaput"));
}

#[test]
fn spawning_into_a_failed_or_finished_group_is_refused() {
    let event_loop = virtual_loop();
    event_loop
        .run_until_complete(async {
            let group = TaskGroup::<()>::new();
            let spawner: GroupSpawner<()> = group.spawner();
            group.spawn(async { Err::<(), _>(()) }).unwrap().detach();
            assert!(!group.is_shutting_down());
            yield_now().await;
            assert!(group.is_shutting_down());
            assert_eq!(
                group.spawn(async { Ok(()) }).unwrap_err(),
                GroupSpawnError::ShuttingDown
            );
            assert_eq!(
                spawner.spawn(async { Ok(()) }).unwrap_err(),
                GroupSpawnError::ShuttingDown
            );
            assert_eq!(group.len(), 0);
            assert_eq!(group.join().await.unwrap_err().failures().len(), 1);
            assert_eq!(
                spawner.spawn(async { Ok(()) }).unwrap_err(),
                GroupSpawnError::Finished
            );

            let joined = TaskGroup::<()>::new();
            let late = joined.spawner();
            joined.join().await.unwrap();
            assert_eq!(
                late.spawn(async { Ok(()) }).unwrap_err(),
                GroupSpawnError::Finished
            );

            let dropped = TaskGroup::<()>::new();
            let orphan = dropped.spawner();
            drop(dropped);
            assert_eq!(
                orphan.spawn_named("x", async { Ok(()) }).unwrap_err(),
                GroupSpawnError::Finished
            );
        })
        .unwrap();
}

#[test]
fn spawning_outside_a_loop_is_an_error_and_counts_nothing() {
    let group = TaskGroup::<()>::new();
    assert_eq!(
        group.spawn(async { Ok(()) }).unwrap_err(),
        GroupSpawnError::Spawn(SpawnError::NoRunningLoop)
    );
    assert!(group.is_empty());
    let event_loop = virtual_loop();
    assert!(event_loop.run_until_complete(group.join()).unwrap().is_ok());
}

#[test]
fn dropping_the_group_without_joining_cancels_its_children() {
    let event_loop = virtual_loop();
    let drops = Arc::new(AtomicUsize::new(0));
    event_loop
        .run_until_complete({
            let drops = drops.clone();
            async move {
                let group = TaskGroup::<()>::new();
                let handles: Vec<_> = (1..=3)
                    .map(|i| {
                        group
                            .spawn(sleeper(i * 10, i, DropGuard(drops.clone())))
                            .unwrap()
                    })
                    .collect();
                sleep(secs(1)).await;
                drop(group);
                // Cancelled futures are dropped at their next scheduling point.
                assert_eq!(drops.load(Ordering::SeqCst), 0);
                yield_now().await;
                assert_eq!(drops.load(Ordering::SeqCst), 3);
                for handle in handles {
                    assert!(handle.await.unwrap_err().is_cancelled());
                }
            }
        })
        .unwrap();
}

#[test]
fn dropping_the_join_cancels_the_children() {
    let event_loop = virtual_loop();
    let start = event_loop.time();
    let drops = Arc::new(AtomicUsize::new(0));
    event_loop
        .run_until_complete({
            let drops = drops.clone();
            async move {
                let group = TaskGroup::<()>::new();
                let child = group
                    .spawn(sleeper(100, 1, DropGuard(drops.clone())))
                    .unwrap();
                // The parent is cancelled (here by a timeout) while joining.
                assert!(timeout(secs(5), group.join()).await.is_err());
                assert!(child.await.unwrap_err().is_cancelled());
                assert_eq!(drops.load(Ordering::SeqCst), 1);
            }
        })
        .unwrap();
    assert_eq!(event_loop.time() - start, secs(5));
}

#[test]
fn children_spawned_by_children_are_joined_too() {
    let event_loop = virtual_loop();
    let start = event_loop.time();
    let total = event_loop
        .run_until_complete(async move {
            let group = TaskGroup::<()>::new();
            let spawner = group.spawner();
            let parent = group
                .spawn(async move {
                    sleep(secs(1)).await;
                    let grandchild = spawner
                        .spawn(async {
                            sleep(secs(4)).await;
                            Ok(40)
                        })
                        .unwrap();
                    Ok(grandchild)
                })
                .unwrap();
            group.join().await.unwrap();
            assert_eq!(now() - start, secs(5));
            let grandchild = parent.await.unwrap();
            assert!(grandchild.is_finished());
            grandchild.await.unwrap()
        })
        .unwrap();
    assert_eq!(total, 40);
}

#[test]
fn a_child_cancelled_from_outside_is_not_a_failure() {
    let event_loop = virtual_loop();
    event_loop
        .run_until_complete(async {
            let group = TaskGroup::<()>::new();
            let cancelled = group
                .spawn(sleeper(100, 1, DropGuard(Arc::default())))
                .unwrap();
            let kept = group
                .spawn(sleeper(2, 2, DropGuard(Arc::default())))
                .unwrap();
            sleep(secs(1)).await;
            assert!(cancelled.cancel());
            group.join().await.unwrap();
            assert!(cancelled.await.unwrap_err().is_cancelled());
            assert_eq!(kept.await.unwrap(), 2);
        })
        .unwrap();
}

#[test]
fn with_eager_tasks_a_child_failing_during_spawn_shuts_the_group_down() {
    let event_loop = EventLoop::builder()
        .virtual_time()
        .eager_tasks(true)
        .build()
        .unwrap();
    event_loop
        .run_until_complete(async {
            let group = TaskGroup::<&str>::new();
            let drops = Arc::new(AtomicUsize::new(0));
            let quick = group.spawn(async { Ok(1) }).unwrap();
            // Ran to completion inside spawn.
            assert!(quick.is_finished());
            let sibling = group
                .spawn(sleeper(10, 2, DropGuard(drops.clone())))
                .unwrap();
            let failing = group.spawn(async { Err::<(), _>("at once") }).unwrap();
            assert!(group.is_shutting_down());
            assert_eq!(
                group.spawn(async { Ok(()) }).unwrap_err(),
                GroupSpawnError::ShuttingDown
            );
            let error = group.join().await.unwrap_err();
            assert_eq!(error.errors().copied().collect::<Vec<_>>(), ["at once"]);
            assert_eq!(drops.load(Ordering::SeqCst), 1);
            assert_eq!(quick.await.unwrap(), 1);
            assert!(sibling.await.unwrap_err().is_cancelled());
            assert!(failing.await.unwrap_err().is_cancelled());
        })
        .unwrap();
}

#[test]
fn the_group_error_goes_into_send_sync_error_boxes() {
    fn boxed(error: TaskGroupError<std::io::Error>) -> Box<dyn std::error::Error + Send + Sync> {
        Box::new(error)
    }
    let event_loop = virtual_loop();
    let error = event_loop
        .run_until_complete(async {
            let group = TaskGroup::<std::io::Error>::new();
            group
                .spawn(async { Err::<(), _>(std::io::Error::other("io broke")) })
                .unwrap()
                .detach();
            group
                .spawn::<(), _>(async { panic!("and a panic") })
                .unwrap()
                .detach();
            group.join().await.unwrap_err()
        })
        .unwrap();
    // Only the first ran: the second was cancelled before its first poll.
    assert_eq!(error.failures().len(), 1);
    let source = std::error::Error::source(&error.failures()[0]).unwrap();
    assert_eq!(source.to_string(), "io broke");
    assert_eq!(
        boxed(error).to_string(),
        "1 child task of a TaskGroup failed"
    );
}

#[test]
fn spawn_local_takes_children_and_errors_that_are_not_send() {
    use std::cell::Cell;
    use std::rc::Rc;

    let event_loop = virtual_loop();
    let start = event_loop.time();
    let ticks = Rc::new(Cell::new(0));
    event_loop
        .run_until_complete({
            let ticks = ticks.clone();
            async move {
                // Neither the children, their values nor the error are `Send`.
                let group = TaskGroup::<Rc<str>>::new();
                let spawner = group.spawner();
                let slow = group
                    .spawn_local_named("slow", {
                        let ticks = ticks.clone();
                        async move {
                            sleep(secs(3600)).await;
                            ticks.set(ticks.get() + 1);
                            Ok(Rc::new(1))
                        }
                    })
                    .unwrap();
                let quick = spawner
                    .spawn_local({
                        let ticks = ticks.clone();
                        async move {
                            ticks.set(ticks.get() + 1);
                            Ok(Rc::new(2))
                        }
                    })
                    .unwrap();
                spawner
                    .spawn_local_named("failing", async {
                        sleep(secs(1)).await;
                        Err::<(), _>(Rc::<str>::from("no"))
                    })
                    .unwrap()
                    .detach();
                let error = group.join().await.unwrap_err();
                assert_eq!(now() - start, secs(1));
                assert_eq!(error.failures()[0].task_name(), "failing");
                assert_eq!(
                    &*error.into_failures().pop().unwrap().into_error().unwrap(),
                    "no"
                );
                assert_eq!(slow.name(), "slow");
                assert!(slow.await.unwrap_err().is_cancelled());
                assert_eq!(*quick.await.unwrap(), 2);
                assert_eq!(
                    spawner.spawn_local(async { Ok(()) }).unwrap_err(),
                    GroupSpawnError::Finished
                );
            }
        })
        .unwrap();
    // The slow child never got past its sleep.
    assert_eq!(ticks.get(), 1);
}
