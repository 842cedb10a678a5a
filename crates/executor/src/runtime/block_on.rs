//! `block_on`: runs a future on the calling thread, as a task of the runtime
//! that only that thread polls, while the workers run everything else.
//!
//! The future need not be `Send`: its task is made with `spawn_local` and
//! its one Runnable lives in a slot that only the calling thread empties. A
//! wake from any thread fills the slot and unparks the caller.

use std::future::Future;
use std::panic::Location;
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use crossbeam_utils::sync::{Parker, Unparker};
use tulip_reactor::coop;

use super::context;
use super::shared::Shared;
use super::worker::TASK_BUDGET;
use crate::error::RunError;
use crate::event_loop::shared::lock;
use crate::task::{self, Runnable, Schedule, Task, TaskBuilder};

/// The scheduler of a `block_on` future's task.
struct MainScheduler {
    shared: Arc<Shared>,
    slot: Mutex<Option<Runnable>>,
    unparker: Unparker,
}

impl Schedule for Arc<MainScheduler> {
    fn schedule(&self, task: Runnable) {
        let previous = lock(&self.slot).replace(task);
        // One Runnable exists per task at a time.
        debug_assert!(previous.is_none());
        self.unparker.unpark();
    }

    fn release(&self, task: &Task) {
        self.shared.unregister(task);
    }
}

/// Runs `future` to completion on this thread; see `Runtime::block_on`.
pub(crate) fn block_on<F>(
    shared: &Arc<Shared>,
    future: F,
    location: &'static Location<'static>,
) -> Result<F::Output, RunError>
where
    F: Future + 'static,
    F::Output: 'static,
{
    if crate::event_loop::context::is_set() || context::is_set() {
        return Err(RunError::AnotherLoopRunning);
    }
    if shared.is_closed() {
        return Err(RunError::Closed);
    }
    let _entered = context::enter(shared);
    let parker = Parker::new();
    let scheduler = Arc::new(MainScheduler {
        shared: shared.clone(),
        slot: Mutex::new(None),
        unparker: parker.unparker().clone(),
    });
    let builder = TaskBuilder::new(None, location);
    // Every Runnable of this task is run or dropped on this thread: the first
    // is run below, later ones are put in `scheduler.slot`, which only this
    // function empties, and before returning it completes the task
    // (`shutdown`, on this thread) and drops whatever the slot still holds;
    // a complete task makes no Runnable again. The `JoinHandle` never leaves
    // this thread. The registry's `Task` outlives completion only as a
    // reference to a complete task, which any thread may drop.
    // SAFETY: so the future is only polled and dropped on this thread.
    let spawned = unsafe { task::spawn_local(future, scheduler.clone(), builder) };
    let (runnable, handle, task) = spawned;
    if !shared.register(&task) {
        drop(runnable);
        return Err(RunError::Closed);
    }
    let blocker = shared.add_blocker(parker.unparker().clone());
    let mut handle = pin!(handle);
    let mut next = Some(runnable);
    let outcome = loop {
        if let Some(runnable) = next.take().or_else(|| lock(&scheduler.slot).take()) {
            next = coop::with_budget(TASK_BUDGET, || runnable.run());
        }
        if handle.is_finished() {
            let mut cx = Context::from_waker(Waker::noop());
            match handle.as_mut().poll(&mut cx) {
                Poll::Ready(output) => break output.map_err(RunError::from),
                Poll::Pending => break Err(RunError::Stopped),
            }
        }
        if shared.take_stop() {
            break Err(RunError::Stopped);
        }
        if next.is_none() && lock(&scheduler.slot).is_none() {
            parker.park();
        }
    };
    shared.remove_blocker(blocker);
    // Completes the task here if it is not (the future is dropped on this
    // thread), then drops a Runnable left behind.
    task.shutdown();
    drop(next.take());
    drop(lock(&scheduler.slot).take());
    outcome
}
