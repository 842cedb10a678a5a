//! A tour of asyncio in tulip: every seed example, one after another.
//!
//! Each stop prints a heading naming the asyncio idea, then the example's
//! output (see each example's source for the Python program it ports). All
//! of them but the last nine run on virtual time; six of those use sockets
//! on 127.0.0.1 and three run child processes, so they run on the real
//! clock, and briefly: the tour takes well under a second.
//!
//! ```text
//! cargo run --example tour
//! ```

// Every example declares its own `mod common` so that it also builds alone;
// included together here, the helpers are compiled once per example.
#![allow(clippy::duplicate_mod)]

use std::error::Error;
use std::io::{self, Write};

/// An example's entry point: runs it, printing to the writer.
type Example = fn(&mut dyn Write) -> Result<(), Box<dyn Error>>;

/// Declares the stops of the tour, in order: each line names an example
/// (a file of this directory) and the heading it is shown under.
macro_rules! tour {
    ($($example:ident => $heading:literal,)*) => {
        $(
            // Only `run` is used here; each example's `main` is for running it alone.
            #[allow(dead_code)]
            pub(crate) mod $example;
        )*

        /// The stops of the tour: heading and example.
        const STOPS: &[(&str, Example)] = &[$(($heading, $example::run),)*];
    };
}

tour! {
    callbacks_vs_coroutines => "callbacks vs coroutines: three calls in a row, nested callbacks or one async fn",
    compute_print_sum => "loop.run_until_complete: a coroutine awaiting another",
    async_iterator => "async for: an asynchronous iterator and an asynchronous generator (Stream)",
    call_later => "loop.call_soon, loop.call_later, loop.call_at: callbacks on the loop",
    taxi_simulation => "a discrete-event simulation: three taxis on virtual time",
    say_after => "await vs asyncio.create_task: waiting one after another or side by side",
    gather_factorials => "asyncio.gather: running tasks concurrently",
    gather_return_exceptions => "asyncio.gather(return_exceptions=True): errors as results",
    shield => "asyncio.shield: protecting a task from cancellation",
    wait_for_timeout => "asyncio.wait_for: timeouts",
    wait_return_when => "asyncio.wait: FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED",
    run_coroutine_threadsafe => "asyncio.run_coroutine_threadsafe: submitting from another thread",
    introspection => "asyncio.current_task, asyncio.all_tasks: introspection",
    lock_async_with => "asyncio.Lock: async with lock, one holder at a time, first come first served",
    lock_call_later => "asyncio.Lock: a lock released by a call_later callback",
    race_counter => "race conditions on one thread: a counter read before an await",
    race_mock_socket => "race conditions on one thread: a dictionary changed during an await, and a Lock",
    event_waiters => "asyncio.Event: waiting until a flag is set",
    event_missed => "asyncio.Event: a flag, not a queue, so a busy worker misses events",
    condition_notify => "asyncio.Condition: notify(n) and notify_all",
    condition_wait_for => "asyncio.Condition.wait_for: waiting until a predicate holds",
    semaphore_limit => "asyncio.Semaphore: limiting concurrency",
    bounded_semaphore => "asyncio.BoundedSemaphore: releasing too many times is an error",
    queue_producer_consumer => "asyncio.Queue: producer and consumers, maxsize, task_done and join",
    echo_streams => "streams: an echo server and client (open_connection, start_server, serve_forever)",
    echo_logging => "streams with logging: write_eof, reading until EOF, a clean shutdown",
    echo_protocol => "protocols and transports: an echo server and client (loop.create_server, loop.create_connection)",
    udp_echo => "datagram protocols: a UDP echo pair (loop.create_datagram_endpoint)",
    file_upload => "asyncio.Event with streams: a file-upload server",
    semaphore_http => "asyncio.Semaphore: at most ten HTTP requests in flight",
    subprocess_shell => "subprocesses: create_subprocess_shell and communicate",
    subprocess_pipeline => "subprocesses: a pipeline through the loop",
    subprocess_timeout => "subprocesses: a child killed by timeout (wait_for, kill)",
}

/// Runs every stop of the tour, printing to `out`.
pub(crate) fn run(out: &mut dyn Write) -> Result<(), Box<dyn Error>> {
    for (number, (heading, example)) in STOPS.iter().enumerate() {
        if number > 0 {
            writeln!(out)?;
        }
        writeln!(out, "=== {heading} ===")?;
        example(out)?;
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn Error>> {
    run(&mut io::stdout().lock())
}
