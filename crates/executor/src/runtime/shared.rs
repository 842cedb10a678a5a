//! What every thread of a multi-thread runtime shares: the global queue, the
//! workers' stealers and unparkers, the idle bookkeeping, the registry of
//! live tasks, the reactor and the blocking pool. It is the scheduler every
//! task of the runtime holds.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use tulip_reactor::Reactor;

use super::idle::Idle;
use super::park::Unparker;
use super::queue::{Overflow, Stealer};
use super::worker;
use crate::blocking::BlockingPool;
use crate::error::SpawnError;
use crate::event_loop::shared::lock;
use crate::registry::Registry;
use crate::task::{self, JoinHandle, Runnable, Schedule, Task, TaskBuilder};
use crate::util::drop_quietly;

/// What the runtime was built with and never changes.
pub(crate) struct Config {
    pub(crate) debug: bool,
    pub(crate) slow_callback_duration: Duration,
    pub(crate) eager_tasks: bool,
}

/// How other threads reach one worker.
pub(crate) struct WorkerRemote {
    pub(crate) stealer: Stealer<Runnable>,
    pub(crate) unparker: Unparker,
}

pub(crate) struct Shared {
    pub(crate) reactor: Arc<Reactor>,
    pub(crate) blocking: BlockingPool,
    pub(crate) injector: Injector,
    pub(crate) workers: Box<[WorkerRemote]>,
    pub(crate) idle: Idle,
    pub(crate) config: Config,
    registry: Registry,
    /// Held by the worker that waits inside the reactor.
    driver: AtomicBool,
    /// No new task is accepted.
    closed: AtomicBool,
    /// The workers exit.
    shutdown: AtomicBool,
    /// The final sweep is done: a task handed over now is dropped at once.
    finished: AtomicBool,
    /// `Handle::stop`: the next `block_on` to notice returns `Stopped`.
    stopping: AtomicBool,
    /// The threads inside `block_on`, woken by `stop`.
    blockers: Mutex<Vec<(u64, crossbeam_utils::sync::Unparker)>>,
    next_blocker: AtomicUsize,
    /// Workers that have left their loop, and its condition variable.
    exited: Mutex<usize>,
    exited_cv: Condvar,
}

impl Shared {
    pub(crate) fn new(
        reactor: Arc<Reactor>,
        blocking: BlockingPool,
        workers: Box<[WorkerRemote]>,
        config: Config,
    ) -> Shared {
        // Sharded so that workers registering and completing tasks at once
        // rarely meet on one lock.
        let registry = Registry::sharded(workers.len() * 4);
        Shared {
            reactor,
            blocking,
            injector: Injector::default(),
            idle: Idle::new(workers.len()),
            workers,
            config,
            registry,
            driver: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            shutdown: AtomicBool::new(false),
            finished: AtomicBool::new(false),
            stopping: AtomicBool::new(false),
            blockers: Mutex::new(Vec::new()),
            next_blocker: AtomicUsize::new(0),
            exited: Mutex::new(0),
            exited_cv: Condvar::new(),
        }
    }

