//! asyncio's `TaskGroup` (Python 3.11): structured concurrency. Children are
//! spawned into a group, the group is joined, and a failing child cancels
//! its siblings.
//!
//! # Design
//!
//! ```text
//! TaskGroup<E> ──Arc──▶ Mutex<State> ◀──Weak── GroupSpawner<E>, each child's wrapper
//!                        phase · children (Task refs) · active count · failures · joiner waker
//! ```
//!
//! - **Children fail by value or by panic.** A child is a future giving
//!   `Result<T, E>`: `Err(e)` is asyncio's exception, and so is a panic
//!   (caught by the child's wrapper, as asyncio's task catches what its
//!   coroutine raises). Both go into the group, which then cancels every
//!   child; [`join`](TaskGroup::join) gives all of them back as
//!   [`TaskGroupError`] (asyncio's `ExceptionGroup`). One error type `E` per
//!   group keeps the failures typed; children's values may differ in type.
//! - **Values come through the handles.** [`spawn`](TaskGroup::spawn)
//!   returns the child's [`JoinHandle<T>`], as `create_task` returns the
//!   task: after a successful join every handle resolves at once. A child
//!   that failed or was cancelled resolves to [`JoinError::Cancelled`]
//!   (its error, which is not `Clone`, lives in the group's error).
//! - **The owner decides the group's life.** `TaskGroup` is not `Clone`:
//!   `join(self)` consumes it, and dropping it unjoined (an early `return` or
//!   `?` in the parent, or the parent's cancellation) cancels its unfinished
//!   children, as leaving asyncio's `async with` block by an exception does.
//!   Children that need to spawn siblings get a [`GroupSpawner`], which does
//!   not keep the group alive.
//! - **`Send` or local children, as with tokio's `JoinSet`.**
//!   [`spawn`](TaskGroup::spawn) takes `Send` futures and works on the event
//!   loop and on a multi-thread [`Runtime`](crate::Runtime), whose workers
//!   may run the children in parallel;
//!   [`spawn_local`](TaskGroup::spawn_local) takes futures that need not be
//!   `Send`, on the event loop only. The `Send` bounds are on the methods, so
//!   a group whose error type is not `Send` is still usable on the loop
//!   through `spawn_local`.
//! - **One small lock.** The state is an `Arc<Mutex>`, uncontended on the
//!   loop. It is never held while user code runs: spawning (which may poll
//!   an eager task), cancelling, waking, and dropping children, wakers and
//!   failures all happen after it is released.
//!
//! Where it differs from asyncio: a failing child does not interrupt the
//! parent's own code before the join (asyncio cancels the parent task and
//! uncancels it at the end of the block); the parent learns of the failure
//! from `join`, and can check [`is_shutting_down`](TaskGroup::is_shutting_down)
//! meanwhile.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::mem;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::task::{Context, Poll, Waker};

use pin_project_lite::pin_project;

use crate::error::SpawnError;
use crate::task::{Builder, JoinHandle, Task, TaskId};

/// A group of child tasks that succeed or fail together (asyncio's
/// `asyncio.TaskGroup`).
///
/// Spawn children with [`spawn`](Self::spawn), then [`join`](Self::join)
/// the group: it waits for every child and gives `Ok(())`, or, if any child
/// failed (returned `Err` or panicked), `Err` with every failure. The first
/// failure cancels all the other children; spawning into the group is
/// refused from then on.
///
/// Dropping the group without joining it cancels its unfinished children
/// (each one's future is dropped at its next scheduling point).
///
/// ```
/// use std::time::Duration;
/// use tulip_executor::{EventLoop, TaskGroup, sleep};
///
/// async fn download(name: &str, secs: u64) -> Result<String, std::io::Error> {
///     sleep(Duration::from_secs(secs)).await;
///     Ok(format!("{name}: done"))
/// }
///
/// let event_loop = EventLoop::builder().virtual_time().build()?;
/// let pages = event_loop.run_until_complete(async {
///     let group = TaskGroup::new();
///     let first = group.spawn(download("a", 2))?;
///     let second = group.spawn(download("b", 1))?;
///     group.join().await?;
///     // Every child succeeded: the handles give their values at once.
///     Ok::<_, Box<dyn std::error::Error>>((first.await?, second.await?))
/// })??;
/// assert_eq!(pages, ("a: done".to_owned(), "b: done".to_owned()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// A failure cancels the siblings and is reported by `join`:
///
/// ```
/// use std::time::Duration;
/// use tulip_executor::{EventLoop, TaskGroup, sleep};
///
/// let event_loop = EventLoop::builder().virtual_time().build()?;
/// let start = event_loop.time();
/// event_loop.run_until_complete(async {
///     let group = TaskGroup::<String>::new();
///     let slow = group.spawn(async {
///         sleep(Duration::from_secs(3600)).await;
///         Ok(())
///     })?;
///     group.spawn(async {
///         sleep(Duration::from_secs(1)).await;
///         Err::<(), _>("disk full".to_owned())
///     })?.detach();
///     let error = group.join().await.unwrap_err();
///     assert_eq!(error.errors().collect::<Vec<_>>(), ["disk full"]);
///     assert!(slow.await.unwrap_err().is_cancelled());
///     Ok::<_, tulip_executor::combinators::GroupSpawnError>(())
/// })??;
/// // Nobody waited for the hour-long sleep.
/// assert_eq!(event_loop.time() - start, Duration::from_secs(1));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct TaskGroup<E> {
    state: Arc<Shared<E>>,
}

