//! S2 queue_mpsc: the same bounded queue as S1 (capacity 1,024); 8
//! producers send 1,000,000 items in all, one consumer receives them.

use std::time::Instant;

use super::{Scale, Unit, Workload, nanos_per};
use crate::rt::{QueueRx, QueueTx, Rt};

/// S2.
pub(crate) struct QueueMpsc;

/// Producers.
const PRODUCERS: u64 = 8;

impl Workload for QueueMpsc {
    const ID: &'static str = "S2";
    const NAME: &'static str = "queue_mpsc";
    const UNIT: Unit = Unit::lower("ns/item");

    fn measure<R: Rt>(scale: Scale) -> f64 {
        // Tiny sizes keep the queue small, so the full-queue path still runs.
        let (capacity, items): (usize, u64) = scale.pick((1_024, 1_000_000), (8, 2_000));
        assert_eq!(items % PRODUCERS, 0, "S2: items must split evenly");
        let per_producer = items / PRODUCERS;
        let elapsed = R::run(async move {
            let (tx, mut rx) = R::bounded::<u64>(capacity);
            let start = Instant::now();
            let consumer = R::spawn(async move {
                // Producer `p` sends `p * per_producer ..` in order; each
                // one's items must arrive in that order.
                let mut next: Vec<u64> = (0..PRODUCERS).map(|p| p * per_producer).collect();
                let (mut received, mut sum) = (0_u64, 0_u64);
                while let Some(item) = rx.recv().await {
                    let expected = &mut next[(item / per_producer) as usize];
                    assert!(item == *expected, "S2: got {item}, expected {expected}");
                    *expected += 1;
                    received += 1;
                    sum += item;
                }
                (received, sum)
            });
            let producers: Vec<_> = (0..PRODUCERS)
                .map(|p| {
                    let tx = tx.clone();
                    R::spawn(async move {
                        for item in p * per_producer..(p + 1) * per_producer {
                            assert!(tx.send(item).await, "S2: consumer gone");
                        }
                    })
                })
                .collect();
            // Only the producers' clones remain: the queue ends with the last.
            drop(tx);
            for producer in producers {
                producer.await;
            }
            let (received, sum) = consumer.await;
            let elapsed = start.elapsed();
            assert_eq!(
                (received, sum),
                (items, items * (items - 1) / 2),
                "S2: wrong count or sum of items"
            );
            elapsed
        });
        nanos_per(elapsed, items)
    }
}
