//! Tasks on the loop: cancellation, panics, names, introspection, eager
//! start, wakes from other threads.

use std::cell::RefCell;
use std::future::{Future, pending, poll_fn};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Poll;
use std::time::Duration;

use tulip_executor::task::Builder;
use tulip_executor::{
    EventLoop, ExceptionContext, JoinError, TaskState, all_tasks, current_task, sleep, spawn,
    spawn_local, yield_now,
};

/// Counts its drops.
struct DropGuard(Arc<AtomicUsize>);

impl Drop for DropGuard {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn a_cancelled_tasks_handle_gives_cancelled_after_its_destructors_ran() {
    let event_loop = EventLoop::new().unwrap();
    let drops = Arc::new(AtomicUsize::new(0));
    let guard = DropGuard(drops.clone());
    let observed = drops.clone();
    let (outcome, drops_when_resolved) = event_loop
        .run_until_complete(async move {
            let task = spawn(async move {
                let _guard = guard;
                pending::<()>().await;
            });
            yield_now().await; // let it start and park
            assert!(task.cancel());
            assert!(!task.cancel(), "cancelling twice reports false");
            let outcome = task.await;
            (outcome, observed.load(Ordering::SeqCst))
        })
        .unwrap();
    assert!(
        matches!(outcome, Err(JoinError::Cancelled { .. })),
        "{outcome:?}"
    );
    assert_eq!(
        drops_when_resolved, 1,
        "the future was dropped before the handle resolved"
    );
}

#[test]
fn a_task_cancelled_before_it_starts_never_runs() {
    let event_loop = EventLoop::new().unwrap();
    let ran = Rc::new(RefCell::new(false));
    let flag = ran.clone();
    let outcome = event_loop
        .run_until_complete(async move {
            let task = spawn_local(async move { *flag.borrow_mut() = true });
            task.cancel();
            task.await
        })
        .unwrap();
    assert!(outcome.unwrap_err().is_cancelled());
    assert!(!*ran.borrow());
}

#[test]
fn cancelling_a_finished_task_reports_false_and_keeps_its_output() {
    let event_loop = EventLoop::new().unwrap();
    let value = event_loop
        .run_until_complete(async {
            let task = spawn(async { 11 });
            yield_now().await;
            assert!(task.is_finished());
            assert!(!task.cancel());
            task.await
        })
        .unwrap();
    assert_eq!(value.unwrap(), 11);
}

#[test]
fn a_panicking_task_leaves_the_loop_running_and_its_handle_gets_the_panic() {
    let event_loop = EventLoop::new().unwrap();
    let (outcome, after) = event_loop
        .run_until_complete(async {
            let bad = spawn(async { panic!("task failed") });
            let good = spawn(async { 3 });
            (bad.await, good.await)
        })
        .unwrap();
    let error = outcome.unwrap_err();
    assert!(error.is_panic());
    assert_eq!(error.panic_message(), Some("task failed"));
    assert_eq!(after.unwrap(), 3);
    // And the loop still runs.
    assert_eq!(event_loop.run_until_complete(async { 4 }).unwrap(), 4);
}

#[test]
fn an_unretrieved_panic_is_reported_once_through_the_exception_handler() {
    let event_loop = EventLoop::new().unwrap();
    let reports = Rc::new(RefCell::new(Vec::new()));
    {
        let reports = reports.clone();
        event_loop.set_exception_handler(Some(move |context: &ExceptionContext| {
            let task = context.task().map(|task| task.name());
            reports.borrow_mut().push((context.to_string(), task));
        }));
    }
    event_loop
        .run_until_complete(async {
            Builder::new()
                .name("doomed")
                .spawn(async { panic!("nobody listens") })
                .unwrap()
                .detach();
            sleep(Duration::from_millis(1)).await;
        })
        .unwrap();
    assert_eq!(
        *reports.borrow(),
        [(
            "Task exception was never retrieved: nobody listens".to_owned(),
            Some("doomed".to_owned())
        )]
    );
}

#[test]
fn a_retrieved_panic_is_not_reported() {
    let event_loop = EventLoop::new().unwrap();
    let reports = Rc::new(RefCell::new(0));
    {
        let reports = reports.clone();
        event_loop
            .set_exception_handler(Some(move |_: &ExceptionContext| *reports.borrow_mut() += 1));
    }
    event_loop
        .run_until_complete(async {
            let error = spawn(async { panic!("seen") }).await.unwrap_err();
            drop(error);
        })
        .unwrap();
    assert_eq!(*reports.borrow(), 0);
}

#[test]
fn names_default_to_task_n_and_can_be_given() {
    let event_loop = EventLoop::new().unwrap();
    let (default, given) = event_loop
        .run_until_complete(async {
            let default = spawn(async {});
            let given = Builder::new().name("fetcher").spawn(async {}).unwrap();
            (default.name(), given.name())
        })
        .unwrap();
    let number = default.strip_prefix("Task-").expect("Task-N");
    assert!(number.parse::<u64>().is_ok(), "{default}");
    assert_eq!(given, "fetcher");
}

#[test]
fn all_tasks_lists_exactly_the_live_tasks() {
    let event_loop = EventLoop::new().unwrap();
    event_loop
        .run_until_complete(async {
            let main = current_task().expect("run_until_complete runs a task");
            let sleeper = Builder::new()
                .name("sleeper")
                .spawn(pending::<()>())
                .unwrap();
            let quick = Builder::new().name("quick").spawn(async {}).unwrap();
            yield_now().await; // quick finishes, sleeper parks
            assert!(quick.is_finished());
            let mut names: Vec<String> = all_tasks()
                .unwrap()
                .iter()
                .map(|task| task.name())
                .collect();
            names.sort();
            let mut expected = vec![main.name(), "sleeper".to_owned()];
            expected.sort();
            assert_eq!(names, expected);
            let sleeper_info = all_tasks()
                .unwrap()
                .into_iter()
                .find(|task| task.name() == "sleeper")
                .unwrap();
            assert_eq!(sleeper_info.state(), TaskState::Waiting);
            assert_eq!(sleeper_info.poll_count(), 1);
            assert!(sleeper_info.location().file().ends_with("tasks.rs"));
            assert_eq!(main.state(), TaskState::Running);
            sleeper.cancel();
            sleeper.await.unwrap_err();
            let names: Vec<String> = all_tasks()
                .unwrap()
                .iter()
                .map(|task| task.name())
                .collect();
            assert_eq!(names, [main.name()]);
        })
        .unwrap();
    assert!(all_tasks().is_err(), "no running loop here");
}

#[test]
fn eager_tasks_run_their_first_step_inside_spawn() {
    let event_loop = EventLoop::builder().eager_tasks(true).build().unwrap();
    let order = Rc::new(RefCell::new(Vec::new()));
    let out = order.clone();
    event_loop
        .run_until_complete(async move {
            let first = out.clone();
            let finished = spawn_local(async move { first.borrow_mut().push("eager body") });
            // Finished inside spawn: not queued at all.
            assert!(finished.is_finished());
            out.borrow_mut().push("after spawn");
            let lazy = out.clone();
            let queued = Builder::new()
                .eager(false)
                .spawn_local(async move { lazy.borrow_mut().push("lazy body") })
                .unwrap();
            out.borrow_mut().push("after lazy spawn");
            queued.await.unwrap();
        })
        .unwrap();
    assert_eq!(
        *order.borrow(),
        ["eager body", "after spawn", "after lazy spawn", "lazy body"]
    );
}

#[test]
fn an_eager_task_that_suspends_is_queued_and_finishes_later() {
    let event_loop = EventLoop::builder().eager_tasks(true).build().unwrap();
    let value = event_loop
        .run_until_complete(async {
            let task = spawn(async {
                yield_now().await;
                9
            });
            assert!(!task.is_finished());
            task.await
        })
        .unwrap();
    assert_eq!(value.unwrap(), 9);
}

#[test]
fn wakes_from_four_threads_at_once_are_never_lost() {
    const THREADS: usize = 4;
    const TASKS: usize = 32;
    const ROUNDS: usize = 200;
    let event_loop = EventLoop::new().unwrap();
    // Four waker threads, each waking whatever wakers it is sent, at once.
    let mut senders = Vec::new();
    let mut threads = Vec::new();
    for _ in 0..THREADS {
        let (send, receive) = std::sync::mpsc::channel::<(std::task::Waker, Arc<AtomicUsize>)>();
        senders.push(send);
        threads.push(std::thread::spawn(move || {
            for (waker, flag) in receive {
                flag.store(1, Ordering::SeqCst);
                waker.wake();
            }
        }));
    }
    let counter = Arc::new(AtomicUsize::new(0));
    let total = counter.clone();
    event_loop
        .run_until_complete(async move {
            let mut tasks = Vec::new();
            for index in 0..TASKS {
                let waker_thread = senders[index % THREADS].clone();
                tasks.push(spawn(CrossThreadRounds::new(
                    ROUNDS,
                    counter.clone(),
                    waker_thread,
                )));
            }
            drop(senders);
            for task in tasks {
                task.await.unwrap();
            }
        })
        .unwrap();
    for thread in threads {
        thread.join().unwrap();
    }
    assert_eq!(total.load(Ordering::SeqCst), TASKS * ROUNDS);
}

type WakeRequest = std::sync::mpsc::Sender<(std::task::Waker, Arc<AtomicUsize>)>;

/// Completes after `rounds` rounds, each ended by a wake from a waker thread.
struct CrossThreadRounds {
    rounds_left: usize,
    woken: Arc<AtomicUsize>,
    counter: Arc<AtomicUsize>,
    waiting: bool,
    waker_thread: WakeRequest,
}

impl CrossThreadRounds {
    fn new(
        rounds: usize,
        counter: Arc<AtomicUsize>,
        waker_thread: WakeRequest,
    ) -> CrossThreadRounds {
        CrossThreadRounds {
            rounds_left: rounds,
            woken: Arc::new(AtomicUsize::new(0)),
            counter,
            waiting: false,
            waker_thread,
        }
    }
}

impl Future for CrossThreadRounds {
    type Output = ();

    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<()> {
        if self.waiting {
            if self.woken.swap(0, Ordering::SeqCst) == 0 {
                // Polled although the thread has not woken us yet.
                return Poll::Pending;
            }
            self.waiting = false;
            self.rounds_left -= 1;
            self.counter.fetch_add(1, Ordering::SeqCst);
        }
        if self.rounds_left == 0 {
            return Poll::Ready(());
        }
        self.waiting = true;
        let request = (cx.waker().clone(), self.woken.clone());
        self.waker_thread.send(request).expect("waker thread alive");
        Poll::Pending
    }
}

#[test]
fn a_task_whose_operations_are_always_ready_yields_to_its_neighbours() {
    // A future that is always ready at the leaves: with the cooperative
    // budget it must still let a neighbour run before it finishes.
    let event_loop = EventLoop::new().unwrap();
    let neighbour_ran_at = event_loop
        .run_until_complete(async {
            let progress = Rc::new(RefCell::new(0usize));
            let seen = progress.clone();
            let neighbour = spawn_local(async move { *seen.borrow() });
            let busy = progress.clone();
            let hog = spawn_local(async move {
                for _ in 0..10_000 {
                    poll_fn(tulip_reactor::coop::poll_proceed).await;
                    *busy.borrow_mut() += 1;
                }
            });
            let at = neighbour.await.unwrap();
            hog.await.unwrap();
            at
        })
        .unwrap();
    assert!(
        neighbour_ran_at < 10_000,
        "the neighbour ran only after the hog finished"
    );
}

#[test]
fn handle_current_fails_outside_a_loop_and_spawn_from_other_threads_works() {
    assert!(tulip_executor::Handle::current().is_err());
    let event_loop = EventLoop::new().unwrap();
    let handle = event_loop.handle();
    let value = event_loop
        .run_until_complete(async move {
            let task = std::thread::spawn(move || handle.spawn(async { 5 }).unwrap())
                .join()
                .unwrap();
            task.await
        })
        .unwrap();
    assert_eq!(value.unwrap(), 5);
}

#[test]
fn run_coroutine_threadsafe_gives_a_plain_thread_the_result() {
    let event_loop = EventLoop::new().unwrap();
    let handle = event_loop.handle();
    let submitter = std::thread::spawn(move || {
        let future = handle
            .run_coroutine_threadsafe(async {
                sleep(Duration::from_millis(2)).await;
                3
            })
            .unwrap();
        future.result(None)
    });
    event_loop
        .run_until_complete(async move {
            while !submitter.is_finished() {
                sleep(Duration::from_millis(1)).await;
            }
            assert_eq!(submitter.join().unwrap().unwrap(), 3);
        })
        .unwrap();
}

#[test]
fn closing_the_loop_cancels_pending_tasks_and_drops_their_futures() {
    let event_loop = EventLoop::new().unwrap();
    let drops = Arc::new(AtomicUsize::new(0));
    let guard = DropGuard(drops.clone());
    let task = event_loop
        .spawn(async move {
            let _guard = guard;
            pending::<()>().await;
        })
        .unwrap();
    event_loop.run_until_complete(yield_now()).unwrap();
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    event_loop.close().unwrap();
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    assert!(task.is_finished());
}

#[test]
fn run_cancels_leftover_tasks_and_waits_for_them() {
    let drops = Arc::new(AtomicUsize::new(0));
    let guard = DropGuard(drops.clone());
    let value = tulip_executor::run(async move {
        spawn(async move {
            let _guard = guard;
            sleep(Duration::from_secs(3600)).await;
        })
        .detach();
        7
    })
    .unwrap();
    assert_eq!(value, 7);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn run_in_executor_results_come_back_to_the_loop() {
    let value = tulip_executor::run(async {
        let handle = tulip_executor::Handle::current().unwrap();
        let a = handle.run_in_executor(|| 20).unwrap();
        let b = tulip_executor::to_thread(|| 22);
        a.await.unwrap() + b.await.unwrap()
    })
    .unwrap();
    assert_eq!(value, 42);
}

#[test]
fn virtual_time_does_not_jump_while_blocking_work_is_in_flight() {
    let event_loop = EventLoop::builder().virtual_time().build().unwrap();
    let start = event_loop.time();
    let (order, elapsed) = event_loop
        .run_until_complete(async {
            let order = Rc::new(RefCell::new(Vec::new()));
            let timer_order = order.clone();
            let timer = spawn_local(async move {
                sleep(Duration::from_secs(3600)).await;
                timer_order.borrow_mut().push("timer");
            });
            let job =
                tulip_executor::spawn_blocking(|| std::thread::sleep(Duration::from_millis(20)));
            job.await.unwrap();
            order.borrow_mut().push("blocking job");
            timer.await.unwrap();
            order.borrow().clone()
        })
        .map(|order| (order, event_loop.time() - start))
        .unwrap();
    assert_eq!(order, ["blocking job", "timer"]);
    assert_eq!(elapsed, Duration::from_secs(3600));
}

#[test]
fn several_threads_waiting_on_one_concurrent_future_all_return() {
    let event_loop = EventLoop::new().unwrap();
    let future = Arc::new(
        event_loop
            .handle()
            .run_coroutine_threadsafe(async { 5 })
            .unwrap(),
    );
    let waiters: Vec<_> = (0..2)
        .map(|_| {
            let future = future.clone();
            std::thread::spawn(move || future.result(None))
        })
        .collect();
    let waiters = event_loop
        .run_until_complete(async move {
            while !waiters.iter().all(|waiter| waiter.is_finished()) {
                sleep(Duration::from_millis(1)).await;
            }
            waiters
        })
        .unwrap();
    let mut outcomes: Vec<String> = waiters
        .into_iter()
        .map(|waiter| match waiter.join().unwrap() {
            Ok(value) => format!("value {value}"),
            Err(error) => format!("error {error}"),
        })
        .collect();
    outcomes.sort();
    assert_eq!(outcomes.len(), 2);
    assert_eq!(outcomes[1], "value 5");
    assert!(outcomes[0].starts_with("error"), "{outcomes:?}");
}

#[test]
fn run_keeps_the_loop_running_for_blocking_jobs_that_need_it() {
    // asyncio.run cancels leftover tasks first, then waits for the executor
    // with the loop running. A callback handed over by the job is not a task,
    // so it is never cancelled: it runs only if the loop still runs while
    // the job waits for it.
    let ran = Arc::new(AtomicUsize::new(0));
    let flag = ran.clone();
    tulip_executor::run(async move {
        let handle = tulip_executor::Handle::current().unwrap();
        tulip_executor::spawn_blocking(move || {
            let seen = Arc::new(AtomicUsize::new(0));
            let mark = seen.clone();
            handle
                .call_soon_threadsafe(move || mark.store(1, Ordering::SeqCst))
                .unwrap();
            // Bounded: a loop that stopped running would never run it.
            for _ in 0..10_000 {
                if seen.load(Ordering::SeqCst) == 1 {
                    flag.store(1, Ordering::SeqCst);
                    return;
                }
                std::thread::sleep(Duration::from_millis(1));
            }
        })
        .detach();
    })
    .unwrap();
    assert_eq!(ran.load(Ordering::SeqCst), 1);
}
