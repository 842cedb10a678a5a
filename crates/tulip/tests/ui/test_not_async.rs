#[tulip::test]
fn checks_nothing() {}

fn main() {}
