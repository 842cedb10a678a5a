//! S3 lock_contended: 100 tasks each take and release one async lock
//! 10,000 times, yielding after each release.

use std::sync::Arc;
use std::time::Instant;

use super::{Scale, Unit, Workload, nanos_per};
use crate::rt::{AsyncLock, Rt};

/// S3.
pub(crate) struct LockContended;

impl Workload for LockContended {
    const ID: &'static str = "S3";
    const NAME: &'static str = "lock_contended";
    const UNIT: Unit = Unit::lower("ns/acquire");
    const NOTE: Option<&'static str> = Some(
        "S3: each runtime runs its own lock: tulip::sync::Lock, tokio::sync::Mutex, \
         smol::lock::Mutex (async-lock); the lock is never held across an await, so on \
         the single-threaded columns (tulip, tokio_ct, smol) every acquire finds it free \
         and the figure is an uncontended acquire + release + yield; only the multi-thread \
         columns' two threads (tulip_mt, tokio_mt, smol_mt) contend",
    );

    fn measure<R: Rt>(scale: Scale) -> f64 {
        let (tasks, acquires): (u64, u64) = scale.pick((100, 10_000), (10, 100));
        let elapsed = R::run(async move {
            // The lock guards the count of acquisitions: a lock that let two
            // holders in at once (tokio_mt) would lose increments.
            let lock = Arc::new(R::new_lock(0_u64));
            let start = Instant::now();
            let handles: Vec<_> = (0..tasks)
                .map(|_| {
                    let lock = Arc::clone(&lock);
                    R::spawn(async move {
                        for _ in 0..acquires {
                            {
                                let mut count = lock.lock().await;
                                *count += 1;
                            }
                            R::yield_now().await;
                        }
                        acquires
                    })
                })
                .collect();
            let mut done = 0;
            for handle in handles {
                done += handle.await;
            }
            let elapsed = start.elapsed();
            let counted = *lock.lock().await;
            assert_eq!(
                (done, counted),
                (tasks * acquires, tasks * acquires),
                "S3: wrong count of acquisitions"
            );
            elapsed
        });
        nanos_per(elapsed, tasks * acquires)
    }
}
