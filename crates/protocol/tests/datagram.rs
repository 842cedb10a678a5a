//! Datagram endpoints: datagrams with their senders, `error_received` for errors that
//! leave the endpoint open, typed errors for bad addresses, and the contract's ends.

use std::io;
use std::net::{SocketAddr, UdpSocket as StdUdpSocket};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tulip_executor::timeout;
use tulip_protocol::{
    BaseProtocol, DatagramEndpoint, DatagramProtocol, DatagramTransport, ProtocolRef,
    TransportError, create_datagram_endpoint,
};
use tulip_sync::Event;

#[path = "../../streams/tests/common/mod.rs"]
mod common;

const PATIENCE: Duration = Duration::from_secs(10);

/// Logs every callback; echoes datagrams back if asked.
struct Probe {
    log: Arc<Mutex<Vec<String>>>,
    transport: Option<DatagramTransport>,
    echo: bool,
    lost: Arc<Event>,
}

impl BaseProtocol for Probe {
    type Transport = DatagramTransport;
    fn connection_made(&mut self, transport: &DatagramTransport) {
        self.log.lock().unwrap().push("made".to_owned());
        self.transport = Some(transport.clone());
    }
    fn connection_lost(&mut self, error: Option<io::Error>) {
        self.log.lock().unwrap().push(format!("lost {error:?}"));
        self.lost.set();
    }
}

impl DatagramProtocol for Probe {
    fn datagram_received(&mut self, data: &[u8], addr: SocketAddr) {
        self.log
            .lock()
            .unwrap()
            .push(format!("datagram {}", String::from_utf8_lossy(data)));
        if self.echo {
            self.transport
                .as_ref()
                .unwrap()
                .sendto(data, Some(addr))
                .unwrap();
        }
    }
    fn error_received(&mut self, error: io::Error) {
        self.log
            .lock()
            .unwrap()
            .push(format!("error {:?}", error.kind()));
    }
}

/// Runs `test` on a fresh runtime of the kind `TULIP_TEST_RUNTIME` chooses.
fn run<F: Future<Output = ()> + 'static>(test: F) {
    common::block_on(async move {
        timeout(PATIENCE, test).await.expect("the test timed out");
    })
    .unwrap();
}

async fn endpoint(
    endpoint: DatagramEndpoint,
    echo: bool,
) -> (
    DatagramTransport,
    ProtocolRef<Probe>,
    Arc<Mutex<Vec<String>>>,
    Arc<Event>,
) {
    let log = Arc::new(Mutex::new(Vec::new()));
    let lost = Arc::new(Event::new());
    let (l, e) = (log.clone(), lost.clone());
    let (transport, protocol) = create_datagram_endpoint(
        move || Probe {
            log: l,
            transport: None,
            echo,
            lost: e,
        },
        endpoint,
    )
    .await
    .unwrap();
    (transport, protocol, log, lost)
}

async fn until(log: &Arc<Mutex<Vec<String>>>, len: usize) -> Vec<String> {
    loop {
        let entries = log.lock().unwrap().clone();
        if entries.len() >= len {
            return entries;
        }
        tulip_executor::sleep(Duration::from_millis(1)).await;
    }
}

#[test]
fn an_echo_pair_exchanges_datagrams_with_their_senders() {
    run(async {
        let (server, _, server_log, _) =
            endpoint(DatagramEndpoint::new().local_addr("127.0.0.1", 0), true).await;
        let port = server.sockname().unwrap().port();
        let (client, _, client_log, client_lost) = endpoint(
            DatagramEndpoint::new().remote_addr("127.0.0.1", port),
            false,
        )
        .await;
        assert_eq!(
            client.peername(),
            Some(SocketAddr::from(([127, 0, 0, 1], port)))
        );
        for message in ["one", "two", "three"] {
            client.sendto(message.as_bytes(), None).unwrap();
        }
        let entries = until(&client_log, 4).await;
        assert_eq!(
            entries,
            ["made", "datagram one", "datagram two", "datagram three"]
        );
        assert_eq!(
            until(&server_log, 4).await,
            ["made", "datagram one", "datagram two", "datagram three"]
        );
        client.close();
        assert!(client.is_closing());
        client_lost.wait().await;
        assert_eq!(until(&client_log, 5).await[4], "lost None");
        // Ignored, with a warning, once closed.
        client.sendto(b"late", None).unwrap();
    });
}

#[test]
fn sendto_refuses_a_missing_or_foreign_address() {
    run(async {
        let (unconnected, _, _, _) =
            endpoint(DatagramEndpoint::new().local_addr("127.0.0.1", 0), false).await;
        assert_eq!(
            unconnected.sendto(b"x", None),
            Err(TransportError::NoAddress)
        );
        let remote = SocketAddr::from(([127, 0, 0, 1], 9));
        let (connected, _, _, _) =
            endpoint(DatagramEndpoint::new().remote_addr("127.0.0.1", 9), false).await;
        let other = SocketAddr::from(([127, 0, 0, 1], 10));
        assert_eq!(
            connected.sendto(b"x", Some(other)),
            Err(TransportError::WrongAddress {
                remote,
                requested: other
            })
        );
        // The remote address itself is fine.
        connected.sendto(b"x", Some(remote)).unwrap();
    });
}

