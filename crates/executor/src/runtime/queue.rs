//! The per-worker local run queue of the multi-thread executor.
//!
//! Each worker owns one [`Local`] queue: a fixed ring of [`CAPACITY`] slots
//! that only the owning worker pushes to and pops from. Every other worker
//! holds a [`Stealer`] for it and, when it runs out of work, steals half of
//! the tasks into its own queue. The queue is lock-free: the owner never
//! waits for a thief, and a thief never waits for the owner.
//!
//! # Indices
//!
//! Positions are `u32` counters that only ever grow (wrapping at `u32::MAX`);
//! position `p` lives in slot `p % CAPACITY`. Because `CAPACITY` divides
//! 2^32, wrapping the counter never changes which slot a position maps to,
//! and `a.wrapping_sub(b)` is the distance between two positions as long as
//! they are less than 2^32 apart (they are at most `CAPACITY` apart).
//!
//! # Who writes what
//!
//! * `tail` — the position the next push goes to. Written **only by the
//!   owner**, so the owner may read it with `Relaxed`.
//! * `head` — one `u64` packing two `u32` halves, changed only by
//!   compare-and-swap:
//!   * **real head** (low half): the oldest task nobody has claimed yet. Both
//!     the owner (pop, overflow) and thieves (claim) move it forward.
//!   * **steal head** (high half): the oldest slot that is not yet free. It
//!     equals the real head except while one thief is copying a range it
//!     claimed; then the range `steal..real` is that thief's, and the owner
//!     must not overwrite it.
//!
//! So the ring splits into `steal..real` (being copied by a thief),
//! `real..tail` (queued tasks) and `tail..steal + CAPACITY` (free slots).
//!
//! # Stealing
//!
//! A thief only starts when `steal == real` (one steal at a time): it
//! claims `n` tasks with one CAS that moves the real head to `real + n` and
//! leaves the steal head where it was, copies the claimed tasks out, then
//! commits with a second CAS setting the steal head to the (possibly since
//! advanced) real head, handing the slots back to the owner. Meanwhile the
//! owner keeps popping: a pop only moves the real head while a steal is in
//! progress, and moves both when none is.
//!
//! # Orderings
//!
//! Three facts need happens-before edges; everything else is `Relaxed`:
//!
//! 1. *A task written by the owner is visible to the thief that reads it.*
//!    The owner writes the slot, then stores `tail` with `Release`; a thief
//!    loads `tail` with `Acquire` before it claims, and only claims
//!    positions below the tail it saw.
//! 2. *A thief's reads of its claimed slots finish before the owner reuses
//!    them.* The commit CAS is `Release`; every load of `head` the owner
//!    uses to decide that a slot is free is `Acquire`. All writes to `head`
//!    after its creation are read-modify-writes, so the release sequence is
//!    never broken, whoever writes next.
//! 3. *A thief never sees a real head beyond the tail it then loads.* Every
//!    CAS that moves the real head forward is `Release` (owner's pop and
//!    overflow, thief's claim) and a thief loads `head` with `Acquire` before
//!    loading `tail`, so the tail that allowed the move is visible to it and
//!    `tail - real` cannot underflow.
//!
//! Hence every CAS on `head` is `AcqRel`: acquire for (2), release for (3).
//!
//! # Lifetime
//!
//! The ring is shared through an [`Arc`], so a [`Stealer`] may outlive its
//! [`Local`]. Slots hold `MaybeUninit<T>` and the ring itself drops nothing:
//! a task is dropped only by whoever removed it (a pop, an overflow batch, a
//! thief). `Local`'s `Drop` pops every task still queued; a task that a
//! thief has already claimed is that thief's to finish. After the `Local` is
//! gone the tail never moves again, so later steals find the queue empty.
//! The executor never steals from a dead queue, but even if it did, that
//! would be memory-safe: nothing is dropped twice and nothing is read after
//! the ring is freed, since the thief holds the `Arc`.
//!
//! Positions wrap after 2^32 operations; a thread would have to stall
//! between loading `head` and its CAS for exactly a multiple of 2^32
//! operations on this queue for the CAS to succeed wrongly (ABA), which the
//! design accepts, like every packed-counter queue.

use std::cell::Cell;
use std::iter;
use std::marker::PhantomData;
use std::mem::MaybeUninit;

use crate::loom::{
    Arc, AtomicU32, AtomicU64,
    Ordering::{AcqRel, Acquire, Relaxed, Release},
    UnsafeCell,
};

/// How many tasks a local queue holds.
pub(crate) const CAPACITY: usize = 256;

/// Where tasks go that do not fit in a local queue (the global injection
/// queue, in the executor).
pub(crate) trait Overflow<T> {
    /// Takes every task `tasks` yields, oldest first. Tasks the
    /// implementation leaves in the iterator are dropped.
    fn push_batch(&self, tasks: &mut dyn Iterator<Item = T>);
}

