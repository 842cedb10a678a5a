//! Connecting: name resolution off the loop ([`lookup_host`]) and TCP connections
//! raced across the resolved addresses with Happy Eyeballs ([`connect_tcp`],
//! [`connect_tcp_addrs`]), as asyncio's `loop.create_connection` does with
//! `happy_eyeballs_delay` and `interleave`.

use std::fmt;
use std::future::{Future, poll_fn};
use std::io;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::path::Path;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use tulip_executor::sleep;
use tulip_executor::time::Sleep;
use tulip_reactor::net::{ConnectOptions, TcpStream, UnixStream};

/// The delay between two connection attempts that [`ConnectConfig::new`] uses: 250 ms,
/// the value RFC 8305 and asyncio's documentation recommend.
pub const DEFAULT_HAPPY_EYEBALLS_DELAY: Duration = Duration::from_millis(250);

/// Resolves `host` to the socket addresses for `port`, in the resolver's order
/// (asyncio's `loop.getaddrinfo` for a stream socket).
///
/// An IP literal (`"127.0.0.1"`, `"::1"`, `"[::1]"`) is parsed at once; any other name
/// is resolved with the system resolver (`getaddrinfo`) on the loop's blocking pool,
/// so the loop keeps running meanwhile. Duplicates are removed, order is kept.
///
/// Call it on a running event loop: the blocking pool is the running loop's.
///
/// # Errors
///
/// The resolver's error (a name that does not exist is usually
/// [`io::ErrorKind::Other`] or [`io::ErrorKind::NotFound`] with the resolver's
/// message), [`io::ErrorKind::NotFound`] naming `host` if it resolves to no
/// address, or [`io::ErrorKind::Other`] if the resolving job was cancelled or
/// panicked.
///
/// ```
/// let event_loop = tulip_executor::EventLoop::new()?;
/// let addrs = event_loop.run_until_complete(tulip_streams::lookup_host("localhost", 8080))??;
/// assert!(addrs.iter().all(|addr| addr.port() == 8080 && addr.ip().is_loopback()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub async fn lookup_host(host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
    if let Some(ip) = parse_ip_literal(host) {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let name = host.to_owned();
    let resolved = tulip_executor::to_thread(move || {
        (name.as_str(), port)
            .to_socket_addrs()
            .map(|addrs| addrs.collect::<Vec<_>>())
    })
    .await
    .map_err(|error| io::Error::other(format!("resolving {host:?} did not finish: {error}")))??;
    let mut addrs: Vec<SocketAddr> = Vec::with_capacity(resolved.len());
    for addr in resolved {
        if !addrs.contains(&addr) {
            addrs.push(addr);
        }
    }
    if addrs.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("{host:?} resolved to no address"),
        ));
    }
    Ok(addrs)
}

/// `host` as an IP address, if it is one (IPv6 possibly in brackets).
fn parse_ip_literal(host: &str) -> Option<IpAddr> {
    let bare = host
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .unwrap_or(host);
    bare.parse().ok()
}

/// How [`connect_tcp`] and [`connect_tcp_addrs`] connect: the Happy Eyeballs delay,
/// the interleaving of address families, a local address, and the socket options.
///
/// The default races the addresses with a delay of 250 ms
/// ([`DEFAULT_HAPPY_EYEBALLS_DELAY`]) and interleaves families (`interleave` 1).
/// asyncio's default is no delay at all, one address after the other, but then an
/// address that never answers (a dead IPv6 route, a firewall dropping packets) stalls
/// the connection for the system's whole connect timeout before the next address is
/// tried; with the delay the next address is tried 250 ms later. Pass
/// [`happy_eyeballs_delay(None)`](ConnectConfig::happy_eyeballs_delay) for asyncio's
/// sequential behaviour.
///
/// ```
/// use std::time::Duration;
/// use tulip_streams::ConnectConfig;
///
/// let config = ConnectConfig::new()
///     .happy_eyeballs_delay(Some(Duration::from_millis(100)))
///     .interleave(Some(2))
///     .local_addr("0.0.0.0:0".parse().unwrap());
/// # let _ = config;
/// ```
#[derive(Debug, Clone)]
pub struct ConnectConfig {
    happy_eyeballs_delay: Option<Duration>,
    interleave: Option<usize>,
    local_addr: Option<SocketAddr>,
    socket_options: ConnectOptions,
}

