//! The timer store: a slab of entries plus an indexed binary min-heap.
//!
//! Design. Each armed timer is one [`Entry`] in a slab; the heap holds
//! `(deadline, seq, key)` triples ordered by `(deadline, seq)`, and every entry knows its
//! position in the heap. So:
//!
//! - arming is a slab insert plus a sift-up, O(log n);
//! - cancelling is immediate: swap the entry's heap slot with the last one, pop, sift the
//!   moved item; the slab slot is freed at once. No tombstones exist, so a million
//!   armed-and-cancelled timers leave the store exactly as it was;
//! - firing pops the heap top while its deadline has passed.
//!
//! `seq` is a per-store counter stamped on every arm and every reset. It orders equal
//! deadlines first-in first-out, and it is the timer's identity: a [`Timer`](super::Timer)
//! remembers `(key, seq)`, and since the slab reuses keys, an operation whose `seq` does
//! not match the entry at `key` refers to a timer that already fired and is ignored.
//!
//! The store is not synchronised itself; the reactor keeps it under one mutex.

use std::task::Waker;
use std::time::Instant;

use slab::Slab;

/// Identity of an armed timer: its slab key and the sequence number it was armed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimerKey {
    pub(crate) key: usize,
    pub(crate) seq: u64,
}

struct Entry {
    seq: u64,
    waker: Waker,
    /// Index of this entry's item in `TimerStore::heap`.
    pos: usize,
}

#[derive(Clone, Copy)]
struct HeapItem {
    deadline: Instant,
    seq: u64,
    key: usize,
}

impl HeapItem {
    #[inline]
    fn before(&self, other: &HeapItem) -> bool {
        (self.deadline, self.seq) < (other.deadline, other.seq)
    }
}

/// Armed timers, earliest `(deadline, seq)` first.
#[derive(Default)]
pub(crate) struct TimerStore {
    entries: Slab<Entry>,
    heap: Vec<HeapItem>,
    next_seq: u64,
}

impl TimerStore {
    /// Arms a timer; returns its identity and whether it became the earliest one.
    pub(crate) fn insert(&mut self, deadline: Instant, waker: Waker) -> (TimerKey, bool) {
        let seq = self.bump_seq();
        let pos = self.heap.len();
        let key = self.entries.insert(Entry { seq, waker, pos });
        self.heap.push(HeapItem { deadline, seq, key });
        let pos = self.sift_up(pos);
        (TimerKey { key, seq }, pos == 0)
    }

    /// Disarms a timer; false if it was no longer armed (it fired).
    pub(crate) fn remove(&mut self, id: TimerKey) -> bool {
        match self.entries.get(id.key) {
            Some(entry) if entry.seq == id.seq => {
                let entry = self.entries.remove(id.key);
                self.remove_heap_at(entry.pos);
                true
            }
            _ => false,
        }
    }

    /// Replaces the stored waker unless it would wake the same task; false if the timer
    /// is no longer armed.
    pub(crate) fn update_waker(&mut self, id: TimerKey, waker: &Waker) -> bool {
        match self.entries.get_mut(id.key) {
            Some(entry) if entry.seq == id.seq => {
                if !entry.waker.will_wake(waker) {
                    entry.waker = waker.clone();
                }
                true
            }
            _ => false,
        }
    }

    /// Moves an armed timer to a new deadline (it goes after every timer already armed
    /// at that deadline). Returns its new identity and whether it became the earliest,
    /// or `None` if it was no longer armed.
    pub(crate) fn reset(&mut self, id: TimerKey, deadline: Instant) -> Option<(TimerKey, bool)> {
        let seq = self.next_seq;
        let entry = self.entries.get_mut(id.key)?;
        if entry.seq != id.seq {
            return None;
        }
        self.next_seq += 1;
        entry.seq = seq;
        let pos = entry.pos;
        let item = &mut self.heap[pos];
        let not_earlier = deadline >= item.deadline;
        item.deadline = deadline;
        item.seq = seq;
        // A later deadline (or the same one with a larger seq) can only move down.
        let pos = if not_earlier {
            self.sift_down(pos)
        } else {
            self.sift_up(pos)
        };
        Some((TimerKey { key: id.key, seq }, pos == 0))
    }

    /// Removes every timer whose deadline is at or before `now`, pushing its waker to
    /// `out` in `(deadline, seq)` order.
    pub(crate) fn pop_expired(&mut self, now: Instant, out: &mut Vec<Waker>) {
        while let Some(top) = self.heap.first() {
            if top.deadline > now {
                break;
            }
            let entry = self.entries.remove(top.key);
            self.remove_heap_at(0);
            out.push(entry.waker);
        }
    }

