//! `Queue`, `LifoQueue`, `PriorityQueue`: asyncio's queues, with `task_done`
//! / `join` and 3.13's `shutdown`.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
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
///
/// The items' `Ord` runs while the queue's internal lock is held: it must
/// not use the queue, and should not panic (if it does, the item stays in
/// the queue, but tasks waiting for it may not be woken until the next
/// operation on the queue).
pub type PriorityQueue<T> = GenericQueue<T, Priority>;

/// The queue behind [`Queue`], [`LifoQueue`] and [`PriorityQueue`], which
/// differ only in the order `O` they hand items out in.
///
/// As in asyncio, an item put always goes into the queue, and a task
/// waiting in [`get`](GenericQueue::get) is woken to take the next item when
/// it runs (so a priority queue gives it the smallest item at that moment);
/// a task waiting in [`put`](GenericQueue::put) is woken when room is made
/// and puts its item when it runs.
///
/// Unlike asyncio, waiters are served strictly in arrival order: an item (or
/// a slot of room) is promised to the task woken for it, and nobody else
/// takes it in the meantime. So [`get_nowait`](GenericQueue::get_nowait)
/// may report [`QueueEmpty`](GetNowaitError::QueueEmpty) while
/// [`qsize`](GenericQueue::qsize) counts items that are all promised to
/// woken getters, and [`put_nowait`](GenericQueue::put_nowait) may report
/// [`QueueFull`](PutNowaitError::QueueFull) while the room is promised to a
/// woken putter; asyncio would let the caller barge in and send the woken
/// task back to the end of the line.
///
/// Every wait is cancel-safe: a `get` dropped after it was woken passes its
/// item on to the next getter, a `put` dropped after it was woken passes the
/// room on, and a dropped `put` takes its item with it, never in the queue.
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
    /// Tasks waiting for an item.
    getters: WaiterList<(), Turn>,
    /// Tasks waiting for room.
    putters: WaiterList<(), Turn>,
    joiners: WaiterList<(), ()>,
    /// Items promised to getters that were woken and have not run yet.
    promised_items: usize,
    /// Room promised to putters that were woken and have not run yet.
    promised_room: usize,
    /// Items put and not yet marked done.
    unfinished: usize,
    shut_down: bool,
    /// The item type, which `S` holds.
    _items: PhantomData<T>,
}

/// What a waiting getter or putter is woken with.
enum Turn {
    /// An item (or room) is promised to it: take it when it runs.
    Go,
    /// The queue was shut down while it waited.
    ShutDown,
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
                promised_items: 0,
                promised_room: 0,
                unfinished: 0,
                shut_down: false,
                _items: PhantomData,
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
        let result = self.state.lock().try_get(self.maxsize, &mut wakers);
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
                let dropped = state.items.take_all();
                // Getters already woken find the queue empty and fail.
                state.promised_items = 0;
                state.unfinished = state.unfinished.saturating_sub(dropped.len());
                state.release_joiners(&mut wakers);
                dropped
            } else {
                Vec::new()
            };
            // Getters still waiting fail now if the queue is empty. If not,
            // every item is promised to a woken getter, and one may still
            // come back to them (a woken getter dropped before it runs);
            // `pop` fails them once the last item is taken.
            if state.items.len() == 0 {
                state.getters.grant_all(|()| Turn::ShutDown, &mut wakers);
            }
            state.putters.grant_all(|()| Turn::ShutDown, &mut wakers);
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

    /// Items nobody has been promised.
    fn free_items(&self) -> usize {
        self.items.len().saturating_sub(self.promised_items)
    }

    /// Room nobody has been promised.
    fn free_room(&self, maxsize: usize) -> usize {
        match maxsize {
            0 => usize::MAX,
            _ => maxsize.saturating_sub(self.items.len() + self.promised_room),
        }
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
        if self.free_room(maxsize) == 0 || !self.putters.is_empty() {
            return Err(PutNowaitError::QueueFull(item));
        }
        self.push(item, wakers);
        Ok(())
    }

    fn try_get(&mut self, maxsize: usize, wakers: &mut WakeList) -> Result<T, GetNowaitError> {
        if self.free_items() == 0 || !self.getters.is_empty() {
            return Err(match self.shut_down && self.items.len() == 0 {
                true => GetNowaitError::QueueShutDown,
                false => GetNowaitError::QueueEmpty,
            });
        }
        self.pop(maxsize, wakers).ok_or(GetNowaitError::QueueEmpty)
    }

    /// Adds an item and wakes the first waiting getter for it.
    fn push(&mut self, item: T, wakers: &mut WakeList) {
        // Counted first: a panicking `Ord` in a priority queue leaves the
        // item in the heap, and it must count for `join` all the same.
        self.unfinished += 1;
        self.items.push(item);
        self.wake_getters(wakers);
    }

    /// Takes the next item and wakes the first waiting putter for the room.
    fn pop(&mut self, maxsize: usize, wakers: &mut WakeList) -> Option<T> {
        let item = self.items.pop()?;
        self.wake_putters(maxsize, wakers);
        if self.shut_down && self.items.len() == 0 {
            // Getters that queued behind items promised to others have
            // nothing left to wait for.
            self.getters.grant_all(|()| Turn::ShutDown, wakers);
        }
        Some(item)
    }

    /// Promises each unpromised item to a waiting getter, in arrival order.
    fn wake_getters(&mut self, wakers: &mut WakeList) {
        while self.free_items() > 0 && self.getters.grant_front(|()| Turn::Go, wakers) {
            self.promised_items += 1;
        }
    }

    /// Promises each slot of unpromised room to a waiting putter.
    fn wake_putters(&mut self, maxsize: usize, wakers: &mut WakeList) {
        while self.free_room(maxsize) > 0 && self.putters.grant_front(|()| Turn::Go, wakers) {
            self.promised_room += 1;
        }
    }

    /// A woken putter used (or gave up) the room promised to it.
    fn take_promised_room(&mut self) {
        debug_assert!(self.promised_room > 0, "room was promised");
        self.promised_room -= 1;
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
        let item = this
            .item
            .take()
            .expect("a QueuePut was polled after it completed");
        let mut wakers = WakeList::new();
        let poll = {
            let mut state = queue.state.lock();
            let turn = match this.key.take() {
                None => match state.try_put(item, queue.maxsize, &mut wakers) {
                    Ok(()) => Ok(()),
                    Err(PutNowaitError::QueueShutDown(item)) => Err(QueueShutDown(item)),
                    Err(PutNowaitError::QueueFull(item)) => {
                        this.key = Some(state.putters.push_back((), cx.waker()));
                        this.item = Some(item);
                        return Poll::Pending;
                    }
                },
                Some(key) => match state.putters.poll_grant(key, cx.waker(), &mut wakers) {
                    Ok(Turn::Go) => {
                        state.take_promised_room();
                        if state.shut_down {
                            Err(QueueShutDown(item))
                        } else {
                            state.push(item, &mut wakers);
                            Ok(())
                        }
                    }
                    Ok(Turn::ShutDown) => Err(QueueShutDown(item)),
                    Err(key) => {
                        this.key = Some(key);
                        this.item = Some(item);
                        return Poll::Pending;
                    }
                },
            };
            Poll::Ready(turn)
        };
        wakers.wake_all();
        poll
    }
}

