//! [`ProtocolRef`]: a protocol shared by its transport's driver, which calls it back,
//! and its owner, who may look into it between callbacks.

use std::any::Any;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::error::ProtocolBusy;

/// A protocol driven by a transport, as `create_connection` and
/// `create_datagram_endpoint` return it (asyncio returns the protocol object itself).
///
/// The transport's driver calls the protocol's callbacks; between them,
/// [`with`](ProtocolRef::with) lends the protocol to its owner. Cheap to clone.
pub struct ProtocolRef<P> {
    cell: Arc<ProtocolCell<P>>,
}

impl<P> ProtocolRef<P> {
    /// Calls `f` with the protocol, to read what it gathered or to change it.
    ///
    /// # Errors
    ///
    /// [`ProtocolBusy`] when called from inside one of this protocol's own callbacks
    /// (the protocol is already lent to it: use `self` there).
    pub fn with<R>(&self, f: impl FnOnce(&mut P) -> R) -> Result<R, ProtocolBusy> {
        if self.cell.busy_here() {
            return Err(ProtocolBusy);
        }
        let mut protocol = self.cell.lock();
        // Marked busy like a callback, so that a nested `with` is refused rather than
        // locking the protocol twice.
        self.cell.busy.store(thread_marker(), Ordering::Relaxed);
        let _unmark = Unmark(&self.cell.busy);
        Ok(f(&mut protocol))
    }

    pub(crate) fn new(cell: Arc<ProtocolCell<P>>) -> ProtocolRef<P> {
        ProtocolRef { cell }
    }
}

impl<P> Clone for ProtocolRef<P> {
    fn clone(&self) -> ProtocolRef<P> {
        ProtocolRef {
            cell: self.cell.clone(),
        }
    }
}

impl<P> fmt::Debug for ProtocolRef<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProtocolRef")
            .field("protocol", &std::any::type_name::<P>())
            .finish()
    }
}

/// The protocol and which thread, if any, is inside one of its callbacks.
pub(crate) struct ProtocolCell<P> {
    protocol: Mutex<P>,
    /// The marker (see [`thread_marker`]) of the thread running a callback, or 0.
    busy: AtomicUsize,
}

/// A callback panicked; the payload's message, for the logs and `connection_lost`.
#[derive(Debug)]
pub(crate) struct Panicked(pub(crate) String);

impl<P> ProtocolCell<P> {
    pub(crate) fn new(protocol: P) -> Arc<ProtocolCell<P>> {
        Arc::new(ProtocolCell {
            protocol: Mutex::new(protocol),
            busy: AtomicUsize::new(0),
        })
    }

    /// Runs one callback on the protocol, catching a panic.
    pub(crate) fn call<R>(&self, f: impl FnOnce(&mut P) -> R) -> Result<R, Panicked> {
        let mut protocol = self.lock();
        self.busy.store(thread_marker(), Ordering::Relaxed);
        let result = catch_unwind(AssertUnwindSafe(|| f(&mut protocol)));
        self.busy.store(0, Ordering::Relaxed);
        result.map_err(|payload| Panicked(panic_message(payload.as_ref())))
    }

    fn busy_here(&self) -> bool {
        self.busy.load(Ordering::Relaxed) == thread_marker()
    }

    /// Locks the protocol, going on after a panic poisoned it (a panicking callback
    /// closes the transport; the owner may still look at what is left).
    fn lock(&self) -> MutexGuard<'_, P> {
        self.protocol
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Clears the busy marker, also when the closure lent the protocol panics.
struct Unmark<'a>(&'a AtomicUsize);

impl Drop for Unmark<'_> {
    fn drop(&mut self) {
        self.0.store(0, Ordering::Relaxed);
    }
}

/// A number that tells this thread from every other live one (the address of a
/// thread-local), never 0.
fn thread_marker() -> usize {
    thread_local! {
        static MARKER: u8 = const { 0 };
    }
    MARKER.with(|marker| std::ptr::from_ref(marker) as usize)
}

/// The message of a panic payload (`&str` or `String`), or a stand-in.
fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(message) = payload.downcast_ref::<&str>() {
        (*message).to_owned()
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message.clone()
    } else {
        "a panic with a non-string payload".to_owned()
    }
}
