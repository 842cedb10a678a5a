//! The multi-thread runtime: scheduling, I/O and timers on the shared reactor,
//! shutdown, and the loop's semantics kept.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tulip_executor::{
    JoinError, RunError, Runtime, SpawnError, all_tasks, current_task, sleep, spawn, task,
    yield_now,
};

/// `n`, or a small fraction of it under Miri, which is slow.
fn scaled(n: u64) -> u64 {
    if cfg!(miri) { (n / 50).max(2) } else { n }
}

fn runtime(workers: usize) -> Runtime {
    Runtime::multi_thread()
        .worker_threads(workers)
        .build()
        .unwrap()
}

#[test]
fn spawned_tasks_all_complete_with_their_outputs() {
    let runtime = runtime(2);
    let sum = runtime
        .block_on(async {
            let handles: Vec<_> = (0..scaled(10_000))
                .map(|i| spawn(async move { i }))
                .collect();
            let mut sum = 0;
            for handle in handles {
                sum += handle.await.unwrap();
            }
            sum
        })
        .unwrap();
    assert_eq!(sum, scaled(10_000) * (scaled(10_000) - 1) / 2);
}

#[test]
fn tasks_run_on_more_than_one_worker() {
    let runtime = runtime(2);
    let names = runtime
        .block_on(async {
            let barrier = Arc::new(std::sync::Barrier::new(2));
            let handles: Vec<_> = (0..2)
                .map(|_| {
                    let barrier = barrier.clone();
                    spawn(async move {
                        // Both tasks block until the other runs: only two
                        // workers running at once can get past this.
                        barrier.wait();
                        std::thread::current().name().map(str::to_owned)
                    })
                })
                .collect();
            let mut names = Vec::new();
            for handle in handles {
                names.push(handle.await.unwrap().unwrap());
            }
            names
        })
        .unwrap();
    assert_ne!(names[0], names[1]);
    assert!(names.iter().all(|name| name.starts_with("tulip-worker-")));
}

#[test]
fn yields_and_chained_spawns_finish() {
    let runtime = runtime(2);
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    runtime
        .block_on(async move {
            let handles: Vec<_> = (0..scaled(50))
                .map(|_| {
                    let c = c.clone();
                    spawn(async move {
                        for _ in 0..scaled(100) {
                            yield_now().await;
                            c.fetch_add(1, Ordering::Relaxed);
                        }
                    })
                })
                .collect();
            for handle in handles {
                handle.await.unwrap();
            }
        })
        .unwrap();
    let expected = scaled(50) * scaled(100);
    assert_eq!(count.load(Ordering::Relaxed) as u64, expected);

    fn chain(left: u64) -> tulip_executor::JoinHandle<u64> {
        spawn(async move {
            if left == 0 {
                0
            } else {
                chain(left - 1).await.unwrap() + 1
            }
        })
    }
    let depth = scaled(1_000);
    assert_eq!(
        runtime
            .block_on(async move { chain(depth).await })
            .unwrap()
            .unwrap(),
        depth
    );
}

#[test]
fn timers_fire_on_the_shared_reactor() {
    let runtime = runtime(2);
    let order = runtime
        .block_on(async {
            let late = spawn(async {
                sleep(Duration::from_millis(30)).await;
                2
            });
            let early = spawn(async {
                sleep(Duration::from_millis(10)).await;
                1
            });
            (early.await.unwrap(), late.await.unwrap())
        })
        .unwrap();
    assert_eq!(order, (1, 2));
}

#[test]
fn spawn_local_on_a_worker_is_an_error() {
    let runtime = runtime(1);
    let error = runtime
        .block_on(async {
            spawn(async { task::Builder::new().spawn_local(async {}).map(|_| ()) })
                .await
                .unwrap()
        })
        .unwrap()
        .unwrap_err();
    assert_eq!(error, SpawnError::NeedsEventLoop);
    assert!(
        error.to_string().contains("multi-thread runtime"),
        "{error}"
    );
}

#[test]
fn current_task_and_all_tasks_see_the_runtime_s_tasks() {
    let runtime = runtime(2);
    runtime
        .block_on(async {
            let main = current_task().expect("block_on runs its future as a task");
            let sleeper = task::Builder::new()
                .name("sleeper")
                .spawn(std::future::pending::<()>())
                .unwrap();
            let named = spawn(async { current_task().map(|task| task.name()) });
            assert!(named.await.unwrap().unwrap().starts_with("Task-"));
            let names: Vec<String> = all_tasks().unwrap().iter().map(|t| t.name()).collect();
            assert!(names.contains(&"sleeper".to_owned()), "{names:?}");
            assert!(names.contains(&main.name()), "{names:?}");
            sleeper.cancel();
            assert!(matches!(sleeper.await, Err(JoinError::Cancelled { .. })));
        })
        .unwrap();
}

#[test]
fn a_panicking_task_leaves_the_runtime_running() {
    let runtime = runtime(2);
    let outcome = runtime
        .block_on(async {
            let failed = spawn(async { panic!("boom") }).await;
            let fine = spawn(async { 7 }).await;
            (failed.unwrap_err().is_panic(), fine.unwrap())
        })
        .unwrap();
    assert_eq!(outcome, (true, 7));
    let error = runtime.block_on(async { panic!("main") }).unwrap_err();
    assert!(
        matches!(error, RunError::Task(ref e) if e.is_panic()),
        "{error}"
    );
}