/// The lock around a group's [`State`], shared by the group (strongly) and by
/// its spawners and children (weakly).
struct Shared<E> {
    state: Mutex<State<E>>,
}

impl<E> Shared<E> {
    /// Locks the state. Nothing that runs under the lock can panic halfway
    /// through an update (no user code does), so a poisoned lock still holds
    /// a consistent state.
    fn lock(&self) -> MutexGuard<'_, State<E>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The shared part of a group.
struct State<E> {
    phase: Phase,
    /// The children spawned, finished ones pruned now and then.
    children: Vec<Task>,
    /// Children whose future has not been dropped yet.
    active: usize,
    failures: Vec<ChildFailure<E>>,
    /// The waker of the `join`, woken when `active` drops to zero.
    joiner: Option<Waker>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Accepting children.
    Open,
    /// A child failed, or the group was dropped: children are cancelled and
    /// no more are accepted (asyncio: "TaskGroup is shutting down").
    ShuttingDown,
    /// Joined (asyncio: "TaskGroup is finished").
    Joined,
}

impl<E> Default for TaskGroup<E> {
    fn default() -> Self {
        TaskGroup::new()
    }
}

impl<E> TaskGroup<E> {
    /// An empty group. It needs no running loop until a child is spawned.
    ///
    /// ```
    /// let group = tulip_executor::TaskGroup::<std::io::Error>::new();
    /// assert!(group.is_empty());
    /// ```
    pub fn new() -> TaskGroup<E> {
        TaskGroup {
            state: Arc::new(Shared {
                state: Mutex::new(State {
                    phase: Phase::Open,
                    children: Vec::new(),
                    active: 0,
                    failures: Vec::new(),
                    joiner: None,
                }),
            }),
        }
    }

    /// How many children have not finished (their future not yet dropped).
    ///
    /// ```
    /// use tulip_executor::{EventLoop, TaskGroup, yield_now};
    ///
    /// let event_loop = EventLoop::new()?;
    /// event_loop.run_until_complete(async {
    ///     let group = TaskGroup::<()>::new();
    ///     group.spawn(async { Ok(()) })?.detach();
    ///     assert_eq!(group.len(), 1);
    ///     yield_now().await;
    ///     assert_eq!(group.len(), 0);
    ///     Ok::<_, tulip_executor::combinators::GroupSpawnError>(())
    /// })??;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn len(&self) -> usize {
        self.state.lock().active
    }

    /// Whether every child has finished (or none was spawned).
    ///
    /// ```
    /// assert!(tulip_executor::TaskGroup::<()>::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether a child has failed, so that the group is cancelling its
    /// children and refuses new ones.
    ///
    /// ```
    /// use tulip_executor::{EventLoop, TaskGroup, yield_now};
    ///
    /// let event_loop = EventLoop::new()?;
    /// event_loop.run_until_complete(async {
    ///     let group = TaskGroup::new();
    ///     group.spawn(async { Err::<(), _>("no") })?.detach();
    ///     assert!(!group.is_shutting_down());
    ///     yield_now().await;
    ///     assert!(group.is_shutting_down());
    ///     assert!(group.join().await.is_err());
    ///     Ok::<_, tulip_executor::combinators::GroupSpawnError>(())
    /// })??;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_shutting_down(&self) -> bool {
        self.state.lock().phase == Phase::ShuttingDown
    }

    /// A handle for spawning into the group from elsewhere, typically from
    /// inside a child. It does not keep the group alive.
    ///
    /// ```
    /// use tulip_executor::{EventLoop, TaskGroup};
    ///
    /// let event_loop = EventLoop::new()?;
    /// let grandchild = event_loop.run_until_complete(async {
    ///     let group = TaskGroup::<()>::new();
    ///     let spawner = group.spawner();
    ///     let child = group.spawn(async move {
    ///         // A child adds a sibling; the join waits for it too.
    ///         Ok(spawner.spawn(async { Ok(7) }).unwrap())
    ///     })?;
    ///     group.join().await.unwrap();
    ///     let grandchild = child.await.unwrap();
    ///     assert!(grandchild.is_finished());
    ///     Ok::<_, tulip_executor::combinators::GroupSpawnError>(grandchild.await.unwrap())
    /// })??;
    /// assert_eq!(grandchild, 7);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn spawner(&self) -> GroupSpawner<E> {
        GroupSpawner {
            state: Arc::downgrade(&self.state),
        }
    }

    /// Waits for every child, including those spawned meanwhile, and gives
    /// `Ok(())` if none failed, else every failure in the order they
    /// happened (asyncio's exit from `async with TaskGroup()`).
    ///
    /// Dropping the join before it completes drops the group, which cancels
    /// the unfinished children.
    ///
    /// ```
    /// use tulip_executor::{EventLoop, TaskGroup};
    ///
    /// let event_loop = EventLoop::new()?;
    /// let outcome = event_loop.run_until_complete(async {
    ///     let group = TaskGroup::<std::num::ParseIntError>::new();
    ///     let number = group.spawn(async { "42".parse::<u32>() }).unwrap();
    ///     group.join().await.map(|()| number)
    /// })?;
    /// let number = event_loop.run_until_complete(outcome.unwrap())?;
    /// assert_eq!(number.unwrap(), 42);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn join(self) -> GroupJoin<E> {
        GroupJoin { group: Some(self) }
    }
}

