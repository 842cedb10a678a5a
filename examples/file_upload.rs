//! `asyncio.Event` in a file-upload server: the upload's contents are
//! handed over once an event says the whole file has arrived.
//!
//! Seed 004's listings 11.11 and 11.12. A `FileUpload` reads what a client
//! sends until EOF, then sets its event; `get_contents` waits for the event
//! and returns the whole file. The `FileServer` makes one per connection and
//! prints each file once uploaded.
//!
//! ```python
//! class FileUpload:
//!     def __init__(self,
//!                  reader: StreamReader,
//!                  writer: StreamWriter):
//!         self._reader = reader
//!         self._writer = writer
//!         self._finished_event = asyncio.Event()
//!         self._buffer = b''
//!         self._upload_task = None
//!
//!     def listen_for_uploads(self):
//!         self._upload_task = asyncio.create_task(self._accept_upload())
//!
//!     async def _accept_upload(self):
//!         while data := await self._reader.read(1024):
//!             self._buffer = self._buffer + data
//!         self._finished_event.set()
//!         self._writer.close()
//!         await self._writer.wait_closed()
//!
//!     async def get_contents(self):
//!         await self._finished_event.wait()
//!         return self._buffer
//!
//! class FileServer:
//!
//!     def __init__(self, host: str, port: int):
//!         self.host = host
//!         self.port = port
//!         self.upload_event = asyncio.Event()
//!
//!     async def start_server(self):
//!         server = await asyncio.start_server(self._client_connected,
//!                                             self.host,
//!                                             self.port)
//!         await server.serve_forever()
//!
//!     async def dump_contents_on_complete(self, upload: FileUpload):
//!         file_contents = await upload.get_contents()
//!         print(file_contents)
//!
//!     def _client_connected(self, reader: StreamReader, writer: StreamWriter):
//!         upload = FileUpload(reader, writer)
//!         upload.listen_for_uploads()
//!         asyncio.create_task(self.dump_contents_on_complete(upload))
//!
//! async def main():
//!     server = FileServer('127.0.0.1', 9000)
//!     await server.start_server()
//!
//! asyncio.run(main())
//! ```
//!
//! The seed uploads with `cat file | nc localhost 9000`. Here a client task
//! of the same loop uploads a generated file, 1 MiB of numbered lines, and
//! the example checks that the server received it intact. The differences:
//!
//! - `start_server` returns the server rather than serving forever, so
//!   that `main` can close it once the upload is checked; the server binds
//!   127.0.0.1 port 0 (the port is never printed).
//! - `dump_contents_on_complete` prints the file's length and its first
//!   and last 30 bytes instead of the whole mebibyte, keeps the contents,
//!   and then sets `upload_event`, the event the seed's `FileServer`
//!   creates but never uses: `main` waits on it (for ten seconds at most,
//!   so that a failed upload cannot hang the example) before checking.
//! - `listen_for_uploads` takes the reader and writer, which `FileUpload`
//!   holds only while its upload task runs, and the buffer grows in place
//!   rather than being copied on every read.
//!
//! The Python counterpart used for comparison is the listings with these
//! changes and the same client; it prints the same lines.

// The tour and the snapshot tests include this file as a module too.
#[path = "common/mod.rs"]
mod common;

use std::cell::RefCell;
use std::error::Error;
use std::io::{self, Write};
use std::rc::Rc;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use common::{Transcript, py_bool, py_bytes, say};
use tulip::sync::Event;
use tulip::{Server, StreamReader, StreamWriter};

/// What a task of the example can fail with.
type TaskError = Box<dyn Error + Send + Sync>;

/// Listing 11.11: one upload, its buffer and the event set once it is all
/// there.
#[derive(Default)]
struct FileUpload {
    finished_event: Event,
    buffer: RefCell<Vec<u8>>,
}

impl FileUpload {
    /// Starts a task that reads the upload from `reader` until EOF.
    fn listen_for_uploads(self: &Rc<Self>, reader: StreamReader, writer: StreamWriter) {
        let upload = Rc::clone(self);
        tulip::spawn_local(async move {
            if let Err(error) = upload.accept_upload(reader, writer).await {
                eprintln!("upload failed: {error}");
            }
        })
        .detach();
    }

    /// Buffers everything read until EOF, sets the event, closes.
    async fn accept_upload(
        &self,
        mut reader: StreamReader,
        writer: StreamWriter,
    ) -> Result<(), TaskError> {
        loop {
            let data = reader.read(1024).await?;
            if data.is_empty() {
                break;
            }
            self.buffer.borrow_mut().extend_from_slice(&data);
        }
        self.finished_event.set();
        writer.close();
        writer.wait_closed().await?;
        Ok(())
    }

