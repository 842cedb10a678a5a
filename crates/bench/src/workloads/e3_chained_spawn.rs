//! E3 chained_spawn: each task spawns the next, 100,000 deep; the last one
//! signals completion.

use std::time::Instant;

use super::{Scale, Unit, Workload, nanos_per};
use crate::rt::Rt;

/// E3.
pub(crate) struct ChainedSpawn;

impl Workload for ChainedSpawn {
    const ID: &'static str = "E3";
    const NAME: &'static str = "chained_spawn";
    const UNIT: Unit = Unit::lower("ns/spawn");

    fn measure<R: Rt>(scale: Scale) -> f64 {
        let depth: u64 = scale.pick(100_000, 1_000);
        let elapsed = R::run(async move {
            // The one completion signal is runtime-agnostic; it is used once per run.
            let (done_tx, done_rx) = async_channel::bounded(1);
            let start = Instant::now();
            link::<R>(1, depth, done_tx);
            let reached = done_rx.recv().await.expect("E3: the chain broke");
            let elapsed = start.elapsed();
            assert_eq!(reached, depth, "E3: wrong depth");
            elapsed
        });
        nanos_per(elapsed, depth)
    }
}

/// Spawns task number `index` of the chain, which spawns the next one or,
/// being the last, reports its index on `done`.
fn link<R: Rt>(index: u64, last: u64, done: async_channel::Sender<u64>) {
    R::spawn_detached(async move {
        if index == last {
            let _ = done.try_send(index);
        } else {
            link::<R>(index + 1, last, done);
        }
    });
}
