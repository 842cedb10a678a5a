//! `Queue`, `LifoQueue`, `PriorityQueue`: asyncio's queues, with `task_done`
//! / `join` and 3.13's `shutdown`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::error::{GetNowaitError, PutNowaitError, QueueShutDown, TaskDoneError};
use crate::state_lock::StateLock;
use crate::waiters::{Cancelled, WaiterKey, WaiterList, WakeList};

mod order;

use order::sealed::Store;
pub use order::{Fifo, Lifo, Order, Priority};

/// asyncio's `Queue`: first in, first out.
///
/// ```
/// use std::sync::Arc;
/// use tulip_sync::Queue;
///
/// # tulip_executor::EventLoop::new().unwrap().run_until_complete(async {
/// let queue = Arc::new(Queue::new(2)); // at most 2 items; 0 is unbounded
/// let consumer = tulip_executor::spawn({
///     let queue = Arc::clone(&queue);
///     async move {
///         let mut total = 0;
///         while let Ok(n) = queue.get().await {
///             total += n;
///             queue.task_done().unwrap();
///         }
///         total // `get` fails once the queue is shut down and empty
///     }
/// });
/// for n in 1..=5 {
///     queue.put(n).await.unwrap(); // waits while the queue is full
/// }
/// queue.join().await; // every item got and marked done
/// queue.shutdown(false);
/// assert_eq!(consumer.await.unwrap(), 15);
/// # }).unwrap();
/// ```
pub type Queue<T> = GenericQueue<T, Fifo>;

/// asyncio's `LifoQueue`: last in, first out.
pub type LifoQueue<T> = GenericQueue<T, Lifo>;

/// asyncio's `PriorityQueue`: the smallest item first (wrap items in
/// [`std::cmp::Reverse`] for the largest first).
pub type PriorityQueue<T> = GenericQueue<T, Priority>;

/// The queue behind [`Queue`], [`LifoQueue`] and [`PriorityQueue`], which
/// differ only in the order `O` they hand items out in.
///
/// Tasks are served in arrival order on both sides: an item put while
/// tasks wait in [`get`](GenericQueue::get) goes to the first of them, and
/// room made while tasks wait in [`put`](GenericQueue::put) goes to the
/// first of those. Every wait is cancel-safe: a `get` dropped after it was
/// handed an item gives the item back (to the next getter, or to the head
/// of the queue), and a `put` dropped while it waits takes its item with it
/// (the item is either in the queue or dropped, never both). One visible
/// difference from asyncio follows: an item put while a task waits in `get`
/// goes straight to that task, so it never counts in
/// [`qsize`](GenericQueue::qsize). And a `get` cancelled after being handed
/// an item returns it to the queue even if the queue filled up meanwhile,
/// which may then briefly hold `maxsize + 1` items: losing the item would
/// be worse.
pub struct GenericQueue<T, O: Order<T>> {
    maxsize: usize,
    state: StateLock<State<T, O::Store>>,
}

/// The future of [`GenericQueue::put`].
#[must_use = "futures do nothing unless polled"]
pub struct QueuePut<'a, T, O: Order<T>> {
    queue: &'a GenericQueue<T, O>,
    item: Option<T>,
    key: Option<WaiterKey>,
}

/// The future of [`GenericQueue::get`].
#[must_use = "futures do nothing unless polled"]
pub struct QueueGet<'a, T, O: Order<T>> {
    queue: &'a GenericQueue<T, O>,
    key: Option<WaiterKey>,
}

/// The future of [`GenericQueue::join`].
#[must_use = "futures do nothing unless polled"]
pub struct QueueJoin<'a, T, O: Order<T>> {
    queue: &'a GenericQueue<T, O>,
    key: Option<WaiterKey>,
}

