//! E4 ping_pong: two tasks pass a token back and forth 1,000,000 times
//! through two capacity-1 queues (each runtime's own bounded queue, see
//! [`crate::rt::Rt::bounded`]: `tulip::sync::Queue`, tokio's `mpsc::channel`,
//! smol's `async_channel`).

use std::time::Instant;

use super::{Scale, Unit, Workload, nanos_per};
use crate::rt::{QueueRx, QueueTx, Rt};

/// E4.
pub(crate) struct PingPong;

impl Workload for PingPong {
    const ID: &'static str = "E4";
    const NAME: &'static str = "ping_pong";
    const UNIT: Unit = Unit::lower("ns/round trip");

    fn measure<R: Rt>(scale: Scale) -> f64 {
        let rounds: u64 = scale.pick(1_000_000, 1_000);
        let elapsed = R::run(async move {
            let (ping_tx, mut ping_rx) = R::bounded::<u64>(1);
            let (pong_tx, mut pong_rx) = R::bounded::<u64>(1);
            let start = Instant::now();
            // Returns each token incremented, until the pinger hangs up.
            let ponger = R::spawn(async move {
                let mut served = 0_u64;
                while let Some(token) = ping_rx.recv().await {
                    assert!(pong_tx.send(token + 1).await, "E4: pinger gone");
                    served += 1;
                }
                served
            });
            let pinger = R::spawn(async move {
                let mut token = 0_u64;
                for _ in 0..rounds {
                    assert!(ping_tx.send(token).await, "E4: ponger gone");
                    token = pong_rx.recv().await.expect("E4: ponger gone");
                }
                token
            });
            let token = pinger.await;
            let served = ponger.await;
            let elapsed = start.elapsed();
            assert_eq!((token, served), (rounds, rounds), "E4: lost a round");
            elapsed
        });
        nanos_per(elapsed, rounds)
    }
}
