//! asyncio's synchronisation primitives and queues, independent of any runtime.
//!
//! This crate is where tulip's `Lock`, `Event`, `Condition`, `Semaphore`,
//! `BoundedSemaphore`, `Barrier` and the `Queue` family live. They depend on
//! no tulip runtime crate, so they work under tulip's loop, tokio and smol
//! alike. The primitives arrive with the synchronisation milestone; until
//! then the crate exports nothing.
