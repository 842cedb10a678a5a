//! The `#[tulip::main]` and `#[tulip::test]` attributes.
//!
//! Used through the `tulip` facade crate, never directly. The attributes
//! arrive with the facade milestone; until then the crate exports nothing.