struct State<T, S> {
    items: S,
    /// Tasks waiting for an item; only ever non-empty while `items` is.
    getters: WaiterList<(), Result<T, QueueShutDown>>,
    /// Tasks waiting for room, each with its item; only ever non-empty
    /// while the queue is full. Granted `Err(item)` on shutdown.
    putters: WaiterList<T, Result<(), T>>,
    joiners: WaiterList<(), ()>,
    /// Items put and not yet marked done.
    unfinished: usize,
    shut_down: bool,
    /// Shut down with `immediate`: items are not kept.
    drained: bool,
}

impl<T, O: Order<T>> GenericQueue<T, O> {
    /// A queue of at most `maxsize` items; `0` means unbounded.
    pub fn new(maxsize: usize) -> Self {
        GenericQueue {
            maxsize,
            state: StateLock::new(State {
                items: O::Store::new(),
                getters: WaiterList::new(),
                putters: WaiterList::new(),
                joiners: WaiterList::new(),
                unfinished: 0,
                shut_down: false,
                drained: false,
            }),
        }
    }

    /// Puts `item`, waiting while the queue is full. Fails, giving the item
    /// back, once the queue is shut down.
    pub fn put(&self, item: T) -> QueuePut<'_, T, O> {
        QueuePut {
            queue: self,
            item: Some(item),
            key: None,
        }
    }

    /// Takes the next item, waiting while the queue is empty. Fails once the
    /// queue is shut down and empty (at once after an immediate shutdown).
    pub fn get(&self) -> QueueGet<'_, T, O> {
        QueueGet {
            queue: self,
            key: None,
        }
    }

    /// Puts `item` if there is room now; otherwise gives it back in
    /// [`PutNowaitError::QueueFull`] (or [`PutNowaitError::QueueShutDown`]).
    pub fn put_nowait(&self, item: T) -> Result<(), PutNowaitError<T>> {
        let mut wakers = WakeList::new();
        let result = self.state.lock().try_put(item, self.maxsize, &mut wakers);
        wakers.wake_all();
        result
    }

    /// Takes the next item if there is one now.
    pub fn get_nowait(&self) -> Result<T, GetNowaitError> {
        let mut wakers = WakeList::new();
        let result = self.state.lock().try_get(&mut wakers);
        wakers.wake_all();
        result
    }

    /// How many items are in the queue.
    pub fn qsize(&self) -> usize {
        self.state.lock().items.len()
    }

    /// Whether the queue holds no item.
    pub fn empty(&self) -> bool {
        self.qsize() == 0
    }

    /// Whether the queue holds `maxsize` items (never, when unbounded).
    pub fn full(&self) -> bool {
        self.state.lock().is_full(self.maxsize)
    }

    /// The most items the queue holds; `0` means unbounded.
    pub fn maxsize(&self) -> usize {
        self.maxsize
    }

    /// Marks one item got from the queue as processed, for
    /// [`join`](GenericQueue::join). Fails if every item put was already
    /// marked done (asyncio raises `ValueError`).
    pub fn task_done(&self) -> Result<(), TaskDoneError> {
        let mut wakers = WakeList::new();
        {
            let mut state = self.state.lock();
            if state.unfinished == 0 {
                return Err(TaskDoneError);
            }
            state.unfinished -= 1;
            state.release_joiners(&mut wakers);
        }
        wakers.wake_all();
        Ok(())
    }

    /// Waits until every item put has been marked done with
    /// [`task_done`](GenericQueue::task_done).
    pub fn join(&self) -> QueueJoin<'_, T, O> {
        QueueJoin {
            queue: self,
            key: None,
        }
    }

    /// Shuts the queue down, asyncio 3.13's way: `put`s fail from now on
    /// (waiting ones too, giving their items back), and `get`s fail once the
    /// queue is empty. With `immediate`, the items still queued are dropped
    /// and count as done for [`join`](GenericQueue::join), so `get`s fail at
    /// once.
    pub fn shutdown(&self, immediate: bool) {
        let mut wakers = WakeList::new();
        let dropped = {
            let mut state = self.state.lock();
            state.shut_down = true;
            let dropped = if immediate {
                state.drained = true;
                let dropped = state.items.take_all();
                state.unfinished = state.unfinished.saturating_sub(dropped.len());
                state.release_joiners(&mut wakers);
                dropped
            } else {
                Vec::new()
            };
            // Getters wait only on an empty queue, so all of them fail now.
            state.getters.grant_all(|()| Err(QueueShutDown(())), &mut wakers);
            state.putters.grant_all(Err, &mut wakers);
            dropped
        };
        wakers.wake_all();
        drop(dropped);
    }

    /// Whether [`shutdown`](GenericQueue::shutdown) was called.
    pub fn is_shut_down(&self) -> bool {
        self.state.lock().shut_down
    }
}