impl ConnectConfig {
    /// The defaults: a Happy Eyeballs delay of 250 ms, families interleaved one by one,
    /// no local address, the reactor's default socket options (`TCP_NODELAY` on).
    pub fn new() -> ConnectConfig {
        ConnectConfig {
            happy_eyeballs_delay: Some(DEFAULT_HAPPY_EYEBALLS_DELAY),
            interleave: None,
            local_addr: None,
            socket_options: ConnectOptions::new(),
        }
    }

    /// asyncio's `happy_eyeballs_delay`: how long to wait for an attempt before
    /// starting the next one alongside it (the next also starts as soon as an attempt
    /// fails). `None` tries the addresses one after the other, each until it fails.
    pub fn happy_eyeballs_delay(mut self, delay: Option<Duration>) -> ConnectConfig {
        self.happy_eyeballs_delay = delay;
        self
    }

    /// asyncio's `interleave`: reorders the addresses by family (IPv6, IPv4),
    /// alternating them, with `count` addresses of the first family first.
    /// `None` (the default) means 1 when a Happy Eyeballs delay is set and no
    /// reordering otherwise; `Some(0)` keeps the resolver's order.
    pub fn interleave(mut self, count: Option<usize>) -> ConnectConfig {
        self.interleave = count;
        self
    }

    /// asyncio's `local_addr`: binds each attempt's socket to `addr` before it
    /// connects. Attempts to addresses of the other family fail (with
    /// [`io::ErrorKind::AddrNotAvailable`], listed in the [`ConnectError`]).
    pub fn local_addr(mut self, addr: SocketAddr) -> ConnectConfig {
        self.local_addr = Some(addr);
        self
    }

    /// The socket options of every attempt (`TCP_NODELAY`, keepalive, buffer sizes).
    /// A local address set here is overridden by
    /// [`local_addr`](ConnectConfig::local_addr) when that is set.
    pub fn socket_options(mut self, options: ConnectOptions) -> ConnectConfig {
        self.socket_options = options;
        self
    }

    /// The addresses in the order they will be tried.
    fn ordered(&self, addrs: &[SocketAddr]) -> Vec<SocketAddr> {
        let count = match (self.interleave, self.happy_eyeballs_delay) {
            (Some(count), _) => count,
            (None, Some(_)) => 1,
            (None, None) => 0,
        };
        if count == 0 {
            addrs.to_vec()
        } else {
            interleave_families(addrs, count)
        }
    }

    /// The socket options of the attempt to `addr`, or why it cannot be made.
    fn options_for(&self, addr: SocketAddr) -> io::Result<ConnectOptions> {
        match self.local_addr {
            None => Ok(self.socket_options.clone()),
            Some(local) if local.is_ipv4() == addr.is_ipv4() => {
                Ok(self.socket_options.clone().local_addr(local))
            }
            Some(local) => Err(io::Error::new(
                io::ErrorKind::AddrNotAvailable,
                format!("no local address of {addr}'s family (local address {local})"),
            )),
        }
    }
}

impl Default for ConnectConfig {
    fn default() -> ConnectConfig {
        ConnectConfig::new()
    }
}

