//! `Queue`, `LifoQueue`, `PriorityQueue`: order, bounded puts, fairness
//! on both sides, `task_done` / `join`, 3.13's `shutdown`, cancel safety
//! and the exactly-once fate of every item (CPython's `test_queues`).

use std::cmp::Reverse;
use std::sync::Arc;
use std::task::Poll;

use tulip_sync::{
    GetNowaitError, LifoQueue, PriorityQueue, PutNowaitError, Queue, QueueShutDown, TaskDoneError,
};

use super::{
    Cancelled, Counter, DropLog, Log, Runtime, Tracked, assert_pending, poll_now, ready, settle,
    until,
};

pub(crate) fn fifo_order<R: Runtime>() {
    R::block_on(async {
        let queue = Queue::new(0);
        for item in [3, 1, 2] {
            queue.put_nowait(item).expect("unbounded");
        }
        queue.put(5).await.expect("open");
        queue.put(4).await.expect("open");
        assert_eq!(queue.qsize(), 5);
        let mut got = vec![queue.get_nowait().expect("not empty")];
        for _ in 0..4 {
            got.push(queue.get().await.expect("open"));
        }
        assert_eq!(got, [3, 1, 2, 5, 4]);
        assert!(queue.empty());
    });
}

pub(crate) fn lifo_order<R: Runtime>() {
    R::block_on(async {
        let queue = LifoQueue::new(0);
        for item in [1, 2, 3] {
            queue.put(item).await.expect("open");
        }
        assert_eq!(queue.get().await, Ok(3));
        queue.put_nowait(4).expect("unbounded");
        assert_eq!(queue.get_nowait(), Ok(4));
        assert_eq!(queue.get_nowait(), Ok(2));
        assert_eq!(queue.get().await, Ok(1));
        assert_eq!(queue.get_nowait(), Err(GetNowaitError::QueueEmpty));
    });
}

pub(crate) fn priority_order<R: Runtime>() {
    R::block_on(async {
        let queue = PriorityQueue::new(0);
        for item in [(3, "c"), (1, "a"), (4, "d"), (2, "b"), (1, "a0")] {
            queue.put(item).await.expect("open");
        }
        let mut got = Vec::new();
        while let Ok(item) = queue.get_nowait() {
            got.push(item);
        }
        assert_eq!(got, [(1, "a"), (1, "a0"), (2, "b"), (3, "c"), (4, "d")]);
        // Largest first with Reverse.
        let queue = PriorityQueue::new(0);
        for item in [2, 5, 1] {
            queue.put_nowait(Reverse(item)).expect("unbounded");
        }
        assert_eq!(queue.get().await, Ok(Reverse(5)));
        assert_eq!(queue.get().await, Ok(Reverse(2)));
        assert_eq!(queue.get().await, Ok(Reverse(1)));
    });
}

pub(crate) fn put_waits_while_full_and_putters_are_woken_in_order<R: Runtime>() {
    R::block_on(async {
        let queue = Arc::new(Queue::new(2));
        queue.put_nowait(0).expect("room");
        queue.put(1).await.expect("room");
        assert!(queue.full());
        let log = Log::new();
        let queued = Counter::new();
        let mut putters = Vec::new();
        for i in 0..3 {
            let (queue, log, arrived) = (Arc::clone(&queue), log.clone(), queued.clone());
            putters.push(R::spawn(async move {
                arrived.incr();
                queue.put(10 + i).await.expect("open");
                log.push(i);
            }));
            until::<R>("the putter waits", || queued.get() == i + 1).await;
        }
        settle::<R>().await;
        assert!(log.entries().is_empty());
        assert_eq!(queue.qsize(), 2);
        assert_eq!(queue.get_nowait(), Ok(0));
        // The room is promised to the first putter, woken but not run yet:
        // put_nowait cannot take it (asyncio's put_nowait would, since it
        // only checks full(), and send the putter back to wait).
        assert_eq!(queue.qsize(), 1);
        assert!(!queue.full());
        assert!(matches!(
            queue.put_nowait(99),
            Err(PutNowaitError::QueueFull(99))
        ));
        settle::<R>().await;
        assert_eq!(log.entries(), [0]);
        assert_eq!(queue.qsize(), 2);
        let mut got = Vec::new();
        for _ in 0..4 {
            got.push(queue.get().await.expect("open"));
        }
        assert_eq!(got, [1, 10, 11, 12]);
        for putter in putters {
            R::output(putter).await;
        }
        assert_eq!(log.entries(), [0, 1, 2]);
        assert!(queue.empty());
    });
}