impl<E: 'static> TaskGroup<E> {
    /// Spawns `future` as a child task (asyncio's `TaskGroup.create_task`)
    /// and returns the handle to its value: on the running loop, or on the
    /// multi-thread [`Runtime`](crate::Runtime) this thread belongs to (a
    /// worker, or inside its `block_on`), as [`task::Builder::spawn`]
    /// does. For futures that are not `Send`, use
    /// [`spawn_local`](Self::spawn_local).
    ///
    /// If the future gives `Err` or panics, the failure is kept for
    /// [`join`](Self::join) and every child of the group is cancelled; that
    /// child's handle then resolves to
    /// [`JoinError::Cancelled`](crate::JoinError::Cancelled). Dropping the
    /// handle detaches it as usual: the group still waits for the child.
    ///
    /// ```
    /// use tulip_executor::{EventLoop, TaskGroup};
    ///
    /// let event_loop = EventLoop::new()?;
    /// let sum = event_loop.run_until_complete(async {
    ///     let group = TaskGroup::<()>::new();
    ///     let handles: Vec<_> = (1..=3)
    ///         .map(|i| group.spawn(async move { Ok(i * 2) }))
    ///         .collect::<Result<_, _>>()?;
    ///     group.join().await.unwrap();
    ///     let mut sum = 0;
    ///     for handle in handles {
    ///         sum += handle.await.unwrap();
    ///     }
    ///     Ok::<_, tulip_executor::combinators::GroupSpawnError>(sum)
    /// })??;
    /// assert_eq!(sum, 12);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`GroupSpawnError::ShuttingDown`] once a child has failed,
    /// [`GroupSpawnError::Spawn`] outside a running loop or runtime, or
    /// while it closes.
    ///
    /// [`task::Builder::spawn`]: crate::task::Builder::spawn
    #[track_caller]
    pub fn spawn<T, F>(&self, future: F) -> Result<JoinHandle<T>, GroupSpawnError>
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: Send,
    {
        spawn_into(&self.state, future, |child| Builder::new().spawn(child))
    }

    /// [`spawn`](Self::spawn) with a task name (asyncio's
    /// `create_task(coro, name=...)`).
    ///
    /// ```
    /// use tulip_executor::{EventLoop, TaskGroup};
    ///
    /// let event_loop = EventLoop::new()?;
    /// event_loop.run_until_complete(async {
    ///     let group = TaskGroup::<()>::new();
    ///     let child = group.spawn_named("fetcher", async { Ok(()) })?;
    ///     assert_eq!(child.name(), "fetcher");
    ///     group.join().await.unwrap();
    ///     Ok::<_, tulip_executor::combinators::GroupSpawnError>(())
    /// })??;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`spawn`](Self::spawn).
    #[track_caller]
    pub fn spawn_named<T, F>(
        &self,
        name: impl Into<String>,
        future: F,
    ) -> Result<JoinHandle<T>, GroupSpawnError>
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: Send,
    {
        let builder = Builder::new().name(name);
        spawn_into(&self.state, future, |child| builder.spawn(child))
    }

    /// Spawns a child that need not be `Send` (nor its value, nor the
    /// group's error type) on the running event loop; otherwise as
    /// [`spawn`](Self::spawn). On a multi-thread [`Runtime`](crate::Runtime),
    /// which runs only `Send` futures, it gives
    /// `GroupSpawnError::Spawn(SpawnError::NeedsEventLoop)`.
    ///
    /// ```
    /// use std::rc::Rc;
    /// use tulip_executor::{EventLoop, TaskGroup};
    ///
    /// let event_loop = EventLoop::new()?;
    /// let total = event_loop.run_until_complete(async {
    ///     // Neither the children nor the error type are `Send`.
    ///     let group = TaskGroup::<Rc<str>>::new();
    ///     let shared = Rc::new(20);
    ///     let handles: Vec<_> = (1..=2)
    ///         .map(|i| {
    ///             let shared = shared.clone();
    ///             group.spawn_local(async move { Ok(*shared + i) })
    ///         })
    ///         .collect::<Result<_, _>>()?;
    ///     group.join().await.unwrap();
    ///     let mut total = 0;
    ///     for handle in handles {
    ///         total += handle.await.unwrap();
    ///     }
    ///     Ok::<_, tulip_executor::combinators::GroupSpawnError>(total)
    /// })??;
    /// assert_eq!(total, 43);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`GroupSpawnError::ShuttingDown`] once a child has failed,
    /// [`GroupSpawnError::Spawn`] outside a running loop, while it closes,
    /// or on a multi-thread runtime
    /// ([`SpawnError::NeedsEventLoop`](crate::SpawnError::NeedsEventLoop)).
    #[track_caller]
    pub fn spawn_local<T, F>(&self, future: F) -> Result<JoinHandle<T>, GroupSpawnError>
    where
        F: Future<Output = Result<T, E>> + 'static,
        T: 'static,
    {
        spawn_into(&self.state, future, |child| {
            Builder::new().spawn_local(child)
        })
    }

    /// [`spawn_local`](Self::spawn_local) with a task name.
    ///
    /// ```
    /// use std::rc::Rc;
    /// use tulip_executor::{EventLoop, TaskGroup};
    ///
    /// let event_loop = EventLoop::new()?;
    /// event_loop.run_until_complete(async {
    ///     let group = TaskGroup::<()>::new();
    ///     let local = Rc::new("not Send");
    ///     let child = group.spawn_local_named("local", async move { Ok(local.len()) })?;
    ///     assert_eq!(child.name(), "local");
    ///     group.join().await.unwrap();
    ///     assert_eq!(child.await.unwrap(), 8);
    ///     Ok::<_, tulip_executor::combinators::GroupSpawnError>(())
    /// })??;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`spawn_local`](Self::spawn_local).
    #[track_caller]
    pub fn spawn_local_named<T, F>(
        &self,
        name: impl Into<String>,
        future: F,
    ) -> Result<JoinHandle<T>, GroupSpawnError>
    where
        F: Future<Output = Result<T, E>> + 'static,
        T: 'static,
    {
        let builder = Builder::new().name(name);
        spawn_into(&self.state, future, |child| builder.spawn_local(child))
    }
}

