#[tulip::test]
async fn checks<T>() {}

fn main() {}
