//! asyncio's `gather`: [`gather!`](crate::gather!) for a fixed list of
//! futures of any types, [`gather_all`] for any number of one type, and
//! [`try_gather`] that stops at the first error.
//!
//! All three poll their futures inside the task that awaits them (asyncio
//! makes a task of each coroutine; here nothing is spawned), so they also
//! work outside a loop, and dropping them drops (cancels) every future they
//! still hold.

use std::convert::Infallible;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

use super::ready::ReadySet;

pin_project! {
    /// One future of [`gather!`](crate::gather!) and then its output.
    #[doc(hidden)]
    pub struct MaybeDone<F: Future> {
        #[pin]
        future: Option<F>,
        output: Option<F::Output>,
    }
}

impl<F: Future> MaybeDone<F> {
    /// Wraps a future that has not been polled.
    pub fn new(future: F) -> MaybeDone<F> {
        MaybeDone {
            future: Some(future),
            output: None,
        }
    }

    /// Polls the future unless it finished already; `true` once it has. The
    /// future is dropped as soon as it finishes.
    pub fn poll_done(self: Pin<&mut Self>, cx: &mut Context<'_>) -> bool {
        let mut this = self.project();
        let Some(future) = this.future.as_mut().as_pin_mut() else {
            return true;
        };
        match future.poll(cx) {
            Poll::Ready(output) => {
                *this.output = Some(output);
                this.future.set(None);
                true
            }
            Poll::Pending => false,
        }
    }

    /// Moves the output out.
    ///
    /// # Panics
    /// If the future has not finished, or its output was taken already: the
    /// `gather!` future was polled after it completed.
    pub fn take(self: Pin<&mut Self>) -> F::Output {
        match self.project().output.take() {
            Some(output) => output,
            None => panic!("`gather!` polled after it completed"),
        }
    }
}

impl<F: Future> std::fmt::Debug for MaybeDone<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = if self.future.is_some() {
            "running"
        } else if self.output.is_some() {
            "done"
        } else {
            "taken"
        };
        f.debug_tuple("MaybeDone")
            .field(&format_args!("{state}"))
            .finish()
    }
}

/// Declares the future type of `gather!` for one number of futures.
macro_rules! gather_type {
    ($(#[$meta:meta])* $name:ident; $($F:ident $field:ident),+) => {
        pin_project! {
            $(#[$meta])*
            #[doc(hidden)]
            #[must_use = "futures do nothing unless awaited"]
            pub struct $name<$($F: Future),+> {
                $(#[pin] $field: MaybeDone<$F>,)+
            }
        }

        impl<$($F: Future),+> $name<$($F),+> {
            /// Gathers the futures, none of them polled yet.
            #[allow(clippy::too_many_arguments)]
            pub fn new($($field: $F),+) -> $name<$($F),+> {
                $name { $($field: MaybeDone::new($field),)+ }
            }
        }

        impl<$($F: Future),+> std::fmt::Debug for $name<$($F),+> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($name))
                    $(.field(stringify!($field), &self.$field))+
                    .finish()
            }
        }

        impl<$($F: Future),+> Future for $name<$($F),+> {
            type Output = ($(<$F as Future>::Output,)+);

            fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
                let mut this = self.project();
                let mut done = true;
                // `&=` evaluates both sides: every future is polled, in order.
                $(done &= this.$field.as_mut().poll_done(cx);)+
                if done {
                    Poll::Ready(($(this.$field.take(),)+))
                } else {
                    Poll::Pending
                }
            }
        }
    };
}

