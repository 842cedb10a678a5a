//! Signal handlers and streams of arrivals on the loop, and streams on the
//! multi-thread runtime (`TULIP_TEST_RUNTIME` chooses where the tests that
//! need no loop run).
//!
//! Signals are process-wide and the tests of this binary run in parallel
//! threads, so each test uses its own signal number (the two that send
//! SIGUSR1 take turns), and a signal whose default action would kill the
//! process is never sent while it may be unhandled.

use std::cell::{Cell, RefCell};
use std::future::poll_fn;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::task::{Context, Waker};
use std::thread::{self, ThreadId};
use std::time::Duration;

use futures_core::Stream;
use tulip_executor::{EventLoop, timeout};
use tulip_process::signal::{
    SignalError, Signals, add_signal_handler, remove_signal_handler, signal,
};
use tulip_sync::Event;

/// Bound on every wait for an arrival.
const WAIT: Duration = Duration::from_secs(10);

/// Sends `signum` to this process.
fn raise(signum: i32) {
    // SAFETY: kill(2) on our own pid with a valid signal number has no memory
    // effects; the tests only send signals handled at that moment.
    let sent = unsafe { libc::kill(libc::getpid(), signum) };
    assert_eq!(sent, 0, "kill failed: {}", std::io::Error::last_os_error());
}

/// The current `sa_sigaction` (handler address, `SIG_DFL` or `SIG_IGN`) of `signum`.
fn disposition(signum: i32) -> libc::sighandler_t {
    // SAFETY: all-zeroes is a valid `sigaction` to be overwritten.
    let mut current: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: a null new action only queries; `current` is valid for writing.
    let queried = unsafe { libc::sigaction(signum, std::ptr::null(), &raw mut current) };
    assert_eq!(queried, 0, "sigaction failed");
    current.sa_sigaction
}

/// Sets `handler` (an address, `SIG_DFL` or `SIG_IGN`) for `signum`.
fn set_disposition(signum: i32, handler: libc::sighandler_t) {
    // SAFETY: all-zeroes is a valid `sigaction` (empty mask, no flags).
    let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
    action.sa_sigaction = handler;
    // SAFETY: `action` is valid for reading; the handlers the tests pass are
    // `SIG_DFL`, `SIG_IGN` or the async-signal-safe `count_profiling`.
    let set = unsafe { libc::sigaction(signum, &raw const action, std::ptr::null_mut()) };
    assert_eq!(set, 0, "sigaction failed");
}

#[path = "../../streams/tests/common/mod.rs"]
mod common;

/// Runs `future` on a fresh runtime of the kind `TULIP_TEST_RUNTIME` chooses.
fn run<F: Future + 'static>(future: F) -> F::Output
where
    F::Output: 'static,
{
    common::block_on(future).expect("the test future completes")
}

/// Runs `future` on a fresh event loop, whatever `TULIP_TEST_RUNTIME` says:
/// `add_signal_handler` needs one.
fn run_on_loop<F: Future + 'static>(future: F) -> F::Output
where
    F::Output: 'static,
{
    EventLoop::new()
        .expect("an event loop")
        .run_until_complete(future)
        .expect("the test future completes")
}

/// Held by each test that sends SIGUSR1, so that one's arrivals do not reach
/// the other's handler.
static SIGUSR1_TURN: Mutex<()> = Mutex::new(());