pub(crate) fn getters_are_served_in_arrival_order<R: Runtime>() {
    R::block_on(async {
        let queue = Arc::new(Queue::new(0));
        let queued = Counter::new();
        let mut getters = Vec::new();
        for i in 0..3 {
            let (queue, arrived) = (Arc::clone(&queue), queued.clone());
            getters.push(R::spawn(async move {
                arrived.incr();
                queue.get().await.expect("open")
            }));
            until::<R>("the getter waits", || queued.get() == i + 1).await;
        }
        for (promised, item) in [100, 101, 102].into_iter().enumerate() {
            queue.put_nowait(item).expect("unbounded");
            // The item is in the queue, as in asyncio, but promised to a
            // woken getter: get_nowait cannot take it.
            assert_eq!(queue.qsize(), promised + 1);
            assert_eq!(queue.get_nowait(), Err(GetNowaitError::QueueEmpty));
        }
        let mut got = Vec::new();
        for getter in getters {
            got.push(R::output(getter).await);
        }
        assert_eq!(got, [100, 101, 102]);
        assert!(queue.empty());
        // A getter that arrives while others wait queues behind them even if
        // an item is there by the time it is polled.
        let mut first = queue.get();
        assert_pending(&mut first);
        queue.put_nowait(1).expect("unbounded");
        let mut late = queue.get();
        assert_pending(&mut late);
        assert_eq!(ready(&mut first), Ok(1));
        assert_pending(&mut late);
        queue.put_nowait(2).expect("unbounded");
        assert_eq!(ready(&mut late), Ok(2));
    });
}

pub(crate) fn put_nowait_when_full_gives_the_item_back<R: Runtime>() {
    R::block_on(async {
        let queue = Queue::new(1);
        queue.put_nowait(String::from("a")).expect("room");
        match queue.put_nowait(String::from("b")) {
            Err(PutNowaitError::QueueFull(item)) => assert_eq!(item, "b"),
            other => panic!("expected QueueFull, got {other:?}"),
        }
        let error = queue.put_nowait(String::from("c")).expect_err("full");
        assert_eq!(error.into_inner(), "c");
        assert!(queue.full());
        assert_eq!(queue.qsize(), 1);
        assert_eq!(queue.maxsize(), 1);
        // The refused items were never counted for join.
        assert_eq!(queue.get_nowait().as_deref(), Ok("a"));
        assert_eq!(queue.task_done(), Ok(()));
        assert_eq!(queue.task_done(), Err(TaskDoneError));
        ready(&mut queue.join());
    });
}

pub(crate) fn get_nowait_when_empty<R: Runtime>() {
    R::block_on(async {
        let queue = Queue::<u32>::new(0);
        assert!(queue.empty());
        assert_eq!(queue.get_nowait(), Err(GetNowaitError::QueueEmpty));
        queue.put_nowait(1).expect("unbounded");
        assert!(!queue.empty());
        assert_eq!(queue.get_nowait(), Ok(1));
        assert_eq!(queue.get_nowait(), Err(GetNowaitError::QueueEmpty));
        let lifo = LifoQueue::<u32>::new(3);
        assert_eq!(lifo.get_nowait(), Err(GetNowaitError::QueueEmpty));
        let priority = PriorityQueue::<u32>::new(3);
        assert_eq!(priority.get_nowait(), Err(GetNowaitError::QueueEmpty));
        let mut waiting = queue.get();
        assert_pending(&mut waiting);
        assert_pending(&mut waiting);
    });
}

pub(crate) fn unbounded_queue_is_never_full<R: Runtime>() {
    R::block_on(async {
        let queue = Queue::default();
        assert_eq!(queue.maxsize(), 0);
        for item in 0..1000 {
            queue.put_nowait(item).expect("unbounded");
            assert!(!queue.full());
        }
        queue.put(1000).await.expect("unbounded");
        assert_eq!(queue.qsize(), 1001);
        let bounded = Queue::new(2);
        assert!(!bounded.full());
        bounded.put_nowait(0).expect("room");
        assert!(!bounded.full());
        bounded.put_nowait(1).expect("room");
        assert!(bounded.full());
    });
}

