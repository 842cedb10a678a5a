//! [`HandlerTask`]: the task that runs one accepted connection's handler.
//!
//! Written as a state machine by hand, rather than as an `async` block, so that the
//! handler's input (the stream, or the reader and writer) and the future the handler
//! makes of it share their space in the task: an `async` block would keep the input it
//! captured beside the future for as long as the connection lives, and a server with
//! many idle connections pays for every byte of each task.

use std::any::Any;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

use crate::server::{Accept, ConnGuard, HandlerOutput, Listen};

pin_project! {
    /// Calls the handler with the connection's input and runs the future it returns,
    /// catching a panic of either, and logs how the handler ended. The connection's
    /// guard is released when the handler ends (or the task is dropped).
    pub(crate) struct HandlerTask<L: Listen, A: Accept<L>> {
        // First, so that it drops first: a task dropped before its end (cancelled by
        // `abort_clients`, or its loop closed) closes the connection before its guard
        // tells the server (and `wait_closed`) that the connection is gone.
        #[pin]
        state: State<A::Input, A::Fut>,
        handler: Arc<A>,
        // The peer's address, for the logs.
        peer: L::Addr,
        guard: Option<ConnGuard>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<I, F> {
        // Not yet called: the handler's input (taken by the call).
        Start { input: Option<I> },
        // The handler's future.
        Running { #[pin] fut: F },
        // Ended (and logged).
        Done,
    }
}

impl<L: Listen, A: Accept<L>> HandlerTask<L, A> {
    pub(crate) fn new(
        handler: Arc<A>,
        input: A::Input,
        peer: L::Addr,
        guard: ConnGuard,
    ) -> HandlerTask<L, A> {
        HandlerTask {
            state: State::Start { input: Some(input) },
            handler,
            peer,
            guard: Some(guard),
        }
    }
}

impl<L: Listen, A: Accept<L>> Future for HandlerTask<L, A> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut this = self.project();
        loop {
            match this.state.as_mut().project() {
                StateProj::Start { input } => {
                    let Some(input) = input.take() else {
                        this.state.set(State::Done);
                        continue;
                    };
                    let handler = &**this.handler;
                    match catch_unwind(AssertUnwindSafe(|| handler.call(input))) {
                        Ok(fut) => this.state.set(State::Running { fut }),
                        Err(panic) => {
                            panicked(&*this.peer, &*panic);
                            this.state.set(State::Done);
                        }
                    }
                }
                StateProj::Running { fut } => {
                    match catch_unwind(AssertUnwindSafe(|| fut.poll(cx))) {
                        Ok(Poll::Pending) => return Poll::Pending,
                        Ok(Poll::Ready(output)) => {
                            if let Some(error) = output.into_error() {
                                tracing::warn!(peer = ?this.peer, %error, "connection handler failed");
                            }
                        }
                        Err(panic) => panicked(&*this.peer, &*panic),
                    }
                    this.state.set(State::Done);
                }
                StateProj::Done => {
                    // The handler is over: the server forgets the connection.
                    this.guard.take();
                    return Poll::Ready(());
                }
            }
        }
    }
}

/// Logs a handler's panic.
fn panicked(peer: &dyn std::fmt::Debug, panic: &(dyn Any + Send)) {
    tracing::error!(
        ?peer,
        panic = panic_message(panic),
        "connection handler panicked"
    );
}

/// The message of a panic, if it is a string.
fn panic_message(panic: &(dyn Any + Send)) -> &str {
    if let Some(message) = panic.downcast_ref::<&str>() {
        message
    } else if let Some(message) = panic.downcast_ref::<String>() {
        message
    } else {
        "(not a string)"
    }
}
