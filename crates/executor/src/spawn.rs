//! Spawning tasks: the free functions, which use the running loop, and the
//! task [`Builder`] for names and eager starts.

use std::future::Future;
use std::panic::Location;

use crate::error::SpawnError;
use crate::event_loop::context;
use crate::event_loop::inner::{LoopInner, Ready};
use crate::runtime;
use crate::task::{self, JoinHandle, TaskBuilder};

/// Spawns `future` as a task of the running loop (asyncio's `create_task`)
/// and returns its [`JoinHandle`]. The task starts in the next iteration of
/// the loop (at once if the loop runs with eager tasks).
///
/// ```
/// let event_loop = tulip_executor::EventLoop::new()?;
/// let sum = event_loop.run_until_complete(async {
///     let tasks: Vec<_> = (1..=3).map(|i| tulip_executor::spawn(async move { i * 10 })).collect();
///     let mut sum = 0;
///     for task in tasks {
///         sum += task.await?;
///     }
///     Ok::<_, tulip_executor::JoinError>(sum)
/// })??;
/// assert_eq!(sum, 60);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// On a worker of a multi-thread [`Runtime`](crate::Runtime) (or inside its
/// `block_on`), the task is spawned on that runtime.
///
/// # Panics
/// Outside a running loop or runtime, as asyncio raises "no running event
/// loop". Use [`Builder::spawn`] or [`Handle::spawn`](crate::Handle::spawn)
/// to get an error instead.
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    match Builder::new().spawn(future) {
        Ok(handle) => handle,
        Err(error) => panic!("tulip::spawn: {error}"),
    }
}

/// Spawns a future that need not be `Send` on the running loop; see [`spawn`].
///
/// ```
/// use std::rc::Rc;
///
/// let event_loop = tulip_executor::EventLoop::new()?;
/// let shared = Rc::new(5);
/// let value = event_loop.run_until_complete(async move {
///     tulip_executor::spawn_local(async move { *shared + 1 }).await
/// })??;
/// assert_eq!(value, 6);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Panics
/// Outside a running loop, and on a multi-thread runtime, which runs only
/// `Send` futures; use [`Builder::spawn_local`] to get an error instead.
#[track_caller]
pub fn spawn_local<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    match Builder::new().spawn_local(future) {
        Ok(handle) => handle,
        Err(error) => panic!("tulip::spawn_local: {error}"),
    }
}

/// Settings for one task: its name and whether it starts eagerly.
///
/// ```
/// use tulip_executor::task::Builder;
///
/// let event_loop = tulip_executor::EventLoop::new()?;
/// let name = event_loop.run_until_complete(async {
///     let task = Builder::new().name("worker-1").spawn(async {})?;
///     Ok::<_, tulip_executor::SpawnError>(task.name())
/// })??;
/// assert_eq!(name, "worker-1");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Default, Clone)]
#[must_use = "a task Builder does nothing until .spawn() is called"]
pub struct Builder {
    name: Option<String>,
    eager: Option<bool>,
}

impl Builder {
    /// Default settings: the name `Task-N`, and the loop's eagerness.
    pub fn new() -> Builder {
        Builder::default()
    }

    /// Names the task (asyncio's `create_task(name=...)`).
    pub fn name(mut self, name: impl Into<String>) -> Builder {
        self.name = Some(name.into());
        self
    }

    /// Starts the task eagerly, or not, whatever the loop's default: an eager
    /// task is polled once inside `spawn` and queued only if it did not finish.
    pub fn eager(mut self, eager: bool) -> Builder {
        self.eager = Some(eager);
        self
    }

    /// Spawns a `Send` future on the running loop, or on the multi-thread
    /// runtime this thread belongs to.
    ///
    /// # Errors
    /// [`SpawnError::NoRunningLoop`] outside a running loop or runtime,
    /// [`SpawnError::Closed`] while it is closing.
    #[track_caller]
    pub fn spawn<F>(self, future: F) -> Result<JoinHandle<F::Output>, SpawnError>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let location = Location::caller();
        if context::is_set() {
            return self.spawn_local(future);
        }
        let shared = runtime::context::current().ok_or(SpawnError::NoRunningLoop)?;
        let eager = self.eager.unwrap_or(shared.config.eager_tasks);
        shared.spawn(future, TaskBuilder::new(self.name, location), eager)
    }

    /// Spawns a future that need not be `Send` on the running loop.
    ///
    /// # Errors
    /// [`SpawnError::NoRunningLoop`] outside a running loop,
    /// [`SpawnError::Closed`] while the loop is closing,
    /// [`SpawnError::NeedsEventLoop`] on a multi-thread runtime.
    #[track_caller]
    pub fn spawn_local<F>(self, future: F) -> Result<JoinHandle<F::Output>, SpawnError>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let location = Location::caller();
        let Some(inner) = context::current() else {
            if runtime::context::is_set() {
                return Err(SpawnError::NeedsEventLoop);
            }
            return Err(SpawnError::NoRunningLoop);
        };
        let eager = self.eager.unwrap_or_else(|| inner.eager_tasks.get());
        spawn_on(&inner, future, TaskBuilder::new(self.name, location), eager)
    }
}

/// Spawns `future` on the loop whose loop-thread half is `inner`.
pub(crate) fn spawn_on<F>(
    inner: &LoopInner,
    future: F,
    builder: TaskBuilder,
    eager: bool,
) -> Result<JoinHandle<F::Output>, SpawnError>
where
    F: Future + 'static,
    F::Output: 'static,
{
    if inner.shared.is_closed() || inner.closing.get() {
        return Err(SpawnError::Closed);
    }
    // `LoopInner` is `!Send`, so this is the loop's thread, and every
    // Runnable of the task is run or dropped here: a wake on this thread
    // pushes to the local ready queue, a wake elsewhere goes through
    // `Shared::push_remote`, whose queue only this thread drains, and `close`
    // (on this thread) shuts the task down before it marks the loop closed,
    // after which the task is complete and no Runnable of it is made again.
    // The registry's `Task`, dropped only at `release` (completion), keeps the
    // last reference on this side, so a waker or handle dropped on another
    // thread never frees an unfinished future there.
    // SAFETY: by the above, the future is only polled and dropped on this thread.
    let (runnable, handle, task) =
        unsafe { task::spawn_local(future, inner.shared.clone(), builder) };
    inner.shared.register(&task);
    if eager && inner.running.get() {
        inner.run_eagerly(runnable);
    } else {
        inner.push_ready(Ready::Task(runnable));
    }
    Ok(handle)
}