#[test]
fn a_handler_runs_on_the_loop_thread_once_per_sigusr1() {
    let _turn = SIGUSR1_TURN.lock().unwrap_or_else(PoisonError::into_inner);
    let loop_thread = thread::current().id();
    run_on_loop(async move {
        let calls: Rc<RefCell<Vec<ThreadId>>> = Rc::default();
        let arrived = Rc::new(Event::new());
        let (record, notify) = (calls.clone(), arrived.clone());
        add_signal_handler(libc::SIGUSR1, move || {
            record.borrow_mut().push(thread::current().id());
            notify.set();
        })
        .unwrap();
        assert_ne!(disposition(libc::SIGUSR1), libc::SIG_DFL);
        assert!(
            calls.borrow().is_empty(),
            "called before any signal was sent"
        );

        raise(libc::SIGUSR1);
        timeout(WAIT, arrived.wait()).await.expect("first arrival");
        assert_eq!(*calls.borrow(), [loop_thread]);

        // Sent only after the first was handled, so the OS cannot coalesce them.
        arrived.clear();
        raise(libc::SIGUSR1);
        timeout(WAIT, arrived.wait()).await.expect("second arrival");
        assert_eq!(*calls.borrow(), [loop_thread, loop_thread]);

        assert!(remove_signal_handler(libc::SIGUSR1).unwrap());
        assert_eq!(disposition(libc::SIGUSR1), libc::SIG_DFL);
    });
}

#[test]
fn streams_on_one_loop_each_receive_every_arrival() {
    run(async {
        let mut first = signal(libc::SIGURG).unwrap();
        let mut second = signal(libc::SIGURG).unwrap();
        assert_eq!(first.signum(), libc::SIGURG);
        let cx = &mut Context::from_waker(Waker::noop());
        assert!(first.poll_recv(cx).is_pending(), "nothing was sent yet");

        raise(libc::SIGURG);
        assert_eq!(timeout(WAIT, first.recv()).await, Ok(Some(())));
        assert_eq!(timeout(WAIT, second.recv()).await, Ok(Some(())));

        // The second arrival through the `Stream` implementation.
        raise(libc::SIGURG);
        let next = poll_fn(|cx| Pin::new(&mut first).poll_next(cx));
        assert_eq!(timeout(WAIT, next).await, Ok(Some(())));
        assert_eq!(timeout(WAIT, second.recv()).await, Ok(Some(())));

        // Exactly one item per arrival: nothing more is buffered.
        assert!(first.poll_recv(cx).is_pending());
        assert!(second.poll_recv(cx).is_pending());
    });
}

#[test]
fn streams_on_two_loops_in_two_threads_both_receive_an_arrival() {
    let (ready, subscribed) = mpsc::channel();
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let ready = ready.clone();
            thread::spawn(move || {
                run(async move {
                    let mut window_changes = signal(libc::SIGWINCH).unwrap();
                    ready.send(()).unwrap();
                    timeout(WAIT, window_changes.recv()).await
                })
            })
        })
        .collect();
    for _ in 0..2 {
        subscribed
            .recv_timeout(WAIT)
            .expect("both loops subscribed");
    }
    raise(libc::SIGWINCH);
    for thread in threads {
        assert_eq!(thread.join().unwrap(), Ok(Some(())));
    }
}

#[test]
fn removing_the_last_subscription_restores_the_default_disposition() {
    let signum = libc::SIGUSR2; // never delivered: its default action kills
    assert_eq!(disposition(signum), libc::SIG_DFL);
    run_on_loop(async move {
        add_signal_handler(signum, || {}).unwrap();
        assert_ne!(disposition(signum), libc::SIG_DFL);
        assert!(remove_signal_handler(signum).unwrap());
        assert_eq!(disposition(signum), libc::SIG_DFL);
        assert!(!remove_signal_handler(signum).unwrap());

        // A replaced handler, then a stream: the disposition stays ours until
        // the last of them goes.
        add_signal_handler(signum, || {}).unwrap();
        add_signal_handler(signum, || {}).unwrap();
        let stream = signal(signum).unwrap();
        assert!(remove_signal_handler(signum).unwrap());
        assert!(!remove_signal_handler(signum).unwrap());
        assert_ne!(disposition(signum), libc::SIG_DFL);
        drop(stream);
        assert_eq!(disposition(signum), libc::SIG_DFL);
    });
}

static PROFILING_SIGNALS: AtomicUsize = AtomicUsize::new(0);

extern "C" fn count_profiling(_: libc::c_int) {
    PROFILING_SIGNALS.fetch_add(1, Ordering::SeqCst);
}

