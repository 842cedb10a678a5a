//! `Event`: a flag that tasks wait to see set.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::state_lock::StateLock;
use crate::waiters::{WaiterKey, WaiterList, WakeList};

/// asyncio's `Event`: tasks [`wait`](Event::wait) until the flag is
/// [`set`](Event::set).
///
/// Setting the flag wakes every task waiting at that moment, and each of
/// them returns from `wait` even if the flag is [`clear`](Event::clear)ed
/// again before it runs. A task that starts waiting after a `clear` waits
/// for the next `set`: an event is a state, not a queue of notifications.
///
/// ```
/// use std::sync::Arc;
/// use tulip_sync::Event;
///
/// # tulip_executor::EventLoop::new().unwrap().run_until_complete(async {
/// let ready = Arc::new(Event::new());
/// let waiter = tulip_executor::spawn({
///     let ready = Arc::clone(&ready);
///     async move {
///         ready.wait().await;
///         "saw it"
///     }
/// });
/// tulip_executor::yield_now().await;
/// ready.set();
/// ready.clear(); // too late to stop the waiter: it was woken by `set`
/// assert_eq!(waiter.await.unwrap(), "saw it");
/// # }).unwrap();
/// ```
pub struct Event {
    state: StateLock<State>,
}

/// The future of [`Event::wait`].
#[must_use = "futures do nothing unless polled"]
pub struct EventWait<'a> {
    event: &'a Event,
    key: Option<WaiterKey>,
}

struct State {
    set: bool,
    waiters: WaiterList<(), ()>,
}

impl Event {
    /// An event whose flag is not set.
    pub fn new() -> Self {
        Event {
            state: StateLock::new(State {
                set: false,
                waiters: WaiterList::new(),
            }),
        }
    }

    /// Sets the flag and wakes every waiting task.
    pub fn set(&self) {
        let mut wakers = WakeList::new();
        {
            let mut state = self.state.lock();
            state.set = true;
            state.waiters.grant_all(|()| (), &mut wakers);
        }
        wakers.wake_all();
    }

    /// Clears the flag: later [`wait`](Event::wait)s wait for the next
    /// [`set`](Event::set).
    pub fn clear(&self) {
        self.state.lock().set = false;
    }

    /// Whether the flag is set.
    pub fn is_set(&self) -> bool {
        self.state.lock().set
    }

    /// Waits until the flag is set; at once if it is set already.
    pub fn wait(&self) -> EventWait<'_> {
        EventWait {
            event: self,
            key: None,
        }
    }
}

impl Default for Event {
    fn default() -> Self {
        Event::new()
    }
}

impl Future for EventWait<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let mut wakers = WakeList::new();
        let poll = {
            let mut state = this.event.state.lock();
            let set = state.set;
            state
                .waiters
                .poll_released(&mut this.key, set, cx.waker(), &mut wakers)
        };
        wakers.wake_all();
        poll
    }
}

impl Drop for EventWait<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            // A wake-up of an event is not exclusive: nothing to pass on.
            let mut wakers = WakeList::new();
            self.event.state.lock().waiters.cancel(key, &mut wakers);
            wakers.wake_all();
        }
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.lock();
        f.debug_struct("Event")
            .field("set", &state.set)
            .field("waiters", &state.waiters.len())
            .finish()
    }
}

impl fmt::Debug for EventWait<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventWait").finish_non_exhaustive()
    }
}
