//! `Event`: a state, not a queue of notifications (CPython's `EventTests`).

use std::sync::Arc;

use tulip_sync::Event;

use super::{Counter, Runtime, assert_pending, ready, settle, until};

pub(crate) fn set_wakes_every_current_waiter_even_if_cleared_at_once<R: Runtime>() {
    R::block_on(async {
        let event = Arc::new(Event::new());
        let queued = Counter::new();
        let woken = Counter::new();
        let mut tasks = Vec::new();
        for _ in 0..3 {
            let (event, queued, woken) = (Arc::clone(&event), queued.clone(), woken.clone());
            tasks.push(R::spawn(async move {
                queued.incr();
                event.wait().await;
                woken.incr();
            }));
        }
        until::<R>("the waiters are queued", || queued.get() == 3).await;
        settle::<R>().await;
        assert_eq!(woken.get(), 0);
        event.set();
        event.clear();
        assert!(!event.is_set());
        for task in tasks {
            R::output(task).await;
        }
        assert_eq!(woken.get(), 3);
    });
}

pub(crate) fn wait_after_clear_waits_for_the_next_set<R: Runtime>() {
    R::block_on(async {
        let event = Arc::new(Event::new());
        event.set();
        event.clear();
        let queued = Counter::new();
        let waiter = R::spawn({
            let (event, queued) = (Arc::clone(&event), queued.clone());
            async move {
                queued.incr();
                event.wait().await;
            }
        });
        until::<R>("the waiter is queued", || queued.get() == 1).await;
        settle::<R>().await;
        assert!(!R::is_finished(&waiter), "a cleared event does not release");
        event.set();
        R::output(waiter).await;
    });
}

pub(crate) fn wait_on_a_set_event_is_immediate<R: Runtime>() {
    R::block_on(async {
        let event = Event::new();
        let mut early = event.wait();
        assert_pending(&mut early);
        event.set();
        ready(&mut early);
        // Set: every wait returns at once, as many times as asked.
        ready(&mut event.wait());
        ready(&mut event.wait());
        event.wait().await;
        assert!(event.is_set());
    });
}

pub(crate) fn is_set_follows_set_and_clear<R: Runtime>() {
    R::block_on(async {
        let event = Event::default();
        assert!(!event.is_set());
        event.set();
        assert!(event.is_set());
        event.set();
        assert!(event.is_set());
        event.clear();
        assert!(!event.is_set());
        event.clear();
        assert!(!event.is_set());
    });
}

pub(crate) fn dropped_waiter_does_not_disturb_the_others<R: Runtime>() {
    R::block_on(async {
        let event = Arc::new(Event::new());
        let queued = Counter::new();
        let mut dropped_while_queued = event.wait();
        assert_pending(&mut dropped_while_queued);
        let task = R::spawn({
            let (event, queued) = (Arc::clone(&event), queued.clone());
            async move {
                queued.incr();
                event.wait().await;
            }
        });
        until::<R>("the task is queued", || queued.get() == 1).await;
        let mut dropped_after_set = event.wait();
        let mut kept = event.wait();
        assert_pending(&mut dropped_after_set);
        assert_pending(&mut kept);
        drop(dropped_while_queued);
        event.set();
        event.clear();
        // Woken but dropped: an event's wake-up is not exclusive, the
        // others still return.
        drop(dropped_after_set);
        ready(&mut kept);
        R::output(task).await;
        let mut later = event.wait();
        assert_pending(&mut later);
        event.set();
        ready(&mut later);
    });
}
