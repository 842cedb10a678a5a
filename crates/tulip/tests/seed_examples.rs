//! Snapshot tests of the seed examples: each example of `examples/` (a
//! module of the tour) has its output compared with
//! `tests/snapshots/seed_examples__<example>.snap`, reviewed against what the
//! Python program it ports prints, and the whole tour's with
//! `seed_examples__tour.snap`.

// Every example declares its own `mod common` so that it also builds alone;
// included together here, the helpers are compiled once per example.
#![allow(clippy::duplicate_mod)]

use std::error::Error;
use std::io::Write;

// The tour declares every example as a module of its own; the tests call
// each one's `run`, and the tour's.
// The tour's `main` is for running it alone.
#[allow(dead_code)]
#[path = "../../../examples/tour.rs"]
mod tour;

use tour::{
    async_iterator, bounded_semaphore, call_later, callbacks_vs_coroutines, compute_print_sum,
    condition_notify, condition_wait_for, echo_logging, echo_protocol, echo_streams, event_missed,
    event_waiters, file_upload, gather_factorials, gather_return_exceptions, introspection,
    lock_async_with, lock_call_later, queue_producer_consumer, race_counter, race_mock_socket,
    run_coroutine_threadsafe, say_after, semaphore_http, semaphore_limit, shield,
    subprocess_pipeline, subprocess_shell, subprocess_timeout, taxi_simulation, udp_echo,
    wait_for_timeout, wait_return_when,
};

/// An example's entry point: runs it, printing to the writer.
type Example = fn(&mut dyn Write) -> Result<(), Box<dyn Error>>;

/// Runs an example and returns what it printed.
fn output(run: Example) -> String {
    let mut printed = Vec::new();
    if let Err(error) = run(&mut printed) {
        panic!("the example failed: {error}");
    }
    match String::from_utf8(printed) {
        Ok(text) => text,
        Err(error) => panic!("the example printed invalid UTF-8: {error}"),
    }
}

/// Replaces the number of every default task name (`Task-17`) with `N`:
/// tasks are numbered process-wide, as in asyncio, so the numbers depend on
/// which tests ran first.
fn redact_task_numbers(text: &str) -> String {
    let mut redacted = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("Task-") {
        let (before, after) = rest.split_at(at + "Task-".len());
        redacted.push_str(before);
        let digits = after.len() - after.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits > 0 {
            redacted.push('N');
        }
        rest = &after[digits..];
    }
    redacted.push_str(rest);
    redacted
}

#[test]
fn callbacks_vs_coroutines() {
    insta::assert_snapshot!(output(callbacks_vs_coroutines::run));
}

#[test]
fn compute_print_sum() {
    insta::assert_snapshot!(output(compute_print_sum::run));
}

#[test]
fn async_iterator() {
    insta::assert_snapshot!(output(async_iterator::run));
}

/// The whole tour, headings and all, as `cargo run --example tour` prints it.
#[test]
fn tour() {
    insta::assert_snapshot!(redact_task_numbers(&output(tour::run)));
}

#[test]
fn call_later() {
    insta::assert_snapshot!(output(call_later::run));
}

#[test]
fn taxi_simulation() {
    insta::assert_snapshot!(output(taxi_simulation::run));
}

#[test]
fn say_after() {
    insta::assert_snapshot!(output(say_after::run));
}

#[test]
fn gather_factorials() {
    insta::assert_snapshot!(output(gather_factorials::run));
}

#[test]
fn gather_return_exceptions() {
    insta::assert_snapshot!(output(gather_return_exceptions::run));
}

#[test]
fn shield() {
    insta::assert_snapshot!(output(shield::run));
}

#[test]
fn wait_for_timeout() {
    insta::assert_snapshot!(output(wait_for_timeout::run));
}

#[test]
fn wait_return_when() {
    insta::assert_snapshot!(output(wait_return_when::run));
}

#[test]
fn run_coroutine_threadsafe() {
    insta::assert_snapshot!(output(run_coroutine_threadsafe::run));
}

#[test]
fn introspection() {
    insta::assert_snapshot!(redact_task_numbers(&output(introspection::run)));
}

#[test]
fn lock_async_with() {
    insta::assert_snapshot!(output(lock_async_with::run));
}

#[test]
fn lock_call_later() {
    insta::assert_snapshot!(output(lock_call_later::run));
}

#[test]
fn race_counter() {
    insta::assert_snapshot!(output(race_counter::run));
}

#[test]
fn race_mock_socket() {
    insta::assert_snapshot!(output(race_mock_socket::run));
}

#[test]
fn event_waiters() {
    insta::assert_snapshot!(output(event_waiters::run));
}

#[test]
fn event_missed() {
    insta::assert_snapshot!(output(event_missed::run));
}

#[test]
fn condition_notify() {
    insta::assert_snapshot!(output(condition_notify::run));
}

#[test]
fn condition_wait_for() {
    insta::assert_snapshot!(output(condition_wait_for::run));
}

#[test]
fn semaphore_limit() {
    insta::assert_snapshot!(output(semaphore_limit::run));
}

#[test]
fn bounded_semaphore() {
    insta::assert_snapshot!(output(bounded_semaphore::run));
}

#[test]
fn queue_producer_consumer() {
    insta::assert_snapshot!(output(queue_producer_consumer::run));
}

#[test]
fn redaction_keeps_everything_but_task_numbers() {
    assert_eq!(
        redact_task_numbers("['Task-12', 'Task-', 'worker-1'] Task-3"),
        "['Task-N', 'Task-', 'worker-1'] Task-N"
    );
}

#[test]
fn echo_streams() {
    insta::assert_snapshot!(output(echo_streams::run));
}

#[test]
fn echo_logging() {
    insta::assert_snapshot!(output(echo_logging::run));
}

#[test]
fn echo_protocol() {
    insta::assert_snapshot!(output(echo_protocol::run));
}

#[test]
fn udp_echo() {
    insta::assert_snapshot!(output(udp_echo::run));
}

#[test]
fn file_upload() {
    insta::assert_snapshot!(output(file_upload::run));
}

#[test]
fn semaphore_http() {
    insta::assert_snapshot!(output(semaphore_http::run));
}

#[test]
fn subprocess_shell() {
    insta::assert_snapshot!(output(subprocess_shell::run));
}

#[test]
fn subprocess_pipeline() {
    insta::assert_snapshot!(output(subprocess_pipeline::run));
}

#[test]
fn subprocess_timeout() {
    insta::assert_snapshot!(output(subprocess_timeout::run));
}
