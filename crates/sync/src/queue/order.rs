//! The order a queue hands its items out in: FIFO, LIFO or priority.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

/// How a [`GenericQueue`](super::GenericQueue) orders its items: [`Fifo`],
/// [`Lifo`] or [`Priority`]. Sealed: the three are all there is.
pub trait Order<T>: sealed::Sealed {
    /// Where the items wait.
    #[doc(hidden)]
    type Store: sealed::Store<T>;
}

/// First in, first out: [`Queue`](super::Queue).
#[derive(Debug, Clone, Copy, Default)]
pub struct Fifo;

/// Last in, first out: [`LifoQueue`](super::LifoQueue).
#[derive(Debug, Clone, Copy, Default)]
pub struct Lifo;

/// Smallest first, like Python's `heapq`: [`PriorityQueue`](super::PriorityQueue).
#[derive(Debug, Clone, Copy, Default)]
pub struct Priority;

impl<T> Order<T> for Fifo {
    type Store = VecDeque<T>;
}

impl<T> Order<T> for Lifo {
    type Store = Vec<T>;
}

impl<T: Ord> Order<T> for Priority {
    type Store = BinaryHeap<Reverse<T>>;
}

pub(crate) mod sealed {
    use super::*;

    // Reachable only as a bound of the public `Order`, which is the point:
    // nobody outside the crate can name it, so nobody can implement it.
    #[allow(unreachable_pub)]
    pub trait Sealed {}

    impl Sealed for Fifo {}
    impl Sealed for Lifo {}
    impl Sealed for Priority {}

    /// The storage of one order.
    #[allow(unreachable_pub)]
    pub trait Store<T> {
        /// An empty store.
        fn new() -> Self;
        /// How many items it holds.
        fn len(&self) -> usize;
        /// Adds a newly put item.
        fn push(&mut self, item: T);
        /// The next item to hand out.
        fn pop(&mut self) -> Option<T>;
        /// Removes every item.
        fn take_all(&mut self) -> Vec<T>;
    }

    impl<T> Store<T> for VecDeque<T> {
        fn new() -> Self {
            VecDeque::new()
        }
        fn len(&self) -> usize {
            VecDeque::len(self)
        }
        fn push(&mut self, item: T) {
            self.push_back(item);
        }
        fn pop(&mut self) -> Option<T> {
            self.pop_front()
        }
        fn take_all(&mut self) -> Vec<T> {
            self.drain(..).collect()
        }
    }

    impl<T> Store<T> for Vec<T> {
        fn new() -> Self {
            Vec::new()
        }
        fn len(&self) -> usize {
            Vec::len(self)
        }
        fn push(&mut self, item: T) {
            Vec::push(self, item);
        }
        fn pop(&mut self) -> Option<T> {
            Vec::pop(self)
        }
        fn take_all(&mut self) -> Vec<T> {
            std::mem::take(self)
        }
    }

    impl<T: Ord> Store<T> for BinaryHeap<Reverse<T>> {
        fn new() -> Self {
            BinaryHeap::new()
        }
        fn len(&self) -> usize {
            BinaryHeap::len(self)
        }
        fn push(&mut self, item: T) {
            BinaryHeap::push(self, Reverse(item));
        }
        fn pop(&mut self) -> Option<T> {
            BinaryHeap::pop(self).map(|Reverse(item)| item)
        }
        fn take_all(&mut self) -> Vec<T> {
            self.drain().map(|Reverse(item)| item).collect()
        }
    }
}