#[test]
fn shutdown_cancels_what_is_left_and_refuses_new_work() {
    let runtime = runtime(2);
    let handle = runtime.handle();
    let pending = runtime.spawn(std::future::pending::<()>()).unwrap();
    assert!(runtime.shutdown_timeout(Duration::from_secs(30)));
    assert!(pending.is_finished());
    assert!(handle.is_closed());
    assert!(matches!(handle.spawn(async {}), Err(SpawnError::Closed)));
}

#[test]
fn block_on_inside_a_worker_is_refused() {
    let runtime = Arc::new(runtime(1));
    let inner = runtime.clone();
    let error = runtime
        .block_on(async move {
            let inner = inner.clone();
            spawn(async move { inner.block_on(async {}) }).await
        })
        .unwrap()
        .unwrap()
        .unwrap_err();
    assert!(matches!(error, RunError::AnotherLoopRunning), "{error}");
}

#[test]
fn stop_makes_block_on_return() {
    let runtime = runtime(2);
    let handle = runtime.handle();
    let result = runtime.block_on(async move {
        handle.stop();
        std::future::pending::<()>().await;
    });
    assert!(matches!(result, Err(RunError::Stopped)));
    // The runtime goes on.
    assert_eq!(runtime.block_on(async { 5 }).unwrap(), 5);
}

#[test]
fn spawn_blocking_runs_on_the_pool() {
    let runtime = runtime(2);
    let value = runtime
        .block_on(async { tulip_executor::spawn_blocking(|| 6 * 7).await })
        .unwrap()
        .unwrap();
    assert_eq!(value, 42);
}

/// Collects what a tracing subscriber writes, from every thread.
#[derive(Clone, Default)]
struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A runtime whose workers (and the calling thread) report through a
/// subscriber that writes to the returned buffer.
fn runtime_capturing(
    builder: tulip_executor::runtime::Builder,
) -> (Runtime, Captured, tracing::dispatcher::DefaultGuard) {
    let captured = Captured::default();
    let writer = captured.clone();
    let dispatch = tracing::Dispatch::new(
        tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::WARN)
            .finish(),
    );
    let for_workers = dispatch.clone();
    let runtime = builder
        .worker_threads(2)
        .on_thread_start(move || {
            // For the worker's whole life.
            std::mem::forget(tracing::dispatcher::set_default(&for_workers));
        })
        .build()
        .unwrap();
    let guard = tracing::dispatcher::set_default(&dispatch);
    (runtime, captured, guard)
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

#[test]
fn debug_mode_reports_a_slow_poll_with_the_task_s_name_and_location() {
    let (runtime, captured, _guard) = runtime_capturing(
        Runtime::multi_thread()
            .debug(true)
            .slow_callback_duration(Duration::from_millis(5)),
    );
    runtime
        .block_on(async {
            let slow = task::Builder::new()
                .name("slowpoke")
                .spawn(async { std::thread::sleep(Duration::from_millis(20)) })
                .unwrap();
            slow.await.unwrap();
        })
        .unwrap();
    drop(runtime);
    let text = captured.text();
    assert!(
        text.contains("Executing task slowpoke (spawned at ") && text.contains("runtime.rs:"),
        "{text}"
    );
}

#[test]
fn a_panic_nobody_retrieves_is_reported() {
    let (runtime, captured, _guard) = runtime_capturing(Runtime::multi_thread());
    runtime
        .block_on(async {
            let doomed = task::Builder::new()
                .name("doomed")
                .spawn(async { panic!("kaboom") })
                .unwrap();
            drop(doomed);
            // The report is made as the task completes, on its worker.
            while all_tasks()
                .unwrap()
                .iter()
                .any(|task| task.name() == "doomed")
            {
                yield_now().await;
            }
        })
        .unwrap();
    drop(runtime);
    let text = captured.text();
    assert!(
        text.contains("Task exception was never retrieved: kaboom"),
        "{text}"
    );
}

#[test]
fn thread_names_and_hooks_apply_to_every_worker() {
    let started = Arc::new(AtomicUsize::new(0));
    let stopped = Arc::new(AtomicUsize::new(0));
    let (s, t) = (started.clone(), stopped.clone());
    let runtime = Runtime::multi_thread()
        .worker_threads(3)
        .thread_name("pool")
        .on_thread_start(move || {
            assert!(std::thread::current().name().unwrap().starts_with("pool-"));
            s.fetch_add(1, Ordering::SeqCst);
        })
        .on_thread_stop(move || {
            t.fetch_add(1, Ordering::SeqCst);
        })
        .build()
        .unwrap();
    assert_eq!(runtime.worker_threads(), 3);
    drop(runtime);
    assert_eq!(started.load(Ordering::SeqCst), 3);
    assert_eq!(stopped.load(Ordering::SeqCst), 3);
}