pub(crate) fn task_done_too_many_times<R: Runtime>() {
    R::block_on(async {
        let queue = Queue::new(0);
        assert_eq!(queue.task_done(), Err(TaskDoneError));
        queue.put_nowait(1).expect("unbounded");
        queue.put(2).await.expect("unbounded");
        assert_eq!(queue.get_nowait(), Ok(1));
        // asyncio counts puts, not gets.
        assert_eq!(queue.task_done(), Ok(()));
        assert_eq!(queue.task_done(), Ok(()));
        assert_eq!(queue.task_done(), Err(TaskDoneError));
        assert_eq!(queue.qsize(), 1);
    });
}

pub(crate) fn join_waits_for_task_done_of_every_item<R: Runtime>() {
    R::block_on(async {
        let queue = Arc::new(Queue::new(0));
        queue.join().await;
        for item in 0..3 {
            queue.put(item).await.expect("open");
        }
        let joined = Counter::new();
        let mut joiners = Vec::new();
        for _ in 0..2 {
            let (queue, joined) = (Arc::clone(&queue), joined.clone());
            joiners.push(R::spawn(async move {
                queue.join().await;
                joined.incr();
            }));
        }
        for _ in 0..3 {
            queue.get().await.expect("open");
        }
        settle::<R>().await;
        assert_eq!(joined.get(), 0, "got, but not done");
        queue.task_done().expect("3 unfinished");
        queue.task_done().expect("2 unfinished");
        settle::<R>().await;
        assert_eq!(joined.get(), 0);
        queue.task_done().expect("1 unfinished");
        for joiner in joiners {
            R::output(joiner).await;
        }
        assert_eq!(joined.get(), 2);
        ready(&mut queue.join());
        // An item handed straight to a getter counts as well.
        let mut getter = queue.get();
        assert_pending(&mut getter);
        queue.put_nowait(7).expect("unbounded");
        let mut join = queue.join();
        assert_pending(&mut join);
        assert_eq!(ready(&mut getter), Ok(7));
        queue.task_done().expect("1 unfinished");
        ready(&mut join);
    });
}

pub(crate) fn shutdown_fails_puts_and_drains_gets<R: Runtime>() {
    R::block_on(async {
        let queue = Arc::new(Queue::new(2));
        queue.put_nowait("a").expect("room");
        queue.put_nowait("b").expect("room");
        let queued = Counter::new();
        let putter = R::spawn({
            let (queue, queued) = (Arc::clone(&queue), queued.clone());
            async move {
                queued.incr();
                queue.put("c").await
            }
        });
        until::<R>("the putter waits", || queued.get() == 1).await;
        assert!(!queue.is_shut_down());
        queue.shutdown(false);
        assert!(queue.is_shut_down());
        // The waiting putter and every later put fail, giving the item back.
        assert_eq!(R::output(putter).await, Err(QueueShutDown("c")));
        assert!(matches!(
            queue.put_nowait("d"),
            Err(PutNowaitError::QueueShutDown("d"))
        ));
        assert_eq!(queue.put("e").await, Err(QueueShutDown("e")));
        // Gets drain what is left, then fail.
        assert_eq!(queue.qsize(), 2);
        assert_eq!(queue.get().await, Ok("a"));
        assert_eq!(queue.get_nowait(), Ok("b"));
        assert_eq!(queue.get_nowait(), Err(GetNowaitError::QueueShutDown));
        assert_eq!(queue.get().await, Err(QueueShutDown(())));
        // Only "a" and "b" were ever put.
        assert_eq!(queue.task_done(), Ok(()));
        assert_eq!(queue.task_done(), Ok(()));
        assert_eq!(queue.task_done(), Err(TaskDoneError));
        queue.join().await;
        queue.shutdown(false);
        queue.shutdown(true);
        assert!(queue.is_shut_down());
    });
}

pub(crate) fn shutdown_fails_waiting_getters<R: Runtime>() {
    R::block_on(async {
        for immediate in [false, true] {
            let queue = Arc::new(Queue::<u32>::new(0));
            let queued = Counter::new();
            let mut getters = Vec::new();
            for i in 0..2 {
                let (queue, arrived) = (Arc::clone(&queue), queued.clone());
                getters.push(R::spawn(async move {
                    arrived.incr();
                    queue.get().await
                }));
                until::<R>("the getter waits", || queued.get() == i + 1).await;
            }
            queue.shutdown(immediate);
            for getter in getters {
                assert_eq!(R::output(getter).await, Err(QueueShutDown(())));
            }
            assert_eq!(queue.get().await, Err(QueueShutDown(())));
        }
    });
}

