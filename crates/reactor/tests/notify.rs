//! Cross-thread notification: a parked reactor always comes back.

mod common;

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use common::{counter, poll_once};
use tulip_reactor::{Reactor, Timer};

/// Aborts the process if a test hangs (a lost wake), instead of hanging CI forever.
fn watchdog(done: Arc<AtomicBool>) {
    thread::spawn(move || {
        for _ in 0..600 {
            if done.load(Ordering::SeqCst) {
                return;
            }
            thread::sleep(Duration::from_millis(100));
        }
        eprintln!("watchdog: a parked reactor was never woken");
        std::process::abort();
    });
}

#[test]
fn notify_from_four_threads_is_never_lost() {
    const THREADS: usize = 4;
    const PER_THREAD: usize = 20_000;
    let done = Arc::new(AtomicBool::new(false));
    watchdog(done.clone());
    let reactor = Reactor::new().unwrap();
    // The "queue": items published by producers, consumed by the parking thread.
    let published = Arc::new(AtomicUsize::new(0));
    let producers: Vec<_> = (0..THREADS)
        .map(|_| {
            let (reactor, published) = (reactor.clone(), published.clone());
            thread::spawn(move || {
                for i in 0..PER_THREAD {
                    published.fetch_add(1, Ordering::SeqCst);
                    reactor.notify();
                    if i % 64 == 0 {
                        thread::yield_now();
                    }
                }
            })
        })
        .collect();
    let mut consumed = 0;
    let mut parks = 0usize;
    while consumed < THREADS * PER_THREAD {
        consumed = published.load(Ordering::SeqCst);
        if consumed == THREADS * PER_THREAD {
            break;
        }
        parks += 1;
        assert!(parks <= THREADS * PER_THREAD + 1, "more parks than items");
        reactor
            .park(None, || published.load(Ordering::SeqCst) == consumed)
            .unwrap();
    }
    for p in producers {
        p.join().unwrap();
    }
    done.store(true, Ordering::SeqCst);
}

#[test]
fn notify_before_park_is_seen_by_still_idle() {
    let reactor = Reactor::new().unwrap();
    let work = AtomicBool::new(false);
    work.store(true, Ordering::SeqCst);
    reactor.notify(); // not parked: no signal, but the work is visible to still_idle
    let mut asked = false;
    reactor
        .park(None, || {
            asked = true;
            !work.load(Ordering::SeqCst)
        })
        .unwrap();
    assert!(asked);
}

#[test]
fn zero_timeout_park_does_not_call_still_idle() {
    let reactor = Reactor::new().unwrap();
    reactor
        .park(Some(Duration::ZERO), || panic!("must not be called"))
        .unwrap();
}

#[test]
fn repeated_park_notify_rounds() {
    let done = Arc::new(AtomicBool::new(false));
    watchdog(done.clone());
    let reactor = Reactor::new().unwrap();
    for _ in 0..200 {
        let flag = Arc::new(AtomicBool::new(false));
        let t = {
            let (reactor, flag) = (reactor.clone(), flag.clone());
            thread::spawn(move || {
                flag.store(true, Ordering::SeqCst);
                reactor.notify();
            })
        };
        while !flag.load(Ordering::SeqCst) {
            reactor.park(None, || !flag.load(Ordering::SeqCst)).unwrap();
        }
        t.join().unwrap();
    }
    done.store(true, Ordering::SeqCst);
}

#[test]
fn timer_armed_from_another_thread_wakes_a_parked_reactor() {
    let done = Arc::new(AtomicBool::new(false));
    watchdog(done.clone());
    let reactor = Reactor::new().unwrap();
    let (wakes, waker) = counter();
    let t = {
        let reactor = reactor.clone();
        thread::spawn(move || {
            let _guard = reactor.enter();
            let mut timer = Timer::after(Duration::from_millis(1));
            assert!(poll_once(Pin::new(&mut timer), &waker).is_pending());
            // Hand the armed timer back by forgetting nothing: keep it armed until fired.
            timer
        })
    };
    // Parking with no timeout must still return: either the timer was armed before
    // (park shortens its wait to it) or the arming thread signals the parked reactor.
    let mut turns = 0;
    while wakes.wakes() == 0 {
        turns += 1;
        assert!(turns < 10_000);
        reactor.park(None, || true).unwrap();
        reactor.fire_timers();
    }
    drop(t.join().unwrap());
    assert_eq!(reactor.armed_timers(), 0);
    done.store(true, Ordering::SeqCst);
}
