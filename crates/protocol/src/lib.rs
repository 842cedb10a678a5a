//! asyncio's callback layer on tulip: `Protocol`, `BufferedProtocol`,
//! `DatagramProtocol` and their transports.
//!
//! The protocols arrive with the protocols-and-transports milestone; until
//! then the crate exports nothing.