#[test]
fn the_previous_disposition_comes_back_not_the_default() {
    let signum = libc::SIGPROF;
    run(async move {
        set_disposition(signum, libc::SIG_IGN);
        let stream = signal(signum).unwrap();
        assert_ne!(disposition(signum), libc::SIG_IGN);
        drop(stream);
        assert_eq!(disposition(signum), libc::SIG_IGN);

        let counter = count_profiling as extern "C" fn(libc::c_int) as libc::sighandler_t;
        set_disposition(signum, counter);
        let mut stream = signal(signum).unwrap();
        raise(signum);
        assert_eq!(timeout(WAIT, stream.recv()).await, Ok(Some(())));
        assert_eq!(
            PROFILING_SIGNALS.load(Ordering::SeqCst),
            0,
            "tulip's handler replaced the previous one"
        );
        drop(stream);
        assert_eq!(disposition(signum), counter);
        raise(signum);
        // Handled by `count_profiling` in signal context (on Linux before
        // `kill` returns); no loop is involved, so wait with a bounded spin.
        let deadline = std::time::Instant::now() + WAIT;
        while PROFILING_SIGNALS.load(Ordering::SeqCst) == 0 && std::time::Instant::now() < deadline
        {
            thread::yield_now();
        }
        assert_eq!(PROFILING_SIGNALS.load(Ordering::SeqCst), 1);
        set_disposition(signum, libc::SIG_DFL);
    });
}

#[test]
fn a_new_handler_replaces_the_old_one_and_may_remove_itself() {
    let signum = libc::SIGCHLD; // no test of this binary spawns children
    run_on_loop(async move {
        let old_calls = Rc::new(Cell::new(0));
        let new_calls = Rc::new(Cell::new(0));
        let arrived = Rc::new(Event::new());
        let old = old_calls.clone();
        add_signal_handler(signum, move || old.set(old.get() + 1)).unwrap();
        let (new, notify) = (new_calls.clone(), arrived.clone());
        add_signal_handler(signum, move || {
            new.set(new.get() + 1);
            // asyncio allows a handler to remove itself.
            assert_eq!(remove_signal_handler(signum).ok(), Some(true));
            notify.set();
        })
        .unwrap();
        raise(signum);
        timeout(WAIT, arrived.wait()).await.expect("an arrival");
        assert_eq!((old_calls.get(), new_calls.get()), (0, 1));
        assert!(!remove_signal_handler(signum).unwrap());
    });
}

#[test]
fn a_panicking_handler_stays_installed() {
    let signum = libc::SIGVTALRM;
    run_on_loop(async move {
        let calls = Rc::new(Cell::new(0));
        let arrived = Rc::new(Event::new());
        let (count, notify) = (calls.clone(), arrived.clone());
        add_signal_handler(signum, move || {
            count.set(count.get() + 1);
            notify.set();
            if count.get() == 1 {
                panic!("the first call panics");
            }
        })
        .unwrap();
        raise(signum);
        timeout(WAIT, arrived.wait()).await.expect("first arrival");
        arrived.clear();
        raise(signum);
        timeout(WAIT, arrived.wait()).await.expect("second arrival");
        assert_eq!(calls.get(), 2);
        assert!(remove_signal_handler(signum).unwrap());
    });
}