/// asyncio's `_interleave_addrinfos`: groups `addrs` by family in order of first
/// appearance, then takes `first_family_count - 1` addresses of the first family,
/// then one of each family in turn.
fn interleave_families(addrs: &[SocketAddr], first_family_count: usize) -> Vec<SocketAddr> {
    let Some(first) = addrs.first() else {
        return Vec::new();
    };
    let first_is_v4 = first.is_ipv4();
    let (mut firsts, mut others): (Vec<SocketAddr>, Vec<SocketAddr>) = (Vec::new(), Vec::new());
    for addr in addrs {
        if addr.is_ipv4() == first_is_v4 {
            firsts.push(*addr);
        } else {
            others.push(*addr);
        }
    }
    let lead = first_family_count.saturating_sub(1).min(firsts.len());
    let mut ordered: Vec<SocketAddr> = firsts.drain(..lead).collect();
    let (mut firsts, mut others) = (firsts.into_iter(), others.into_iter());
    loop {
        let (a, b) = (firsts.next(), others.next());
        if a.is_none() && b.is_none() {
            return ordered;
        }
        ordered.extend(a);
        ordered.extend(b);
    }
}

/// Every connection attempt failed: the error of each, in the order the addresses were
/// tried.
///
/// It converts into an [`io::Error`] (which [`connect_tcp`] returns) whose kind is the
/// attempts' kind if they all share one (say [`io::ErrorKind::ConnectionRefused`]),
/// else [`io::ErrorKind::Other`]; the `ConnectError` stays inside, reachable with
/// [`io::Error::get_ref`] and `downcast_ref`.
#[derive(Debug, thiserror::Error)]
#[error("{}", describe(.attempts))]
pub struct ConnectError {
    attempts: Vec<(SocketAddr, io::Error)>,
}

impl ConnectError {
    /// Each address tried and the error its attempt failed with, in the order the
    /// attempts were started. Empty if there was no address to try.
    pub fn attempts(&self) -> &[(SocketAddr, io::Error)] {
        &self.attempts
    }

    /// The attempts, by value.
    pub fn into_attempts(self) -> Vec<(SocketAddr, io::Error)> {
        self.attempts
    }

    /// The kind shared by every attempt's error, if there is one.
    fn common_kind(&self) -> Option<io::ErrorKind> {
        let (_, first) = self.attempts.first()?;
        let kind = first.kind();
        self.attempts
            .iter()
            .all(|(_, error)| error.kind() == kind)
            .then_some(kind)
    }
}

fn describe(attempts: &[(SocketAddr, io::Error)]) -> String {
    struct List<'a>(&'a [(SocketAddr, io::Error)]);
    impl fmt::Display for List<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            for (i, (addr, error)) in self.0.iter().enumerate() {
                if i > 0 {
                    f.write_str("; ")?;
                }
                write!(f, "{addr}: {error}")?;
            }
            Ok(())
        }
    }
    match attempts {
        [] => "no address to connect to".to_owned(),
        [(addr, error)] => format!("could not connect to {addr}: {error}"),
        _ => format!(
            "could not connect to any of {} addresses: {}",
            attempts.len(),
            List(attempts)
        ),
    }
}

impl From<ConnectError> for io::Error {
    fn from(error: ConnectError) -> io::Error {
        let kind = match error.common_kind() {
            Some(kind) => kind,
            None if error.attempts.is_empty() => io::ErrorKind::NotFound,
            None => io::ErrorKind::Other,
        };
        io::Error::new(kind, error)
    }
}

/// Resolves `host` ([`lookup_host`]) and connects to one of its addresses with Happy
/// Eyeballs (RFC 8305), as asyncio's `create_connection`; see [`connect_tcp_addrs`].
///
/// # Errors
///
/// The error of [`lookup_host`], or, if every attempt failed, a [`ConnectError`]
/// listing them, converted into an [`io::Error`].
///
/// ```
/// use tulip_reactor::net::TcpListener;
/// use tulip_streams::{ConnectConfig, connect_tcp};
///
/// let event_loop = tulip_executor::EventLoop::new()?;
/// event_loop.run_until_complete(async {
///     let listener = TcpListener::bind("127.0.0.1:0".parse()?)?;
///     let port = listener.local_addr()?.port();
///     let stream = connect_tcp("127.0.0.1", port, &ConnectConfig::new()).await?;
///     assert_eq!(stream.peer_addr()?, listener.local_addr()?);
///     Ok::<_, Box<dyn std::error::Error>>(())
/// })??;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub async fn connect_tcp(host: &str, port: u16, config: &ConnectConfig) -> io::Result<TcpStream> {
    let addrs = lookup_host(host, port).await?;
    Ok(connect_tcp_addrs(&addrs, config).await?)
}

