//! The workloads of `shared/BENCHMARKS.md`, one file each.
//!
//! Adding a workload: write `xN_name.rs` with a unit struct implementing
//! [`Workload`] (its `measure` is generic over the runtime, see
//! [`crate::rt::Rt`]), then add one `entry::<…>()` line to [`ALL`].

use std::time::Duration;

use crate::net;
use crate::rt::{self, Rt, RuntimeId, RuntimeKind};

mod e1_spawn_many;
mod e2_yield_many;
mod e3_chained_spawn;
mod e4_ping_pong;
mod m1_idle_tasks;
mod p1_spawn_wait;
mod p2_communicate;
mod s1_queue_spsc;
mod s2_queue_mpsc;
mod s3_lock_contended;
mod t1_timer_churn;
mod t2_sleep_many;

/// Every workload, in table order.
pub(crate) const ALL: &[Entry] = &[
    entry::<e1_spawn_many::SpawnMany>(),
    entry::<e2_yield_many::YieldMany>(),
    entry::<e3_chained_spawn::ChainedSpawn>(),
    entry::<e4_ping_pong::PingPong>(),
    entry::<t1_timer_churn::TimerChurn>(),
    entry::<t2_sleep_many::SleepMany>(),
    entry::<s1_queue_spsc::QueueSpsc>(),
    entry::<s2_queue_mpsc::QueueMpsc>(),
    entry::<s3_lock_contended::LockContended>(),
    entry::<m1_idle_tasks::IdleTasks>(),
    entry::<p1_spawn_wait::SpawnWait>(),
    entry::<p2_communicate::Communicate>(),
    net::N1,
    net::N2,
    net::N3,
    net::M2,
];

/// How big a run is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scale {
    /// The sizes of `BENCHMARKS.md`.
    Full,
    /// Tiny sizes that finish in milliseconds, for tests and `--quick`.
    Tiny,
}

impl Scale {
    /// `full` at [`Scale::Full`], `tiny` at [`Scale::Tiny`].
    pub(crate) fn pick<T>(self, full: T, tiny: T) -> T {
        match self {
            Scale::Full => full,
            Scale::Tiny => tiny,
        }
    }
}

/// The unit a workload reports in.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Unit {
    /// Its label in the table and in `results.json`.
    pub(crate) label: &'static str,
    /// Whether more is better (throughputs) or less (times, bytes).
    pub(crate) higher_is_better: bool,
}

impl Unit {
    /// A unit where less is better.
    pub(crate) const fn lower(label: &'static str) -> Unit {
        Unit {
            label,
            higher_is_better: false,
        }
    }

    /// A unit where more is better (throughputs).
    pub(crate) const fn higher(label: &'static str) -> Unit {
        Unit {
            label,
            higher_is_better: true,
        }
    }
}

/// How a workload is measured.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Measure {
    /// In one process: [`Workload::measure`] on the runtime named by its
    /// argument; `None` for a runtime that is not behind [`Rt`].
    InProcess(fn(RuntimeId, Scale) -> Option<f64>),
    /// Over loopback: the runtime's echo server (`crate::net::servers`) in
    /// one process, a load generator against it in another.
    Network(net::Network),
}

/// One benchmark workload, written once for every runtime.
pub(crate) trait Workload {
    /// Its id, e.g. `E1`.
    const ID: &'static str;
    /// Its name, e.g. `spawn_many`.
    const NAME: &'static str;
    /// What `measure` returns.
    const UNIT: Unit;
    /// A line printed under the table when this workload ran, if any.
    const NOTE: Option<&'static str> = None;

    /// Runs the workload once on runtime `R` and returns its figure in
    /// [`Workload::UNIT`]. Panics if the workload computed a wrong result.
    fn measure<R: Rt>(scale: Scale) -> f64;
}

/// A workload, type-erased for the registry.
#[derive(Debug)]
pub(crate) struct Entry {
    /// See [`Workload::ID`].
    pub(crate) id: &'static str,
    /// See [`Workload::NAME`].
    pub(crate) name: &'static str,
    /// See [`Workload::UNIT`].
    pub(crate) unit: Unit,
    /// See [`Workload::NOTE`].
    pub(crate) note: Option<&'static str>,
    /// How to measure it.
    pub(crate) measure: Measure,
}

impl Entry {
    /// The entry whose id (`E1`), name (`spawn_many`) or both
    /// (`E1_spawn_many`) is `key`, ignoring case.
    pub(crate) fn find(key: &str) -> Option<&'static Entry> {
        ALL.iter().find(|entry| {
            key.eq_ignore_ascii_case(entry.id)
                || key.eq_ignore_ascii_case(entry.name)
                || key.eq_ignore_ascii_case(&format!("{}_{}", entry.id, entry.name))
        })
    }

    /// Whether `runtime` runs this workload at all: network workloads run
    /// on every runtime, in-process ones only on the Rust runtimes behind
    /// [`Rt`] (tulip's protocol server, the Python peers and the raw mio
    /// floor are servers only).
    pub(crate) fn applies_to(&self, runtime: RuntimeId) -> bool {
        match self.measure {
            Measure::InProcess(_) => runtime.kind() == RuntimeKind::Rust,
            Measure::Network(_) => true,
        }
    }
}

