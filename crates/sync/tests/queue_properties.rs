//! Property tests of the queues.
//!
//! - `*_matches_the_model`: random sequences of the non-blocking operations
//!   (`put_nowait`, `get_nowait`, `task_done`, `qsize`, `full`, `empty`, a
//!   `join` poll, and at most one `shutdown`) on `Queue`, `LifoQueue` and
//!   `PriorityQueue` with a random `maxsize`, against a model (`VecDeque`,
//!   `Vec`, smallest-first `BinaryHeap`).
//! - `*_conserves_items`: random interleavings of hand-polled `get` and
//!   `put` futures, dropped at random points (waiting, or woken and not run
//!   yet), with `put_nowait` / `get_nowait` in between and at most one
//!   `shutdown`. Every item is received once, or is still queued at the
//!   end, or was dropped by a refused or cancelled put or by an immediate
//!   shutdown, never two of these; an item whose put succeeded is never
//!   dropped but by an immediate shutdown; `task_done` counts each item
//!   that went in and was not drained once.
//! - `fifo_receives_in_put_order`: the same with every pending future
//!   polled, in arrival order, after each step: `Queue` then hands items
//!   out in the order they went in, and a pending getter (putter) implies
//!   an empty (full) queue, i.e. no wake-up is lost.
//!
//! Everything runs on one thread with a waker that does nothing: the
//! futures are polled by hand.

use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap, VecDeque};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use proptest::prelude::*;
use proptest::sample::Index;
use tulip_sync::{
    Fifo, GenericQueue, GetNowaitError, Lifo, Order, Priority, PutNowaitError, QueueGet, QueuePut,
    TaskDoneError,
};

/// Polls `future` once with a waker that does nothing.
fn poll_now<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    Pin::new(future).poll(&mut Context::from_waker(Waker::noop()))
}

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------
// (a) The non-blocking operations against a model.

/// The order a model queue hands its items out in.
trait Model: Default {
    fn push(&mut self, item: u8);
    fn pop(&mut self) -> Option<u8>;
    fn len(&self) -> usize;
    /// Removes every item; returns how many there were.
    fn clear(&mut self) -> usize;
}

#[derive(Default)]
struct FifoModel(VecDeque<u8>);

#[derive(Default)]
struct LifoModel(Vec<u8>);

#[derive(Default)]
struct PriorityModel(BinaryHeap<Reverse<u8>>);

impl Model for FifoModel {
    fn push(&mut self, item: u8) {
        self.0.push_back(item);
    }
    fn pop(&mut self) -> Option<u8> {
        self.0.pop_front()
    }
    fn len(&self) -> usize {
        self.0.len()
    }
    fn clear(&mut self) -> usize {
        self.0.drain(..).count()
    }
}

impl Model for LifoModel {
    fn push(&mut self, item: u8) {
        self.0.push(item);
    }
    fn pop(&mut self) -> Option<u8> {
        self.0.pop()
    }
    fn len(&self) -> usize {
        self.0.len()
    }
    fn clear(&mut self) -> usize {
        self.0.drain(..).count()
    }
}

impl Model for PriorityModel {
    fn push(&mut self, item: u8) {
        self.0.push(Reverse(item));
    }
    fn pop(&mut self) -> Option<u8> {
        self.0.pop().map(|Reverse(item)| item)
    }
    fn len(&self) -> usize {
        self.0.len()
    }
    fn clear(&mut self) -> usize {
        self.0.drain().count()
    }
}

#[derive(Debug, Clone)]
enum Op {
    Put(u8),
    Get,
    TaskDone,
    Qsize,
    Full,
    Empty,
    /// Whether `join` would return now.
    Join,
    Shutdown {
        immediate: bool,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => any::<u8>().prop_map(Op::Put),
        4 => Just(Op::Get),
        2 => Just(Op::TaskDone),
        1 => Just(Op::Qsize),
        1 => Just(Op::Full),
        1 => Just(Op::Empty),
        1 => Just(Op::Join),
    ]
}