impl<T, O: Order<T>> Drop for QueuePut<'_, T, O> {
    fn drop(&mut self) {
        // The item, if still here, leaves with the future (dropped after
        // this, outside the lock); room promised to it goes to the next.
        let Some(key) = self.key.take() else {
            return;
        };
        let mut wakers = WakeList::new();
        {
            let mut state = self.queue.state.lock();
            if let Cancelled::Granted(Turn::Go) = state.putters.cancel(key, &mut wakers) {
                state.take_promised_room();
                state.wake_putters(self.queue.maxsize, &mut wakers);
            }
        }
        wakers.wake_all();
    }
}

impl<T, O: Order<T>> Future for QueueGet<'_, T, O> {
    type Output = Result<T, QueueShutDown>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let maxsize = this.queue.maxsize;
        let mut wakers = WakeList::new();
        let poll = {
            let mut state = this.queue.state.lock();
            let turn = match this.key.take() {
                None => Turn::Go,
                Some(key) => match state.getters.poll_grant(key, cx.waker(), &mut wakers) {
                    Ok(Turn::Go) => {
                        // Promised an item: it is there unless an immediate
                        // shutdown dropped it (and reset the promises).
                        state.promised_items = state.promised_items.saturating_sub(1);
                        match state.pop(maxsize, &mut wakers) {
                            Some(item) => {
                                drop(state);
                                wakers.wake_all();
                                return Poll::Ready(Ok(item));
                            }
                            None => Turn::Go,
                        }
                    }
                    Ok(Turn::ShutDown) => Turn::ShutDown,
                    Err(key) => {
                        this.key = Some(key);
                        return Poll::Pending;
                    }
                },
            };
            match turn {
                Turn::ShutDown => Poll::Ready(Err(QueueShutDown(()))),
                Turn::Go => match state.try_get(maxsize, &mut wakers) {
                    Ok(item) => Poll::Ready(Ok(item)),
                    Err(GetNowaitError::QueueShutDown) => Poll::Ready(Err(QueueShutDown(()))),
                    Err(GetNowaitError::QueueEmpty) => {
                        this.key = Some(state.getters.push_back((), cx.waker()));
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
        {
            let mut state = self.queue.state.lock();
            if let Cancelled::Granted(Turn::Go) = state.getters.cancel(key, &mut wakers) {
                // The item promised to it goes to the next getter (unless an
                // immediate shutdown dropped it and reset the promises).
                state.promised_items = state.promised_items.saturating_sub(1);
                state.wake_getters(&mut wakers);
            }
        }
        wakers.wake_all();
    }
}

impl<T, O: Order<T>> Future for QueueJoin<'_, T, O> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let mut wakers = WakeList::new();
        let poll = {
            let mut state = this.queue.state.lock();
            let done = state.unfinished == 0;
            state
                .joiners
                .poll_released(&mut this.key, done, cx.waker(), &mut wakers)
        };
        wakers.wake_all();
        poll
    }
}

impl<T, O: Order<T>> Drop for QueueJoin<'_, T, O> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            let mut wakers = WakeList::new();
            self.queue.state.lock().joiners.cancel(key, &mut wakers);
            wakers.wake_all();
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
