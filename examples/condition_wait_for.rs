//! `asyncio.Condition.wait_for`: queries wait until a connection is initialised.
//!
//! Seed 004's listing 11.15: a mock database connection runs a query only
//! once it is initialised. Two queries start before the initialisation;
//! each waits on the connection's condition with `wait_for`, which checks
//! the predicate, and checks it again after every notification, until it
//! holds. Each state change notifies all waiters. A query then runs holding
//! the condition's lock, so the second runs only after the first.
//!
//! ```python
//! class ConnectionState(Enum):
//!     WAIT_INIT = 0
//!     INITIALIZING = 1
//!     INITIALIZED = 2
//!
//! class Connection:
//!
//!     def __init__(self):
//!         self._state = ConnectionState.WAIT_INIT
//!         self._condition = asyncio.Condition()
//!
//!     async def initialize(self):
//!         await self._change_state(ConnectionState.INITIALIZING)
//!         print('initialize: Initializing connection...')
//!         await asyncio.sleep(3)  # simulate connection startup time
//!         print('initialize: Finished initializing connection')
//!         await self._change_state(ConnectionState.INITIALIZED)
//!
//!     async def execute(self, query: str):
//!         async with self._condition:
//!             print('execute: Waiting for connection to initialize')
//!             await self._condition.wait_for(self._is_initialized)
//!             print(f'execute: Running {query}!!!')
//!             await asyncio.sleep(3)  # simulate a long query
//!
//!     async def _change_state(self, state: ConnectionState):
//!         async with self._condition:
//!             print(f'change_state: State changing from {self._state} to {state}')
//!             self._state = state
//!             self._condition.notify_all()
//!
//!     def _is_initialized(self):
//!         if self._state is not ConnectionState.INITIALIZED:
//!             print(f'_is_initialized: Connection not finished initializing, state is {self._state}')
//!             return False
//!         print(f'_is_initialized: Connection is initialized!')
//!         return True
//!
//! async def main():
//!     connection = Connection()
//!     query_one = asyncio.create_task(connection.execute('select * from table'))
//!     query_two = asyncio.create_task(connection.execute('select * from other_table'))
//!     asyncio.create_task(connection.initialize())
//!     await query_one
//!     await query_two
//!
//! asyncio.run(main())
//! ```
//!
//! In Python the state is an attribute that the condition's lock protects
//! by convention. In tulip the condition's lock owns the state:
//! `Condition<ConnectionState>` gives access to it only through the lock's
//! guard, and `wait_for` hands the predicate the state itself.

// The tour and the snapshot tests include this file as a module too.
#[path = "common/mod.rs"]
mod common;

use std::error::Error;
use std::fmt;
use std::io::{self, Write};
use std::sync::Arc;
use std::time::Duration;

use common::{Transcript, say};
use tulip::sync::{Condition, ForeignGuard};

/// Where the connection is in its initialisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ConnectionState {
    /// Not started.
    WaitInit,
    /// Started, not finished.
    Initializing,
    /// Ready for queries.
    Initialized,
}

impl fmt::Display for ConnectionState {
    /// As Python prints an `Enum` member.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            ConnectionState::WaitInit => "WAIT_INIT",
            ConnectionState::Initializing => "INITIALIZING",
            ConnectionState::Initialized => "INITIALIZED",
        };
        write!(f, "ConnectionState.{name}")
    }
}

/// What a task gives when `Condition::wait` refuses its guard (which cannot
/// happen here: every guard is of the condition's own lock).
fn foreign(error: ForeignGuard<'_, ConnectionState>) -> String {
    error.to_string()
}

/// A mock database connection that runs queries once initialised.
struct Connection {
    /// Where the connection prints.
    out: Transcript,
    /// Guards the state, and tells the queries when it changes.
    condition: Condition<ConnectionState>,
}

impl Connection {
    /// A connection waiting to be initialised, printing to `out`.
    fn new(out: Transcript) -> Connection {
        Connection {
            out,
            condition: Condition::new(ConnectionState::WaitInit),
        }
    }

    /// Initialises the connection, which takes three seconds.
    async fn initialize(&self) {
        self.change_state(ConnectionState::Initializing).await;
        say!(self.out, "initialize: Initializing connection...");
        tulip::sleep(Duration::from_secs(3)).await; // simulate connection startup time
        say!(self.out, "initialize: Finished initializing connection");
        self.change_state(ConnectionState::Initialized).await;
    }

    /// Runs `query` once the connection is initialised; takes three seconds.
    async fn execute(&self, query: &str) -> Result<(), String> {
        let guard = self.condition.lock().await;
        say!(self.out, "execute: Waiting for connection to initialize");
        let _guard = self
            .condition
            .wait_for(guard, |state| self.is_initialized(*state))
            .await
            .map_err(foreign)?;
        say!(self.out, "execute: Running {query}!!!");
        tulip::sleep(Duration::from_secs(3)).await; // simulate a long query
        Ok(())
    }

    /// Moves to `state` and notifies every waiting query.
    async fn change_state(&self, state: ConnectionState) {
        let mut current = self.condition.lock().await;
        say!(
            self.out,
            "change_state: State changing from {} to {state}",
            *current
        );
        *current = state;
        self.condition.notify_all();
    }

    /// The predicate of `execute`'s `wait_for`, saying what it sees.
    fn is_initialized(&self, state: ConnectionState) -> bool {
        if state != ConnectionState::Initialized {
            say!(
                self.out,
                "_is_initialized: Connection not finished initializing, state is {state}"
            );
            return false;
        }
        say!(self.out, "_is_initialized: Connection is initialized!");
        true
    }
}

/// The listing's `main`: two queries, then the initialisation.
async fn main_task(out: Transcript) -> Result<(), Box<dyn Error>> {
    let connection = Arc::new(Connection::new(out));
    let query_one = tulip::spawn({
        let connection = Arc::clone(&connection);
        async move { connection.execute("select * from table").await }
    });
    let query_two = tulip::spawn({
        let connection = Arc::clone(&connection);
        async move { connection.execute("select * from other_table").await }
    });
    tulip::spawn(async move { connection.initialize().await }).detach();
    query_one.await??;
    query_two.await??;
    Ok(())
}

/// Runs the example, printing to `out`.
pub(crate) fn run(out: &mut dyn Write) -> Result<(), Box<dyn Error>> {
    let transcript = Transcript::new();
    let event_loop = tulip::EventLoop::builder().virtual_time().build()?;
    event_loop.run_until_complete(main_task(transcript.clone()))??;
    Ok(transcript.write_to(out)?)
}

fn main() -> Result<(), Box<dyn Error>> {
    run(&mut io::stdout().lock())
}
