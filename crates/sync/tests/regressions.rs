//! Regression tests for bugs found in review, each driven by hand (no
//! runtime): the futures are polled with explicit wakers.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, Mutex, mpsc};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use tulip_sync::{Event, EventWait, PriorityQueue, Queue};

fn poll<F: Future + Unpin>(future: &mut F, waker: &Waker) -> Poll<F::Output> {
    Pin::new(future).poll(&mut Context::from_waker(waker))
}

/// A getter waiting at a graceful shutdown, behind an item promised to
/// another getter, takes that item if the other getter is dropped: `get`
/// fails only once the queue is shut down *and* empty.
#[test]
fn waiting_getter_takes_an_item_given_back_after_shutdown() {
    let noop = Waker::noop();
    let queue = Queue::<u32>::new(0);
    let mut first = queue.get();
    let mut second = queue.get();
    assert!(poll(&mut first, noop).is_pending());
    assert!(poll(&mut second, noop).is_pending());
    queue.put_nowait(7).expect("the queue is open");
    queue.shutdown(false);
    drop(first);
    assert_eq!(queue.qsize(), 1);
    assert!(matches!(poll(&mut second, noop), Poll::Ready(Ok(7))));
    let mut third = queue.get();
    assert!(matches!(poll(&mut third, noop), Poll::Ready(Err(_))));
}

/// A waker whose drop re-enters the primitive must not be dropped under its
/// lock: here, replacing it drops the last reference to a pending wait on
/// the same event.
#[test]
fn a_replaced_waker_is_dropped_outside_the_lock() {
    /// Owns a pending wait: dropping the waker drops the wait, which takes
    /// the event's lock.
    struct HoldsAWait(#[allow(dead_code)] Mutex<Option<EventWait<'static>>>);
    impl Wake for HoldsAWait {
        fn wake(self: Arc<Self>) {}
    }
    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || {
        // A static rather than a leaked box, so that Miri sees no leak.
        static EVENT: LazyLock<Event> = LazyLock::new(Event::new);
        let event: &'static Event = &EVENT;
        let noop = Waker::noop();
        let mut inner = event.wait();
        assert!(poll(&mut inner, noop).is_pending());
        let holder = Waker::from(Arc::new(HoldsAWait(Mutex::new(Some(inner)))));
        let mut outer = event.wait();
        assert!(poll(&mut outer, &holder).is_pending());
        drop(holder); // the event's stored clone is now the last reference
        let _ = poll(&mut outer, noop); // replaces it: `inner` drops, relocking
        drop(outer); // and cancelling drops a waker too
        done.send(()).expect("the test is waiting");
    });
    assert!(
        finished.recv_timeout(Duration::from_secs(60)).is_ok(),
        "deadlock: a waker was dropped while the event's lock was held"
    );
}

/// A priority queue whose `Ord` panics during a put keeps the item, and
/// counts it for `join`.
#[test]
fn a_panicking_ord_leaves_the_item_counted() {
    static PANIC: AtomicBool = AtomicBool::new(false);
    #[derive(PartialEq, Eq, Debug)]
    struct Key(u32);
    impl PartialOrd for Key {
        fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
            Some(self.cmp(other))
        }
    }
    impl Ord for Key {
        fn cmp(&self, other: &Self) -> std::cmp::Ordering {
            assert!(!PANIC.load(Ordering::SeqCst), "a comparison panicked");
            self.0.cmp(&other.0)
        }
    }
    let queue = PriorityQueue::<Key>::new(0);
    queue.put_nowait(Key(9)).expect("the queue is open");
    PANIC.store(true, Ordering::SeqCst);
    let put = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| queue.put_nowait(Key(1))));
    PANIC.store(false, Ordering::SeqCst);
    assert!(put.is_err());
    assert_eq!(queue.qsize(), 2, "the item is in the queue");
    queue.get_nowait().expect("an item");
    queue.get_nowait().expect("an item");
    queue.task_done().expect("one item done");
    let mut join = queue.join();
    assert!(
        poll(&mut join, Waker::noop()).is_pending(),
        "one item is not done"
    );
    queue.task_done().expect("the second item counts too");
    assert!(poll(&mut join, Waker::noop()).is_ready());
}