/// Operations, with at most one shutdown inserted somewhere among them.
fn ops() -> impl Strategy<Value = Vec<Op>> {
    (
        prop::collection::vec(op(), 0..64),
        prop::option::weighted(0.3, (any::<Index>(), any::<bool>())),
    )
        .prop_map(|(mut ops, shutdown)| {
            if let Some((at, immediate)) = shutdown {
                let at = at.index(ops.len() + 1);
                ops.insert(at, Op::Shutdown { immediate });
            }
            ops
        })
}

fn matches_model<O: Order<u8>, M: Model>(maxsize: usize, ops: &[Op]) -> Result<(), TestCaseError> {
    let queue = GenericQueue::<u8, O>::new(maxsize);
    let mut model = M::default();
    let mut unfinished = 0_usize;
    let mut shut_down = false;
    prop_assert_eq!(queue.maxsize(), maxsize);
    for op in ops {
        match *op {
            Op::Put(item) => {
                let expected = if shut_down {
                    Err(PutNowaitError::QueueShutDown(item))
                } else if maxsize > 0 && model.len() >= maxsize {
                    Err(PutNowaitError::QueueFull(item))
                } else {
                    model.push(item);
                    unfinished += 1;
                    Ok(())
                };
                prop_assert_eq!(queue.put_nowait(item), expected);
            }
            Op::Get => {
                let expected = match model.pop() {
                    Some(item) => Ok(item),
                    None if shut_down => Err(GetNowaitError::QueueShutDown),
                    None => Err(GetNowaitError::QueueEmpty),
                };
                prop_assert_eq!(queue.get_nowait(), expected);
            }
            Op::TaskDone => {
                let expected = if unfinished == 0 {
                    Err(TaskDoneError)
                } else {
                    unfinished -= 1;
                    Ok(())
                };
                prop_assert_eq!(queue.task_done(), expected);
            }
            Op::Qsize => prop_assert_eq!(queue.qsize(), model.len()),
            Op::Full => prop_assert_eq!(queue.full(), maxsize > 0 && model.len() >= maxsize),
            Op::Empty => prop_assert_eq!(queue.empty(), model.len() == 0),
            Op::Join => prop_assert_eq!(poll_now(&mut queue.join()).is_ready(), unfinished == 0),
            Op::Shutdown { immediate } => {
                queue.shutdown(immediate);
                shut_down = true;
                if immediate {
                    // asyncio 3.13: the drained items count as done.
                    unfinished = unfinished.saturating_sub(model.clear());
                }
            }
        }
        prop_assert_eq!(queue.qsize(), model.len());
        prop_assert_eq!(queue.is_shut_down(), shut_down);
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn fifo_matches_the_model(maxsize in 0_usize..4, ops in ops()) {
        matches_model::<Fifo, FifoModel>(maxsize, &ops)?;
    }

    #[test]
    fn lifo_matches_the_model(maxsize in 0_usize..4, ops in ops()) {
        matches_model::<Lifo, LifoModel>(maxsize, &ops)?;
    }

    #[test]
    fn priority_matches_the_model(maxsize in 0_usize..4, ops in ops()) {
        matches_model::<Priority, PriorityModel>(maxsize, &ops)?;
    }
}

// ---------------------------------------------------------------------------
// (b) Hand-polled futures, dropped at random points.

/// An item that records its id in a shared log when dropped.
struct Item {
    id: u32,
    drops: Rc<RefCell<Vec<u32>>>,
}

impl Drop for Item {
    fn drop(&mut self) {
        self.drops.borrow_mut().push(self.id);
    }
}

impl fmt::Debug for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Item({})", self.id)
    }
}

