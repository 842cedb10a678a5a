//! Clocks: a virtual clock moves only when advanced, forwards only; real clocks refuse.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tulip_reactor::{Clock, ClockError, Reactor};

#[test]
fn virtual_clock_is_frozen_until_advanced() {
    let clock = Clock::virtual_time();
    let t0 = clock.now();
    std::thread::sleep(Duration::from_millis(2));
    assert_eq!(clock.now(), t0);
    clock.advance(Duration::from_millis(7)).unwrap();
    assert_eq!(clock.now(), t0 + Duration::from_millis(7));
}

#[test]
fn advance_to_never_goes_backwards() {
    let clock = Clock::virtual_time();
    let t0 = clock.now();
    clock.advance_to(t0 + Duration::from_secs(10)).unwrap();
    clock.advance_to(t0 + Duration::from_secs(3)).unwrap();
    assert_eq!(clock.now(), t0 + Duration::from_secs(10));
    clock
        .advance_to(t0.checked_sub(Duration::from_secs(1)).unwrap_or(t0))
        .unwrap();
    assert_eq!(clock.now(), t0 + Duration::from_secs(10));
}

#[test]
fn real_clock_cannot_be_advanced() {
    let clock = Clock::real();
    assert!(!clock.is_virtual());
    assert_eq!(clock.advance(Duration::from_secs(1)), Err(ClockError::Real));
    assert_eq!(clock.advance_to(Instant::now()), Err(ClockError::Real));
    let a = clock.now();
    assert!(clock.now() >= a);
}

#[test]
fn overflow_is_a_typed_error_and_leaves_time_unchanged() {
    let clock = Clock::virtual_time();
    let t0 = clock.now();
    assert_eq!(clock.advance(Duration::MAX), Err(ClockError::Overflow));
    assert_eq!(clock.now(), t0);
    clock.advance(Duration::from_secs(1)).unwrap();
    assert_eq!(clock.now(), t0 + Duration::from_secs(1));
}

#[test]
fn concurrent_advances_add_up() {
    let clock = Arc::new(Clock::virtual_time());
    let t0 = clock.now();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let clock = clock.clone();
            std::thread::spawn(move || {
                for _ in 0..1000 {
                    clock.advance(Duration::from_micros(1)).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(clock.now(), t0 + Duration::from_millis(4));
}

#[test]
fn reactor_reads_its_clock() {
    let reactor = Reactor::with_clock(Clock::virtual_time()).unwrap();
    let t0 = reactor.now();
    assert_eq!(reactor.clock().now(), t0);
    reactor.clock().advance(Duration::from_secs(2)).unwrap();
    assert_eq!(reactor.now(), t0 + Duration::from_secs(2));
    assert!(!Reactor::new().unwrap().clock().is_virtual());
}

#[test]
fn error_messages() {
    assert_eq!(
        ClockError::Real.to_string(),
        "the real clock cannot be advanced; only a virtual clock can"
    );
    assert_eq!(
        tulip_reactor::NoReactor.to_string(),
        "no tulip reactor is running on this thread"
    );
}