/// Creates an empty queue: its owner's handle and a handle for thieves.
pub(crate) fn local<T>() -> (Local<T>, Stealer<T>) {
    starting_at(0)
}

/// The owning worker's handle: pushes and pops. `Send` but not `Sync`: only
/// one thread at a time may act as the owner.
pub(crate) struct Local<T> {
    inner: Arc<Inner<T>>,
    /// `Cell<()>` is `Send + !Sync`, which is exactly what `Local` must be.
    _not_sync: PhantomData<Cell<()>>,
}

/// The other workers' handle: steals half of the queue.
pub(crate) struct Stealer<T>(Arc<Inner<T>>);

impl<T> Local<T> {
    /// Pushes `task` as the newest task. If the queue is full, hands the
    /// oldest `CAPACITY / 2` tasks and then `task` to `overflow` in one call.
    /// If a thief is copying tasks out at that moment, only `task` goes to
    /// `overflow`: the thief is about to free slots, and the owner does not
    /// wait for it.
    pub(crate) fn push_back(&mut self, mut task: T, overflow: &dyn Overflow<T>) {
        loop {
            let (steal, real) = unpack(self.inner.head.load(Acquire));
            let tail = self.inner.tail.load(Relaxed);
            if tail.wrapping_sub(steal) < CAP {
                // `tail..steal + CAP` are free slots (see the module docs);
                // the `Acquire` load of `head` makes any thief's reads of
                // this slot happen before this write.
                // SAFETY: a free slot; only the owner writes slots, and
                // `&mut self` makes us the only owner.
                unsafe { self.inner.write(tail, task) };
                self.inner.tail.store(tail.wrapping_add(1), Release);
                return;
            }
            if steal != real {
                overflow.push_batch(&mut iter::once(task));
                return;
            }
            // Full and no steal in progress: `real == steal == tail - CAP`.
            match self.move_half_to_overflow(real, task, overflow) {
                Ok(()) => return,
                // A thief claimed tasks since we loaded `head`: room is on
                // its way, so try the push again.
                Err(returned) => task = returned,
            }
        }
    }

    /// Pushes every task of `tasks`, oldest first, as far as the free slots
    /// go, and hands the rest to `overflow` in one call.
    pub(crate) fn push_back_batch(
        &mut self,
        mut tasks: impl ExactSizeIterator<Item = T>,
        overflow: &dyn Overflow<T>,
    ) {
        let (steal, _) = unpack(self.inner.head.load(Acquire));
        let tail = self.inner.tail.load(Relaxed);
        let free = CAP - tail.wrapping_sub(steal);
        // Publishes what was written even if `tasks.next()` panics, so that
        // those tasks stay owned by the queue rather than leak.
        let mut published = PublishOnDrop {
            tail: &self.inner.tail,
            end: tail,
        };
        for task in tasks.by_ref().take(free as usize) {
            // `published.end` is below `tail + free = steal + CAP`; the
            // argument of `push_back` about the `Acquire` load of `head`
            // applies unchanged (thieves only free more slots after it).
            // SAFETY: so it is a free slot, and we are the owner.
            unsafe { self.inner.write(published.end, task) };
            published.end = published.end.wrapping_add(1);
        }
        drop(published);
        // Not trusting `len()`: it is a safe trait's promise.
        if let Some(first) = tasks.next() {
            overflow.push_batch(&mut iter::once(first).chain(tasks));
        }
    }

    /// Removes the oldest task.
    pub(crate) fn pop(&mut self) -> Option<T> {
        let mut head = self.inner.head.load(Acquire);
        let claimed = loop {
            let (steal, real) = unpack(head);
            if real == self.inner.tail.load(Relaxed) {
                return None;
            }
            let next_real = real.wrapping_add(1);
            // While a thief copies `steal..real`, keep its steal head.
            let next_steal = if steal == real { next_real } else { steal };
            match self.inner.head.compare_exchange(
                head,
                pack(next_steal, next_real),
                AcqRel,
                Acquire,
            ) {
                Ok(_) => break real,
                Err(actual) => head = actual,
            }
        };
        // SAFETY: the CAS moved the real head past `claimed`, so no thief
        // can claim it, and it was below `tail`, so it holds a task the
        // owner (this thread) wrote. It is read exactly once, here.
        Some(unsafe { self.inner.take(claimed) })
    }

    /// How many tasks are queued (not counting those a thief is copying).
    pub(crate) fn len(&self) -> usize {
        let (_, real) = unpack(self.inner.head.load(Acquire));
        self.inner.tail.load(Relaxed).wrapping_sub(real) as usize
    }

    /// Whether no task is queued.
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many tasks can be pushed before the queue overflows.
    pub(crate) fn remaining_capacity(&self) -> usize {
        let (steal, _) = unpack(self.inner.head.load(Acquire));
        (CAP - self.inner.tail.load(Relaxed).wrapping_sub(steal)) as usize
    }