pub(crate) fn shutdown_immediate_drops_items_and_releases_join<R: Runtime>() {
    R::block_on(async {
        let drops = DropLog::new();
        let queue = Arc::new(Queue::new(3));
        for id in 0..3 {
            queue.put_nowait(drops.item(id)).expect("room");
        }
        let queued = Counter::new();
        let putter = R::spawn({
            let (queue, queued, item) = (Arc::clone(&queue), queued.clone(), drops.item(3));
            async move {
                queued.incr();
                queue.put(item).await
            }
        });
        let joiner = R::spawn({
            let (queue, queued) = (Arc::clone(&queue), queued.clone());
            async move {
                queued.incr();
                queue.join().await;
            }
        });
        until::<R>("the putter and joiner wait", || queued.get() == 2).await;
        queue.shutdown(true);
        assert_eq!(drops.dropped(), [0, 1, 2], "queued items dropped at once");
        assert_eq!(queue.qsize(), 0);
        R::output(joiner).await;
        match R::output(putter).await {
            Err(QueueShutDown(item)) => assert_eq!(item.id, 3),
            Ok(()) => panic!("the put should fail"),
        }
        assert_eq!(drops.dropped(), [0, 1, 2, 3]);
        assert_eq!(
            queue.get_nowait().err(),
            Some(GetNowaitError::QueueShutDown)
        );
        assert_eq!(queue.get().await.err(), Some(QueueShutDown(())));
        // The dropped items count as done.
        assert_eq!(queue.task_done(), Err(TaskDoneError));
        queue.join().await;
    });
}

pub(crate) fn shutdown_immediate_keeps_join_waiting_for_items_got<R: Runtime>() {
    R::block_on(async {
        let queue = Queue::new(0);
        for item in 0..3 {
            queue.put_nowait(item).expect("unbounded");
        }
        assert_eq!(queue.get_nowait(), Ok(0));
        queue.shutdown(true);
        assert!(queue.empty());
        // 1 and 2 were drained and count as done; 0 was got and is not done.
        let mut join = queue.join();
        assert_pending(&mut join);
        assert_eq!(queue.task_done(), Ok(()));
        ready(&mut join);
        assert_eq!(queue.task_done(), Err(TaskDoneError));
    });
}

pub(crate) fn shutdown_and_woken_getters<R: Runtime>() {
    R::block_on(async {
        // A graceful shutdown leaves the woken getter its item.
        let queue = Queue::new(0);
        let mut getter = queue.get();
        assert_pending(&mut getter);
        queue.put_nowait(1).expect("unbounded");
        queue.shutdown(false);
        assert_eq!(ready(&mut getter), Ok(1));
        assert_eq!(queue.get().await, Err(QueueShutDown(())));
        // An immediate one drops the item: the woken getter fails, as in
        // asyncio, where the item is still in the queue when it is drained.
        let drops = DropLog::new();
        let queue = Queue::new(0);
        let mut getter = queue.get();
        assert_pending(&mut getter);
        queue.put_nowait(drops.item(1)).expect("unbounded");
        queue.shutdown(true);
        assert_eq!(drops.dropped(), [1]);
        assert_eq!(ready(&mut getter).err(), Some(QueueShutDown(())));
        queue.join().await;
    });
}

pub(crate) fn shutdown_fails_woken_putters<R: Runtime>() {
    R::block_on(async {
        let queue = Queue::new(1);
        queue.put_nowait("a").expect("room");
        let mut woken = queue.put("b");
        let mut waiting = queue.put("c");
        assert_pending(&mut woken);
        assert_pending(&mut waiting);
        assert_eq!(queue.get_nowait(), Ok("a"));
        // `woken` was promised the room, but runs after the shutdown.
        queue.shutdown(false);
        assert_eq!(ready(&mut woken), Err(QueueShutDown("b")));
        assert_eq!(ready(&mut waiting), Err(QueueShutDown("c")));
        assert!(queue.empty());
        assert_eq!(queue.get_nowait(), Err(GetNowaitError::QueueShutDown));
        assert_eq!(queue.task_done(), Ok(()));
        assert_eq!(queue.task_done(), Err(TaskDoneError));
    });
}