/// Connects to one of `addrs` with Happy Eyeballs (RFC 8305), as asyncio's
/// `create_connection` with `happy_eyeballs_delay` and `interleave`.
///
/// The addresses are reordered by [`ConnectConfig::interleave`]; the first attempt
/// starts at once, and each next one starts when the Happy Eyeballs delay has passed
/// since the previous start or as soon as a running attempt fails, whichever comes
/// first. Without a delay, the attempts are made one after the other. The first
/// attempt that connects wins: the others are dropped at once, which closes their
/// sockets. All attempts run inside this future (no task is spawned), concurrently.
///
/// # Errors
///
/// A [`ConnectError`] with every attempt's error if none connected (no attempt at
/// all if `addrs` is empty).
///
/// ```
/// use tulip_reactor::net::TcpListener;
/// use tulip_streams::{ConnectConfig, connect_tcp_addrs};
///
/// let event_loop = tulip_executor::EventLoop::new()?;
/// event_loop.run_until_complete(async {
///     let listener = TcpListener::bind("127.0.0.1:0".parse()?)?;
///     // A port nothing listens on: bind one, note it, close it.
///     let closed = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
///     let addrs = [closed, listener.local_addr()?];
///     let stream = connect_tcp_addrs(&addrs, &ConnectConfig::new()).await?;
///     assert_eq!(stream.peer_addr()?, listener.local_addr()?);
///     Ok::<_, Box<dyn std::error::Error>>(())
/// })??;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub async fn connect_tcp_addrs(
    addrs: &[SocketAddr],
    config: &ConnectConfig,
) -> Result<TcpStream, ConnectError> {
    let order = config.ordered(addrs);
    let delay = config.happy_eyeballs_delay;
    // The attempts under way: their index in `order`, and their future.
    let mut running = Vec::new();
    let mut failed: Vec<(usize, io::Error)> = Vec::new();
    let mut next = 0;
    let mut timer: Option<Pin<Box<Sleep>>> = None;

    let start = |index: usize| {
        let addr = order[index];
        let options = config.options_for(addr);
        (index, Box::pin(attempt(addr, options)))
    };

    let outcome = poll_fn(|cx| {
        loop {
            if next < order.len() && running.is_empty() {
                running.push(start(next));
                next += 1;
                timer = delay.map(|delay| Box::pin(sleep(delay)));
            }
            let mut some_failed = false;
            let mut i = 0;
            while i < running.len() {
                let (index, attempt) = &mut running[i];
                match attempt.as_mut().poll(cx) {
                    Poll::Ready(Ok(stream)) => return Poll::Ready(Ok(stream)),
                    Poll::Ready(Err(error)) => {
                        failed.push((*index, error));
                        drop(running.swap_remove(i));
                        some_failed = true;
                    }
                    Poll::Pending => i += 1,
                }
            }
            if next >= order.len() {
                if running.is_empty() {
                    return Poll::Ready(Err(()));
                }
                return Poll::Pending;
            }
            let delay_passed = match timer.as_mut() {
                Some(timer) => timer.as_mut().poll(cx).is_ready(),
                None => false,
            };
            if some_failed || delay_passed {
                running.push(start(next));
                next += 1;
                timer = delay.map(|delay| Box::pin(sleep(delay)));
                // Poll the new attempt (and arm the new timer) before waiting.
                continue;
            }
            return Poll::Pending;
        }
    })
    .await;
    // Dropping the attempts still running closes their sockets.
    drop(running);
    match outcome {
        Ok(stream) => Ok(stream),
        Err(()) => {
            failed.sort_by_key(|(index, _)| *index);
            Err(ConnectError {
                attempts: failed
                    .into_iter()
                    .map(|(index, error)| (order[index], error))
                    .collect(),
            })
        }
    }
}

/// One connection attempt.
async fn attempt(addr: SocketAddr, options: io::Result<ConnectOptions>) -> io::Result<TcpStream> {
    TcpStream::connect_with(addr, &options?).await
}