impl<E> Drop for TaskGroup<E> {
    fn drop(&mut self) {
        let (children, unretrieved) = {
            let mut state = self.state.lock();
            if state.phase == Phase::Joined {
                return;
            }
            state.phase = Phase::ShuttingDown;
            (
                mem::take(&mut state.children),
                mem::take(&mut state.failures),
            )
        };
        for child in &children {
            child.cancel();
        }
        if !unretrieved.is_empty() {
            tracing::warn!(
                target: "tulip::task_group",
                failures = unretrieved.len(),
                "a TaskGroup was dropped without being joined; the failures of its children are lost"
            );
        }
    }
}

impl<E> fmt::Debug for TaskGroup<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.lock();
        f.debug_struct("TaskGroup")
            .field("phase", &state.phase)
            .field("active", &state.active)
            .field("failures", &state.failures.len())
            .finish()
    }
}

/// Spawns into a group from outside its owner, e.g. from one of its
/// children (asyncio code passes the `TaskGroup` itself around). Made by
/// [`TaskGroup::spawner`]; it does not keep the group alive.
pub struct GroupSpawner<E> {
    state: Weak<Shared<E>>,
}

impl<E> Clone for GroupSpawner<E> {
    fn clone(&self) -> Self {
        GroupSpawner {
            state: self.state.clone(),
        }
    }
}

impl<E: 'static> GroupSpawner<E> {
    /// As [`TaskGroup::spawn`].
    ///
    /// ```
    /// use tulip_executor::{EventLoop, TaskGroup};
    /// use tulip_executor::combinators::GroupSpawnError;
    ///
    /// let event_loop = EventLoop::new()?;
    /// event_loop.run_until_complete(async {
    ///     let group = TaskGroup::<()>::new();
    ///     let spawner = group.spawner();
    ///     spawner.spawn(async { Ok(()) }).unwrap().detach();
    ///     group.join().await.unwrap();
    ///     // The group is finished: no more children.
    ///     assert_eq!(spawner.spawn(async { Ok(()) }).unwrap_err(), GroupSpawnError::Finished);
    /// })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`TaskGroup::spawn`], and [`GroupSpawnError::Finished`] once the
    /// group was joined or dropped.
    #[track_caller]
    pub fn spawn<T, F>(&self, future: F) -> Result<JoinHandle<T>, GroupSpawnError>
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: Send,
    {
        let state = self.state.upgrade().ok_or(GroupSpawnError::Finished)?;
        spawn_into(&state, future, |child| Builder::new().spawn(child))
    }

    /// As [`TaskGroup::spawn_named`].
    ///
    /// ```
    /// use tulip_executor::{EventLoop, TaskGroup};
    ///
    /// let event_loop = EventLoop::new()?;
    /// event_loop.run_until_complete(async {
    ///     let group = TaskGroup::<()>::new();
    ///     let child = group.spawner().spawn_named("helper", async { Ok(1) }).unwrap();
    ///     assert_eq!(child.name(), "helper");
    ///     group.join().await.unwrap();
    /// })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`spawn`](Self::spawn).
    #[track_caller]
    pub fn spawn_named<T, F>(
        &self,
        name: impl Into<String>,
        future: F,
    ) -> Result<JoinHandle<T>, GroupSpawnError>
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: Send,
    {
        let state = self.state.upgrade().ok_or(GroupSpawnError::Finished)?;
        let builder = Builder::new().name(name);
        spawn_into(&state, future, |child| builder.spawn(child))
    }

    /// As [`TaskGroup::spawn_local`]: a child that need not be `Send`, on the
    /// running event loop only.
    ///
    /// ```
    /// use std::cell::Cell;
    /// use std::rc::Rc;
    /// use tulip_executor::{EventLoop, TaskGroup};
    ///
    /// let event_loop = EventLoop::new()?;
    /// let count = Rc::new(Cell::new(0));
    /// let seen = count.clone();
    /// event_loop.run_until_complete(async move {
    ///     let group = TaskGroup::<()>::new();
    ///     let spawner = group.spawner();
    ///     spawner.spawn_local(async move {
    ///         seen.set(seen.get() + 1);
    ///         Ok(())
    ///     }).unwrap().detach();
    ///     group.join().await.unwrap();
    /// })?;
    /// assert_eq!(count.get(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`TaskGroup::spawn_local`], and [`GroupSpawnError::Finished`] once
    /// the group was joined or dropped.
    #[track_caller]
    pub fn spawn_local<T, F>(&self, future: F) -> Result<JoinHandle<T>, GroupSpawnError>
    where
        F: Future<Output = Result<T, E>> + 'static,
        T: 'static,
    {
        let state = self.state.upgrade().ok_or(GroupSpawnError::Finished)?;
        spawn_into(&state, future, |child| Builder::new().spawn_local(child))
    }

    /// As [`TaskGroup::spawn_local_named`].
    ///
    /// ```
    /// use std::rc::Rc;
    /// use tulip_executor::{EventLoop, TaskGroup};
    ///
    /// let event_loop = EventLoop::new()?;
    /// event_loop.run_until_complete(async {
    ///     let group = TaskGroup::<()>::new();
    ///     let local = Rc::new(1);
    ///     let child = group
    ///         .spawner()
    ///         .spawn_local_named("local-helper", async move { Ok(*local) })
    ///         .unwrap();
    ///     assert_eq!(child.name(), "local-helper");
    ///     group.join().await.unwrap();
    /// })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`spawn_local`](Self::spawn_local).
    #[track_caller]
    pub fn spawn_local_named<T, F>(
        &self,
        name: impl Into<String>,
        future: F,
    ) -> Result<JoinHandle<T>, GroupSpawnError>
    where
        F: Future<Output = Result<T, E>> + 'static,
        T: 'static,
    {
        let state = self.state.upgrade().ok_or(GroupSpawnError::Finished)?;
        let builder = Builder::new().name(name);
        spawn_into(&state, future, |child| builder.spawn_local(child))
    }
}

