//! asyncio's `as_completed`: outputs in the order their futures finish.

use std::collections::VecDeque;
use std::future::{Future, IntoFuture, poll_fn};
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::{FusedStream, Stream};

use super::ready::ReadySet;

/// Runs futures concurrently inside the caller and yields their outputs in
/// the order they finish (asyncio's `for aw in as_completed(aws)`).
///
/// Call [`next`](AsCompleted::next) in a loop, or use the
/// [`Stream`](futures_core::Stream) implementation with any stream
/// combinator library. The futures are polled inline, each boxed and
/// polled only when woken, so nothing is spawned and it works outside a loop
/// too. Outputs of futures that finish in the same poll come in input order.
///
/// Dropping the `AsCompleted` drops, and so cancels, the futures that have
/// not finished (asyncio leaves them running). To let them run on, pass
/// [`JoinHandle`](crate::JoinHandle)s of spawned tasks: their outputs are
/// then `Result<T, JoinError>`, and dropping a handle detaches its task.
/// asyncio's `timeout` argument is [`timeout`](crate::timeout) around each
/// `next()`.
///
/// ```
/// use std::time::Duration;
/// use tulip_executor::{EventLoop, as_completed, sleep};
///
/// let event_loop = EventLoop::builder().virtual_time().build()?;
/// let order = event_loop.run_until_complete(async {
///     let mut finished = as_completed([3u64, 1, 2].map(|secs| async move {
///         sleep(Duration::from_secs(secs)).await;
///         secs
///     }));
///     let mut order = Vec::new();
///     while let Some(secs) = finished.next().await {
///         order.push(secs);
///     }
///     order
/// })?;
/// assert_eq!(order, [1, 2, 3]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn as_completed<I>(futures: I) -> AsCompleted<<I::Item as IntoFuture>::IntoFuture>
where
    I: IntoIterator,
    I::Item: IntoFuture,
{
    let futures: Vec<Option<Pin<Box<_>>>> = futures
        .into_iter()
        .map(|future| Some(Box::pin(future.into_future())))
        .collect();
    AsCompleted {
        ready: ReadySet::new(futures.len()),
        running: futures.len(),
        futures,
        finished: VecDeque::new(),
    }
}

/// The stream of [`as_completed`]: outputs in completion order.
#[must_use = "streams do nothing unless polled"]
pub struct AsCompleted<F: Future> {
    /// `None` once finished (and dropped).
    futures: Vec<Option<Pin<Box<F>>>>,
    ready: ReadySet,
    /// How many futures have not finished.
    running: usize,
    /// Outputs not yet handed out, in the order they finished.
    finished: VecDeque<F::Output>,
}

// The futures are boxed and the outputs never pinned.
impl<F: Future> Unpin for AsCompleted<F> {}

impl<F: Future> AsCompleted<F> {
    /// The next output to come, or `None` once every future's output has been
    /// given. Awaiting it is the same as the `Stream`'s `next()`, without an
    /// extension trait.
    ///
    /// Dropping the returned future before it completes loses nothing: an
    /// output is only taken out when it is given.
    ///
    /// ```
    /// let event_loop = tulip_executor::EventLoop::new()?;
    /// event_loop.run_until_complete(async {
    ///     let mut outputs = tulip_executor::as_completed([1, 2].map(|n| async move { n }));
    ///     assert_eq!(outputs.next().await, Some(1));
    ///     assert_eq!(outputs.next().await, Some(2));
    ///     assert_eq!(outputs.next().await, None);
    /// })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn next(&mut self) -> Option<F::Output> {
        poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }

    /// How many outputs are still to come: the futures that have not
    /// finished and the outputs not yet given.
    ///
    /// ```
    /// let mut outputs = tulip_executor::as_completed(['a', 'b'].map(std::future::ready));
    /// assert_eq!(outputs.len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        self.running + self.finished.len()
    }

    /// Whether every output has been given.
    ///
    /// ```
    /// let outputs = tulip_executor::as_completed(Vec::<std::future::Ready<u8>>::new());
    /// assert!(outputs.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<F: Future> Stream for AsCompleted<F> {
    type Item = F::Output;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<F::Output>> {
        let this = self.get_mut();
        if let Some(output) = this.finished.pop_front() {
            return Poll::Ready(Some(output));
        }
        if this.running == 0 {
            return Poll::Ready(None);
        }
        this.ready.drain(cx);
        while let Some(index) = this.ready.next() {
            let Some(future) = this.futures[index].as_mut() else {
                continue;
            };
            let mut child = Context::from_waker(this.ready.waker(index));
            if let Poll::Ready(output) = future.as_mut().poll(&mut child) {
                this.futures[index] = None;
                this.running -= 1;
                this.finished.push_back(output);
            }
        }
        match this.finished.pop_front() {
            Some(output) => Poll::Ready(Some(output)),
            None => Poll::Pending,
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.len(), Some(self.len()))
    }
}

impl<F: Future> FusedStream for AsCompleted<F> {
    fn is_terminated(&self) -> bool {
        self.is_empty()
    }
}

impl<F: Future> std::fmt::Debug for AsCompleted<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsCompleted")
            .field("running", &self.running)
            .field("finished", &self.finished.len())
            .finish_non_exhaustive()
    }
}