/// Connects to the Unix-domain socket bound at `path` (asyncio's
/// `open_unix_connection` without the streams); the counterpart of [`connect_tcp`].
///
/// # Errors
///
/// As [`UnixStream::connect`]: [`io::ErrorKind::NotFound`] if nothing is bound at
/// `path`, [`io::ErrorKind::ConnectionRefused`] if nobody listens there, ...
///
/// ```
/// use tulip_reactor::net::UnixListener;
///
/// let event_loop = tulip_executor::EventLoop::new()?;
/// event_loop.run_until_complete(async {
///     let path = std::env::temp_dir().join(format!("tulip-doc-cu-{}.sock", std::process::id()));
///     let _ = std::fs::remove_file(&path);
///     let listener = UnixListener::bind(&path)?;
///     let stream = tulip_streams::connect_unix(&path).await?;
///     assert_eq!(stream.peer_addr()?.as_pathname(), Some(path.as_path()));
///     std::fs::remove_file(&path)?;
///     # drop(listener);
///     Ok::<_, Box<dyn std::error::Error>>(())
/// })??;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub async fn connect_unix(path: impl AsRef<Path>) -> io::Result<UnixStream> {
    UnixStream::connect(path).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn interleaves_as_asyncio() {
        let (a6, b6, c6) = (addr("[::1]:1"), addr("[::2]:1"), addr("[::3]:1"));
        let (a4, b4) = (addr("10.0.0.1:1"), addr("10.0.0.2:1"));
        let input = [a6, b6, c6, a4, b4];
        assert_eq!(interleave_families(&input, 1), [a6, a4, b6, b4, c6]);
        assert_eq!(interleave_families(&input, 2), [a6, b6, a4, c6, b4]);
        assert_eq!(interleave_families(&[a4, b4, a6], 1), [a4, a6, b4]);
        assert_eq!(interleave_families(&[], 1), Vec::<SocketAddr>::new());
    }

    #[test]
    fn orders_by_config() {
        let input = [addr("[::1]:1"), addr("[::2]:1"), addr("10.0.0.1:1")];
        let sequential = ConnectConfig::new().happy_eyeballs_delay(None);
        assert_eq!(sequential.ordered(&input), input);
        let raced = ConnectConfig::new();
        assert_eq!(raced.ordered(&input), [input[0], input[2], input[1]]);
        assert_eq!(raced.interleave(Some(0)).ordered(&input), input);
    }

    #[test]
    fn parses_ip_literals() {
        assert_eq!(parse_ip_literal("[::1]"), Some("::1".parse().unwrap()));
        assert_eq!(
            parse_ip_literal("127.0.0.1"),
            Some("127.0.0.1".parse().unwrap())
        );
        assert_eq!(parse_ip_literal("localhost"), None);
    }

    #[test]
    fn error_kind_and_message() {
        let one = ConnectError {
            attempts: vec![(
                addr("127.0.0.1:1"),
                io::Error::from(io::ErrorKind::ConnectionRefused),
            )],
        };
        assert!(one.to_string().contains("127.0.0.1:1"));
        assert_eq!(
            io::Error::from(one).kind(),
            io::ErrorKind::ConnectionRefused
        );
        let mixed = ConnectError {
            attempts: vec![
                (
                    addr("127.0.0.1:1"),
                    io::Error::from(io::ErrorKind::ConnectionRefused),
                ),
                (
                    addr("[::1]:1"),
                    io::Error::from(io::ErrorKind::AddrNotAvailable),
                ),
            ],
        };
        let message = mixed.to_string();
        assert!(message.contains("127.0.0.1:1") && message.contains("[::1]:1"));
        let error = io::Error::from(mixed);
        assert_eq!(error.kind(), io::ErrorKind::Other);
        let inner = error
            .get_ref()
            .and_then(|e| e.downcast_ref::<ConnectError>());
        assert_eq!(inner.map(|e| e.attempts().len()), Some(2));
    }
}
