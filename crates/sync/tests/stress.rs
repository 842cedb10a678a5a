//! Stress tests on real OS threads: no lost wake-ups, no lost or duplicated
//! items, exclusion and permit counts that hold under contention.
//!
//! Each thread drives its futures with the minimal [`block_on`] below, which
//! parks the thread until its waker is woken, so a lost wake-up leaves a
//! thread parked forever. Every test body runs under [`bounded`], which
//! turns such a hang into a failure naming the test instead of a stuck CI.
//! Under Miri the same tests run with far fewer iterations.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::Duration;

use tulip_sync::{Barrier, Condition, Event, Lock, Queue, Semaphore};

/// How long a test body may take before it is declared hung (each takes
/// well under a second natively, and seconds under Miri).
const TIMEOUT: Duration = Duration::from_secs(if cfg!(miri) { 600 } else { 60 });

/// `normal` iterations, or `miri` under Miri, where threads are slow.
const fn iterations(normal: usize, miri: usize) -> usize {
    if cfg!(miri) { miri } else { normal }
}

/// Wakes a thread blocked in [`block_on`].
struct Unpark(thread::Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Drives `future` to completion on this thread, parking while it is
/// pending. Spurious unparks only cost an extra poll.
fn block_on<F: Future>(future: F) -> F::Output {
    let waker = Waker::from(Arc::new(Unpark(thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        thread::park();
    }
}

/// Runs `body` on its own thread and waits at most [`TIMEOUT`] for it: a
/// body still running then has a thread parked for good, most likely on a
/// lost wake-up. A panic in the body is passed on.
fn bounded<T: Send + 'static>(name: &str, body: impl FnOnce() -> T + Send + 'static) -> T {
    let (done, finished) = mpsc::channel();
    let handle = thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || {
            let output = body();
            // The receiver is gone only if the test already failed.
            let _ = done.send(output);
        })
        .expect("spawn the test body");
    match finished.recv_timeout(TIMEOUT) {
        Ok(output) => {
            handle.join().expect("the body returned");
            output
        }
        Err(RecvTimeoutError::Timeout) => {
            panic!("possible lost wakeup in {name}: still running after {TIMEOUT:?}")
        }
        Err(RecvTimeoutError::Disconnected) => match handle.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => unreachable!("the body ended without sending its output"),
        },
    }
}

/// Lets other threads in, to widen the windows where races happen.
fn jitter(i: usize) {
    if i.is_multiple_of(7) {
        thread::yield_now();
    }
}

#[test]
fn lock_counter_is_exact_under_contention() {
    const THREADS: usize = 8;
    let per_thread = iterations(5_000, 20);
    let total = bounded("lock_counter_is_exact_under_contention", move || {
        let counter = Lock::new(0_u64);
        let inside = AtomicBool::new(false);
        thread::scope(|s| {
            for _ in 0..THREADS {
                s.spawn(|| {
                    for i in 0..per_thread {
                        let mut value = block_on(counter.lock());
                        assert!(!inside.swap(true, SeqCst), "two holders at once");
                        let read = *value;
                        jitter(i);
                        *value = read + 1;
                        inside.store(false, SeqCst);
                    }
                });
            }
        });
        counter.into_inner()
    });
    assert_eq!(total, (THREADS * per_thread) as u64);
}

#[test]
fn semaphore_never_exceeds_its_permits() {
    const THREADS: usize = 8;
    const PERMITS: usize = 3;
    let per_thread = iterations(5_000, 20);
    let max_seen = bounded("semaphore_never_exceeds_its_permits", move || {
        let semaphore = Semaphore::new(PERMITS);
        let in_use = AtomicUsize::new(0);
        let max_seen = AtomicUsize::new(0);
        thread::scope(|s| {
            for _ in 0..THREADS {
                s.spawn(|| {
                    for i in 0..per_thread {
                        let permit = block_on(semaphore.acquire());
                        let now = in_use.fetch_add(1, SeqCst) + 1;
                        assert!(now <= PERMITS, "{now} holders of {PERMITS} permits");
                        max_seen.fetch_max(now, SeqCst);
                        jitter(i);
                        in_use.fetch_sub(1, SeqCst);
                        drop(permit);
                    }
                });
            }
        });
        assert_eq!(semaphore.available_permits(), PERMITS, "permits conserved");
        max_seen.into_inner()
    });
    assert!((1..=PERMITS).contains(&max_seen));
}