impl<E> fmt::Debug for GroupSpawner<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupSpawner")
            .field("group_alive", &(self.state.strong_count() > 0))
            .finish()
    }
}

/// Counts `future` into the group and spawns it with `spawn` (one of the
/// task [`Builder`]'s spawns), as a [`Child`] that reports to the group.
#[track_caller]
fn spawn_into<E, T, F>(
    state: &Arc<Shared<E>>,
    future: F,
    spawn: impl FnOnce(Child<F, E>) -> Result<JoinHandle<T>, SpawnError>,
) -> Result<JoinHandle<T>, GroupSpawnError>
where
    E: 'static,
    T: 'static,
    F: Future<Output = Result<T, E>> + 'static,
{
    // Checked and counted under one lock, so that a join cannot complete in
    // between. If spawning fails, dropping the child uncounts it.
    let child = Child::new(future, state)?;
    // No lock held: an eager task is polled inside the spawn.
    let handle = spawn(child)?;
    let task = handle.task();
    let (cancel, pruned) = {
        let mut state = state.lock();
        // Keep the list in proportion to the live children.
        let pruned: Vec<Task> = if state.children.len() >= 2 * state.active + 16 {
            state
                .children
                .extract_if(.., |child| child.is_finished())
                .collect()
        } else {
            Vec::new()
        };
        state.children.push(task);
        // A child failed while this one was being spawned (an eager first
        // poll, or a sibling on another thread): this one is cancelled with
        // its siblings.
        (state.phase != Phase::Open, pruned)
    };
    // Dropped unlocked: the last reference to a task may free its output.
    drop(pruned);
    if cancel {
        handle.cancel();
    }
    Ok(handle)
}

pin_project! {
    /// A child's future, as spawned: reports failures to the group, and
    /// counts the child as active until its future is dropped.
    struct Child<F, E> {
        // Declared first: dropped before `active`, so that `join` returns
        // only after every child's destructors ran.
        #[pin]
        future: Option<F>,
        // The future failed: it is never polled again.
        failed: bool,
        active: Active<E>,
    }

    impl<F, E> PinnedDrop for Child<F, E> {
        fn drop(this: Pin<&mut Self>) {
            let mut this = this.project();
            // A panic while dropping the future (asyncio: an exception while
            // handling the cancellation) is a failure of the child.
            let Err(payload) = panic::catch_unwind(AssertUnwindSafe(|| this.future.set(None))) else {
                return;
            };
            match (this.active.group.upgrade(), crate::current_task()) {
                (Some(state), Some(me)) => fail(&state, &me, Cause::Panic(CaughtPanic::new(payload)), false),
                // No group to tell: let the task report the panic. `active`
                // is still dropped (and uncounted) while this unwinds.
                _ => rethrow(payload),
            }
        }
    }
}

/// Counts a child as active in its group from spawn until dropped; the last
/// one wakes the join.
struct Active<E> {
    group: Weak<Shared<E>>,
}