pub(crate) fn woken_getter_dropped_leaves_the_item_queued<R: Runtime>() {
    R::block_on(async {
        let queue = Queue::new(0);
        let mut getter = queue.get();
        assert_pending(&mut getter);
        queue.put_nowait(1).expect("unbounded");
        // 1 is promised to the getter, woken but not run yet.
        assert_eq!(queue.qsize(), 1);
        assert_eq!(queue.get_nowait(), Err(GetNowaitError::QueueEmpty));
        queue.put_nowait(2).expect("unbounded");
        queue.put_nowait(3).expect("unbounded");
        // Dropped before it ran: the promise is void, the item stays at the
        // head and FIFO order is kept.
        drop(getter);
        assert_eq!(queue.qsize(), 3);
        assert_eq!(queue.get().await, Ok(1));
        assert_eq!(queue.get_nowait(), Ok(2));
        assert_eq!(queue.get_nowait(), Ok(3));
        // Counted once for join.
        for _ in 0..3 {
            queue.task_done().expect("unfinished");
        }
        assert_eq!(queue.task_done(), Err(TaskDoneError));

        // A bounded queue never goes above maxsize on the way.
        let bounded = Queue::new(1);
        let mut getter = bounded.get();
        assert_pending(&mut getter);
        bounded.put_nowait(1).expect("room");
        assert!(matches!(
            bounded.put_nowait(2),
            Err(PutNowaitError::QueueFull(2))
        ));
        drop(getter);
        assert_eq!(bounded.qsize(), 1);
        assert_eq!(bounded.get_nowait(), Ok(1));
    });
}

pub(crate) fn woken_getter_dropped_passes_its_turn_to_the_next_getter<R: Runtime>() {
    R::block_on(async {
        let queue = Queue::new(0);
        let mut first = queue.get();
        let mut second = queue.get();
        let mut third = queue.get();
        assert_pending(&mut first);
        assert_pending(&mut second);
        assert_pending(&mut third);
        queue.put_nowait(1).expect("unbounded");
        drop(first);
        assert_eq!(queue.get_nowait(), Err(GetNowaitError::QueueEmpty));
        assert_eq!(ready(&mut second), Ok(1));
        assert_pending(&mut third);
        queue.put_nowait(2).expect("unbounded");
        assert_eq!(ready(&mut third), Ok(2));

        // Both woken, the first dropped: the second takes the head when it
        // runs, the other item is free for anyone.
        let mut first = queue.get();
        let mut second = queue.get();
        assert_pending(&mut first);
        assert_pending(&mut second);
        queue.put_nowait(3).expect("unbounded");
        queue.put_nowait(4).expect("unbounded");
        drop(first);
        assert_eq!(queue.qsize(), 2);
        assert_eq!(ready(&mut second), Ok(3));
        assert_eq!(queue.get_nowait(), Ok(4));
    });
}

pub(crate) fn woken_getter_takes_the_next_item_when_it_runs<R: Runtime>() {
    R::block_on(async {
        // The promise is of an item, not of a given one: a priority queue
        // gives the smallest at the time the getter runs.
        let priority = PriorityQueue::new(0);
        let mut getter = priority.get();
        assert_pending(&mut getter);
        priority.put_nowait(5).expect("unbounded");
        priority.put_nowait(1).expect("unbounded");
        assert_eq!(ready(&mut getter), Ok(1));
        assert_eq!(priority.get_nowait(), Ok(5));

        let lifo = LifoQueue::new(0);
        let mut getter = lifo.get();
        assert_pending(&mut getter);
        lifo.put_nowait(1).expect("unbounded");
        lifo.put_nowait(2).expect("unbounded");
        lifo.put_nowait(3).expect("unbounded");
        assert_eq!(ready(&mut getter), Ok(3));
        assert_eq!(lifo.get_nowait(), Ok(2));
        assert_eq!(lifo.get_nowait(), Ok(1));
        // Dropped after being woken, a getter leaves the stack as it is.
        let mut getter = lifo.get();
        assert_pending(&mut getter);
        lifo.put_nowait(4).expect("unbounded");
        lifo.put_nowait(5).expect("unbounded");
        drop(getter);
        assert_eq!(lifo.get_nowait(), Ok(5));
        assert_eq!(lifo.get_nowait(), Ok(4));
    });
}