impl<T, O: Order<T>> Default for GenericQueue<T, O> {
    /// An unbounded queue.
    fn default() -> Self {
        GenericQueue::new(0)
    }
}

impl<T, S: Store<T>> State<T, S> {
    fn is_full(&self, maxsize: usize) -> bool {
        maxsize > 0 && self.items.len() >= maxsize
    }

    fn try_put(
        &mut self,
        item: T,
        maxsize: usize,
        wakers: &mut WakeList,
    ) -> Result<(), PutNowaitError<T>> {
        if self.shut_down {
            return Err(PutNowaitError::QueueShutDown(item));
        }
        if !self.getters.is_empty() {
            // The queue is empty: hand the item to the first getter.
            self.getters.grant_front(|()| Ok(item), wakers);
        } else if self.is_full(maxsize) || !self.putters.is_empty() {
            return Err(PutNowaitError::QueueFull(item));
        } else {
            self.items.push(item);
        }
        self.unfinished += 1;
        Ok(())
    }

    fn try_get(&mut self, wakers: &mut WakeList) -> Result<T, GetNowaitError> {
        match self.items.pop() {
            Some(item) => {
                // Room was made: the first waiting putter's item goes in.
                let State {
                    items,
                    putters,
                    unfinished,
                    ..
                } = self;
                putters.grant_front(
                    |waiting| {
                        items.push(waiting);
                        *unfinished += 1;
                        Ok(())
                    },
                    wakers,
                );
                Ok(item)
            }
            None if self.shut_down => Err(GetNowaitError::QueueShutDown),
            None => Err(GetNowaitError::QueueEmpty),
        }
    }

    /// Gives back an item handed to a getter that never collected it: to the
    /// next getter, else to the head of the queue. Returns the item if the
    /// queue was drained meanwhile and it must be dropped.
    fn return_item(&mut self, item: T, wakers: &mut WakeList) -> Option<T> {
        if self.drained {
            self.unfinished = self.unfinished.saturating_sub(1);
            self.release_joiners(wakers);
            return Some(item);
        }
        if self.getters.is_empty() {
            self.items.push_back_returned(item);
        } else {
            self.getters.grant_front(|()| Ok(item), wakers);
        }
        None
    }

    fn release_joiners(&mut self, wakers: &mut WakeList) {
        if self.unfinished == 0 {
            self.joiners.grant_all(|()| (), wakers);
        }
    }
}

// The item is never pinned: it is only ever moved whole, into the queue or
// back to the caller.
impl<T, O: Order<T>> Unpin for QueuePut<'_, T, O> {}

impl<T, O: Order<T>> Future for QueuePut<'_, T, O> {
    type Output = Result<(), QueueShutDown<T>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let queue = this.queue;
        let mut wakers = WakeList::new();
        let poll = {
            let mut state = queue.state.lock();
            match this.key.take() {
                None => {
                    let item = this
                        .item
                        .take()
                        .expect("a QueuePut was polled after it completed");
                    match state.try_put(item, queue.maxsize, &mut wakers) {
                        Ok(()) => Poll::Ready(Ok(())),
                        Err(PutNowaitError::QueueShutDown(item)) => {
                            Poll::Ready(Err(QueueShutDown(item)))
                        }
                        Err(PutNowaitError::QueueFull(item)) => {
                            this.key = Some(state.putters.push_back(item, cx.waker()));
                            Poll::Pending
                        }
                    }
                }
                Some(key) => match state.putters.poll_grant(key, cx.waker()) {
                    Ok(result) => Poll::Ready(result.map_err(QueueShutDown)),
                    Err(key) => {
                        this.key = Some(key);
                        Poll::Pending
                    }
                },
            }
        };
        wakers.wake_all();
        poll
    }
}

