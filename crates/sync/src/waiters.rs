//! The FIFO list of parked waiters that every primitive is built on.
//!
//! Each primitive keeps its state and one or more [`WaiterList`]s behind a
//! single mutex. A waiting future pushes a node holding its *request* (the
//! permits it wants, the item it puts, nothing at all) and keeps the
//! [`WaiterKey`]. Whoever frees the resource *grants* the front node: the
//! request is turned into a grant (the permits, the item got, an error), the
//! node leaves the queue but stays allocated, and its waker is handed back to
//! be woken once the mutex is released.
//!
//! The node is freed only by its owner, on the poll that collects the grant
//! or on drop ([`WaiterList::cancel`]); a grant collected by nobody is given
//! back to the caller of `cancel`, which passes it on. That is what makes
//! every waiting future cancel-safe: a grant is never lost with a dropped
//! future.
//!
//! The nodes live in a slab and are linked by index, so removing a
//! cancelled waiter from the middle is O(1) and a steady state of waiting
//! and waking allocates nothing.

use std::task::{Poll, Waker};

use slab::Slab;

/// A FIFO queue of waiters, each with a request `R` until it is granted `G`.
pub(crate) struct WaiterList<R, G> {
    nodes: Slab<Node<R, G>>,
    /// First and last waiting node, or [`NIL`].
    head: usize,
    tail: usize,
    /// Nodes still waiting (granted nodes are in `nodes` but not counted).
    waiting: usize,
}

/// The key of one waiter's node: held by exactly one future, never copied,
/// so a node is freed once.
#[derive(Debug)]
pub(crate) struct WaiterKey(usize);

/// What a cancelled waiter still held.
pub(crate) enum Cancelled<R, G> {
    /// It was still queued: here is its request back.
    Waiting(R),
    /// It had been granted but had not collected the grant: pass it on.
    Granted(G),
}

/// A batch of wakers collected under the mutex, woken (or, for wakers that
/// were replaced or withdrawn, dropped) after it is released: waking or
/// dropping a waker may run arbitrary code, which must not run under our
/// lock. (Cloning one does run under it, as it must to store the clone.)
#[derive(Default)]
pub(crate) struct WakeList {
    // Most releases wake one waiter: keep it out of the vector so that they
    // never allocate.
    first: Option<Waker>,
    rest: Vec<Waker>,
    /// A waker to drop, not wake: at most one per operation.
    discarded: Option<Waker>,
}

const NIL: usize = usize::MAX;

struct Node<R, G> {
    waker: Option<Waker>,
    prev: usize,
    next: usize,
    slot: Slot<R, G>,
}

enum Slot<R, G> {
    Waiting(R),
    Granted(G),
    /// Only while a request is being turned into a grant.
    Converting,
}

impl<R, G> WaiterList<R, G> {
    /// An empty list; allocates nothing.
    pub(crate) const fn new() -> Self {
        WaiterList {
            nodes: Slab::new(),
            head: NIL,
            tail: NIL,
            waiting: 0,
        }
    }

    /// Whether nobody is waiting.
    pub(crate) fn is_empty(&self) -> bool {
        self.waiting == 0
    }

    /// How many are waiting (granted nodes not counted).
    pub(crate) fn len(&self) -> usize {
        self.waiting
    }

    /// Queues a waiter at the back.
    pub(crate) fn push_back(&mut self, request: R, waker: &Waker) -> WaiterKey {
        let index = self.nodes.insert(Node {
            waker: Some(waker.clone()),
            prev: self.tail,
            next: NIL,
            slot: Slot::Waiting(request),
        });
        match self.tail {
            NIL => self.head = index,
            tail => self.nodes[tail].next = index,
        }
        self.tail = index;
        self.waiting += 1;
        WaiterKey(index)
    }

