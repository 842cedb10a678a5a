//! Datagrams: [`DatagramTransport`], its driver and [`create_datagram_endpoint`].

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use tulip_reactor::net::{UdpBindOptions, UdpSocket};
use tulip_streams::lookup_host;

use crate::cell::{Panicked, ProtocolCell, ProtocolRef};
use crate::error::{ProtocolFailure, TransportError};
use crate::flow::{DriverWake, WaterMarks, tell_writing};
use crate::protocol::DatagramProtocol;
use crate::scratch::with_scratch;

/// Where a datagram endpoint is bound and, optionally, connected (the arguments of
/// asyncio's `create_datagram_endpoint`).
///
/// ```
/// use tulip_protocol::DatagramEndpoint;
///
/// // A server on a port of its own, and a client connected to it.
/// let server = DatagramEndpoint::new().local_addr("127.0.0.1", 9999);
/// let client = DatagramEndpoint::new().remote_addr("127.0.0.1", 9999);
/// # let _ = (server, client);
/// ```
#[derive(Debug, Clone, Default)]
pub struct DatagramEndpoint {
    local: Option<(String, u16)>,
    remote: Option<(String, u16)>,
    reuse_port: bool,
    allow_broadcast: bool,
}

impl DatagramEndpoint {
    /// No addresses yet: give a local address, a remote one, or both.
    pub fn new() -> DatagramEndpoint {
        DatagramEndpoint::default()
    }

    /// Binds to `host` (resolved off the loop; the first address is used) at `port`
    /// (0 picks a free port).
    pub fn local_addr(mut self, host: &str, port: u16) -> DatagramEndpoint {
        self.local = Some((host.to_owned(), port));
        self
    }

    /// Connects to `host` at `port`: datagrams go there by default, and only its
    /// datagrams are received. Without a local address, the socket is bound to a free
    /// port of the remote address's family.
    pub fn remote_addr(mut self, host: &str, port: u16) -> DatagramEndpoint {
        self.remote = Some((host.to_owned(), port));
        self
    }

    /// Sets `SO_REUSEPORT`, so that several endpoints share the local address.
    pub fn reuse_port(mut self, reuse: bool) -> DatagramEndpoint {
        self.reuse_port = reuse;
        self
    }

    /// Sets `SO_BROADCAST`, allowing datagrams to broadcast addresses.
    pub fn allow_broadcast(mut self, allow: bool) -> DatagramEndpoint {
        self.allow_broadcast = allow;
        self
    }
}

