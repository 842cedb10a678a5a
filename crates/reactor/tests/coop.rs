//! Cooperative budget: exhaustion returns Pending and wakes; nesting restores.

mod common;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::task::{Context, Poll};

use common::counter;
use tulip_reactor::{Async, Reactor, coop};

#[test]
fn exhausted_budget_returns_pending_and_wakes() {
    let (wakes, waker) = counter();
    let cx = &mut Context::from_waker(&waker);
    coop::with_budget(3, || {
        for _ in 0..3 {
            assert!(coop::poll_proceed(cx).is_ready());
        }
        assert_eq!(wakes.wakes(), 0);
        assert!(coop::poll_proceed(cx).is_pending());
        assert_eq!(wakes.wakes(), 1);
        assert!(coop::poll_proceed(cx).is_pending());
        assert_eq!(wakes.wakes(), 2);
    });
}

#[test]
fn unconstrained_outside_with_budget() {
    let (wakes, waker) = counter();
    let cx = &mut Context::from_waker(&waker);
    for _ in 0..10_000 {
        assert!(coop::poll_proceed(cx).is_ready());
    }
    assert_eq!(wakes.wakes(), 0);
}

#[test]
fn nested_budgets_restore_the_outer_one() {
    let (_, waker) = counter();
    let cx = &mut Context::from_waker(&waker);
    coop::with_budget(2, || {
        assert!(coop::poll_proceed(cx).is_ready());
        coop::with_budget(5, || {
            for _ in 0..5 {
                assert!(coop::poll_proceed(cx).is_ready());
            }
            assert!(coop::poll_proceed(cx).is_pending());
        });
        assert!(coop::poll_proceed(cx).is_ready());
        assert!(coop::poll_proceed(cx).is_pending());
    });
    assert!(coop::poll_proceed(cx).is_ready());
}

#[test]
fn budget_is_restored_after_a_panic() {
    let result = std::panic::catch_unwind(|| coop::with_budget(0, || panic!("inside")));
    assert!(result.is_err());
    let (_, waker) = counter();
    assert!(coop::poll_proceed(&mut Context::from_waker(&waker)).is_ready());
}

#[test]
fn always_ready_io_yields_when_the_budget_is_spent() {
    let reactor = Reactor::new().unwrap();
    let (a, mut b) = UnixStream::pair().unwrap();
    let a = Async::with_reactor(a, &reactor).unwrap();
    b.write_all(&[7; 64]).unwrap();
    let (wakes, waker) = counter();
    let cx = &mut Context::from_waker(&waker);
    let mut byte = [0; 1];
    coop::with_budget(4, || {
        for _ in 0..4 {
            let read = a.poll_read_with(cx, |mut s| s.read(&mut byte));
            assert!(matches!(read, Poll::Ready(Ok(1))));
        }
        assert!(a.poll_read_with(cx, |mut s| s.read(&mut byte)).is_pending());
        assert_eq!(wakes.wakes(), 1);
        // Data is still there; the Pending came from the budget, not from the socket.
        assert!(!reactor.io_awaited());
    });
}