    /// Claims the oldest `CAPACITY / 2` tasks of a full queue with no steal
    /// in progress (`real` being both heads), and hands them and then `task`
    /// to `overflow`. Gives `task` back if a thief changed `head` first.
    fn move_half_to_overflow(
        &mut self,
        real: u32,
        task: T,
        overflow: &dyn Overflow<T>,
    ) -> Result<(), T> {
        let end = real.wrapping_add(HALF);
        let claimed =
            self.inner
                .head
                .compare_exchange(pack(real, real), pack(end, end), AcqRel, Relaxed);
        if claimed.is_err() {
            return Err(task);
        }
        // The CAS moved both heads past `real..end`, so no thief holds or
        // can claim those positions; they were full (below `tail`).
        // SAFETY: so they are ours, and `&mut self` keeps the owner from
        // pushing over them while `Drain` lives.
        let half = unsafe { Drain::new(&self.inner, real, end) };
        overflow.push_batch(&mut half.chain(iter::once(task)));
        Ok(())
    }
}

impl<T> Drop for Local<T> {
    /// Drops every task still queued. Tasks a thief has claimed are its own.
    fn drop(&mut self) {
        while self.pop().is_some() {}
    }
}

impl<T> Stealer<T> {
    /// Moves half (rounded up) of this queue's tasks into `dst`, the thief's
    /// own queue, and returns the newest of them for the thief to run now.
    /// Steals no more than `dst` has free slots. Returns `None` if this
    /// queue is empty, `dst` is full, `dst` is this very queue, or another
    /// thief is stealing from this queue at the moment.
    pub(crate) fn steal_into(&self, dst: &mut Local<T>) -> Option<T> {
        if Arc::ptr_eq(&self.0, &dst.inner) {
            return None;
        }
        // `dst` is ours (`&mut`), so its tail is stable; other thieves of
        // `dst` only ever free more of its slots.
        let dst_tail = dst.inner.tail.load(Relaxed);
        let (dst_steal, _) = unpack(dst.inner.head.load(Acquire));
        let room = CAP - dst_tail.wrapping_sub(dst_steal);

        let (first, n) = self.0.claim(room)?;
        let last = first.wrapping_add(n - 1);
        for i in 0..n - 1 {
            // `claim` made `first..first + n` ours alone (each position is
            // taken once, here or below), and its `Acquire` load of `tail`
            // made the owner's writes visible. The destination positions
            // `dst_tail..dst_tail + n - 1` are below `dst_steal + CAP` since
            // `n <= room`, so free.
            // SAFETY: by the above, and we are `dst`'s owner (as in `push_back`).
            unsafe {
                let task = self.0.take(first.wrapping_add(i));
                dst.inner.write(dst_tail.wrapping_add(i), task);
            }
        }
        // SAFETY: as above; `last` is the final claimed position.
        let task = unsafe { self.0.take(last) };
        self.0.finish_steal();
        if n > 1 {
            dst.inner.tail.store(dst_tail.wrapping_add(n - 1), Release);
        }
        Some(task)
    }

    /// Whether the queue looks empty (racy: a hint for choosing a victim).
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many tasks the queue holds (racy: a hint for choosing a victim).
    pub(crate) fn len(&self) -> usize {
        let (_, real) = unpack(self.0.head.load(Acquire));
        // Ordering fact (3): this tail is at least `real`.
        self.0.tail.load(Acquire).wrapping_sub(real) as usize
    }
}

impl<T> Clone for Stealer<T> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

/// `CAPACITY` as a position distance.
const CAP: u32 = 256;
/// How many tasks an overflowing push moves out.
const HALF: u32 = CAP / 2;
/// Position to slot index: `CAPACITY` divides 2^32.
const MASK: u32 = CAP - 1;
const _: () = assert!(CAP as usize == CAPACITY && CAP.is_power_of_two());

/// The ring and its indices, shared by the owner and every thief.
struct Inner<T> {
    /// `pack(steal head, real head)`; see the module docs.
    head: AtomicU64,
    /// Next position to push to; written by the owner only.
    tail: AtomicU32,
    /// `CAPACITY` slots; which hold a task is told by `head` and `tail`.
    buffer: Box<[UnsafeCell<MaybeUninit<T>>]>,
}

// SAFETY: sharing `Inner` lets threads move `T`s in and out of slots (never
// share a `&T`), so `T: Send` suffices; the protocol above guarantees that
// no slot is accessed by two threads without a happens-before edge.
unsafe impl<T: Send> Sync for Inner<T> {}

/// Builds a queue whose positions all start at `start` (tests start near
/// `u32::MAX` to cross the wrap).
fn starting_at<T>(start: u32) -> (Local<T>, Stealer<T>) {
    let inner = Arc::new(Inner {
        head: AtomicU64::new(pack(start, start)),
        tail: AtomicU32::new(start),
        buffer: (0..CAPACITY)
            .map(|_| UnsafeCell::new(MaybeUninit::uninit()))
            .collect(),
    });
    let local = Local {
        inner: Arc::clone(&inner),
        _not_sync: PhantomData,
    };
    (local, Stealer(inner))
}

