//! The registry of a scheduler's live tasks: what `all_tasks` lists and what
//! shutdown cancels.
//!
//! A task's slot is its `owner_key`; removal swaps the last task into the
//! hole, so the registry costs one word per live task, and registering and
//! unregistering are O(1) under one lock. A multi-thread runtime shards the
//! registry by task id, so that a worker registering a task and another
//! unregistering one rarely take the same lock.

use std::sync::{Mutex, MutexGuard, PoisonError};

use crossbeam_utils::CachePadded;

use crate::task::Task;

/// Capacity the registry keeps however few tasks are left.
const CAPACITY_KEPT: usize = 1024;

pub(crate) struct Registry {
    /// A power-of-two number of shards; a task lives in shard `id % len`.
    shards: Box<[CachePadded<Mutex<State>>]>,
}

impl Default for Registry {
    /// One shard, for a loop (one thread).
    fn default() -> Registry {
        Registry::sharded(1)
    }
}

#[derive(Default)]
struct State {
    tasks: Vec<Task>,
    /// Set by [`Registry::close`]: no task registers any more.
    closed: bool,
}

impl Registry {
    /// At least `shards` shards (rounded up to a power of two).
    pub(crate) fn sharded(shards: usize) -> Registry {
        let shards = shards.max(1).next_power_of_two();
        Registry {
            shards: (0..shards)
                .map(|_| CachePadded::new(Mutex::new(State::default())))
                .collect(),
        }
    }

    /// Adds `task`; returns `false` (and adds nothing) once closed.
    pub(crate) fn register(&self, task: &Task) -> bool {
        let mut state = self.lock(task);
        if state.closed {
            return false;
        }
        task.set_owner_key(state.tasks.len());
        state.tasks.push(task.clone());
        true
    }

    /// Removes `task` (it completed); a task that is not here is ignored.
    pub(crate) fn unregister(&self, task: &Task) {
        let removed = {
            let mut state = self.lock(task);
            let tasks = &mut state.tasks;
            let key = task.owner_key();
            if !tasks.get(key).is_some_and(|owned| owned.ptr_eq(task)) {
                return;
            }
            let removed = tasks.swap_remove(key);
            if let Some(moved) = tasks.get(key) {
                moved.set_owner_key(key);
            }
            if tasks.capacity() > CAPACITY_KEPT && tasks.len() < tasks.capacity() / 4 {
                let keep = tasks.len() * 2;
                tasks.shrink_to(keep);
            }
            removed
        };
        // Outside the lock: dropping a task reference may run arbitrary drops.
        drop(removed);
    }

    /// Refuses every later registration.
    pub(crate) fn close(&self) {
        for shard in &self.shards {
            lock(shard).closed = true;
        }
    }

    /// A snapshot of the live tasks.
    pub(crate) fn tasks(&self) -> Vec<Task> {
        let mut tasks = Vec::new();
        for shard in &self.shards {
            tasks.extend(lock(shard).tasks.iter().cloned());
        }
        tasks
    }

    /// How many tasks are live.
    pub(crate) fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|shard| lock(shard).tasks.len())
            .sum()
    }

    /// The shard of `task`.
    fn lock(&self, task: &Task) -> MutexGuard<'_, State> {
        // The mask keeps the index below the length, a power of two.
        #[allow(clippy::cast_possible_truncation)]
        let index = task.id().as_u64() as usize & (self.shards.len() - 1);
        lock(&self.shards[index])
    }
}

fn lock(shard: &Mutex<State>) -> MutexGuard<'_, State> {
    shard.lock().unwrap_or_else(PoisonError::into_inner)
}