#[test]
fn bad_worker_counts_are_typed_errors() {
    let zero = Runtime::multi_thread()
        .worker_threads(0)
        .build()
        .unwrap_err();
    assert!(
        matches!(zero, tulip_executor::BuildError::NoWorkers),
        "{zero}"
    );
    let huge = Runtime::multi_thread()
        .worker_threads(1 << 20)
        .build()
        .unwrap_err();
    assert!(
        matches!(huge, tulip_executor::BuildError::TooManyWorkers { requested, .. } if requested == 1 << 20),
        "{huge}"
    );
}

#[test]
fn loop_only_handle_methods_say_they_need_the_loop() {
    let runtime = runtime(1);
    let handle = runtime.handle();
    assert!(handle.is_multi_thread());
    assert!(matches!(
        handle.call_soon(|| {}),
        Err(SpawnError::NeedsEventLoop)
    ));
    // call_soon_threadsafe runs the callback on a worker.
    let (sender, receiver) = std::sync::mpsc::channel();
    handle
        .call_soon_threadsafe(move || sender.send(7).unwrap())
        .unwrap();
    assert_eq!(receiver.recv_timeout(Duration::from_secs(30)).unwrap(), 7);
}

#[test]
fn work_sent_from_plain_threads_wakes_sleeping_workers() {
    let runtime = runtime(2);
    let handle = runtime.handle();
    // The workers have gone to sleep; each spawn from outside must wake one.
    std::thread::sleep(Duration::from_millis(20));
    let threads: Vec<_> = (0..4)
        .map(|i| {
            let handle = handle.clone();
            std::thread::spawn(move || {
                (0..scaled(200))
                    .map(|j| {
                        handle
                            .run_coroutine_threadsafe(async move { i * 1000 + j })
                            .unwrap()
                    })
                    .map(|future| future.result(Some(Duration::from_secs(30))).unwrap())
                    .sum::<u64>()
            })
        })
        .collect();
    let total: u64 = threads.into_iter().map(|t| t.join().unwrap()).sum();
    let expected: u64 = (0..4_u64)
        .map(|i| (0..scaled(200)).map(|j| i * 1000 + j).sum::<u64>())
        .sum();
    assert_eq!(total, expected);
}

/// A task that yields until `done` is set: it never lets its worker run out
/// of work, so the worker never sleeps (and never waits in the reactor).
async fn hog(done: Arc<std::sync::atomic::AtomicBool>) {
    while !done.load(Ordering::SeqCst) {
        yield_now().await;
    }
}

/// Fails the test with `Stopped` instead of hanging if `runtime`'s
/// `block_on` has not returned within 30 s (a starved queue or reactor).
fn watchdog(runtime: &Runtime) -> std::sync::mpsc::Sender<()> {
    let handle = runtime.handle();
    let (finished, wait) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        if wait.recv_timeout(Duration::from_secs(30)).is_err() {
            handle.stop();
        }
    });
    finished
}

#[test]
fn a_busy_worker_still_takes_tasks_from_the_global_queue() {
    let runtime = runtime(1);
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let started = Arc::new(std::sync::Barrier::new(2));
    let (flag, go) = (done.clone(), started.clone());
    // Spawned by a task, so onto the worker's own queue.
    let hogging = runtime
        .spawn(async move {
            go.wait();
            spawn(hog(flag)).await
        })
        .unwrap();
    started.wait();
    // Spawned from this thread, so onto the global queue, while the only
    // worker is busy with its own queue.
    let flag = done.clone();
    let setter = runtime
        .spawn(async move { flag.store(true, Ordering::SeqCst) })
        .unwrap();
    let finished = watchdog(&runtime);
    let outcome = runtime.block_on(async move {
        hogging.await.unwrap().unwrap();
        setter.await.unwrap();
    });
    drop(finished);
    assert!(outcome.is_ok(), "the global queue starved: {outcome:?}");
}

#[test]
#[cfg_attr(
    miri,
    ignore = "Miri's epoll refuses the EPOLLPRI interest the reactor registers sockets with"
)]
fn a_busy_worker_still_polls_the_reactor_for_io_and_timers() {
    let runtime = runtime(1);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let d1 = done.clone();
    let finished = watchdog(&runtime);
    let outcome = runtime.block_on(async move {
        let hogging = spawn(hog(done.clone()));
        // Both wait on the reactor while the only worker never runs dry.
        let reader = spawn(async move {
            let stream = tulip_reactor::net::TcpStream::connect(addr).await.unwrap();
            let mut byte = [0_u8; 1];
            let n = stream.read(&mut byte).await.unwrap();
            d1.store(true, Ordering::SeqCst);
            n
        });
        let sleeper = spawn(async move {
            // Fires while the hog runs (it runs until the read completes).
            sleep(Duration::from_millis(5)).await;
        });
        let (mut peer, _) = listener.accept().unwrap();
        std::io::Write::write_all(&mut peer, b"x").unwrap();
        sleeper.await.unwrap();
        let read = reader.await.unwrap();
        hogging.await.unwrap();
        read
    });
    drop(finished);
    assert_eq!(outcome.expect("I/O or timers starved"), 1);
}