#[test]
fn queue_mpmc_delivers_every_item_once() {
    const PRODUCERS: usize = 4;
    const CONSUMERS: usize = 4;
    let per_producer = iterations(20_000, 20);
    let (count, sum) = bounded("queue_mpmc_delivers_every_item_once", move || {
        let queue = Queue::new(4);
        let count = AtomicUsize::new(0);
        let sum = AtomicUsize::new(0);
        thread::scope(|s| {
            let producers: Vec<_> = (0..PRODUCERS)
                .map(|p| {
                    let queue = &queue;
                    s.spawn(move || {
                        for i in 0..per_producer {
                            block_on(queue.put(p * per_producer + i)).expect("open queue");
                        }
                    })
                })
                .collect();
            for _ in 0..CONSUMERS {
                s.spawn(|| {
                    // Until the queue is shut down and drained.
                    while let Ok(item) = block_on(queue.get()) {
                        count.fetch_add(1, SeqCst);
                        sum.fetch_add(item, SeqCst);
                        queue.task_done().expect("one task_done per item");
                    }
                });
            }
            for producer in producers {
                producer.join().expect("producers do not panic");
            }
            block_on(queue.join());
            queue.shutdown(false);
        });
        assert!(queue.empty());
        (count.into_inner(), sum.into_inner())
    });
    let n = PRODUCERS * per_producer;
    assert_eq!(count, n, "every item received once");
    assert_eq!(sum, n * (n - 1) / 2, "no item lost or duplicated");
}

#[test]
fn event_ping_pong() {
    let rounds = iterations(10_000, 20);
    bounded("event_ping_pong", move || {
        let (ping, pong) = (Event::new(), Event::new());
        let step = AtomicUsize::new(0);
        thread::scope(|s| {
            s.spawn(|| {
                for round in 0..rounds {
                    assert_eq!(step.fetch_add(1, SeqCst), 2 * round);
                    ping.set();
                    block_on(pong.wait());
                    pong.clear();
                }
            });
            s.spawn(|| {
                for round in 0..rounds {
                    block_on(ping.wait());
                    ping.clear();
                    assert_eq!(step.fetch_add(1, SeqCst), 2 * round + 1);
                    pong.set();
                }
            });
        });
        assert_eq!(step.into_inner(), 2 * rounds);
    });
}

/// The buffer of the condition test.
struct Buffer {
    items: VecDeque<usize>,
    producers_done: bool,
}

#[test]
fn condition_bounded_buffer() {
    const PRODUCERS: usize = 2;
    const CONSUMERS: usize = 2;
    const CAPACITY: usize = 2;
    let per_producer = iterations(10_000, 20);
    let (count, sum) = bounded("condition_bounded_buffer", move || {
        let lock = Arc::new(Lock::new(Buffer {
            items: VecDeque::new(),
            producers_done: false,
        }));
        // Two conditions on one lock, as asyncio allows.
        let not_empty = Condition::with_lock(Arc::clone(&lock));
        let not_full = Condition::with_lock(Arc::clone(&lock));
        let count = AtomicUsize::new(0);
        let sum = AtomicUsize::new(0);
        thread::scope(|s| {
            let producers: Vec<_> = (0..PRODUCERS)
                .map(|p| {
                    let (not_empty, not_full) = (&not_empty, &not_full);
                    s.spawn(move || {
                        for i in 0..per_producer {
                            block_on(async {
                                let guard = not_full.lock().await;
                                let mut guard = not_full
                                    .wait_for(guard, |b| b.items.len() < CAPACITY)
                                    .await
                                    .expect("own lock");
                                guard.items.push_back(p * per_producer + i);
                                not_empty.notify(1);
                            });
                        }
                    })
                })
                .collect();
            for _ in 0..CONSUMERS {
                s.spawn(|| {
                    loop {
                        let item = block_on(async {
                            let guard = not_empty.lock().await;
                            let mut guard = not_empty
                                .wait_for(guard, |b| !b.items.is_empty() || b.producers_done)
                                .await
                                .expect("own lock");
                            let item = guard.items.pop_front();
                            not_full.notify(1);
                            item
                        });
                        let Some(item) = item else { break };
                        count.fetch_add(1, SeqCst);
                        sum.fetch_add(item, SeqCst);
                    }
                });
            }
            for producer in producers {
                producer.join().expect("producers do not panic");
            }
            block_on(async {
                lock.lock().await.producers_done = true;
                not_empty.notify_all();
            });
        });
        (count.into_inner(), sum.into_inner())
    });
    let n = PRODUCERS * per_producer;
    assert_eq!(count, n, "every item consumed once");
    assert_eq!(sum, n * (n - 1) / 2, "no item lost or duplicated");
}

#[test]
fn barrier_rounds_hand_out_each_index_once() {
    const PARTIES: usize = 4;
    let rounds = iterations(5_000, 10);
    let indices = bounded("barrier_rounds_hand_out_each_index_once", move || {
        let barrier = Barrier::new(PARTIES).expect("parties > 0");
        let indices = Mutex::new(vec![Vec::with_capacity(PARTIES); rounds]);
        thread::scope(|s| {
            for _ in 0..PARTIES {
                s.spawn(|| {
                    for round in 0..rounds {
                        let index = block_on(barrier.wait()).expect("never broken");
                        indices.lock().unwrap()[round].push(index);
                    }
                });
            }
        });
        assert_eq!(barrier.n_waiting(), 0);
        indices.into_inner().unwrap()
    });
    for (round, mut seen) in indices.into_iter().enumerate() {
        seen.sort_unstable();
        assert_eq!(seen, [0, 1, 2, 3], "round {round}");
    }
}