impl<T> Inner<T> {
    /// Claims for one thief the oldest half (rounded up) of the queued tasks,
    /// at most `max`: returns their first position and count (at least 1).
    /// `None` if there is nothing to take, `max` is 0, or another thief's
    /// steal is in progress. Must be followed by `finish_steal`.
    fn claim(&self, max: u32) -> Option<(u32, u32)> {
        let mut head = self.head.load(Acquire);
        loop {
            let (steal, real) = unpack(head);
            if steal != real {
                return None;
            }
            let tail = self.tail.load(Acquire);
            let queued = tail.wrapping_sub(real);
            if queued > CAP {
                // `head` is stale: since it was loaded the owner popped and
                // pushed again, so the distance to the newer tail overstates
                // the queue (fact (3) rules out a tail behind the head, which
                // would show the same way). The CAS would fail; look again.
                head = self.head.load(Acquire);
                continue;
            }
            let n = (queued - queued / 2).min(max);
            if n == 0 {
                return None;
            }
            let next = pack(steal, real.wrapping_add(n));
            match self.head.compare_exchange(head, next, AcqRel, Acquire) {
                Ok(_) => return Some((real, n)),
                Err(actual) => head = actual,
            }
        }
    }

    /// Ends the current steal: hands the copied slots back to the owner by
    /// moving the steal head up to the real head.
    fn finish_steal(&self) {
        let mut head = self.head.load(Acquire);
        loop {
            let (_, real) = unpack(head);
            match self
                .head
                .compare_exchange(head, pack(real, real), AcqRel, Acquire)
            {
                Ok(_) => return,
                Err(actual) => head = actual,
            }
        }
    }

    /// Writes `task` into the slot of position `pos`.
    ///
    /// # Safety
    /// The slot must be free (its previous task, if any, taken) and no other
    /// thread may access it until a happens-before edge publishes the write.
    unsafe fn write(&self, pos: u32, task: T) {
        // SAFETY: the caller guarantees exclusive access to a free slot.
        self.slot(pos)
            .with_mut(|slot| unsafe { slot.write(MaybeUninit::new(task)) });
    }

    /// Moves the task out of the slot of position `pos`.
    ///
    /// # Safety
    /// The slot must hold a task whose write happens before this call, the
    /// caller must have claimed it exclusively, and it is taken only once.
    unsafe fn take(&self, pos: u32) -> T {
        // SAFETY: the caller guarantees an initialised slot, visible to this
        // thread, that nobody else reads or writes meanwhile or reads again.
        self.slot(pos)
            .with(|slot| unsafe { slot.read().assume_init() })
    }

    fn slot(&self, pos: u32) -> &UnsafeCell<MaybeUninit<T>> {
        &self.buffer[(pos & MASK) as usize]
    }
}

fn pack(steal: u32, real: u32) -> u64 {
    (u64::from(steal) << 32) | u64::from(real)
}

#[allow(
    clippy::cast_possible_truncation,
    reason = "splitting a u64 into its halves"
)]
fn unpack(head: u64) -> (u32, u32) {
    ((head >> 32) as u32, head as u32)
}

/// Stores `end` into the tail when dropped (see `push_back_batch`).
struct PublishOnDrop<'a> {
    tail: &'a AtomicU32,
    end: u32,
}

impl Drop for PublishOnDrop<'_> {
    fn drop(&mut self) {
        // Ordering fact (1): publishes the slots written before.
        self.tail.store(self.end, Release);
    }
}

/// Moves the tasks of positions `next..end` out, oldest first; drops those
/// not taken when dropped itself, so an overflow that stops early (or
/// panics) leaks nothing.
struct Drain<'a, T> {
    inner: &'a Inner<T>,
    next: u32,
    end: u32,
}

impl<'a, T> Drain<'a, T> {
    /// # Safety
    /// The caller must own `next..end` exclusively, each holding a task it
    /// can see, for the `Drain`'s whole life.
    unsafe fn new(inner: &'a Inner<T>, next: u32, end: u32) -> Self {
        Self { inner, next, end }
    }
}

impl<T> Iterator for Drain<'_, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        if self.next == self.end {
            return None;
        }
        let pos = self.next;
        self.next = pos.wrapping_add(1);
        // SAFETY: `new`'s contract; `pos` leaves `next..end` before the
        // read, so it is taken once.
        Some(unsafe { self.inner.take(pos) })
    }
}

impl<T> Drop for Drain<'_, T> {
    fn drop(&mut self) {
        self.for_each(drop);
    }
}

#[cfg(test)]
mod tracked {
    //! Test tasks that check they are dropped exactly once.

    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

    /// Per-id drop counts, shared by every `Item` of a test.
    pub(super) struct Drops(Arc<Vec<AtomicUsize>>);