impl PartialEq for Item {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for Item {}

impl PartialOrd for Item {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Item {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.id.cmp(&other.id)
    }
}

#[derive(Debug, Clone)]
enum Step {
    /// Creates a `get` future and polls it once.
    NewGet,
    /// Creates a `put` future with a new item and polls it once.
    NewPut,
    PutNowait,
    GetNowait,
    PollGet(Index),
    PollPut(Index),
    DropGet(Index),
    DropPut(Index),
    /// `put_nowait`, then drops a pending getter (perhaps the one just
    /// woken for the item) before anything else runs.
    PutNowaitThenDropGet(Index),
    /// `get_nowait`, then drops a pending putter (perhaps the one just
    /// woken for the room).
    GetNowaitThenDropPut(Index),
    Shutdown {
        immediate: bool,
    },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => Just(Step::NewGet),
        3 => Just(Step::NewPut),
        2 => Just(Step::PutNowait),
        2 => Just(Step::GetNowait),
        2 => any::<Index>().prop_map(Step::PollGet),
        2 => any::<Index>().prop_map(Step::PollPut),
        1 => any::<Index>().prop_map(Step::DropGet),
        1 => any::<Index>().prop_map(Step::DropPut),
        1 => any::<Index>().prop_map(Step::PutNowaitThenDropGet),
        1 => any::<Index>().prop_map(Step::GetNowaitThenDropPut),
    ]
}

/// Steps, with at most one shutdown inserted somewhere among them.
fn steps() -> impl Strategy<Value = Vec<Step>> {
    (
        prop::collection::vec(step(), 0..64),
        prop::option::weighted(0.3, (any::<Index>(), any::<bool>())),
    )
        .prop_map(|(mut steps, shutdown)| {
            if let Some((at, immediate)) = shutdown {
                let at = at.index(steps.len() + 1);
                steps.insert(at, Step::Shutdown { immediate });
            }
            steps
        })
}

/// One run of hand-polled futures on one queue, and what became of every
/// item.
struct Run<'q, O: Order<Item>> {
    queue: &'q GenericQueue<Item, O>,
    maxsize: usize,
    drops: Rc<RefCell<Vec<u32>>>,
    next_id: u32,
    shut_down: bool,
    /// Pending gets, in arrival order.
    getters: Vec<QueueGet<'q, Item, O>>,
    /// Pending puts and the id of their item, in arrival order.
    putters: Vec<(u32, QueuePut<'q, Item, O>)>,
    /// Items received, in order; kept alive until the end.
    received: Vec<Item>,
    /// Ids whose put reported success.
    put_ok: BTreeSet<u32>,
    /// Ids whose put was refused or dropped before reporting: their item
    /// may have been dropped.
    may_drop: BTreeSet<u32>,
    /// Ids dropped by an immediate shutdown.
    drained: BTreeSet<u32>,
}

impl<'q, O: Order<Item>> Run<'q, O> {
    fn new(queue: &'q GenericQueue<Item, O>) -> Self {
        Run {
            queue,
            maxsize: queue.maxsize(),
            drops: Rc::default(),
            next_id: 0,
            shut_down: false,
            getters: Vec::new(),
            putters: Vec::new(),
            received: Vec::new(),
            put_ok: BTreeSet::new(),
            may_drop: BTreeSet::new(),
            drained: BTreeSet::new(),
        }
    }

    fn item(&mut self) -> Item {
        self.next_id += 1;
        Item {
            id: self.next_id,
            drops: Rc::clone(&self.drops),
        }
    }

    /// Polls the getter at `index`; removes it if it completed.
    fn poll_get(&mut self, index: usize) -> Result<(), TestCaseError> {
        match poll_now(&mut self.getters[index]) {
            Poll::Ready(Ok(item)) => {
                drop(self.getters.remove(index));
                self.received.push(item);
            }
            Poll::Ready(Err(_)) => {
                prop_assert!(self.shut_down, "a get failed on an open queue");
                drop(self.getters.remove(index));
            }
            Poll::Pending => {}
        }
        Ok(())
    }

    /// Polls the putter at `index`; removes it if it completed.
    fn poll_put(&mut self, index: usize) -> Result<(), TestCaseError> {
        match poll_now(&mut self.putters[index].1) {
            Poll::Ready(Ok(())) => {
                let (id, _) = self.putters.remove(index);
                self.put_ok.insert(id);
            }
            Poll::Ready(Err(refused)) => {
                prop_assert!(self.shut_down, "a put failed on an open queue");
                let (id, _) = self.putters.remove(index);
                prop_assert_eq!(refused.0.id, id, "the put gives its own item back");
                self.may_drop.insert(id);
            }
            Poll::Pending => {}
        }
        Ok(())
    }

