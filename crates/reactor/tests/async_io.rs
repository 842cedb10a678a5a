//! Async<T> over UnixStream pairs: reads, writes, EOF, readiness clearing, waiters.

mod common;

use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use common::{block_on, counter, join, poll_once};
use tulip_reactor::{Async, Clock, NoReactor, Reactor};

fn pair(reactor: &Arc<Reactor>) -> (Async<UnixStream>, Async<UnixStream>) {
    let (a, b) = UnixStream::pair().unwrap();
    (
        Async::with_reactor(a, reactor).unwrap(),
        Async::with_reactor(b, reactor).unwrap(),
    )
}

/// Turns the reactor without blocking, delivering pending events.
fn turn(reactor: &Reactor) {
    reactor.park(Some(Duration::ZERO), || true).unwrap();
}

#[test]
fn write_then_read_round_trip() {
    let reactor = Reactor::new().unwrap();
    let (a, b) = pair(&reactor);
    let got = block_on(&reactor, async {
        let sent = b.write_with(|mut s| s.write(b"hello, tulip")).await?;
        let mut buf = vec![0; sent];
        a.read_with(|mut s| s.read_exact(&mut buf)).await?;
        Ok::<_, io::Error>(buf)
    })
    .unwrap();
    assert_eq!(got, b"hello, tulip");
}

#[test]
fn reader_waits_for_a_later_writer() {
    let reactor = Reactor::new().unwrap();
    let (a, b) = pair(&reactor);
    let (read, _) = block_on(&reactor, async {
        join(
            async {
                let mut buf = [0; 3];
                let n = a.read_with(|mut s| s.read(&mut buf)).await.unwrap();
                buf[..n].to_vec()
            },
            async {
                tulip_reactor::Timer::after(Duration::from_millis(1)).await;
                b.write_with(|mut s| s.write(b"abc")).await.unwrap()
            },
        )
        .await
    });
    assert_eq!(read, b"abc");
}

#[test]
fn read_sees_eof_after_peer_closes() {
    let reactor = Reactor::new().unwrap();
    let (a, b) = pair(&reactor);
    let mut buf = [0; 16];
    block_on(&reactor, async {
        b.write_with(|mut s| s.write(b"last")).await.unwrap();
        drop(b);
        let n = a.read_with(|mut s| s.read(&mut buf)).await.unwrap();
        assert_eq!(n, 4);
        let n = a.read_with(|mut s| s.read(&mut buf)).await.unwrap();
        assert_eq!(n, 0, "EOF");
    });
}

#[test]
fn eof_arriving_while_waiting_wakes_the_reader() {
    let reactor = Reactor::new().unwrap();
    let (a, b) = pair(&reactor);
    let (wakes, waker) = counter();
    let mut buf = [0; 16];
    let mut read = pin!(a.read_with(|mut s| s.read(&mut buf)));
    assert!(poll_once(read.as_mut(), &waker).is_pending());
    drop(b);
    turn(&reactor);
    assert_eq!(wakes.wakes(), 1);
    assert!(matches!(
        poll_once(read.as_mut(), &waker),
        Poll::Ready(Ok(0))
    ));
}

#[test]
fn would_block_clearing_does_not_lose_a_racing_event() {
    let reactor = Reactor::new().unwrap();
    let (a, b) = pair(&reactor);
    let (_, waker) = counter();
    let cx = &mut Context::from_waker(&waker);
    let mut b = b.into_inner().unwrap();
    let mut buf = [0; 8];
    let mut attempts = 0;
    // The first attempt observes WouldBlock, but while it runs the peer writes and the
    // reactor delivers the readable event. The readiness it clears must survive.
    let polled = a.poll_read_with(cx, |mut s| {
        attempts += 1;
        if attempts == 1 {
            b.write_all(b"race").unwrap();
            turn(&reactor);
            return Err(io::ErrorKind::WouldBlock.into());
        }
        s.read(&mut buf)
    });
    assert!(matches!(polled, Poll::Ready(Ok(4))), "{polled:?}");
    assert_eq!(attempts, 2);
    assert_eq!(&buf[..4], b"race");
}