pub(crate) fn cancelled_woken_getter_task_passes_its_turn_on<R: Runtime>() {
    R::block_on(async {
        let queue = Arc::new(Queue::new(0));
        let queued = Counter::new();
        let mut getters = Vec::new();
        for i in 0..2 {
            let (queue, arrived) = (Arc::clone(&queue), queued.clone());
            getters.push(R::spawn(async move {
                arrived.incr();
                queue.get().await.expect("open")
            }));
            until::<R>("the getter waits", || queued.get() == i + 1).await;
        }
        let second = getters.pop().expect("two getters");
        let first = getters.pop().expect("two getters");
        // Woken for the item, cancelled before it runs (CPython's
        // test_get_cancelled_race).
        queue.put_nowait(7).expect("unbounded");
        R::cancel(&first);
        assert_eq!(R::join(first).await, Err(Cancelled));
        assert_eq!(R::output(second).await, 7);
        assert!(queue.empty());
    });
}

pub(crate) fn put_dropped_while_waiting_never_enqueues<R: Runtime>() {
    R::block_on(async {
        let drops = DropLog::new();
        let queue = Arc::new(Queue::new(1));
        queue.put_nowait(drops.item(0)).expect("room");
        let mut put = queue.put(drops.item(1));
        assert_pending(&mut put);
        drop(put);
        assert_eq!(drops.dropped(), [1]);
        assert_eq!(queue.qsize(), 1);
        assert_eq!(queue.get_nowait().map(|item| item.id), Ok(0));
        assert_eq!(queue.get_nowait().err(), Some(GetNowaitError::QueueEmpty));
        assert_eq!(queue.task_done(), Ok(()));
        assert_eq!(queue.task_done(), Err(TaskDoneError));

        // A cancelled putter task (CPython's test_put_cancel_drop).
        queue.put_nowait(drops.item(2)).expect("room");
        let queued = Counter::new();
        let putter = R::spawn({
            let (queue, queued, item) = (Arc::clone(&queue), queued.clone(), drops.item(3));
            async move {
                queued.incr();
                queue.put(item).await.expect("open");
            }
        });
        until::<R>("the putter waits", || queued.get() == 1).await;
        R::cancel(&putter);
        assert_eq!(R::join(putter).await, Err(Cancelled));
        assert_eq!(drops.dropped(), [0, 1, 3]);
        assert_eq!(queue.get_nowait().map(|item| item.id), Ok(2));
        assert_eq!(queue.get_nowait().err(), Some(GetNowaitError::QueueEmpty));
    });
}

pub(crate) fn put_dropped_after_wakeup_passes_the_room_on<R: Runtime>() {
    R::block_on(async {
        let drops = DropLog::new();
        let queue = Queue::new(1);
        queue.put_nowait(drops.item(0)).expect("room");
        let mut first = queue.put(drops.item(1));
        let mut second = queue.put(drops.item(2));
        assert_pending(&mut first);
        assert_pending(&mut second);
        let got = queue.get_nowait().expect("not empty");
        // The room is promised to `first`, woken but not run yet.
        assert_eq!(queue.qsize(), 0);
        assert!(matches!(
            queue.put_nowait(drops.item(9)),
            Err(PutNowaitError::QueueFull(_))
        ));
        // Dropped before it ran: its item leaves with it, never queued, and
        // the room goes to `second`.
        drop(first);
        assert_eq!(drops.dropped(), [1, 9]);
        assert_eq!(queue.qsize(), 0);
        assert_eq!(ready(&mut second).map_err(|_| "shut down"), Ok(()));
        assert_eq!(queue.get_nowait().map(|item| item.id), Ok(2));
        drop(got);
        // With nobody behind, the room is free again.
        queue.put_nowait(drops.item(3)).expect("room");
        let mut waiting = queue.put(drops.item(4));
        assert_pending(&mut waiting);
        assert_eq!(queue.get_nowait().map(|item| item.id), Ok(3));
        drop(waiting);
        queue.put_nowait(drops.item(5)).expect("room");
        assert_eq!(queue.get_nowait().map(|item| item.id), Ok(5));
        assert_eq!(drops.dropped(), [0, 1, 2, 3, 4, 5, 9]);
        // Only 0, 2, 3 and 5 went in.
        for _ in 0..4 {
            queue.task_done().expect("unfinished");
        }
        assert_eq!(queue.task_done(), Err(TaskDoneError));
    });
}

