//! E1 spawn_many: inside the runtime, spawn 100,000 tasks that each return
//! their index; await every handle and sum.

use std::time::Instant;

use super::{Scale, Unit, Workload, nanos_per};
use crate::rt::Rt;

/// E1.
pub(crate) struct SpawnMany;

impl Workload for SpawnMany {
    const ID: &'static str = "E1";
    const NAME: &'static str = "spawn_many";
    const UNIT: Unit = Unit::lower("ns/task");

    fn measure<R: Rt>(scale: Scale) -> f64 {
        let tasks: u64 = scale.pick(100_000, 1_000);
        let elapsed = R::run(async move {
            let start = Instant::now();
            let handles: Vec<_> = (0..tasks).map(|i| R::spawn(async move { i })).collect();
            let mut sum = 0;
            for handle in handles {
                sum += handle.await;
            }
            let elapsed = start.elapsed();
            assert_eq!(sum, tasks * (tasks - 1) / 2, "E1: wrong sum");
            elapsed
        });
        nanos_per(elapsed, tasks)
    }
}
