//! Test helpers: counting wakers and a tiny `block_on` that drives a reactor.

#![allow(dead_code, unreachable_pub)]

use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use tulip_reactor::Reactor;

/// Upper bound on loop turns in `block_on`, so a bug fails instead of hanging.
pub const MAX_TURNS: usize = 1_000_000;

/// A waker that counts its wakes and notifies a reactor (as an event loop's would).
pub struct Counter {
    wakes: AtomicUsize,
    reactor: Option<Arc<Reactor>>,
}

impl Counter {
    pub fn wakes(&self) -> usize {
        self.wakes.load(Ordering::SeqCst)
    }

    pub fn reset(&self) {
        self.wakes.store(0, Ordering::SeqCst);
    }
}

impl Wake for Counter {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.wakes.fetch_add(1, Ordering::SeqCst);
        if let Some(reactor) = &self.reactor {
            reactor.notify();
        }
    }
}

/// A counting waker that does not notify anything.
pub fn counter() -> (Arc<Counter>, Waker) {
    let counter = Arc::new(Counter {
        wakes: AtomicUsize::new(0),
        reactor: None,
    });
    (counter.clone(), Waker::from(counter))
}

/// A counting waker that also notifies `reactor`.
pub fn notifying_counter(reactor: &Arc<Reactor>) -> (Arc<Counter>, Waker) {
    let counter = Arc::new(Counter {
        wakes: AtomicUsize::new(0),
        reactor: Some(reactor.clone()),
    });
    (counter.clone(), Waker::from(counter))
}

/// Polls `fut` once with `waker`.
pub fn poll_once<F: Future + ?Sized>(fut: Pin<&mut F>, waker: &Waker) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(waker))
}

/// Runs `fut` to completion on `reactor` (entered for the duration): polls when woken,
/// fires timers, jumps a virtual clock when nothing awaits I/O, parks otherwise.
pub fn block_on<F: Future>(reactor: &Arc<Reactor>, fut: F) -> F::Output {
    let _guard = reactor.enter();
    let (woken, waker) = notifying_counter(reactor);
    let mut fut = pin!(fut);
    for _ in 0..MAX_TURNS {
        woken.reset();
        if let Poll::Ready(out) = poll_once(fut.as_mut(), &waker) {
            return out;
        }
        let next = reactor.fire_timers();
        if woken.wakes() > 0 {
            continue;
        }
        let timeout = if reactor.clock().is_virtual() {
            if let (Some(deadline), false) = (next, reactor.io_awaited()) {
                reactor.clock().advance_to(deadline).unwrap();
                continue;
            }
            None
        } else {
            next.map(|d| d.saturating_duration_since(reactor.now()))
        };
        reactor.park(timeout, || woken.wakes() == 0).unwrap();
    }
    panic!("block_on: no completion after {MAX_TURNS} turns");
}

/// Awaits two futures concurrently (as two tasks would run).
pub async fn join<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    let (mut a, mut b) = (pin!(a), pin!(b));
    let (mut out_a, mut out_b) = (None, None);
    std::future::poll_fn(|cx| {
        if out_a.is_none()
            && let Poll::Ready(v) = a.as_mut().poll(cx)
        {
            out_a = Some(v);
        }
        if out_b.is_none()
            && let Poll::Ready(v) = b.as_mut().poll(cx)
        {
            out_b = Some(v);
        }
        if out_a.is_some() && out_b.is_some() {
            Poll::Ready((out_a.take().unwrap(), out_b.take().unwrap()))
        } else {
            Poll::Pending
        }
    })
    .await
}