    /// Waits until the upload is complete, then returns its contents.
    async fn get_contents(&self) -> Vec<u8> {
        self.finished_event.wait().await;
        self.buffer.borrow().clone()
    }
}

/// Listing 11.12: makes a [`FileUpload`] per connection and prints each
/// file once uploaded.
struct FileServer {
    host: String,
    port: u16,
    /// Set once an upload has been printed (unused in the seed).
    upload_event: Event,
    /// The last file uploaded.
    contents: Mutex<Option<Vec<u8>>>,
    out: Transcript,
}

impl FileServer {
    /// A server to start on `host` and `port`.
    fn new(out: Transcript, host: &str, port: u16) -> Arc<FileServer> {
        Arc::new(FileServer {
            host: host.to_owned(),
            port,
            upload_event: Event::new(),
            contents: Mutex::new(None),
            out,
        })
    }

    /// Starts serving and returns the server.
    async fn start_server(self: &Arc<Self>) -> io::Result<Server> {
        let file_server = Arc::clone(self);
        tulip::start_server(
            move |reader, writer| {
                file_server.client_connected(reader, writer);
                async {}
            },
            &self.host,
            self.port,
        )
        .await
    }

    /// Prints a summary of the upload once complete and keeps its contents.
    async fn dump_contents_on_complete(self: Arc<Self>, upload: Rc<FileUpload>) {
        let file_contents = upload.get_contents().await;
        let tail = file_contents.len().saturating_sub(30);
        say!(
            self.out,
            "{} bytes: {} ... {}",
            file_contents.len(),
            py_bytes(&file_contents[..30.min(file_contents.len())]),
            py_bytes(&file_contents[tail..])
        );
        *self.contents.lock().unwrap_or_else(PoisonError::into_inner) = Some(file_contents);
        self.upload_event.set();
    }

    /// A connection: an upload, and a task waiting to print it.
    fn client_connected(self: &Arc<Self>, reader: StreamReader, writer: StreamWriter) {
        let upload = Rc::new(FileUpload::default());
        upload.listen_for_uploads(reader, writer);
        tulip::spawn_local(Arc::clone(self).dump_contents_on_complete(upload)).detach();
    }
}

/// `size` bytes of numbered lines: `line 00000: the quick brown fox ...`.
fn generate_file(size: usize) -> Vec<u8> {
    let mut contents = Vec::with_capacity(size + 64);
    let mut n = 0;
    while contents.len() < size {
        // Writing to a `Vec` cannot fail.
        let _ = writeln!(
            contents,
            "line {n:05}: the quick brown fox jumps over the lazy dog"
        );
        n += 1;
    }
    contents.truncate(size);
    contents
}

/// The client: uploads `contents`, half-closes, and waits until the server
/// closes the connection.
async fn upload(out: &Transcript, port: u16, contents: &[u8]) -> Result<(), TaskError> {
    let (mut reader, writer) = tulip::open_connection("127.0.0.1", port).await?;
    say!(out, "client: uploading {} bytes", contents.len());
    writer.write(contents)?;
    writer.write_eof()?;
    writer.drain().await?;
    reader.read_to_end().await?;
    writer.close();
    writer.wait_closed().await?;
    Ok(())
}

/// The server, one upload to it, and the check.
async fn main_task(out: Transcript) -> Result<(), TaskError> {
    let file_server = FileServer::new(out.clone(), "127.0.0.1", 0);
    let server = file_server.start_server().await?;
    let port = server.local_addrs()[0]
        .as_inet()
        .ok_or("a TCP server has an IP address")?
        .port();

    let contents = generate_file(1024 * 1024);
    upload(&out, port, &contents).await?;
    tulip::timeout(Duration::from_secs(10), file_server.upload_event.wait()).await?;
    let received = file_server
        .contents
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take();
    say!(
        out,
        "upload received intact: {}",
        py_bool(received.as_deref() == Some(&contents[..]))
    );

    server.close();
    server.wait_closed().await;
    Ok(())
}

/// Runs the example, printing to `out`.
pub(crate) fn run(out: &mut dyn Write) -> Result<(), Box<dyn Error>> {
    let transcript = Transcript::new();
    let event_loop = tulip::EventLoop::new()?;
    event_loop
        .run_until_complete(main_task(transcript.clone()))?
        .map_err(|error| -> Box<dyn Error> { error })?;
    Ok(transcript.write_to(out)?)
}

fn main() -> Result<(), Box<dyn Error>> {
    run(&mut io::stdout().lock())
}
