//! Timers: ordering, never early, cancellation, reset, waker updates, no reactor.

mod common;

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Poll, Wake, Waker};
use std::time::{Duration, Instant};

use common::{block_on, counter, poll_once};
use tulip_reactor::{Clock, Reactor, Timer};

fn virtual_reactor() -> Arc<Reactor> {
    Reactor::with_clock(Clock::virtual_time()).unwrap()
}

/// A waker that appends its id to a shared log when woken.
struct Logger(usize, Arc<Mutex<Vec<usize>>>);

impl Wake for Logger {
    fn wake(self: Arc<Self>) {
        self.1.lock().unwrap().push(self.0);
    }
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn fire_in_deadline_order_fifo_among_equal() {
    let reactor = virtual_reactor();
    let _guard = reactor.enter();
    let t0 = reactor.now();
    let log = Arc::new(Mutex::new(Vec::new()));
    let offsets = [30, 10, 20, 10, 30, 10, 20];
    let mut timers: Vec<Timer> = offsets.iter().map(|&o| Timer::at(t0 + ms(o))).collect();
    for (i, timer) in timers.iter_mut().enumerate() {
        let waker = Waker::from(Arc::new(Logger(i, log.clone())));
        assert!(poll_once(Pin::new(timer), &waker).is_pending());
    }
    assert_eq!(reactor.armed_timers(), offsets.len());
    assert_eq!(reactor.next_deadline(), Some(t0 + ms(10)));

    reactor.clock().advance_to(t0 + ms(20)).unwrap();
    assert_eq!(reactor.fire_timers(), Some(t0 + ms(30)));
    assert_eq!(*log.lock().unwrap(), vec![1, 3, 5, 2, 6]);

    reactor.clock().advance_to(t0 + ms(30)).unwrap();
    assert_eq!(reactor.fire_timers(), None);
    assert_eq!(*log.lock().unwrap(), vec![1, 3, 5, 2, 6, 0, 4]);
    let (_, noop) = counter();
    for timer in &mut timers {
        assert!(poll_once(Pin::new(timer), &noop).is_ready());
    }
    assert_eq!(reactor.armed_timers(), 0);
}

#[test]
fn never_fires_before_its_deadline() {
    let reactor = virtual_reactor();
    let _guard = reactor.enter();
    let mut timer = Timer::after(ms(10));
    let (wakes, waker) = counter();
    assert!(poll_once(Pin::new(&mut timer), &waker).is_pending());

    reactor
        .clock()
        .advance(ms(10) - Duration::from_nanos(1))
        .unwrap();
    reactor.fire_timers();
    assert_eq!(wakes.wakes(), 0);
    assert!(poll_once(Pin::new(&mut timer), &waker).is_pending());
    assert!(!timer.is_elapsed());

    reactor.clock().advance(Duration::from_nanos(1)).unwrap();
    assert!(timer.is_elapsed());
    reactor.fire_timers();
    assert_eq!(wakes.wakes(), 1);
    assert!(poll_once(Pin::new(&mut timer), &waker).is_ready());
}

#[test]
fn ready_at_first_poll_arms_nothing() {
    let reactor = virtual_reactor();
    let _guard = reactor.enter();
    let mut timer = Timer::at(reactor.now());
    let (_, waker) = counter();
    assert!(poll_once(Pin::new(&mut timer), &waker).is_ready());
    assert_eq!(reactor.armed_timers(), 0);
}

#[test]
fn dropped_timer_never_fires_and_leaves_store_empty() {
    let reactor = virtual_reactor();
    let _guard = reactor.enter();
    let (wakes, waker) = counter();
    let mut timer = Timer::after(ms(5));
    assert!(poll_once(Pin::new(&mut timer), &waker).is_pending());
    assert_eq!(reactor.armed_timers(), 1);
    drop(timer);
    assert_eq!(reactor.armed_timers(), 0);
    assert_eq!(reactor.next_deadline(), None);
    reactor.clock().advance(ms(5)).unwrap();
    assert_eq!(reactor.fire_timers(), None);
    assert_eq!(wakes.wakes(), 0);
}

#[test]
fn unpolled_timer_touches_no_store() {
    let reactor = virtual_reactor();
    let _guard = reactor.enter();
    let timer = Timer::after(ms(5));
    assert_eq!(reactor.armed_timers(), 0);
    drop(timer);
    assert_eq!(reactor.armed_timers(), 0);
}

#[test]
fn million_armed_and_cancelled_timers_leave_nothing() {
    let reactor = virtual_reactor();
    let _guard = reactor.enter();
    let (wakes, waker) = counter();
    for _ in 0..1_000_000 {
        let mut timer = Timer::after(Duration::from_secs(10));
        assert!(poll_once(Pin::new(&mut timer), &waker).is_pending());
    }
    assert_eq!(reactor.armed_timers(), 0);
    assert_eq!(reactor.next_deadline(), None);
    reactor.clock().advance(Duration::from_secs(10)).unwrap();
    reactor.fire_timers();
    assert_eq!(wakes.wakes(), 0);
}

#[test]
fn timer_dropped_on_another_thread_disarms_in_its_reactor() {
    let reactor = virtual_reactor();
    let _guard = reactor.enter();
    let mut timer = Timer::after(ms(5));
    let (_, waker) = counter();
    assert!(poll_once(Pin::new(&mut timer), &waker).is_pending());
    std::thread::spawn(move || drop(timer)).join().unwrap();
    assert_eq!(reactor.armed_timers(), 0);
}

#[test]
fn latest_waker_is_woken() {
    let reactor = virtual_reactor();
    let _guard = reactor.enter();
    let mut timer = Timer::after(ms(5));
    let (first, waker1) = counter();
    let (second, waker2) = counter();
    assert!(poll_once(Pin::new(&mut timer), &waker1).is_pending());
    assert!(poll_once(Pin::new(&mut timer), &waker2).is_pending());
    assert_eq!(reactor.armed_timers(), 1);
    reactor.clock().advance(ms(5)).unwrap();
    reactor.fire_timers();
    assert_eq!((first.wakes(), second.wakes()), (0, 1));
}

#[test]
fn reset_moves_the_deadline_earlier_and_later() {
    let reactor = virtual_reactor();
    let _guard = reactor.enter();
    let t0 = reactor.now();
    let (wakes, waker) = counter();
    let mut timer = Timer::at(t0 + ms(50));
    assert!(poll_once(Pin::new(&mut timer), &waker).is_pending());

    timer.reset(t0 + ms(10));
    assert_eq!(timer.deadline(), t0 + ms(10));
    assert_eq!(reactor.next_deadline(), Some(t0 + ms(10)));
    assert_eq!(reactor.armed_timers(), 1);

    timer.reset(t0 + ms(100));
    assert_eq!(reactor.next_deadline(), Some(t0 + ms(100)));
    reactor.clock().advance_to(t0 + ms(99)).unwrap();
    reactor.fire_timers();
    assert_eq!(wakes.wakes(), 0);
    assert!(poll_once(Pin::new(&mut timer), &waker).is_pending());

    reactor.clock().advance_to(t0 + ms(100)).unwrap();
    reactor.fire_timers();
    assert_eq!(wakes.wakes(), 1);
    assert!(poll_once(Pin::new(&mut timer), &waker).is_ready());
}

#[test]
fn reset_after_firing_rearms() {
    let reactor = virtual_reactor();
    let _guard = reactor.enter();
    let t0 = reactor.now();
    let (wakes, waker) = counter();
    let mut timer = Timer::at(t0 + ms(10));
    assert!(poll_once(Pin::new(&mut timer), &waker).is_pending());
    reactor.clock().advance_to(t0 + ms(10)).unwrap();
    reactor.fire_timers();
    assert!(poll_once(Pin::new(&mut timer), &waker).is_ready());

    timer.reset(t0 + ms(20));
    assert!(!timer.is_elapsed());
    assert!(poll_once(Pin::new(&mut timer), &waker).is_pending());
    assert_eq!(reactor.next_deadline(), Some(t0 + ms(20)));
    reactor.clock().advance_to(t0 + ms(20)).unwrap();
    reactor.fire_timers();
    assert_eq!(wakes.wakes(), 2);
    assert!(poll_once(Pin::new(&mut timer), &waker).is_ready());
    assert_eq!(reactor.armed_timers(), 0);
}

#[test]
fn reset_keeps_fifo_after_existing_equal_deadlines() {
    let reactor = virtual_reactor();
    let _guard = reactor.enter();
    let t0 = reactor.now();
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut a = Timer::at(t0 + ms(5));
    let mut b = Timer::at(t0 + ms(10));
    for (i, timer) in [&mut a, &mut b].into_iter().enumerate() {
        let waker = Waker::from(Arc::new(Logger(i, log.clone())));
        assert!(poll_once(Pin::new(timer), &waker).is_pending());
    }
    a.reset(t0 + ms(10));
    reactor.clock().advance_to(t0 + ms(10)).unwrap();
    reactor.fire_timers();
    assert_eq!(*log.lock().unwrap(), vec![1, 0]);
}

#[test]
fn block_on_sleeps_in_virtual_time() {
    let reactor = virtual_reactor();
    let t0 = reactor.now();
    block_on(&reactor, async {
        Timer::after(Duration::from_secs(3600)).await;
        Timer::after(Duration::from_secs(1)).await;
    });
    assert_eq!(reactor.now() - t0, Duration::from_secs(3601));
}

#[test]
fn block_on_sleeps_on_the_real_clock() {
    let reactor = Reactor::new().unwrap();
    let start = Instant::now();
    block_on(&reactor, Timer::after(ms(2)));
    assert!(Instant::now() >= start + ms(2));
}

#[test]
fn huge_duration_does_not_panic() {
    let reactor = virtual_reactor();
    let _guard = reactor.enter();
    let mut timer = Timer::after(Duration::MAX);
    let (_, waker) = counter();
    assert!(poll_once(Pin::new(&mut timer), &waker).is_pending());
    assert!(timer.deadline() > reactor.now());
}

#[test]
fn without_reactor_completes_at_deadline_by_self_waking() {
    assert!(Reactor::current().is_err());
    let mut timer = Timer::after(ms(1));
    let (wakes, waker) = counter();
    let mut polls = 0usize;
    loop {
        polls += 1;
        assert!(
            polls < 100_000_000,
            "timer outside a runtime never completed"
        );
        match poll_once(Pin::new(&mut timer), &waker) {
            Poll::Ready(()) => break,
            Poll::Pending => assert_eq!(wakes.wakes(), polls),
        }
        std::thread::yield_now();
    }
    assert!(timer.is_elapsed());
}

/// Runs a timer-heavy scenario on a virtual clock and returns the wake order.
fn scenario() -> Vec<usize> {
    let reactor = virtual_reactor();
    let _guard = reactor.enter();
    let t0 = reactor.now();
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut timers = Vec::new();
    let mut x: u64 = 12345;
    for i in 0..1000 {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let mut timer = Timer::at(t0 + ms(1 + (x >> 33) % 200));
        let waker = Waker::from(Arc::new(Logger(i, log.clone())));
        assert!(poll_once(Pin::new(&mut timer), &waker).is_pending());
        timers.push(timer);
    }
    // Cancel some, move some, then let time run to the end in jumps.
    timers.retain(|t| t.deadline() != t0 + ms(7));
    for (i, timer) in timers.iter_mut().enumerate() {
        if i % 10 == 0 {
            timer.reset(t0 + ms(100));
        }
    }
    while let Some(next) = reactor.fire_timers() {
        reactor.clock().advance_to(next).unwrap();
    }
    assert_eq!(reactor.armed_timers(), 0);
    log.lock().unwrap().clone()
}

#[test]
fn virtual_time_runs_are_deterministic() {
    let first = scenario();
    assert!(first.len() > 900);
    for _ in 0..3 {
        assert_eq!(scenario(), first);
    }
}

/// Counts wakes.
struct CountingWaker(std::sync::atomic::AtomicUsize);

impl std::task::Wake for CountingWaker {
    fn wake(self: std::sync::Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

#[test]
fn register_arms_without_reading_the_clock_and_a_due_timer_fires_next() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::{Context, Waker};
    use std::time::Duration;
    use tulip_reactor::{Clock, Reactor, Timer};

    let reactor = Reactor::with_clock(Clock::virtual_time()).unwrap();
    let _guard = reactor.enter();
    let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
    let waker = Waker::from(counter.clone());
    let cx = Context::from_waker(&waker);

    // Already due: armed anyway, and fired by the next fire_timers.
    let mut due = Timer::at(reactor.now());
    due.register(&cx);
    let mut later = Timer::after(Duration::from_secs(5));
    later.register(&cx);
    assert_eq!(reactor.armed_timers(), 2);
    assert_eq!(counter.0.load(Ordering::SeqCst), 0);
    reactor.fire_timers();
    assert_eq!(counter.0.load(Ordering::SeqCst), 1);
    assert_eq!(reactor.armed_timers(), 1);
    reactor.clock().advance(Duration::from_secs(5)).unwrap();
    reactor.fire_timers();
    assert_eq!(counter.0.load(Ordering::SeqCst), 2);
    assert_eq!(reactor.armed_timers(), 0);
}

#[test]
fn register_outside_a_runtime_wakes_at_once() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::{Context, Waker};
    use std::time::Duration;
    use tulip_reactor::Timer;

    let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
    let waker = Waker::from(counter.clone());
    let mut timer = Timer::after(Duration::from_secs(60));
    timer.register(&Context::from_waker(&waker));
    assert_eq!(counter.0.load(Ordering::SeqCst), 1);
}