pub(crate) fn items_are_dropped_exactly_once<R: Runtime>() {
    R::block_on(async {
        let drops = DropLog::new();
        {
            let queue = Queue::new(1);
            // Got, then dropped by its receiver.
            queue.put_nowait(drops.item(0)).expect("room");
            drop(queue.get_nowait().expect("not empty"));
            assert_eq!(drops.dropped(), [0]);
            // Refused by put_nowait, given back in the error.
            queue.put_nowait(drops.item(4)).expect("room");
            let refused = queue.put_nowait(drops.item(1)).expect_err("full");
            assert_eq!(drops.drops_of(1), 0);
            drop(refused);
            // A put dropped while waiting.
            let mut put = queue.put(drops.item(2));
            assert_pending(&mut put);
            drop(put);
            // A waiting put failed by shutdown gets its item back.
            let mut put = queue.put(drops.item(3));
            assert_pending(&mut put);
            queue.shutdown(true);
            // Drained by the immediate shutdown.
            assert_eq!(drops.drops_of(4), 1);
            let error = ready(&mut put).expect_err("shut down");
            assert_eq!(drops.drops_of(3), 0);
            drop(error);
            // Refused after shutdown, given back.
            drop(queue.put_nowait(drops.item(10)).expect_err("shut down"));
            drop(put);
        }
        {
            // Items promised to woken getters, drained by an immediate
            // shutdown: dropped there, once, whatever the getters do next.
            let queue = Queue::new(0);
            let mut dropped_getter = queue.get();
            let mut polled_getter = queue.get();
            assert_pending(&mut dropped_getter);
            assert_pending(&mut polled_getter);
            queue.put_nowait(drops.item(6)).expect("unbounded");
            queue.put_nowait(drops.item(7)).expect("unbounded");
            queue.put_nowait(drops.item(5)).expect("unbounded");
            queue.shutdown(true);
            assert_eq!(drops.dropped(), [0, 1, 2, 3, 4, 5, 6, 7, 10]);
            drop(dropped_getter);
            assert!(matches!(poll_now(&mut polled_getter), Poll::Ready(Err(_))));
        }
        {
            // Woken putters: dropped before running, or failed by a shutdown.
            let queue = Queue::new(1);
            queue.put_nowait(drops.item(16)).expect("room");
            let mut dropped_put = queue.put(drops.item(17));
            let mut failed_put = queue.put(drops.item(18));
            assert_pending(&mut dropped_put);
            assert_pending(&mut failed_put);
            drop(queue.get_nowait().expect("not empty"));
            drop(dropped_put);
            assert_eq!(drops.drops_of(17), 1);
            queue.shutdown(false);
            let error = ready(&mut failed_put).expect_err("shut down");
            assert_eq!(drops.drops_of(18), 0);
            drop(error);
        }
        {
            // Dropping queues with items in them.
            let queue = Queue::new(0);
            queue.put_nowait(drops.item(8)).expect("unbounded");
            queue.put_nowait(drops.item(9)).expect("unbounded");
            let lifo = LifoQueue::new(0);
            lifo.put_nowait(drops.item(11)).expect("unbounded");
            let priority = PriorityQueue::new(0);
            priority.put_nowait(drops.item(12)).expect("unbounded");
            // And a put future dropped while it holds its item.
            let bounded = Queue::new(1);
            bounded.put_nowait(drops.item(13)).expect("room");
            let mut put = bounded.put(drops.item(14));
            assert_pending(&mut put);
            drop(put);
        }
        // Drained by an immediate shutdown, never twice.
        let queue: Queue<Tracked> = Queue::new(0);
        queue.put_nowait(drops.item(15)).expect("unbounded");
        queue.shutdown(true);
        queue.shutdown(true);
        queue.shutdown(false);
        drop(queue);
        assert_eq!(drops.dropped(), (0..=18).collect::<Vec<u32>>());
    });
}

pub(crate) fn getter_arriving_after_shutdown_is_not_stranded<R: Runtime>() {
    R::block_on(async {
        let queue = Queue::new(0);
        let mut woken = queue.get();
        assert_pending(&mut woken);
        queue.put_nowait(1).expect("unbounded");
        queue.shutdown(false);
        // The only item is promised to `woken`; a getter arriving now can
        // only end with QueueShutDown (asyncio: get() raises once the queue
        // is shut down and empty), however the two are polled.
        let mut late = queue.get();
        let late_first = poll_now(&mut late);
        assert_eq!(ready(&mut woken), Ok(1));
        let late = match late_first {
            Poll::Ready(result) => result,
            Poll::Pending => ready(&mut late),
        };
        assert_eq!(late, Err(QueueShutDown(())));
    });
}