#[test]
fn on_the_runtime_the_signal_stream_delivers_sigusr1_to_every_thread() {
    let _turn = SIGUSR1_TURN.lock().unwrap_or_else(PoisonError::into_inner);
    let runtime = common::multi_thread();
    let outcome = runtime.block_on(async {
        // One subscription made on a worker, one on the thread of `block_on`.
        let subscribed = Arc::new(Event::new());
        let on_worker = tulip_executor::spawn({
            let subscribed = subscribed.clone();
            async move {
                let mut arrivals = signal(libc::SIGUSR1).unwrap();
                subscribed.set();
                let first = timeout(WAIT, arrivals.recv()).await;
                (first, thread::current().id())
            }
        });
        let mut arrivals = signal(libc::SIGUSR1).unwrap();
        timeout(WAIT, subscribed.wait()).await.expect("subscribed");
        raise(libc::SIGUSR1);
        assert_eq!(timeout(WAIT, arrivals.recv()).await, Ok(Some(())));
        let (first, worker) = on_worker.await.expect("the worker's task");
        assert_eq!(first, Ok(Some(())));
        assert_ne!(worker, thread::current().id(), "spawned onto a worker");

        // Another arrival, after the first was taken: exactly one more item.
        raise(libc::SIGUSR1);
        assert_eq!(timeout(WAIT, arrivals.recv()).await, Ok(Some(())));
        let cx = &mut Context::from_waker(Waker::noop());
        assert!(arrivals.poll_recv(cx).is_pending());
    });
    outcome.expect("the runtime ran the test");
}

#[test]
fn on_the_runtime_add_signal_handler_needs_an_event_loop() {
    let signum = libc::SIGTERM; // never sent: nothing is installed
    let before = disposition(signum);
    let runtime = common::multi_thread();
    runtime
        .block_on(async move {
            assert!(matches!(
                add_signal_handler(signum, || {}),
                Err(SignalError::NeedsEventLoop)
            ));
            // Nor from a task on a worker.
            let on_worker = tulip_executor::spawn(async move {
                matches!(
                    add_signal_handler(signum, || {}),
                    Err(SignalError::NeedsEventLoop)
                )
            });
            assert!(on_worker.await.expect("the worker's task"));
            assert!(!remove_signal_handler(signum).unwrap(), "none was set");
            assert_eq!(disposition(signum), before, "nothing was installed");
        })
        .expect("the runtime ran the test");
}

#[test]
fn bad_signal_numbers_give_typed_errors() {
    run(async {
        let forbidden = [
            libc::SIGKILL,
            libc::SIGSTOP,
            libc::SIGSEGV,
            libc::SIGBUS,
            libc::SIGILL,
            libc::SIGFPE,
        ];
        for signum in forbidden {
            assert!(matches!(signal(signum), Err(SignalError::Forbidden(s)) if s == signum));
            assert!(matches!(
                add_signal_handler(signum, || {}),
                Err(SignalError::Forbidden(s)) if s == signum
            ));
            assert!(matches!(
                remove_signal_handler(signum),
                Err(SignalError::Forbidden(s)) if s == signum
            ));
        }
        // glibc keeps 32 and 33 for itself: in range, but `sigaction` refuses them.
        let reserved: &[i32] = if cfg!(all(target_os = "linux", target_env = "gnu")) {
            &[32, 33]
        } else {
            &[]
        };
        for &signum in [0, -1, 65, 1000, i32::MIN, i32::MAX].iter().chain(reserved) {
            assert!(matches!(signal(signum), Err(SignalError::InvalidSignal(s)) if s == signum));
            assert!(matches!(
                add_signal_handler(signum, || {}),
                Err(SignalError::InvalidSignal(s)) if s == signum
            ));
            assert!(matches!(
                remove_signal_handler(signum),
                Err(SignalError::InvalidSignal(s)) if s == signum
            ));
        }
    });
}

#[test]
fn outside_a_loop_there_is_no_running_loop() {
    let signum = libc::SIGHUP;
    let before = disposition(signum);
    assert!(matches!(
        add_signal_handler(signum, || {}),
        Err(SignalError::NoRunningLoop)
    ));
    assert!(matches!(
        remove_signal_handler(signum),
        Err(SignalError::NoRunningLoop)
    ));
    assert!(matches!(signal(signum), Err(SignalError::NoRunningLoop)));
    assert_eq!(disposition(signum), before, "nothing was installed");
}

#[test]
fn public_types_are_send_sync_and_unpin() {
    fn assert_traits<T: Send + Sync + Unpin + 'static>() {}
    assert_traits::<Signals>();
    assert_traits::<SignalError>();
}