    /// The request of the waiter at the front, if any.
    pub(crate) fn front(&self) -> Option<&R> {
        match self.head {
            NIL => None,
            head => match &self.nodes[head].slot {
                Slot::Waiting(request) => Some(request),
                Slot::Granted(_) | Slot::Converting => {
                    unreachable!("only waiting nodes are linked")
                }
            },
        }
    }

    /// Grants the front waiter `grant(request)` and adds its waker to
    /// `wakers`; `false` if nobody was waiting.
    pub(crate) fn grant_front(
        &mut self,
        grant: impl FnOnce(R) -> G,
        wakers: &mut WakeList,
    ) -> bool {
        let index = self.head;
        if index == NIL {
            return false;
        }
        self.unlink(index);
        let node = &mut self.nodes[index];
        let Slot::Waiting(request) = std::mem::replace(&mut node.slot, Slot::Converting) else {
            unreachable!("only waiting nodes are linked");
        };
        node.slot = Slot::Granted(grant(request));
        if let Some(waker) = node.waker.take() {
            wakers.push(waker);
        }
        true
    }

    /// Grants every waiter, front to back.
    pub(crate) fn grant_all(&mut self, mut grant: impl FnMut(R) -> G, wakers: &mut WakeList) {
        while self.grant_front(&mut grant, wakers) {}
    }

    /// The grant of `key`'s waiter if it has one (the node is then freed and
    /// the key spent); otherwise stores `waker` and gives the key back. A
    /// waker it replaces goes to `wakers`, to be dropped after unlocking.
    pub(crate) fn poll_grant(
        &mut self,
        key: WaiterKey,
        waker: &Waker,
        wakers: &mut WakeList,
    ) -> Result<G, WaiterKey> {
        let node = &mut self.nodes[key.0];
        if let Slot::Waiting(_) = node.slot {
            match &mut node.waker {
                Some(stored) if stored.will_wake(waker) => {}
                stored => {
                    if let Some(replaced) = stored.replace(waker.clone()) {
                        wakers.discard(replaced);
                    }
                }
            }
            return Err(key);
        }
        match self.nodes.remove(key.0).slot {
            Slot::Granted(grant) => Ok(grant),
            Slot::Waiting(_) | Slot::Converting => unreachable!("checked above"),
        }
    }

    /// Frees `key`'s node, whatever its state, and says what it held. Its
    /// waker goes to `wakers`, to be dropped after unlocking.
    pub(crate) fn cancel(&mut self, key: WaiterKey, wakers: &mut WakeList) -> Cancelled<R, G> {
        if let Slot::Waiting(_) = self.nodes[key.0].slot {
            self.unlink(key.0);
        }
        let node = self.nodes.remove(key.0);
        if let Some(waker) = node.waker {
            wakers.discard(waker);
        }
        match node.slot {
            Slot::Waiting(request) => Cancelled::Waiting(request),
            Slot::Granted(grant) => Cancelled::Granted(grant),
            Slot::Converting => unreachable!("never left converting"),
        }
    }

    fn unlink(&mut self, index: usize) {
        let (prev, next) = {
            let node = &self.nodes[index];
            (node.prev, node.next)
        };
        match prev {
            NIL => self.head = next,
            prev => self.nodes[prev].next = next,
        }
        match next {
            NIL => self.tail = prev,
            next => self.nodes[next].prev = prev,
        }
        self.waiting -= 1;
    }
}

impl WaiterList<(), ()> {
    /// One poll of a wait for a state that releases every waiter at once (an
    /// event set, a queue joined): ready at once if `released` already,
    /// else queued (first poll) or checked for its grant (later polls).
    pub(crate) fn poll_released(
        &mut self,
        key: &mut Option<WaiterKey>,
        released: bool,
        waker: &Waker,
        wakers: &mut WakeList,
    ) -> Poll<()> {
        match key.take() {
            None if released => Poll::Ready(()),
            None => {
                *key = Some(self.push_back((), waker));
                Poll::Pending
            }
            Some(queued) => match self.poll_grant(queued, waker, wakers) {
                Ok(()) => Poll::Ready(()),
                Err(queued) => {
                    *key = Some(queued);
                    Poll::Pending
                }
            },
        }
    }
}