/// Opens a UDP endpoint as `endpoint` says and drives it with the protocol
/// `protocol_factory` makes (asyncio's `loop.create_datagram_endpoint`); returns once
/// the protocol's `connection_made` has run.
///
/// # Errors
///
/// [`io::ErrorKind::InvalidInput`] if `endpoint` has no address, or the local and
/// remote addresses are of different families; resolving, binding or connecting
/// failed; or no loop is running.
///
/// ```
/// use std::net::SocketAddr;
/// use std::sync::{Arc, Mutex};
/// use tulip_protocol::{
///     BaseProtocol, DatagramEndpoint, DatagramProtocol, DatagramTransport,
///     create_datagram_endpoint,
/// };
///
/// /// Keeps the datagrams it receives.
/// #[derive(Default)]
/// struct Inbox(Vec<Vec<u8>>);
///
/// impl BaseProtocol for Inbox {
///     type Transport = DatagramTransport;
/// }
///
/// impl DatagramProtocol for Inbox {
///     fn datagram_received(&mut self, data: &[u8], _from: SocketAddr) {
///         self.0.push(data.to_vec());
///     }
/// }
///
/// tulip_executor::EventLoop::new()?.run_until_complete(async {
///     let local = DatagramEndpoint::new().local_addr("127.0.0.1", 0);
///     let (server, inbox) = create_datagram_endpoint(Inbox::default, local).await?;
///     let port = server.sockname().unwrap().port();
///     let remote = DatagramEndpoint::new().remote_addr("127.0.0.1", port);
///     let (client, _) = create_datagram_endpoint(Inbox::default, remote).await?;
///     client.sendto(b"ping", None)?;
///     while inbox.with(|p| p.0.len())? == 0 {
///         tulip_executor::sleep(std::time::Duration::from_millis(1)).await;
///     }
///     assert_eq!(inbox.with(|p| p.0.clone())?, [b"ping".to_vec()]);
///     Ok::<_, Box<dyn std::error::Error>>(())
/// })??;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub async fn create_datagram_endpoint<F, P>(
    protocol_factory: F,
    endpoint: DatagramEndpoint,
) -> io::Result<(DatagramTransport, ProtocolRef<P>)>
where
    F: FnOnce() -> P,
    P: DatagramProtocol + Send,
{
    let local = match &endpoint.local {
        Some((host, port)) => Some(first_addr(host, *port).await?),
        None => None,
    };
    let remote = match &endpoint.remote {
        Some((host, port)) => Some(first_addr(host, *port).await?),
        None => None,
    };
    let bind_to = match (local, remote) {
        (Some(local), Some(remote)) if local.is_ipv4() != remote.is_ipv4() => {
            return Err(invalid_input(
                "the local and remote addresses are of different families",
            ));
        }
        (Some(local), _) => local,
        (None, Some(SocketAddr::V4(_))) => SocketAddr::from(([0, 0, 0, 0], 0)),
        (None, Some(SocketAddr::V6(_))) => SocketAddr::from(([0u16; 8], 0)),
        (None, None) => {
            return Err(invalid_input(
                "a datagram endpoint needs a local or a remote address",
            ));
        }
    };
    let options = UdpBindOptions::new().reuse_port(endpoint.reuse_port);
    let socket = UdpSocket::bind_with(bind_to, &options)?;
    if endpoint.allow_broadcast {
        socket.set_broadcast(true)?;
    }
    if let Some(remote) = remote {
        socket.connect(remote)?;
    }
    let shared = Arc::new(DatagramShared {
        socket,
        remote,
        state: Mutex::new(DatagramState::new()),
    });
    let cell = ProtocolCell::new(protocol_factory());
    let transport = DatagramTransport { shared };
    let mut driver = DatagramDriver {
        transport: transport.clone(),
        cell: cell.clone(),
        writing_paused: false,
        ending: false,
        done: false,
    };
    driver.make();
    tulip_executor::task::Builder::new()
        .spawn(driver)
        .map_err(io::Error::other)?
        .detach();
    Ok((transport, ProtocolRef::new(cell)))
}

/// The first address `host` resolves to at `port`.
async fn first_addr(host: &str, port: u16) -> io::Result<SocketAddr> {
    lookup_host(host, port)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| invalid_input(&format!("{host} resolves to no address")))
}

fn invalid_input(message: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message.to_owned())
}

/// A datagram endpoint's transport (asyncio's `DatagramTransport`).
///
/// Cheap to clone, `Send` and `Sync`, usable inside the protocol's callbacks.
/// [`sendto`](DatagramTransport::sendto) never blocks: a datagram the socket cannot
/// take at once is queued and sent in order, with `pause_writing` and `resume_writing`
/// around the queue's high- and low-water marks, as for stream transports. A send that
/// fails is reported to the protocol's `error_received`, and the transport stays open.
#[derive(Clone)]
pub struct DatagramTransport {
    shared: Arc<DatagramShared>,
}

