//! T1-like churn: create a 10 s timer, poll it once so it is armed, drop it (cancel).
//!
//! Run with `cargo run --release -p tulip-reactor --example timer_churn`; prints the
//! median ns/op of several rounds.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Waker};
use std::time::{Duration, Instant};

use tulip_reactor::{Reactor, Timer};

const OPS: u32 = 1_000_000;
const ROUNDS: usize = 7;

fn main() -> std::io::Result<()> {
    let reactor = Reactor::new()?;
    let _guard = reactor.enter();
    let cx = &mut Context::from_waker(Waker::noop());
    let mut per_op = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let start = Instant::now();
        for _ in 0..OPS {
            let mut timer = Timer::after(Duration::from_secs(10));
            assert!(Pin::new(&mut timer).poll(cx).is_pending());
        }
        per_op.push(start.elapsed().as_nanos() as f64 / f64::from(OPS));
        assert_eq!(reactor.armed_timers(), 0);
    }
    per_op.sort_by(f64::total_cmp);
    println!(
        "timer_churn: median {:.1} ns/op (min {:.1}, max {:.1}) over {ROUNDS} rounds of {OPS}",
        per_op[ROUNDS / 2],
        per_op[0],
        per_op[ROUNDS - 1]
    );
    Ok(())
}