impl<T, O: Order<T>> Drop for QueuePut<'_, T, O> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            // The item either made it into the queue (granted) or leaves with
            // this future; dropped here, outside the lock.
            let _item = match self.queue.state.lock().putters.cancel(key) {
                Cancelled::Waiting(item) | Cancelled::Granted(Err(item)) => Some(item),
                Cancelled::Granted(Ok(())) => None,
            };
        }
    }
}

impl<T, O: Order<T>> Future for QueueGet<'_, T, O> {
    type Output = Result<T, QueueShutDown>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let mut wakers = WakeList::new();
        let poll = {
            let mut state = this.queue.state.lock();
            match this.key.take() {
                None => match state.try_get(&mut wakers) {
                    Ok(item) => Poll::Ready(Ok(item)),
                    Err(GetNowaitError::QueueShutDown) => Poll::Ready(Err(QueueShutDown(()))),
                    Err(GetNowaitError::QueueEmpty) => {
                        this.key = Some(state.getters.push_back((), cx.waker()));
                        Poll::Pending
                    }
                },
                Some(key) => match state.getters.poll_grant(key, cx.waker()) {
                    Ok(result) => Poll::Ready(result),
                    Err(key) => {
                        this.key = Some(key);
                        Poll::Pending
                    }
                },
            }
        };
        wakers.wake_all();
        poll
    }
}

impl<T, O: Order<T>> Drop for QueueGet<'_, T, O> {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else {
            return;
        };
        let mut wakers = WakeList::new();
        let _dropped = {
            let mut state = self.queue.state.lock();
            match state.getters.cancel(key) {
                Cancelled::Granted(Ok(item)) => state.return_item(item, &mut wakers),
                Cancelled::Granted(Err(_)) | Cancelled::Waiting(()) => None,
            }
        };
        wakers.wake_all();
    }
}

impl<T, O: Order<T>> Future for QueueJoin<'_, T, O> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let mut state = this.queue.state.lock();
        match this.key.take() {
            None if state.unfinished == 0 => Poll::Ready(()),
            None => {
                this.key = Some(state.joiners.push_back((), cx.waker()));
                Poll::Pending
            }
            Some(key) => match state.joiners.poll_grant(key, cx.waker()) {
                Ok(()) => Poll::Ready(()),
                Err(key) => {
                    this.key = Some(key);
                    Poll::Pending
                }
            },
        }
    }
}

impl<T, O: Order<T>> Drop for QueueJoin<'_, T, O> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.queue.state.lock().joiners.cancel(key);
        }
    }
}

impl<T, O: Order<T>> fmt::Debug for GenericQueue<T, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.lock();
        f.debug_struct("Queue")
            .field("maxsize", &self.maxsize)
            .field("qsize", &state.items.len())
            .field("getters", &state.getters.len())
            .field("putters", &state.putters.len())
            .field("unfinished", &state.unfinished)
            .field("shut_down", &state.shut_down)
            .finish()
    }
}

impl<T, O: Order<T>> fmt::Debug for QueuePut<'_, T, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QueuePut").finish_non_exhaustive()
    }
}

impl<T, O: Order<T>> fmt::Debug for QueueGet<'_, T, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QueueGet").finish_non_exhaustive()
    }
}

impl<T, O: Order<T>> fmt::Debug for QueueJoin<'_, T, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QueueJoin").finish_non_exhaustive()
    }
}