impl DatagramTransport {
    /// Sends `data` as one datagram to `addr`, or to the remote address if `None`.
    /// Ignored (with a warning) once the transport is closing.
    ///
    /// # Errors
    ///
    /// [`TransportError::NoAddress`] without an address on an endpoint that has no
    /// remote address; [`TransportError::WrongAddress`] for an address other than the
    /// remote address of a connected endpoint.
    pub fn sendto(&self, data: &[u8], addr: Option<SocketAddr>) -> Result<(), TransportError> {
        let target = match (addr, self.shared.remote) {
            (Some(requested), Some(remote)) if requested != remote => {
                return Err(TransportError::WrongAddress { remote, requested });
            }
            (_, Some(_)) => None,
            (Some(addr), None) => Some(addr),
            (None, None) => return Err(TransportError::NoAddress),
        };
        self.shared.send(data, target);
        Ok(())
    }

    /// Closes the transport: what is queued is sent, then the protocol's
    /// `connection_lost(None)` is called. No datagram is received after it.
    pub fn close(&self) {
        let mut st = self.shared.lock();
        if !st.is_closing() {
            st.closing = true;
            st.driver.wake();
        }
    }

    /// Closes the transport at once, dropping what is queued; the protocol's
    /// `connection_lost(None)` follows.
    pub fn abort(&self) {
        let mut st = self.shared.lock();
        if !st.lost && !st.aborted {
            st.aborted = true;
            st.clear_queue();
            st.driver.wake();
        }
    }

    /// Whether the transport is closing or closed.
    pub fn is_closing(&self) -> bool {
        self.shared.lock().is_closing()
    }

    /// The local address (asyncio's `get_extra_info("sockname")`).
    pub fn sockname(&self) -> Option<SocketAddr> {
        self.shared.socket.local_addr().ok()
    }

    /// The remote address of a connected endpoint (asyncio's
    /// `get_extra_info("peername")`).
    pub fn peername(&self) -> Option<SocketAddr> {
        self.shared.remote
    }

    /// asyncio's `get_extra_info(name)`: `"peername"` and `"sockname"` give the
    /// addresses, `"socket"` the descriptor (owned by the transport); any other name
    /// gives `None`.
    pub fn get_extra_info(&self, name: &str) -> Option<tulip_streams::ExtraInfo> {
        use std::os::fd::AsRawFd;
        use tulip_streams::{ExtraInfo, StreamAddr};
        match name {
            "peername" => self
                .peername()
                .map(|a| ExtraInfo::Addr(StreamAddr::Inet(a))),
            "sockname" => self
                .sockname()
                .map(|a| ExtraInfo::Addr(StreamAddr::Inet(a))),
            "socket" => Some(ExtraInfo::Socket(self.shared.socket.as_raw_fd())),
            _ => None,
        }
    }

    /// The bytes queued, not yet sent.
    pub fn get_write_buffer_size(&self) -> usize {
        self.shared.lock().queued_bytes
    }

    /// Sets the queue's high- and low-water marks (in bytes).
    ///
    /// # Errors
    ///
    /// [`TransportError::InvalidLimits`] if `low > high`.
    pub fn set_write_buffer_limits(&self, high: usize, low: usize) -> Result<(), TransportError> {
        let mut st = self.shared.lock();
        let buffered = st.queued_bytes;
        st.marks.set(high, low, buffered)?;
        st.driver.wake();
        Ok(())
    }

    /// The queue's `(high, low)` water marks.
    pub fn get_write_buffer_limits(&self) -> (usize, usize) {
        self.shared.lock().marks.get()
    }
}

impl fmt::Debug for DatagramTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.shared.lock();
        f.debug_struct("DatagramTransport")
            .field("local", &self.sockname())
            .field("remote", &self.shared.remote)
            .field("queued", &st.queue.len())
            .field("closing", &st.is_closing())
            .finish()
    }
}

struct DatagramShared {
    socket: UdpSocket,
    remote: Option<SocketAddr>,
    state: Mutex<DatagramState>,
}

/// A datagram waiting to be sent, with its address (`None`: the remote address).
type Queued = (Vec<u8>, Option<SocketAddr>);