impl<E> Active<E> {
    /// Counts a new child, if the group still takes children.
    fn new(state: &Arc<Shared<E>>) -> Result<Active<E>, GroupSpawnError> {
        let mut locked = state.lock();
        match locked.phase {
            Phase::Open => {}
            Phase::ShuttingDown => return Err(GroupSpawnError::ShuttingDown),
            Phase::Joined => return Err(GroupSpawnError::Finished),
        }
        locked.active += 1;
        Ok(Active {
            group: Arc::downgrade(state),
        })
    }
}

impl<E> Drop for Active<E> {
    fn drop(&mut self) {
        let Some(state) = self.group.upgrade() else {
            return;
        };
        let joiner = {
            let mut state = state.lock();
            state.active -= 1;
            if state.active == 0 {
                state.joiner.take()
            } else {
                None
            }
        };
        if let Some(joiner) = joiner {
            joiner.wake();
        }
    }
}

/// Resumes a panic caught from a child's destructor, unless already
/// unwinding (a second panic would abort the process).
fn rethrow(payload: Box<dyn Any + Send>) {
    if std::thread::panicking() {
        drop(payload);
    } else {
        panic::resume_unwind(payload);
    }
}

impl<F, E> Child<F, E> {
    /// Counts the child into the group; `future` is dropped (unlocked) if the
    /// group refuses it.
    fn new(future: F, state: &Arc<Shared<E>>) -> Result<Child<F, E>, GroupSpawnError> {
        Ok(Child {
            future: Some(future),
            failed: false,
            active: Active::new(state)?,
        })
    }
}

impl<F, T, E> Future for Child<F, E>
where
    F: Future<Output = Result<T, E>>,
{
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let this = self.project();
        if *this.failed {
            return Poll::Pending;
        }
        let Some(future) = this.future.as_pin_mut() else {
            return Poll::Pending;
        };
        let cause = match panic::catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(Ok(value))) => return Poll::Ready(value),
            Ok(Poll::Ready(Err(error))) => Cause::Error(error),
            Err(payload) => Cause::Panic(CaughtPanic::new(payload)),
        };
        *this.failed = true;
        // The task polling us is this child; the group's cancellation of it
        // (below) drops this future right after this poll.
        let me = crate::current_task().expect("a TaskGroup child is only polled as its own task");
        match this.active.group.upgrade() {
            Some(state) => fail(&state, &me, cause, true),
            None => {
                // The group is gone and cancelled its children already.
                me.cancel();
            }
        }
        Poll::Pending
    }
}

/// Records `me`'s failure, and cancels every child (`me` too, if
/// `cancel_me`: it is being polled and must end as cancelled).
fn fail<E>(state: &Shared<E>, me: &Task, cause: Cause<E>, cancel_me: bool) {
    let children = {
        let mut state = state.lock();
        state.failures.push(ChildFailure {
            id: me.id(),
            name: me.name(),
            cause,
        });
        if state.phase == Phase::Open {
            state.phase = Phase::ShuttingDown;
        }
        state.children.clone()
    };
    if cancel_me {
        me.cancel();
    }
    for child in &children {
        if child != me {
            child.cancel();
        }
    }
}

/// The future of [`TaskGroup::join`].
///
/// # Panics
/// When polled again after it gave its output.
#[must_use = "dropping the join drops the group, which cancels its children"]
pub struct GroupJoin<E> {
    /// `None` once joined.
    group: Option<TaskGroup<E>>,
}

impl<E> Future for GroupJoin<E> {
    type Output = Result<(), TaskGroupError<E>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Some(group) = self.group.as_ref() else {
            panic!("`TaskGroup::join` polled after it completed");
        };
        // A waker made here but not kept; dropped unlocked, below.
        let mut unused = None;
        let mut state = group.state.lock();
        if state.active > 0 {
            if state
                .joiner
                .as_ref()
                .is_some_and(|joiner| joiner.will_wake(cx.waker()))
            {
                return Poll::Pending;
            }
            // A waker's clone and drop are foreign code: not under the lock.
            drop(state);
            let waker = cx.waker().clone();
            state = group.state.lock();
            if state.active > 0 {
                let old = state.joiner.replace(waker);
                drop(state);
                drop(old);
                return Poll::Pending;
            }
            // The last child finished meanwhile.
            unused = Some(waker);
        }
        if state.children.iter().any(|child| !child.is_finished()) {
            // A task drops its future (which uncounts the child) just before
            // it stores the output and is marked finished. On the loop both
            // happen before the join runs again; on a multi-thread runtime
            // the child's worker may still be between the two. Wait out that
            // short window, so that every handle resolves at once after the
            // join.
            drop(state);
            drop(unused);
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        state.phase = Phase::Joined;
        let joiner = state.joiner.take();
        let children = mem::take(&mut state.children);
        let failures = mem::take(&mut state.failures);
        drop(state);
        drop((unused, joiner, children));
        self.group = None;
        if failures.is_empty() {
            Poll::Ready(Ok(()))
        } else {
            Poll::Ready(Err(TaskGroupError { failures }))
        }
    }
}

impl<E> fmt::Debug for GroupJoin<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupJoin")
            .field("group", &self.group)
            .finish()
    }
}

