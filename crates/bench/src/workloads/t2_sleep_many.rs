//! T2 sleep_many: 100,000 tasks each sleep 10 ms; wait for all.

use std::time::{Duration, Instant};

use super::{Scale, Unit, Workload};
use crate::rt::Rt;

/// T2.
pub(crate) struct SleepMany;

/// How long each task sleeps.
const NAP: Duration = Duration::from_millis(10);

impl Workload for SleepMany {
    const ID: &'static str = "T2";
    const NAME: &'static str = "sleep_many";
    const UNIT: Unit = Unit::lower("ms over 10 ms");

    fn measure<R: Rt>(scale: Scale) -> f64 {
        let tasks: u64 = scale.pick(100_000, 100);
        let elapsed = R::run(async move {
            let start = Instant::now();
            let handles: Vec<_> = (0..tasks)
                .map(|_| R::spawn(async move { R::sleep(NAP).await }))
                .collect();
            for handle in handles {
                handle.await;
            }
            start.elapsed()
        });
        assert!(elapsed >= NAP, "T2: finished in {elapsed:?}, under {NAP:?}");
        (elapsed - NAP).as_secs_f64() * 1e3
    }
}