gather_type!(Gather1; A a);
gather_type!(Gather2; A a, B b);
gather_type!(Gather3; A a, B b, C c);
gather_type!(Gather4; A a, B b, C c, D d);
gather_type!(Gather5; A a, B b, C c, D d, E e);
gather_type!(Gather6; A a, B b, C c, D d, E e, F f);
gather_type!(Gather7; A a, B b, C c, D d, E e, F f, G g);
gather_type!(Gather8; A a, B b, C c, D d, E e, F f, G g, H h);
gather_type!(Gather9; A a, B b, C c, D d, E e, F f, G g, H h, I i);
gather_type!(Gather10; A a, B b, C c, D d, E e, F f, G g, H h, I i, J j);
gather_type!(Gather11; A a, B b, C c, D d, E e, F f, G g, H h, I i, J j, K k);
gather_type!(Gather12; A a, B b, C c, D d, E e, F f, G g, H h, I i, J j, K k, L l);

/// Runs up to twelve futures concurrently inside the awaiting task and gives
/// the tuple of their outputs, in argument order (asyncio's
/// `await asyncio.gather(a, b, c)`).
///
/// The futures may be of different types; anything [`IntoFuture`] is
/// accepted. On each poll every unfinished future is polled, in argument
/// order, so their output interleaves as asyncio's tasks do: with the same
/// wake-ups, the first argument runs first. A future is dropped as soon as it
/// finishes. Nothing is spawned or allocated: the futures live inside the
/// `gather!` future, and dropping it drops (cancels) those still running.
///
/// A future that panics makes the whole `gather!` panic, as an exception
/// propagates out of asyncio's `gather`. For asyncio's
/// `return_exceptions=True`, give futures whose outputs are `Result`s: each
/// result is a value in the tuple. To stop at the first error instead, use
/// [`try_gather`] (one type) or [`TaskGroup`](crate::TaskGroup) (tasks).
/// `gather!()` with no futures gives `()`; more than twelve is a compile
/// error: use [`gather_all`].
///
/// asyncio's tutorial program, with virtual time:
///
/// ```
/// use std::cell::RefCell;
/// use std::rc::Rc;
/// use std::time::Duration;
/// use tulip_executor::{EventLoop, gather, sleep};
///
/// async fn factorial(name: &str, number: u64, log: Rc<RefCell<Vec<String>>>) -> u64 {
///     let mut f = 1;
///     for i in 2..=number {
///         log.borrow_mut().push(format!("Task {name}: Compute factorial({i})..."));
///         sleep(Duration::from_secs(1)).await;
///         f *= i;
///     }
///     log.borrow_mut().push(format!("Task {name}: factorial({number}) = {f}"));
///     f
/// }
///
/// let event_loop = EventLoop::builder().virtual_time().build()?;
/// let log = Rc::new(RefCell::new(Vec::new()));
/// let results = event_loop.run_until_complete({
///     let log = log.clone();
///     async move {
///         gather!(
///             factorial("A", 2, log.clone()),
///             factorial("B", 3, log.clone()),
///             factorial("C", 4, log.clone()),
///         )
///         .await
///     }
/// })?;
/// assert_eq!(results, (2, 6, 24));
/// assert_eq!(
///     *log.borrow(),
///     [
///         "Task A: Compute factorial(2)...",
///         "Task B: Compute factorial(2)...",
///         "Task C: Compute factorial(2)...",
///         "Task A: factorial(2) = 2",
///         "Task B: Compute factorial(3)...",
///         "Task C: Compute factorial(3)...",
///         "Task B: factorial(3) = 6",
///         "Task C: Compute factorial(4)...",
///         "Task C: factorial(4) = 24",
///     ]
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// [`IntoFuture`]: std::future::IntoFuture
#[macro_export]
macro_rules! gather {
    () => {
        $crate::combinators::__private::ready(())
    };
    ($a:expr $(,)?) => {
        $crate::combinators::__private::Gather1::new(
            $crate::combinators::__private::IntoFuture::into_future($a),
        )
    };
    ($a:expr, $b:expr $(,)?) => {
        $crate::combinators::__private::Gather2::new(
            $crate::combinators::__private::IntoFuture::into_future($a),
            $crate::combinators::__private::IntoFuture::into_future($b),
        )
    };
    ($a:expr, $b:expr, $c:expr $(,)?) => {
        $crate::combinators::__private::Gather3::new(
            $crate::combinators::__private::IntoFuture::into_future($a),
            $crate::combinators::__private::IntoFuture::into_future($b),
            $crate::combinators::__private::IntoFuture::into_future($c),
        )
    };
    ($a:expr, $b:expr, $c:expr, $d:expr $(,)?) => {
        $crate::combinators::__private::Gather4::new(
            $crate::combinators::__private::IntoFuture::into_future($a),
            $crate::combinators::__private::IntoFuture::into_future($b),
            $crate::combinators::__private::IntoFuture::into_future($c),
            $crate::combinators::__private::IntoFuture::into_future($d),
        )
    };
    ($a:expr, $b:expr, $c:expr, $d:expr, $e:expr $(,)?) => {
        $crate::combinators::__private::Gather5::new(
            $crate::combinators::__private::IntoFuture::into_future($a),
            $crate::combinators::__private::IntoFuture::into_future($b),
            $crate::combinators::__private::IntoFuture::into_future($c),
            $crate::combinators::__private::IntoFuture::into_future($d),
            $crate::combinators::__private::IntoFuture::into_future($e),
        )
    };
    ($a:expr, $b:expr, $c:expr, $d:expr, $e:expr, $f:expr $(,)?) => {
        $crate::combinators::__private::Gather6::new(
            $crate::combinators::__private::IntoFuture::into_future($a),
            $crate::combinators::__private::IntoFuture::into_future($b),
            $crate::combinators::__private::IntoFuture::into_future($c),
            $crate::combinators::__private::IntoFuture::into_future($d),
            $crate::combinators::__private::IntoFuture::into_future($e),
            $crate::combinators::__private::IntoFuture::into_future($f),
        )
    };
    ($a:expr, $b:expr, $c:expr, $d:expr, $e:expr, $f:expr, $g:expr $(,)?) => {
        $crate::combinators::__private::Gather7::new(
            $crate::combinators::__private::IntoFuture::into_future($a),
            $crate::combinators::__private::IntoFuture::into_future($b),
            $crate::combinators::__private::IntoFuture::into_future($c),
            $crate::combinators::__private::IntoFuture::into_future($d),
            $crate::combinators::__private::IntoFuture::into_future($e),
            $crate::combinators::__private::IntoFuture::into_future($f),
            $crate::combinators::__private::IntoFuture::into_future($g),
        )
    };
    ($a:expr, $b:expr, $c:expr, $d:expr, $e:expr, $f:expr, $g:expr, $h:expr $(,)?) => {
        $crate::combinators::__private::Gather8::new(
            $crate::combinators::__private::IntoFuture::into_future($a),
            $crate::combinators::__private::IntoFuture::into_future($b),
            $crate::combinators::__private::IntoFuture::into_future($c),
            $crate::combinators::__private::IntoFuture::into_future($d),
            $crate::combinators::__private::IntoFuture::into_future($e),
            $crate::combinators::__private::IntoFuture::into_future($f),
            $crate::combinators::__private::IntoFuture::into_future($g),
            $crate::combinators::__private::IntoFuture::into_future($h),
        )
    };
    ($a:expr, $b:expr, $c:expr, $d:expr, $e:expr, $f:expr, $g:expr, $h:expr, $i:expr $(,)?) => {
        $crate::combinators::__private::Gather9::new(
            $crate::combinators::__private::IntoFuture::into_future($a),
            $crate::combinators::__private::IntoFuture::into_future($b),
            $crate::combinators::__private::IntoFuture::into_future($c),
            $crate::combinators::__private::IntoFuture::into_future($d),
            $crate::combinators::__private::IntoFuture::into_future($e),
            $crate::combinators::__private::IntoFuture::into_future($f),
            $crate::combinators::__private::IntoFuture::into_future($g),
            $crate::combinators::__private::IntoFuture::into_future($h),
            $crate::combinators::__private::IntoFuture::into_future($i),
        )
    };
    ($a:expr, $b:expr, $c:expr, $d:expr, $e:expr, $f:expr, $g:expr, $h:expr, $i:expr, $j:expr $(,)?) => {
        $crate::combinators::__private::Gather10::new(
            $crate::combinators::__private::IntoFuture::into_future($a),
            $crate::combinators::__private::IntoFuture::into_future($b),
            $crate::combinators::__private::IntoFuture::into_future($c),
            $crate::combinators::__private::IntoFuture::into_future($d),
            $crate::combinators::__private::IntoFuture::into_future($e),
            $crate::combinators::__private::IntoFuture::into_future($f),
            $crate::combinators::__private::IntoFuture::into_future($g),
            $crate::combinators::__private::IntoFuture::into_future($h),
            $crate::combinators::__private::IntoFuture::into_future($i),
            $crate::combinators::__private::IntoFuture::into_future($j),
        )
    };
    ($a:expr, $b:expr, $c:expr, $d:expr, $e:expr, $f:expr, $g:expr, $h:expr, $i:expr, $j:expr, $k:expr $(,)?) => {
        $crate::combinators::__private::Gather11::new(
            $crate::combinators::__private::IntoFuture::into_future($a),
            $crate::combinators::__private::IntoFuture::into_future($b),
            $crate::combinators::__private::IntoFuture::into_future($c),
            $crate::combinators::__private::IntoFuture::into_future($d),
            $crate::combinators::__private::IntoFuture::into_future($e),
            $crate::combinators::__private::IntoFuture::into_future($f),
            $crate::combinators::__private::IntoFuture::into_future($g),
            $crate::combinators::__private::IntoFuture::into_future($h),
            $crate::combinators::__private::IntoFuture::into_future($i),
            $crate::combinators::__private::IntoFuture::into_future($j),
            $crate::combinators::__private::IntoFuture::into_future($k),
        )
    };
    ($a:expr, $b:expr, $c:expr, $d:expr, $e:expr, $f:expr, $g:expr, $h:expr, $i:expr, $j:expr, $k:expr, $l:expr $(,)?) => {
        $crate::combinators::__private::Gather12::new(
            $crate::combinators::__private::IntoFuture::into_future($a),
            $crate::combinators::__private::IntoFuture::into_future($b),
            $crate::combinators::__private::IntoFuture::into_future($c),
            $crate::combinators::__private::IntoFuture::into_future($d),
            $crate::combinators::__private::IntoFuture::into_future($e),
            $crate::combinators::__private::IntoFuture::into_future($f),
            $crate::combinators::__private::IntoFuture::into_future($g),
            $crate::combinators::__private::IntoFuture::into_future($h),
            $crate::combinators::__private::IntoFuture::into_future($i),
            $crate::combinators::__private::IntoFuture::into_future($j),
            $crate::combinators::__private::IntoFuture::into_future($k),
            $crate::combinators::__private::IntoFuture::into_future($l),
        )
    };
    ($($future:expr),+ $(,)?) => {
        ::core::compile_error!(
            "gather! takes at most 12 futures; use tulip_executor::gather_all for more"
        )
    };
}