    fn drop_get(&mut self, index: Index) {
        if !self.getters.is_empty() {
            drop(self.getters.remove(index.index(self.getters.len())));
        }
    }

    fn drop_put(&mut self, index: Index) {
        if !self.putters.is_empty() {
            let (id, put) = self.putters.remove(index.index(self.putters.len()));
            self.may_drop.insert(id);
            drop(put);
        }
    }

    fn put_nowait(&mut self) -> Result<(), TestCaseError> {
        let item = self.item();
        let id = item.id;
        match self.queue.put_nowait(item) {
            Ok(()) => {
                prop_assert!(!self.shut_down, "put_nowait succeeded after shutdown");
                self.put_ok.insert(id);
            }
            Err(refused) => {
                prop_assert_eq!(
                    matches!(refused, PutNowaitError::QueueShutDown(_)),
                    self.shut_down
                );
                prop_assert_eq!(refused.into_inner().id, id);
                self.may_drop.insert(id);
            }
        }
        Ok(())
    }

    fn get_nowait(&mut self) {
        if let Ok(item) = self.queue.get_nowait() {
            self.received.push(item);
        }
    }

    /// Runs one step, then checks that the queue is within its bound (a
    /// woken putter's room is kept for it, so nobody overfills the queue).
    fn step(&mut self, step: &Step) -> Result<(), TestCaseError> {
        self.run_step(step)?;
        let qsize = self.queue.qsize();
        prop_assert!(
            self.maxsize == 0 || qsize <= self.maxsize,
            "{} items in a queue of {}",
            qsize,
            self.maxsize
        );
        Ok(())
    }

    fn run_step(&mut self, step: &Step) -> Result<(), TestCaseError> {
        match step {
            Step::NewGet => {
                self.getters.push(self.queue.get());
                self.poll_get(self.getters.len() - 1)?;
            }
            Step::NewPut => {
                let item = self.item();
                self.putters.push((item.id, self.queue.put(item)));
                self.poll_put(self.putters.len() - 1)?;
            }
            Step::PutNowait => self.put_nowait()?,
            Step::GetNowait => self.get_nowait(),
            Step::PollGet(index) => {
                if !self.getters.is_empty() {
                    self.poll_get(index.index(self.getters.len()))?;
                }
            }
            Step::PollPut(index) => {
                if !self.putters.is_empty() {
                    self.poll_put(index.index(self.putters.len()))?;
                }
            }
            Step::DropGet(index) => self.drop_get(*index),
            Step::DropPut(index) => self.drop_put(*index),
            Step::PutNowaitThenDropGet(index) => {
                self.put_nowait()?;
                self.drop_get(*index);
            }
            Step::GetNowaitThenDropPut(index) => {
                self.get_nowait();
                self.drop_put(*index);
            }
            Step::Shutdown { immediate } => {
                let before = self.drops.borrow().len();
                self.queue.shutdown(*immediate);
                self.shut_down = true;
                let drained: Vec<u32> = self.drops.borrow()[before..].to_vec();
                if !*immediate {
                    prop_assert!(drained.is_empty(), "a graceful shutdown dropped items");
                }
                self.drained.extend(drained);
            }
        }
        Ok(())
    }

    /// Polls every pending getter, then every pending putter, in arrival
    /// order; then checks that nobody is left waiting for something that
    /// is there.
    fn poll_all(&mut self) -> Result<(), TestCaseError> {
        let mut index = 0;
        while index < self.getters.len() {
            let before = self.getters.len();
            self.poll_get(index)?;
            if self.getters.len() == before {
                index += 1;
            }
        }
        let mut index = 0;
        while index < self.putters.len() {
            let before = self.putters.len();
            self.poll_put(index)?;
            if self.putters.len() == before {
                index += 1;
            }
        }
        let qsize = self.queue.qsize();
        prop_assert!(
            self.getters.is_empty() || qsize == 0,
            "{} getters wait on {} items",
            self.getters.len(),
            qsize
        );
        prop_assert!(
            self.putters.is_empty() || (self.maxsize > 0 && qsize >= self.maxsize),
            "{} putters wait on {} items of {}",
            self.putters.len(),
            qsize,
            self.maxsize
        );
        Ok(())
    }