    /// Spawns a `Send` future: onto the calling worker's queue, or the
    /// global queue from any other thread. With `eager`, a worker polls it
    /// once at once.
    pub(crate) fn spawn<F>(
        self: &Arc<Self>,
        future: F,
        builder: TaskBuilder,
        eager: bool,
    ) -> Result<JoinHandle<F::Output>, SpawnError>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        if self.is_closed() {
            return Err(SpawnError::Closed);
        }
        let (runnable, handle, task) = task::spawn(future, self.clone(), builder);
        if !self.registry.register(&task) {
            // Closed meanwhile: dropping the Runnable cancels the task here.
            drop_quietly(runnable);
            return Err(SpawnError::Closed);
        }
        drop(task);
        if let Err(runnable) = worker::schedule_spawned(self, runnable, eager) {
            self.inject(runnable);
        }
        Ok(handle)
    }

    /// Queues a task on the global queue and wakes a worker for it if needed.
    pub(crate) fn inject(&self, task: Runnable) {
        if self.finished.load(Ordering::SeqCst) {
            // Nobody will ever run it: it completes as cancelled, here.
            drop_quietly(task);
            return;
        }
        self.injector.push(task);
        self.notify_parked();
    }

    /// Wakes a sleeping worker, if new work calls for one (see `idle.rs`).
    pub(crate) fn notify_parked(&self) {
        if let Some(index) = self.idle.worker_to_notify() {
            self.workers[index]
                .unparker
                .unpark(|| self.reactor.notify());
        }
    }

    /// The last searcher's look at every queue before it sleeps.
    pub(crate) fn notify_if_work_pending(&self) {
        let pending = !self.injector.is_empty()
            || self.workers.iter().any(|worker| !worker.stealer.is_empty());
        if pending {
            self.notify_parked();
        }
    }

    /// Becomes the worker that waits inside the reactor, if none is.
    pub(crate) fn try_take_driver(&self) -> bool {
        !self.driver.swap(true, Ordering::Acquire)
    }

    pub(crate) fn release_driver(&self) {
        self.driver.store(false, Ordering::Release);
    }

    pub(crate) fn register(&self, task: &Task) -> bool {
        self.registry.register(task)
    }

    pub(crate) fn unregister(&self, task: &Task) {
        self.registry.unregister(task);
    }

    pub(crate) fn live_tasks(&self) -> Vec<Task> {
        self.registry.tasks()
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    pub(crate) fn is_shutdown(&self) -> bool {
        self.shutdown.load(Ordering::SeqCst)
    }

    /// `Handle::stop`: makes a running (or the next) `block_on` return.
    pub(crate) fn request_stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        for (_, unparker) in lock(&self.blockers).iter() {
            unparker.unpark();
        }
    }

    pub(crate) fn take_stop(&self) -> bool {
        self.stopping.swap(false, Ordering::SeqCst)
    }

    /// Lists a `block_on` thread for `stop` to wake; returns its key.
    pub(crate) fn add_blocker(&self, unparker: crossbeam_utils::sync::Unparker) -> u64 {
        let key = self.next_blocker.fetch_add(1, Ordering::Relaxed) as u64;
        lock(&self.blockers).push((key, unparker));
        key
    }

    pub(crate) fn remove_blocker(&self, key: u64) {
        lock(&self.blockers).retain(|(k, _)| *k != key);
    }

    /// A worker left its loop.
    pub(crate) fn worker_exited(&self) {
        *lock(&self.exited) += 1;
        self.exited_cv.notify_all();
    }

    /// Shuts the runtime down: refuses new tasks, stops the workers (waiting
    /// for them until `deadline`), then drops every task's future and
    /// everything queued. Returns whether every worker exited in time.
    pub(crate) fn shut_down(&self, deadline: Option<Instant>) -> bool {
        self.closed.store(true, Ordering::SeqCst);
        self.shutdown.store(true, Ordering::SeqCst);
        for worker in &self.workers {
            worker.unparker.unpark(|| self.reactor.notify());
        }
        let all_exited = self.wait_for_workers(deadline);
        self.registry.close();
        // Futures' destructors may wake or complete other tasks: sweep until
        // nothing is left.
        loop {
            let tasks = self.registry.tasks();
            for task in &tasks {
                task.shutdown();
            }
            let queued = self.injector.take_all();
            let had_queued = !queued.is_empty();
            for task in queued {
                drop_quietly(task);
            }
            if tasks.is_empty() && !had_queued && self.registry.len() == 0 {
                break;
            }
        }
        self.finished.store(true, Ordering::SeqCst);
        // Anything queued between the last sweep and `finished`.
        for task in self.injector.take_all() {
            drop_quietly(task);
        }
        all_exited
    }

    fn wait_for_workers(&self, deadline: Option<Instant>) -> bool {
        let mut exited = lock(&self.exited);
        while *exited < self.workers.len() {
            match deadline {
                None => {
                    exited = self
                        .exited_cv
                        .wait(exited)
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                }
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        return false;
                    }
                    exited = self
                        .exited_cv
                        .wait_timeout(exited, deadline - now)
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .0;
                }
            }
        }
        true
    }
}

impl Schedule for Arc<Shared> {
    fn schedule(&self, task: Runnable) {
        if let Err(task) = worker::schedule_woken(self, task) {
            self.inject(task);
        }
    }

    fn release(&self, task: &Task) {
        self.registry.unregister(task);
    }
}

/// The global queue: tasks spawned or woken off the workers, and what
/// overflows a worker's local queue.
#[derive(Default)]
pub(crate) struct Injector {
    queue: Mutex<VecDeque<Runnable>>,
    /// Mirrors the queue's length, so that an empty queue is seen without the lock.
    len: AtomicUsize,
}

impl Injector {
    pub(crate) fn push(&self, task: Runnable) {
        let mut queue = lock(&self.queue);
        queue.push_back(task);
        self.len.store(queue.len(), Ordering::SeqCst);
    }

    pub(crate) fn pop(&self) -> Option<Runnable> {
        if self.is_empty() {
            return None;
        }
        let mut queue = lock(&self.queue);
        let task = queue.pop_front();
        self.len.store(queue.len(), Ordering::SeqCst);
        task
    }

    /// Takes up to `max` tasks from the front, in order.
    pub(crate) fn pop_batch(&self, max: usize) -> Vec<Runnable> {
        if self.is_empty() || max == 0 {
            return Vec::new();
        }
        let mut queue = lock(&self.queue);
        let count = max.min(queue.len());
        let batch: Vec<Runnable> = queue.drain(..count).collect();
        self.len.store(queue.len(), Ordering::SeqCst);
        batch
    }

    pub(crate) fn len(&self) -> usize {
        self.len.load(Ordering::SeqCst)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn take_all(&self) -> VecDeque<Runnable> {
        let mut queue = lock(&self.queue);
        self.len.store(0, Ordering::SeqCst);
        std::mem::take(&mut *queue)
    }
}

impl Overflow<Runnable> for Injector {
    fn push_batch(&self, tasks: &mut dyn Iterator<Item = Runnable>) {
        let mut queue = lock(&self.queue);
        queue.extend(tasks);
        self.len.store(queue.len(), Ordering::SeqCst);
    }
}