struct DatagramState {
    queue: VecDeque<Queued>,
    queued_bytes: usize,
    marks: WaterMarks,
    /// Send and receive errors, for `error_received`.
    errors: VecDeque<io::Error>,
    /// Why the transport ended, for `connection_lost` (a protocol's panic).
    fatal: Option<io::Error>,
    closing: bool,
    aborted: bool,
    lost: bool,
    driver: DriverWake,
    ignored_sends: u64,
}

impl DatagramState {
    fn new() -> DatagramState {
        DatagramState {
            queue: VecDeque::new(),
            queued_bytes: 0,
            marks: WaterMarks::new(),
            errors: VecDeque::new(),
            fatal: None,
            closing: false,
            aborted: false,
            lost: false,
            driver: DriverWake::default(),
            ignored_sends: 0,
        }
    }

    fn is_closing(&self) -> bool {
        self.closing || self.aborted || self.lost
    }

    fn update_pause(&mut self) {
        let buffered = self.queued_bytes;
        self.marks.update(buffered);
    }

    fn clear_queue(&mut self) {
        self.queue = VecDeque::new();
        self.queued_bytes = 0;
    }

    /// A send or receive error, for `error_received` (the errors not yet delivered are
    /// bounded: a flood keeps the oldest).
    fn report(&mut self, error: io::Error) {
        const MAX_PENDING_ERRORS: usize = 64;
        if self.errors.len() < MAX_PENDING_ERRORS {
            self.errors.push_back(error);
        }
        self.driver.wake();
    }
}

impl DatagramShared {
    fn lock(&self) -> MutexGuard<'_, DatagramState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Sends at once if nothing is queued, else queues (asyncio's `sendto`).
    fn send(&self, data: &[u8], target: Option<SocketAddr>) {
        let mut st = self.lock();
        if st.is_closing() {
            st.ignored_sends += 1;
            if st.ignored_sends == 1 {
                tracing::warn!("sendto on a datagram transport that is closing: ignored");
            }
            return;
        }
        if st.queue.is_empty() {
            let cx = &mut Context::from_waker(Waker::noop());
            match self.poll_send(cx, data, target) {
                Poll::Ready(Ok(_)) => return,
                Poll::Ready(Err(e)) if !is_retry(&e) => {
                    st.report(e);
                    return;
                }
                Poll::Ready(Err(_)) | Poll::Pending => {}
            }
        }
        st.queue.push_back((data.to_vec(), target));
        st.queued_bytes += data.len();
        st.update_pause();
        st.driver.wake();
    }

    fn poll_send(
        &self,
        cx: &mut Context<'_>,
        data: &[u8],
        target: Option<SocketAddr>,
    ) -> Poll<io::Result<usize>> {
        match target {
            Some(addr) => self.socket.poll_send_to(cx, data, addr),
            None => self.socket.poll_send(cx, data),
        }
    }

    /// Sends from the queue until it is empty or the socket is full; returns whether
    /// anything happened.
    fn poll_flush(&self, st: &mut DatagramState, cx: &mut Context<'_>) -> bool {
        let mut progressed = false;
        while let Some((data, target)) = st.queue.front() {
            match self.poll_send(cx, data, *target) {
                Poll::Pending => break,
                Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
                Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::WouldBlock => break,
                Poll::Ready(result) => {
                    let len = data.len();
                    st.queue.pop_front();
                    st.queued_bytes -= len;
                    st.update_pause();
                    if let Err(e) = result {
                        st.report(e);
                    }
                    progressed = true;
                }
            }
        }
        progressed
    }
}

fn is_retry(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
    )
}

/// The task of one datagram endpoint.
struct DatagramDriver<P: DatagramProtocol> {
    transport: DatagramTransport,
    cell: Arc<ProtocolCell<P>>,
    writing_paused: bool,
    ending: bool,
    done: bool,
}

/// Receives in one run of the driver before it lets other tasks run.
const RECEIVES_PER_RUN: u32 = 16;

impl<P: DatagramProtocol> DatagramDriver<P> {
    fn shared(&self) -> &DatagramShared {
        &self.transport.shared
    }

