#[tulip::test(flavor = "multi_thread", virtual_time)]
async fn checks_nothing() {}

fn main() {}