/// One future of [`gather_all`] or [`try_gather`]: boxed while it runs (so
/// the combinator needs no pinning of its own), then its output.
enum Slot<F: Future> {
    Running(Pin<Box<F>>),
    Done(F::Output),
}

impl<F: Future> Slot<F> {
    fn into_output(self) -> Option<F::Output> {
        match self {
            Slot::Done(output) => Some(output),
            Slot::Running(_) => None,
        }
    }
}

/// The machinery shared by [`GatherAll`] and [`TryGather`].
struct Many<F: Future> {
    slots: Vec<Slot<F>>,
    ready: ReadySet,
    /// How many slots still hold a future.
    running: usize,
    /// The output was given: further polls are a caller's bug.
    finished: bool,
}

impl<F: Future> Many<F> {
    fn new(futures: impl IntoIterator<Item = F>) -> Many<F> {
        let slots: Vec<Slot<F>> = futures
            .into_iter()
            .map(|future| Slot::Running(Box::pin(future)))
            .collect();
        Many {
            ready: ReadySet::new(slots.len()),
            running: slots.len(),
            slots,
            finished: false,
        }
    }

    /// Polls the futures woken since the last poll, in input order, passing
    /// each output through `split`. The first output that `split` turns into
    /// `Err` ends the gather at once with that error, after every other
    /// future and output is dropped; once all are done, the outputs in input
    /// order.
    fn poll_until<S>(
        &mut self,
        cx: &mut Context<'_>,
        what: &str,
        mut split: impl FnMut(F::Output) -> Result<F::Output, S>,
    ) -> Poll<Result<Vec<F::Output>, S>> {
        assert!(!self.finished, "`{what}` polled after it completed");
        self.ready.drain(cx);
        while let Some(index) = self.ready.next() {
            let Some(Slot::Running(future)) = self.slots.get_mut(index) else {
                continue;
            };
            let mut child = Context::from_waker(self.ready.waker(index));
            if let Poll::Ready(output) = future.as_mut().poll(&mut child) {
                self.running -= 1;
                match split(output) {
                    Ok(output) => self.slots[index] = Slot::Done(output),
                    Err(stop) => {
                        self.finished = true;
                        self.running = 0;
                        // Drops (cancels) every other future, in input order.
                        self.slots = Vec::new();
                        return Poll::Ready(Err(stop));
                    }
                }
            }
        }
        if self.running > 0 {
            return Poll::Pending;
        }
        self.finished = true;
        let outputs: Vec<F::Output> = std::mem::take(&mut self.slots)
            .into_iter()
            .filter_map(Slot::into_output)
            .collect();
        Poll::Ready(Ok(outputs))
    }
}