#[test]
fn a_refused_datagram_is_an_error_received_and_the_endpoint_stays_open() {
    run(async {
        // A port with nobody on it: the kernel answers with ICMP port unreachable,
        // which a connected UDP socket reports as ECONNREFUSED.
        let port = {
            let socket = StdUdpSocket::bind("127.0.0.1:0").unwrap();
            socket.local_addr().unwrap().port()
        };
        let (client, _, log, _) = endpoint(
            DatagramEndpoint::new().remote_addr("127.0.0.1", port),
            false,
        )
        .await;
        client.sendto(b"anyone?", None).unwrap();
        let mut entries = until(&log, 2).await;
        // Whether the error comes from the next send or from a receive, it is reported.
        while !entries.iter().any(|e| e == "error ConnectionRefused") {
            client.sendto(b"anyone?", None).unwrap();
            entries = until(&log, entries.len() + 1).await;
        }
        assert_eq!(entries[0], "made");
        assert!(!client.is_closing());
    });
}

#[test]
fn an_endpoint_needs_an_address_of_one_family() {
    run(async {
        let none = create_datagram_endpoint(
            || Probe {
                log: Arc::default(),
                transport: None,
                echo: false,
                lost: Arc::default(),
            },
            DatagramEndpoint::new(),
        )
        .await
        .unwrap_err();
        assert_eq!(none.kind(), io::ErrorKind::InvalidInput);
        let mixed = create_datagram_endpoint(
            || Probe {
                log: Arc::default(),
                transport: None,
                echo: false,
                lost: Arc::default(),
            },
            DatagramEndpoint::new()
                .local_addr("127.0.0.1", 0)
                .remote_addr("::1", 9),
        )
        .await
        .unwrap_err();
        assert_eq!(mixed.kind(), io::ErrorKind::InvalidInput);
    });
}

#[test]
fn abort_drops_the_queue_and_a_panic_closes_with_its_failure() {
    /// Panics on the first datagram.
    struct Fragile(Arc<Mutex<Option<io::Error>>>, Arc<Event>);
    impl BaseProtocol for Fragile {
        type Transport = DatagramTransport;
        fn connection_lost(&mut self, error: Option<io::Error>) {
            *self.0.lock().unwrap() = error;
            self.1.set();
        }
    }
    impl DatagramProtocol for Fragile {
        fn datagram_received(&mut self, _: &[u8], _: SocketAddr) {
            panic!("fragile");
        }
    }

    run(async {
        let error = Arc::new(Mutex::new(None));
        let lost = Arc::new(Event::new());
        let (e, l) = (error.clone(), lost.clone());
        let (fragile, _) = create_datagram_endpoint(
            move || Fragile(e, l),
            DatagramEndpoint::new().local_addr("127.0.0.1", 0),
        )
        .await
        .unwrap();
        let target = fragile.sockname().unwrap();
        let sender = StdUdpSocket::bind("127.0.0.1:0").unwrap();
        sender.send_to(b"x", target).unwrap();
        lost.wait().await;
        assert!(fragile.is_closing());
        let error = error.lock().unwrap().take().unwrap();
        assert_eq!(
            error.to_string(),
            "the protocol panicked in datagram_received: fragile"
        );

        let (transport, _, log, lost) =
            endpoint(DatagramEndpoint::new().remote_addr("127.0.0.1", 9), false).await;
        transport.abort();
        assert_eq!(transport.get_write_buffer_size(), 0);
        lost.wait().await;
        assert_eq!(until(&log, 2).await, ["made", "lost None"]);
    });
}

#[test]
fn a_send_error_before_a_close_still_reaches_error_received() {
    /// Sends to an IPv6 address from an IPv4 socket (refused at once), then closes.
    struct Misdirected(Arc<Mutex<Vec<String>>>, Arc<Event>);
    impl BaseProtocol for Misdirected {
        type Transport = DatagramTransport;
        fn connection_made(&mut self, transport: &DatagramTransport) {
            let v6 = SocketAddr::from(([0, 0, 0, 0, 0, 0, 0, 1], 9));
            transport.sendto(b"x", Some(v6)).unwrap();
            transport.close();
        }
        fn connection_lost(&mut self, _: Option<io::Error>) {
            self.0.lock().unwrap().push("lost".to_owned());
            self.1.set();
        }
    }
    impl DatagramProtocol for Misdirected {
        fn error_received(&mut self, _: io::Error) {
            self.0.lock().unwrap().push("error".to_owned());
        }
    }

    run(async {
        let log = Arc::new(Mutex::new(Vec::new()));
        let lost = Arc::new(Event::new());
        let (l, e) = (log.clone(), lost.clone());
        create_datagram_endpoint(
            move || Misdirected(l, e),
            DatagramEndpoint::new().local_addr("127.0.0.1", 0),
        )
        .await
        .unwrap();
        lost.wait().await;
        assert_eq!(*log.lock().unwrap(), ["error", "lost"]);
    });
}
