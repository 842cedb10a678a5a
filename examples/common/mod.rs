//! What the examples share: a transcript that tasks, callbacks and other
//! threads print to, and the loop's clock read as seconds since a start.
//!
//! Every example prints through a [`Transcript`] rather than straight to
//! stdout, so that one source serves the example binary, the `tour` and the
//! snapshot tests: whatever the tasks print lands in the transcript in the
//! order it was printed, and the example's `run` copies it to its writer.

// Each example uses only part of this module.
#![allow(dead_code)]

use std::fmt;
use std::io::{self, Write};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use tulip::Handle;

/// Python's `print`, into a [`Transcript`]: `say!(out, "coro {}", n)`.
macro_rules! say {
    ($out:expr, $($arg:tt)*) => {
        $out.print(format_args!($($arg)*))
    };
}
pub(crate) use say;

/// Lines printed by an example, from any task, callback or thread.
///
/// Clones share one buffer, so each task can own a clone; printing never
/// fails, which keeps `?` out of the tasks.
#[derive(Clone, Default)]
pub(crate) struct Transcript {
    buffer: Arc<Mutex<Vec<u8>>>,
}

impl Transcript {
    /// An empty transcript.
    pub(crate) fn new() -> Transcript {
        Transcript::default()
    }

    /// Appends one line (see [`say!`]).
    pub(crate) fn print(&self, line: fmt::Arguments<'_>) {
        let mut buffer = self.buffer.lock().unwrap_or_else(PoisonError::into_inner);
        // Writing to a `Vec` cannot fail.
        let _ = writeln!(buffer, "{line}");
    }

    /// Copies everything printed so far to `out`.
    pub(crate) fn write_to(&self, out: &mut dyn Write) -> io::Result<()> {
        let buffer = self.buffer.lock().unwrap_or_else(PoisonError::into_inner);
        out.write_all(&buffer)?;
        out.flush()
    }
}

/// Python's `str()` of a list whose items print as `items` do:
/// `py_list([1, 2])` is `[1, 2]`; quote strings first with [`py_str`].
pub(crate) fn py_list<I>(items: I) -> String
where
    I: IntoIterator,
    I::Item: fmt::Display,
{
    let items: Vec<String> = items.into_iter().map(|item| item.to_string()).collect();
    format!("[{}]", items.join(", "))
}

/// Python's `repr()` of a string without quotes inside: `'worker-1'`.
pub(crate) fn py_str(text: &str) -> String {
    format!("'{text}'")
}

/// Python's `str()` of a bool: `True` or `False`.
pub(crate) fn py_bool(value: bool) -> &'static str {
    if value { "True" } else { "False" }
}

/// The loop's clock as seconds since a start, as Python's
/// `loop.time() - start`. On a virtual-time loop these are virtual seconds:
/// the same on every run, however fast the machine.
#[derive(Clone, Debug)]
pub(crate) struct Elapsed {
    handle: Handle,
    start: Instant,
}

impl Elapsed {
    /// Starts counting now on the loop of `handle`.
    pub(crate) fn start(handle: Handle) -> Elapsed {
        let start = handle.time();
        Elapsed { handle, start }
    }

    /// Seconds on the loop's clock since the start.
    pub(crate) fn secs(&self) -> f64 {
        (self.handle.time() - self.start).as_secs_f64()
    }
}

/// Python's `repr()` of `bytes`: `b'text\n'`, with `\\`, `\t`, `\n`, `\r`
/// and the quote escaped, and other bytes outside printable ASCII as `\xNN`.
/// Like Python, it quotes with `"` when the bytes hold `'` but no `"`.
pub(crate) fn py_bytes(bytes: &[u8]) -> String {
    let quote = if bytes.contains(&b'\'') && !bytes.contains(&b'"') {
        '"'
    } else {
        '\''
    };
    let mut repr = format!("b{quote}");
    for &byte in bytes {
        match byte {
            b'\\' => repr.push_str("\\\\"),
            b'\t' => repr.push_str("\\t"),
            b'\n' => repr.push_str("\\n"),
            b'\r' => repr.push_str("\\r"),
            _ if char::from(byte) == quote => {
                repr.push('\\');
                repr.push(quote);
            }
            b' '..=b'~' => repr.push(char::from(byte)),
            _ => repr.push_str(&format!("\\x{byte:02x}")),
        }
    }
    repr.push(quote);
    repr
}

/// Lets `tracing`'s fmt subscriber write into a transcript (see
/// [`log_to`]): each formatted event arrives in one `write`.
impl Write for Transcript {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let mut buffer = self.buffer.lock().unwrap_or_else(PoisonError::into_inner);
        buffer.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Python's `logging.basicConfig(level=logging.DEBUG, format='%(message)s')`
/// for one example: routes the `tracing` events of `target` (the example's
/// `module_path!()`) at `DEBUG` and above into `out`, one bare line each (no
/// time, level or target, so the lines are the same on every run). Events
/// of other targets, such as the tulip crates' own, are left out.
///
/// The subscriber is this thread's default until the guard is dropped; the
/// loop runs its tasks on the thread that runs it, so call this there.
pub(crate) fn log_to(out: &Transcript, target: &str) -> tracing::subscriber::DefaultGuard {
    let out = out.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || out.clone())
        .with_env_filter(tracing_subscriber::EnvFilter::new(format!(
            "{target}=debug"
        )))
        .without_time()
        .with_level(false)
        .with_target(false)
        .with_ansi(false)
        .finish();
    tracing::subscriber::set_default(subscriber)
}
