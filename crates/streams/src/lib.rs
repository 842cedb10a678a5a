//! asyncio's streams on tulip: `StreamReader`, `StreamWriter`,
//! `open_connection` and `start_server`.
//!
//! The streams are built on the sockets of `tulip-reactor` and the tasks of
//! `tulip-executor`; they arrive with the sockets-and-streams milestone, and
//! until then the crate exports nothing.
