//! `#[tulip::main]` and `#[tulip::test]`: what they run on, and the compile
//! errors for misuse (trybuild; the expected messages are in tests/ui).

use std::time::Duration;

#[tulip::test]
async fn a_test_runs_on_an_event_loop() {
    let handle = tulip::Handle::current().unwrap();
    assert!(!handle.is_multi_thread());
    // spawn_local works: this is the loop.
    let local = tulip::spawn_local(async { std::rc::Rc::new(5) });
    assert_eq!(*local.await.unwrap(), 5);
}

#[tulip::test(virtual_time)]
async fn virtual_time_jumps_over_sleeps() {
    // Checked first: on the real clock the sleep below would take an hour.
    let reactor = tulip::reactor::Reactor::current().unwrap();
    assert!(reactor.clock().is_virtual());
    let handle = tulip::Handle::current().unwrap();
    let start = handle.time();
    tulip::sleep(Duration::from_secs(3600)).await;
    assert_eq!(handle.time() - start, Duration::from_secs(3600));
}

#[tulip::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_multi_thread_test_runs_on_the_runtime() {
    assert!(tulip::Handle::current().unwrap().is_multi_thread());
    let name = tulip::spawn(async { std::thread::current().name().map(str::to_owned) });
    assert!(name.await.unwrap().unwrap().starts_with("tulip-worker-"));
}

#[tulip::test]
async fn a_test_may_return_a_result() -> Result<(), tulip::JoinError> {
    let value = tulip::spawn(async { 1 }).await?;
    assert_eq!(value, 1);
    Ok(())
}

#[tulip::test]
#[should_panic(expected = "the original message")]
async fn a_panic_keeps_its_message() {
    panic!("the original message");
}

#[test]
fn misuse_is_a_compile_error_that_says_what_to_write() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