impl<F: Future> std::fmt::Debug for Many<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gather")
            .field("futures", &self.slots.len())
            .field("running", &self.running)
            .finish_non_exhaustive()
    }
}

/// The future of [`gather_all`].
///
/// # Panics
/// When polled again after it gave its output.
#[must_use = "futures do nothing unless awaited"]
pub struct GatherAll<F: Future> {
    inner: Many<F>,
}

// The futures are boxed and the outputs never pinned.
impl<F: Future> Unpin for GatherAll<F> {}

impl<F: Future> Future for GatherAll<F> {
    type Output = Vec<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Vec<F::Output>> {
        match self.inner.poll_until(cx, "gather_all", Ok::<_, Infallible>) {
            Poll::Ready(Ok(outputs)) => Poll::Ready(outputs),
            Poll::Ready(Err(never)) => match never {},
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<F: Future> std::fmt::Debug for GatherAll<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("GatherAll").field(&self.inner).finish()
    }
}

/// Runs any number of futures of one type concurrently inside the awaiting
/// task and gives their outputs in input order (asyncio's
/// `await asyncio.gather(*aws)`).
///
/// Each future is boxed, and only the futures woken since the last poll are
/// polled again, in input order, so a large gather costs in proportion to
/// the wake-ups, not to their number times the number of futures. A future
/// is dropped as soon as it finishes; dropping the `GatherAll` drops
/// (cancels) those still running. An empty input gives an empty `Vec` at
/// once, as `asyncio.gather()` does.
///
/// Outputs are values: with futures that give `Result`s, this is asyncio's
/// `gather(*aws, return_exceptions=True)` (every result, errors included, in
/// input order). For `return_exceptions=False`, use [`try_gather`]. A panic
/// in a future propagates out of the `GatherAll`.
///
/// ```
/// use std::time::Duration;
/// use tulip_executor::{EventLoop, gather_all, sleep};
///
/// let event_loop = EventLoop::builder().virtual_time().build()?;
/// let start = event_loop.time();
/// let squares = event_loop.run_until_complete(gather_all((1..=4u64).map(|i| async move {
///     // The last one finishes first; the order of the outputs is the input's.
///     sleep(Duration::from_secs(5 - i)).await;
///     i * i
/// })))?;
/// assert_eq!(squares, [1, 4, 9, 16]);
/// assert_eq!(event_loop.time() - start, Duration::from_secs(4));
///
/// // return_exceptions=True: errors are values among the others.
/// let results = event_loop.run_until_complete(gather_all(["1", "x", "3"].map(|text| async move {
///     text.parse::<u8>().map_err(|error| error.to_string())
/// })))?;
/// assert_eq!(results[0], Ok(1));
/// assert!(results[1].is_err());
/// assert_eq!(results[2], Ok(3));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn gather_all<I>(futures: I) -> GatherAll<<I::Item as IntoFuture>::IntoFuture>
where
    I: IntoIterator,
    I::Item: IntoFuture,
{
    GatherAll {
        inner: Many::new(futures.into_iter().map(IntoFuture::into_future)),
    }
}

/// The future of [`try_gather`].
///
/// # Panics
/// When polled again after it gave its output.
#[must_use = "futures do nothing unless awaited"]
pub struct TryGather<F: Future> {
    inner: Many<F>,
}

// The futures are boxed and the outputs never pinned.
impl<F: Future> Unpin for TryGather<F> {}

impl<F, T, E> Future for TryGather<F>
where
    F: Future<Output = Result<T, E>>,
{
    type Output = Result<Vec<T>, E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<Vec<T>, E>> {
        let split = |output: Result<T, E>| match output {
            Ok(value) => Ok(Ok(value)),
            Err(error) => Err(error),
        };
        match self.inner.poll_until(cx, "try_gather", split) {
            // Every output kept is an `Ok`: the first `Err` ended the gather.
            Poll::Ready(Ok(outputs)) => {
                Poll::Ready(Ok(outputs.into_iter().filter_map(Result::ok).collect()))
            }
            Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<F: Future> std::fmt::Debug for TryGather<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("TryGather").field(&self.inner).finish()
    }
}

/// Runs fallible futures concurrently inside the awaiting task and gives all
/// their values in input order, or the first error (asyncio's
/// `gather(*aws, return_exceptions=False)`).
///
/// The first future to finish with `Err` (the first in input order among
/// those finishing in the same poll) ends the gather: every other future is
/// dropped at once, which cancels it, and the error is returned. asyncio
/// leaves the other awaitables running when `gather` raises; in Rust a
/// future runs only while polled, so dropping is the cancellation and
/// nothing is left behind. To let the others run on, spawn them and gather
/// their [`JoinHandle`](crate::JoinHandle)s: dropping a handle detaches its
/// task. For structured error handling over tasks, see
/// [`TaskGroup`](crate::TaskGroup).
///
/// Polling is as in [`gather_all`].
///
/// ```
/// use std::time::Duration;
/// use tulip_executor::{EventLoop, sleep, try_gather};
///
/// async fn fetch(id: u32, delay: u64) -> Result<u32, String> {
///     sleep(Duration::from_secs(delay)).await;
///     if id == 2 { Err(format!("{id} not found")) } else { Ok(id * 10) }
/// }
///
/// let event_loop = EventLoop::builder().virtual_time().build()?;
/// let all = event_loop.run_until_complete(try_gather([fetch(1, 1), fetch(3, 2)]))?;
/// assert_eq!(all, Ok(vec![10, 30]));
///
/// let start = event_loop.time();
/// let first_error = event_loop.run_until_complete(try_gather([fetch(1, 1), fetch(2, 2), fetch(3, 60)]))?;
/// assert_eq!(first_error, Err("2 not found".to_owned()));
/// // fetch(3, 60) was dropped at the error: no waiting for it.
/// assert_eq!(event_loop.time() - start, Duration::from_secs(2));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn try_gather<I, T, E>(futures: I) -> TryGather<<I::Item as IntoFuture>::IntoFuture>
where
    I: IntoIterator,
    I::Item: IntoFuture<Output = Result<T, E>>,
{
    TryGather {
        inner: Many::new(futures.into_iter().map(IntoFuture::into_future)),
    }
}
