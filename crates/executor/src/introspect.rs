//! asyncio's introspection: the running task and the live tasks.

use crate::error::NoRunningLoop;
use crate::event_loop::context;
use crate::task::{self, Task};

/// The task running now (asyncio's `current_task()`), or `None` outside a task
/// (for example in a `call_soon` callback).
///
/// ```
/// let event_loop = tulip_executor::EventLoop::new()?;
/// let name = event_loop.run_until_complete(async {
///     tulip_executor::task::Builder::new()
///         .name("inspector")
///         .spawn(async { tulip_executor::current_task().map(|task| task.name()) })
///         .unwrap()
///         .await
/// })??;
/// assert_eq!(name.as_deref(), Some("inspector"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn current_task() -> Option<Task> {
    task::current()
}

/// Every task of the running loop (or multi-thread runtime) that has not finished (asyncio's
/// `all_tasks()`), with its name, state, spawn location and poll count.
///
/// ```
/// let event_loop = tulip_executor::EventLoop::new()?;
/// let count = event_loop.run_until_complete(async {
///     let _sleeper = tulip_executor::spawn(std::future::pending::<()>());
///     tulip_executor::all_tasks().map(|tasks| tasks.len())
/// })??;
/// assert_eq!(count, 2); // the main task and the sleeper
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`NoRunningLoop`] outside a running loop.
pub fn all_tasks() -> Result<Vec<Task>, NoRunningLoop> {
    let tasks = match context::current() {
        Some(inner) => inner.shared.live_tasks(),
        None => crate::runtime::context::current()
            .ok_or(NoRunningLoop)?
            .live_tasks(),
    };
    Ok(tasks
        .into_iter()
        .filter(|task| !task.is_finished())
        .collect())
}