    impl Drops {
        pub(super) fn new(n: usize) -> Self {
            Self(Arc::new((0..n).map(|_| AtomicUsize::new(0)).collect()))
        }

        pub(super) fn item(&self, id: usize) -> Item {
            Item {
                id,
                drops: Arc::clone(&self.0),
            }
        }

        /// Asserts every item was dropped exactly once.
        pub(super) fn assert_all_dropped_once(&self) {
            for (id, count) in self.0.iter().enumerate() {
                assert_eq!(count.load(Relaxed), 1, "item {id}");
            }
        }
    }

    /// A task that counts its drop.
    pub(super) struct Item {
        pub(super) id: usize,
        drops: Arc<Vec<AtomicUsize>>,
    }

    impl Drop for Item {
        fn drop(&mut self) {
            self.drops[self.id].fetch_add(1, Relaxed);
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::tracked::{Drops, Item};
    use super::*;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
    use std::thread;

    /// Records every overflow call as one batch.
    struct Batches<T>(Mutex<Vec<Vec<T>>>);

    impl<T> Default for Batches<T> {
        fn default() -> Self {
            Self(Mutex::new(Vec::new()))
        }
    }

    impl<T> Overflow<T> for Batches<T> {
        fn push_batch(&self, tasks: &mut dyn Iterator<Item = T>) {
            let batch = tasks.collect();
            self.0.lock().unwrap().push(batch);
        }
    }

    impl<T> Batches<T> {
        fn take(&self) -> Vec<Vec<T>> {
            std::mem::take(&mut *self.0.lock().unwrap())
        }
    }

    /// An overflow that must not be used.
    struct NoOverflow;

    impl<T> Overflow<T> for NoOverflow {
        fn push_batch(&self, _: &mut dyn Iterator<Item = T>) {
            panic!("unexpected overflow");
        }
    }

    fn drain<T>(q: &mut Local<T>) -> Vec<T> {
        iter::from_fn(|| q.pop()).collect()
    }

    fn push_all(q: &mut Local<usize>, items: impl IntoIterator<Item = usize>) {
        for i in items {
            q.push_back(i, &NoOverflow);
        }
    }

    /// Starts near the wrap so that every test also crosses it.
    const STARTS: [u32; 4] = [0, u32::MAX - 3, u32::MAX - CAP, u32::MAX - 300];

    #[test]
    fn handles_are_send_and_stealers_sync() {
        fn send<T: Send>() {}
        fn sync<T: Sync>() {}
        send::<Local<Box<usize>>>();
        send::<Stealer<Box<usize>>>();
        sync::<Stealer<Box<usize>>>();
    }

    #[test]
    fn fifo_and_counters() {
        for start in STARTS {
            let (mut q, s) = starting_at(start);
            assert!(q.is_empty() && s.is_empty());
            assert_eq!(q.remaining_capacity(), CAPACITY);
            push_all(&mut q, 0..10);
            assert_eq!(
                (q.len(), s.len(), q.remaining_capacity()),
                (10, 10, CAPACITY - 10)
            );
            assert_eq!(q.pop(), Some(0));
            push_all(&mut q, 10..12);
            assert_eq!(drain(&mut q), (1..12).collect::<Vec<_>>());
            assert_eq!(q.pop(), None);
            assert!(q.is_empty() && s.is_empty());
            assert_eq!(q.remaining_capacity(), CAPACITY);
        }
    }

    #[test]
    fn overflow_moves_oldest_half_then_task_in_one_call() {
        for start in STARTS {
            let (mut q, _s) = starting_at(start);
            let overflow = Batches::default();
            for i in 0..=CAPACITY {
                q.push_back(i, &overflow);
            }
            let mut expected: Vec<usize> = (0..CAPACITY / 2).collect();
            expected.push(CAPACITY);
            assert_eq!(overflow.take(), vec![expected]);
            assert_eq!(q.len(), CAPACITY / 2);
            assert_eq!(drain(&mut q), (CAPACITY / 2..CAPACITY).collect::<Vec<_>>());
        }
    }

    #[test]
    fn many_overflows_keep_every_task_once_and_in_order() {
        let (mut q, _s) = starting_at(u32::MAX - 5);
        let overflow = Batches::default();
        let n = 5 * CAPACITY + 7;
        for i in 0..n {
            q.push_back(i, &overflow);
        }
        let batches = overflow.take();
        assert!(batches.iter().all(|b| b.len() == CAPACITY / 2 + 1));
        let mut all: Vec<usize> = batches.into_iter().flatten().chain(drain(&mut q)).collect();
        all.sort_unstable();
        assert_eq!(all, (0..n).collect::<Vec<_>>());
    }

    #[test]
    fn overflow_that_stops_early_drops_the_rest() {
        struct TakeThree(Mutex<Vec<Item>>);
        impl Overflow<Item> for TakeThree {
            fn push_batch(&self, tasks: &mut dyn Iterator<Item = Item>) {
                self.0.lock().unwrap().extend(tasks.take(3));
            }
        }
        let drops = Drops::new(CAPACITY + 1);
        let overflow = TakeThree(Mutex::new(Vec::new()));
        let (mut q, _s) = local();
        for id in 0..=CAPACITY {
            q.push_back(drops.item(id), &overflow);
        }
        let kept = overflow.0.into_inner().unwrap();
        assert_eq!(kept.iter().map(|i| i.id).collect::<Vec<_>>(), [0, 1, 2]);
        assert_eq!(q.len(), CAPACITY / 2);
        drop((kept, q));
        drops.assert_all_dropped_once();
    }

    #[test]
    fn batch_push_fills_then_overflows_the_rest_in_order() {
        for start in STARTS {
            let (mut q, _s) = starting_at(start);
            let overflow = Batches::default();
            q.push_back_batch(0..10, &overflow);
            assert!(overflow.take().is_empty());
            q.push_back_batch(10..CAPACITY + 4, &overflow);
            assert_eq!(
                overflow.take(),
                vec![(CAPACITY..CAPACITY + 4).collect::<Vec<_>>()]
            );
            q.push_back_batch(0..0, &overflow);
            q.push_back_batch(7..9, &overflow);
            assert_eq!(overflow.take(), vec![vec![7, 8]]);
            assert_eq!(drain(&mut q), (0..CAPACITY).collect::<Vec<_>>());
        }
    }

    #[test]
    fn steal_takes_half_rounded_up_and_returns_the_newest() {
        for start in STARTS {
            let (mut victim, stealer) = starting_at(start);
            let (mut thief, _) = starting_at(start.wrapping_add(100));
            push_all(&mut victim, 0..7);
            assert_eq!(stealer.steal_into(&mut thief), Some(3));
            assert_eq!((victim.len(), thief.len()), (3, 3));
            assert_eq!(drain(&mut thief), [0, 1, 2]);
            assert_eq!(stealer.steal_into(&mut thief), Some(5));
            assert_eq!(drain(&mut thief), [4]);
            assert_eq!(stealer.steal_into(&mut thief), Some(6));
            assert_eq!(thief.len(), 0);
            assert_eq!(stealer.steal_into(&mut thief), None);
            assert!(victim.is_empty());
            // The victim's slots are usable again.
            push_all(&mut victim, 0..CAPACITY);
            assert_eq!(drain(&mut victim), (0..CAPACITY).collect::<Vec<_>>());
        }
    }

    #[test]
    fn steal_returns_none_when_empty_or_from_itself() {
        let (mut q, s) = local::<usize>();
        let (mut other, _) = local();
        assert_eq!(s.steal_into(&mut other), None);
        push_all(&mut q, 0..4);
        assert_eq!(s.steal_into(&mut q), None);
        assert_eq!(s.clone().steal_into(&mut q), None);
        assert_eq!(q.len(), 4);
    }

    #[test]
    fn steal_takes_no_more_than_dst_has_room_for() {
        let (mut victim, stealer) = local();
        let (mut thief, _) = local();
        push_all(&mut victim, 1000..1100);
        push_all(&mut thief, 0..CAPACITY - 6);
        assert_eq!(stealer.steal_into(&mut thief), Some(1005));
        assert_eq!((victim.len(), thief.len()), (94, CAPACITY - 1));
        assert_eq!(stealer.steal_into(&mut thief), Some(1006));
        assert_eq!(thief.remaining_capacity(), 1);
        push_all(&mut thief, [9999]);
        assert_eq!(stealer.steal_into(&mut thief), None);
        assert_eq!(victim.len(), 93);
    }

    #[test]
    fn drop_drops_every_queued_task_once_and_stealers_may_outlive() {
        let n = 3 * CAPACITY;
        let drops = Drops::new(n);
        let overflow = Batches::default();
        let (mut q, stealer) = starting_at(u32::MAX - 10);
        let (mut thief, thief_stealer) = local();
        for id in 0..n {
            q.push_back(drops.item(id), &overflow);
        }
        let stolen = stealer.steal_into(&mut thief);
        let popped = q.pop();
        drop(q);
        assert_eq!(stealer.len(), 0);
        assert!(stealer.steal_into(&mut thief).is_none());
        drop((stolen, popped, thief, overflow));
        drops.assert_all_dropped_once();
        drop((stealer, thief_stealer));
    }

    #[test]
    fn wraps_many_times_through_every_path() {
        // Cross the u32 wrap from several starting points while mixing
        // every operation; the oracle is a plain multiset of ids.
        for start in [
            u32::MAX - 1,
            u32::MAX - 129,
            u32::MAX - 255,
            u32::MAX - 1000,
        ] {
            let (mut q, s) = starting_at::<usize>(start);
            let (mut thief, _) = starting_at(start.wrapping_sub(77));
            let overflow = Batches::default();
            let mut seen = Vec::new();
            let mut next = 0;
            for round in 0..if cfg!(miri) { 12 } else { 60 } {
                for _ in 0..(round * 37) % 300 {
                    q.push_back(next, &overflow);
                    next += 1;
                }
                q.push_back_batch(next..next + round % 9, &overflow);
                next += round % 9;
                seen.extend(s.steal_into(&mut thief));
                seen.extend(drain(&mut thief));
                for _ in 0..round % 50 {
                    seen.extend(q.pop());
                }
            }
            seen.extend(drain(&mut q));
            seen.extend(overflow.take().into_iter().flatten());
            seen.sort_unstable();
            assert_eq!(seen, (0..next).collect::<Vec<_>>());
        }
    }

    /// The owner pushes and pops while two thieves steal from it and from
    /// each other; every item must be seen exactly once.
    #[test]
    fn stress_owner_and_two_stealers() {
        let n = if cfg!(miri) { 1_100 } else { 100_000 };
        let seen: Arc<Vec<AtomicUsize>> = Arc::new((0..n).map(|_| AtomicUsize::new(0)).collect());
        let done = Arc::new(AtomicBool::new(false));
        let (mut owner, owner_stealer) = local::<usize>();
        let (thief_a, stealer_a) = local::<usize>();
        let (thief_b, stealer_b) = local::<usize>();

        let thieves: Vec<_> = [(thief_a, stealer_b), (thief_b, stealer_a)]
            .into_iter()
            .map(|(mut mine, other)| {
                let (victim, seen, done) = (owner_stealer.clone(), seen.clone(), done.clone());
                thread::spawn(move || {
                    loop {
                        let finished = done.load(SeqCst);
                        let got = victim
                            .steal_into(&mut mine)
                            .or_else(|| other.steal_into(&mut mine));
                        let idle = got.is_none() && mine.is_empty();
                        for i in got.into_iter().chain(iter::from_fn(|| mine.pop())) {
                            seen[i].fetch_add(1, SeqCst);
                        }
                        // `done` was set before this round's steals, and the
                        // owner's queue was empty then: nothing is left.
                        if finished && idle {
                            break;
                        }
                    }
                })
            })
            .collect();

        let overflow = Batches::default();
        // Alternates runs of single pushes (some popped at once) with batch
        // pushes larger than the queue, so that both overflow paths run.
        let chunk = 2 * CAPACITY + 3;
        for (k, start) in (0..n).step_by(chunk).enumerate() {
            let items = start..(start + chunk).min(n);
            if k % 2 == 0 {
                for i in items {
                    owner.push_back(i, &overflow);
                    if i % 3 == 0
                        && let Some(j) = owner.pop()
                    {
                        seen[j].fetch_add(1, SeqCst);
                    }
                }
            } else {
                owner.push_back_batch(items, &overflow);
            }
            for j in overflow.take().into_iter().flatten() {
                seen[j].fetch_add(1, SeqCst);
            }
        }
        while let Some(j) = owner.pop() {
            seen[j].fetch_add(1, SeqCst);
        }
        done.store(true, SeqCst);
        for t in thieves {
            t.join().unwrap();
        }
        for j in overflow.take().into_iter().flatten() {
            seen[j].fetch_add(1, SeqCst);
        }
        for (i, count) in seen.iter().enumerate() {
            assert_eq!(count.load(SeqCst), 1, "item {i}");
        }
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::tracked::{Drops, Item};
    use super::*;
    use loom::thread;
    use std::cell::RefCell;

    /// Collects overflowed items on the owner's thread, recording batch ids.
    #[derive(Default)]
    struct Batches(RefCell<Vec<Vec<Item>>>);

    impl Overflow<Item> for Batches {
        fn push_batch(&self, tasks: &mut dyn Iterator<Item = Item>) {
            let batch = tasks.collect();
            self.0.borrow_mut().push(batch);
        }
    }

    /// Explores every interleaving (no preemption bound: the models are
    /// small enough), allowing for the hundreds of steps of filling a queue.
    fn model(f: impl Fn() + Sync + Send + 'static) {
        let mut builder = loom::model::Builder::new();
        builder.max_branches = 10_000;
        builder.check(f);
    }

    fn ids(items: Vec<Item>) -> Vec<usize> {
        items.into_iter().map(|i| i.id).collect()
    }

    /// Steals once into a fresh queue of its own, then drains that queue.
    fn steal_all(stealer: &Stealer<Item>) -> Vec<Item> {
        let (mut mine, _) = local();
        let first = stealer.steal_into(&mut mine);
        first
            .into_iter()
            .chain(iter::from_fn(|| mine.pop()))
            .collect()
    }

    /// Checks that `items` are `0..n` exactly once, drops them, then checks
    /// that every item was dropped exactly once (so none leaked).
    fn check(drops: &Drops, n: usize, items: Vec<Item>) {
        let mut seen = ids(items);
        seen.sort_unstable();
        assert_eq!(seen, (0..n).collect::<Vec<_>>());
        drops.assert_all_dropped_once();
    }

    #[test]
    fn loom_owner_push_pop_vs_one_stealer() {
        model(|| {
            let drops = Drops::new(3);
            let overflow = Batches::default();
            let (mut q, stealer) = local();
            q.push_back(drops.item(0), &overflow);
            // Steals twice, so that it can take a task pushed after the
            // owner's last change of `head` (only `tail` publishes that one).
            let thief = thread::spawn(move || {
                let mut got = steal_all(&stealer);
                got.extend(steal_all(&stealer));
                got
            });
            let mut got: Vec<Item> = q.pop().into_iter().collect();
            q.push_back(drops.item(1), &overflow);
            q.push_back(drops.item(2), &overflow);
            got.extend(q.pop());
            got.extend(thief.join().unwrap());
            got.extend(iter::from_fn(|| q.pop()));
            assert!(overflow.0.borrow().is_empty());
            drop(q);
            check(&drops, 3, got);
        });
    }

    #[test]
    fn loom_two_stealers_racing() {
        model(|| {
            let drops = Drops::new(4);
            let overflow = Batches::default();
            let (mut q, stealer) = local();
            for id in 0..4 {
                q.push_back(drops.item(id), &overflow);
            }
            let other = stealer.clone();
            let a = thread::spawn(move || steal_all(&stealer));
            let b = thread::spawn(move || steal_all(&other));
            let mut got: Vec<Item> = q.pop().into_iter().collect();
            got.extend(a.join().unwrap());
            got.extend(b.join().unwrap());
            got.extend(iter::from_fn(|| q.pop()));
            drop(q);
            check(&drops, 4, got);
        });
    }

    #[test]
    fn loom_overflow_during_concurrent_steal() {
        model(|| {
            let n = CAPACITY + 1;
            let drops = Drops::new(n);
            let overflow = Batches::default();
            let (mut q, stealer) = local();
            for id in 0..CAPACITY {
                q.push_back(drops.item(id), &overflow);
            }
            let thief = thread::spawn(move || steal_all(&stealer));
            q.push_back(drops.item(CAPACITY), &overflow);
            let stolen = thief.join().unwrap();
            let batches = overflow.0.into_inner();
            // Either the push found room, or it moved the oldest half plus
            // itself, or (a steal in progress) itself alone.
            let half_and_new: Vec<usize> = (0..CAPACITY / 2).chain([CAPACITY]).collect();
            let shapes: Vec<Vec<usize>> = batches
                .iter()
                .map(|b| b.iter().map(|i| i.id).collect())
                .collect();
            assert!(
                shapes.is_empty() || shapes == [half_and_new] || shapes == [vec![CAPACITY]],
                "unexpected overflow batches {shapes:?}"
            );
            let mut got: Vec<Item> = batches.into_iter().flatten().collect();
            got.extend(stolen);
            got.extend(iter::from_fn(|| q.pop()));
            drop(q);
            check(&drops, n, got);
        });
    }

    #[test]
    fn loom_steal_while_owner_pops_the_last_item() {
        model(|| {
            let drops = Drops::new(1);
            let (mut q, stealer) = local();
            q.push_back(drops.item(0), &Batches::default());
            let thief = thread::spawn(move || steal_all(&stealer));
            let mut got: Vec<Item> = q.pop().into_iter().collect();
            got.extend(thief.join().unwrap());
            assert!(q.pop().is_none());
            drop(q);
            check(&drops, 1, got);
        });
    }

    #[test]
    fn loom_local_dropped_during_steal() {
        model(|| {
            let drops = Drops::new(3);
            let (mut q, stealer) = local();
            for id in 0..3 {
                q.push_back(drops.item(id), &Batches::default());
            }
            let thief = thread::spawn(move || steal_all(&stealer));
            drop(q);
            let stolen = ids(thief.join().unwrap());
            assert!(stolen.len() <= 2);
            drops.assert_all_dropped_once();
        });
    }

    #[test]
    fn loom_batch_push_overflowing_during_steal() {
        model(|| {
            let n = CAPACITY + 2;
            let drops = Drops::new(n);
            let overflow = Batches::default();
            let (mut q, stealer) = local();
            for id in 0..CAPACITY - 2 {
                q.push_back(drops.item(id), &overflow);
            }
            let thief = thread::spawn(move || steal_all(&stealer));
            q.push_back_batch((CAPACITY - 2..n).map(|id| drops.item(id)), &overflow);
            let mut got = thief.join().unwrap();
            let batches = overflow.0.into_inner();
            // Whatever did not fit went to the overflow in one batch, in order.
            assert!(batches.len() <= 1);
            let overflowed: Vec<usize> = batches.iter().flatten().map(|i| i.id).collect();
            assert!(overflowed.iter().copied().eq(n - overflowed.len()..n));
            got.extend(batches.into_iter().flatten());
            got.extend(iter::from_fn(|| q.pop()));
            drop(q);
            check(&drops, n, got);
        });
    }
}