/// Why spawning into a [`TaskGroup`] was refused (asyncio raises
/// `RuntimeError` in these cases).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GroupSpawnError {
    /// A child failed: the group is cancelling its children and takes no
    /// more.
    #[error("the TaskGroup is shutting down")]
    ShuttingDown,
    /// The group was joined, or dropped.
    #[error("the TaskGroup is finished")]
    Finished,
    /// The task could not be spawned: no running loop, or it is closing.
    #[error(transparent)]
    Spawn(#[from] SpawnError),
}

/// Every failure of a [`TaskGroup`]'s children, in the order they happened
/// (asyncio's `ExceptionGroup` from a `TaskGroup`). Cancelled children are
/// not failures.
///
/// ```
/// use tulip_executor::{EventLoop, TaskGroup};
///
/// let event_loop = EventLoop::new()?;
/// let error = event_loop.run_until_complete(async {
///     let group = TaskGroup::<&str>::new();
///     group.spawn(async { Err::<(), _>("bad input") }).unwrap().detach();
///     group.join().await.unwrap_err()
/// })?;
/// assert_eq!(error.to_string(), "1 child task of a TaskGroup failed");
/// assert_eq!(error.failures().len(), 1);
/// assert_eq!(error.errors().copied().collect::<Vec<_>>(), ["bad input"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, thiserror::Error)]
#[error("{} of a TaskGroup failed", children(.failures.len()))]
pub struct TaskGroupError<E> {
    failures: Vec<ChildFailure<E>>,
}

/// "1 child task", "2 child tasks": the count for [`TaskGroupError`]'s message.
fn children(count: usize) -> String {
    if count == 1 {
        "1 child task".to_owned()
    } else {
        format!("{count} child tasks")
    }
}

impl<E> TaskGroupError<E> {
    /// Every failure, in the order they happened; never empty.
    ///
    /// ```
    /// # use tulip_executor::{EventLoop, TaskGroup};
    /// # let event_loop = EventLoop::new()?;
    /// let error = event_loop.run_until_complete(async {
    ///     let group = TaskGroup::<()>::new();
    ///     group.spawn_named("worker", async { Err::<(), _>(()) }).unwrap().detach();
    ///     group.join().await.unwrap_err()
    /// })?;
    /// assert_eq!(error.failures()[0].task_name(), "worker");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn failures(&self) -> &[ChildFailure<E>] {
        &self.failures
    }

    /// The failures, by value.
    ///
    /// ```
    /// # use tulip_executor::{EventLoop, TaskGroup};
    /// # let event_loop = EventLoop::new()?;
    /// let error = event_loop.run_until_complete(async {
    ///     let group = TaskGroup::new();
    ///     group.spawn(async { Err::<(), _>(String::from("gone")) }).unwrap().detach();
    ///     group.join().await.unwrap_err()
    /// })?;
    /// let errors: Vec<String> = error.into_failures().into_iter().filter_map(|f| f.into_error().ok()).collect();
    /// assert_eq!(errors, ["gone"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn into_failures(self) -> Vec<ChildFailure<E>> {
        self.failures
    }

    /// The errors that children returned, in order, without the panics.
    ///
    /// ```
    /// # use tulip_executor::{EventLoop, TaskGroup};
    /// # let event_loop = EventLoop::new()?;
    /// let error = event_loop.run_until_complete(async {
    ///     let group = TaskGroup::new();
    ///     group.spawn(async { Err::<(), _>(404) }).unwrap().detach();
    ///     group.join().await.unwrap_err()
    /// })?;
    /// assert_eq!(error.errors().collect::<Vec<_>>(), [&404]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn errors(&self) -> impl Iterator<Item = &E> {
        self.failures.iter().filter_map(ChildFailure::error)
    }
}

/// One failed child of a [`TaskGroup`]: the error it returned, or its panic.
pub struct ChildFailure<E> {
    id: TaskId,
    name: String,
    cause: Cause<E>,
}

enum Cause<E> {
    Error(E),
    Panic(CaughtPanic),
}

/// A panic payload kept `Sync` (behind a lock) so that errors holding it can
/// go into `Box<dyn Error + Send + Sync>`.
struct CaughtPanic {
    message: Option<String>,
    payload: Mutex<Box<dyn Any + Send>>,
}

impl CaughtPanic {
    fn new(payload: Box<dyn Any + Send>) -> CaughtPanic {
        let message = if let Some(message) = payload.downcast_ref::<&'static str>() {
            Some((*message).to_owned())
        } else {
            payload.downcast_ref::<String>().cloned()
        };
        CaughtPanic {
            message,
            payload: Mutex::new(payload),
        }
    }
}

