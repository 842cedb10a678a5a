//! Loom models of the sleep protocol: a worker's parker (on its condition
//! variable and inside the reactor) and the idle bookkeeping that decides
//! whom new work wakes. Run with `cargo xtask loom`.
//!
//! Loom explores every interleaving; a lost wake-up shows as a deadlock,
//! which loom reports, and stranded work fails the assertions.

use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use loom::sync::{Arc, Condvar, Mutex};
use loom::thread;

use super::idle::Idle;
use super::park::Parker;

/// A wake-up sent before, during or after the worker goes to sleep on its
/// condition variable always ends the sleep.
#[test]
fn loom_unpark_ends_a_condvar_park() {
    loom::model(|| {
        let (parker, unparker) = Parker::new();
        let waker = thread::spawn(move || unparker.unpark(|| {}));
        parker.park();
        waker.join().unwrap();
    });
}

/// A stand-in for the reactor: `wait` sleeps while the worker is still idle
/// and nobody interrupted it, as `Reactor::park` does with its own
/// never-lost interruption.
struct FakeReactor {
    interrupted: Mutex<bool>,
    condvar: Condvar,
}

impl FakeReactor {
    fn wait(&self, still_idle: &dyn Fn() -> bool) {
        let mut interrupted = self.interrupted.lock().unwrap();
        while !*interrupted && still_idle() {
            interrupted = self.condvar.wait(interrupted).unwrap();
        }
        *interrupted = false;
    }

    fn interrupt(&self) {
        *self.interrupted.lock().unwrap() = true;
        self.condvar.notify_all();
    }
}

/// A wake-up always ends a sleep inside the reactor: either the worker sees
/// `notified` before or while it waits, or the waker sees `in_driver` and
/// interrupts the reactor.
#[test]
fn loom_unpark_ends_a_park_inside_the_reactor() {
    loom::model(|| {
        let reactor = Arc::new(FakeReactor {
            interrupted: Mutex::new(false),
            condvar: Condvar::new(),
        });
        let (parker, unparker) = Parker::new();
        let r = reactor.clone();
        let waker = thread::spawn(move || unparker.unpark(|| r.interrupt()));
        parker.park_driving(|still_idle| reactor.wait(still_idle));
        waker.join().unwrap();
    });
}

/// Work queued while the only searcher goes to sleep is never stranded:
/// either the queuer sees no searcher and picks the sleeper to wake, or the
/// sleeper, as the last searcher, sees the work when it looks again.
#[test]
fn loom_work_queued_while_the_last_searcher_sleeps_is_seen() {
    loom::model(|| {
        let idle = Arc::new(Idle::new(2));
        // Worker 1 sleeps already; worker 0 is the one searching.
        assert!(!idle.sleep(1, false));
        assert!(idle.start_searching());
        let queued = Arc::new(AtomicUsize::new(0));
        let woken = Arc::new(AtomicBool::new(false));

        let (i, q, w) = (idle.clone(), queued.clone(), woken.clone());
        let queuer = thread::spawn(move || {
            q.fetch_add(1, SeqCst);
            if i.worker_to_notify().is_some() {
                w.store(true, SeqCst);
            }
        });

        // Worker 0 found nothing and sleeps as the last searcher.
        let last_searcher = idle.sleep(0, true);
        assert!(last_searcher);
        let seen = queued.load(SeqCst) > 0;
        queuer.join().unwrap();
        assert!(
            seen || woken.load(SeqCst),
            "the work was queued, nobody was woken and the last searcher missed it"
        );
    });
}

/// A notification takes exactly one sleeper off the list, and a worker that
/// wakes by itself then sees that it was notified (it counts as searching):
/// it never stays listed while it runs, and is never counted awake twice.
#[test]
fn loom_notified_and_self_woken_worker_agree() {
    loom::model(|| {
        let idle = Arc::new(Idle::new(1));
        assert!(!idle.sleep(0, false));
        let i = idle.clone();
        let notifier = thread::spawn(move || i.worker_to_notify());
        let was_notified = idle.wake_by_itself(0);
        let picked = notifier.join().unwrap();
        match picked {
            Some(index) => {
                assert_eq!(index, 0);
                assert!(was_notified);
            }
            None => assert!(!was_notified),
        }
        assert!(!idle.is_sleeping(0));
        // Exactly one worker awake: a new notification finds nobody to wake.
        assert_eq!(idle.worker_to_notify(), None);
    });
}
