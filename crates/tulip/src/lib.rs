//! asyncio, all of it, in Rust.