impl<E> ChildFailure<E> {
    /// The child's task id (that of its [`JoinHandle`]).
    ///
    /// ```
    /// # use tulip_executor::{EventLoop, TaskGroup};
    /// # let event_loop = EventLoop::new()?;
    /// let (id, error) = event_loop.run_until_complete(async {
    ///     let group = TaskGroup::new();
    ///     let child = group.spawn(async { Err::<(), _>(1) }).unwrap();
    ///     (child.id(), group.join().await.unwrap_err())
    /// })?;
    /// assert_eq!(error.failures()[0].task_id(), id);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn task_id(&self) -> TaskId {
        self.id
    }

    /// The child's task name.
    ///
    /// ```
    /// # use tulip_executor::{EventLoop, TaskGroup};
    /// # let event_loop = EventLoop::new()?;
    /// let error = event_loop.run_until_complete(async {
    ///     let group = TaskGroup::new();
    ///     group.spawn_named("parser", async { Err::<(), _>(1) }).unwrap().detach();
    ///     group.join().await.unwrap_err()
    /// })?;
    /// assert_eq!(error.failures()[0].task_name(), "parser");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn task_name(&self) -> &str {
        &self.name
    }

    /// The error the child returned; `None` if it panicked.
    ///
    /// ```
    /// # use tulip_executor::{EventLoop, TaskGroup};
    /// # let event_loop = EventLoop::new()?;
    /// let error = event_loop.run_until_complete(async {
    ///     let group = TaskGroup::new();
    ///     group.spawn(async { Err::<(), _>('x') }).unwrap().detach();
    ///     group.join().await.unwrap_err()
    /// })?;
    /// assert_eq!(error.failures()[0].error(), Some(&'x'));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn error(&self) -> Option<&E> {
        match &self.cause {
            Cause::Error(error) => Some(error),
            Cause::Panic(_) => None,
        }
    }

    /// The error the child returned, or the failure itself if it panicked.
    ///
    /// # Errors
    /// `self` when the child panicked.
    ///
    /// ```
    /// # use tulip_executor::{EventLoop, TaskGroup};
    /// # let event_loop = EventLoop::new()?;
    /// let error = event_loop.run_until_complete(async {
    ///     let group = TaskGroup::new();
    ///     group.spawn(async { Err::<(), _>(vec![1, 2]) }).unwrap().detach();
    ///     group.join().await.unwrap_err()
    /// })?;
    /// let failure = error.into_failures().pop().unwrap();
    /// assert_eq!(failure.into_error().ok(), Some(vec![1, 2]));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn into_error(self) -> Result<E, ChildFailure<E>> {
        match self.cause {
            Cause::Error(error) => Ok(error),
            cause @ Cause::Panic(_) => Err(ChildFailure { cause, ..self }),
        }
    }

    /// Whether the child panicked.
    ///
    /// ```
    /// # use tulip_executor::{EventLoop, TaskGroup};
    /// # let event_loop = EventLoop::new()?;
    /// let error = event_loop.run_until_complete(async {
    ///     let group = TaskGroup::<()>::new();
    ///     group.spawn::<(), _>(async { panic!("boom") }).unwrap().detach();
    ///     group.join().await.unwrap_err()
    /// })?;
    /// assert!(error.failures()[0].is_panic());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_panic(&self) -> bool {
        matches!(self.cause, Cause::Panic(_))
    }

    /// The panic's message, if the child panicked with a string (as
    /// `panic!` does).
    ///
    /// ```
    /// # use tulip_executor::{EventLoop, TaskGroup};
    /// # let event_loop = EventLoop::new()?;
    /// let error = event_loop.run_until_complete(async {
    ///     let group = TaskGroup::<()>::new();
    ///     group.spawn::<(), _>(async { panic!("boom {}", 7) }).unwrap().detach();
    ///     group.join().await.unwrap_err()
    /// })?;
    /// assert_eq!(error.failures()[0].panic_message(), Some("boom 7"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn panic_message(&self) -> Option<&str> {
        match &self.cause {
            Cause::Panic(panic) => panic.message.as_deref(),
            Cause::Error(_) => None,
        }
    }

    /// The panic's payload, to resume it with [`std::panic::resume_unwind`].
    ///
    /// # Errors
    /// `self` when the child returned an error instead.
    ///
    /// ```
    /// # use tulip_executor::{EventLoop, TaskGroup};
    /// # let event_loop = EventLoop::new()?;
    /// let error = event_loop.run_until_complete(async {
    ///     let group = TaskGroup::<()>::new();
    ///     group.spawn::<(), _>(async { std::panic::panic_any(42_u8) }).unwrap().detach();
    ///     group.join().await.unwrap_err()
    /// })?;
    /// let payload = error.into_failures().pop().unwrap().into_panic().ok().unwrap();
    /// assert_eq!(payload.downcast_ref::<u8>(), Some(&42));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn into_panic(self) -> Result<Box<dyn Any + Send>, ChildFailure<E>> {
        match self.cause {
            Cause::Panic(panic) => Ok(panic
                .payload
                .into_inner()
                .unwrap_or_else(PoisonError::into_inner)),
            cause @ Cause::Error(_) => Err(ChildFailure { cause, ..self }),
        }
    }
}

impl<E: fmt::Debug> fmt::Debug for ChildFailure<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("ChildFailure");
        s.field("id", &self.id).field("name", &self.name);
        match &self.cause {
            Cause::Error(error) => s.field("error", error),
            Cause::Panic(panic) => {
                s.field("panic", &panic.message.as_deref().unwrap_or("Box<dyn Any>"))
            }
        };
        s.finish()
    }
}

impl<E: fmt::Display> fmt::Display for ChildFailure<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.cause {
            Cause::Error(error) => write!(f, "{} failed: {error}", self.name),
            Cause::Panic(panic) => write!(
                f,
                "{} panicked: {}",
                self.name,
                panic.message.as_deref().unwrap_or("Box<dyn Any>")
            ),
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for ChildFailure<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.cause {
            Cause::Error(error) => Some(error),
            Cause::Panic(_) => None,
        }
    }
}
