//! Debug mode: slow callbacks and task steps are reported through tracing
//! with the task's name and spawn location.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tulip_executor::EventLoop;
use tulip_executor::task::Builder;

/// Collects what the fmt subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

fn capture(run: impl FnOnce()) -> String {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::WARN)
        .finish();
    tracing::subscriber::with_default(subscriber, run);
    captured.text()
}

#[test]
fn a_slow_task_step_is_reported_with_its_name_and_location_in_debug_mode() {
    let output = capture(|| {
        let event_loop = EventLoop::new().unwrap();
        event_loop.set_debug(true);
        event_loop.set_slow_callback_duration(Duration::from_millis(5));
        event_loop
            .run_until_complete(async {
                let slow = Builder::new()
                    .name("slowpoke")
                    .spawn(async { std::thread::sleep(Duration::from_millis(20)) })
                    .unwrap();
                slow.await.unwrap();
            })
            .unwrap();
    });
    assert!(
        output.contains("Executing task slowpoke (spawned at"),
        "{output}"
    );
    assert!(output.contains("tests/debug.rs"), "{output}");
}

#[test]
fn nothing_is_reported_without_debug_mode() {
    let output = capture(|| {
        let event_loop = EventLoop::new().unwrap();
        assert!(!event_loop.get_debug());
        event_loop.set_slow_callback_duration(Duration::from_millis(1));
        event_loop
            .run_until_complete(async { std::thread::sleep(Duration::from_millis(5)) })
            .unwrap();
    });
    assert!(!output.contains("Executing"), "{output}");
}

#[test]
fn an_unretrieved_panic_reaches_tracing_by_default() {
    let output = capture(|| {
        let event_loop = EventLoop::new().unwrap();
        event_loop
            .run_until_complete(async {
                Builder::new()
                    .name("lost")
                    .spawn(async { panic!("oh no") })
                    .unwrap()
                    .detach();
                tulip_executor::yield_now().await;
            })
            .unwrap();
    });
    assert!(
        output.contains("Task exception was never retrieved: oh no"),
        "{output}"
    );
    assert!(output.contains("lost"), "{output}");
}

#[test]
fn the_builder_starts_a_loop_in_debug_mode_with_its_threshold() {
    let plain = EventLoop::builder().build().unwrap();
    assert!(!plain.get_debug());
    assert_eq!(plain.slow_callback_duration(), Duration::from_millis(100));
    let output = capture(|| {
        let event_loop = EventLoop::builder()
            .debug(true)
            .slow_callback_duration(Duration::from_millis(5))
            .build()
            .unwrap();
        assert!(event_loop.get_debug());
        assert_eq!(
            event_loop.slow_callback_duration(),
            Duration::from_millis(5)
        );
        event_loop
            .run_until_complete(async {
                let slow = Builder::new()
                    .name("built_slow")
                    .spawn(async { std::thread::sleep(Duration::from_millis(20)) })
                    .unwrap();
                slow.await.unwrap();
            })
            .unwrap();
    });
    assert!(
        output.contains("Executing task built_slow (spawned at"),
        "{output}"
    );
}
