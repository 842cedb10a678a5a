//! The tulip benchmark suite.
fn main() {}
