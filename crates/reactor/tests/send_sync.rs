//! Auto traits of every public type.

use std::os::unix::net::UnixStream;

use tulip_reactor::{Async, Clock, ClockError, EnterGuard, NoReactor, Reactor, Timer};

fn send_sync<T: Send + Sync>() {}
fn unpin<T: Unpin>() {}

#[test]
fn public_types_are_send_sync_where_promised() {
    send_sync::<Reactor>();
    send_sync::<Clock>();
    send_sync::<ClockError>();
    send_sync::<NoReactor>();
    send_sync::<Timer>();
    unpin::<Timer>();
    send_sync::<Async<UnixStream>>();
    unpin::<Async<UnixStream>>();
}

#[test]
fn futures_are_send() {
    fn send<T: Send>(_: T) {}
    let reactor = Reactor::new().unwrap();
    let (a, _b) = UnixStream::pair().unwrap();
    let a = Async::with_reactor(a, &reactor).unwrap();
    send(a.readable());
    send(a.writable());
    send(a.read_with(|_| Ok(())));
    send(a.write_with(|_| Ok(())));
    send(Timer::after(std::time::Duration::ZERO));
}

/// `EnterGuard` is `!Send`: the current reactor is per thread.
#[allow(dead_code)]
fn enter_guard_is_not_send() {
    trait AmbiguousIfSend<A> {
        fn some_item() {}
    }
    impl<T: ?Sized> AmbiguousIfSend<()> for T {}
    #[allow(dead_code)]
    struct Invalid;
    impl<T: ?Sized + Send> AmbiguousIfSend<Invalid> for T {}
    // Compiles only if EnterGuard is !Send (otherwise the call is ambiguous).
    let _ = <EnterGuard as AmbiguousIfSend<_>>::some_item;
}
