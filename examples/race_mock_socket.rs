//! A race condition on one thread, and `asyncio.Lock` fixing it.
//!
//! Seed 004's listing 11.3: a server keeps a dictionary of its users'
//! sockets and sends a message to all of them, while one user disconnects.
//! The messages are created, then the sender waits; the disconnect runs in
//! that pause and closes Eric's socket, and sending to him fails.
//!
//! ```python
//! class MockSocket:
//!     def __init__(self):
//!         self.socket_closed = False
//!
//!     async def send(self, msg: str):
//!         if self.socket_closed:
//!             raise Exception('Socket is closed!')
//!         print(f'Sending: {msg}')
//!         await asyncio.sleep(1)
//!         print(f'Sent: {msg}')
//!
//!     def close(self):
//!         self.socket_closed = True
//!
//! user_names_to_sockets = {'John': MockSocket(),
//!                          'Terry': MockSocket(),
//!                          'Graham': MockSocket(),
//!                          'Eric': MockSocket()}
//!
//! async def user_disconnect(username: str):
//!     print(f'{username} disconnected!')
//!     socket = user_names_to_sockets.pop(username)
//!     socket.close()
//!
//! async def message_all_users():
//!     print('Creating message tasks')
//!     messages = [socket.send(f'Hello {user}')
//!                 for user, socket in
//!                 user_names_to_sockets.items()]
//!     await asyncio.gather(*messages)
//!
//! async def main():
//!     await asyncio.gather(message_all_users(), user_disconnect('Eric'))
//!
//! asyncio.run(main())
//! ```
//!
//! Listing 11.5 guards the dictionary with a lock, held while the messages
//! are sent and taken before a user is removed: the disconnect waits until
//! every message is sent, and Eric gets his.
//!
//! ```python
//! async def user_disconnect(username: str, user_lock: Lock):
//!     print(f'{username} disconnected!')
//!     async with user_lock:
//!         print(f'Removing {username} from dictionary')
//!         socket = user_names_to_sockets.pop(username)
//!         socket.close()
//!
//! async def message_all_users(user_lock: Lock):
//!     print('Creating message tasks')
//!     async with user_lock:
//!         messages = [socket.send(f'Hello {user}')
//!                     for user, socket in
//!                     user_names_to_sockets.items()]
//!         await asyncio.gather(*messages)
//!
//! async def main():
//!     user_lock = Lock()
//!     await asyncio.gather(message_all_users(user_lock),
//!                          user_disconnect('Eric', user_lock))
//! ```
//!
//! The port runs both programs, one after the other. Python ends the first
//! with a traceback on stderr, whose last line is `Exception: Socket is
//! closed!`; the port prints that line after the program's output and goes
//! on to the second. asyncio's `gather` makes a task of each message, so the
//! port spawns one per message; `asyncio.run` cancels the messages still
//! being sent when `main` raises, and the port's loop drops them when it
//! ends, so neither prints a `Sent:` line in the first program.
//!
//! The dictionary (in insertion order, as Python's) lives in a `RefCell` in
//! the first program; in the second, the lock owns it: a `tulip::sync::Lock`
//! guards the data it holds, so nothing reaches the sockets without taking
//! the lock.

// The tour and the snapshot tests include this file as a module too.
#[path = "common/mod.rs"]
mod common;

use std::cell::{Cell, RefCell};
use std::error::Error;
use std::fmt;
use std::io::{self, Write};
use std::rc::Rc;
use std::time::Duration;

use common::{Transcript, say};
use tulip::JoinHandle;
use tulip::sync::Lock;

/// Python's `Exception` with a message.
#[derive(Debug)]
struct Exception(&'static str);

impl fmt::Display for Exception {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Exception: {}", self.0)
    }
}

impl Error for Exception {}

/// A socket that takes a second to send a message, and refuses once closed.
#[derive(Default)]
struct MockSocket {
    /// Whether `close` was called.
    socket_closed: Cell<bool>,
}

impl MockSocket {
    /// Sends `msg` over a second; fails at once if the socket is closed.
    async fn send(&self, out: &Transcript, msg: &str) -> Result<(), Exception> {
        if self.socket_closed.get() {
            return Err(Exception("Socket is closed!"));
        }
        say!(out, "Sending: {msg}");
        tulip::sleep(Duration::from_secs(1)).await;
        say!(out, "Sent: {msg}");
        Ok(())
    }

    /// Closes the socket: later sends fail.
    fn close(&self) {
        self.socket_closed.set(true);
    }
}

