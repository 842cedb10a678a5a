//! `asyncio.Queue`: a bounded queue between a producer and two consumers,
//! with stop signals, `task_done` and `join`.
//!
//! Seed 000's Queue example: the producer puts six numbers into a queue that
//! holds two at most, so it waits whenever the consumers fall behind; then
//! one `None` per consumer to stop it, and it waits (`join`) until every item
//! has been marked done. A consumer takes `n` hundredths of a second over
//! item `n`.
//!
//! ```python
//! async def consumer(n, q):
//!     print(f'consumer {n}: starting')
//!     while True:
//!         print(f'consumer {n}: waiting for item')
//!         item = await q.get()
//!         print(f'consumer {n}: has item {item}')
//!         # None is the stop signal
//!         if item is None:
//!             q.task_done()
//!             break
//!         else:
//!             await asyncio.sleep(0.01 * item)
//!             q.task_done()
//!     print(f'consumer {n}: ending')
//!
//! async def producer(q, num_workers):
//!     print('producer: starting')
//!     # Put some numbers into the queue
//!     for i in range(num_workers * 3):
//!         await q.put(i)
//!         print(f'producer: added task {i} to the queue')
//!     # Then the stop signals
//!     print('producer: adding stop signals to the queue')
//!     for i in range(num_workers):
//!         await q.put(None)
//!     print('producer: waiting for queue to empty')
//!     await q.join()
//!     print('producer: ending')
//!
//! async def main(loop, num_consumers):
//!     # A queue of fixed size: the producer waits while it is full,
//!     # until a consumer takes an item out
//!     q = asyncio.Queue(maxsize=num_consumers)
//!
//!     consumers = [loop.create_task(consumer(i, q)) for i in range(num_consumers)]
//!
//!     prod = loop.create_task(producer(q, num_consumers))
//!
//!     await asyncio.gather(*consumers, prod)
//!
//! event_loop = asyncio.get_event_loop()
//! try:
//!     event_loop.run_until_complete(main(event_loop, 2))
//! finally:
//!     event_loop.close()
//! ```
//!
//! (The comments are translated from the seed's Chinese.) The items are
//! `Option<u64>`, `None` being the stop signal, printed as Python prints it.
//! `put`, `get` and `task_done` return errors that asyncio raises as
//! exceptions (a shut-down queue, `task_done` called too often); neither
//! can happen here, and each task passes them on with `?`.
//!
//! The output is line for line what Python prints.

// The tour and the snapshot tests include this file as a module too.
#[path = "common/mod.rs"]
mod common;

use std::error::Error;
use std::io::{self, Write};
use std::sync::Arc;
use std::time::Duration;

use common::{Transcript, say};
use tulip::sync::Queue;

/// An item: a number to work on, or `None` to stop.
type Item = Option<u64>;

/// What a task of the example can fail with.
type TaskError = Box<dyn Error + Send + Sync>;

/// An item as Python prints it.
fn py_item(item: Item) -> String {
    match item {
        Some(number) => number.to_string(),
        None => "None".to_owned(),
    }
}

/// Takes items until the stop signal, working `0.01 * item` seconds on each.
async fn consumer(out: Transcript, n: u64, q: Arc<Queue<Item>>) -> Result<(), TaskError> {
    say!(out, "consumer {n}: starting");
    loop {
        say!(out, "consumer {n}: waiting for item");
        let item = q.get().await?;
        say!(out, "consumer {n}: has item {}", py_item(item));
        match item {
            None => {
                q.task_done()?;
                break;
            }
            Some(number) => {
                tulip::sleep(Duration::from_millis(10 * number)).await;
                q.task_done()?;
            }
        }
    }
    say!(out, "consumer {n}: ending");
    Ok(())
}

/// Puts three numbers per worker, then one stop signal per worker, and waits
/// until all of them have been marked done.
async fn producer(out: Transcript, q: Arc<Queue<Item>>, num_workers: u64) -> Result<(), TaskError> {
    say!(out, "producer: starting");
    for i in 0..num_workers * 3 {
        q.put(Some(i)).await?;
        say!(out, "producer: added task {i} to the queue");
    }
    say!(out, "producer: adding stop signals to the queue");
    for _ in 0..num_workers {
        q.put(None).await?;
    }
    say!(out, "producer: waiting for queue to empty");
    q.join().await;
    say!(out, "producer: ending");
    Ok(())
}

/// The seed's `main`: the consumers, then the producer, on a queue of
/// `num_consumers` items at most.
async fn main_task(out: Transcript, num_consumers: u64) -> Result<(), TaskError> {
    // `maxsize` is a `usize`; two consumers fit in any of them.
    let q = Arc::new(Queue::new(usize::try_from(num_consumers)?));

    let mut tasks: Vec<_> = (0..num_consumers)
        .map(|n| tulip::spawn(consumer(out.clone(), n, Arc::clone(&q))))
        .collect();

    tasks.push(tulip::spawn(producer(
        out.clone(),
        Arc::clone(&q),
        num_consumers,
    )));

    for result in tulip::gather_all(tasks).await {
        result??;
    }
    Ok(())
}

/// Runs the example, printing to `out`.
pub(crate) fn run(out: &mut dyn Write) -> Result<(), Box<dyn Error>> {
    let transcript = Transcript::new();
    let event_loop = tulip::EventLoop::builder().virtual_time().build()?;
    event_loop
        .run_until_complete(main_task(transcript.clone(), 2))?
        .map_err(|error| -> Box<dyn Error> { error })?;
    Ok(transcript.write_to(out)?)
}

fn main() -> Result<(), Box<dyn Error>> {
    run(&mut io::stdout().lock())
}