impl WakeList {
    /// An empty batch.
    pub(crate) const fn new() -> Self {
        WakeList {
            first: None,
            rest: Vec::new(),
            discarded: None,
        }
    }

    /// Adds a waker to the batch.
    pub(crate) fn push(&mut self, waker: Waker) {
        match self.first {
            None => self.first = Some(waker),
            Some(_) => self.rest.push(waker),
        }
    }

    /// Keeps a waker that is no longer needed, to be dropped with the batch.
    pub(crate) fn discard(&mut self, waker: Waker) {
        match self.discarded {
            None => self.discarded = Some(waker),
            // Never more than one per operation today; should that change,
            // dropping it here would run under the lock: wake it after
            // instead (a spurious wake-up is harmless).
            Some(_) => self.rest.push(waker),
        }
    }

    /// Wakes everyone in the batch and drops the discarded wakers (call with
    /// no lock held). Dropping the batch does the same, so that an early
    /// return cannot lose a wake-up: declare it before taking the lock, so
    /// that it is dropped after the guard.
    pub(crate) fn wake_all(self) {
        drop(self);
    }
}

impl Drop for WakeList {
    fn drop(&mut self) {
        drop(self.discarded.take());
        if let Some(first) = self.first.take() {
            first.wake();
        }
        for waker in self.rest.drain(..) {
            waker.wake();
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::sync::Arc;
    use std::task::Wake;

    use super::*;

    struct Flag;
    impl Wake for Flag {
        fn wake(self: Arc<Self>) {}
    }

    fn waker() -> Waker {
        Waker::from(Arc::new(Flag))
    }

    #[test]
    fn grants_in_arrival_order_and_skips_cancelled_waiters() {
        let mut list = WaiterList::<u32, u32>::new();
        let w = waker();
        let a = list.push_back(1, &w);
        let b = list.push_back(2, &w);
        let c = list.push_back(3, &w);
        let mut wakers = WakeList::new();
        assert!(matches!(list.cancel(b, &mut wakers), Cancelled::Waiting(2)));
        assert_eq!(list.len(), 2);
        assert!(list.grant_front(|r| r * 10, &mut wakers));
        assert_eq!(list.front(), Some(&3));
        assert!(matches!(list.poll_grant(a, &w, &mut wakers), Ok(10)));
        let c = list
            .poll_grant(c, &w, &mut wakers)
            .expect_err("c is still waiting");
        assert!(list.grant_front(|r| r * 10, &mut wakers));
        assert!(list.is_empty());
        assert!(!list.grant_front(|r| r, &mut wakers));
        assert!(matches!(
            list.cancel(c, &mut wakers),
            Cancelled::Granted(30)
        ));
        assert!(list.nodes.is_empty(), "every node freed by its owner");
    }

    #[test]
    fn cancelling_the_tail_and_head_keeps_the_links_consistent() {
        let mut list = WaiterList::<u32, ()>::new();
        let w = waker();
        let keys: Vec<_> = (0..4).map(|i| list.push_back(i, &w)).collect();
        let mut keys = keys.into_iter();
        let (k0, k1, k2, k3) = (
            keys.next().unwrap(),
            keys.next().unwrap(),
            keys.next().unwrap(),
            keys.next().unwrap(),
        );
        let mut wakers = WakeList::new();
        list.cancel(k3, &mut wakers);
        list.cancel(k0, &mut wakers);
        assert_eq!(list.front(), Some(&1));
        let e = list.push_back(9, &w);
        list.cancel(k1, &mut wakers);
        list.cancel(k2, &mut wakers);
        assert_eq!(list.front(), Some(&9));
        list.cancel(e, &mut wakers);
        assert!(list.is_empty());
        assert_eq!(list.front(), None);
    }
}
