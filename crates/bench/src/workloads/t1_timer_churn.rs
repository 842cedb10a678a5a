//! T1 timer_churn: 1,000,000 times, create a 10 s sleep, poll it once so
//! that the timer is really armed, then drop it (cancel).

use std::future::{Future, poll_fn};
use std::pin::pin;
use std::task::Poll;
use std::time::{Duration, Instant};

use super::{Scale, Unit, Workload, nanos_per};
use crate::rt::Rt;

/// T1.
pub(crate) struct TimerChurn;

impl Workload for TimerChurn {
    const ID: &'static str = "T1";
    const NAME: &'static str = "timer_churn";
    const UNIT: Unit = Unit::lower("ns/op");

    fn measure<R: Rt>(scale: Scale) -> f64 {
        let ops: u64 = scale.pick(1_000_000, 1_000);
        let elapsed = R::run(async move {
            let start = Instant::now();
            let mut armed = 0_u64;
            for _ in 0..ops {
                let mut sleep = pin!(R::sleep(Duration::from_secs(10)));
                // One poll with the task's own waker, as a timeout that loses
                // a race would get: every runtime here registers the timer on
                // that first poll (tokio's and smol's are lazy before it).
                // A pending tokio sleep gives back its coop budget, so it
                // is armed on every iteration, not only the first 128.
                let pending = poll_fn(|cx| Poll::Ready(sleep.as_mut().poll(cx).is_pending())).await;
                armed += u64::from(pending);
            }
            let elapsed = start.elapsed();
            assert_eq!(armed, ops, "T1: a 10 s sleep completed at once");
            elapsed
        });
        nanos_per(elapsed, ops)
    }
}