    /// The earliest armed deadline.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.heap.first().map(|item| item.deadline)
    }

    /// Number of armed timers.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Allocated slots (slab, heap): what the store's memory is proportional to.
    #[cfg(test)]
    pub(crate) fn capacity(&self) -> (usize, usize) {
        (self.entries.capacity(), self.heap.capacity())
    }

    fn bump_seq(&mut self) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        seq
    }

    fn remove_heap_at(&mut self, pos: usize) {
        let last = self.heap.len() - 1;
        self.heap.swap(pos, last);
        self.heap.pop();
        if pos < last {
            let moved = self.heap[pos].key;
            self.entries[moved].pos = pos;
            let up = self.sift_up(pos);
            if up == pos {
                self.sift_down(pos);
            }
        }
    }

    /// Moves the item at `pos` towards the root; returns its final position.
    fn sift_up(&mut self, mut pos: usize) -> usize {
        let item = self.heap[pos];
        while pos > 0 {
            let parent = (pos - 1) / 2;
            if !item.before(&self.heap[parent]) {
                break;
            }
            self.heap[pos] = self.heap[parent];
            self.entries[self.heap[pos].key].pos = pos;
            pos = parent;
        }
        self.heap[pos] = item;
        self.entries[item.key].pos = pos;
        pos
    }

    /// Moves the item at `pos` towards the leaves; returns its final position.
    fn sift_down(&mut self, mut pos: usize) -> usize {
        let item = self.heap[pos];
        let len = self.heap.len();
        loop {
            let left = 2 * pos + 1;
            if left >= len {
                break;
            }
            let right = left + 1;
            let child = if right < len && self.heap[right].before(&self.heap[left]) {
                right
            } else {
                left
            };
            if !self.heap[child].before(&item) {
                break;
            }
            self.heap[pos] = self.heap[child];
            self.entries[self.heap[pos].key].pos = pos;
            pos = child;
        }
        self.heap[pos] = item;
        self.entries[item.key].pos = pos;
        pos
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;
    use std::time::Duration;

    struct Tag(usize, Arc<AtomicUsize>);
    impl Wake for Tag {
        fn wake(self: Arc<Self>) {
            self.1.store(self.0, Ordering::SeqCst);
        }
    }

    fn tagged(n: usize, sink: &Arc<AtomicUsize>) -> Waker {
        Waker::from(Arc::new(Tag(n, sink.clone())))
    }

    fn fire_order(store: &mut TimerStore, now: Instant, sink: &Arc<AtomicUsize>) -> Vec<usize> {
        let mut out = Vec::new();
        store.pop_expired(now, &mut out);
        out.into_iter()
            .map(|w| {
                w.wake();
                sink.load(Ordering::SeqCst)
            })
            .collect()
    }

    #[test]
    fn million_armed_and_cancelled_leave_nothing_behind() {
        let mut store = TimerStore::default();
        let base = Instant::now();
        let waker = Waker::noop().clone();
        // A few long-lived timers so cancellation works against a non-trivial heap.
        let keep: Vec<_> = (0..16)
            .map(|i| store.insert(base + Duration::from_secs(i), waker.clone()).0)
            .collect();
        for i in 0..1_000_000u64 {
            let (id, _) = store.insert(base + Duration::from_millis(10_000 + i % 7), waker.clone());
            assert!(store.remove(id));
        }
        assert_eq!(store.len(), 16);
        let (slab, heap) = store.capacity();
        assert!(slab <= 64 && heap <= 64, "capacity grew: {slab} {heap}");
        for id in keep {
            assert!(store.remove(id));
        }
        assert_eq!(store.len(), 0);
        assert_eq!(store.next_deadline(), None);
    }

    #[test]
    fn random_order_pops_sorted_and_fifo() {
        let sink = Arc::new(AtomicUsize::new(usize::MAX));
        let mut store = TimerStore::default();
        let base = Instant::now();
        // A deterministic shuffle of deadlines with many duplicates.
        let mut ids = Vec::new();
        for i in 0..500usize {
            let d = (i * 7919) % 50;
            let (id, _) = store.insert(base + Duration::from_millis(d as u64), tagged(i, &sink));
            ids.push((d, i, id));
        }
        // Cancel every third.
        for (_, _, id) in ids.iter().step_by(3) {
            assert!(store.remove(*id));
        }
        let order = fire_order(&mut store, base + Duration::from_secs(1), &sink);
        let mut expected: Vec<(usize, usize)> = ids
            .iter()
            .enumerate()
            .filter(|(n, _)| n % 3 != 0)
            .map(|(_, (d, i, _))| (*d, *i))
            .collect();
        expected.sort();
        assert_eq!(order, expected.iter().map(|(_, i)| *i).collect::<Vec<_>>());
        assert_eq!(store.len(), 0);
    }

    #[test]
    fn reset_reorders_and_stale_ids_are_ignored() {
        let sink = Arc::new(AtomicUsize::new(usize::MAX));
        let mut store = TimerStore::default();
        let base = Instant::now();
        let at = |ms| base + Duration::from_millis(ms);
        let (a, _) = store.insert(at(10), tagged(0, &sink));
        let (b, _) = store.insert(at(20), tagged(1, &sink));
        let (c, _) = store.insert(at(30), tagged(2, &sink));
        let (c, top) = store.reset(c, at(5)).unwrap();
        assert!(top);
        let (a, top) = store.reset(a, at(40)).unwrap();
        assert!(!top);
        assert_eq!(fire_order(&mut store, at(25), &sink), vec![2, 1]);
        assert!(!store.remove(b));
        assert!(store.reset(c, at(1)).is_none());
        // Key reuse: a new timer may take c's slot; c's stale id must not touch it.
        let (d, _) = store.insert(at(50), tagged(3, &sink));
        assert!(!store.remove(c));
        assert!(store.remove(d));
        assert!(store.remove(a));
        assert_eq!(store.len(), 0);
    }
}