#[test]
fn would_block_clearing_does_not_lose_a_racing_event_async() {
    let reactor = Reactor::new().unwrap();
    let (a, b) = pair(&reactor);
    let (_, waker) = counter();
    let mut b = b.into_inner().unwrap();
    let mut buf = [0; 8];
    let mut attempts = 0;
    let mut read = pin!(a.read_with(|mut s| {
        attempts += 1;
        if attempts == 1 {
            b.write_all(b"race").unwrap();
            turn(&reactor);
            return Err(io::ErrorKind::WouldBlock.into());
        }
        s.read(&mut buf)
    }));
    assert!(matches!(
        poll_once(read.as_mut(), &waker),
        Poll::Ready(Ok(4))
    ));
}

#[test]
fn would_block_without_event_clears_and_waits() {
    let reactor = Reactor::new().unwrap();
    let (a, mut b) = {
        let (a, b) = UnixStream::pair().unwrap();
        (Async::with_reactor(a, &reactor).unwrap(), b)
    };
    b.write_all(b"x").unwrap();
    turn(&reactor);
    let (wakes, waker) = counter();
    let cx = &mut Context::from_waker(&waker);
    let cx2 = &mut Context::from_waker(&waker);
    assert!(a.poll_readable(cx).is_ready());
    let mut buf = [0; 8];
    assert!(matches!(
        a.poll_read_with(cx2, |mut s| s.read(&mut buf)),
        Poll::Ready(Ok(1))
    ));
    // Drained: the next attempt sees WouldBlock, clears readiness and registers.
    assert!(a.poll_read_with(cx, |mut s| s.read(&mut buf)).is_pending());
    assert!(a.poll_readable(cx).is_pending());
    assert!(reactor.io_awaited());
    b.write_all(b"y").unwrap();
    turn(&reactor);
    assert_eq!(wakes.wakes(), 1);
    assert!(!reactor.io_awaited());
    assert!(a.poll_readable(cx).is_ready());
}

#[test]
fn two_tasks_awaiting_readable_are_both_woken() {
    let reactor = Reactor::new().unwrap();
    let (a, b) = pair(&reactor);
    let (wakes1, waker1) = counter();
    let (wakes2, waker2) = counter();
    let mut r1 = pin!(a.readable());
    let mut r2 = pin!(a.readable());
    assert!(poll_once(r1.as_mut(), &waker1).is_pending());
    assert!(poll_once(r2.as_mut(), &waker2).is_pending());
    b.get_ref().write_all(b"!").unwrap();
    turn(&reactor);
    assert_eq!((wakes1.wakes(), wakes2.wakes()), (1, 1));
    assert!(matches!(
        poll_once(r1.as_mut(), &waker1),
        Poll::Ready(Ok(()))
    ));
    assert!(matches!(
        poll_once(r2.as_mut(), &waker2),
        Poll::Ready(Ok(()))
    ));
}

#[test]
fn poll_slot_keeps_only_the_latest_waker() {
    let reactor = Reactor::new().unwrap();
    let (a, b) = pair(&reactor);
    let mut buf = [0; 1];
    let (_, noop) = counter();
    // Drain the initial readiness (none: nothing written) so we really wait.
    assert!(
        a.poll_read_with(&mut Context::from_waker(&noop), |mut s| s.read(&mut buf))
            .is_pending()
    );
    let (wakes1, waker1) = counter();
    let (wakes2, waker2) = counter();
    assert!(
        a.poll_readable(&mut Context::from_waker(&waker1))
            .is_pending()
    );
    assert!(
        a.poll_readable(&mut Context::from_waker(&waker2))
            .is_pending()
    );
    b.get_ref().write_all(b"!").unwrap();
    turn(&reactor);
    assert_eq!((wakes1.wakes(), wakes2.wakes()), (0, 1));
    assert!(!reactor.io_awaited());
}

