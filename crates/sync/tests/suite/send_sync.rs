//! Static assertions: every public type is `Send + Sync` when the values
//! inside are `Send` (checked with a `T` that is `Send` but not `Sync`),
//! except the ones that hand out or hold a `T` itself (guards, a pending
//! `put`, errors carrying an item), which are `Send`, and `Sync` when `T`
//! is too, as `std::sync::MutexGuard` is. A regression fails to compile.

use std::cell::Cell;
use std::future::Future;

use tulip_sync::{
    AcquireError, Barrier, BarrierWait, BoundedSemaphore, BrokenBarrier, Condition, ConditionWait,
    Event, EventWait, Fifo, ForeignGuard, GetNowaitError, InvalidParties, InvalidStateError, Lifo,
    LifoQueue, Lock, LockAcquire, LockAcquireOwned, LockGuard, OwnedLockGuard, Priority,
    PriorityQueue, Promise, PromiseError, PromiseWait, PutNowaitError, Queue, QueueGet, QueueJoin,
    QueuePut, QueueShutDown, ReleaseError, Semaphore, SemaphoreAcquire, SemaphoreAcquireMany,
    SemaphorePermit, TaskDoneError, TryAcquireError, TryLockError,
};

/// `Send` but not `Sync`.
type SendOnly = Cell<u32>;

fn send_sync<T: Send + Sync>() {}

fn send<T: Send>() {}

/// The future of `Condition::wait_for` (an `async fn`) is `Send`.
fn send_future<F: Future + Send>(_: F) {}

const _: fn() = || {
    // Values inside that are only `Send`.
    send_sync::<Lock<SendOnly>>();
    send_sync::<LockAcquire<'static, SendOnly>>();
    send_sync::<LockAcquireOwned<SendOnly>>();
    send_sync::<Condition<SendOnly>>();
    send_sync::<Promise<SendOnly>>();
    send_sync::<PromiseWait<SendOnly>>();
    send_sync::<PromiseError>();
    send::<InvalidStateError<SendOnly>>();
    send_sync::<Queue<SendOnly>>();
    send_sync::<LifoQueue<SendOnly>>();
    send_sync::<PriorityQueue<u32>>();
    send_sync::<QueueGet<'static, SendOnly, Fifo>>();
    send_sync::<QueueGet<'static, SendOnly, Lifo>>();
    send_sync::<QueueJoin<'static, SendOnly, Fifo>>();
    send::<LockGuard<'static, SendOnly>>();
    send::<OwnedLockGuard<SendOnly>>();
    send::<ConditionWait<'static, 'static, SendOnly>>();
    send::<QueuePut<'static, SendOnly, Fifo>>();
    send::<ForeignGuard<'static, SendOnly>>();
    send::<QueueShutDown<SendOnly>>();
    send::<PutNowaitError<SendOnly>>();

    // Values inside that are `Send + Sync`.
    send_sync::<Lock<String>>();
    send_sync::<Lock>();
    send_sync::<LockGuard<'static, String>>();
    send_sync::<LockAcquire<'static, String>>();
    send_sync::<OwnedLockGuard<String>>();
    send_sync::<LockAcquireOwned<String>>();
    send_sync::<Event>();
    send_sync::<EventWait<'static>>();
    send_sync::<Condition<String>>();
    send_sync::<Condition>();
    send_sync::<ConditionWait<'static, 'static, String>>();
    send_sync::<Semaphore>();
    send_sync::<BoundedSemaphore>();
    send_sync::<SemaphorePermit<'static>>();
    send_sync::<SemaphoreAcquire<'static>>();
    send_sync::<SemaphoreAcquireMany<'static>>();
    send_sync::<Barrier>();
    send_sync::<BarrierWait<'static>>();
    send_sync::<Queue<String>>();
    send_sync::<LifoQueue<String>>();
    send_sync::<PriorityQueue<String>>();
    send_sync::<QueuePut<'static, String, Fifo>>();
    send_sync::<QueuePut<'static, String, Priority>>();
    send_sync::<QueueGet<'static, String, Priority>>();
    send_sync::<QueueJoin<'static, String, Lifo>>();
    send_sync::<ForeignGuard<'static, String>>();
    send_sync::<QueueShutDown<String>>();
    send_sync::<QueueShutDown>();
    send_sync::<PutNowaitError<String>>();
    send_sync::<GetNowaitError>();
    send_sync::<TaskDoneError>();
    send_sync::<TryLockError>();
    send_sync::<TryAcquireError>();
    send_sync::<AcquireError>();
    send_sync::<ReleaseError>();
    send_sync::<InvalidParties>();
    send_sync::<BrokenBarrier>();

    // The futures of `async fn`s.
    let condition = Box::leak(Box::new(Condition::new(Cell::new(0_u32))));
    let guard = condition.shared_lock().try_lock().expect("never run");
    send_future(condition.wait_for(guard, |value| value.get() > 0));
};