/// The users' sockets by name, in the order they connected.
type Users = Vec<(&'static str, Rc<MockSocket>)>;

/// Four users, as the listings' dictionary.
fn user_names_to_sockets() -> Users {
    ["John", "Terry", "Graham", "Eric"]
        .into_iter()
        .map(|name| (name, Rc::default()))
        .collect()
}

/// Python's `dict.pop`: removes a user and gives their socket.
fn pop(users: &mut Users, username: &str) -> Option<Rc<MockSocket>> {
    let at = users.iter().position(|(name, _)| *name == username)?;
    Some(users.remove(at).1)
}

/// Starts sending to every user, each message a task of its own (as
/// asyncio's `gather` makes a task of each coroutine).
fn message_tasks(out: &Transcript, users: &Users) -> Vec<JoinHandle<Result<(), Exception>>> {
    users
        .iter()
        .map(|(user, socket)| {
            let (out, socket, msg) = (out.clone(), Rc::clone(socket), format!("Hello {user}"));
            tulip::spawn_local(async move { socket.send(&out, &msg).await })
        })
        .collect()
}

/// A message task's outcome: sent, or why not.
async fn outcome(task: JoinHandle<Result<(), Exception>>) -> Result<(), Box<dyn Error>> {
    Ok(task.await??)
}

/// asyncio's `gather` of the message tasks: every message sent, or the
/// first error.
async fn gather(tasks: Vec<JoinHandle<Result<(), Exception>>>) -> Result<(), Box<dyn Error>> {
    tulip::try_gather(tasks.into_iter().map(outcome)).await?;
    Ok(())
}

/// Listing 11.3's disconnect.
async fn user_disconnect(out: Transcript, username: &str, users: &RefCell<Users>) {
    say!(out, "{username} disconnected!");
    if let Some(socket) = pop(&mut users.borrow_mut(), username) {
        socket.close();
    }
}

/// Listing 11.3's broadcast.
async fn message_all_users(out: Transcript, users: &RefCell<Users>) -> Result<(), Box<dyn Error>> {
    say!(out, "Creating message tasks");
    let messages = message_tasks(&out, &users.borrow());
    gather(messages).await
}

/// Listing 11.3's `main`.
async fn without_lock(out: Transcript) -> Result<(), Box<dyn Error>> {
    let users = RefCell::new(user_names_to_sockets());
    let (sent, ()) = tulip::gather!(
        message_all_users(out.clone(), &users),
        user_disconnect(out.clone(), "Eric", &users),
    )
    .await;
    sent
}

/// Listing 11.5's disconnect: removes the user under the lock.
async fn user_disconnect_locked(out: Transcript, username: &str, users: &Lock<Users>) {
    say!(out, "{username} disconnected!");
    let mut users = users.lock().await;
    say!(out, "Removing {username} from dictionary");
    if let Some(socket) = pop(&mut users, username) {
        socket.close();
    }
}

/// Listing 11.5's broadcast: holds the lock until every message is sent.
async fn message_all_users_locked(
    out: Transcript,
    users: &Lock<Users>,
) -> Result<(), Box<dyn Error>> {
    say!(out, "Creating message tasks");
    let users = users.lock().await;
    let messages = message_tasks(&out, &users);
    gather(messages).await
}

/// Listing 11.5's `main`.
async fn with_lock(out: Transcript) -> Result<(), Box<dyn Error>> {
    let users = Lock::new(user_names_to_sockets());
    let (sent, ()) = tulip::gather!(
        message_all_users_locked(out.clone(), &users),
        user_disconnect_locked(out.clone(), "Eric", &users),
    )
    .await;
    sent
}

/// Runs the example, printing to `out`.
pub(crate) fn run(out: &mut dyn Write) -> Result<(), Box<dyn Error>> {
    let transcript = Transcript::new();
    // One loop per Python program.
    let event_loop = tulip::EventLoop::builder().virtual_time().build()?;
    if let Err(exception) = event_loop.run_until_complete(without_lock(transcript.clone()))? {
        // The last line of Python's traceback.
        say!(transcript, "{exception}");
    }
    drop(event_loop);

    let event_loop = tulip::EventLoop::builder().virtual_time().build()?;
    event_loop.run_until_complete(with_lock(transcript.clone()))??;
    Ok(transcript.write_to(out)?)
}

fn main() -> Result<(), Box<dyn Error>> {
    run(&mut io::stdout().lock())
}