#[test]
fn io_awaited_tracks_waiting_readers() {
    let reactor = Reactor::new().unwrap();
    let (a, b) = pair(&reactor);
    assert!(!reactor.io_awaited());
    let (wakes, waker) = counter();
    {
        let mut waiting = pin!(a.readable());
        assert!(poll_once(waiting.as_mut(), &waker).is_pending());
        assert!(reactor.io_awaited());
    }
    assert!(
        !reactor.io_awaited(),
        "a dropped future withdraws its waker"
    );

    let mut buf = [0; 4];
    let mut read = pin!(a.read_with(|mut s| s.read(&mut buf)));
    assert!(poll_once(read.as_mut(), &waker).is_pending());
    assert!(reactor.io_awaited());
    b.get_ref().write_all(b"data").unwrap();
    turn(&reactor);
    assert_eq!(wakes.wakes(), 1);
    assert!(!reactor.io_awaited(), "a woken waker no longer counts");
    assert!(matches!(
        poll_once(read.as_mut(), &waker),
        Poll::Ready(Ok(4))
    ));
}

#[test]
fn dropping_async_wakes_nobody_and_frees_the_slot() {
    let reactor = Reactor::new().unwrap();
    let (a, b) = pair(&reactor);
    assert_eq!(reactor.registered_sources(), 2);
    let (wakes, waker) = counter();
    let mut buf = [0; 1];
    assert!(
        a.poll_read_with(&mut Context::from_waker(&waker), |mut s| s.read(&mut buf))
            .is_pending()
    );
    assert!(reactor.io_awaited());
    drop(a);
    assert!(!reactor.io_awaited());
    assert_eq!(reactor.registered_sources(), 1);
    drop(b);
    turn(&reactor);
    assert_eq!(wakes.wakes(), 0);
    assert_eq!(reactor.registered_sources(), 0);
}

#[test]
fn stale_events_for_a_reused_slot_are_harmless() {
    let reactor = Reactor::new().unwrap();
    for _ in 0..100 {
        let (a, b) = pair(&reactor);
        b.get_ref().write_all(b"x").unwrap();
        drop(a);
        drop(b);
        // Fresh sources reuse the freed slots; events for the old ones must not matter.
        let (c, d) = pair(&reactor);
        turn(&reactor);
        let mut buf = [0; 1];
        let (_, waker) = counter();
        let cx = &mut Context::from_waker(&waker);
        assert!(c.poll_read_with(cx, |mut s| s.read(&mut buf)).is_pending());
        drop((c, d));
    }
    assert_eq!(reactor.registered_sources(), 0);
}

#[test]
fn new_without_reactor_is_an_error() {
    let (a, _b) = UnixStream::pair().unwrap();
    let err = Async::new(a).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::Other);
    let inner = err.into_inner().unwrap();
    assert!(inner.downcast_ref::<NoReactor>().is_some());
}

#[test]
fn new_uses_the_current_reactor_and_into_inner_deregisters() {
    let reactor = Reactor::with_clock(Clock::virtual_time()).unwrap();
    let _guard = reactor.enter();
    let (a, _b) = UnixStream::pair().unwrap();
    let a = Async::new(a).unwrap();
    assert!(Arc::ptr_eq(a.reactor(), &reactor));
    assert_eq!(reactor.registered_sources(), 1);
    let a = a.into_inner().unwrap();
    assert_eq!(reactor.registered_sources(), 0);
    assert!(a.peer_addr().is_ok());
}

#[test]
fn large_transfer_across_threads() {
    let reactor = Reactor::new().unwrap();
    let (a, b) = pair(&reactor);
    let total = 4 * 1024 * 1024;
    let writer = {
        let reactor = reactor.clone();
        std::thread::spawn(move || {
            let chunk = vec![0xab; 64 * 1024];
            block_on(&reactor, async {
                let mut sent = 0;
                while sent < total {
                    let n = (total - sent).min(chunk.len());
                    sent += b.write_with(|mut s| s.write(&chunk[..n])).await.unwrap();
                }
            });
        })
    };
    let mut received = 0;
    let mut buf = vec![0; 64 * 1024];
    block_on(&reactor, async {
        while received < total {
            let n = a.read_with(|mut s| s.read(&mut buf)).await.unwrap();
            assert!(n > 0);
            assert!(buf[..n].iter().all(|&x| x == 0xab));
            received += n;
        }
    });
    writer.join().unwrap();
    assert_eq!(received, total);
}
