//! M1 idle_tasks: 100,000 tasks each waiting on one event that is never set.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::{Scale, Unit, Workload};
use crate::rss::rss_bytes;
use crate::rt::{AsyncEvent, Rt};

/// M1.
pub(crate) struct IdleTasks;

/// Extra yields after the last task reported in, so that it has reached its
/// `await` (it reports just before) and the scheduler has settled.
const SETTLE_YIELDS: usize = 10;

impl Workload for IdleTasks {
    const ID: &'static str = "M1";
    const NAME: &'static str = "idle_tasks";
    const UNIT: Unit = Unit::lower("bytes/task");
    const NOTE: Option<&'static str> = Some(
        "M1: each runtime's tasks wait on its own event: tulip (both columns) on \
         tulip::sync::Event::wait(), tokio (both columns) on tokio::sync::Notify::notified(), smol on \
         event_listener::Event::listen() (the event under smol's channel and lock); \
         the figure is the task plus its waiter",
    );

    fn measure<R: Rt>(scale: Scale) -> f64 {
        let tasks: u64 = scale.pick(100_000, 1_000);
        R::run(async move {
            let event = Arc::new(R::new_event());
            let waiting = Arc::new(AtomicU64::new(0));
            let before = rss_bytes();
            for _ in 0..tasks {
                let event = Arc::clone(&event);
                let waiting = Arc::clone(&waiting);
                R::spawn_detached(async move {
                    // Reported in the same poll that then registers the
                    // wait, so nothing runs in between on a single thread.
                    waiting.fetch_add(1, Ordering::Release);
                    event.wait().await;
                    unreachable!("M1: the event is never set");
                });
            }
            while waiting.load(Ordering::Acquire) < tasks {
                R::yield_now().await;
            }
            for _ in 0..SETTLE_YIELDS {
                R::yield_now().await;
            }
            let after = rss_bytes();
            (after as f64 - before as f64) / tasks as f64
        })
    }
}
