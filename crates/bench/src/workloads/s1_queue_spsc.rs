//! S1 queue_spsc: a bounded queue of capacity 1,024; one producer sends
//! 1,000,000 items, one consumer receives them.

use std::time::Instant;

use super::{Scale, Unit, Workload, nanos_per};
use crate::rt::{QueueRx, QueueTx, Rt};

/// S1.
pub(crate) struct QueueSpsc;

impl Workload for QueueSpsc {
    const ID: &'static str = "S1";
    const NAME: &'static str = "queue_spsc";
    const UNIT: Unit = Unit::lower("ns/item");
    const NOTE: Option<&'static str> = Some(
        "S1 (and S2, E4): each runtime runs its own bounded queue: tulip::sync::Queue (its \
         adapter counts senders and shuts the queue down when the last one drops), \
         tokio::sync::mpsc::channel, smol's async_channel::bounded",
    );

    fn measure<R: Rt>(scale: Scale) -> f64 {
        // Tiny sizes keep the queue small, so the full-queue path still runs.
        let (capacity, items): (usize, u64) = scale.pick((1_024, 1_000_000), (8, 2_000));
        let elapsed = R::run(async move {
            let (tx, mut rx) = R::bounded::<u64>(capacity);
            let start = Instant::now();
            let consumer = R::spawn(async move {
                let (mut received, mut sum) = (0_u64, 0_u64);
                while let Some(item) = rx.recv().await {
                    assert!(item == received, "S1: got {item}, expected {received}");
                    received += 1;
                    sum += item;
                }
                (received, sum)
            });
            let producer = R::spawn(async move {
                for item in 0..items {
                    assert!(tx.send(item).await, "S1: consumer gone");
                }
                // `tx` drops here: the consumer sees the end of the queue.
            });
            producer.await;
            let (received, sum) = consumer.await;
            let elapsed = start.elapsed();
            assert_eq!(
                (received, sum),
                (items, items * (items - 1) / 2),
                "S1: wrong count or sum of items"
            );
            elapsed
        });
        nanos_per(elapsed, items)
    }
}