/// The registry entry of `W`.
const fn entry<W: Workload>() -> Entry {
    Entry {
        id: W::ID,
        name: W::NAME,
        unit: W::UNIT,
        note: W::NOTE,
        measure: Measure::InProcess(measure_on::<W>),
    }
}

/// `W::measure` on the runtime `runtime`; `None` if it is not behind [`Rt`].
fn measure_on<W: Workload>(runtime: RuntimeId, scale: Scale) -> Option<f64> {
    match runtime {
        RuntimeId::Tulip => Some(W::measure::<rt::tulip::Tulip>(scale)),
        RuntimeId::TulipMt => Some(W::measure::<rt::tulip::TulipMt>(scale)),
        RuntimeId::TokioCt => Some(W::measure::<rt::tokio::TokioCt>(scale)),
        RuntimeId::TokioMt => Some(W::measure::<rt::tokio::TokioMt>(scale)),
        RuntimeId::Smol => Some(W::measure::<rt::smol::Smol>(scale)),
        RuntimeId::SmolMt => Some(W::measure::<rt::smol::SmolMt>(scale)),
        RuntimeId::TulipProtocol | RuntimeId::Asyncio | RuntimeId::Uvloop | RuntimeId::MioRaw => {
            None
        }
    }
}

/// `elapsed` in nanoseconds per one of `count` operations.
pub(crate) fn nanos_per(elapsed: Duration, count: u64) -> f64 {
    elapsed.as_nanos() as f64 / count as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs every workload at tiny size on `runtime`; each one checks its
    /// own result and panics if it is wrong.
    fn all_complete_on(runtime: RuntimeId) {
        // The network workloads have their own tests, in `crate::net`.
        for entry in ALL {
            let Measure::InProcess(measure) = entry.measure else {
                continue;
            };
            let value = measure(runtime, Scale::Tiny)
                .unwrap_or_else(|| panic!("{} has no {} figure", entry.id, runtime.name()));
            assert!(
                value.is_finite(),
                "{} on {} gave {value}",
                entry.id,
                runtime.name()
            );
        }
    }

    #[test]
    fn every_workload_completes_on_tulip() {
        all_complete_on(RuntimeId::Tulip);
    }

    #[test]
    fn every_workload_completes_on_tulip_mt() {
        all_complete_on(RuntimeId::TulipMt);
    }

    #[test]
    fn every_workload_completes_on_tokio_ct() {
        all_complete_on(RuntimeId::TokioCt);
    }

    #[test]
    fn every_workload_completes_on_tokio_mt() {
        all_complete_on(RuntimeId::TokioMt);
    }

    #[test]
    fn every_workload_completes_on_smol() {
        all_complete_on(RuntimeId::Smol);
    }

    #[test]
    fn every_workload_completes_on_smol_mt() {
        all_complete_on(RuntimeId::SmolMt);
    }

    #[test]
    fn servers_only_runtimes_skip_in_process_workloads() {
        for entry in ALL {
            for runtime in [
                RuntimeId::TulipProtocol,
                RuntimeId::Asyncio,
                RuntimeId::Uvloop,
                RuntimeId::MioRaw,
            ] {
                match entry.measure {
                    Measure::InProcess(measure) => {
                        assert!(!entry.applies_to(runtime), "{}", entry.id);
                        // Never reached by the harness; still no panic.
                        assert_eq!(measure(runtime, Scale::Tiny), None, "{}", entry.id);
                    }
                    Measure::Network(_) => assert!(entry.applies_to(runtime), "{}", entry.id),
                }
            }
        }
    }

    #[test]
    fn ids_and_names_are_unique_and_found() {
        for (i, entry) in ALL.iter().enumerate() {
            for other in &ALL[i + 1..] {
                assert_ne!(entry.id, other.id);
                assert_ne!(entry.name, other.name);
            }
            assert_eq!(Entry::find(entry.id).map(|e| e.id), Some(entry.id));
            assert_eq!(Entry::find(entry.name).map(|e| e.id), Some(entry.id));
        }
        assert_eq!(Entry::find("e1").map(|e| e.name), Some("spawn_many"));
        assert_eq!(Entry::find("E1_SPAWN_MANY").map(|e| e.id), Some("E1"));
        assert!(Entry::find("Z9").is_none());
    }
}
