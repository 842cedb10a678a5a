//! The registry of a scheduler's live tasks: what `all_tasks` lists and what
//! shutdown cancels.
//!
//! A task's slot is its `owner_key`; removal swaps the last task into the
//! hole, so the registry costs one word per live task, and registering and
//! unregistering are O(1) under one lock.

use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::task::Task;

/// Capacity the registry keeps however few tasks are left.
const CAPACITY_KEPT: usize = 1024;

#[derive(Default)]
pub(crate) struct Registry {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    tasks: Vec<Task>,
    /// Set by [`Registry::close`]: no task registers any more.
    closed: bool,
}

impl Registry {
    /// Adds `task`; returns `false` (and adds nothing) once closed.
    pub(crate) fn register(&self, task: &Task) -> bool {
        let mut state = self.lock();
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
            let mut state = self.lock();
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
        self.lock().closed = true;
    }

    /// A snapshot of the live tasks.
    pub(crate) fn tasks(&self) -> Vec<Task> {
        self.lock().tasks.clone()
    }

    /// How many tasks are live.
    pub(crate) fn len(&self) -> usize {
        self.lock().tasks.len()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
