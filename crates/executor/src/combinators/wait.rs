//! asyncio's `wait`: wait for tasks until a condition holds or a timeout
//! passes, and get them back split into finished and unfinished, their
//! outputs untouched.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::ready::ReadySet;
use crate::task::JoinHandle;
use crate::time::{Sleep, sleep};

/// When [`wait`] returns (asyncio's `FIRST_COMPLETED`, `FIRST_EXCEPTION`
/// and `ALL_COMPLETED`).
///
/// ```
/// use tulip_executor::ReturnWhen;
///
/// assert_eq!(ReturnWhen::default(), ReturnWhen::AllCompleted);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ReturnWhen {
    /// As soon as any task finishes, however it finishes (asyncio's
    /// `FIRST_COMPLETED`).
    FirstCompleted,
    /// As soon as any task finishes by panicking, Rust's counterpart of
    /// raising an exception; a cancelled task does not count, as in asyncio.
    /// If none panics, when all have finished (asyncio's
    /// `FIRST_EXCEPTION`). A task that returns an `Err` value has finished
    /// normally: its output is not looked at.
    FirstException,
    /// When every task has finished (asyncio's `ALL_COMPLETED`, the default).
    #[default]
    AllCompleted,
}

/// Waits for tasks until `return_when` holds or `timeout` passes, and gives
/// them back as `(done, pending)` (asyncio's
/// `done, pending = await asyncio.wait(tasks, timeout=..., return_when=...)`).
///
/// Both lists keep the input order. The `done` handles are finished, so
/// awaiting them gives their result at once; the `pending` ones are still
/// running. Nothing is cancelled on timeout, and no output is taken: each
/// handle still holds its task's result (or panic) for whoever awaits it.
/// The timeout counts from the first poll, on the loop's clock (virtual
/// time on a virtual-time loop); `None` waits as long as it takes.
///
/// asyncio raises `ValueError` for an empty set of tasks; here an empty
/// input returns at once with two empty lists. asyncio returns sets; here
/// the handles come back in `Vec`s, in input order.
///
/// ```
/// use std::time::Duration;
/// use tulip_executor::{EventLoop, ReturnWhen, sleep, spawn, wait};
///
/// let event_loop = EventLoop::builder().virtual_time().build()?;
/// event_loop.run_until_complete(async {
///     let tasks: Vec<_> = [3, 1, 2]
///         .map(|secs| spawn(async move {
///             sleep(Duration::from_secs(secs)).await;
///             secs
///         }))
///         .into();
///
///     let (done, pending) = wait(tasks, None, ReturnWhen::FirstCompleted).await;
///     assert_eq!(done.len(), 1);
///     assert_eq!(pending.len(), 2);
///     assert_eq!(done.into_iter().next().unwrap().await.unwrap(), 1);
///
///     // Half a second more: nothing else is done yet, and nothing is cancelled.
///     let (done, pending) = wait(pending, Some(Duration::from_millis(500)), ReturnWhen::AllCompleted).await;
///     assert!(done.is_empty());
///     assert_eq!(pending.len(), 2);
///
///     let (done, pending) = wait(pending, None, ReturnWhen::AllCompleted).await;
///     assert!(pending.is_empty());
///     let mut outputs = Vec::new();
///     for task in done {
///         outputs.push(task.await.unwrap());
///     }
///     assert_eq!(outputs, [3, 2]); // input order
/// })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn wait<T, I>(handles: I, timeout: Option<Duration>, return_when: ReturnWhen) -> Wait<T>
where
    I: IntoIterator<Item = JoinHandle<T>>,
{
    let handles: Vec<JoinHandle<T>> = handles.into_iter().collect();
    let watch = match return_when {
        ReturnWhen::AllCompleted => Watch::InTurn { next: 0 },
        ReturnWhen::FirstCompleted | ReturnWhen::FirstException => Watch::Each {
            ready: ReadySet::new(handles.len()),
            seen: vec![false; handles.len()],
            finished: 0,
        },
    };
    Wait {
        handles: Some(handles),
        return_when,
        watch,
        timeout,
        timer: None,
    }
}

/// How [`Wait`] learns that tasks finished.
#[derive(Debug)]
enum Watch {
    /// All must finish: watch one unfinished task at a time, in input order.
    /// Each handle is registered with until it finishes, so the whole wait
    /// costs one check per handle plus one per wake-up.
    InTurn { next: usize },
    /// Each task's end matters: every handle gets its own waker, and a
    /// wake-up rechecks only the tasks that woke it. `seen` marks the
    /// handles already counted in `finished`.
    Each {
        ready: ReadySet,
        seen: Vec<bool>,
        finished: usize,
    },
}

/// The future of [`wait`]: `(done, pending)`.
///
/// # Panics
/// When polled again after it gave its output.
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct Wait<T> {
    /// `None` once given back.
    handles: Option<Vec<JoinHandle<T>>>,
    return_when: ReturnWhen,
    watch: Watch,
    timeout: Option<Duration>,
    /// Started at the first poll that does not return at once.
    timer: Option<Sleep>,
}

impl<T> Unpin for Wait<T> {}

impl<T> Wait<T> {
    /// Whether `return_when` holds; registers `cx` with the handles it needs
    /// to hear from otherwise.
    fn poll_condition(&mut self, cx: &mut Context<'_>) -> bool {
        let Some(handles) = self.handles.as_mut() else {
            return true;
        };
        match &mut self.watch {
            Watch::InTurn { next } => {
                while let Some(handle) = handles.get_mut(*next) {
                    if !poll_finished(handle, cx) {
                        return false;
                    }
                    *next += 1;
                }
                true
            }
            Watch::Each {
                ready,
                seen,
                finished,
            } => {
                ready.drain(cx);
                let mut panicked = false;
                while let Some(index) = ready.next() {
                    if seen[index] {
                        continue;
                    }
                    let handle = &mut handles[index];
                    let mut child = Context::from_waker(ready.waker(index));
                    if poll_finished(handle, &mut child) {
                        seen[index] = true;
                        *finished += 1;
                        panicked |= handle.is_panicked();
                    }
                }
                match self.return_when {
                    ReturnWhen::FirstCompleted => *finished > 0 || handles.is_empty(),
                    ReturnWhen::FirstException => panicked || *finished == handles.len(),
                    ReturnWhen::AllCompleted => *finished == handles.len(),
                }
            }
        }
    }
}

impl<T> Wait<T> {
    /// Whether the timeout has passed; starts the timer at the first call.
    fn poll_timeout(&mut self, cx: &mut Context<'_>) -> bool {
        let Some(timeout) = self.timeout else {
            return false;
        };
        let timer = self.timer.get_or_insert_with(|| sleep(timeout));
        Pin::new(timer).poll(cx).is_ready()
    }
}

impl<T> Future for Wait<T> {
    type Output = (Vec<JoinHandle<T>>, Vec<JoinHandle<T>>);

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        assert!(this.handles.is_some(), "`wait` polled after it completed");
        let give_back = this.poll_condition(cx) || this.poll_timeout(cx);
        if !give_back {
            return Poll::Pending;
        }
        this.timer = None;
        let handles = this.handles.take().unwrap_or_default();
        Poll::Ready(handles.into_iter().partition(JoinHandle::is_finished))
    }
}

/// Whether `handle`'s task has finished; if not, `cx` is woken when it does.
/// Never takes the task's output.
fn poll_finished<T>(handle: &mut JoinHandle<T>, cx: &mut Context<'_>) -> bool {
    handle.poll_finished(cx).is_ready()
}