    /// Drops what is pending, drains the queue and checks that every item
    /// had exactly one fate. Returns the ids in the order they came out
    /// (received, then drained).
    fn finish(mut self) -> Result<Vec<u32>, TestCaseError> {
        self.getters.clear();
        for (id, put) in self.putters.drain(..) {
            self.may_drop.insert(id);
            drop(put);
        }
        let mut remaining = Vec::new();
        loop {
            match self.queue.get_nowait() {
                Ok(item) => remaining.push(item),
                Err(error) => {
                    let expected = match self.shut_down {
                        true => GetNowaitError::QueueShutDown,
                        false => GetNowaitError::QueueEmpty,
                    };
                    prop_assert_eq!(error, expected);
                    break;
                }
            }
        }
        let out: Vec<u32> = self
            .received
            .iter()
            .chain(&remaining)
            .map(|item| item.id)
            .collect();
        let dropped = self.drops.borrow().clone();
        let mut fates: Vec<u32> = out.iter().chain(&dropped).copied().collect();
        fates.sort_unstable();
        let created: Vec<u32> = (1..=self.next_id).collect();
        prop_assert_eq!(
            &fates,
            &created,
            "each item is received, left in the queue or dropped, exactly once"
        );
        for id in &self.put_ok {
            prop_assert!(
                out.contains(id) || self.drained.contains(id),
                "item {} was put, then lost",
                id
            );
        }
        for id in &dropped {
            prop_assert!(
                self.may_drop.contains(id) || self.drained.contains(id),
                "item {} dropped, yet its put succeeded",
                id
            );
        }
        // Every item that went in and was not drained counts once for join.
        for _ in 0..out.len() {
            prop_assert_eq!(self.queue.task_done(), Ok(()));
        }
        prop_assert_eq!(self.queue.task_done(), Err(TaskDoneError));
        prop_assert!(poll_now(&mut self.queue.join()).is_ready());
        drop(remaining);
        drop(self.received);
        prop_assert_eq!(self.drops.borrow().len(), created.len());
        Ok(out)
    }
}

fn conserves_items<O: Order<Item>>(maxsize: usize, steps: &[Step]) -> Result<(), TestCaseError> {
    let queue = GenericQueue::<Item, O>::new(maxsize);
    let mut run = Run::new(&queue);
    for step in steps {
        run.step(step)?;
    }
    run.finish()?;
    Ok(())
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn fifo_conserves_items(maxsize in 0_usize..4, steps in steps()) {
        conserves_items::<Fifo>(maxsize, &steps)?;
    }

    #[test]
    fn lifo_conserves_items(maxsize in 0_usize..4, steps in steps()) {
        conserves_items::<Lifo>(maxsize, &steps)?;
    }

    #[test]
    fn priority_conserves_items(maxsize in 0_usize..4, steps in steps()) {
        conserves_items::<Priority>(maxsize, &steps)?;
    }

    #[test]
    fn fifo_receives_in_put_order(maxsize in 0_usize..4, steps in steps()) {
        let queue = GenericQueue::<Item, Fifo>::new(maxsize);
        let mut run = Run::new(&queue);
        for step in &steps {
            run.step(step)?;
            run.poll_all()?;
        }
        // Ids are handed out in the order puts start, and a put can only
        // go in ahead of an earlier one that never goes in: what comes out
        // must be in increasing id order.
        let out = run.finish()?;
        prop_assert!(
            out.windows(2).all(|pair| pair[0] < pair[1]),
            "out of put order: {:?}",
            out
        );
    }
}
