//! P1 spawn_wait: spawn and wait 1,000 `true` processes one after another.

use std::time::Instant;

use super::{Scale, Unit, Workload};
use crate::rt::Rt;

/// P1.
pub(crate) struct SpawnWait;

impl Workload for SpawnWait {
    const ID: &'static str = "P1";
    const NAME: &'static str = "spawn_wait";
    const UNIT: Unit = Unit::higher("procs/s");
    const NOTE: Option<&'static str> = Some(
        "P1 (and P2): each runtime spawns with its own subprocess API: tulip::process \
         (tulip-process, asyncio's create_subprocess_exec), tokio::process, smol's \
         async-process; the children are `true` (P1) and `cat` (P2) from PATH, and most \
         of each figure is the kernel's fork and exec",
    );

    fn measure<R: Rt>(scale: Scale) -> f64 {
        let count: u32 = scale.pick(1_000, 20);
        let elapsed = R::run(async move {
            let start = Instant::now();
            let mut exited = 0_u32;
            for i in 0..count {
                let code = R::spawn_wait("true")
                    .await
                    .unwrap_or_else(|error| panic!("P1: process {i}: {error}"));
                assert_eq!(code, 0, "P1: `true` number {i} exited with {code}");
                exited += 1;
            }
            let elapsed = start.elapsed();
            assert_eq!(exited, count, "P1: wrong number of processes");
            elapsed
        });
        f64::from(count) / elapsed.as_secs_f64()
    }
}