    fn make(&mut self) {
        let transport = &self.transport;
        let made = self.cell.call(|p| p.connection_made(transport));
        self.check("connection_made", made);
    }

    /// A panic in a callback closes the transport (logged; `connection_lost` gets it).
    fn check<R>(&self, callback: &'static str, result: Result<R, Panicked>) -> Option<R> {
        match result {
            Ok(value) => Some(value),
            Err(Panicked(message)) => {
                tracing::error!(callback, %message, "a datagram protocol callback panicked: closing its transport");
                let mut st = self.shared().lock();
                st.aborted = true;
                st.clear_queue();
                let failure = ProtocolFailure::Panicked { callback, message };
                st.fatal.get_or_insert(failure.into_io());
                None
            }
        }
    }

    fn run(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let mut receives = 0;
        let mut receive_blocked = false;
        loop {
            let mut st = self.transport.shared.lock();
            st.driver.start();
            // Errors of sends made before a close still reach the protocol (not after an
            // abort, which drops what is pending).
            if !st.aborted
                && let Some(error) = st.errors.pop_front()
            {
                drop(st);
                let result = self.cell.call(|p| p.error_received(error));
                self.check("error_received", result);
                continue;
            }
            if st.aborted || (st.closing && st.queue.is_empty()) {
                if self.ending {
                    let error = st.fatal.take();
                    st.lost = true;
                    st.driver.stop();
                    st.errors.clear();
                    drop(st);
                    self.done = true;
                    if let Err(Panicked(message)) = self.cell.call(|p| p.connection_lost(error)) {
                        tracing::error!(%message, "a datagram protocol panicked in connection_lost");
                    }
                    return Poll::Ready(());
                }
                self.ending = true;
                st.driver.pause();
                drop(st);
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            if st.marks.over_high != self.writing_paused {
                self.writing_paused = st.marks.over_high;
                drop(st);
                let result = tell_writing(&self.cell, self.writing_paused);
                self.check("pause_writing or resume_writing", result);
                continue;
            }
            if self.transport.shared.poll_flush(&mut st, cx) {
                continue;
            }
            let can_receive = !receive_blocked && !st.closing;
            if !can_receive || receives == RECEIVES_PER_RUN {
                // Out of budget while there is more to read: run again after the others.
                st.driver.park(cx, can_receive);
                drop(st);
                return Poll::Pending;
            }
            drop(st);
            receives += 1;
            let socket = &self.transport.shared.socket;
            let received = self.cell.call(|p| {
                with_scratch(|buf| match socket.poll_recv_from(cx, buf) {
                    Poll::Ready(Ok((n, from))) => {
                        p.datagram_received(&buf[..n], from);
                        Ok(true)
                    }
                    // Interrupted by a signal: receive again.
                    Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => Ok(true),
                    Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::WouldBlock => Ok(false),
                    Poll::Ready(Err(e)) => Err(e),
                    Poll::Pending => Ok(false),
                })
            });
            match self.check("datagram_received", received) {
                None | Some(Ok(true)) => {}
                Some(Ok(false)) => receive_blocked = true,
                Some(Err(error)) => self.transport.shared.lock().report(error),
            }
        }
    }
}

impl<P: DatagramProtocol> Future for DatagramDriver<P> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(());
        }
        this.run(cx)
    }
}

impl<P: DatagramProtocol> Drop for DatagramDriver<P> {
    /// A driver dropped before the end (its loop closed) still tells the protocol.
    fn drop(&mut self) {
        if self.done {
            return;
        }
        {
            let mut st = self.shared().lock();
            st.lost = true;
            st.driver.stop();
            st.clear_queue();
        }
        let error = io::Error::from(io::ErrorKind::ConnectionAborted);
        if let Err(Panicked(message)) = self.cell.call(|p| p.connection_lost(Some(error))) {
            tracing::error!(%message, "a datagram protocol panicked in connection_lost");
        }
    }
}
