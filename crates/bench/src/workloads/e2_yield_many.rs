//! E2 yield_many: 1,000 tasks, each yields to the scheduler 1,000 times.

use std::time::Instant;

use super::{Scale, Unit, Workload, nanos_per};
use crate::rt::Rt;

/// E2.
pub(crate) struct YieldMany;

impl Workload for YieldMany {
    const ID: &'static str = "E2";
    const NAME: &'static str = "yield_many";
    const UNIT: Unit = Unit::lower("ns/yield");

    fn measure<R: Rt>(scale: Scale) -> f64 {
        let (tasks, yields): (u64, u64) = scale.pick((1_000, 1_000), (20, 20));
        let elapsed = R::run(async move {
            let start = Instant::now();
            let handles: Vec<_> = (0..tasks)
                .map(|_| {
                    R::spawn(async move {
                        for _ in 0..yields {
                            R::yield_now().await;
                        }
                        yields
                    })
                })
                .collect();
            let mut done = 0;
            for handle in handles {
                done += handle.await;
            }
            let elapsed = start.elapsed();
            assert_eq!(done, tasks * yields, "E2: wrong count of yields");
            elapsed
        });
        nanos_per(elapsed, tasks * yields)
    }
}
