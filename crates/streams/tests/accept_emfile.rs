//! The accept loop out of file descriptors: it backs off instead of spinning, and
//! serves again once descriptors are free.
//!
//! This binary holds a single test: it lowers the process's open-file limit and fills
//! it, which would disturb any test running beside it. Accept errors are counted with
//! a `tracing` layer that sees the `ERROR` events the accept loop logs.

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tulip_executor::{sleep, timeout};
use tulip_reactor::net::TcpStream;
use tulip_streams::{ServeOptions, serve_tcp};

mod common;

static ACCEPT_ERRORS: AtomicUsize = AtomicUsize::new(0);

/// Counts the server's `ERROR` events (one per failed accept that pauses the loop).
struct CountAcceptErrors;

impl<S: tracing::Subscriber> Layer<S> for CountAcceptErrors {
    fn on_event(&self, event: &tracing::Event<'_>, _cx: Context<'_, S>) {
        let meta = event.metadata();
        if *meta.level() == tracing::Level::ERROR
            && meta.target().starts_with("tulip_streams::server")
        {
            ACCEPT_ERRORS.fetch_add(1, Ordering::SeqCst);
        }
    }
}

fn rlimit() -> io::Result<libc::rlimit> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid rlimit to fill.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(limit)
}

fn set_soft_limit(soft: u64) -> io::Result<()> {
    let mut limit = rlimit()?;
    limit.rlim_cur = soft;
    // SAFETY: `limit` is a valid rlimit; the soft limit stays under the hard one.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[test]
fn accept_backs_off_on_emfile_and_recovers() -> Result<(), Box<dyn std::error::Error>> {
    tracing::subscriber::set_global_default(
        tracing_subscriber::registry().with(CountAcceptErrors),
    )?;
    let original = rlimit()?.rlim_cur;
    let outcome = common::block_on(async move {
        timeout(Duration::from_secs(60), async move {
            let handler = |stream: TcpStream, _peer| async move {
                let mut buf = [0; 64];
                let n = stream.read(&mut buf).await?;
                stream.write_all(&buf[..n]).await
            };
            let server = serve_tcp(handler, "127.0.0.1", 0, ServeOptions::new()).await?;
            let addr = server.local_addrs()[0].as_inet().ok_or("inet")?;

            // Fill every descriptor under a low limit, then free one for the client.
            set_soft_limit(512)?;
            let mut fillers = Vec::new();
            loop {
                match std::fs::File::open("/dev/null") {
                    Ok(file) => fillers.push(file),
                    Err(error) if error.raw_os_error() == Some(libc::EMFILE) => break,
                    Err(error) => return Err(error.into()),
                }
            }
            fillers.pop();
            let client = TcpStream::connect(addr).await?;
            // The connection waits in the backlog: accept fails with EMFILE. Let the
            // accept loop meet it for a while.
            sleep(Duration::from_millis(1500)).await;
            let errors_while_full = ACCEPT_ERRORS.load(Ordering::SeqCst);
            assert!(errors_while_full >= 1, "accept never failed");
            // 100 ms doubling: at most about 5 pauses fit in 1.5 s; a spinning loop
            // would log thousands.
            assert!(
                errors_while_full <= 20,
                "{errors_while_full} accept errors: spinning"
            );

            drop(fillers);
            client.write_all(b"again").await?;
            let mut buf = [0; 5];
            let mut filled = 0;
            while filled < buf.len() {
                let n = client.read(&mut buf[filled..]).await?;
                if n == 0 {
                    return Err("the server closed the connection".into());
                }
                filled += n;
            }
            assert_eq!(&buf, b"again");
            server.close();
            server.wait_closed().await;
            Ok::<_, Box<dyn std::error::Error>>(())
        })
        .await
        .map_err(|_| "the test timed out")?
    });
    set_soft_limit(original)?;
    outcome?
}
